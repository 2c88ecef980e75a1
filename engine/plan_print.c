/*
 * plan_print: the two readings of a plan (SPEC §2): the Terraform-like
 * text for people and the JSON document for scripts. Both only read the
 * plan. Every value is printed in a fixed order (sorted keys) so that the
 * same plan always prints the same bytes.
 */
#include <stdlib.h>
#include <string.h>

#include "plan.h"
#include "plan_diff.h"
#include "eval.h"
#include "schema.h"
#include "value.h"

#define SENSITIVE PLAN_SENSITIVE

static const char *col(int color, const char *code)
{
	return color ? code : "";
}
#define GREEN "\033[32m"
#define YELLOW "\033[33m"
#define RED "\033[31m"
#define BOLD "\033[1m"
#define RESET "\033[0m"

static int attr_sensitive(const char *type, const char *name)
{
	const json_t *schema = schema_get(type);
	const json_t *spec = schema ? schema_attr(schema, name) : NULL;

	return spec && schema_is_sensitive(spec);
}

/* ---- order ---- */

const char *plan_change_address(const struct plan_change *c)
{
	return c->name;
}

/* One step of an address: NAME, then an optional [N] or ["key"]. */
struct addr_step {
	const char *name; size_t name_len;
	const char *key; size_t key_len;     /* inside the brackets; NULL: no key */
};

/* Reads the step at *s and moves *s past it (and past a following '.'). */
static void next_step(const char **s, struct addr_step *st)
{
	const char *p = *s;

	st->name = p;
	while (*p && *p != '.' && *p != '[')
		p++;
	st->name_len = (size_t)(p - st->name);
	st->key = NULL;
	st->key_len = 0;
	if (*p == '[') {
		int quoted = p[1] == '"';

		st->key = ++p;
		while (*p && !(*p == ']' && (!quoted || (p > st->key + 1 && p[-1] == '"'))))
			p++;
		st->key_len = (size_t)(p - st->key);
		if (*p == ']')
			p++;
	}
	if (*p == '.')
		p++;
	*s = p;
}

static int is_module_step(const struct addr_step *st, const char *rest)
{
	return st->name_len == 6 && memcmp(st->name, "module", 6) == 0 && st->key == NULL && *rest;
}

static int cmp_bytes(const char *a, size_t na, const char *b, size_t nb)
{
	int c = memcmp(a, b, na < nb ? na : nb);

	return c ? c : na < nb ? -1 : na > nb;
}

/* Instance keys: none first, then numbers by value, then strings. */
static int cmp_key(const struct addr_step *a, const struct addr_step *b)
{
	int an, bn;

	if (!a->key || !b->key)
		return !!a->key - !!b->key;
	an = a->key[0] != '"';
	bn = b->key[0] != '"';
	if (an != bn)
		return bn - an;
	if (an) {
		long x = strtol(a->key, NULL, 10), y = strtol(b->key, NULL, 10);

		return (x > y) - (x < y);
	}
	return cmp_bytes(a->key, a->key_len, b->key, b->key_len);
}

/* The module path of an address ("module.a[\"x\"].module.b."), step count. */
static size_t module_depth(const char *s)
{
	struct addr_step st;
	size_t n = 0;

	for (;;) {
		const char *p = s;

		next_step(&p, &st);
		if (!is_module_step(&st, p))
			return n;
		next_step(&p, &st);
		s = p;
		n++;
	}
}

/*
 * Terraform's order of resource instance addresses: by module path (the
 * root module's resources first, then module by module, each by name and
 * then instance key), then by resource name, then by instance key
 * (numbers numerically: subnet[2] before subnet[10]).
 */
/* Compares the next step of *a and *b (name, then key), moving both on. */
static int cmp_next_step(const char **a, const char **b)
{
	struct addr_step sa, sb;
	int c;

	next_step(a, &sa);
	next_step(b, &sb);
	c = cmp_bytes(sa.name, sa.name_len, sb.name, sb.name_len);
	return c ? c : cmp_key(&sa, &sb);
}

int plan_address_cmp(const char *a, const char *b)
{
	size_t da = module_depth(a), db = module_depth(b), i;
	struct addr_step skip;
	int c;

	for (i = 0; i < da && i < db; i++) {
		next_step(&a, &skip);   /* "module" */
		next_step(&b, &skip);
		c = cmp_next_step(&a, &b);
		if (c)
			return c;
	}
	if (da != db)
		return da < db ? -1 : 1;
	while (*a && *b) {
		c = cmp_next_step(&a, &b);
		if (c)
			return c;
	}
	return !!*a - !!*b;
}

static int cmp_change(const void *x, const void *y, void *arg)
{
	const struct plan *p = arg;
	const struct plan_change *a = &p->changes[*(const size_t *)x];
	const struct plan_change *b = &p->changes[*(const size_t *)y];
	int c = plan_address_cmp(plan_change_address(a), plan_change_address(b));

	return c ? c : strcmp(a->type, b->type);
}

size_t *plan_sorted(const struct plan *p)
{
	size_t *idx = xcalloc(p->n_changes + 1, sizeof(*idx)), i;

	for (i = 0; i < p->n_changes; i++)
		idx[i] = i;
	qsort_r(idx, p->n_changes, sizeof(*idx), cmp_change, (void *)p);
	return idx;
}

/* ---- text ---- */

/* A top-level value as shown: tags without the ownership tags (new ref). */
static json_t *shown_value(const char *name, const json_t *v)
{
	json_t *out;

	if (strcmp(name, "tags") != 0 || !json_is_object(v) || value_is_unknown(v))
		return v ? json_incref((json_t *)v) : NULL;
	out = json_deep_copy(v);
	json_object_del(out, "cairn:stack");
	json_object_del(out, "cairn:resource");
	return out;
}

/* The lines of top-level attributes names (array) of TYPE, markers at column 6. */
static void print_attrs(FILE *f, int color, const char *type, const json_t *names,
			const json_t *before, const json_t *after, const json_t *forces)
{
	const json_t *schema = schema_get(type);
	struct strbuf sb;
	size_t i, width = 0;
	json_t *v;

	json_array_foreach(names, i, v)
		if (plan_key_width(json_string_value(v)) > width)
			width = plan_key_width(json_string_value(v));
	strbuf_init(&sb);
	json_array_foreach(names, i, v) {
		const char *k = json_string_value(v);
		json_t *b = before ? shown_value(k, json_object_get(before, k)) : NULL;
		json_t *a = after ? shown_value(k, json_object_get(after, k)) : NULL;

		plan_diff_attr(&sb, schema ? schema_attr(schema, k) : NULL, k, width, b, a, 6,
			       value_array_has(forces, k) ? " # forces replacement" : NULL, color);
		json_decref(b);
		json_decref(a);
	}
	fputs(sb.buf, f);
	strbuf_free(&sb);
}

/* Sorted names of the top-level attributes that differ between a and b. */
static json_t *differing(const char *type, const json_t *a, const json_t *b)
{
	json_t *keys = json_object(), *out = json_array();
	const char **names;
	size_t n, i;

	json_object_update(keys, (json_t *)a);
	json_object_update(keys, (json_t *)b);
	names = eval_sorted_keys(keys, &n);
	for (i = 0; i < n; i++)
		if (!eval_attr_equal(type, names[i], json_object_get(a, names[i]),
				     json_object_get(b, names[i])))
			json_array_append_new(out, json_string(names[i]));
	free(names);
	json_decref(keys);
	return out;
}

/* Drift entries in address order (borrowed pointers; free the array). */
static const json_t **sorted_drift(const struct plan *p)
{
	size_t n = json_array_size(p->drift), i, j;
	const json_t **v = xcalloc(n + 1, sizeof(*v));

	for (i = 0; i < n; i++) {
		const json_t *d = json_array_get(p->drift, i);
		const char *name = json_string_value(json_object_get(d, "name"));

		for (j = i; j > 0 && plan_address_cmp(json_string_value(json_object_get(
				v[j - 1], "name")), name) > 0; j--)
			v[j] = v[j - 1];
		v[j] = d;
	}
	return v;
}

static void print_drift_entry(const json_t *d, FILE *f, int color)
{
	const char *name = json_string_value(json_object_get(d, "name"));
	const char *type = json_string_value(json_object_get(d, "type"));
	json_t *before = json_object_get(d, "before");
	json_t *after = json_object_get(d, "after");
	json_t *names;

	if (json_is_null(after)) {
		fprintf(f, "  %s-%s %s (%s) was deleted outside cairn\n", col(color, RED),
			col(color, RESET), name, type);
		return;
	}
	fprintf(f, "  %s~%s %s (%s)\n", col(color, YELLOW), col(color, RESET), name, type);
	names = differing(type, before, after);
	print_attrs(f, color, type, names, before, after, NULL);
	json_decref(names);
}

void plan_print_drift_entries(const struct plan *p, FILE *f, int color)
{
	const json_t **v = sorted_drift(p);
	size_t i;

	for (i = 0; i < json_array_size(p->drift); i++)
		print_drift_entry(v[i], f, color);
	free(v);
}

static void print_drift(const struct plan *p, FILE *f, int color)
{
	fprintf(f, "%sChanged outside cairn:%s\n", col(color, BOLD), col(color, RESET));
	plan_print_drift_entries(p, f, color);
	fputc('\n', f);
}

void plan_print_change_body(const struct plan_change *c, FILE *f, int color)
{
	json_t *shown;

	if (c->note)
		fprintf(f, "      # %s\n", c->note);
	if (c->action == PLAN_DELETE || c->action == PLAN_NOOP)
		return;
	if (c->action == PLAN_CREATE) {
		/* Every attribute set or computed, by name; empty defaults
		 * ("", [], {}) say nothing and are left out. */
		const char **keys;
		size_t n, i;

		shown = json_array();
		keys = eval_sorted_keys(c->after, &n);
		for (i = 0; i < n; i++)
			if (!eval_attr_equal(c->type, keys[i], json_object_get(c->after, keys[i]),
					     NULL))
				json_array_append_new(shown, json_string(keys[i]));
		free(keys);
		print_attrs(f, color, c->type, shown, NULL, c->after, NULL);
	} else {
		shown = json_incref(c->changed);
		print_attrs(f, color, c->type, shown, c->before, c->after,
			    c->action == PLAN_REPLACE ? c->replace_because : NULL);
	}
	json_decref(shown);
}

static void print_change(const struct plan_change *c, FILE *f, int color)
{
	const char *sym, *symcol, *what;

	if (c->moved_from && c->action == PLAN_NOOP) {
		fprintf(f, "  # %s has moved to %s\n", c->moved_from, plan_change_address(c));
		return;
	}
	switch (c->action) {
	case PLAN_CREATE: sym = "  +"; symcol = GREEN; what = ""; break;
	case PLAN_UPDATE: sym = "  ~"; symcol = YELLOW; what = " will be updated in place"; break;
	case PLAN_REPLACE: sym = "-/+"; symcol = RED; what = " must be replaced"; break;
	case PLAN_DELETE: sym = "  -"; symcol = RED; what = " will be deleted"; break;
	default: return;
	}
	fprintf(f, "%s%s%s %s (%s)%s\n", col(color, symcol), sym, col(color, RESET),
		plan_change_address(c), c->type, what);
	if (c->moved_from)
		fprintf(f, "      # (moved from %s)\n", c->moved_from);
	plan_print_change_body(c, f, color);
}

void plan_print_text(const struct plan *p, FILE *f, int color)
{
	size_t *order, i;
	char *line;

	if (json_array_size(p->drift))
		print_drift(p, f, color);
	if (!plan_has_changes(p)) {
		fputs("No changes. Your infrastructure matches the stack.\n", f);
		return;
	}
	order = plan_sorted(p);
	for (i = 0; i < p->n_changes; i++)
		print_change(&p->changes[order[i]], f, color);
	free(order);
	line = plan_summary_line(p);
	fprintf(f, "\n%sPlan:%s%s\n", col(color, BOLD), col(color, RESET), line + 5);
	free(line);
}

char *plan_summary_line(const struct plan *p)
{
	struct plan_summary s;

	plan_summarize(p, &s);
	return xasprintf("Plan: %zu to add, %zu to change, %zu to destroy.", s.create + s.replace,
			 s.update, s.delete + s.replace);
}

/* ---- JSON ---- */

/* The resource's own name in its file from an address: "repo" of
 * repo["api"], "tg" of module.svc["api"].tg (SPEC §2: "name" stays the
 * name, "address" is added). New. */
static json_t *own_name(const char *address)
{
	const char *p, *start = address, *b;
	int quoted = 0;

	if (!address)
		return json_null();
	/* module.svc["a.b"].tg: the last step outside quotes, without its key */
	for (p = address; *p; p++) {
		if (*p == '\\' && quoted && p[1])
			p++;
		else if (*p == '"')
			quoted = !quoted;
		else if (*p == '.' && !quoted)
			start = p + 1;
	}
	b = strchr(start, '[');
	return json_stringn(start, b ? (size_t)(b - start) : strlen(start));
}

/* A copy with sorted keys and every unknown marker turned into null. */
static json_t *public_value(const json_t *v)
{
	json_t *out, *e;
	size_t i, n;

	if (!v || value_is_unknown(v))
		return json_null();
	if (json_is_array(v)) {
		out = json_array();
		json_array_foreach(v, i, e)
			json_array_append_new(out, public_value(e));
		return out;
	}
	if (json_is_object(v)) {
		const char **keys = eval_sorted_keys(v, &n);

		out = json_object();
		for (i = 0; i < n; i++)
			json_object_set_new(out, keys[i], public_value(json_object_get(v, keys[i])));
		free(keys);
		return out;
	}
	return json_deep_copy(v);
}

json_t *plan_public_attrs(const char *type, const json_t *attrs)
{
	const char **keys;
	json_t *out;
	size_t i, n;

	if (!attrs || json_is_null(attrs))
		return json_null();
	keys = eval_sorted_keys(attrs, &n);
	out = json_object();
	for (i = 0; i < n; i++) {
		json_t *v = json_object_get(attrs, keys[i]);

		if (!json_is_null(v) && !value_is_unknown(v) && attr_sensitive(type, keys[i])) {
			json_object_set_new(out, keys[i], json_string(SENSITIVE));
		} else if (strcmp(keys[i], "tags") == 0 && json_is_object(v)) {
			/* the ownership tags are never shown (SPEC §4) */
			json_t *t = public_value(v);

			json_object_del(t, "cairn:stack");
			json_object_del(t, "cairn:resource");
			json_object_set_new(out, keys[i], t);
		} else {
			json_object_set_new(out, keys[i], public_value(v));
		}
	}
	free(keys);
	return out;
}

static json_t *after_unknown(const json_t *after)
{
	json_t *out = json_array();
	const char **keys;
	size_t i, n;

	if (!after)
		return out;
	keys = eval_sorted_keys(after, &n);
	for (i = 0; i < n; i++)
		if (value_has_unknown(json_object_get(after, keys[i])))
			json_array_append_new(out, json_string(keys[i]));
	free(keys);
	return out;
}

json_t *plan_to_json(const struct plan *p)
{
	json_t *doc = json_object(), *drift = json_array(), *changes = json_array();
	json_t *outputs = json_object(), *o;
	const json_t **sd;
	struct plan_summary s;
	const char *k;
	size_t i, *order;

	sd = sorted_drift(p);
	for (i = 0; i < json_array_size(p->drift); i++) {
		const json_t *d = sd[i];
		const char *type = json_string_value(json_object_get(d, "type"));

		json_array_append_new(drift, json_pack(
			"{s:o, s:O, s:O, s:o, s:o}",
			"name", own_name(json_string_value(json_object_get(d, "name"))),
			"address", json_object_get(d, "name"),
			"type", json_object_get(d, "type"),
			"before", plan_public_attrs(type, json_object_get(d, "before")),
			"after", plan_public_attrs(type, json_object_get(d, "after"))));
	}
	free(sd);
	order = plan_sorted(p);
	for (i = 0; i < p->n_changes; i++) {
		const struct plan_change *c = &p->changes[order[i]];

		json_array_append_new(changes, json_pack(
			"{s:o, s:s, s:o, s:s, s:s, s:o, s:o, s:o, s:O}", "name", own_name(c->name),
			"address", c->name,
			"moved_from", c->moved_from ? json_string(c->moved_from) : json_null(),
			"type", c->type,
			"action", plan_action_name(c->action),
			"before", plan_public_attrs(c->type, c->before),
			"after", plan_public_attrs(c->type, c->after),
			"after_unknown", after_unknown(c->after),
			"replace_because", c->replace_because));
	}
	free(order);
	json_object_foreach(p->outputs, k, o) {
		json_t *planned = json_object_get(o, "planned");
		int unknown = !planned || value_has_unknown(planned);
		json_t *value;

		if (unknown)
			value = json_null();
		else if (json_is_true(json_object_get(o, "sensitive")))
			value = json_string(SENSITIVE);
		else
			value = public_value(planned);
		json_object_set_new(outputs, k, json_pack("{s:o, s:b}", "value", value,
							  "known_after_apply", unknown));
	}
	plan_summarize(p, &s);
	json_object_set_new(doc, "format_version", json_string("1"));
	json_object_set_new(doc, "stack", json_string(p->stack));
	json_object_set_new(doc, "serial", json_integer(p->serial));
	json_object_set_new(doc, "drift", drift);
	json_object_set_new(doc, "changes", changes);
	json_object_set_new(doc, "summary", json_pack(
		"{s:I, s:I, s:I, s:I, s:I}", "create", (json_int_t)s.create,
		"update", (json_int_t)s.update, "replace", (json_int_t)s.replace,
		"delete", (json_int_t)s.delete, "noop", (json_int_t)s.noop));
	json_object_set_new(doc, "outputs", outputs);
	return doc;
}
