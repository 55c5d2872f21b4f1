/*
 * control.h: the operator's two doors into a running switch.
 *
 *   control  JSON lines over loopback TCP or a Unix socket ("control" in
 *            the config): {"cmd":"status"}, "endpoints", "stats",
 *            "reload", "cutover", "windows", "window", "settle".
 *            switchctl speaks it.
 *   metrics  Prometheus text over HTTP ("metrics"): GET /metrics.
 *
 * Neither is on the payment path, so they may allocate; both are bounded
 * (clients, request size) so a stuck operator tool cannot hurt traffic.
 * They read the other parts through sw_control_view_t and change nothing
 * but through its reload callback.
 */
#ifndef PAYSWITCH_SW_CONTROL_H
#define PAYSWITCH_SW_CONTROL_H

#include <stdint.h>

#include "clearing.h"
#include "ctx.h"
#include "flow.h"
#include "net.h"
#include "saf.h"
#include "store.h"
#include "table.h"

typedef struct sw_control sw_control_t;

/* What the operator sees, and the one thing it may ask for. */
typedef struct sw_control_view {
	sw_ctx_t *ctx;
	sw_net_t *net;
	sw_flow_t *flow;
	sw_table_t *table;
	sw_store_t *store;
	sw_saf_t *saf;
	sw_clearing_t *clearing;
	/* Re-reads the configuration file (SIGHUP's work). */
	int (*reload)(void *data, char *err, size_t err_cap);
	void *reload_data;
} sw_control_view_t;

/* Opens the control socket and the metrics page the config names (either
 * may be absent). PS_EIO with err when one cannot listen. */
int sw_control_start(sw_control_t **out, const sw_control_view_t *view,
		     char *err, size_t err_cap);
/* Closes both and their clients (the loop finishes the closes). */
void sw_control_close(sw_control_t *c);
void sw_control_free(sw_control_t *c);
/* The ports actually bound (0 when absent or a Unix socket). */
uint16_t sw_control_port(const sw_control_t *c);
uint16_t sw_metrics_port(const sw_control_t *c);

#endif /* PAYSWITCH_SW_CONTROL_H */
