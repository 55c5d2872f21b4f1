/*
 * recon.h: reconciliation of one settlement window (docs/clearing.md):
 * the switch's records against everyone else's.
 *
 *   networks  their clearing files for the window's periods, per member
 *             (adapters/clearing_file.h): totals, and for UnionPay each
 *             leg by the key the switch sent it with
 *   banks     each direct bank's totals for the window's settlement date
 *             (0500/0510 over its link)
 *   PBOC      every batch of the window as PBOC posted it, per member
 *
 * The switch's side comes from its obligation records, counted with the
 * same rule the networks use (clf_totals_add). One reconciliation runs at
 * a time; it asks its questions, waits for the answers (RECON_WAIT_MS at
 * most: a question left unanswered is itself a difference), and writes
 * its verdict into the window's record: "recon": {"state": "reconciled"
 * or "differences" (or "running"), the differences, each with what was
 * compared, both values and the transactions involved}. A window is
 * reconciled only when every comparison agrees.
 */
#ifndef PAYSWITCH_SW_RECON_H
#define PAYSWITCH_SW_RECON_H

#include <stdint.h>

#include "clearing.h"
#include "net.h"

#define SW_RECON_WAIT_MS 10000
#define SW_RECON_DIFFERENCES_MAX 100   /* kept in the record (all counted) */
#define SW_RECON_LEGS_MAX 200000       /* legs matched one by one */

/* Starts reconciling window (booked: settling, settled or failed).
 * PS_EINVAL (err) for a window not booked yet, PS_EBUSY-like PS_ELIMIT
 * while another runs, PS_ENOMEM, PS_ENOTFOUND. */
int sw_recon_start(sw_clearing_t *c, uint64_t window, char *err,
		   size_t err_cap);
/* A bank's 0510 (net.h's recon_answer). */
void sw_recon_bank_answer(sw_clearing_t *c, sw_endpoint_t *ep,
			  const txn_response_t *resp);
/* The clearing timer: a reconciliation whose wait is over is finished. */
void sw_recon_tick(sw_clearing_t *c);
/* Frees what a reconciliation under way holds (the server stops). */
void sw_recon_free(sw_clearing_t *c);

#endif /* PAYSWITCH_SW_RECON_H */
