/*
 * provider: the interface between the engine and a resource type.
 *
 * A resource type is its schema (schemas/TYPE.json) plus a struct
 * resource_ops. The engine never names an AWS service or operation: it
 * passes attribute objects in the schema's shape and gets attribute
 * objects back.
 *
 * Attribute objects: a JSON object keyed by the schema's attribute names.
 * Inputs have defaults applied and types coerced (schema_normalize); every
 * value is known (no unknown markers) when a provider sees it. Returned
 * objects hold every schema attribute AWS can report, computed ones
 * included, "id" always. Ownership tags (cairn:stack, cairn:resource) are
 * never part of a returned "tags" map.
 *
 * Ownership of json_t: parameters are borrowed; *out is a new reference
 * the caller must json_decref.
 */
#ifndef CAIRN_PROVIDER_H
#define CAIRN_PROVIDER_H

#include <jansson.h>
#include <signal.h>

#include "../lib/util.h"

struct aws_client;

struct provider_ctx {
	struct aws_client *aws;          /* borrowed, thread-safe */
	const char *stack;               /* stack name: value of the cairn:stack tag */
	const char *name;                /* resource name: value of the cairn:resource tag */
	const volatile sig_atomic_t *cancel; /* may be NULL; nonzero: stop waiting loops soon */
	/* Injected waiting (tests make it fast); NULL means nanosleep. */
	void (*sleep_ms)(long ms);
	/* May be NULL: long waits report here, about every PWAIT_PROGRESS_MS,
	 * e.g. msg "still creating (30s elapsed, status: pending)". */
	void (*progress)(void *arg, const char *name, const char *msg);
	void *progress_arg;
};

struct resource_ops {
	const char *type;                /* "aws_vpc" */

	/* Creates the resource with the ownership tags set in the create call
	 * itself, then any follow-up calls, and waits until it is usable.
	 * On a failure after the resource exists, returns -1 but still sets
	 * *out to what exists (at least "id") so the engine can record it. */
	int (*create)(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
		      struct cairn_err *err);

	/* Reads the resource. prior: the last recorded attributes (for values
	 * AWS cannot report back, e.g. force_delete). If it no longer exists:
	 * returns 0 with *out = NULL.
	 * Import is a read with prior NULL: id is then the id users see in the
	 * console (VPC id, target group ARN, table name, topic ARN, or the
	 * type's documented import form, e.g. CLUSTER/SERVICE), and *out's
	 * "id" is the id to record. */
	int (*read)(const struct provider_ctx *ctx, const char *id, json_t *prior,
		    json_t **out, struct cairn_err *err);

	/* Optional: reads n resources in as few calls as the API allows.
	 * ctxs[i]/ids[i]/priors[i] per resource; outs[i] set like read's *out. */
	int (*read_batch)(const struct provider_ctx *const *ctxs, size_t n,
			  const char *const *ids, json_t *const *priors, json_t **outs,
			  struct cairn_err *err);

	/* Changes in place. old: recorded attributes; want: desired attributes;
	 * changed: array of the top-level attribute names that differ. */
	int (*update)(const struct provider_ctx *ctx, const char *id, json_t *old,
		      json_t *want, json_t *changed, json_t **out, struct cairn_err *err);

	/* Deletes and waits until gone. Already gone counts as success. */
	int (*delete)(const struct provider_ctx *ctx, const char *id, json_t *attrs,
		      struct cairn_err *err);

	/* Crash recovery: finds a resource this stack/name created earlier,
	 * through its ownership tags, or its unique name where the type has
	 * one. attrs: the desired attributes. Returns 0 with *out = NULL when
	 * nothing is found. */
	int (*find)(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
		    struct cairn_err *err);
};

/*
 * A data source type (SPEC §3.1 "Data sources"): read-only, its schema in
 * schemas/data.TYPE.json. args: the data source's properties (borrowed,
 * every value known, only the schema's arguments). On success *out is a
 * new attribute object holding every schema attribute, "id" always. What
 * the arguments select must exist: nothing found (or, for a type that
 * selects one object, more than one) is an error naming the arguments.
 */
struct data_ops {
	const char *type;                /* "aws_vpc" */
	int (*read)(const struct provider_ctx *ctx, json_t *args, json_t **out,
		    struct cairn_err *err);
};

#endif
