/*
 * scratch: scratch files for the targets whose parser reads a path
 * (stack files, state files, saved plans). The file lives in /dev/shm when
 * it exists, so that a million inputs do not wear a disk.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "../../lib/util.h"

static char path_buf[256];

static const char *scratch_path(const char *suffix)
{
	const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";

	snprintf(path_buf, sizeof(path_buf), "%s/cairn-fuzz-%ld%s", dir, (long)getpid(), suffix);
	return path_buf;
}

const char *fuzz_scratch(const uint8_t *data, size_t size, const char *suffix)
{
	const char *path = scratch_path(suffix);
	FILE *f = fopen(path, "wb");

	if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0) {
		fprintf(stderr, "fuzz: cannot write '%s'\n", path);
		abort();
	}
	return path;
}

void fuzz_scratch_remove(const char *suffix)
{
	const char *path = scratch_path(suffix);
	char side[300];

	unlink(path);
	snprintf(side, sizeof(side), "%s-wal", path);
	unlink(side);
	snprintf(side, sizeof(side), "%s-shm", path);
	unlink(side);
	snprintf(side, sizeof(side), "%s-journal", path);
	unlink(side);
}
