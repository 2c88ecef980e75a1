/*
 * proto_json: the json 1.0/1.1 protocol (dynamodb, ecs, ecr, logs, ssm,
 * servicediscovery): POST / with X-Amz-Target: PREFIX.Operation and the
 * input as the JSON body; errors carry __type ("prefix#Code") and
 * message/Message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

void proto_json_build(const struct aws_service *svc, const char *operation, json_t *input,
		      struct proto_request *req)
{
	char *text = input ? json_dumps(input, JSON_COMPACT) : NULL;

	memset(req, 0, sizeof(*req));
	strbuf_init(&req->body);
	strbuf_adds(&req->body, text ? text : "{}");
	free(text);
	req->content_type = strcmp(svc->json_version, "1.0") == 0 ? "application/x-amz-json-1.0"
								  : "application/x-amz-json-1.1";
	snprintf(req->target, sizeof(req->target), "%s.%s", svc->target_prefix, operation);
}

/* "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException" -> the code;
 * the x-amzn-ErrorType header may carry ":http://..." after it. */
static char *error_code(const char *type)
{
	const char *hash = strrchr(type, '#');
	const char *s = hash ? hash + 1 : type;

	return xstrndup(s, strcspn(s, ":"));
}

int proto_json_parse(long status, const char *body, size_t len, const char *header_request_id,
		     const char *header_error_type, json_t **out, struct cairn_err *err)
{
	json_error_t jerr;
	json_t *doc = len ? json_loadb(body, len, JSON_DECODE_ANY, &jerr) : json_object();
	const char *type, *message;
	char *code;
	size_t i = 0;

	*out = NULL;
	if (status >= 200 && status < 300) {
		/* an operation without output may answer "null" (moto does) */
		if (json_is_null(doc)) {
			json_decref(doc);
			doc = json_object();
		}
		if (!doc || !json_is_object(doc)) {
			err_set(err, CAIRN_EAWS, "malformed JSON response: %s",
				doc ? "not an object" : jerr.text);
			err->remote.status = (int)status;
			json_decref(doc);
			return -1;
		}
		*out = doc;
		return 0;
	}
	while (!doc && i < len && (body[i] == ' ' || body[i] == '\n' || body[i] == '\r'))
		i++;
	if (!doc && i < len && body[i] == '<') {
		/* Some front ends (and moto's signature check) answer json calls in XML. */
		proto_xml_error(status, body, len, header_request_id, err);
		return -1;
	}
	type = json_string_value(json_object_get(doc, "__type"));
	if (!type)
		type = json_string_value(json_object_get(doc, "code"));
	if (!type)
		type = header_error_type;
	message = json_string_value(json_object_get(doc, "message"));
	if (!message)
		message = json_string_value(json_object_get(doc, "Message"));
	if (!message)
		message = json_string_value(json_object_get(doc, "errorMessage"));
	code = error_code(type ? type : "");
	if (!*code && !message) {
		char *snippet = xstrndup(body, len > 200 ? 200 : len);

		proto_error(err, status, "", "", header_request_id);
		snprintf(err->msg, sizeof(err->msg), "HTTP %ld: %s", status,
			 *snippet ? snippet : "empty response");
		free(snippet);
	} else {
		proto_error(err, status, code, message, header_request_id);
	}
	free(code);
	json_decref(doc);
	return -1;
}
