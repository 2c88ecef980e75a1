/*
 * util: allocation that never fails, growable strings, and the error value
 * every cairn function fills instead of a thread-local errno.
 */
#ifndef CAIRN_UTIL_H
#define CAIRN_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* Error categories: what kind of failure, so callers can branch. */
enum cairn_errcode {
	CAIRN_OK = 0,
	CAIRN_EINVAL,    /* bad input: stack, arguments, plan file */
	CAIRN_EIO,       /* file or database */
	CAIRN_ENET,      /* connection, timeout, TLS */
	CAIRN_EAWS,      /* AWS answered with an error (remote set) */
	CAIRN_ENOTFOUND, /* the thing does not exist */
	CAIRN_ELOCKED,   /* the stack lock is held by someone else */
	CAIRN_ESTALE,    /* saved plan made against another state serial */
	CAIRN_ECANCEL,   /* interrupted */
	CAIRN_EINTERNAL
};

/*
 * What a remote service said about a failed call. The base layer only
 * clears it; the client that made the call fills it and its callers read it.
 */
struct cairn_err_remote {
	int status;             /* HTTP status; 0 for connection errors */
	char code[128];         /* the service's error code, e.g. "InvalidVpcID.NotFound" */
	char request_id[128];
	int retryable;          /* set by the client when a retry could help */
	int maybe_done;         /* set by the client: this attempt or an earlier one
				 * of the call may have been carried out (its answer
				 * was lost or was a 5xx) */
};

/*
 * An error value. Filled by the callee, owned by the caller (usually on the
 * stack). The message is lowercase and says what failed first, git style.
 * file/line/col are set for stack errors; remote for service errors.
 */
struct cairn_err {
	enum cairn_errcode code;
	char msg[2048];
	char file[512];
	int line, col;          /* 1-based; 0 when unknown */
	struct cairn_err_remote remote;
};

void err_clear(struct cairn_err *e);
/* Sets code and message (printf-style). Passing e == NULL is allowed. */
void err_set(struct cairn_err *e, enum cairn_errcode code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Like err_set, with a source position. */
void err_setpos(struct cairn_err *e, const char *file, int line, int col,
		const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Prefixes the existing message: "PREFIX: old message". */
void err_prefix(struct cairn_err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Allocation aborts the process with a message on failure. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);               /* xstrdup(NULL) == NULL */
char *xstrndup(const char *s, size_t n);   /* at most n bytes, stops at a NUL */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xvasprintf(const char *fmt, va_list ap);

/* Growable NUL-terminated byte buffer. buf may contain NULs; len excludes the terminator. */
struct strbuf {
	char *buf;      /* owned; never NULL after strbuf_init, until strbuf_detach */
	size_t len, cap;
};
void strbuf_init(struct strbuf *sb);
void strbuf_free(struct strbuf *sb);
void strbuf_reset(struct strbuf *sb);
void strbuf_add(struct strbuf *sb, const void *data, size_t n);
void strbuf_adds(struct strbuf *sb, const char *s);
void strbuf_addc(struct strbuf *sb, char c);
void strbuf_addf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Returns the owned string; sb is left empty and can be reused (strbuf_add,
 * strbuf_reset) or dropped without strbuf_free. */
char *strbuf_detach(struct strbuf *sb);

/*
 * The process environment is injected (STYLE 6): only cmd/ reads environ
 * and passes it down as a NULL-terminated "NAME=VALUE" array (borrowed).
 * env_get returns a borrowed pointer into envp or NULL.
 */
const char *env_get(char *const *envp, const char *name);

/* Reads a whole file; returns owned buffer (NUL-terminated) or NULL with err set. */
char *read_file(const char *path, size_t *len, struct cairn_err *err);

/* Base64 (RFC 4648, padded) of n bytes: an owned NUL-terminated string. */
char *b64_encode(const void *in, size_t n);
/* The bytes of base64 text (*len of them, plus a NUL not counted), owned;
 * NULL when text is not padded base64. Empty text decodes to 0 bytes. */
unsigned char *b64_decode(const char *text, size_t *len);

/* Wipes memory in a way the compiler keeps (for secrets). */
void secure_zero(void *p, size_t n);

/* Unix seconds of a UTC date and time (proleptic Gregorian calendar). */
int64_t utc_seconds(int64_t y, int mo, int d, int h, int mi, int s);

/*
 * Parses an HTTP Date header (RFC 7231 IMF-fixdate, "Sun, 06 Nov 1994
 * 08:49:37 GMT") or an ISO 8601 basic time ("19941106T084937Z"). Returns 0
 * with *t in unix seconds, or -1.
 */
int http_date_parse(const char *s, int64_t *t);

#endif
