/*
 * eval: turning a resource's configuration (properties as written, with
 * ${...} references) into the attribute object its provider gets, and
 * comparing attribute objects the way the plan and the executor both must.
 * Shared by plan.c (at plan time, with unknowns) and exec.c (at apply
 * time, when the dependencies are done and their attributes known).
 */
#ifndef CAIRN_EVAL_H
#define CAIRN_EVAL_H

#include <jansson.h>

#include "../lib/util.h"

/* What references resolve against. All borrowed. */
struct eval_ctx {
	json_t *vars;              /* variable name -> value */
	const char *region;        /* ${aws.region} */
	const char *stack;         /* ${stack.name} */
	const char *account_id;    /* ${aws.account_id}; NULL: unknown */
	json_t *resources;         /* resource name -> attribute object known so far
				    * (may hold unknown markers); a name absent here
				    * resolves to unknown */
	json_t *data;              /* data source name -> attributes read (SPEC §3.1);
				    * NULL or a name absent: unknown */
};

/*
 * Evaluates config and normalizes it with the type's schema (defaults,
 * coercions). Returns a new attribute object (unknown markers where a
 * reference is not known yet), or NULL with err.
 */
json_t *eval_resource(const struct eval_ctx *e, const char *type, json_t *config,
		      struct cairn_err *err);

/* Evaluates any value (outputs): new reference or NULL with err. */
json_t *eval_value(const struct eval_ctx *e, json_t *value, struct cairn_err *err);

/*
 * Compares desired attributes (want) with recorded ones (have) for TYPE:
 * skips output-only attributes, optional+computed attributes the stack
 * leaves out, and the names in ignore (array or NULL). Sets *changed to a
 * new array of the differing top-level names and *forces to a new array of
 * those among them that force replacement (unknown values count as
 * different). Returns 0, or -1 for an unknown type.
 */
int eval_diff(const char *type, json_t *want, json_t *have, json_t *ignore,
	      json_t **changed, json_t **forces, struct cairn_err *err);

/*
 * Compares one top-level attribute NAME of TYPE by the rules of eval_diff
 * (numbers by value, empty equals unset, ownership tags left out of
 * "tags", json documents structurally, lists marked "unordered" as
 * multisets, unknown never equal). a and b are
 * borrowed and may be NULL. Returns 1 when equal.
 */
int eval_attr_equal(const char *type, const char *name, const json_t *a, const json_t *b);

/*
 * The same comparison for one value under an attribute spec (top-level,
 * nested or element; NULL: plain JSON): want is the planned side, have
 * the recorded one. Borrowed, may be NULL. Returns 1 when equal.
 */
int eval_value_equal(const json_t *spec, const json_t *want, const json_t *have);

/* True for what counts as "not set": NULL, null, "", [] and {}. */
int eval_is_empty(const json_t *v);

/* The keys of obj sorted: an owned array (free it) of n strings borrowed from obj. */
const char **eval_sorted_keys(const json_t *obj, size_t *n);

#endif
