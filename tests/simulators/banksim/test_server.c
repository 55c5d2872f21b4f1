/*
 * test_server.c: banksim as a process, driven over loopback the way
 * switchd drives it: network management, every decision a single-phase
 * bank makes with its response code and its effect on the book, reversals
 * (including the reversal that arrives before its original), many
 * requests in flight on one connection, and the read-only reports.
 * ledger_check must hold after every test (bt_teardown).
 */
#include "bank_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ALICE "6222020000000001"   /* 1000.00 */
#define BOB "6222020000000002"     /* 1000.00 */
#define BLOCKED "6222020000000003"
#define CLOSED "6222020000000004"
#define EXPIRED "6222020000000005"
#define LIMITED "6222020000000006" /* 1000.00, at most 500.00 a debit */
#define POOR "6222020000000007"    /* 10.00 */
#define SHOP "6217000000000009"    /* a merchant, empty */
#define UNKNOWN "6222029999999999"

static const char accounts[] =
	"{\"accounts\": [\n"
	" {\"account\": \"" ALICE "\", \"balance\": 100000},\n"
	" {\"account\": \"" BOB "\", \"balance\": 100000},\n"
	" {\"account\": \"" BLOCKED "\", \"balance\": 5000, \"status\": \"blocked\"},\n"
	" {\"account\": \"" CLOSED "\", \"balance\": 5000, \"status\": \"closed\"},\n"
	" {\"account\": \"" EXPIRED "\", \"balance\": 5000, \"status\": \"expired\"},\n"
	" {\"account\": \"" LIMITED "\", \"balance\": 100000, \"limit\": 50000},\n"
	" {\"account\": \"" POOR "\", \"balance\": 1000},\n"
	" {\"account\": \"" SHOP "\"}\n"
	"]}\n";

static int setup(void **state)
{
	bt_bank_t *b = calloc(1, sizeof(*b));
	bt_setup(b, "banksim", accounts);
	bt_start(b, NULL);
	*state = b;
	return 0;
}

static int teardown(void **state)
{
	bt_bank_t *b = *state;
	bt_teardown(b);
	free(b);
	return 0;
}

static void test_network_management(void **state)
{
	bt_bank_t *b = *state;
	int fd = bt_connect(b);
	const char *codes[] = {"001", "301", "002", "201", "999"};
	for (uint32_t i = 0; i < 5; i++) {
		txn_t t;
		bt_network(&t, codes[i], 100 + i);
		bt_answer_t r = bt_call(fd, &t);
		assert_string_equal(r.mti, "0810");
		assert_string_equal(r.response, "00");
		assert_string_equal(r.network_code, codes[i]);
	}
	close(fd);
}

static void test_debit_approved_moves_money(void **state)
{
	bt_bank_t *b = *state;
	int fd = bt_connect(b);
	txn_t t;
	bt_financial(&t, "000000", ALICE, 12850, 1);
	bt_answer_t r = bt_call(fd, &t);
	assert_string_equal(r.mti, "0210");
	assert_string_equal(r.response, "00");
	assert_int_equal(strlen(r.auth_code), 6);
	assert_string_equal(r.rrn, t.leg[0].rrn);
	assert_int_equal(bt_available(b, ALICE), 100000 - 12850);
	assert_int_equal(bt_posted(b, ALICE), 100000 - 12850);
	close(fd);
}

/* Each decline: its code, and not a fen moved. */
static void test_decline_codes(void **state)
{
	bt_bank_t *b = *state;
	int fd = bt_connect(b);
	static const struct {
		const char *account;
		int64_t amount;
		int code;
	} cases[] = {
		{BLOCKED, 100, 5},  {CLOSED, 100, 57}, {EXPIRED, 100, 54},
		{LIMITED, 50001, 61}, {POOR, 1001, 51}, {UNKNOWN, 100, 14},
		{ALICE, 0, 13},
	};
	for (uint32_t i = 0; i < PS_ARRAY_LEN(cases); i++) {
		txn_t t;
		bt_financial(&t, "000000", cases[i].account, cases[i].amount,
			     10 + i);
		assert_int_equal(bt_code(fd, &t), cases[i].code);
	}
	assert_int_equal(bt_available(b, BLOCKED), 5000);
	assert_int_equal(bt_available(b, CLOSED), 5000);
	assert_int_equal(bt_available(b, EXPIRED), 5000);
	assert_int_equal(bt_available(b, LIMITED), 100000);
	assert_int_equal(bt_available(b, POOR), 1000);
	assert_int_equal(bt_available(b, ALICE), 100000);
	/* The limit is per debit: at the limit is fine, and so is all the
	 * money a poor account has. */
	txn_t t;
	bt_financial(&t, "000000", LIMITED, 50000, 30);
	assert_int_equal(bt_code(fd, &t), 0);
	bt_financial(&t, "000000", POOR, 1000, 31);
	assert_int_equal(bt_code(fd, &t), 0);
	assert_int_equal(bt_available(b, POOR), 0);
	close(fd);
}

static void test_duplicate_is_94_and_moves_nothing(void **state)
{
	bt_bank_t *b = *state;
	int fd = bt_connect(b);
	txn_t t;
	bt_financial(&t, "000000", ALICE, 1000, 40);
	assert_int_equal(bt_code(fd, &t), 0);
	assert_int_equal(bt_code(fd, &t), 94);
	assert_int_equal(bt_available(b, ALICE), 99000);
	/* A declined request repeated is a duplicate too. */
	bt_financial(&t, "000000", POOR, 5000, 41);
	assert_int_equal(bt_code(fd, &t), 51);
	assert_int_equal(bt_code(fd, &t), 94);
	close(fd);
}

static void test_credit_refund_and_balance(void **state)
{
	bt_bank_t *b = *state;
	int fd = bt_connect(b);
	txn_t t;
	bt_financial(&t, "260000", SHOP, 12850, 50);
	bt_answer_t r = bt_call(fd, &t);
	assert_string_equal(r.response, "00");
	bt_financial(&t, "200000", SHOP, 150, 51);
	assert_int_equal(bt_code(fd, &t), 0);
	assert_int_equal(bt_available(b, SHOP), 13000);
	bt_financial(&t, "310000", SHOP, 0, 52);
	r = bt_call(fd, &t);
	assert_string_equal(r.response, "00");
	assert_true(r.has_balance);
	assert_int_equal(r.balance, 13000);
	/* Account rules apply to inquiries too. */
	bt_financial(&t, "310000", UNKNOWN, 0, 53);
	assert_int_equal(bt_code(fd, &t), 14);
	close(fd);
}

static void test_reversal_restores_and_repeats_are_idempotent(void **state)
{
	bt_bank_t *b = *state;
	int fd = bt_connect(b);
	txn_t debit, credit, rev;
	bt_financial(&debit, "000000", ALICE, 30000, 60);
	assert_int_equal(bt_code(fd, &debit), 0);
	bt_financial(&credit, "260000", BOB, 30000, 61);
	assert_int_equal(bt_code(fd, &credit), 0);
	assert_int_equal(bt_available(b, ALICE), 70000);
	assert_int_equal(bt_available(b, BOB), 130000);

	bt_reversal(&rev, &debit, 62, false);
	bt_answer_t r = bt_call(fd, &rev);
	assert_string_equal(r.mti, "0410");
	assert_string_equal(r.response, "00");
	assert_int_equal(bt_available(b, ALICE), 100000);
	for (uint32_t i = 0; i < 3; i++) {
		bt_reversal(&rev, &debit, 63 + i, true);
		assert_int_equal(bt_code(fd, &rev), 0);
	}
	assert_int_equal(bt_available(b, ALICE), 100000);

	bt_reversal(&rev, &credit, 70, false);
	assert_int_equal(bt_code(fd, &rev), 0);
	assert_int_equal(bt_available(b, BOB), 100000);
	bt_reversal(&rev, &credit, 71, true);
	assert_int_equal(bt_code(fd, &rev), 0);
	assert_int_equal(bt_available(b, BOB), 100000);
	close(fd);
}

static void test_reversal_before_original(void **state)
{
	bt_bank_t *b = *state;
	int fd = bt_connect(b);
	txn_t orig, rev;
	bt_financial(&orig, "000000", ALICE, 25000, 80);
	bt_reversal(&rev, &orig, 81, false);
	assert_int_equal(bt_code(fd, &rev), 25);
	bt_reversal(&rev, &orig, 82, true);
	assert_int_equal(bt_code(fd, &rev), 25);
	/* The original, late: declined, and no money moves. */
	assert_int_equal(bt_code(fd, &orig), 5);
	assert_int_equal(bt_available(b, ALICE), 100000);
	/* Now the original is known (declined): nothing to reverse, and
	 * nothing reversed is 25 (00 would say the bank had posted it). */
	bt_reversal(&rev, &orig, 83, true);
	assert_int_equal(bt_code(fd, &rev), 25);
	assert_int_equal(bt_available(b, ALICE), 100000);
	close(fd);
}

static void test_reversal_of_a_decline_moves_nothing(void **state)
{
	bt_bank_t *b = *state;
	int fd = bt_connect(b);
	txn_t orig, rev;
	bt_financial(&orig, "000000", POOR, 5000, 90);
	assert_int_equal(bt_code(fd, &orig), 51);
	bt_reversal(&rev, &orig, 91, false);
	assert_int_equal(bt_code(fd, &rev), 25);
	assert_int_equal(bt_available(b, POOR), 1000);
	close(fd);
}

static void test_unsupported_messages(void **state)
{
	bt_bank_t *b = *state;
	int fd = bt_connect(b);
	txn_t t;
	bt_financial(&t, "010000", ALICE, 100, 95); /* cash: not taken */
	assert_int_equal(bt_code(fd, &t), 12);
	assert_int_equal(bt_available(b, ALICE), 100000);
	close(fd);
}

/* Many requests in flight on one connection, answered in any order
 * (latency 0-20 ms), every one matched by its STAN. */
static void test_many_in_flight_one_connection(void **state)
{
	bt_bank_t *b = *state;
	bt_stop(b);
	const char *extra[] = {"--latency-ms", "0-20", "--seed", "7", NULL};
	bt_start(b, extra);
	int fd = bt_connect(b);
	enum { N = 400 };
	static bool answered[N];
	memset(answered, 0, sizeof(answered));
	for (uint32_t i = 0; i < N; i++) {
		txn_t t;
		bt_financial(&t, i % 2 ? "000000" : "260000", i % 2 ? ALICE : BOB,
			     100, 1000 + i);
		bt_send(fd, &t);
	}
	uint32_t out_of_order = 0, last = 0;
	for (uint32_t i = 0; i < N; i++) {
		bt_answer_t r;
		assert_true(bt_recv(fd, &r, BT_WAIT_MS));
		assert_true(r.stan >= 1000 && r.stan < 1000 + N);
		assert_false(answered[r.stan - 1000]);
		answered[r.stan - 1000] = true;
		assert_string_equal(r.response, "00");
		out_of_order += r.stan < last;
		last = r.stan;
	}
	assert_true(out_of_order > 0);
	assert_int_equal(bt_available(b, ALICE), 100000 - 100 * N / 2);
	assert_int_equal(bt_available(b, BOB), 100000 + 100 * N / 2);
	close(fd);
}

static void test_reports_beside_a_running_bank(void **state)
{
	bt_bank_t *b = *state;
	int fd = bt_connect(b);
	txn_t t;
	bt_financial(&t, "000000", ALICE, 1, 99);
	assert_int_equal(bt_code(fd, &t), 0);
	static char out[1 << 16];
	char *argv[] = {(char *)ts_bin("banksim"), "--ledger", b->ledger,
			"--dump-balances", NULL};
	assert_int_equal(ts_run(argv, NULL, out, sizeof(out), NULL, 0, BT_WAIT_MS), 0);
	assert_non_null(strstr(out, "\"id\":\"1" ALICE "\",\"kind\":\"customer\","
				    "\"account\":\"" ALICE "\""));
	assert_non_null(strstr(out, "\"available\":99999}"));
	assert_non_null(strstr(out, "\"kind\":\"clearing\""));
	char *check[] = {(char *)ts_bin("banksim"), "--ledger", b->ledger,
			 "--check-ledger", NULL};
	assert_int_equal(ts_run(check, NULL, out, sizeof(out), NULL, 0, BT_WAIT_MS), 0);
	assert_non_null(strstr(out, "\"ok\":true"));
	close(fd);
}

/* Another dialect and framing (BCD "binary" dialect, ASCII length, a
 * 5-byte TPDU answered with its addresses swapped), one connection too
 * many, garbage. */
static void test_framing_bounds_and_garbage(void **state)
{
	bt_bank_t *b = *state;
	bt_stop(b);
	const char *extra[] = {"--dialect", "binary", "--framing", "ascii4",
			       "--header-bytes", "5", "--connections-max", "1",
			       NULL};
	bt_start(b, extra);
	const iso8583_dialect_t *bin = iso8583_dialect_builtin("binary");
	iso8583_framing_t framing = {.length_header = ISO8583_LENGTH_ASCII4,
				     .header_bytes = 5, .frame_bytes_max = 8192,
				     .dialect = bin};
	txn_t t;
	bt_financial(&t, "000000", ALICE, 500, 7);
	iso8583_msg_t msg;
	assert_int_equal(txn_leg_to_iso(&t, 0, bin, &msg), 0);
	uint8_t out[1024];
	size_t len = 0;
	iso8583_error_t ierr;
	assert_int_equal(iso8583_pack(&msg, out + 9, sizeof(out) - 9, &len, &ierr), 0);
	memcpy(out + 4, "\x60\x00\x01\x00\x02", 5);
	assert_int_equal(iso8583_frame_write_length(&framing, len + 5, out), 0);
	int fd = bt_connect(b);
	ts_send_all(fd, out, len + 9);
	uint8_t head[9], body[1024];
	assert_true(ts_recv_exact(fd, head, 9, BT_WAIT_MS));
	assert_memory_equal(head + 4, "\x60\x00\x02\x00\x01", 5);
	size_t body_len = (size_t)atoi((char[5]){(char)head[0], (char)head[1],
						  (char)head[2], (char)head[3], 0}) - 5;
	assert_true(body_len < sizeof(body));
	assert_true(ts_recv_exact(fd, body, body_len, BT_WAIT_MS));
	assert_int_equal(iso8583_unpack(&msg, bin, body, body_len, &ierr), 0);
	txn_response_t r;
	txn_error_t terr;
	assert_int_equal(txn_response_from_iso(&msg, &r, &terr), 0);
	assert_int_equal(r.rc, TXN_RC_APPROVED);
	assert_int_equal(r.stan, 7);
	assert_int_equal(bt_available(b, ALICE), 99500);

	/* One connection too many is accepted and closed at once. */
	int extra_fd = ts_connect(b->port, BT_WAIT_MS);
	assert_true(ts_wait_closed(extra_fd, BT_WAIT_MS));
	close(extra_fd);
	/* Garbage in the length header closes the connection... */
	ts_send_all(fd, "12x4", 4);
	assert_true(ts_wait_closed(fd, BT_WAIT_MS));
	close(fd);
	/* ...and frees its place for the next. */
	uint64_t end = ts_now_ms() + BT_WAIT_MS;
	bool served = false;
	while (!served && ts_now_ms() < end) {
		fd = bt_connect(b);
		bt_financial(&t, "000000", ALICE, 500, 8);
		assert_int_equal(txn_leg_to_iso(&t, 0, bin, &msg), 0);
		assert_int_equal(iso8583_pack(&msg, out + 9, sizeof(out) - 9, &len, &ierr), 0);
		assert_int_equal(iso8583_frame_write_length(&framing, len + 5, out), 0);
		ts_send_all(fd, out, len + 9);
		served = ts_recv_exact(fd, head, 9, 500);
		close(fd);
	}
	assert_true(served);
	assert_true(bt_log_count(b, "\"event\":\"conn_refused\"") >= 1);
	assert_true(bt_log_count(b, "\"event\":\"bad_frame\"") == 1);
}

/* The iso8583 tool as an integrator points it at a bank behind a NAC:
 * `send --header` puts the TPDU before each message and prints the
 * answer's (addresses swapped) beside its fields; nothing listening is
 * exit 4; a binary4 bank is reached with --framing binary4. */
static void test_iso8583_send_with_tpdu(void **state)
{
	bt_bank_t *b = *state;
	bt_stop(b);
	const char *extra[] = {"--dialect", "binary", "--header-bytes", "5", NULL};
	bt_start(b, extra);
	char address[32], out[4096], err[4096];
	snprintf(address, sizeof(address), "127.0.0.1:%u", b->port);
	char *argv[] = {(char *)ts_bin("iso8583"), "send", "--connect", address,
			"--dialect", "binary", "--header", "6000030012", NULL};
	const char *echo = "{\"mti\":\"0800\",\"fields\":{\"7\":\"1125103000\","
			   "\"11\":\"000042\",\"70\":\"301\"}}\n";
	assert_int_equal(ts_run(argv, echo, out, sizeof(out), err, sizeof(err),
				BT_WAIT_MS), 0);
	assert_non_null(strstr(out, "\"mti\":\"0810\""));
	assert_non_null(strstr(out, "\"39\":\"00\""));
	assert_non_null(strstr(out, "\"header\":\"6000120003\""));
	/* 4 bytes of header with --header-bytes 5: a usage error */
	char *bad[] = {argv[0], "send", "--connect", address, "--header-bytes", "5",
		       "--header", "60000300", NULL};
	assert_int_equal(ts_run(bad, echo, out, sizeof(out), err, sizeof(err),
				BT_WAIT_MS), 2);
	snprintf(address, sizeof(address), "127.0.0.1:%u", ts_free_port());
	assert_int_equal(ts_run(argv, echo, out, sizeof(out), err, sizeof(err),
				BT_WAIT_MS), 4);
	/* A 4-byte length (jPOS RawChannel), end to end. */
	bt_stop(b);
	const char *raw[] = {"--framing", "binary4", NULL};
	bt_start(b, raw);
	snprintf(address, sizeof(address), "127.0.0.1:%u", b->port);
	char *argv4[] = {argv[0], "send", "--connect", address, "--framing",
			 "binary4", NULL};
	assert_int_equal(ts_run(argv4, echo, out, sizeof(out), err, sizeof(err),
				BT_WAIT_MS), 0);
	assert_non_null(strstr(out, "\"39\":\"00\""));
}

/* A message no answer could be matched to is dropped; the connection
 * goes on. */
static void test_unanswerable_is_dropped(void **state)
{
	bt_bank_t *b = *state;
	int fd = bt_connect(b);
	const iso8583_dialect_t *d = iso8583_dialect_builtin("ascii");
	iso8583_msg_t msg;
	iso8583_msg_init(&msg, d);
	iso8583_set_mti(&msg, "0200");
	iso8583_set_str(&msg, 2, ALICE);
	iso8583_set_str(&msg, 3, "000000");
	iso8583_set_str(&msg, 4, "000000000100");
	ts_iso_send(fd, &msg); /* no field 7 or 11 */
	iso8583_set_mti(&msg, "0210");
	ts_iso_send(fd, &msg); /* a response, not a request */
	bt_answer_t r;
	assert_false(bt_recv(fd, &r, 300));
	txn_t t;
	bt_network(&t, "301", 1);
	assert_int_equal(bt_code(fd, &t), 0);
	assert_int_equal(bt_available(b, ALICE), 100000);
	assert_int_equal(bt_log_count(b, "\"event\":\"bad_message\""), 1);
	assert_int_equal(bt_log_count(b, "\"event\":\"unexpected_response\""), 1);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_network_management, setup, teardown),
		cmocka_unit_test_setup_teardown(test_debit_approved_moves_money, setup, teardown),
		cmocka_unit_test_setup_teardown(test_decline_codes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_duplicate_is_94_and_moves_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_credit_refund_and_balance, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reversal_restores_and_repeats_are_idempotent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reversal_before_original, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reversal_of_a_decline_moves_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unsupported_messages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_in_flight_one_connection, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reports_beside_a_running_bank, setup, teardown),
		cmocka_unit_test_setup_teardown(test_framing_bounds_and_garbage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unanswerable_is_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iso8583_send_with_tpdu, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
