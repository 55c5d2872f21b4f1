/*
 * test_clearing_unit.c: the pure parts of clearing (switch/clearing.h):
 * settlement dates (the next day across months, years and leap days; a
 * network's MMDD read in the year nearest to ours), the obligation record
 * (its layout round trip and its refusal of what is not one), and when a
 * daily cutover is due.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "clearing.h"

static void test_dates(void **state)
{
	(void)state;
	static const char *const next[][2] = {
		{"20261203", "20261204"}, {"20261130", "20261201"},
		{"20261231", "20270101"}, {"20280228", "20280229"},
		{"20280229", "20280301"}, {"20270228", "20270301"},
	};
	char out[9];
	for (size_t i = 0; i < sizeof(next) / sizeof(next[0]); i++) {
		sw_date_next(next[i][0], out);
		assert_string_equal(out, next[i][1]);
	}
	sw_date_from_mmdd("1204", "20261203", out);
	assert_string_equal(out, "20261204");
	sw_date_from_mmdd("1231", "20270101", out); /* last year's */
	assert_string_equal(out, "20261231");
	sw_date_from_mmdd("0101", "20261231", out); /* next year's */
	assert_string_equal(out, "20270101");
}

static void test_obligation_record(void **state)
{
	(void)state;
	sw_obligation_t o = {.txn_id = 65537, .leg = 1, .event = 1, .kind = 4,
			     .channel = 2, .currency = 156, .amount = 999999999999,
			     .fee_issuer = 1300, .fee_network = 325, .stan = 999999,
			     .window = 17};
	strcpy(o.period, "B2026120301");
	strcpy(o.bank, "01020000");
	strcpy(o.origin, "48110001");
	strcpy(o.network, "00020000");
	strcpy(o.transmit, "1203101500");
	strcpy(o.rrn, "633700000042");
	uint8_t v[SW_OBLIGATION_BYTES];
	size_t len = sw_obligation_encode(&o, v);
	sw_obligation_t back;
	assert_int_equal(sw_obligation_decode(v, len, &back), 0);
	assert_memory_equal(&o, &back, sizeof(o));
	uint8_t key[SW_OBLIGATION_KEY_BYTES];
	sw_obligation_key(&o, key);
	assert_int_equal(key[0], 2);
	assert_memory_equal(key + 1, "B2026120301", 11);
	/* Keys sort by channel, then period, then transaction. */
	sw_obligation_t later = o;
	later.txn_id = 65538;
	uint8_t key2[SW_OBLIGATION_KEY_BYTES];
	sw_obligation_key(&later, key2);
	assert_true(memcmp(key, key2, sizeof(key)) < 0);
	/* Not an obligation: a short value, another version, bad fields. */
	assert_int_equal(sw_obligation_decode(v, len - 1, &back), PS_EFORMAT);
	v[0] = 2;
	assert_int_equal(sw_obligation_decode(v, len, &back), PS_EFORMAT);
	v[0] = 1;
	v[2] = 9; /* no such channel */
	assert_int_equal(sw_obligation_decode(v, len, &back), PS_EFORMAT);
}

static void test_daily_cutover_due(void **state)
{
	(void)state;
	uint64_t day = 20000ull * 86400000ull; /* some midnight, UTC */
	uint64_t at = day + 23 * 3600000ull;
	assert_false(sw_clearing_daily_due("", day, at + 1));
	assert_false(sw_clearing_daily_due("23:00", day, at - 1));
	assert_true(sw_clearing_daily_due("23:00", day, at));
	assert_false(sw_clearing_daily_due("23:00", at, at + 60000)); /* done */
	/* The next day's, once its time passes. */
	assert_false(sw_clearing_daily_due("23:00", at, at + 3600000ull));
	assert_true(sw_clearing_daily_due("23:00", at, at + 86400000ull));
	assert_true(sw_clearing_daily_due("00:30", day - 1, day + 1800000ull));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dates),
		cmocka_unit_test(test_obligation_record),
		cmocka_unit_test(test_daily_cutover_due),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
