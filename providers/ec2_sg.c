/*
 * ec2_sg: the aws_security_group resource type with its inline ingress
 * and egress rules.
 *
 * A rule of the stack (ports, protocol, several sources, a description)
 * stands for one AWS permission per source; AWS regroups those by port
 * range when it reports them. Both sides are therefore flattened into
 * "atoms" (protocol, ports, one source, description) and reconciled with
 * Revoke / UpdateSecurityGroupRuleDescriptions / Authorize. A read turns
 * AWS's atoms back into rules shaped like the prior ones (the stack's, in
 * its order); atoms no prior rule accounts for become extra rules, one per
 * protocol, port range and description, sorted.
 *
 * AWS gives every new VPC group an allow-all egress rule. As Terraform
 * does, cairn keeps only the declared egress rules, so that rule is
 * revoked on create unless the stack declares it.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ec2.h"

#define SG_DELETE_TIMEOUT_MS (15L * 60 * 1000)

enum src_kind { SRC_CIDR4, SRC_CIDR6, SRC_PL, SRC_SG, SRC_SELF };

/* The list attributes of a rule, one per kind of source. */
static const struct {
	const char *attr;
	enum src_kind kind;
} src_lists[] = {
	{"cidr_blocks", SRC_CIDR4},
	{"ipv6_cidr_blocks", SRC_CIDR6},
	{"prefix_list_ids", SRC_PL},
	{"security_groups", SRC_SG},
};
#define N_SRC_LISTS (sizeof(src_lists) / sizeof(src_lists[0]))

/* One permission with one source. */
struct sg_atom {
	char proto[32];        /* normalized: "tcp", "udp", "icmp", "icmpv6", "-1", a number */
	long from, to;         /* 0, 0 for protocol -1 */
	int has_ports;         /* send FromPort / ToPort */
	enum src_kind kind;
	char *src;             /* owned; "" for SRC_SELF */
	char *desc;            /* owned */
	int used;
};

struct sg_atoms {
	struct sg_atom *v;
	size_t n, cap;
};

static void atoms_free(struct sg_atoms *as)
{
	size_t i;

	for (i = 0; i < as->n; i++) {
		free(as->v[i].src);
		free(as->v[i].desc);
	}
	free(as->v);
	as->v = NULL;
	as->n = as->cap = 0;
}

/* "TCP" -> "tcp", "6" -> "tcp", "all" -> "-1": the spellings AWS treats alike. */
static void proto_norm(const char *p, char out[32])
{
	static const struct { const char *num, *name; } names[] = {
		{"6", "tcp"}, {"17", "udp"}, {"1", "icmp"}, {"58", "icmpv6"}, {"all", "-1"},
	};
	size_t i;

	for (i = 0; p[i] && i < 31; i++)
		out[i] = (char)(p[i] >= 'A' && p[i] <= 'Z' ? p[i] - 'A' + 'a' : p[i]);
	out[i] = '\0';
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(out, names[i].num) == 0) {
			strcpy(out, names[i].name);
			return;
		}
}

static void atom_add(struct sg_atoms *as, const char *proto, long from, long to, int has_ports,
		     enum src_kind kind, const char *src, const char *desc)
{
	struct sg_atom *a;

	if (as->n == as->cap) {
		as->cap = as->cap ? as->cap * 2 : 16;
		as->v = xrealloc(as->v, as->cap * sizeof(*as->v));
	}
	a = &as->v[as->n++];
	memset(a, 0, sizeof(*a));
	proto_norm(proto, a->proto);
	a->has_ports = has_ports && strcmp(a->proto, "-1") != 0;
	a->from = a->has_ports ? from : 0;
	a->to = a->has_ports ? to : 0;
	a->kind = kind;
	a->src = xstrdup(src);
	a->desc = xstrdup(desc);
}

static int atom_same_key(const struct sg_atom *a, const struct sg_atom *b)
{
	return strcmp(a->proto, b->proto) == 0 && a->from == b->from && a->to == b->to &&
	       a->kind == b->kind && strcmp(a->src, b->src) == 0;
}

/* The unused atom of as with a's key (and a's description if with_desc), or NULL. */
static struct sg_atom *atom_find(struct sg_atoms *as, const struct sg_atom *a, int with_desc)
{
	size_t i;

	for (i = 0; i < as->n; i++)
		if (!as->v[i].used && atom_same_key(&as->v[i], a) &&
		    (!with_desc || strcmp(as->v[i].desc, a->desc) == 0))
			return &as->v[i];
	return NULL;
}

static long num(json_t *v)
{
	return json_is_number(v) ? (long)json_number_value(v) : 0;
}

/* The atoms of one stack rule. */
static void atoms_of_rule(json_t *r, struct sg_atoms *as)
{
	const char *proto = ec2_str(r, "protocol"), *desc = ec2_str(r, "description");
	long from = num(json_object_get(r, "from_port")), to = num(json_object_get(r, "to_port"));
	json_t *s;
	size_t i, j;

	for (i = 0; i < N_SRC_LISTS; i++)
		json_array_foreach(json_object_get(r, src_lists[i].attr), j, s)
			if (json_is_string(s))
				atom_add(as, proto, from, to, 1, src_lists[i].kind,
					 json_string_value(s), desc);
	if (json_is_true(json_object_get(r, "self")))
		atom_add(as, proto, from, to, 1, SRC_SELF, "", desc);
}

static void atoms_of_rules(json_t *rules, struct sg_atoms *as)
{
	json_t *r;
	size_t i;

	json_array_foreach(rules, i, r)
		atoms_of_rule(r, as);
}

/* The atoms of AWS IpPermissions of group self_id owned by owner. */
static void atoms_of_perms(json_t *perms, const char *self_id, const char *owner,
			   struct sg_atoms *as)
{
	json_t *p, *e;
	size_t i, j;

	json_array_foreach(perms, i, p) {
		const char *proto = ec2_str(p, "IpProtocol");
		int ports = json_is_number(json_object_get(p, "FromPort"));
		long from = num(json_object_get(p, "FromPort"));
		long to = num(json_object_get(p, "ToPort"));

		json_array_foreach(json_object_get(p, "IpRanges"), j, e)
			atom_add(as, proto, from, to, ports, SRC_CIDR4, ec2_str(e, "CidrIp"),
				 ec2_str(e, "Description"));
		json_array_foreach(json_object_get(p, "Ipv6Ranges"), j, e)
			atom_add(as, proto, from, to, ports, SRC_CIDR6, ec2_str(e, "CidrIpv6"),
				 ec2_str(e, "Description"));
		json_array_foreach(json_object_get(p, "PrefixListIds"), j, e)
			atom_add(as, proto, from, to, ports, SRC_PL, ec2_str(e, "PrefixListId"),
				 ec2_str(e, "Description"));
		json_array_foreach(json_object_get(p, "UserIdGroupPairs"), j, e) {
			const char *gid = ec2_str(e, "GroupId"), *uid = ec2_str(e, "UserId");
			char *src;

			if (strcmp(gid, self_id) == 0) {
				atom_add(as, proto, from, to, ports, SRC_SELF, "",
					 ec2_str(e, "Description"));
				continue;
			}
			/* Another account's group is written OWNER/GROUP, as Terraform does. */
			src = *uid && *owner && strcmp(uid, owner) != 0 ?
			      xasprintf("%s/%s", uid, gid) : xstrdup(gid);
			atom_add(as, proto, from, to, ports, SRC_SG, src,
				 ec2_str(e, "Description"));
			free(src);
		}
	}
}

/* One IpPermission for atom a of group self_id. */
static json_t *atom_perm(const struct sg_atom *a, const char *self_id, int with_desc)
{
	json_t *p = json_pack("{s:s}", "IpProtocol", a->proto), *e = NULL;
	const char *list = "IpRanges";

	if (a->has_ports) {
		json_object_set_new(p, "FromPort", json_integer(a->from));
		json_object_set_new(p, "ToPort", json_integer(a->to));
	}
	switch (a->kind) {
	case SRC_CIDR4:
		e = json_pack("{s:s}", "CidrIp", a->src);
		break;
	case SRC_CIDR6:
		e = json_pack("{s:s}", "CidrIpv6", a->src);
		list = "Ipv6Ranges";
		break;
	case SRC_PL:
		e = json_pack("{s:s}", "PrefixListId", a->src);
		list = "PrefixListIds";
		break;
	case SRC_SG: {
		const char *slash = strchr(a->src, '/');

		if (slash) {
			char *uid = xstrndup(a->src, (size_t)(slash - a->src));

			e = json_pack("{s:s,s:s}", "UserId", uid, "GroupId", slash + 1);
			free(uid);
		} else {
			e = json_pack("{s:s}", "GroupId", a->src);
		}
		list = "UserIdGroupPairs";
		break;
	}
	case SRC_SELF:
		e = json_pack("{s:s}", "GroupId", self_id);
		list = "UserIdGroupPairs";
		break;
	}
	if (with_desc && *a->desc)
		json_object_set_new(e, "Description", json_string(a->desc));
	json_object_set_new(p, list, json_pack("[o]", e));
	return p;
}

/*
 * Rule r of the prior attributes as far as AWS still has it: its lists
 * keep the sources AWS has (with r's description), marked used in have.
 * NULL when AWS has none of them.
 */
static json_t *rule_present(json_t *r, struct sg_atoms *have)
{
	struct sg_atoms mine = {0};
	json_t *out = json_object(), *s;
	size_t i, j, k = 0;
	int any = 0, self = 0;

	atoms_of_rule(r, &mine);
	for (i = 0; i < N_SRC_LISTS; i++) {
		json_t *list = json_array();

		json_array_foreach(json_object_get(r, src_lists[i].attr), j, s) {
			struct sg_atom *h;

			if (!json_is_string(s))
				continue;
			h = atom_find(have, &mine.v[k++], 1);
			if (h) {
				h->used = any = 1;
				json_array_append(list, s);
			}
		}
		json_object_set_new(out, src_lists[i].attr, list);
	}
	if (json_is_true(json_object_get(r, "self"))) {
		struct sg_atom *h = atom_find(have, &mine.v[k], 1);

		if (h)
			h->used = any = self = 1;
	}
	atoms_free(&mine);
	if (!any) {
		json_decref(out);
		return NULL;
	}
	json_object_set_new(out, "self", json_boolean(self));
	json_object_set_new(out, "from_port", json_integer(num(json_object_get(r, "from_port"))));
	json_object_set_new(out, "to_port", json_integer(num(json_object_get(r, "to_port"))));
	json_object_set_new(out, "protocol", json_string(ec2_str(r, "protocol")));
	json_object_set_new(out, "description", json_string(ec2_str(r, "description")));
	return out;
}

static int atom_cmp(const void *pa, const void *pb)
{
	const struct sg_atom *a = *(const struct sg_atom *const *)pa;
	const struct sg_atom *b = *(const struct sg_atom *const *)pb;
	int c = strcmp(a->proto, b->proto);

	if (c)
		return c;
	if (a->from != b->from)
		return a->from < b->from ? -1 : 1;
	if (a->to != b->to)
		return a->to < b->to ? -1 : 1;
	if ((c = strcmp(a->desc, b->desc)))
		return c;
	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	return strcmp(a->src, b->src);
}

static json_t *rule_new(const struct sg_atom *a)
{
	json_t *r = json_pack("{s:I,s:I,s:s,s:b,s:s}", "from_port", (json_int_t)a->from,
			      "to_port", (json_int_t)a->to, "protocol", a->proto, "self", 0,
			      "description", a->desc);
	size_t i;

	for (i = 0; i < N_SRC_LISTS; i++)
		json_object_set_new(r, src_lists[i].attr, json_array());
	return r;
}

/* AWS's permissions as rules shaped like prior (array or NULL), in its order. */
static json_t *rules_read(json_t *perms, const char *self_id, const char *owner, json_t *prior)
{
	struct sg_atoms have = {0};
	struct sg_atom **left;
	json_t *rules = json_array(), *r, *cur = NULL;
	size_t i, j, n = 0;

	atoms_of_perms(perms, self_id, owner, &have);
	json_array_foreach(prior, i, r) {
		json_t *p = rule_present(r, &have);

		if (p)
			json_array_append_new(rules, p);
	}
	left = xcalloc(have.n + 1, sizeof(*left));
	for (i = 0; i < have.n; i++)
		if (!have.v[i].used)
			left[n++] = &have.v[i];
	qsort(left, n, sizeof(*left), atom_cmp);
	for (i = 0; i < n; i++) {
		const struct sg_atom *a = left[i];

		if (!cur || strcmp(a->proto, left[i - 1]->proto) || a->from != left[i - 1]->from ||
		    a->to != left[i - 1]->to || strcmp(a->desc, left[i - 1]->desc)) {
			cur = rule_new(a);
			json_array_append_new(rules, cur);
		}
		if (a->kind == SRC_SELF) {
			json_object_set_new(cur, "self", json_true());
			continue;
		}
		for (j = 0; j < N_SRC_LISTS; j++)
			if (src_lists[j].kind == a->kind)
				json_array_append_new(json_object_get(cur, src_lists[j].attr),
						      json_string(a->src));
	}
	free(left);
	atoms_free(&have);
	return rules;
}

/* The group as DescribeSecurityGroups reports it (new reference), or NULL. */
static int sg_describe(const struct provider_ctx *ctx, const char *id, json_t **group,
		       struct cairn_err *err)
{
	json_t *byid = NULL;

	*group = NULL;
	if (ec2_describe_ids(&ctx, 1, &id, "DescribeSecurityGroups", "SecurityGroups",
			     "group-id", "GroupId", NULL, &byid, err) != 0)
		return -1;
	*group = json_incref(json_object_get(byid, id));
	json_decref(byid);
	return 0;
}

/* Calls op for the atoms (each one IpPermission), if any. */
/* One rule of perms_call; an AWS error done counts as success. */
static int perms_call_one(const struct provider_ctx *ctx, const char *op, const char *id,
			  const char *self_id, struct sg_atom *atom, int with_desc,
			  const char *done, struct cairn_err *err)
{
	static const char *const codes[] = {"InvalidGroup.NotFound", NULL};
	json_t *in = json_pack("{s:s,s:[o]}", "GroupId", id, "IpPermissions",
			       atom_perm(atom, self_id, with_desc));
	int rc = pcall_retry(ctx, "ec2", op, in, NULL, codes, EC2_PROPAGATION_MS, err);

	json_decref(in);
	if (rc != 0 && perr_is(err, done)) {
		err_clear(err);
		rc = 0;
	}
	return rc;
}

static int perms_call(const struct provider_ctx *ctx, const char *op, const char *id,
		      const char *self_id, struct sg_atom **atoms, size_t n, int with_desc,
		      struct cairn_err *err)
{
	static const char *const codes[] = {"InvalidGroup.NotFound", NULL};
	json_t *perms, *in;
	size_t i;
	int rc;

	if (!n)
		return 0;
	perms = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(perms, atom_perm(atoms[i], self_id, with_desc));
	in = json_pack("{s:s,s:o}", "GroupId", id, "IpPermissions", perms);
	rc = pcall_retry(ctx, "ec2", op, in, NULL, codes, EC2_PROPAGATION_MS, err);
	json_decref(in);
	/* Authorizing what is already there (an earlier call whose answer was
	 * lost) fails the whole call: one rule at a time then, each already
	 * there counting as done. Revoking what is gone is done as well. */
	if (rc != 0 && (perr_is(err, "InvalidPermission.Duplicate") ||
			perr_is(err, "InvalidPermission.NotFound"))) {
		const char *done = perr_is(err, "InvalidPermission.Duplicate") ?
				   "InvalidPermission.Duplicate" : "InvalidPermission.NotFound";

		err_clear(err);
		if (n == 1)
			return 0;
		for (i = 0; i < n; i++)
			if (perms_call_one(ctx, op, id, self_id, atoms[i], with_desc, done, err) != 0)
				return -1;
		rc = 0;
	}
	return rc;
}

/*
 * Turns the permissions AWS has (perms) in one direction ("Ingress" or
 * "Egress") into the wanted rules: revokes what is not wanted, corrects
 * descriptions, authorizes what is missing.
 */
static int rules_apply(const struct provider_ctx *ctx, const char *id, const char *owner,
		       const char *direction, json_t *perms, json_t *want, struct cairn_err *err)
{
	struct sg_atoms have = {0}, wanted = {0};
	struct sg_atom **revoke, **describe, **authorize;
	size_t nr = 0, nd = 0, na = 0, i, j;
	char op[64];
	int rc = -1;

	atoms_of_perms(perms, id, owner, &have);
	atoms_of_rules(want, &wanted);
	revoke = xcalloc(have.n + 1, sizeof(*revoke));
	describe = xcalloc(wanted.n + 1, sizeof(*describe));
	authorize = xcalloc(wanted.n + 1, sizeof(*authorize));
	/* A source the stack names twice is one permission: keep the first. */
	for (i = 0; i < wanted.n; i++)
		for (j = 0; j < i && !wanted.v[i].used; j++)
			if (atom_same_key(&wanted.v[j], &wanted.v[i]))
				wanted.v[i].used = 1;
	/* Exact matches first, so that a description change elsewhere cannot
	 * take the atom an unchanged rule accounts for. */
	for (i = 0; i < wanted.n; i++) {
		struct sg_atom *h = wanted.v[i].used ? NULL : atom_find(&have, &wanted.v[i], 1);

		if (h)
			h->used = wanted.v[i].used = 1;
	}
	for (i = 0; i < wanted.n; i++) {
		struct sg_atom *h;

		if (wanted.v[i].used)
			continue;
		h = atom_find(&have, &wanted.v[i], 0);
		if (h) {
			h->used = 1;
			describe[nd++] = &wanted.v[i];
		} else {
			authorize[na++] = &wanted.v[i];
		}
	}
	for (i = 0; i < have.n; i++)
		if (!have.v[i].used)
			revoke[nr++] = &have.v[i];
	snprintf(op, sizeof(op), "RevokeSecurityGroup%s", direction);
	if (perms_call(ctx, op, id, id, revoke, nr, 0, err) != 0)
		goto out;
	snprintf(op, sizeof(op), "UpdateSecurityGroupRuleDescriptions%s", direction);
	if (perms_call(ctx, op, id, id, describe, nd, 1, err) != 0)
		goto out;
	snprintf(op, sizeof(op), "AuthorizeSecurityGroup%s", direction);
	if (perms_call(ctx, op, id, id, authorize, na, 1, err) != 0)
		goto out;
	rc = 0;
out:
	free(revoke);
	free(describe);
	free(authorize);
	atoms_free(&have);
	atoms_free(&wanted);
	return rc;
}

static int sg_read_batch(const struct provider_ctx *const *ctxs, size_t n,
			 const char *const *ids, json_t *const *priors, json_t **outs,
			 struct cairn_err *err)
{
	json_t *groups = NULL;
	size_t i;

	for (i = 0; i < n; i++)
		outs[i] = NULL;
	if (ec2_describe_ids(ctxs, n, ids, "DescribeSecurityGroups", "SecurityGroups",
			     "group-id", "GroupId", NULL, &groups, err) != 0)
		return -1;
	for (i = 0; i < n; i++) {
		json_t *g = json_object_get(groups, ids[i]), *a;
		json_t *prior = priors ? priors[i] : NULL;
		const char *owner = ec2_str(g, "OwnerId");

		if (!g)
			continue;
		a = json_object();
		json_object_set_new(a, "id", json_string(ids[i]));
		json_object_set_new(a, "name", json_string(ec2_str(g, "GroupName")));
		json_object_set_new(a, "description", json_string(ec2_str(g, "Description")));
		json_object_set_new(a, "vpc_id", json_string(ec2_str(g, "VpcId")));
		json_object_set_new(a, "ingress",
				    rules_read(json_object_get(g, "IpPermissions"), ids[i], owner,
					       json_object_get(prior, "ingress")));
		json_object_set_new(a, "egress",
				    rules_read(json_object_get(g, "IpPermissionsEgress"), ids[i],
					       owner, json_object_get(prior, "egress")));
		json_object_set_new(a, "tags", ec2_item_tags(g));
		json_object_set_new(a, "arn", *ec2_str(g, "SecurityGroupArn") ?
				    json_string(ec2_str(g, "SecurityGroupArn")) :
				    ec2_arn(ctxs[i], owner, "security-group", ids[i]));
		json_object_set_new(a, "owner_id", json_string(owner));
		outs[i] = a;
	}
	json_decref(groups);
	return 0;
}

static int sg_read(const struct provider_ctx *ctx, const char *id, json_t *prior,
		   json_t **out, struct cairn_err *err)
{
	return ec2_read_one(sg_read_batch, ctx, id, prior, out, err);
}

/* A rule without any source would stand for no permission at all. */
static int rules_check(const struct provider_ctx *ctx, json_t *want, struct cairn_err *err)
{
	static const char *const dirs[] = {"ingress", "egress"};
	json_t *r;
	size_t d, i;

	for (d = 0; d < 2; d++)
		json_array_foreach(json_object_get(want, dirs[d]), i, r) {
			struct sg_atoms as = {0};
			size_t n;

			atoms_of_rule(r, &as);
			n = as.n;
			atoms_free(&as);
			if (!n) {
				err_set(err, CAIRN_EINVAL, "%s: %s rule %zu has no source: set "
					"cidr_blocks, ipv6_cidr_blocks, prefix_list_ids, "
					"security_groups or self", ctx->name, dirs[d], i + 1);
				return -1;
			}
		}
	return 0;
}

/* Both directions of the group as AWS has it now into want's rules. */
/* Turns the rules of group g (as described, borrowed) into want's. */
static int sg_rules_from(const struct provider_ctx *ctx, const char *id, json_t *g, json_t *want,
			 int ingress, int egress, struct cairn_err *err)
{
	if (ingress && rules_apply(ctx, id, ec2_str(g, "OwnerId"), "Ingress",
				   json_object_get(g, "IpPermissions"),
				   json_object_get(want, "ingress"), err) != 0)
		return -1;
	if (egress && rules_apply(ctx, id, ec2_str(g, "OwnerId"), "Egress",
				  json_object_get(g, "IpPermissionsEgress"),
				  json_object_get(want, "egress"), err) != 0)
		return -1;
	return 0;
}

static int sg_apply_rules(const struct provider_ctx *ctx, const char *id, json_t *want,
			  int ingress, int egress, struct cairn_err *err)
{
	json_t *g = NULL;
	int rc = -1;

	if (sg_describe(ctx, id, &g, err) != 0)
		goto out;
	if (!g) {
		err_set(err, CAIRN_ENOTFOUND, "%s: security group %s does not exist", ctx->name,
			id);
		goto out;
	}
	rc = sg_rules_from(ctx, id, g, want, ingress, egress, err);
out:
	json_decref(g);
	return rc;
}

static int sg_create(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
		     struct cairn_err *err)
{
	static const char *const codes[] = {"InvalidVpcID.NotFound", NULL};
	json_t *in, *res = NULL, *fresh;
	char *name, *id;
	int ok, rc;

	*out = NULL;
	if (rules_check(ctx, attrs, err) != 0)
		return -1;
	name = *ec2_str(attrs, "name") ? xstrdup(ec2_str(attrs, "name")) :
	       xasprintf("%s-%s", ctx->stack, ctx->name);
	in = json_pack("{s:s,s:s,s:o}", "GroupName", name, "Description",
		       json_object_get(attrs, "description") ? ec2_str(attrs, "description") :
		       "Managed by cairn", "TagSpecifications",
		       ec2_tag_specs(ctx, "security-group", json_object_get(attrs, "tags")));
	if (*ec2_str(attrs, "vpc_id"))
		json_object_set_new(in, "VpcId", json_string(ec2_str(attrs, "vpc_id")));
	rc = pcall_retry(ctx, "ec2", "CreateSecurityGroup", in, &res, codes, EC2_PROPAGATION_MS,
			    err);
	json_decref(in);
	free(name);
	if (rc != 0)
		return -1;
	id = xstrdup(ec2_str(res, "GroupId"));
	json_decref(res);
	/* A new group has no ingress and the one allow-all egress rule: no
	 * need to describe it before changing its rules (the calls ride out
	 * the moment it is not visible yet). */
	fresh = json_pack("{s:[],s:[{s:s,s:[{s:s}]}]}", "IpPermissions", "IpPermissionsEgress",
			  "IpProtocol", "-1", "IpRanges", "CidrIp", "0.0.0.0/0");
	ok = sg_rules_from(ctx, id, fresh, attrs, 1, 1, err) == 0;
	json_decref(fresh);
	rc = ec2_created(sg_read_batch, ctx, id, attrs, ok, out, err);
	free(id);
	return rc;
}

static int sg_update(const struct provider_ctx *ctx, const char *id, json_t *old, json_t *want,
		     json_t *changed, json_t **out, struct cairn_err *err)
{
	int ingress = pchanged(changed, "ingress"), egress = pchanged(changed, "egress");

	*out = NULL;
	if (rules_check(ctx, want, err) != 0)
		return -1;
	if ((ingress || egress) && sg_apply_rules(ctx, id, want, ingress, egress, err) != 0)
		return -1;
	if (pchanged(changed, "tags") &&
	    ec2_update_tags(ctx, id, json_object_get(old, "tags"), json_object_get(want, "tags"),
			    err) != 0)
		return -1;
	if (sg_read(ctx, id, want, out, err) != 0)
		return -1;
	if (!*out) {
		err_set(err, CAIRN_ENOTFOUND, "update of %s: security group %s disappeared",
			ctx->name, id);
		return -1;
	}
	return 0;
}

/* Network interfaces of deleted load balancers and tasks keep the group in
 * use for a while. */
static int sg_delete(const struct provider_ctx *ctx, const char *id, json_t *attrs,
		     struct cairn_err *err)
{
	return ec2_delete_call(ctx, "DeleteSecurityGroup", json_pack("{s:s}", "GroupId", id),
			       SG_DELETE_TIMEOUT_MS, err);
}


static int sg_find(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
		   struct cairn_err *err)
{
	char *id = NULL;
	int rc;

	*out = NULL;
	if (ec2_find_owned(ctx, "DescribeSecurityGroups", "SecurityGroups", "GroupId", &id,
			   err) != 0)
		return -1;
	rc = id ? sg_read(ctx, id, attrs, out, err) : 0;
	free(id);
	return rc;
}

const struct resource_ops aws_security_group_ops = {
	.type = "aws_security_group",
	.create = sg_create,
	.read = sg_read,
	.read_batch = sg_read_batch,
	.update = sg_update,
	.delete = sg_delete,
	.find = sg_find,
};
