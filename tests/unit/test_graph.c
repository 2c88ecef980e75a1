/* Unit tests for engine/graph.c: orders with tie-break ranks, cycles. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>

#include "engine/graph.h"

static void assert_order(const size_t *got, const size_t *want, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		assert_int_equal(got[i], want[i]);
}

/* 0 -> 1 -> 3, 2 -> 3, 2 -> 2's duplicate edge counts once */
static void test_order_both_directions(void **state)
{
	struct graph *g = graph_new(4);
	size_t order[4], n;
	const size_t *succ;

	(void)state;
	graph_edge(g, 0, 1);
	graph_edge(g, 1, 3);
	graph_edge(g, 2, 3);
	graph_edge(g, 2, 3);
	assert_int_equal(graph_npred(g, 3), 2);
	succ = graph_succ(g, 2, &n);
	assert_int_equal(n, 1);
	assert_int_equal(succ[0], 3);
	assert_int_equal(graph_order(g, NULL, GRAPH_PRED_FIRST, order), 0);
	assert_order(order, (size_t[]){0, 1, 2, 3}, 4);
	assert_int_equal(graph_order(g, NULL, GRAPH_SUCC_FIRST, order), 0);
	assert_order(order, (size_t[]){3, 1, 0, 2}, 4);
	graph_free(g);
}

/* Among ready nodes the smallest rank goes first. */
static void test_order_rank(void **state)
{
	struct graph *g = graph_new(4);
	size_t rank[4] = {3, 2, 1, 0}, order[4];

	(void)state;
	graph_edge(g, 3, 0);
	assert_int_equal(graph_order(g, rank, GRAPH_PRED_FIRST, order), 0);
	assert_order(order, (size_t[]){3, 2, 1, 0}, 4);
	graph_free(g);
}

/* A cycle is broken by the smallest rank; the count says it was. */
static void test_order_cycle(void **state)
{
	struct graph *g = graph_new(3);
	size_t order[3];

	(void)state;
	graph_edge(g, 0, 1);
	graph_edge(g, 1, 0);
	graph_edge(g, 1, 2);
	assert_int_equal(graph_order(g, NULL, GRAPH_PRED_FIRST, order), 1);
	assert_order(order, (size_t[]){0, 1, 2}, 3);
	graph_free(g);
}

static void test_scc_and_cycle(void **state)
{
	struct graph *g = graph_new(6);
	size_t comp[6], path[6], ncomp;

	(void)state;
	/* 0 -> 1 -> 2 -> 0 and the shortcut 0 -> 2; 3 -> 3; 4 -> 5 */
	graph_edge(g, 0, 1);
	graph_edge(g, 1, 2);
	graph_edge(g, 2, 0);
	graph_edge(g, 0, 2);
	graph_edge(g, 3, 3);
	graph_edge(g, 4, 5);
	ncomp = graph_scc(g, comp);
	assert_int_equal(ncomp, 4);
	assert_int_equal(comp[0], comp[1]);
	assert_int_equal(comp[1], comp[2]);
	assert_int_not_equal(comp[4], comp[5]);
	assert_true(graph_on_cycle(g, comp, 1));
	assert_true(graph_on_cycle(g, comp, 3));
	assert_false(graph_on_cycle(g, comp, 4));
	/* shortest: 0 -> 2 -> 0 */
	assert_int_equal(graph_cycle(g, comp, 0, path), 2);
	assert_order(path, (size_t[]){0, 2}, 2);
	assert_int_equal(graph_cycle(g, comp, 1, path), 3);
	assert_order(path, (size_t[]){1, 2, 0}, 3);
	assert_int_equal(graph_cycle(g, comp, 3, path), 1);
	assert_int_equal(path[0], 3);
	assert_int_equal(graph_cycle(g, comp, 4, path), 0);
	graph_free(g);
}

static void test_empty(void **state)
{
	struct graph *g = graph_new(0);
	size_t order[1];

	(void)state;
	assert_int_equal(graph_size(g), 0);
	assert_int_equal(graph_order(g, NULL, GRAPH_PRED_FIRST, order), 0);
	assert_int_equal(graph_scc(g, order), 0);
	graph_free(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_both_directions),
		cmocka_unit_test(test_order_rank),
		cmocka_unit_test(test_order_cycle),
		cmocka_unit_test(test_scc_and_cycle),
		cmocka_unit_test(test_empty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
