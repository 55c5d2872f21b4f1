/*
 * test_two_phase.c: authorisation (pending), completion (post, in full or
 * in part), reversal (void), timeouts and expiry, and every result code of
 * the two-phase path.
 */
#include "ledger_test.h"

#define DMNEC LEDGER_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS
#define POST LEDGER_TRANSFER_POST_PENDING
#define VOID LEDGER_TRANSFER_VOID_PENDING

/* 1 bank, 2 customer funded with 1000, 3 merchant, 4 another merchant. */
static void open_book(struct fixture *f)
{
	ledger_account_t a[4] = {make_account(1, 0), make_account(2, DMNEC),
				 make_account(3, 0), make_account(4, 0)};
	ledger_result_t r[4];
	assert_int_equal(ledger_create_accounts(f->l, a, 4, r), 0);
	assert_transfer_result(f, make_transfer(1, 1, 2, 1000),
			       LEDGER_TRANSFER_OK);
}

static ledger_transfer_t authorise(uint64_t id, uint64_t amount,
				   uint32_t timeout_seconds)
{
	ledger_transfer_t t = make_transfer(id, 2, 3, amount);
	t.flags = LEDGER_TRANSFER_PENDING;
	t.timeout_seconds = timeout_seconds;
	return t;
}

static void test_authorise_then_complete(void **state)
{
	struct fixture *f = *state;
	open_book(f);
	assert_transfer_result(f, authorise(10, 300, 0), LEDGER_TRANSFER_OK);
	ledger_account_t c = get_account(f, 2);
	assert_int_equal(c.debits_pending, 300);
	/* The reservation counts against the funds. */
	assert_transfer_result(f, authorise(11, 701, 0),
			       LEDGER_TRANSFER_EXCEEDS_CREDITS);
	uint32_t state_;
	assert_int_equal(ledger_pending_get(f->l, ledger_id_from_u64(10),
					    &state_, NULL),
			 0);
	assert_int_equal(state_, LEDGER_PENDING_PENDING);
	/* Partial completion: 250 of 300 moves, 50 is released. */
	assert_transfer_result(f, make_resolve(12, 10, POST, 250),
			       LEDGER_TRANSFER_OK);
	c = get_account(f, 2);
	assert_int_equal(c.debits_pending, 0);
	assert_int_equal(c.debits_posted, 250);
	ledger_account_t m = get_account(f, 3);
	assert_int_equal(m.credits_posted, 250);
	assert_int_equal(m.credits_pending, 0);
	assert_int_equal(ledger_pending_get(f->l, ledger_id_from_u64(10),
					    &state_, NULL),
			 0);
	assert_int_equal(state_, LEDGER_PENDING_POSTED);
	ledger_transfer_t stored;
	assert_int_equal(ledger_transfer_get(f->l, ledger_id_from_u64(12),
					     &stored),
			 0);
	assert_int_equal(stored.amount, 250);
	assert_int_equal(stored.debit_account_id.lo, 2);
	assert_int_equal(stored.ledger, TEST_LEDGER);
	/* Second completion and a reversal after it are refused. */
	assert_transfer_result(f, make_resolve(13, 10, POST, 0),
			       LEDGER_TRANSFER_PENDING_TRANSFER_ALREADY_POSTED);
	assert_transfer_result(f, make_resolve(14, 10, VOID, 0),
			       LEDGER_TRANSFER_PENDING_TRANSFER_ALREADY_POSTED);
	/* A plain transfer is not a pending. */
	assert_transfer_result(f, make_resolve(15, 1, POST, 0),
			       LEDGER_TRANSFER_PENDING_TRANSFER_NOT_PENDING);
	assert_transfer_result(f, make_resolve(16, 999, POST, 0),
			       LEDGER_TRANSFER_PENDING_TRANSFER_NOT_FOUND);
	assert_int_equal(ledger_pending_get(f->l, ledger_id_from_u64(1),
					    &state_, NULL),
			 0);
	assert_int_equal(state_, LEDGER_PENDING_NONE);
	assert_book_sound(f);
}

static void test_reversal(void **state)
{
	struct fixture *f = *state;
	open_book(f);
	assert_transfer_result(f, authorise(10, 400, 0), LEDGER_TRANSFER_OK);
	assert_transfer_result(f, make_resolve(11, 10, VOID, 399),
			       LEDGER_TRANSFER_PENDING_TRANSFER_HAS_DIFFERENT_AMOUNT);
	assert_transfer_result(f, make_resolve(11, 10, VOID, 400),
			       LEDGER_TRANSFER_OK);
	ledger_account_t c = get_account(f, 2);
	assert_int_equal(c.debits_pending, 0);
	assert_int_equal(c.debits_posted, 0);
	assert_transfer_result(f, make_resolve(12, 10, VOID, 0),
			       LEDGER_TRANSFER_PENDING_TRANSFER_ALREADY_VOIDED);
	assert_transfer_result(f, make_resolve(13, 10, POST, 0),
			       LEDGER_TRANSFER_PENDING_TRANSFER_ALREADY_VOIDED);
	/* The full funds are there again. */
	assert_transfer_result(f, make_transfer(14, 2, 3, 1000),
			       LEDGER_TRANSFER_OK);
	assert_book_sound(f);
}

static void test_resolve_mismatches(void **state)
{
	struct fixture *f = *state;
	open_book(f);
	assert_transfer_result(f, authorise(10, 100, 0), LEDGER_TRANSFER_OK);
	ledger_transfer_t t;
#define EXPECT(mutation, want)                                                 \
	do {                                                                   \
		t = make_resolve(20, 10, POST, 0);                             \
		mutation;                                                      \
		assert_transfer_result(f, t, want);                            \
	} while (0)
	EXPECT(t.debit_account_id = ledger_id_from_u64(1),
	       LEDGER_TRANSFER_PENDING_TRANSFER_HAS_DIFFERENT_DEBIT_ACCOUNT_ID);
	EXPECT(t.credit_account_id = ledger_id_from_u64(4),
	       LEDGER_TRANSFER_PENDING_TRANSFER_HAS_DIFFERENT_CREDIT_ACCOUNT_ID);
	EXPECT(t.ledger = 840, LEDGER_TRANSFER_PENDING_TRANSFER_HAS_DIFFERENT_LEDGER);
	EXPECT(t.code = 9, LEDGER_TRANSFER_PENDING_TRANSFER_HAS_DIFFERENT_CODE);
	EXPECT(t.amount = 101, LEDGER_TRANSFER_EXCEEDS_PENDING_TRANSFER_AMOUNT);
	EXPECT(t.timeout_seconds = 1,
	       LEDGER_TRANSFER_TIMEOUT_RESERVED_FOR_PENDING_TRANSFER);
	/* Matching explicit fields are fine. */
	EXPECT((t.debit_account_id = ledger_id_from_u64(2),
		t.credit_account_id = ledger_id_from_u64(3),
		t.ledger = TEST_LEDGER, t.code = 1, t.amount = 100),
	       LEDGER_TRANSFER_OK);
#undef EXPECT
	assert_book_sound(f);
}

static void test_closed_accounts(void **state)
{
	struct fixture *f = *state;
	open_book(f);
	assert_transfer_result(f, authorise(10, 100, 0), LEDGER_TRANSFER_OK);
	assert_transfer_result(f, authorise(11, 100, 0), LEDGER_TRANSFER_OK);
	uint32_t result;
	assert_int_equal(ledger_account_set_closed(f->l, ledger_id_from_u64(3),
						   true, &result),
			 0);
	assert_int_equal(result, LEDGER_ACCOUNT_OK);
	/* Completion moves money to a closed account: refused. A reversal
	 * releases the reservation: allowed. */
	assert_transfer_result(f, make_resolve(12, 10, POST, 0),
			       LEDGER_TRANSFER_CREDIT_ACCOUNT_CLOSED);
	assert_transfer_result(f, make_resolve(13, 11, VOID, 0),
			       LEDGER_TRANSFER_OK);
	assert_int_equal(ledger_account_set_closed(f->l, ledger_id_from_u64(2),
						   true, &result),
			 0);
	assert_int_equal(ledger_account_set_closed(f->l, ledger_id_from_u64(3),
						   false, &result),
			 0);
	assert_transfer_result(f, make_resolve(12, 10, POST, 0),
			       LEDGER_TRANSFER_DEBIT_ACCOUNT_CLOSED);
	assert_int_equal(ledger_account_set_closed(f->l, ledger_id_from_u64(2),
						   false, &result),
			 0);
	assert_transfer_result(f, make_resolve(12, 10, POST, 0),
			       LEDGER_TRANSFER_OK);
	assert_int_equal(ledger_account_set_closed(f->l, ledger_id_from_u64(99),
						   true, &result),
			 0);
	assert_int_equal(result, LEDGER_ACCOUNT_NOT_FOUND);
	assert_book_sound(f);
}

static void test_timeout_and_expiry(void **state)
{
	struct fixture *f = *state;
	open_book(f);
	assert_transfer_result(f, authorise(10, 100, 30), LEDGER_TRANSFER_OK);
	assert_transfer_result(f, authorise(11, 200, 60), LEDGER_TRANSFER_OK);
	assert_transfer_result(f, authorise(12, 300, 0), LEDGER_TRANSFER_OK);
	uint32_t expired;
	assert_int_equal(ledger_expire_pending(f->l, 100, &expired), 0);
	assert_int_equal(expired, 0);
	f->now_ns += 31ull * 1000000000ull;
	/* Past its timeout but not yet swept: post is refused all the same. */
	assert_transfer_result(f, make_resolve(20, 10, POST, 0),
			       LEDGER_TRANSFER_PENDING_TRANSFER_EXPIRED);
	assert_int_equal(ledger_expire_pending(f->l, 100, &expired), 0);
	assert_int_equal(expired, 1);
	assert_int_equal(get_account(f, 2).debits_pending, 500);
	uint32_t st;
	assert_int_equal(ledger_pending_get(f->l, ledger_id_from_u64(10), &st,
					    NULL),
			 0);
	assert_int_equal(st, LEDGER_PENDING_EXPIRED);
	assert_transfer_result(f, make_resolve(21, 10, VOID, 0),
			       LEDGER_TRANSFER_PENDING_TRANSFER_EXPIRED);
	assert_book_sound(f);
	/* Resolved before its timeout: nothing left to expire. */
	assert_transfer_result(f, make_resolve(22, 11, POST, 0),
			       LEDGER_TRANSFER_OK);
	f->now_ns += 3600ull * 1000000000ull;
	assert_int_equal(ledger_expire_pending(f->l, 100, &expired), 0);
	assert_int_equal(expired, 0);
	assert_int_equal(get_account(f, 2).debits_pending, 300);
	assert_int_equal(ledger_expire_pending(f->l, 0, &expired), PS_ELIMIT);
	assert_book_sound(f);
}

static void test_expiry_limit(void **state)
{
	struct fixture *f = *state;
	open_book(f);
	ledger_transfer_t t[150];
	ledger_result_t r[150];
	for (uint64_t i = 0; i < 150; i++)
		t[i] = authorise(100 + i, 1, 1 + (uint32_t)(i % 3));
	assert_int_equal(ledger_create_transfers(f->l, t, 150, r), 0);
	f->now_ns += 10ull * 1000000000ull;
	uint32_t expired, total = 0;
	do {
		assert_int_equal(ledger_expire_pending(f->l, 64, &expired), 0);
		total += expired;
		assert_book_sound(f);
	} while (expired == 64);
	assert_int_equal(total, 150);
	assert_int_equal(get_account(f, 2).debits_pending, 0);
}

static void test_pending_in_same_batch(void **state)
{
	struct fixture *f = *state;
	open_book(f);
	/* Authorise, post it, then try to void it, all in one batch. */
	ledger_transfer_t t[4] = {authorise(10, 100, 0),
				  make_resolve(11, 10, POST, 60),
				  make_resolve(12, 10, VOID, 0),
				  authorise(13, 5, 10)};
	ledger_result_t r[4];
	assert_int_equal(ledger_create_transfers(f->l, t, 4, r), 0);
	assert_int_equal(r[0].result, LEDGER_TRANSFER_OK);
	assert_int_equal(r[1].result, LEDGER_TRANSFER_OK);
	assert_int_equal(r[2].result,
			 LEDGER_TRANSFER_PENDING_TRANSFER_ALREADY_POSTED);
	assert_int_equal(get_account(f, 2).debits_posted, 60);
	/* A linked authorise + void that fails rolls the pending back. */
	ledger_transfer_t c[3] = {authorise(20, 100, 5),
				  make_resolve(21, 20, VOID, 0),
				  make_transfer(22, 2, 3, 100000)};
	c[0].flags |= LEDGER_TRANSFER_LINKED;
	c[1].flags |= LEDGER_TRANSFER_LINKED;
	assert_int_equal(ledger_create_transfers(f->l, c, 3, r), 0);
	assert_int_equal(r[0].result, LEDGER_TRANSFER_LINKED_EVENT_FAILED);
	assert_int_equal(r[1].result, LEDGER_TRANSFER_LINKED_EVENT_FAILED);
	assert_int_equal(r[2].result, LEDGER_TRANSFER_EXCEEDS_CREDITS);
	uint32_t st;
	assert_int_equal(ledger_pending_get(f->l, ledger_id_from_u64(20), &st,
					    NULL),
			 PS_ENOTFOUND);
	assert_book_sound(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_authorise_then_complete,
						fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_reversal, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_resolve_mismatches,
						fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_closed_accounts,
						fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_timeout_and_expiry,
						fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_expiry_limit,
						fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_pending_in_same_batch,
						fixture_setup, fixture_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
