/*
 * kms: the aws_kms_key and aws_kms_alias resource types (KMS, json
 * protocol).
 *
 * A key is created with its ownership tags in CreateKey; it has no name,
 * so find scans ListKeys for the key carrying them. A key is never deleted
 * at once: ScheduleKeyDeletion starts AWS's waiting period (7 to 30 days),
 * and a key pending deletion reads as gone. KMS describes one key per
 * call, so keys have no batch read: the engine reads them concurrently.
 * Right after CreateKey other KMS calls may not see the key yet
 * (NotFoundException): they are retried through the waiter.
 *
 * An alias is not taggable; its name is unique per account and region,
 * which is how find adopts it. All aliases come from one paginated
 * ListAliases, so a batch read is one listing.
 */
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "tagdiff.h"

#define SVC "kms"
#define KMS_PROPAGATION_MS (2L * 60 * 1000)

static const char *const key_gone[] = {"NotFoundException", NULL};
static const char *const key_not_yet[] = {"NotFoundException", NULL};

static const struct ptag_api TAG_API = {
	.service = SVC, .untag_op = "UntagResource", .tag_op = "TagResource",
	.id_member = "KeyId", .keys_member = "TagKeys", .tags_member = "Tags",
	.key_name = "TagKey", .value_name = "TagValue",
};

/* ---- aws_kms_key ---- */

/* Reads key id: *out NULL when it is gone or pending deletion. */
static int key_read(const struct provider_ctx *ctx, const char *id, json_t *prior, json_t **out,
		    struct cairn_err *err)
{
	json_t *in = json_pack("{s:s}", "KeyId", id), *desc = NULL, *pol = NULL, *rot = NULL;
	json_t *tags = NULL, *m, *o, *period, *tin = NULL, *v;
	const char *state, *kid;
	int rc = -1;

	*out = NULL;
	if (pcall_found(ctx, SVC, "DescribeKey", in, key_gone, &desc, err) != 0)
		goto out;
	m = json_object_get(desc, "KeyMetadata");
	state = pstr(m, "KeyState");
	if (!desc || (state && (strcmp(state, "PendingDeletion") == 0 ||
				strcmp(state, "PendingReplicaDeletion") == 0))) {
		rc = 0;
		goto out;
	}
	kid = pstr(m, "KeyId");
	json_decref(in);
	in = json_pack("{s:s,s:s}", "KeyId", kid, "PolicyName", "default");
	if (pcall_found(ctx, SVC, "GetKeyPolicy", in, key_gone, &pol, err) != 0)
		goto out;
	json_object_del(in, "PolicyName");
	if (pcall_found(ctx, SVC, "GetKeyRotationStatus", in, key_gone, &rot, err) != 0)
		goto out;
	tin = json_pack("{s:s}", "KeyId", kid);
	if (aws_call_all(ctx->aws, SVC, "ListResourceTags", tin, "Tags", &tags, err) != 0) {
		if (perr_is(err, "NotFoundException")) {
			err_clear(err);
			rc = 0;
		} else {
			err_prefix(err, "ListResourceTags on %s", ctx->name);
		}
		goto out;
	}
	o = json_object();
	json_object_set_new(o, "id", json_string(kid));
	json_object_set_new(o, "key_id", json_string(kid));
	json_object_set_new(o, "arn", json_string(pstr_or(json_object_get(m, "Arn"), "")));
	json_object_set_new(o, "description",
			    json_string(pstr_or(json_object_get(m, "Description"), "")));
	json_object_set_new(o, "key_usage",
			    json_string(pstr_or(json_object_get(m, "KeyUsage"), "ENCRYPT_DECRYPT")));
	json_object_set_new(o, "customer_master_key_spec",
			    json_string(pstr(m, "KeySpec") ? pstr(m, "KeySpec") :
					pstr_or(json_object_get(m, "CustomerMasterKeySpec"),
						"SYMMETRIC_DEFAULT")));
	json_object_set_new(o, "is_enabled", json_boolean(json_is_true(json_object_get(m,
										       "Enabled"))));
	json_object_set_new(o, "multi_region",
			    json_boolean(json_is_true(json_object_get(m, "MultiRegion"))));
	json_object_set_new(o, "policy", pdoc_json(pstr(pol, "Policy")));
	json_object_set_new(o, "enable_key_rotation",
			    json_boolean(json_is_true(json_object_get(rot, "KeyRotationEnabled"))));
	/* AWS reports the period when rotation is on; keep what was asked
	 * where it does not (it is then not in force anyway) */
	period = json_object_get(rot, "RotationPeriodInDays");
	if (json_is_integer(period))
		json_object_set(o, "rotation_period_in_days", period);
	else if ((v = json_object_get(prior, "rotation_period_in_days")))
		json_object_set(o, "rotation_period_in_days", v);
	/* settings of the calls, not of the key: AWS cannot report them */
	if ((v = json_object_get(prior, "deletion_window_in_days")))
		json_object_set(o, "deletion_window_in_days", v);
	json_object_set_new(o, "bypass_policy_lockout_safety_check",
			    json_boolean(json_is_true(json_object_get(
				    prior, "bypass_policy_lockout_safety_check"))));
	json_object_set_new(o, "tags", ptags_from_list(tags, "TagKey", "TagValue"));
	*out = o;
	rc = 0;
out:
	json_decref(in);
	json_decref(tin);
	json_decref(desc);
	json_decref(pol);
	json_decref(rot);
	json_decref(tags);
	return rc;
}

/* A call on a key just created, retried while KMS does not see it yet. */
static int key_call(const struct provider_ctx *ctx, const char *op, json_t *in,
		    struct cairn_err *err)
{
	return pcall_retry(ctx, SVC, op, in, NULL, key_not_yet, KMS_PROPAGATION_MS, err);
}

static int key_set_rotation(const struct provider_ctx *ctx, const char *id, json_t *want,
			    struct cairn_err *err)
{
	json_t *in = json_pack("{s:s}", "KeyId", id), *period;
	int on = json_is_true(json_object_get(want, "enable_key_rotation")), rc;

	period = json_object_get(want, "rotation_period_in_days");
	if (on && json_is_integer(period))
		json_object_set(in, "RotationPeriodInDays", period);
	rc = key_call(ctx, on ? "EnableKeyRotation" : "DisableKeyRotation", in, err);
	json_decref(in);
	return rc;
}

static int key_set_enabled(const struct provider_ctx *ctx, const char *id, int on,
			   struct cairn_err *err)
{
	json_t *in = json_pack("{s:s}", "KeyId", id);
	int rc = key_call(ctx, on ? "EnableKey" : "DisableKey", in, err);

	json_decref(in);
	return rc;
}

static int key_create(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
		      struct cairn_err *err)
{
	json_t *tags = ptags_with_owner(ctx, json_object_get(attrs, "tags"));
	json_t *in = json_pack("{s:s,s:s,s:s,s:o,s:b,s:b}",
			       "Description", pstr_or(json_object_get(attrs, "description"), ""),
			       "KeyUsage", pstr_or(json_object_get(attrs, "key_usage"),
						   "ENCRYPT_DECRYPT"),
			       "KeySpec", pstr_or(json_object_get(attrs, "customer_master_key_spec"),
						  "SYMMETRIC_DEFAULT"),
			       "Tags", ptags_to_list(tags, "TagKey", "TagValue"),
			       "MultiRegion", json_is_true(json_object_get(attrs, "multi_region")),
			       "BypassPolicyLockoutSafetyCheck",
			       json_is_true(json_object_get(attrs,
							    "bypass_policy_lockout_safety_check")));
	json_t *res = NULL;
	char *policy = pdoc_text(json_object_get(attrs, "policy")), *id = NULL;
	int rc = -1;

	*out = NULL;
	if (policy)
		json_object_set_new(in, "Policy", json_string(policy));
	if (pcall(ctx, SVC, "CreateKey", in, &res, err) != 0)
		goto out;
	id = xstrdup(pstr_or(json_object_get(json_object_get(res, "KeyMetadata"), "KeyId"), ""));
	if (json_is_true(json_object_get(attrs, "enable_key_rotation")) &&
	    key_set_rotation(ctx, id, attrs, err) != 0)
		goto out;
	if (json_is_false(json_object_get(attrs, "is_enabled")) &&
	    key_set_enabled(ctx, id, 0, err) != 0)
		goto out;
	if (pread_back(ctx, key_read, "CreateKey", "key", id, attrs, out, err) != 0)
		goto out;
	rc = 0;
out:
	if (rc != 0 && id && !*out)
		*out = json_pack("{s:s,s:s}", "id", id, "key_id", id);
	free(policy);
	free(id);
	json_decref(tags);
	json_decref(in);
	json_decref(res);
	return rc;
}

static int key_update(const struct provider_ctx *ctx, const char *id, json_t *old, json_t *want,
		      json_t *changed, json_t **out, struct cairn_err *err)
{
	json_t *in = NULL;
	char *policy = NULL;
	int rc = -1;

	*out = NULL;
	if (pchanged(changed, "description")) {
		in = json_pack("{s:s,s:s}", "KeyId", id, "Description",
			       pstr_or(json_object_get(want, "description"), ""));
		if (pcall_void(ctx, SVC, "UpdateKeyDescription", in, err) != 0)
			goto out;
	}
	if (pchanged(changed, "policy") && (policy = pdoc_text(json_object_get(want, "policy")))) {
		json_decref(in);
		in = json_pack("{s:s,s:s,s:s,s:b}", "KeyId", id, "PolicyName", "default", "Policy",
			       policy, "BypassPolicyLockoutSafetyCheck",
			       json_is_true(json_object_get(want,
							    "bypass_policy_lockout_safety_check")));
		if (pcall_void(ctx, SVC, "PutKeyPolicy", in, err) != 0)
			goto out;
	}
	/* a disabled key takes no rotation change: enable first, disable last */
	if (pchanged(changed, "is_enabled") && json_is_true(json_object_get(want, "is_enabled")) &&
	    key_set_enabled(ctx, id, 1, err) != 0)
		goto out;
	if ((pchanged(changed, "enable_key_rotation") ||
	     pchanged(changed, "rotation_period_in_days")) &&
	    key_set_rotation(ctx, id, want, err) != 0)
		goto out;
	if (pchanged(changed, "is_enabled") && !json_is_true(json_object_get(want, "is_enabled")) &&
	    key_set_enabled(ctx, id, 0, err) != 0)
		goto out;
	if (pchanged(changed, "tags") &&
	    ptags_sync(ctx, &TAG_API, id, json_object_get(old, "tags"),
		       json_object_get(want, "tags"), err) != 0)
		goto out;
	if (pread_after(ctx, key_read, "update", "key", id, want, out, err) != 0)
		goto out;
	rc = 0;
out:
	free(policy);
	json_decref(in);
	return rc;
}

/* Schedules the deletion; a key already pending deletion is done. */
static int key_delete(const struct provider_ctx *ctx, const char *id, json_t *attrs,
		      struct cairn_err *err)
{
	json_t *in = json_pack("{s:s}", "KeyId", id), *now = NULL;
	json_t *days = json_object_get(attrs, "deletion_window_in_days");
	int rc = -1;

	if (key_read(ctx, id, attrs, &now, err) != 0)
		goto out;
	if (!now) {
		rc = 0;
		goto out;
	}
	if (json_is_integer(days))
		json_object_set(in, "PendingWindowInDays", days);
	rc = pcall_gone(ctx, SVC, "ScheduleKeyDeletion", in, "NotFoundException", err);
out:
	json_decref(now);
	json_decref(in);
	return rc;
}

/* Keys have no name: the customer keys are scanned for the ownership tags. */
static int key_find(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
		    struct cairn_err *err)
{
	json_t *in = json_object(), *keys = NULL, *k;
	size_t i;
	int rc = -1;

	*out = NULL;
	if (aws_call_all(ctx->aws, SVC, "ListKeys", in, "Keys", &keys, err) != 0) {
		err_prefix(err, "ListKeys on %s", ctx->name);
		goto out;
	}
	json_array_foreach(keys, i, k) {
		json_t *tin = json_pack("{s:s}", "KeyId", pstr_or(json_object_get(k, "KeyId"), ""));
		json_t *tags = NULL;
		int owned;

		if (aws_call_all(ctx->aws, SVC, "ListResourceTags", tin, "Tags", &tags, err) != 0) {
			json_decref(tin);
			/* AWS managed keys refuse the call: not ours anyway */
			if (perr_is(err, "AccessDeniedException") || perr_is(err, "NotFoundException")) {
				err_clear(err);
				continue;
			}
			err_prefix(err, "ListResourceTags on %s", ctx->name);
			goto out;
		}
		json_decref(tin);
		owned = ptags_owned_by(tags, "TagKey", "TagValue", ctx);
		json_decref(tags);
		if (!owned)
			continue;
		if (key_read(ctx, pstr(k, "KeyId"), attrs, out, err) != 0)
			goto out;
		if (*out)
			break;
	}
	rc = 0;
out:
	json_decref(in);
	json_decref(keys);
	return rc;
}

const struct resource_ops aws_kms_key_ops = {
	.type = "aws_kms_key",
	.create = key_create,
	.read = key_read,
	.update = key_update,
	.delete = key_delete,
	.find = key_find,
};

/* ---- aws_kms_alias ---- */

/* Every alias of the account and region: new object name -> alias item. */
static int aliases(const struct provider_ctx *ctx, json_t **byname, struct cairn_err *err)
{
	json_t *in = json_object(), *items = NULL, *a;
	size_t i;
	int rc = -1;

	*byname = json_object();
	if (aws_call_all(ctx->aws, SVC, "ListAliases", in, "Aliases", &items, err) != 0) {
		err_prefix(err, "ListAliases on %s", ctx->name);
		goto out;
	}
	json_array_foreach(items, i, a)
		if (pstr(a, "AliasName"))
			json_object_set(*byname, pstr(a, "AliasName"), a);
	rc = 0;
out:
	json_decref(in);
	json_decref(items);
	return rc;
}

/*
 * The alias's attributes. target_key_id reads back as the user wrote it
 * (a key id or a key ARN) when it names the same key, so an ARN in the
 * stack is no change.
 */
static json_t *alias_attrs(const struct provider_ctx *ctx, json_t *a, json_t *prior)
{
	const char *target = pstr_or(json_object_get(a, "TargetKeyId"), "");
	const char *arn = pstr_or(json_object_get(a, "AliasArn"), "");
	const char *was = pstr(prior, "target_key_id");
	json_t *o = json_object();
	char *key_arn = NULL;
	const char *colon = strstr(arn, ":alias/");

	if (colon)
		key_arn = xasprintf("%.*s:key/%s", (int)(colon - arn), arn, target);
	json_object_set_new(o, "id", json_string(pstr_or(json_object_get(a, "AliasName"), "")));
	json_object_set_new(o, "name", json_string(pstr_or(json_object_get(a, "AliasName"), "")));
	json_object_set_new(o, "arn", json_string(arn));
	json_object_set_new(o, "target_key_arn", json_string(key_arn ? key_arn : ""));
	json_object_set_new(o, "target_key_id",
			    json_string(was && key_arn && strcmp(was, key_arn) == 0 ? was : target));
	free(key_arn);
	return o;
}

static int alias_read_batch(const struct provider_ctx *const *ctxs, size_t n,
			    const char *const *ids, json_t *const *priors, json_t **outs,
			    struct cairn_err *err)
{
	json_t *byname = NULL, *a;
	size_t i;

	for (i = 0; i < n; i++)
		outs[i] = NULL;
	if (n == 0)
		return 0;
	if (aliases(ctxs[0], &byname, err) != 0) {
		json_decref(byname);
		return -1;
	}
	for (i = 0; i < n; i++)
		if ((a = json_object_get(byname, ids[i])) && pstr(a, "TargetKeyId"))
			outs[i] = alias_attrs(ctxs[i], a, priors[i]);
	json_decref(byname);
	return 0;
}

static int alias_read(const struct provider_ctx *ctx, const char *id, json_t *prior,
		      json_t **out, struct cairn_err *err)
{
	return alias_read_batch(&ctx, 1, &id, &prior, out, err);
}

/* Reads the alias, waiting while ListAliases does not show it yet. */
struct alias_wait {
	const char *name;
	json_t *want, **out;
};

static int alias_listed(const struct provider_ctx *ctx, void *arg, char *status,
			size_t status_len, struct cairn_err *err)
{
	struct alias_wait *w = arg;

	json_decref(*w->out);
	*w->out = NULL;
	if (alias_read(ctx, w->name, w->want, w->out, err) != 0)
		return -1;
	snprintf(status, status_len, "not listed yet");
	return *w->out && strcmp(pstr_or(json_object_get(*w->out, "target_key_id"), ""),
				 pstr_or(json_object_get(w->want, "target_key_id"), "")) == 0;
}

static int alias_settled(const struct provider_ctx *ctx, const char *name, json_t *want,
			 json_t **out, struct cairn_err *err)
{
	struct alias_wait w = {name, want, out};
	struct pwait_spec spec = {"reading the alias", 200L, 2000L, KMS_PROPAGATION_MS};

	*out = NULL;
	return pwait_until(ctx, &spec, alias_listed, &w, err);
}

static int alias_create(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
			struct cairn_err *err)
{
	const char *name = pstr_or(json_object_get(attrs, "name"), "");
	json_t *in = json_pack("{s:s,s:s}", "AliasName", name, "TargetKeyId",
			       pstr_or(json_object_get(attrs, "target_key_id"), ""));
	int rc = -1;

	*out = NULL;
	/* a key created a moment ago may not be visible to CreateAlias yet */
	if (pcall_retry(ctx, SVC, "CreateAlias", in, NULL, key_not_yet, KMS_PROPAGATION_MS,
			err) != 0)
		goto out;
	if (alias_settled(ctx, name, attrs, out, err) != 0) {
		json_decref(*out);
		*out = json_pack("{s:s,s:s}", "id", name, "name", name);
		goto out;
	}
	rc = 0;
out:
	json_decref(in);
	return rc;
}

static int alias_update(const struct provider_ctx *ctx, const char *id, json_t *old,
			json_t *want, json_t *changed, json_t **out, struct cairn_err *err)
{
	json_t *in = json_pack("{s:s,s:s}", "AliasName", id, "TargetKeyId",
			       pstr_or(json_object_get(want, "target_key_id"), ""));
	int rc = -1;

	*out = NULL;
	if (pchanged(changed, "target_key_id") &&
	    pcall_retry(ctx, SVC, "UpdateAlias", in, NULL, key_not_yet, KMS_PROPAGATION_MS,
			err) != 0)
		goto out;
	if (alias_settled(ctx, id, want, out, err) != 0)
		goto out;
	rc = 0;
out:
	json_decref(in);
	return rc;
}

static int alias_delete(const struct provider_ctx *ctx, const char *id, json_t *attrs,
			struct cairn_err *err)
{
	json_t *in = json_pack("{s:s}", "AliasName", id);
	int rc = pcall_gone(ctx, SVC, "DeleteAlias", in, "NotFoundException", err);

	json_decref(in);
	return rc;
}

/* Aliases take no tags; the name is unique per account and region, and
 * the journaled create was for this name: adopt the alias of that name. */
static int alias_find(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
		      struct cairn_err *err)
{
	const char *name = pstr(attrs, "name");

	*out = NULL;
	return name ? alias_read(ctx, name, attrs, out, err) : 0;
}

const struct resource_ops aws_kms_alias_ops = {
	.type = "aws_kms_alias",
	.create = alias_create,
	.read = alias_read,
	.read_batch = alias_read_batch,
	.update = alias_update,
	.delete = alias_delete,
	.find = alias_find,
};
