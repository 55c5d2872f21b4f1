#!/usr/bin/env bash
# run_demo.sh DEMO BIN: runs scripts/demo.sh short with BIN's executables,
# as a terminal would (its own process group, SIGINT not ignored), and
# checks it:
#  - bad settings are refused with exit 2 and the setting's name;
#  - the demo runs every phase and says that every check held;
#  - while it stays (DEMO_STAY=1), a Ctrl-C (SIGINT to the whole group, as
#    a terminal sends it) stops it: exit 0, every process it started gone,
#    its working directory removed.
set -u
demo=$1
bin=$2
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
# From /proc, not ps (procps is not in a minimal Debian): the session id of
# a process, and the live processes (pid and command) of a session.
sid_of() { sed 's/.*) //' "/proc/$1/stat" 2> /dev/null | cut -d' ' -f4; }
in_session() {
	local f s st
	for f in /proc/[0-9]*/stat; do
		s=$(sed 's/.*) //' "$f" 2> /dev/null) || continue
		st=${s%% *}
		[ "$(echo "$s" | cut -d' ' -f4)" = "$1" ] && [ "$st" != Z ] || continue
		f=${f%/stat}
		echo "${f#/proc/} $(tr '\0' ' ' < "$f/cmdline" 2> /dev/null)"
	done
}

out=$(DEMO_SECONDS=abc DEMO_BIN=$bin bash "$demo" 2>&1)
rc=$?
[ $rc -eq 2 ] || fail "DEMO_SECONDS=abc: exit $rc, want 2"
case $out in *DEMO_SECONDS*) ;; *) fail "DEMO_SECONDS=abc: the error does not name it: $out" ;; esac

tmp=$(mktemp -d "${TMPDIR:-/tmp}/payswitch-demo-test-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
log=$tmp/demo.out
# A new session (so the group is the demo's alone) with SIGINT at its
# default: a background job of a non-interactive shell ignores it, and bash
# could then not trap it. perl is in every Debian (perl-base).
TMPDIR=$tmp DEMO_SECONDS=2 DEMO_STAY=1 DEMO_BIN=$bin \
	perl -e 'use POSIX; POSIX::setsid(); $SIG{INT} = "DEFAULT"; exec @ARGV or die "exec: $!"' \
	bash "$demo" > "$log" 2>&1 &
p=$!
up=0
for _ in $(seq 2400); do
	if grep -q '^== Still running' "$log"; then up=1; break; fi
	kill -0 $p 2> /dev/null || break
	sleep 0.1
done
if [ $up = 0 ]; then
	fail "the demo did not reach its staying phase"
	kill -TERM $p 2> /dev/null
fi
sleep 1
sid=$(sid_of $p)
if [ -n "$sid" ]; then
	# Its eight servers run: four banks, PBOC, two networks, the switch.
	procs=$(in_session "$sid")
	for want in banksim:4 pbocsim:1 netsim:2 switchd:1; do
		n=$(echo "$procs" | grep -c "/${want%:*} ")
		[ "$n" -eq "${want#*:}" ] || fail "$n ${want%:*} running while the demo stays, want ${want#*:}"
	done
	kill -INT -- -"$sid"
fi
rc=0
for _ in $(seq 1200); do kill -0 $p 2> /dev/null || break; sleep 0.1; done
if kill -0 $p 2> /dev/null; then
	fail "the demo did not stop within 120 s of SIGINT"
	kill -KILL -- -"$sid" 2> /dev/null
fi
wait $p
rc=$?
[ $rc -eq 0 ] || fail "exit $rc after Ctrl-C, want 0"
if [ -n "$sid" ]; then
	left=$(in_session "$sid")
	[ -z "$left" ] || { fail "processes left running:"; echo "$left"; kill -KILL -- -"$sid" 2> /dev/null; }
fi
for phase in "== Four banks" "== The central bank" "== Two networks" "== The switch" \
	"== A PSP sends payments" "== An acquirer sends card purchases" "== Cutover: window 1" \
	"== Load: PSP01 and PSP02" "== Cutover: window 2" "== Summary" \
	"the sum of all money in all ledgers is unchanged" "== Stopping" "every process exited 0" \
	"demo: every answer was the expected one, every window settled and reconciled, and the books agree"; do
	grep -qF -- "$phase" "$log" || fail "no \"$phase\" in the output"
done
if grep -q 'FAIL' "$log"; then fail "the demo printed FAIL lines:"; grep 'FAIL' "$log" | head -20; fi
kept=$(find "$tmp" -mindepth 1 -maxdepth 1 -name 'payswitch-demo-*' | head -1)
[ -z "$kept" ] || fail "its working directory was not removed: $kept"

if [ $fails -ne 0 ]; then
	echo "---- the demo's output"
	cat "$log"
	echo "$fails checks failed"
	exit 1
fi
echo "the demo ran, every check held, and a Ctrl-C stopped all of it cleanly"
