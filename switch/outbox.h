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
 *
 * An answer that depends on no state (a refusal with nothing posted: 91
 * while the store fails, a bound reached; an echo) is queued apart, with
 * sw_outbox_send_free(), and leaves at the end of the turn whether the
 * commit succeeded or not: while the store is unavailable the origins
 * still hear why.
 */
#ifndef PAYSWITCH_SW_OUTBOX_H
#define PAYSWITCH_SW_OUTBOX_H

#include <stdbool.h>
#include <stdint.h>

#include "net.h"

typedef struct sw_queue {
	sw_wbuf_t *head, *tail;
	uint32_t len;
} sw_queue_t;

typedef struct sw_outbox {
	sw_net_t *net;
	sw_queue_t gated;        /* after the commit */
	sw_queue_t free;         /* at the end of the turn, commit or not */
} sw_outbox_t;

void sw_outbox_init(sw_outbox_t *ob, sw_net_t *net);
/* Queues wb (addressed by sw_conn_answer or sw_endpoint_encode_leg) for
 * the flush after the next commit; the outbox owns it from here. */
void sw_outbox_send(sw_outbox_t *ob, sw_wbuf_t *wb);
/* Queues an answer that depends on no state for the end of the turn. */
void sw_outbox_send_free(sw_outbox_t *ob, sw_wbuf_t *wb);
bool sw_outbox_busy(const sw_outbox_t *ob);
/*
 * Writes what is queued: everything after a commit, or (committed false)
 * only what depends on no state. A message whose target is gone is
 * dropped and counted: an answer to a closed connection (answers_dropped:
 * its origin asks again, or queries), or a leg when no link of its
 * endpoint is up (legs_unsent: the leg times out and is reversed).
 */
void sw_outbox_flush(sw_outbox_t *ob, bool committed);
/* Returns everything queued to the pool unsent (the server stopped). */
void sw_outbox_discard(sw_outbox_t *ob);

#endif /* PAYSWITCH_SW_OUTBOX_H */
