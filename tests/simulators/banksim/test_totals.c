/*
 * test_totals.c: banksim's reconciliation totals as the switch reads
 * them, a 0500 over a real connection answered 0510: per settlement date
 * (field 15), after a mix of debits, credits, refunds, reversals,
 * declines and duplicates, single-phase and two-phase; the same after a
 * SIGKILL and a restart, and after every request resent; field 15 echoed
 * on every answer; per forwarding institution (field 33), as the switch's
 * link and a network's reach the same bank: each 0500 answered with its
 * own forwarder's totals and field 33 echoed, one without field 33 with
 * the sum, across a SIGKILL too, and --dump-balances naming them; and the
 * reversal of an original the bank never saw (25, or 00 for an advice),
 * whose late original stays refused.
 */
#include "bank_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define ALICE "6222020000000001"   /* 1000.00 */
#define BOB "6222020000000002"     /* 1000.00 */
#define POOR "6222020000000003"    /* 10.00 */
#define SHOP "6217000000000009"    /* a merchant, empty */
#define UNKNOWN "6222029999999999"

#define DAY1 "20251203"
#define DAY2 "20251204"

static const char accounts[] =
	"[{\"account\": \"" ALICE "\", \"balance\": 100000},"
	" {\"account\": \"" BOB "\", \"balance\": 100000},"
	" {\"account\": \"" POOR "\", \"balance\": 1000},"
	" {\"account\": \"" SHOP "\"}]";

static void expect_totals(int fd, uint32_t stan, const char *mmdd,
			  const txn_totals_t *want)
{
	txn_totals_t got = bt_totals(fd, stan, mmdd);
	assert_int_equal(got.credits, want->credits);
	assert_int_equal(got.credits_amount, want->credits_amount);
	assert_int_equal(got.credit_reversals, want->credit_reversals);
	assert_int_equal(got.credit_reversals_amount,
			 want->credit_reversals_amount);
	assert_int_equal(got.debits, want->debits);
	assert_int_equal(got.debits_amount, want->debits_amount);
	assert_int_equal(got.debit_reversals, want->debit_reversals);
	assert_int_equal(got.debit_reversals_amount,
			 want->debit_reversals_amount);
	assert_int_equal(got.net, want->net);
}

/* bt_code, also checking that the answer echoes field 15. */
static int dated_code(int fd, const txn_t *t, const char *mmdd)
{
	bt_answer_t r = bt_call(fd, t);
	assert_string_equal(r.settle_date, mmdd);
	return (r.response[0] - '0') * 10 + (r.response[1] - '0');
}

static uint16_t today_utc(void)
{
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	return (uint16_t)((tm.tm_mon + 1) * 100 + tm.tm_mday);
}

static void test_totals_per_date_survive_sigkill(void **state)
{
	(void)state;
	bt_bank_t b;
	bt_setup(&b, "banksimt", accounts);
	bt_start(&b, NULL);
	int fd = bt_connect(&b);
	txn_t debit, dup, poor, unknown, credit, refund, small, rev, rep,
		crev, ghost, grev, late;
	/* Day 1: two debits, a credit and a refund credit; declines and a
	 * duplicate count nothing. */
	bt_financial(&debit, "000000", ALICE, 10000, 1);
	bt_dated(&debit, DAY1);
	assert_int_equal(dated_code(fd, &debit, "1203"), 0);
	dup = debit;
	assert_int_equal(dated_code(fd, &dup, "1203"), 94);
	bt_financial(&poor, "000000", POOR, 5000, 2);
	bt_dated(&poor, DAY1);
	assert_int_equal(dated_code(fd, &poor, "1203"), 51);
	bt_financial(&unknown, "000000", UNKNOWN, 100, 3);
	bt_dated(&unknown, DAY1);
	assert_int_equal(dated_code(fd, &unknown, "1203"), 14);
	bt_financial(&credit, "260000", SHOP, 3000, 4);
	bt_dated(&credit, DAY1);
	assert_int_equal(dated_code(fd, &credit, "1203"), 0);
	bt_financial(&refund, "200000", SHOP, 500, 5);
	bt_dated(&refund, DAY1);
	assert_int_equal(dated_code(fd, &refund, "1203"), 0);
	bt_financial(&small, "000000", ALICE, 2000, 6);
	bt_dated(&small, DAY1);
	assert_int_equal(dated_code(fd, &small, "1203"), 0);
	/* Reversals that took money back count; their repeats, dated
	 * otherwise, do not count again. */
	bt_reversal(&rev, &small, 7, false);
	bt_dated(&rev, DAY1);
	assert_int_equal(dated_code(fd, &rev, "1203"), 0);
	bt_reversal(&rep, &small, 8, true);
	bt_dated(&rep, DAY2);
	assert_int_equal(dated_code(fd, &rep, "1204"), 0);
	bt_reversal(&crev, &credit, 9, false);
	bt_dated(&crev, DAY1);
	assert_int_equal(dated_code(fd, &crev, "1203"), 0);
	/* A reversal that found nothing: 25, nothing counted. */
	bt_financial(&ghost, "000000", ALICE, 7000, 10);
	bt_dated(&ghost, DAY1);
	bt_reversal(&grev, &ghost, 11, false);
	assert_int_equal(dated_code(fd, &grev, "1203"), 25);
	late = ghost;
	assert_int_equal(dated_code(fd, &late, "1203"), 5);
	/* Day 2: one credit. */
	bt_financial(&credit, "260000", BOB, 7000, 12);
	bt_dated(&credit, DAY2);
	assert_int_equal(dated_code(fd, &credit, "1204"), 0);

	const txn_totals_t day1 = {
		.credits = 2, .credits_amount = 3500,
		.credit_reversals = 1, .credit_reversals_amount = 3000,
		.debits = 2, .debits_amount = 12000,
		.debit_reversals = 1, .debit_reversals_amount = 2000,
		.net = 3500 - 3000 - 12000 + 2000};
	const txn_totals_t day2 = {.credits = 1, .credits_amount = 7000,
				   .net = 7000};
	const txn_totals_t none = {0};
	expect_totals(fd, 100, "1203", &day1);
	expect_totals(fd, 101, "1204", &day2);
	expect_totals(fd, 102, "0101", &none);
	assert_int_equal(bt_available(&b, ALICE), 90000);
	assert_int_equal(bt_available(&b, SHOP), 500);

	/* Killed: the totals are the book's, so they come back as they were;
	 * everything resent is a duplicate or a repeat and counts nothing. */
	close(fd);
	bt_kill(&b);
	bt_check(&b);
	bt_start(&b, NULL);
	fd = bt_connect(&b);
	expect_totals(fd, 103, "1203", &day1);
	expect_totals(fd, 104, "1204", &day2);
	assert_int_equal(dated_code(fd, &debit, "1203"), 94);
	assert_int_equal(dated_code(fd, &small, "1203"), 94);
	assert_int_equal(dated_code(fd, &rev, "1203"), 0);
	assert_int_equal(dated_code(fd, &crev, "1203"), 0);
	assert_int_equal(dated_code(fd, &grev, "1203"), 25);
	assert_int_equal(dated_code(fd, &credit, "1204"), 94);
	expect_totals(fd, 105, "1203", &day1);
	expect_totals(fd, 106, "1204", &day2);

	/* Something new on day 1 after the restart adds to it. */
	txn_t more;
	bt_financial(&more, "000000", BOB, 400, 13);
	bt_dated(&more, DAY1);
	assert_int_equal(dated_code(fd, &more, "1203"), 0);
	txn_totals_t day1_more = day1;
	day1_more.debits = 3;
	day1_more.debits_amount = 12400;
	day1_more.net = day1.net - 400;
	expect_totals(fd, 107, "1203", &day1_more);

	/* Without field 15 a request counts under today's UTC date (and
	 * its answer has no field 15). */
	uint16_t before = today_utc();
	txn_t undated;
	bt_financial(&undated, "260000", SHOP, 250, 14);
	bt_answer_t r = bt_call(fd, &undated);
	assert_string_equal(r.response, "00");
	assert_string_equal(r.settle_date, "");
	char mmdd[8];
	snprintf(mmdd, sizeof(mmdd), "%04u", (unsigned)before);
	txn_totals_t today = bt_totals(fd, 108, mmdd);
	if (today_utc() == before) /* not across midnight */
		assert_true(today.credits >= 1 && today.credits_amount >= 250);
	close(fd);
	bt_teardown(&b);
}

#define SWITCH_FWD "99990000"   /* the switch's own link */
#define UNIONPAY_FWD "00010000" /* netsim unionpay's member id */

static void via(txn_t *t, const char *forwarder)
{
	ps_strlcpy(t->forwarder, forwarder, sizeof(t->forwarder));
}

/* dated_code, also checking that the answer echoes field 33. */
static int via_code(int fd, const txn_t *t, const char *mmdd)
{
	bt_answer_t r = bt_call(fd, t);
	assert_string_equal(r.settle_date, mmdd);
	assert_string_equal(r.forwarder, t->forwarder);
	return (r.response[0] - '0') * 10 + (r.response[1] - '0');
}

static void expect_via(int fd, uint32_t stan, const char *mmdd,
		       const char *forwarder, const txn_totals_t *want)
{
	txn_totals_t got = bt_totals_via(fd, stan, mmdd, forwarder);
	assert_memory_equal(&got, want, sizeof(got));
}

/* The switch's direct legs and UnionPay's legs reach one bank under the
 * same date: the switch's 0500 (field 33 its institution) sees only its
 * own, UnionPay's only its own, a 0500 without field 33 the sum; a
 * reversal over the other link counts under it; after a SIGKILL and every
 * request resent (over either link) nothing moves. */
static void test_totals_per_forwarder_survive_sigkill(void **state)
{
	(void)state;
	bt_bank_t b;
	bt_setup(&b, "banksimtf", accounts);
	bt_start(&b, NULL);
	int fd = bt_connect(&b);
	txn_t sw_debit, sw_small, sw_rev, up_credit, up_debit, up_rev, bare;
	bt_financial(&sw_debit, "000000", ALICE, 10000, 1);
	bt_dated(&sw_debit, DAY1);
	via(&sw_debit, SWITCH_FWD);
	assert_int_equal(via_code(fd, &sw_debit, "1203"), 0);
	bt_financial(&sw_small, "000000", ALICE, 400, 2);
	bt_dated(&sw_small, DAY1);
	via(&sw_small, SWITCH_FWD);
	assert_int_equal(via_code(fd, &sw_small, "1203"), 0);
	bt_reversal(&sw_rev, &sw_small, 3, false);
	bt_dated(&sw_rev, DAY1);
	via(&sw_rev, SWITCH_FWD);
	assert_int_equal(via_code(fd, &sw_rev, "1203"), 0);
	bt_financial(&up_credit, "260000", SHOP, 3000, 4);
	bt_dated(&up_credit, DAY1);
	via(&up_credit, UNIONPAY_FWD);
	assert_int_equal(via_code(fd, &up_credit, "1203"), 0);
	bt_financial(&up_debit, "000000", BOB, 2500, 5);
	bt_dated(&up_debit, DAY1);
	via(&up_debit, UNIONPAY_FWD);
	assert_int_equal(via_code(fd, &up_debit, "1203"), 0);
	/* UnionPay reverses its debit on the next day. */
	bt_reversal(&up_rev, &up_debit, 6, false);
	bt_dated(&up_rev, DAY2);
	via(&up_rev, UNIONPAY_FWD);
	assert_int_equal(via_code(fd, &up_rev, "1204"), 0);
	bt_financial(&bare, "260000", SHOP, 100, 7);
	bt_dated(&bare, DAY1);
	via(&bare, "");
	assert_int_equal(via_code(fd, &bare, "1203"), 0);

	const txn_totals_t sw1 = {
		.debits = 2, .debits_amount = 10400,
		.debit_reversals = 1, .debit_reversals_amount = 400,
		.net = -10000};
	const txn_totals_t up1 = {.credits = 1, .credits_amount = 3000,
				  .debits = 1, .debits_amount = 2500,
				  .net = 500};
	const txn_totals_t up2 = {.debit_reversals = 1,
				  .debit_reversals_amount = 2500,
				  .net = 2500};
	const txn_totals_t none1 = {.credits = 1, .credits_amount = 100,
				    .net = 100};
	const txn_totals_t all1 = {
		.credits = 2, .credits_amount = 3100,
		.debits = 3, .debits_amount = 12900,
		.debit_reversals = 1, .debit_reversals_amount = 400,
		.net = 3100 - 12900 + 400};
	const txn_totals_t zero = {0};
	for (int round = 0; round < 2; round++) {
		uint32_t stan = 100 + 10 * (uint32_t)round;
		expect_via(fd, stan, "1203", SWITCH_FWD, &sw1);
		expect_via(fd, stan + 1, "1203", UNIONPAY_FWD, &up1);
		expect_via(fd, stan + 2, "1203", "0", &none1);
		expect_via(fd, stan + 3, "1203", "", &all1);
		expect_via(fd, stan + 4, "1204", UNIONPAY_FWD, &up2);
		expect_via(fd, stan + 5, "1204", "", &up2);
		expect_via(fd, stan + 6, "1204", SWITCH_FWD, &zero);
		expect_via(fd, stan + 7, "1203", BT_FORWARDER, &zero);
		if (round == 1)
			break;
		/* Killed; then everything again, some of it over the other
		 * link: duplicates and repeats, nothing counted. */
		close(fd);
		bt_kill(&b);
		bt_check(&b);
		bt_start(&b, NULL);
		fd = bt_connect(&b);
		assert_int_equal(via_code(fd, &sw_debit, "1203"), 94);
		via(&sw_debit, UNIONPAY_FWD);
		assert_int_equal(via_code(fd, &sw_debit, "1203"), 94);
		assert_int_equal(via_code(fd, &sw_rev, "1203"), 0);
		via(&sw_rev, UNIONPAY_FWD);
		sw_rev.leg[0].stan = 8;
		assert_int_equal(via_code(fd, &sw_rev, "1203"), 0);
		assert_int_equal(via_code(fd, &up_credit, "1203"), 94);
		assert_int_equal(via_code(fd, &up_rev, "1204"), 0);
		via(&up_rev, SWITCH_FWD);
		up_rev.leg[0].stan = 9;
		assert_int_equal(via_code(fd, &up_rev, "1204"), 0);
		assert_int_equal(via_code(fd, &bare, "1203"), 94);
	}
	assert_int_equal(bt_available(&b, ALICE), 90000);
	assert_int_equal(bt_available(&b, BOB), 100000);
	close(fd);
	bt_stop(&b);

	/* --dump-balances says whose each total is. */
	static char out[1 << 16];
	char err[1024];
	char *argv[] = {(char *)ts_bin("banksim"), "--ledger", b.ledger,
			"--dump-balances", NULL};
	assert_int_equal(ts_run(argv, NULL, out, sizeof(out), err,
				sizeof(err), BT_WAIT_MS), 0);
	assert_non_null(strstr(out,
		"{\"id\":\"300099990000120331\",\"kind\":\"totals\","
		"\"date\":\"1203\",\"forwarder\":\"99990000\","
		"\"total\":\"debits_amount\",\"ledger\":999,"
		"\"debits_pending\":0,\"debits_posted\":0,"
		"\"credits_pending\":0,\"credits_posted\":10400}"));
	assert_non_null(strstr(out,
		"{\"id\":\"300000010000120441\",\"kind\":\"totals\","
		"\"date\":\"1204\",\"forwarder\":\"10000\","
		"\"total\":\"debit_reversals_amount\","));
	assert_non_null(strstr(out,
		"{\"id\":\"2120310\",\"kind\":\"totals\","
		"\"date\":\"1203\",\"forwarder\":\"0\","
		"\"total\":\"credits_count\","));
	bt_teardown(&b);
}

/* Two-phase: an authorisation counts when its completion posts it, under
 * the authorisation's date and forwarder (whichever link the completion
 * came by) and for the amount posted; a voided one counts nothing and its
 * reversal says 25. */
static void test_two_phase_totals(void **state)
{
	(void)state;
	bt_bank_t b;
	bt_setup(&b, "banksimtp", accounts);
	const char *extra[] = {"--two-phase", NULL};
	bt_start(&b, extra);
	int fd = bt_connect(&b);
	const txn_totals_t none = {0};
	txn_t auth, adv, part, padv, voided, vrev, rev;
	bt_financial(&auth, "000000", ALICE, 10000, 1);
	bt_dated(&auth, DAY1);
	assert_int_equal(dated_code(fd, &auth, "1203"), 0);
	expect_totals(fd, 100, "1203", &none); /* held, not posted */
	bt_completion(&adv, &auth, 2, false);
	bt_dated(&adv, DAY2); /* completed the next day, */
	via(&adv, UNIONPAY_FWD); /* over another link */
	assert_int_equal(dated_code(fd, &adv, "1204"), 0);
	bt_completion(&adv, &auth, 3, true);
	bt_dated(&adv, DAY2);
	assert_int_equal(dated_code(fd, &adv, "1204"), 94);
	txn_totals_t day1 = {.debits = 1, .debits_amount = 10000,
			     .net = -10000};
	expect_totals(fd, 101, "1203", &day1);
	expect_totals(fd, 102, "1204", &none);
	expect_via(fd, 107, "1203", UNIONPAY_FWD, &none);
	expect_via(fd, 108, "1204", UNIONPAY_FWD, &none);
	/* A partial completion counts what it posted. */
	bt_financial(&part, "000000", ALICE, 8000, 4);
	bt_dated(&part, DAY1);
	assert_int_equal(dated_code(fd, &part, "1203"), 0);
	bt_completion(&padv, &part, 5, false);
	bt_dated(&padv, DAY1);
	padv.amount = 5000;
	assert_int_equal(dated_code(fd, &padv, "1203"), 0);
	day1.debits = 2;
	day1.debits_amount = 15000;
	day1.net = -15000;
	expect_totals(fd, 103, "1203", &day1);
	/* Voided: nothing was posted, so 25, now and on the repeat. */
	bt_financial(&voided, "000000", ALICE, 3000, 6);
	bt_dated(&voided, DAY1);
	assert_int_equal(dated_code(fd, &voided, "1203"), 0);
	bt_reversal(&vrev, &voided, 7, false);
	assert_int_equal(dated_code(fd, &vrev, "1203"), 25);
	bt_reversal(&vrev, &voided, 8, true);
	assert_int_equal(dated_code(fd, &vrev, "1203"), 25);
	expect_totals(fd, 104, "1203", &day1);
	/* A completed debit reversed: 00, a debit reversal on its own date. */
	bt_reversal(&rev, &auth, 9, false);
	bt_dated(&rev, DAY2);
	assert_int_equal(dated_code(fd, &rev, "1204"), 0);
	const txn_totals_t day2 = {.debit_reversals = 1,
				   .debit_reversals_amount = 10000,
				   .net = 10000};
	expect_totals(fd, 105, "1204", &day2);
	expect_totals(fd, 106, "1203", &day1);
	assert_int_equal(bt_posted(&b, ALICE), 100000 - 5000);
	assert_int_equal(bt_available(&b, ALICE), 100000 - 5000);
	close(fd);
	bt_teardown(&b);
}

/* The reversal of an original never seen: 25 (nothing was reversed), the
 * repeat 25 too, and the original, late, is refused, across a restart;
 * an advice (0420) of another is acknowledged 00, with the same effect. */
static void test_unknown_original_reversal_is_25(void **state)
{
	(void)state;
	bt_bank_t b;
	bt_setup(&b, "banksimtu", accounts);
	bt_start(&b, NULL);
	int fd = bt_connect(&b);
	txn_t ghost, rev, adv_orig, adv;
	bt_financial(&ghost, "000000", ALICE, 6000, 1);
	bt_dated(&ghost, DAY1);
	bt_reversal(&rev, &ghost, 2, false);
	assert_int_equal(dated_code(fd, &rev, "1203"), 25);
	bt_reversal(&rev, &ghost, 3, true);
	assert_int_equal(dated_code(fd, &rev, "1203"), 25);
	bt_financial(&adv_orig, "260000", SHOP, 900, 4);
	bt_dated(&adv_orig, DAY1);
	bt_reversal(&adv, &adv_orig, 5, false);
	adv.flags |= TXN_F_ADVICE; /* 0420 */
	bt_answer_t r = bt_call(fd, &adv);
	assert_string_equal(r.mti, "0430");
	assert_string_equal(r.response, "00");
	close(fd);
	bt_stop(&b);

	bt_start(&b, NULL);
	fd = bt_connect(&b);
	assert_int_equal(dated_code(fd, &ghost, "1203"), 5);
	assert_int_equal(dated_code(fd, &adv_orig, "1203"), 5);
	assert_int_equal(bt_available(&b, ALICE), 100000);
	assert_int_equal(bt_available(&b, SHOP), 0);
	/* Known now, but declined: still nothing to reverse. */
	bt_reversal(&rev, &ghost, 6, true);
	assert_int_equal(dated_code(fd, &rev, "1203"), 25);
	const txn_totals_t none = {0};
	expect_totals(fd, 100, "1203", &none);
	close(fd);
	bt_teardown(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_totals_per_date_survive_sigkill),
		cmocka_unit_test(test_totals_per_forwarder_survive_sigkill),
		cmocka_unit_test(test_two_phase_totals),
		cmocka_unit_test(test_unknown_original_reversal_is_25),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
