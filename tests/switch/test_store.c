/*
 * test_store.c: the in-flight store (switch/store.h) on its own: the
 * batch and its commit, the read snapshot, records of both versions,
 * sequences that never repeat across a reopen, the batch's bound, and
 * the faults tests inject.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"
#include "store.h"
#include "support.h"

typedef struct fixture {
	char dir[512];
	sw_config_t *cfg;
	sw_ctx_t ctx;
	sw_store_t st;
} fixture_t;

static void open_store(fixture_t *f)
{
	char err[512];
	assert_int_equal(sw_store_open(&f->st, &f->ctx, err, sizeof(err)), 0);
}

static int setup(void **state)
{
	fixture_t *f = calloc(1, sizeof(*f));
	ts_tmpdir("store", f->dir, sizeof(f->dir));
	char text[1024], err[512];
	snprintf(text, sizeof(text),
		 "{\"lmdb\": {\"dir\": \"%s/lmdb\", \"sync\": false},"
		 " \"listeners\": [{\"name\": \"psp\", \"address\": \"127.0.0.1:0\","
		 " \"protocol\": \"json\"}]}", f->dir);
	assert_int_equal(sw_config_parse(text, strlen(text), &f->cfg, err,
					 sizeof(err)), 0);
	f->ctx.cfg = f->cfg;
	open_store(f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture_t *f = *state;
	sw_store_close(&f->st);
	sw_config_free(f->cfg);
	ts_rmrf(f->dir);
	free(f);
	return 0;
}

static txn_t sample(uint64_t id)
{
	txn_t t;
	txn_init(&t, TXN_KIND_PAY);
	t.id = id;
	t.state = TXN_STATE_DONE;
	t.rc = TXN_RC_APPROVED;
	ps_strlcpy(t.participant, "PSP01", sizeof(t.participant));
	ps_strlcpy(t.request_id, "PAY-1", sizeof(t.request_id));
	ps_strlcpy(t.payer, "6222020000000001", sizeof(t.payer));
	ps_strlcpy(t.payee, "6217000000000009", sizeof(t.payee));
	t.amount = 12850;
	t.currency = TXN_CURRENCY_CNY;
	txn_set_leg(&t, 0, TXN_KIND_PURCHASE, t.payer);
	txn_set_leg(&t, 1, TXN_KIND_CREDIT, t.payee);
	t.leg[0].stan = 42;
	ps_strlcpy(t.leg[0].transmit, "1203101500", sizeof(t.leg[0].transmit));
	/* The wire part is never stored. */
	ps_strlcpy(t.wire.track2, "6222020000000001=2912", sizeof(t.wire.track2));
	return t;
}

/* Nothing is visible before the commit; everything is after it. */
static void test_batch_commits_as_one(void **state)
{
	fixture_t *f = *state;
	sw_store_t *st = &f->st;
	txn_t t = sample(7), back;
	uint8_t key[8];
	sw_id_key(7, key);
	sw_store_put_txn(st, st->inflight, key, sizeof(key), &t);
	sw_store_put(st, st->active, key, sizeof(key), "", 0);
	assert_true(sw_store_busy(st));
	assert_int_equal(sw_store_get_txn(st, 7, &back), PS_ENOTFOUND);
	assert_int_equal(sw_store_commit(st), 0);
	assert_false(sw_store_busy(st));
	assert_int_equal(sw_store_get_txn(st, 7, &back), 0);
	assert_int_equal(back.amount, 12850);
	assert_string_equal(back.leg[0].transmit, "1203101500");
	assert_string_equal(back.wire.track2, "");
	/* A delete in a later batch; deleting what is not there is fine. */
	sw_store_del(st, st->inflight, key, sizeof(key));
	uint8_t other[8];
	sw_id_key(99, other);
	sw_store_del(st, st->inflight, other, sizeof(other));
	assert_int_equal(sw_store_commit(st), 0);
	assert_int_equal(sw_store_get_txn(st, 7, &back), PS_ENOTFOUND);
}

/* A record of the first switch's layout reads as the same transaction. */
static void test_version_1_record_is_read(void **state)
{
	fixture_t *f = *state;
	sw_store_t *st = &f->st;
	txn_t t = sample(8), back;
	uint8_t old[2048], key[8];
	size_t len;
	assert_int_equal(txn_record_encode_v1(&t, old, sizeof(old), &len), 0);
	sw_id_key(8, key);
	sw_store_put(st, st->inflight, key, sizeof(key), old, len);
	assert_int_equal(sw_store_commit(st), 0);
	assert_int_equal(sw_store_get_txn(st, 8, &back), 0);
	assert_string_equal(back.request_id, "PAY-1");
	assert_int_equal(back.rc, TXN_RC_APPROVED);
	assert_int_equal(back.leg[1].kind, TXN_KIND_CREDIT);
	/* Bytes that are no record are refused, not guessed at. */
	sw_store_put(st, st->inflight, key, sizeof(key), "garbage", 7);
	assert_int_equal(sw_store_commit(st), 0);
	assert_int_equal(sw_store_get_txn(st, 8, &back), PS_EFORMAT);
}

/* Ids and message numbers never repeat, even after a reopen. */
static void test_sequences_survive_a_reopen(void **state)
{
	fixture_t *f = *state;
	uint64_t id = sw_store_next_txn_id(&f->st);
	uint64_t seq = sw_store_next_msg_seq(&f->st);
	assert_int_equal(sw_store_commit(&f->st), 0); /* the block is noted */
	sw_store_close(&f->st);
	open_store(f);
	assert_true(sw_store_next_txn_id(&f->st) > id);
	assert_true(sw_store_next_msg_seq(&f->st) > seq);
}

/* The batch is bounded: has_room says so before a put would overflow. */
static void test_batch_bound(void **state)
{
	fixture_t *f = *state;
	sw_store_t *st = &f->st;
	assert_true(sw_store_has_room(st, SW_BATCH_OPS_MAX, 0));
	assert_false(sw_store_has_room(st, SW_BATCH_OPS_MAX + 1, 0));
	assert_false(sw_store_has_room(st, 1, SW_BATCH_ARENA_BYTES + 1));
	uint8_t key[8];
	for (uint32_t i = 0; i < 1000; i++) {
		sw_id_key(i, key);
		sw_store_put(st, st->active, key, sizeof(key), "", 0);
	}
	assert_false(sw_store_has_room(st, SW_BATCH_OPS_MAX - 999, 0));
	assert_true(sw_store_has_room(st, SW_BATCH_OPS_MAX - 1000, 0));
	assert_int_equal(sw_store_commit(st), 0);
	assert_true(sw_store_has_room(st, SW_BATCH_OPS_MAX, 0));
}

/* A failed commit keeps the whole batch; the next one writes it all. */
static void test_faults_keep_the_batch(void **state)
{
	fixture_t *f = *state;
	sw_store_t *st = &f->st;
	sw_store_faults_t faults = {.commit_after = 1, .commit_count = 2,
				    .put_at = -1};
	sw_store_set_faults(st, &faults);
	txn_t t = sample(20), back;
	uint8_t key[8];
	sw_id_key(20, key);
	sw_store_put_txn(st, st->inflight, key, sizeof(key), &t);
	assert_int_equal(sw_store_commit(st), 0); /* the one that succeeds */
	sw_id_key(21, key);
	t.id = 21;
	sw_store_put_txn(st, st->inflight, key, sizeof(key), &t);
	uint32_t ops = st->op_count;
	assert_int_equal(sw_store_commit(st), PS_EIO);
	assert_int_equal(sw_store_commit(st), PS_EIO);
	assert_int_equal(st->commit_failures, 2);
	assert_int_equal(st->op_count, ops);
	assert_int_equal(sw_store_get_txn(st, 21, &back), PS_ENOTFOUND);
	assert_int_equal(sw_store_commit(st), 0);
	assert_int_equal(st->commit_failures, 0);
	assert_int_equal(sw_store_get_txn(st, 21, &back), 0);

	/* One write fails: the whole batch is kept, none of it written. */
	faults = (sw_store_faults_t){.put_at = 1};
	sw_store_set_faults(st, &faults);
	uint8_t k1[8], k2[8];
	sw_id_key(30, k1);
	sw_id_key(31, k2);
	t.id = 30;
	sw_store_put_txn(st, st->inflight, k1, sizeof(k1), &t);
	t.id = 31;
	sw_store_put_txn(st, st->inflight, k2, sizeof(k2), &t);
	assert_int_equal(sw_store_commit(st), PS_EIO);
	assert_int_equal(sw_store_get_txn(st, 30, &back), PS_ENOTFOUND);
	assert_int_equal(sw_store_commit(st), 0);
	assert_int_equal(sw_store_get_txn(st, 30, &back), 0);
	assert_int_equal(sw_store_get_txn(st, 31, &back), 0);

	/* A full map that cannot grow: until the fault clears. */
	faults = (sw_store_faults_t){.map_full = true, .put_at = -1};
	sw_store_set_faults(st, &faults);
	sw_id_key(40, k1);
	sw_store_put(st, st->active, k1, sizeof(k1), "", 0);
	assert_int_equal(sw_store_commit(st), PS_EIO);
	assert_int_equal(sw_store_commit(st), PS_EIO);
	faults = (sw_store_faults_t){.put_at = -1};
	sw_store_set_faults(st, &faults);
	assert_int_equal(sw_store_commit(st), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_batch_commits_as_one, setup, teardown),
		cmocka_unit_test_setup_teardown(test_version_1_record_is_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sequences_survive_a_reopen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch_bound, setup, teardown),
		cmocka_unit_test_setup_teardown(test_faults_keep_the_batch, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
