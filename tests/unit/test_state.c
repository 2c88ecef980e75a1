/*
 * Unit tests for the SQLite state store (state/state.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

#include "state/state.h"

static char dir[256];

static char *path_in(const char *name)
{
	return xasprintf("%s/%s", dir, name);
}

static int setup(void **ctx)
{
	snprintf(dir, sizeof(dir), "/tmp/cairn-state-test-XXXXXX");
	assert_non_null(mkdtemp(dir));
	(void)ctx;
	return 0;
}

static int teardown(void **ctx)
{
	char *cmd = xasprintf("rm -rf '%s'", dir);

	(void)ctx;
	assert_int_equal(system(cmd), 0);
	free(cmd);
	return 0;
}

static void put(struct state *st, const char *stack, const char *name, const char *id)
{
	struct state_view r = {0};
	struct cairn_err err;

	r.name = name;
	r.type = "aws_vpc";
	r.id = id;
	r.attrs = json_pack("{s:s,s:s}", "id", id, "cidr_block", "10.0.0.0/16");
	r.deps = json_pack("[s]", "other");
	r.schema_version = 1;
	assert_int_equal(state_put(st, stack, &r, &err), 0);
	json_decref(r.attrs);
	json_decref(r.deps);
}

static void test_create_mode_and_roundtrip(void **ctx)
{
	char *p = path_in("a.db");
	struct cairn_err err;
	struct state_stack meta;
	struct state_resource *list, one;
	struct state *st;
	struct stat sb;
	char lineage[64];
	size_t n;
	int found;

	(void)ctx;
	assert_null(state_open(p, 0, &err));
	assert_int_equal(err.code, CAIRN_ENOTFOUND);
	st = state_open(p, 1, &err);
	assert_non_null(st);
	assert_int_equal(stat(p, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);

	assert_int_equal(state_stack_get(st, "web", &meta, &err), 0);
	assert_int_equal(meta.serial, 0);
	assert_string_equal(meta.lineage, "");

	put(st, "web", "vpc", "vpc-1");
	put(st, "web", "b", "vpc-2");
	put(st, "other", "vpc", "vpc-9");
	assert_int_equal(state_stack_get(st, "web", &meta, &err), 0);
	assert_int_equal(meta.serial, 2);
	assert_int_equal(strlen(meta.lineage), 32);
	strcpy(lineage, meta.lineage);

	assert_int_equal(state_list(st, "web", &list, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].name, "b");
	assert_string_equal(list[1].name, "vpc");
	assert_string_equal(list[1].id, "vpc-1");
	assert_string_equal(json_string_value(json_object_get(list[1].attrs, "cidr_block")),
			    "10.0.0.0/16");
	assert_string_equal(json_string_value(json_array_get(list[1].deps, 0)), "other");
	assert_int_equal(list[1].schema_version, 1);
	state_resource_free(&list[0]);
	state_resource_free(&list[1]);
	free(list);

	assert_int_equal(state_rm(st, "web", "b", &err), 0);
	assert_int_equal(state_get(st, "web", "b", &one, &found, &err), 0);
	assert_int_equal(found, 0);
	assert_int_equal(state_get(st, "web", "vpc", &one, &found, &err), 0);
	assert_int_equal(found, 1);
	assert_string_equal(one.type, "aws_vpc");
	state_resource_free(&one);
	assert_int_equal(state_stack_get(st, "web", &meta, &err), 0);
	assert_int_equal(meta.serial, 3);
	assert_string_equal(meta.lineage, lineage);
	state_close(st);

	/* Reopen: everything is still there. */
	st = state_open(p, 0, &err);
	assert_non_null(st);
	assert_int_equal(state_stack_get(st, "other", &meta, &err), 0);
	assert_int_equal(meta.serial, 1);
	state_close(st);
	free(p);
}

static void test_outputs_history_stacks(void **ctx)
{
	char *p = path_in("o.db");
	struct cairn_err err;
	struct state *st = state_open(p, 1, &err);
	json_t *o, *h, *stacks;

	(void)ctx;
	assert_non_null(st);
	o = json_pack("{s:{s:s,s:b}}", "vpc_id", "value", "vpc-1", "sensitive", 0);
	assert_int_equal(state_outputs_put(st, "web", o, &err), 0);
	json_decref(o);
	assert_int_equal(state_outputs_get(st, "web", &o, &err), 0);
	assert_string_equal(json_string_value(json_object_get(json_object_get(o, "vpc_id"), "value")),
			    "vpc-1");
	json_decref(o);
	assert_int_equal(state_outputs_get(st, "nothing", &o, &err), 0);
	assert_int_equal(json_object_size(o), 0);
	json_decref(o);

	o = json_pack("{s:i}", "create", 2);
	assert_int_equal(state_history_add(st, "web", "apply", "ok", o, &err), 0);
	assert_int_equal(state_history_add(st, "web", "destroy", "failed", o, &err), 0);
	json_decref(o);
	assert_int_equal(state_history(st, "web", 10, &h, &err), 0);
	assert_int_equal(json_array_size(h), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(h, 0), "command")),
			    "destroy");
	json_decref(h);

	assert_int_equal(state_stacks(st, &stacks, &err), 0);
	assert_int_equal(json_array_size(stacks), 1);
	json_decref(stacks);
	state_close(st);
	free(p);
}

static char *slurp(const char *p, size_t *n)
{
	struct cairn_err err;

	return read_file(p, n, &err);
}

/* The file at p is byte for byte what before (n bytes) held; frees before. */
static void assert_unchanged(const char *p, char *before, size_t n)
{
	size_t n2;
	char *after = slurp(p, &n2);

	assert_non_null(after);
	assert_int_equal(n, n2);
	assert_memory_equal(before, after, n);
	free(before);
	free(after);
}

/* Deleted or replaced under a running cairn: every later write fails, naming it. */
static void test_deleted_or_replaced_file_refuses_writes(void **ctx)
{
	char *p = path_in("gone.db"), *q = path_in("other.db");
	struct state_view r = {"vpc", "aws_vpc", "vpc-1", NULL, NULL, 0};
	struct cairn_err err;
	struct state *st, *other;

	(void)ctx;
	r.attrs = json_pack("{s:s}", "id", "vpc-1");
	st = state_open(p, 1, &err);
	assert_non_null(st);
	assert_int_equal(state_put(st, "web", &r, &err), 0);
	assert_int_equal(unlink(p), 0);
	assert_int_equal(state_put(st, "web", &r, &err), -1);
	assert_non_null(strstr(err.msg, "deleted or replaced"));
	assert_non_null(strstr(err.msg, p));
	state_close(st);

	st = state_open(p, 1, &err);
	assert_non_null(st);
	other = state_open(q, 1, &err);
	assert_non_null(other);
	state_close(other);
	assert_int_equal(rename(q, p), 0);
	assert_int_equal(state_put(st, "web", &r, &err), -1);
	assert_non_null(strstr(err.msg, "deleted or replaced"));
	state_close(st);
	json_decref(r.attrs);
	free(p);
	free(q);
}

/* A damaged file is refused at open by SQLite's quick_check, not a byte changed. */
static void test_refuses_damaged_file_untouched(void **ctx)
{
	char *p = path_in("damaged.db"), *before;
	struct state_view r = {"vpc", "aws_vpc", "vpc-1", NULL, NULL, 0};
	struct cairn_err err;
	struct state *st;
	size_t n1, off;
	FILE *f;

	(void)ctx;
	r.attrs = json_pack("{s:s}", "id", "vpc-1");
	st = state_open(p, 1, &err);
	assert_non_null(st);
	assert_int_equal(state_put(st, "web", &r, &err), 0);
	state_close(st);        /* checkpoints the WAL into the file */
	before = slurp(p, &n1);
	assert_true(n1 > 8192);
	/* the b-tree header of every page after the first */
	for (off = 4096; off < n1; off += 4096) {
		size_t k;

		for (k = 0; k < 12; k++)
			before[off + k] ^= 0x5a;
	}
	f = fopen(p, "wb");
	assert_int_equal(fwrite(before, 1, n1, f), n1);
	fclose(f);
	assert_null(state_open(p, 1, &err));
	assert_non_null(strstr(err.msg, "damaged"));
	assert_unchanged(p, before, n1);
	json_decref(r.attrs);
	free(p);
}

static void test_refuses_foreign_file_untouched(void **ctx)
{
	char *p = path_in("foreign.txt"), *q = path_in("foreign.db");
	char *before;
	struct cairn_err err;
	size_t n1;
	sqlite3 *db;
	FILE *f;

	(void)ctx;
	f = fopen(p, "w");
	fputs("this is not a database, but it is long enough to look like one maybe\n", f);
	fclose(f);
	before = slurp(p, &n1);
	assert_null(state_open(p, 1, &err));
	assert_non_null(strstr(err.msg, "not a cairn state"));
	assert_unchanged(p, before, n1);

	assert_int_equal(sqlite3_open(q, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "CREATE TABLE users (name TEXT); "
				      "INSERT INTO users VALUES ('x');", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	before = slurp(q, &n1);
	assert_null(state_open(q, 1, &err));
	assert_non_null(strstr(err.msg, "not a cairn state"));
	assert_unchanged(q, before, n1);
	free(p);
	free(q);
}

static void test_refuses_newer_version(void **ctx)
{
	char *p = path_in("newer.db"), *before;
	struct cairn_err err;
	struct state *st = state_open(p, 1, &err);
	size_t n1;
	sqlite3 *db;

	(void)ctx;
	assert_non_null(st);
	state_close(st);
	assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA journal_mode = DELETE; PRAGMA user_version = 99;",
				      NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	before = slurp(p, &n1);
	assert_null(state_open(p, 1, &err));
	assert_non_null(strstr(err.msg, "newer cairn"));
	assert_unchanged(p, before, n1);
	free(p);
}

/* A version 1 file, as the first cairn wrote it, is migrated in place. */
static void test_migrates_version_1(void **ctx)
{
	char *p = path_in("v1.db");
	struct cairn_err err;
	struct state_resource r;
	struct state_stack meta;
	struct state *st;
	json_t *h;
	sqlite3 *db;
	int found;

	(void)ctx;
	assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db,
		"CREATE TABLE cairn_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
		"INSERT INTO cairn_meta VALUES ('format', 'cairn-state');"
		"CREATE TABLE stacks (name TEXT PRIMARY KEY, serial INTEGER NOT NULL,"
		" lineage TEXT NOT NULL, created TEXT NOT NULL, updated TEXT NOT NULL);"
		"CREATE TABLE resources (stack TEXT NOT NULL, name TEXT NOT NULL, type TEXT NOT NULL,"
		" id TEXT NOT NULL, attrs TEXT NOT NULL, deps TEXT NOT NULL,"
		" schema_version INTEGER NOT NULL, updated TEXT NOT NULL, PRIMARY KEY (stack, name));"
		"CREATE TABLE locks (stack TEXT PRIMARY KEY, host TEXT NOT NULL, pid INTEGER NOT NULL,"
		" operation TEXT NOT NULL, since TEXT NOT NULL);"
		"CREATE TABLE journal (jid INTEGER PRIMARY KEY AUTOINCREMENT, stack TEXT NOT NULL,"
		" name TEXT NOT NULL, type TEXT NOT NULL, op TEXT NOT NULL, intent TEXT NOT NULL,"
		" started TEXT NOT NULL, done TEXT);"
		"INSERT INTO stacks VALUES ('web', 7, 'abc', 'x', 'x');"
		"INSERT INTO resources VALUES ('web', 'vpc', 'aws_vpc', 'vpc-1', '{\"id\":\"vpc-1\"}',"
		" '[]', 1, 'x');"
		"PRAGMA user_version = 1;", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);

	st = state_open(p, 0, &err);
	assert_non_null(st);
	assert_int_equal(state_stack_get(st, "web", &meta, &err), 0);
	assert_int_equal(meta.serial, 7);
	assert_string_equal(meta.lineage, "abc");
	assert_int_equal(state_get(st, "web", "vpc", &r, &found, &err), 0);
	assert_int_equal(found, 1);
	assert_string_equal(r.id, "vpc-1");
	state_resource_free(&r);
	/* Version 2 features work on the migrated file. */
	assert_int_equal(state_history_add(st, "web", "apply", "ok", NULL, &err), 0);
	assert_int_equal(state_history(st, "web", 5, &h, &err), 0);
	assert_int_equal(json_array_size(h), 1);
	json_decref(h);
	state_close(st);

	assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
	{
		sqlite3_stmt *s;

		sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, NULL);
		assert_int_equal(sqlite3_step(s), SQLITE_ROW);
		assert_int_equal(sqlite3_column_int(s, 0), 4);
		sqlite3_finalize(s);
	}
	sqlite3_close(db);
	free(p);
}

/* Two processes contend for the lock; a dead holder is taken over. */
static void test_lock_contention_and_takeover(void **ctx)
{
	char *p = path_in("lock.db"), warn[512], info[512];
	int ready[2], go[2], took = 0;
	struct cairn_err err;
	struct state *st;
	pid_t child;
	char c;

	(void)ctx;
	st = state_open(p, 1, &err);
	assert_non_null(st);
	state_close(st);
	assert_int_equal(pipe(ready), 0);
	assert_int_equal(pipe(go), 0);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		struct state *cst = state_open(p, 0, &err);
		int t;

		if (!cst || state_lock(cst, "web", "apply", 0, &t, NULL, &err) != 0)
			_exit(2);
		if (write(ready[1], "x", 1) != 1)
			_exit(3);
		if (read(go[0], &c, 1) != 1)
			_exit(4);
		_exit(0);   /* dies holding the lock */
	}
	assert_int_equal(read(ready[0], &c, 1), 1);

	st = state_open(p, 0, &err);
	assert_non_null(st);
	assert_int_equal(state_lock(st, "web", "apply", 0, &took, warn, &err), -1);
	assert_int_equal(err.code, CAIRN_ELOCKED);
	{
		char want[64];

		snprintf(want, sizeof(want), "locked by pid %ld on host", (long)child);
		assert_non_null(strstr(err.msg, want));
	}
	assert_int_equal(state_lock_info(st, "web", info, sizeof(info), &err), 0);
	assert_non_null(strstr(info, "operation: apply"));
	/* Another stack in the same file is not blocked. */
	assert_int_equal(state_lock(st, "other", "apply", 0, &took, warn, &err), 0);
	assert_int_equal(took, 0);

	assert_int_equal(write(go[1], "x", 1), 1);
	assert_int_equal(waitpid(child, NULL, 0), child);
	assert_int_equal(state_lock(st, "web", "destroy", 0, &took, warn, &err), 0);
	assert_int_equal(took, 1);
	assert_non_null(strstr(warn, "no longer exists"));
	assert_int_equal(state_unlock(st, "web", &err), 0);
	assert_int_equal(state_lock_info(st, "web", info, sizeof(info), &err), 0);
	assert_string_equal(info, "");
	state_close(st);
	free(p);
}

/* A waiting run gets the lock once the holder releases it. */
static void test_lock_timeout_waits(void **ctx)
{
	char *p = path_in("wait.db");
	int ready[2], took;
	struct cairn_err err;
	struct state *st;
	pid_t child;
	char c;

	(void)ctx;
	st = state_open(p, 1, &err);
	state_close(st);
	assert_int_equal(pipe(ready), 0);
	child = fork();
	if (child == 0) {
		struct state *cst = state_open(p, 0, &err);
		int t;

		if (!cst || state_lock(cst, "web", "apply", 0, &t, NULL, &err) != 0)
			_exit(2);
		if (write(ready[1], "x", 1) != 1)
			_exit(3);
		sleep(1);
		state_unlock(cst, "web", &err);
		state_close(cst);
		_exit(0);
	}
	assert_int_equal(read(ready[0], &c, 1), 1);
	st = state_open(p, 0, &err);
	assert_int_equal(state_lock(st, "web", "apply", 10, &took, NULL, &err), 0);
	assert_int_equal(took, 0);
	waitpid(child, NULL, 0);
	state_close(st);
	free(p);
}

/* A process killed between two commits loses nothing it committed, and
 * its open journal entry is found by the next run. */
static void test_journal_survives_crash(void **ctx)
{
	char *p = path_in("journal.db");
	struct cairn_err err;
	struct state_resource *list;
	struct state *st;
	json_t *pending;
	pid_t child;
	size_t n;
	int status;

	(void)ctx;
	child = fork();
	if (child == 0) {
		struct state *cst = state_open(p, 1, &err);
		json_t *intent = json_pack("{s:s}", "cidr_block", "10.0.0.0/16");
		int64_t jid;

		put(cst, "web", "first", "vpc-1");
		state_journal_begin(cst, "web", "first", "aws_vpc", "create", intent, &jid, &err);
		state_journal_end(cst, jid, &err);
		state_journal_begin(cst, "web", "second", "aws_vpc", "create", intent, &jid, &err);
		kill(getpid(), SIGKILL);
		_exit(1);
	}
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFSIGNALED(status));
	st = state_open(p, 0, &err);
	assert_non_null(st);
	assert_int_equal(state_list(st, "web", &list, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_string_equal(list[0].name, "first");
	state_resource_free(&list[0]);
	free(list);
	assert_int_equal(state_journal_pending(st, "web", &pending, &err), 0);
	assert_int_equal(json_array_size(pending), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(pending, 0), "name")),
			    "second");
	assert_string_equal(json_string_value(json_object_get(
		json_object_get(json_array_get(pending, 0), "intent"), "cidr_block")), "10.0.0.0/16");
	assert_int_equal(state_journal_end(st, json_integer_value(json_object_get(
		json_array_get(pending, 0), "jid")), &err), 0);
	json_decref(pending);
	assert_int_equal(state_journal_pending(st, "web", &pending, &err), 0);
	assert_int_equal(json_array_size(pending), 0);
	json_decref(pending);
	state_close(st);
	free(p);
}

static void test_plan_key(void **ctx)
{
	unsigned char k1[STATE_PLAN_KEY_LEN], k2[STATE_PLAN_KEY_LEN], k3[STATE_PLAN_KEY_LEN];
	char *p = path_in("key.db");
	struct cairn_err err;
	struct state_stack meta;
	struct state *st = state_open(p, 1, &err);
	int found;

	(void)ctx;
	assert_non_null(st);
	assert_int_equal(state_plan_key(st, "web", 0, k1, &found, &err), 0);
	assert_int_equal(found, 0);
	assert_int_equal(state_plan_key(st, "web", 1, k1, &found, &err), 0);
	assert_int_equal(found, 1);
	assert_int_equal(state_plan_key(st, "web", 1, k2, &found, &err), 0);
	assert_memory_equal(k1, k2, sizeof(k1));
	assert_int_equal(state_plan_key(st, "other", 1, k3, &found, &err), 0);
	assert_memory_not_equal(k1, k3, sizeof(k1));
	/* Keys are not changes: the serial stays. */
	assert_int_equal(state_stack_get(st, "web", &meta, &err), 0);
	assert_int_equal(meta.serial, 0);
	state_close(st);
	free(p);
}


/* ---- secrets sealed under a state key ---- */

static const unsigned char STATE_KEY[32] = {7, 7, 7, 1, 2, 3};
static const unsigned char OTHER_KEY[32] = {9};

static int ssm_value_sensitive(const char *type, int data, const char *attr)
{
	(void)data;
	return strcmp(type, "aws_ssm_parameter") == 0 && strcmp(attr, "value") == 0;
}

static int seal_with(struct state *st, const unsigned char *key, struct cairn_err *err)
{
	struct state_sealing s = {key, "key", NULL, NULL, ssm_value_sensitive, NULL};

	return state_seal(st, &s, err);
}

static void put_secret(struct state *st, const char *name, const char *value)
{
	struct state_view r = {name, "aws_ssm_parameter", "/p", NULL, NULL, 1};
	struct cairn_err err;

	r.attrs = json_pack("{s:s,s:s}", "name", "/p", "value", value);
	assert_int_equal(state_put(st, "web", &r, &err), 0);
	json_decref(r.attrs);
}

static int file_has(const char *p, const char *needle)
{
	size_t n;
	char *body = slurp(p, &n);
	int found = memmem(body, n, needle, strlen(needle)) != NULL;

	free(body);
	return found;
}

static void test_sealed_values(void **ctx)
{
	char *p = path_in("sealed.db"), *before;
	unsigned char pk[STATE_PLAN_KEY_LEN], pk2[STATE_PLAN_KEY_LEN];
	struct state_resource r, *list;
	struct cairn_err err;
	struct state *st;
	json_t *outs, *pending;
	int64_t jid;
	size_t n, n1;
	int found;

	(void)ctx;
	st = state_open(p, 1, &err);
	assert_non_null(st);
	assert_int_equal(seal_with(st, STATE_KEY, &err), 0);
	put_secret(st, "param", "SENTINEL-attr");
	put_secret(st, "data.given", "SENTINEL-data");
	outs = json_pack("{s:{s:s,s:b}}", "o", "value", "SENTINEL-output", "sensitive", 1);
	assert_int_equal(state_outputs_put(st, "web", outs, &err), 0);
	json_decref(outs);
	outs = json_pack("{s:s}", "value", "SENTINEL-intent");
	assert_int_equal(state_journal_begin(st, "web", "param", "aws_ssm_parameter", "create", outs,
					     &jid, &err), 0);
	json_decref(outs);
	assert_int_equal(state_plan_key(st, "web", 1, pk, &found, &err), 0);
	/* Read back in clear. */
	assert_int_equal(state_get(st, "web", "param", &r, &found, &err), 0);
	assert_string_equal(json_string_value(json_object_get(r.attrs, "value")), "SENTINEL-attr");
	assert_string_equal(json_string_value(json_object_get(r.attrs, "name")), "/p");
	state_resource_free(&r);
	assert_int_equal(state_list_data(st, "web", &list, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_string_equal(json_string_value(json_object_get(list[0].attrs, "value")),
			    "SENTINEL-data");
	state_resource_free(&list[0]);
	free(list);
	assert_int_equal(state_outputs_get(st, "web", &outs, &err), 0);
	assert_string_equal(json_string_value(json_object_get(json_object_get(outs, "o"), "value")),
			    "SENTINEL-output");
	json_decref(outs);
	assert_int_equal(state_journal_pending(st, "web", &pending, &err), 0);
	assert_string_equal(json_string_value(json_object_get(json_object_get(
		json_array_get(pending, 0), "intent"), "value")), "SENTINEL-intent");
	json_decref(pending);
	state_close(st);
	/* Not one of them in the file's bytes. */
	assert_false(file_has(p, "SENTINEL"));

	/* Without the key: reads of sealed values fail clearly. */
	st = state_open(p, 0, &err);
	assert_non_null(st);
	assert_int_equal(state_get(st, "web", "param", &r, &found, &err), -1);
	assert_non_null(strstr(err.msg, "sealed"));
	assert_int_equal(state_plan_key(st, "web", 0, pk2, &found, &err), -1);
	state_close(st);
	/* Another key is refused before anything is written. */
	before = slurp(p, &n1);
	st = state_open(p, 0, &err);
	assert_non_null(st);
	assert_int_equal(seal_with(st, OTHER_KEY, &err), -1);
	assert_non_null(strstr(err.msg, "another key"));
	state_close(st);
	assert_unchanged(p, before, n1);
	/* The right key opens everything again, the plan key included. */
	st = state_open(p, 0, &err);
	assert_non_null(st);
	assert_int_equal(seal_with(st, STATE_KEY, &err), 0);
	assert_int_equal(state_plan_key(st, "web", 0, pk2, &found, &err), 0);
	assert_int_equal(found, 1);
	assert_memory_equal(pk, pk2, sizeof(pk));
	state_close(st);
	free(p);
}

/* A plain state given a key is sealed whole by the next run that takes the lock. */
static void test_sealing_an_existing_state(void **ctx)
{
	char *p = path_in("plain.db"), warn[512];
	unsigned char pk[STATE_PLAN_KEY_LEN], pk2[STATE_PLAN_KEY_LEN];
	struct state_resource r;
	struct cairn_err err;
	struct state *st;
	int found, over;

	(void)ctx;
	st = state_open(p, 1, &err);
	assert_non_null(st);
	put_secret(st, "param", "SENTINEL-old");
	assert_int_equal(state_plan_key(st, "web", 1, pk, &found, &err), 0);
	state_close(st);
	assert_true(file_has(p, "SENTINEL-old"));

	st = state_open(p, 0, &err);
	assert_non_null(st);
	assert_int_equal(seal_with(st, STATE_KEY, &err), 0);
	assert_int_equal(state_lock(st, "web", "apply", 0, &over, warn, &err), 0);
	assert_int_equal(state_unlock(st, "web", &err), 0);
	assert_int_equal(state_get(st, "web", "param", &r, &found, &err), 0);
	assert_string_equal(json_string_value(json_object_get(r.attrs, "value")), "SENTINEL-old");
	state_resource_free(&r);
	state_close(st);
	assert_false(file_has(p, "SENTINEL-old"));
	st = state_open(p, 0, &err);
	assert_non_null(st);
	assert_int_equal(seal_with(st, STATE_KEY, &err), 0);
	assert_int_equal(state_plan_key(st, "web", 0, pk2, &found, &err), 0);
	assert_memory_equal(pk, pk2, sizeof(pk));
	state_close(st);
	free(p);
}


/* Rotation: the previous key opens the store, the first locking run reseals it under the new one. */
static void test_key_rotation(void **ctx)
{
	char *p = path_in("rotate.db"), warn[512];
	struct state_sealing both = {OTHER_KEY, "key", NULL, NULL, ssm_value_sensitive, STATE_KEY};
	struct state_resource r;
	struct cairn_err err;
	struct state *st;
	int found, over;

	(void)ctx;
	st = state_open(p, 1, &err);
	assert_non_null(st);
	assert_int_equal(seal_with(st, STATE_KEY, &err), 0);
	put_secret(st, "param", "SENTINEL-rotated");
	state_close(st);
	st = state_open(p, 0, &err);
	assert_non_null(st);
	assert_int_equal(state_seal(st, &both, &err), 0);
	assert_int_equal(state_lock(st, "web", "apply", 0, &over, warn, &err), 0);
	assert_int_equal(state_unlock(st, "web", &err), 0);
	state_close(st);
	assert_false(file_has(p, "SENTINEL"));
	st = state_open(p, 0, &err);
	assert_non_null(st);
	assert_int_equal(seal_with(st, STATE_KEY, &err), -1);
	assert_non_null(strstr(err.msg, "another key"));
	assert_int_equal(seal_with(st, OTHER_KEY, &err), 0);
	assert_int_equal(state_get(st, "web", "param", &r, &found, &err), 0);
	assert_string_equal(json_string_value(json_object_get(r.attrs, "value")),
			    "SENTINEL-rotated");
	state_resource_free(&r);
	state_close(st);
	free(p);
}


/* state push under a key: a file sealed under another key is refused and
 * changes nothing; a file in clear comes in sealed. */
static void test_push_under_a_key(void **ctx)
{
	char *p = path_in("dst.db"), *other = path_in("other.db"), *plain = path_in("clear.db");
	char *before;
	struct state_resource r;
	struct cairn_err err;
	struct state *st;
	size_t n1;
	int found;

	(void)ctx;
	st = state_open(other, 1, &err);
	assert_non_null(st);
	assert_int_equal(seal_with(st, OTHER_KEY, &err), 0);
	put_secret(st, "param", "SENTINEL-other");
	state_close(st);
	st = state_open(plain, 1, &err);
	assert_non_null(st);
	put_secret(st, "param", "SENTINEL-clear");
	state_close(st);
	st = state_open(p, 1, &err);
	assert_non_null(st);
	assert_int_equal(seal_with(st, STATE_KEY, &err), 0);
	put_secret(st, "param", "SENTINEL-dst");
	state_close(st);

	before = slurp(p, &n1);
	st = state_open(p, 0, &err);
	assert_non_null(st);
	assert_int_equal(seal_with(st, STATE_KEY, &err), 0);
	assert_int_equal(state_replace(st, other, &err), -1);
	assert_non_null(strstr(err.msg, "another key"));
	state_close(st);
	assert_unchanged(p, before, n1);

	st = state_open(p, 0, &err);
	assert_non_null(st);
	assert_int_equal(seal_with(st, STATE_KEY, &err), 0);
	assert_int_equal(state_replace(st, plain, &err), 0);
	assert_int_equal(state_get(st, "web", "param", &r, &found, &err), 0);
	assert_string_equal(json_string_value(json_object_get(r.attrs, "value")), "SENTINEL-clear");
	state_resource_free(&r);
	state_close(st);
	assert_false(file_has(p, "SENTINEL"));
	free(p);
	free(other);
	free(plain);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_mode_and_roundtrip),
		cmocka_unit_test(test_outputs_history_stacks),
		cmocka_unit_test(test_refuses_foreign_file_untouched),
		cmocka_unit_test(test_deleted_or_replaced_file_refuses_writes),
		cmocka_unit_test(test_refuses_damaged_file_untouched),
		cmocka_unit_test(test_refuses_newer_version),
		cmocka_unit_test(test_migrates_version_1),
		cmocka_unit_test(test_lock_contention_and_takeover),
		cmocka_unit_test(test_lock_timeout_waits),
		cmocka_unit_test(test_journal_survives_crash),
		cmocka_unit_test(test_plan_key),
		cmocka_unit_test(test_sealed_values),
		cmocka_unit_test(test_sealing_an_existing_state),
		cmocka_unit_test(test_key_rotation),
		cmocka_unit_test(test_push_under_a_key),
	};

	return cmocka_run_group_tests_name("state", tests, setup, teardown);
}
