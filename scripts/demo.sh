#!/bin/sh
# demo.sh: the main job (`make demo`). Starts two simulated banks and the
# switch on loopback, loads the routes with switchctl, sends PSP payments
# and acquirer card purchases with a mix of outcomes, and checks every
# answer against the outcome written beside its request: the response code,
# what it did to the banks' books (each bank's ledger, read after every
# request), a duplicate's txn, a reversed debit, the two legs of a payment,
# a balance inquiry's balance. It ends with where the money went (each
# bank's total before and after, and a conservation line) and stops
# everything cleanly. A check that does not hold prints a FAIL line and
# the demo exits 1 once everything is printed and stopped.
#
# Every port is picked by the kernel; nothing is left running.
# PAYSWITCH_DEMO_KEEP=1 keeps the working directory (logs, stores); a
# failed demo keeps it too.
set -eu
cd "$(dirname "$0")/.."
bin=build/bin
work=$(mktemp -d "${TMPDIR:-/tmp}/payswitch-demo-XXXXXX")
pids=""
: > "$work/failures"
: > "$work/flows"

stop_all() {
	for pid in $pids; do kill -TERM "$pid" 2>/dev/null || true; done
	for pid in $pids; do wait "$pid" 2>/dev/null || true; done
	pids=""
	if [ "${PAYSWITCH_DEMO_KEEP:-0}" = 1 ]; then
		echo "demo files kept in $work"
	else
		rm -rf "$work"
	fi
}
trap stop_all EXIT
trap 'exit 1' INT TERM

section() { printf '\n== %s\n' "$*"; }

die() {
	echo "demo: $*" >&2
	echo "demo: logs are in $work (kept)" >&2
	PAYSWITCH_DEMO_KEEP=1
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

# wait_for FILE: the ready file a process writes once it listens.
wait_for() {
	i=0
	while [ ! -s "$1" ]; do
		i=$((i + 1))
		[ $i -le 100 ] || die "nothing listening after 10 s (no $1)"
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

# yuan FEN: 12850 -> 128.50 (sign kept; shell arithmetic, no floats).
yuan() {
	f=$1 sign=""
	[ "$f" -ge 0 ] || { sign="-"; f=$((-f)); }
	printf '%s%d.%02d' "$sign" $((f / 100)) $((f % 100))
}

# signed FEN: yuan with a "+" on what is not negative.
signed() { if [ "$1" -ge 0 ]; then printf '+%s' "$(yuan "$1")"; else yuan "$1"; fi; }

# ---- the books -------------------------------------------------------------
# A snapshot is "BANK ACCOUNT FEN" per customer account, read from each
# bank's own ledger (banksim --dump-balances; LMDB lets it read while the
# bank runs). $work/expected is the same, moved by each request's expected
# effect.

banks="bank_a bank_b"

snapshot() {
	for bank in $banks; do
		"$bin/banksim" --ledger "$work/$bank/ledger" --dump-balances |
			sed -n "s/.*\"kind\":\"customer\",\"account\":\"\([0-9]*\)\".*\"posted\":\(-*[0-9]*\).*/$bank \1 \2/p"
	done
}

# balance_of ACCOUNT FILE [bank]: the account's fen in a snapshot (its
# bank with "bank").
balance_of() { awk -v a="$1" -v w="${3:-}" '$2 == a { print w == "bank" ? $1 : $3 }' "$2"; }

# bank_of ACCOUNT: the bank that holds the account, or "acquirer".
bank_of() {
	if [ "$1" = acquirer ]; then echo acquirer; else balance_of "$1" "$work/expected" bank; fi
}

# move FEN FROM TO: the expected effect of an approved request. FROM or TO
# "acquirer" is the outside of the demo: a card purchase's acquirer, who
# pays its merchant and is paid at settlement. Money that crosses banks is
# noted in $work/flows, "FROM_BANK TO_BANK FEN REQUEST" ($request: psp and
# iso set it).
move() {
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

# check_books WHAT: every customer balance of both banks is what the
# requests so far should have left. A reversal completes a moment after its
# answer, so this waits up to 5 s for the books to agree before it fails.
check_books() {
	i=0
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
	if [ -z "$6" ]; then verdict=ok; else verdict=FAIL; fi
	printf '  %-10s %-56s want %-3s got %-3s %-4s %s\n' "$1" "$2" "$3" "$4" "$verdict" "$5"
	[ -z "$6" ] || printf '%s\n' "$6"
}

# psp ID WANT EFFECT WHAT REQUEST: sends one PSP request on its own
# connection (after the hello the switch requires first), prints its answer
# beside the expected code WANT, and checks the code and the books. EFFECT
# is what the request should do to the books: "-" nothing, else
# "FEN FROM TO". The answer is left in $answer.
psp() {
	printf '%s\n%s\n' '{"op":"hello","participant":"PSP01"}' "$5" |
		"$bin/pspsim" --json --connect "127.0.0.1:$psp" > "$work/psp.answers" ||
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
	from=$(jget debit_account_id "$2")
	to=$(jget credit_account_id "$2")
	[ "$from" != 1 ] || from="$1's clearing account"
	[ "$to" != 1 ] || to="$1's clearing account"
	printf '%s from %s to %s (code %s)' "$(yuan "$(jget amount "$2")")" \
		"${from#1}" "${to#1}" "$(jget code "$2")"
}

# leg_key BANK KIND TRANSFER_ID: the request key of the switch's message
# that made the transfer, from the bank's log of its answers (the transfer's
# id is the ledger id of that key: docs/banksim.md, The money model).
leg_key() {
	sed -n "s/.*\"event\":\"answer\".*\"kind\":\"$2\".*\"key\":\"\([^\"]*\)\".*/\1/p" \
		"$work/$1/banksim.log" | while read -r key; do
		[ "$("$bin/ledger" id "$key")" != "$3" ] || echo "$key"
	done | head -n 1
}

# legs ID PAYER PAYEE FEN: the two postings of an approved payment, as the
# two banks' ledgers hold them (the newest transfer of each party), with
# the switch's leg that made each: a debit leg (code 10, payer to clearing)
# at the payer's bank, a credit leg (code 26, clearing to payee) at the
# payee's.
legs() {
	debit=$(newest bank_a "$2" 1)
	credit=$(newest bank_b "$3" 1)
	expect "$1 debit leg" "$(yuan "$4") from $2 to bank_a's clearing account (code 10)" \
		"$(posting bank_a "$debit")"
	expect "$1 credit leg" "$(yuan "$4") from bank_b's clearing account to $3 (code 26)" \
		"$(posting bank_b "$credit")"
	dkey=$(leg_key bank_a purchase "$(jget id "$debit")")
	ckey=$(leg_key bank_b credit "$(jget id "$credit")")
	[ -n "$dkey" ] || fail "$1 debit leg" "a 0200 of the switch in bank_a's log" "none"
	[ -n "$ckey" ] || fail "$1 credit leg" "a 0200 of the switch in bank_b's log" "none"
	echo "             its two legs, as the banks' ledgers posted them (and the switch's 0200"
	echo "             that made each, by its key: field 32, STAN, field 7):"
	echo "               debit  at bank_a: $(posting bank_a "$debit"), 0200 ${dkey:-?}"
	echo "               credit at bank_b: $(posting bank_b "$credit"), 0200 ${ckey:-?}"
}

# reversed ID PAYER FEN BEFORE: the payer was debited FEN and given it back
# (the switch's 0400, a code 40 transfer naming the debit), and its balance
# is BEFORE again.
reversed() {
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

# ---- the banks -------------------------------------------------------------------

section "Two banks (banksim), each with its own ledger"
mkdir -p "$work/bank_a" "$work/bank_b"
cat > "$work/bank_a/accounts.json" <<'EOF'
{"accounts": [
  {"account": "6222020000000001", "balance": 500000},
  {"account": "6222020000000002", "balance": 1000},
  {"account": "6222020000000009", "balance": 0}
]}
EOF
cat > "$work/bank_b/accounts.json" <<'EOF'
{"accounts": [
  {"account": "6217000000000009", "balance": 0},
  {"account": "6217000000000004", "balance": 0, "status": "closed"},
  {"account": "6217000000000010", "balance": 100000},
  {"account": "6217000000000002", "balance": 100}
]}
EOF
# Debug logging: a line per answer, with the request key, for the legs.
for bank in bank_a:01020000 bank_b:01030000; do
	name=${bank%%:*}
	"$bin/banksim" --name "$name" --institution "${bank##*:}" \
		--ledger "$work/$name/ledger" --accounts "$work/$name/accounts.json" \
		--ready-file "$work/$name/ready.json" --latency-ms 1-5 --log-level debug \
		2>"$work/$name/banksim.log" &
	pids="$pids $!"
	eval "pid_$name=\$!"
done
wait_for "$work/bank_a/ready.json"
wait_for "$work/bank_b/ready.json"
port_a=$(port "$work/bank_a/ready.json" port)
port_b=$(port "$work/bank_b/ready.json" port)
echo "bank_a (institution 01020000, accounts 622202...) on 127.0.0.1:$port_a"
echo "bank_b (institution 01030000, accounts 621700...) on 127.0.0.1:$port_b"

section "The switch (switchd) and its routes (switchctl)"
cat > "$work/switchd.json" <<EOF
{
  "institution": "99990000",
  "lmdb": {"dir": "$work/switch", "sync": true},
  "control": "127.0.0.1:0",
  "metrics": "127.0.0.1:0",
  "listeners": [
    {"name": "psp", "address": "127.0.0.1:0", "protocol": "json", "participant": "PSP01"},
    {"name": "acq", "address": "127.0.0.1:0", "protocol": "iso8583", "dialect": "ascii",
     "participant": "ACQ01", "acquirers": ["48020000"]}
  ],
  "endpoints": [
    {"name": "bank_a", "address": "127.0.0.1:$port_a", "dialect": "ascii",
     "institution": "01020000", "timeout_ms": 2000},
    {"name": "bank_b", "address": "127.0.0.1:$port_b", "dialect": "ascii",
     "institution": "01030000", "timeout_ms": 2000}
  ]
}
EOF
cat > "$work/routes.jsonl" <<'EOF'
{"prefix": "622202", "endpoint": "bank_a", "institution": "01020000", "note": "bank A cards and accounts"}
{"prefix": "621700", "endpoint": "bank_b", "institution": "01030000", "note": "bank B cards and accounts"}
EOF
"$bin/switchctl" --lmdb "$work/switch" --who demo routes import "$work/routes.jsonl"
"$bin/switchctl" --lmdb "$work/switch" routes list
"$bin/switchd" --config "$work/switchd.json" --ready-file "$work/switchd.ready" \
	2>"$work/switchd.log" &
switchd_pid=$!
pids="$switchd_pid $pids"
wait_for "$work/switchd.ready"
psp=$(port "$work/switchd.ready" psp)
acq=$(port "$work/switchd.ready" acq)
control=$(port "$work/switchd.ready" control)
i=0
until "$bin/switchctl" --control "127.0.0.1:$control" --json endpoints |
	grep -q '"links_up":[1-9].*"links_up":[1-9]'; do
	i=$((i + 1))
	[ $i -le 100 ] || die "the switch did not sign on to both banks"
	sleep 0.1
done
echo
"$bin/switchctl" --control "127.0.0.1:$control" endpoints

section "Balances before (yuan)"
snapshot > "$work/before"
cp "$work/before" "$work/expected"
while read -r bank account fen; do
	printf '  %-8s %s %12s\n' "$bank" "$account" "$(yuan "$fen")"
done < "$work/before"

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
legs DEMO-0001 6222020000000001 6217000000000009 12850

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

# ---- the acquirer --------------------------------------------------------------------
# The acquirer 48020000 (the acq listener's "acquirers") is outside the
# demo: a purchase moves money from the card's account to it.

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
"$bin/switchctl" --control "127.0.0.1:$control" stats | sed 's/^/  /'
stats=$("$bin/switchctl" --control "127.0.0.1:$control" --json stats)
expect "stats: duplicates" 1 "$(jget duplicates "$stats")"
expect "stats: reversals acknowledged" 1 "$(jget reversals_acknowledged "$stats")"
expect "stats: exceptions" 0 "$(jget exceptions "$stats")"

# ---- where the money went ----------------------------------------------------------------

section "Balances after (yuan)"
snapshot > "$work/after"
awk 'NR == FNR { after[$2] = $3; next } { print $1, $2, $3, after[$2] }' \
	"$work/after" "$work/before" |
	while read -r bank account was is; do
		change=""
		[ "$was" = "$is" ] || change=$(signed $((is - was)))
		printf '  %-8s %s %12s -> %12s %10s\n' "$bank" "$account" "$(yuan "$was")" \
			"$(yuan "$is")" "$change"
	done | sed 's/ *$//'

section "Where the money went"
# who PARTY: a party of $work/flows as people read it.
who() { if [ "$1" = acquirer ]; then echo "acquirer 48020000"; else echo "$1"; fi; }
# flow_change PARTY: what the flows say the party gained (fen).
flow_change() {
	awk -v b="$1" '$2 == b { s += $3 } $1 == b { s -= $3 } END { print s + 0 }' "$work/flows"
}
# total BANK FILE: the sum of the bank's customer accounts in a snapshot.
total() { awk -v b="$1" '$1 == b { s += $3 } END { print s + 0 }' "$2"; }

echo "  across banks, as the approved requests above moved it:"
awk '{ k = $1 " " $2; f[k] += $3; sep = (k in r) ? ", " : ""; r[k] = r[k] sep $4 }
     END { for (k in f) print k, f[k], r[k] }' "$work/flows" | sort |
	while read -r from to fen requests; do
		printf '    %-34s %10s  %s\n' "$(who "$from") -> $(who "$to")" "$(yuan "$fen")" \
			"$requests"
	done
echo "  customer accounts per bank, from each bank's ledger (change checked against the flows):"
printf '    %-22s %12s %12s %10s\n' "" before after change
sum=0 terms=""
for bank in $banks; do
	was=$(total "$bank" "$work/before")
	is=$(total "$bank" "$work/after")
	sum=$((sum + is - was))
	terms="$terms$bank $(signed $((is - was))) + "
	printf '    %-22s %12s %12s %10s\n' "$bank" "$(yuan "$was")" "$(yuan "$is")" \
		"$(signed $((is - was)))"
	expect "$bank's change" "$(signed "$(flow_change "$bank")")" "$(signed $((is - was)))"
done
out=$(flow_change acquirer)
printf '    %-22s %12s %12s %10s  (outside the demo: paid at settlement)\n' \
	"acquirer 48020000" "" "" "$(signed "$out")"
printf '  conservation: %sacquirer %s = %s\n' "$terms" "$(signed "$out")" "$(yuan $((sum + out)))"
if [ $((sum + out)) -eq 0 ]; then
	echo "  money moved between accounts and banks; none was created or lost"
else
	fail "conservation" "the changes to sum to 0.00" "$(yuan $((sum + out)))"
fi

# ---- stopping -------------------------------------------------------------------------------

section "Stopping: SIGTERM drains the switch, then the banks"
kill -TERM "$switchd_pid"
wait "$switchd_pid" || die "switchd did not exit cleanly"
pids=${pids#"$switchd_pid "}
echo "switchd drained and exited 0"
for bank in $banks; do
	eval "pid=\$pid_$bank"
	kill -TERM "$pid"
	wait "$pid" || die "$bank did not exit cleanly"
	left=""
	for p in $pids; do [ "$p" = "$pid" ] || left="$left $p"; done
	pids=$left
	"$bin/banksim" --ledger "$work/$bank/ledger" --check-ledger >/dev/null ||
		die "$bank's book is not sound"
	echo "$bank exited 0; its book is sound (ledger_check)"
done

if [ "$(failures)" -gt 0 ]; then
	echo
	echo "demo: FAILED, $(failures) checks did not hold:"
	sed 's/^/  /' "$work/failures"
	echo "demo: logs are in $work (kept)"
	PAYSWITCH_DEMO_KEEP=1
	exit 1
fi
echo
echo "demo: every answer was the expected one, and the books agree"
