/*
 * exec: carries a plan out (SPEC §2, §5) from the plan alone.
 *
 * Every change becomes one or two operations (create, update, delete; a
 * replace is a delete and a create, ordered by create_before_destroy) in a
 * graph: creates and updates after what they depend on, deletes after
 * every resource that depends on them. A bounded pool of worker threads
 * runs each operation as soon as its predecessors are done. Each success
 * is committed to the state at once, in its own transaction; each create
 * and delete is journaled before its call, so exec_recover can find and
 * adopt what a killed run left behind. A failure skips only what depends
 * on it; a stop request starts nothing new and lets in-flight calls end.
 */
#ifndef CAIRN_EXEC_H
#define CAIRN_EXEC_H

#include <signal.h>
#include <stddef.h>
#include <jansson.h>

#include "../lib/util.h"

struct plan;
struct state;
struct aws_client;
struct resource_ops;

enum exec_op { EXEC_CREATE, EXEC_UPDATE, EXEC_DELETE, EXEC_READ };
const char *exec_op_name(enum exec_op op);        /* "create", "update", ... */

enum exec_event_kind {
	EXEC_EV_START,      /* the operation's first call is about to go out */
	EXEC_EV_DONE,       /* confirmed by AWS and recorded; id set */
	EXEC_EV_FAILED,     /* err set */
	EXEC_EV_SKIPPED,    /* not run because cause failed or was skipped */
	EXEC_EV_ADOPTED,    /* recovery: a journaled create found in AWS and recorded */
	EXEC_EV_GONE,       /* recovery / refresh: no longer in AWS, removed from the state */
	EXEC_EV_DRIFT,      /* refresh: recorded attributes changed outside cairn; changed set */
	EXEC_EV_PROGRESS    /* a long wait goes on (provider's waiter); name and msg set */
};

/* One progress event. Every pointer is borrowed for the callback's duration. */
struct exec_event {
	enum exec_event_kind kind;
	enum exec_op op;
	const char *name;
	const char *type;
	const char *id;                 /* physical id when known, else NULL */
	int deposed;                    /* the old object of a create_before_destroy replace */
	const struct cairn_err *err;    /* EXEC_EV_FAILED */
	const char *cause;              /* EXEC_EV_SKIPPED: the resource it waited for */
	json_t *changed;                /* EXEC_EV_DRIFT: array of attribute names */
	const char *msg;                /* EXEC_EV_PROGRESS: "still waiting for ... (30s
					 * elapsed, status: ...)" */
};

struct exec_opts {
	struct state *st;               /* borrowed; the executor serializes its use */
	struct aws_client *aws;         /* borrowed; handed to providers */
	const char *stack;              /* borrowed: the stack name (exec_run uses the plan's) */
	int parallelism;                /* operations at once; < 1 means 1 */
	const char *account_id;         /* ${aws.account_id}; borrowed, NULL if not needed */
	/* Resource types (cmd passes provider_lookup; tests pass fakes). */
	const struct resource_ops *(*lookup)(const char *type);
	/* Nonzero: start no new operation (first SIGINT). May be NULL. */
	const volatile sig_atomic_t *stop;
	/* Nonzero: providers' waiting loops give up (provider_ctx.cancel). May be NULL. */
	const volatile sig_atomic_t *cancel;
	void (*sleep_ms)(long ms);      /* provider_ctx.sleep_ms; NULL: nanosleep */
	/* Progress; called from worker threads, never two at once. May be NULL. */
	void (*on_event)(void *ctx, const struct exec_event *ev);
	void *event_ctx;
};

/* What happened to one operation (exec_result.ops). All members owned. */
struct exec_report {
	char *name;
	char *type;
	enum exec_op op;
	int deposed;
	enum { EXEC_R_DONE, EXEC_R_FAILED, EXEC_R_SKIPPED, EXEC_R_NOT_STARTED } result;
	struct cairn_err err;           /* EXEC_R_FAILED */
	char *cause;                    /* EXEC_R_SKIPPED: what it waited for; may be NULL */
};

struct exec_result {
	size_t added, changed, destroyed;   /* successful creates, updates, deletes */
	size_t failed, skipped, not_started;
	int interrupted;                    /* the stop flag ended the run early */
	size_t in_flight_at_stop;           /* operations running when stop was seen */
	struct exec_report *ops; size_t n_ops;   /* in plan order; owned */
};
void exec_result_free(struct exec_result *r);     /* frees members, not r */

/*
 * Carries out every change of p (noops need nothing). Returns 0 when the
 * run happened, whatever each operation's outcome (see res); -1 with err
 * only when nothing could start (bad plan, unknown type, state error).
 * res is filled either way (free it with exec_result_free).
 */
int exec_run(const struct plan *p, const struct exec_opts *o, struct exec_result *res,
	     struct cairn_err *err);

/* True if the plan's configs or outputs use ${aws.account_id}. */
int exec_needs_account_id(const struct plan *p);

/*
 * Resolves the journal entries a killed run of o->stack left pending:
 * a create is looked for with its type's find and adopted into the state;
 * a delete is confirmed with a read (gone: removed from the state), and
 * the old object of an interrupted create_before_destroy replace is
 * deleted. Returns -1 with err when an entry could not be resolved (the
 * caller must not plan: a create could be duplicated); the entry stays
 * pending for the next run.
 */
int exec_recover(const struct exec_opts *o, struct cairn_err *err);

/*
 * Reads every resource of o->stack recorded in the state back from AWS
 * (refresh_read, o->parallelism reads at once) and records what it reads
 * (gone: removed). Reports each change as an event; a change only of
 * attributes the resource's lifecycle.ignore_changes names is recorded
 * but is not drift. ignore: NAME -> array of attribute names (borrowed,
 * may be NULL). *n_drift: resources that changed or vanished. Returns 0,
 * or -1 with err (nothing recorded when a read failed).
 */
int exec_refresh(const struct exec_opts *o, json_t *ignore, size_t *n_drift,
		 struct cairn_err *err);

/*
 * Evaluates the plan's outputs against the resources recorded in st:
 * a new object NAME -> {"value": V, "sensitive": B}. Outputs that are not
 * known (a resource failed or is absent) are left out. NULL with err on an
 * evaluation error.
 */
json_t *exec_outputs(const struct plan *p, struct state *st, const char *account_id,
		     struct cairn_err *err);

#endif
