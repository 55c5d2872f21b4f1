/*
 * channel_uv.c: a channel's alloc callback and read results for libuv
 * (channel_uv.h).
 */
#include "channel_uv.h"

#include <stdio.h>

void chan_uv_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
	(void)suggested;
	chan_t *ch = handle->data; /* the owner's first member */
	uint8_t *data;
	size_t len;
	chan_space(ch, &data, &len);
	*buf = uv_buf_init((char *)data, (unsigned)len);
}

int chan_uv_read(chan_t *ch, ssize_t nread, char *why, size_t why_cap)
{
	if (nread == 0)
		return 0;
	if (nread < 0) {
		snprintf(why, why_cap, "%s",
			 nread == UV_EOF       ? "peer closed"
			 : nread == UV_ENOBUFS ? "frame over the bound"
					       : uv_strerror((int)nread));
		return -1;
	}
	chan_commit(ch, (size_t)nread);
	return 1;
}
