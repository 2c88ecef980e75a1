/*
 * plan_diff: one attribute's change as people read it (SPEC §2, Plan
 * output): inside objects and lists only what changed, each member with
 * its own "+", "-" or "~" at its depth and a "# (N unchanged attributes
 * hidden)" line for the rest, as Terraform prints it. List elements are
 * matched by their identity where the schema gives one ("key"), or as a
 * multiset ("unordered"), else in order (longest common subsequence), so
 * one changed element of ten is one change. Used by the text and the
 * markdown forms of the plan; only reads its arguments.
 */
#ifndef CAIRN_PLAN_DIFF_H
#define CAIRN_PLAN_DIFF_H

#include <jansson.h>

#include "../lib/util.h"

#define PLAN_SENSITIVE "(sensitive)"
#define PLAN_UNKNOWN "(known after apply)"

/*
 * Appends the lines of one attribute: the marker at column indent, the
 * name padded to width, then its value(s); nested lines are indented from
 * there. before/after are borrowed and may be NULL (added, removed); the
 * marker is "+" when before is empty, "-" when after is, else "~". spec is
 * the attribute's schema spec (NULL: plain JSON); sensitive values print
 * as "(sensitive)"; unknown markers as "(known after apply)". suffix
 * (may be NULL) ends the first line, e.g. " # forces replacement". color
 * paints the markers. Appends nothing when the two sides are equal.
 */
void plan_diff_attr(struct strbuf *sb, const json_t *spec, const char *name, size_t width,
		    const json_t *before, const json_t *after, int indent, const char *suffix,
		    int color);

/* Appends v readably (no markers); nested lines indented by indent + 4. */
void plan_render_value(struct strbuf *sb, const json_t *v, int indent);

/* The width name takes when printed (quoted when it is not a bare word). */
size_t plan_key_width(const char *name);

#endif
