#!/bin/sh
# bench-js.sh: bench-iso8583 and the JavaScript library iso_8583 (npm) on
# the same 0200 purchase, one after the other on this machine, for the
# comparison in docs/performance.md. Needs node and npm; installs
# iso_8583@2.6.7 under build/js, never into the repository.
set -eu
cd "$(dirname "$0")/.."
command -v node >/dev/null && command -v npm >/dev/null || {
	echo "bench-js: node and npm are needed" >&2
	exit 2
}
mkdir -p build/js
[ -d build/js/node_modules/iso_8583 ] ||
	npm install --silent --no-audit --no-fund --prefix build/js iso_8583@2.6.7
echo "== payswitch (C), build/bin/bench-iso8583"
build/bin/bench-iso8583
echo "== iso_8583 2.6.7 (JavaScript, node $(node --version))"
ISO_8583_MODULE="$PWD/build/js/node_modules/iso_8583" node bench/js/bench_iso_8583.js
