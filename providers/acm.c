/*
 * acm: the aws_acm_certificate resource type (Certificate Manager, json
 * protocol): a public certificate AWS issues once its domains are
 * validated (DNS or e-mail), or one issued by a private CA.
 *
 * RequestCertificate takes the ownership tags; find lists the
 * certificates of the domain and picks the one with them. (No idempotency
 * token: AWS would answer a replacement requested within the hour with
 * the certificate just deleted.) AWS fills in the DNS validation
 * records a few seconds after the request: create waits (shared waiter)
 * until every domain has its record, so domain_validation_options is
 * known when the Route 53 records that validate it are planned.
 *
 * Everything but the options and the tags forces a new certificate.
 * Deleting one that a load balancer listener still uses fails with
 * ResourceInUseException until the listener is gone: retried.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common.h"
#include "tagdiff.h"

#define SVC "acm"
#define ACM_RECORDS_TIMEOUT_MS (3L * 60 * 1000)
#define ACM_IN_USE_TIMEOUT_MS (10L * 60 * 1000)

static const char *const acm_gone[] = {"ResourceNotFoundException", NULL};

/* A timestamp as the json protocol gives it (epoch seconds) in RFC 3339. */
static json_t *time_json(json_t *v)
{
	char buf[32] = "";
	struct tm tm;
	time_t t;

	if (json_is_string(v))
		return json_string(json_string_value(v));
	if (!json_is_number(v))
		return json_string("");
	t = (time_t)json_number_value(v);
	if (gmtime_r(&t, &tm))
		strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_string(buf);
}

static json_t *str_array_without(json_t *list, const char *skip)
{
	json_t *o = json_array(), *v;
	size_t i;

	json_array_foreach(list, i, v)
		if (json_is_string(v) && strcmp(json_string_value(v), skip) != 0)
			json_array_append(o, v);
	return o;
}

/* The certificate's attributes from DescribeCertificate's item and its tags. */
static json_t *cert_attrs(json_t *c, json_t *tags, json_t *prior)
{
	const char *domain = pstr_or(json_object_get(c, "DomainName"), "");
	json_t *o = json_object(), *dvo = json_array(), *emails = json_array(), *d, *e;
	json_t *opts = json_object_get(c, "Options");
	size_t i, j;

	json_object_set_new(o, "id", json_string(pstr_or(json_object_get(c, "CertificateArn"),
							   "")));
	json_object_set_new(o, "arn", json_string(pstr_or(json_object_get(c, "CertificateArn"),
							    "")));
	json_object_set_new(o, "domain_name", json_string(domain));
	/* AWS lists the domain itself among the alternative names; the stack
	 * (as Terraform's) names only the others */
	json_object_set_new(o, "subject_alternative_names",
			    porder_take(str_array_without(json_object_get(c,
									  "SubjectAlternativeNames"),
							  domain),
					json_object_get(prior, "subject_alternative_names")));
	json_array_foreach(json_object_get(c, "DomainValidationOptions"), i, d) {
		json_t *rr = json_object_get(d, "ResourceRecord");

		if (rr)
			json_array_append_new(dvo, json_pack(
				"{s:s,s:s,s:s,s:s}",
				"domain_name", pstr_or(json_object_get(d, "DomainName"), ""),
				"resource_record_name", pstr_or(json_object_get(rr, "Name"), ""),
				"resource_record_type", pstr_or(json_object_get(rr, "Type"), ""),
				"resource_record_value", pstr_or(json_object_get(rr, "Value"), "")));
		json_array_foreach(json_object_get(d, "ValidationEmails"), j, e)
			if (json_is_string(e) && !json_array_has_str(emails, json_string_value(e)))
				json_array_append(emails, e);
	}
	json_object_set_new(o, "domain_validation_options", dvo);
	json_object_set_new(o, "validation_emails", emails);
	d = json_array_get(json_object_get(c, "DomainValidationOptions"), 0);
	json_object_set_new(o, "validation_method",
			    json_string(pstr(d, "ValidationMethod") ? pstr(d, "ValidationMethod") :
					pstr(c, "CertificateAuthorityArn") ? "NONE" : "DNS"));
	json_object_set_new(o, "certificate_authority_arn",
			    json_string(pstr_or(json_object_get(c, "CertificateAuthorityArn"), "")));
	json_object_set_new(o, "key_algorithm",
			    json_string(pstr_or(json_object_get(c, "KeyAlgorithm"), "RSA_2048")));
	json_object_set_new(o, "options", json_pack(
		"{s:s}", "certificate_transparency_logging_preference",
		pstr_or(json_object_get(opts, "CertificateTransparencyLoggingPreference"),
			"ENABLED")));
	json_object_set_new(o, "status", json_string(pstr_or(json_object_get(c, "Status"), "")));
	json_object_set_new(o, "type", json_string(pstr_or(json_object_get(c, "Type"), "")));
	json_object_set_new(o, "not_before", time_json(json_object_get(c, "NotBefore")));
	json_object_set_new(o, "not_after", time_json(json_object_get(c, "NotAfter")));
	json_object_set_new(o, "tags", ptags_from_list(tags, "Key", "Value"));
	return o;
}

/* DescribeCertificate + ListTagsForCertificate: *out NULL when gone. */
static int cert_read(const struct provider_ctx *ctx, const char *id, json_t *prior, json_t **out,
		     struct cairn_err *err)
{
	json_t *in = json_pack("{s:s}", "CertificateArn", id), *desc = NULL, *tags = NULL;
	int rc = -1;

	*out = NULL;
	if (pcall_found(ctx, SVC, "DescribeCertificate", in, acm_gone, &desc, err) != 0)
		goto out;
	if (desc && pcall_found(ctx, SVC, "ListTagsForCertificate", in, acm_gone, &tags,
				err) != 0)
		goto out;
	if (desc && tags)
		*out = cert_attrs(json_object_get(desc, "Certificate"),
				  json_object_get(tags, "Tags"), prior);
	rc = 0;
out:
	json_decref(in);
	json_decref(desc);
	json_decref(tags);
	return rc;
}

/* The request for attrs (borrowed): new object. */
static json_t *request_input(const struct provider_ctx *ctx, json_t *attrs)
{
	json_t *tags = ptags_with_owner(ctx, json_object_get(attrs, "tags"));
	json_t *sans = json_object_get(attrs, "subject_alternative_names");
	json_t *pref = json_object_get(json_object_get(attrs, "options"),
				       "certificate_transparency_logging_preference");
	const char *method = pstr_or(json_object_get(attrs, "validation_method"), "");
	const char *ca = pstr_or(json_object_get(attrs, "certificate_authority_arn"), "");
	const char *alg = pstr_or(json_object_get(attrs, "key_algorithm"), "");
	json_t *in = json_pack("{s:s,s:o}", "DomainName",
			       pstr_or(json_object_get(attrs, "domain_name"), ""),
			       "Tags", ptags_to_list(tags, "Key", "Value"));
	json_decref(tags);
	if (json_array_size(sans))
		json_object_set(in, "SubjectAlternativeNames", sans);
	/* a private CA's certificate takes no validation method */
	if (*ca)
		json_object_set_new(in, "CertificateAuthorityArn", json_string(ca));
	else
		json_object_set_new(in, "ValidationMethod", json_string(*method ? method : "DNS"));
	if (*alg)
		json_object_set_new(in, "KeyAlgorithm", json_string(alg));
	/* only a change from AWS's default is sent */
	if (json_is_string(pref) && strcmp(json_string_value(pref), "ENABLED") != 0)
		json_object_set_new(in, "Options",
				    json_pack("{s:O}", "CertificateTransparencyLoggingPreference",
					      pref));
	return in;
}

/* Done when every domain of a DNS-validated certificate has its record. */
struct records_wait {
	const char *arn;
	json_t *want, **out;
};

static int records_poll(const struct provider_ctx *ctx, void *arg, char *status,
			size_t status_len, struct cairn_err *err)
{
	struct records_wait *w = arg;
	json_t *in = json_pack("{s:s}", "CertificateArn", w->arn), *desc = NULL, *d;
	size_t i, missing = 0, n;
	int rc = -1;

	if (pcall_found(ctx, SVC, "DescribeCertificate", in, acm_gone, &desc, err) != 0)
		goto out;
	if (!desc) {
		/* a fresh certificate may not be visible to every ACM host yet */
		snprintf(status, status_len, "not visible yet");
		rc = 0;
		goto out;
	}
	n = json_array_size(json_object_get(json_object_get(desc, "Certificate"),
					    "DomainValidationOptions"));
	json_array_foreach(json_object_get(json_object_get(desc, "Certificate"),
					   "DomainValidationOptions"), i, d)
		if (strcmp(pstr_or(json_object_get(d, "ValidationMethod"), ""), "DNS") == 0 &&
		    !json_object_get(d, "ResourceRecord"))
			missing++;
	snprintf(status, status_len, "%zu of %zu validation records", n - missing, n);
	rc = missing == 0 && (n > 0 || pstr(w->want, "certificate_authority_arn") ||
			      strcmp(pstr_or(json_object_get(w->want, "validation_method"), "DNS"),
				     "DNS") != 0);
out:
	json_decref(in);
	json_decref(desc);
	return rc;
}

static int cert_create(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
		       struct cairn_err *err)
{
	json_t *in = request_input(ctx, attrs), *res = NULL;
	struct records_wait w = {NULL, attrs, out};
	struct pwait_spec spec = {"waiting for the validation records", 1000L, 5000L,
				  ACM_RECORDS_TIMEOUT_MS};
	char *arn = NULL;
	int rc = -1;

	*out = NULL;
	if (pcall(ctx, SVC, "RequestCertificate", in, &res, err) != 0)
		goto out;
	arn = xstrdup(pstr_or(json_object_get(res, "CertificateArn"), ""));
	w.arn = arn;
	if (pwait_until(ctx, &spec, records_poll, &w, err) != 0 ||
	    pread_back(ctx, cert_read, "RequestCertificate", "certificate", arn, attrs, out, err) != 0)
		goto out;
	rc = 0;
out:
	if (rc != 0 && arn && !*out)
		*out = json_pack("{s:s,s:s}", "id", arn, "arn", arn);
	free(arn);
	json_decref(in);
	json_decref(res);
	return rc;
}

/* Add/RemoveTagsFromCertificate, which both take [{Key, Value}] lists. */
static int cert_tags(const struct provider_ctx *ctx, const char *arn, json_t *old, json_t *want,
		     struct cairn_err *err)
{
	json_t *removed = NULL, *set = NULL, *keys, *k, *in = NULL;
	size_t i;
	int rc = -1;

	tagdiff(old, want, 0, &removed, &set);
	if (json_array_size(removed)) {
		keys = json_array();
		json_array_foreach(removed, i, k)
			json_array_append_new(keys, json_pack("{s:O}", "Key", k));
		in = json_pack("{s:s,s:o}", "CertificateArn", arn, "Tags", keys);
		if (pcall_void(ctx, SVC, "RemoveTagsFromCertificate", in, err) != 0)
			goto out;
		json_decref(in);
		in = NULL;
	}
	if (json_object_size(set)) {
		in = json_pack("{s:s,s:o}", "CertificateArn", arn, "Tags",
			       ptags_to_list(set, "Key", "Value"));
		if (pcall_void(ctx, SVC, "AddTagsToCertificate", in, err) != 0)
			goto out;
	}
	rc = 0;
out:
	json_decref(in);
	json_decref(removed);
	json_decref(set);
	return rc;
}

static int cert_update(const struct provider_ctx *ctx, const char *id, json_t *old, json_t *want,
		       json_t *changed, json_t **out, struct cairn_err *err)
{
	json_t *in = NULL;
	int rc = -1;

	*out = NULL;
	if (pchanged(changed, "tags") &&
	    cert_tags(ctx, id, json_object_get(old, "tags"), json_object_get(want, "tags"), err) != 0)
		goto out;
	if (pchanged(changed, "options")) {
		in = json_pack("{s:s,s:{s:s}}", "CertificateArn", id, "Options",
			       "CertificateTransparencyLoggingPreference",
			       pstr_or(json_object_get(json_object_get(want, "options"),
						       "certificate_transparency_logging_preference"),
				       "ENABLED"));
		if (pcall_void(ctx, SVC, "UpdateCertificateOptions", in, err) != 0)
			goto out;
	}
	if (pread_after(ctx, cert_read, "update", "certificate", id, want, out, err) != 0)
		goto out;
	rc = 0;
out:
	json_decref(in);
	return rc;
}

static int cert_delete(const struct provider_ctx *ctx, const char *id, json_t *attrs,
		       struct cairn_err *err)
{
	static const char *const in_use[] = {"ResourceInUseException", NULL};
	json_t *in = json_pack("{s:s}", "CertificateArn", id);
	int rc = pcall_retry(ctx, SVC, "DeleteCertificate", in, NULL, in_use,
			     ACM_IN_USE_TIMEOUT_MS, err);

	if (rc != 0 && perr_is(err, "ResourceNotFoundException")) {
		err_clear(err);
		rc = 0;
	}
	json_decref(in);
	return rc;
}

/* The certificates of the wanted domain, the one with the ownership tags. */
static int cert_find(const struct provider_ctx *ctx, json_t *attrs, json_t **out,
		     struct cairn_err *err)
{
	const char *domain = pstr(attrs, "domain_name");
	const char *alg = pstr_or(json_object_get(attrs, "key_algorithm"), "");
	json_t *in = json_object(), *list = NULL, *s;
	size_t i;
	int rc = -1;

	*out = NULL;
	if (!domain) {
		rc = 0;
		goto out;
	}
	/* by default AWS lists RSA_1024 and RSA_2048 certificates only */
	if (*alg && strcmp(alg, "RSA_2048") != 0)
		json_object_set_new(in, "Includes", json_pack("{s:[s]}", "keyTypes", alg));
	if (aws_call_all(ctx->aws, SVC, "ListCertificates", in, "CertificateSummaryList", &list,
			 err) != 0) {
		err_prefix(err, "ListCertificates on %s", ctx->name);
		goto out;
	}
	json_array_foreach(list, i, s) {
		const char *arn = pstr(s, "CertificateArn");
		json_t *tin, *tags = NULL;
		int owned;

		if (!arn || strcmp(pstr_or(json_object_get(s, "DomainName"), ""), domain) != 0)
			continue;
		tin = json_pack("{s:s}", "CertificateArn", arn);
		rc = pcall_found(ctx, SVC, "ListTagsForCertificate", tin, acm_gone, &tags, err);
		json_decref(tin);
		if (rc != 0)
			goto out;
		rc = -1;
		owned = ptags_owned_by(json_object_get(tags, "Tags"), "Key", "Value", ctx);
		json_decref(tags);
		if (!owned)
			continue;
		if (cert_read(ctx, arn, attrs, out, err) != 0)
			goto out;
		if (*out)
			break;
	}
	rc = 0;
out:
	json_decref(in);
	json_decref(list);
	return rc;
}

const struct resource_ops aws_acm_certificate_ops = {
	.type = "aws_acm_certificate",
	.create = cert_create,
	.read = cert_read,
	.update = cert_update,
	.delete = cert_delete,
	.find = cert_find,
};
