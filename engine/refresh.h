/*
 * refresh: reading recorded resources back from AWS, the one way the
 * engine does it (plan's refresh, `cairn refresh`, recovery, import).
 *
 * refresh_read adapts the provider contract: a type with read_batch gets
 * its ids in chunks (one request for many resources where the API allows),
 * a type without gets one read per id; either way on the engine's pool.
 * refresh_drift is the one rule for what counts as a change made outside
 * cairn, lifecycle.ignore_changes honoured.
 */
#ifndef CAIRN_REFRESH_H
#define CAIRN_REFRESH_H

#include <signal.h>
#include <stddef.h>
#include <jansson.h>

#include "../lib/util.h"

struct aws_client;
struct resource_ops;

struct refresh_opts {
	const struct resource_ops *(*lookup)(const char *type);  /* required */
	struct aws_client *aws;         /* borrowed; handed to providers */
	const char *stack;              /* the cairn:stack tag value */
	int parallelism;                /* reads in flight at once; < 1: 10 */
	const volatile sig_atomic_t *cancel;   /* provider_ctx.cancel; may be NULL */
	void (*sleep_ms)(long ms);      /* provider_ctx.sleep_ms; may be NULL */
	/* Errors as the provider said them, without "refreshing 'NAME'" in
	 * front (import and recovery say what they were doing themselves). */
	int bare_errors;
};

/* One resource to read. All borrowed. */
struct refresh_item {
	const char *name;
	const char *type;
	const char *id;                 /* physical id */
	json_t *prior;                  /* last recorded attributes, or NULL (import) */
};

/*
 * Reads items[0..n). outs[i] (caller's array of n): new reference, or
 * NULL when the resource no longer exists. Returns 0, or -1 with err (the
 * first failure in item order; every outs[i] NULL): an unknown type, or a
 * failed read.
 */
int refresh_read(const struct refresh_opts *o, const struct refresh_item *items, size_t n,
		 json_t **outs, struct cairn_err *err);

/*
 * The attributes of a TYPE resource recorded as `recorded` that AWS now
 * reports differently in `now` (not NULL: a vanished resource is the
 * caller's own case), in
 * the plan's terms (eval_diff: output-only values and ignored names
 * aside). New array of names, or NULL with err on an unknown type.
 */
json_t *refresh_drift(const char *type, json_t *recorded, json_t *now, json_t *ignore,
		      struct cairn_err *err);

#endif
