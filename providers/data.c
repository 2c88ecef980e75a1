/*
 * data: the data source types (SPEC §3.1), read-only entries that find
 * existing infrastructure by what their arguments say. Each reads with as
 * few calls as its API allows and returns Terraform's attribute names; its
 * schema is schemas/data.TYPE.json. A type that selects one object (a VPC,
 * a parameter, a policy, a hosted zone) fails when there is none or, for
 * the VPC and the zone, more than one, as Terraform does; aws_subnets may
 * find none (an empty list).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "registry.h"
#include "aws/aws.h"
#include "../lib/json.h"

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A new array of the strings at key of each item of items, sorted when sort is set. */
static json_t *pluck(json_t *items, const char *key, int sort)
{
	json_t *out = json_array(), *item;
	size_t i;

	json_array_foreach(items, i, item) {
		const char *s = pstr(item, key);

		if (s)
			json_array_append_new(out, json_string(s));
	}
	if (sort) {
		size_t n = json_array_size(out);
		const char **v = xcalloc(n + 1, sizeof(*v));
		json_t *sorted = json_array();

		for (i = 0; i < n; i++)
			v[i] = json_string_value(json_array_get(out, i));
		qsort(v, n, sizeof(*v), cmp_str);
		for (i = 0; i < n; i++)
			json_array_append_new(sorted, json_string(v[i]));
		free(v);
		json_decref(out);
		out = sorted;
	}
	return out;
}

/* Appends {Name, Values: [value]} to filters. */
static void filter_add(json_t *filters, const char *name, json_t *values)
{
	json_array_append_new(filters, json_pack("{s:s,s:O}", "Name", name, "Values", values));
}

/* Appends {Name, Values: [value]} for one string value. */
static void filter_one(json_t *filters, const char *name, const char *value)
{
	json_t *vals = json_pack("[s]", value);

	filter_add(filters, name, vals);
	json_decref(vals);
}

/* One EC2 filter per tag: "tag:KEY" = VALUE. */
static void filter_tags(json_t *filters, json_t *tags)
{
	const char *k;
	json_t *v;

	json_object_foreach(tags, k, v) {
		char *name = xasprintf("tag:%s", k);
		json_t *vals = json_pack("[O]", v);

		filter_add(filters, name, vals);
		json_decref(vals);
		free(name);
	}
}

/* ---- aws_availability_zones ---- */

static int azs_read(const struct provider_ctx *ctx, json_t *args, json_t **out,
		    struct cairn_err *err)
{
	const char *state = pstr(args, "state");
	json_t *in = json_object(), *items = NULL;

	*out = NULL;
	if (state && *state)
		json_object_set_new(in, "Filters",
				    json_pack("[{s:s,s:[s]}]", "Name", "state", "Values", state));
	if (aws_call_all(ctx->aws, "ec2", "DescribeAvailabilityZones", in, "AvailabilityZones",
			 &items, err) != 0) {
		err_prefix(err, "DescribeAvailabilityZones for %s", ctx->name);
		json_decref(in);
		return -1;
	}
	json_decref(in);
	*out = json_object();
	json_object_set_new(*out, "id", json_string(aws_client_region(ctx->aws)));
	json_object_set_new(*out, "names", pluck(items, "ZoneName", 1));
	json_object_set_new(*out, "zone_ids", pluck(items, "ZoneId", 1));
	json_object_set_new(*out, "state", json_string(state ? state : ""));
	json_decref(items);
	return 0;
}

/* ---- aws_caller_identity ---- */

static int caller_read(const struct provider_ctx *ctx, json_t *args, json_t **out,
		       struct cairn_err *err)
{
	json_t *res = NULL;

	(void)args;
	*out = NULL;
	if (pcall(ctx, "sts", "GetCallerIdentity", NULL, &res, err) != 0)
		return -1;
	*out = json_object();
	json_object_set_new(*out, "id", pstr_json(json_object_get(res, "Account")));
	json_object_set_new(*out, "account_id", pstr_json(json_object_get(res, "Account")));
	json_object_set_new(*out, "arn", pstr_json(json_object_get(res, "Arn")));
	json_object_set_new(*out, "user_id", pstr_json(json_object_get(res, "UserId")));
	json_decref(res);
	return 0;
}

/* ---- aws_region ---- */

static int region_read(const struct provider_ctx *ctx, json_t *args, json_t **out,
		       struct cairn_err *err)
{
	const char *want = pstr(args, "name"), *have = aws_client_region(ctx->aws);

	*out = NULL;
	if (want && *want && strcmp(want, have) != 0) {
		err_set(err, CAIRN_EINVAL, "%s: region '%s' is not the stack's region '%s'",
			ctx->name, want, have);
		return -1;
	}
	*out = json_pack("{s:s,s:s}", "id", have, "name", have);
	return 0;
}

/* ---- aws_vpc ---- */

static int vpc_read(const struct provider_ctx *ctx, json_t *args, json_t **out,
		    struct cairn_err *err)
{
	json_t *filters = json_array(), *in, *items = NULL, *v, *tags;
	const char *id = pstr(args, "id"), *cidr = pstr(args, "cidr_block");
	char *arn;
	int rc = -1;

	*out = NULL;
	if (id && *id)
		filter_one(filters, "vpc-id", id);
	if (cidr && *cidr)
		filter_one(filters, "cidr", cidr);
	if (json_is_true(json_object_get(args, "default")))
		filter_one(filters, "isDefault", "true");
	filter_tags(filters, json_object_get(args, "tags"));
	in = json_pack("{s:o}", "Filters", filters);
	if (aws_call_all(ctx->aws, "ec2", "DescribeVpcs", in, "Vpcs", &items, err) != 0) {
		err_prefix(err, "DescribeVpcs for %s", ctx->name);
		goto out;
	}
	if (json_array_size(items) != 1) {
		char *a = json_dumps(args, JSON_COMPACT | JSON_SORT_KEYS);

		err_set(err, CAIRN_ENOTFOUND, "%s: %s VPC matches %s", ctx->name,
			json_array_size(items) ? "more than one" : "no", a);
		free(a);
		goto out;
	}
	v = json_array_get(items, 0);
	tags = ptags_from_list(json_object_get(v, "Tags"), "Key", "Value");
	*out = json_object();
	json_object_set_new(*out, "id", pstr_json(json_object_get(v, "VpcId")));
	arn = xasprintf("arn:aws:ec2:%s:%s:vpc/%s", aws_client_region(ctx->aws),
			pstr_or(json_object_get(v, "OwnerId"), ""), pstr_or(json_object_get(v, "VpcId"), ""));
	json_object_set_new(*out, "arn", json_string(arn));
	free(arn);
	json_object_set_new(*out, "cidr_block", pstr_json(json_object_get(v, "CidrBlock")));
	json_object_set_new(*out, "default", json_boolean(json_is_true(json_object_get(v, "IsDefault"))));
	json_object_set_new(*out, "dhcp_options_id", pstr_json(json_object_get(v, "DhcpOptionsId")));
	json_object_set_new(*out, "instance_tenancy", pstr_json(json_object_get(v, "InstanceTenancy")));
	json_object_set_new(*out, "owner_id", pstr_json(json_object_get(v, "OwnerId")));
	json_object_set_new(*out, "state", pstr_json(json_object_get(v, "State")));
	json_object_set_new(*out, "tags", ptags_strip_owner(tags));
	json_decref(tags);
	rc = 0;
out:
	json_decref(in);
	json_decref(items);
	return rc;
}

/* ---- aws_subnets ---- */

static int subnets_read(const struct provider_ctx *ctx, json_t *args, json_t **out,
			struct cairn_err *err)
{
	json_t *filters = json_array(), *in, *items = NULL, *f;
	const char *vpc = pstr(args, "vpc_id");
	size_t i;

	*out = NULL;
	json_array_foreach(json_object_get(args, "filter"), i, f)
		filter_add(filters, pstr_or(json_object_get(f, "name"), ""),
			   json_object_get(f, "values"));
	if (vpc && *vpc)
		filter_one(filters, "vpc-id", vpc);
	filter_tags(filters, json_object_get(args, "tags"));
	in = json_pack("{s:o}", "Filters", filters);
	if (aws_call_all(ctx->aws, "ec2", "DescribeSubnets", in, "Subnets", &items, err) != 0) {
		err_prefix(err, "DescribeSubnets for %s", ctx->name);
		json_decref(in);
		return -1;
	}
	json_decref(in);
	*out = json_object();
	json_object_set_new(*out, "id", json_string(aws_client_region(ctx->aws)));
	json_object_set_new(*out, "ids", pluck(items, "SubnetId", 1));
	json_decref(items);
	return 0;
}

/* ---- aws_ssm_parameter ---- */

static int ssm_read(const struct provider_ctx *ctx, json_t *args, json_t **out,
		    struct cairn_err *err)
{
	const json_t *dec = json_object_get(args, "with_decryption");
	json_t *in = json_pack("{s:s,s:b}", "Name", pstr_or(json_object_get(args, "name"), ""),
			       "WithDecryption", dec ? json_is_true(dec) : 1);
	json_t *res = NULL, *p;

	*out = NULL;
	if (pcall(ctx, "ssm", "GetParameter", in, &res, err) != 0) {
		json_decref(in);
		return -1;
	}
	json_decref(in);
	p = json_object_get(res, "Parameter");
	*out = json_object();
	json_object_set_new(*out, "id", pstr_json(json_object_get(p, "Name")));
	json_object_set_new(*out, "name", pstr_json(json_object_get(p, "Name")));
	json_object_set_new(*out, "arn", pstr_json(json_object_get(p, "ARN")));
	json_object_set_new(*out, "type", pstr_json(json_object_get(p, "Type")));
	json_object_set_new(*out, "value", pstr_json(json_object_get(p, "Value")));
	json_object_set_new(*out, "version", json_integer(json_integer_value(json_object_get(p, "Version"))));
	json_object_set_new(*out, "with_decryption", json_boolean(dec ? json_is_true(dec) : 1));
	json_decref(res);
	return 0;
}

/* ---- aws_iam_policy ---- */

/* The policy named name in scope ("Local", "AWS"): *found a new reference or NULL. */
static int policy_find(const struct provider_ctx *ctx, const char *name, const char *scope,
		       json_t **found, struct cairn_err *err)
{
	json_t *in = json_pack("{s:s}", "Scope", scope), *items = NULL, *p;
	size_t i;

	*found = NULL;
	if (aws_call_all(ctx->aws, "iam", "ListPolicies", in, "Policies", &items, err) != 0) {
		err_prefix(err, "ListPolicies for %s", ctx->name);
		json_decref(in);
		return -1;
	}
	json_decref(in);
	json_array_foreach(items, i, p)
		if (!strcmp(pstr_or(json_object_get(p, "PolicyName"), ""), name)) {
			*found = json_incref(p);
			break;
		}
	json_decref(items);
	return 0;
}

static int policy_read(const struct provider_ctx *ctx, json_t *args, json_t **out,
		       struct cairn_err *err)
{
	const char *name = pstr(args, "name"), *arn = pstr(args, "arn");
	json_t *p = NULL, *res = NULL, *vin = NULL, *ver = NULL, *doc;
	char *text;
	int rc = -1;

	*out = NULL;
	if (arn && *arn) {
		json_t *in = json_pack("{s:s}", "PolicyArn", arn);

		rc = pcall(ctx, "iam", "GetPolicy", in, &res, err);
		json_decref(in);
		if (rc != 0)
			goto out;
		rc = -1;
		p = json_incref(json_object_get(res, "Policy"));
	} else if (name && *name) {
		if (policy_find(ctx, name, "Local", &p, err) != 0)
			goto out;
		if (!p && policy_find(ctx, name, "AWS", &p, err) != 0)
			goto out;
	}
	if (!json_is_object(p)) {
		err_set(err, CAIRN_ENOTFOUND, "%s: no IAM policy named '%s'", ctx->name,
			arn && *arn ? arn : name ? name : "");
		goto out;
	}
	vin = json_pack("{s:s,s:s}", "PolicyArn", pstr_or(json_object_get(p, "Arn"), ""),
			"VersionId", pstr_or(json_object_get(p, "DefaultVersionId"), "v1"));
	if (pcall(ctx, "iam", "GetPolicyVersion", vin, &ver, err) != 0)
		goto out;
	doc = json_doc_parse(pstr(json_object_get(ver, "PolicyVersion"), "Document"));
	text = doc ? json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY) : NULL;
	json_decref(doc);
	*out = json_object();
	json_object_set_new(*out, "id", pstr_json(json_object_get(p, "Arn")));
	json_object_set_new(*out, "arn", pstr_json(json_object_get(p, "Arn")));
	json_object_set_new(*out, "name", pstr_json(json_object_get(p, "PolicyName")));
	json_object_set_new(*out, "path", json_string(pstr_or(json_object_get(p, "Path"), "/")));
	json_object_set_new(*out, "description", pstr_json(json_object_get(p, "Description")));
	json_object_set_new(*out, "policy_id", pstr_json(json_object_get(p, "PolicyId")));
	json_object_set_new(*out, "policy", json_string(text ? text : ""));
	free(text);
	rc = 0;
out:
	json_decref(p);
	json_decref(res);
	json_decref(vin);
	json_decref(ver);
	return rc;
}

/* ---- aws_acm_certificate ---- */

/* The certificate for args.domain among those in args.statuses (ISSUED when
 * unset) and args.types; with most_recent the latest issued, else the only one. */
static int acm_read(const struct provider_ctx *ctx, json_t *args, json_t **out,
		    struct cairn_err *err)
{
	const char *domain = pstr_or(json_object_get(args, "domain"), "");
	json_t *statuses = json_object_get(args, "statuses"), *types = json_object_get(args, "types");
	json_t *in = json_object(), *items = NULL, *c, *best = NULL;
	size_t i, n = 0;
	int rc = -1;

	*out = NULL;
	json_object_set_new(in, "CertificateStatuses", json_array_size(statuses) ?
			    json_incref(statuses) : json_pack("[s]", "ISSUED"));
	if (aws_call_all(ctx->aws, "acm", "ListCertificates", in, "CertificateSummaryList",
			 &items, err) != 0) {
		err_prefix(err, "ListCertificates for %s", ctx->name);
		goto out;
	}
	json_array_foreach(items, i, c) {
		json_t *t;
		size_t j;
		int type_ok = !json_array_size(types);

		if (strcmp(pstr_or(json_object_get(c, "DomainName"), ""), domain) != 0)
			continue;
		json_array_foreach(types, j, t)
			if (json_equal(t, json_object_get(c, "Type")))
				type_ok = 1;
		if (!type_ok)
			continue;
		n++;
		if (!best || json_number_value(json_object_get(c, "IssuedAt")) >
			     json_number_value(json_object_get(best, "IssuedAt")))
			best = c;
	}
	if (!best || (n > 1 && !json_is_true(json_object_get(args, "most_recent")))) {
		err_set(err, CAIRN_ENOTFOUND, "%s: %s certificate for '%s' in the statuses asked for%s",
			ctx->name, best ? "more than one" : "no", domain,
			best ? " (set most_recent: true to take the latest)" : "");
		goto out;
	}
	*out = json_object();
	json_object_set_new(*out, "id", pstr_json(json_object_get(best, "CertificateArn")));
	json_object_set_new(*out, "arn", pstr_json(json_object_get(best, "CertificateArn")));
	json_object_set_new(*out, "domain", json_string(domain));
	json_object_set_new(*out, "status", pstr_json(json_object_get(best, "Status")));
	json_object_set_new(*out, "type", pstr_json(json_object_get(best, "Type")));
	json_object_set_new(*out, "key_algorithm", pstr_json(json_object_get(best, "KeyAlgorithm")));
	rc = 0;
out:
	json_decref(in);
	json_decref(items);
	return rc;
}

/* ---- aws_route53_zone ---- */

/* A zone name as Terraform compares it: lowercase, no trailing dot. New string. */
static char *zone_name(const char *s)
{
	char *out = xstrdup(s ? s : ""), *c;
	size_t n = strlen(out);

	for (c = out; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	if (n && out[n - 1] == '.')
		out[n - 1] = '\0';
	return out;
}

/* "/hostedzone/Z1" -> "Z1" (borrowed from s). */
static const char *zone_bare_id(const char *s)
{
	const char *slash = s ? strrchr(s, '/') : NULL;

	return slash ? slash + 1 : s ? s : "";
}

/* GetHostedZone for zid: *res a new reference. */
static int zone_get(const struct provider_ctx *ctx, const char *zid, json_t **res,
		    struct cairn_err *err)
{
	json_t *in = json_pack("{s:s}", "Id", zid);
	int rc = pcall(ctx, "route53", "GetHostedZone", in, res, err);

	json_decref(in);
	return rc;
}

/* Whether the GetHostedZone answer res lists vpc among its VPCs. */
static int zone_has_vpc(json_t *res, const char *vpc)
{
	json_t *v;
	size_t i;

	json_array_foreach(json_object_get(res, "VPCs"), i, v)
		if (!strcmp(pstr_or(json_object_get(v, "VPCId"), ""), vpc))
			return 1;
	return 0;
}

/*
 * The zone of args.name whose privacy is args.private_zone (true when only
 * vpc_id is given, else false) and, with vpc_id, that is associated with that
 * VPC: *found the GetHostedZone answer of the only match, or NULL with the
 * reason in err.
 */
static int zone_by_name(const struct provider_ctx *ctx, json_t *args, json_t **found,
			struct cairn_err *err)
{
	const char *vpc = pstr(args, "vpc_id");
	const json_t *priv_arg = json_object_get(args, "private_zone");
	int priv = json_is_boolean(priv_arg) ? json_is_true(priv_arg) : (vpc && *vpc);
	char *want = zone_name(pstr(args, "name"));
	json_t *in = json_pack("{s:s}", "DNSName", want), *list = NULL, *z, *res = NULL;
	size_t i, n = 0;
	int rc = -1;

	*found = NULL;
	if (pcall(ctx, "route53", "ListHostedZonesByName", in, &list, err) != 0)
		goto out;
	json_array_foreach(json_object_get(list, "HostedZones"), i, z) {
		char *have = zone_name(pstr(z, "Name"));
		int same = !strcmp(have, want);

		free(have);
		if (!same || json_is_true(json_object_get(json_object_get(z, "Config"),
							  "PrivateZone")) != priv)
			continue;
		if (zone_get(ctx, zone_bare_id(pstr(z, "Id")), &res, err) != 0)
			goto out;
		if (vpc && *vpc && !zone_has_vpc(res, vpc)) {
			json_decref(res);
			res = NULL;
			continue;
		}
		n++;
		if (*found) {
			json_decref(res);
			res = NULL;
			continue;
		}
		*found = res;
		res = NULL;
	}
	if (n != 1) {
		err_set(err, CAIRN_ENOTFOUND, "%s: %s %s hosted zone named '%s'%s%s", ctx->name,
			n ? "more than one" : "no", priv ? "private" : "public", want,
			vpc && *vpc ? " in VPC " : "", vpc && *vpc ? vpc : "");
		json_decref(*found);
		*found = NULL;
		goto out;
	}
	rc = 0;
out:
	free(want);
	json_decref(in);
	json_decref(list);
	return rc;
}

static int zone_read(const struct provider_ctx *ctx, json_t *args, json_t **out,
		     struct cairn_err *err)
{
	const char *zid = pstr(args, "zone_id");
	json_t *res = NULL, *z, *ns;
	char *name, *arn;

	*out = NULL;
	if (zid && *zid) {
		if (zone_get(ctx, zone_bare_id(zid), &res, err) != 0)
			return -1;
	} else if (!pstr(args, "name") || !*pstr(args, "name")) {
		err_set(err, CAIRN_EINVAL, "%s: aws_route53_zone needs 'zone_id' or 'name'",
			ctx->name);
		return -1;
	} else if (zone_by_name(ctx, args, &res, err) != 0) {
		return -1;
	}
	z = json_object_get(res, "HostedZone");
	zid = zone_bare_id(pstr(z, "Id"));
	name = zone_name(pstr(z, "Name"));
	arn = xasprintf("arn:aws:route53:::hostedzone/%s", zid);
	ns = json_object_get(json_object_get(res, "DelegationSet"), "NameServers");
	*out = json_object();
	json_object_set_new(*out, "id", json_string(zid));
	json_object_set_new(*out, "zone_id", json_string(zid));
	json_object_set_new(*out, "name", json_string(name));
	json_object_set_new(*out, "arn", json_string(arn));
	json_object_set_new(*out, "private_zone", json_boolean(json_is_true(
		json_object_get(json_object_get(z, "Config"), "PrivateZone"))));
	json_object_set_new(*out, "comment", json_string(pstr_or(
		json_object_get(json_object_get(z, "Config"), "Comment"), "")));
	json_object_set_new(*out, "caller_reference", pstr_json(json_object_get(z, "CallerReference")));
	json_object_set_new(*out, "resource_record_set_count", json_integer(json_integer_value(
		json_object_get(z, "ResourceRecordSetCount"))));
	json_object_set_new(*out, "name_servers", json_is_array(ns) ? json_incref(ns) : json_array());
	json_object_set_new(*out, "vpc_id", json_string(pstr_or(json_object_get(args, "vpc_id"), "")));
	free(name);
	free(arn);
	json_decref(res);
	return 0;
}

/* ---- the registry of data source types ---- */

static const struct data_ops data_types[] = {
	{"aws_acm_certificate", acm_read},
	{"aws_availability_zones", azs_read},
	{"aws_caller_identity", caller_read},
	{"aws_iam_policy", policy_read},
	{"aws_region", region_read},
	{"aws_route53_zone", zone_read},
	{"aws_ssm_parameter", ssm_read},
	{"aws_subnets", subnets_read},
	{"aws_vpc", vpc_read},
};

const struct data_ops *provider_data_lookup(const char *type)
{
	size_t i;

	for (i = 0; type && i < sizeof(data_types) / sizeof(data_types[0]); i++)
		if (strcmp(data_types[i].type, type) == 0)
			return &data_types[i];
	return NULL;
}
