/*
 * fuzz_sigv4: SigV4 canonicalisation and signing of arbitrary requests.
 * Input, one field a line: flags byte (bit 0 normalize path, bit 1 sign
 * body, bit 2 session token, bit 3 omit token, bit 4 presigned query),
 * method, path, query, then "name:value" header lines up to an empty line,
 * then the body. Headers without ':' are taken whole as a name with an
 * empty value. Host is always added first, as the client does.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "../../providers/aws/sigv4.h"

#define MAX_HEADERS 32

/* Next line of [*p, end): returns an owned copy, advances *p past '\n'. */
static char *next_line(const char **p, const char *end)
{
	const char *nl = memchr(*p, '\n', (size_t)(end - *p));
	const char *stop = nl ? nl : end;
	char *line = xstrndup(*p, (size_t)(stop - *p));

	*p = nl ? nl + 1 : end;
	return line;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sigv4_header hdr[MAX_HEADERS + 1];
	struct sigv4_header *signed_hdrs = NULL;
	struct sigv4_params params;
	struct sigv4_request req;
	struct sigv4_state st;
	struct cairn_err err;
	const char *p, *end;
	char *method, *path, *query, *enc;
	size_t n = 0, n_signed = 0, i;
	unsigned flags;

	if (size < 1)
		return 0;
	flags = data[0];
	p = (const char *)data + 1;
	end = (const char *)data + size;
	method = next_line(&p, end);
	path = next_line(&p, end);
	query = next_line(&p, end);
	hdr[n].name = xstrdup("Host");
	hdr[n++].value = xstrdup("ec2.eu-west-1.amazonaws.com");
	while (p < end && n <= MAX_HEADERS) {
		char *line = next_line(&p, end), *colon;

		if (!*line) {
			free(line);
			break;
		}
		colon = strchr(line, ':');
		hdr[n].name = colon ? xstrndup(line, (size_t)(colon - line)) : xstrdup(line);
		hdr[n++].value = xstrdup(colon ? colon + 1 : "");
		free(line);
	}
	memset(&params, 0, sizeof(params));
	params.access_key_id = "AKIDEXAMPLE";
	params.secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
	params.session_token = (flags & 4) ? "FQoGZXIvYXdzEXAMPLETOKEN" : NULL;
	params.region = "eu-west-1";
	params.service = "ec2";
	params.time = 1440938160;
	params.normalize_path = flags & 1;
	params.sign_body = (flags & 2) != 0;
	params.omit_session_token = (flags & 8) != 0;
	params.query_mode = (flags & 16) != 0;
	params.expires = 300;
	req.method = method;
	req.path = path;
	req.query = query;
	req.headers = hdr;
	req.n_headers = n;
	req.body = p;
	req.body_len = (size_t)(end - p);

	err_clear(&err);
	memset(&st, 0, sizeof(st));
	if (sigv4_canonical_request(&params, &req, &st, &err) == 0) {
		sigv4_string_to_sign(&params, &st);
		sigv4_signature(&params, &st);
		if (params.query_mode)
			sigv4_presign_query(&params, &st);
		else
			sigv4_authorization(&params, &st);
	}
	sigv4_state_release(&st);
	params.query_mode = 0;
	err_clear(&err);
	if (sigv4_sign_headers(&params, &req, &signed_hdrs, &n_signed, &err) == 0)
		sigv4_headers_free(signed_hdrs, n_signed);
	enc = sigv4_uri_encode(path, strlen(path), flags & 32);
	free(enc);

	for (i = 0; i < n; i++) {
		free(hdr[i].name);
		free(hdr[i].value);
	}
	free(method);
	free(path);
	free(query);
	return 0;
}
