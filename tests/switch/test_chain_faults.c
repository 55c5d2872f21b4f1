/*
 * test_chain_faults.c: the chain losing a part while money moves, each
 * test on a chain of its own:
 *
 *   payee bank down    bank B's process dies: a pay's credit cannot be
 *                      sent, the PSP is answered 91 and the debit at
 *                      bank A reversed; once bank B is back pays flow
 *   PSP disconnects    a PSP closes its connection with pays in flight:
 *                      each pay still ends (approved, both legs posted,
 *                      nothing reversed); the PSP reconnects, queries and
 *                      resends, and gets each pay's one answer
 *
 * Every amount is checked in the banks' own ledgers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

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
	fx_init(&fx, "chain-faults");
	fx_start(&fx);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	fx_stop(&fx);
	return 0;
}

/* Waits until the switch says endpoint name is up (or down). */
static bool wait_endpoint(const char *name, bool up, int timeout_ms)
{
	uint64_t end = ts_now_ms() + (uint64_t)timeout_ms;
	for (;;) {
		int fd = ts_connect(fx.control, 5000);
		ts_send_line(fd, "{\"cmd\":\"endpoints\"}");
		char text[65536];
		bool got = ts_recv_line(fd, text, sizeof(text), 5000);
		close(fd);
		json_t *a = got ? json_loads(text, 0, NULL) : NULL;
		size_t i;
		json_t *e;
		bool is_up = false;
		json_array_foreach(json_object_get(a, "endpoints"), i, e)
			if (strcmp(fx_str(e, "name"), name) == 0)
				is_up = strcmp(fx_str(e, "state"), "up") == 0;
		json_decref(a);
		if (is_up == up)
			return true;
		if (ts_now_ms() > end)
			return false;
		ts_sleep_ms(50);
	}
}

static void test_payee_bank_down(void **state)
{
	(void)state;
	int64_t payer = fx_balance(&fx, BANK_A, A_RICH);
	int64_t payee = fx_balance(&fx, BANK_B, B_SHOP);
	ts_proc_kill(&fx.bank[BANK_B].proc);
	assert_true(wait_endpoint("bank_b", false, 10000));
	json_t *a = fx_pay(&fx, "DOWN-1", A_RICH, B_SHOP, 4200);
	assert_string_equal(fx_str(a, "code"), "91");
	json_decref(a);
	/* The debit posted at bank A is reversed. */
	assert_true(fx_wait_saf_empty(&fx, 10000));
	assert_true(fx_wait_balance(&fx, BANK_A, A_RICH, payer, 5000));
	/* A pay to bank A's own customer still goes. */
	a = fx_pay(&fx, "DOWN-2", A_RICH, A_SPARE, 100);
	assert_string_equal(fx_str(a, "code"), "00");
	json_decref(a);
	payer -= 100;

	/* Bank B back on the same ledger: pays to it flow again. */
	fx_restart_bank(&fx, BANK_B);
	assert_true(wait_endpoint("bank_b", true, 15000));
	a = fx_pay(&fx, "DOWN-3", A_RICH, B_SHOP, 4200);
	assert_string_equal(fx_str(a, "code"), "00");
	json_decref(a);
	assert_int_equal(fx_balance(&fx, BANK_A, A_RICH), payer - 4200);
	assert_int_equal(fx_balance(&fx, BANK_B, B_SHOP), payee + 4200);
}

#define INFLIGHT 16

/* The query of GONE-i, asked until it is done (the payee's bank posts the
 * credit before the switch has committed the answer that makes it so),
 * for up to 5 s; the last answer. */
static json_t *query_done(int i)
{
	for (int tries = 0;; tries++) {
		json_t *q = fx_call(&fx, "{\"op\":\"query\",\"id\":\"GQ-%02d-%d\","
				    "\"target\":\"GONE-%02d\"}", i, tries, i);
		const char *state = fx_str(q, "state");
		if ((state != NULL && strcmp(state, "done") == 0) || tries == 100)
			return q;
		json_decref(q);
		usleep(50 * 1000);
	}
}

static void test_psp_disconnects_mid_flight(void **state)
{
	(void)state;
	int64_t payer = fx_balance(&fx, BANK_A, A_RICH);
	int64_t payee = fx_balance(&fx, BANK_B, B_SHOP);
	int fd = fx_psp_open(&fx);
	for (int i = 0; i < INFLIGHT; i++) {
		char line[256];
		snprintf(line, sizeof(line),
			 "{\"op\":\"pay\",\"id\":\"GONE-%02d\",\"payer\":{\"account\":\""
			 A_RICH "\"},\"payee\":{\"account\":\"" B_SHOP "\"},"
			 "\"amount\":%d,\"currency\":\"CNY\"}", i, 100 + i);
		ts_send_line(fd, line);
	}
	close(fd);   /* before any answer can have been read */

	/* Each pay ends approved: both legs posted, nothing reversed. */
	int64_t total = 0;
	for (int i = 0; i < INFLIGHT; i++)
		total += 100 + i;
	assert_true(fx_wait_balance(&fx, BANK_B, B_SHOP, payee + total, 10000));
	assert_int_equal(fx_balance(&fx, BANK_A, A_RICH), payer - total);
	assert_true(fx_wait_saf_empty(&fx, 5000));

	/* The PSP, back, asks: each is done, approved; a resend of one is
	 * answered with its one answer, and moves nothing. */
	for (int i = 0; i < INFLIGHT; i++) {
		json_t *q = query_done(i);
		assert_string_equal(fx_str(q, "state"), "done");
		assert_string_equal(fx_str(json_object_get(q, "answer"), "status"),
				    "approved");
		json_decref(q);
	}
	json_t *a = fx_call(&fx, "{\"op\":\"pay\",\"id\":\"GONE-03\",\"payer\":{\"account\":\""
			    A_RICH "\"},\"payee\":{\"account\":\"" B_SHOP "\"},"
			    "\"amount\":103,\"currency\":\"CNY\"}");
	assert_string_equal(fx_str(a, "code"), "00");
	json_decref(a);
	assert_int_equal(fx_balance(&fx, BANK_B, B_SHOP), payee + total);
	assert_int_equal(fx_balance(&fx, BANK_A, A_RICH), payer - total);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_payee_bank_down, setup, teardown),
		cmocka_unit_test_setup_teardown(test_psp_disconnects_mid_flight, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
