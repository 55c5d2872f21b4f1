/*
 * test_server.c: pbocsim as a process over loopback: port 0 and the
 * ready file, the protocol of docs/clearing.md end to end (settle,
 * batch, balance, fund, members), bad input of every kind answered and
 * never a crash, the bounds, SIGTERM draining what was read (every fund
 * answered is in the book, none unanswered is), SIGKILL and restart
 * keeping batch status, the read-only modes and the exit codes.
 * Every wait is bounded (WAIT_MS).
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

#include "core.h"
#include "support.h"

#define WAIT_MS 5000
#define ARGS_MAX 32

static const char members[] =
	"{\"members\": ["
	" {\"member\":\"01020000\",\"kind\":\"bank\",\"balance\":120000},"
	" {\"member\":\"01030000\",\"kind\":\"bank\",\"balance\":1000000,\"credit_limit\":50000},"
	" {\"member\":\"PSP01\",\"kind\":\"psp\"},"
	" {\"member\":\"99990000\",\"kind\":\"switch\"}]}";

typedef struct pboc_proc {
	char dir[256];
	char ledger[320];
	char members[320];
	char ready[320];
	char log[320];
	ts_proc_t proc;
	bool running;
	uint16_t port;
} pp_t;

static int setup(void **state)
{
	pp_t *p = calloc(1, sizeof(*p));
	ts_tmpdir("pbocsim", p->dir, sizeof(p->dir));
	snprintf(p->ledger, sizeof(p->ledger), "%s/ledger", p->dir);
	snprintf(p->members, sizeof(p->members), "%s/members.json", p->dir);
	snprintf(p->ready, sizeof(p->ready), "%s/ready.json", p->dir);
	snprintf(p->log, sizeof(p->log), "%s/pbocsim.log", p->dir);
	ts_write_file(p->members, members);
	*state = p;
	return 0;
}

static void start(pp_t *p, const char *const *extra)
{
	const char *argv[ARGS_MAX] = {
		ts_bin("pbocsim"), "--ledger", p->ledger, "--members", p->members,
		"--ready-file", p->ready, "--log-level", "debug",
	};
	size_t n = 9;
	for (size_t i = 0; extra != NULL && extra[i] != NULL; i++) {
		assert_true(n + 1 < ARGS_MAX);
		argv[n++] = extra[i];
	}
	argv[n] = NULL;
	unlink(p->ready);
	ts_proc_start(&p->proc, p->log, (char *const *)argv);
	json_t *ready = ts_wait_ready(p->ready, &p->proc, WAIT_MS);
	p->port = (uint16_t)json_integer_value(json_object_get(ready, "port"));
	assert_true(p->port > 0);
	assert_int_equal(json_integer_value(json_object_get(ready, "pid")), p->proc.pid);
	assert_string_equal(json_string_value(json_object_get(ready, "name")), "pbocsim");
	json_decref(ready);
	p->running = true;
}

static void stop(pp_t *p)
{
	ts_proc_signal(&p->proc, SIGTERM);
	if (!ts_proc_wait(&p->proc, WAIT_MS)) {
		ts_proc_dump(&p->proc);
		fail_msg("pbocsim did not exit after SIGTERM");
	}
	if (ts_proc_exit_code(&p->proc) != 0) {
		ts_proc_dump(&p->proc);
		fail_msg("pbocsim exited %d", ts_proc_exit_code(&p->proc));
	}
	p->running = false;
}

/* Runs pbocsim with args to its end; its exit code, stdout into out. */
static int run(const pp_t *p, const char *const *args, char *out, size_t cap,
	       char *err, size_t err_cap)
{
	const char *argv[ARGS_MAX] = {ts_bin("pbocsim")};
	size_t n = 1;
	for (size_t i = 0; args[i] != NULL; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	(void)p;
	return ts_run((char *const *)argv, NULL, out, cap, err, err_cap, WAIT_MS);
}

/* The book is sound, checked beside or after the process. */
static void check_sound(const pp_t *p)
{
	char out[1024], err[1024];
	const char *args[] = {"--ledger", p->ledger, "--check-ledger", NULL};
	int rc = run(p, args, out, sizeof(out), err, sizeof(err));
	if (rc != 0)
		fail_msg("--check-ledger exited %d: %s %s", rc, out, err);
	assert_non_null(strstr(out, "\"ok\":true"));
}

static int teardown(void **state)
{
	pp_t *p = *state;
	if (p->running)
		stop(p);
	check_sound(p);
	ts_rmrf(p->dir);
	free(p);
	return 0;
}

static int log_count(const pp_t *p, const char *text)
{
	FILE *f = fopen(p->log, "r");
	if (f == NULL)
		return 0;
	char line[8192];
	int n = 0;
	while (fgets(line, sizeof(line), f) != NULL)
		n += strstr(line, text) != NULL;
	fclose(f);
	return n;
}

/* ---- calls ------------------------------------------------------------------------ */

static json_t *call(int fd, const char *line)
{
	json_t *a = ts_json_call(fd, line, WAIT_MS);
	if (a == NULL)
		fail_msg("no answer to %s", line);
	return a;
}

static const char *str(json_t *a, const char *key)
{
	const char *s = json_string_value(json_object_get(a, key));
	return s != NULL ? s : "";
}

static int64_t num(json_t *a, const char *key)
{
	return json_integer_value(json_object_get(a, key));
}

/* Sends line, asserts the answer's status (and a reason containing says,
 * when given); returns the answer (the caller's). */
static json_t *expect(int fd, const char *line, const char *status,
		      const char *says)
{
	json_t *a = call(fd, line);
	if (strcmp(str(a, "status"), status) != 0 ||
	    (says != NULL && strstr(str(a, "reason"), says) == NULL)) {
		char *text = json_dumps(a, 0);
		fail_msg("%s\n  answered %s; wanted %s (%s)", line, text, status,
			 says ? says : "");
	}
	return a;
}

static void expect_free(int fd, const char *line, const char *status,
			const char *says)
{
	json_decref(expect(fd, line, status, says));
}

static int64_t balance(int fd, const char *member)
{
	char line[128];
	snprintf(line, sizeof(line),
		 "{\"op\":\"balance\",\"id\":\"bal-%s\",\"member\":\"%s\"}", member,
		 member);
	json_t *a = expect(fd, line, "ok", NULL);
	int64_t b = num(a, "balance");
	json_decref(a);
	return b;
}

#define SETTLE(id, batch, positions)                                           \
	"{\"op\":\"settle\",\"id\":\"" id "\",\"batch\":\"" batch "\","      \
	"\"submitter\":\"99990000\",\"currency\":\"CNY\",\"positions\":["   \
	positions "]}"
#define POS(m, a) "{\"member\":\"" m "\",\"amount\":" #a "}"

/* ---- the protocol ------------------------------------------------------------------ */

static void test_protocol_end_to_end(void **state)
{
	pp_t *p = *state;
	start(p, NULL);
	int fd = ts_connect(p->port, WAIT_MS);
	/* Queued for want of 8500 fen, with the reason the contract shows. */
	json_t *a = expect(fd, SETTLE("S1", "SW99990000-20261203",
				      POS("01020000", -128500) "," POS("01030000", 128500)),
			   "queued", NULL);
	assert_string_equal(str(a, "batch"), "SW99990000-20261203");
	assert_string_equal(str(a, "reason"), "reserve of 01020000 short by 8500 fen "
			    "(balance 120000, credit limit 0)");
	json_decref(a);
	a = expect(fd, "{\"op\":\"batch\",\"id\":\"Q1\",\"batch\":\"SW99990000-20261203\"}",
		   "queued", "short by 8500 fen");
	assert_int_equal(json_array_size(json_object_get(a, "positions")), 2);
	json_decref(a);
	/* The fund releases it. */
	a = expect(fd, "{\"op\":\"fund\",\"id\":\"F1\",\"member\":\"01020000\",\"amount\":500000}",
		   "ok", NULL);
	assert_int_equal(num(a, "balance"), 620000 - 128500);
	assert_int_equal(num(a, "released"), 1);
	json_decref(a);
	a = expect(fd, "{\"op\":\"batch\",\"id\":\"Q2\",\"batch\":\"SW99990000-20261203\"}",
		   "posted", NULL);
	int64_t posted_ms = num(a, "posted_ms");
	assert_true(posted_ms > 0);
	json_decref(a);
	/* Resubmitted: the same answer; other positions: rejected. */
	a = expect(fd, SETTLE("S2", "SW99990000-20261203",
			      POS("01030000", 128500) "," POS("01020000", -128500)),
		   "posted", NULL);
	assert_int_equal(num(a, "posted_ms"), posted_ms);
	json_decref(a);
	expect_free(fd, SETTLE("S3", "SW99990000-20261203",
			       POS("01030000", 1) "," POS("01020000", -1)),
		    "rejected", "batch id reused with other positions");
	expect_free(fd, SETTLE("S4", "X1", POS("01030000", 200) "," POS("01020000", -100)),
		    "rejected", "positions sum to 100, not 0");
	expect_free(fd, SETTLE("S5", "X2", POS("01030000", 1) "," POS("09990000", -1)),
		    "rejected", "09990000 is no member");
	expect_free(fd, "{\"op\":\"batch\",\"id\":\"Q3\",\"batch\":\"never\"}", "unknown", NULL);
	/* Credit: 01030000 may go down to -50000. */
	expect_free(fd, SETTLE("S6", "X3", POS("01030000", -1178500) "," POS("PSP01", 1178500)),
		    "posted", NULL);
	assert_int_equal(balance(fd, "01030000"), -50000);
	a = expect(fd, "{\"op\":\"balance\",\"id\":\"B1\",\"member\":\"01030000\"}", "ok", NULL);
	assert_int_equal(num(a, "credit_limit"), 50000);
	assert_string_equal(str(a, "kind"), "bank");
	json_decref(a);
	expect_free(fd, "{\"op\":\"balance\",\"id\":\"B2\",\"member\":\"NOPE\"}", "rejected",
		    "member: NOPE is no member");
	a = expect(fd, "{\"op\":\"members\",\"id\":\"M1\"}", "ok", NULL);
	json_t *list = json_object_get(a, "members");
	assert_int_equal(json_array_size(list), 4);
	assert_string_equal(str(json_array_get(list, 3), "member"), "PSP01");
	assert_int_equal(num(json_array_get(list, 3), "balance"), 1178500);
	assert_null(json_object_get(a, "next"));
	json_decref(a);
	a = expect(fd, "{\"op\":\"members\",\"id\":\"M2\",\"after\":\"01030000\"}", "ok", NULL);
	assert_int_equal(json_array_size(json_object_get(a, "members")), 2);
	json_decref(a);
	/* Conservation: the reserves sum to what was opened and funded. */
	assert_int_equal(balance(fd, "01020000") + balance(fd, "01030000") +
				 balance(fd, "PSP01") + balance(fd, "99990000"),
			 120000 + 1000000 + 500000);
	close(fd);
	stop(p);
	assert_int_equal(log_count(p, "\"event\":\"batch_posted\""), 2);
	assert_int_equal(log_count(p, "\"event\":\"batch_queued\""), 1);
	assert_int_equal(log_count(p, "\"event\":\"stopped\""), 1);
}

/* ---- bad input -------------------------------------------------------------------- */

static void test_bad_input_is_answered(void **state)
{
	pp_t *p = *state;
	start(p, (const char *const[]){"--positions-max", "2", NULL});
	int fd = ts_connect(p->port, WAIT_MS);
	ts_send_line(fd, "{\"op\":\"settle\",\"id\":\"BAD1\", broken");
	json_t *a = ts_json_wait(fd, "BAD1", WAIT_MS);
	assert_non_null(a);
	assert_string_equal(str(a, "status"), "error");
	assert_non_null(strstr(str(a, "reason"), "request: not JSON"));
	json_decref(a);
	ts_send_line(fd, "garbage without an id");
	a = ts_json_wait(fd, "", WAIT_MS);
	assert_non_null(a);
	assert_string_equal(str(a, "status"), "error");
	assert_null(json_object_get(a, "id"));
	json_decref(a);
	expect_free(fd, "{\"op\":\"frob\",\"id\":\"X1\"}", "error", "op: unknown operation");
	expect_free(fd, "{\"op\":\"fund\",\"id\":\"X2\",\"member\":\"PSP01\",\"amount\":-5}",
		    "error", "amount: must be an integer from 1");
	expect_free(fd, SETTLE("X3", "B", POS("PSP01", 1) "," POS("01020000", -1) ","
				POS("01030000", 0)),
		    "error", "positions: must be an array of at most 2 positions");
	expect_free(fd, SETTLE("X5", "EMPTY", ""), "posted", NULL);
	expect_free(fd, "{\"op\":\"settle\",\"id\":\"X4\",\"batch\":\"B\",\"submitter\":\"99990000\","
			"\"currency\":\"USD\",\"positions\":[]}", "error", "currency: must be \"CNY\"");
	expect_free(fd, "[1,2,3]", "error", "must be a JSON object");
	/* Blank lines are keep-alives; the connection still works. */
	ts_send_line(fd, "");
	assert_int_equal(balance(fd, "PSP01"), 0);
	/* A line over 16 KiB breaks the stream: that connection only. */
	int big = ts_connect(p->port, WAIT_MS);
	static char huge[20000];
	memset(huge, 'x', sizeof(huge));
	ts_send_all(big, huge, sizeof(huge));
	assert_true(ts_wait_closed(big, WAIT_MS));
	close(big);
	assert_int_equal(balance(fd, "PSP01"), 0);
	close(fd);
	stop(p);
	assert_true(log_count(p, "\"event\":\"refused\"") >= 6);
	assert_int_equal(log_count(p, "\"event\":\"bad_frame\""), 1);
}

/* ---- the drain and restarts -------------------------------------------------------- */

/* Funds of 1 fen pipelined, SIGTERM at once: what was answered is in the
 * book and nothing else, and the connection is closed at the end. */
static void test_sigterm_drains_what_was_read(void **state)
{
	pp_t *p = *state;
	start(p, NULL);
	int fd = ts_connect(p->port, WAIT_MS);
	enum { N = 200 };
	for (int i = 0; i < N; i++) {
		char line[128];
		snprintf(line, sizeof(line), "{\"op\":\"fund\",\"id\":\"D%d\","
			 "\"member\":\"PSP01\",\"amount\":1}", i);
		ts_send_line(fd, line);
	}
	ts_sleep_ms(20);
	ts_proc_signal(&p->proc, SIGTERM);
	int ok = 0;
	char line[1024];
	while (ts_recv_line(fd, line, sizeof(line), WAIT_MS)) {
		assert_non_null(strstr(line, "\"status\":\"ok\""));
		ok++;
	}
	assert_true(ts_wait_closed(fd, WAIT_MS));
	close(fd);
	assert_true(ts_proc_wait(&p->proc, WAIT_MS));
	assert_int_equal(ts_proc_exit_code(&p->proc), 0);
	p->running = false;
	assert_true(ok >= 1 && ok <= N);
	start(p, NULL);
	fd = ts_connect(p->port, WAIT_MS);
	assert_int_equal(balance(fd, "PSP01"), ok);
	close(fd);
}

static void test_sigkill_and_restart_keep_batches(void **state)
{
	pp_t *p = *state;
	start(p, NULL);
	int fd = ts_connect(p->port, WAIT_MS);
	expect_free(fd, SETTLE("S1", "P1", POS("01030000", -1000) "," POS("PSP01", 1000)),
		    "posted", NULL);
	expect_free(fd, SETTLE("S2", "Q1", POS("PSP01", -5000) "," POS("01020000", 5000)),
		    "queued", "reserve of PSP01 short by 4000 fen");
	close(fd);
	ts_proc_kill(&p->proc);
	p->running = false;
	check_sound(p);
	start(p, NULL);
	fd = ts_connect(p->port, WAIT_MS);
	expect_free(fd, "{\"op\":\"batch\",\"id\":\"Q1\",\"batch\":\"P1\"}", "posted", NULL);
	expect_free(fd, "{\"op\":\"batch\",\"id\":\"Q2\",\"batch\":\"Q1\"}", "queued",
		    "short by 4000 fen");
	assert_int_equal(balance(fd, "01020000"), 120000); /* no second opening */
	json_t *a = expect(fd, "{\"op\":\"fund\",\"id\":\"F1\",\"member\":\"PSP01\",\"amount\":4000}",
			   "ok", NULL);
	assert_int_equal(num(a, "released"), 1);
	assert_int_equal(num(a, "balance"), 0);
	json_decref(a);
	close(fd);
	stop(p);
}

/* ---- the read-only modes and the exit codes --------------------------------------------- */

static void test_modes_and_exit_codes(void **state)
{
	pp_t *p = *state;
	char out[8192], err[2048];
	const char *none[] = {"--ledger", p->ledger, "--check-ledger", NULL};
	assert_int_equal(run(p, none, out, sizeof(out), err, sizeof(err)), 3);
	assert_non_null(strstr(err, "holds no ledger"));
	start(p, NULL);
	int fd = ts_connect(p->port, WAIT_MS);
	expect_free(fd, SETTLE("S1", "P1", POS("01030000", -1000) "," POS("PSP01", 1000)),
		    "posted", NULL);
	close(fd);
	/* Beside the running process. */
	check_sound(p);
	const char *dump[] = {"--ledger", p->ledger, "--dump-balances", NULL};
	assert_int_equal(run(p, dump, out, sizeof(out), err, sizeof(err)), 0);
	assert_non_null(strstr(out, "\"kind\":\"psp\",\"member\":\"PSP01\""));
	assert_non_null(strstr(out, "\"kind\":\"suspense\""));
	assert_non_null(strstr(out, "\"balance\":1000}"));
	stop(p);
	const char *usage[] = {"--ledger", p->ledger, "--members", p->members,
			       "--shortfall", "maybe", NULL};
	assert_int_equal(run(p, usage, out, sizeof(out), err, sizeof(err)), 2);
	assert_non_null(strstr(err, "--shortfall: must be queue or reject"));
	const char *unknown[] = {"--ledger", p->ledger, "--bogus", NULL};
	assert_int_equal(run(p, unknown, out, sizeof(out), err, sizeof(err)), 2);
	const char *help[] = {"--help", NULL};
	assert_int_equal(run(p, help, out, sizeof(out), err, sizeof(err)), 0);
	assert_non_null(strstr(out, "--members FILE"));
	ts_write_file(p->members, "[{\"member\":\"A1\",\"kind\":\"central\"}]");
	const char *bad[] = {"--ledger", p->ledger, "--members", p->members, NULL};
	assert_int_equal(run(p, bad, out, sizeof(out), err, sizeof(err)), 3);
	assert_non_null(strstr(err, "[0].kind: must be one of"));
	/* A config file works like the command line. */
	char cfg[400];
	snprintf(cfg, sizeof(cfg), "%s/pboc.json", p->dir);
	ts_write_file(cfg, "{\"shortfall\": \"reject\", \"queue_max\": 4}");
	ts_write_file(p->members, members);
	start(p, (const char *const[]){"--config", cfg, NULL});
	fd = ts_connect(p->port, WAIT_MS);
	expect_free(fd, SETTLE("S2", "R1", POS("PSP01", -5000) "," POS("01020000", 5000)),
		    "rejected", "reserve of PSP01 short by 4000 fen");
	close(fd);
	stop(p);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_protocol_end_to_end),
		T(test_bad_input_is_answered),
		T(test_sigterm_drains_what_was_read),
		T(test_sigkill_and_restart_keep_batches),
		T(test_modes_and_exit_codes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
