/*
 * turn.c: the loop's turn (ops.turn): every member request read in one
 * loop iteration, in one write transaction of the clearing record.
 *
 *   a leg (debit, credit, refund, balance)  recorded SENT, then, once
 *       the turn commits, forwarded to the bank that holds the account
 *       and kept (SIM_KEEP) until the bank answers or times out (bank.c);
 *       a copy of a leg already carried is answered as it was
 *   a reversal  of a leg carried and approved: recorded and forwarded the
 *       same way; of one declined, never sent or already reversed: 00 at
 *       once; of one still in flight: 00, and reversed when its answer
 *       comes; of one never seen: 25, remembered (a tombstone), so that
 *       the original, should it come late, is declined and never posted
 *   network management  00; a cutover request closes the period once the
 *       turn has committed, and is answered with the period it closed
 *
 * Nothing leaves before the commit it depends on.
 */
#include <string.h>

#include "core.h"
#include "netsim.h"

typedef struct turn {
	MDB_txn *txn;
	uint32_t plans;
	uint32_t cuts;
	bool failed;         /* a store call failed: the turn answers 96 */
} turn_t;

void ns_member_key(const char *sender, const char *acquirer, uint32_t stan,
		   const char *transmit, char out[NS_KEY_MAX])
{
	while (acquirer[0] == '0' && acquirer[1] != '\0')
		acquirer++;
	snprintf(out, NS_KEY_MAX, "%s|%s:%06u:%.10s", sender,
		 acquirer[0] ? acquirer : "0", (unsigned)(stan % 1000000), transmit);
}

static void answer_now(netsim_t *ns, sim_req_t *req, uint8_t rc,
		       const char *reason, const char *period)
{
	req->t.rc = rc;
	if (reason != NULL)
		ps_strlcpy(req->t.reason, reason, sizeof(req->t.reason));
	ns_period_text(ns, period, req->t.wire.settle_date);
	req->action = SIM_ANSWER;
}

static bool store_ok(turn_t *turn, int rc)
{
	if (rc != 0 && rc != PS_ENOTFOUND) {
		netsim_store_failed("turn", rc);
		turn->failed = true;
	}
	return !turn->failed;
}

/* ---- legs ------------------------------------------------------------------- */

/* A copy of a leg carried before: its answer again, or nothing while it
 * is still in flight (its own answer is coming). */
static void replay(netsim_t *ns, sim_req_t *req, const ns_leg_t *leg)
{
	if (ns_leg_is_pending(leg) && leg->state == NS_LEG_SENT) {
		req->action = SIM_DROP;
		return;
	}
	bool answered = leg->state == NS_LEG_ANSWERED;
	ns->stats.replayed++;
	answer_now(ns, req, answered ? leg->rc : TXN_RC_INOPERATIVE, NULL,
		   leg->clear_period[0] ? leg->clear_period : leg->period);
	if (answered && leg->rc == TXN_RC_APPROVED)
		ps_strlcpy(req->t.auth_code, leg->auth_code, sizeof(req->t.auth_code));
}

/* The bank for t: the one field 100 names, else the longest prefix. */
static int bank_of(netsim_t *ns, const txn_t *t)
{
	int b = t->wire.receiver[0] ? ns_members_bank(ns->members, t->wire.receiver)
				    : -1;
	return b >= 0 ? b : ns_members_route(ns->members, t->payer);
}

static void new_leg(netsim_t *ns, const txn_t *t, const char *sender, int bank,
		    const char *key, ns_leg_t *leg)
{
	memset(leg, 0, sizeof(*leg));
	leg->version = NS_STORE_VERSION;
	leg->id = ns->meta.next_leg++;
	leg->kind = t->kind;
	leg->state = NS_LEG_SENT;
	leg->rc = TXN_RC_NONE;
	ps_strlcpy(leg->period, ns->meta.period, sizeof(leg->period));
	ps_strlcpy(leg->bank, ns->members->banks[bank].member, sizeof(leg->bank));
	ps_strlcpy(leg->origin, t->acquirer[0] ? t->acquirer : sender,
		   sizeof(leg->origin));
	ps_strlcpy(leg->sender, sender, sizeof(leg->sender));
	ps_strlcpy(leg->account, t->payer, sizeof(leg->account));
	leg->amount = t->amount;
	leg->currency = t->currency ? t->currency : TXN_CURRENCY_CNY;
	ns_fees_of(&ns->fees, t->kind, t->amount, &leg->fee_issuer,
		   &leg->fee_network);
	leg->stan = t->wire.stan;
	ps_strlcpy(leg->transmit, t->wire.transmit, sizeof(leg->transmit));
	sim_link_next_key(ns->links[bank], &leg->fwd_stan, leg->fwd_transmit);
	uint64_t now = ps_wall_ms();
	if (t->rrn[0] != '\0')
		ps_strlcpy(leg->rrn, t->rrn, sizeof(leg->rrn));
	else
		txn_format_rrn(now, leg->id, leg->rrn);
	leg->created_ms = now;
	ps_strlcpy(leg->key, key, sizeof(leg->key));
}

static void financial(netsim_t *ns, turn_t *turn, sim_req_t *req,
		      const char *sender)
{
	txn_t *t = &req->t;
	char key[NS_KEY_MAX];
	ns_member_key(sender, t->acquirer, t->wire.stan, t->wire.transmit, key);
	uint64_t id = 0;
	int rc = ns_store_get_key(turn->txn, &ns->store, key, &id);
	if (!store_ok(turn, rc))
		return;
	if (rc == 0 && id == 0) {
		answer_now(ns, req, TXN_RC_DO_NOT_HONOUR, "reversed before it arrived",
			   ns->meta.period);
		return;
	}
	if (rc == 0) {
		ns_leg_t leg;
		if (store_ok(turn, ns_store_get_leg(turn->txn, &ns->store, id, &leg)))
			replay(ns, req, &leg);
		return;
	}
	int bank = bank_of(ns, t);
	if (bank < 0) {
		answer_now(ns, req, TXN_RC_NO_SUCH_ISSUER, "no member bank holds "
			   "the account", ns->meta.period);
		return;
	}
	if (t->currency != 0 && t->currency != TXN_CURRENCY_CNY) {
		answer_now(ns, req, TXN_RC_INVALID_AMOUNT, "the network clears CNY "
			   "only", ns->meta.period);
		return;
	}
	if (!sim_link_is_up(ns->links[bank])) {
		answer_now(ns, req, TXN_RC_INOPERATIVE, "the member bank's link is "
			   "down", ns->meta.period);
		return;
	}
	ns_plan_t *plan = &ns->plans[turn->plans];
	new_leg(ns, t, sender, bank, key, &plan->leg);
	if (!store_ok(turn, ns_store_put_leg(turn->txn, &ns->store, &plan->leg)) ||
	    !store_ok(turn, ns_store_put_key(turn->txn, &ns->store, key,
					     plan->leg.id)))
		return;
	plan->req = req;
	turn->plans++;
	req->action = SIM_KEEP;
}

/* ---- reversals ----------------------------------------------------------------- */

/* A reversal of parent, approved and not reversed: recorded, forwarded
 * once the turn commits. */
static void reverse_approved(netsim_t *ns, turn_t *turn, sim_req_t *req,
			     ns_leg_t *parent)
{
	ns_plan_t *plan = &ns->plans[turn->plans];
	int rc = ns_saf_record(ns, turn->txn, parent, NS_REV_MEMBER, &plan->leg);
	if (!store_ok(turn, rc))
		return;
	plan->leg.stan = req->t.wire.stan;
	ps_strlcpy(plan->leg.transmit, req->t.wire.transmit,
		   sizeof(plan->leg.transmit));
	if (!store_ok(turn, ns_store_put_leg(turn->txn, &ns->store, &plan->leg)))
		return;
	plan->parent = *parent;
	plan->req = req;
	turn->plans++;
	req->action = SIM_KEEP;
}

/* What a reversal's parent's record says to do. */
static void reverse_known(netsim_t *ns, turn_t *turn, sim_req_t *req,
			  ns_leg_t *p)
{
	const char *now = ns->meta.period;
	switch (p->state) {
	case NS_LEG_SENT:
		/* In flight: reversed when its answer comes, if approved. */
		p->reverse_wanted = true;
		if (store_ok(turn, ns_store_put_leg(turn->txn, &ns->store, p)))
			answer_now(ns, req, TXN_RC_APPROVED, "reversed once its "
				   "answer comes", now);
		return;
	case NS_LEG_ANSWERED:
		if (p->rc != TXN_RC_APPROVED || ns_clear_type(p->kind, 0) < 0) {
			answer_now(ns, req, TXN_RC_APPROVED, "nothing to reverse", now);
			return;
		}
		if (p->reversal == 0) {
			reverse_approved(ns, turn, req, p);
			return;
		}
		/* Its reversal is being repeated: not acknowledged yet. */
		answer_now(ns, req, TXN_RC_INOPERATIVE, "the reversal is under way",
			   now);
		return;
	case NS_LEG_ABANDONED:
		answer_now(ns, req, TXN_RC_SYSTEM_MALFUNCTION, "its reversal was "
			   "given up: an operator's case", now);
		return;
	default:
		/* Never sent, reversed, never posted, or being reversed by
		 * netsim itself (the member was answered 91): nothing stands,
		 * or will. */
		answer_now(ns, req, TXN_RC_APPROVED, "nothing stands", now);
		return;
	}
}

static void reversal(netsim_t *ns, turn_t *turn, sim_req_t *req,
		     const char *sender)
{
	txn_t *t = &req->t;
	char key[NS_KEY_MAX];
	ns_member_key(sender, t->original_acquirer[0] ? t->original_acquirer
						      : t->acquirer,
		      t->original_stan, t->original_transmit, key);
	uint64_t id = 0;
	int rc = ns_store_get_key(turn->txn, &ns->store, key, &id);
	if (!store_ok(turn, rc))
		return;
	if (rc == PS_ENOTFOUND) {
		/* Before its original: remembered, so the original is
		 * declined if it comes. */
		if (store_ok(turn, ns_store_put_key(turn->txn, &ns->store, key, 0)))
			answer_now(ns, req, TXN_RC_NO_RECORD, "original unknown: "
				   "reversal remembered", ns->meta.period);
		return;
	}
	if (id == 0) {
		answer_now(ns, req, TXN_RC_NO_RECORD, "original unknown",
			   ns->meta.period);
		return;
	}
	ns_leg_t parent;
	if (store_ok(turn, ns_store_get_leg(turn->txn, &ns->store, id, &parent)))
		reverse_known(ns, turn, req, &parent);
}

/* ---- the turn ---------------------------------------------------------------------- */

static void network(netsim_t *ns, turn_t *turn, sim_req_t *req)
{
	if (req->t.net_op == TXN_NET_CUTOVER) {
		ns->cuts[turn->cuts++] = req;
		return;
	}
	answer_now(ns, req, TXN_RC_APPROVED, NULL, ns->meta.period);
}

static void take(netsim_t *ns, turn_t *turn, sim_req_t *req)
{
	txn_t *t = &req->t;
	if (t->rc != TXN_RC_NONE) { /* refused at intake: as it is */
		ns_period_text(ns, ns->meta.period, t->wire.settle_date);
		return;
	}
	const char *sender = ns_sender(ns, req);
	if (sender == NULL) {
		answer_now(ns, req, TXN_RC_NOT_PERMITTED_HERE, "not a member",
			   ns->meta.period);
		return;
	}
	switch (t->kind) {
	case TXN_KIND_NETWORK:
		network(ns, turn, req);
		break;
	case TXN_KIND_PURCHASE:
	case TXN_KIND_CREDIT:
	case TXN_KIND_REFUND_CREDIT:
	case TXN_KIND_BALANCE:
		financial(ns, turn, req, sender);
		break;
	case TXN_KIND_REVERSAL:
		reversal(ns, turn, req, sender);
		break;
	default:
		answer_now(ns, req, TXN_RC_INVALID_TRANSACTION, "not a message the "
			   "network carries", ns->meta.period);
		break;
	}
}

/* The legs the links refused: never sent, recorded so (one commit,
 * outside any link call). */
static void record_unsent(netsim_t *ns, turn_t *turn)
{
	MDB_txn *txn = NULL;
	int rc = ns_store_begin(&ns->store, false, &txn);
	for (uint32_t i = 0; i < turn->plans && rc == 0; i++)
		if (ns->plans[i].leg.state == NS_LEG_UNSENT)
			rc = ns_store_put_leg(txn, &ns->store, &ns->plans[i].leg);
	if (rc == 0)
		rc = ns_store_commit(txn);
	else
		ns_store_abort(txn);
	if (rc != 0)
		netsim_store_failed("unsent legs", rc);
}

/* After the commit: cutovers, then the forwards (a leg the link refuses
 * was never sent: recorded so, answered 91). */
static void carry_out(netsim_t *ns, turn_t *turn)
{
	for (uint32_t i = 0; i < turn->cuts; i++) {
		char closed[NS_PERIOD_MAX];
		int rc = ns_cutover(ns, NS_CUT_MEMBER, closed);
		answer_now(ns, ns->cuts[i], rc == 0 ? TXN_RC_APPROVED
						    : TXN_RC_SYSTEM_MALFUNCTION,
			   NULL, rc == 0 ? closed : ns->meta.period);
	}
	uint32_t unsent = 0;
	for (uint32_t i = 0; i < turn->plans; i++) {
		ns_plan_t *p = &ns->plans[i];
		bool rev = p->leg.kind == TXN_KIND_REVERSAL;
		if (ns_bank_send(ns, &p->leg, &p->req->t, p->req,
				 rev ? &p->parent : NULL) == 0)
			continue;
		if (rev) {
			/* netsim repeats it; the member hears 91 for now */
			ns_saf_push(ns, &p->leg, ns->cfg->reversal_retry_ms);
			answer_now(ns, p->req, TXN_RC_INOPERATIVE, "the bank's link "
				   "is down: the reversal is queued", ns->meta.period);
			continue;
		}
		ns->stats.unsent++;
		unsent++;
		p->leg.state = NS_LEG_UNSENT;
		p->leg.rc = TXN_RC_INOPERATIVE;
		answer_now(ns, p->req, TXN_RC_INOPERATIVE, "the member bank's link "
			   "is down", p->leg.period);
	}
	if (unsent > 0)
		record_unsent(ns, turn);
}

void ns_turn(void *ctx, sim_req_t **reqs, uint32_t count)
{
	netsim_t *ns = ctx;
	turn_t turn = {0};
	int rc = ns_store_begin(&ns->store, false, &turn.txn);
	turn.failed = rc != 0;
	for (uint32_t i = 0; i < count && !turn.failed; i++)
		take(ns, &turn, reqs[i]);
	if (!turn.failed &&
	    ns_store_put_meta(turn.txn, &ns->store, &ns->meta) != 0)
		turn.failed = true;
	if (turn.failed)
		ns_store_abort(turn.txn);
	else
		turn.failed = ns_store_commit(turn.txn) != 0; /* frees it */
	if (turn.failed) {
		/* Nothing of the turn is recorded: nothing is sent. */
		netsim_store_failed("turn commit", PS_EIO);
		for (uint32_t i = 0; i < count; i++)
			answer_now(ns, reqs[i], TXN_RC_SYSTEM_MALFUNCTION,
				   "the clearing record failed", ns->meta.period);
		return;
	}
	carry_out(ns, &turn);
}
