/*
 * test_restart.c: banksim restarted over the same ledger directory keeps
 * its balances (opening balances are not doubled) and its idempotency
 * (duplicates, reversal repeats, tombstones); killed with SIGKILL in the
 * middle of traffic, it loses nothing it answered and every request
 * resent after the restart is either a duplicate or done now, exactly
 * once; a changed accounts file adds accounts but never rewrites history.
 */
#include "bank_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ALICE "6222020000000001"
#define BOB "6222020000000002"
#define CAROL "6222020000000003"

static const char accounts[] =
	"[{\"account\": \"" ALICE "\", \"balance\": 100000},"
	" {\"account\": \"" BOB "\", \"balance\": 100000}]";

static void test_restart_keeps_balances_and_idempotency(void **state)
{
	(void)state;
	bt_bank_t b;
	bt_setup(&b, "banksimr", accounts);
	bt_start(&b, NULL);
	int fd = bt_connect(&b);
	txn_t debit, credit, ghost, rev;
	bt_financial(&debit, "000000", ALICE, 10000, 1);
	assert_int_equal(bt_code(fd, &debit), 0);
	bt_financial(&credit, "260000", BOB, 2500, 2);
	assert_int_equal(bt_code(fd, &credit), 0);
	bt_financial(&ghost, "000000", ALICE, 7000, 3);
	bt_reversal(&rev, &ghost, 4, false); /* before its original */
	assert_int_equal(bt_code(fd, &rev), 25);
	close(fd);
	bt_stop(&b);

	bt_start(&b, NULL);
	assert_int_equal(bt_available(&b, ALICE), 90000);
	assert_int_equal(bt_available(&b, BOB), 102500);
	fd = bt_connect(&b);
	assert_int_equal(bt_code(fd, &debit), 94);
	assert_int_equal(bt_code(fd, &ghost), 5); /* the tombstone held */
	bt_reversal(&rev, &debit, 5, true);
	assert_int_equal(bt_code(fd, &rev), 0);
	assert_int_equal(bt_available(&b, ALICE), 100000);
	close(fd);
	bt_stop(&b);

	bt_start(&b, NULL);
	fd = bt_connect(&b);
	bt_reversal(&rev, &debit, 6, true);
	assert_int_equal(bt_code(fd, &rev), 0);
	assert_int_equal(bt_available(&b, ALICE), 100000);
	close(fd);
	bt_teardown(&b);
}

/* Killed while requests stream in: afterwards each of them, resent, is a
 * duplicate (it was committed) or approved now (it was not): never both,
 * never neither. */
static void test_sigkill_then_resend_is_exactly_once(void **state)
{
	(void)state;
	enum { N = 300 };
	bt_bank_t b;
	bt_setup(&b, "banksimk", accounts);
	bt_start(&b, NULL);
	int fd = bt_connect(&b);
	static txn_t reqs[N];
	for (uint32_t i = 0; i < N; i++) {
		bt_financial(&reqs[i], "000000", ALICE, 100, 1000 + i);
		bt_send(fd, &reqs[i]);
		if (i == N / 2)
			bt_kill(&b);
	}
	close(fd);
	bt_check(&b);
	bt_start(&b, NULL);
	fd = bt_connect(&b);
	int dup = 0, fresh = 0;
	for (uint32_t i = 0; i < N; i++) {
		int code = bt_code(fd, &reqs[i]);
		assert_true(code == 0 || code == 94);
		dup += code == 94;
		fresh += code == 0;
	}
	assert_int_equal(dup + fresh, N);
	assert_int_equal(bt_available(&b, ALICE), 100000 - 100 * N);
	close(fd);
	bt_teardown(&b);
}

static void test_changed_accounts_file(void **state)
{
	(void)state;
	bt_bank_t b;
	bt_setup(&b, "banksima", accounts);
	bt_start(&b, NULL);
	bt_stop(&b);
	/* Alice's opening balance "changes", Carol is new. */
	ts_write_file(b.accounts,
		      "[{\"account\": \"" ALICE "\", \"balance\": 500000},"
		      " {\"account\": \"" BOB "\", \"balance\": 100000},"
		      " {\"account\": \"" CAROL "\", \"balance\": 300}]");
	bt_start(&b, NULL);
	assert_int_equal(bt_available(&b, ALICE), 100000);
	assert_int_equal(bt_available(&b, CAROL), 300);
	assert_int_equal(bt_log_count(&b, "\"event\":\"opening_balance_kept\""), 1);
	int fd = bt_connect(&b);
	txn_t t;
	bt_financial(&t, "000000", CAROL, 300, 1);
	assert_int_equal(bt_code(fd, &t), 0);
	close(fd);
	bt_teardown(&b);
}

/* Another currency over the same directory is refused at start. */
static void test_refuses_a_foreign_ledger(void **state)
{
	(void)state;
	bt_bank_t b;
	bt_setup(&b, "banksimx", accounts);
	bt_start(&b, NULL);
	bt_stop(&b);
	char out[256], err[1024];
	char *argv[] = {(char *)ts_bin("banksim"), "--ledger", b.ledger,
			"--accounts", b.accounts, "--currency", "840", NULL};
	assert_int_equal(ts_run(argv, NULL, out, sizeof(out), err, sizeof(err), BT_WAIT_MS), 3);
	assert_non_null(strstr(err, "exists_with_different_ledger"));
	bt_teardown(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_restart_keeps_balances_and_idempotency),
		cmocka_unit_test(test_sigkill_then_resend_is_exactly_once),
		cmocka_unit_test(test_changed_accounts_file),
		cmocka_unit_test(test_refuses_a_foreign_ledger),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
