/*
 * retain.c: forgetting finished transactions after retention_ms.
 *
 * The store keeps a final answer as long as a PSP may query it, repeat its
 * request or refund it; after that the record and its keys (idempotency,
 * late-answer matching) are deleted, so the store's size is bounded by the
 * traffic of one retention period, not by the traffic of all time. Records
 * are keyed by switch id, which grows with intake time, so the oldest come
 * first: a tick deletes at most RETAIN_SCAN_MAX of them and stops at the
 * first that must stay.
 */
#include <stdlib.h>
#include <string.h>

#include "sw_int.h"

#define RETAIN_SCAN_MAX 512
#define RETAIN_TICK_MS 1000

static bool expired(sw_server_t *sw, const txn_t *t, uint64_t cutoff_ms)
{
	return t->state == TXN_STATE_DONE && t->answered_ms <= cutoff_ms &&
	       t->created_ms <= cutoff_ms && sw_txn_by_id(sw, t->id) == NULL;
}

/* Collects the oldest expired records, oldest first. */
static uint32_t collect(sw_server_t *sw, txn_t *out, uint32_t cap,
			uint64_t cutoff_ms)
{
	MDB_txn *txn = sw_store_read(sw);
	if (txn == NULL)
		return 0;
	MDB_cursor *cur;
	uint32_t n = 0;
	if (mdb_cursor_open(txn, sw->store.inflight, &cur) == 0) {
		MDB_val k, v;
		int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
		while (rc == 0 && n < cap && v.mv_size == sizeof(txn_t)) {
			memcpy(&out[n], v.mv_data, sizeof(txn_t));
			if (!expired(sw, &out[n], cutoff_ms))
				break;
			n++;
			rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
		}
		mdb_cursor_close(cur);
	}
	sw_store_read_done(sw);
	return n;
}

static void forget(sw_server_t *sw, const txn_t *t)
{
	uint8_t key[128];
	sw_id_key(t->id, key);
	sw_store_del(sw, sw->store.inflight, key, 8);
	if (t->request_id[0] != '\0') {
		size_t klen = sw_idem_key(t->participant, t->request_id, key,
					  sizeof(key));
		sw_store_del(sw, sw->store.idem, key, klen);
	}
	for (unsigned i = 0; i < t->leg_count && i < TXN_LEGS_MAX; i++) {
		const txn_leg_t *l = &t->leg[i];
		if (l->stan == 0)
			continue;
		size_t klen = sw_match_key(l->endpoint, l->stan, l->transmit, key);
		sw_store_del(sw, sw->store.match, key, klen);
	}
	sw->metrics.purged++;
}

static void on_retain_tick(uv_timer_t *timer)
{
	sw_server_t *sw = timer->data;
	uint64_t retention = sw->cfg->retention_ms;
	uint64_t now = ps_wall_ms();
	if (retention == 0 || now < retention || sw->draining ||
	    sw->store.commit_failures > 0)
		return;
	uint32_t n = collect(sw, sw->retain_scratch, RETAIN_SCAN_MAX,
			     now - retention);
	for (uint32_t i = 0; i < n; i++)
		forget(sw, &sw->retain_scratch[i]);
}

int sw_retain_start(sw_server_t *sw)
{
	sw->retain_scratch = calloc(RETAIN_SCAN_MAX, sizeof(txn_t));
	if (sw->retain_scratch == NULL)
		return PS_ENOMEM;
	uv_timer_init(&sw->loop, &sw->retain_timer);
	sw->retain_timer.data = sw;
	uv_timer_start(&sw->retain_timer, on_retain_tick, RETAIN_TICK_MS,
		       RETAIN_TICK_MS);
	return 0;
}

void sw_retain_free(sw_server_t *sw)
{
	free(sw->retain_scratch);
	sw->retain_scratch = NULL;
}
