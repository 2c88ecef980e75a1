/*
 * suggest: see suggest.h. Edit distance over bytes; names are ASCII.
 */
#include <stdlib.h>
#include <string.h>

#include "suggest.h"
#include "../lib/util.h"

/* Optimal string alignment distance: Levenshtein where swapping two
 * neighbours counts as one edit, the commonest typo ("aws_vcp"). */
static size_t distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j, d;
	size_t *prev2 = xcalloc(lb + 1, sizeof(*prev2));
	size_t *prev = xcalloc(lb + 1, sizeof(*prev));
	size_t *row = xcalloc(lb + 1, sizeof(*row)), *t;

	for (j = 0; j <= lb; j++)
		prev[j] = j;
	for (i = 1; i <= la; i++) {
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t best = prev[j - 1] + (a[i - 1] != b[j - 1]);

			if (prev[j] + 1 < best)
				best = prev[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    prev2[j - 2] + 1 < best)
				best = prev2[j - 2] + 1;
			row[j] = best;
		}
		t = prev2;
		prev2 = prev;
		prev = row;
		row = t;
	}
	d = prev[lb];
	free(prev2);
	free(prev);
	free(row);
	return d;
}

static int is_prefix(const char *p, const char *s)
{
	return *p && strncmp(p, s, strlen(p)) == 0;
}

const char *suggest(const char *word, const char *const *cands, size_t n)
{
	const char *best = NULL;
	size_t best_score = (size_t)-1, limit = strlen(word) / 3 + 1, i;

	for (i = 0; i < n; i++) {
		size_t d = distance(word, cands[i]), score;
		int prefix = is_prefix(word, cands[i]) || is_prefix(cands[i], word);

		if (!prefix && d > limit)
			continue;
		/* A prefix match beats any plain edit: "cidr" means "cidr_block". */
		score = prefix ? d : d + 1000;
		if (score < best_score) {
			best_score = score;
			best = cands[i];
		}
	}
	return best;
}

const char *suggest_json(const char *word, const json_t *names)
{
	const char **v;
	const char *k, *r;
	json_t *e;
	size_t n = 0, i;

	if (json_is_object(names)) {
		v = xcalloc(json_object_size(names) + 1, sizeof(*v));
		json_object_foreach((json_t *)names, k, e)
			v[n++] = k;
	} else if (json_is_array(names)) {
		v = xcalloc(json_array_size(names) + 1, sizeof(*v));
		json_array_foreach(names, i, e)
			if (json_is_string(e))
				v[n++] = json_string_value(e);
	} else {
		return NULL;
	}
	r = suggest(word, v, n);
	free(v);
	return r;
}
