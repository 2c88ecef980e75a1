/*
 * stack: loading a stack file (YAML 1.2 core schema through libyaml, or
 * JSON through jansson) into one model, resolving variables, and checking
 * it against the schemas (SPEC §3). Every error carries file:line:col and
 * all errors are collected, not just the first.
 */
#ifndef CAIRN_STACK_H
#define CAIRN_STACK_H

#include <stddef.h>
#include <jansson.h>

#include "../lib/util.h"
#include "diag.h"

struct stack_resource {
	char *name;             /* the instance's address: "vpc", "subnet[0]", "repo[\"api\"]" */
	char *base;             /* the resource's own name in its file: "subnet" */
	json_t *key;            /* count index (integer), for_each key (string), or NULL */
	char *type;
	struct srcpos pos;      /* of the resource's name key */
	/* Properties as written, variables/aws.region/stack.name already
	 * substituted; resource references stay as "${NAME.ATTR}" text (and
	 * "$${" as written). Owned. */
	json_t *properties;
	json_t *depends_on;     /* array of names as written (explicit edges); owned */
	json_t *deps;           /* sorted unique array of every resource name this one
				 * depends on (references + depends_on); owned */
	int prevent_destroy;
	int create_before_destroy;
	json_t *ignore_changes; /* array of attribute names; owned */
};

/* A data source (SPEC §3.1): read before every plan, never changed. */
struct stack_data {
	char *name;             /* "vpc": referenced as ${data.vpc.ATTR}, recorded as "data.vpc" */
	char *type;             /* "aws_vpc" (schemas/data.aws_vpc.json) */
	struct srcpos pos;      /* of the name key */
	/* Properties with variables and known locals substituted; references
	 * to other data sources stay as "${data.NAME.ATTR}" text. Owned. */
	json_t *properties;
	json_t *deps;           /* sorted array of the data source names it uses; owned */
};

struct stack_output {
	char *name;
	json_t *value;          /* as written, with references; owned */
	char *description;      /* may be NULL */
	int sensitive;
	struct srcpos pos;
};

struct stack {
	char *file;             /* path as given */
	char *name;             /* "stack:" after substitution */
	char *region;           /* "region:" or NULL */
	struct stack_resource *resources; size_t n_resources;  /* file order; a module's
								* resources where it is called */
	size_t cap_resources;
	struct stack_output *outputs; size_t n_outputs;        /* file order */
	struct stack_data *data; size_t n_data;                 /* in an order that reads
								 * what one uses before it */
	json_t *data_read;      /* NAME -> attributes read while loading (stack_opts.read_data),
				 * or NULL; owned */
	json_t *vars;           /* resolved variables: name -> value; owned */
	json_t *moves;          /* "moved:": array of {"from": ADDRESS, "to": ADDRESS}; owned */
	/* Position of every value, for errors found later (e.g. by the plan):
	 * use stack_pos(). */
	void *posmap;
	/* Resource name -> index for stack_find (a jansson object, owned); NULL
	 * in a stack built by hand, where stack_find searches linearly. */
	void *by_name;
};

/* Options from the command line and environment (all borrowed). */
struct stack_opts {
	const char *const *vars;      /* "NAME=VALUE" from --var, in order */
	size_t n_vars;
	const char *const *var_files; /* --var-file paths */
	size_t n_var_files;
	char *const *envp;            /* for CAIRN_VAR_<NAME> */
	const char *region;           /* --region, overrides the stack's for ${aws.region} */
	/* Reads data source NAME of TYPE (args known; region: the stack's) into
	 * *out (new reference), or -1 with err. Set by plan and apply, so that
	 * count, for_each and locals can use data sources (SPEC §3.1); NULL
	 * (validate): nothing is read and their values are unknown. */
	int (*read_data)(void *arg, const char *region, const char *name, const char *type,
			 json_t *args, json_t **out, struct cairn_err *err);
	void *read_data_arg;
};

/*
 * Loads and fully validates PATH: syntax, variables, unknown types and
 * attributes (nearest valid name suggested), required attributes, types,
 * allowed values and patterns, references to unknown resources /
 * attributes / variables, dependency cycles. Makes no network call.
 * Returns the stack (owned) or NULL with every problem in diags.
 */
struct stack *stack_load(const char *path, const struct stack_opts *opts, struct diags *diags);
void stack_free(struct stack *s);

/* The default stack file in the current directory (stack.yaml, stack.yml,
 * stack.json), or NULL. Borrowed static string. */
const char *stack_default_file(void);

/* Index of resource NAME, or -1 (a hash lookup after stack_load). */
long stack_find(const struct stack *s, const char *name);

/* Dependency order (topological, ties broken by name): *order is an owned
 * array of n_resources indexes. The stack is known acyclic after stack_load. */
void stack_topo_order(const struct stack *s, size_t **order);

/* Writes the dependency graph as Graphviz DOT. */
void stack_write_dot(const struct stack *s, FILE *f);

/*
 * Source position of a value of the stack file, by path: keys joined with
 * '.', list elements as "[N]", e.g. "resources.vpc.properties.cidr_block"
 * or "outputs.alb_dns.value". key: the position of the key rather than the
 * value. Falls back to the nearest ancestor with a position, then 1:1.
 */
struct srcpos stack_pos(const struct stack *s, const char *path, int key);

#endif
