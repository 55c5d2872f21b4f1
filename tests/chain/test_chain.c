/*
 * test_chain.c: the whole chain (chain.h): four banks, UnionPay and
 * NetClear (netsim), PBOC (pbocsim), switchd, a PSP and an acquirer.
 *
 *   network down   UnionPay gone: a pay to bank C takes the alternate, a
 *                  direct link to bank C; NetClear gone (no alternate): a
 *                  pay from bank D and a payout to it are answered 91 and
 *                  move nothing
 *   conservation   a random mix (pspsim: pays, refunds, queries,
 *                  duplicates; unknown accounts, insufficient funds at
 *                  bank D, bank B dropping answers; card purchases through
 *                  both channels), a cutover, settlement at PBOC of every
 *                  batch (the switch's and both networks'): then each
 *                  member's reserve moved by exactly its settled position,
 *                  each bank's customers by its position less its fee
 *                  income (from the networks' clearing files), nothing was
 *                  created or lost in all, every ledger is sound, and
 *                  `switchctl recon` finds the window reconciled.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain.h"
#include "clearing_file.h"

static chain_t ch;

static int teardown(void **state)
{
	(void)state;
	ch_stop(&ch);
	return 0;
}

static int setup_alternate(void **state)
{
	(void)state;
	ch_init(&ch, "chain-down");
	ch.alternate_c = true;
	ch_start(&ch);
	return 0;
}

static int setup_mix(void **state)
{
	(void)state;
	ch_init(&ch, "chain-mix");
	ch.balance_d = 5000;     /* bank D's customers hold 50.00 each */
	ch.drop_b = 0.03;        /* bank B loses 3% of its answers */
	ch_start(&ch);
	return 0;
}

static const char *str(json_t *j, const char *key)
{
	const char *s = json_string_value(json_object_get(j, key));
	return s != NULL ? s : "";
}

static json_t *pay(const char *id, const char *payer, const char *payee,
		   int64_t amount)
{
	return ch_psp(&ch, "{\"op\":\"pay\",\"id\":\"%s\",\"payer\":{\"account\":\"%s\"},"
		      "\"payee\":{\"account\":\"%s\"},\"amount\":%lld,\"currency\":\"CNY\"}",
		      id, payer, payee, (long long)amount);
}

static void test_network_down(void **state)
{
	(void)state;
	char a[20], c[20], d[20];
	ch_account(&ch, CH_A, 1, a);
	ch_account(&ch, CH_C, 2, c);
	ch_account(&ch, CH_D, 3, d);
	int64_t a0 = ch_balance(&ch, CH_A, a), c0 = ch_balance(&ch, CH_C, c),
		d0 = ch_balance(&ch, CH_D, d);
	json_t *r = pay("ND-1", a, c, 1000);       /* through UnionPay */
	assert_string_equal(str(r, "code"), "00");
	json_decref(r);

	/* UnionPay gone: the route's alternate, bank C's own link. */
	ts_proc_kill(&ch.cup);
	assert_true(ch_wait_endpoint(&ch, "cup", false, 10000));
	r = pay("ND-2", a, c, 2000);
	assert_string_equal(str(r, "code"), "00");
	json_decref(r);
	assert_int_equal(ch_balance(&ch, CH_A, a), a0 - 3000);
	assert_int_equal(ch_balance(&ch, CH_C, c), c0 + 3000);

	/* NetClear gone, no alternate: 91, nothing moves. */
	ts_proc_kill(&ch.nc);
	assert_true(ch_wait_endpoint(&ch, "nc", false, 10000));
	r = pay("ND-3", d, a, 500);
	assert_string_equal(str(r, "code"), "91");
	json_decref(r);
	r = ch_psp(&ch, "{\"op\":\"payout\",\"id\":\"ND-4\",\"payee\":{\"account\":\"%s\"},"
		   "\"amount\":700,\"currency\":\"CNY\"}", d);
	assert_string_equal(str(r, "code"), "91");
	json_decref(r);
	/* A pay whose credit cannot go: the debit at A is reversed. */
	r = pay("ND-5", a, d, 400);
	assert_string_equal(str(r, "code"), "91");
	json_decref(r);
	assert_true(ch_wait_saf_empty(&ch, 10000));
	assert_int_equal(ch_balance(&ch, CH_D, d), d0);
	assert_int_equal(ch_balance(&ch, CH_A, a), a0 - 3000);
	/* The networks are gone for good here: they are not stopped again. */
	ch.cup.exited = ch.nc.exited = true;
}

/* ---- conservation ------------------------------------------------------------ */

/* A bank's fee income in the window's network periods, from the files
 * the networks wrote for it: issuer fees received less paid, network
 * fees received less paid. */
static int64_t fee_income(json_t *w, const char *member)
{
	int64_t income = 0;
	size_t i;
	json_t *p;
	json_t *periods = json_object_get(w, "periods");
	json_array_foreach(json_object_get(periods, "unionpay"), i, p) {
		char path[1200];
		snprintf(path, sizeof(path), "%s/%s/CUP-%s.txt", ch.cup_files, member,
			 json_string_value(p));
		FILE *f = fopen(path, "rb");
		if (f == NULL)
			continue;   /* the member had no leg in it */
		static char text[1 << 22];
		size_t len = fread(text, 1, sizeof(text) - 1, f);
		fclose(f);
		clf_cup_trailer_t t;
		clf_error_t err;
		if (clf_cup_read(text, len, NULL, NULL, NULL, &t, &err) != 0)
			fail_msg("%s: line %u: %s: %s", path, err.line, err.field, err.reason);
		income += t.totals.issuer_fee_receivable - t.totals.issuer_fee_payable +
			  t.totals.network_fee_receivable - t.totals.network_fee_payable;
	}
	json_array_foreach(json_object_get(periods, "netclear"), i, p) {
		char path[1200];
		snprintf(path, sizeof(path), "%s/%s/%s.json", ch.nc_files, member,
			 json_string_value(p));
		FILE *f = fopen(path, "rb");
		if (f == NULL)
			continue;
		char text[CLF_SUMMARY_BYTES_MAX + 1];
		size_t len = fread(text, 1, sizeof(text) - 1, f);
		fclose(f);
		clf_nc_summary_t s;
		clf_error_t err;
		if (clf_nc_parse(text, len, &s, &err) != 0)
			fail_msg("%s: %s: %s", path, err.field, err.reason);
		income += s.totals.issuer_fee_receivable - s.totals.issuer_fee_payable +
			  s.totals.network_fee_receivable - s.totals.network_fee_payable;
	}
	return income;
}

/* A member's settled position in the window: every channel's. */
static int64_t position(json_t *w, const char *member)
{
	int64_t sum = 0;
	size_t i;
	json_t *p;
	json_array_foreach(json_object_get(w, "positions"), i, p)
		if (strcmp(str(p, "member"), member) == 0)
			sum += json_integer_value(json_object_get(p, "amount"));
	return sum;
}

static void run_pspsim(void)
{
	char connect[32], report[600], out[1 << 16];
	snprintf(connect, sizeof(connect), "127.0.0.1:%u", ch.psp);
	snprintf(report, sizeof(report), "%s/pspsim.json", ch.dir);
	char *argv[] = {(char *)ts_bin("pspsim"), "--connect", connect, "--count", "1500",
			"--connections", "4", "--inflight", "8",
			"--mix", "pay=70,refund=12,query=6,duplicate=8,echo=4",
			"--amount", "exp:3000", "--bank-prefix", "622202,621700,622848,621226",
			/* 10% of the accounts drawn are held by no bank */
			"--accounts-per-bank", "330", "--seed", "11", "--id-prefix", "MIX",
			"--timeout-ms", "20000", "--json", NULL};
	char err[8192];
	int rc = ts_run(argv, NULL, out, sizeof(out), err, sizeof(err), 120000);
	if (rc != 0)
		fail_msg("pspsim exit %d\n%s\n%s", rc, out, err);
	json_t *r = json_loads(out, 0, NULL);
	assert_non_null(r);
	/* Every code the mix must have met. */
	char *text = json_dumps(r, JSON_COMPACT);
	assert_non_null(strstr(text, "\"00\""));
	assert_non_null(strstr(text, "\"51\""));    /* bank D's poor customers */
	assert_non_null(strstr(text, "\"14\""));    /* accounts no bank holds */
	free(text);
	json_decref(r);
}

static void run_purchases(void)
{
	/* Card purchases at issuers A (direct) and C (UnionPay), some at
	 * unknown cards. */
	int approved = 0;
	for (uint32_t i = 0; i < 30; i++) {
		char pan[20], code[3];
		ch_account(&ch, i % 2 ? CH_C : CH_A, i % 10 == 9 ? 9999 : 20 + i, pan);
		ch_purchase(&ch, pan, 100 + 37 * i, 500000 + i, code);
		assert_true(code[0] != '\0');
		approved += strcmp(code, "00") == 0;
	}
	assert_true(approved >= 20);
}

static void test_conservation(void **state)
{
	(void)state;
	int64_t cust0[CH_BANKS];
	for (int i = 0; i < CH_BANKS; i++)
		cust0[i] = ch_customers(&ch, i);
	json_t *res0 = ch_reserves(&ch);

	run_pspsim();
	run_purchases();
	/* Whatever was left unanswered is reversed before the cutover. */
	assert_true(ch_wait_saf_empty(&ch, 30000));

	char out[1 << 16];
	assert_int_equal(ch_switchctl(&ch, out, sizeof(out), "cutover", NULL), 0);
	json_t *w = ch_wait_window(&ch, 1, "settled", 60000);
	assert_non_null(w);
	/* Three batches: the switch's, UnionPay's, NetClear's. */
	assert_int_equal(json_array_size(json_object_get(w, "batches")), 3);
	/* The switch answered UnionPay's 0820 announcements, as expected. */
	char log[700];
	snprintf(log, sizeof(log), "%s/cup.log", ch.dir);
	FILE *f = fopen(log, "r");
	assert_non_null(f);
	char line[4096];
	while (fgets(line, sizeof(line), f) != NULL)
		if (strstr(line, "unexpected_response") != NULL)
			fail_msg("cup: %s", line);
	fclose(f);

	int rc = ch_switchctl(&ch, out, sizeof(out), "recon", "1", NULL);
	if (rc != 0)
		fail_msg("recon 1: exit %d\n%s", rc, out);
	assert_non_null(strstr(out, "window 1: reconciled"));

	json_t *res1 = ch_reserves(&ch);
	/* Each member's reserve moved by its settled position. */
	const char *member;
	json_t *v;
	int64_t others = 0;
	json_object_foreach(res1, member, v) {
		int64_t moved = json_integer_value(v) -
				json_integer_value(json_object_get(res0, member));
		assert_int_equal(moved, position(w, member));
		bool bank = false;
		for (int i = 0; i < CH_BANKS; i++)
			bank = bank || strcmp(ch.bank[i].member, member) == 0;
		if (!bank)
			others += moved;
	}
	/* Each bank's customers moved by its position less its fees. */
	int64_t customers = 0, fees = 0;
	for (int i = 0; i < CH_BANKS; i++) {
		int64_t moved = ch_customers(&ch, i) - cust0[i];
		int64_t income = fee_income(w, ch.bank[i].member);
		fprintf(stderr, "%s: customers %+lld, position %+lld, fee income %+lld\n",
			ch.bank[i].name, (long long)moved,
			(long long)position(w, ch.bank[i].member), (long long)income);
		assert_int_equal(moved, position(w, ch.bank[i].member) - income);
		customers += moved;
		fees += income;
	}
	/* Nothing created, nothing lost: what the customers lost, the PSP,
	 * the acquirer, the networks and the banks' fees hold. */
	fprintf(stderr, "customers %+lld, PSP/acquirer/networks %+lld, bank fees %+lld\n",
		(long long)customers, (long long)others, (long long)fees);
	assert_int_equal(customers + others + fees, 0);
	assert_true(customers != 0);
	json_decref(res0);
	json_decref(res1);
	json_decref(w);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_network_down, setup_alternate,
						teardown),
		cmocka_unit_test_setup_teardown(test_conservation, setup_mix, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
