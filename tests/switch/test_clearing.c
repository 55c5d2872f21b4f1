/*
 * test_clearing.c: obligations, cutover and settlement through switchd
 * (docs/clearing.md), with a stand-in central bank in the test: a PSP pay,
 * a card purchase, a pay whose credit fails (its debit reversed), then
 * `switchctl cutover`: the window closes without pausing traffic, its
 * obligations are booked and netted, and the direct positions go to PBOC
 * as one batch that sums to zero; the window is settled once PBOC posts
 * it. A batch PBOC rejects leaves the window failed with the reason, and
 * `switchctl settle` submits it again.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fixture.h"

#define BANK_A 0
#define BANK_B 1
#define PSP_MEMBER "48110001"

static fx_t fx;
static pid_t pboc_pid;
static char pboc_log[600];
static char root[512];

/*
 * The stand-in PBOC: answers "settle" posted (or, when the file
 * <log>.reject exists, rejected, once) and "batch" with what it last
 * said; appends every request line to its log.
 */
static void pboc_serve(int lfd, const char *log)
{
	char reject[640];
	snprintf(reject, sizeof(reject), "%s.reject", log);
	char status[64] = "unknown";
	for (;;) {
		int fd = accept(lfd, NULL, NULL);
		if (fd < 0)
			_exit(0);
		char buf[65536];
		size_t len = 0;
		for (;;) {
			ssize_t n = read(fd, buf + len, sizeof(buf) - 1 - len);
			if (n <= 0)
				break;
			len += (size_t)n;
			char *nl;
			while ((nl = memchr(buf, '\n', len)) != NULL) {
				*nl = '\0';
				FILE *f = fopen(log, "a");
				if (f != NULL) {
					fprintf(f, "%s\n", buf);
					fclose(f);
				}
				json_t *req = json_loads(buf, 0, NULL);
				const char *op = json_string_value(json_object_get(req, "op"));
				const char *id = json_string_value(json_object_get(req, "id"));
				if (op != NULL && strcmp(op, "settle") == 0) {
					bool no = access(reject, F_OK) == 0;
					if (no)
						unlink(reject);
					snprintf(status, sizeof(status), "%s",
						 no ? "rejected" : "posted");
				}
				char out[512];
				int n2 = snprintf(out, sizeof(out),
						  "{\"id\":\"%s\",\"status\":\"%s\"%s}\n",
						  id ? id : "", status,
						  strcmp(status, "rejected") == 0
							  ? ",\"reason\":\"test says no\""
							  : "");
				if (write(fd, out, (size_t)n2) != n2)
					break;
				json_decref(req);
				size_t used = (size_t)(nl - buf) + 1;
				memmove(buf, buf + used, len - used);
				len -= used;
			}
		}
		close(fd);
	}
}

static uint16_t pboc_start(const char *dir)
{
	snprintf(pboc_log, sizeof(pboc_log), "%s/pboc.log", dir);
	int lfd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof(sa);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(lfd, 8), 0);
	getsockname(lfd, (struct sockaddr *)&sa, &sl);
	pboc_pid = fork();
	if (pboc_pid == 0) {
		signal(SIGTERM, SIG_DFL);
		pboc_serve(lfd, pboc_log);
	}
	close(lfd);
	return ntohs(sa.sin_port);
}

static int setup(void **state)
{
	(void)state;
	fx_init(&fx, "clearing");
	uint16_t port = pboc_start(fx.dir);
	snprintf(root, sizeof(root),
		 " \"clearing\": {\"pboc\": \"127.0.0.1:%u\", \"settle_delay_ms\": 200,"
		 " \"poll_ms\": 50, \"first_date\": \"20261203\"},\n", port);
	fx.root_extra = root;
	fx.psp_extra = ", \"institution\": \"" PSP_MEMBER "\"";
	fx_start(&fx);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	fx_stop(&fx);
	if (pboc_pid > 0) {
		kill(pboc_pid, SIGKILL);
		waitpid(pboc_pid, NULL, 0);
	}
	return 0;
}

static json_t *control(const char *line)
{
	int fd = ts_connect(fx.control, 5000);
	ts_send_line(fd, line);
	char text[65536];
	json_t *j = NULL;
	if (ts_recv_line(fd, text, sizeof(text), 5000))
		j = json_loads(text, 0, NULL);
	close(fd);
	return j;
}

/* Waits until window id is in state; its record (caller decrefs). */
static json_t *wait_window(uint64_t id, const char *state, int timeout_ms)
{
	uint64_t end = ts_now_ms() + (uint64_t)timeout_ms;
	char line[64];
	snprintf(line, sizeof(line), "{\"cmd\":\"window\",\"window\":%llu}",
		 (unsigned long long)id);
	for (;;) {
		json_t *a = control(line);
		json_t *w = json_object_get(a, "window");
		const char *st = json_string_value(json_object_get(w, "state"));
		if (st != NULL && strcmp(st, state) == 0) {
			json_incref(w);
			json_decref(a);
			return w;
		}
		if (ts_now_ms() > end) {
			char *dump = json_dumps(a, JSON_COMPACT);
			fprintf(stderr, "window %llu: %s\n", (unsigned long long)id,
				dump ? dump : "(none)");
			free(dump);
			json_decref(a);
			return NULL;
		}
		json_decref(a);
		ts_sleep_ms(50);
	}
}

static int64_t position(json_t *w, const char *channel, const char *member)
{
	size_t i;
	json_t *p;
	int64_t sum = 0;
	json_array_foreach(json_object_get(w, "positions"), i, p)
		if (strcmp(json_string_value(json_object_get(p, "channel")), channel) == 0 &&
		    strcmp(json_string_value(json_object_get(p, "member")), member) == 0)
			sum += json_integer_value(json_object_get(p, "amount"));
	return sum;
}

static void test_cutover_books_and_settles(void **state)
{
	(void)state;
	json_t *a = fx_pay(&fx, "CL-1", A_RICH, B_SHOP, 10000);
	assert_string_equal(fx_str(a, "code"), "00");
	json_decref(a);
	iso8583_msg_t r;
	uint8_t buf[2048];
	assert_true(fx_purchase(&fx, A_RICH, 500, 0, &r, buf, sizeof(buf)));
	assert_string_equal(fx_field(&r, 39), "00");
	/* A credit refused: the debit is reversed (booked, then undone). */
	a = fx_pay(&fx, "CL-2", A_RICH, B_CLOSED, 700);
	assert_string_not_equal(fx_str(a, "code"), "00");
	json_decref(a);
	assert_true(fx_wait_saf_empty(&fx, 10000));

	json_t *c = control("{\"cmd\":\"cutover\"}");
	assert_non_null(c);
	assert_true(json_is_true(json_object_get(c, "ok")));
	assert_int_equal(json_integer_value(json_object_get(c, "closed")), 1);
	assert_int_equal(json_integer_value(json_object_get(c, "opened")), 2);
	assert_string_equal(json_string_value(json_object_get(c, "date")), "20261204");
	json_decref(c);
	/* Traffic goes on in window 2 meanwhile. */
	a = fx_pay(&fx, "CL-3", A_RICH, B_SHOP, 1);
	assert_string_equal(fx_str(a, "code"), "00");
	json_decref(a);

	json_t *w = wait_window(1, "settled", 15000);
	assert_non_null(w);
	/* Bank A: the pay's debit and the purchase; the reversed debit nets
	 * out. Bank B the credit; the PSP nets to zero; the acquirer is owed
	 * the purchase. */
	assert_int_equal(position(w, "direct", "01020000"), -10500);
	assert_int_equal(position(w, "direct", "01030000"), 10000);
	assert_int_equal(position(w, "direct", PSP_MEMBER), 0);
	assert_int_equal(position(w, "direct", "48020000"), 500);
	int64_t sum = 0;
	size_t i;
	json_t *p;
	json_array_foreach(json_object_get(w, "positions"), i, p)
		sum += json_integer_value(json_object_get(p, "amount"));
	assert_int_equal(sum, 0);
	json_t *b = json_array_get(json_object_get(w, "batches"), 0);
	assert_string_equal(json_string_value(json_object_get(b, "batch")),
			    "SW99990000-20261203");
	assert_string_equal(json_string_value(json_object_get(b, "status")), "posted");
	json_decref(w);
	/* PBOC got one settle with the same positions (zero ones left out). */
	FILE *f = fopen(pboc_log, "r");
	assert_non_null(f);
	char line[65536];
	int settles = 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		json_t *req = json_loads(line, 0, NULL);
		if (strcmp(json_string_value(json_object_get(req, "op")), "settle") == 0) {
			settles++;
			int64_t total = 0;
			json_array_foreach(json_object_get(req, "positions"), i, p)
				total += json_integer_value(json_object_get(p, "amount"));
			assert_int_equal(total, 0);
			assert_int_equal(json_array_size(json_object_get(req, "positions")), 3);
			assert_string_equal(json_string_value(json_object_get(req, "batch")),
					    "SW99990000-20261203");
		}
		json_decref(req);
	}
	fclose(f);
	assert_int_equal(settles, 1);

	/* A rejected batch: the window fails with PBOC's reason; settle
	 * submits it again. */
	char reject[640];
	snprintf(reject, sizeof(reject), "%s.reject", pboc_log);
	ts_write_file(reject, "");
	c = control("{\"cmd\":\"cutover\"}");
	json_decref(c);
	w = wait_window(2, "failed", 15000);
	assert_non_null(w);
	assert_string_equal(json_string_value(json_object_get(w, "reason")), "test says no");
	json_decref(w);
	char out[8192];
	char *argv[] = {(char *)ts_bin("switchctl"), "--config", fx.config, "settle", "2", NULL};
	assert_int_equal(ts_run(argv, NULL, out, sizeof(out), NULL, 0, 10000), 0);
	w = wait_window(2, "settled", 15000);
	assert_non_null(w);
	assert_int_equal(position(w, "direct", "01030000"), 1);
	json_decref(w);
	/* switchctl windows lists them. */
	char *list[] = {(char *)ts_bin("switchctl"), "--config", fx.config, "windows", NULL};
	assert_int_equal(ts_run(list, NULL, out, sizeof(out), NULL, 0, 10000), 0);
	assert_non_null(strstr(out, "settled"));
	assert_non_null(strstr(out, "20261204"));
}

/* A pay whose payer's route goes through NetClear is an agreement
 * payment: the payer's bank pays the PSP's reserve, no credit leg; the
 * PSP pays a merchant out of it with a payout; a refund of the payment
 * comes out of the reserve too. The PSP's position is what its reserve
 * gained. */
static void test_reserve_payments(void **state)
{
	(void)state;
	assert_int_equal(fx_switchctl(&fx, NULL, 0, "routes", "add", "--prefix",
				      A_SPARE, "--endpoint", "bank_a", "--network",
				      "netclear", "--institution", "01020000", NULL), 0);
	int64_t payer0 = fx_balance(&fx, BANK_A, A_SPARE);
	int64_t merchant0 = fx_balance(&fx, BANK_B, B_SHOP2);
	json_t *a = fx_pay(&fx, "RS-1", A_SPARE, B_SHOP, 3000);
	assert_string_equal(fx_str(a, "code"), "00");
	assert_true(json_is_true(json_object_get(a, "reserve")));
	json_decref(a);
	assert_int_equal(fx_balance(&fx, BANK_A, A_SPARE), payer0 - 3000);
	a = fx_call(&fx, "{\"op\":\"payout\",\"id\":\"RS-2\",\"payee\":{\"account\":\""
		    B_SHOP2 "\"},\"amount\":2500,\"currency\":\"CNY\"}");
	assert_string_equal(fx_str(a, "code"), "00");
	json_decref(a);
	assert_int_equal(fx_balance(&fx, BANK_B, B_SHOP2), merchant0 + 2500);
	a = fx_call(&fx, "{\"op\":\"refund\",\"id\":\"RS-3\",\"original\":\"RS-1\","
		    "\"amount\":1000,\"currency\":\"CNY\"}");
	assert_string_equal(fx_str(a, "code"), "00");
	json_decref(a);
	assert_int_equal(fx_balance(&fx, BANK_A, A_SPARE), payer0 - 2000);
	json_t *c = control("{\"cmd\":\"cutover\"}");
	json_decref(c);
	json_t *w = wait_window(1, "settled", 15000);
	assert_non_null(w);
	/* The reserve took 3000, paid out 2500 and refunded 1000. */
	assert_int_equal(position(w, "direct", PSP_MEMBER), 3000 - 2500 - 1000);
	assert_int_equal(position(w, "direct", "01020000"), -3000 + 1000);
	assert_int_equal(position(w, "direct", "01030000"), 2500);
	json_decref(w);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_cutover_books_and_settles, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_reserve_payments, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
