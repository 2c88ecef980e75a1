/*
 * tagdiff: what to untag and what to tag to turn one user tag map into
 * another, and the Tag/Untag calls that apply it for the families whose
 * APIs take TagResource / UntagResource style calls.
 */
#ifndef CAIRN_TAGDIFF_H
#define CAIRN_TAGDIFF_H

#include <jansson.h>

#include "common.h"

/*
 * old, want: tag objects (borrowed; NULL means no tags). Ownership tags
 * are never touched. *removed: new array of the keys of old that want
 * lacks; with untag_changed also the keys whose value changes (for APIs
 * that append instead of overwrite). *set: new object of the keys of want
 * that are new or whose value changes.
 */
void tagdiff(json_t *old, json_t *want, int untag_changed, json_t **removed, json_t **set);

/*
 * How one service tags a resource: e.g. ECS "UntagResource" with
 * resourceArn + tagKeys, "TagResource" with resourceArn + tags as a
 * [{key, value}] list. An immutable table per service.
 */
struct ptag_api {
	const char *service;       /* "ecs" */
	const char *untag_op;      /* "UntagResource" */
	const char *tag_op;        /* "TagResource" */
	const char *id_member;     /* "resourceArn": takes the resource id */
	int id_in_list;            /* id_member takes a one-element list of ids */
	const char *keys_member;   /* "tagKeys": the keys to remove */
	const char *tags_member;   /* "tags": the tags to set */
	/* Member names of a tag list entry ("key", "value"); NULL key_name:
	 * the tags go as a {"k":"v"} map. */
	const char *key_name, *value_name;
	/* A constant member both calls also take (SSM's ResourceType), or NULL. */
	const char *extra_member, *extra_value;
	/* The API appends instead of overwriting: changed keys are untagged first. */
	int untag_changed;
};

/*
 * Applies the user tag change old -> want (borrowed tag objects or NULL)
 * to the resource id through api's calls; only the calls with something
 * to do are made. Errors as pcall gives them.
 */
int ptags_sync(const struct provider_ctx *ctx, const struct ptag_api *api, const char *id,
	       json_t *old, json_t *want, struct cairn_err *err);

#endif
