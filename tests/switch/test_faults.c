/*
 * test_faults.c: the store fails on purpose (switch/store.h's faults,
 * through the control socket's "fault" command), and nothing is lost.
 *
 *  - A commit fails: nothing of its batch leaves (the banks see nothing),
 *    new requests are answered 91 at once with nothing posted, and once
 *    the fault clears the held batch commits and its pay finishes, once.
 *  - One write of a batch fails, or the map is full and cannot grow: the
 *    same, and the pay in the failed batch finishes when the store heals.
 *  - After the faults, a kill -9 and a restart: every transaction keeps
 *    the one final state it had, and the money is where the answers say.
 *  - A reversal the bank never acknowledges is given up after
 *    reversal.attempts_max and becomes an exception an operator sees.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fixture.h"

#define BANK_A 0
#define BANK_B 1

static fx_t fx;

static int setup(void **state)
{
	(void)state;
	fx_init(&fx, "faults");
	fx.test_faults = true;
	fx.attempts_max = 2;
	fx_start(&fx);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	fx_stop(&fx);
	return 0;
}

static char line_buf[8192];

/* Sends a pay without waiting for its answer. */
static void send_pay(const char *id, const char *payer, const char *payee,
		     int64_t amount)
{
	snprintf(line_buf, sizeof(line_buf),
		 "{\"op\":\"pay\",\"id\":\"%s\",\"payer\":{\"account\":\"%s\"},"
		 "\"payee\":{\"account\":\"%s\"},\"amount\":%lld,\"currency\":\"CNY\"}",
		 id, payer, payee, (long long)amount);
	ts_send_line(fx.psp_fd, line_buf);
}

/* Nothing arrives on the PSP connection within ms. */
static bool silent_for(int ms)
{
	struct pollfd p = {.fd = fx.psp_fd, .events = POLLIN};
	return poll(&p, 1, ms) == 0;
}

static const char *final_code(const char *id, char out[4])
{
	json_t *a = fx_call(&fx, "{\"op\":\"query\",\"id\":\"Q-%s-%llu\","
			 "\"target\":\"%s\"}", id,
			 (unsigned long long)ts_now_ms(), id);
	const char *state = fx_str(a, "state");
	if (strcmp(state, "done") == 0)
		ps_strlcpy(out, fx_str(json_object_get(a, "answer"), "code"), 4);
	else
		ps_strlcpy(out, state, 4);
	json_decref(a);
	return out;
}

/* A failed commit: held, nothing leaves; 91 for new work; then healed. */
static void test_failed_commit_holds_everything(void **state)
{
	(void)state;
	int64_t payer = fx_balance(&fx, BANK_A, A_RICH);
	int64_t payee = fx_balance(&fx, BANK_B, B_SHOP);
	int64_t sent = fx_stat(&fx, "stats", "commit_failures");
	assert_true(fx_control_ok(&fx, "{\"cmd\":\"fault\",\"commit_count\":1000}"));
	send_pay("F-0001", A_RICH, B_SHOP, 1000);
	/* Its batch failed: no leg left, so no answer, and no money moved. */
	assert_true(silent_for(600));
	assert_int_equal(fx_balance(&fx, BANK_A, A_RICH), payer);
	assert_true(fx_stat(&fx, "stats", "commit_failures") > sent);
	assert_true(fx_stat(&fx, "status", "commit_failures") > 0);
	/* New work is refused at once, with nothing posted. */
	json_t *a = fx_pay(&fx, "F-0002", A_RICH, B_SHOP, 2000);
	assert_string_equal(fx_str(a, "code"), "91");
	assert_non_null(strstr(fx_str(a, "reason"), "store"));
	json_decref(a);
	assert_int_equal(fx_balance(&fx, BANK_A, A_RICH), payer);
	/* The store heals: the held batch commits and F-0001 finishes. */
	assert_true(fx_control_ok(&fx, "{\"cmd\":\"fault\"}"));
	a = ts_json_wait(fx.psp_fd, "F-0001", 5000);
	assert_non_null(a);
	assert_string_equal(fx_str(a, "code"), "00");
	json_decref(a);
	assert_int_equal(fx_balance(&fx, BANK_A, A_RICH), payer - 1000);
	assert_int_equal(fx_balance(&fx, BANK_B, B_SHOP), payee + 1000);
	char code[4];
	assert_string_equal(final_code("F-0001", code), "00");
	/* The refusal left no transaction behind. */
	assert_string_equal(final_code("F-0002", code), "unk");
}

/* One write of a batch fails: the whole batch is held and retried. */
static void test_failed_write_is_retried(void **state)
{
	(void)state;
	int64_t payer = fx_balance(&fx, BANK_A, A_SPARE);
	assert_true(fx_control_ok(&fx, "{\"cmd\":\"fault\",\"put_at\":1}"));
	json_t *a = fx_pay(&fx, "F-0003", A_SPARE, B_SHOP2, 300);
	assert_string_equal(fx_str(a, "code"), "00");
	json_decref(a);
	assert_int_equal(fx_balance(&fx, BANK_A, A_SPARE), payer - 300);
	char code[4];
	assert_string_equal(final_code("F-0003", code), "00");
}

/* A full map that cannot grow: held until it can. */
static void test_full_map_holds_until_it_grows(void **state)
{
	(void)state;
	int64_t payer = fx_balance(&fx, BANK_A, A_SPARE);
	assert_true(fx_control_ok(&fx, "{\"cmd\":\"fault\",\"map_full\":true}"));
	send_pay("F-0004", A_SPARE, B_SHOP2, 400);
	assert_true(silent_for(400));
	json_t *a = fx_pay(&fx, "F-0005", A_SPARE, B_SHOP2, 500);
	assert_string_equal(fx_str(a, "code"), "91");
	json_decref(a);
	assert_int_equal(fx_balance(&fx, BANK_A, A_SPARE), payer);
	assert_true(fx_control_ok(&fx, "{\"cmd\":\"fault\"}"));
	a = ts_json_wait(fx.psp_fd, "F-0004", 5000);
	assert_non_null(a);
	assert_string_equal(fx_str(a, "code"), "00");
	json_decref(a);
	assert_int_equal(fx_balance(&fx, BANK_A, A_SPARE), payer - 400);
}

/* After all of it, a kill -9: every final state and every balance
 * stands. */
static void test_nothing_lost_across_a_restart(void **state)
{
	(void)state;
	int64_t rich = fx_balance(&fx, BANK_A, A_RICH);
	int64_t spare = fx_balance(&fx, BANK_A, A_SPARE);
	ts_proc_signal(&fx.switchd, SIGKILL);
	assert_true(ts_proc_wait(&fx.switchd, 5000));
	close(fx.psp_fd);
	fx.psp_fd = -1;
	fx_start_switchd(&fx);
	char code[4];
	assert_string_equal(final_code("F-0001", code), "00");
	assert_string_equal(final_code("F-0003", code), "00");
	assert_string_equal(final_code("F-0004", code), "00");
	assert_string_equal(final_code("F-0002", code), "unk");
	assert_string_equal(final_code("F-0005", code), "unk");
	assert_true(fx_wait_saf_empty(&fx, 5000));
	assert_int_equal(fx_balance(&fx, BANK_A, A_RICH), rich);
	assert_int_equal(fx_balance(&fx, BANK_A, A_SPARE), spare);
	/* A repeat of a finished pay gets its answer, and moves nothing. */
	json_t *a = fx_pay(&fx, "F-0001", A_RICH, B_SHOP, 1000);
	assert_string_equal(fx_str(a, "code"), "00");
	json_decref(a);
	assert_int_equal(fx_balance(&fx, BANK_A, A_RICH), rich);
}

/*
 * Bank A freezes (SIGSTOP): a pay's debit times out (68) and its reversal
 * is never answered; after reversal.attempts_max transmissions it is given
 * up and kept as an exception, seen in status and metrics.
 */
static void test_reversal_given_up_is_an_exception(void **state)
{
	(void)state;
	assert_int_equal(fx_stat(&fx, "status", "exceptions_open"), 0);
	ts_proc_signal(&fx.bank[BANK_A].proc, SIGSTOP);
	json_t *a = fx_pay(&fx, "F-0006", A_RICH, B_SHOP, 700);
	assert_string_equal(fx_str(a, "code"), "68");
	json_decref(a);
	uint64_t end = ts_now_ms() + 10000;
	while (fx_stat(&fx, "status", "exceptions_open") < 1 && ts_now_ms() < end)
		ts_sleep_ms(50);
	assert_int_equal(fx_stat(&fx, "status", "exceptions_open"), 1);
	assert_true(fx_stat(&fx, "stats", "exceptions") >= 1);
	assert_true(fx_wait_saf_empty(&fx, 5000));
	json_t *m = ts_control(fx.control, "stats");
	assert_true(json_integer_value(json_object_get(m, "reversals_expired")) >= 1);
	json_decref(m);
	ts_proc_signal(&fx.bank[BANK_A].proc, SIGCONT);

	/* The operator sees it with switchctl, as switchd wrote it ... */
	static char out[8192];
	assert_int_equal(fx_switchctl(&fx, out, sizeof(out), "--json",
				      "exceptions", NULL), 0);
	json_error_t jerr;
	json_t *e = json_loads(out, JSON_DISABLE_EOF_CHECK, &jerr);
	assert_non_null(e);
	assert_string_equal(fx_str(e, "kind"), "reversal");
	assert_string_equal(fx_str(e, "request_id"), "F-0006");
	assert_string_equal(fx_str(e, "endpoint"), "bank_a");
	assert_string_equal(fx_str(e, "account"), "622202******0001");
	assert_int_equal(json_integer_value(json_object_get(e, "amount")), 700);
	assert_int_equal(json_integer_value(json_object_get(e, "attempts")), 2);
	char id[24];
	snprintf(id, sizeof(id), "%lld", (long long)json_integer_value(json_object_get(e, "id")));
	json_decref(e);
	/* ... resolves it with a note, and the switch counts it no more. */
	assert_int_equal(fx_switchctl(&fx, out, sizeof(out), "--who", "oncall@ops",
				      "exceptions", "resolve", id, "--note",
				      "bank_a reversed it by hand", NULL), 0);
	assert_int_equal(fx_stat(&fx, "status", "exceptions_open"), 0);
	assert_int_equal(fx_switchctl(&fx, out, sizeof(out), "audit", NULL), 0);
	assert_non_null(strstr(out, "exception_resolve"));
	assert_non_null(strstr(out, "oncall@ops"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_failed_commit_holds_everything),
		cmocka_unit_test(test_failed_write_is_retried),
		cmocka_unit_test(test_full_map_holds_until_it_grows),
		cmocka_unit_test(test_nothing_lost_across_a_restart),
		cmocka_unit_test(test_reversal_given_up_is_an_exception),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
