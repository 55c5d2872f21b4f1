/*
 * test_pspsim.c: the pspsim process against a fake switch that lives in
 * the test (a thread on a loopback port the kernel picked), so a test can
 * see every line pspsim sends and answer as a broken switch would: a
 * hello refused, an answer twice, an answer never, an id nobody sent, a
 * duplicate answered with another txn, a connection closed.
 *
 * Script mode: the hello goes first, once, as --participant; not at all
 * with --no-hello. Load mode: the JSON report counts what the fake did,
 * and the exit code says which check failed (docs/pspsim.md). Every wait
 * is bounded: pspsim runs under ts_run's deadline, the fake polls with a
 * timeout and stops when asked.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <jansson.h>

#include "psp_test.h"
#include "support.h"

#define RUN_MS 20000
#define FAKE_CONNS 16
#define FAKE_IDS 8192
#define FAKE_BUF 65536

typedef struct fake_conn {
	int fd;
	char buf[FAKE_BUF];
	size_t len;
} fake_conn_t;

typedef struct fake {
	int lfd;
	uint16_t port;
	pthread_t thread;
	volatile int stop;
	/* what it does wrong (request numbers count from 1, hellos apart) */
	bool refuse_hello;
	uint64_t drop_nth, double_nth, unknown_nth, close_nth;
	bool change_dup_txn;
	/* what it saw */
	int accepted, hellos;
	char first[4][512]; /* the first lines of the first connection */
	int first_count;
	char hello_participant[80];
	uint64_t requests;
	char id[FAKE_IDS][72];
	uint64_t txn[FAKE_IDS];
	int ids;
	fake_conn_t conn[FAKE_CONNS];
} fake_t;

static void say(int fd, const char *text)
{
	size_t len = strlen(text), off = 0;
	while (off < len) {
		ssize_t n = send(fd, text + off, len - off, MSG_NOSIGNAL);
		if (n <= 0)
			return;
		off += (size_t)n;
	}
}

static int find_id(fake_t *f, const char *id)
{
	for (int i = 0; i < f->ids; i++)
		if (strcmp(f->id[i], id) == 0)
			return i;
	return -1;
}

static void answer_hello(fake_t *f, int fd, json_t *req)
{
	f->hellos++;
	const char *p = json_string_value(json_object_get(req, "participant"));
	snprintf(f->hello_participant, sizeof(f->hello_participant), "%s", p ? p : "");
	char out[256];
	if (f->refuse_hello)
		snprintf(out, sizeof(out), "{\"op\":\"hello\",\"status\":\"declined\",\"code\":"
			 "\"63\",\"reason\":\"participant: not this listener's\"}\n");
	else
		snprintf(out, sizeof(out), "{\"op\":\"hello\",\"status\":\"ok\","
			 "\"participant\":\"%s\"}\n", p ? p : "");
	say(fd, out);
}

/* Answers one request as a switch would (every pay approved), or as
 * this fake was told to get it wrong. False: close the connection. */
static bool answer(fake_t *f, int fd, json_t *req)
{
	const char *op = json_string_value(json_object_get(req, "op"));
	const char *id = json_string_value(json_object_get(req, "id"));
	op = op ? op : "";
	id = id ? id : "";
	if (strcmp(op, "hello") == 0) {
		answer_hello(f, fd, req);
		return true;
	}
	uint64_t n = ++f->requests;
	if (n == f->close_nth)
		return false;
	if (n == f->drop_nth)
		return true;
	char out[1024];
	int seen = find_id(f, id);
	uint64_t txn = n;
	if (seen >= 0)
		txn = f->txn[seen] + (f->change_dup_txn ? 1000000 : 0);
	else if (f->ids < FAKE_IDS) {
		snprintf(f->id[f->ids], sizeof(f->id[0]), "%s", id);
		f->txn[f->ids++] = n;
	}
	if (strcmp(op, "query") == 0) {
		const char *target = json_string_value(json_object_get(req, "target"));
		int t = find_id(f, target ? target : "");
		if (t < 0)
			snprintf(out, sizeof(out), "{\"id\":\"%s\",\"target\":\"%s\",\"status\":"
				 "\"declined\",\"code\":\"25\",\"state\":\"unknown\"}\n", id,
				 target ? target : "");
		else
			snprintf(out, sizeof(out), "{\"id\":\"%s\",\"target\":\"%s\",\"status\":"
				 "\"ok\",\"code\":\"00\",\"state\":\"done\",\"op\":\"pay\","
				 "\"answer\":{\"status\":\"approved\",\"code\":\"00\",\"txn\":"
				 "\"%llu\"}}\n", id, target, (unsigned long long)f->txn[t]);
	} else if (strcmp(op, "echo") == 0) {
		snprintf(out, sizeof(out), "{\"op\":\"echo\",\"id\":\"%s\",\"status\":\"ok\","
			 "\"code\":\"00\"}\n", id);
	} else {
		snprintf(out, sizeof(out), "{\"id\":\"%s\",\"status\":\"approved\",\"code\":"
			 "\"00\",\"txn\":\"%llu\"}\n", id, (unsigned long long)txn);
	}
	say(fd, out);
	if (n == f->double_nth)
		say(fd, out);
	if (n == f->unknown_nth)
		say(fd, "{\"id\":\"nobody-1\",\"status\":\"approved\",\"code\":\"00\"}\n");
	return true;
}

/* Reads what a connection sent; false when it is to be closed. */
static bool serve(fake_t *f, int c)
{
	fake_conn_t *k = &f->conn[c];
	ssize_t n = read(k->fd, k->buf + k->len, sizeof(k->buf) - k->len - 1);
	if (n <= 0)
		return false;
	k->len += (size_t)n;
	char *nl;
	while ((nl = memchr(k->buf, '\n', k->len)) != NULL) {
		*nl = '\0';
		if (c == 0 && f->accepted == 1 && f->first_count < 4)
			snprintf(f->first[f->first_count++], sizeof(f->first[0]), "%.500s",
				 k->buf);
		json_t *req = json_loads(k->buf, 0, NULL);
		bool keep = req == NULL || answer(f, k->fd, req);
		json_decref(req);
		size_t used = (size_t)(nl - k->buf) + 1;
		memmove(k->buf, nl + 1, k->len - used);
		k->len -= used;
		if (!keep)
			return false;
	}
	return true;
}

static void *fake_main(void *arg)
{
	fake_t *f = arg;
	while (!f->stop) {
		struct pollfd pfd[FAKE_CONNS + 1];
		pfd[0] = (struct pollfd){f->lfd, POLLIN, 0};
		for (int i = 0; i < FAKE_CONNS; i++)
			pfd[i + 1] = (struct pollfd){f->conn[i].fd, POLLIN, 0};
		if (poll(pfd, FAKE_CONNS + 1, 20) <= 0)
			continue;
		if (pfd[0].revents & POLLIN) {
			int fd = accept(f->lfd, NULL, NULL);
			int slot = -1;
			for (int i = 0; i < FAKE_CONNS && slot < 0 && fd >= 0; i++)
				if (f->conn[i].fd < 0)
					slot = i;
			if (slot >= 0) {
				f->conn[slot].fd = fd;
				f->conn[slot].len = 0;
				f->accepted++;
			} else if (fd >= 0) {
				close(fd);
			}
		}
		for (int i = 0; i < FAKE_CONNS; i++)
			if (pfd[i + 1].revents != 0 && f->conn[i].fd >= 0 && !serve(f, i)) {
				close(f->conn[i].fd);
				f->conn[i].fd = -1;
			}
	}
	return NULL;
}

static fake_t *fake_new(void)
{
	fake_t *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	for (int i = 0; i < FAKE_CONNS; i++)
		f->conn[i].fd = -1;
	f->lfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(f->lfd >= 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(f->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(f->lfd, 64), 0);
	socklen_t len = sizeof(a);
	getsockname(f->lfd, (struct sockaddr *)&a, &len);
	f->port = ntohs(a.sin_port);
	return f;
}

static void fake_start(fake_t *f)
{
	assert_int_equal(pthread_create(&f->thread, NULL, fake_main, f), 0);
}

/* Stops the fake's thread and closes its connections (what it saw stays
 * to be read); it may be started again. */
static void fake_stop(fake_t *f)
{
	f->stop = 1;
	pthread_join(f->thread, NULL);
	f->stop = 0;
	for (int i = 0; i < FAKE_CONNS; i++)
		if (f->conn[i].fd >= 0) {
			close(f->conn[i].fd);
			f->conn[i].fd = -1;
		}
}

static void fake_free(fake_t *f)
{
	close(f->lfd);
	free(f);
}

/* ---- running pspsim -------------------------------------------------------------- */

static char out[1 << 16], err[1 << 16];

/* pspsim --connect the fake, then args (NULL-terminated); its exit code. */
static int pspsim(fake_t *f, const char *stdin_text, ...)
{
	va_list ap;
	va_start(ap, stdin_text);
	fake_start(f);
	int rc = pt_run(f->port, stdin_text, out, sizeof(out), err, sizeof(err), RUN_MS, ap);
	fake_stop(f);
	va_end(ap);
	return rc;
}

static json_t *report(void)
{
	json_error_t e;
	json_t *r = json_loads(out, 0, &e);
	if (r == NULL)
		fail_msg("not a JSON report (%s): %s\nstderr: %s", e.text, out, err);
	return r;
}

static int64_t num(json_t *r, const char *path)
{
	char key[128];
	snprintf(key, sizeof(key), "%s", path);
	json_t *v = r;
	for (char *part = strtok(key, "."); part != NULL; part = strtok(NULL, "."))
		v = json_object_get(v, part);
	if (!json_is_integer(v))
		fail_msg("report has no integer %s: %s", path, out);
	return json_integer_value(v);
}

static bool flag(json_t *r, const char *obj, const char *key)
{
	return json_is_true(json_object_get(json_object_get(r, obj), key));
}

#define PAY1 "{\"op\":\"pay\",\"id\":\"S-1\",\"payer\":{\"account\":\"6222020000000001\"}," \
	     "\"payee\":{\"account\":\"6217000000000009\"},\"amount\":100,\"currency\":\"CNY\"}\n"
#define QUERY1 "{\"op\":\"query\",\"id\":\"S-2\",\"target\":\"S-1\"}\n"
#define HELLO7 "{\"op\":\"hello\",\"participant\":\"PSP07\"}\n"

/* ---- script mode ---------------------------------------------------------------- */

static void test_script_signs_on_first(void **state)
{
	(void)state;
	fake_t *f = fake_new();
	int rc = pspsim(f, "# a comment\n\n" PAY1 QUERY1, "--json", "--participant", "PSP07",
			NULL);
	assert_int_equal(rc, 0);
	assert_int_equal(f->hellos, 1);
	assert_int_equal(f->first_count, 3);
	assert_string_equal(f->first[0], "{\"op\":\"hello\",\"participant\":\"PSP07\"}");
	assert_non_null(strstr(f->first[1], "\"id\":\"S-1\""));
	/* The answers of the script's two lines, and not pspsim's hello's. */
	assert_null(strstr(out, "hello"));
	assert_non_null(strstr(out, "{\"id\":\"S-1\",\"status\":\"approved\""));
	assert_non_null(strstr(out, "\"state\":\"done\""));
	fake_free(f);
}

static void test_script_hello_not_sent_twice(void **state)
{
	(void)state;
	fake_t *f = fake_new();
	int rc = pspsim(f, HELLO7 PAY1, "--json", NULL);
	assert_int_equal(rc, 0);
	assert_int_equal(f->hellos, 1);
	assert_string_equal(f->hello_participant, "PSP07"); /* the script's */
	/* The script's own hello is answered like any line of it. */
	assert_true(strncmp(out, "{\"op\":\"hello\",\"status\":\"ok\"", 27) == 0);
	assert_non_null(strstr(out, "S-1"));
	fake_free(f);
}

static void test_script_without_hello(void **state)
{
	(void)state;
	fake_t *f = fake_new();
	assert_int_equal(pspsim(f, PAY1, "--no-hello", NULL), 0);
	assert_int_equal(f->hellos, 0);
	assert_non_null(strstr(out, "S-1"));
	assert_non_null(strstr(out, "approved"));
	fake_free(f);
}

static void test_script_hello_refused(void **state)
{
	(void)state;
	fake_t *f = fake_new();
	f->refuse_hello = true;
	assert_int_equal(pspsim(f, PAY1, NULL), 4);
	assert_non_null(strstr(err, "hello refused: 63"));
	assert_int_equal(f->requests, 0); /* nothing after a refused hello */
	fake_free(f);
}

static void test_script_unanswered(void **state)
{
	(void)state;
	fake_t *f = fake_new();
	f->drop_nth = 1;
	assert_int_equal(pspsim(f, PAY1, "--timeout-ms", "200", NULL), 3);
	assert_non_null(strstr(err, "no answer to S-1"));
	fake_free(f);
}

/* ---- load mode -------------------------------------------------------------------- */

#define LOAD_ARGS "--bank-prefix", "622202", "--bank-prefix", "621700", \
		  "--accounts-per-bank", "50", "--progress-ms", "0", "--json"

static void test_load_every_request_answered_once(void **state)
{
	(void)state;
	fake_t *f = fake_new();
	int rc = pspsim(f, NULL, "--count", "600", "--connections", "3", "--inflight", "8",
			"--mix", "pay=50,refund=20,query=10,duplicate=15,echo=5",
			"--id-prefix", "LOAD1", LOAD_ARGS, NULL);
	json_t *r = report();
	if (rc != 0)
		fail_msg("exit %d: %s\n%s", rc, out, err);
	assert_int_equal(f->hellos, 3);
	assert_int_equal(f->accepted, 3);
	assert_int_equal(num(r, "sent"), 600);
	assert_int_equal(num(r, "answered"), 600);
	assert_int_equal(f->requests, 600);
	assert_true(flag(r, "check", "ok"));
	assert_int_equal(num(r, "check.missing") + num(r, "check.extra") +
				 num(r, "check.unknown") + num(r, "check.timed_out"), 0);
	assert_true(num(r, "duplicates.sent") > 0);
	assert_int_equal(num(r, "duplicates.matched"), num(r, "duplicates.sent"));
	assert_true(num(r, "refunds.approved") > 0);
	assert_true(num(r, "queries.done") > 0);
	assert_int_equal(num(r, "queries.mismatched"), 0);
	assert_true(num(r, "sent_by_op.echo") > 0);
	assert_int_equal(num(r, "latency_us.count"), 600);
	assert_true(num(r, "latency_us.p50") <= num(r, "latency_us.p99"));
	assert_true(num(r, "latency_us.p99") <= num(r, "latency_us.max"));
	assert_int_equal(num(r, "exit_code"), 0);
	/* Outcomes add up to the answers. */
	size_t i;
	json_t *o;
	int64_t sum = 0;
	json_array_foreach(json_object_get(r, "outcomes"), i, o)
		sum += json_integer_value(json_object_get(o, "count"));
	assert_int_equal(sum, 600);
	/* The ids were ours: LOAD1-1 ... */
	assert_int_equal(find_id(f, "LOAD1-1") >= 0, 1);
	json_decref(r);
	fake_free(f);
}

static void test_load_second_answer_is_extra(void **state)
{
	(void)state;
	fake_t *f = fake_new();
	f->double_nth = 40;
	int rc = pspsim(f, NULL, "--count", "100", "--mix", "pay=1", LOAD_ARGS, NULL);
	json_t *r = report();
	assert_int_equal(rc, 3);
	assert_int_equal(num(r, "check.extra"), 1);
	assert_false(flag(r, "check", "ok"));
	assert_int_equal(num(r, "exit_code"), 3);
	json_decref(r);
	fake_free(f);
}

static void test_load_missing_answer_times_out(void **state)
{
	(void)state;
	fake_t *f = fake_new();
	f->drop_nth = 7;
	int rc = pspsim(f, NULL, "--count", "50", "--timeout-ms", "300", LOAD_ARGS, NULL);
	json_t *r = report();
	assert_int_equal(rc, 3);
	assert_int_equal(num(r, "check.timed_out"), 1);
	assert_int_equal(num(r, "check.missing"), 1);
	assert_int_equal(num(r, "answered"), 49);
	assert_non_null(strstr(err, "no answer to"));
	json_decref(r);
	fake_free(f);
}

static void test_load_unknown_id(void **state)
{
	(void)state;
	fake_t *f = fake_new();
	f->unknown_nth = 5;
	int rc = pspsim(f, NULL, "--count", "20", LOAD_ARGS, NULL);
	json_t *r = report();
	assert_int_equal(rc, 3);
	assert_int_equal(num(r, "check.unknown"), 1);
	assert_int_equal(num(r, "answered"), 20);
	json_decref(r);
	fake_free(f);
}

static void test_load_duplicate_disagrees(void **state)
{
	(void)state;
	fake_t *f = fake_new();
	f->change_dup_txn = true;
	int rc = pspsim(f, NULL, "--count", "200", "--mix", "pay=50,duplicate=50", LOAD_ARGS,
			NULL);
	json_t *r = report();
	assert_int_equal(rc, 5);
	assert_true(num(r, "duplicates.mismatched") > 0);
	assert_int_equal(num(r, "duplicates.matched"), 0);
	assert_true(flag(r, "check", "ok")); /* answered once each, all the same */
	json_decref(r);
	fake_free(f);
}

static void test_load_hello_refused(void **state)
{
	(void)state;
	fake_t *f = fake_new();
	f->refuse_hello = true;
	int rc = pspsim(f, NULL, "--count", "20", "--connections", "2", LOAD_ARGS, NULL);
	json_t *r = report();
	assert_int_equal(rc, 4);
	assert_true(flag(r, "link", "hello_refused"));
	assert_int_equal(num(r, "sent"), 0);
	assert_int_equal(f->requests, 0);
	json_decref(r);
	fake_free(f);
}

static void test_load_connection_closed(void **state)
{
	(void)state;
	fake_t *f = fake_new();
	f->close_nth = 30;
	int rc = pspsim(f, NULL, "--count", "200", "--connections", "2", "--inflight", "4",
			LOAD_ARGS, NULL);
	json_t *r = report();
	assert_int_equal(rc, 4);
	assert_int_equal(num(r, "link.connections_lost"), 1);
	assert_true(num(r, "check.missing") >= 1);
	/* The other connection carried on to the count. */
	assert_int_equal(num(r, "sent"), 200);
	json_decref(r);
	fake_free(f);
}

static void test_load_rate(void **state)
{
	(void)state;
	fake_t *f = fake_new();
	int rc = pspsim(f, NULL, "--duration-s", "1", "--rate", "200", "--connections", "2",
			LOAD_ARGS, NULL);
	json_t *r = report();
	assert_int_equal(rc, 0);
	/* Never more than the rate allows (one at the start, a burst of
	 * two); fewer only if this machine is very busy. */
	int64_t sent = num(r, "sent");
	if (sent > 203 || sent < 100)
		fail_msg("sent %lld in 1 s at 200/s", (long long)sent);
	double achieved = json_real_value(json_object_get(r, "achieved_rate"));
	assert_true(achieved <= 210.0);
	assert_int_equal(num(r, "rate_target"), 200);
	json_decref(r);
	fake_free(f);
}

static void test_load_config_file(void **state)
{
	(void)state;
	char dir[256], path[300];
	ts_tmpdir("pspsim-config", dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/load.json", dir);
	ts_write_file(path, "{\"count\": 30, \"bank_prefix\": \"622202,621700\", "
			    "\"accounts_per_bank\": 10, \"mix\": \"pay=1\", \"progress_ms\": 0,"
			    " \"json\": true, \"seed\": 5}");
	fake_t *f = fake_new();
	int rc = pspsim(f, NULL, "--config", path, "--count", "40", NULL);
	json_t *r = report();
	assert_int_equal(rc, 0);
	assert_int_equal(num(r, "sent"), 40); /* the command line wins */
	assert_int_equal(num(r, "seed"), 5);
	assert_int_equal(num(r, "sent_by_op.pay"), 40);
	json_decref(r);
	fake_free(f);
	ts_rmrf(dir);
}

static void test_text_report(void **state)
{
	(void)state;
	fake_t *f = fake_new();
	int rc = pspsim(f, NULL, "--count", "30", "--bank-prefix", "622202,621700",
			"--progress-ms", "50", NULL);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(out, "sent 30, answered 30"));
	assert_non_null(strstr(out, "latency us: p50 "));
	assert_non_null(strstr(out, "check: every request answered exactly once"));
	assert_non_null(strstr(out, "exit 0"));
	/* stderr is no tty here: whole progress lines. */
	assert_non_null(strstr(err, "pspsim: "));
	assert_non_null(strstr(err, "answered 30"));
	assert_null(strchr(err, '\r'));
	fake_free(f);
}

static void test_usage(void **state)
{
	(void)state;
	fake_t *f = fake_new();
	assert_int_equal(pspsim(f, NULL, "--connections", "4", NULL), 2);
	assert_non_null(strstr(err, "need --count"));
	assert_int_equal(pspsim(f, NULL, "--count", "5", NULL), 2);
	assert_non_null(strstr(err, "--bank-prefix"));
	assert_int_equal(pspsim(f, NULL, "--count", "5", "--bank-prefix", "6222", "--mix",
				"refund=1", NULL), 2);
	assert_non_null(strstr(err, "--mix"));
	assert_int_equal(pspsim(f, NULL, "--count", "5", "--bank-prefix", "6222", "--amount",
				"1.5", NULL), 2);
	assert_int_equal(pspsim(f, NULL, "--count", "5", "--bank-prefix", "6222",
				"--script", "x", NULL), 2);
	assert_int_equal(pspsim(f, NULL, "--nonsense", NULL), 2);
	assert_int_equal(pspsim(f, NULL, "--help", NULL), 0);
	assert_non_null(strstr(out, "--inflight"));
	assert_int_equal(f->accepted, 0);
	fake_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_script_signs_on_first),
		cmocka_unit_test(test_script_hello_not_sent_twice),
		cmocka_unit_test(test_script_without_hello),
		cmocka_unit_test(test_script_hello_refused),
		cmocka_unit_test(test_script_unanswered),
		cmocka_unit_test(test_load_every_request_answered_once),
		cmocka_unit_test(test_load_second_answer_is_extra),
		cmocka_unit_test(test_load_missing_answer_times_out),
		cmocka_unit_test(test_load_unknown_id),
		cmocka_unit_test(test_load_duplicate_disagrees),
		cmocka_unit_test(test_load_hello_refused),
		cmocka_unit_test(test_load_connection_closed),
		cmocka_unit_test(test_load_rate),
		cmocka_unit_test(test_load_config_file),
		cmocka_unit_test(test_text_report),
		cmocka_unit_test(test_usage),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
