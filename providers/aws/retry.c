/*
 * retry: the standard mode's tables and arithmetic (see retry.h).
 */
#include <stdlib.h>
#include <string.h>

#include "retry.h"

static const char *const throttle_codes[] = {
	"Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
	"TooManyRequestsException", "ProvisionedThroughputExceededException",
	"TransactionInProgressException", "RequestLimitExceeded", "BandwidthLimitExceeded",
	"LimitExceededException", "RequestThrottled", "SlowDown", "PriorRequestNotComplete",
	"EC2ThrottledException",
};

static const char *const transient_codes[] = {
	"RequestTimeout", "RequestTimeoutException", "InternalError", "InternalFailure",
	"ServiceUnavailable", "ServiceUnavailableException", "IDPCommunicationError",
};

static int in_list(const char *code, const char *const *list, size_t n)
{
	size_t i;

	for (i = 0; code && i < n; i++)
		if (strcmp(code, list[i]) == 0)
			return 1;
	return 0;
}

int retry_is_throttle_code(const char *code)
{
	return in_list(code, throttle_codes, sizeof(throttle_codes) / sizeof(*throttle_codes));
}

int retry_is_transient_code(const char *code)
{
	return in_list(code, transient_codes, sizeof(transient_codes) / sizeof(*transient_codes));
}

enum retry_class retry_classify(const struct cairn_err *e)
{
	if (e->code == CAIRN_ENET)
		return RETRY_TIMEOUT;
	if (e->code != CAIRN_EAWS)
		return RETRY_NO;
	if (retry_is_throttle_code(e->remote.code) || e->remote.status == 429)
		return RETRY_THROTTLE;
	if (retry_is_transient_code(e->remote.code))
		return RETRY_TRANSIENT;
	switch (e->remote.status) {
	case 500: case 502: case 503: case 504:
		return RETRY_TRANSIENT;
	}
	return RETRY_NO;
}

long retry_backoff_ms(int attempt, double r)
{
	long cap = RETRY_BASE_MS;
	int i;

	for (i = 0; i < attempt && cap < RETRY_MAX_BACKOFF_MS; i++)
		cap *= 2;
	if (cap > RETRY_MAX_BACKOFF_MS)
		cap = RETRY_MAX_BACKOFF_MS;
	if (r < 0)
		r = 0;
	if (r >= 1)
		r = 0.999999;
	return (long)(r * (double)cap);
}

int retry_max_attempts(char *const *envp)
{
	const char *v = env_get(envp, "AWS_MAX_ATTEMPTS");
	char *end;
	long n;

	if (!v || !*v)
		return RETRY_DEFAULT_ATTEMPTS;
	n = strtol(v, &end, 10);
	if (*end || n < 1 || n > 100)
		return RETRY_DEFAULT_ATTEMPTS;
	return (int)n;
}

void retry_bucket_init(struct retry_bucket *b)
{
	pthread_mutex_init(&b->lock, NULL);
	b->tokens = RETRY_BUCKET_SIZE;
}

void retry_bucket_destroy(struct retry_bucket *b)
{
	pthread_mutex_destroy(&b->lock);
}

int retry_bucket_acquire(struct retry_bucket *b, enum retry_class c)
{
	int cost = c == RETRY_TIMEOUT ? RETRY_TIMEOUT_COST : RETRY_COST;

	pthread_mutex_lock(&b->lock);
	if (b->tokens < cost)
		cost = -1;
	else
		b->tokens -= cost;
	pthread_mutex_unlock(&b->lock);
	return cost;
}

void retry_bucket_success(struct retry_bucket *b, int acquired)
{
	pthread_mutex_lock(&b->lock);
	b->tokens += acquired > 0 ? acquired : RETRY_SUCCESS_REFUND;
	if (b->tokens > RETRY_BUCKET_SIZE)
		b->tokens = RETRY_BUCKET_SIZE;
	pthread_mutex_unlock(&b->lock);
}

int retry_bucket_tokens(struct retry_bucket *b)
{
	int n;

	pthread_mutex_lock(&b->lock);
	n = b->tokens;
	pthread_mutex_unlock(&b->lock);
	return n;
}
