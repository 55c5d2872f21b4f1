/* test_iso.c: txn_t to and from ISO 8583 fields, in every built-in dialect. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "adapters.h"

static const char *const dialects[] = {"ascii", "binary", "ascii-binbitmap"};

/* Packs msg and unpacks it again, as the wire would carry it. */
static void wire(const iso8583_msg_t *msg, uint8_t *buf, size_t cap,
		 iso8583_msg_t *back)
{
	size_t len = 0;
	iso8583_error_t err;
	int rc = iso8583_pack(msg, buf, cap, &len, &err);
	if (rc != 0) {
		char text[256];
		fail_msg("pack: %s", iso8583_error_format(&err, text, sizeof(text)));
	}
	assert_int_equal(iso8583_unpack(back, msg->dialect, buf, len, &err), 0);
}

static void debit_leg(txn_t *t)
{
	txn_init(t, TXN_KIND_PAY);
	strcpy(t->payer, "6222020000000001");
	strcpy(t->payee, "6217000000000009");
	t->amount = 12850;
	t->currency = 156;
	strcpy(t->acquirer, "99990000");
	strcpy(t->forwarder, "99990000");
	strcpy(t->local_time, "103000");
	strcpy(t->local_date, "1125");
	strcpy(t->merchant_name, "Three Squirrels");
	t->leg_count = 1;
	txn_leg_t *l = &t->leg[0];
	l->kind = TXN_KIND_PURCHASE;
	strcpy(l->proc, "000000");
	strcpy(l->account, t->payer);
	l->stan = 123;
	strcpy(l->transmit, "1125103000");
	strcpy(l->rrn, "533000000123");
	strcpy(l->institution, "01020000");
}

/* A leg the switch sends decodes, at the bank, into the same money. */
static void test_leg_reaches_the_bank(void **state)
{
	(void)state;
	for (size_t d = 0; d < 3; d++) {
		const iso8583_dialect_t *dialect = iso8583_dialect_builtin(dialects[d]);
		assert_non_null(dialect);
		txn_t t, bank;
		debit_leg(&t);
		iso8583_msg_t msg, back;
		assert_int_equal(txn_leg_to_iso(&t, 0, dialect, &msg), 0);
		uint8_t buf[2048];
		wire(&msg, buf, sizeof(buf), &back);
		assert_memory_equal(back.mti, "0200", 4);
		txn_error_t err;
		assert_int_equal(txn_from_iso(&back, &bank, &err), 0);
		assert_int_equal(bank.kind, TXN_KIND_PURCHASE);
		assert_string_equal(bank.payer, "6222020000000001");
		assert_string_equal(bank.payee, "6217000000000009");
		assert_int_equal(bank.amount, 12850);
		assert_int_equal(bank.currency, 156);
		assert_int_equal(bank.stan, 123);
		assert_string_equal(bank.transmit, "1125103000");
		assert_string_equal(bank.rrn, "533000000123");
		assert_string_equal(bank.acquirer, "99990000");
		assert_string_equal(bank.merchant_name, "Three Squirrels");
		assert_string_equal(bank.receiver, "01020000");
		assert_string_equal(bank.request_id, "99990000:000123:1125103000");
	}
}

static void test_credit_and_refund_kinds(void **state)
{
	(void)state;
	const iso8583_dialect_t *dialect = iso8583_dialect_builtin("ascii");
	const struct {
		const char *proc;
		int kind;
	} cases[] = {{"260000", TXN_KIND_CREDIT},
		     {"200000", TXN_KIND_REFUND_CREDIT},
		     {"310000", TXN_KIND_BALANCE}};
	for (size_t i = 0; i < 3; i++) {
		txn_t t, bank;
		debit_leg(&t);
		strcpy(t.leg[0].proc, cases[i].proc);
		iso8583_msg_t msg, back;
		uint8_t buf[2048];
		assert_int_equal(txn_leg_to_iso(&t, 0, dialect, &msg), 0);
		wire(&msg, buf, sizeof(buf), &back);
		txn_error_t err;
		assert_int_equal(txn_from_iso(&back, &bank, &err), 0);
		assert_int_equal(bank.kind, cases[i].kind);
	}
}

/* The bank's answer carries 38/39/54 back and echoes the keys. */
static void test_answer_and_response(void **state)
{
	(void)state;
	for (size_t d = 0; d < 3; d++) {
		const iso8583_dialect_t *dialect = iso8583_dialect_builtin(dialects[d]);
		txn_t t, bank;
		debit_leg(&t);
		iso8583_msg_t msg, back;
		uint8_t buf[2048];
		assert_int_equal(txn_leg_to_iso(&t, 0, dialect, &msg), 0);
		wire(&msg, buf, sizeof(buf), &back);
		txn_error_t err;
		assert_int_equal(txn_from_iso(&back, &bank, &err), 0);
		strcpy(bank.response, "00");
		strcpy(bank.auth_code, "123456");
		bank.balance = 987650;
		bank.flags |= TXN_F_BALANCE;
		iso8583_msg_t ans, ans_back;
		uint8_t buf2[2048];
		assert_int_equal(txn_answer_to_iso(&bank, dialect, &ans), 0);
		wire(&ans, buf2, sizeof(buf2), &ans_back);
		assert_memory_equal(ans_back.mti, "0210", 4);
		txn_response_t r;
		assert_int_equal(txn_response_from_iso(&ans_back, &r, &err), 0);
		assert_string_equal(r.mti, "0210");
		assert_int_equal(r.stan, 123);
		assert_string_equal(r.transmit, "1125103000");
		assert_string_equal(r.response, "00");
		assert_string_equal(r.auth_code, "123456");
		assert_string_equal(r.rrn, "533000000123");
		assert_true(r.has_balance);
		assert_int_equal(r.balance, 987650);
		assert_true(txn_mti_is_response(r.mti));
		assert_false(txn_mti_is_response("0200"));
	}
}

static void test_declined_answer_has_no_auth_code(void **state)
{
	(void)state;
	const iso8583_dialect_t *dialect = iso8583_dialect_builtin("ascii");
	txn_t t;
	debit_leg(&t);
	memcpy(t.mti, "0200", 5);
	strcpy(t.proc, "000000");
	strcpy(t.response, "51");
	strcpy(t.auth_code, "999999");
	iso8583_msg_t ans;
	assert_int_equal(txn_answer_to_iso(&t, dialect, &ans), 0);
	assert_false(iso8583_has(&ans, 38));
	char code[3];
	assert_int_equal(iso8583_get_text(&ans, 39, code, sizeof(code), NULL), 0);
	assert_string_equal(code, "51");
	/* No origin RRN: the switch's (leg 0) goes back to the acquirer. */
	char rrn[13];
	assert_int_equal(iso8583_get_text(&ans, 37, rrn, sizeof(rrn), NULL), 0);
	assert_string_equal(rrn, "533000000123");
}

static void test_reversal_and_completion(void **state)
{
	(void)state;
	const iso8583_dialect_t *dialect = iso8583_dialect_builtin("binary");
	txn_t t;
	debit_leg(&t);
	char od[43];
	txn_original_data(&t, 0, od);
	assert_string_equal(od, "0200000123112510300000099990000" "00099990000");
	const struct {
		int kind;
		bool repeat;
		uint16_t flags;
		const char *mti;
		int decoded;
		const char *answer;
	} cases[] = {
		{TXN_KIND_REVERSAL, false, 0, "0400", TXN_KIND_REVERSAL, "0410"},
		{TXN_KIND_REVERSAL, true, 0, "0401", TXN_KIND_REVERSAL, "0410"},
		{TXN_KIND_REVERSAL, false, TXN_F_ADVICE, "0420", TXN_KIND_REVERSAL_ADVICE, "0430"},
		{TXN_KIND_REVERSAL, true, TXN_F_ADVICE, "0421", TXN_KIND_REVERSAL_ADVICE, "0430"},
		{TXN_KIND_COMPLETION, false, 0, "0220", TXN_KIND_COMPLETION, "0230"},
		{TXN_KIND_COMPLETION, true, 0, "0221", TXN_KIND_COMPLETION, "0230"}};
	for (size_t i = 0; i < 6; i++) {
		txn_t rev = t;
		rev.kind = (uint8_t)cases[i].kind;
		rev.flags = (uint16_t)((cases[i].repeat ? TXN_F_REPEAT : 0) | cases[i].flags);
		strcpy(rev.original_data, od);
		rev.leg[0].kind = (uint8_t)cases[i].kind;
		rev.leg[0].stan = 124;
		iso8583_msg_t msg, back;
		uint8_t buf[2048];
		assert_int_equal(txn_leg_to_iso(&rev, 0, dialect, &msg), 0);
		wire(&msg, buf, sizeof(buf), &back);
		assert_memory_equal(back.mti, cases[i].mti, 4);
		txn_t bank;
		txn_error_t err;
		assert_int_equal(txn_from_iso(&back, &bank, &err), 0);
		assert_int_equal(bank.kind, cases[i].decoded);
		assert_string_equal(bank.original_data, od);
		assert_int_equal(bank.amount, 12850);
		assert_int_equal((bank.flags & TXN_F_REPEAT) != 0, cases[i].repeat);
		/* Its answer is 0410 / 0230, echoing field 90. */
		strcpy(bank.response, "00");
		iso8583_msg_t ans;
		assert_int_equal(txn_answer_to_iso(&bank, dialect, &ans), 0);
		assert_memory_equal(ans.mti, cases[i].answer, 4);
		assert_true(iso8583_has(&ans, 90));
	}
}

static void test_network_messages(void **state)
{
	(void)state;
	const iso8583_dialect_t *dialect = iso8583_dialect_builtin("ascii");
	txn_t t;
	txn_init(&t, TXN_KIND_NETWORK);
	strcpy(t.network_code, "301");
	t.leg[0].stan = 7;
	strcpy(t.leg[0].transmit, "1125000000");
	iso8583_msg_t msg, back;
	uint8_t buf[512];
	assert_int_equal(txn_leg_to_iso(&t, 0, dialect, &msg), 0);
	wire(&msg, buf, sizeof(buf), &back);
	assert_memory_equal(back.mti, "0800", 4);
	txn_t peer;
	txn_error_t err;
	assert_int_equal(txn_from_iso(&back, &peer, &err), 0);
	assert_int_equal(peer.kind, TXN_KIND_NETWORK);
	assert_string_equal(peer.network_code, "301");
	strcpy(peer.response, "00");
	iso8583_msg_t ans;
	assert_int_equal(txn_answer_to_iso(&peer, dialect, &ans), 0);
	assert_memory_equal(ans.mti, "0810", 4);
	assert_false(iso8583_has(&ans, 2));
	assert_false(iso8583_has(&ans, 4));
	txn_response_t r;
	assert_int_equal(txn_response_from_iso(&ans, &r, &err), 0);
	assert_string_equal(r.network_code, "301");
}

/* Builds an acquirer's 0200 with the fields given as (n, text) pairs. */
static void acquirer_msg(iso8583_msg_t *m, const char *mti, const char *const *pairs)
{
	iso8583_msg_init(m, iso8583_dialect_builtin("ascii"));
	assert_int_equal(iso8583_set_mti(m, mti), 0);
	for (size_t i = 0; pairs[i] != NULL; i += 2)
		assert_int_equal(iso8583_set_str(m, atoi(pairs[i]), pairs[i + 1]), 0);
}

static void expect_iso_error(const char *mti, const char *const *pairs,
			     const char *field, const char *code)
{
	iso8583_msg_t m;
	acquirer_msg(&m, mti, pairs);
	txn_t t;
	txn_error_t err;
	assert_true(txn_from_iso(&m, &t, &err) < 0);
	assert_string_equal(err.field, field);
	assert_string_equal(err.code, code);
}

static void test_iso_request_errors(void **state)
{
	(void)state;
	const char *no_stan[] = {"2", "6222020000000001", "3", "000000", "4", "000000000100",
				 "7", "1125103000", NULL};
	expect_iso_error("0200", no_stan, "field 11", "30");
	const char *bad_proc[] = {"2", "6222020000000001", "3", "990000", "4", "000000000100",
				  "7", "1125103000", "11", "000001", NULL};
	expect_iso_error("0200", bad_proc, "field 3", "12");
	const char *zero[] = {"2", "6222020000000001", "3", "000000", "4", "000000000000",
			      "7", "1125103000", "11", "000001", NULL};
	expect_iso_error("0200", zero, "field 4", "13");
	const char *no_pan[] = {"3", "000000", "4", "000000000100", "7", "1125103000",
				"11", "000001", NULL};
	expect_iso_error("0200", no_pan, "field 2", "30");
	const char *auth[] = {"7", "1125103000", "11", "000001", NULL};
	expect_iso_error("0100", auth, "", "12");
	const char *no90[] = {"7", "1125103000", "11", "000001", NULL};
	expect_iso_error("0420", no90, "field 90", "30");
}

static void test_pan_from_track2(void **state)
{
	(void)state;
	const char *pairs[] = {"3", "000000", "4", "000000000100", "7", "1125103000",
			       "11", "000001", "32", "123456", "35",
			       "6222020000000001=2912101", NULL};
	iso8583_msg_t m;
	acquirer_msg(&m, "0200", pairs);
	txn_t t;
	txn_error_t err;
	assert_int_equal(txn_from_iso(&m, &t, &err), 0);
	assert_string_equal(t.payer, "6222020000000001");
	assert_string_equal(t.track2, "6222020000000001=2912101");
	assert_string_equal(t.request_id, "123456:000001:1125103000");
	assert_string_equal(t.participant, "123456");
}

static void test_response_needs_keys(void **state)
{
	(void)state;
	iso8583_msg_t m;
	const char *no39[] = {"7", "1125103000", "11", "000001", NULL};
	acquirer_msg(&m, "0210", no39);
	txn_response_t r;
	txn_error_t err;
	assert_int_equal(txn_response_from_iso(&m, &r, &err), TXN_EFORMAT);
	assert_string_equal(err.field, "field 39");
	const char *req[] = {"7", "1125103000", "11", "000001", "39", "00", NULL};
	acquirer_msg(&m, "0200", req);
	assert_int_equal(txn_response_from_iso(&m, &r, &err), TXN_EFORMAT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_leg_reaches_the_bank),
		cmocka_unit_test(test_credit_and_refund_kinds),
		cmocka_unit_test(test_answer_and_response),
		cmocka_unit_test(test_declined_answer_has_no_auth_code),
		cmocka_unit_test(test_reversal_and_completion),
		cmocka_unit_test(test_network_messages),
		cmocka_unit_test(test_iso_request_errors),
		cmocka_unit_test(test_pan_from_track2),
		cmocka_unit_test(test_response_needs_keys),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
