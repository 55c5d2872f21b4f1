#!/bin/sh
# deps.sh: install the Debian packages payswitch builds with, if any are missing.
# Does nothing when all are present. Installing needs root (or sudo).
set -eu

packages="build-essential cmake pkg-config clang libclang-rt-dev \
libuv1-dev libssl-dev libjansson-dev liblmdb-dev lmdb-utils libcmocka-dev curl"

missing=""
for p in $packages; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

echo "deps: installing$missing"
if [ "$(id -u)" -eq 0 ]; then
	sudo=""
elif command -v sudo >/dev/null 2>&1; then
	sudo="sudo"
else
	echo "deps: missing packages:$missing; run as root: apt-get install -y$missing" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# A fresh machine may have no package lists yet; update once, only if the
# first attempt cannot find a package.
# shellcheck disable=SC2086
$sudo apt-get install -y --no-install-recommends $missing ||
	{ $sudo apt-get update && $sudo apt-get install -y --no-install-recommends $missing; }
