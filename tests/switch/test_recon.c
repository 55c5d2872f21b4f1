/*
 * test_recon.c: settlement at a real pbocsim and reconciliation
 * (docs/clearing.md), with bank A two-phase: a pay's debit is an
 * authorisation until its completion, so the switch books it when the
 * completion is acknowledged, and a pay whose credit fails books nothing
 * (the bank voids the hold and answers the reversal 25). After cutover
 * and settlement `switchctl recon 1` compares the switch's obligations
 * with its ledger, each bank's 0510 totals for the date and PBOC's posted
 * batch: reconciled. A credit posted at bank A behind the switch's back
 * is then found: recon exits 3 naming the bank and the total.
 *
 * And a reserve too small for a window's batch: rejected (the window
 * fails with PBOC's reason, `switchctl settle` retries once funded) or
 * queued (settling, the reason shown, posted when the funds arrive).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fixture.h"

#define BANK_A 0
#define BANK_B 1
#define PSP_MEMBER "48110001"

static fx_t fx;
static ts_proc_t pboc;
static uint16_t pboc_port;
static char root[512];

/* pbocsim with bank A's reserve at a_balance, judging shortfalls so
 * (queue or reject); switchd settling there, bank A two-phase or not. */
static void start_chain(const char *tag, long long a_balance,
			const char *shortfall, bool two_phase)
{
	fx_init(&fx, tag);
	char members[600], ledger[600], ready[600], log[600], text[1024];
	snprintf(members, sizeof(members), "%s/members.json", fx.dir);
	snprintf(ledger, sizeof(ledger), "%s/pboc", fx.dir);
	snprintf(ready, sizeof(ready), "%s/pboc.ready", fx.dir);
	snprintf(log, sizeof(log), "%s/pboc.log", fx.dir);
	snprintf(text, sizeof(text),
		 "{\"members\": [\n"
		 " {\"member\": \"01020000\", \"kind\": \"bank\", \"balance\": %lld},\n"
		 " {\"member\": \"01030000\", \"kind\": \"bank\", \"balance\": 100000000},\n"
		 " {\"member\": \"" PSP_MEMBER "\", \"kind\": \"psp\"},\n"
		 " {\"member\": \"48020000\", \"kind\": \"acquirer\"},\n"
		 " {\"member\": \"99990000\", \"kind\": \"switch\"}]}\n",
		 a_balance);
	ts_write_file(members, text);
	char *argv[] = {(char *)ts_bin("pbocsim"), "--ledger", ledger, "--members",
			members, "--ready-file", ready, "--shortfall",
			(char *)shortfall, "--log-level", "warn", NULL};
	ts_proc_start(&pboc, log, argv);
	json_t *r = ts_wait_ready(ready, &pboc, 10000);
	assert_non_null(r);
	pboc_port = (uint16_t)json_integer_value(json_object_get(r, "port"));
	json_decref(r);
	snprintf(root, sizeof(root),
		 " \"clearing\": {\"pboc\": \"127.0.0.1:%u\", \"settle_delay_ms\": 200,"
		 " \"poll_ms\": 50, \"first_date\": \"20261203\"},\n", pboc_port);
	fx.root_extra = root;
	fx.psp_extra = ", \"institution\": \"" PSP_MEMBER "\"";
	fx.two_phase_a = two_phase;
	fx_start(&fx);
}

static int setup_two_phase(void **state)
{
	(void)state;
	start_chain("recon", 100000000, "queue", true);
	return 0;
}

/* Bank A's reserve holds 50.00: a window where it owes 100.00 is short. */
static int setup_short_reject(void **state)
{
	(void)state;
	start_chain("short-reject", 5000, "reject", false);
	return 0;
}

static int setup_short_queue(void **state)
{
	(void)state;
	start_chain("short-queue", 5000, "queue", false);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	fx_stop(&fx);
	ts_proc_kill(&pboc);
	return 0;
}

/* One request to pbocsim; its answer (caller frees). */
static json_t *pboc_ask(const char *line)
{
	int fd = ts_connect(pboc_port, 5000);
	ts_send_line(fd, line);
	char text[16384];
	json_t *a = NULL;
	if (ts_recv_line(fd, text, sizeof(text), 5000))
		a = json_loads(text, 0, NULL);
	close(fd);
	return a;
}

static int64_t pboc_balance(const char *member)
{
	char line[128];
	snprintf(line, sizeof(line), "{\"op\":\"balance\",\"id\":\"B-%s\","
		 "\"member\":\"%s\"}", member, member);
	json_t *a = pboc_ask(line);
	assert_non_null(a);
	assert_string_equal(fx_str(a, "status"), "ok");
	int64_t b = json_integer_value(json_object_get(a, "balance"));
	json_decref(a);
	return b;
}

static json_t *wait_window(uint64_t id, const char *state, int timeout_ms)
{
	uint64_t end = ts_now_ms() + (uint64_t)timeout_ms;
	char line[64];
	snprintf(line, sizeof(line), "{\"cmd\":\"window\",\"window\":%llu}",
		 (unsigned long long)id);
	for (;;) {
		int fd = ts_connect(fx.control, 5000);
		ts_send_line(fd, line);
		char text[65536];
		json_t *a = NULL;
		if (ts_recv_line(fd, text, sizeof(text), 5000))
			a = json_loads(text, 0, NULL);
		close(fd);
		json_t *w = json_object_get(a, "window");
		const char *st = json_string_value(json_object_get(w, "state"));
		if (st != NULL && strcmp(st, state) == 0) {
			json_incref(w);
			json_decref(a);
			return w;
		}
		json_decref(a);
		if (ts_now_ms() > end)
			return NULL;
		ts_sleep_ms(50);
	}
}

static int64_t position(json_t *w, const char *member)
{
	size_t i;
	json_t *p;
	int64_t sum = 0;
	json_array_foreach(json_object_get(w, "positions"), i, p)
		if (strcmp(json_string_value(json_object_get(p, "member")), member) == 0)
			sum += json_integer_value(json_object_get(p, "amount"));
	return sum;
}

static int recon(uint64_t window, char *out, size_t cap)
{
	char n[24];
	snprintf(n, sizeof(n), "%llu", (unsigned long long)window);
	char *argv[] = {(char *)ts_bin("switchctl"), "--config", fx.config, "recon", n,
			NULL};
	return ts_run(argv, NULL, out, cap, NULL, 0, 40000);
}

/* A credit posted at bank A that the switch never sent, though it names
 * the switch's link (field 33) and the window's settlement date. */
static void credit_behind_the_switch(void)
{
	const iso8583_dialect_t *d = iso8583_dialect_builtin("ascii");
	iso8583_msg_t m;
	iso8583_msg_init(&m, d);
	iso8583_set_mti(&m, "0200");
	iso8583_set_str(&m, 2, A_SPARE);
	iso8583_set_str(&m, 3, "260000");
	iso8583_set_num(&m, 4, 123);
	iso8583_set_str(&m, 7, "1203101500");
	iso8583_set_num(&m, 11, 777001);
	iso8583_set_str(&m, 15, "1203");
	iso8583_set_str(&m, 32, "48020000");
	/* On the switch's own link (banksim keeps totals per forwarder): a
	 * credit with another field 33 would be another link's to reconcile. */
	iso8583_set_str(&m, 33, "99990000");
	iso8583_set_str(&m, 49, "156");
	int fd = ts_connect(fx.bank[BANK_A].port, 5000);
	ts_iso_send(fd, &m);
	iso8583_msg_t r;
	uint8_t buf[2048];
	assert_true(ts_iso_recv(fd, d, &r, buf, sizeof(buf), 10000));
	close(fd);
	assert_string_equal(fx_field(&r, 39), "00");
}

static void test_two_phase_settles_and_reconciles(void **state)
{
	(void)state;
	int64_t rich = fx_balance(&fx, BANK_A, A_RICH);
	json_t *a = fx_pay(&fx, "RC-1", A_RICH, B_SHOP, 10000);
	assert_string_equal(fx_str(a, "code"), "00");
	json_decref(a);
	/* The credit refused: the hold is voided (25), nothing is owed. */
	a = fx_pay(&fx, "RC-2", A_RICH, B_CLOSED, 700);
	assert_string_not_equal(fx_str(a, "code"), "00");
	json_decref(a);
	a = fx_pay(&fx, "RC-3", A_SPARE, B_SHOP2, 2500);
	assert_string_equal(fx_str(a, "code"), "00");
	json_decref(a);
	assert_true(fx_wait_saf_empty(&fx, 10000));
	assert_true(fx_wait_balance(&fx, BANK_A, A_RICH, rich - 10000, 10000));

	assert_true(fx_control_ok(&fx, "{\"cmd\":\"cutover\"}"));
	json_t *w = wait_window(1, "settled", 20000);
	assert_non_null(w);
	assert_int_equal(position(w, "01020000"), -12500);
	assert_int_equal(position(w, "01030000"), 12500);
	assert_int_equal(position(w, PSP_MEMBER), 0);
	json_decref(w);

	char out[16384];
	int rc = recon(1, out, sizeof(out));
	if (rc != 0)
		fprintf(stderr, "%s", out);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(out, "window 1: reconciled"));
	assert_non_null(strstr(out, " 0 differences\n"));
	fprintf(stderr, "%s", out);
	w = wait_window(1, "settled", 1000);
	assert_true(json_is_true(json_object_get(w, "reconciled")));
	json_decref(w);

	/* A discrepancy: bank A's credits for 12-03 are one more than the
	 * switch's. */
	credit_behind_the_switch();
	rc = recon(1, out, sizeof(out));
	fprintf(stderr, "%s", out);
	assert_int_equal(rc, 3);
	assert_non_null(strstr(out, "window 1: differences"));
	assert_non_null(strstr(out, "bank_a"));
	assert_non_null(strstr(out, "credits count"));
	assert_non_null(strstr(out, "credits amount"));
	w = wait_window(1, "settled", 1000);
	assert_false(json_is_true(json_object_get(w, "reconciled")));
	json_t *v = json_object_get(w, "recon");
	assert_string_equal(json_string_value(json_object_get(v, "state")), "differences");
	/* count, amount and net */
	assert_int_equal(json_integer_value(json_object_get(v, "difference_count")), 3);
	json_decref(w);

	/* A window not booked yet is refused with the reason. */
	rc = recon(2, out, sizeof(out));
	assert_int_equal(rc, 3);
}

/* A window whose batch would overdraw bank A's reserve: under --shortfall
 * reject the window fails with PBOC's reason; once bank A is funded,
 * `switchctl settle 1` submits it again and it posts. */
static void test_short_reserve_rejected_then_retried(void **state)
{
	(void)state;
	json_t *a = fx_pay(&fx, "SR-1", A_RICH, B_SHOP, 10000);
	assert_string_equal(fx_str(a, "code"), "00");
	json_decref(a);
	int64_t a0 = pboc_balance("01020000"), b0 = pboc_balance("01030000");
	assert_true(fx_control_ok(&fx, "{\"cmd\":\"cutover\"}"));
	json_t *w = wait_window(1, "failed", 20000);
	assert_non_null(w);
	const char *reason = fx_str(w, "reason");
	assert_non_null(strstr(reason, "01020000"));
	assert_non_null(strstr(reason, "short by 5000"));
	json_decref(w);
	/* Nothing moved at PBOC. */
	assert_int_equal(pboc_balance("01020000"), a0);
	assert_int_equal(pboc_balance("01030000"), b0);

	json_t *f = pboc_ask("{\"op\":\"fund\",\"id\":\"F1\",\"member\":\"01020000\","
			     "\"amount\":5000}");
	assert_string_equal(fx_str(f, "status"), "ok");
	json_decref(f);
	char out[4096];
	char *argv[] = {(char *)ts_bin("switchctl"), "--config", fx.config, "settle", "1",
			NULL};
	assert_int_equal(ts_run(argv, NULL, out, sizeof(out), NULL, 0, 10000), 0);
	w = wait_window(1, "settled", 20000);
	assert_non_null(w);
	json_decref(w);
	assert_int_equal(pboc_balance("01020000"), a0 + 5000 - 10000);
	assert_int_equal(pboc_balance("01030000"), b0 + 10000);
	assert_int_equal(recon(1, out, sizeof(out)), 0);
}

/* Under --shortfall queue the window stays settling with the reason
 * visible until the bank is funded; then PBOC posts it and the switch
 * sees it settled, no operator step needed. */
static void test_short_reserve_queued_until_funded(void **state)
{
	(void)state;
	json_t *a = fx_pay(&fx, "SQ-1", A_RICH, B_SHOP, 10000);
	assert_string_equal(fx_str(a, "code"), "00");
	json_decref(a);
	assert_true(fx_control_ok(&fx, "{\"cmd\":\"cutover\"}"));
	/* Settling, its batch queued with the reason. */
	json_t *w = NULL;
	uint64_t end = ts_now_ms() + 20000;
	const char *status = "";
	while (ts_now_ms() < end) {
		json_decref(w);
		w = wait_window(1, "settling", 20000);
		assert_non_null(w);
		json_t *b = json_array_get(json_object_get(w, "batches"), 0);
		status = fx_str(b, "status");
		if (strcmp(status, "queued") == 0) {
			assert_non_null(strstr(fx_str(b, "reason"), "short by 5000"));
			break;
		}
		ts_sleep_ms(50);
	}
	assert_string_equal(status, "queued");
	json_decref(w);
	json_t *f = pboc_ask("{\"op\":\"fund\",\"id\":\"F1\",\"member\":\"01020000\","
			     "\"amount\":5000}");
	assert_string_equal(fx_str(f, "status"), "ok");
	json_decref(f);
	w = wait_window(1, "settled", 20000);
	assert_non_null(w);
	json_decref(w);
	char out[4096];
	assert_int_equal(recon(1, out, sizeof(out)), 0);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_two_phase_settles_and_reconciles,
						setup_two_phase, teardown),
		cmocka_unit_test_setup_teardown(test_short_reserve_rejected_then_retried,
						setup_short_reject, teardown),
		cmocka_unit_test_setup_teardown(test_short_reserve_queued_until_funded,
						setup_short_queue, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
