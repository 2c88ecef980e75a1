/*
 * cmd: the cairn program's command table and the set-up shared by
 * commands (git.c style). One file per command: cmd/cmd_NAME.c defines
 * int cmd_NAME(int argc, char **argv, const struct global_opts *g).
 * argv[0] is the command name; global options have been removed already.
 * A command returns the process exit code (0, 1, 2, 130).
 */
#ifndef CAIRN_CMD_H
#define CAIRN_CMD_H

#include <getopt.h>
#include <stddef.h>

#include "../lib/util.h"
#include "../engine/stack.h"
#include "msg.h"

struct aws_client;
struct state;

struct global_opts {
	const char *state_path;   /* --state, else $CAIRN_STATE, else "cairn.db" */
	const char *profile;      /* --profile or NULL */
	const char *region;       /* --region or NULL */
	int color;                /* stdout is a terminal, no --no-color, no NO_COLOR */
	int quiet, verbose;
	char **envp;              /* the process environment */
};


/* Prints the command's usage text to stdout; returns 0. */
int cmd_help(const char *name);

/*
 * Stack arguments shared by every command that reads a stack:
 * -f/--file, --var NAME=VALUE (repeatable), --var-file FILE (repeatable).
 * Use STACK_LONGOPTS in the getopt_long table and call stack_args_opt
 * for their option codes.
 */
enum { OPT_VAR = 0x1000, OPT_VAR_FILE, OPT_CMD_BASE = 0x1100 };
#define STACK_LONGOPTS \
	{"file", required_argument, NULL, 'f'}, \
	{"var", required_argument, NULL, OPT_VAR}, \
	{"var-file", required_argument, NULL, OPT_VAR_FILE}

struct stack_args {
	const char *file;
	const char **vars; size_t n_vars;
	const char **var_files; size_t n_var_files;
};
void stack_args_init(struct stack_args *a);
void stack_args_free(struct stack_args *a);
/* Handles 'f', OPT_VAR, OPT_VAR_FILE; returns 1 if it took the option, else 0. */
int stack_args_opt(struct stack_args *a, int opt, const char *arg);

/*
 * What a command needs set up before it runs (git's run_builtin flags);
 * main does it once, from the table, for commands with parse/run.
 */
enum {
	NEED_STACK = 1 << 0,      /* the stack file, loaded and validated: r->stack */
	NEED_STATE = 1 << 1,      /* the state store, created if missing: r->st */
	NEED_AWS = 1 << 2,        /* an AWS client for the stack's region (or r->region) */
	NEED_LOCK = 1 << 3,       /* the engine run takes the stack's lock (r->env.lock_timeout) */
	NEED_DATA = 1 << 4        /* with NEED_STACK: read the data sources while loading it */
};

struct plan;
struct ui_progress;

/* One command's run: its parsed options and what main set up for it.
 * Every pointer member is owned by the struct (cmd_run_free). */
struct cmd_run {
	const struct global_opts *g;  /* borrowed */
	unsigned needs;               /* from the table; parse may drop some */
	/* options */
	struct stack_args sa;
	const char **targets; size_t n_targets;   /* array owned, strings borrowed (argv) */
	const char *args[2]; size_t n_args;       /* positional arguments (argv) */
	int auto_approve, parallelism, lock_timeout;
	int detailed_exitcode;        /* apply: exit 2 when something changed */
	struct plan *saved;           /* apply PLANFILE, loaded by parse */
	const char *region;           /* region when there is no stack (a saved plan's) */
	/* set up by main */
	struct stack *stack;
	struct state *st;
	struct aws_client *aws;
	struct ui_progress *prog;
};
void cmd_run_free(struct cmd_run *r);   /* main.c */

struct cmd {
	const char *name;
	/* Either fn (does its own set-up) or parse + run with needs. */
	int (*fn)(int argc, char **argv, const struct global_opts *g);
	const char *summary;      /* one line for `cairn --help` */
	const char *usage;        /* the full `cairn NAME --help` text */
	/* Parses argv into r; returns -1 to go on, else the exit code. */
	int (*parse)(int argc, char **argv, struct cmd_run *r);
	int (*run)(struct cmd_run *r);
	unsigned needs;
};

/* The table (main.c); used for help. */
extern const struct cmd cmd_table[];
extern const size_t cmd_table_len;
const struct cmd *cmd_find(const char *name);

/*
 * Loads and validates the stack the arguments name (default file if no -f).
 * Prints every diagnostic itself. Returns NULL on failure.
 */
struct stack *cmd_load_stack(const struct stack_args *a, const struct global_opts *g);
/* The same for plan and apply: the stack's data sources are read while it
 * loads (count, for_each and locals may use them), through *aws, which is
 * made for the stack's region when first needed (and stays the caller's). */
struct stack *cmd_load_stack_reading(const struct stack_args *a, const struct global_opts *g,
				     struct aws_client **aws);

/* Opens the state store (create: make it if missing). Prints the error itself.
 * An s3:// --state is opened through state_s3.c. */
struct state *cmd_open_state(const struct global_opts *g, int create);
/* state_s3.c: true for an s3:// state URL; the S3 store behind state.h. */
int cmd_state_is_remote(const char *path);
struct state *cmd_open_remote_state(const struct global_opts *g, int create);

/* Makes an AWS client for region (NULL: --region, AWS_REGION, ...). Prints the error itself. */
struct aws_client *cmd_aws_client(const struct global_opts *g, const char *region);

/*
 * Hands the state the key that seals its secrets (CAIRN_STATE_KEY, or a
 * KMS data key under CAIRN_STATE_KMS_KEY_ID; cmd/state_key.c), and
 * refuses a sealed state without its key or with another. 0, or -1 with
 * the message printed and nothing written.
 */
int cmd_state_key(const struct global_opts *g, struct state *st);

/* plan_opts.account_id for a client made by cmd_aws_client (aws). */
const char *cmd_account_id(void *aws, struct cairn_err *err);

/*
 * The name of the stack a state command works on: explicit (--stack), else
 * the stack file's (loaded and validated), else the state's only stack.
 * Returns an owned string, or NULL after printing why.
 */
char *cmd_stack_name(const struct stack_args *a, const char *explicit_name,
		     const struct global_opts *g, struct state *st);

/* The three forms of a plan (SPEC §2), printed to stdout. */
struct plan;
enum plan_form { PLAN_FORM_TEXT, PLAN_FORM_JSON, PLAN_FORM_MARKDOWN };
void cmd_print_plan(const struct plan *p, enum plan_form form, const struct global_opts *g);

/* Asks PROMPT on the terminal; true if the answer is exactly "yes". */
int cmd_confirm(const char *prompt);

/* True when CI=true (or 1, yes) is set: a CI job, where nobody answers a
 * prompt and nobody reads colours. */
int cmd_ci(void);

/* True if stdin and stdout are terminals and this is not a CI job. */
int cmd_interactive(void);

#endif
