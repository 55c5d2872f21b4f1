/*
 * clearing.h: settlement windows and the obligations between banks.
 *
 * The home of clearing in the switch. A settlement window collects the
 * interbank obligations of the transactions that finish while it is open
 * (payer bank owes payee bank; issuer owes acquirer); at cutover it
 * closes, its obligations are netted per bank and sent for settlement,
 * and it moves through closed, settling, settled (or failed). Today the
 * switch has one window, always open, and books no obligation yet: the
 * payment-chain work (cutover, netting, settlement batches, the windows
 * database) fills this part in. What exists already is the window every
 * finished transaction is stamped with, so that records written now are
 * cleared with the first window when clearing arrives.
 *
 * Window ids grow and are never reused, and a transaction's window never
 * changes once stamped, so windows stay mergeable across switch nodes
 * (../shared/DESIGN.md, Beyond one machine).
 */
#ifndef PAYSWITCH_SW_CLEARING_H
#define PAYSWITCH_SW_CLEARING_H

#include <stdint.h>

#include "ctx.h"

#define SW_WINDOW_FIRST 1

typedef struct sw_clearing {
	sw_ctx_t *ctx;
	uint64_t open_window;    /* the window finishing transactions join */
} sw_clearing_t;

void sw_clearing_init(sw_clearing_t *c, sw_ctx_t *ctx);
/* The id of the window open now. */
uint64_t sw_clearing_window(const sw_clearing_t *c);

#endif /* PAYSWITCH_SW_CLEARING_H */
