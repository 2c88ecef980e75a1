/*
 * cairn graph: the stack's dependency graph in Graphviz DOT on stdout,
 * edges from each resource to the resources it depends on.
 */
#include "cmd.h"

static const struct option graph_longopts[] = {
	STACK_LONGOPTS,
	{NULL, 0, NULL, 0}
};

int cmd_graph(int argc, char **argv, const struct global_opts *g)
{
	struct stack_args sa;
	struct stack *s = NULL;
	int opt, rc = 1;

	stack_args_init(&sa);
	while ((opt = getopt_long(argc, argv, "f:", graph_longopts, NULL)) != -1) {
		if (!stack_args_opt(&sa, opt, optarg)) {
			rc = msg_usage("graph", "unknown option");
			goto out;
		}
	}
	if (optind < argc) {
		rc = msg_usage("graph", "unexpected argument '%s'", argv[optind]);
		goto out;
	}
	s = cmd_load_stack(&sa, g);
	if (!s)
		goto out;
	stack_write_dot(s, stdout);
	rc = 0;
out:
	stack_free(s);
	stack_args_free(&sa);
	return rc;
}
