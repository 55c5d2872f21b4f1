/*
 * wbuf.c: the network layer's write buffers and batches (net.h).
 */
#include "net.h"

#include <string.h>

#include "net_int.h"

/* ---- buffers -------------------------------------------------------------- */

sw_wbuf_t *sw_wbuf_get(sw_net_t *net)
{
	return ps_pool_get(&net->wbufs);
}

void sw_wbuf_put(sw_net_t *net, sw_wbuf_t *wb)
{
	ps_pool_put(&net->wbufs, wb);
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

void sw_wbatch_free(sw_net_t *net, sw_wbatch_t *b)
{
	for (uint32_t i = 0; i < b->count; i++)
		sw_wbuf_put(net, b->wb[i]);
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

