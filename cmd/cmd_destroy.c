/*
 * cmd_destroy: `cairn destroy` (SPEC §2): deletes every recorded resource
 * of the stack (or NAME and what depends on it with --target), dependents
 * first, through the same executor as apply.
 */
#include "cmd.h"
#include "exec_ui.h"

int cmd_destroy(int argc, char **argv, const struct global_opts *g)
{
	return ui_apply_main(argc, argv, g, 1);
}
