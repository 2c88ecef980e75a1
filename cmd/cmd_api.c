/*
 * cairn api SERVICE OPERATION [JSON]: one AWS API call with cairn's
 * credentials, region, endpoints and retries; prints the response as
 * pretty JSON with sorted keys. For troubleshooting and tests.
 */
#include <stdio.h>
#include <stdlib.h>

#include "cmd.h"
#include "../providers/aws/aws.h"
#include "../providers/aws/endpoints.h"

static const struct option options[] = {
	{NULL, 0, NULL, 0}
};

int cmd_api(int argc, char **argv, const struct global_opts *g)
{
	struct aws_client *client = NULL;
	struct cairn_err err;
	json_error_t jerr;
	json_t *input = NULL, *out = NULL;
	const char *service, *operation;
	int c, rc = 1;

	err_clear(&err);
	/* '+': stop at the first operand, so a JSON argument is never taken for options. */
	if ((c = getopt_long(argc, argv, "+", options, NULL)) != -1)
		return msg_usage("api", "bad option");
	if (argc - optind < 2)
		return msg_usage("api", "expected SERVICE and OPERATION");
	if (argc - optind > 3)
		return msg_usage("api", "unexpected argument '%s'", argv[optind + 3]);
	service = argv[optind];
	operation = argv[optind + 1];
	if (!aws_service_find(service))
		return msg_usage("api", "unknown service '%s'", service);
	if (argc - optind == 3) {
		input = json_loads(argv[optind + 2], JSON_REJECT_DUPLICATES, &jerr);
		if (!input)
			return msg_usage("api", "invalid JSON argument: %s (column %d)", jerr.text,
					 jerr.column);
		if (!json_is_object(input)) {
			json_decref(input);
			return msg_usage("api", "the JSON argument must be an object");
		}
	}
	client = cmd_aws_client(g, NULL);
	if (!client)
		goto out;
	if (aws_call(client, service, operation, input, &out, &err) < 0) {
		msg_err(&err);
		goto out;
	}
	json_dumpf(out, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
	fputc('\n', stdout);
	rc = 0;
out:
	json_decref(input);
	json_decref(out);
	aws_client_free(client);
	return rc;
}
