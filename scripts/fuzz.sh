#!/bin/sh
# fuzz.sh: run every libFuzzer target in DIR for SECONDS each, starting from
# the seed corpus in tests/fuzz/corpus/<target>. New inputs go to a scratch
# corpus under build/, never into the repository; a crash fails the run and
# leaves its reproducer in build/fuzz/artifacts/.
set -eu
dir=$1
seconds=$2
top=$(cd "$(dirname "$0")/.." && pwd)
status=0
mkdir -p build/fuzz/artifacts
for target in "$dir"/*; do
	[ -x "$target" ] || continue
	name=$(basename "$target")
	seeds="$top/tests/fuzz/corpus/$name"
	work="build/fuzz/corpus/$name"
	mkdir -p "$work"
	dict=""
	[ -f "$top/tests/fuzz/$name.dict" ] && dict="-dict=$top/tests/fuzz/$name.dict"
	echo "fuzz: $name for ${seconds}s"
	# shellcheck disable=SC2086
	if ! "$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix=build/fuzz/artifacts/"$name"- \
		$dict "$work" "$seeds" >build/fuzz/"$name".log 2>&1; then
		echo "fuzz: $name FAILED; see build/fuzz/$name.log" >&2
		tail -40 build/fuzz/"$name".log >&2
		status=1
	else
		grep -E "stat::number_of_executed_units|cov:" build/fuzz/"$name".log | tail -2
	fi
done
exit $status
