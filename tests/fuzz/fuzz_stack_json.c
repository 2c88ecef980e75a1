/* fuzz_stack_json: stack_load + validation of arbitrary JSON. */
#include "stack_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_stack(data, size, ".json");
	return 0;
}
