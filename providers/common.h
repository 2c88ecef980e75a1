/*
 * providers/common: what every resource family needs: ownership tags,
 * tag shape conversions, waiting, and error context.
 */
#ifndef CAIRN_PROVIDERS_COMMON_H
#define CAIRN_PROVIDERS_COMMON_H

#include <jansson.h>

#include "../engine/provider.h"
#include "../engine/util.h"
#include "aws/aws.h"

#define OWNER_TAG_STACK "cairn:stack"
#define OWNER_TAG_RESOURCE "cairn:resource"

/* The user's tags (object or NULL, borrowed) plus the two ownership tags: new object. */
json_t *ptags_with_owner(const struct provider_ctx *ctx, json_t *user_tags);
/* {"k":"v"} -> [{"<key_name>":"k","<value_name>":"v"}, ...] sorted by key (new ref). */
json_t *ptags_to_list(json_t *tags, const char *key_name, const char *value_name);
/* The reverse, dropping the ownership tags (new ref; empty object for NULL). */
json_t *ptags_from_list(json_t *list, const char *key_name, const char *value_name);
/* Drops the ownership tags from a tag object (new ref). */
json_t *ptags_strip_owner(json_t *tags);
/* True if the tag list carries this ctx's ownership tags. */
int ptags_owned_by(json_t *list, const char *key_name, const char *value_name,
		   const struct provider_ctx *ctx);

/* Sleeps ms (ctx->sleep_ms if set). Returns -1 if ctx->cancel became nonzero. */
int pwait(const struct provider_ctx *ctx, long ms);

/* aws_call with "OPERATION on NAME: " put before any error message. */
int pcall(const struct provider_ctx *ctx, const char *service, const char *operation,
	  json_t *input, json_t **out, struct cairn_err *err);

/* True if err is an AWS error whose code equals code or starts with code
 * followed by '.' (e.g. "InvalidVpcID" matches "InvalidVpcID.NotFound"). */
int perr_is(const struct cairn_err *err, const char *code);

#endif
