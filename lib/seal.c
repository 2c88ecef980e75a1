/*
 * seal: see seal.h.
 */
#include "seal.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "util.h"

void seal_bytes(const unsigned char key[SEAL_KEY_LEN], const void *in, size_t n,
		unsigned char *out)
{
	EVP_CIPHER_CTX *cx = EVP_CIPHER_CTX_new();
	int len = 0, fin = 0;

	if (!cx || n > (size_t)INT32_MAX || RAND_bytes(out, SEAL_NONCE_LEN) != 1 ||
	    EVP_EncryptInit_ex(cx, EVP_aes_256_gcm(), NULL, key, out) != 1 ||
	    EVP_EncryptUpdate(cx, out + SEAL_NONCE_LEN, &len, in, (int)n) != 1 ||
	    EVP_EncryptFinal_ex(cx, out + SEAL_NONCE_LEN + len, &fin) != 1 ||
	    EVP_CIPHER_CTX_ctrl(cx, EVP_CTRL_GCM_GET_TAG, SEAL_TAG_LEN,
				out + SEAL_NONCE_LEN + len + fin) != 1)
		abort();   /* only an OpenSSL malfunction gets here */
	EVP_CIPHER_CTX_free(cx);
}

int seal_open_bytes(const unsigned char key[SEAL_KEY_LEN], const unsigned char *in, size_t n,
		    unsigned char *out)
{
	EVP_CIPHER_CTX *cx;
	int len = 0, fin = 0, rc = -1;

	if (n < SEAL_OVERHEAD || n > (size_t)INT32_MAX)
		return -1;
	cx = EVP_CIPHER_CTX_new();
	if (cx && EVP_DecryptInit_ex(cx, EVP_aes_256_gcm(), NULL, key, in) == 1 &&
	    EVP_DecryptUpdate(cx, out, &len, in + SEAL_NONCE_LEN, (int)(n - SEAL_OVERHEAD)) == 1 &&
	    EVP_CIPHER_CTX_ctrl(cx, EVP_CTRL_GCM_SET_TAG, SEAL_TAG_LEN,
				(void *)(in + n - SEAL_TAG_LEN)) == 1 &&
	    EVP_DecryptFinal_ex(cx, out + len, &fin) == 1)
		rc = 0;
	else
		secure_zero(out, n - SEAL_OVERHEAD);
	EVP_CIPHER_CTX_free(cx);
	return rc;
}

json_t *seal_json(const json_t *v, const unsigned char key[SEAL_KEY_LEN])
{
	char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	size_t len = strlen(text);
	unsigned char *buf = xmalloc(len + SEAL_OVERHEAD);
	char *b64;
	json_t *out;

	seal_bytes(key, text, len, buf);
	b64 = b64_encode(buf, len + SEAL_OVERHEAD);
	out = json_pack("{s:s}", SEAL_MEMBER, b64);
	secure_zero(text, len);
	free(text);
	free(buf);
	free(b64);
	return out;
}

int seal_is_sealed(const json_t *v)
{
	return json_is_object(v) && json_object_size(v) == 1 &&
	       json_is_string(json_object_get(v, SEAL_MEMBER));
}

json_t *seal_open_json(const json_t *v, const unsigned char key[SEAL_KEY_LEN])
{
	unsigned char *buf, *plain;
	size_t len = 0;
	json_t *out = NULL;

	if (!seal_is_sealed(v))
		return NULL;
	buf = b64_decode(json_string_value(json_object_get(v, SEAL_MEMBER)), &len);
	if (!buf)
		return NULL;
	plain = xmalloc(len + 1);
	if (seal_open_bytes(key, buf, len, plain) == 0) {
		plain[len - SEAL_OVERHEAD] = '\0';
		out = json_loads((char *)plain, JSON_DECODE_ANY, NULL);
		secure_zero(plain, len - SEAL_OVERHEAD);
	}
	free(plain);
	free(buf);
	return out;
}

void seal_derive(const unsigned char master[SEAL_KEY_LEN], const char *label,
		 unsigned char out[SEAL_KEY_LEN])
{
	unsigned int n = SEAL_KEY_LEN;

	if (!HMAC(EVP_sha256(), master, SEAL_KEY_LEN, (const unsigned char *)label,
		  strlen(label), out, &n) || n != SEAL_KEY_LEN)
		abort();   /* only an OpenSSL malfunction gets here */
}

static int hexval(int c)
{
	return isdigit(c) ? c - '0' : tolower(c) - 'a' + 10;
}

int seal_key_parse(const char *text, unsigned char key[SEAL_KEY_LEN])
{
	size_t tlen = strlen(text), i, n = 0;
	unsigned char *raw;

	if (tlen == 2 * SEAL_KEY_LEN) {
		for (i = 0; i < tlen; i++)
			if (!isxdigit((unsigned char)text[i]))
				return -1;
		for (i = 0; i < SEAL_KEY_LEN; i++)
			key[i] = (unsigned char)(hexval((unsigned char)text[2 * i]) * 16 +
						 hexval((unsigned char)text[2 * i + 1]));
		return 0;
	}
	raw = b64_decode(text, &n);
	if (!raw)
		return -1;
	if (n == SEAL_KEY_LEN)
		memcpy(key, raw, SEAL_KEY_LEN);
	secure_zero(raw, n);
	free(raw);
	return n == SEAL_KEY_LEN ? 0 : -1;
}
