/*
 * test_accounts.c: the accounts table and file (every field, every error
 * with its JSON path), the generator, and the ids the book derives from
 * account numbers and request keys (including that a reversal's field 90
 * gives back exactly its original's key).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "accounts.h"
#include "adapters.h"
#include "book.h"
#include "core.h"

static int parse(const char *text, bank_accounts_t *a, char *err)
{
	return bank_accounts_parse(text, strlen(text), a, err,
				   BANK_ACCOUNTS_ERR_MAX);
}

static void test_parse_every_field(void **state)
{
	(void)state;
	bank_accounts_t a;
	char err[BANK_ACCOUNTS_ERR_MAX];
	const char *text =
		"{\"accounts\": ["
		"{\"account\": \"6222020000000009\", \"balance\": 100000,"
		" \"status\": \"active\", \"limit\": 50000, \"fault\": \"drop\"},"
		"{\"account\": \"0123\", \"status\": \"blocked\"},"
		"{\"account\": \"123\", \"status\": \"closed\", \"fault\": \"close\"},"
		"{\"account\": \"9\", \"status\": \"expired\", \"fault\": \"delay\"}]}";
	assert_int_equal(parse(text, &a, err), 0);
	assert_int_equal(a.count, 4);
	const bank_account_t *x = bank_accounts_find(&a, "6222020000000009", 16);
	assert_non_null(x);
	assert_int_equal(x->balance, 100000);
	assert_int_equal(x->limit, 50000);
	assert_int_equal(x->status, BANK_STATUS_ACTIVE);
	assert_int_equal(x->fault, BANK_FAULT_DROP);
	x = bank_accounts_find(&a, "0123", 4);
	assert_non_null(x);
	assert_int_equal(x->status, BANK_STATUS_BLOCKED);
	assert_int_equal(x->fault, BANK_FAULT_NONE);
	assert_int_equal(x->balance, 0);
	assert_int_equal(bank_accounts_find(&a, "123", 3)->fault, BANK_FAULT_CLOSE);
	assert_int_equal(bank_accounts_find(&a, "123", 3)->status, BANK_STATUS_CLOSED);
	assert_int_equal(bank_accounts_find(&a, "9", 1)->status, BANK_STATUS_EXPIRED);
	assert_int_equal(bank_accounts_find(&a, "9", 1)->fault, BANK_FAULT_DELAY);
	assert_null(bank_accounts_find(&a, "12", 2));
	assert_null(bank_accounts_find(&a, "12a", 3));
	bank_accounts_free(&a);

	assert_int_equal(parse("[]", &a, err), 0);
	assert_int_equal(a.count, 0);
	assert_null(bank_accounts_find(&a, "1", 1));
	bank_accounts_free(&a);
}

static void test_parse_errors_name_the_path(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		const char *want;
	} cases[] = {
		{"[", "line 1"},
		{"{\"list\": []}", "must be an array of accounts"},
		{"7", "line 1"},
		{"[7]", "[0]: must be an object"},
		{"[{}]", "[0].account: is required"},
		{"[{\"balance\": 1}]", "[0].account: is required"},
		{"[{\"account\": 6222}]", "[0].account: must be a string of 1 to 19"},
		{"[{\"account\": \"\"}]", "[0].account: must be a string"},
		{"[{\"account\": \"12345678901234567890\"}]", "[0].account: must be"},
		{"[{\"account\": \"62x2\"}]", "[0].account: must be"},
		{"[{\"account\": \"1\"}, {\"account\": \"2\", \"balance\": -1}]",
		 "[1].balance: must be an integer from 0"},
		{"[{\"account\": \"1\", \"balance\": 1000000000000}]", "[0].balance"},
		{"[{\"account\": \"1\", \"balance\": 1.5}]", "[0].balance"},
		{"[{\"account\": \"1\", \"limit\": 0}]", "[0].limit: must be an integer from 1"},
		{"[{\"account\": \"1\", \"status\": \"frozen\"}]",
		 "[0].status: must be one of active, blocked, closed, expired"},
		{"[{\"account\": \"1\", \"fault\": \"none\"}]",
		 "[0].fault: must be one of drop, delay, close"},
		{"[{\"account\": \"1\", \"stauts\": \"active\"}]", "[0].stauts: unknown key"},
		{"[{\"account\": \"1\"}, {\"account\": \"1\"}]", "[1].account: 1 appears twice"},
		{"[{\"account\": \"6222020000000009\"}, {\"account\": \"6222020000000009\"}]",
		 "[1].account: 622202******0009 appears twice"},
		{"[{\"account\": \"1\", \"account\": \"2\"}]", "duplicate"},
		{"{\"accounts\": [{\"account\": \"x\"}]}", "accounts[0].account"},
	};
	for (size_t i = 0; i < PS_ARRAY_LEN(cases); i++) {
		bank_accounts_t a;
		char err[BANK_ACCOUNTS_ERR_MAX] = "";
		int rc = parse(cases[i].text, &a, err);
		if (rc == 0 || strstr(err, cases[i].want) == NULL)
			fail_msg("%s: got %d \"%s\", want \"%s\"", cases[i].text,
				 rc, err, cases[i].want);
		bank_accounts_free(&a);
	}
}

static void test_generate(void **state)
{
	(void)state;
	bank_accounts_t a;
	char err[BANK_ACCOUNTS_ERR_MAX];
	assert_int_equal(bank_accounts_generate(&a, 1000, "622202", 16, 5000,
						err, sizeof(err)), 0);
	assert_int_equal(a.count, 1000);
	assert_string_equal(a.list[0].number, "6222020000000000");
	assert_string_equal(a.list[999].number, "6222020000000999");
	const bank_account_t *x = bank_accounts_find(&a, "6222020000000512", 16);
	assert_non_null(x);
	assert_int_equal(x->balance, 5000);
	assert_int_equal(x->status, BANK_STATUS_ACTIVE);
	bank_accounts_free(&a);

	assert_int_equal(bank_accounts_generate(&a, 10, "62", 3, 0, err,
						sizeof(err)), 0);
	assert_string_equal(a.list[9].number, "629");
	bank_accounts_free(&a);
	/* 11 accounts do not fit in one digit after the prefix. */
	assert_int_not_equal(bank_accounts_generate(&a, 11, "62", 3, 0, err,
						    sizeof(err)), 0);
	assert_non_null(strstr(err, "do not fit"));
	assert_int_not_equal(bank_accounts_generate(&a, 1, "6x", 16, 0, err,
						    sizeof(err)), 0);
	assert_int_not_equal(bank_accounts_generate(&a, 1, "622202", 6, 0, err,
						    sizeof(err)), 0);
	assert_int_not_equal(bank_accounts_generate(&a, 1, "6", 20, 0, err,
						    sizeof(err)), 0);
}

static void test_table_bounds(void **state)
{
	(void)state;
	bank_accounts_t a;
	assert_int_equal(bank_accounts_init(&a, 2), 0);
	bank_account_t x = {.number = "11", .len = 2};
	assert_int_equal(bank_accounts_add(&a, &x), 0);
	assert_int_equal(bank_accounts_add(&a, &x), PS_EEXIST);
	bank_account_t y = {.number = "12", .len = 2};
	bank_account_t z = {.number = "13", .len = 2};
	assert_int_equal(bank_accounts_add(&a, &y), 0);
	assert_int_equal(bank_accounts_add(&a, &z), PS_ELIMIT);
	bank_accounts_free(&a);
	assert_int_equal(bank_accounts_init(&a, 0), PS_ELIMIT);
	assert_int_equal(bank_accounts_init(&a, BANK_ACCOUNTS_MAX + 1), PS_ELIMIT);
}

static void test_account_ids(void **state)
{
	(void)state;
	char text[LEDGER_ID_TEXT_MAX], back[BANK_ACCOUNT_DIGITS_MAX + 1];
	ledger_id_t id = bank_account_id("6222020000000009", 16);
	assert_string_equal(ledger_id_format(id, text), "16222020000000009");
	assert_true(bank_account_number_of(id, back));
	assert_string_equal(back, "6222020000000009");
	/* Leading zeros stay distinct; 19 digits need the high word. */
	assert_false(ledger_id_equal(bank_account_id("0123", 4),
				     bank_account_id("123", 3)));
	id = bank_account_id("9999999999999999999", 19);
	assert_string_equal(ledger_id_format(id, text), "19999999999999999999");
	assert_true(id.hi != 0);
	assert_true(bank_account_number_of(id, back));
	assert_string_equal(back, "9999999999999999999");
	/* The bank's own accounts are not customers. */
	assert_false(bank_account_number_of(ledger_id_from_u64(BANK_ID_CLEARING), back));
	assert_false(bank_account_number_of(ledger_id_from_u64(4), back));
}

/* The switch's field 90 names exactly the original's request key. */
static void test_request_keys(void **state)
{
	(void)state;
	char key[BANK_KEY_MAX], from90[BANK_KEY_MAX];
	bank_request_key("12345678", 42, "1125103000", key);
	assert_string_equal(key, "12345678:000042:1125103000");
	bank_request_key("", 42, "1125103000", key);
	assert_string_equal(key, "0:000042:1125103000");
	bank_request_key("00012345678", 999999, "1231235959", key);
	assert_string_equal(key, "12345678:999999:1231235959");

	txn_t orig;
	txn_init(&orig, TXN_KIND_PURCHASE);
	ps_strlcpy(orig.acquirer, "12345678", sizeof(orig.acquirer));
	ps_strlcpy(orig.forwarder, "87654321", sizeof(orig.forwarder));
	orig.leg[0].stan = 42;
	ps_strlcpy(orig.leg[0].transmit, "1125103000", sizeof(orig.leg[0].transmit));
	/* A reversal's original, as the adapter reads field 90 (the acquirer
	 * zero-padded to 11 digits there), has the original's own key. */
	txn_t rev;
	txn_init(&rev, TXN_KIND_REVERSAL);
	assert_int_equal(txn_parse_original_data(
				 "020000004211251030000001234567800087654321", &rev),
			 0);
	bank_request_key(rev.original_acquirer, rev.original_stan,
			 rev.original_transmit, from90);
	bank_request_key(orig.acquirer, orig.leg[0].stan, orig.leg[0].transmit, key);
	assert_string_equal(from90, key);
	/* Different steps of one key never share an id. */
	for (int a = BANK_STEP_MONEY; a <= BANK_STEP_OPENING; a++)
		for (int b = a + 1; b <= BANK_STEP_OPENING; b++)
			assert_false(ledger_id_equal(bank_transfer_id(a, key),
						     bank_transfer_id(b, key)));
	assert_true(ledger_id_equal(bank_transfer_id(BANK_STEP_MONEY, key),
				    ledger_id_from_text(key, strlen(key))));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_every_field),
		cmocka_unit_test(test_parse_errors_name_the_path),
		cmocka_unit_test(test_generate),
		cmocka_unit_test(test_table_bounds),
		cmocka_unit_test(test_account_ids),
		cmocka_unit_test(test_request_keys),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
