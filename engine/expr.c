/*
 * expr: see expr.h. A string is split into literal parts and references;
 * a string that is one whole reference takes the value as it is, anything
 * else is concatenated as text.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "expr.h"
#include "value.h"

struct part {
	int ref;
	char *text;     /* literal text (unescaped), or the reference's raw "${...}" */
	char *root, *path;
};

static void parts_free(struct part *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(v[i].text);
		free(v[i].root);
		free(v[i].path);
	}
	free(v);
}

static void push(struct part **v, size_t *n, int ref, char *text, char *root, char *path)
{
	*v = xrealloc(*v, (*n + 1) * sizeof(**v));
	(*v)[*n].ref = ref;
	(*v)[*n].text = text;
	(*v)[*n].root = root;
	(*v)[*n].path = path;
	(*n)++;
}

/* Splits s; adjacent literal text is merged into one part. */
static int split(const char *s, struct part **out, size_t *n, struct cairn_err *err)
{
	struct strbuf lit;
	struct part *v = NULL;
	const char *p = s;

	*n = 0;
	strbuf_init(&lit);
	while (*p) {
		const char *end, *b, *e, *dot;

		if (p[0] == '$' && p[1] == '$' && p[2] == '{') {
			strbuf_adds(&lit, "${");
			p += 3;
			continue;
		}
		if (!(p[0] == '$' && p[1] == '{')) {
			strbuf_addc(&lit, *p++);
			continue;
		}
		end = strchr(p, '}');
		if (!end) {
			err_set(err, CAIRN_EINVAL, "unterminated reference '%s' (write '$${' for a literal '${')", p);
			goto fail;
		}
		for (b = p + 2; b < end && isspace((unsigned char)*b); b++)
			;
		for (e = end; e > b && isspace((unsigned char)e[-1]); e--)
			;
		dot = memchr(b, '.', (size_t)(e - b));
		if (!dot || dot == b || dot + 1 == e) {
			err_set(err, CAIRN_EINVAL, "invalid reference '%.*s': expected ${NAME.ATTR}, "
				"${var.NAME}, ${aws.region}, ${aws.account_id} or ${stack.name}",
				(int)(end - p + 1), p);
			goto fail;
		}
		if (lit.len)
			push(&v, n, 0, strbuf_detach(&lit), NULL, NULL);
		push(&v, n, 1, xstrndup(p, (size_t)(end - p + 1)), xstrndup(b, (size_t)(dot - b)),
		     xstrndup(dot + 1, (size_t)(e - dot - 1)));
		p = end + 1;
	}
	if (lit.len || *n == 0)
		push(&v, n, 0, strbuf_detach(&lit), NULL, NULL);
	strbuf_free(&lit);
	*out = v;
	return 0;
fail:
	strbuf_free(&lit);
	parts_free(v, *n);
	*n = 0;
	*out = NULL;
	return -1;
}

int expr_single_ref(const char *s, char **root, char **path)
{
	struct part *v;
	size_t n;

	if (split(s, &v, &n, NULL) < 0)
		return 0;
	if (n != 1 || !v[0].ref) {
		parts_free(v, n);
		return 0;
	}
	*root = v[0].root;
	*path = v[0].path;
	v[0].root = v[0].path = NULL;
	parts_free(v, n);
	return 1;
}

/* Appends s with every "${" written as "$${". */
static void add_escaped(struct strbuf *sb, const char *s)
{
	for (; *s; s++) {
		if (s[0] == '$' && s[1] == '{')
			strbuf_addc(sb, '$');
		strbuf_addc(sb, *s);
	}
}

static json_t *escape_deep(json_t *v)
{
	struct strbuf sb;
	const char *k;
	json_t *e, *r;
	size_t i;

	if (json_is_string(v)) {
		strbuf_init(&sb);
		add_escaped(&sb, json_string_value(v));
		r = json_string(sb.buf);
		strbuf_free(&sb);
		return r;
	}
	if (json_is_object(v) && !value_is_unknown(v)) {
		r = json_object();
		json_object_foreach(v, k, e)
			json_object_set_new(r, k, escape_deep(e));
		return r;
	}
	if (json_is_array(v)) {
		r = json_array();
		json_array_foreach(v, i, e)
			json_array_append_new(r, escape_deep(e));
		return r;
	}
	return json_incref(v);
}

/* Text of a value inside a longer string: numbers and bools as JSON text,
 * lists and maps as compact JSON. */
static void add_text(struct strbuf *sb, json_t *v)
{
	char *s;

	if (json_is_string(v)) {
		strbuf_adds(sb, json_string_value(v));
		return;
	}
	if (json_is_real(v)) {
		/* The shortest form that reads back as the same double. */
		s = json_dumps(v, JSON_ENCODE_ANY | JSON_REAL_PRECISION(15));
		if (strtod(s, NULL) != json_real_value(v)) {
			free(s);
			s = json_dumps(v, JSON_ENCODE_ANY | JSON_REAL_PRECISION(17));
		}
	} else {
		s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT | JSON_SORT_KEYS);
	}
	strbuf_adds(sb, s);
	free(s);
}

static json_t *eval_string(const char *s, expr_lookup_fn lookup, void *ctx, int partial,
			   struct cairn_err *err)
{
	struct part *v;
	struct strbuf sb;
	json_t *r = NULL, *val;
	size_t n, i;
	int unknown = 0;

	if (split(s, &v, &n, err) < 0)
		return NULL;
	if (n == 1 && !v[0].ref) {
		r = json_string(partial ? s : v[0].text);
		parts_free(v, n);
		return r;
	}
	strbuf_init(&sb);
	for (i = 0; i < n; i++) {
		if (!v[i].ref) {
			if (partial)
				add_escaped(&sb, v[i].text);
			else
				strbuf_adds(&sb, v[i].text);
			continue;
		}
		err_clear(err);
		val = lookup(ctx, v[i].root, v[i].path, err);
		if (!val) {
			if (partial && err && err->code == CAIRN_OK) {
				if (n == 1) {
					r = json_string(s);
					goto out;
				}
				strbuf_adds(&sb, v[i].text);
				continue;
			}
			if (err && err->code == CAIRN_OK)
				err_set(err, CAIRN_EINVAL, "cannot resolve '%s'", v[i].text);
			goto out;
		}
		if (n == 1) {
			r = partial ? escape_deep(val) : json_incref(val);
			json_decref(val);
			goto out;
		}
		if (value_has_unknown(val))
			unknown = 1;
		else if (partial && json_is_string(val))
			add_escaped(&sb, json_string_value(val));
		else
			add_text(&sb, val);
		json_decref(val);
	}
	r = unknown ? value_unknown() : json_string(sb.buf);
out:
	strbuf_free(&sb);
	parts_free(v, n);
	return r;
}

static json_t *eval_deep(json_t *v, expr_lookup_fn lookup, void *ctx, int partial,
			 struct cairn_err *err)
{
	const char *k;
	json_t *e, *r, *x;
	size_t i;

	if (json_is_string(v))
		return eval_string(json_string_value(v), lookup, ctx, partial, err);
	if (json_is_object(v) && !value_is_unknown(v)) {
		r = json_object();
		json_object_foreach(v, k, e) {
			x = eval_deep(e, lookup, ctx, partial, err);
			if (!x) {
				json_decref(r);
				return NULL;
			}
			json_object_set_new(r, k, x);
		}
		return r;
	}
	if (json_is_array(v)) {
		r = json_array();
		json_array_foreach(v, i, e) {
			x = eval_deep(e, lookup, ctx, partial, err);
			if (!x) {
				json_decref(r);
				return NULL;
			}
			json_array_append_new(r, x);
		}
		return r;
	}
	return json_incref(v);
}

json_t *expr_eval(json_t *v, expr_lookup_fn lookup, void *ctx, struct cairn_err *err)
{
	return eval_deep(v, lookup, ctx, 0, err);
}

json_t *expr_subst(json_t *v, expr_lookup_fn lookup, void *ctx, struct cairn_err *err)
{
	return eval_deep(v, lookup, ctx, 1, err);
}

int expr_refs(json_t *v, expr_ref_fn fn, void *ctx, struct cairn_err *err)
{
	struct part *parts;
	const char *k;
	json_t *e;
	size_t n, i;

	if (json_is_string(v)) {
		if (split(json_string_value(v), &parts, &n, err) < 0)
			return -1;
		for (i = 0; i < n; i++)
			if (parts[i].ref)
				fn(ctx, parts[i].root, parts[i].path);
		parts_free(parts, n);
	} else if (json_is_object(v)) {
		json_object_foreach(v, k, e)
			if (expr_refs(e, fn, ctx, err) < 0)
				return -1;
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, e)
			if (expr_refs(e, fn, ctx, err) < 0)
				return -1;
	}
	return 0;
}

json_t *expr_path_split(const char *path)
{
	json_t *segs = json_array();
	const char *p = path;

	while (*p) {
		if (*p == '[') {
			char *end;
			long long idx;

			if (!isdigit((unsigned char)p[1]))
				goto bad;
			idx = strtoll(p + 1, &end, 10);
			if (*end != ']')
				goto bad;
			json_array_append_new(segs, json_integer(idx));
			p = end + 1;
		} else {
			size_t n;

			if (*p == '.') {
				if (p == path)
					goto bad;
				p++;
			} else if (p != path) {
				goto bad;
			}
			n = strcspn(p, ".[");
			if (n == 0)
				goto bad;
			json_array_append_new(segs, json_stringn(p, n));
			p += n;
		}
	}
	return segs;
bad:
	json_decref(segs);
	return NULL;
}

json_t *expr_walk(json_t *value, const char *path)
{
	json_t *segs = expr_path_split(path), *seg, *cur = value;
	size_t i;

	if (!segs)
		return NULL;
	json_array_foreach(segs, i, seg) {
		if (!cur || value_is_unknown(cur))
			break;
		if (json_is_integer(seg)) {
			cur = json_is_array(cur) ? json_array_get(cur, (size_t)json_integer_value(seg)) : NULL;
		} else if (json_is_array(cur)) {
			/* "list.0" as Terraform users write it */
			const char *s = json_string_value(seg);
			char *end;
			long long idx = strtoll(s, &end, 10);

			cur = (*s && !*end && idx >= 0) ? json_array_get(cur, (size_t)idx) : NULL;
		} else {
			cur = json_is_object(cur) ? json_object_get(cur, json_string_value(seg)) : NULL;
		}
	}
	json_decref(segs);
	return cur;
}
