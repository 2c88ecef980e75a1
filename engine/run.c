/*
 * run: see run.h. Each sequence is written once here; cmd/ only renders.
 */
#include <stdlib.h>
#include <string.h>

#include "run.h"
#include "plan.h"
#include "provider.h"
#include "refresh.h"
#include "schema.h"
#include "stack.h"
#include "../state/state.h"

void run_result_free(struct run_result *r)
{
	plan_free(r->plan);
	exec_result_free(&r->exec);
	json_decref(r->outputs);
	json_decref(r->imported);
	memset(r, 0, sizeof(*r));
}

static int fail(struct run_result *res, enum run_stage at)
{
	res->failed_at = at;
	return -1;
}

static void exec_opts_of(const struct run_env *env, const char *stack, struct exec_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->st = env->st;
	o->aws = env->aws;
	o->stack = stack;
	o->parallelism = env->parallelism;
	o->lookup = env->lookup;
	o->stop = env->stop;
	o->cancel = env->cancel;
	o->sleep_ms = env->sleep_ms;
	o->on_event = env->on_event;
	o->event_ctx = env->ui;
}

/* While waiting for the lock, a line at least this often (a CI heartbeat). */
#define LOCK_HEARTBEAT_S 30

static int lock(const struct run_env *env, const char *stack, const char *operation,
		struct cairn_err *err)
{
	char warn[512] = "";
	int took = 0, waited = 0, slice;

	/* --lock-timeout in slices, saying between them that we still wait */
	for (;;) {
		slice = env->lock_timeout - waited > LOCK_HEARTBEAT_S ? LOCK_HEARTBEAT_S :
			env->lock_timeout - waited;
		err_clear(err);
		if (state_lock(env->st, stack, operation, slice, &took, warn, err) == 0)
			break;
		if (err->code != CAIRN_ELOCKED || waited + slice >= env->lock_timeout)
			return -1;
		waited += slice;
		if (env->on_info) {
			char *m = xasprintf("Still waiting for the lock [%ds of %ds elapsed]: %s",
					    waited, env->lock_timeout, err->msg);

			env->on_info(env->ui, m);
			free(m);
		}
	}
	if (took && env->on_warning)
		env->on_warning(env->ui, warn[0] ? warn :
				"took over the lock of a process that no longer runs");
	return 0;
}

/* Releases the lock; a failure to do so is reported only if nothing failed before. */
static void unlock(const struct run_env *env, const char *stack, int *rc,
		   struct cairn_err *err)
{
	struct cairn_err e;

	err_clear(&e);
	if (state_unlock(env->st, stack, &e) < 0 && *rc == 0) {
		*err = e;
		*rc = -1;
	}
}

int run_store_outputs(struct state *st, const char *stack, json_t *outputs,
		      struct cairn_err *err)
{
	json_t *have = NULL;
	int rc;

	if (state_outputs_get(st, stack, &have, err) < 0)
		return -1;
	rc = json_equal(have, outputs) || (!have && !json_object_size(outputs)) ? 0 :
	     state_outputs_put(st, stack, outputs, err);
	json_decref(have);
	return rc;
}

/*
 * Records the data sources p read as "data.NAME" (only those that
 * differ: a no-op apply must not bump the serial) and forgets those the
 * stack no longer has; destroy forgets them all.
 */
static int record_data(struct state *st, const struct plan *p, int destroy, struct cairn_err *err)
{
	struct state_resource *rs = NULL;
	size_t n = 0, i;
	const char *k;
	json_t *attrs;
	int rc = -1;

	if (state_list_data(st, p->stack, &rs, &n, err) < 0)
		return -1;
	for (i = 0; i < n; i++)
		if ((destroy || !json_object_get(p->data, rs[i].name + 5)) &&
		    state_rm(st, p->stack, rs[i].name, err) < 0)
			goto out;
	if (!destroy)
		json_object_foreach(p->data, k, attrs) {
			const char *type = json_string_value(json_object_get(p->data_types, k));
			const char *id = json_string_value(json_object_get(attrs, "id"));
			char *name = xasprintf("data.%s", k);
			struct state_view v = {name, type ? type : "", id ? id : "", attrs, NULL, 1};
			int same = 0;

			for (i = 0; i < n; i++)
				if (!strcmp(rs[i].name, name))
					same = !strcmp(rs[i].type, v.type) && !strcmp(rs[i].id, v.id) &&
					       json_equal(rs[i].attrs, attrs);
			if (!same && state_put(st, p->stack, &v, err) < 0) {
				free(name);
				goto out;
			}
			free(name);
		}
	rc = 0;
out:
	for (i = 0; i < n; i++)
		state_resource_free(&rs[i]);
	free(rs);
	return rc;
}

/* The account id the outputs and configs of p need (borrowed or NULL), and
 * recorded for offline plans. */
static int account_for(const struct run_env *env, const struct plan *p, const char **out,
		       struct cairn_err *err)
{
	*out = NULL;
	if (!exec_needs_account_id(p) || !env->account_id)
		return 0;
	*out = env->account_id(env->account_arg, err);
	if (!*out)
		return -1;
	return plan_record_account(env->st, p->stack, *out, err);
}

static void plan_opts_of(const struct run_env *env, const struct run_args *a, int destroy,
			 struct plan_opts *po)
{
	memset(po, 0, sizeof(*po));
	po->refresh = a->refresh;
	po->targets = a->targets;
	po->n_targets = a->n_targets;
	po->destroy = destroy;
	po->parallelism = env->parallelism;
	po->region = env->region;
	po->lookup = env->lookup;
	po->account_id = env->account_id;
	po->account_arg = env->account_arg;
	po->data_lookup = env->data_lookup;
}

int run_plan(const struct run_env *env, const struct run_args *a, struct run_result *res,
	     struct cairn_err *err)
{
	struct plan_opts po;

	memset(res, 0, sizeof(*res));
	plan_opts_of(env, a, 0, &po);
	res->plan = plan_build(a->stack, env->st, env->aws, &po, err);
	return res->plan ? 0 : fail(res, RUN_AT_PLAN);
}

/* A saved plan: its secrets unsealed with the state's key, made against
 * this very state (lineage and serial). */
static int check_saved(const struct run_env *env, struct plan *p, struct cairn_err *err)
{
	unsigned char key[PLAN_KEY_LEN];
	int found = 0, rc = -1;

	if (state_plan_key(env->st, p->stack, 0, key, &found, err) < 0)
		goto out;
	if (!found) {
		err_set(err, CAIRN_ESTALE, "saved plan cannot be used: it was made against "
			"another state (this state has no key for stack '%s')", p->stack);
		goto out;
	}
	if (plan_unseal(p, key, err) < 0)
		goto out;
	rc = 0;
out:
	secure_zero(key, sizeof(key));
	return rc;
}

static int check_stale(const struct run_env *env, const struct plan *p, struct cairn_err *err)
{
	struct state_stack ss;

	if (state_stack_get(env->st, p->stack, &ss, err) < 0)
		return -1;
	if (ss.serial != p->serial || strcmp(ss.lineage, p->lineage ? p->lineage : "")) {
		err_set(err, CAIRN_ESTALE, "saved plan is stale: the state changed since it was "
			"made (serial %lld, now %lld)", (long long)p->serial, (long long)ss.serial);
		return -1;
	}
	return 0;
}

static json_t *history_summary(const struct exec_result *res)
{
	static const char *const results[] = {"done", "failed", "skipped", "not started"};
	json_t *changes = json_array();
	size_t i;

	for (i = 0; i < res->n_ops; i++) {
		const struct exec_report *r = &res->ops[i];
		json_t *c = json_pack("{s:s,s:s,s:s,s:s}", "name", r->name, "type", r->type,
				      "op", exec_op_name(r->op), "result", results[r->result]);

		if (r->result == EXEC_R_FAILED)
			json_object_set_new(c, "error", json_string(r->err.msg));
		json_array_append_new(changes, c);
	}
	return json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:o}", "added", (json_int_t)res->added,
			 "changed", (json_int_t)res->changed, "destroyed", (json_int_t)res->destroyed,
			 "failed", (json_int_t)res->failed, "skipped", (json_int_t)res->skipped,
			 "not_started", (json_int_t)res->not_started, "changes", changes);
}

static int apply_or_destroy(const struct run_env *env, const struct run_args *a, int destroy,
			    struct run_result *res, struct cairn_err *err)
{
	const char *verb = destroy ? "destroy" : "apply";
	const char *stack_name, *account = NULL;
	struct exec_opts o;
	struct plan_opts po;
	json_t *summary = NULL;
	int rc = -1, locked = 0;

	memset(res, 0, sizeof(*res));
	res->plan = a->saved;
	stack_name = a->saved ? a->saved->stack : a->stack->name;
	if (a->saved && check_saved(env, a->saved, err) < 0)
		return fail(res, RUN_AT_SETUP);
	if (lock(env, stack_name, verb, err) < 0)
		return fail(res, RUN_AT_SETUP);
	locked = 1;
	exec_opts_of(env, stack_name, &o);
	if (exec_recover(&o, err) < 0) {
		fail(res, RUN_AT_RECOVER);
		goto out;
	}
	if (a->saved) {
		if (check_stale(env, a->saved, err) < 0) {
			fail(res, RUN_AT_PLAN);
			goto out;
		}
	} else {
		plan_opts_of(env, a, destroy, &po);
		po.refresh = 1;
		res->plan = plan_build(a->stack, env->st, env->aws, &po, err);
		if (!res->plan) {
			fail(res, RUN_AT_PLAN);
			goto out;
		}
	}
	if (env->stop && *env->stop) {
		err_set(err, CAIRN_ECANCEL, "interrupted before any change was made");
		res->code = 130;
		fail(res, RUN_AT_CONFIRM);
		goto out;
	}
	if (env->on_plan)
		env->on_plan(env->ui, res->plan);
	if (account_for(env, res->plan, &account, err) < 0) {
		fail(res, RUN_AT_PLAN);
		goto out;
	}
	if (plan_has_changes(res->plan)) {
		int code = env->confirm ? env->confirm(env->ui, res->plan) : 0;
		const struct exec_result *x = &res->exec;

		if (code) {
			res->code = code;
			fail(res, RUN_AT_CONFIRM);
			goto out;
		}
		o.account_id = account;
		if (exec_run(res->plan, &o, &res->exec, err) < 0) {
			fail(res, RUN_AT_EXEC);
			goto out;
		}
		res->executed = 1;
		summary = history_summary(x);
		if (state_history_add(env->st, stack_name, verb, x->interrupted ? "interrupted" :
				      x->failed || x->skipped ? "failed" : "success", summary,
				      err) < 0) {
			fail(res, RUN_AT_RECORD);
			goto out;
		}
	}
	if (record_data(env->st, res->plan, destroy, err) < 0) {
		fail(res, RUN_AT_RECORD);
		goto out;
	}
	res->outputs = destroy ? json_object() : exec_outputs(res->plan, env->st, account, err);
	if (!res->outputs || run_store_outputs(env->st, stack_name, res->outputs, err) < 0) {
		fail(res, RUN_AT_RECORD);
		goto out;
	}
	rc = 0;
out:
	json_decref(summary);
	if (locked)
		unlock(env, stack_name, &rc, err);
	return rc;
}

int run_apply(const struct run_env *env, const struct run_args *a, struct run_result *res,
	      struct cairn_err *err)
{
	return apply_or_destroy(env, a, 0, res, err);
}

int run_destroy(const struct run_env *env, const struct run_args *a, struct run_result *res,
		struct cairn_err *err)
{
	return apply_or_destroy(env, a, 1, res, err);
}

/* The stack's outputs in the shape the plan keeps them, for exec_outputs. */
static struct plan *outputs_plan(const struct run_env *env, const struct stack *s)
{
	struct plan *p = xcalloc(1, sizeof(*p));
	size_t i;

	p->stack = xstrdup(s->name);
	p->region = xstrdup(env->region ? env->region : s->region);
	p->vars = s->vars ? json_deep_copy(s->vars) : json_object();
	p->outputs = json_object();
	p->drift = json_array();
	for (i = 0; i < s->n_outputs; i++)
		json_object_set_new(p->outputs, s->outputs[i].name,
				    json_pack("{s:O,s:b}", "value", s->outputs[i].value,
					      "sensitive", s->outputs[i].sensitive));
	return p;
}

int run_refresh(const struct run_env *env, const struct stack *stack, struct run_result *res,
		struct cairn_err *err)
{
	struct exec_opts o;
	json_t *ignore = json_object();
	const char *account = NULL;
	size_t i;
	int rc = -1;

	memset(res, 0, sizeof(*res));
	if (lock(env, stack->name, "refresh", err) < 0) {
		json_decref(ignore);
		return fail(res, RUN_AT_SETUP);
	}
	exec_opts_of(env, stack->name, &o);
	for (i = 0; i < stack->n_resources; i++)
		if (stack->resources[i].ignore_changes)
			json_object_set(ignore, stack->resources[i].name,
					stack->resources[i].ignore_changes);
	if (exec_recover(&o, err) < 0) {
		fail(res, RUN_AT_RECOVER);
		goto out;
	}
	if (exec_refresh(&o, ignore, &res->n_drift, err) < 0) {
		fail(res, RUN_AT_EXEC);
		goto out;
	}
	res->plan = outputs_plan(env, stack);
	if (account_for(env, res->plan, &account, err) < 0) {
		fail(res, RUN_AT_RECORD);
		goto out;
	}
	res->outputs = exec_outputs(res->plan, env->st, account, err);
	if (!res->outputs || run_store_outputs(env->st, stack->name, res->outputs, err) < 0) {
		fail(res, RUN_AT_RECORD);
		goto out;
	}
	rc = 0;
out:
	json_decref(ignore);
	unlock(env, stack->name, &rc, err);
	return rc;
}

int run_import(const struct run_env *env, const struct stack *stack, const char *name,
	       const char *id, struct run_result *res, struct cairn_err *err)
{
	const struct stack_resource *r;
	struct state_resource have = {0};
	struct refresh_opts ro = {0};
	struct refresh_item item = {0};
	json_t *hist = NULL, *out = NULL;
	const char *got;
	long idx;
	int rc = -1, found = 0;

	memset(res, 0, sizeof(*res));
	idx = stack_find(stack, name);
	if (idx < 0) {
		err_set(err, CAIRN_EINVAL, "resource '%s' is not declared in '%s': declare it in "
			"the stack first", name, stack->file);
		return fail(res, RUN_AT_SETUP);
	}
	r = &stack->resources[idx];
	if (!env->lookup(r->type)) {
		err_set(err, CAIRN_EINVAL, "resource type '%s' cannot be imported", r->type);
		return fail(res, RUN_AT_SETUP);
	}
	if (lock(env, stack->name, "import", err) < 0)
		return fail(res, RUN_AT_SETUP);
	if (state_get(env->st, stack->name, name, &have, &found, err) < 0) {
		fail(res, RUN_AT_SETUP);
		goto out;
	}
	if (found) {
		err_set(err, CAIRN_EINVAL, "'%s' is already in the state (id %s); 'cairn state rm "
			"%s' first to replace it", name, have.id, name);
		fail(res, RUN_AT_SETUP);
		goto out;
	}
	/* Import is a read with no prior record. */
	ro.lookup = env->lookup;
	ro.aws = env->aws;
	ro.stack = stack->name;
	ro.parallelism = 1;
	ro.bare_errors = 1;
	ro.cancel = env->cancel;
	ro.sleep_ms = env->sleep_ms;
	item.name = name;
	item.type = r->type;
	item.id = id;
	if (refresh_read(&ro, &item, 1, &out, err) == 0 && !out)
		err_set(err, CAIRN_ENOTFOUND, "'%s' not found", id);
	if (!out) {
		err_prefix(err, "cannot import '%s' as %s (%s)", id, name, r->type);
		fail(res, RUN_AT_EXEC);
		goto out;
	}
	got = json_string_value(json_object_get(out, "id"));
	if (!got) {
		err_set(err, CAIRN_EINTERNAL, "cannot import '%s': the provider returned no id", id);
		fail(res, RUN_AT_EXEC);
		goto out;
	}
	{
		const struct state_view view = {
			.name = name, .type = r->type, .id = got, .attrs = out,
			.deps = r->deps,
			.schema_version = (int)json_integer_value(
				json_object_get(schema_get(r->type), "version")),
		};

		hist = json_pack("{s:s,s:s,s:s}", "name", name, "type", r->type, "id", got);
		if (state_put(env->st, stack->name, &view, err) < 0 ||
		    state_history_add(env->st, stack->name, "import", "success", hist, err) < 0) {
			fail(res, RUN_AT_RECORD);
			goto out;
		}
	}
	res->imported = json_incref(out);
	rc = 0;
out:
	if (found)
		state_resource_free(&have);
	json_decref(out);
	json_decref(hist);
	unlock(env, stack->name, &rc, err);
	return rc;
}
