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

int timing_parse_http_date(const char *s, int64_t *t)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	char wday[4], mon[4], zone[4];
	int y, m = 0, d, h, mi, sec, n = 0;
	const char *hit;

	if (!s)
		return -1;
	while (*s == ' ')
		s++;
	if (sscanf(s, "%3[A-Za-z], %2d %3s %4d %2d:%2d:%2d %3s%n", wday, &d, mon, &y, &h, &mi,
		   &sec, zone, &n) == 8 && strcmp(zone, "GMT") == 0) {
		hit = strstr(months, mon);
		if (strlen(mon) != 3 || !hit || (hit - months) % 3)
			return -1;
		m = (int)((hit - months) / 3) + 1;
	} else if (sscanf(s, "%4d%2d%2dT%2d%2d%2dZ%n", &y, &m, &d, &h, &mi, &sec, &n) != 6 || n != 16) {
		return -1;
	}
	if (y < 1970 || m < 1 || m > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return -1;
	*t = utc_seconds(y, m, d, h, mi, sec);
	return 0;
}

int timing_skew_offset(const char *date_header, int64_t now, int64_t current, int64_t *offset)
{
	int64_t server, off;

	if (timing_parse_http_date(date_header, &server) < 0)
		return 0;
	off = server - now;
	if (llabs((long long)(off - current)) <= TIMING_SKEW_TOLERANCE_S)
		return 0;
	*offset = off;
	return 1;
}
