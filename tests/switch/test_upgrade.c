/*
 * test_upgrade.c: a store written by the previous switch is read by this
 * one, with no drain.
 *
 * The first switch stored each transaction as its host-endian txn_t
 * (record version 1, adapters/record.h). This test leaves a store as that
 * switch would have left it after a kill -9: a finished, approved pay, and
 * a pay whose debit the bank had approved when the switch died (the
 * money really moved at bank A: the test sent that 0200 itself). Every
 * record is rewritten in the version 1 layout, then this switch starts on
 * the store: it finishes the unfinished pay (its debit is reversed at the
 * bank, it is answered 96), answers a repeat of the finished pay with its
 * original answer, and refunds it.
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

#include "fixture.h"
#include "record.h"
#include "routing.h"

#define BANK_A 0
#define BANK_B 1

static fx_t fx;

static int setup(void **state)
{
	(void)state;
	fx_init(&fx, "upgrade");
	fx_start(&fx);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	fx_stop(&fx);
	return 0;
}

static void stop_switchd(void)
{
	if (fx.psp_fd >= 0)
		close(fx.psp_fd);
	fx.psp_fd = -1;
	ts_proc_signal(&fx.switchd, SIGTERM);
	assert_true(ts_proc_wait(&fx.switchd, 10000));
	assert_int_equal(ts_proc_exit_code(&fx.switchd), 0);
}

typedef struct store {
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi inflight, active, idem;
} store_t;

static void store_open(store_t *s)
{
	assert_int_equal(route_env_open(fx.lmdb, 0, 0, &s->env), 0);
	assert_int_equal(mdb_txn_begin(s->env, NULL, 0, &s->txn), 0);
	assert_int_equal(mdb_dbi_open(s->txn, "inflight", 0, &s->inflight), 0);
	assert_int_equal(mdb_dbi_open(s->txn, "active", 0, &s->active), 0);
	assert_int_equal(mdb_dbi_open(s->txn, "idem", 0, &s->idem), 0);
}

static void store_close(store_t *s)
{
	assert_int_equal(mdb_txn_commit(s->txn), 0);
	mdb_env_close(s->env);
}

/* Every transaction record rewritten as the first switch wrote it. */
static int downgrade_all(store_t *s)
{
	MDB_cursor *cur;
	assert_int_equal(mdb_cursor_open(s->txn, s->inflight, &cur), 0);
	MDB_val k, v;
	int n = 0;
	int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	while (rc == 0) {
		txn_t t;
		assert_int_equal(txn_record_decode(v.mv_data, v.mv_size, &t), 0);
		assert_int_equal(txn_record_version(v.mv_data, v.mv_size), 2);
		uint8_t old[2048];
		size_t len;
		assert_int_equal(txn_record_encode_v1(&t, old, sizeof(old), &len), 0);
		assert_int_equal(len, txn_record_v1_bytes());
		MDB_val nv = {len, old};
		assert_int_equal(mdb_cursor_put(cur, &k, &nv, MDB_CURRENT), 0);
		n++;
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(cur);
	return n;
}

/*
 * A pay the first switch had in flight when it died: leg 0 approved by
 * bank A (really debited: this test sends the 0200 the switch would
 * have), leg 1 not sent yet. Stored, in the version 1 layout, under id,
 * with its idempotency key and its place in the active index.
 */
static void store_unfinished_pay(store_t *s, uint64_t id, const char *request_id,
				 int64_t amount)
{
	txn_t t;
	txn_init(&t, TXN_KIND_PAY);
	t.id = id;
	t.state = TXN_STATE_ACTIVE;
	t.created_ms = ps_wall_ms();
	ps_strlcpy(t.listener, "psp", sizeof(t.listener));
	ps_strlcpy(t.participant, "PSP01", sizeof(t.participant));
	ps_strlcpy(t.request_id, request_id, sizeof(t.request_id));
	ps_strlcpy(t.acquirer, "99990000", sizeof(t.acquirer));
	ps_strlcpy(t.forwarder, "99990000", sizeof(t.forwarder));
	ps_strlcpy(t.payer, A_SPARE, sizeof(t.payer));
	ps_strlcpy(t.payee, B_SHOP, sizeof(t.payee));
	t.amount = amount;
	t.currency = TXN_CURRENCY_CNY;
	txn_set_leg(&t, 0, TXN_KIND_PURCHASE, t.payer);
	txn_set_leg(&t, 1, TXN_KIND_CREDIT, t.payee);
	txn_leg_t *l = &t.leg[0];
	ps_strlcpy(l->endpoint, "bank_a", sizeof(l->endpoint));
	ps_strlcpy(l->institution, "01020000", sizeof(l->institution));
	l->stan = 424242;
	ps_strlcpy(l->transmit, "1203101500", sizeof(l->transmit));
	ps_strlcpy(l->rrn, "633700424242", sizeof(l->rrn));
	l->attempts = 1;

	/* The debit really happens at the bank, as it did for the switch. */
	const iso8583_dialect_t *d = iso8583_dialect_builtin("ascii");
	iso8583_msg_t m, r;
	assert_int_equal(txn_leg_to_iso(&t, 0, d, &m), 0);
	int fd = ts_connect(fx.bank[BANK_A].port, 5000);
	ts_iso_send(fd, &m);
	uint8_t buf[2048];
	assert_true(ts_iso_recv(fd, d, &r, buf, sizeof(buf), 5000));
	close(fd);
	assert_string_equal(fx_field(&r, 39), "00");
	l->state = TXN_LEG_APPROVED;
	l->rc = TXN_RC_APPROVED;

	uint8_t key[8], old[2048];
	ps_be64_put(key, id);
	size_t len;
	assert_int_equal(txn_record_encode_v1(&t, old, sizeof(old), &len), 0);
	MDB_val k = {8, key}, v = {len, old}, empty = {0, ""};
	assert_int_equal(mdb_put(s->txn, s->inflight, &k, &v, 0), 0);
	assert_int_equal(mdb_put(s->txn, s->active, &k, &empty, 0), 0);
	char ik[128];
	int n = snprintf(ik, sizeof(ik), "PSP01%c%s", 0, request_id);
	MDB_val ikey = {(size_t)n, ik}, ival = {8, key};
	assert_int_equal(mdb_put(s->txn, s->idem, &ikey, &ival, 0), 0);
}

static void test_a_version_1_store_is_finished_after_the_upgrade(void **state)
{
	(void)state;
	/* Traffic under the running switch: one approved pay. */
	json_t *a = fx_pay(&fx, "UP-0001", A_RICH, B_SHOP2, 4000);
	assert_string_equal(fx_str(a, "code"), "00");
	char txn_id[24];
	ps_strlcpy(txn_id, fx_str(a, "txn"), sizeof(txn_id));
	json_decref(a);
	stop_switchd();

	/* The store as the first switch left it. */
	int64_t spare = fx_balance(&fx, BANK_A, A_SPARE);
	store_t s;
	store_open(&s);
	assert_true(downgrade_all(&s) >= 1);
	store_unfinished_pay(&s, 1000000, "UP-0002", 2500);
	store_close(&s);
	assert_int_equal(fx_balance(&fx, BANK_A, A_SPARE), spare - 2500);

	/* This switch starts on it: the unfinished pay is finished (96) and
	 * its debit reversed at the bank. */
	fx_start_switchd(&fx);
	assert_true(fx_wait_balance(&fx, BANK_A, A_SPARE, spare, 5000));
	assert_true(fx_wait_saf_empty(&fx, 5000));
	a = fx_call(&fx, "{\"op\":\"query\",\"id\":\"UPQ-1\",\"target\":\"UP-0002\"}");
	assert_string_equal(fx_str(a, "state"), "done");
	assert_string_equal(fx_str(json_object_get(a, "answer"), "code"), "96");
	json_decref(a);

	/* The finished pay keeps its answer: a repeat gets it again. */
	a = fx_pay(&fx, "UP-0001", A_RICH, B_SHOP2, 4000);
	assert_string_equal(fx_str(a, "code"), "00");
	assert_string_equal(fx_str(a, "txn"), txn_id);
	json_decref(a);
	/* ... and it can be refunded, within what it paid. */
	int64_t payer = fx_balance(&fx, BANK_A, A_RICH);
	a = fx_call(&fx, "{\"op\":\"refund\",\"id\":\"UPR-1\",\"original\":\"UP-0001\","
			 "\"amount\":4000,\"currency\":\"CNY\"}");
	assert_string_equal(fx_str(a, "code"), "00");
	json_decref(a);
	assert_int_equal(fx_balance(&fx, BANK_A, A_RICH), payer + 4000);
	a = fx_call(&fx, "{\"op\":\"refund\",\"id\":\"UPR-2\",\"original\":\"UP-0001\","
			 "\"amount\":1,\"currency\":\"CNY\"}");
	assert_string_equal(fx_str(a, "code"), "13");
	json_decref(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_a_version_1_store_is_finished_after_the_upgrade,
			setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
