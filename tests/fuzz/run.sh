#!/bin/sh
# run.sh TARGET SECONDS: a long fuzzing session of one target. New inputs go
# to build-fuzz/corpus/TARGET (not the tree: minimise there with -merge=1
# before adding any to tests/fuzz/corpus); crashes to build-fuzz/artifacts/.
# The timeout is 5 s on this shared machine (a loaded core stalls a run for
# a second now and then); every input reported slow is replayed alone, where
# a real hang is one that takes more than 1 s.
set -u
t=$1
secs=$2
dir=$(dirname "$0")
dict=
[ -f "$dir/dict/$t.dict" ] && dict="-dict=$dir/dict/$t.dict"
mkdir -p "build-fuzz/corpus/$t" build-fuzz/artifacts "$dir/corpus/$t"
# shellcheck disable=SC2086
exec build-fuzz/fuzz/fuzz_$t $dict -max_total_time="$secs" -timeout="${FUZZ_TIMEOUT:-5}" -report_slow_units=1 -rss_limit_mb=2048 \
	-artifact_prefix="build-fuzz/artifacts/$t-" -print_final_stats=1 \
	"build-fuzz/corpus/$t" "$dir/corpus/$t"
