/*
 * graph: dependency-cycle reporting for stack loading (stack_topo_order
 * and stack_write_dot are declared in stack.h and live in graph.c too).
 */
#ifndef CAIRN_GRAPH_H
#define CAIRN_GRAPH_H

#include "stack.h"

/* Adds one diagnostic per dependency cycle among s's resources (their
 * deps arrays), printed as "a -> b -> a" with each member's position.
 * Returns the number of cycles found. */
size_t graph_cycles(const struct stack *s, struct diags *d);

#endif
