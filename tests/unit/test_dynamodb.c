/*
 * test_dynamodb: what aws_dynamodb_table does where moto 5.2.1 cannot
 * show it, against a scripted local server: an encryption change is an
 * UpdateTable carrying only SSESpecification (member names of botocore's
 * dynamodb 2012-08-10 model) and waits while SSEDescription says UPDATING;
 * UpdateContinuousBackups is retried while DynamoDB answers
 * ContinuousBackupsUnavailableException (backups still being set up on a
 * new table); the read turns SSEDescription and the point-in-time
 * recovery status into the stack's attributes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "providers/registry.h"
#include "rest_server.h"

#define KEY "arn:aws:kms:us-east-1:123456789012:key/k-2"

/* DescribeTable of table t, its SSE status and key ("" for none). */
#define TABLE(status, key) \
	"{\"Table\":{\"TableName\":\"t\",\"TableArn\":\"arn:aws:dynamodb:us-east-1:" \
	"123456789012:table/t\",\"TableStatus\":\"ACTIVE\",\"KeySchema\":[{\"AttributeName\":" \
	"\"id\",\"KeyType\":\"HASH\"}],\"AttributeDefinitions\":[{\"AttributeName\":\"id\"," \
	"\"AttributeType\":\"S\"}],\"BillingModeSummary\":{\"BillingMode\":\"PAY_PER_REQUEST\"}," \
	"\"SSEDescription\":{\"Status\":\"" status "\",\"SSEType\":\"KMS\"," \
	"\"KMSMasterKeyArn\":\"" key "\"}}}"
#define TTL_OFF "{\"TimeToLiveDescription\":{\"TimeToLiveStatus\":\"DISABLED\"}}"
#define PITR(status) \
	"{\"ContinuousBackupsDescription\":{\"ContinuousBackupsStatus\":\"ENABLED\"," \
	"\"PointInTimeRecoveryDescription\":{\"PointInTimeRecoveryStatus\":\"" status "\"}}}"
#define NO_TAGS "{\"Tags\":[]}"

static json_t *table_attrs(const char *sse, const char *pitr)
{
	json_t *a = json_pack("{s:s,s:s,s:s,s:[{s:s,s:s}],s:[],s:[]}", "name", "t",
			      "billing_mode", "PAY_PER_REQUEST", "hash_key", "id", "attribute",
			      "name", "id", "type", "S", "global_secondary_index",
			      "local_secondary_index");

	json_object_set_new(a, "server_side_encryption", rs_json(sse));
	json_object_set_new(a, "point_in_time_recovery", rs_json(pitr));
	return a;
}

static void assert_body(struct rs_server *s, size_t i, const char *want)
{
	json_t *got = json_loads(s->bodies[i], 0, NULL), *w = rs_json(want);

	assert_non_null(got);
	if (!json_equal(got, w))
		fail_msg("request %zu body:\n%s\nwanted:\n%s", i, s->bodies[i], want);
	json_decref(got);
	json_decref(w);
}

/* Update table t from old to want (changed names what differs) against
 * answers, and stop s. old, want and changed are stolen; the new
 * attributes are returned (owned). */
static json_t *update_table(struct rs_server *s, const struct rs_answer *answers, json_t *old,
			    json_t *want, json_t *changed)
{
	struct provider_ctx ctx;
	struct cairn_err err;
	struct aws_client *c = rs_open(s, answers, &ctx, "st");
	json_t *out = NULL;

	err_clear(&err);
	assert_int_equal(provider_lookup("aws_dynamodb_table")->update(&ctx, "t", old, want,
								       changed, &out, &err), 0);
	rs_close(s, c);
	json_decref(old);
	json_decref(want);
	json_decref(changed);
	return out;
}

static void test_encryption_change_alone_and_waited_for(void **state)
{
	static const struct rs_answer answers[] = {
		{200, NULL, TABLE("UPDATING", "arn:aws:kms:us-east-1:123456789012:key/k-1")},
		{200, NULL, TABLE("UPDATING", "arn:aws:kms:us-east-1:123456789012:key/k-1")},
		{200, NULL, TABLE("ENABLED", KEY)},
		{200, NULL, TABLE("ENABLED", KEY)},
		{200, NULL, TTL_OFF},
		{200, NULL, PITR("DISABLED")},
		{200, NULL, NO_TAGS},
		{0, NULL, NULL}};
	json_t *old = table_attrs("{\"enabled\":true,\"kms_key_arn\":"
				  "\"arn:aws:kms:us-east-1:123456789012:key/k-1\"}",
				  "{\"enabled\":false}");
	json_t *want = table_attrs("{\"enabled\":true,\"kms_key_arn\":\"" KEY "\"}",
				   "{\"enabled\":false}");
	json_t *changed = json_pack("[s]", "server_side_encryption"), *out = NULL, *sse;
	struct rs_server s;

	(void)state;
	out = update_table(&s, answers, old, want, changed);
	/* UpdateTable, two polls (UPDATING, then ENABLED), then the read */
	assert_int_equal(s.served, 7);
	assert_body(&s, 0, "{\"TableName\":\"t\",\"SSESpecification\":{\"Enabled\":true,"
		    "\"SSEType\":\"KMS\",\"KMSMasterKeyId\":\"" KEY "\"}}");
	assert_body(&s, 1, "{\"TableName\":\"t\"}");
	assert_body(&s, 5, "{\"TableName\":\"t\"}");
	sse = json_object_get(out, "server_side_encryption");
	assert_true(json_is_true(json_object_get(sse, "enabled")));
	assert_string_equal(json_string_value(json_object_get(sse, "kms_key_arn")), KEY);
	assert_false(json_is_true(json_object_get(json_object_get(out, "point_in_time_recovery"),
						  "enabled")));
	json_decref(out);
}

static void test_encryption_off_is_the_owned_key(void **state)
{
	static const struct rs_answer answers[] = {
		{200, NULL, "{}"},
		{200, NULL, TABLE("DISABLED", "")},
		{200, NULL, TABLE("DISABLED", "")},
		{200, NULL, TTL_OFF},
		{200, NULL, PITR("DISABLED")},
		{200, NULL, NO_TAGS},
		{0, NULL, NULL}};
	json_t *old = table_attrs("{\"enabled\":true}", "{\"enabled\":false}");
	json_t *want = table_attrs("{\"enabled\":false}", "{\"enabled\":false}");
	json_t *changed = json_pack("[s]", "server_side_encryption"), *out = NULL;
	json_t *off = rs_json("{\"enabled\":false}");
	struct rs_server s;

	(void)state;
	out = update_table(&s, answers, old, want, changed);
	assert_body(&s, 0, "{\"TableName\":\"t\",\"SSESpecification\":{\"Enabled\":false}}");
	assert_true(json_equal(json_object_get(out, "server_side_encryption"), off));
	json_decref(off);
	json_decref(out);
}

static void test_backups_retried_while_unavailable(void **state)
{
	static const struct rs_answer answers[] = {
		{400, NULL, "{\"__type\":\"com.amazonaws.dynamodb.v20120810#"
			    "ContinuousBackupsUnavailableException\",\"message\":\"Backups are being "
			    "enabled for the table: t. Please retry later\"}"},
		{200, NULL, PITR("ENABLED")},
		{200, NULL, TABLE("ENABLED", KEY)},
		{200, NULL, TTL_OFF},
		{200, NULL, PITR("ENABLED")},
		{200, NULL, NO_TAGS},
		{0, NULL, NULL}};
	json_t *old = table_attrs("{\"enabled\":true}", "{\"enabled\":false}");
	json_t *want = table_attrs("{\"enabled\":true}", "{\"enabled\":true}");
	json_t *changed = json_pack("[s]", "point_in_time_recovery"), *out = NULL;
	struct rs_server s;

	(void)state;
	out = update_table(&s, answers, old, want, changed);
	assert_int_equal(s.served, 6);
	assert_body(&s, 0, "{\"TableName\":\"t\",\"PointInTimeRecoverySpecification\":"
		    "{\"PointInTimeRecoveryEnabled\":true}}");
	assert_body(&s, 1, "{\"TableName\":\"t\",\"PointInTimeRecoverySpecification\":"
		    "{\"PointInTimeRecoveryEnabled\":true}}");
	assert_true(json_is_true(json_object_get(json_object_get(out, "point_in_time_recovery"),
						 "enabled")));
	json_decref(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encryption_change_alone_and_waited_for),
		cmocka_unit_test(test_encryption_off_is_the_owned_key),
		cmocka_unit_test(test_backups_retried_while_unavailable),
	};

	return cmocka_run_group_tests(tests, 0, 0);
}
