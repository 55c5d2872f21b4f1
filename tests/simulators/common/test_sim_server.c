/*
 * test_sim_server.c: the common server loop as a process: sim_echo
 * (built only for these tests) driven over loopback. Answers over both
 * channel kinds, a request refused at intake answered with its own code;
 * the bounds (one connection too many is accepted and closed at once; an
 * in-flight bound backpressures and never refuses); a framing error closes
 * only its connection; what the turn may say (defer, drop, keep); faults;
 * ticks; the drain (held answers at once, kept ones awaited, a deadline,
 * a second signal); the ready file and start-up failures.
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
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "adapters.h"
#include "core.h"
#include "support.h"

#define WAIT_MS 5000
#define ARGS_MAX 48
#define TRANSMIT "1125103000"

typedef struct echo_proc {
	char dir[256];
	char ready[320];
	char log[320];
	ts_proc_t proc;
	bool running;
	uint16_t port;
} echo_proc_t;

static echo_proc_t *echo_start(const char *const *extra)
{
	echo_proc_t *e = calloc(1, sizeof(*e));
	ts_tmpdir("simecho", e->dir, sizeof(e->dir));
	snprintf(e->ready, sizeof(e->ready), "%s/ready.json", e->dir);
	snprintf(e->log, sizeof(e->log), "%s/echo.log", e->dir);
	const char *argv[ARGS_MAX] = {SIM_ECHO_BIN, "--ready-file", e->ready,
				      "--log-level", "debug"};
	size_t n = 5;
	for (size_t i = 0; extra != NULL && extra[i] != NULL; i++) {
		assert_true(n + 1 < ARGS_MAX);
		argv[n++] = extra[i];
	}
	argv[n] = NULL;
	ts_proc_start(&e->proc, e->log, (char *const *)argv);
	json_t *ready = ts_wait_ready(e->ready, &e->proc, WAIT_MS);
	e->port = (uint16_t)json_integer_value(json_object_get(ready, "port"));
	assert_true(e->port > 0);
	assert_int_equal(json_integer_value(json_object_get(ready, "pid")),
			 e->proc.pid);
	json_decref(ready);
	e->running = true;
	return e;
}

/* SIGTERM; the exit code it exits with within WAIT_MS. */
static int echo_stop(echo_proc_t *e)
{
	ts_proc_signal(&e->proc, SIGTERM);
	if (!ts_proc_wait(&e->proc, WAIT_MS)) {
		ts_proc_dump(&e->proc);
		fail_msg("sim_echo did not exit after SIGTERM");
	}
	e->running = false;
	return ts_proc_exit_code(&e->proc);
}

static void echo_finish(echo_proc_t *e)
{
	if (e->running)
		assert_int_equal(echo_stop(e), 0);
	ts_rmrf(e->dir);
	free(e);
}

static int log_count(const echo_proc_t *e, const char *text)
{
	FILE *f = fopen(e->log, "r");
	if (f == NULL)
		return 0;
	char line[8192];
	int n = 0;
	while (fgets(line, sizeof(line), f) != NULL)
		n += strstr(line, text) != NULL;
	fclose(f);
	return n;
}

/* A number from the echo_stopped line (the process has exited). */
static int64_t stopped(const echo_proc_t *e, const char *key)
{
	FILE *f = fopen(e->log, "r");
	assert_non_null(f);
	char line[8192];
	json_t *found = NULL;
	while (found == NULL && fgets(line, sizeof(line), f) != NULL)
		if (strstr(line, "\"event\":\"echo_stopped\"") != NULL)
			found = json_loads(line, 0, NULL);
	fclose(f);
	if (found == NULL)
		fail_msg("no echo_stopped line in %s", e->log);
	json_t *v = json_object_get(found, key);
	assert_true(json_is_integer(v));
	int64_t n = (int64_t)json_integer_value(v);
	json_decref(found);
	return n;
}

/* ---- ISO 8583 messages ------------------------------------------------------- */

static const iso8583_dialect_t *ascii(void)
{
	const iso8583_dialect_t *d = iso8583_dialect_builtin("ascii");
	assert_non_null(d);
	return d;
}

/* A 0200 debit (or with proc, any processing code) of STAN stan. */
static void send_0200(int fd, uint32_t stan, const char *proc)
{
	txn_t t;
	txn_init(&t, TXN_KIND_PURCHASE);
	t.currency = TXN_CURRENCY_CNY;
	t.amount = 100;
	ps_strlcpy(t.acquirer, "12345678", sizeof(t.acquirer));
	ps_strlcpy(t.payer, "6222020000000001", sizeof(t.payer));
	txn_set_leg(&t, 0, TXN_KIND_PURCHASE, t.payer);
	t.leg[0].stan = stan;
	ps_strlcpy(t.leg[0].transmit, TRANSMIT, sizeof(t.leg[0].transmit));
	iso8583_msg_t msg;
	assert_int_equal(txn_leg_to_iso(&t, 0, ascii(), &msg), 0);
	if (proc != NULL)
		assert_int_equal(iso8583_set(&msg, 3, proc, 6), 0);
	ts_iso_send(fd, &msg);
}

static void send_0800(int fd, uint32_t stan)
{
	char s[7];
	snprintf(s, sizeof(s), "%06u", (unsigned)stan);
	iso8583_msg_t msg;
	iso8583_msg_init(&msg, ascii());
	assert_int_equal(iso8583_set_mti(&msg, "0800"), 0);
	assert_int_equal(iso8583_set(&msg, 7, TRANSMIT, 10), 0);
	assert_int_equal(iso8583_set(&msg, 11, s, 6), 0);
	assert_int_equal(iso8583_set(&msg, 70, "301", 3), 0);
	ts_iso_send(fd, &msg);
}

typedef struct answer {
	char mti[5];
	uint32_t stan;
	char code[3];
} answer_t;

static bool recv_answer(int fd, answer_t *a, int timeout_ms)
{
	uint8_t buf[4096];
	iso8583_msg_t msg;
	if (!ts_iso_recv(fd, ascii(), &msg, buf, sizeof(buf), timeout_ms))
		return false;
	memset(a, 0, sizeof(*a));
	memcpy(a->mti, msg.mti, 4);
	uint64_t stan = 0;
	assert_int_equal(iso8583_get_u64(&msg, 11, &stan), 0);
	a->stan = (uint32_t)stan;
	assert_int_equal(iso8583_get_text(&msg, 39, a->code, sizeof(a->code), NULL), 0);
	return true;
}

/* Sends a 0200 and expects its answer with code. */
static void call_0200(int fd, uint32_t stan, const char *code)
{
	send_0200(fd, stan, NULL);
	answer_t a;
	if (!recv_answer(fd, &a, WAIT_MS))
		fail_msg("no answer to STAN %u", stan);
	assert_string_equal(a.mti, "0210");
	assert_int_equal(a.stan, stan);
	assert_string_equal(a.code, code);
}

/* ---- answers ------------------------------------------------------------------ */

/* Both kinds of message, many in flight on two connections, every answer
 * 00 and matched by its STAN; a processing code the adapter does not take
 * is answered with its own code (12), not 00. */
static void test_iso8583_echo(void **state)
{
	(void)state;
	echo_proc_t *e = echo_start(NULL);
	int a = ts_connect(e->port, WAIT_MS), b = ts_connect(e->port, WAIT_MS);
	send_0800(a, 1);
	answer_t r;
	assert_true(recv_answer(a, &r, WAIT_MS));
	assert_string_equal(r.mti, "0810");
	assert_string_equal(r.code, "00");
	enum { N = 200 };
	static bool seen[2][N];
	memset(seen, 0, sizeof(seen));
	for (uint32_t i = 0; i < N; i++) {
		send_0200(a, 1000 + i, NULL);
		send_0200(b, 1000 + i, NULL);
	}
	for (uint32_t i = 0; i < 2 * N; i++) {
		int fd = i % 2 ? b : a;
		assert_true(recv_answer(fd, &r, WAIT_MS));
		assert_true(r.stan >= 1000 && r.stan < 1000 + N);
		assert_false(seen[i % 2][r.stan - 1000]);
		seen[i % 2][r.stan - 1000] = true;
		assert_string_equal(r.code, "00");
	}
	send_0200(a, 7, "010000");
	assert_true(recv_answer(a, &r, WAIT_MS));
	assert_int_equal(r.stan, 7);
	assert_string_equal(r.code, "12");
	assert_int_equal(log_count(e, "\"event\":\"refused\""), 1);
	close(a);
	close(b);
	assert_int_equal(echo_stop(e), 0);
	assert_int_equal(stopped(e, "requests"), 2 * N + 2);
	assert_int_equal(stopped(e, "answers"), 2 * N + 2);
	assert_int_equal(stopped(e, "drains"), 1);
	assert_int_equal(stopped(e, "finishes"), 1);
	assert_int_equal(stopped(e, "run"), 0);
	echo_finish(e);
}

static const char *code_of(json_t *a)
{
	const char *c = json_string_value(json_object_get(a, "code"));
	return c ? c : "";
}

/* JSON lines: hello, echo, a purchase; a line that is not JSON is
 * dropped (no id to answer to), one with an id but a decimal amount is
 * refused at intake and answered with the adapter's code (13); a line over the bound closes its connection, and only
 * its. */
static void test_json_echo(void **state)
{
	(void)state;
	const char *extra[] = {"--protocol", "json", NULL};
	echo_proc_t *e = echo_start(extra);
	int fd = ts_connect(e->port, WAIT_MS), other = ts_connect(e->port, WAIT_MS);
	json_t *a = ts_json_call(fd, "{\"op\":\"hello\",\"id\":\"1125103000000001\","
				     "\"participant\":\"99990000\"}", WAIT_MS);
	assert_non_null(a);
	assert_string_equal(json_string_value(json_object_get(a, "status")), "ok");
	json_decref(a);
	a = ts_json_call(fd, "{\"op\":\"echo\",\"id\":\"1125103000000002\"}", WAIT_MS);
	assert_non_null(a);
	assert_string_equal(code_of(a), "00");
	json_decref(a);
	a = ts_json_call(fd, "{\"op\":\"purchase\",\"id\":\"1125103000000003\","
			     "\"account\":\"6222020000000001\",\"amount\":12850,"
			     "\"currency\":\"CNY\"}", WAIT_MS);
	assert_non_null(a);
	assert_string_equal(code_of(a), "00");
	assert_string_equal(json_string_value(json_object_get(a, "status")), "approved");
	json_decref(a);
	ts_send_line(fd, "garbage");
	a = ts_json_call(fd, "{\"op\":\"purchase\",\"id\":\"1125103000000004\","
			     "\"account\":\"6222020000000001\",\"amount\":1.5,"
			     "\"currency\":\"CNY\"}", WAIT_MS);
	assert_non_null(a);
	assert_string_equal(code_of(a), "30"); /* a decimal amount */
	json_decref(a);
	assert_int_equal(log_count(e, "\"event\":\"bad_message\""), 1);

	/* A line over TXN_JSON_LINE_MAX, with no end. */
	static char big[TXN_JSON_LINE_MAX + 100];
	memset(big, 'x', sizeof(big));
	ts_send_all(fd, big, sizeof(big));
	assert_true(ts_wait_closed(fd, WAIT_MS));
	close(fd);
	a = ts_json_call(other, "{\"op\":\"echo\",\"id\":\"1125103000000005\"}", WAIT_MS);
	assert_non_null(a);
	assert_string_equal(code_of(a), "00");
	json_decref(a);
	close(other);
	assert_int_equal(echo_stop(e), 0);
	assert_int_equal(stopped(e, "format_errors"), 1);
	echo_finish(e);
}

/* ---- bounds ------------------------------------------------------------------- */

/* connections_max 2: a third connection is accepted and closed at once,
 * the two go on, and a place freed is taken by the next. */
static void test_connections_max(void **state)
{
	(void)state;
	const char *extra[] = {"--connections-max", "2", NULL};
	echo_proc_t *e = echo_start(extra);
	int a = ts_connect(e->port, WAIT_MS), b = ts_connect(e->port, WAIT_MS);
	call_0200(a, 1, "00");
	call_0200(b, 2, "00");
	int c = ts_connect(e->port, WAIT_MS);
	assert_true(ts_wait_closed(c, WAIT_MS));
	close(c);
	call_0200(a, 3, "00");
	close(b);
	/* b's close is seen by the server a little later: retry until the
	 * place is free. */
	uint64_t end = ts_now_ms() + WAIT_MS;
	bool served = false;
	while (!served && ts_now_ms() < end) {
		c = ts_connect(e->port, WAIT_MS);
		send_0200(c, 4, NULL);
		answer_t r;
		served = recv_answer(c, &r, 300);
		close(c);
	}
	assert_true(served);
	close(a);
	assert_true(log_count(e, "\"event\":\"conn_refused\"") >= 1);
	assert_int_equal(echo_stop(e), 0);
	assert_true(stopped(e, "conns_refused") >= 1);
	echo_finish(e);
}

/* Bounds of 2 per connection and 3 in all, answers held 30 ms: 40
 * requests pipelined on each of two connections are all answered 00,
 * no connection is closed, and no turn ever saw more than the pool. */
static void test_inflight_backpressure_never_refuses(void **state)
{
	(void)state;
	const char *extra[] = {"--inflight-per-conn-max", "2", "--inflight-max",
			       "3", "--latency-ms", "30", NULL};
	echo_proc_t *e = echo_start(extra);
	int fds[2] = {ts_connect(e->port, WAIT_MS), ts_connect(e->port, WAIT_MS)};
	enum { N = 40 };
	for (uint32_t i = 0; i < N; i++)
		for (int k = 0; k < 2; k++)
			send_0200(fds[k], 100 + i, NULL);
	for (int k = 0; k < 2; k++) {
		for (uint32_t i = 0; i < N; i++) {
			answer_t r;
			assert_true(recv_answer(fds[k], &r, WAIT_MS));
			assert_string_equal(r.code, "00");
		}
		close(fds[k]);
	}
	assert_int_equal(echo_stop(e), 0);
	assert_int_equal(stopped(e, "answers"), 2 * N);
	assert_true(stopped(e, "turn_max") <= 3);
	assert_int_equal(log_count(e, "\"reason\":\"framing error\""), 0);
	assert_int_equal(log_count(e, "\"event\":\"conn_refused\""), 0);
	echo_finish(e);
}

/* A length header over --frame-bytes-max closes that connection; the
 * other, and a message without the keys an answer needs (dropped), do
 * not disturb anything else. */
static void test_framing_error_closes_only_its_connection(void **state)
{
	(void)state;
	const char *extra[] = {"--frame-bytes-max", "1024", NULL};
	echo_proc_t *e = echo_start(extra);
	int bad = ts_connect(e->port, WAIT_MS), good = ts_connect(e->port, WAIT_MS);
	call_0200(bad, 1, "00");
	ts_send_all(bad, "\xff\xff", 2);
	assert_true(ts_wait_closed(bad, WAIT_MS));
	close(bad);
	/* No field 11 or 7: nothing to match an answer to. */
	iso8583_msg_t msg;
	iso8583_msg_init(&msg, ascii());
	iso8583_set_mti(&msg, "0200");
	iso8583_set_str(&msg, 3, "000000");
	ts_iso_send(good, &msg);
	iso8583_set_mti(&msg, "0210"); /* an answer, not a request */
	ts_iso_send(good, &msg);
	call_0200(good, 2, "00");
	close(good);
	assert_int_equal(log_count(e, "\"event\":\"bad_frame\""), 1);
	assert_int_equal(log_count(e, "\"event\":\"bad_message\""), 1);
	assert_int_equal(log_count(e, "\"event\":\"unexpected_response\""), 1);
	assert_int_equal(echo_stop(e), 0);
	assert_int_equal(stopped(e, "format_errors"), 2);
	echo_finish(e);
}

/* ---- what the turn says ---------------------------------------------------------- */

/* Odd STANs wait one turn (their work area remembers), STAN 7 is
 * dropped: nine answers, all 00, none for 7, and the connection goes on. */
static void test_defer_and_drop(void **state)
{
	(void)state;
	const char *extra[] = {"--defer-odd", "--drop-stan", "7", NULL};
	echo_proc_t *e = echo_start(extra);
	int fd = ts_connect(e->port, WAIT_MS);
	for (uint32_t stan = 1; stan <= 10; stan++)
		send_0200(fd, stan, NULL);
	bool seen[11] = {false};
	for (int i = 0; i < 9; i++) {
		answer_t r;
		assert_true(recv_answer(fd, &r, WAIT_MS));
		assert_true(r.stan >= 1 && r.stan <= 10 && r.stan != 7);
		assert_false(seen[r.stan]);
		seen[r.stan] = true;
		assert_string_equal(r.code, "00");
	}
	answer_t r;
	assert_false(recv_answer(fd, &r, 300));
	call_0200(fd, 20, "00");
	close(fd);
	assert_int_equal(echo_stop(e), 0);
	assert_int_equal(stopped(e, "deferred"), 4); /* 1, 3, 5, 9 */
	assert_int_equal(stopped(e, "dropped"), 1);
	echo_finish(e);
}

/* Kept requests (SIM_KEEP) are answered later by the simulator's own
 * timer, and the connection is read meanwhile. */
static void test_kept_answered_later(void **state)
{
	(void)state;
	const char *extra[] = {"--hold-ms", "200", NULL};
	echo_proc_t *e = echo_start(extra);
	int fd = ts_connect(e->port, WAIT_MS);
	uint64_t t0 = ts_now_ms();
	for (uint32_t stan = 1; stan <= 5; stan++)
		send_0200(fd, stan, NULL);
	for (int i = 0; i < 5; i++) {
		answer_t r;
		assert_true(recv_answer(fd, &r, WAIT_MS));
		assert_string_equal(r.code, "00");
	}
	assert_true(ts_now_ms() - t0 >= 190);
	close(fd);
	assert_int_equal(echo_stop(e), 0);
	echo_finish(e);
}

/* The fate: a close rate of 1 closes the connection instead of
 * answering a 0200, but network management is never faulted. */
static void test_fault_close(void **state)
{
	(void)state;
	const char *extra[] = {"--fault-close-rate", "1", NULL};
	echo_proc_t *e = echo_start(extra);
	int fd = ts_connect(e->port, WAIT_MS);
	send_0800(fd, 1);
	answer_t r;
	assert_true(recv_answer(fd, &r, WAIT_MS));
	assert_string_equal(r.code, "00");
	send_0200(fd, 2, NULL);
	assert_true(ts_wait_closed(fd, WAIT_MS));
	close(fd);
	assert_int_equal(log_count(e, "closed instead of answering"), 1);
	assert_int_equal(echo_stop(e), 0);
	assert_int_equal(stopped(e, "closed"), 1);
	echo_finish(e);
}

static void test_ticks(void **state)
{
	(void)state;
	const char *extra[] = {"--tick-ms", "20", NULL};
	echo_proc_t *e = echo_start(extra);
	ts_sleep_ms(300);
	assert_int_equal(echo_stop(e), 0);
	assert_true(stopped(e, "ticks") >= 3);
	echo_finish(e);
}

/* ---- the drain ---------------------------------------------------------------------- */

/* Answers held for 3 s leave at once on SIGTERM; nothing more is
 * accepted; the process exits 0 having answered everything it read. */
static void test_drain_sends_held_answers(void **state)
{
	(void)state;
	const char *extra[] = {"--latency-ms", "3000", NULL};
	echo_proc_t *e = echo_start(extra);
	int fd = ts_connect(e->port, WAIT_MS);
	for (uint32_t stan = 1; stan <= 20; stan++)
		send_0200(fd, stan, NULL);
	ts_sleep_ms(200);
	uint64_t t0 = ts_now_ms();
	ts_proc_signal(&e->proc, SIGTERM);
	for (int i = 0; i < 20; i++) {
		answer_t r;
		assert_true(recv_answer(fd, &r, 2000));
		assert_string_equal(r.code, "00");
	}
	assert_true(ts_now_ms() - t0 < 2000);
	assert_true(ts_wait_closed(fd, WAIT_MS));
	close(fd);
	assert_true(ts_proc_wait(&e->proc, WAIT_MS));
	e->running = false;
	assert_int_equal(ts_proc_exit_code(&e->proc), 0);
	assert_int_equal(ts_try_connect(e->port), -1);
	assert_int_equal(stopped(e, "requests"), 20);
	assert_int_equal(stopped(e, "answers"), 20);
	assert_int_equal(log_count(e, "\"event\":\"signal\""), 1);
	echo_finish(e);
}

/* The drain waits for what the simulator keeps (answered by its timer
 * 300 ms after it was read), or, with --answer-on-drain, its drain hook
 * answers at once. */
static void test_drain_waits_for_kept(void **state)
{
	(void)state;
	for (int on_drain = 0; on_drain < 2; on_drain++) {
		const char *waits[] = {"--hold-ms", "300", NULL};
		const char *hook[] = {"--hold-ms", "60000", "--answer-on-drain", NULL};
		echo_proc_t *e = echo_start(on_drain ? hook : waits);
		int fd = ts_connect(e->port, WAIT_MS);
		send_0200(fd, 1, NULL);
		ts_sleep_ms(50);
		ts_proc_signal(&e->proc, SIGTERM);
		answer_t r;
		assert_true(recv_answer(fd, &r, 2000));
		assert_int_equal(r.stan, 1);
		assert_string_equal(r.code, "00");
		close(fd);
		assert_true(ts_proc_wait(&e->proc, WAIT_MS));
		e->running = false;
		assert_int_equal(ts_proc_exit_code(&e->proc), 0);
		assert_int_equal(stopped(e, "answers"), 1);
		echo_finish(e);
	}
}

/* Kept for a minute: the drain ends at its deadline (exit 4 here: the
 * run said PS_ETIMEDOUT), unanswered; a second signal ends it at once;
 * a storm of them while it finishes leaves its exit 0. */
static void test_drain_deadline_and_second_signal(void **state)
{
	(void)state;
	const char *extra[] = {"--hold-ms", "60000", "--drain-ms", "300", NULL};
	echo_proc_t *e = echo_start(extra);
	int fd = ts_connect(e->port, WAIT_MS);
	send_0200(fd, 1, NULL);
	ts_sleep_ms(50);
	uint64_t t0 = ts_now_ms();
	ts_proc_signal(&e->proc, SIGTERM);
	assert_true(ts_wait_closed(fd, WAIT_MS));
	close(fd);
	assert_true(ts_proc_wait(&e->proc, WAIT_MS));
	e->running = false;
	assert_true(ts_now_ms() - t0 >= 250);
	assert_int_equal(ts_proc_exit_code(&e->proc), 4);
	assert_int_equal(log_count(e, "\"event\":\"drain_timeout\""), 1);
	assert_int_equal(stopped(e, "answers"), 0);
	assert_int_equal(stopped(e, "finishes"), 1);
	echo_finish(e);

	const char *slow[] = {"--hold-ms", "60000", NULL}; /* drain 3 s */
	e = echo_start(slow);
	fd = ts_connect(e->port, WAIT_MS);
	send_0200(fd, 1, NULL);
	ts_sleep_ms(50);
	t0 = ts_now_ms();
	ts_proc_signal(&e->proc, SIGTERM);
	ts_sleep_ms(100);
	ts_proc_signal(&e->proc, SIGTERM);
	assert_true(ts_proc_wait(&e->proc, WAIT_MS));
	e->running = false;
	assert_true(ts_now_ms() - t0 < 2000);
	assert_int_equal(ts_proc_exit_code(&e->proc), 0);
	assert_int_equal(log_count(e, "\"event\":\"drain_timeout\""), 0);
	close(fd);
	echo_finish(e);

	/* A Ctrl-C, then SIGTERM after SIGTERM until it is gone: the ones
	 * that come while it finishes (its handlers closed) change nothing,
	 * and the exit stays 0. */
	e = echo_start(NULL);
	ts_proc_signal(&e->proc, SIGINT);
	uint64_t end = ts_now_ms() + WAIT_MS;
	while (ts_now_ms() < end && kill(e->proc.pid, SIGTERM) == 0) {
		if (waitpid(e->proc.pid, &e->proc.status, WNOHANG) == e->proc.pid) {
			e->proc.exited = true;
			break;
		}
		usleep(200);
	}
	assert_true(ts_proc_wait(&e->proc, WAIT_MS));
	e->running = false;
	assert_int_equal(ts_proc_exit_code(&e->proc), 0);
	echo_finish(e);
}

/* ---- start-up ----------------------------------------------------------------------- */

/* The ready file names the process, its port and its name, and appears
 * whole (no .tmp left); a port taken and a ready file that cannot be
 * written are start-up failures (exit 3) that say why. */
static void test_ready_file_and_startup_failures(void **state)
{
	(void)state;
	const char *extra[] = {"--name", "echo \"A\"", NULL};
	echo_proc_t *e = echo_start(extra);
	char text[512];
	FILE *f = fopen(e->ready, "r");
	assert_non_null(f);
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	json_t *r = json_loads(text, 0, NULL);
	assert_non_null(r);
	assert_string_equal(json_string_value(json_object_get(r, "name")), "echo \"A\"");
	json_decref(r);
	char tmp[400];
	snprintf(tmp, sizeof(tmp), "%s.tmp", e->ready);
	struct stat st;
	assert_int_not_equal(stat(tmp, &st), 0);

	char listen[64], out[1024], err[1024];
	snprintf(listen, sizeof(listen), "127.0.0.1:%u", e->port);
	char *taken[] = {SIM_ECHO_BIN, "--listen", listen, NULL};
	assert_int_equal(ts_run(taken, NULL, out, sizeof(out), err, sizeof(err), WAIT_MS), 3);
	assert_non_null(strstr(err, "--listen 127.0.0.1:"));
	char *unwritable[] = {SIM_ECHO_BIN, "--ready-file", "/nonexistent/dir/ready", NULL};
	assert_int_equal(ts_run(unwritable, NULL, out, sizeof(out), err, sizeof(err), WAIT_MS), 3);
	assert_non_null(strstr(err, "cannot write the ready file"));
	char *bad[] = {SIM_ECHO_BIN, "--listen", "nowhere", NULL};
	assert_int_equal(ts_run(bad, NULL, out, sizeof(out), err, sizeof(err), WAIT_MS), 3);
	assert_non_null(strstr(err, "HOST:PORT"));
	echo_finish(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_iso8583_echo),
		cmocka_unit_test(test_json_echo),
		cmocka_unit_test(test_connections_max),
		cmocka_unit_test(test_inflight_backpressure_never_refuses),
		cmocka_unit_test(test_framing_error_closes_only_its_connection),
		cmocka_unit_test(test_defer_and_drop),
		cmocka_unit_test(test_kept_answered_later),
		cmocka_unit_test(test_fault_close),
		cmocka_unit_test(test_ticks),
		cmocka_unit_test(test_drain_sends_held_answers),
		cmocka_unit_test(test_drain_waits_for_kept),
		cmocka_unit_test(test_drain_deadline_and_second_signal),
		cmocka_unit_test(test_ready_file_and_startup_failures),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
