/*
 * cairn validate: loads and checks the stack offline (engine/stack.c does
 * all of it); no AWS client and no state store are ever opened here.
 */
#include "cmd.h"

static const struct option validate_longopts[] = {
	STACK_LONGOPTS,
	{NULL, 0, NULL, 0}
};

int cmd_validate(int argc, char **argv, const struct global_opts *g)
{
	struct stack_args sa;
	struct stack *s = NULL;
	int opt, rc = 1;

	stack_args_init(&sa);
	while ((opt = getopt_long(argc, argv, "f:", validate_longopts, NULL)) != -1) {
		if (!stack_args_opt(&sa, opt, optarg)) {
			rc = msg_usage("validate", "unknown option");
			goto out;
		}
	}
	if (optind < argc) {
		rc = msg_usage("validate", "unexpected argument '%s'", argv[optind]);
		goto out;
	}
	s = cmd_load_stack(&sa, g);
	if (!s)
		goto out;
	msg_info("Success! The stack is valid.");
	rc = 0;
out:
	stack_free(s);
	stack_args_free(&sa);
	return rc;
}
