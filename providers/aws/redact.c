/*
 * redact: see redact.h. One left-to-right pass: at a '"' it looks for a JSON
 * member, at a '<' for an XML element, at the start of a word for a header
 * ("Name:") or a parameter ("Name="); everything else is copied. It only
 * has to be right for what cairn logs, and errs on the side of hiding.
 */
#include "redact.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "../../lib/util.h"

#define MASK "***"

/* Key names whose values are secrets (compared without case, on the last
 * '.'- or ':'-separated part so "Credentials.SessionToken" matches). */
static const char *const secret_keys[] = {
	"token", "sessiontoken", "securitytoken", "x-amz-security-token", "secretaccesskey",
	"aws_secret_access_key", "aws_session_token", "webidentitytoken", "authorizationtoken",
	"x-amz-signature", "signature", "x-aws-ec2-metadata-token",
};
/* ... and names ending like these. */
static const char *const secret_suffixes[] = {
	"secretaccesskey", "sessiontoken", "webidentitytoken", "authorizationtoken",
};
/* Headers whose whole value is a secret. */
static const char *const secret_headers[] = {
	"x-amz-security-token", "x-aws-ec2-metadata-token", "authorization",
};

static int key_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-' || c == '.';
}

static int in_list(const char *k, size_t n, const char *const *list, size_t count)
{
	size_t i;

	for (i = 0; i < count; i++)
		if (strlen(list[i]) == n && !strncasecmp(k, list[i], n))
			return 1;
	return 0;
}

/* Last '.'- or ':'-separated part of k[0..*n). */
static const char *local_name(const char *k, size_t *n)
{
	size_t i = *n;

	while (i && k[i - 1] != '.' && k[i - 1] != ':')
		i--;
	*n -= i;
	return k + i;
}

/* One of fields, exactly or with its first letter in the other case. */
static int field_key(const char *k, size_t n, const char *const *fields)
{
	for (; fields && *fields; fields++) {
		const char *f = *fields;

		if (strlen(f) == n && n && strncmp(k + 1, f + 1, n - 1) == 0 &&
		    tolower((unsigned char)k[0]) == tolower((unsigned char)f[0]))
			return 1;
	}
	return 0;
}

static int secret_key(const char *k, size_t n, const char *const *fields)
{
	size_t i;

	k = local_name(k, &n);
	if (field_key(k, n, fields) ||
	    in_list(k, n, secret_keys, sizeof(secret_keys) / sizeof(secret_keys[0])))
		return 1;
	for (i = 0; i < sizeof(secret_suffixes) / sizeof(secret_suffixes[0]); i++) {
		size_t sl = strlen(secret_suffixes[i]);

		if (n >= sl && !strncasecmp(k + n - sl, secret_suffixes[i], sl))
			return 1;
	}
	return 0;
}

static int credential_key(const char *k, size_t n)
{
	k = local_name(k, &n);
	return (n == 10 && !strncasecmp(k, "credential", 10)) ||
	       (n == 16 && !strncasecmp(k, "x-amz-credential", 16));
}

/* At s: a JSON member name, or one inside an escaped JSON string
 * (\"key\":\"value\", where the scan starts at the quote after '\').
 * Returns how much was consumed, having written it to out, or 0. */
static size_t json_member(const char *s, struct strbuf *out, const char *const *fields)
{
	const char *k = s + 1, *p, *v;
	size_t kn;
	int escaped;

	p = k;
	while (*p && *p != '"' && *p != '\n' && (p[0] != '\\' || p[1] != '"'))
		p++;
	if (*p != '"' && *p != '\\')
		return 0;
	escaped = *p == '\\';
	kn = (size_t)(p - k);
	p += escaped ? 2 : 1;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p != ':' || !kn || !secret_key(k, kn, fields))
		return 0;
	p++;
	while (*p == ' ' || *p == '\t')
		p++;
	if (escaped ? (p[0] != '\\' || p[1] != '"') : *p != '"')
		return 0;
	p += escaped ? 2 : 1;
	strbuf_add(out, s, (size_t)(p - s));
	strbuf_adds(out, MASK);
	/* skip the value up to its closing quote */
	for (v = p; *v; v++) {
		if (escaped) {
			if (v[0] == '\\' && v[1] == '\\' && v[2] == '\\' && v[3] == '"') {
				v += 3;     /* an escaped quote inside an escaped string */
				continue;
			}
			if (v[0] == '\\' && v[1] == '"')
				break;
		} else {
			if (*v == '\\' && v[1]) {
				v++;
				continue;
			}
			if (*v == '"')
				break;
		}
	}
	return (size_t)(v - s);
}

/* At s: "<Name>" or "<ns:Name attr=...>" of a secret element. */
static size_t xml_element(const char *s, struct strbuf *out, const char *const *fields)
{
	const char *p = s + 1, *v;

	while (key_char(*p) || *p == ':')
		p++;
	if (p == s + 1 || !secret_key(s + 1, (size_t)(p - s - 1), fields))
		return 0;
	while (*p && *p != '>' && *p != '<')
		p++;
	if (*p != '>' || p[-1] == '/')
		return 0;
	p++;
	strbuf_add(out, s, (size_t)(p - s));
	strbuf_adds(out, MASK);
	v = strchr(p, '<');
	return v ? (size_t)(v - s) : strlen(s);
}

static size_t value_end(const char *v)
{
	return strcspn(v, "& \t\r\n\"'<>");
}

/* At the start of a word s of length kn: "Name: value" headers and
 * "Name=value" parameters. */
static size_t word(const char *s, size_t kn, struct strbuf *out, const char *const *fields)
{
	const char *p = s + kn;

	if (*p == ':' && in_list(s, kn, secret_headers, sizeof(secret_headers) / sizeof(secret_headers[0]))) {
		const char *v = p + 1;
		size_t n;

		while (*v == ' ' || *v == '\t')
			v++;
		/* AWS4 headers keep their structure; the parameter rules below hide
		 * the signature and shorten the key id */
		if (!strncmp(v, "AWS4-", 5)) {
			strbuf_add(out, s, (size_t)(v - s));
			return (size_t)(v - s);
		}
		n = strcspn(v, "\r\n");
		strbuf_add(out, s, (size_t)(v - s));
		if (n)
			strbuf_adds(out, MASK);
		return (size_t)(v - s) + n;
	}
	/* "Name=value", also "name = value" as in the shared credentials file */
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p != '=')
		return 0;
	p++;
	if (p[0] == ' ' || p[0] == '\t') {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!secret_key(s, kn, fields))
			return 0;
	}
	if (credential_key(s, kn)) {
		size_t n = value_end(p), id = 0;

		/* the key id runs to the first '/' (or its encoding %2F) */
		while (id < n && p[id] != '/' && strncasecmp(p + id, "%2F", 3))
			id++;
		strbuf_add(out, s, (size_t)(p - s));
		strbuf_add(out, p, id < 4 ? id : 4);
		if (id)
			strbuf_adds(out, MASK);
		return (size_t)(p - s) + id;
	}
	if (secret_key(s, kn, fields)) {
		size_t n = value_end(p);

		strbuf_add(out, s, (size_t)(p - s));
		if (n)
			strbuf_adds(out, MASK);
		return (size_t)(p - s) + n;
	}
	return 0;
}

char *redact_text(const char *s, const char *const *fields)
{
	struct strbuf out;
	size_t i = 0, n;

	strbuf_init(&out);
	if (!s)
		return strbuf_detach(&out);
	while (s[i]) {
		if (s[i] == '"' && (n = json_member(s + i, &out, fields))) {
			i += n;
			continue;
		}
		if (s[i] == '<' && (n = xml_element(s + i, &out, fields))) {
			i += n;
			continue;
		}
		if (key_char(s[i]) && (i == 0 || !key_char(s[i - 1]))) {
			size_t kn = 0;

			while (key_char(s[i + kn]))
				kn++;
			n = word(s + i, kn, &out, fields);
			if (!n) {
				strbuf_add(&out, s + i, kn);
				n = kn;
			}
			i += n;
			continue;
		}
		strbuf_addc(&out, s[i++]);
	}
	return strbuf_detach(&out);
}
