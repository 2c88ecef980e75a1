/*
 * stack_common: the body of the two stack-loader targets (YAML and JSON
 * differ only in the file suffix, which picks the parser).
 */
#ifndef CAIRN_FUZZ_STACK_COMMON_H
#define CAIRN_FUZZ_STACK_COMMON_H
#include <stdio.h>

#include "fuzz.h"
#include "../../engine/stack.h"

static void fuzz_stack(const uint8_t *data, size_t size, const char *suffix)
{
	static FILE *devnull;
	struct stack_opts opts = {0};
	struct diags diags;
	struct stack *s;

	if (!devnull)
		devnull = fopen("/dev/null", "w");
	diags_init(&diags);
	s = stack_load(fuzz_scratch(data, size, suffix), &opts, &diags);
	if (s) {
		size_t *order = NULL;

		/* What the commands do next with a valid stack: order, graph,
		 * positions for later errors. */
		stack_topo_order(s, &order);
		free(order);
		stack_write_dot(s, devnull);
		if (s->n_resources)
			(void)stack_pos(s, "resources", 1);
		stack_free(s);
	}
	diags_print(&diags, devnull);
	diags_free(&diags);
}
#endif
