#!/bin/sh
# Runs every unit test binary, prints each runner's summary, fails on any failure.
failed=0
for t in "$@"; do
	echo "== $t"
	if ! "$t"; then
		echo "FAILED: $t"
		failed=1
	fi
done
[ $failed -eq 0 ] && echo "unit tests: all passed" || echo "unit tests: FAILURES"
exit $failed
