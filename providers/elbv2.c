/*
 * elbv2: the Elastic Load Balancing v2 resource types aws_lb (application
 * load balancers), aws_lb_target_group, aws_lb_listener and
 * aws_lb_listener_rule (query protocol).
 *
 * Every id is the resource's ARN. The four types share one reading path:
 * a batched Describe by ARNs (which fails as a whole when one ARN is gone,
 * so then each ARN is described alone), DescribeTags for up to 20 ARNs a
 * call, and a per-type conversion to the schema's attribute object.
 *
 * AWS refuses to delete a target group a listener or rule still forwards
 * to (ResourceInUse). The engine deletes dependents first or, with
 * create_before_destroy, repoints them before deleting the old group; the
 * delete here only rides out the seconds AWS takes to notice.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common.h"
#include "tagdiff.h"

#define SVC "elbv2"
#define ELB_DESCRIBE_MAX 20          /* Describe* by ARNs and DescribeTags take at most 20 */
#define ELB_LB_TIMEOUT_MS (10 * 60 * 1000L)
#define ELB_IN_USE_TIMEOUT_MS (2 * 60 * 1000L)
#define ELB_POLL_MS 2000L
#define ELB_POLL_MAX_MS 10000L
#define ELB_PRIORITY_ATTEMPTS 5

/* ---- small JSON helpers ---- */

/* Sets key to the integer form of v if it is a number (leaves it out otherwise). */
static void set_num(json_t *o, const char *key, json_t *v)
{
	json_int_t n;

	if (json_int_of(v, &n) == 0)
		json_object_set_new(o, key, json_integer(n));
}

/* Load balancer / target group attribute list [{Key,Value}] -> {Key: Value}. */
static json_t *kv_object(json_t *list)
{
	json_t *o = json_object(), *e;
	size_t i;

	json_array_foreach(list, i, e)
		if (pstr(e, "Key"))
			json_object_set_new(o, pstr(e, "Key"), json_string_or_empty(pstr(e, "Value")));
	return o;
}

static int attr_bool(json_t *kv, const char *key, int dflt)
{
	const char *v = pstr(kv, key);

	return v ? strcmp(v, "true") == 0 : dflt;
}

static json_int_t attr_int(json_t *kv, const char *key, json_int_t dflt)
{
	json_int_t n;

	return json_int_of(json_object_get(kv, key), &n) == 0 ? n : dflt;
}

static json_t *kv_entry(const char *key, const char *value)
{
	return json_pack("{s:s,s:s}", "Key", key, "Value", value);
}

static json_t *kv_int_entry(const char *key, json_t *v)
{
	json_int_t n = 0;
	char buf[32];

	json_int_of(v, &n);
	snprintf(buf, sizeof(buf), "%lld", (long long)n);
	return kv_entry(key, buf);
}

/* ---- waiting ---- */

/*
 * Calls a Delete operation; already gone (notfound) is success and
 * ResourceInUse is retried until the in-use timeout: AWS reports a target
 * group in use for a moment after the listener that used it is deleted.
 */
static int delete_call(const struct provider_ctx *ctx, const char *op, json_t *in,
		       const char *notfound, struct cairn_err *err)
{
	static const char *const busy[] = {"ResourceInUse", NULL};
	const char *gone[] = {notfound, NULL};

	return pdelete(ctx, SVC, op, in, busy, gone, ELB_IN_USE_TIMEOUT_MS, err);
}

/* ---- the shared reading path ---- */

struct kind {
	const char *type;          /* "aws_lb" */
	const char *what;          /* "load balancer": for messages */
	const char *op;            /* DescribeLoadBalancers */
	const char *arns_member;   /* LoadBalancerArns */
	const char *result_key;    /* LoadBalancers */
	const char *arn_key;       /* LoadBalancerArn */
	const char *notfound;      /* LoadBalancerNotFound */
	/* The attributes that force replacement (the schema's force_new
	 * ones), NULL-terminated: crash recovery tells what a create made
	 * from an older object by them. */
	const char *const *immutable;
	/*
	 * One described item plus its AWS tag list (both borrowed) -> the
	 * attribute object (*out new ref; NULL when the resource turned out
	 * to be gone meanwhile). prior: recorded attributes or NULL.
	 */
	int (*attrs)(const struct provider_ctx *ctx, json_t *item, json_t *tags, json_t *prior,
		     json_t **out, struct cairn_err *err);
};

static const char *const NOTFOUND_CODES[] = {
	"LoadBalancerNotFound", "TargetGroupNotFound", "ListenerNotFound", "RuleNotFound",
};

static int is_notfound(const struct cairn_err *err)
{
	size_t i;

	for (i = 0; i < sizeof(NOTFOUND_CODES) / sizeof(NOTFOUND_CODES[0]); i++)
		if (perr_is(err, NOTFOUND_CODES[i]))
			return 1;
	return 0;
}

/* aws_call_all with the same error prefix as pcall. */
static int pcall_all(const struct provider_ctx *ctx, const char *op, json_t *in,
		     const char *result_key, json_t **items, struct cairn_err *err)
{
	if (aws_call_all(ctx->aws, SVC, op, in, result_key, items, err) == 0)
		return 0;
	err_prefix(err, "%s on %s", op, ctx->name);
	return -1;
}

/* Describes arns[from, to) in one call; adds each item to found (arn -> item). */
static int describe_chunk(const struct provider_ctx *ctx, const struct kind *k, json_t *arns,
			  size_t from, size_t to, json_t *found, struct cairn_err *err)
{
	json_t *in = json_object(), *chunk = json_array(), *items = NULL, *e;
	size_t i;
	int rc = -1;

	for (i = from; i < to; i++)
		json_array_append(chunk, json_array_get(arns, i));
	json_object_set_new(in, k->arns_member, chunk);
	if (pcall_all(ctx, k->op, in, k->result_key, &items, err) != 0)
		goto out;
	json_array_foreach(items, i, e)
		if (pstr(e, k->arn_key))
			json_object_set(found, pstr(e, k->arn_key), e);
	rc = 0;
out:
	json_decref(in);
	json_decref(items);
	return rc;
}

/*
 * Describes arns (array of strings, borrowed) into found (object
 * arn -> item, borrowed, filled). One missing ARN fails a whole call, so a
 * chunk that fails with not-found is described again ARN by ARN.
 */
static int describe_arns(const struct provider_ctx *ctx, const struct kind *k, json_t *arns,
			 json_t *found, struct cairn_err *err)
{
	size_t n = json_array_size(arns), from, i;

	for (from = 0; from < n; from += ELB_DESCRIBE_MAX) {
		size_t to = from + ELB_DESCRIBE_MAX < n ? from + ELB_DESCRIBE_MAX : n;

		if (describe_chunk(ctx, k, arns, from, to, found, err) == 0)
			continue;
		if (!is_notfound(err))
			return -1;
		for (i = from; i < to; i++) {
			err_clear(err);
			if (describe_chunk(ctx, k, arns, i, i + 1, found, err) != 0 &&
			    !is_notfound(err))
				return -1;
		}
		err_clear(err);
	}
	return 0;
}

/* DescribeTags of arns[from, to) into tags (arn -> AWS tag list). */
static int tags_chunk(const struct provider_ctx *ctx, json_t *arns, size_t from, size_t to,
		      json_t *tags, struct cairn_err *err)
{
	json_t *chunk = json_array(), *in, *out = NULL, *d;
	size_t i;
	int rc = -1;

	for (i = from; i < to; i++)
		json_array_append(chunk, json_array_get(arns, i));
	in = json_pack("{s:o}", "ResourceArns", chunk);
	if (pcall(ctx, SVC, "DescribeTags", in, &out, err) != 0)
		goto out;
	json_array_foreach(json_object_get(out, "TagDescriptions"), i, d)
		if (pstr(d, "ResourceArn")) {
			json_t *t = json_object_get(d, "Tags");

			json_object_set_new(tags, pstr(d, "ResourceArn"),
					    json_is_array(t) ? json_incref(t) : json_array());
		}
	rc = 0;
out:
	json_decref(in);
	json_decref(out);
	return rc;
}

/* Like describe_arns, for DescribeTags: tags gets arn -> [{Key,Value}]. */
static int describe_tags(const struct provider_ctx *ctx, json_t *arns, json_t *tags,
			 struct cairn_err *err)
{
	size_t n = json_array_size(arns), from, i;

	for (from = 0; from < n; from += ELB_DESCRIBE_MAX) {
		size_t to = from + ELB_DESCRIBE_MAX < n ? from + ELB_DESCRIBE_MAX : n;

		if (tags_chunk(ctx, arns, from, to, tags, err) == 0)
			continue;
		if (!is_notfound(err))
			return -1;
		for (i = from; i < to; i++) {
			err_clear(err);
			if (tags_chunk(ctx, arns, i, i + 1, tags, err) != 0 && !is_notfound(err))
				return -1;
		}
		err_clear(err);
	}
	return 0;
}

/* The user tags (owner tags dropped) of one described resource's tag list. */
static json_t *user_tags(json_t *tag_list)
{
	return ptags_from_list(tag_list, "Key", "Value");
}

/*
 * Reads n resources of one kind, all through ctxs[0]'s client: outs[i] is
 * the attribute object or NULL when gone. On failure every outs[i] is NULL.
 */
static int read_group(const struct kind *k, const struct provider_ctx *const *ctxs, size_t n,
		      const char *const *ids, json_t *const *priors, json_t **outs,
		      struct cairn_err *err)
{
	struct provider_ctx bctx = *ctxs[0];
	struct strbuf names;
	json_t *arns = json_array(), *found = json_object(), *present = json_array();
	json_t *tags = json_object();
	size_t i;
	int rc = -1;

	strbuf_init(&names);
	for (i = 0; i < n; i++) {
		outs[i] = NULL;
		json_array_append_new(arns, json_string(ids[i]));
		if (i < 3)
			strbuf_addf(&names, "%s%s", i ? ", " : "", ctxs[i]->name);
	}
	if (n > 3)
		strbuf_addf(&names, " and %zu more", n - 3);
	bctx.name = names.buf;
	if (describe_arns(&bctx, k, arns, found, err) != 0)
		goto out;
	for (i = 0; i < n; i++)
		if (json_object_get(found, ids[i]) && !json_array_has_str(present, ids[i]))
			json_array_append_new(present, json_string(ids[i]));
	if (describe_tags(&bctx, present, tags, err) != 0)
		goto out;
	for (i = 0; i < n; i++) {
		json_t *item = json_object_get(found, ids[i]);
		json_t *t = json_object_get(tags, ids[i]);

		/* No tag description: deleted between the two calls. */
		if (!item || !t)
			continue;
		if (k->attrs(ctxs[i], item, t, priors ? priors[i] : NULL, &outs[i], err) != 0)
			goto out;
	}
	rc = 0;
out:
	if (rc != 0)
		pouts_clear(outs, n);
	strbuf_free(&names);
	json_decref(arns);
	json_decref(found);
	json_decref(present);
	json_decref(tags);
	return rc;
}

/* read_batch for a kind: one group per AWS client (in practice one). */
static int read_kind(const struct kind *k, const struct provider_ctx *const *ctxs, size_t n,
		     const char *const *ids, json_t *const *priors, json_t **outs,
		     struct cairn_err *err)
{
	const struct provider_ctx **gctx = xcalloc(n + 1, sizeof(*gctx));
	const char **gids = xcalloc(n + 1, sizeof(*gids));
	json_t **gpriors = xcalloc(n + 1, sizeof(*gpriors));
	json_t **gouts = xcalloc(n + 1, sizeof(*gouts));
	size_t *gidx = xcalloc(n + 1, sizeof(*gidx));
	char *done = xcalloc(n + 1, 1);
	size_t i, j, m;
	int rc = -1;

	for (i = 0; i < n; i++)
		outs[i] = NULL;
	for (i = 0; i < n; i++) {
		if (done[i])
			continue;
		for (m = 0, j = i; j < n; j++)
			if (!done[j] && ctxs[j]->aws == ctxs[i]->aws) {
				gctx[m] = ctxs[j];
				gids[m] = ids[j];
				gpriors[m] = priors ? priors[j] : NULL;
				gidx[m++] = j;
				done[j] = 1;
			}
		if (read_group(k, gctx, m, gids, gpriors, gouts, err) != 0)
			goto out;
		for (j = 0; j < m; j++)
			outs[gidx[j]] = gouts[j];
	}
	rc = 0;
out:
	if (rc != 0)
		pouts_clear(outs, n);
	free(gctx);
	free(gids);
	free(gpriors);
	free(gouts);
	free(gidx);
	free(done);
	return rc;
}

static int read_one(const struct kind *k, const struct provider_ctx *ctx, const char *id,
		    json_t *prior, json_t **out, struct cairn_err *err)
{
	return read_kind(k, &ctx, 1, &id, &prior, out, err);
}

/*
 * After a create or update: reads the resource back with want as the
 * prior. If that fails, *out still holds the id so the engine records
 * what exists.
 */
static int read_back(const struct kind *k, const struct provider_ctx *ctx, const char *arn,
		     json_t *want, json_t **out, struct cairn_err *err)
{
	int rc = read_one(k, ctx, arn, want, out, err);

	if (rc == 0 && *out)
		return 0;
	if (rc == 0)
		err_set(err, CAIRN_EAWS, "%s: %s '%s' vanished right after it was written",
			ctx->name, k->what, arn);
	return pcreated_partial(out, arn, "arn");
}

/* The service's tagging calls for ptags_sync. */
static const struct ptag_api TAG_API = {
	.service = SVC, .untag_op = "RemoveTags", .tag_op = "AddTags",
	.id_member = "ResourceArns", .id_in_list = 1,
	.keys_member = "TagKeys", .tags_member = "Tags",
	.key_name = "Key", .value_name = "Value",
};

/*
 * The end of every update: the tag change (if tags changed), then the
 * resource read back into *out (see read_back).
 */
static int finish_update(const struct kind *k, const struct provider_ctx *ctx, const char *id,
			 json_t *old, json_t *want, json_t *changed, json_t **out,
			 struct cairn_err *err)
{
	if (pchanged(changed, "tags") &&
	    ptags_sync(ctx, &TAG_API, id, json_object_get(old, "tags"),
		       json_object_get(want, "tags"), err) != 0)
		return -1;
	return read_back(k, ctx, id, want, out, err);
}

/*
 * True if found has want's value for every attribute that forces
 * replacement: otherwise it is not what a create with want made (e.g. it
 * is the old object a create_before_destroy replacement stands in for,
 * which carries the same ownership tags and, for a named type, the name).
 */
static int same_immutables(const struct kind *k, json_t *want, json_t *found)
{
	const char *const *name;

	for (name = k->immutable; *name; name++) {
		json_t *a = json_object_get(want, *name), *b = json_object_get(found, *name);
		json_int_t x, y;

		if (!a || json_equal(a, b))
			continue;
		/* AWS reports names and protocols in its own case, numbers as it likes */
		if (json_is_string(a) && json_is_string(b) &&
		    strcasecmp(json_string_value(a), json_string_value(b)) == 0)
			continue;
		if (json_int_of(a, &x) == 0 && json_int_of(b, &y) == 0 && x == y)
			continue;
		return 0;
	}
	return 1;
}

/*
 * find among candidates (array of ARNs): the first one whose tags name
 * this ctx and whose immutable attributes are want's, read as attributes;
 * *out NULL if none.
 */
static int find_owned(const struct kind *k, const struct provider_ctx *ctx, json_t *candidates,
		      json_t *want, json_t **out, struct cairn_err *err)
{
	json_t *tags = json_object(), *t;
	const char *arn;
	int rc = -1;

	*out = NULL;
	if (describe_tags(ctx, candidates, tags, err) != 0)
		goto out;
	json_object_foreach(tags, arn, t) {
		if (!ptags_owned_by(t, "Key", "Value", ctx))
			continue;
		if (read_one(k, ctx, arn, want, out, err) != 0)
			goto out;
		if (*out && same_immutables(k, want, *out))
			break;
		json_decref(*out);
		*out = NULL;
	}
	rc = 0;
out:
	json_decref(tags);
	return rc;
}

/*
 * The ARN in the answer res of the kind's Create operation op (borrowed
 * from res), or NULL with err set when the answer has none.
 */
static const char *created_arn(const struct kind *k, const struct provider_ctx *ctx,
			       const char *op, json_t *res, struct cairn_err *err)
{
	const char *arn = pstr(json_array_get(json_object_get(res, k->result_key), 0), k->arn_key);

	if (!arn)
		err_set(err, CAIRN_EAWS, "%s on %s: no ARN in the answer", op, ctx->name);
	return arn;
}

/* Deletes the resource arn with the kind's Delete operation op (see delete_call). */
static int delete_arn(const struct kind *k, const struct provider_ctx *ctx, const char *op,
		      const char *arn, struct cairn_err *err)
{
	json_t *in = json_pack("{s:s}", k->arn_key, arn);
	int rc = delete_call(ctx, op, in, k->notfound, err);

	json_decref(in);
	return rc;
}

/*
 * find for the kinds looked up by a describe call: in (stolen) is the
 * input of the kind's Describe operation; gone is the error code that
 * means there is nothing to look in (no such name, or the parent is
 * gone). Default listener rules are never ours: they belong to the listener.
 */
static int find_described(const struct kind *k, const struct provider_ctx *ctx, json_t *in,
			  const char *gone, json_t *attrs, json_t **out, struct cairn_err *err)
{
	json_t *items = NULL, *arns = json_array(), *e;
	size_t i;
	int rc = -1;

	*out = NULL;
	if (pcall_all(ctx, k->op, in, k->result_key, &items, err) != 0) {
		if (perr_is(err, gone)) {
			err_clear(err);
			rc = 0;
		}
		goto out;
	}
	json_array_foreach(items, i, e)
		if (pstr(e, k->arn_key) && !json_is_true(json_object_get(e, "IsDefault")))
			json_array_append_new(arns, json_string(pstr(e, k->arn_key)));
	rc = find_owned(k, ctx, arns, attrs, out, err);
out:
	json_decref(in);
	json_decref(items);
	json_decref(arns);
	return rc;
}

/* ---- actions and conditions: schema shape <-> API shape ---- */

/* Schema action -> API Action (*api new ref); its type decides which block it needs. */
static int action_to_api(json_t *a, size_t idx, json_t **api, struct cairn_err *err)
{
	static const char *const redirect_keys[][2] = {
		{"protocol", "Protocol"}, {"port", "Port"}, {"host", "Host"},
		{"path", "Path"}, {"query", "Query"}, {"status_code", "StatusCode"},
	};
	const char *type = pstr(a, "type"), *missing = NULL;
	json_t *fr = json_object_get(a, "fixed_response"), *rd = json_object_get(a, "redirect");
	json_t *fw = json_object_get(a, "forward");
	json_t *o = json_pack("{s:s,s:I}", "Type", type ? type : "", "Order", (json_int_t)idx + 1);
	json_t *c, *st;
	size_t i;
	int rc = -1;

	*api = NULL;
	if (!type) {
		missing = "a type";
	} else if (strcmp(type, "forward") == 0 && json_is_object(fw)) {
		/* Weighted forward: a ForwardConfig of several target groups. */
		json_t *groups = json_array(), *g;

		json_array_foreach(json_object_get(fw, "target_group"), i, g) {
			json_int_t w = json_int_or(json_object_get(g, "weight"), 1);

			json_array_append_new(groups, json_pack(
				"{s:s,s:I}", "TargetGroupArn", pstr_or(json_object_get(g, "arn"), ""),
				"Weight", w));
		}
		if (!json_array_size(groups)) {
			json_decref(groups);
			missing = "forward with a target_group";
			goto out;
		}
		c = json_pack("{s:o}", "TargetGroups", groups);
		st = json_object_get(fw, "stickiness");
		if (json_is_object(st)) {
			json_t *sc = json_pack("{s:b}", "Enabled",
					       json_is_true(json_object_get(st, "enabled")));

			if (json_is_integer(json_object_get(st, "duration")))
				json_object_set(sc, "DurationSeconds", json_object_get(st, "duration"));
			json_object_set_new(c, "TargetGroupStickinessConfig", sc);
		}
		json_object_set_new(o, "ForwardConfig", c);
	} else if (strcmp(type, "forward") == 0) {
		if (!pstr(a, "target_group_arn")) {
			missing = "target_group_arn or forward";
			goto out;
		}
		json_object_set_new(o, "TargetGroupArn", json_string(pstr(a, "target_group_arn")));
	} else if (strcmp(type, "fixed-response") == 0) {
		if (!json_is_object(fr) || !pstr(fr, "content_type")) {
			missing = "fixed_response with content_type";
			goto out;
		}
		c = json_pack("{s:s}", "ContentType", pstr(fr, "content_type"));
		if (pstr(fr, "message_body"))
			json_object_set_new(c, "MessageBody", json_string(pstr(fr, "message_body")));
		if (pstr(fr, "status_code"))
			json_object_set_new(c, "StatusCode", json_string(pstr(fr, "status_code")));
		json_object_set_new(o, "FixedResponseConfig", c);
	} else if (strcmp(type, "redirect") == 0) {
		if (!json_is_object(rd) || !pstr(rd, "status_code")) {
			missing = "redirect with status_code";
			goto out;
		}
		c = json_object();
		for (i = 0; i < sizeof(redirect_keys) / sizeof(redirect_keys[0]); i++)
			if (pstr(rd, redirect_keys[i][0]))
				json_object_set_new(c, redirect_keys[i][1],
						    json_string(pstr(rd, redirect_keys[i][0])));
		json_object_set_new(o, "RedirectConfig", c);
	} else {
		missing = "to be one of forward, fixed-response, redirect";
	}
	if (missing)
		goto out;
	*api = json_incref(o);
	rc = 0;
out:
	if (missing)
		err_set(err, CAIRN_EINVAL, "action %zu (type '%s') needs %s", idx + 1,
			type ? type : "", missing);
	json_decref(o);
	return rc;
}

/* Schema action list -> API Actions (new array), or NULL with err. */
static json_t *actions_to_api(const struct provider_ctx *ctx, const char *attr, json_t *list,
			      struct cairn_err *err)
{
	json_t *out = json_array(), *a, *api;
	size_t i;

	json_array_foreach(list, i, a) {
		if (action_to_api(a, i, &api, err) != 0) {
			err_prefix(err, "%s: %s", ctx->name, attr);
			json_decref(out);
			return NULL;
		}
		json_array_append_new(out, api);
	}
	return out;
}

static json_int_t action_order(json_t *a)
{
	json_int_t n;

	return json_int_of(json_object_get(a, "Order"), &n) == 0 ? n : 0;
}

static int cmp_action(const void *x, const void *y)
{
	json_int_t a = action_order(*(json_t *const *)x), b = action_order(*(json_t *const *)y);

	return a < b ? -1 : a > b;
}

/* The forward target of an action: TargetGroupArn, or the single group of ForwardConfig. */
static const char *forward_target(json_t *a)
{
	json_t *groups = json_object_get(json_object_get(a, "ForwardConfig"), "TargetGroups");

	if (pstr(a, "TargetGroupArn"))
		return pstr(a, "TargetGroupArn");
	if (json_array_size(groups) == 1)
		return pstr(json_array_get(groups, 0), "TargetGroupArn");
	return NULL;
}

/*
 * A forward action's ForwardConfig as the schema's forward block (new
 * ref). AWS reports a ForwardConfig for every forward, a single-group one
 * too: the block is shown when it holds several groups, or when the
 * recorded action (prior, may be NULL) used it.
 */
static json_t *forward_from_api(json_t *a, json_t *prior)
{
	json_t *fc = json_object_get(a, "ForwardConfig"), *groups, *g, *out, *list;
	json_t *st = json_object_get(fc, "TargetGroupStickinessConfig");
	size_t i;

	groups = json_object_get(fc, "TargetGroups");
	if (!json_is_object(fc) ||
	    (json_array_size(groups) < 2 && !json_is_object(json_object_get(prior, "forward"))))
		return NULL;
	list = json_array();
	json_array_foreach(groups, i, g)
		json_array_append_new(list, json_pack(
			"{s:s,s:I}", "arn", pstr_or(json_object_get(g, "TargetGroupArn"), ""),
			"weight", json_int_or(json_object_get(g, "Weight"), 1)));
	out = json_pack("{s:o}", "target_group", list);
	json_object_set_new(out, "stickiness", json_pack(
		"{s:b,s:I}", "enabled", json_is_true(json_object_get(st, "Enabled")), "duration",
		json_int_or(json_object_get(st, "DurationSeconds"),
			    json_int_or(json_object_get(json_object_get(json_object_get(
				    prior, "forward"), "stickiness"), "duration"), 1))));
	return out;
}

/* API Actions -> schema action list (new array), in Order; prior: the
 * recorded list (may be NULL). */
static json_t *actions_from_api(json_t *actions, json_t *prior)
{
	size_t n = json_array_size(actions), i;
	json_t **sorted = xcalloc(n + 1, sizeof(*sorted)), *out = json_array();

	for (i = 0; i < n; i++)
		sorted[i] = json_array_get(actions, i);
	qsort(sorted, n, sizeof(*sorted), cmp_action);
	for (i = 0; i < n; i++) {
		json_t *a = sorted[i], *o = json_object(), *c, *fw;
		const char *type = pstr(a, "Type");

		json_object_set_new(o, "type", json_string_or_empty(type));
		fw = type && strcmp(type, "forward") == 0
			     ? forward_from_api(a, json_array_get(prior, i)) : NULL;
		if (fw)
			json_object_set_new(o, "forward", fw);
		else if (type && strcmp(type, "forward") == 0 && forward_target(a))
			json_object_set_new(o, "target_group_arn", json_string(forward_target(a)));
		c = json_object_get(a, "FixedResponseConfig");
		if (json_is_object(c)) {
			json_t *fr = json_object();

			json_object_set_new(fr, "content_type", json_string_or_empty(pstr(c, "ContentType")));
			if (pstr(c, "MessageBody"))
				json_object_set_new(fr, "message_body",
						    json_string(pstr(c, "MessageBody")));
			json_object_set_new(fr, "status_code", json_string_or_empty(pstr(c, "StatusCode")));
			json_object_set_new(o, "fixed_response", fr);
		}
		c = json_object_get(a, "RedirectConfig");
		if (json_is_object(c))
			json_object_set_new(o, "redirect", json_pack("{s:o,s:o,s:o,s:o,s:o,s:o}",
				"protocol", json_string_or_empty(pstr(c, "Protocol")),
				"port", json_string_or_empty(pstr(c, "Port")),
				"host", json_string_or_empty(pstr(c, "Host")),
				"path", json_string_or_empty(pstr(c, "Path")),
				"query", json_string_or_empty(pstr(c, "Query")),
				"status_code", json_string_or_empty(pstr(c, "StatusCode"))));
		json_array_append_new(out, o);
	}
	free(sorted);
	return out;
}

/*
 * The condition kinds: schema key, API Field, API config member, and how
 * the block maps onto the config. Every config holds a Values list; an
 * http_header block also names the header, and query_string is a list of
 * {key, value} blocks that become the config's Values of {Key, Value}.
 */
enum cond_shape { COND_VALUES, COND_HEADER, COND_QUERY };

static const struct {
	const char *key, *field, *config;
	enum cond_shape shape;
} CONDITIONS[] = {
	{"path_pattern", "path-pattern", "PathPatternConfig", COND_VALUES},
	{"host_header", "host-header", "HostHeaderConfig", COND_VALUES},
	{"http_header", "http-header", "HttpHeaderConfig", COND_HEADER},
	{"http_request_method", "http-request-method", "HttpRequestMethodConfig", COND_VALUES},
	{"query_string", "query-string", "QueryStringConfig", COND_QUERY},
	{"source_ip", "source-ip", "SourceIpConfig", COND_VALUES},
};
#define N_CONDITIONS (sizeof(CONDITIONS) / sizeof(CONDITIONS[0]))

/* One condition block (borrowed) of kind j -> the API config object (new ref). */
static json_t *condition_config(size_t j, json_t *block)
{
	json_t *v = json_object_get(block, "values"), *pairs, *q;
	size_t i;

	if (CONDITIONS[j].shape == COND_QUERY) {
		pairs = json_array();
		json_array_foreach(block, i, q) {
			json_t *pair = json_pack("{s:s}", "Value", pstr_or(json_object_get(q, "value"), ""));

			if (pstr(q, "key"))
				json_object_set_new(pair, "Key", json_string(pstr(q, "key")));
			json_array_append_new(pairs, pair);
		}
		return json_pack("{s:o}", "Values", pairs);
	}
	q = json_pack("{s:O}", "Values", json_is_array(v) ? v : json_array());
	if (CONDITIONS[j].shape == COND_HEADER)
		json_object_set_new(q, "HttpHeaderName",
				    json_string(pstr_or(json_object_get(block, "http_header_name"), "")));
	return q;
}

/* Schema condition list -> API Conditions (new array), or NULL with err. */
static json_t *conditions_to_api(const struct provider_ctx *ctx, json_t *list,
				 struct cairn_err *err)
{
	json_t *out = json_array(), *c;
	size_t i, j;

	json_array_foreach(list, i, c) {
		json_t *api = NULL;
		int set = 0;

		for (j = 0; j < N_CONDITIONS; j++) {
			json_t *block = json_object_get(c, CONDITIONS[j].key);

			if (CONDITIONS[j].shape == COND_QUERY ? !json_array_size(block)
							      : !json_is_object(block))
				continue;
			set++;
			json_decref(api);
			api = json_pack("{s:s,s:o}", "Field", CONDITIONS[j].field,
					CONDITIONS[j].config, condition_config(j, block));
		}
		if (set != 1) {
			json_decref(api);
			json_decref(out);
			err_set(err, CAIRN_EINVAL,
				"%s: condition %zu must set exactly one of path_pattern, host_header, "
				"http_header, http_request_method, query_string, source_ip",
				ctx->name, i + 1);
			return NULL;
		}
		json_array_append_new(out, api);
	}
	return out;
}

/* An API config (borrowed) of kind j -> the schema's block (new ref). */
static json_t *condition_block(size_t j, json_t *api)
{
	json_t *cfg = json_object_get(api, CONDITIONS[j].config);
	json_t *v = json_object_get(cfg, "Values"), *out, *pair;
	size_t i;

	if (CONDITIONS[j].shape == COND_QUERY) {
		out = json_array();
		json_array_foreach(v, i, pair) {
			json_t *q = json_pack("{s:s}", "value", pstr_or(json_object_get(pair, "Value"), ""));

			if (pstr(pair, "Key"))
				json_object_set_new(q, "key", json_string(pstr(pair, "Key")));
			json_array_append_new(out, q);
		}
		return out;
	}
	/* path-pattern and host-header also come as the older top-level Values */
	if (!json_is_array(v))
		v = json_object_get(api, "Values");
	out = json_pack("{s:O}", "values", json_is_array(v) ? v : json_array());
	if (CONDITIONS[j].shape == COND_HEADER)
		json_object_set_new(out, "http_header_name",
				    json_string(pstr_or(json_object_get(cfg, "HttpHeaderName"), "")));
	return out;
}

/*
 * API Conditions -> schema condition list (new array). AWS reports the
 * values of path-pattern and host-header both in Values and in the typed
 * config (moto only in the config when it was given so); conditions of
 * kinds the schema has no place for are left out.
 */
static json_t *conditions_from_api(json_t *conds)
{
	json_t *out = json_array(), *c;
	size_t i, j;

	json_array_foreach(conds, i, c) {
		const char *field = pstr(c, "Field");

		for (j = 0; field && j < N_CONDITIONS; j++)
			if (strcmp(field, CONDITIONS[j].field) == 0)
				json_array_append_new(out, json_pack("{s:o}", CONDITIONS[j].key,
								     condition_block(j, c)));
	}
	return out;
}

/* ---- aws_lb ---- */

/*
 * The access_logs block of o from the load balancer attributes kv. Logs on:
 * the bucket and prefix AWS holds. Logs off: the block only where the
 * stack had one (prior, the recorded block or NULL), keeping its bucket and
 * prefix, which mean nothing while logging is off (Terraform sends only
 * enabled=false then, and so does lb_set_attributes).
 */
static void access_logs_from_api(json_t *o, json_t *kv, json_t *prior)
{
	if (attr_bool(kv, "access_logs.s3.enabled", 0))
		json_object_set_new(o, "access_logs", json_pack(
			"{s:s,s:s,s:b}", "bucket", pstr_or(json_object_get(kv, "access_logs.s3.bucket"), ""),
			"prefix", pstr_or(json_object_get(kv, "access_logs.s3.prefix"), ""), "enabled", 1));
	else if (json_is_object(prior))
		json_object_set_new(o, "access_logs", json_pack(
			"{s:s,s:s,s:b}", "bucket", pstr_or(json_object_get(prior, "bucket"), ""),
			"prefix", pstr_or(json_object_get(prior, "prefix"), ""), "enabled", 0));
}

/* The access_logs.s3.* attributes for the wanted block (may be NULL: logs off) onto list. */
static void access_logs_to_api(json_t *list, json_t *logs)
{
	if (!json_is_true(json_object_get(logs, "enabled"))) {
		json_array_append_new(list, kv_entry("access_logs.s3.enabled", "false"));
		return;
	}
	json_array_append_new(list, kv_entry("access_logs.s3.enabled", "true"));
	json_array_append_new(list, kv_entry("access_logs.s3.bucket",
					     pstr_or(json_object_get(logs, "bucket"), "")));
	json_array_append_new(list, kv_entry("access_logs.s3.prefix",
					     pstr_or(json_object_get(logs, "prefix"), "")));
}

static int lb_attrs(const struct provider_ctx *ctx, json_t *lb, json_t *tags, json_t *prior,
		    json_t **out, struct cairn_err *err)
{
	const char *arn = pstr(lb, "LoadBalancerArn"), *suffix;
	json_t *in = json_pack("{s:s}", "LoadBalancerArn", arn), *res = NULL, *kv = NULL;
	json_t *subnets = json_array(), *az, *o;
	size_t i;
	int rc = -1;

	*out = NULL;
	if (pcall(ctx, SVC, "DescribeLoadBalancerAttributes", in, &res, err) != 0) {
		if (perr_is(err, "LoadBalancerNotFound")) {
			err_clear(err);
			rc = 0;
		}
		goto out;
	}
	kv = kv_object(json_object_get(res, "Attributes"));
	json_array_foreach(json_object_get(lb, "AvailabilityZones"), i, az)
		if (pstr(az, "SubnetId"))
			json_array_append_new(subnets, json_string(pstr(az, "SubnetId")));
	suffix = arn ? strstr(arn, ":loadbalancer/") : NULL;
	o = json_object();
	json_object_set_new(o, "id", json_string_or_empty(arn));
	json_object_set_new(o, "arn", json_string_or_empty(arn));
	json_object_set_new(o, "arn_suffix", json_string_or_empty(suffix ? suffix + 14 : NULL));
	json_object_set_new(o, "name", json_string_or_empty(pstr(lb, "LoadBalancerName")));
	json_object_set_new(o, "internal", json_boolean(pstr(lb, "Scheme") &&
						strcmp(pstr(lb, "Scheme"), "internal") == 0));
	json_object_set_new(o, "load_balancer_type", json_string_or_empty(pstr(lb, "Type")));
	json_object_set_new(o, "subnets", porder_like(subnets, json_object_get(prior, "subnets"), 1));
	json_object_set_new(o, "security_groups",
			    porder_like(json_object_get(lb, "SecurityGroups"),
				       json_object_get(prior, "security_groups"), 1));
	json_object_set_new(o, "ip_address_type", json_string_or_empty(pstr(lb, "IpAddressType")));
	/* An attribute AWS leaves out of the list has its documented default. */
	json_object_set_new(o, "idle_timeout",
			    json_integer(attr_int(kv, "idle_timeout.timeout_seconds", 60)));
	json_object_set_new(o, "enable_deletion_protection",
			    json_boolean(attr_bool(kv, "deletion_protection.enabled", 0)));
	json_object_set_new(o, "enable_http2",
			    json_boolean(attr_bool(kv, "routing.http2.enabled", 1)));
	access_logs_from_api(o, kv, json_object_get(prior, "access_logs"));
	json_object_set_new(o, "dns_name", json_string_or_empty(pstr(lb, "DNSName")));
	json_object_set_new(o, "zone_id", json_string_or_empty(pstr(lb, "CanonicalHostedZoneId")));
	json_object_set_new(o, "vpc_id", json_string_or_empty(pstr(lb, "VpcId")));
	json_object_set_new(o, "tags", user_tags(tags));
	*out = o;
	rc = 0;
out:
	json_decref(in);
	json_decref(res);
	json_decref(kv);
	json_decref(subnets);
	return rc;
}

static const char *const LB_IMMUTABLE[] = {"name", "internal", "load_balancer_type", NULL};

static const struct kind LB = {
	"aws_lb", "load balancer", "DescribeLoadBalancers", "LoadBalancerArns", "LoadBalancers",
	"LoadBalancerArn", "LoadBalancerNotFound", LB_IMMUTABLE, lb_attrs,
};

/* The load balancer's state while it comes up: 1 once active. */
static int lb_active_poll(const struct provider_ctx *ctx, void *arg, char *status,
			  size_t status_len, struct cairn_err *err)
{
	json_t *in = json_pack("{s:[s]}", "LoadBalancerArns", (const char *)arg), *out = NULL;
	json_t *state;
	const char *code;
	int rc = -1;

	if (pcall(ctx, SVC, "DescribeLoadBalancers", in, &out, err) != 0) {
		/* Just created: AWS may not list it for a moment. */
		if (!perr_is(err, "LoadBalancerNotFound"))
			goto out;
		err_clear(err);
	}
	state = json_object_get(json_array_get(json_object_get(out, "LoadBalancers"), 0), "State");
	code = pstr(state, "Code");
	snprintf(status, status_len, "%s", code ? code : "not listed yet");
	if (code && strcmp(code, "failed") == 0) {
		err_set(err, CAIRN_EAWS, "CreateLoadBalancer on %s: load balancer failed: %s",
			ctx->name, pstr(state, "Reason") ? pstr(state, "Reason") : "no reason given");
		goto out;
	}
	rc = code && strcmp(code, "active") == 0;
out:
	json_decref(in);
	json_decref(out);
	return rc;
}

/* Waits until the load balancer is active (it starts out provisioning). */
static int lb_wait_active(const struct provider_ctx *ctx, const char *arn, struct cairn_err *err)
{
	struct pwait_spec spec = {"waiting for the load balancer to become active", ELB_POLL_MS,
				  ELB_POLL_MAX_MS, ELB_LB_TIMEOUT_MS};

	return pwait_until(ctx, &spec, lb_active_poll, (void *)arn, err);
}

/* 1 once DescribeLoadBalancers no longer lists the load balancer. */
static int lb_gone_poll(const struct provider_ctx *ctx, void *arg, char *status,
			size_t status_len, struct cairn_err *err)
{
	json_t *in = json_pack("{s:[s]}", "LoadBalancerArns", (const char *)arg), *out = NULL;
	int rc = -1;

	if (pcall(ctx, SVC, "DescribeLoadBalancers", in, &out, err) != 0) {
		if (perr_is(err, "LoadBalancerNotFound")) {
			err_clear(err);
			rc = 1;
		}
	} else {
		rc = json_array_size(json_object_get(out, "LoadBalancers")) == 0;
		snprintf(status, status_len, "still listed");
	}
	json_decref(in);
	json_decref(out);
	return rc;
}

/* ModifyLoadBalancerAttributes for the named schema attributes (all when names is NULL). */
static int lb_set_attributes(const struct provider_ctx *ctx, const char *arn, json_t *want,
			     json_t *names, struct cairn_err *err)
{
	json_t *list = json_array(), *in, *out = NULL;
	int rc = 0;

	if (!names || pchanged(names, "idle_timeout"))
		json_array_append_new(list, kv_int_entry("idle_timeout.timeout_seconds",
							 json_object_get(want, "idle_timeout")));
	if (!names || pchanged(names, "enable_deletion_protection"))
		json_array_append_new(list, kv_entry("deletion_protection.enabled",
			json_is_true(json_object_get(want, "enable_deletion_protection")) ?
			"true" : "false"));
	if (!names || pchanged(names, "enable_http2"))
		json_array_append_new(list, kv_entry("routing.http2.enabled",
			json_is_false(json_object_get(want, "enable_http2")) ? "false" : "true"));
	/* A new load balancer logs nothing: only a block asks for a call. */
	if (names ? pchanged(names, "access_logs") : json_is_object(json_object_get(want, "access_logs")))
		access_logs_to_api(list, json_object_get(want, "access_logs"));
	in = json_pack("{s:s,s:o}", "LoadBalancerArn", arn, "Attributes", list);
	if (json_array_size(list) > 0)
		rc = pcall(ctx, SVC, "ModifyLoadBalancerAttributes", in, &out, err);
	json_decref(in);
	json_decref(out);
	return rc;
}

static int lb_create(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
		     struct cairn_err *err)
{
	json_t *in = json_object(), *res = NULL, *sgs = json_object_get(attrs, "security_groups");
	json_t *tags = ptags_with_owner(ctx, json_object_get(attrs, "tags"));
	char *arn = NULL;
	int rc = -1;

	*out = NULL;
	json_object_set_new(in, "Name", json_string_or_empty(pstr(attrs, "name")));
	json_object_set(in, "Subnets", json_object_get(attrs, "subnets"));
	if (json_array_size(sgs) > 0)
		json_object_set(in, "SecurityGroups", sgs);
	json_object_set_new(in, "Scheme", json_string(json_is_true(json_object_get(attrs, "internal")) ?
						       "internal" : "internet-facing"));
	json_object_set_new(in, "Type", json_string(pstr(attrs, "load_balancer_type") ?
						     pstr(attrs, "load_balancer_type") : "application"));
	if (pstr(attrs, "ip_address_type"))
		json_object_set_new(in, "IpAddressType", json_string(pstr(attrs, "ip_address_type")));
	json_object_set_new(in, "Tags", ptags_to_list(tags, "Key", "Value"));
	if (pcall(ctx, SVC, "CreateLoadBalancer", in, &res, err) != 0)
		goto out;
	arn = xstrdup(created_arn(&LB, ctx, "CreateLoadBalancer", res, err));
	if (!arn)
		goto out;
	if (lb_wait_active(ctx, arn, err) != 0 ||
	    lb_set_attributes(ctx, arn, attrs, NULL, err) != 0) {
		pcreated_partial(out, arn, "arn");
		goto out;
	}
	rc = read_back(&LB, ctx, arn, attrs, out, err);
out:
	free(arn);
	json_decref(in);
	json_decref(res);
	json_decref(tags);
	return rc;
}

static int lb_read(const struct provider_ctx *ctx, const char *id, json_t *prior, json_t **out,
		   struct cairn_err *err)
{
	return read_one(&LB, ctx, id, prior, out, err);
}

static int lb_read_batch(const struct provider_ctx *const *ctxs, size_t n,
			 const char *const *ids, json_t *const *priors, json_t **outs,
			 struct cairn_err *err)
{
	return read_kind(&LB, ctxs, n, ids, priors, outs, err);
}


static int lb_update(const struct provider_ctx *ctx, const char *id, json_t *old, json_t *want,
		     json_t *changed, json_t **out, struct cairn_err *err)
{
	json_t *in = NULL, *res = NULL;
	int rc = -1;

	*out = NULL;
	if (pchanged(changed, "subnets")) {
		in = json_pack("{s:s,s:O}", "LoadBalancerArn", id, "Subnets",
			       json_object_get(want, "subnets"));
		if (pcall(ctx, SVC, "SetSubnets", in, &res, err) != 0)
			goto out;
		json_decref(in);
		json_decref(res);
		in = res = NULL;
	}
	if (pchanged(changed, "security_groups") &&
	    json_is_array(json_object_get(want, "security_groups"))) {
		in = json_pack("{s:s,s:O}", "LoadBalancerArn", id, "SecurityGroups",
			       json_object_get(want, "security_groups"));
		if (pcall(ctx, SVC, "SetSecurityGroups", in, &res, err) != 0)
			goto out;
		json_decref(in);
		json_decref(res);
		in = res = NULL;
	}
	if (pchanged(changed, "ip_address_type")) {
		in = json_pack("{s:s,s:s}", "LoadBalancerArn", id, "IpAddressType",
			       pstr(want, "ip_address_type") ? pstr(want, "ip_address_type") : "ipv4");
		if (pcall(ctx, SVC, "SetIpAddressType", in, &res, err) != 0)
			goto out;
	}
	if ((pchanged(changed, "idle_timeout") || pchanged(changed, "enable_http2") ||
	     pchanged(changed, "enable_deletion_protection") || pchanged(changed, "access_logs")) &&
	    lb_set_attributes(ctx, id, want, changed, err) != 0)
		goto out;
	rc = 0;
out:
	json_decref(in);
	json_decref(res);
	return rc == 0 ? finish_update(&LB, ctx, id, old, want, changed, out, err) : rc;
}

/* Deletes the load balancer (its listeners and rules go with it) and waits until gone. */
static int lb_delete(const struct provider_ctx *ctx, const char *id, json_t *attrs,
		     struct cairn_err *err)
{
	struct pwait_spec spec = {"waiting for the load balancer to be deleted", ELB_POLL_MS,
				  ELB_POLL_MAX_MS, ELB_LB_TIMEOUT_MS};

	if (delete_arn(&LB, ctx, "DeleteLoadBalancer", id, err) != 0)
		return -1;
	return pwait_until(ctx, &spec, lb_gone_poll, (void *)id, err);
}


/* Load balancer names are unique per region: look the name up, keep it if it is ours. */
static int lb_find(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
		   struct cairn_err *err)
{
	json_t *in = json_pack("{s:[s]}", "Names", pstr(attrs, "name") ? pstr(attrs, "name") : "");

	return find_described(&LB, ctx, in, "LoadBalancerNotFound", attrs, out, err);
}

const struct resource_ops aws_lb_ops = {
	.type = "aws_lb",
	.create = lb_create,
	.read = lb_read,
	.read_batch = lb_read_batch,
	.update = lb_update,
	.delete = lb_delete,
	.find = lb_find,
};

/* ---- aws_lb_target_group ---- */

static json_t *tg_attrs_of(json_t *tg, json_t *kv, json_t *tags);

static int tg_attrs(const struct provider_ctx *ctx, json_t *tg, json_t *tags, json_t *prior,
		    json_t **out, struct cairn_err *err)
{
	const char *arn = pstr(tg, "TargetGroupArn");
	json_t *in = json_pack("{s:s}", "TargetGroupArn", arn), *res = NULL, *kv = NULL;
	int rc = -1;

	*out = NULL;
	if (pcall(ctx, SVC, "DescribeTargetGroupAttributes", in, &res, err) != 0) {
		if (perr_is(err, "TargetGroupNotFound")) {
			err_clear(err);
			rc = 0;
		}
		goto out;
	}
	kv = kv_object(json_object_get(res, "Attributes"));
	*out = tg_attrs_of(tg, kv, tags);
	rc = 0;
out:
	json_decref(in);
	json_decref(res);
	json_decref(kv);
	return rc;
}

/* Attributes of a target group as AWS describes it (tg), its attributes
 * as an object (kv) and its AWS tag list; all borrowed. New object. */
static json_t *tg_attrs_of(json_t *tg, json_t *kv, json_t *tags)
{
	const char *arn = pstr(tg, "TargetGroupArn"), *suffix = arn ? strrchr(arn, ':') : NULL;
	json_t *o = json_object(), *hc;

	json_object_set_new(o, "id", json_string_or_empty(arn));
	json_object_set_new(o, "arn", json_string_or_empty(arn));
	json_object_set_new(o, "arn_suffix", json_string_or_empty(suffix ? suffix + 1 : NULL));
	json_object_set_new(o, "name", json_string_or_empty(pstr(tg, "TargetGroupName")));
	set_num(o, "port", json_object_get(tg, "Port"));
	json_object_set_new(o, "protocol", json_string_or_empty(pstr(tg, "Protocol")));
	json_object_set_new(o, "vpc_id", json_string_or_empty(pstr(tg, "VpcId")));
	json_object_set_new(o, "target_type", json_string_or_empty(pstr(tg, "TargetType")));
	json_object_set_new(o, "deregistration_delay",
			    json_integer(attr_int(kv, "deregistration_delay.timeout_seconds", 300)));
	hc = json_object();
	json_object_set_new(hc, "enabled",
			    json_boolean(!json_is_false(json_object_get(tg, "HealthCheckEnabled"))));
	json_object_set_new(hc, "path", json_string_or_empty(pstr(tg, "HealthCheckPath")));
	json_object_set_new(hc, "port", json_string_or_empty(pstr(tg, "HealthCheckPort")));
	json_object_set_new(hc, "protocol", json_string_or_empty(pstr(tg, "HealthCheckProtocol")));
	set_num(hc, "interval", json_object_get(tg, "HealthCheckIntervalSeconds"));
	set_num(hc, "timeout", json_object_get(tg, "HealthCheckTimeoutSeconds"));
	set_num(hc, "healthy_threshold", json_object_get(tg, "HealthyThresholdCount"));
	set_num(hc, "unhealthy_threshold", json_object_get(tg, "UnhealthyThresholdCount"));
	json_object_set_new(hc, "matcher",
			    json_string_or_empty(pstr(json_object_get(tg, "Matcher"), "HttpCode")));
	json_object_set_new(o, "health_check", hc);
	json_object_set_new(o, "tags", user_tags(tags));
	return o;
}

static const char *const TG_IMMUTABLE[] = {
	"name", "port", "protocol", "vpc_id", "target_type", NULL,
};

static const struct kind TG = {
	"aws_lb_target_group", "target group", "DescribeTargetGroups", "TargetGroupArns", "TargetGroups",
	"TargetGroupArn", "TargetGroupNotFound", TG_IMMUTABLE, tg_attrs,
};

/* Adds the health_check object's settings (if any) to a Create/ModifyTargetGroup input. */
static void tg_health_check_input(json_t *in, json_t *hc)
{
	static const char *const strs[][2] = {
		{"path", "HealthCheckPath"}, {"port", "HealthCheckPort"},
		{"protocol", "HealthCheckProtocol"},
	};
	static const char *const nums[][2] = {
		{"interval", "HealthCheckIntervalSeconds"},
		{"timeout", "HealthCheckTimeoutSeconds"},
		{"healthy_threshold", "HealthyThresholdCount"},
		{"unhealthy_threshold", "UnhealthyThresholdCount"},
	};
	size_t i;

	if (!json_is_object(hc))
		return;
	if (json_is_boolean(json_object_get(hc, "enabled")))
		json_object_set(in, "HealthCheckEnabled", json_object_get(hc, "enabled"));
	for (i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		if (pstr(hc, strs[i][0]))
			json_object_set_new(in, strs[i][1], json_string(pstr(hc, strs[i][0])));
	for (i = 0; i < sizeof(nums) / sizeof(nums[0]); i++)
		set_num(in, nums[i][1], json_object_get(hc, nums[i][0]));
	if (pstr(hc, "matcher"))
		json_object_set_new(in, "Matcher", json_pack("{s:s}", "HttpCode", pstr(hc, "matcher")));
}

/* Sets the deregistration delay; kv (may be NULL): set to every
 * attribute of the group as the answer lists them (new object). */
static int tg_set_delay(const struct provider_ctx *ctx, const char *arn, json_t *want,
			json_t **kv, struct cairn_err *err)
{
	json_t *in = json_pack("{s:s,s:[o]}", "TargetGroupArn", arn, "Attributes",
			       kv_int_entry("deregistration_delay.timeout_seconds",
					    json_object_get(want, "deregistration_delay")));
	json_t *out = NULL;
	int rc = pcall(ctx, SVC, "ModifyTargetGroupAttributes", in, &out, err);

	if (rc == 0 && kv)
		*kv = kv_object(json_object_get(out, "Attributes"));
	json_decref(in);
	json_decref(out);
	return rc;
}

static int tg_create(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
		     struct cairn_err *err)
{
	json_t *in = json_object(), *res = NULL, *kv = NULL;
	json_t *tags = ptags_with_owner(ctx, json_object_get(attrs, "tags"));
	char *arn = NULL;
	int rc = -1;

	*out = NULL;
	json_object_set_new(in, "Name", json_string_or_empty(pstr(attrs, "name")));
	set_num(in, "Port", json_object_get(attrs, "port"));
	json_object_set_new(in, "Protocol", json_string(pstr(attrs, "protocol") ?
							 pstr(attrs, "protocol") : "HTTP"));
	json_object_set_new(in, "VpcId", json_string_or_empty(pstr(attrs, "vpc_id")));
	json_object_set_new(in, "TargetType", json_string(pstr(attrs, "target_type") ?
							   pstr(attrs, "target_type") : "instance"));
	tg_health_check_input(in, json_object_get(attrs, "health_check"));
	json_object_set_new(in, "Tags", ptags_to_list(tags, "Key", "Value"));
	if (pcall(ctx, SVC, "CreateTargetGroup", in, &res, err) != 0) {
		if (perr_is(err, "DuplicateTargetGroupName"))
			err_prefix(err, "target group name '%s' is taken (by another stack, or by "
				   "the group this one replaces)", pstr(attrs, "name"));
		goto out;
	}
	arn = xstrdup(created_arn(&TG, ctx, "CreateTargetGroup", res, err));
	if (!arn)
		goto out;
	if (json_object_get(attrs, "deregistration_delay") &&
	    tg_set_delay(ctx, arn, attrs, &kv, err) != 0) {
		pcreated_partial(out, arn, "arn");
		goto out;
	}
	/* The answers describe the group and its attributes (left alone: AWS's
	 * defaults); the tags are what was set: nothing to read back. */
	if (!kv)
		kv = json_object();
	*out = tg_attrs_of(json_array_get(json_object_get(res, "TargetGroups"), 0), kv,
			   json_object_get(in, "Tags"));
	rc = 0;
out:
	json_decref(kv);
	free(arn);
	json_decref(in);
	json_decref(res);
	json_decref(tags);
	return rc;
}

static int tg_read(const struct provider_ctx *ctx, const char *id, json_t *prior, json_t **out,
		   struct cairn_err *err)
{
	return read_one(&TG, ctx, id, prior, out, err);
}

static int tg_read_batch(const struct provider_ctx *const *ctxs, size_t n,
			 const char *const *ids, json_t *const *priors, json_t **outs,
			 struct cairn_err *err)
{
	return read_kind(&TG, ctxs, n, ids, priors, outs, err);
}

static int tg_update(const struct provider_ctx *ctx, const char *id, json_t *old, json_t *want,
		     json_t *changed, json_t **out, struct cairn_err *err)
{
	json_t *in = NULL, *res = NULL;
	int rc = -1;

	*out = NULL;
	if (pchanged(changed, "health_check") &&
	    json_is_object(json_object_get(want, "health_check"))) {
		in = json_pack("{s:s}", "TargetGroupArn", id);
		tg_health_check_input(in, json_object_get(want, "health_check"));
		if (pcall(ctx, SVC, "ModifyTargetGroup", in, &res, err) != 0)
			goto out;
	}
	if (pchanged(changed, "deregistration_delay") && tg_set_delay(ctx, id, want, NULL, err) != 0)
		goto out;
	rc = 0;
out:
	json_decref(in);
	json_decref(res);
	return rc == 0 ? finish_update(&TG, ctx, id, old, want, changed, out, err) : rc;
}

static int tg_delete(const struct provider_ctx *ctx, const char *id, json_t *attrs,
		     struct cairn_err *err)
{
	return delete_arn(&TG, ctx, "DeleteTargetGroup", id, err);
}


/* Target group names are unique per region: look the name up, keep it if it is ours. */
static int tg_find(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
		   struct cairn_err *err)
{
	json_t *in = json_pack("{s:[s]}", "Names", pstr(attrs, "name") ? pstr(attrs, "name") : "");

	return find_described(&TG, ctx, in, "TargetGroupNotFound", attrs, out, err);
}

const struct resource_ops aws_lb_target_group_ops = {
	.type = "aws_lb_target_group",
	.create = tg_create,
	.read = tg_read,
	.read_batch = tg_read_batch,
	.update = tg_update,
	.delete = tg_delete,
	.find = tg_find,
};

/* ---- aws_lb_listener ---- */

static int listener_attrs(const struct provider_ctx *ctx, json_t *l, json_t *tags,
			  json_t *prior, json_t **out, struct cairn_err *err)
{
	json_t *o = json_object();

	json_object_set_new(o, "id", json_string_or_empty(pstr(l, "ListenerArn")));
	json_object_set_new(o, "arn", json_string_or_empty(pstr(l, "ListenerArn")));
	json_object_set_new(o, "load_balancer_arn", json_string_or_empty(pstr(l, "LoadBalancerArn")));
	set_num(o, "port", json_object_get(l, "Port"));
	json_object_set_new(o, "protocol", json_string_or_empty(pstr(l, "Protocol")));
	/* Reported where the stack sets one: left out, AWS's default policy
	 * is no change (the schema does not plan an unknown ssl_policy for
	 * every HTTP listener). */
	if (pstr(l, "SslPolicy") && pstr(prior, "ssl_policy") && *pstr(prior, "ssl_policy"))
		json_object_set_new(o, "ssl_policy", json_string(pstr(l, "SslPolicy")));
	/* The default certificate (DescribeListeners lists only it). */
	if (pstr(json_array_get(json_object_get(l, "Certificates"), 0), "CertificateArn"))
		json_object_set_new(o, "certificate_arn", json_string(pstr(
			json_array_get(json_object_get(l, "Certificates"), 0), "CertificateArn")));
	json_object_set_new(o, "default_action",
			    actions_from_api(json_object_get(l, "DefaultActions"),
					     json_object_get(prior, "default_action")));
	json_object_set_new(o, "tags", user_tags(tags));
	*out = o;
	return 0;
}

static const char *const LISTENER_IMMUTABLE[] = {"load_balancer_arn", NULL};

static const struct kind LISTENER = {
	"aws_lb_listener", "listener", "DescribeListeners", "ListenerArns", "Listeners",
	"ListenerArn", "ListenerNotFound", LISTENER_IMMUTABLE, listener_attrs,
};

/* HTTPS: the default certificate and the security policy, when set. */
static void listener_tls(json_t *in, json_t *attrs)
{
	const char *cert = pstr(attrs, "certificate_arn"), *policy = pstr(attrs, "ssl_policy");

	if (cert && *cert)
		json_object_set_new(in, "Certificates",
				    json_pack("[{s:s}]", "CertificateArn", cert));
	if (policy && *policy)
		json_object_set_new(in, "SslPolicy", json_string(policy));
}

static int listener_create(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
			   struct cairn_err *err)
{
	json_t *actions = actions_to_api(ctx, "default_action",
					 json_object_get(attrs, "default_action"), err);
	json_t *tags = ptags_with_owner(ctx, json_object_get(attrs, "tags"));
	json_t *in = json_object(), *res = NULL;
	const char *arn;
	int rc = -1;

	*out = NULL;
	if (!actions)
		goto out;
	json_object_set_new(in, "LoadBalancerArn", json_string_or_empty(pstr(attrs, "load_balancer_arn")));
	set_num(in, "Port", json_object_get(attrs, "port"));
	json_object_set_new(in, "Protocol", json_string(pstr(attrs, "protocol") ?
							 pstr(attrs, "protocol") : "HTTP"));
	json_object_set(in, "DefaultActions", actions);
	listener_tls(in, attrs);
	json_object_set_new(in, "Tags", ptags_to_list(tags, "Key", "Value"));
	if (pcall(ctx, SVC, "CreateListener", in, &res, err) != 0)
		goto out;
	arn = created_arn(&LISTENER, ctx, "CreateListener", res, err);
	if (!arn)
		goto out;
	rc = read_back(&LISTENER, ctx, arn, attrs, out, err);
out:
	json_decref(actions);
	json_decref(tags);
	json_decref(in);
	json_decref(res);
	return rc;
}

static int listener_read(const struct provider_ctx *ctx, const char *id, json_t *prior,
			 json_t **out, struct cairn_err *err)
{
	return read_one(&LISTENER, ctx, id, prior, out, err);
}

static int listener_read_batch(const struct provider_ctx *const *ctxs, size_t n,
			       const char *const *ids, json_t *const *priors, json_t **outs,
			       struct cairn_err *err)
{
	return read_kind(&LISTENER, ctxs, n, ids, priors, outs, err);
}

static int listener_update(const struct provider_ctx *ctx, const char *id, json_t *old,
			   json_t *want, json_t *changed, json_t **out, struct cairn_err *err)
{
	json_t *in = NULL, *res = NULL, *actions;
	int rc = -1;

	*out = NULL;
	if (pchanged(changed, "port") || pchanged(changed, "protocol") ||
	    pchanged(changed, "default_action") || pchanged(changed, "certificate_arn") ||
	    pchanged(changed, "ssl_policy")) {
		actions = actions_to_api(ctx, "default_action",
					 json_object_get(want, "default_action"), err);
		if (!actions)
			goto out;
		in = json_pack("{s:s,s:o}", "ListenerArn", id, "DefaultActions", actions);
		set_num(in, "Port", json_object_get(want, "port"));
		if (pstr(want, "protocol"))
			json_object_set_new(in, "Protocol", json_string(pstr(want, "protocol")));
		listener_tls(in, want);
		if (pcall(ctx, SVC, "ModifyListener", in, &res, err) != 0)
			goto out;
	}
	rc = 0;
out:
	json_decref(in);
	json_decref(res);
	return rc == 0 ? finish_update(&LISTENER, ctx, id, old, want, changed, out, err) : rc;
}

static int listener_delete(const struct provider_ctx *ctx, const char *id, json_t *attrs,
			   struct cairn_err *err)
{
	return delete_arn(&LISTENER, ctx, "DeleteListener", id, err);
}


/* Listeners have no name: the ones of the wanted load balancer that carry our tags. */
static int listener_find(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
			 struct cairn_err *err)
{
	json_t *in = json_pack("{s:s}", "LoadBalancerArn",
			       pstr(attrs, "load_balancer_arn") ? pstr(attrs, "load_balancer_arn") : "");

	return find_described(&LISTENER, ctx, in, "LoadBalancerNotFound", attrs, out, err);
}

const struct resource_ops aws_lb_listener_ops = {
	.type = "aws_lb_listener",
	.create = listener_create,
	.read = listener_read,
	.read_batch = listener_read_batch,
	.update = listener_update,
	.delete = listener_delete,
	.find = listener_find,
};

/* ---- aws_lb_listener_rule ---- */

/*
 * A rule's ARN is its listener's with "listener-rule/" for "listener/" and
 * the rule's own id appended; DescribeRules does not report the listener.
 * New string, or NULL if arn has another form.
 */
static char *rule_listener_arn(const char *arn)
{
	const char *p = arn ? strstr(arn, ":listener-rule/") : NULL;
	const char *last = arn ? strrchr(arn, '/') : NULL;

	if (!p || !last || last < p)
		return NULL;
	return xasprintf("%.*s:listener/%.*s", (int)(p - arn), arn,
			 (int)(last - (p + 15)), p + 15);
}

static int rule_attrs(const struct provider_ctx *ctx, json_t *r, json_t *tags, json_t *prior,
		      json_t **out, struct cairn_err *err)
{
	char *listener = rule_listener_arn(pstr(r, "RuleArn"));
	json_t *o;

	*out = NULL;
	if (json_is_true(json_object_get(r, "IsDefault")) || !listener) {
		free(listener);
		err_set(err, CAIRN_EINVAL, "%s: '%s' is a listener's default rule, which is part "
			"of aws_lb_listener (default_action)", ctx->name, pstr(r, "RuleArn"));
		return -1;
	}
	o = json_object();
	json_object_set_new(o, "id", json_string_or_empty(pstr(r, "RuleArn")));
	json_object_set_new(o, "arn", json_string_or_empty(pstr(r, "RuleArn")));
	json_object_set_new(o, "listener_arn", json_string(listener));
	set_num(o, "priority", json_object_get(r, "Priority"));
	json_object_set_new(o, "condition", conditions_from_api(json_object_get(r, "Conditions")));
	json_object_set_new(o, "action", actions_from_api(json_object_get(r, "Actions"),
							       json_object_get(prior, "action")));
	json_object_set_new(o, "tags", user_tags(tags));
	free(listener);
	*out = o;
	return 0;
}

static const char *const RULE_IMMUTABLE[] = {"listener_arn", NULL};

static const struct kind RULE = {
	"aws_lb_listener_rule", "listener rule", "DescribeRules", "RuleArns", "Rules",
	"RuleArn", "RuleNotFound", RULE_IMMUTABLE, rule_attrs,
};

/* The next free priority of the listener: one above the highest in use. */
static int rule_next_priority(const struct provider_ctx *ctx, const char *listener,
			      json_int_t *prio, struct cairn_err *err)
{
	json_t *in = json_pack("{s:s}", "ListenerArn", listener), *rules = NULL, *r;
	json_int_t n;
	size_t i;
	int rc = -1;

	*prio = 1;
	if (pcall_all(ctx, "DescribeRules", in, "Rules", &rules, err) != 0)
		goto out;
	json_array_foreach(rules, i, r)
		if (json_int_of(json_object_get(r, "Priority"), &n) == 0 && n >= *prio)
			*prio = n + 1;
	rc = 0;
out:
	json_decref(in);
	json_decref(rules);
	return rc;
}

static int rule_create(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
		       struct cairn_err *err)
{
	const char *listener = pstr(attrs, "listener_arn");
	json_t *conds = conditions_to_api(ctx, json_object_get(attrs, "condition"), err);
	json_t *actions = conds ? actions_to_api(ctx, "action", json_object_get(attrs, "action"),
						 err) : NULL;
	json_t *tags = ptags_with_owner(ctx, json_object_get(attrs, "tags"));
	json_t *in = NULL, *res = NULL;
	json_int_t prio;
	int auto_prio = json_int_of(json_object_get(attrs, "priority"), &prio) != 0, attempt;
	const char *arn;
	int rc = -1;

	*out = NULL;
	if (!actions)
		goto out;
	/* A chosen priority can be taken by a rule created at the same time: choose again. */
	for (attempt = 0;; attempt++) {
		if (auto_prio && rule_next_priority(ctx, listener ? listener : "", &prio, err) != 0)
			goto out;
		json_decref(in);
		in = json_pack("{s:s,s:I,s:O,s:O,s:o}", "ListenerArn", listener ? listener : "",
			       "Priority", prio, "Conditions", conds, "Actions", actions,
			       "Tags", ptags_to_list(tags, "Key", "Value"));
		if (pcall(ctx, SVC, "CreateRule", in, &res, err) == 0)
			break;
		if (!auto_prio || !perr_is(err, "PriorityInUse") ||
		    attempt + 1 >= ELB_PRIORITY_ATTEMPTS)
			goto out;
		err_clear(err);
	}
	arn = created_arn(&RULE, ctx, "CreateRule", res, err);
	if (!arn)
		goto out;
	rc = read_back(&RULE, ctx, arn, attrs, out, err);
out:
	json_decref(conds);
	json_decref(actions);
	json_decref(tags);
	json_decref(in);
	json_decref(res);
	return rc;
}

static int rule_read(const struct provider_ctx *ctx, const char *id, json_t *prior, json_t **out,
		     struct cairn_err *err)
{
	return read_one(&RULE, ctx, id, prior, out, err);
}

static int rule_read_batch(const struct provider_ctx *const *ctxs, size_t n,
			   const char *const *ids, json_t *const *priors, json_t **outs,
			   struct cairn_err *err)
{
	return read_kind(&RULE, ctxs, n, ids, priors, outs, err);
}

static int rule_update(const struct provider_ctx *ctx, const char *id, json_t *old, json_t *want,
		       json_t *changed, json_t **out, struct cairn_err *err)
{
	json_t *in = NULL, *res = NULL, *conds = NULL, *actions = NULL;
	json_int_t prio;
	int rc = -1;

	*out = NULL;
	if (pchanged(changed, "priority") &&
	    json_int_of(json_object_get(want, "priority"), &prio) == 0) {
		in = json_pack("{s:[{s:s,s:I}]}", "RulePriorities", "RuleArn", id, "Priority", prio);
		if (pcall(ctx, SVC, "SetRulePriorities", in, &res, err) != 0)
			goto out;
		json_decref(in);
		json_decref(res);
		in = res = NULL;
	}
	if (pchanged(changed, "condition") || pchanged(changed, "action")) {
		conds = conditions_to_api(ctx, json_object_get(want, "condition"), err);
		actions = conds ? actions_to_api(ctx, "action", json_object_get(want, "action"),
						 err) : NULL;
		if (!actions)
			goto out;
		in = json_pack("{s:s,s:O,s:O}", "RuleArn", id, "Conditions", conds,
			       "Actions", actions);
		if (pcall(ctx, SVC, "ModifyRule", in, &res, err) != 0)
			goto out;
	}
	rc = 0;
out:
	json_decref(in);
	json_decref(res);
	json_decref(conds);
	json_decref(actions);
	return rc == 0 ? finish_update(&RULE, ctx, id, old, want, changed, out, err) : rc;
}

static int rule_delete(const struct provider_ctx *ctx, const char *id, json_t *attrs,
		       struct cairn_err *err)
{
	return delete_arn(&RULE, ctx, "DeleteRule", id, err);
}


/* Rules have no name: the ones of the wanted listener that carry our tags. */
static int rule_find(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
		     struct cairn_err *err)
{
	json_t *in = json_pack("{s:s}", "ListenerArn",
			       pstr(attrs, "listener_arn") ? pstr(attrs, "listener_arn") : "");

	return find_described(&RULE, ctx, in, "ListenerNotFound", attrs, out, err);
}

const struct resource_ops aws_lb_listener_rule_ops = {
	.type = "aws_lb_listener_rule",
	.create = rule_create,
	.read = rule_read,
	.read_batch = rule_read_batch,
	.update = rule_update,
	.delete = rule_delete,
	.find = rule_find,
};
