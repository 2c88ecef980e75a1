/*
 * fuzz_json_resp: JSON 1.0/1.1 protocol responses (proto_json_parse).
 * Input: byte 0 picks the HTTP status and whether an x-amzn-ErrorType
 * header comes with it, the rest is the body.
 */
#include <jansson.h>

#include "fuzz.h"
#include "../../providers/aws/proto.h"

static const long statuses[] = {200, 200, 200, 400, 403, 404, 413, 500, 503, 204};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const types[] = {
		NULL, "ThrottlingException", "ResourceNotFoundException:http://internal.amazon.com/",
		"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException", "", ":",
	};
	struct cairn_err err;
	json_t *out = NULL;
	long status;
	const char *type;

	if (size < 1)
		return 0;
	status = statuses[data[0] % (sizeof(statuses) / sizeof(statuses[0]))];
	type = types[(data[0] / 16) % (sizeof(types) / sizeof(types[0]))];
	err_clear(&err);
	if (proto_json_parse(status, (const char *)data + 1, size - 1, "hdr-rid", type, &out,
			     &err) == 0)
		json_decref(out);
	return 0;
}
