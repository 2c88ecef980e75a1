/*
 * cmd_import: `cairn import NAME ID` (SPEC §2): adopts an existing AWS
 * resource as the stack's resource NAME, read through its type's import.
 */
#include <stdlib.h>

#include "cmd.h"
#include "exec_ui.h"
#include "../engine/provider.h"
#include "../engine/schema.h"
#include "../providers/aws/aws.h"
#include "../state/state.h"

int cmd_import(int argc, char **argv, const struct global_opts *g)
{
	static const struct option longopts[] = {
		STACK_LONGOPTS,
		{NULL, 0, NULL, 0}
	};
	struct stack_args sa;
	struct stack *stack = NULL;
	struct state *st = NULL;
	struct aws_client *aws = NULL;
	const struct stack_resource *res;
	const struct resource_ops *ops;
	struct state_resource have = {0}, sr = {0};
	struct provider_ctx ctx = {0};
	struct cairn_err err;
	json_t *out = NULL, *hist = NULL;
	const char *name, *id;
	long idx;
	int opt, rc = 1, locked = 0, found = 0, irc;

	err_clear(&err);
	stack_args_init(&sa);
	while ((opt = getopt_long(argc, argv, "f:", longopts, NULL)) != -1)
		if (!stack_args_opt(&sa, opt, optarg)) {
			rc = msg_usage("import", "unknown option");
			goto out;
		}
	if (argc - optind != 2) {
		rc = msg_usage("import", "import takes two arguments: NAME ID");
		goto out;
	}
	name = argv[optind];
	id = argv[optind + 1];
	stack = cmd_load_stack(&sa, g);
	if (!stack)
		goto out;
	idx = stack_find(stack, name);
	if (idx < 0) {
		msg_error("resource '%s' is not declared in '%s': declare it in the stack first",
			  name, stack->file);
		goto out;
	}
	res = &stack->resources[idx];
	ops = provider_lookup(res->type);
	if (!ops || (!ops->import && !ops->read)) {
		msg_error("resource type '%s' cannot be imported", res->type);
		goto out;
	}
	st = cmd_open_state(g, 1);
	if (!st)
		goto out;
	aws = cmd_aws_client(g, stack->region);
	if (!aws)
		goto out;
	if (ui_lock(st, stack->name, "import", 0) < 0)
		goto out;
	locked = 1;
	if (state_get(st, stack->name, name, &have, &found, &err) < 0) {
		msg_err(&err);
		goto out;
	}
	if (found) {
		msg_error("'%s' is already in the state (id %s); 'cairn state rm %s' first to "
			  "replace it", name, have.id, name);
		goto out;
	}
	ctx.aws = aws;
	ctx.stack = stack->name;
	ctx.name = name;
	ctx.cancel = ui_cancel_flag();
	/* a type without its own import is read by the console id, with no prior */
	if (ops->import) {
		irc = ops->import(&ctx, id, &out, &err);
	} else if ((irc = ops->read(&ctx, id, NULL, &out, &err)) == 0 && !out) {
		err_set(&err, CAIRN_ENOTFOUND, "%s '%s' not found", res->type, id);
		irc = -1;
	}
	if (irc < 0) {
		err_prefix(&err, "cannot import '%s' as %s (%s)", id, name, res->type);
		msg_err(&err);
		goto out;
	}
	sr.name = (char *)name;
	sr.type = res->type;
	sr.id = (char *)json_string_value(json_object_get(out, "id"));
	sr.attrs = out;
	sr.deps = res->deps;
	sr.schema_version = (int)json_integer_value(json_object_get(schema_get(res->type),
								    "version"));
	if (!sr.id) {
		msg_error("cannot import '%s': the provider returned no id", id);
		goto out;
	}
	hist = json_pack("{s:s,s:s,s:s}", "name", name, "type", res->type, "id", sr.id);
	if (state_put(st, stack->name, &sr, &err) < 0 ||
	    state_history_add(st, stack->name, "import", "success", hist, &err) < 0) {
		msg_err(&err);
		goto out;
	}
	if (!msg_quiet())
		printf("%s%s%s: Import complete [id=%s]\n", msg_c("bold"), name, msg_c("reset"),
		       sr.id);
	rc = 0;
out:
	if (locked)
		ui_unlock(st, stack->name);
	if (found)
		state_resource_free(&have);
	json_decref(out);
	json_decref(hist);
	aws_client_free(aws);
	state_close(st);
	stack_free(stack);
	stack_args_free(&sa);
	return rc;
}
