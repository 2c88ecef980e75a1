/*
 * cmd_apply: `cairn apply [PLANFILE]` (SPEC §2): plans (or loads a saved
 * plan), asks, and carries the plan out through the executor.
 */
#include "cmd.h"
#include "exec_ui.h"

int cmd_apply_parse(int argc, char **argv, struct cmd_run *r)
{
	return ui_apply_parse(argc, argv, r, 0);
}

int cmd_apply(struct cmd_run *r)
{
	return ui_apply(r, 0);
}
