/*
 * route53: aws_route53_zone and aws_route53_record (rest-xml protocol).
 *
 * Every change Route 53 accepts is PENDING until it has reached all of its
 * name servers: creates, updates and deletes wait through pwait_until for
 * GetChange to answer INSYNC, so what depends on a record resolves it.
 *
 * A zone's id is its bare id ("Z0123..."; import also takes
 * "/hostedzone/Z0123..."). CreateHostedZone takes no tags: the ownership
 * tags follow in ChangeTagsForResource, and the CallerReference names the
 * stack and resource ("cairn/STACK/NAME/UUID"), so crash recovery
 * (ListHostedZonesByName, then the zones of that name) recognises a zone
 * of ours by its tags or, when the run died before tagging, by that
 * reference. Zone names are not unique: another zone of the same name is
 * never adopted.
 *
 * A record's id is Terraform's import form ZONEID_NAME_TYPE. Records take
 * no tags and are unique per zone, name and type: crash recovery adopts
 * the record of that name and type only when it already holds exactly
 * the wanted values, which is what the lost create wrote.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "common.h"
#include "tagdiff.h"

#define SVC "route53"
#define R53_WAIT_MS (10L * 60 * 1000)

/* "/hostedzone/Z1" or "/change/C1" -> "Z1" / "C1" (borrowed from s). */
static const char *bare_id(const char *s)
{
	const char *slash = s ? strrchr(s, '/') : NULL;

	return slash ? slash + 1 : s ? s : "";
}

/*
 * A DNS name as Terraform shows it: no trailing dot, lowercase, and the
 * octal escape Route 53 answers for '*' (\052) turned back into '*'.
 * New string.
 */
static char *dns_clean(const char *s)
{
	char *out = xmalloc(strlen(s ? s : "") + 1), *o = out;
	const char *p;

	for (p = s ? s : ""; *p; p++) {
		if (strncmp(p, "\\052", 4) == 0) {
			*o++ = '*';
			p += 3;
		} else {
			*o++ = (char)tolower((unsigned char)*p);
		}
	}
	*o = '\0';
	if (o > out && o[-1] == '.')
		o[-1] = '\0';
	return out;
}

static int same_name(const char *a, const char *b)
{
	char *x = dns_clean(a), *y = dns_clean(b);
	int same = strcmp(x, y) == 0;

	free(x);
	free(y);
	return same;
}

/* ---- waiting for a change ---- */

static int change_poll(const struct provider_ctx *ctx, void *arg, char *status,
		       size_t status_len, struct cairn_err *err)
{
	json_t *in = json_pack("{s:s}", "Id", (const char *)arg), *res = NULL;
	const char *st;
	int rc = -1;

	if (pcall(ctx, SVC, "GetChange", in, &res, err) != 0)
		goto out;
	st = pstr(json_object_get(res, "ChangeInfo"), "Status");
	snprintf(status, status_len, "%s", st ? st : "unknown");
	rc = st && strcmp(st, "INSYNC") == 0;
out:
	json_decref(in);
	json_decref(res);
	return rc;
}

/* Waits until the change an answer's ChangeInfo names (borrowed res) is INSYNC. */
static int wait_insync(const struct provider_ctx *ctx, json_t *res, struct cairn_err *err)
{
	const char *id = pstr(json_object_get(res, "ChangeInfo"), "Id");
	struct pwait_spec spec = {"waiting for the change to reach every name server", 1000L,
				  10000L, R53_WAIT_MS};
	char *bare;
	int rc;

	if (!id)
		return 0;
	bare = xstrdup(bare_id(id));
	rc = pwait_until(ctx, &spec, change_poll, bare, err);
	free(bare);
	return rc;
}

/* ---- aws_route53_zone ---- */

static const struct ptag_api ZONE_TAGS = {
	.service = SVC, .untag_op = "ChangeTagsForResource", .tag_op = "ChangeTagsForResource",
	.id_member = "ResourceId", .keys_member = "RemoveTagKeys", .tags_member = "AddTags",
	.key_name = "Key", .value_name = "Value",
	.extra_member = "ResourceType", .extra_value = "hostedzone",
};

/* The zone's tag list (new ref), NULL when the zone is gone. */
static int zone_tags(const struct provider_ctx *ctx, const char *id, json_t **tags,
		     struct cairn_err *err)
{
	static const char *const gone[] = {"NoSuchHostedZone", NULL};
	json_t *in = json_pack("{s:s,s:s}", "ResourceType", "hostedzone", "ResourceId", id);
	json_t *res = NULL, *t;
	int rc = pcall_found(ctx, SVC, "ListTagsForResource", in, gone, &res, err);

	t = json_object_get(json_object_get(res, "ResourceTagSet"), "Tags");
	*tags = !res ? NULL : json_is_array(t) ? json_incref(t) : json_array();
	json_decref(in);
	json_decref(res);
	return rc;
}

/* Puts the user's tags (borrowed, may be NULL) and the ownership tags on
 * zone id: ptags_sync leaves ownership tags alone, so a new zone gets
 * them here. */
static int zone_tag_all(const struct provider_ctx *ctx, const char *id, json_t *user,
			struct cairn_err *err)
{
	json_t *tags = ptags_with_owner(ctx, user);
	json_t *in = json_pack("{s:s,s:s,s:o}", "ResourceType", "hostedzone", "ResourceId", id,
			       "AddTags", ptags_to_list(tags, "Key", "Value"));
	int rc = pcall_void(ctx, SVC, "ChangeTagsForResource", in, err);

	json_decref(tags);
	json_decref(in);
	return rc;
}

/* [{vpc_id, vpc_region}] from AWS's VPCs, in the prior's order. */
static json_t *zone_vpcs(json_t *vpcs, json_t *prior)
{
	json_t *out = json_array(), *v, *p;
	size_t i, j;

	/* The prior's order first, then what else AWS lists. */
	json_array_foreach(json_object_get(prior, "vpc"), i, p)
		json_array_foreach(vpcs, j, v)
			if (pstr(p, "vpc_id") && pstr(v, "VPCId") &&
			    strcmp(pstr(p, "vpc_id"), pstr(v, "VPCId")) == 0)
				json_array_append_new(out, json_pack(
					"{s:s,s:s}", "vpc_id", pstr(v, "VPCId"), "vpc_region",
					pstr_or(json_object_get(v, "VPCRegion"), "")));
	json_array_foreach(vpcs, j, v) {
		int seen = 0;

		json_array_foreach(out, i, p)
			seen |= strcmp(pstr(p, "vpc_id"), pstr_or(json_object_get(v, "VPCId"), "")) == 0;
		if (!seen)
			json_array_append_new(out, json_pack(
				"{s:s,s:s}", "vpc_id", pstr_or(json_object_get(v, "VPCId"), ""),
				"vpc_region", pstr_or(json_object_get(v, "VPCRegion"), "")));
	}
	return out;
}

static int zone_read(const struct provider_ctx *ctx, const char *id, json_t *prior,
		     json_t **out, struct cairn_err *err)
{
	static const char *const gone[] = {"NoSuchHostedZone", NULL};
	const char *zid = bare_id(id);
	json_t *in = json_pack("{s:s}", "Id", zid), *res = NULL, *tags = NULL, *o, *z, *ns;
	char *name, *arn;
	int rc = -1;

	*out = NULL;
	if (pcall_found(ctx, SVC, "GetHostedZone", in, gone, &res, err) != 0)
		goto out;
	if (res && zone_tags(ctx, zid, &tags, err) != 0)
		goto out;
	if (!res || !tags) {
		rc = 0;                 /* gone (perhaps between the two calls) */
		goto out;
	}
	z = json_object_get(res, "HostedZone");
	o = json_object();
	name = dns_clean(pstr(z, "Name"));
	/* The stack's spelling ("Example.com.") when it names the same zone. */
	if (pstr(prior, "name") && same_name(pstr(prior, "name"), name)) {
		free(name);
		name = xstrdup(pstr(prior, "name"));
	}
	arn = xasprintf("arn:aws:route53:::hostedzone/%s", zid);
	json_object_set_new(o, "id", json_string(zid));
	json_object_set_new(o, "zone_id", json_string(zid));
	json_object_set_new(o, "name", json_string(name));
	json_object_set_new(o, "arn", json_string(arn));
	json_object_set_new(o, "comment", json_string(pstr_or(
		json_object_get(json_object_get(z, "Config"), "Comment"), "")));
	json_object_set_new(o, "vpc", zone_vpcs(json_object_get(res, "VPCs"), prior));
	ns = json_object_get(json_object_get(res, "DelegationSet"), "NameServers");
	json_object_set_new(o, "name_servers", json_is_array(ns) ? json_incref(ns) : json_array());
	json_object_set_new(o, "force_destroy", json_boolean(json_is_true(
		json_object_get(prior, "force_destroy"))));
	json_object_set_new(o, "tags", ptags_from_list(tags, "Key", "Value"));
	*out = o;
	free(name);
	free(arn);
	rc = 0;
out:
	json_decref(in);
	json_decref(res);
	json_decref(tags);
	return rc;
}

/* "cairn/STACK/NAME/" + a random UUID: new string, NULL on failure. */
static char *caller_reference(const struct provider_ctx *ctx, struct cairn_err *err)
{
	unsigned char b[16];

	if (RAND_bytes(b, sizeof(b)) != 1) {
		err_set(err, CAIRN_EINTERNAL, "cannot get random bytes for a caller reference");
		return NULL;
	}
	return xasprintf("cairn/%s/%s/%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
			 "%02x%02x%02x%02x%02x%02x", ctx->stack, ctx->name, b[0], b[1], b[2],
			 b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
			 b[14], b[15]);
}

static json_t *vpc_wire(json_t *v, const struct provider_ctx *ctx)
{
	const char *region = pstr(v, "vpc_region");

	return json_pack("{s:s,s:s}", "VPCId", pstr_or(json_object_get(v, "vpc_id"), ""),
			 "VPCRegion", region && *region ? region : aws_client_region(ctx->aws));
}

/* Associates (assoc) or disassociates the VPC v with zone id, waiting for it. */
static int zone_vpc_change(const struct provider_ctx *ctx, const char *id, json_t *v, int assoc,
			   struct cairn_err *err)
{
	json_t *in = json_pack("{s:s,s:o}", "HostedZoneId", id, "VPC", vpc_wire(v, ctx));
	json_t *res = NULL;
	int rc = -1;

	if (pcall(ctx, SVC, assoc ? "AssociateVPCWithHostedZone" : "DisassociateVPCFromHostedZone",
		  in, &res, err) != 0) {
		/* Already so is success. */
		if (!perr_is(err, assoc ? "ConflictingDomainExists" : "VPCAssociationNotFound"))
			goto out;
		err_clear(err);
	} else if (wait_insync(ctx, res, err) != 0) {
		goto out;
	}
	rc = 0;
out:
	json_decref(in);
	json_decref(res);
	return rc;
}

static int has_vpc(json_t *list, const char *vpc_id)
{
	json_t *v;
	size_t i;

	json_array_foreach(list, i, v)
		if (pstr(v, "vpc_id") && strcmp(pstr(v, "vpc_id"), vpc_id) == 0)
			return 1;
	return 0;
}

static int zone_create(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
		       struct cairn_err *err)
{
	json_t *vpcs = json_object_get(attrs, "vpc"), *in = NULL, *res = NULL, *v;
	char *ref = caller_reference(ctx, err), *id = NULL;
	size_t i;
	int rc = -1;

	*out = NULL;
	if (!ref)
		goto out;
	in = json_pack("{s:s,s:s,s:{s:s,s:b}}", "Name", pstr_or(json_object_get(attrs, "name"), ""),
		       "CallerReference", ref, "HostedZoneConfig", "Comment",
		       pstr_or(json_object_get(attrs, "comment"), ""), "PrivateZone",
		       json_array_size(vpcs) > 0);
	/* A private zone is created with its first VPC; the others follow. */
	if (json_array_size(vpcs))
		json_object_set_new(in, "VPC", vpc_wire(json_array_get(vpcs, 0), ctx));
	if (pcall(ctx, SVC, "CreateHostedZone", in, &res, err) != 0)
		goto out;
	id = xstrdup(bare_id(pstr(json_object_get(res, "HostedZone"), "Id")));
	if (zone_tag_all(ctx, id, json_object_get(attrs, "tags"), err) != 0)
		goto partial;
	if (wait_insync(ctx, res, err) != 0)
		goto partial;
	json_array_foreach(vpcs, i, v)
		if (i > 0 && zone_vpc_change(ctx, id, v, 1, err) != 0)
			goto partial;
	rc = pread_created(ctx, zone_read, "CreateHostedZone", "hosted zone", id, attrs, NULL, out,
			   err);
	goto out;
partial:
	pcreated_partial(out, id, "zone_id");
out:
	free(ref);
	free(id);
	json_decref(in);
	json_decref(res);
	return rc;
}

static int zone_update(const struct provider_ctx *ctx, const char *id, json_t *old, json_t *want,
		       json_t *changed, json_t **out, struct cairn_err *err)
{
	json_t *in, *v, *oldv = json_object_get(old, "vpc"), *newv = json_object_get(want, "vpc");
	size_t i;
	int rc;

	*out = NULL;
	if (pchanged(changed, "comment")) {
		in = json_pack("{s:s,s:s}", "Id", id, "Comment",
			       pstr_or(json_object_get(want, "comment"), ""));
		rc = pcall_void(ctx, SVC, "UpdateHostedZoneComment", in, err);
		json_decref(in);
		if (rc != 0)
			return -1;
	}
	if (pchanged(changed, "vpc")) {
		/* Associate the new first: a private zone keeps one VPC at least. */
		json_array_foreach(newv, i, v)
			if (!has_vpc(oldv, pstr_or(json_object_get(v, "vpc_id"), "")) &&
			    zone_vpc_change(ctx, id, v, 1, err) != 0)
				return -1;
		json_array_foreach(oldv, i, v)
			if (!has_vpc(newv, pstr_or(json_object_get(v, "vpc_id"), "")) &&
			    zone_vpc_change(ctx, id, v, 0, err) != 0)
				return -1;
	}
	if (pchanged(changed, "tags") &&
	    ptags_sync(ctx, &ZONE_TAGS, id, json_object_get(old, "tags"),
		       json_object_get(want, "tags"), err) != 0)
		return -1;
	if (pread_after(ctx, zone_read, "update", "hosted zone", id, want, out, err) != 0)
		return -1;
	return 0;
}

/* One page (Route 53's first, up to 300) of zone id's record sets: *sets
 * a new array, NULL when the zone is gone. */
static int zone_records(const struct provider_ctx *ctx, const char *id, json_t **sets,
			struct cairn_err *err)
{
	static const char *const gone[] = {"NoSuchHostedZone", NULL};
	json_t *in = json_pack("{s:s}", "HostedZoneId", id), *res = NULL, *l;
	int rc = pcall_found(ctx, SVC, "ListResourceRecordSets", in, gone, &res, err);

	l = json_object_get(res, "ResourceRecordSets");
	*sets = !res ? NULL : json_is_array(l) ? json_incref(l) : json_array();
	json_decref(in);
	json_decref(res);
	return rc;
}

/*
 * force_destroy: deletes every record set but the apex NS and SOA, a page
 * of ListResourceRecordSets in one change batch (a page is at most 300
 * sets, a batch may hold 1000 changes), until only those two are left.
 */
static int zone_empty(const struct provider_ctx *ctx, const char *id, json_t *attrs,
		      struct cairn_err *err)
{
	const char *apex = pstr(attrs, "name");
	json_t *sets = NULL, *changes = NULL, *s, *in = NULL, *res = NULL;
	size_t i;
	int rc = -1;

	for (;;) {
		json_decref(sets);
		json_decref(changes);
		json_decref(in);
		json_decref(res);
		sets = in = res = NULL;
		changes = json_array();
		if (zone_records(ctx, id, &sets, err) != 0)
			goto out;
		json_array_foreach(sets, i, s) {
			const char *t = pstr_or(json_object_get(s, "Type"), "");

			if ((strcmp(t, "NS") == 0 || strcmp(t, "SOA") == 0) && apex &&
			    same_name(pstr(s, "Name"), apex))
				continue;
			json_array_append_new(changes, json_pack("{s:s,s:O}", "Action", "DELETE",
								 "ResourceRecordSet", s));
		}
		if (!json_array_size(changes))
			break;
		in = json_pack("{s:s,s:{s:O}}", "HostedZoneId", id, "ChangeBatch", "Changes",
			       changes);
		if (pcall(ctx, SVC, "ChangeResourceRecordSets", in, &res, err) != 0 ||
		    wait_insync(ctx, res, err) != 0)
			goto out;
	}
	rc = 0;
out:
	json_decref(sets);
	json_decref(changes);
	json_decref(in);
	json_decref(res);
	return rc;
}

static int zone_delete(const struct provider_ctx *ctx, const char *id, json_t *attrs,
		       struct cairn_err *err)
{
	/* HostedZoneNotEmpty without force_destroy stays an error, as in
	 * Terraform; PriorRequestNotComplete is Route 53 still busy. */
	static const char *const busy[] = {"PriorRequestNotComplete", NULL};
	static const char *const gone[] = {"NoSuchHostedZone", NULL};
	json_t *in = json_pack("{s:s}", "Id", bare_id(id));
	int rc = -1;

	if (json_is_true(json_object_get(attrs, "force_destroy")) &&
	    zone_empty(ctx, bare_id(id), attrs, err) != 0)
		goto out;
	rc = pdelete(ctx, SVC, "DeleteHostedZone", in, busy, gone, R53_WAIT_MS, err);
out:
	json_decref(in);
	return rc;
}

/* The zone of this resource among those named name: by ownership tags, or
 * by the caller reference a create of this resource gave it. */
static int zone_find(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
		     struct cairn_err *err)
{
	const char *name = pstr(attrs, "name");
	char *prefix = xasprintf("cairn/%s/%s/", ctx->stack, ctx->name);
	json_t *in = json_pack("{s:s}", "DNSName", name ? name : ""), *res = NULL, *z, *tags = NULL;
	size_t i;
	int rc = -1;

	*out = NULL;
	if (pcall(ctx, SVC, "ListHostedZonesByName", in, &res, err) != 0)
		goto out;
	json_array_foreach(json_object_get(res, "HostedZones"), i, z) {
		const char *zid = bare_id(pstr(z, "Id")), *cref = pstr(z, "CallerReference");
		int ours;

		if (!same_name(pstr(z, "Name"), name))
			continue;
		json_decref(tags);
		tags = NULL;
		if (zone_tags(ctx, zid, &tags, err) != 0)
			goto out;
		ours = (tags && ptags_owned_by(tags, "Key", "Value", ctx)) ||
		       (cref && strncmp(cref, prefix, strlen(prefix)) == 0);
		if (!ours)
			continue;
		/* Tagged now, should the run have died before. */
		if (!ptags_owned_by(tags, "Key", "Value", ctx) &&
		    zone_tag_all(ctx, zid, json_object_get(attrs, "tags"), err) != 0)
			goto out;
		rc = zone_read(ctx, zid, attrs, out, err);
		goto out;
	}
	rc = 0;
out:
	free(prefix);
	json_decref(in);
	json_decref(res);
	json_decref(tags);
	return rc;
}

const struct resource_ops aws_route53_zone_ops = {
	.type = "aws_route53_zone",
	.create = zone_create,
	.read = zone_read,
	.update = zone_update,
	.delete = zone_delete,
	.find = zone_find,
};

/* ---- aws_route53_record ---- */

/* TXT and SPF values travel quoted; Terraform shows them without. */
static int quoted_type(const char *type)
{
	return type && (strcmp(type, "TXT") == 0 || strcmp(type, "SPF") == 0);
}

/* Splits ZONEID_NAME_TYPE; 0 or -1 (err) when it has no such form. */
static int record_id_split(const char *id, char **zone, char **name, char **type,
			   struct cairn_err *err)
{
	const char *a = strchr(id, '_'), *b = strrchr(id, '_');

	if (!a || a == b || a == id || !b[1] || b == a + 1) {
		err_set(err, CAIRN_EINVAL, "record id '%s' is not ZONEID_NAME_TYPE", id);
		return -1;
	}
	*zone = xstrndup(id, (size_t)(a - id));
	*name = xstrndup(a + 1, (size_t)(b - a - 1));
	*type = xstrdup(b + 1);
	return 0;
}

/* The record set named name of type in zone (new ref), NULL when none. */
static int record_get(const struct provider_ctx *ctx, const char *zone, const char *name,
		      const char *type, json_t **set, struct cairn_err *err)
{
	static const char *const gone[] = {"NoSuchHostedZone", NULL};
	json_t *in = json_pack("{s:s,s:s,s:s,s:s}", "HostedZoneId", zone, "StartRecordName", name,
			       "StartRecordType", type, "MaxItems", "1");
	json_t *res = NULL, *s;
	int rc;

	*set = NULL;
	rc = pcall_found(ctx, SVC, "ListResourceRecordSets", in, gone, &res, err);
	s = json_array_get(json_object_get(res, "ResourceRecordSets"), 0);
	if (rc == 0 && s && same_name(pstr(s, "Name"), name) && pstr(s, "Type") &&
	    strcmp(pstr(s, "Type"), type) == 0)
		*set = json_incref(s);
	json_decref(in);
	json_decref(res);
	return rc;
}

/* Strips one pair of surrounding quotes (new string). */
static char *unquote(const char *v)
{
	size_t n = strlen(v);

	if (n >= 2 && v[0] == '"' && v[n - 1] == '"')
		return xstrndup(v + 1, n - 2);
	return xstrdup(v);
}

static json_t *record_attrs(const char *zone, const char *name, const char *type, json_t *set,
			    json_t *prior)
{
	json_t *o = json_object(), *rr = json_object_get(set, "ResourceRecords"), *r, *vals;
	json_t *alias = json_object_get(set, "AliasTarget"), *ttl = json_object_get(set, "TTL");
	char *clean = dns_clean(name), *id = xasprintf("%s_%s_%s", zone, clean, type), *s;
	size_t i;

	json_object_set_new(o, "id", json_string(id));
	json_object_set_new(o, "zone_id", json_string(zone));
	json_object_set_new(o, "name", json_string(
		pstr(prior, "name") && same_name(pstr(prior, "name"), clean) ? pstr(prior, "name")
									       : clean));
	json_object_set_new(o, "fqdn", json_string(clean));
	json_object_set_new(o, "type", json_string(type));
	/* An alias has no TTL (moto answers 0 for one). */
	if (json_is_integer(ttl) && !json_is_object(alias))
		json_object_set_new(o, "ttl", json_integer(json_integer_value(ttl)));
	if (json_is_array(rr)) {
		vals = json_array();
		json_array_foreach(rr, i, r) {
			const char *v = pstr_or(json_object_get(r, "Value"), "");

			s = quoted_type(type) ? unquote(v) : xstrdup(v);
			json_array_append_new(vals, json_string(s));
			free(s);
		}
		json_object_set_new(o, "records", porder_like(vals, json_object_get(prior, "records"),
							      0));
		json_decref(vals);
	}
	if (json_is_object(alias)) {
		const char *was = pstr(json_object_get(prior, "alias"), "name");

		/* AWS lowercases the target and adds the root's dot; the stack's
		 * spelling of the same name (a load balancer's mixed-case
		 * dns_name) is kept. */
		s = was && same_name(was, pstr(alias, "DNSName")) ? xstrdup(was)
								  : dns_clean(pstr(alias, "DNSName"));
		json_object_set_new(o, "alias", json_pack(
			"{s:s,s:s,s:b}", "name", s, "zone_id",
			pstr_or(json_object_get(alias, "HostedZoneId"), ""), "evaluate_target_health",
			json_is_true(json_object_get(alias, "EvaluateTargetHealth"))));
		free(s);
	}
	json_object_set_new(o, "allow_overwrite", json_boolean(json_is_true(
		json_object_get(prior, "allow_overwrite"))));
	free(clean);
	free(id);
	return o;
}

static int record_read(const struct provider_ctx *ctx, const char *id, json_t *prior,
		       json_t **out, struct cairn_err *err)
{
	char *zone = NULL, *name = NULL, *type = NULL;
	json_t *set = NULL;
	int rc = -1;

	*out = NULL;
	if (record_id_split(id, &zone, &name, &type, err) != 0)
		goto out;
	if (record_get(ctx, zone, name, type, &set, err) != 0)
		goto out;
	if (set)
		*out = record_attrs(zone, name, type, set, prior);
	rc = 0;
out:
	free(zone);
	free(name);
	free(type);
	json_decref(set);
	return rc;
}

/* The ResourceRecordSet of attrs as ChangeResourceRecordSets takes it. */
static json_t *record_wire(json_t *attrs)
{
	const char *type = pstr(attrs, "type");
	json_t *set = json_pack("{s:s,s:s}", "Name", pstr_or(json_object_get(attrs, "name"), ""),
				"Type", type ? type : "");
	json_t *alias = json_object_get(attrs, "alias"), *recs = json_object_get(attrs, "records");
	json_t *list, *v;
	size_t i;

	if (json_is_object(alias)) {
		json_object_set_new(set, "AliasTarget", json_pack(
			"{s:s,s:s,s:b}", "HostedZoneId", pstr_or(json_object_get(alias, "zone_id"), ""),
			"DNSName", pstr_or(json_object_get(alias, "name"), ""), "EvaluateTargetHealth",
			json_is_true(json_object_get(alias, "evaluate_target_health"))));
		return set;
	}
	if (json_is_integer(json_object_get(attrs, "ttl")))
		json_object_set(set, "TTL", json_object_get(attrs, "ttl"));
	list = json_array();
	json_array_foreach(recs, i, v) {
		const char *s = pstr_or(v, "");
		char *q = quoted_type(type) && s[0] != '"' ? xasprintf("\"%s\"", s) : xstrdup(s);

		json_array_append_new(list, json_pack("{s:s}", "Value", q));
		free(q);
	}
	json_object_set_new(set, "ResourceRecords", list);
	return set;
}

/* One change of one record set (set stolen), waited for until INSYNC. */
static int record_change(const struct provider_ctx *ctx, const char *zone, const char *action,
			 json_t *set, struct cairn_err *err)
{
	json_t *in = json_pack("{s:s,s:{s:[{s:s,s:o}]}}", "HostedZoneId", zone, "ChangeBatch",
			       "Changes", "Action", action, "ResourceRecordSet", set);
	json_t *res = NULL;
	int rc = -1;

	if (pcall(ctx, SVC, "ChangeResourceRecordSets", in, &res, err) != 0)
		goto out;
	rc = wait_insync(ctx, res, err);
out:
	json_decref(in);
	json_decref(res);
	return rc;
}

static int record_create(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
			 struct cairn_err *err)
{
	const char *zone = pstr_or(json_object_get(attrs, "zone_id"), "");
	char *name = dns_clean(pstr(attrs, "name"));
	char *id = xasprintf("%s_%s_%s", zone, name, pstr_or(json_object_get(attrs, "type"), ""));
	int rc = -1;

	*out = NULL;
	/* CREATE fails on a record that exists; allow_overwrite takes it over (UPSERT). */
	if (record_change(ctx, zone,
			  json_is_true(json_object_get(attrs, "allow_overwrite")) ? "UPSERT"
										  : "CREATE",
			  record_wire(attrs), err) != 0)
		goto out;
	rc = pread_created(ctx, record_read, "ChangeResourceRecordSets", "record", id, attrs, NULL,
			   out, err);
out:
	free(name);
	free(id);
	return rc;
}

static int record_update(const struct provider_ctx *ctx, const char *id, json_t *old,
			 json_t *want, json_t *changed, json_t **out, struct cairn_err *err)
{
	*out = NULL;
	if ((pchanged(changed, "ttl") || pchanged(changed, "records") ||
	     pchanged(changed, "alias")) &&
	    record_change(ctx, pstr_or(json_object_get(want, "zone_id"), ""), "UPSERT",
			  record_wire(want), err) != 0)
		return -1;
	if (pread_after(ctx, record_read, "update", "record", id, want, out, err) != 0)
		return -1;
	return 0;
}

static int record_delete(const struct provider_ctx *ctx, const char *id, json_t *attrs,
			 struct cairn_err *err)
{
	char *zone = NULL, *name = NULL, *type = NULL;
	json_t *set = NULL;
	int rc = -1;

	if (record_id_split(id, &zone, &name, &type, err) != 0)
		goto out;
	/* DELETE must name the record set exactly as it is now. */
	if (record_get(ctx, zone, name, type, &set, err) != 0)
		goto out;
	if (!set) {
		rc = 0;
		goto out;
	}
	rc = record_change(ctx, zone, "DELETE", json_incref(set), err);
	if (rc != 0 && perr_is(err, "InvalidChangeBatch") && strstr(err->msg, "not found")) {
		err_clear(err);
		rc = 0;
	}
out:
	free(zone);
	free(name);
	free(type);
	json_decref(set);
	return rc;
}

/* Records take no tags: what holds exactly the wanted values is what the
 * lost create wrote (see the top of the file). */
static int record_find(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
		       struct cairn_err *err)
{
	char *name = dns_clean(pstr(attrs, "name"));
	char *id = xasprintf("%s_%s_%s", pstr_or(json_object_get(attrs, "zone_id"), ""), name,
			     pstr_or(json_object_get(attrs, "type"), ""));
	const char *keys[] = {"ttl", "records", "alias"};
	size_t i;
	int rc;

	*out = NULL;
	rc = record_read(ctx, id, attrs, out, err);
	for (i = 0; rc == 0 && *out && i < sizeof(keys) / sizeof(keys[0]); i++) {
		json_t *a = json_object_get(attrs, keys[i]), *b = json_object_get(*out, keys[i]);

		if (!json_equal(a, b) && !(json_is_nothing(a) && json_is_nothing(b))) {
			json_decref(*out);
			*out = NULL;
		}
	}
	free(name);
	free(id);
	return rc;
}

const struct resource_ops aws_route53_record_ops = {
	.type = "aws_route53_record",
	.create = record_create,
	.read = record_read,
	.update = record_update,
	.delete = record_delete,
	.find = record_find,
};
