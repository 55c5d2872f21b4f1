/*
 * legs.h: a leg on its way to an endpoint and back.
 *
 * A leg is one message sent on behalf of a transaction (a debit, a
 * credit, a forwarded purchase, a reversal, a completion advice). Sending
 * one numbers it (STAN, field 7, RRN from the store's sequence), encodes
 * it for its endpoint's channel, indexes it so that its response finds
 * it, schedules its deadline, records its match key (so a response after
 * a restart or after the deadline is recognised as late) and queues it in
 * the outbox: it leaves after the turn's commit. The flows (flow.h) and
 * the store-and-forward queue (saf.h) both send through here.
 */
#ifndef PAYSWITCH_SW_LEGS_H
#define PAYSWITCH_SW_LEGS_H

#include "clearing.h"
#include "ctx.h"
#include "net.h"
#include "outbox.h"
#include "store.h"
#include "table.h"

typedef struct sw_legs {
	sw_ctx_t *ctx;
	sw_store_t *store;
	sw_table_t *table;
	sw_net_t *net;
	sw_outbox_t *outbox;
	sw_clearing_t *clearing;
} sw_legs_t;

void sw_legs_init(sw_legs_t *legs, sw_ctx_t *ctx, sw_store_t *store,
		  sw_table_t *table, sw_net_t *net, sw_outbox_t *outbox,
		  sw_clearing_t *clearing);

/* Gives leg l its STAN, field 7 and RRN. */
void sw_leg_number(sw_legs_t *legs, txn_leg_t *l);
/*
 * Sends leg i of st (numbered) to ep: the record is marked, the leg is
 * SENT with its deadline, its window and (direct) period, and
 * st->cur_leg is i. PS_ELIMIT when no write
 * buffer is free, PS_EFORMAT when it cannot be encoded; st is unchanged
 * then.
 */
int sw_leg_transmit(sw_legs_t *legs, sw_txn_t *st, unsigned i,
		    sw_endpoint_t *ep);
/* The leg st waits on is over (answered or timed out): out of the match
 * index and the deadline heap, one less in flight at its endpoint, which
 * is returned (NULL when it is gone). */
sw_endpoint_t *sw_leg_over(sw_legs_t *legs, sw_txn_t *st);

#endif /* PAYSWITCH_SW_LEGS_H */
