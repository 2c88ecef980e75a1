/*
 * exec_ui: what the commands that change things (apply, destroy, refresh,
 * import) share: the stack lock, SIGINT handling, the confirmation prompt,
 * progress lines with elapsed times, the final summary and the outputs.
 */
#ifndef CAIRN_EXEC_UI_H
#define CAIRN_EXEC_UI_H

#include <signal.h>
#include <jansson.h>

#include "cmd.h"
#include "../engine/exec.h"

/*
 * SIGINT: the first sets the stop flag (start nothing new), the second
 * exits at once with 130 (the journal keeps the next run safe).
 */
void ui_signals_install(void);
const volatile sig_atomic_t *ui_stop_flag(void);
const volatile sig_atomic_t *ui_cancel_flag(void);

/* Takes the stack's lock, printing the takeover warning or the holder
 * message. Returns 0, or -1 (printed). */
int ui_lock(struct state *st, const char *stack, const char *operation, int timeout_s);
/* Releases it; -1 (printed) when a remote state's last write failed or
 * met a conflict (then the run must exit 1). */
int ui_unlock(struct state *st, const char *stack);

/* Progress printer: exec_opts.on_event = ui_progress_event, event_ctx = the
 * printer. A thread prints "Still creating... [10s elapsed]" lines. */
struct ui_progress;
struct ui_progress *ui_progress_new(void);
void ui_progress_free(struct ui_progress *p);
void ui_progress_event(void *ctx, const struct exec_event *ev);

/* The apply/destroy driver shared by cmd_apply and cmd_destroy. */
struct ui_apply_args {
	int destroy;
	int auto_approve;
	int parallelism;
	int lock_timeout;
	const char *plan_file;          /* apply PLANFILE, or NULL */
	const char *const *targets; size_t n_targets;
	const struct stack_args *stack; /* used when plan_file is NULL */
};
/* Runs the whole command; returns the exit code (0, 1, 130). */
int ui_apply(const struct ui_apply_args *a, const struct global_opts *g);

/* `cairn apply` / `cairn destroy`: parses their options and runs ui_apply. */
int ui_apply_main(int argc, char **argv, const struct global_opts *g, int destroy);

/* Parses a non-negative integer option value; -1 if it is not one. */
int ui_parse_count(const char *s);

/* Records outputs (NAME -> {"value","sensitive"}) unless they are unchanged:
 * every state write bumps the serial, and saved plans must not go stale
 * because of a no-op. */
int ui_store_outputs(struct state *st, const char *stack, json_t *outputs,
		     struct cairn_err *err);

/* Prints "Outputs:\n\nname = value" (sensitive as "(sensitive)"). */
void ui_print_outputs(json_t *outputs);

#endif
