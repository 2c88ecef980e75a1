/*
 * sigv4: AWS Signature Version 4 (AWS4-HMAC-SHA256) as explicit stages over
 * one state struct, each stage callable by tests (aws-c-auth style):
 *
 *   sigv4_canonical_request -> sigv4_string_to_sign -> sigv4_signature
 *   -> sigv4_authorization (header mode) / sigv4_presign_query (query mode)
 *
 * The signing time is an input, never read inside the signer. Secrets are
 * wiped when the state is released.
 */
#ifndef CAIRN_SIGV4_H
#define CAIRN_SIGV4_H

#include <stddef.h>
#include <stdint.h>

#include "../../lib/util.h"

struct sigv4_header {
	char *name;             /* as sent (any case) */
	char *value;
};

/* The request to sign. All borrowed. */
struct sigv4_request {
	const char *method;                 /* "GET", "POST" */
	const char *path;                   /* unescaped path, e.g. "/" or "/example space/" */
	const char *query;                  /* raw query without '?', may be NULL or "" */
	const struct sigv4_header *headers; /* must include Host */
	size_t n_headers;
	const void *body;
	size_t body_len;
};

/* Signing parameters. All borrowed. */
struct sigv4_params {
	const char *access_key_id;
	const char *secret_access_key;
	const char *session_token;          /* NULL if none */
	const char *region;
	const char *service;                /* signing name, e.g. "ec2", "elasticloadbalancing" */
	int64_t time;                       /* unix seconds (injected) */
	int normalize_path;                 /* remove dot segments and repeated slashes */
	int sign_body;                      /* add/sign x-amz-content-sha256 (header mode) */
	int omit_session_token;             /* add the token after signing */
	int query_mode;                     /* presigned URL instead of Authorization header */
	int expires;                        /* query mode: X-Amz-Expires seconds */
};

/* The signing state; every member owned, filled by the stages in turn. */
struct sigv4_state {
	char amz_date[17];                  /* 20150830T123600Z */
	char date[9];                       /* 20150830 */
	char *scope;                        /* 20150830/us-east-1/service/aws4_request */
	char *signed_headers;               /* host;x-amz-date */
	char payload_hash[65];
	char *canonical_request;
	char *string_to_sign;
	char signature[65];
	char *authorization;                /* header mode */
	char *presigned_query;              /* query mode: the full query string to send */
};

/* Stages. Each needs the previous ones to have run. Return 0, or -1 with err. */
int sigv4_canonical_request(const struct sigv4_params *p, const struct sigv4_request *r,
			    struct sigv4_state *s, struct cairn_err *err);
void sigv4_string_to_sign(const struct sigv4_params *p, struct sigv4_state *s);
void sigv4_signature(const struct sigv4_params *p, struct sigv4_state *s);
void sigv4_authorization(const struct sigv4_params *p, struct sigv4_state *s);
void sigv4_presign_query(const struct sigv4_params *p, struct sigv4_state *s);
void sigv4_state_release(struct sigv4_state *s);

/*
 * All stages in header mode: returns in *out (owned array of *n_out headers,
 * free with sigv4_headers_free) what to add to the request: X-Amz-Date,
 * x-amz-content-sha256 (sign_body), X-Amz-Security-Token (token), Authorization.
 */
int sigv4_sign_headers(const struct sigv4_params *p, const struct sigv4_request *r,
		       struct sigv4_header **out, size_t *n_out, struct cairn_err *err);
void sigv4_headers_free(struct sigv4_header *h, size_t n);

/* Helpers the wire protocols share: RFC 3986 encoding (unreserved kept,
 * uppercase hex). encode_slash=0 keeps '/'. Returns owned string. */
char *sigv4_uri_encode(const char *s, size_t len, int encode_slash);
/* Lowercase hex SHA-256 of data into out[65]. */
void sigv4_sha256_hex(const void *data, size_t len, char out[65]);

#endif
