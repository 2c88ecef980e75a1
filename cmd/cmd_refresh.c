/*
 * cmd_refresh: `cairn refresh` (SPEC §2): reads every resource the state
 * holds for the stack back from AWS, records what it reads, reports drift,
 * and brings the recorded outputs up to date.
 */
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "exec_ui.h"
#include "../engine/run.h"
#include "../providers/aws/aws.h"
#include "../state/state.h"

enum { OPT_LOCK_TIMEOUT = OPT_CMD_BASE };

int cmd_refresh(int argc, char **argv, const struct global_opts *g)
{
	static const struct option longopts[] = {
		STACK_LONGOPTS,
		{"lock-timeout", required_argument, NULL, OPT_LOCK_TIMEOUT},
		{NULL, 0, NULL, 0}
	};
	struct stack_args sa;
	struct stack *stack = NULL;
	struct state *st = NULL;
	struct aws_client *aws = NULL;
	struct ui_progress *prog = NULL;
	struct run_env env;
	struct run_result res = {0};
	struct cairn_err err;
	size_t n_drift = 0;
	int opt, rc = 1, lock_timeout = 0;

	err_clear(&err);
	stack_args_init(&sa);
	while ((opt = getopt_long(argc, argv, "f:", longopts, NULL)) != -1) {
		if (stack_args_opt(&sa, opt, optarg))
			continue;
		if (opt == OPT_LOCK_TIMEOUT && (lock_timeout = ui_parse_count(optarg)) >= 0)
			continue;
		rc = opt == OPT_LOCK_TIMEOUT ?
		     msg_usage("refresh", "--lock-timeout needs a number of seconds, not '%s'", optarg) :
		     msg_usage("refresh", "unknown option");
		goto out;
	}
	if (optind < argc) {
		rc = msg_usage("refresh", "unexpected argument '%s'", argv[optind]);
		goto out;
	}
	ui_signals_install();
	stack = cmd_load_stack(&sa, g);
	if (!stack)
		goto out;
	st = cmd_open_state(g, 1);
	if (!st)
		goto out;
	aws = cmd_aws_client(g, stack->region);
	if (!aws)
		goto out;
	prog = ui_progress_new();
	ui_run_env(&env, g, st, aws, 0, prog);
	env.lock_timeout = lock_timeout;
	if (run_refresh(&env, stack, &res, &err) < 0) {
		msg_err(&err);
		rc = err.code == CAIRN_ECANCEL ? 130 : 1;
		goto out;
	}
	n_drift = res.n_drift;
	if (!msg_quiet()) {
		if (n_drift)
			printf("\nRefresh complete: %zu resource%s changed outside cairn; the state "
			       "now records what AWS reports.\n", n_drift, n_drift == 1 ? "" : "s");
		else
			printf("Refresh complete: no changes outside cairn.\n");
	}
	rc = 0;
out:
	ui_progress_free(prog);
	run_result_free(&res);
	aws_client_free(aws);
	state_close(st);
	stack_free(stack);
	stack_args_free(&sa);
	return rc;
}
