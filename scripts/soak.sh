#!/bin/sh
# soak.sh: the switch's kill -9 test (tests/switch/test_crash.c) ROUNDS
# times, each with its own seed; stops at the first failure and prints the
# seed that replays it: PAYSWITCH_CRASH_SEED=<seed> build/test/tests/test_switch_crash
set -eu
cd "$(dirname "$0")/.."
rounds=${1:-20}
i=1
while [ "$i" -le "$rounds" ]; do
	seed=$(od -An -N8 -tu8 /dev/urandom | tr -d ' ')
	if ! PAYSWITCH_CRASH_SEED=$seed build/test/tests/test_switch_crash >build/test/soak.log 2>&1; then
		cat build/test/soak.log
		echo "soak: round $i failed; replay with PAYSWITCH_CRASH_SEED=$seed" >&2
		exit 1
	fi
	echo "soak: round $i/$rounds passed (seed $seed): $(grep approved build/test/soak.log)"
	i=$((i + 1))
done
