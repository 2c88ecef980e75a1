/*
 * seal: AES-256-GCM sealing of secrets, shared by saved plans
 * (engine/planfile.c) and the state's sealed attributes (state/state.c).
 *
 * A sealed JSON value is {"$cairn_sealed": base64(nonce | ciphertext | tag)}
 * of the value's compact JSON text, with a fresh random 96-bit nonce per
 * seal. Opening checks the GCM tag, so a wrong key or an altered value is
 * refused, never returned as garbage.
 */
#ifndef CAIRN_LIB_SEAL_H
#define CAIRN_LIB_SEAL_H

#include <stddef.h>
#include <jansson.h>

#define SEAL_KEY_LEN 32
#define SEAL_NONCE_LEN 12
#define SEAL_TAG_LEN 16
#define SEAL_OVERHEAD (SEAL_NONCE_LEN + SEAL_TAG_LEN)
#define SEAL_MEMBER "$cairn_sealed"

/* Seals n bytes of in into out, which holds n + SEAL_OVERHEAD bytes.
 * Cannot fail (an OpenSSL malfunction aborts). */
void seal_bytes(const unsigned char key[SEAL_KEY_LEN], const void *in, size_t n,
		unsigned char *out);
/* Opens n sealed bytes (n >= SEAL_OVERHEAD) into out (n - SEAL_OVERHEAD
 * bytes). 0, or -1 when the key is wrong or the bytes were altered (out
 * is then wiped). */
int seal_open_bytes(const unsigned char key[SEAL_KEY_LEN], const unsigned char *in, size_t n,
		    unsigned char *out);

/* {"$cairn_sealed": ...} of v (any JSON value, borrowed); new reference. */
json_t *seal_json(const json_t *v, const unsigned char key[SEAL_KEY_LEN]);
/* Whether v is a sealed value (as seal_json makes them). */
int seal_is_sealed(const json_t *v);
/* The value sealed in v (new reference), or NULL when v is not sealed, the
 * key is wrong, or v was altered. */
json_t *seal_open_json(const json_t *v, const unsigned char key[SEAL_KEY_LEN]);

/* A key for one purpose from a master key: HMAC-SHA256(master, label). */
void seal_derive(const unsigned char master[SEAL_KEY_LEN], const char *label,
		 unsigned char out[SEAL_KEY_LEN]);

/* Reads a 32-byte key written as 64 hex digits or as base64 (44
 * characters, e.g. `openssl rand -base64 32`). 0, or -1 for anything else. */
int seal_key_parse(const char *text, unsigned char key[SEAL_KEY_LEN]);

#endif
