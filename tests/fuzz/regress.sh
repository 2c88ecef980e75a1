#!/bin/sh
# regress.sh SECONDS TARGET...: for each fuzz target, replays every file of
# tests/fuzz/corpus/TARGET (libFuzzer runs the whole corpus first) and then
# fuzzes for SECONDS from it, writing new inputs to a scratch directory so
# the tree's corpus stays small. Any crash, leak, sanitizer report or input
# slower than FUZZ_TIMEOUT seconds fails the run; the input is kept in
# build-fuzz/artifacts/.
#
# The fuzzing part is reproducible: a fixed seed (FUZZ_SEED, default 1) and
# at most FUZZ_RUNS executions (default 20000), so `make test` on another
# machine runs the same inputs (or, if slower and cut by SECONDS, a prefix
# of them) and never fails on a new random find. Exploring is `make
# fuzz-run`'s job, with a random seed and no run limit.
set -u
secs=$1
shift
dir=$(dirname "$0")
timeout=${FUZZ_TIMEOUT:-10}
seed=${FUZZ_SEED:-1}
runs=${FUZZ_RUNS:-20000}
mkdir -p build-fuzz/artifacts
fail=0
for t in "$@"; do
	work=$(mktemp -d)
	dict=
	[ -f "$dir/dict/$t.dict" ] && dict="-dict=$dir/dict/$t.dict"
	mkdir -p "$dir/corpus/$t"
	log=build-fuzz/artifacts/$t.log
	# shellcheck disable=SC2086
	if build-fuzz/fuzz/fuzz_$t $dict -max_total_time="$secs" -seed="$seed" -runs="$runs" -timeout="$timeout" \
		-rss_limit_mb=2048 -artifact_prefix="build-fuzz/artifacts/$t-" -print_final_stats=1 \
		"$work" "$dir/corpus/$t" >"$log" 2>&1; then
		execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
		files=$(ls "$dir/corpus/$t" | wc -l)
		printf 'fuzz %-12s ok: %s corpus files replayed, %s executions (seed %s, at most %s runs or %ss)\n' \
			"$t" "$files" "$execs" "$seed" "$runs" "$secs"
	else
		printf 'fuzz %-12s FAILED (see %s)\n' "$t" "$log"
		grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error)' "$log" | head -5
		fail=1
	fi
	rm -rf "$work"
done
exit $fail
