/*
 * run: the engine's whole sequences, one function per command that changes
 * or reads the world (STYLE 13: the engine owns every sequence of steps).
 *
 *   run_plan     plan against the state (read-only; no lock)
 *   run_apply    lock -> recover -> unseal / stale check (saved plan) or
 *                plan -> show -> confirm -> exec -> history -> outputs
 *   run_destroy  run_apply of the deletion plan
 *   run_refresh  lock -> recover -> read everything back -> outputs
 *   run_import   lock -> read the given id (no prior record) -> record
 *
 * cmd/ sets up a struct run_env once (state, AWS client, registry, signal
 * flags), parses options, and renders what the callbacks report. Nothing
 * here prints.
 */
#ifndef CAIRN_RUN_H
#define CAIRN_RUN_H

#include <signal.h>
#include <stddef.h>
#include <jansson.h>

#include "../lib/util.h"
#include "exec.h"

struct plan;
struct stack;
struct state;
struct aws_client;
struct resource_ops;
struct data_ops;

struct run_env {
	struct state *st;               /* borrowed; NULL only for run_plan (no state yet) */
	struct aws_client *aws;         /* borrowed, opaque: handed to providers; may be
					 * NULL for an offline run_plan */
	const char *region;             /* ${aws.region}; NULL: the stack's */
	/* The providers' registry (required) and the account-id resolver
	 * (${aws.account_id}; may be NULL: unknown). */
	const struct resource_ops *(*lookup)(const char *type);
	const char *(*account_id)(void *arg, struct cairn_err *err);
	void *account_arg;
	/* Data source types (plan_opts.data_lookup); may be NULL: a stack with
	 * data sources then cannot be planned. */
	const struct data_ops *(*data_lookup)(const char *type);
	const volatile sig_atomic_t *stop;     /* first SIGINT: start nothing new */
	const volatile sig_atomic_t *cancel;   /* providers stop waiting */
	void (*sleep_ms)(long ms);      /* provider waits; NULL: nanosleep */
	int parallelism;                /* operations / reads at once; < 1: 10 reads, 1 op */
	int lock_timeout;               /* seconds to wait for the stack's lock */

	/* Callbacks (each may be NULL; ctx is ui). */
	void *ui;
	/* Progress of operations, recovery and refresh (exec_opts.on_event). */
	void (*on_event)(void *ui, const struct exec_event *ev);
	/* A line of progress worth showing, e.g. still waiting for the lock. */
	void (*on_info)(void *ui, const char *msg);
	/* A warning worth showing, e.g. a taken-over stale lock. */
	void (*on_warning)(void *ui, const char *msg);
	/* run_apply / run_destroy: the plan about to be carried out. */
	void (*on_plan)(void *ui, const struct plan *p);
	/* run_apply / run_destroy, when the plan has changes: 0 to go on, or
	 * the exit code to stop with (1 refused, 130 interrupted); NULL: go on. */
	int (*confirm)(void *ui, const struct plan *p);
};

/* Why a run failed (run_result.failed_at), for the hint cmd/ prints. */
enum run_stage {
	RUN_OK,
	RUN_AT_SETUP,       /* lock, plan file, stack: nothing was done */
	RUN_AT_RECOVER,     /* a killed run's journal could not be resolved */
	RUN_AT_PLAN,        /* planning (or the saved plan's checks) */
	RUN_AT_CONFIRM,     /* refused or interrupted at the prompt (code says which) */
	RUN_AT_EXEC,        /* the executor could not start */
	RUN_AT_RECORD       /* history or outputs could not be written */
};

struct run_result {
	enum run_stage failed_at;
	int code;                       /* RUN_AT_CONFIRM: the confirm callback's code */
	struct plan *plan;              /* the plan carried out; owned (run_result_free) */
	int executed;                   /* the plan had changes and exec ran */
	struct exec_result exec;        /* when executed */
	json_t *outputs;                /* NAME -> {"value","sensitive"} recorded; owned */
	size_t n_drift;                 /* run_refresh: resources changed outside cairn */
	json_t *imported;               /* run_import: the attributes recorded; owned */
};
void run_result_free(struct run_result *r);   /* frees members, not r */

struct run_args {
	const struct stack *stack;      /* borrowed; NULL with plan (saved plan) */
	struct plan *saved;             /* apply PLANFILE: stolen, sealed as loaded */
	const char *const *targets; size_t n_targets;
	int refresh;                    /* run_plan: read the state's resources first */
};

/*
 * Each returns 0 when the sequence ran to its end (run_apply also when
 * some operation failed: see res->exec), or -1 with err and res->failed_at.
 * res is filled either way; free it with run_result_free.
 */
int run_plan(const struct run_env *env, const struct run_args *a, struct run_result *res,
	     struct cairn_err *err);
int run_apply(const struct run_env *env, const struct run_args *a, struct run_result *res,
	      struct cairn_err *err);
int run_destroy(const struct run_env *env, const struct run_args *a, struct run_result *res,
		struct cairn_err *err);
int run_refresh(const struct run_env *env, const struct stack *stack, struct run_result *res,
		struct cairn_err *err);
/* Adopts the existing resource ID as the stack's resource NAME: the type's
 * read with no prior; not found is CAIRN_ENOTFOUND "'ID' not found". */
int run_import(const struct run_env *env, const struct stack *stack, const char *name,
	       const char *id, struct run_result *res, struct cairn_err *err);

/* Records outputs unless unchanged (every state write bumps the serial, and
 * saved plans must not go stale because of a no-op). */
int run_store_outputs(struct state *st, const char *stack, json_t *outputs,
		      struct cairn_err *err);

#endif
