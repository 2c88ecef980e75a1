#!/bin/sh
# run.sh TARGET SECONDS: a long fuzzing session of one target. New inputs go
# to build-fuzz/corpus/TARGET (not the tree: minimise there with -merge=1
# before adding any to tests/fuzz/corpus); crashes to build-fuzz/artifacts/.
set -u
t=$1
secs=$2
dir=$(dirname "$0")
dict=
[ -f "$dir/dict/$t.dict" ] && dict="-dict=$dir/dict/$t.dict"
mkdir -p "build-fuzz/corpus/$t" build-fuzz/artifacts "$dir/corpus/$t"
# shellcheck disable=SC2086
exec build-fuzz/fuzz/fuzz_$t $dict -max_total_time="$secs" -timeout=1 -rss_limit_mb=2048 \
	-artifact_prefix="build-fuzz/artifacts/$t-" -print_final_stats=1 \
	"build-fuzz/corpus/$t" "$dir/corpus/$t"
