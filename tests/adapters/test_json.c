/* test_json.c: the PSP channel's JSON lines to and from txn_t. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <string.h>

#include "adapters.h"

static const char pay_line[] =
	"{\"op\":\"pay\",\"id\":\"PSP01-000001\","
	"\"payer\":{\"account\":\"6222020000000001\"},"
	"\"payee\":{\"account\":\"6217000000000009\",\"name\":\"Three Squirrels\"},"
	"\"amount\":12850,\"currency\":\"CNY\",\"memo\":\"order 88123\"}";

static int decode(const char *line, txn_t *t, txn_error_t *err)
{
	return txn_from_json(line, strlen(line), t, err);
}

static void test_pay_decodes(void **state)
{
	(void)state;
	txn_t t;
	txn_error_t err;
	assert_int_equal(decode(pay_line, &t, &err), 0);
	assert_int_equal(t.kind, TXN_KIND_PAY);
	assert_string_equal(t.request_id, "PSP01-000001");
	assert_string_equal(t.payer, "6222020000000001");
	assert_string_equal(t.payee, "6217000000000009");
	assert_string_equal(t.payee_name, "Three Squirrels");
	assert_int_equal(t.amount, 12850);
	assert_int_equal(t.currency, 156);
	assert_string_equal(t.memo, "order 88123");
}

static void test_other_ops_decode(void **state)
{
	(void)state;
	txn_t t;
	txn_error_t err;
	assert_int_equal(decode("{\"op\":\"hello\",\"participant\":\"PSP01\"}", &t, &err), 0);
	assert_int_equal(t.kind, TXN_KIND_NETWORK);
	assert_int_equal(t.net_op, TXN_NET_SIGN_ON);
	assert_string_equal(t.participant, "PSP01");
	assert_int_equal(decode("{\"op\":\"refund\",\"id\":\"R1\",\"original\":\"PSP01-000001\","
				"\"amount\":100,\"currency\":\"CNY\"}", &t, &err), 0);
	assert_int_equal(t.kind, TXN_KIND_REFUND);
	assert_string_equal(t.original_id, "PSP01-000001");
	assert_int_equal(t.amount, 100);
	assert_int_equal(decode("{\"op\":\"payout\",\"id\":\"P1\",\"payee\":{\"account\":"
				"\"6217000000000009\",\"name\":\"Shop\"},\"amount\":250,"
				"\"currency\":\"CNY\"}", &t, &err), 0);
	assert_int_equal(t.kind, TXN_KIND_PAYOUT);
	assert_string_equal(t.payee, "6217000000000009");
	assert_string_equal(t.payee_name, "Shop");
	assert_int_equal(t.amount, 250);
	char line[512];
	size_t len;
	assert_int_equal(txn_request_to_json(&t, line, sizeof(line), &len), 0);
	txn_t back;
	assert_int_equal(txn_from_json(line, len - 1, &back, &err), 0);
	assert_memory_equal(&t, &back, sizeof(t));
	assert_int_equal(decode("{\"op\":\"payout\",\"id\":\"P2\",\"amount\":1,"
				"\"currency\":\"CNY\"}", &t, &err), TXN_EFORMAT);
	assert_string_equal(err.field, "payee");
	assert_int_equal(decode("{\"op\":\"query\",\"id\":\"Q1\",\"target\":\"PSP01-000001\"}", &t, &err), 0);
	assert_int_equal(t.kind, TXN_KIND_QUERY);
	assert_string_equal(t.original_id, "PSP01-000001");
	assert_int_equal(decode("{\"op\":\"echo\",\"id\":\"E1\"}", &t, &err), 0);
	assert_int_equal(t.kind, TXN_KIND_NETWORK);
	assert_int_equal(t.net_op, TXN_NET_ECHO);
	assert_string_equal(t.request_id, "E1");
	/* Unknown keys are ignored, as JSON clients expect. */
	assert_int_equal(decode("{\"op\":\"echo\",\"id\":\"E2\",\"extra\":[1,2]}", &t, &err), 0);
}

/* Replaces the amount of the pay line and expects a failure. */
static void expect_amount_error(const char *amount, uint8_t code,
				const char *reason_part)
{
	char line[512];
	snprintf(line, sizeof(line),
		 "{\"op\":\"pay\",\"id\":\"A1\",\"payer\":{\"account\":\"6222020000000001\"},"
		 "\"payee\":{\"account\":\"6217000000000009\"},\"amount\":%s,\"currency\":\"CNY\"}",
		 amount);
	txn_t t;
	txn_error_t err;
	int rc = decode(line, &t, &err);
	assert_true(rc == TXN_EFORMAT || rc == TXN_EINVALID);
	assert_int_equal(err.rc, code);
	assert_non_null(strstr(err.reason, reason_part));
	/* The id was read first, or recovered from a line JSON could not
	 * parse, so the error answer can carry it. */
	assert_string_equal(t.request_id, "A1");
}

static void test_amount_rules(void **state)
{
	(void)state;
	/* One rule: not a JSON integer is 30; an integer out of range 13. */
	expect_amount_error("128.50", 30, "not a decimal");
	expect_amount_error("12850.0", 30, "not a decimal");
	expect_amount_error("1.285e4", 30, "not a decimal");
	expect_amount_error("-100", 13, "positive");
	expect_amount_error("0", 13, "positive");
	expect_amount_error("\"12850\"", 30, "integer");
	expect_amount_error("null", 30, "integer");
	expect_amount_error("true", 30, "integer");
	expect_amount_error("1000000000000", 13, "12 digits");
	expect_amount_error("99999999999999999999999", 13, "12 digits");
	expect_amount_error("-99999999999999999999999", 13, "12 digits");
	txn_t t;
	txn_error_t err;
	char line[512];
	snprintf(line, sizeof(line),
		 "{\"op\":\"pay\",\"id\":\"A1\",\"payer\":{\"account\":\"1\"},"
		 "\"payee\":{\"account\":\"2\"},\"amount\":999999999999,\"currency\":\"CNY\"}");
	assert_int_equal(decode(line, &t, &err), 0);
	assert_int_equal(t.amount, 999999999999ll);
}

/* A line JSON cannot parse still has its top-level id recovered, so a
 * pipelining client can match the error; a nested "id" is not it. */
static void test_id_recovered(void **state)
{
	(void)state;
	static const struct {
		const char *line, *id;
	} cases[] = {
		{"{\"op\":\"pay\",\"id\":\"R-1\",\"amount\":123456789012345678901234}", "R-1"},
		{"{\"op\":\"pay\",\"amount\":123456789012345678901234,\"id\" : \"R-2\"}", "R-2"},
		{"{\"op\":\"pay\",\"id\":\"R-3\",\"payer\":{\"account\":\"1\"", "R-3"},
		{"{\"payer\":{\"id\":\"NESTED\"},\"amount\":1e999999,\"op\":\"pay\"}", ""},
		{"{\"note\":\"\\\"id\\\": \\\"FAKE\\\"\",\"x\":[1,}", ""},
		{"{\"id\":\"bad id with spaces\",\"x\":[1,}", ""},
		{"not json at all", ""},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		txn_t t;
		txn_error_t err;
		assert_true(decode(cases[i].line, &t, &err) != 0);
		assert_string_equal(t.request_id, cases[i].id);
	}
}

static void expect_error(const char *line, const char *field, uint8_t code)
{
	txn_t t;
	txn_error_t err;
	assert_true(decode(line, &t, &err) < 0);
	assert_string_equal(err.field, field);
	assert_int_equal(err.rc, code);
	assert_true(strlen(err.reason) > 0);
}

static void test_errors_name_the_field(void **state)
{
	(void)state;
	expect_error("not json", "", 30);
	expect_error("[1,2]", "", 30);
	expect_error("{\"id\":\"X\"}", "op", 30);
	expect_error("{\"op\":\"teleport\",\"id\":\"X\"}", "op", 12);
	expect_error("{\"op\":\"pay\"}", "id", 30);
	expect_error("{\"op\":\"pay\",\"id\":\"bad id!\"}", "id", 30);
	expect_error("{\"op\":\"pay\",\"id\":\"X\",\"payee\":{\"account\":\"1\"},\"amount\":1,\"currency\":\"CNY\"}",
		     "payer", 30);
	expect_error("{\"op\":\"pay\",\"id\":\"X\",\"payer\":{\"account\":\"12ab\"},"
		     "\"payee\":{\"account\":\"1\"},\"amount\":1,\"currency\":\"CNY\"}",
		     "payer.account", 30);
	expect_error("{\"op\":\"pay\",\"id\":\"X\",\"payer\":{\"account\":\"12345678901234567890\"},"
		     "\"payee\":{\"account\":\"1\"},\"amount\":1,\"currency\":\"CNY\"}",
		     "payer.account", 30);
	expect_error("{\"op\":\"pay\",\"id\":\"X\",\"payer\":{\"account\":\"1\"},"
		     "\"payee\":{\"account\":\"2\"},\"amount\":1,\"currency\":\"XYZ\"}",
		     "currency", 30);
	expect_error("{\"op\":\"pay\",\"id\":\"X\",\"payer\":{\"account\":\"1\"},"
		     "\"payee\":{\"account\":\"2\"},\"amount\":1}",
		     "currency", 30);
	expect_error("{\"op\":\"pay\",\"id\":\"X\",\"payer\":{\"account\":\"1\"},"
		     "\"payee\":{\"account\":\"1\"},\"amount\":1,\"currency\":\"CNY\"}",
		     "payee.account", 12);
	expect_error("{\"op\":\"refund\",\"id\":\"X\",\"amount\":1,\"currency\":\"CNY\"}",
		     "original", 30);
	expect_error("{\"op\":\"query\",\"id\":\"X\"}", "target", 30);
	expect_error("{\"op\":\"hello\"}", "participant", 30);
	/* Duplicate keys could mean different amounts to different parsers. */
	expect_error("{\"op\":\"echo\",\"id\":\"X\",\"id\":\"Y\"}", "", 30);
	expect_error("{\"op\":\"pay\",\"id\":\"X\",\"payer\":{\"account\":\"1\"},"
		     "\"payee\":{\"account\":\"2\",\"name\":\"a\\u0001b\"},\"amount\":1,\"currency\":\"CNY\"}",
		     "payee.name", 30);
}

static json_t *parse_answer(const char *text, size_t len)
{
	assert_true(len > 0);
	assert_int_equal(text[len - 1], '\n');
	json_error_t jerr;
	json_t *j = json_loadb(text, len - 1, 0, &jerr);
	assert_non_null(j);
	return j;
}

static const char *str(json_t *j, const char *key)
{
	const char *v = json_string_value(json_object_get(j, key));
	return v ? v : "(missing)";
}

static void test_answers(void **state)
{
	(void)state;
	txn_t t;
	txn_error_t err;
	assert_int_equal(decode(pay_line, &t, &err), 0);
	t.id = 42;
	t.rc = TXN_RC_APPROVED;
	strcpy(t.rrn, "532900000001");
	strcpy(t.auth_code, "A1B2C3");
	char out[2048];
	size_t len;
	assert_int_equal(txn_answer_to_json(&t, NULL, out, sizeof(out), &len), 0);
	json_t *j = parse_answer(out, len);
	assert_string_equal(str(j, "id"), "PSP01-000001");
	assert_string_equal(str(j, "status"), "approved");
	assert_string_equal(str(j, "code"), "00");
	assert_string_equal(str(j, "txn"), "42");
	assert_string_equal(str(j, "rrn"), "532900000001");
	assert_string_equal(str(j, "auth_code"), "A1B2C3");
	json_decref(j);

	t.rc = TXN_RC_INSUFFICIENT_FUNDS;
	assert_int_equal(txn_answer_to_json(&t, NULL, out, sizeof(out), &len), 0);
	j = parse_answer(out, len);
	assert_string_equal(str(j, "status"), "declined");
	assert_string_equal(str(j, "reason"), "insufficient funds");
	assert_null(json_object_get(j, "auth_code"));
	json_decref(j);

	/* Too small a buffer is reported, not overrun. */
	assert_int_equal(txn_answer_to_json(&t, NULL, out, 10, &len), TXN_ENOSPC);

	txn_error_t e = {.field = "amount", .reason = "must be a positive integer", .rc = TXN_RC_INVALID_AMOUNT};
	assert_int_equal(txn_error_to_json("", &e, out, sizeof(out), &len), 0);
	j = parse_answer(out, len);
	assert_true(json_is_null(json_object_get(j, "id")));
	assert_string_equal(str(j, "status"), "declined");
	assert_string_equal(str(j, "reason"), "amount: must be a positive integer");
	json_decref(j);
	txn_error_t f = {.field = "", .reason = "bad \"quote\"", .rc = TXN_RC_FORMAT_ERROR};
	assert_int_equal(txn_error_to_json("I\"D", &f, out, sizeof(out), &len), 0);
	j = parse_answer(out, len);
	assert_string_equal(str(j, "id"), "I\"D");
	assert_string_equal(str(j, "status"), "error");
	json_decref(j);
}

static void test_query_answers(void **state)
{
	(void)state;
	txn_t q, target;
	txn_error_t err;
	assert_int_equal(decode("{\"op\":\"query\",\"id\":\"Q1\",\"target\":\"P1\"}", &q, &err), 0);
	char out[2048];
	size_t len;
	txn_answer_t a;
	assert_int_equal(txn_answer_to_json(&q, NULL, out, sizeof(out), &len), 0);
	assert_int_equal(txn_answer_from_json(out, len - 1, &a, &err), 0);
	assert_string_equal(a.code, "25");
	assert_string_equal(a.state, "unknown");

	txn_init(&target, TXN_KIND_PAY);
	target.state = TXN_STATE_ACTIVE;
	assert_int_equal(txn_answer_to_json(&q, &target, out, sizeof(out), &len), 0);
	assert_int_equal(txn_answer_from_json(out, len - 1, &a, &err), 0);
	assert_string_equal(a.state, "in_flight");

	target.state = TXN_STATE_DONE;
	target.amount = 500;
	target.currency = 156;
	target.rc = TXN_RC_INSUFFICIENT_FUNDS;
	assert_int_equal(txn_answer_to_json(&q, &target, out, sizeof(out), &len), 0);
	assert_int_equal(txn_answer_from_json(out, len - 1, &a, &err), 0);
	assert_string_equal(a.id, "Q1");
	assert_string_equal(a.status, "ok");
	assert_string_equal(a.target, "P1");
	assert_string_equal(a.state, "done");
	assert_string_equal(a.target_status, "declined");
	assert_string_equal(a.target_code, "51");
}

/* A client's request encodes to a line the switch decodes to the same. */
static void test_request_round_trip(void **state)
{
	(void)state;
	txn_t t, back;
	txn_error_t err;
	assert_int_equal(decode(pay_line, &t, &err), 0);
	char out[2048];
	size_t len;
	assert_int_equal(txn_request_to_json(&t, out, sizeof(out), &len), 0);
	assert_int_equal(txn_from_json(out, len - 1, &back, &err), 0);
	assert_memory_equal(&t, &back, sizeof(t));
	txn_init(&t, TXN_KIND_REFUND);
	strcpy(t.request_id, "R9");
	strcpy(t.original_id, "P9");
	t.amount = 7;
	t.currency = 156;
	assert_int_equal(txn_request_to_json(&t, out, sizeof(out), &len), 0);
	assert_int_equal(txn_from_json(out, len - 1, &back, &err), 0);
	assert_int_equal(back.kind, TXN_KIND_REFUND);
	assert_string_equal(back.original_id, "P9");
	assert_int_equal(back.amount, 7);
	/* A hello may carry an id; it must survive the trip (a fuzzer found
	 * the encoder dropping it). */
	assert_int_equal(decode("{\"op\":\"hello\",\"id\":\"H1\",\"participant\":\"PSP01\"}",
				&t, &err), 0);
	assert_int_equal(txn_request_to_json(&t, out, sizeof(out), &len), 0);
	assert_int_equal(txn_from_json(out, len - 1, &back, &err), 0);
	assert_memory_equal(&t, &back, sizeof(t));
}

/* A leg for a JSON endpoint: every field the bank needs, keyed by "id". */
static void purchase_leg(txn_t *t)
{
	txn_init(t, TXN_KIND_PURCHASE);
	strcpy(t->payer, "6222020000000001");
	strcpy(t->payee, "6217000000000009");
	t->amount = 12850;
	t->currency = 156;
	strcpy(t->acquirer, "99990000");
	strcpy(t->forwarder, "88880000");
	strcpy(t->merchant_name, "Three Squirrels");
	txn_set_leg(t, 0, TXN_KIND_PURCHASE, t->payer);
	t->leg[0].stan = 123;
	strcpy(t->leg[0].transmit, "1125103000");
	strcpy(t->leg[0].rrn, "533000000123");
	strcpy(t->leg[0].institution, "01020000");
}

/* What the switch sends a JSON bank decodes there into the same money and
 * the leg's key. */
static void test_leg_line_reaches_the_bank(void **state)
{
	(void)state;
	txn_t t, bank;
	purchase_leg(&t);
	char out[2048];
	size_t len;
	assert_int_equal(txn_leg_to_json(&t, 0, out, sizeof(out), &len), 0);
	assert_int_equal(out[len - 1], '\n');
	txn_error_t err;
	assert_int_equal(txn_from_json(out, len - 1, &bank, &err), 0);
	assert_int_equal(bank.kind, TXN_KIND_PURCHASE);
	assert_string_equal(bank.request_id, "1125103000000123");
	assert_int_equal(bank.wire.stan, 123);
	assert_string_equal(bank.wire.transmit, "1125103000");
	assert_string_equal(bank.payer, "6222020000000001");
	assert_string_equal(bank.payee, "6217000000000009");
	assert_int_equal(bank.amount, 12850);
	assert_int_equal(bank.currency, 156);
	assert_string_equal(bank.rrn, "533000000123");
	assert_string_equal(bank.acquirer, "99990000");
	assert_string_equal(bank.participant, "99990000");
	assert_string_equal(bank.forwarder, "88880000");
	assert_string_equal(bank.wire.receiver, "01020000");
	assert_string_equal(bank.merchant_name, "Three Squirrels");
	assert_int_equal(bank.flags, 0);
}

/* Each leg kind has its own op. */
static void test_leg_kinds_by_op(void **state)
{
	(void)state;
	const int kinds[] = {TXN_KIND_CREDIT, TXN_KIND_REFUND_CREDIT,
			     TXN_KIND_BALANCE};
	for (size_t i = 0; i < 3; i++) {
		txn_t t, bank;
		purchase_leg(&t);
		t.leg[0].kind = (uint8_t)kinds[i];
		char out[2048];
		size_t len;
		assert_int_equal(txn_leg_to_json(&t, 0, out, sizeof(out), &len), 0);
		txn_error_t err;
		assert_int_equal(txn_from_json(out, len - 1, &bank, &err), 0);
		assert_int_equal(bank.kind, kinds[i]);
	}
}

/* A balance inquiry carries no amount, and needs none. */
static void test_balance_leg_without_amount(void **state)
{
	(void)state;
	txn_t t, bank;
	purchase_leg(&t);
	t.leg[0].kind = TXN_KIND_BALANCE;
	t.amount = 0;
	char out[2048];
	size_t len;
	assert_int_equal(txn_leg_to_json(&t, 0, out, sizeof(out), &len), 0);
	out[len - 1] = '\0';
	assert_null(strstr(out, "\"amount\""));
	txn_error_t err;
	assert_int_equal(txn_from_json(out, len - 1, &bank, &err), 0);
	assert_int_equal(bank.kind, TXN_KIND_BALANCE);
	assert_int_equal(bank.amount, 0);
	assert_int_equal(bank.currency, 156);
}

/* A reversal advice, repeated, names its original by key and op. */
static void test_reversal_leg_line(void **state)
{
	(void)state;
	txn_t t, bank;
	purchase_leg(&t);
	t.kind = TXN_KIND_REVERSAL;
	t.flags = TXN_F_ADVICE | TXN_F_REPEAT;
	t.original_kind = TXN_KIND_CREDIT;
	t.original_stan = 42;
	strcpy(t.original_transmit, "1125102959");
	t.leg[0].kind = TXN_KIND_REVERSAL;
	t.leg[0].stan = 124;
	char out[2048];
	size_t len;
	assert_int_equal(txn_leg_to_json(&t, 0, out, sizeof(out), &len), 0);
	txn_error_t err;
	assert_int_equal(txn_from_json(out, len - 1, &bank, &err), 0);
	assert_int_equal(bank.kind, TXN_KIND_REVERSAL);
	assert_int_equal(bank.flags, TXN_F_ADVICE | TXN_F_REPEAT);
	assert_int_equal(bank.wire.stan, 124);
	assert_int_equal(bank.original_stan, 42);
	assert_string_equal(bank.original_transmit, "1125102959");
	assert_int_equal(bank.original_kind, TXN_KIND_CREDIT);
	assert_string_equal(bank.original_acquirer, "99990000");
	assert_string_equal(bank.original_id, "99990000:000042:1125102959");
	/* A reversal moves no money to a payee. */
	assert_string_equal(bank.payee, "");
	assert_int_equal(bank.amount, 12850);
}

/* A leg's "id" and a reversal's "original" must be keys: 16 digits. */
static void test_leg_keys_must_be_keys(void **state)
{
	(void)state;
	expect_error("{\"op\":\"purchase\",\"id\":\"P1\",\"account\":\"1\","
		     "\"amount\":1,\"currency\":\"CNY\"}",
		     "id", 30);
	expect_error("{\"op\":\"purchase\",\"id\":\"112510300000012\",\"account\":\"1\","
		     "\"amount\":1,\"currency\":\"CNY\"}",
		     "id", 30);
	expect_error("{\"op\":\"purchase\",\"id\":\"1125103000000123\","
		     "\"amount\":1,\"currency\":\"CNY\"}",
		     "account", 30);
	expect_error("{\"op\":\"reversal\",\"id\":\"1125103000000123\",\"account\":\"1\","
		     "\"amount\":1,\"currency\":\"CNY\"}",
		     "original", 30);
	expect_error("{\"op\":\"reversal\",\"id\":\"1125103000000123\",\"account\":\"1\","
		     "\"original\":\"P1\",\"amount\":1,\"currency\":\"CNY\"}",
		     "original", 30);
	expect_error("{\"op\":\"purchase\",\"id\":\"1125103000000123\",\"account\":\"1\","
		     "\"advice\":1,\"amount\":1,\"currency\":\"CNY\"}",
		     "advice", 30);
}

/* Sign-on and echo towards a JSON endpoint are hello and echo, keyed. */
static void test_network_lines(void **state)
{
	(void)state;
	char out[512];
	size_t len;
	txn_t peer;
	txn_error_t err;
	assert_int_equal(txn_network_to_json(TXN_NET_SIGN_ON, 7, "1125000000",
					     "99990000", out, sizeof(out), &len),
			 0);
	assert_int_equal(txn_from_json(out, len - 1, &peer, &err), 0);
	assert_int_equal(peer.kind, TXN_KIND_NETWORK);
	assert_int_equal(peer.net_op, TXN_NET_SIGN_ON);
	assert_string_equal(peer.participant, "99990000");
	assert_string_equal(peer.request_id, "1125000000000007");
	assert_int_equal(txn_network_to_json(TXN_NET_ECHO, 8, "1125000001", "",
					     out, sizeof(out), &len),
			 0);
	assert_int_equal(txn_from_json(out, len - 1, &peer, &err), 0);
	assert_int_equal(peer.net_op, TXN_NET_ECHO);
	assert_string_equal(peer.request_id, "1125000001000008");
	/* JSON has no words for the others. */
	assert_int_equal(txn_network_to_json(TXN_NET_CUTOVER, 9, "1125000002", "",
					     out, sizeof(out), &len),
			 TXN_EINVALID);
}

static int response(const char *line, txn_response_t *r, txn_error_t *err)
{
	return txn_response_from_json(line, strlen(line), r, err);
}

/* A JSON bank's answer gives the leg's key back from "id". */
static void test_response_lines(void **state)
{
	(void)state;
	txn_response_t r;
	txn_error_t err;
	assert_int_equal(response("{\"id\":\"1125103000000123\",\"status\":\"approved\","
				  "\"code\":\"00\",\"rrn\":\"533000000123\","
				  "\"auth_code\":\"A1B2C3\",\"balance\":-5}",
				  &r, &err),
			 0);
	assert_int_equal(r.stan, 123);
	assert_string_equal(r.transmit, "1125103000");
	assert_int_equal(r.rc, TXN_RC_APPROVED);
	assert_int_equal(r.net_op, TXN_NET_NONE);
	assert_string_equal(r.rrn, "533000000123");
	assert_string_equal(r.auth_code, "A1B2C3");
	assert_true(r.has_balance);
	assert_int_equal(r.balance, -5);
	assert_int_equal(response("{\"id\":\"1125103000000123\",\"status\":\"declined\","
				  "\"code\":\"51\"}",
				  &r, &err),
			 0);
	assert_int_equal(r.rc, TXN_RC_INSUFFICIENT_FUNDS);
	assert_false(r.has_balance);
	/* A hello is answered ok without a code. */
	assert_int_equal(response("{\"op\":\"hello\",\"id\":\"1125000000000007\","
				  "\"status\":\"ok\",\"participant\":\"B1\"}",
				  &r, &err),
			 0);
	assert_int_equal(r.net_op, TXN_NET_SIGN_ON);
	assert_int_equal(r.rc, TXN_RC_APPROVED);
}

static void expect_response_error(const char *line, const char *field)
{
	txn_response_t r;
	txn_error_t err;
	assert_int_equal(response(line, &r, &err), TXN_EFORMAT);
	assert_string_equal(err.field, field);
	assert_int_equal(err.rc, TXN_RC_FORMAT_ERROR);
}

/* An answer that names no leg, or says nothing, cannot be matched. */
static void test_response_line_errors(void **state)
{
	(void)state;
	expect_response_error("{\"id\":\"PSP01-1\",\"status\":\"ok\",\"code\":\"00\"}", "id");
	expect_response_error("{\"status\":\"ok\",\"code\":\"00\"}", "id");
	expect_response_error("{\"id\":\"1125103000000123\",\"status\":\"approved\"}", "code");
	expect_response_error("{\"id\":\"1125103000000123\",\"code\":\"0\"}", "code");
	expect_response_error("{\"id\":\"1125103000000123\",\"code\":51}", "code");
	expect_response_error("[]", "");
}

/* One parse tells a request from an answer, and gives what the
 * one-purpose decoders give. */
static void test_json_decode_either(void **state)
{
	(void)state;
	txn_t req, alone;
	txn_response_t resp, resp_alone;
	bool is_response = true;
	txn_error_t err;
	assert_int_equal(txn_json_decode(pay_line, strlen(pay_line), &req, &resp,
					 &is_response, &err),
			 0);
	assert_false(is_response);
	assert_int_equal(decode(pay_line, &alone, &err), 0);
	assert_memory_equal(&req, &alone, sizeof(req));
	const char answer[] = "{\"id\":\"1125103000000123\",\"status\":\"declined\","
			      "\"code\":\"05\"}";
	assert_int_equal(txn_json_decode(answer, strlen(answer), &req, &resp,
					 &is_response, &err),
			 0);
	assert_true(is_response);
	assert_int_equal(response(answer, &resp_alone, &err), 0);
	assert_memory_equal(&resp, &resp_alone, sizeof(resp));
	assert_int_equal(resp.rc, TXN_RC_DO_NOT_HONOUR);
	/* A broken line is neither, and says why. */
	assert_int_equal(txn_json_decode("{", 1, &req, &resp, &is_response, &err),
			 TXN_EFORMAT);
	assert_int_equal(err.rc, TXN_RC_FORMAT_ERROR);
}

/* A hello or an echo is answered ok; a refused hello says why. */
static void test_network_answers(void **state)
{
	(void)state;
	txn_t t;
	txn_error_t err;
	char out[512];
	size_t len;
	txn_answer_t a;
	assert_int_equal(decode("{\"op\":\"hello\",\"participant\":\"PSP01\"}", &t, &err), 0);
	t.rc = TXN_RC_APPROVED;
	assert_int_equal(txn_answer_to_json(&t, NULL, out, sizeof(out), &len), 0);
	assert_int_equal(txn_answer_from_json(out, len - 1, &a, &err), 0);
	assert_string_equal(a.status, "ok");
	t.rc = TXN_RC_SECURITY_VIOLATION;
	strcpy(t.reason, "participant does not match the listener");
	assert_int_equal(txn_answer_to_json(&t, NULL, out, sizeof(out), &len), 0);
	assert_int_equal(txn_answer_from_json(out, len - 1, &a, &err), 0);
	assert_string_equal(a.status, "declined");
	assert_string_equal(a.code, "63");
	assert_string_equal(a.reason, "participant does not match the listener");
	assert_int_equal(decode("{\"op\":\"echo\",\"id\":\"E1\"}", &t, &err), 0);
	t.rc = TXN_RC_APPROVED;
	assert_int_equal(txn_answer_to_json(&t, NULL, out, sizeof(out), &len), 0);
	assert_int_equal(txn_answer_from_json(out, len - 1, &a, &err), 0);
	assert_string_equal(a.id, "E1");
	assert_string_equal(a.status, "ok");
	assert_string_equal(a.code, "00");
}

static void test_hostile_input_is_bounded(void **state)
{
	(void)state;
	/* Deep nesting and long lines fail cleanly, never crash. */
	static char deep[TXN_JSON_LINE_MAX];
	size_t n = 0;
	while (n < sizeof(deep) / 2 - 1)
		deep[n++] = '[';
	deep[n] = '\0';
	txn_t t;
	txn_error_t err;
	assert_true(decode(deep, &t, &err) < 0);
	static char huge[TXN_JSON_LINE_MAX + 10];
	memset(huge, ' ', sizeof(huge) - 1);
	huge[sizeof(huge) - 1] = '\0';
	assert_int_equal(decode(huge, &t, &err), TXN_EFORMAT);
	/* Many small members: the arena bound answers, malloc is not used. */
	static char wide[TXN_JSON_LINE_MAX - 1];
	size_t w = 0;
	w += (size_t)sprintf(wide, "{\"op\":\"echo\",\"id\":\"W\"");
	for (int i = 0; w + 16 < sizeof(wide); i++)
		w += (size_t)sprintf(wide + w, ",\"k%d\":[]", i);
	wide[w++] = '}';
	wide[w] = '\0';
	int rc = decode(wide, &t, &err);
	assert_true(rc == 0 || rc == TXN_ENOMEM);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pay_decodes),
		cmocka_unit_test(test_other_ops_decode),
		cmocka_unit_test(test_amount_rules),
		cmocka_unit_test(test_id_recovered),
		cmocka_unit_test(test_errors_name_the_field),
		cmocka_unit_test(test_answers),
		cmocka_unit_test(test_query_answers),
		cmocka_unit_test(test_request_round_trip),
		cmocka_unit_test(test_hostile_input_is_bounded),
		cmocka_unit_test(test_leg_line_reaches_the_bank),
		cmocka_unit_test(test_leg_kinds_by_op),
		cmocka_unit_test(test_balance_leg_without_amount),
		cmocka_unit_test(test_reversal_leg_line),
		cmocka_unit_test(test_leg_keys_must_be_keys),
		cmocka_unit_test(test_network_lines),
		cmocka_unit_test(test_response_lines),
		cmocka_unit_test(test_response_line_errors),
		cmocka_unit_test(test_json_decode_either),
		cmocka_unit_test(test_network_answers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
