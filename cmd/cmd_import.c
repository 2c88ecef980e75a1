/*
 * cmd_import: `cairn import NAME ID` (SPEC §2): adopts an existing AWS
 * resource as the stack's resource NAME (run_import: its type's read with
 * no prior record).
 */
#include <stdlib.h>

#include "cmd.h"
#include "exec_ui.h"
#include "../engine/run.h"
#include "../providers/aws/aws.h"
#include "../state/state.h"

int cmd_import(int argc, char **argv, const struct global_opts *g)
{
	static const struct option longopts[] = {
		STACK_LONGOPTS,
		{NULL, 0, NULL, 0}
	};
	struct stack_args sa;
	struct stack *stack = NULL;
	struct state *st = NULL;
	struct aws_client *aws = NULL;
	struct run_env env;
	struct run_result res = {0};
	struct cairn_err err;
	int opt, rc = 1;

	err_clear(&err);
	stack_args_init(&sa);
	while ((opt = getopt_long(argc, argv, "f:", longopts, NULL)) != -1)
		if (!stack_args_opt(&sa, opt, optarg)) {
			rc = msg_usage("import", "unknown option");
			goto out;
		}
	if (argc - optind != 2) {
		rc = msg_usage("import", "import takes two arguments: NAME ID");
		goto out;
	}
	stack = cmd_load_stack(&sa, g);
	if (!stack)
		goto out;
	if (stack_find(stack, argv[optind]) < 0) {
		msg_error("resource '%s' is not declared in '%s': declare it in the stack first",
			  argv[optind], stack->file);
		goto out;
	}
	st = cmd_open_state(g, 1);
	if (!st)
		goto out;
	aws = cmd_aws_client(g, stack->region);
	if (!aws)
		goto out;
	ui_run_env(&env, g, st, aws, 0, NULL);
	if (run_import(&env, stack, argv[optind], argv[optind + 1], &res, &err) < 0) {
		msg_err(&err);
		goto out;
	}
	if (!msg_quiet())
		printf("%s%s%s: Import complete [id=%s]\n", msg_c("bold"), argv[optind],
		       msg_c("reset"), json_string_value(json_object_get(res.imported, "id")));
	rc = 0;
out:
	run_result_free(&res);
	aws_client_free(aws);
	state_close(st);
	stack_free(stack);
	stack_args_free(&sa);
	return rc;
}
