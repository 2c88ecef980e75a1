/*
 * util: see util.h.
 */
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

void err_clear(struct cairn_err *e)
{
	if (e)
		memset(e, 0, sizeof(*e));
}

static void err_vset(struct cairn_err *e, enum cairn_errcode code, const char *fmt, va_list ap)
{
	e->code = code;
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
}

void err_set(struct cairn_err *e, enum cairn_errcode code, const char *fmt, ...)
{
	va_list ap;

	if (!e)
		return;
	va_start(ap, fmt);
	err_vset(e, code, fmt, ap);
	va_end(ap);
}

void err_setpos(struct cairn_err *e, const char *file, int line, int col, const char *fmt, ...)
{
	va_list ap;

	if (!e)
		return;
	va_start(ap, fmt);
	err_vset(e, CAIRN_EINVAL, fmt, ap);
	va_end(ap);
	snprintf(e->file, sizeof(e->file), "%s", file ? file : "");
	e->line = line;
	e->col = col;
}

void err_prefix(struct cairn_err *e, const char *fmt, ...)
{
	va_list ap;
	char *pre, *all;
	size_t n;

	if (!e)
		return;
	va_start(ap, fmt);
	pre = xvasprintf(fmt, ap);
	va_end(ap);
	all = xasprintf("%s: %s", pre, e->msg);
	n = strlen(all);
	if (n >= sizeof(e->msg))
		n = sizeof(e->msg) - 1;
	memcpy(e->msg, all, n);
	e->msg[n] = '\0';
	free(pre);
	free(all);
}

static void oom(size_t n)
{
	fprintf(stderr, "cairn: fatal: out of memory allocating %zu bytes\n", n);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		oom(n);
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		oom(n * size);
	return p;
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (!q)
		oom(n);
	return q;
}

char *xstrdup(const char *s)
{
	return s ? xstrndup(s, strlen(s)) : NULL;
}

char *xstrndup(const char *s, size_t n)
{
	char *p;

	n = strnlen(s, n);   /* strndup semantics: never reads past the NUL */
	p = xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *xvasprintf(const char *fmt, va_list ap)
{
	struct strbuf sb;
	va_list cp;
	int n;

	strbuf_init(&sb);
	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		oom(0);
	sb.buf = xrealloc(sb.buf, (size_t)n + 1);
	vsnprintf(sb.buf, (size_t)n + 1, fmt, ap);
	return sb.buf;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	return s;
}

void strbuf_init(struct strbuf *sb)
{
	sb->cap = 64;
	sb->len = 0;
	sb->buf = xmalloc(sb->cap);
	sb->buf[0] = '\0';
}

void strbuf_free(struct strbuf *sb)
{
	free(sb->buf);
	sb->buf = NULL;
	sb->len = sb->cap = 0;
}

void strbuf_reset(struct strbuf *sb)
{
	if (!sb->buf) {
		strbuf_init(sb);
		return;
	}
	sb->len = 0;
	sb->buf[0] = '\0';
}

static void strbuf_grow(struct strbuf *sb, size_t extra)
{
	if (!sb->buf)
		strbuf_init(sb);
	if (sb->len + extra + 1 <= sb->cap)
		return;
	while (sb->len + extra + 1 > sb->cap)
		sb->cap *= 2;
	sb->buf = xrealloc(sb->buf, sb->cap);
}

void strbuf_add(struct strbuf *sb, const void *data, size_t n)
{
	strbuf_grow(sb, n);
	memcpy(sb->buf + sb->len, data, n);
	sb->len += n;
	sb->buf[sb->len] = '\0';
}

void strbuf_adds(struct strbuf *sb, const char *s)
{
	strbuf_add(sb, s, strlen(s));
}

void strbuf_addc(struct strbuf *sb, char c)
{
	strbuf_add(sb, &c, 1);
}

void strbuf_addf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	strbuf_adds(sb, s);
	free(s);
}

char *strbuf_detach(struct strbuf *sb)
{
	char *s = sb->buf;

	/* left unallocated, so a detached buffer needs no strbuf_free;
	 * the next add or reset starts a new one */
	sb->buf = NULL;
	sb->len = sb->cap = 0;
	return s;
}

const char *env_get(char *const *envp, const char *name)
{
	size_t n = strlen(name);

	if (!envp)
		return NULL;
	for (; *envp; envp++)
		if (strncmp(*envp, name, n) == 0 && (*envp)[n] == '=')
			return *envp + n + 1;
	return NULL;
}

char *read_file(const char *path, size_t *len, struct cairn_err *err)
{
	struct strbuf sb;
	char chunk[65536];
	size_t n;
	FILE *f = fopen(path, "rb");

	if (!f) {
		err_set(err, CAIRN_EIO, "cannot open '%s': %s", path, strerror(errno));
		return NULL;
	}
	strbuf_init(&sb);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		strbuf_add(&sb, chunk, n);
	if (ferror(f)) {
		err_set(err, CAIRN_EIO, "cannot read '%s': %s", path, strerror(errno));
		fclose(f);
		strbuf_free(&sb);
		return NULL;
	}
	fclose(f);
	if (len)
		*len = sb.len;
	return strbuf_detach(&sb);
}

char *b64_encode(const void *in, size_t n)
{
	char *out = xmalloc((n + 2) / 3 * 4 + 1);

	EVP_EncodeBlock((unsigned char *)out, in, (int)n);
	return out;
}

unsigned char *b64_decode(const char *text, size_t *len)
{
	size_t tlen = strlen(text), pad = 0;
	unsigned char *out;
	int n;

	if (tlen % 4 != 0)
		return NULL;
	out = xmalloc(tlen / 4 * 3 + 1);
	n = tlen ? EVP_DecodeBlock(out, (const unsigned char *)text, (int)tlen) : 0;
	if (n < 0) {
		free(out);
		return NULL;
	}
	/* EVP_DecodeBlock counts the '=' padding as zero bytes. */
	while (pad < 2 && tlen > pad && text[tlen - 1 - pad] == '=')
		pad++;
	*len = (size_t)n - pad;
	out[*len] = '\0';
	return out;
}

void secure_zero(void *p, size_t n)
{
	if (p && n)
		OPENSSL_cleanse(p, n);
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

int64_t utc_seconds(int64_t y, int mo, int d, int h, int mi, int s)
{
	return days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
}

int http_date_parse(const char *s, int64_t *t)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	char wday[4], mon[4], zone[4];
	int y, m = 0, d, h, mi, sec, n = 0;
	const char *hit;

	if (!s)
		return -1;
	while (*s == ' ')
		s++;
	if (sscanf(s, "%3[A-Za-z], %2d %3s %4d %2d:%2d:%2d %3s%n", wday, &d, mon, &y, &h, &mi,
		   &sec, zone, &n) == 8 && strcmp(zone, "GMT") == 0) {
		hit = strstr(months, mon);
		if (strlen(mon) != 3 || !hit || (hit - months) % 3)
			return -1;
		m = (int)((hit - months) / 3) + 1;
	} else if (sscanf(s, "%4d%2d%2dT%2d%2d%2dZ%n", &y, &m, &d, &h, &mi, &sec, &n) != 6 || n != 16) {
		return -1;
	}
	if (y < 1970 || m < 1 || m > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return -1;
	*t = utc_seconds(y, m, d, h, mi, sec);
	return 0;
}
