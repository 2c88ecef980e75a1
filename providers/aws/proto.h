/*
 * proto: the AWS wire protocols behind aws_call's one calling convention.
 * A builder turns the JSON input (the API's member names and shapes) into
 * the body and headers to sign; a parser turns the HTTP response into the
 * JSON output shape or into an AWS error.
 *
 *   query (elbv2, sns, iam, sts, cloudwatch) and ec2: form-encoded body,
 *   XML response (shape facts from shapes.c); json 1.0/1.1: JSON both ways;
 *   rest-xml (s3, route53) and rest-json (lambda): method, URI, headers,
 *   query and body placed by the shape table (proto_rest.c).
 */
#ifndef CAIRN_PROTO_H
#define CAIRN_PROTO_H

#include <stddef.h>
#include <jansson.h>

#include "../../lib/util.h"
#include "endpoints.h"

struct proto_header {
	char *name;                 /* owned */
	char *value;                /* owned */
};

struct proto_request {
	struct strbuf body;         /* owned; release with proto_request_free */
	const char *content_type;   /* static; NULL: no Content-Type header */
	char target[256];           /* X-Amz-Target value, "" when the protocol has none */
	/* The REST protocols fill the rest; query and json leave them zero
	 * (POST / with no query). */
	char method[8];             /* "" means POST */
	char *path;                 /* owned: the path as sent (percent-encoded), NULL means "/" */
	char *sign_path;            /* owned: the path handed to the signer (see proto_rest.c) */
	char *query;                /* owned: the encoded query without '?', or NULL */
	char *host_prefix;          /* owned: S3 virtual-hosted style "BUCKET.", or NULL */
	struct proto_header *headers;   /* owned */
	size_t n_headers;
	int sign_body;              /* S3: send and sign x-amz-content-sha256 */
	int normalize_path;         /* the signer normalizes the path (all but S3) */
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

/*
 * rest-xml and rest-json (s3, route53, lambda): the operation's method and
 * URI template from the shape table, members placed by their location
 * (URI label, query string, header, header prefix map, body / payload).
 * blob (borrowed, may be NULL) is the body of a blob payload member (S3
 * PutObject's Body) and wins over a string given in input. path_style:
 * S3 addresses the bucket in the path (an overridden endpoint), else in
 * the host name. Returns 0, or -1 with err (CAIRN_EINVAL) when the
 * operation is not in the table or a URI label is missing.
 */
struct http_response;
int proto_rest_build(const struct aws_service *svc, const char *operation, json_t *input,
		     const void *blob, size_t blob_len, int path_style,
		     struct proto_request *req, struct cairn_err *err);
/*
 * Parses a REST response: header, status and body members into *out (new
 * object). A blob payload (S3 GetObject's Body) goes to blob_out when it
 * is not NULL, else into *out as a string (base64 when it is not UTF-8).
 * Errors: the XML <Error> (S3's bare one or <ErrorResponse>), the JSON
 * error with x-amzn-ErrorType, or for a body-less answer (S3 HEAD) a code
 * named after the status (NotFound, Forbidden, PreconditionFailed, ...).
 */
int proto_rest_parse(const struct aws_service *svc, const char *operation,
		     const struct http_response *resp, struct strbuf *blob_out, json_t **out,
		     struct cairn_err *err);

/* Fills err from an XML error body (<ErrorResponse><Error>, <Response><Errors><Error>,
 * <ErrorResponse><Errors><Error>), or "HTTP STATUS: start of body" when it has none. */
void proto_xml_error(long status, const char *body, size_t len, const char *header_request_id,
		     struct cairn_err *err);

/* Fills err as an AWS error: code CAIRN_EAWS, msg "CODE: message". */
void proto_error(struct cairn_err *err, long status, const char *code, const char *message,
		 const char *request_id);

#endif
