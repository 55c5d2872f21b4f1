/*
 * test_accounts.c: account creation results, idempotent retries, linked
 * account chains, closing, reading and paging through accounts, options
 * and reopening.
 */
#include "ledger_test.h"

#define DMNEC LEDGER_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS
#define CMNED LEDGER_ACCOUNT_CREDITS_MUST_NOT_EXCEED_DEBITS

static void test_account_results(void **state)
{
	struct fixture *f = *state;
	const ledger_id_t zero = {0, 0}, max = {UINT64_MAX, UINT64_MAX};
	ledger_account_t a;
#define EXPECT(mutation, want)                                                 \
	do {                                                                   \
		a = make_account(5, DMNEC);                                    \
		mutation;                                                      \
		uint32_t got_ = create_account(f, a);                          \
		if (got_ != (uint32_t)(want))                                  \
			fail_msg("account result %s, want %s",                 \
				 ledger_account_result_name(got_),             \
				 ledger_account_result_name(want));            \
	} while (0)
	EXPECT(a.timestamp = 3, LEDGER_ACCOUNT_TIMESTAMP_MUST_BE_ZERO);
	EXPECT(a.flags = 1u << 12, LEDGER_ACCOUNT_RESERVED_FLAG);
	EXPECT(a.flags = LEDGER_ACCOUNT_CLOSED,
	       LEDGER_ACCOUNT_CLOSED_FLAG_AT_CREATE);
	EXPECT(a.id = zero, LEDGER_ACCOUNT_ID_MUST_NOT_BE_ZERO);
	EXPECT(a.id = max, LEDGER_ACCOUNT_ID_MUST_NOT_BE_INT_MAX);
	EXPECT(a.flags = DMNEC | CMNED,
	       LEDGER_ACCOUNT_FLAGS_ARE_MUTUALLY_EXCLUSIVE);
	EXPECT(a.credits_posted = 100, LEDGER_ACCOUNT_BALANCES_MUST_BE_ZERO);
	EXPECT(a.ledger = 0, LEDGER_ACCOUNT_LEDGER_MUST_NOT_BE_ZERO);
	EXPECT(a.code = 0, LEDGER_ACCOUNT_CODE_MUST_NOT_BE_ZERO);
	EXPECT((void)0, LEDGER_ACCOUNT_OK);
	EXPECT((void)0, LEDGER_ACCOUNT_EXISTS);
	EXPECT(a.flags = 0, LEDGER_ACCOUNT_EXISTS_WITH_DIFFERENT_FLAGS);
	EXPECT(a.user_data_128 = ledger_id_from_u64(1),
	       LEDGER_ACCOUNT_EXISTS_WITH_DIFFERENT_USER_DATA_128);
	EXPECT(a.user_data_64 = 1,
	       LEDGER_ACCOUNT_EXISTS_WITH_DIFFERENT_USER_DATA_64);
	EXPECT(a.ledger = 840, LEDGER_ACCOUNT_EXISTS_WITH_DIFFERENT_LEDGER);
	EXPECT(a.code = 11, LEDGER_ACCOUNT_EXISTS_WITH_DIFFERENT_CODE);
	/* Closing is state, not identity: a retry still matches. */
	uint32_t result;
	assert_int_equal(ledger_account_set_closed(f->l, ledger_id_from_u64(5),
						   true, &result),
			 0);
	EXPECT((void)0, LEDGER_ACCOUNT_EXISTS);
	assert_true(get_account(f, 5).flags & LEDGER_ACCOUNT_CLOSED);
#undef EXPECT
	assert_book_sound(f);
}

static void test_linked_accounts(void **state)
{
	struct fixture *f = *state;
	ledger_account_t a[5] = {make_account(1, LEDGER_ACCOUNT_LINKED),
				 make_account(2, LEDGER_ACCOUNT_LINKED),
				 make_account(3, 0), make_account(1, 0),
				 make_account(4, LEDGER_ACCOUNT_LINKED)};
	a[2].code = 0; /* fails: the chain 1,2,3 must not exist */
	ledger_result_t r[5];
	assert_int_equal(ledger_create_accounts(f->l, a, 5, r), 0);
	assert_int_equal(r[0].result, LEDGER_ACCOUNT_LINKED_EVENT_FAILED);
	assert_int_equal(r[1].result, LEDGER_ACCOUNT_LINKED_EVENT_FAILED);
	assert_int_equal(r[2].result, LEDGER_ACCOUNT_CODE_MUST_NOT_BE_ZERO);
	assert_int_equal(r[3].result, LEDGER_ACCOUNT_OK); /* id 1, unlinked */
	assert_int_equal(r[4].result, LEDGER_ACCOUNT_LINKED_EVENT_CHAIN_OPEN);
	ledger_account_t got;
	assert_int_equal(ledger_account_get(f->l, ledger_id_from_u64(2), &got),
			 PS_ENOTFOUND);
	assert_int_equal(ledger_account_get(f->l, ledger_id_from_u64(1), &got),
			 0);
	assert_int_equal(got.flags, 0);
	assert_true(got.timestamp >= TEST_EPOCH_NS);
	assert_book_sound(f);
}

static void test_scan_and_reopen(void **state)
{
	struct fixture *f = *state;
	enum { N = 1000 };
	static ledger_account_t a[N];
	static ledger_result_t r[N];
	for (uint64_t i = 0; i < N; i++)
		a[i] = make_account(N - i, 0); /* descending ids */
	a[0].id.hi = 1;                       /* one id above 2^64 */
	assert_int_equal(ledger_create_accounts(f->l, a, N, r), 0);
	fixture_reopen(f);
	ledger_account_t page[64];
	uint32_t n, total = 0;
	ledger_id_t after = {0, 0};
	do {
		assert_int_equal(ledger_scan_accounts(f->l, after, page, 64, &n),
				 0);
		for (uint32_t i = 0; i < n; i++) {
			assert_true(ledger_id_compare(page[i].id, after) > 0);
			after = page[i].id;
		}
		total += n;
	} while (n > 0);
	assert_int_equal(total, N);
	assert_int_equal(after.hi, 1);
	/* Timestamps strictly increase across the batch. */
	for (uint32_t i = 1; i < N; i++)
		assert_true(r[i].timestamp == r[i - 1].timestamp + 1);
	assert_book_sound(f);
}

static void test_options(void **state)
{
	(void)state;
	char dir[512];
	fixture_tmpdir(dir, sizeof(dir), "ledger-opt");
	ledger_options_t o;
	ledger_options_init(&o);
	ledger_t *l = NULL;
	o.batch_max = LEDGER_BATCH_MAX + 1;
	assert_int_equal(ledger_open(&l, dir, &o), PS_EINVAL);
	assert_null(l);
	ledger_options_init(&o);
	o.durability = 7;
	assert_int_equal(ledger_open(&l, dir, &o), PS_EINVAL);
	ledger_options_init(&o);
	o.batch_max = 2;
	o.durability = LEDGER_DURABILITY_NOMETASYNC;
	assert_int_equal(ledger_open(&l, dir, &o), 0);
	assert_int_equal(ledger_batch_max(l), 2);
	ledger_account_t a[3] = {make_account(1, 0), make_account(2, 0),
				 make_account(3, 0)};
	ledger_result_t r[3];
	assert_int_equal(ledger_create_accounts(l, a, 3, r), PS_ELIMIT);
	assert_int_equal(ledger_create_accounts(l, a, 2, r), 0);
	assert_int_equal(ledger_sync(l), 0);
	/* A second handle on the same directory sees the commit. */
	ledger_t *other = NULL;
	assert_int_equal(ledger_open(&other, dir, NULL), 0);
	ledger_account_t got;
	assert_int_equal(ledger_account_get(other, ledger_id_from_u64(2), &got),
			 0);
	ledger_close(other);
	ledger_close(l);
	ledger_close(NULL);
	/* A path that cannot be a directory fails with PS_EIO. */
	assert_int_equal(ledger_open(&l, "/proc/version/x", NULL), PS_EIO);
	fixture_rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_account_results,
						fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_linked_accounts,
						fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_scan_and_reopen,
						fixture_setup, fixture_teardown),
		cmocka_unit_test(test_options),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
