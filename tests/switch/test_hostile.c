/*
 * test_hostile.c: one client never hurts another, and no channel moves
 * money it has no right to (issue 9), against real switchd and banksim
 * processes:
 *
 *  - a PSP that sends and never reads is stopped being read, then closed
 *    for not reading, while another PSP's pays and an acquirer's purchase
 *    go on unaffected (every answer, within a stated latency);
 *  - a frame begun and never finished, and blank keep-alive lines, do not
 *    hold a connection; one address cannot take every connection;
 *  - a peer that half-closes after its request still gets its answer;
 *  - an approved card answer that cannot be delivered is reversed;
 *  - listeners permit only their operations, field 32 must be one of the
 *    listener's acquirers, a PSP must say hello first, an acquirer's
 *    refund needs the purchase it refunds and cannot exceed it;
 *  - answers to bad input match docs/protocol.md.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fixture.h"

#define BANK_A 0
#define BANK_B 1
/* What "unaffected" means here: every answer of the well-behaved client
 * within this, on a loaded 2-core machine (an answer takes a few ms). */
#define NEIGHBOUR_LATENCY_MAX_MS 3000

static fx_t fx;

static int setup_hostile(void **state)
{
	(void)state;
	fx_init(&fx, "hostile");
	fx.connections_per_peer_max = 6;
	fx.psp_extra = ", \"write_timeout_ms\": 1000, \"frame_timeout_ms\": 400,"
		       " \"queued_answers_max\": 8";
	fx.acq_extra = ", \"frame_timeout_ms\": 400, \"operations\": [\"purchase\","
		       " \"balance\", \"reversal\", \"refund_credit\"]";
	fx_start(&fx);
	return 0;
}

static int setup_idle(void **state)
{
	(void)state;
	fx_init(&fx, "idle");
	fx.psp_extra = ", \"idle_timeout_ms\": 800";
	fx_start(&fx);
	return 0;
}

static int setup_slow_bank(void **state)
{
	(void)state;
	fx_init(&fx, "undelivered");
	fx.timeout_ms = 3000;
	fx.extra_bank_a_args[0] = "--latency-ms";
	fx.extra_bank_a_args[1] = "400";
	fx_start(&fx);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	fx_stop(&fx);
	return 0;
}

/* A counter of `stats` under a member object ("connections_closed"). */
static int64_t nested_stat(const char *object, const char *key)
{
	json_t *j = ts_control(fx.control, "stats");
	int64_t v = j ? (int64_t)json_integer_value(
				json_object_get(json_object_get(j, object), key))
		      : -1;
	json_decref(j);
	return v;
}

static bool wait_nested_stat(const char *object, const char *key, int64_t want,
			     int timeout_ms)
{
	uint64_t end = ts_now_ms() + (uint64_t)timeout_ms;
	while (nested_stat(object, key) < want) {
		if (ts_now_ms() > end)
			return false;
		ts_sleep_ms(20);
	}
	return true;
}

/* A 0200 from the acq listener's acquirer (field 32 48020000). */
static void purchase_msg(iso8583_msg_t *m, const char *proc, const char *pan,
			 int64_t amount, uint32_t stan)
{
	iso8583_msg_init(m, iso8583_dialect_builtin("ascii"));
	iso8583_set_mti(m, "0200");
	iso8583_set_str(m, 2, pan);
	iso8583_set_str(m, 3, proc);
	iso8583_set_num(m, 4, (uint64_t)amount);
	iso8583_set_str(m, 7, "1203101500");
	iso8583_set_num(m, 11, stan);
	iso8583_set_str(m, 32, "48020000");
	iso8583_set_str(m, 41, "TERM0001");
	iso8583_set_str(m, 49, "156");
}

/* Sends m on a new acquirer connection; its answer's field 39 ("" when
 * none came: the connection closed). */
static const char *acq_call(const iso8583_msg_t *m, iso8583_msg_t *answer)
{
	static uint8_t buf[4096];
	int fd = ts_connect(fx.acq, 5000);
	ts_iso_send(fd, m);
	bool ok = ts_iso_recv(fd, iso8583_dialect_builtin("ascii"), answer, buf,
			      sizeof(buf), 10000);
	close(fd);
	return ok ? fx_field(answer, 39) : "";
}

/* ---- one client never hurts another ------------------------------------ */

static void test_non_reading_client(void **state)
{
	(void)state;
	int64_t dropped0 = fx_stat(&fx, "stats", "answers_dropped");
	/* The hog: echo after echo, never reading an answer, until the
	 * switch stops reading it (its sends block for half a second). */
	int hog = fx_psp_open(&fx);
	fcntl(hog, F_SETFL, fcntl(hog, F_GETFL) | O_NONBLOCK);
	char line[64];
	int sent = 0;
	bool stalled = false;
	uint64_t end = ts_now_ms() + 30000, blocked_since = 0;
	int len = 0, off = 0;
	while (!stalled && ts_now_ms() < end && sent < 2000000) {
		if (off == len) {
			len = snprintf(line, sizeof(line),
				       "{\"op\":\"echo\",\"id\":\"H-%d\"}\n", sent);
			off = 0;
		}
		ssize_t w = send(hog, line + off, (size_t)(len - off), MSG_NOSIGNAL);
		if (w > 0) {
			off += (int)w;
			if (off == len)
				sent++;
			blocked_since = 0;
			continue;
		}
		/* On a loaded machine filling the socket buffers can take
		 * longer than write_timeout_ms: the switch has then closed the
		 * hog already, which is where this was going anyway. */
		if (w < 0 && (errno == EPIPE || errno == ECONNRESET)) {
			stalled = true;
			break;
		}
		assert_true(w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
		if (blocked_since == 0)
			blocked_since = ts_now_ms();
		stalled = ts_now_ms() - blocked_since > 500;
		ts_sleep_ms(5);
	}
	fprintf(stderr, "the hog sent %d echoes before the switch stopped reading it"
		" (or closed it)\n", sent);
	assert_true(stalled);
	assert_true(fx_stat(&fx, "stats", "backpressure_pauses") >= 1);

	/* Meanwhile: 40 pays pipelined on the fixture's PSP connection, a
	 * card purchase, a new connection's echo. */
	uint64_t t0 = ts_now_ms();
	for (int i = 0; i < 40; i++) {
		char req[512];
		snprintf(req, sizeof(req),
			 "{\"op\":\"pay\",\"id\":\"N-%d\",\"payer\":{\"account\":\"%s\"},"
			 "\"payee\":{\"account\":\"%s\"},\"amount\":10,\"currency\":\"CNY\"}",
			 i, A_RICH, B_SHOP);
		ts_send_line(fx.psp_fd, req);
	}
	uint64_t worst = 0;
	for (int i = 0; i < 40; i++) {
		char id[16];
		snprintf(id, sizeof(id), "N-%d", i);
		json_t *a = ts_json_wait(fx.psp_fd, id, NEIGHBOUR_LATENCY_MAX_MS);
		assert_non_null(a);
		assert_string_equal(fx_str(a, "code"), "00");
		json_decref(a);
		if (ts_now_ms() - t0 > worst)
			worst = ts_now_ms() - t0;
	}
	fprintf(stderr, "40 pipelined pays beside the hog: all approved, the last "
		"after %llu ms\n", (unsigned long long)worst);
	assert_true(worst < NEIGHBOUR_LATENCY_MAX_MS);
	iso8583_msg_t m, r;
	purchase_msg(&m, "000000", A_RICH, 100, 900001);
	assert_string_equal(acq_call(&m, &r), "00");
	int fresh = fx_psp_open(&fx);
	json_t *a = ts_json_call(fresh, "{\"op\":\"echo\",\"id\":\"fresh\"}", 5000);
	assert_non_null(a);
	assert_string_equal(fx_str(a, "status"), "ok");
	json_decref(a);
	close(fresh);

	/* The hog is closed for not reading (write_timeout_ms 1000), its
	 * answers counted as dropped. */
	assert_true(wait_nested_stat("connections_closed", "not_reading", 1, 10000));
	assert_true(fx_stat(&fx, "stats", "answers_dropped") > dropped0);
	close(hog);
	/* And the log says so in a few lines, not one per answer. */
	FILE *log = fopen(fx.switchd.log, "r");
	assert_non_null(log);
	int lines = 0;
	for (int ch; (ch = fgetc(log)) != EOF;)
		lines += ch == '\n';
	fclose(log);
	fprintf(stderr, "switchd wrote %d log lines in all\n", lines);
	assert_true(lines < 1000);
}

static void test_slow_frames(void **state)
{
	(void)state;
	int64_t frames0 = nested_stat("connections_closed", "frame_timeout");
	/* A JSON line that trickles in, a byte at a time. */
	int fd = fx_psp_open(&fx);
	const char *start = "{\"op\":\"echo\",\"id\":\"T";
	ts_send_all(fd, start, strlen(start));
	for (int i = 0; i < 5; i++) {
		ts_send_all(fd, "x", 1);
		ts_sleep_ms(100);
	}
	assert_true(ts_wait_closed(fd, 3000));
	close(fd);
	/* An ISO 8583 length header that claims 1000 bytes, then 4. */
	fd = ts_connect(fx.acq, 5000);
	uint8_t head[6] = {0x03, 0xe8, '0', '2', '0', '0'};
	ts_send_all(fd, head, sizeof(head));
	assert_true(ts_wait_closed(fd, 3000));
	close(fd);
	assert_true(nested_stat("connections_closed", "frame_timeout") >= frames0 + 2);
}

static void test_keepalives_are_not_messages(void **state)
{
	(void)state;
	int64_t idle0 = nested_stat("connections_closed", "idle_timeout");
	/* Blank lines are keep-alives, not messages: idle_timeout_ms (800)
	 * closes a connection that sends nothing else. */
	int fd = fx_psp_open(&fx);
	uint64_t t0 = ts_now_ms();
	bool closed = false;
	while (!closed && ts_now_ms() - t0 < 5000) {
		if (send(fd, "\n", 1, MSG_NOSIGNAL) != 1)
			break;
		closed = ts_wait_closed(fd, 100);
	}
	assert_true(closed || ts_wait_closed(fd, 1000));
	assert_true(ts_now_ms() - t0 < 4000);
	close(fd);
	assert_true(nested_stat("connections_closed", "idle_timeout") >= idle0 + 1);
}

static void test_connections_per_peer(void **state)
{
	(void)state;
	/* The fixture's connection is one of the six from 127.0.0.1. */
	int fd[5];
	for (int i = 0; i < 5; i++)
		fd[i] = fx_psp_open(&fx);
	int extra = ts_connect(fx.psp, 5000);
	assert_true(ts_wait_closed(extra, 5000));
	close(extra);
	assert_true(nested_stat("connections_refused", "connections_per_peer_max") >= 1);
	json_t *a = ts_json_call(fd[4], "{\"op\":\"echo\",\"id\":\"still\"}", 5000);
	assert_non_null(a);
	json_decref(a);
	for (int i = 0; i < 5; i++)
		close(fd[i]);
}

static void test_half_close(void **state)
{
	(void)state;
	/* A PSP that shuts its side down right after its pay. */
	int fd = fx_psp_open(&fx);
	char req[512];
	snprintf(req, sizeof(req),
		 "{\"op\":\"pay\",\"id\":\"HC-1\",\"payer\":{\"account\":\"%s\"},"
		 "\"payee\":{\"account\":\"%s\"},\"amount\":25,\"currency\":\"CNY\"}",
		 A_RICH, B_SHOP);
	ts_send_line(fd, req);
	shutdown(fd, SHUT_WR);
	json_t *a = ts_json_wait(fd, "HC-1", 5000);
	assert_non_null(a);
	assert_string_equal(fx_str(a, "code"), "00");
	json_decref(a);
	assert_true(ts_wait_closed(fd, 5000)); /* then the switch closes */
	close(fd);
	/* An acquirer that does the same after its 0200. */
	iso8583_msg_t m, r;
	purchase_msg(&m, "000000", A_RICH, 50, 900101);
	fd = ts_connect(fx.acq, 5000);
	ts_iso_send(fd, &m);
	shutdown(fd, SHUT_WR);
	uint8_t buf[2048];
	assert_true(ts_iso_recv(fd, iso8583_dialect_builtin("ascii"), &r, buf,
				sizeof(buf), 5000));
	assert_string_equal(fx_field(&r, 39), "00");
	assert_string_equal(fx_field(&r, 11), "900101");
	close(fd);
}

/* ---- no channel moves money it has no right to --------------------------- */

static void test_operations_permitted(void **state)
{
	(void)state;
	int64_t before = fx_balance(&fx, BANK_A, A_SPARE);
	iso8583_msg_t m, r;
	/* A credit (26) is not an acquirer's to send. */
	purchase_msg(&m, "260000", A_SPARE, 5000, 900201);
	assert_string_equal(acq_call(&m, &r), "58");
	assert_true(fx_stat(&fx, "stats", "not_permitted") >= 1);
	/* Field 32 must be one of the listener's acquirers. */
	purchase_msg(&m, "000000", A_SPARE, 100, 900202);
	iso8583_set_str(&m, 32, "99999999");
	assert_string_equal(acq_call(&m, &r), "63");
	purchase_msg(&m, "000000", A_SPARE, 100, 900203);
	iso8583_unset(&m, 32);
	assert_string_equal(acq_call(&m, &r), "30");
	assert_int_equal(fx_balance(&fx, BANK_A, A_SPARE), before);
	/* A PSP says hello before anything else. */
	int fd = ts_connect(fx.psp, 5000);
	char req[512];
	snprintf(req, sizeof(req),
		 "{\"op\":\"pay\",\"id\":\"NH-1\",\"payer\":{\"account\":\"%s\"},"
		 "\"payee\":{\"account\":\"%s\"},\"amount\":25,\"currency\":\"CNY\"}",
		 A_SPARE, B_SHOP);
	json_t *a = ts_json_call(fd, req, 5000);
	assert_non_null(a);
	assert_string_equal(fx_str(a, "code"), "63");
	assert_non_null(strstr(fx_str(a, "reason"), "hello first"));
	json_decref(a);
	close(fd);
	assert_int_equal(fx_balance(&fx, BANK_A, A_SPARE), before);
}

/* Field 90 naming the 0200 with this STAN (the message borrows the
 * text: it stays until the next call). */
static void set_original(iso8583_msg_t *m, uint32_t stan)
{
	static char od[43];
	snprintf(od, sizeof(od), "0200%06u1203101500%011d%011d", stan, 48020000, 0);
	iso8583_set_str(m, 90, od);
}

static void test_acquirer_refund_needs_its_purchase(void **state)
{
	(void)state;
	int64_t before = fx_balance(&fx, BANK_A, A_SPARE);
	iso8583_msg_t m, r;
	purchase_msg(&m, "000000", A_SPARE, 1000, 900301);
	assert_string_equal(acq_call(&m, &r), "00");
	assert_int_equal(fx_balance(&fx, BANK_A, A_SPARE), before - 1000);
	/* Without field 90: refused, nothing credited. */
	purchase_msg(&m, "200000", A_SPARE, 400, 900302);
	assert_string_equal(acq_call(&m, &r), "12");
	/* Within the purchase: credited. */
	purchase_msg(&m, "200000", A_SPARE, 400, 900303);
	set_original(&m, 900301);
	assert_string_equal(acq_call(&m, &r), "00");
	assert_int_equal(fx_balance(&fx, BANK_A, A_SPARE), before - 600);
	/* Beyond what is left of it: 13. */
	purchase_msg(&m, "200000", A_SPARE, 700, 900304);
	set_original(&m, 900301);
	assert_string_equal(acq_call(&m, &r), "13");
	/* Of a purchase that never was: 25. */
	purchase_msg(&m, "200000", A_SPARE, 100, 900305);
	set_original(&m, 909999);
	assert_string_equal(acq_call(&m, &r), "25");
	/* To another card than the purchase's: 12. */
	purchase_msg(&m, "200000", A_RICH, 100, 900306);
	set_original(&m, 900301);
	assert_string_equal(acq_call(&m, &r), "12");
	assert_int_equal(fx_balance(&fx, BANK_A, A_SPARE), before - 600);
}

/* ---- answers that match the docs ------------------------------------------ */

static void test_bad_input_answers(void **state)
{
	(void)state;
	iso8583_msg_t m, r;
	/* An unsupported processing code: 12, echoing 4 and 49. */
	purchase_msg(&m, "990000", A_SPARE, 4321, 900401);
	assert_string_equal(acq_call(&m, &r), "12");
	assert_string_equal(fx_field(&r, 4), "000000004321");
	assert_string_equal(fx_field(&r, 49), "156");
	assert_string_equal(fx_field(&r, 11), "900401");
	/* An MTI the switch does not take: answered 12, not ignored. */
	purchase_msg(&m, "000000", A_SPARE, 1, 900402);
	iso8583_set_mti(&m, "9999");
	assert_string_equal(acq_call(&m, &r), "12");
	assert_memory_equal(r.mti, "9910", 4);
	/* A reversal of an original that never existed: 25; an advice of
	 * one: acknowledged. */
	iso8583_msg_init(&m, iso8583_dialect_builtin("ascii"));
	iso8583_set_mti(&m, "0400");
	iso8583_set_str(&m, 2, A_SPARE);
	iso8583_set_str(&m, 3, "000000");
	iso8583_set_num(&m, 4, 100);
	iso8583_set_str(&m, 7, "1203101600");
	iso8583_set_num(&m, 11, 900403);
	iso8583_set_str(&m, 32, "48020000");
	iso8583_set_str(&m, 49, "156");
	set_original(&m, 908888);
	assert_string_equal(acq_call(&m, &r), "25");
	iso8583_set_mti(&m, "0420");
	iso8583_set_num(&m, 11, 900404);
	assert_string_equal(acq_call(&m, &r), "00");
	/* A 0200 without a STAN cannot be answered: the connection closes. */
	purchase_msg(&m, "000000", A_SPARE, 1, 900405);
	iso8583_unset(&m, 11);
	int fd = ts_connect(fx.acq, 5000);
	ts_iso_send(fd, &m);
	assert_true(ts_wait_closed(fd, 5000));
	close(fd);
}

/* ---- an approval nobody received is undone ------------------------------- */

static void test_undelivered_card_answer_is_reversed(void **state)
{
	(void)state;
	int64_t before = fx_balance(&fx, BANK_A, A_SPARE);
	iso8583_msg_t m, r;
	purchase_msg(&m, "000000", A_SPARE, 777, 900501);
	int fd = ts_connect(fx.acq, 5000);
	ts_iso_send(fd, &m);
	ts_sleep_ms(100); /* the bank has it, and answers in 400 ms */
	/* The acquirer's connection breaks (a reset, as when its host
	 * dies): the switch knows its answer cannot be delivered. A peer
	 * that closes gracefully is written to as after a half-close. */
	struct linger lg = {.l_onoff = 1, .l_linger = 0};
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
	/* The bank approved it; nobody could be told: reversed. */
	assert_true(fx_wait_balance(&fx, BANK_A, A_SPARE, before, 10000));
	assert_true(fx_wait_saf_empty(&fx, 10000));
	/* The acquirer repeats it: the answer it would have had is 68. */
	assert_string_equal(acq_call(&m, &r), "68");
	assert_int_equal(fx_balance(&fx, BANK_A, A_SPARE), before);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_non_reading_client, setup_hostile, teardown),
		cmocka_unit_test_setup_teardown(test_slow_frames, setup_hostile, teardown),
		cmocka_unit_test_setup_teardown(test_keepalives_are_not_messages, setup_idle, teardown),
		cmocka_unit_test_setup_teardown(test_connections_per_peer, setup_hostile, teardown),
		cmocka_unit_test_setup_teardown(test_half_close, setup_hostile, teardown),
		cmocka_unit_test_setup_teardown(test_operations_permitted, setup_hostile, teardown),
		cmocka_unit_test_setup_teardown(test_acquirer_refund_needs_its_purchase, setup_hostile, teardown),
		cmocka_unit_test_setup_teardown(test_bad_input_answers, setup_hostile, teardown),
		cmocka_unit_test_setup_teardown(test_undelivered_card_answer_is_reversed, setup_slow_bank, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
