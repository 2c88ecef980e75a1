/*
 * timing: see timing.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "timing.h"
#include "../../lib/util.h"

static long seconds_ms(char *const *envp, const char *name, long dflt)
{
	const char *v = env_get(envp, name);
	char *end;
	double s;

	if (!v || !*v)
		return dflt;
	s = strtod(v, &end);
	if (*end || !(s > 0) || s > 86400)
		return dflt;
	return s * 1000 < 1 ? 1 : (long)(s * 1000);
}

void timing_timeouts(char *const *envp, long *connect_ms, long *total_ms)
{
	*connect_ms = seconds_ms(envp, "AWS_CONNECT_TIMEOUT", TIMING_CONNECT_TIMEOUT_MS);
	*total_ms = seconds_ms(envp, "AWS_READ_TIMEOUT", TIMING_TOTAL_TIMEOUT_MS);
}

int timing_is_skew_error(const char *code)
{
	/* The lists of the Java SDK and botocore: the first three say so
	 * outright; the signature and auth failures are about the clock only
	 * when the Date header disagrees with ours, which the caller checks. */
	static const char *const codes[] = {
		"RequestTimeTooSkewed", "RequestExpired", "RequestInTheFuture",
		"InvalidSignatureException", "SignatureDoesNotMatch", "AuthFailure",
	};
	size_t i;

	for (i = 0; code && i < sizeof(codes) / sizeof(*codes); i++)
		if (strcmp(code, codes[i]) == 0)
			return 1;
	return 0;
}

int timing_skew_offset(const char *date_header, int64_t now, int64_t current, int64_t *offset)
{
	int64_t server, off;

	if (http_date_parse(date_header, &server) < 0)
		return 0;
	off = server - now;
	if (llabs((long long)(off - current)) <= TIMING_SKEW_TOLERANCE_S)
		return 0;
	*offset = off;
	return 1;
}
