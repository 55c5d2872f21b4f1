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
	assert_int_equal(t.protocol, TXN_PROTO_JSON);
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
	assert_int_equal(t.kind, TXN_KIND_HELLO);
	assert_string_equal(t.participant, "PSP01");
	assert_int_equal(decode("{\"op\":\"refund\",\"id\":\"R1\",\"original\":\"PSP01-000001\","
				"\"amount\":100,\"currency\":\"CNY\"}", &t, &err), 0);
	assert_int_equal(t.kind, TXN_KIND_REFUND);
	assert_string_equal(t.original_id, "PSP01-000001");
	assert_int_equal(t.amount, 100);
	assert_int_equal(decode("{\"op\":\"query\",\"id\":\"Q1\",\"target\":\"PSP01-000001\"}", &t, &err), 0);
	assert_int_equal(t.kind, TXN_KIND_QUERY);
	assert_string_equal(t.original_id, "PSP01-000001");
	assert_int_equal(decode("{\"op\":\"echo\",\"id\":\"E1\"}", &t, &err), 0);
	assert_int_equal(t.kind, TXN_KIND_ECHO);
	/* Unknown keys are ignored, as JSON clients expect. */
	assert_int_equal(decode("{\"op\":\"echo\",\"id\":\"E2\",\"extra\":[1,2]}", &t, &err), 0);
}

/* Replaces the amount of the pay line and expects a failure. */
static void expect_amount_error(const char *amount, const char *code,
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
	assert_string_equal(err.code, code);
	assert_non_null(strstr(err.reason, reason_part));
	/* The id was read first, so the error answer can carry it... */
	if (strcmp(amount, "99999999999999999999999") != 0)
		assert_string_equal(t.request_id, "A1");
}

static void test_amount_rules(void **state)
{
	(void)state;
	expect_amount_error("128.50", "13", "not a decimal");
	expect_amount_error("12850.0", "13", "not a decimal");
	expect_amount_error("1.285e4", "13", "not a decimal");
	expect_amount_error("-100", "13", "positive");
	expect_amount_error("0", "13", "positive");
	expect_amount_error("\"12850\"", "30", "integer");
	expect_amount_error("null", "30", "integer");
	expect_amount_error("true", "30", "integer");
	expect_amount_error("1000000000000", "13", "12 digits");
	expect_amount_error("99999999999999999999999", "13", "12 digits");
	txn_t t;
	txn_error_t err;
	char line[512];
	snprintf(line, sizeof(line),
		 "{\"op\":\"pay\",\"id\":\"A1\",\"payer\":{\"account\":\"1\"},"
		 "\"payee\":{\"account\":\"2\"},\"amount\":999999999999,\"currency\":\"CNY\"}");
	assert_int_equal(decode(line, &t, &err), 0);
	assert_int_equal(t.amount, 999999999999ll);
}

static void expect_error(const char *line, const char *field, const char *code)
{
	txn_t t;
	txn_error_t err;
	assert_true(decode(line, &t, &err) < 0);
	assert_string_equal(err.field, field);
	assert_string_equal(err.code, code);
	assert_true(strlen(err.reason) > 0);
}

static void test_errors_name_the_field(void **state)
{
	(void)state;
	expect_error("not json", "", "30");
	expect_error("[1,2]", "", "30");
	expect_error("{\"id\":\"X\"}", "op", "30");
	expect_error("{\"op\":\"teleport\",\"id\":\"X\"}", "op", "12");
	expect_error("{\"op\":\"pay\"}", "id", "30");
	expect_error("{\"op\":\"pay\",\"id\":\"bad id!\"}", "id", "30");
	expect_error("{\"op\":\"pay\",\"id\":\"X\",\"payee\":{\"account\":\"1\"},\"amount\":1,\"currency\":\"CNY\"}",
		     "payer", "30");
	expect_error("{\"op\":\"pay\",\"id\":\"X\",\"payer\":{\"account\":\"12ab\"},"
		     "\"payee\":{\"account\":\"1\"},\"amount\":1,\"currency\":\"CNY\"}",
		     "payer.account", "30");
	expect_error("{\"op\":\"pay\",\"id\":\"X\",\"payer\":{\"account\":\"12345678901234567890\"},"
		     "\"payee\":{\"account\":\"1\"},\"amount\":1,\"currency\":\"CNY\"}",
		     "payer.account", "30");
	expect_error("{\"op\":\"pay\",\"id\":\"X\",\"payer\":{\"account\":\"1\"},"
		     "\"payee\":{\"account\":\"2\"},\"amount\":1,\"currency\":\"XYZ\"}",
		     "currency", "30");
	expect_error("{\"op\":\"pay\",\"id\":\"X\",\"payer\":{\"account\":\"1\"},"
		     "\"payee\":{\"account\":\"2\"},\"amount\":1}",
		     "currency", "30");
	expect_error("{\"op\":\"pay\",\"id\":\"X\",\"payer\":{\"account\":\"1\"},"
		     "\"payee\":{\"account\":\"1\"},\"amount\":1,\"currency\":\"CNY\"}",
		     "payee.account", "12");
	expect_error("{\"op\":\"refund\",\"id\":\"X\",\"amount\":1,\"currency\":\"CNY\"}",
		     "original", "30");
	expect_error("{\"op\":\"query\",\"id\":\"X\"}", "target", "30");
	expect_error("{\"op\":\"hello\"}", "participant", "30");
	/* Duplicate keys could mean different amounts to different parsers. */
	expect_error("{\"op\":\"echo\",\"id\":\"X\",\"id\":\"Y\"}", "", "30");
	expect_error("{\"op\":\"pay\",\"id\":\"X\",\"payer\":{\"account\":\"1\"},"
		     "\"payee\":{\"account\":\"2\",\"name\":\"a\\u0001b\"},\"amount\":1,\"currency\":\"CNY\"}",
		     "payee.name", "30");
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
	strcpy(t.response, "00");
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

	strcpy(t.response, "51");
	assert_int_equal(txn_answer_to_json(&t, NULL, out, sizeof(out), &len), 0);
	j = parse_answer(out, len);
	assert_string_equal(str(j, "status"), "declined");
	assert_string_equal(str(j, "reason"), "insufficient funds");
	assert_null(json_object_get(j, "auth_code"));
	json_decref(j);

	/* Too small a buffer is reported, not overrun. */
	assert_int_equal(txn_answer_to_json(&t, NULL, out, 10, &len), TXN_ENOSPC);

	txn_error_t e = {.field = "amount", .reason = "must be a positive integer", .code = "13"};
	assert_int_equal(txn_error_to_json("", &e, out, sizeof(out), &len), 0);
	j = parse_answer(out, len);
	assert_true(json_is_null(json_object_get(j, "id")));
	assert_string_equal(str(j, "status"), "declined");
	assert_string_equal(str(j, "reason"), "amount: must be a positive integer");
	json_decref(j);
	txn_error_t f = {.field = "", .reason = "bad \"quote\"", .code = "30"};
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
	strcpy(target.response, "51");
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
		cmocka_unit_test(test_errors_name_the_field),
		cmocka_unit_test(test_answers),
		cmocka_unit_test(test_query_answers),
		cmocka_unit_test(test_request_round_trip),
		cmocka_unit_test(test_hostile_input_is_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
