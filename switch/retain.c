/*
 * retain.c: forgetting finished transactions after retention_ms
 * (retain.h).
 */
#include <stdlib.h>
#include <string.h>

#include "retain.h"

static bool expired(sw_retain_t *f, const txn_t *t, uint64_t cutoff_ms)
{
	return t->state == TXN_STATE_DONE && t->answered_ms <= cutoff_ms &&
	       t->created_ms <= cutoff_ms && sw_txn_by_id(f->table, t->id) == NULL;
}

/* Collects the oldest expired records, oldest first. */
static uint32_t collect(sw_retain_t *f, txn_t *out, uint32_t cap,
			uint64_t cutoff_ms)
{
	MDB_txn *txn = sw_store_read(f->store);
	if (txn == NULL)
		return 0;
	MDB_cursor *cur;
	uint32_t n = 0;
	if (mdb_cursor_open(txn, f->store->inflight, &cur) == 0) {
		MDB_val k, v;
		int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
		while (rc == 0 && n < cap &&
		       sw_store_decode_txn(v.mv_data, v.mv_size, &out[n]) == 0) {
			if (!expired(f, &out[n], cutoff_ms))
				break;
			n++;
			rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
		}
		mdb_cursor_close(cur);
	}
	sw_store_read_done(f->store);
	return n;
}

static void forget(sw_retain_t *f, const txn_t *t)
{
	sw_store_t *store = f->store;
	uint8_t key[SW_KEY_BYTES_MAX];
	sw_id_key(t->id, key);
	sw_store_del(store, store->inflight, key, 8);
	if (t->request_id[0] != '\0') {
		size_t klen = sw_idem_key(t->participant, t->request_id, key,
					  sizeof(key));
		sw_store_del(store, store->idem, key, klen);
	}
	for (unsigned i = 0; i < t->leg_count && i < TXN_LEGS_MAX; i++) {
		const txn_leg_t *l = &t->leg[i];
		if (l->stan == 0)
			continue;
		size_t klen = sw_match_key(l->endpoint, l->stan, l->transmit, key);
		sw_store_del(store, store->match, key, klen);
	}
	f->ctx->metrics.purged++;
}

void sw_retain_tick(sw_retain_t *f)
{
	uint64_t retention = f->ctx->cfg->retention_ms;
	uint64_t now = ps_wall_ms();
	if (retention == 0 || now < retention || f->ctx->draining ||
	    f->store->commit_failures > 0)
		return;
	uint32_t n = collect(f, f->scratch, SW_RETAIN_SCAN_MAX,
			     now - retention);
	for (uint32_t i = 0; i < n; i++) {
		if (sw_turn_reserve(f->turn) != 0)
			return; /* the rest next tick */
		forget(f, &f->scratch[i]);
	}
}

static void on_tick(uv_timer_t *timer)
{
	sw_retain_tick(timer->data);
}

int sw_retain_init(sw_retain_t *r, sw_ctx_t *ctx, sw_store_t *store,
		   sw_table_t *table, sw_turn_t *turn)
{
	memset(r, 0, sizeof(*r));
	r->ctx = ctx;
	r->store = store;
	r->table = table;
	r->turn = turn;
	r->scratch = calloc(SW_RETAIN_SCAN_MAX, sizeof(txn_t));
	return r->scratch == NULL ? PS_ENOMEM : 0;
}

void sw_retain_start(sw_retain_t *r)
{
	uv_timer_init(r->ctx->loop, &r->timer);
	r->timer.data = r;
	r->timer_open = true;
	uv_timer_start(&r->timer, on_tick, SW_RETAIN_TICK_MS, SW_RETAIN_TICK_MS);
}

void sw_retain_close(sw_retain_t *r)
{
	if (r->timer_open && !uv_is_closing((uv_handle_t *)&r->timer))
		uv_close((uv_handle_t *)&r->timer, NULL);
	r->timer_open = false;
}

void sw_retain_free(sw_retain_t *r)
{
	free(r->scratch);
	r->scratch = NULL;
}
