/*
 * tagdiff: what to untag and what to tag to turn one user tag map into
 * another. Shared by the families whose APIs take TagResource /
 * UntagResource style calls (ecs, ecr, dynamodb, sns).
 */
#ifndef CAIRN_TAGDIFF_H
#define CAIRN_TAGDIFF_H

#include <jansson.h>

/*
 * old, want: tag objects (borrowed; NULL means no tags). Ownership tags
 * are never touched. *removed: new array of the keys of old that want
 * lacks; with untag_changed also the keys whose value changes (for APIs
 * that append instead of overwrite). *set: new object of the keys of want
 * that are new or whose value changes.
 */
void tagdiff(json_t *old, json_t *want, int untag_changed, json_t **removed, json_t **set);

#endif
