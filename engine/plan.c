/*
 * plan: building the plan (see plan.h). The refresh reads what exists,
 * then every stack resource is evaluated in dependency order against what
 * its dependencies will look like after the apply (known attributes, or
 * unknown markers for what AWS decides), and compared with what exists.
 *
 * Order of plan->changes: the stack's resources in dependency order (ties
 * by name, stack_topo_order), then the deletions in reverse dependency
 * order of the recorded dependencies (ties by name), so that every list
 * reads in the order the executor may carry it out. Drift is listed by
 * resource name.
 */
#include <stdlib.h>
#include <string.h>

#include "plan.h"
#include "eval.h"
#include "expr.h"
#include "graph.h"
#include "provider.h"
#include "refresh.h"
#include "schema.h"
#include "stack.h"
#include "value.h"
#include "../state/state.h"

const char *plan_action_name(enum plan_action a)
{
	switch (a) {
	case PLAN_NOOP: return "noop";
	case PLAN_CREATE: return "create";
	case PLAN_UPDATE: return "update";
	case PLAN_REPLACE: return "replace";
	case PLAN_DELETE: return "delete";
	}
	return "noop";
}

static void change_free(struct plan_change *c)
{
	free(c->name);
	free(c->type);
	free(c->id);
	json_decref(c->before);
	json_decref(c->after);
	json_decref(c->config);
	json_decref(c->changed);
	json_decref(c->replace_because);
	json_decref(c->deps);
	free(c->note);
	free(c->moved_from);
}

void plan_free(struct plan *p)
{
	size_t i;

	if (!p)
		return;
	for (i = 0; i < p->n_changes; i++)
		change_free(&p->changes[i]);
	free(p->changes);
	free(p->stack);
	free(p->region);
	free(p->lineage);
	json_decref(p->drift);
	json_decref(p->outputs);
	json_decref(p->vars);
	json_decref(p->data);
	json_decref(p->data_types);
	free(p);
}

void plan_summarize(const struct plan *p, struct plan_summary *s)
{
	size_t i;

	memset(s, 0, sizeof(*s));
	for (i = 0; i < p->n_changes; i++) {
		switch (p->changes[i].action) {
		case PLAN_NOOP: s->noop++; break;
		case PLAN_CREATE: s->create++; break;
		case PLAN_UPDATE: s->update++; break;
		case PLAN_REPLACE: s->replace++; break;
		case PLAN_DELETE: s->delete++; break;
		}
	}
}

int plan_has_changes(const struct plan *p)
{
	size_t i;

	for (i = 0; i < p->n_changes; i++)
		if (p->changes[i].action != PLAN_NOOP || p->changes[i].moved_from)
			return 1;
	return 0;
}

/* The work of one plan_build. */
struct planner {
	const struct stack *stack;
	const struct plan_opts *opts;
	const struct resource_ops *(*lookup)(const char *type);
	struct aws_client *aws;
	struct state_resource *rec;     /* recorded resources, sorted by name */
	size_t n_rec;
	json_t *rec_index;              /* name -> index into rec */
	json_t *stack_index;            /* name -> index into stack->resources */
	json_t *refreshed;              /* name -> attributes as they exist now (absent: gone) */
	json_t *known;                  /* name -> planned attributes, for references */
	json_t *change_index;           /* name -> index into p->changes */
	json_t *targets;                /* name -> true; NULL: everything */
	char *account;                  /* recorded account id, or NULL; owned */
	struct eval_ctx ectx;
	struct plan *p;
	size_t cap;
};

/*
 * Reads every data source, in the stack's order (each after those it
 * uses), into p->data: the arguments are evaluated with the variables,
 * locals and data sources read so far, and must be known.
 */
static int read_data(struct planner *pl, struct cairn_err *err)
{
	const struct stack *stack = pl->stack;
	size_t i;

	if (stack->data_read) {
		/* read while the stack was loaded (stack_opts.read_data) */
		json_object_update(pl->p->data, stack->data_read);
		for (i = 0; i < stack->n_data; i++)
			json_object_set_new(pl->p->data_types, stack->data[i].name,
					    json_string(stack->data[i].type));
		return 0;
	}
	for (i = 0; i < stack->n_data; i++) {
		const struct stack_data *d = &stack->data[i];
		const struct data_ops *ops = pl->opts->data_lookup ? pl->opts->data_lookup(d->type) : NULL;
		struct provider_ctx ctx = {0};
		char *addr = xasprintf("data.%s", d->name);
		json_t *args, *out = NULL;
		int rc;

		if (!ops) {
			err_set(err, CAIRN_EINVAL, "%s: data source type '%s' cannot be read here",
				addr, d->type);
			free(addr);
			return -1;
		}
		args = eval_value(&pl->ectx, d->properties, err);
		if (!args) {
			err_prefix(err, "%s", addr);
			free(addr);
			return -1;
		}
		if (value_has_unknown(args)) {
			err_set(err, CAIRN_EINVAL, "%s (%s:%d:%d): its properties are not known before "
				"apply", addr, stack->file, d->pos.line, d->pos.col);
			json_decref(args);
			free(addr);
			return -1;
		}
		ctx.aws = pl->aws;
		ctx.stack = stack->name;
		ctx.name = addr;
		rc = ops->read(&ctx, args, &out, err);
		json_decref(args);
		free(addr);
		if (rc != 0)
			return -1;
		json_object_set_new(pl->p->data, d->name, out);
		json_object_set_new(pl->p->data_types, d->name, json_string(d->type));
	}
	return 0;
}

static struct plan_change *add_change(struct planner *pl, const char *name, const char *type)
{
	struct plan_change *c;

	if (pl->p->n_changes == pl->cap) {
		pl->cap = pl->cap ? pl->cap * 2 : 16;
		pl->p->changes = xrealloc(pl->p->changes, pl->cap * sizeof(*pl->p->changes));
	}
	json_object_set_new(pl->change_index, name, json_integer((json_int_t)pl->p->n_changes));
	c = &pl->p->changes[pl->p->n_changes++];
	memset(c, 0, sizeof(*c));
	c->name = xstrdup(name);
	c->type = xstrdup(type);
	c->changed = json_array();
	c->replace_because = json_array();
	return c;
}

static struct plan_change *find_change(struct planner *pl, const char *name)
{
	json_t *i = json_object_get(pl->change_index, name);

	return i ? &pl->p->changes[json_integer_value(i)] : NULL;
}

/* Index of stack resource NAME or -1 (stack_find without its linear search). */
static long find_sr(struct planner *pl, const char *name)
{
	json_t *i = json_object_get(pl->stack_index, name);

	return i ? (long)json_integer_value(i) : -1;
}

static struct state_resource *find_rec(struct planner *pl, const char *name)
{
	json_t *i = json_object_get(pl->rec_index, name);

	return i ? &pl->rec[json_integer_value(i)] : NULL;
}

static int empty_value(const json_t *v)
{
	return !v || json_is_null(v) ||
	       (json_is_array(v) && json_array_size(v) == 0) ||
	       (json_is_object(v) && !value_is_unknown(v) && json_object_size(v) == 0);
}

/* ---- refresh ---- */

/* Lists the resource as drift if AWS reports it differently (or gone). */
static int note_drift(struct planner *pl, struct state_resource *r, struct cairn_err *err)
{
	json_t *now = json_object_get(pl->refreshed, r->name);
	long si = find_sr(pl, r->name);
	json_t *changed = NULL;

	if (now) {
		changed = refresh_drift(r->type, r->attrs, now,
					si >= 0 ? pl->stack->resources[si].ignore_changes : NULL, err);
		if (!changed)
			return -1;
		if (json_array_size(changed) == 0) {
			json_decref(changed);
			return 0;
		}
		json_decref(changed);
	}
	json_array_append_new(pl->p->drift,
			      json_pack("{s:s, s:s, s:O, s:O}", "name", r->name, "type", r->type,
					"before", r->attrs, "after", now ? now : json_null()));
	return 0;
}

static int refresh(struct planner *pl, struct cairn_err *err)
{
	struct refresh_opts ro = {0};
	struct refresh_item *items = xcalloc(pl->n_rec + 1, sizeof(*items));
	json_t **outs = xcalloc(pl->n_rec + 1, sizeof(*outs));
	size_t i;
	int rc = -1;

	ro.lookup = pl->lookup;
	ro.aws = pl->aws;
	ro.stack = pl->stack->name;
	ro.parallelism = pl->opts->parallelism;
	for (i = 0; i < pl->n_rec; i++) {
		items[i].name = pl->rec[i].name;
		items[i].type = pl->rec[i].type;
		items[i].id = pl->rec[i].id;
		items[i].prior = pl->rec[i].attrs;
	}
	if (refresh_read(&ro, items, pl->n_rec, outs, err) < 0)
		goto out;
	for (i = 0; i < pl->n_rec; i++)
		if (outs[i])
			json_object_set(pl->refreshed, pl->rec[i].name, outs[i]);
	for (i = 0; i < pl->n_rec; i++)
		if (note_drift(pl, &pl->rec[i], err) < 0)
			goto out;
	rc = 0;
out:
	for (i = 0; i < pl->n_rec; i++)
		json_decref(outs[i]);
	free(outs);
	free(items);
	return rc;
}

/* ---- targets ---- */

static void add_with_deps(struct planner *pl, const char *name)
{
	long si = find_sr(pl, name);
	struct state_resource *r;
	json_t *deps, *d;
	size_t i;

	if (json_object_get(pl->targets, name))
		return;
	json_object_set_new(pl->targets, name, json_true());
	r = find_rec(pl, name);
	deps = si >= 0 ? pl->stack->resources[si].deps : r ? r->deps : NULL;
	json_array_foreach(deps, i, d)
		add_with_deps(pl, json_string_value(d));
}

/* destroy --target NAME: NAME and every recorded resource depending on it. */
static void add_with_dependents(struct planner *pl, const char *name)
{
	size_t i;

	if (json_object_get(pl->targets, name))
		return;
	json_object_set_new(pl->targets, name, json_true());
	for (i = 0; i < pl->n_rec; i++)
		if (pl->rec[i].deps && value_array_has(pl->rec[i].deps, name))
			add_with_dependents(pl, pl->rec[i].name);
}

static void target_one(struct planner *pl, const char *name)
{
	if (pl->opts->destroy)
		add_with_dependents(pl, name);
	else
		add_with_deps(pl, name);
}

static int select_targets(struct planner *pl, struct cairn_err *err)
{
	size_t i;

	if (pl->opts->n_targets == 0)
		return 0;
	pl->targets = json_object();
	for (i = 0; i < pl->opts->n_targets; i++) {
		const char *t = pl->opts->targets[i];
		size_t n = strlen(t), j, hits = 0;

		if (find_sr(pl, t) >= 0 || find_rec(pl, t)) {
			target_one(pl, t);
			continue;
		}
		/* A repeated resource by its name: every instance of it. */
		for (j = 0; j < pl->stack->n_resources; j++) {
			const char *a = pl->stack->resources[j].name;

			if (!strncmp(a, t, n) && a[n] == '[') {
				target_one(pl, a);
				hits++;
			}
		}
		for (j = 0; j < pl->n_rec; j++) {
			const char *a = pl->rec[j].name;

			if (!strncmp(a, t, n) && a[n] == '[') {
				target_one(pl, a);
				hits++;
			}
		}
		if (!hits) {
			err_set(err, CAIRN_EINVAL,
				"target '%s' is neither a resource of the stack nor in the state", t);
			return -1;
		}
	}
	return 0;
}

static int targeted(struct planner *pl, const char *name)
{
	return !pl->targets || json_object_get(pl->targets, name);
}

/* ---- planning one stack resource ---- */

/* The attributes after a create or replace: the wanted ones, the state's
 * value for ignored attributes, unknown for what AWS decides. */
static json_t *planned_new(const char *type, json_t *want, json_t *have, json_t *ignore)
{
	const json_t *attrs = schema_attrs(schema_get(type));
	json_t *after = json_object();
	const char *k;
	json_t *v;

	json_object_foreach(want, k, v)
		if (!json_is_null(v))
			json_object_set(after, k, v);
	json_object_foreach((json_t *)attrs, k, v) {
		json_t *h = have ? json_object_get(have, k) : NULL;

		if (ignore && value_array_has(ignore, k) && h) {
			json_object_set(after, k, h);
			continue;
		}
		if (schema_is_computed(v) && empty_value(json_object_get(after, k)))
			json_object_set_new(after, k, value_unknown());
	}
	return after;
}

/* The attributes after an update: what exists, with the wanted values over it. */
static json_t *planned_update(const char *type, json_t *want, json_t *have, json_t *ignore)
{
	const json_t *schema = schema_get(type);
	json_t *after = json_deep_copy(have);
	const char *k;
	json_t *v;

	json_object_foreach(want, k, v) {
		const json_t *spec = schema_attr(schema, k);

		if (ignore && value_array_has(ignore, k))
			continue;
		if (spec && schema_is_output(spec))
			continue;
		if (spec && schema_is_computed(spec) && empty_value(v))
			continue;
		json_object_set(after, k, v);
	}
	return after;
}

static void collect_ref(void *ctx, const char *root, const char *path)
{
	json_t *refs = ctx;

	(void)path;
	if (strcmp(root, "var") && strcmp(root, "aws") && strcmp(root, "stack"))
		json_object_set_new(refs, root, json_true());
}

/*
 * A resource holding a reference to one that is deleted before its
 * replacement is created must be replaced too: AWS refuses to delete what
 * is still referenced (a target group a listener forwards to) and the
 * reference would dangle. Returns a new array of the names sr references
 * that are replaced, delete-first (cbd 0) or create-first (cbd 1), sorted.
 */
static json_t *replaced_refs(struct planner *pl, const struct stack_resource *sr, int cbd)
{
	json_t *refs = json_object(), *out = json_array();
	const char **names;
	size_t n, i;

	expr_refs(sr->properties, collect_ref, refs, NULL);
	names = eval_sorted_keys(refs, &n);
	for (i = 0; i < n; i++) {
		struct plan_change *c = find_change(pl, names[i]);

		if (c && c->action == PLAN_REPLACE && !c->create_before_destroy == !cbd)
			json_array_append_new(out, json_string(names[i]));
	}
	free(names);
	json_decref(refs);
	return out;
}

/* "a", "a and b", "a, b and c" */
static void add_names(struct strbuf *sb, json_t *names)
{
	size_t i, n = json_array_size(names);

	for (i = 0; i < n; i++) {
		if (i)
			strbuf_adds(sb, i + 1 == n ? " and " : ", ");
		strbuf_adds(sb, json_string_value(json_array_get(names, i)));
	}
}

static char *cascade_note(json_t *causes)
{
	struct strbuf sb;

	strbuf_init(&sb);
	strbuf_adds(&sb, "replaced because ");
	add_names(&sb, causes);
	strbuf_addf(&sb, " must be replaced and it holds a reference to %s",
		    json_array_size(causes) > 1 ? "them" : "it");
	return strbuf_detach(&sb);
}

static char *repoint_note(json_t *names)
{
	struct strbuf sb;

	strbuf_init(&sb);
	strbuf_adds(&sb, "updated to refer to the new ");
	add_names(&sb, names);
	strbuf_addf(&sb, ", created before the old %s deleted",
		    json_array_size(names) > 1 ? "ones are" : "one is");
	return strbuf_detach(&sb);
}

/*
 * The first attribute marked unique that the replacement keeps: AWS would
 * refuse a second object with its value, so the new object cannot be
 * created before the old one is deleted. Kept means set to what exists,
 * or left out of the stack where it is computed: the provider derives it
 * again the same way (a security group's STACK-RESOURCE name). Returns
 * the name (borrowed from the schema) and sets *value (borrowed), or NULL.
 */
static const char *unique_kept(const char *type, json_t *want, json_t *have, json_t **value)
{
	const json_t *attrs = schema_attrs(schema_get(type));
	const char **names, *found = NULL;
	size_t n, i;

	names = eval_sorted_keys(attrs, &n);
	for (i = 0; i < n && !found; i++) {
		const json_t *spec = json_object_get(attrs, names[i]);
		json_t *w = json_object_get(want, names[i]), *h = json_object_get(have, names[i]);

		if (!schema_is_unique(spec) || empty_value(h) || value_has_unknown(w))
			continue;
		if (empty_value(w) ? schema_is_computed(spec) :
		    eval_attr_equal(type, names[i], w, h)) {
			found = names[i];
			*value = h;
		}
	}
	free(names);
	return found;
}

static char *unique_note(const char *attr, json_t *value)
{
	char *v = json_dumps(value, JSON_ENCODE_ANY), *note;

	note = xasprintf("create_before_destroy not possible: %s %s must stay unique; "
			 "deleting first", attr, v);
	free(v);
	return note;
}

static int plan_resource(struct planner *pl, const struct stack_resource *sr,
			 struct cairn_err *err)
{
	const json_t *schema = schema_get(sr->type);
	struct state_resource *rec = find_rec(pl, sr->name);
	json_t *have = json_object_get(pl->refreshed, sr->name);
	json_t *ignore = sr->ignore_changes;
	json_t *want, *forces = NULL, *causes = NULL, *changed = NULL;
	struct plan_change *c;
	const char *unique;
	size_t i;
	json_t *v, *kept;
	int rc = -1;

	if (!schema) {
		err_set(err, CAIRN_EINVAL, "resource '%s': unknown type '%s'", sr->name, sr->type);
		return -1;
	}
	if (rec && strcmp(rec->type, sr->type) != 0) {
		err_set(err, CAIRN_EINVAL,
			"resource '%s' is recorded as %s but the stack declares %s; give it a new "
			"name, or forget the old one with 'cairn state rm %s'",
			sr->name, rec->type, sr->type, sr->name);
		return -1;
	}
	want = eval_resource(&pl->ectx, sr->type, sr->properties, err);
	if (!want) {
		err_prefix(err, "resource '%s'", sr->name);
		return -1;
	}
	c = add_change(pl, sr->name, sr->type);
	c->config = json_deep_copy(sr->properties);
	c->deps = sr->deps ? json_deep_copy(sr->deps) : json_array();
	c->create_before_destroy = sr->create_before_destroy;
	c->prevent_destroy = sr->prevent_destroy;
	c->schema_version = (int)json_integer_value(json_object_get(schema, "version"));

	if (!have) {
		const char *k;

		c->action = PLAN_CREATE;
		c->after = planned_new(sr->type, want, NULL, NULL);
		json_object_foreach(c->after, k, v)
			json_array_append_new(c->changed, json_string(k));
		goto done;
	}
	c->id = xstrdup(rec ? rec->id : NULL);
	c->before = json_deep_copy(have);
	if (eval_diff(sr->type, want, have, ignore, &changed, &forces, err) < 0)
		goto out;
	json_decref(c->changed);
	c->changed = json_incref(changed);
	causes = replaced_refs(pl, sr, 0);
	if (json_array_size(forces) || json_array_size(causes)) {
		c->action = PLAN_REPLACE;
		json_array_extend(c->replace_because, forces);
		json_array_foreach(causes, i, v)
			json_array_append_new(c->replace_because,
					      json_sprintf("%s is replaced", json_string_value(v)));
		if (c->create_before_destroy &&
		    (unique = unique_kept(sr->type, want, have, &kept))) {
			/* Delete-first, as without create_before_destroy: the
			 * resources referencing it are replaced in cascade. */
			c->create_before_destroy = 0;
			c->note = unique_note(unique, kept);
		}
		if (json_array_size(causes)) {
			char *cascade = cascade_note(causes);

			if (c->note) {
				char *both = xasprintf("%s; %s", cascade, c->note);

				free(cascade);
				free(c->note);
				cascade = both;
			}
			c->note = cascade;
		} else if (c->create_before_destroy)
			c->note = xasprintf("the new %s is created before the old one is deleted",
					    sr->name);
		c->after = planned_new(sr->type, want, have, ignore);
	} else if (json_array_size(changed)) {
		json_t *repointed = replaced_refs(pl, sr, 1);

		c->action = PLAN_UPDATE;
		c->after = planned_update(sr->type, want, have, ignore);
		if (json_array_size(repointed))
			c->note = repoint_note(repointed);
		json_decref(repointed);
	} else {
		c->action = PLAN_NOOP;
		c->after = json_deep_copy(have);
	}
done:
	json_object_set(pl->known, sr->name, c->after);
	rc = 0;
out:
	json_decref(want);
	json_decref(changed);
	json_decref(forces);
	json_decref(causes);
	return rc;
}

/* ---- deletions ---- */

/* Adds a delete for every recorded resource in del (flags per rec index),
 * dependents first (reverse dependency order, ties by name; a cycle in the
 * recorded dependencies is broken by name). */
static void plan_deletes(struct planner *pl, const char *del)
{
	struct graph *g = graph_new(pl->n_rec);
	size_t *order = xcalloc(pl->n_rec + 1, sizeof(*order));
	size_t i, k;
	json_t *d;

	/* rec is sorted by name: the index is the name rank */
	for (i = 0; i < pl->n_rec; i++) {
		if (!del[i])
			continue;
		json_array_foreach(pl->rec[i].deps, k, d) {
			json_t *j = json_object_get(pl->rec_index, json_string_value(d));

			if (j && del[json_integer_value(j)])
				graph_edge(g, i, (size_t)json_integer_value(j));
		}
	}
	graph_order(g, NULL, GRAPH_PRED_FIRST, order);
	for (k = 0; k < pl->n_rec; k++) {
		struct state_resource *r = &pl->rec[order[k]];
		struct plan_change *c;
		long si;

		if (!del[order[k]])
			continue;
		c = add_change(pl, r->name, r->type);
		c->action = PLAN_DELETE;
		c->id = xstrdup(r->id);
		c->before = json_deep_copy(json_object_get(pl->refreshed, r->name) ?
					   json_object_get(pl->refreshed, r->name) : r->attrs);
		c->deps = r->deps ? json_deep_copy(r->deps) : json_array();
		c->schema_version = r->schema_version;
		si = find_sr(pl, r->name);
		if (si >= 0)
			c->prevent_destroy = pl->stack->resources[si].prevent_destroy;
	}
	free(order);
	graph_free(g);
}

/* ---- checks and outputs ---- */

static int check_prevent_destroy(struct planner *pl, struct cairn_err *err)
{
	struct strbuf sb;
	size_t i, n = 0;

	strbuf_init(&sb);
	for (i = 0; i < pl->p->n_changes; i++) {
		struct plan_change *c = &pl->p->changes[i];
		char *why;

		if (!c->prevent_destroy ||
		    (c->action != PLAN_DELETE && c->action != PLAN_REPLACE))
			continue;
		if (c->action == PLAN_DELETE) {
			why = xstrdup("delete it");
		} else {
			char *list = json_dumps(c->replace_because, JSON_COMPACT);

			why = xasprintf("replace it (because of %s)", list);
			free(list);
		}
		strbuf_addf(&sb, "%s'%s' has lifecycle.prevent_destroy set but the plan would %s",
			    n++ ? "; " : "", c->name, why);
		free(why);
	}
	if (n)
		err_set(err, CAIRN_EINVAL, "%s; nothing was changed", sb.buf);
	strbuf_free(&sb);
	return n ? -1 : 0;
}

static int plan_outputs(struct planner *pl, struct cairn_err *err)
{
	size_t i;

	for (i = 0; i < pl->stack->n_outputs; i++) {
		const struct stack_output *o = &pl->stack->outputs[i];
		json_t *planned = eval_value(&pl->ectx, o->value, err);

		if (!planned) {
			err_prefix(err, "output '%s'", o->name);
			return -1;
		}
		json_object_set_new(pl->p->outputs, o->name,
				    json_pack("{s:O, s:b, s:s?, s:o}", "value", o->value,
					      "sensitive", o->sensitive, "description",
					      o->description, "planned", planned));
	}
	return 0;
}

static void uses_account(void *ctx, const char *root, const char *path)
{
	if (strcmp(root, "aws") == 0 && strcmp(path, "account_id") == 0)
		*(int *)ctx = 1;
}

int plan_uses_account_id(const struct stack *stack)
{
	int used = 0;
	size_t i;

	for (i = 0; i < stack->n_resources; i++)
		expr_refs(stack->resources[i].properties, uses_account, &used, NULL);
	for (i = 0; i < stack->n_outputs; i++)
		expr_refs(stack->outputs[i].value, uses_account, &used, NULL);
	return used;
}

/* ---- moves ---- */

/*
 * "moved:" entries rename recorded resources before anything is compared
 * (also in the others' dependencies), so a renamed resource plans as
 * itself: no delete, no create. A move whose from is not recorded, or
 * whose to already is, has nothing to do. Returns a new map to -> from.
 */
static json_t *apply_moves(struct planner *pl, json_t *moves)
{
	json_t *moved = json_object(), *m, *d;
	size_t i, j, k;

	json_array_foreach(moves, i, m) {
		const char *from = json_string_value(json_object_get(m, "from"));
		const char *to = json_string_value(json_object_get(m, "to"));
		struct state_resource *r = NULL;

		for (j = 0; j < pl->n_rec; j++) {
			if (!strcmp(pl->rec[j].name, to))
				break;
			if (!strcmp(pl->rec[j].name, from))
				r = &pl->rec[j];
		}
		if (j < pl->n_rec || !r)
			continue;
		free(r->name);
		r->name = xstrdup(to);
		json_object_set_new(moved, to, json_string(from));
		for (j = 0; j < pl->n_rec; j++)
			json_array_foreach(pl->rec[j].deps, k, d)
				if (!strcmp(json_string_value(d), from))
					json_array_set_new(pl->rec[j].deps, k, json_string(to));
	}
	return moved;
}

/* ---- plan_build ---- */

/*
 * ${aws.account_id}: online, the resolver's answer (AWS is asked anyway);
 * offline (no refresh), the account the state recorded at the last apply,
 * else unknown (*out NULL): an offline plan needs no credentials (SPEC §2).
 * *out: borrowed from the resolver, or kept in pl->p's recorded copy.
 */
static int account_id(struct planner *pl, struct state *st, const char **out,
		      struct cairn_err *err)
{
	*out = NULL;
	if (pl->opts->refresh && pl->opts->account_id) {
		*out = pl->opts->account_id(pl->opts->account_arg, err);
		if (!*out) {
			err_prefix(err, "finding the account id for ${aws.account_id}");
			return -1;
		}
		return 0;
	}
	if (st && plan_recorded_account(st, pl->stack->name, &pl->account, err) < 0)
		return -1;
	*out = pl->account;
	return 0;
}

int plan_recorded_account(struct state *st, const char *stack, char **out,
			  struct cairn_err *err)
{
	char *key = xasprintf("account_id/%s", stack);
	int rc = state_meta_get(st, key, out, err);

	free(key);
	return rc;
}

int plan_record_account(struct state *st, const char *stack, const char *account,
			struct cairn_err *err)
{
	char *key = xasprintf("account_id/%s", stack), *had = NULL;
	int rc = state_meta_get(st, key, &had, err);

	if (rc == 0 && (!had || strcmp(had, account) != 0))
		rc = state_meta_put(st, key, account, err);
	free(had);
	free(key);
	return rc;
}

struct plan *plan_build(const struct stack *stack, struct state *st, struct aws_client *aws,
			const struct plan_opts *opts, struct cairn_err *err)
{
	struct planner pl;
	struct state_stack meta = {0};
	json_t *moved = NULL;
	const char *account = NULL;
	size_t *order = NULL;
	char *del = NULL;
	size_t i;
	int ok = 0;

	memset(&pl, 0, sizeof(pl));
	pl.stack = stack;
	pl.opts = opts;
	pl.lookup = opts->lookup;
	pl.aws = aws;
	pl.rec_index = json_object();
	pl.stack_index = json_object();
	for (i = 0; i < stack->n_resources; i++)
		json_object_set_new(pl.stack_index, stack->resources[i].name,
				    json_integer((json_int_t)i));
	pl.refreshed = json_object();
	pl.known = json_object();
	pl.change_index = json_object();
	pl.p = xcalloc(1, sizeof(*pl.p));
	pl.p->stack = xstrdup(stack->name);
	pl.p->region = xstrdup(opts->region ? opts->region : stack->region);
	pl.p->drift = json_array();
	pl.p->outputs = json_object();
	pl.p->vars = stack->vars ? json_deep_copy(stack->vars) : json_object();
	pl.p->data = json_object();
	pl.p->data_types = json_object();

	if (st) {
		if (state_stack_get(st, stack->name, &meta, err) < 0 ||
		    state_list(st, stack->name, &pl.rec, &pl.n_rec, err) < 0)
			goto out;
	}
	pl.p->serial = meta.serial;
	pl.p->lineage = xstrdup(meta.lineage);
	moved = apply_moves(&pl, stack->moves);
	for (i = 0; i < pl.n_rec; i++) {
		json_object_set_new(pl.rec_index, pl.rec[i].name, json_integer((json_int_t)i));
		if (!pl.rec[i].attrs)
			pl.rec[i].attrs = json_object();
		if (!pl.rec[i].deps)
			pl.rec[i].deps = json_array();
	}
	if (opts->refresh && pl.n_rec) {
		if (refresh(&pl, err) < 0)
			goto out;
	} else {
		for (i = 0; i < pl.n_rec; i++)
			json_object_set(pl.refreshed, pl.rec[i].name, pl.rec[i].attrs);
	}

	pl.ectx.vars = pl.p->vars;
	pl.ectx.region = pl.p->region;
	pl.ectx.stack = stack->name;
	pl.ectx.resources = pl.known;
	pl.ectx.data = pl.p->data;
	if (!opts->destroy && read_data(&pl, err) < 0)
		goto out;
	if (plan_uses_account_id(stack) && account_id(&pl, st, &account, err) < 0)
		goto out;
	pl.ectx.account_id = account;
	if (select_targets(&pl, err) < 0)
		goto out;

	del = xcalloc(pl.n_rec + 1, 1);
	if (!opts->destroy) {
		stack_topo_order(stack, &order);
		for (i = 0; i < stack->n_resources; i++) {
			const struct stack_resource *sr = &stack->resources[order[i]];

			if (targeted(&pl, sr->name) && plan_resource(&pl, sr, err) < 0)
				goto out;
		}
	}
	for (i = 0; i < pl.n_rec; i++)
		del[i] = targeted(&pl, pl.rec[i].name) &&
			 (opts->destroy || find_sr(&pl, pl.rec[i].name) < 0);
	plan_deletes(&pl, del);
	if (check_prevent_destroy(&pl, err) < 0)
		goto out;
	if (!opts->destroy && plan_outputs(&pl, err) < 0)
		goto out;
	for (i = 0; i < pl.p->n_changes; i++) {
		json_t *from = json_object_get(moved, pl.p->changes[i].name);

		if (from)
			pl.p->changes[i].moved_from = xstrdup(json_string_value(from));
	}
	ok = 1;
out:
	json_decref(moved);
	for (i = 0; i < pl.n_rec; i++)
		state_resource_free(&pl.rec[i]);
	free(pl.rec);
	free(order);
	free(del);
	json_decref(pl.rec_index);
	json_decref(pl.stack_index);
	json_decref(pl.refreshed);
	json_decref(pl.known);
	json_decref(pl.change_index);
	json_decref(pl.targets);
	free(pl.account);
	if (!ok) {
		plan_free(pl.p);
		return NULL;
	}
	return pl.p;
}
