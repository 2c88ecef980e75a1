/*
 * cmd_destroy: `cairn destroy` (SPEC §2): deletes every recorded resource
 * of the stack (or NAME and what depends on it with --target), dependents
 * first, through the same executor as apply.
 */
#include <stdlib.h>

#include "cmd.h"
#include "exec_ui.h"

enum { OPT_AUTO_APPROVE = OPT_CMD_BASE, OPT_PARALLELISM, OPT_LOCK_TIMEOUT, OPT_TARGET };

int cmd_destroy(int argc, char **argv, const struct global_opts *g)
{
	static const struct option longopts[] = {
		STACK_LONGOPTS,
		{"auto-approve", no_argument, NULL, OPT_AUTO_APPROVE},
		{"parallelism", required_argument, NULL, OPT_PARALLELISM},
		{"lock-timeout", required_argument, NULL, OPT_LOCK_TIMEOUT},
		{"target", required_argument, NULL, OPT_TARGET},
		{NULL, 0, NULL, 0}
	};
	struct ui_apply_args a = {0};
	struct stack_args sa;
	const char **targets = NULL;
	size_t n_targets = 0;
	int opt, rc = 1;

	stack_args_init(&sa);
	a.destroy = 1;
	a.parallelism = 10;
	while ((opt = getopt_long(argc, argv, "f:", longopts, NULL)) != -1) {
		if (stack_args_opt(&sa, opt, optarg))
			continue;
		switch (opt) {
		case OPT_AUTO_APPROVE:
			a.auto_approve = 1;
			break;
		case OPT_PARALLELISM:
			a.parallelism = ui_parse_count(optarg);
			if (a.parallelism < 1) {
				rc = msg_usage("destroy", "--parallelism needs a number of at least 1, "
					       "not '%s'", optarg);
				goto out;
			}
			break;
		case OPT_LOCK_TIMEOUT:
			a.lock_timeout = ui_parse_count(optarg);
			if (a.lock_timeout < 0) {
				rc = msg_usage("destroy", "--lock-timeout needs a number of seconds, "
					       "not '%s'", optarg);
				goto out;
			}
			break;
		case OPT_TARGET:
			targets = xrealloc(targets, (n_targets + 1) * sizeof(*targets));
			targets[n_targets++] = optarg;
			break;
		default:
			rc = msg_usage("destroy", "unknown option");
			goto out;
		}
	}
	if (optind < argc) {
		rc = msg_usage("destroy", "unexpected argument '%s'", argv[optind]);
		goto out;
	}
	a.targets = targets;
	a.n_targets = n_targets;
	a.stack = &sa;
	rc = ui_apply(&a, g);
out:
	free(targets);
	stack_args_free(&sa);
	return rc;
}
