/*
 * test_sim_loop.c: the common server loop in process, its callbacks
 * counted. Every bad configuration is refused with its code, and a failed
 * create still destroys clean; a server created and destroyed without
 * running leaves nothing open; a run with a client thread (the loop in
 * this thread, as a simulator runs it) answers, turns, ticks and drains
 * on SIGTERM with each hook called once; records kept across the drain
 * are given back however it ends (answered to a connection that has gone,
 * dropped, or left at the deadline and answered afterwards); a simulator
 * that decodes and encodes its own schema (ops.decode, ops.encode) is
 * answered, refused and dropped as the hooks say.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core.h"
#include "server.h"
#include "support.h"

#define WAIT_MS 5000
#define TRANSMIT "1125103000"
#define KEPT_MAX 16

typedef struct work {
	uint64_t marker; /* zero on arrival, set by the turn */
} work_t;

/* What the callbacks saw. */
typedef struct counts {
	sim_server_t *srv;
	bool keep;            /* every request SIM_KEEP */
	bool drop_first_kept; /* the drain hook drops kept[0] ... */
	bool answer_on_drain; /* ... and answers the others */
	uint32_t turns, requests, ticks, drains, finishes;
	uint32_t dirty_work;  /* work areas not zero on arrival */
	uint32_t conn_ids_seen_mixed;
	uint32_t first_conn_id;
	sim_req_t *kept[KEPT_MAX];
	uint32_t kept_count;
	int answer_rc[KEPT_MAX];
	uint32_t alive_at_drain;
} counts_t;

static void on_turn(void *ctx, sim_req_t **reqs, uint32_t count)
{
	counts_t *c = ctx;
	c->turns++;
	for (uint32_t i = 0; i < count; i++) {
		sim_req_t *req = reqs[i];
		work_t *w = sim_req_work(req);
		c->dirty_work += w->marker != 0;
		w->marker = 0x5a5a;
		c->requests++;
		if (c->first_conn_id == 0)
			c->first_conn_id = req->conn_id;
		c->conn_ids_seen_mixed += req->conn_id != c->first_conn_id;
		assert_true(sim_req_conn_alive(req));
		assert_true(req->read_ms > 0);
		if (req->t.rc == TXN_RC_NONE)
			req->t.rc = TXN_RC_APPROVED;
		if (c->keep) {
			assert_true(c->kept_count < KEPT_MAX);
			req->action = SIM_KEEP;
			c->kept[c->kept_count++] = req;
		}
	}
}

static void on_tick(void *ctx)
{
	((counts_t *)ctx)->ticks++;
}

static void on_drain(void *ctx)
{
	counts_t *c = ctx;
	c->drains++;
	for (uint32_t i = 0; i < c->kept_count; i++)
		c->alive_at_drain += sim_req_conn_alive(c->kept[i]);
	if (!c->answer_on_drain)
		return;
	for (uint32_t i = 0; i < c->kept_count; i++) {
		if (i == 0 && c->drop_first_kept)
			sim_server_drop(c->srv, c->kept[i]);
		else
			c->answer_rc[i] = sim_server_answer(c->srv, c->kept[i]);
	}
	c->kept_count = 0;
}

static void on_finish(void *ctx)
{
	((counts_t *)ctx)->finishes++;
}

static char log_path[256];

static int setup(void **state)
{
	(void)state;
	snprintf(log_path, sizeof(log_path), "/tmp/payswitch-simloop-%d.log",
		 (int)getpid());
	int fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	ps_log_setup("simloop", PS_LOG_DEBUG, fd);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	ps_log_setup("simloop", PS_LOG_INFO, 2);
	unlink(log_path);
	return 0;
}

static int log_count(const char *text)
{
	FILE *f = fopen(log_path, "r");
	if (f == NULL)
		return 0;
	char line[8192];
	int n = 0;
	while (fgets(line, sizeof(line), f) != NULL)
		n += strstr(line, text) != NULL;
	fclose(f);
	return n;
}

static void base_cfg(sim_server_cfg_t *s, counts_t *c)
{
	sim_server_cfg_init(s);
	s->name = "simloop";
	s->chan.kind = CHAN_ISO8583;
	s->chan.dialect = iso8583_dialect_builtin("ascii");
	s->chan.framing.length_header = ISO8583_LENGTH_BINARY2;
	s->chan.framing.dialect = s->chan.dialect;
	s->chan.framing.frame_bytes_max = 4096;
	s->chan.frame_bytes_max = 4096;
	s->connections_max = 4;
	s->inflight_max = 64;
	s->inflight_per_conn_max = 16;
	s->work_bytes = sizeof(work_t);
	s->ops.turn = on_turn;
	s->ops.tick = on_tick;
	s->ops.drain = on_drain;
	s->ops.finish = on_finish;
	s->ctx = c;
}

/* ---- configuration ---------------------------------------------------------- */

/* Creates with s, expecting want; destroys whatever was built. */
static void expect_refused(const sim_server_cfg_t *s, int want,
			   const char *says)
{
	sim_server_t *srv = NULL;
	char err[256] = "";
	assert_int_equal(sim_server_create(s, &srv, err, sizeof(err)), want);
	if (strstr(err, says) == NULL)
		fail_msg("\"%s\" does not say \"%s\"", err, says);
	sim_server_destroy(srv);
}

static void test_bad_configuration_is_refused(void **state)
{
	(void)state;
	counts_t c = {0};
	sim_server_cfg_t s;
	base_cfg(&s, &c);
	s.ops.turn = NULL;
	expect_refused(&s, PS_EINVAL, "turn");
	base_cfg(&s, &c);
	s.connections_max = 0;
	expect_refused(&s, PS_EINVAL, "connections_max");
	base_cfg(&s, &c);
	s.inflight_max = SIM_SERVER_INFLIGHT_MAX + 1;
	expect_refused(&s, PS_EINVAL, "inflight_max");
	base_cfg(&s, &c);
	s.inflight_per_conn_max = 0;
	expect_refused(&s, PS_EINVAL, "inflight_per_conn_max");
	base_cfg(&s, &c);
	s.work_bytes = SIM_SERVER_WORK_BYTES_MAX + 1;
	expect_refused(&s, PS_EINVAL, "work_bytes");
	base_cfg(&s, &c);
	s.answer_bytes_max = 10;
	expect_refused(&s, PS_EINVAL, "answer_bytes_max");
	base_cfg(&s, &c);
	s.drain_ms = 0;
	expect_refused(&s, PS_EINVAL, "drain_ms");
	base_cfg(&s, &c);
	s.chan.dialect = NULL;
	expect_refused(&s, PS_EINVAL, "dialect");
	base_cfg(&s, &c);
	char name[SIM_SERVER_NAME_MAX + 1];
	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	s.name = name;
	expect_refused(&s, PS_EINVAL, "name");
	base_cfg(&s, &c);
	s.listen = "nowhere";
	expect_refused(&s, PS_EINVAL, "HOST:PORT");
	base_cfg(&s, &c);
	s.listen = "localhost:0"; /* names, not addresses */
	expect_refused(&s, PS_EINVAL, "--listen localhost:0");
	base_cfg(&s, &c);
	s.ready_file = "/nonexistent/dir/ready.json";
	expect_refused(&s, PS_EIO, "cannot write the ready file");
	/* A port already taken. */
	base_cfg(&s, &c);
	sim_server_t *first = NULL;
	char err[256];
	assert_int_equal(sim_server_create(&s, &first, err, sizeof(err)), 0);
	char taken[32];
	snprintf(taken, sizeof(taken), "127.0.0.1:%u", sim_server_port(first));
	s.listen = taken;
	expect_refused(&s, PS_EIO, "--listen 127.0.0.1:");
	sim_server_destroy(first);
	/* The finish hook is for what the simulator started: never after a
	 * failed create; once for the one that was built. */
	assert_int_equal(c.finishes, 1);
	assert_int_equal(log_count("loop_not_clean"), 0);
}

/* Created and destroyed without running: the ready file is there,
 * whole, with the bound port; nothing is left open. */
static void test_create_and_destroy_without_running(void **state)
{
	(void)state;
	char dir[256], ready[320];
	ts_tmpdir("simloop", dir, sizeof(dir));
	snprintf(ready, sizeof(ready), "%s/ready.json", dir);
	counts_t c = {0};
	sim_server_cfg_t s;
	base_cfg(&s, &c);
	s.ready_file = ready;
	sim_server_t *srv = NULL;
	char err[256];
	assert_int_equal(sim_server_create(&s, &srv, err, sizeof(err)), 0);
	uint16_t port = sim_server_port(srv);
	assert_true(port > 0);
	json_t *r = json_load_file(ready, 0, NULL);
	assert_non_null(r);
	assert_int_equal(json_integer_value(json_object_get(r, "port")), port);
	assert_int_equal(json_integer_value(json_object_get(r, "pid")), getpid());
	assert_string_equal(json_string_value(json_object_get(r, "name")), "simloop");
	json_decref(r);
	assert_false(sim_server_draining(srv));
	sim_server_destroy(srv);
	assert_int_equal(c.finishes, 1);
	assert_int_equal(c.turns, 0);
	assert_int_equal(log_count("loop_not_clean"), 0);
	assert_int_equal(ts_try_connect(port), -1);
	ts_rmrf(dir);
}

/* ---- running ------------------------------------------------------------------ */

typedef struct client {
	uint16_t port;
	uint32_t count;       /* requests to send */
	bool close_first;     /* close the connection before the signal */
	bool second_signal;
	/* What it saw. */
	uint32_t answered, approved, refused;
	bool closed_by_server;
} client_t;

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
	if (txn_leg_to_iso(&t, 0, iso8583_dialect_builtin("ascii"), &msg) != 0)
		abort();
	if (proc != NULL)
		iso8583_set(&msg, 3, proc, 6);
	ts_iso_send(fd, &msg);
}

/* The client thread: plain sockets and counts, no cmocka (its asserts
 * belong to the main thread); the main thread checks what it saw. */
static void *client_main(void *arg)
{
	client_t *cl = arg;
	int fd = ts_connect(cl->port, WAIT_MS);
	for (uint32_t i = 0; i < cl->count; i++)
		send_0200(fd, 1 + i, i == 0 ? "010000" : NULL);
	if (!cl->close_first) {
		for (uint32_t i = 0; i < cl->count; i++) {
			uint8_t buf[4096];
			iso8583_msg_t msg;
			char code[3] = "";
			if (!ts_iso_recv(fd, iso8583_dialect_builtin("ascii"), &msg,
					 buf, sizeof(buf), WAIT_MS))
				break;
			iso8583_get_text(&msg, 39, code, sizeof(code), NULL);
			cl->answered++;
			cl->approved += strcmp(code, "00") == 0;
			cl->refused += strcmp(code, "12") == 0;
		}
		ts_sleep_ms(60); /* a few ticks */
	} else {
		ts_sleep_ms(100); /* the server sees the records first */
		close(fd);
		ts_sleep_ms(100); /* ... then the close */
	}
	kill(getpid(), SIGTERM);
	if (cl->second_signal) {
		ts_sleep_ms(50);
		kill(getpid(), SIGTERM);
	}
	if (!cl->close_first) {
		cl->closed_by_server = ts_wait_closed(fd, WAIT_MS);
		close(fd);
	}
	return NULL;
}

/* Runs srv with a client thread doing cl; returns sim_server_run's code. */
static int run_with_client(sim_server_t *srv, client_t *cl)
{
	cl->port = sim_server_port(srv);
	pthread_t thread;
	assert_int_equal(pthread_create(&thread, NULL, client_main, cl), 0);
	int rc = sim_server_run(srv);
	assert_int_equal(pthread_join(thread, NULL), 0);
	return rc;
}

/* Answers, turns, ticks, and a drain on SIGTERM, each hook once; the work
 * area is zero for every request; the loop closes clean. */
static void test_run_answers_ticks_and_drains(void **state)
{
	(void)state;
	counts_t c = {0};
	sim_server_cfg_t s;
	base_cfg(&s, &c);
	s.tick_ms = 5;
	sim_server_t *srv = NULL;
	char err[256];
	assert_int_equal(sim_server_create(&s, &srv, err, sizeof(err)), 0);
	c.srv = srv;
	client_t cl = {.count = 50};
	assert_int_equal(run_with_client(srv, &cl), 0);
	assert_int_equal(cl.answered, 50);
	assert_int_equal(cl.refused, 1); /* proc 01: refused at intake */
	assert_int_equal(cl.approved, 49);
	assert_true(cl.closed_by_server);
	assert_int_equal(c.requests, 50);
	assert_true(c.turns >= 1 && c.turns <= 50);
	assert_true(c.ticks >= 1);
	assert_int_equal(c.drains, 1);
	assert_int_equal(c.finishes, 1);
	assert_int_equal(c.dirty_work, 0);
	assert_int_equal(c.conn_ids_seen_mixed, 0);
	const sim_server_stats_t *st = sim_server_stats(srv);
	assert_int_equal(st->requests, 50);
	assert_int_equal(st->answers, 50);
	assert_int_equal(st->turns, c.turns);
	assert_int_equal(st->conns_accepted, 1);
	assert_true(sim_server_draining(srv));
	assert_int_equal(sim_server_run(srv), PS_ESTATE);
	sim_server_destroy(srv);
	assert_int_equal(c.finishes, 1);
	assert_int_equal(log_count("loop_not_clean"), 0);
	assert_int_equal(log_count("\"event\":\"refused\""), 1);
}

/* Kept records whose connection has gone: the drain hook drops one and
 * answers the rest, which find nobody (PS_ECLOSED); the drain then ends
 * at once, not at its deadline. */
static void test_kept_after_the_peer_left(void **state)
{
	(void)state;
	counts_t c = {.keep = true, .drop_first_kept = true, .answer_on_drain = true};
	sim_server_cfg_t s;
	base_cfg(&s, &c);
	sim_server_t *srv = NULL;
	char err[256];
	assert_int_equal(sim_server_create(&s, &srv, err, sizeof(err)), 0);
	c.srv = srv;
	client_t cl = {.count = 3, .close_first = true};
	uint64_t t0 = ts_now_ms();
	assert_int_equal(run_with_client(srv, &cl), 0);
	assert_true(ts_now_ms() - t0 < SIM_SERVER_DRAIN_MS_DEFAULT);
	assert_int_equal(c.requests, 3);
	assert_int_equal(c.alive_at_drain, 0);
	assert_int_equal(c.answer_rc[1], PS_ECLOSED);
	assert_int_equal(c.answer_rc[2], PS_ECLOSED);
	const sim_server_stats_t *st = sim_server_stats(srv);
	assert_int_equal(st->dropped, 1);
	assert_int_equal(st->answers, 0);
	sim_server_destroy(srv);
	assert_int_equal(log_count("loop_not_clean"), 0);
}

/* Kept and never given back: the drain ends at its deadline
 * (PS_ETIMEDOUT), and a record answered after the end finds its
 * connection closed. A second signal ends a drain at once instead. */
static void test_drain_deadline_and_second_signal(void **state)
{
	(void)state;
	for (int second = 0; second < 2; second++) {
		counts_t c = {.keep = true};
		sim_server_cfg_t s;
		base_cfg(&s, &c);
		s.drain_ms = second ? 60000 : 150;
		sim_server_t *srv = NULL;
		char err[256];
		assert_int_equal(sim_server_create(&s, &srv, err, sizeof(err)), 0);
		c.srv = srv;
		/* No answer will come: the client leaves, then signals. */
		client_t cl = {.count = 2, .close_first = true,
			       .second_signal = second == 1};
		uint64_t t0 = ts_now_ms();
		int rc = run_with_client(srv, &cl);
		assert_int_equal(rc, second ? 0 : PS_ETIMEDOUT);
		assert_true(ts_now_ms() - t0 < 5000);
		assert_int_equal(c.finishes, 1);
		assert_int_equal(c.kept_count, 2);
		assert_int_equal(sim_server_answer(srv, c.kept[0]), PS_ECLOSED);
		sim_server_drop(srv, c.kept[1]);
		sim_server_destroy(srv);
		/* One log for both rounds: only the first timed out. */
		assert_int_equal(log_count("\"event\":\"drain_timeout\""), 1);
		assert_int_equal(log_count("loop_not_clean"), 0);
	}
}

/* ---- a schema of the simulator's own (ops.decode, ops.encode) ------------------- */

/* Lines "ID WORD": "!" as the word is refused (answerable), a line
 * without a space has no keys, and "big" is answered with more than fits
 * (an encode error). */
typedef struct line_work {
	char id[16];
	char word[16];
	bool refused;
} line_work_t;

static int line_decode(void *ctx, sim_req_t *req, const chan_frame_t *frame,
		       txn_error_t *err)
{
	(void)ctx;
	line_work_t *w = sim_req_work(req);
	const char *sp = memchr(frame->data, ' ', frame->len);
	size_t idlen = sp == NULL ? 0 : (size_t)(sp - (const char *)frame->data);
	size_t wlen = sp == NULL ? 0 : frame->len - idlen - 1;
	if (idlen == 0 || idlen >= sizeof(w->id) || wlen >= sizeof(w->word)) {
		ps_strlcpy(err->field, "id", sizeof(err->field));
		ps_strlcpy(err->reason, "none to answer by", sizeof(err->reason));
		return TXN_EKEYS;
	}
	memcpy(w->id, frame->data, idlen);
	memcpy(w->word, sp + 1, wlen);
	ps_strlcpy(req->t.request_id, w->id, sizeof(req->t.request_id));
	if (strcmp(w->word, "!") == 0) {
		w->refused = true;
		ps_strlcpy(err->field, "word", sizeof(err->field));
		ps_strlcpy(err->reason, "must not be !", sizeof(err->reason));
		return TXN_EFORMAT;
	}
	return 0;
}

static int line_encode(void *ctx, const sim_req_t *req, uint8_t *out,
		       size_t cap, size_t *len)
{
	(void)ctx;
	const line_work_t *w = sim_req_work((sim_req_t *)req);
	if (strcmp(w->word, "big") == 0)
		return TXN_ENOSPC;
	int n = req->t.rc == TXN_RC_APPROVED
			? snprintf((char *)out, cap, "%s ok %s\n", w->id, w->word)
			: snprintf((char *)out, cap, "%s refused %u\n", w->id,
				   (unsigned)req->t.rc);
	if (n < 0 || (size_t)n >= cap)
		return TXN_ENOSPC;
	*len = (size_t)n;
	return 0;
}

static void line_turn(void *ctx, sim_req_t **reqs, uint32_t count)
{
	counts_t *c = ctx;
	c->turns++;
	for (uint32_t i = 0; i < count; i++) {
		line_work_t *w = sim_req_work(reqs[i]);
		c->requests++;
		/* Refused at intake: the loop set the code, the work area
		 * says why. */
		c->dirty_work += w->refused != (reqs[i]->t.rc != TXN_RC_NONE);
		if (reqs[i]->t.rc == TXN_RC_NONE)
			reqs[i]->t.rc = TXN_RC_APPROVED;
	}
}

typedef struct line_client {
	uint16_t port;
	char got[4][64];
	uint32_t got_count;
} line_client_t;

static void *line_client_main(void *arg)
{
	line_client_t *cl = arg;
	int fd = ts_connect(cl->port, WAIT_MS);
	ts_send_all(fd, "a1 hello\nnokeys\na2 !\na3 big\na4 bye\n", 35);
	while (cl->got_count < 4 &&
	       ts_recv_line(fd, cl->got[cl->got_count], sizeof(cl->got[0]),
			    cl->got_count < 3 ? WAIT_MS : 200))
		cl->got_count++;
	kill(getpid(), SIGTERM);
	(void)ts_wait_closed(fd, WAIT_MS);
	close(fd);
	return NULL;
}

static bool got_line(const line_client_t *cl, const char *line)
{
	for (uint32_t i = 0; i < cl->got_count; i++)
		if (strcmp(cl->got[i], line) == 0)
			return true;
	return false;
}

/* A simulator that reads and writes its own schema: what decodes is
 * answered through ops.encode, a refusal reaches the turn with its code
 * and is answered, a frame without keys is dropped (bad_message), and an
 * answer that does not encode is dropped (encode_error). */
static void test_own_decode_and_encode(void **state)
{
	(void)state;
	counts_t c = {0};
	sim_server_cfg_t s;
	base_cfg(&s, &c);
	s.chan.kind = CHAN_JSON;
	s.chan.frame_bytes_max = TXN_JSON_LINE_MAX;
	s.work_bytes = sizeof(line_work_t);
	s.ops.turn = line_turn;
	s.ops.decode = line_decode;
	s.ops.encode = line_encode;
	sim_server_t *srv = NULL;
	char err[256];
	assert_int_equal(sim_server_create(&s, &srv, err, sizeof(err)), 0);
	line_client_t cl = {.port = sim_server_port(srv)};
	pthread_t thread;
	assert_int_equal(pthread_create(&thread, NULL, line_client_main, &cl), 0);
	assert_int_equal(sim_server_run(srv), 0);
	assert_int_equal(pthread_join(thread, NULL), 0);
	assert_int_equal(cl.got_count, 3);
	assert_true(got_line(&cl, "a1 ok hello"));
	assert_true(got_line(&cl, "a2 refused 30"));
	assert_true(got_line(&cl, "a4 ok bye"));
	assert_int_equal(c.requests, 4);
	assert_int_equal(c.dirty_work, 0);
	const sim_server_stats_t *st = sim_server_stats(srv);
	assert_int_equal(st->requests, 5);
	assert_int_equal(st->format_errors, 1);
	assert_int_equal(st->encode_errors, 1);
	assert_int_equal(st->answers, 3);
	sim_server_destroy(srv);
	assert_int_equal(log_count("\"event\":\"bad_message\""), 1);
	assert_int_equal(log_count("id: none to answer by"), 1);
	assert_int_equal(log_count("word: must not be !"), 1);
	assert_int_equal(log_count("\"event\":\"encode_error\""), 1);
	assert_int_equal(log_count("loop_not_clean"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_bad_configuration_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_and_destroy_without_running, setup, teardown),
		cmocka_unit_test_setup_teardown(test_run_answers_ticks_and_drains, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kept_after_the_peer_left, setup, teardown),
		cmocka_unit_test_setup_teardown(test_drain_deadline_and_second_signal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_own_decode_and_encode, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
