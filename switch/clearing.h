/*
 * clearing.h: settlement windows, the obligations between members, and
 * their settlement at the central bank (docs/clearing.md is the design).
 *
 * While traffic runs, every approved leg and every reversal a bank
 * acknowledged as done becomes an obligation record, written in the turn
 * that changed the leg (sw_clearing_book_leg, sw_clearing_book_reversal):
 * one put, so the payment path never waits on clearing. Each leg carries
 * its window (the switch's, when it was sent) and its clearing period:
 * the window's settlement date for a direct route, the network's period
 * (its answer's field 15 or NetClear batch) for a leg through a network.
 *
 * Cutover (sw_clearing_cutover: switchctl cutover, or clearing.cutover_time)
 * closes the open window and opens the next at once, its settlement date a
 * day later, and asks every network endpoint to cut over too; their
 * answers (and their own 0820 announcements) say which of their periods
 * the window holds. Then, on the clearing timer: after settle_delay_ms the
 * window's obligations are booked in the switch's ledger (ledger.h, in the
 * store's own environment: one account per channel, period, member and
 * currency, one transfer per obligation and fee, ids derived from the
 * transaction, so a booking cut short by a crash is run again), netted per
 * member, and the direct positions submitted to PBOC as one batch; the
 * networks submit their own. The window is settled once PBOC has posted
 * every batch of it: open, closed, settling, settled, or failed (a batch
 * rejected; sw_clearing_settle retries).
 *
 * Windows are JSON records in the store's windows database, read and
 * changed only here (and read by switchctl). Window ids grow and are
 * never reused, and a leg's window and period never change once set, so
 * windows stay mergeable across switch nodes (../shared/DESIGN.md).
 */
#ifndef PAYSWITCH_SW_CLEARING_H
#define PAYSWITCH_SW_CLEARING_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>
#include <uv.h>

#include "adapters.h"
#include "ctx.h"
#include "ledger.h"
#include "net.h"
#include "pboc.h"
#include "store.h"

#define SW_WINDOW_FIRST 1
#define SW_WINDOW_MEMBERS_MAX 256   /* positions a window may hold */
#define SW_WINDOW_PERIODS_MAX 16    /* network periods per window */
#define SW_WINDOW_JSON_BYTES_MAX (256 * 1024)
#define SW_OBLIGATION_KEY_BYTES 23  /* channel, period[12], txn, leg, event */
#define SW_NETWORK_WAIT_MS 30000    /* for a network's answer to cutover */

enum sw_window_state {
	SW_WINDOW_OPEN = 0,
	SW_WINDOW_CLOSED,
	SW_WINDOW_SETTLING,
	SW_WINDOW_SETTLED,
	SW_WINDOW_FAILED,
};

const char *sw_window_state_name(int state);

/* What an obligation records (the obligations database's value). */
typedef struct sw_obligation {
	uint64_t txn_id;
	uint8_t leg;
	uint8_t event;          /* 0 the leg itself, 1 its reversal */
	uint8_t kind;           /* the leg's kind (purchase, credit ...) */
	uint8_t channel;        /* route_network_t the leg travelled */
	uint16_t currency;
	char period[TXN_PERIOD_MAX];
	char bank[12];          /* the leg's bank (field 100) */
	char origin[12];        /* the transaction's origin (field 32) */
	char network[12];       /* who earns network fees: the network's
				   member id, or the switch's */
	int64_t amount, fee_issuer, fee_network;
	uint32_t stan;
	char transmit[11];
	char rrn[13];
	uint32_t window;
} sw_obligation_t;

typedef struct sw_clearing {
	sw_ctx_t *ctx;
	sw_store_t *store;
	sw_net_t *net;
	ledger_t *ledger;        /* in the store's environment */
	uint64_t open_window;    /* the window legs join */
	char open_date[9];       /* its settlement date, YYYYMMDD */
	uv_timer_t timer;
	bool timer_open;
	sw_pboc_t pboc;
	uint64_t last_daily_ms;  /* the last daily cutover (wall clock) */
	uint64_t booked_through; /* windows up to this one began booking */
	struct sw_recon *recon;  /* a reconciliation under way (recon.h) */
	uint64_t pboc_busy;      /* a window whose PBOC question is out */
} sw_clearing_t;

/* Opens the ledger in the store's environment and the open window (the
 * first at a store's first start). PS_EIO with err on failure. */
int sw_clearing_init(sw_clearing_t *c, sw_ctx_t *ctx, sw_store_t *store,
		     sw_net_t *net, char *err, size_t err_cap);
/* The clearing timer and the PBOC client. */
void sw_clearing_start(sw_clearing_t *c);
void sw_clearing_close(sw_clearing_t *c);
void sw_clearing_free(sw_clearing_t *c);

/* The window open now, and its settlement date. */
uint64_t sw_clearing_window(const sw_clearing_t *c);
const char *sw_clearing_date(const sw_clearing_t *c);

/* ---- the payment path (within a turn, room reserved) -------------------- */

/* A leg about to be sent to ep: its window, and its period when the
 * switch settles it (a direct route). */
void sw_clearing_stamp_leg(const sw_clearing_t *c, const sw_endpoint_t *ep,
			   txn_leg_t *l);
/* A leg's period from its answer (a network's field 15 or batch). */
void sw_clearing_take_period(const sw_clearing_t *c, const sw_endpoint_t *ep,
			     txn_leg_t *l, const txn_response_t *resp);
/* Is leg l held by a two-phase bank (an approved debit, an authorisation
 * until its completion is acknowledged, when it is booked)? */
bool sw_clearing_leg_held(const sw_clearing_t *c, const txn_leg_t *l);
/* Leg i of t was approved (or found posted, or completed): its
 * obligation. A direct obligation whose window already began booking
 * (a reversal acknowledged after it) joins the open window instead,
 * logged as late_obligation: reconciliation shows it under both dates. */
void sw_clearing_book_leg(sw_clearing_t *c, const txn_t *t, unsigned i);
/* The reversal rev of leg i of parent was answered 00 (the bank had
 * posted it, and undid it): the reversal's obligation, and the leg's if
 * it was never booked (it timed out unanswered). */
void sw_clearing_book_reversal(sw_clearing_t *c, const txn_t *parent,
			       unsigned i, const txn_t *rev);

/* ---- networks ---------------------------------------------------------- */

/* A network endpoint closed one of its periods (its answer to our
 * cutover request, or its own 0820 201 announcement): the window open
 * when we asked, or now, holds it. */
void sw_clearing_network_closed(sw_clearing_t *c, const sw_endpoint_t *ep,
				const char *period, uint64_t window);

/* ---- the operator ------------------------------------------------------- */

/* Closes the open window and opens the next; asks the networks to cut
 * over. *closed is the window closed. PS_EIO (err) when it cannot be
 * recorded: nothing changed. */
int sw_clearing_cutover(sw_clearing_t *c, uint64_t *closed, char *err,
			size_t err_cap);
/* Submits a failed window's rejected batches again. PS_ENOTFOUND,
 * PS_EINVAL (err: not failed) */
int sw_clearing_settle(sw_clearing_t *c, uint64_t window, char *err,
		       size_t err_cap);
/* The window's record (caller decrefs), NULL when there is none. */
json_t *sw_clearing_window_json(sw_clearing_t *c, uint64_t window);
/* Changes window id's record with fn, in one write transaction. */
int sw_clearing_window_update(sw_clearing_t *c, uint64_t id,
			      void (*fn)(json_t *w, void *arg), void *arg);

/* ---- records ----------------------------------------------------------- */

/* The obligation's key and value (fixed layout, big-endian). */
void sw_obligation_key(const sw_obligation_t *o, uint8_t out[SW_OBLIGATION_KEY_BYTES]);
#define SW_OBLIGATION_BYTES 160
size_t sw_obligation_encode(const sw_obligation_t *o, uint8_t out[SW_OBLIGATION_BYTES]);
int sw_obligation_decode(const uint8_t *in, size_t len, sw_obligation_t *o);
/* Is a daily cutover at hhmm (UTC, "" none) due at now_ms, the last one
 * having been at last_ms (wall clock)? */
bool sw_clearing_daily_due(const char *hhmm, uint64_t last_ms, uint64_t now_ms);
/* The settlement date a day after date (YYYYMMDD). */
void sw_date_next(const char *date, char out[9]);
/* A period's YYYYMMDD from an answer's MMDD, the year chosen nearest to
 * near (YYYYMMDD). */
void sw_date_from_mmdd(const char *mmdd, const char *near, char out[9]);

#endif /* PAYSWITCH_SW_CLEARING_H */
