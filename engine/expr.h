/*
 * expr: the expression language inside string values (SPEC §3, §3.1):
 * templates with "${ EXPR }" where EXPR is HCL's expression syntax
 * (literals, references, operators, conditionals, splats, function calls,
 * for expressions); "$${" is a literal "${".
 *
 * References are what lookup resolves, root plus path:
 *   ${NAME.ATTR[.key|[index]]...}  another resource's attribute
 *   ${var.NAME} ${local.NAME} ${aws.region} ${aws.account_id} ${stack.name}
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

/* What expressions are evaluated against. All borrowed. */
struct expr_env {
	expr_lookup_fn lookup;
	void *ctx;
	const char *basedir;    /* file, templatefile, filebase64sha256 read relative
				 * to it; NULL: the current directory */
};

/*
 * One string: a template with "${ }" expressions (the language of SPEC
 * §3.1). partial: as expr_subst. On failure returns NULL with err set and
 * *err_off (may be NULL) the byte offset in s the problem is at.
 */
json_t *expr_string(const char *s, const struct expr_env *env, int partial, size_t *err_off,
		    struct cairn_err *err);

/* expr_eval with an environment. */
json_t *expr_eval_env(json_t *v, const struct expr_env *env, struct cairn_err *err);

/*
 * A value a lookup may return in partial evaluation: the reference stands
 * for the expression text (e.g. a local whose value needs a resource), so
 * the reference is left for later rewritten as "(text)". New reference.
 */
json_t *expr_residual(const char *text);

/* A value made by expr_subst written as one expression (for a residual):
 * a string that is one "${EXPR}" becomes "(EXPR)", other strings quoted
 * templates, lists and maps their constructors. Owned. */
char *expr_hcl(json_t *v);

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
