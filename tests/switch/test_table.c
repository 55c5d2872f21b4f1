/*
 * test_table.c: the transactions in memory (switch/table.h): the pool and
 * its bound, the three indexes, the deadline heap (in order, under random
 * schedules and unschedules, and delayed as a whole), and the life of a
 * changed record: marked, written into the batch at the flush, freed only
 * once its batch committed, kept while pinned.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "support.h"
#include "table.h"

#define CAPACITY 64

typedef struct fixture {
	char dir[512];
	sw_config_t *cfg;
	sw_ctx_t ctx;
	sw_store_t st;
	sw_table_t tb;
} fixture_t;

static int setup(void **state)
{
	fixture_t *f = calloc(1, sizeof(*f));
	ts_tmpdir("table", f->dir, sizeof(f->dir));
	char text[1024], err[512];
	snprintf(text, sizeof(text),
		 "{\"lmdb\": {\"dir\": \"%s/lmdb\", \"sync\": false},"
		 " \"listeners\": [{\"name\": \"psp\", \"address\": \"127.0.0.1:0\","
		 " \"protocol\": \"json\"}]}", f->dir);
	assert_int_equal(sw_config_parse(text, strlen(text), &f->cfg, err,
					 sizeof(err)), 0);
	f->ctx.cfg = f->cfg;
	assert_int_equal(sw_store_open(&f->st, &f->ctx, err, sizeof(err)), 0);
	assert_int_equal(sw_table_init(&f->tb, &f->st, CAPACITY), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture_t *f = *state;
	sw_table_free(&f->tb);
	sw_store_close(&f->st);
	sw_config_free(f->cfg);
	ts_rmrf(f->dir);
	free(f);
	return 0;
}

static sw_txn_t *record(fixture_t *f, uint64_t id, const char *request_id)
{
	sw_txn_t *st = sw_txn_new(&f->tb);
	assert_non_null(st);
	txn_init(&st->t, TXN_KIND_PAY);
	st->t.id = id;
	ps_strlcpy(st->t.participant, "PSP01", sizeof(st->t.participant));
	ps_strlcpy(st->t.request_id, request_id, sizeof(st->t.request_id));
	return st;
}

/* The pool is the bound: past it, NULL (the caller answers 91). */
static void test_pool_bound(void **state)
{
	fixture_t *f = *state;
	sw_txn_t *all[CAPACITY];
	for (int i = 0; i < CAPACITY; i++)
		all[i] = sw_txn_new(&f->tb);
	assert_null(sw_txn_new(&f->tb));
	assert_int_equal(sw_table_count(&f->tb), CAPACITY);
	sw_txn_free(&f->tb, all[0]);
	assert_non_null(sw_txn_new(&f->tb));
}

static void test_indexes(void **state)
{
	fixture_t *f = *state;
	char id[16];
	for (uint64_t i = 1; i <= 40; i++) {
		snprintf(id, sizeof(id), "R-%llu", (unsigned long long)i);
		sw_txn_t *st = record(f, i, id);
		sw_txn_index_id(&f->tb, st);
		sw_txn_index_idem(&f->tb, st);
		txn_set_leg(&st->t, 0, TXN_KIND_PURCHASE, "6222020000000001");
		ps_strlcpy(st->t.leg[0].endpoint, "bank_a", sizeof(st->t.leg[0].endpoint));
		st->t.leg[0].stan = (uint32_t)(1000 + i);
		ps_strlcpy(st->t.leg[0].transmit, "1203101500", 11);
		st->cur_leg = 0;
		sw_txn_index_match(&f->tb, st);
	}
	sw_txn_t *st = sw_txn_by_id(&f->tb, 17);
	assert_non_null(st);
	assert_string_equal(st->t.request_id, "R-17");
	assert_ptr_equal(sw_txn_by_idem(&f->tb, "PSP01", "R-17"), st);
	assert_null(sw_txn_by_idem(&f->tb, "PSP02", "R-17"));
	assert_ptr_equal(sw_txn_by_match(&f->tb, "bank_a", 1017, "1203101500"), st);
	assert_null(sw_txn_by_match(&f->tb, "bank_b", 1017, "1203101500"));
	assert_null(sw_txn_by_match(&f->tb, "bank_a", 1017, "1203101501"));
	/* Out of the indexes when freed; the others are still found. */
	sw_txn_free(&f->tb, st);
	assert_null(sw_txn_by_id(&f->tb, 17));
	assert_null(sw_txn_by_idem(&f->tb, "PSP01", "R-17"));
	assert_null(sw_txn_by_match(&f->tb, "bank_a", 1017, "1203101500"));
	assert_non_null(sw_txn_by_id(&f->tb, 16));
	assert_non_null(sw_txn_by_match(&f->tb, "bank_a", 1018, "1203101500"));
}

/* The heap always gives the earliest, whatever the order of changes. */
static void test_deadline_heap(void **state)
{
	fixture_t *f = *state;
	sw_txn_t *st[48];
	uint64_t rng = 12345;
	for (int i = 0; i < 48; i++) {
		st[i] = record(f, (uint64_t)i + 1, "x");
		rng = rng * 6364136223846793005ull + 1442695040888963407ull;
		sw_txn_schedule(&f->tb, st[i], 1000 + (rng >> 40) % 10000);
	}
	/* Some unscheduled, some moved. */
	for (int i = 0; i < 48; i += 5)
		sw_txn_unschedule(&f->tb, st[i]);
	for (int i = 1; i < 48; i += 7)
		sw_txn_schedule(&f->tb, st[i], 500 + (uint64_t)i);
	sw_table_delay_deadlines(&f->tb, 100000);
	uint64_t last = 0;
	int n = 0;
	sw_txn_t *e;
	while ((e = sw_txn_earliest(&f->tb)) != NULL) {
		assert_true(e->deadline_mono_ms >= last);
		assert_true(e->deadline_mono_ms >= 100500);
		last = e->deadline_mono_ms;
		sw_txn_unschedule(&f->tb, e);
		n++;
	}
	/* Ten unscheduled, of which one (15) was scheduled again. */
	assert_int_equal(n, 48 - 10 + 1);
}

/* A changed record is written at the flush and freed only after the
 * commit, unless a refund pins it. */
static void test_changes_and_release(void **state)
{
	fixture_t *f = *state;
	sw_txn_t *a = record(f, 100, "A");
	sw_txn_t *b = record(f, 101, "B");
	sw_txn_index_id(&f->tb, a);
	sw_txn_index_id(&f->tb, b);
	a->t.state = b->t.state = TXN_STATE_DONE;
	sw_table_mark(&f->tb, a);
	sw_table_mark(&f->tb, a); /* once is enough */
	sw_table_mark(&f->tb, b);
	assert_int_equal(sw_table_dirty_count(&f->tb), 2);
	b->pins = 1;
	sw_table_release(&f->tb, a);
	sw_table_release(&f->tb, b);
	assert_true(sw_table_busy(&f->tb));
	sw_table_flush(&f->tb);
	assert_int_equal(sw_table_dirty_count(&f->tb), 0);
	assert_int_equal(f->st.op_count, 2);
	assert_int_equal(sw_store_commit(&f->st), 0);
	sw_table_release_done(&f->tb);
	assert_null(sw_txn_by_id(&f->tb, 100)); /* freed */
	assert_ptr_equal(sw_txn_by_id(&f->tb, 101), b); /* pinned: kept */
	txn_t back;
	assert_int_equal(sw_store_get_txn(&f->st, 100, &back), 0);
	/* Loading finds memory first, then the store. */
	sw_txn_t *loaded = sw_table_load(&f->tb, 100);
	assert_non_null(loaded);
	assert_string_equal(loaded->t.request_id, "A");
	assert_ptr_equal(sw_table_load(&f->tb, 101), b);
	assert_null(sw_table_load(&f->tb, 999));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pool_bound, setup, teardown),
		cmocka_unit_test_setup_teardown(test_indexes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deadline_heap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_changes_and_release, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
