/*
 * test_flows.c: switchd between real banksim banks, as a PSP and an
 * acquirer see it: echo, purchases and their decline codes, two-leg pays,
 * a failed credit reversing its debit, refunds, routing (unknown BIN, a
 * live route change), timeouts and late answers reversed, duplicates.
 * Every money movement is checked in the banks' own ledgers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include <unistd.h>

#include "fixture.h"

static fx_t fx;

static int setup(void **state)
{
	(void)state;
	fx_init(&fx, "flows");
	fx_start(&fx);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	fx_stop(&fx);
	return 0;
}

#define BANK_A 0
#define BANK_B 1

static void test_echo(void **state)
{
	(void)state;
	json_t *a = fx_call(&fx, "{\"op\":\"echo\",\"id\":\"E1\"}");
	assert_string_equal(fx_str(a, "status"), "ok");
	json_decref(a);
	const iso8583_dialect_t *d = iso8583_dialect_builtin("ascii");
	iso8583_msg_t m, r;
	iso8583_msg_init(&m, d);
	iso8583_set_mti(&m, "0800");
	iso8583_set_str(&m, 7, "1125103000");
	iso8583_set_str(&m, 11, "000777");
	iso8583_set_str(&m, 70, "301");
	int fd = ts_connect(fx.acq, 5000);
	ts_iso_send(fd, &m);
	uint8_t buf[1024];
	assert_true(ts_iso_recv(fd, d, &r, buf, sizeof(buf), 5000));
	close(fd);
	assert_memory_equal(r.mti, "0810", 4);
	assert_string_equal(fx_field(&r, 39), "00");
	assert_string_equal(fx_field(&r, 11), "000777");
	assert_string_equal(fx_field(&r, 70), "301");
	/* Both banks were signed on, and answer echo tests. */
	json_t *e = ts_control(fx.control, "endpoints");
	size_t i;
	json_t *ep;
	json_array_foreach(json_object_get(e, "endpoints"), i, ep)
		assert_string_equal(fx_str(ep, "state"), "up");
	json_decref(e);
}

static void test_purchase_approved(void **state)
{
	(void)state;
	int64_t before = fx_balance(&fx, BANK_A, A_RICH);
	iso8583_msg_t r;
	uint8_t buf[2048];
	assert_true(fx_purchase(&fx, A_RICH, 12850, 5001, &r, buf, sizeof(buf)));
	assert_memory_equal(r.mti, "0210", 4);
	assert_string_equal(fx_field(&r, 39), "00");
	assert_int_equal(strlen(fx_field(&r, 38)), 6);
	assert_int_equal(strlen(fx_field(&r, 37)), 12);
	assert_string_equal(fx_field(&r, 11), "005001"); /* the acquirer's own */
	assert_string_equal(fx_field(&r, 7), "1125103000");
	assert_string_equal(fx_field(&r, 4), "000000012850");
	assert_string_equal(fx_field(&r, 32), "48020000");
	/* 12, 13 and 33 as the acquirer sent them: no 33 here, though the
	 * leg to the bank carried the switch's. */
	assert_string_equal(fx_field(&r, 12), "103000");
	assert_string_equal(fx_field(&r, 13), "1125");
	assert_string_equal(fx_field(&r, 33), "");
	assert_int_equal(fx_balance(&fx, BANK_A, A_RICH), before - 12850);
	/* The same request again: the same answer, field for field, and no
	 * second debit. */
	char first[6][32];
	const int keep[6] = {12, 13, 33, 37, 38, 39};
	for (int i = 0; i < 6; i++)
		ps_strlcpy(first[i], fx_field(&r, keep[i]), sizeof(first[i]));
	assert_true(fx_purchase(&fx, A_RICH, 12850, 5001, &r, buf, sizeof(buf)));
	for (int i = 0; i < 6; i++)
		assert_string_equal(fx_field(&r, keep[i]), first[i]);
	assert_int_equal(fx_balance(&fx, BANK_A, A_RICH), before - 12850);
}

/* A terminal behind a NAC sends a 5-byte TPDU before the MTI (binary
 * dialect, 2-byte length): each answer carries it back with destination
 * and source swapped, a format error's answer too. */
static void nac_call(int fd, const iso8583_msg_t *m, const uint8_t tpdu[5],
		     uint8_t reply_tpdu[5], iso8583_msg_t *r, uint8_t *buf,
		     size_t cap)
{
	uint8_t out[1024];
	size_t len;
	iso8583_error_t err;
	assert_int_equal(iso8583_pack(m, out + 7, sizeof(out) - 7, &len, &err), 0);
	out[0] = (uint8_t)((len + 5) >> 8);
	out[1] = (uint8_t)(len + 5);
	memcpy(out + 2, tpdu, 5);
	ts_send_all(fd, out, len + 7);
	uint8_t head[2];
	assert_true(ts_recv_exact(fd, head, 2, 10000));
	size_t n = ps_be16_get(head);
	assert_true(n > 5 && n <= cap);
	assert_true(ts_recv_exact(fd, buf, n, 10000));
	memcpy(reply_tpdu, buf, 5);
	assert_int_equal(iso8583_unpack(r, m->dialect, buf + 5, n - 5, &err), 0);
}

static void test_purchase_tpdu(void **state)
{
	(void)state;
	const iso8583_dialect_t *d = iso8583_dialect_builtin("binary");
	iso8583_msg_t m, r;
	iso8583_msg_init(&m, d);
	iso8583_set_mti(&m, "0200");
	iso8583_set_str(&m, 2, A_RICH);
	iso8583_set_str(&m, 3, "000000");
	iso8583_set_num(&m, 4, 100);
	iso8583_set_str(&m, 7, "1125103000");
	iso8583_set_num(&m, 11, 7001);
	iso8583_set_str(&m, 32, "48030000");
	iso8583_set_str(&m, 41, "TERM0002");
	iso8583_set_str(&m, 49, "156");
	static const uint8_t tpdu[5] = {0x60, 0x00, 0x05, 0x80, 0x00};
	static const uint8_t swapped[5] = {0x60, 0x80, 0x00, 0x00, 0x05};
	uint8_t got[5], buf[2048];
	int fd = ts_connect(fx.nac, 5000);
	nac_call(fd, &m, tpdu, got, &r, buf, sizeof(buf));
	assert_memory_equal(r.mti, "0210", 4);
	assert_string_equal(fx_field(&r, 39), "00");
	assert_string_equal(fx_field(&r, 11), "007001");
	assert_memory_equal(got, swapped, 5);
	/* No amount: answered 30, the same header rule. */
	iso8583_set_num(&m, 11, 7002);
	iso8583_unset(&m, 4);
	nac_call(fd, &m, tpdu, got, &r, buf, sizeof(buf));
	assert_memory_equal(got, swapped, 5);
	assert_string_equal(fx_field(&r, 11), "007002");
	assert_string_equal(fx_field(&r, 39), "30");
	close(fd);
}

static void expect_purchase_code(const char *pan, int64_t amount, const char *code)
{
	iso8583_msg_t r;
	uint8_t buf[2048];
	assert_true(fx_purchase(&fx, pan, amount, 0, &r, buf, sizeof(buf)));
	if (strcmp(fx_field(&r, 39), code) != 0)
		fail_msg("purchase on %s: got %s, want %s", pan, fx_field(&r, 39), code);
	assert_false(iso8583_has(&r, 38)); /* no authorisation on a decline */
}

static void test_decline_codes(void **state)
{
	(void)state;
	int64_t poor = fx_balance(&fx, BANK_A, A_POOR);
	expect_purchase_code(A_POOR, 101, "51");
	expect_purchase_code(A_BLOCKED, 100, "05");
	expect_purchase_code(A_CLOSED, 100, "57");
	expect_purchase_code(A_EXPIRED, 100, "54");
	expect_purchase_code(A_LIMITED, 50001, "61");
	expect_purchase_code(A_UNKNOWN, 100, "14");
	expect_purchase_code(NO_ROUTE, 100, "15");
	assert_int_equal(fx_balance(&fx, BANK_A, A_POOR), poor);
}

static void test_pay_two_legs(void **state)
{
	(void)state;
	int64_t payer = fx_balance(&fx, BANK_A, A_RICH);
	int64_t payee = fx_balance(&fx, BANK_B, B_SHOP);
	json_t *a = fx_pay(&fx, "PAY-0001", A_RICH, B_SHOP, 12850);
	assert_string_equal(fx_str(a, "status"), "approved");
	assert_string_equal(fx_str(a, "code"), "00");
	assert_true(strlen(fx_str(a, "txn")) > 0);
	assert_int_equal(strlen(fx_str(a, "rrn")), 12);
	assert_int_equal(strlen(fx_str(a, "auth_code")), 6);
	json_decref(a);
	assert_int_equal(fx_balance(&fx, BANK_A, A_RICH), payer - 12850);
	assert_int_equal(fx_balance(&fx, BANK_B, B_SHOP), payee + 12850);
	/* A query gives the state and the final answer. */
	a = fx_call(&fx, "{\"op\":\"query\",\"id\":\"Q-0001\",\"target\":\"PAY-0001\"}");
	assert_string_equal(fx_str(a, "state"), "done");
	assert_string_equal(fx_str(json_object_get(a, "answer"), "status"), "approved");
	json_decref(a);
}

static void test_pay_declined_debit(void **state)
{
	(void)state;
	int64_t payee = fx_balance(&fx, BANK_B, B_SHOP);
	json_t *a = fx_pay(&fx, "PAY-0002", A_POOR, B_SHOP, 5000);
	assert_string_equal(fx_str(a, "status"), "declined");
	assert_string_equal(fx_str(a, "code"), "51");
	assert_string_equal(fx_str(a, "reason"), "insufficient funds");
	json_decref(a);
	assert_int_equal(fx_balance(&fx, BANK_B, B_SHOP), payee);
}

/* The payee's bank refuses the credit: the debit is reversed. */
static void test_pay_credit_fails_debit_reversed(void **state)
{
	(void)state;
	int64_t payer = fx_balance(&fx, BANK_A, A_SPARE);
	json_t *a = fx_pay(&fx, "PAY-0003", A_SPARE, B_CLOSED, 7000);
	assert_string_equal(fx_str(a, "status"), "declined");
	assert_string_equal(fx_str(a, "code"), "57");
	json_decref(a);
	assert_true(fx_wait_balance(&fx, BANK_A, A_SPARE, payer, 5000));
	assert_true(fx_wait_saf_empty(&fx, 5000));
}

static void test_refunds(void **state)
{
	(void)state;
	json_t *a = fx_pay(&fx, "PAY-0010", A_RICH, B_SHOP2, 10000);
	assert_string_equal(fx_str(a, "code"), "00");
	json_decref(a);
	int64_t payer = fx_balance(&fx, BANK_A, A_RICH);
	int64_t payee = fx_balance(&fx, BANK_B, B_SHOP2);
	a = fx_call(&fx, "{\"op\":\"refund\",\"id\":\"REF-0001\",\"original\":\"PAY-0010\","
			 "\"amount\":6000,\"currency\":\"CNY\"}");
	assert_string_equal(fx_str(a, "status"), "approved");
	json_decref(a);
	assert_int_equal(fx_balance(&fx, BANK_A, A_RICH), payer + 6000);
	assert_int_equal(fx_balance(&fx, BANK_B, B_SHOP2), payee - 6000);
	/* 4000 remain refundable: 4001 is too much, 4000 is fine. */
	a = fx_call(&fx, "{\"op\":\"refund\",\"id\":\"REF-0002\",\"original\":\"PAY-0010\","
			 "\"amount\":4001,\"currency\":\"CNY\"}");
	assert_string_equal(fx_str(a, "code"), "13");
	assert_non_null(strstr(fx_str(a, "reason"), "exceed"));
	json_decref(a);
	a = fx_call(&fx, "{\"op\":\"refund\",\"id\":\"REF-0003\",\"original\":\"PAY-0010\","
			 "\"amount\":4000,\"currency\":\"CNY\"}");
	assert_string_equal(fx_str(a, "code"), "00");
	json_decref(a);
	a = fx_call(&fx, "{\"op\":\"refund\",\"id\":\"REF-0004\",\"original\":\"PAY-0010\","
			 "\"amount\":1,\"currency\":\"CNY\"}");
	assert_string_equal(fx_str(a, "code"), "13");
	json_decref(a);
	a = fx_call(&fx, "{\"op\":\"refund\",\"id\":\"REF-0005\",\"original\":\"NO-SUCH\","
			 "\"amount\":1,\"currency\":\"CNY\"}");
	assert_string_equal(fx_str(a, "code"), "25");
	json_decref(a);
	assert_int_equal(fx_balance(&fx, BANK_A, A_RICH), payer + 10000);
	assert_int_equal(fx_balance(&fx, BANK_B, B_SHOP2), payee - 10000);
}

static void test_unknown_bin(void **state)
{
	(void)state;
	json_t *a = fx_pay(&fx, "PAY-0020", NO_ROUTE, B_SHOP, 100);
	assert_string_equal(fx_str(a, "code"), "15");
	json_decref(a);
	a = fx_pay(&fx, "PAY-0021", A_RICH, NO_ROUTE, 100);
	assert_string_equal(fx_str(a, "code"), "15");
	json_decref(a);
}

static void test_live_route_change(void **state)
{
	(void)state;
	expect_purchase_code("9999000000000002", 100, "15");
	/* The operator routes 9999 to bank A while the switch runs: the
	 * next message reaches bank A, which does not know the card. */
	assert_int_equal(fx_switchctl(&fx, NULL, 0, "routes", "add", "--prefix", "9999",
				      "--endpoint", "bank_a", "--institution", "01020000",
				      NULL), 0);
	expect_purchase_code("9999000000000002", 100, "14");
	assert_int_equal(fx_switchctl(&fx, NULL, 0, "routes", "disable", "9999", NULL), 0);
	expect_purchase_code("9999000000000002", 100, "91");
	assert_int_equal(fx_switchctl(&fx, NULL, 0, "routes", "del", "--prefix", "9999",
				      NULL), 0);
	expect_purchase_code("9999000000000002", 100, "15");
}

/* A route's primary endpoint down: its alternate takes the traffic; all
 * down: 91. */
static void test_route_alternates(void **state)
{
	(void)state;
	assert_int_equal(fx_switchctl(&fx, NULL, 0, "routes", "add", "--prefix", "6222029",
				      "--endpoint", "bank_gone", "--alt", "bank_a", NULL), 0);
	/* bank_a does not know the card: 14 proves the alternate carried it */
	expect_purchase_code(A_UNKNOWN, 100, "14");
	assert_int_equal(fx_switchctl(&fx, NULL, 0, "routes", "add", "--prefix", "6222029",
				      "--endpoint", "bank_gone", "--alt", "bank_also_gone",
				      NULL), 0);
	expect_purchase_code(A_UNKNOWN, 100, "91");
	assert_int_equal(fx_switchctl(&fx, NULL, 0, "routes", "del", "--prefix", "6222029",
				      NULL), 0);
	expect_purchase_code(A_UNKNOWN, 100, "14");
}

/* An acquirer's reversal advice (0420) for an approved purchase: the
 * switch reverses it at the issuer and acknowledges (0430). */
static void test_reversal_advice(void **state)
{
	(void)state;
	int64_t before = fx_balance(&fx, BANK_A, A_SPARE);
	iso8583_msg_t r;
	uint8_t buf[2048];
	assert_true(fx_purchase(&fx, A_SPARE, 4321, 7001, &r, buf, sizeof(buf)));
	assert_string_equal(fx_field(&r, 39), "00");
	assert_int_equal(fx_balance(&fx, BANK_A, A_SPARE), before - 4321);
	const iso8583_dialect_t *d = iso8583_dialect_builtin("ascii");
	iso8583_msg_t m;
	iso8583_msg_init(&m, d);
	iso8583_set_mti(&m, "0420");
	iso8583_set_str(&m, 2, A_SPARE);
	iso8583_set_str(&m, 3, "000000");
	iso8583_set_str(&m, 4, "000000004321");
	iso8583_set_str(&m, 7, "1125103100");
	iso8583_set_str(&m, 11, "007002");
	iso8583_set_str(&m, 32, "48020000");
	iso8583_set_str(&m, 49, "156");
	/* the original: MTI, STAN 007001, field 7, acquirer, forwarder */
	iso8583_set_str(&m, 90, "0200" "007001" "1125103000" "00048020000" "00000000000");
	int fd = ts_connect(fx.acq, 5000);
	ts_iso_send(fd, &m);
	assert_true(ts_iso_recv(fd, d, &r, buf, sizeof(buf), 5000));
	assert_memory_equal(r.mti, "0430", 4);
	assert_string_equal(fx_field(&r, 39), "00");
	assert_string_equal(fx_field(&r, 11), "007002");
	/* A repeat (0421) is answered the same and reverses nothing twice. */
	iso8583_set_mti(&m, "0421");
	ts_iso_send(fd, &m);
	assert_true(ts_iso_recv(fd, d, &r, buf, sizeof(buf), 5000));
	assert_string_equal(fx_field(&r, 39), "00");
	/* An advice for a purchase the switch never saw is acknowledged. */
	iso8583_set_mti(&m, "0420");
	iso8583_set_str(&m, 11, "007003");
	iso8583_set_str(&m, 90, "0200" "009999" "1125103000" "00048020000" "00000000000");
	ts_iso_send(fd, &m);
	assert_true(ts_iso_recv(fd, d, &r, buf, sizeof(buf), 5000));
	assert_string_equal(fx_field(&r, 39), "00");
	close(fd);
	assert_true(fx_wait_balance(&fx, BANK_A, A_SPARE, before, 5000));
	assert_true(fx_wait_saf_empty(&fx, 5000));
}

/*
 * A reversal request (0400, not an advice) from the acquirer: the issuer
 * gets a 0400 for the original, and the acquirer's request is kept as a
 * transaction like any other, never as an entry of the switch's own
 * store-and-forward queue (a regression: it once was, under a zero key).
 */
static void test_acquirer_reversal_request(void **state)
{
	(void)state;
	int64_t before = fx_balance(&fx, BANK_A, A_SPARE);
	iso8583_msg_t r;
	uint8_t buf[2048];
	assert_true(fx_purchase(&fx, A_SPARE, 999, 7101, &r, buf, sizeof(buf)));
	assert_string_equal(fx_field(&r, 39), "00");
	const iso8583_dialect_t *d = iso8583_dialect_builtin("ascii");
	iso8583_msg_t m;
	iso8583_msg_init(&m, d);
	iso8583_set_mti(&m, "0400");
	iso8583_set_str(&m, 2, A_SPARE);
	iso8583_set_str(&m, 3, "000000");
	iso8583_set_str(&m, 4, "000000000999");
	iso8583_set_str(&m, 7, "1125103200");
	iso8583_set_str(&m, 11, "007102");
	iso8583_set_str(&m, 32, "48020000");
	iso8583_set_str(&m, 49, "156");
	iso8583_set_str(&m, 90, "0200" "007101" "1125103000" "00048020000" "00000000000");
	int fd = ts_connect(fx.acq, 5000);
	ts_iso_send(fd, &m);
	assert_true(ts_iso_recv(fd, d, &r, buf, sizeof(buf), 5000));
	assert_memory_equal(r.mti, "0410", 4);
	assert_string_equal(fx_field(&r, 39), "00");
	close(fd);
	assert_true(fx_wait_balance(&fx, BANK_A, A_SPARE, before, 5000));
	assert_true(fx_wait_saf_empty(&fx, 5000));
}

/* The logs name accounts masked: first 6 and last 4 digits only. */
static void test_logs_mask_pans(void **state)
{
	(void)state;
	char log[600];
	snprintf(log, sizeof(log), "%s/switchd.log", fx.dir);
	FILE *f = fopen(log, "r");
	assert_non_null(f);
	static char text[1 << 22];
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	assert_non_null(strstr(text, "622202******0007")); /* the reversals logged it */
	const char *pans[] = {A_RICH, A_DROP, A_DELAY, A_SPARE, B_SHOP, B_DROP};
	for (size_t i = 0; i < sizeof(pans) / sizeof(pans[0]); i++)
		if (strstr(text, pans[i]) != NULL)
			fail_msg("the switch log shows %s unmasked", pans[i]);
}

/* The bank posts but never answers: 68, then a reversal voids it. */
static void test_timeout_reversal(void **state)
{
	(void)state;
	int64_t before = fx_balance(&fx, BANK_A, A_DROP);
	int64_t reversals = fx_stat(&fx, "stats", "reversals_acknowledged");
	json_t *a = fx_pay(&fx, "PAY-0030", A_DROP, B_SHOP, 2500);
	assert_string_equal(fx_str(a, "code"), "68");
	json_decref(a);
	assert_true(fx_wait_balance(&fx, BANK_A, A_DROP, before, 5000));
	assert_true(fx_wait_saf_empty(&fx, 5000));
	assert_true(fx_stat(&fx, "stats", "reversals_acknowledged") > reversals);
	/* An acquirer's purchase times out the same way. */
	iso8583_msg_t r;
	uint8_t buf[2048];
	assert_true(fx_purchase(&fx, A_DROP, 700, 0, &r, buf, sizeof(buf)));
	assert_string_equal(fx_field(&r, 39), "68");
	assert_true(fx_wait_balance(&fx, BANK_A, A_DROP, before, 5000));
}

/* The credit leg is dropped: both legs are reversed. */
static void test_credit_timeout_reverses_both(void **state)
{
	(void)state;
	int64_t payer = fx_balance(&fx, BANK_A, A_SPARE);
	int64_t payee = fx_balance(&fx, BANK_B, B_DROP);
	json_t *a = fx_pay(&fx, "PAY-0031", A_SPARE, B_DROP, 1500);
	assert_string_equal(fx_str(a, "code"), "68");
	json_decref(a);
	assert_true(fx_wait_balance(&fx, BANK_A, A_SPARE, payer, 5000));
	assert_true(fx_wait_balance(&fx, BANK_B, B_DROP, payee, 5000));
	assert_true(fx_wait_saf_empty(&fx, 5000));
}

/* The bank answers after the deadline: 68 to the origin, the posting is
 * reversed, and the late approval is recognised, never delivered. */
static void test_late_response(void **state)
{
	(void)state;
	int64_t before = fx_balance(&fx, BANK_A, A_DELAY);
	int64_t late = fx_stat(&fx, "stats", "late_responses");
	json_t *a = fx_pay(&fx, "PAY-0040", A_DELAY, B_SHOP, 900);
	assert_string_equal(fx_str(a, "code"), "68");
	json_decref(a);
	/* The late 0210 comes at twice the timeout. */
	uint64_t end = ts_now_ms() + 5000;
	while (fx_stat(&fx, "stats", "late_responses") <= late && ts_now_ms() < end)
		ts_sleep_ms(20);
	assert_true(fx_stat(&fx, "stats", "late_responses") > late);
	assert_true(fx_wait_balance(&fx, BANK_A, A_DELAY, before, 5000));
	assert_true(fx_wait_saf_empty(&fx, 5000));
	/* The PSP's answer stays 68: a repeat of the request says so. */
	a = fx_pay(&fx, "PAY-0040", A_DELAY, B_SHOP, 900);
	assert_string_equal(fx_str(a, "code"), "68");
	json_decref(a);
}

static void test_duplicates(void **state)
{
	(void)state;
	int64_t payer = fx_balance(&fx, BANK_A, A_RICH);
	json_t *first = fx_pay(&fx, "PAY-0050", A_RICH, B_SHOP, 333);
	json_t *again = fx_pay(&fx, "PAY-0050", A_RICH, B_SHOP, 333);
	assert_string_equal(fx_str(first, "code"), "00");
	assert_string_equal(fx_str(again, "code"), "00");
	assert_string_equal(fx_str(first, "txn"), fx_str(again, "txn"));
	assert_string_equal(fx_str(first, "auth_code"), fx_str(again, "auth_code"));
	json_decref(first);
	json_decref(again);
	assert_int_equal(fx_balance(&fx, BANK_A, A_RICH), payer - 333);
	/* An acquirer repeating (32, 11, 7) gets the original 0210. */
	iso8583_msg_t r1, r2;
	uint8_t b1[2048], b2[2048];
	assert_true(fx_purchase(&fx, A_RICH, 444, 6001, &r1, b1, sizeof(b1)));
	assert_true(fx_purchase(&fx, A_RICH, 444, 6001, &r2, b2, sizeof(b2)));
	assert_string_equal(fx_field(&r1, 39), "00");
	assert_string_equal(fx_field(&r2, 39), "00");
	assert_string_equal(fx_field(&r1, 38), fx_field(&r2, 38));
	assert_string_equal(fx_field(&r1, 37), fx_field(&r2, 37));
	assert_int_equal(fx_balance(&fx, BANK_A, A_RICH), payer - 333 - 444);
	/* While the original is in flight, a repeat is 94. */
	char line[512];
	snprintf(line, sizeof(line),
		 "{\"op\":\"pay\",\"id\":\"PAY-0051\",\"payer\":{\"account\":\"%s\"},"
		 "\"payee\":{\"account\":\"%s\"},\"amount\":100,\"currency\":\"CNY\"}",
		 A_DROP, B_SHOP);
	ts_send_line(fx.psp_fd, line);
	json_t *dup = fx_call(&fx, "%s", line);
	assert_string_equal(fx_str(dup, "code"), "94");
	json_decref(dup);
	json_t *orig = ts_json_wait(fx.psp_fd, "PAY-0051", 5000);
	assert_non_null(orig);
	assert_string_equal(fx_str(orig, "code"), "68");
	json_decref(orig);
	json_t *after = fx_call(&fx, "%s", line); /* final now: the same 68 */
	assert_string_equal(fx_str(after, "code"), "68");
	json_decref(after);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_echo),
		cmocka_unit_test(test_purchase_approved),
		cmocka_unit_test(test_purchase_tpdu),
		cmocka_unit_test(test_decline_codes),
		cmocka_unit_test(test_pay_two_legs),
		cmocka_unit_test(test_pay_declined_debit),
		cmocka_unit_test(test_pay_credit_fails_debit_reversed),
		cmocka_unit_test(test_refunds),
		cmocka_unit_test(test_unknown_bin),
		cmocka_unit_test(test_live_route_change),
		cmocka_unit_test(test_timeout_reversal),
		cmocka_unit_test(test_credit_timeout_reverses_both),
		cmocka_unit_test(test_late_response),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_route_alternates),
		cmocka_unit_test(test_reversal_advice),
		cmocka_unit_test(test_acquirer_reversal_request),
		cmocka_unit_test(test_logs_mask_pans),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
