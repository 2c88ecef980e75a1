/*
 * schema: the per-type attribute schemas (schemas/TYPE.json, embedded in
 * the binary at build time). One format drives validation, normalization,
 * the diff, `cairn schema` and the tests; see schemas/README.md.
 *
 * All returned json_t are borrowed from the immutable embedded set.
 */
#ifndef CAIRN_SCHEMA_H
#define CAIRN_SCHEMA_H

#include <jansson.h>

#include "../lib/util.h"

/* The schema object of TYPE, or NULL if the type is unknown. */
const json_t *schema_get(const char *type);

/* Sorted array of the supported type names (borrowed). */
const json_t *schema_types(void);

/* The schema of data source TYPE (schemas/data.TYPE.json), or NULL; and
 * the sorted data source type names. Borrowed, immutable. */
const json_t *schema_data_get(const char *type);
const json_t *schema_data_types(void);

/* The "attributes" object of a schema, and one attribute's spec (or NULL). */
const json_t *schema_attrs(const json_t *schema);
const json_t *schema_attr(const json_t *schema, const char *name);

/* Spec flags; spec is an attribute spec (top-level or nested). */
int schema_is_required(const json_t *spec);
int schema_is_computed(const json_t *spec);     /* computed (output-only or optional+computed) */
int schema_is_output(const json_t *spec);       /* computed and not settable */
int schema_forces_new(const json_t *spec);
int schema_is_sensitive(const json_t *spec);
int schema_is_unordered(const json_t *spec);    /* a list compared as a multiset */
int schema_is_unique(const json_t *spec);       /* AWS refuses two objects with the value */
/* For a list of objects: the array of element attribute names that
 * identify an element ("key"), or NULL when elements have no identity. */
const json_t *schema_list_key(const json_t *spec);

/*
 * Whether s matches the spec's "pattern" (POSIX extended regex). Each
 * pattern is compiled once and cached for the life of the process; any
 * thread may call. Returns 1 on a match, and also when the spec has no
 * pattern or its pattern does not compile; 0 otherwise.
 */
int schema_pattern_ok(const json_t *spec, const char *s);

/*
 * Turns evaluated properties (every value known, or an unknown marker from
 * value.h) into the attribute object a provider gets: defaults applied,
 * lossless coercions made ("80" -> 80 for numbers, "true" -> true),
 * nested objects/lists normalized the same way, attributes whose
 * "only_when" mode is not the resource's left out (AWS reports them in a
 * form of its own there, e.g. capacity 0 under PAY_PER_REQUEST, and they
 * must not read as changes). Unknown markers pass through. Returns a new reference, or NULL with err set (no position).
 */
json_t *schema_normalize(const json_t *schema, json_t *props, struct cairn_err *err);

/*
 * Normalizes one value against an attribute spec (as schema_normalize does
 * for a whole object); name is used in the error message. Returns a new
 * reference or NULL with err.
 */
json_t *schema_coerce(const json_t *spec, json_t *v, const char *name, struct cairn_err *err);

/* The spec's type name ("string" when the spec leaves it out). */
const char *schema_type_of(const json_t *spec);

#endif
