/*
 * test_faults.c: latency and fault injection, for real: a dropped answer
 * never comes but its posting stands (and a reversal undoes it), a delayed
 * one comes --fault-delay-ms late, a "close" closes the connection instead
 * of answering; the random rates; options from a --config file; a small
 * in-flight bound that backpressures instead of failing; SIGTERM sending
 * held answers at once; ledger writes that fail on purpose.
 */
#include "bank_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PLAIN "6222020000000001"
#define DROPS "6222020000000002"
#define DELAYS "6222020000000003"
#define CLOSES "6222020000000004"

static const char accounts[] =
	"[{\"account\": \"" PLAIN "\", \"balance\": 100000},"
	" {\"account\": \"" DROPS "\", \"balance\": 100000, \"fault\": \"drop\"},"
	" {\"account\": \"" DELAYS "\", \"balance\": 100000, \"fault\": \"delay\"},"
	" {\"account\": \"" CLOSES "\", \"balance\": 100000, \"fault\": \"close\"}]";

static bt_bank_t *start(const char *const *extra)
{
	bt_bank_t *b = calloc(1, sizeof(*b));
	bt_setup(b, "banksimf", accounts);
	bt_start(b, extra);
	return b;
}

static void finish(bt_bank_t *b)
{
	bt_teardown(b);
	free(b);
}

static void test_drop_posts_but_never_answers(void **state)
{
	(void)state;
	bt_bank_t *b = start(NULL);
	int fd = bt_connect(b);
	txn_t debit, rev, echo;
	bt_financial(&debit, "000000", DROPS, 5000, 1);
	bt_send(fd, &debit);
	bt_answer_t r;
	assert_false(bt_recv(fd, &r, 500));
	assert_int_equal(bt_available(b, DROPS), 95000); /* posted */
	/* The switch's path: time out, reverse. Reversals are answered. */
	bt_reversal(&rev, &debit, 2, false);
	assert_int_equal(bt_code(fd, &rev), 0);
	assert_int_equal(bt_available(b, DROPS), 100000);
	bt_network(&echo, "301", 3);
	assert_int_equal(bt_code(fd, &echo), 0);
	assert_int_equal(bt_log_count(b, "\"fault\":\"drop\""), 1);
	close(fd);
	finish(b);
}

static void test_delay_answers_late(void **state)
{
	(void)state;
	const char *extra[] = {"--fault-delay-ms", "400", NULL};
	bt_bank_t *b = start(extra);
	int fd = bt_connect(b);
	txn_t slow, quick;
	bt_financial(&slow, "000000", DELAYS, 5000, 1);
	bt_financial(&quick, "000000", PLAIN, 5000, 2);
	uint64_t t0 = ts_now_ms();
	bt_send(fd, &slow);
	bt_send(fd, &quick);
	/* Other accounts are not delayed: the later request answers first. */
	bt_answer_t r;
	assert_true(bt_recv(fd, &r, BT_WAIT_MS));
	assert_int_equal(r.stan, 2);
	assert_true(bt_recv(fd, &r, BT_WAIT_MS));
	assert_int_equal(r.stan, 1);
	assert_string_equal(r.response, "00");
	assert_true(ts_now_ms() - t0 >= 390);
	assert_int_equal(bt_available(b, DELAYS), 95000);
	close(fd);
	finish(b);
}

static void test_close_instead_of_answering(void **state)
{
	(void)state;
	bt_bank_t *b = start(NULL);
	int fd = bt_connect(b);
	txn_t debit, rev;
	bt_financial(&debit, "000000", CLOSES, 5000, 1);
	bt_send(fd, &debit);
	assert_true(ts_wait_closed(fd, BT_WAIT_MS));
	close(fd);
	assert_int_equal(bt_available(b, CLOSES), 95000);
	fd = bt_connect(b);
	bt_reversal(&rev, &debit, 2, false);
	assert_int_equal(bt_code(fd, &rev), 0);
	assert_int_equal(bt_available(b, CLOSES), 100000);
	close(fd);
	finish(b);
}

static void test_latency_holds_answers(void **state)
{
	(void)state;
	const char *extra[] = {"--latency-ms", "150", NULL};
	bt_bank_t *b = start(extra);
	int fd = bt_connect(b);
	txn_t debit;
	bt_financial(&debit, "000000", PLAIN, 100, 1);
	uint64_t t0 = ts_now_ms();
	assert_int_equal(bt_code(fd, &debit), 0);
	assert_true(ts_now_ms() - t0 >= 140);
	close(fd);
	finish(b);
}

static void test_rates(void **state)
{
	(void)state;
	const char *extra[] = {"--decline-rate", "1", NULL};
	bt_bank_t *b = start(extra);
	int fd = bt_connect(b);
	txn_t t;
	bt_financial(&t, "000000", PLAIN, 100, 1);
	assert_int_equal(bt_code(fd, &t), 5);
	bt_financial(&t, "260000", PLAIN, 100, 2);
	assert_int_equal(bt_code(fd, &t), 5);
	bt_financial(&t, "310000", PLAIN, 0, 3); /* moves nothing: answered */
	assert_int_equal(bt_code(fd, &t), 0);
	assert_int_equal(bt_available(b, PLAIN), 100000);
	close(fd);
	bt_stop(b);

	const char *drop[] = {"--fault-drop-rate", "1", NULL};
	bt_start(b, drop);
	fd = bt_connect(b);
	bt_financial(&t, "000000", PLAIN, 100, 10);
	bt_send(fd, &t);
	bt_answer_t r;
	assert_false(bt_recv(fd, &r, 300));
	assert_int_equal(bt_available(b, PLAIN), 99900);
	bt_network(&t, "301", 11); /* network management is never faulted */
	assert_int_equal(bt_code(fd, &t), 0);
	close(fd);
	finish(b);
}

static void test_config_file_and_override(void **state)
{
	(void)state;
	bt_bank_t *b = calloc(1, sizeof(*b));
	bt_setup(b, "banksimc", accounts);
	char config[400];
	snprintf(config, sizeof(config), "%s/bank.json", b->dir);
	ts_write_file(config, "{\"name\": \"bankC\", \"decline_rate\": 1,"
			      " \"latency_ms\": \"0-5\", \"two_phase\": false}");
	const char *extra[] = {"--config", config, NULL};
	bt_start(b, extra);
	int fd = bt_connect(b);
	txn_t t;
	bt_financial(&t, "000000", PLAIN, 100, 1);
	assert_int_equal(bt_code(fd, &t), 5);
	close(fd);
	assert_true(bt_log_count(b, "\"component\":\"bankC\"") > 0);
	bt_stop(b);
	const char *over[] = {"--config", config, "--decline-rate", "0", NULL};
	bt_start(b, over);
	fd = bt_connect(b);
	bt_financial(&t, "000000", PLAIN, 100, 2);
	assert_int_equal(bt_code(fd, &t), 0);
	close(fd);
	finish(b);

	/* A bad key is refused with its name, exit 2. */
	char bad[400], out[512], err[512];
	snprintf(bad, sizeof(bad), "/tmp/banksim-bad-%d.json", (int)getpid());
	ts_write_file(bad, "{\"latency\": 5}");
	char *argv[] = {(char *)ts_bin("banksim"), "--config", bad, NULL};
	assert_int_equal(ts_run(argv, NULL, out, sizeof(out), err, sizeof(err), BT_WAIT_MS), 2);
	assert_non_null(strstr(err, "latency: unknown key"));
	unlink(bad);
}

/* A bound of 4 in flight on a connection: 40 pipelined requests are all
 * answered, the connection just is not read past the bound. */
static void test_inflight_bound_backpressures(void **state)
{
	(void)state;
	const char *extra[] = {"--inflight-per-conn-max", "4", "--latency-ms",
			       "20", NULL};
	bt_bank_t *b = start(extra);
	int fd = bt_connect(b);
	for (uint32_t i = 0; i < 40; i++) {
		txn_t t;
		bt_financial(&t, "000000", PLAIN, 10, 100 + i);
		bt_send(fd, &t);
	}
	for (uint32_t i = 0; i < 40; i++) {
		bt_answer_t r;
		assert_true(bt_recv(fd, &r, BT_WAIT_MS));
		assert_string_equal(r.response, "00");
	}
	assert_int_equal(bt_available(b, PLAIN), 100000 - 400);
	close(fd);
	finish(b);
}

static void test_sigterm_sends_held_answers(void **state)
{
	(void)state;
	const char *extra[] = {"--latency-ms", "3000", NULL};
	bt_bank_t *b = start(extra);
	int fd = bt_connect(b);
	txn_t t;
	bt_financial(&t, "000000", PLAIN, 100, 1);
	bt_send(fd, &t);
	ts_sleep_ms(200);
	uint64_t t0 = ts_now_ms();
	ts_proc_signal(&b->proc, SIGTERM);
	bt_answer_t r;
	assert_true(bt_recv(fd, &r, 2000));
	assert_true(ts_now_ms() - t0 < 2000);
	assert_string_equal(r.response, "00");
	assert_true(ts_proc_wait(&b->proc, BT_WAIT_MS));
	assert_int_equal(ts_proc_exit_code(&b->proc), 0);
	b->running = false;
	assert_int_equal(bt_available(b, PLAIN), 99900);
	close(fd);
	finish(b);
}

/*
 * The ledger fails on purpose (--fault-ledger-after 1 --fault-ledger-count
 * 2): the batch commits that fail answer 96 and post nothing, the book
 * stays sound, what was posted survives a restart, and a repeat of a
 * failed request after the fault is a new request (nothing was kept of
 * it), approved once.
 */
static void test_ledger_write_fails(void **state)
{
	(void)state;
	const char *extra[] = {"--fault-ledger-after", "1",
			       "--fault-ledger-count", "2", NULL};
	bt_bank_t *b = start(extra);
	int fd = bt_connect(b);
	txn_t t[4];
	int want[4] = {0, 96, 96, 0};
	for (int i = 0; i < 4; i++) {
		bt_financial(&t[i], "000000", PLAIN, 1000, (uint32_t)(10 + i));
		assert_int_equal(bt_code(fd, &t[i]), want[i]);
	}
	/* Only the first and the last posted. */
	assert_int_equal(bt_available(b, PLAIN), 100000 - 2000);
	bt_check(b);
	assert_int_equal(bt_log_count(b, "batch_failed"), 2);
	close(fd);
	bt_stop(b);
	bt_start(b, NULL);
	assert_int_equal(bt_available(b, PLAIN), 100000 - 2000);
	fd = bt_connect(b);
	/* The second request again: nothing of it was kept, so it is new. */
	assert_int_equal(bt_code(fd, &t[1]), 0);
	assert_int_equal(bt_code(fd, &t[1]), 94);
	assert_int_equal(bt_available(b, PLAIN), 100000 - 3000);
	close(fd);
	finish(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_drop_posts_but_never_answers),
		cmocka_unit_test(test_delay_answers_late),
		cmocka_unit_test(test_close_instead_of_answering),
		cmocka_unit_test(test_latency_holds_answers),
		cmocka_unit_test(test_rates),
		cmocka_unit_test(test_config_file_and_override),
		cmocka_unit_test(test_inflight_bound_backpressures),
		cmocka_unit_test(test_sigterm_sends_held_answers),
		cmocka_unit_test(test_ledger_write_fails),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
