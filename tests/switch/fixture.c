/* fixture.c: two banksim banks and switchd on loopback, for switch tests. */
#include "fixture.h"

#include "core.h"

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

static const char bank_a_accounts[] =
	"{\"accounts\": [\n"
	" {\"account\": \"" A_RICH "\", \"balance\": 100000000},\n"
	" {\"account\": \"" A_POOR "\", \"balance\": 100},\n"
	" {\"account\": \"" A_BLOCKED "\", \"balance\": 100000, \"status\": \"blocked\"},\n"
	" {\"account\": \"" A_CLOSED "\", \"balance\": 100000, \"status\": \"closed\"},\n"
	" {\"account\": \"" A_EXPIRED "\", \"balance\": 100000, \"status\": \"expired\"},\n"
	" {\"account\": \"" A_LIMITED "\", \"balance\": 10000000, \"limit\": 50000},\n"
	" {\"account\": \"" A_DROP "\", \"balance\": 100000, \"fault\": \"drop\"},\n"
	" {\"account\": \"" A_DELAY "\", \"balance\": 100000, \"fault\": \"delay\"},\n"
	" {\"account\": \"" A_SPARE "\", \"balance\": 1000000}\n"
	"]}\n";

static const char bank_b_accounts[] =
	"{\"accounts\": [\n"
	" {\"account\": \"" B_SHOP "\", \"balance\": 0},\n"
	" {\"account\": \"" B_CLOSED "\", \"balance\": 0, \"status\": \"closed\"},\n"
	" {\"account\": \"" B_DROP "\", \"balance\": 0, \"fault\": \"drop\"},\n"
	" {\"account\": \"" B_SHOP2 "\", \"balance\": 0}\n"
	"]}\n";

/* out = dir "/" name, checked: paths in tests are short. */
static void join(char *out, size_t cap, const char *dir, const char *name)
{
	size_t d = strlen(dir), n = strlen(name);
	assert_true(d + 1 + n < cap);
	memmove(out, dir, d);
	out[d] = '/';
	memcpy(out + d + 1, name, n + 1);
}

void fx_init(fx_t *fx, const char *tag)
{
	memset(fx, 0, sizeof(*fx));
	ts_tmpdir(tag, fx->dir, sizeof(fx->dir));
	join(fx->config, sizeof(fx->config), fx->dir, "switchd.json");
	join(fx->ready, sizeof(fx->ready), fx->dir, "switchd.ready");
	join(fx->lmdb, sizeof(fx->lmdb), fx->dir, "switch-lmdb");
	fx->timeout_ms = 600;
	fx->inflight_per_conn_max = 1024;
	fx->connections_max = 64;
	fx->stan = 1;
	fx->psp_fd = -1;
	const char *names[FX_BANKS] = {"bank_a", "bank_b"};
	for (int i = 0; i < FX_BANKS; i++) {
		fx_bank_t *b = &fx->bank[i];
		ps_strlcpy(b->name, names[i], sizeof(b->name));
		join(b->dir, sizeof(b->dir), fx->dir, names[i]);
		join(b->ledger, sizeof(b->ledger), b->dir, "ledger");
		join(b->accounts, sizeof(b->accounts), b->dir, "accounts.json");
		join(b->ready, sizeof(b->ready), b->dir, "ready.json");
	}
}

static void start_bank(fx_t *fx, int i)
{
	fx_bank_t *b = &fx->bank[i];
	assert_true(mkdir(b->dir, 0700) == 0 || access(b->dir, F_OK) == 0);
	ts_write_file(b->accounts, i == 0 ? bank_a_accounts : bank_b_accounts);
	char log[600], delay[32];
	join(log, sizeof(log), b->dir, "banksim.log");
	/* A delayed answer arrives well after the switch gave up on it. */
	snprintf(delay, sizeof(delay), "%d", fx->timeout_ms * 2);
	char *argv[32] = {(char *)ts_bin("banksim"), "--name", b->name,
			  "--ledger", b->ledger, "--accounts", b->accounts,
			  "--ready-file", b->ready, "--institution",
			  i == 0 ? "01020000" : "01030000",
			  "--fault-delay-ms", delay, "--log-level", "warn"};
	int n = 15;
	if (i == 0 && fx->two_phase_a)
		argv[n++] = "--two-phase";
	if (i == 1 && fx->bank_b_json) {
		/* Or JSON lines, as a JSON endpoint (a network) speaks. */
		argv[n++] = "--protocol";
		argv[n++] = "json";
	} else if (i == 1) {
		/* bank B speaks jPOS's binary dialect behind a 4-digit ASCII
		 * length: the switch translates between its channels. */
		argv[n++] = "--dialect";
		argv[n++] = "binary";
		argv[n++] = "--framing";
		argv[n++] = "ascii4";
	}
	for (int k = 0; i == 0 && fx->extra_bank_a_args[k] != NULL; k++)
		argv[n++] = (char *)fx->extra_bank_a_args[k];
	/* A restart listens where the switch's config expects it. */
	char listen[32];
	if (b->port != 0) {
		snprintf(listen, sizeof(listen), "127.0.0.1:%u", b->port);
		argv[n++] = "--listen";
		argv[n++] = listen;
	}
	argv[n] = NULL;
	unlink(b->ready);
	ts_proc_start(&b->proc, log, argv);
	json_t *ready = ts_wait_ready(b->ready, &b->proc, 10000);
	b->port = (uint16_t)json_integer_value(json_object_get(ready, "port"));
	json_decref(ready);
	ledger_options_t opts;
	ledger_options_init(&opts);
	opts.batch_max = 1;
	assert_int_equal(ledger_open(&b->book, b->ledger, &opts), 0);
}

void fx_restart_bank(fx_t *fx, int i)
{
	fx_bank_t *b = &fx->bank[i];
	if (!b->proc.exited)
		ts_proc_kill(&b->proc);
	if (b->book != NULL)
		ledger_close(b->book);
	b->book = NULL;
	start_bank(fx, i);
}

void fx_write_config(fx_t *fx)
{
	char text[8192];
	char psp2[256] = "", retention[64] = "", attempts[64] = "";
	if (fx->attempts_max > 0)
		snprintf(attempts, sizeof(attempts), ", \"attempts_max\": %d",
			 fx->attempts_max);
	const char *bank_b_channel = fx->bank_b_json
		? "\"protocol\": \"json\""
		: "\"dialect\": \"binary\",\n   \"framing\": {\"length\": \"ascii4\"}";
	if (fx->retention_ms > 0)
		snprintf(retention, sizeof(retention), " \"retention_ms\": %llu,\n",
			 (unsigned long long)fx->retention_ms);
	if (fx->second_psp_listener)
		snprintf(psp2, sizeof(psp2),
			 "  {\"name\": \"psp2\", \"address\": \"127.0.0.1:0\", \"protocol\": \"json\",\n"
			 "   \"participant\": \"PSP01\"},\n");
	snprintf(text, sizeof(text),
		 "{\n"
		 " \"institution\": \"99990000\",\n"
		 " \"lmdb\": {\"dir\": \"%s\", \"sync\": %s},\n"
		 " \"log\": {\"level\": \"info\"},\n"
		 " \"control\": \"127.0.0.1:0\",\n"
		 " \"ready_file\": \"%s\",\n"
		 "%s"
		 " \"metrics\": \"127.0.0.1:0\",\n"
		 " \"limits\": {\"inflight_max\": 2000},\n"
		 " \"reversal\": {\"retry_ms\": 100, \"retry_max_ms\": 1000%s},\n"
		 " \"drain_ms\": 5000,\n"
		 " \"test_faults\": %s,\n"
		 "%s"
		 " \"listeners\": [\n"
		 "%s"
		 "  {\"name\": \"psp\", \"address\": \"127.0.0.1:0\", \"protocol\": \"json\",\n"
		 "   \"participant\": \"PSP01\", \"inflight_per_conn_max\": %d,\n"
		 "   \"connections_max\": %d, \"connections_per_peer_max\": %d%s},\n"
		 "  {\"name\": \"acq\", \"address\": \"127.0.0.1:0\", \"protocol\": \"iso8583\",\n"
		 "   \"dialect\": \"ascii\", \"participant\": \"ACQ01\", \"acquirers\": [\"48020000\"],\n"
		 "   \"inflight_per_conn_max\": %d, \"frame_bytes_max\": 2048%s},\n"
		 "  {\"name\": \"nac\", \"address\": \"127.0.0.1:0\", \"protocol\": \"iso8583\",\n"
		 "   \"dialect\": \"binary\", \"participant\": \"ACQ02\", \"acquirers\": [\"48030000\"],\n"
		 "   \"framing\": {\"length\": \"binary2\", \"header_bytes\": 5}}\n"
		 " ],\n"
		 " \"endpoints\": [\n"
		 "  {\"name\": \"bank_a\", \"address\": \"127.0.0.1:%u\", \"dialect\": \"ascii\",\n"
		 "   \"institution\": \"01020000\", \"timeout_ms\": %d, \"echo_interval_ms\": 1000,\n"
		 "   \"reconnect_min_ms\": 20, \"reconnect_max_ms\": 200, \"two_phase\": %s},\n"
		 "  {\"name\": \"bank_b\", \"address\": \"127.0.0.1:%u\", %s,\n"
		 "   \"institution\": \"01030000\", \"timeout_ms\": %d, \"echo_interval_ms\": 1000,\n"
		 "   \"reconnect_min_ms\": 20, \"reconnect_max_ms\": 200}\n"
		 " ]\n"
		 "}\n",
		 fx->lmdb, fx->sync ? "true" : "false", fx->ready,
		 fx->root_extra ? fx->root_extra : "", attempts,
		 fx->test_faults ? "true" : "false", retention, psp2,
		 fx->inflight_per_conn_max,
		 fx->connections_max,
		 fx->connections_per_peer_max ? fx->connections_per_peer_max
					      : fx->connections_max,
		 fx->psp_extra ? fx->psp_extra : "",
		 fx->inflight_per_conn_max, fx->acq_extra ? fx->acq_extra : "",
		 fx->bank[0].port,
		 fx->timeout_ms, fx->two_phase_a ? "true" : "false", fx->bank[1].port,
		 bank_b_channel, fx->timeout_ms);
	ts_write_file(fx->config, text);
}

int fx_switchctl(fx_t *fx, char *out, size_t cap, ...)
{
	char *argv[24] = {(char *)ts_bin("switchctl"), "--lmdb", fx->lmdb};
	int n = 3;
	va_list ap;
	va_start(ap, cap);
	const char *a;
	while ((a = va_arg(ap, const char *)) != NULL && n < 22)
		argv[n++] = (char *)a;
	va_end(ap);
	argv[n] = NULL;
	char err[2048];
	static char sink[4096];
	int rc = ts_run(argv, NULL, out ? out : sink, out ? cap : sizeof(sink),
			err, sizeof(err), 10000);
	if (rc != 0 && rc != 3)
		fprintf(stderr, "switchctl failed (%d): %s\n", rc, err);
	return rc;
}

static bool endpoints_up(fx_t *fx)
{
	json_t *j = ts_control(fx->control, "endpoints");
	bool up = j != NULL;
	size_t i;
	json_t *e;
	json_array_foreach(json_object_get(j, "endpoints"), i, e)
		if (strcmp(fx_str(e, "state"), "up") != 0)
			up = false;
	json_decref(j);
	return up;
}

void fx_start_switchd(fx_t *fx)
{
	char log[600];
	join(log, sizeof(log), fx->dir, "switchd.log");
	unlink(fx->ready);
	char *argv[] = {(char *)ts_bin("switchd"), "--config", fx->config,
			"--ready-file", fx->ready, NULL};
	ts_proc_start(&fx->switchd, log, argv);
	json_t *ready = ts_wait_ready(fx->ready, &fx->switchd, 10000);
	fx->psp = ts_ready_port(ready, "psp");
	fx->acq = ts_ready_port(ready, "acq");
	fx->nac = ts_ready_port(ready, "nac");
	fx->control = (uint16_t)json_integer_value(json_object_get(ready, "control"));
	fx->metrics = (uint16_t)json_integer_value(json_object_get(ready, "metrics"));
	json_decref(ready);
	uint64_t end = ts_now_ms() + 10000;
	while (!endpoints_up(fx)) {
		if (ts_now_ms() > end) {
			ts_proc_dump(&fx->switchd);
			fail_msg("endpoints did not come up");
		}
		ts_sleep_ms(20);
	}
	if (fx->psp_fd >= 0)
		close(fx->psp_fd);
	fx->psp_fd = fx_psp_open(fx);
}

int fx_psp_open(fx_t *fx)
{
	int fd = ts_connect(fx->psp, 5000);
	json_t *hello = ts_json_call(fd, "{\"op\":\"hello\",\"participant\":\"PSP01\"}", 5000);
	assert_non_null(hello);
	assert_string_equal(fx_str(hello, "status"), "ok");
	json_decref(hello);
	return fd;
}

void fx_start(fx_t *fx)
{
	for (int i = 0; i < FX_BANKS; i++)
		start_bank(fx, i);
	fx_write_config(fx);
	assert_int_equal(fx_switchctl(fx, NULL, 0, "routes", "add", "--prefix", "622202",
				      "--endpoint", "bank_a", "--institution", "01020000",
				      NULL), 0);
	assert_int_equal(fx_switchctl(fx, NULL, 0, "routes", "add", "--prefix", "621700",
				      "--endpoint", "bank_b", "--institution", "01030000",
				      NULL), 0);
	fx_start_switchd(fx);
}

void fx_stop(fx_t *fx)
{
	if (fx->psp_fd >= 0)
		close(fx->psp_fd);
	fx->psp_fd = -1;
	if (fx->switchd.pid > 0 && !fx->switchd.exited) {
		ts_proc_signal(&fx->switchd, SIGTERM);
		if (!ts_proc_wait(&fx->switchd, 10000) ||
		    ts_proc_exit_code(&fx->switchd) != 0) {
			ts_proc_dump(&fx->switchd);
			ts_proc_kill(&fx->switchd);
			fail_msg("switchd did not drain and exit 0 on SIGTERM");
		}
	}
	for (int i = 0; i < FX_BANKS; i++) {
		fx_bank_t *b = &fx->bank[i];
		if (b->book != NULL) {
			ledger_check_report_t report;
			assert_int_equal(ledger_check(b->book, &report), 0);
			if (!report.ok)
				fail_msg("%s's book is unsound: %s", b->name,
					 report.first_problem);
			ledger_close(b->book);
			b->book = NULL;
		}
		ts_proc_signal(&b->proc, SIGTERM);
		if (!ts_proc_wait(&b->proc, 10000))
			ts_proc_kill(&b->proc);
	}
	ts_rmrf(fx->dir);
}

ledger_account_t fx_account(fx_t *fx, int bank, const char *account)
{
	char text[32];
	snprintf(text, sizeof(text), "1%s", account);
	ledger_id_t id;
	assert_int_equal(ledger_id_parse(text, strlen(text), &id), 0);
	ledger_account_t a;
	memset(&a, 0, sizeof(a));
	assert_int_equal(ledger_account_get(fx->bank[bank].book, id, &a), 0);
	return a;
}

int64_t fx_balance(fx_t *fx, int bank, const char *account)
{
	ledger_account_t a = fx_account(fx, bank, account);
	return (int64_t)a.credits_posted - (int64_t)a.debits_posted -
	       (int64_t)a.debits_pending;
}

bool fx_wait_balance(fx_t *fx, int bank, const char *account, int64_t want,
		     int timeout_ms)
{
	uint64_t end = ts_now_ms() + (uint64_t)timeout_ms;
	int64_t got;
	while ((got = fx_balance(fx, bank, account)) != want) {
		if (ts_now_ms() > end) {
			fprintf(stderr, "balance of %s at %s: %lld, want %lld\n", account,
				fx->bank[bank].name, (long long)got, (long long)want);
			return false;
		}
		ts_sleep_ms(20);
	}
	return true;
}

const char *fx_str(json_t *j, const char *key)
{
	const char *s = json_string_value(json_object_get(j, key));
	return s ? s : "";
}

json_t *fx_call(fx_t *fx, const char *fmt, ...)
{
	char line[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	json_t *a = ts_json_call(fx->psp_fd, line, 10000);
	if (a == NULL) {
		ts_proc_dump(&fx->switchd);
		fail_msg("no answer to %s", line);
	}
	return a;
}

json_t *fx_pay(fx_t *fx, const char *id, const char *payer, const char *payee,
	       int64_t amount)
{
	return fx_call(fx,
		       "{\"op\":\"pay\",\"id\":\"%s\",\"payer\":{\"account\":\"%s\"},"
		       "\"payee\":{\"account\":\"%s\",\"name\":\"Three Squirrels\"},"
		       "\"amount\":%lld,\"currency\":\"CNY\"}",
		       id, payer, payee, (long long)amount);
}

bool fx_purchase(fx_t *fx, const char *pan, int64_t amount, uint32_t stan,
		 iso8583_msg_t *answer, uint8_t *buf, size_t cap)
{
	const iso8583_dialect_t *d = iso8583_dialect_builtin("ascii");
	iso8583_msg_t m;
	ts_iso_purchase(&m, pan, amount, "1125103000", stan ? stan : fx->stan++,
			"48020000");
	int fd = ts_connect(fx->acq, 5000);
	ts_iso_send(fd, &m);
	bool ok = ts_iso_recv(fd, d, answer, buf, cap, 10000);
	close(fd);
	return ok;
}

const char *fx_field(const iso8583_msg_t *msg, int n)
{
	static char text[8][256];
	static int next;
	char *out = text[next++ % 8];
	out[0] = '\0';
	if (iso8583_has(msg, n))
		iso8583_get_text(msg, n, out, 256, NULL);
	return out;
}

bool fx_control_ok(fx_t *fx, const char *json)
{
	int fd = ts_connect(fx->control, 5000);
	ts_send_line(fd, json);
	char line[4096];
	bool ok = ts_recv_line(fd, line, sizeof(line), 5000);
	close(fd);
	if (!ok)
		return false;
	json_error_t jerr;
	json_t *j = json_loads(line, 0, &jerr);
	ok = j != NULL && json_is_true(json_object_get(j, "ok"));
	json_decref(j);
	return ok;
}

int64_t fx_stat(fx_t *fx, const char *cmd, const char *key)
{
	json_t *j = ts_control(fx->control, cmd);
	int64_t v = j ? (int64_t)json_integer_value(json_object_get(j, key)) : -1;
	json_decref(j);
	return v;
}

bool fx_wait_saf_empty(fx_t *fx, int timeout_ms)
{
	uint64_t end = ts_now_ms() + (uint64_t)timeout_ms;
	while (fx_stat(fx, "status", "saf_entries") != 0) {
		if (ts_now_ms() > end)
			return false;
		ts_sleep_ms(20);
	}
	return true;
}
