/*
 * cairn output [NAME] [--json]: the outputs recorded by the last apply.
 */
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "../state/state.h"

enum { OPT_JSON = OPT_CMD_BASE, OPT_STACK };

static const struct option options[] = {
	STACK_LONGOPTS,
	{"json", no_argument, NULL, OPT_JSON},
	{"stack", required_argument, NULL, OPT_STACK},
	{NULL, 0, NULL, 0}
};

static int cmp_key(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void print_value(json_t *v, int raw_strings)
{
	char *text;

	if (raw_strings && json_is_string(v)) {
		puts(json_string_value(v));
		return;
	}
	text = json_dumps(v, JSON_ENCODE_ANY | JSON_SORT_KEYS |
			  (json_is_object(v) || json_is_array(v) ? JSON_INDENT(2) : 0));
	puts(text ? text : "null");
	free(text);
}

int cmd_output(int argc, char **argv, const struct global_opts *g)
{
	struct stack_args sa;
	const char *stack_opt = NULL, *name = NULL, **keys = NULL, *k;
	struct state *st = NULL;
	struct cairn_err err;
	json_t *outs = NULL, *o;
	char *stack = NULL;
	int as_json = 0, c, rc = 1;
	size_t n = 0, i;

	stack_args_init(&sa);
	err_clear(&err);
	while ((c = getopt_long(argc, argv, "f:", options, NULL)) != -1) {
		if (stack_args_opt(&sa, c, optarg))
			continue;
		if (c == OPT_JSON) {
			as_json = 1;
		} else if (c == OPT_STACK) {
			stack_opt = optarg;
		} else {
			rc = msg_usage("output", "bad option");
			goto out;
		}
	}
	if (optind < argc)
		name = argv[optind++];
	if (optind < argc) {
		rc = msg_usage("output", "unexpected argument '%s'", argv[optind]);
		goto out;
	}
	st = cmd_open_state(g, 0);
	if (!st)
		goto out;
	stack = cmd_stack_name(&sa, stack_opt, g, st);
	if (!stack)
		goto out;
	if (state_outputs_get(st, stack, &outs, &err) != 0) {
		msg_err(&err);
		goto out;
	}
	if (name) {
		o = json_object_get(outs, name);
		if (!o) {
			msg_error("no output '%s' in stack '%s'; run 'cairn apply' first if it is new",
				  name, stack);
			goto out;
		}
		print_value(json_object_get(o, "value"), !as_json);
		rc = 0;
		goto out;
	}
	if (as_json) {
		json_dumpf(outs, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
		fputc('\n', stdout);
		rc = 0;
		goto out;
	}
	keys = xcalloc(json_object_size(outs) + 1, sizeof(*keys));
	json_object_foreach(outs, k, o)
		keys[n++] = k;
	qsort(keys, n, sizeof(*keys), cmp_key);
	for (i = 0; i < n; i++) {
		o = json_object_get(outs, keys[i]);
		printf("%s = ", keys[i]);
		if (json_is_true(json_object_get(o, "sensitive")))
			puts("(sensitive)");
		else
			print_value(json_object_get(o, "value"), 0);
	}
	rc = 0;
out:
	free(keys);
	json_decref(outs);
	free(stack);
	state_close(st);
	stack_args_free(&sa);
	return rc;
}
