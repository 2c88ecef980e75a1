/*
 * state: the SQLite state store (SPEC §5).
 *
 * One file may hold several stacks. Every mutating call runs in its own
 * transaction and bumps the stack's serial, so an apply that dies half-way
 * loses nothing it recorded. A state handle is used by one thread at a time
 * (the executor serializes its writes through one thread or a mutex).
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

/* All resources of a stack sorted by name: *out is an owned array of n entries
 * (free each with state_resource_free, then free(*out)). */
int state_list(struct state *st, const char *stack, struct state_resource **out, size_t *n,
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
 */
int state_lock(struct state *st, const char *stack, const char *operation, int timeout_s,
	       int *took_over, char *warn_msg, struct cairn_err *err);
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
 * Small facts kept beside the stacks (e.g. "account_id/STACK", the account
 * the stack was applied in, for an offline plan). Not part of any stack:
 * no serial changes. *value: owned string, NULL when absent.
 */
int state_meta_get(struct state *st, const char *key, char **value, struct cairn_err *err);
int state_meta_put(struct state *st, const char *key, const char *value,
		   struct cairn_err *err);

/* Stacks recorded in the file (array of names, new ref). */
int state_stacks(struct state *st, json_t **out, struct cairn_err *err);

#endif
