/*
 * expr: "${...}" references inside string values (SPEC §3).
 *
 *   ${NAME.ATTR[.key|[index]]...}  another resource's attribute
 *   ${var.NAME} ${aws.region} ${aws.account_id} ${stack.name}
 *   $${            a literal "${"
 *
 * A string that is exactly one reference takes the referenced value's type;
 * a reference inside longer text is turned into a string.
 */
#ifndef CAIRN_EXPR_H
#define CAIRN_EXPR_H

#include <jansson.h>

#include "../lib/util.h"

/*
 * Looks up one reference. root: "var", "aws", "stack" or a resource name;
 * path: what follows the first dot, e.g. "id", "tags.Name", "subnets[0]".
 * Returns a new reference: the value, an unknown marker (value.h) when it is
 * not known yet, or NULL with err set when it cannot exist.
 */
typedef json_t *(*expr_lookup_fn)(void *ctx, const char *root, const char *path,
				  struct cairn_err *err);

/* Evaluates every string in v (deeply). Returns a new reference or NULL with err. */
json_t *expr_eval(json_t *v, expr_lookup_fn lookup, void *ctx, struct cairn_err *err);

/* Calls fn for every reference in v (deeply): root and path as above. */
typedef void (*expr_ref_fn)(void *ctx, const char *root, const char *path);
int expr_refs(json_t *v, expr_ref_fn fn, void *ctx, struct cairn_err *err);

/* Walks path ("tags.Name", "subnets[0].id") inside value. Borrowed result or NULL. */
json_t *expr_walk(json_t *value, const char *path);

/*
 * Partial evaluation (stack loading): like expr_eval, but a reference for
 * which lookup returns NULL without setting err stays as its "${...}"
 * text, literal "$${" stays escaped, and strings inside substituted values
 * are escaped ("${" -> "$${") so that a later expr_eval reads them as
 * literal text. Returns a new reference or NULL with err.
 */
json_t *expr_subst(json_t *v, expr_lookup_fn lookup, void *ctx, struct cairn_err *err);

/* If s is exactly one reference, sets *root and *path (owned) and returns 1; else 0. */
int expr_single_ref(const char *s, char **root, char **path);

/* Splits a path into segments: strings for ".key", integers for "[index]".
 * Returns a new array, or NULL when the path is malformed. */
json_t *expr_path_split(const char *path);

#endif
