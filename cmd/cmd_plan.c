/*
 * cairn plan: refresh (unless --refresh=false), report drift, print the
 * plan as text, JSON or markdown (a pull-request comment), optionally save it for `cairn apply FILE`.
 * Never writes the state: a missing state file is an empty state and is
 * not created.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cmd.h"
#include "../engine/plan.h"
#include "../providers/aws/aws.h"
#include "exec_ui.h"
#include "../engine/run.h"
#include "../state/state.h"

enum { OPT_OUT = OPT_CMD_BASE, OPT_JSON, OPT_MARKDOWN, OPT_DETAILED, OPT_REFRESH, OPT_TARGET };

static const struct option plan_longopts[] = {
	STACK_LONGOPTS,
	{"out", required_argument, NULL, OPT_OUT},
	{"json", no_argument, NULL, OPT_JSON},
	{"markdown", no_argument, NULL, OPT_MARKDOWN},
	{"detailed-exitcode", no_argument, NULL, OPT_DETAILED},
	{"refresh", required_argument, NULL, OPT_REFRESH},
	{"target", required_argument, NULL, OPT_TARGET},
	{NULL, 0, NULL, 0}
};

int cmd_plan(int argc, char **argv, const struct global_opts *g)
{
	struct stack_args sa;
	struct run_env env;
	struct run_args ra = {0};
	struct run_result res = {0};
	int refresh = 1;
	struct cairn_err err;
	struct stack *stack = NULL;
	struct state *st = NULL;
	struct aws_client *aws = NULL;
	struct plan *plan = NULL;
	const char **targets = NULL;
	const char *out_path = NULL;
	struct stat sb;
	int json = 0, markdown = 0, detailed = 0, opt, rc = 1;
	size_t n_targets = 0;

	stack_args_init(&sa);
	err_clear(&err);
	opterr = 0;   /* the messages below name the option and end with the --help hint */
	while ((opt = getopt_long(argc, argv, ":f:", plan_longopts, NULL)) != -1) {
		if (stack_args_opt(&sa, opt, optarg))
			continue;
		switch (opt) {
		case OPT_OUT:
			out_path = optarg;
			break;
		case OPT_JSON:
			json = 1;
			break;
		case OPT_MARKDOWN:
			markdown = 1;
			break;
		case OPT_DETAILED:
			detailed = 1;
			break;
		case OPT_REFRESH:
			if (strcmp(optarg, "false") == 0) {
				refresh = 0;
			} else if (strcmp(optarg, "true") == 0) {
				refresh = 1;
			} else {
				rc = msg_usage("plan", "--refresh takes 'true' or 'false', not '%s'",
					       optarg);
				goto out;
			}
			break;
		case OPT_TARGET:
			targets = xrealloc(targets, (n_targets + 1) * sizeof(*targets));
			targets[n_targets++] = optarg;
			break;
		case ':':
			rc = msg_usage("plan", "option '%s' needs a value", argv[optind - 1]);
			goto out;
		default:
			rc = msg_usage("plan", "unknown option '%s'", argv[optind - 1]);
			goto out;
		}
	}
	if (optind < argc) {
		rc = msg_usage("plan", "unexpected argument '%s'", argv[optind]);
		goto out;
	}
	if (json && markdown) {
		rc = msg_usage("plan", "--json and --markdown are two forms of the plan: choose one");
		goto out;
	}

	stack = cmd_load_stack_reading(&sa, g, &aws);
	if (!stack)
		goto out;
	/* A missing state file is an empty state; plan creates it only to keep
	 * the key that seals a saved plan's secrets (--out). */
	if (out_path || cmd_state_is_remote(g->state_path) || stat(g->state_path, &sb) == 0) {
		/* S3: a missing object is an empty state, and nothing is written. */
		st = cmd_open_state(g, out_path != NULL || cmd_state_is_remote(g->state_path));
		if (!st)
			goto out;
	}
	/* --refresh=false asks AWS nothing but the data sources: ${aws.account_id}
	 * comes from the state, or is known after apply (SPEC §2). */
	if (!aws && (stack->n_data || (refresh && (st || plan_uses_account_id(stack))))) {
		aws = cmd_aws_client(g, stack->region);
		if (!aws)
			goto out;
	}
	ui_run_env(&env, g, st, aws, 0, NULL);
	ra.stack = stack;
	ra.refresh = refresh;
	ra.targets = targets;
	ra.n_targets = n_targets;
	if (run_plan(&env, &ra, &res, &err) < 0) {
		msg_err(&err);
		goto out;
	}
	plan = res.plan;
	cmd_print_plan(plan, json ? PLAN_FORM_JSON : markdown ? PLAN_FORM_MARKDOWN :
		       PLAN_FORM_TEXT, g);
	if (out_path) {
		unsigned char key[PLAN_KEY_LEN];
		int found = 0;

		if (state_plan_key(st, plan->stack, 1, key, &found, &err) < 0 ||
		    plan_save(plan, out_path, key, &err) < 0) {
			secure_zero(key, sizeof(key));
			msg_err(&err);
			goto out;
		}
		secure_zero(key, sizeof(key));
		if (!json && !markdown)
			msg_info("\nSaved the plan to: %s\nTo carry it out: cairn apply %s",
				 out_path, out_path);
	}
	rc = detailed && plan_has_changes(plan) ? 2 : 0;
out:
	run_result_free(&res);
	aws_client_free(aws);
	state_close(st);
	stack_free(stack);
	free(targets);
	stack_args_free(&sa);
	return rc;
}
