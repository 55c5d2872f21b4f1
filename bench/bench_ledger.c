/*
 * bench_ledger.c: transfers per second of the ledger, for batches of 1,
 * 100 and 8,190 transfers between 10,000 accounts, in the synced
 * (LEDGER_DURABILITY_SYNC) and the fast (LEDGER_DURABILITY_NOSYNC) mode.
 *
 * Every account may not go negative (the balance check runs on every
 * transfer) and every transfer carries a fresh id (the idempotency check
 * runs on every transfer). Ids grow, as the header recommends. Each
 * configuration runs for --seconds per run; --runs runs give a median.
 * Numbers only: this is never a pass/fail test.
 *
 * Usage: bench-ledger [--seconds S] [--runs N] [--mode sync|fast|both]
 *                     [--batches 1,100,8190] [--dir DIR] [--check]
 * --check runs ledger_check over the whole book at the end (a minute or
 * so for ten million transfers).
 */
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core.h"
#include "ledger.h"

#define ACCOUNTS 10000
#define FUND_AMOUNT 1000000000000ull
#define RUNS_MAX 15
#define BATCHES_MAX 8

static ledger_transfer_t batch[LEDGER_BATCH_MAX];
static ledger_result_t results[LEDGER_BATCH_MAX];
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(void)
{
	return ps_xorshift64s(&rng_state);
}

static int rm_entry(const char *path, const struct stat *st, int type,
		    struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	return remove(path);
}

static void die(const char *what, int rc)
{
	fprintf(stderr, "bench-ledger: %s: %s\n", what, ledger_strerror(rc));
	exit(1);
}

/* Account 1 is the bank; 2..ACCOUNTS+1 the customers, funded by it. */
static void setup(ledger_t *l, uint64_t *next_id)
{
	static ledger_account_t accounts[LEDGER_BATCH_MAX];
	for (uint64_t first = 1; first <= ACCOUNTS + 1;) {
		uint32_t n = 0;
		while (n < LEDGER_BATCH_MAX && first <= ACCOUNTS + 1) {
			ledger_account_t *a = &accounts[n++];
			memset(a, 0, sizeof(*a));
			a->id = ledger_id_from_u64(first);
			a->ledger = 156;
			a->code = 1;
			if (first != 1)
				a->flags = LEDGER_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS;
			first++;
		}
		int rc = ledger_create_accounts(l, accounts, n, results);
		if (rc != 0)
			die("create accounts", rc);
	}
	for (uint64_t acct = 2; acct <= ACCOUNTS + 1;) {
		uint32_t n = 0;
		while (n < LEDGER_BATCH_MAX && acct <= ACCOUNTS + 1) {
			ledger_transfer_t *t = &batch[n++];
			memset(t, 0, sizeof(*t));
			t->id = ledger_id_from_u64((*next_id)++);
			t->debit_account_id = ledger_id_from_u64(1);
			t->credit_account_id = ledger_id_from_u64(acct++);
			t->amount = FUND_AMOUNT;
			t->ledger = 156;
			t->code = 1;
		}
		int rc = ledger_create_transfers(l, batch, n, results);
		if (rc != 0)
			die("fund accounts", rc);
	}
}

static void fill(uint32_t n, uint64_t *next_id)
{
	for (uint32_t i = 0; i < n; i++) {
		ledger_transfer_t *t = &batch[i];
		memset(t, 0, sizeof(*t));
		uint64_t dr = 2 + rng() % ACCOUNTS;
		uint64_t cr = 2 + rng() % (ACCOUNTS - 1);
		if (cr >= dr)
			cr++;
		t->id = ledger_id_from_u64((*next_id)++);
		t->debit_account_id = ledger_id_from_u64(dr);
		t->credit_account_id = ledger_id_from_u64(cr);
		t->amount = 1 + rng() % 100;
		t->ledger = 156;
		t->code = 1;
	}
}

/* Runs batches of size n for about seconds; returns transfers/second. */
static double measure(ledger_t *l, uint32_t n, double seconds,
		      uint64_t *next_id)
{
	uint64_t spent_ns = 0, done = 0, rejected = 0;
	uint64_t budget_ns = (uint64_t)(seconds * 1e9);
	while (spent_ns < budget_ns) {
		fill(n, next_id);
		uint64_t t0 = ps_mono_ns();
		int rc = ledger_create_transfers(l, batch, n, results);
		spent_ns += ps_mono_ns() - t0;
		if (rc != 0)
			die("create transfers", rc);
		for (uint32_t i = 0; i < n; i++)
			rejected += results[i].result != LEDGER_TRANSFER_OK;
		done += n;
	}
	if (rejected != 0)
		fprintf(stderr, "bench-ledger: %llu transfers rejected\n",
			(unsigned long long)rejected);
	return (double)done * 1e9 / (double)spent_ns;
}

static int compare_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	double seconds = 2.0;
	int runs = 3;
	const char *mode = "both";
	const char *dir_base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	uint32_t batches[BATCHES_MAX] = {1, 100, LEDGER_BATCH_MAX};
	int batch_count = 3;
	bool check = false;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--check") == 0)
			check = true;
		else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
			seconds = atof(argv[++i]);
		else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
			runs = atoi(argv[++i]);
		else if (strcmp(argv[i], "--mode") == 0 && i + 1 < argc)
			mode = argv[++i];
		else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
			dir_base = argv[++i];
		else if (strcmp(argv[i], "--batches") == 0 && i + 1 < argc) {
			batch_count = 0;
			for (char *s = strtok(argv[++i], ","); s != NULL &&
			     batch_count < BATCHES_MAX; s = strtok(NULL, ","))
				batches[batch_count++] = (uint32_t)atoi(s);
		} else {
			fprintf(stderr,
				"usage: bench-ledger [--seconds S] [--runs N] "
				"[--mode sync|fast|both] [--batches 1,100,8190] "
				"[--dir DIR] [--check]\n");
			return 2;
		}
	}
	if (runs < 1 || runs > RUNS_MAX || seconds <= 0)
		return 2;
	for (int b = 0; b < batch_count; b++)
		if (batches[b] == 0 || batches[b] > LEDGER_BATCH_MAX)
			return 2;
	printf("bench-ledger: %d accounts, batches of", ACCOUNTS);
	for (int b = 0; b < batch_count; b++)
		printf(" %u", batches[b]);
	printf(", %.1f s per run, %d runs\n", seconds, runs);

	const uint32_t modes[2] = {LEDGER_DURABILITY_SYNC,
				   LEDGER_DURABILITY_NOSYNC};
	const char *mode_names[2] = {"sync", "fast"};
	for (int m = 0; m < 2; m++) {
		if (strcmp(mode, "both") != 0 && strcmp(mode, mode_names[m]) != 0)
			continue;
		char dir[512];
		snprintf(dir, sizeof(dir), "%s/bench-ledger-XXXXXX", dir_base);
		if (mkdtemp(dir) == NULL) {
			perror("mkdtemp");
			return 1;
		}
		ledger_options_t o;
		ledger_options_init(&o);
		o.durability = modes[m];
		o.map_bytes = 4ull << 30;
		ledger_t *l;
		int rc = ledger_open(&l, dir, &o);
		if (rc != 0)
			die("open", rc);
		uint64_t next_id = 1;
		setup(l, &next_id);
		double tps[BATCHES_MAX][RUNS_MAX];
		for (int r = 0; r < runs; r++)
			for (int b = 0; b < batch_count; b++) {
				tps[b][r] = measure(l, batches[b], seconds,
						    &next_id);
				printf("  run %d mode=%s batch=%u: %.0f "
				       "transfers/s\n",
				       r + 1, mode_names[m], batches[b],
				       tps[b][r]);
				fflush(stdout);
			}
		for (int b = 0; b < batch_count; b++) {
			qsort(tps[b], (size_t)runs, sizeof(double),
			      compare_double);
			printf("mode=%s batch=%u median=%.0f transfers/s\n",
			       mode_names[m], batches[b], tps[b][runs / 2]);
		}
		if (check) {
			ledger_check_report_t report;
			rc = ledger_check(l, &report);
			printf("mode=%s check: %s (%llu transfers)\n",
			       mode_names[m],
			       rc == 0 && report.ok ? "ok" : "FAILED",
			       (unsigned long long)report.transfers);
		}
		ledger_close(l);
		nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	}
	return 0;
}
