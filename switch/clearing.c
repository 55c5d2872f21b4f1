/*
 * clearing.c: settlement windows (clearing.h).
 */
#include "clearing.h"

void sw_clearing_init(sw_clearing_t *c, sw_ctx_t *ctx)
{
	c->ctx = ctx;
	c->open_window = SW_WINDOW_FIRST;
}

uint64_t sw_clearing_window(const sw_clearing_t *c)
{
	return c->open_window;
}
