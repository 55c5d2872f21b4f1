/*
 * test_netclear.c: netsim --mode netclear as a process, the test acting
 * as the switch (a NetClear member, issuer 99990000) in front of two
 * real banksims and PBOC.
 *
 * A session: hello; an agreement payment, a payout and a refund, each
 * forwarded over ISO 8583 to the bank that holds the account and answered
 * under a header whose batch is the session (B2026120301); a payment and
 * its reversal; a sender that is no member refused. Then the member's
 * cutover message, answered with the batch it closed; the next session's
 * legs carry B2026120302 (or today's first session, B<today>01, once
 * the clock is past the start date); each member's session summary parses
 * (clearing_file.h) with hand-computed counts, fees and nets; the batch
 * at PBOC sums to zero.
 */
#include "ns_test.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clearing_file.h"
#include "core.h"

#define START_DATE "20261203" /* ns_test.c's --start-date */
#define SESSION1 "B2026120301"

/* The session after SESSION1: the start date's second, or, once the
 * wall clock's day (UTC) is past the start date, today's first. */
static void session2(char out[12])
{
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	char today[9];
	strftime(today, sizeof(today), "%Y%m%d", &tm);
	if (strcmp(today, START_DATE) > 0)
		snprintf(out, 12, "B%s01", today);
	else
		snprintf(out, 12, "B%s02", START_DATE);
}

static txn_response_t call(nt_member_t *m, const txn_t *t, const char *batch)
{
	nt_member_send(m, t, NULL, 0, NULL);
	txn_response_t r = nt_member_answer(m, t->leg[0].stan, NULL, NULL);
	if (batch != NULL)
		assert_string_equal(r.period, batch);
	return r;
}

static clf_nc_summary_t summary(const nt_net_t *net, const char *member)
{
	size_t len = 0;
	char *text = nt_clearing_file(net, member, SESSION1 ".json", &len);
	if (text == NULL)
		fail_msg("no summary for %s", member);
	clf_nc_summary_t s;
	clf_error_t err;
	if (clf_nc_parse(text, len, &s, &err) != 0)
		fail_msg("%s: %s: %s", member, err.field, err.reason);
	free(text);
	assert_string_equal(s.member, member);
	assert_string_equal(s.network, "00020000");
	assert_string_equal(s.batch, SESSION1);
	return s;
}

static void summaries(const nt_net_t *net)
{
	/* Bank A: payments of 10000 (fees 35, 3) and 4000 (14, 1), the
	 * second reversed, and a refund of 1000. */
	clf_nc_summary_t a = summary(net, NT_BANK_A);
	assert_int_equal(a.totals.lines, 4);
	assert_int_equal(a.totals.count[CLF_GROUP_DEBIT], 2);
	assert_int_equal(a.totals.amount[CLF_GROUP_DEBIT], 14000);
	assert_int_equal(a.totals.count[CLF_GROUP_REFUND], 1);
	assert_int_equal(a.totals.amount[CLF_GROUP_REFUND], 1000);
	assert_int_equal(a.totals.count[CLF_GROUP_REVERSAL], 1);
	assert_int_equal(a.totals.issuer_fee_receivable, 49);
	assert_int_equal(a.totals.issuer_fee_payable, 14);
	assert_int_equal(a.totals.network_fee_receivable, 1);
	assert_int_equal(a.totals.network_fee_payable, 4);
	assert_int_equal(a.totals.net, -(10000 - 35) - 3 + 1000);
	clf_nc_summary_t b = summary(net, NT_BANK_B);
	assert_int_equal(b.totals.count[CLF_GROUP_CREDIT], 1);
	assert_int_equal(b.totals.net, 2500);
	/* The PSP's reserve grows by what its payers paid, less fees,
	 * less what it paid out and refunded. */
	clf_nc_summary_t p = summary(net, NT_PSP);
	assert_int_equal(p.totals.lines, 5);
	assert_int_equal(p.totals.issuer_fee_payable, 49);
	assert_int_equal(p.totals.net, (10000 - 35) - 3 - 2500 - 1000);
	assert_int_equal(a.totals.net + b.totals.net + p.totals.net + 6, 0);
}

static void test_a_session(void **state)
{
	(void)state;
	nt_world_t w;
	nt_world_start(&w, "netsim-netclear", "netclear", NULL);
	nt_member_t m;
	nt_member_open(&m, w.net.port, false);
	assert_int_equal(nt_member_sign_on(&m).net_op, TXN_NET_SIGN_ON);
	txn_t pay, payout, refund, pay2, rev;
	nt_leg(&pay, TXN_KIND_PURCHASE, "6222020000000003", 10000, 1);
	assert_int_equal(call(&m, &pay, SESSION1).rc, TXN_RC_APPROVED);
	assert_int_equal(bt_available(&w.a, "6222020000000003"), 90000);
	nt_leg(&payout, TXN_KIND_CREDIT, "6217000000000009", 2500, 2);
	assert_int_equal(call(&m, &payout, SESSION1).rc, TXN_RC_APPROVED);
	assert_int_equal(bt_available(&w.b, "6217000000000009"), 2500);
	nt_leg(&refund, TXN_KIND_REFUND_CREDIT, "6222020000000003", 1000, 3);
	assert_int_equal(call(&m, &refund, SESSION1).rc, TXN_RC_APPROVED);
	assert_int_equal(bt_available(&w.a, "6222020000000003"), 91000);
	nt_leg(&pay2, TXN_KIND_PURCHASE, "6222020000000001", 4000, 4);
	assert_int_equal(call(&m, &pay2, SESSION1).rc, TXN_RC_APPROVED);
	nt_reversal(&rev, &pay2, 5);
	assert_int_equal(call(&m, &rev, SESSION1).rc, TXN_RC_APPROVED);
	assert_int_equal(bt_available(&w.a, "6222020000000001"), 100000);
	/* An account no member bank holds. */
	txn_t nobody;
	nt_leg(&nobody, TXN_KIND_PURCHASE, "9999990000000001", 100, 6);
	assert_int_equal(call(&m, &nobody, NULL).rc, TXN_RC_NO_SUCH_ISSUER);
	/* A sender that is no member. */
	nt_member_t stranger;
	nt_member_open(&stranger, w.net.port, false);
	ps_strlcpy(stranger.cfg.member, "77777777", sizeof(stranger.cfg.member));
	txn_t odd;
	nt_leg(&odd, TXN_KIND_PURCHASE, "6222020000000001", 100, 7);
	assert_int_equal(call(&stranger, &odd, NULL).rc, TXN_RC_NOT_PERMITTED_HERE);
	nt_member_close(&stranger);
	/* The cutover message: answered with the session it closed. */
	nt_member_network(&m, TXN_NET_CUTOVER, 101);
	txn_response_t cut = nt_member_answer(&m, 101, NULL, NULL);
	assert_int_equal(cut.rc, TXN_RC_APPROVED);
	assert_string_equal(cut.period, SESSION1);
	txn_t next;
	nt_leg(&next, TXN_KIND_PURCHASE, "6222020000000002", 500, 8);
	char second[12];
	session2(second);
	assert_int_equal(call(&m, &next, second).rc, TXN_RC_APPROVED);
	summaries(&w.net);
	json_t *batch = nt_pboc_batch(&w.pboc, SESSION1);
	assert_non_null(batch);
	assert_int_equal(nt_position(batch, NT_BANK_A), -8968);
	assert_int_equal(nt_position(batch, NT_BANK_B), 2500);
	assert_int_equal(nt_position(batch, NT_PSP), 6462);
	assert_int_equal(nt_position(batch, "00020000"), 6);
	assert_int_equal(nt_positions_sum(batch), 0);
	json_decref(batch);
	nt_member_close(&m);
	nt_world_stop(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_session),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
