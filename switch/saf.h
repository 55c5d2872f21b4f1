/*
 * saf.h: the store-and-forward queue of reversals and completion advices.
 *
 * An entry is a transaction record of kind REVERSAL or COMPLETION kept in
 * the saf database under (due time, sequence). It is sent at once (0400,
 * or 0220) when its endpoint can take it, and repeated (0401, 0221) with
 * exponential backoff until the endpoint acknowledges it (a reversal: 00,
 * 25 "no such original" or 94 "already reversed"; a completion: 00 or 94),
 * or until it has used reversal.attempts_max transmissions or lived
 * reversal.expiry_ms. What the queue cannot finish (an entry given up, a
 * completion whose authorisation the bank no longer holds) becomes an
 * exception (store.h): kept in LMDB, counted, logged at error level, until
 * an operator resolves it with `switchctl exceptions resolve`. Every transmission first re-keys the entry to its next due
 * time, so an entry is never sent twice at once and a crash loses none.
 * When an entry is acknowledged the leg it reverses (or completes) is
 * marked so in its parent's record.
 */
#ifndef PAYSWITCH_SW_SAF_H
#define PAYSWITCH_SW_SAF_H

#include <uv.h>

#include "ctx.h"
#include "legs.h"
#include "net.h"
#include "store.h"
#include "table.h"
#include "turn.h"

typedef struct saf_due saf_due_t;

typedef struct sw_saf {
	sw_ctx_t *ctx;
	sw_store_t *store;
	sw_table_t *table;
	sw_net_t *net;
	sw_legs_t *legs;
	sw_turn_t *turn;
	uv_timer_t timer;
	bool timer_open;
	saf_due_t *scratch;      /* due entries of one tick */
	uint32_t scratch_cap;
} sw_saf_t;

/* Allocates the tick's scratch (reversal.scan_max entries). */
int sw_saf_init(sw_saf_t *saf, sw_ctx_t *ctx, sw_store_t *store,
		sw_table_t *table, sw_net_t *net, sw_legs_t *legs,
		sw_turn_t *turn);
/* The queue's timer: due entries are looked at every tick. */
void sw_saf_start(sw_saf_t *saf);
void sw_saf_close(sw_saf_t *saf);
void sw_saf_free(sw_saf_t *saf);

/*
 * Queues a reversal (kind TXN_KIND_REVERSAL) or a completion advice
 * (TXN_KIND_COMPLETION) of the parent's leg; flags (TXN_F_ADVICE: send a
 * reversal as 0420/0421) go on the queued record. Sent at once when the
 * endpoint can take it, else stored for the timer. The caller reserved
 * room for it (it is part of the caller's event).
 */
void sw_saf_queue(sw_saf_t *saf, const txn_t *parent, unsigned leg, int kind,
		  uint16_t flags);
static inline void sw_saf_reverse(sw_saf_t *saf, const txn_t *parent,
				  unsigned leg)
{
	sw_saf_queue(saf, parent, leg, TXN_KIND_REVERSAL, 0);
}

/* The endpoint answered a transmission (rev is the record that waited). */
void sw_saf_response(sw_saf_t *saf, sw_txn_t *rev, const txn_response_t *resp);
/* A transmission got no answer in time: it is repeated when due. */
void sw_saf_deadline(sw_saf_t *saf, sw_txn_t *rev);
/* Entries waiting in the queue, and open exceptions (LMDB's counts). */
uint64_t sw_saf_entries(sw_saf_t *saf);
uint64_t sw_saf_exceptions(sw_saf_t *saf);

#endif /* PAYSWITCH_SW_SAF_H */
