/*
 * retain.h: forgetting finished transactions after retention_ms.
 *
 * The store keeps a final answer as long as a PSP may query it, repeat its
 * request or refund it; after that the record and its keys (idempotency,
 * late-answer matching) are deleted, so the store's size is bounded by the
 * traffic of one retention period, not by the traffic of all time. Records
 * are keyed by switch id, which grows with intake time, so the oldest come
 * first: a tick (every second) deletes at most SW_RETAIN_SCAN_MAX of them
 * and stops at the first that must stay. A record still in memory always
 * stays.
 */
#ifndef PAYSWITCH_SW_RETAIN_H
#define PAYSWITCH_SW_RETAIN_H

#include <uv.h>

#include "ctx.h"
#include "store.h"
#include "table.h"
#include "turn.h"

#define SW_RETAIN_SCAN_MAX 512
#define SW_RETAIN_TICK_MS 1000

typedef struct sw_retain {
	sw_ctx_t *ctx;
	sw_store_t *store;
	sw_table_t *table;
	sw_turn_t *turn;
	uv_timer_t timer;
	bool timer_open;
	txn_t *scratch;          /* the expired records of one tick */
} sw_retain_t;

int sw_retain_init(sw_retain_t *r, sw_ctx_t *ctx, sw_store_t *store,
		   sw_table_t *table, sw_turn_t *turn);
void sw_retain_start(sw_retain_t *r);
/* One tick's work (the timer's; tests may call it). */
void sw_retain_tick(sw_retain_t *r);
void sw_retain_close(sw_retain_t *r);
void sw_retain_free(sw_retain_t *r);

#endif /* PAYSWITCH_SW_RETAIN_H */
