/*
 * creds: the credential chain of SPEC §6, first found wins:
 *   1. AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN
 *   2. shared credentials + config files (AWS_SHARED_CREDENTIALS_FILE,
 *      AWS_CONFIG_FILE, profile from --profile or AWS_PROFILE), including
 *      role_arn + source_profile (STS AssumeRole) and web_identity_token_file
 *   3. web identity (AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN)
 *   4. ECS container credentials (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI / _FULL_URI)
 *   5. EC2 instance metadata, IMDSv2 (AWS_EC2_METADATA_SERVICE_ENDPOINT;
 *      skipped when AWS_EC2_METADATA_DISABLED=true)
 *
 * The environment, the clock and the network are injected through
 * struct creds_env so that tests are exact.
 */
#ifndef CAIRN_CREDS_H
#define CAIRN_CREDS_H

#include <stdint.h>

#include "../../lib/util.h"

struct aws_creds {
	char *access_key_id;        /* owned */
	char *secret_access_key;    /* owned, wiped on free */
	char *session_token;        /* owned or NULL, wiped on free */
	int64_t expiration;         /* unix seconds; 0: does not expire */
	char source[64];            /* "environment", "profile NAME", "assume-role", "web-identity",
				     * "container", "imds" (for -v and errors) */
};
void aws_creds_free(struct aws_creds *c);   /* frees members, not c */

/* Parsed INI file (credentials or config): sections of key = value. */
struct ini;
/* Parses text; comments (# ;), odd whitespace, "[profile x]" sections.
 * Returns owned ini (never NULL). */
struct ini *ini_parse(const char *text);
void ini_free(struct ini *ini);
/* Value of KEY in SECTION (exact section name as written without brackets,
 * e.g. "default", "profile dev"), borrowed, or NULL. Keys are case-insensitive. */
const char *ini_get(const struct ini *ini, const char *section, const char *key);

/* What the chain needs from the outside world. */
struct creds_env {
	char *const *envp;
	const char *profile;        /* --profile or NULL */
	int64_t (*now)(void);
	/* HTTP for container/IMDS endpoints: returns 0 with *body owned, status set.
	 * headers are "Name: value" lines; body may be NULL (no body). */
	int (*http)(void *ctx, const char *method, const char *url,
		    const char *const *headers, size_t n_headers, const char *body,
		    long timeout_ms, int *status, char **body_out, struct cairn_err *err);
	void *http_ctx;
	/* STS for AssumeRole / AssumeRoleWithWebIdentity: calls sts OPERATION
	 * with the given credentials (NULL for the unsigned web identity call)
	 * and params (e.g. RoleArn, RoleSessionName, WebIdentityToken, DurationSeconds);
	 * fills *out (the "Credentials" member: AccessKeyId, SecretAccessKey,
	 * SessionToken, Expiration as unix seconds). */
	int (*sts)(void *ctx, const struct aws_creds *with, const char *operation,
		   const char *const *params /* NAME, VALUE, ..., NULL */,
		   struct aws_creds *out, struct cairn_err *err);
	void *sts_ctx;
};

/* Resolves credentials through the chain. Returns 0 or -1 with err
 * ("no AWS credentials found: ..." listing what was tried). */
int creds_resolve(const struct creds_env *env, struct aws_creds *out, struct cairn_err *err);

/* True if c expires within margin_s seconds of now (refresh before expiry). */
int creds_expiring(const struct aws_creds *c, int64_t now, int margin_s);

/* ISO 8601 UTC time as AWS returns it ("2015-08-30T12:36:00Z", with optional
 * fraction or +hh:mm offset) to unix seconds. Returns 0, or -1 if malformed. */
int creds_parse_time(const char *s, int64_t *out);

/* The region from the profile's config (for the region chain), owned or NULL. */
char *creds_profile_region(char *const *envp, const char *profile);

#endif
