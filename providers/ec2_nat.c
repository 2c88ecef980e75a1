/*
 * ec2_nat: how private subnets reach out: the aws_eip, aws_nat_gateway and
 * aws_vpc_endpoint resource types (EC2, ec2 protocol).
 *
 * All three take their ownership tags in the create call
 * (TagSpecifications), so find looks them up by the tags, skipping what is
 * deleted or on its way out. NAT gateways and interface endpoints take
 * minutes on AWS: create and delete wait through the shared waiter, which
 * reports progress. A NAT gateway's or an endpoint's item stays in the
 * describe answers for a while as "deleted": a read counts that as gone.
 *
 * Elastic IPs and NAT gateways are read by filter, which leaves out ids
 * that are gone; endpoints by id (the vpc-endpoint-id filter is AWS's but
 * not every emulator's), and as AWS fails the whole call when one id is
 * gone, a batch that meets InvalidVpcEndpointId.NotFound is read again
 * one id at a time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ec2.h"

#define NAT_TIMEOUT_MS (15L * 60 * 1000)
#define VPCE_TIMEOUT_MS (10L * 60 * 1000)
#define EIP_RELEASE_TIMEOUT_MS (5L * 60 * 1000)

/* ---- shared: find by ownership tags, wait for a state ---- */

/*
 * The id (id_key) of the item of op (whose filter list is the member
 * filter_member: "Filters", or "Filter" for DescribeNatGateways) that
 * carries ctx's ownership tags and
 * whose State is not one of dead (NULL-terminated, may be NULL); *id NULL
 * when there is none. A replaced NAT gateway, say, stays listed as
 * "deleted" with the same tags as its successor.
 */
static int find_live(const struct provider_ctx *ctx, const char *op, const char *filter_member,
		     const char *result_key, const char *id_key, const char *const *dead, char **id,
		     struct cairn_err *err)
{
	json_t *in = json_pack("{s:[{s:s,s:[s]},{s:s,s:[s]}]}", filter_member,
			       "Name", "tag:" OWNER_TAG_STACK, "Values", ctx->stack,
			       "Name", "tag:" OWNER_TAG_RESOURCE, "Values", ctx->name);
	json_t *items = NULL, *item;
	size_t i, k;
	int rc = -1;

	*id = NULL;
	if (aws_call_all(ctx->aws, "ec2", op, in, result_key, &items, err) != 0) {
		err_prefix(err, "%s on %s", op, ctx->name);
		goto out;
	}
	json_array_foreach(items, i, item) {
		const char *s = pstr(item, id_key), *state = ec2_str(item, "State");
		int live = 1;

		for (k = 0; dead && dead[k]; k++)
			if (strcasecmp(state, dead[k]) == 0)
				live = 0;
		if (s && live && ptags_owned_by(json_object_get(item, "Tags"), "Key", "Value", ctx)) {
			*id = xstrdup(s);
			break;
		}
	}
	rc = 0;
out:
	json_decref(in);
	json_decref(items);
	return rc;
}

/*
 * A wait on one item's "State" through the shared waiter. describe(ctx,
 * id, &item) reads the item (NULL when AWS no longer lists it).
 * ready: the state that ends the wait, or NULL to wait until the item is
 * gone or "deleted". failed: a state that fails it, with the item's
 * reason member (may be NULL) in the message.
 */
typedef int (*describe_fn)(const struct provider_ctx *ctx, const char *id, json_t **item,
			   struct cairn_err *err);
struct state_wait {
	describe_fn describe;
	const char *id, *ready, *failed, *reason_key, *what;
};

static int state_poll(const struct provider_ctx *ctx, void *arg, char *status,
		      size_t status_len, struct cairn_err *err)
{
	struct state_wait *w = arg;
	json_t *item = NULL;
	const char *state;
	int rc;

	if (w->describe(ctx, w->id, &item, err) != 0)
		return -1;
	state = ec2_str(item, "State");
	if (!w->ready) {
		rc = !item || strcasecmp(state, "deleted") == 0;
	} else if (item && strcasecmp(state, w->ready) == 0) {
		rc = 1;
	} else if (item && w->failed && strcasecmp(state, w->failed) == 0) {
		err_set(err, CAIRN_EAWS, "%s %s on %s is %s: %s", w->what, w->id, ctx->name, state,
			w->reason_key && *ec2_str(item, w->reason_key) ?
			ec2_str(item, w->reason_key) : "(AWS gave no reason)");
		rc = -1;
	} else {
		/* not listed yet: EC2 is eventually consistent after a create */
		rc = 0;
	}
	snprintf(status, status_len, "%s", item ? state : "not listed");
	json_decref(item);
	return rc;
}

static int wait_state(const struct provider_ctx *ctx, struct state_wait *w, const char *doing,
		      long timeout_ms, struct cairn_err *err)
{
	struct pwait_spec spec = {doing, 1000L, 10000L, timeout_ms};

	return pwait_until(ctx, &spec, state_poll, w, err);
}

/*
 * Ends a create. ok: the resource and its follow-up calls are done; then
 * *out is the read of id (want as prior), waited for while EC2 does not
 * list it yet, and 0. Otherwise, or when that fails, *out = {"id": id}
 * so the engine records what exists, and -1 (err kept).
 */
typedef int (*batch_fn)(const struct provider_ctx *const *ctxs, size_t n, const char *const *ids,
			json_t *const *priors, json_t **outs, struct cairn_err *err);
struct listed {
	batch_fn batch;
	const char *id;
	json_t *want, **out;
};

static int listed_poll(const struct provider_ctx *ctx, void *arg, char *status,
		       size_t status_len, struct cairn_err *err)
{
	struct listed *l = arg;

	if (l->batch(&ctx, 1, &l->id, &l->want, l->out, err) != 0)
		return -1;
	snprintf(status, status_len, "not listed yet");
	return *l->out != NULL;
}

static int created(batch_fn batch, const struct provider_ctx *ctx, const char *id, json_t *want,
		   int ok, json_t **out, struct cairn_err *err)
{
	struct listed l = {batch, id, want, out};
	struct pwait_spec spec = {"reading what was created", 500L, 5000L, EC2_PROPAGATION_MS};

	*out = NULL;
	if (ok && pwait_until(ctx, &spec, listed_poll, &l, err) == 0)
		return 0;
	json_decref(*out);
	*out = json_pack("{s:s}", "id", id);
	return -1;
}

/* A string member from want copied into in under name, when set and not "". */
static void put_str(json_t *in, const char *name, json_t *want, const char *key)
{
	const char *s = pstr(want, key);

	if (s && *s)
		json_object_set_new(in, name, json_string(s));
}

/* ---- aws_eip ---- */

static json_t *eip_attrs(const struct provider_ctx *ctx, json_t *a, const char *account)
{
	json_t *o = json_object();
	const char *ip = ec2_str(a, "PublicIp"), *region = aws_client_region(ctx->aws);
	char *dns = NULL, *dashed = xstrdup(ip), *p;

	for (p = dashed; *p; p++)
		if (*p == '.')
			*p = '-';
	if (*ip)
		dns = strcmp(region, "us-east-1") == 0 ?
		      xasprintf("ec2-%s.compute-1.amazonaws.com", dashed) :
		      xasprintf("ec2-%s.%s.compute.amazonaws.com", dashed, region);
	json_object_set_new(o, "id", json_string(ec2_str(a, "AllocationId")));
	json_object_set_new(o, "allocation_id", json_string(ec2_str(a, "AllocationId")));
	json_object_set_new(o, "domain", json_string(*ec2_str(a, "Domain") ?
						     ec2_str(a, "Domain") : "vpc"));
	json_object_set_new(o, "public_ip", json_string(ip));
	json_object_set_new(o, "public_dns", json_string(dns ? dns : ""));
	json_object_set_new(o, "instance", json_string(ec2_str(a, "InstanceId")));
	json_object_set_new(o, "network_interface", json_string(ec2_str(a, "NetworkInterfaceId")));
	json_object_set_new(o, "associate_with_private_ip",
			    json_string(ec2_str(a, "PrivateIpAddress")));
	json_object_set_new(o, "private_ip", json_string(ec2_str(a, "PrivateIpAddress")));
	json_object_set_new(o, "association_id", json_string(ec2_str(a, "AssociationId")));
	json_object_set_new(o, "public_ipv4_pool", json_string(ec2_str(a, "PublicIpv4Pool")));
	json_object_set_new(o, "network_border_group",
			    json_string(ec2_str(a, "NetworkBorderGroup")));
	json_object_set_new(o, "tags", ec2_item_tags(a));
	json_object_set_new(o, "arn", account ? ec2_arn(ctx, account, "elastic-ip",
							 ec2_str(a, "AllocationId")) :
			    json_string(""));
	free(dns);
	free(dashed);
	return o;
}

static int eip_read_batch(const struct provider_ctx *const *ctxs, size_t n,
			  const char *const *ids, json_t *const *priors, json_t **outs,
			  struct cairn_err *err)
{
	json_t *byid = NULL;
	const char *account;
	size_t i;

	for (i = 0; i < n; i++)
		outs[i] = NULL;
	if (n == 0)
		return 0;
	if (ec2_describe_ids(ctxs, n, ids, "DescribeAddresses", "Addresses", "allocation-id",
			     "AllocationId", NULL, &byid, err) != 0)
		return -1;
	/* The ARN names the account, which the Address item does not hold. */
	account = aws_account_id(ctxs[0]->aws, err);
	err_clear(err);
	for (i = 0; i < n; i++)
		if (json_object_get(byid, ids[i]))
			outs[i] = eip_attrs(ctxs[i], json_object_get(byid, ids[i]), account);
	json_decref(byid);
	return 0;
}

static int eip_read(const struct provider_ctx *ctx, const char *id, json_t *prior, json_t **out,
		    struct cairn_err *err)
{
	return eip_read_batch(&ctx, 1, &id, &prior, out, err);
}

/* Associates the address with want's instance or network interface, if any. */
static int eip_associate(const struct provider_ctx *ctx, const char *id, json_t *want,
			 struct cairn_err *err)
{
	static const char *const codes[] = {"InvalidInstanceID.NotFound",
					    "InvalidNetworkInterfaceID.NotFound", NULL};
	json_t *in;
	int rc;

	if (!*ec2_str(want, "instance") && !*ec2_str(want, "network_interface"))
		return 0;
	in = json_pack("{s:s,s:b}", "AllocationId", id, "AllowReassociation", 1);
	put_str(in, "InstanceId", want, "instance");
	put_str(in, "NetworkInterfaceId", want, "network_interface");
	put_str(in, "PrivateIpAddress", want, "associate_with_private_ip");
	/* a fresh instance is not visible to every EC2 endpoint at once */
	rc = pcall_retry(ctx, "ec2", "AssociateAddress", in, NULL, codes, EC2_PROPAGATION_MS, err);
	json_decref(in);
	return rc;
}

/* Disassociates the address; an association already gone is success. */
static int eip_disassociate(const struct provider_ctx *ctx, const char *assoc,
			    struct cairn_err *err)
{
	json_t *in;
	int rc;

	if (!assoc || !*assoc)
		return 0;
	in = json_pack("{s:s}", "AssociationId", assoc);
	rc = pcall_gone(ctx, "ec2", "DisassociateAddress", in, "InvalidAssociationID.NotFound",
			err);
	json_decref(in);
	return rc;
}

static int eip_create(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
		      struct cairn_err *err)
{
	json_t *in = json_pack("{s:s,s:o}", "Domain", ec2_str(attrs, "domain"),
			       "TagSpecifications", ec2_tag_specs(ctx, "elastic-ip",
								  json_object_get(attrs, "tags")));
	json_t *res = NULL;
	char *id = NULL;
	int rc = -1;

	*out = NULL;
	put_str(in, "PublicIpv4Pool", attrs, "public_ipv4_pool");
	put_str(in, "NetworkBorderGroup", attrs, "network_border_group");
	if (pcall(ctx, "ec2", "AllocateAddress", in, &res, err) != 0)
		goto out;
	id = xstrdup(ec2_str(res, "AllocationId"));
	rc = created(eip_read_batch, ctx, id, attrs, eip_associate(ctx, id, attrs, err) == 0,
			 out, err);
out:
	free(id);
	json_decref(in);
	json_decref(res);
	return rc;
}

static int eip_update(const struct provider_ctx *ctx, const char *id, json_t *old, json_t *want,
		      json_t *changed, json_t **out, struct cairn_err *err)
{
	*out = NULL;
	if (pchanged(changed, "instance") || pchanged(changed, "network_interface") ||
	    pchanged(changed, "associate_with_private_ip")) {
		if (eip_disassociate(ctx, ec2_str(old, "association_id"), err) != 0 ||
		    eip_associate(ctx, id, want, err) != 0)
			return -1;
	}
	if (pchanged(changed, "tags") &&
	    ec2_update_tags(ctx, id, json_object_get(old, "tags"), json_object_get(want, "tags"),
			    err) != 0)
		return -1;
	if (pread_after(ctx, eip_read, "update", "elastic IP", id, want, out, err) != 0)
		return -1;
	return 0;
}

/*
 * Disassociates (from what AWS says now, not only what was recorded) and
 * releases. A NAT gateway being deleted holds its address for a while:
 * AuthFailure / InvalidIPAddress.InUse are retried until it lets go.
 */
static int eip_delete(const struct provider_ctx *ctx, const char *id, json_t *attrs,
		      struct cairn_err *err)
{
	static const char *const busy[] = {"InvalidIPAddress.InUse", "AuthFailure", NULL};
	json_t *now = NULL, *in;
	int rc;

	if (eip_read(ctx, id, attrs, &now, err) != 0)
		return -1;
	if (!now)
		return 0;
	rc = eip_disassociate(ctx, pstr(now, "association_id"), err);
	json_decref(now);
	if (rc != 0)
		return -1;
	in = json_pack("{s:s}", "AllocationId", id);
	rc = pcall_retry(ctx, "ec2", "ReleaseAddress", in, NULL, busy, EIP_RELEASE_TIMEOUT_MS, err);
	if (rc != 0 && perr_is(err, "InvalidAllocationID.NotFound")) {
		err_clear(err);
		rc = 0;
	}
	json_decref(in);
	return rc;
}

static int eip_find(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
		    struct cairn_err *err)
{
	char *id = NULL;
	int rc;

	*out = NULL;
	if (find_live(ctx, "DescribeAddresses", "Filters", "Addresses", "AllocationId", NULL, &id, err) != 0)
		return -1;
	rc = id ? eip_read(ctx, id, attrs, out, err) : 0;
	free(id);
	return rc;
}

const struct resource_ops aws_eip_ops = {
	.type = "aws_eip",
	.create = eip_create,
	.read = eip_read,
	.read_batch = eip_read_batch,
	.update = eip_update,
	.delete = eip_delete,
	.find = eip_find,
};

/* ---- aws_nat_gateway ---- */

/*
 * DescribeNatGateways of ids[0, n) filtered on nat-gateway-id into a new
 * object id -> item. Its filter list is the member "Filter" (singular, as
 * in the model; "Filters" would be ignored by AWS), so ec2.h's helper,
 * which sends "Filters", does not fit.
 */
#define NAT_FILTER_MAX 100
static int nat_describe_ids(const struct provider_ctx *const *ctxs, size_t n,
			    const char *const *ids, json_t **byid, struct cairn_err *err)
{
	size_t start, i;

	*byid = json_object();
	for (start = 0; start < n; start += NAT_FILTER_MAX) {
		size_t end = start + NAT_FILTER_MAX < n ? start + NAT_FILTER_MAX : n;
		json_t *values = json_array(), *in, *items = NULL, *g;

		for (i = start; i < end; i++)
			json_array_append_new(values, json_string(ids[i]));
		in = json_pack("{s:[{s:s,s:o}]}", "Filter", "Name", "nat-gateway-id",
			       "Values", values);
		if (aws_call_all(ctxs[0]->aws, "ec2", "DescribeNatGateways", in, "NatGateways",
				 &items, err) != 0) {
			json_decref(in);
			err_prefix(err, "DescribeNatGateways on %s", ctxs[start]->name);
			json_decref(*byid);
			*byid = NULL;
			return -1;
		}
		json_decref(in);
		json_array_foreach(items, i, g)
			if (pstr(g, "NatGatewayId"))
				json_object_set(*byid, pstr(g, "NatGatewayId"), g);
		json_decref(items);
	}
	return 0;
}

static json_t *nat_attrs(json_t *g)
{
	json_t *o = json_object(), *addrs = json_object_get(g, "NatGatewayAddresses");
	json_t *primary = json_array_get(addrs, 0), *a;
	size_t i;

	json_array_foreach(addrs, i, a)
		if (json_is_true(json_object_get(a, "IsPrimary")))
			primary = a;
	json_object_set_new(o, "id", json_string(ec2_str(g, "NatGatewayId")));
	json_object_set_new(o, "subnet_id", json_string(ec2_str(g, "SubnetId")));
	json_object_set_new(o, "vpc_id", json_string(ec2_str(g, "VpcId")));
	json_object_set_new(o, "connectivity_type",
			    json_string(*ec2_str(g, "ConnectivityType") ?
					ec2_str(g, "ConnectivityType") : "public"));
	json_object_set_new(o, "allocation_id", json_string(ec2_str(primary, "AllocationId")));
	json_object_set_new(o, "association_id", json_string(ec2_str(primary, "AssociationId")));
	json_object_set_new(o, "network_interface_id",
			    json_string(ec2_str(primary, "NetworkInterfaceId")));
	json_object_set_new(o, "private_ip", json_string(ec2_str(primary, "PrivateIp")));
	json_object_set_new(o, "public_ip", json_string(ec2_str(primary, "PublicIp")));
	json_object_set_new(o, "tags", ec2_item_tags(g));
	return o;
}

static int nat_read_batch(const struct provider_ctx *const *ctxs, size_t n,
			  const char *const *ids, json_t *const *priors, json_t **outs,
			  struct cairn_err *err)
{
	json_t *byid = NULL, *g;
	size_t i;

	for (i = 0; i < n; i++)
		outs[i] = NULL;
	if (nat_describe_ids(ctxs, n, ids, &byid, err) != 0)
		return -1;
	for (i = 0; i < n; i++) {
		g = json_object_get(byid, ids[i]);
		/* "deleting" still exists (and still costs); "deleted" and
		 * "failed" are gone for good */
		if (g && strcmp(ec2_str(g, "State"), "deleted") != 0 &&
		    strcmp(ec2_str(g, "State"), "failed") != 0)
			outs[i] = nat_attrs(g);
	}
	json_decref(byid);
	return 0;
}

static int nat_read(const struct provider_ctx *ctx, const char *id, json_t *prior, json_t **out,
		    struct cairn_err *err)
{
	return nat_read_batch(&ctx, 1, &id, &prior, out, err);
}

static int nat_describe(const struct provider_ctx *ctx, const char *id, json_t **item,
			struct cairn_err *err)
{
	json_t *byid = NULL;

	*item = NULL;
	if (nat_describe_ids(&ctx, 1, &id, &byid, err) != 0)
		return -1;
	*item = json_incref(json_object_get(byid, id));
	json_decref(byid);
	return 0;
}

static int nat_create(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
		      struct cairn_err *err)
{
	/* a subnet or address created moments ago may not be visible yet */
	static const char *const codes[] = {"InvalidSubnetID.NotFound",
					    "InvalidAllocationID.NotFound", NULL};
	json_t *in = json_pack("{s:s,s:s,s:o}", "SubnetId", ec2_str(attrs, "subnet_id"),
			       "ConnectivityType", ec2_str(attrs, "connectivity_type"),
			       "TagSpecifications", ec2_tag_specs(ctx, "natgateway",
								  json_object_get(attrs, "tags")));
	json_t *res = NULL;
	struct state_wait w = {nat_describe, NULL, "available", "failed", "FailureMessage",
			       "NAT gateway"};
	char *id = NULL;
	int rc = -1;

	*out = NULL;
	put_str(in, "AllocationId", attrs, "allocation_id");
	put_str(in, "PrivateIpAddress", attrs, "private_ip");
	if (pcall_retry(ctx, "ec2", "CreateNatGateway", in, &res, codes, EC2_PROPAGATION_MS,
			err) != 0)
		goto out;
	id = xstrdup(ec2_str(json_object_get(res, "NatGateway"), "NatGatewayId"));
	w.id = id;
	rc = created(nat_read_batch, ctx, id, attrs,
			 wait_state(ctx, &w, "creating the NAT gateway", NAT_TIMEOUT_MS, err) == 0,
			 out, err);
out:
	free(id);
	json_decref(in);
	json_decref(res);
	return rc;
}

/* Only the tags change in place; everything else replaces it. */
static int nat_update(const struct provider_ctx *ctx, const char *id, json_t *old, json_t *want,
		      json_t *changed, json_t **out, struct cairn_err *err)
{
	*out = NULL;
	if (pchanged(changed, "tags") &&
	    ec2_update_tags(ctx, id, json_object_get(old, "tags"), json_object_get(want, "tags"),
			    err) != 0)
		return -1;
	if (pread_after(ctx, nat_read, "update", "NAT gateway", id, want, out, err) != 0)
		return -1;
	return 0;
}

/* Deletes and waits until it is "deleted", when it has let go of its
 * address and network interface (which the subnet's delete needs). */
static int nat_delete(const struct provider_ctx *ctx, const char *id, json_t *attrs,
		      struct cairn_err *err)
{
	json_t *in = json_pack("{s:s}", "NatGatewayId", id);
	struct state_wait w = {nat_describe, id, NULL, NULL, NULL, "NAT gateway"};
	int rc = pcall_gone(ctx, "ec2", "DeleteNatGateway", in, "NatGatewayNotFound", err);

	json_decref(in);
	if (rc != 0)
		return -1;
	return wait_state(ctx, &w, "deleting the NAT gateway", NAT_TIMEOUT_MS, err);
}

static int nat_find(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
		    struct cairn_err *err)
{
	static const char *const dead[] = {"deleting", "deleted", "failed", NULL};
	struct state_wait w = {nat_describe, NULL, "available", "failed", "FailureMessage",
			       "NAT gateway"};
	char *id = NULL;
	int rc = -1;

	*out = NULL;
	if (find_live(ctx, "DescribeNatGateways", "Filter", "NatGateways", "NatGatewayId", dead, &id,
		      err) != 0)
		return -1;
	if (!id)
		return 0;
	/* adopted while still pending: it is usable once available */
	w.id = id;
	if (wait_state(ctx, &w, "creating the NAT gateway", NAT_TIMEOUT_MS, err) == 0)
		rc = nat_read(ctx, id, attrs, out, err);
	free(id);
	return rc;
}

const struct resource_ops aws_nat_gateway_ops = {
	.type = "aws_nat_gateway",
	.create = nat_create,
	.read = nat_read,
	.read_batch = nat_read_batch,
	.update = nat_update,
	.delete = nat_delete,
	.find = nat_find,
};

/* ---- aws_vpc_endpoint ---- */

/* DescribeVpcEndpoints of ids[0, n) into byid (id -> item). */
static int vpce_describe_ids(const struct provider_ctx *const *ctxs, size_t n,
			     const char *const *ids, json_t *byid, struct cairn_err *err)
{
	json_t *list = json_array(), *in, *items = NULL, *item;
	size_t i;
	int rc = -1;

	for (i = 0; i < n; i++)
		json_array_append_new(list, json_string(ids[i]));
	in = json_pack("{s:o}", "VpcEndpointIds", list);
	if (aws_call_all(ctxs[0]->aws, "ec2", "DescribeVpcEndpoints", in, "VpcEndpoints", &items,
			 err) != 0) {
		/* one id gone fails the whole call: ask one by one */
		if (n > 1 && perr_is(err, "InvalidVpcEndpointId.NotFound")) {
			err_clear(err);
			for (i = 0; i < n; i++)
				if (vpce_describe_ids(ctxs + i, 1, ids + i, byid, err) != 0)
					goto out;
			rc = 0;
		} else if (n == 1 && perr_is(err, "InvalidVpcEndpointId.NotFound")) {
			err_clear(err);
			rc = 0;
		} else {
			err_prefix(err, "DescribeVpcEndpoints on %s", ctxs[0]->name);
		}
		goto out;
	}
	json_array_foreach(items, i, item)
		if (pstr(item, "VpcEndpointId"))
			json_object_set(byid, pstr(item, "VpcEndpointId"), item);
	rc = 0;
out:
	json_decref(in);
	json_decref(items);
	return rc;
}

static json_t *vpce_attrs(const struct provider_ctx *ctx, json_t *e, json_t *prior)
{
	json_t *o = json_object(), *dns = json_array(), *d, *policy = NULL;
	const char *doc = ec2_str(e, "PolicyDocument");
	size_t i;

	json_object_set_new(o, "id", json_string(ec2_str(e, "VpcEndpointId")));
	json_object_set_new(o, "vpc_id", json_string(ec2_str(e, "VpcId")));
	json_object_set_new(o, "service_name", json_string(ec2_str(e, "ServiceName")));
	/* AWS leaves the type out of old gateway endpoints' items */
	json_object_set_new(o, "vpc_endpoint_type",
			    json_string(*ec2_str(e, "VpcEndpointType") ?
					ec2_str(e, "VpcEndpointType") : "Gateway"));
	json_object_set_new(o, "state", json_string(ec2_str(e, "State")));
	json_object_set_new(o, "route_table_ids",
			    porder_take(pstr_list(json_object_get(e, "RouteTableIds"), NULL),
					json_object_get(prior, "route_table_ids")));
	json_object_set_new(o, "subnet_ids",
			    porder_take(pstr_list(json_object_get(e, "SubnetIds"), NULL),
					json_object_get(prior, "subnet_ids")));
	json_object_set_new(o, "security_group_ids",
			    porder_take(pstr_list(json_object_get(e, "Groups"), "GroupId"),
					json_object_get(prior, "security_group_ids")));
	json_object_set_new(o, "network_interface_ids",
			    pstr_list(json_object_get(e, "NetworkInterfaceIds"), NULL));
	json_object_set_new(o, "private_dns_enabled",
			    json_boolean(json_is_true(json_object_get(e, "PrivateDnsEnabled"))));
	if (*doc)
		policy = json_loads(doc, 0, NULL);
	json_object_set_new(o, "policy", policy ? policy : json_null());
	json_array_foreach(json_object_get(e, "DnsEntries"), i, d)
		json_array_append_new(dns, json_pack("{s:s,s:s}", "dns_name", ec2_str(d, "DnsName"),
						     "hosted_zone_id", ec2_str(d, "HostedZoneId")));
	json_object_set_new(o, "dns_entry", dns);
	json_object_set_new(o, "owner_id", json_string(ec2_str(e, "OwnerId")));
	json_object_set_new(o, "requester_managed",
			    json_boolean(json_is_true(json_object_get(e, "RequesterManaged"))));
	json_object_set_new(o, "arn", ec2_arn(ctx, ec2_str(e, "OwnerId"), "vpc-endpoint",
					      ec2_str(e, "VpcEndpointId")));
	json_object_set_new(o, "tags", ec2_item_tags(e));
	return o;
}

static int vpce_read_batch(const struct provider_ctx *const *ctxs, size_t n,
			   const char *const *ids, json_t *const *priors, json_t **outs,
			   struct cairn_err *err)
{
	json_t *byid = json_object(), *e;
	size_t i;
	int rc = -1;

	for (i = 0; i < n; i++)
		outs[i] = NULL;
	if (n && vpce_describe_ids(ctxs, n, ids, byid, err) != 0)
		goto out;
	for (i = 0; i < n; i++) {
		const char *state;

		e = json_object_get(byid, ids[i]);
		state = ec2_str(e, "State");
		if (e && strcasecmp(state, "deleted") != 0 && strcasecmp(state, "failed") != 0 &&
		    strcasecmp(state, "rejected") != 0 && strcasecmp(state, "expired") != 0)
			outs[i] = vpce_attrs(ctxs[i], e, priors[i]);
	}
	rc = 0;
out:
	json_decref(byid);
	return rc;
}

static int vpce_read(const struct provider_ctx *ctx, const char *id, json_t *prior,
		     json_t **out, struct cairn_err *err)
{
	return vpce_read_batch(&ctx, 1, &id, &prior, out, err);
}

static int vpce_describe(const struct provider_ctx *ctx, const char *id, json_t **item,
			 struct cairn_err *err)
{
	json_t *byid = json_object();
	int rc = vpce_describe_ids(&ctx, 1, &id, byid, err);

	*item = json_incref(json_object_get(byid, id));
	json_decref(byid);
	return rc;
}

/* Sets in[name] to the strings of want[key] when it has any. */
static void put_list(json_t *in, const char *name, json_t *want, const char *key)
{
	json_t *v = json_object_get(want, key);

	if (json_array_size(v))
		json_object_set(in, name, v);
}

/* The policy as the string AWS takes, or NULL (new string, caller frees). */
static char *policy_text(json_t *want)
{
	json_t *p = json_object_get(want, "policy");

	if (!p || json_is_null(p))
		return NULL;
	if (json_is_string(p))
		return xstrdup(json_string_value(p));
	return json_dumps(p, JSON_COMPACT | JSON_SORT_KEYS);
}

static int vpce_ready(const struct provider_ctx *ctx, const char *id, const char *doing,
		      struct cairn_err *err)
{
	struct state_wait w = {vpce_describe, id, "available", "failed", NULL, "VPC endpoint"};

	return wait_state(ctx, &w, doing, VPCE_TIMEOUT_MS, err);
}

static int vpce_create(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
		       struct cairn_err *err)
{
	static const char *const codes[] = {"InvalidVpcID.NotFound", "InvalidRouteTableId.NotFound",
					    "InvalidSubnetID.NotFound", "InvalidGroup.NotFound",
					    NULL};
	const char *type = ec2_str(attrs, "vpc_endpoint_type");
	json_t *in = json_pack("{s:s,s:s,s:s,s:o}", "VpcId", ec2_str(attrs, "vpc_id"),
			       "ServiceName", ec2_str(attrs, "service_name"),
			       "VpcEndpointType", type,
			       "TagSpecifications", ec2_tag_specs(ctx, "vpc-endpoint",
								  json_object_get(attrs, "tags")));
	json_t *res = NULL, *dns = json_object_get(attrs, "private_dns_enabled");
	char *policy = policy_text(attrs), *id = NULL;
	int rc = -1;

	*out = NULL;
	put_list(in, "RouteTableIds", attrs, "route_table_ids");
	put_list(in, "SubnetIds", attrs, "subnet_ids");
	put_list(in, "SecurityGroupIds", attrs, "security_group_ids");
	if (policy)
		json_object_set_new(in, "PolicyDocument", json_string(policy));
	/* AWS takes private DNS for interface endpoints only */
	if (json_is_boolean(dns) && strcmp(type, "Interface") == 0)
		json_object_set(in, "PrivateDnsEnabled", dns);
	if (pcall_retry(ctx, "ec2", "CreateVpcEndpoint", in, &res, codes, EC2_PROPAGATION_MS,
			err) != 0)
		goto out;
	id = xstrdup(ec2_str(json_object_get(res, "VpcEndpoint"), "VpcEndpointId"));
	rc = created(vpce_read_batch, ctx, id, attrs,
			 vpce_ready(ctx, id, "creating the VPC endpoint", err) == 0, out, err);
out:
	free(policy);
	free(id);
	json_decref(in);
	json_decref(res);
	return rc;
}

/* Adds to in the Add<name>/Remove<name> lists that turn old[key] into want[key]. */
static void set_delta(json_t *in, const char *name, json_t *old, json_t *want, const char *key)
{
	json_t *from = json_object_get(old, key), *to = json_object_get(want, key);
	json_t *add = json_array(), *rm = json_array(), *v;
	char *k;
	size_t i;

	json_array_foreach(to, i, v)
		if (!json_array_has_str(from, json_string_value(v)))
			json_array_append(add, v);
	json_array_foreach(from, i, v)
		if (!json_array_has_str(to, json_string_value(v)))
			json_array_append(rm, v);
	k = xasprintf("Add%s", name);
	if (json_array_size(add))
		json_object_set(in, k, add);
	free(k);
	k = xasprintf("Remove%s", name);
	if (json_array_size(rm))
		json_object_set(in, k, rm);
	free(k);
	json_decref(add);
	json_decref(rm);
}

static int vpce_update(const struct provider_ctx *ctx, const char *id, json_t *old, json_t *want,
		       json_t *changed, json_t **out, struct cairn_err *err)
{
	json_t *in = json_pack("{s:s}", "VpcEndpointId", id);
	char *policy = NULL;
	int rc = -1;

	*out = NULL;
	set_delta(in, "RouteTableIds", old, want, "route_table_ids");
	set_delta(in, "SubnetIds", old, want, "subnet_ids");
	set_delta(in, "SecurityGroupIds", old, want, "security_group_ids");
	if (pchanged(changed, "policy")) {
		policy = policy_text(want);
		if (policy)
			json_object_set_new(in, "PolicyDocument", json_string(policy));
		else
			json_object_set_new(in, "ResetPolicy", json_true());
	}
	if (pchanged(changed, "private_dns_enabled"))
		json_object_set(in, "PrivateDnsEnabled", json_object_get(want, "private_dns_enabled"));
	if (json_object_size(in) > 1 && (pcall_void(ctx, "ec2", "ModifyVpcEndpoint", in, err) != 0 ||
					 vpce_ready(ctx, id, "modifying the VPC endpoint", err) != 0))
		goto out;
	if (pchanged(changed, "tags") &&
	    ec2_update_tags(ctx, id, json_object_get(old, "tags"), json_object_get(want, "tags"),
			    err) != 0)
		goto out;
	if (pread_after(ctx, vpce_read, "update", "VPC endpoint", id, want, out, err) != 0)
		goto out;
	rc = 0;
out:
	free(policy);
	json_decref(in);
	return rc;
}

/* DeleteVpcEndpoints answers failures per id in Unsuccessful, not as an
 * error; a NotFound there means it is already gone. */
static int vpce_delete(const struct provider_ctx *ctx, const char *id, json_t *attrs,
		       struct cairn_err *err)
{
	json_t *in = json_pack("{s:[s]}", "VpcEndpointIds", id), *res = NULL, *bad;
	struct state_wait w = {vpce_describe, id, NULL, NULL, NULL, "VPC endpoint"};
	int rc = -1;

	if (pcall(ctx, "ec2", "DeleteVpcEndpoints", in, &res, err) != 0) {
		if (!perr_is(err, "InvalidVpcEndpointId.NotFound"))
			goto out;
		err_clear(err);
		rc = 0;
		goto out;
	}
	bad = json_object_get(json_object_get(json_array_get(json_object_get(res, "Unsuccessful"), 0),
					      "Error"), "Code");
	if (bad && strcmp(json_string_value(bad) ? json_string_value(bad) : "",
			  "InvalidVpcEndpointId.NotFound") != 0) {
		err_set(err, CAIRN_EAWS, "DeleteVpcEndpoints on %s: %s: %s", ctx->name,
			json_string_value(bad),
			ec2_str(json_object_get(json_array_get(json_object_get(res, "Unsuccessful"),
							       0), "Error"), "Message"));
		goto out;
	}
	rc = wait_state(ctx, &w, "deleting the VPC endpoint", VPCE_TIMEOUT_MS, err);
out:
	json_decref(in);
	json_decref(res);
	return rc;
}

static int vpce_find(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
		     struct cairn_err *err)
{
	static const char *const dead[] = {"deleting", "deleted", "failed", "rejected", "expired",
					   NULL};
	char *id = NULL;
	int rc = -1;

	*out = NULL;
	if (find_live(ctx, "DescribeVpcEndpoints", "Filters", "VpcEndpoints", "VpcEndpointId", dead, &id,
		      err) != 0)
		return -1;
	if (!id)
		return 0;
	if (vpce_ready(ctx, id, "creating the VPC endpoint", err) == 0)
		rc = vpce_read(ctx, id, attrs, out, err);
	free(id);
	return rc;
}

const struct resource_ops aws_vpc_endpoint_ops = {
	.type = "aws_vpc_endpoint",
	.create = vpce_create,
	.read = vpce_read,
	.read_batch = vpce_read_batch,
	.update = vpce_update,
	.delete = vpce_delete,
	.find = vpce_find,
};
