/*
 * test_creds: the INI parser and every link of the credential chain, with a
 * fake environment, temporary files and fake HTTP / STS hooks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "providers/aws/creds.h"

#define NOW 1700000000

/* ---- fixtures: a temp HOME, fake HTTP routes, a fake STS ---- */

struct route {
	const char *method;
	const char *url;
	int status;
	const char *body;       /* NULL: connection error */
};

struct fake {
	char dir[256];
	char *env[32];
	size_t nenv;
	struct route routes[8];
	size_t nroutes;
	char http_log[4096];    /* "METHOD URL [header|header]\n" per call */
	char sts_log[4096];     /* "OP with=AKID|- NAME=VALUE ...\n" per call */
	const char *sts_fail;   /* fail STS with this message */
};

static int64_t fake_now(void)
{
	return NOW;
}

static int fake_http(void *ctx, const char *method, const char *url, const char *const *headers,
		     size_t n_headers, const char *body, long timeout_ms, int *status, char **body_out,
		     struct cairn_err *err)
{
	struct fake *f = ctx;
	size_t i, len = strlen(f->http_log);

	assert_true(timeout_ms > 0 && timeout_ms <= 5000);
	snprintf(f->http_log + len, sizeof(f->http_log) - len, "%s %s [", method, url);
	for (i = 0; i < n_headers; i++) {
		len = strlen(f->http_log);
		snprintf(f->http_log + len, sizeof(f->http_log) - len, "%s%s", i ? "|" : "", headers[i]);
	}
	len = strlen(f->http_log);
	snprintf(f->http_log + len, sizeof(f->http_log) - len, "]\n");
	for (i = 0; i < f->nroutes; i++) {
		if (strcmp(f->routes[i].method, method) || strcmp(f->routes[i].url, url))
			continue;
		if (!f->routes[i].body) {
			err_set(err, CAIRN_ENET, "connection refused");
			return -1;
		}
		*status = f->routes[i].status;
		*body_out = xstrdup(f->routes[i].body);
		return 0;
	}
	err_set(err, CAIRN_ENET, "timed out");
	return -1;
}

static int fake_sts(void *ctx, const struct aws_creds *with, const char *operation,
		    const char *const *params, struct aws_creds *out, struct cairn_err *err)
{
	struct fake *f = ctx;
	size_t len = strlen(f->sts_log);
	const char *role = NULL;
	size_t i;

	snprintf(f->sts_log + len, sizeof(f->sts_log) - len, "%s with=%s", operation,
		 with ? with->access_key_id : "-");
	for (i = 0; params[i]; i += 2) {
		len = strlen(f->sts_log);
		snprintf(f->sts_log + len, sizeof(f->sts_log) - len, " %s=%s", params[i], params[i + 1]);
		if (!strcmp(params[i], "RoleArn"))
			role = params[i + 1];
	}
	len = strlen(f->sts_log);
	snprintf(f->sts_log + len, sizeof(f->sts_log) - len, "\n");
	if (f->sts_fail) {
		err_set(err, CAIRN_EAWS, "%s", f->sts_fail);
		return -1;
	}
	/* the new key names the role it came from, so chains can be followed */
	out->access_key_id = xasprintf("ASIA:%s", role ? strrchr(role, '/') + 1 : "?");
	out->secret_access_key = xstrdup("assumed-secret");
	out->session_token = xstrdup("assumed-token");
	out->expiration = NOW + 3600;
	return 0;
}

static int setup(void **state)
{
	struct fake *f = xcalloc(1, sizeof(*f));

	/* mkdtemp's template: the prefix and six placeholder characters */
	snprintf(f->dir, sizeof(f->dir), "/tmp/cairn-creds-%c%c%c%c%c%c", 'X', 'X', 'X', 'X', 'X', 'X');
	assert_non_null(mkdtemp(f->dir));
	f->env[f->nenv++] = xasprintf("HOME=%s", f->dir);
	/* no IMDS unless a test asks for it */
	f->env[f->nenv++] = xstrdup("AWS_EC2_METADATA_DISABLED=true");
	*state = f;
	return 0;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path);
}

static int teardown(void **state)
{
	struct fake *f = *state;
	size_t i;

	nftw(f->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	for (i = 0; i < f->nenv; i++)
		free(f->env[i]);
	free(f);
	return 0;
}

static void setenv_f(struct fake *f, const char *name, const char *value)
{
	size_t i, n = strlen(name);

	for (i = 0; i < f->nenv; i++) {
		if (!strncmp(f->env[i], name, n) && f->env[i][n] == '=') {
			free(f->env[i]);
			f->env[i] = xasprintf("%s=%s", name, value);
			return;
		}
	}
	assert_true(f->nenv < 31);
	f->env[f->nenv++] = xasprintf("%s=%s", name, value);
	f->env[f->nenv] = NULL;
}

/* Writes DIR/rel (creating DIR/.aws when needed); returns the path (static buffer). */
static const char *write_f(struct fake *f, const char *rel, const char *text)
{
	static char path[512];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/.aws", f->dir);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/%s", f->dir, rel);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
	return path;
}

static void add_route(struct fake *f, const char *method, const char *url, int status, const char *body)
{
	struct route r = { method, url, status, body };

	assert_true(f->nroutes < sizeof(f->routes) / sizeof(f->routes[0]));
	f->routes[f->nroutes++] = r;
}

static struct creds_env env_of(struct fake *f, const char *profile)
{
	struct creds_env e = { f->env, profile, fake_now, fake_http, f, fake_sts, f };

	f->env[f->nenv] = NULL;
	return e;
}

static int resolve(struct fake *f, const char *profile, struct aws_creds *c, struct cairn_err *err)
{
	struct creds_env e = env_of(f, profile);

	err_clear(err);
	return creds_resolve(&e, c, err);
}

/* Resolves and checks the key, secret, token and source; frees. */
static void expect_creds(struct fake *f, const char *profile, const char *akid, const char *secret,
			 const char *token, const char *source)
{
	struct aws_creds c;
	struct cairn_err err;

	if (resolve(f, profile, &c, &err) != 0) {
		print_error("unexpected error: %s\n", err.msg);
		fail();
	}
	assert_string_equal(c.access_key_id, akid);
	assert_string_equal(c.secret_access_key, secret);
	if (token)
		assert_string_equal(c.session_token, token);
	else
		assert_null(c.session_token);
	assert_string_equal(c.source, source);
	aws_creds_free(&c);
	assert_null(c.access_key_id);
	assert_null(c.secret_access_key);
}

static void expect_error(struct fake *f, const char *profile, const char *needle)
{
	struct aws_creds c;
	struct cairn_err err;

	assert_int_equal(resolve(f, profile, &c, &err), -1);
	assert_null(c.access_key_id);
	if (!strstr(err.msg, needle)) {
		print_error("error '%s' does not contain '%s'\n", err.msg, needle);
		fail();
	}
}

/* ---- INI ---- */

static void test_ini_parse(void **state)
{
	struct ini *ini = ini_parse("# comment\n"
				   "stray = before any section\n"
				   "; another comment\n"
				   "[default]\n"
				   "aws_access_key_id=AKID1\n"
				   "  AWS_Secret_Access_Key   =   s3cr#t/with+chars==   \n"
				   "\tregion\t=\tus-west-2 ; inline comment\n"
				   "output = json # inline too\n"
				   "\n"
				   "[  profile    dev  ]   \r\n"
				   "aws_access_key_id = AKID2\r\n"
				   "s3 =\n"
				   "  max_concurrent_requests = 10\n"
				   "empty =\n"
				   "[broken\n"
				   "aws_access_key_id = LOST\n"
				   "[default]\n"
				   "role_arn = arn:aws:iam::123:role/r\n"
				   "long = first\n"
				   "  second\n");

	(void)state;
	assert_string_equal(ini_get(ini, "default", "aws_access_key_id"), "AKID1");
	/* keys are case-insensitive; '#' inside a value is not a comment */
	assert_string_equal(ini_get(ini, "default", "AWS_SECRET_ACCESS_KEY"), "s3cr#t/with+chars==");
	assert_string_equal(ini_get(ini, "default", "region"), "us-west-2");
	assert_string_equal(ini_get(ini, "default", "output"), "json");
	/* a repeated section adds to the first */
	assert_string_equal(ini_get(ini, "default", "role_arn"), "arn:aws:iam::123:role/r");
	assert_string_equal(ini_get(ini, "default", "long"), "first\nsecond");
	assert_string_equal(ini_get(ini, "profile dev", "aws_access_key_id"), "AKID2");
	assert_string_equal(ini_get(ini, "profile dev", "s3"), "");
	assert_null(ini_get(ini, "profile dev", "max_concurrent_requests"));
	assert_string_equal(ini_get(ini, "profile dev", "empty"), "");
	assert_null(ini_get(ini, "dev", "aws_access_key_id"));
	assert_null(ini_get(ini, "default", "stray"));
	assert_null(ini_get(ini, "broken", "aws_access_key_id"));
	assert_null(ini_get(ini, "profile dev", "missing"));
	assert_null(ini_get(ini, "nosuch", "region"));
	ini_free(ini);

	ini = ini_parse("");
	assert_null(ini_get(ini, "default", "x"));
	ini_free(ini);
	ini = ini_parse("[a]\nk = v");    /* no final newline */
	assert_string_equal(ini_get(ini, "a", "k"), "v");
	ini_free(ini);
}

/* ---- environment ---- */

static void test_environment(void **state)
{
	struct fake *f = *state;

	write_f(f, ".aws/credentials", "[default]\naws_access_key_id = FILE\naws_secret_access_key = fsecret\n");
	setenv_f(f, "AWS_ACCESS_KEY_ID", "ENVKEY");
	setenv_f(f, "AWS_SECRET_ACCESS_KEY", "envsecret");
	expect_creds(f, NULL, "ENVKEY", "envsecret", NULL, "environment");
	setenv_f(f, "AWS_SESSION_TOKEN", "envtoken");
	expect_creds(f, NULL, "ENVKEY", "envsecret", "envtoken", "environment");
	/* --profile names a profile: the environment keys step aside */
	expect_creds(f, "default", "FILE", "fsecret", NULL, "profile default");
	/* AWS_PROFILE does not */
	setenv_f(f, "AWS_PROFILE", "default");
	expect_creds(f, NULL, "ENVKEY", "envsecret", "envtoken", "environment");
	/* empty counts as unset */
	setenv_f(f, "AWS_ACCESS_KEY_ID", "");
	setenv_f(f, "AWS_SECRET_ACCESS_KEY", "");
	expect_creds(f, NULL, "FILE", "fsecret", NULL, "profile default");
	setenv_f(f, "AWS_ACCESS_KEY_ID", "ONLYKEY");
	expect_error(f, NULL, "AWS_SECRET_ACCESS_KEY is not");
}

/* ---- shared files ---- */

static void test_profiles(void **state)
{
	struct fake *f = *state;
	const char *p;

	write_f(f, ".aws/credentials",
		"[default]\n"
		"aws_access_key_id = DEFKEY\n"
		"aws_secret_access_key = defsecret\n"
		"[dev]\n"
		"aws_access_key_id = DEVKEY\n"
		"aws_secret_access_key = devsecret\n"
		"aws_session_token = devtoken\n"
		"[profile notthisone]\n"
		"aws_access_key_id = WRONG\n"
		"aws_secret_access_key = wrong\n");
	write_f(f, ".aws/config",
		"[default]\nregion = eu-west-1\n"
		"[profile dev]\naws_access_key_id = CONFIGDEV\naws_secret_access_key = x\nregion = us-east-2\n"
		"[profile cfgonly]\n  aws_access_key_id = CFGKEY  \n  aws_secret_access_key = cfgsecret\n"
		"[notthisone]\naws_access_key_id = WRONG2\naws_secret_access_key = wrong\n"
		"[profile half]\naws_access_key_id = HALF\n");
	expect_creds(f, NULL, "DEFKEY", "defsecret", NULL, "profile default");
	/* credentials file wins over config file */
	expect_creds(f, "dev", "DEVKEY", "devsecret", "devtoken", "profile dev");
	/* config-only profile, with indented keys */
	expect_creds(f, "cfgonly", "CFGKEY", "cfgsecret", NULL, "profile cfgonly");
	setenv_f(f, "AWS_PROFILE", "cfgonly");
	expect_creds(f, NULL, "CFGKEY", "cfgsecret", NULL, "profile cfgonly");
	/* --profile beats AWS_PROFILE */
	expect_creds(f, "dev", "DEVKEY", "devsecret", "devtoken", "profile dev");
	/* "[profile x]" belongs to config and "[x]" to credentials, not the other way */
	expect_error(f, "notthisone", "profile 'notthisone' not found");
	expect_error(f, "nosuch", "profile 'nosuch' not found");
	expect_error(f, "half", "aws_secret_access_key is not");

	/* files named by the environment, with ~ expansion */
	p = write_f(f, "other-creds", "[default]\naws_access_key_id=OTHER\naws_secret_access_key=o\n");
	(void)p;
	setenv_f(f, "AWS_PROFILE", "");
	setenv_f(f, "AWS_SHARED_CREDENTIALS_FILE", "~/other-creds");
	expect_creds(f, NULL, "OTHER", "o", NULL, "profile default");
}

static void test_profile_region(void **state)
{
	struct fake *f = *state;
	char *r;

	write_f(f, ".aws/config", "[default]\nregion = eu-west-1\n[profile dev]\nregion=us-east-2\n[profile none]\n");
	f->env[f->nenv] = NULL;
	r = creds_profile_region(f->env, NULL);
	assert_string_equal(r, "eu-west-1");
	free(r);
	r = creds_profile_region(f->env, "dev");
	assert_string_equal(r, "us-east-2");
	free(r);
	r = creds_profile_region(f->env, "none");
	assert_null(r);
	setenv_f(f, "AWS_PROFILE", "dev");
	r = creds_profile_region(f->env, NULL);
	assert_string_equal(r, "us-east-2");
	free(r);
	setenv_f(f, "AWS_CONFIG_FILE", "/nonexistent/config");
	r = creds_profile_region(f->env, NULL);
	assert_null(r);
}

/* ---- assume role ---- */

static void test_assume_role(void **state)
{
	struct fake *f = *state;

	write_f(f, ".aws/credentials",
		"[base]\naws_access_key_id = BASEKEY\naws_secret_access_key = basesecret\n");
	write_f(f, ".aws/config",
		"[profile admin]\n"
		"role_arn = arn:aws:iam::111:role/Admin\n"
		"source_profile = base\n"
		"role_session_name = me\n"
		"external_id = ext-1\n"
		"duration_seconds = 900\n"
		"[profile deep]\n"
		"role_arn = arn:aws:iam::222:role/Deep\n"
		"source_profile = admin\n"
		"[profile self]\n"
		"role_arn = arn:aws:iam::333:role/Self\n"
		"source_profile = self\n"
		"aws_access_key_id = SELFKEY\n"
		"aws_secret_access_key = selfsecret\n"
		"[profile loop1]\nrole_arn = arn:aws:iam::1:role/L1\nsource_profile = loop2\n"
		"[profile loop2]\nrole_arn = arn:aws:iam::1:role/L2\nsource_profile = loop1\n"
		"[profile orphan]\nrole_arn = arn:aws:iam::1:role/O\nsource_profile = missing\n"
		"[profile nosource]\nrole_arn = arn:aws:iam::1:role/N\n"
		"[profile mfa]\nrole_arn = arn:aws:iam::1:role/M\nsource_profile = base\nmfa_serial = arn:aws:iam::1:mfa/me\n"
		"[profile fromenv]\nrole_arn = arn:aws:iam::1:role/E\ncredential_source = Environment\n"
		"[profile badsource]\nrole_arn = arn:aws:iam::1:role/B\ncredential_source = Moon\n");

	expect_creds(f, "admin", "ASIA:Admin", "assumed-secret", "assumed-token", "assume-role");
	assert_string_equal(f->sts_log, "AssumeRole with=BASEKEY RoleArn=arn:aws:iam::111:role/Admin "
			    "RoleSessionName=me ExternalId=ext-1 DurationSeconds=900\n");

	/* deep -> admin -> base: two AssumeRole calls, the second with the first's keys */
	f->sts_log[0] = '\0';
	expect_creds(f, "deep", "ASIA:Deep", "assumed-secret", "assumed-token", "assume-role");
	assert_string_equal(f->sts_log,
			    "AssumeRole with=BASEKEY RoleArn=arn:aws:iam::111:role/Admin RoleSessionName=me "
			    "ExternalId=ext-1 DurationSeconds=900\n"
			    "AssumeRole with=ASIA:Admin RoleArn=arn:aws:iam::222:role/Deep "
			    "RoleSessionName=cairn-1700000000\n");

	f->sts_log[0] = '\0';
	expect_creds(f, "self", "ASIA:Self", "assumed-secret", "assumed-token", "assume-role");
	assert_non_null(strstr(f->sts_log, "with=SELFKEY"));

	expect_error(f, "loop1", "source_profile loop: loop1 -> loop2 -> loop1");
	expect_error(f, "orphan", "source_profile 'missing' not found");
	expect_error(f, "nosource", "role_arn needs source_profile");
	expect_error(f, "mfa", "mfa_serial");
	expect_error(f, "badsource", "unknown credential_source 'Moon'");
	expect_error(f, "fromenv", "credential_source Environment has no credentials");

	setenv_f(f, "AWS_ACCESS_KEY_ID", "ENVKEY");
	setenv_f(f, "AWS_SECRET_ACCESS_KEY", "envsecret");
	f->sts_log[0] = '\0';
	expect_creds(f, "fromenv", "ASIA:E", "assumed-secret", "assumed-token", "assume-role");
	assert_non_null(strstr(f->sts_log, "AssumeRole with=ENVKEY RoleArn=arn:aws:iam::1:role/E"));

	f->sts_fail = "AccessDenied: not authorized to perform sts:AssumeRole";
	expect_error(f, "admin", "profile 'admin': cannot assume role 'arn:aws:iam::111:role/Admin': AccessDenied");
}

static void test_assume_role_expiry(void **state)
{
	struct fake *f = *state;
	struct aws_creds c;
	struct cairn_err err;

	write_f(f, ".aws/credentials", "[base]\naws_access_key_id = B\naws_secret_access_key = b\n");
	write_f(f, ".aws/config", "[profile r]\nrole_arn = arn:aws:iam::1:role/R\nsource_profile = base\n");
	assert_int_equal(resolve(f, "r", &c, &err), 0);
	assert_int_equal(c.expiration, NOW + 3600);
	assert_false(creds_expiring(&c, NOW, 300));
	assert_false(creds_expiring(&c, NOW + 3600 - 301, 300));
	assert_true(creds_expiring(&c, NOW + 3600 - 300, 300));
	assert_true(creds_expiring(&c, NOW + 7200, 300));
	aws_creds_free(&c);
	/* static keys never expire */
	c.expiration = 0;
	assert_false(creds_expiring(&c, NOW + 1000000, 300));
}

/* ---- web identity ---- */

static void test_web_identity(void **state)
{
	struct fake *f = *state;
	char tok[512];

	snprintf(tok, sizeof(tok), "%s/token", f->dir);
	write_f(f, "token", "  eyJhbGciOi.token.sig \n");
	write_f(f, ".aws/config", "[profile wi]\nrole_arn = arn:aws:iam::9:role/Web\n"
		"web_identity_token_file = ~/token\nrole_session_name = pod\n");
	expect_creds(f, "wi", "ASIA:Web", "assumed-secret", "assumed-token", "web-identity");
	assert_string_equal(f->sts_log, "AssumeRoleWithWebIdentity with=- RoleArn=arn:aws:iam::9:role/Web "
			    "RoleSessionName=pod WebIdentityToken=eyJhbGciOi.token.sig\n");

	/* from the environment, after an empty default profile */
	f->sts_log[0] = '\0';
	setenv_f(f, "AWS_WEB_IDENTITY_TOKEN_FILE", tok);
	setenv_f(f, "AWS_ROLE_ARN", "arn:aws:iam::9:role/EnvWeb");
	expect_creds(f, NULL, "ASIA:EnvWeb", "assumed-secret", "assumed-token", "web-identity");
	assert_string_equal(f->sts_log, "AssumeRoleWithWebIdentity with=- RoleArn=arn:aws:iam::9:role/EnvWeb "
			    "RoleSessionName=cairn-1700000000 WebIdentityToken=eyJhbGciOi.token.sig\n");
	f->sts_log[0] = '\0';
	setenv_f(f, "AWS_ROLE_SESSION_NAME", "ci");
	expect_creds(f, NULL, "ASIA:EnvWeb", "assumed-secret", "assumed-token", "web-identity");
	assert_non_null(strstr(f->sts_log, "RoleSessionName=ci "));

	/* static profile keys come first */
	write_f(f, ".aws/credentials", "[default]\naws_access_key_id = D\naws_secret_access_key = d\n");
	expect_creds(f, NULL, "D", "d", NULL, "profile default");

	write_f(f, ".aws/credentials", "");
	setenv_f(f, "AWS_WEB_IDENTITY_TOKEN_FILE", "/nonexistent/token");
	expect_error(f, NULL, "cannot read web identity token");
}

/* ---- container ---- */

static const char container_json[] =
	"{\"AccessKeyId\":\"ASIACONT\",\"SecretAccessKey\":\"contsecret\",\"Token\":\"conttoken\","
	"\"Expiration\":\"2023-11-14T23:13:20Z\",\"RoleArn\":\"arn:aws:iam::1:role/task\"}";

static void test_container(void **state)
{
	struct fake *f = *state;
	struct aws_creds c;
	struct cairn_err err;
	char tokpath[512];

	add_route(f, "GET", "http://169.254.170.2/v2/credentials/abc", 200, container_json);
	setenv_f(f, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/abc");
	assert_int_equal(resolve(f, NULL, &c, &err), 0);
	assert_string_equal(c.access_key_id, "ASIACONT");
	assert_string_equal(c.secret_access_key, "contsecret");
	assert_string_equal(c.session_token, "conttoken");
	assert_int_equal(c.expiration, 1700003600);
	assert_string_equal(c.source, "container");
	aws_creds_free(&c);
	assert_string_equal(f->http_log, "GET http://169.254.170.2/v2/credentials/abc []\n");

	/* the relative URI wins over the full one; a token goes in Authorization */
	f->http_log[0] = '\0';
	setenv_f(f, "AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:9/creds");
	setenv_f(f, "AWS_CONTAINER_AUTHORIZATION_TOKEN", "Basic abc");
	expect_creds(f, NULL, "ASIACONT", "contsecret", "conttoken", "container");
	assert_string_equal(f->http_log,
			    "GET http://169.254.170.2/v2/credentials/abc [Authorization: Basic abc]\n");

	/* full URI; the token file wins over the token variable */
	f->http_log[0] = '\0';
	setenv_f(f, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "");
	add_route(f, "GET", "http://127.0.0.1:9/creds", 200, container_json);
	snprintf(tokpath, sizeof(tokpath), "%s/eks-token", f->dir);
	write_f(f, "eks-token", "filetoken\n");
	setenv_f(f, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", tokpath);
	expect_creds(f, NULL, "ASIACONT", "contsecret", "conttoken", "container");
	assert_string_equal(f->http_log, "GET http://127.0.0.1:9/creds [Authorization: filetoken]\n");

	/* profile keys come before the container */
	write_f(f, ".aws/credentials", "[default]\naws_access_key_id = D\naws_secret_access_key = d\n");
	expect_creds(f, NULL, "D", "d", NULL, "profile default");
	write_f(f, ".aws/credentials", "");

	/* plain http to a remote host would leak the token */
	setenv_f(f, "AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://example.com/creds");
	expect_error(f, NULL, "plain http is only allowed");
	setenv_f(f, "AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1.example.com/creds");
	expect_error(f, NULL, "plain http is only allowed");
	setenv_f(f, "AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://169.254.170.2@example.com/creds");
	expect_error(f, NULL, "plain http is only allowed");
	/* https may go anywhere */
	setenv_f(f, "AWS_CONTAINER_CREDENTIALS_FULL_URI", "https://creds.example.com/x");
	add_route(f, "GET", "https://creds.example.com/x", 200, container_json);
	expect_creds(f, NULL, "ASIACONT", "contsecret", "conttoken", "container");
	setenv_f(f, "AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:9/down");
	add_route(f, "GET", "http://127.0.0.1:9/down", 500, "oops");
	expect_error(f, NULL, "HTTP 500");
	setenv_f(f, "AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:9/refused");
	add_route(f, "GET", "http://127.0.0.1:9/refused", 0, NULL);
	expect_error(f, NULL, "cannot fetch container credentials from http://127.0.0.1:9/refused: connection refused");
	setenv_f(f, "AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:9/garbage");
	add_route(f, "GET", "http://127.0.0.1:9/garbage", 200, "{\"Code\":\"Failure\"}");
	expect_error(f, NULL, "no AccessKeyId");
}

/* ---- IMDS ---- */

static void test_imds(void **state)
{
	struct fake *f = *state;
	struct aws_creds c;
	struct cairn_err err;

	setenv_f(f, "AWS_EC2_METADATA_DISABLED", "false");
	setenv_f(f, "AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:1338/");
	add_route(f, "PUT", "http://127.0.0.1:1338/latest/api/token", 200, "TOKEN123\n");
	add_route(f, "GET", "http://127.0.0.1:1338/latest/meta-data/iam/security-credentials/", 200,
		  "my-role\n");
	add_route(f, "GET", "http://127.0.0.1:1338/latest/meta-data/iam/security-credentials/my-role", 200,
		  "{\"Code\":\"Success\",\"LastUpdated\":\"2023-11-14T22:00:00Z\",\"Type\":\"AWS-HMAC\","
		  "\"AccessKeyId\":\"ASIAIMDS\",\"SecretAccessKey\":\"imdssecret\",\"Token\":\"imdstoken\","
		  "\"Expiration\":\"2023-11-15T04:13:20.000+00:00\"}");
	assert_int_equal(resolve(f, NULL, &c, &err), 0);
	assert_string_equal(c.access_key_id, "ASIAIMDS");
	assert_string_equal(c.session_token, "imdstoken");
	assert_int_equal(c.expiration, 1700021600);
	assert_string_equal(c.source, "imds");
	aws_creds_free(&c);
	assert_string_equal(f->http_log,
			    "PUT http://127.0.0.1:1338/latest/api/token [X-aws-ec2-metadata-token-ttl-seconds: 21600]\n"
			    "GET http://127.0.0.1:1338/latest/meta-data/iam/security-credentials/ "
			    "[X-aws-ec2-metadata-token: TOKEN123]\n"
			    "GET http://127.0.0.1:1338/latest/meta-data/iam/security-credentials/my-role "
			    "[X-aws-ec2-metadata-token: TOKEN123]\n");

	/* disabled (any case): not even asked */
	f->http_log[0] = '\0';
	setenv_f(f, "AWS_EC2_METADATA_DISABLED", "TRUE");
	expect_error(f, NULL, "disabled by AWS_EC2_METADATA_DISABLED");
	assert_string_equal(f->http_log, "");
}

static void test_imds_default_and_unreachable(void **state)
{
	struct fake *f = *state;

	setenv_f(f, "AWS_EC2_METADATA_DISABLED", "");
	/* no route: the fake times out, as off EC2 */
	expect_error(f, NULL, "no AWS credentials found: tried environment (AWS_ACCESS_KEY_ID); profile 'default' in ");
	expect_error(f, NULL, "instance metadata at http://169.254.169.254 (timed out)");
	assert_non_null(strstr(f->http_log, "PUT http://169.254.169.254/latest/api/token "));

	/* a role-less instance */
	add_route(f, "PUT", "http://169.254.169.254/latest/api/token", 200, "T");
	add_route(f, "GET", "http://169.254.169.254/latest/meta-data/iam/security-credentials/", 404, "");
	expect_error(f, NULL, "security-credentials/: HTTP 404");
}

static void test_nothing_found(void **state)
{
	struct fake *f = *state;

	expect_error(f, NULL, "no AWS credentials found: tried environment (AWS_ACCESS_KEY_ID); profile 'default'");
	expect_error(f, NULL, "web identity (AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN); container");
}

/* ---- time ---- */

static void test_parse_time(void **state)
{
	int64_t t;

	(void)state;
	assert_int_equal(creds_parse_time("1970-01-01T00:00:00Z", &t), 0);
	assert_int_equal(t, 0);
	assert_int_equal(creds_parse_time("2023-11-14T22:13:20Z", &t), 0);
	assert_int_equal(t, 1700000000);
	assert_int_equal(creds_parse_time("2023-11-14T22:13:20.123Z", &t), 0);
	assert_int_equal(t, 1700000000);
	assert_int_equal(creds_parse_time("2023-11-15T00:13:20+02:00", &t), 0);
	assert_int_equal(t, 1700000000);
	assert_int_equal(creds_parse_time("2023-11-14T17:13:20-0500", &t), 0);
	assert_int_equal(t, 1700000000);
	assert_int_equal(creds_parse_time("2024-02-29T00:00:00Z", &t), 0);
	assert_int_equal(t, 1709164800);
	assert_int_equal(creds_parse_time("2023-11-14 22:13:20Z", &t), -1);
	assert_int_equal(creds_parse_time("2023-11-14T22:13:20", &t), -1);
	assert_int_equal(creds_parse_time("2023-13-14T22:13:20Z", &t), -1);
	assert_int_equal(creds_parse_time("2023-11-14T22:13:20Zjunk", &t), -1);
	assert_int_equal(creds_parse_time("", &t), -1);
	assert_int_equal(creds_parse_time(NULL, &t), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ini_parse),
		cmocka_unit_test(test_parse_time),
		cmocka_unit_test_setup_teardown(test_environment, setup, teardown),
		cmocka_unit_test_setup_teardown(test_profiles, setup, teardown),
		cmocka_unit_test_setup_teardown(test_profile_region, setup, teardown),
		cmocka_unit_test_setup_teardown(test_assume_role, setup, teardown),
		cmocka_unit_test_setup_teardown(test_assume_role_expiry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_web_identity, setup, teardown),
		cmocka_unit_test_setup_teardown(test_container, setup, teardown),
		cmocka_unit_test_setup_teardown(test_imds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_imds_default_and_unreachable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nothing_found, setup, teardown),
	};

	return cmocka_run_group_tests_name("creds", tests, NULL, NULL);
}
