/*
 * test_ops.c: switchd as an operator and a hostile peer see it: bad
 * frames answered or closed without disturbing other channels, bounds
 * answered 91 or closed, SIGHUP reload without dropping a connection,
 * SIGTERM drain, metrics, the control socket through switchctl, the
 * configuration refused with its key path, and two-phase completion.
 * Each test has a chain of its own, shaped by its knobs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fixture.h"

static fx_t fx;

static int teardown(void **state)
{
	(void)state;
	fx_stop(&fx);
	return 0;
}

static int setup_plain(void **state)
{
	(void)state;
	fx_init(&fx, "ops");
	fx_start(&fx);
	return 0;
}

/* Sends raw bytes after a 2-byte length header. */
static void send_frame(int fd, const char *body)
{
	size_t len = strlen(body);
	uint8_t head[2] = {(uint8_t)(len >> 8), (uint8_t)len};
	ts_send_all(fd, head, 2);
	ts_send_all(fd, body, len);
}

static void test_bad_input_is_isolated(void **state)
{
	(void)state;
	const iso8583_dialect_t *d = iso8583_dialect_builtin("ascii");
	int good = ts_connect(fx.acq, 5000);
	int bad = ts_connect(fx.acq, 5000);
	/* Field 32 not numeric: answered 30, echoing 11 and 7, which came
	 * before the fault. */
	send_frame(bad, "0200" "7220000100000000" "164111111111111111" "000000"
			"000000010000" "1125103000" "000321" "06ABC123");
	iso8583_msg_t r;
	uint8_t buf[2048];
	assert_true(ts_iso_recv(bad, d, &r, buf, sizeof(buf), 5000));
	assert_memory_equal(r.mti, "0210", 4);
	assert_string_equal(fx_field(&r, 39), "30");
	assert_string_equal(fx_field(&r, 11), "000321");
	assert_string_equal(fx_field(&r, 7), "1125103000");
	/* An unreadable bitmap: the connection is closed. */
	send_frame(bad, "0200ZZZZ");
	assert_true(ts_wait_closed(bad, 5000));
	close(bad);
	/* A frame over frame_bytes_max (2048): closed before it is read. */
	bad = ts_connect(fx.acq, 5000);
	uint8_t huge[2] = {0x7f, 0xff};
	ts_send_all(bad, huge, 2);
	assert_true(ts_wait_closed(bad, 5000));
	close(bad);
	/* The other acquirer connection never noticed. */
	iso8583_msg_t m;
	iso8583_msg_init(&m, d);
	iso8583_set_mti(&m, "0800");
	iso8583_set_str(&m, 7, "1125103000");
	iso8583_set_str(&m, 11, "000001");
	iso8583_set_str(&m, 70, "301");
	ts_iso_send(good, &m);
	assert_true(ts_iso_recv(good, d, &r, buf, sizeof(buf), 5000));
	assert_string_equal(fx_field(&r, 39), "00");
	close(good);
	/* JSON: garbage is answered 30 and the line after it works. */
	json_t *a = ts_json_call(fx.psp_fd, "this is not json", 5000);
	assert_non_null(a);
	assert_string_equal(fx_str(a, "code"), "30");
	assert_true(json_is_null(json_object_get(a, "id")));
	json_decref(a);
	a = fx_call(&fx, "{\"op\":\"echo\",\"id\":\"after-garbage\"}");
	assert_string_equal(fx_str(a, "status"), "ok");
	json_decref(a);
	/* A line over 16 KiB closes that connection only. */
	int big = ts_connect(fx.psp, 5000);
	static char line[20000];
	memset(line, 'x', sizeof(line) - 1);
	ts_send_all(big, line, sizeof(line) - 1);
	assert_true(ts_wait_closed(big, 5000));
	close(big);
	a = fx_call(&fx, "{\"op\":\"echo\",\"id\":\"still-here\"}");
	assert_string_equal(fx_str(a, "status"), "ok");
	json_decref(a);
	assert_true(fx_stat(&fx, "stats", "format_errors") >= 2);
}

static void test_metrics_and_control(void **state)
{
	(void)state;
	json_t *a = fx_pay(&fx, "M-1", A_RICH, B_SHOP, 100);
	assert_string_equal(fx_str(a, "code"), "00");
	json_decref(a);
	int fd = ts_connect(fx.metrics, 5000);
	const char *req = "GET /metrics HTTP/1.0\r\n\r\n";
	ts_send_all(fd, req, strlen(req));
	static char text[262144];
	size_t len = 0;
	while (len < sizeof(text) - 1 &&
	       ts_recv_exact(fd, text + len, 1, 2000))
		len++;
	text[len] = '\0';
	close(fd);
	assert_non_null(strstr(text, "HTTP/1.0 200 OK"));
	assert_non_null(strstr(text, "payswitch_requests_total{kind=\"pay\"} 1"));
	assert_non_null(strstr(text, "payswitch_responses_total{code=\"00\"}"));
	assert_non_null(strstr(text, "payswitch_latency_seconds_count"));
	assert_non_null(strstr(text, "payswitch_endpoint_up{endpoint=\"bank_a\"} 1"));
	assert_non_null(strstr(text, "payswitch_saf_entries 0"));
	assert_non_null(strstr(text, "# TYPE payswitch_commits_total counter"));
	assert_null(strstr(text, "payswitch_commits_total 0\n"));
	/* switchctl over the control socket, readable and --json. */
	char control[32], out[8192];
	snprintf(control, sizeof(control), "127.0.0.1:%u", fx.control);
	char *argv[] = {(char *)ts_bin("switchctl"), "--control", control, "endpoints", NULL};
	assert_int_equal(ts_run(argv, NULL, out, sizeof(out), NULL, 0, 10000), 0);
	assert_non_null(strstr(out, "bank_a"));
	assert_non_null(strstr(out, "up"));
	char *argv2[] = {(char *)ts_bin("switchctl"), "--control", control, "--json",
			 "stats", NULL};
	assert_int_equal(ts_run(argv2, NULL, out, sizeof(out), NULL, 0, 10000), 0);
	json_t *j = json_loads(out, 0, NULL);
	assert_non_null(j);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "requests"), "pay")), 1);
	assert_true(json_integer_value(json_object_get(j, "commits")) > 0);
	assert_non_null(json_object_get(j, "reversals_expired"));
	json_decref(j);
	char *argv3[] = {(char *)ts_bin("switchctl"), "--control", "127.0.0.1:1", "status", NULL};
	assert_int_equal(ts_run(argv3, NULL, out, sizeof(out), NULL, 0, 10000), 4);
}

/* Idle connections never lock the operator out: switchctl (which finds
 * the control port, 0 in the config, in the ready file the config names)
 * and the metrics page still answer; idle clients are closed. */
static void test_admin_doors(void **state)
{
	(void)state;
	int idle_control[20], idle_metrics[20];
	for (int i = 0; i < 20; i++) {
		idle_control[i] = ts_connect(fx.control, 5000);
		idle_metrics[i] = ts_connect(fx.metrics, 5000);
	}
	ts_sleep_ms(100);
	char out[8192], err[2048];
	char *argv[] = {(char *)ts_bin("switchctl"), "--config", fx.config, "status", NULL};
	assert_int_equal(ts_run(argv, NULL, out, sizeof(out), err, sizeof(err), 10000), 0);
	assert_non_null(strstr(out, "psp"));
	int fd = ts_connect(fx.metrics, 5000);
	const char *req = "GET /metrics HTTP/1.0\r\n\r\n";
	ts_send_all(fd, req, strlen(req));
	char head[32] = "";
	assert_true(ts_recv_exact(fd, head, 15, 5000));
	assert_memory_equal(head, "HTTP/1.0 200 OK", 15);
	close(fd);
	/* A control socket that closes without answering is reported as
	 * that, at once, not as a timeout. */
	int lfd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof(sa);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(lfd, 4), 0);
	getsockname(lfd, (struct sockaddr *)&sa, &sl);
	pid_t child = fork();
	if (child == 0) {
		int c = accept(lfd, NULL, NULL);
		ts_sleep_ms(200);
		close(c);
		_exit(0);
	}
	close(lfd);
	char closer[32];
	snprintf(closer, sizeof(closer), "127.0.0.1:%u", ntohs(sa.sin_port));
	char *argv2[] = {(char *)ts_bin("switchctl"), "--control", closer, "status", NULL};
	uint64_t t0 = ts_now_ms();
	assert_int_equal(ts_run(argv2, NULL, out, sizeof(out), err, sizeof(err), 10000), 4);
	assert_true(ts_now_ms() - t0 < 3000);
	assert_non_null(strstr(err, "closed the connection without answering"));
	waitpid(child, NULL, 0);
	/* The idle ones are closed within their idle bound (5 s for the
	 * metrics page, 10 s for the control socket; checked each second). */
	uint64_t t1 = ts_now_ms();
	for (int i = 0; i < 20; i++) {
		assert_true(ts_wait_closed(idle_metrics[i], 12000));
		close(idle_metrics[i]);
	}
	for (int i = 0; i < 20; i++) {
		assert_true(ts_wait_closed(idle_control[i], 15000));
		close(idle_control[i]);
	}
	fprintf(stderr, "idle admin clients all closed after %llu ms\n",
		(unsigned long long)(ts_now_ms() - t1));
}

/* Paths in a config are relative to its folder, for switchd and for
 * switchctl alike, wherever they are started; switchctl says when it
 * creates a store. Control and metrics bind to loopback unless asked. */
/* A listener's port already taken: exit 4 with the address and the
 * reason, and nothing left behind (the sanitized build exits 1 for a
 * leak). */
static void test_port_in_use(void **state)
{
	(void)state;
	int hold = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof(sa);
	assert_int_equal(bind(hold, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(hold, 1), 0);
	getsockname(hold, (struct sockaddr *)&sa, &sl);
	char dir[512], config[600], text[1024], out[4096], err[8192], want[96];
	ts_tmpdir("portinuse", dir, sizeof(dir));
	snprintf(config, sizeof(config), "%s/switchd.json", dir);
	snprintf(text, sizeof(text),
		 "{\"lmdb\": {\"dir\": \"store\", \"sync\": false},"
		 " \"control\": \"127.0.0.1:0\", \"metrics\": \"127.0.0.1:0\","
		 " \"listeners\": [{\"name\": \"psp\", \"address\": \"127.0.0.1:%u\","
		 " \"protocol\": \"json\"}]}", ntohs(sa.sin_port));
	ts_write_file(config, text);
	char *argv[] = {(char *)ts_bin("switchd"), "--config", config, NULL};
	assert_int_equal(ts_run(argv, NULL, out, sizeof(out), err, sizeof(err), 10000), 4);
	snprintf(want, sizeof(want), "cannot listen on 127.0.0.1:%u: address already in use",
		 ntohs(sa.sin_port));
	assert_non_null(strstr(err, want));
	close(hold);
}

static void test_config_paths_and_binds(void **state)
{
	(void)state;
	char dir[512], config[600], out[4096], err[4096];
	ts_tmpdir("relpaths", dir, sizeof(dir));
	snprintf(config, sizeof(config), "%s/switchd.json", dir);
	ts_write_file(config, "{\"lmdb\": {\"dir\": \"store\", \"sync\": false},"
			      " \"listeners\": [{\"name\": \"psp\", \"address\": \"127.0.0.1:0\","
			      " \"protocol\": \"json\"}]}");
	char *add[] = {(char *)ts_bin("switchctl"), "--config", config, "routes", "add",
		       "--prefix", "622202", "--endpoint", "bank_a", NULL};
	assert_int_equal(ts_run(add, NULL, out, sizeof(out), err, sizeof(err), 10000), 0);
	assert_non_null(strstr(err, "creating a new, empty switch store"));
	char store[700];
	snprintf(store, sizeof(store), "%s/store/data.mdb", dir);
	assert_int_equal(access(store, F_OK), 0);
	assert_int_equal(access("store", F_OK), -1); /* not in our folder */
	char *look[] = {(char *)ts_bin("switchctl"), "--config", config, "routes",
			"lookup", "6222020000000001", NULL};
	assert_int_equal(ts_run(look, NULL, out, sizeof(out), err, sizeof(err), 10000), 0);
	assert_non_null(strstr(out, "bank_a"));
	/* A second change finds the store: nothing said. */
	char *add2[] = {(char *)ts_bin("switchctl"), "--config", config, "routes", "add",
			"--prefix", "621700", "--endpoint", "bank_b", NULL};
	assert_int_equal(ts_run(add2, NULL, out, sizeof(out), err, sizeof(err), 10000), 0);
	assert_null(strstr(err, "creating"));
	/* The control socket on every address only when the config says so. */
	ts_write_file(config, "{\"lmdb\": {\"dir\": \"store\"}, \"control\": \"0.0.0.0:7001\","
			      " \"listeners\": [{\"name\": \"psp\", \"address\": \"127.0.0.1:0\","
			      " \"protocol\": \"json\"}]}");
	char *check[] = {(char *)ts_bin("switchd"), "--config", config, "--check", NULL};
	assert_int_equal(ts_run(check, NULL, out, sizeof(out), err, sizeof(err), 10000), 3);
	assert_non_null(strstr(err, "control_remote"));
	ts_write_file(config, "{\"lmdb\": {\"dir\": \"store\"}, \"metrics\": \"0.0.0.0:9101\","
			      " \"metrics_remote\": true,"
			      " \"listeners\": [{\"name\": \"psp\", \"address\": \"127.0.0.1:0\","
			      " \"protocol\": \"json\"}]}");
	assert_int_equal(ts_run(check, NULL, out, sizeof(out), err, sizeof(err), 10000), 0);
	ts_rmrf(dir);
}

/* A refused configuration names the key; a good reload keeps connections. */
static void test_reload(void **state)
{
	(void)state;
	json_t *a = fx_call(&fx, "{\"op\":\"echo\",\"id\":\"before\"}");
	json_decref(a);
	fx.second_psp_listener = true;
	fx_write_config(&fx);
	unlink(fx.ready);
	ts_proc_signal(&fx.switchd, SIGHUP);
	json_t *ready = ts_wait_ready(fx.ready, &fx.switchd, 5000);
	uint16_t psp2 = ts_ready_port(ready, "psp2");
	json_decref(ready);
	int fd2 = ts_connect(psp2, 5000);
	a = ts_json_call(fd2, "{\"op\":\"echo\",\"id\":\"on-psp2\"}", 5000);
	assert_non_null(a);
	json_decref(a);
	close(fd2);
	/* The first connection was never dropped. */
	a = fx_call(&fx, "{\"op\":\"echo\",\"id\":\"after\"}");
	assert_string_equal(fx_str(a, "status"), "ok");
	json_decref(a);
	/* A broken file is refused; the switch goes on as it was. */
	ts_write_file(fx.config, "{\"lmdb\":{\"dir\":\"elsewhere\"},\"listeners\":[{\"name\":\"a\","
				 "\"address\":\"127.0.0.1:0\",\"protocol\":\"json\"}]}");
	char control[32], out[4096], err[4096];
	snprintf(control, sizeof(control), "127.0.0.1:%u", fx.control);
	char *argv[] = {(char *)ts_bin("switchctl"), "--control", control, "reload", NULL};
	assert_int_equal(ts_run(argv, NULL, out, sizeof(out), err, sizeof(err), 10000), 3);
	assert_non_null(strstr(err, "lmdb.dir: cannot change"));
	fx_write_config(&fx);
	a = fx_call(&fx, "{\"op\":\"echo\",\"id\":\"still\"}");
	assert_string_equal(fx_str(a, "status"), "ok");
	json_decref(a);
	/* switchd --check says what is wrong with a file, and where. */
	char bad[600];
	snprintf(bad, sizeof(bad), "%s/bad.json", fx.dir);
	ts_write_file(bad, "{\"lmdb\":{\"dir\":\"x\"},\"listeners\":[{\"name\":\"a\","
			   "\"address\":\"127.0.0.1:0\",\"framing\":{\"length\":\"weird\"}}]}");
	char *check[] = {(char *)ts_bin("switchd"), "--config", bad, "--check", NULL};
	assert_int_equal(ts_run(check, NULL, out, sizeof(out), err, sizeof(err), 10000), 3);
	assert_non_null(strstr(err, "listeners[0].framing.length: unknown length header"));
}

/* SIGTERM: stop accepting, answer what is in flight, exit 0. */
static void test_drain(void **state)
{
	(void)state;
	char line[512];
	snprintf(line, sizeof(line),
		 "{\"op\":\"pay\",\"id\":\"D-1\",\"payer\":{\"account\":\"%s\"},"
		 "\"payee\":{\"account\":\"%s\"},\"amount\":100,\"currency\":\"CNY\"}",
		 A_DROP, B_SHOP);
	ts_send_line(fx.psp_fd, line);
	ts_sleep_ms(100); /* in flight at the bank, which will not answer */
	ts_proc_signal(&fx.switchd, SIGTERM);
	json_t *a = ts_json_wait(fx.psp_fd, "D-1", 5000);
	assert_non_null(a);
	assert_string_equal(fx_str(a, "code"), "68");
	json_decref(a);
	assert_true(ts_proc_wait(&fx.switchd, 10000));
	assert_int_equal(ts_proc_exit_code(&fx.switchd), 0);
	assert_int_equal(ts_try_connect(fx.psp), -1);
	/* Its reversal waits in the store for the next start. */
	fx_start_switchd(&fx);
	assert_true(fx_wait_saf_empty(&fx, 5000));
	assert_true(fx_wait_balance(&fx, 0, A_DROP, 100000, 5000));
}

/* A Ctrl-C, then SIGTERM after SIGTERM until it is gone (an operator, or a
 * script stopping what a terminal's Ctrl-C has already drained): every
 * one after the first changes nothing, and the exit is still a clean 0. */
static void test_signals_while_stopping(void **state)
{
	(void)state;
	ts_proc_signal(&fx.switchd, SIGINT);
	uint64_t end = ts_now_ms() + 10000;
	while (ts_now_ms() < end) {
		if (kill(fx.switchd.pid, SIGTERM) != 0)
			break;
		pid_t r = waitpid(fx.switchd.pid, &fx.switchd.status, WNOHANG);
		if (r == fx.switchd.pid) {
			fx.switchd.exited = true;
			break;
		}
		usleep(200);
	}
	assert_true(ts_proc_wait(&fx.switchd, 1000));
	assert_int_equal(ts_proc_exit_code(&fx.switchd), 0);
}

/* A second switchd on the store of a running one is refused before it
 * reads a record: it would recover (reverse) the first one's
 * transactions in flight. The first goes on answering. */
static void test_one_switch_per_store(void **state)
{
	(void)state;
	char out[4096], err[8192];
	char *argv[] = {(char *)ts_bin("switchd"), "--config", fx.config, NULL};
	assert_int_equal(ts_run(argv, NULL, out, sizeof(out), err, sizeof(err), 10000), 4);
	assert_non_null(strstr(err, "is in use by another switchd"));
	assert_null(strstr(err, "\"recovered\""));
	json_t *a = fx_call(&fx, "{\"op\":\"echo\",\"id\":\"E-1\"}");
	assert_string_equal(fx_str(a, "status"), "ok");
	json_decref(a);
}

static bool wait_endpoint_state(const char *name, const char *state, int timeout_ms)
{
	uint64_t end = ts_now_ms() + (uint64_t)timeout_ms;
	while (ts_now_ms() < end) {
		json_t *j = ts_control(fx.control, "endpoints");
		size_t i;
		json_t *e;
		bool match = false;
		json_array_foreach(json_object_get(j, "endpoints"), i, e)
			if (strcmp(fx_str(e, "name"), name) == 0 &&
			    strcmp(fx_str(e, "state"), state) == 0)
				match = true;
		json_decref(j);
		if (match)
			return true;
		ts_sleep_ms(50);
	}
	return false;
}

/*
 * A bank that hangs (SIGSTOP: its TCP connections stay open, it answers
 * nothing). The pay in flight gets 68 and its reversal is queued; unanswered
 * echo tests take the bank's links down, so new requests get 91 at once;
 * when the bank thaws, the links come back, the reversal is repeated until
 * acknowledged, and the money the bank posted late is given back.
 */
static void test_frozen_bank(void **state)
{
	(void)state;
	int64_t before = fx_balance(&fx, 0, A_SPARE);
	int64_t repeats_before = fx_stat(&fx, "stats", "reversals_acknowledged");
	ts_proc_signal(&fx.bank[0].proc, SIGSTOP);
	json_t *a = fx_pay(&fx, "FZ-1", A_SPARE, B_SHOP, 1234);
	assert_string_equal(fx_str(a, "code"), "68");
	json_decref(a);
	assert_true(wait_endpoint_state("bank_a", "down", 15000));
	uint64_t t0 = ts_now_ms();
	a = fx_pay(&fx, "FZ-2", A_SPARE, B_SHOP, 1);
	assert_string_equal(fx_str(a, "code"), "91");
	assert_true(ts_now_ms() - t0 < 500);
	json_decref(a);
	assert_true(fx_stat(&fx, "status", "saf_entries") >= 1);
	ts_proc_signal(&fx.bank[0].proc, SIGCONT);
	assert_true(wait_endpoint_state("bank_a", "up", 15000));
	assert_true(fx_wait_saf_empty(&fx, 15000));
	assert_true(fx_stat(&fx, "stats", "reversals_acknowledged") > repeats_before);
	assert_true(fx_wait_balance(&fx, 0, A_SPARE, before, 5000));
	a = fx_pay(&fx, "FZ-3", A_SPARE, B_SHOP, 1);
	assert_string_equal(fx_str(a, "code"), "00");
	json_decref(a);
}

static int setup_bounded(void **state)
{
	(void)state;
	fx_init(&fx, "bounds");
	fx.inflight_per_conn_max = 3;
	fx.connections_max = 3;
	fx_start(&fx);
	return 0;
}

static void test_bounds(void **state)
{
	(void)state;
	/* Three pays held by a bank that never answers fill the
	 * connection's bound: the fourth is answered 91 at once. */
	for (int i = 0; i < 3; i++) {
		char line[512];
		snprintf(line, sizeof(line),
			 "{\"op\":\"pay\",\"id\":\"B-%d\",\"payer\":{\"account\":\"%s\"},"
			 "\"payee\":{\"account\":\"%s\"},\"amount\":10,\"currency\":\"CNY\"}",
			 i, A_DROP, B_SHOP);
		ts_send_line(fx.psp_fd, line);
	}
	ts_sleep_ms(100);
	uint64_t t0 = ts_now_ms();
	json_t *a = fx_pay(&fx, "B-3", A_RICH, B_SHOP, 10);
	assert_string_equal(fx_str(a, "code"), "91");
	assert_true(ts_now_ms() - t0 < 400); /* at once, not after a timeout */
	json_decref(a);
	for (int i = 0; i < 3; i++) {
		char id[16];
		snprintf(id, sizeof(id), "B-%d", i);
		a = ts_json_wait(fx.psp_fd, id, 5000);
		assert_non_null(a);
		assert_string_equal(fx_str(a, "code"), "68");
		json_decref(a);
	}
	/* Connections past connections_max (3, one is the fixture's) are
	 * closed at once; the others go on. */
	int c2 = ts_connect(fx.psp, 5000), c3 = ts_connect(fx.psp, 5000);
	int c4 = ts_connect(fx.psp, 5000);
	assert_true(ts_wait_closed(c4, 5000));
	a = ts_json_call(c3, "{\"op\":\"echo\",\"id\":\"c3\"}", 5000);
	assert_non_null(a);
	json_decref(a);
	close(c2);
	close(c3);
	close(c4);
	assert_true(fx_stat(&fx, "stats", "refused") >= 1);
	assert_true(fx_wait_saf_empty(&fx, 5000));
}

static int setup_retention(void **state)
{
	(void)state;
	fx_init(&fx, "retain");
	fx.retention_ms = 1500;
	fx_start(&fx);
	return 0;
}

/* Finished records are forgotten after retention_ms: a query then says
 * unknown (25), and the same id is a new request. */
static void test_retention(void **state)
{
	(void)state;
	int64_t before = fx_balance(&fx, 0, A_RICH);
	json_t *a = fx_pay(&fx, "RT-1", A_RICH, B_SHOP, 100);
	assert_string_equal(fx_str(a, "code"), "00");
	char first_txn[32];
	snprintf(first_txn, sizeof(first_txn), "%s", fx_str(a, "txn"));
	json_decref(a);
	a = fx_call(&fx, "{\"op\":\"query\",\"id\":\"RQ-1\",\"target\":\"RT-1\"}");
	assert_string_equal(fx_str(a, "state"), "done");
	json_decref(a);
	uint64_t end = ts_now_ms() + 15000;
	bool forgotten = false;
	while (!forgotten && ts_now_ms() < end) {
		ts_sleep_ms(200);
		a = fx_call(&fx, "{\"op\":\"query\",\"id\":\"RQ-2\",\"target\":\"RT-1\"}");
		forgotten = strcmp(fx_str(a, "code"), "25") == 0;
		json_decref(a);
	}
	assert_true(forgotten);
	assert_true(fx_stat(&fx, "stats", "purged") >= 1);
	a = fx_pay(&fx, "RT-1", A_RICH, B_SHOP, 100);
	assert_string_equal(fx_str(a, "code"), "00");
	assert_string_not_equal(fx_str(a, "txn"), first_txn);
	json_decref(a);
	assert_int_equal(fx_balance(&fx, 0, A_RICH), before - 200);
}

static int setup_two_phase(void **state)
{
	(void)state;
	fx_init(&fx, "twophase");
	fx.two_phase_a = true;
	fx_start(&fx);
	return 0;
}

/* A two-phase bank reserves the debit; the switch's completion advice
 * (0220, through the SAF queue) posts it once the credit is approved. */
static void test_two_phase_completion(void **state)
{
	(void)state;
	ledger_account_t before = fx_account(&fx, 0, A_RICH);
	json_t *a = fx_pay(&fx, "TP-1", A_RICH, B_SHOP, 2000);
	assert_string_equal(fx_str(a, "code"), "00");
	json_decref(a);
	assert_true(fx_wait_saf_empty(&fx, 5000));
	ledger_account_t after = fx_account(&fx, 0, A_RICH);
	assert_int_equal(after.debits_pending, before.debits_pending);
	assert_int_equal(after.debits_posted, before.debits_posted + 2000);
	/* A failed credit voids the reservation instead. */
	a = fx_pay(&fx, "TP-2", A_RICH, B_CLOSED, 3000);
	assert_string_equal(fx_str(a, "code"), "57");
	json_decref(a);
	assert_true(fx_wait_saf_empty(&fx, 5000));
	ledger_account_t last = fx_account(&fx, 0, A_RICH);
	assert_int_equal(last.debits_pending, after.debits_pending);
	assert_int_equal(last.debits_posted, after.debits_posted);
}

static int setup_bare(void **state)
{
	(void)state;
	fx_init(&fx, "ops");
	return 0;
}

/* An endpoint whose link wants a TPDU: what the switch originates (here
 * its sign-on) carries the configured header; a header of the wrong
 * size is refused with its key path. The bank is a raw socket. */
static void test_endpoint_header(void **state)
{
	(void)state;
	int lfd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t alen = sizeof(a);
	assert_int_equal(bind(lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(lfd, 4), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&a, &alen), 0);
	char text[2048];
	const char *shape =
		"{\"lmdb\": {\"dir\": \"%s\"}, \"control\": \"127.0.0.1:0\",\n"
		" \"listeners\": [{\"name\": \"psp\", \"address\": \"127.0.0.1:0\",\n"
		"   \"protocol\": \"json\", \"participant\": \"PSP01\"}],\n"
		" \"endpoints\": [{\"name\": \"nac_bank\", \"address\": \"127.0.0.1:%u\",\n"
		"   \"dialect\": \"binary\", \"institution\": \"01040000\",\n"
		"   \"framing\": {\"length\": \"binary2\", \"header_bytes\": 5,\n"
		"                 \"header\": \"%s\"}}]}\n";
	char bad[600], out[1024], err[2048];
	snprintf(bad, sizeof(bad), "%s/bad.json", fx.dir);
	snprintf(text, sizeof(text), shape, fx.lmdb, ntohs(a.sin_port), "600003");
	ts_write_file(bad, text);
	char *check[] = {(char *)ts_bin("switchd"), "--config", bad, "--check", NULL};
	assert_int_equal(ts_run(check, NULL, out, sizeof(out), err, sizeof(err), 10000), 3);
	assert_non_null(strstr(err, "endpoints[0].framing.header: must be 5 bytes"));

	snprintf(text, sizeof(text), shape, fx.lmdb, ntohs(a.sin_port), "6000030012");
	ts_write_file(fx.config, text);
	char log[600];
	snprintf(log, sizeof(log), "%s/switchd.log", fx.dir);
	char *argv[] = {(char *)ts_bin("switchd"), "--config", fx.config,
			"--ready-file", fx.ready, NULL};
	ts_proc_start(&fx.switchd, log, argv);
	json_decref(ts_wait_ready(fx.ready, &fx.switchd, 10000));
	int bank = accept(lfd, NULL, NULL);
	assert_true(bank >= 0);
	uint8_t head[7], body[512];
	assert_true(ts_recv_exact(bank, head, 7, 10000));
	assert_memory_equal(head + 2, "\x60\x00\x03\x00\x12", 5);
	size_t n = (size_t)ps_be16_get(head) - 5;
	assert_true(n < sizeof(body) && ts_recv_exact(bank, body, n, 10000));
	iso8583_msg_t m;
	iso8583_error_t ierr;
	assert_int_equal(iso8583_unpack(&m, iso8583_dialect_builtin("binary"), body,
					n, &ierr), 0);
	assert_memory_equal(m.mti, "0800", 4);
	assert_string_equal(fx_field(&m, 70), "001");
	close(bank);
	close(lfd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_bad_input_is_isolated, setup_plain, teardown),
		cmocka_unit_test_setup_teardown(test_metrics_and_control, setup_plain, teardown),
		cmocka_unit_test_setup_teardown(test_admin_doors, setup_plain, teardown),
		cmocka_unit_test(test_config_paths_and_binds),
		cmocka_unit_test(test_port_in_use),
		cmocka_unit_test_setup_teardown(test_reload, setup_plain, teardown),
		cmocka_unit_test_setup_teardown(test_drain, setup_plain, teardown),
		cmocka_unit_test_setup_teardown(test_signals_while_stopping, setup_plain, teardown),
		cmocka_unit_test_setup_teardown(test_one_switch_per_store, setup_plain, teardown),
		cmocka_unit_test_setup_teardown(test_frozen_bank, setup_plain, teardown),
		cmocka_unit_test_setup_teardown(test_bounds, setup_bounded, teardown),
		cmocka_unit_test_setup_teardown(test_two_phase_completion, setup_two_phase,
						teardown),
		cmocka_unit_test_setup_teardown(test_retention, setup_retention, teardown),
		cmocka_unit_test_setup_teardown(test_endpoint_header, setup_bare, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
