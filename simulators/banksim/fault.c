/*
 * fault.c: the bank's fault and latency policy, the loop's ops.fate.
 *
 * Faults act on the answer only, after the commit: a dropped answer, or a
 * connection closed instead of answering, leaves the posting in the book,
 * which is exactly the case the switch's timeout and reversal exist for.
 * A fault pinned on an account applies to 0200s naming it; the random
 * rates apply to every answer but 0810s, so the switch's repeats of
 * reversals and advices are exercised too. The draws (drop, close, delay,
 * latency) come from sim_fate_draw: a stream seeded by --seed and the
 * request itself (MTI, fields 32, 11, 7), so the same request meets the
 * same fate in every run.
 */
#include <string.h>

#include "banksim.h"
#include "core.h"

static bool is_0200(const txn_t *t)
{
	return t->kind == TXN_KIND_PURCHASE || t->kind == TXN_KIND_CREDIT ||
	       t->kind == TXN_KIND_REFUND_CREDIT || t->kind == TXN_KIND_BALANCE;
}

/* An account's fault (accounts.h) as the loop names it. */
static int pinned_fault(const txn_t *t, const bank_work_t *w)
{
	if (!is_0200(t) || w->account == NULL)
		return SIM_FAULT_NONE;
	switch (w->account->fault) {
	case BANK_FAULT_DROP:
		return SIM_FAULT_DROP;
	case BANK_FAULT_DELAY:
		return SIM_FAULT_DELAY;
	case BANK_FAULT_CLOSE:
		return SIM_FAULT_CLOSE;
	}
	return SIM_FAULT_NONE;
}

static void log_fault(const txn_t *t, const bank_work_t *w, int fault)
{
	ps_log_t *l = ps_log_begin(PS_LOG_INFO, "fault");
	ps_log_str(l, "fault", sim_fault_name(fault));
	ps_log_str(l, "kind", txn_kind_name(t->kind));
	ps_log_str(l, "key", w->key);
	ps_log_pan(l, "account", t->payer, strlen(t->payer));
	ps_log_str(l, "code", w->code);
	ps_log_end(l);
}

void bank_fate(void *ctx, sim_req_t *req, sim_fate_t *fate)
{
	banksim_t *sim = ctx;
	const bank_work_t *w = sim_req_work(req);
	sim_fate_draw(&sim->faults, &req->t, pinned_fault(&req->t, w), fate);
	if (fate->fault != SIM_FAULT_NONE)
		log_fault(&req->t, w, fate->fault);
}
