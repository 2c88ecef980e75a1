/* PLACEHOLDER-CMD: replaced by the real command. */
#include "cmd.h"

int cmd_graph(int argc, char **argv, const struct global_opts *g)
{
	(void)argc; (void)g;
	msg_error("'%s' is not in this build yet", argv[0]);
	return 1;
}
