/*
 * state: the SQLite state store (SPEC §5).
 *
 * One file may hold several stacks. Every mutating call runs in its own
 * transaction and bumps the stack's serial, so an apply that dies half-way
 * loses nothing it recorded. Calls on one handle are serialized by its
 * mutex. A state kept in a remote object store (state_open_remote) runs
 * one thread of its own that uploads commits and renews the lock.
 */
#ifndef CAIRN_STATE_H
#define CAIRN_STATE_H

#include <stdint.h>
#include <sys/types.h>
#include <jansson.h>

#include "../lib/util.h"

struct state;

/* One recorded resource. All members owned by the struct. */
struct state_resource {
	char *name;
	char *type;
	char *id;               /* physical id */
	json_t *attrs;          /* attribute object as the provider returned it */
	json_t *deps;           /* array of resource names it depends on */
	int schema_version;
};
void state_resource_free(struct state_resource *r);   /* frees members, not r */

/* What state_put records: a view whose members are all borrowed (from a
 * plan, a provider's answer, an owned record through state_view). */
struct state_view {
	const char *name;
	const char *type;
	const char *id;
	json_t *attrs;
	json_t *deps;           /* NULL: none */
	int schema_version;
};
/* The view of an owned record (borrows r's members). */
struct state_view state_view(const struct state_resource *r);

/* Per-stack metadata. */
struct state_stack {
	int64_t serial;         /* grows with every change; 0 for a new stack */
	char lineage[64];       /* random id made when the stack is first recorded */
};

/*
 * Opens (creating with mode 0600 if create is set and it does not exist)
 * and migrates the store. Refuses, without modifying it, a file that is
 * not a cairn state or was written by a newer cairn.
 */
struct state *state_open(const char *path, int create, struct cairn_err *err);
void state_close(struct state *st);

/* Metadata of a stack; a stack never recorded gives serial 0 and an empty lineage. */
int state_stack_get(struct state *st, const char *stack, struct state_stack *out,
		    struct cairn_err *err);

/* All managed resources of a stack sorted by name: *out is an owned array
 * of n entries (free each with state_resource_free, then free(*out)).
 * Data sources (recorded as "data.NAME") are left out: they are not
 * planned, refreshed or destroyed. */
int state_list(struct state *st, const char *stack, struct state_resource **out, size_t *n,
	       struct cairn_err *err);
/* The data sources recorded for a stack ("data.NAME"), as state_list. */
int state_list_data(struct state *st, const char *stack, struct state_resource **out, size_t *n,
		    struct cairn_err *err);
/* One resource; returns 0 and sets found=0 when absent. */
int state_get(struct state *st, const char *stack, const char *name,
	      struct state_resource *out, int *found, struct cairn_err *err);

/* Inserts or replaces one resource, bumps the serial, one transaction. */
int state_put(struct state *st, const char *stack, const struct state_view *r,
	      struct cairn_err *err);
/* Forgets one resource, bumps the serial. Absent is not an error. */
int state_rm(struct state *st, const char *stack, const char *name, struct cairn_err *err);

/*
 * Renames a recorded resource from -> to (addresses), and from in the
 * dependencies of the others, bumps the serial; one transaction. Fails
 * (CAIRN_ENOTFOUND) when from is absent, (CAIRN_EINVAL) when to exists.
 */
int state_mv(struct state *st, const char *stack, const char *from, const char *to,
	     struct cairn_err *err);

/* Stack outputs: an object NAME -> {"value": V, "sensitive": B}. */
int state_outputs_put(struct state *st, const char *stack, json_t *outputs, struct cairn_err *err);
int state_outputs_get(struct state *st, const char *stack, json_t **out, struct cairn_err *err);

/*
 * The lock. state_lock takes the stack's lock for this process (host, pid,
 * operation, time). If held by a live process it retries until timeout_s
 * (0: once) then fails with CAIRN_ELOCKED and a message naming the holder
 * ("... locked by pid 123 on host 'ci-1' since 2026-...; operation apply").
 * A holder on this host whose pid no longer exists is taken over; then
 * *took_over is set and warn_msg (if not NULL, size 512) says whose lock.
 * Remote state: the lock object KEY.lock, created with If-None-Match: *;
 * a holder whose lease has expired by the store's clock is taken over too,
 * and the takeover rewrites the state object so the old holder's next
 * write fails (fencing).
 */
int state_lock(struct state *st, const char *stack, const char *operation, int timeout_s,
	       int *took_over, char *warn_msg, struct cairn_err *err);
/* Releases the lock; for a remote state, after state_finish (whose error it returns). */
int state_unlock(struct state *st, const char *stack, struct cairn_err *err);
/* Describes the current holder into buf (empty if unlocked). */
int state_lock_info(struct state *st, const char *stack, char *buf, size_t len,
		    struct cairn_err *err);
int state_force_unlock(struct state *st, const char *stack, struct cairn_err *err);

/*
 * The journal of pending operations. An intent is written (and committed)
 * before each AWS create/delete call and closed after its result is
 * recorded. Pending entries left by a killed run are found by the next one.
 * intent: borrowed JSON (e.g. the desired attributes).
 */
int state_journal_begin(struct state *st, const char *stack, const char *name,
			const char *type, const char *op, json_t *intent, int64_t *jid,
			struct cairn_err *err);
int state_journal_end(struct state *st, int64_t jid, struct cairn_err *err);
/* Pending entries: array of {"jid","name","type","op","intent","started"} (new ref). */
int state_journal_pending(struct state *st, const char *stack, json_t **out,
			  struct cairn_err *err);

/* Apply history: one row per run. summary: borrowed JSON (counts, changes). */
int state_history_add(struct state *st, const char *stack, const char *command,
		      const char *result, json_t *summary, struct cairn_err *err);
/* Newest first, at most limit rows: array of {"time","user","host","command","result","summary"}. */
int state_history(struct state *st, const char *stack, int limit, json_t **out,
		  struct cairn_err *err);

/*
 * The stack's key for sealing secrets in saved plan files (planfile.c):
 * a saved plan only applies against the state it was made from, so the
 * key lives there (mode 0600) and never in the plan. With create, a key
 * is made on first use; without, *found says whether one exists. Does not
 * change the serial.
 */
#define STATE_PLAN_KEY_LEN 32
int state_plan_key(struct state *st, const char *stack, int create,
		   unsigned char key[STATE_PLAN_KEY_LEN], int *found, struct cairn_err *err);

/*
 * Secrets sealed inside the store (README "State encryption"). With a
 * state key set, every attribute that sensitive() names (data: of a data
 * source "data.NAME"), every output value, every journal intent and the
 * plan keys are written sealed (AES-256-GCM, lib/seal.h) and opened again
 * when read, so the file, its S3 object and `state pull` hold none of
 * them in clear. Refuses (CAIRN_EINVAL, nothing written) a store whose
 * recorded key check matches neither key nor previous. A store that has
 * none yet records it, and seals what it holds in clear, at its first
 * write (state_lock is one: any run that locks seals the whole store). Without a key, a read
 * that meets a sealed value fails (CAIRN_EINVAL) naming what to set.
 * sealing and its members are borrowed (copied).
 */
struct state_sealing {
	const unsigned char *key;      /* SEAL_KEY_LEN (32) bytes: the state key; NULL: none */
	const char *kind;              /* "key" (CAIRN_STATE_KEY) or "kms" (a KMS data key) */
	const char *kms_data_key;      /* kms: the data key as KMS wrapped it (base64), else NULL */
	const char *kms_key_id;        /* kms: the KMS key that wraps it, else NULL */
	int (*sensitive)(const char *type, int data, const char *attr);
	/* The key the store may still be sealed under (rotation), or NULL. A
	 * store sealed under it is opened with it and rewritten whole, sealed
	 * under key (or in clear when key is NULL), at the first write. */
	const unsigned char *previous;
};
int state_seal(struct state *st, const struct state_sealing *sealing, struct cairn_err *err);
/* The cairn_meta keys (state_meta_get) that say how a store is sealed. */
#define STATE_META_SEAL_CHECK "seal_check"               /* base64 HMAC of a constant */
#define STATE_META_SEAL_KIND "seal_kind"                 /* "key" or "kms" */
#define STATE_META_SEAL_KMS_DATA_KEY "seal_kms_data_key" /* base64 CiphertextBlob */
#define STATE_META_SEAL_KMS_KEY_ID "seal_kms_key_id"

/*
 * Small facts kept beside the stacks (e.g. "account_id/STACK", the account
 * the stack was applied in, for an offline plan). Not part of any stack:
 * no serial changes. *value: owned string, NULL when absent.
 */
int state_meta_get(struct state *st, const char *key, char **value, struct cairn_err *err);
int state_meta_put(struct state *st, const char *key, const char *value,
		   struct cairn_err *err);

/* Stacks recorded in the file (array of names, new ref). */
int state_stacks(struct state *st, json_t **out, struct cairn_err *err);

/*
 * The whole store as a local SQLite state file at path (mode 0600,
 * replaced atomically): `state pull`, and the errored copy of §5.1.
 */
int state_export(struct state *st, const char *path, struct cairn_err *err);
/*
 * Replaces the whole store with the state file at path (`state push`),
 * which is checked like any state file (foreign or newer: refused). The
 * caller holds the lock and has compared lineage and serial.
 */
int state_replace(struct state *st, const char *path, struct cairn_err *err);

/* ---- team state in a remote object store (SPEC §5.1) ----
 *
 * The state layer knows an object store only through these callbacks;
 * cmd/ implements them over S3 and hands them in. The whole SQLite image
 * is one object KEY; the lock is the object KEY.lock. Every write is
 * conditional on the ETag last read, so a lost update is impossible.
 */
struct state_remote_info {
	char etag[128];          /* as the store sends it, quotes included */
	char date[64];           /* the store's Date header (its clock, RFC 1123) */
	char last_modified[64];  /* RFC 1123 */
	json_t *meta;            /* owned: user metadata, lowercase keys; may be NULL */
};
void state_remote_info_free(struct state_remote_info *i);

enum { STATE_REMOTE_NOTFOUND = 1, STATE_REMOTE_CONFLICT = 2 };

struct state_remote_ops {
	/* 0 with body (appended) and info; STATE_REMOTE_NOTFOUND; or -1 with err. */
	int (*get)(void *ctx, const char *key, struct strbuf *body, struct state_remote_info *info,
		   struct cairn_err *err);
	/* Like get, without the body. */
	int (*head)(void *ctx, const char *key, struct state_remote_info *info,
		    struct cairn_err *err);
	/* Conditional write: if_match is the ETag the object must still have,
	 * or NULL for "must not exist yet" (If-None-Match: *). meta: borrowed
	 * object of strings. 0 with info.etag; STATE_REMOTE_CONFLICT when the
	 * condition failed (412); -1 with err. */
	int (*put)(void *ctx, const char *key, const void *data, size_t len, const char *if_match,
		   json_t *meta, struct state_remote_info *info, struct cairn_err *err);
	/* Deletes the object, if it still has the ETag if_match (NULL: whatever
	 * it holds); absent is success; STATE_REMOTE_CONFLICT when it changed. */
	int (*del)(void *ctx, const char *key, const char *if_match, struct cairn_err *err);
	void (*release)(void *ctx);   /* called once by state_close; may be NULL */
	void *ctx;
};

struct state_remote {
	struct state_remote_ops ops;  /* copied; ops.release(ctx) is called even when opening fails */
	const char *url;              /* "s3://bucket/key", for messages */
	const char *key;              /* the state object; the lock is KEY.lock */
	const char *host;             /* who we are, for the lock */
	const char *user;
	const char *ci_job;           /* CI job URL or id, or NULL */
	int lease_s;                  /* lock lease; renewed every lease_s / 3 while held */
	const char *tmpdir;           /* where the private working copy is made */
};

/*
 * Opens the state kept in a remote object. The object is fetched, its
 * metadata and SQLite header checked (a foreign or newer object is refused
 * and left untouched), and copied into a private working file that every
 * state_* call uses as for a local state. Each commit is then uploaded
 * (in the background, coalesced) with a conditional write; state_sync
 * waits for it. A missing object is an empty state with create, else
 * CAIRN_ENOTFOUND. On a 412 the store is left alone from then on: see
 * state_finish.
 */
struct state *state_open_remote(const struct state_remote *r, int create, struct cairn_err *err);

/*
 * Waits until every commit made so far is in the remote store (no-op for
 * a local state). The executor calls it before each AWS call, so no create
 * is sent before its journaled intent is acknowledged; intents committed
 * together (a wave of the executor) go up in one write. -1 with err after
 * a conflict (someone else wrote the state, or took the lock over) or when
 * the store cannot be written: then no new AWS call must start.
 */
int state_sync(struct state *st, struct cairn_err *err);

/*
 * Ends a run's writes (state_unlock calls it): uploads what is left. After
 * a conflict nothing is uploaded; the working copy is kept as
 * errored-SERIAL.db in the current directory and -1 returned with a
 * message that names it. No-op for a local state.
 */
int state_finish(struct state *st, struct cairn_err *err);

/* Remote writes so far: uploads of the state object and their bytes. */
void state_remote_stats(struct state *st, uint64_t *uploads, uint64_t *bytes);

#endif
