/*
 * timing: the AWS client's settings and rules about time.
 *
 *   - Per-request timeouts, from the environment (the AWS CLI's
 *     --cli-connect-timeout / --cli-read-timeout, as variables):
 *       AWS_CONNECT_TIMEOUT  seconds to open a connection (default 10)
 *       AWS_READ_TIMEOUT     seconds one request may take in all, answer
 *                            read to the end (default 60)
 *     Fractions are allowed ("0.5"); a value that is not a positive number
 *     (or is above one day) is ignored.
 *   - Clock-skew correction as the SDKs do it: when AWS refuses a request
 *     for its signing time (RequestTimeTooSkewed, SignatureDoesNotMatch, ...)
 *     and its Date header says our clock is off by more than
 *     TIMING_SKEW_TOLERANCE_S, the client signs from then on with the
 *     server's offset and retries the request once.
 */
#ifndef CAIRN_TIMING_H
#define CAIRN_TIMING_H
#include <stdint.h>

#define TIMING_CONNECT_TIMEOUT_MS 10000L
#define TIMING_TOTAL_TIMEOUT_MS 60000L
#define TIMING_SKEW_TOLERANCE_S 240

/* Reads AWS_CONNECT_TIMEOUT and AWS_READ_TIMEOUT (envp borrowed). Cannot fail. */
void timing_timeouts(char *const *envp, long *connect_ms, long *total_ms);

/* True for the error codes by which AWS says a request's time is off. */
int timing_is_skew_error(const char *code);


/*
 * The offset to add to the local clock after a skew error: server Date
 * minus local now. Returns 1 with *offset set when it differs from current
 * by more than the tolerance (worth a retry), else 0 (the refusal was not
 * about our clock, or there is no usable Date).
 */
int timing_skew_offset(const char *date_header, int64_t now, int64_t current, int64_t *offset);
#endif
