/*
 * proto_query: the query and ec2 protocols. Both send
 * Action=Op&Version=V&... form bodies; they differ in how lists are named
 * (query: Name.member.N; ec2: Name.N with the member's queryName or
 * capitalised locationName, e.g. SubnetIds -> SubnetId.N) and in the
 * response layout (query: <OpResponse><OpResult>; ec2: members directly
 * under <OpResponse>, lists in <item>, errors in <Response><Errors>).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "shapes.h"
#include "xml.h"

void proto_request_free(struct proto_request *r)
{
	size_t i;

	strbuf_free(&r->body);
	free(r->path);
	free(r->sign_path);
	free(r->query);
	free(r->host_prefix);
	for (i = 0; i < r->n_headers; i++) {
		free(r->headers[i].name);
		free(r->headers[i].value);
	}
	free(r->headers);
}

void proto_error(struct cairn_err *err, long status, const char *code, const char *message,
		 const char *request_id)
{
	if (!err)
		return;
	err_set(err, CAIRN_EAWS, "%s: %s", code && *code ? code : "HTTPError",
		message && *message ? message : "(no message)");
	err->remote.status = (int)status;
	snprintf(err->remote.code, sizeof(err->remote.code), "%s", code ? code : "");
	snprintf(err->remote.request_id, sizeof(err->remote.request_id), "%s", request_id ? request_id : "");
}

/*
 * application/x-www-form-urlencoded as the AWS SDKs send it (Python's
 * urlencode): unreserved bytes kept, space as '+', the rest %XX. Servers
 * hash the body as sent, but emulators such as moto re-encode the parsed
 * form this way before checking the signature.
 */
static void form_encode(struct strbuf *sb, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.' || c == '~') {
			strbuf_addc(sb, (char)c);
		} else if (c == ' ') {
			strbuf_addc(sb, '+');
		} else {
			strbuf_addc(sb, '%');
			strbuf_addc(sb, hex[c >> 4]);
			strbuf_addc(sb, hex[c & 15]);
		}
	}
}

static void add_param(struct strbuf *sb, const char *name, const char *value)
{
	if (sb->len)
		strbuf_addc(sb, '&');
	form_encode(sb, name);
	strbuf_addc(sb, '=');
	form_encode(sb, value);
}

static void serialize(struct strbuf *sb, const char *prefix, json_t *v, const struct shape *s,
		      int ec2);

static void serialize_list(struct strbuf *sb, const char *prefix, json_t *v,
			   const struct shape *s, int ec2)
{
	static const struct shape none;
	struct shape elem = none;
	char elem_name[128] = "member";
	int flattened = 0;
	size_t i;
	json_t *e;

	if (s->kind == SHAPE_LIST)
		shapes_list(s, &elem, elem_name, &flattened);
	if (json_array_size(v) == 0) {
		/* The query protocol sends an empty list as an empty value; ec2 omits it. */
		if (!ec2)
			add_param(sb, prefix, "");
		return;
	}
	json_array_foreach(v, i, e) {
		char *p = ec2 || flattened ? xasprintf("%s.%zu", prefix, i + 1)
					   : xasprintf("%s.%s.%zu", prefix, elem_name, i + 1);

		serialize(sb, p, e, &elem, ec2);
		free(p);
	}
}

static void serialize_map(struct strbuf *sb, const char *prefix, json_t *v,
			  const struct shape *s, int ec2)
{
	static const struct shape none;
	char key_name[128] = "key", value_name[128] = "value";
	struct shape value = none;
	int flattened = 0;
	size_t i = 0;
	const char *k;
	json_t *e;

	shapes_map(s, key_name, value_name, &value, &flattened);
	json_object_foreach(v, k, e) {
		char *p = flattened ? xasprintf("%s.%zu", prefix, ++i)
				    : xasprintf("%s.entry.%zu", prefix, ++i);
		char *kp = xasprintf("%s.%s", p, key_name);
		char *vp = xasprintf("%s.%s", p, value_name);

		add_param(sb, kp, k);
		serialize(sb, vp, e, &value, ec2);
		free(p);
		free(kp);
		free(vp);
	}
}

static void serialize_struct(struct strbuf *sb, const char *prefix, json_t *v,
			     const struct shape *s, int ec2)
{
	const char *k;
	json_t *e;

	json_object_foreach(v, k, e) {
		struct shape_member m;
		const char *wire = k;
		char *p;

		memset(&m, 0, sizeof(m));
		if (shapes_member(s, k, &m) == 0)
			wire = ec2 ? m.qname : m.loc;
		p = *prefix ? xasprintf("%s.%s", prefix, wire) : xstrdup(wire);
		serialize(sb, p, e, &m.target, ec2);
		free(p);
	}
}

static void serialize(struct strbuf *sb, const char *prefix, json_t *v, const struct shape *s,
		      int ec2)
{
	char num[64];

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		if (s->kind == SHAPE_MAP)
			serialize_map(sb, prefix, v, s, ec2);
		else
			serialize_struct(sb, prefix, v, s, ec2);
		break;
	case JSON_ARRAY:
		serialize_list(sb, prefix, v, s, ec2);
		break;
	case JSON_STRING:
		add_param(sb, prefix, json_string_value(v));
		break;
	case JSON_INTEGER:
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		add_param(sb, prefix, num);
		break;
	case JSON_REAL:
		snprintf(num, sizeof(num), "%.17g", json_real_value(v));
		add_param(sb, prefix, num);
		break;
	case JSON_TRUE:
	case JSON_FALSE:
		add_param(sb, prefix, json_is_true(v) ? "true" : "false");
		break;
	case JSON_NULL:
		break;
	}
}

void proto_query_build(const struct aws_service *svc, const char *operation, json_t *input,
		       struct proto_request *req)
{
	struct shape in, out;

	shapes_operation(svc->name, operation, &in, &out);
	memset(req, 0, sizeof(*req));
	strbuf_init(&req->body);
	add_param(&req->body, "Action", operation);
	add_param(&req->body, "Version", svc->api_version);
	if (input && json_is_object(input))
		serialize_struct(&req->body, "", input, &in, svc->protocol == AWS_PROTO_EC2);
	req->content_type = "application/x-www-form-urlencoded; charset=utf-8";
	req->target[0] = '\0';
}

/* <ErrorResponse><Error>, <Response><Errors><Error>, or a bare <Error>. */
static const struct xml_node *find_error(const struct xml_node *root)
{
	const struct xml_node *e;

	if (strcmp(root->name, "Error") == 0)
		return root;
	if ((e = xml_child(root, "Error")))
		return e;
	return xml_child(xml_child(root, "Errors"), "Error");
}

void proto_xml_error(long status, const char *body, size_t len, const char *header_request_id,
		     struct cairn_err *err)
{
	struct cairn_err perr;
	struct xml_node *root;
	const struct xml_node *e;
	const char *rid = NULL;
	char *snippet;

	err_clear(&perr);
	root = len ? xml_parse(body, len, &perr) : NULL;
	e = root ? find_error(root) : NULL;
	if (root)
		rid = xml_child_text(root, "RequestId") ? xml_child_text(root, "RequestId")
							: xml_child_text(root, "RequestID");
	if (!rid)
		rid = header_request_id;
	if (e) {
		proto_error(err, status, xml_child_text(e, "Code"), xml_child_text(e, "Message"), rid);
	} else {
		snippet = xstrndup(body, len > 200 ? 200 : len);
		proto_error(err, status, "", "", rid);
		snprintf(err->msg, sizeof(err->msg), "HTTP %ld: %s", status,
			 *snippet ? snippet : "empty response");
		free(snippet);
	}
	xml_free(root);
}

int proto_query_parse(const struct aws_service *svc, const char *operation, long status,
		      const char *body, size_t len, const char *header_request_id,
		      json_t **out, struct cairn_err *err)
{
	struct cairn_err perr;
	struct xml_node *root;
	struct shape in, shape;
	int ec2 = svc->protocol == AWS_PROTO_EC2;
	const struct xml_node *result = NULL;
	json_t *o = NULL;

	*out = NULL;
	err_clear(&perr);
	root = len ? xml_parse(body, len, &perr) : NULL;
	if (status < 200 || status >= 300 || !root || find_error(root)) {
		xml_free(root);
		if (status >= 200 && status < 300 && !root && len) {
			err_set(err, CAIRN_EAWS, "%s", perr.msg);
			err->remote.status = (int)status;
		} else if (status >= 200 && status < 300 && !root) {
			*out = json_object();
			return 0;
		} else {
			proto_xml_error(status, body, len, header_request_id, err);
		}
		return -1;
	}
	shapes_operation(svc->name, operation, &in, &shape);
	if (ec2) {
		result = root;
	} else {
		char *rname = xasprintf("%sResult", operation);

		result = xml_child(root, rname);
		free(rname);
	}
	if (result)
		o = xml_to_json(result, &shape, ec2);
	if (!o || !json_is_object(o)) {
		json_decref(o);
		o = json_object();
	}
	json_object_del(o, "RequestId");
	xml_free(root);
	*out = o;
	return 0;
}
