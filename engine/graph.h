/*
 * graph: a generic directed graph over nodes 0..n-1, for everything that
 * orders work by dependencies: the stack's resources (stack.c), the plan's
 * deletions (plan.c) and the executor's operations (exec.c).
 *
 * An edge u -> v is added with graph_edge; what it means is the caller's
 * (stack and plan: "u depends on v"; exec: "u runs before v"). Duplicate
 * edges count once. Orders break ties by a caller-given rank, so they are
 * stable: among the nodes that may come next, the smallest rank first.
 */
#ifndef CAIRN_GRAPH_H
#define CAIRN_GRAPH_H

#include <stddef.h>

struct graph;

/* A graph of n nodes and no edges (owned; graph_free). */
struct graph *graph_new(size_t n);
void graph_free(struct graph *g);
size_t graph_size(const struct graph *g);

/* Adds u -> v. Only before the first query below. */
void graph_edge(struct graph *g, size_t u, size_t v);

/* Successors of v: *n of them in a borrowed array, valid until graph_free. */
const size_t *graph_succ(struct graph *g, size_t v, size_t *n);
/* Number of distinct predecessors of v. */
size_t graph_npred(struct graph *g, size_t v);

enum graph_dir {
	GRAPH_PRED_FIRST,   /* every node after its predecessors (u before v) */
	GRAPH_SUCC_FIRST    /* every node after its successors (v before u) */
};

/*
 * Topological order into order[0..n-1] (caller's array). rank[i]: node i's
 * tie-break rank, distinct values; NULL means the node index. On a cycle
 * the order goes on with the unplaced node of smallest rank, so every node
 * appears once. Returns how many nodes were placed that way (0: acyclic).
 * O((n + e) log n).
 */
size_t graph_order(struct graph *g, const size_t *rank, enum graph_dir dir, size_t *order);

/* Strongly connected components (Tarjan): comp[i] gets node i's component
 * number (caller's array of n). Returns the number of components. */
size_t graph_scc(struct graph *g, size_t *comp);

/* True if v is on a cycle: in a component of several nodes, or with an
 * edge to itself. comp: from graph_scc. */
int graph_on_cycle(struct graph *g, const size_t *comp, size_t v);

/* A shortest cycle v -> ... -> v along the edges, inside v's component:
 * path[0] = v, then the following nodes (caller's array of n). Returns the
 * number of nodes written (1 for a self edge), 0 if v is on no cycle. */
size_t graph_cycle(struct graph *g, const size_t *comp, size_t v, size_t *path);

#endif
