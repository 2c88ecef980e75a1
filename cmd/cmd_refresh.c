/*
 * cmd_refresh: `cairn refresh` (SPEC §2): reads every resource the state
 * holds for the stack back from AWS, records what it reads, reports drift,
 * and brings the recorded outputs up to date (run_refresh).
 */
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "exec_ui.h"
#include "../engine/run.h"

enum { OPT_LOCK_TIMEOUT = OPT_CMD_BASE };

int cmd_refresh_parse(int argc, char **argv, struct cmd_run *r)
{
	static const struct option longopts[] = {
		STACK_LONGOPTS,
		{"lock-timeout", required_argument, NULL, OPT_LOCK_TIMEOUT},
		{NULL, 0, NULL, 0}
	};
	int opt;

	while ((opt = getopt_long(argc, argv, "f:", longopts, NULL)) != -1) {
		if (stack_args_opt(&r->sa, opt, optarg))
			continue;
		if (opt == OPT_LOCK_TIMEOUT && (r->lock_timeout = ui_parse_count(optarg)) >= 0)
			continue;
		return opt == OPT_LOCK_TIMEOUT ?
		       msg_usage("refresh", "--lock-timeout needs a number of seconds, not '%s'",
				 optarg) :
		       msg_usage("refresh", "unknown option");
	}
	if (optind < argc)
		return msg_usage("refresh", "unexpected argument '%s'", argv[optind]);
	return -1;
}

int cmd_refresh(struct cmd_run *r)
{
	struct run_env env;
	struct run_result res = {0};
	struct cairn_err err;
	int rc = 1;

	err_clear(&err);
	ui_run_env_of(&env, r);
	if (run_refresh(&env, r->stack, &res, &err) < 0) {
		msg_err(&err);
		rc = err.code == CAIRN_ECANCEL ? 130 : 1;
		goto out;
	}
	if (!msg_quiet()) {
		if (res.n_drift)
			printf("\nRefresh complete: %zu resource%s changed outside cairn; the state "
			       "now records what AWS reports.\n", res.n_drift,
			       res.n_drift == 1 ? "" : "s");
		else
			printf("Refresh complete: no changes outside cairn.\n");
	}
	rc = 0;
out:
	run_result_free(&res);
	return rc;
}
