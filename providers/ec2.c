/*
 * ec2: the networking family's shared helpers (ec2.h) and the aws_vpc,
 * aws_subnet and aws_internet_gateway resource types. Route tables live
 * in ec2_route.c, security groups in ec2_sg.c.
 *
 * Reads describe by filter ("vpc-id", "subnet-id", ...) rather than by the
 * id list parameters, because EC2 fails a whole DescribeVpcs call with
 * InvalidVpcID.NotFound when one of the listed ids is gone; a filter just
 * leaves it out. EC2 reports no ARN for VPCs and internet gateways: it is
 * built from the region and the owner, as Terraform does.
 */
#include <stdlib.h>
#include <string.h>

#include "ec2.h"

#define EC2_POLL_MS 1000L
#define EC2_POLL_MAX_MS 10000L
#define EC2_FILTER_MAX 100         /* values per filter AWS accepts in one call, kept low */
#define VPC_TIMEOUT_MS (5L * 60 * 1000)
#define SUBNET_DELETE_TIMEOUT_MS (20L * 60 * 1000)
#define IGW_TIMEOUT_MS (5L * 60 * 1000)

/* ---- shared helpers (ec2.h) ---- */

const char *ec2_str(json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s ? s : "";
}

json_t *ec2_tag_specs(const struct provider_ctx *ctx, const char *rtype, json_t *user_tags)
{
	json_t *tags = ptags_with_owner(ctx, user_tags);
	json_t *spec = json_pack("[{s:s,s:o}]", "ResourceType", rtype,
				 "Tags", ptags_to_list(tags, "Key", "Value"));

	json_decref(tags);
	return spec;
}

json_t *ec2_item_tags(json_t *item)
{
	return ptags_from_list(json_object_get(item, "Tags"), "Key", "Value");
}

void ec2_set_created_tags(json_t *out, json_t *want)
{
	json_t *tags = json_object_get(want, "tags");

	json_object_set_new(out, "tags", json_is_object(tags) ? json_deep_copy(tags) :
			    json_object());
}

int ec2_update_tags(const struct provider_ctx *ctx, const char *id, json_t *old, json_t *want,
		    struct cairn_err *err)
{
	json_t *gone = json_array(), *set = json_object(), *v, *in = NULL;
	const char *k;
	int rc = -1;

	if (json_is_object(old))
		json_object_foreach(old, k, v)
			if (!json_object_get(want, k) && strcmp(k, OWNER_TAG_STACK) != 0 &&
			    strcmp(k, OWNER_TAG_RESOURCE) != 0)
				json_array_append_new(gone, json_pack("{s:s}", "Key", k));
	if (json_is_object(want))
		json_object_foreach(want, k, v)
			if (!json_equal(v, json_object_get(old, k)))
				json_object_set(set, k, v);
	if (json_array_size(gone)) {
		in = json_pack("{s:[s],s:O}", "Resources", id, "Tags", gone);
		if (pcall_void(ctx, "ec2", "DeleteTags", in, err) != 0)
			goto out;
		json_decref(in);
		in = NULL;
	}
	if (json_object_size(set)) {
		in = json_pack("{s:[s],s:o}", "Resources", id, "Tags",
			       ptags_to_list(set, "Key", "Value"));
		if (pcall_void(ctx, "ec2", "CreateTags", in, err) != 0)
			goto out;
	}
	rc = 0;
out:
	json_decref(in);
	json_decref(gone);
	json_decref(set);
	return rc;
}

json_t *ec2_arn(const struct provider_ctx *ctx, const char *owner, const char *kind,
		const char *id)
{
	const char *region = aws_client_region(ctx->aws);
	const char *partition = "aws";
	char *s;
	json_t *v;

	if (strncmp(region, "cn-", 3) == 0)
		partition = "aws-cn";
	else if (strncmp(region, "us-gov-", 7) == 0)
		partition = "aws-us-gov";
	s = xasprintf("arn:%s:ec2:%s:%s:%s/%s", partition, region, owner, kind, id);
	v = json_string(s);
	free(s);
	return v;
}

int ec2_is_notfound(const struct cairn_err *err)
{
	size_t n = strlen(err->remote.code);

	return err->code == CAIRN_EAWS && n >= 8 && strcmp(err->remote.code + n - 8, "NotFound") == 0;
}

int ec2_delete_call(const struct provider_ctx *ctx, const char *op, json_t *input,
		    long timeout_ms, struct cairn_err *err)
{
	static const char *const codes[] = {"DependencyViolation", NULL};
	int rc = pcall_retry(ctx, "ec2", op, input, NULL, codes, timeout_ms, err);

	if (rc != 0 && ec2_is_notfound(err)) {
		err_clear(err);
		rc = 0;
	}
	json_decref(input);
	return rc;
}

/* "a, b, c" of the resource names, for the message of a batch call. */
static void prefix_names(struct cairn_err *err, const char *op,
			 const struct provider_ctx *const *ctxs, size_t n)
{
	struct strbuf sb;
	size_t i;

	strbuf_init(&sb);
	for (i = 0; i < n; i++)
		strbuf_addf(&sb, "%s%s", i ? ", " : "", ctxs[i]->name);
	err_prefix(err, "%s on %s", op, sb.buf);
	strbuf_free(&sb);
}

int ec2_describe_ids(const struct provider_ctx *const *ctxs, size_t n, const char *const *ids,
		     const char *op, const char *result_key, const char *filter,
		     const char *id_key, json_t *extra, json_t **byid, struct cairn_err *err)
{
	size_t start, i;
	int rc = -1;

	*byid = json_object();
	for (start = 0; start < n; start += EC2_FILTER_MAX) {
		size_t end = start + EC2_FILTER_MAX < n ? start + EC2_FILTER_MAX : n;
		json_t *values = json_array(), *filters, *in, *items = NULL, *item;

		for (i = start; i < end; i++)
			json_array_append_new(values, json_string(ids[i]));
		filters = json_pack("[{s:s,s:o}]", "Name", filter, "Values", values);
		if (json_is_array(extra))
			json_array_extend(filters, extra);
		in = json_pack("{s:o}", "Filters", filters);
		if (aws_call_all(ctxs[0]->aws, "ec2", op, in, result_key, &items, err) != 0) {
			json_decref(in);
			prefix_names(err, op, ctxs + start, end - start);
			goto out;
		}
		json_decref(in);
		json_array_foreach(items, i, item) {
			const char *id = json_string_value(json_object_get(item, id_key));

			if (id)
				json_object_set(*byid, id, item);
		}
		json_decref(items);
	}
	rc = 0;
out:
	if (rc != 0) {
		json_decref(*byid);
		*byid = NULL;
	}
	return rc;
}

int ec2_find_owned(const struct provider_ctx *ctx, const char *op, const char *result_key,
		   const char *id_key, char **id, struct cairn_err *err)
{
	char *tagval = ptag_resource_value(ctx->name);
	json_t *in = json_pack("{s:[{s:s,s:[s]},{s:s,s:[s]}]}", "Filters",
			       "Name", "tag:" OWNER_TAG_STACK, "Values", ctx->stack,
			       "Name", "tag:" OWNER_TAG_RESOURCE, "Values", tagval);
	json_t *items = NULL, *item;
	size_t i;
	int rc = -1;

	*id = NULL;
	if (aws_call_all(ctx->aws, "ec2", op, in, result_key, &items, err) != 0) {
		err_prefix(err, "%s on %s", op, ctx->name);
		goto out;
	}
	json_array_foreach(items, i, item) {
		const char *s = json_string_value(json_object_get(item, id_key));

		if (s && ptags_owned_by(json_object_get(item, "Tags"), "Key", "Value", ctx)) {
			*id = xstrdup(s);
			break;
		}
	}
	rc = 0;
out:
	json_decref(in);
	free(tagval);
	json_decref(items);
	return rc;
}

struct state_poll {
	const char *op, *result_key, *filter, *id_key, *id, *state;
};

static int state_poll(const struct provider_ctx *ctx, void *arg, char *status, size_t status_len,
		      struct cairn_err *err)
{
	struct state_poll *w = arg;
	json_t *byid = NULL;
	int done;

	if (ec2_describe_ids(&ctx, 1, &w->id, w->op, w->result_key, w->filter, w->id_key, NULL,
			     &byid, err) != 0)
		return -1;
	snprintf(status, status_len, "%s", ec2_str(json_object_get(byid, w->id), "State"));
	done = strcmp(status, w->state) == 0;
	json_decref(byid);
	return done;
}

int ec2_wait_state(const struct provider_ctx *ctx, const char *op, const char *result_key,
		   const char *filter, const char *id_key, const char *id, const char *state,
		   long timeout_ms, struct cairn_err *err)
{
	struct state_poll w = {op, result_key, filter, id_key, id, state};
	char what[128];
	struct pwait_spec spec = {what, EC2_POLL_MS, EC2_POLL_MAX_MS, timeout_ms};

	snprintf(what, sizeof(what), "waiting for %s to become %s", id, state);
	return pwait_until(ctx, &spec, state_poll, &w, err);
}

int ec2_read_one(ec2_batch_fn batch, const struct provider_ctx *ctx, const char *id,
		 json_t *prior, json_t **out, struct cairn_err *err)
{
	return batch(&ctx, 1, &id, &prior, out, err);
}

struct shows_poll {
	ec2_batch_fn batch;
	const char *id;
	json_t *want, **out;
};

static int shows_poll(const struct provider_ctx *ctx, void *arg, char *status, size_t status_len,
		      struct cairn_err *err)
{
	struct shows_poll *w = arg;

	if (ec2_read_one(w->batch, ctx, w->id, w->want, w->out, err) != 0)
		return -1;
	snprintf(status, status_len, "not visible yet");
	return *w->out != NULL;
}

int ec2_created(ec2_batch_fn batch, const struct provider_ctx *ctx, const char *id,
		json_t *want, int ok, json_t **out, struct cairn_err *err)
{
	struct shows_poll w = {batch, id, want, out};
	char what[128];
	struct pwait_spec spec = {what, EC2_POLL_MS, EC2_POLL_MAX_MS, EC2_PROPAGATION_MS};

	*out = NULL;
	/* A filter may not see what was just created for a moment. */
	snprintf(what, sizeof(what), "waiting for %s to show", id);
	if (ok && pwait_until(ctx, &spec, shows_poll, &w, err) == 0)
		return 0;
	return pcreated_partial(out, id, NULL);
}

int ec2_bool(json_t *obj, const char *key, int dflt)
{
	json_t *v = json_object_get(obj, key);

	return json_is_boolean(v) ? json_is_true(v) : dflt;
}

/* ---- aws_vpc ---- */

static const char *const vpc_gone_codes[] = {"InvalidVpcID.NotFound", NULL};

static int vpc_set_attr(const struct provider_ctx *ctx, const char *id, const char *attr,
			int value, struct cairn_err *err)
{
	json_t *in = json_pack("{s:s,s:{s:b}}", "VpcId", id, attr, "Value", value);
	int rc = pcall_retry(ctx, "ec2", "ModifyVpcAttribute", in, NULL, vpc_gone_codes,
				EC2_PROPAGATION_MS, err);

	json_decref(in);
	return rc;
}

/* enableDnsHostnames needs enableDnsSupport: turn support on first, off last. */
static int vpc_set_dns(const struct provider_ctx *ctx, const char *id, json_t *old, json_t *want,
		       struct cairn_err *err)
{
	int support = ec2_bool(want, "enable_dns_support", 1);
	int hostnames = ec2_bool(want, "enable_dns_hostnames", 0);
	int support_changes = ec2_bool(old, "enable_dns_support", 1) != support;
	int hostnames_change = ec2_bool(old, "enable_dns_hostnames", 0) != hostnames;

	if (support && support_changes &&
	    vpc_set_attr(ctx, id, "EnableDnsSupport", 1, err) != 0)
		return -1;
	if (hostnames_change && vpc_set_attr(ctx, id, "EnableDnsHostnames", hostnames, err) != 0)
		return -1;
	if (!support && support_changes &&
	    vpc_set_attr(ctx, id, "EnableDnsSupport", 0, err) != 0)
		return -1;
	return 0;
}

static int vpc_get_attr(const struct provider_ctx *ctx, const char *id, const char *attr,
			const char *member, int *value, int *gone, struct cairn_err *err)
{
	json_t *in = json_pack("{s:s,s:s}", "VpcId", id, "Attribute", attr), *res = NULL;
	int rc = -1;

	if (pcall(ctx, "ec2", "DescribeVpcAttribute", in, &res, err) != 0) {
		if (ec2_is_notfound(err)) {
			err_clear(err);
			*gone = 1;
			rc = 0;
		}
		goto out;
	}
	*value = json_is_true(json_object_get(json_object_get(res, member), "Value"));
	rc = 0;
out:
	json_decref(in);
	json_decref(res);
	return rc;
}

/* Attributes of a VPC as EC2 describes it (vpc, borrowed), with its DNS
 * settings, main route table and default group: new object. */
static json_t *vpc_attrs(const struct provider_ctx *ctx, json_t *vpc, int support, int hostnames,
			 json_t *main_rtb, json_t *default_sg)
{
	const char *owner = ec2_str(vpc, "OwnerId"), *id = ec2_str(vpc, "VpcId");
	json_t *a = json_object();

	json_object_set_new(a, "id", json_string(id));
	json_object_set_new(a, "cidr_block", json_string(ec2_str(vpc, "CidrBlock")));
	json_object_set_new(a, "instance_tenancy", json_string(ec2_str(vpc, "InstanceTenancy")));
	json_object_set_new(a, "enable_dns_support", json_boolean(support));
	json_object_set_new(a, "enable_dns_hostnames", json_boolean(hostnames));
	json_object_set_new(a, "tags", ec2_item_tags(vpc));
	json_object_set_new(a, "arn", ec2_arn(ctx, owner, "vpc", id));
	json_object_set_new(a, "owner_id", json_string(owner));
	json_object_set_new(a, "main_route_table_id",
			    json_string(ec2_str(main_rtb, "RouteTableId")));
	json_object_set_new(a, "default_security_group_id",
			    json_string(ec2_str(default_sg, "GroupId")));
	return a;
}

/* The main route tables and default groups of VPCs ids[0, n): new objects
 * VPC id -> item. */
static int vpc_parts(const struct provider_ctx *const *ctxs, size_t n, const char *const *ids,
		     json_t **mains, json_t **sgs, struct cairn_err *err)
{
	json_t *is_main = json_pack("[{s:s,s:[s]}]", "Name", "association.main", "Values", "true");
	json_t *is_default = json_pack("[{s:s,s:[s]}]", "Name", "group-name", "Values", "default");
	int rc = -1;

	*sgs = NULL;
	if (ec2_describe_ids(ctxs, n, ids, "DescribeRouteTables", "RouteTables", "vpc-id",
			     "VpcId", is_main, mains, err) != 0)
		goto out;
	if (ec2_describe_ids(ctxs, n, ids, "DescribeSecurityGroups", "SecurityGroups", "vpc-id",
			     "VpcId", is_default, sgs, err) != 0) {
		json_decref(*mains);
		*mains = NULL;
		goto out;
	}
	rc = 0;
out:
	json_decref(is_main);
	json_decref(is_default);
	return rc;
}

static int vpc_read_batch(const struct provider_ctx *const *ctxs, size_t n,
			  const char *const *ids, json_t *const *priors, json_t **outs,
			  struct cairn_err *err)
{
	json_t *vpcs = NULL, *mains = NULL, *sgs = NULL;
	size_t i;
	int rc = -1;

	for (i = 0; i < n; i++)
		outs[i] = NULL;
	if (ec2_describe_ids(ctxs, n, ids, "DescribeVpcs", "Vpcs", "vpc-id", "VpcId", NULL,
			     &vpcs, err) != 0 ||
	    vpc_parts(ctxs, n, ids, &mains, &sgs, err) != 0)
		goto out;
	for (i = 0; i < n; i++) {
		json_t *vpc = json_object_get(vpcs, ids[i]);
		int support = 1, hostnames = 0, gone = 0;

		if (!vpc || strcmp(ec2_str(vpc, "State"), "deleted") == 0)
			continue;
		if (vpc_get_attr(ctxs[i], ids[i], "enableDnsSupport", "EnableDnsSupport",
				 &support, &gone, err) != 0 ||
		    vpc_get_attr(ctxs[i], ids[i], "enableDnsHostnames", "EnableDnsHostnames",
				 &hostnames, &gone, err) != 0)
			goto out;
		if (gone)
			continue;
		outs[i] = vpc_attrs(ctxs[i], vpc, support, hostnames, json_object_get(mains, ids[i]),
				    json_object_get(sgs, ids[i]));
	}
	rc = 0;
out:
	if (rc != 0)
		pouts_clear(outs, n);
	json_decref(vpcs);
	json_decref(mains);
	json_decref(sgs);
	return rc;
}

static int vpc_read(const struct provider_ctx *ctx, const char *id, json_t *prior,
		    json_t **out, struct cairn_err *err)
{
	return ec2_read_one(vpc_read_batch, ctx, id, prior, out, err);
}

static int vpc_create(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
		      struct cairn_err *err)
{
	json_t *in, *res = NULL, *vpc, *mains = NULL, *sgs = NULL;
	const char *id;
	int ok = 0, rc;

	*out = NULL;
	in = json_pack("{s:s,s:s,s:o}", "CidrBlock", ec2_str(attrs, "cidr_block"),
		       "InstanceTenancy", *ec2_str(attrs, "instance_tenancy") ?
		       ec2_str(attrs, "instance_tenancy") : "default",
		       "TagSpecifications",
		       ec2_tag_specs(ctx, "vpc", json_object_get(attrs, "tags")));
	rc = pcall(ctx, "ec2", "CreateVpc", in, &res, err);
	json_decref(in);
	if (rc != 0)
		return -1;
	/* The answer describes the VPC; the DNS settings are what was just
	 * set; only the main route table and default group are read. */
	vpc = json_object_get(res, "Vpc");
	id = ec2_str(vpc, "VpcId");
	ok = (strcmp(ec2_str(vpc, "State"), "available") == 0 ||
	      ec2_wait_state(ctx, "DescribeVpcs", "Vpcs", "vpc-id", "VpcId", id, "available",
			     VPC_TIMEOUT_MS, err) == 0) &&
	     vpc_set_dns(ctx, id, NULL, attrs, err) == 0 &&
	     vpc_parts(&ctx, 1, &id, &mains, &sgs, err) == 0;
	if (ok && json_object_get(mains, id) && json_object_get(sgs, id)) {
		*out = vpc_attrs(ctx, vpc, ec2_bool(attrs, "enable_dns_support", 1),
				 ec2_bool(attrs, "enable_dns_hostnames", 0),
				 json_object_get(mains, id), json_object_get(sgs, id));
		ec2_set_created_tags(*out, attrs);
		rc = 0;
	} else {
		/* Not all visible yet: read back until it is. */
		char *vid = xstrdup(id);

		rc = ec2_created(vpc_read_batch, ctx, vid, attrs, ok, out, err);
		free(vid);
	}
	json_decref(mains);
	json_decref(sgs);
	json_decref(res);
	return rc;
}

static int vpc_update(const struct provider_ctx *ctx, const char *id, json_t *old, json_t *want,
		      json_t *changed, json_t **out, struct cairn_err *err)
{
	*out = NULL;
	if (pchanged(changed, "instance_tenancy")) {
		json_t *in = json_pack("{s:s,s:s}", "VpcId", id, "InstanceTenancy",
				       ec2_str(want, "instance_tenancy"));
		int rc = pcall_void(ctx, "ec2", "ModifyVpcTenancy", in, err);

		json_decref(in);
		if (rc != 0)
			return -1;
	}
	if (vpc_set_dns(ctx, id, old, want, err) != 0)
		return -1;
	if (pchanged(changed, "tags") &&
	    ec2_update_tags(ctx, id, json_object_get(old, "tags"), json_object_get(want, "tags"),
			    err) != 0)
		return -1;
	if (vpc_read(ctx, id, want, out, err) != 0)
		return -1;
	if (!*out) {
		err_set(err, CAIRN_ENOTFOUND, "update of %s: VPC %s disappeared", ctx->name, id);
		return -1;
	}
	return 0;
}

static int vpc_delete(const struct provider_ctx *ctx, const char *id, json_t *attrs,
		      struct cairn_err *err)
{
	return ec2_delete_call(ctx, "DeleteVpc", json_pack("{s:s}", "VpcId", id),
			       VPC_TIMEOUT_MS, err);
}


static int vpc_find(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
		    struct cairn_err *err)
{
	char *id = NULL;
	int rc;

	*out = NULL;
	if (ec2_find_owned(ctx, "DescribeVpcs", "Vpcs", "VpcId", &id, err) != 0)
		return -1;
	rc = id ? vpc_read(ctx, id, attrs, out, err) : 0;
	free(id);
	return rc;
}

const struct resource_ops aws_vpc_ops = {
	.type = "aws_vpc",
	.create = vpc_create,
	.read = vpc_read,
	.read_batch = vpc_read_batch,
	.update = vpc_update,
	.delete = vpc_delete,
	.find = vpc_find,
};

/* ---- aws_subnet ---- */

/* Attributes of a subnet as EC2 describes it (s, borrowed): new object. */
static json_t *subnet_attrs(const struct provider_ctx *ctx, json_t *s)
{
	const char *owner = ec2_str(s, "OwnerId"), *id = ec2_str(s, "SubnetId");
	json_t *a = json_object();

	json_object_set_new(a, "id", json_string(id));
	json_object_set_new(a, "vpc_id", json_string(ec2_str(s, "VpcId")));
	json_object_set_new(a, "cidr_block", json_string(ec2_str(s, "CidrBlock")));
	json_object_set_new(a, "availability_zone", json_string(ec2_str(s, "AvailabilityZone")));
	json_object_set_new(a, "map_public_ip_on_launch",
			    json_boolean(json_is_true(json_object_get(s, "MapPublicIpOnLaunch"))));
	json_object_set_new(a, "tags", ec2_item_tags(s));
	json_object_set_new(a, "arn", *ec2_str(s, "SubnetArn") ?
			    json_string(ec2_str(s, "SubnetArn")) : ec2_arn(ctx, owner, "subnet", id));
	json_object_set_new(a, "owner_id", json_string(owner));
	return a;
}

static int subnet_read_batch(const struct provider_ctx *const *ctxs, size_t n,
			     const char *const *ids, json_t *const *priors, json_t **outs,
			     struct cairn_err *err)
{
	json_t *subnets = NULL;
	size_t i;

	for (i = 0; i < n; i++)
		outs[i] = NULL;
	if (ec2_describe_ids(ctxs, n, ids, "DescribeSubnets", "Subnets", "subnet-id",
			     "SubnetId", NULL, &subnets, err) != 0)
		return -1;
	for (i = 0; i < n; i++)
		if (json_object_get(subnets, ids[i]))
			outs[i] = subnet_attrs(ctxs[i], json_object_get(subnets, ids[i]));
	json_decref(subnets);
	return 0;
}

static int subnet_read(const struct provider_ctx *ctx, const char *id, json_t *prior,
		       json_t **out, struct cairn_err *err)
{
	return ec2_read_one(subnet_read_batch, ctx, id, prior, out, err);
}

static int subnet_set_public_ip(const struct provider_ctx *ctx, const char *id, int value,
				struct cairn_err *err)
{
	static const char *const codes[] = {"InvalidSubnetID.NotFound", NULL};
	json_t *in = json_pack("{s:s,s:{s:b}}", "SubnetId", id, "MapPublicIpOnLaunch",
			       "Value", value);
	int rc = pcall_retry(ctx, "ec2", "ModifySubnetAttribute", in, NULL, codes,
				EC2_PROPAGATION_MS, err);

	json_decref(in);
	return rc;
}

static int subnet_create(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
			 struct cairn_err *err)
{
	json_t *in, *res = NULL, *sub;
	const char *id;
	int ok, rc;

	*out = NULL;
	in = json_pack("{s:s,s:s,s:o}", "VpcId", ec2_str(attrs, "vpc_id"),
		       "CidrBlock", ec2_str(attrs, "cidr_block"), "TagSpecifications",
		       ec2_tag_specs(ctx, "subnet", json_object_get(attrs, "tags")));
	if (*ec2_str(attrs, "availability_zone"))
		json_object_set_new(in, "AvailabilityZone",
				    json_string(ec2_str(attrs, "availability_zone")));
	rc = pcall_retry(ctx, "ec2", "CreateSubnet", in, &res, vpc_gone_codes, EC2_PROPAGATION_MS,
			    err);
	json_decref(in);
	if (rc != 0)
		return -1;
	/* The answer describes the subnet in full: no read-back. */
	sub = json_object_get(res, "Subnet");
	id = ec2_str(sub, "SubnetId");
	ok = (strcmp(ec2_str(sub, "State"), "available") == 0 ||
	      ec2_wait_state(ctx, "DescribeSubnets", "Subnets", "subnet-id", "SubnetId", id,
			     "available", VPC_TIMEOUT_MS, err) == 0) &&
	     (!ec2_bool(attrs, "map_public_ip_on_launch", 0) ||
	      subnet_set_public_ip(ctx, id, 1, err) == 0);
	if (ok) {
		*out = subnet_attrs(ctx, sub);
		json_object_set_new(*out, "map_public_ip_on_launch",
				    json_boolean(ec2_bool(attrs, "map_public_ip_on_launch", 0)));
		ec2_set_created_tags(*out, attrs);
		rc = 0;
	} else {
		rc = pcreated_partial(out, id, NULL);
	}
	json_decref(res);
	return rc;
}

static int subnet_update(const struct provider_ctx *ctx, const char *id, json_t *old,
			 json_t *want, json_t *changed, json_t **out, struct cairn_err *err)
{
	*out = NULL;
	if (pchanged(changed, "map_public_ip_on_launch") &&
	    subnet_set_public_ip(ctx, id, ec2_bool(want, "map_public_ip_on_launch", 0), err) != 0)
		return -1;
	if (pchanged(changed, "tags") &&
	    ec2_update_tags(ctx, id, json_object_get(old, "tags"), json_object_get(want, "tags"),
			    err) != 0)
		return -1;
	if (subnet_read(ctx, id, want, out, err) != 0)
		return -1;
	if (!*out) {
		err_set(err, CAIRN_ENOTFOUND, "update of %s: subnet %s disappeared", ctx->name, id);
		return -1;
	}
	return 0;
}

/* Network interfaces of deleted load balancers and tasks linger for minutes. */
static int subnet_delete(const struct provider_ctx *ctx, const char *id, json_t *attrs,
			 struct cairn_err *err)
{
	return ec2_delete_call(ctx, "DeleteSubnet", json_pack("{s:s}", "SubnetId", id),
			       SUBNET_DELETE_TIMEOUT_MS, err);
}


static int subnet_find(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
		       struct cairn_err *err)
{
	char *id = NULL;
	int rc;

	*out = NULL;
	if (ec2_find_owned(ctx, "DescribeSubnets", "Subnets", "SubnetId", &id, err) != 0)
		return -1;
	rc = id ? subnet_read(ctx, id, attrs, out, err) : 0;
	free(id);
	return rc;
}

const struct resource_ops aws_subnet_ops = {
	.type = "aws_subnet",
	.create = subnet_create,
	.read = subnet_read,
	.read_batch = subnet_read_batch,
	.update = subnet_update,
	.delete = subnet_delete,
	.find = subnet_find,
};

/* ---- aws_internet_gateway ---- */

/* The VPC an internet gateway is attached to, or "" (borrowed). */
static const char *igw_vpc(json_t *igw)
{
	json_t *att;
	size_t i;

	json_array_foreach(json_object_get(igw, "Attachments"), i, att) {
		const char *state = ec2_str(att, "State");

		/* AWS reports an attached gateway as "available". */
		if (strcmp(state, "available") == 0 || strcmp(state, "attached") == 0 ||
		    strcmp(state, "attaching") == 0)
			return ec2_str(att, "VpcId");
	}
	return "";
}

static int igw_read_batch(const struct provider_ctx *const *ctxs, size_t n,
			  const char *const *ids, json_t *const *priors, json_t **outs,
			  struct cairn_err *err)
{
	json_t *igws = NULL;
	size_t i;

	for (i = 0; i < n; i++)
		outs[i] = NULL;
	if (ec2_describe_ids(ctxs, n, ids, "DescribeInternetGateways", "InternetGateways",
			     "internet-gateway-id", "InternetGatewayId", NULL, &igws, err) != 0)
		return -1;
	for (i = 0; i < n; i++) {
		json_t *g = json_object_get(igws, ids[i]), *a;
		const char *owner = ec2_str(g, "OwnerId");

		if (!g)
			continue;
		a = json_object();
		json_object_set_new(a, "id", json_string(ids[i]));
		/* Detached: no vpc_id at all, which equals a stack leaving it out. */
		if (*igw_vpc(g))
			json_object_set_new(a, "vpc_id", json_string(igw_vpc(g)));
		json_object_set_new(a, "tags", ec2_item_tags(g));
		json_object_set_new(a, "arn", ec2_arn(ctxs[i], owner, "internet-gateway", ids[i]));
		json_object_set_new(a, "owner_id", json_string(owner));
		outs[i] = a;
	}
	json_decref(igws);
	return 0;
}

static int igw_read(const struct provider_ctx *ctx, const char *id, json_t *prior,
		    json_t **out, struct cairn_err *err)
{
	return ec2_read_one(igw_read_batch, ctx, id, prior, out, err);
}

static int igw_attach(const struct provider_ctx *ctx, const char *id, const char *vpc,
		      struct cairn_err *err)
{
	static const char *const codes[] = {"InvalidVpcID.NotFound",
					    "InvalidInternetGatewayID.NotFound", NULL};
	json_t *in = json_pack("{s:s,s:s}", "InternetGatewayId", id, "VpcId", vpc);
	int rc = pcall_retry(ctx, "ec2", "AttachInternetGateway", in, NULL, codes,
				EC2_PROPAGATION_MS, err);

	json_decref(in);
	/* An earlier attach whose answer was lost (or a killed run's) may have
	 * done it: already attached to this VPC is success. */
	if (rc != 0 && perr_is(err, "Resource.AlreadyAssociated")) {
		struct cairn_err e2;
		json_t *byid = NULL, *att;
		size_t i;

		err_clear(&e2);
		if (ec2_describe_ids(&ctx, 1, &id, "DescribeInternetGateways", "InternetGateways",
				     "internet-gateway-id", "InternetGatewayId", NULL, &byid,
				     &e2) == 0)
			json_array_foreach(json_object_get(json_object_get(byid, id), "Attachments"),
					   i, att)
				if (strcmp(ec2_str(att, "VpcId"), vpc) == 0) {
					err_clear(err);
					rc = 0;
				}
		json_decref(byid);
	}
	return rc;
}

/* Detaching fails with DependencyViolation while the VPC still has public
 * addresses mapped (load balancers, NAT gateways going away). */
static int igw_detach(const struct provider_ctx *ctx, const char *id, const char *vpc,
		      struct cairn_err *err)
{
	static const char *const codes[] = {"DependencyViolation", NULL};
	json_t *in = json_pack("{s:s,s:s}", "InternetGatewayId", id, "VpcId", vpc);
	int rc = pcall_retry(ctx, "ec2", "DetachInternetGateway", in, NULL, codes, IGW_TIMEOUT_MS,
				err);

	json_decref(in);
	if (rc != 0 && (perr_is(err, "Gateway.NotAttached") || ec2_is_notfound(err))) {
		err_clear(err);
		rc = 0;
	}
	return rc;
}

static int igw_create(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
		      struct cairn_err *err)
{
	json_t *in, *res = NULL;
	const char *vpc = ec2_str(attrs, "vpc_id");
	char *id;
	int ok, rc;

	*out = NULL;
	in = json_pack("{s:o}", "TagSpecifications",
		       ec2_tag_specs(ctx, "internet-gateway", json_object_get(attrs, "tags")));
	rc = pcall(ctx, "ec2", "CreateInternetGateway", in, &res, err);
	json_decref(in);
	if (rc != 0)
		return -1;
	id = xstrdup(ec2_str(json_object_get(res, "InternetGateway"), "InternetGatewayId"));
	json_decref(res);
	ok = !*vpc || igw_attach(ctx, id, vpc, err) == 0;
	rc = ec2_created(igw_read_batch, ctx, id, attrs, ok, out, err);
	free(id);
	return rc;
}

static int igw_update(const struct provider_ctx *ctx, const char *id, json_t *old, json_t *want,
		      json_t *changed, json_t **out, struct cairn_err *err)
{
	const char *from = ec2_str(old, "vpc_id"), *to = ec2_str(want, "vpc_id");

	*out = NULL;
	if (strcmp(from, to) != 0) {
		if (*from && igw_detach(ctx, id, from, err) != 0)
			return -1;
		if (*to && igw_attach(ctx, id, to, err) != 0)
			return -1;
	}
	if (pchanged(changed, "tags") &&
	    ec2_update_tags(ctx, id, json_object_get(old, "tags"), json_object_get(want, "tags"),
			    err) != 0)
		return -1;
	if (igw_read(ctx, id, want, out, err) != 0)
		return -1;
	if (!*out) {
		err_set(err, CAIRN_ENOTFOUND, "update of %s: internet gateway %s disappeared",
			ctx->name, id);
		return -1;
	}
	return 0;
}

/* Detaches from whatever AWS says it is attached to, then deletes. */
static int igw_delete(const struct provider_ctx *ctx, const char *id, json_t *attrs,
		      struct cairn_err *err)
{
	json_t *byid = NULL, *att;
	size_t i;
	int rc = -1;

	if (ec2_describe_ids(&ctx, 1, &id, "DescribeInternetGateways", "InternetGateways",
			     "internet-gateway-id", "InternetGatewayId", NULL, &byid, err) != 0)
		goto out;
	if (!json_object_get(byid, id)) {
		rc = 0;
		goto out;
	}
	json_array_foreach(json_object_get(json_object_get(byid, id), "Attachments"), i, att)
		if (*ec2_str(att, "VpcId") && igw_detach(ctx, id, ec2_str(att, "VpcId"), err) != 0)
			goto out;
	rc = ec2_delete_call(ctx, "DeleteInternetGateway",
			     json_pack("{s:s}", "InternetGatewayId", id), IGW_TIMEOUT_MS, err);
out:
	json_decref(byid);
	return rc;
}


static int igw_find(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
		    struct cairn_err *err)
{
	char *id = NULL;
	int rc;

	*out = NULL;
	if (ec2_find_owned(ctx, "DescribeInternetGateways", "InternetGateways",
			   "InternetGatewayId", &id, err) != 0)
		return -1;
	rc = id ? igw_read(ctx, id, attrs, out, err) : 0;
	free(id);
	return rc;
}

const struct resource_ops aws_internet_gateway_ops = {
	.type = "aws_internet_gateway",
	.create = igw_create,
	.read = igw_read,
	.read_batch = igw_read_batch,
	.update = igw_update,
	.delete = igw_delete,
	.find = igw_find,
};
