#!/bin/sh
# bench-ledger-pg.sh: the ledger's benchmark work on PostgreSQL 15, side by
# side with build/bin/bench-ledger, medians of several runs.
#
# A throwaway cluster in a temporary directory (initdb), listening on a Unix
# socket only (listen_addresses=''), never on any network address. The same
# work as bench-ledger: 10,000 accounts that may not go negative, funded by
# a bank account; transfers between random pairs with fresh growing ids;
# each transfer checks the balance limit and the unique transfer id (the
# idempotency check) in a PL/pgSQL function, one call per batch, one
# transaction per call; batches of 1, 100 and 8190; synchronous_commit on
# (synced) and off (the documented faster mode: the last commits may be
# lost on a crash, nothing is corrupted). The cluster is removed at the end.
#
# Usage: scripts/bench-ledger-pg.sh [--runs N] [--no-ledger]
# Installs postgresql-15 if missing (benchmark only; not a build dependency).
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)

runs=3
with_ledger=1
while [ $# -gt 0 ]; do
	case $1 in
	--runs) runs=$2; shift 2 ;;
	--no-ledger) with_ledger=0; shift ;;
	*) echo "usage: $0 [--runs N] [--no-ledger]" >&2; exit 2 ;;
	esac
done

pgbin=/usr/lib/postgresql/15/bin
if [ ! -x "$pgbin/initdb" ]; then
	echo "bench-ledger-pg: installing postgresql-15 (benchmark only)"
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y --no-install-recommends postgresql-15 >/dev/null ||
		{ apt-get update >/dev/null && apt-get install -y --no-install-recommends postgresql-15 >/dev/null; }
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/bench-pg.XXXXXX")
# initdb refuses root: run the server as the package's postgres user then.
if [ "$(id -u)" -eq 0 ]; then
	chown postgres "$work"
	as_pg() { runuser -u postgres -- "$@"; }
else
	as_pg() { "$@"; }
fi
cleanup() {
	as_pg "$pgbin/pg_ctl" -D "$work/data" -m immediate stop >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

as_pg "$pgbin/initdb" -D "$work/data" -A trust -U bench >/dev/null
as_pg "$pgbin/pg_ctl" -D "$work/data" -l "$work/server.log" -w start -o \
	"-c listen_addresses='' -k $work -c shared_buffers=512MB \
	 -c max_wal_size=8GB -c checkpoint_timeout=30min -c wal_buffers=64MB" >/dev/null

psql_run() { as_pg psql -X -q -v ON_ERROR_STOP=1 -h "$work" -U bench -d postgres "$@"; }

psql_run >/dev/null <<'SQL'
create table accounts (
	id bigint primary key,
	ledger int not null, code int not null, flags int not null,
	debits_pending bigint not null default 0, debits_posted bigint not null default 0,
	credits_pending bigint not null default 0, credits_posted bigint not null default 0);
create table transfers (
	id bigint primary key,
	debit_account_id bigint not null, credit_account_id bigint not null,
	amount bigint not null, ledger int not null, code int not null,
	flags int not null, ts bigint not null);
create sequence ts_seq;
-- Account 1 is the bank; 2..10001 customers (flag 2: debits must not
-- exceed credits), each funded with 10^12.
insert into accounts (id, ledger, code, flags, debits_posted)
	values (1, 156, 1, 0, 10000 * 1000000000000);
insert into accounts (id, ledger, code, flags, credits_posted)
	select g, 156, 1, 2, 1000000000000 from generate_series(2, 10001) g;
create function create_transfers(p_id bigint[], p_dr bigint[], p_cr bigint[],
				 p_amount bigint[]) returns int
language plpgsql as $$
declare
	i int;
	rejected int := 0;
	d record;
	n int;
begin
	for i in 1 .. array_length(p_id, 1) loop
		select flags, debits_pending, debits_posted, credits_posted into d
			from accounts where id = p_dr[i] for update;
		if not found then rejected := rejected + 1; continue; end if;
		if d.flags & 2 <> 0 and
		   d.debits_pending + d.debits_posted + p_amount[i] > d.credits_posted then
			rejected := rejected + 1; continue;
		end if;
		perform 1 from accounts where id = p_cr[i] for update;
		if not found then rejected := rejected + 1; continue; end if;
		-- The unique id is the idempotency check: a retry inserts nothing.
		insert into transfers values (p_id[i], p_dr[i], p_cr[i], p_amount[i],
			156, 1, 0, nextval('ts_seq')) on conflict (id) do nothing;
		get diagnostics n = row_count;
		if n = 0 then rejected := rejected + 1; continue; end if;
		update accounts set debits_posted = debits_posted + p_amount[i]
			where id = p_dr[i];
		update accounts set credits_posted = credits_posted + p_amount[i]
			where id = p_cr[i];
	end loop;
	return rejected;
end $$;
vacuum analyze;
SQL

# gen SYNC BATCH COUNT FIRST_ID SEED: the SQL for COUNT transfers.
gen() {
	awk -v sync="$1" -v batch="$2" -v count="$3" -v first="$4" -v seed="$5" 'BEGIN {
		srand(seed);
		print "set synchronous_commit = " sync ";";
		id = first;
		for (done = 0; done < count; done += batch) {
			ids = drs = crs = amts = "";
			for (i = 0; i < batch; i++) {
				dr = 2 + int(rand() * 10000);
				cr = 2 + int(rand() * 9999);
				if (cr >= dr) cr++;
				sep = i ? "," : "";
				ids = ids sep id++; drs = drs sep dr; crs = crs sep cr;
				amts = amts sep (1 + int(rand() * 100));
			}
			printf "select create_transfers(%c{%s}%c,%c{%s}%c,%c{%s}%c,%c{%s}%c);\n",
				39, ids, 39, 39, drs, 39, 39, crs, 39, 39, amts, 39;
		}
	}'
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

next_id=1
results=$work/results
: >"$results"
for mode in sync fast; do
	sc=on
	[ "$mode" = fast ] && sc=off
	for batch in 1 100 8190; do
		# Enough work for a few seconds per run on this class of machine.
		case $mode/$batch in
		sync/1) count=1000 ;;
		fast/1) count=5000 ;;
		*/100) count=30000 ;;
		*) count=$((8190 * 4)) ;;
		esac
		for run in $(seq 1 "$runs"); do
			gen "$sc" "$batch" "$count" "$next_id" "$run$batch" >"$work/work.sql"
			chmod 644 "$work/work.sql"
			next_id=$((next_id + count + batch))
			t0=$(date +%s%N)
			psql_run -f "$work/work.sql" >/dev/null
			t1=$(date +%s%N)
			tps=$((count * 1000000000 / (t1 - t0)))
			echo "  run $run postgresql mode=$mode batch=$batch: $tps transfers/s"
			echo "$mode $batch $tps" >>"$results"
		done
	done
done
# Every transfer must have been accepted: a rejection would mean less work.
rejected=$(psql_run -t -A -c "select count(*) from accounts where flags & 2 <> 0 and debits_posted > credits_posted")
[ "$rejected" = 0 ] || echo "bench-ledger-pg: balance limit broken on $rejected accounts" >&2

ledger_out=$work/ledger.out
if [ "$with_ledger" = 1 ]; then
	if [ ! -x build/bin/bench-ledger ]; then
		echo "bench-ledger-pg: build/bin/bench-ledger missing: run make first" >&2
		exit 1
	fi
	build/bin/bench-ledger --runs "$runs" --seconds 2 | tee "$ledger_out"
fi

echo
echo "medians of $runs runs, transfers per second ($(nproc) cores, $(uname -m))"
printf '%-5s %6s %14s %14s %8s\n' mode batch ledger postgresql ratio
for mode in sync fast; do
	for batch in 1 100 8190; do
		pg=$(awk -v m="$mode" -v b="$batch" '$1 == m && $2 == b { print $3 }' "$results" | median)
		lg=-
		ratio=-
		if [ "$with_ledger" = 1 ]; then
			lg=$(sed -n "s/^mode=$mode batch=$batch median=\([0-9]*\).*/\1/p" "$ledger_out")
			ratio=$(awk -v a="$lg" -v b="$pg" 'BEGIN { printf "%.1fx", a / b }')
		fi
		printf '%-5s %6s %14s %14s %8s\n' "$mode" "$batch" "$lg" "$pg" "$ratio"
	done
done
