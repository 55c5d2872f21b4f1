/* test_iso.c: txn_t to and from ISO 8583 fields, in every built-in dialect. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "adapters.h"
#include "core.h"

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
	txn_set_leg(t, 0, TXN_KIND_PURCHASE, t->payer);
	txn_leg_t *l = &t->leg[0];
	l->stan = 123;
	strcpy(l->transmit, "1125103000");
	strcpy(l->rrn, "533000000123");
	strcpy(l->institution, "01020000");
}

/* The field as text, or "" when absent. */
static const char *field(const iso8583_msg_t *m, int n, char *out, size_t cap)
{
	out[0] = '\0';
	if (iso8583_has(m, n))
		assert_int_equal(iso8583_get_text(m, n, out, cap, NULL), 0);
	return out;
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
		assert_int_equal(bank.wire.stan, 123);
		assert_string_equal(bank.wire.transmit, "1125103000");
		assert_string_equal(bank.wire.mti, "0200");
		assert_string_equal(bank.wire.proc, "000000");
		assert_string_equal(bank.rrn, "533000000123");
		assert_string_equal(bank.acquirer, "99990000");
		assert_string_equal(bank.merchant_name, "Three Squirrels");
		assert_string_equal(bank.wire.receiver, "01020000");
		assert_string_equal(bank.request_id, "99990000:000123:1125103000");
		/* Nothing answered yet: a decoded request has no rc. */
		assert_int_equal(bank.rc, TXN_RC_NONE);
	}
}

/* Field 3 comes from the leg's kind, so each kind reaches the bank as
 * itself. */
static void test_credit_and_refund_kinds(void **state)
{
	(void)state;
	const iso8583_dialect_t *dialect = iso8583_dialect_builtin("ascii");
	const struct {
		int kind;
		const char *proc;
	} cases[] = {{TXN_KIND_CREDIT, "260000"},
		     {TXN_KIND_REFUND_CREDIT, "200000"},
		     {TXN_KIND_BALANCE, "310000"}};
	for (size_t i = 0; i < 3; i++) {
		txn_t t, bank;
		debit_leg(&t);
		t.leg[0].kind = (uint8_t)cases[i].kind;
		iso8583_msg_t msg, back;
		uint8_t buf[2048];
		assert_int_equal(txn_leg_to_iso(&t, 0, dialect, &msg), 0);
		wire(&msg, buf, sizeof(buf), &back);
		txn_error_t err;
		assert_int_equal(txn_from_iso(&back, &bank, &err), 0);
		assert_int_equal(bank.kind, cases[i].kind);
		assert_string_equal(bank.wire.proc, cases[i].proc);
	}
}

/* The account types (digits 3-6 of field 3) travel with every leg, and an
 * acquirer's come into account_types. */
static void test_account_types_in_field_3(void **state)
{
	(void)state;
	const iso8583_dialect_t *dialect = iso8583_dialect_builtin("ascii");
	txn_t t, bank;
	debit_leg(&t);
	strcpy(t.account_types, "1020");
	t.leg[0].kind = TXN_KIND_CREDIT;
	iso8583_msg_t msg, back;
	uint8_t buf[2048];
	assert_int_equal(txn_leg_to_iso(&t, 0, dialect, &msg), 0);
	wire(&msg, buf, sizeof(buf), &back);
	char text[8];
	assert_string_equal(field(&back, 3, text, sizeof(text)), "261020");
	txn_error_t err;
	assert_int_equal(txn_from_iso(&back, &bank, &err), 0);
	assert_int_equal(bank.kind, TXN_KIND_CREDIT);
	assert_string_equal(bank.account_types, "1020");
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
		bank.rc = TXN_RC_APPROVED;
		strcpy(bank.auth_code, "123456");
		bank.balance = 987650;
		bank.flags |= TXN_F_BALANCE;
		iso8583_msg_t ans, ans_back;
		uint8_t buf2[2048];
		assert_int_equal(txn_answer_to_iso(&bank, dialect, &ans), 0);
		wire(&ans, buf2, sizeof(buf2), &ans_back);
		assert_memory_equal(ans_back.mti, "0210", 4);
		assert_true(txn_mti_is_response("0210"));
		assert_false(txn_mti_is_response("0200"));
		txn_response_t r;
		assert_int_equal(txn_response_from_iso(&ans_back, &r, &err), 0);
		assert_int_equal(r.stan, 123);
		assert_string_equal(r.transmit, "1125103000");
		assert_int_equal(r.rc, TXN_RC_APPROVED);
		assert_int_equal(r.net_op, TXN_NET_NONE);
		assert_string_equal(r.auth_code, "123456");
		assert_string_equal(r.rrn, "533000000123");
		assert_true(r.has_balance);
		assert_int_equal(r.balance, 987650);
	}
}

/* A debit balance (field 54 sign D) comes back negative. */
static void test_negative_balance(void **state)
{
	(void)state;
	const iso8583_dialect_t *dialect = iso8583_dialect_builtin("ascii");
	txn_t t;
	debit_leg(&t);
	memcpy(t.wire.mti, "0200", 5);
	t.wire.stan = 5;
	strcpy(t.wire.transmit, "1125103000");
	t.rc = TXN_RC_APPROVED;
	t.balance = -4200;
	t.flags |= TXN_F_BALANCE;
	iso8583_msg_t ans;
	assert_int_equal(txn_answer_to_iso(&t, dialect, &ans), 0);
	txn_response_t r;
	txn_error_t err;
	assert_int_equal(txn_response_from_iso(&ans, &r, &err), 0);
	assert_true(r.has_balance);
	assert_int_equal(r.balance, -4200);
}

static void test_declined_answer_has_no_auth_code(void **state)
{
	(void)state;
	const iso8583_dialect_t *dialect = iso8583_dialect_builtin("ascii");
	txn_t t;
	debit_leg(&t);
	memcpy(t.wire.mti, "0200", 5);
	strcpy(t.wire.proc, "000000");
	t.rc = TXN_RC_INSUFFICIENT_FUNDS;
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

/* An answer decided before any rc was set must still say something an
 * acquirer understands: 96, never "255". */
static void test_unanswered_goes_out_as_96(void **state)
{
	(void)state;
	const iso8583_dialect_t *dialect = iso8583_dialect_builtin("ascii");
	txn_t t;
	debit_leg(&t);
	memcpy(t.wire.mti, "0200", 5);
	assert_int_equal(t.rc, TXN_RC_NONE);
	iso8583_msg_t ans;
	assert_int_equal(txn_answer_to_iso(&t, dialect, &ans), 0);
	char code[3];
	assert_string_equal(field(&ans, 39, code, sizeof(code)), "96");
}

/* Reversals and completions carry field 90 built from original_*, and the
 * bank reads it back into the same original_* and request id. */
static void test_reversal_and_completion(void **state)
{
	(void)state;
	const iso8583_dialect_t *dialect = iso8583_dialect_builtin("binary");
	txn_t t;
	debit_leg(&t);
	const char od[] = "0200000123112510300000099990000" "00099990000";
	const struct {
		int kind;
		uint16_t flags;
		const char *mti;
		bool advice;
		const char *answer;
	} cases[] = {
		{TXN_KIND_REVERSAL, 0, "0400", false, "0410"},
		{TXN_KIND_REVERSAL, TXN_F_REPEAT, "0401", false, "0410"},
		{TXN_KIND_REVERSAL, TXN_F_ADVICE, "0420", true, "0430"},
		{TXN_KIND_REVERSAL, TXN_F_ADVICE | TXN_F_REPEAT, "0421", true, "0430"},
		{TXN_KIND_COMPLETION, 0, "0220", true, "0230"},
		{TXN_KIND_COMPLETION, TXN_F_REPEAT, "0221", true, "0230"}};
	for (size_t i = 0; i < 6; i++) {
		txn_t rev = t;
		rev.kind = (uint8_t)cases[i].kind;
		rev.flags = cases[i].flags;
		rev.original_kind = TXN_KIND_PURCHASE;
		rev.original_stan = 123;
		strcpy(rev.original_transmit, "1125103000");
		strcpy(rev.original_acquirer, "99990000");
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
		assert_int_equal(bank.kind, cases[i].kind);
		assert_string_equal(bank.wire.original_data, od);
		assert_int_equal(bank.original_stan, 123);
		assert_string_equal(bank.original_transmit, "1125103000");
		assert_string_equal(bank.original_acquirer, "99990000");
		assert_int_equal(bank.original_kind, TXN_KIND_PURCHASE);
		assert_string_equal(bank.original_id, "99990000:000123:1125103000");
		assert_int_equal(bank.amount, 12850);
		assert_int_equal((bank.flags & TXN_F_REPEAT) != 0,
				 (cases[i].flags & TXN_F_REPEAT) != 0);
		assert_int_equal((bank.flags & TXN_F_ADVICE) != 0, cases[i].advice);
		/* Its answer is 0410 / 0430 / 0230, echoing field 90. */
		bank.rc = TXN_RC_APPROVED;
		iso8583_msg_t ans;
		assert_int_equal(txn_answer_to_iso(&bank, dialect, &ans), 0);
		assert_memory_equal(ans.mti, cases[i].answer, 4);
		assert_true(iso8583_has(&ans, 90));
	}
}

/* A reversal of a credit says so in field 3, and the bank learns which
 * leg kind it undoes. */
static void test_reversal_of_a_credit(void **state)
{
	(void)state;
	const iso8583_dialect_t *dialect = iso8583_dialect_builtin("ascii");
	txn_t rev;
	debit_leg(&rev);
	rev.kind = TXN_KIND_REVERSAL;
	rev.original_kind = TXN_KIND_CREDIT;
	rev.original_stan = 123;
	strcpy(rev.original_transmit, "1125103000");
	rev.leg[0].kind = TXN_KIND_REVERSAL;
	iso8583_msg_t msg, back;
	uint8_t buf[2048];
	assert_int_equal(txn_leg_to_iso(&rev, 0, dialect, &msg), 0);
	wire(&msg, buf, sizeof(buf), &back);
	char text[8];
	assert_string_equal(field(&back, 3, text, sizeof(text)), "260000");
	txn_t bank;
	txn_error_t err;
	assert_int_equal(txn_from_iso(&back, &bank, &err), 0);
	assert_int_equal(bank.kind, TXN_KIND_REVERSAL);
	assert_int_equal(bank.original_kind, TXN_KIND_CREDIT);
}

/* Field 90 parses into original_*, its acquirer without zero padding. */
static void test_original_data_parse(void **state)
{
	(void)state;
	txn_t t;
	txn_init(&t, TXN_KIND_REVERSAL);
	assert_int_equal(txn_parse_original_data(
				 "0200000042112510300000001020000" "00000000000", &t),
			 0);
	assert_int_equal(t.original_stan, 42);
	assert_string_equal(t.original_transmit, "1125103000");
	assert_string_equal(t.original_acquirer, "1020000");
	assert_int_equal(txn_parse_original_data("0200", &t), PS_EFORMAT);
	assert_int_equal(txn_parse_original_data(
				 "0200000042112510300000001020000" "0000000000X", &t),
			 PS_EFORMAT);
}

/* Sign-on and echo: 0800 with field 70, answered 0810 without money, the
 * answer recognised as network management. */
static void test_network_messages(void **state)
{
	(void)state;
	const iso8583_dialect_t *dialect = iso8583_dialect_builtin("ascii");
	const struct {
		int op;
		const char *code;
	} cases[] = {{TXN_NET_ECHO, "301"}, {TXN_NET_SIGN_ON, "001"}};
	for (size_t i = 0; i < 2; i++) {
		iso8583_msg_t msg, back;
		uint8_t buf[512];
		assert_int_equal(txn_network_to_iso(cases[i].op, 7, "1125000000",
						    "99990000", dialect, &msg),
				 0);
		wire(&msg, buf, sizeof(buf), &back);
		assert_memory_equal(back.mti, "0800", 4);
		txn_t peer;
		txn_error_t err;
		assert_int_equal(txn_from_iso(&back, &peer, &err), 0);
		assert_int_equal(peer.kind, TXN_KIND_NETWORK);
		assert_int_equal(peer.net_op, cases[i].op);
		assert_string_equal(peer.wire.network_code, cases[i].code);
		assert_string_equal(peer.forwarder, "99990000");
		peer.rc = TXN_RC_APPROVED;
		iso8583_msg_t ans;
		assert_int_equal(txn_answer_to_iso(&peer, dialect, &ans), 0);
		assert_memory_equal(ans.mti, "0810", 4);
		assert_false(iso8583_has(&ans, 2));
		assert_false(iso8583_has(&ans, 4));
		txn_response_t r;
		assert_int_equal(txn_response_from_iso(&ans, &r, &err), 0);
		assert_int_equal(r.net_op, cases[i].op);
		assert_int_equal(r.stan, 7);
		assert_string_equal(r.transmit, "1125000000");
		assert_int_equal(r.rc, TXN_RC_APPROVED);
	}
}

/* Only the operations with a code of their own can be originated. */
static void test_network_op_without_code_refused(void **state)
{
	(void)state;
	const iso8583_dialect_t *dialect = iso8583_dialect_builtin("ascii");
	iso8583_msg_t msg;
	assert_int_equal(txn_network_to_iso(TXN_NET_OTHER, 7, "1125000000", "",
					    dialect, &msg),
			 TXN_EINVALID);
	assert_int_equal(txn_network_to_iso(TXN_NET_NONE, 7, "1125000000", "",
					    dialect, &msg),
			 TXN_EINVALID);
}

/* Builds an acquirer's message with the fields given as (n, text) pairs. */
static void acquirer_msg(iso8583_msg_t *m, const char *mti, const char *const *pairs)
{
	iso8583_msg_init(m, iso8583_dialect_builtin("ascii"));
	assert_int_equal(iso8583_set_mti(m, mti), 0);
	for (size_t i = 0; pairs[i] != NULL; i += 2)
		assert_int_equal(iso8583_set_str(m, atoi(pairs[i]), pairs[i + 1]), 0);
}

static void expect_iso_error(const char *mti, const char *const *pairs,
			     int expected, const char *field_name, uint8_t rc)
{
	iso8583_msg_t m;
	acquirer_msg(&m, mti, pairs);
	txn_t t;
	txn_error_t err;
	assert_int_equal(txn_from_iso(&m, &t, &err), expected);
	assert_string_equal(err.field, field_name);
	assert_int_equal(err.rc, rc);
	assert_true(strlen(err.reason) > 0);
}

static void test_iso_request_errors(void **state)
{
	(void)state;
	/* Without a STAN no answer could be matched: not even keys. */
	const char *no_stan[] = {"2", "6222020000000001", "3", "000000", "4", "000000000100",
				 "7", "1125103000", NULL};
	expect_iso_error("0200", no_stan, TXN_EKEYS, "field 11", 30);
	const char *bad_proc[] = {"2", "6222020000000001", "3", "990000", "4", "000000000100",
				  "7", "1125103000", "11", "000001", NULL};
	expect_iso_error("0200", bad_proc, TXN_EINVALID, "field 3", 12);
	const char *zero[] = {"2", "6222020000000001", "3", "000000", "4", "000000000000",
			      "7", "1125103000", "11", "000001", NULL};
	expect_iso_error("0200", zero, TXN_EINVALID, "field 4", 13);
	const char *no_pan[] = {"3", "000000", "4", "000000000100", "7", "1125103000",
				"11", "000001", NULL};
	expect_iso_error("0200", no_pan, TXN_EFORMAT, "field 2", 30);
	const char *auth[] = {"7", "1125103000", "11", "000001", NULL};
	expect_iso_error("0100", auth, TXN_EINVALID, "", 12);
	const char *no90[] = {"7", "1125103000", "11", "000001", NULL};
	expect_iso_error("0420", no90, TXN_EFORMAT, "field 90", 30);
	const char *short90[] = {"7", "1125103000", "11", "000001", "90", "0200000001", NULL};
	expect_iso_error("0400", short90, TXN_EFORMAT, "field 90", 30);
}

/* A request that fails still leaves its keys in txn for the error answer. */
static void test_failed_request_keeps_keys(void **state)
{
	(void)state;
	const char *bad_proc[] = {"2", "6222020000000001", "3", "990000", "4", "000000000100",
				  "7", "1125103000", "11", "000077", "32", "123456", NULL};
	iso8583_msg_t m;
	acquirer_msg(&m, "0200", bad_proc);
	txn_t t;
	txn_error_t err;
	assert_int_equal(txn_from_iso(&m, &t, &err), TXN_EINVALID);
	assert_string_equal(t.wire.mti, "0200");
	assert_int_equal(t.wire.stan, 77);
	assert_string_equal(t.wire.transmit, "1125103000");
	assert_string_equal(t.acquirer, "123456");
	assert_string_equal(t.request_id, "123456:000077:1125103000");
}

/*
 * An acquirer's reversal whose original came through another acquirer
 * (field 90's differs from field 32) reaches the issuer with field 90 as
 * it came: built from original_*, as adapters.h says, so the issuer finds
 * the original it approved.
 */
static void test_reversal_passes_field_90_on(void **state)
{
	(void)state;
	const char od[] = "0200000005112510200000022222222" "00000000000";
	const char *pairs[] = {"2", "6222020000000001", "3", "000000", "4", "000000000100",
			       "7", "1125103000", "11", "000009", "32", "11111111",
			       "90", od, NULL};
	iso8583_msg_t m;
	acquirer_msg(&m, "0420", pairs);
	txn_t t;
	txn_error_t err;
	assert_int_equal(txn_from_iso(&m, &t, &err), 0);
	assert_string_equal(t.original_acquirer, "22222222");
	assert_string_equal(t.original_id, "22222222:000005:1125102000");
	txn_set_leg(&t, 0, TXN_KIND_REVERSAL, t.payer);
	t.leg[0].stan = 10;
	strcpy(t.leg[0].transmit, "1125103001");
	iso8583_msg_t out;
	assert_int_equal(txn_leg_to_iso(&t, 0, iso8583_dialect_builtin("ascii"), &out), 0);
	char text[43];
	assert_string_equal(field(&out, 90, text, sizeof(text)), od);
}

/*
 * A request whose STAN was read but which fails later (here: no field 7)
 * keeps that STAN, so its error answer echoes field 11 and the acquirer
 * can match it ("what could be read stays in txn", adapters.h).
 */
static void test_failed_request_keeps_stan(void **state)
{
	(void)state;
	const char *no7[] = {"2", "6222020000000001", "3", "000000", "4", "000000000100",
			     "11", "000077", "32", "123456", NULL};
	iso8583_msg_t m;
	acquirer_msg(&m, "0200", no7);
	txn_t t;
	txn_error_t err;
	assert_int_equal(txn_from_iso(&m, &t, &err), TXN_EFORMAT);
	assert_string_equal(err.field, "field 7");
	assert_int_equal(t.wire.stan, 77);
	t.rc = err.rc;
	iso8583_msg_t ans;
	assert_int_equal(txn_answer_to_iso(&t, iso8583_dialect_builtin("ascii"), &ans), 0);
	char text[8];
	assert_string_equal(field(&ans, 11, text, sizeof(text)), "000077");
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
	assert_string_equal(t.wire.track2, "6222020000000001=2912101");
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

/* Some networks answer with letters ("A1"): a refusal the switch keeps as
 * do-not-honour rather than a format error. */
static void test_response_code_letters(void **state)
{
	(void)state;
	iso8583_msg_t m;
	const char *letters[] = {"7", "1125103000", "11", "000001", "39", "A1", NULL};
	acquirer_msg(&m, "0210", letters);
	txn_response_t r;
	txn_error_t err;
	assert_int_equal(txn_response_from_iso(&m, &r, &err), 0);
	assert_int_equal(r.rc, TXN_RC_DO_NOT_HONOUR);
}

/* Every code 00..99 is its own number both ways; anything else is 96 on
 * the way out. */
static void test_rc_text_and_parse(void **state)
{
	(void)state;
	for (unsigned v = 0; v < 100; v++) {
		char text[3];
		uint8_t back = 0;
		txn_rc_text((uint8_t)v, text);
		assert_int_equal(txn_rc_parse(text, &back), 0);
		assert_int_equal(back, v);
	}
	char text[3];
	txn_rc_text(TXN_RC_NONE, text);
	assert_string_equal(text, "96");
	uint8_t rc;
	assert_int_equal(txn_rc_parse("5", &rc), PS_EFORMAT);
	assert_int_equal(txn_rc_parse("", &rc), PS_EFORMAT);
	assert_int_equal(txn_rc_parse("051", &rc), PS_EFORMAT);
	assert_int_equal(txn_rc_parse("0\n", &rc), PS_EFORMAT);
	assert_string_equal(txn_rc_meaning(TXN_RC_INSUFFICIENT_FUNDS),
			    "insufficient funds");
	assert_string_equal(txn_rc_meaning(77), "unknown response code");
	assert_string_equal(txn_rc_status(TXN_RC_APPROVED), "approved");
	assert_string_equal(txn_rc_status(TXN_RC_FORMAT_ERROR), "error");
	assert_string_equal(txn_rc_status(TXN_RC_SYSTEM_MALFUNCTION), "error");
	assert_string_equal(txn_rc_status(TXN_RC_INSUFFICIENT_FUNDS), "declined");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_leg_reaches_the_bank),
		cmocka_unit_test(test_credit_and_refund_kinds),
		cmocka_unit_test(test_account_types_in_field_3),
		cmocka_unit_test(test_answer_and_response),
		cmocka_unit_test(test_negative_balance),
		cmocka_unit_test(test_declined_answer_has_no_auth_code),
		cmocka_unit_test(test_unanswered_goes_out_as_96),
		cmocka_unit_test(test_reversal_and_completion),
		cmocka_unit_test(test_reversal_of_a_credit),
		cmocka_unit_test(test_original_data_parse),
		cmocka_unit_test(test_network_messages),
		cmocka_unit_test(test_network_op_without_code_refused),
		cmocka_unit_test(test_iso_request_errors),
		cmocka_unit_test(test_failed_request_keeps_keys),
		cmocka_unit_test(test_failed_request_keeps_stan),
		cmocka_unit_test(test_reversal_passes_field_90_on),
		cmocka_unit_test(test_pan_from_track2),
		cmocka_unit_test(test_response_needs_keys),
		cmocka_unit_test(test_response_code_letters),
		cmocka_unit_test(test_rc_text_and_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
