/*
 * cmd_import: `cairn import NAME ID` (SPEC §2): adopts an existing AWS
 * resource as the stack's resource NAME (run_import: its type's read with
 * no prior record).
 */
#include <stdlib.h>

#include "cmd.h"
#include "exec_ui.h"
#include "../engine/run.h"

int cmd_import_parse(int argc, char **argv, struct cmd_run *r)
{
	static const struct option longopts[] = {
		STACK_LONGOPTS,
		{NULL, 0, NULL, 0}
	};
	int opt;

	while ((opt = getopt_long(argc, argv, "f:", longopts, NULL)) != -1)
		if (!stack_args_opt(&r->sa, opt, optarg))
			return msg_usage("import", "unknown option");
	if (argc - optind != 2)
		return msg_usage("import", "import takes two arguments: NAME ID");
	r->args[0] = argv[optind];
	r->args[1] = argv[optind + 1];
	r->n_args = 2;
	return -1;
}

int cmd_import(struct cmd_run *r)
{
	struct run_env env;
	struct run_result res = {0};
	struct cairn_err err;
	int rc = 1;

	err_clear(&err);
	ui_run_env_of(&env, r);
	if (run_import(&env, r->stack, r->args[0], r->args[1], &res, &err) < 0) {
		msg_err(&err);
		goto out;
	}
	if (!msg_quiet())
		printf("%s%s%s: Import complete [id=%s]\n", msg_c("bold"), r->args[0],
		       msg_c("reset"), json_string_value(json_object_get(res.imported, "id")));
	rc = 0;
out:
	run_result_free(&res);
	return rc;
}
