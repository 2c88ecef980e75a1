/*
 * common: set-up shared by commands (stack arguments, state, AWS client).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

#include "cmd.h"
#include "../engine/plan.h"
#include "../engine/schema.h"
#include "../providers/aws/aws.h"
#include "../providers/registry.h"
#include "../state/state.h"

void stack_args_init(struct stack_args *a)
{
	memset(a, 0, sizeof(*a));
}

void stack_args_free(struct stack_args *a)
{
	free(a->vars);
	free(a->var_files);
	memset(a, 0, sizeof(*a));
}

int stack_args_opt(struct stack_args *a, int opt, const char *arg)
{
	switch (opt) {
	case 'f':
		a->file = arg;
		return 1;
	case OPT_VAR:
		a->vars = xrealloc(a->vars, (a->n_vars + 1) * sizeof(*a->vars));
		a->vars[a->n_vars++] = arg;
		return 1;
	case OPT_VAR_FILE:
		a->var_files = xrealloc(a->var_files, (a->n_var_files + 1) * sizeof(*a->var_files));
		a->var_files[a->n_var_files++] = arg;
		return 1;
	}
	return 0;
}

/* What cmd_read_data needs: the options, and where the client goes. */
struct data_reader {
	const struct global_opts *g;
	struct aws_client **aws;
};

/* stack_opts.read_data: one data source through providers/data.c. */
static int cmd_read_data(void *arg, const char *region, const char *name, const char *type,
			 json_t *args, json_t **out, struct cairn_err *err)
{
	struct data_reader *r = arg;
	const struct data_ops *ops = provider_data_lookup(type);
	struct provider_ctx ctx = {0};

	*out = NULL;
	if (!ops) {
		err_set(err, CAIRN_EINVAL, "%s: data source type '%s' cannot be read", name, type);
		return -1;
	}
	if (!*r->aws && !(*r->aws = cmd_aws_client(r->g, region))) {
		err_set(err, CAIRN_EINVAL, "%s: cannot read data sources without AWS access", name);
		return -1;
	}
	ctx.aws = *r->aws;
	ctx.name = name;
	return ops->read(&ctx, args, out, err);
}

static struct stack *load_stack(const struct stack_args *a, const struct global_opts *g,
				struct aws_client **aws);

struct stack *cmd_load_stack(const struct stack_args *a, const struct global_opts *g)
{
	return load_stack(a, g, NULL);
}

struct stack *cmd_load_stack_reading(const struct stack_args *a, const struct global_opts *g,
				     struct aws_client **aws)
{
	return load_stack(a, g, aws);
}

static struct stack *load_stack(const struct stack_args *a, const struct global_opts *g,
				struct aws_client **aws)
{
	struct data_reader reader = {g, aws};
	struct stack_opts so = {0};
	struct diags d;
	struct stack *s;
	const char *file = a->file ? a->file : stack_default_file();

	if (!file) {
		msg_error("no stack file: none of stack.yaml, stack.yml, stack.json here; use -f FILE");
		return NULL;
	}
	so.vars = a->vars;
	so.n_vars = a->n_vars;
	so.var_files = a->var_files;
	so.n_var_files = a->n_var_files;
	so.envp = g->envp;
	so.region = g->region;
	if (aws) {
		so.read_data = cmd_read_data;
		so.read_data_arg = &reader;
	}
	diags_init(&d);
	s = stack_load(file, &so, &d);
	if (!s) {
		diags_print(&d, stderr);
		if (d.n > 1)
			fprintf(stderr, "cairn: %zu errors in '%s'\n", d.n, file);
	}
	diags_free(&d);
	return s;
}

struct state *cmd_open_state(const struct global_opts *g, int create)
{
	struct cairn_err err;
	struct state *st;

	if (cmd_state_is_remote(g->state_path)) {
		st = cmd_open_remote_state(g, create);
	} else {
		err_clear(&err);
		st = state_open(g->state_path, create, &err);
		if (!st)
			msg_err(&err);
	}
	if (st && cmd_state_key(g, st) < 0) {
		state_close(st);
		return NULL;
	}
	return st;
}

/*
 * The wire names of the attributes the schemas mark sensitive, for the
 * client's -v log to hide: an attribute's name in UpperCamelCase
 * ("value" -> "Value", "master_password" -> "MasterPassword"), as AWS
 * names its fields, or the schema's "wire_name". New NULL-terminated list.
 */
/* The wire name of a sensitive attribute: its "wire_name" where AWS names
 * the field otherwise (aws_db_instance password: MasterUserPassword), else
 * its name in UpperCamelCase. New string. */
static char *wire_name(const char *name, json_t *spec)
{
	const char *given = json_string_value(json_object_get(spec, "wire_name"));
	char *w, *q;
	int up = 1;

	if (given)
		return xstrdup(given);
	w = q = xcalloc(strlen(name) + 1, 1);
	for (; *name; name++) {
		if (*name == '_') {
			up = 1;
			continue;
		}
		*q++ = up ? (char)toupper((unsigned char)*name) : *name;
		up = 0;
	}
	return w;
}

static char **sensitive_fields(void)
{
	const json_t *types = schema_types(), *t;
	size_t i, n = 0, cap = 8;
	char **out = xcalloc(cap + 1, sizeof(*out));

	json_array_foreach(types, i, t) {
		const json_t *attrs = schema_attrs(schema_get(json_string_value(t)));
		const char *name;
		json_t *spec;

		json_object_foreach((json_t *)attrs, name, spec) {
			if (!schema_is_sensitive(spec))
				continue;
			if (n == cap) {
				cap *= 2;
				out = xrealloc(out, (cap + 1) * sizeof(*out));
			}
			out[n++] = wire_name(name, spec);
			out[n] = NULL;
		}
	}
	return out;
}

struct aws_client *cmd_aws_client(const struct global_opts *g, const char *region)
{
	struct aws_client_opts o = {0};
	struct cairn_err err;
	struct aws_client *c;
	char **fields = sensitive_fields();
	size_t i;

	err_clear(&err);
	o.secret_fields = (const char *const *)fields;
	o.envp = g->envp;
	o.profile = g->profile;
	o.region = g->region ? g->region : region;
	o.verbose = g->verbose;
	o.log = stderr;
	c = aws_client_new(&o, &err);
	for (i = 0; fields[i]; i++)
		free(fields[i]);
	free(fields);
	if (!c)
		msg_err(&err);
	return c;
}

const char *cmd_account_id(void *aws, struct cairn_err *err)
{
	return provider_account_id(aws, err);
}

char *cmd_stack_name(const struct stack_args *a, const char *explicit_name,
		     const struct global_opts *g, struct state *st)
{
	struct cairn_err err;
	struct stack *s;
	json_t *stacks = NULL;
	char *name = NULL;

	if (explicit_name)
		return xstrdup(explicit_name);
	if (a->file || stack_default_file()) {
		s = cmd_load_stack(a, g);
		if (!s)
			return NULL;
		name = xstrdup(s->name);
		stack_free(s);
		return name;
	}
	err_clear(&err);
	if (state_stacks(st, &stacks, &err) != 0) {
		msg_err(&err);
		return NULL;
	}
	if (json_array_size(stacks) == 1) {
		name = xstrdup(json_string_value(json_array_get(stacks, 0)));
	} else if (json_array_size(stacks) == 0) {
		msg_error("the state '%s' holds no stack; use -f FILE or --stack NAME", g->state_path);
	} else {
		char *list = json_dumps(stacks, JSON_COMPACT);

		msg_error("the state '%s' holds several stacks %s; use -f FILE or --stack NAME",
			  g->state_path, list);
		free(list);
	}
	json_decref(stacks);
	return name;
}

int cmd_confirm(const char *prompt)
{
	char line[64];

	fputs(prompt, stdout);
	fputc(' ', stdout);
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		return 0;
	line[strcspn(line, "\r\n")] = '\0';
	return strcmp(line, "yes") == 0;
}

int cmd_ci(void)
{
	const char *v = env_get(environ, "CI");

	return v && (strcmp(v, "true") == 0 || strcmp(v, "1") == 0 || strcmp(v, "yes") == 0);
}

int cmd_interactive(void)
{
	return !cmd_ci() && isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
}

void cmd_print_plan(const struct plan *p, enum plan_form form, const struct global_opts *g)
{
	json_t *doc;

	switch (form) {
	case PLAN_FORM_JSON:
		doc = plan_to_json(p);
		json_dumpf(doc, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
		json_decref(doc);
		break;
	case PLAN_FORM_MARKDOWN:
		plan_print_markdown(p, stdout);
		break;
	case PLAN_FORM_TEXT:
		plan_print_text(p, stdout, g->color);
		break;
	}
}
