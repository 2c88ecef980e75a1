/*
 * providers/common: see common.h.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common.h"

static void tag_char(struct strbuf *sb, unsigned char c)
{
	if (isalnum(c) || (c != '+' && strchr(" _.:/=-@", c)))
		strbuf_addc(sb, (char)c);
	else
		strbuf_addf(sb, "+%02X", c);
}

char *ptag_resource_value(const char *address)
{
	struct strbuf sb;
	const char *p = address;

	strbuf_init(&sb);
	while (*p) {
		if (p[0] == '[' && p[1] == '"') {
			/* ["key"]: the key, JSON-unescaped, after a '/' */
			const char *end = p + 2;
			json_t *k;

			while (*end && *end != '"')
				end += end[0] == '\\' && end[1] ? 2 : 1;
			k = json_loadb(p + 1, (size_t)(end - p), JSON_DECODE_ANY, NULL);
			if (json_is_string(k) && end[0] == '"' && end[1] == ']') {
				const char *c;

				strbuf_addc(&sb, '/');
				for (c = json_string_value(k); *c; c++)
					tag_char(&sb, (unsigned char)*c);
				json_decref(k);
				p = end + 2;
				continue;
			}
			json_decref(k);
		}
		if (p[0] == '[' && isdigit((unsigned char)p[1])) {
			const char *end = p + 1;

			while (isdigit((unsigned char)*end))
				end++;
			if (*end == ']') {
				strbuf_addc(&sb, '/');
				strbuf_add(&sb, p + 1, (size_t)(end - p - 1));
				p = end + 1;
				continue;
			}
		}
		tag_char(&sb, (unsigned char)*p++);
	}
	return strbuf_detach(&sb);
}

json_t *ptags_with_owner(const struct provider_ctx *ctx, json_t *user_tags)
{
	json_t *t = json_is_object(user_tags) ? json_deep_copy(user_tags) : json_object();
	char *v = ptag_resource_value(ctx->name);

	json_object_set_new(t, OWNER_TAG_STACK, json_string(ctx->stack));
	json_object_set_new(t, OWNER_TAG_RESOURCE, json_string(v));
	free(v);
	return t;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

json_t *ptags_to_list(json_t *tags, const char *key_name, const char *value_name)
{
	json_t *list = json_array();
	const char **keys;
	const char *k;
	json_t *v;
	size_t n = 0, i;

	if (!json_is_object(tags))
		return list;
	keys = xcalloc(json_object_size(tags), sizeof(*keys));
	json_object_foreach(tags, k, v)
		keys[n++] = k;
	qsort(keys, n, sizeof(*keys), cmp_str);
	for (i = 0; i < n; i++) {
		v = json_object_get(tags, keys[i]);
		json_array_append_new(list, json_pack("{s:s,s:s}", key_name, keys[i], value_name,
						      json_is_string(v) ? json_string_value(v) : ""));
	}
	free(keys);
	return list;
}

int ptags_is_owner(const char *k)
{
	return strcmp(k, OWNER_TAG_STACK) == 0 || strcmp(k, OWNER_TAG_RESOURCE) == 0;
}

json_t *ptags_from_list(json_t *list, const char *key_name, const char *value_name)
{
	json_t *tags = json_object(), *e;
	size_t i;

	json_array_foreach(list, i, e) {
		const char *k = json_string_value(json_object_get(e, key_name));
		json_t *v = json_object_get(e, value_name);

		if (k && !ptags_is_owner(k))
			json_object_set_new(tags, k, json_string(json_is_string(v) ?
								  json_string_value(v) : ""));
	}
	return tags;
}

json_t *ptags_strip_owner(json_t *tags)
{
	json_t *out = json_object(), *v;
	const char *k;

	if (json_is_object(tags))
		json_object_foreach(tags, k, v)
			if (!ptags_is_owner(k))
				json_object_set(out, k, v);
	return out;
}

int ptags_owned_by(json_t *list, const char *key_name, const char *value_name,
		   const struct provider_ctx *ctx)
{
	int stack_ok = 0, name_ok = 0;
	char *want = ptag_resource_value(ctx->name);
	json_t *e;
	size_t i;

	json_array_foreach(list, i, e) {
		const char *k = json_string_value(json_object_get(e, key_name));
		const char *v = json_string_value(json_object_get(e, value_name));

		if (!k || !v)
			continue;
		if (strcmp(k, OWNER_TAG_STACK) == 0 && strcmp(v, ctx->stack) == 0)
			stack_ok = 1;
		if (strcmp(k, OWNER_TAG_RESOURCE) == 0 && strcmp(v, want) == 0)
			name_ok = 1;
	}
	free(want);
	return stack_ok && name_ok;
}

/*
 * One stack's resources of type_filter into found, page by page. The
 * filter is the stack tag rather than the ARNs (ResourceARNList): DynamoDB
 * table ARNs are not known before DescribeTable, and moto ignores
 * ResourceARNList, answering with every tagged resource it has.
 */
static int tags_scan(const struct provider_ctx *ctx, const char *type_filter, json_t *found,
		     struct cairn_err *err)
{
	json_t *in = json_pack("{s:[s], s:[{s:s, s:[s]}], s:i}", "ResourceTypeFilters", type_filter,
			       "TagFilters", "Key", OWNER_TAG_STACK, "Values", ctx->stack,
			       "ResourcesPerPage", 100);
	json_t *page = NULL;
	struct strbuf last;
	int rc = -1;

	strbuf_init(&last);
	for (;;) {
		json_t *m;
		const char *tok;
		size_t i;

		if (ctx->cancel && *ctx->cancel)
			break;
		if (aws_call(ctx->aws, "resourcegroupstaggingapi", "GetResources", in, &page, err) < 0)
			goto out;
		json_array_foreach(json_object_get(page, "ResourceTagMappingList"), i, m) {
			const char *arn = pstr(m, "ResourceARN");
			json_t *tags = json_object_get(m, "Tags");

			if (arn && json_is_array(tags))
				json_object_set(found, arn, tags);
		}
		tok = pstr(page, "PaginationToken");
		if (!tok || !*tok || strcmp(tok, last.buf) == 0)
			break;
		strbuf_reset(&last);
		strbuf_adds(&last, tok);
		json_object_set_new(in, "PaginationToken", json_string(tok));
		json_decref(page);
		page = NULL;
	}
	rc = 0;
out:
	strbuf_free(&last);
	json_decref(page);
	json_decref(in);
	return rc;
}

json_t *ptags_bulk(const struct provider_ctx *const *ctxs, size_t n, const char *type_filter)
{
	json_t *found = json_object();
	size_t i, j;

	for (i = 0; i < n; i++) {
		struct cairn_err err;

		/* one scan per client (account and region) and stack */
		for (j = 0; j < i; j++)
			if (ctxs[j]->aws == ctxs[i]->aws && strcmp(ctxs[j]->stack, ctxs[i]->stack) == 0)
				break;
		if (j < i)
			continue;
		err_clear(&err);
		/* The tagging API only saves requests: on any failure the
		 * resources it did not report are read the per-resource way,
		 * which reports its own errors. */
		if (tags_scan(ctxs[i], type_filter, found, &err) != 0)
			err_clear(&err);
	}
	return found;
}

struct peach_run {
	const struct provider_ctx *const *ctxs;
	size_t n, next;
	peach_fn item;
	void *arg;
	int failed;
	size_t failed_at;
	struct cairn_err err;
	pthread_mutex_t mu;
};

static void *peach_worker(void *p)
{
	struct peach_run *r = p;

	for (;;) {
		struct cairn_err err;
		size_t i;

		pthread_mutex_lock(&r->mu);
		if (r->failed || r->next >= r->n) {
			pthread_mutex_unlock(&r->mu);
			return NULL;
		}
		i = r->next++;
		pthread_mutex_unlock(&r->mu);
		err_clear(&err);
		if (r->item(r->ctxs[i], i, r->arg, &err) != 0) {
			pthread_mutex_lock(&r->mu);
			if (!r->failed || i < r->failed_at) {
				r->failed = 1;
				r->failed_at = i;
				r->err = err;
			}
			pthread_mutex_unlock(&r->mu);
		}
	}
}

int peach(const struct provider_ctx *const *ctxs, size_t n, peach_fn item, void *arg,
	  struct cairn_err *err)
{
	struct peach_run r = { .ctxs = ctxs, .n = n, .item = item, .arg = arg };
	pthread_t threads[PEACH_THREADS];
	size_t want = n < PEACH_THREADS ? n : PEACH_THREADS, started, i;

	pthread_mutex_init(&r.mu, NULL);
	for (started = 0; started + 1 < want; started++)
		if (pthread_create(&threads[started], NULL, peach_worker, &r) != 0)
			break;
	peach_worker(&r);
	for (i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
	pthread_mutex_destroy(&r.mu);
	if (!r.failed)
		return 0;
	*err = r.err;
	return -1;
}

int pwait(const struct provider_ctx *ctx, long ms)
{
	if (ctx->cancel && *ctx->cancel)
		return -1;
	if (ctx->sleep_ms) {
		ctx->sleep_ms(ms);
	} else {
		struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

		while (nanosleep(&ts, &ts) != 0)
			;
	}
	return ctx->cancel && *ctx->cancel ? -1 : 0;
}

int pwait_until(const struct provider_ctx *ctx, const struct pwait_spec *spec, ppoll_fn poll,
		void *arg, struct cairn_err *err)
{
	long first = spec->first_ms > 0 ? spec->first_ms : PWAIT_FIRST_MS;
	long max = spec->max_ms > 0 ? spec->max_ms : PWAIT_MAX_MS;
	long timeout = spec->timeout_ms > 0 ? spec->timeout_ms : PWAIT_TIMEOUT_MS;
	long waited = 0, delay = first, reported = 0;
	char status[128];
	int rc;

	for (;;) {
		status[0] = '\0';
		rc = poll(ctx, arg, status, sizeof(status), err);
		if (rc != 0)
			return rc > 0 ? 0 : -1;
		if (waited >= timeout) {
			err_set(err, CAIRN_EAWS, "%s on %s: gave up after %ld seconds%s%s%s",
				spec->what, ctx->name, waited / 1000, status[0] ? " (last status: " : "",
				status, status[0] ? ")" : "");
			return -1;
		}
		if (pwait(ctx, delay) != 0) {
			err_set(err, CAIRN_ECANCEL, "%s on %s: interrupted", spec->what, ctx->name);
			return -1;
		}
		waited += delay;
		delay = delay * 2 > max ? max : delay * 2;
		if (ctx->progress && waited - reported >= PWAIT_PROGRESS_MS) {
			char msg[256];

			reported = waited;
			snprintf(msg, sizeof(msg), "still %s (%lds elapsed%s%s)", spec->what,
				 waited / 1000, status[0] ? ", status: " : "", status);
			ctx->progress(ctx->progress_arg, ctx->name, msg);
		}
	}
}

struct retry_poll {
	const char *service, *operation;
	json_t *input, **out;
	const char *const *codes;
	const char *const *msg_parts;   /* NULL: any message */
};

/* True if msg holds one of parts (NULL-terminated), or parts is NULL. */
static int msg_has(const char *msg, const char *const *parts)
{
	if (!parts)
		return 1;
	for (; *parts; parts++)
		if (strstr(msg, *parts))
			return 1;
	return 0;
}

static int retry_poll(const struct provider_ctx *ctx, void *arg, char *status, size_t status_len,
		      struct cairn_err *err)
{
	struct retry_poll *r = arg;
	json_t *res = NULL;

	if (pcall(ctx, r->service, r->operation, r->input, &res, err) == 0) {
		if (r->out)
			*r->out = res;
		else
			json_decref(res);
		return 1;
	}
	if (perr_in(err, r->codes) && msg_has(err->msg, r->msg_parts)) {
		snprintf(status, status_len, "%s", err->remote.code);
		return 0;
	}
	return -1;
}

int pcall_retry(const struct provider_ctx *ctx, const char *service, const char *operation,
		json_t *input, json_t **out, const char *const *codes, long timeout_ms,
		struct cairn_err *err)
{
	return pcall_retry_if(ctx, service, operation, input, out, codes, NULL, timeout_ms, err);
}

int pcall_retry_if(const struct provider_ctx *ctx, const char *service, const char *operation,
		   json_t *input, json_t **out, const char *const *codes,
		   const char *const *msg_parts, long timeout_ms, struct cairn_err *err)
{
	struct retry_poll r = {service, operation, input, out, codes, msg_parts};
	struct pwait_spec spec = {operation, 0, 0, timeout_ms};

	if (out)
		*out = NULL;
	return pwait_until(ctx, &spec, retry_poll, &r, err);
}

int pdelete(const struct provider_ctx *ctx, const char *service, const char *operation,
	    json_t *input, const char *const *busy, const char *const *gone, long timeout_ms,
	    struct cairn_err *err)
{
	int rc = pcall_retry(ctx, service, operation, input, NULL, busy, timeout_ms, err);

	if (rc != 0 && perr_in(err, gone)) {
		err_clear(err);
		rc = 0;
	}
	return rc;
}

struct gone_poll {
	const char *service, *operation;
	json_t *input;
	const char *const *gone;
};

static int gone_poll(const struct provider_ctx *ctx, void *arg, char *status, size_t status_len,
		     struct cairn_err *err)
{
	struct gone_poll *g = arg;
	json_t *res = NULL;

	if (pcall(ctx, g->service, g->operation, g->input, &res, err) == 0) {
		json_decref(res);
		snprintf(status, status_len, "still there");
		return 0;
	}
	if (!perr_in(err, g->gone))
		return -1;
	err_clear(err);
	return 1;
}

int pwait_gone(const struct provider_ctx *ctx, const char *what, const char *service,
	       const char *operation, json_t *input, const char *const *gone, long timeout_ms,
	       struct cairn_err *err)
{
	struct gone_poll g = {service, operation, input, gone};
	struct pwait_spec spec = {what, 0, 0, timeout_ms};

	return pwait_until(ctx, &spec, gone_poll, &g, err);
}

int pcreated_partial(json_t **out, const char *id, const char *key)
{
	json_decref(*out);
	*out = json_pack("{s:s}", "id", id);
	if (key)
		json_object_set_new(*out, key, json_string(id));
	return -1;
}

/* read(ctx, id, want, out, err); nothing found fails with code and
 * "OPERATION on NAME: WHAT 'ID' GONE". */
static int read_or_gone(const struct provider_ctx *ctx, pread_fn read, const char *operation,
			const char *what, const char *id, json_t *want, int code, const char *gone,
			json_t **out, struct cairn_err *err)
{
	*out = NULL;
	if (read(ctx, id, want, out, err) != 0)
		return -1;
	if (*out)
		return 0;
	err_set(err, code, "%s on %s: %s '%s' %s", operation, ctx->name, what, id, gone);
	return -1;
}

int pread_created(const struct provider_ctx *ctx, pread_fn read, const char *operation,
		  const char *what, const char *id, json_t *want, const char *key, json_t **out,
		  struct cairn_err *err)
{
	if (read_or_gone(ctx, read, operation, what, id, want, CAIRN_EAWS,
			 "vanished after creation", out, err) == 0)
		return 0;
	return pcreated_partial(out, id, key);
}

int pread_back(const struct provider_ctx *ctx, pread_fn read, const char *operation,
	       const char *what, const char *id, json_t *want, json_t **out,
	       struct cairn_err *err)
{
	return read_or_gone(ctx, read, operation, what, id, want, CAIRN_ENOTFOUND,
			    "not found after creation", out, err);
}

int pread_after(const struct provider_ctx *ctx, pread_fn read, const char *operation,
		const char *what, const char *id, json_t *want, json_t **out,
		struct cairn_err *err)
{
	return read_or_gone(ctx, read, operation, what, id, want, CAIRN_ENOTFOUND, "is gone",
			    out, err);
}

int pfind_by_name(const struct provider_ctx *ctx, json_t *attrs, const char *key,
		  pnamed_fn named, json_t **out, struct cairn_err *err)
{
	const char *name = pstr(attrs, key);
	json_t *tags = NULL;

	*out = NULL;
	if (!name)
		return 0;
	if (named(ctx, name, attrs, out, &tags, err) != 0) {
		json_decref(*out);
		*out = NULL;
		json_decref(tags);
		return -1;
	}
	if (*out && !ptags_owned_by(tags, "Key", "Value", ctx)) {
		json_decref(*out);
		*out = NULL;
	}
	json_decref(tags);
	return 0;
}

int pcall(const struct provider_ctx *ctx, const char *service, const char *operation,
	  json_t *input, json_t **out, struct cairn_err *err)
{
	if (aws_call(ctx->aws, service, operation, input, out, err) == 0)
		return 0;
	err_prefix(err, "%s on %s", operation, ctx->name);
	return -1;
}

int perr_is(const struct cairn_err *err, const char *code)
{
	size_t n = strlen(code);

	return err->code == CAIRN_EAWS && strncmp(err->remote.code, code, n) == 0 &&
	       (err->remote.code[n] == '\0' || err->remote.code[n] == '.');
}

int perr_in(const struct cairn_err *err, const char *const *codes)
{
	for (; codes && *codes; codes++)
		if (perr_is(err, *codes))
			return 1;
	return 0;
}

int pcall_void(const struct provider_ctx *ctx, const char *service, const char *operation,
	       json_t *input, struct cairn_err *err)
{
	json_t *res = NULL;
	int rc = pcall(ctx, service, operation, input, &res, err);

	json_decref(res);
	return rc;
}

int pcall_gone(const struct provider_ctx *ctx, const char *service, const char *operation,
	       json_t *input, const char *gone, struct cairn_err *err)
{
	int rc = pcall_void(ctx, service, operation, input, err);

	if (rc != 0 && perr_is(err, gone)) {
		err_clear(err);
		rc = 0;
	}
	return rc;
}

int pcall_found(const struct provider_ctx *ctx, const char *service, const char *operation,
		json_t *input, const char *const *gone, json_t **out, struct cairn_err *err)
{
	size_t i;

	if (pcall(ctx, service, operation, input, out, err) == 0)
		return 0;
	for (i = 0; gone[i]; i++)
		if (perr_is(err, gone[i])) {
			err_clear(err);
			return 0;
		}
	return -1;
}

void pouts_clear(json_t **outs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		json_decref(outs[i]);
		outs[i] = NULL;
	}
}

int pread_chunks(const struct provider_ctx *const *ctxs, const char *const *names, size_t n,
		 size_t max, pchunk_fn chunk, json_t *found, struct cairn_err *err)
{
	size_t from;

	for (from = 0; from < n; from += max)
		if (chunk(ctxs[from], names, from, from + max < n ? from + max : n, found, err) != 0)
			return -1;
	return 0;
}

int pchanged(json_t *changed, const char *name)
{
	return json_array_has_str(changed, name);
}

int pcmp_json_str(const void *a, const void *b)
{
	const char *x = json_string_value(*(json_t *const *)a);
	const char *y = json_string_value(*(json_t *const *)b);

	return strcmp(x ? x : "", y ? y : "");
}

json_t *porder_like(json_t *have, json_t *prior, int sort_new)
{
	json_t *out = json_array(), *e, **rest;
	size_t i, n = 0;

	json_array_foreach(prior, i, e)
		if (json_is_string(e) && json_array_has_str(have, json_string_value(e)) &&
		    !json_array_has_str(out, json_string_value(e)))
			json_array_append(out, e);
	rest = xcalloc(json_array_size(have) + 1, sizeof(*rest));
	json_array_foreach(have, i, e)
		if (json_is_string(e) && !json_array_has_str(out, json_string_value(e)))
			rest[n++] = e;
	if (sort_new)
		qsort(rest, n, sizeof(*rest), pcmp_json_str);
	for (i = 0; i < n; i++)
		json_array_append(out, rest[i]);
	free(rest);
	return out;
}

const char *pstr(json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

const char *pstr_or(json_t *v, const char *dflt)
{
	return json_is_string(v) ? json_string_value(v) : dflt;
}

json_t *pstr_json(json_t *v)
{
	return json_string(json_is_string(v) ? json_string_value(v) : "");
}

json_t *pdoc_json(const char *s)
{
	json_t *v = s && *s ? json_loads(s, 0, NULL) : NULL;

	return v ? v : json_null();
}

char *pdoc_text(json_t *v)
{
	if (!v || json_is_null(v))
		return NULL;
	if (json_is_string(v))
		return xstrdup(json_string_value(v));
	return json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
}

json_t *ptags_bulk_confirmed(json_t *list, json_t *prior)
{
	json_t *recorded = json_object_get(prior, "tags"), *seen;
	int same;

	if (!list)
		return NULL;
	seen = ptags_from_list(list, "Key", "Value");
	same = json_is_object(recorded) ? json_equal(seen, recorded) : json_object_size(seen) == 0;
	json_decref(seen);
	return same ? list : NULL;
}

json_t *porder_take(json_t *have, json_t *prior)
{
	json_t *o = porder_like(have, prior, 1);

	json_decref(have);
	return o;
}

json_t *pstr_list(json_t *items, const char *member)
{
	json_t *o = json_array(), *v;
	size_t i;

	json_array_foreach(items, i, v) {
		const char *s = member ? pstr(v, member) : json_string_value(v);

		if (s)
			json_array_append_new(o, json_string(s));
	}
	return o;
}
