/*
 * creds: the credential chain, see creds.h. It follows botocore's rules
 * where creds.h leaves a choice open:
 *  - an explicit --profile skips the environment keys (the CLI and SDKs do
 *    the same: naming a profile means "use that profile");
 *  - within a profile, role_arn wins over static keys, credentials-file
 *    entries win over config-file entries;
 *  - a link that is configured but fails (a broken profile, STS refusing,
 *    the container endpoint down) is an error; a link that is merely absent
 *    passes to the next one. IMDS is the last resort, so its failure only
 *    adds to the "tried" list.
 * The http hook gets headers as "Name: value" lines.
 */
#include "creds.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#define CONTAINER_HOST "http://169.254.170.2"
#define IMDS_DEFAULT "http://169.254.169.254"
#define IMDS_TOKEN_TTL "21600"
#define CONTAINER_TIMEOUT_MS 2000
#define IMDS_TIMEOUT_MS 1000
#define MAX_PROFILE_DEPTH 16

/* ---- INI ---- */

struct ini_kv {
	char *key;      /* lowercase */
	char *value;
};

struct ini_sec {
	char *name;     /* trimmed, inner whitespace collapsed: "profile dev" */
	struct ini_kv *kv;
	size_t n, cap;
};

struct ini {
	struct ini_sec *sec;
	size_t n, cap;
};

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

/* Owned copy of s[0..n) without surrounding whitespace, inner runs of
 * whitespace collapsed to one space when collapse is set. */
static char *trim_dup(const char *s, size_t n, int collapse)
{
	struct strbuf sb;
	size_t i;
	int pending = 0;

	while (n && is_space(*s)) {
		s++;
		n--;
	}
	while (n && is_space(s[n - 1]))
		n--;
	if (!collapse)
		return xstrndup(s, n);
	strbuf_init(&sb);
	for (i = 0; i < n; i++) {
		if (is_space(s[i])) {
			pending = 1;
			continue;
		}
		if (pending)
			strbuf_addc(&sb, ' ');
		pending = 0;
		strbuf_addc(&sb, s[i]);
	}
	return strbuf_detach(&sb);
}

static struct ini_sec *ini_section(struct ini *ini, char *name /* stolen */)
{
	size_t i;

	for (i = 0; i < ini->n; i++) {
		if (!strcmp(ini->sec[i].name, name)) {
			free(name);
			return &ini->sec[i];
		}
	}
	if (ini->n == ini->cap) {
		ini->cap = ini->cap ? 2 * ini->cap : 8;
		ini->sec = xrealloc(ini->sec, ini->cap * sizeof(*ini->sec));
	}
	memset(&ini->sec[ini->n], 0, sizeof(ini->sec[0]));
	ini->sec[ini->n].name = name;
	return &ini->sec[ini->n++];
}

static void zfree(char *s)
{
	if (s) {
		secure_zero(s, strlen(s));
		free(s);
	}
}

static struct ini_kv *ini_set(struct ini_sec *sec, char *key /* stolen */, char *value /* stolen */)
{
	size_t i;

	for (i = 0; i < sec->n; i++) {
		if (!strcmp(sec->kv[i].key, key)) {
			free(key);
			zfree(sec->kv[i].value);
			sec->kv[i].value = value;
			return &sec->kv[i];
		}
	}
	if (sec->n == sec->cap) {
		sec->cap = sec->cap ? 2 * sec->cap : 8;
		sec->kv = xrealloc(sec->kv, sec->cap * sizeof(*sec->kv));
	}
	sec->kv[sec->n].key = key;
	sec->kv[sec->n].value = value;
	return &sec->kv[sec->n++];
}

/* Length of a value without an inline comment: '#' or ';' after whitespace
 * (a secret may contain either character, but never after a space). */
static size_t value_len(const char *v, size_t n)
{
	size_t i;

	for (i = 1; i < n; i++)
		if ((v[i] == '#' || v[i] == ';') && is_space(v[i - 1]))
			return i;
	return n;
}

struct ini *ini_parse(const char *text)
{
	struct ini *ini = xcalloc(1, sizeof(*ini));
	struct ini_sec *cur = NULL;
	struct ini_kv *last = NULL;
	const char *line = text;

	while (line && *line) {
		const char *nl = strchr(line, '\n');
		size_t n = nl ? (size_t)(nl - line) : strlen(line);
		const char *p = line, *end = line + n;
		int indented = n && is_space(*line);

		line = nl ? nl + 1 : NULL;
		while (p < end && is_space(*p))
			p++;
		if (p == end || *p == '#' || *p == ';')
			continue;
		if (*p == '[') {
			const char *close = memchr(p, ']', (size_t)(end - p));

			last = NULL;
			/* a broken header must not let its keys land in the previous section */
			cur = close ? ini_section(ini, trim_dup(p + 1, (size_t)(close - p - 1), 1)) : NULL;
			continue;
		}
		if (!cur)
			continue;
		if (indented && last) {
			const char *eq = memchr(p, '=', (size_t)(end - p));

			/* nested settings under an empty key ("s3 =\n  x = 1") are not ours */
			if (!*last->value)
				continue;
			if (!eq) {
				char *more = trim_dup(p, value_len(p, (size_t)(end - p)), 0);
				char *v = xasprintf("%s\n%s", last->value, more);

				zfree(more);
				zfree(last->value);
				last->value = v;
				continue;
			}
		}
		{
			const char *eq = memchr(p, '=', (size_t)(end - p));
			char *key, *k;

			if (!eq)
				continue;
			key = trim_dup(p, (size_t)(eq - p), 0);
			if (!*key) {
				free(key);
				continue;
			}
			for (k = key; *k; k++)
				*k = (char)tolower((unsigned char)*k);
			eq++;
			last = ini_set(cur, key, trim_dup(eq, value_len(eq, (size_t)(end - eq)), 0));
		}
	}
	return ini;
}

void ini_free(struct ini *ini)
{
	size_t i, j;

	if (!ini)
		return;
	for (i = 0; i < ini->n; i++) {
		for (j = 0; j < ini->sec[i].n; j++) {
			free(ini->sec[i].kv[j].key);
			zfree(ini->sec[i].kv[j].value);
		}
		free(ini->sec[i].kv);
		free(ini->sec[i].name);
	}
	free(ini->sec);
	free(ini);
}

static const struct ini_sec *ini_find(const struct ini *ini, const char *section)
{
	size_t i;

	for (i = 0; ini && i < ini->n; i++)
		if (!strcmp(ini->sec[i].name, section))
			return &ini->sec[i];
	return NULL;
}

const char *ini_get(const struct ini *ini, const char *section, const char *key)
{
	const struct ini_sec *sec = ini_find(ini, section);
	size_t i;

	for (i = 0; sec && i < sec->n; i++)
		if (!strcasecmp(sec->kv[i].key, key))
			return sec->kv[i].value;
	return NULL;
}

/* ---- time ---- */

int creds_parse_time(const char *s, int64_t *out)
{
	int y, mo, d, h, mi, sec, n = 0, off = 0;
	const char *p;

	if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 ||
	    n != 19)
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return -1;
	p = s + n;
	if (*p == '.')
		for (p++; isdigit((unsigned char)*p); p++)
			;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int oh, om;
		int sign = *p == '-' ? -1 : 1;

		if (sscanf(p + 1, "%2d:%2d", &oh, &om) == 2 && p[3] == ':')
			p += 6;
		else if (sscanf(p + 1, "%2d%2d", &oh, &om) == 2)
			p += 5;
		else
			return -1;
		off = sign * (oh * 3600 + om * 60);
	} else {
		return -1;
	}
	if (*p)
		return -1;
	*out = utc_seconds(y, mo, d, h, mi, sec) - off;
	return 0;
}

/* ---- credentials ---- */

void aws_creds_free(struct aws_creds *c)
{
	if (!c)
		return;
	free(c->access_key_id);
	zfree(c->secret_access_key);
	zfree(c->session_token);
	c->access_key_id = NULL;
	c->secret_access_key = NULL;
	c->session_token = NULL;
	c->expiration = 0;
}

int creds_expiring(const struct aws_creds *c, int64_t now, int margin_s)
{
	return c->expiration != 0 && c->expiration - now <= margin_s;
}

static void set_creds(struct aws_creds *out, const char *akid, const char *secret,
		      const char *token, int64_t expiration, const char *source)
{
	memset(out, 0, sizeof(*out));
	out->access_key_id = xstrdup(akid);
	out->secret_access_key = xstrdup(secret);
	out->session_token = token && *token ? xstrdup(token) : NULL;
	out->expiration = expiration;
	snprintf(out->source, sizeof(out->source), "%s", source);
}

/* The chain's working state for one resolution. */
struct chain {
	const struct creds_env *env;
	const char *profile;
	int explicit_profile;
	char *cred_path, *conf_path;
	struct ini *cred, *conf;
	struct strbuf tried;        /* "environment, profile 'default', ..." for the final error */
};

static const char *getenv_nonempty(const struct chain *ch, const char *name)
{
	const char *v = env_get(ch->env->envp, name);

	return v && *v ? v : NULL;
}

static void tried(struct chain *ch, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void tried(struct chain *ch, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	strbuf_addf(&ch->tried, "%s%s", ch->tried.len ? "; " : "", s);
	free(s);
}

/* "~/x" and "~" expand with HOME, as the AWS tools do for these variables. */
static char *expand_home(char *const *envp, const char *path)
{
	const char *home = env_get(envp, "HOME");

	if (path[0] == '~' && (path[1] == '/' || path[1] == '\0') && home)
		return xasprintf("%s%s", home, path + 1);
	return xstrdup(path);
}

static char *aws_file_path(char *const *envp, const char *var, const char *base)
{
	const char *v = env_get(envp, var);
	const char *home = env_get(envp, "HOME");

	if (v && *v)
		return expand_home(envp, v);
	if (!home)
		return NULL;
	return xasprintf("%s/.aws/%s", home, base);
}

/* A missing or unreadable file is an empty one: the chain goes on. */
static struct ini *load_ini(const char *path)
{
	struct cairn_err err;
	char *text = path ? read_file(path, NULL, &err) : NULL;
	struct ini *ini = ini_parse(text ? text : "");

	if (text) {
		secure_zero(text, strlen(text));
		free(text);
	}
	return ini;
}

static const char *select_profile(char *const *envp, const char *profile)
{
	const char *p = profile && *profile ? profile : env_get(envp, "AWS_PROFILE");

	if (!p || !*p)
		p = env_get(envp, "AWS_DEFAULT_PROFILE");
	return p && *p ? p : "default";
}

/* The config-file section of a profile: "[profile x]", and for "default"
 * also plain "[default]" (the config file accepts both spellings). */
static const char *conf_get(const struct ini *conf, const char *profile, const char *key)
{
	char *sec = xasprintf("profile %s", profile);
	const char *v = ini_get(conf, sec, key);

	free(sec);
	if (!v && !strcmp(profile, "default"))
		v = ini_get(conf, "default", key);
	return v;
}

static const char *prof_get(const struct chain *ch, const char *profile, const char *key)
{
	const char *v = ini_get(ch->cred, profile, key);

	if (!v)
		v = conf_get(ch->conf, profile, key);
	return v && *v ? v : NULL;
}

static int prof_exists(const struct chain *ch, const char *profile)
{
	char *sec = xasprintf("profile %s", profile);
	int found = ini_find(ch->cred, profile) || ini_find(ch->conf, sec) ||
		    (!strcmp(profile, "default") && ini_find(ch->conf, "default"));

	free(sec);
	return found;
}

/* Reads a token file (web identity, container authorization), trimmed. */
static char *read_token(char *const *envp, const char *path, struct cairn_err *err)
{
	char *p = expand_home(envp, path);
	char *text = read_file(p, NULL, err), *tok;

	free(p);
	if (!text)
		return NULL;
	tok = trim_dup(text, strlen(text), 0);
	zfree(text);
	return tok;
}

static char *session_name(const struct chain *ch, const char *configured)
{
	if (configured && *configured)
		return xstrdup(configured);
	return xasprintf("cairn-%lld", ch->env->now ? (long long)ch->env->now() : 0LL);
}

static int call_sts(const struct chain *ch, const struct aws_creds *with, const char *op,
		    const char *const *params, const char *source, struct aws_creds *out,
		    struct cairn_err *err)
{
	if (!ch->env->sts) {
		err_set(err, CAIRN_EINTERNAL, "cannot call sts %s: no STS client available", op);
		return -1;
	}
	memset(out, 0, sizeof(*out));
	if (ch->env->sts(ch->env->sts_ctx, with, op, params, out, err) < 0) {
		aws_creds_free(out);
		return -1;
	}
	if (!out->access_key_id || !out->secret_access_key) {
		aws_creds_free(out);
		err_set(err, CAIRN_EAWS, "sts %s returned no credentials", op);
		return -1;
	}
	snprintf(out->source, sizeof(out->source), "%s", source);
	return 0;
}

static int web_identity(const struct chain *ch, const char *role_arn, const char *token_file,
			const char *session, struct aws_creds *out, struct cairn_err *err)
{
	char *token = read_token(ch->env->envp, token_file, err);
	char *name = session_name(ch, session);
	const char *params[] = { "RoleArn", role_arn, "RoleSessionName", name,
				 "WebIdentityToken", token, NULL };
	int rc = -1;

	if (!token) {
		err_prefix(err, "cannot read web identity token");
		goto out;
	}
	if (call_sts(ch, NULL, "AssumeRoleWithWebIdentity", params, "web-identity", out, err) < 0) {
		err_prefix(err, "cannot assume role '%s' with web identity", role_arn);
		goto out;
	}
	rc = 0;
out:
	zfree(token);
	free(name);
	return rc;
}

/* ---- links of the chain: each returns 1 found, 0 not configured, -1 error ---- */

static int from_environment(struct chain *ch, struct aws_creds *out, struct cairn_err *err)
{
	const char *akid = getenv_nonempty(ch, "AWS_ACCESS_KEY_ID");
	const char *secret = getenv_nonempty(ch, "AWS_SECRET_ACCESS_KEY");

	if (!akid && !secret)
		return 0;
	if (!akid || !secret) {
		err_set(err, CAIRN_EINVAL, "incomplete AWS credentials in the environment: %s is set but %s is not",
			akid ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
			akid ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
		return -1;
	}
	set_creds(out, akid, secret, getenv_nonempty(ch, "AWS_SESSION_TOKEN"), 0, "environment");
	return 1;
}

static int parse_creds_json(const char *body, const char *source, struct aws_creds *out,
			    struct cairn_err *err)
{
	json_error_t jerr;
	json_t *j = json_loads(body, 0, &jerr);
	const char *akid, *secret, *exp;
	int64_t expiration = 0;
	int rc = -1;

	if (!json_is_object(j)) {
		err_set(err, CAIRN_EINVAL, "%s credentials: response is not a JSON object", source);
		goto out;
	}
	akid = json_string_value(json_object_get(j, "AccessKeyId"));
	secret = json_string_value(json_object_get(j, "SecretAccessKey"));
	exp = json_string_value(json_object_get(j, "Expiration"));
	if (!akid || !secret) {
		const char *code = json_string_value(json_object_get(j, "Code"));

		err_set(err, CAIRN_EINVAL, "%s credentials: response has no AccessKeyId/SecretAccessKey%s%s",
			source, code ? ", code " : "", code ? code : "");
		goto out;
	}
	if (exp && creds_parse_time(exp, &expiration) < 0) {
		err_set(err, CAIRN_EINVAL, "%s credentials: bad Expiration '%s'", source, exp);
		goto out;
	}
	set_creds(out, akid, secret, json_string_value(json_object_get(j, "Token")), expiration,
		  source);
	rc = 0;
out:
	json_decref(j);
	return rc;
}

/* Host of an http(s) URL into buf ("" if none). */
static void url_host(const char *url, char *buf, size_t n)
{
	const char *p = strstr(url, "://"), *end;
	size_t len;

	buf[0] = '\0';
	if (!p)
		return;
	p += 3;
	if (*p == '[') {
		end = strchr(p, ']');
		end = end ? end + 1 : p + strlen(p);
	} else {
		end = p + strcspn(p, ":/?#");
	}
	len = (size_t)(end - p);
	if (len >= n)
		return;
	memcpy(buf, p, len);
	buf[len] = '\0';
}

/* Plain http may only go to the container agent's link-local addresses or
 * to loopback: the authorization token must not cross the network. */
static int container_host_allowed(const char *url)
{
	char host[256];
	struct in_addr v4;

	if (!strncasecmp(url, "https://", 8))
		return 1;
	if (strncasecmp(url, "http://", 7))
		return 0;
	url_host(url, host, sizeof(host));
	if (inet_pton(AF_INET, host, &v4) == 1)
		return (ntohl(v4.s_addr) >> 24) == 127 || !strcmp(host, "169.254.170.2") ||
		       !strcmp(host, "169.254.170.23");
	return !strcasecmp(host, "[fd00:ec2::23]") || !strcasecmp(host, "localhost") ||
	       !strcmp(host, "[::1]");
}

static int from_container(struct chain *ch, struct aws_creds *out, struct cairn_err *err)
{
	const char *rel = getenv_nonempty(ch, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
	const char *full = getenv_nonempty(ch, "AWS_CONTAINER_CREDENTIALS_FULL_URI");
	const char *tok_file = getenv_nonempty(ch, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
	const char *tok_env = getenv_nonempty(ch, "AWS_CONTAINER_AUTHORIZATION_TOKEN");
	char *url = NULL, *token = NULL, *hdr = NULL, *body = NULL;
	const char *headers[1];
	size_t nh = 0;
	int status = 0, rc = -1;

	if (!rel && !full)
		return 0;
	url = rel ? xasprintf(CONTAINER_HOST "%s%s", rel[0] == '/' ? "" : "/", rel) : xstrdup(full);
	if (!rel && !container_host_allowed(url)) {
		err_set(err, CAIRN_EINVAL,
			"AWS_CONTAINER_CREDENTIALS_FULL_URI '%s': plain http is only allowed to loopback or the ECS/EKS agent addresses",
			url);
		goto out;
	}
	if (tok_file) {
		token = read_token(ch->env->envp, tok_file, err);
		if (!token) {
			err_prefix(err, "cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
			goto out;
		}
	} else if (tok_env) {
		token = xstrdup(tok_env);
	}
	if (token) {
		if (strpbrk(token, "\r\n")) {
			err_set(err, CAIRN_EINVAL, "container authorization token contains a line break");
			goto out;
		}
		hdr = xasprintf("Authorization: %s", token);
		headers[nh++] = hdr;
	}
	if (!ch->env->http) {
		err_set(err, CAIRN_EINTERNAL, "cannot fetch container credentials: no HTTP client available");
		goto out;
	}
	if (ch->env->http(ch->env->http_ctx, "GET", url, headers, nh, NULL, CONTAINER_TIMEOUT_MS,
			  &status, &body, err) < 0) {
		err_prefix(err, "cannot fetch container credentials from %s", url);
		goto out;
	}
	if (status != 200) {
		err_set(err, CAIRN_EAWS, "cannot fetch container credentials from %s: HTTP %d", url, status);
		goto out;
	}
	if (parse_creds_json(body, "container", out, err) < 0)
		goto out;
	rc = 1;
out:
	free(url);
	zfree(token);
	zfree(hdr);
	zfree(body);
	return rc;
}

static int imds_get(struct chain *ch, const char *method, const char *url, const char *header,
		    char **body, struct cairn_err *err)
{
	const char *headers[1] = { header };
	int status = 0;

	*body = NULL;
	if (ch->env->http(ch->env->http_ctx, method, url, headers, 1, NULL, IMDS_TIMEOUT_MS,
			  &status, body, err) < 0)
		return -1;
	if (status != 200) {
		zfree(*body);
		*body = NULL;
		err_set(err, CAIRN_EAWS, "%s %s: HTTP %d", method, url, status);
		return -1;
	}
	return 0;
}

static int from_imds(struct chain *ch, struct aws_creds *out, struct cairn_err *err)
{
	const char *disabled = env_get(ch->env->envp, "AWS_EC2_METADATA_DISABLED");
	const char *ep = getenv_nonempty(ch, "AWS_EC2_METADATA_SERVICE_ENDPOINT");
	char *base, *url = NULL, *token = NULL, *thdr = NULL, *roles = NULL, *body = NULL;
	struct cairn_err e;
	size_t len;
	int rc = 0;

	if (disabled && !strcasecmp(disabled, "true")) {
		tried(ch, "instance metadata (disabled by AWS_EC2_METADATA_DISABLED)");
		return 0;
	}
	if (!ch->env->http) {
		tried(ch, "instance metadata (no HTTP client)");
		return 0;
	}
	base = xstrdup(ep ? ep : IMDS_DEFAULT);
	len = strlen(base);
	while (len && base[len - 1] == '/')
		base[--len] = '\0';
	err_clear(&e);

	url = xasprintf("%s/latest/api/token", base);
	if (imds_get(ch, "PUT", url, "X-aws-ec2-metadata-token-ttl-seconds: " IMDS_TOKEN_TTL,
		     &token, &e) < 0)
		goto out;
	len = strlen(token);
	while (len && isspace((unsigned char)token[len - 1]))
		token[--len] = '\0';
	thdr = xasprintf("X-aws-ec2-metadata-token: %s", token);
	free(url);
	url = xasprintf("%s/latest/meta-data/iam/security-credentials/", base);
	if (imds_get(ch, "GET", url, thdr, &roles, &e) < 0)
		goto out;
	roles[strcspn(roles, "\r\n")] = '\0';
	if (!roles[0]) {
		err_set(&e, CAIRN_ENOTFOUND, "no instance profile role attached");
		goto out;
	}
	free(url);
	url = xasprintf("%s/latest/meta-data/iam/security-credentials/%s", base, roles);
	if (imds_get(ch, "GET", url, thdr, &body, &e) < 0)
		goto out;
	/* the role is attached and answered: a bad answer is a real error */
	if (parse_creds_json(body, "imds", out, err) < 0) {
		rc = -1;
		goto out;
	}
	rc = 1;
out:
	if (rc == 0)
		tried(ch, "instance metadata at %s (%s)", base, e.msg);
	free(base);
	free(url);
	zfree(token);
	zfree(thdr);
	free(roles);
	zfree(body);
	return rc;
}

static int from_profile(struct chain *ch, const char *name, const char **visited, int depth,
			struct aws_creds *out, struct cairn_err *err);

static int from_static(struct chain *ch, const char *name, struct aws_creds *out,
		       struct cairn_err *err)
{
	const char *akid = prof_get(ch, name, "aws_access_key_id");
	const char *secret = prof_get(ch, name, "aws_secret_access_key");
	char source[64];

	if (!akid && !secret)
		return 0;
	if (!akid || !secret) {
		err_set(err, CAIRN_EINVAL, "profile '%s': %s is set but %s is not", name,
			akid ? "aws_access_key_id" : "aws_secret_access_key",
			akid ? "aws_secret_access_key" : "aws_access_key_id");
		return -1;
	}
	snprintf(source, sizeof(source), "profile %s", name);
	set_creds(out, akid, secret, prof_get(ch, name, "aws_session_token"), 0, source);
	return 1;
}

/* The credentials a role profile assumes the role with. */
static int role_source(struct chain *ch, const char *name, const char **visited, int depth,
		       struct aws_creds *src, struct cairn_err *err)
{
	const char *sp = prof_get(ch, name, "source_profile");
	const char *cs = prof_get(ch, name, "credential_source");
	int i, r;

	if (sp && cs) {
		err_set(err, CAIRN_EINVAL, "profile '%s': source_profile and credential_source are both set", name);
		return -1;
	}
	if (cs) {
		if (!strcasecmp(cs, "Environment"))
			r = from_environment(ch, src, err);
		else if (!strcasecmp(cs, "EcsContainer"))
			r = from_container(ch, src, err);
		else if (!strcasecmp(cs, "Ec2InstanceMetadata"))
			r = from_imds(ch, src, err);
		else {
			err_set(err, CAIRN_EINVAL,
				"profile '%s': unknown credential_source '%s' (Environment, EcsContainer or Ec2InstanceMetadata)",
				name, cs);
			return -1;
		}
		if (r == 0)
			err_set(err, CAIRN_ENOTFOUND, "profile '%s': credential_source %s has no credentials", name, cs);
		return r == 1 ? 0 : -1;
	}
	if (!sp) {
		err_set(err, CAIRN_EINVAL,
			"profile '%s': role_arn needs source_profile, credential_source or web_identity_token_file",
			name);
		return -1;
	}
	/* a profile naming itself uses its own static keys */
	if (!strcmp(sp, name))
		r = from_static(ch, name, src, err);
	else {
		for (i = 0; i < depth; i++) {
			if (!strcmp(visited[i], sp)) {
				struct strbuf sb;
				int j;

				strbuf_init(&sb);
				for (j = 0; j < depth; j++)
					strbuf_addf(&sb, "%s -> ", visited[j]);
				strbuf_adds(&sb, sp);
				err_set(err, CAIRN_EINVAL, "source_profile loop: %s", sb.buf);
				strbuf_free(&sb);
				return -1;
			}
		}
		if (!prof_exists(ch, sp)) {
			err_set(err, CAIRN_ENOTFOUND, "profile '%s': source_profile '%s' not found", name, sp);
			return -1;
		}
		r = from_profile(ch, sp, visited, depth, src, err);
	}
	if (r == 0)
		err_set(err, CAIRN_ENOTFOUND, "profile '%s': source_profile '%s' has no credentials", name, sp);
	return r == 1 ? 0 : -1;
}

static int assume_role(struct chain *ch, const char *name, const char *role_arn,
		       const char **visited, int depth, struct aws_creds *out, struct cairn_err *err)
{
	struct aws_creds src = { 0 };
	char *session = NULL;
	const char *params[9];
	const char *ext = prof_get(ch, name, "external_id");
	const char *dur = prof_get(ch, name, "duration_seconds");
	int n = 0, rc = -1;

	if (prof_get(ch, name, "mfa_serial")) {
		err_set(err, CAIRN_EINVAL,
			"profile '%s': mfa_serial needs an interactive MFA code, which cairn does not ask for", name);
		return -1;
	}
	if (role_source(ch, name, visited, depth, &src, err) < 0)
		goto out;
	session = session_name(ch, prof_get(ch, name, "role_session_name"));
	params[n++] = "RoleArn";
	params[n++] = role_arn;
	params[n++] = "RoleSessionName";
	params[n++] = session;
	if (ext) {
		params[n++] = "ExternalId";
		params[n++] = ext;
	}
	if (dur) {
		params[n++] = "DurationSeconds";
		params[n++] = dur;
	}
	params[n] = NULL;
	if (call_sts(ch, &src, "AssumeRole", params, "assume-role", out, err) < 0) {
		err_prefix(err, "profile '%s': cannot assume role '%s'", name, role_arn);
		goto out;
	}
	rc = 1;
out:
	aws_creds_free(&src);
	free(session);
	return rc;
}

static int from_profile(struct chain *ch, const char *name, const char **visited, int depth,
			struct aws_creds *out, struct cairn_err *err)
{
	const char *role_arn = prof_get(ch, name, "role_arn");
	const char *wif = prof_get(ch, name, "web_identity_token_file");

	if (depth >= MAX_PROFILE_DEPTH) {
		err_set(err, CAIRN_EINVAL, "profile '%s': source_profile chain deeper than %d", name,
			MAX_PROFILE_DEPTH);
		return -1;
	}
	visited[depth++] = name;
	if (!role_arn)
		return from_static(ch, name, out, err);
	if (wif) {
		if (web_identity(ch, role_arn, wif, prof_get(ch, name, "role_session_name"), out, err) < 0) {
			err_prefix(err, "profile '%s'", name);
			return -1;
		}
		return 1;
	}
	return assume_role(ch, name, role_arn, visited, depth, out, err);
}

static int from_web_identity_env(struct chain *ch, struct aws_creds *out, struct cairn_err *err)
{
	const char *file = getenv_nonempty(ch, "AWS_WEB_IDENTITY_TOKEN_FILE");
	const char *role = getenv_nonempty(ch, "AWS_ROLE_ARN");

	if (!file || !role)
		return 0;
	return web_identity(ch, role, file, getenv_nonempty(ch, "AWS_ROLE_SESSION_NAME"), out, err) < 0 ? -1 : 1;
}

int creds_resolve(const struct creds_env *env, struct aws_creds *out, struct cairn_err *err)
{
	struct chain ch;
	const char *visited[MAX_PROFILE_DEPTH];
	int r;

	memset(out, 0, sizeof(*out));
	memset(&ch, 0, sizeof(ch));
	ch.env = env;
	ch.explicit_profile = env->profile && *env->profile;
	ch.profile = select_profile(env->envp, env->profile);
	ch.cred_path = aws_file_path(env->envp, "AWS_SHARED_CREDENTIALS_FILE", "credentials");
	ch.conf_path = aws_file_path(env->envp, "AWS_CONFIG_FILE", "config");
	ch.cred = load_ini(ch.cred_path);
	ch.conf = load_ini(ch.conf_path);
	strbuf_init(&ch.tried);

	r = 0;
	if (!ch.explicit_profile) {
		r = from_environment(&ch, out, err);
		if (r == 0)
			tried(&ch, "environment (AWS_ACCESS_KEY_ID)");
	}
	if (r == 0) {
		/* a profile asked for by name must exist */
		if (strcmp(ch.profile, "default") && !prof_exists(&ch, ch.profile)) {
			err_set(err, CAIRN_ENOTFOUND, "profile '%s' not found in %s or %s", ch.profile,
				ch.cred_path ? ch.cred_path : "(no credentials file)",
				ch.conf_path ? ch.conf_path : "(no config file)");
			r = -1;
		} else {
			r = from_profile(&ch, ch.profile, visited, 0, out, err);
			if (r == 0)
				tried(&ch, "profile '%s' in %s and %s", ch.profile,
				      ch.cred_path ? ch.cred_path : "(no credentials file)",
				      ch.conf_path ? ch.conf_path : "(no config file)");
		}
	}
	if (r == 0) {
		r = from_web_identity_env(&ch, out, err);
		if (r == 0)
			tried(&ch, "web identity (AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN)");
	}
	if (r == 0) {
		r = from_container(&ch, out, err);
		if (r == 0)
			tried(&ch, "container (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI/_FULL_URI)");
	}
	if (r == 0)
		r = from_imds(&ch, out, err);
	if (r == 0)
		err_set(err, CAIRN_ENOTFOUND, "no AWS credentials found: tried %s", ch.tried.buf);
	if (r != 1)
		aws_creds_free(out);
	free(ch.cred_path);
	free(ch.conf_path);
	ini_free(ch.cred);
	ini_free(ch.conf);
	strbuf_free(&ch.tried);
	return r == 1 ? 0 : -1;
}

char *creds_profile_region(char *const *envp, const char *profile)
{
	char *path = aws_file_path(envp, "AWS_CONFIG_FILE", "config");
	struct ini *conf = load_ini(path);
	const char *v = conf_get(conf, select_profile(envp, profile), "region");
	char *region = v && *v ? xstrdup(v) : NULL;

	ini_free(conf);
	free(path);
	return region;
}
