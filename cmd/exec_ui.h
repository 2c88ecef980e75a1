/*
 * exec_ui: what the commands that change things (apply, destroy, refresh,
 * import) share: the run environment, SIGINT handling, the confirmation prompt,
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

/* apply / destroy: parses their options into r (a PLANFILE is loaded and
 * NEED_STACK dropped); returns -1 to go on, else the exit code. */
int ui_apply_parse(int argc, char **argv, struct cmd_run *r, int destroy);
/* Runs run_apply / run_destroy over what main set up; returns the exit code
 * (0, 1, 130). */
int ui_apply(struct cmd_run *r, int destroy);

/* Parses a non-negative integer option value; -1 if it is not one. */
int ui_parse_count(const char *s);

/* The engine's run environment as every command sets it up: the registry,
 * the account-id resolver, the signal flags, lock warnings to stderr,
 * progress to prog (may be NULL). st, aws: borrowed, may be NULL. */
struct run_env;
void ui_run_env(struct run_env *env, const struct global_opts *g, struct state *st,
		struct aws_client *aws, int parallelism, struct ui_progress *prog);
/* The same from a command run (r->prog made on first use). */
void ui_run_env_of(struct run_env *env, struct cmd_run *r);

/* Prints "Outputs:\n\nname = value" (sensitive as "(sensitive)"). */
void ui_print_outputs(json_t *outputs);

#endif
