/*
 * suggest: the nearest valid name for a misspelt one ("did you mean ...?").
 */
#ifndef CAIRN_SUGGEST_H
#define CAIRN_SUGGEST_H

#include <stddef.h>
#include <jansson.h>

/* The candidate closest to word (edit distance; a candidate that starts
 * with word, or that word starts with, is preferred), or NULL when none
 * is close. Candidates and result are borrowed. */
const char *suggest(const char *word, const char *const *cands, size_t n);

/* Same, with the candidates being the keys of an object or the strings of
 * an array. */
const char *suggest_json(const char *word, const json_t *names);

#endif
