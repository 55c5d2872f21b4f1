/*
 * net_int.h: what the network layer's three files share (net.c,
 * listener.c, link.c); nothing outside net*.c, listener.c and link.c
 * includes it.
 */
#ifndef PAYSWITCH_SW_NET_INT_H
#define PAYSWITCH_SW_NET_INT_H

#include "net.h"

/* A channel configuration's own copy: its dialect (if any) copied into
 * storage, which the result points at. */
void sw_net_own_channel(sw_channel_cfg_t *ch, iso8583_dialect_t *storage);
/* Tells the handlers something finished closing. */
void sw_net_closed(sw_net_t *net);

/* listener.c */
/* An answer buffer goes back: its connection's counts (and its
 * listener's reference) drop; the connection may be read again. */
void sw_conn_unhold(sw_wbuf_t *wb);
/* *out is the listener; on PS_EIO (it cannot listen) it is one already
 * closing, to be kept and freed with the others; NULL on PS_ENOMEM. */
int sw_listener_start(sw_net_t *net, const sw_listener_cfg_t *cfg,
		      sw_listener_t **out, char *err, size_t err_cap);
void sw_listener_retire(sw_listener_t *l);
void sw_listener_free(sw_listener_t *l);

/* link.c */
int sw_endpoint_start(sw_net_t *net, const sw_endpoint_cfg_t *cfg,
		      sw_endpoint_t **out);
void sw_endpoint_update(sw_endpoint_t *ep, const sw_endpoint_cfg_t *cfg);
void sw_endpoint_retire(sw_endpoint_t *ep);
void sw_endpoint_free(sw_endpoint_t *ep);

#endif /* PAYSWITCH_SW_NET_INT_H */
