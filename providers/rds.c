/*
 * rds: the aws_db_subnet_group and aws_db_instance resource types (RDS,
 * query protocol).
 *
 * Both take their ownership tags in the create call, and both have a
 * unique name (the group name, the instance identifier), by which find
 * adopts what carries this resource's tags. An instance takes minutes to
 * create, modify and delete on AWS: every wait goes through the shared
 * waiter with progress lines, so the executor keeps other work moving.
 *
 * The master password is sensitive and AWS never reports it: a read
 * keeps the recorded one. With manage_master_user_password RDS keeps it
 * in Secrets Manager itself (master_user_secret). Destroy honours
 * deletion_protection (it refuses, as AWS does, naming the attribute to
 * turn off) and takes a final snapshot unless skip_final_snapshot, as
 * Terraform does. Settings of cairn's own calls (apply_immediately, the
 * final snapshot ones, delete_automated_backups) are not AWS's to report:
 * a read keeps the recorded values.
 *
 * DescribeDBInstances takes up to 100 identifiers in a filter and reports
 * tags inline, so a batch read is one call per 100. Subnet groups are
 * listed in one paginated call; their tags come from ListTagsForResource,
 * one call per group, run concurrently.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "tagdiff.h"

#define SVC "rds"
#define RDS_FILTER_MAX 100
#define DB_CREATE_TIMEOUT_MS (40L * 60 * 1000)
#define DB_UPDATE_TIMEOUT_MS (80L * 60 * 1000)
#define DB_DELETE_TIMEOUT_MS (60L * 60 * 1000)
#define GROUP_DELETE_TIMEOUT_MS (10L * 60 * 1000)

static const struct ptag_api TAG_API = {
	.service = SVC, .untag_op = "RemoveTagsFromResource", .tag_op = "AddTagsToResource",
	.id_member = "ResourceName", .keys_member = "TagKeys", .tags_member = "Tags",
	.key_name = "Key", .value_name = "Value",
};

static const char *const group_gone[] = {"DBSubnetGroupNotFoundFault", NULL};
static const char *const db_gone[] = {"DBInstanceNotFound", "DBInstanceNotFoundFault", NULL};

/*
 * aws_call_all for RDS's describe calls, which page with a bare "Marker"
 * in the answer (no IsTruncated, no NextMarker): every page's result_key
 * items into *items (new array). input is borrowed.
 */
static int rds_describe_all(const struct provider_ctx *ctx, const char *op, json_t *input,
			    const char *result_key, json_t **items, struct cairn_err *err)
{
	json_t *in = json_deep_copy(input), *res = NULL;
	int rc = -1;

	*items = json_array();
	for (;;) {
		const char *marker;

		if (aws_call(ctx->aws, SVC, op, in, &res, err) != 0)
			goto out;
		if (json_is_array(json_object_get(res, result_key)))
			json_array_extend(*items, json_object_get(res, result_key));
		marker = pstr(res, "Marker");
		/* a marker that does not move would loop for ever */
		if (!marker || !*marker || (pstr(in, "Marker") && !strcmp(marker, pstr(in, "Marker"))))
			break;
		json_object_set_new(in, "Marker", json_string(marker));
		json_decref(res);
		res = NULL;
	}
	rc = 0;
out:
	if (rc != 0) {
		json_decref(*items);
		*items = NULL;
	}
	json_decref(res);
	json_decref(in);
	return rc;
}

/* A recorded setting AWS cannot report: prior's value, else dflt (stolen). */
static void keep(json_t *o, json_t *prior, const char *key, json_t *dflt)
{
	json_t *v = json_object_get(prior, key);

	if (v) {
		json_object_set(o, key, v);
		json_decref(dflt);
	} else if (dflt) {
		json_object_set_new(o, key, dflt);
	}
}

struct batch {
	const char *const *ids;
	json_t *const *priors;
	json_t **outs;
	json_t *found;          /* name -> item */
};

/* ---- aws_db_subnet_group ---- */

static json_t *group_attrs(json_t *g, json_t *tags, json_t *prior)
{
	json_t *o = json_object();

	json_object_set_new(o, "id", json_string(pstr_or(json_object_get(g, "DBSubnetGroupName"),
							   "")));
	json_object_set_new(o, "name", json_string(pstr_or(json_object_get(g, "DBSubnetGroupName"),
							     "")));
	json_object_set_new(o, "description",
			    json_string(pstr_or(json_object_get(g, "DBSubnetGroupDescription"),
						"")));
	json_object_set_new(o, "subnet_ids",
			    porder_take(pstr_list(json_object_get(g, "Subnets"), "SubnetIdentifier"),
					json_object_get(prior, "subnet_ids")));
	json_object_set_new(o, "vpc_id", json_string(pstr_or(json_object_get(g, "VpcId"), "")));
	json_object_set_new(o, "arn", json_string(pstr_or(json_object_get(g, "DBSubnetGroupArn"),
							    "")));
	json_object_set_new(o, "tags", ptags_from_list(tags, "Key", "Value"));
	return o;
}

/* The tag list of an RDS resource (new ref), NULL when it is gone. */
static int rds_tags(const struct provider_ctx *ctx, const char *arn, const char *const *gone,
		    json_t **tags, struct cairn_err *err)
{
	json_t *in = json_pack("{s:s}", "ResourceName", arn), *res = NULL;
	int rc = pcall_found(ctx, SVC, "ListTagsForResource", in, gone, &res, err);

	*tags = NULL;
	if (rc == 0 && res)
		*tags = json_is_array(json_object_get(res, "TagList")) ?
			json_incref(json_object_get(res, "TagList")) : json_array();
	json_decref(in);
	json_decref(res);
	return rc;
}

static int group_read_one(const struct provider_ctx *ctx, size_t i, void *arg,
			  struct cairn_err *err)
{
	struct batch *b = arg;
	json_t *g = json_object_get(b->found, b->ids[i]), *tags = NULL;

	if (!g)
		return 0;
	if (rds_tags(ctx, pstr_or(json_object_get(g, "DBSubnetGroupArn"), ""), group_gone, &tags,
		     err) != 0)
		return -1;
	if (tags)
		b->outs[i] = group_attrs(g, tags, b->priors[i]);
	json_decref(tags);
	return 0;
}

/* One group by name, or every group of the region for a batch. */
static int group_read_batch(const struct provider_ctx *const *ctxs, size_t n,
			    const char *const *ids, json_t *const *priors, json_t **outs,
			    struct cairn_err *err)
{
	struct batch b = {ids, priors, outs, json_object()};
	json_t *in = n == 1 ? json_pack("{s:s}", "DBSubnetGroupName", ids[0]) : json_object();
	json_t *items = NULL, *g;
	size_t i;
	int rc = -1;

	for (i = 0; i < n; i++)
		outs[i] = NULL;
	if (n == 0) {
		rc = 0;
		goto out;
	}
	if (rds_describe_all(ctxs[0], "DescribeDBSubnetGroups", in, "DBSubnetGroups", &items,
			     err) != 0) {
		if (n == 1 && perr_is(err, "DBSubnetGroupNotFoundFault")) {
			err_clear(err);
			rc = 0;
		} else {
			err_prefix(err, "DescribeDBSubnetGroups on %s", ctxs[0]->name);
		}
		goto out;
	}
	json_array_foreach(items, i, g)
		if (pstr(g, "DBSubnetGroupName"))
			json_object_set(b.found, pstr(g, "DBSubnetGroupName"), g);
	if (peach(ctxs, n, group_read_one, &b, err) != 0) {
		pouts_clear(outs, n);
		goto out;
	}
	rc = 0;
out:
	json_decref(in);
	json_decref(items);
	json_decref(b.found);
	return rc;
}

static int group_read(const struct provider_ctx *ctx, const char *id, json_t *prior, json_t **out,
		      struct cairn_err *err)
{
	return group_read_batch(&ctx, 1, &id, &prior, out, err);
}

static int group_create(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
			struct cairn_err *err)
{
	/* subnets created a moment ago may not be visible to RDS yet */
	static const char *const not_yet[] = {"InvalidSubnet", NULL};
	const char *name = pstr_or(json_object_get(attrs, "name"), "");
	json_t *tags = ptags_with_owner(ctx, json_object_get(attrs, "tags"));
	json_t *in = json_pack("{s:s,s:s,s:O,s:o}", "DBSubnetGroupName", name,
			       "DBSubnetGroupDescription",
			       pstr_or(json_object_get(attrs, "description"), ""),
			       "SubnetIds", json_object_get(attrs, "subnet_ids"),
			       "Tags", ptags_to_list(tags, "Key", "Value"));
	int rc = -1, made = 0;

	*out = NULL;
	if (pcall_retry(ctx, SVC, "CreateDBSubnetGroup", in, NULL, not_yet, 60L * 1000, err) != 0)
		goto out;
	made = 1;
	if (pread_back(ctx, group_read, "CreateDBSubnetGroup", "group", name, attrs, out, err) != 0)
		goto out;
	rc = 0;
out:
	if (rc != 0 && made && !*out)
		*out = json_pack("{s:s,s:s}", "id", name, "name", name);
	json_decref(tags);
	json_decref(in);
	return rc;
}

static int group_update(const struct provider_ctx *ctx, const char *id, json_t *old,
			json_t *want, json_t *changed, json_t **out, struct cairn_err *err)
{
	json_t *in = NULL;
	int rc = -1;

	*out = NULL;
	if (pchanged(changed, "description") || pchanged(changed, "subnet_ids")) {
		in = json_pack("{s:s,s:s,s:O}", "DBSubnetGroupName", id, "DBSubnetGroupDescription",
			       pstr_or(json_object_get(want, "description"), ""),
			       "SubnetIds", json_object_get(want, "subnet_ids"));
		if (pcall_void(ctx, SVC, "ModifyDBSubnetGroup", in, err) != 0)
			goto out;
	}
	if (pchanged(changed, "tags") &&
	    ptags_sync(ctx, &TAG_API, pstr_or(json_object_get(old, "arn"), ""),
		       json_object_get(old, "tags"), json_object_get(want, "tags"), err) != 0)
		goto out;
	if (pread_after(ctx, group_read, "update", "DB subnet group", id, want, out, err) != 0)
		goto out;
	rc = 0;
out:
	json_decref(in);
	return rc;
}

/* An instance being deleted still holds the group for a while. */
static int group_delete(const struct provider_ctx *ctx, const char *id, json_t *attrs,
			struct cairn_err *err)
{
	static const char *const busy[] = {"InvalidDBSubnetGroupStateFault", NULL};
	json_t *in = json_pack("{s:s}", "DBSubnetGroupName", id);
	int rc = pcall_retry(ctx, SVC, "DeleteDBSubnetGroup", in, NULL, busy,
			     GROUP_DELETE_TIMEOUT_MS, err);

	if (rc != 0 && perr_is(err, "DBSubnetGroupNotFoundFault")) {
		err_clear(err);
		rc = 0;
	}
	json_decref(in);
	return rc;
}

static int group_find(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
		      struct cairn_err *err)
{
	const char *name = pstr(attrs, "name");
	json_t *got = NULL, *tags = NULL;
	int rc = -1;

	*out = NULL;
	if (!name)
		return 0;
	if (group_read(ctx, name, attrs, &got, err) != 0)
		goto out;
	/* the read leaves the ownership tags out: ask for the full list */
	if (got && rds_tags(ctx, pstr_or(json_object_get(got, "arn"), ""), group_gone, &tags,
			    err) != 0)
		goto out;
	if (got && ptags_owned_by(tags, "Key", "Value", ctx)) {
		*out = got;
		got = NULL;
	}
	rc = 0;
out:
	json_decref(got);
	json_decref(tags);
	return rc;
}

const struct resource_ops aws_db_subnet_group_ops = {
	.type = "aws_db_subnet_group",
	.create = group_create,
	.read = group_read,
	.read_batch = group_read_batch,
	.update = group_update,
	.delete = group_delete,
	.find = group_find,
};

/* ---- aws_db_instance ---- */

static json_t *db_attrs(json_t *d, json_t *prior)
{
	json_t *o = json_object(), *ep = json_object_get(d, "Endpoint"), *sec, *v;
	json_t *secret = json_array();
	const char *addr = pstr_or(json_object_get(ep, "Address"), "");
	json_int_t port = json_integer_value(json_object_get(ep, "Port"));
	char *endpoint;

	if (!port)
		port = json_integer_value(json_object_get(d, "DbInstancePort"));
	endpoint = *addr ? xasprintf("%s:%lld", addr, (long long)port) : xstrdup("");
	json_object_set_new(o, "id", json_string(pstr_or(json_object_get(d, "DBInstanceIdentifier"),
							   "")));
	json_object_set_new(o, "identifier",
			    json_string(pstr_or(json_object_get(d, "DBInstanceIdentifier"), "")));
	json_object_set_new(o, "engine", json_string(pstr_or(json_object_get(d, "Engine"), "")));
	json_object_set_new(o, "engine_version",
			    json_string(pstr_or(json_object_get(d, "EngineVersion"), "")));
	json_object_set_new(o, "instance_class",
			    json_string(pstr_or(json_object_get(d, "DBInstanceClass"), "")));
	json_object_set_new(o, "allocated_storage",
			    json_integer(json_integer_value(json_object_get(d, "AllocatedStorage"))));
	json_object_set_new(o, "max_allocated_storage",
			    json_integer(json_integer_value(json_object_get(d,
									   "MaxAllocatedStorage"))));
	json_object_set_new(o, "storage_type",
			    json_string(pstr_or(json_object_get(d, "StorageType"), "")));
	json_object_set_new(o, "storage_encrypted",
			    json_boolean(json_is_true(json_object_get(d, "StorageEncrypted"))));
	json_object_set_new(o, "kms_key_id", json_string(pstr_or(json_object_get(d, "KmsKeyId"),
								  "")));
	json_object_set_new(o, "db_name", json_string(pstr_or(json_object_get(d, "DBName"), "")));
	json_object_set_new(o, "username",
			    json_string(pstr_or(json_object_get(d, "MasterUsername"), "")));
	json_object_set_new(o, "port", json_integer(port));
	json_object_set_new(o, "db_subnet_group_name",
			    json_string(pstr_or(json_object_get(json_object_get(d, "DBSubnetGroup"),
								"DBSubnetGroupName"), "")));
	json_object_set_new(o, "vpc_security_group_ids",
			    porder_take(pstr_list(json_object_get(d, "VpcSecurityGroups"),
						 "VpcSecurityGroupId"),
					json_object_get(prior, "vpc_security_group_ids")));
	json_object_set_new(o, "parameter_group_name",
			    json_string(pstr_or(json_object_get(json_array_get(
				    json_object_get(d, "DBParameterGroups"), 0),
							    "DBParameterGroupName"), "")));
	json_object_set_new(o, "publicly_accessible",
			    json_boolean(json_is_true(json_object_get(d, "PubliclyAccessible"))));
	json_object_set_new(o, "multi_az", json_boolean(json_is_true(json_object_get(d,
										     "MultiAZ"))));
	json_object_set_new(o, "availability_zone",
			    json_string(pstr_or(json_object_get(d, "AvailabilityZone"), "")));
	json_object_set_new(o, "backup_retention_period",
			    json_integer(json_integer_value(json_object_get(
				    d, "BackupRetentionPeriod"))));
	json_object_set_new(o, "backup_window",
			    json_string(pstr_or(json_object_get(d, "PreferredBackupWindow"), "")));
	json_object_set_new(o, "maintenance_window",
			    json_string(pstr_or(json_object_get(d, "PreferredMaintenanceWindow"),
						"")));
	v = json_object_get(d, "AutoMinorVersionUpgrade");
	json_object_set_new(o, "auto_minor_version_upgrade", json_boolean(!json_is_false(v)));
	json_object_set_new(o, "copy_tags_to_snapshot",
			    json_boolean(json_is_true(json_object_get(d, "CopyTagsToSnapshot"))));
	json_object_set_new(o, "deletion_protection",
			    json_boolean(json_is_true(json_object_get(d, "DeletionProtection"))));
	json_object_set_new(o, "iam_database_authentication_enabled",
			    json_boolean(json_is_true(json_object_get(
				    d, "IAMDatabaseAuthenticationEnabled"))));
	sec = json_object_get(d, "MasterUserSecret");
	json_object_set_new(o, "manage_master_user_password", json_boolean(sec != NULL));
	if (sec) {
		json_array_append_new(secret, json_pack(
			"{s:s,s:s,s:s}", "secret_arn", pstr_or(json_object_get(sec, "SecretArn"), ""),
			"secret_status", pstr_or(json_object_get(sec, "SecretStatus"), ""),
			"kms_key_id", pstr_or(json_object_get(sec, "KmsKeyId"), "")));
		json_object_set_new(o, "master_user_secret_kms_key_id",
				    json_string(pstr_or(json_object_get(sec, "KmsKeyId"), "")));
	} else {
		json_object_set_new(o, "master_user_secret_kms_key_id", json_string(""));
	}
	json_object_set_new(o, "master_user_secret", secret);
	json_object_set_new(o, "address", json_string(addr));
	json_object_set_new(o, "endpoint", json_string(endpoint));
	json_object_set_new(o, "hosted_zone_id",
			    json_string(pstr_or(json_object_get(ep, "HostedZoneId"), "")));
	json_object_set_new(o, "arn", json_string(pstr_or(json_object_get(d, "DBInstanceArn"), "")));
	json_object_set_new(o, "resource_id",
			    json_string(pstr_or(json_object_get(d, "DbiResourceId"), "")));
	json_object_set_new(o, "status",
			    json_string(pstr_or(json_object_get(d, "DBInstanceStatus"), "")));
	json_object_set_new(o, "tags", ptags_from_list(json_object_get(d, "TagList"), "Key",
						       "Value"));
	/* never reported by AWS: what was recorded (a password is write-only) */
	keep(o, prior, "password", NULL);
	keep(o, prior, "apply_immediately", json_false());
	keep(o, prior, "skip_final_snapshot", json_false());
	keep(o, prior, "final_snapshot_identifier", json_string(""));
	keep(o, prior, "delete_automated_backups", json_true());
	free(endpoint);
	return o;
}

/* DescribeDBInstances of ids[from, to) filtered by identifier. */
static int db_chunk(const struct provider_ctx *ctx, const char *const *ids, size_t from,
		    size_t to, json_t *found, struct cairn_err *err)
{
	json_t *values = json_array(), *in, *items = NULL, *d;
	size_t i;
	int rc = -1;

	for (i = from; i < to; i++)
		json_array_append_new(values, json_string(ids[i]));
	in = json_pack("{s:[{s:s,s:o}]}", "Filters", "Name", "db-instance-id", "Values", values);
	if (rds_describe_all(ctx, "DescribeDBInstances", in, "DBInstances", &items, err) != 0) {
		err_prefix(err, "DescribeDBInstances on %s", ctx->name);
		goto out;
	}
	json_array_foreach(items, i, d)
		if (pstr(d, "DBInstanceIdentifier"))
			json_object_set(found, pstr(d, "DBInstanceIdentifier"), d);
	rc = 0;
out:
	json_decref(in);
	json_decref(items);
	return rc;
}

static int db_read_batch(const struct provider_ctx *const *ctxs, size_t n,
			 const char *const *ids, json_t *const *priors, json_t **outs,
			 struct cairn_err *err)
{
	json_t *found = json_object(), *d;
	size_t i;
	int rc = -1;

	for (i = 0; i < n; i++)
		outs[i] = NULL;
	if (pread_chunks(ctxs, ids, n, RDS_FILTER_MAX, db_chunk, found, err) != 0)
		goto out;
	for (i = 0; i < n; i++)
		if ((d = json_object_get(found, ids[i])))
			outs[i] = db_attrs(d, priors[i]);
	rc = 0;
out:
	json_decref(found);
	return rc;
}

static int db_read(const struct provider_ctx *ctx, const char *id, json_t *prior, json_t **out,
		   struct cairn_err *err)
{
	return db_read_batch(&ctx, 1, &id, &prior, out, err);
}

/* DescribeDBInstances of one identifier: *d NULL when gone. */
static int db_describe(const struct provider_ctx *ctx, const char *id, json_t **d,
		       struct cairn_err *err)
{
	json_t *in = json_pack("{s:s}", "DBInstanceIdentifier", id), *res = NULL;
	int rc = pcall_found(ctx, SVC, "DescribeDBInstances", in, db_gone, &res, err);

	*d = json_incref(json_array_get(json_object_get(res, "DBInstances"), 0));
	json_decref(in);
	json_decref(res);
	return rc;
}

/* Waits for "available" (want_gone 0) or for the instance to be gone. */
struct db_wait {
	const char *id;
	int want_gone;
};

static int db_poll(const struct provider_ctx *ctx, void *arg, char *status, size_t status_len,
		   struct cairn_err *err)
{
	static const char *const failed[] = {"failed", "incompatible-parameters",
					     "incompatible-network", "incompatible-restore",
					     "storage-full", "inaccessible-encryption-credentials",
					     NULL};
	struct db_wait *w = arg;
	json_t *d = NULL;
	const char *st;
	size_t i;
	int rc = 0;

	if (db_describe(ctx, w->id, &d, err) != 0)
		return -1;
	st = pstr_or(json_object_get(d, "DBInstanceStatus"), d ? "" : "gone");
	snprintf(status, status_len, "%s", st);
	if (w->want_gone) {
		rc = !d;
	} else if (strcmp(st, "available") == 0) {
		rc = 1;
	} else {
		for (i = 0; failed[i]; i++)
			if (strcmp(st, failed[i]) == 0) {
				err_set(err, CAIRN_EAWS, "DB instance '%s' on %s is %s", w->id,
					ctx->name, st);
				rc = -1;
			}
	}
	json_decref(d);
	return rc;
}

static int db_wait(const struct provider_ctx *ctx, const char *id, int want_gone,
		   const char *doing, long timeout_ms, struct cairn_err *err)
{
	struct db_wait w = {id, want_gone};
	struct pwait_spec spec = {doing, 2000L, 30000L, timeout_ms};

	return pwait_until(ctx, &spec, db_poll, &w, err);
}

/* Copies want[key] into in[name] when set (strings: when not ""). */
static void put(json_t *in, const char *name, json_t *want, const char *key)
{
	json_t *v = json_object_get(want, key);

	if (!v || json_is_null(v) || (json_is_string(v) && !*json_string_value(v)))
		return;
	json_object_set(in, name, v);
}

static int db_create(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
		     struct cairn_err *err)
{
	/* a subnet group or security group made a moment ago may not show yet */
	static const char *const not_yet[] = {"DBSubnetGroupNotFoundFault", NULL};
	const char *id = pstr_or(json_object_get(attrs, "identifier"), "");
	json_t *tags = ptags_with_owner(ctx, json_object_get(attrs, "tags"));
	json_t *in = json_pack("{s:s,s:o}", "DBInstanceIdentifier", id,
			       "Tags", ptags_to_list(tags, "Key", "Value"));
	int rc = -1, made = 0, managed = json_is_true(json_object_get(attrs,
								      "manage_master_user_password"));

	*out = NULL;
	put(in, "Engine", attrs, "engine");
	put(in, "EngineVersion", attrs, "engine_version");
	put(in, "DBInstanceClass", attrs, "instance_class");
	put(in, "AllocatedStorage", attrs, "allocated_storage");
	if (json_integer_value(json_object_get(attrs, "max_allocated_storage")) > 0)
		put(in, "MaxAllocatedStorage", attrs, "max_allocated_storage");
	put(in, "StorageType", attrs, "storage_type");
	put(in, "StorageEncrypted", attrs, "storage_encrypted");
	put(in, "KmsKeyId", attrs, "kms_key_id");
	put(in, "DBName", attrs, "db_name");
	put(in, "MasterUsername", attrs, "username");
	if (managed) {
		json_object_set_new(in, "ManageMasterUserPassword", json_true());
		put(in, "MasterUserSecretKmsKeyId", attrs, "master_user_secret_kms_key_id");
	} else {
		put(in, "MasterUserPassword", attrs, "password");
	}
	put(in, "Port", attrs, "port");
	put(in, "DBSubnetGroupName", attrs, "db_subnet_group_name");
	if (json_array_size(json_object_get(attrs, "vpc_security_group_ids")))
		put(in, "VpcSecurityGroupIds", attrs, "vpc_security_group_ids");
	put(in, "DBParameterGroupName", attrs, "parameter_group_name");
	put(in, "PubliclyAccessible", attrs, "publicly_accessible");
	put(in, "MultiAZ", attrs, "multi_az");
	put(in, "AvailabilityZone", attrs, "availability_zone");
	put(in, "BackupRetentionPeriod", attrs, "backup_retention_period");
	put(in, "PreferredBackupWindow", attrs, "backup_window");
	put(in, "PreferredMaintenanceWindow", attrs, "maintenance_window");
	put(in, "AutoMinorVersionUpgrade", attrs, "auto_minor_version_upgrade");
	put(in, "CopyTagsToSnapshot", attrs, "copy_tags_to_snapshot");
	put(in, "DeletionProtection", attrs, "deletion_protection");
	put(in, "EnableIAMDatabaseAuthentication", attrs, "iam_database_authentication_enabled");
	if (pcall_retry(ctx, SVC, "CreateDBInstance", in, NULL, not_yet, 60L * 1000, err) != 0)
		goto out;
	made = 1;
	if (db_wait(ctx, id, 0, "creating the DB instance", DB_CREATE_TIMEOUT_MS, err) != 0 ||
	    pread_back(ctx, db_read, "CreateDBInstance", "instance", id, attrs, out, err) != 0)
		goto out;
	rc = 0;
out:
	if (rc != 0 && made && !*out)
		*out = json_pack("{s:s,s:s}", "id", id, "identifier", id);
	json_decref(tags);
	json_decref(in);
	return rc;
}

/* ModifyDBInstance's members for the changed attributes: name pairs. */
static const char *const modifiable[][2] = {
	{"engine_version", "EngineVersion"}, {"instance_class", "DBInstanceClass"},
	{"allocated_storage", "AllocatedStorage"},
	{"max_allocated_storage", "MaxAllocatedStorage"}, {"storage_type", "StorageType"},
	{"port", "DBPortNumber"}, {"db_subnet_group_name", "DBSubnetGroupName"},
	{"vpc_security_group_ids", "VpcSecurityGroupIds"},
	{"parameter_group_name", "DBParameterGroupName"},
	{"publicly_accessible", "PubliclyAccessible"}, {"multi_az", "MultiAZ"},
	{"backup_retention_period", "BackupRetentionPeriod"},
	{"backup_window", "PreferredBackupWindow"},
	{"maintenance_window", "PreferredMaintenanceWindow"},
	{"auto_minor_version_upgrade", "AutoMinorVersionUpgrade"},
	{"copy_tags_to_snapshot", "CopyTagsToSnapshot"},
	{"deletion_protection", "DeletionProtection"},
	{"iam_database_authentication_enabled", "EnableIAMDatabaseAuthentication"},
	{"master_user_secret_kms_key_id", "MasterUserSecretKmsKeyId"},
};

static int db_update(const struct provider_ctx *ctx, const char *id, json_t *old, json_t *want,
		     json_t *changed, json_t **out, struct cairn_err *err)
{
	/* a change while a backup or another change runs is refused: retried */
	static const char *const busy[] = {"InvalidDBInstanceState", "InvalidDBInstanceStateFault",
					   NULL};
	json_t *in = json_pack("{s:s,s:b}", "DBInstanceIdentifier", id, "ApplyImmediately",
			       json_is_true(json_object_get(want, "apply_immediately")));
	size_t i, base = json_object_size(in);
	int rc = -1;

	*out = NULL;
	for (i = 0; i < sizeof(modifiable) / sizeof(modifiable[0]); i++)
		if (pchanged(changed, modifiable[i][0]))
			put(in, modifiable[i][1], want, modifiable[i][0]);
	if (pchanged(changed, "engine_version"))
		json_object_set_new(in, "AllowMajorVersionUpgrade", json_true());
	if (pchanged(changed, "manage_master_user_password"))
		json_object_set_new(in, "ManageMasterUserPassword",
				    json_boolean(json_is_true(json_object_get(
					    want, "manage_master_user_password"))));
	if ((pchanged(changed, "password") ||
	     (pchanged(changed, "manage_master_user_password") &&
	      !json_is_true(json_object_get(want, "manage_master_user_password")))) &&
	    pstr(want, "password") && *pstr(want, "password"))
		json_object_set_new(in, "MasterUserPassword", json_string(pstr(want, "password")));
	if (json_object_size(in) > base) {
		if (pcall_retry(ctx, SVC, "ModifyDBInstance", in, NULL, busy, DB_UPDATE_TIMEOUT_MS,
				err) != 0 ||
		    db_wait(ctx, id, 0, "modifying the DB instance", DB_UPDATE_TIMEOUT_MS, err) != 0)
			goto out;
	}
	if (pchanged(changed, "tags") &&
	    ptags_sync(ctx, &TAG_API, pstr_or(json_object_get(old, "arn"), ""),
		       json_object_get(old, "tags"), json_object_get(want, "tags"), err) != 0)
		goto out;
	if (pread_after(ctx, db_read, "update", "DB instance", id, want, out, err) != 0)
		goto out;
	rc = 0;
out:
	json_decref(in);
	return rc;
}

static int db_delete(const struct provider_ctx *ctx, const char *id, json_t *attrs,
		     struct cairn_err *err)
{
	static const char *const busy[] = {"InvalidDBInstanceState", "InvalidDBInstanceStateFault",
					   NULL};
	int skip = json_is_true(json_object_get(attrs, "skip_final_snapshot"));
	const char *snap = pstr_or(json_object_get(attrs, "final_snapshot_identifier"), "");
	json_t *d = NULL, *in = NULL;
	int rc = -1;

	if (db_describe(ctx, id, &d, err) != 0)
		return -1;
	if (!d)
		return 0;
	if (json_is_true(json_object_get(d, "DeletionProtection"))) {
		err_set(err, CAIRN_EINVAL, "cannot delete DB instance '%s' (%s): deletion_protection "
			"is on; set deletion_protection: false and apply first", id, ctx->name);
		goto out;
	}
	if (!skip && !*snap) {
		err_set(err, CAIRN_EINVAL, "cannot delete DB instance '%s' (%s): "
			"final_snapshot_identifier is required when skip_final_snapshot is false",
			id, ctx->name);
		goto out;
	}
	if (strcmp(pstr_or(json_object_get(d, "DBInstanceStatus"), ""), "deleting") != 0) {
		in = json_pack("{s:s,s:b,s:b}", "DBInstanceIdentifier", id, "SkipFinalSnapshot", skip,
			       "DeleteAutomatedBackups",
			       !json_is_false(json_object_get(attrs, "delete_automated_backups")));
		if (!skip)
			json_object_set_new(in, "FinalDBSnapshotIdentifier", json_string(snap));
		rc = pcall_retry(ctx, SVC, "DeleteDBInstance", in, NULL, busy, DB_DELETE_TIMEOUT_MS,
				 err);
		if (rc != 0 && (perr_is(err, "DBInstanceNotFound") ||
				perr_is(err, "DBInstanceNotFoundFault"))) {
			err_clear(err);
			rc = 0;
			goto out;
		}
		if (rc != 0)
			goto out;
	}
	rc = db_wait(ctx, id, 1, "deleting the DB instance", DB_DELETE_TIMEOUT_MS, err);
out:
	json_decref(d);
	json_decref(in);
	return rc;
}

/* The identifier is unique: adopt the instance of that identifier if it
 * carries this resource's ownership tags, once it is available. */
static int db_find(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
		   struct cairn_err *err)
{
	const char *id = pstr(attrs, "identifier");
	json_t *d = NULL;
	int rc = -1;

	*out = NULL;
	if (!id)
		return 0;
	if (db_describe(ctx, id, &d, err) != 0)
		return -1;
	if (!d || !ptags_owned_by(json_object_get(d, "TagList"), "Key", "Value", ctx) ||
	    strcmp(pstr_or(json_object_get(d, "DBInstanceStatus"), ""), "deleting") == 0) {
		rc = 0;
		goto out;
	}
	if (db_wait(ctx, id, 0, "creating the DB instance", DB_CREATE_TIMEOUT_MS, err) != 0)
		goto out;
	rc = db_read(ctx, id, attrs, out, err);
out:
	json_decref(d);
	return rc;
}

const struct resource_ops aws_db_instance_ops = {
	.type = "aws_db_instance",
	.create = db_create,
	.read = db_read,
	.read_batch = db_read_batch,
	.update = db_update,
	.delete = db_delete,
	.find = db_find,
};
