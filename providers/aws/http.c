/*
 * http: libcurl easy handles kept in a mutex-protected pool. A handle keeps
 * its connection cache across curl_easy_reset, so taking a pooled handle
 * reuses a kept-alive connection to the same endpoint.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <curl/curl.h>

#include "http.h"

#define POOL_MAX 16
#define CONNECT_TIMEOUT_MS 10000L
#define TOTAL_TIMEOUT_MS 60000L

struct http {
	pthread_mutex_t lock;
	CURL *pool[POOL_MAX];
	size_t n_pool;
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;

static void global_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

struct http *http_new(void)
{
	struct http *h = xcalloc(1, sizeof(*h));

	pthread_once(&global_once, global_init);
	pthread_mutex_init(&h->lock, NULL);
	return h;
}

void http_free(struct http *h)
{
	size_t i;

	if (!h)
		return;
	for (i = 0; i < h->n_pool; i++)
		curl_easy_cleanup(h->pool[i]);
	pthread_mutex_destroy(&h->lock);
	free(h);
}

static CURL *take_handle(struct http *h)
{
	CURL *c = NULL;

	pthread_mutex_lock(&h->lock);
	if (h->n_pool > 0)
		c = h->pool[--h->n_pool];
	pthread_mutex_unlock(&h->lock);
	if (!c) {
		c = curl_easy_init();
		if (!c)
			abort();
	}
	curl_easy_reset(c);
	return c;
}

static void give_handle(struct http *h, CURL *c)
{
	pthread_mutex_lock(&h->lock);
	if (h->n_pool < POOL_MAX) {
		h->pool[h->n_pool++] = c;
		c = NULL;
	}
	pthread_mutex_unlock(&h->lock);
	if (c)
		curl_easy_cleanup(c);
}

static size_t on_data(char *p, size_t size, size_t n, void *ud)
{
	strbuf_add(ud, p, size * n);
	return size * n;
}

int http_do(struct http *h, const struct http_request *r, struct http_response *resp,
	    struct cairn_err *err)
{
	CURL *c = take_handle(h);
	struct curl_slist *hdrs = NULL;
	char errbuf[CURL_ERROR_SIZE] = "";
	CURLcode cc;
	double total = 0;
	size_t i;
	int rc = -1;

	memset(resp, 0, sizeof(*resp));
	strbuf_init(&resp->body);
	strbuf_init(&resp->headers);
	for (i = 0; i < r->n_headers; i++)
		hdrs = curl_slist_append(hdrs, r->headers[i]);
	/* No "Expect: 100-continue" round trip for larger bodies. */
	hdrs = curl_slist_append(hdrs, "Expect:");
	curl_easy_setopt(c, CURLOPT_URL, r->url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
			 r->connect_timeout_ms > 0 ? r->connect_timeout_ms : CONNECT_TIMEOUT_MS);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, r->timeout_ms > 0 ? r->timeout_ms : TOTAL_TIMEOUT_MS);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &resp->body);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &resp->headers);
	curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
	if (r->fresh_connection)
		curl_easy_setopt(c, CURLOPT_FRESH_CONNECT, 1L);
	if (strcmp(r->method, "GET") == 0) {
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	} else if (strcmp(r->method, "HEAD") == 0) {
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	} else if (strcmp(r->method, "DELETE") == 0 && r->body_len == 0) {
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "DELETE");
	} else {
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body_len);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, r->body ? r->body : "");
		if (strcmp(r->method, "POST") != 0)
			curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, r->method);
	}
	cc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_TOTAL_TIME, &total);
	resp->elapsed_ms = total * 1000.0;
	if (cc != CURLE_OK) {
		long status = 0;

		err_set(err, CAIRN_ENET, "%s %s: %s", r->method, r->url,
			errbuf[0] ? errbuf : curl_easy_strerror(cc));
		/* An answer that began and broke off: the server did the request. */
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
		err->remote.status = (int)status;
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
	rc = 0;
out:
	curl_slist_free_all(hdrs);
	give_handle(h, c);
	return rc;
}

void http_response_free(struct http_response *resp)
{
	strbuf_free(&resp->body);
	strbuf_free(&resp->headers);
}

const char *http_header(const struct http_response *resp, const char *name, char *buf,
			size_t cap)
{
	size_t n = strlen(name);
	const char *p = resp->headers.buf;

	while (p && *p) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);

		if (len > n && strncasecmp(p, name, n) == 0 && p[n] == ':') {
			const char *v = p + n + 1;
			const char *e = p + len;

			while (v < e && (*v == ' ' || *v == '\t'))
				v++;
			while (e > v && (e[-1] == '\r' || e[-1] == ' '))
				e--;
			len = (size_t)(e - v) < cap - 1 ? (size_t)(e - v) : cap - 1;
			memcpy(buf, v, len);
			buf[len] = '\0';
			return buf;
		}
		p = eol ? eol + 1 : NULL;
	}
	return NULL;
}
