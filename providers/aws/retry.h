/*
 * retry: the AWS SDKs' standard retry mode. Which failures are worth
 * another attempt (throttling and transient error codes, HTTP 500/502/
 * 503/504, connection errors and timeouts), how long to wait (exponential
 * backoff with full jitter, capped), and a token bucket shared by a
 * client's requests so that a failing endpoint is not hammered.
 * Randomness is an input; nothing here sleeps or reads the clock.
 */
#ifndef CAIRN_RETRY_H
#define CAIRN_RETRY_H

#include <pthread.h>

#include "../../lib/util.h"

enum retry_class {
	RETRY_NO = 0,
	RETRY_THROTTLE,      /* throttling error code */
	RETRY_TRANSIENT,     /* transient error code or 5xx */
	RETRY_TIMEOUT        /* connection error or timeout (CAIRN_ENET) */
};

#define RETRY_DEFAULT_ATTEMPTS 3
#define RETRY_BASE_MS 100
#define RETRY_MAX_BACKOFF_MS 20000
#define RETRY_BUCKET_SIZE 500
#define RETRY_COST 5
#define RETRY_TIMEOUT_COST 10
#define RETRY_SUCCESS_REFUND 1

int retry_is_throttle_code(const char *code);
int retry_is_transient_code(const char *code);
/* Classifies a failed call's error (borrowed). */
enum retry_class retry_classify(const struct cairn_err *e);

/* Full jitter: r * min(RETRY_MAX_BACKOFF_MS, RETRY_BASE_MS * 2^attempt),
 * attempt counted from 0, r uniform in [0,1). */
long retry_backoff_ms(int attempt, double r);

/* AWS_MAX_ATTEMPTS from envp (borrowed) if a positive integer, else the default. */
int retry_max_attempts(char *const *envp);

/* The retry token bucket. Thread-safe. */
struct retry_bucket {
	pthread_mutex_t lock;
	int tokens;
};
void retry_bucket_init(struct retry_bucket *b);
void retry_bucket_destroy(struct retry_bucket *b);
/* Takes the cost of a retry of class c; returns the cost taken, or -1 if
 * the bucket cannot pay (then do not retry). */
int retry_bucket_acquire(struct retry_bucket *b, enum retry_class c);
/* After a success: gives back the cost of the retry that succeeded
 * (acquired), or RETRY_SUCCESS_REFUND when the call needed no retry
 * (acquired 0); capped at the bucket size. */
void retry_bucket_success(struct retry_bucket *b, int acquired);
int retry_bucket_tokens(struct retry_bucket *b);

#endif
