/*
 * redact: hides secrets in log text (the -v dump of HTTP requests and
 * responses: headers, query strings, form, JSON and XML bodies) so that
 * keys, tokens and signatures never reach the terminal or a log file.
 */
#ifndef CAIRN_REDACT_H
#define CAIRN_REDACT_H

/*
 * Returns an owned copy of s (borrowed, NUL-terminated) with secrets
 * replaced by "***":
 *  - the Signature of an AWS4 Authorization header, and any other
 *    Authorization value (Basic, Bearer, container tokens) as a whole;
 *  - X-Amz-Security-Token and X-aws-ec2-metadata-token headers;
 *  - the access key id in Credential= / X-Amz-Credential= keeps at most its
 *    first 4 characters;
 *  - values of the credential keys the client itself handles
 *    (SecretAccessKey, SessionToken, Token, WebIdentityToken,
 *    AuthorizationToken, X-Amz-Signature, X-Amz-Security-Token, ...),
 *    matched without case;
 *  - values of fields (NULL-terminated, may be NULL): the wire names of
 *    the resource attributes the schemas mark sensitive (e.g. SSM's
 *    "Value"), matched exactly, or with the first letter in the other
 *    case (JSON APIs that use camelCase);
 * as JSON members ("Key":"v", also inside escaped JSON), XML elements
 * (<Key>v</Key>) and form or query parameters (Key=v, a.b.Key=v).
 */
char *redact_text(const char *s, const char *const *fields);

#endif
