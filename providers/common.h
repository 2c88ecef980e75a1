/*
 * providers/common: what every resource family needs: ownership tags,
 * tag shape conversions, waiting, and error context.
 */
#ifndef CAIRN_PROVIDERS_COMMON_H
#define CAIRN_PROVIDERS_COMMON_H

#include <jansson.h>

#include "../engine/provider.h"
#include "../lib/json.h"
#include "../lib/util.h"
#include "aws/aws.h"

#define OWNER_TAG_STACK "cairn:stack"
#define OWNER_TAG_RESOURCE "cairn:resource"

/* The user's tags (object or NULL, borrowed) plus the two ownership tags: new object. */
json_t *ptags_with_owner(const struct provider_ctx *ctx, json_t *user_tags);

/*
 * The value of the cairn:resource tag for address (SPEC §3.1): in the
 * characters AWS allows in tag values, ["key"] and [N] become /key and /N,
 * any other character outside letters, digits, space and _ . : / = + - @
 * is +HH (its UTF-8 bytes in hex), and "+" itself +2B:
 * module.svc["api"].tg -> module.svc/api.tg. Owned.
 */
char *ptag_resource_value(const char *address);
/* {"k":"v"} -> [{"<key_name>":"k","<value_name>":"v"}, ...] sorted by key (new ref). */
json_t *ptags_to_list(json_t *tags, const char *key_name, const char *value_name);
/* The reverse, dropping the ownership tags (new ref; empty object for NULL). */
json_t *ptags_from_list(json_t *list, const char *key_name, const char *value_name);
/* Drops the ownership tags from a tag object (new ref). */
json_t *ptags_strip_owner(json_t *tags);
/* True if k is one of the two ownership tag keys. */
int ptags_is_owner(const char *k);
/* True if the tag list carries this ctx's ownership tags. */
int ptags_owned_by(json_t *list, const char *key_name, const char *value_name,
		   const struct provider_ctx *ctx);

/*
 * Tag lists of many resources in a few calls: the Resource Groups Tagging
 * API's GetResources for the resources of type_filter (its resource type,
 * e.g. "sns" or "dynamodb:table") that carry the cairn:stack tag of one of
 * ctxs[0, n), 100 a page. New object: ARN -> tag list as AWS reports it
 * ([{"Key","Value"}], ownership tags included).
 *
 * An ARN it leaves out is unknown, not untagged: a resource that lost its
 * stack tag, or every resource when the call fails (where the account
 * does not grant tag:GetResources, say). The caller reads those through
 * the type's own tag call; existence always comes from the type's
 * describe call, as the tagging API may still list what is gone.
 */
json_t *ptags_bulk(const struct provider_ctx *const *ctxs, size_t n, const char *type_filter);

/*
 * The tagging API is an index that may lag behind tag changes, so its
 * answer (a borrowed tag list from ptags_bulk, or NULL) is trusted only
 * when it agrees with the recorded attributes' "tags" (prior, may be
 * NULL): returns list then, else NULL so the caller asks the type's own,
 * authoritative tag call. A change made seconds ago outside cairn may thus
 * show on the next plan rather than this one; a stale index never shows
 * drift that is not there.
 */
json_t *ptags_bulk_confirmed(json_t *list, json_t *prior);

/*
 * Calls item(ctxs[i], i, arg, err) for every i in [0, n) on up to
 * PEACH_THREADS threads (the caller's among them): a batch read whose
 * API takes one resource per call keeps those calls concurrent, as they
 * are when the engine reads one resource per job. After a failure no
 * further item starts; returns -1 with the error of the lowest failed i.
 * item must be safe to run concurrently for different i.
 */
#define PEACH_THREADS 8
typedef int (*peach_fn)(const struct provider_ctx *ctx, size_t i, void *arg,
			struct cairn_err *err);
int peach(const struct provider_ctx *const *ctxs, size_t n, peach_fn item, void *arg,
	  struct cairn_err *err);

/* Sleeps ms (ctx->sleep_ms if set). Returns -1 if ctx->cancel became nonzero. */
int pwait(const struct provider_ctx *ctx, long ms);

/*
 * The one waiter (STYLE 14): every "poll until it is so" of every type goes
 * through it. poll(ctx, arg, status, status_len, err) returns 1 when done,
 * 0 when not yet (it may write a short status, e.g. "pending", into
 * status[status_len] for progress lines), -1 on failure (err set). Between
 * polls it sleeps with exponential backoff from spec->first_ms to
 * spec->max_ms; after spec->timeout_ms of waiting it fails with
 * "WHAT on NAME: gave up after N seconds (last status: S)"; when ctx->cancel
 * becomes nonzero it fails with CAIRN_ECANCEL; about every
 * PWAIT_PROGRESS_MS of waiting it reports through ctx->progress. Zero
 * fields of spec take the PWAIT_* defaults. The first poll runs at once.
 */
#define PWAIT_FIRST_MS 200L
#define PWAIT_MAX_MS 5000L
#define PWAIT_TIMEOUT_MS (10L * 60 * 1000)
#define PWAIT_PROGRESS_MS 10000L
struct pwait_spec {
	const char *what;       /* "waiting for the load balancer to become active" */
	long first_ms, max_ms, timeout_ms;
};
typedef int (*ppoll_fn)(const struct provider_ctx *ctx, void *arg, char *status,
			size_t status_len, struct cairn_err *err);
int pwait_until(const struct provider_ctx *ctx, const struct pwait_spec *spec, ppoll_fn poll,
		void *arg, struct cairn_err *err);

/*
 * pcall retried through the waiter while its AWS error is one of codes
 * (NULL-terminated, matched as perr_is does; NULL: none): the eventual-consistency
 * errors a type is known to produce (DependencyViolation while a dependent
 * is still going, an IAM role not yet visible to ECS, ...). out may be NULL.
 */
int pcall_retry(const struct provider_ctx *ctx, const char *service, const char *operation,
		json_t *input, json_t **out, const char *const *codes, long timeout_ms,
		struct cairn_err *err);

/* pcall_retry where an error is retried only if its message also holds
 * one of msg_parts (NULL-terminated; NULL: any message): for services
 * that say "not yet" with a generic code. */
int pcall_retry_if(const struct provider_ctx *ctx, const char *service, const char *operation,
		   json_t *input, json_t **out, const char *const *codes,
		   const char *const *msg_parts, long timeout_ms, struct cairn_err *err);

/*
 * Deletes by name or id: operation retried through the waiter while its
 * AWS error is one of busy (dependents still going, the resource still
 * being created; may be NULL); an error in gone (NULL-terminated) means
 * it is already gone, which is success.
 */
int pdelete(const struct provider_ctx *ctx, const char *service, const char *operation,
	    json_t *input, const char *const *busy, const char *const *gone, long timeout_ms,
	    struct cairn_err *err);

/* Polls operation (a describe of one resource) through the waiter until
 * it answers one of the gone codes. what: "waiting for the table to go". */
int pwait_gone(const struct provider_ctx *ctx, const char *what, const char *service,
	       const char *operation, json_t *input, const char *const *gone, long timeout_ms,
	       struct cairn_err *err);

/*
 * The create contract when a call after the resource exists fails: drops
 * *out, sets it to {"id": id}, plus {key: id} when key is not NULL (the
 * "arn" or "name" that is the id), and returns -1. The caller keeps err
 * as the failure's and may add what else it knows.
 */
int pcreated_partial(json_t **out, const char *id, const char *key);

typedef int (*pread_fn)(const struct provider_ctx *ctx, const char *id, json_t *prior,
			json_t **out, struct cairn_err *err);

/*
 * The end of a create whose answers lack attributes: reads id back with
 * want as the prior. Not found fails with "OPERATION on NAME: WHAT 'ID'
 * vanished after creation"; on any failure *out is as pcreated_partial
 * leaves it (with key: id when key is not NULL) and -1 is returned.
 */
int pread_created(const struct provider_ctx *ctx, pread_fn read, const char *operation,
		  const char *what, const char *id, json_t *want, const char *key, json_t **out,
		  struct cairn_err *err);

/*
 * The read-back at the end of a create: read(ctx, id, want, out, err),
 * where nothing found fails with CAIRN_ENOTFOUND "OPERATION on NAME: WHAT
 * 'ID' not found after creation". *out is as read left it; the caller
 * still says what a failed create leaves (pcreated_partial or its own).
 */
int pread_back(const struct provider_ctx *ctx, pread_fn read, const char *operation,
	       const char *what, const char *id, json_t *want, json_t **out,
	       struct cairn_err *err);

/* The read-back after a change (an update, a tag call): as pread_back,
 * but nothing found fails with CAIRN_ENOTFOUND "OPERATION on NAME: WHAT
 * 'ID' is gone". */
int pread_after(const struct provider_ctx *ctx, pread_fn read, const char *operation,
		const char *what, const char *id, json_t *want, json_t **out,
		struct cairn_err *err);

/*
 * What pfind_by_name asks of a type: the resource called name (want: the
 * desired attributes, as a read's prior) as attributes (*out, new ref)
 * and its tags as AWS reports them, ownership tags included (*tags, new
 * ref: a [{"Key","Value"}] list); both NULL when nothing has the name.
 */
typedef int (*pnamed_fn)(const struct provider_ctx *ctx, const char *name, json_t *want,
			 json_t **out, json_t **tags, struct cairn_err *err);

/*
 * find (crash recovery) for a type whose name is unique: the name is
 * attrs[key]; what has it counts only when its tags carry ctx's ownership
 * tags (a resource of the same name that is not ours is never adopted).
 * *out NULL when there is nothing of ours.
 */
int pfind_by_name(const struct provider_ctx *ctx, json_t *attrs, const char *key,
		  pnamed_fn named, json_t **out, struct cairn_err *err);

/* aws_call with "OPERATION on NAME: " put before any error message. */
int pcall(const struct provider_ctx *ctx, const char *service, const char *operation,
	  json_t *input, json_t **out, struct cairn_err *err);

/* pcall for operations whose answer carries nothing we need. */
int pcall_void(const struct provider_ctx *ctx, const char *service, const char *operation,
	       json_t *input, struct cairn_err *err);

/* pcall_void where an AWS error whose code is gone (as perr_is matches it)
 * counts as success: for deleting what may already be gone. */
int pcall_gone(const struct provider_ctx *ctx, const char *service, const char *operation,
	       json_t *input, const char *gone, struct cairn_err *err);

/*
 * pcall for reading what may be gone: an AWS error whose code is one of
 * gone (NULL-terminated; matched as perr_is does) means it is not there,
 * which is success with *out NULL. Otherwise as pcall.
 */
int pcall_found(const struct provider_ctx *ctx, const char *service, const char *operation,
		json_t *input, const char *const *gone, json_t **out, struct cairn_err *err);

/* Drops outs[0, n) (new refs or NULL) and sets them to NULL: a failed
 * batch read answers nothing. */
void pouts_clear(json_t **outs, size_t n);

/*
 * Reads one chunk of a batch read: names[from, to) into found (name ->
 * item as AWS describes it). ctx: the context of names[from].
 */
typedef int (*pchunk_fn)(const struct provider_ctx *ctx, const char *const *names, size_t from,
			 size_t to, json_t *found, struct cairn_err *err);
/* Calls chunk over names[0, n) in chunks of at most max names. */
int pread_chunks(const struct provider_ctx *const *ctxs, const char *const *names, size_t n,
		 size_t max, pchunk_fn chunk, json_t *found, struct cairn_err *err);

/* True if the attribute name is in changed (the borrowed list of changed
 * attribute names an update gets). */
int pchanged(json_t *changed, const char *name);
/* qsort comparator for an array of json_t * strings (a non-string sorts as ""). */
int pcmp_json_str(const void *a, const void *b);

/*
 * The strings of have (a set as AWS reports it; borrowed, may be NULL) in
 * the order the prior list (borrowed, may be NULL) had them, the new ones
 * after: sorted if sort_new, else in have's order (for services that keep
 * the order they were written in). A set that did not change reads back
 * exactly as it was written. New array.
 */
json_t *porder_like(json_t *have, json_t *prior, int sort_new);
/* porder_like(have, prior, 1) that takes over have (stolen). New array. */
json_t *porder_take(json_t *have, json_t *prior);

/* The strings of items (borrowed array): each item itself, or its member
 * MEMBER when member is set; other values are skipped. New array. */
json_t *pstr_list(json_t *items, const char *member);

/* obj[key] as a string (borrowed from obj), NULL if absent or not a string. */
const char *pstr(json_t *obj, const char *key);
/* v's string (borrowed from v), or dflt if v is not a string. */
const char *pstr_or(json_t *v, const char *dflt);
/* v as a new JSON string: a copy if v is a string, else "". */
json_t *pstr_json(json_t *v);

/* A JSON document AWS returns as a string (borrowed, may be NULL):
 * parsed (new ref), or null when absent, empty or not JSON. */
json_t *pdoc_json(const char *s);
/* A document attribute (borrowed, may be NULL) as the string AWS takes:
 * a string as it is, other JSON compact with sorted keys; NULL for
 * absent or null. Owned. */
char *pdoc_text(json_t *v);

/* True if err is an AWS error whose code equals code or starts with code
 * followed by '.' (e.g. "InvalidVpcID" matches "InvalidVpcID.NotFound"). */
int perr_is(const struct cairn_err *err, const char *code);
/* True if perr_is matches one of codes (NULL-terminated; NULL: none). */
int perr_in(const struct cairn_err *err, const char *const *codes);

#endif
