/*
 * cmd_destroy: `cairn destroy` (SPEC §2): deletes every recorded resource
 * of the stack (or NAME and what depends on it with --target), dependents
 * first, through the same executor as apply.
 */
#include "cmd.h"
#include "exec_ui.h"

int cmd_destroy_parse(int argc, char **argv, struct cmd_run *r)
{
	return ui_apply_parse(argc, argv, r, 1);
}

int cmd_destroy(struct cmd_run *r)
{
	return ui_apply(r, 1);
}
