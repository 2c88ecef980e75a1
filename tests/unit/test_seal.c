/*
 * test_seal: lib/seal (AES-256-GCM sealing shared by saved plans and the state).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "lib/seal.h"
#include "lib/util.h"

static const unsigned char K1[SEAL_KEY_LEN] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
					       16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27,
					       28, 29, 30, 31, 32};
static const unsigned char K2[SEAL_KEY_LEN] = {2};

static void test_bytes_round_trip_and_fresh_nonce(void **ctx)
{
	const char *msg = "the plan key, 32 bytes long....";
	unsigned char a[64], b[64], out[64];
	size_t n = strlen(msg);

	(void)ctx;
	seal_bytes(K1, msg, n, a);
	seal_bytes(K1, msg, n, b);
	assert_memory_not_equal(a, b, n + SEAL_OVERHEAD);     /* a fresh nonce each time */
	assert_null(memmem(a, n + SEAL_OVERHEAD, "plan key", 8));
	assert_int_equal(seal_open_bytes(K1, a, n + SEAL_OVERHEAD, out), 0);
	assert_memory_equal(out, msg, n);
	assert_int_equal(seal_open_bytes(K2, a, n + SEAL_OVERHEAD, out), -1);
	a[SEAL_NONCE_LEN + 3] ^= 1;
	assert_int_equal(seal_open_bytes(K1, a, n + SEAL_OVERHEAD, out), -1);
	assert_int_equal(seal_open_bytes(K1, a, SEAL_OVERHEAD - 1, out), -1);
}

static void test_json_round_trip(void **ctx)
{
	json_t *vals[] = {json_string("hunter2"), json_integer(42), json_null(),
			  json_pack("{s:[i,s]}", "a", 1, "b")};
	size_t i;

	(void)ctx;
	for (i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		json_t *s = seal_json(vals[i], K1), *back;
		char *text = json_dumps(s, 0);

		assert_true(seal_is_sealed(s));
		assert_null(strstr(text, "hunter2"));
		back = seal_open_json(s, K1);
		assert_non_null(back);
		assert_true(json_equal(back, vals[i]));
		assert_null(seal_open_json(s, K2));
		json_decref(back);
		json_decref(s);
		free(text);
		json_decref(vals[i]);
	}
	{
		json_t *x = json_string("x");

		assert_false(seal_is_sealed(x));
		json_decref(x);
	}
}

static void test_json_tamper_detected(void **ctx)
{
	json_t *v = json_string("secret"), *s = seal_json(v, K1), *bad;
	char *b64 = xstrdup(json_string_value(json_object_get(s, SEAL_MEMBER)));

	(void)ctx;
	b64[20] = b64[20] == 'A' ? 'B' : 'A';
	bad = json_pack("{s:s}", SEAL_MEMBER, b64);
	assert_null(seal_open_json(bad, K1));
	json_decref(bad);
	bad = json_pack("{s:s}", SEAL_MEMBER, "not base64!");
	assert_null(seal_open_json(bad, K1));
	json_decref(bad);
	bad = json_pack("{s:s}", SEAL_MEMBER, "QUJD");       /* shorter than nonce + tag */
	assert_null(seal_open_json(bad, K1));
	json_decref(bad);
	free(b64);
	json_decref(s);
	json_decref(v);
}

static void test_key_parse(void **ctx)
{
	unsigned char k[SEAL_KEY_LEN], want[SEAL_KEY_LEN];
	char *b64;
	size_t i;

	(void)ctx;
	for (i = 0; i < SEAL_KEY_LEN; i++)
		want[i] = (unsigned char)i;
	assert_int_equal(seal_key_parse("000102030405060708090a0b0c0d0e0f"
					"101112131415161718191A1B1C1D1E1F", k), 0);
	assert_memory_equal(k, want, SEAL_KEY_LEN);
	b64 = b64_encode(want, SEAL_KEY_LEN);
	assert_int_equal(strlen(b64), 44);
	memset(k, 0, sizeof(k));
	assert_int_equal(seal_key_parse(b64, k), 0);
	assert_memory_equal(k, want, SEAL_KEY_LEN);
	free(b64);
	assert_int_equal(seal_key_parse("", k), -1);
	assert_int_equal(seal_key_parse("passphrase", k), -1);
	assert_int_equal(seal_key_parse("zz0102030405060708090a0b0c0d0e0f"
					"101112131415161718191a1b1c1d1e1f", k), -1);
	assert_int_equal(seal_key_parse("AAECAwQFBgcICQoLDA0ODw==", k), -1);   /* 16 bytes */
}

static void test_derive(void **ctx)
{
	unsigned char a[SEAL_KEY_LEN], b[SEAL_KEY_LEN], c[SEAL_KEY_LEN];

	(void)ctx;
	seal_derive(K1, "check", a);
	seal_derive(K1, "check", b);
	seal_derive(K1, "values", c);
	assert_memory_equal(a, b, SEAL_KEY_LEN);
	assert_memory_not_equal(a, c, SEAL_KEY_LEN);
	seal_derive(K2, "check", c);
	assert_memory_not_equal(a, c, SEAL_KEY_LEN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bytes_round_trip_and_fresh_nonce),
		cmocka_unit_test(test_json_round_trip),
		cmocka_unit_test(test_json_tamper_detected),
		cmocka_unit_test(test_key_parse),
		cmocka_unit_test(test_derive),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
