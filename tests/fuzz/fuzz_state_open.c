/*
 * fuzz_state_open: a state file of arbitrary bytes. Opening must refuse
 * what is not a sound cairn state with an error, never crash; what opens is
 * read the way the commands read it (stacks, resources, outputs, journal,
 * history, lock, plan key) and then written once (a put and a lock cycle),
 * since apply does both on whatever it opened.
 */
#include <stdlib.h>
#include <jansson.h>

#include "fuzz.h"
#include "../../state/state.h"

static void read_stack(struct state *st, const char *stack)
{
	struct state_stack meta;
	struct state_resource *rs = NULL;
	unsigned char key[STATE_PLAN_KEY_LEN];
	struct cairn_err err;
	json_t *j = NULL;
	size_t n = 0, i;
	char info[512];
	int found;

	err_clear(&err);
	(void)state_stack_get(st, stack, &meta, &err);
	err_clear(&err);
	if (state_list(st, stack, &rs, &n, &err) == 0) {
		for (i = 0; i < n; i++)
			state_resource_free(&rs[i]);
		free(rs);
	}
	err_clear(&err);
	if (state_outputs_get(st, stack, &j, &err) == 0)
		json_decref(j);
	err_clear(&err);
	if (state_journal_pending(st, stack, &j, &err) == 0)
		json_decref(j);
	err_clear(&err);
	if (state_history(st, stack, 5, &j, &err) == 0)
		json_decref(j);
	err_clear(&err);
	(void)state_lock_info(st, stack, info, sizeof(info), &err);
	err_clear(&err);
	(void)state_plan_key(st, stack, 0, key, &found, &err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct state_view r = {"fuzz_r", "aws_vpc", "vpc-1", NULL, NULL, 0};
	struct cairn_err err;
	struct state *st;
	json_t *stacks = NULL, *s;
	char warn[512];
	size_t i;
	int took_over;

	err_clear(&err);
	st = state_open(fuzz_scratch(data, size, ".db"), 0, &err);
	if (!st) {
		fuzz_scratch_remove(".db");
		return 0;
	}
	err_clear(&err);
	if (state_stacks(st, &stacks, &err) == 0) {
		json_array_foreach(stacks, i, s) {
			if (json_is_string(s))
				read_stack(st, json_string_value(s));
		}
		json_decref(stacks);
	}
	read_stack(st, "web");
	r.attrs = json_pack("{s:s}", "id", "vpc-1");
	r.deps = json_array();
	err_clear(&err);
	if (state_lock(st, "web", "apply", 0, &took_over, warn, &err) == 0) {
		err_clear(&err);
		(void)state_put(st, "web", &r, &err);
		err_clear(&err);
		(void)state_unlock(st, "web", &err);
	}
	json_decref(r.attrs);
	json_decref(r.deps);
	state_close(st);
	fuzz_scratch_remove(".db");
	return 0;
}
