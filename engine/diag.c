/*
 * diag: see diag.h.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"

void diags_init(struct diags *d)
{
	memset(d, 0, sizeof(*d));
}

void diags_free(struct diags *d)
{
	size_t i;

	if (!d)
		return;
	for (i = 0; i < d->n; i++) {
		free(d->v[i].file);
		free(d->v[i].msg);
	}
	free(d->v);
	memset(d, 0, sizeof(*d));
}

void diags_add(struct diags *d, const char *file, int line, int col, const char *fmt, ...)
{
	va_list ap;

	if (d->n == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 8;
		d->v = xrealloc(d->v, d->cap * sizeof(*d->v));
	}
	va_start(ap, fmt);
	d->v[d->n].msg = xvasprintf(fmt, ap);
	va_end(ap);
	d->v[d->n].file = xstrdup(file ? file : "");
	d->v[d->n].line = line;
	d->v[d->n].col = col;
	d->n++;
}

static int diag_cmp(const void *a, const void *b)
{
	const struct diag *x = *(const struct diag *const *)a, *y = *(const struct diag *const *)b;
	int c = strcmp(x->file, y->file);

	if (c)
		return c;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	if (x->col != y->col)
		return x->col < y->col ? -1 : 1;
	/* same position: keep the order they were found in */
	return x < y ? -1 : x > y;
}

void diags_print(const struct diags *d, FILE *f)
{
	const struct diag **v = xcalloc(d->n + 1, sizeof(*v));
	size_t i;

	for (i = 0; i < d->n; i++)
		v[i] = &d->v[i];
	qsort(v, d->n, sizeof(*v), diag_cmp);
	for (i = 0; i < d->n; i++)
		fprintf(f, "%s:%d:%d: error: %s\n", v[i]->file, v[i]->line, v[i]->col, v[i]->msg);
	free(v);
}
