/*
 * stack: see stack.h. Loading runs in passes over the positioned document
 * (doc.h): variables, the stack's name and region, the resource names and
 * types, then each resource's properties (substitution of variables,
 * ${aws.region} and ${stack.name}; reference checks; schema checks),
 * depends_on and lifecycle, the outputs, and finally cycles. Every pass
 * keeps going after a problem so that one run reports them all.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diag.h"
#include "doc.h"
#include "expr.h"
#include "funcs.h"
#include "graph.h"
#include "schema.h"
#include "stack.h"
#include "suggest.h"
#include "value.h"

/* ---- the loader ---- */

struct loader {
	const char *file;
	struct doc doc;
	const struct stack_opts *opts;
	struct diags *diags;
	struct stack *s;
	json_t *decls;          /* borrowed: the "variables" map, or NULL */
	json_t *unset;          /* names of variables without a usable value */
	json_t *res;            /* borrowed: the "resources" map, or NULL */
	/* What the reference lookup is working on: */
	const char *cur_path;   /* position of errors */
	json_t *cur_deps;       /* set of referenced resources, or NULL */
	int vars_only;          /* "stack:" and "region:" refer to variables only */
	char *basedir;          /* the stack file's directory, for file() and friends */
	json_t *locals;         /* borrowed: the "locals" map, or NULL */
	json_t *local_vals;     /* local name -> value after substitution */
	json_t *local_deps;     /* local name -> {resource: true} it references */
	json_t *local_busy;     /* locals being evaluated (a cycle check) */
	json_t *inst;           /* repeated resource name -> {"count"|"for_each": true,
				 * "keys": [...], "values": [...], "addrs": [...]} */
	json_t *each;           /* the instance being loaded: {"key", "value"} or NULL */
	json_t *count_index;    /* the instance being loaded: its count.index, or NULL */
	/* Modules (SPEC §3.1): a module file is loaded by a loader of its own
	 * whose addresses start with prefix ("module.svc[\"api\"]."). */
	json_t *vars;           /* variable (input) name -> known value: s->vars at the root */
	json_t *var_res;        /* module input name -> {"value": substituted, "deps": {...}}
				 * for inputs known only at plan time */
	const char *prefix;     /* "" at the root */
	struct loader *parent;  /* NULL at the root */
	int depth;              /* module nesting */
	json_t *mods;           /* the "modules" map, or NULL (borrowed) */
	json_t *minst;          /* module name -> instances (like inst) */
	json_t *mouts;          /* module instance address -> {"outputs": {NAME: value},
				 * "deps": {NAME: {...}}} */
	char *realfile;         /* realpath of file, for the include-itself check */
	json_t *datamap;        /* the "data" map (borrowed), or NULL (modules have none) */
	json_t *cur_data;       /* data sources the value being substituted uses, or NULL */
	json_t *data_state;     /* data source name -> "busy" | "done" (load_data_one) */
};

static void lerr(struct loader *L, const char *path, int key, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void lerr(struct loader *L, const char *path, int key, const char *fmt, ...)
{
	struct srcpos p = doc_pos(L->doc.pos, path, key);
	va_list ap;
	char *m;

	va_start(ap, fmt);
	m = xvasprintf(fmt, ap);
	va_end(ap);
	diags_add(L->diags, L->file, p.line, p.col, "%s", m);
	free(m);
}

/* An error about reference "${root.path}" inside the string being
 * substituted: at the reference itself when it can be found. */
static void rerr(struct loader *L, const char *root, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void rerr(struct loader *L, const char *root, const char *path, const char *fmt, ...)
{
	const char *sep = *path == '[' || !*path ? "" : ".";
	char *needle = xasprintf("${%s%s%s}", root, sep, path), *m;
	struct srcpos p;
	va_list ap;

	/* A reference that is a whole "${ }" is named by its "${"; one inside
	 * a longer expression by its own first character. */
	if (!doc_find_at(&L->doc, L->cur_path, needle, &p)) {
		free(needle);
		needle = xasprintf("%s%s%s", root, sep, path);
		p = doc_find(&L->doc, L->cur_path, needle);
	}
	va_start(ap, fmt);
	m = xvasprintf(fmt, ap);
	va_end(ap);
	diags_add(L->diags, L->file, p.line, p.col, "%s", m);
	free(m);
	free(needle);
}

/* "; did you mean 'x'?" or "" (static buffer-free: returns owned). */
static char *hint(const char *word, const json_t *names)
{
	const char *s = suggest_json(word, names);

	return s ? xasprintf("; did you mean '%s'?", s) : xstrdup("");
}

static int valid_name(const char *s)
{
	if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z')))
		return 0;
	for (s++; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == '-'))
			return 0;
	return 1;
}

static const char *json_kind(const json_t *v)
{
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

/* Reports keys of obj (at path) that are not in the NULL-terminated list. */
static void check_keys(struct loader *L, json_t *obj, const char *path, const char *what,
		       const char *const *allowed)
{
	json_t *names = json_array(), *v;
	const char *k;
	size_t i;

	for (i = 0; allowed[i]; i++)
		json_array_append_new(names, json_string(allowed[i]));
	json_object_foreach(obj, k, v) {
		/* Top-level "x-..." keys hold YAML anchors for the rest to alias. */
		if (!*path && !strncmp(k, "x-", 2))
			continue;
		for (i = 0; allowed[i] && strcmp(allowed[i], k) != 0; i++)
			;
		if (!allowed[i]) {
			char *p = doc_path_key(path, k), *h = hint(k, names);

			lerr(L, p, 1, "unknown key '%s' in %s%s", k, what, h);
			free(p);
			free(h);
		}
	}
	json_decref(names);
}

/* ---- variables ---- */

static const char *const var_types[] = {"string", "number", "bool", "list", "map", NULL};

/*
 * Brings v to the declared type without losing anything. Command-line and
 * environment values (from_text) are strings: lists and maps are read as
 * JSON. Returns a new reference, or NULL with *why (owned) set.
 */
static json_t *var_coerce(const char *type, json_t *v, int from_text, char **why)
{
	struct cairn_err err;
	json_t *spec, *r;

	if (!type)
		return json_incref(v);
	if (from_text && json_is_string(v) && (!strcmp(type, "list") || !strcmp(type, "map"))) {
		json_error_t jerr;
		json_t *j = json_loads(json_string_value(v), JSON_DECODE_ANY, &jerr);

		if (!j) {
			*why = xasprintf("expected a %s written as JSON: %s", type, jerr.text);
			return NULL;
		}
		r = var_coerce(type, j, 0, why);
		json_decref(j);
		return r;
	}
	if ((!strcmp(type, "list") && !json_is_array(v)) ||
	    (!strcmp(type, "map") && !json_is_object(v))) {
		*why = xasprintf("expected a %s, got a %s", type, json_kind(v));
		return NULL;
	}
	if (!strcmp(type, "list") || !strcmp(type, "map"))
		return json_incref(v);
	if (!json_is_string(v) && !json_is_number(v) && !json_is_boolean(v)) {
		*why = xasprintf("expected a %s, got a %s", type, json_kind(v));
		return NULL;
	}
	spec = json_pack("{s:s}", "type", type);
	err_clear(&err);
	r = schema_coerce(spec, v, "", &err);
	json_decref(spec);
	if (!r) {
		char *s = json_dumps(v, JSON_ENCODE_ANY);

		*why = xasprintf("expected a %s, got %s", type, s);
		free(s);
	}
	return r;
}

static const char *var_type(struct loader *L, const char *name)
{
	return json_string_value(json_object_get(json_object_get(L->decls, name), "type"));
}

/* Sets variable name from one source; where says which, for messages. */
static void var_set(struct loader *L, const char *name, json_t *v, int from_text,
		    const char *errfile, struct srcpos p, const char *where)
{
	char *why = NULL;
	json_t *c = var_coerce(var_type(L, name), v, from_text, &why);

	if (!c) {
		diags_add(L->diags, errfile, p.line, p.col, "variable '%s' (%s): %s", name, where, why);
		free(why);
		json_object_set_new(L->unset, name, json_true());
		return;
	}
	json_object_set_new(L->vars, name, c);
}

static void load_var_file(struct loader *L, const char *path)
{
	struct doc vf;
	json_t *v;
	const char *k;

	if (doc_load(path, &vf, L->diags) < 0)
		return;
	if (!json_is_object(vf.root)) {
		diags_add(L->diags, path, 1, 1, "a variable file must be a map of NAME: VALUE");
		goto out;
	}
	json_object_foreach(vf.root, k, v) {
		struct srcpos p = doc_pos(vf.pos, k, 1);

		if (!json_object_get(L->decls, k)) {
			char *h = hint(k, L->decls);

			diags_add(L->diags, path, p.line, p.col,
				  "variable '%s' is not declared in '%s'%s", k, L->file, h);
			free(h);
			continue;
		}
		var_set(L, k, v, 0, path, doc_pos(vf.pos, k, 0), path);
	}
out:
	doc_free(&vf);
}

static void load_vars(struct loader *L)
{
	struct srcpos vpos = doc_pos(L->doc.pos, "variables", 1);
	const char *k;
	json_t *d;
	size_t i;

	L->decls = json_object_get(L->doc.root, "variables");
	if (L->decls && !json_is_object(L->decls)) {
		lerr(L, "variables", 0, "'variables' must be a map of variable declarations");
		L->decls = NULL;
	}
	/* declarations and defaults (lowest precedence) */
	json_object_foreach(L->decls, k, d) {
		static const char *const keys[] = {"type", "default", "description", "sensitive", NULL};
		char *path = doc_path_key("variables", k);
		json_t *t;

		if (!valid_name(k))
			lerr(L, path, 1, "invalid variable name '%s': use letters, digits, '_' and '-', "
			     "starting with a letter", k);
		if (json_is_null(d)) {     /* "NAME:" alone: untyped, no default */
			free(path);
			continue;
		}
		if (!json_is_object(d)) {
			lerr(L, path, 0, "variable '%s' must be a map (type, default, description)", k);
			json_object_set_new(L->unset, k, json_true());
			free(path);
			continue;
		}
		check_keys(L, d, path, "a variable declaration", keys);
		t = json_object_get(d, "type");
		if (t) {
			char *tp = doc_path_key(path, "type");

			for (i = 0; var_types[i] && (!json_is_string(t) ||
						     strcmp(var_types[i], json_string_value(t))); i++)
				;
			if (!var_types[i]) {
				lerr(L, tp, 0, "invalid variable type '%s': use string, number, bool, list or map",
				     json_is_string(t) ? json_string_value(t) : json_kind(t));
				json_object_del(d, "type");
			}
			free(tp);
		}
		if (json_object_get(d, "default")) {
			char *dp = doc_path_key(path, "default");

			var_set(L, k, json_object_get(d, "default"), 0, L->file,
				doc_pos(L->doc.pos, dp, 0), "default");
			free(dp);
		}
		free(path);
	}
	/* CAIRN_VAR_<NAME> */
	json_object_foreach(L->decls, k, d) {
		char *env = xasprintf("CAIRN_VAR_%s", k);
		const char *v = env_get(L->opts->envp, env);

		if (v) {
			json_t *s = json_string(v);
			char *path = doc_path_key("variables", k);

			var_set(L, k, s, 1, L->file, doc_pos(L->doc.pos, path, 1), env);
			json_decref(s);
			free(path);
		}
		free(env);
	}
	for (i = 0; i < L->opts->n_var_files; i++)
		load_var_file(L, L->opts->var_files[i]);
	for (i = 0; i < L->opts->n_vars; i++) {
		const char *a = L->opts->vars[i], *eq = strchr(a, '=');
		char *name;
		json_t *s;

		if (!eq || eq == a) {
			diags_add(L->diags, L->file, vpos.line, vpos.col,
				  "--var '%s': expected NAME=VALUE", a);
			continue;
		}
		name = xstrndup(a, (size_t)(eq - a));
		if (!json_object_get(L->decls, name)) {
			char *h = hint(name, L->decls);

			diags_add(L->diags, L->file, vpos.line, vpos.col,
				  "--var '%s': no variable '%s' is declared in this stack%s", a, name, h);
			free(h);
		} else {
			s = json_string(eq + 1);
			var_set(L, name, s, 1, L->file, vpos, "--var");
			json_decref(s);
		}
		free(name);
	}
	/* a declared variable must end up with a value */
	json_object_foreach(L->decls, k, d) {
		if (!json_object_get(L->vars, k) && !json_object_get(L->unset, k)) {
			char *path = doc_path_key("variables", k);

			lerr(L, path, 1, "variable '%s' has no value: give it a default, or set it "
			     "with --var %s=VALUE, --var-file or CAIRN_VAR_%s", k, k, k);
			json_object_set_new(L->unset, k, json_true());
			free(path);
		}
	}
}

/* ---- references ---- */

static const json_t *resource_schema(struct loader *L, const char *name)
{
	json_t *r = json_object_get(L->res, name);

	return schema_get(json_string_value(json_object_get(r, "type")));
}

/* The spec reached by following path segments from an attribute spec, or
 * NULL when the schema cannot say (json attributes, unknown keys). */
static const json_t *spec_walk(const json_t *spec, json_t *segs, size_t from)
{
	size_t i;

	for (i = from; spec && i < json_array_size(segs); i++) {
		const char *t = schema_type_of(spec);
		json_t *seg = json_array_get(segs, i);

		if (!strcmp(t, "list") || !strcmp(t, "map"))
			spec = json_object_get(spec, "elem");
		else if (!strcmp(t, "object") && json_is_string(seg))
			spec = json_object_get(json_object_get(spec, "attributes"), json_string_value(seg));
		else
			return NULL;
	}
	return spec;
}

static json_t *subst(struct loader *L, json_t *v, const char *path);
static int has_ref(json_t *v);

/* Substitutes local NAME once (on first use); a local that failed is
 * remembered as failed so its problem is reported once. */
static void eval_local(struct loader *L, const char *name)
{
	char *path = doc_path_key("locals", name);
	json_t *saved_deps = L->cur_deps, *deps = json_object(), *r;
	const char *saved_path = L->cur_path;
	int saved_vo = L->vars_only;
	size_t before = L->diags->n;

	json_object_set_new(L->local_busy, name, json_true());
	L->cur_deps = deps;
	L->vars_only = 0;
	r = subst(L, json_object_get(L->locals, name), path);
	L->cur_deps = saved_deps;
	L->cur_path = saved_path;
	L->vars_only = saved_vo;
	json_object_del(L->local_busy, name);
	if (L->diags->n == before) {
		json_object_set_new(L->local_vals, name, r);
		json_object_set_new(L->local_deps, name, deps);
	} else {
		json_decref(r);
		json_decref(deps);
		json_object_set_new(L->local_deps, name, json_false());
	}
	free(path);
}

/* ${local.NAME...}: the value when it is known now, else a residual (the
 * local's expression, evaluated with the resources at plan time). */
static json_t *local_ref(struct loader *L, const char *path, const char *first)
{
	const char *rest = path + strlen(first);
	json_t *val, *deps, *lit, *v = NULL;
	struct cairn_err err;
	char *h, *t;

	if (!json_object_get(L->locals, first)) {
		h = hint(first, L->locals);
		rerr(L, "local", path, "unknown local value '%s' in '${local.%s}'%s", first, path, h);
		free(h);
		return NULL;
	}
	if (json_object_get(L->local_busy, first)) {
		rerr(L, "local", path, "local value '%s' depends on itself (a cycle of locals)", first);
		return NULL;
	}
	if (!json_object_get(L->local_deps, first))
		eval_local(L, first);
	val = json_object_get(L->local_vals, first);
	deps = json_object_get(L->local_deps, first);
	if (!val)
		return NULL;    /* reported at its definition */
	if (L->cur_deps && json_is_object(deps))
		json_object_update(L->cur_deps, deps);
	if (has_ref(val)) {
		if (L->vars_only) {
			rerr(L, "local", path, "'${local.%s}' depends on resources and cannot be used here",
			     path);
			return NULL;
		}
		h = expr_hcl(val);
		t = xasprintf("(%s)%s", h, rest);
		v = expr_residual(t);
		free(h);
		free(t);
		return v;
	}
	err_clear(&err);
	lit = expr_eval(val, NULL, NULL, &err);
	if (!lit)
		return NULL;
	if (*rest) {
		v = expr_walk(lit, *rest == '.' ? rest + 1 : rest);
		if (!v)
			rerr(L, "local", path, "'${local.%s}': local value '%s' has no element '%s'",
			     path, first, *rest == '.' ? rest + 1 : rest);
		json_incref(v);
		json_decref(lit);
		return v;
	}
	return lit;
}

/* The address of instance key of resource name: "name[0]" or "name[\"key\"]". Owned. */
static char *instance_addr(const char *name, const json_t *key)
{
	char *k, *a;

	if (json_is_integer(key))
		return xasprintf("%s[%lld]", name, (long long)json_integer_value(key));
	k = json_dumps(key, JSON_ENCODE_ANY);
	a = xasprintf("%s[%s]", name, k);
	free(k);
	return a;
}

static void add_dep(struct loader *L, const char *addr)
{
	if (L->cur_deps)
		json_object_set_new(L->cur_deps, addr, json_true());
}

/* Every instance of resource name as a dependency. */
static void add_all_deps(struct loader *L, const char *name)
{
	json_t *in = json_object_get(L->inst, name), *a;
	size_t i;

	if (!in) {
		char *full = xasprintf("%s%s", L->prefix, name);

		add_dep(L, full);
		free(full);
		return;
	}
	json_array_foreach(json_object_get(in, "addrs"), i, a)
		add_dep(L, json_string_value(a));
}

/* Checks an attribute reference (segs from "from" on) against the schema
 * of resource name. */
static void check_attr_ref(struct loader *L, const char *name, const char *root, const char *path,
			   json_t *segs, size_t from)
{
	const json_t *schema = resource_schema(L, name);
	const char *first = json_string_value(json_array_get(segs, from));
	const char *type = json_string_value(json_object_get(json_object_get(L->res, name), "type"));
	char *h;

	if (!schema || from >= json_array_size(segs))
		return;
	if (!first) {
		rerr(L, root, path, "invalid reference '${%s%s%s}': expected an attribute name",
		     root, *path == '[' ? "" : ".", path);
		return;
	}
	if (!schema_attr(schema, first)) {
		h = hint(first, schema_attrs(schema));
		rerr(L, root, path, "unknown attribute '%s' of resource '%s' (%s) in '${%s%s%s}'%s",
		     first, name, type, root, *path == '[' ? "" : ".", path, h);
		free(h);
	}
}

/* A reference to a resource: ${vpc.id}, ${vpc} (the whole resource),
 * ${subnet[0].id}, ${repo["api"].arn}, ${repo} (every instance). Its value
 * is known at plan time only: returns NULL (left for later). */
/* The path after its first step: "id" of "[0].id" or of "api.id". */
static const char *path_rest(const char *path)
{
	const char *p = path;

	if (*p == '[') {
		p = strchr(p, ']');
		p = p ? p + 1 : path + strlen(path);
	} else {
		p += strcspn(p, ".[");
	}
	return *p == '.' ? p + 1 : p;
}

/*
 * Inside a module, a resource is named by its full address: the reference
 * is left for the plan as resource("ADDRESS") followed by the rest of the
 * path. At the root, addresses are the names: NULL (left as written).
 */
static json_t *resource_residual(struct loader *L, const char *addr, const char *rest)
{
	json_t *a, *r;
	char *q, *t;

	if (!*L->prefix)
		return NULL;
	a = json_string(addr);
	q = json_dumps(a, JSON_ENCODE_ANY);
	t = xasprintf("resource(%s)%s%s", q, *rest && *rest != '[' ? "." : "", rest);
	r = expr_residual(t);
	free(t);
	free(q);
	json_decref(a);
	return r;
}

static json_t *resource_ref(struct loader *L, const char *root, const char *path, json_t *segs)
{
	json_t *in = json_object_get(L->inst, root), *seg = json_array_get(segs, 0), *keys, *k;
	const char *addr;
	char *full;
	json_t *r;
	size_t i;

	if (L->vars_only) {
		rerr(L, root, path, "'${%s%s%s}': only variables can be used here", root,
		     *path == '[' || !*path ? "" : ".", path);
		return NULL;
	}
	if (!json_array_size(segs)) {
		add_all_deps(L, root);
		full = xasprintf("%s%s", L->prefix, root);
		r = resource_residual(L, full, "");
		free(full);
		return r;
	}
	if (!in) {
		check_attr_ref(L, root, root, path, segs, 0);
		full = xasprintf("%s%s", L->prefix, root);
		add_dep(L, full);
		r = resource_residual(L, full, path);
		free(full);
		return r;
	}
	if (json_object_get(in, "failed"))
		return NULL;    /* its count or for_each is already reported */
	/* A repeated resource: the first step names the instance. */
	keys = json_object_get(in, "keys");
	json_array_foreach(keys, i, k) {
		if (json_is_integer(k) ? json_is_integer(seg) && json_integer_value(seg) == json_integer_value(k)
				       : json_is_string(seg) && json_equal(seg, k))
			break;
	}
	if (i == json_array_size(keys)) {
		if (json_object_get(in, "count"))
			rerr(L, root, path, "'${%s%s%s}': resource '%s' has count = %zu: write %s[INDEX].ATTR "
			     "with an index below %zu, %s[*].ATTR or ${%s}", root, *path == '[' ? "" : ".",
			     path, root, json_array_size(keys), root, json_array_size(keys), root, root);
		else
			rerr(L, root, path, "'${%s%s%s}': resource '%s' has for_each and no instance '%s': "
			     "write %s[\"KEY\"].ATTR, %s[*].ATTR or ${%s}", root, *path == '[' ? "" : ".",
			     path, root, json_is_string(seg) ? json_string_value(seg) : "?", root, root, root);
		return NULL;
	}
	check_attr_ref(L, root, root, path, segs, 1);
	addr = json_string_value(json_array_get(json_object_get(in, "addrs"), i));
	add_dep(L, addr);
	return resource_residual(L, addr, path_rest(path));
}

/* A module input known only at plan time: its expression (SPEC §3.1). */
static json_t *input_residual(struct loader *L, const char *name, const char *path)
{
	json_t *in = json_object_get(L->var_res, name), *r;
	const char *rest = path + strlen(name);
	char *h, *t;

	if (L->vars_only) {
		rerr(L, "var", path, "'${var.%s}' depends on resources and cannot be used here", path);
		return NULL;
	}
	if (L->cur_deps)
		json_object_update(L->cur_deps, json_object_get(in, "deps"));
	h = expr_hcl(json_object_get(in, "value"));
	t = xasprintf("(%s)%s", h, rest);
	r = expr_residual(t);
	free(h);
	free(t);
	return r;
}

static void load_module(struct loader *P, const char *name);

/* Every instance of repeated module name: key -> its outputs (a list by
 * index for count), known now or an expression for the plan. */
static json_t *module_all(struct loader *L, const char *name, json_t *in)
{
	json_t *all = json_is_true(json_object_get(in, "count")) ? json_array() : json_object();
	json_t *k, *inst, *r, *lit, *d;
	struct cairn_err err;
	const char *dk;
	size_t i;
	char *h, *t;

	json_array_foreach(json_object_get(in, "keys"), i, k) {
		const char *addr = json_string_value(json_array_get(json_object_get(in, "addrs"), i));

		inst = json_object_get(json_object_get(L->mouts, name), addr);
		if (!inst) {
			json_decref(all);
			return NULL;
		}
		if (json_is_array(all))
			json_array_append(all, json_object_get(inst, "outputs"));
		else
			json_object_set(all, json_string_value(k), json_object_get(inst, "outputs"));
		if (L->cur_deps)
			json_object_foreach(json_object_get(inst, "deps"), dk, d)
				json_object_update(L->cur_deps, d);
	}
	if (has_ref(all)) {
		h = expr_hcl(all);
		t = xasprintf("(%s)", h);
		r = expr_residual(t);
		free(h);
		free(t);
	} else {
		err_clear(&err);
		lit = expr_eval(all, NULL, NULL, &err);
		r = lit;
	}
	json_decref(all);
	return r;
}

/* ${module.NAME.OUTPUT}, ${module.NAME["key"].OUTPUT}, ${module.NAME} (its
 * outputs as a map): the output's value, or its expression for the plan. */
static json_t *module_ref(struct loader *L, const char *path, json_t *segs)
{
	const char *name = json_string_value(json_array_get(segs, 0)), *addr, *out;
	json_t *in, *inst, *outs, *deps, *v = NULL, *lit;
	size_t next = 1, i;
	char *own = NULL, *h, *t, *rest;
	struct cairn_err err;

	if (!name || !json_object_get(L->mods, name)) {
		h = hint(name ? name : "", L->mods);
		rerr(L, "module", path, "reference to unknown module '%s' in '${module.%s}'%s",
		     name ? name : "", path, h);
		free(h);
		return NULL;
	}
	if (!json_object_get(L->mouts, name))
		load_module(L, name);
	in = json_object_get(L->minst, name);
	if (in && json_object_get(in, "failed"))
		return NULL;
	if (in) {
		json_t *seg = json_array_get(segs, 1), *k;

		json_array_foreach(json_object_get(in, "keys"), i, k)
			if (json_is_integer(k) ? json_is_integer(seg) &&
			    json_integer_value(seg) == json_integer_value(k) :
			    json_is_string(seg) && json_equal(seg, k))
				break;
		if (!seg) {
			v = module_all(L, name, in);
			goto done;
		}
		if (i == json_array_size(json_object_get(in, "keys"))) {
			rerr(L, "module", path, "'${module.%s}': module '%s' is repeated: name an "
			     "instance, e.g. module.%s[\"KEY\"].OUTPUT", path, name, name);
			return NULL;
		}
		addr = json_string_value(json_array_get(json_object_get(in, "addrs"), i));
		next = 2;
	} else {
		own = xasprintf("%smodule.%s", L->prefix, name);
		addr = own;
	}
	inst = json_object_get(json_object_get(L->mouts, name), addr);
	if (!inst)
		goto done;      /* the module failed to load: reported there */
	outs = json_object_get(inst, "outputs");
	deps = json_object_get(inst, "deps");
	out = json_string_value(json_array_get(segs, next));
	if (json_array_size(segs) > next && !out) {
		rerr(L, "module", path, "'${module.%s}': expected an output name", path);
		goto done;
	}
	if (out && !json_object_get(outs, out)) {
		h = hint(out, outs);
		rerr(L, "module", path, "module '%s' has no output '%s' in '${module.%s}'%s",
		     name, out, path, h);
		free(h);
		goto done;
	}
	if (L->cur_deps) {
		const char *k;
		json_t *d;

		json_object_foreach(deps, k, d)
			if (!out || !strcmp(k, out))
				json_object_update(L->cur_deps, d);
	}
	v = out ? json_object_get(outs, out) : outs;
	/* what follows the output's name */
	rest = xstrdup("");
	if (out) {
		const char *p = path;

		for (i = 0; i <= next; i++)
			p = path_rest(p);
		free(rest);
		rest = xstrdup(p);
	}
	if (has_ref(v)) {
		h = expr_hcl(v);
		t = xasprintf("(%s)%s%s", h, *rest && *rest != '[' ? "." : "", rest);
		v = expr_residual(t);
		free(h);
		free(t);
	} else {
		err_clear(&err);
		lit = expr_eval(v, NULL, NULL, &err);
		v = NULL;
		if (lit && *rest) {
			v = json_incref(expr_walk(lit, rest));
			if (!v)
				rerr(L, "module", path, "'${module.%s}': the output has no element '%s'",
				     path, rest);
			json_decref(lit);
		} else {
			v = lit;
		}
	}
	free(rest);
done:
	free(own);
	return v;
}

/* ${count.index}, ${each.key}, ${each.value...} of the instance being loaded. */
static json_t *repeat_ref(struct loader *L, const char *root, const char *path, json_t *segs)
{
	const char *first = json_string_value(json_array_get(segs, 0));
	json_t *v;

	if (!strcmp(root, "count")) {
		if (!L->count_index) {
			rerr(L, root, path, "'${count.%s}' can only be used inside a resource with count", path);
			return NULL;
		}
		if (!first || strcmp(path, "index") != 0) {
			rerr(L, root, path, "unknown reference '${count.%s}': use ${count.index}", path);
			return NULL;
		}
		return json_incref(L->count_index);
	}
	if (!L->each) {
		rerr(L, root, path, "'${each.%s}' can only be used inside a resource with for_each "
		     "(each is not defined outside a repeated block)", path);
		return NULL;
	}
	if (first && !strcmp(first, "key") && json_array_size(segs) == 1)
		return json_incref(json_object_get(L->each, "key"));
	if (first && !strcmp(first, "value")) {
		v = json_object_get(L->each, "value");
		if (value_is_unknown(v) || json_array_size(segs) == 1)
			return json_incref(v);
		v = expr_walk(v, path + strlen("value") + (path[5] == '.'));
		if (!v)
			rerr(L, root, path, "'${each.%s}': the value of this instance has no element '%s'",
			     path, path + strlen("value") + (path[5] == '.'));
		return json_incref(v);
	}
	rerr(L, root, path, "unknown reference '${each.%s}': use ${each.key} or ${each.value}", path);
	return NULL;
}

/* ${data.NAME.ATTR...}: checked against the data source's schema; its
 * value is known when the plan reads it, so the text is left as written. */
static void load_data_one(struct loader *L, const char *k);

static json_t *data_ref(struct loader *L, const char *path, json_t *segs)
{
	const char *name = json_string_value(json_array_get(segs, 0)), *attr, *type, *state;
	const json_t *schema;
	json_t *decl, *read;
	char *h;

	if (L->vars_only) {
		rerr(L, "data", path, "'${data.%s}': only variables can be used here", path);
		return NULL;
	}
	decl = name ? json_object_get(L->datamap, name) : NULL;
	if (!decl) {
		h = hint(name ? name : "", L->datamap);
		rerr(L, "data", path, "reference to unknown data source '%s' in '${data.%s}'%s",
		     name ? name : "", path, h);
		free(h);
		return NULL;
	}
	if (L->cur_data)
		json_object_set_new(L->cur_data, name, json_true());
	state = json_string_value(json_object_get(L->data_state, name));
	if (state && !strcmp(state, "busy")) {
		rerr(L, "data", path, "data source '%s' depends on itself (a cycle of data sources)",
		     name);
		return NULL;
	}
	if (!state)
		load_data_one(L, name);
	type = json_string_value(json_object_get(decl, "type"));
	schema = schema_data_get(type);
	attr = json_string_value(json_array_get(segs, 1));
	if (json_array_size(segs) > 1 && !attr) {
		rerr(L, "data", path, "invalid reference '${data.%s}': expected an attribute name", path);
	} else if (json_array_size(segs) < 2) {
		rerr(L, "data", path, "'${data.%s}': name an attribute, e.g. ${data.%s.id}", path, name);
	} else if (schema && !schema_attr(schema, attr)) {
		h = hint(attr, schema_attrs(schema));
		rerr(L, "data", path, "unknown attribute '%s' of data source '%s' (%s) in '${data.%s}'%s",
		     attr, name, type, path, h);
		free(h);
	} else if ((read = json_object_get(L->s->data_read, name))) {
		/* read while loading: the value is known */
		json_t *v = expr_walk(read, path_rest(path));

		if (!v)
			rerr(L, "data", path, "'${data.%s}': data source '%s' has no element '%s'",
			     path, name, path_rest(path));
		return json_incref(v);
	}
	return NULL;
}

static json_t *load_lookup(void *ctx, const char *root, const char *path, struct cairn_err *err)
{
	struct loader *L = ctx;
	json_t *segs = expr_path_split(path), *v = NULL;
	const char *first;
	char *h;

	(void)err;
	if (segs && !strcmp(root, "data") && !json_object_get(L->res, root)) {
		v = data_ref(L, path, segs);
		goto out;
	}
	if (segs && json_object_get(L->res, root)) {
		v = resource_ref(L, root, path, segs);
		goto out;
	}
	if (segs && (!strcmp(root, "count") || !strcmp(root, "each"))) {
		v = repeat_ref(L, root, path, segs);
		goto out;
	}
	if (!segs || !json_is_string(json_array_get(segs, 0))) {
		if (segs && !json_array_size(segs) && !L->vars_only) {
			h = hint(root, L->res);
			rerr(L, root, path, "reference to unknown resource '%s' in '${%s}'%s", root, root, h);
			free(h);
			goto out;
		}
		rerr(L, root, path, "invalid reference '${%s%s%s}'", root, *path == '[' ? "" : ".", path);
		goto out;
	}
	first = json_string_value(json_array_get(segs, 0));
	if (!strcmp(root, "var")) {
		char *rest;
		json_t *val;

		if (!json_object_get(L->decls, first)) {
			h = hint(first, L->decls);
			rerr(L, root, path, "unknown variable '%s' in '${var.%s}'%s", first, path, h);
			free(h);
			goto out;
		}
		if (json_object_get(L->var_res, first)) {
			v = input_residual(L, first, path);
			goto out;
		}
		val = json_object_get(L->vars, first);
		if (!val)
			goto out;      /* already reported at its declaration */
		rest = xstrdup(path + strlen(first));
		if (*rest == '.')
			memmove(rest, rest + 1, strlen(rest));
		v = *rest ? expr_walk(val, rest) : val;
		if (!v)
			rerr(L, root, path, "'${var.%s}': variable '%s' has no element '%s'",
			     path, first, rest);
		free(rest);
		json_incref(v);
		goto out;
	}
	if (!strcmp(root, "aws")) {
		const char *region = L->opts->region ? L->opts->region : L->s->region;

		if (!strcmp(path, "region")) {
			if (region)
				v = json_string(region);
		} else if (!strcmp(path, "account_id")) {
			if (L->vars_only)
				rerr(L, root, path, "'${aws.account_id}' needs an AWS call and cannot "
				     "be used here");
		} else {
			rerr(L, root, path, "unknown reference '${aws.%s}': use ${aws.region} or "
			     "${aws.account_id}", path);
		}
		goto out;
	}
	if (!strcmp(root, "stack")) {
		if (strcmp(path, "name") != 0)
			rerr(L, root, path, "unknown reference '${stack.%s}': use ${stack.name}", path);
		else if (L->vars_only)
			rerr(L, root, path, "'${stack.name}' cannot be used here");
		else if (L->s->name)
			v = json_string(L->s->name);
		goto out;
	}
	if (!strcmp(root, "local")) {
		v = local_ref(L, path, first);
		goto out;
	}
	if (!strcmp(root, "module") && !L->vars_only) {
		v = module_ref(L, path, segs);
		goto out;
	}
	if (L->vars_only) {
		rerr(L, root, path, "'${%s.%s}': only variables can be used here", root, path);
		goto out;
	}
	h = hint(root, L->res);
	rerr(L, root, path, "reference to unknown resource '%s' in '${%s.%s}'%s",
	     root, root, path, h);
	free(h);
out:
	json_decref(segs);
	return v;
}

/* Substitutes every string in v (deeply), reporting problems at their own
 * positions. Returns a new reference (the input, where it cannot be
 * substituted). */
static json_t *subst(struct loader *L, json_t *v, const char *path)
{
	struct expr_env env;
	struct cairn_err err;
	size_t off = 0;
	const char *k;
	json_t *e, *r;
	size_t i;

	if (json_is_object(v)) {
		r = json_object();
		json_object_foreach(v, k, e) {
			char *p = doc_path_key(path, k);

			json_object_set_new(r, k, subst(L, e, p));
			free(p);
		}
		return r;
	}
	if (json_is_array(v)) {
		r = json_array();
		json_array_foreach(v, i, e) {
			char *p = doc_path_index(path, i);

			json_array_append_new(r, subst(L, e, p));
			free(p);
		}
		return r;
	}
	if (!json_is_string(v))
		return json_incref(v);
	L->cur_path = path;
	err_clear(&err);
	env.lookup = load_lookup;
	env.ctx = L;
	env.basedir = L->basedir;
	r = expr_string(json_string_value(v), &env, 1, &off, &err);
	L->cur_path = path;
	if (!r) {
		struct srcpos p = doc_find_offset(&L->doc, path, json_string_value(v), off);

		diags_add(L->diags, L->file, p.line, p.col, "%s", err.msg);
		r = json_incref(v);
	}
	return r;
}

/* ---- schema checks ---- */

struct check {
	struct loader *L;
	const char *type;       /* resource type, for messages */
};

static void check_value(struct check *c, const json_t *spec, json_t *v, const char *path,
			const char *name);

static void count_ref(void *ctx, const char *root, const char *path)
{
	(void)root;
	(void)path;
	(*(int *)ctx)++;
}

/* True if the string holds a reference left for the plan (to a resource
 * or ${aws.account_id}), or a broken one already reported: either way its
 * final value is not known here. */
static int has_ref(json_t *v)
{
	struct cairn_err err;
	int n = 0;

	err_clear(&err);
	return expr_refs(v, count_ref, &n, &err) < 0 || n > 0;
}

static int is_scalar_type(const char *t)
{
	return !strcmp(t, "string") || !strcmp(t, "number") || !strcmp(t, "bool");
}

/* A string that is one whole reference to a resource attribute: checks
 * the referenced attribute's type against the expected one. */
static void check_ref_type(struct check *c, const json_t *spec, const char *s,
			   const char *path, const char *name)
{
	char *root, *rpath;
	const json_t *rschema, *rspec;
	json_t *segs;
	const char *want = schema_type_of(spec), *got;
	int bad;

	if (!expr_single_ref(s, &root, &rpath))
		return;
	rschema = resource_schema(c->L, root);
	segs = expr_path_split(rpath);
	if (!rschema || !segs || !json_is_string(json_array_get(segs, 0)))
		goto out;
	rspec = spec_walk(schema_attr(rschema, json_string_value(json_array_get(segs, 0))), segs, 1);
	if (!rspec)
		goto out;
	got = schema_type_of(rspec);
	if (!strcmp(want, "json") || !strcmp(got, "json"))
		goto out;
	if (is_scalar_type(want))
		bad = !is_scalar_type(got);
	else if (!strcmp(want, "list"))
		bad = strcmp(got, "list") != 0;
	else
		bad = strcmp(got, "map") != 0 && strcmp(got, "object") != 0;
	if (bad)
		lerr(c->L, path, 0, "wrong type for '%s' of %s: expected %s, but '%s' is a %s",
		     name, c->type, want, s, got);
out:
	json_decref(segs);
	free(root);
	free(rpath);
}

static void check_object(struct check *c, const json_t *attrs, json_t *obj, const char *path,
			 const char *prefix, const char *missing_path, int missing_key);

static char *quoted_list(const json_t *arr)
{
	struct strbuf sb;
	json_t *e;
	size_t i;

	strbuf_init(&sb);
	json_array_foreach(arr, i, e) {
		char *s = json_dumps(e, JSON_ENCODE_ANY);

		strbuf_addf(&sb, "%s%s", i ? ", " : "", s);
		free(s);
	}
	return strbuf_detach(&sb);
}

static void check_value(struct check *c, const json_t *spec, json_t *v, const char *path,
			const char *name)
{
	const char *t = schema_type_of(spec), *k;
	const json_t *elem = json_object_get(spec, "elem"), *allowed, *pattern;
	struct cairn_err err;
	json_t *e, *n;
	size_t i;

	if (json_is_string(v) && has_ref(v)) {
		check_ref_type(c, spec, json_string_value(v), path, name);
		return;
	}
	if (!strcmp(t, "json"))
		return;
	if (!strcmp(t, "list") || !strcmp(t, "map") || !strcmp(t, "object")) {
		int ok = !strcmp(t, "list") ? json_is_array(v) : json_is_object(v);

		if (!ok) {
			lerr(c->L, path, 0, "wrong type for '%s' of %s: expected %s, got %s",
			     name, c->type, !strcmp(t, "object") ? "map" : t, json_kind(v));
			return;
		}
		if (!strcmp(t, "object")) {
			char *prefix = xasprintf("%s.", name);

			check_object(c, json_object_get(spec, "attributes"), v, path, prefix, path, 0);
			free(prefix);
			return;
		}
		if (!strcmp(t, "list")) {
			json_array_foreach(v, i, e) {
				char *p = doc_path_index(path, i), *nm = xasprintf("%s[%zu]", name, i);

				if (elem)
					check_value(c, elem, e, p, nm);
				free(p);
				free(nm);
			}
			return;
		}
		json_object_foreach(v, k, e) {
			char *p = doc_path_key(path, k), *nm = xasprintf("%s.%s", name, k);
			json_t *string_spec = json_pack("{s:s}", "type", "string");

			check_value(c, elem ? elem : string_spec, e, p, nm);
			json_decref(string_spec);
			free(p);
			free(nm);
		}
		return;
	}
	err_clear(&err);
	n = schema_coerce(spec, v, name, &err);
	if (!n) {
		char *s = json_dumps(v, JSON_ENCODE_ANY);

		lerr(c->L, path, 0, "wrong type for '%s' of %s: expected %s, got %s %s",
		     name, c->type, t, json_kind(v), s);
		free(s);
		return;
	}
	allowed = json_object_get(spec, "allowed");
	if (json_is_array(allowed)) {
		int found = 0;

		json_array_foreach(allowed, i, e)
			if (json_equal(e, n))
				found = 1;
		if (!found) {
			char *s = json_dumps(n, JSON_ENCODE_ANY), *list = quoted_list(allowed);

			lerr(c->L, path, 0, "invalid value %s for '%s' of %s; allowed values: %s",
			     s, name, c->type, list);
			free(s);
			free(list);
		}
	}
	pattern = json_object_get(spec, "pattern");
	if (json_is_string(pattern) && json_is_string(n) &&
	    !schema_pattern_ok(spec, json_string_value(n)))
		lerr(c->L, path, 0, "invalid value \"%s\" for '%s' of %s: must match %s",
		     json_string_value(n), name, c->type, json_string_value(pattern));
	json_decref(n);
}

/* Checks an object's keys against attribute specs; a missing required
 * attribute is reported at missing_path (its key when missing_key). */
static void check_object(struct check *c, const json_t *attrs, json_t *obj, const char *path,
			 const char *prefix, const char *missing_path, int missing_key)
{
	const char *k;
	json_t *v, *spec;

	json_object_foreach(obj, k, v) {
		char *p = doc_path_key(path, k), *name = xasprintf("%s%s", prefix, k);

		spec = json_object_get(attrs, k);
		if (!spec) {
			const char *near = suggest_json(k, attrs);

			if (near)
				lerr(c->L, p, 1, "unknown attribute '%s' for %s; did you mean '%s%s'?",
				     name, c->type, prefix, near);
			else
				lerr(c->L, p, 1, "unknown attribute '%s' for %s", name, c->type);
		} else if (schema_is_output(spec)) {
			lerr(c->L, p, 1, "attribute '%s' of %s is computed by AWS and cannot be set",
			     name, c->type);
		} else if (!json_is_null(v)) {
			check_value(c, spec, v, p, name);
		}
		free(p);
		free(name);
	}
	json_object_foreach((json_t *)attrs, k, spec) {
		v = json_object_get(obj, k);
		if (schema_is_required(spec) && (!v || json_is_null(v)))
			lerr(c->L, missing_path, missing_key,
			     "missing required attribute '%s%s' for %s", prefix, k, c->type);
	}
}

/* ---- data sources ---- */

static json_t *sorted_keys(json_t *set);

/*
 * Data source NAME of the "data" map: {type, properties}, checked against
 * schemas/data.TYPE.json. Its properties may use variables, locals and
 * other data sources (loaded first, through data_ref: s->data ends up in
 * read order), never resources: data sources are read before the plan,
 * when no resource attribute is known. With a reader (stack_opts.read_data)
 * it is read here, so that what uses it sees its values.
 */
static void load_data_one(struct loader *L, const char *k)
{
	/* count and for_each get an error of their own below */
	static const char *const keys[] = {"type", "properties", "count", "for_each", NULL};
	json_t *decl = json_object_get(L->datamap, k), *t, *props;
	json_t *rdeps = json_object(), *ddeps = json_object();
	json_t *saved_deps = L->cur_deps, *saved_data = L->cur_data;
	const char *saved_path = L->cur_path;
	int saved_vo = L->vars_only;
	char *path = doc_path_key("data", k), *pp = doc_path_key(path, "properties");
	char *tp = doc_path_key(path, "type");
	size_t before = L->diags->n;
	const json_t *schema = NULL;
	struct stack_data d = {0};
	struct check c;

	json_object_set_new(L->data_state, k, json_string("busy"));
	d.name = xstrdup(k);
	d.pos = doc_pos(L->doc.pos, path, 1);
	if (!valid_name(k))
		lerr(L, path, 1, "invalid data source name '%s': use letters, digits, '_' and "
		     "'-', starting with a letter", k);
	t = json_is_object(decl) ? json_object_get(decl, "type") : NULL;
	d.type = xstrdup(json_is_string(t) ? json_string_value(t) : "");
	props = json_is_object(decl) ? json_object_get(decl, "properties") : NULL;
	if (!json_is_object(decl)) {
		lerr(L, path, 0, "data source '%s' must be a map with 'type' and 'properties'", k);
	} else {
		if (json_object_get(decl, "count") || json_object_get(decl, "for_each")) {
			char *cp = doc_path_key(path, json_object_get(decl, "count") ?
						"count" : "for_each");

			/* README "Known gaps": one data source per entry */
			lerr(L, cp, 1, "data source '%s': count and for_each are not supported "
			     "on data sources; declare one entry per object to read", k);
			free(cp);
		}
		check_keys(L, decl, path, "a data source", keys);
		if (!t) {
			lerr(L, path, 1, "data source '%s' has no 'type'", k);
		} else if (!(schema = schema_data_get(d.type))) {
			char *h = hint(d.type, schema_data_types());

			lerr(L, tp, 0, "unknown data source type '%s'%s", d.type, h);
			free(h);
		}
	}
	if (props && !json_is_object(props) && !json_is_null(props)) {
		lerr(L, pp, 0, "'properties' must be a map");
		props = NULL;
	}
	L->cur_deps = rdeps;
	L->cur_data = ddeps;
	L->vars_only = 0;
	d.properties = json_is_object(props) ? subst(L, props, pp) : json_object();
	L->cur_deps = saved_deps;
	L->cur_data = saved_data;
	L->cur_path = saved_path;
	L->vars_only = saved_vo;
	if (json_object_size(rdeps))
		lerr(L, pp, 0, "data source '%s' uses resource '%s': data sources are read "
		     "before the plan, when no resource attribute is known", k,
		     json_object_iter_key(json_object_iter(rdeps)));
	json_object_del(ddeps, k);
	d.deps = sorted_keys(ddeps);
	if (schema) {
		c.L = L;
		c.type = d.type;
		check_object(&c, schema_attrs(schema), d.properties, pp, "", path, 1);
	}
	if (L->diags->n == before && L->opts->read_data && !has_ref(d.properties)) {
		const char *region = L->opts->region ? L->opts->region : L->s->region;
		struct cairn_err err;
		json_t *out = NULL;
		char *addr = xasprintf("data.%s", k);

		err_clear(&err);
		if (L->opts->read_data(L->opts->read_data_arg, region, addr, d.type, d.properties,
				       &out, &err) < 0) {
			lerr(L, path, 1, "%s", err.msg);
		} else {
			if (!L->s->data_read)
				L->s->data_read = json_object();
			json_object_set_new(L->s->data_read, k, out);
		}
		free(addr);
	}
	L->s->data[L->s->n_data++] = d;
	json_object_set_new(L->data_state, k, json_string("done"));
	json_decref(rdeps);
	json_decref(ddeps);
	free(path);
	free(pp);
	free(tp);
}

/* Every data source, in read order (s->data). */
static void load_data(struct loader *L)
{
	const char *k;
	json_t *decl;

	L->s->data = xcalloc(json_object_size(L->datamap) + 1, sizeof(*L->s->data));
	json_object_foreach(L->datamap, k, decl)
		if (!json_object_get(L->data_state, k))
			load_data_one(L, k);
}

/* ---- resources ---- */

static json_t *bool_at(struct loader *L, json_t *obj, const char *path, const char *key)
{
	json_t *v = json_object_get(obj, key);

	if (v && !json_is_boolean(v)) {
		char *p = doc_path_key(path, key);

		lerr(L, p, 0, "'%s' must be true or false", key);
		free(p);
		return NULL;
	}
	return v;
}

/* An array of strings at obj[key] (a new reference; empty when absent or bad). */
static json_t *names_at(struct loader *L, json_t *obj, const char *path, const char *key)
{
	json_t *v = json_object_get(obj, key), *e;
	size_t i;
	char *p = doc_path_key(path, key);
	json_t *r = json_array();

	if (v && !json_is_array(v)) {
		lerr(L, p, 0, "'%s' must be a list of names", key);
	} else if (v) {
		json_array_foreach(v, i, e) {
			if (json_is_string(e)) {
				json_array_append(r, e);
			} else {
				char *ep = doc_path_index(p, i);

				lerr(L, ep, 0, "'%s' must be a list of names", key);
				free(ep);
			}
		}
	}
	free(p);
	return r;
}

static int cmp_json_str(const void *a, const void *b)
{
	return strcmp(json_string_value(*(json_t *const *)a), json_string_value(*(json_t *const *)b));
}

static json_t *sorted_keys(json_t *set)
{
	json_t **v = xcalloc(json_object_size(set) + 1, sizeof(*v)), *r = json_array(), *e;
	const char *k;
	size_t n = 0, i;

	json_object_foreach(set, k, e)
		v[n++] = json_string(k);
	qsort(v, n, sizeof(*v), cmp_json_str);
	for (i = 0; i < n; i++)
		json_array_append_new(r, v[i]);
	free(v);
	return r;
}

static void load_resource(struct loader *L, const char *name, const char *addr, json_t *decl,
			  struct stack_resource *r)
{
	static const char *const keys[] = {"type", "properties", "depends_on", "lifecycle",
					   "count", "for_each", NULL};
	static const char *const lc_keys[] = {"prevent_destroy", "create_before_destroy",
					      "ignore_changes", NULL};
	char *path = doc_path_key("resources", name), *pp, *lp, *tp;
	json_t *deps = json_object(), *props, *lc, *e, *t;
	const json_t *schema = NULL;
	struct check c;
	size_t i;

	r->name = xstrdup(addr);
	r->base = xstrdup(name);
	r->pos = doc_pos(L->doc.pos, path, 1);
	pp = doc_path_key(path, "properties");
	lp = doc_path_key(path, "lifecycle");
	tp = doc_path_key(path, "type");
	if (!valid_name(name))
		lerr(L, path, 1, "invalid resource name '%s': use letters, digits, '_' and '-', "
		     "starting with a letter", name);
	if (!json_is_object(decl)) {
		lerr(L, path, 0, "resource '%s' must be a map with 'type' and 'properties'", name);
		r->type = xstrdup("");
		r->properties = json_object();
		goto edges;
	}
	check_keys(L, decl, path, "a resource", keys);
	t = json_object_get(decl, "type");
	r->type = xstrdup(json_is_string(t) ? json_string_value(t) : "");
	if (!t) {
		lerr(L, path, 1, "resource '%s' has no 'type'", name);
	} else if (!json_is_string(t)) {
		lerr(L, tp, 0, "'type' must be a string");
	} else if (!(schema = schema_get(r->type))) {
		char *h = hint(r->type, schema_types());

		lerr(L, tp, 0, "unknown resource type '%s'%s", r->type, h);
		free(h);
	}
	props = json_object_get(decl, "properties");
	if (props && !json_is_object(props) && !json_is_null(props)) {
		lerr(L, pp, 0, "'properties' must be a map");
		props = NULL;
	}
	L->cur_deps = deps;
	L->vars_only = 0;
	r->properties = json_is_object(props) ? subst(L, props, pp) : json_object();
	L->cur_deps = NULL;
	if (schema) {
		c.L = L;
		c.type = r->type;
		check_object(&c, schema_attrs(schema), r->properties, pp, "", path, 1);
	}
	/* depends_on */
	r->depends_on = names_at(L, decl, path, "depends_on");
	json_array_foreach(r->depends_on, i, e) {
		const char *d = json_string_value(e);

		if (json_object_get(L->res, d)) {
			json_t *saved = L->cur_deps;

			L->cur_deps = deps;
			add_all_deps(L, d);
			L->cur_deps = saved;
		} else {
			char *dp = doc_path_key(path, "depends_on"), *ep = doc_path_index(dp, i);
			char *h = hint(d, L->res);

			lerr(L, ep, 0, "depends_on names unknown resource '%s'%s", d, h);
			free(h);
			free(dp);
			free(ep);
		}
	}
	/* lifecycle */
	lc = json_object_get(decl, "lifecycle");
	if (lc && !json_is_object(lc)) {
		lerr(L, lp, 0, "'lifecycle' must be a map");
		lc = NULL;
	}
	if (lc)
		check_keys(L, lc, lp, "lifecycle", lc_keys);
	r->prevent_destroy = json_is_true(bool_at(L, lc, lp, "prevent_destroy"));
	r->create_before_destroy = json_is_true(bool_at(L, lc, lp, "create_before_destroy"));
	r->ignore_changes = names_at(L, lc, lp, "ignore_changes");
	json_array_foreach(r->ignore_changes, i, e) {
		const char *a = json_string_value(e);

		if (schema && !schema_attr(schema, a)) {
			char *ip = doc_path_key(lp, "ignore_changes"), *ep = doc_path_index(ip, i);
			char *h = hint(a, schema_attrs(schema));

			lerr(L, ep, 0, "ignore_changes names unknown attribute '%s' of %s%s",
			     a, r->type, h);
			free(h);
			free(ip);
			free(ep);
		}
	}
edges:
	if (!r->depends_on)
		r->depends_on = json_array();
	if (!r->ignore_changes)
		r->ignore_changes = json_array();
	r->deps = sorted_keys(deps);
	json_decref(deps);
	free(path);
	free(pp);
	free(lp);
	free(tp);
}

/*
 * count / for_each of resource name: records its instances in L->inst
 * (keys, each.value, addresses). Both must be known when planning: a value
 * that needs a resource is an error at its position.
 */
static void expand_instances(struct loader *L, const char *section, json_t *into,
			     const char *name, json_t *decl)
{
	char *path = doc_path_key(section, name), *cp = doc_path_key(path, "count");
	char *fp = doc_path_key(path, "for_each");
	json_t *count = json_is_object(decl) ? json_object_get(decl, "count") : NULL;
	json_t *fe = json_is_object(decl) ? json_object_get(decl, "for_each") : NULL;
	json_t *v = NULL, *lit = NULL, *keys = json_array(), *vals = json_array(), *in, *e;
	json_t *uses = NULL;
	const char *vp = count ? cp : fp;
	size_t before = L->diags->n, i;
	struct cairn_err err;

	if (!count && !fe)
		goto out;
	if (count && fe) {
		lerr(L, fp, 1, "%s '%s' sets both 'count' and 'for_each': use one of them",
		     into == L->minst ? "module" : "resource", name);
		goto failed;
	}
	L->cur_deps = NULL;
	L->vars_only = 0;
	uses = json_object();
	L->cur_data = uses;
	v = subst(L, count ? count : fe, vp);
	L->cur_data = NULL;
	if (L->diags->n != before)
		goto failed;
	/* Without a reader (validate) data sources are unknown: the instances
	 * are left for the plan, which reads them first. */
	if (has_ref(v) && json_object_size(uses) && !L->opts->read_data)
		goto failed;
	if (has_ref(v)) {
		lerr(L, vp, 0, "the '%s' of %s '%s' depends on values known only after apply; "
		     "it must be known when planning (use variables, locals and functions)",
		     count ? "count" : "for_each", into == L->minst ? "module" : "resource", name);
		goto failed;
	}
	err_clear(&err);
	lit = expr_eval(v, NULL, NULL, &err);
	if (!lit) {
		lerr(L, vp, 0, "%s", err.msg);
		goto failed;
	}
	if (count) {
		double d = json_is_number(lit) ? json_number_value(lit) : -1;

		if (d < 0 || d != (double)(long long)d || d > 100000) {
			char *t = json_dumps(lit, JSON_ENCODE_ANY);

			lerr(L, cp, 0, "'count' must be a whole number from 0, got %s", t);
			free(t);
			goto failed;
		}
		for (i = 0; i < (size_t)d; i++) {
			json_array_append_new(keys, json_integer((json_int_t)i));
			json_array_append_new(vals, json_null());
		}
	} else if (json_is_array(lit)) {
		json_array_foreach(lit, i, e) {
			if (!json_is_string(e)) {
				lerr(L, fp, 0, "'for_each' takes a list of strings or a map; element %zu is a %s",
				     i, json_kind(e));
				goto failed;
			}
			if (value_array_has(keys, json_string_value(e))) {
				lerr(L, fp, 0, "'for_each' list holds \"%s\" more than once: each key must "
				     "name one instance", json_string_value(e));
				goto failed;
			}
			json_array_append(keys, e);
			json_array_append(vals, e);
		}
	} else if (json_is_object(lit)) {
		json_t *names = func_sorted_keys(lit);

		json_array_foreach(names, i, e) {
			json_array_append(keys, e);
			json_array_append(vals, json_object_get(lit, json_string_value(e)));
		}
		json_decref(names);
	} else {
		lerr(L, fp, 0, "'for_each' takes a list of strings or a map, not a %s", json_kind(lit));
		goto failed;
	}
	in = json_pack("{s:b, s:O, s:O, s:[]}", count ? "count" : "for_each", 1, "keys", keys,
		       "values", vals, "addrs");
	json_array_foreach(keys, i, e) {
		char *a = instance_addr(name, e);
		char *full = xasprintf("%s%s%s", L->prefix, into == L->minst ? "module." : "", a);

		json_array_append_new(json_object_get(in, "addrs"), json_string(full));
		free(full);
		free(a);
	}
	json_object_set_new(into, name, in);
	goto out;
failed:
	/* No instances; its configuration is still checked (with count.index
	 * and each unknown) and references to it report nothing more. */
	json_object_set_new(into, name, json_pack("{s:b, s:b, s:[], s:[], s:[]}",
			    count ? "count" : "for_each", 1, "failed", 1, "keys", "values", "addrs"));
out:
	json_decref(uses);
	json_decref(v);
	json_decref(lit);
	json_decref(keys);
	json_decref(vals);
	free(path);
	free(cp);
	free(fp);
}

/* An address cairn can hold: NAME, NAME[N] or NAME["KEY"]. */
static int valid_address(const char *a)
{
	const char *b = strchr(a, '[');
	char *base = b ? xstrndup(a, (size_t)(b - a)) : xstrdup(a);
	int ok = valid_name(base);

	free(base);
	if (!ok || !b)
		return ok;
	if (b[1] == '"') {
		json_t *k = json_loadb(b + 1, strlen(b + 1) - 1, JSON_DECODE_ANY, NULL);

		ok = json_is_string(k) && a[strlen(a) - 1] == ']';
		json_decref(k);
		return ok;
	}
	for (b++; *b >= '0' && *b <= '9'; b++)
		;
	return b[0] == ']' && b[1] == '\0' && b[-1] != '[';
}

/* "moved:": a list of {from, to} addresses. A from still declared, a to
 * not declared, and two moves to one address are errors. */
static void load_moves(struct loader *L, json_t *moved)
{
	static const char *const keys[] = {"from", "to", NULL};
	json_t *seen = json_object(), *m;
	size_t i;

	L->s->moves = json_array();
	if (!moved)
		goto out;
	if (!json_is_array(moved)) {
		lerr(L, "moved", 0, "'moved' must be a list of {from: ADDRESS, to: ADDRESS}");
		goto out;
	}
	json_array_foreach(moved, i, m) {
		char *mp = doc_path_index("moved", i), *fp = doc_path_key(mp, "from");
		char *tp = doc_path_key(mp, "to");
		const char *from = json_string_value(json_object_get(m, "from"));
		const char *to = json_string_value(json_object_get(m, "to"));

		if (!json_is_object(m) || !from || !to) {
			lerr(L, mp, 0, "a move must be a map {from: ADDRESS, to: ADDRESS}");
		} else {
			check_keys(L, m, mp, "a move", keys);
			if (!valid_address(from))
				lerr(L, fp, 0, "invalid address '%s': write NAME, NAME[N] or NAME[\"KEY\"]", from);
			else if (!valid_address(to))
				lerr(L, tp, 0, "invalid address '%s': write NAME, NAME[N] or NAME[\"KEY\"]", to);
			else if (stack_find(L->s, from) >= 0)
				lerr(L, fp, 0, "moved from '%s', which is still declared: a move renames a "
				     "resource that is no longer in the stack", from);
			else if (stack_find(L->s, to) < 0)
				lerr(L, tp, 0, "moved to '%s', which is not declared in the stack", to);
			else if (json_object_get(seen, to))
				lerr(L, tp, 0, "two moves to '%s' (the other from '%s')", to,
				     json_string_value(json_object_get(seen, to)));
			else {
				json_object_set_new(seen, to, json_string(from));
				json_array_append_new(L->s->moves, json_pack("{s:s, s:s}", "from", from, "to", to));
			}
		}
		free(mp);
		free(fp);
		free(tp);
	}
out:
	json_decref(seen);
}

/* Drops diagnostics repeated by loading several instances of one resource. */
static void diags_dedup(struct diags *d, size_t from)
{
	size_t i, j, n = from;

	for (i = from; i < d->n; i++) {
		for (j = from; j < n; j++)
			if (d->v[j].line == d->v[i].line && d->v[j].col == d->v[i].col &&
			    !strcmp(d->v[j].msg, d->v[i].msg) && !strcmp(d->v[j].file, d->v[i].file))
				break;
		if (j < n) {
			free(d->v[i].file);
			free(d->v[i].msg);
			continue;
		}
		d->v[n++] = d->v[i];
	}
	d->n = n;
}

static void load_outputs(struct loader *L, json_t *outs)
{
	static const char *const keys[] = {"value", "description", "sensitive", NULL};
	const char *k;
	json_t *o;
	size_t n = 0;

	if (outs && !json_is_object(outs)) {
		lerr(L, "outputs", 0, "'outputs' must be a map");
		return;
	}
	L->s->outputs = xcalloc(json_object_size(outs) + 1, sizeof(*L->s->outputs));
	json_object_foreach(outs, k, o) {
		struct stack_output *out = &L->s->outputs[n++];
		char *path = doc_path_key("outputs", k), *vp = doc_path_key(path, "value");
		json_t *d;

		out->name = xstrdup(k);
		out->pos = doc_pos(L->doc.pos, path, 1);
		if (!valid_name(k))
			lerr(L, path, 1, "invalid output name '%s': use letters, digits, '_' and '-', "
			     "starting with a letter", k);
		if (!json_is_object(o) || !json_object_get(o, "value")) {
			lerr(L, path, json_is_object(o), "output '%s' must be a map with a 'value'", k);
			out->value = json_null();
		} else {
			check_keys(L, o, path, "an output", keys);
			L->vars_only = 0;
			L->cur_deps = NULL;
			out->value = subst(L, json_object_get(o, "value"), vp);
			d = json_object_get(o, "description");
			if (d && !json_is_string(d)) {
				char *dp = doc_path_key(path, "description");

				lerr(L, dp, 0, "'description' must be a string");
				free(dp);
			}
			out->description = xstrdup(json_string_value(d));
			out->sensitive = json_is_true(bool_at(L, o, path, "sensitive"));
		}
		free(path);
		free(vp);
	}
	L->s->n_outputs = n;
}

/* "stack:" or "region:": a string that may use variables; owned result or NULL. */
static char *top_string(struct loader *L, const char *key)
{
	json_t *v = json_object_get(L->doc.root, key), *r, *lit;
	struct cairn_err err;
	char *out = NULL;
	size_t before = L->diags->n;

	if (!v)
		return NULL;
	if (!json_is_string(v)) {
		lerr(L, key, 0, "'%s' must be a string", key);
		return NULL;
	}
	L->vars_only = 1;
	L->cur_deps = NULL;
	r = subst(L, v, key);
	L->vars_only = 0;
	if (L->diags->n != before) {
		json_decref(r);
		return NULL;
	}
	/* The result is final text: read "$${" as "${" now. What is left is
	 * ${aws.region} without a region, which has no value here. */
	err_clear(&err);
	lit = expr_eval(r, load_lookup, L, &err);
	if (!lit)
		lerr(L, key, 0, "'%s': %s (no region is known yet)", key, err.msg);
	else if (json_is_string(lit))
		out = xstrdup(json_string_value(lit));
	else if (json_is_number(lit) || json_is_boolean(lit))
		out = json_dumps(lit, JSON_ENCODE_ANY);
	else if (!json_is_string(r))
		lerr(L, key, 0, "'%s' must be a string", key);
	json_decref(lit);
	json_decref(r);
	return out;
}

/* ---- the dependency graph ---- */

/* The resources as a graph: i -> w when i depends on w (owned). */
static struct graph *stack_graph(const struct stack *s)
{
	struct graph *g = graph_new(s->n_resources);
	size_t i, j;
	json_t *dep;

	for (i = 0; i < s->n_resources; i++)
		json_array_foreach(s->resources[i].deps, j, dep) {
			long w = stack_find(s, json_string_value(dep));

			if (w >= 0)
				graph_edge(g, i, (size_t)w);
		}
	return g;
}

struct named {
	const char *name;
	size_t index;
};

static int cmp_named(const void *a, const void *b)
{
	return strcmp(((const struct named *)a)->name, ((const struct named *)b)->name);
}

/* Each index's rank in name order (owned array). */
static size_t *name_ranks(const struct stack *s)
{
	size_t n = s->n_resources, i;
	struct named *by_name = xcalloc(n + 1, sizeof(*by_name));
	size_t *rank = xcalloc(n + 1, sizeof(size_t));

	for (i = 0; i < n; i++) {
		by_name[i].name = s->resources[i].name;
		by_name[i].index = i;
	}
	qsort(by_name, n, sizeof(*by_name), cmp_named);
	for (i = 0; i < n; i++)
		rank[by_name[i].index] = i;
	free(by_name);
	return rank;
}

/*
 * One diagnostic per dependency cycle (strongly connected component),
 * as its shortest cycle through the member with the smallest name,
 * printed "a -> b -> a" with each member's position.
 */
static void check_cycles(const struct stack *s, struct diags *d)
{
	size_t n = s->n_resources, i, k, len;
	struct graph *g = stack_graph(s);
	size_t *comp = xcalloc(n + 1, sizeof(size_t)), *rank = name_ranks(s);
	size_t *first, *path = xcalloc(n + 1, sizeof(size_t)), ncomp;

	ncomp = graph_scc(g, comp);
	first = xcalloc(ncomp + 1, sizeof(size_t));
	for (i = 0; i < ncomp; i++)
		first[i] = n;
	for (i = 0; i < n; i++)
		if (first[comp[i]] == n || rank[i] < rank[first[comp[i]]])
			first[comp[i]] = i;
	for (i = 0; i < n; i++) {
		struct strbuf names, where;

		if (first[comp[i]] != i || !graph_on_cycle(g, comp, i))
			continue;
		len = graph_cycle(g, comp, i, path);
		strbuf_init(&names);
		strbuf_init(&where);
		for (k = 0; k < len; k++) {
			const struct stack_resource *r = &s->resources[path[k]];

			strbuf_addf(&names, "%s -> ", r->name);
			strbuf_addf(&where, "%s%s at %s:%d:%d", k ? ", " : "", r->name,
				    s->file, r->pos.line, r->pos.col);
		}
		strbuf_adds(&names, s->resources[i].name);
		diags_add(d, s->file, s->resources[i].pos.line, s->resources[i].pos.col,
			  "dependency cycle: %s (%s)", names.buf, where.buf);
		strbuf_free(&names);
		strbuf_free(&where);
	}
	free(first);
	free(path);
	free(rank);
	free(comp);
	graph_free(g);
}

void stack_topo_order(const struct stack *s, size_t **order)
{
	struct graph *g = stack_graph(s);
	size_t *rank = name_ranks(s);

	*order = xcalloc(s->n_resources + 1, sizeof(size_t));
	/* acyclic after stack_load; on a hand-made cycle, name order breaks it */
	graph_order(g, rank, GRAPH_SUCC_FIRST, *order);
	free(rank);
	graph_free(g);
}

/* An address inside a DOT string: '"' and '\\' escaped. Owned. */
static char *dot_quote(const char *s)
{
	struct strbuf sb;

	strbuf_init(&sb);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			strbuf_addc(&sb, '\\');
		strbuf_addc(&sb, *s);
	}
	return strbuf_detach(&sb);
}

/* Length of the module instance part of an address ("module.svc[\"a\"]"
 * of module.svc["a"].tg), 0 at the root: up to its last '.' outside quotes. */
static size_t module_of(const char *addr)
{
	const char *p, *last = NULL;
	int quoted = 0;

	if (strncmp(addr, "module.", 7) != 0)
		return 0;
	for (p = addr; *p; p++) {
		if (*p == '\\' && quoted && p[1])
			p++;
		else if (*p == '"')
			quoted = !quoted;
		else if (*p == '.' && !quoted)
			last = p;
	}
	return last ? (size_t)(last - addr) : 0;
}

void stack_write_dot(const struct stack *s, FILE *f)
{
	size_t *order, k, i;
	json_t *dep, *clusters;

	stack_topo_order(s, &order);
	fprintf(f, "digraph cairn {\n\trankdir=RL;\n\tnode [shape=box];\n");
	for (k = 0; k < s->n_resources; k++) {
		const struct stack_resource *r = &s->resources[order[k]];
		char *q = dot_quote(r->name);

		if (module_of(r->name) == 0)
			fprintf(f, "\t\"%s\" [label=\"%s (%s)\"];\n", q, q, r->type);
		free(q);
	}
	/* A module instance's resources as one cluster, in order of appearance. */
	clusters = json_object();
	for (k = 0; k < s->n_resources; k++) {
		const struct stack_resource *r = &s->resources[order[k]];
		size_t m = module_of(r->name);
		char *mod, *q, *cq;

		if (!m)
			continue;
		mod = xstrndup(r->name, m);
		if (json_object_get(clusters, mod)) {
			free(mod);
			continue;
		}
		json_object_set_new(clusters, mod, json_true());
		cq = dot_quote(mod);
		fprintf(f, "\tsubgraph \"cluster_%s\" {\n\t\tlabel=\"%s\";\n", cq, cq);
		for (i = k; i < s->n_resources; i++) {
			const struct stack_resource *o = &s->resources[order[i]];

			if (module_of(o->name) != m || strncmp(o->name, mod, m) != 0)
				continue;
			char *own = dot_quote(o->name + m + 1);

			q = dot_quote(o->name);
			fprintf(f, "\t\t\"%s\" [label=\"%s (%s)\"];\n", q, own, o->type);
			free(q);
			free(own);
		}
		fprintf(f, "\t}\n");
		free(cq);
		free(mod);
	}
	json_decref(clusters);
	/* Edges point from a resource to what it depends on, as in terraform graph. */
	for (k = 0; k < s->n_resources; k++) {
		const struct stack_resource *r = &s->resources[order[k]];

		json_array_foreach(r->deps, i, dep) {
			char *a = dot_quote(r->name), *b = dot_quote(json_string_value(dep));

			fprintf(f, "\t\"%s\" -> \"%s\";\n", a, b);
			free(a);
			free(b);
		}
	}
	fprintf(f, "}\n");
	free(order);
}

static void resource_free(struct stack_resource *r);

/* Adds an empty resource to s; the pointer holds until the next add. */
static struct stack_resource *add_resource(struct stack *s)
{
	if (s->n_resources == s->cap_resources) {
		s->cap_resources = s->cap_resources ? 2 * s->cap_resources : 16;
		s->resources = xrealloc(s->resources, s->cap_resources * sizeof(*s->resources));
	}
	memset(&s->resources[s->n_resources], 0, sizeof(*s->resources));
	return &s->resources[s->n_resources++];
}

/* Every instance of every resource of L's file, appended to the stack. */
static void load_resources(struct loader *L)
{
	const char *k;
	json_t *decl;

	/* jansson keeps insertion order, which is file order */
	json_object_foreach(L->res, k, decl) {
		json_t *in = json_object_get(L->inst, k), *ikeys, *key;
		size_t j;

		if (!in) {
			char *addr = xasprintf("%s%s", L->prefix, k);

			load_resource(L, k, addr, decl, add_resource(L->s));
			free(addr);
			continue;
		}
		ikeys = json_object_get(in, "keys");
		json_array_foreach(ikeys, j, key) {
			const char *addr = json_string_value(json_array_get(json_object_get(in, "addrs"), j));
			struct stack_resource *r;

			if (json_object_get(in, "count")) {
				L->count_index = key;
			} else {
				L->each = json_pack("{s:O, s:O}", "key", key, "value",
						    json_array_get(json_object_get(in, "values"), j));
			}
			r = add_resource(L->s);
			load_resource(L, k, addr, decl, r);
			r->key = json_incref(key);
			L->count_index = NULL;
			json_decref(L->each);
			L->each = NULL;
		}
		if (json_array_size(ikeys) == 0) {
			/* No instance: its configuration is still checked, with
			 * count.index and each unknown. */
			struct stack_resource probe = {0};
			json_t *unknown = value_unknown();

			if (json_object_get(in, "count"))
				L->count_index = unknown;
			else
				L->each = json_pack("{s:O, s:O}", "key", unknown, "value", unknown);
			load_resource(L, k, k, decl, &probe);
			resource_free(&probe);
			json_decref(unknown);
			json_decref(L->each);
			L->each = NULL;
			L->count_index = NULL;
		}
	}
}

/* The "modules" map of L's file (borrowed), or NULL. */
static json_t *module_map(struct loader *L)
{
	json_t *m = json_object_get(L->doc.root, "modules");

	if (m && !json_is_object(m)) {
		lerr(L, "modules", 0, "'modules' must be a map of NAME: {source, inputs}");
		return NULL;
	}
	return m;
}

static void loader_init(struct loader *L, const char *file, const struct stack_opts *opts,
			struct diags *diags, struct stack *s)
{
	char *real = realpath(file, NULL);

	L->file = file;
	L->opts = opts;
	L->diags = diags;
	L->s = s;
	L->prefix = "";
	L->inst = json_object();
	L->minst = json_object();
	L->mouts = json_object();
	L->var_res = json_object();
	L->unset = json_object();
	L->local_vals = json_object();
	L->local_deps = json_object();
	L->local_busy = json_object();
	L->data_state = json_object();
	L->realfile = real ? real : xstrdup(file);
	L->basedir = xstrdup(file);
	if (strrchr(L->basedir, '/'))
		*strrchr(L->basedir, '/') = '\0';
	else
		strcpy(L->basedir, ".");
}

/* Appends " (in module NAME called at FILE:LINE:COL)" to the diagnostics
 * from index from on that are inside the module's files: the chain of
 * calls builds up outwards. */
static void diags_in_module(struct diags *d, size_t from, const char *name, const char *file,
			    struct srcpos at)
{
	size_t i;

	for (i = from; i < d->n; i++) {
		char *m;

		if (!strcmp(d->v[i].file, file))
			continue;       /* the call itself: already in the caller's file */
		m = xasprintf("%s (in module '%s' called at %s:%d:%d)", d->v[i].msg, name,
				    file, at.line, at.col);

		free(d->v[i].msg);
		d->v[i].msg = m;
	}
}

/* Inputs of a module instance C, substituted in the caller P's context. */
static void load_inputs(struct loader *C, struct loader *P, const char *name, json_t *inputs,
			const char *ipath, struct srcpos call)
{
	const char *k;
	json_t *v, *d;

	C->decls = json_object_get(C->doc.root, "variables");
	if (C->decls && !json_is_object(C->decls)) {
		lerr(C, "variables", 0, "'variables' must be a map of variable declarations");
		C->decls = NULL;
	}
	json_object_foreach(C->decls, k, d) {
		char *dp = doc_path_key("variables", k), *vp = doc_path_key(dp, "default");

		if (json_is_object(d) && json_object_get(d, "default"))
			var_set(C, k, json_object_get(d, "default"), 0, C->file,
				doc_pos(C->doc.pos, vp, 0), "default");
		free(dp);
		free(vp);
	}
	json_object_foreach(inputs, k, v) {
		char *p = doc_path_key(ipath, k);
		json_t *deps = json_object(), *saved = P->cur_deps, *r;
		int saved_vo = P->vars_only;

		if (!json_object_get(C->decls, k)) {
			char *h = hint(k, C->decls);

			lerr(P, p, 1, "module '%s' has no input '%s' (its variables are its inputs)%s",
			     name, k, h);
			free(h);
			free(p);
			json_decref(deps);
			continue;
		}
		P->cur_deps = deps;
		P->vars_only = 0;
		r = subst(P, v, p);
		P->cur_deps = saved;
		P->vars_only = saved_vo;
		if (has_ref(r)) {
			json_object_set_new(C->var_res, k, json_pack("{s:O, s:O}", "value", r, "deps", deps));
		} else {
			struct cairn_err err;
			json_t *lit;

			err_clear(&err);
			lit = expr_eval(r, NULL, NULL, &err);
			if (lit)
				var_set(C, k, lit, 0, P->file, doc_pos(P->doc.pos, p, 0), "input");
			json_decref(lit);
		}
		json_decref(r);
		json_decref(deps);
		free(p);
	}
	json_object_foreach(C->decls, k, d)
		if (!json_object_get(C->vars, k) && !json_object_get(C->var_res, k) &&
		    !json_object_get(C->unset, k)) {
			diags_add(P->diags, P->file, call.line, call.col,
				  "module '%s' needs input '%s' (declared without a default in %s)",
				  name, k, C->file);
			json_object_set_new(C->unset, k, json_true());
		}
}

static void loader_free(struct loader *L);

/* One instance of module name (prefix: its address and a dot). */
static void load_module_instance(struct loader *P, const char *name, json_t *decl,
				 const char *file, const char *addr)
{
	static const char *const keys[] = {"description", "variables", "locals", "resources",
					   "outputs", "modules", NULL};
	char *path = doc_path_key("modules", name), *ipath = doc_path_key(path, "inputs");
	char *prefix = xasprintf("%s.", addr);
	struct srcpos call = doc_pos(P->doc.pos, path, 1);
	struct loader C = {0};
	json_t *outs, *o, *result, *inputs = json_object_get(decl, "inputs");
	size_t before = P->diags->n;
	const char *k;

	loader_init(&C, file, P->opts, P->diags, P->s);
	C.prefix = prefix;
	C.parent = P;
	C.depth = P->depth + 1;
	C.vars = json_object();
	result = json_pack("{s:{}, s:{}}", "outputs", "deps");
	if (doc_load(file, &C.doc, P->diags) < 0)
		goto out;
	if (!json_is_object(C.doc.root)) {
		diags_add(P->diags, file, 1, 1, "a module file must be a map with 'resources'");
		goto out;
	}
	if (json_object_get(C.doc.root, "stack") || json_object_get(C.doc.root, "region"))
		lerr(&C, json_object_get(C.doc.root, "stack") ? "stack" : "region", 1,
		     "a module file has no '%s': the calling stack's applies",
		     json_object_get(C.doc.root, "stack") ? "stack" : "region");
	else
		check_keys(&C, C.doc.root, "", "a module file", keys);
	if (inputs && !json_is_object(inputs)) {
		lerr(P, ipath, 0, "'inputs' must be a map of NAME: value");
		inputs = NULL;
	}
	load_inputs(&C, P, name, inputs, ipath, call);
	C.locals = json_object_get(C.doc.root, "locals");
	if (C.locals && !json_is_object(C.locals))
		C.locals = NULL;
	C.res = json_object_get(C.doc.root, "resources");
	if (C.res && !json_is_object(C.res)) {
		lerr(&C, "resources", 0, "'resources' must be a map of NAME: {type, properties}");
		C.res = NULL;
	}
	json_object_foreach(C.res, k, o)
		expand_instances(&C, "resources", C.inst, k, o);
	C.mods = module_map(&C);
	json_object_foreach(C.mods, k, o)
		expand_instances(&C, "modules", C.minst, k, o);
	json_object_foreach(C.mods, k, o)
		if (!json_object_get(C.mouts, k))
			load_module(&C, k);
	load_resources(&C);
	outs = json_object_get(C.doc.root, "outputs");
	json_object_foreach(outs, k, o) {
		char *op = doc_path_key("outputs", k), *vp = doc_path_key(op, "value");
		json_t *deps = json_object(), *v;

		if (!json_is_object(o) || !json_object_get(o, "value")) {
			lerr(&C, op, 1, "output '%s' must be a map with a 'value'", k);
		} else {
			C.cur_deps = deps;
			v = subst(&C, json_object_get(o, "value"), vp);
			C.cur_deps = NULL;
			json_object_set_new(json_object_get(result, "outputs"), k, v);
			json_object_set(json_object_get(result, "deps"), k, deps);
		}
		json_decref(deps);
		free(op);
		free(vp);
	}
	json_object_foreach(C.locals, k, o)
		if (!json_object_get(C.local_deps, k))
			eval_local(&C, k);
out:
	json_object_set(json_object_get(P->mouts, name), addr, result);
	json_decref(result);
	diags_in_module(P->diags, before, name, P->file, call);
	doc_free(&C.doc);
	json_decref(C.vars);
	loader_free(&C);
	free(prefix);
	free(path);
	free(ipath);
}

/* Module name of P's file: every instance, each a loader of its own. */
static void load_module(struct loader *P, const char *name)
{
	static const char *const keys[] = {"source", "inputs", "count", "for_each", NULL};
	json_t *decl = json_object_get(P->mods, name), *in, *key;
	char *path = doc_path_key("modules", name), *sp = doc_path_key(path, "source");
	char *file = NULL, *real = NULL;
	const char *src;
	struct loader *a;
	size_t j;

	json_object_set_new(P->mouts, name, json_object());
	if (!valid_name(name))
		lerr(P, path, 1, "invalid module name '%s': use letters, digits, '_' and '-', "
		     "starting with a letter", name);
	if (!json_is_object(decl)) {
		lerr(P, path, 0, "module '%s' must be a map with 'source' and 'inputs'", name);
		goto out;
	}
	check_keys(P, decl, path, "a module call", keys);
	src = json_string_value(json_object_get(decl, "source"));
	if (!src) {
		lerr(P, path, 1, "module '%s' has no 'source' (the path of its file)", name);
		goto out;
	}
	file = src[0] == '/' || !strcmp(P->basedir, ".") ? xstrdup(src) :
	       xasprintf("%s/%s", P->basedir, strncmp(src, "./", 2) ? src : src + 2);
	real = realpath(file, NULL);
	if (!real) {
		lerr(P, sp, 0, "module '%s': no file '%s'", name, src);
		goto out;
	}
	for (a = P; a; a = a->parent)
		if (!strcmp(a->realfile, real)) {
			lerr(P, sp, 0, "module '%s': source '%s' includes itself", name, src);
			goto out;
		}
	if (P->depth + 1 > 16) {
		lerr(P, sp, 0, "module '%s': modules nest more than 16 deep", name);
		goto out;
	}
	in = json_object_get(P->minst, name);
	if (!in) {
		char *addr = xasprintf("%smodule.%s", P->prefix, name);

		load_module_instance(P, name, decl, file, addr);
		free(addr);
		goto out;
	}
	json_array_foreach(json_object_get(in, "keys"), j, key) {
		if (json_object_get(in, "count"))
			P->count_index = key;
		else
			P->each = json_pack("{s:O, s:O}", "key", key, "value",
					    json_array_get(json_object_get(in, "values"), j));
		load_module_instance(P, name, decl, file,
				     json_string_value(json_array_get(json_object_get(in, "addrs"), j)));
		P->count_index = NULL;
		json_decref(P->each);
		P->each = NULL;
	}
out:
	free(real);
	free(file);
	free(path);
	free(sp);
}

static void loader_free(struct loader *L)
{
	json_decref(L->unset);
	json_decref(L->local_vals);
	json_decref(L->local_deps);
	json_decref(L->local_busy);
	json_decref(L->data_state);
	json_decref(L->inst);
	json_decref(L->minst);
	json_decref(L->mouts);
	json_decref(L->var_res);
	free(L->realfile);
	free(L->basedir);
}

struct stack *stack_load(const char *path, const struct stack_opts *opts, struct diags *diags)
{
	static const char *const keys[] = {"stack", "region", "description", "variables",
					   "locals", "data", "resources", "outputs", "moved", "modules",
					   NULL};
	struct loader L = {0};
	struct stack *s = xcalloc(1, sizeof(*s));
	size_t before = diags->n, i = 0;
	const char *k;
	json_t *decl;

	loader_init(&L, path, opts, diags, s);
	s->file = xstrdup(path);
	s->vars = json_object();
	L.vars = s->vars;
	if (doc_load(path, &L.doc, diags) < 0)
		goto fail;
	if (!json_is_object(L.doc.root)) {
		diags_add(diags, path, 1, 1, "a stack file must be a map with 'stack' and 'resources'");
		goto fail;
	}
	check_keys(&L, L.doc.root, "", "the stack file", keys);
	load_vars(&L);
	L.locals = json_object_get(L.doc.root, "locals");
	if (L.locals && !json_is_object(L.locals)) {
		lerr(&L, "locals", 0, "'locals' must be a map of NAME: value");
		L.locals = NULL;
	}
	L.datamap = json_object_get(L.doc.root, "data");
	if (L.datamap && !json_is_object(L.datamap)) {
		lerr(&L, "data", 0, "'data' must be a map of NAME: {type, properties}");
		L.datamap = NULL;
	}
	if (!json_object_get(L.doc.root, "stack"))
		diags_add(diags, path, 1, 1, "missing 'stack:' (the name the state is kept under)");
	s->region = top_string(&L, "region");
	s->name = top_string(&L, "stack");
	if (json_object_get(L.doc.root, "stack") && s->name && !*s->name)
		lerr(&L, "stack", 0, "'stack' must not be empty");
	L.res = json_object_get(L.doc.root, "resources");
	if (L.res && !json_is_object(L.res)) {
		lerr(&L, "resources", 0, "'resources' must be a map of NAME: {type, properties}");
		L.res = NULL;
	}
	/* Data sources first (count and for_each may use them), then
	 * instances, so that references to any of them can be checked;
	 * modules before resources, which may use their outputs. */
	load_data(&L);
	json_object_foreach(L.res, k, decl)
		expand_instances(&L, "resources", L.inst, k, decl);
	L.mods = module_map(&L);
	json_object_foreach(L.mods, k, decl)
		expand_instances(&L, "modules", L.minst, k, decl);
	json_object_foreach(L.mods, k, decl)
		if (!json_object_get(L.mouts, k))
			load_module(&L, k);
	load_resources(&L);
	i = s->n_resources;
	s->n_resources = i;
	s->by_name = json_object();
	for (i = 0; i < s->n_resources; i++)
		json_object_set_new(s->by_name, s->resources[i].name, json_integer((json_int_t)i));
	load_outputs(&L, json_object_get(L.doc.root, "outputs"));
	load_moves(&L, json_object_get(L.doc.root, "moved"));
	/* Locals nothing uses are still checked. */
	json_object_foreach(L.locals, k, decl) {
		char *lp = doc_path_key("locals", k);

		if (!valid_name(k))
			lerr(&L, lp, 1, "invalid local name '%s': use letters, digits, '_' and '-', "
			     "starting with a letter", k);
		else if (!json_object_get(L.local_deps, k))
			eval_local(&L, k);
		free(lp);
	}
	diags_dedup(diags, before);
	check_cycles(s, diags);
	if (diags->n != before)
		goto fail;
	s->posmap = L.doc.pos;
	L.doc.pos = NULL;
	doc_free(&L.doc);
	loader_free(&L);
	return s;
fail:
	doc_free(&L.doc);
	loader_free(&L);
	stack_free(s);
	return NULL;
}

static void resource_free(struct stack_resource *r)
{
	free(r->name);
	free(r->base);
	json_decref(r->key);
	free(r->type);
	json_decref(r->properties);
	json_decref(r->depends_on);
	json_decref(r->deps);
	json_decref(r->ignore_changes);
}

void stack_free(struct stack *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->n_resources; i++)
		resource_free(&s->resources[i]);
	free(s->resources);
	for (i = 0; i < s->n_outputs; i++) {
		free(s->outputs[i].name);
		json_decref(s->outputs[i].value);
		free(s->outputs[i].description);
	}
	free(s->outputs);
	for (i = 0; i < s->n_data; i++) {
		free(s->data[i].name);
		free(s->data[i].type);
		json_decref(s->data[i].properties);
		json_decref(s->data[i].deps);
	}
	free(s->data);
	json_decref(s->data_read);
	free(s->file);
	free(s->name);
	free(s->region);
	json_decref(s->vars);
	json_decref(s->moves);
	json_decref(s->posmap);
	json_decref(s->by_name);
	free(s);
}

const char *stack_default_file(void)
{
	static const char *const names[] = {"stack.yaml", "stack.yml", "stack.json"};
	size_t i;

	for (i = 0; i < 3; i++)
		if (access(names[i], F_OK) == 0)
			return names[i];
	return NULL;
}

long stack_find(const struct stack *s, const char *name)
{
	size_t i;

	if (name && s->by_name) {
		json_t *v = json_object_get(s->by_name, name);

		return v ? (long)json_integer_value(v) : -1;
	}
	for (i = 0; name && i < s->n_resources; i++)
		if (strcmp(s->resources[i].name, name) == 0)
			return (long)i;
	return -1;
}

struct srcpos stack_pos(const struct stack *s, const char *path, int key)
{
	return doc_pos(s->posmap, path, key);
}
