/*
 * graph: the resource dependency graph of a loaded stack. Edges come from
 * each resource's deps array (references in properties plus depends_on).
 * Cycles are found as strongly connected components (Tarjan), one report
 * per component, as its shortest cycle through the member with the
 * smallest name.
 */
#include <stdlib.h>
#include <string.h>

#include "graph.h"

static long dep_index(const struct stack *s, json_t *dep)
{
	return stack_find(s, json_string_value(dep));
}

struct tarjan {
	const struct stack *s;
	long *index, *low, *comp;
	int *onstack;
	size_t *stk, sp;
	long next, ncomp;
};

static void strongconnect(struct tarjan *t, size_t v)
{
	json_t *dep;
	size_t i;

	t->index[v] = t->low[v] = t->next++;
	t->stk[t->sp++] = v;
	t->onstack[v] = 1;
	json_array_foreach(t->s->resources[v].deps, i, dep) {
		long w = dep_index(t->s, dep);

		if (w < 0)
			continue;
		if (t->index[w] < 0) {
			strongconnect(t, (size_t)w);
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

/* Shortest path start -> ... -> start inside component c (BFS). */
static void report_cycle(const struct stack *s, struct tarjan *t, size_t start, struct diags *d)
{
	size_t n = s->n_resources, *queue = xcalloc(n, sizeof(*queue)), qh = 0, qt = 0, i;
	long *prev = xcalloc(n, sizeof(*prev)), last = -1;
	size_t *path = xcalloc(n + 1, sizeof(*path)), len = 0;
	struct strbuf names, where;
	json_t *dep;

	for (i = 0; i < n; i++)
		prev[i] = -2;
	queue[qt++] = start;
	prev[start] = -1;
	while (qh < qt && last < 0) {
		size_t v = queue[qh++];

		json_array_foreach(s->resources[v].deps, i, dep) {
			long w = dep_index(s, dep);

			if (w < 0 || t->comp[w] != t->comp[start])
				continue;
			if ((size_t)w == start) {
				last = (long)v;
				break;
			}
			if (prev[w] == -2) {
				prev[w] = (long)v;
				queue[qt++] = (size_t)w;
			}
		}
	}
	for (; last >= 0; last = prev[last])
		path[len++] = (size_t)last;
	/* path holds the cycle backwards from its last member to start */
	strbuf_init(&names);
	strbuf_init(&where);
	for (i = len; i-- > 0;) {
		const struct stack_resource *r = &s->resources[path[i]];

		strbuf_addf(&names, "%s -> ", r->name);
		strbuf_addf(&where, "%s%s at %s:%d:%d", i + 1 == len ? "" : ", ", r->name,
			    s->file, r->pos.line, r->pos.col);
	}
	strbuf_adds(&names, s->resources[start].name);
	diags_add(d, s->file, s->resources[start].pos.line, s->resources[start].pos.col,
		  "dependency cycle: %s (%s)", names.buf, where.buf);
	strbuf_free(&names);
	strbuf_free(&where);
	free(queue);
	free(prev);
	free(path);
}

size_t graph_cycles(const struct stack *s, struct diags *d)
{
	size_t n = s->n_resources, i, j, found = 0, *size, *first;
	struct tarjan t = {0};

	t.s = s;
	t.index = xcalloc(n + 1, sizeof(long));
	t.low = xcalloc(n + 1, sizeof(long));
	t.comp = xcalloc(n + 1, sizeof(long));
	t.onstack = xcalloc(n + 1, sizeof(int));
	t.stk = xcalloc(n + 1, sizeof(size_t));
	for (i = 0; i < n; i++)
		t.index[i] = -1;
	for (i = 0; i < n; i++)
		if (t.index[i] < 0)
			strongconnect(&t, i);
	/* each component's size and member with the smallest name, in one pass */
	size = xcalloc((size_t)t.ncomp + 1, sizeof(size_t));
	first = xcalloc((size_t)t.ncomp + 1, sizeof(size_t));
	for (i = 0; i < n; i++) {
		size_t c = (size_t)t.comp[i];

		if (size[c]++ == 0 || strcmp(s->resources[i].name, s->resources[first[c]].name) < 0)
			first[c] = i;
	}
	for (i = 0; i < n; i++) {
		size_t c = (size_t)t.comp[i];
		int self = 0;
		json_t *dep;

		if (first[c] != i)
			continue;   /* report each component once, from its first name */
		json_array_foreach(s->resources[i].deps, j, dep)
			if (dep_index(s, dep) == (long)i)
				self = 1;
		if (size[c] > 1 || self) {
			report_cycle(s, &t, i, d);
			found++;
		}
	}
	free(size);
	free(first);
	free(t.index);
	free(t.low);
	free(t.comp);
	free(t.onstack);
	free(t.stk);
	return found;
}

struct named {
	const char *name;
	size_t index;
};

static int cmp_named(const void *a, const void *b)
{
	return strcmp(((const struct named *)a)->name, ((const struct named *)b)->name);
}

/* Each index's rank in name order (owned array). */
static size_t *name_ranks(const struct stack *s)
{
	size_t n = s->n_resources, i;
	struct named *by_name = xcalloc(n + 1, sizeof(*by_name));
	size_t *rank = xcalloc(n + 1, sizeof(size_t));

	for (i = 0; i < n; i++) {
		by_name[i].name = s->resources[i].name;
		by_name[i].index = i;
	}
	qsort(by_name, n, sizeof(*by_name), cmp_named);
	for (i = 0; i < n; i++)
		rank[by_name[i].index] = i;
	free(by_name);
	return rank;
}

/* A binary min-heap of name ranks: the ready resource with the smallest name. */
struct rank_heap {
	size_t *v, n;
};

static void heap_push(struct rank_heap *h, size_t r)
{
	size_t i = h->n++;

	while (i > 0 && h->v[(i - 1) / 2] > r) {
		h->v[i] = h->v[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	h->v[i] = r;
}

static size_t heap_pop(struct rank_heap *h)
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

/*
 * Kahn's algorithm with the ready set in a heap by name: O((n + e) log n),
 * the same order as repeatedly taking the smallest-named resource whose
 * dependencies are all placed.
 */
void stack_topo_order(const struct stack *s, size_t **order)
{
	size_t n = s->n_resources, k, i, j, placed = 0;
	size_t *rank = name_ranks(s), *at_rank = xcalloc(n + 1, sizeof(size_t));
	size_t *waiting = xcalloc(n + 1, sizeof(size_t));      /* unplaced deps per resource */
	size_t *first = xcalloc(n + 2, sizeof(size_t)), *users, fill;
	size_t *next = xcalloc(n + 1, sizeof(size_t));
	int *done = xcalloc(n + 1, sizeof(int));
	struct rank_heap ready = {xcalloc(n + 1, sizeof(size_t)), 0};
	json_t *dep;

	for (i = 0; i < n; i++)
		at_rank[rank[i]] = i;
	/* users of each resource, as compressed rows: first[w]..first[w+1] */
	for (i = 0; i < n; i++)
		json_array_foreach(s->resources[i].deps, j, dep) {
			long w = dep_index(s, dep);

			if (w >= 0) {
				first[w + 1]++;
				waiting[i]++;
			}
		}
	for (i = 0; i < n; i++)
		first[i + 1] += first[i];
	users = xcalloc(first[n] + 1, sizeof(size_t));
	for (i = 0; i < n; i++)
		next[i] = first[i];
	for (i = 0; i < n; i++)
		json_array_foreach(s->resources[i].deps, j, dep) {
			long w = dep_index(s, dep);

			if (w >= 0)
				users[next[w]++] = i;
		}
	for (i = 0; i < n; i++)
		if (!waiting[i])
			heap_push(&ready, rank[i]);
	*order = xcalloc(n + 1, sizeof(size_t));
	for (k = 0; k < n; k++) {
		size_t pick;

		if (ready.n) {
			pick = at_rank[heap_pop(&ready)];
		} else {
			/* Only reachable with a cycle, which stack_load refuses:
			 * go on in name order so the caller still gets every index. */
			while (done[at_rank[placed]])
				placed++;
			pick = at_rank[placed];
		}
		done[pick] = 1;
		(*order)[k] = pick;
		for (fill = first[pick]; fill < first[pick + 1]; fill++) {
			size_t u = users[fill];

			if (!done[u] && waiting[u] && --waiting[u] == 0)
				heap_push(&ready, rank[u]);
		}
	}
	free(rank);
	free(at_rank);
	free(waiting);
	free(first);
	free(users);
	free(next);
	free(done);
	free(ready.v);
}

/* An address inside a DOT string: '"' and '\\' escaped. Owned. */
static char *dot_quote(const char *s)
{
	struct strbuf sb;

	strbuf_init(&sb);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			strbuf_addc(&sb, '\\');
		strbuf_addc(&sb, *s);
	}
	return strbuf_detach(&sb);
}

void stack_write_dot(const struct stack *s, FILE *f)
{
	size_t *order, k, i;
	json_t *dep;

	stack_topo_order(s, &order);
	fprintf(f, "digraph cairn {\n\trankdir=RL;\n\tnode [shape=box];\n");
	for (k = 0; k < s->n_resources; k++) {
		const struct stack_resource *r = &s->resources[order[k]];

		char *q = dot_quote(r->name);

		fprintf(f, "\t\"%s\" [label=\"%s (%s)\"];\n", q, q, r->type);
		free(q);
	}
	/* Edges point from a resource to what it depends on, as in terraform graph. */
	for (k = 0; k < s->n_resources; k++) {
		const struct stack_resource *r = &s->resources[order[k]];

		json_array_foreach(r->deps, i, dep) {
			char *a = dot_quote(r->name), *b = dot_quote(json_string_value(dep));

			fprintf(f, "\t\"%s\" -> \"%s\";\n", a, b);
			free(a);
			free(b);
		}
	}
	fprintf(f, "}\n");
	free(order);
}
