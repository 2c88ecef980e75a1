/* fuzz_stack_yaml: stack_load + validation of arbitrary YAML. */
#include "stack_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_stack(data, size, ".yaml");
	return 0;
}
