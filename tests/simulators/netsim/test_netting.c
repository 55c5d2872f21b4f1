/*
 * test_netting.c: what netsim computes at a period's close (netting.h),
 * by hand. Fees under the 2016 debit card rules (half up, capped); a
 * day's legs booked into positions that sum to zero, against a table
 * computed by hand; every kind of leg and its reversal summing to zero at
 * random; the settle request's exact text; the calendar of dates,
 * sessions and the daily cutover.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "adapters.h"
#include "core.h"
#include "netting.h"

static const ns_fees_t debit_card = {3500, 1300, 325, 325};

static void test_fees(void **state)
{
	(void)state;
	int64_t fi, fn;
	ns_fees_of(&debit_card, TXN_KIND_PURCHASE, 12850, &fi, &fn);
	assert_int_equal(fi, 45); /* 44.975 rounds up */
	assert_int_equal(fn, 4);  /* 4.17625 */
	ns_fees_of(&debit_card, TXN_KIND_PURCHASE, 3000, &fi, &fn);
	assert_int_equal(fi, 11); /* 10.5: half up */
	assert_int_equal(fn, 1);
	ns_fees_of(&debit_card, TXN_KIND_PURCHASE, 100000000, &fi, &fn);
	assert_int_equal(fi, 1300); /* capped at 13 yuan */
	assert_int_equal(fn, 325);
	/* No fees on credits, refunds, inquiries. */
	ns_fees_of(&debit_card, TXN_KIND_CREDIT, 100000, &fi, &fn);
	assert_int_equal(fi + fn, 0);
	ns_fees_of(&debit_card, TXN_KIND_REFUND_CREDIT, 100000, &fi, &fn);
	assert_int_equal(fi + fn, 0);
	assert_int_equal(ns_clear_type(TXN_KIND_PURCHASE, 0), CLF_DEBIT);
	assert_int_equal(ns_clear_type(TXN_KIND_REVERSAL, TXN_KIND_CREDIT),
			 CLF_REV_CREDIT);
	assert_int_equal(ns_clear_type(TXN_KIND_BALANCE, 0), -1);
	assert_int_equal(ns_clear_type(TXN_KIND_REVERSAL, TXN_KIND_BALANCE), -1);
}

/* A day: bank A (1020000) issues a debit of 12850 and one of 5000 that is
 * reversed; bank B takes a credit of 700; the PSP is the origin of all;
 * UnionPay carries them. */
static void test_a_day_by_hand(void **state)
{
	(void)state;
	ns_positions_t p;
	ns_positions_init(&p);
	const char *net = "00010000";
	assert_int_equal(ns_positions_book(&p, "01020000", "48110001", net, CLF_DEBIT,
					   12850, 45, 4), 0);
	assert_int_equal(ns_positions_book(&p, "01030000", "48110001", net, CLF_CREDIT,
					   700, 0, 0), 0);
	assert_int_equal(ns_positions_book(&p, "01020000", "48110001", net, CLF_DEBIT,
					   5000, 18, 2), 0);
	assert_int_equal(ns_positions_book(&p, "01020000", "48110001", net,
					   CLF_REV_DEBIT, 5000, 18, 2), 0);
	ns_positions_sort(&p);
	assert_int_equal(p.count, 4);
	struct {
		const char *member;
		int64_t amount;
	} want[] = {
		{"00010000", 8},           /* 4 from each side of 12850 */
		{"01020000", -12809},      /* owes 12850 - 45, pays 4 */
		{"01030000", 700},         /* is owed the credit */
		{"48110001", 12101},       /* 12850 - 45 - 4 - 700 */
	};
	for (size_t i = 0; i < PS_ARRAY_LEN(want); i++) {
		assert_string_equal(p.pos[i].member, want[i].member);
		assert_int_equal(p.pos[i].amount, want[i].amount);
	}
	assert_int_equal(ns_positions_sum(&p), 0);
	/* The request PBOC gets: every position but zeros, as held. */
	char line[NS_SETTLE_LINE_MAX];
	size_t len;
	assert_int_equal(ns_settle_line("CUP-20261203", "00010000", &p, line,
					sizeof(line), &len), 0);
	assert_string_equal(line,
		"{\"op\":\"settle\",\"id\":\"CUP-20261203\",\"batch\":\"CUP-20261203\","
		"\"submitter\":\"00010000\",\"currency\":\"CNY\",\"positions\":["
		"{\"member\":\"00010000\",\"amount\":8},{\"member\":\"01020000\",\"amount\":-12809},"
		"{\"member\":\"01030000\",\"amount\":700},{\"member\":\"48110001\",\"amount\":12101}]}\n");
	assert_int_equal(ns_settle_line("CUP-20261203", "00010000", &p, line, 40,
					&len), PS_ENOSPC);
}

/* Any mix of legs, on-us ones too, sums to zero; a leg and its reversal
 * leave nothing. */
static void test_always_zero(void **state)
{
	(void)state;
	static const char *const members[] = {"1", "2", "3", "4", "5"};
	uint64_t seed = 0x5eed;
	ns_positions_t p;
	ns_positions_init(&p);
	for (int i = 0; i < 2000; i++) {
		int type = (int)(ps_xorshift64s(&seed) % CLF_TYPE_COUNT);
		int64_t amount = (int64_t)(ps_xorshift64s(&seed) % 10000000) + 1;
		int64_t fi = 0, fn = 0;
		int base = clf_type_is_reversal(type) ? clf_type_reversed(type) : type;
		ns_fees_of(&debit_card, base == CLF_DEBIT ? TXN_KIND_PURCHASE
							  : TXN_KIND_CREDIT,
			   amount, &fi, &fn);
		const char *bank = members[ps_xorshift64s(&seed) % 5];
		const char *origin = members[ps_xorshift64s(&seed) % 5];
		assert_int_equal(ns_positions_book(&p, bank, origin, "9", type, amount,
						   fi, fn), 0);
		assert_int_equal(ns_positions_sum(&p), 0);
	}
	ns_positions_t q;
	ns_positions_init(&q);
	ns_positions_book(&q, "1", "2", "9", CLF_DEBIT, 77777, 272, 25);
	ns_positions_book(&q, "1", "2", "9", CLF_REV_DEBIT, 77777, 272, 25);
	for (uint32_t i = 0; i < q.count; i++)
		assert_int_equal(q.pos[i].amount, 0);
	/* A bound: one member too many. */
	ns_positions_init(&q);
	char id[12];
	for (int i = 0; i < NS_POSITIONS_MAX; i++) {
		snprintf(id, sizeof(id), "%d", i + 1);
		assert_int_equal(ns_positions_add(&q, id, 1), 0);
	}
	assert_int_equal(ns_positions_add(&q, "0", 1), PS_ELIMIT);
	assert_int_equal(ns_positions_add(&q, "1", 1), 0);
}

static void test_calendar(void **state)
{
	(void)state;
	char d[9];
	assert_int_equal(ns_date_next("20261203", d), 0);
	assert_string_equal(d, "20261204");
	assert_int_equal(ns_date_next("20261231", d), 0);
	assert_string_equal(d, "20270101");
	assert_int_equal(ns_date_next("20280228", d), 0);
	assert_string_equal(d, "20280229"); /* a leap year */
	assert_int_equal(ns_date_next("20270228", d), 0);
	assert_string_equal(d, "20270301");
	assert_false(ns_date_valid("20270229"));
	assert_false(ns_date_valid("20261301"));
	assert_false(ns_date_valid("2026120"));
	assert_int_equal(ns_date_next("2026x203", d), PS_EINVAL);
	ns_date_of_ms(1796256000000ull, d); /* 2026-12-03 00:00:00 UTC */
	assert_string_equal(d, "20261203");
	/* 23:00 UTC: later today, or tomorrow once it has passed. */
	uint64_t midnight = 1796256000000ull, hour = 3600000;
	assert_int_equal(ns_next_cutover_ms(midnight + 10 * hour, 23 * 60),
			 midnight + 23 * hour);
	assert_int_equal(ns_next_cutover_ms(midnight + 23 * hour, 23 * 60),
			 midnight + 47 * hour);
	char s[NS_PERIOD_MAX];
	ns_session_name("20261203", 1, s);
	assert_string_equal(s, "B2026120301");
	uint32_t seq;
	ns_session_next("20261203", 1, "20261203", d, &seq);
	assert_string_equal(d, "20261203");
	assert_int_equal(seq, 2);
	ns_session_next("20261203", 7, "20261204", d, &seq);
	assert_string_equal(d, "20261204");
	assert_int_equal(seq, 1);
	ns_session_next("20261203", 99, "20261203", d, &seq);
	assert_string_equal(d, "20261204");
	assert_int_equal(seq, 1);
	/* A session date ahead of the calendar (cutovers faster than days). */
	ns_session_next("20261205", 3, "20261203", d, &seq);
	assert_string_equal(d, "20261205");
	assert_int_equal(seq, 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fees),
		cmocka_unit_test(test_a_day_by_hand),
		cmocka_unit_test(test_always_zero),
		cmocka_unit_test(test_calendar),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
