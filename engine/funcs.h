/*
 * funcs: the built-in functions of the expression language (SPEC §3.1),
 * with Terraform's names, arguments and results, and the value helpers
 * (kinds, numbers, text, equality) that the evaluator shares with them.
 *
 * Values are jansson values: strings, numbers (integers where the value is
 * whole), bools, null, lists (arrays) and maps (objects), plus value.h's
 * unknown marker. The language-level functions that need the evaluator
 * (templatefile, try, can) live in expr.c; everything here is pure
 * except file and filebase64sha256, which read relative to basedir.
 */
#ifndef CAIRN_FUNCS_H
#define CAIRN_FUNCS_H

#include <stddef.h>
#include <jansson.h>

#include "../lib/util.h"

struct func_ctx {
	const char *basedir;      /* directory of the calling file; NULL: "." */
	const struct func_def *def;
	struct cairn_err *err;    /* set on failure */
};

/* Returns a new reference, or NULL with c->err set. args are borrowed and
 * known (no unknown marker inside, unless the function is FUNC_STRUCTURAL). */
typedef json_t *(*func_fn)(struct func_ctx *c, json_t **args, size_t n);

/* The function copes with unknown values nested in its arguments (it only
 * moves them around); otherwise any unknown argument makes the result unknown. */
#define FUNC_STRUCTURAL 1u

struct func_def {
	const char *name;
	int min, max;             /* argument count; max -1: any number */
	const char *sig;          /* "cidrsubnet(prefix string, newbits number, netnum number)" */
	unsigned flags;
	func_fn fn;               /* NULL for the functions expr.c implements */
};

/* The function named name, or NULL. Borrowed, static. */
const struct func_def *func_find(const char *name);
/* Every function name: a new array of strings. */
json_t *func_names(void);

/* "string", "number", "bool", "list", "map", "null" or "unknown". */
const char *func_kind(const json_t *v);
/* d as a JSON number: an integer when d is whole and fits. New reference. */
json_t *func_number(double d);
/* Number value of a number, or of a string that reads as one: 0, else -1. */
int func_to_number(const json_t *v, double *out);
/* Text of a string, number or bool (Terraform's tostring): owned, or NULL
 * for any other kind. */
char *func_to_text(const json_t *v);
/* Bool of a bool or of "true"/"false": 0 / 1, or -1. */
int func_to_bool(const json_t *v);
/* Equality as the language has it: numbers by value, deep. */
int func_equal(const json_t *a, const json_t *b);
/* The keys of a map in lexical order: new array of strings. */
json_t *func_sorted_keys(const json_t *obj);
/* Number of characters (UTF-8 code points) of s. */
size_t func_utf8_len(const char *s);

#endif
