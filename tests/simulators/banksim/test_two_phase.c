/*
 * test_two_phase.c: banksim --two-phase: a debit is a reservation
 * (pending), a 0220/0221 completion posts it (00, then 94 for a repeat), a
 * 0400 voids it while pending (25: nothing had been posted) and
 * compensates once posted (00), an expired reservation gives the money
 * back by itself and its completion and reversal get 25.
 * Credits stay single-phase. ledger_check holds after each test.
 */
#include "bank_test.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ALICE "6222020000000001" /* 1000.00 */
#define SHOP "6217000000000009"

static const char accounts[] =
	"[{\"account\": \"" ALICE "\", \"balance\": 100000},"
	" {\"account\": \"" SHOP "\"}]";

static int start_with(void **state, const char *timeout_s)
{
	bt_bank_t *b = calloc(1, sizeof(*b));
	bt_setup(b, "banksim2p", accounts);
	const char *extra[] = {"--two-phase", "--pending-timeout-s", timeout_s,
			       NULL};
	bt_start(b, extra);
	*state = b;
	return 0;
}

static int setup(void **state)
{
	return start_with(state, "600");
}

static int setup_short(void **state)
{
	return start_with(state, "1");
}

static int teardown(void **state)
{
	bt_bank_t *b = *state;
	bt_teardown(b);
	free(b);
	return 0;
}

static void test_completion_posts_the_reservation(void **state)
{
	bt_bank_t *b = *state;
	int fd = bt_connect(b);
	txn_t debit, adv;
	bt_financial(&debit, "000000", ALICE, 20000, 1);
	assert_int_equal(bt_code(fd, &debit), 0);
	assert_int_equal(bt_available(b, ALICE), 80000);
	assert_int_equal(bt_posted(b, ALICE), 100000); /* held, not taken */

	bt_completion(&adv, &debit, 2, false);
	bt_answer_t r = bt_call(fd, &adv);
	assert_string_equal(r.mti, "0230");
	assert_string_equal(r.response, "00");
	assert_int_equal(bt_posted(b, ALICE), 80000);
	assert_int_equal(bt_available(b, ALICE), 80000);

	bt_completion(&adv, &debit, 3, true);
	assert_int_equal(bt_code(fd, &adv), 94);
	assert_int_equal(bt_posted(b, ALICE), 80000);
	close(fd);
}

static void test_reversal_voids_a_reservation(void **state)
{
	bt_bank_t *b = *state;
	int fd = bt_connect(b);
	txn_t debit, rev, adv;
	bt_financial(&debit, "000000", ALICE, 20000, 10);
	assert_int_equal(bt_code(fd, &debit), 0);
	/* Released, but nothing had been posted: 25, and 25 again. */
	bt_reversal(&rev, &debit, 11, false);
	assert_int_equal(bt_code(fd, &rev), 25);
	assert_int_equal(bt_available(b, ALICE), 100000);
	assert_int_equal(bt_posted(b, ALICE), 100000);
	bt_reversal(&rev, &debit, 12, true);
	assert_int_equal(bt_code(fd, &rev), 25);
	assert_int_equal(bt_available(b, ALICE), 100000);
	/* Nothing left to complete. */
	bt_completion(&adv, &debit, 13, false);
	assert_int_equal(bt_code(fd, &adv), 25);
	assert_int_equal(bt_posted(b, ALICE), 100000);
	close(fd);
}

static void test_reversal_after_completion_compensates(void **state)
{
	bt_bank_t *b = *state;
	int fd = bt_connect(b);
	txn_t debit, rev, adv;
	bt_financial(&debit, "000000", ALICE, 20000, 20);
	assert_int_equal(bt_code(fd, &debit), 0);
	bt_completion(&adv, &debit, 21, false);
	assert_int_equal(bt_code(fd, &adv), 0);
	assert_int_equal(bt_posted(b, ALICE), 80000);
	bt_reversal(&rev, &debit, 22, false);
	assert_int_equal(bt_code(fd, &rev), 0);
	assert_int_equal(bt_posted(b, ALICE), 100000);
	bt_reversal(&rev, &debit, 23, true);
	assert_int_equal(bt_code(fd, &rev), 0);
	assert_int_equal(bt_posted(b, ALICE), 100000);
	close(fd);
}

static void test_partial_completion_and_too_much(void **state)
{
	bt_bank_t *b = *state;
	int fd = bt_connect(b);
	txn_t debit, adv;
	bt_financial(&debit, "000000", ALICE, 10000, 30);
	assert_int_equal(bt_code(fd, &debit), 0);
	bt_completion(&adv, &debit, 31, false);
	adv.amount = 10001;
	assert_int_equal(bt_code(fd, &adv), 13);
	assert_int_equal(bt_available(b, ALICE), 90000);
	bt_completion(&adv, &debit, 32, false);
	adv.amount = 6000; /* the rest of the reservation is released */
	assert_int_equal(bt_code(fd, &adv), 0);
	assert_int_equal(bt_posted(b, ALICE), 94000);
	assert_int_equal(bt_available(b, ALICE), 94000);
	close(fd);
}

static void test_unknown_authorisation_is_25(void **state)
{
	bt_bank_t *b = *state;
	int fd = bt_connect(b);
	txn_t never, adv;
	bt_financial(&never, "000000", ALICE, 10000, 40);
	bt_completion(&adv, &never, 41, false);
	assert_int_equal(bt_code(fd, &adv), 25);
	assert_int_equal(bt_available(b, ALICE), 100000);
	close(fd);
}

static void test_credits_post_at_once(void **state)
{
	bt_bank_t *b = *state;
	int fd = bt_connect(b);
	txn_t credit;
	bt_financial(&credit, "260000", SHOP, 777, 50);
	assert_int_equal(bt_code(fd, &credit), 0);
	assert_int_equal(bt_posted(b, SHOP), 777);
	/* Its completion, were one sent, finds nothing pending: posted. */
	txn_t adv;
	bt_completion(&adv, &credit, 51, false);
	assert_int_equal(bt_code(fd, &adv), 94);
	close(fd);
}

static void test_reservation_expires(void **state)
{
	bt_bank_t *b = *state;
	int fd = bt_connect(b);
	txn_t debit, adv, rev;
	bt_financial(&debit, "000000", ALICE, 30000, 60);
	assert_int_equal(bt_code(fd, &debit), 0);
	assert_int_equal(bt_available(b, ALICE), 70000);
	/* Released by the periodic expiry within about two seconds. */
	assert_true(bt_wait_available(b, ALICE, 100000));
	bt_completion(&adv, &debit, 61, false);
	assert_int_equal(bt_code(fd, &adv), 25);
	bt_reversal(&rev, &debit, 62, false);
	assert_int_equal(bt_code(fd, &rev), 25); /* nothing was posted */
	assert_int_equal(bt_posted(b, ALICE), 100000);
	assert_true(bt_log_count(b, "\"event\":\"pending_expired\"") >= 1);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_completion_posts_the_reservation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reversal_voids_a_reservation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reversal_after_completion_compensates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_partial_completion_and_too_much, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_authorisation_is_25, setup, teardown),
		cmocka_unit_test_setup_teardown(test_credits_post_at_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reservation_expires, setup_short, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
