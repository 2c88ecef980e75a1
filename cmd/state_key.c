/*
 * state_key: the key that seals secrets inside the state (README "State
 * encryption", OpenTofu's state encryption as the model): CAIRN_STATE_KEY,
 * or a data key that KMS makes and wraps under CAIRN_STATE_KMS_KEY_ID.
 * cmd/ reads the environment and talks to KMS; the state layer seals,
 * with the schemas' rule for what is sensitive handed to it.
 */
#include <stdlib.h>
#include <string.h>

#include "../engine/schema.h"
#include "../lib/seal.h"
#include "../providers/aws/aws.h"
#include "../state/state.h"
#include "cmd.h"

static int sensitive(const char *type, int data, const char *attr)
{
	const json_t *schema = data ? schema_data_get(type) : schema_get(type);
	const json_t *spec = schema ? schema_attr(schema, attr) : NULL;

	return spec && schema_is_sensitive(spec);
}

/* A base64 member of a KMS answer into key (32 bytes). */
static int plaintext_key(json_t *out, unsigned char key[SEAL_KEY_LEN])
{
	const char *b64 = json_string_value(json_object_get(out, "Plaintext"));
	unsigned char *raw;
	size_t n = 0;
	int rc;

	raw = b64 ? b64_decode(b64, &n) : NULL;
	if (!raw)
		return -1;
	rc = n == SEAL_KEY_LEN ? 0 : -1;
	if (rc == 0)
		memcpy(key, raw, SEAL_KEY_LEN);
	secure_zero(raw, n);
	free(raw);
	return rc;
}

/*
 * The data key: KMS Decrypt of the wrapped one the state records (blob),
 * or a new one from GenerateDataKey (*new_blob: owned, to record).
 */
static int kms_data_key(const struct global_opts *g, const char *key_id, const char *blob,
			unsigned char key[SEAL_KEY_LEN], char **new_blob, struct cairn_err *err)
{
	/* The data key must not reach a -v log. */
	static const char *const secret[] = {"Plaintext", NULL};
	struct aws_client_opts o = {0};
	struct aws_client *c;
	json_t *in, *out = NULL;
	int rc = -1;

	o.envp = g->envp;
	o.profile = g->profile;
	o.region = g->region;
	o.verbose = g->verbose;
	o.secret_fields = secret;
	o.log = stderr;
	c = aws_client_new(&o, err);
	if (!c)
		return -1;
	if (blob)
		in = json_pack("{s:s, s:s}", "CiphertextBlob", blob, "KeyId", key_id);
	else
		in = json_pack("{s:s, s:s}", "KeyId", key_id, "KeySpec", "AES_256");
	if (aws_call(c, "kms", blob ? "Decrypt" : "GenerateDataKey", in, &out, err) < 0) {
		err_prefix(err, "cannot %s the state's data key with KMS key '%s'",
			   blob ? "unwrap" : "make", key_id);
		goto out;
	}
	if (plaintext_key(out, key) < 0) {
		err_set(err, CAIRN_EAWS, "KMS key '%s' gave no 32-byte data key for the state",
			key_id);
		goto out;
	}
	if (!blob) {
		const char *wrapped = json_string_value(json_object_get(out, "CiphertextBlob"));

		if (!wrapped) {
			err_set(err, CAIRN_EAWS, "KMS GenerateDataKey gave no CiphertextBlob");
			goto out;
		}
		*new_blob = xstrdup(wrapped);
	}
	rc = 0;
out:
	if (out) {
		json_t *p = json_object_get(out, "Plaintext");

		/* jansson keeps the string; wipe it before it is freed. */
		if (json_is_string(p))
			secure_zero((char *)json_string_value(p), json_string_length(p));
	}
	json_decref(in);
	json_decref(out);
	aws_client_free(c);
	return rc;
}

/* The key from CAIRN_STATE_KEY or CAIRN_STATE_KEY_PREVIOUS (named by var). */
static int parse_key(const char *var, const char *text, unsigned char key[SEAL_KEY_LEN])
{
	if (seal_key_parse(text, key) == 0)
		return 0;
	msg_error("%s must be 32 bytes written as 64 hex digits or as base64 "
		  "(e.g. the output of 'openssl rand -base64 32')", var);
	return -1;
}

int cmd_state_key(const struct global_opts *g, struct state *st)
{
	const char *text = env_get(g->envp, "CAIRN_STATE_KEY");
	const char *kms = env_get(g->envp, "CAIRN_STATE_KMS_KEY_ID");
	const char *prev = env_get(g->envp, "CAIRN_STATE_KEY_PREVIOUS");
	char *kind = NULL, *blob = NULL, *kms_id = NULL, *new_blob = NULL;
	unsigned char key[SEAL_KEY_LEN], old[SEAL_KEY_LEN];
	struct state_sealing s = {0};
	struct cairn_err err;
	int rc = -1, from_kms = 0;

	err_clear(&err);
	text = text && *text ? text : NULL;
	kms = kms && *kms ? kms : NULL;
	prev = prev && *prev ? prev : NULL;
	if (state_meta_get(st, STATE_META_SEAL_KIND, &kind, &err) < 0 ||
	    state_meta_get(st, STATE_META_SEAL_KMS_DATA_KEY, &blob, &err) < 0 ||
	    state_meta_get(st, STATE_META_SEAL_KMS_KEY_ID, &kms_id, &err) < 0) {
		msg_err(&err);
		goto out;
	}
	from_kms = kind && strcmp(kind, "kms") == 0;
	if (text && kms) {
		msg_error("set CAIRN_STATE_KEY or CAIRN_STATE_KMS_KEY_ID, not both");
		goto out;
	}
	if (!text && !kms && !prev) {
		if (kind)
			msg_error("state '%s' is sealed with a state key; set %s to use it",
				  g->state_path, from_kms ?
				  "CAIRN_STATE_KMS_KEY_ID (the KMS key that wraps its data key)" :
				  "CAIRN_STATE_KEY");
		else
			rc = 0;
		goto out;
	}
	if (kind && !prev && (from_kms ? !kms : !text)) {
		msg_error("state '%s' is sealed with %s; set %s (or, to move it to the key given, "
			  "set CAIRN_STATE_KEY_PREVIOUS to %s)", g->state_path,
			  from_kms ? "a KMS data key" : "CAIRN_STATE_KEY",
			  from_kms ? "CAIRN_STATE_KMS_KEY_ID" : "CAIRN_STATE_KEY",
			  from_kms ? "'kms'" : "its key");
		goto out;
	}
	if (from_kms && kms && !prev && kms_id && strcmp(kms_id, kms) != 0) {
		msg_error("state '%s' has its data key wrapped by KMS key '%s', not '%s' (to move "
			  "it, set CAIRN_STATE_KEY_PREVIOUS=kms)", g->state_path, kms_id, kms);
		goto out;
	}
	/* The previous key: given, or the data key KMS wrapped ("kms"). */
	if (prev && strcmp(prev, "kms") == 0) {
		if (!from_kms || !blob || !kms_id) {
			msg_error("CAIRN_STATE_KEY_PREVIOUS=kms: state '%s' is not sealed with a KMS "
				  "data key", g->state_path);
			goto out;
		}
		if (kms_data_key(g, kms_id, blob, old, NULL, &err) < 0) {
			msg_err(&err);
			goto out;
		}
		s.previous = old;
	} else if (prev) {
		if (parse_key("CAIRN_STATE_KEY_PREVIOUS", prev, old) < 0)
			goto out;
		s.previous = old;
	}
	if (text && parse_key("CAIRN_STATE_KEY", text, key) < 0)
		goto out;
	/* The state's own data key, or (first use, or moving) a new one. */
	if (kms && kms_data_key(g, kms, from_kms && !prev ? blob : NULL, key, &new_blob,
				&err) < 0) {
		msg_err(&err);
		goto out;
	}
	s.key = text || kms ? key : NULL;
	s.kind = kms ? "kms" : "key";
	s.kms_data_key = kms ? (new_blob ? new_blob : blob) : NULL;
	s.kms_key_id = kms;
	s.sensitive = sensitive;
	if (state_seal(st, &s, &err) < 0) {
		msg_err(&err);
		goto out;
	}
	rc = 0;
out:
	secure_zero(key, sizeof(key));
	secure_zero(old, sizeof(old));
	free(kind);
	free(blob);
	free(kms_id);
	free(new_blob);
	return rc;
}
