/*
 * xml: expat into an element tree, then the tree into JSON with the shape
 * facts. A tree (rather than streaming) keeps the conversion a plain
 * recursive function; AWS responses are small.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <expat.h>

#include "xml.h"

struct parse_ctx {
	struct xml_node *root;
	struct xml_node **stack;
	size_t depth, cap;
};

static struct xml_node *node_new(const char *name)
{
	struct xml_node *n = xcalloc(1, sizeof(*n));

	n->name = xstrdup(name);
	strbuf_init(&n->text);
	return n;
}

void xml_free(struct xml_node *n)
{
	size_t i;

	if (!n)
		return;
	for (i = 0; i < n->n_kids; i++)
		xml_free(n->kids[i]);
	free(n->kids);
	free(n->name);
	strbuf_free(&n->text);
	free(n);
}

static void XMLCALL on_start(void *ud, const XML_Char *name, const XML_Char **attrs)
{
	struct parse_ctx *p = ud;
	struct xml_node *n = node_new(name);

	(void)attrs;
	if (p->depth == 0) {
		p->root = n;    /* expat allows one document element */
	} else {
		struct xml_node *parent = p->stack[p->depth - 1];

		parent->kids = xrealloc(parent->kids, (parent->n_kids + 1) * sizeof(*parent->kids));
		parent->kids[parent->n_kids++] = n;
	}
	if (p->depth == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 16;
		p->stack = xrealloc(p->stack, p->cap * sizeof(*p->stack));
	}
	p->stack[p->depth++] = n;
}

static void XMLCALL on_end(void *ud, const XML_Char *name)
{
	struct parse_ctx *p = ud;

	(void)name;
	p->depth--;
}

static void XMLCALL on_text(void *ud, const XML_Char *s, int len)
{
	struct parse_ctx *p = ud;

	if (p->depth > 0)
		strbuf_add(&p->stack[p->depth - 1]->text, s, (size_t)len);
}

struct xml_node *xml_parse(const char *buf, size_t len, struct cairn_err *err)
{
	XML_Parser xp = XML_ParserCreate("UTF-8");
	struct parse_ctx p = {0};

	if (!xp)
		abort();
	XML_SetUserData(xp, &p);
	XML_SetElementHandler(xp, on_start, on_end);
	XML_SetCharacterDataHandler(xp, on_text);
	if (XML_Parse(xp, buf, (int)len, 1) == XML_STATUS_ERROR || !p.root) {
		err_set(err, CAIRN_EINVAL, "malformed XML response: %s at line %lu",
			p.root ? XML_ErrorString(XML_GetErrorCode(xp)) : "no root element",
			(unsigned long)XML_GetCurrentLineNumber(xp));
		xml_free(p.root);
		p.root = NULL;
	}
	XML_ParserFree(xp);
	free(p.stack);
	return p.root;
}

const struct xml_node *xml_child(const struct xml_node *n, const char *name)
{
	size_t i;

	for (i = 0; n && i < n->n_kids; i++)
		if (strcmp(n->kids[i]->name, name) == 0)
			return n->kids[i];
	return NULL;
}

const char *xml_child_text(const struct xml_node *n, const char *name)
{
	const struct xml_node *c = xml_child(n, name);

	return c ? c->text.buf : NULL;
}

/* Text without the surrounding whitespace of indented documents. */
static char *trimmed(const struct xml_node *n)
{
	const char *s = n->text.buf, *e = s + n->text.len;

	if (n->n_kids == 0)
		return xstrndup(s, n->text.len);
	while (s < e && isspace((unsigned char)*s))
		s++;
	while (e > s && isspace((unsigned char)e[-1]))
		e--;
	return xstrndup(s, (size_t)(e - s));
}

static int all_digits(const char *s)
{
	if (*s == '-')
		s++;
	if (!*s || strlen(s) > 18)
		return 0;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return 0;
	return 1;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decodes s in place ('+' stays: IAM encodes spaces as %20). */
static void url_decode(char *s)
{
	char *w = s;

	for (; *s; s++) {
		if (*s == '%' && hexval(s[1]) >= 0 && hexval(s[2]) >= 0) {
			*w++ = (char)(hexval(s[1]) * 16 + hexval(s[2]));
			s += 2;
		} else {
			*w++ = *s;
		}
	}
	*w = '\0';
}

static json_t *scalar(const struct xml_node *n, enum shape_kind kind)
{
	char *t = trimmed(n);
	json_t *v;

	switch (kind) {
	case SHAPE_INT:
		v = json_integer(strtoll(t, NULL, 10));
		break;
	case SHAPE_FLOAT:
		v = json_real(strtod(t, NULL));
		break;
	case SHAPE_BOOL:
		v = json_boolean(strcmp(t, "true") == 0);
		break;
	case SHAPE_POLICY:
		url_decode(t);
		v = json_string(t);
		break;
	case SHAPE_NONE:
		if (all_digits(t))
			v = json_integer(strtoll(t, NULL, 10));
		else if (strcmp(t, "true") == 0 || strcmp(t, "false") == 0)
			v = json_boolean(t[0] == 't');
		else
			v = json_string(t);
		break;
	default:
		v = json_string(t);
		break;
	}
	free(t);
	return v ? v : json_string("");
}

static int is_generic_list(const struct xml_node *n)
{
	size_t i;

	if (n->n_kids == 0)
		return 0;
	for (i = 0; i < n->n_kids; i++)
		if (strcmp(n->kids[i]->name, "member") != 0 && strcmp(n->kids[i]->name, "item") != 0)
			return 0;
	return 1;
}

static json_t *generic(const struct xml_node *n, int ec2)
{
	static const struct shape none;
	json_t *o;
	size_t i;

	if (is_generic_list(n)) {
		o = json_array();
		for (i = 0; i < n->n_kids; i++)
			json_array_append_new(o, generic(n->kids[i], ec2));
		return o;
	}
	if (n->n_kids == 0)
		return scalar(n, SHAPE_NONE);
	o = json_object();
	for (i = 0; i < n->n_kids; i++) {
		char *key = xstrdup(n->kids[i]->name);

		if (ec2)
			key[0] = (char)toupper((unsigned char)key[0]);
		json_object_set_new(o, key, xml_to_json(n->kids[i], &none, ec2));
		free(key);
	}
	return o;
}

static json_t *list_items(const struct xml_node *n, const struct shape *s, int ec2)
{
	struct shape elem;
	char elem_name[128];
	int flattened;
	json_t *a = json_array();
	size_t i;

	shapes_list(s, &elem, elem_name, &flattened);
	for (i = 0; i < n->n_kids; i++)
		json_array_append_new(a, xml_to_json(n->kids[i], &elem, ec2));
	return a;
}

static void map_entry(json_t *o, const struct xml_node *entry, const char *key_name,
		      const char *value_name, const struct shape *value, int ec2)
{
	const char *k = xml_child_text(entry, key_name);
	const struct xml_node *v = xml_child(entry, value_name);

	if (!k)
		return;
	json_object_set_new(o, k, v ? xml_to_json(v, value, ec2) : json_string(""));
}

static json_t *map_of(const struct xml_node *n, const struct shape *s, int ec2)
{
	char key_name[128], value_name[128];
	struct shape value;
	int flattened;
	json_t *o = json_object();
	size_t i;

	shapes_map(s, key_name, value_name, &value, &flattened);
	for (i = 0; i < n->n_kids; i++)
		map_entry(o, n->kids[i], key_name, value_name, &value, ec2);
	return o;
}

static json_t *structure(const struct xml_node *n, const struct shape *s, int ec2)
{
	json_t *o = json_object();
	size_t i;

	for (i = 0; i < n->n_kids; i++) {
		const struct xml_node *k = n->kids[i];
		struct shape_member m;
		struct shape elem;
		char ename[128], vname[128];
		int flat = 0;

		if (shapes_member_by_loc(s, k->name, &m) != 0) {
			/* A member the table does not list (newer API): generic. */
			static const struct shape none;
			char *key = xstrdup(k->name);

			if (ec2)
				key[0] = (char)toupper((unsigned char)key[0]);
			json_object_set_new(o, key, xml_to_json(k, &none, ec2));
			free(key);
			continue;
		}
		if (m.target.kind == SHAPE_LIST)
			shapes_list(&m.target, &elem, ename, &flat);
		else if (m.target.kind == SHAPE_MAP)
			shapes_map(&m.target, ename, vname, &elem, &flat);
		if (flat && m.target.kind == SHAPE_LIST) {
			json_t *a = json_object_get(o, m.name);

			if (!a) {
				a = json_array();
				json_object_set_new(o, m.name, a);
			}
			json_array_append_new(a, xml_to_json(k, &elem, ec2));
		} else if (flat && m.target.kind == SHAPE_MAP) {
			json_t *mo = json_object_get(o, m.name);

			if (!mo) {
				mo = json_object();
				json_object_set_new(o, m.name, mo);
			}
			map_entry(mo, k, ename, vname, &elem, ec2);
		} else {
			json_object_set_new(o, m.name, xml_to_json(k, &m.target, ec2));
		}
	}
	return o;
}

json_t *xml_to_json(const struct xml_node *n, const struct shape *s, int ec2)
{
	switch (s->kind) {
	case SHAPE_STRUCT:
		return structure(n, s, ec2);
	case SHAPE_LIST:
		return list_items(n, s, ec2);
	case SHAPE_MAP:
		return map_of(n, s, ec2);
	case SHAPE_NONE:
		return generic(n, ec2);
	default:
		return scalar(n, s->kind);
	}
}
