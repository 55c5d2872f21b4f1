/*
 * test_flow_unit.c: the flows (switch/flow.h) in process, one step at a
 * time, against two scripted banks that are plain sockets of the test.
 *
 * The switch runs in this thread, turned by sw_server_step() between the
 * test's own reads and writes, so every message that reaches a bank is
 * seen, decoded and answered (or not) by the test itself: what each flow
 * sends, in which order, with which processing code and field 90, and
 * what the origin is answered. Nothing else runs; nothing is timed but
 * the switch's own deadlines.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "routing.h"
#include "support.h"
#include "switch.h"

#define WAIT_MS 5000
#define TIMEOUT_MS 300

typedef struct bank {
	int listen_fd;
	int fd;
	uint16_t port;
} bank_t;

typedef struct fixture {
	char dir[512];
	char ready[600];
	sw_server_t *sw;
	bank_t bank[2];
	int psp;
} fixture_t;

static const iso8583_dialect_t *ascii(void)
{
	return iso8583_dialect_builtin("ascii");
}

static void bank_listen(bank_t *b)
{
	b->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	assert_int_equal(bind(b->listen_fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(b->listen_fd, 4), 0);
	socklen_t len = sizeof(a);
	getsockname(b->listen_fd, (struct sockaddr *)&a, &len);
	b->port = ntohs(a.sin_port);
	b->fd = -1;
}

/* Turns the switch until fd is readable (or ms passed). */
static bool pump_until_readable(fixture_t *f, int fd, int ms)
{
	uint64_t end = ts_now_ms() + (uint64_t)ms;
	while (ts_now_ms() < end) {
		sw_server_step(f->sw);
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, 1) == 1)
			return true;
	}
	return false;
}

static void pump_for(fixture_t *f, int ms)
{
	uint64_t end = ts_now_ms() + (uint64_t)ms;
	while (ts_now_ms() < end) {
		sw_server_step(f->sw);
		ts_sleep_ms(1);
	}
}

/* Accepts the switch's link to bank b (it connects at start). */
static void bank_accept(fixture_t *f, bank_t *b)
{
	assert_true(pump_until_readable(f, b->listen_fd, WAIT_MS));
	b->fd = accept(b->listen_fd, NULL, NULL);
	assert_true(b->fd >= 0);
}

/* The next request the switch sends bank b, decoded. */
static txn_t bank_take(fixture_t *f, bank_t *b)
{
	if (!pump_until_readable(f, b->fd, WAIT_MS))
		fail_msg("the bank got nothing");
	static uint8_t buf[4096];
	iso8583_msg_t msg;
	assert_true(ts_iso_recv(b->fd, ascii(), &msg, buf, sizeof(buf), 1000));
	txn_t t;
	txn_error_t err;
	assert_int_equal(txn_from_iso(&msg, &t, &err), 0);
	return t;
}

/* Nothing reaches bank b for ms. */
static bool bank_quiet(fixture_t *f, bank_t *b, int ms)
{
	return !pump_until_readable(f, b->fd, ms);
}

static void bank_answer(bank_t *b, txn_t *req, uint8_t rc)
{
	req->rc = rc;
	if (rc == TXN_RC_APPROVED)
		ps_strlcpy(req->auth_code, "123456", sizeof(req->auth_code));
	iso8583_msg_t msg;
	assert_int_equal(txn_answer_to_iso(req, ascii(), &msg), 0);
	ts_iso_send(b->fd, &msg);
}

static json_t *psp_call(fixture_t *f, const char *line)
{
	ts_send_line(f->psp, line);
	assert_true(pump_until_readable(f, f->psp, WAIT_MS));
	char text[8192];
	assert_true(ts_recv_line(f->psp, text, sizeof(text), 1000));
	json_error_t jerr;
	json_t *j = json_loads(text, 0, &jerr);
	assert_non_null(j);
	return j;
}

static void psp_send(fixture_t *f, const char *line)
{
	ts_send_line(f->psp, line);
}

static json_t *psp_answer(fixture_t *f)
{
	assert_true(pump_until_readable(f, f->psp, WAIT_MS));
	char text[8192];
	assert_true(ts_recv_line(f->psp, text, sizeof(text), 1000));
	json_error_t jerr;
	return json_loads(text, 0, &jerr);
}

static const char *str(json_t *j, const char *key)
{
	const char *s = json_string_value(json_object_get(j, key));
	return s ? s : "";
}

static void add_route(const char *lmdb, const char *prefix, const char *ep,
		      const char *institution)
{
	MDB_env *env;
	route_table_t table;
	assert_int_equal(route_env_open(lmdb, 0, 0, &env), 0);
	assert_int_equal(route_table_open(env, &table, NULL), 0);
	MDB_txn *txn;
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	route_t r;
	route_init(&r);
	assert_int_equal(route_set_prefix(&r, prefix, strlen(prefix), NULL), 0);
	assert_int_equal(route_set_endpoint(&r, ep, strlen(ep), NULL), 0);
	assert_int_equal(route_set_institution(&r, institution,
					       strlen(institution), NULL), 0);
	route_actor_t who = {"test@host", 0};
	assert_int_equal(route_put(&table, txn, &who, &r, NULL, NULL), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

static int setup(void **state)
{
	fixture_t *f = calloc(1, sizeof(*f));
	ts_tmpdir("flow-unit", f->dir, sizeof(f->dir));
	snprintf(f->ready, sizeof(f->ready), "%s/ready.json", f->dir);
	for (int i = 0; i < 2; i++)
		bank_listen(&f->bank[i]);
	char lmdb[600], text[4096], err[512];
	snprintf(lmdb, sizeof(lmdb), "%s/lmdb", f->dir);
	add_route(lmdb, "622202", "bank_a", "01020000");
	add_route(lmdb, "621700", "bank_b", "01030000");
	snprintf(text, sizeof(text),
		 "{\"lmdb\": {\"dir\": \"%s\", \"sync\": false},"
		 " \"log\": {\"level\": \"error\"},"
		 " \"reversal\": {\"retry_ms\": 50, \"retry_max_ms\": 100},"
		 " \"listeners\": [{\"name\": \"psp\", \"address\": \"127.0.0.1:0\","
		 "   \"protocol\": \"json\", \"participant\": \"PSP01\"}],"
		 " \"endpoints\": ["
		 "  {\"name\": \"bank_a\", \"address\": \"127.0.0.1:%u\", \"connections\": 1,"
		 "   \"sign_on\": false, \"echo_interval_ms\": 0, \"timeout_ms\": %d},"
		 "  {\"name\": \"bank_b\", \"address\": \"127.0.0.1:%u\", \"connections\": 1,"
		 "   \"sign_on\": false, \"echo_interval_ms\": 0, \"timeout_ms\": %d}]}",
		 lmdb, f->bank[0].port, TIMEOUT_MS, f->bank[1].port, TIMEOUT_MS);
	sw_config_t *cfg;
	assert_int_equal(sw_config_parse(text, strlen(text), &cfg, err, sizeof(err)), 0);
	sw_options_t opts = {.ready_file = f->ready};
	if (sw_server_create(cfg, &opts, &f->sw, err, sizeof(err)) != 0)
		fail_msg("cannot start: %s", err);
	for (int i = 0; i < 2; i++)
		bank_accept(f, &f->bank[i]);
	pump_for(f, 50); /* the links are up */
	json_t *ready = ts_wait_ready(f->ready, NULL, 1000);
	f->psp = ts_connect(ts_ready_port(ready, "psp"), 1000);
	json_decref(ready);
	json_t *hello = psp_call(f, "{\"op\":\"hello\",\"participant\":\"PSP01\"}");
	assert_string_equal(json_string_value(json_object_get(hello, "status")), "ok");
	json_decref(hello);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture_t *f = *state;
	close(f->psp);
	sw_server_stop(f->sw);
	sw_server_destroy(f->sw);
	for (int i = 0; i < 2; i++) {
		close(f->bank[i].fd);
		close(f->bank[i].listen_fd);
	}
	ts_rmrf(f->dir);
	free(f);
	return 0;
}

#define PAY(id, amount)                                                        \
	"{\"op\":\"pay\",\"id\":\"" id "\",\"payer\":{\"account\":\"6222020000000001\"},"\
	"\"payee\":{\"account\":\"6217000000000009\"},\"amount\":" #amount     \
	",\"currency\":\"CNY\"}"

/* A pay: the debit first, the credit only after its approval. */
static void test_pay_debit_then_credit(void **state)
{
	fixture_t *f = *state;
	psp_send(f, PAY("U-1", 12850));
	txn_t debit = bank_take(f, &f->bank[0]);
	assert_int_equal(debit.kind, TXN_KIND_PURCHASE);
	assert_string_equal(debit.wire.proc, "000000");
	assert_string_equal(debit.payer, "6222020000000001");
	assert_int_equal(debit.amount, 12850);
	assert_string_equal(debit.wire.receiver, "01020000");
	assert_true(bank_quiet(f, &f->bank[1], 100)); /* no credit yet */
	bank_answer(&f->bank[0], &debit, TXN_RC_APPROVED);
	txn_t credit = bank_take(f, &f->bank[1]);
	assert_int_equal(credit.kind, TXN_KIND_CREDIT);
	assert_string_equal(credit.wire.proc, "260000");
	assert_string_equal(credit.payee, "6217000000000009");
	bank_answer(&f->bank[1], &credit, TXN_RC_APPROVED);
	json_t *a = psp_answer(f);
	assert_string_equal(str(a, "code"), "00");
	assert_string_equal(str(a, "auth_code"), "123456");
	json_decref(a);
	/* A repeat: the same answer, and no bank hears of it. */
	a = psp_call(f, PAY("U-1", 12850));
	assert_string_equal(str(a, "code"), "00");
	json_decref(a);
	assert_true(bank_quiet(f, &f->bank[0], 100));
}

/* The credit is declined: the debit is reversed with its own key in
 * field 90, and the PSP hears the credit's code. */
static void test_declined_credit_reverses_the_debit(void **state)
{
	fixture_t *f = *state;
	psp_send(f, PAY("U-2", 500));
	txn_t debit = bank_take(f, &f->bank[0]);
	bank_answer(&f->bank[0], &debit, TXN_RC_APPROVED);
	txn_t credit = bank_take(f, &f->bank[1]);
	bank_answer(&f->bank[1], &credit, TXN_RC_NOT_PERMITTED);
	json_t *a = psp_answer(f);
	assert_string_equal(str(a, "code"), "57");
	json_decref(a);
	txn_t rev = bank_take(f, &f->bank[0]);
	assert_int_equal(rev.kind, TXN_KIND_REVERSAL);
	assert_string_equal(rev.wire.mti, "0400");
	assert_int_equal(rev.original_stan, debit.wire.stan);
	assert_string_equal(rev.original_transmit, debit.wire.transmit);
	assert_int_equal(rev.amount, 500);
	assert_string_equal(rev.rrn, debit.rrn); /* the original's RRN */
	bank_answer(&f->bank[0], &rev, TXN_RC_APPROVED);
	assert_true(bank_quiet(f, &f->bank[0], 200)); /* acknowledged: no repeat */
}

/* No answer to the debit: 68, then 0400 repeated as 0401 until it is
 * acknowledged; a late approval of the debit is reversed again. */
static void test_timeout_reversal_repeats(void **state)
{
	fixture_t *f = *state;
	psp_send(f, PAY("U-3", 700));
	txn_t debit = bank_take(f, &f->bank[0]);
	json_t *a = psp_answer(f); /* after timeout_ms */
	assert_string_equal(str(a, "code"), "68");
	json_decref(a);
	txn_t rev = bank_take(f, &f->bank[0]);
	assert_string_equal(rev.wire.mti, "0400");
	assert_int_equal(rev.original_stan, debit.wire.stan);
	/* Unanswered: repeated, as 0401, with the same key. */
	txn_t again = bank_take(f, &f->bank[0]);
	assert_string_equal(again.wire.mti, "0401");
	assert_int_equal(again.wire.stan, rev.wire.stan);
	assert_int_equal(again.original_stan, debit.wire.stan);
	bank_answer(&f->bank[0], &again, TXN_RC_APPROVED);
	assert_true(bank_quiet(f, &f->bank[0], 300));
	/* The bank now approves the debit, late: the switch reverses it
	 * once more (the first reversal found nothing to undo). */
	bank_answer(&f->bank[0], &debit, TXN_RC_APPROVED);
	txn_t rev2 = bank_take(f, &f->bank[0]);
	assert_int_equal(rev2.kind, TXN_KIND_REVERSAL);
	assert_int_equal(rev2.original_stan, debit.wire.stan);
	bank_answer(&f->bank[0], &rev2, TXN_RC_APPROVED);
	assert_true(bank_quiet(f, &f->bank[0], 200));
}

/* A refund is checked before any leg: more than was paid never reaches
 * a bank; within it, the legs go the other way round. */
static void test_refund_within_the_payment(void **state)
{
	fixture_t *f = *state;
	psp_send(f, PAY("U-4", 1000));
	txn_t debit = bank_take(f, &f->bank[0]);
	bank_answer(&f->bank[0], &debit, TXN_RC_APPROVED);
	txn_t credit = bank_take(f, &f->bank[1]);
	bank_answer(&f->bank[1], &credit, TXN_RC_APPROVED);
	json_decref(psp_answer(f));
	json_t *a = psp_call(f, "{\"op\":\"refund\",\"id\":\"UR-1\",\"original\":\"U-4\","
				"\"amount\":1001,\"currency\":\"CNY\"}");
	assert_string_equal(str(a, "code"), "13");
	json_decref(a);
	assert_true(bank_quiet(f, &f->bank[1], 100));
	psp_send(f, "{\"op\":\"refund\",\"id\":\"UR-2\",\"original\":\"U-4\","
		    "\"amount\":400,\"currency\":\"CNY\"}");
	txn_t back = bank_take(f, &f->bank[1]); /* the payee pays first */
	assert_int_equal(back.kind, TXN_KIND_PURCHASE);
	assert_string_equal(back.payer, "6217000000000009");
	bank_answer(&f->bank[1], &back, TXN_RC_APPROVED);
	txn_t credit2 = bank_take(f, &f->bank[0]);
	assert_int_equal(credit2.kind, TXN_KIND_REFUND_CREDIT);
	assert_string_equal(credit2.wire.proc, "200000");
	bank_answer(&f->bank[0], &credit2, TXN_RC_APPROVED);
	a = psp_answer(f);
	assert_string_equal(str(a, "code"), "00");
	json_decref(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pay_debit_then_credit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_declined_credit_reverses_the_debit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeout_reversal_repeats, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refund_within_the_payment, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
