/*
 * cairn state list | show NAME [--json] | rm NAME | mv FROM TO | pull [FILE] |
 * push FILE [--force]: inspect or edit the state, or move it between a
 * local file and S3 (SPEC §2, §5.1).
 */
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "exec_ui.h"
#include "../engine/schema.h"
#include "../state/state.h"

enum { OPT_JSON = OPT_CMD_BASE, OPT_STACK, OPT_LOCK_TIMEOUT, OPT_FORCE };

static const struct option options[] = {
	STACK_LONGOPTS,
	{"json", no_argument, NULL, OPT_JSON},
	{"stack", required_argument, NULL, OPT_STACK},
	{"lock-timeout", required_argument, NULL, OPT_LOCK_TIMEOUT},
	{"force", no_argument, NULL, OPT_FORCE},
	{NULL, 0, NULL, 0}
};

/* A copy of attrs with the schema's sensitive attributes masked (new ref);
 * a data source ("data.NAME") by its data source schema. */
static json_t *masked(const char *name, const char *type, json_t *attrs)
{
	const json_t *schema = strncmp(name, "data.", 5) ? schema_get(type) : schema_data_get(type);
	json_t *out = json_deep_copy(attrs), *v;
	const char *k;
	void *tmp;

	if (!schema || !json_is_object(out))
		return out;
	json_object_foreach_safe(out, tmp, k, v) {
		const json_t *spec = schema_attr(schema, k);

		if (spec && schema_is_sensitive(spec) && !json_is_null(v))
			json_object_set_new(out, k, json_string("(sensitive)"));
	}
	return out;
}

static int cmp_key(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void print_attrs(json_t *attrs)
{
	const char **keys = xcalloc(json_object_size(attrs) + 1, sizeof(*keys));
	size_t n = 0, i, width = 0;
	const char *k;
	json_t *v;

	json_object_foreach(attrs, k, v) {
		keys[n++] = k;
		if (strlen(k) > width)
			width = strlen(k);
	}
	qsort(keys, n, sizeof(*keys), cmp_key);
	for (i = 0; i < n; i++) {
		json_t *val = json_object_get(attrs, keys[i]);
		size_t flags = JSON_ENCODE_ANY | JSON_SORT_KEYS;
		char *text;

		if (json_is_string(val) && strcmp(json_string_value(val), "(sensitive)") == 0) {
			printf("%-*s = (sensitive)\n", (int)width, keys[i]);
			continue;
		}
		if ((json_is_object(val) && json_object_size(val)) ||
		    (json_is_array(val) && json_array_size(val)))
			flags |= JSON_INDENT(2);
		text = json_dumps(val, flags);
		printf("%-*s = %s\n", (int)width, keys[i], text ? text : "null");
		free(text);
	}
	free(keys);
}

static int do_list(struct state *st, const char *stack)
{
	struct state_resource *list, *data;
	struct cairn_err err;
	size_t n, nd, i, j;

	err_clear(&err);
	if (state_list(st, stack, &list, &n, &err) != 0) {
		msg_err(&err);
		return 1;
	}
	if (state_list_data(st, stack, &data, &nd, &err) != 0) {
		msg_err(&err);
		for (i = 0; i < n; i++)
			state_resource_free(&list[i]);
		free(list);
		return 1;
	}
	/* one list sorted by address: the two are each sorted by name */
	for (i = j = 0; i < n || j < nd;) {
		struct state_resource *r = j == nd || (i < n && strcmp(list[i].name, data[j].name) < 0) ?
					   &list[i++] : &data[j++];

		printf("%s\t%s\t%s\n", r->name, r->type, r->id);
		state_resource_free(r);
	}
	free(list);
	free(data);
	return 0;
}

static int do_show(struct state *st, const char *stack, const char *name, int as_json)
{
	struct state_resource r;
	struct cairn_err err;
	json_t *attrs;
	int found;

	err_clear(&err);
	if (state_get(st, stack, name, &r, &found, &err) != 0) {
		msg_err(&err);
		return 1;
	}
	if (!found) {
		msg_error("no resource '%s' in the state of stack '%s'", name, stack);
		return 1;
	}
	attrs = masked(r.name, r.type, r.attrs);
	if (as_json) {
		json_t *doc = json_pack("{s:s,s:s,s:s,s:O,s:O,s:i}", "name", r.name, "type", r.type,
					"id", r.id, "attributes", attrs, "dependencies", r.deps,
					"schema_version", r.schema_version);

		json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
		fputc('\n', stdout);
		json_decref(doc);
	} else {
		printf("# %s (%s)\n", r.name, r.type);
		print_attrs(attrs);
	}
	json_decref(attrs);
	state_resource_free(&r);
	return 0;
}

static int do_rm(struct state *st, const char *stack, const char *name, int lock_timeout)
{
	struct state_resource r;
	struct cairn_err err;
	char warn[512];
	int found, took, rc = 1;

	err_clear(&err);
	if (state_lock(st, stack, "state rm", lock_timeout, &took, warn, &err) != 0) {
		msg_err(&err);
		return 1;
	}
	if (took)
		msg_warn("%s", warn);
	if (state_get(st, stack, name, &r, &found, &err) != 0) {
		msg_err(&err);
		goto out;
	}
	if (!found) {
		msg_error("no resource '%s' in the state of stack '%s'", name, stack);
		goto out;
	}
	if (state_rm(st, stack, name, &err) != 0) {
		msg_err(&err);
		state_resource_free(&r);
		goto out;
	}
	msg_info("Removed %s (%s, %s) from the state; the AWS resource was not deleted.",
		 r.name, r.type, r.id);
	state_resource_free(&r);
	rc = 0;
out:
	if (state_unlock(st, stack, &err) != 0)
		msg_err(&err);
	return rc;
}

/* state pull [FILE]: the whole state as a local file, or its list. */
static int do_pull(const struct global_opts *g, struct stack_args *sa, const char *stack_opt,
		   const char *file)
{
	struct state *st = cmd_open_state(g, 0);
	struct cairn_err err;
	char *stack = NULL;
	int rc = 1;

	err_clear(&err);
	if (!st)
		return 1;
	if (file) {
		if (state_export(st, file, &err) < 0) {
			msg_err(&err);
			goto out;
		}
		msg_info("Wrote the state %s to '%s'.", g->state_path, file);
		rc = 0;
		goto out;
	}
	stack = cmd_stack_name(sa, stack_opt, g, st);
	if (stack)
		rc = do_list(st, stack);
out:
	free(stack);
	state_close(st);
	return rc;
}

/*
 * Every stack FILE holds must be the same stack as in the state (lineage)
 * and not older (serial), unless forced. Returns 0 or -1 (printed).
 */
static int push_allowed(struct state *src, struct state *dst, const char *file, json_t *stacks,
			int force)
{
	struct cairn_err err;
	size_t i;
	json_t *v;

	err_clear(&err);
	json_array_foreach(stacks, i, v) {
		const char *name = json_string_value(v);
		struct state_stack a, b;

		if (state_stack_get(src, name, &a, &err) < 0 || state_stack_get(dst, name, &b, &err) < 0) {
			msg_err(&err);
			return -1;
		}
		if (b.serial == 0 || force)
			continue;
		if (strcmp(a.lineage, b.lineage) != 0) {
			msg_error("'%s' holds stack '%s' of another lineage (%s) than the state (%s): "
				  "it is not a copy of this state; use --force to replace it anyway",
				  file, name, a.lineage, b.lineage);
			return -1;
		}
		if (a.serial < b.serial) {
			msg_error("'%s' holds an older state of stack '%s' (serial %lld) than the "
				  "state (serial %lld); use --force to replace it anyway", file, name,
				  (long long)a.serial, (long long)b.serial);
			return -1;
		}
	}
	return 0;
}

/* state push FILE [--force]: replaces the state with FILE under the lock. */
static int do_push(const struct global_opts *g, const char *file, int force, int lock_timeout)
{
	struct state *src = NULL, *dst = NULL;
	struct cairn_err err;
	json_t *stacks = NULL;
	const char *lock_name;
	int rc = 1, locked = 0;

	err_clear(&err);
	src = state_open(file, 0, &err);
	if (!src || state_stacks(src, &stacks, &err) < 0) {
		msg_err(&err);
		goto out;
	}
	if (json_array_size(stacks) == 0) {
		msg_error("'%s' holds no stack; nothing to push", file);
		goto out;
	}
	dst = cmd_open_state(g, 1);
	if (!dst)
		goto out;
	lock_name = json_string_value(json_array_get(stacks, 0));
	if (ui_lock(dst, lock_name, "state push", lock_timeout) < 0)
		goto out;
	locked = 1;
	if (push_allowed(src, dst, file, stacks, force) < 0)
		goto out;
	if (state_replace(dst, file, &err) < 0) {
		msg_err(&err);
		goto out;
	}
	rc = 0;
out:
	if (locked && ui_unlock(dst, lock_name) < 0)
		rc = 1;
	if (rc == 0)
		msg_info("Replaced the state %s with '%s'.", g->state_path, file);
	json_decref(stacks);
	state_close(src);
	state_close(dst);
	return rc;
}

/* state mv FROM TO: renames without touching AWS; the ownership tag is
 * rewritten by the next apply that updates the resource. */
static int do_mv(struct state *st, const char *stack, const char *from, const char *to,
		 int lock_timeout)
{
	struct cairn_err err;
	char warn[512];
	int took, rc = 1;

	err_clear(&err);
	if (state_lock(st, stack, "state mv", lock_timeout, &took, warn, &err) != 0) {
		msg_err(&err);
		return 1;
	}
	if (took)
		msg_warn("%s", warn);
	if (state_mv(st, stack, from, to, &err) != 0) {
		msg_err(&err);
		goto out;
	}
	msg_info("Moved %s to %s.", from, to);
	rc = 0;
out:
	if (state_unlock(st, stack, &err) != 0)
		msg_err(&err);
	return rc;
}

int cmd_state(int argc, char **argv, const struct global_opts *g)
{
	struct stack_args sa;
	const char *stack_opt = NULL, *sub, *name = NULL, *to = NULL;
	struct state *st = NULL;
	char *stack = NULL;
	int as_json = 0, lock_timeout = 0, force = 0, c, rc = 1;

	stack_args_init(&sa);
	while ((c = getopt_long(argc, argv, "f:", options, NULL)) != -1) {
		if (stack_args_opt(&sa, c, optarg))
			continue;
		switch (c) {
		case OPT_JSON:
			as_json = 1;
			break;
		case OPT_STACK:
			stack_opt = optarg;
			break;
		case OPT_LOCK_TIMEOUT:
			lock_timeout = atoi(optarg);
			break;
		case OPT_FORCE:
			force = 1;
			break;
		default:
			rc = msg_usage("state", "bad option");
			goto out;
		}
	}
	if (optind >= argc) {
		rc = msg_usage("state", "missing subcommand: list, show, rm, mv, pull or push");
		goto out;
	}
	sub = argv[optind++];
	if (strcmp(sub, "pull") == 0 || strcmp(sub, "push") == 0) {
		const char *file = optind < argc ? argv[optind++] : NULL;

		if (optind < argc) {
			rc = msg_usage("state", "unexpected argument '%s'", argv[optind]);
			goto out;
		}
		if (sub[1] == 'u' && sub[2] == 'l')
			rc = do_pull(g, &sa, stack_opt, file);
		else if (!file)
			rc = msg_usage("state", "'state push' needs a state FILE");
		else
			rc = do_push(g, file, force, lock_timeout);
		goto out;
	}
	if (strcmp(sub, "list") != 0 && strcmp(sub, "show") != 0 && strcmp(sub, "rm") != 0 &&
	    strcmp(sub, "mv") != 0) {
		rc = msg_usage("state", "unknown subcommand '%s': use list, show, rm, mv, pull or push",
			       sub);
		goto out;
	}
	if (strcmp(sub, "list") != 0) {
		if (optind >= argc) {
			rc = msg_usage("state", "'state %s' needs a resource NAME", sub);
			goto out;
		}
		name = argv[optind++];
	}
	if (strcmp(sub, "mv") == 0) {
		if (optind >= argc) {
			rc = msg_usage("state", "'state mv' needs FROM and TO addresses");
			goto out;
		}
		to = argv[optind++];
	}
	if (optind < argc) {
		rc = msg_usage("state", "unexpected argument '%s'", argv[optind]);
		goto out;
	}
	st = cmd_open_state(g, 0);
	if (!st)
		goto out;
	stack = cmd_stack_name(&sa, stack_opt, g, st);
	if (!stack)
		goto out;
	if (strcmp(sub, "list") == 0)
		rc = do_list(st, stack);
	else if (strcmp(sub, "show") == 0)
		rc = do_show(st, stack, name, as_json);
	else if (strcmp(sub, "rm") == 0)
		rc = do_rm(st, stack, name, lock_timeout);
	else
		rc = do_mv(st, stack, name, to, lock_timeout);
out:
	free(stack);
	state_close(st);
	stack_args_free(&sa);
	return rc;
}
