/*
 * blockmap: nested attribute blocks (Terraform's snake_case, blocks as
 * one-element lists) to and from an API's camelCase members, driven by a
 * field table per block instead of a pair of hand-written functions per
 * block (CodeBuild's environment and source, CodeDeploy's blue/green
 * configuration, ...).
 */
#ifndef CAIRN_PROVIDERS_BLOCKMAP_H
#define CAIRN_PROVIDERS_BLOCKMAP_H

#include <jansson.h>

enum bm_kind {
	BM_STR,      /* string; "" is left out of requests and read back for absent */
	BM_NUM,      /* number; absent reads back as dflt_num */
	BM_BOOL,     /* bool; absent reads back as false */
	BM_BLOCK,    /* Terraform: list of at most one object; API: an object */
	BM_LIST,     /* a list of objects on both sides */
	BM_MAP,      /* {"k":"v"} on both sides */
	BM_STRS,     /* a list of strings on both sides */
	BM_NAMES,    /* Terraform: list of strings; API: [{key: s}] (key below) */
};

/* One member. A table ends with an entry whose tf is NULL. Immutable. */
struct bm_field {
	const char *tf;               /* "privileged_mode" */
	const char *aws;              /* "privilegedMode" */
	enum bm_kind kind;
	const struct bm_field *sub;   /* BM_BLOCK, BM_LIST: the element's fields */
	const char *key;              /* BM_NAMES: the member naming each element ("name") */
	double dflt_num;              /* BM_NUM: the value absent reads back as */
};

/* tf (borrowed object of Terraform-named attributes; NULL = empty) as the
 * API's object: new ref. Empty strings, lists, maps and blocks are left out. */
json_t *bm_to_aws(json_t *tf, const struct bm_field *fields);

/* aws (borrowed object as the API reports it; NULL = empty) as Terraform
 * attributes, every field present: new ref. */
json_t *bm_from_aws(json_t *aws, const struct bm_field *fields);

/*
 * For an update call that carries the whole resource: bm_to_aws leaves
 * empty values out, which such calls read as "unchanged". For every field
 * named in changed (borrowed array of attribute names) that in (the
 * request, borrowed) lacks, puts the API's empty value instead: "" for a
 * string, [] for a list, {} for a map. Blocks are left to the caller
 * (their "none" differs per API).
 */
void bm_clear_changed(json_t *in, json_t *changed, const struct bm_field *fields);

/* A Terraform block (a list of at most one object, borrowed) as the API's
 * object (new ref), or NULL when the block is absent or empty. */
json_t *bm_block_to_aws(json_t *block, const struct bm_field *fields);

/* An API object (borrowed, may be NULL) as a Terraform block: a new list
 * holding its attributes, or an empty list for NULL or {} (AWS reports an
 * unset block as an empty object). */
json_t *bm_block_from_aws(json_t *aws, const struct bm_field *fields);

#endif
