/*
 * graph: see graph.h. Edges are collected as a list, then turned once into
 * compressed rows (successors and predecessors of each node, duplicates
 * dropped) at the first query.
 */
#include <stdlib.h>
#include <string.h>

#include "graph.h"
#include "../lib/util.h"

struct edge {
	size_t u, v;
};

struct graph {
	size_t n;
	struct edge *edges; size_t n_edges, cap;
	int built;
	size_t *succ_at, *succ;         /* succ[succ_at[v] .. succ_at[v+1]) */
	size_t *pred_at, *pred;
};

struct graph *graph_new(size_t n)
{
	struct graph *g = xcalloc(1, sizeof(*g));

	g->n = n;
	return g;
}

void graph_free(struct graph *g)
{
	if (!g)
		return;
	free(g->edges);
	free(g->succ_at);
	free(g->succ);
	free(g->pred_at);
	free(g->pred);
	free(g);
}

size_t graph_size(const struct graph *g)
{
	return g->n;
}

void graph_edge(struct graph *g, size_t u, size_t v)
{
	if (g->n_edges == g->cap) {
		g->cap = g->cap ? 2 * g->cap : 16;
		g->edges = xrealloc(g->edges, g->cap * sizeof(*g->edges));
	}
	g->edges[g->n_edges++] = (struct edge){u, v};
}

static int cmp_edge(const void *a, const void *b)
{
	const struct edge *x = a, *y = b;

	if (x->u != y->u)
		return x->u < y->u ? -1 : 1;
	return x->v < y->v ? -1 : x->v > y->v;
}

/* Compressed rows of the (sorted, unique) edges, by u when fwd, else by v. */
static void rows(const struct graph *g, int fwd, size_t **at, size_t **to)
{
	size_t i, *fill;

	*at = xcalloc(g->n + 2, sizeof(size_t));
	*to = xcalloc(g->n_edges + 1, sizeof(size_t));
	for (i = 0; i < g->n_edges; i++)
		(*at)[(fwd ? g->edges[i].u : g->edges[i].v) + 1]++;
	for (i = 0; i < g->n; i++)
		(*at)[i + 1] += (*at)[i];
	fill = xcalloc(g->n + 1, sizeof(size_t));
	memcpy(fill, *at, g->n * sizeof(size_t));
	for (i = 0; i < g->n_edges; i++) {
		const struct edge *e = &g->edges[i];

		(*to)[fill[fwd ? e->u : e->v]++] = fwd ? e->v : e->u;
	}
	free(fill);
}

static void build(struct graph *g)
{
	size_t i, k = 0;

	if (g->built)
		return;
	g->built = 1;
	if (g->n_edges)
		qsort(g->edges, g->n_edges, sizeof(*g->edges), cmp_edge);
	for (i = 0; i < g->n_edges; i++)
		if (k == 0 || cmp_edge(&g->edges[k - 1], &g->edges[i]) != 0)
			g->edges[k++] = g->edges[i];
	g->n_edges = k;
	rows(g, 1, &g->succ_at, &g->succ);
	rows(g, 0, &g->pred_at, &g->pred);
}

const size_t *graph_succ(struct graph *g, size_t v, size_t *n)
{
	build(g);
	*n = g->succ_at[v + 1] - g->succ_at[v];
	return g->succ + g->succ_at[v];
}

size_t graph_npred(struct graph *g, size_t v)
{
	build(g);
	return g->pred_at[v + 1] - g->pred_at[v];
}

/* ---- order: Kahn's algorithm, the ready set in a min-heap of ranks ---- */

struct heap {
	size_t *v, n;
};

static void heap_push(struct heap *h, size_t r)
{
	size_t i = h->n++;

	while (i > 0 && h->v[(i - 1) / 2] > r) {
		h->v[i] = h->v[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	h->v[i] = r;
}

static size_t heap_pop(struct heap *h)
{
	size_t top = h->v[0], last = h->v[--h->n], i = 0;

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= h->n)
			break;
		if (c + 1 < h->n && h->v[c + 1] < h->v[c])
			c++;
		if (h->v[c] >= last)
			break;
		h->v[i] = h->v[c];
		i = c;
	}
	if (h->n)
		h->v[i] = last;
	return top;
}

size_t graph_order(struct graph *g, const size_t *rank, enum graph_dir dir, size_t *order)
{
	size_t n = g->n, i, k, e, placed = 0, broken = 0;
	size_t *at_rank = xcalloc(n + 1, sizeof(size_t));
	size_t *waiting = xcalloc(n + 1, sizeof(size_t));
	char *done = xcalloc(n + 1, 1);
	struct heap ready = {xcalloc(n + 1, sizeof(size_t)), 0};
	/* "after" rows: the nodes a node must wait for; "next" rows: the
	 * nodes that wait for it. */
	const size_t *next_at, *next, *wait_at;

	build(g);
	next_at = dir == GRAPH_PRED_FIRST ? g->succ_at : g->pred_at;
	next = dir == GRAPH_PRED_FIRST ? g->succ : g->pred;
	wait_at = dir == GRAPH_PRED_FIRST ? g->pred_at : g->succ_at;
	for (i = 0; i < n; i++) {
		at_rank[rank ? rank[i] : i] = i;
		waiting[i] = wait_at[i + 1] - wait_at[i];
		if (!waiting[i])
			heap_push(&ready, rank ? rank[i] : i);
	}
	for (k = 0; k < n; k++) {
		size_t pick;

		if (ready.n) {
			pick = at_rank[heap_pop(&ready)];
		} else {
			/* a cycle: go on with the smallest rank not placed */
			while (done[at_rank[placed]])
				placed++;
			pick = at_rank[placed];
			broken++;
		}
		done[pick] = 1;
		order[k] = pick;
		for (e = next_at[pick]; e < next_at[pick + 1]; e++) {
			size_t u = next[e];

			if (!done[u] && waiting[u] && --waiting[u] == 0)
				heap_push(&ready, rank ? rank[u] : u);
		}
	}
	free(at_rank);
	free(waiting);
	free(done);
	free(ready.v);
	return broken;
}

/* ---- strongly connected components (Tarjan) ---- */

struct tarjan {
	struct graph *g;
	long *index, *low;
	size_t *comp;
	char *onstack;
	size_t *stk, sp;
	long next;
	size_t ncomp;
};

static void strongconnect(struct tarjan *t, size_t v)
{
	size_t e;

	t->index[v] = t->low[v] = t->next++;
	t->stk[t->sp++] = v;
	t->onstack[v] = 1;
	for (e = t->g->succ_at[v]; e < t->g->succ_at[v + 1]; e++) {
		size_t w = t->g->succ[e];

		if (t->index[w] < 0) {
			strongconnect(t, w);
			if (t->low[w] < t->low[v])
				t->low[v] = t->low[w];
		} else if (t->onstack[w] && t->index[w] < t->low[v]) {
			t->low[v] = t->index[w];
		}
	}
	if (t->low[v] == t->index[v]) {
		size_t w;

		do {
			w = t->stk[--t->sp];
			t->onstack[w] = 0;
			t->comp[w] = t->ncomp;
		} while (w != v);
		t->ncomp++;
	}
}

size_t graph_scc(struct graph *g, size_t *comp)
{
	struct tarjan t = {0};
	size_t i, n = g->n;

	build(g);
	t.g = g;
	t.comp = comp;
	t.index = xcalloc(n + 1, sizeof(long));
	t.low = xcalloc(n + 1, sizeof(long));
	t.onstack = xcalloc(n + 1, 1);
	t.stk = xcalloc(n + 1, sizeof(size_t));
	for (i = 0; i < n; i++)
		t.index[i] = -1;
	for (i = 0; i < n; i++)
		if (t.index[i] < 0)
			strongconnect(&t, i);
	free(t.index);
	free(t.low);
	free(t.onstack);
	free(t.stk);
	return t.ncomp;
}

int graph_on_cycle(struct graph *g, const size_t *comp, size_t v)
{
	size_t e, i;

	build(g);
	for (e = g->succ_at[v]; e < g->succ_at[v + 1]; e++)
		if (g->succ[e] == v)
			return 1;
	for (i = 0; i < g->n; i++)
		if (i != v && comp[i] == comp[v])
			return 1;
	return 0;
}

size_t graph_cycle(struct graph *g, const size_t *comp, size_t v, size_t *path)
{
	size_t n = g->n, qh = 0, qt = 0, len = 0, e;
	size_t *queue = xcalloc(n + 1, sizeof(size_t));
	long *prev = xcalloc(n + 1, sizeof(long)), last = -1, i;

	build(g);
	for (i = 0; i < (long)n; i++)
		prev[i] = -2;
	queue[qt++] = v;
	prev[v] = -1;
	/* breadth first from v: the first edge back to v closes a shortest cycle */
	while (qh < qt && last < 0) {
		size_t u = queue[qh++];

		for (e = g->succ_at[u]; e < g->succ_at[u + 1]; e++) {
			size_t w = g->succ[e];

			if (comp[w] != comp[v])
				continue;
			if (w == v) {
				last = (long)u;
				break;
			}
			if (prev[w] == -2) {
				prev[w] = (long)u;
				queue[qt++] = w;
			}
		}
	}
	/* walk back from the last member to v, then reverse */
	for (; last >= 0; last = prev[last])
		path[len++] = (size_t)last;
	for (e = 0; e < len / 2; e++) {
		size_t tmp = path[e];

		path[e] = path[len - 1 - e];
		path[len - 1 - e] = tmp;
	}
	free(queue);
	free(prev);
	return len;
}
