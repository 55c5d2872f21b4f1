/*
 * netting.h: what netsim computes at each period's close, apart from the
 * event loop so that it is unit tested by hand: the clearing type of a
 * leg, its fees under the network's schedule, each member's multilateral
 * net position (the obligation rule is clearing_file.h's clf_net, so the
 * files and the positions agree by construction), the settlement request
 * for PBOC, and the calendar of periods (settlement dates, NetClear
 * sessions, the daily cutover).
 *
 * Pure: never includes uv.h; no allocation.
 */
#ifndef PAYSWITCH_NETSIM_NETTING_H
#define PAYSWITCH_NETSIM_NETTING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clearing_file.h"

#define NS_POSITIONS_MAX 256   /* members in one batch, as PBOC takes */
#define NS_PERIOD_MAX 12       /* "20261203", "B2026120301", NUL included */
#define NS_SETTLE_LINE_MAX (16 * 1024)

/* The network's fee schedule (docs/clearing.md, Fees). */
typedef struct ns_fees {
	uint32_t issuer_ppm;
	int64_t issuer_cap;    /* 0: none */
	uint32_t network_ppm;
	int64_t network_cap;
} ns_fees_t;

/* A leg's fees: route_fee() on a debit (TXN_KIND_PURCHASE), none on any
 * other kind. */
void ns_fees_of(const ns_fees_t *fees, int kind, int64_t amount,
		int64_t *fee_issuer, int64_t *fee_network);

/* The clearing type (enum clf_type) of a leg of kind (enum txn_kind; a
 * reversal's original_kind says what it reverses), or -1 for one that
 * clears nothing (a balance inquiry, network management). */
int ns_clear_type(int kind, int original_kind);

typedef struct ns_position {
	char member[CLF_MEMBER_MAX + 1];
	int64_t amount;  /* > 0 owed, < 0 owes */
} ns_position_t;

typedef struct ns_positions {
	ns_position_t pos[NS_POSITIONS_MAX];
	uint32_t count;
} ns_positions_t;

void ns_positions_init(ns_positions_t *p);
/* Adds amount to member's position (a new member at 0). PS_ELIMIT when a
 * new member would be one too many. */
int ns_positions_add(ns_positions_t *p, const char *member, int64_t amount);
/*
 * Books one cleared leg of type: its bank's share (role I), its origin's
 * (role A) and its network's, which sum to zero. PS_ELIMIT as above (p
 * may then hold part of it: the period cannot be netted).
 */
int ns_positions_book(ns_positions_t *p, const char *bank, const char *origin,
		      const char *network, int type, int64_t amount,
		      int64_t fee_issuer, int64_t fee_network);
/* The sum of all positions (0, always, for booked legs). */
int64_t ns_positions_sum(const ns_positions_t *p);
/* Sorted by member id. */
void ns_positions_sort(ns_positions_t *p);

/*
 * The settle request (docs/clearing.md, PBOC): one line, '\n' included,
 * with id = batch, the positions that are not 0 in the order held.
 * PS_ENOSPC when it does not fit.
 */
int ns_settle_line(const char *batch, const char *submitter,
		   const ns_positions_t *p, char *out, size_t cap, size_t *len);

/* ---- the calendar ------------------------------------------------------------ */

/* Is d a date YYYYMMDD (a day that exists)? */
bool ns_date_valid(const char *d);
/* The day after d. PS_EINVAL when d is no date. */
int ns_date_next(const char *d, char out[9]);
/* The UTC date of a wall-clock time. */
void ns_date_of_ms(uint64_t wall_ms, char out[9]);
/* The wall-clock time of the next minute_of_day (0..1439, UTC) after
 * now_ms (strictly after). */
uint64_t ns_next_cutover_ms(uint64_t now_ms, uint32_t minute_of_day);
/* "B" + date + 2-digit seq (1..99). */
void ns_session_name(const char *date, uint32_t seq, char out[NS_PERIOD_MAX]);
/* The session after (date, seq) on day today: the same date's next
 * sequence, the first of today once the date is behind, the next day's
 * first after 99. */
void ns_session_next(const char *date, uint32_t seq, const char *today,
		     char next_date[9], uint32_t *next_seq);

#endif /* PAYSWITCH_NETSIM_NETTING_H */
