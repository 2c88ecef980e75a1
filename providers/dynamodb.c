/*
 * dynamodb: the aws_dynamodb_table resource type (DynamoDB, json 1.0).
 *
 * The id is the table name. Tables and their global secondary indexes are
 * asynchronous: every change waits until the table and all its indexes
 * are ACTIVE again, and index changes go one per UpdateTable call, as
 * DynamoDB allows only one index creation or deletion at a time.
 *
 * Lists AWS reports in its own order (attribute definitions, indexes) are
 * put back in the order of the prior attributes so the diff is stable.
 * DynamoDB keeps only the attribute definitions some key uses; reads keep
 * only those too (moto keeps stale ones after an index is deleted).
 *
 * Local secondary indexes exist only from CreateTable on (the schema
 * replaces the table when they change). Point-in-time recovery lives
 * apart from the table (UpdateContinuousBackups, one more read per table);
 * server-side encryption is the table's SSESpecification, changed by an
 * UpdateTable that carries nothing else, as DynamoDB requires.
 */
#include <string.h>

#include "common.h"
#include "tagdiff.h"

#define DDB_WAIT_TIMEOUT_MS (30 * 60 * 1000L) /* index back-fills can be slow */
#define DDB_POLL_MS 2000L

static int str_eq(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

/* The attribute of a KeySchema list with KeyType type (HASH/RANGE), or NULL. */
static const char *key_of(json_t *key_schema, const char *type)
{
	json_t *k;
	size_t i;

	json_array_foreach(key_schema, i, k)
		if (str_eq(pstr(k, "KeyType"), type))
			return pstr(k, "AttributeName");
	return NULL;
}

/* The element of list whose member key equals value (borrowed), or NULL. */
static json_t *find_by(json_t *list, const char *key, const char *value)
{
	json_t *e;
	size_t i;

	json_array_foreach(list, i, e)
		if (str_eq(pstr(e, key), value))
			return e;
	return NULL;
}

/* items (stolen) reordered like prior (borrowed), matched on key; items
 * the prior lacks keep AWS's order after them. New array. */
static json_t *order_like(json_t *items, json_t *prior, const char *key)
{
	json_t *out = json_array(), *p, *e;
	size_t i;

	json_array_foreach(prior, i, p) {
		e = find_by(items, key, pstr(p, key));
		if (e && !find_by(out, key, pstr(e, key)))
			json_array_append(out, e);
	}
	json_array_foreach(items, i, e)
		if (!find_by(out, key, pstr(e, key)))
			json_array_append(out, e);
	json_decref(items);
	return out;
}

static void add_name(json_t *names, const char *name)
{
	json_t *v;
	size_t i;

	if (!name || !*name)
		return;
	json_array_foreach(names, i, v)
		if (strcmp(json_string_value(v), name) == 0)
			return;
	json_array_append_new(names, json_string(name));
}

/* AttributeDefinitions for the table keys, the sort keys of its local
 * secondary indexes and the keys of indexes (a list of the stack's
 * global_secondary_index objects), typed from the stack's attribute list.
 * New array. */
static json_t *attr_defs(json_t *want, json_t *indexes)
{
	json_t *names = json_array(), *defs = json_array(), *g, *v;
	size_t i;

	add_name(names, pstr(want, "hash_key"));
	add_name(names, pstr(want, "range_key"));
	json_array_foreach(json_object_get(want, "local_secondary_index"), i, g)
		add_name(names, pstr(g, "range_key"));
	json_array_foreach(indexes, i, g) {
		add_name(names, pstr(g, "hash_key"));
		add_name(names, pstr(g, "range_key"));
	}
	json_array_foreach(names, i, v) {
		json_t *a = find_by(json_object_get(want, "attribute"), "name",
				    json_string_value(v));

		json_array_append_new(defs, json_pack("{s:O,s:s}", "AttributeName", v,
			"AttributeType", a && pstr(a, "type") ? pstr(a, "type") : "S"));
	}
	json_decref(names);
	return defs;
}

static json_t *key_schema(const char *hash, const char *range)
{
	json_t *ks = json_pack("[{s:s,s:s}]", "AttributeName", hash, "KeyType", "HASH");

	if (range && *range)
		json_array_append_new(ks, json_pack("{s:s,s:s}", "AttributeName", range,
						    "KeyType", "RANGE"));
	return ks;
}

static int provisioned(json_t *attrs)
{
	return !str_eq(pstr(attrs, "billing_mode"), "PAY_PER_REQUEST");
}

/* ProvisionedThroughput of an index: its own capacities, else the table's. */
static json_t *gsi_throughput(json_t *g, json_t *table)
{
	json_t *r = json_object_get(g, "read_capacity"), *w = json_object_get(g, "write_capacity");

	return json_pack("{s:I,s:I}",
		"ReadCapacityUnits", json_is_number(r) ? json_int_or(r, 0) :
			json_int_or(json_object_get(table, "read_capacity"), 0),
		"WriteCapacityUnits", json_is_number(w) ? json_int_or(w, 0) :
			json_int_or(json_object_get(table, "write_capacity"), 0));
}

/* The Projection of a stack index object (new ref). */
static json_t *projection(json_t *g)
{
	json_t *proj = json_pack("{s:s}", "ProjectionType",
				 pstr(g, "projection_type") ? pstr(g, "projection_type") : "ALL");
	json_t *nka = json_object_get(g, "non_key_attributes");

	if (json_array_size(nka) > 0)
		json_object_set(proj, "NonKeyAttributes", nka);
	return proj;
}

/* A stack global_secondary_index object as the API's index spec (new ref). */
static json_t *gsi_spec(json_t *g, json_t *table)
{
	json_t *spec = json_pack("{s:s,s:o,s:o}", "IndexName", pstr(g, "name"),
				 "KeySchema", key_schema(pstr(g, "hash_key"), pstr(g, "range_key")),
				 "Projection", projection(g));

	if (provisioned(table))
		json_object_set_new(spec, "ProvisionedThroughput", gsi_throughput(g, table));
	return spec;
}

/* A stack local_secondary_index object as the API's index spec (new ref):
 * the table's partition key with the index's sort key; the capacity is
 * the table's. */
static json_t *lsi_spec(json_t *l, json_t *table)
{
	return json_pack("{s:s,s:o,s:o}", "IndexName", pstr(l, "name"),
			 "KeySchema", key_schema(pstr(table, "hash_key"), pstr(l, "range_key")),
			 "Projection", projection(l));
}

/* The SSESpecification of a stack server_side_encryption object (new ref):
 * enabled means a KMS key, the one named or AWS's managed key. */
static json_t *sse_spec(json_t *sse)
{
	const char *key = pstr(sse, "kms_key_arn");
	json_t *spec;

	if (!json_is_true(json_object_get(sse, "enabled")))
		return json_pack("{s:b}", "Enabled", 0);
	spec = json_pack("{s:b,s:s}", "Enabled", 1, "SSEType", "KMS");
	if (key && *key)
		json_object_set_new(spec, "KMSMasterKeyId", json_string(key));
	return spec;
}

/* DescribeTable: *table new ref (the "Table" member), NULL when gone. */
static int describe(const struct provider_ctx *ctx, const char *name, json_t **table,
		    struct cairn_err *err)
{
	json_t *in = json_pack("{s:s}", "TableName", name), *res = NULL;
	const char *status;
	int rc = -1;

	*table = NULL;
	if (pcall(ctx, "dynamodb", "DescribeTable", in, &res, err) != 0) {
		if (perr_is(err, "ResourceNotFoundException")) {
			err_clear(err);
			rc = 0;
		}
		goto out;
	}
	status = pstr(json_object_get(res, "Table"), "TableStatus");
	if (!str_eq(status, "DELETING"))
		*table = json_incref(json_object_get(res, "Table"));
	rc = 0;
out:
	json_decref(in);
	json_decref(res);
	return rc;
}

static int table_ready(json_t *table)
{
	json_t *g;
	size_t i;
	const char *sse = pstr(json_object_get(table, "SSEDescription"), "Status");

	if (!str_eq(pstr(table, "TableStatus"), "ACTIVE"))
		return 0;
	/* An encryption change goes on after the table is ACTIVE again. */
	if (str_eq(sse, "ENABLING") || str_eq(sse, "DISABLING") || str_eq(sse, "UPDATING"))
		return 0;
	json_array_foreach(json_object_get(table, "GlobalSecondaryIndexes"), i, g)
		if (pstr(g, "IndexStatus") && !str_eq(pstr(g, "IndexStatus"), "ACTIVE"))
			return 0;
	return 1;
}

struct active_poll {
	const char *name;
	json_t *table;          /* the last description */
};

static int active_poll(const struct provider_ctx *ctx, void *arg, char *status, size_t status_len,
		       struct cairn_err *err)
{
	struct active_poll *w = arg;

	json_decref(w->table);
	if (describe(ctx, w->name, &w->table, err) != 0)
		return -1;
	if (!w->table) {
		err_set(err, CAIRN_ENOTFOUND, "waiting for table '%s' of %s: it is gone", w->name,
			ctx->name);
		return -1;
	}
	snprintf(status, status_len, "%s", pstr_or(json_object_get(w->table, "TableStatus"), "?"));
	return table_ready(w->table);
}

/* Waits until the table and all its indexes are ACTIVE. table: NULL, or
 * set to the last description (new ref) on success. */
static int wait_active(const struct provider_ctx *ctx, const char *name, json_t **table,
		       struct cairn_err *err)
{
	struct active_poll w = {name, NULL};
	struct pwait_spec spec = {"waiting for the table to become ACTIVE", DDB_POLL_MS,
				  DDB_POLL_MS, DDB_WAIT_TIMEOUT_MS};
	int rc = pwait_until(ctx, &spec, active_poll, &w, err);

	if (rc == 0 && table)
		*table = w.table;
	else
		json_decref(w.table);
	return rc;
}

/* What a described table's attributes need besides the description. */
struct table_extra {
	json_t *ttl;            /* TimeToLiveDescription */
	json_t *backups;        /* ContinuousBackupsDescription */
	json_t *tags;           /* [{"Key","Value"}] */
};

static void extra_clear(struct table_extra *x)
{
	json_decref(x->ttl);
	json_decref(x->backups);
	json_decref(x->tags);
	memset(x, 0, sizeof(*x));
}

/* The extras of a described table into *x (new refs; all NULL on
 * failure). known: the tag list when already read (borrowed), or NULL to
 * ask ListTagsOfResource. */
static int table_extras(const struct provider_ctx *ctx, json_t *table, json_t *known,
			struct table_extra *x, struct cairn_err *err)
{
	json_t *in = json_pack("{s:s}", "TableName", pstr(table, "TableName"));
	json_t *tin = json_pack("{s:s}", "ResourceArn", pstr(table, "TableArn"));
	json_t *res = NULL;
	int rc = -1;

	memset(x, 0, sizeof(*x));
	if (pcall(ctx, "dynamodb", "DescribeTimeToLive", in, &res, err) != 0)
		goto out;
	x->ttl = json_incref(json_object_get(res, "TimeToLiveDescription"));
	json_decref(res);
	res = NULL;
	if (pcall(ctx, "dynamodb", "DescribeContinuousBackups", in, &res, err) != 0)
		goto out;
	x->backups = json_incref(json_object_get(res, "ContinuousBackupsDescription"));
	if (known) {
		x->tags = json_incref(known);
	} else if (aws_call_all(ctx->aws, "dynamodb", "ListTagsOfResource", tin, "Tags",
				&x->tags, err) != 0) {
		err_prefix(err, "ListTagsOfResource on %s", ctx->name);
		goto out;
	}
	rc = 0;
out:
	if (rc != 0)
		extra_clear(x);
	json_decref(in);
	json_decref(tin);
	json_decref(res);
	return rc;
}

/* The stack-shaped index list of a described table (prior orders it). */
static json_t *table_gsis(json_t *table, json_t *prior)
{
	json_t *out = json_array(), *g;
	size_t i;

	json_array_foreach(json_object_get(table, "GlobalSecondaryIndexes"), i, g) {
		json_t *ks = json_object_get(g, "KeySchema");
		json_t *proj = json_object_get(g, "Projection");
		json_t *pt = json_object_get(g, "ProvisionedThroughput");
		json_t *nka = json_object_get(proj, "NonKeyAttributes");
		json_t *o = json_pack("{s:s,s:s,s:s,s:I,s:I}",
			"name", pstr(g, "IndexName") ? pstr(g, "IndexName") : "",
			"hash_key", key_of(ks, "HASH") ? key_of(ks, "HASH") : "",
			"projection_type", pstr(proj, "ProjectionType") ?
				pstr(proj, "ProjectionType") : "",
			"read_capacity", json_int_or(json_object_get(pt, "ReadCapacityUnits"), 0),
			"write_capacity", json_int_or(json_object_get(pt, "WriteCapacityUnits"), 0));

		if (key_of(ks, "RANGE"))
			json_object_set_new(o, "range_key", json_string(key_of(ks, "RANGE")));
		if (json_array_size(nka) > 0)
			json_object_set(o, "non_key_attributes", nka);
		json_array_append_new(out, o);
	}
	return order_like(out, json_object_get(prior, "global_secondary_index"), "name");
}

/* The stack-shaped local index list of a described table (prior orders it). */
static json_t *table_lsis(json_t *table, json_t *prior)
{
	json_t *out = json_array(), *l;
	size_t i;

	json_array_foreach(json_object_get(table, "LocalSecondaryIndexes"), i, l) {
		json_t *proj = json_object_get(l, "Projection");
		json_t *nka = json_object_get(proj, "NonKeyAttributes");
		const char *range = key_of(json_object_get(l, "KeySchema"), "RANGE");
		json_t *o = json_pack("{s:s,s:s,s:s}",
			"name", pstr_or(json_object_get(l, "IndexName"), ""),
			"range_key", range ? range : "",
			"projection_type", pstr_or(json_object_get(proj, "ProjectionType"), ""));

		if (json_array_size(nka) > 0)
			json_object_set(o, "non_key_attributes", nka);
		json_array_append_new(out, o);
	}
	return order_like(out, json_object_get(prior, "local_secondary_index"), "name");
}

/* Stack-shaped server_side_encryption of a described table: a table with
 * the AWS owned key has no SSEDescription (or one that says DISABLED). */
static json_t *table_sse(json_t *table)
{
	json_t *d = json_object_get(table, "SSEDescription");
	const char *status = pstr(d, "Status"), *key = pstr(d, "KMSMasterKeyArn");
	json_t *o;

	if (!status || str_eq(status, "DISABLED") || str_eq(status, "DISABLING"))
		return json_pack("{s:b}", "enabled", 0);
	o = json_pack("{s:b}", "enabled", 1);
	if (key && *key)
		json_object_set_new(o, "kms_key_arn", json_string(key));
	return o;
}

/* The attribute definitions some key of the table or an index uses, stack-shaped. */
static json_t *table_attributes(json_t *table, json_t *prior)
{
	json_t *used = json_array(), *out = json_array(), *g, *d;
	size_t i;

	add_name(used, key_of(json_object_get(table, "KeySchema"), "HASH"));
	add_name(used, key_of(json_object_get(table, "KeySchema"), "RANGE"));
	json_array_foreach(json_object_get(table, "LocalSecondaryIndexes"), i, g)
		add_name(used, key_of(json_object_get(g, "KeySchema"), "RANGE"));
	json_array_foreach(json_object_get(table, "GlobalSecondaryIndexes"), i, g) {
		add_name(used, key_of(json_object_get(g, "KeySchema"), "HASH"));
		add_name(used, key_of(json_object_get(g, "KeySchema"), "RANGE"));
	}
	json_array_foreach(json_object_get(table, "AttributeDefinitions"), i, d) {
		const char *name = pstr(d, "AttributeName");
		json_t *u;
		size_t j;
		int keep = 0;

		json_array_foreach(used, j, u)
			keep |= str_eq(json_string_value(u), name);
		if (keep)
			json_array_append_new(out, json_pack("{s:s,s:s}", "name", name, "type",
				pstr(d, "AttributeType") ? pstr(d, "AttributeType") : ""));
	}
	json_decref(used);
	return order_like(out, json_object_get(prior, "attribute"), "name");
}

/* Attribute object of a table from DescribeTable and its extras. */
static json_t *table_attrs(json_t *table, const struct table_extra *x, json_t *prior)
{
	json_t *ttl = x->ttl, *tags = x->tags;
	json_t *pitr = json_object_get(x->backups, "PointInTimeRecoveryDescription");
	json_t *o = json_object();
	json_t *ks = json_object_get(table, "KeySchema");
	json_t *pt = json_object_get(table, "ProvisionedThroughput");
	json_t *stream = json_object_get(table, "StreamSpecification");
	const char *billing = pstr(json_object_get(table, "BillingModeSummary"), "BillingMode");
	const char *ttl_status = pstr(ttl, "TimeToLiveStatus");
	const char *ttl_name = pstr(ttl, "AttributeName");
	int stream_on = json_is_true(json_object_get(stream, "StreamEnabled"));

	/* Tables created as PROVISIONED long ago carry no BillingModeSummary. */
	if (!billing)
		billing = "PROVISIONED";
	json_object_set_new(o, "id", json_string(pstr(table, "TableName")));
	json_object_set_new(o, "name", json_string(pstr(table, "TableName")));
	json_object_set_new(o, "arn", json_string(pstr(table, "TableArn") ?
						  pstr(table, "TableArn") : ""));
	json_object_set_new(o, "billing_mode", json_string(billing));
	/* PAY_PER_REQUEST tables have no provisioned capacity (AWS reports 0;
	 * moto keeps the old numbers after a switch). */
	json_object_set_new(o, "read_capacity", json_integer(strcmp(billing, "PAY_PER_REQUEST") ?
		json_int_or(json_object_get(pt, "ReadCapacityUnits"), 0) : 0));
	json_object_set_new(o, "write_capacity", json_integer(strcmp(billing, "PAY_PER_REQUEST") ?
		json_int_or(json_object_get(pt, "WriteCapacityUnits"), 0) : 0));
	json_object_set_new(o, "hash_key", json_string(key_of(ks, "HASH") ? key_of(ks, "HASH") : ""));
	if (key_of(ks, "RANGE"))
		json_object_set_new(o, "range_key", json_string(key_of(ks, "RANGE")));
	json_object_set_new(o, "attribute", table_attributes(table, prior));
	json_object_set_new(o, "global_secondary_index", table_gsis(table, prior));
	json_object_set_new(o, "local_secondary_index", table_lsis(table, prior));
	if (!str_eq(billing, "PROVISIONED")) {
		json_t *g;
		size_t i;

		json_array_foreach(json_object_get(o, "global_secondary_index"), i, g) {
			json_object_set_new(g, "read_capacity", json_integer(0));
			json_object_set_new(g, "write_capacity", json_integer(0));
		}
	}
	/* A disabled TTL has no attribute name in AWS: keep the recorded one. */
	if (!ttl_name)
		ttl_name = pstr(json_object_get(prior, "ttl"), "attribute_name");
	json_object_set_new(o, "ttl", json_pack("{s:s,s:b}", "attribute_name",
		ttl_name ? ttl_name : "", "enabled",
		str_eq(ttl_status, "ENABLED") || str_eq(ttl_status, "ENABLING")));
	json_object_set_new(o, "stream_enabled", json_boolean(stream_on));
	if (stream_on && pstr(stream, "StreamViewType"))
		json_object_set_new(o, "stream_view_type", json_string(pstr(stream, "StreamViewType")));
	json_object_set_new(o, "stream_arn", json_string(pstr(table, "LatestStreamArn") ?
							 pstr(table, "LatestStreamArn") : ""));
	json_object_set_new(o, "point_in_time_recovery", json_pack("{s:b}", "enabled",
		str_eq(pstr(pitr, "PointInTimeRecoveryStatus"), "ENABLED")));
	json_object_set_new(o, "server_side_encryption", table_sse(table));
	json_object_set_new(o, "tags", ptags_from_list(tags, "Key", "Value"));
	return o;
}

/* Reads a described table's extras and builds its attributes. known: as
 * table_extras takes it. */
static int table_read(const struct provider_ctx *ctx, json_t *table, json_t *known,
		      json_t *prior, json_t **out, struct cairn_err *err)
{
	struct table_extra x;

	*out = NULL;
	if (table_extras(ctx, table, known, &x, err) != 0)
		return -1;
	*out = table_attrs(table, &x, prior);
	extra_clear(&x);
	return 0;
}

static int ddb_read(const struct provider_ctx *ctx, const char *id, json_t *prior,
		    json_t **out, struct cairn_err *err)
{
	json_t *table = NULL;
	int rc;

	*out = NULL;
	if (describe(ctx, id, &table, err) != 0)
		return -1;
	rc = table ? table_read(ctx, table, NULL, prior, out, err) : 0;
	json_decref(table);
	return rc;
}

/* A batch read: the tables, and their tags when the tagging API knew them. */
struct tables_read {
	const char *const *ids;
	json_t *const *priors;
	json_t *known;                  /* ARN -> tag list (ptags_bulk) */
	json_t **outs;
};

static int table_read_one(const struct provider_ctx *ctx, size_t i, void *arg,
			  struct cairn_err *err)
{
	struct tables_read *b = arg;
	json_t *table = NULL;
	int rc = describe(ctx, b->ids[i], &table, err);

	if (rc == 0 && table)
		rc = table_read(ctx, table,
				ptags_bulk_confirmed(json_object_get(b->known, pstr(table, "TableArn")),
						     b->priors[i]),
				b->priors[i], &b->outs[i], err);
	json_decref(table);
	return rc;
}

/* DynamoDB describes one table per call; the tags of all come from the
 * tagging API. */
static int ddb_read_batch(const struct provider_ctx *const *ctxs, size_t n,
			  const char *const *ids, json_t *const *priors, json_t **outs,
			  struct cairn_err *err)
{
	struct tables_read b = { ids, priors, ptags_bulk(ctxs, n, "dynamodb:table"), outs };
	int rc = peach(ctxs, n, table_read_one, &b, err);

	if (rc != 0)
		pouts_clear(outs, n);
	json_decref(b.known);
	return rc;
}

static int put_ttl(const struct provider_ctx *ctx, const char *name, json_t *ttl,
		   struct cairn_err *err)
{
	json_t *in = json_pack("{s:s,s:{s:b,s:s}}", "TableName", name,
			       "TimeToLiveSpecification",
			       "Enabled", json_is_true(json_object_get(ttl, "enabled")),
			       "AttributeName", pstr(ttl, "attribute_name") ?
					pstr(ttl, "attribute_name") : "");
	int rc = pcall_void(ctx, "dynamodb", "UpdateTimeToLive", in, err);

	json_decref(in);
	return rc;
}

/* TTL: DynamoDB refuses to move an enabled TTL to another attribute and
 * disables it by the attribute it is on, so the old one goes off first. */
static int update_ttl(const struct provider_ctx *ctx, const char *id, json_t *old, json_t *ttl,
		      struct cairn_err *err)
{
	json_t *was = json_object_get(old, "ttl");
	int was_on = json_is_true(json_object_get(was, "enabled"));
	int on = json_is_true(json_object_get(ttl, "enabled"));

	if (was_on && (!on || !str_eq(pstr(was, "attribute_name"), pstr(ttl, "attribute_name")))) {
		json_t *off = json_pack("{s:s,s:b}", "attribute_name",
					pstr(was, "attribute_name") ? pstr(was, "attribute_name") : "",
					"enabled", 0);
		int rc = put_ttl(ctx, id, off, err);

		json_decref(off);
		if (rc != 0)
			return -1;
	}
	return on ? put_ttl(ctx, id, ttl, err) : 0;
}

/* UpdateContinuousBackups; *desc (may be NULL) the answer's description
 * (new ref). Right after CreateTable, AWS may answer
 * ContinuousBackupsUnavailableException while it sets backups up. */
static int put_pitr(const struct provider_ctx *ctx, const char *name, json_t *pitr,
		    json_t **desc, struct cairn_err *err)
{
	static const char *const busy[] = {"ContinuousBackupsUnavailableException", NULL};
	json_t *in = json_pack("{s:s,s:{s:b}}", "TableName", name,
			       "PointInTimeRecoverySpecification", "PointInTimeRecoveryEnabled",
			       json_is_true(json_object_get(pitr, "enabled")));
	json_t *res = NULL;
	int rc = pcall_retry(ctx, "dynamodb", "UpdateContinuousBackups", in, &res, busy,
			     DDB_WAIT_TIMEOUT_MS, err);

	if (desc)
		*desc = rc == 0 ? json_incref(json_object_get(res, "ContinuousBackupsDescription")) :
				  NULL;
	json_decref(in);
	json_decref(res);
	return rc;
}

/* DynamoDB keeps exactly the attribute definitions some key uses: every
 * key must be defined, and an attribute no key uses would never read back. */
static int check_keys(const struct provider_ctx *ctx, json_t *attrs, struct cairn_err *err)
{
	json_t *defs = json_object_get(attrs, "attribute");
	json_t *keys = attr_defs(attrs, json_object_get(attrs, "global_secondary_index"));
	json_t *k, *a;
	size_t i;
	int rc = -1;

	json_array_foreach(keys, i, k)
		if (!find_by(defs, "name", pstr(k, "AttributeName"))) {
			err_set(err, CAIRN_EINVAL, "%s: key '%s' has no entry in attribute", ctx->name,
				pstr(k, "AttributeName"));
			goto out;
		}
	json_array_foreach(defs, i, a)
		if (!find_by(keys, "AttributeName", pstr(a, "name"))) {
			err_set(err, CAIRN_EINVAL, "%s: attribute '%s' is not a key of the table or "
				"of an index (DynamoDB keeps only key attributes)", ctx->name,
				pstr(a, "name") ? pstr(a, "name") : "");
			goto out;
		}
	rc = 0;
out:
	json_decref(keys);
	return rc;
}

/* Checks what DynamoDB would refuse less clearly, before any call. */
static int check_attrs(const struct provider_ctx *ctx, json_t *attrs, struct cairn_err *err)
{
	json_t *sse = json_object_get(attrs, "server_side_encryption");
	const char *key = pstr(sse, "kms_key_arn");

	if (check_keys(ctx, attrs, err) != 0)
		return -1;
	if (json_array_size(json_object_get(attrs, "local_secondary_index")) > 0 &&
	    !(pstr(attrs, "range_key") && *pstr(attrs, "range_key"))) {
		err_set(err, CAIRN_EINVAL, "%s: local_secondary_index needs the table's range_key "
			"(a local index shares the table's partition key)", ctx->name);
		return -1;
	}
	if (key && *key && !json_is_true(json_object_get(sse, "enabled"))) {
		err_set(err, CAIRN_EINVAL, "%s: server_side_encryption.kms_key_arn goes with "
			"enabled: true (false is the AWS owned key)", ctx->name);
		return -1;
	}
	if (provisioned(attrs) && (!json_is_number(json_object_get(attrs, "read_capacity")) ||
				   !json_is_number(json_object_get(attrs, "write_capacity")))) {
		err_set(err, CAIRN_EINVAL, "%s: read_capacity and write_capacity are required "
			"with billing_mode PROVISIONED", ctx->name);
		return -1;
	}
	if (json_is_true(json_object_get(attrs, "stream_enabled")) !=
	    (pstr(attrs, "stream_view_type") && *pstr(attrs, "stream_view_type"))) {
		err_set(err, CAIRN_EINVAL, "%s: stream_view_type goes with stream_enabled: true, "
			"and only with it", ctx->name);
		return -1;
	}
	return 0;
}

static int ddb_create(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
		      struct cairn_err *err)
{
	const char *name = pstr(attrs, "name");
	json_t *gsis = json_object_get(attrs, "global_secondary_index");
	json_t *lsis = json_object_get(attrs, "local_secondary_index");
	json_t *tags = ptags_with_owner(ctx, json_object_get(attrs, "tags"));
	json_t *ttl = json_object_get(attrs, "ttl");
	json_t *pitr = json_object_get(attrs, "point_in_time_recovery");
	json_t *sse = json_object_get(attrs, "server_side_encryption");
	json_t *in = NULL, *specs, *g, *res = NULL, *table = NULL;
	struct table_extra x = {0};
	size_t i;
	int created = 0, rc = -1;

	*out = NULL;
	if (check_attrs(ctx, attrs, err) != 0)
		goto out;
	in = json_pack("{s:s,s:o,s:o,s:s,s:o}", "TableName", name,
		       "AttributeDefinitions", attr_defs(attrs, gsis),
		       "KeySchema", key_schema(pstr(attrs, "hash_key"), pstr(attrs, "range_key")),
		       "BillingMode", provisioned(attrs) ? "PROVISIONED" : "PAY_PER_REQUEST",
		       "Tags", ptags_to_list(tags, "Key", "Value"));
	if (provisioned(attrs))
		json_object_set_new(in, "ProvisionedThroughput", json_pack("{s:I,s:I}",
			"ReadCapacityUnits", json_int_or(json_object_get(attrs, "read_capacity"), 0),
			"WriteCapacityUnits", json_int_or(json_object_get(attrs, "write_capacity"), 0)));
	if (json_array_size(gsis) > 0) {
		specs = json_array();
		json_array_foreach(gsis, i, g)
			json_array_append_new(specs, gsi_spec(g, attrs));
		json_object_set_new(in, "GlobalSecondaryIndexes", specs);
	}
	if (json_array_size(lsis) > 0) {
		specs = json_array();
		json_array_foreach(lsis, i, g)
			json_array_append_new(specs, lsi_spec(g, attrs));
		json_object_set_new(in, "LocalSecondaryIndexes", specs);
	}
	if (json_is_object(sse))
		json_object_set_new(in, "SSESpecification", sse_spec(sse));
	if (json_is_true(json_object_get(attrs, "stream_enabled")))
		json_object_set_new(in, "StreamSpecification", json_pack("{s:b,s:s}",
			"StreamEnabled", 1, "StreamViewType", pstr(attrs, "stream_view_type")));
	if (pcall(ctx, "dynamodb", "CreateTable", in, &res, err) != 0)
		goto out;
	created = 1;
	/* The answer describes the table; TTL, backups and tags are what is
	 * set here: read back only while it is not ACTIVE yet. */
	table = json_incref(json_object_get(res, "TableDescription"));
	if (!table_ready(table)) {
		json_decref(table);
		table = NULL;
		if (wait_active(ctx, name, &table, err) != 0)
			goto out;
	}
	if (json_is_true(json_object_get(ttl, "enabled")) && put_ttl(ctx, name, ttl, err) != 0)
		goto out;
	/* A new table has point-in-time recovery off. */
	if (json_is_true(json_object_get(pitr, "enabled"))) {
		if (put_pitr(ctx, name, pitr, &x.backups, err) != 0)
			goto out;
	} else {
		x.backups = json_pack("{s:{s:s}}", "PointInTimeRecoveryDescription",
				      "PointInTimeRecoveryStatus", "DISABLED");
	}
	x.ttl = json_is_true(json_object_get(ttl, "enabled")) ?
		json_pack("{s:s,s:s}", "TimeToLiveStatus", "ENABLED", "AttributeName",
			  pstr_or(json_object_get(ttl, "attribute_name"), "")) :
		json_pack("{s:s}", "TimeToLiveStatus", "DISABLED");
	x.tags = json_incref(json_object_get(in, "Tags"));
	*out = table_attrs(table, &x, attrs);
	rc = 0;
out:
	if (rc != 0 && created) {
		const char *arn = pstr(json_object_get(res, "TableDescription"), "TableArn");

		pcreated_partial(out, name, "name");
		if (arn)
			json_object_set_new(*out, "arn", json_string(arn));
	}
	json_decref(table);
	extra_clear(&x);
	json_decref(tags);
	json_decref(in);
	json_decref(res);
	return rc;
}

/* One UpdateTable call, then waits until everything is ACTIVE again. */
static int update_table(const struct provider_ctx *ctx, json_t *in, struct cairn_err *err)
{
	if (pcall_void(ctx, "dynamodb", "UpdateTable", in, err) != 0)
		return -1;
	return wait_active(ctx, pstr(in, "TableName"), NULL, err);
}

/* Billing mode and table capacity. Switching to PROVISIONED needs the
 * capacity of every index that stays, in the same call. */
static int update_billing(const struct provider_ctx *ctx, const char *id, json_t *old,
			  json_t *want, struct cairn_err *err)
{
	json_t *in = json_pack("{s:s,s:s}", "TableName", id, "BillingMode",
			       provisioned(want) ? "PROVISIONED" : "PAY_PER_REQUEST");
	int rc;

	if (provisioned(want)) {
		json_object_set_new(in, "ProvisionedThroughput", json_pack("{s:I,s:I}",
			"ReadCapacityUnits", json_int_or(json_object_get(want, "read_capacity"), 0),
			"WriteCapacityUnits", json_int_or(json_object_get(want, "write_capacity"), 0)));
		if (!provisioned(old)) {
			json_t *updates = json_array(), *g;
			size_t i;

			json_array_foreach(json_object_get(want, "global_secondary_index"), i, g)
				if (find_by(json_object_get(old, "global_secondary_index"), "name",
					    pstr(g, "name")))
					json_array_append_new(updates, json_pack("{s:{s:s,s:o}}",
						"Update", "IndexName", pstr(g, "name"),
						"ProvisionedThroughput", gsi_throughput(g, want)));
			if (json_array_size(updates) > 0)
				json_object_set_new(in, "GlobalSecondaryIndexUpdates", updates);
			else
				json_decref(updates);
		}
	}
	rc = update_table(ctx, in, err);
	json_decref(in);
	return rc;
}

/* True if an index's keys or projection differ (these need delete + create). */
static int gsi_shape_changed(json_t *a, json_t *b)
{
	json_t *na = json_object_get(a, "non_key_attributes");
	json_t *nb = json_object_get(b, "non_key_attributes");
	const char *ra = pstr(a, "range_key"), *rb = pstr(b, "range_key");

	if (!str_eq(pstr(a, "hash_key"), pstr(b, "hash_key")) ||
	    !str_eq(pstr(a, "projection_type"), pstr(b, "projection_type")))
		return 1;
	if ((ra && *ra) != (rb && *rb) || (ra && *ra && !str_eq(ra, rb)))
		return 1;
	if (json_array_size(na) != json_array_size(nb))
		return 1;
	return json_array_size(na) > 0 && !json_equal(na, nb);
}

static int gsi_capacity_changed(json_t *a, json_t *b, json_t *want)
{
	json_t *ta = gsi_throughput(a, want), *tb = gsi_throughput(b, want);
	int rc = !json_equal(ta, tb);

	json_decref(ta);
	json_decref(tb);
	return rc;
}

/* Index changes, one UpdateTable per index: deletions (and the deleting
 * half of a reshape) first, then capacity updates, then creations. */
static int update_gsis(const struct provider_ctx *ctx, const char *id, json_t *old,
		       json_t *want, struct cairn_err *err)
{
	json_t *have = json_object_get(old, "global_secondary_index");
	json_t *wanted = json_object_get(want, "global_secondary_index");
	json_t *remaining = json_array(), *g, *in = NULL;
	size_t i;
	int rc = -1;

	/* remaining: the indexes that exist as the stack wants them. */
	json_array_foreach(have, i, g) {
		json_t *w = find_by(wanted, "name", pstr(g, "name"));

		if (w && !gsi_shape_changed(g, w)) {
			json_array_append(remaining, w);
			continue;
		}
		in = json_pack("{s:s,s:[{s:{s:s}}]}", "TableName", id,
			       "GlobalSecondaryIndexUpdates", "Delete", "IndexName", pstr(g, "name"));
		if (update_table(ctx, in, err) != 0)
			goto out;
		json_decref(in);
		in = NULL;
	}
	if (provisioned(want) && provisioned(old))
		json_array_foreach(wanted, i, g) {
			json_t *h = find_by(have, "name", pstr(g, "name"));

			if (!h || gsi_shape_changed(h, g) || !gsi_capacity_changed(h, g, want))
				continue;
			in = json_pack("{s:s,s:[{s:{s:s,s:o}}]}", "TableName", id,
				       "GlobalSecondaryIndexUpdates", "Update", "IndexName",
				       pstr(g, "name"), "ProvisionedThroughput",
				       gsi_throughput(g, want));
			if (update_table(ctx, in, err) != 0)
				goto out;
			json_decref(in);
			in = NULL;
		}
	json_array_foreach(wanted, i, g) {
		if (find_by(remaining, "name", pstr(g, "name")))
			continue;
		json_array_append(remaining, g);
		/* Definitions for every key that will exist: DynamoDB needs the
		 * new index's, and moto replaces the whole list with what is sent. */
		in = json_pack("{s:s,s:o,s:[{s:o}]}", "TableName", id,
			       "AttributeDefinitions", attr_defs(want, remaining),
			       "GlobalSecondaryIndexUpdates", "Create", gsi_spec(g, want));
		if (update_table(ctx, in, err) != 0)
			goto out;
		json_decref(in);
		in = NULL;
	}
	rc = 0;
out:
	json_decref(in);
	json_decref(remaining);
	return rc;
}

/* Streams: a view type change is a disable then an enable with the new type. */
static int update_stream(const struct provider_ctx *ctx, const char *id, json_t *old,
			 json_t *want, struct cairn_err *err)
{
	int was_on = json_is_true(json_object_get(old, "stream_enabled"));
	int on = json_is_true(json_object_get(want, "stream_enabled"));
	const char *view = pstr(want, "stream_view_type");
	json_t *in = NULL;
	int rc = -1;

	if (was_on && (!on || !str_eq(pstr(old, "stream_view_type"), view))) {
		in = json_pack("{s:s,s:{s:b}}", "TableName", id, "StreamSpecification",
			       "StreamEnabled", 0);
		if (update_table(ctx, in, err) != 0)
			goto out;
		json_decref(in);
		in = NULL;
		was_on = 0;
	}
	if (on && !was_on) {
		in = json_pack("{s:s,s:{s:b,s:s}}", "TableName", id, "StreamSpecification",
			       "StreamEnabled", 1, "StreamViewType", view ? view : "");
		if (update_table(ctx, in, err) != 0)
			goto out;
	}
	rc = 0;
out:
	json_decref(in);
	return rc;
}

/* The service's tagging calls for ptags_sync. moto's TagResource appends
 * instead of overwriting, so changed keys are untagged first (harmless on AWS). */
static const struct ptag_api TAG_API = {
	.service = "dynamodb", .untag_op = "UntagResource", .tag_op = "TagResource",
	.id_member = "ResourceArn", .keys_member = "TagKeys", .tags_member = "Tags",
	.key_name = "Key", .value_name = "Value", .untag_changed = 1,
};

static int ddb_update(const struct provider_ctx *ctx, const char *id, json_t *old,
		      json_t *want, json_t *changed, json_t **out, struct cairn_err *err)
{
	json_t *ttl = json_object_get(want, "ttl");
	json_t *pitr = json_object_get(want, "point_in_time_recovery");
	json_t *sse = json_object_get(want, "server_side_encryption");

	*out = NULL;
	if (check_attrs(ctx, want, err) != 0)
		return -1;
	if ((pchanged(changed, "billing_mode") ||
	     (provisioned(want) && (pchanged(changed, "read_capacity") ||
				    pchanged(changed, "write_capacity")))) &&
	    update_billing(ctx, id, old, want, err) != 0)
		return -1;
	if ((pchanged(changed, "global_secondary_index") || pchanged(changed, "billing_mode")) &&
	    update_gsis(ctx, id, old, want, err) != 0)
		return -1;
	if ((pchanged(changed, "stream_enabled") || pchanged(changed, "stream_view_type")) &&
	    update_stream(ctx, id, old, want, err) != 0)
		return -1;
	if (pchanged(changed, "ttl") && json_is_object(ttl) && update_ttl(ctx, id, old, ttl, err) != 0)
		return -1;
	if (pchanged(changed, "point_in_time_recovery") && json_is_object(pitr) &&
	    put_pitr(ctx, id, pitr, NULL, err) != 0)
		return -1;
	if (pchanged(changed, "server_side_encryption") && json_is_object(sse)) {
		/* DynamoDB takes an encryption change only on its own. */
		json_t *in = json_pack("{s:s,s:o}", "TableName", id, "SSESpecification",
				       sse_spec(sse));
		int rc = update_table(ctx, in, err);

		json_decref(in);
		if (rc != 0)
			return -1;
	}
	if (pchanged(changed, "tags") &&
	    ptags_sync(ctx, &TAG_API, pstr(old, "arn") ? pstr(old, "arn") : "",
		       json_object_get(old, "tags"), json_object_get(want, "tags"), err) != 0)
		return -1;
	if (pread_after(ctx, ddb_read, "update", "table", id, want, out, err) != 0)
		return -1;
	return 0;
}

static int ddb_delete(const struct provider_ctx *ctx, const char *id, json_t *attrs,
		      struct cairn_err *err)
{
	/* ResourceInUseException: the table is still being created or updated. */
	static const char *const busy[] = {"ResourceInUseException", NULL};
	static const char *const gone[] = {"ResourceNotFoundException", NULL};
	json_t *in = json_pack("{s:s}", "TableName", id);
	int rc = pdelete(ctx, "dynamodb", "DeleteTable", in, busy, gone, DDB_WAIT_TIMEOUT_MS, err);

	/* describe() reports DELETING as gone; ask DescribeTable directly. */
	if (rc == 0)
		rc = pwait_gone(ctx, "waiting for the table to go", "dynamodb", "DescribeTable", in,
				gone, DDB_WAIT_TIMEOUT_MS, err);
	json_decref(in);
	return rc;
}


/* Table names are unique per region; adopt the table only if our tags are on it. */
static int ddb_find(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
		    struct cairn_err *err)
{
	const char *name = pstr(attrs, "name");
	json_t *table = NULL, *tin = NULL, *tags = NULL;
	int rc = -1;

	*out = NULL;
	if (!name)
		return 0;
	if (describe(ctx, name, &table, err) != 0)
		goto out;
	if (table) {
		tin = json_pack("{s:s}", "ResourceArn", pstr_or(json_object_get(table, "TableArn"), ""));
		if (aws_call_all(ctx->aws, "dynamodb", "ListTagsOfResource", tin, "Tags", &tags,
				 err) != 0) {
			err_prefix(err, "ListTagsOfResource on %s", ctx->name);
			goto out;
		}
		if (ptags_owned_by(tags, "Key", "Value", ctx)) {
			/* It may still be CREATING when the crash came mid-wait. */
			if (wait_active(ctx, name, NULL, err) != 0)
				goto out;
			if (ddb_read(ctx, name, attrs, out, err) != 0)
				goto out;
		}
	}
	rc = 0;
out:
	json_decref(table);
	json_decref(tin);
	json_decref(tags);
	return rc;
}

const struct resource_ops aws_dynamodb_table_ops = {
	.type = "aws_dynamodb_table",
	.create = ddb_create,
	.read = ddb_read,
	.read_batch = ddb_read_batch,
	.update = ddb_update,
	.delete = ddb_delete,
	.find = ddb_find,
};
