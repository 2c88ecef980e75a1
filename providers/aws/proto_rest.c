/*
 * proto_rest: the rest-xml (s3, route53) and rest-json (lambda) protocols.
 * Unlike query and json, a REST operation is addressed by its method and
 * URI template, and each input member says where it travels: a {label} of
 * the URI ({Key+} is greedy: its slashes stay), the query string, a
 * header, a header prefix map (S3's x-amz-meta-*), or the body. The body
 * is either the payload member (a structure as XML/JSON, or a blob sent
 * as is) or the remaining members wrapped in the operation's root element.
 *
 * The XML body is written here with escaping rather than through a
 * library: expat (the XML library cairn links) only parses.
 *
 * Signing differs for S3: its canonical path is the path as sent (not
 * encoded a second time, not normalized), and it signs the payload hash
 * (x-amz-content-sha256). sign_path holds what the signer must encode.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "http.h"
#include "proto.h"
#include "shapes.h"
#include "sigv4.h"
#include "xml.h"

static void add_header(struct proto_request *req, const char *name, const char *value)
{
	req->headers = xrealloc(req->headers, (req->n_headers + 1) * sizeof(*req->headers));
	req->headers[req->n_headers].name = xstrdup(name);
	req->headers[req->n_headers].value = xstrdup(value);
	req->n_headers++;
}

/* A scalar as text (owned), or NULL for objects, arrays and null. */
static char *scalar_text(json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_STRING:
		return xstrndup(json_string_value(v), json_string_length(v));
	case JSON_INTEGER:
		return xasprintf("%" JSON_INTEGER_FORMAT, json_integer_value(v));
	case JSON_REAL:
		return xasprintf("%.17g", json_real_value(v));
	case JSON_TRUE:
		return xstrdup("true");
	case JSON_FALSE:
		return xstrdup("false");
	default:
		return NULL;
	}
}

static void add_query(struct strbuf *q, const char *name, const char *value)
{
	char *k = sigv4_uri_encode(name, strlen(name), 1);
	char *v = value ? sigv4_uri_encode(value, strlen(value), 1) : NULL;

	if (q->len)
		strbuf_addc(q, '&');
	strbuf_adds(q, k);
	if (v) {
		strbuf_addc(q, '=');
		strbuf_adds(q, v);
	}
	free(k);
	free(v);
}

static void query_member(struct strbuf *q, const struct shape_member *m, json_t *v)
{
	const char *k;
	json_t *e;
	size_t i;
	char *t;

	if (json_is_array(v)) {
		json_array_foreach(v, i, e)
			if ((t = scalar_text(e))) {
				add_query(q, m->loc, t);
				free(t);
			}
	} else if (json_is_object(v)) {
		/* A map in the query string: each key is a parameter of its own. */
		json_object_foreach(v, k, e)
			if ((t = scalar_text(e))) {
				add_query(q, k, t);
				free(t);
			}
	} else if ((t = scalar_text(v))) {
		add_query(q, m->loc, t);
		free(t);
	}
}

/* ---- the XML body (rest-xml) ---- */

static void xml_escape(struct strbuf *sb, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		switch (s[i]) {
		case '&': strbuf_adds(sb, "&amp;"); break;
		case '<': strbuf_adds(sb, "&lt;"); break;
		case '>': strbuf_adds(sb, "&gt;"); break;
		case '"': strbuf_adds(sb, "&quot;"); break;
		case '\'': strbuf_adds(sb, "&apos;"); break;
		case '\r': strbuf_adds(sb, "&#13;"); break;
		default: strbuf_addc(sb, s[i]); break;
		}
	}
}

static void xml_value(struct strbuf *sb, const char *name, json_t *v, const struct shape *s);

/*
 * The members in the model's order, which is the order of the service's
 * XML schema (CreateHostedZoneRequest: Name, VPC, CallerReference, ...),
 * whatever order the caller's JSON object has: the body is then one
 * function of the input, and valid for a service that validates its
 * sequences. Members the shape does not know follow in the object's order.
 */
static void xml_struct_members(struct strbuf *sb, json_t *v, const struct shape *s)
{
	static const struct shape none;
	struct shape_member m;
	const char *k, *cursor = NULL;
	json_t *e;

	while (s->kind == SHAPE_STRUCT && shapes_member_next(s, &cursor, &m) == 0) {
		e = json_object_get(v, m.name);
		if (e && m.location == LOC_BODY)
			xml_value(sb, m.loc, e, &m.target);
	}
	json_object_foreach(v, k, e)
		if (s->kind != SHAPE_STRUCT || shapes_member(s, k, &m) != 0)
			xml_value(sb, k, e, &none);
}

static void xml_value(struct strbuf *sb, const char *name, json_t *v, const struct shape *s)
{
	static const struct shape none;
	struct shape elem = none;
	char ename[128] = "member", vname[128] = "value";
	int flat = 0;
	const char *k;
	json_t *e;
	size_t i;
	char *t;

	if (json_is_null(v))
		return;
	if (json_is_array(v)) {
		if (s->kind == SHAPE_LIST)
			shapes_list(s, &elem, ename, &flat);
		if (flat) {
			json_array_foreach(v, i, e)
				xml_value(sb, name, e, &elem);
			return;
		}
		strbuf_addf(sb, "<%s>", name);
		json_array_foreach(v, i, e)
			xml_value(sb, ename, e, &elem);
		strbuf_addf(sb, "</%s>", name);
		return;
	}
	if (json_is_object(v) && s->kind == SHAPE_MAP) {
		char kname[128] = "key";

		shapes_map(s, kname, vname, &elem, &flat);
		if (!flat)
			strbuf_addf(sb, "<%s>", name);
		json_object_foreach(v, k, e) {
			strbuf_addf(sb, "<%s><%s>", flat ? name : "entry", kname);
			xml_escape(sb, k, strlen(k));
			strbuf_addf(sb, "</%s>", kname);
			xml_value(sb, vname, e, &elem);
			strbuf_addf(sb, "</%s>", flat ? name : "entry");
		}
		if (!flat)
			strbuf_addf(sb, "</%s>", name);
		return;
	}
	strbuf_addf(sb, "<%s>", name);
	if (json_is_object(v)) {
		xml_struct_members(sb, v, s);
	} else if ((t = scalar_text(v))) {
		xml_escape(sb, t, strlen(t));
		free(t);
	}
	strbuf_addf(sb, "</%s>", name);
}

/* The root element: <ROOT xmlns="NS">members</ROOT>. */
static void xml_document(struct strbuf *sb, const char *root, const char *ns, json_t *v,
			 const struct shape *s)
{
	strbuf_addf(sb, "<%s", root);
	if (*ns) {
		strbuf_adds(sb, " xmlns=\"");
		xml_escape(sb, ns, strlen(ns));
		strbuf_addc(sb, '"');
	}
	strbuf_addc(sb, '>');
	xml_struct_members(sb, v, s);
	strbuf_addf(sb, "</%s>", root);
}

/* ---- the URI ---- */

/* A bucket name S3 accepts as a host name label (no dots: TLS wildcards). */
static int dns_bucket(const char *b)
{
	size_t n = strlen(b), i;

	if (n < 3 || n > 63)
		return 0;
	for (i = 0; i < n; i++)
		if (!(islower((unsigned char)b[i]) || isdigit((unsigned char)b[i]) || b[i] == '-'))
			return 0;
	return b[0] != '-' && b[n - 1] != '-';
}

/*
 * Expands the path part of the template into the path as sent (wire) and
 * the same path unencoded (raw). Returns 0 or -1 with err for a missing label.
 */
static int expand_path(const char *tmpl, size_t n, json_t *labels, const char *skip_label,
		       struct strbuf *wire, struct strbuf *raw, struct cairn_err *err)
{
	size_t i = 0;

	while (i < n) {
		const char *close;
		char name[128];
		size_t len;
		int greedy;
		json_t *v;
		char *t, *enc;

		if (tmpl[i] != '{') {
			strbuf_addc(wire, tmpl[i]);
			strbuf_addc(raw, tmpl[i]);
			i++;
			continue;
		}
		close = memchr(tmpl + i, '}', n - i);
		if (!close)
			break;
		len = (size_t)(close - tmpl - i - 1);
		greedy = len && tmpl[i + len] == '+';
		snprintf(name, sizeof(name), "%.*s", (int)(len - (size_t)greedy), tmpl + i + 1);
		i = (size_t)(close - tmpl) + 1;
		if (skip_label && strcmp(name, skip_label) == 0) {
			/* "/{Bucket}" addressed in the host: drop the label and its slash. */
			if (wire->len && wire->buf[wire->len - 1] == '/') {
				wire->buf[--wire->len] = '\0';
				raw->buf[--raw->len] = '\0';
			}
			continue;
		}
		v = json_object_get(labels, name);
		t = v ? scalar_text(v) : NULL;
		if (!t || !*t) {
			free(t);
			err_set(err, CAIRN_EINVAL, "missing required member '%s' (part of the URI)", name);
			return -1;
		}
		enc = sigv4_uri_encode(t, strlen(t), !greedy);
		strbuf_adds(wire, enc);
		strbuf_adds(raw, t);
		free(enc);
		free(t);
	}
	return 0;
}

static int has_header(const struct proto_request *req, const char *name)
{
	size_t i;

	for (i = 0; i < req->n_headers; i++)
		if (strcasecmp(req->headers[i].name, name) == 0)
			return 1;
	return 0;
}

/*
 * S3 refuses the bucket configuration calls (PutBucketTagging, -Lifecycle-
 * Configuration, -Encryption, PutPublicAccessBlock, ...) without an
 * integrity header (botocore's httpChecksum requestChecksumRequired):
 * every S3 body cairn builds carries its Content-MD5, which S3 checks
 * and accepts on any request.
 */
static void content_md5(struct proto_request *req)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	char b64[64];

	EVP_Digest(req->body.buf, req->body.len, md, &n, EVP_md5(), NULL);
	EVP_EncodeBlock((unsigned char *)b64, md, (int)n);
	add_header(req, "Content-MD5", b64);
}

int proto_rest_build(const struct aws_service *svc, const char *operation, json_t *input,
		     const void *blob, size_t blob_len, int path_style,
		     struct proto_request *req, struct cairn_err *err)
{
	struct shape in, out;
	struct shape_http h;
	struct shape_member pm;
	char payload[128] = "";
	json_t *labels = json_object(), *body = json_object(), *pv = NULL, *v;
	struct strbuf wire, raw, query;
	const char *k, *qmark, *bucket = NULL, *skip = NULL;
	int is_s3 = strcmp(svc->name, "s3") == 0, xml = svc->protocol == AWS_PROTO_REST_XML;
	int has_ctype = 0, rc = -1;
	size_t tlen;

	memset(req, 0, sizeof(*req));
	strbuf_init(&req->body);
	strbuf_init(&wire);
	strbuf_init(&raw);
	strbuf_init(&query);
	if (shapes_http(svc->name, operation, &h) != 0) {
		err_set(err, CAIRN_EINVAL, "%s %s: operation unknown to cairn (the REST protocols "
			"need its URI from the shape table)", svc->name, operation);
		goto out;
	}
	shapes_operation(svc->name, operation, &in, &out);
	shapes_payload(&in, payload);
	snprintf(req->method, sizeof(req->method), "%s", h.method);

	json_object_foreach(input, k, v) {
		struct shape_member m;
		const char *pk;
		json_t *pe;
		char *t, *hn;

		if (shapes_member(&in, k, &m) != 0) {
			/* Without the member's location there is no telling where it goes. */
			err_set(err, CAIRN_EINVAL, "'%s' is not a member of the %s input", k,
				operation);
			goto out;
		}
		if (payload[0] && strcmp(k, payload) == 0) {
			pv = v;
			pm = m;
			continue;
		}
		switch (m.location) {
		case LOC_URI:
			json_object_set(labels, m.loc, v);
			break;
		case LOC_QUERY:
			query_member(&query, &m, v);
			break;
		case LOC_HEADER:
			if ((t = scalar_text(v))) {
				add_header(req, m.loc, t);
				has_ctype |= strcasecmp(m.loc, "Content-Type") == 0;
				free(t);
			}
			break;
		case LOC_HEADERS:
			json_object_foreach(v, pk, pe)
				if ((t = scalar_text(pe))) {
					hn = xasprintf("%s%s", m.loc, pk);
					add_header(req, hn, t);
					free(hn);
					free(t);
				}
			break;
		default:
			json_object_set(body, m.loc, v);
			break;
		}
	}

	if (is_s3) {
		bucket = json_string_value(json_object_get(labels, "Bucket"));
		if (bucket && !path_style && dns_bucket(bucket)) {
			skip = "Bucket";
			req->host_prefix = xasprintf("%s.", bucket);
		}
	}
	qmark = strchr(h.uri, '?');
	tlen = qmark ? (size_t)(qmark - h.uri) : strlen(h.uri);
	if (expand_path(h.uri, tlen, labels, skip, &wire, &raw, err) != 0)
		goto out;
	if (!wire.len) {
		strbuf_addc(&wire, '/');
		strbuf_addc(&raw, '/');
	}
	if (qmark && qmark[1]) {
		/* A fixed part of the query ("?list-type=2", "?versioning") goes first. */
		char *fixed = xstrdup(qmark + 1);
		char *eq = strchr(fixed, '=');

		if (eq)
			*eq++ = '\0';
		if (query.len) {
			struct strbuf q2;

			strbuf_init(&q2);
			add_query(&q2, fixed, eq);
			strbuf_addc(&q2, '&');
			strbuf_add(&q2, query.buf, query.len);
			strbuf_free(&query);
			query = q2;
		} else {
			add_query(&query, fixed, eq);
		}
		free(fixed);
	}
	req->path = strbuf_detach(&wire);
	/* The SDKs encode the path again for the canonical request, except for S3. */
	req->sign_path = is_s3 ? strbuf_detach(&raw) : xstrdup(req->path);
	req->normalize_path = !is_s3;
	req->sign_body = is_s3;
	req->query = strbuf_detach(&query);

	if (pv && pm.target.kind == SHAPE_STRUCT) {
		if (xml)
			xml_document(&req->body, h.root[0] ? h.root : pm.loc, h.ns, pv, &pm.target);
		else {
			char *text = json_dumps(pv, JSON_COMPACT);

			strbuf_adds(&req->body, text);
			free(text);
		}
		req->content_type = xml ? "application/xml" : "application/json";
	} else if (payload[0] && (pv || blob)) {
		if (blob)
			strbuf_add(&req->body, blob, blob_len);
		else if (json_is_string(pv))
			strbuf_add(&req->body, json_string_value(pv), json_string_length(pv));
		req->content_type = "application/octet-stream";
	} else if (json_object_size(body)) {
		if (xml) {
			xml_document(&req->body, h.root[0] ? h.root : operation, h.ns, body, &in);
			req->content_type = "application/xml";
		} else {
			char *text = json_dumps(body, JSON_COMPACT);

			strbuf_adds(&req->body, text);
			free(text);
			req->content_type = "application/json";
		}
	}
	if (has_ctype)
		req->content_type = NULL;   /* the caller's ContentType header is sent instead */
	if (is_s3 && !blob && req->body.len && !has_header(req, "Content-MD5"))
		content_md5(req);
	rc = 0;
out:
	json_decref(labels);
	json_decref(body);
	strbuf_free(&wire);
	strbuf_free(&raw);
	strbuf_free(&query);
	if (rc < 0) {
		proto_request_free(req);
		memset(req, 0, sizeof(*req));
		strbuf_init(&req->body);
	}
	return rc;
}

/* ---- responses ---- */

static json_t *header_value(const char *text, enum shape_kind kind)
{
	switch (kind) {
	case SHAPE_INT:
		return json_integer(strtoll(text, NULL, 10));
	case SHAPE_BOOL:
		return json_boolean(strcasecmp(text, "true") == 0);
	case SHAPE_FLOAT:
		return json_real(strtod(text, NULL));
	default:
		return json_string(text);
	}
}

/* Every header starting with prefix, keyed by the rest of its name (lowercase, as
 * HTTP/1.1 servers may send any case). */
static json_t *prefixed_headers(const struct http_response *resp, const char *prefix)
{
	json_t *o = json_object();
	size_t n = strlen(prefix);
	const char *p = resp->headers.buf;

	while (p && *p) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		const char *colon = memchr(p, ':', len);

		if (colon && (size_t)(colon - p) > n && strncasecmp(p, prefix, n) == 0) {
			char *key = xstrndup(p + n, (size_t)(colon - p) - n);
			const char *v = colon + 1, *e = p + len;
			char *val, *c;

			while (v < e && (*v == ' ' || *v == '\t'))
				v++;
			while (e > v && (e[-1] == '\r' || e[-1] == ' '))
				e--;
			val = xstrndup(v, (size_t)(e - v));
			for (c = key; *c; c++)
				*c = (char)tolower((unsigned char)*c);
			json_object_set_new(o, key, json_string(val));
			free(key);
			free(val);
		}
		p = eol ? eol + 1 : NULL;
	}
	return o;
}

static json_t *blob_json(const char *buf, size_t len)
{
	json_t *s = json_stringn(buf, len);
	char *b64;

	if (s)
		return s;
	b64 = b64_encode(buf, len);
	s = json_string(b64);
	free(b64);
	return s;
}

/* The code of a body-less error answer (HEAD), as botocore names the common ones. */
static const char *status_code_name(long status)
{
	switch (status) {
	case 301: return "PermanentRedirect";
	case 304: return "NotModified";
	case 400: return "BadRequest";
	case 403: return "Forbidden";
	case 404: return "NotFound";
	case 409: return "Conflict";
	case 412: return "PreconditionFailed";
	default: return NULL;
	}
}

static void rest_error(const struct aws_service *svc, const struct http_response *resp,
		       const char *rid, struct cairn_err *err)
{
	const char *body = resp->body.buf;
	size_t len = resp->body.len, i = 0;
	char etype[256], region[64];
	json_t *ignored = NULL;

	while (i < len && isspace((unsigned char)body[i]))
		i++;
	if (i == len) {
		const char *code = status_code_name(resp->status);
		char text[32];

		snprintf(text, sizeof(text), "HTTP %ld", resp->status);
		proto_error(err, resp->status, code ? code : text, "the response has no body", rid);
	} else if (svc->protocol == AWS_PROTO_REST_JSON && body[i] != '<') {
		proto_json_parse(resp->status, body, len, rid,
				 http_header(resp, "x-amzn-ErrorType", etype, sizeof(etype)),
				 &ignored, err);
		json_decref(ignored);
	} else {
		proto_xml_error(resp->status, body, len, rid, err);
	}
	if (http_header(resp, "x-amz-bucket-region", region, sizeof(region)) &&
	    (resp->status == 301 || resp->status == 400 || resp->status == 403)) {
		size_t n = strlen(err->msg);

		snprintf(err->msg + n, sizeof(err->msg) - n, " (the bucket is in region '%s')",
			 region);
	}
}

int proto_rest_parse(const struct aws_service *svc, const char *operation,
		     const struct http_response *resp, struct strbuf *blob_out, json_t **out,
		     struct cairn_err *err)
{
	struct shape in, shape;
	char payload[128] = "", rid[128], hv[2048];
	const char *cursor = NULL;
	struct shape_member m;
	json_t *o = NULL;
	int xml = svc->protocol == AWS_PROTO_REST_XML;

	*out = NULL;
	if (!http_header(resp, "x-amzn-RequestId", rid, sizeof(rid)) &&
	    !http_header(resp, "x-amz-request-id", rid, sizeof(rid)))
		rid[0] = '\0';
	if (resp->status < 200 || resp->status >= 300) {
		rest_error(svc, resp, rid[0] ? rid : NULL, err);
		return -1;
	}
	shapes_operation(svc->name, operation, &in, &shape);
	if (shape.kind == SHAPE_NONE) {
		/* No output (AWS answers 204): whatever an endpoint sends anyway,
		 * moto's "True" after PutBucketPolicy say, is no answer to parse. */
		*out = json_object();
		return 0;
	}
	shapes_payload(&shape, payload);
	if (payload[0] && shapes_member(&shape, payload, &m) == 0 && m.target.kind != SHAPE_STRUCT) {
		o = json_object();
		if (blob_out)
			strbuf_add(blob_out, resp->body.buf, resp->body.len);
		else
			json_object_set_new(o, payload, blob_json(resp->body.buf, resp->body.len));
	} else if (resp->body.len && xml) {
		struct xml_node *root = xml_parse(resp->body.buf, resp->body.len, err);
		struct shape_member pm;

		if (!root) {
			err->remote.status = (int)resp->status;
			return -1;
		}
		if (payload[0] && shapes_member(&shape, payload, &pm) == 0) {
			o = json_object();
			json_object_set_new(o, payload, xml_to_json(root, &pm.target, 0));
		} else {
			o = xml_to_json(root, &shape, 0);
		}
		xml_free(root);
	} else if (resp->body.len) {
		if (proto_json_parse(resp->status, resp->body.buf, resp->body.len, rid, NULL, &o,
				     err) < 0)
			return -1;
		if (payload[0]) {
			json_t *wrapped = json_object();

			json_object_set_new(wrapped, payload, o);
			o = wrapped;
		}
	}
	if (!json_is_object(o)) {
		json_decref(o);
		o = json_object();
	}
	while (shapes_member_next(&shape, &cursor, &m) == 0) {
		if (m.location == LOC_HEADER && http_header(resp, m.loc, hv, sizeof(hv)))
			json_object_set_new(o, m.name, header_value(hv, m.target.kind));
		else if (m.location == LOC_HEADERS) {
			json_t *map = prefixed_headers(resp, m.loc);

			if (json_object_size(map))
				json_object_set_new(o, m.name, map);
			else
				json_decref(map);
		} else if (m.location == LOC_STATUS) {
			json_object_set_new(o, m.name, json_integer(resp->status));
		}
	}
	*out = o;
	return 0;
}
