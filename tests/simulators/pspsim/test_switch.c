/*
 * test_switch.c: pspsim behind the real switchd, with two banksim banks
 * that generate their accounts (bank A: 622202..., bank B: 621700...),
 * pspsim generating the same numbers, all on loopback ports the kernel
 * picked.
 *
 * Load mode for a short count over several connections: the JSON report
 * says every request was answered exactly once, pays and refunds were
 * approved, every duplicate got its original's txn, every query agreed.
 * And the books agree with it: money only moved between customers (the
 * sum of their balances over both banks is what they opened with, so no
 * duplicate debited twice and no refund paid more than its pay), and each
 * bank's ledger checks sound. Script mode signs on by itself; without the
 * hello the switch answers 63; a hello as another participant is refused.
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
#include <unistd.h>

#include <jansson.h>

#include "psp_test.h"
#include "support.h"

#define WAIT_MS 10000
#define RUN_MS 60000
#define ACCOUNTS "200"
#define BALANCE 100000000ll /* 1,000,000.00 each: no pay meets a 51 */

typedef struct bank {
	char dir[400], ledger[420], ready[420], log[420];
	ts_proc_t proc;
	uint16_t port;
} bank_t;

typedef struct chain {
	char dir[256];
	bank_t a, b;
	ts_proc_t switchd;
	uint16_t psp;
} chain_t;

static char out[1 << 16], err[1 << 16];

static void start_bank(chain_t *c, bank_t *b, const char *name, const char *prefix,
		       const char *institution)
{
	snprintf(b->dir, sizeof(b->dir), "%s/%s", c->dir, name);
	assert_int_equal(mkdir(b->dir, 0700), 0);
	snprintf(b->ledger, sizeof(b->ledger), "%s/ledger", b->dir);
	snprintf(b->ready, sizeof(b->ready), "%s/ready.json", b->dir);
	snprintf(b->log, sizeof(b->log), "%s/banksim.log", b->dir);
	char balance[32];
	snprintf(balance, sizeof(balance), "%lld", BALANCE);
	char *argv[] = {(char *)ts_bin("banksim"), "--name", (char *)name, "--ledger",
			b->ledger, "--generate", ACCOUNTS, "--prefix", (char *)prefix,
			"--balance", balance, "--institution", (char *)institution,
			"--ready-file", b->ready, "--log-level", "warn", NULL};
	ts_proc_start(&b->proc, b->log, argv);
	json_t *r = ts_wait_ready(b->ready, &b->proc, WAIT_MS);
	b->port = (uint16_t)json_integer_value(json_object_get(r, "port"));
	json_decref(r);
	assert_true(b->port > 0);
}

static void route(chain_t *c, const char *prefix, const char *endpoint)
{
	char lmdb[300];
	snprintf(lmdb, sizeof(lmdb), "%s/swdb", c->dir);
	char *argv[] = {(char *)ts_bin("switchctl"), "--lmdb", lmdb, "routes", "add",
			"--prefix", (char *)prefix, "--endpoint", (char *)endpoint, NULL};
	if (ts_run(argv, NULL, out, sizeof(out), err, sizeof(err), WAIT_MS) != 0)
		fail_msg("switchctl: %s", err);
}

/* One pay from bank A to bank B, repeated (new ids) until both links are
 * up and it is approved: the chain is ready. It is a real pay, counted in
 * the books like the others. */
static void wait_chain(chain_t *c)
{
	int fd = ts_connect(c->psp, WAIT_MS);
	json_t *h = ts_json_call(fd, "{\"op\":\"hello\",\"participant\":\"PSP01\"}", WAIT_MS);
	assert_non_null(h);
	json_decref(h);
	uint64_t end = ts_now_ms() + WAIT_MS;
	char last[512] = "none";
	for (int i = 1; ts_now_ms() < end; i++) {
		char line[300];
		snprintf(line, sizeof(line), "{\"op\":\"pay\",\"id\":\"WARM-%d\",\"payer\":"
			 "{\"account\":\"6222020000000000\"},\"payee\":{\"account\":"
			 "\"6217000000000000\"},\"amount\":1,\"currency\":\"CNY\"}", i);
		json_t *a = ts_json_call(fd, line, WAIT_MS);
		const char *code = json_string_value(json_object_get(a, "code"));
		bool ok = code != NULL && strcmp(code, "00") == 0;
		if (a != NULL) {
			char *text = json_dumps(a, JSON_COMPACT);
			snprintf(last, sizeof(last), "%s", text);
			free(text);
		}
		json_decref(a);
		if (ok) {
			close(fd);
			return;
		}
		ts_sleep_ms(50);
	}
	fail_msg("the chain never approved a pay; the last answer: %s", last);
}

static int setup(void **state)
{
	chain_t *c = calloc(1, sizeof(*c));
	ts_tmpdir("pspsim-chain", c->dir, sizeof(c->dir));
	start_bank(c, &c->a, "bankA", "622202", "01020000");
	start_bank(c, &c->b, "bankB", "621700", "01030000");
	char config[300], ready[300], log[300], text[2048];
	snprintf(config, sizeof(config), "%s/switchd.json", c->dir);
	snprintf(ready, sizeof(ready), "%s/switchd.ready", c->dir);
	snprintf(log, sizeof(log), "%s/switchd.log", c->dir);
	snprintf(text, sizeof(text),
		 "{\"institution\": \"99990000\","
		 " \"lmdb\": {\"dir\": \"%s/swdb\", \"sync\": false},"
		 " \"log\": {\"level\": \"warn\"},"
		 " \"listeners\": [{\"name\": \"psp\", \"address\": \"127.0.0.1:0\","
		 "   \"protocol\": \"json\", \"participant\": \"PSP01\"}],"
		 " \"endpoints\": ["
		 "  {\"name\": \"bankA\", \"address\": \"127.0.0.1:%u\", \"timeout_ms\": 5000,"
		 "   \"institution\": \"01020000\","
		 "   \"reconnect_min_ms\": 20, \"reconnect_max_ms\": 200},"
		 "  {\"name\": \"bankB\", \"address\": \"127.0.0.1:%u\", \"timeout_ms\": 5000,"
		 "   \"institution\": \"01030000\","
		 "   \"reconnect_min_ms\": 20, \"reconnect_max_ms\": 200}]}",
		 c->dir, c->a.port, c->b.port);
	ts_write_file(config, text);
	route(c, "622202", "bankA");
	route(c, "621700", "bankB");
	char *argv[] = {(char *)ts_bin("switchd"), "--config", config, "--ready-file", ready,
			NULL};
	ts_proc_start(&c->switchd, log, argv);
	json_t *r = ts_wait_ready(ready, &c->switchd, WAIT_MS);
	c->psp = ts_ready_port(r, "psp");
	json_decref(r);
	wait_chain(c);
	*state = c;
	return 0;
}

static void stop(ts_proc_t *p)
{
	ts_proc_signal(p, SIGTERM);
	if (!ts_proc_wait(p, WAIT_MS) || ts_proc_exit_code(p) != 0) {
		ts_proc_dump(p);
		fail_msg("%s did not exit cleanly", p->name);
	}
}

/* banksim --check-ledger on a stopped bank: exit 0 when sound. */
static void check_ledger(const bank_t *b)
{
	char *argv[] = {(char *)ts_bin("banksim"), "--ledger", (char *)b->ledger,
			"--check-ledger", NULL};
	if (ts_run(argv, NULL, out, sizeof(out), err, sizeof(err), WAIT_MS) != 0)
		fail_msg("%s: ledger check: %s %s", b->dir, out, err);
}

static int teardown(void **state)
{
	chain_t *c = *state;
	stop(&c->switchd);
	stop(&c->a.proc);
	stop(&c->b.proc);
	check_ledger(&c->a);
	check_ledger(&c->b);
	ts_rmrf(c->dir);
	free(c);
	return 0;
}

/* The sum of the posted balances of a bank's customer accounts, and how
 * many there are, read beside the running bank. */
static int64_t customers_total(const bank_t *b, int *count)
{
	static char dump[1 << 20];
	char *argv[] = {(char *)ts_bin("banksim"), "--ledger", (char *)b->ledger,
			"--dump-balances", NULL};
	assert_int_equal(ts_run(argv, NULL, dump, sizeof(dump), err, sizeof(err), WAIT_MS), 0);
	int64_t sum = 0;
	*count = 0;
	for (char *line = strtok(dump, "\n"); line != NULL; line = strtok(NULL, "\n")) {
		json_t *j = json_loads(line, 0, NULL);
		const char *kind = json_string_value(json_object_get(j, "kind"));
		if (kind != NULL && strcmp(kind, "customer") == 0) {
			sum += json_integer_value(json_object_get(j, "posted"));
			(*count)++;
		}
		json_decref(j);
	}
	return sum;
}

static int pspsim(chain_t *c, const char *stdin_text, ...)
{
	va_list ap;
	va_start(ap, stdin_text);
	int rc = pt_run(c->psp, stdin_text, out, sizeof(out), err, sizeof(err), RUN_MS, ap);
	va_end(ap);
	return rc;
}

static int64_t num(json_t *r, const char *obj, const char *key)
{
	json_t *v = obj ? json_object_get(json_object_get(r, obj), key) : json_object_get(r, key);
	if (!json_is_integer(v))
		fail_msg("report has no integer %s.%s: %s", obj ? obj : "", key, out);
	return json_integer_value(v);
}

static void test_load_through_the_switch(void **state)
{
	chain_t *c = *state;
	int rc = pspsim(c, NULL, "--count", "400", "--connections", "4", "--inflight", "8",
			"--mix", "pay=60,refund=20,query=10,duplicate=10",
			"--bank-prefix", "622202", "--bank-prefix", "621700",
			"--accounts-per-bank", ACCOUNTS, "--amount", "100-10000",
			"--seed", "7", "--progress-ms", "0", "--timeout-ms", "20000", "--json",
			NULL);
	json_error_t e;
	json_t *r = json_loads(out, 0, &e);
	if (r == NULL || rc != 0)
		fail_msg("pspsim exit %d: %s\n%s", rc, out, err);
	assert_true(json_is_true(json_object_get(json_object_get(r, "check"), "ok")));
	assert_int_equal(num(r, NULL, "sent"), 400);
	assert_int_equal(num(r, NULL, "answered"), 400);
	assert_int_equal(num(r, "check", "missing"), 0);
	assert_int_equal(num(r, "check", "extra"), 0);
	assert_int_equal(num(r, "check", "unknown"), 0);
	assert_true(num(r, "pays", "approved") > 100);
	assert_true(num(r, "refunds", "approved") > 0);
	assert_true(num(r, "duplicates", "sent") > 0);
	assert_int_equal(num(r, "duplicates", "matched"), num(r, "duplicates", "sent"));
	assert_true(num(r, "queries", "sent") > 0);
	assert_int_equal(num(r, "queries", "mismatched"), 0);
	assert_true(num(r, "latency_us", "p99") > 0);
	/* No refund was refused as more than its pay (13). */
	size_t i;
	json_t *o;
	json_array_foreach(json_object_get(r, "outcomes"), i, o)
		if (strcmp(json_string_value(json_object_get(o, "op")), "refund") == 0)
			assert_string_equal(json_string_value(json_object_get(o, "code")), "00");
	json_decref(r);

	/* Money moved only between customers: both banks' together hold
	 * what they opened with. */
	int na, nb;
	int64_t total = customers_total(&c->a, &na) + customers_total(&c->b, &nb);
	assert_int_equal(na + nb, 2 * atoi(ACCOUNTS));
	assert_int_equal(total, (int64_t)(na + nb) * BALANCE);
}

static void test_script_signs_on(void **state)
{
	chain_t *c = *state;
	const char *script =
		"{\"op\":\"pay\",\"id\":\"SCRIPT-1\",\"payer\":{\"account\":\"6222020000000005\"},"
		"\"payee\":{\"account\":\"6217000000000005\"},\"amount\":12850,\"currency\":\"CNY\"}\n"
		"{\"op\":\"query\",\"id\":\"SCRIPT-2\",\"target\":\"SCRIPT-1\"}\n";
	assert_int_equal(pspsim(c, script, "--json", NULL), 0);
	assert_non_null(strstr(out, "{\"id\":\"SCRIPT-1\",\"status\":\"approved\",\"code\":\"00\""));
	assert_non_null(strstr(out, "\"state\":\"done\""));
	assert_null(strstr(out, "hello"));
	/* Without the hello the switch takes nothing. */
	const char *more =
		"{\"op\":\"query\",\"id\":\"SCRIPT-3\",\"target\":\"SCRIPT-1\"}\n";
	assert_int_equal(pspsim(c, more, "--json", "--no-hello", NULL), 0);
	assert_non_null(strstr(out, "\"code\":\"63\""));
	assert_non_null(strstr(out, "hello first"));
	/* A hello as another participant: refused, and pspsim says so. */
	assert_int_equal(pspsim(c, more, "--participant", "PSP02", NULL), 4);
	assert_non_null(strstr(err, "hello refused: 63"));
	assert_int_equal(pspsim(c, NULL, "--count", "5", "--bank-prefix", "622202,621700",
				"--participant", "PSP02", "--json", "--progress-ms", "0", NULL), 4);
	assert_non_null(strstr(out, "\"hello_refused\":true"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_load_through_the_switch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_script_signs_on, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
