/*
 * The engine's run sequences (engine/run.c) against a fake provider (an
 * in-memory cloud of aws_sns_topic objects) and a real state store in a
 * temporary file: apply with its confirmation, no-op, refusal, saved-plan
 * staleness, destroy, refresh with ignore_changes, import as a read with
 * no prior, and the batch adaptation of refresh_read.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "engine/plan.h"
#include "engine/provider.h"
#include "engine/refresh.h"
#include "engine/run.h"
#include "engine/stack.h"
#include "state/state.h"

#define TYPE "aws_sns_topic"

/* The fake cloud: id -> attributes; counters of calls. */
static struct {
	pthread_mutex_t mu;
	json_t *cloud;
	int seq, creates, deletes, reads, batches;
	json_t *deleted;        /* names in delete order */
} fk = {.mu = PTHREAD_MUTEX_INITIALIZER};

static int fake_create(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
		       struct cairn_err *err)
{
	char id[64];

	pthread_mutex_lock(&fk.mu);
	snprintf(id, sizeof(id), "arn:topic:%s:%d", ctx->name, ++fk.seq);
	fk.creates++;
	*out = json_deep_copy(attrs);
	json_object_set_new(*out, "id", json_string(id));
	json_object_set_new(*out, "arn", json_string(id));
	json_object_set_new(fk.cloud, id, json_deep_copy(*out));
	pthread_mutex_unlock(&fk.mu);
	return 0;
}

static int fake_read(const struct provider_ctx *ctx, const char *id, json_t *prior, json_t **out,
		     struct cairn_err *err)
{
	pthread_mutex_lock(&fk.mu);
	fk.reads++;
	*out = json_object_get(fk.cloud, id) ? json_deep_copy(json_object_get(fk.cloud, id)) :
	       NULL;
	pthread_mutex_unlock(&fk.mu);
	return 0;
}

static int fake_read_batch(const struct provider_ctx *const *ctxs, size_t n,
			   const char *const *ids, json_t *const *priors, json_t **outs,
			   struct cairn_err *err)
{
	size_t i;

	pthread_mutex_lock(&fk.mu);
	fk.batches++;
	for (i = 0; i < n; i++)
		outs[i] = json_object_get(fk.cloud, ids[i]) ?
			  json_deep_copy(json_object_get(fk.cloud, ids[i])) : NULL;
	pthread_mutex_unlock(&fk.mu);
	return 0;
}

static int fake_update(const struct provider_ctx *ctx, const char *id, json_t *old, json_t *want,
		       json_t *changed, json_t **out, struct cairn_err *err)
{
	pthread_mutex_lock(&fk.mu);
	*out = json_deep_copy(want);
	json_object_set_new(*out, "id", json_string(id));
	json_object_set_new(*out, "arn", json_string(id));
	json_object_set_new(fk.cloud, id, json_deep_copy(*out));
	pthread_mutex_unlock(&fk.mu);
	return 0;
}

static int fake_delete(const struct provider_ctx *ctx, const char *id, json_t *attrs,
		       struct cairn_err *err)
{
	pthread_mutex_lock(&fk.mu);
	fk.deletes++;
	json_array_append_new(fk.deleted, json_string(ctx->name));
	json_object_del(fk.cloud, id);
	pthread_mutex_unlock(&fk.mu);
	return 0;
}

static int fake_find(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
		     struct cairn_err *err)
{
	*out = NULL;
	return 0;
}

static const struct resource_ops fake_ops = {
	.type = TYPE, .create = fake_create, .read = fake_read, .update = fake_update,
	.delete = fake_delete, .find = fake_find,
};
static const struct resource_ops fake_batch_ops = {
	.type = TYPE, .create = fake_create, .read = fake_read, .read_batch = fake_read_batch,
	.update = fake_update, .delete = fake_delete, .find = fake_find,
};
static int use_batch;

static const struct resource_ops *fake_lookup(const char *type)
{
	if (strcmp(type, TYPE) != 0)
		return NULL;
	return use_batch ? &fake_batch_ops : &fake_ops;
}

static const char *fake_account(void *arg, struct cairn_err *err)
{
	return "123456789012";
}

/* ---- fixture ------------------------------------------------------------- */

struct fx {
	char dir[64], db[96], file[96];
	struct state *st;
	struct run_env env;
	int confirms, plans, answer;
};

static int count_confirm(void *ui, const struct plan *p)
{
	struct fx *f = ui;

	f->confirms++;
	assert_true(plan_has_changes(p));
	return f->answer;
}

static void count_plan(void *ui, const struct plan *p)
{
	((struct fx *)ui)->plans++;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct cairn_err err;

	strcpy(f->dir, "/tmp/cairn-test-run-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->db, sizeof(f->db), "%s/cairn.db", f->dir);
	snprintf(f->file, sizeof(f->file), "%s/stack.yaml", f->dir);
	err_clear(&err);
	f->st = state_open(f->db, 1, &err);
	assert_non_null(f->st);
	f->env.st = f->st;
	f->env.region = "us-east-1";
	f->env.lookup = fake_lookup;
	f->env.account_id = fake_account;
	f->env.parallelism = 4;
	f->env.ui = f;
	f->env.confirm = count_confirm;
	f->env.on_plan = count_plan;
	fk.seq = fk.creates = fk.deletes = fk.reads = fk.batches = 0;
	fk.cloud = json_object();
	fk.deleted = json_array();
	use_batch = 0;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	state_close(f->st);
	unlink(f->db);
	unlink(f->file);
	rmdir(f->dir);
	json_decref(fk.cloud);
	json_decref(fk.deleted);
	free(f);
	return 0;
}

static struct stack *load(struct fx *f, const char *yaml)
{
	struct stack_opts so = {0};
	struct diags d = {0};
	struct stack *s;
	FILE *fp = fopen(f->file, "w");

	fputs(yaml, fp);
	fclose(fp);
	s = stack_load(f->file, &so, &d);
	if (!s)
		fail_msg("stack_load: %s", d.n ? d.v[0].msg : "?");
	diags_free(&d);
	return s;
}

#define STACK_AB \
	"stack: web\nresources:\n" \
	"  a:\n    type: aws_sns_topic\n    properties: {name: \"a-${aws.account_id}\"}\n" \
	"  b:\n    type: aws_sns_topic\n    lifecycle: {ignore_changes: [display_name]}\n" \
	"    properties: {name: b, display_name: \"${a.arn}\"}\n" \
	"outputs:\n  b_name: {value: \"${b.name}\"}\n"

static void apply_ok(struct fx *f, struct stack *s, int want_executed)
{
	struct run_args a = {0};
	struct run_result res;
	struct cairn_err err;

	err_clear(&err);
	a.stack = s;
	if (run_apply(&f->env, &a, &res, &err) != 0)
		fail_msg("run_apply: %s", err.msg);
	assert_int_equal(res.failed_at, RUN_OK);
	assert_int_equal(res.executed, want_executed);
	if (want_executed) {
		assert_int_equal(res.exec.failed, 0);
		assert_int_equal(res.exec.skipped, 0);
	}
	run_result_free(&res);
}

static void test_apply_then_noop(void **state)
{
	struct fx *f = *state;
	struct stack *s = load(f, STACK_AB);
	struct cairn_err err;
	json_t *outputs = NULL, *hist = NULL;
	char *account = NULL;
	int took = 0;

	err_clear(&err);
	f->answer = 0;
	apply_ok(f, s, 1);
	assert_int_equal(f->confirms, 1);
	assert_int_equal(f->plans, 1);
	assert_int_equal(fk.creates, 2);
	assert_int_equal(state_outputs_get(f->st, "web", &outputs, &err), 0);
	assert_string_equal(json_string_value(json_object_get(json_object_get(outputs, "b_name"),
							      "value")), "b");
	assert_int_equal(state_history(f->st, "web", 10, &hist, &err), 0);
	assert_int_equal(json_array_size(hist), 1);
	/* the account is recorded for offline plans */
	assert_int_equal(plan_recorded_account(f->st, "web", &account, &err), 0);
	assert_string_equal(account, "123456789012");
	/* the lock is released */
	assert_int_equal(state_lock(f->st, "web", "test", 0, &took, NULL, &err), 0);
	assert_int_equal(state_unlock(f->st, "web", &err), 0);

	/* nothing to do: no confirmation, no call, no history row */
	apply_ok(f, s, 0);
	assert_int_equal(f->confirms, 1);
	assert_int_equal(fk.creates, 2);
	json_decref(hist);
	assert_int_equal(state_history(f->st, "web", 10, &hist, &err), 0);
	assert_int_equal(json_array_size(hist), 1);
	free(account);
	json_decref(hist);
	json_decref(outputs);
	stack_free(s);
}

static void test_apply_refused(void **state)
{
	struct fx *f = *state;
	struct stack *s = load(f, STACK_AB);
	struct run_args a = {0};
	struct run_result res;
	struct cairn_err err;
	struct state_resource *rs = NULL;
	size_t n = 9;
	int took = 0;

	err_clear(&err);
	f->answer = 1;
	a.stack = s;
	assert_int_equal(run_apply(&f->env, &a, &res, &err), -1);
	assert_int_equal(res.failed_at, RUN_AT_CONFIRM);
	assert_int_equal(res.code, 1);
	assert_int_equal(fk.creates, 0);
	assert_int_equal(state_list(f->st, "web", &rs, &n, &err), 0);
	assert_int_equal(n, 0);
	free(rs);
	run_result_free(&res);
	/* the lock was released on the way out */
	assert_int_equal(state_lock(f->st, "web", "test", 0, &took, NULL, &err), 0);
	assert_int_equal(state_unlock(f->st, "web", &err), 0);
	stack_free(s);
}

static void test_saved_plan_stale(void **state)
{
	struct fx *f = *state;
	struct stack *s = load(f, STACK_AB);
	struct run_args a = {0};
	struct run_result res;
	struct cairn_err err;
	unsigned char key[PLAN_KEY_LEN];
	int found;

	err_clear(&err);
	assert_int_equal(run_plan(&f->env, &(struct run_args){.stack = s, .refresh = 1}, &res,
				  &err), 0);
	a.saved = res.plan;
	res.plan = NULL;
	run_result_free(&res);
	/* no key in this state: made against another one */
	assert_int_equal(run_apply(&f->env, &a, &res, &err), -1);
	assert_int_equal(res.failed_at, RUN_AT_SETUP);
	assert_non_null(strstr(err.msg, "made against another state"));
	a.saved = NULL;
	run_result_free(&res);

	assert_int_equal(state_plan_key(f->st, "web", 1, key, &found, &err), 0);
	assert_int_equal(run_plan(&f->env, &(struct run_args){.stack = s, .refresh = 1}, &res,
				  &err), 0);
	a.saved = res.plan;
	res.plan = NULL;
	run_result_free(&res);
	apply_ok(f, s, 1);       /* the state moves on */
	err_clear(&err);
	assert_int_equal(run_apply(&f->env, &a, &res, &err), -1);
	assert_int_equal(err.code, CAIRN_ESTALE);
	assert_non_null(strstr(err.msg, "saved plan is stale"));
	assert_int_equal(fk.creates, 2);
	run_result_free(&res);
	stack_free(s);
}

static void test_destroy_dependents_first(void **state)
{
	struct fx *f = *state;
	struct stack *s = load(f, STACK_AB);
	struct run_args a = {0};
	struct run_result res;
	struct cairn_err err;

	err_clear(&err);
	apply_ok(f, s, 1);
	a.stack = s;
	assert_int_equal(run_destroy(&f->env, &a, &res, &err), 0);
	assert_int_equal(res.exec.destroyed, 2);
	assert_int_equal(json_object_size(fk.cloud), 0);
	assert_string_equal(json_string_value(json_array_get(fk.deleted, 0)), "b");
	assert_string_equal(json_string_value(json_array_get(fk.deleted, 1)), "a");
	assert_int_equal(json_object_size(res.outputs), 0);
	run_result_free(&res);
	stack_free(s);
}

/* Changes one attribute of NAME's object in the fake cloud. */
static void cloud_set(struct fx *f, const char *name, const char *attr, const char *value)
{
	struct state_resource r = {0};
	struct cairn_err err;
	int found = 0;

	err_clear(&err);
	assert_int_equal(state_get(f->st, "web", name, &r, &found, &err), 0);
	assert_true(found);
	json_object_set_new(json_object_get(fk.cloud, r.id), attr, json_string(value));
	state_resource_free(&r);
}

static void test_refresh_ignore_changes(void **state)
{
	struct fx *f = *state;
	struct stack *s = load(f, STACK_AB);
	struct run_result res;
	struct cairn_err err;
	struct state_resource r = {0};
	int found = 0;

	err_clear(&err);
	apply_ok(f, s, 1);
	/* b ignores display_name: recorded, not drift */
	cloud_set(f, "b", "display_name", "changed");
	assert_int_equal(run_refresh(&f->env, s, &res, &err), 0);
	assert_int_equal(res.n_drift, 0);
	run_result_free(&res);
	assert_int_equal(state_get(f->st, "web", "b", &r, &found, &err), 0);
	assert_string_equal(json_string_value(json_object_get(r.attrs, "display_name")), "changed");
	state_resource_free(&r);
	/* a does not: drift */
	cloud_set(f, "a", "display_name", "changed");
	assert_int_equal(run_refresh(&f->env, s, &res, &err), 0);
	assert_int_equal(res.n_drift, 1);
	run_result_free(&res);
	stack_free(s);
}

static void test_import(void **state)
{
	struct fx *f = *state;
	struct stack *s = load(f, STACK_AB);
	struct run_result res;
	struct cairn_err err;
	struct state_resource r = {0};
	int found = 0;

	err_clear(&err);
	json_object_set_new(fk.cloud, "arn:existing",
			    json_pack("{s:s,s:s,s:s}", "id", "arn:existing", "arn", "arn:existing",
				      "name", "a-123456789012"));
	/* not there */
	assert_int_equal(run_import(&f->env, s, "a", "arn:nothing", &res, &err), -1);
	assert_int_equal(err.code, CAIRN_ENOTFOUND);
	assert_non_null(strstr(err.msg, "'arn:nothing' not found"));
	run_result_free(&res);
	/* not declared */
	assert_int_equal(run_import(&f->env, s, "zz", "arn:existing", &res, &err), -1);
	assert_non_null(strstr(err.msg, "is not declared"));
	run_result_free(&res);

	err_clear(&err);
	assert_int_equal(run_import(&f->env, s, "a", "arn:existing", &res, &err), 0);
	assert_string_equal(json_string_value(json_object_get(res.imported, "id")), "arn:existing");
	run_result_free(&res);
	assert_int_equal(state_get(f->st, "web", "a", &r, &found, &err), 0);
	assert_true(found);
	assert_string_equal(r.id, "arn:existing");
	state_resource_free(&r);
	assert_int_equal(fk.reads, 2);         /* one read per import, no prior */
	/* already recorded */
	assert_int_equal(run_import(&f->env, s, "a", "arn:existing", &res, &err), -1);
	assert_non_null(strstr(err.msg, "already in the state"));
	run_result_free(&res);
	stack_free(s);
}

/* refresh_read: one batch call for a type with read_batch, one read per id
 * otherwise; gone objects come back NULL. */
static void test_refresh_read_batches(void **state)
{
	struct fx *f = *state;
	struct refresh_opts ro = {0};
	struct refresh_item items[60];
	json_t *outs[60];
	char ids[60][32];
	struct cairn_err err;
	size_t i;

	(void)f;
	err_clear(&err);
	for (i = 0; i < 60; i++) {
		snprintf(ids[i], sizeof(ids[i]), "arn:%zu", i);
		if (i % 10)
			json_object_set_new(fk.cloud, ids[i], json_pack("{s:s}", "id", ids[i]));
		items[i] = (struct refresh_item){"n", TYPE, ids[i], NULL};
	}
	ro.lookup = fake_lookup;
	ro.parallelism = 4;
	use_batch = 1;
	assert_int_equal(refresh_read(&ro, items, 60, outs, &err), 0);
	assert_int_equal(fk.batches, 2);         /* chunks of at least 50 */
	assert_int_equal(fk.reads, 0);
	for (i = 0; i < 60; i++) {
		if (i % 10)
			assert_string_equal(json_string_value(json_object_get(outs[i], "id")), ids[i]);
		else
			assert_null(outs[i]);
		json_decref(outs[i]);
	}
	use_batch = 0;
	assert_int_equal(refresh_read(&ro, items, 60, outs, &err), 0);
	assert_int_equal(fk.reads, 60);
	for (i = 0; i < 60; i++)
		json_decref(outs[i]);
	items[3].type = "aws_nothing";
	assert_int_equal(refresh_read(&ro, items, 60, outs, &err), -1);
	assert_non_null(strstr(err.msg, "unknown type 'aws_nothing'"));
}

/* refresh_drift: the one drift rule; ignore_changes names are not drift. */
static void test_refresh_drift(void **state)
{
	json_t *rec = json_pack("{s:s,s:s,s:s}", "id", "x", "name", "t", "display_name", "a");
	json_t *now = json_pack("{s:s,s:s,s:s}", "id", "x", "name", "t", "display_name", "b");
	json_t *ignore = json_pack("[s]", "display_name"), *changed;
	struct cairn_err err;

	(void)state;
	err_clear(&err);
	changed = refresh_drift(TYPE, rec, now, NULL, &err);
	assert_int_equal(json_array_size(changed), 1);
	assert_string_equal(json_string_value(json_array_get(changed, 0)), "display_name");
	json_decref(changed);
	changed = refresh_drift(TYPE, rec, now, ignore, &err);
	assert_int_equal(json_array_size(changed), 0);
	json_decref(changed);
	changed = refresh_drift(TYPE, rec, rec, NULL, &err);
	assert_int_equal(json_array_size(changed), 0);
	json_decref(changed);
	assert_null(refresh_drift("aws_nothing", rec, now, NULL, &err));
	json_decref(rec);
	json_decref(now);
	json_decref(ignore);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_apply_then_noop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_apply_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_saved_plan_stale, setup, teardown),
		cmocka_unit_test_setup_teardown(test_destroy_dependents_first, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refresh_ignore_changes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_import, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refresh_read_batches, setup, teardown),
		cmocka_unit_test(test_refresh_drift),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
