/*
 * servicediscovery: the aws_service_discovery_private_dns_namespace and
 * aws_service_discovery_service resource types (AWS Cloud Map, json
 * protocol).
 *
 * Namespace changes are asynchronous: the call returns an operation id,
 * polled with GetOperation until SUCCESS (or FAIL). Cloud Map never
 * reports a namespace's VPC back, so `vpc` is kept from the recorded
 * attributes and the import id carries it ("ns-...:vpc-...", Terraform's
 * form). Services are created synchronously; their updates are operations
 * too. UpdateService replaces the DNS records and drops those left out,
 * so it is always sent the whole desired set.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "tagdiff.h"

#define SD_OPERATION_TIMEOUT_MS (5 * 60 * 1000L)
#define SD_DELETE_TIMEOUT_MS (5 * 60 * 1000L)
#define SD_POLL_MS 2000L

struct op_poll {
	const char *what, *op_id;
	json_t *in, **targets;
};

static int op_poll(const struct provider_ctx *ctx, void *arg, char *status, size_t status_len,
		   struct cairn_err *err)
{
	struct op_poll *w = arg;
	json_t *res = NULL, *op;
	int rc = -1;

	if (pcall(ctx, "servicediscovery", "GetOperation", w->in, &res, err) != 0)
		return -1;
	op = json_object_get(res, "Operation");
	snprintf(status, status_len, "%s", pstr_or(json_object_get(op, "Status"), ""));
	if (strcmp(status, "SUCCESS") == 0) {
		if (w->targets)
			*w->targets = json_incref(json_object_get(op, "Targets"));
		rc = 1;
	} else if (strcmp(status, "FAIL") == 0) {
		err_set(err, CAIRN_EAWS, "%s on %s: operation %s failed: %s: %s", w->what,
			ctx->name, w->op_id, pstr_or(json_object_get(op, "ErrorCode"), "?"),
			pstr_or(json_object_get(op, "ErrorMessage"), ""));
	} else {
		rc = 0;
	}
	json_decref(res);
	return rc;
}

/*
 * Polls GetOperation until the operation ends. what: the call that
 * started it, for messages. *target (may be NULL): new ref to the
 * operation's Targets object on success.
 */
static int wait_operation(const struct provider_ctx *ctx, const char *what, const char *op_id,
			  json_t **targets, struct cairn_err *err)
{
	struct op_poll w = {what, op_id, json_pack("{s:s}", "OperationId", op_id), targets};
	char msg[128];
	struct pwait_spec spec = {msg, SD_POLL_MS, 0, SD_OPERATION_TIMEOUT_MS};
	int rc;

	if (targets)
		*targets = NULL;
	snprintf(msg, sizeof(msg), "waiting for the %s operation", what);
	rc = pwait_until(ctx, &spec, op_poll, &w, err);
	json_decref(w.in);
	return rc;
}

/* Calls an operation that answers with an OperationId and waits for it. */
static int call_operation(const struct provider_ctx *ctx, const char *operation, json_t *in,
			  json_t **targets, struct cairn_err *err)
{
	json_t *res = NULL;
	const char *op_id;
	int rc = -1;

	if (targets)
		*targets = NULL;
	if (pcall(ctx, "servicediscovery", operation, in, &res, err) != 0)
		goto out;
	op_id = json_string_value(json_object_get(res, "OperationId"));
	if (!op_id) {
		err_set(err, CAIRN_EAWS, "%s on %s: no operation id in the answer", operation,
			ctx->name);
		goto out;
	}
	rc = wait_operation(ctx, operation, op_id, targets, err);
out:
	json_decref(res);
	return rc;
}

/* The user tags of a resource (ListTagsForResource): *list new array. */
static int list_tags(const struct provider_ctx *ctx, const char *arn, json_t **list,
		     struct cairn_err *err)
{
	json_t *in = json_pack("{s:s}", "ResourceARN", arn), *res = NULL;
	int rc;

	*list = NULL;
	rc = pcall(ctx, "servicediscovery", "ListTagsForResource", in, &res, err);
	if (rc == 0) {
		*list = json_incref(json_object_get(res, "Tags"));
		if (!*list)
			*list = json_array();
	}
	json_decref(in);
	json_decref(res);
	return rc;
}

/*
 * Get<member> of id plus its tags: *item and *tags new refs, both NULL
 * when gone (AWS answers gone, or the tags' resource is gone). op:
 * "GetNamespace"; member: "Namespace", the answer's member and the word
 * for messages.
 */
static int get_tagged(const struct provider_ctx *ctx, const char *op, const char *member,
		      const char *gone, const char *id, json_t **item, json_t **tags,
		      struct cairn_err *err)
{
	json_t *in = json_pack("{s:s}", "Id", id), *res = NULL;
	const char *arn;
	int rc = -1;

	*item = NULL;
	*tags = NULL;
	if (pcall(ctx, "servicediscovery", op, in, &res, err) != 0) {
		if (perr_is(err, gone)) {
			err_clear(err);
			rc = 0;
		}
		goto out;
	}
	arn = json_string_value(json_object_get(json_object_get(res, member), "Arn"));
	if (!arn) {
		err_set(err, CAIRN_EAWS, "%s on %s: no %c%s ARN in the answer", op, ctx->name,
			tolower((unsigned char)member[0]), member + 1);
		goto out;
	}
	if (list_tags(ctx, arn, tags, err) != 0) {
		if (perr_is(err, "ResourceNotFoundException")) {
			err_clear(err);
			rc = 0;
		}
		goto out;
	}
	*item = json_incref(json_object_get(res, member));
	rc = 0;
out:
	json_decref(in);
	json_decref(res);
	return rc;
}

/* ---- aws_service_discovery_private_dns_namespace ---- */

/* Namespace + tag list -> attribute object (new ref); vpc as recorded. */
static json_t *ns_attrs(json_t *ns, json_t *tags, const char *vpc)
{
	json_t *o = json_object();
	json_t *dns = json_object_get(json_object_get(ns, "Properties"), "DnsProperties");

	json_object_set_new(o, "id", json_string(pstr_or(json_object_get(ns, "Id"), "")));
	json_object_set_new(o, "arn", json_string(pstr_or(json_object_get(ns, "Arn"), "")));
	json_object_set_new(o, "name", json_string(pstr_or(json_object_get(ns, "Name"), "")));
	json_object_set_new(o, "description",
			    json_string(pstr_or(json_object_get(ns, "Description"), "")));
	json_object_set_new(o, "hosted_zone",
			    json_string(pstr_or(json_object_get(dns, "HostedZoneId"), "")));
	json_object_set_new(o, "vpc", json_string(vpc ? vpc : ""));
	json_object_set_new(o, "tags", ptags_from_list(tags, "Key", "Value"));
	return o;
}

/* With no prior (an import), id is "NAMESPACE_ID:VPC_ID": AWS does not
 * report a private namespace's VPC (Terraform's form). */
static int ns_read(const struct provider_ctx *ctx, const char *id, json_t *prior,
		   json_t **out, struct cairn_err *err)
{
	json_t *ns = NULL, *tags = NULL, *given = NULL;
	const char *colon = strchr(id, ':');
	char *ns_id = NULL;

	*out = NULL;
	if (!prior) {
		if (!colon || colon == id || !colon[1]) {
			err_set(err, CAIRN_EINVAL, "import of a private DNS namespace takes "
				"NAMESPACE_ID:VPC_ID (e.g. ns-abc123:vpc-0123), as AWS does not "
				"report the VPC; got '%s'", id);
			return -1;
		}
		id = ns_id = xstrndup(id, (size_t)(colon - id));
		prior = given = json_pack("{s:s}", "vpc", colon + 1);
	}
	if (get_tagged(ctx, "GetNamespace", "Namespace", "NamespaceNotFound", id, &ns, &tags,
		       err) != 0) {
		free(ns_id);
		json_decref(given);
		return -1;
	}
	if (ns)
		*out = ns_attrs(ns, tags, json_string_value(json_object_get(prior, "vpc")));
	free(ns_id);
	json_decref(given);
	json_decref(ns);
	json_decref(tags);
	return 0;
}

static int ns_create(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
		     struct cairn_err *err)
{
	json_t *tags = ptags_with_owner(ctx, json_object_get(attrs, "tags"));
	json_t *in, *targets = NULL;
	const char *id;
	int rc = -1;

	*out = NULL;
	in = json_pack("{s:s,s:s,s:s,s:o}",
		       "Name", pstr_or(json_object_get(attrs, "name"), ""),
		       "Vpc", pstr_or(json_object_get(attrs, "vpc"), ""),
		       "Description", pstr_or(json_object_get(attrs, "description"), ""),
		       "Tags", ptags_to_list(tags, "Key", "Value"));
	if (call_operation(ctx, "CreatePrivateDnsNamespace", in, &targets, err) != 0)
		goto out;
	id = json_string_value(json_object_get(targets, "NAMESPACE"));
	if (!id) {
		err_set(err, CAIRN_EAWS, "CreatePrivateDnsNamespace on %s: the operation "
			"names no namespace", ctx->name);
		goto out;
	}
	if (pread_created(ctx, ns_read, "CreatePrivateDnsNamespace", "namespace", id, attrs,
			  NULL, out, err) != 0) {
		json_object_set(*out, "vpc", json_object_get(attrs, "vpc"));
		goto out;
	}
	rc = 0;
out:
	json_decref(tags);
	json_decref(in);
	json_decref(targets);
	return rc;
}

/* The service's tagging calls for ptags_sync. */
static const struct ptag_api TAG_API = {
	.service = "servicediscovery", .untag_op = "UntagResource", .tag_op = "TagResource",
	.id_member = "ResourceARN", .keys_member = "TagKeys", .tags_member = "Tags",
	.key_name = "Key", .value_name = "Value",
};

static int ns_update(const struct provider_ctx *ctx, const char *id, json_t *old,
		     json_t *want, json_t *changed, json_t **out, struct cairn_err *err)
{
	json_t *in = NULL;
	int rc = -1;

	*out = NULL;
	if (pchanged(changed, "description")) {
		in = json_pack("{s:s,s:{s:s}}", "Id", id, "Namespace", "Description",
			       pstr_or(json_object_get(want, "description"), ""));
		if (call_operation(ctx, "UpdatePrivateDnsNamespace", in, NULL, err) != 0)
			goto out;
	}
	if (pchanged(changed, "tags") &&
	    ptags_sync(ctx, &TAG_API, pstr_or(json_object_get(old, "arn"), ""),
		       json_object_get(old, "tags"), json_object_get(want, "tags"), err) != 0)
		goto out;
	if (pread_after(ctx, ns_read, "UpdatePrivateDnsNamespace", "namespace",
			id, want, out, err) != 0)
		goto out;
	rc = 0;
out:
	json_decref(in);
	return rc;
}

/* DeleteNamespace and its operation; ResourceInUse (its services still
 * being deleted) means not yet. */
static int ns_delete_poll(const struct provider_ctx *ctx, void *arg, char *status,
			  size_t status_len, struct cairn_err *err)
{
	if (call_operation(ctx, "DeleteNamespace", arg, NULL, err) == 0)
		return 1;
	if (perr_is(err, "NamespaceNotFound")) {
		err_clear(err);
		return 1;
	}
	if (!perr_is(err, "ResourceInUse"))
		return -1;
	snprintf(status, status_len, "in use");
	return 0;
}

static int ns_delete(const struct provider_ctx *ctx, const char *id, json_t *attrs,
		     struct cairn_err *err)
{
	json_t *in = json_pack("{s:s}", "Id", id);
	struct pwait_spec spec = {"deleting the namespace", SD_POLL_MS, 0, SD_DELETE_TIMEOUT_MS};
	int rc = pwait_until(ctx, &spec, ns_delete_poll, in, err);

	json_decref(in);
	return rc;
}


/* The private DNS namespace named like attrs' name carrying our tags. */
static int ns_find(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
		   struct cairn_err *err)
{
	const char *name = json_string_value(json_object_get(attrs, "name"));
	json_t *in, *list = NULL, *n;
	size_t i;
	int rc = -1;

	*out = NULL;
	if (!name)
		return 0;
	in = json_pack("{s:[{s:s,s:[s],s:s}]}", "Filters", "Name", "TYPE", "Values",
		       "DNS_PRIVATE", "Condition", "EQ");
	if (aws_call_all(ctx->aws, "servicediscovery", "ListNamespaces", in, "Namespaces",
			 &list, err) != 0) {
		err_prefix(err, "ListNamespaces on %s", ctx->name);
		goto out;
	}
	json_array_foreach(list, i, n) {
		const char *id = json_string_value(json_object_get(n, "Id"));
		json_t *ns = NULL, *tags = NULL;
		int owned;

		if (!id || strcmp(pstr_or(json_object_get(n, "Name"), ""), name) != 0)
			continue;
		if (get_tagged(ctx, "GetNamespace", "Namespace", "NamespaceNotFound", id, &ns,
			       &tags, err) != 0)
			goto out;
		owned = ns && ptags_owned_by(tags, "Key", "Value", ctx);
		if (owned)
			*out = ns_attrs(ns, tags, json_string_value(json_object_get(attrs, "vpc")));
		json_decref(ns);
		json_decref(tags);
		if (owned)
			break;
	}
	rc = 0;
out:
	json_decref(in);
	json_decref(list);
	return rc;
}

const struct resource_ops aws_service_discovery_private_dns_namespace_ops = {
	.type = "aws_service_discovery_private_dns_namespace",
	.create = ns_create,
	.read = ns_read,
	.update = ns_update,
	.delete = ns_delete,
	.find = ns_find,
};

/* ---- aws_service_discovery_service ---- */

/* Service + tag list -> attribute object (new ref). */
static json_t *svc_attrs(json_t *s, json_t *tags)
{
	json_t *o = json_object(), *dns = json_object_get(s, "DnsConfig");
	json_t *hc = json_object_get(s, "HealthCheckCustomConfig");
	const char *ns_id = pstr_or(json_object_get(s, "NamespaceId"),
				   pstr_or(json_object_get(dns, "NamespaceId"), ""));

	json_object_set_new(o, "id", json_string(pstr_or(json_object_get(s, "Id"), "")));
	json_object_set_new(o, "arn", json_string(pstr_or(json_object_get(s, "Arn"), "")));
	json_object_set_new(o, "name", json_string(pstr_or(json_object_get(s, "Name"), "")));
	json_object_set_new(o, "namespace_id", json_string(ns_id));
	json_object_set_new(o, "description",
			    json_string(pstr_or(json_object_get(s, "Description"), "")));
	if (json_is_object(dns)) {
		json_t *records = json_array(), *r;
		size_t i;

		json_array_foreach(json_object_get(dns, "DnsRecords"), i, r)
			json_array_append_new(records, json_pack("{s:O,s:s}",
				"ttl", json_object_get(r, "TTL") ? json_object_get(r, "TTL")
								  : json_null(),
				"type", pstr_or(json_object_get(r, "Type"), "")));
		json_object_set_new(o, "dns_config", json_pack("{s:s,s:s,s:o}",
			"namespace_id", pstr_or(json_object_get(dns, "NamespaceId"), ns_id),
			"routing_policy", pstr_or(json_object_get(dns, "RoutingPolicy"),
						 "MULTIVALUE"),
			"dns_records", records));
	}
	if (json_is_object(hc)) {
		json_t *ft = json_object_get(hc, "FailureThreshold");

		json_object_set_new(o, "health_check_custom_config",
				    json_pack("{s:o}", "failure_threshold",
					      json_is_number(ft) ? json_incref(ft) : json_integer(1)));
	}
	json_object_set_new(o, "tags", ptags_from_list(tags, "Key", "Value"));
	return o;
}

static int svc_read(const struct provider_ctx *ctx, const char *id, json_t *prior,
		    json_t **out, struct cairn_err *err)
{
	json_t *s = NULL, *tags = NULL;

	*out = NULL;
	if (get_tagged(ctx, "GetService", "Service", "ServiceNotFound", id, &s, &tags, err) != 0)
		return -1;
	if (s)
		*out = svc_attrs(s, tags);
	json_decref(s);
	json_decref(tags);
	return 0;
}

/* dns_config.dns_records -> [{"Type":..,"TTL":..}] (new ref). */
static json_t *dns_records_in(json_t *dns)
{
	json_t *records = json_array(), *r;
	size_t i;

	json_array_foreach(json_object_get(dns, "dns_records"), i, r)
		json_array_append_new(records, json_pack("{s:s,s:I}",
			"Type", pstr_or(json_object_get(r, "type"), ""),
			"TTL", (json_int_t)json_number_value(json_object_get(r, "ttl"))));
	return records;
}

static int svc_create(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
		      struct cairn_err *err)
{
	json_t *tags = ptags_with_owner(ctx, json_object_get(attrs, "tags"));
	json_t *dns = json_object_get(attrs, "dns_config");
	json_t *hc = json_object_get(attrs, "health_check_custom_config");
	const char *ns_id = pstr_or(json_object_get(attrs, "namespace_id"), "");
	json_t *in, *res = NULL;
	const char *id;
	int rc = -1;

	*out = NULL;
	if (!*ns_id)
		ns_id = pstr_or(json_object_get(dns, "namespace_id"), "");
	in = json_pack("{s:s,s:s,s:o}",
		       "Name", pstr_or(json_object_get(attrs, "name"), ""),
		       "Description", pstr_or(json_object_get(attrs, "description"), ""),
		       "Tags", ptags_to_list(tags, "Key", "Value"));
	if (*ns_id)
		json_object_set_new(in, "NamespaceId", json_string(ns_id));
	if (json_is_object(dns))
		json_object_set_new(in, "DnsConfig", json_pack("{s:s,s:s,s:o}",
			"NamespaceId", pstr_or(json_object_get(dns, "namespace_id"), ns_id),
			"RoutingPolicy", pstr_or(json_object_get(dns, "routing_policy"), "MULTIVALUE"),
			"DnsRecords", dns_records_in(dns)));
	if (json_is_object(hc))
		json_object_set_new(in, "HealthCheckCustomConfig", json_pack("{s:I}",
			"FailureThreshold",
			(json_int_t)json_number_value(json_object_get(hc, "failure_threshold"))));
	if (pcall(ctx, "servicediscovery", "CreateService", in, &res, err) != 0)
		goto out;
	id = json_string_value(json_object_get(json_object_get(res, "Service"), "Id"));
	if (!id) {
		err_set(err, CAIRN_EAWS, "CreateService on %s: no service id in the answer",
			ctx->name);
		goto out;
	}
	if (pread_created(ctx, svc_read, "CreateService", "service", id, NULL, NULL, out,
			  err) != 0)
		goto out;
	rc = 0;
out:
	json_decref(tags);
	json_decref(in);
	json_decref(res);
	return rc;
}

static int svc_update(const struct provider_ctx *ctx, const char *id, json_t *old,
		      json_t *want, json_t *changed, json_t **out, struct cairn_err *err)
{
	json_t *dns = json_object_get(want, "dns_config");
	json_t *in = NULL;
	int rc = -1;

	*out = NULL;
	if (pchanged(changed, "description") || pchanged(changed, "dns_config")) {
		/* The whole desired service: records left out would be deleted. */
		in = json_pack("{s:s,s:{s:s}}", "Id", id, "Service", "Description",
			       pstr_or(json_object_get(want, "description"), ""));
		if (json_is_object(dns))
			json_object_set_new(json_object_get(in, "Service"), "DnsConfig",
					    json_pack("{s:o}", "DnsRecords", dns_records_in(dns)));
		if (call_operation(ctx, "UpdateService", in, NULL, err) != 0)
			goto out;
	}
	if (pchanged(changed, "tags") &&
	    ptags_sync(ctx, &TAG_API, pstr_or(json_object_get(old, "arn"), ""),
		       json_object_get(old, "tags"), json_object_get(want, "tags"), err) != 0)
		goto out;
	if (pread_after(ctx, svc_read, "UpdateService", "service", id, NULL, out, err) != 0)
		goto out;
	rc = 0;
out:
	json_decref(in);
	return rc;
}

static int svc_delete(const struct provider_ctx *ctx, const char *id, json_t *attrs,
		      struct cairn_err *err)
{
	/* ResourceInUse: instances still registered (ECS deregisters the
	 * tasks of a service being deleted a little later). */
	static const char *const busy[] = {"ResourceInUse", NULL};
	static const char *const gone[] = {"ServiceNotFound", NULL};
	json_t *in = json_pack("{s:s}", "Id", id);
	int rc = pdelete(ctx, "servicediscovery", "DeleteService", in, busy, gone,
			 SD_DELETE_TIMEOUT_MS, err);

	json_decref(in);
	return rc;
}


/* The service of the namespace with attrs' name that carries our tags. */
static int svc_find(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
		    struct cairn_err *err)
{
	const char *name = json_string_value(json_object_get(attrs, "name"));
	const char *ns_id = pstr_or(json_object_get(attrs, "namespace_id"), "");
	json_t *in, *list = NULL, *s;
	size_t i;
	int rc = -1;

	*out = NULL;
	if (!name)
		return 0;
	if (!*ns_id)
		ns_id = pstr_or(json_object_get(json_object_get(attrs, "dns_config"), "namespace_id"),
			       "");
	in = *ns_id ? json_pack("{s:[{s:s,s:[s],s:s}]}", "Filters", "Name", "NAMESPACE_ID",
				"Values", ns_id, "Condition", "EQ")
		    : json_object();
	if (aws_call_all(ctx->aws, "servicediscovery", "ListServices", in, "Services", &list,
			 err) != 0) {
		err_prefix(err, "ListServices on %s", ctx->name);
		goto out;
	}
	json_array_foreach(list, i, s) {
		const char *id = json_string_value(json_object_get(s, "Id"));
		json_t *svc = NULL, *tags = NULL;
		int owned;

		if (!id || strcmp(pstr_or(json_object_get(s, "Name"), ""), name) != 0)
			continue;
		if (get_tagged(ctx, "GetService", "Service", "ServiceNotFound", id, &svc, &tags,
			       err) != 0)
			goto out;
		owned = svc && ptags_owned_by(tags, "Key", "Value", ctx);
		if (owned)
			*out = svc_attrs(svc, tags);
		json_decref(svc);
		json_decref(tags);
		if (owned)
			break;
	}
	rc = 0;
out:
	json_decref(in);
	json_decref(list);
	return rc;
}

const struct resource_ops aws_service_discovery_service_ops = {
	.type = "aws_service_discovery_service",
	.create = svc_create,
	.read = svc_read,
	.update = svc_update,
	.delete = svc_delete,
	.find = svc_find,
};
