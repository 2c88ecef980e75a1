/*
 * exec: see exec.h. One mutex guards the operation graph, the attributes
 * known so far, the state handle and the event callback; provider calls
 * run outside it, so up to `parallelism` of them are in flight at once.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "exec.h"
#include "eval.h"
#include "graph.h"
#include "plan.h"
#include "pool.h"
#include "refresh.h"
#include "provider.h"
#include "value.h"
#include "../state/state.h"

const char *exec_op_name(enum exec_op op)
{
	switch (op) {
	case EXEC_CREATE: return "create";
	case EXEC_UPDATE: return "update";
	case EXEC_DELETE: return "delete";
	case EXEC_READ: return "read";
	}
	return "?";
}

enum op_status { OP_PENDING, OP_RUNNING, OP_DONE, OP_FAILED, OP_SKIPPED };

struct op {
	enum exec_op kind;
	const struct plan_change *ch;   /* borrowed from the plan */
	const struct resource_ops *ops;
	int deposed;                    /* delete of the old object of a cbd replace */
	int64_t deposed_jid;            /* its journal entry, written before the create */
	struct op *pair;                /* the other half of a replace, or NULL */
	const size_t *succ; size_t n_succ; /* operations that wait for this one
					 * (borrowed from run.g) */
	size_t n_wait;                  /* predecessors not finished yet */
	enum op_status status;
	int unchanged;                  /* an update with nothing left to change: no call made */
	struct cairn_err err;
	const char *cause;              /* borrowed name: why skipped */
};

struct run {
	const struct plan *p;
	const struct exec_opts *o;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct op *ops; size_t n_ops;
	struct graph *g;                /* op i -> op j: i runs before j */
	size_t *ready; size_t n_ready;  /* stack of runnable operation indexes */
	size_t running;
	int stopped;
	json_t *known;                  /* name -> attributes known now */
	json_t *old_deps;               /* name -> deps recorded in the state */
	struct exec_result *res;
};

static void emit(struct run *r, enum exec_event_kind kind, const struct op *op,
		 const char *id)
{
	struct exec_event ev = {0};

	if (!r->o->on_event)
		return;
	ev.kind = kind;
	ev.op = op->kind;
	ev.name = op->ch->name;
	ev.type = op->ch->type;
	ev.id = id;
	ev.deposed = op->deposed;
	ev.err = kind == EXEC_EV_FAILED ? &op->err : NULL;
	ev.cause = op->cause;
	r->o->on_event(r->o->event_ctx, &ev);
}

static void add_edge(struct run *r, size_t from, size_t to)
{
	graph_edge(r->g, from, to);
}

static int json_array_has(json_t *arr, const char *s)
{
	json_t *v;
	size_t i;

	json_array_foreach(arr, i, v)
		if (json_is_string(v) && strcmp(json_string_value(v), s) == 0)
			return 1;
	return 0;
}

static long change_index(const struct plan *p, const char *name)
{
	size_t i;

	for (i = 0; i < p->n_changes; i++)
		if (strcmp(p->changes[i].name, name) == 0)
			return (long)i;
	return -1;
}

/* Does Y (change j) depend on X by its planned or its recorded dependencies? */
static int depends_on(struct run *r, size_t j, const char *x)
{
	const struct plan_change *y = &r->p->changes[j];

	return json_array_has(y->deps, x) ||
	       json_array_has(json_object_get(r->old_deps, y->name), x);
}

/*
 * Builds the operation graph. fwd[i] / del[i]: the create-or-update and the
 * delete operation of change i, or -1.
 */
static int build_graph(struct run *r, struct cairn_err *err)
{
	const struct plan *p = r->p;
	long *fwd = xcalloc(p->n_changes ? p->n_changes : 1, sizeof(long));
	long *del = xcalloc(p->n_changes ? p->n_changes : 1, sizeof(long));
	size_t *order = NULL, *comp = NULL;
	size_t i, j, n = 0;
	int rc = -1;

	r->ops = xcalloc(2 * p->n_changes + 1, sizeof(*r->ops));
	for (i = 0; i < p->n_changes; i++) {
		const struct plan_change *c = &p->changes[i];
		const struct resource_ops *ops = NULL;

		fwd[i] = del[i] = -1;
		if (c->action == PLAN_NOOP)
			continue;
		ops = r->o->lookup ? r->o->lookup(c->type) : NULL;
		if (!ops) {
			err_set(err, CAIRN_EINVAL, "%s: unknown resource type '%s'", c->name, c->type);
			goto out;
		}
		if (c->action == PLAN_DELETE || c->action == PLAN_REPLACE) {
			if (!c->id) {
				err_set(err, CAIRN_EINVAL, "%s: the plan deletes it but has no id", c->name);
				goto out;
			}
			r->ops[n] = (struct op){.kind = EXEC_DELETE, .ch = c, .ops = ops,
						.deposed = c->action == PLAN_REPLACE &&
							   c->create_before_destroy};
			del[i] = (long)n++;
		}
		if (c->action != PLAN_DELETE) {
			r->ops[n] = (struct op){.kind = c->action == PLAN_UPDATE ? EXEC_UPDATE :
						EXEC_CREATE, .ch = c, .ops = ops};
			fwd[i] = (long)n++;
		}
	}
	r->n_ops = n;
	r->g = graph_new(n);

	for (i = 0; i < p->n_changes; i++) {
		const struct plan_change *c = &p->changes[i];
		json_t *d;
		size_t k;

		if (fwd[i] >= 0)
			json_array_foreach(c->deps, k, d) {
				long dj = json_is_string(d) ? change_index(p, json_string_value(d)) : -1;

				if (dj >= 0 && fwd[dj] >= 0)
					add_edge(r, (size_t)fwd[dj], (size_t)fwd[i]);
			}
		if (c->action == PLAN_REPLACE) {
			r->ops[fwd[i]].pair = &r->ops[del[i]];
			r->ops[del[i]].pair = &r->ops[fwd[i]];
			if (c->create_before_destroy)
				add_edge(r, (size_t)fwd[i], (size_t)del[i]);
			else
				add_edge(r, (size_t)del[i], (size_t)fwd[i]);
		}
		if (del[i] < 0)
			continue;
		/* A delete waits for everything that depends on the object. The
		 * delete half of a delete-first replace cannot wait for the
		 * dependents' new halves: those wait for its own create. */
		for (j = 0; j < p->n_changes; j++) {
			if (j == i || !depends_on(r, j, c->name))
				continue;
			if (del[j] >= 0)
				add_edge(r, (size_t)del[j], (size_t)del[i]);
			if (fwd[j] >= 0 && (c->action == PLAN_DELETE || c->create_before_destroy))
				add_edge(r, (size_t)fwd[j], (size_t)del[i]);
		}
	}

	/* The graph must be acyclic or some operation never runs. */
	for (i = 0; i < n; i++) {
		r->ops[i].succ = graph_succ(r->g, i, &r->ops[i].n_succ);
		r->ops[i].n_wait = graph_npred(r->g, i);
	}
	order = xcalloc(n + 1, sizeof(*order));
	if (graph_order(r->g, NULL, GRAPH_PRED_FIRST, order)) {
		comp = xcalloc(n + 1, sizeof(*comp));
		graph_scc(r->g, comp);
		for (i = 0; i < n && !graph_on_cycle(r->g, comp, i); i++)
			;
		err_set(err, CAIRN_EINVAL,
			"cannot order the plan's operations: '%s' is part of a cycle of deletes "
			"and creates; apply the changes in two steps", r->ops[i].ch->name);
		goto out;
	}
	rc = 0;
out:
	free(fwd);
	free(del);
	free(order);
	free(comp);
	return rc;
}

/* Under r->mu. Marks every pending operation that waits for op as skipped. */
static void skip_successors(struct run *r, struct op *op)
{
	size_t i;

	for (i = 0; i < op->n_succ; i++) {
		struct op *s = &r->ops[op->succ[i]];

		if (s->status != OP_PENDING)
			continue;
		s->status = OP_SKIPPED;
		s->cause = op->ch->name;
		emit(r, EXEC_EV_SKIPPED, s, NULL);
		skip_successors(r, s);
	}
}

/* Under r->mu. Records the outcome and releases or skips the successors. */
static void finish(struct run *r, struct op *op, int ok)
{
	size_t i;

	op->status = ok ? OP_DONE : OP_FAILED;
	if (!ok) {
		skip_successors(r, op);
		return;
	}
	for (i = 0; i < op->n_succ; i++) {
		struct op *s = &r->ops[op->succ[i]];

		if (--s->n_wait == 0 && s->status == OP_PENDING)
			r->ready[r->n_ready++] = op->succ[i];
	}
}

/* A provider's waiter reports a long wait (from a worker thread, without
 * r->mu): handed on as an event, under r->mu like every other event. */
static void relay_progress(void *arg, const char *name, const char *msg)
{
	struct run *r = arg;
	struct exec_event ev = {0};

	if (!r->o->on_event)
		return;
	ev.kind = EXEC_EV_PROGRESS;
	ev.name = name;
	ev.msg = msg;
	pthread_mutex_lock(&r->mu);
	r->o->on_event(r->o->event_ctx, &ev);
	pthread_mutex_unlock(&r->mu);
}

static void provider_ctx_init(struct run *r, const struct op *op, struct provider_ctx *ctx)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->aws = r->o->aws;
	ctx->stack = r->p->stack;
	ctx->name = op->ch->name;
	ctx->cancel = r->o->cancel;
	ctx->sleep_ms = r->o->sleep_ms;
	ctx->progress = relay_progress;
	ctx->progress_arg = r;
}

/* Under r->mu: the change's config evaluated against what is known now. */
static json_t *evaluate(struct run *r, const struct op *op, struct cairn_err *err)
{
	struct eval_ctx e = {0};
	json_t *attrs;

	e.vars = r->p->vars;
	e.data = r->p->data;
	e.region = r->p->region;
	e.stack = r->p->stack;
	e.account_id = r->o->account_id;
	e.resources = r->known;
	attrs = eval_resource(&e, op->ch->type, op->ch->config, err);
	if (!attrs) {
		err_prefix(err, "%s", op->ch->name);
		return NULL;
	}
	if (value_has_unknown(attrs)) {
		err_set(err, CAIRN_EINTERNAL, "%s: a value it references is still unknown after "
			"its dependencies were applied", op->ch->name);
		json_decref(attrs);
		return NULL;
	}
	return attrs;
}

/* Under r->mu: records attrs as the resource's state and as known. */
static int record(struct run *r, const struct op *op, json_t *attrs, struct cairn_err *err)
{
	struct state_view sr = {0};
	const char *id = json_string_value(json_object_get(attrs, "id"));

	if (!id) {
		err_set(err, CAIRN_EINTERNAL, "%s: the provider returned no id", op->ch->name);
		return -1;
	}
	sr.name = op->ch->name;
	sr.type = op->ch->type;
	sr.id = id;
	sr.attrs = attrs;
	sr.deps = op->ch->deps;
	sr.schema_version = op->ch->schema_version;
	if (state_put(r->o->st, r->p->stack, &sr, err) < 0)
		return -1;
	json_object_set(r->known, op->ch->name, attrs);
	return 0;
}

static json_t *journal_intent(const struct plan_change *c, json_t *attrs, const char *id,
			      json_t *before, int deposed)
{
	json_t *in = json_object();

	if (attrs)
		json_object_set(in, "attrs", attrs);
	if (before)
		json_object_set(in, "before", before);
	if (id)
		json_object_set_new(in, "id", json_string(id));
	json_object_set_new(in, "deps", c->deps ? json_incref(c->deps) : json_array());
	json_object_set_new(in, "schema_version", json_integer(c->schema_version));
	if (deposed)
		json_object_set_new(in, "deposed", json_true());
	return in;
}

/* Could the failed call have taken effect? A connection error or a 5xx can
 * hide a lost answer; a 4xx is AWS refusing the request; a 2xx whose body
 * could not be read (truncated, not XML/JSON) is AWS saying yes unreadably. */
static int outcome_unknown(const struct cairn_err *e)
{
	return e->code == CAIRN_ENET || e->code == CAIRN_ECANCEL ||
	       (e->code == CAIRN_EAWS && (e->remote.status >= 500 || e->remote.retryable ||
					  e->remote.maybe_done ||
					  (e->remote.status >= 200 && e->remote.status < 300)));
}

/* How often a create whose answer was lost, and which find then did not
 * find, is sent again (the client does not resend such calls itself). */
#define CREATE_RESENDS 4

/* Runs one create. Returns 0 or -1 with op->err; *id_out: owned id or NULL. */
/*
 * A killed run's create that recovery did not find may still be on its way
 * (held in a proxy, a retry, a slow network): it can reach AWS after the
 * next run looked. Recovery marks such a resource; when the next create of
 * it is refused (the name is taken), the executor looks again with find and
 * adopts what it finds instead of failing. Only marked resources get this
 * second look, so a foreign resource that merely has the same name is never
 * adopted by accident.
 */
static char *late_create_key(const char *stack, const char *name)
{
	return xasprintf("late-create:%s/%s", stack, name);
}

static int late_create_mark(struct state *st, const char *stack, const char *name, int on,
			    struct cairn_err *err)
{
	char *key = late_create_key(stack, name);
	int rc = state_meta_put(st, key, on ? "1" : "", err);

	free(key);
	return rc;
}

static int late_create_marked(struct state *st, const char *stack, const char *name)
{
	struct cairn_err err;
	char *key = late_create_key(stack, name), *v = NULL;
	int on;

	err_clear(&err);
	on = state_meta_get(st, key, &v, &err) == 0 && v && strcmp(v, "1") == 0;
	free(v);
	free(key);
	return on;
}

/*
 * A create whose answer was lost, and whose object find then found: the
 * calls the create makes after the first (attributes, policies, tags set
 * apart) may not have run. The object is brought to the configuration with
 * the type's update, as the next plan would do, so that the run need not
 * fail for it. Returns 0 with *out the object as it now is, or -1 with
 * op->err (*out stays what was found, which is recorded either way).
 */
static int finish_found(struct run *r, struct op *op, const struct provider_ctx *ctx,
			json_t *attrs, json_t **out)
{
	const char *id = json_string_value(json_object_get(*out, "id"));
	json_t *changed = NULL, *forces = NULL, *now = NULL;
	struct cairn_err err;
	int rc = -1, drc;

	err_clear(&err);
	pthread_mutex_lock(&r->mu);
	drc = eval_diff(op->ch->type, attrs, *out, NULL, &changed, &forces, &err);
	pthread_mutex_unlock(&r->mu);
	if (drc < 0 || !id || json_array_size(forces) > 0)
		goto out;       /* the create's own error stands */
	if (json_array_size(changed) > 0) {
		if (!op->ops->update)
			goto out;
		if (op->ops->update(ctx, id, *out, attrs, changed, &now, &err) < 0) {
			op->err = err;
			err_prefix(&op->err, "%s was created (its answer was lost) and found, "
				   "but not brought to the configuration", op->ch->name);
			goto out;
		}
		if (now) {
			json_decref(*out);
			*out = now;
		}
	}
	err_clear(&op->err);
	rc = 0;
out:
	json_decref(changed);
	json_decref(forces);
	return rc;
}

static int do_create(struct run *r, struct op *op, char **id_out)
{
	const struct plan_change *c = op->ch;
	struct provider_ctx ctx;
	json_t *attrs = NULL, *out = NULL, *found = NULL, *in;
	struct cairn_err ferr;
	int64_t jid = 0;
	int rc = -1, crc, sends, looked = 0;

	provider_ctx_init(r, op, &ctx);
	pthread_mutex_lock(&r->mu);
	attrs = evaluate(r, op, &op->err);
	if (!attrs)
		goto unlock;
	in = journal_intent(c, attrs, NULL, NULL, 0);
	crc = state_journal_begin(r->o->st, r->p->stack, c->name, c->type, "create", in, &jid,
				  &op->err);
	json_decref(in);
	if (crc < 0)
		goto unlock;
	if (c->action == PLAN_REPLACE && c->create_before_destroy) {
		/* The old object leaves the state when the new one is recorded:
		 * journal its deletion now so a kill in between cannot orphan it. */
		in = journal_intent(c, NULL, c->id, c->before, 1);
		crc = state_journal_begin(r->o->st, r->p->stack, c->name, c->type, "delete", in,
					  &op->pair->deposed_jid, &op->err);
		json_decref(in);
		if (crc < 0) {
			state_journal_end(r->o->st, jid, &ferr);
			goto unlock;
		}
	}
	emit(r, EXEC_EV_START, op, NULL);
	pthread_mutex_unlock(&r->mu);

	/* A remote state (S3): no create goes out before the store has the
	 * intent; the operations started together share one upload. */
	if (state_sync(r->o->st, &op->err) < 0) {
		pthread_mutex_lock(&r->mu);
		goto unlock;
	}
	for (sends = 1;; sends++) {
		crc = op->ops->create(&ctx, attrs, &out, &op->err);
		/* After a resend any refusal may be "already exists" of what
		 * the first send made. */
		if (crc == 0 || out || !op->ops->find ||
		    (!outcome_unknown(&op->err) && sends == 1))
			break;
		/* The call may have failed after AWS made the resource (a lost
		 * response, or a resend refused as "already exists"): look
		 * before forgetting the intent. */
		looked = 1;
		err_clear(&ferr);
		if (op->ops->find(&ctx, attrs, &found, &ferr) < 0) {
			jid = -jid;     /* unresolved: leave the entry for exec_recover */
			break;
		}
		if (found) {
			out = found;
			crc = finish_found(r, op, &ctx, attrs, &out);
			break;
		}
		/* Nothing was made: a create the client did not resend because
		 * its answer was lost goes out again, after a pause. (AWS reads
		 * that lag behind writes could hide the first one; the
		 * ownership tags then show both to the next refresh.) */
		if (op->err.code != CAIRN_ENET || !op->err.remote.retryable ||
		    sends > CREATE_RESENDS)
			break;
		if (ctx.sleep_ms)
			ctx.sleep_ms(100L << sends);
	}
	if (crc < 0 && !out && !looked && op->ops->find && op->err.code == CAIRN_EAWS &&
		   late_create_marked(r->o->st, r->p->stack, c->name)) {
		/* Refused, and a killed run's create of it may have landed late. */
		err_clear(&ferr);
		if (op->ops->find(&ctx, attrs, &found, &ferr) == 0 && found) {
			out = found;
			crc = 0;
			err_clear(&op->err);
		}
	}
	if (out && late_create_marked(r->o->st, r->p->stack, c->name))
		late_create_mark(r->o->st, r->p->stack, c->name, 0, &ferr);

	pthread_mutex_lock(&r->mu);
	if (out) {
		struct cairn_err rerr;

		err_clear(&rerr);
		if (record(r, op, out, &rerr) < 0) {
			if (crc == 0) {
				/* Name what AWS holds so that nothing is orphaned unknown. */
				const char *oid = json_string_value(json_object_get(out, "id"));

				op->err = rerr;
				err_prefix(&op->err, "created %s in AWS but cannot record it",
					   oid ? oid : "an object");
			}
			crc = -1;
			goto unlock;        /* the journal entry stays: recovery adopts it */
		}
		*id_out = xstrdup(json_string_value(json_object_get(out, "id")));
	}
	if (jid > 0)
		state_journal_end(r->o->st, jid, &ferr);
	if (!out && jid > 0 && op->pair && op->pair->deposed_jid > 0)
		/* Nothing new exists: the old object stays the recorded one. */
		state_journal_end(r->o->st, op->pair->deposed_jid, &ferr);
	rc = crc;
unlock:
	pthread_mutex_unlock(&r->mu);
	json_decref(attrs);
	json_decref(out);
	return rc;
}

/* The planned changed names still differing now, minus ignored ones (which
 * the plan already left out). */
static json_t *changed_now(const struct plan_change *c, json_t *now)
{
	json_t *keep = json_array(), *v;
	size_t i;

	json_array_foreach(now, i, v)
		if (json_array_has(c->changed, json_string_value(v)))
			json_array_append(keep, v);
	return keep;
}

static int do_update(struct run *r, struct op *op, char **id_out)
{
	const struct plan_change *c = op->ch;
	struct provider_ctx ctx;
	json_t *want = NULL, *diff = NULL, *forces = NULL, *changed = NULL, *out = NULL, *v;
	size_t i;
	int rc = -1, crc;

	provider_ctx_init(r, op, &ctx);
	pthread_mutex_lock(&r->mu);
	want = evaluate(r, op, &op->err);
	if (!want)
		goto unlock;
	if (eval_diff(c->type, want, c->before, NULL, &diff, &forces, &op->err) < 0)
		goto unlock;
	changed = changed_now(c, diff);
	json_array_foreach(forces, i, v)
		if (json_array_has(changed, json_string_value(v))) {
			err_set(&op->err, CAIRN_ESTALE, "%s: a change of '%s' needs a replacement "
				"the plan did not foresee; run 'cairn plan' again",
				c->name, json_string_value(v));
			goto unlock;
		}
	if (json_array_size(changed) == 0) {
		op->unchanged = 1;
		rc = 0;
		goto unlock;
	}
	emit(r, EXEC_EV_START, op, c->id);
	pthread_mutex_unlock(&r->mu);

	/* Remote state: after a conflict no new AWS call starts. */
	if (state_sync(r->o->st, &op->err) < 0) {
		pthread_mutex_lock(&r->mu);
		goto unlock;
	}
	crc = op->ops->update(&ctx, c->id, c->before, want, changed, &out, &op->err);

	pthread_mutex_lock(&r->mu);
	if (out) {
		struct cairn_err rerr;

		err_clear(&rerr);
		if (record(r, op, out, &rerr) < 0) {
			if (crc == 0)
				op->err = rerr;
			goto unlock;
		}
		*id_out = xstrdup(json_string_value(json_object_get(out, "id")));
	}
	rc = crc;
unlock:
	pthread_mutex_unlock(&r->mu);
	json_decref(want);
	json_decref(diff);
	json_decref(forces);
	json_decref(changed);
	json_decref(out);
	return rc;
}

static int do_delete(struct run *r, struct op *op)
{
	const struct plan_change *c = op->ch;
	struct provider_ctx ctx;
	struct cairn_err ferr;
	json_t *in;
	int64_t jid = op->deposed_jid;
	int rc = -1, crc;

	provider_ctx_init(r, op, &ctx);
	pthread_mutex_lock(&r->mu);
	if (!op->deposed) {
		in = journal_intent(c, NULL, c->id, c->before, 0);
		crc = state_journal_begin(r->o->st, r->p->stack, c->name, c->type, "delete", in,
					  &jid, &op->err);
		json_decref(in);
		if (crc < 0)
			goto unlock;
	}
	emit(r, EXEC_EV_START, op, c->id);
	pthread_mutex_unlock(&r->mu);

	/* Remote state: the delete's intent first, as for a create. */
	if (state_sync(r->o->st, &op->err) < 0) {
		pthread_mutex_lock(&r->mu);
		goto unlock;
	}
	crc = op->ops->delete(&ctx, c->id, c->before, &op->err);

	pthread_mutex_lock(&r->mu);
	if (crc < 0)
		goto unlock;    /* the entry stays: the next run re-reads the object */
	if (!op->deposed) {
		if (state_rm(r->o->st, r->p->stack, c->name, &op->err) < 0)
			goto unlock;
		json_object_del(r->known, c->name);
	}
	if (jid > 0)
		state_journal_end(r->o->st, jid, &ferr);
	rc = 0;
unlock:
	pthread_mutex_unlock(&r->mu);
	return rc;
}

static void worker(void *arg)
{
	struct run *r = arg;

	pthread_mutex_lock(&r->mu);
	for (;;) {
		struct op *op;
		char *id = NULL;
		int ok;

		if (r->o->stop && *r->o->stop && !r->stopped) {
			r->stopped = 1;
			r->res->in_flight_at_stop = r->running;
		}
		if (r->stopped || (r->n_ready == 0 && r->running == 0))
			break;
		if (r->n_ready == 0) {
			pthread_cond_wait(&r->cv, &r->mu);
			continue;
		}
		op = &r->ops[r->ready[--r->n_ready]];
		op->status = OP_RUNNING;
		r->running++;
		pthread_mutex_unlock(&r->mu);

		err_clear(&op->err);
		if (op->kind == EXEC_CREATE)
			ok = do_create(r, op, &id) == 0;
		else if (op->kind == EXEC_UPDATE)
			ok = do_update(r, op, &id) == 0;
		else
			ok = do_delete(r, op) == 0;

		pthread_mutex_lock(&r->mu);
		if (r->o->stop && *r->o->stop && !r->stopped) {
			r->stopped = 1;
			r->res->in_flight_at_stop = r->running;
		}
		r->running--;
		if (!op->unchanged)
			emit(r, ok ? EXEC_EV_DONE : EXEC_EV_FAILED, op,
			     op->kind == EXEC_DELETE ? op->ch->id : id);
		finish(r, op, ok);
		free(id);
		pthread_cond_broadcast(&r->cv);
	}
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
}

static int load_state(struct run *r, struct cairn_err *err)
{
	struct state_resource *rs = NULL;
	size_t n = 0, i;

	/* Moves first: the plan compared each moved record under its new
	 * address. A record already moved (a rerun) is not found: nothing to do. */
	for (i = 0; i < r->p->n_changes; i++) {
		const struct plan_change *c = &r->p->changes[i];

		if (c->moved_from && state_mv(r->o->st, r->p->stack, c->moved_from, c->name, err) < 0) {
			if (err->code != CAIRN_ENOTFOUND)
				return -1;
			err_clear(err);
		}
	}
	if (state_list(r->o->st, r->p->stack, &rs, &n, err) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		json_object_set(r->known, rs[i].name, rs[i].attrs);
		json_object_set_new(r->old_deps, rs[i].name,
				    rs[i].deps ? json_incref(rs[i].deps) : json_array());
		state_resource_free(&rs[i]);
	}
	free(rs);
	return 0;
}

static void fill_result(struct run *r)
{
	struct exec_result *res = r->res;
	size_t i;

	res->ops = xcalloc(r->n_ops + 1, sizeof(*res->ops));
	res->n_ops = r->n_ops;
	res->interrupted = r->stopped;
	for (i = 0; i < r->n_ops; i++) {
		struct op *op = &r->ops[i];
		struct exec_report *rep = &res->ops[i];

		rep->name = xstrdup(op->ch->name);
		rep->type = xstrdup(op->ch->type);
		rep->op = op->kind;
		rep->deposed = op->deposed;
		rep->cause = xstrdup(op->cause);
		switch (op->status) {
		case OP_DONE:
			rep->result = EXEC_R_DONE;
			if (op->unchanged)
				break;
			if (op->kind == EXEC_CREATE)
				res->added++;
			else if (op->kind == EXEC_UPDATE)
				res->changed++;
			else
				res->destroyed++;
			break;
		case OP_FAILED:
			rep->result = EXEC_R_FAILED;
			rep->err = op->err;
			res->failed++;
			break;
		case OP_SKIPPED:
			rep->result = EXEC_R_SKIPPED;
			res->skipped++;
			break;
		default:
			rep->result = EXEC_R_NOT_STARTED;
			res->not_started++;
			break;
		}
	}
}

void exec_result_free(struct exec_result *r)
{
	size_t i;

	for (i = 0; i < r->n_ops; i++) {
		free(r->ops[i].name);
		free(r->ops[i].type);
		free(r->ops[i].cause);
	}
	free(r->ops);
	memset(r, 0, sizeof(*r));
}

int exec_run(const struct plan *p, const struct exec_opts *o, struct exec_result *res,
	     struct cairn_err *err)
{
	struct run r = {0};
	size_t i;
	int rc = -1, par = o->parallelism < 1 ? 1 : o->parallelism;

	memset(res, 0, sizeof(*res));
	r.p = p;
	r.o = o;
	r.res = res;
	r.known = json_object();
	r.old_deps = json_object();
	pthread_mutex_init(&r.mu, NULL);
	pthread_cond_init(&r.cv, NULL);
	if (load_state(&r, err) < 0 || build_graph(&r, err) < 0)
		goto out;
	r.ready = xcalloc(r.n_ops + 1, sizeof(*r.ready));
	/* Pushed in reverse so the stack pops them in plan order. */
	for (i = r.n_ops; i-- > 0;)
		if (r.ops[i].n_wait == 0)
			r.ready[r.n_ready++] = i;
	pool_run((size_t)par < r.n_ops ? (size_t)par : r.n_ops, worker, &r);
	rc = 0;
out:
	fill_result(&r);
	graph_free(r.g);
	free(r.ops);
	free(r.ready);
	json_decref(r.known);
	json_decref(r.old_deps);
	pthread_cond_destroy(&r.cv);
	pthread_mutex_destroy(&r.mu);
	return rc;
}

static int mentions_account_id(json_t *v)
{
	const char *k;
	json_t *e;
	size_t i;

	if (json_is_string(v))
		return strstr(json_string_value(v), "aws.account_id") != NULL;
	if (json_is_object(v)) {
		json_object_foreach(v, k, e)
			if (mentions_account_id(e))
				return 1;
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, e)
			if (mentions_account_id(e))
				return 1;
	}
	return 0;
}

int exec_needs_account_id(const struct plan *p)
{
	size_t i;

	for (i = 0; i < p->n_changes; i++)
		if (mentions_account_id(p->changes[i].config))
			return 1;
	return mentions_account_id(p->outputs);
}

/* ---- recovery ---------------------------------------------------------- */

static void emit_simple(const struct exec_opts *o, enum exec_event_kind kind, enum exec_op op,
			const char *name, const char *type, const char *id, int deposed,
			const struct cairn_err *e)
{
	struct exec_event ev = {0};

	if (!o->on_event)
		return;
	ev.kind = kind;
	ev.op = op;
	ev.name = name;
	ev.type = type;
	ev.id = id;
	ev.deposed = deposed;
	ev.err = e;
	o->on_event(o->event_ctx, &ev);
}

/* The id the state records for name, owned, or NULL. */
static char *recorded_id(const struct exec_opts *o, const char *name, struct cairn_err *err,
			 int *failed)
{
	struct state_resource sr = {0};
	int found = 0;
	char *id = NULL;

	*failed = state_get(o->st, o->stack, name, &sr, &found, err) < 0;
	if (!*failed && found)
		id = xstrdup(sr.id);
	if (found)
		state_resource_free(&sr);
	return id;
}

static int recover_create(const struct exec_opts *o, const struct provider_ctx *ctx,
			  const struct resource_ops *ops, json_t *entry, struct cairn_err *err)
{
	json_t *intent = json_object_get(entry, "intent");
	json_t *attrs = json_object_get(intent, "attrs"), *found = NULL;
	struct state_view sr = {0};
	char *have = NULL;
	int failed, rc = -1;

	if (!ops->find) {
		err_set(err, CAIRN_EINTERNAL, "%s: a create was interrupted and type '%s' cannot "
			"look for what it made; check AWS for it, then run 'cairn import'",
			ctx->name, json_string_value(json_object_get(entry, "type")));
		return -1;
	}
	have = recorded_id(o, ctx->name, err, &failed);
	if (failed)
		goto out;
	if (ops->find(ctx, attrs, &found, err) < 0) {
		err_prefix(err, "%s: cannot look for the resource an interrupted create made",
			   ctx->name);
		goto out;
	}
	if (found) {
		const char *id = json_string_value(json_object_get(found, "id"));

		if (!id) {
			err_set(err, CAIRN_EINTERNAL, "%s: find returned no id", ctx->name);
			goto out;
		}
		if (!have || strcmp(have, id) != 0) {
			sr.name = ctx->name;
			sr.type = json_string_value(json_object_get(entry, "type"));
			sr.id = id;
			sr.attrs = found;
			sr.deps = json_object_get(intent, "deps");
			sr.schema_version = (int)json_integer_value(json_object_get(intent,
										    "schema_version"));
			if (state_put(o->st, o->stack, &sr, err) < 0)
				goto out;
			emit_simple(o, EXEC_EV_ADOPTED, EXEC_CREATE, ctx->name, sr.type, id, 0, NULL);
		}
	} else if (late_create_mark(o->st, o->stack, ctx->name, 1, err) < 0) {
		goto out;
	}
	rc = 0;
out:
	free(have);
	json_decref(found);
	return rc;
}

/* One resource read the engine's one way (refresh_read). */
static int read_one(const struct exec_opts *o, const char *name, const char *type,
		    const char *id, json_t *prior, json_t **out, struct cairn_err *err)
{
	struct refresh_opts ro = {0};
	struct refresh_item item = {name, type, id, prior};

	ro.lookup = o->lookup;
	ro.aws = o->aws;
	ro.stack = o->stack;
	ro.parallelism = 1;
	ro.bare_errors = 1;
	ro.cancel = o->cancel;
	ro.sleep_ms = o->sleep_ms;
	return refresh_read(&ro, &item, 1, out, err);
}

static int recover_delete(const struct exec_opts *o, const struct provider_ctx *ctx,
			  const struct resource_ops *ops, json_t *entry, struct cairn_err *err)
{
	json_t *intent = json_object_get(entry, "intent"), *now = NULL;
	json_t *before = json_object_get(intent, "before");
	const char *id = json_string_value(json_object_get(intent, "id"));
	const char *type = json_string_value(json_object_get(entry, "type"));
	char *have = NULL;
	int failed, rc = -1;

	if (!id)
		return 0;
	have = recorded_id(o, ctx->name, err, &failed);
	if (failed)
		goto out;
	if (read_one(o, ctx->name, type, id, before, &now, err) < 0) {
		err_prefix(err, "%s: cannot read the object an interrupted delete was removing",
			   ctx->name);
		goto out;
	}
	if (!now) {
		if (have && strcmp(have, id) == 0) {
			if (state_rm(o->st, o->stack, ctx->name, err) < 0)
				goto out;
			emit_simple(o, EXEC_EV_GONE, EXEC_DELETE, ctx->name, type, id, 0, NULL);
		}
	} else if (!have || strcmp(have, id) != 0) {
		/* Still there and no longer recorded: the old object of a
		 * create-before-destroy replace that was interrupted. */
		emit_simple(o, EXEC_EV_START, EXEC_DELETE, ctx->name, type, id, 1, NULL);
		if (ops->delete(ctx, id, now, err) < 0) {
			emit_simple(o, EXEC_EV_FAILED, EXEC_DELETE, ctx->name, type, id, 1, err);
			goto out;
		}
		emit_simple(o, EXEC_EV_DONE, EXEC_DELETE, ctx->name, type, id, 1, NULL);
	}
	rc = 0;
out:
	free(have);
	json_decref(now);
	return rc;
}

int exec_recover(const struct exec_opts *o, struct cairn_err *err)
{
	json_t *pending = NULL, *entry;
	size_t i;
	int rc = -1;

	if (state_journal_pending(o->st, o->stack, &pending, err) < 0)
		return -1;
	json_array_foreach(pending, i, entry) {
		const char *name = json_string_value(json_object_get(entry, "name"));
		const char *type = json_string_value(json_object_get(entry, "type"));
		const char *op = json_string_value(json_object_get(entry, "op"));
		const struct resource_ops *ops = type && o->lookup ? o->lookup(type) : NULL;
		struct provider_ctx ctx = {0};
		int r;

		if (!name || !op || !ops) {
			err_set(err, CAIRN_EINTERNAL, "journal entry %lld of '%s' names an unknown "
				"resource type '%s'",
				(long long)json_integer_value(json_object_get(entry, "jid")),
				name ? name : "?", type ? type : "?");
			goto out;
		}
		ctx.aws = o->aws;
		ctx.stack = o->stack;
		ctx.name = name;
		ctx.cancel = o->cancel;
		ctx.sleep_ms = o->sleep_ms;
		if (strcmp(op, "create") == 0)
			r = recover_create(o, &ctx, ops, entry, err);
		else
			r = recover_delete(o, &ctx, ops, entry, err);
		if (r < 0)
			goto out;
		if (state_journal_end(o->st, json_integer_value(json_object_get(entry, "jid")),
				      err) < 0)
			goto out;
	}
	rc = 0;
out:
	json_decref(pending);
	return rc;
}

/* ---- refresh ----------------------------------------------------------- */

/* Records what one read returned for sr and reports it. */
static int refresh_record(const struct exec_opts *o, struct state_resource *sr, json_t *now,
			  json_t *ignore, size_t *n_drift, struct cairn_err *err)
{
	struct exec_event ev = {0};
	struct state_view view;
	json_t *changed = NULL;
	int rc = -1;

	ev.name = sr->name;
	ev.type = sr->type;
	ev.id = sr->id;
	ev.op = EXEC_READ;
	if (!now) {
		if (state_rm(o->st, o->stack, sr->name, err) < 0)
			return -1;
		ev.kind = EXEC_EV_GONE;
		(*n_drift)++;
		if (o->on_event)
			o->on_event(o->event_ctx, &ev);
		return 0;
	}
	if (json_equal(now, sr->attrs))
		return 0;
	/* Record exactly what AWS reports; call it drift only where the plan
	 * would see a difference (the same rule, ignore_changes included). */
	changed = refresh_drift(sr->type, sr->attrs, now, ignore, err);
	if (!changed)
		goto out;
	if (json_is_string(json_object_get(now, "id"))) {
		free(sr->id);
		sr->id = xstrdup(json_string_value(json_object_get(now, "id")));
	}
	json_decref(sr->attrs);
	sr->attrs = json_incref(now);
	view = state_view(sr);
	if (state_put(o->st, o->stack, &view, err) < 0)
		goto out;
	if (json_array_size(changed) > 0) {
		ev.kind = EXEC_EV_DRIFT;
		ev.changed = changed;
		(*n_drift)++;
		if (o->on_event)
			o->on_event(o->event_ctx, &ev);
	}
	rc = 0;
out:
	json_decref(changed);
	return rc;
}

int exec_refresh(const struct exec_opts *o, json_t *ignore, size_t *n_drift,
		 struct cairn_err *err)
{
	struct state_resource *rs = NULL;
	struct refresh_opts ro = {0};
	struct refresh_item *items = NULL;
	json_t **outs = NULL;
	size_t n = 0, i;
	int rc = -1;

	*n_drift = 0;
	if (state_list(o->st, o->stack, &rs, &n, err) < 0)
		return -1;
	items = xcalloc(n + 1, sizeof(*items));
	outs = xcalloc(n + 1, sizeof(*outs));
	if (o->stop && *o->stop) {
		err_set(err, CAIRN_ECANCEL, "interrupted before anything was read");
		goto out;
	}
	ro.lookup = o->lookup;
	ro.aws = o->aws;
	ro.stack = o->stack;
	ro.parallelism = o->parallelism;
	ro.cancel = o->cancel;
	ro.sleep_ms = o->sleep_ms;
	for (i = 0; i < n; i++) {
		items[i].name = rs[i].name;
		items[i].type = rs[i].type;
		items[i].id = rs[i].id;
		items[i].prior = rs[i].attrs;
	}
	if (refresh_read(&ro, items, n, outs, err) < 0)
		goto out;
	for (i = 0; i < n; i++)
		if (refresh_record(o, &rs[i], outs[i], json_object_get(ignore, rs[i].name),
				   n_drift, err) < 0)
			goto out;
	rc = 0;
out:
	for (i = 0; i < n; i++) {
		json_decref(outs[i]);
		state_resource_free(&rs[i]);
	}
	free(rs);
	free(outs);
	free(items);
	return rc;
}

/* ---- outputs ----------------------------------------------------------- */

/* The data sources recorded for stack: *out a new NAME -> attributes. */
static int data_recorded(struct state *st, const char *stack, json_t **out, struct cairn_err *err)
{
	struct state_resource *rs = NULL;
	size_t n = 0, i;

	*out = NULL;
	if (state_list_data(st, stack, &rs, &n, err) < 0)
		return -1;
	*out = json_object();
	for (i = 0; i < n; i++) {
		json_object_set(*out, rs[i].name + 5, rs[i].attrs);
		state_resource_free(&rs[i]);
	}
	free(rs);
	return 0;
}

json_t *exec_outputs(const struct plan *p, struct state *st, const char *account_id,
		     struct cairn_err *err)
{
	struct state_resource *rs = NULL;
	struct eval_ctx e = {0};
	json_t *known = json_object(), *out = NULL, *spec, *recorded = NULL;
	const char *name;
	size_t n = 0, i;

	if (state_list(st, p->stack, &rs, &n, err) < 0)
		goto done;
	for (i = 0; i < n; i++)
		json_object_set(known, rs[i].name, rs[i].attrs);
	e.data = p->data;
	if (!p->data && data_recorded(st, p->stack, &recorded, err) < 0)
		goto done;
	if (recorded)
		e.data = recorded;
	e.vars = p->vars;
	e.region = p->region;
	e.stack = p->stack;
	e.account_id = account_id;
	e.resources = known;
	out = json_object();
	json_object_foreach(p->outputs, name, spec) {
		json_t *v = eval_value(&e, json_object_get(spec, "value"), err);

		if (!v) {
			err_prefix(err, "output '%s'", name);
			json_decref(out);
			out = NULL;
			goto done;
		}
		if (!value_has_unknown(v))
			json_object_set_new(out, name, json_pack("{s:O,s:b}", "value", v, "sensitive",
								 json_is_true(json_object_get(spec,
									"sensitive"))));
		json_decref(v);
	}
done:
	for (i = 0; i < n; i++)
		state_resource_free(&rs[i]);
	free(rs);
	json_decref(known);
	json_decref(recorded);
	return out;
}
