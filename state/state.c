/*
 * state: the SQLite state store (see state.h and SPEC §5).
 *
 * Schema history (PRAGMA user_version):
 *   1  stacks, resources, locks, journal
 *   2  stack outputs, apply history
 *   3  per-stack key that seals secrets in saved plan files
 * A file is checked read-only before it is opened for writing, so a foreign
 * or newer file is refused without a single byte changed.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>
#include <sqlite3.h>

#include "state.h"

#define STATE_VERSION 3
#define STATE_FORMAT "cairn-state"

struct state {
	sqlite3 *db;
	char *path;
	pthread_mutex_t mu;     /* one API call (one transaction) at a time */
	char host[256];
	long pid;
};

static const char *const migrations[STATE_VERSION] = {
	/* 0 -> 1 */
	"CREATE TABLE cairn_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	"INSERT INTO cairn_meta VALUES ('format', '" STATE_FORMAT "');"
	"CREATE TABLE stacks (name TEXT PRIMARY KEY, serial INTEGER NOT NULL,"
	" lineage TEXT NOT NULL, created TEXT NOT NULL, updated TEXT NOT NULL);"
	"CREATE TABLE resources (stack TEXT NOT NULL, name TEXT NOT NULL, type TEXT NOT NULL,"
	" id TEXT NOT NULL, attrs TEXT NOT NULL, deps TEXT NOT NULL,"
	" schema_version INTEGER NOT NULL, updated TEXT NOT NULL, PRIMARY KEY (stack, name));"
	"CREATE TABLE locks (stack TEXT PRIMARY KEY, host TEXT NOT NULL, pid INTEGER NOT NULL,"
	" operation TEXT NOT NULL, since TEXT NOT NULL);"
	"CREATE TABLE journal (jid INTEGER PRIMARY KEY AUTOINCREMENT, stack TEXT NOT NULL,"
	" name TEXT NOT NULL, type TEXT NOT NULL, op TEXT NOT NULL, intent TEXT NOT NULL,"
	" started TEXT NOT NULL, done TEXT);",
	/* 1 -> 2 */
	"ALTER TABLE stacks ADD COLUMN outputs TEXT NOT NULL DEFAULT '{}';"
	"CREATE TABLE history (hid INTEGER PRIMARY KEY AUTOINCREMENT, stack TEXT NOT NULL,"
	" time TEXT NOT NULL, user TEXT NOT NULL, host TEXT NOT NULL, command TEXT NOT NULL,"
	" result TEXT NOT NULL, summary TEXT NOT NULL);"
	"CREATE INDEX history_stack ON history (stack, hid);",
	/* 2 -> 3 */
	"CREATE TABLE plan_keys (stack TEXT PRIMARY KEY, key BLOB NOT NULL);",
};

struct state_view state_view(const struct state_resource *r)
{
	struct state_view v = {r->name, r->type, r->id, r->attrs, r->deps, r->schema_version};

	return v;
}

void state_resource_free(struct state_resource *r)
{
	if (!r)
		return;
	free(r->name);
	free(r->type);
	free(r->id);
	json_decref(r->attrs);
	json_decref(r->deps);
	memset(r, 0, sizeof(*r));
}

static void now_iso(char out[32])
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int db_fail(struct state *st, struct cairn_err *err, const char *what)
{
	err_set(err, CAIRN_EIO, "state '%s': %s: %s", st->path, what, sqlite3_errmsg(st->db));
	return -1;
}

static int exec_sql(struct state *st, const char *sql, struct cairn_err *err)
{
	char *msg = NULL;

	if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) == SQLITE_OK)
		return 0;
	err_set(err, CAIRN_EIO, "state '%s': %s", st->path, msg ? msg : "database error");
	sqlite3_free(msg);
	return -1;
}

static int query_int(sqlite3 *db, const char *sql, long long *out)
{
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
		return -1;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return rc == SQLITE_ROW ? 0 : -1;
}

/*
 * Checks an existing file read-only. Returns the schema version it holds
 * (0 for an empty database), or -1 with err for a file to refuse.
 */
static int inspect(const char *path, struct cairn_err *err)
{
	sqlite3 *db = NULL;
	long long version = 0, tables = 0, meta = 0;
	int rc = -1;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		err_set(err, CAIRN_EIO, "cannot open state '%s': %s", path,
			db ? sqlite3_errmsg(db) : "out of memory");
		goto out;
	}
	sqlite3_busy_timeout(db, 5000);
	if (query_int(db, "SELECT count(*) FROM sqlite_master", &tables) != 0) {
		err_set(err, CAIRN_EINVAL, "'%s' is not a cairn state file (%s); refusing to touch it",
			path, sqlite3_errmsg(db));
		goto out;
	}
	query_int(db, "PRAGMA user_version", &version);
	if (tables == 0 && version == 0) {
		rc = 0;
		goto out;
	}
	if (query_int(db, "SELECT count(*) FROM cairn_meta WHERE key = 'format' AND value = '"
		      STATE_FORMAT "'", &meta) != 0 || meta != 1) {
		err_set(err, CAIRN_EINVAL, "'%s' is an SQLite database but not a cairn state; "
			"refusing to touch it", path);
		goto out;
	}
	if (version > STATE_VERSION) {
		err_set(err, CAIRN_EINVAL, "state '%s' was written by a newer cairn (state format %lld, "
			"this cairn knows up to %d); upgrade cairn", path, version, STATE_VERSION);
		goto out;
	}
	rc = (int)version;
out:
	sqlite3_close(db);
	return rc;
}

static int migrate(struct state *st, int from, struct cairn_err *err)
{
	int v;

	for (v = from; v < STATE_VERSION; v++) {
		char *sql = xasprintf("BEGIN IMMEDIATE; %s PRAGMA user_version = %d; COMMIT;",
				      migrations[v], v + 1);
		int rc = exec_sql(st, sql, err);

		free(sql);
		if (rc != 0) {
			sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
			err_prefix(err, "cannot migrate state to format %d", v + 1);
			return -1;
		}
	}
	return 0;
}

struct state *state_open(const char *path, int create, struct cairn_err *err)
{
	struct state *st = NULL;
	struct stat sb;
	int version = 0;

	if (stat(path, &sb) == 0) {
		version = inspect(path, err);
		if (version < 0)
			return NULL;
	} else if (errno != ENOENT) {
		err_set(err, CAIRN_EIO, "cannot open state '%s': %s", path, strerror(errno));
		return NULL;
	} else if (!create) {
		err_set(err, CAIRN_ENOTFOUND, "no state file '%s'", path);
		return NULL;
	} else {
		int fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);

		if (fd < 0 && errno != EEXIST) {
			err_set(err, CAIRN_EIO, "cannot create state '%s': %s", path, strerror(errno));
			return NULL;
		}
		if (fd >= 0)
			close(fd);
	}
	st = xcalloc(1, sizeof(*st));
	st->path = xstrdup(path);
	pthread_mutex_init(&st->mu, NULL);
	if (gethostname(st->host, sizeof(st->host) - 1) != 0)
		strcpy(st->host, "unknown");
	st->pid = (long)getpid();
	if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX,
			    NULL) != SQLITE_OK) {
		db_fail(st, err, "cannot open");
		goto fail;
	}
	sqlite3_busy_timeout(st->db, 10000);
	if (exec_sql(st, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
		     " PRAGMA foreign_keys = ON;", err) != 0)
		goto fail;
	/* Another process may have initialized it since inspect(). */
	{
		long long v = 0;

		query_int(st->db, "PRAGMA user_version", &v);
		version = (int)v;
	}
	if (version < STATE_VERSION && migrate(st, version, err) != 0)
		goto fail;
	return st;
fail:
	state_close(st);
	return NULL;
}

void state_close(struct state *st)
{
	if (!st)
		return;
	sqlite3_close(st->db);
	pthread_mutex_destroy(&st->mu);
	free(st->path);
	free(st);
}

static char *dump(json_t *v)
{
	char *s = json_dumps(v ? v : json_null(), JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);

	if (!s)
		abort();
	return s;
}

static json_t *load_text(const unsigned char *text)
{
	json_t *v = text ? json_loads((const char *)text, JSON_DECODE_ANY, NULL) : NULL;

	return v ? v : json_null();
}

static int prepare(struct state *st, const char *sql, sqlite3_stmt **s, struct cairn_err *err)
{
	if (sqlite3_prepare_v2(st->db, sql, -1, s, NULL) == SQLITE_OK)
		return 0;
	return db_fail(st, err, "query failed");
}

static int stack_get_locked(struct state *st, const char *stack, struct state_stack *out,
			    struct cairn_err *err)
{
	sqlite3_stmt *s;
	int rc;

	memset(out, 0, sizeof(*out));
	if (prepare(st, "SELECT serial, lineage FROM stacks WHERE name = ?", &s, err) != 0)
		return -1;
	sqlite3_bind_text(s, 1, stack, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		out->serial = sqlite3_column_int64(s, 0);
		snprintf(out->lineage, sizeof(out->lineage), "%s",
			 (const char *)sqlite3_column_text(s, 1));
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_fail(st, err, "cannot read stack");
	return 0;
}

int state_stack_get(struct state *st, const char *stack, struct state_stack *out,
		    struct cairn_err *err)
{
	int rc;

	pthread_mutex_lock(&st->mu);
	rc = stack_get_locked(st, stack, out, err);
	pthread_mutex_unlock(&st->mu);
	return rc;
}

/* Inside a transaction: makes the stack row if needed and bumps its serial. */
static int bump_serial(struct state *st, const char *stack, struct cairn_err *err)
{
	unsigned char rnd[16];
	char lineage[33], now[32];
	sqlite3_stmt *s;
	int i, rc;

	now_iso(now);
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		memset(rnd, 0, sizeof(rnd));
	for (i = 0; i < 16; i++)
		snprintf(lineage + 2 * i, 3, "%02x", rnd[i]);
	if (prepare(st, "INSERT INTO stacks (name, serial, lineage, created, updated)"
		    " VALUES (?1, 1, ?2, ?3, ?3) ON CONFLICT (name) DO UPDATE SET"
		    " serial = serial + 1, updated = ?3", &s, err) != 0)
		return -1;
	sqlite3_bind_text(s, 1, stack, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, lineage, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 3, now, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : db_fail(st, err, "cannot update stack serial");
}

static void row_to_resource(sqlite3_stmt *s, struct state_resource *r)
{
	r->name = xstrdup((const char *)sqlite3_column_text(s, 0));
	r->type = xstrdup((const char *)sqlite3_column_text(s, 1));
	r->id = xstrdup((const char *)sqlite3_column_text(s, 2));
	r->attrs = load_text(sqlite3_column_text(s, 3));
	r->deps = load_text(sqlite3_column_text(s, 4));
	if (!json_is_array(r->deps)) {
		json_decref(r->deps);
		r->deps = json_array();
	}
	r->schema_version = sqlite3_column_int(s, 5);
}

int state_list(struct state *st, const char *stack, struct state_resource **out, size_t *n,
	       struct cairn_err *err)
{
	struct state_resource *v = NULL;
	size_t cnt = 0, cap = 0;
	sqlite3_stmt *s;
	int rc = -1, step;

	*out = NULL;
	*n = 0;
	pthread_mutex_lock(&st->mu);
	if (prepare(st, "SELECT name, type, id, attrs, deps, schema_version FROM resources"
		    " WHERE stack = ? ORDER BY name", &s, err) != 0)
		goto out;
	sqlite3_bind_text(s, 1, stack, -1, SQLITE_STATIC);
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		if (cnt == cap) {
			cap = cap ? cap * 2 : 16;
			v = xrealloc(v, cap * sizeof(*v));
		}
		memset(&v[cnt], 0, sizeof(v[cnt]));
		row_to_resource(s, &v[cnt++]);
	}
	sqlite3_finalize(s);
	if (step != SQLITE_DONE) {
		db_fail(st, err, "cannot list resources");
		while (cnt)
			state_resource_free(&v[--cnt]);
		free(v);
		goto out;
	}
	*out = v;
	*n = cnt;
	rc = 0;
out:
	pthread_mutex_unlock(&st->mu);
	return rc;
}

int state_get(struct state *st, const char *stack, const char *name,
	      struct state_resource *out, int *found, struct cairn_err *err)
{
	sqlite3_stmt *s;
	int rc = -1, step;

	memset(out, 0, sizeof(*out));
	*found = 0;
	pthread_mutex_lock(&st->mu);
	if (prepare(st, "SELECT name, type, id, attrs, deps, schema_version FROM resources"
		    " WHERE stack = ? AND name = ?", &s, err) != 0)
		goto out;
	sqlite3_bind_text(s, 1, stack, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
	step = sqlite3_step(s);
	if (step == SQLITE_ROW) {
		row_to_resource(s, out);
		*found = 1;
	}
	sqlite3_finalize(s);
	if (step != SQLITE_ROW && step != SQLITE_DONE) {
		db_fail(st, err, "cannot read resource");
		goto out;
	}
	rc = 0;
out:
	pthread_mutex_unlock(&st->mu);
	return rc;
}

/* Runs body(ctx) inside BEGIN IMMEDIATE ... COMMIT, after bumping the serial
 * (which also creates the stack row on its first change). */
static int in_tx(struct state *st, const char *stack,
		 int (*body)(struct state *, const char *, const void *, struct cairn_err *),
		 const void *ctx, struct cairn_err *err)
{
	int rc = -1;

	pthread_mutex_lock(&st->mu);
	if (exec_sql(st, "BEGIN IMMEDIATE", err) != 0)
		goto out;
	if (bump_serial(st, stack, err) != 0 || body(st, stack, ctx, err) != 0 ||
	    exec_sql(st, "COMMIT", err) != 0) {
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
		goto out;
	}
	rc = 0;
out:
	pthread_mutex_unlock(&st->mu);
	return rc;
}

static int put_body(struct state *st, const char *stack, const void *ctx, struct cairn_err *err)
{
	const struct state_view *r = ctx;
	char *attrs = dump(r->attrs), *deps = dump(r->deps ? r->deps : json_array());
	char now[32];
	sqlite3_stmt *s;
	int rc;

	now_iso(now);
	rc = prepare(st, "INSERT OR REPLACE INTO resources (stack, name, type, id, attrs, deps,"
		     " schema_version, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", &s, err);
	if (rc == 0) {
		sqlite3_bind_text(s, 1, stack, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, r->name, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 3, r->type, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 4, r->id ? r->id : "", -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 5, attrs, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 6, deps, -1, SQLITE_STATIC);
		sqlite3_bind_int(s, 7, r->schema_version);
		sqlite3_bind_text(s, 8, now, -1, SQLITE_STATIC);
		rc = sqlite3_step(s) == SQLITE_DONE ? 0 : db_fail(st, err, "cannot record resource");
		sqlite3_finalize(s);
	}
	free(attrs);
	free(deps);
	return rc;
}

int state_put(struct state *st, const char *stack, const struct state_view *r,
	      struct cairn_err *err)
{
	return in_tx(st, stack, put_body, r, err);
}

static int rm_body(struct state *st, const char *stack, const void *ctx, struct cairn_err *err)
{
	sqlite3_stmt *s;
	int rc;

	if (prepare(st, "DELETE FROM resources WHERE stack = ? AND name = ?", &s, err) != 0)
		return -1;
	sqlite3_bind_text(s, 1, stack, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, (const char *)ctx, -1, SQLITE_STATIC);
	rc = sqlite3_step(s) == SQLITE_DONE ? 0 : db_fail(st, err, "cannot forget resource");
	sqlite3_finalize(s);
	return rc;
}

int state_rm(struct state *st, const char *stack, const char *name, struct cairn_err *err)
{
	return in_tx(st, stack, rm_body, name, err);
}

struct mv {
	const char *from, *to;
};

static int count_named(struct state *st, const char *stack, const char *name, int *n,
		       struct cairn_err *err)
{
	sqlite3_stmt *s;

	if (prepare(st, "SELECT COUNT(*) FROM resources WHERE stack = ? AND name = ?", &s, err) != 0)
		return -1;
	sqlite3_bind_text(s, 1, stack, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
	*n = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int(s, 0) : 0;
	sqlite3_finalize(s);
	return 0;
}

static int mv_body(struct state *st, const char *stack, const void *ctx, struct cairn_err *err)
{
	const struct mv *m = ctx;
	sqlite3_stmt *s = NULL, *u = NULL;
	int n, rc = -1;

	if (count_named(st, stack, m->from, &n, err) != 0)
		return -1;
	if (!n) {
		err_set(err, CAIRN_ENOTFOUND, "no resource '%s' in the state of stack '%s'", m->from, stack);
		return -1;
	}
	if (count_named(st, stack, m->to, &n, err) != 0)
		return -1;
	if (n) {
		err_set(err, CAIRN_EINVAL, "cannot move '%s' to '%s': the state already holds '%s'",
			m->from, m->to, m->to);
		return -1;
	}
	if (prepare(st, "UPDATE resources SET name = ? WHERE stack = ? AND name = ?", &s, err) != 0)
		return -1;
	sqlite3_bind_text(s, 1, m->to, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, stack, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, m->from, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE) {
		db_fail(st, err, "cannot rename resource");
		goto out;
	}
	sqlite3_finalize(s);
	s = NULL;
	/* The others' dependencies name it by its new address too. */
	if (prepare(st, "SELECT name, deps FROM resources WHERE stack = ?", &s, err) != 0 ||
	    prepare(st, "UPDATE resources SET deps = ? WHERE stack = ? AND name = ?", &u, err) != 0)
		goto out;
	sqlite3_bind_text(s, 1, stack, -1, SQLITE_STATIC);
	while (sqlite3_step(s) == SQLITE_ROW) {
		json_t *deps = load_text(sqlite3_column_text(s, 1)), *d;
		int changed = 0;
		size_t i;
		char *text;

		json_array_foreach(deps, i, d)
			if (json_is_string(d) && !strcmp(json_string_value(d), m->from)) {
				json_array_set_new(deps, i, json_string(m->to));
				changed = 1;
			}
		if (changed) {
			text = dump(deps);
			sqlite3_reset(u);
			sqlite3_bind_text(u, 1, text, -1, SQLITE_TRANSIENT);
			sqlite3_bind_text(u, 2, stack, -1, SQLITE_STATIC);
			sqlite3_bind_text(u, 3, (const char *)sqlite3_column_text(s, 0), -1, SQLITE_TRANSIENT);
			free(text);
			if (sqlite3_step(u) != SQLITE_DONE) {
				json_decref(deps);
				db_fail(st, err, "cannot rename a dependency");
				goto out;
			}
		}
		json_decref(deps);
	}
	rc = 0;
out:
	sqlite3_finalize(s);
	sqlite3_finalize(u);
	return rc;
}

int state_mv(struct state *st, const char *stack, const char *from, const char *to,
	     struct cairn_err *err)
{
	struct mv m = {from, to};

	return in_tx(st, stack, mv_body, &m, err);
}

static int outputs_body(struct state *st, const char *stack, const void *ctx,
			struct cairn_err *err)
{
	char *text = dump((json_t *)ctx);
	sqlite3_stmt *s;
	int rc = -1;

	if (prepare(st, "UPDATE stacks SET outputs = ? WHERE name = ?", &s, err) != 0)
		goto out;
	sqlite3_bind_text(s, 1, text, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, stack, -1, SQLITE_STATIC);
	rc = sqlite3_step(s) == SQLITE_DONE ? 0 : db_fail(st, err, "cannot record outputs");
	sqlite3_finalize(s);
out:
	free(text);
	return rc;
}

int state_outputs_put(struct state *st, const char *stack, json_t *outputs, struct cairn_err *err)
{
	return in_tx(st, stack, outputs_body, outputs, err);
}

int state_outputs_get(struct state *st, const char *stack, json_t **out, struct cairn_err *err)
{
	sqlite3_stmt *s;
	int rc = -1, step;

	*out = NULL;
	pthread_mutex_lock(&st->mu);
	if (prepare(st, "SELECT outputs FROM stacks WHERE name = ?", &s, err) != 0)
		goto out;
	sqlite3_bind_text(s, 1, stack, -1, SQLITE_STATIC);
	step = sqlite3_step(s);
	*out = step == SQLITE_ROW ? load_text(sqlite3_column_text(s, 0)) : json_object();
	if (!json_is_object(*out)) {
		json_decref(*out);
		*out = json_object();
	}
	sqlite3_finalize(s);
	rc = 0;
out:
	pthread_mutex_unlock(&st->mu);
	return rc;
}

/* ---- the lock ---- */

struct holder {
	int present;
	char host[256];
	long pid;
	char operation[64];
	char since[32];
};

static int read_holder(struct state *st, const char *stack, struct holder *h,
		       struct cairn_err *err)
{
	sqlite3_stmt *s;
	int step;

	memset(h, 0, sizeof(*h));
	if (prepare(st, "SELECT host, pid, operation, since FROM locks WHERE stack = ?", &s,
		    err) != 0)
		return -1;
	sqlite3_bind_text(s, 1, stack, -1, SQLITE_STATIC);
	step = sqlite3_step(s);
	if (step == SQLITE_ROW) {
		h->present = 1;
		snprintf(h->host, sizeof(h->host), "%s", (const char *)sqlite3_column_text(s, 0));
		h->pid = (long)sqlite3_column_int64(s, 1);
		snprintf(h->operation, sizeof(h->operation), "%s",
			 (const char *)sqlite3_column_text(s, 2));
		snprintf(h->since, sizeof(h->since), "%s", (const char *)sqlite3_column_text(s, 3));
	}
	sqlite3_finalize(s);
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		return db_fail(st, err, "cannot read the lock");
	return 0;
}

static void describe_holder(const struct holder *h, char *buf, size_t len)
{
	snprintf(buf, len, "pid %ld on host '%s' since %s (operation: %s)", h->pid, h->host,
		 h->since, h->operation);
}

/* A holder on this host whose process is gone. */
static int holder_dead(const struct state *st, const struct holder *h)
{
	return strcmp(h->host, st->host) == 0 && h->pid > 0 &&
	       kill((pid_t)h->pid, 0) != 0 && errno == ESRCH;
}

/* One attempt: 1 taken, 0 held by someone alive, -1 error. */
static int try_lock(struct state *st, const char *stack, const char *operation,
		    struct holder *h, int *took_over, struct cairn_err *err)
{
	char now[32];
	sqlite3_stmt *s;
	int rc = -1;

	pthread_mutex_lock(&st->mu);
	if (exec_sql(st, "BEGIN IMMEDIATE", err) != 0)
		goto out;
	if (read_holder(st, stack, h, err) != 0)
		goto rollback;
	if (h->present && !(strcmp(h->host, st->host) == 0 && h->pid == st->pid)) {
		if (!holder_dead(st, h)) {
			rc = 0;
			goto rollback;
		}
		*took_over = 1;
	}
	now_iso(now);
	if (prepare(st, "INSERT OR REPLACE INTO locks (stack, host, pid, operation, since)"
		    " VALUES (?, ?, ?, ?, ?)", &s, err) != 0)
		goto rollback;
	sqlite3_bind_text(s, 1, stack, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, st->host, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, st->pid);
	sqlite3_bind_text(s, 4, operation, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, now, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE) {
		sqlite3_finalize(s);
		db_fail(st, err, "cannot take the lock");
		goto rollback;
	}
	sqlite3_finalize(s);
	if (exec_sql(st, "COMMIT", err) != 0)
		goto rollback;
	rc = 1;
	goto out;
rollback:
	sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
out:
	pthread_mutex_unlock(&st->mu);
	return rc;
}

int state_lock(struct state *st, const char *stack, const char *operation, int timeout_s,
	       int *took_over, char *warn_msg, struct cairn_err *err)
{
	time_t deadline = time(NULL) + (timeout_s > 0 ? timeout_s : 0);
	struct holder h;
	char who[512];
	int rc;

	*took_over = 0;
	for (;;) {
		int over = 0;

		rc = try_lock(st, stack, operation, &h, &over, err);
		if (rc < 0)
			return -1;
		if (rc == 1) {
			if (over) {
				*took_over = 1;
				if (warn_msg) {
					describe_holder(&h, who, sizeof(who));
					snprintf(warn_msg, 512, "took over the lock of stack '%s' "
						 "held by %.400s: that process no longer exists",
						 stack, who);
				}
			}
			return 0;
		}
		if (time(NULL) >= deadline)
			break;
		sleep(1);
	}
	describe_holder(&h, who, sizeof(who));
	err_set(err, CAIRN_ELOCKED, "stack '%s' is locked by %s%s", stack, who,
		timeout_s > 0 ? "; gave up waiting" : "; use --lock-timeout to wait for it");
	return -1;
}

static int delete_lock(struct state *st, const char *stack, int only_mine, struct cairn_err *err)
{
	sqlite3_stmt *s;
	int rc = -1;

	pthread_mutex_lock(&st->mu);
	if (prepare(st, only_mine ? "DELETE FROM locks WHERE stack = ? AND host = ? AND pid = ?"
		    : "DELETE FROM locks WHERE stack = ?", &s, err) != 0)
		goto out;
	sqlite3_bind_text(s, 1, stack, -1, SQLITE_STATIC);
	if (only_mine) {
		sqlite3_bind_text(s, 2, st->host, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 3, st->pid);
	}
	rc = sqlite3_step(s) == SQLITE_DONE ? 0 : db_fail(st, err, "cannot release the lock");
	sqlite3_finalize(s);
out:
	pthread_mutex_unlock(&st->mu);
	return rc;
}

int state_unlock(struct state *st, const char *stack, struct cairn_err *err)
{
	return delete_lock(st, stack, 1, err);
}

int state_force_unlock(struct state *st, const char *stack, struct cairn_err *err)
{
	return delete_lock(st, stack, 0, err);
}

int state_lock_info(struct state *st, const char *stack, char *buf, size_t len,
		    struct cairn_err *err)
{
	struct holder h;
	int rc;

	pthread_mutex_lock(&st->mu);
	rc = read_holder(st, stack, &h, err);
	pthread_mutex_unlock(&st->mu);
	if (rc != 0)
		return -1;
	if (h.present)
		describe_holder(&h, buf, len);
	else if (len)
		buf[0] = '\0';
	return 0;
}

/* ---- the journal ---- */

int state_journal_begin(struct state *st, const char *stack, const char *name,
			const char *type, const char *op, json_t *intent, int64_t *jid,
			struct cairn_err *err)
{
	char *text = dump(intent), now[32];
	sqlite3_stmt *s;
	int rc = -1;

	now_iso(now);
	pthread_mutex_lock(&st->mu);
	if (prepare(st, "INSERT INTO journal (stack, name, type, op, intent, started)"
		    " VALUES (?, ?, ?, ?, ?, ?)", &s, err) != 0)
		goto out;
	sqlite3_bind_text(s, 1, stack, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, type, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, op, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, text, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 6, now, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_DONE) {
		*jid = sqlite3_last_insert_rowid(st->db);
		rc = 0;
	} else {
		db_fail(st, err, "cannot journal the operation");
	}
	sqlite3_finalize(s);
out:
	pthread_mutex_unlock(&st->mu);
	free(text);
	return rc;
}

int state_journal_end(struct state *st, int64_t jid, struct cairn_err *err)
{
	char now[32];
	sqlite3_stmt *s;
	int rc = -1;

	now_iso(now);
	pthread_mutex_lock(&st->mu);
	if (prepare(st, "UPDATE journal SET done = ? WHERE jid = ?", &s, err) != 0)
		goto out;
	sqlite3_bind_text(s, 1, now, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, jid);
	rc = sqlite3_step(s) == SQLITE_DONE ? 0 : db_fail(st, err, "cannot close journal entry");
	sqlite3_finalize(s);
out:
	pthread_mutex_unlock(&st->mu);
	return rc;
}

int state_journal_pending(struct state *st, const char *stack, json_t **out,
			  struct cairn_err *err)
{
	sqlite3_stmt *s;
	int rc = -1, step;

	*out = NULL;
	pthread_mutex_lock(&st->mu);
	if (prepare(st, "SELECT jid, name, type, op, intent, started FROM journal"
		    " WHERE stack = ? AND done IS NULL ORDER BY jid", &s, err) != 0)
		goto out;
	sqlite3_bind_text(s, 1, stack, -1, SQLITE_STATIC);
	*out = json_array();
	while ((step = sqlite3_step(s)) == SQLITE_ROW)
		json_array_append_new(*out, json_pack("{s:I,s:s,s:s,s:s,s:o,s:s}",
			"jid", (json_int_t)sqlite3_column_int64(s, 0),
			"name", (const char *)sqlite3_column_text(s, 1),
			"type", (const char *)sqlite3_column_text(s, 2),
			"op", (const char *)sqlite3_column_text(s, 3),
			"intent", load_text(sqlite3_column_text(s, 4)),
			"started", (const char *)sqlite3_column_text(s, 5)));
	sqlite3_finalize(s);
	if (step != SQLITE_DONE) {
		json_decref(*out);
		*out = NULL;
		db_fail(st, err, "cannot read the journal");
		goto out;
	}
	rc = 0;
out:
	pthread_mutex_unlock(&st->mu);
	return rc;
}

/* ---- history ---- */

int state_history_add(struct state *st, const char *stack, const char *command,
		      const char *result, json_t *summary, struct cairn_err *err)
{
	struct passwd *pw = getpwuid(getuid());
	char *text = dump(summary), now[32];
	sqlite3_stmt *s;
	int rc = -1;

	now_iso(now);
	pthread_mutex_lock(&st->mu);
	if (prepare(st, "INSERT INTO history (stack, time, user, host, command, result, summary)"
		    " VALUES (?, ?, ?, ?, ?, ?, ?)", &s, err) != 0)
		goto out;
	sqlite3_bind_text(s, 1, stack, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, now, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, pw && pw->pw_name ? pw->pw_name : "unknown", -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 4, st->host, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, command, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 6, result, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 7, text, -1, SQLITE_STATIC);
	rc = sqlite3_step(s) == SQLITE_DONE ? 0 : db_fail(st, err, "cannot record history");
	sqlite3_finalize(s);
out:
	pthread_mutex_unlock(&st->mu);
	free(text);
	return rc;
}

int state_history(struct state *st, const char *stack, int limit, json_t **out,
		  struct cairn_err *err)
{
	sqlite3_stmt *s;
	int rc = -1, step;

	*out = NULL;
	pthread_mutex_lock(&st->mu);
	if (prepare(st, "SELECT time, user, host, command, result, summary FROM history"
		    " WHERE stack = ? ORDER BY hid DESC LIMIT ?", &s, err) != 0)
		goto out;
	sqlite3_bind_text(s, 1, stack, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 2, limit);
	*out = json_array();
	while ((step = sqlite3_step(s)) == SQLITE_ROW)
		json_array_append_new(*out, json_pack("{s:s,s:s,s:s,s:s,s:s,s:o}",
			"time", (const char *)sqlite3_column_text(s, 0),
			"user", (const char *)sqlite3_column_text(s, 1),
			"host", (const char *)sqlite3_column_text(s, 2),
			"command", (const char *)sqlite3_column_text(s, 3),
			"result", (const char *)sqlite3_column_text(s, 4),
			"summary", load_text(sqlite3_column_text(s, 5))));
	sqlite3_finalize(s);
	if (step != SQLITE_DONE) {
		json_decref(*out);
		*out = NULL;
		db_fail(st, err, "cannot read history");
		goto out;
	}
	rc = 0;
out:
	pthread_mutex_unlock(&st->mu);
	return rc;
}

int state_stacks(struct state *st, json_t **out, struct cairn_err *err)
{
	sqlite3_stmt *s;
	int rc = -1, step;

	*out = NULL;
	pthread_mutex_lock(&st->mu);
	if (prepare(st, "SELECT name FROM stacks ORDER BY name", &s, err) != 0)
		goto out;
	*out = json_array();
	while ((step = sqlite3_step(s)) == SQLITE_ROW)
		json_array_append_new(*out, json_string((const char *)sqlite3_column_text(s, 0)));
	sqlite3_finalize(s);
	if (step != SQLITE_DONE) {
		json_decref(*out);
		*out = NULL;
		db_fail(st, err, "cannot list stacks");
		goto out;
	}
	rc = 0;
out:
	pthread_mutex_unlock(&st->mu);
	return rc;
}

int state_plan_key(struct state *st, const char *stack, int create,
		   unsigned char key[STATE_PLAN_KEY_LEN], int *found, struct cairn_err *err)
{
	unsigned char fresh[STATE_PLAN_KEY_LEN];
	sqlite3_stmt *s = NULL;
	int rc = -1, step;

	*found = 0;
	pthread_mutex_lock(&st->mu);
	if (exec_sql(st, "BEGIN IMMEDIATE", err) != 0)
		goto out;
	if (prepare(st, "SELECT key FROM plan_keys WHERE stack = ?", &s, err) != 0)
		goto rollback;
	sqlite3_bind_text(s, 1, stack, -1, SQLITE_STATIC);
	step = sqlite3_step(s);
	if (step == SQLITE_ROW && sqlite3_column_bytes(s, 0) == STATE_PLAN_KEY_LEN) {
		memcpy(key, sqlite3_column_blob(s, 0), STATE_PLAN_KEY_LEN);
		*found = 1;
	} else if (step != SQLITE_ROW && step != SQLITE_DONE) {
		db_fail(st, err, "cannot read the plan key");
		goto rollback;
	}
	sqlite3_finalize(s);
	s = NULL;
	if (!*found && create) {
		if (RAND_bytes(fresh, sizeof(fresh)) != 1) {
			err_set(err, CAIRN_EINTERNAL, "cannot make a plan key: no randomness");
			goto rollback;
		}
		if (prepare(st, "INSERT INTO plan_keys (stack, key) VALUES (?, ?)", &s, err) != 0)
			goto rollback;
		sqlite3_bind_text(s, 1, stack, -1, SQLITE_STATIC);
		sqlite3_bind_blob(s, 2, fresh, sizeof(fresh), SQLITE_STATIC);
		if (sqlite3_step(s) != SQLITE_DONE) {
			db_fail(st, err, "cannot record the plan key");
			goto rollback;
		}
		memcpy(key, fresh, sizeof(fresh));
		*found = 1;
	}
	if (exec_sql(st, "COMMIT", err) != 0)
		goto rollback;
	rc = 0;
	goto out;
rollback:
	sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
out:
	sqlite3_finalize(s);
	secure_zero(fresh, sizeof(fresh));
	pthread_mutex_unlock(&st->mu);
	return rc;
}

int state_meta_get(struct state *st, const char *key, char **value, struct cairn_err *err)
{
	sqlite3_stmt *s = NULL;
	int rc = -1, step;

	*value = NULL;
	pthread_mutex_lock(&st->mu);
	if (prepare(st, "SELECT value FROM cairn_meta WHERE key = ?", &s, err) != 0)
		goto out;
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	step = sqlite3_step(s);
	if (step == SQLITE_ROW) {
		*value = xstrdup((const char *)sqlite3_column_text(s, 0));
	} else if (step != SQLITE_DONE) {
		db_fail(st, err, "cannot read the state's metadata");
		goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(s);
	pthread_mutex_unlock(&st->mu);
	return rc;
}

int state_meta_put(struct state *st, const char *key, const char *value,
		   struct cairn_err *err)
{
	sqlite3_stmt *s = NULL;
	int rc = -1;

	pthread_mutex_lock(&st->mu);
	if (prepare(st, "INSERT OR REPLACE INTO cairn_meta (key, value) VALUES (?, ?)", &s,
		    err) != 0)
		goto out;
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, value, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE) {
		db_fail(st, err, "cannot write the state's metadata");
		goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(s);
	pthread_mutex_unlock(&st->mu);
	return rc;
}
