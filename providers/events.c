/*
 * events: the aws_cloudwatch_event_rule and aws_cloudwatch_event_target
 * resource types (EventBridge, json protocol).
 *
 * A rule's id is its name, "BUS/NAME" on a bus other than "default"
 * (Terraform's import id). PutRule creates it with the ownership tags and
 * also changes it in place (every field is sent again; AWS ignores Tags
 * on an existing rule, so tags change through Tag/UntagResource). A rule
 * is read from DescribeRule and ListTagsForResource.
 *
 * A target's id is "RULE/TARGET_ID" ("BUS/RULE/TARGET_ID" off the default
 * bus). PutTargets creates and updates it (it overwrites the target of
 * that id) and reports failures per entry in a 200 answer, which are
 * turned into errors here. Targets carry no tags: the rule and the target
 * id name one target, which is how crash adoption finds it. A batch read
 * is one ListTargetsByRule per rule.
 */
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "tagdiff.h"

#define SVC "events"
#define DEFAULT_BUS "default"

static const char *const GONE[] = {"ResourceNotFoundException", NULL};

/* Splits id into its '/'-separated parts: bus (DEFAULT_BUS when the id
 * has one part less), then the rest. parts[n] owned strings; returns -1
 * when id has neither n nor n-1 parts. */
static int split_id(const char *id, size_t n, char **parts)
{
	size_t k = 1, i;
	const char *p, *q;

	for (p = id; *p; p++)
		k += *p == '/';
	if (k != n && k != n - 1)
		return -1;
	i = 0;
	if (k == n - 1)
		parts[i++] = xstrdup(DEFAULT_BUS);
	for (p = id; i < n; i++, p = q + 1) {
		q = strchr(p, '/');
		if (!q)
			q = p + strlen(p);
		parts[i] = xstrndup(p, (size_t)(q - p));
		if (!*parts[i]) {
			for (k = 0; k <= i; k++)
				free(parts[k]);
			return -1;
		}
	}
	return 0;
}

/* "BUS/A[/B]" or "A[/B]" on the default bus: owned. */
static char *join_id(const char *bus, const char *a, const char *b)
{
	int dflt = !bus || strcmp(bus, DEFAULT_BUS) == 0;

	if (b)
		return dflt ? xasprintf("%s/%s", a, b) : xasprintf("%s/%s/%s", bus, a, b);
	return dflt ? xstrdup(a) : xasprintf("%s/%s", bus, a);
}

/* ---- aws_cloudwatch_event_rule ---- */

/* The rule's pattern as AWS returns it (text or absent): a structure, or
 * null for none (the schema's unset json). New ref. */
static json_t *event_pattern(const char *text)
{
	return text && *text ? json_doc_parse(text) : json_null();
}

static int rule_read(const struct provider_ctx *ctx, const char *id, json_t *prior, json_t **out,
		     struct cairn_err *err)
{
	char *part[2] = {NULL, NULL};
	json_t *in = NULL, *res = NULL, *tin = NULL, *tres = NULL, *o;
	int rc = -1;

	*out = NULL;
	if (split_id(id, 2, part) != 0) {
		err_set(err, CAIRN_EINVAL, "%s: '%s' is not a rule name or BUS/NAME", ctx->name, id);
		return -1;
	}
	in = json_pack("{s:s,s:s}", "Name", part[1], "EventBusName", part[0]);
	if (pcall_found(ctx, SVC, "DescribeRule", in, GONE, &res, err) != 0)
		goto out;
	if (!res || !pstr(res, "Arn")) {
		rc = 0;
		goto out;
	}
	tin = json_pack("{s:s}", "ResourceARN", pstr(res, "Arn"));
	if (pcall_found(ctx, SVC, "ListTagsForResource", tin, GONE, &tres, err) != 0)
		goto out;
	if (!tres) {
		rc = 0;
		goto out;
	}
	o = json_object();
	json_object_set_new(o, "id", json_string(part[1]));
	if (strcmp(part[0], DEFAULT_BUS) != 0)
		json_object_set_new(o, "id", json_pack("s++", part[0], "/", part[1]));
	json_object_set_new(o, "name", json_string(part[1]));
	json_object_set_new(o, "event_bus_name", json_string(part[0]));
	json_object_set_new(o, "description", pstr_json(json_object_get(res, "Description")));
	json_object_set_new(o, "event_pattern", event_pattern(pstr(res, "EventPattern")));
	json_object_set_new(o, "schedule_expression",
			    pstr_json(json_object_get(res, "ScheduleExpression")));
	json_object_set_new(o, "role_arn", pstr_json(json_object_get(res, "RoleArn")));
	json_object_set_new(o, "state", json_string(pstr_or(json_object_get(res, "State"),
							    "ENABLED")));
	json_object_set_new(o, "tags", ptags_from_list(json_object_get(tres, "Tags"), "Key",
						       "Value"));
	json_object_set_new(o, "arn", json_string(pstr(res, "Arn")));
	*out = o;
	rc = 0;
out:
	free(part[0]);
	free(part[1]);
	json_decref(in);
	json_decref(res);
	json_decref(tin);
	json_decref(tres);
	return rc;
}

/* PutRule's input for attrs: new object. */
static json_t *rule_input(json_t *attrs)
{
	const char *desc = pstr(attrs, "description"), *sched = pstr(attrs, "schedule_expression");
	const char *role = pstr(attrs, "role_arn");
	char *pattern = json_doc_text(json_object_get(attrs, "event_pattern"));
	json_t *in = json_pack("{s:s,s:s,s:s}", "Name", pstr(attrs, "name"),
			       "EventBusName", pstr_or(json_object_get(attrs, "event_bus_name"),
						       DEFAULT_BUS),
			       "State", pstr_or(json_object_get(attrs, "state"), "ENABLED"));

	if (desc)
		json_object_set_new(in, "Description", json_string(desc));
	if (sched && *sched)
		json_object_set_new(in, "ScheduleExpression", json_string(sched));
	if (role && *role)
		json_object_set_new(in, "RoleArn", json_string(role));
	if (pattern)
		json_object_set_new(in, "EventPattern", json_string(pattern));
	free(pattern);
	return in;
}

static int rule_create(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
		       struct cairn_err *err)
{
	json_t *tags = ptags_with_owner(ctx, json_object_get(attrs, "tags"));
	json_t *in = rule_input(attrs);
	char *id = join_id(pstr(attrs, "event_bus_name"), pstr(attrs, "name"), NULL);
	int rc = -1, created = 0;

	*out = NULL;
	json_object_set_new(in, "Tags", ptags_to_list(tags, "Key", "Value"));
	if (pcall_void(ctx, SVC, "PutRule", in, err) != 0)
		goto out;
	created = 1;
	if (pread_back(ctx, rule_read, "PutRule", "rule", id, attrs, out, err) != 0)
		goto out;
	rc = 0;
out:
	if (rc != 0 && created && !*out)
		*out = json_pack("{s:s,s:s}", "id", id, "name", pstr(attrs, "name"));
	json_decref(tags);
	json_decref(in);
	free(id);
	return rc;
}

static const struct ptag_api RULE_TAGS = {
	.service = SVC, .untag_op = "UntagResource", .tag_op = "TagResource",
	.id_member = "ResourceARN", .keys_member = "TagKeys", .tags_member = "Tags",
	.key_name = "Key", .value_name = "Value",
};

static int rule_update(const struct provider_ctx *ctx, const char *id, json_t *old, json_t *want,
		       json_t *changed, json_t **out, struct cairn_err *err)
{
	json_t *in = NULL;
	size_t i;
	json_t *c;
	int rc = -1, put = 0;

	*out = NULL;
	json_array_foreach(changed, i, c)
		put |= strcmp(json_string_value(c), "tags") != 0;
	if (put) {
		in = rule_input(want);
		if (pcall_void(ctx, SVC, "PutRule", in, err) != 0)
			goto out;
	}
	if (pchanged(changed, "tags") &&
	    ptags_sync(ctx, &RULE_TAGS, pstr(old, "arn"), json_object_get(old, "tags"),
		       json_object_get(want, "tags"), err) != 0)
		goto out;
	if (pread_after(ctx, rule_read, "update", "rule", id, want, out, err) != 0)
		goto out;
	rc = 0;
out:
	json_decref(in);
	return rc;
}

/* The targets go first (they are resources of their own, deleted before
 * their rule); a rule already gone is success. */
static int rule_delete(const struct provider_ctx *ctx, const char *id, json_t *attrs,
		       struct cairn_err *err)
{
	char *part[2] = {NULL, NULL};
	json_t *in;
	int rc;

	if (split_id(id, 2, part) != 0) {
		err_set(err, CAIRN_EINVAL, "%s: '%s' is not a rule name or BUS/NAME", ctx->name, id);
		return -1;
	}
	in = json_pack("{s:s,s:s}", "Name", part[1], "EventBusName", part[0]);
	rc = pcall_gone(ctx, SVC, "DeleteRule", in, "ResourceNotFoundException", err);
	json_decref(in);
	free(part[0]);
	free(part[1]);
	return rc;
}

/* Names are unique per bus: adopt the rule of that name only if it
 * carries this resource's ownership tags. */
static int rule_find(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
		     struct cairn_err *err)
{
	json_t *in = NULL, *res = NULL, *tin = NULL, *tres = NULL;
	char *id;
	int rc = -1;

	*out = NULL;
	if (!pstr(attrs, "name"))
		return 0;
	id = join_id(pstr(attrs, "event_bus_name"), pstr(attrs, "name"), NULL);
	in = json_pack("{s:s,s:s}", "Name", pstr(attrs, "name"), "EventBusName",
		       pstr_or(json_object_get(attrs, "event_bus_name"), DEFAULT_BUS));
	if (pcall_found(ctx, SVC, "DescribeRule", in, GONE, &res, err) != 0)
		goto out;
	if (!pstr(res, "Arn")) {
		rc = 0;
		goto out;
	}
	tin = json_pack("{s:s}", "ResourceARN", pstr(res, "Arn"));
	if (pcall_found(ctx, SVC, "ListTagsForResource", tin, GONE, &tres, err) != 0)
		goto out;
	if (tres && ptags_owned_by(json_object_get(tres, "Tags"), "Key", "Value", ctx) &&
	    rule_read(ctx, id, attrs, out, err) != 0)
		goto out;
	rc = 0;
out:
	free(id);
	json_decref(in);
	json_decref(res);
	json_decref(tin);
	json_decref(tres);
	return rc;
}

const struct resource_ops aws_cloudwatch_event_rule_ops = {
	.type = "aws_cloudwatch_event_rule",
	.create = rule_create,
	.read = rule_read,
	.update = rule_update,
	.delete = rule_delete,
	.find = rule_find,
};

/* ---- aws_cloudwatch_event_target ---- */

/* Attribute object of a target as ListTargetsByRule reports it. New ref. */
static json_t *target_attrs(const char *bus, const char *rule, json_t *t)
{
	json_t *o = json_object(), *it = json_object_get(t, "InputTransformer"), *x;
	char *id = join_id(bus, rule, pstr(t, "Id"));

	json_object_set_new(o, "id", json_string(id));
	json_object_set_new(o, "rule", json_string(rule));
	json_object_set_new(o, "event_bus_name", json_string(bus));
	json_object_set_new(o, "target_id", pstr_json(json_object_get(t, "Id")));
	json_object_set_new(o, "arn", pstr_json(json_object_get(t, "Arn")));
	json_object_set_new(o, "role_arn", pstr_json(json_object_get(t, "RoleArn")));
	json_object_set_new(o, "input", pstr_json(json_object_get(t, "Input")));
	json_object_set_new(o, "input_path", pstr_json(json_object_get(t, "InputPath")));
	x = json_array();
	if (json_is_object(it)) {
		json_t *paths = json_object_get(it, "InputPathsMap");

		json_array_append_new(x, json_pack("{s:O,s:o}", "input_paths",
						   json_is_object(paths) ? paths : json_object(),
						   "input_template",
						   pstr_json(json_object_get(it, "InputTemplate"))));
	}
	json_object_set_new(o, "input_transformer", x);
	free(id);
	return o;
}

/* One rule's targets for a batch: rules[i] (bus, name) read into lists[i]. */
struct rule_batch {
	char **bus, **rule;
	json_t **lists;
};

static int batch_item(const struct provider_ctx *ctx, size_t i, void *arg,
		      struct cairn_err *err)
{
	struct rule_batch *b = arg;
	json_t *in = json_pack("{s:s,s:s}", "Rule", b->rule[i], "EventBusName", b->bus[i]);
	int rc = aws_call_all(ctx->aws, SVC, "ListTargetsByRule", in, "Targets", &b->lists[i],
			      err);

	if (rc != 0 && perr_is(err, "ResourceNotFoundException")) {
		err_clear(err);
		rc = 0;                 /* the rule is gone, and its targets with it */
	} else if (rc != 0) {
		err_prefix(err, "ListTargetsByRule on %s", ctx->name);
	}
	json_decref(in);
	return rc;
}

/* The target of id tid in list (borrowed) or NULL. */
static json_t *target_in(json_t *list, const char *tid)
{
	json_t *t;
	size_t i;

	json_array_foreach(list, i, t)
		if (pstr(t, "Id") && strcmp(pstr(t, "Id"), tid) == 0)
			return t;
	return NULL;
}

static int target_read_batch(const struct provider_ctx *const *ctxs, size_t n,
			     const char *const *ids, json_t *const *priors, json_t **outs,
			     struct cairn_err *err)
{
	size_t m = n ? n : 1, i, k, nd = 0;
	char **parts = xcalloc(3 * m, sizeof(*parts));
	struct rule_batch b;
	const struct provider_ctx **dctx = xcalloc(m, sizeof(*dctx));
	size_t *slot = xcalloc(m, sizeof(*slot));
	json_t *t;
	int rc = -1;

	b.bus = xcalloc(m, sizeof(*b.bus));
	b.rule = xcalloc(m, sizeof(*b.rule));
	b.lists = xcalloc(m, sizeof(*b.lists));
	for (i = 0; i < n; i++) {
		char **p = parts + 3 * i;

		outs[i] = NULL;
		if (split_id(ids[i], 3, p) != 0) {
			err_set(err, CAIRN_EINVAL, "%s: '%s' is not RULE/TARGET_ID or "
				"BUS/RULE/TARGET_ID", ctxs[i]->name, ids[i]);
			goto out;
		}
		for (k = 0; k < nd && (strcmp(b.bus[k], p[0]) || strcmp(b.rule[k], p[1])); k++)
			;
		if (k == nd) {
			b.bus[nd] = p[0];
			b.rule[nd] = p[1];
			dctx[nd++] = ctxs[i];
		}
		slot[i] = k;
	}
	if (peach(dctx, nd, batch_item, &b, err) != 0)
		goto out;
	for (i = 0; i < n; i++) {
		t = target_in(b.lists[slot[i]], parts[3 * i + 2]);
		if (t)
			outs[i] = target_attrs(parts[3 * i], parts[3 * i + 1], t);
	}
	rc = 0;
out:
	if (rc != 0)
		pouts_clear(outs, n);
	for (i = 0; i < 3 * n; i++)
		free(parts[i]);
	for (k = 0; k < nd; k++)
		json_decref(b.lists[k]);
	free(parts);
	free(b.bus);
	free(b.rule);
	free(b.lists);
	free(dctx);
	free(slot);
	return rc;
}

static int target_read(const struct provider_ctx *ctx, const char *id, json_t *prior,
		       json_t **out, struct cairn_err *err)
{
	return target_read_batch(&ctx, 1, &id, &prior, out, err);
}

/* The target id: the given one, else one made of the resource name (the
 * characters AWS allows, at most 64). Owned. */
static char *target_id(const struct provider_ctx *ctx, json_t *attrs)
{
	const char *given = pstr(attrs, "target_id");
	char *id;
	size_t i;

	if (given && *given)
		return xstrdup(given);
	id = xasprintf("cairn-%.58s", ctx->name);
	for (i = 0; id[i]; i++)
		if (!strchr("._-", id[i]) && !(id[i] >= '0' && id[i] <= '9') &&
		    !((id[i] | 0x20) >= 'a' && (id[i] | 0x20) <= 'z'))
			id[i] = '-';
	return id;
}

/* PutTargets of attrs under target id tid; per-entry failures are errors. */
static int put_target(const struct provider_ctx *ctx, json_t *attrs, const char *tid,
		      struct cairn_err *err)
{
	json_t *t = json_pack("{s:s,s:s}", "Id", tid, "Arn", pstr(attrs, "arn"));
	json_t *in, *res = NULL, *f, *x;
	const char *v;
	int rc = -1;

	if ((v = pstr(attrs, "role_arn")) && *v)
		json_object_set_new(t, "RoleArn", json_string(v));
	if ((v = pstr(attrs, "input")) && *v)
		json_object_set_new(t, "Input", json_string(v));
	if ((v = pstr(attrs, "input_path")) && *v)
		json_object_set_new(t, "InputPath", json_string(v));
	x = json_array_get(json_object_get(attrs, "input_transformer"), 0);
	if (json_is_object(x)) {
		json_t *it = json_pack("{s:s}", "InputTemplate",
				       pstr_or(json_object_get(x, "input_template"), ""));

		if (json_object_size(json_object_get(x, "input_paths")))
			json_object_set(it, "InputPathsMap", json_object_get(x, "input_paths"));
		json_object_set_new(t, "InputTransformer", it);
	}
	in = json_pack("{s:s,s:s,s:[o]}", "Rule", pstr(attrs, "rule"), "EventBusName",
		       pstr_or(json_object_get(attrs, "event_bus_name"), DEFAULT_BUS),
		       "Targets", t);
	if (pcall(ctx, SVC, "PutTargets", in, &res, err) != 0)
		goto out;
	f = json_array_get(json_object_get(res, "FailedEntries"), 0);
	if (json_integer_value(json_object_get(res, "FailedEntryCount")) > 0 || f) {
		err_set(err, CAIRN_EAWS, "PutTargets on %s: %s: %s", ctx->name,
			pstr_or(json_object_get(f, "ErrorCode"), "failed"),
			pstr_or(json_object_get(f, "ErrorMessage"), "target refused"));
		goto out;
	}
	rc = 0;
out:
	json_decref(in);
	json_decref(res);
	return rc;
}

static int target_create(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
			 struct cairn_err *err)
{
	char *tid = target_id(ctx, attrs);
	char *id = join_id(pstr(attrs, "event_bus_name"), pstr(attrs, "rule"), tid);
	int rc = -1, created = 0;

	*out = NULL;
	if (put_target(ctx, attrs, tid, err) != 0)
		goto out;
	created = 1;
	if (pread_back(ctx, target_read, "PutTargets", "target", id, attrs, out, err) != 0)
		goto out;
	rc = 0;
out:
	if (rc != 0 && created && !*out)
		*out = json_pack("{s:s,s:s}", "id", id, "target_id", tid);
	free(tid);
	free(id);
	return rc;
}

static int target_update(const struct provider_ctx *ctx, const char *id, json_t *old,
			 json_t *want, json_t *changed, json_t **out, struct cairn_err *err)
{
	*out = NULL;
	if (put_target(ctx, want, pstr_or(json_object_get(old, "target_id"), ""), err) != 0)
		return -1;
	if (pread_after(ctx, target_read, "update", "target", id, want, out, err) != 0)
		return -1;
	return 0;
}

static int target_delete(const struct provider_ctx *ctx, const char *id, json_t *attrs,
			 struct cairn_err *err)
{
	char *part[3] = {NULL, NULL, NULL};
	json_t *in, *res = NULL;
	int rc;

	if (split_id(id, 3, part) != 0) {
		err_set(err, CAIRN_EINVAL, "%s: '%s' is not RULE/TARGET_ID", ctx->name, id);
		return -1;
	}
	in = json_pack("{s:s,s:s,s:[s]}", "Rule", part[1], "EventBusName", part[0], "Ids",
		       part[2]);
	/* Removing a target that is not there succeeds; so does a gone rule. */
	rc = pcall_found(ctx, SVC, "RemoveTargets", in, GONE, &res, err);
	json_decref(in);
	json_decref(res);
	free(part[0]);
	free(part[1]);
	free(part[2]);
	return rc;
}

/* Rule and target id name the one target this resource can be. */
static int target_find(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
		       struct cairn_err *err)
{
	char *tid, *id;
	int rc;

	*out = NULL;
	if (!pstr(attrs, "rule"))
		return 0;
	tid = target_id(ctx, attrs);
	id = join_id(pstr(attrs, "event_bus_name"), pstr(attrs, "rule"), tid);
	rc = target_read(ctx, id, attrs, out, err);
	free(tid);
	free(id);
	return rc;
}

const struct resource_ops aws_cloudwatch_event_target_ops = {
	.type = "aws_cloudwatch_event_target",
	.create = target_create,
	.read = target_read,
	.read_batch = target_read_batch,
	.update = target_update,
	.delete = target_delete,
	.find = target_find,
};
