/*
 * planfile: saved plans (`cairn plan --out FILE`, `cairn apply FILE`).
 *
 * The file is the plan as JSON, complete enough for the executor to work
 * without the stack: every change with its configuration as written, the
 * variables, the outputs, and the state serial and lineage the plan was
 * made against (so a stale plan can be refused). Sensitive attribute
 * values are replaced by "(sensitive)" in before/after (the executor
 * evaluates the configuration again, so it never needs them). What the
 * executor does need — the variables and the configuration of sensitive
 * attributes — is sealed with AES-256-GCM under the stack's plan key, which
 * lives in the state (a saved plan only applies against that state anyway),
 * so no secret is in the file in clear. The file is mode 0600 all the same.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../lib/seal.h"
#include "plan.h"
#include "schema.h"
#include "value.h"

#define PLAN_KIND "cairn-plan"
#define PLAN_FORMAT "1"
#define SENSITIVE "(sensitive)"

/* The value sealed in v (new ref), or NULL with err (wrong key, tampering). */
static json_t *unseal(const json_t *v, const unsigned char *key, struct cairn_err *err)
{
	json_t *out = seal_open_json(v, key);

	if (!out)
		err_set(err, CAIRN_ESTALE, "cannot unseal the saved plan's secrets: it was not "
			"made against this state (or the file was altered)");
	return out;
}

/* The configuration with every sensitive attribute's value sealed (new ref). */
static json_t *sealed_config(const char *type, json_t *config, const unsigned char *key)
{
	const json_t *schema = schema_get(type);
	const char *k;
	json_t *out, *v;

	if (!json_is_object(config))
		return config ? json_deep_copy(config) : json_null();
	out = json_object();
	json_object_foreach(config, k, v) {
		const json_t *spec = schema ? schema_attr(schema, k) : NULL;

		if (spec && schema_is_sensitive(spec))
			json_object_set_new(out, k, seal_json(v, key));
		else
			json_object_set(out, k, v);
	}
	return out;
}

/* A shallow copy of attrs with the sensitive values masked (unknown markers kept). */
static json_t *masked(const char *type, const json_t *attrs)
{
	const json_t *schema = schema_get(type);
	const char *k;
	json_t *out, *v;

	if (!attrs)
		return json_null();
	out = json_object();
	json_object_foreach((json_t *)attrs, k, v) {
		const json_t *spec = schema ? schema_attr(schema, k) : NULL;

		if (spec && schema_is_sensitive(spec) && !json_is_null(v) && !value_is_unknown(v))
			json_object_set_new(out, k, json_string(SENSITIVE));
		else
			json_object_set(out, k, v);
	}
	return out;
}

static json_t *plan_file_json(const struct plan *p, const unsigned char *key)
{
	json_t *doc, *changes = json_array(), *drift = json_array(), *outputs = json_object();
	const char *k;
	json_t *d, *o;
	size_t i;

	for (i = 0; i < p->n_changes; i++) {
		const struct plan_change *c = &p->changes[i];

		json_array_append_new(changes, json_pack(
			"{s:s, s:s, s:s, s:s?, s:o, s:o, s:o, s:o, s:o, s:o, s:b, s:b, s:i, s:s?, s:s?}",
			"name", c->name, "type", c->type, "action", plan_action_name(c->action),
			"id", c->id, "before", masked(c->type, c->before),
			"after", masked(c->type, c->after),
			"config", sealed_config(c->type, c->config, key),
			"changed", c->changed ? json_deep_copy(c->changed) : json_array(),
			"replace_because",
			c->replace_because ? json_deep_copy(c->replace_because) : json_array(),
			"deps", c->deps ? json_deep_copy(c->deps) : json_array(),
			"create_before_destroy", c->create_before_destroy,
			"prevent_destroy", c->prevent_destroy, "schema_version", c->schema_version,
			"note", c->note, "moved_from", c->moved_from));
	}
	json_array_foreach(p->drift, i, d) {
		const char *type = json_string_value(json_object_get(d, "type"));

		json_array_append_new(drift, json_pack(
			"{s:O, s:O, s:o, s:o}", "name", json_object_get(d, "name"),
			"type", json_object_get(d, "type"),
			"before", masked(type, json_object_get(d, "before")),
			"after", masked(type, json_object_get(d, "after"))));
	}
	json_object_foreach(p->outputs, k, o) {
		json_t *copy = json_deep_copy(o);

		if (json_is_true(json_object_get(o, "sensitive")) &&
		    json_object_get(o, "planned") &&
		    !value_has_unknown(json_object_get(o, "planned")))
			json_object_set_new(copy, "planned", json_string(SENSITIVE));
		json_object_set_new(outputs, k, copy);
	}
	doc = json_pack("{s:s, s:s, s:s, s:s?, s:s, s:I, s:o, s:o, s:o, s:o}",
			"kind", PLAN_KIND, "format_version", PLAN_FORMAT,
			"stack", p->stack, "region", p->region,
			"lineage", p->lineage ? p->lineage : "", "serial", (json_int_t)p->serial,
			"changes", changes, "drift", drift, "outputs", outputs,
			"vars", seal_json(p->vars ? p->vars : json_object(), key));
	/* Data sources: values sealed whole (an SSM parameter's is sensitive). */
	if (p->data && json_object_size(p->data)) {
		json_object_set_new(doc, "data", seal_json(p->data, key));
		json_object_set(doc, "data_types", p->data_types);
	}
	return doc;
}

int plan_save(const struct plan *p, const char *path, const unsigned char *key,
	      struct cairn_err *err)
{
	json_t *doc = plan_file_json(p, key);
	char *text = json_dumps(doc, JSON_INDENT(1));
	size_t len = strlen(text), off = 0;
	int fd, rc = -1;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		err_set(err, CAIRN_EIO, "cannot write plan file '%s': %s", path, strerror(errno));
		goto out;
	}
	/* An existing file keeps its mode through O_TRUNC: make it private. */
	if (fchmod(fd, 0600) < 0) {
		err_set(err, CAIRN_EIO, "cannot write plan file '%s': %s", path, strerror(errno));
		goto out;
	}
	while (off < len) {
		ssize_t n = write(fd, text + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err_set(err, CAIRN_EIO, "cannot write plan file '%s': %s", path,
				strerror(errno));
			goto out;
		}
		off += (size_t)n;
	}
	if (write(fd, "\n", 1) != 1 || fsync(fd) < 0) {
		err_set(err, CAIRN_EIO, "cannot write plan file '%s': %s", path, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (fd >= 0 && close(fd) < 0 && rc == 0) {
		err_set(err, CAIRN_EIO, "cannot write plan file '%s': %s", path, strerror(errno));
		rc = -1;
	}
	free(text);
	json_decref(doc);
	return rc;
}

/* ---- loading ---- */

static int bad(struct cairn_err *err, const char *path, const char *what, size_t i)
{
	if (i == (size_t)-1)
		err_set(err, CAIRN_EINVAL, "invalid plan file '%s': %s", path, what);
	else
		err_set(err, CAIRN_EINVAL, "invalid plan file '%s': changes[%zu]: %s", path, i,
			what);
	return -1;
}

static int parse_action(const char *s, enum plan_action *a)
{
	static const enum plan_action all[] = {PLAN_NOOP, PLAN_CREATE, PLAN_UPDATE,
					       PLAN_REPLACE, PLAN_DELETE};
	size_t i;

	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		if (strcmp(plan_action_name(all[i]), s) == 0) {
			*a = all[i];
			return 0;
		}
	}
	return -1;
}

static int str_array(const json_t *v)
{
	size_t i;
	json_t *e;

	if (!json_is_array(v))
		return 0;
	json_array_foreach(v, i, e)
		if (!json_is_string(e))
			return 0;
	return 1;
}

static json_t *object_or_null(json_t *v)
{
	return json_is_object(v) ? json_incref(v) : NULL;
}

static int load_change(json_t *j, struct plan_change *c, const char *path, size_t i,
		       struct cairn_err *err)
{
	json_t *name = json_object_get(j, "name"), *type = json_object_get(j, "type");
	json_t *action = json_object_get(j, "action"), *id = json_object_get(j, "id");
	json_t *note = json_object_get(j, "note");

	if (!json_is_object(j))
		return bad(err, path, "not an object", i);
	if (!json_is_string(name) || !json_is_string(type))
		return bad(err, path, "missing name or type", i);
	if (!json_is_string(action) || parse_action(json_string_value(action), &c->action) < 0)
		return bad(err, path, "missing or unknown action", i);
	if (id && !json_is_null(id) && !json_is_string(id))
		return bad(err, path, "id is not a string", i);
	if (!str_array(json_object_get(j, "changed")) ||
	    !str_array(json_object_get(j, "replace_because")) ||
	    !str_array(json_object_get(j, "deps")))
		return bad(err, path, "changed, replace_because and deps must be lists of names", i);
	if (c->action != PLAN_DELETE && !json_is_object(json_object_get(j, "config")))
		return bad(err, path, "no config for a resource to create or change", i);
	if (c->action != PLAN_CREATE && c->action != PLAN_DELETE &&
	    !json_is_object(json_object_get(j, "before")))
		return bad(err, path, "no before attributes", i);
	if (c->action != PLAN_CREATE && !json_is_string(id))
		return bad(err, path, "no id for an existing resource", i);
	if (!schema_get(json_string_value(type)))
		return bad(err, path, "unknown resource type", i);
	c->name = xstrdup(json_string_value(name));
	c->type = xstrdup(json_string_value(type));
	c->id = json_is_string(id) ? xstrdup(json_string_value(id)) : NULL;
	c->before = object_or_null(json_object_get(j, "before"));
	c->after = object_or_null(json_object_get(j, "after"));
	c->config = object_or_null(json_object_get(j, "config"));
	c->changed = json_incref(json_object_get(j, "changed"));
	c->replace_because = json_incref(json_object_get(j, "replace_because"));
	c->deps = json_incref(json_object_get(j, "deps"));
	c->create_before_destroy = json_is_true(json_object_get(j, "create_before_destroy"));
	c->prevent_destroy = json_is_true(json_object_get(j, "prevent_destroy"));
	c->schema_version = (int)json_integer_value(json_object_get(j, "schema_version"));
	c->note = json_is_string(note) ? xstrdup(json_string_value(note)) : NULL;
	if (json_is_string(json_object_get(j, "moved_from")))
		c->moved_from = xstrdup(json_string_value(json_object_get(j, "moved_from")));
	return 0;
}

struct plan *plan_load(const char *path, struct cairn_err *err)
{
	json_error_t jerr;
	json_t *doc, *changes, *region, *c;
	struct plan *p = NULL;
	size_t i;

	doc = json_load_file(path, 0, &jerr);
	if (!doc) {
		if (jerr.line <= 0)
			err_set(err, CAIRN_EIO, "cannot read plan file '%s': %s", path, jerr.text);
		else
			err_set(err, CAIRN_EINVAL, "invalid plan file '%s': line %d: %s", path,
				jerr.line, jerr.text);
		return NULL;
	}
	if (!json_is_object(doc) ||
	    !json_is_string(json_object_get(doc, "kind")) ||
	    strcmp(json_string_value(json_object_get(doc, "kind")), PLAN_KIND) != 0) {
		bad(err, path, "not a cairn plan", (size_t)-1);
		goto fail;
	}
	if (!json_is_string(json_object_get(doc, "format_version")) ||
	    strcmp(json_string_value(json_object_get(doc, "format_version")), PLAN_FORMAT) != 0) {
		bad(err, path, "written by another version of cairn (format_version is not \""
		    PLAN_FORMAT "\")", (size_t)-1);
		goto fail;
	}
	changes = json_object_get(doc, "changes");
	region = json_object_get(doc, "region");
	if (!json_is_string(json_object_get(doc, "stack")) ||
	    !json_is_integer(json_object_get(doc, "serial")) ||
	    !json_is_string(json_object_get(doc, "lineage")) ||
	    !json_is_array(changes) || !json_is_array(json_object_get(doc, "drift")) ||
	    !json_is_object(json_object_get(doc, "outputs")) ||
	    !seal_is_sealed(json_object_get(doc, "vars")) ||
	    (region && !json_is_null(region) && !json_is_string(region))) {
		bad(err, path, "missing or mistyped stack, serial, lineage, changes, drift, "
		    "outputs or vars", (size_t)-1);
		goto fail;
	}
	p = xcalloc(1, sizeof(*p));
	p->stack = xstrdup(json_string_value(json_object_get(doc, "stack")));
	p->region = json_is_string(region) ? xstrdup(json_string_value(region)) : NULL;
	p->lineage = xstrdup(json_string_value(json_object_get(doc, "lineage")));
	p->serial = json_integer_value(json_object_get(doc, "serial"));
	p->drift = json_incref(json_object_get(doc, "drift"));
	p->outputs = json_incref(json_object_get(doc, "outputs"));
	p->vars = json_incref(json_object_get(doc, "vars"));
	p->data = json_incref(json_object_get(doc, "data"));
	p->data_types = json_is_object(json_object_get(doc, "data_types")) ?
		json_incref(json_object_get(doc, "data_types")) : json_object();
	if (!p->data)
		p->data = json_object();
	p->changes = xcalloc(json_array_size(changes) + 1, sizeof(*p->changes));
	json_array_foreach(changes, i, c) {
		if (load_change(c, &p->changes[i], path, i, err) < 0) {
			/* The failed entry may be partly filled: count it for plan_free. */
			p->n_changes = i + 1;
			goto fail;
		}
		p->n_changes = i + 1;
	}
	json_decref(doc);
	return p;
fail:
	plan_free(p);
	json_decref(doc);
	return NULL;
}

int plan_unseal(struct plan *p, const unsigned char *key, struct cairn_err *err)
{
	const char *k;
	json_t *vars, *v;
	size_t i;

	if (seal_is_sealed(p->vars)) {
		vars = unseal(p->vars, key, err);
		if (!vars)
			return -1;
		json_decref(p->vars);
		p->vars = vars;
	}
	if (seal_is_sealed(p->data)) {
		json_t *data = unseal(p->data, key, err);

		if (!data)
			return -1;
		json_decref(p->data);
		p->data = data;
	}
	for (i = 0; i < p->n_changes; i++) {
		json_t *config = p->changes[i].config;

		if (!json_is_object(config))
			continue;
		json_object_foreach(config, k, v) {
			json_t *plain;

			if (!seal_is_sealed(v))
				continue;
			plain = unseal(v, key, err);
			if (!plain)
				return -1;
			json_object_set_new(config, k, plain);
		}
	}
	return 0;
}
