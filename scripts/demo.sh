#!/bin/sh
# demo.sh: the main job (`make demo`). Starts two simulated banks and the
# switch on loopback, loads the routes with switchctl, sends a burst of PSP
# payments and acquirer card purchases with a mix of outcomes, prints what
# happened to each and the banks' balances before and after, then stops
# everything cleanly. Every port is picked by the kernel; nothing is left
# running. PAYSWITCH_DEMO_KEEP=1 keeps the working directory (logs, stores).
set -eu
cd "$(dirname "$0")/.."
bin=build/bin
work=$(mktemp -d "${TMPDIR:-/tmp}/payswitch-demo-XXXXXX")
pids=""

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

# balances BANK: the bank's customer accounts, in yuan.
balances() {
	"$bin/banksim" --ledger "$work/$1/ledger" --dump-balances |
		sed -n 's/.*"account":"\([0-9]*\)".*"available":\(-*[0-9]*\).*/\1 \2/p' |
		while read -r account fen; do
			printf '  %-8s %s %12s\n' "$1" "$account" \
				"$(awk -v f="$fen" 'BEGIN { printf "%.2f", f / 100 }')"
		done
}

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
for bank in bank_a:01020000 bank_b:01030000; do
	name=${bank%%:*}
	"$bin/banksim" --name "$name" --institution "${bank##*:}" \
		--ledger "$work/$name/ledger" --accounts "$work/$name/accounts.json" \
		--ready-file "$work/$name/ready.json" --latency-ms 1-5 --log-level warn \
		2>"$work/$name/banksim.log" &
	pids="$pids $!"
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
balances bank_a
balances bank_b

section "A PSP sends payments (JSON lines, pspsim)"
cat > "$work/psp.jsonl" <<'EOF'
{"op":"hello","participant":"PSP01"}
# approved: payer at bank A, payee at bank B (two legs: debit, then credit)
{"op":"pay","id":"DEMO-0001","payer":{"account":"6222020000000001"},"payee":{"account":"6217000000000009","name":"Three Squirrels"},"amount":12850,"currency":"CNY","memo":"order 88123"}
# approved, on-us: both accounts at bank A
{"op":"pay","id":"DEMO-0002","payer":{"account":"6222020000000001"},"payee":{"account":"6222020000000009","name":"Lanzhou Noodles"},"amount":2800,"currency":"CNY"}
# declined 51: insufficient funds
{"op":"pay","id":"DEMO-0003","payer":{"account":"6222020000000002"},"payee":{"account":"6217000000000009"},"amount":99900,"currency":"CNY"}
# declined 14: bank A has no such account
{"op":"pay","id":"DEMO-0004","payer":{"account":"6222029999999999"},"payee":{"account":"6217000000000009"},"amount":100,"currency":"CNY"}
# declined 15: no bank routes this account
{"op":"pay","id":"DEMO-0005","payer":{"account":"9999000000000001"},"payee":{"account":"6217000000000009"},"amount":100,"currency":"CNY"}
# a duplicate of DEMO-0001: the original answer, no second debit
{"op":"pay","id":"DEMO-0001","payer":{"account":"6222020000000001"},"payee":{"account":"6217000000000009","name":"Three Squirrels"},"amount":12850,"currency":"CNY","memo":"order 88123"}
# the payee's bank refuses the credit (57, closed account): the debit is reversed
{"op":"pay","id":"DEMO-0006","payer":{"account":"6222020000000001"},"payee":{"account":"6217000000000004"},"amount":1000,"currency":"CNY"}
# a refund of part of DEMO-0001, then one for more than is left (13)
{"op":"refund","id":"DEMO-0007","original":"DEMO-0001","amount":5000,"currency":"CNY"}
{"op":"refund","id":"DEMO-0008","original":"DEMO-0001","amount":9000,"currency":"CNY"}
# a format error: amounts are integers in fen
{"op":"pay","id":"DEMO-0009","payer":{"account":"6222020000000001"},"payee":{"account":"6217000000000009"},"amount":128.50,"currency":"CNY"}
# the state and final answer of an earlier request
{"op":"query","id":"DEMO-0010","target":"DEMO-0001"}
EOF
grep -v '^#' "$work/psp.jsonl" | "$bin/pspsim" --connect "127.0.0.1:$psp" ||
	die "pspsim failed"

section "An acquirer sends card purchases (ISO 8583, iso8583 send)"
now=$(date -u +%m%d%H%M%S)
cat > "$work/acquirer.jsonl" <<EOF
{"mti":"0800","fields":{"7":"$now","11":1,"70":"301"}}
{"mti":"0200","fields":{"2":"6217000000000010","3":"000000","4":3500,"7":"$now","11":2,"12":"103000","13":"1125","32":"48020000","41":"TERM0001","42":"MERCHANT0000001","43":"Wudaokou Coffee          Beijing      CN","49":"156"}}
{"mti":"0200","fields":{"2":"6217000000000002","3":"000000","4":99900,"7":"$now","11":3,"12":"103000","13":"1125","32":"48020000","41":"TERM0001","42":"MERCHANT0000001","49":"156"}}
{"mti":"0200","fields":{"2":"4000000000000002","3":"000000","4":100,"7":"$now","11":4,"12":"103000","13":"1125","32":"48020000","41":"TERM0001","42":"MERCHANT0000001","49":"156"}}
{"mti":"0200","fields":{"2":"6217000000000010","3":"310000","7":"$now","11":5,"32":"48020000","41":"TERM0001","49":"156"}}
EOF
"$bin/iso8583" send --connect "127.0.0.1:$acq" --dialect ascii < "$work/acquirer.jsonl" \
	> "$work/acquirer.answers" || die "iso8583 send failed"
describe="echo test (0800/301)|purchase 35.00 on 6217000000000010|purchase 999.00 on 6217000000000002|purchase 1.00 on 4000000000000002 (no such BIN)|balance inquiry on 6217000000000010"
n=1
while read -r answer; do
	what=$(echo "$describe" | cut -d'|' -f$n)
	code=$(echo "$answer" | sed -n 's/.*"39":"\([0-9A-Z]*\)".*/\1/p')
	auth=$(echo "$answer" | sed -n 's/.*"38":"\([0-9A-Z ]*\)".*/ auth \1/p')
	rrn=$(echo "$answer" | sed -n 's/.*"37":"\([0-9A-Z]*\)".*/ rrn \1/p')
	bal=$(echo "$answer" | sed -n 's/.*"54":"[0-9]\{7\}\([CD]\)\([0-9]*\)".*/\1 \2/p' |
		awk '{ if ($0 != "") printf " balance %s%.2f", $1 == "D" ? "-" : "", $2 / 100 }')
	printf '  %-48s -> 39=%s%s%s%s\n' "$what" "$code" "$auth" "$rrn" "$bal"
	n=$((n + 1))
done < "$work/acquirer.answers"

section "What the switch counted (switchctl stats)"
"$bin/switchctl" --control "127.0.0.1:$control" stats | sed 's/^/  /'

section "Balances after (yuan)"
balances bank_a
balances bank_b

section "Stopping: SIGTERM drains the switch, then the banks"
kill -TERM "$switchd_pid"
wait "$switchd_pid" || die "switchd did not exit cleanly"
pids=${pids#"$switchd_pid "}
echo "switchd drained and exited 0"
for bank in bank_a bank_b; do
	"$bin/banksim" --ledger "$work/$bank/ledger" --check-ledger >/dev/null ||
		die "$bank's book is not sound"
	echo "$bank's book is sound (ledger_check)"
done
