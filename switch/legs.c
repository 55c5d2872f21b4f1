/*
 * legs.c: numbering, sending and ending a leg (legs.h).
 */
#include "legs.h"

#include <string.h>

void sw_legs_init(sw_legs_t *legs, sw_ctx_t *ctx, sw_store_t *store,
		  sw_table_t *table, sw_net_t *net, sw_outbox_t *outbox,
		  sw_clearing_t *clearing)
{
	legs->clearing = clearing;
	legs->ctx = ctx;
	legs->store = store;
	legs->table = table;
	legs->net = net;
	legs->outbox = outbox;
}

void sw_leg_number(sw_legs_t *legs, txn_leg_t *l)
{
	uint64_t seq = sw_store_next_msg_seq(legs->store);
	uint64_t now = ps_wall_ms();
	l->stan = (uint32_t)(seq % 999999) + 1;
	txn_format_transmit(now, l->transmit);
	txn_format_rrn(now, seq, l->rrn);
}

int sw_leg_transmit(sw_legs_t *legs, sw_txn_t *st, unsigned i,
		    sw_endpoint_t *ep)
{
	txn_leg_t *l = &st->t.leg[i];
	int rc;
	/* Before encoding: a direct leg carries its settlement date; a
	 * repeat (a reversal, a completion) the date it was first sent
	 * with, as it keeps its STAN and field 7. */
	txn_leg_t before = *l;
	if (!(st->saf && l->attempts > 0))
		sw_clearing_stamp_leg(legs->clearing, ep, l);
	sw_wbuf_t *wb = sw_endpoint_encode_leg(legs->net, ep, &st->t, i, &rc);
	if (wb == NULL) {
		*l = before;
		return rc;
	}
	uint64_t now = ps_wall_ms();
	l->state = TXN_LEG_SENT;
	l->sent_ms = now;
	l->deadline_ms = now + ep->cfg.timeout_ms;
	l->attempts++;
	ps_strlcpy(l->endpoint, ep->cfg.name, sizeof(l->endpoint));
	st->cur_leg = (int8_t)i;
	sw_txn_index_match(legs->table, st);
	sw_txn_schedule(legs->table, st, uv_now(legs->ctx->loop) + ep->cfg.timeout_ms);
	ep->inflight++;
	ep->sent++;
	sw_table_mark(legs->table, st);
	if (!st->saf) {
		/* Persisted so that a response after a restart or after the
		 * deadline is recognised as late; reversals and advices need
		 * no such record (the SAF repeats them until acknowledged). */
		uint8_t key[SW_MATCH_KEY_BYTES], val[9];
		size_t klen = sw_match_key(l->endpoint, l->stan, l->transmit, key);
		sw_id_key(st->t.id, val);
		val[8] = (uint8_t)i;
		sw_store_put(legs->store, legs->store->match, key, klen, val,
			     sizeof(val));
	}
	sw_outbox_send(legs->outbox, wb);
	return 0;
}

sw_endpoint_t *sw_leg_over(sw_legs_t *legs, sw_txn_t *st)
{
	const txn_leg_t *l = &st->t.leg[st->cur_leg];
	sw_txn_unindex_match(legs->table, st);
	sw_txn_unschedule(legs->table, st);
	st->cur_leg = -1;
	sw_endpoint_t *ep = sw_net_endpoint(legs->net, l->endpoint);
	if (ep != NULL && ep->inflight > 0)
		ep->inflight--;
	return ep;
}
