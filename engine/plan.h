/*
 * plan: what would change, as plain data (STYLE 9). Built by plan_build
 * from a stack and the (refreshed) state; printed by plan_print_text /
 * plan_print_json; saved and loaded as a file; carried out by the executor
 * (exec.h) from the plan alone.
 */
#ifndef CAIRN_PLAN_H
#define CAIRN_PLAN_H

#include <stdint.h>
#include <stdio.h>
#include <jansson.h>

#include "../lib/util.h"

struct stack;
struct state;
struct aws_client;
struct resource_ops;

enum plan_action {
	PLAN_NOOP,
	PLAN_CREATE,
	PLAN_UPDATE,
	PLAN_REPLACE,
	PLAN_DELETE
};
const char *plan_action_name(enum plan_action a);   /* "create", ... */

struct plan_change {
	char *name;                 /* owned */
	char *type;                 /* owned */
	enum plan_action action;
	char *id;                   /* physical id from the state, or NULL; owned */
	json_t *before;             /* refreshed attributes, or NULL (create); owned */
	json_t *after;              /* planned attributes (unknown markers where not known
				     * yet), or NULL (delete); owned */
	json_t *config;             /* the resource's properties as written, references
				     * unresolved: the executor evaluates them when the
				     * dependencies are done. NULL for delete. owned */
	json_t *changed;            /* array of attribute names that change; owned */
	json_t *replace_because;    /* array: attributes forcing replacement, or
				     * "NAME is replaced" causes; owned */
	json_t *deps;               /* array of resource names it depends on; owned */
	int create_before_destroy;
	int prevent_destroy;
	int schema_version;
	char *note;                 /* shown under the change, e.g. "replaced because api_tg
				     * must be replaced and holds a reference to it"; owned, may be NULL */
	char *moved_from;           /* the address it is recorded under, when a "moved:"
				     * entry renames it (the apply renames the record
				     * first); owned, may be NULL */
};

struct plan {
	char *stack;                /* owned */
	char *region;               /* owned */
	char *lineage;              /* state lineage the plan was made against; owned */
	int64_t serial;             /* state serial the plan was made against */
	struct plan_change *changes; size_t n_changes;   /* dependency order, then name */
	json_t *drift;              /* array of {"name","type","before","after"}; owned */
	json_t *outputs;            /* NAME -> {"value": raw expression, "sensitive": B,
				     * "description": S, "planned": the value evaluated
				     * at plan time, unknown markers where not known
				     * yet}; owned */
	json_t *vars;               /* resolved variables, so apply needs no stack; owned */
	/* Data sources read for this plan (SPEC §3.1): NAME -> attributes, and
	 * NAME -> type; owned, empty objects when there are none. The apply
	 * records them as "data.NAME". */
	json_t *data;
	json_t *data_types;
};

void plan_free(struct plan *p);

struct plan_opts {
	int refresh;                /* read every state resource from AWS first */
	const char *const *targets; /* --target names (with their dependencies) */
	size_t n_targets;
	int destroy;                /* plan the deletion of everything in the state */
	int parallelism;            /* reads in flight at once in the refresh; 0: 10 */
	const char *region;         /* ${aws.region}; NULL: the stack's region */
	/* Resource types (cmd hands in the providers' registry; tests pass
	 * fakes). Required. */
	const struct resource_ops *(*lookup)(const char *type);
	/* ${aws.account_id} with refresh: returns a borrowed string, or NULL
	 * with err. May be NULL (the account is then unknown). Without refresh
	 * it is never called: the account recorded in the state is used. */
	const char *(*account_id)(void *arg, struct cairn_err *err);
	void *account_arg;
	/* Data source types (cmd hands in providers/data.c's registry). NULL:
	 * a stack with data sources cannot be planned. Data sources are read
	 * with or without refresh, never for destroy. */
	const struct data_ops *(*data_lookup)(const char *type);
};

/*
 * Builds the plan of STACK against the state. With refresh, reads every
 * recorded resource through its provider (batched where possible) and
 * lists differences as drift. aws (handed to providers, opaque here) may
 * be NULL when !refresh or when opts->lookup gives providers that need no
 * client. st may be
 * NULL: no state file yet, an empty state. Never writes the state.
 * A replaced resource (delete first) makes every resource referencing it
 * a replacement too ("NAME is replaced" in replace_because, and a note).
 * A create_before_destroy replacement that keeps the value of an attribute
 * marked "unique" is planned delete-first instead (create_before_destroy
 * cleared on the change, with a note), cascade included.
 * Fails (nothing changed anywhere) on a prevent_destroy resource that
 * would be deleted or replaced.
 * Returns an owned plan or NULL with err.
 */
struct plan *plan_build(const struct stack *stack, struct state *st, struct aws_client *aws,
			const struct plan_opts *opts, struct cairn_err *err);

/* True if the stack refers to ${aws.account_id}. */
int plan_uses_account_id(const struct stack *stack);

/* The account id recorded for STACK at its last apply (*out owned, NULL
 * if none), and recording it (no serial change; nothing written when the
 * same one is recorded). */
int plan_recorded_account(struct state *st, const char *stack, char **out,
			  struct cairn_err *err);
int plan_record_account(struct state *st, const char *stack, const char *account,
			struct cairn_err *err);

/* Counts per action. */
struct plan_summary { size_t create, update, replace, delete, noop; };
void plan_summarize(const struct plan *p, struct plan_summary *s);
int plan_has_changes(const struct plan *p);

/*
 * The address of a change: what plans, the state and --target show
 * (today the resource's name). Borrowed from c.
 */
const char *plan_change_address(const struct plan_change *c);

/* Terraform's order of addresses (<0, 0, >0): root module first, then by
 * module, name, and instance key (numbers by value). */
int plan_address_cmp(const char *a, const char *b);

/* The indexes of p->changes in address order (owned; free it). p->changes
 * itself keeps the dependency order the executor works in. */
size_t *plan_sorted(const struct plan *p);

/* "Plan: 2 to add, 1 to change, 2 to destroy." (owned). */
char *plan_summary_line(const struct plan *p);

/* SPEC §2 human form (drift first under "Changed outside cairn:"), in
 * address order; inside objects and lists only what changed. */
void plan_print_text(const struct plan *p, FILE *f, int color);
/* The attribute lines of one change (its note first), as in the text form. */
void plan_print_change_body(const struct plan_change *c, FILE *f, int color);
/* The drift entries as in the text form (address order, no heading). */
void plan_print_drift_entries(const struct plan *p, FILE *f, int color);
/* SPEC §2 markdown form, for a pull-request comment (plan_md.c): deletions
 * and replacements of types that hold data are called out first. */
void plan_print_markdown(const struct plan *p, FILE *f);
/* True for the types whose deletion loses data (tables, buckets, ...):
 * the schema says "holds_data". */
int plan_holds_data(const char *type);
/* SPEC §2 JSON form (new reference). */
json_t *plan_to_json(const struct plan *p);
/* attrs (borrowed, may be NULL) as shown to users: sorted keys, sensitive
 * values "(sensitive)", unknown markers null. New reference (null for NULL). */
json_t *plan_public_attrs(const char *type, const json_t *attrs);

/*
 * Saved plans (apply PLANFILE). Sensitive values are not written in clear:
 * before/after mask them, and the variables and the configuration of
 * sensitive attributes are sealed (AES-256-GCM) with key, the stack's
 * plan key from the state (state_plan_key, PLAN_KEY_LEN bytes; borrowed).
 * A loaded plan holds them sealed until plan_unseal with the same key.
 */
#define PLAN_KEY_LEN 32
int plan_save(const struct plan *p, const char *path, const unsigned char *key,
	      struct cairn_err *err);
struct plan *plan_load(const char *path, struct cairn_err *err);
int plan_unseal(struct plan *p, const unsigned char *key, struct cairn_err *err);

#endif
