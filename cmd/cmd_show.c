/*
 * cairn show PLANFILE [--json|--markdown]: prints a saved plan as `plan`
 * printed it (SPEC §2). Reads only the file: no state, no AWS, no
 * credentials, so a CI job can render the plan of an earlier step. The
 * file holds no secret in clear (planfile.c), and show unseals nothing.
 */
#include <string.h>

#include "cmd.h"
#include "../engine/plan.h"

enum { OPT_JSON = OPT_CMD_BASE, OPT_MARKDOWN };

int cmd_show(int argc, char **argv, const struct global_opts *g)
{
	static const struct option longopts[] = {
		{"json", no_argument, NULL, OPT_JSON},
		{"markdown", no_argument, NULL, OPT_MARKDOWN},
		{NULL, 0, NULL, 0}
	};
	enum plan_form form = PLAN_FORM_TEXT;
	struct cairn_err err;
	struct plan *plan = NULL;
	int opt, rc = 1;

	err_clear(&err);
	opterr = 0;   /* the messages below name the option and end with the --help hint */
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case OPT_JSON:
		case OPT_MARKDOWN:
			if (form != PLAN_FORM_TEXT) {
				rc = msg_usage("show", "--json and --markdown are two forms of the "
					       "plan: choose one");
				goto out;
			}
			form = opt == OPT_JSON ? PLAN_FORM_JSON : PLAN_FORM_MARKDOWN;
			break;
		default:
			rc = msg_usage("show", "unknown option '%s'", argv[optind - 1]);
			goto out;
		}
	}
	if (optind >= argc) {
		rc = msg_usage("show", "missing the plan file (made by 'cairn plan --out FILE')");
		goto out;
	}
	if (argc - optind > 1) {
		rc = msg_usage("show", "unexpected argument '%s'", argv[optind + 1]);
		goto out;
	}
	plan = plan_load(argv[optind], &err);
	if (!plan) {
		msg_err(&err);
		goto out;
	}
	cmd_print_plan(plan, form, g);
	rc = 0;
out:
	plan_free(plan);
	return rc;
}
