/*
 * proto: the AWS wire protocols behind aws_call's one calling convention.
 * A builder turns the JSON input (the API's member names and shapes) into
 * the body and headers to sign; a parser turns the HTTP response into the
 * JSON output shape or into an AWS error.
 *
 *   query (elbv2, sns, iam, sts, cloudwatch) and ec2: form-encoded body,
 *   XML response (shape facts from shapes.c); json 1.0/1.1: JSON both ways.
 */
#ifndef CAIRN_PROTO_H
#define CAIRN_PROTO_H

#include <stddef.h>
#include <jansson.h>

#include "../../lib/util.h"
#include "endpoints.h"

struct proto_request {
	struct strbuf body;         /* owned; release with proto_request_free */
	const char *content_type;   /* static */
	char target[256];           /* X-Amz-Target value, "" when the protocol has none */
};
void proto_request_free(struct proto_request *r);

/* query and ec2 (by svc->protocol). input borrowed, may be NULL. Cannot fail. */
void proto_query_build(const struct aws_service *svc, const char *operation, json_t *input,
		       struct proto_request *req);
/*
 * Parses a query/ec2 response. header_request_id (borrowed, may be NULL) is
 * the x-amzn-RequestId header, used when the body has none. Returns 0 with
 * *out a new object, or -1 with err filled (CAIRN_EAWS: remote.status,
 * remote.code, remote.request_id, msg "CODE: message").
 */
int proto_query_parse(const struct aws_service *svc, const char *operation, long status,
		      const char *body, size_t len, const char *header_request_id,
		      json_t **out, struct cairn_err *err);

/* json 1.0/1.1. Same contracts; header_error_type is x-amzn-ErrorType. */
void proto_json_build(const struct aws_service *svc, const char *operation, json_t *input,
		      struct proto_request *req);
int proto_json_parse(long status, const char *body, size_t len, const char *header_request_id,
		     const char *header_error_type, json_t **out, struct cairn_err *err);

/* Fills err from an XML error body (<ErrorResponse><Error>, <Response><Errors><Error>,
 * <ErrorResponse><Errors><Error>), or "HTTP STATUS: start of body" when it has none. */
void proto_xml_error(long status, const char *body, size_t len, const char *header_request_id,
		     struct cairn_err *err);

/* Fills err as an AWS error: code CAIRN_EAWS, msg "CODE: message". */
void proto_error(struct cairn_err *err, long status, const char *code, const char *message,
		 const char *request_id);

#endif
