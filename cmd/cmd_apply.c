/*
 * cmd_apply: `cairn apply [PLANFILE]` (SPEC §2): plans (or loads a saved
 * plan), asks, and carries the plan out through the executor.
 */
#include "cmd.h"
#include "exec_ui.h"

int cmd_apply(int argc, char **argv, const struct global_opts *g)
{
	return ui_apply_main(argc, argv, g, 0);
}
