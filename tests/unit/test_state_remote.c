/*
 * Unit tests for the state kept in a remote object store (state.c, SPEC
 * §5.1), over an in-memory fake of the store: conditional writes with
 * ETags, the store's own clock (Date / Last-Modified), and switches that
 * make a write land while its answer says 412 (a lost answer, retried).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "state/state.h"

#define MAX_OBJ 4

struct obj {
	char key[128];
	struct strbuf body;
	json_t *meta;
	char etag[64];
	int64_t modified;
	int present;
};

struct fake {
	pthread_mutex_t mu;
	struct obj objs[MAX_OBJ];
	int64_t now;            /* the store's clock */
	int etag_seq;
	int puts;               /* writes of the state object */
	int lost_answer;        /* next put lands but answers 412 */
	int lost_error;         /* next put lands but fails as a connection error */
	int unreachable;        /* every put fails as a connection error */
};

static struct fake fake;
static char dir[256];

static struct obj *find(const char *key, int make)
{
	int i;

	for (i = 0; i < MAX_OBJ; i++)
		if (fake.objs[i].present && !strcmp(fake.objs[i].key, key))
			return &fake.objs[i];
	for (i = 0; make && i < MAX_OBJ; i++)
		if (!fake.objs[i].present) {
			memset(&fake.objs[i], 0, sizeof(fake.objs[i]));
			snprintf(fake.objs[i].key, sizeof(fake.objs[i].key), "%s", key);
			strbuf_init(&fake.objs[i].body);
			return &fake.objs[i];
		}
	return NULL;
}

static void http_date(int64_t t, char out[64])
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, 64, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

static void info_of(const struct obj *o, struct state_remote_info *info)
{
	memset(info, 0, sizeof(*info));
	snprintf(info->etag, sizeof(info->etag), "%s", o->etag);
	http_date(fake.now, info->date);
	http_date(o->modified, info->last_modified);
	info->meta = o->meta ? json_deep_copy(o->meta) : json_object();
}

/* Writes key as the store would (used by the test as "someone else" too). */
static void store(const char *key, const void *data, size_t len, json_t *meta)
{
	struct obj *o = find(key, 1);

	strbuf_reset(&o->body);
	strbuf_add(&o->body, data, len);
	json_decref(o->meta);
	o->meta = meta ? json_deep_copy(meta) : json_object();
	snprintf(o->etag, sizeof(o->etag), "\"e%d\"", ++fake.etag_seq);
	o->modified = fake.now;
	o->present = 1;
}

static int f_get(void *ctx, const char *key, struct strbuf *body, struct state_remote_info *info,
		 struct cairn_err *err)
{
	struct obj *o;
	int rc = STATE_REMOTE_NOTFOUND;

	(void)ctx;
	(void)err;
	pthread_mutex_lock(&fake.mu);
	if ((o = find(key, 0))) {
		if (body)
			strbuf_add(body, o->body.buf, o->body.len);
		info_of(o, info);
		rc = 0;
	}
	pthread_mutex_unlock(&fake.mu);
	return rc;
}

static int f_head(void *ctx, const char *key, struct state_remote_info *info,
		  struct cairn_err *err)
{
	return f_get(ctx, key, NULL, info, err);
}

static int f_put(void *ctx, const char *key, const void *data, size_t len, const char *if_match,
		 json_t *meta, struct state_remote_info *info, struct cairn_err *err)
{
	struct obj *o;
	int rc = 0;

	(void)ctx;
	memset(info, 0, sizeof(*info));
	pthread_mutex_lock(&fake.mu);
	o = find(key, 0);
	if (fake.unreachable) {
		err_set(err, CAIRN_ENET, "connection refused");
		rc = -1;
	} else if ((if_match && (!o || strcmp(o->etag, if_match))) || (!if_match && o)) {
		rc = STATE_REMOTE_CONFLICT;
	} else {
		store(key, data, len, meta);
		if (!strstr(key, ".lock"))
			fake.puts++;
		info_of(find(key, 0), info);
		if (fake.lost_answer) {
			fake.lost_answer = 0;
			rc = STATE_REMOTE_CONFLICT;     /* the retry's answer */
		} else if (fake.lost_error) {
			fake.lost_error = 0;
			err_set(err, CAIRN_ENET, "connection reset");
			rc = -1;
		}
	}
	pthread_mutex_unlock(&fake.mu);
	return rc;
}

static int f_del(void *ctx, const char *key, const char *if_match, struct cairn_err *err)
{
	struct obj *o;
	int rc = 0;

	(void)ctx;
	(void)err;
	pthread_mutex_lock(&fake.mu);
	if ((o = find(key, 0)) && if_match && strcmp(o->etag, if_match))
		rc = STATE_REMOTE_CONFLICT;
	else if (o)
		o->present = 0;
	pthread_mutex_unlock(&fake.mu);
	return rc;
}

static struct state *open_remote(const char *host, int lease_s, int create, struct cairn_err *err)
{
	struct state_remote r = {0};

	r.ops.get = f_get;
	r.ops.head = f_head;
	r.ops.put = f_put;
	r.ops.del = f_del;
	r.url = "s3://bkt/team/web.db";
	r.key = "team/web.db";
	r.host = host;
	r.user = "tester";
	r.lease_s = lease_s;
	r.tmpdir = dir;
	err_clear(err);
	return state_open_remote(&r, create, err);
}

static void put_res(struct state *st, const char *name)
{
	struct state_view r = {0};
	struct cairn_err err;

	r.name = name;
	r.type = "aws_sns_topic";
	r.id = name;
	r.attrs = json_pack("{s:s}", "id", name);
	r.deps = json_array();
	assert_int_equal(state_put(st, "web", &r, &err), 0);
	json_decref(r.attrs);
	json_decref(r.deps);
}

static size_t count(struct state *st)
{
	struct state_resource *list;
	struct cairn_err err;
	size_t n, i;

	assert_int_equal(state_list(st, "web", &list, &n, &err), 0);
	for (i = 0; i < n; i++)
		state_resource_free(&list[i]);
	free(list);
	return n;
}

static int setup(void **ctx)
{
	int i;

	(void)ctx;
	snprintf(dir, sizeof(dir), "/tmp/cairn-remote-test-XXXXXX");
	assert_non_null(mkdtemp(dir));
	assert_int_equal(chdir(dir), 0);    /* errored-*.db lands here */
	for (i = 0; i < MAX_OBJ; i++) {
		if (fake.objs[i].body.buf)
			strbuf_free(&fake.objs[i].body);
		json_decref(fake.objs[i].meta);
	}
	memset(&fake, 0, sizeof(fake));
	pthread_mutex_init(&fake.mu, NULL);
	fake.now = 1800000000;
	return 0;
}

static int teardown(void **ctx)
{
	char *cmd = xasprintf("rm -rf '%s'", dir);

	(void)ctx;
	assert_int_equal(chdir("/"), 0);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	return 0;
}

static void test_round_trip_and_metadata(void **ctx)
{
	struct cairn_err err;
	struct state *st;
	struct obj *o;

	(void)ctx;
	assert_null(open_remote("h1", 60, 0, &err));
	assert_int_equal(err.code, CAIRN_ENOTFOUND);
	st = open_remote("h1", 60, 1, &err);
	assert_non_null(st);
	assert_null(find("team/web.db", 0));        /* opening writes nothing */
	put_res(st, "a");
	put_res(st, "b");
	assert_int_equal(state_sync(st, &err), 0);
	o = find("team/web.db", 0);
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o->meta, "cairn-format")),
			    "cairn-state");
	assert_string_equal(json_string_value(json_object_get(o->meta, "cairn-serial")), "2");
	/* A self-contained image: rollback-journal header bytes, not WAL's. */
	assert_memory_equal(o->body.buf, "SQLite format 3", 16);
	assert_int_equal(o->body.buf[18], 1);
	assert_int_equal(o->body.buf[19], 1);
	state_close(st);
	st = open_remote("h2", 60, 0, &err);
	assert_non_null(st);
	assert_int_equal(count(st), 2);
	state_close(st);
}

static void test_foreign_and_newer_objects_are_refused(void **ctx)
{
	struct cairn_err err;
	json_t *meta;
	struct obj *o;
	char etag[64];

	(void)ctx;
	store("team/web.db", "hello", 5, NULL);
	snprintf(etag, sizeof(etag), "%s", find("team/web.db", 0)->etag);
	assert_null(open_remote("h1", 60, 1, &err));
	assert_non_null(strstr(err.msg, "is not a cairn state"));
	/* The right metadata on other bytes is not enough either. */
	meta = json_pack("{s:s,s:s}", "cairn-format", "cairn-state", "cairn-state-version", "3");
	store("team/web.db", "hello", 5, meta);
	assert_null(open_remote("h1", 60, 1, &err));
	assert_non_null(strstr(err.msg, "not an SQLite database"));
	json_object_set_new(meta, "cairn-state-version", json_string("9"));
	o = find("team/web.db", 0);
	strbuf_reset(&o->body);
	strbuf_add(&o->body, "SQLite format 3\0", 16);
	while (o->body.len < 4096)
		strbuf_addc(&o->body, '\0');
	json_decref(o->meta);
	o->meta = meta;
	snprintf(etag, sizeof(etag), "%s", o->etag);
	assert_null(open_remote("h1", 60, 1, &err));
	assert_non_null(strstr(err.msg, "newer cairn"));
	assert_string_equal(find("team/web.db", 0)->etag, etag);
}

static void test_conflict_keeps_an_errored_copy(void **ctx)
{
	struct cairn_err err;
	struct state *st, *other;
	char theirs[64];

	(void)ctx;
	st = open_remote("h1", 60, 1, &err);
	put_res(st, "a");
	assert_int_equal(state_sync(st, &err), 0);
	/* Someone else writes the object. */
	other = open_remote("h2", 60, 0, &err);
	put_res(other, "z");
	assert_int_equal(state_sync(other, &err), 0);
	state_close(other);
	snprintf(theirs, sizeof(theirs), "%s", find("team/web.db", 0)->etag);
	put_res(st, "b");
	assert_int_equal(state_sync(st, &err), -1);
	assert_non_null(strstr(err.msg, "changed by someone else"));
	assert_non_null(strstr(err.msg, "no new AWS call"));
	put_res(st, "c");       /* an in-flight call recorded after the conflict */
	assert_int_equal(state_finish(st, &err), -1);
	assert_non_null(strstr(err.msg, "errored-3.db"));
	assert_int_equal(access("errored-3.db", F_OK), 0);
	assert_string_equal(find("team/web.db", 0)->etag, theirs);
	state_close(st);
	assert_string_equal(find("team/web.db", 0)->etag, theirs);
	st = state_open("errored-3.db", 0, &err);
	assert_non_null(st);
	assert_int_equal(count(st), 3);
	state_close(st);
}

static void test_own_retried_write_is_recognised(void **ctx)
{
	struct cairn_err err;
	struct state *st;

	(void)ctx;
	st = open_remote("h1", 60, 1, &err);
	put_res(st, "a");
	fake.lost_answer = 1;
	assert_int_equal(state_sync(st, &err), 0);
	put_res(st, "b");
	assert_int_equal(state_sync(st, &err), 0);
	assert_int_equal(fake.puts, 2);
	/* A write whose answer never came fails the sync, but it landed: the
	 * next upload finds it (not a conflict) and writes over it. */
	put_res(st, "c");
	fake.lost_error = 1;
	assert_int_equal(state_sync(st, &err), -1);
	assert_int_equal(err.code, CAIRN_ENET);
	put_res(st, "d");
	assert_int_equal(state_sync(st, &err), 0);
	assert_int_equal(fake.puts, 4);
	state_close(st);
	st = open_remote("h2", 60, 0, &err);
	assert_int_equal(count(st), 4);
	state_close(st);
}

static void test_unreachable_store_keeps_the_run(void **ctx)
{
	struct cairn_err err;
	struct state *st;

	(void)ctx;
	st = open_remote("h1", 60, 1, &err);
	put_res(st, "a");
	assert_int_equal(state_sync(st, &err), 0);
	fake.unreachable = 1;
	put_res(st, "b");
	assert_int_equal(state_sync(st, &err), -1);
	assert_int_equal(err.code, CAIRN_ENET);
	/* What the run recorded is not lost with the working copy. */
	assert_int_equal(state_finish(st, &err), -1);
	assert_non_null(strstr(err.msg, "connection refused"));
	assert_non_null(strstr(err.msg, "kept in 'errored-2.db'"));
	assert_non_null(strstr(err.msg, "cairn state push errored-2.db"));
	state_close(st);
	st = state_open("errored-2.db", 0, &err);
	assert_non_null(st);
	assert_int_equal(count(st), 2);
	state_close(st);
}

static void test_lock_held_expired_and_fenced(void **ctx)
{
	struct cairn_err err;
	struct state *a, *b;
	char warn[512] = "";
	int took = 0;

	(void)ctx;
	a = open_remote("host-a", 30, 1, &err);
	put_res(a, "a");
	assert_int_equal(state_lock(a, "web", "apply", 0, &took, warn, &err), 0);
	assert_int_equal(took, 0);
	/* a's upload of "a" lands before b reads: b's fencing write must not
	 * race a write b has not seen (that is a real conflict, tested above). */
	assert_int_equal(state_sync(a, &err), 0);
	b = open_remote("host-b", 30, 1, &err);
	assert_int_equal(state_lock(b, "web", "apply", 0, &took, warn, &err), -1);
	assert_int_equal(err.code, CAIRN_ELOCKED);
	assert_non_null(strstr(err.msg, "on host 'host-a'"));
	assert_non_null(strstr(err.msg, "user tester"));
	assert_non_null(strstr(err.msg, "operation: apply"));
	/* host-a hangs; by the store's clock its lease runs out. */
	fake.now += 31;
	err_clear(&err);
	assert_int_equal(state_lock(b, "web", "apply", 0, &took, warn, &err), 0);
	assert_int_equal(took, 1);
	assert_non_null(strstr(warn, "host 'host-a'"));
	assert_non_null(strstr(warn, "lease of 30 s expired 1 s ago"));
	/* The takeover rewrote the state: host-a's next write is refused. */
	put_res(a, "late");
	assert_int_equal(state_sync(a, &err), -1);
	assert_int_equal(state_finish(a, &err), -1);
	/* a's unlock must not remove b's lock; its own copy is kept. */
	state_close(a);
	assert_non_null(find("team/web.db.lock", 0));
	assert_int_equal(access("errored-2.db", F_OK), 0);
	assert_int_equal(state_unlock(b, "web", &err), 0);
	assert_null(find("team/web.db.lock", 0));
	state_close(b);
}

static void test_dead_holder_on_this_host(void **ctx)
{
	struct cairn_err err;
	struct state *st;
	char warn[512] = "";
	json_t *meta = json_object();
	const char *body = "{\"id\":\"old\",\"host\":\"h1\",\"pid\":999999,\"user\":\"u\","
			   "\"operation\":\"apply\",\"started\":\"2026-11-29T10:00:00Z\","
			   "\"lease_seconds\":600}";
	int took = 0;

	(void)ctx;
	store("team/web.db.lock", body, strlen(body), meta);
	json_decref(meta);
	st = open_remote("h1", 60, 1, &err);
	assert_int_equal(state_lock(st, "web", "apply", 0, &took, warn, &err), 0);
	assert_int_equal(took, 1);
	assert_non_null(strstr(warn, "pid 999999"));
	assert_non_null(strstr(warn, "no longer exists"));
	/* Our lock is recognised as ours (a retried lock write finds itself). */
	assert_int_equal(state_unlock(st, "web", &err), 0);
	assert_null(find("team/web.db.lock", 0));
	state_close(st);
}

static void test_heartbeat_renews_the_lease(void **ctx)
{
	struct cairn_err err;
	struct state *st;
	char warn[512], first[64];
	int took = 0;

	(void)ctx;
	st = open_remote("h1", 3, 1, &err);
	assert_int_equal(state_lock(st, "web", "apply", 0, &took, warn, &err), 0);
	pthread_mutex_lock(&fake.mu);
	snprintf(first, sizeof(first), "%s", find("team/web.db.lock", 0)->etag);
	pthread_mutex_unlock(&fake.mu);
	sleep(2);
	pthread_mutex_lock(&fake.mu);
	assert_string_not_equal(find("team/web.db.lock", 0)->etag, first);
	pthread_mutex_unlock(&fake.mu);
	assert_int_equal(state_unlock(st, "web", &err), 0);
	state_close(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip_and_metadata, setup, teardown),
		cmocka_unit_test_setup_teardown(test_foreign_and_newer_objects_are_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_conflict_keeps_an_errored_copy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_own_retried_write_is_recognised, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unreachable_store_keeps_the_run, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock_held_expired_and_fenced, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dead_holder_on_this_host, setup, teardown),
		cmocka_unit_test_setup_teardown(test_heartbeat_renews_the_lease, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
