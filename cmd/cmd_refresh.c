/*
 * cmd_refresh: `cairn refresh` (SPEC §2): reads every resource the state
 * holds for the stack back from AWS, records what it reads, reports drift,
 * and brings the recorded outputs up to date.
 */
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "exec_ui.h"
#include "../engine/plan.h"
#include "../providers/registry.h"
#include "../providers/aws/aws.h"
#include "../state/state.h"

enum { OPT_LOCK_TIMEOUT = OPT_CMD_BASE };

/* The stack's outputs in the shape the plan keeps them (new reference). */
static json_t *stack_outputs(const struct stack *s)
{
	json_t *o = json_object();
	size_t i;

	for (i = 0; i < s->n_outputs; i++)
		json_object_set_new(o, s->outputs[i].name,
				    json_pack("{s:O,s:b}", "value", s->outputs[i].value,
					      "sensitive", s->outputs[i].sensitive));
	return o;
}

static int refresh_outputs(const struct stack *s, struct state *st, struct aws_client *aws,
			   struct cairn_err *err)
{
	struct plan p;
	const char *account_id = NULL;
	json_t *out = NULL;
	int rc = -1;

	memset(&p, 0, sizeof(p));
	p.stack = s->name;
	p.region = (char *)aws_client_region(aws);
	p.vars = s->vars;
	p.outputs = stack_outputs(s);
	if (exec_needs_account_id(&p)) {
		account_id = provider_account_id(aws, err);
		if (!account_id)
			goto out;
	}
	out = exec_outputs(&p, st, account_id, err);
	if (!out || ui_store_outputs(st, s->name, out, err) < 0)
		goto out;
	rc = 0;
out:
	json_decref(p.outputs);
	json_decref(out);
	return rc;
}

int cmd_refresh(int argc, char **argv, const struct global_opts *g)
{
	static const struct option longopts[] = {
		STACK_LONGOPTS,
		{"lock-timeout", required_argument, NULL, OPT_LOCK_TIMEOUT},
		{NULL, 0, NULL, 0}
	};
	struct stack_args sa;
	struct stack *stack = NULL;
	struct state *st = NULL;
	struct aws_client *aws = NULL;
	struct ui_progress *prog = NULL;
	struct exec_opts o;
	struct cairn_err err;
	size_t n_drift = 0;
	int opt, rc = 1, locked = 0, lock_timeout = 0;

	err_clear(&err);
	stack_args_init(&sa);
	while ((opt = getopt_long(argc, argv, "f:", longopts, NULL)) != -1) {
		if (stack_args_opt(&sa, opt, optarg))
			continue;
		if (opt == OPT_LOCK_TIMEOUT && (lock_timeout = ui_parse_count(optarg)) >= 0)
			continue;
		rc = opt == OPT_LOCK_TIMEOUT ?
		     msg_usage("refresh", "--lock-timeout needs a number of seconds, not '%s'", optarg) :
		     msg_usage("refresh", "unknown option");
		goto out;
	}
	if (optind < argc) {
		rc = msg_usage("refresh", "unexpected argument '%s'", argv[optind]);
		goto out;
	}
	ui_signals_install();
	stack = cmd_load_stack(&sa, g);
	if (!stack)
		goto out;
	st = cmd_open_state(g, 1);
	if (!st)
		goto out;
	aws = cmd_aws_client(g, stack->region);
	if (!aws)
		goto out;
	if (ui_lock(st, stack->name, "refresh", lock_timeout) < 0)
		goto out;
	locked = 1;
	prog = ui_progress_new();
	memset(&o, 0, sizeof(o));
	o.st = st;
	o.aws = aws;
	o.stack = stack->name;
	o.lookup = provider_lookup;
	o.stop = ui_stop_flag();
	o.cancel = ui_cancel_flag();
	o.on_event = ui_progress_event;
	o.event_ctx = prog;
	if (exec_recover(&o, &err) < 0 || exec_refresh(&o, &n_drift, &err) < 0 ||
	    refresh_outputs(stack, st, aws, &err) < 0) {
		msg_err(&err);
		rc = err.code == CAIRN_ECANCEL ? 130 : 1;
		goto out;
	}
	if (!msg_quiet()) {
		if (n_drift)
			printf("\nRefresh complete: %zu resource%s changed outside cairn; the state "
			       "now records what AWS reports.\n", n_drift, n_drift == 1 ? "" : "s");
		else
			printf("Refresh complete: no changes outside cairn.\n");
	}
	rc = 0;
out:
	ui_progress_free(prog);
	if (locked)
		ui_unlock(st, stack->name);
	aws_client_free(aws);
	state_close(st);
	stack_free(stack);
	stack_args_free(&sa);
	return rc;
}
