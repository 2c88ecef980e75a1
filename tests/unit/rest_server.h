/*
 * rest_server: a scripted local HTTP server for the unit tests of the
 * REST-protocol types (test_s3, test_route53; test_pipeline_wire shares its
 * listener and client set-up). It answers requests in
 * order from a table of canned answers (STS GetCallerIdentity, a form
 * post to "/", is answered on the side) and records each request's line,
 * Content-MD5 header and body, so a test checks what a type sent against
 * botocore's serialization of the same input.
 */
#ifndef CAIRN_TEST_REST_SERVER_H
#define CAIRN_TEST_REST_SERVER_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "providers/aws/aws.h"
#include "engine/provider.h"

#define RS_MAX 24

struct rs_answer {
	int status;             /* 0 ends the table */
	const char *headers;    /* extra header lines, each ending "\r\n", or NULL */
	const char *body;
};

struct rs_server {
	int fd, port;
	const struct rs_answer *answers;
	size_t next;
	char lines[RS_MAX][512];    /* "PUT /bkt-1?tagging" */
	char md5[RS_MAX][64];
	char bodies[RS_MAX][4096];
	size_t served;
	pthread_t thread;
};

static const char RS_STS_OK[] =
	"<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:root"
	"</Arn><UserId>AID</UserId><Account>123456789012</Account></GetCallerIdentityResult>"
	"</GetCallerIdentityResponse>";

/* One request from c: its "METHOD PATH" line, Content-MD5 and X-Amz-Target
 * headers and body, each into its buffer (a NULL buffer is skipped). */
static inline void rs_read_all(int c, char *line, size_t lcap, char *md5, size_t mcap,
			       char *target, size_t tcap, char *body, size_t cap)
{
	char buf[16384], *end = NULL, *p, *eol;
	size_t len = 0;
	long clen = 0;
	ssize_t r;

	if (line)
		line[0] = '\0';
	if (md5)
		md5[0] = '\0';
	if (target)
		target[0] = '\0';
	body[0] = '\0';
	while (!end && len < sizeof(buf) - 1 && (r = read(c, buf + len, sizeof(buf) - 1 - len)) > 0) {
		len += (size_t)r;
		buf[len] = '\0';
		end = strstr(buf, "\r\n\r\n");
	}
	if (!end)
		return;
	eol = strstr(buf, " HTTP/");
	if (line)
		snprintf(line, lcap, "%.*s", (int)(eol ? eol - buf : 0), buf);
	for (p = buf; p < end; p = eol + 2) {
		eol = strstr(p, "\r\n");
		if (strncasecmp(p, "Content-Length:", 15) == 0)
			clen = atol(p + 15);
		if (md5 && strncasecmp(p, "Content-MD5:", 12) == 0)
			snprintf(md5, mcap, "%.*s", (int)(eol - p - 13), p + 13);
		if (target && strncasecmp(p, "X-Amz-Target:", 13) == 0)
			snprintf(target, tcap, "%.*s", (int)(eol - p - 14), p + 14);
	}
	end += 4;
	while ((long)(len - (size_t)(end - buf)) < clen && len < sizeof(buf) - 1 &&
	       (r = read(c, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)r;
	buf[len] = '\0';
	snprintf(body, cap, "%s", end);
}

static inline void rs_read(int c, char *line, size_t lcap, char *md5, size_t mcap, char *body,
			   size_t cap)
{
	rs_read_all(c, line, lcap, md5, mcap, NULL, 0, body, cap);
}

/* One json-protocol request: its X-Amz-Target and body. */
static inline void rs_read_target(int c, char *target, size_t tcap, char *body, size_t cap)
{
	rs_read_all(c, NULL, 0, NULL, 0, target, tcap, body, cap);
}

static void *rs_serve(void *arg)
{
	struct rs_server *s = arg;

	for (;;) {
		int c = accept(s->fd, NULL, NULL);
		size_t i = s->served < RS_MAX ? s->served : RS_MAX - 1;
		const struct rs_answer *a = NULL;
		int status = 500;
		const char *body = "<Error><Code>Unscripted</Code><Message>x</Message></Error>";
		const char *hdrs = "";
		char *resp;

		if (c < 0)
			break;
		rs_read(c, s->lines[i], sizeof(s->lines[0]), s->md5[i], sizeof(s->md5[0]),
			s->bodies[i], sizeof(s->bodies[0]));
		if (strcmp(s->lines[i], "POST /") == 0 && strstr(s->bodies[i], "GetCallerIdentity")) {
			status = 200;
			body = RS_STS_OK;
		} else {
			if (s->answers[s->next].status)
				a = &s->answers[s->next++];
			if (a) {
				status = a->status;
				body = a->body ? a->body : "";
				hdrs = a->headers ? a->headers : "";
			}
			s->served++;
		}
		resp = xasprintf("HTTP/1.1 %d X\r\nContent-Type: text/xml\r\nx-amz-request-id: rid\r\n"
				 "%sConnection: close\r\nContent-Length: %zu\r\n\r\n%s", status, hdrs,
				 strlen(body), body);
		if (write(c, resp, strlen(resp)) < 0)
			perror("write");
		free(resp);
		close(c);
	}
	return NULL;
}

/* A listening loopback socket on a free port (*port). */
static inline int rs_listen(int *port)
{
	struct sockaddr_in a = {0};
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(fd, 8), 0);
	getsockname(fd, (struct sockaddr *)&a, &alen);
	*port = ntohs(a.sin_port);
	return fd;
}

static inline void rs_start(struct rs_server *s, const struct rs_answer *answers)
{
	memset(s, 0, sizeof(*s));
	s->answers = answers;
	s->fd = rs_listen(&s->port);
	pthread_create(&s->thread, NULL, rs_serve, s);
}

/* Stop a server thread blocked in accept() on fd, and close fd. */
static inline void rs_halt(int fd, pthread_t thread)
{
	shutdown(fd, SHUT_RDWR);
	pthread_join(thread, NULL);
	close(fd);
}

static inline void rs_stop(struct rs_server *s)
{
	rs_halt(s->fd, s->thread);
}

/* rs_raw: a server that answers connection after connection with the next
 * of its n verbatim HTTP responses (test_client, test_common), recording
 * each request's line and headers, and its body. */
#define RS_RAW_MAX 8

struct rs_raw {
	int fd, port;
	const char *responses[RS_RAW_MAX];   /* full HTTP responses */
	size_t n;
	char heads[RS_RAW_MAX][2048];        /* request lines and headers received */
	char bodies[RS_RAW_MAX][2048];       /* request bodies received */
	size_t served;
	pthread_t thread;
};

/* One request from c: its line and headers into head, its body into body. */
static inline void rs_read_head(int c, char *head, char *body, size_t cap)
{
	char buf[8192];
	size_t len = 0;
	char *end = NULL;
	long clen = 0;
	ssize_t r;

	while (!end && len < sizeof(buf) - 1 && (r = read(c, buf + len, sizeof(buf) - 1 - len)) > 0) {
		len += (size_t)r;
		buf[len] = '\0';
		end = strstr(buf, "\r\n\r\n");
	}
	if (!end)
		return;
	for (char *p = buf; p < end; p = strstr(p, "\r\n") + 2)
		if (strncasecmp(p, "Content-Length:", 15) == 0)
			clen = atol(p + 15);
	snprintf(head, cap, "%.*s", (int)(end - buf), buf);
	end += 4;
	while ((long)(len - (size_t)(end - buf)) < clen && len < sizeof(buf) - 1 &&
	       (r = read(c, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)r;
	buf[len] = '\0';
	snprintf(body, cap, "%s", end);
}

static void *rs_raw_serve(void *arg)
{
	struct rs_raw *s = arg;

	while (s->served < s->n) {
		int c = accept(s->fd, NULL, NULL);

		if (c < 0)
			break;
		rs_read_head(c, s->heads[s->served], s->bodies[s->served], sizeof(s->bodies[0]));
		if (write(c, s->responses[s->served], strlen(s->responses[s->served])) < 0)
			perror("write");
		s->served++;
		close(c);
	}
	return NULL;
}

static inline void rs_raw_start(struct rs_raw *s)
{
	s->fd = rs_listen(&s->port);
	pthread_create(&s->thread, NULL, rs_raw_serve, s);
}

static inline void rs_raw_stop(struct rs_raw *s)
{
	rs_halt(s->fd, s->thread);
}

static inline void rs_no_sleep(long ms)
{
	(void)ms;
}

static inline int64_t rs_now(void)
{
	return 1700000000;
}

static inline struct aws_client *rs_client(int port)
{
	static char endpoint[64];
	static char *env[] = {
		"AWS_ACCESS_KEY_ID=AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY=secret",
		"AWS_REGION=us-east-1", "AWS_EC2_METADATA_DISABLED=true", "AWS_MAX_ATTEMPTS=1",
		"AWS_CONFIG_FILE=/nonexistent/config", "AWS_SHARED_CREDENTIALS_FILE=/nonexistent/creds",
		endpoint, NULL };
	struct aws_client_opts o = {0};
	struct cairn_err err;
	struct aws_client *c;

	snprintf(endpoint, sizeof(endpoint), "AWS_ENDPOINT_URL=http://127.0.0.1:%d", port);
	o.envp = env;
	o.now = rs_now;
	o.sleep_ms = rs_no_sleep;
	err_clear(&err);
	c = aws_client_new(&o, &err);
	assert_non_null(c);
	return c;
}

static inline struct provider_ctx rs_ctx(struct aws_client *c, const char *stack)
{
	struct provider_ctx ctx = {0};

	ctx.aws = c;
	ctx.stack = stack;
	ctx.name = "res";
	ctx.sleep_ms = rs_no_sleep;
	return ctx;
}

/* Start s on answers, and a client at it with *ctx for stack. The client is
 * the caller's (rs_close frees it). */
static inline struct aws_client *rs_open(struct rs_server *s, const struct rs_answer *answers,
					 struct provider_ctx *ctx, const char *stack)
{
	struct aws_client *c;

	rs_start(s, answers);
	c = rs_client(s->port);
	*ctx = rs_ctx(c, stack);
	return c;
}

/* Stop s and free c (owned). */
static inline void rs_close(struct rs_server *s, struct aws_client *c)
{
	rs_stop(s);
	aws_client_free(c);
}

static inline json_t *rs_json(const char *text)
{
	json_t *v = json_loads(text, 0, NULL);

	assert_non_null(v);
	return v;
}

#endif
