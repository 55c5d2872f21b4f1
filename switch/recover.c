/*
 * recover.c: restart recovery (flow.h).
 *
 * At start, before the listeners open, every transaction without a final
 * state (the active index) is finished with 96 and each of its legs that
 * may have moved money (sent, or approved) is reversed through the SAF
 * queue. None is left dangling: after a kill -9 every bank posting ends up
 * either part of an answered transaction or reversed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flow.h"

#define RECOVER_CHUNK 256

/* Unfinished transactions, from the active index, starting at *from_id. */
static uint32_t collect_unfinished(sw_store_t *store, uint64_t *from_id,
				   txn_t *out, uint32_t cap)
{
	MDB_txn *txn = sw_store_read(store);
	if (txn == NULL)
		return 0;
	MDB_cursor *cur;
	uint32_t n = 0;
	if (mdb_cursor_open(txn, store->active, &cur) == 0) {
		uint8_t start[8];
		sw_id_key(*from_id, start);
		MDB_val k = {8, start}, v;
		int rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
		while (rc == 0 && n < cap) {
			MDB_val rec;
			if (k.mv_size == 8 &&
			    mdb_get(txn, store->inflight, &k, &rec) == 0 &&
			    sw_store_decode_txn(rec.mv_data, rec.mv_size,
						&out[n]) == 0)
				n++;
			rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
		}
		if (rc == 0) {
			*from_id = sw_id_from_key(k.mv_data);
		} else {
			*from_id = UINT64_MAX;
		}
		mdb_cursor_close(cur);
	}
	sw_store_read_done(store);
	return n;
}

static uint32_t recover_one(sw_flow_t *f, txn_t *t)
{
	uint32_t reversals = 0;
	for (unsigned i = 0; i < t->leg_count; i++) {
		txn_leg_t *l = &t->leg[i];
		if (l->state == TXN_LEG_SENT)
			l->state = TXN_LEG_TIMEOUT;
		if (l->state == TXN_LEG_TIMEOUT || l->state == TXN_LEG_APPROVED) {
			sw_saf_reverse(f->saf, t, i);
			reversals++;
		}
	}
	if (txn_is_refund(t) && t->parent_id != 0) {
		sw_txn_t *pay = sw_table_load(f->table, t->parent_id);
		if (pay != NULL) {
			pay->t.refund_pending -= t->amount;
			if (pay->t.refund_pending < 0)
				pay->t.refund_pending = 0;
			sw_table_mark(f->table, pay);
			sw_table_let_go(f->table, pay);
		}
	}
	t->state = TXN_STATE_DONE;
	t->rc = TXN_RC_SYSTEM_MALFUNCTION;
	ps_strlcpy(t->reason, "switch restarted before the final answer; reversed",
		   sizeof(t->reason));
	t->answered_ms = ps_wall_ms();
	uint8_t key[8];
	sw_id_key(t->id, key);
	sw_store_put_txn(f->store, f->store->inflight, key, sizeof(key), t);
	sw_store_del(f->store, f->store->active, key, sizeof(key));
	return reversals;
}

int sw_flow_recover(sw_flow_t *f, char *err, size_t err_cap)
{
	txn_t *chunk = calloc(RECOVER_CHUNK, sizeof(txn_t));
	if (chunk == NULL) {
		snprintf(err, err_cap, "out of memory for recovery");
		return PS_ENOMEM;
	}
	uint64_t from = 0, recovered = 0, reversals = 0;
	int rc = 0;
	while (from != UINT64_MAX && rc == 0) {
		uint32_t n = collect_unfinished(f->store, &from, chunk,
						RECOVER_CHUNK);
		for (uint32_t i = 0; i < n && rc == 0; i++) {
			rc = sw_turn_reserve(f->turn);
			if (rc == 0)
				reversals += recover_one(f, &chunk[i]);
		}
		recovered += n;
		if (rc == 0)
			rc = sw_turn_end(f->turn);
	}
	free(chunk);
	if (rc != 0) {
		snprintf(err, err_cap, "lmdb: recovery could not commit");
		return rc;
	}
	ps_log_t *l = ps_log_begin(recovered ? PS_LOG_WARN : PS_LOG_INFO,
				   "recovered");
	ps_log_uint(l, "unfinished", recovered);
	ps_log_uint(l, "reversals_queued", reversals);
	ps_log_uint(l, "saf_entries", sw_saf_entries(f->saf));
	ps_log_end(l);
	return 0;
}
