/*
 * doc: see doc.h. YAML is read through libyaml's event API so that
 * duplicate keys are reported with both positions and anchors, aliases and
 * merge keys ("<<") keep the positions of where their content is written;
 * values are built bottom-up into jansson values.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "doc.h"

struct yp {
	yaml_parser_t parser;
	const char *file;
	struct diags *diags;
	json_t *pos;
	json_t *anchors;  /* name -> [value, path of its definition] */
	int failed;     /* a problem was reported; the document is unusable */
};

char *doc_path_key(const char *path, const char *key)
{
	return *path ? xasprintf("%s.%s", path, key) : xstrdup(key);
}

char *doc_path_index(const char *path, size_t i)
{
	return xasprintf("%s[%zu]", path, i);
}

static void set_pos(struct yp *p, const char *path, yaml_mark_t key, yaml_mark_t val)
{
	json_object_set_new(p->pos, path,
			    json_pack("[iiii]", (int)key.line + 1, (int)key.column + 1,
				      (int)val.line + 1, (int)val.column + 1));
}

struct srcpos doc_pos(const json_t *posmap, const char *path, int key)
{
	struct srcpos r = {1, 1};
	char *p = xstrdup(path);

	for (;;) {
		json_t *a = json_object_get(posmap, p);
		char *cut;

		if (a) {
			r.line = (int)json_integer_value(json_array_get(a, key ? 0 : 2));
			r.col = (int)json_integer_value(json_array_get(a, key ? 1 : 3));
			break;
		}
		cut = strrchr(p, '.');
		if (!cut || (strrchr(p, '[') && strrchr(p, '[') > cut))
			cut = strrchr(p, '[');
		if (!cut)
			break;
		*cut = '\0';
		key = 0;
	}
	free(p);
	return r;
}

int doc_find_at(const struct doc *d, const char *path, const char *needle, struct srcpos *r)
{
	json_t *a = json_object_get(d->pos, path);
	size_t start, end, n = strlen(needle);
	const char *hit, *c;

	*r = doc_pos(d->pos, path, 0);
	if (json_array_size(a) < 6 || !d->text)
		return 0;
	start = (size_t)json_integer_value(json_array_get(a, 4));
	end = (size_t)json_integer_value(json_array_get(a, 5));
	if (end > d->len || start > end || !n)
		return 0;
	hit = memmem(d->text + start, end - start, needle, n);
	if (!hit)
		return 0;
	/* libyaml counts columns in characters: skip UTF-8 continuation bytes */
	for (c = d->text + start; c < hit; c++) {
		if (*c == '\n') {
			r->line++;
			r->col = 1;
		} else if (((unsigned char)*c & 0xC0) != 0x80) {
			r->col++;
		}
	}
	return 1;
}

struct srcpos doc_find(const struct doc *d, const char *path, const char *needle)
{
	struct srcpos r;

	doc_find_at(d, path, needle, &r);
	return r;
}

struct srcpos doc_find_offset(const struct doc *d, const char *path, const char *value,
			      size_t off)
{
	struct srcpos r;
	size_t n = strlen(value), back, len;
	char *needle;

	if (off > n)
		off = n;
	/* The longest stretch of the value's text around off without a
	 * character YAML or JSON may write differently (escapes, folding). */
	for (back = 0; back < off && back < 64 && !strchr("\n\"\\'", value[off - back - 1]); back++)
		;
	for (len = back; off - back + len < n && len < back + 64 &&
	     !strchr("\n\"\\'", value[off - back + len]); len++)
		;
	if (len == 0)
		return doc_pos(d->pos, path, 0);
	needle = xstrndup(value + off - back, len);
	if (doc_find_at(d, path, needle, &r)) {
		const char *c;

		/* r is the stretch's first character: step to off. */
		for (c = value + off - back; c < value + off; c++)
			if (((unsigned char)*c & 0xC0) != 0x80)
				r.col++;
	}
	free(needle);
	return r;
}

static int all_in(const char *s, size_t n, const char *set)
{
	size_t i;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++)
		if (!strchr(set, s[i]))
			return 0;
	return 1;
}

static int is_one_of(const char *s, const char *const *words)
{
	for (; *words; words++)
		if (strcmp(s, *words) == 0)
			return 1;
	return 0;
}

/* [-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )? */
static int is_core_float(const char *s)
{
	int digits = 0;

	if (*s == '+' || *s == '-')
		s++;
	if (*s == '.') {
		s++;
		while (isdigit((unsigned char)*s))
			s++, digits++;
		if (!digits)
			return 0;
	} else {
		while (isdigit((unsigned char)*s))
			s++, digits++;
		if (!digits)
			return 0;
		if (*s == '.') {
			s++;
			while (isdigit((unsigned char)*s))
				s++;
		}
	}
	if (*s == 'e' || *s == 'E') {
		s++;
		digits = 0;
		if (*s == '+' || *s == '-')
			s++;
		while (isdigit((unsigned char)*s))
			s++, digits++;
		if (!digits)
			return 0;
	}
	return *s == '\0';
}

/*
 * Resolves a plain scalar by the YAML 1.2 core schema. Returns the value,
 * or NULL with *why set (a static message) for numbers JSON cannot hold.
 */
static json_t *resolve_plain(const char *s, const char **why)
{
	static const char *const nulls[] = {"", "~", "null", "Null", "NULL", NULL};
	static const char *const trues[] = {"true", "True", "TRUE", NULL};
	static const char *const falses[] = {"false", "False", "FALSE", NULL};
	static const char *const infs[] = {".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF",
					   "-.inf", "-.Inf", "-.INF", ".nan", ".NaN", ".NAN", NULL};
	size_t n = strlen(s);
	const char *d = s;
	int base = 10;
	char *end;
	long long ll;

	if (is_one_of(s, nulls))
		return json_null();
	if (is_one_of(s, trues))
		return json_true();
	if (is_one_of(s, falses))
		return json_false();
	if (is_one_of(s, infs)) {
		*why = "infinite and NaN numbers cannot be used";
		return NULL;
	}
	if (n > 2 && s[0] == '0' && s[1] == 'x' && all_in(s + 2, n - 2, "0123456789abcdefABCDEF"))
		base = 16, d = s + 2;
	else if (n > 2 && s[0] == '0' && s[1] == 'o' && all_in(s + 2, n - 2, "01234567"))
		base = 8, d = s + 2;
	else if (!((s[0] == '-' || s[0] == '+') ? all_in(s + 1, n - 1, "0123456789")
						 : all_in(s, n, "0123456789")))
		base = 0;
	if (base) {
		errno = 0;
		ll = strtoll(d, &end, base);
		if (errno == ERANGE) {
			*why = "integer out of range";
			return NULL;
		}
		return json_integer(ll);
	}
	if (is_core_float(s))
		return json_real(strtod(s, NULL));
	return json_string(s);
}

static int next_event(struct yp *p, yaml_event_t *ev)
{
	if (yaml_parser_parse(&p->parser, ev))
		return 0;
	if (p->parser.context)
		diags_add(p->diags, p->file, (int)p->parser.problem_mark.line + 1,
			  (int)p->parser.problem_mark.column + 1, "syntax error: %s %s",
			  p->parser.problem, p->parser.context);
	else
		diags_add(p->diags, p->file, (int)p->parser.problem_mark.line + 1,
			  (int)p->parser.problem_mark.column + 1, "syntax error: %s",
			  p->parser.problem ? p->parser.problem : "cannot parse");
	p->failed = 1;
	return -1;
}

static json_t *parse_node(struct yp *p, yaml_event_t *ev, const char *path,
			  yaml_mark_t keymark);
static json_t *parse_node_body(struct yp *p, yaml_event_t *ev, const char *path, yaml_mark_t m);

/* Gives every position recorded under from (the value at from and all
 * inside it) to the same place under to: aliased and merged content keeps
 * pointing at where it was written. */
static void copy_positions(struct yp *p, const char *from, const char *to)
{
	size_t n = strlen(from);
	json_t *add = json_object(), *v;
	const char *k;

	json_object_foreach(p->pos, k, v) {
		if (strncmp(k, from, n) != 0 || (k[n] && k[n] != '.' && k[n] != '['))
			continue;
		if (!k[n] || !*from) {
			json_object_set_new(add, *from ? to : k, json_copy(v));
			continue;
		}
		{
			char *nk = *to ? xasprintf("%s%s", to, k + n) :
				   xstrdup(k[n] == '.' ? k + n + 1 : k + n);

			json_object_set_new(add, nk, json_copy(v));
			free(nk);
		}
	}
	json_object_update(p->pos, add);
	json_decref(add);
}

/* Applies "<<" merges to obj: keys obj does not set come from each merged
 * map in turn (the first that has a key wins), as YAML's merge key says. */
static void apply_merges(struct yp *p, json_t *obj, json_t *merges, const char *path)
{
	json_t *m, *src, *e;
	const char *k;
	size_t i;

	json_array_foreach(merges, i, m) {
		src = json_array_get(m, 0);
		json_object_foreach(src, k, e) {
			char *from, *to;

			if (json_object_get(obj, k))
				continue;
			json_object_set_new(obj, k, json_deep_copy(e));
			from = doc_path_key(json_string_value(json_array_get(m, 1)), k);
			to = doc_path_key(path, k);
			copy_positions(p, from, to);
			free(from);
			free(to);
		}
	}
}

/* The maps a "<<" value names (a map, or a list of maps) appended to
 * merges as [map, path]; 0, or -1 with a diagnostic. */
static int add_merge(struct yp *p, json_t *merges, json_t *v, const char *vpath, yaml_mark_t m)
{
	json_t *e;
	size_t i;

	if (json_is_object(v)) {
		json_array_append_new(merges, json_pack("[Os]", v, vpath));
		return 0;
	}
	if (json_is_array(v)) {
		json_array_foreach(v, i, e) {
			char *ep = doc_path_index(vpath, i);

			if (!json_is_object(e)) {
				free(ep);
				goto bad;
			}
			json_array_append_new(merges, json_pack("[Os]", e, ep));
			free(ep);
		}
		return 0;
	}
bad:
	diags_add(p->diags, p->file, (int)m.line + 1, (int)m.column + 1,
		  "a merge key '<<' takes a map or a list of maps (e.g. '<<: *defaults')");
	return -1;
}

static json_t *parse_mapping(struct yp *p, const char *path)
{
	json_t *obj = json_object(), *merges = json_array();
	yaml_event_t ev;

	for (;;) {
		char *key, *kpath;
		yaml_mark_t kmark;
		json_t *v;
		int merge;

		if (next_event(p, &ev) < 0)
			goto fail;
		if (ev.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&ev);
			apply_merges(p, obj, merges, path);
			json_decref(merges);
			return obj;
		}
		kmark = ev.start_mark;
		if (ev.type != YAML_SCALAR_EVENT) {
			diags_add(p->diags, p->file, (int)kmark.line + 1, (int)kmark.column + 1,
				  "mapping keys must be plain strings");
			yaml_event_delete(&ev);
			p->failed = 1;
			goto fail;
		}
		key = xstrndup((const char *)ev.data.scalar.value, ev.data.scalar.length);
		merge = !strcmp(key, "<<") && ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
		yaml_event_delete(&ev);
		kpath = doc_path_key(path, key);
		if (next_event(p, &ev) < 0) {
			free(key);
			free(kpath);
			goto fail;
		}
		if (merge) {
			yaml_mark_t vmark = ev.start_mark;

			v = parse_node(p, &ev, kpath, kmark);
			if (v && add_merge(p, merges, v, kpath, vmark) < 0)
				p->failed = 1;
			json_decref(v);
			free(key);
			free(kpath);
			if (p->failed)
				goto fail;
			continue;
		}
		if (json_object_get(obj, key)) {
			struct srcpos first = doc_pos(p->pos, kpath, 1);

			diags_add(p->diags, p->file, (int)kmark.line + 1, (int)kmark.column + 1,
				  "duplicate key '%s' (first set at line %d, column %d)",
				  key, first.line, first.col);
			/* Parse and drop the value so every other problem is still found. */
			v = parse_node(p, &ev, "\x01", kmark);
			json_decref(v);
			json_object_del(p->pos, "\x01");
		} else {
			v = parse_node(p, &ev, kpath, kmark);
			if (v)
				json_object_set_new(obj, key, v);
		}
		free(key);
		free(kpath);
		if (!v && p->failed)
			goto fail;
	}
fail:
	json_decref(obj);
	json_decref(merges);
	return NULL;
}

static json_t *parse_sequence(struct yp *p, const char *path)
{
	json_t *arr = json_array();
	yaml_event_t ev;
	size_t i;

	for (i = 0;; i++) {
		char *ipath;
		json_t *v;

		if (next_event(p, &ev) < 0)
			goto fail;
		if (ev.type == YAML_SEQUENCE_END_EVENT) {
			yaml_event_delete(&ev);
			return arr;
		}
		ipath = doc_path_index(path, i);
		v = parse_node(p, &ev, ipath, ev.start_mark);
		free(ipath);
		if (!v && p->failed)
			goto fail;
		json_array_append_new(arr, v ? v : json_null());
	}
fail:
	json_decref(arr);
	return NULL;
}

/* Takes ownership of *ev (deleted here). Returns the value; NULL when a
 * problem was reported (scalar problems leave the parse going). */
static json_t *parse_node(struct yp *p, yaml_event_t *ev, const char *path,
			  yaml_mark_t keymark)
{
	yaml_mark_t m = ev->start_mark;
	const yaml_char_t *anchor = NULL;
	char *aname;
	json_t *v = NULL;

	set_pos(p, path, keymark, m);
	if (ev->type == YAML_MAPPING_START_EVENT)
		anchor = ev->data.mapping_start.anchor;
	else if (ev->type == YAML_SEQUENCE_START_EVENT)
		anchor = ev->data.sequence_start.anchor;
	else if (ev->type == YAML_SCALAR_EVENT)
		anchor = ev->data.scalar.anchor;
	if (anchor) {
		/* Registered once the node is complete: an alias inside its own
		 * anchor's node is refused as unknown, so no value holds itself. */
		aname = xstrdup((const char *)anchor);
		v = parse_node_body(p, ev, path, m);
		if (v)
			json_object_set_new(p->anchors, aname, json_pack("[Os]", v, path));
		free(aname);
		return v;
	}
	return parse_node_body(p, ev, path, m);
}

static json_t *parse_node_body(struct yp *p, yaml_event_t *ev, const char *path, yaml_mark_t m)
{
	json_t *v = NULL;

	switch (ev->type) {
	case YAML_SCALAR_EVENT: {
		char *s = xstrndup((const char *)ev->data.scalar.value, ev->data.scalar.length);
		const char *tag = (const char *)ev->data.scalar.tag;
		const char *why = NULL;

		json_array_append_new(json_object_get(p->pos, path), json_integer((json_int_t)m.index));
		json_array_append_new(json_object_get(p->pos, path),
				      json_integer((json_int_t)ev->end_mark.index));
		if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE ||
		    (tag && strcmp(tag, YAML_STR_TAG) == 0))
			v = json_string(s);
		else
			v = resolve_plain(s, &why);
		if (!v && why)
			diags_add(p->diags, p->file, (int)m.line + 1, (int)m.column + 1,
				  "%s: '%s'", why, s);
		else if (!v)
			diags_add(p->diags, p->file, (int)m.line + 1, (int)m.column + 1,
				  "text is not valid UTF-8");
		free(s);
		yaml_event_delete(ev);
		return v;
	}
	case YAML_MAPPING_START_EVENT:
		yaml_event_delete(ev);
		return parse_mapping(p, path);
	case YAML_SEQUENCE_START_EVENT:
		yaml_event_delete(ev);
		return parse_sequence(p, path);
	case YAML_ALIAS_EVENT: {
		json_t *a = json_object_get(p->anchors, (const char *)ev->data.alias.anchor);
		json_t *keypos = json_copy(json_object_get(p->pos, path));

		if (!a) {
			diags_add(p->diags, p->file, (int)m.line + 1, (int)m.column + 1,
				  "unknown anchor '*%s' (an alias must follow its '&%s')",
				  (const char *)ev->data.alias.anchor, (const char *)ev->data.alias.anchor);
			yaml_event_delete(ev);
			json_decref(keypos);
			return NULL;
		}
		v = json_deep_copy(json_array_get(a, 0));
		copy_positions(p, json_string_value(json_array_get(a, 1)), path);
		/* The key stays where the alias is written. */
		if (json_array_size(keypos) >= 2 && json_object_get(p->pos, path)) {
			json_array_set(json_object_get(p->pos, path), 0, json_array_get(keypos, 0));
			json_array_set(json_object_get(p->pos, path), 1, json_array_get(keypos, 1));
		}
		json_decref(keypos);
		yaml_event_delete(ev);
		return v;
	}
	default:
		diags_add(p->diags, p->file, (int)m.line + 1, (int)m.column + 1,
			  "unexpected YAML event");
		p->failed = 1;
		yaml_event_delete(ev);
		return NULL;
	}
}

static int parse_yaml(const char *file, const char *text, size_t len, struct doc *d,
		      struct diags *diags)
{
	struct yp p = {0};
	yaml_event_t ev;
	json_t *root = NULL;
	yaml_mark_t zero = {0, 0, 0};
	int rc = -1;

	yaml_parser_initialize(&p.parser);
	yaml_parser_set_input_string(&p.parser, (const unsigned char *)text, len);
	p.file = file;
	p.diags = diags;
	p.pos = json_object();
	p.anchors = json_object();
	/* stream start, document start (or stream end for an empty file) */
	if (next_event(&p, &ev) < 0)
		goto out;
	yaml_event_delete(&ev);
	if (next_event(&p, &ev) < 0)
		goto out;
	if (ev.type == YAML_STREAM_END_EVENT) {
		yaml_event_delete(&ev);
		diags_add(diags, file, 1, 1, "the file is empty");
		goto out;
	}
	yaml_event_delete(&ev);
	if (next_event(&p, &ev) < 0)
		goto out;
	root = parse_node(&p, &ev, "", zero);
	if (p.failed)
		goto out;
	if (next_event(&p, &ev) < 0)     /* document end */
		goto out;
	yaml_event_delete(&ev);
	if (next_event(&p, &ev) < 0)
		goto out;
	if (ev.type != YAML_STREAM_END_EVENT) {
		diags_add(diags, file, (int)ev.start_mark.line + 1, (int)ev.start_mark.column + 1,
			  "the file holds more than one YAML document");
		yaml_event_delete(&ev);
		goto out;
	}
	yaml_event_delete(&ev);
	/* Problems inside values (duplicate keys, bad numbers) leave a usable
	 * document; the caller still fails because of the diagnostics. */
	if (!root)
		goto out;
	d->root = root;
	d->pos = p.pos;
	root = NULL;
	p.pos = NULL;
	rc = 0;
out:
	json_decref(root);
	json_decref(p.pos);
	json_decref(p.anchors);
	yaml_parser_delete(&p.parser);
	return rc;
}

/*
 * A copy of valid JSON that libyaml reads with every value at the same
 * line and column: tabs (only white space outside strings, where JSON
 * forbids raw tabs) become spaces, which YAML accepts everywhere, and
 * every \u escape becomes "\u0041" (same width), as libyaml refuses surrogate pairs.
 */
static char *json_for_positions(const char *text, size_t len)
{
	char *c = xstrndup(text, len);
	int in_string = 0;
	size_t i;

	for (i = 0; i < len; i++) {
		if (c[i] == '\t') {
			c[i] = ' ';
		} else if (c[i] == '"') {
			in_string = !in_string;
		} else if (in_string && c[i] == '\\' && i + 1 < len) {
			if (c[i + 1] == 'u' && i + 5 < len)
				memcpy(c + i + 2, "0041", 4);
			i++;
		}
	}
	return c;
}

int doc_parse(const char *file, const char *text, size_t len, int json, struct doc *d,
	      struct diags *diags)
{
	struct diags ignored;
	struct doc posdoc;
	json_error_t jerr;
	const char *nul;
	json_t *j;
	char *copy;
	int rc;

	memset(d, 0, sizeof(*d));
	nul = memchr(text, '\0', len);
	if (nul) {
		/* jansson would stop reading there and take what came before;
		 * the copies below are C strings. */
		int line = 1, col = 1;
		const char *q;

		for (q = text; q < nul; q++, col++)
			if (*q == '\n') {
				line++;
				col = 0;
			}
		diags_add(diags, file, line, col, "syntax error: a NUL byte in the file");
		return -1;
	}
	if (!json) {
		rc = parse_yaml(file, text, len, d, diags);
		if (rc == 0) {
			d->file = xstrdup(file);
			d->text = xstrndup(text, len);
			d->len = len;
		}
		return rc;
	}
	j = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
	if (!j) {
		diags_add(diags, file, jerr.line > 0 ? jerr.line : 1,
			  jerr.column > 0 ? jerr.column : 1, "syntax error: %s", jerr.text);
		return -1;
	}
	/* The values are jansson's (exact JSON semantics); only the positions
	 * come from libyaml's reading of the same text. Should libyaml still
	 * refuse it, errors point at the nearest position known (1:1). */
	copy = json_for_positions(text, len);
	diags_init(&ignored);
	if (parse_yaml(file, copy, len, &posdoc, &ignored) == 0) {
		d->pos = posdoc.pos;
		json_decref(posdoc.root);
	} else {
		d->pos = json_object();
	}
	diags_free(&ignored);
	free(copy);
	d->root = j;
	d->file = xstrdup(file);
	d->text = xstrndup(text, len);
	d->len = len;
	return 0;
}

int doc_load(const char *path, struct doc *d, struct diags *diags)
{
	struct cairn_err err;
	size_t len, n = strlen(path);
	char *text;
	int rc;

	memset(d, 0, sizeof(*d));
	err_clear(&err);
	text = read_file(path, &len, &err);
	if (!text) {
		diags_add(diags, path, 1, 1, "%s", err.msg);
		return -1;
	}
	rc = doc_parse(path, text, len, n >= 5 && strcmp(path + n - 5, ".json") == 0, d, diags);
	free(text);
	return rc;
}

void doc_free(struct doc *d)
{
	if (!d)
		return;
	free(d->file);
	free(d->text);
	json_decref(d->root);
	json_decref(d->pos);
	memset(d, 0, sizeof(*d));
}
