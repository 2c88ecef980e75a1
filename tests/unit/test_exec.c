/*
 * Executor tests against a fake provider (an in-memory cloud) and a real
 * state store in a temporary file: ordering, parallelism, failures and
 * skips, replaces, the journal and its recovery, and the stop flag.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "engine/exec.h"
#include "engine/plan.h"
#include "engine/provider.h"
#include "state/state.h"

#define TYPE "aws_sns_topic"
#define STACK "t"

/* The fake cloud: id -> {"name", "attrs"}, and a log of calls in order. */
static struct {
	pthread_mutex_t mu;
	json_t *cloud;
	json_t *log;
	json_t *fail;           /* names whose calls fail */
	json_t *lose;           /* names whose create succeeds but the answer is lost */
	json_t *half;           /* names whose create makes the object without its
				 * display_name (the call after the first did not
				 * run), then the answer is lost */
	json_t *fail_update;    /* names whose updates fail */
	json_t *drop;           /* names whose next create never reaches AWS (no answer) */
	json_t *dup;            /* names whose create succeeds, then reports "already
				 * exists" as a resent call would */
	json_t *stop_on;        /* names whose create raises the stop flag */
	json_t *slow;           /* names whose create reports a long wait */
	int seq, inflight, max_inflight;
	long delay_ms;
	int gate;               /* > 0: a call waits (up to 5 s) until this many are in flight */
	pthread_cond_t cv;
} fk = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
static volatile sig_atomic_t stop_flag;

static int in_list(json_t *arr, const char *s)
{
	json_t *v;
	size_t i;

	json_array_foreach(arr, i, v)
		if (strcmp(json_string_value(v), s) == 0)
			return 1;
	return 0;
}

static void logf_(const char *op, const char *name)
{
	pthread_mutex_lock(&fk.mu);
	json_array_append_new(fk.log, json_sprintf("%s:%s", op, name));
	pthread_mutex_unlock(&fk.mu);
}

static void enter(void)
{
	pthread_mutex_lock(&fk.mu);
	if (++fk.inflight > fk.max_inflight)
		fk.max_inflight = fk.inflight;
	if (fk.gate > 0) {
		/* Hold the call until the executor has `gate` of them running at
		 * once, so the bound is seen however slow the machine is. */
		struct timespec until;

		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += 5;
		pthread_cond_broadcast(&fk.cv);
		while (fk.inflight < fk.gate &&
		       pthread_cond_timedwait(&fk.cv, &fk.mu, &until) == 0)
			;
	}
	pthread_mutex_unlock(&fk.mu);
	if (fk.delay_ms) {
		struct timespec ts = {0, fk.delay_ms * 1000000L};

		nanosleep(&ts, NULL);
	}
	pthread_mutex_lock(&fk.mu);
	fk.inflight--;
	pthread_mutex_unlock(&fk.mu);
}

static int fake_create(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
		       struct cairn_err *err)
{
	json_t *o;
	char id[64];

	*out = NULL;
	logf_("create", ctx->name);
	enter();
	if (in_list(fk.stop_on, ctx->name))
		stop_flag = 1;
	if (in_list(fk.slow, ctx->name) && ctx->progress)
		ctx->progress(ctx->progress_arg, ctx->name, "still waiting (30s elapsed, status: x)");
	if (in_list(fk.fail, ctx->name)) {
		err_set(err, CAIRN_EAWS, "CreateTopic on %s: InvalidParameter: bad name", ctx->name);
		return -1;
	}
	if (in_list(fk.drop, ctx->name)) {
		/* as the client reports a Create* call whose answer never came */
		json_array_clear(fk.drop);
		err_set(err, CAIRN_ENET, "cannot reach sns for CreateTopic: Empty reply from server");
		err->remote.retryable = 1;
		err->remote.maybe_done = 1;
		return -1;
	}
	pthread_mutex_lock(&fk.mu);
	snprintf(id, sizeof(id), "arn:%s:%d", ctx->name, ++fk.seq);
	o = json_deep_copy(attrs);
	if (in_list(fk.half, ctx->name))
		json_object_del(o, "display_name");     /* set by a later call */
	json_object_set_new(o, "id", json_string(id));
	json_object_set_new(o, "arn", json_string(id));
	json_object_set_new(fk.cloud, id, json_pack("{s:s,s:O}", "name", ctx->name, "attrs", o));
	pthread_mutex_unlock(&fk.mu);
	if (in_list(fk.lose, ctx->name) || in_list(fk.half, ctx->name)) {
		json_decref(o);
		err_set(err, CAIRN_ENET, "connection reset");
		return -1;
	}
	if (in_list(fk.dup, ctx->name)) {
		json_decref(o);
		err_set(err, CAIRN_EAWS, "CreateTopic on %s: AlreadyExists: it exists", ctx->name);
		err->remote.status = 400;
		err->remote.maybe_done = 1;
		return -1;
	}
	*out = o;
	return 0;
}

static int fake_read(const struct provider_ctx *ctx, const char *id, json_t *prior, json_t **out,
		     struct cairn_err *err)
{
	json_t *e;

	pthread_mutex_lock(&fk.mu);
	e = json_object_get(fk.cloud, id);
	*out = e ? json_deep_copy(json_object_get(e, "attrs")) : NULL;
	pthread_mutex_unlock(&fk.mu);
	return 0;
}

static int fake_update(const struct provider_ctx *ctx, const char *id, json_t *old, json_t *want,
		       json_t *changed, json_t **out, struct cairn_err *err)
{
	json_t *o;

	*out = NULL;
	logf_("update", ctx->name);
	enter();
	if (in_list(fk.fail, ctx->name) || in_list(fk.fail_update, ctx->name)) {
		err_set(err, CAIRN_EAWS, "SetTopicAttributes on %s: InvalidParameter: no", ctx->name);
		return -1;
	}
	o = json_deep_copy(want);
	json_object_set_new(o, "id", json_string(id));
	json_object_set_new(o, "arn", json_string(id));
	pthread_mutex_lock(&fk.mu);
	json_object_set_new(fk.cloud, id, json_pack("{s:s,s:O}", "name", ctx->name, "attrs", o));
	pthread_mutex_unlock(&fk.mu);
	*out = o;
	return 0;
}

static int fake_delete(const struct provider_ctx *ctx, const char *id, json_t *attrs,
		       struct cairn_err *err)
{
	logf_("delete", ctx->name);
	enter();
	if (in_list(fk.fail, ctx->name)) {
		err_set(err, CAIRN_EAWS, "DeleteTopic on %s: AuthorizationError: no", ctx->name);
		return -1;
	}
	pthread_mutex_lock(&fk.mu);
	json_object_del(fk.cloud, id);
	pthread_mutex_unlock(&fk.mu);
	return 0;
}

static int fake_find(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
		     struct cairn_err *err)
{
	const char *id;
	json_t *e;

	*out = NULL;
	pthread_mutex_lock(&fk.mu);
	json_object_foreach(fk.cloud, id, e)
		if (strcmp(json_string_value(json_object_get(e, "name")), ctx->name) == 0) {
			*out = json_deep_copy(json_object_get(e, "attrs"));
			break;
		}
	pthread_mutex_unlock(&fk.mu);
	return 0;
}

static const struct resource_ops fake_ops = {
	.type = TYPE, .create = fake_create, .read = fake_read, .update = fake_update,
	.delete = fake_delete, .find = fake_find,
};

static const struct resource_ops *fake_lookup(const char *type)
{
	return strcmp(type, TYPE) == 0 ? &fake_ops : NULL;
}

/* ---- fixtures ----------------------------------------------------------- */

struct fx {
	char path[64];
	struct state *st;
	struct plan p;
};

static int setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof(*f));
	struct cairn_err err;
	int fd;

	strcpy(f->path, "/tmp/cairn-test-exec-XXXXXX");
	fd = mkstemp(f->path);
	close(fd);
	unlink(f->path);
	err_clear(&err);
	f->st = state_open(f->path, 1, &err);
	assert_non_null(f->st);
	f->p.stack = xstrdup(STACK);
	f->p.region = xstrdup("us-east-1");
	f->p.vars = json_object();
	f->p.outputs = json_object();
	fk.cloud = json_object();
	fk.log = json_array();
	fk.fail = json_array();
	fk.lose = json_array();
	fk.half = json_array();
	fk.fail_update = json_array();
	fk.drop = json_array();
	fk.dup = json_array();
	fk.stop_on = json_array();
	fk.slow = json_array();
	fk.seq = fk.inflight = fk.max_inflight = 0;
	fk.delay_ms = 0;
	fk.gate = 0;
	stop_flag = 0;
	*state = f;
	return 0;
}

static void clear_changes(struct plan *p)
{
	size_t i;

	for (i = 0; i < p->n_changes; i++) {
		struct plan_change *c = &p->changes[i];

		free(c->name);
		free(c->type);
		free(c->id);
		json_decref(c->before);
		json_decref(c->after);
		json_decref(c->config);
		json_decref(c->changed);
		json_decref(c->replace_because);
		json_decref(c->deps);
	}
	free(p->changes);
	p->changes = NULL;
	p->n_changes = 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	clear_changes(&f->p);
	free(f->p.stack);
	free(f->p.region);
	json_decref(f->p.vars);
	json_decref(f->p.outputs);
	state_close(f->st);
	unlink(f->path);
	json_decref(fk.cloud);
	json_decref(fk.log);
	json_decref(fk.fail);
	json_decref(fk.lose);
	json_decref(fk.half);
	json_decref(fk.fail_update);
	json_decref(fk.drop);
	json_decref(fk.dup);
	json_decref(fk.stop_on);
	json_decref(fk.slow);
	free(f);
	return 0;
}

/* Adds a change; config and deps are JSON text (deps may be NULL). */
static struct plan_change *add(struct plan *p, const char *name, enum plan_action a,
			       const char *config, const char *deps)
{
	struct plan_change *c;

	p->changes = xrealloc(p->changes, (p->n_changes + 1) * sizeof(*p->changes));
	c = &p->changes[p->n_changes++];
	memset(c, 0, sizeof(*c));
	c->name = xstrdup(name);
	c->type = xstrdup(TYPE);
	c->action = a;
	c->config = config ? json_loads(config, 0, NULL) : NULL;
	c->deps = deps ? json_loads(deps, 0, NULL) : json_array();
	c->changed = json_array();
	c->replace_because = json_array();
	c->schema_version = 1;
	return c;
}

static struct exec_opts opts(struct fx *f, int par)
{
	struct exec_opts o = {0};

	o.st = f->st;
	o.stack = STACK;
	o.parallelism = par;
	o.lookup = fake_lookup;
	o.stop = &stop_flag;
	return o;
}

static int log_index(const char *entry)
{
	json_t *v;
	size_t i;

	json_array_foreach(fk.log, i, v)
		if (strcmp(json_string_value(v), entry) == 0)
			return (int)i;
	return -1;
}

/* The state's resource NAME (owned attrs) or NULL. */
static json_t *recorded(struct fx *f, const char *name)
{
	struct state_resource r = {0};
	struct cairn_err err;
	json_t *a;
	int found = 0;

	err_clear(&err);
	assert_int_equal(state_get(f->st, STACK, name, &r, &found, &err), 0);
	if (!found)
		return NULL;
	a = json_incref(r.attrs);
	state_resource_free(&r);
	return a;
}

static size_t n_recorded(struct fx *f)
{
	struct state_resource *rs = NULL;
	struct cairn_err err;
	size_t n = 0, i;

	err_clear(&err);
	assert_int_equal(state_list(f->st, STACK, &rs, &n, &err), 0);
	for (i = 0; i < n; i++)
		state_resource_free(&rs[i]);
	free(rs);
	return n;
}

static size_t n_pending(struct fx *f)
{
	struct cairn_err err;
	json_t *pend = NULL;
	size_t n;

	err_clear(&err);
	assert_int_equal(state_journal_pending(f->st, STACK, &pend, &err), 0);
	n = json_array_size(pend);
	json_decref(pend);
	return n;
}

static void run(struct fx *f, int par, struct exec_result *res)
{
	struct exec_opts o = opts(f, par);
	struct cairn_err err;

	err_clear(&err);
	assert_int_equal(exec_run(&f->p, &o, res, &err), 0);
}

/* ---- tests ----------------------------------------------------------------- */

static void test_creates_in_dependency_order(void **state)
{
	struct fx *f = *state;
	struct exec_result res;
	json_t *b;

	add(&f->p, "a", PLAN_CREATE, "{\"name\":\"a\"}", NULL);
	add(&f->p, "b", PLAN_CREATE, "{\"name\":\"b\",\"display_name\":\"${a.arn}\"}", "[\"a\"]");
	run(f, 10, &res);
	assert_int_equal(res.added, 2);
	assert_int_equal(res.failed, 0);
	assert_true(log_index("create:a") < log_index("create:b"));
	b = recorded(f, "b");
	assert_non_null(b);
	/* b was evaluated with a's id, known only after a's create */
	assert_string_equal(json_string_value(json_object_get(b, "display_name")), "arn:a:1");
	json_decref(b);
	assert_int_equal(n_pending(f), 0);
	exec_result_free(&res);
}

static void test_parallelism_bounds_concurrency(void **state)
{
	struct fx *f = *state;
	struct exec_result res;
	char name[16], cfg[64];
	int i;

	fk.delay_ms = 30;
	for (i = 0; i < 8; i++) {
		snprintf(name, sizeof(name), "r%d", i);
		snprintf(cfg, sizeof(cfg), "{\"name\":\"%s\"}", name);
		add(&f->p, name, PLAN_CREATE, cfg, NULL);
	}
	run(f, 1, &res);
	assert_int_equal(fk.max_inflight, 1);
	assert_int_equal(res.added, 8);
	exec_result_free(&res);

	clear_changes(&f->p);
	for (i = 0; i < 8; i++) {
		snprintf(name, sizeof(name), "s%d", i);
		snprintf(cfg, sizeof(cfg), "{\"name\":\"%s\"}", name);
		add(&f->p, name, PLAN_CREATE, cfg, NULL);
	}
	fk.max_inflight = 0;
	fk.gate = 4;
	run(f, 4, &res);
	fk.gate = 0;
	assert_int_equal(fk.max_inflight, 4);
	assert_int_equal(n_recorded(f), 16);
	exec_result_free(&res);
}

static void test_failure_skips_only_dependents(void **state)
{
	struct fx *f = *state;
	struct exec_result res;
	size_t i;
	int seen_failed = 0;

	json_array_append_new(fk.fail, json_string("bad"));
	add(&f->p, "bad", PLAN_CREATE, "{\"name\":\"bad\"}", NULL);
	add(&f->p, "child", PLAN_CREATE, "{\"name\":\"c\",\"display_name\":\"${bad.arn}\"}",
	    "[\"bad\"]");
	add(&f->p, "grandchild", PLAN_CREATE, "{\"name\":\"g\",\"display_name\":\"${child.arn}\"}",
	    "[\"child\"]");
	add(&f->p, "other", PLAN_CREATE, "{\"name\":\"o\"}", NULL);
	add(&f->p, "other2", PLAN_CREATE, "{\"name\":\"o2\",\"display_name\":\"${other.arn}\"}",
	    "[\"other\"]");
	run(f, 2, &res);
	assert_int_equal(res.added, 2);
	assert_int_equal(res.failed, 1);
	assert_int_equal(res.skipped, 2);
	assert_int_equal(log_index("create:child"), -1);
	assert_int_equal(n_recorded(f), 2);
	assert_int_equal(n_pending(f), 0);
	for (i = 0; i < res.n_ops; i++)
		if (res.ops[i].result == EXEC_R_FAILED) {
			assert_string_equal(res.ops[i].name, "bad");
			assert_non_null(strstr(res.ops[i].err.msg, "InvalidParameter"));
			seen_failed = 1;
		} else if (strcmp(res.ops[i].name, "grandchild") == 0) {
			assert_int_equal(res.ops[i].result, EXEC_R_SKIPPED);
			assert_string_equal(res.ops[i].cause, "child");
		}
	assert_true(seen_failed);
	exec_result_free(&res);
}

/* Records NAME as created earlier (cloud and state) and returns its id. */
static char *precreate(struct fx *f, const char *name, const char *deps)
{
	struct provider_ctx ctx = {0};
	struct state_view sr = {0};
	struct cairn_err err;
	json_t *attrs = json_pack("{s:s}", "name", name), *out = NULL;
	char *id;

	err_clear(&err);
	ctx.name = name;
	ctx.stack = STACK;
	assert_int_equal(fake_create(&ctx, attrs, &out, &err), 0);
	id = xstrdup(json_string_value(json_object_get(out, "id")));
	sr.name = name;
	sr.type = TYPE;
	sr.id = id;
	sr.attrs = out;
	sr.deps = deps ? json_loads(deps, 0, NULL) : json_array();
	sr.schema_version = 1;
	assert_int_equal(state_put(f->st, STACK, &sr, &err), 0);
	json_decref(sr.deps);
	json_decref(out);
	json_decref(attrs);
	json_array_clear(fk.log);
	return id;
}

static void set_old(struct plan_change *c, char *id)
{
	c->id = id;
	c->before = json_pack("{s:s,s:s,s:s}", "name", c->name, "id", id, "arn", id);
}

static void test_deletes_dependents_first(void **state)
{
	struct fx *f = *state;
	struct exec_result res;

	set_old(add(&f->p, "a", PLAN_DELETE, NULL, NULL), precreate(f, "a", NULL));
	set_old(add(&f->p, "b", PLAN_DELETE, NULL, "[\"a\"]"), precreate(f, "b", "[\"a\"]"));
	set_old(add(&f->p, "c", PLAN_DELETE, NULL, "[\"b\"]"), precreate(f, "c", "[\"b\"]"));
	run(f, 10, &res);
	assert_int_equal(res.destroyed, 3);
	assert_true(log_index("delete:c") < log_index("delete:b"));
	assert_true(log_index("delete:b") < log_index("delete:a"));
	assert_int_equal(n_recorded(f), 0);
	assert_int_equal(json_object_size(fk.cloud), 0);
	assert_int_equal(n_pending(f), 0);
	exec_result_free(&res);
}

static void test_failed_delete_keeps_what_it_needs(void **state)
{
	struct fx *f = *state;
	struct exec_result res;

	set_old(add(&f->p, "a", PLAN_DELETE, NULL, NULL), precreate(f, "a", NULL));
	set_old(add(&f->p, "b", PLAN_DELETE, NULL, "[\"a\"]"), precreate(f, "b", "[\"a\"]"));
	set_old(add(&f->p, "z", PLAN_DELETE, NULL, NULL), precreate(f, "z", NULL));
	json_array_append_new(fk.fail, json_string("b"));
	run(f, 10, &res);
	assert_int_equal(res.destroyed, 1);     /* z */
	assert_int_equal(res.failed, 1);        /* b */
	assert_int_equal(res.skipped, 1);       /* a: b still exists */
	assert_int_equal(log_index("delete:a"), -1);
	assert_int_equal(n_recorded(f), 2);
	exec_result_free(&res);
}

static void test_replace_delete_first(void **state)
{
	struct fx *f = *state;
	struct exec_result res;
	struct plan_change *c;
	json_t *a;

	c = add(&f->p, "a", PLAN_REPLACE, "{\"name\":\"a2\"}", NULL);
	set_old(c, precreate(f, "a", NULL));
	run(f, 10, &res);
	assert_true(log_index("delete:a") < log_index("create:a"));
	assert_int_equal(res.added, 1);
	assert_int_equal(res.destroyed, 1);
	a = recorded(f, "a");
	assert_string_equal(json_string_value(json_object_get(a, "name")), "a2");
	json_decref(a);
	assert_int_equal(json_object_size(fk.cloud), 1);
	assert_int_equal(n_pending(f), 0);
	exec_result_free(&res);
}

static void test_replace_create_before_destroy(void **state)
{
	struct fx *f = *state;
	struct exec_result res;
	struct plan_change *c, *d;
	json_t *dv;

	c = add(&f->p, "tg", PLAN_REPLACE, "{\"name\":\"tg2\"}", NULL);
	c->create_before_destroy = 1;
	set_old(c, precreate(f, "tg", NULL));
	d = add(&f->p, "listener", PLAN_UPDATE,
		"{\"name\":\"listener\",\"display_name\":\"${tg.arn}\"}", "[\"tg\"]");
	set_old(d, precreate(f, "listener", "[\"tg\"]"));
	json_array_append_new(d->changed, json_string("display_name"));
	run(f, 10, &res);
	assert_int_equal(res.failed, 0);
	assert_true(log_index("create:tg") < log_index("update:listener"));
	/* the old one goes only after its dependent moved to the new one */
	assert_true(log_index("update:listener") < log_index("delete:tg"));
	dv = recorded(f, "listener");
	assert_string_equal(json_string_value(json_object_get(dv, "display_name")), "arn:tg:3");
	json_decref(dv);
	assert_int_equal(json_object_size(fk.cloud), 2);
	assert_int_equal(n_pending(f), 0);
	exec_result_free(&res);
}

/* Planned as an update because a reference was unknown; known now and equal. */
static void test_update_with_nothing_left_to_change(void **state)
{
	struct fx *f = *state;
	struct exec_result res;
	struct plan_change *c;
	char *a_id = precreate(f, "a", NULL);

	c = add(&f->p, "b", PLAN_UPDATE, "{\"name\":\"b\",\"display_name\":\"${a.arn}\"}",
		"[\"a\"]");
	set_old(c, precreate(f, "b", "[\"a\"]"));
	json_object_set_new(c->before, "display_name", json_string(a_id));
	json_array_append_new(c->changed, json_string("display_name"));
	run(f, 10, &res);
	assert_int_equal(log_index("update:b"), -1);
	assert_int_equal(res.changed, 0);
	assert_int_equal(res.failed, 0);
	assert_int_equal(res.ops[0].result, EXEC_R_DONE);
	free(a_id);
	exec_result_free(&res);
}

/* Creates "a" with the fake cloud's fault list faults naming it: the run
 * succeeds with exactly one object in AWS, recorded, no update called and
 * nothing left in the journal. */
static void one_create_through(struct fx *f, json_t *faults)
{
	struct exec_result res;
	json_t *a;

	json_array_append_new(faults, json_string("a"));
	add(&f->p, "a", PLAN_CREATE, "{\"name\":\"a\"}", NULL);
	run(f, 10, &res);
	assert_int_equal(res.failed, 0);
	assert_int_equal(json_object_size(fk.cloud), 1);
	assert_int_equal(log_index("update:a"), -1);
	a = recorded(f, "a");
	assert_non_null(a);
	json_decref(a);
	assert_int_equal(n_pending(f), 0);
	exec_result_free(&res);
}

/* The create's answer was lost: what AWS made is found and recorded, not
 * orphaned; it matches the configuration, so the run succeeds. */
static void test_lost_create_answer_is_found(void **state)
{
	one_create_through(*state, fk.lose);
}

/* The create's answer was lost before its later calls ran: the object found
 * is brought to the configuration by an update in the same run, so neither
 * the run nor its dependents wait for the next apply. */
static void test_found_half_made_object_is_finished(void **state)
{
	struct fx *f = *state;
	struct exec_result res;
	json_t *a;

	json_array_append_new(fk.half, json_string("a"));
	add(&f->p, "a", PLAN_CREATE, "{\"name\":\"a\",\"display_name\":\"A\"}", NULL);
	add(&f->p, "b", PLAN_CREATE, "{\"name\":\"b\",\"display_name\":\"${a.arn}\"}", "[\"a\"]");
	run(f, 10, &res);
	assert_int_equal(res.failed, 0);
	assert_int_equal(json_object_size(fk.cloud), 2);
	assert_true(log_index("update:a") > log_index("create:a"));
	assert_true(log_index("create:b") > log_index("update:a"));
	a = recorded(f, "a");
	assert_non_null(a);
	assert_string_equal(json_string_value(json_object_get(a, "display_name")), "A");
	json_decref(a);
	assert_int_equal(n_pending(f), 0);
	exec_result_free(&res);
}

/* When that update fails, the object found stays recorded and the resource
 * fails with the update's error. */
static void test_found_half_made_object_update_fails(void **state)
{
	struct fx *f = *state;
	struct exec_result res;
	json_t *a;

	json_array_append_new(fk.half, json_string("a"));
	json_array_append_new(fk.fail_update, json_string("a"));
	add(&f->p, "a", PLAN_CREATE, "{\"name\":\"a\",\"display_name\":\"A\"}", NULL);
	run(f, 10, &res);
	assert_int_equal(res.failed, 1);
	assert_non_null(strstr(res.ops[0].err.msg, "created (its answer was lost) and found"));
	assert_non_null(strstr(res.ops[0].err.msg, "SetTopicAttributes"));
	exec_result_free(&res);
	assert_int_equal(json_object_size(fk.cloud), 1);
	a = recorded(f, "a");
	assert_non_null(a);
	assert_null(json_object_get(a, "display_name"));
	json_decref(a);
	assert_int_equal(n_pending(f), 0);
}

/* A create that never reached AWS (the client does not resend Create*
 * calls without an answer): find finds nothing, so it is sent again, once. */
static void test_unanswered_create_is_sent_again_when_not_found(void **state)
{
	one_create_through(*state, fk.drop);
}

/* "Already exists" from a call whose earlier attempt may have been carried
 * out: what that attempt made is found and recorded, not left orphaned. */
static void test_refusal_after_uncertain_attempt_is_looked_up(void **state)
{
	one_create_through(*state, fk.dup);
}

static void test_recover_adopts_and_forgets(void **state)
{
	struct fx *f = *state;
	struct exec_opts o = opts(f, 1);
	struct provider_ctx ctx = {0};
	struct cairn_err err;
	json_t *attrs = json_pack("{s:s}", "name", "x"), *out = NULL, *intent, *x;
	char *old_id;
	int64_t jid;

	err_clear(&err);
	/* a create that reached AWS, then the process died */
	intent = json_pack("{s:O,s:[],s:i}", "attrs", attrs, "deps", "schema_version", 1);
	assert_int_equal(state_journal_begin(f->st, STACK, "x", TYPE, "create", intent, &jid,
					     &err), 0);
	json_decref(intent);
	ctx.name = "x";
	assert_int_equal(fake_create(&ctx, attrs, &out, &err), 0);
	json_decref(out);
	/* a create that never reached AWS */
	intent = json_pack("{s:{s:s},s:[],s:i}", "attrs", "name", "y", "deps", "schema_version", 1);
	assert_int_equal(state_journal_begin(f->st, STACK, "y", TYPE, "create", intent, &jid,
					     &err), 0);
	json_decref(intent);
	/* a delete that went through before the process died */
	old_id = precreate(f, "z", NULL);
	intent = json_pack("{s:s}", "id", old_id);
	assert_int_equal(state_journal_begin(f->st, STACK, "z", TYPE, "delete", intent, &jid,
					     &err), 0);
	json_decref(intent);
	json_object_del(fk.cloud, old_id);

	assert_int_equal(exec_recover(&o, &err), 0);
	x = recorded(f, "x");
	assert_non_null(x);
	assert_string_equal(json_string_value(json_object_get(x, "name")), "x");
	json_decref(x);
	assert_null(recorded(f, "y"));
	assert_null(recorded(f, "z"));
	assert_int_equal(n_pending(f), 0);
	free(old_id);
	json_decref(attrs);
}

/* A killed run's create that recovery did not find lands later (held in the
 * network); the next create of it is refused. Only a resource recovery
 * marked so gets a second look and is adopted; another refused create of a
 * same-named resource stays a failure. */
static void test_late_create_is_adopted_only_when_marked(void **state)
{
	struct fx *f = *state;
	struct exec_opts o = opts(f, 1);
	struct provider_ctx ctx = {0};
	struct exec_result res;
	struct cairn_err err;
	json_t *intent, *out = NULL, *late, *attrs;
	int64_t jid;

	err_clear(&err);
	intent = json_pack("{s:{s:s},s:[],s:i}", "attrs", "name", "late", "deps",
			   "schema_version", 1);
	assert_int_equal(state_journal_begin(f->st, STACK, "late", TYPE, "create", intent, &jid,
					     &err), 0);
	json_decref(intent);
	assert_int_equal(exec_recover(&o, &err), 0);
	assert_null(recorded(f, "late"));
	/* now the killed run's requests arrive */
	ctx.name = "late";
	attrs = json_pack("{s:s}", "name", "late");
	assert_int_equal(fake_create(&ctx, attrs, &out, &err), 0);
	json_decref(out);
	json_decref(attrs);
	ctx.name = "other";
	attrs = json_pack("{s:s}", "name", "other");
	assert_int_equal(fake_create(&ctx, attrs, &out, &err), 0);
	json_decref(out);
	json_decref(attrs);
	/* both names are taken now: their creates are refused */
	json_array_append_new(fk.fail, json_string("late"));
	json_array_append_new(fk.fail, json_string("other"));
	add(&f->p, "late", PLAN_CREATE, "{\"name\":\"late\"}", NULL);
	add(&f->p, "other", PLAN_CREATE, "{\"name\":\"other\"}", NULL);
	run(f, 1, &res);
	assert_int_equal(res.failed, 1);
	late = recorded(f, "late");
	assert_non_null(late);
	json_decref(late);
	assert_null(recorded(f, "other"));
	exec_result_free(&res);
}

static void count_drift(void *ctx, const struct exec_event *ev)
{
	int *n = ctx;

	if (ev->kind == EXEC_EV_DRIFT) {
		assert_string_equal(ev->name, "a");
		assert_string_equal(json_string_value(json_array_get(ev->changed, 0)),
				    "display_name");
		n[0]++;
	} else if (ev->kind == EXEC_EV_GONE) {
		assert_string_equal(ev->name, "b");
		n[1]++;
	}
}

static void test_refresh_records_what_aws_reports(void **state)
{
	struct fx *f = *state;
	struct exec_opts o = opts(f, 1);
	struct cairn_err err;
	char *a_id = precreate(f, "a", NULL), *b_id = precreate(f, "b", NULL);
	json_t *a;
	size_t n_drift = 0;
	int seen[2] = {0, 0};

	err_clear(&err);
	free(precreate(f, "c", NULL));   /* unchanged: not reported */
	json_object_set_new(json_object_get(json_object_get(fk.cloud, a_id), "attrs"),
			    "display_name", json_string("edited"));
	json_object_del(fk.cloud, b_id);
	o.on_event = count_drift;
	o.event_ctx = seen;
	assert_int_equal(exec_refresh(&o, NULL, &n_drift, &err), 0);
	assert_int_equal(n_drift, 2);
	assert_int_equal(seen[0], 1);
	assert_int_equal(seen[1], 1);
	a = recorded(f, "a");
	assert_string_equal(json_string_value(json_object_get(a, "display_name")), "edited");
	json_decref(a);
	assert_null(recorded(f, "b"));
	assert_int_equal(n_recorded(f), 2);
	free(a_id);
	free(b_id);
}

/* The providers' waiter reports long waits; they reach the caller as
 * events between the operation's start and its end (the CI heartbeat). */
static void log_events(void *ctx, const struct exec_event *ev)
{
	json_t *log = ctx;

	if (ev->kind == EXEC_EV_PROGRESS)
		json_array_append_new(log, json_sprintf("progress:%s:%s", ev->name, ev->msg));
	else if (ev->kind == EXEC_EV_START || ev->kind == EXEC_EV_DONE)
		json_array_append_new(log, json_sprintf("%s:%s", ev->kind == EXEC_EV_START ?
							"start" : "done", ev->name));
}

static void test_progress_reaches_the_caller(void **state)
{
	struct fx *f = *state;
	struct exec_opts o = opts(f, 1);
	struct exec_result res;
	struct cairn_err err;
	json_t *events = json_array();

	err_clear(&err);
	json_array_append_new(fk.slow, json_string("a"));
	add(&f->p, "a", PLAN_CREATE, "{\"name\":\"a\"}", NULL);
	o.on_event = log_events;
	o.event_ctx = events;
	assert_int_equal(exec_run(&f->p, &o, &res, &err), 0);
	assert_int_equal(res.added, 1);
	assert_int_equal(json_array_size(events), 3);
	assert_string_equal(json_string_value(json_array_get(events, 0)), "start:a");
	assert_string_equal(json_string_value(json_array_get(events, 1)),
			    "progress:a:still waiting (30s elapsed, status: x)");
	assert_string_equal(json_string_value(json_array_get(events, 2)), "done:a");
	json_decref(events);
	exec_result_free(&res);
}

static void test_stop_lets_in_flight_finish(void **state)
{
	struct fx *f = *state;
	struct exec_result res;

	fk.delay_ms = 20;
	json_array_append_new(fk.stop_on, json_string("a"));
	add(&f->p, "a", PLAN_CREATE, "{\"name\":\"a\"}", NULL);
	add(&f->p, "b", PLAN_CREATE, "{\"name\":\"b\",\"display_name\":\"${a.arn}\"}", "[\"a\"]");
	add(&f->p, "c", PLAN_CREATE, "{\"name\":\"c\",\"display_name\":\"${b.arn}\"}", "[\"b\"]");
	run(f, 10, &res);
	assert_true(res.interrupted);
	assert_int_equal(res.in_flight_at_stop, 1);
	assert_int_equal(res.added, 1);
	assert_int_equal(res.not_started, 2);
	assert_int_equal(n_recorded(f), 1);
	assert_int_equal(n_pending(f), 0);
	exec_result_free(&res);
}

static void test_unknown_type_starts_nothing(void **state)
{
	struct fx *f = *state;
	struct exec_opts o = opts(f, 2);
	struct exec_result res;
	struct cairn_err err;
	struct plan_change *c;

	err_clear(&err);
	add(&f->p, "a", PLAN_CREATE, "{\"name\":\"a\"}", NULL);
	c = add(&f->p, "b", PLAN_CREATE, "{\"name\":\"b\"}", NULL);
	free(c->type);
	c->type = xstrdup("aws_nothing");
	assert_int_equal(exec_run(&f->p, &o, &res, &err), -1);
	assert_non_null(strstr(err.msg, "aws_nothing"));
	assert_int_equal(json_array_size(fk.log), 0);
	exec_result_free(&res);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_creates_in_dependency_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_parallelism_bounds_concurrency, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failure_skips_only_dependents, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deletes_dependents_first, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_delete_keeps_what_it_needs, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_replace_delete_first, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replace_create_before_destroy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_update_with_nothing_left_to_change, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_lost_create_answer_is_found, setup, teardown),
		cmocka_unit_test_setup_teardown(test_found_half_made_object_is_finished, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_found_half_made_object_update_fails, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_unanswered_create_is_sent_again_when_not_found,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusal_after_uncertain_attempt_is_looked_up,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_recover_adopts_and_forgets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_late_create_is_adopted_only_when_marked, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_progress_reaches_the_caller, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refresh_records_what_aws_reports, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_stop_lets_in_flight_finish, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_type_starts_nothing, setup, teardown),
	};

	return cmocka_run_group_tests_name("exec", tests, NULL, NULL);
}
