/*
 * refresh: see refresh.h. A job is one resource read, or one batch read of
 * up to a chunk of a type's resources; a chunk is a share of the type so
 * that every worker has one, but never small, so batching still saves
 * requests. A 1000-resource refresh one request after another would spend
 * nearly all its time waiting on AWS.
 */
#include <stdlib.h>
#include <string.h>

#include "refresh.h"
#include "eval.h"
#include "pool.h"
#include "provider.h"

#define REFRESH_PARALLELISM 10
#define MIN_BATCH_CHUNK 50

struct job {
	const struct resource_ops *ops;
	const size_t *idx; size_t n;    /* item indexes (borrowed from the idx array) */
	int rc;
	struct cairn_err err;
};

struct reading {
	const struct refresh_opts *o;
	const struct refresh_item *items;
	struct provider_ctx *ctxs;      /* per item */
	json_t **outs;                  /* per item */
	struct job *jobs;
};

static int run_job(void *arg, size_t k)
{
	struct reading *r = arg;
	struct job *j = &r->jobs[k];
	const struct provider_ctx **ctxp = xcalloc(j->n, sizeof(*ctxp));
	const char **ids = xcalloc(j->n, sizeof(*ids));
	json_t **priors = xcalloc(j->n, sizeof(*priors));
	json_t **outs = xcalloc(j->n, sizeof(*outs));
	size_t i;

	for (i = 0; i < j->n; i++) {
		const struct refresh_item *it = &r->items[j->idx[i]];

		ctxp[i] = &r->ctxs[j->idx[i]];
		ids[i] = it->id ? it->id : "";
		priors[i] = it->prior;
	}
	err_clear(&j->err);
	if (j->n > 1) {
		j->rc = j->ops->read_batch(ctxp, j->n, ids, priors, outs, &j->err);
		if (j->rc < 0 && !r->o->bare_errors)
			err_prefix(&j->err, "refreshing %s resources", j->ops->type);
	} else {
		j->rc = j->ops->read(ctxp[0], ids[0], priors[0], &outs[0], &j->err);
		if (j->rc < 0 && !r->o->bare_errors)
			err_prefix(&j->err, "refreshing '%s'", r->items[j->idx[0]].name);
	}
	for (i = 0; i < j->n; i++) {
		if (j->rc < 0)
			json_decref(outs[i]);
		else
			r->outs[j->idx[i]] = outs[i];
	}
	free(outs);
	free(priors);
	free(ids);
	free(ctxp);
	return j->rc < 0;
}

int refresh_read(const struct refresh_opts *o, const struct refresh_item *items, size_t n,
		 json_t **outs, struct cairn_err *err)
{
	size_t workers = o->parallelism > 0 ? (size_t)o->parallelism : REFRESH_PARALLELISM;
	size_t *idx = xcalloc(n + 1, sizeof(*idx));
	char *done = xcalloc(n + 1, 1);
	struct reading r = {0};
	size_t i, j, m, at = 0, n_jobs = 0;
	int rc = -1;

	r.o = o;
	r.items = items;
	r.outs = outs;
	r.jobs = xcalloc(n + 1, sizeof(*r.jobs));
	r.ctxs = xcalloc(n + 1, sizeof(*r.ctxs));
	for (i = 0; i < n; i++) {
		outs[i] = NULL;
		r.ctxs[i].aws = o->aws;
		r.ctxs[i].stack = o->stack;
		r.ctxs[i].name = items[i].name;
		r.ctxs[i].cancel = o->cancel;
		r.ctxs[i].sleep_ms = o->sleep_ms;
	}
	/* One group per type (idx holds them one after another), so batch
	 * reads see many ids of their type. */
	for (i = 0; i < n; i++) {
		const struct resource_ops *ops;
		size_t chunk = 1, k;

		if (done[i])
			continue;
		for (j = i, m = 0; j < n; j++)
			if (!done[j] && strcmp(items[j].type, items[i].type) == 0) {
				idx[at + m++] = j;
				done[j] = 1;
			}
		ops = o->lookup(items[i].type);
		if (!ops) {
			err_set(err, CAIRN_EINVAL, "resource '%s' in the state has unknown type '%s'",
				items[i].name, items[i].type);
			goto out;
		}
		if (ops->read_batch && m > 1) {
			chunk = (m + workers - 1) / workers;
			if (chunk < MIN_BATCH_CHUNK)
				chunk = MIN_BATCH_CHUNK;
		}
		for (k = 0; k < m; k += chunk) {
			struct job *jb = &r.jobs[n_jobs++];

			jb->ops = ops;
			jb->idx = idx + at + k;
			jb->n = m - k < chunk ? m - k : chunk;
		}
		at += m;
	}
	pool_each(workers, n_jobs, run_job, &r);
	/* The first failure in job order, whichever thread met it first. */
	for (i = 0; i < n_jobs; i++)
		if (r.jobs[i].rc < 0) {
			*err = r.jobs[i].err;
			goto out;
		}
	rc = 0;
out:
	if (rc < 0)
		for (i = 0; i < n; i++) {
			json_decref(outs[i]);
			outs[i] = NULL;
		}
	free(r.ctxs);
	free(r.jobs);
	free(done);
	free(idx);
	return rc;
}

json_t *refresh_drift(const char *type, json_t *recorded, json_t *now, json_t *ignore,
		      struct cairn_err *err)
{
	json_t *changed = NULL, *forces = NULL;

	if (eval_diff(type, now, recorded, ignore, &changed, &forces, err) < 0)
		return NULL;
	json_decref(forces);
	return changed;
}
