/*
 * ctx.h: what every part of one switch loop shares.
 *
 * The loop, the configuration in force, the counters and the lifecycle
 * flags. Every part (store, table, net, flow ...) is given a pointer to
 * one sw_ctx_t at init and keeps no global state of its own, so that a
 * switch can one day run one loop per core, each with its own context and
 * its own parts (../shared/DESIGN.md, Performance).
 */
#ifndef PAYSWITCH_SW_CTX_H
#define PAYSWITCH_SW_CTX_H

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "config.h"
#include "metrics.h"

typedef struct sw_ctx {
	uv_loop_t *loop;
	const sw_config_t *cfg; /* replaced whole by a reload */
	sw_metrics_t metrics;
	uint64_t started_mono_ms;
	bool draining;          /* SIGTERM: no new work, finish what is open */
	bool stopped;           /* everything is closing */
} sw_ctx_t;

#endif /* PAYSWITCH_SW_CTX_H */
