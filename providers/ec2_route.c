/*
 * ec2_route: the aws_route_table (with its inline routes) and
 * aws_route_table_association resource types.
 *
 * A route is known by its destination (IPv4 or IPv6 CIDR); routes are
 * reconciled against what AWS reports with CreateRoute / ReplaceRoute /
 * DeleteRoute. The VPC's local route and routes propagated from virtual
 * private gateways are AWS's, never the stack's, and are left out. A
 * read lists the routes in the order of the prior attributes (the stack's
 * order), then the others sorted, so that the order of a list is never a
 * difference.
 */
#include <stdlib.h>
#include <string.h>

#include "ec2.h"

#define RT_DELETE_TIMEOUT_MS (5L * 60 * 1000)

struct route_field {
	const char *attr;    /* schema attribute */
	const char *member;  /* CreateRoute input / Route output member */
};

static const struct route_field route_dests[] = {
	{"cidr_block", "DestinationCidrBlock"},
	{"ipv6_cidr_block", "DestinationIpv6CidrBlock"},
};

static const struct route_field route_targets[] = {
	{"gateway_id", "GatewayId"},
	{"nat_gateway_id", "NatGatewayId"},
	{"egress_only_gateway_id", "EgressOnlyInternetGatewayId"},
	{"network_interface_id", "NetworkInterfaceId"},
	{"transit_gateway_id", "TransitGatewayId"},
	{"vpc_peering_connection_id", "VpcPeeringConnectionId"},
	{"vpc_endpoint_id", "VpcEndpointId"},
};

#define N_DESTS (sizeof(route_dests) / sizeof(route_dests[0]))
#define N_TARGETS (sizeof(route_targets) / sizeof(route_targets[0]))

/* Codes AWS answers while a just-created table or target is not visible yet. */
static const char *const route_propagation_codes[] = {
	"InvalidRouteTableID.NotFound", "InvalidGatewayID.NotFound",
	"InvalidNatGatewayID.NotFound", "InvalidTransitGatewayID.NotFound", NULL
};

/* The destination key of a route attribute object ("4:10.0.0.0/8"), owned; NULL if none. */
static char *route_key(json_t *route)
{
	if (*ec2_str(route, "cidr_block"))
		return xasprintf("4:%s", ec2_str(route, "cidr_block"));
	if (*ec2_str(route, "ipv6_cidr_block"))
		return xasprintf("6:%s", ec2_str(route, "ipv6_cidr_block"));
	return NULL;
}

/* An AWS Route -> route attribute object with every field ("" when unset). */
static json_t *route_attrs(json_t *r)
{
	json_t *a = json_object();
	const char *gw = ec2_str(r, "GatewayId");
	size_t i;

	for (i = 0; i < N_DESTS; i++)
		json_object_set_new(a, route_dests[i].attr,
				    json_string(ec2_str(r, route_dests[i].member)));
	for (i = 0; i < N_TARGETS; i++)
		json_object_set_new(a, route_targets[i].attr,
				    json_string(ec2_str(r, route_targets[i].member)));
	/* AWS reports a gateway load balancer endpoint target as a gateway. */
	if (strncmp(gw, "vpce-", 5) == 0) {
		json_object_set_new(a, "vpc_endpoint_id", json_string(gw));
		json_object_set_new(a, "gateway_id", json_string(""));
	}
	return a;
}

static int same_target(json_t *a, json_t *b)
{
	size_t i;

	for (i = 0; i < N_TARGETS; i++)
		if (strcmp(ec2_str(a, route_targets[i].attr), ec2_str(b, route_targets[i].attr)))
			return 0;
	return 1;
}

/* The stack's routes of a table as AWS reports it: key -> route attributes. */
static json_t *table_routes(json_t *table)
{
	json_t *routes = json_object(), *r;
	size_t i;

	json_array_foreach(json_object_get(table, "Routes"), i, r) {
		json_t *a;
		char *key;

		if (strcmp(ec2_str(r, "GatewayId"), "local") == 0 ||
		    strcmp(ec2_str(r, "Origin"), "CreateRouteTable") == 0 ||
		    strcmp(ec2_str(r, "Origin"), "EnableVgwRoutePropagation") == 0)
			continue;
		a = route_attrs(r);
		key = route_key(a);
		if (key)
			json_object_set_new(routes, key, a);
		else
			json_decref(a);
		free(key);
	}
	return routes;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The routes (key -> attributes) as a list: prior's order first, then sorted. */
static json_t *routes_ordered(json_t *routes, json_t *prior_list)
{
	json_t *list = json_array(), *left = json_copy(routes), *p, *v;
	const char **keys;
	const char *k;
	size_t i, n = 0;

	json_array_foreach(prior_list, i, p) {
		char *key = route_key(p);

		if (key && json_object_get(left, key)) {
			json_array_append(list, json_object_get(left, key));
			json_object_del(left, key);
		}
		free(key);
	}
	keys = xcalloc(json_object_size(left) + 1, sizeof(*keys));
	json_object_foreach(left, k, v)
		keys[n++] = k;
	qsort(keys, n, sizeof(*keys), cmp_str);
	for (i = 0; i < n; i++)
		json_array_append(list, json_object_get(left, keys[i]));
	free(keys);
	json_decref(left);
	return list;
}

/* rtb_read_batch: one DescribeRouteTables for all the tables. */
static int rtb_read_batch(const struct provider_ctx *const *ctxs, size_t n,
			  const char *const *ids, json_t *const *priors, json_t **outs,
			  struct cairn_err *err)
{
	json_t *tables = NULL;
	size_t i;

	for (i = 0; i < n; i++)
		outs[i] = NULL;
	if (ec2_describe_ids(ctxs, n, ids, "DescribeRouteTables", "RouteTables",
			     "route-table-id", "RouteTableId", NULL, &tables, err) != 0)
		return -1;
	for (i = 0; i < n; i++) {
		json_t *t = json_object_get(tables, ids[i]), *a, *routes;
		json_t *prior = priors ? priors[i] : NULL;
		const char *owner = ec2_str(t, "OwnerId");

		if (!t)
			continue;
		routes = table_routes(t);
		a = json_object();
		json_object_set_new(a, "id", json_string(ids[i]));
		json_object_set_new(a, "vpc_id", json_string(ec2_str(t, "VpcId")));
		json_object_set_new(a, "route",
				    routes_ordered(routes, json_object_get(prior, "route")));
		json_object_set_new(a, "tags", ec2_item_tags(t));
		json_object_set_new(a, "arn", ec2_arn(ctxs[i], owner, "route-table", ids[i]));
		json_object_set_new(a, "owner_id", json_string(owner));
		outs[i] = a;
		json_decref(routes);
	}
	json_decref(tables);
	return 0;
}

static int rtb_read(const struct provider_ctx *ctx, const char *id, json_t *prior,
		    json_t **out, struct cairn_err *err)
{
	return ec2_read_one(rtb_read_batch, ctx, id, prior, out, err);
}

/* The input of CreateRoute / ReplaceRoute / DeleteRoute for route r of table id. */
static json_t *route_input(const char *id, json_t *r, int with_target)
{
	json_t *in = json_pack("{s:s}", "RouteTableId", id);
	size_t i;

	for (i = 0; i < N_DESTS; i++)
		if (*ec2_str(r, route_dests[i].attr)) {
			json_object_set_new(in, route_dests[i].member,
					    json_string(ec2_str(r, route_dests[i].attr)));
			break;
		}
	for (i = 0; with_target && i < N_TARGETS; i++)
		if (*ec2_str(r, route_targets[i].attr))
			json_object_set_new(in, route_targets[i].member,
					    json_string(ec2_str(r, route_targets[i].attr)));
	return in;
}

/* Checks that every wanted route has exactly one destination and one target. */
static int routes_check(const struct provider_ctx *ctx, json_t *want, struct cairn_err *err)
{
	json_t *r;
	size_t i, j;

	json_array_foreach(want, i, r) {
		int dests = 0, targets = 0;

		for (j = 0; j < N_DESTS; j++)
			dests += *ec2_str(r, route_dests[j].attr) != '\0';
		for (j = 0; j < N_TARGETS; j++)
			targets += *ec2_str(r, route_targets[j].attr) != '\0';
		if (dests != 1 || targets != 1) {
			err_set(err, CAIRN_EINVAL, "%s: route %zu needs exactly one destination "
				"(cidr_block or ipv6_cidr_block) and one target (gateway_id, "
				"nat_gateway_id, ...)", ctx->name, i + 1);
			return -1;
		}
	}
	return 0;
}

/* Turns the table's routes (as AWS has them now) into the wanted list. */
static int routes_apply(const struct provider_ctx *ctx, const char *id, json_t *want,
			struct cairn_err *err)
{
	json_t *byid = NULL, *have = NULL, *wanted = json_object(), *r, *in = NULL;
	const char *k;
	size_t i;
	int rc = -1;

	if (routes_check(ctx, want, err) != 0)
		goto out;
	if (ec2_describe_ids(&ctx, 1, &id, "DescribeRouteTables", "RouteTables",
			     "route-table-id", "RouteTableId", NULL, &byid, err) != 0)
		goto out;
	have = table_routes(json_object_get(byid, id));
	json_array_foreach(want, i, r) {
		char *key = route_key(r);

		json_object_set(wanted, key, r);
		free(key);
	}
	json_object_foreach(have, k, r) {
		if (json_object_get(wanted, k))
			continue;
		in = route_input(id, r, 0);
		if (pcall_void(ctx, "ec2", "DeleteRoute", in, err) != 0) {
			if (!ec2_is_notfound(err))
				goto out;
			err_clear(err);
		}
		json_decref(in);
		in = NULL;
	}
	json_object_foreach(wanted, k, r) {
		json_t *cur = json_object_get(have, k);

		if (cur && same_target(cur, r))
			continue;
		in = route_input(id, r, 1);
		if (pcall_retry(ctx, "ec2", cur ? "ReplaceRoute" : "CreateRoute", in, NULL,
				   route_propagation_codes, EC2_PROPAGATION_MS, err) != 0)
			goto out;
		json_decref(in);
		in = NULL;
	}
	rc = 0;
out:
	json_decref(in);
	json_decref(have);
	json_decref(byid);
	json_decref(wanted);
	return rc;
}

static int rtb_create(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
		      struct cairn_err *err)
{
	static const char *const codes[] = {"InvalidVpcID.NotFound", NULL};
	json_t *in, *res = NULL;
	char *id;
	int ok, rc;

	*out = NULL;
	if (routes_check(ctx, json_object_get(attrs, "route"), err) != 0)
		return -1;
	in = json_pack("{s:s,s:o}", "VpcId", ec2_str(attrs, "vpc_id"), "TagSpecifications",
		       ec2_tag_specs(ctx, "route-table", json_object_get(attrs, "tags")));
	rc = pcall_retry(ctx, "ec2", "CreateRouteTable", in, &res, codes, EC2_PROPAGATION_MS, err);
	json_decref(in);
	if (rc != 0)
		return -1;
	id = xstrdup(ec2_str(json_object_get(res, "RouteTable"), "RouteTableId"));
	json_decref(res);
	ok = routes_apply(ctx, id, json_object_get(attrs, "route"), err) == 0;
	rc = ec2_created(rtb_read_batch, ctx, id, attrs, ok, out, err);
	free(id);
	return rc;
}

static int rtb_update(const struct provider_ctx *ctx, const char *id, json_t *old, json_t *want,
		      json_t *changed, json_t **out, struct cairn_err *err)
{
	*out = NULL;
	if (pchanged(changed, "route") &&
	    routes_apply(ctx, id, json_object_get(want, "route"), err) != 0)
		return -1;
	if (pchanged(changed, "tags") &&
	    ec2_update_tags(ctx, id, json_object_get(old, "tags"), json_object_get(want, "tags"),
			    err) != 0)
		return -1;
	if (rtb_read(ctx, id, want, out, err) != 0)
		return -1;
	if (!*out) {
		err_set(err, CAIRN_ENOTFOUND, "update of %s: route table %s disappeared",
			ctx->name, id);
		return -1;
	}
	return 0;
}

static int rtb_delete(const struct provider_ctx *ctx, const char *id, json_t *attrs,
		      struct cairn_err *err)
{
	return ec2_delete_call(ctx, "DeleteRouteTable", json_pack("{s:s}", "RouteTableId", id),
			       RT_DELETE_TIMEOUT_MS, err);
}


static int rtb_find(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
		    struct cairn_err *err)
{
	char *id = NULL;
	int rc;

	*out = NULL;
	if (ec2_find_owned(ctx, "DescribeRouteTables", "RouteTables", "RouteTableId", &id,
			   err) != 0)
		return -1;
	rc = id ? rtb_read(ctx, id, attrs, out, err) : 0;
	free(id);
	return rc;
}

const struct resource_ops aws_route_table_ops = {
	.type = "aws_route_table",
	.create = rtb_create,
	.read = rtb_read,
	.read_batch = rtb_read_batch,
	.update = rtb_update,
	.delete = rtb_delete,
	.find = rtb_find,
};

/* ---- aws_route_table_association ---- */

/* An association AWS reports as current (not being or already removed). */
static int assoc_live(json_t *assoc)
{
	const char *state = ec2_str(json_object_get(assoc, "AssociationState"), "State");

	return strcmp(state, "disassociating") != 0 && strcmp(state, "disassociated") != 0 &&
	       strcmp(state, "failed") != 0;
}

static int assoc_read_batch(const struct provider_ctx *const *ctxs, size_t n,
			    const char *const *ids, json_t *const *priors, json_t **outs,
			    struct cairn_err *err)
{
	json_t *tables = NULL, *t, *as;
	const char *tid;
	size_t i, j;

	for (i = 0; i < n; i++)
		outs[i] = NULL;
	if (ec2_describe_ids(ctxs, n, ids, "DescribeRouteTables", "RouteTables",
			     "association.route-table-association-id", "RouteTableId", NULL,
			     &tables, err) != 0)
		return -1;
	json_object_foreach(tables, tid, t)
		json_array_foreach(json_object_get(t, "Associations"), j, as) {
			const char *aid = ec2_str(as, "RouteTableAssociationId");

			if (!assoc_live(as) || !*ec2_str(as, "SubnetId"))
				continue;
			for (i = 0; i < n; i++)
				if (!outs[i] && strcmp(ids[i], aid) == 0)
					outs[i] = json_pack("{s:s,s:s,s:s}", "id", aid,
							    "subnet_id", ec2_str(as, "SubnetId"),
							    "route_table_id", tid);
		}
	json_decref(tables);
	return 0;
}

static int assoc_lookup(const struct provider_ctx *ctx, const char *subnet, const char *rtb,
			char **id, struct cairn_err *err);

/* With no prior (an import), id may also be "SUBNET_ID/ROUTE_TABLE_ID". */
static int assoc_read(const struct provider_ctx *ctx, const char *id, json_t *prior,
		      json_t **out, struct cairn_err *err)
{
	const char *slash = strchr(id, '/');
	char *subnet, *assoc = NULL;
	int rc;

	*out = NULL;
	if (prior || !slash)
		return ec2_read_one(assoc_read_batch, ctx, id, prior, out, err);
	subnet = xstrndup(id, (size_t)(slash - id));
	rc = assoc_lookup(ctx, subnet, slash + 1, &assoc, err);
	if (rc == 0 && assoc)
		rc = ec2_read_one(assoc_read_batch, ctx, assoc, NULL, out, err);
	free(subnet);
	free(assoc);
	return rc;
}

/* The id of the live association of subnet with table rtb, or NULL (owned). */
static int assoc_lookup(const struct provider_ctx *ctx, const char *subnet, const char *rtb,
			char **id, struct cairn_err *err)
{
	json_t *in = json_pack("{s:[{s:s,s:[s]},{s:s,s:[s]}]}", "Filters",
			       "Name", "association.subnet-id", "Values", subnet,
			       "Name", "route-table-id", "Values", rtb);
	json_t *tables = NULL, *t, *as;
	size_t i, j;
	int rc = -1;

	*id = NULL;
	if (aws_call_all(ctx->aws, "ec2", "DescribeRouteTables", in, "RouteTables", &tables,
			 err) != 0) {
		err_prefix(err, "DescribeRouteTables on %s", ctx->name);
		goto out;
	}
	json_array_foreach(tables, i, t)
		json_array_foreach(json_object_get(t, "Associations"), j, as)
			if (!*id && assoc_live(as) && strcmp(ec2_str(as, "SubnetId"), subnet) == 0)
				*id = xstrdup(ec2_str(as, "RouteTableAssociationId"));
	rc = 0;
out:
	json_decref(in);
	json_decref(tables);
	return rc;
}

static int assoc_create(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
			struct cairn_err *err)
{
	static const char *const codes[] = {"InvalidRouteTableID.NotFound",
					    "InvalidSubnetID.NotFound", NULL};
	json_t *in = json_pack("{s:s,s:s}", "RouteTableId", ec2_str(attrs, "route_table_id"),
			       "SubnetId", ec2_str(attrs, "subnet_id"));
	json_t *res = NULL;
	char *id;
	int rc;

	*out = NULL;
	rc = pcall_retry(ctx, "ec2", "AssociateRouteTable", in, &res, codes, EC2_PROPAGATION_MS,
			    err);
	json_decref(in);
	/* Already associated with this table (an earlier call whose answer
	 * was lost): that association is the resource. */
	if (rc != 0 && perr_is(err, "Resource.AlreadyAssociated")) {
		struct cairn_err e2;

		err_clear(&e2);
		id = NULL;
		if (assoc_lookup(ctx, ec2_str(attrs, "subnet_id"), ec2_str(attrs, "route_table_id"),
				 &id, &e2) == 0 && id) {
			err_clear(err);
			rc = ec2_created(assoc_read_batch, ctx, id, attrs, 1, out, err);
			free(id);
			return rc;
		}
	}
	if (rc != 0)
		return -1;
	id = xstrdup(ec2_str(res, "AssociationId"));
	json_decref(res);
	rc = ec2_created(assoc_read_batch, ctx, id, attrs, 1, out, err);
	free(id);
	return rc;
}

/* ReplaceRouteTableAssociation moves the subnet in one step; AWS gives the
 * association a new id, which becomes the resource's id. */
static int assoc_update(const struct provider_ctx *ctx, const char *id, json_t *old,
			json_t *want, json_t *changed, json_t **out, struct cairn_err *err)
{
	json_t *in = json_pack("{s:s,s:s}", "AssociationId", id, "RouteTableId",
			       ec2_str(want, "route_table_id"));
	json_t *res = NULL;
	char *new_id = NULL;
	int rc = -1;

	*out = NULL;
	if (pcall(ctx, "ec2", "ReplaceRouteTableAssociation", in, &res, err) != 0)
		goto out;
	new_id = xstrdup(*ec2_str(res, "NewAssociationId") ? ec2_str(res, "NewAssociationId") : id);
	if (assoc_read(ctx, new_id, want, out, err) != 0)
		goto out;
	if (!*out) {
		err_set(err, CAIRN_ENOTFOUND, "update of %s: association %s disappeared",
			ctx->name, new_id);
		goto out;
	}
	rc = 0;
out:
	free(new_id);
	json_decref(in);
	json_decref(res);
	return rc;
}

static int assoc_delete(const struct provider_ctx *ctx, const char *id, json_t *attrs,
			struct cairn_err *err)
{
	return ec2_delete_call(ctx, "DisassociateRouteTable",
			       json_pack("{s:s}", "AssociationId", id), RT_DELETE_TIMEOUT_MS, err);
}

/* Import id: SUBNET_ID/ROUTE_TABLE_ID as Terraform takes it, or the association id. */

/* Associations carry no tags: the subnet and table pair is what identifies one. */
static int assoc_find(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
		      struct cairn_err *err)
{
	char *id = NULL;
	int rc;

	*out = NULL;
	if (assoc_lookup(ctx, ec2_str(attrs, "subnet_id"), ec2_str(attrs, "route_table_id"), &id,
			 err) != 0)
		return -1;
	rc = id ? assoc_read(ctx, id, attrs, out, err) : 0;
	free(id);
	return rc;
}

const struct resource_ops aws_route_table_association_ops = {
	.type = "aws_route_table_association",
	.create = assoc_create,
	.read = assoc_read,
	.read_batch = assoc_read_batch,
	.update = assoc_update,
	.delete = assoc_delete,
	.find = assoc_find,
};
