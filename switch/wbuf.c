/*
 * wbuf.c: the network layer's write buffers and batches, and the framing
 * of an encoded message into one (net.h).
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

int sw_net_pack(sw_wbuf_t *wb, const iso8583_framing_t *framing,
		const uint8_t *header_bytes, const iso8583_msg_t *msg,
		iso8583_error_t *err)
{
	size_t prefix = iso8583_frame_length_bytes(framing);
	size_t header = framing->header_bytes;
	size_t len = 0;
	int rc = iso8583_pack(msg, wb->data + prefix + header,
			      sizeof(wb->data) - prefix - header, &len, err);
	if (rc != 0)
		return rc;
	memcpy(wb->data + prefix, header_bytes, header);
	rc = iso8583_frame_write_length(framing, header + len, wb->data);
	if (rc != 0)
		return rc;
	wb->len = prefix + header + len;
	return 0;
}

void sw_net_closed(sw_net_t *net)
{
	if (net->handlers.closed != NULL)
		net->handlers.closed(net->handlers.closed_data);
}

