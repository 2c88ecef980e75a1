/*
 * ec2: what the networking family's files (ec2.c, ec2_route.c, ec2_sg.c)
 * share: describing by filter, tag specifications and tag updates, ARNs
 * EC2 does not report, and calls retried through EC2's eventual
 * consistency.
 *
 * Ownership: json_t parameters are borrowed unless stated; returned json_t
 * are new references.
 */
#ifndef CAIRN_PROVIDERS_EC2_H
#define CAIRN_PROVIDERS_EC2_H

#include <jansson.h>

#include "common.h"

/* Milliseconds to wait, in total, for eventual consistency after a create
 * (a fresh VPC not yet visible to CreateSubnet, ...). */
#define EC2_PROPAGATION_MS (2L * 60 * 1000)

/* [{"ResourceType": rtype, "Tags": user tags + ownership tags}] */
json_t *ec2_tag_specs(const struct provider_ctx *ctx, const char *rtype, json_t *user_tags);

/* The user's tags of an EC2 item ("Tags" list), ownership tags left out. */
json_t *ec2_item_tags(json_t *item);

/* Sets out's "tags" to the user tags of want: what a create call that
 * tagged the resource set, whatever its answer shows. */
void ec2_set_created_tags(json_t *out, json_t *want);

/* Turns the user tags old into want on resource id (CreateTags / DeleteTags). */
int ec2_update_tags(const struct provider_ctx *ctx, const char *id, json_t *old, json_t *want,
		    struct cairn_err *err);

/* "arn:PARTITION:ec2:REGION:OWNER:KIND/ID" as a JSON string. */
json_t *ec2_arn(const struct provider_ctx *ctx, const char *owner, const char *kind,
		const char *id);

/* True for the "...NotFound" codes EC2 answers for a resource that is gone. */
int ec2_is_notfound(const struct cairn_err *err);

/*
 * A delete call: retried while AWS answers DependencyViolation (dependents
 * still going away) for up to timeout_ms; a NotFound answer is success.
 * input is stolen.
 */
int ec2_delete_call(const struct provider_ctx *ctx, const char *op, json_t *input,
		    long timeout_ms, struct cairn_err *err);

/*
 * Describes the items whose id_key is one of ids[0..n) with one paginated
 * call filtered on filter (e.g. "vpc-id"): a filter, unlike the id list
 * parameters, does not fail the whole call when one id is gone.
 * extra: more filters to add (array, borrowed, may be NULL).
 * *byid: new object id -> item (ids AWS does not know are absent).
 * ctxs name the resources for error messages.
 */
int ec2_describe_ids(const struct provider_ctx *const *ctxs, size_t n, const char *const *ids,
		     const char *op, const char *result_key, const char *filter,
		     const char *id_key, json_t *extra, json_t **byid, struct cairn_err *err);

/*
 * The id (id_key) of the item carrying ctx's ownership tags, or NULL
 * (owned string) when there is none; -1 with err on failure.
 */
int ec2_find_owned(const struct provider_ctx *ctx, const char *op, const char *result_key,
		   const char *id_key, char **id, struct cairn_err *err);

/*
 * Polls op (filtered on filter = id) until the item's "State" is state,
 * for up to timeout_ms. A missing item counts as not ready yet.
 */
int ec2_wait_state(const struct provider_ctx *ctx, const char *op, const char *result_key,
		   const char *filter, const char *id_key, const char *id, const char *state,
		   long timeout_ms, struct cairn_err *err);

/* The read of a type with only a batch read, for one resource. */
typedef int (*ec2_batch_fn)(const struct provider_ctx *const *ctxs, size_t n,
			    const char *const *ids, json_t *const *priors, json_t **outs,
			    struct cairn_err *err);
int ec2_read_one(ec2_batch_fn batch, const struct provider_ctx *ctx, const char *id,
		 json_t *prior, json_t **out, struct cairn_err *err);
/*
 * Ends a create. ok: the resource and its follow-up calls are done; then
 * *out is the read of id (want as prior) and 0. Otherwise, or when the
 * read fails, *out = {"id": id} so the engine records what exists, and -1.
 */
int ec2_created(ec2_batch_fn batch, const struct provider_ctx *ctx, const char *id,
		json_t *want, int ok, json_t **out, struct cairn_err *err);

/* Boolean member of obj, or dflt when absent. */
int ec2_bool(json_t *obj, const char *key, int dflt);

/* String member of obj, or "" when absent (borrowed). */
const char *ec2_str(json_t *obj, const char *key);

#endif
