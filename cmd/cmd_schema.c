/*
 * cairn schema [TYPE] [--json]: the embedded resource schemas, as a list
 * of types or one type's attributes (engine/schema.h).
 */
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "../engine/schema.h"
#include "../engine/suggest.h"

enum { OPT_JSON = OPT_CMD_BASE };

static const struct option schema_longopts[] = {
	{"json", no_argument, NULL, OPT_JSON},
	{NULL, 0, NULL, 0}
};

static void list_types(int json)
{
	const json_t *types = schema_types();
	json_t *e, *out = json_object();
	size_t i, width = 0;

	json_array_foreach(types, i, e)
		if (strlen(json_string_value(e)) > width)
			width = strlen(json_string_value(e));
	json_array_foreach(types, i, e) {
		const char *t = json_string_value(e);
		const char *d = json_string_value(json_object_get(schema_get(t), "description"));

		if (json)
			json_object_set_new(out, t, json_string(d ? d : ""));
		else
			printf("%-*s  %s\n", (int)width, t, d ? d : "");
	}
	if (json) {
		json_dumpf(out, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
		fputc('\n', stdout);
	}
	json_decref(out);
}

/* "string, required, forces replacement, sensitive, unique, unordered" */
static void print_flags(const json_t *spec)
{
	const char *t = schema_type_of(spec);
	const json_t *elem = json_object_get(spec, "elem");

	if (elem && (!strcmp(t, "list") || !strcmp(t, "map")))
		printf("%s of %s", t, schema_type_of(elem));
	else
		fputs(t, stdout);
	if (schema_is_required(spec))
		fputs(", required", stdout);
	else if (schema_is_output(spec))
		fputs(", computed (read-only)", stdout);
	else if (schema_is_computed(spec))
		fputs(", optional, computed when unset", stdout);
	else
		fputs(", optional", stdout);
	if (schema_forces_new(spec))
		fputs(", forces replacement", stdout);
	if (schema_is_sensitive(spec))
		fputs(", sensitive", stdout);
	if (json_is_true(json_object_get(spec, "unique")))
		fputs(", unique", stdout);
	if (json_is_true(json_object_get(spec, "unordered")))
		fputs(", unordered", stdout);
	fputc('\n', stdout);
}

static void print_attrs(const json_t *attrs, const char *prefix, int indent)
{
	const char *k;
	json_t *spec;

	json_object_foreach((json_t *)attrs, k, spec) {
		const json_t *d = json_object_get(spec, "description");
		const json_t *def = json_object_get(spec, "default");
		const json_t *allowed = json_object_get(spec, "allowed");
		const json_t *pattern = json_object_get(spec, "pattern");
		const json_t *elem = json_object_get(spec, "elem");
		const json_t *nested = json_object_get(spec, "attributes");

		printf("%*s%s%s: ", indent, "", prefix, k);
		print_flags(spec);
		if (json_is_string(d))
			printf("%*s    %s\n", indent, "", json_string_value(d));
		if (def) {
			char *s = json_dumps(def, JSON_ENCODE_ANY | JSON_COMPACT);

			printf("%*s    default: %s\n", indent, "", s);
			free(s);
		}
		if (allowed) {
			char *s = json_dumps(allowed, JSON_ENCODE_ANY | JSON_COMPACT);

			printf("%*s    allowed: %s\n", indent, "", s);
			free(s);
		}
		if (json_is_string(pattern))
			printf("%*s    pattern: %s\n", indent, "", json_string_value(pattern));
		if (!nested && elem)
			nested = json_object_get(elem, "attributes");
		if (nested) {
			char *p = xasprintf("%s%s%s.", prefix, k,
					    !strcmp(schema_type_of(spec), "list") ? "[]" : "");

			print_attrs(nested, p, indent + 4);
			free(p);
		}
	}
}

int cmd_schema(int argc, char **argv, const struct global_opts *g)
{
	const json_t *schema;
	const char *type, *d, *id;
	int opt, json = 0;

	(void)g;
	while ((opt = getopt_long(argc, argv, "", schema_longopts, NULL)) != -1) {
		if (opt != OPT_JSON)
			return msg_usage("schema", "unknown option");
		json = 1;
	}
	if (argc - optind > 1)
		return msg_usage("schema", "unexpected argument '%s'", argv[optind + 1]);
	if (optind == argc) {
		list_types(json);
		return 0;
	}
	type = argv[optind];
	schema = schema_get(type);
	if (!schema) {
		const char *near = suggest_json(type, schema_types());

		if (near)
			msg_error("unknown resource type '%s'; did you mean '%s'?", type, near);
		else
			msg_error("unknown resource type '%s'; 'cairn schema' lists them", type);
		return 1;
	}
	if (json) {
		json_dumpf(schema, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
		return 0;
	}
	d = json_string_value(json_object_get(schema, "description"));
	id = json_string_value(json_object_get(schema, "import_id"));
	printf("%s: %s\n", type, d ? d : "");
	if (id)
		printf("import id: %s\n", id);
	printf("\nattributes:\n");
	print_attrs(schema_attrs(schema), "", 2);
	return 0;
}
