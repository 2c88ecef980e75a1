/*
 * doc: a YAML or JSON file as a JSON value plus the source position of
 * every value, so that errors found later can name file:line:col. YAML
 * follows the 1.2 core schema (plain true/false/null/ints/floats typed,
 * quoted scalars strings); JSON is checked by jansson, then read through
 * libyaml (JSON is YAML flow syntax) to learn the positions.
 *
 * Positions are keyed by path: object keys joined with '.', array
 * elements as "[N]", e.g. "resources.vpc.properties.tags.Name".
 */
#ifndef CAIRN_DOC_H
#define CAIRN_DOC_H

#include <jansson.h>

#include "diag.h"

struct doc {
	char *file;     /* owned */
	json_t *root;   /* owned */
	json_t *pos;    /* owned: path -> [key_line, key_col, value_line, value_col]
			 * (scalars add the byte offsets of their source text) */
	char *text;     /* owned: the source, for doc_find */
	size_t len;
};

/* Reads and parses PATH (JSON if it ends in ".json", else YAML). Returns 0,
 * or -1 with the problems in diags (d is then empty). Problems that leave
 * the document readable (a duplicate key: the first one is kept; a number
 * JSON cannot hold: left out) are added to diags with a return of 0, so
 * callers compare the number of diagnostics. */
int doc_load(const char *path, struct doc *d, struct diags *diags);

/* Parses text of len bytes; file is used for positions only. */
int doc_parse(const char *file, const char *text, size_t len, int json,
	      struct doc *d, struct diags *diags);

void doc_free(struct doc *d);

/*
 * Position of the value at path (or of its key when key is set). A path
 * without a recorded position (a value made by substitution) falls back to
 * its nearest recorded ancestor; the last resort is 1:1.
 */
struct srcpos doc_pos(const json_t *posmap, const char *path, int key);

/* Position of needle (e.g. "${var.x}") inside the source text of the
 * scalar at path; the value's position when it is not found there. */
struct srcpos doc_find(const struct doc *d, const char *path, const char *needle);

/* Like doc_find: 1 when needle was found (*r its position), else 0 (*r the
 * value's position). */
int doc_find_at(const struct doc *d, const char *path, const char *needle, struct srcpos *r);

/* Position of byte off of value (the string at path, as parsed) in the
 * source: exact where the value's text appears in the source as written
 * around off; else the nearest that can be found. */
struct srcpos doc_find_offset(const struct doc *d, const char *path, const char *value,
			      size_t off);

/* path + "." + key, or path + "[i]"; owned results. */
char *doc_path_key(const char *path, const char *key);
char *doc_path_index(const char *path, size_t i);

#endif
