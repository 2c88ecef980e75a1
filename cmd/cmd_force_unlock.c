/*
 * cairn force-unlock: removes a stack's lock after asking.
 * A lock whose holder died on this host is taken over automatically by the
 * next run; this is for holders on other hosts (e.g. a lost CI runner).
 */
#include <stdlib.h>

#include "cmd.h"
#include "../state/state.h"

enum { OPT_STACK = OPT_CMD_BASE };

static const struct option options[] = {
	STACK_LONGOPTS,
	{"yes", no_argument, NULL, 'y'},
	{"stack", required_argument, NULL, OPT_STACK},
	{NULL, 0, NULL, 0}
};

int cmd_force_unlock(int argc, char **argv, const struct global_opts *g)
{
	struct stack_args sa;
	const char *stack_opt = NULL;
	struct state *st = NULL;
	struct cairn_err err;
	char *stack = NULL, who[512], *prompt = NULL;
	int yes = 0, c, rc = 1;

	stack_args_init(&sa);
	err_clear(&err);
	while ((c = getopt_long(argc, argv, "f:y", options, NULL)) != -1) {
		if (stack_args_opt(&sa, c, optarg))
			continue;
		if (c == 'y') {
			yes = 1;
		} else if (c == OPT_STACK) {
			stack_opt = optarg;
		} else {
			rc = msg_usage("force-unlock", "bad option");
			goto out;
		}
	}
	if (optind < argc) {
		rc = msg_usage("force-unlock", "unexpected argument '%s'", argv[optind]);
		goto out;
	}
	/* S3: a lock may outlive a state that was never written. */
	st = cmd_open_state(g, cmd_state_is_remote(g->state_path));
	if (!st)
		goto out;
	stack = cmd_stack_name(&sa, stack_opt, g, st);
	if (!stack)
		goto out;
	if (state_lock_info(st, stack, who, sizeof(who), &err) != 0) {
		msg_err(&err);
		goto out;
	}
	if (!who[0]) {
		msg_info("Stack '%s' is not locked.", stack);
		rc = 0;
		goto out;
	}
	msg_info("Stack '%s' is locked by %s.", stack, who);
	if (!yes) {
		if (!cmd_interactive()) {
			msg_error("force-unlock needs confirmation: run it on a terminal or pass --yes");
			goto out;
		}
		prompt = xasprintf("Removing a lock that is still in use can corrupt the stack.\n"
				   "Enter 'yes' to remove it:");
		if (!cmd_confirm(prompt)) {
			msg_error("force-unlock cancelled");
			goto out;
		}
	}
	if (state_force_unlock(st, stack, &err) != 0) {
		msg_err(&err);
		goto out;
	}
	msg_info("Lock removed from stack '%s'.", stack);
	rc = 0;
out:
	free(prompt);
	free(stack);
	state_close(st);
	stack_args_free(&sa);
	return rc;
}
