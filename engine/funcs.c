/*
 * funcs: see funcs.h. Each function follows Terraform's documented
 * behaviour (https://developer.hashicorp.com/terraform/language/functions);
 * where cairn's value model is smaller (no sets, no tuples distinct from
 * lists), sets are lists without duplicates in first-seen order.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <math.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "funcs.h"
#include "value.h"

/* ---- value helpers ---- */

const char *func_kind(const json_t *v)
{
	if (value_is_unknown(v))
		return "unknown";
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "map";
	case JSON_ARRAY: return "list";
	case JSON_STRING: return "string";
	case JSON_INTEGER:
	case JSON_REAL: return "number";
	case JSON_TRUE:
	case JSON_FALSE: return "bool";
	default: return "null";
	}
}

json_t *func_number(double d)
{
	if (d == floor(d) && fabs(d) < 9007199254740992.0)
		return json_integer((json_int_t)d);
	return json_real(d);
}

int func_to_number(const json_t *v, double *out)
{
	const char *s;
	char *end;

	if (json_is_number(v)) {
		*out = json_number_value(v);
		return 0;
	}
	if (!json_is_string(v))
		return -1;
	s = json_string_value(v);
	while (isspace((unsigned char)*s))
		s++;
	if (!*s)
		return -1;
	*out = strtod(s, &end);
	while (isspace((unsigned char)*end))
		end++;
	return *end || !isfinite(*out) ? -1 : 0;
}

char *func_to_text(const json_t *v)
{
	char *s;

	if (json_is_string(v))
		return xstrdup(json_string_value(v));
	if (json_is_integer(v))
		return xasprintf("%lld", (long long)json_integer_value(v));
	if (json_is_real(v)) {
		/* The shortest form that reads back as the same double. */
		s = xasprintf("%.15g", json_real_value(v));
		if (strtod(s, NULL) != json_real_value(v)) {
			free(s);
			s = xasprintf("%.17g", json_real_value(v));
		}
		return s;
	}
	if (json_is_boolean(v))
		return xstrdup(json_is_true(v) ? "true" : "false");
	return NULL;
}

int func_to_bool(const json_t *v)
{
	if (json_is_boolean(v))
		return json_is_true(v);
	if (json_is_string(v) && !strcmp(json_string_value(v), "true"))
		return 1;
	if (json_is_string(v) && !strcmp(json_string_value(v), "false"))
		return 0;
	return -1;
}

int func_equal(const json_t *a, const json_t *b)
{
	const char *k;
	json_t *e;
	size_t i;

	if (json_is_number(a) && json_is_number(b))
		return json_number_value(a) == json_number_value(b);
	if (json_typeof(a) != json_typeof(b))
		return 0;
	if (json_is_array(a)) {
		if (json_array_size(a) != json_array_size(b))
			return 0;
		json_array_foreach(a, i, e)
			if (!func_equal(e, json_array_get(b, i)))
				return 0;
		return 1;
	}
	if (json_is_object(a)) {
		if (json_object_size(a) != json_object_size(b))
			return 0;
		json_object_foreach((json_t *)a, k, e)
			if (!json_object_get(b, k) || !func_equal(e, json_object_get(b, k)))
				return 0;
		return 1;
	}
	return json_equal((json_t *)a, (json_t *)b);
}

static int cmp_keys(const void *x, const void *y)
{
	return strcmp(*(const char *const *)x, *(const char *const *)y);
}

json_t *func_sorted_keys(const json_t *obj)
{
	const char **v = xcalloc(json_object_size(obj) + 1, sizeof(*v));
	json_t *out = json_array(), *e;
	const char *k;
	size_t n = 0, i;

	json_object_foreach((json_t *)obj, k, e)
		v[n++] = k;
	qsort(v, n, sizeof(*v), cmp_keys);
	for (i = 0; i < n; i++)
		json_array_append_new(out, json_string(v[i]));
	free(v);
	return out;
}

size_t func_utf8_len(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			n++;
	return n;
}

/* Byte offset of character number ci (ci <= length). */
static size_t utf8_offset(const char *s, size_t ci)
{
	size_t b = 0;

	while (s[b] && ci > 0) {
		b++;
		while (((unsigned char)s[b] & 0xC0) == 0x80)
			b++;
		ci--;
	}
	return b;
}

/* ---- argument checks ---- */

static json_t *type_err(struct func_ctx *c, size_t i, const char *want, const json_t *got)
{
	err_set(c->err, CAIRN_EINVAL, "wrong type for argument %zu of %s: expected %s, got %s",
		i + 1, c->def->sig, want, func_kind(got));
	return NULL;
}

static json_t *fail(struct func_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static json_t *fail(struct func_ctx *c, const char *fmt, ...)
{
	va_list ap;
	char *m;

	va_start(ap, fmt);
	m = xvasprintf(fmt, ap);
	va_end(ap);
	err_set(c->err, CAIRN_EINVAL, "%s: %s", c->def->name, m);
	free(m);
	return NULL;
}

/* Text of argument i (strings, numbers and bools convert): owned or NULL. */
static char *arg_str(struct func_ctx *c, json_t **a, size_t i)
{
	char *s = func_to_text(a[i]);

	if (!s)
		type_err(c, i, "string", a[i]);
	return s;
}

static int arg_num(struct func_ctx *c, json_t **a, size_t i, double *out)
{
	if (func_to_number(a[i], out) < 0) {
		type_err(c, i, "number", a[i]);
		return -1;
	}
	return 0;
}

static int arg_int(struct func_ctx *c, json_t **a, size_t i, long long *out)
{
	double d;

	if (arg_num(c, a, i, &d) < 0)
		return -1;
	if (d != floor(d) || fabs(d) > 9e18) {
		type_err(c, i, "whole number", a[i]);
		return -1;
	}
	*out = (long long)d;
	return 0;
}

static json_t *arg_list(struct func_ctx *c, json_t **a, size_t i)
{
	if (!json_is_array(a[i]))
		return type_err(c, i, "list", a[i]);
	return a[i];
}

static json_t *arg_map(struct func_ctx *c, json_t **a, size_t i)
{
	if (!json_is_object(a[i]) || value_is_unknown(a[i]))
		return type_err(c, i, "map", a[i]);
	return a[i];
}

/* ---- collections ---- */

static json_t *f_length(struct func_ctx *c, json_t **a, size_t n)
{
	if (json_is_string(a[0]))
		return json_integer((json_int_t)func_utf8_len(json_string_value(a[0])));
	if (json_is_array(a[0]))
		return json_integer((json_int_t)json_array_size(a[0]));
	if (json_is_object(a[0]) && !value_is_unknown(a[0]))
		return json_integer((json_int_t)json_object_size(a[0]));
	return type_err(c, 0, "string, list or map", a[0]);
}

static json_t *f_keys(struct func_ctx *c, json_t **a, size_t n)
{
	return arg_map(c, a, 0) ? func_sorted_keys(a[0]) : NULL;
}

static json_t *f_values(struct func_ctx *c, json_t **a, size_t n)
{
	json_t *keys, *out, *k;
	size_t i;

	if (!arg_map(c, a, 0))
		return NULL;
	keys = func_sorted_keys(a[0]);
	out = json_array();
	json_array_foreach(keys, i, k)
		json_array_append(out, json_object_get(a[0], json_string_value(k)));
	json_decref(keys);
	return out;
}

static json_t *f_lookup(struct func_ctx *c, json_t **a, size_t n)
{
	json_t *v;
	char *key;

	if (!arg_map(c, a, 0) || !(key = arg_str(c, a, 1)))
		return NULL;
	v = json_object_get(a[0], key);
	if (v)
		v = json_incref(v);
	else if (n > 2)
		v = json_incref(a[2]);
	else
		fail(c, "the map has no key '%s' and no default was given", key);
	free(key);
	return v;
}

static json_t *f_merge(struct func_ctx *c, json_t **a, size_t n)
{
	json_t *out = json_object();
	size_t i;

	for (i = 0; i < n; i++) {
		if (json_is_null(a[i]))
			continue;
		if (!arg_map(c, a, i)) {
			json_decref(out);
			return NULL;
		}
		json_object_update(out, a[i]);
	}
	return out;
}

static json_t *f_concat(struct func_ctx *c, json_t **a, size_t n)
{
	json_t *out = json_array();
	size_t i;

	for (i = 0; i < n; i++) {
		if (!arg_list(c, a, i)) {
			json_decref(out);
			return NULL;
		}
		json_array_extend(out, a[i]);
	}
	return out;
}

static void flatten_into(json_t *out, json_t *list)
{
	json_t *e;
	size_t i;

	json_array_foreach(list, i, e) {
		if (json_is_array(e))
			flatten_into(out, e);
		else
			json_array_append(out, e);
	}
}

static json_t *f_flatten(struct func_ctx *c, json_t **a, size_t n)
{
	json_t *out;

	if (!arg_list(c, a, 0))
		return NULL;
	out = json_array();
	flatten_into(out, a[0]);
	return out;
}

static int list_has(const json_t *list, const json_t *v)
{
	json_t *e;
	size_t i;

	json_array_foreach(list, i, e)
		if (func_equal(e, v))
			return 1;
	return 0;
}

static json_t *f_distinct(struct func_ctx *c, json_t **a, size_t n)
{
	json_t *out, *e;
	size_t i;

	if (!arg_list(c, a, 0))
		return NULL;
	out = json_array();
	json_array_foreach(a[0], i, e)
		if (!list_has(out, e))
			json_array_append(out, e);
	return out;
}

static json_t *f_contains(struct func_ctx *c, json_t **a, size_t n)
{
	if (!arg_list(c, a, 0))
		return NULL;
	return json_boolean(list_has(a[0], a[1]));
}

static json_t *f_element(struct func_ctx *c, json_t **a, size_t n)
{
	long long i;
	size_t len;

	if (!arg_list(c, a, 0) || arg_int(c, a, 1, &i) < 0)
		return NULL;
	len = json_array_size(a[0]);
	if (len == 0)
		return fail(c, "cannot use element function with an empty list");
	if (i < 0)
		return fail(c, "cannot use element function with a negative index");
	return json_incref(json_array_get(a[0], (size_t)i % len));
}

static json_t *f_range(struct func_ctx *c, json_t **a, size_t n)
{
	double start = 0, limit, step = 1, x;
	json_t *out;

	if (n == 1) {
		if (arg_num(c, a, 0, &limit) < 0)
			return NULL;
	} else {
		if (arg_num(c, a, 0, &start) < 0 || arg_num(c, a, 1, &limit) < 0)
			return NULL;
		if (start > limit)
			step = -1;
		if (n == 3 && arg_num(c, a, 2, &step) < 0)
			return NULL;
	}
	if (step == 0)
		return fail(c, "step must not be zero");
	if ((step > 0 && start > limit) || (step < 0 && start < limit))
		return fail(c, "step %g goes away from the limit", step);
	if (fabs((limit - start) / step) > 1024)
		return fail(c, "more than 1024 values requested");
	out = json_array();
	for (x = start; step > 0 ? x < limit : x > limit; x += step)
		json_array_append_new(out, func_number(x));
	return out;
}

static json_t *f_setproduct(struct func_ctx *c, json_t **a, size_t n)
{
	json_t *out = json_array(), *next, *p, *e;
	size_t i, j, k;

	for (i = 0; i < n; i++)
		if (!arg_list(c, a, i)) {
			json_decref(out);
			return NULL;
		}
	json_array_append_new(out, json_array());
	for (i = 0; i < n; i++) {
		next = json_array();
		json_array_foreach(out, j, p)
			json_array_foreach(a[i], k, e) {
				json_t *t = json_copy(p);

				json_array_append(t, e);
				json_array_append_new(next, t);
			}
		json_decref(out);
		out = next;
	}
	return out;
}

static json_t *f_zipmap(struct func_ctx *c, json_t **a, size_t n)
{
	json_t *out, *k;
	size_t i;

	if (!arg_list(c, a, 0) || !arg_list(c, a, 1))
		return NULL;
	if (json_array_size(a[0]) != json_array_size(a[1]))
		return fail(c, "the keys list has %zu elements but the values list has %zu",
			    json_array_size(a[0]), json_array_size(a[1]));
	out = json_object();
	json_array_foreach(a[0], i, k) {
		char *ks = func_to_text(k);

		if (!ks) {
			json_decref(out);
			return fail(c, "key %zu is a %s, not a string", i, func_kind(k));
		}
		json_object_set(out, ks, json_array_get(a[1], i));
		free(ks);
	}
	return out;
}

/* ---- strings ---- */

static json_t *f_join(struct func_ctx *c, json_t **a, size_t n)
{
	struct strbuf sb;
	char *sep, *s;
	json_t *e;
	size_t i, j, count = 0;

	if (!(sep = arg_str(c, a, 0)))
		return NULL;
	strbuf_init(&sb);
	for (i = 1; i < n; i++) {
		if (!arg_list(c, a, i))
			goto bad;
		json_array_foreach(a[i], j, e) {
			if (!(s = func_to_text(e))) {
				fail(c, "element %zu is a %s, not a string", j, func_kind(e));
				goto bad;
			}
			strbuf_addf(&sb, "%s%s", count++ ? sep : "", s);
			free(s);
		}
	}
	free(sep);
	e = json_string(sb.buf);
	strbuf_free(&sb);
	return e;
bad:
	free(sep);
	strbuf_free(&sb);
	return NULL;
}

static json_t *f_split(struct func_ctx *c, json_t **a, size_t n)
{
	char *sep = arg_str(c, a, 0), *s = sep ? arg_str(c, a, 1) : NULL, *p, *hit;
	json_t *out = NULL;

	if (!s)
		goto out;
	out = json_array();
	if (!*sep) {
		for (p = s; *p;) {
			size_t l = utf8_offset(p, 1);

			json_array_append_new(out, json_stringn(p, l));
			p += l;
		}
		goto out;
	}
	for (p = s; (hit = strstr(p, sep)); p = hit + strlen(sep))
		json_array_append_new(out, json_stringn(p, (size_t)(hit - p)));
	json_array_append_new(out, json_string(p));
out:
	free(sep);
	free(s);
	return out;
}

static json_t *map_chars(struct func_ctx *c, json_t **a, int (*f)(int))
{
	char *s = arg_str(c, a, 0), *p;
	json_t *r;

	if (!s)
		return NULL;
	for (p = s; *p; p++)
		if (!((unsigned char)*p & 0x80))
			*p = (char)f((unsigned char)*p);
	r = json_string(s);
	free(s);
	return r;
}

static json_t *f_upper(struct func_ctx *c, json_t **a, size_t n)
{
	return map_chars(c, a, toupper);
}

static json_t *f_lower(struct func_ctx *c, json_t **a, size_t n)
{
	return map_chars(c, a, tolower);
}

static json_t *f_title(struct func_ctx *c, json_t **a, size_t n)
{
	char *s = arg_str(c, a, 0), *p;
	int start = 1;
	json_t *r;

	if (!s)
		return NULL;
	for (p = s; *p; p++) {
		int letter = isalnum((unsigned char)*p) || ((unsigned char)*p & 0x80);

		if (start && letter && !((unsigned char)*p & 0x80))
			*p = (char)toupper((unsigned char)*p);
		start = !letter;
	}
	r = json_string(s);
	free(s);
	return r;
}

static json_t *f_trimspace(struct func_ctx *c, json_t **a, size_t n)
{
	char *s = arg_str(c, a, 0), *b, *e;
	json_t *r;

	if (!s)
		return NULL;
	for (b = s; isspace((unsigned char)*b); b++)
		;
	for (e = b + strlen(b); e > b && isspace((unsigned char)e[-1]); e--)
		;
	r = json_stringn(b, (size_t)(e - b));
	free(s);
	return r;
}

/* replace with a regular expression: "/re/" (POSIX extended, the nearest
 * to Terraform's RE2), "$1" in the replacement names a group. */
static json_t *replace_re(struct func_ctx *c, const char *s, const char *re, const char *rep)
{
	struct strbuf sb;
	regmatch_t m[10];
	regex_t rx;
	const char *p = s, *q;
	json_t *r;
	int eflags = 0;

	if (regcomp(&rx, re, REG_EXTENDED) != 0)
		return fail(c, "invalid regular expression '/%s/'", re);
	strbuf_init(&sb);
	while (*p && regexec(&rx, p, 10, m, eflags) == 0) {
		strbuf_add(&sb, p, (size_t)m[0].rm_so);
		for (q = rep; *q; q++) {
			if (*q == '$' && isdigit((unsigned char)q[1])) {
				int g = q[1] - '0';

				if (m[g].rm_so >= 0)
					strbuf_add(&sb, p + m[g].rm_so, (size_t)(m[g].rm_eo - m[g].rm_so));
				q++;
			} else {
				strbuf_addc(&sb, *q);
			}
		}
		if (m[0].rm_eo == 0) {
			if (!*p)
				break;
			strbuf_addc(&sb, *p);
			p++;
		} else {
			p += m[0].rm_eo;
		}
		eflags = REG_NOTBOL;
	}
	strbuf_adds(&sb, p);
	regfree(&rx);
	r = json_string(sb.buf);
	strbuf_free(&sb);
	return r;
}

static json_t *f_replace(struct func_ctx *c, json_t **a, size_t n)
{
	char *s = arg_str(c, a, 0), *sub = s ? arg_str(c, a, 1) : NULL;
	char *rep = sub ? arg_str(c, a, 2) : NULL, *p, *hit;
	struct strbuf sb;
	json_t *r = NULL;
	size_t l;

	if (!rep)
		goto out;
	l = strlen(sub);
	if (l >= 2 && sub[0] == '/' && sub[l - 1] == '/') {
		sub[l - 1] = '\0';
		r = replace_re(c, s, sub + 1, rep);
		goto out;
	}
	if (!l) {
		r = json_string(s);
		goto out;
	}
	strbuf_init(&sb);
	for (p = s; (hit = strstr(p, sub)); p = hit + l) {
		strbuf_add(&sb, p, (size_t)(hit - p));
		strbuf_adds(&sb, rep);
	}
	strbuf_adds(&sb, p);
	r = json_string(sb.buf);
	strbuf_free(&sb);
out:
	free(s);
	free(sub);
	free(rep);
	return r;
}

static json_t *f_substr(struct func_ctx *c, json_t **a, size_t n)
{
	long long off, len;
	size_t total, b, e;
	char *s = arg_str(c, a, 0);
	json_t *r = NULL;

	if (!s || arg_int(c, a, 1, &off) < 0 || arg_int(c, a, 2, &len) < 0)
		goto out;
	total = func_utf8_len(s);
	if (off < 0)
		off += (long long)total;
	if (off < 0)
		off = 0;
	if ((size_t)off > total) {
		fail(c, "offset %lld is beyond the end of a string of %zu characters", off, total);
		goto out;
	}
	if (len < 0 || (size_t)(off + len) > total)
		len = (long long)total - off;
	b = utf8_offset(s, (size_t)off);
	e = utf8_offset(s, (size_t)(off + len));
	r = json_stringn(s + b, e - b);
out:
	free(s);
	return r;
}

static json_t *f_affix(struct func_ctx *c, json_t **a, int end)
{
	char *s = arg_str(c, a, 0), *x = s ? arg_str(c, a, 1) : NULL;
	json_t *r = NULL;
	size_t ls, lx;

	if (x) {
		ls = strlen(s);
		lx = strlen(x);
		r = json_boolean(lx <= ls && !memcmp(end ? s + ls - lx : s, x, lx));
	}
	free(s);
	free(x);
	return r;
}

static json_t *f_startswith(struct func_ctx *c, json_t **a, size_t n)
{
	return f_affix(c, a, 0);
}

static json_t *f_endswith(struct func_ctx *c, json_t **a, size_t n)
{
	return f_affix(c, a, 1);
}

static json_t *f_coalesce(struct func_ctx *c, json_t **a, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!json_is_null(a[i]) && !(json_is_string(a[i]) && !json_string_length(a[i])))
			return json_incref(a[i]);
	return fail(c, "no non-null, non-empty-string arguments");
}

static json_t *minmax(struct func_ctx *c, json_t **a, size_t n, int want_max)
{
	double best = 0, d;
	size_t i;

	for (i = 0; i < n; i++) {
		if (arg_num(c, a, i, &d) < 0)
			return NULL;
		if (i == 0 || (want_max ? d > best : d < best))
			best = d;
	}
	return func_number(best);
}

static json_t *f_min(struct func_ctx *c, json_t **a, size_t n)
{
	return minmax(c, a, n, 0);
}

static json_t *f_max(struct func_ctx *c, json_t **a, size_t n)
{
	return minmax(c, a, n, 1);
}

static json_t *f_tostring(struct func_ctx *c, json_t **a, size_t n)
{
	char *s;
	json_t *r;

	if (json_is_null(a[0]))
		return json_null();
	if (!(s = func_to_text(a[0])))
		return fail(c, "cannot convert a %s to a string", func_kind(a[0]));
	r = json_string(s);
	free(s);
	return r;
}

static json_t *f_tonumber(struct func_ctx *c, json_t **a, size_t n)
{
	double d;

	if (json_is_null(a[0]))
		return json_null();
	if (func_to_number(a[0], &d) < 0)
		return fail(c, "cannot convert %s%s%s to a number",
			    json_is_string(a[0]) ? "\"" : "a ",
			    json_is_string(a[0]) ? json_string_value(a[0]) : func_kind(a[0]),
			    json_is_string(a[0]) ? "\"" : "");
	return func_number(d);
}

static json_t *f_tolist(struct func_ctx *c, json_t **a, size_t n)
{
	if (json_is_null(a[0]))
		return json_null();
	return arg_list(c, a, 0) ? json_incref(a[0]) : NULL;
}

static json_t *f_tomap(struct func_ctx *c, json_t **a, size_t n)
{
	if (json_is_null(a[0]))
		return json_null();
	return arg_map(c, a, 0) ? json_incref(a[0]) : NULL;
}

/* ---- format ---- */

/* Appends body padded to width (characters) as the flags say; sign goes
 * before zero padding. */
static void pad(struct strbuf *sb, const char *flags, int width, const char *sign,
		const char *body, int numeric)
{
	int len = (int)(func_utf8_len(sign) + func_utf8_len(body)), i;
	int left = strchr(flags, '-') != NULL, zero = numeric && strchr(flags, '0') && !left;

	if (!left && !zero)
		for (i = len; i < width; i++)
			strbuf_addc(sb, ' ');
	strbuf_adds(sb, sign);
	if (zero)
		for (i = len; i < width; i++)
			strbuf_addc(sb, '0');
	strbuf_adds(sb, body);
	if (left)
		for (i = len; i < width; i++)
			strbuf_addc(sb, ' ');
}

static const char *sign_of(const char *flags, int negative)
{
	if (negative)
		return "-";
	return strchr(flags, '+') ? "+" : strchr(flags, ' ') ? " " : "";
}

/* The digits of u in base 2, 8, 10 or 16 (upper: A-F). Owned. */
static char *digits(unsigned long long u, int base, int upper)
{
	const char *set = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char buf[72];
	int i = (int)sizeof(buf) - 1;

	buf[i] = '\0';
	do {
		buf[--i] = set[u % (unsigned)base];
		u /= (unsigned)base;
	} while (u);
	return xstrdup(buf + i);
}

/* One verb of a format string: appends its text, or fails. */
static int format_verb(struct func_ctx *c, struct strbuf *sb, const char *flags, int width,
		       int prec, char verb, const json_t *v)
{
	struct strbuf body;
	char *s;
	double d;

	if (verb == 'v')
		verb = strchr(flags, '#') || !(json_is_string(v) || json_is_number(v) ||
					       json_is_boolean(v)) ? 'J' : 's';
	strbuf_init(&body);
	switch (verb) {
	case 'J':
		s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT | JSON_SORT_KEYS);
		pad(sb, flags, width, "", s, 0);
		free(s);
		break;
	case 't':
		if (func_to_bool(v) < 0)
			goto bad;
		pad(sb, flags, width, "", func_to_bool(v) ? "true" : "false", 0);
		break;
	case 's':
	case 'q':
		if (!(s = func_to_text(v)))
			goto bad;
		if (verb == 'q') {
			json_t *j = json_string(s);
			char *q = json_dumps(j, JSON_ENCODE_ANY);

			free(s);
			s = q;
			json_decref(j);
		}
		if (prec >= 0)
			s[utf8_offset(s, (size_t)prec)] = '\0';
		pad(sb, flags, width, "", s, 0);
		free(s);
		break;
	case 'd':
	case 'o':
	case 'x':
	case 'X':
	case 'b': {
		int base = verb == 'd' ? 10 : verb == 'o' ? 8 : verb == 'b' ? 2 : 16;

		if (func_to_number(v, &d) < 0 || d != floor(d))
			goto bad;
		s = digits((unsigned long long)fabs(d), base, verb == 'X');
		if (strchr(flags, '#') && base == 16)
			strbuf_adds(&body, verb == 'X' ? "0X" : "0x");
		else if (strchr(flags, '#') && base == 8)
			strbuf_addc(&body, '0');
		while (prec >= 0 && (int)strlen(s) + (int)body.len < prec)
			strbuf_addc(&body, '0');
		strbuf_adds(&body, s);
		free(s);
		pad(sb, flags, width, sign_of(flags, d < 0), body.buf, prec < 0);
		break;
	}
	case 'e':
	case 'E':
	case 'f':
	case 'F':
	case 'g':
	case 'G':
		if (func_to_number(v, &d) < 0)
			goto bad;
		if (prec < 0 && (verb == 'g' || verb == 'G')) {
			json_t *num = json_real(fabs(d));

			s = func_to_text(num);
			json_decref(num);
		} else {
			int p = prec < 0 ? 6 : prec;

			switch (verb) {
			case 'e': s = xasprintf("%.*e", p, fabs(d)); break;
			case 'E': s = xasprintf("%.*E", p, fabs(d)); break;
			case 'g': s = xasprintf("%.*g", p, fabs(d)); break;
			case 'G': s = xasprintf("%.*G", p, fabs(d)); break;
			default: s = xasprintf("%.*f", p, fabs(d)); break;
			}
		}
		pad(sb, flags, width, sign_of(flags, d < 0), s, 1);
		free(s);
		break;
	default:
		strbuf_free(&body);
		fail(c, "unsupported format verb '%%%c'", verb);
		return -1;
	}
	strbuf_free(&body);
	return 0;
bad:
	strbuf_free(&body);
	fail(c, "'%%%c' cannot format a %s", verb, func_kind(v));
	return -1;
}

/* Formats spec with args[0..n). Owned text or NULL. */
static char *format_with(struct func_ctx *c, const char *spec, json_t **args, size_t n)
{
	struct strbuf sb;
	const char *p = spec;
	size_t next = 0;

	strbuf_init(&sb);
	while (*p) {
		char flags[8] = "";
		size_t nf = 0;
		int width = -1, prec = -1;

		if (*p != '%') {
			strbuf_addc(&sb, *p++);
			continue;
		}
		p++;
		if (*p == '%') {
			strbuf_addc(&sb, '%');
			p++;
			continue;
		}
		while (*p && strchr("-+ #0", *p) && nf < sizeof(flags) - 1)
			flags[nf++] = *p++;
		if (*p == '[') {
			char *end;
			long idx = strtol(p + 1, &end, 10);

			if (*end != ']' || idx < 1) {
				fail(c, "invalid argument index in format string");
				goto bad;
			}
			next = (size_t)idx - 1;
			p = end + 1;
		}
		if (isdigit((unsigned char)*p))
			for (width = 0; isdigit((unsigned char)*p); p++)
				width = width * 10 + (*p - '0');
		if (*p == '.')
			for (prec = 0, p++; isdigit((unsigned char)*p); p++)
				prec = prec * 10 + (*p - '0');
		if (!*p) {
			fail(c, "format string ends inside a verb");
			goto bad;
		}
		if (next >= n) {
			fail(c, "not enough arguments for the format string '%s'", spec);
			goto bad;
		}
		if (format_verb(c, &sb, flags, width, prec, *p, args[next]) < 0)
			goto bad;
		next++;
		p++;
	}
	if (next < n) {
		fail(c, "too many arguments for the format string '%s'", spec);
		goto bad;
	}
	return strbuf_detach(&sb);
bad:
	strbuf_free(&sb);
	return NULL;
}

static json_t *f_format(struct func_ctx *c, json_t **a, size_t n)
{
	char *spec = arg_str(c, a, 0), *s;
	json_t *r = NULL;

	if (spec && (s = format_with(c, spec, a + 1, n - 1))) {
		r = json_string(s);
		free(s);
	}
	free(spec);
	return r;
}

static json_t *f_formatlist(struct func_ctx *c, json_t **a, size_t n)
{
	char *spec = arg_str(c, a, 0), *s;
	json_t **row = xcalloc(n + 1, sizeof(*row)), *out = NULL;
	size_t len = 0, i, j;
	int any = 0;

	if (!spec)
		goto done;
	for (i = 1; i < n; i++) {
		if (!json_is_array(a[i]))
			continue;
		if (any && json_array_size(a[i]) != len) {
			fail(c, "all lists must have the same length (%zu and %zu)", len,
			     json_array_size(a[i]));
			goto done;
		}
		len = json_array_size(a[i]);
		any = 1;
	}
	if (!any)
		len = 1;
	out = json_array();
	for (j = 0; j < len; j++) {
		for (i = 1; i < n; i++)
			row[i - 1] = json_is_array(a[i]) ? json_array_get(a[i], j) : a[i];
		if (!(s = format_with(c, spec, row, n - 1))) {
			json_decref(out);
			out = NULL;
			goto done;
		}
		json_array_append_new(out, json_string(s));
		free(s);
	}
done:
	free(spec);
	free(row);
	return out;
}

/* ---- networks ---- */

typedef unsigned __int128 u128;

/* Parses "ADDR/LEN": sets *addr (masked to the prefix), *len and *bits (32 or 128). */
static int parse_cidr(struct func_ctx *c, const char *s, u128 *addr, int *len, int *bits)
{
	const char *slash = strchr(s, '/');
	unsigned char b[16];
	char *host, *end;
	long l;
	int i, nb;

	if (!slash)
		goto bad;
	host = xstrndup(s, (size_t)(slash - s));
	l = strtol(slash + 1, &end, 10);
	if (inet_pton(AF_INET, host, b) == 1)
		*bits = 32;
	else if (inet_pton(AF_INET6, host, b) == 1)
		*bits = 128;
	else
		*bits = 0;
	free(host);
	if (!*bits || *end || slash[1] == '\0' || l < 0 || l > *bits)
		goto bad;
	nb = *bits / 8;
	*addr = 0;
	for (i = 0; i < nb; i++)
		*addr = (*addr << 8) | b[i];
	*len = (int)l;
	if (*len < *bits)
		*addr &= ~(((u128)1 << (*bits - *len)) - 1);
	return 0;
bad:
	fail(c, "invalid CIDR prefix '%s'", s);
	return -1;
}

static json_t *addr_text(u128 addr, int bits, int len)
{
	unsigned char b[16];
	char buf[INET6_ADDRSTRLEN + 16];
	int i, nb = bits / 8;

	for (i = nb - 1; i >= 0; i--) {
		b[i] = (unsigned char)(addr & 0xff);
		addr >>= 8;
	}
	inet_ntop(bits == 32 ? AF_INET : AF_INET6, b, buf, INET6_ADDRSTRLEN);
	if (len >= 0)
		snprintf(buf + strlen(buf), 16, "/%d", len);
	return json_string(buf);
}

static json_t *f_cidrsubnet(struct func_ctx *c, json_t **a, size_t n)
{
	char *p = arg_str(c, a, 0);
	long long newbits, netnum;
	int len, bits;
	u128 addr;
	json_t *r = NULL;

	if (!p || arg_int(c, a, 1, &newbits) < 0 || arg_int(c, a, 2, &netnum) < 0 ||
	    parse_cidr(c, p, &addr, &len, &bits) < 0)
		goto out;
	if (newbits < 0 || len + newbits > bits) {
		fail(c, "%lld additional bits extend prefix '%s' past %d bits", newbits, p, bits);
		goto out;
	}
	if (netnum < 0 || (newbits < 64 && (unsigned long long)netnum >= (1ULL << newbits))) {
		fail(c, "prefix extension of %lld bits cannot accommodate a subnet numbered %lld",
		     newbits, netnum);
		goto out;
	}
	addr |= (u128)netnum << (bits - len - newbits);
	r = addr_text(addr, bits, (int)(len + newbits));
out:
	free(p);
	return r;
}

static json_t *f_cidrhost(struct func_ctx *c, json_t **a, size_t n)
{
	char *p = arg_str(c, a, 0);
	long long host;
	int len, bits, hb;
	u128 addr, size;
	json_t *r = NULL;

	if (!p || arg_int(c, a, 1, &host) < 0 || parse_cidr(c, p, &addr, &len, &bits) < 0)
		goto out;
	hb = bits - len;
	size = hb >= 127 ? ~(u128)0 : (u128)1 << hb;
	if ((host >= 0 && (u128)host >= size) || (host < 0 && (u128)(-host) > size)) {
		fail(c, "prefix of %d bits cannot accommodate a host numbered %lld", len, host);
		goto out;
	}
	addr += host >= 0 ? (u128)host : size - (u128)(-host);
	r = addr_text(addr, bits, -1);
out:
	free(p);
	return r;
}

/* ---- encodings and hashes ---- */

static json_t *f_jsonencode(struct func_ctx *c, json_t **a, size_t n)
{
	char *s = json_dumps(a[0], JSON_ENCODE_ANY | JSON_COMPACT | JSON_SORT_KEYS), *p;
	struct strbuf sb;
	json_t *r;

	/* Terraform escapes <, > and & so the text is safe inside HTML. */
	strbuf_init(&sb);
	for (p = s; *p; p++) {
		if (*p == '<')
			strbuf_adds(&sb, "\\u003c");
		else if (*p == '>')
			strbuf_adds(&sb, "\\u003e");
		else if (*p == '&')
			strbuf_adds(&sb, "\\u0026");
		else
			strbuf_addc(&sb, *p);
	}
	free(s);
	r = json_string(sb.buf);
	strbuf_free(&sb);
	return r;
}

static json_t *f_jsondecode(struct func_ctx *c, json_t **a, size_t n)
{
	char *s = arg_str(c, a, 0);
	json_error_t je;
	json_t *r;

	if (!s)
		return NULL;
	r = json_loads(s, JSON_DECODE_ANY, &je);
	free(s);
	if (!r)
		return fail(c, "invalid JSON at character %d: %s", je.position, je.text);
	return r;
}

static json_t *f_base64encode(struct func_ctx *c, json_t **a, size_t n)
{
	char *s = arg_str(c, a, 0), *out;
	json_t *r;

	if (!s)
		return NULL;
	out = b64_encode(s, strlen(s));
	r = json_string(out);
	free(out);
	free(s);
	return r;
}

static json_t *f_base64decode(struct func_ctx *c, json_t **a, size_t n)
{
	char *s = arg_str(c, a, 0);
	unsigned char *out;
	size_t got = 0;
	json_t *r = NULL;

	if (!s)
		return NULL;
	out = b64_decode(s, &got);
	if (!out) {
		fail(c, "the argument is not valid base64");
		goto out;
	}
	r = json_stringn((char *)out, got);
	if (!r)
		fail(c, "the decoded bytes are not valid UTF-8");
out:
	free(out);
	free(s);
	return r;
}

static json_t *digest_hex(const EVP_MD *md, const void *data, size_t len)
{
	unsigned char d[EVP_MAX_MD_SIZE];
	char hex[2 * EVP_MAX_MD_SIZE + 1];
	unsigned int dl, i;

	EVP_Digest(data, len, d, &dl, md, NULL);
	for (i = 0; i < dl; i++)
		snprintf(hex + 2 * i, 3, "%02x", d[i]);
	return json_string(hex);
}

static json_t *f_sha256(struct func_ctx *c, json_t **a, size_t n)
{
	char *s = arg_str(c, a, 0);
	json_t *r = s ? digest_hex(EVP_sha256(), s, strlen(s)) : NULL;

	free(s);
	return r;
}

static json_t *f_md5(struct func_ctx *c, json_t **a, size_t n)
{
	char *s = arg_str(c, a, 0);
	json_t *r = s ? digest_hex(EVP_md5(), s, strlen(s)) : NULL;

	free(s);
	return r;
}

/* ---- files ---- */

/* Reads path relative to basedir: owned bytes or NULL with err set. */
static char *read_rel(struct func_ctx *c, json_t **a, size_t *len)
{
	char *p = arg_str(c, a, 0), *full, *text;

	if (!p)
		return NULL;
	full = p[0] == '/' || !c->basedir || !strcmp(c->basedir, ".") ? xstrdup(p) :
	       xasprintf("%s/%s", c->basedir, p);
	text = read_file(full, len, c->err);
	if (!text && !strcmp(full, p))
		err_set(c->err, CAIRN_EINVAL, "%s: no file '%s'", c->def->name, p);
	else if (!text)
		err_set(c->err, CAIRN_EINVAL, "%s: no file '%s' (read as '%s')", c->def->name, p, full);
	free(full);
	free(p);
	return text;
}

static json_t *f_file(struct func_ctx *c, json_t **a, size_t n)
{
	size_t len;
	char *text = read_rel(c, a, &len);
	json_t *r;

	if (!text)
		return NULL;
	r = json_stringn(text, len);
	free(text);
	if (!r)
		return fail(c, "the file is not valid UTF-8 text");
	return r;
}

static json_t *f_filebase64sha256(struct func_ctx *c, json_t **a, size_t n)
{
	unsigned char d[EVP_MAX_MD_SIZE], out[4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1];
	unsigned int dl;
	size_t len;
	char *text = read_rel(c, a, &len);

	if (!text)
		return NULL;
	EVP_Digest(text, len, d, &dl, EVP_sha256(), NULL);
	EVP_EncodeBlock(out, d, (int)dl);
	free(text);
	return json_string((char *)out);
}

static const struct func_def funcs[] = {
	{"base64decode", 1, 1, "base64decode(string)", 0, f_base64decode},
	{"base64encode", 1, 1, "base64encode(string)", 0, f_base64encode},
	{"can", 1, 1, "can(expression)", 0, NULL},
	{"cidrhost", 2, 2, "cidrhost(prefix string, hostnum number)", 0, f_cidrhost},
	{"cidrsubnet", 3, 3, "cidrsubnet(prefix string, newbits number, netnum number)", 0, f_cidrsubnet},
	{"coalesce", 1, -1, "coalesce(vals...)", 0, f_coalesce},
	{"concat", 1, -1, "concat(lists... list)", FUNC_STRUCTURAL, f_concat},
	{"contains", 2, 2, "contains(list list, value)", 0, f_contains},
	{"distinct", 1, 1, "distinct(list list)", 0, f_distinct},
	{"element", 2, 2, "element(list list, index number)", FUNC_STRUCTURAL, f_element},
	{"endswith", 2, 2, "endswith(str string, suffix string)", 0, f_endswith},
	{"file", 1, 1, "file(path string)", 0, f_file},
	{"filebase64sha256", 1, 1, "filebase64sha256(path string)", 0, f_filebase64sha256},
	{"flatten", 1, 1, "flatten(list list)", FUNC_STRUCTURAL, f_flatten},
	{"format", 1, -1, "format(spec string, values...)", 0, f_format},
	{"formatlist", 1, -1, "formatlist(spec string, values...)", 0, f_formatlist},
	{"join", 2, -1, "join(separator string, lists... list)", 0, f_join},
	{"jsondecode", 1, 1, "jsondecode(str string)", 0, f_jsondecode},
	{"jsonencode", 1, 1, "jsonencode(val)", 0, f_jsonencode},
	{"keys", 1, 1, "keys(map map)", FUNC_STRUCTURAL, f_keys},
	{"length", 1, 1, "length(value list|map|string)", FUNC_STRUCTURAL, f_length},
	{"lookup", 2, 3, "lookup(map map, key string, default)", FUNC_STRUCTURAL, f_lookup},
	{"lower", 1, 1, "lower(str string)", 0, f_lower},
	{"max", 1, -1, "max(numbers... number)", 0, f_max},
	{"md5", 1, 1, "md5(str string)", 0, f_md5},
	{"merge", 0, -1, "merge(maps... map)", FUNC_STRUCTURAL, f_merge},
	{"min", 1, -1, "min(numbers... number)", 0, f_min},
	{"range", 1, 3, "range(start number, limit number, step number)", 0, f_range},
	{"replace", 3, 3, "replace(str string, substr string, replace string)", 0, f_replace},
	{"resource", 1, 1, "resource(address string)", 0, NULL},
	{"setproduct", 1, -1, "setproduct(sets... list)", FUNC_STRUCTURAL, f_setproduct},
	{"sha256", 1, 1, "sha256(str string)", 0, f_sha256},
	{"split", 2, 2, "split(separator string, str string)", 0, f_split},
	{"startswith", 2, 2, "startswith(str string, prefix string)", 0, f_startswith},
	{"substr", 3, 3, "substr(str string, offset number, length number)", 0, f_substr},
	{"templatefile", 2, 2, "templatefile(path string, vars map)", 0, NULL},
	{"title", 1, 1, "title(str string)", 0, f_title},
	{"tolist", 1, 1, "tolist(v)", FUNC_STRUCTURAL, f_tolist},
	{"tomap", 1, 1, "tomap(v)", FUNC_STRUCTURAL, f_tomap},
	{"tonumber", 1, 1, "tonumber(v)", 0, f_tonumber},
	{"tostring", 1, 1, "tostring(v)", 0, f_tostring},
	{"trimspace", 1, 1, "trimspace(str string)", 0, f_trimspace},
	{"try", 1, -1, "try(expressions...)", 0, NULL},
	{"upper", 1, 1, "upper(str string)", 0, f_upper},
	{"values", 1, 1, "values(map map)", FUNC_STRUCTURAL, f_values},
	{"zipmap", 2, 2, "zipmap(keys list, values list)", FUNC_STRUCTURAL, f_zipmap},
};

const struct func_def *func_find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(funcs) / sizeof(funcs[0]); i++)
		if (!strcmp(funcs[i].name, name))
			return &funcs[i];
	return NULL;
}

json_t *func_names(void)
{
	json_t *out = json_array();
	size_t i;

	for (i = 0; i < sizeof(funcs) / sizeof(funcs[0]); i++)
		json_array_append_new(out, json_string(funcs[i].name));
	return out;
}
