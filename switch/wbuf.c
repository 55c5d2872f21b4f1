/*
 * wbuf.c: the network layer's write buffers and batches (net.h).
 */
#include "net.h"

#include <string.h>

#include "net_int.h"

/* ---- buffers -------------------------------------------------------------- */

sw_wbuf_t *sw_wbuf_get(sw_net_t *net)
{
	sw_wbuf_t *wb = ps_pool_get(&net->wbufs);
	if (wb != NULL) {
		wb->pool = &net->wbufs;
		wb->kind = SW_WBUF_MESSAGE;
	}
	return wb;
}

void sw_wbuf_release(sw_net_t *net, sw_wbuf_t *wb, bool delivered)
{
	if (wb->kind != SW_WBUF_MESSAGE) {
		/* A final answer's buffer carries its transaction from the
		 * moment it is encoded; before that it was only set aside. */
		bool answer = wb->kind == SW_WBUF_ANSWER ? wb->txn_id != 0
							 : wb->len > 0;
		if (!delivered && answer)
			net->ctx->metrics.answers_dropped++;
		if (!delivered && answer && wb->kind == SW_WBUF_ANSWER &&
		    net->handlers.answer_lost != NULL)
			net->handlers.answer_lost(net->handlers.data, wb->txn_id);
		sw_conn_unhold(wb);
	}
	ps_pool_put(wb->pool, wb);
}

void sw_wbuf_put(sw_net_t *net, sw_wbuf_t *wb)
{
	sw_wbuf_release(net, wb, false);
}

sw_wbatch_t *sw_wbatch_get(sw_net_t *net)
{
	sw_wbatch_t *b = ps_pool_get(&net->wbatches);
	if (b != NULL)
		b->net = net;
	return b;
}

void sw_wbatch_add(sw_wbatch_t *b, sw_wbuf_t *wb)
{
	PS_ASSERT(b->count < SW_WBATCH_MAX);
	b->wb[b->count] = wb;
	b->buf[b->count] = uv_buf_init((char *)wb->data, (unsigned)wb->len);
	b->count++;
}

void sw_wbatch_free(sw_net_t *net, sw_wbatch_t *b, bool delivered)
{
	for (uint32_t i = 0; i < b->count; i++)
		sw_wbuf_release(net, b->wb[i], delivered);
	ps_pool_put(&net->wbatches, b);
}

void sw_net_own_channel(sw_channel_cfg_t *ch, iso8583_dialect_t *storage)
{
	if (ch->chan.kind != CHAN_ISO8583)
		return;
	*storage = *ch->chan.dialect;
	ch->chan.dialect = storage;
	ch->chan.framing.dialect = storage;
}

void sw_net_closed(sw_net_t *net)
{
	if (net->handlers.closed != NULL)
		net->handlers.closed(net->handlers.closed_data);
}

