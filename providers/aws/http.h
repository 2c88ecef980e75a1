/*
 * http: HTTP(S) requests over libcurl for the AWS client, safe to use from
 * several threads at once. Connections are kept alive and reused across
 * calls and threads: finished curl handles (each with its connection
 * cache) go back to a small pool. Connect timeout 10 s, total 60 s unless
 * the request says otherwise.
 */
#ifndef CAIRN_HTTP_H
#define CAIRN_HTTP_H

#include <stddef.h>

#include "../../lib/util.h"

struct http;

/* Never fails (allocation aborts); initialises libcurl once per process. */
struct http *http_new(void);
void http_free(struct http *h);

/* Everything borrowed for the call. */
struct http_request {
	const char *method;             /* "GET", "POST", "PUT" */
	const char *url;
	const char *const *headers;     /* "Name: value" lines */
	size_t n_headers;
	const char *body;               /* may be NULL */
	size_t body_len;
	long timeout_ms;                /* the whole request; 0: 60 s */
	long connect_timeout_ms;        /* opening the connection; 0: 10 s */
	int fresh_connection;           /* 1: on a new connection, for a request AWS
					 * must not get twice (libcurl resends a request
					 * once, unasked, when a reused connection closes
					 * before any answer) */
};

struct http_response {
	long status;
	struct strbuf body;             /* owned */
	struct strbuf headers;          /* owned: the raw response header lines */
	double elapsed_ms;
};

/*
 * Sends the request. Returns 0 with resp filled (any HTTP status), or -1
 * with err (CAIRN_ENET: connection, TLS, timeout; err->remote.status is the
 * answer's HTTP status when it had begun before it broke off, else 0).
 * Release resp with http_response_free in both cases.
 */
int http_do(struct http *h, const struct http_request *r, struct http_response *resp,
	    struct cairn_err *err);
void http_response_free(struct http_response *resp);

/* Value of response header NAME (case-insensitive) copied into buf; NULL if absent. */
const char *http_header(const struct http_response *resp, const char *name, char *buf,
			size_t cap);

#endif
