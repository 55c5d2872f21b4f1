/*
 * test_json_endpoint.c: an endpoint that speaks JSON lines, configured
 * exactly like an ISO 8583 one ("protocol": "json"): bank B is banksim
 * with --protocol json. The same flows go through it as through an ISO
 * bank (a pay's credit leg, a refund's debit leg, an acquirer's card
 * purchase forwarded to it, reversals of both kinds), its link signs on
 * and is kept alive with echoes, and every movement is checked in both
 * banks' ledgers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include <unistd.h>

#include "fixture.h"

#define BANK_A 0
#define BANK_B 1

static fx_t fx;

static int setup(void **state)
{
	(void)state;
	fx_init(&fx, "json-endpoint");
	fx.bank_b_json = true;
	fx_start(&fx); /* waits for every endpoint up: B signed on over JSON */
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	fx_stop(&fx);
	return 0;
}

/* A pay from an ISO bank to the JSON bank, and a refund the other way. */
static void test_pay_and_refund_through_a_json_bank(void **state)
{
	(void)state;
	int64_t payer = fx_balance(&fx, BANK_A, A_RICH);
	int64_t payee = fx_balance(&fx, BANK_B, B_SHOP);
	json_t *a = fx_pay(&fx, "JPAY-0001", A_RICH, B_SHOP, 12850);
	assert_string_equal(fx_str(a, "code"), "00");
	assert_int_equal(strlen(fx_str(a, "auth_code")), 6);
	json_decref(a);
	assert_int_equal(fx_balance(&fx, BANK_A, A_RICH), payer - 12850);
	assert_int_equal(fx_balance(&fx, BANK_B, B_SHOP), payee + 12850);
	a = fx_call(&fx, "{\"op\":\"refund\",\"id\":\"JREF-0001\",\"original\":\"JPAY-0001\","
			 "\"amount\":2850,\"currency\":\"CNY\"}");
	assert_string_equal(fx_str(a, "code"), "00");
	json_decref(a);
	assert_int_equal(fx_balance(&fx, BANK_A, A_RICH), payer - 10000);
	assert_int_equal(fx_balance(&fx, BANK_B, B_SHOP), payee + 10000);
}

/* The JSON bank declines the credit: the ISO bank's debit is reversed. */
static void test_json_bank_declines_credit(void **state)
{
	(void)state;
	int64_t payer = fx_balance(&fx, BANK_A, A_SPARE);
	json_t *a = fx_pay(&fx, "JPAY-0002", A_SPARE, B_CLOSED, 7000);
	assert_string_equal(fx_str(a, "code"), "57");
	json_decref(a);
	assert_true(fx_wait_balance(&fx, BANK_A, A_SPARE, payer, 5000));
	assert_true(fx_wait_saf_empty(&fx, 5000));
}

/*
 * A refund's debit at the JSON bank goes unanswered (B_DROP drops its
 * answers): the PSP gets 68 and the switch reverses the debit at B with a
 * JSON reversal, repeated until B acknowledges it.
 */
static void test_json_bank_timeout_is_reversed_in_json(void **state)
{
	(void)state;
	json_t *a = fx_pay(&fx, "JPAY-0003", A_RICH, B_DROP, 3000);
	assert_string_equal(fx_str(a, "code"), "68"); /* B drops the credit */
	json_decref(a);
	/* The credit that B posted but never answered is reversed at B, and
	 * the debit at A: nothing moved in the end. */
	assert_true(fx_wait_balance(&fx, BANK_B, B_DROP, 0, 5000));
	assert_true(fx_wait_saf_empty(&fx, 5000));
	assert_true(fx_stat(&fx, "stats", "reversals_acknowledged") >= 2);
}

/* An acquirer's card purchase for a card of the JSON bank: forwarded as
 * JSON, answered to the acquirer in ISO 8583. */
static void test_card_purchase_forwarded_as_json(void **state)
{
	(void)state;
	json_t *a = fx_pay(&fx, "JPAY-0004", A_RICH, B_SHOP2, 5000);
	assert_string_equal(fx_str(a, "code"), "00");
	json_decref(a);
	int64_t before = fx_balance(&fx, BANK_B, B_SHOP2);
	iso8583_msg_t r;
	uint8_t buf[2048];
	assert_true(fx_purchase(&fx, B_SHOP2, 1234, 0, &r, buf, sizeof(buf)));
	assert_memory_equal(r.mti, "0210", 4);
	assert_string_equal(fx_field(&r, 39), "00");
	assert_int_equal(strlen(fx_field(&r, 38)), 6);
	assert_int_equal(fx_balance(&fx, BANK_B, B_SHOP2), before - 1234);
	/* Over what the card holds: B's own code comes back. */
	assert_true(fx_purchase(&fx, B_SHOP2, 100000, 0, &r, buf, sizeof(buf)));
	assert_string_equal(fx_field(&r, 39), "51");
	assert_int_equal(fx_balance(&fx, BANK_B, B_SHOP2), before - 1234);
}

/* The link stays up on echoes: with nothing else on it for longer than
 * echo_interval_ms, the switch sent JSON "echo" lines; an unanswered one
 * would count a miss and, after three, take the link down. */
static void test_json_link_health(void **state)
{
	(void)state;
	ts_sleep_ms(2500); /* longer than echo_interval_ms: echoes went */
	json_t *j = ts_control(fx.control, "endpoints");
	size_t i;
	json_t *e;
	bool found = false;
	json_array_foreach(json_object_get(j, "endpoints"), i, e) {
		if (strcmp(fx_str(e, "name"), "bank_b") != 0)
			continue;
		found = true;
		assert_string_equal(fx_str(e, "state"), "up");
		size_t k;
		json_t *link;
		json_array_foreach(json_object_get(e, "links"), k, link) {
			assert_string_equal(fx_str(link, "state"), "up");
			assert_int_equal(json_integer_value(json_object_get(link, "echo_misses")), 0);
		}
	}
	json_decref(j);
	assert_true(found);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pay_and_refund_through_a_json_bank),
		cmocka_unit_test(test_json_bank_declines_credit),
		cmocka_unit_test(test_json_bank_timeout_is_reversed_in_json),
		cmocka_unit_test(test_card_purchase_forwarded_as_json),
		cmocka_unit_test(test_json_link_health),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
