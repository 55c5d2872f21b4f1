/*
 * channel_uv.h: the libuv glue of a channel (channel.h), once for every
 * event loop that reads one: the switch's connections and links and the
 * simulators' connections.
 *
 * A separate library (ps_channel_uv) so that the adapters themselves stay
 * free of uv.h. The owner of a connection keeps its chan_t as the first
 * member of the struct that the handle's data points at, so one alloc
 * callback serves them all.
 */
#ifndef PAYSWITCH_CHANNEL_UV_H
#define PAYSWITCH_CHANNEL_UV_H

#include <stddef.h>
#include <sys/types.h>

#include <uv.h>

#include "channel.h"

/* libuv's alloc callback: reads go straight into the channel's framing
 * storage. handle->data must point at a struct whose first member is the
 * chan_t. */
void chan_uv_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf);

/*
 * What a read callback got: 1 when nread bytes were committed to ch (take
 * the frames with chan_next), 0 when there was nothing, or -1 when the
 * stream ended or failed, with the reason in why ("peer closed", "frame
 * over the bound", libuv's text): close the peer.
 */
int chan_uv_read(chan_t *ch, ssize_t nread, char *why, size_t why_cap);

#endif /* PAYSWITCH_CHANNEL_UV_H */
