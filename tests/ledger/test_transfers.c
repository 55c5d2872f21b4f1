/*
 * test_transfers.c: single-phase transfers: every validation and balance
 * result, idempotent retries field by field, linked chains and their
 * rollback, and batches that see their own earlier events.
 */
#include "ledger_test.h"

#define MAX LEDGER_AMOUNT_MAX
#define DMNEC LEDGER_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS
#define CMNED LEDGER_ACCOUNT_CREDITS_MUST_NOT_EXCEED_DEBITS

/* 1 bank (no limit), 2 customer (can't go negative), 3 merchant, 4 a
 * credit-limited account, 5 on another ledger, 6 closed. */
static void open_book(struct fixture *f)
{
	ledger_account_t a[6] = {
		make_account(1, 0),     make_account(2, DMNEC),
		make_account(3, DMNEC), make_account(4, CMNED),
		make_account(5, 0),     make_account(6, 0),
	};
	a[4].ledger = 840;
	ledger_result_t r[6];
	assert_int_equal(ledger_create_accounts(f->l, a, 6, r), 0);
	for (int i = 0; i < 6; i++)
		assert_int_equal(r[i].result, LEDGER_ACCOUNT_OK);
	uint32_t result;
	assert_int_equal(ledger_account_set_closed(
				 f->l, ledger_id_from_u64(6), true, &result),
			 0);
	assert_int_equal(result, LEDGER_ACCOUNT_OK);
}

static void test_validation_results(void **state)
{
	struct fixture *f = *state;
	open_book(f);
	const ledger_id_t zero = {0, 0}, max = {UINT64_MAX, UINT64_MAX};
	ledger_transfer_t t;

#define EXPECT(mutation, want)                                                 \
	do {                                                                   \
		t = make_transfer(100, 1, 2, 10);                              \
		mutation;                                                      \
		assert_transfer_result(f, t, want);                            \
	} while (0)

	EXPECT(t.timestamp = 1, LEDGER_TRANSFER_TIMESTAMP_MUST_BE_ZERO);
	EXPECT(t.flags = 1u << 9, LEDGER_TRANSFER_RESERVED_FLAG);
	EXPECT(t.reserved = 1, LEDGER_TRANSFER_RESERVED_FIELD);
	EXPECT(t.id = zero, LEDGER_TRANSFER_ID_MUST_NOT_BE_ZERO);
	EXPECT(t.id = max, LEDGER_TRANSFER_ID_MUST_NOT_BE_INT_MAX);
	EXPECT(t.flags = LEDGER_TRANSFER_PENDING | LEDGER_TRANSFER_VOID_PENDING,
	       LEDGER_TRANSFER_FLAGS_ARE_MUTUALLY_EXCLUSIVE);
	EXPECT(t.debit_account_id = zero,
	       LEDGER_TRANSFER_DEBIT_ACCOUNT_ID_MUST_NOT_BE_ZERO);
	EXPECT(t.debit_account_id = max,
	       LEDGER_TRANSFER_DEBIT_ACCOUNT_ID_MUST_NOT_BE_INT_MAX);
	EXPECT(t.credit_account_id = zero,
	       LEDGER_TRANSFER_CREDIT_ACCOUNT_ID_MUST_NOT_BE_ZERO);
	EXPECT(t.credit_account_id = max,
	       LEDGER_TRANSFER_CREDIT_ACCOUNT_ID_MUST_NOT_BE_INT_MAX);
	EXPECT(t.credit_account_id = t.debit_account_id,
	       LEDGER_TRANSFER_ACCOUNTS_MUST_BE_DIFFERENT);
	EXPECT(t.pending_id = ledger_id_from_u64(9),
	       LEDGER_TRANSFER_PENDING_ID_MUST_BE_ZERO);
	EXPECT(t.timeout_seconds = 5,
	       LEDGER_TRANSFER_TIMEOUT_RESERVED_FOR_PENDING_TRANSFER);
	EXPECT(t.amount = 0, LEDGER_TRANSFER_AMOUNT_MUST_NOT_BE_ZERO);
	EXPECT(t.amount = MAX + 1, LEDGER_TRANSFER_AMOUNT_EXCEEDS_MAX);
	EXPECT(t.ledger = 0, LEDGER_TRANSFER_LEDGER_MUST_NOT_BE_ZERO);
	EXPECT(t.code = 0, LEDGER_TRANSFER_CODE_MUST_NOT_BE_ZERO);
	EXPECT(t.debit_account_id = ledger_id_from_u64(77),
	       LEDGER_TRANSFER_DEBIT_ACCOUNT_NOT_FOUND);
	EXPECT(t.credit_account_id = ledger_id_from_u64(77),
	       LEDGER_TRANSFER_CREDIT_ACCOUNT_NOT_FOUND);
	EXPECT(t.credit_account_id = ledger_id_from_u64(5),
	       LEDGER_TRANSFER_ACCOUNTS_MUST_HAVE_THE_SAME_LEDGER);
	EXPECT(t.ledger = 840,
	       LEDGER_TRANSFER_TRANSFER_MUST_HAVE_THE_SAME_LEDGER_AS_ACCOUNTS);
	EXPECT(t.debit_account_id = ledger_id_from_u64(6),
	       LEDGER_TRANSFER_DEBIT_ACCOUNT_CLOSED);
	EXPECT(t.credit_account_id = ledger_id_from_u64(6),
	       LEDGER_TRANSFER_CREDIT_ACCOUNT_CLOSED);
	/* Post/void field rules. */
	EXPECT((t.flags = LEDGER_TRANSFER_POST_PENDING, t.pending_id = zero),
	       LEDGER_TRANSFER_PENDING_ID_MUST_NOT_BE_ZERO);
	EXPECT((t.flags = LEDGER_TRANSFER_POST_PENDING, t.pending_id = max),
	       LEDGER_TRANSFER_PENDING_ID_MUST_NOT_BE_INT_MAX);
	EXPECT((t.flags = LEDGER_TRANSFER_VOID_PENDING, t.pending_id = t.id),
	       LEDGER_TRANSFER_PENDING_ID_MUST_BE_DIFFERENT);
#undef EXPECT
	/* Nothing above touched a balance. */
	ledger_account_t a = get_account(f, 1);
	assert_int_equal(a.debits_posted + a.debits_pending, 0);
	ledger_transfer_t none;
	assert_int_equal(ledger_transfer_get(f->l, ledger_id_from_u64(100),
					     &none),
			 PS_ENOTFOUND);
	assert_book_sound(f);
}

static void test_balance_limits(void **state)
{
	struct fixture *f = *state;
	open_book(f);
	/* Insufficient funds: the customer has nothing. */
	assert_transfer_result(f, make_transfer(10, 2, 3, 1),
			       LEDGER_TRANSFER_EXCEEDS_CREDITS);
	/* Fund it, then spend exactly what it has, then one more. */
	assert_transfer_result(f, make_transfer(11, 1, 2, 500),
			       LEDGER_TRANSFER_OK);
	assert_transfer_result(f, make_transfer(12, 2, 3, 500),
			       LEDGER_TRANSFER_OK);
	assert_transfer_result(f, make_transfer(13, 2, 3, 1),
			       LEDGER_TRANSFER_EXCEEDS_CREDITS);
	/* Credits may not pass debits on account 4. */
	assert_transfer_result(f, make_transfer(14, 1, 4, 1),
			       LEDGER_TRANSFER_EXCEEDS_DEBITS);
	ledger_account_t c = get_account(f, 2);
	assert_int_equal(c.credits_posted, 500);
	assert_int_equal(c.debits_posted, 500);
	ledger_account_t m = get_account(f, 3);
	assert_int_equal(m.credits_posted, 500);
	assert_book_sound(f);
}

static void test_overflows(void **state)
{
	struct fixture *f = *state;
	ledger_account_t a[8];
	ledger_result_t r[8];
	for (int i = 0; i < 8; i++)
		a[i] = make_account(100 + (uint64_t)i, 0);
	assert_int_equal(ledger_create_accounts(f->l, a, 8, r), 0);
	ledger_transfer_t p;
	/* Posted: 100 -> 101 takes both to the maximum. */
	assert_transfer_result(f, make_transfer(1, 100, 101, MAX),
			       LEDGER_TRANSFER_OK);
	assert_transfer_result(f, make_transfer(2, 100, 102, 1),
			       LEDGER_TRANSFER_OVERFLOWS_DEBITS_POSTED);
	assert_transfer_result(f, make_transfer(3, 102, 101, 1),
			       LEDGER_TRANSFER_OVERFLOWS_CREDITS_POSTED);
	/* Pending: 103 -> 104. */
	p = make_transfer(4, 103, 104, MAX);
	p.flags = LEDGER_TRANSFER_PENDING;
	assert_transfer_result(f, p, LEDGER_TRANSFER_OK);
	p = make_transfer(5, 103, 102, 1);
	p.flags = LEDGER_TRANSFER_PENDING;
	assert_transfer_result(f, p, LEDGER_TRANSFER_OVERFLOWS_DEBITS_PENDING);
	p = make_transfer(6, 102, 104, 1);
	p.flags = LEDGER_TRANSFER_PENDING;
	assert_transfer_result(f, p, LEDGER_TRANSFER_OVERFLOWS_CREDITS_PENDING);
	/* Pending + posted together: 105 and 106 hold half and one. */
	uint64_t half = MAX / 2 + 1;
	assert_transfer_result(f, make_transfer(7, 105, 106, half),
			       LEDGER_TRANSFER_OK);
	p = make_transfer(8, 105, 107, half);
	p.flags = LEDGER_TRANSFER_PENDING;
	assert_transfer_result(f, p, LEDGER_TRANSFER_OVERFLOWS_DEBITS);
	p = make_transfer(9, 107, 106, half);
	p.flags = LEDGER_TRANSFER_PENDING;
	assert_transfer_result(f, p, LEDGER_TRANSFER_OVERFLOWS_CREDITS);
	assert_book_sound(f);
}

static void test_idempotent_retries(void **state)
{
	struct fixture *f = *state;
	open_book(f);
	ledger_transfer_t t = make_transfer(42, 1, 3, 250);
	t.user_data_128 = ledger_id_from_u64(777);
	t.user_data_64 = 5;
	ledger_result_t first, again;
	assert_int_equal(ledger_create_transfers(f->l, &t, 1, &first), 0);
	assert_int_equal(first.result, LEDGER_TRANSFER_OK);
	f->now_ns += 1000;
	assert_int_equal(ledger_create_transfers(f->l, &t, 1, &again), 0);
	assert_int_equal(again.result, LEDGER_TRANSFER_EXISTS);
	assert_int_equal(again.timestamp, first.timestamp);
	/* Reopening changes nothing: the id is durable. */
	fixture_reopen(f);
	assert_transfer_result(f, t, LEDGER_TRANSFER_EXISTS);

	ledger_transfer_t d;
#define DIFFERENT(mutation, want)                                              \
	do {                                                                   \
		d = t;                                                         \
		mutation;                                                      \
		assert_transfer_result(f, d, want);                            \
	} while (0)
	DIFFERENT(d.flags = LEDGER_TRANSFER_PENDING,
		  LEDGER_TRANSFER_EXISTS_WITH_DIFFERENT_FLAGS);
	DIFFERENT(d.debit_account_id = ledger_id_from_u64(2),
		  LEDGER_TRANSFER_EXISTS_WITH_DIFFERENT_DEBIT_ACCOUNT_ID);
	DIFFERENT(d.credit_account_id = ledger_id_from_u64(2),
		  LEDGER_TRANSFER_EXISTS_WITH_DIFFERENT_CREDIT_ACCOUNT_ID);
	DIFFERENT(d.amount = 251, LEDGER_TRANSFER_EXISTS_WITH_DIFFERENT_AMOUNT);
	DIFFERENT(d.user_data_128 = ledger_id_from_u64(778),
		  LEDGER_TRANSFER_EXISTS_WITH_DIFFERENT_USER_DATA_128);
	DIFFERENT(d.user_data_64 = 6,
		  LEDGER_TRANSFER_EXISTS_WITH_DIFFERENT_USER_DATA_64);
	DIFFERENT(d.ledger = 840, LEDGER_TRANSFER_EXISTS_WITH_DIFFERENT_LEDGER);
	DIFFERENT(d.code = 2, LEDGER_TRANSFER_EXISTS_WITH_DIFFERENT_CODE);
	/* Pending id and timeout differences are checked on a pending. */
	ledger_transfer_t p = make_transfer(43, 1, 3, 10);
	p.flags = LEDGER_TRANSFER_PENDING;
	p.timeout_seconds = 60;
	assert_transfer_result(f, p, LEDGER_TRANSFER_OK);
	d = p;
	d.timeout_seconds = 61;
	assert_transfer_result(f, d, LEDGER_TRANSFER_EXISTS_WITH_DIFFERENT_TIMEOUT);
	ledger_transfer_t post = make_resolve(44, 43,
					      LEDGER_TRANSFER_POST_PENDING, 0);
	assert_transfer_result(f, post, LEDGER_TRANSFER_OK);
	assert_transfer_result(f, post, LEDGER_TRANSFER_EXISTS);
	d = post;
	d.pending_id = ledger_id_from_u64(42);
	assert_transfer_result(f, d,
			       LEDGER_TRANSFER_EXISTS_WITH_DIFFERENT_PENDING_ID);
	/* A retry naming the filled-in fields explicitly still matches. */
	d = post;
	d.amount = 10;
	d.debit_account_id = ledger_id_from_u64(1);
	d.ledger = TEST_LEDGER;
	assert_transfer_result(f, d, LEDGER_TRANSFER_EXISTS);
#undef DIFFERENT
	/* Exactly one posting happened for each id. */
	ledger_account_t m = get_account(f, 3);
	assert_int_equal(m.credits_posted, 260);
	assert_int_equal(m.credits_pending, 0);
	assert_book_sound(f);
}

static void test_duplicate_within_batch(void **state)
{
	struct fixture *f = *state;
	open_book(f);
	ledger_transfer_t t[3] = {make_transfer(7, 1, 3, 5),
				  make_transfer(7, 1, 3, 5),
				  make_transfer(7, 1, 3, 6)};
	ledger_result_t r[3];
	assert_int_equal(ledger_create_transfers(f->l, t, 3, r), 0);
	assert_int_equal(r[0].result, LEDGER_TRANSFER_OK);
	assert_int_equal(r[1].result, LEDGER_TRANSFER_EXISTS);
	assert_int_equal(r[1].timestamp, r[0].timestamp);
	assert_int_equal(r[2].result,
			 LEDGER_TRANSFER_EXISTS_WITH_DIFFERENT_AMOUNT);
	assert_int_equal(get_account(f, 3).credits_posted, 5);
	assert_book_sound(f);
}

static void test_linked_chain_rollback(void **state)
{
	struct fixture *f = *state;
	open_book(f);
	assert_transfer_result(f, make_transfer(1, 1, 2, 100),
			       LEDGER_TRANSFER_OK);
	/* A payment: fee and principal linked; the principal fails for
	 * funds, so the fee must not stay. The chain after it commits. */
	ledger_transfer_t t[4] = {
		make_transfer(10, 2, 1, 5),   /* fee, linked */
		make_transfer(11, 2, 3, 200), /* principal: too much */
		make_transfer(12, 2, 3, 20),  /* independent */
		make_transfer(13, 2, 3, 1),   /* chain open at the end */
	};
	t[0].flags = LEDGER_TRANSFER_LINKED;
	t[3].flags = LEDGER_TRANSFER_LINKED;
	ledger_result_t r[4];
	assert_int_equal(ledger_create_transfers(f->l, t, 4, r), 0);
	assert_int_equal(r[0].result, LEDGER_TRANSFER_LINKED_EVENT_FAILED);
	assert_int_equal(r[0].timestamp, 0);
	assert_int_equal(r[1].result, LEDGER_TRANSFER_EXCEEDS_CREDITS);
	assert_int_equal(r[2].result, LEDGER_TRANSFER_OK);
	assert_int_equal(r[3].result, LEDGER_TRANSFER_LINKED_EVENT_CHAIN_OPEN);
	ledger_account_t c = get_account(f, 2);
	assert_int_equal(c.debits_posted, 20);
	ledger_transfer_t none;
	assert_int_equal(ledger_transfer_get(f->l, ledger_id_from_u64(10),
					     &none),
			 PS_ENOTFOUND);
	/* The rolled back ids are free: the corrected chain posts. */
	t[1].amount = 50;
	assert_int_equal(ledger_create_transfers(f->l, t, 2, r), 0);
	assert_int_equal(r[0].result, LEDGER_TRANSFER_OK);
	assert_int_equal(r[1].result, LEDGER_TRANSFER_OK);
	assert_true(r[1].timestamp == r[0].timestamp + 1);
	/* Retrying the whole chain answers exists for each event. */
	assert_int_equal(ledger_create_transfers(f->l, t, 2, r), 0);
	assert_int_equal(r[0].result, LEDGER_TRANSFER_EXISTS);
	assert_int_equal(r[1].result, LEDGER_TRANSFER_EXISTS);
	c = get_account(f, 2);
	assert_int_equal(c.debits_posted, 75);
	assert_book_sound(f);
}

static void test_linked_chain_sees_its_own_effects(void **state)
{
	struct fixture *f = *state;
	open_book(f);
	/* Fund then spend in one chain: the spend sees the funding; then a
	 * later failure undoes both. */
	ledger_transfer_t t[3] = {make_transfer(1, 1, 2, 100),
				  make_transfer(2, 2, 3, 100),
				  make_transfer(3, 3, 77, 1)};
	t[0].flags = LEDGER_TRANSFER_LINKED;
	t[1].flags = LEDGER_TRANSFER_LINKED;
	ledger_result_t r[3];
	assert_int_equal(ledger_create_transfers(f->l, t, 3, r), 0);
	assert_int_equal(r[0].result, LEDGER_TRANSFER_LINKED_EVENT_FAILED);
	assert_int_equal(r[1].result, LEDGER_TRANSFER_LINKED_EVENT_FAILED);
	assert_int_equal(r[2].result, LEDGER_TRANSFER_CREDIT_ACCOUNT_NOT_FOUND);
	assert_int_equal(get_account(f, 2).credits_posted, 0);
	assert_int_equal(get_account(f, 3).credits_posted, 0);
	/* Without the bad leg the same chain posts. */
	t[1].flags = 0;
	assert_int_equal(ledger_create_transfers(f->l, t, 2, r), 0);
	assert_int_equal(r[0].result, LEDGER_TRANSFER_OK);
	assert_int_equal(r[1].result, LEDGER_TRANSFER_OK);
	assert_int_equal(get_account(f, 3).credits_posted, 100);
	assert_book_sound(f);
}

static void test_batch_bounds_and_history(void **state)
{
	struct fixture *f = *state;
	open_book(f);
	ledger_result_t r[1];
	ledger_transfer_t t = make_transfer(1, 1, 3, 1);
	assert_int_equal(ledger_create_transfers(f->l, &t, 0, r), PS_ELIMIT);
	assert_int_equal(ledger_create_transfers(f->l, &t, LEDGER_BATCH_MAX + 1,
						 r),
			 PS_ELIMIT);
	assert_int_equal(ledger_create_transfers(f->l, NULL, 1, r), PS_EINVAL);
	/* A full batch of 8190 in one call, then page the history. */
	static ledger_transfer_t big[LEDGER_BATCH_MAX];
	static ledger_result_t big_r[LEDGER_BATCH_MAX];
	for (uint32_t i = 0; i < LEDGER_BATCH_MAX; i++)
		big[i] = make_transfer(1000 + i, 1, 3, 1);
	assert_int_equal(ledger_create_transfers(f->l, big, LEDGER_BATCH_MAX,
						 big_r),
			 0);
	for (uint32_t i = 0; i < LEDGER_BATCH_MAX; i++)
		assert_int_equal(big_r[i].result, LEDGER_TRANSFER_OK);
	assert_int_equal(get_account(f, 3).credits_posted, LEDGER_BATCH_MAX);
	ledger_transfer_t page[100];
	uint32_t n, total = 0;
	uint64_t before = 0, last_id = 1000 + LEDGER_BATCH_MAX;
	do {
		assert_int_equal(ledger_account_transfers(
					 f->l, ledger_id_from_u64(3), before,
					 page, 100, &n),
				 0);
		for (uint32_t i = 0; i < n; i++) {
			assert_int_equal(page[i].id.lo, --last_id);
			before = page[i].timestamp;
		}
		total += n;
	} while (n == 100);
	assert_int_equal(total, LEDGER_BATCH_MAX);
	assert_int_equal(ledger_account_transfers(f->l, ledger_id_from_u64(2),
						  before, page, 100, &n),
			 PS_EINVAL);
	assert_int_equal(ledger_account_transfers(f->l, ledger_id_from_u64(99),
						  0, page, 100, &n),
			 PS_ENOTFOUND);
	assert_book_sound(f);
}

static void test_random_wide_ids(void **state)
{
	struct fixture *f = *state;
	/* Ids over the whole 128-bit range (hashed text), so the sort of a
	 * batch's accounts works on every digit, and transfer ids that do
	 * not grow, so every idempotency check searches the index. */
	enum { ACCOUNTS = 300, TRANSFERS = 2000 };
	static ledger_account_t a[ACCOUNTS];
	static ledger_transfer_t t[TRANSFERS];
	static ledger_result_t r[TRANSFERS];
	char text[32];
	for (int i = 0; i < ACCOUNTS; i++) {
		a[i] = make_account(1, 0);
		snprintf(text, sizeof(text), "account-%d", i);
		a[i].id = ledger_id_from_text(text, strlen(text));
	}
	assert_int_equal(ledger_create_accounts(f->l, a, ACCOUNTS, r), 0);
	for (int i = 0; i < ACCOUNTS; i++)
		assert_int_equal(r[i].result, LEDGER_ACCOUNT_OK);
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < TRANSFERS; i++) {
			t[i] = make_transfer(0, 0, 0, 1 + (uint64_t)i % 7);
			snprintf(text, sizeof(text), "transfer-%d-%d", round, i);
			t[i].id = ledger_id_from_text(text, strlen(text));
			t[i].debit_account_id = a[(i * 7) % ACCOUNTS].id;
			t[i].credit_account_id = a[(i * 13 + 1) % ACCOUNTS].id;
		}
		assert_int_equal(ledger_create_transfers(f->l, t, TRANSFERS, r),
				 0);
		for (int i = 0; i < TRANSFERS; i++)
			assert_int_equal(r[i].result, LEDGER_TRANSFER_OK);
		/* The same batch again: every one found, none posted. */
		assert_int_equal(ledger_create_transfers(f->l, t, TRANSFERS, r),
				 0);
		for (int i = 0; i < TRANSFERS; i++)
			assert_int_equal(r[i].result, LEDGER_TRANSFER_EXISTS);
	}
	assert_book_sound(f);
}

static void test_ids_and_names(void **state)
{
	(void)state;
	ledger_id_t id;
	char text[LEDGER_ID_TEXT_MAX];
	const char *big = "340282366920938463463374607431768211455";
	assert_int_equal(ledger_id_parse(big, strlen(big), &id), 0);
	assert_true(id.hi == UINT64_MAX && id.lo == UINT64_MAX);
	assert_string_equal(ledger_id_format(id, text), big);
	assert_int_equal(ledger_id_parse("340282366920938463463374607431768211456",
					 39, &id),
			 PS_ELIMIT);
	assert_int_equal(ledger_id_parse("0x1f", 4, &id), 0);
	assert_int_equal(id.lo, 31);
	assert_int_equal(ledger_id_parse("12a", 3, &id), PS_EINVAL);
	assert_int_equal(ledger_id_parse("", 0, &id), PS_EINVAL);
	assert_string_equal(ledger_id_format(ledger_id_from_u64(0), text), "0");
	ledger_id_t a = ledger_id_from_text("PSP01-000001", 12);
	ledger_id_t b = ledger_id_from_text("PSP01-000002", 12);
	assert_false(ledger_id_equal(a, b));
	assert_true(ledger_id_equal(a, ledger_id_from_text("PSP01-000001", 12)));
	for (uint32_t r = 0; r < LEDGER_TRANSFER_RESULT_COUNT; r++)
		assert_string_not_equal(ledger_transfer_result_name(r),
					"unknown");
	for (uint32_t r = 0; r < LEDGER_ACCOUNT_RESULT_COUNT; r++)
		assert_string_not_equal(ledger_account_result_name(r),
					"unknown");
	assert_string_equal(ledger_transfer_result_name(9999), "unknown");
	assert_string_equal(ledger_transfer_result_name(
				    LEDGER_TRANSFER_EXCEEDS_CREDITS),
			    "exceeds_credits");
	assert_string_not_equal(ledger_strerror(LEDGER_EMAPFULL),
				ledger_strerror(PS_EIO));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_validation_results,
						fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_balance_limits,
						fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_overflows, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_idempotent_retries,
						fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_duplicate_within_batch,
						fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_linked_chain_rollback,
						fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(
			test_linked_chain_sees_its_own_effects, fixture_setup,
			fixture_teardown),
		cmocka_unit_test_setup_teardown(test_batch_bounds_and_history,
						fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_random_wide_ids,
						fixture_setup, fixture_teardown),
		cmocka_unit_test(test_ids_and_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
