/*
 * outbox.h: what a loop turn sends, held until the turn's commit.
 *
 * The one rule of the switch: a message that depends on a state change
 * (a leg to a bank, a final answer to an origin) is queued here and
 * written only after the batch holding that change is committed. The
 * turn (turn.h) calls sw_outbox_flush() after each successful commit;
 * the flush groups the messages by target so that each socket gets one
 * writev a turn, however many messages it carries. A failed commit leaves
 * the outbox as it is: nothing of that batch leaves.
 */
#ifndef PAYSWITCH_SW_OUTBOX_H
#define PAYSWITCH_SW_OUTBOX_H

#include <stdbool.h>
#include <stdint.h>

#include "net.h"

typedef struct sw_outbox {
	sw_net_t *net;
	sw_wbuf_t *head, *tail;
	uint32_t len;
} sw_outbox_t;

void sw_outbox_init(sw_outbox_t *ob, sw_net_t *net);
/* Queues wb (addressed by sw_conn_answer or sw_endpoint_encode_leg) for
 * the next flush; the outbox owns it from here. */
void sw_outbox_send(sw_outbox_t *ob, sw_wbuf_t *wb);
bool sw_outbox_busy(const sw_outbox_t *ob);
/*
 * Writes everything queued. A message whose target is gone is dropped:
 * an answer to a closed connection (its origin asks again, or queries),
 * or a leg when no link of its endpoint is up (the leg times out and is
 * reversed).
 */
void sw_outbox_flush(sw_outbox_t *ob);
/* Returns everything queued to the pool unsent (the server stopped). */
void sw_outbox_discard(sw_outbox_t *ob);

#endif /* PAYSWITCH_SW_OUTBOX_H */
