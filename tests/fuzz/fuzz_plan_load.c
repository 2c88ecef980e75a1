/*
 * fuzz_plan_load: a saved plan file of arbitrary bytes. Loading must refuse
 * a malformed plan with an error; what loads is unsealed with a fixed key
 * (a wrong key or a forged seal must be an error) and rendered the two ways
 * a plan is shown (text and JSON).
 */
#include <stdio.h>
#include <string.h>
#include <jansson.h>

#include "fuzz.h"
#include "../../engine/plan.h"
#include "../../state/state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *devnull;
	unsigned char key[STATE_PLAN_KEY_LEN];
	struct plan_summary sum;
	struct cairn_err err;
	struct plan *p;

	if (!devnull)
		devnull = fopen("/dev/null", "w");
	memset(key, 0x5a, sizeof(key));
	err_clear(&err);
	p = plan_load(fuzz_scratch(data, size, ".plan"), &err);
	if (!p)
		return 0;
	/* The key is not the one the seeds were sealed with: unsealing must
	 * fail cleanly, and what loaded must render all the same. */
	err_clear(&err);
	(void)plan_unseal(p, key, &err);
	plan_summarize(p, &sum);
	(void)plan_has_changes(p);
	plan_print_text(p, devnull, 1);
	json_decref(plan_to_json(p));
	plan_free(p);
	return 0;
}
