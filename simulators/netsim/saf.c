/*
 * saf.c: the reversals netsim owes its banks (store and forward).
 *
 * A reversal is a record of its own (kind REVERSAL, its parent the leg it
 * undoes), written before it is first sent and kept SENT until the bank
 * acknowledges it: 00 (the bank had posted the leg: the leg and its
 * reversal both clear, netting to zero) or 25 (the bank never had it:
 * neither clears). Any other answer, no answer or a lost link repeats it
 * as 0401 after a wait that doubles from --reversal-retry-ms to
 * --reversal-retry-max-ms, at most --reversal-attempts-max times; then it
 * is given up (abandoned, logged for an operator) with its leg.
 *
 * A reversal a member asked for goes out at once from the turn with the
 * member's request kept: a definite answer goes back to the member (51:
 * the money was spent, the member repeats it if it will); no answer makes
 * it netsim's own to repeat, and the member hears 91 until it is done.
 *
 * The queue in memory holds what is waiting for its next attempt
 * (--saf-max entries; past that a reversal stays in the store only and a
 * restart takes it up again), under one timer armed for the earliest.
 */
#include <string.h>

#include "core.h"
#include "netsim.h"

static ns_saf_entry_t *saf_find(netsim_t *ns, uint64_t leg)
{
	for (uint32_t i = 0; i < ns->saf_count; i++)
		if (ns->saf[i].leg == leg)
			return &ns->saf[i];
	return NULL;
}

static void saf_remove(netsim_t *ns, ns_saf_entry_t *e)
{
	*e = ns->saf[--ns->saf_count];
}

static void on_saf_timer(uv_timer_t *t);

static void saf_arm(netsim_t *ns)
{
	uint64_t now = uv_now(ns->loop), due = UINT64_MAX;
	for (uint32_t i = 0; i < ns->saf_count; i++)
		if (!ns->saf[i].sending && ns->saf[i].due_ms < due)
			due = ns->saf[i].due_ms;
	if (due == UINT64_MAX || sim_server_draining(ns->srv)) {
		uv_timer_stop(&ns->saf_timer);
		return;
	}
	uv_timer_start(&ns->saf_timer, on_saf_timer, due > now ? due - now : 0, 0);
}

static uint32_t backoff_ms(const netsim_t *ns, uint32_t attempts)
{
	uint64_t ms = ns->cfg->reversal_retry_ms;
	for (uint32_t i = 1; i < attempts && ms < ns->cfg->reversal_retry_max_ms; i++)
		ms *= 2;
	return (uint32_t)PS_MIN(ms, (uint64_t)ns->cfg->reversal_retry_max_ms);
}

int ns_saf_record(netsim_t *ns, MDB_txn *txn, ns_leg_t *parent, int source,
		  ns_leg_t *rev)
{
	int b = ns_members_bank(ns->members, parent->bank);
	if (b < 0)
		return PS_ENOTFOUND;
	memset(rev, 0, sizeof(*rev));
	rev->version = NS_STORE_VERSION;
	rev->id = ns->meta.next_leg++;
	rev->kind = TXN_KIND_REVERSAL;
	rev->original_kind = parent->kind;
	rev->state = NS_LEG_SENT;
	rev->rc = TXN_RC_NONE;
	rev->source = (uint8_t)source;
	rev->attempts = source == NS_REV_MEMBER ? 1 : 0;
	rev->parent = parent->id;
	ps_strlcpy(rev->period, ns->meta.period, sizeof(rev->period));
	ps_strlcpy(rev->bank, parent->bank, sizeof(rev->bank));
	ps_strlcpy(rev->origin, parent->origin, sizeof(rev->origin));
	ps_strlcpy(rev->sender, parent->sender, sizeof(rev->sender));
	ps_strlcpy(rev->account, parent->account, sizeof(rev->account));
	rev->amount = parent->amount;
	rev->currency = parent->currency;
	rev->fee_issuer = parent->fee_issuer;
	rev->fee_network = parent->fee_network;
	sim_link_next_key(ns->links[b], &rev->fwd_stan, rev->fwd_transmit);
	ps_strlcpy(rev->rrn, parent->rrn, sizeof(rev->rrn));
	rev->created_ms = ps_wall_ms();
	parent->reversal = rev->id;
	if (source == NS_REV_TIMEOUT)
		parent->state = NS_LEG_UNKNOWN;
	ns->stats.reversals++;
	int rc;
	if ((rc = ns_store_put_leg(txn, &ns->store, rev)) ||
	    (rc = ns_store_put_leg(txn, &ns->store, parent)))
		return rc;
	return ns_store_put_meta(txn, &ns->store, &ns->meta);
}

void ns_saf_push(netsim_t *ns, const ns_leg_t *rev, uint32_t delay_ms)
{
	ns_saf_entry_t *e = saf_find(ns, rev->id);
	if (e == NULL) {
		if (ns->saf_count == ns->cfg->saf_max) {
			ps_logf(PS_LOG_ERROR, "saf_full", "reversal %llu stays in the "
				"store until a restart (--saf-max %u)",
				(unsigned long long)rev->id, ns->cfg->saf_max);
			return;
		}
		e = &ns->saf[ns->saf_count++];
		e->leg = rev->id;
		e->bank = (uint16_t)PS_MAX(ns_members_bank(ns->members, rev->bank), 0);
	}
	e->sending = false;
	e->due_ms = uv_now(ns->loop) + delay_ms;
	saf_arm(ns);
}

/* One attempt: counted in the store first, then sent. */
static void attempt(netsim_t *ns, ns_saf_entry_t *e)
{
	MDB_txn *txn = NULL;
	ns_leg_t rev, parent;
	int rc = ns_store_begin(&ns->store, false, &txn);
	if (rc == 0)
		rc = ns_store_get_leg(txn, &ns->store, e->leg, &rev);
	if (rc == 0)
		rc = ns_store_get_leg(txn, &ns->store, rev.parent, &parent);
	if (rc == 0 && rev.state != NS_LEG_SENT) {
		ns_store_abort(txn);
		saf_remove(ns, e); /* done meanwhile */
		return;
	}
	if (rc == 0 && !sim_link_is_up(ns->links[e->bank]))
		rc = PS_ECLOSED; /* not an attempt: the bank is not there */
	if (rc == 0) {
		rev.attempts++;
		rc = ns_store_put_leg(txn, &ns->store, &rev);
	}
	if (rc == 0)
		rc = ns_store_commit(txn);
	else
		ns_store_abort(txn);
	if (rc == 0)
		rc = ns_bank_send(ns, &rev, NULL, NULL, &parent);
	if (rc != 0) {
		if (rc != PS_ECLOSED && rc != PS_ELIMIT)
			netsim_store_failed("a reversal's attempt", rc);
		e->due_ms = uv_now(ns->loop) + ns->cfg->reversal_retry_ms;
		return;
	}
	e->sending = true;
}

static void on_saf_timer(uv_timer_t *t)
{
	netsim_t *ns = t->data;
	uint64_t now = uv_now(ns->loop);
	/* attempt() may remove entries: walk from the end. */
	for (uint32_t i = ns->saf_count; i-- > 0;)
		if (!ns->saf[i].sending && ns->saf[i].due_ms <= now)
			attempt(ns, &ns->saf[i]);
	saf_arm(ns);
}

void ns_saf_start(netsim_t *ns)
{
	uv_timer_init(ns->loop, &ns->saf_timer);
	ns->saf_timer.data = ns;
}

/* ---- outcomes -------------------------------------------------------------------- */

enum verdict { ACKED, VOIDED, REFUSED, AGAIN, GIVEN_UP };

static int judge(netsim_t *ns, const ns_fwd_t *f, const ns_leg_t *rev,
		 int outcome, const txn_response_t *resp)
{
	if (outcome == SIM_LINK_ANSWERED && resp->rc == TXN_RC_APPROVED)
		return ACKED;
	if (outcome == SIM_LINK_ANSWERED && resp->rc == TXN_RC_NO_RECORD)
		return VOIDED;
	/* A definite no to the member who asked: theirs to repeat. */
	if (outcome == SIM_LINK_ANSWERED && f->req != NULL)
		return REFUSED;
	return rev->attempts >= ns->cfg->reversal_attempts_max ? GIVEN_UP : AGAIN;
}

/* The reversal's verdict into both records. */
static void apply(netsim_t *ns, MDB_txn *txn, int verdict, ns_leg_t *rev,
		  ns_leg_t *parent, const txn_response_t *resp)
{
	rev->answered_ms = ps_wall_ms();
	if (resp != NULL)
		rev->rc = resp->rc;
	switch (verdict) {
	case ACKED:
		rev->state = NS_LEG_ANSWERED;
		ns_clear_into(ns, txn, rev, rev->period);
		if (parent->state == NS_LEG_UNKNOWN) {
			/* It had been posted after all: both clear. */
			bool late = ns_period_netted(ns, txn, parent->period);
			ns_clear_into(ns, txn, parent, late ? rev->clear_period
							   : parent->period);
		}
		parent->state = NS_LEG_REVERSED;
		ns->stats.reversals_acked++;
		break;
	case VOIDED:
		rev->state = NS_LEG_VOID;
		if (parent->state == NS_LEG_UNKNOWN) {
			parent->state = NS_LEG_VOID;
		} else {
			ps_logf(PS_LOG_WARN, "reversal_unmatched", "leg %llu was "
				"approved, yet its bank knows no original",
				(unsigned long long)parent->id);
			parent->reversal = 0;
		}
		break;
	case REFUSED:
		rev->state = NS_LEG_ANSWERED;
		parent->reversal = 0; /* a repeat from the member starts anew */
		break;
	case GIVEN_UP:
		rev->state = NS_LEG_ABANDONED;
		if (parent->state == NS_LEG_UNKNOWN)
			parent->state = NS_LEG_ABANDONED;
		ns->stats.abandoned++;
		break;
	default:
		break; /* AGAIN: still SENT */
	}
}

static void log_reversal(const ns_leg_t *rev, int verdict, uint8_t rc)
{
	static const char *const names[] = {"acknowledged", "nothing posted",
					    "refused", "repeat", "given up"};
	ps_log_t *l = ps_log_begin(verdict == GIVEN_UP ? PS_LOG_ERROR : PS_LOG_INFO,
				   verdict == GIVEN_UP ? "reversal_abandoned"
						       : "reversal");
	ps_log_uint(l, "reversal", rev->id);
	ps_log_uint(l, "leg", rev->parent);
	ps_log_str(l, "bank", rev->bank);
	ps_log_uint(l, "attempt", rev->attempts);
	char code[3] = "--";
	if (rc != TXN_RC_NONE)
		txn_rc_text(rc, code);
	ps_log_str(l, "code", code);
	ps_log_str(l, "verdict", names[verdict]);
	ps_log_end(l);
}

/* What the member who asked hears. */
static uint8_t member_code(int verdict, const txn_response_t *resp)
{
	switch (verdict) {
	case ACKED: return TXN_RC_APPROVED;
	case VOIDED: return TXN_RC_NO_RECORD;
	case REFUSED: return resp->rc;
	default: return TXN_RC_INOPERATIVE; /* netsim goes on with it */
	}
}

void ns_saf_outcome(netsim_t *ns, ns_fwd_t *f, int outcome,
		    const txn_response_t *resp)
{
	MDB_txn *txn = NULL;
	ns_leg_t rev, parent;
	memset(&rev, 0, sizeof(rev));
	int verdict = AGAIN;
	int rc = ns_store_begin(&ns->store, false, &txn);
	if (rc == 0)
		rc = ns_store_get_leg(txn, &ns->store, f->leg, &rev);
	if (rc == 0)
		rc = ns_store_get_leg(txn, &ns->store, rev.parent, &parent);
	if (rc == 0) {
		verdict = judge(ns, f, &rev, outcome, resp);
		apply(ns, txn, verdict, &rev, &parent,
		      outcome == SIM_LINK_ANSWERED ? resp : NULL);
		if ((rc = ns_store_put_leg(txn, &ns->store, &rev)) == 0)
			rc = ns_store_put_leg(txn, &ns->store, &parent);
	}
	if (rc == 0)
		rc = ns_store_commit(txn);
	else
		ns_store_abort(txn);
	if (rc != 0) {
		netsim_store_failed("a reversal's answer", rc);
		verdict = AGAIN;
	} else {
		log_reversal(&rev, verdict, rev.rc);
	}
	if (f->req != NULL) {
		sim_req_t *req = f->req;
		req->t.rc = member_code(verdict, resp);
		ns_period_text(ns, rev.clear_period[0] ? rev.clear_period
						       : ns->meta.period,
			       req->t.wire.settle_date);
		(void)sim_server_answer(ns->srv, req);
	}
	ps_pool_put(&ns->fwds, f);
	if (rev.id == 0)
		return; /* unread: a restart takes it up again */
	ns_saf_entry_t *e = saf_find(ns, rev.id);
	if (verdict == AGAIN) {
		ns_saf_push(ns, &rev, backoff_ms(ns, rev.attempts));
	} else if (e != NULL) {
		saf_remove(ns, e);
		saf_arm(ns);
	}
}
