/*
 * diag: diagnostics with a source position, collected rather than thrown at
 * the first problem (OpenTofu's tfdiags), and the position type every
 * stage of stack loading shares.
 */
#ifndef CAIRN_DIAG_H
#define CAIRN_DIAG_H

#include <stdio.h>

#include "../lib/util.h"

/* A collected diagnostic. */
struct diag {
	char *file;             /* owned */
	int line, col;
	char *msg;              /* owned, lowercase, no "error:" prefix */
};
struct diags {
	struct diag *v;
	size_t n, cap;
};
void diags_init(struct diags *d);
void diags_free(struct diags *d);
void diags_add(struct diags *d, const char *file, int line, int col, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* Prints each as "FILE:LINE:COL: error: MSG\n", sorted by file, line, col. */
void diags_print(const struct diags *d, FILE *f);

struct srcpos {
	int line, col;
};

#endif
