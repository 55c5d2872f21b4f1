#!/bin/sh
# bench.sh: every benchmark that is built, one after another. Numbers only.
set -eu
cd "$(dirname "$0")/.."
for b in build/bin/bench-*; do
	[ -x "$b" ] || continue
	echo "== $b"
	"$b"
done
