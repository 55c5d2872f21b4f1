#!/usr/bin/env bash
# demo.sh: the main job (`make demo`): the whole payment chain on loopback.
#
# Starts four simulated banks (banksim), the central bank (pbocsim), the
# UnionPay and NetClear networks (netsim: UnionPay in front of bank C,
# NetClear in front of bank D) and the switch (switchd) with two PSP
# listeners and an acquirer's, loads the routes with `switchctl routes
# import`, and then:
#
#  1. scripted requests, each answer checked against the outcome written
#     beside its request: the response code, what it did to every bank's
#     book (each bank's ledger, read after every request), a duplicate's
#     txn, a reversed debit, the two legs of a pay (direct, and through
#     UnionPay), an agreement payment into a PSP's reserve through
#     NetClear, payouts out of it, refunds, acquirer card purchases; where
#     the money went; then cutover, settlement and reconciliation of that
#     window;
#  2. load: two pspsims at once (PSP01 and PSP02) for DEMO_SECONDS, a mix
#     of pays (a few payers with no money, a few accounts no bank holds),
#     refunds, duplicates, queries and echoes, and their reports
#     (throughput, latency percentiles, outcomes by code, every request
#     answered exactly once);
#  3. cutover, settlement at PBOC and reconciliation of the load's window;
#  4. a summary: per bank its net positions and its reserve at PBOC before
#     and after, the PSPs' reserves, the networks' fee income, and the
#     conservation of money across every ledger: for each member, the
#     reserve change is its settled positions; for each bank, its
#     customers' change is its settled position less its net fee income
#     (from the networks' clearing files); and all of it sums to zero;
#  5. stops everything (SIGTERM: each drains and exits 0) and checks every
#     ledger (banksim --check-ledger, pbocsim --check-ledger).
#
# A check that does not hold prints a FAIL line; the demo goes on so that
# everything is shown, and exits 1 once everything is stopped. A step the
# demo cannot go past (a process that does not start, a window that never
# settles) stops it at once, with the logs kept.
#
# Environment (the Makefile passes its variables of the same names):
#   DEMO_SECONDS=N   length of the load phase, seconds (default 20)
#   DEMO_RATE=N      each PSP's rate, requests a second (default 0: flat out)
#   DEMO_KEEP=1      keep the working directory (logs, stores, ledgers);
#                    PAYSWITCH_DEMO_KEEP=1 is the same; a failed demo keeps it
#   DEMO_STAY=1      after the summary, keep everything running, say how to
#                    talk to it, and stop cleanly on Ctrl-C
#   DEMO_BIN=DIR     the executables (default build/bin; tests give their
#                    build's own)
#
# Every port is picked by the kernel (port 0 and ready files), on
# 127.0.0.1 only; nothing is left running on exit, on failure or on Ctrl-C.
set -eu
here=$(pwd)
cd "$(dirname "$0")/.."
case ${DEMO_BIN:-} in
'') bin=$(pwd)/build/bin ;;
/*) bin=$DEMO_BIN ;;
*) bin=$here/$DEMO_BIN ;;
esac
seconds=${DEMO_SECONDS:-20}
rate=${DEMO_RATE:-0}
keep=${DEMO_KEEP:-${PAYSWITCH_DEMO_KEEP:-0}}
stay=${DEMO_STAY:-0}
case $seconds in
'' | *[!0-9]* | 0 | 0*) echo "demo: DEMO_SECONDS must be a whole number of seconds, 1 or more, not \"$seconds\"" >&2; exit 2 ;;
esac
case $rate in
'' | *[!0-9]*) echo "demo: DEMO_RATE must be a whole number of requests a second (0: flat out), not \"$rate\"" >&2; exit 2 ;;
esac
for tool in banksim pbocsim netsim switchd switchctl pspsim iso8583 ledger; do
	[ -x "$bin/$tool" ] || { echo "demo: no $bin/$tool: build first (make)" >&2; exit 2; }
done
work=$(mktemp -d "${TMPDIR:-/tmp}/payswitch-demo-XXXXXX")
: > "$work/failures"
: > "$work/flows"

# ---- processes -----------------------------------------------------------------
# pid[NAME] for each process the demo started. They stop in stop_order:
# the load first, then the switch (it drains what is in flight), the
# networks (their legs go to the banks), the banks and the central bank.

declare -A pid=()
stop_order="load_psp01 load_psp02 switchd cup nc bank_a bank_b bank_c bank_d pboc"

# start NAME LOG COMMAND...: runs COMMAND in the background, its output in LOG.
start() {
	local name=$1 log=$2
	shift 2
	"$@" > "$log" 2>&1 &
	pid[$name]=$!
}

# alive PID: the process runs (an exited child that is not yet waited for
# is a zombie, which kill -0 would still find).
alive() {
	local state
	state=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1) || return 1
	[ -n "$state" ] && [ "$state" != Z ]
}

# stop NAME: SIGTERM, then up to 30 s to exit (SIGKILL after that); its
# exit code in $stopped_rc (0 for a process not running).
stop() {
	local p=${pid[$1]:-} i=0
	stopped_rc=0
	[ -n "$p" ] || return 0
	kill -TERM "$p" 2> /dev/null || true
	while alive "$p" && [ $i -lt 300 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	if alive "$p"; then
		echo "demo: $1 (pid $p) did not exit within 30 s of SIGTERM: SIGKILL" >&2
		kill -KILL "$p" 2> /dev/null || true
	fi
	wait "$p" 2> /dev/null || stopped_rc=$?
	unset "pid[$1]"
}

on_exit() {
	local rc=$?
	trap - EXIT INT TERM
	for name in $stop_order; do stop "$name"; done
	if [ "$keep" = 1 ] || [ "$rc" -ne 0 ]; then
		echo "demo: files kept in $work"
	else
		rm -rf "$work"
	fi
	exit "$rc"
}
trap on_exit EXIT
trap 'echo; echo "demo: interrupted: stopping everything"; exit 130' INT TERM

# ---- output and checks ---------------------------------------------------------

section() { printf '\n== %s\n' "$*"; }

# indent: the lines of a tool's output, under a section.
indent() { sed 's/^/  /; s/^ *$//'; }

die() {
	echo "demo: $*" >&2
	echo "demo: FAILED; logs are in $work (kept)" >&2
	keep=1
	exit 1
}

# fail WHAT EXPECTED GOT: a check that did not hold. The demo goes on, so
# that everything is shown, and exits 1 at the end. The failures are kept
# in a file, so that checks may run in a subshell.
fail() {
	printf '  FAIL %s: expected %s, got %s\n' "$1" "$2" "$3"
	printf 'FAIL %s: expected %s, got %s\n' "$1" "$2" "$3" >> "$work/failures"
}

# failures: how many checks have not held so far.
failures() { wc -l < "$work/failures" | tr -d ' '; }

# expect WHAT EXPECTED GOT: fail unless the two are equal.
expect() { [ "$2" = "$3" ] || fail "$1" "$2" "${3:-nothing}"; }

# wait_ready NAME FILE: the ready file process NAME writes once it listens.
wait_ready() {
	local i=0
	while [ ! -s "$2" ]; do
		if ! alive "${pid[$1]}"; then
			tail -n 5 "$work/$1.log" >&2 || true
			die "$1 exited before it listened (log: $work/$1.log)"
		fi
		i=$((i + 1))
		[ $i -le 150 ] || die "$1 not listening after 15 s (no $2; log: $work/$1.log)"
		sleep 0.1
	done
}

# port FILE KEY: a port number from a ready file.
port() { sed -n "s/.*\"$2\":\([0-9]*\).*/\1/p" "$1"; }

# jget KEY JSON: the first value of KEY in a JSON line, unquoted (enough
# for the flat answers of pspsim, iso8583 and ledger; no jq needed).
jget() {
	printf '%s\n' "$2" | grep -oE "\"$1\":(\"[^\"]*\"|[^,}]*)" | head -n 1 |
		sed -E 's/^"[^"]*"://; s/^"(.*)"$/\1/'
}

# jobj KEY JSON: the object value of KEY (one without objects inside).
jobj() { printf '%s\n' "$2" | grep -oE "\"$1\":\{[^}]*\}" | head -n 1; }

# yuan FEN: 12850 -> 128.50 (sign kept; shell arithmetic, no floats).
yuan() {
	local f=$1 sign=""
	[ "$f" -ge 0 ] || { sign="-"; f=$((-f)); }
	printf '%s%d.%02d' "$sign" $((f / 100)) $((f % 100))
}

# signed FEN: yuan with a "+" on what is not negative.
signed() { if [ "$1" -ge 0 ]; then printf '+%s' "$(yuan "$1")"; else yuan "$1"; fi; }

# sum: the sum of the integers on standard input, one a line, in shell
# arithmetic (64-bit integers: money is never a floating-point number, and
# awk's are doubles).
sum() {
	local s=0 x
	while read -r x; do s=$((s + x)); done
	echo "$s"
}

# ms MICROSECONDS: 12345 -> 12.3 (display only).
ms() { awk -v u="$1" 'BEGIN { printf "%.1f", u / 1000 }'; }

# ---- the chain's members ------------------------------------------------------------

banks="bank_a bank_b bank_c bank_d"
# name:institution:prefix:how the switch reaches it
bank_table="bank_a:01020000:622202:direct bank_b:01030000:621700:direct
bank_c:01040000:622848:UnionPay bank_d:01050000:621226:NetClear"
inst_of() { echo "$bank_table" | tr ' ' '\n' | awk -F: -v b="$1" '$1 == b { print $2 }'; }
# Every member of PBOC, "ID NAME" (the PSPs by their participant).
members="01020000 bank_a
01030000 bank_b
01040000 bank_c
01050000 bank_d
48110001 PSP01
48110002 PSP02
48020000 acquirer
00010000 UnionPay
00020000 NetClear
99990000 switch"
name_of() { echo "$members" | awk -v m="$1" '$1 == m { print $2 }'; }
# The fees netsim charges (its defaults, given explicitly): the routes that
# go through a network carry the same schedule, so that the switch books
# what the network clears (docs/clearing.md, Fees).
fee_args="--issuer-fee-ppm 3500 --issuer-fee-cap 1300 --network-fee-ppm 325 --network-fee-cap 325"
fee_json='"issuer_fee_ppm": 3500, "issuer_fee_cap": 1300, "network_fee_ppm": 325, "network_fee_cap": 325'
today=$(date -u +%Y%m%d)

# ---- the books -------------------------------------------------------------
# A snapshot is "BANK ACCOUNT FEN" per customer account, read from each
# bank's own ledger (banksim --dump-balances; LMDB lets it read while the
# bank runs). $work/expected is the same, moved by each request's expected
# effect.

snapshot() {
	local bank
	for bank in $banks; do
		"$bin/banksim" --ledger "$work/$bank/ledger" --dump-balances |
			sed -n "s/.*\"kind\":\"customer\",\"account\":\"\([0-9]*\)\".*\"posted\":\(-*[0-9]*\).*/$bank \1 \2/p"
	done
}

# scripted FILE: the lines of a snapshot for the scripted requests' accounts
# (the load's have a 5 or 6 after the bank's six-digit prefix).
scripted() { awk 'substr($2, 7, 1) == "0"' "$1"; }

# balance_of ACCOUNT FILE [bank]: the account's fen in a snapshot (its
# bank with "bank").
balance_of() { awk -v a="$1" -v w="${3:-}" '$2 == a { print w == "bank" ? $1 : $3 }' "$2"; }

# total BANK FILE: the sum of the bank's customer accounts in a snapshot.
total() { awk -v b="$1" '$1 == b { print $3 }' "$2" | sum; }

# Parties outside the banks' books: the acquirer 48020000, paid for its card
# purchases at settlement, and PSP01's reserve at PBOC (48110001), which
# agreement payments through NetClear pay into and payouts come out of.
outside="acquirer psp01"
is_outside() { case " $outside " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

# bank_of ACCOUNT: the bank that holds the account, or the outside party.
bank_of() {
	if is_outside "$1"; then echo "$1"; else balance_of "$1" "$work/expected" bank; fi
}

# move FEN FROM TO: the expected effect of an approved request. FROM or TO
# may be a party outside the books. Money that crosses banks is noted in
# $work/flows, "FROM_BANK TO_BANK FEN REQUEST" ($request: psp and iso set it).
move() {
	local from to
	from=$(bank_of "$2")
	to=$(bank_of "$3")
	[ -n "$from" ] || die "the script moves money from $2, not an account of the demo"
	[ -n "$to" ] || die "the script moves money to $3, not an account of the demo"
	awk -v f="$1" -v from="$2" -v to="$3" \
		'{ if ($2 == from) $3 -= f; if ($2 == to) $3 += f; print }' \
		"$work/expected" > "$work/expected.new"
	mv "$work/expected.new" "$work/expected"
	[ "$from" = "$to" ] || echo "$from $to $1 $request" >> "$work/flows"
}

# check_books WHAT: every customer balance of every bank is what the
# requests so far should have left. A reversal completes a moment after its
# answer, so this waits up to 5 s for the books to agree before it fails.
check_books() {
	local i=0 account want got
	while snapshot > "$work/actual" && ! cmp -s "$work/expected" "$work/actual"; do
		i=$((i + 1))
		[ $i -le 100 ] || break
		sleep 0.05
	done
	cmp -s "$work/expected" "$work/actual" && return 0
	awk 'NR == FNR { want[$2] = $3; next }
	     { got[$2] = $3 }
	     END { for (a in want) if (!(a in got) || got[a] != want[a])
			   print a, want[a], (a in got) ? got[a] : "none"
		   for (a in got) if (!(a in want)) print a, "none", got[a] }' \
		"$work/expected" "$work/actual" > "$work/differences"
	while read -r account want got; do
		[ "$want" = none ] || want=$(yuan "$want")
		[ "$got" = none ] || got=$(yuan "$got")
		fail "$1: balance of $account" "$want" "$got"
	done < "$work/differences"
	cp "$work/actual" "$work/expected" # later checks start from what is
}

# ---- requests ----------------------------------------------------------------

# show ID WHAT WANT GOT DETAIL CHECKS: one request's line, the expected
# code beside the one it got, ok if every check of it held (CHECKS, the
# FAIL lines of those that did not, follow).
show() {
	local verdict=ok
	[ -z "$6" ] || verdict=FAIL
	printf '  %-10s %-58s want %-3s got %-3s %-4s %s\n' "$1" "$2" "$3" "$4" "$verdict" "$5"
	[ -z "$6" ] || printf '%s\n' "$6"
}

# psp ID WANT EFFECT WHAT REQUEST: sends one PSP01 request on its own
# connection (after the hello the switch requires first), prints its answer
# beside the expected code WANT, and checks the code and the books. EFFECT
# is what the request should do to the books: "-" nothing, else
# "FEN FROM TO". The answer is left in $answer.
psp() {
	local hello top code status txn state detail reason checks
	printf '%s\n%s\n' '{"op":"hello","participant":"PSP01"}' "$5" |
		"$bin/pspsim" --json --connect "127.0.0.1:$psp1" > "$work/psp.answers" ||
		die "pspsim failed on $1"
	hello=$(sed -n 1p "$work/psp.answers")
	answer=$(sed -n 2p "$work/psp.answers")
	# A query's answer holds the target's answer: leave it out here.
	top=$(printf '%s\n' "$answer" | sed 's/,"answer":{[^}]*}//')
	code=$(jget code "$top")
	status=$(jget status "$top")
	txn=$(jget txn "$top")
	state=$(jget state "$top")
	detail="$status${txn:+ txn $txn}${state:+, $state}"
	[ "$(jget reserve "$top")" != true ] || detail="$detail, reserve payment"
	reason=$(jget reason "$top")
	[ -z "$reason" ] || detail="$detail: $reason"
	request=$1
	# shellcheck disable=SC2086 # EFFECT is three words
	[ "$3" = - ] || move $3
	checks=$(
		expect "$1: hello" ok "$(jget status "$hello")"
		[ "$code" = "$2" ] || fail "$1 ($4)" "code $2" "code ${code:-none} ($answer)"
		check_books "$1"
	) || true
	show "$1" "$4" "$2" "$code" "$detail" "$checks"
}

# iso ID WANT EFFECT WHAT MESSAGE: the same for one acquirer message
# (ISO 8583, iso8583 send, on its own connection); WANT is field 39.
iso() {
	local code detail auth rrn checks
	printf '%s\n' "$5" |
		"$bin/iso8583" send --connect "127.0.0.1:$acq" --dialect ascii \
			> "$work/acq.answer" || die "iso8583 send failed on $1"
	answer=$(cat "$work/acq.answer")
	code=$(jget 39 "$answer")
	detail="$(jget mti "$answer")"
	auth=$(jget 38 "$answer")
	rrn=$(jget 37 "$answer")
	detail="$detail${auth:+ auth $auth}${rrn:+ rrn $rrn}"
	request=$1
	# shellcheck disable=SC2086 # EFFECT is three words
	[ "$3" = - ] || move $3
	checks=$(
		[ "$code" = "$2" ] || fail "$1 ($4)" "39=$2" "39=${code:-none} ($answer)"
		check_books "$1"
	) || true
	show "$1" "$4" "$2" "$code" "$detail" "$checks"
}

# ---- the ledger's own records --------------------------------------------------

# newest BANK ACCOUNT N: the account's Nth newest transfer, a JSON line.
newest() {
	"$bin/ledger" --json -d "$work/$1/ledger" history "1$2" --limit "$3" | sed -n "$3p"
}

# posting BANK TRANSFER: "128.50 from 6222020000000001 to clearing (code 10)".
posting() {
	local from to
	from=$(jget debit_account_id "$2")
	to=$(jget credit_account_id "$2")
	[ "$from" != 1 ] || from="$1's clearing account"
	[ "$to" != 1 ] || to="$1's clearing account"
	printf '%s from %s to %s (code %s)' "$(yuan "$(jget amount "$2")")" \
		"${from#1}" "${to#1}" "$(jget code "$2")"
}

# leg_key BANK KIND TRANSFER_ID: the request key of the 0200 that made the
# transfer (the switch's, or a network's for a bank behind one), from the
# bank's log of its answers (the transfer's id is the ledger id of that
# key: docs/banksim.md, The money model).
leg_key() {
	local key
	sed -n "s/.*\"event\":\"answer\".*\"kind\":\"$2\".*\"key\":\"\([^\"]*\)\".*/\1/p" \
		"$work/$1.log" | while read -r key; do
		[ "$("$bin/ledger" id "$key")" != "$3" ] || echo "$key"
	done | head -n 1
}

# sender BANK: who sends that bank its legs.
sender() {
	case $1 in
	bank_c) echo "UnionPay's 0200" ;;
	bank_d) echo "NetClear's 0200" ;;
	*) echo "the switch's 0200" ;;
	esac
}

# legs ID PAYER_BANK PAYER PAYEE_BANK PAYEE FEN: the two postings of an
# approved payment, as the two banks' ledgers hold them (the newest
# transfer of each party), with the 0200 that made each: a debit leg (code
# 10, payer to clearing) at the payer's bank, a credit leg (code 26,
# clearing to payee) at the payee's.
legs() {
	local debit credit dkey ckey
	debit=$(newest "$2" "$3" 1)
	credit=$(newest "$4" "$5" 1)
	expect "$1 debit leg" "$(yuan "$6") from $3 to $2's clearing account (code 10)" \
		"$(posting "$2" "$debit")"
	expect "$1 credit leg" "$(yuan "$6") from $4's clearing account to $5 (code 26)" \
		"$(posting "$4" "$credit")"
	dkey=$(leg_key "$2" purchase "$(jget id "$debit")")
	ckey=$(leg_key "$4" credit "$(jget id "$credit")")
	[ -n "$dkey" ] || fail "$1 debit leg" "a 0200 in $2's log" "none"
	[ -n "$ckey" ] || fail "$1 credit leg" "a 0200 in $4's log" "none"
	echo "             its two legs, as the banks' ledgers posted them (and the 0200 that"
	echo "             made each, by its key: field 32, STAN, field 7):"
	echo "               debit  at $2: $(posting "$2" "$debit"), $(sender "$2") ${dkey:-?}"
	echo "               credit at $4: $(posting "$4" "$credit"), $(sender "$4") ${ckey:-?}"
}

# one_leg ID BANK ACCOUNT FEN CODE KIND: a payment with one leg only (to or
# from the PSP's reserve): the account's newest transfer, of that code, and
# the 0200 that made it.
one_leg() {
	local t key want
	t=$(newest "$2" "$3" 1)
	if [ "$5" = 10 ]; then
		want="$(yuan "$4") from $3 to $2's clearing account (code 10)"
	else
		want="$(yuan "$4") from $2's clearing account to $3 (code $5)"
	fi
	expect "$1 leg" "$want" "$(posting "$2" "$t")"
	key=$(leg_key "$2" "$6" "$(jget id "$t")")
	[ -n "$key" ] || fail "$1 leg" "a 0200 in $2's log" "none"
	echo "             one leg, the reserve at PBOC on the other side: at $2: $(posting "$2" "$t"),"
	echo "               $(sender "$2") ${key:-?}"
}

# reversed ID PAYER FEN BEFORE: the payer was debited FEN and given it back
# (the switch's 0400, a code 40 transfer naming the debit), and its balance
# is BEFORE again.
reversed() {
	local held back debit back_fen
	held=$(failures)
	back=$(newest bank_a "$2" 1)
	debit=$(newest bank_a "$2" 2)
	expect "$1 debit" "$(yuan "$3") from $2 to bank_a's clearing account (code 10)" \
		"$(posting bank_a "$debit")"
	expect "$1 reversal" "$(yuan "$3") from bank_a's clearing account to $2 (code 40)" \
		"$(posting bank_a "$back")"
	expect "$1 reversal: the transfer it reverses" "$(jget id "$debit")" \
		"$(jget user_data_128 "$back")"
	back_fen=$(balance_of "$2" "$work/actual")
	expect "$1: $2 back to its balance" "$4" "$back_fen"
	[ "$(failures)" = "$held" ] || return 0
	echo "             debit reversed: $(posting bank_a "$debit"),"
	echo "             given back by the switch's 0400: $(posting bank_a "$back");"
	echo "             $2 is back at $(yuan "$back_fen")"
}

# ---- the switch, the central bank, the networks ----------------------------------

sc() { "$bin/switchctl" --control "127.0.0.1:$control" "$@"; }

# reserves: "MEMBER FEN" for every reserve at PBOC, read from its ledger.
reserves() {
	"$bin/pbocsim" --ledger "$work/pboc" --dump-balances |
		sed -n 's/.*"member":"\([^"]*\)".*"balance":\(-*[0-9]*\).*/\1 \2/p'
}

# reserve MEMBER FILE: the member's reserve in a reserves file.
reserve() { awk -v m="$1" '$1 == m { print $2 }' "$2"; }

# quiet: nothing in flight in the switch and nothing left to reverse, so
# that a cutover finds every leg answered (at most 30 s).
quiet() {
	local i=0 st
	while :; do
		st=$(sc --json status)
		[ "$(jget inflight "$st") $(jget saf_entries "$st")" != "0 0" ] || return 0
		i=$((i + 1))
		[ $i -le 300 ] || die "the switch still has requests in flight or reversals queued after 30 s: $st"
		sleep 0.1
	done
}

# settled N: waits for window N to be settled (every batch of it posted at
# PBOC: the switch's and each network's), at most 60 s.
settled() {
	local i=0 w state
	while :; do
		w=$(sc --json window "$1")
		state=$(jget state "$w")
		[ "$state" != settled ] || return 0
		if [ "$state" = failed ] || [ $i -ge 600 ]; then
			sc window "$1" | indent
			die "window $1 is $state, not settled${i:+ after $((i / 10)) s}: $(jget reason "$w")"
		fi
		i=$((i + 1))
		sleep 0.1
	done
}

# positions N: "N CHANNEL PERIOD MEMBER FEN" for each position of window N.
positions() {
	sc --json window "$1" | grep -oE '"positions":\[[^]]*\]' | grep -oE '\{[^}]*\}' |
		sed -n "s/.*\"channel\":\"\([a-z]*\)\",\"period\":\"\([^\"]*\)\",\"member\":\"\([^\"]*\)\".*\"amount\":\(-*[0-9]*\).*/$1 \1 \2 \3 \4/p"
}

# settle_positions N: adds window N's positions to $work/positions, each
# network period once. A network's period is one batch at PBOC, posted
# once; a period a window lists that an earlier window already settled is
# noted (docs of the demo: a UnionPay cutover the switch asked for is also
# announced by the network, 0820, and switchd adds the announced period to
# the window it has just opened) and not counted again.
settle_positions() {
	local w channel period member fen
	positions "$1" > "$work/positions.$1"
	while read -r w channel period member fen; do
		if awk -v c="$channel" -v p="$period" -v w="$w" \
			'$2 == c && $3 == p && $1 != w { found = 1 } END { exit !found }' \
			"$work/positions" 2> /dev/null; then
			printf '%s %s %s\n' "$channel" "$period" "$(awk -v c="$channel" -v p="$period" \
				'$2 == c && $3 == p { print $1; exit }' "$work/positions")" >> "$work/relisted.$1"
		else
			echo "$w $channel $period $member $fen" >> "$work/positions"
		fi
	done < "$work/positions.$1"
	[ -s "$work/relisted.$1" ] || return 0
	sort -u "$work/relisted.$1" | while read -r channel period w; do
		echo "  NOTE: window $1 lists $channel period $period again, which window $w settled"
		echo "        (PBOC posted its batch once); its positions are counted once here"
		echo "$1 $channel $period $w" >> "$work/notes"
	done
}

# cutover N: closes window N (the switch asks both networks to cut over
# too), waits until PBOC has posted all of its batches, shows it, and
# reconciles it.
cutover() {
	local out rc
	quiet
	sc cutover | indent
	settled "$1"
	sc window "$1" | indent
	settle_positions "$1"
	echo
	rc=0
	out=$(sc recon "$1") || rc=$?
	printf '%s\n' "$out" | indent
	printf '%s\n' "$out" | head -n 1 | sed 's/^window [0-9]*: //' > "$work/recon.$1"
	[ $rc = 0 ] || fail "window $1 reconciliation" "reconciled (switchctl recon exit 0)" \
		"exit $rc: $(head -n 1 "$work/recon.$1")"
}

# fees MEMBER: "IR IP NR NP", the member's issuer fees receivable and
# payable and network fees receivable and payable over every period, from
# the networks' clearing files: the UnionPay trailers (docs/netsim.md, the
# T record's columns 125, 141, 157, 173) and the NetClear summaries' "fees".
fees() {
	{
		for f in "$work"/cup/clearing/"$1"/CUP-*.txt; do
			[ -e "$f" ] || continue
			# Zero-padded numbers, text to the shell (10#: decimal, not octal).
			sed -n 's/^T.\{123\}\(.\{16\}\)\(.\{16\}\)\(.\{16\}\)\(.\{16\}\).*/\1 \2 \3 \4/p' "$f" |
				while read -r a b c d; do echo $((10#$a)) $((10#$b)) $((10#$c)) $((10#$d)); done
		done
		for f in "$work"/nc/clearing/"$1"/*.json; do
			[ -e "$f" ] || continue
			sed -n 's/.*"fees":{"issuer_receivable":\([0-9]*\),"issuer_payable":\([0-9]*\),"network_receivable":\([0-9]*\),"network_payable":\([0-9]*\)}.*/\1 \2 \3 \4/p' "$f"
		done
	} > "$work/fees.lines"
	printf '%s %s %s %s\n' "$(cut -d' ' -f1 "$work/fees.lines" | sum)" \
		"$(cut -d' ' -f2 "$work/fees.lines" | sum)" "$(cut -d' ' -f3 "$work/fees.lines" | sum)" \
		"$(cut -d' ' -f4 "$work/fees.lines" | sum)"
}

# ---- the banks -------------------------------------------------------------------
# Each bank's accounts file holds the scripted requests' accounts (a 0
# after the prefix) and the load's: 200 accounts of 1,000,000.00 (a 5 after
# the prefix) and 8 empty ones (a 6), whose pays are declined 51. The
# load's payers include 8 accounts per bank that no bank holds (a 7: 14),
# its payees 4 (an 8: the credit is declined 14, the debit reversed).

load_good=200 load_empty=8 load_unknown_payers=8 load_unknown_payees=4

# load_accounts PREFIX: the load's accounts, as lines of an accounts file.
load_accounts() {
	awk -v p="$1" -v g=$load_good -v e=$load_empty 'BEGIN {
		for (i = 0; i < g; i++) printf ",\n  {\"account\": \"%s5%09d\", \"balance\": 100000000}", p, i
		for (i = 0; i < e; i++) printf ",\n  {\"account\": \"%s6%09d\", \"balance\": 0}", p, i }'
}

# numbers PREFIX DIGIT N: N account numbers, PREFIX DIGIT 000000000 upwards.
numbers() { awk -v p="$1" -v d="$2" -v n="$3" 'BEGIN { for (i = 0; i < n; i++) printf "%s%s%09d\n", p, d, i }'; }

# accounts_file BANK PREFIX < LINES: BANK's accounts file, the scripted
# accounts (one JSON object a line, from stdin) and then the load's.
accounts_file() {
	{
		echo '{"accounts": ['
		sed '$!s/$/,/; s/^/  /'
		load_accounts "$2"
		printf '\n]}\n'
	} > "$work/$1/accounts.json"
}

section "Four banks (banksim), each with its own ledger"
mkdir -p "$work/bank_a" "$work/bank_b" "$work/bank_c" "$work/bank_d" "$work/load"
accounts_file bank_a 622202 <<'EOF'
{"account": "6222020000000001", "balance": 500000}
{"account": "6222020000000002", "balance": 1000}
{"account": "6222020000000009", "balance": 0}
EOF
accounts_file bank_b 621700 <<'EOF'
{"account": "6217000000000009", "balance": 0}
{"account": "6217000000000004", "balance": 0, "status": "closed"}
{"account": "6217000000000010", "balance": 100000}
{"account": "6217000000000002", "balance": 100}
EOF
accounts_file bank_c 622848 <<'EOF'
{"account": "6228480000000001", "balance": 300000}
{"account": "6228480000000002", "balance": 100}
EOF
accounts_file bank_d 621226 <<'EOF'
{"account": "6212260000000001", "balance": 300000}
{"account": "6212260000000002", "balance": 0}
EOF
: > "$work/load/payers.txt"
: > "$work/load/payees.txt"
for prefix in 622202 621700 622848 621226; do
	{ numbers $prefix 5 $load_good; numbers $prefix 6 $load_empty
	  numbers $prefix 7 $load_unknown_payers; } >> "$work/load/payers.txt"
	{ numbers $prefix 5 $load_good; numbers $prefix 8 $load_unknown_payees; } >> "$work/load/payees.txt"
done
# Debug logging: a line per answer, with the request key, for the legs.
declare -A bport=()
for row in $bank_table; do
	IFS=: read -r name inst prefix via <<< "$row"
	start "$name" "$work/$name.log" "$bin/banksim" --name "$name" --institution "$inst" \
		--ledger "$work/$name/ledger" --accounts "$work/$name/accounts.json" \
		--ready-file "$work/$name/ready.json" --latency-ms 1-5 --log-level debug
done
for row in $bank_table; do
	IFS=: read -r name inst prefix via <<< "$row"
	wait_ready "$name" "$work/$name/ready.json"
	bport[$name]=$(port "$work/$name/ready.json" port)
	p=${bport[$name]}
	printf '%s (institution %s, accounts %s...) on 127.0.0.1:%s, reached %s\n' \
		"$name" "$inst" "$prefix" "$p" \
		"$(case $via in direct) echo "directly by the switch" ;; *) echo "through $via" ;; esac)"
done
echo "each also holds $load_good accounts of 1000000.00 and $load_empty empty ones for the load"

section "The central bank (pbocsim): a reserve account for every member"
cat > "$work/pboc-members.json" <<'EOF'
{"members": [
  {"member": "01020000", "kind": "bank", "balance": 10000000000},
  {"member": "01030000", "kind": "bank", "balance": 10000000000},
  {"member": "01040000", "kind": "bank", "balance": 10000000000},
  {"member": "01050000", "kind": "bank", "balance": 10000000000},
  {"member": "48110001", "kind": "psp", "balance": 1000000000},
  {"member": "48110002", "kind": "psp", "balance": 1000000000},
  {"member": "48020000", "kind": "acquirer", "balance": 100000000},
  {"member": "00010000", "kind": "network", "balance": 100000000},
  {"member": "00020000", "kind": "network", "balance": 100000000},
  {"member": "99990000", "kind": "switch", "balance": 100000000}
]}
EOF
start pboc "$work/pboc.log" "$bin/pbocsim" --ledger "$work/pboc" \
	--members "$work/pboc-members.json" --ready-file "$work/pboc.ready"
wait_ready pboc "$work/pboc.ready"
pboc_port=$(port "$work/pboc.ready" port)
echo "pbocsim on 127.0.0.1:$pboc_port: the banks' reserves, the PSPs' customer reserves (备付金),"
echo "the acquirer's, the networks' and the switch's"

section "Two networks (netsim): UnionPay (ISO 8583, 46-byte header), NetClear (JSON)"
# bank_link NAME: a bank in a netsim members file.
bank_link() {
	local row
	row=$(echo "$bank_table" | tr ' ' '\n' | grep "^$1:")
	IFS=: read -r name inst prefix via <<< "$row"
	printf '{"name": "%s", "member": "%s", "prefixes": ["%s"], "address": "127.0.0.1:%s"}' \
		"$name" "$inst" "$prefix" "${bport[$name]}"
}
cat > "$work/cup-members.json" <<EOF
{"members": [{"member": "99990000", "station": "99990000", "name": "switch"}],
 "banks": [$(bank_link bank_a), $(bank_link bank_b), $(bank_link bank_c)]}
EOF
cat > "$work/nc-members.json" <<EOF
{"members": [{"member": "99990000", "name": "switch"}],
 "banks": [$(bank_link bank_a), $(bank_link bank_b), $(bank_link bank_d)]}
EOF
# Short waits, so that settlement takes seconds: a closed period waits 1 s
# for its legs (there are none in flight at a cutover here).
# shellcheck disable=SC2086 # fee_args is several words
start cup "$work/cup.log" "$bin/netsim" --mode unionpay --name cup \
	--members "$work/cup-members.json" --store "$work/cup" --pboc "127.0.0.1:$pboc_port" \
	--start-date "$today" --settle-wait-ms 1000 --timeout-ms 3000 $fee_args \
	--ready-file "$work/cup.ready"
# shellcheck disable=SC2086
start nc "$work/nc.log" "$bin/netsim" --mode netclear --name nc \
	--members "$work/nc-members.json" --store "$work/nc" --pboc "127.0.0.1:$pboc_port" \
	--start-date "$today" --settle-wait-ms 1000 --timeout-ms 3000 $fee_args \
	--ready-file "$work/nc.ready"
wait_ready cup "$work/cup.ready"
wait_ready nc "$work/nc.ready"
port_cup=$(port "$work/cup.ready" port)
port_nc=$(port "$work/nc.ready" port)
echo "UnionPay (member 00010000) on 127.0.0.1:$port_cup: banks A, B, C behind it; clearing files in cup/clearing"
echo "NetClear (member 00020000) on 127.0.0.1:$port_nc: banks A, B, D behind it; clearing files in nc/clearing"
echo "both charge an issuer fee of 35 bp (at most 13.00) and a network fee of 3.25 bp (at most 3.25)"

section "The switch (switchd) and its routes (switchctl routes import)"
cat > "$work/switchd.json" <<EOF
{
  "institution": "99990000",
  "lmdb": {"dir": "$work/switch", "sync": true},
  "control": "127.0.0.1:0",
  "metrics": "127.0.0.1:0",
  "ready_file": "$work/switchd.ready",
  "clearing": {"pboc": "127.0.0.1:$pboc_port", "settle_delay_ms": 500, "poll_ms": 100,
               "first_date": "$today"},
  "listeners": [
    {"name": "psp01", "address": "127.0.0.1:0", "protocol": "json", "participant": "PSP01",
     "institution": "48110001"},
    {"name": "psp02", "address": "127.0.0.1:0", "protocol": "json", "participant": "PSP02",
     "institution": "48110002"},
    {"name": "acq", "address": "127.0.0.1:0", "protocol": "iso8583", "dialect": "ascii",
     "participant": "ACQ01", "acquirers": ["48020000"]}
  ],
  "endpoints": [
    {"name": "bank_a", "address": "127.0.0.1:${bport[bank_a]}", "dialect": "ascii",
     "institution": "01020000", "timeout_ms": 3000},
    {"name": "bank_b", "address": "127.0.0.1:${bport[bank_b]}", "dialect": "ascii",
     "institution": "01030000", "timeout_ms": 3000},
    {"name": "cup", "address": "127.0.0.1:$port_cup", "dialect": "ascii", "network": "unionpay",
     "institution": "00010000", "timeout_ms": 5000,
     "framing": {"length": "ascii4", "header_bytes": 46, "source_id": "99990000",
                 "destination_id": "00010000"},
     "clearing_dir": "$work/cup/clearing"},
    {"name": "nc", "address": "127.0.0.1:$port_nc", "protocol": "netclear", "network": "netclear",
     "institution": "00020000", "timeout_ms": 5000, "clearing_dir": "$work/nc/clearing"}
  ]
}
EOF
cat > "$work/routes.jsonl" <<EOF
{"prefix": "622202", "endpoint": "bank_a", "institution": "01020000", "note": "bank A, direct"}
{"prefix": "621700", "endpoint": "bank_b", "institution": "01030000", "note": "bank B, direct"}
{"prefix": "622848", "endpoint": "cup", "network": "unionpay", "institution": "01040000", $fee_json, "note": "bank C, through UnionPay"}
{"prefix": "621226", "endpoint": "nc", "network": "netclear", "institution": "01050000", $fee_json, "note": "bank D, through NetClear"}
EOF
"$bin/switchctl" --config "$work/switchd.json" --who demo routes import "$work/routes.jsonl" 2>&1 |
	grep -v 'did not exist' || true
"$bin/switchctl" --config "$work/switchd.json" routes list
start switchd "$work/switchd.log" "$bin/switchd" --config "$work/switchd.json"
wait_ready switchd "$work/switchd.ready"
psp1=$(port "$work/switchd.ready" psp01)
psp2=$(port "$work/switchd.ready" psp02)
acq=$(port "$work/switchd.ready" acq)
control=$(port "$work/switchd.ready" control)
i=0
until [ "$(sc --json endpoints | grep -oE '"links_up":[1-9]' | wc -l)" -ge 4 ]; do
	i=$((i + 1))
	[ $i -le 150 ] || die "the switch did not sign on to both banks and both networks in 15 s"
	sleep 0.1
done
echo
sc endpoints
echo "PSP01 (institution 48110001) on 127.0.0.1:$psp1, PSP02 (48110002) on 127.0.0.1:$psp2,"
echo "the acquirer 48020000 (ISO 8583) on 127.0.0.1:$acq"

section "Balances before (yuan): the scripted requests' accounts, and the reserves at PBOC"
snapshot > "$work/before"
cp "$work/before" "$work/expected"
reserves > "$work/reserves.before"
scripted "$work/before" | while read -r bank account fen; do
	printf '  %-8s %s %12s\n' "$bank" "$account" "$(yuan "$fen")"
done
while read -r member name; do
	printf '  %-8s %-16s %15s\n' "$name" "reserve $member" "$(yuan "$(reserve "$member" "$work/reserves.before")")"
done <<< "$members"

# ---- the PSP -----------------------------------------------------------------------
# Each line: request id, the answer code it must get, what it must do to
# the books ("-" nothing; "FEN FROM TO"), what it is, the request.

section "A PSP sends payments (JSON lines, pspsim; each answer checked)"
# approved: payer at bank A, payee at bank B (two legs: debit, then credit)
pay1='{"op":"pay","id":"DEMO-0001","payer":{"account":"6222020000000001"},"payee":{"account":"6217000000000009","name":"Three Squirrels"},"amount":12850,"currency":"CNY","memo":"order 88123"}'
psp DEMO-0001 00 "12850 6222020000000001 6217000000000009" \
	"pay 128.50 6222020000000001 -> 6217000000000009" "$pay1"
first_answer=$answer
first_txn=$(jget txn "$answer")
legs DEMO-0001 bank_a 6222020000000001 bank_b 6217000000000009 12850

# approved, on-us: both accounts at bank A
psp DEMO-0002 00 "2800 6222020000000001 6222020000000009" \
	"pay 28.00 6222020000000001 -> 6222020000000009 (on-us)" \
	'{"op":"pay","id":"DEMO-0002","payer":{"account":"6222020000000001"},"payee":{"account":"6222020000000009","name":"Lanzhou Noodles"},"amount":2800,"currency":"CNY"}'

# declined 51: insufficient funds (10.00 in the account)
psp DEMO-0003 51 - "pay 999.00 6222020000000002 -> 6217000000000009" \
	'{"op":"pay","id":"DEMO-0003","payer":{"account":"6222020000000002"},"payee":{"account":"6217000000000009"},"amount":99900,"currency":"CNY"}'

# declined 14: bank A has no such account
psp DEMO-0004 14 - "pay 1.00 6222029999999999 -> 6217000000000009" \
	'{"op":"pay","id":"DEMO-0004","payer":{"account":"6222029999999999"},"payee":{"account":"6217000000000009"},"amount":100,"currency":"CNY"}'

# declined 15: no bank routes this account
psp DEMO-0005 15 - "pay 1.00 9999000000000001 -> 6217000000000009" \
	'{"op":"pay","id":"DEMO-0005","payer":{"account":"9999000000000001"},"payee":{"account":"6217000000000009"},"amount":100,"currency":"CNY"}'

# a duplicate of DEMO-0001: the original answer, same txn, no second debit
held=$(failures)
psp DEMO-0001 00 - "the same pay again (a duplicate)" "$pay1"
expect "DEMO-0001 duplicate: txn" "$first_txn" "$(jget txn "$answer")"
expect "DEMO-0001 duplicate: answer" "$first_answer" "$answer"
if [ "$(failures)" = "$held" ] && [ -n "$first_txn" ]; then
	echo "             duplicate of DEMO-0001: same answer, same txn $first_txn, not debited twice"
fi

# the payee's bank refuses the credit (57, closed account): the debit is
# reversed, and the payer's balance is what it was before
payer_before=$(balance_of 6222020000000001 "$work/expected")
psp DEMO-0006 57 - "pay 10.00 6222020000000001 -> 6217000000000004 (closed)" \
	'{"op":"pay","id":"DEMO-0006","payer":{"account":"6222020000000001"},"payee":{"account":"6217000000000004"},"amount":1000,"currency":"CNY"}'
reversed DEMO-0006 6222020000000001 1000 "$payer_before"

# a refund of part of DEMO-0001 (the payee gives 50.00 back), then one for
# more than is left (13)
psp DEMO-0007 00 "5000 6217000000000009 6222020000000001" "refund 50.00 of DEMO-0001" \
	'{"op":"refund","id":"DEMO-0007","original":"DEMO-0001","amount":5000,"currency":"CNY"}'
psp DEMO-0008 13 - "refund 90.00 of DEMO-0001 (78.50 left)" \
	'{"op":"refund","id":"DEMO-0008","original":"DEMO-0001","amount":9000,"currency":"CNY"}'

# a format error (30): amounts are integers in fen, never decimals
psp DEMO-0009 30 - "pay amount 128.50 (a decimal)" \
	'{"op":"pay","id":"DEMO-0009","payer":{"account":"6222020000000001"},"payee":{"account":"6217000000000009"},"amount":128.50,"currency":"CNY"}'

# the state and final answer of an earlier request: done, approved, its txn
psp DEMO-0010 00 - "query DEMO-0001" '{"op":"query","id":"DEMO-0010","target":"DEMO-0001"}'
inner=$(printf '%s\n' "$answer" | sed -n 's/.*"answer":\({[^}]*}\).*/\1/p')
expect "DEMO-0010 query: state" "done" "$(jget state "$answer")"
expect "DEMO-0010 query: answer" "approved $first_txn" "$(jget status "$inner") $(jget txn "$inner")"
echo "             DEMO-0001 is $(jget state "$answer"): $(jget status "$inner"), txn $(jget txn "$inner")"

# approved through UnionPay: the credit leg goes to bank C by way of the
# network, which forwards it with its own key
psp DEMO-0011 00 "15000 6222020000000001 6228480000000001" \
	"pay 150.00 6222020000000001 -> 6228480000000001 (UnionPay)" \
	'{"op":"pay","id":"DEMO-0011","payer":{"account":"6222020000000001"},"payee":{"account":"6228480000000001","name":"Haidilao"},"amount":15000,"currency":"CNY"}'
legs DEMO-0011 bank_a 6222020000000001 bank_c 6228480000000001 15000

# the other way: the debit leg through UnionPay, the credit direct
psp DEMO-0012 00 "20000 6228480000000001 6217000000000009" \
	"pay 200.00 6228480000000001 -> 6217000000000009 (UnionPay)" \
	'{"op":"pay","id":"DEMO-0012","payer":{"account":"6228480000000001"},"payee":{"account":"6217000000000009"},"amount":20000,"currency":"CNY"}'
legs DEMO-0012 bank_c 6228480000000001 bank_b 6217000000000009 20000

# declined 51 by bank C, through UnionPay (1.00 in the account)
psp DEMO-0013 51 - "pay 9.99 6228480000000002 -> 6222020000000009 (UnionPay)" \
	'{"op":"pay","id":"DEMO-0013","payer":{"account":"6228480000000002"},"payee":{"account":"6222020000000009"},"amount":999,"currency":"CNY"}'

# a refund through UnionPay: bank C's payee gives 40.00 of DEMO-0011 back
psp DEMO-0014 00 "4000 6228480000000001 6222020000000001" "refund 40.00 of DEMO-0011 (UnionPay)" \
	'{"op":"refund","id":"DEMO-0014","original":"DEMO-0011","amount":4000,"currency":"CNY"}'

# an agreement payment through NetClear: bank D's customer pays, and the
# money goes to PSP01's reserve at PBOC (no credit leg)
psp DEMO-0015 00 "30000 6212260000000001 psp01" \
	"pay 300.00 6212260000000001 -> PSP01's reserve (NetClear)" \
	'{"op":"pay","id":"DEMO-0015","payer":{"account":"6212260000000001"},"payee":{"account":"6217000000000009"},"amount":30000,"currency":"CNY"}'
expect "DEMO-0015: an agreement payment (reserve)" true "$(jget reserve "$answer")"
one_leg DEMO-0015 bank_d 6212260000000001 30000 10 purchase

# payouts out of PSP01's reserve: to a merchant at bank B (direct), and at
# bank D (through NetClear)
psp DEMO-0016 00 "12000 psp01 6217000000000009" "payout 120.00 PSP01's reserve -> 6217000000000009" \
	'{"op":"payout","id":"DEMO-0016","payee":{"account":"6217000000000009","name":"Three Squirrels"},"amount":12000,"currency":"CNY"}'
one_leg DEMO-0016 bank_b 6217000000000009 12000 26 credit
psp DEMO-0017 00 "5000 psp01 6212260000000002" "payout 50.00 PSP01's reserve -> 6212260000000002 (NetClear)" \
	'{"op":"payout","id":"DEMO-0017","payee":{"account":"6212260000000002"},"amount":5000,"currency":"CNY"}'
one_leg DEMO-0017 bank_d 6212260000000002 5000 26 credit

# a refund of the agreement payment comes out of the reserve, through NetClear
psp DEMO-0018 00 "10000 psp01 6212260000000001" "refund 100.00 of DEMO-0015 (out of the reserve)" \
	'{"op":"refund","id":"DEMO-0018","original":"DEMO-0015","amount":10000,"currency":"CNY"}'
one_leg DEMO-0018 bank_d 6212260000000001 10000 20 refund_credit

# ---- the acquirer --------------------------------------------------------------------
# The acquirer 48020000 (the acq listener's "acquirers") pays its merchant
# itself: a purchase moves money from the card's account to it, paid into
# its reserve at settlement.

section "An acquirer sends card purchases (ISO 8583, iso8583 send; each answer checked)"
now=$(date -u +%m%d%H%M%S)
# 00: the echo test
iso ACQ-1 00 - "echo test (0800/301)" \
	"{\"mti\":\"0800\",\"fields\":{\"7\":\"$now\",\"11\":1,\"70\":\"301\"}}"
# 00: a purchase of 35.00 at bank B's card
iso ACQ-2 00 "3500 6217000000000010 acquirer" "purchase 35.00 on 6217000000000010" \
	"{\"mti\":\"0200\",\"fields\":{\"2\":\"6217000000000010\",\"3\":\"000000\",\"4\":3500,\"7\":\"$now\",\"11\":2,\"12\":\"103000\",\"13\":\"1125\",\"32\":\"48020000\",\"41\":\"TERM0001\",\"42\":\"MERCHANT0000001\",\"43\":\"Wudaokou Coffee          Beijing      CN\",\"49\":\"156\"}}"
[ -n "$(jget 38 "$answer")" ] || fail "ACQ-2: auth code" "field 38" "none"
# 51: 999.00 on a card with 1.00
iso ACQ-3 51 - "purchase 999.00 on 6217000000000002" \
	"{\"mti\":\"0200\",\"fields\":{\"2\":\"6217000000000002\",\"3\":\"000000\",\"4\":99900,\"7\":\"$now\",\"11\":3,\"12\":\"103000\",\"13\":\"1125\",\"32\":\"48020000\",\"41\":\"TERM0001\",\"42\":\"MERCHANT0000001\",\"49\":\"156\"}}"
# 15: no route for this BIN
iso ACQ-4 15 - "purchase 1.00 on 4000000000000002 (no such BIN)" \
	"{\"mti\":\"0200\",\"fields\":{\"2\":\"4000000000000002\",\"3\":\"000000\",\"4\":100,\"7\":\"$now\",\"11\":4,\"12\":\"103000\",\"13\":\"1125\",\"32\":\"48020000\",\"41\":\"TERM0001\",\"42\":\"MERCHANT0000001\",\"49\":\"156\"}}"
# 00, field 54: the card's balance after the purchase (1000.00 - 35.00)
iso ACQ-5 00 - "balance inquiry on 6217000000000010" \
	"{\"mti\":\"0200\",\"fields\":{\"2\":\"6217000000000010\",\"3\":\"310000\",\"7\":\"$now\",\"11\":5,\"32\":\"48020000\",\"41\":\"TERM0001\",\"49\":\"156\"}}"
f54=$(jget 54 "$answer")
sign=$(printf '%s' "$f54" | cut -c8)
bal=$(printf '%s' "$f54" | cut -c9- | sed 's/^0*\([0-9]\)/\1/')
[ "$sign" != D ] || bal="-$bal"
want_bal=$(balance_of 6217000000000010 "$work/expected")
expect "ACQ-5: balance in field 54 ($f54)" "$(yuan "$want_bal")" "$(yuan "${bal:-0}")"
echo "             balance $(yuan "${bal:-0}") (field 54 $f54), as the book holds it"

section "What the switch counted (switchctl stats)"
sc stats | indent
stats=$(sc --json stats)
expect "stats: duplicates" 1 "$(jget duplicates "$stats")"
expect "stats: reversals acknowledged" 1 "$(jget reversals_acknowledged "$stats")"
expect "stats: exceptions" 0 "$(jget exceptions "$stats")"

# ---- where the money went ----------------------------------------------------------------

section "Balances after (yuan)"
snapshot > "$work/after.scripted"
awk 'NR == FNR { after[$2] = $3; next } { print $1, $2, $3, after[$2] }' \
	"$work/after.scripted" "$work/before" | awk 'substr($2, 7, 1) == "0"' |
	while read -r bank account was is; do
		change=""
		[ "$was" = "$is" ] || change=$(signed $((is - was)))
		printf '  %-8s %s %12s -> %12s %10s\n' "$bank" "$account" "$(yuan "$was")" \
			"$(yuan "$is")" "$change"
	done | sed 's/ *$//'

section "Where the money went"
# who PARTY: a party of $work/flows as people read it.
who() {
	case $1 in
	acquirer) echo "acquirer 48020000" ;;
	psp01) echo "PSP01's reserve" ;;
	*) echo "$1" ;;
	esac
}
# flow_change PARTY: what the flows say the party gained (fen).
flow_change() {
	awk -v b="$1" '$2 == b { print $3 } $1 == b { print -$3 }' "$work/flows" | sum
}

echo "  across banks, as the approved requests above moved it:"
awk '{ k = $1 " " $2; f[k] += $3; sep = (k in r) ? ", " : ""; r[k] = r[k] sep $4 }
     END { for (k in f) print k, f[k], r[k] }' "$work/flows" | sort |
	while read -r from to fen requests; do
		printf '    %-36s %10s  %s\n' "$(who "$from") -> $(who "$to")" "$(yuan "$fen")" \
			"$requests"
	done
echo "  customer accounts per bank, from each bank's ledger (change checked against the flows):"
printf '    %-24s %12s %12s %10s\n' "" before after change
sum=0 terms=""
for bank in $banks; do
	was=$(total "$bank" "$work/before")
	is=$(total "$bank" "$work/after.scripted")
	sum=$((sum + is - was))
	terms="$terms$bank $(signed $((is - was))) + "
	printf '    %-24s %12s %12s %10s\n' "$bank" "$(yuan "$was")" "$(yuan "$is")" \
		"$(signed $((is - was)))"
	expect "$bank's change" "$(signed "$(flow_change "$bank")")" "$(signed $((is - was)))"
done
for party in $outside; do
	out=$(flow_change "$party")
	sum=$((sum + out))
	terms="$terms$(who "$party") $(signed "$out") + "
	printf '    %-24s %12s %12s %10s  (at PBOC, at settlement)\n' "$(who "$party")" "" "" \
		"$(signed "$out")"
done
printf '  conservation: %s= %s\n' "${terms% + } " "$(yuan "$sum")"
if [ "$sum" -eq 0 ]; then
	echo "  money moved between accounts, banks and reserves; none was created or lost"
else
	fail "conservation" "the changes to sum to 0.00" "$(yuan "$sum")"
fi

# ---- window 1 ---------------------------------------------------------------------------------

: > "$work/positions"
section "Cutover: window 1 (the requests above) closes, settles at PBOC and is reconciled"
cutover 1

# ---- the load ----------------------------------------------------------------------------------

section "Load: PSP01 and PSP02 at once for $seconds s (pspsim load mode)"
mix="pay=80,refund=8,duplicate=5,query=5,echo=2"
if [ "$rate" = 0 ]; then rate_text="flat out"; else rate_text="$rate requests/s each"; fi
echo "  each PSP: 4 connections x 16 in flight, $rate_text; mix $mix; amounts exp:5000 (fen)"
echo "  payers: the banks' load accounts, $load_empty empty ones a bank (51) and $load_unknown_payers a bank that no"
echo "  bank holds (14); payees: the load accounts and $load_unknown_payees a bank no bank holds (the credit"
echo "  is declined 14 and the debit reversed); payers at bank D pay PSPs' reserves through NetClear"
n=0
for p in PSP01:$psp1 PSP02:$psp2; do
	n=$((n + 1))
	name=${p%%:*}
	lower=$(echo "$name" | tr '[:upper:]' '[:lower:]')
	start "load_$lower" "$work/load/$lower.progress" "$bin/pspsim" \
		--connect "127.0.0.1:${p#*:}" --participant "$name" --duration-s "$seconds" \
		--connections 4 --inflight 16 --rate "$rate" --mix "$mix" --amount exp:5000 \
		--payers "$work/load/payers.txt" --payees "$work/load/payees.txt" \
		--seed "$n" --id-prefix "LOAD-$name" --json
done
# The report is the last line of the output, after the progress lines
# (pspsim writes them to stderr, here the same file).
every=5
[ "$seconds" -ge 15 ] || every=1
t=0
while alive "${pid[load_psp01]}" || alive "${pid[load_psp02]}"; do
	sleep 1
	t=$((t + 1))
	[ $((t % every)) = 0 ] || continue
	line=""
	for name in psp01 psp02; do
		last=$(grep '^pspsim:' "$work/load/$name.progress" | tail -n 1 |
			sed 's/^pspsim: *//; s/ errors.*//')
		line="$line  $(echo "$name" | tr '[:lower:]' '[:upper:]') ${last:-starting}"
	done
	echo " $line"
	[ $t -le $((seconds + 60)) ] || die "the load did not end $((seconds + 60)) s after it began"
done
for name in psp01 psp02; do
	stop "load_$name" # already exited: collects its exit code
	echo "$stopped_rc" > "$work/load/$name.rc"
	grep '^{' "$work/load/$name.progress" | tail -n 1 > "$work/load/$name.json" || true
done

section "What each PSP saw (pspsim's reports)"
# reason CODE STATUS: what a response code means (nothing for an ok).
reason() {
	[ "${2:-}" != ok ] || return 0
	case $1 in
	00) echo approved ;; 05) echo "do not honour" ;; 13) echo "invalid amount" ;;
	14) echo "no such account" ;; 15) echo "no such issuer" ;; 25) echo "not found (query ahead of its pay)" ;;
	51) echo "insufficient funds" ;; 57) echo "not permitted" ;; 68) echo "response too late" ;;
	91) echo "issuer or switch inoperative" ;; 94) echo "duplicate in flight" ;; 96) echo "system malfunction" ;;
	*) echo "" ;;
	esac
}
: > "$work/load/outcomes"
for name in PSP01 PSP02; do
	lower=$(echo "$name" | tr '[:upper:]' '[:lower:]')
	r=$(cat "$work/load/$lower.json")
	rc=$(cat "$work/load/$lower.rc")
	if [ -z "$r" ]; then
		fail "$name load" "a report" "none (pspsim exit $rc; see $work/load/$lower.progress)"
		continue
	fi
	lat=$(jobj latency_us "$r")
	chk=$(jobj check "$r")
	dup=$(jobj duplicates "$r")
	qry=$(jobj queries "$r")
	pays=$(jobj pays "$r")
	refunds=$(jobj refunds "$r")
	echo "  $name: sent $(jget sent "$r"), answered $(jget answered "$r") in $(jget elapsed_s "$r") s:" \
		"$(jget throughput "$r") answers/s"
	echo "    latency ms: p50 $(ms "$(jget p50 "$lat")")  p90 $(ms "$(jget p90 "$lat")")" \
		" p99 $(ms "$(jget p99 "$lat")")  p99.9 $(ms "$(jget p99_9 "$lat")")  max $(ms "$(jget max "$lat")")"
	printf '%s\n' "$r" | grep -oE '\{"op":"[a-z]*","status":"[a-z]*","code":"[^"]*","count":[0-9]*\}' |
		sed -E 's/.*"op":"([a-z]*)","status":"([a-z]*)","code":"([^"]*)","count":([0-9]*).*/\1 \2 \3 \4/' |
		tee -a "$work/load/outcomes" | while read -r op status code count; do
			printf '    %-10s %-9s %-3s %8d  %s\n' "$op" "$status" "$code" "$count" "$(reason "$code" "$status")"
		done | sed 's/ *$//'
	echo "    pays $(jget sent "$pays") sent, $(jget approved "$pays") approved ($(yuan "$(jget amount "$pays")"));" \
		"refunds $(jget approved "$refunds") of $(jget sent "$refunds") approved ($(yuan "$(jget amount_approved "$refunds")"))"
	echo "    duplicates: $(jget sent "$dup") sent, $(jget matched "$dup") answered as their original;" \
		"queries: $(jget sent "$qry") sent, $(jget mismatched "$qry") disagreed"
	echo "    exactly once: $(jget ok "$chk") (missing $(jget missing "$chk"), timed out $(jget timed_out "$chk")," \
		"late $(jget late "$chk"), extra $(jget extra "$chk"), unknown $(jget unknown "$chk")," \
		"unparsed $(jget unparsed "$chk")); pspsim exit $rc"
	expect "$name load: pspsim exit code (0: every request answered exactly once)" 0 "$rc"
	expect "$name load: every request answered exactly once" true "$(jget ok "$chk")"
	expect "$name load: duplicates answered otherwise than their original" 0 "$(jget mismatched "$dup")"
	expect "$name load: queries that disagreed" 0 "$(jget mismatched "$qry")"
	sent=$(jget sent "$pays")
	approved=$(jget approved "$pays")
	if [ "${sent:-0}" -gt 0 ] && [ $((approved * 10)) -lt $((sent * 7)) ]; then
		fail "$name load: approved pays" "at least 70% of $sent" "$approved"
	fi
	echo "$name $sent $(jget throughput "$r") $(jget p50 "$lat") $(jget p90 "$lat") $(jget p99 "$lat")" \
		"$(jget p99_9 "$lat") $(jget max "$lat") $(jget ok "$chk") $(jget answered "$r")" >> "$work/load/summary"
done
# outcome OP CODE: how many answers of both PSPs had this op and code.
outcome() { awk -v o="$1" -v c="$2" '$1 == o && $3 == c { s += $4 } END { print s + 0 }' "$work/load/outcomes"; }
pays_sent=$(awk '$1 == "pay" { s += $4 } END { print s + 0 }' "$work/load/outcomes")
if [ "$pays_sent" -ge 500 ]; then
	# The mix must show what it was made for: if no empty account was ever
	# declined, a bank let money out of nothing.
	[ "$(outcome pay 51)" -gt 0 ] || fail "load: pays from empty accounts" "some declined 51" "none"
	[ "$(outcome pay 14)" -gt 0 ] || fail "load: pays from or to accounts no bank holds" "some declined 14" "none"
	[ "$(outcome refund 00)" -gt 0 ] || fail "load: refunds" "some approved" "none"
	[ "$(outcome duplicate 00)" -gt 0 ] || fail "load: duplicates" "some answered approved, as their originals" "none"
fi
expect "load: refunds over what was paid (13)" 0 "$(outcome refund 13)"

# ---- window 2 ---------------------------------------------------------------------------------

section "Cutover: window 2 (the load) closes, settles at PBOC and is reconciled"
cutover 2
w3=$(sc --json window 3)
expect "window 3 (open, no traffic since the cutover): positions" '"positions":[]' \
	"$(printf '%s\n' "$w3" | grep -oE '"positions":\[[^]]*\]' || echo none)"

# ---- the summary ---------------------------------------------------------------------------------

snapshot > "$work/after"
reserves > "$work/reserves.after"
# settled_of MEMBER [WINDOW]: the member's settled positions (all channels).
settled_of() { awk -v m="$1" -v w="${2:-}" '$4 == m && (w == "" || $1 == w) { print $5 }' "$work/positions" | sum; }

section "Summary"
echo "Load: PSP01 and PSP02 at once, $seconds s each, $rate_text"
printf '  %-6s %9s %10s %8s %8s %8s %8s %8s  %s\n' PSP requests answers/s "p50 ms" "p90 ms" \
	"p99 ms" "p99.9 ms" "max ms" "every request answered exactly once"
total_req=0 total_tp=0
while read -r name sent tp p50 p90 p99 p999 max ok answered; do
	printf '  %-6s %9s %10s %8s %8s %8s %8s %8s  %s\n' "$name" "$answered" "$tp" "$(ms "$p50")" \
		"$(ms "$p90")" "$(ms "$p99")" "$(ms "$p999")" "$(ms "$max")" \
		"$([ "$ok" = true ] && echo yes || echo NO)"
	total_req=$((total_req + answered))
	total_tp=$(awk -v a="$total_tp" -v b="$tp" 'BEGIN { printf "%.1f", a + b }')
done < "$work/load/summary"
printf '  %-6s %9s %10s\n' both "$total_req" "$total_tp"
echo "  outcomes, both PSPs:"
awk '{ k = $1 " " $2 " " $3; c[k] += $4 } END { for (k in c) print k, c[k] }' "$work/load/outcomes" |
	sort | while read -r op status code count; do
		printf '    %-10s %-9s %-3s %8d  %s\n' "$op" "$status" "$code" "$count" "$(reason "$code" "$status")"
	done | sed 's/ *$//'

echo
echo "Windows"
for w in 1 2; do
	printf '  window %s: %s; %s\n' "$w" \
		"$(sc window "$w" | sed -n 's/^batches: //p')" "$(cat "$work/recon.$w")"
done
if [ -s "$work/notes" ]; then
	while read -r w channel period first; do
		echo "  NOTE: window $w lists $channel period $period again (window $first settled it; counted once)"
	done < "$work/notes"
fi

echo
echo "Banks: net position per window (all channels) and reserve at PBOC (yuan)"
printf '  %-7s %-9s %14s %14s %14s %18s %18s %14s\n' bank member "window 1" "window 2" settled \
	"reserve before" "reserve after" change
for bank in $banks; do
	m=$(inst_of "$bank")
	s=$(settled_of "$m")
	b=$(reserve "$m" "$work/reserves.before")
	a=$(reserve "$m" "$work/reserves.after")
	printf '  %-7s %-9s %14s %14s %14s %18s %18s %14s\n' "$bank" "$m" "$(signed "$(settled_of "$m" 1)")" \
		"$(signed "$(settled_of "$m" 2)")" "$(signed "$s")" "$(yuan "$b")" "$(yuan "$a")" "$(signed $((a - b)))"
done
echo
echo "PSPs, the acquirer, the networks and the switch: reserve at PBOC (yuan)"
printf '  %-18s %14s %14s %14s %18s %18s %14s\n' member "window 1" "window 2" settled \
	"reserve before" "reserve after" change
for m in 48110001 48110002 48020000 00010000 00020000 99990000; do
	s=$(settled_of "$m")
	b=$(reserve "$m" "$work/reserves.before")
	a=$(reserve "$m" "$work/reserves.after")
	label="$(name_of "$m") $m" note=""
	case $m in 000*) note="  fee income" ;; esac
	printf '  %-18s %14s %14s %14s %18s %18s %14s%s\n' "$label" "$(signed "$(settled_of "$m" 1)")" \
		"$(signed "$(settled_of "$m" 2)")" "$(signed "$s")" "$(yuan "$b")" "$(yuan "$a")" \
		"$(signed $((a - b)))" "$note"
done

echo
echo "Conservation: money only moves"
# 1. Every member's reserve moved by exactly its settled positions.
bad=0
while read -r m name; do
	b=$(reserve "$m" "$work/reserves.before")
	a=$(reserve "$m" "$work/reserves.after")
	s=$(settled_of "$m")
	if [ -z "$b" ] || [ -z "$a" ] || [ $((a - b)) -ne "$s" ]; then
		fail "$name ($m): reserve change" "its settled positions, $(signed "$s")" \
			"$(signed $((${a:-0} - ${b:-0})))"
		bad=1
	fi
done <<< "$members"
[ $bad = 1 ] || echo "  every member (10): its reserve at PBOC moved by exactly its settled positions"
# 2. Settlement moved money between reserves: their sum is the same.
sb=$(cut -d' ' -f2 "$work/reserves.before" | sum)
sa=$(cut -d' ' -f2 "$work/reserves.after" | sum)
if [ "$sa" -eq "$sb" ]; then
	echo "  PBOC: the sum of all reserves is unchanged, $(yuan "$sb")"
else
	fail "PBOC: the sum of all reserves" "unchanged, $(yuan "$sb")" "$(yuan "$sa")"
fi
# 3. Each bank: its customers' change (its book: customers against its
# clearing account) is its settled position less the fees it earned net.
echo "  each bank: customers' change = settled position - net fee income (issuer fees received"
echo "  less network fees paid, from the networks' clearing files)"
printf '    %-7s %18s %18s %14s %14s %11s\n' bank "customers before" "customers after" change settled "fee income"
customers=0 bank_fees=0 ir_all=0 ip_all=0 np_all=0 nr_all=0
for bank in $banks; do
	m=$(inst_of "$bank")
	b=$(total "$bank" "$work/before")
	a=$(total "$bank" "$work/after")
	s=$(settled_of "$m")
	read -r ir ip nr np <<< "$(fees "$m")"
	f=$((ir - ip + nr - np))
	customers=$((customers + a - b))
	bank_fees=$((bank_fees + f))
	verdict=ok
	[ $((a - b)) -eq $((s - f)) ] || verdict=FAIL
	printf '    %-7s %18s %18s %14s %14s %11s  %s\n' "$bank" "$(yuan "$b")" "$(yuan "$a")" \
		"$(signed $((a - b)))" "$(signed "$s")" "$(signed "$f")" "$verdict"
	[ $verdict = ok ] || fail "$bank: customers' change" "settled $(signed "$s") - fees $(signed "$f") = $(signed $((s - f)))" \
		"$(signed $((a - b)))"
done
# 4. The fees: issuer fees only move between members; what the members
# paid each network is its income.
for m in $(echo "$members" | awk '{ print $1 }'); do
	read -r ir ip nr np <<< "$(fees "$m")"
	ir_all=$((ir_all + ir)) ip_all=$((ip_all + ip)) np_all=$((np_all + np)) nr_all=$((nr_all + nr))
done
expect "issuer fees: received = paid" "$(yuan "$ip_all")" "$(yuan "$ir_all")"
net_income=0
for m in 00010000 00020000; do
	net_income=$((net_income + $(reserve "$m" "$work/reserves.after") - $(reserve "$m" "$work/reserves.before")))
done
expect "network fees: paid by the members = the networks' income" "$(signed "$net_income")" \
	"$(signed $((np_all - nr_all)))"
echo "  fees: issuer fees paid $(yuan "$ip_all"), received $(yuan "$ir_all");" \
	"network fees paid $(yuan $((np_all - nr_all))), the networks' income $(yuan "$net_income")"
# 5. All of it: what customers lost is in the PSPs', acquirer's, networks'
# and switch's reserves and in the banks' fee income.
# reserve_change MEMBER...: the members' reserve changes together.
reserve_change() {
	local m
	for m in "$@"; do
		echo $(($(reserve "$m" "$work/reserves.after") - $(reserve "$m" "$work/reserves.before")))
	done | sum
}
psps=$(reserve_change 48110001 48110002)
acquirer=$(reserve_change 48020000)
networks=$(reserve_change 00010000 00020000)
switch=$(reserve_change 99990000)
all=$((customers + psps + acquirer + networks + switch + bank_fees))
echo "  total: customers' change $(signed "$customers") + PSPs' reserves $(signed "$psps") + the acquirer's"
echo "         $(signed "$acquirer") + the networks' $(signed "$networks") + the switch's $(signed "$switch")" \
	"+ the banks' fee income $(signed "$bank_fees") = $(yuan "$all")"
if [ "$all" -eq 0 ]; then
	echo "  the sum of all money in all ledgers is unchanged: none was created or lost"
else
	fail "conservation: the total" "0.00" "$(yuan "$all")"
fi

# ---- staying ---------------------------------------------------------------------------------

if [ "$stay" = 1 ]; then
	section "Still running (DEMO_STAY=1); Ctrl-C stops everything"
	cat <<EOF
  the switch:    $bin/switchctl --control 127.0.0.1:$control status   (endpoints, stats, windows,
                 window 3, cutover, recon 3; docs/switchctl.md)
                 $bin/switchctl --config $work/switchd.json routes list
  the PSPs:      PSP01 on 127.0.0.1:$psp1, PSP02 on 127.0.0.1:$psp2 (JSON lines, hello first), e.g.
                 $bin/pspsim --connect 127.0.0.1:$psp1 --participant PSP01 --duration-s 10 \\
                   --payers $work/load/payers.txt --payees $work/load/payees.txt
  the acquirer:  127.0.0.1:$acq (ISO 8583, ascii dialect, field 32 48020000): $bin/iso8583 send --connect 127.0.0.1:$acq
  the banks:     $bin/banksim --ledger $work/bank_a/ledger --dump-balances   (bank_b, bank_c, bank_d)
  PBOC:          127.0.0.1:$pboc_port; $bin/pbocsim --ledger $work/pboc --dump-balances
  the networks:  UnionPay on 127.0.0.1:$port_cup, NetClear on 127.0.0.1:$port_nc; clearing files in
                 $work/cup/clearing, $work/nc/clearing
  the logs:      $work/*.log
EOF
	if [ "$keep" = 1 ]; then echo "  (kept after the demo)"; else echo "  (removed when the demo stops; DEMO_KEEP=1 keeps them)"; fi
	staying=1
	trap 'staying=0' INT TERM
	while [ $staying = 1 ]; do
		sleep 1 || true
		for name in $stop_order; do
			[ -n "${pid[$name]:-}" ] || continue
			if [ $staying = 1 ] && ! alive "${pid[$name]}"; then
				fail "$name" "to keep running" "it exited (log: $work/$name.log)"
				staying=0
			fi
		done
	done
	echo
	trap 'echo; echo "demo: interrupted: stopping everything"; exit 130' INT TERM
fi

# ---- stopping -------------------------------------------------------------------------------

section "Stopping: SIGTERM drains the switch, then the networks, the banks and PBOC"
for name in switchd cup nc $banks pboc; do
	stop "$name"
	expect "$name exit code after SIGTERM" 0 "$stopped_rc"
done
echo "every process exited 0"
for bank in $banks; do
	if c=$("$bin/banksim" --ledger "$work/$bank/ledger" --check-ledger); then
		echo "$bank's book is sound: $(jget accounts "$c") accounts, $(jget transfers "$c") transfers (ledger_check)"
	else
		fail "$bank's book" "sound (banksim --check-ledger)" "$c"
	fi
done
if c=$("$bin/pbocsim" --ledger "$work/pboc" --check-ledger); then
	echo "PBOC's book is sound: $(jget accounts "$c") accounts, $(jget transfers "$c") transfers," \
		"$(jget posted "$c") batches posted, none queued or half posted"
	expect "PBOC: batches queued" 0 "$(jget queued "$c")"
else
	fail "PBOC's book" "sound (pbocsim --check-ledger)" "$c"
fi

if [ "$(failures)" -gt 0 ]; then
	echo
	echo "demo: FAILED, $(failures) checks did not hold:"
	sed 's/^/  /' "$work/failures"
	echo "demo: logs are in $work (kept)"
	keep=1
	exit 1
fi
echo
echo "demo: every answer was the expected one, every window settled and reconciled, and the books agree"
