/*
 * fuzz: what the libFuzzer targets share. Each tests/fuzz/fuzz_TARGET.c
 * defines LLVMFuzzerTestOneInput over one parser of untrusted bytes; the
 * targets are built by `make fuzz` (clang, -fsanitize=fuzzer,address,
 * undefined) and replayed by `make fuzz-regress`.
 */
#ifndef CAIRN_FUZZ_H
#define CAIRN_FUZZ_H
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Writes data to a scratch file of this process whose name ends in suffix
 * (".yaml", ".json", ".db") and returns its path (static buffer, rewritten
 * by the next call). Aborts when the file cannot be written: a harness that
 * cannot write its input tests nothing.
 */
const char *fuzz_scratch(const uint8_t *data, size_t size, const char *suffix);

/* Removes the scratch file of suffix and its SQLite companions (-wal, -shm). */
void fuzz_scratch_remove(const char *suffix);

#endif
