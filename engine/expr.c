/*
 * expr: see expr.h. Strings are templates; what is inside "${ }" is an
 * expression in HCL's expression syntax (the hclsyntax specification),
 * read by a tokenizer and a recursive-descent parser into a tree, then
 * evaluated. Every node keeps its byte offset in the string, so that an
 * error names the exact column.
 *
 * Grammar (EBNF; tokens are skipped over white space):
 *
 *   template   = { literal | "$${" | "%%{" | interp | directive }
 *   interp     = "${" ["~"] expr ["~"] "}"
 *   directive  = "%{" ["~"] ( "if" expr | "for" ident ["," ident] "in" expr
 *                | "else" | "endif" | "endfor" ) ["~"] "}"   (templatefile only)
 *   expr       = or [ "?" expr ":" expr ]
 *   or         = and { "||" and }
 *   and        = equality { "&&" equality }
 *   equality   = compare { ("==" | "!=") compare }
 *   compare    = sum { ("<" | "<=" | ">" | ">=") sum }
 *   sum        = product { ("+" | "-") product }
 *   product    = unary { ("*" | "/" | "%") unary }
 *   unary      = ("!" | "-") unary | postfix
 *   postfix    = primary { "." (ident | number) | "[" expr "]" | splat }
 *   splat      = "[" "*" "]" { "." ident | "[" expr "]" }
 *   primary    = number | string | "true" | "false" | "null"
 *              | ident "(" [ expr { "," expr } [","] ] ")"  | ident
 *              | "(" expr ")" | list | object
 *   string     = '"' template-with-backslash-escapes '"'
 *   list       = "[" ( forlist | [ expr { "," expr } [","] ] ) "]"
 *   object     = "{" ( forobj | { item [","] } ) "}"
 *   item       = (ident | string | "(" expr ")") ("=" | ":") expr
 *   forlist    = "for" ident ["," ident] "in" expr ":" expr ["if" expr]
 *   forobj     = "for" ident ["," ident] "in" expr ":" expr "=>" expr ["..."] ["if" expr]
 *
 * A reference is an identifier that is not a for-expression variable,
 * followed by the longest run of ".name" and constant "[index]" steps:
 * that run is what the caller's lookup resolves ("vpc" + "tags.Name");
 * later dynamic steps apply to the value it returns.
 */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "expr.h"
#include "funcs.h"
#include "suggest.h"
#include "value.h"

#define RESIDUAL_KEY "$cairn_residual"
#define MAX_DEPTH 200

/* ---- tree ---- */

enum kind {
	N_LIT, N_TPL, N_INTERP, N_TIF, N_TFOR, N_VAR, N_ATTR, N_INDEX, N_SPLAT,
	N_ITEM, N_LIST, N_OBJ, N_UN, N_BIN, N_COND, N_CALL, N_FOR
};

enum op {
	OP_NONE, OP_OR, OP_AND, OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE,
	OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_MOD, OP_NOT, OP_NEG
};

struct node {
	enum kind k;
	size_t pos, end;        /* byte range in the source string */
	json_t *lit;            /* N_LIT */
	char *name;             /* N_VAR, N_ATTR, N_CALL; N_FOR: value variable */
	char *kname;            /* N_FOR, N_TFOR: key variable (or NULL) */
	enum op op;
	int group;              /* N_FOR: "..." grouping; N_CALL: last argument expanded */
	int obj;                /* N_FOR: builds a map */
	struct node *a, *b, *c, *d;
	struct node **kids;     /* N_TPL parts, N_LIST items, N_OBJ key/value pairs, N_CALL args */
	size_t n;
	const struct func_def *fn;
};

static void node_free(struct node *n)
{
	size_t i;

	if (!n)
		return;
	json_decref(n->lit);
	free(n->name);
	free(n->kname);
	node_free(n->a);
	node_free(n->b);
	node_free(n->c);
	node_free(n->d);
	for (i = 0; i < n->n; i++)
		node_free(n->kids[i]);
	free(n->kids);
	free(n);
}

static struct node *mk(enum kind k, size_t pos)
{
	struct node *n = xcalloc(1, sizeof(*n));

	n->k = k;
	n->pos = pos;
	n->end = pos;
	return n;
}

static void add_kid(struct node *n, struct node *kid)
{
	n->kids = xrealloc(n->kids, (n->n + 1) * sizeof(*n->kids));
	n->kids[n->n++] = kid;
}

/* ---- tokens ---- */

enum tk {
	T_EOF, T_IDENT, T_NUMBER, T_QUOTE, T_LPAREN, T_RPAREN, T_LBRACK, T_RBRACK,
	T_LBRACE, T_RBRACE, T_COMMA, T_DOT, T_COLON, T_QUESTION, T_ASSIGN, T_ARROW,
	T_ELLIPSIS, T_OR, T_AND, T_EQ, T_NE, T_LT, T_LE, T_GT, T_GE, T_PLUS, T_MINUS,
	T_STAR, T_SLASH, T_PERCENT, T_BANG, T_TILDE, T_BAD
};

struct tok {
	enum tk t;
	size_t pos, end;
};

struct parser {
	const char *s;
	size_t len, pos;
	int directives;         /* %{ } directives (templatefile) */
	int strip_next;         /* a "~}" strips the white space that follows */
	int depth;
	struct cairn_err *err;
	size_t err_off;
	int failed;
};

static void perr(struct parser *P, size_t off, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void perr(struct parser *P, size_t off, const char *fmt, ...)
{
	va_list ap;
	char *m;

	if (P->failed)
		return;
	va_start(ap, fmt);
	m = xvasprintf(fmt, ap);
	va_end(ap);
	err_set(P->err, CAIRN_EINVAL, "%s", m);
	free(m);
	P->err_off = off;
	P->failed = 1;
}

static int is_ident_start(int c)
{
	return isalpha(c) || c == '_';
}

static int is_ident_char(int c)
{
	return isalnum(c) || c == '_' || c == '-';
}

/* The token at P->pos (white space skipped), without consuming it. */
static struct tok peek(struct parser *P)
{
	const char *s = P->s;
	size_t i = P->pos;
	struct tok t = {T_EOF, 0, 0};

	while (i < P->len && isspace((unsigned char)s[i]))
		i++;
	t.pos = i;
	if (i >= P->len) {
		t.end = i;
		return t;
	}
	if (is_ident_start((unsigned char)s[i])) {
		while (i < P->len && is_ident_char((unsigned char)s[i]))
			i++;
		t.t = T_IDENT;
	} else if (isdigit((unsigned char)s[i])) {
		while (i < P->len && isdigit((unsigned char)s[i]))
			i++;
		if (i + 1 < P->len && s[i] == '.' && isdigit((unsigned char)s[i + 1]))
			for (i++; i < P->len && isdigit((unsigned char)s[i]); i++)
				;
		if (i < P->len && (s[i] == 'e' || s[i] == 'E')) {
			size_t j = i + 1;

			if (j < P->len && (s[j] == '+' || s[j] == '-'))
				j++;
			if (j < P->len && isdigit((unsigned char)s[j]))
				for (i = j; i < P->len && isdigit((unsigned char)s[i]); i++)
					;
		}
		t.t = T_NUMBER;
	} else {
		static const struct { const char *text; enum tk t; } ops[] = {
			{"...", T_ELLIPSIS}, {"==", T_EQ}, {"!=", T_NE}, {"<=", T_LE}, {">=", T_GE},
			{"&&", T_AND}, {"||", T_OR}, {"=>", T_ARROW}, {"\"", T_QUOTE},
			{"(", T_LPAREN}, {")", T_RPAREN}, {"[", T_LBRACK}, {"]", T_RBRACK},
			{"{", T_LBRACE}, {"}", T_RBRACE}, {",", T_COMMA}, {".", T_DOT},
			{":", T_COLON}, {"?", T_QUESTION}, {"=", T_ASSIGN}, {"<", T_LT},
			{">", T_GT}, {"+", T_PLUS}, {"-", T_MINUS}, {"*", T_STAR}, {"/", T_SLASH},
			{"%", T_PERCENT}, {"!", T_BANG}, {"~", T_TILDE},
		};
		size_t k;

		t.t = T_BAD;
		for (k = 0; k < sizeof(ops) / sizeof(ops[0]); k++) {
			size_t l = strlen(ops[k].text);

			if (i + l <= P->len && !memcmp(s + i, ops[k].text, l)) {
				t.t = ops[k].t;
				i += l;
				break;
			}
		}
		if (t.t == T_BAD)
			i++;
	}
	t.end = i;
	return t;
}

static struct tok next(struct parser *P)
{
	struct tok t = peek(P);

	P->pos = t.end;
	return t;
}

static int accept(struct parser *P, enum tk t)
{
	if (peek(P).t != t)
		return 0;
	next(P);
	return 1;
}

static int tok_is(struct parser *P, struct tok t, const char *word)
{
	return t.t == T_IDENT && t.end - t.pos == strlen(word) && !memcmp(P->s + t.pos, word, t.end - t.pos);
}

static const char *tok_desc(struct tok t)
{
	switch (t.t) {
	case T_EOF: return "the end of the expression";
	case T_IDENT: return "a name";
	case T_NUMBER: return "a number";
	case T_QUOTE: return "a string";
	default: return "this symbol";
	}
}

static int expect(struct parser *P, enum tk t, const char *what)
{
	struct tok got = peek(P);

	if (got.t == t) {
		next(P);
		return 0;
	}
	if (got.t == T_EOF)
		perr(P, got.pos, "expected %s, found %s", what, tok_desc(got));
	else
		perr(P, got.pos, "expected %s, found '%.*s'", what, (int)(got.end - got.pos),
		     P->s + got.pos);
	return -1;
}

/* ---- parser ---- */

static struct node *parse_expr(struct parser *P);
static struct node *parse_template(struct parser *P, int quoted);

static struct node *parse_for(struct parser *P, size_t start, int obj)
{
	struct node *n = mk(N_FOR, start);
	struct tok t;

	n->obj = obj;
	next(P);        /* "for" */
	t = next(P);
	if (t.t != T_IDENT) {
		perr(P, t.pos, "expected a variable name after 'for'");
		goto fail;
	}
	n->name = xstrndup(P->s + t.pos, t.end - t.pos);
	if (accept(P, T_COMMA)) {
		t = next(P);
		if (t.t != T_IDENT) {
			perr(P, t.pos, "expected a second variable name after ','");
			goto fail;
		}
		n->kname = n->name;
		n->name = xstrndup(P->s + t.pos, t.end - t.pos);
	}
	t = next(P);
	if (!tok_is(P, t, "in")) {
		perr(P, t.pos, "expected 'in' in the for expression");
		goto fail;
	}
	if (!(n->a = parse_expr(P)) || expect(P, T_COLON, "':'") < 0)
		goto fail;
	if (!(n->b = parse_expr(P)))
		goto fail;
	if (obj) {
		if (expect(P, T_ARROW, "'=>'") < 0 || !(n->c = parse_expr(P)))
			goto fail;
		n->group = accept(P, T_ELLIPSIS);
	}
	if (tok_is(P, peek(P), "if")) {
		next(P);
		if (!(n->d = parse_expr(P)))
			goto fail;
	}
	if (expect(P, obj ? T_RBRACE : T_RBRACK, obj ? "'}'" : "']'") < 0)
		goto fail;
	n->end = P->pos;
	return n;
fail:
	node_free(n);
	return NULL;
}

static struct node *parse_call(struct parser *P, struct tok name)
{
	struct node *n = mk(N_CALL, name.pos);
	struct node *arg;

	n->name = xstrndup(P->s + name.pos, name.end - name.pos);
	next(P);        /* "(" */
	while (peek(P).t != T_RPAREN) {
		if (!(arg = parse_expr(P)))
			goto fail;
		add_kid(n, arg);
		if (accept(P, T_ELLIPSIS)) {
			n->group = 1;
			break;
		}
		if (!accept(P, T_COMMA))
			break;
	}
	if (expect(P, T_RPAREN, "',' or ')'") < 0)
		goto fail;
	n->end = P->pos;
	n->fn = func_find(n->name);
	if (!n->fn) {
		json_t *names = func_names();
		const char *near = suggest_json(n->name, names);

		perr(P, n->pos, "unknown function '%s'%s%s%s", n->name, near ? "; did you mean '" : "",
		     near ? near : "", near ? "'?" : "");
		json_decref(names);
		goto fail;
	}
	if (!n->group && ((int)n->n < n->fn->min || (n->fn->max >= 0 && (int)n->n > n->fn->max))) {
		perr(P, n->pos, "wrong number of arguments to %s (%zu given): %s", n->name, n->n,
		     n->fn->sig);
		goto fail;
	}
	return n;
fail:
	node_free(n);
	return NULL;
}

/* After "[" or "{": is this a for expression ("for" then a name)? The
 * position is left where it was. */
static int for_ahead(struct parser *P)
{
	size_t save = P->pos;
	int yes = 0;

	if (tok_is(P, peek(P), "for")) {
		next(P);
		yes = peek(P).t == T_IDENT;
	}
	P->pos = save;
	return yes;
}

static struct node *parse_primary(struct parser *P)
{
	struct tok t = peek(P);
	struct node *n = NULL, *k, *v;

	switch (t.t) {
	case T_NUMBER: {
		char *text = xstrndup(P->s + t.pos, t.end - t.pos);

		next(P);
		n = mk(N_LIT, t.pos);
		if (strpbrk(text, ".eE"))
			n->lit = func_number(strtod(text, NULL));
		else
			n->lit = json_integer(strtoll(text, NULL, 10));
		free(text);
		break;
	}
	case T_QUOTE:
		next(P);
		n = parse_template(P, 1);
		if (!n)
			return NULL;
		n->pos = t.pos;
		if (expect(P, T_QUOTE, "'\"'") < 0)
			goto fail;
		if (n->n == 0 || (n->n == 1 && n->kids[0]->k == N_LIT)) {
			/* Plain text: a constant (so that ["key"] is a static step). */
			struct node *lit = mk(N_LIT, t.pos);

			lit->lit = n->n ? json_incref(n->kids[0]->lit) : json_string("");
			node_free(n);
			n = lit;
		}
		break;
	case T_IDENT:
		if (tok_is(P, t, "true") || tok_is(P, t, "false") || tok_is(P, t, "null")) {
			next(P);
			n = mk(N_LIT, t.pos);
			n->lit = tok_is(P, t, "null") ? json_null() : json_boolean(tok_is(P, t, "true"));
			break;
		}
		next(P);
		if (peek(P).t == T_LPAREN)
			return parse_call(P, t);
		n = mk(N_VAR, t.pos);
		n->name = xstrndup(P->s + t.pos, t.end - t.pos);
		break;
	case T_LPAREN:
		next(P);
		if (!(n = parse_expr(P)))
			return NULL;
		if (expect(P, T_RPAREN, "')'") < 0)
			goto fail;
		return n;
	case T_LBRACK: {
		next(P);
		if (for_ahead(P))
			return parse_for(P, t.pos, 0);
		n = mk(N_LIST, t.pos);
		while (peek(P).t != T_RBRACK) {
			if (!(v = parse_expr(P)))
				goto fail;
			add_kid(n, v);
			if (!accept(P, T_COMMA))
				break;
		}
		if (expect(P, T_RBRACK, "',' or ']'") < 0)
			goto fail;
		break;
	}
	case T_LBRACE: {
		next(P);
		if (for_ahead(P))
			return parse_for(P, t.pos, 1);
		n = mk(N_OBJ, t.pos);
		while (peek(P).t != T_RBRACE) {
			struct tok kt = peek(P);

			if (kt.t == T_IDENT && !tok_is(P, kt, "true") && !tok_is(P, kt, "false") &&
			    !tok_is(P, kt, "null")) {
				next(P);
				if (peek(P).t == T_ASSIGN || peek(P).t == T_COLON) {
					k = mk(N_LIT, kt.pos);
					k->lit = json_stringn(P->s + kt.pos, kt.end - kt.pos);
				} else {
					P->pos = kt.pos;
					if (!(k = parse_expr(P)))
						goto fail;
				}
			} else if (!(k = parse_expr(P))) {
				goto fail;
			}
			add_kid(n, k);
			if (!accept(P, T_ASSIGN) && expect(P, T_COLON, "'=' or ':'") < 0)
				goto fail;
			if (!(v = parse_expr(P)))
				goto fail;
			add_kid(n, v);
			accept(P, T_COMMA);
		}
		if (expect(P, T_RBRACE, "'}'") < 0)
			goto fail;
		break;
	}
	default:
		if (t.t == T_EOF)
			perr(P, t.pos, "expected a value, found %s", tok_desc(t));
		else
			perr(P, t.pos, "expected a value, found '%.*s'", (int)(t.end - t.pos), P->s + t.pos);
		return NULL;
	}
	n->end = P->pos;
	return n;
fail:
	node_free(n);
	return NULL;
}

/* One ".name", ".N" or "[expr]" step after base; NULL at anything else.
 * On a syntax error (*err set) base is freed. */
static struct node *parse_step(struct parser *P, struct node *base, int *err)
{
	struct tok t = peek(P), u;
	struct node *n;

	*err = 0;
	if (t.t == T_DOT) {
		next(P);
		u = next(P);
		if (u.t == T_IDENT) {
			n = mk(N_ATTR, t.pos);
			n->name = xstrndup(P->s + u.pos, u.end - u.pos);
		} else if (u.t == T_NUMBER) {
			/* "list.0", as Terraform users still write it */
			n = mk(N_INDEX, t.pos);
			n->b = mk(N_LIT, u.pos);
			n->b->lit = json_integer(strtoll(P->s + u.pos, NULL, 10));
		} else {
			perr(P, u.pos, "expected an attribute name after '.'");
			*err = 1;
			node_free(base);        /* a failed step owns its base */
			return NULL;
		}
	} else if (t.t == T_LBRACK) {
		next(P);
		n = mk(N_INDEX, t.pos);
		if (!(n->b = parse_expr(P)) || expect(P, T_RBRACK, "']'") < 0) {
			node_free(n);
			node_free(base);
			*err = 1;
			return NULL;
		}
	} else {
		return NULL;
	}
	n->a = base;
	n->pos = base->pos;
	n->end = P->pos;
	return n;
}

static struct node *parse_postfix(struct parser *P)
{
	struct node *n = parse_primary(P), *step;
	int err;

	while (n) {
		struct tok t = peek(P);

		if (t.t == T_LBRACK) {
			size_t save = P->pos;

			next(P);
			if (accept(P, T_STAR) && accept(P, T_RBRACK)) {
				struct node *sp = mk(N_SPLAT, n->pos), *body = mk(N_ITEM, P->pos);

				sp->a = n;
				while ((step = parse_step(P, body, &err)))
					body = step;
				if (err) {
					sp->b = NULL;
					node_free(sp);
					return NULL;
				}
				sp->b = body;
				sp->end = P->pos;
				n = sp;
				continue;
			}
			P->pos = save;
		}
		step = parse_step(P, n, &err);
		if (err)
			return NULL;    /* n is owned by the failed step */
		if (!step)
			break;
		n = step;
	}
	return n;
}

static struct node *parse_unary(struct parser *P)
{
	struct tok t = peek(P);
	struct node *n;

	if (t.t != T_BANG && t.t != T_MINUS)
		return parse_postfix(P);
	if (++P->depth > MAX_DEPTH) {
		perr(P, t.pos, "expression nested too deeply");
		return NULL;
	}
	next(P);
	n = mk(N_UN, t.pos);
	n->op = t.t == T_BANG ? OP_NOT : OP_NEG;
	n->a = parse_unary(P);
	P->depth--;
	if (!n->a) {
		node_free(n);
		return NULL;
	}
	n->end = P->pos;
	return n;
}

/* Binary levels, lowest first. */
static const struct { enum tk t; enum op op; int level; } binops[] = {
	{T_OR, OP_OR, 0}, {T_AND, OP_AND, 1}, {T_EQ, OP_EQ, 2}, {T_NE, OP_NE, 2},
	{T_LT, OP_LT, 3}, {T_LE, OP_LE, 3}, {T_GT, OP_GT, 3}, {T_GE, OP_GE, 3},
	{T_PLUS, OP_ADD, 4}, {T_MINUS, OP_SUB, 4}, {T_STAR, OP_MUL, 5}, {T_SLASH, OP_DIV, 5},
	{T_PERCENT, OP_MOD, 5},
};

static struct node *parse_level(struct parser *P, int level)
{
	struct node *l, *n;

	if (level > 5)
		return parse_unary(P);
	l = parse_level(P, level + 1);
	while (l) {
		struct tok t = peek(P);
		size_t i;

		for (i = 0; i < sizeof(binops) / sizeof(binops[0]); i++)
			if (binops[i].t == t.t && binops[i].level == level)
				break;
		if (i == sizeof(binops) / sizeof(binops[0]))
			break;
		next(P);
		n = mk(N_BIN, l->pos);
		n->op = binops[i].op;
		n->a = l;
		n->c = mk(N_LIT, t.pos);        /* where the operator is, for errors */
		n->b = parse_level(P, level + 1);
		if (!n->b) {
			node_free(n);
			return NULL;
		}
		n->end = P->pos;
		l = n;
	}
	return l;
}

static struct node *parse_expr(struct parser *P)
{
	struct node *c, *n;

	if (++P->depth > MAX_DEPTH) {
		perr(P, P->pos, "expression nested too deeply");
		return NULL;
	}
	c = parse_level(P, 0);
	if (c && accept(P, T_QUESTION)) {
		n = mk(N_COND, c->pos);
		n->a = c;
		if (!(n->b = parse_expr(P)) || expect(P, T_COLON, "':'") < 0 ||
		    !(n->c = parse_expr(P))) {
			node_free(n);
			c = NULL;
		} else {
			n->end = P->pos;
			c = n;
		}
	}
	P->depth--;
	return c;
}

/* Adds literal text to the template (merging with a literal before it). */
static void tpl_text(struct parser *P, struct node *tpl, struct strbuf *lit, size_t pos)
{
	struct node *n;
	const char *t = lit->buf;

	if (P->strip_next) {
		while (*t && isspace((unsigned char)*t))
			t++;
		P->strip_next = 0;
	}
	if (*t) {
		n = mk(N_LIT, pos);
		n->lit = json_string(t);
		add_kid(tpl, n);
		if (!n->lit)    /* only raw input can hold it: the readers check */
			perr(P, pos, "text is not valid UTF-8");
	}
	strbuf_reset(lit);
}

/* "~" after "${" or "%{": strips the white space at the end of the text before. */
static void strip_before(struct node *tpl)
{
	struct node *last = tpl->n ? tpl->kids[tpl->n - 1] : NULL;
	const char *s;
	json_t *stripped;
	size_t l;

	if (!last || last->k != N_LIT)
		return;
	s = json_string_value(last->lit);
	if (!s)
		return;         /* text already refused (not UTF-8) */
	for (l = strlen(s); l > 0 && isspace((unsigned char)s[l - 1]); l--)
		;
	stripped = json_stringn(s, l);  /* before the old string goes: s is in it */
	json_decref(last->lit);
	last->lit = stripped;
}

/* The keyword of the directive at P->pos ("%{ else }"), length in *len, or NULL. */
static const char *directive_kw(struct parser *P, size_t *len)
{
	size_t i = P->pos + 2, b;

	if (i < P->len && P->s[i] == '~')
		i++;
	while (i < P->len && isspace((unsigned char)P->s[i]))
		i++;
	b = i;
	while (i < P->len && is_ident_char((unsigned char)P->s[i]))
		i++;
	*len = i - b;
	return P->s + b;
}

/* Reads "~"? "}" closing an interpolation or directive. */
static int close_brace(struct parser *P, const char *what)
{
	int strip = accept(P, T_TILDE);

	if (peek(P).t != T_RBRACE) {
		struct tok t = peek(P);

		if (t.t == T_EOF)
			perr(P, t.pos, "unterminated %s: expected '}'", what);
		else
			perr(P, t.pos, "expected '}' to end the %s, found '%.*s'", what,
			     (int)(t.end - t.pos), P->s + t.pos);
		return -1;
	}
	next(P);
	P->strip_next = strip;
	return 0;
}

static int kw_is(const char *kw, size_t len, const char *word)
{
	return len == strlen(word) && !memcmp(kw, word, len);
}

/* "%{ if ... }" or "%{ for ... }" with P->pos after the keyword. */
static struct node *parse_directive(struct parser *P, size_t start, int is_for)
{
	struct node *n = mk(is_for ? N_TFOR : N_TIF, start);
	const char *kw;
	size_t len;

	if (is_for) {
		struct tok t = next(P);

		if (t.t != T_IDENT)
			goto bad_for;
		n->name = xstrndup(P->s + t.pos, t.end - t.pos);
		if (accept(P, T_COMMA)) {
			t = next(P);
			if (t.t != T_IDENT)
				goto bad_for;
			n->kname = n->name;
			n->name = xstrndup(P->s + t.pos, t.end - t.pos);
		}
		t = next(P);
		if (!tok_is(P, t, "in"))
			goto bad_for;
	}
	if (!(n->a = parse_expr(P)) || close_brace(P, "directive") < 0)
		goto fail;
	if (!(n->b = parse_template(P, 0)))
		goto fail;
	kw = directive_kw(P, &len);
	if (!is_for && kw_is(kw, len, "else")) {
		P->pos = (size_t)(kw - P->s) + len;
		if (close_brace(P, "directive") < 0 || !(n->c = parse_template(P, 0)))
			goto fail;
		kw = directive_kw(P, &len);
	}
	if (P->pos >= P->len || !kw_is(kw, len, is_for ? "endfor" : "endif")) {
		perr(P, P->pos, "expected %%{ %s } to close the %%{ %s } at offset %zu",
		     is_for ? "endfor" : "endif", is_for ? "for" : "if", start);
		goto fail;
	}
	P->pos = (size_t)(kw - P->s) + len;
	if (close_brace(P, "directive") < 0)
		goto fail;
	n->end = P->pos;
	return n;
bad_for:
	perr(P, P->pos, "expected %%{ for NAME in EXPR } or %%{ for KEY, VALUE in EXPR }");
fail:
	node_free(n);
	return NULL;
}

/*
 * A template from P->pos: to the end of the text, or (quoted) to the
 * closing '"', or (in a directive body) to the next else/endif/endfor.
 */
static struct node *parse_template(struct parser *P, int quoted)
{
	struct node *tpl = mk(N_TPL, P->pos), *x;
	struct strbuf lit;
	size_t litpos = P->pos;
	const char *s = P->s;

	strbuf_init(&lit);
	while (P->pos < P->len) {
		size_t i = P->pos;

		if (quoted && s[i] == '"')
			break;
		if (lit.len == 0)
			litpos = i;
		if ((s[i] == '$' || (s[i] == '%' && P->directives)) && i + 2 < P->len + 1 &&
		    s[i + 1] == s[i] && i + 2 < P->len && s[i + 2] == '{') {
			strbuf_addc(&lit, s[i]);
			strbuf_addc(&lit, '{');
			P->pos += 3;
			continue;
		}
		if (s[i] == '$' && i + 1 < P->len && s[i + 1] == '{') {
			tpl_text(P, tpl, &lit, litpos);
			P->pos += 2;
			if (accept(P, T_TILDE))
				strip_before(tpl);
			x = mk(N_INTERP, i);
			add_kid(tpl, x);
			if (!(x->a = parse_expr(P)))
				goto fail;
			if (peek(P).t == T_EOF) {
				perr(P, i, "unterminated reference '%s' (write '$${' for a literal '${')",
				     s + i);
				goto fail;
			}
			if (close_brace(P, "reference") < 0)
				goto fail;
			x->end = P->pos;
			continue;
		}
		if (s[i] == '%' && P->directives && i + 1 < P->len && s[i + 1] == '{') {
			size_t len;
			const char *kw = directive_kw(P, &len);

			tpl_text(P, tpl, &lit, litpos);
			if (i + 2 < P->len && s[i + 2] == '~')
				strip_before(tpl);
			if (kw_is(kw, len, "else") || kw_is(kw, len, "endif") || kw_is(kw, len, "endfor"))
				break;
			if (!kw_is(kw, len, "if") && !kw_is(kw, len, "for")) {
				perr(P, i, "unknown directive '%%{ %.*s }': use if, else, endif, for, endfor",
				     (int)len, kw);
				goto fail;
			}
			P->pos = (size_t)(kw - s) + len;
			if (!(x = parse_directive(P, i, kw_is(kw, len, "for"))))
				goto fail;
			add_kid(tpl, x);
			continue;
		}
		if (quoted && s[i] == '\\' && i + 1 < P->len) {
			char e = s[i + 1];

			P->pos += 2;
			switch (e) {
			case 'n': strbuf_addc(&lit, '\n'); break;
			case 't': strbuf_addc(&lit, '\t'); break;
			case 'r': strbuf_addc(&lit, '\r'); break;
			case '"': strbuf_addc(&lit, '"'); break;
			case '\\': strbuf_addc(&lit, '\\'); break;
			case 'u': {
				char hex[5] = "";
				unsigned long cp;

				if (i + 6 > P->len) {
					perr(P, i, "incomplete \\u escape");
					goto fail;
				}
				memcpy(hex, s + i + 2, 4);
				cp = strtoul(hex, NULL, 16);
				P->pos += 4;
				if (cp < 0x80) {
					strbuf_addc(&lit, (char)cp);
				} else if (cp < 0x800) {
					strbuf_addc(&lit, (char)(0xC0 | (cp >> 6)));
					strbuf_addc(&lit, (char)(0x80 | (cp & 0x3F)));
				} else {
					strbuf_addc(&lit, (char)(0xE0 | (cp >> 12)));
					strbuf_addc(&lit, (char)(0x80 | ((cp >> 6) & 0x3F)));
					strbuf_addc(&lit, (char)(0x80 | (cp & 0x3F)));
				}
				break;
			}
			default:
				perr(P, i, "invalid escape '\\%c' in a string", e);
				goto fail;
			}
			continue;
		}
		strbuf_addc(&lit, s[i]);
		P->pos++;
	}
	if (quoted && P->pos >= P->len) {
		perr(P, tpl->pos ? tpl->pos - 1 : 0, "unterminated string: expected '\"'");
		goto fail;
	}
	tpl_text(P, tpl, &lit, litpos);
	strbuf_free(&lit);
	tpl->end = P->pos;
	return tpl;
fail:
	strbuf_free(&lit);
	node_free(tpl);
	return NULL;
}

/* Parses a whole string as a template; NULL with err and *off set. */
static struct node *parse_string(const char *s, int directives, struct cairn_err *err,
				 size_t *off)
{
	struct parser P = {0};
	struct node *n;

	P.s = s;
	P.len = strlen(s);
	P.directives = directives;
	P.err = err;
	n = parse_template(&P, 0);
	if (n && P.pos < P.len)
		perr(&P, P.pos, "unexpected '%%{' directive");
	if (n && P.failed) {
		node_free(n);
		n = NULL;
	}
	if (!n)
		*off = P.err_off;
	return n;
}

/* ---- evaluation ---- */

struct scope {
	const char *name;
	json_t *val;            /* borrowed */
	struct scope *up;
};

struct repl {
	size_t pos, end;
	char *text;
};

struct ev {
	const struct expr_env *env;
	const char *src;
	int partial;
	int deferred;           /* a lookup left a reference for later */
	struct cairn_err *err;
	size_t err_off;
	struct scope *sc;
	json_t *item;           /* the element a splat body works on */
	json_t *tvars;          /* templatefile: the only names in scope */
	struct repl *repl;      /* residual references to rewrite */
	size_t n_repl;
	int depth;
};

static json_t *eerr(struct ev *E, size_t off, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static json_t *eerr(struct ev *E, size_t off, const char *fmt, ...)
{
	va_list ap;
	char *m;

	va_start(ap, fmt);
	m = xvasprintf(fmt, ap);
	va_end(ap);
	err_set(E->err, CAIRN_EINVAL, "%s", m);
	free(m);
	E->err_off = off;
	return NULL;
}

json_t *expr_residual(const char *text)
{
	return json_pack("{s:s}", RESIDUAL_KEY, text);
}

static const char *residual_text(const json_t *v)
{
	return json_is_object(v) && json_object_size(v) == 1 ?
	       json_string_value(json_object_get(v, RESIDUAL_KEY)) : NULL;
}

static json_t *lookup_scope(struct ev *E, const char *name)
{
	struct scope *s;

	for (s = E->sc; s; s = s->up)
		if (!strcmp(s->name, name))
			return s->val;
	return NULL;
}

/* A key safe to write as ".key" in a lookup path. */
static int plain_key(const char *k)
{
	return *k && !strpbrk(k, ".[]\"") && !isdigit((unsigned char)*k);
}

/*
 * If n is a reference (an unbound name and constant steps), writes its
 * path ("tags.Name", "subnets[0].id") to sb, sets *base and returns 1.
 */
static int static_ref(struct ev *E, const struct node *n, struct strbuf *sb,
		      const struct node **base)
{
	if (n->k == N_VAR) {
		if (E && (lookup_scope(E, n->name) || E->tvars))
			return 0;
		*base = n;
		return 1;
	}
	if (n->k == N_ATTR) {
		if (!static_ref(E, n->a, sb, base))
			return 0;
		strbuf_addf(sb, "%s%s", sb->len ? "." : "", n->name);
		return 1;
	}
	if (n->k == N_INDEX && n->b->k == N_LIT &&
	    (json_is_integer(n->b->lit) ||
	     (json_is_string(n->b->lit) && plain_key(json_string_value(n->b->lit))))) {
		if (!static_ref(E, n->a, sb, base))
			return 0;
		if (json_is_integer(n->b->lit))
			strbuf_addf(sb, "[%lld]", (long long)json_integer_value(n->b->lit));
		else
			strbuf_addf(sb, "%s%s", sb->len ? "." : "", json_string_value(n->b->lit));
		return 1;
	}
	return 0;
}

static json_t *eval(struct ev *E, const struct node *n);

/* A known value as an expression: JSON's syntax, with "${" and "%{"
 * inside strings escaped as HCL templates need. Owned. */
static char *hcl_literal(json_t *v)
{
	char *j = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT), *p;
	struct strbuf sb;
	int in_str = 0;

	strbuf_init(&sb);
	for (p = j; *p; p++) {
		if (in_str && *p == '\\' && p[1]) {
			strbuf_addc(&sb, *p++);
			strbuf_addc(&sb, *p);
			continue;
		}
		if (*p == '"')
			in_str = !in_str;
		if (in_str && (p[0] == '$' || p[0] == '%') && p[1] == '{')
			strbuf_addc(&sb, p[0]);
		/* JSON's "k":v pairs read as HCL object items too. */
		strbuf_addc(&sb, *p);
	}
	free(j);
	return strbuf_detach(&sb);
}

static json_t *eval_ref(struct ev *E, const struct node *n, const struct node *base,
			const char *path)
{
	struct cairn_err lerr;
	json_t *v;
	const char *rt;

	err_clear(&lerr);
	v = E->env->lookup(E->env->ctx, base->name, path, &lerr);
	if (!v) {
		if (lerr.code == CAIRN_OK && E->partial) {
			E->deferred = 1;
			return NULL;
		}
		if (lerr.code == CAIRN_OK)
			return eerr(E, n->pos, "cannot resolve '%s.%s'", base->name, path);
		return eerr(E, n->pos, "%s", lerr.msg);
	}
	rt = residual_text(v);
	if (rt || (E->partial && !value_has_unknown(v))) {
		/* Should this interpolation be left for later, the reference is
		 * written as what it stands for: its value now (count.index,
		 * each.value, a local) or the residual expression. */
		char *lit = rt ? NULL : hcl_literal(v);

		E->repl = xrealloc(E->repl, (E->n_repl + 1) * sizeof(*E->repl));
		E->repl[E->n_repl].pos = n->pos;
		E->repl[E->n_repl].end = n->end;
		E->repl[E->n_repl].text = rt ? xstrdup(rt) : lit;
		E->n_repl++;
		if (rt) {
			json_decref(v);
			E->deferred = 1;
			return NULL;
		}
	}
	return v;
}

/* value.attr or value[key]; key borrowed. */
static json_t *step(struct ev *E, const struct node *n, json_t *v, json_t *key)
{
	json_t *r;

	if (value_is_unknown(v) || value_is_unknown(key))
		return value_unknown();
	if (json_is_array(v)) {
		double d;

		if (func_to_number(key, &d) < 0 || d != floor(d))
			return eerr(E, n->pos, "a list index must be a whole number, not %s",
				    func_kind(key));
		if (d < 0 || d >= (double)json_array_size(v))
			return eerr(E, n->pos, "index %.0f out of range for a list of %zu element%s",
				    d, json_array_size(v), json_array_size(v) == 1 ? "" : "s");
		return json_incref(json_array_get(v, (size_t)d));
	}
	if (json_is_object(v)) {
		char *k = func_to_text(key);

		if (!k)
			return eerr(E, n->pos, "a map key must be a string, not %s", func_kind(key));
		r = json_object_get(v, k);
		if (!r)
			eerr(E, n->pos, "the map has no %s '%s'", n->k == N_ATTR ? "attribute" : "key", k);
		free(k);
		return json_incref(r);
	}
	if (json_is_null(v))
		return eerr(E, n->pos, "cannot %s a null value", n->k == N_ATTR ? "read an attribute of" : "index");
	return eerr(E, n->pos, "cannot %s a %s", n->k == N_ATTR ? "read an attribute of" : "index",
		    func_kind(v));
}

static json_t *eval_steps(struct ev *E, const struct node *n)
{
	struct strbuf sb;
	const struct node *base = NULL;
	json_t *v, *key, *r;

	strbuf_init(&sb);
	if (static_ref(E, n, &sb, &base)) {
		r = eval_ref(E, n, base, sb.buf);
		strbuf_free(&sb);
		return r;
	}
	strbuf_free(&sb);
	if (n->k == N_VAR) {
		if ((v = lookup_scope(E, n->name)))
			return json_incref(v);
		if (E->tvars && (v = json_object_get(E->tvars, n->name)))
			return json_incref(v);
		return eerr(E, n->pos, "unknown variable '%s' in the template", n->name);
	}
	if (!(v = eval(E, n->a)))
		return NULL;
	if (n->k == N_ATTR) {
		key = json_string(n->name);
	} else if (!(key = eval(E, n->b))) {
		json_decref(v);
		return NULL;
	}
	r = step(E, n, v, key);
	json_decref(v);
	json_decref(key);
	return r;
}

static json_t *eval_splat(struct ev *E, const struct node *n)
{
	json_t *src = eval(E, n->a), *out, *e, *r, *save = E->item;
	size_t i;

	if (!src)
		return NULL;
	if (value_is_unknown(src))
		return src;
	if (json_is_null(src)) {
		json_decref(src);
		return json_array();
	}
	if (!json_is_array(src)) {
		json_t *one = json_array();

		json_array_append_new(one, src);
		src = one;
	}
	out = json_array();
	json_array_foreach(src, i, e) {
		E->item = e;
		r = eval(E, n->b);
		if (!r) {
			json_decref(out);
			out = NULL;
			break;
		}
		json_array_append_new(out, r);
	}
	E->item = save;
	json_decref(src);
	return out;
}

static json_t *arith(struct ev *E, const struct node *n, json_t *a, json_t *b)
{
	double x, y;

	if (func_to_number(a, &x) < 0)
		return eerr(E, n->a->pos, "'%s' needs numbers: the left operand is %s",
			    n->op == OP_ADD ? "+" : n->op == OP_SUB ? "-" : n->op == OP_MUL ? "*" :
			    n->op == OP_DIV ? "/" : "%", func_kind(a));
	if (func_to_number(b, &y) < 0)
		return eerr(E, n->b->pos, "'%s' needs numbers: the right operand is %s",
			    n->op == OP_ADD ? "+" : n->op == OP_SUB ? "-" : n->op == OP_MUL ? "*" :
			    n->op == OP_DIV ? "/" : "%", func_kind(b));
	switch (n->op) {
	case OP_ADD: return func_number(x + y);
	case OP_SUB: return func_number(x - y);
	case OP_MUL: return func_number(x * y);
	case OP_DIV:
		if (y == 0)
			return eerr(E, n->c->pos, "division by zero");
		return func_number(x / y);
	default:
		if (y == 0)
			return eerr(E, n->c->pos, "modulo by zero");
		return func_number(fmod(x, y));
	}
}

static json_t *eval_bin(struct ev *E, const struct node *n)
{
	json_t *a = eval(E, n->a), *b, *r = NULL;
	double x, y;
	int p, q;

	if (!a)
		return NULL;
	if (!(b = eval(E, n->b))) {
		json_decref(a);
		return NULL;
	}
	if (value_has_unknown(a) || value_has_unknown(b)) {
		r = value_unknown();
		goto out;
	}
	switch (n->op) {
	case OP_OR:
	case OP_AND:
		p = func_to_bool(a);
		q = func_to_bool(b);
		if (p < 0 || q < 0) {
			eerr(E, p < 0 ? n->a->pos : n->b->pos, "'%s' needs bools: the %s operand is %s",
			     n->op == OP_OR ? "||" : "&&", p < 0 ? "left" : "right",
			     func_kind(p < 0 ? a : b));
			goto out;
		}
		r = json_boolean(n->op == OP_OR ? (p || q) : (p && q));
		break;
	case OP_EQ:
	case OP_NE:
		r = json_boolean(func_equal(a, b) == (n->op == OP_EQ));
		break;
	case OP_LT:
	case OP_LE:
	case OP_GT:
	case OP_GE:
		if (func_to_number(a, &x) < 0 || func_to_number(b, &y) < 0) {
			eerr(E, n->c->pos, "comparison needs numbers, not %s and %s",
			     func_kind(a), func_kind(b));
			goto out;
		}
		r = json_boolean(n->op == OP_LT ? x < y : n->op == OP_LE ? x <= y :
				 n->op == OP_GT ? x > y : x >= y);
		break;
	default:
		r = arith(E, n, a, b);
	}
out:
	json_decref(a);
	json_decref(b);
	return r;
}

static json_t *eval_un(struct ev *E, const struct node *n)
{
	json_t *a = eval(E, n->a), *r;
	double d;
	int b;

	if (!a || value_is_unknown(a))
		return a;
	if (n->op == OP_NOT) {
		b = func_to_bool(a);
		r = b < 0 ? eerr(E, n->a->pos, "'!' needs a bool, not %s", func_kind(a)) : json_boolean(!b);
	} else {
		r = func_to_number(a, &d) < 0 ?
		    eerr(E, n->a->pos, "'-' needs a number, not %s", func_kind(a)) : func_number(-d);
	}
	json_decref(a);
	return r;
}

static json_t *eval_cond(struct ev *E, const struct node *n)
{
	json_t *c = eval(E, n->a);
	int b;

	if (!c)
		return NULL;
	if (value_is_unknown(c)) {
		json_decref(c);
		return value_unknown();
	}
	b = func_to_bool(c);
	if (b < 0) {
		eerr(E, n->a->pos, "the condition must be a bool, not %s", func_kind(c));
		json_decref(c);
		return NULL;
	}
	json_decref(c);
	return eval(E, b ? n->b : n->c);
}

static json_t *eval_obj(struct ev *E, const struct node *n)
{
	json_t *out = json_object(), *k, *v;
	int unknown = 0;
	size_t i;

	for (i = 0; i + 1 < n->n; i += 2) {
		char *ks;

		if (!(k = eval(E, n->kids[i])))
			goto fail;
		if (!(v = eval(E, n->kids[i + 1]))) {
			json_decref(k);
			goto fail;
		}
		if (value_is_unknown(k)) {
			unknown = 1;
		} else if (!(ks = func_to_text(k))) {
			eerr(E, n->kids[i]->pos, "a map key must be a string, not %s", func_kind(k));
			json_decref(k);
			json_decref(v);
			goto fail;
		} else {
			json_object_set(out, ks, v);
			free(ks);
		}
		json_decref(k);
		json_decref(v);
	}
	if (unknown) {
		json_decref(out);
		return value_unknown();
	}
	return out;
fail:
	json_decref(out);
	return NULL;
}

/* Calls fn for every element of coll in order (maps: lexical key order). */
static json_t *eval_for(struct ev *E, const struct node *n)
{
	json_t *coll = eval(E, n->a), *out = NULL, *keys = NULL;
	struct scope ks, vs;
	size_t i, len;
	int unknown = 0;

	if (!coll)
		return NULL;
	if (value_is_unknown(coll)) {
		json_decref(coll);
		return value_unknown();
	}
	if (!json_is_array(coll) && !json_is_object(coll)) {
		eerr(E, n->a->pos, "a for expression needs a list or map, not %s", func_kind(coll));
		goto out;
	}
	if (json_is_object(coll))
		keys = func_sorted_keys(coll);
	len = keys ? json_array_size(keys) : json_array_size(coll);
	out = n->obj ? json_object() : json_array();
	ks.up = E->sc;
	ks.name = n->kname ? n->kname : "";
	vs.up = &ks;
	vs.name = n->name;
	for (i = 0; i < len; i++) {
		json_t *key = keys ? json_incref(json_array_get(keys, i)) : json_integer((json_int_t)i);
		json_t *val = keys ? json_object_get(coll, json_string_value(key)) : json_array_get(coll, i);
		json_t *c = NULL, *kv = NULL, *vv = NULL;
		int keep = 1;

		ks.val = key;
		vs.val = val;
		E->sc = &vs;
		if (n->d) {
			if (!(c = eval(E, n->d)))
				goto step_fail;
			if (value_is_unknown(c)) {
				unknown = 1;
			} else if ((keep = func_to_bool(c)) < 0) {
				eerr(E, n->d->pos, "the 'if' condition must be a bool, not %s", func_kind(c));
				goto step_fail;
			}
		}
		if (keep && !n->obj) {
			if (!(vv = eval(E, n->b)))
				goto step_fail;
			json_array_append(out, vv);
		} else if (keep) {
			char *k;

			if (!(kv = eval(E, n->b)) || !(vv = eval(E, n->c)))
				goto step_fail;
			if (value_is_unknown(kv)) {
				unknown = 1;
			} else if (!(k = func_to_text(kv))) {
				eerr(E, n->b->pos, "a map key must be a string, not %s", func_kind(kv));
				goto step_fail;
			} else if (n->group) {
				json_t *g = json_object_get(out, k);

				if (!g) {
					g = json_array();
					json_object_set_new(out, k, g);
				}
				json_array_append(g, vv);
				free(k);
			} else if (json_object_get(out, k)) {
				eerr(E, n->b->pos, "duplicate key '%s' in the for expression "
				     "(add '...' after the value to group them)", k);
				free(k);
				goto step_fail;
			} else {
				json_object_set(out, k, vv);
				free(k);
			}
		}
		E->sc = ks.up;
		json_decref(key);
		json_decref(c);
		json_decref(kv);
		json_decref(vv);
		continue;
step_fail:
		E->sc = ks.up;
		json_decref(key);
		json_decref(c);
		json_decref(kv);
		json_decref(vv);
		json_decref(out);
		out = NULL;
		goto out;
	}
	if (unknown) {
		json_decref(out);
		out = value_unknown();
	}
out:
	json_decref(keys);
	json_decref(coll);
	return out;
}

static json_t *eval_tpl(struct ev *E, const struct node *n);
static json_t *templatefile(struct ev *E, const struct node *n, json_t *path, json_t *vars);

static json_t *eval_call(struct ev *E, const struct node *n)
{
	const struct func_def *fd = n->fn;
	json_t **args = NULL, *r = NULL;
	struct func_ctx fc;
	struct cairn_err ferr;
	size_t na = 0, i;
	int unknown = 0, wholly = 0;

	if (!strcmp(fd->name, "try") || !strcmp(fd->name, "can")) {
		/* Errors are the point: each argument is tried in turn. */
		for (i = 0; i < n->n; i++) {
			struct cairn_err *save = E->err;
			struct cairn_err tmp;

			err_clear(&tmp);
			E->err = &tmp;
			r = eval(E, n->kids[i]);
			E->err = save;
			if (!r && E->deferred)
				return NULL;
			if (fd->name[0] == 'c') {
				int ok = r != NULL;

				if (r && value_has_unknown(r)) {
					json_decref(r);
					return value_unknown();
				}
				json_decref(r);
				return json_boolean(ok);
			}
			if (r)
				return r;
		}
		return eerr(E, n->pos, "try: no argument could be evaluated without an error");
	}
	for (i = 0; i < n->n; i++) {
		json_t *v = eval(E, n->kids[i]);

		if (!v)
			goto out;
		if (n->group && i + 1 == n->n) {
			json_t *e;
			size_t j;

			if (!json_is_array(v)) {
				eerr(E, n->kids[i]->pos, "'...' expands a list, not %s", func_kind(v));
				json_decref(v);
				goto out;
			}
			args = xrealloc(args, (na + json_array_size(v) + 1) * sizeof(*args));
			json_array_foreach(v, j, e)
				args[na++] = json_incref(e);
			json_decref(v);
		} else {
			args = xrealloc(args, (na + 1) * sizeof(*args));
			args[na++] = v;
		}
	}
	if ((int)na < fd->min || (fd->max >= 0 && (int)na > fd->max)) {
		eerr(E, n->pos, "wrong number of arguments to %s (%zu given): %s", fd->name, na, fd->sig);
		goto out;
	}
	for (i = 0; i < na; i++) {
		if (value_is_unknown(args[i]))
			wholly = 1;
		else if (value_has_unknown(args[i]))
			unknown = 1;
	}
	if (wholly || (unknown && !(fd->flags & FUNC_STRUCTURAL))) {
		r = value_unknown();
		goto out;
	}
	if (!strcmp(fd->name, "templatefile")) {
		r = templatefile(E, n, args[0], args[1]);
		goto out;
	}
	if (!strcmp(fd->name, "resource")) {
		/* The resource at an address (a module's resources are left for
		 * the plan as resource("module.svc.tg").arn): what lookup says. */
		struct cairn_err lerr;

		if (!json_is_string(args[0])) {
			eerr(E, n->pos, "wrong type for argument 1 of %s: expected string, got %s",
			     fd->sig, func_kind(args[0]));
			goto out;
		}
		err_clear(&lerr);
		r = E->env->lookup(E->env->ctx, json_string_value(args[0]), "", &lerr);
		if (!r && lerr.code == CAIRN_OK && E->partial)
			E->deferred = 1;
		else if (!r)
			eerr(E, n->pos, "%s", lerr.code ? lerr.msg : "no such resource");
		goto out;
	}
	err_clear(&ferr);
	fc.basedir = E->env->basedir;
	fc.def = fd;
	fc.err = &ferr;
	r = fd->fn(&fc, args, na);
	if (!r)
		eerr(E, n->pos, "%s", ferr.msg);
out:
	for (i = 0; i < na; i++)
		json_decref(args[i]);
	free(args);
	return r;
}

static json_t *eval(struct ev *E, const struct node *n)
{
	json_t *r = NULL, *v;
	size_t i;

	if (++E->depth > MAX_DEPTH) {
		E->depth--;
		return eerr(E, n->pos, "expression nested too deeply");
	}
	switch (n->k) {
	case N_LIT:
		r = json_incref(n->lit);
		break;
	case N_TPL:
		r = eval_tpl(E, n);
		break;
	case N_INTERP:
		r = eval(E, n->a);
		break;
	case N_VAR:
	case N_ATTR:
	case N_INDEX:
		r = eval_steps(E, n);
		break;
	case N_ITEM:
		r = json_incref(E->item);
		break;
	case N_SPLAT:
		r = eval_splat(E, n);
		break;
	case N_LIST:
		r = json_array();
		for (i = 0; i < n->n; i++) {
			if (!(v = eval(E, n->kids[i]))) {
				json_decref(r);
				r = NULL;
				break;
			}
			json_array_append_new(r, v);
		}
		break;
	case N_OBJ:
		r = eval_obj(E, n);
		break;
	case N_UN:
		r = eval_un(E, n);
		break;
	case N_BIN:
		r = eval_bin(E, n);
		break;
	case N_COND:
		r = eval_cond(E, n);
		break;
	case N_CALL:
		r = eval_call(E, n);
		break;
	case N_FOR:
		r = eval_for(E, n);
		break;
	case N_TIF:
	case N_TFOR:
		r = eerr(E, n->pos, "a directive outside a template");
		break;
	}
	E->depth--;
	return r;
}

/* Appends a part's value to a template's text; 1 when it is unknown. */
static int add_part(struct ev *E, struct strbuf *sb, const struct node *part, json_t *v)
{
	char *s;

	if (value_has_unknown(v))
		return 1;
	if (json_is_null(v)) {
		strbuf_adds(sb, "null");
		return 0;
	}
	s = func_to_text(v);
	if (!s)
		s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT | JSON_SORT_KEYS);
	strbuf_adds(sb, s);
	free(s);
	return 0;
}

static int eval_parts(struct ev *E, const struct node *tpl, struct strbuf *sb, int *unknown);

static int eval_directive(struct ev *E, const struct node *n, struct strbuf *sb, int *unknown)
{
	json_t *c = eval(E, n->a), *keys = NULL;
	struct scope ks, vs;
	size_t i, len;
	int rc = -1, b;

	if (!c)
		return -1;
	if (value_is_unknown(c)) {
		*unknown = 1;
		rc = 0;
		goto out;
	}
	if (n->k == N_TIF) {
		if ((b = func_to_bool(c)) < 0) {
			eerr(E, n->a->pos, "the %%{ if } condition must be a bool, not %s", func_kind(c));
			goto out;
		}
		rc = b ? eval_parts(E, n->b, sb, unknown) : n->c ? eval_parts(E, n->c, sb, unknown) : 0;
		goto out;
	}
	if (!json_is_array(c) && !json_is_object(c)) {
		eerr(E, n->a->pos, "%%{ for } needs a list or map, not %s", func_kind(c));
		goto out;
	}
	if (json_is_object(c))
		keys = func_sorted_keys(c);
	len = keys ? json_array_size(keys) : json_array_size(c);
	ks.up = E->sc;
	ks.name = n->kname ? n->kname : "";
	vs.up = &ks;
	vs.name = n->name;
	rc = 0;
	for (i = 0; i < len && rc == 0; i++) {
		json_t *key = keys ? json_incref(json_array_get(keys, i)) : json_integer((json_int_t)i);

		ks.val = key;
		vs.val = keys ? json_object_get(c, json_string_value(key)) : json_array_get(c, i);
		E->sc = &vs;
		rc = eval_parts(E, n->b, sb, unknown);
		E->sc = ks.up;
		json_decref(key);
	}
out:
	json_decref(keys);
	json_decref(c);
	return rc;
}

static int eval_parts(struct ev *E, const struct node *tpl, struct strbuf *sb, int *unknown)
{
	size_t i;

	for (i = 0; i < tpl->n; i++) {
		const struct node *p = tpl->kids[i];
		json_t *v;

		if (p->k == N_LIT) {
			/* NULL: text jansson refused (not UTF-8; only raw input
			 * can hold it, the YAML and JSON readers check) */
			if (json_string_value(p->lit))
				strbuf_adds(sb, json_string_value(p->lit));
			continue;
		}
		if (p->k == N_TIF || p->k == N_TFOR) {
			if (eval_directive(E, p, sb, unknown) < 0)
				return -1;
			continue;
		}
		if (!(v = eval(E, p)))
			return -1;
		*unknown |= add_part(E, sb, p, v);
		json_decref(v);
	}
	return 0;
}

static json_t *eval_tpl(struct ev *E, const struct node *n)
{
	struct strbuf sb;
	json_t *r = NULL;
	int unknown = 0;

	/* A template that is exactly one interpolation keeps the value's type. */
	if (n->n == 1 && n->kids[0]->k == N_INTERP)
		return eval(E, n->kids[0]);
	strbuf_init(&sb);
	if (eval_parts(E, n, &sb, &unknown) == 0)
		r = unknown ? value_unknown() : json_string(sb.buf);
	strbuf_free(&sb);
	return r;
}

static json_t *templatefile(struct ev *E, const struct node *n, json_t *path, json_t *vars)
{
	struct cairn_err ferr, perr_;
	struct expr_env env = *E->env;
	struct ev T = {0};
	char *p, *full, *text;
	struct node *tpl;
	size_t len, off = 0;
	json_t *r = NULL;

	if (!json_is_string(path))
		return eerr(E, n->pos, "wrong type for argument 1 of templatefile(path string, vars map): "
			    "expected string, got %s", func_kind(path));
	if (!json_is_object(vars))
		return eerr(E, n->pos, "wrong type for argument 2 of templatefile(path string, vars map): "
			    "expected map, got %s", func_kind(vars));
	p = xstrdup(json_string_value(path));
	full = p[0] == '/' || !E->env->basedir || !strcmp(E->env->basedir, ".") ? xstrdup(p) :
	       xasprintf("%s/%s", E->env->basedir, p);
	err_clear(&ferr);
	text = read_file(full, &len, &ferr);
	if (!text) {
		if (strcmp(p, full))
			eerr(E, n->pos, "templatefile: no file '%s' (read as '%s')", p, full);
		else
			eerr(E, n->pos, "templatefile: no file '%s'", p);
		goto out;
	}
	err_clear(&perr_);
	tpl = parse_string(text, 1, &perr_, &off);
	T.env = &env;
	T.src = text;
	T.err = &perr_;
	T.tvars = vars;
	if (tpl) {
		r = eval_tpl(&T, tpl);
		off = T.err_off;
		node_free(tpl);
	}
	if (!r) {
		/* The position inside the template file, as line:col. */
		int line = 1, col = 1;
		size_t i;

		for (i = 0; i < off && text[i]; i++) {
			if (text[i] == '\n')
				line++, col = 1;
			else if (((unsigned char)text[i] & 0xC0) != 0x80)
				col++;
		}
		eerr(E, n->pos, "templatefile: %s:%d:%d: %s", p, line, col, perr_.msg);
	} else if (json_is_string(r) == 0 && !value_is_unknown(r)) {
		json_t *s = json_string("");
		char *t = func_to_text(r);

		json_decref(s);
		json_decref(r);
		r = t ? json_string(t) : json_string("");
		free(t);
	}
	free(text);
	for (size_t i = 0; i < T.n_repl; i++)
		free(T.repl[i].text);
	free(T.repl);
out:
	free(full);
	free(p);
	return r;
}

/* ---- strings, values, the public API ---- */

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

/* The source of [pos, end) with the recorded residual references rewritten. */
static void add_source(struct ev *E, struct strbuf *sb, size_t pos, size_t end)
{
	size_t i = pos, k;

	while (i < end) {
		for (k = 0; k < E->n_repl; k++)
			if (E->repl[k].pos == i && E->repl[k].end <= end)
				break;
		if (k < E->n_repl) {
			strbuf_addf(sb, "(%s)", E->repl[k].text);
			i = E->repl[k].end;
		} else {
			strbuf_addc(sb, E->src[i++]);
		}
	}
}

/*
 * A deferred interpolation is kept as written: evaluation stopped at the
 * first reference left for later, so every other reference in it is looked
 * up now and rewritten as its value (count.index, each.key, locals) or its
 * residual, so that the text needs nothing but resources later.
 */
static void record_refs(struct ev *E, const struct node *n)
{
	struct strbuf sb;
	const struct node *base = NULL;
	struct scope ks, vs;
	size_t i;

	if (!n)
		return;
	strbuf_init(&sb);
	if ((n->k == N_VAR || n->k == N_ATTR || n->k == N_INDEX) && static_ref(E, n, &sb, &base)) {
		for (i = 0; i < E->n_repl && E->repl[i].pos != n->pos; i++)
			;
		if (i == E->n_repl) {
			struct cairn_err lerr;
			json_t *v;

			err_clear(&lerr);
			v = E->env->lookup(E->env->ctx, base->name, sb.buf, &lerr);
			if (v && (residual_text(v) || !value_has_unknown(v))) {
				E->repl = xrealloc(E->repl, (E->n_repl + 1) * sizeof(*E->repl));
				E->repl[E->n_repl].pos = n->pos;
				E->repl[E->n_repl].end = n->end;
				E->repl[E->n_repl].text = residual_text(v) ? xstrdup(residual_text(v)) :
							  hcl_literal(v);
				E->n_repl++;
			}
			json_decref(v);
		}
		strbuf_free(&sb);
		return;
	}
	strbuf_free(&sb);
	if (n->k == N_FOR || n->k == N_TFOR) {
		record_refs(E, n->a);
		ks.up = E->sc;
		ks.name = n->kname ? n->kname : "";
		ks.val = json_true();
		vs.up = &ks;
		vs.name = n->name;
		vs.val = json_true();   /* bound: a non-NULL value marks the name */
		E->sc = &vs;
		record_refs(E, n->b);
		record_refs(E, n->c);
		record_refs(E, n->d);
		E->sc = ks.up;
		return;
	}
	record_refs(E, n->a);
	record_refs(E, n->b);
	record_refs(E, n->c);
	record_refs(E, n->d);
	for (i = 0; i < n->n; i++)
		record_refs(E, n->kids[i]);
}

/* Partial evaluation of a parsed string (see expr_subst). */
static json_t *subst_tpl(struct ev *E, const struct node *tpl)
{
	struct strbuf sb;
	json_t *r = NULL, *v;
	size_t i;

	strbuf_init(&sb);
	for (i = 0; i < tpl->n; i++) {
		const struct node *p = tpl->kids[i];

		if (p->k == N_LIT) {
			add_escaped(&sb, json_string_value(p->lit));
			continue;
		}
		E->deferred = 0;
		v = eval(E, p);
		if (!v && !E->deferred)
			goto out;
		if (!v || value_has_unknown(v)) {
			/* Left for later, as written (references rewritten). */
			json_decref(v);
			record_refs(E, p);
			add_source(E, &sb, p->pos, p->end);
			continue;
		}
		if (tpl->n == 1) {
			r = escape_deep(v);
			json_decref(v);
			goto out;
		}
		if (json_is_string(v)) {
			add_escaped(&sb, json_string_value(v));
		} else {
			struct strbuf t;

			strbuf_init(&t);
			add_part(E, &t, p, v);
			add_escaped(&sb, t.buf);
			strbuf_free(&t);
		}
		json_decref(v);
	}
	r = json_string(sb.buf);
out:
	strbuf_free(&sb);
	return r;
}

json_t *expr_string(const char *s, const struct expr_env *env, int partial, size_t *err_off,
		    struct cairn_err *err)
{
	struct ev E = {0};
	struct node *tpl;
	json_t *r;
	size_t off = 0, i;

	tpl = parse_string(s, 0, err, &off);
	if (!tpl) {
		if (err_off)
			*err_off = off;
		return NULL;
	}
	E.env = env;
	E.src = s;
	E.partial = partial;
	E.err = err;
	r = partial ? subst_tpl(&E, tpl) : eval(&E, tpl);
	if (!r && !partial && E.deferred)
		r = eerr(&E, tpl->pos, "cannot resolve '%s'", s);
	if (!r && err_off)
		*err_off = E.err_off;
	for (i = 0; i < E.n_repl; i++)
		free(E.repl[i].text);
	free(E.repl);
	node_free(tpl);
	return r;
}

static json_t *eval_deep(json_t *v, const struct expr_env *env, int partial, struct cairn_err *err)
{
	const char *k;
	json_t *e, *r, *x;
	size_t i;

	if (json_is_string(v))
		return expr_string(json_string_value(v), env, partial, NULL, err);
	if (json_is_object(v) && !value_is_unknown(v)) {
		r = json_object();
		json_object_foreach(v, k, e) {
			x = eval_deep(e, env, partial, err);
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
			x = eval_deep(e, env, partial, err);
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

json_t *expr_eval_env(json_t *v, const struct expr_env *env, struct cairn_err *err)
{
	return eval_deep(v, env, 0, err);
}

json_t *expr_eval(json_t *v, expr_lookup_fn lookup, void *ctx, struct cairn_err *err)
{
	struct expr_env env = {lookup, ctx, NULL};

	return eval_deep(v, &env, 0, err);
}

json_t *expr_subst(json_t *v, expr_lookup_fn lookup, void *ctx, struct cairn_err *err)
{
	struct expr_env env = {lookup, ctx, NULL};

	return eval_deep(v, &env, 1, err);
}

/* ---- substituted values as expression text ---- */

static void hcl_string(struct strbuf *sb, const char *s)
{
	struct cairn_err err;
	struct node *tpl;
	size_t off, i;
	const char *p;

	err_clear(&err);
	tpl = parse_string(s, 0, &err, &off);
	if (tpl && tpl->n == 1 && tpl->kids[0]->k == N_INTERP) {
		const struct node *e = tpl->kids[0]->a;

		strbuf_addc(sb, '(');
		strbuf_add(sb, s + e->pos, e->end - e->pos);
		strbuf_addc(sb, ')');
		node_free(tpl);
		return;
	}
	strbuf_addc(sb, '"');
	for (i = 0; tpl && i < tpl->n; i++) {
		const struct node *part = tpl->kids[i];

		if (part->k != N_LIT) {
			strbuf_add(sb, s + part->pos, part->end - part->pos);
			continue;
		}
		for (p = json_string_value(part->lit); *p; p++) {
			if (*p == '"' || *p == '\\')
				strbuf_addc(sb, '\\');
			if (*p == '\n') {
				strbuf_adds(sb, "\\n");
				continue;
			}
			if (p[0] == '$' && p[1] == '{')
				strbuf_addc(sb, '$');
			strbuf_addc(sb, *p);
		}
	}
	strbuf_addc(sb, '"');
	node_free(tpl);
}

static void hcl_value(struct strbuf *sb, json_t *v)
{
	const char *k;
	json_t *e;
	size_t i;
	char *t;

	if (json_is_string(v)) {
		hcl_string(sb, json_string_value(v));
	} else if (json_is_array(v)) {
		strbuf_addc(sb, '[');
		json_array_foreach(v, i, e) {
			if (i)
				strbuf_adds(sb, ", ");
			hcl_value(sb, e);
		}
		strbuf_addc(sb, ']');
	} else if (json_is_object(v)) {
		strbuf_addc(sb, '{');
		i = 0;
		json_object_foreach(v, k, e) {
			json_t *ks = json_string(k);

			t = json_dumps(ks, JSON_ENCODE_ANY);
			strbuf_addf(sb, "%s%s = ", i++ ? ", " : "", t);
			free(t);
			json_decref(ks);
			hcl_value(sb, e);
		}
		strbuf_addc(sb, '}');
	} else {
		t = json_dumps(v, JSON_ENCODE_ANY);
		strbuf_adds(sb, t);
		free(t);
	}
}

char *expr_hcl(json_t *v)
{
	struct strbuf sb;

	strbuf_init(&sb);
	hcl_value(&sb, v);
	return strbuf_detach(&sb);
}

/* ---- references ---- */

struct walk {
	expr_ref_fn fn;
	void *ctx;
	struct scope *sc;
};

static void walk(struct walk *W, const struct node *n)
{
	struct strbuf sb;
	const struct node *base = NULL;
	struct ev probe = {0};
	struct scope ks, vs;
	size_t i;

	if (!n)
		return;
	probe.sc = W->sc;
	strbuf_init(&sb);
	if ((n->k == N_VAR || n->k == N_ATTR || n->k == N_INDEX) && static_ref(&probe, n, &sb, &base)) {
		W->fn(W->ctx, base->name, sb.buf);
		strbuf_free(&sb);
		return;
	}
	strbuf_free(&sb);
	if (n->k == N_CALL && n->fn && !strcmp(n->fn->name, "resource") && n->n == 1 &&
	    n->kids[0]->k == N_LIT && json_is_string(n->kids[0]->lit))
		W->fn(W->ctx, json_string_value(n->kids[0]->lit), "");
	if (n->k == N_FOR) {
		walk(W, n->a);
		ks.up = W->sc;
		ks.name = n->kname ? n->kname : "";
		ks.val = NULL;
		vs.up = &ks;
		vs.name = n->name;
		vs.val = json_true();   /* bound: any non-NULL marks the name */
		W->sc = &vs;
		walk(W, n->b);
		walk(W, n->c);
		walk(W, n->d);
		W->sc = ks.up;
		return;
	}
	walk(W, n->a);
	walk(W, n->b);
	walk(W, n->c);
	walk(W, n->d);
	for (i = 0; i < n->n; i++)
		walk(W, n->kids[i]);
}

int expr_refs(json_t *v, expr_ref_fn fn, void *ctx, struct cairn_err *err)
{
	const char *k;
	json_t *e;
	size_t i, off;

	if (json_is_string(v)) {
		struct node *tpl = parse_string(json_string_value(v), 0, err, &off);
		struct walk W = {fn, ctx, NULL};

		if (!tpl)
			return -1;
		walk(&W, tpl);
		node_free(tpl);
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

int expr_single_ref(const char *s, char **root, char **path)
{
	struct cairn_err err;
	struct node *tpl;
	struct strbuf sb;
	const struct node *base = NULL;
	size_t off;
	int rc = 0;

	err_clear(&err);
	tpl = parse_string(s, 0, &err, &off);
	if (!tpl)
		return 0;
	strbuf_init(&sb);
	if (tpl->n == 1 && tpl->kids[0]->k == N_INTERP &&
	    static_ref(NULL, tpl->kids[0]->a, &sb, &base) && sb.len) {
		*root = xstrdup(base->name);
		*path = strbuf_detach(&sb);
		rc = 1;
	}
	strbuf_free(&sb);
	node_free(tpl);
	return rc;
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
