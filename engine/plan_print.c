/*
 * plan_print: the two readings of a plan (SPEC §2): the Terraform-like
 * text for people and the JSON document for scripts. Both only read the
 * plan. Every value is printed in a fixed order (sorted keys) so that the
 * same plan always prints the same bytes.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "plan.h"
#include "eval.h"
#include "schema.h"
#include "value.h"

#define SENSITIVE "(sensitive)"
#define UNKNOWN "(known after apply)"
#define INLINE_MAX 60           /* a list of scalars up to this width stays on one line */

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

static size_t key_width(const char *k)
{
	json_t *s;
	char *d;
	size_t n;

	if (bare_key(k))
		return strlen(k);
	s = json_string(k);
	d = json_dumps(s, JSON_ENCODE_ANY);
	n = strlen(d);
	free(d);
	json_decref(s);
	return n;
}

/* Appends v readably; nested lines are indented by indent + 4 spaces. */
static void render(struct strbuf *sb, const json_t *v, int indent)
{
	size_t i, n;

	if (!v || json_is_null(v)) {
		strbuf_adds(sb, "null");
	} else if (value_is_unknown(v)) {
		strbuf_adds(sb, UNKNOWN);
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
				render(&one, e, 0);
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
			render(sb, e, indent + 4);
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
			if (key_width(keys[i]) > w)
				w = key_width(keys[i]);
		strbuf_adds(sb, "{\n");
		for (i = 0; i < n; i++) {
			strbuf_addf(sb, "%*s", indent + 4, "");
			add_key(sb, keys[i]);
			strbuf_addf(sb, "%*s = ", (int)(w - key_width(keys[i])), "");
			render(sb, json_object_get(v, keys[i]), indent + 4);
			strbuf_addc(sb, '\n');
		}
		strbuf_addf(sb, "%*s}", indent, "");
		free(keys);
	} else {
		add_json(sb, v);
	}
}

/* Column where attribute names start ("      + name"): nested values indent from here. */
#define ATTR_INDENT 8

static void render_attr(struct strbuf *sb, const char *type, const char *name, const json_t *v)
{
	if (v && !json_is_null(v) && !value_is_unknown(v) && attr_sensitive(type, name))
		strbuf_adds(sb, SENSITIVE);
	else
		render(sb, v, ATTR_INDENT);
}

/* One attribute line: "      ~ name   = old -> new # forces replacement". */
static void print_attr(FILE *f, int color, const char *sym, const char *symcol, size_t width,
		       const char *type, const char *name, const json_t *before,
		       const json_t *after, int show_before, int forces)
{
	struct strbuf sb;

	strbuf_init(&sb);
	if (show_before) {
		render_attr(&sb, type, name, before);
		strbuf_adds(&sb, " -> ");
	}
	render_attr(&sb, type, name, after);
	fprintf(f, "      %s%s%s %-*s = %s%s\n", col(color, symcol), sym, col(color, RESET),
		(int)width, name, sb.buf, forces ? " # forces replacement" : "");
	strbuf_free(&sb);
}

static size_t names_width(const json_t *names)
{
	size_t i, w = 0;
	json_t *v;

	json_array_foreach(names, i, v)
		if (strlen(json_string_value(v)) > w)
			w = strlen(json_string_value(v));
	return w;
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

static void print_drift(const struct plan *p, FILE *f, int color)
{
	size_t i, j;
	json_t *d, *k;

	fprintf(f, "%sChanged outside cairn:%s\n", col(color, BOLD), col(color, RESET));
	json_array_foreach(p->drift, i, d) {
		const char *name = json_string_value(json_object_get(d, "name"));
		const char *type = json_string_value(json_object_get(d, "type"));
		json_t *before = json_object_get(d, "before");
		json_t *after = json_object_get(d, "after");
		json_t *names;

		if (json_is_null(after)) {
			fprintf(f, "  %s-%s %s (%s) was deleted outside cairn\n", col(color, RED),
				col(color, RESET), name, type);
			continue;
		}
		fprintf(f, "  %s~%s %s (%s)\n", col(color, YELLOW), col(color, RESET), name, type);
		names = differing(type, before, after);
		json_array_foreach(names, j, k)
			print_attr(f, color, "~", YELLOW, names_width(names), type,
				   json_string_value(k), json_object_get(before, json_string_value(k)),
				   json_object_get(after, json_string_value(k)), 1, 0);
		json_decref(names);
	}
	fputc('\n', f);
}

static void print_change(const struct plan_change *c, FILE *f, int color)
{
	const char *sym, *symcol, *what;
	json_t *shown, *v;
	size_t i;

	if (c->moved_from && c->action == PLAN_NOOP) {
		fprintf(f, "  # %s has moved to %s\n", c->moved_from, c->name);
		return;
	}
	switch (c->action) {
	case PLAN_CREATE: sym = "  +"; symcol = GREEN; what = ""; break;
	case PLAN_UPDATE: sym = "  ~"; symcol = YELLOW; what = " will be updated in place"; break;
	case PLAN_REPLACE: sym = "-/+"; symcol = RED; what = " must be replaced"; break;
	case PLAN_DELETE: sym = "  -"; symcol = RED; what = " will be deleted"; break;
	default: return;
	}
	fprintf(f, "%s%s%s %s (%s)%s\n", col(color, symcol), sym, col(color, RESET), c->name,
		c->type, what);
	if (c->moved_from)
		fprintf(f, "      # (moved from %s)\n", c->moved_from);
	if (c->note)
		fprintf(f, "      # %s\n", c->note);
	if (c->action == PLAN_DELETE)
		return;
	if (c->action == PLAN_CREATE) {
		/* Every attribute set or computed, by name; empty defaults
		 * ("", [], {}) say nothing and are left out. */
		const char **keys;
		size_t n;

		shown = json_array();
		keys = eval_sorted_keys(c->after, &n);
		for (i = 0; i < n; i++)
			if (!eval_attr_equal(c->type, keys[i], json_object_get(c->after, keys[i]),
					     NULL))
				json_array_append_new(shown, json_string(keys[i]));
		free(keys);
	} else {
		shown = json_incref(c->changed);
	}
	json_array_foreach(shown, i, v) {
		const char *k = json_string_value(v);

		if (c->action == PLAN_CREATE)
			print_attr(f, color, "+", GREEN, names_width(shown), c->type, k, NULL,
				   json_object_get(c->after, k), 0, 0);
		else
			print_attr(f, color, "~", YELLOW, names_width(shown), c->type, k,
				   json_object_get(c->before, k), json_object_get(c->after, k), 1,
				   c->action == PLAN_REPLACE && value_array_has(c->replace_because, k));
	}
	json_decref(shown);
}

void plan_print_text(const struct plan *p, FILE *f, int color)
{
	struct plan_summary s;
	size_t i;

	if (json_array_size(p->drift))
		print_drift(p, f, color);
	if (!plan_has_changes(p)) {
		fputs("No changes. Your infrastructure matches the stack.\n", f);
		return;
	}
	for (i = 0; i < p->n_changes; i++)
		print_change(&p->changes[i], f, color);
	plan_summarize(p, &s);
	fprintf(f, "\n%sPlan:%s %zu to add, %zu to change, %zu to destroy.\n", col(color, BOLD),
		col(color, RESET), s.create + s.replace, s.update, s.delete + s.replace);
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
	json_t *outputs = json_object(), *d, *o;
	struct plan_summary s;
	const char *k;
	size_t i;

	json_array_foreach(p->drift, i, d) {
		const char *type = json_string_value(json_object_get(d, "type"));

		json_array_append_new(drift, json_pack(
			"{s:o, s:O, s:O, s:o, s:o}",
			"name", own_name(json_string_value(json_object_get(d, "name"))),
			"address", json_object_get(d, "name"),
			"type", json_object_get(d, "type"),
			"before", plan_public_attrs(type, json_object_get(d, "before")),
			"after", plan_public_attrs(type, json_object_get(d, "after"))));
	}
	for (i = 0; i < p->n_changes; i++) {
		const struct plan_change *c = &p->changes[i];

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
