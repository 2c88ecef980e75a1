/*
 * plan_diff: see plan_diff.h. The comparisons are the diff's own
 * (eval_value_equal), so a member the plan counts as unchanged is hidden
 * here too, and a member the stack leaves to AWS (optional + computed, not
 * set) is never shown as a removal.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "plan_diff.h"
#include "eval.h"
#include "schema.h"
#include "value.h"

#define INLINE_MAX 60           /* a list of scalars up to this width stays on one line */

#define GREEN "\033[32m"
#define YELLOW "\033[33m"
#define RED "\033[31m"
#define RESET "\033[0m"

static int is_scalar(const json_t *v)
{
	return value_is_unknown(v) || (!json_is_object(v) && !json_is_array(v));
}

static int bare_key(const char *k)
{
	if (!isalpha((unsigned char)*k) && *k != '_')
		return 0;
	for (; *k; k++)
		if (!isalnum((unsigned char)*k) && *k != '_' && *k != '-')
			return 0;
	return 1;
}

static void add_json(struct strbuf *sb, const json_t *v)
{
	char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);

	strbuf_adds(sb, s);
	free(s);
}

static void add_key(struct strbuf *sb, const char *k)
{
	json_t *s;

	if (bare_key(k)) {
		strbuf_adds(sb, k);
		return;
	}
	s = json_string(k);
	add_json(sb, s);
	json_decref(s);
}

size_t plan_key_width(const char *k)
{
	struct strbuf sb;
	size_t n;

	strbuf_init(&sb);
	add_key(&sb, k);
	n = sb.len;
	strbuf_free(&sb);
	return n;
}

void plan_render_value(struct strbuf *sb, const json_t *v, int indent)
{
	size_t i, n;

	if (!v || json_is_null(v)) {
		strbuf_adds(sb, "null");
	} else if (value_is_unknown(v)) {
		strbuf_adds(sb, PLAN_UNKNOWN);
	} else if (json_is_array(v)) {
		int all_scalar = 1;
		struct strbuf one;
		json_t *e;

		if (json_array_size(v) == 0) {
			strbuf_adds(sb, "[]");
			return;
		}
		json_array_foreach(v, i, e)
			if (!is_scalar(e))
				all_scalar = 0;
		if (all_scalar) {
			strbuf_init(&one);
			strbuf_addc(&one, '[');
			json_array_foreach(v, i, e) {
				if (i)
					strbuf_adds(&one, ", ");
				plan_render_value(&one, e, 0);
			}
			strbuf_addc(&one, ']');
			if (one.len <= INLINE_MAX) {
				strbuf_add(sb, one.buf, one.len);
				strbuf_free(&one);
				return;
			}
			strbuf_free(&one);
		}
		strbuf_adds(sb, "[\n");
		json_array_foreach(v, i, e) {
			strbuf_addf(sb, "%*s", indent + 4, "");
			plan_render_value(sb, e, indent + 4);
			strbuf_adds(sb, ",\n");
		}
		strbuf_addf(sb, "%*s]", indent, "");
	} else if (json_is_object(v)) {
		const char **keys = eval_sorted_keys(v, &n);
		size_t w = 0;

		if (n == 0) {
			strbuf_adds(sb, "{}");
			free(keys);
			return;
		}
		for (i = 0; i < n; i++)
			if (plan_key_width(keys[i]) > w)
				w = plan_key_width(keys[i]);
		strbuf_adds(sb, "{\n");
		for (i = 0; i < n; i++) {
			strbuf_addf(sb, "%*s", indent + 4, "");
			add_key(sb, keys[i]);
			strbuf_addf(sb, "%*s = ", (int)(w - plan_key_width(keys[i])), "");
			plan_render_value(sb, json_object_get(v, keys[i]), indent + 4);
			strbuf_addc(sb, '\n');
		}
		strbuf_addf(sb, "%*s}", indent, "");
		free(keys);
	} else {
		add_json(sb, v);
	}
}

/* ---- the diff ---- */

struct out {
	struct strbuf *sb;
	int color;
};

enum kind { K_SCALAR, K_OBJECT, K_LIST };

static enum kind kind_of(const json_t *v)
{
	if (!v || value_is_unknown(v))
		return K_SCALAR;
	return json_is_object(v) ? K_OBJECT : json_is_array(v) ? K_LIST : K_SCALAR;
}

static int is_json_doc(const json_t *spec)
{
	return spec && strcmp(schema_type_of(spec), "json") == 0;
}

/* A JSON document may be recorded as text: diff it parsed (new reference). */
static json_t *parsed(const json_t *v)
{
	if (json_is_string(v)) {
		json_t *p = json_loads(json_string_value(v), JSON_DECODE_ANY, NULL);

		if (p && (json_is_object(p) || json_is_array(p)))
			return p;
		json_decref(p);
	}
	return v ? json_incref((json_t *)v) : NULL;
}

/* Equal as the plan's diff sees it; a member the stack leaves to AWS
 * (computed, not set) takes whatever AWS reports. want is the after side. */
static int member_equal(const json_t *spec, const json_t *want, const json_t *have)
{
	if (spec && eval_is_empty(want) && schema_is_computed(spec))
		return 1;
	return eval_value_equal(spec, want, have);
}

static void marker(struct out *o, int indent, char sym)
{
	const char *c = sym == '+' ? GREEN : sym == '-' ? RED : YELLOW;

	strbuf_addf(o->sb, "%*s%s%c%s ", indent, "", o->color ? c : "", sym, o->color ? RESET : "");
}

static void hidden(struct out *o, int indent, size_t n, const char *what)
{
	if (n)
		strbuf_addf(o->sb, "%*s# (%zu unchanged %s%s hidden)\n", indent, "", n, what,
			    n == 1 ? "" : "s");
}

static void value(struct out *o, const json_t *spec, const json_t *v, int indent)
{
	if (spec && schema_is_sensitive(spec) && !eval_is_empty(v) && !value_is_unknown(v))
		strbuf_adds(o->sb, PLAN_SENSITIVE);
	else
		plan_render_value(o->sb, v, indent);
}

static void diff_member(struct out *o, const json_t *spec, const char *key, size_t width,
			const json_t *before, const json_t *after, int indent, const char *suffix);

/* The members of two objects (or maps) that differ, markers at column indent. */
static void diff_object(struct out *o, const json_t *spec, const json_t *before,
			const json_t *after, int indent)
{
	const json_t *nested = spec ? json_object_get(spec, "attributes") : NULL;
	const json_t *elem = spec ? json_object_get(spec, "elem") : NULL;
	json_t *keys = json_object(), *shown = json_array(), *k;
	const char **names;
	size_t n, i, width = 0, same = 0;

	json_object_update(keys, (json_t *)before);
	json_object_update(keys, (json_t *)after);
	names = eval_sorted_keys(keys, &n);
	for (i = 0; i < n; i++) {
		const json_t *sub = nested ? json_object_get(nested, names[i]) : elem;
		const json_t *b = json_object_get(before, names[i]);
		const json_t *a = json_object_get(after, names[i]);

		if (member_equal(sub, a, b)) {
			if (!eval_is_empty(a) || !eval_is_empty(b))
				same++;
			continue;
		}
		json_array_append_new(shown, json_string(names[i]));
		if (plan_key_width(names[i]) > width)
			width = plan_key_width(names[i]);
	}
	json_array_foreach(shown, i, k) {
		const char *name = json_string_value(k);

		diff_member(o, nested ? json_object_get(nested, name) : elem, name, width,
			    json_object_get(before, name), json_object_get(after, name), indent, NULL);
	}
	hidden(o, indent + 2, same, nested || !elem ? "attribute" : "element");
	free(names);
	json_decref(shown);
	json_decref(keys);
}

/* Same identity: every key attribute known and equal on both sides. */
static int same_identity(const json_t *key, const json_t *a, const json_t *b)
{
	size_t i;
	json_t *k;

	if (!json_is_object(a) || !json_is_object(b) || value_is_unknown(a) || value_is_unknown(b))
		return 0;
	json_array_foreach(key, i, k) {
		const json_t *va = json_object_get(a, json_string_value(k));
		const json_t *vb = json_object_get(b, json_string_value(k));

		if (value_has_unknown(va) || value_has_unknown(vb) ||
		    !eval_value_equal(NULL, va, vb))
			return 0;
	}
	return 1;
}

/* One step of the list's display: before[b] -> after[a]; -1 for none. */
struct step {
	long b, a;
	int same;
};

/* Lists whose elements have an identity or no order: pair equal elements,
 * then elements of the same identity; removals first, then after's order. */
static size_t match_set(const json_t *elem, const json_t *key, const json_t *before,
			const json_t *after, struct step *steps)
{
	size_t nb = json_array_size(before), na = json_array_size(after), i, j, n = 0;
	long *pair = xcalloc(na + 1, sizeof(long));
	unsigned char *used = xcalloc(nb + 1, 1), *same = xcalloc(na + 1, 1);

	for (i = 0; i < na; i++) {
		pair[i] = -1;
		for (j = 0; j < nb && pair[i] < 0; j++)
			if (!used[j] && member_equal(elem, json_array_get(after, i),
						     json_array_get(before, j))) {
				pair[i] = (long)j;
				used[j] = 1;
				same[i] = 1;
			}
	}
	for (i = 0; key && i < na; i++)
		for (j = 0; j < nb && pair[i] < 0; j++)
			if (!used[j] && same_identity(key, json_array_get(after, i),
						      json_array_get(before, j))) {
				pair[i] = (long)j;
				used[j] = 1;
			}
	for (j = 0; j < nb; j++)
		if (!used[j])
			steps[n++] = (struct step){(long)j, -1, 0};
	for (i = 0; i < na; i++)
		steps[n++] = (struct step){pair[i], (long)i, same[i]};
	free(pair);
	free(used);
	free(same);
	return n;
}

/* Ordered lists: the longest common subsequence of equal elements stays;
 * in each gap between, elements of the same shape pair up as changes. */
static size_t match_ordered(const json_t *elem, const json_t *before, const json_t *after,
			    struct step *steps)
{
	size_t nb = json_array_size(before), na = json_array_size(after), i, j, n = 0;
	size_t *len = xcalloc((nb + 1) * (na + 1), sizeof(size_t));
	unsigned char *eq = xcalloc(nb * na + 1, 1);
	size_t gb, ga;

#define L(x, y) len[(x) * (na + 1) + (y)]
	for (i = 0; i < nb; i++)
		for (j = 0; j < na; j++)
			eq[i * na + j] = (unsigned char)member_equal(elem, json_array_get(after, j),
								     json_array_get(before, i));
	for (i = nb; i-- > 0;)
		for (j = na; j-- > 0;)
			L(i, j) = eq[i * na + j] ? L(i + 1, j + 1) + 1 :
				  L(i + 1, j) > L(i, j + 1) ? L(i + 1, j) : L(i, j + 1);
	i = j = 0;
	while (i < nb || j < na) {
		/* the gap up to the next common element */
		gb = i;
		ga = j;
		while (i < nb && j < na && !eq[i * na + j]) {
			if (L(i + 1, j) >= L(i, j + 1))
				i++;
			else
				j++;
		}
		if (i == nb || j == na) {
			i = nb;
			j = na;
		}
		while (gb < i && ga < j && kind_of(json_array_get(before, gb)) != K_SCALAR &&
		       kind_of(json_array_get(before, gb)) == kind_of(json_array_get(after, ga)))
			steps[n++] = (struct step){(long)gb++, (long)ga++, 0};
		while (gb < i)
			steps[n++] = (struct step){(long)gb++, -1, 0};
		while (ga < j)
			steps[n++] = (struct step){-1, (long)ga++, 0};
		if (i < nb && j < na)
			steps[n++] = (struct step){(long)i++, (long)j++, 1};
	}
#undef L
	free(len);
	free(eq);
	return n;
}

static void diff_list(struct out *o, const json_t *spec, const json_t *before,
		      const json_t *after, int indent)
{
	const json_t *elem = spec ? json_object_get(spec, "elem") : NULL;
	const json_t *key = schema_list_key(spec);
	struct step *steps = xcalloc(json_array_size(before) + json_array_size(after) + 1,
				     sizeof(*steps));
	size_t n, i, same = 0;

	if (key || (spec && schema_is_unordered(spec)))
		n = match_set(elem, key, before, after, steps);
	else
		n = match_ordered(elem, before, after, steps);
	for (i = 0; i < n; i++) {
		if (steps[i].same) {
			same++;
			continue;
		}
		diff_member(o, elem, NULL, 0,
			    steps[i].b < 0 ? NULL : json_array_get(before, (size_t)steps[i].b),
			    steps[i].a < 0 ? NULL : json_array_get(after, (size_t)steps[i].a),
			    indent, NULL);
	}
	hidden(o, indent + 2, same, "element");
	free(steps);
}

/* An object, or a list holding objects, that is added or removed whole:
 * every member set, each with the marker, as Terraform lists them. */
static int expands(const json_t *spec, const json_t *v)
{
	size_t i;
	json_t *e;

	if (spec && schema_is_sensitive(spec))
		return 0;
	if (kind_of(v) == K_OBJECT)
		return 1;
	if (kind_of(v) != K_LIST)
		return 0;
	json_array_foreach(v, i, e)
		if (!is_scalar(e))
			return 1;
	return 0;
}

static void expand(struct out *o, const json_t *spec, const json_t *v, int added, int indent)
{
	const json_t *nested = spec ? json_object_get(spec, "attributes") : NULL;
	const json_t *elem = spec ? json_object_get(spec, "elem") : NULL;
	const char **keys;
	size_t n, i, width = 0;
	json_t *e;

	if (json_is_array(v)) {
		json_array_foreach(v, i, e)
			diff_member(o, elem, NULL, 0, added ? NULL : e, added ? e : NULL, indent, NULL);
		return;
	}
	keys = eval_sorted_keys(v, &n);
	for (i = 0; i < n; i++)
		if (!eval_is_empty(json_object_get(v, keys[i])) && plan_key_width(keys[i]) > width)
			width = plan_key_width(keys[i]);
	for (i = 0; i < n; i++) {
		const json_t *m = json_object_get(v, keys[i]);

		if (!eval_is_empty(m))
			diff_member(o, nested ? json_object_get(nested, keys[i]) : elem, keys[i], width,
				    added ? NULL : m, added ? m : NULL, indent, NULL);
	}
	free(keys);
}

/* key NULL: a list element ("~ {", "+ \"x\","). */
static void diff_member(struct out *o, const json_t *spec, const char *key, size_t width,
			const json_t *before, const json_t *after, int indent, const char *suffix)
{
	json_t *pb = NULL, *pa = NULL;
	const char *end = key ? "" : ",";
	char sym;
	enum kind kb, ka;

	if (is_json_doc(spec)) {
		pb = parsed(before);
		pa = parsed(after);
		before = pb;
		after = pa;
		spec = NULL;
	}
	sym = eval_is_empty(before) ? '+' : eval_is_empty(after) ? '-' : '~';
	kb = kind_of(before);
	ka = kind_of(after);
	marker(o, indent, sym);
	if (key) {
		add_key(o->sb, key);
		strbuf_addf(o->sb, "%*s = ", (int)(width > plan_key_width(key) ?
						   width - plan_key_width(key) : 0), "");
	}
	if (sym == '~' && kb == ka && kb != K_SCALAR && !(spec && schema_is_sensitive(spec))) {
		strbuf_adds(o->sb, kb == K_OBJECT ? "{" : "[");
		strbuf_adds(o->sb, suffix ? suffix : "");
		strbuf_addc(o->sb, '\n');
		if (kb == K_OBJECT)
			diff_object(o, spec, before, after, indent + 4);
		else
			diff_list(o, spec, before, after, indent + 4);
		strbuf_addf(o->sb, "%*s%s%s\n", indent + 2, "", kb == K_OBJECT ? "}" : "]", end);
		goto out;
	}
	if (sym != '~' && expands(spec, sym == '+' ? after : before)) {
		const json_t *v = sym == '+' ? after : before;

		strbuf_adds(o->sb, kind_of(v) == K_OBJECT ? "{" : "[");
		strbuf_adds(o->sb, suffix ? suffix : "");
		strbuf_addc(o->sb, '\n');
		expand(o, spec, v, sym == '+', indent + 4);
		strbuf_addf(o->sb, "%*s%s%s\n", indent + 2, "", kind_of(v) == K_OBJECT ? "}" : "]",
			    end);
		goto out;
	}
	if (sym == '+') {
		value(o, spec, after, indent + 2);
	} else if (sym == '-') {
		value(o, spec, before, indent + 2);
		if (key)
			strbuf_adds(o->sb, " -> null");
	} else {
		value(o, spec, before, indent + 2);
		strbuf_adds(o->sb, " -> ");
		value(o, spec, after, indent + 2);
	}
	strbuf_adds(o->sb, end);
	strbuf_adds(o->sb, suffix ? suffix : "");
	strbuf_addc(o->sb, '\n');
out:
	json_decref(pb);
	json_decref(pa);
}

void plan_diff_attr(struct strbuf *sb, const json_t *spec, const char *name, size_t width,
		    const json_t *before, const json_t *after, int indent, const char *suffix,
		    int color)
{
	struct out o = {sb, color};

	if (before && member_equal(spec, after, before))
		return;
	if (!before && eval_is_empty(after))
		return;
	diff_member(&o, spec, name, width, before, after, indent, suffix);
}
