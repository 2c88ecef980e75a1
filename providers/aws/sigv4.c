/*
 * sigv4: AWS Signature Version 4, see sigv4.h. The stages follow the AWS
 * documentation ("Create a canonical request" ... "Calculate the
 * signature") and the aws-c-auth test suite conventions: paths are given
 * unescaped and are encoded once here, query parameters are decoded and
 * re-encoded, header values are trimmed with inner whitespace collapsed.
 */
#include "sigv4.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#define ALGORITHM "AWS4-HMAC-SHA256"

static int is_unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == '~';
}

static void add_encoded(struct strbuf *sb, const char *s, size_t len, int encode_slash)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (is_unreserved(c) || (c == '/' && !encode_slash)) {
			strbuf_addc(sb, (char)c);
		} else {
			strbuf_addc(sb, '%');
			strbuf_addc(sb, hex[c >> 4]);
			strbuf_addc(sb, hex[c & 15]);
		}
	}
}

char *sigv4_uri_encode(const char *s, size_t len, int encode_slash)
{
	struct strbuf sb;

	strbuf_init(&sb);
	add_encoded(&sb, s, len, encode_slash);
	return strbuf_detach(&sb);
}

static void to_hex(const unsigned char *d, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hex[d[i] >> 4];
		out[2 * i + 1] = hex[d[i] & 15];
	}
	out[2 * n] = '\0';
}

void sigv4_sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[SHA256_DIGEST_LENGTH];

	SHA256(data ? data : (const void *)"", len, md);
	to_hex(md, sizeof(md), out);
}

static void hmac(const void *key, size_t key_len, const char *msg, unsigned char out[32])
{
	unsigned int n = 32;

	HMAC(EVP_sha256(), key, (int)key_len, (const unsigned char *)msg, strlen(msg), out, &n);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decodes s[0..len) into an owned buffer (*out_len bytes). A '%' not
 * followed by two hex digits is kept literally. */
static char *pct_decode(const char *s, size_t len, size_t *out_len)
{
	char *out = xmalloc(len + 1);
	size_t i, n = 0;

	for (i = 0; i < len; i++) {
		if (s[i] == '%' && i + 2 < len && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
			out[n++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
			i += 2;
		} else {
			out[n++] = s[i];
		}
	}
	out[n] = '\0';
	*out_len = n;
	return out;
}

/* The canonical URI: with normalization, dot segments are removed and
 * repeated slashes collapsed (what the AWS SDKs do for non-S3 services). */
static void canonical_path(const char *path, int normalize, struct strbuf *out)
{
	const char **seg;
	size_t *seglen;
	size_t nseg = 0, i, plen;
	const char *p;
	int trailing = 0;

	if (!path || !*path)
		path = "/";
	plen = strlen(path);
	if (!normalize) {
		add_encoded(out, path, plen, 0);
		return;
	}
	seg = xcalloc(plen + 1, sizeof(*seg));
	seglen = xcalloc(plen + 1, sizeof(*seglen));
	p = path;
	while (*p) {
		const char *start;
		size_t n;

		while (*p == '/')
			p++;
		if (!*p) {
			trailing = 1;
			break;
		}
		start = p;
		while (*p && *p != '/')
			p++;
		n = (size_t)(p - start);
		trailing = 0;
		if (n == 1 && start[0] == '.') {
			trailing = 1;
		} else if (n == 2 && start[0] == '.' && start[1] == '.') {
			if (nseg)
				nseg--;
			trailing = 1;
		} else {
			seg[nseg] = start;
			seglen[nseg++] = n;
		}
	}
	strbuf_addc(out, '/');
	for (i = 0; i < nseg; i++) {
		if (i)
			strbuf_addc(out, '/');
		add_encoded(out, seg[i], seglen[i], 0);
	}
	if (nseg && trailing)
		strbuf_addc(out, '/');
	free(seg);
	free(seglen);
}

struct qparam {
	char *key;      /* encoded */
	char *value;    /* encoded */
};

static int qparam_cmp(const void *a, const void *b)
{
	const struct qparam *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	return c ? c : strcmp(x->value, y->value);
}

struct qlist {
	struct qparam *v;
	size_t n, cap;
};

static void qlist_add(struct qlist *q, char *key, char *value)
{
	if (q->n == q->cap) {
		q->cap = q->cap ? 2 * q->cap : 16;
		q->v = xrealloc(q->v, q->cap * sizeof(*q->v));
	}
	q->v[q->n].key = key;
	q->v[q->n].value = value;
	q->n++;
}

static void qlist_add_raw(struct qlist *q, const char *key, const char *value)
{
	qlist_add(q, sigv4_uri_encode(key, strlen(key), 1),
		  sigv4_uri_encode(value, strlen(value), 1));
}

/* Splits the raw query, decodes each name and value and encodes it again,
 * so already-escaped and raw input canonicalize the same. */
static void qlist_parse(struct qlist *q, const char *query)
{
	const char *p = query;

	while (p && *p) {
		const char *amp = strchr(p, '&');
		size_t n = amp ? (size_t)(amp - p) : strlen(p);
		const char *eq = memchr(p, '=', n);

		if (n) {
			size_t kl = eq ? (size_t)(eq - p) : n, dl;
			char *k = pct_decode(p, kl, &dl);
			char *ek = sigv4_uri_encode(k, dl, 1), *v, *ev;

			free(k);
			if (eq) {
				v = pct_decode(eq + 1, n - kl - 1, &dl);
				ev = sigv4_uri_encode(v, dl, 1);
				free(v);
			} else {
				ev = xstrdup("");
			}
			qlist_add(q, ek, ev);
		}
		p = amp ? amp + 1 : NULL;
	}
}

static void qlist_free(struct qlist *q)
{
	size_t i;

	for (i = 0; i < q->n; i++) {
		free(q->v[i].key);
		/* the value may be the session token */
		secure_zero(q->v[i].value, strlen(q->v[i].value));
		free(q->v[i].value);
	}
	free(q->v);
}

struct cheader {
	char *name;     /* lowercase */
	char *value;    /* trimmed, whitespace collapsed */
	size_t order;   /* keeps duplicates in their request order */
};

static int cheader_cmp(const void *a, const void *b)
{
	const struct cheader *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	return x->order < y->order ? -1 : x->order > y->order;
}

static int is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Trims and collapses runs of whitespace (obs-fold line breaks included)
 * into one space. */
static char *canonical_value(const char *v)
{
	struct strbuf sb;
	int pending = 0;

	strbuf_init(&sb);
	while (is_ws(*v))
		v++;
	for (; *v; v++) {
		if (is_ws(*v)) {
			pending = 1;
			continue;
		}
		if (pending)
			strbuf_addc(&sb, ' ');
		pending = 0;
		strbuf_addc(&sb, *v);
	}
	return strbuf_detach(&sb);
}

/* Headers that proxies and HTTP stacks rewrite, so signing them would break
 * the signature (botocore leaves out the same ones), plus the signature itself. */
static int unsigned_header(const char *lname)
{
	return !strcmp(lname, "authorization") || !strcmp(lname, "user-agent") ||
	       !strcmp(lname, "expect") || !strcmp(lname, "x-amzn-trace-id");
}

static void add_cheader(struct cheader *h, size_t *n, const char *name, const char *value)
{
	size_t i, len = strlen(name);

	h[*n].name = xmalloc(len + 1);
	for (i = 0; i <= len; i++) {
		char c = name[i];

		h[*n].name[i] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
	}
	h[*n].value = canonical_value(value);
	h[*n].order = *n;
	(*n)++;
}

int sigv4_canonical_request(const struct sigv4_params *p, const struct sigv4_request *r,
			    struct sigv4_state *s, struct cairn_err *err)
{
	struct cheader *h = NULL;
	struct qlist q = { 0 };
	struct strbuf cr, sh;
	size_t nh = 0, i;
	struct tm tm;
	time_t t = (time_t)p->time;
	int rc = -1, have_host = 0;
	char *cred = NULL;

	memset(s, 0, sizeof(*s));
	strbuf_init(&cr);
	strbuf_init(&sh);
	if (!gmtime_r(&t, &tm)) {
		err_set(err, CAIRN_EINVAL, "cannot sign request: bad signing time %lld",
			(long long)p->time);
		goto out;
	}
	strftime(s->amz_date, sizeof(s->amz_date), "%Y%m%dT%H%M%SZ", &tm);
	strftime(s->date, sizeof(s->date), "%Y%m%d", &tm);
	s->scope = xasprintf("%s/%s/%s/aws4_request", s->date, p->region, p->service);
	sigv4_sha256_hex(r->body, r->body_len, s->payload_hash);

	h = xcalloc(r->n_headers + 3, sizeof(*h));
	for (i = 0; i < r->n_headers; i++) {
		add_cheader(h, &nh, r->headers[i].name, r->headers[i].value);
		if (unsigned_header(h[nh - 1].name)) {
			nh--;
			free(h[nh].name);
			free(h[nh].value);
		} else if (!strcmp(h[nh - 1].name, "host")) {
			have_host = 1;
		}
	}
	if (!have_host) {
		err_set(err, CAIRN_EINVAL, "cannot sign request: no Host header");
		goto out;
	}
	if (!p->query_mode) {
		add_cheader(h, &nh, "x-amz-date", s->amz_date);
		if (p->sign_body)
			add_cheader(h, &nh, "x-amz-content-sha256", s->payload_hash);
		if (p->session_token && !p->omit_session_token)
			add_cheader(h, &nh, "x-amz-security-token", p->session_token);
	}
	qsort(h, nh, sizeof(*h), cheader_cmp);

	/* signed headers: unique names in order */
	for (i = 0; i < nh; i++) {
		if (i && !strcmp(h[i].name, h[i - 1].name))
			continue;
		if (sh.len)
			strbuf_addc(&sh, ';');
		strbuf_adds(&sh, h[i].name);
	}
	s->signed_headers = strbuf_detach(&sh);

	qlist_parse(&q, r->query);
	if (p->query_mode) {
		char expires[24];

		cred = xasprintf("%s/%s", p->access_key_id, s->scope);
		snprintf(expires, sizeof(expires), "%d", p->expires);
		qlist_add_raw(&q, "X-Amz-Algorithm", ALGORITHM);
		qlist_add_raw(&q, "X-Amz-Credential", cred);
		qlist_add_raw(&q, "X-Amz-Date", s->amz_date);
		qlist_add_raw(&q, "X-Amz-Expires", expires);
		if (p->session_token && !p->omit_session_token)
			qlist_add_raw(&q, "X-Amz-Security-Token", p->session_token);
		qlist_add_raw(&q, "X-Amz-SignedHeaders", s->signed_headers);
	}
	if (q.n)
		qsort(q.v, q.n, sizeof(*q.v), qparam_cmp);

	strbuf_adds(&cr, r->method);
	strbuf_addc(&cr, '\n');
	canonical_path(r->path, p->normalize_path, &cr);
	strbuf_addc(&cr, '\n');
	for (i = 0; i < q.n; i++)
		strbuf_addf(&cr, "%s%s=%s", i ? "&" : "", q.v[i].key, q.v[i].value);
	strbuf_addc(&cr, '\n');
	for (i = 0; i < nh; i++) {
		if (i && !strcmp(h[i].name, h[i - 1].name)) {
			strbuf_addf(&cr, ",%s", h[i].value);
			continue;
		}
		strbuf_addf(&cr, "%s%s:%s", i ? "\n" : "", h[i].name, h[i].value);
	}
	strbuf_addf(&cr, "\n\n%s\n%s", s->signed_headers, s->payload_hash);
	s->canonical_request = strbuf_detach(&cr);
	rc = 0;
out:
	if (rc < 0)
		sigv4_state_release(s);
	for (i = 0; i < nh; i++) {
		free(h[i].name);
		secure_zero(h[i].value, strlen(h[i].value));
		free(h[i].value);
	}
	free(h);
	qlist_free(&q);
	free(cred);
	strbuf_free(&cr);
	strbuf_free(&sh);
	return rc;
}

void sigv4_string_to_sign(const struct sigv4_params *p, struct sigv4_state *s)
{
	char hash[65];

	(void)p;
	sigv4_sha256_hex(s->canonical_request, strlen(s->canonical_request), hash);
	s->string_to_sign = xasprintf(ALGORITHM "\n%s\n%s\n%s", s->amz_date, s->scope, hash);
}

void sigv4_signature(const struct sigv4_params *p, struct sigv4_state *s)
{
	unsigned char k[32], sig[32];
	char *secret = xasprintf("AWS4%s", p->secret_access_key);

	hmac(secret, strlen(secret), s->date, k);
	hmac(k, sizeof(k), p->region, k);
	hmac(k, sizeof(k), p->service, k);
	hmac(k, sizeof(k), "aws4_request", k);
	hmac(k, sizeof(k), s->string_to_sign, sig);
	to_hex(sig, sizeof(sig), s->signature);
	secure_zero(k, sizeof(k));
	secure_zero(secret, strlen(secret));
	free(secret);
}

void sigv4_authorization(const struct sigv4_params *p, struct sigv4_state *s)
{
	s->authorization = xasprintf(ALGORITHM " Credential=%s/%s, SignedHeaders=%s, Signature=%s",
				     p->access_key_id, s->scope, s->signed_headers, s->signature);
}

void sigv4_presign_query(const struct sigv4_params *p, struct sigv4_state *s)
{
	/* The canonical query string (line 3 of the canonical request) is a
	 * valid query to send; the signature and any unsigned token follow. */
	const char *q = strchr(s->canonical_request, '\n');
	const char *end;
	struct strbuf sb;

	q = strchr(q + 1, '\n') + 1;
	end = strchr(q, '\n');
	strbuf_init(&sb);
	strbuf_add(&sb, q, (size_t)(end - q));
	strbuf_addf(&sb, "&X-Amz-Signature=%s", s->signature);
	if (p->session_token && p->omit_session_token) {
		strbuf_adds(&sb, "&X-Amz-Security-Token=");
		add_encoded(&sb, p->session_token, strlen(p->session_token), 1);
	}
	s->presigned_query = strbuf_detach(&sb);
}

static void zfree(char *p)
{
	if (p) {
		secure_zero(p, strlen(p));
		free(p);
	}
}

void sigv4_state_release(struct sigv4_state *s)
{
	if (!s)
		return;
	free(s->scope);
	free(s->signed_headers);
	zfree(s->canonical_request);
	free(s->string_to_sign);
	free(s->authorization);
	zfree(s->presigned_query);
	secure_zero(s, sizeof(*s));
}

static void header_set(struct sigv4_header *h, const char *name, const char *value)
{
	h->name = xstrdup(name);
	h->value = xstrdup(value);
}

int sigv4_sign_headers(const struct sigv4_params *p, const struct sigv4_request *r,
		       struct sigv4_header **out, size_t *n_out, struct cairn_err *err)
{
	struct sigv4_params hp = *p;
	struct sigv4_state s;
	struct sigv4_header *h;
	size_t n = 0;

	*out = NULL;
	*n_out = 0;
	hp.query_mode = 0;
	if (sigv4_canonical_request(&hp, r, &s, err) < 0)
		return -1;
	sigv4_string_to_sign(&hp, &s);
	sigv4_signature(&hp, &s);
	sigv4_authorization(&hp, &s);

	h = xcalloc(4, sizeof(*h));
	header_set(&h[n++], "X-Amz-Date", s.amz_date);
	if (hp.sign_body)
		header_set(&h[n++], "x-amz-content-sha256", s.payload_hash);
	if (hp.session_token)
		header_set(&h[n++], "X-Amz-Security-Token", hp.session_token);
	header_set(&h[n++], "Authorization", s.authorization);
	sigv4_state_release(&s);
	*out = h;
	*n_out = n;
	return 0;
}

void sigv4_headers_free(struct sigv4_header *h, size_t n)
{
	size_t i;

	if (!h)
		return;
	for (i = 0; i < n; i++) {
		free(h[i].name);
		zfree(h[i].value);
	}
	free(h);
}
