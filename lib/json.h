/*
 * lib/json: small helpers over jansson that every layer may use: string
 * membership, emptiness, numbers in the shapes AWS and stacks give them.
 *
 * Parameters are borrowed; returned json_t are new references.
 */
#ifndef CAIRN_LIB_JSON_H
#define CAIRN_LIB_JSON_H

#include <jansson.h>

/* True if the array a (may be NULL or not an array) holds the string s. */
int json_array_has_str(const json_t *a, const char *s);

/*
 * True if v holds nothing: NULL, null, "", {} or []. (A false or a 0 is
 * a value, not nothing.)
 */
int json_is_nothing(const json_t *v);

/*
 * Reads a whole number given as a JSON integer, a real (truncated) or a
 * decimal string ("300", as AWS attribute maps give them) into *n.
 * Returns 0, or -1 (and leaves *n alone) when v is none of those.
 */
int json_int_of(const json_t *v, json_int_t *n);

/* json_int_of's number, or dflt when v holds none. */
json_int_t json_int_or(const json_t *v, json_int_t dflt);

/*
 * A document attribute (policy, filter, lifecycle rules: a structure, or
 * its text as a string) as the text an API takes: a string as it is, an
 * object or array as compact JSON with sorted keys. Owned; NULL for ""
 * and anything else.
 */
char *json_doc_text(const json_t *doc);

/* The reverse for text an API returns: its JSON value (any, a scalar too),
 * or the text as a string when it is not JSON; NULL for NULL text. */
json_t *json_doc_parse(const char *text);

/* A new JSON string of s, "" for NULL. */
json_t *json_string_or_empty(const char *s);

#endif
