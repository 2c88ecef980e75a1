/*
 * state: the SQLite state store (see state.h and SPEC §5).
 *
 * Schema history (PRAGMA user_version):
 *   1  stacks, resources, locks, journal
 *   2  stack outputs, apply history
 *   3  per-stack key that seals secrets in saved plan files
 *   4  no new table: sensitive values may be sealed under a state key
 *      (state_seal; cairn_meta seal_*), which a cairn of format 3 would
 *      read as plain values, so it must refuse the file
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

#include "../lib/json.h"
#include "../lib/seal.h"
#include "state.h"

#define STATE_VERSION 4
#define STATE_VERSION_TEXT "4"
#define STATE_FORMAT "cairn-state"

struct remote;

/*
 * Secrets sealed inside the store (state_seal). A store that records a key
 * check has every sensitive attribute, output value, journal intent and
 * plan key sealed under that key. When the store is not yet as the keys
 * given want it (plain with a key given, or sealed under the previous
 * key), the first write rewrites it whole first (pending, ensure_sealed).
 */
struct sealing {
	int on;                             /* a key: write sealed */
	int old_on;                         /* a previous key: open with it too */
	int pending;                        /* the next write must rewrite the store first */
	unsigned char key[SEAL_KEY_LEN];    /* derived from the state key: seals values */
	unsigned char old_key[SEAL_KEY_LEN];
	char *check, *old_check;            /* base64 of the key check values */
	char *kind, *kms_blob, *kms_key_id;
	int (*sensitive)(const char *type, int data, const char *attr);
};

struct state {
	sqlite3 *db;
	char *path;
	pthread_mutex_t mu;     /* one API call (one transaction) at a time */
	char host[256];
	long pid;
	struct remote *rm;      /* the remote object store, or NULL for a local file */
	struct sealing seal;
};

static void mark_dirty(struct state *st);

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
	/* 3 -> 4 */
	"",
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

/* Is the file at st->path still the one open? Deleted, renamed or replaced
 * while cairn runs, what is written goes where nobody reads it again. */
static int moved(struct state *st, struct cairn_err *err)
{
	int m = 0;

	if (sqlite3_file_control(st->db, "main", SQLITE_FCNTL_HAS_MOVED, &m) != SQLITE_OK || !m)
		return 0;
	err_set(err, CAIRN_EIO, "state '%s' was deleted or replaced while cairn was running; "
		"nothing more can be recorded in it", st->path);
	return -1;
}

static int exec_sql(struct state *st, const char *sql, struct cairn_err *err)
{
	char *msg = NULL;

	if (moved(st, err))
		return -1;
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

/* SQLite's quick_check (every page and index entry well-formed) before
 * anything is written: a damaged state is refused, never overwritten. */
static int quick_check(sqlite3 *db, const char *path, struct cairn_err *err)
{
	sqlite3_stmt *s;
	const char *res = NULL;
	int rc = -1;

	if (sqlite3_prepare_v2(db, "PRAGMA quick_check(1)", -1, &s, NULL) != SQLITE_OK) {
		err_set(err, CAIRN_EINVAL, "state '%s' is damaged (%s); it was left as it is: "
			"restore it from a backup", path, sqlite3_errmsg(db));
		return -1;
	}
	if (sqlite3_step(s) == SQLITE_ROW)
		res = (const char *)sqlite3_column_text(s, 0);
	if (res && strcmp(res, "ok") == 0)
		rc = 0;
	else
		err_set(err, CAIRN_EINVAL, "state '%s' is damaged (SQLite quick_check: %s); it was "
			"left as it is: restore it from a backup", path,
			res ? res : sqlite3_errmsg(db));
	sqlite3_finalize(s);
	return rc;
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
	if (quick_check(db, path, err) != 0)
		goto out;
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

static void remote_close(struct state *st);

void state_close(struct state *st)
{
	if (!st)
		return;
	remote_close(st);
	sqlite3_close(st->db);
	secure_zero(st->seal.key, sizeof(st->seal.key));
	secure_zero(st->seal.old_key, sizeof(st->seal.old_key));
	free(st->seal.check);
	free(st->seal.old_check);
	free(st->seal.kind);
	free(st->seal.kms_blob);
	free(st->seal.kms_key_id);
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
	*s = NULL;
	if (moved(st, err))
		return -1;
	if (sqlite3_prepare_v2(st->db, sql, -1, s, NULL) == SQLITE_OK)
		return 0;
	return db_fail(st, err, "query failed");
}

/* ---- secrets sealed under the state key (state_seal) ---- */

#define CHECK_LABEL "cairn state key check v1"
#define VALUE_LABEL "cairn state values v1"
#define WRAPPED_PLAN_KEY_LEN (STATE_PLAN_KEY_LEN + SEAL_OVERHEAD)

static const char *display(const struct state *st);

static int is_data_name(const char *name)
{
	return strncmp(name, "data.", 5) == 0;
}

/* attrs with its sensitive members sealed when sealing is on (new ref). */
static json_t *seal_attrs(struct state *st, const char *type, const char *name, json_t *attrs)
{
	const char *k;
	json_t *out, *v;

	if (!st->seal.on || !json_is_object(attrs))
		return json_incref(attrs);
	out = json_object();
	json_object_foreach(attrs, k, v) {
		if (!json_is_null(v) && !seal_is_sealed(v) &&
		    st->seal.sensitive(type, is_data_name(name), k))
			json_object_set_new(out, k, seal_json(v, st->seal.key));
		else
			json_object_set(out, k, v);
	}
	return out;
}

/* A whole value sealed when sealing is on (new ref). */
static json_t *seal_value(struct state *st, json_t *v)
{
	if (!st->seal.on || !v || seal_is_sealed(v))
		return json_incref(v ? v : json_null());
	return seal_json(v, st->seal.key);
}

/* Outputs NAME -> {"value": V, ...} with every value sealed (new ref). */
static json_t *seal_outputs(struct state *st, json_t *outputs)
{
	const char *k;
	json_t *out, *o;

	if (!st->seal.on || !json_is_object(outputs))
		return json_incref(outputs);
	out = json_object();
	json_object_foreach(outputs, k, o) {
		json_t *copy = json_is_object(o) ? json_copy(o) : json_incref(o);
		json_t *v = json_object_get(copy, "value");

		if (json_is_object(copy) && v)
			json_object_set_new(copy, "value", seal_value(st, v));
		json_object_set_new(out, k, copy);
	}
	return out;
}

/* Opens a sealed value in place of *v (which is owned); plain values pass. */
static int open_value(struct state *st, json_t **v, const char *what, struct cairn_err *err)
{
	json_t *plain;

	if (!seal_is_sealed(*v))
		return 0;
	if (!st->seal.on && !st->seal.old_on) {
		err_set(err, CAIRN_EINVAL, "state '%s' holds sealed secrets (%s): set the state key "
			"(CAIRN_STATE_KEY or CAIRN_STATE_KMS_KEY_ID) it was sealed with",
			display(st), what);
		return -1;
	}
	plain = st->seal.on ? seal_open_json(*v, st->seal.key) : NULL;
	if (!plain && st->seal.old_on)
		plain = seal_open_json(*v, st->seal.old_key);
	if (!plain) {
		err_set(err, CAIRN_EINVAL, "state '%s': cannot open the sealed %s: it was sealed "
			"under another key or altered", display(st), what);
		return -1;
	}
	json_decref(*v);
	*v = plain;
	return 0;
}

/* Opens every sealed member of an object in place. */
static int open_members(struct state *st, json_t *obj, const char *what, struct cairn_err *err)
{
	const char *k;
	json_t *v;

	if (!json_is_object(obj))
		return 0;
	json_object_foreach(obj, k, v) {
		json_t *x = json_incref(v);

		if (seal_is_sealed(x)) {
			char *w = xasprintf("%s.%s", what, k);
			int rc = open_value(st, &x, w, err);

			free(w);
			if (rc < 0) {
				json_decref(x);
				return -1;
			}
			json_object_set(obj, k, x);
		}
		json_decref(x);
	}
	return 0;
}

/* Outputs with their values opened, in place. */
static int open_outputs(struct state *st, json_t *outputs, struct cairn_err *err)
{
	const char *k;
	json_t *o;

	json_object_foreach(outputs, k, o) {
		json_t *v = json_object_get(o, "value");
		char *w;
		int rc;

		if (!seal_is_sealed(v))
			continue;
		v = json_incref(v);
		w = xasprintf("output %s", k);
		rc = open_value(st, &v, w, err);
		free(w);
		if (rc < 0) {
			json_decref(v);
			return -1;
		}
		json_object_set_new(o, "value", v);
	}
	return 0;
}

/* Runs an UPDATE with ?1 = text, ?2 = k1 and, unless k2 is NULL, ?3 = k2. */
static int update_text(struct state *st, const char *sql, const char *text, const char *k1,
		       const char *k2, struct cairn_err *err)
{
	sqlite3_stmt *s;
	int rc;

	if (prepare(st, sql, &s, err) != 0)
		return -1;
	sqlite3_bind_text(s, 1, text, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 2, k1, -1, SQLITE_TRANSIENT);
	if (k2)
		sqlite3_bind_text(s, 3, k2, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(s) == SQLITE_DONE ? 0 : db_fail(st, err, "cannot seal the state");
	sqlite3_finalize(s);
	return rc;
}

/* Rows of a query as an array of arrays of strings (text columns), new ref. */
static json_t *rows_of(struct state *st, const char *sql, int cols, struct cairn_err *err)
{
	json_t *rows = json_array();
	sqlite3_stmt *s;
	int step, i;

	if (prepare(st, sql, &s, err) != 0) {
		json_decref(rows);
		return NULL;
	}
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		json_t *row = json_array();

		for (i = 0; i < cols; i++)
			json_array_append_new(row, json_string_or_empty(
				(const char *)sqlite3_column_text(s, i)));
		json_array_append_new(rows, row);
	}
	sqlite3_finalize(s);
	if (step != SQLITE_DONE) {
		json_decref(rows);
		db_fail(st, err, "cannot read the state to seal it");
		return NULL;
	}
	return rows;
}

static const char *col(json_t *row, size_t i)
{
	return json_string_value(json_array_get(row, i));
}

static int meta_set(struct state *st, const char *key, const char *value, struct cairn_err *err)
{
	sqlite3_stmt *s;
	int rc;

	if (prepare(st, value ? "INSERT OR REPLACE INTO cairn_meta (key, value) VALUES (?, ?)" :
		    "DELETE FROM cairn_meta WHERE key = ?", &s, err) != 0)
		return -1;
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	if (value)
		sqlite3_bind_text(s, 2, value, -1, SQLITE_STATIC);
	rc = sqlite3_step(s) == SQLITE_DONE ? 0 : db_fail(st, err, "cannot record the key check");
	sqlite3_finalize(s);
	return rc;
}

/* The values reseal_all rewrites: each query gives (key, second key or
 * NULL, value, type or NULL) rows; what is sealed in a value depends on
 * its kind. */
enum reseal_kind { RESEAL_ATTRS, RESEAL_OUTPUTS, RESEAL_WHOLE };
static const struct reseal_table {
	const char *select, *update;
	enum reseal_kind kind;
} RESEAL[] = {
	{"SELECT stack, name, attrs, type FROM resources",
	 "UPDATE resources SET attrs = ?1 WHERE stack = ?2 AND name = ?3", RESEAL_ATTRS},
	{"SELECT name, NULL, outputs, NULL FROM stacks",
	 "UPDATE stacks SET outputs = ?1 WHERE name = ?2", RESEAL_OUTPUTS},
	{"SELECT jid, NULL, intent, NULL FROM journal",
	 "UPDATE journal SET intent = ?1 WHERE jid = ?2", RESEAL_WHOLE},
};

/* One row of t: its value opened with whichever key sealed it, then sealed
 * under the key now given (or left in clear) and written back. */
static int reseal_row(struct state *st, const struct reseal_table *t, json_t *row,
		      struct cairn_err *err)
{
	json_t *v = load_text((const unsigned char *)col(row, 2)), *sealed = NULL;
	const char *k2 = t->kind == RESEAL_ATTRS ? col(row, 1) : NULL;
	char *text = NULL;
	int r;

	if (t->kind == RESEAL_ATTRS)
		r = open_members(st, v, col(row, 1), err);
	else if (t->kind == RESEAL_OUTPUTS)
		r = json_is_object(v) ? open_outputs(st, v, err) : 0;
	else
		r = open_value(st, &v, "journal intent", err);
	if (r == 0) {
		sealed = t->kind == RESEAL_ATTRS ? seal_attrs(st, col(row, 3), col(row, 1), v) :
			 t->kind == RESEAL_OUTPUTS ? seal_outputs(st, v) : seal_value(st, v);
		text = dump(sealed);
		r = update_text(st, t->update, text, col(row, 0), k2, err);
	}
	free(text);
	json_decref(sealed);
	json_decref(v);
	return r;
}

/* Inside a transaction: records the key check (or forgets it: no key
 * left) and rewrites every secret the store holds, opened with whichever
 * key sealed it, sealed under the key now given (or in clear). */
static int reseal_all(struct state *st, struct cairn_err *err)
{
	json_t *rows = NULL, *row;
	sqlite3_stmt *s = NULL;
	size_t i, t;
	int rc = -1;

	if (meta_set(st, STATE_META_SEAL_CHECK, st->seal.on ? st->seal.check : NULL, err) != 0 ||
	    meta_set(st, STATE_META_SEAL_KIND, st->seal.on ? st->seal.kind : NULL, err) != 0 ||
	    meta_set(st, STATE_META_SEAL_KMS_DATA_KEY, st->seal.on ? st->seal.kms_blob : NULL,
		     err) != 0 ||
	    meta_set(st, STATE_META_SEAL_KMS_KEY_ID, st->seal.on ? st->seal.kms_key_id : NULL,
		     err) != 0)
		goto out;
	for (t = 0; t < sizeof(RESEAL) / sizeof(RESEAL[0]); t++) {
		rows = rows_of(st, RESEAL[t].select, 4, err);
		if (!rows)
			goto out;
		json_array_foreach(rows, i, row)
			if (reseal_row(st, &RESEAL[t], row, err) != 0)
				goto out;
		json_decref(rows);
		rows = NULL;
	}
	if (prepare(st, "UPDATE plan_keys SET key = rewrap_plan_key(key)", &s, err) != 0)
		goto out;
	if (sqlite3_step(s) != SQLITE_DONE) {
		db_fail(st, err, "cannot seal the plan keys (one is sealed under an unknown key)");
		goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(s);
	json_decref(rows);
	return rc;
}

/* A plan key as stored (clear, or wrapped under the key or the previous
 * key) into key. 0, or -1 when no key given opens it. */
static int open_plan_key(const struct state *st, const void *blob, int len,
			 unsigned char key[STATE_PLAN_KEY_LEN])
{
	if (len == STATE_PLAN_KEY_LEN) {
		memcpy(key, blob, STATE_PLAN_KEY_LEN);
		return 0;
	}
	if (len != WRAPPED_PLAN_KEY_LEN)
		return -1;
	if (st->seal.on && seal_open_bytes(st->seal.key, blob, WRAPPED_PLAN_KEY_LEN, key) == 0)
		return 0;
	if (st->seal.old_on &&
	    seal_open_bytes(st->seal.old_key, blob, WRAPPED_PLAN_KEY_LEN, key) == 0)
		return 0;
	return -1;
}

/* rewrap_plan_key(BLOB): the SQL function reseal_all uses: the plan key
 * wrapped under the key now given, or in clear without one. */
static void sql_rewrap_plan_key(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
	struct state *st = sqlite3_user_data(cx);
	unsigned char key[STATE_PLAN_KEY_LEN], out[WRAPPED_PLAN_KEY_LEN];

	if (open_plan_key(st, sqlite3_value_blob(argv[0]), sqlite3_value_bytes(argv[0]), key)) {
		sqlite3_result_error(cx, "plan key sealed under an unknown key", -1);
		return;
	}
	if (st->seal.on) {
		seal_bytes(st->seal.key, key, STATE_PLAN_KEY_LEN, out);
		sqlite3_result_blob(cx, out, sizeof(out), SQLITE_TRANSIENT);
	} else {
		sqlite3_result_blob(cx, key, STATE_PLAN_KEY_LEN, SQLITE_TRANSIENT);
	}
	secure_zero(key, sizeof(key));
}

/* Holding st->mu, outside a transaction: the first write of a run that
 * must reseal the store (pending) does it, in a transaction of its own,
 * before anything new is written. */
static int ensure_sealed(struct state *st, struct cairn_err *err)
{
	const char *have;
	sqlite3_stmt *s;
	int step, done = 0;

	if (!st->seal.pending)
		return 0;
	if (exec_sql(st, "BEGIN IMMEDIATE", err) != 0)
		return -1;
	/* Another process may have done it meanwhile, perhaps under another key. */
	if (prepare(st, "SELECT value FROM cairn_meta WHERE key = '" STATE_META_SEAL_CHECK "'",
		    &s, err) != 0)
		goto rollback;
	step = sqlite3_step(s);
	have = step == SQLITE_ROW ? (const char *)sqlite3_column_text(s, 0) : NULL;
	if (st->seal.on ? have && strcmp(have, st->seal.check) == 0 : !have)
		done = 1;
	else if (have && !(st->seal.old_on && strcmp(have, st->seal.old_check) == 0))
		done = -1;
	sqlite3_finalize(s);
	if (done < 0) {
		err_set(err, CAIRN_EINVAL, "state '%s' was sealed under another key meanwhile; "
			"nothing was written", display(st));
		goto rollback;
	}
	if (!done && reseal_all(st, err) != 0)
		goto rollback;
	if (exec_sql(st, "COMMIT", err) != 0)
		goto rollback;
	st->seal.pending = 0;
	if (!done)
		mark_dirty(st);
	return 0;
rollback:
	sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

static char *check_of(const unsigned char *key)
{
	unsigned char chk[SEAL_KEY_LEN];
	char *out;

	seal_derive(key, CHECK_LABEL, chk);
	out = b64_encode(chk, sizeof(chk));
	secure_zero(chk, sizeof(chk));
	return out;
}

int state_seal(struct state *st, const struct state_sealing *sealing, struct cairn_err *err)
{
	char *have = NULL, *want = NULL, *old = NULL;
	int rc = -1, pending;

	if (sealing->key)
		want = check_of(sealing->key);
	if (sealing->previous)
		old = check_of(sealing->previous);
	if (state_meta_get(st, STATE_META_SEAL_CHECK, &have, err) != 0)
		goto out;
	if (want && have && strcmp(have, want) == 0)
		pending = 0;                      /* sealed under this key */
	else if (old && have && strcmp(have, old) == 0)
		pending = 1;                      /* under the previous one: rewrite */
	else if (have) {
		err_set(err, CAIRN_EINVAL, "state '%s' is sealed under another key: %s does not "
			"match the key check it records; nothing was changed", display(st),
			!want ? "CAIRN_STATE_KEY_PREVIOUS" :
			strcmp(sealing->kind, "kms") == 0 ? "the KMS data key" : "CAIRN_STATE_KEY");
		goto out;
	} else
		pending = want != NULL;           /* in clear: seal it if a key is given */
	pthread_mutex_lock(&st->mu);
	/* Deleted rows (a value before it was sealed) are overwritten, not left in free pages. */
	if (exec_sql(st, "PRAGMA secure_delete = ON", err) != 0) {
		pthread_mutex_unlock(&st->mu);
		goto out;
	}
	if (sqlite3_create_function(st->db, "rewrap_plan_key", 1, SQLITE_UTF8, st,
				    sql_rewrap_plan_key, NULL, NULL) != SQLITE_OK) {
		db_fail(st, err, "cannot set up sealing");
		pthread_mutex_unlock(&st->mu);
		goto out;
	}
	if (sealing->key)
		seal_derive(sealing->key, VALUE_LABEL, st->seal.key);
	if (sealing->previous)
		seal_derive(sealing->previous, VALUE_LABEL, st->seal.old_key);
	free(st->seal.check);
	free(st->seal.old_check);
	free(st->seal.kind);
	free(st->seal.kms_blob);
	free(st->seal.kms_key_id);
	st->seal.check = want;
	st->seal.old_check = old;
	want = old = NULL;
	st->seal.kind = xstrdup(sealing->kind);
	st->seal.kms_blob = xstrdup(sealing->kms_data_key);
	st->seal.kms_key_id = xstrdup(sealing->kms_key_id);
	st->seal.sensitive = sealing->sensitive;
	st->seal.on = sealing->key != NULL;
	st->seal.old_on = sealing->previous != NULL;
	st->seal.pending = pending;
	pthread_mutex_unlock(&st->mu);
	rc = 0;
out:
	free(have);
	free(want);
	free(old);
	return rc;
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

/* One row; sealed attributes are opened. -1 with err (r then holds what was read). */
static int row_to_resource(struct state *st, sqlite3_stmt *s, struct state_resource *r,
			   struct cairn_err *err)
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
	return open_members(st, r->attrs, r->name, err);
}

/* Managed resources (data = 0) or data sources (data = 1), sorted by name. */
static int list_where(struct state *st, const char *stack, int data, struct state_resource **out,
		      size_t *n, struct cairn_err *err)
{
	struct state_resource *v = NULL;
	size_t cnt = 0, cap = 0;
	sqlite3_stmt *s;
	int rc = -1, step;

	*out = NULL;
	*n = 0;
	pthread_mutex_lock(&st->mu);
	if (prepare(st, data ? "SELECT name, type, id, attrs, deps, schema_version FROM resources"
		    " WHERE stack = ? AND substr(name, 1, 5) = 'data.' ORDER BY name" :
		    "SELECT name, type, id, attrs, deps, schema_version FROM resources"
		    " WHERE stack = ? AND substr(name, 1, 5) != 'data.' ORDER BY name", &s, err) != 0)
		goto out;
	sqlite3_bind_text(s, 1, stack, -1, SQLITE_STATIC);
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		if (cnt == cap) {
			cap = cap ? cap * 2 : 16;
			v = xrealloc(v, cap * sizeof(*v));
		}
		memset(&v[cnt], 0, sizeof(v[cnt]));
		if (row_to_resource(st, s, &v[cnt++], err) < 0)
			break;
	}
	sqlite3_finalize(s);
	if (step != SQLITE_DONE) {
		if (step != SQLITE_ROW)
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

int state_list(struct state *st, const char *stack, struct state_resource **out, size_t *n,
	       struct cairn_err *err)
{
	return list_where(st, stack, 0, out, n, err);
}

int state_list_data(struct state *st, const char *stack, struct state_resource **out, size_t *n,
		    struct cairn_err *err)
{
	return list_where(st, stack, 1, out, n, err);
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
	if (step == SQLITE_ROW && row_to_resource(st, s, out, err) < 0) {
		sqlite3_finalize(s);
		state_resource_free(out);
		goto out;
	}
	*found = step == SQLITE_ROW;
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
	if (ensure_sealed(st, err) != 0 || exec_sql(st, "BEGIN IMMEDIATE", err) != 0)
		goto out;
	if (bump_serial(st, stack, err) != 0 || body(st, stack, ctx, err) != 0 ||
	    exec_sql(st, "COMMIT", err) != 0 || moved(st, err)) {
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
		goto out;
	}
	mark_dirty(st);
	rc = 0;
out:
	pthread_mutex_unlock(&st->mu);
	return rc;
}

static int put_body(struct state *st, const char *stack, const void *ctx, struct cairn_err *err)
{
	const struct state_view *r = ctx;
	json_t *none = json_array(), *sealed = seal_attrs(st, r->type, r->name, r->attrs);
	char *attrs = dump(sealed), *deps = dump(r->deps ? r->deps : none);
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
	json_decref(none);
	json_decref(sealed);
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
	json_t *sealed = seal_outputs(st, (json_t *)ctx);
	char *text = dump(sealed);
	sqlite3_stmt *s;
	int rc = -1;

	json_decref(sealed);
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
	if (open_outputs(st, *out, err) < 0) {
		json_decref(*out);
		*out = NULL;
		goto out;
	}
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

static int remote_lock(struct state *st, const char *stack, const char *operation,
		       int timeout_s, int *took_over, char *warn_msg, struct cairn_err *err);
static int remote_unlock(struct state *st, int force, struct cairn_err *err);
static int remote_lock_info(struct state *st, char *buf, size_t len, struct cairn_err *err);

static int lock_stack(struct state *st, const char *stack, const char *operation, int timeout_s,
		      int *took_over, char *warn_msg, struct cairn_err *err)
{
	time_t deadline = time(NULL) + (timeout_s > 0 ? timeout_s : 0);
	struct holder h;
	char who[512];
	int rc;

	*took_over = 0;
	if (st->rm)
		return remote_lock(st, stack, operation, timeout_s, took_over, warn_msg, err);
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

/* Whoever takes the lock with a state key seals the whole store at once
 * (a no-op apply, refresh, state rm ... included), not only what it writes. */
int state_lock(struct state *st, const char *stack, const char *operation, int timeout_s,
	       int *took_over, char *warn_msg, struct cairn_err *err)
{
	struct cairn_err ignored;
	int rc;

	if (lock_stack(st, stack, operation, timeout_s, took_over, warn_msg, err) < 0)
		return -1;
	pthread_mutex_lock(&st->mu);
	rc = ensure_sealed(st, err);
	pthread_mutex_unlock(&st->mu);
	if (rc < 0) {
		err_clear(&ignored);
		state_unlock(st, stack, &ignored);
		return -1;
	}
	return 0;
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
	if (st->rm)
		return remote_unlock(st, 0, err);
	return delete_lock(st, stack, 1, err);
}

int state_force_unlock(struct state *st, const char *stack, struct cairn_err *err)
{
	if (st->rm)
		return remote_unlock(st, 1, err);
	return delete_lock(st, stack, 0, err);
}

int state_lock_info(struct state *st, const char *stack, char *buf, size_t len,
		    struct cairn_err *err)
{
	struct holder h;
	int rc;

	if (st->rm)
		return remote_lock_info(st, buf, len, err);
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
	json_t *sealed;
	char *text, now[32];
	sqlite3_stmt *s;
	int rc = -1;

	now_iso(now);
	pthread_mutex_lock(&st->mu);
	sealed = seal_value(st, intent);
	text = dump(sealed);
	json_decref(sealed);
	if (ensure_sealed(st, err) != 0)
		goto out;
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
		mark_dirty(st);
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
	if (rc == 0)
		mark_dirty(st);
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
	{
		size_t i;
		json_t *e;

		json_array_foreach(*out, i, e) {
			json_t *intent = json_incref(json_object_get(e, "intent"));

			if (open_value(st, &intent, "journal intent", err) < 0) {
				json_decref(intent);
				json_decref(*out);
				*out = NULL;
				goto out;
			}
			json_object_set_new(e, "intent", intent);
		}
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
	if (rc == 0)
		mark_dirty(st);
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
	if ((create && ensure_sealed(st, err) != 0) || exec_sql(st, "BEGIN IMMEDIATE", err) != 0)
		goto out;
	if (prepare(st, "SELECT key FROM plan_keys WHERE stack = ?", &s, err) != 0)
		goto rollback;
	sqlite3_bind_text(s, 1, stack, -1, SQLITE_STATIC);
	step = sqlite3_step(s);
	if (step == SQLITE_ROW && sqlite3_column_bytes(s, 0) == STATE_PLAN_KEY_LEN) {
		memcpy(key, sqlite3_column_blob(s, 0), STATE_PLAN_KEY_LEN);
		*found = 1;
	} else if (step == SQLITE_ROW && sqlite3_column_bytes(s, 0) == WRAPPED_PLAN_KEY_LEN) {
		/* Wrapped under the state key (reseal_all, or made below). */
		if (open_plan_key(st, sqlite3_column_blob(s, 0), WRAPPED_PLAN_KEY_LEN, key) != 0) {
			err_set(err, CAIRN_EINVAL, "state '%s': the plan key is sealed and %s",
				display(st), st->seal.on ? "the state key does not open it"
				: "no state key is set (CAIRN_STATE_KEY or CAIRN_STATE_KMS_KEY_ID)");
			goto rollback;
		}
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
		unsigned char wrapped[WRAPPED_PLAN_KEY_LEN];

		if (prepare(st, "INSERT INTO plan_keys (stack, key) VALUES (?, ?)", &s, err) != 0)
			goto rollback;
		sqlite3_bind_text(s, 1, stack, -1, SQLITE_STATIC);
		if (st->seal.on) {
			seal_bytes(st->seal.key, fresh, sizeof(fresh), wrapped);
			sqlite3_bind_blob(s, 2, wrapped, sizeof(wrapped), SQLITE_TRANSIENT);
		} else {
			sqlite3_bind_blob(s, 2, fresh, sizeof(fresh), SQLITE_STATIC);
		}
		if (sqlite3_step(s) != SQLITE_DONE) {
			db_fail(st, err, "cannot record the plan key");
			goto rollback;
		}
		memcpy(key, fresh, sizeof(fresh));
		*found = 1;
		mark_dirty(st);
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

/* ---- whole-store copies: state pull / push, the errored copy ---- */

/*
 * The SQLite image of the store. sqlite3_serialize rather than a
 * checkpoint and a file read: it reads every page through the pager, so
 * the commits still in the WAL are in the image, under st->mu it is a
 * consistent snapshot without stopping anyone, and it touches no file.
 * Bytes 18 and 19 of the header (file format write/read version) say 2
 * in WAL mode; the image is set back to 1 (rollback journal) so that it
 * is a self-contained database any reader opens without a -wal file.
 * Returns an sqlite3_malloc'ed buffer (sqlite3_free) or NULL with err.
 */
static unsigned char *image_locked(struct state *st, sqlite3_int64 *len, struct cairn_err *err)
{
	unsigned char *img = sqlite3_serialize(st->db, "main", len, 0);

	if (!img) {
		db_fail(st, err, "cannot take an image of the state");
		return NULL;
	}
	if (*len >= 100 && img[18] == 2 && img[19] == 2)
		img[18] = img[19] = 1;
	return img;
}

/* Writes len bytes to path atomically (a temporary file renamed), mode 0600. */
static int write_file_atomic(const char *path, const void *data, size_t len,
			     struct cairn_err *err)
{
	char *tmp = xasprintf("%s.tmp-%ld", path, (long)getpid());
	const char *p = data;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600), rc = -1;

	if (fd < 0) {
		err_set(err, CAIRN_EIO, "cannot write '%s': %s", path, strerror(errno));
		goto out;
	}
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err_set(err, CAIRN_EIO, "cannot write '%s': %s", path, strerror(errno));
			close(fd);
			unlink(tmp);
			goto out;
		}
		p += n;
		len -= (size_t)n;
	}
	if (fsync(fd) != 0 || close(fd) != 0 || rename(tmp, path) != 0) {
		err_set(err, CAIRN_EIO, "cannot write '%s': %s", path, strerror(errno));
		unlink(tmp);
		goto out;
	}
	rc = 0;
out:
	free(tmp);
	return rc;
}

int state_export(struct state *st, const char *path, struct cairn_err *err)
{
	sqlite3_int64 len = 0;
	unsigned char *img;
	int rc;

	pthread_mutex_lock(&st->mu);
	img = image_locked(st, &len, err);
	pthread_mutex_unlock(&st->mu);
	if (!img)
		return -1;
	rc = write_file_atomic(path, img, (size_t)len, err);
	sqlite3_free(img);
	return rc;
}

/* What the keys given make of a database about to come in (a push, the
 * remote object read again): 0 sealed under the key, 1 to be rewritten
 * (in clear, or under the previous key), -1 sealed under another key. */
static int incoming_pending(const struct state *st, sqlite3 *src)
{
	sqlite3_stmt *s;
	const char *have = NULL;
	int rc;

	if (sqlite3_prepare_v2(src, "SELECT value FROM cairn_meta WHERE key = '"
			       STATE_META_SEAL_CHECK "'", -1, &s, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(s) == SQLITE_ROW)
		have = (const char *)sqlite3_column_text(s, 0);
	if (!have)
		rc = st->seal.on;
	else if (st->seal.on && strcmp(have, st->seal.check) == 0)
		rc = 0;
	else if (st->seal.old_on && strcmp(have, st->seal.old_check) == 0)
		rc = 1;
	else
		rc = -1;
	sqlite3_finalize(s);
	return rc;
}

/* Copies the database at path over st's (backup API), then migrates it. Holds st->mu. */
static int replace_locked(struct state *st, const char *path, struct cairn_err *err)
{
	sqlite3 *src = NULL;
	sqlite3_backup *b;
	long long v = 0;
	int version, rc = -1, pending = 0;

	version = inspect(path, err);
	if (version < 0)
		return -1;
	if (sqlite3_open_v2(path, &src, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		err_set(err, CAIRN_EIO, "cannot open state '%s': %s", path,
			src ? sqlite3_errmsg(src) : "out of memory");
		goto out;
	}
	/* With keys given, what comes in must be sealed under one of them (or be in clear). */
	if ((st->seal.on || st->seal.old_on) && (pending = incoming_pending(st, src)) < 0) {
		err_set(err, CAIRN_EINVAL, "state '%s' is sealed under another key than the one "
			"given; it was not used", path);
		goto out;
	}
	b = sqlite3_backup_init(st->db, "main", src, "main");
	if (!b) {
		db_fail(st, err, "cannot copy the state");
		goto out;
	}
	sqlite3_backup_step(b, -1);
	if (sqlite3_backup_finish(b) != SQLITE_OK) {
		db_fail(st, err, "cannot copy the state");
		goto out;
	}
	query_int(st->db, "PRAGMA user_version", &v);
	if (v < STATE_VERSION && migrate(st, (int)v, err) != 0)
		goto out;
	if (st->seal.on || st->seal.old_on)
		st->seal.pending = pending;
	rc = 0;
out:
	sqlite3_close(src);
	return rc;
}

int state_replace(struct state *st, const char *path, struct cairn_err *err)
{
	int rc;

	pthread_mutex_lock(&st->mu);
	rc = replace_locked(st, path, err);
	if (rc == 0)
		mark_dirty(st);
	/* A file pushed in clear with a key given is sealed before the push ends. */
	if (rc == 0)
		rc = ensure_sealed(st, err);
	pthread_mutex_unlock(&st->mu);
	return rc;
}

/* ---- team state in a remote object store (SPEC §5.1) ----
 *
 * The working copy is a private SQLite file (WAL, synchronous off: the
 * remote object is what must survive). Commits bump gen; an uploader
 * thread puts the image whenever gen is ahead of what the store holds,
 * after a short quiet time so that the intents of operations started
 * together share one write, and renews the lock's lease. Every put is
 * conditional on the ETag last read or written; a 412 whose object is not
 * our own retried write is a conflict, after which nothing more is
 * written and the run ends with the errored copy.
 */

#define GATHER_QUIET_MS 5      /* no commit for this long: the wave is complete */
#define GATHER_MAX_MS 50       /* but never wait longer before an upload */
#define UNKNOWN_KEEP 8

struct remote {
	struct state_remote_ops ops;
	char *url, *key, *lock_key, *host, *user, *ci_job, *dir;
	int lease_s;

	pthread_mutex_t io;             /* one store call at a time (ETags stay in order) */
	pthread_mutex_t mu;             /* guards everything below */
	pthread_cond_t cv;
	pthread_t thread;
	int thread_started, stopping;
	uint64_t gen, uploaded_gen;     /* commits made / commits in the store */
	uint64_t attempts, failed_attempt;
	struct cairn_err upload_err;    /* the last failed upload */
	struct timespec last_commit;
	char etag[128];                 /* the state object as last read or written */
	int exists;
	int conflict;
	char conflict_msg[1024];
	int locked;
	char lock_id[40], lock_etag[128];
	char *lock_body;
	time_t next_beat;
	uint64_t uploads, bytes;
	char unknown[UNKNOWN_KEEP][33]; /* see remember_unknown */
	size_t n_unknown;
};

static const char *display(const struct state *st)
{
	return st->rm ? st->rm->url : st->path;
}

void state_remote_info_free(struct state_remote_info *i)
{
	if (!i)
		return;
	json_decref(i->meta);
	i->meta = NULL;
}

static void random_id(char out[33])
{
	unsigned char rnd[16];
	int i;

	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		memset(rnd, 0, sizeof(rnd));
	for (i = 0; i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", rnd[i]);
}

static void mark_dirty(struct state *st)
{
	struct remote *rm = st->rm;

	if (!rm)
		return;
	pthread_mutex_lock(&rm->mu);
	rm->gen++;
	clock_gettime(CLOCK_MONOTONIC, &rm->last_commit);
	pthread_cond_broadcast(&rm->cv);
	pthread_mutex_unlock(&rm->mu);
}

static long ms_since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t->tv_sec) * 1000L + (now.tv_nsec - t->tv_nsec) / 1000000L;
}

static const char *meta_str(const struct state_remote_info *i, const char *name)
{
	return json_string_value(json_object_get(i->meta, name));
}

/* Sets the conflict (rm->mu held). */
static void set_conflict(struct remote *rm, const char *why)
{
	if (rm->conflict)
		return;
	rm->conflict = 1;
	snprintf(rm->conflict_msg, sizeof(rm->conflict_msg), "%s", why);
	pthread_cond_broadcast(&rm->cv);
}

/* Write ids of our uploads that failed without an answer: any of them
 * may have landed. rm->mu held. */
static void remember_unknown(struct remote *rm, const char *id)
{
	snprintf(rm->unknown[rm->n_unknown % UNKNOWN_KEEP], 33, "%s", id);
	rm->n_unknown++;
}

static int unknown_write(struct remote *rm, const char *id)
{
	size_t i;
	int found = 0;

	pthread_mutex_lock(&rm->mu);
	for (i = 0; i < UNKNOWN_KEEP && i < rm->n_unknown; i++)
		found |= strcmp(rm->unknown[i], id) == 0;
	pthread_mutex_unlock(&rm->mu);
	return found;
}

/*
 * One upload of the current image. Returns 0, 1 on a conflict, -1 with
 * err. Called with no lock held; takes io, then st->mu for the image.
 */
static int upload(struct state *st, struct cairn_err *err)
{
	struct remote *rm = st->rm;
	struct state_remote_info info = {0}, head = {0};
	sqlite3_int64 len = 0;
	unsigned char *img;
	long long serial = 0;
	char etag[128], write_id[33], num[32];
	json_t *meta;
	uint64_t gen;
	int exists, rc = -1, r, tries;

	pthread_mutex_lock(&rm->io);
	pthread_mutex_lock(&st->mu);
	img = image_locked(st, &len, err);
	query_int(st->db, "SELECT coalesce(max(serial), 0) FROM stacks", &serial);
	pthread_mutex_lock(&rm->mu);
	gen = rm->gen;
	exists = rm->exists;
	snprintf(etag, sizeof(etag), "%s", rm->etag);
	if (rm->conflict)
		rc = 1;
	pthread_mutex_unlock(&rm->mu);
	pthread_mutex_unlock(&st->mu);
	if (!img || rc == 1)
		goto out;
	random_id(write_id);
	snprintf(num, sizeof(num), "%lld", serial);
	/* Metadata says what the object is before anyone reads the body; the
	 * write id recognises our own retried write after a lost answer. */
	meta = json_pack("{s:s,s:s,s:s,s:s}", "cairn-format", STATE_FORMAT,
			 "cairn-state-version", STATE_VERSION_TEXT, "cairn-serial", num,
			 "cairn-write-id", write_id);
	if (rm->lock_id[0])     /* an empty header value would not survive the trip */
		json_object_set_new(meta, "cairn-lock-id", json_string(rm->lock_id));
	for (tries = 0;; tries++) {
		const char *landed;
		struct cairn_err herr;
		int hr;

		state_remote_info_free(&info);
		r = rm->ops.put(rm->ops.ctx, rm->key, img, (size_t)len, exists ? etag : NULL, meta,
				&info, err);
		if (r != STATE_REMOTE_CONFLICT)
			break;
		/* Our own attempt may have landed with its answer lost (this one,
		 * retried by the client, or an earlier upload that failed so). */
		err_clear(&herr);
		state_remote_info_free(&head);
		hr = rm->ops.head(rm->ops.ctx, rm->key, &head, &herr);
		landed = meta_str(&head, "cairn-write-id");
		if (hr < 0) {
			/* Not known whose write it is: a failed upload, not a
			 * conflict; the next attempt asks again. */
			*err = herr;
			r = -1;
			break;
		}
		if (hr == 0 && landed && strcmp(landed, write_id) == 0) {
			snprintf(info.etag, sizeof(info.etag), "%s", head.etag);
			r = 0;
			break;
		}
		if (hr != 0 || !landed || !unknown_write(rm, landed) || tries >= 3)
			break;
		/* An earlier write of ours is there: write this newer image over it. */
		snprintf(etag, sizeof(etag), "%s", head.etag);
		exists = 1;
	}
	json_decref(meta);
	pthread_mutex_lock(&rm->mu);
	if (r < 0)
		remember_unknown(rm, write_id);
	pthread_mutex_unlock(&rm->mu);
	pthread_mutex_lock(&rm->mu);
	if (r == 0) {
		snprintf(rm->etag, sizeof(rm->etag), "%s", info.etag);
		rm->exists = 1;
		if (gen > rm->uploaded_gen)
			rm->uploaded_gen = gen;
		rm->uploads++;
		rm->bytes += (uint64_t)len;
		rc = 0;
	} else if (r == STATE_REMOTE_CONFLICT) {
		char why[768];

		snprintf(why, sizeof(why), "the state at %s was changed by someone else since this "
			 "run read it (the conditional write got 412 Precondition Failed)", rm->url);
		set_conflict(rm, why);
		rc = 1;
	}
	pthread_cond_broadcast(&rm->cv);
	pthread_mutex_unlock(&rm->mu);
out:
	pthread_mutex_unlock(&rm->io);
	sqlite3_free(img);
	state_remote_info_free(&info);
	state_remote_info_free(&head);
	return rc;
}

/* ---- the remote lock ---- */

struct rholder {
	char id[64], host[256], user[128], operation[64], started[32], ci_job[512];
	long pid;
	int lease_s;
};

/* o's string member name, or def (borrowed). */
static const char *member_or(json_t *o, const char *name, const char *def)
{
	const char *v = json_string_value(json_object_get(o, name));

	return v ? v : def;
}

static void parse_holder(const char *text, size_t len, struct rholder *h)
{
	json_t *o = json_loadb(text, len, 0, NULL);

	memset(h, 0, sizeof(*h));
	snprintf(h->id, sizeof(h->id), "%s", member_or(o, "id", ""));
	snprintf(h->host, sizeof(h->host), "%s", member_or(o, "host", "?"));
	snprintf(h->user, sizeof(h->user), "%s", member_or(o, "user", "?"));
	snprintf(h->operation, sizeof(h->operation), "%s", member_or(o, "operation", "?"));
	snprintf(h->started, sizeof(h->started), "%s", member_or(o, "started", "?"));
	snprintf(h->ci_job, sizeof(h->ci_job), "%s", member_or(o, "ci_job", ""));
	h->pid = (long)json_integer_value(json_object_get(o, "pid"));
	h->lease_s = (int)json_integer_value(json_object_get(o, "lease_seconds"));
	json_decref(o);
}

static void describe_rholder(const struct rholder *h, char *buf, size_t len)
{
	snprintf(buf, len, "pid %ld on host '%.100s' (user %.60s) since %s (operation: %s%s%.200s)",
		 h->pid, h->host, h->user, h->started, h->operation, h->ci_job[0] ? "; CI job " : "",
		 h->ci_job);
}

/* Renews the lock's lease: the same holder record, written If-Match its ETag. */
static void heartbeat(struct remote *rm)
{
	struct state_remote_info info = {0};
	struct cairn_err err;
	char etag[128];
	json_t *meta;
	int r;
	struct strbuf text;

	err_clear(&err);
	pthread_mutex_lock(&rm->io);
	pthread_mutex_lock(&rm->mu);
	snprintf(etag, sizeof(etag), "%s", rm->lock_etag);
	pthread_mutex_unlock(&rm->mu);
	meta = json_pack("{s:s}", "cairn-lock-id", rm->lock_id);
	r = rm->ops.put(rm->ops.ctx, rm->lock_key, rm->lock_body, strlen(rm->lock_body), etag, meta,
			&info, &err);
	json_decref(meta);
	if (r == STATE_REMOTE_CONFLICT) {
		/* Our own renewal may have landed with its answer lost: look. */
		struct rholder h;
		int gr;

		strbuf_init(&text);
		state_remote_info_free(&info);
		gr = rm->ops.get(rm->ops.ctx, rm->lock_key, &text, &info, &err);
		if (gr == 0) {
			parse_holder(text.buf, text.len, &h);
			if (strcmp(h.id, rm->lock_id) == 0)
				r = 0;
		} else if (gr < 0) {
			r = -1;     /* unknown: the next beat tries again */
		}
		strbuf_free(&text);
	}
	pthread_mutex_lock(&rm->mu);
	if (r == 0) {
		snprintf(rm->lock_etag, sizeof(rm->lock_etag), "%s", info.etag);
	} else if (r == STATE_REMOTE_CONFLICT) {
		char why[768];

		snprintf(why, sizeof(why), "the lock %s was taken over by another run while this "
			 "one held it", rm->lock_key);
		rm->locked = 0;
		set_conflict(rm, why);
	}
	/* A failed renewal (network) is tried again at the next beat. */
	pthread_mutex_unlock(&rm->mu);
	pthread_mutex_unlock(&rm->io);
	state_remote_info_free(&info);
}

static void *uploader(void *arg)
{
	struct state *st = arg;
	struct remote *rm = st->rm;

	pthread_mutex_lock(&rm->mu);
	for (;;) {
		int dirty = rm->gen > rm->uploaded_gen && !rm->conflict &&
			    rm->failed_attempt != rm->gen;
		struct timespec until;

		if (rm->locked && time(NULL) >= rm->next_beat) {
			rm->next_beat = time(NULL) + (rm->lease_s / 3 > 0 ? rm->lease_s / 3 : 1);
			pthread_mutex_unlock(&rm->mu);
			heartbeat(rm);
			pthread_mutex_lock(&rm->mu);
			continue;
		}
		if (dirty) {
			struct timespec started;
			struct cairn_err err;
			uint64_t gen;
			int r;

			clock_gettime(CLOCK_MONOTONIC, &started);
			/* Gather: wait until commits stop arriving (a wave has journaled). */
			while (!rm->stopping && ms_since(&rm->last_commit) < GATHER_QUIET_MS &&
			       ms_since(&started) < GATHER_MAX_MS) {
				clock_gettime(CLOCK_REALTIME, &until);
				until.tv_nsec += GATHER_QUIET_MS * 1000000L;
				if (until.tv_nsec >= 1000000000L) {
					until.tv_sec++;
					until.tv_nsec -= 1000000000L;
				}
				pthread_cond_timedwait(&rm->cv, &rm->mu, &until);
			}
			gen = rm->gen;
			pthread_mutex_unlock(&rm->mu);
			err_clear(&err);
			r = upload(st, &err);
			pthread_mutex_lock(&rm->mu);
			rm->attempts++;
			if (r < 0) {
				rm->upload_err = err;
				rm->failed_attempt = gen;
			} else {
				rm->failed_attempt = 0;
			}
			pthread_cond_broadcast(&rm->cv);
			continue;
		}
		if (rm->stopping)
			break;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += 1;
		pthread_cond_timedwait(&rm->cv, &rm->mu, &until);
	}
	pthread_mutex_unlock(&rm->mu);
	return NULL;
}

int state_sync(struct state *st, struct cairn_err *err)
{
	struct remote *rm = st->rm;
	uint64_t target;
	int rc = 0;

	if (!rm)
		return 0;
	pthread_mutex_lock(&rm->mu);
	target = rm->gen;
	if (rm->failed_attempt)
		rm->failed_attempt = 0;     /* a new request: try the store again */
	pthread_cond_broadcast(&rm->cv);
	for (;;) {
		if (rm->conflict) {
			err_set(err, CAIRN_ESTALE, "%s; no new AWS call was started", rm->conflict_msg);
			rc = -1;
			break;
		}
		if (rm->uploaded_gen >= target)
			break;
		if (rm->failed_attempt >= target) {
			*err = rm->upload_err;
			err_prefix(err, "cannot write the state to %s", rm->url);
			rc = -1;
			break;
		}
		pthread_cond_wait(&rm->cv, &rm->mu);
	}
	pthread_mutex_unlock(&rm->mu);
	return rc;
}

int state_finish(struct state *st, struct cairn_err *err)
{
	struct remote *rm = st->rm;
	long long serial = 0;
	char path[64];
	int conflict;

	struct cairn_err xerr;
	char why[1024];

	if (!rm)
		return 0;
	if (state_sync(st, err) == 0)
		return 0;
	pthread_mutex_lock(&rm->mu);
	conflict = rm->conflict;
	pthread_mutex_unlock(&rm->mu);
	/* Whatever stopped the upload, what this run recorded must not be lost
	 * with the working copy: it is kept next to the user. */
	memcpy(why, conflict ? rm->conflict_msg : err->msg, sizeof(why) - 1);
	why[sizeof(why) - 1] = '\0';
	pthread_mutex_lock(&st->mu);
	query_int(st->db, "SELECT coalesce(max(serial), 0) FROM stacks", &serial);
	pthread_mutex_unlock(&st->mu);
	snprintf(path, sizeof(path), "errored-%lld.db", serial);
	err_clear(&xerr);
	if (state_export(st, path, &xerr) < 0) {
		err_set(err, CAIRN_EIO, "%.900s; and this run's state could not be kept: %.900s",
			why, xerr.msg);
		return -1;
	}
	if (conflict)
		err_set(err, CAIRN_ESTALE, "%.900s: cairn started no new AWS call, recorded the calls "
			"in flight, and kept this run's state in '%s' (the state in S3 was left as "
			"the other writer made it); review both, then 'cairn state push %s --force' "
			"to restore it", why, path, path);
	else
		err_set(err, CAIRN_EIO, "%.900s; this run's state is kept in '%s': once the bucket "
			"can be written, 'cairn state push %s' puts it back", why, path, path);
	return -1;
}

void state_remote_stats(struct state *st, uint64_t *uploads, uint64_t *bytes)
{
	*uploads = *bytes = 0;
	if (!st->rm)
		return;
	pthread_mutex_lock(&st->rm->mu);
	*uploads = st->rm->uploads;
	*bytes = st->rm->bytes;
	pthread_mutex_unlock(&st->rm->mu);
}

/* Checks a fetched object before anything uses it. */
static int check_object(const struct remote *rm, const struct strbuf *body,
			const struct state_remote_info *info, struct cairn_err *err)
{
	const char *format = meta_str(info, "cairn-format");
	const char *version = meta_str(info, "cairn-state-version");

	if (!format || strcmp(format, STATE_FORMAT) != 0 || body->len < 100 ||
	    memcmp(body->buf, "SQLite format 3", 16) != 0) {
		err_set(err, CAIRN_EINVAL, "%s is not a cairn state (%s); refusing to touch it",
			rm->url, !format ? "it has no cairn-format metadata"
			: strcmp(format, STATE_FORMAT) ? "its cairn-format metadata is not " STATE_FORMAT
			: "it is not an SQLite database");
		return -1;
	}
	if (version && atoi(version) > STATE_VERSION) {
		err_set(err, CAIRN_EINVAL, "%s was written by a newer cairn (state format %s, this "
			"cairn knows up to %d); upgrade cairn", rm->url, version, STATE_VERSION);
		return -1;
	}
	return 0;
}

/* Fetches the object and loads it into the working copy (holding nothing).
 * Missing: *found = 0 and the working copy is left as it is. */
static int fetch(struct state *st, int *found, struct cairn_err *err)
{
	struct remote *rm = st->rm;
	struct state_remote_info info = {0};
	struct strbuf body;
	char *incoming = xasprintf("%s/incoming.db", rm->dir);
	int r, rc = -1;

	strbuf_init(&body);
	*found = 0;
	pthread_mutex_lock(&rm->io);
	r = rm->ops.get(rm->ops.ctx, rm->key, &body, &info, err);
	pthread_mutex_unlock(&rm->io);
	if (r < 0) {
		err_prefix(err, "cannot read the state %s", rm->url);
		goto out;
	}
	if (r == STATE_REMOTE_NOTFOUND) {
		pthread_mutex_lock(&rm->mu);
		rm->exists = 0;
		rm->etag[0] = '\0';
		pthread_mutex_unlock(&rm->mu);
		rc = 0;
		goto out;
	}
	if (check_object(rm, &body, &info, err) < 0 ||
	    write_file_atomic(incoming, body.buf, body.len, err) < 0)
		goto out;
	pthread_mutex_lock(&st->mu);
	r = replace_locked(st, incoming, err);
	pthread_mutex_unlock(&st->mu);
	unlink(incoming);
	if (r < 0) {
		if (err->code == CAIRN_EINVAL)
			err_set(err, CAIRN_EINVAL, "%s is not a cairn state it can use: %s", rm->url,
				err->msg);
		goto out;
	}
	pthread_mutex_lock(&rm->mu);
	rm->exists = 1;
	snprintf(rm->etag, sizeof(rm->etag), "%s", info.etag);
	pthread_mutex_unlock(&rm->mu);
	*found = 1;
	rc = 0;
out:
	state_remote_info_free(&info);
	strbuf_free(&body);
	free(incoming);
	return rc;
}

static void remove_dir(const char *dir)
{
	static const char *const names[] = { "state.db", "state.db-wal", "state.db-shm",
					     "incoming.db" };
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char *p = xasprintf("%s/%s", dir, names[i]);

		unlink(p);
		free(p);
	}
	rmdir(dir);
}

static void remote_free(struct remote *rm)
{
	if (!rm)
		return;
	if (rm->ops.release)
		rm->ops.release(rm->ops.ctx);
	if (rm->dir)
		remove_dir(rm->dir);
	pthread_mutex_destroy(&rm->io);
	pthread_mutex_destroy(&rm->mu);
	pthread_cond_destroy(&rm->cv);
	free(rm->url);
	free(rm->key);
	free(rm->lock_key);
	free(rm->host);
	free(rm->user);
	free(rm->ci_job);
	free(rm->dir);
	free(rm->lock_body);
	free(rm);
}

struct state *state_open_remote(const struct state_remote *r, int create, struct cairn_err *err)
{
	struct remote *rm = xcalloc(1, sizeof(*rm));
	struct state *st = NULL;
	char *tmpl, *path = NULL;
	int found;

	rm->ops = r->ops;
	rm->url = xstrdup(r->url);
	rm->key = xstrdup(r->key);
	rm->lock_key = xasprintf("%s.lock", r->key);
	rm->host = xstrdup(r->host);
	rm->user = xstrdup(r->user ? r->user : "unknown");
	rm->ci_job = xstrdup(r->ci_job);
	rm->lease_s = r->lease_s > 0 ? r->lease_s : 60;
	pthread_mutex_init(&rm->io, NULL);
	pthread_mutex_init(&rm->mu, NULL);
	pthread_cond_init(&rm->cv, NULL);
	tmpl = xasprintf("%s/cairn-state-XXXXXX", r->tmpdir && *r->tmpdir ? r->tmpdir : "/tmp");
	if (!mkdtemp(tmpl)) {
		err_set(err, CAIRN_EIO, "cannot make a working directory in '%s': %s",
			r->tmpdir ? r->tmpdir : "/tmp", strerror(errno));
		free(tmpl);
		goto fail;
	}
	rm->dir = tmpl;
	path = xasprintf("%s/state.db", rm->dir);
	st = state_open(path, 1, err);
	if (!st)
		goto fail;
	/* The object in the store is what must survive, not this copy. */
	exec_sql(st, "PRAGMA synchronous = OFF", err);
	snprintf(st->host, sizeof(st->host), "%s", r->host);
	st->rm = rm;
	if (fetch(st, &found, err) < 0)
		goto fail;
	if (!found && !create) {
		err_set(err, CAIRN_ENOTFOUND, "no state at %s", rm->url);
		goto fail;
	}
	if (pthread_create(&rm->thread, NULL, uploader, st) != 0) {
		err_set(err, CAIRN_EINTERNAL, "cannot start the state uploader thread");
		goto fail;
	}
	rm->thread_started = 1;
	free(path);
	return st;
fail:
	free(path);
	if (st) {
		st->rm = NULL;
		state_close(st);
	}
	remote_free(rm);
	return NULL;
}

static void remote_close(struct state *st)
{
	struct remote *rm = st->rm;
	struct cairn_err err;

	if (!rm)
		return;
	err_clear(&err);
	if (rm->locked)
		remote_unlock(st, 0, &err);
	else
		state_sync(st, &err);       /* e.g. plan --out's new plan key */
	if (rm->thread_started) {
		pthread_mutex_lock(&rm->mu);
		rm->stopping = 1;
		pthread_cond_broadcast(&rm->cv);
		pthread_mutex_unlock(&rm->mu);
		pthread_join(rm->thread, NULL);
	}
	st->rm = NULL;
	sqlite3_close(st->db);
	st->db = NULL;
	remote_free(rm);
}

/* RFC 1123 ("Sun, 29 Nov 2026 10:00:00 GMT") to unix seconds; -1 if unparsable. */
static int64_t http_time(const char *s)
{
	int64_t t;

	return http_date_parse(s, &t) == 0 ? t : -1;
}

/* A lock nobody renews any more: by the store's own clock (its Date header
 * against the object's Last-Modified), so the hosts' clocks do not matter. */
static int lease_expired(const struct rholder *h, const struct state_remote_info *info,
			 int64_t *age)
{
	int64_t now = http_time(info->date), mod = http_time(info->last_modified);

	*age = now >= 0 && mod >= 0 ? now - mod : 0;
	return now >= 0 && mod >= 0 && h->lease_s > 0 && *age > h->lease_s;
}

static int pid_dead(long pid)
{
	return pid > 0 && kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

/* After the lock is ours: the object may have changed since it was read. */
static int revalidate(struct state *st, struct cairn_err *err)
{
	struct remote *rm = st->rm;
	struct state_remote_info info = {0};
	int r, same, found;

	pthread_mutex_lock(&rm->io);
	r = rm->ops.head(rm->ops.ctx, rm->key, &info, err);
	pthread_mutex_unlock(&rm->io);
	if (r < 0) {
		err_prefix(err, "cannot read the state %s", rm->url);
		state_remote_info_free(&info);
		return -1;
	}
	pthread_mutex_lock(&rm->mu);
	same = r == STATE_REMOTE_NOTFOUND ? !rm->exists : rm->exists && !strcmp(rm->etag, info.etag);
	pthread_mutex_unlock(&rm->mu);
	state_remote_info_free(&info);
	if (same)
		return 0;
	return fetch(st, &found, err);
}

static int remote_lock(struct state *st, const char *stack, const char *operation,
		       int timeout_s, int *took_over, char *warn_msg, struct cairn_err *err)
{
	struct remote *rm = st->rm;
	time_t deadline = time(NULL) + (timeout_s > 0 ? timeout_s : 0);
	struct rholder h;
	char started[32], who[768];
	json_t *body, *meta;
	int rc = -1;

	memset(&h, 0, sizeof(h));
	random_id(rm->lock_id);
	now_iso(started);
	body = json_pack("{s:s,s:s,s:I,s:s,s:s,s:s,s:i,s:s}", "id", rm->lock_id, "host", rm->host,
			 "pid", (json_int_t)getpid(), "user", rm->user, "operation", operation,
			 "started", started, "lease_seconds", rm->lease_s,
			 "ci_job", rm->ci_job ? rm->ci_job : "");
	free(rm->lock_body);
	rm->lock_body = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	meta = json_pack("{s:s}", "cairn-lock-id", rm->lock_id);
	for (;;) {
		struct state_remote_info info = {0}, got = {0};
		struct strbuf text;
		int64_t age = 0;
		int r, dead, expired;

		pthread_mutex_lock(&rm->io);
		r = rm->ops.put(rm->ops.ctx, rm->lock_key, rm->lock_body, strlen(rm->lock_body), NULL,
				meta, &info, err);
		pthread_mutex_unlock(&rm->io);
		if (r == 0) {
			snprintf(rm->lock_etag, sizeof(rm->lock_etag), "%s", info.etag);
			state_remote_info_free(&info);
			break;
		}
		state_remote_info_free(&info);
		if (r < 0) {
			err_prefix(err, "cannot take the lock %s.lock", rm->url);
			goto out;
		}
		strbuf_init(&text);
		pthread_mutex_lock(&rm->io);
		r = rm->ops.get(rm->ops.ctx, rm->lock_key, &text, &got, err);
		pthread_mutex_unlock(&rm->io);
		if (r < 0) {
			err_prefix(err, "cannot read the lock %s.lock", rm->url);
			strbuf_free(&text);
			state_remote_info_free(&got);
			goto out;
		}
		if (r == STATE_REMOTE_NOTFOUND) {   /* released meanwhile: try again */
			strbuf_free(&text);
			state_remote_info_free(&got);
			continue;
		}
		parse_holder(text.buf, text.len, &h);
		strbuf_free(&text);
		if (strcmp(h.id, rm->lock_id) == 0) {
			/* Our own write landed and its answer was lost: the lock is ours. */
			snprintf(rm->lock_etag, sizeof(rm->lock_etag), "%s", got.etag);
			state_remote_info_free(&got);
			break;
		}
		dead = strcmp(h.host, rm->host) == 0 && pid_dead(h.pid);
		expired = lease_expired(&h, &got, &age);
		if (dead || expired) {
			pthread_mutex_lock(&rm->io);
			r = rm->ops.put(rm->ops.ctx, rm->lock_key, rm->lock_body, strlen(rm->lock_body),
					got.etag, meta, &info, err);
			pthread_mutex_unlock(&rm->io);
			if (r == 0) {
				snprintf(rm->lock_etag, sizeof(rm->lock_etag), "%s", info.etag);
				state_remote_info_free(&info);
				state_remote_info_free(&got);
				*took_over = 1;
				if (warn_msg) {
					describe_rholder(&h, who, sizeof(who));
					if (dead)
						snprintf(warn_msg, 512, "took over the lock of %s held by "
							 "%.380s: that process no longer exists",
							 rm->url, who);
					else
						snprintf(warn_msg, 512, "took over the lock of %s held by "
							 "%.340s: its lease of %d s expired %lld s "
							 "ago", rm->url, who, h.lease_s,
							 (long long)(age - h.lease_s));
				}
				break;
			}
			state_remote_info_free(&info);
			if (r < 0) {
				state_remote_info_free(&got);
				err_prefix(err, "cannot take over the lock %s.lock", rm->url);
				goto out;
			}
			/* Someone else changed it first: look again. */
		}
		state_remote_info_free(&got);
		if (time(NULL) >= deadline) {
			describe_rholder(&h, who, sizeof(who));
			err_set(err, CAIRN_ELOCKED, "stack '%s' (state %s) is locked by %s%s", stack,
				rm->url, who, timeout_s > 0 ? "; gave up waiting"
				: "; use --lock-timeout to wait for it");
			goto out;
		}
		sleep(1);
	}
	pthread_mutex_lock(&rm->mu);
	rm->locked = 1;
	rm->next_beat = time(NULL) + (rm->lease_s / 3 > 0 ? rm->lease_s / 3 : 1);
	pthread_mutex_unlock(&rm->mu);
	if (revalidate(st, err) < 0) {
		struct cairn_err uerr;

		err_clear(&uerr);
		remote_unlock(st, 0, &uerr);
		goto out;
	}
	if (*took_over) {
		/* Fencing: rewrite the state so the old holder's next write (If-Match
		 * the ETag it read) gets 412. */
		mark_dirty(st);
		if (state_sync(st, err) < 0) {
			struct cairn_err uerr;

			err_clear(&uerr);
			remote_unlock(st, 0, &uerr);
			goto out;
		}
	}
	rc = 0;
out:
	json_decref(meta);
	return rc;
}

/* Deletes the lock if it is still ours (force: whoever holds it). */
static int remote_unlock(struct state *st, int force, struct cairn_err *err)
{
	struct remote *rm = st->rm;
	struct state_remote_info info = {0};
	struct cairn_err ferr;
	struct strbuf text;
	struct rholder h;
	int rc = 0, r, was_locked;

	err_clear(&ferr);
	if (!force)
		rc = state_finish(st, &ferr);
	pthread_mutex_lock(&rm->mu);
	was_locked = rm->locked;
	rm->locked = 0;
	pthread_mutex_unlock(&rm->mu);
	if (force || was_locked) {
		strbuf_init(&text);
		pthread_mutex_lock(&rm->io);
		r = rm->ops.get(rm->ops.ctx, rm->lock_key, &text, &info, err);
		if (r == 0) {
			/* Ours, and still the very object we read: a takeover in between
			 * makes the delete fail instead of removing the new holder's lock. */
			parse_holder(text.buf, text.len, &h);
			if (force || strcmp(h.id, rm->lock_id) == 0)
				r = rm->ops.del(rm->ops.ctx, rm->lock_key, force ? NULL : info.etag, err);
			if (r == STATE_REMOTE_CONFLICT)
				r = 0;
		}
		pthread_mutex_unlock(&rm->io);
		strbuf_free(&text);
		state_remote_info_free(&info);
		if (r < 0) {
			err_prefix(err, "cannot release the lock %s.lock", rm->url);
			rc = -1;
		}
	}
	if (ferr.code != CAIRN_OK)
		*err = ferr;
	return rc < 0 || ferr.code != CAIRN_OK ? -1 : 0;
}

static int remote_lock_info(struct state *st, char *buf, size_t len, struct cairn_err *err)
{
	struct remote *rm = st->rm;
	struct state_remote_info info = {0};
	struct strbuf text;
	struct rholder h;
	int r;

	strbuf_init(&text);
	pthread_mutex_lock(&rm->io);
	r = rm->ops.get(rm->ops.ctx, rm->lock_key, &text, &info, err);
	pthread_mutex_unlock(&rm->io);
	if (r == 0) {
		parse_holder(text.buf, text.len, &h);
		describe_rholder(&h, buf, len);
	} else if (len) {
		buf[0] = '\0';
	}
	strbuf_free(&text);
	state_remote_info_free(&info);
	if (r < 0)
		err_prefix(err, "cannot read the lock %s.lock", rm->url);
	return r < 0 ? -1 : 0;
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
	mark_dirty(st);
	rc = 0;
out:
	sqlite3_finalize(s);
	pthread_mutex_unlock(&st->mu);
	return rc;
}
