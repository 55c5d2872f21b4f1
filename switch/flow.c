/*
 * flow.c: the transaction state machines (flow.h).
 *
 * Every step changes the record first (sw_table_mark), then queues the
 * message it justifies; the turn's commit writes the record before the
 * message leaves. finish() is the only place that answers a transaction's
 * origin, and a transaction is finished once.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flow.h"
#include "recon.h"

/* ---- answering the origin ---------------------------------------------- */

/* An answer decided at intake, queued for after the commit. target is
 * what a query asks about (may be NULL). */
static void answer(sw_flow_t *f, sw_conn_t *conn, const txn_t *t,
		   const txn_t *target)
{
	sw_wbuf_t *wb = sw_conn_answer(f->net, conn, t, target);
	if (wb != NULL)
		sw_outbox_send(f->outbox, wb);
}

/* An answer that depends on no state: it leaves at the end of the turn
 * even when the commit fails (outbox.h). */
static void answer_now(sw_flow_t *f, sw_conn_t *conn, const txn_t *t)
{
	sw_wbuf_t *wb = sw_conn_answer(f->net, conn, t, NULL);
	if (wb != NULL)
		sw_outbox_send_free(f->outbox, wb);
}

/* An answer decided at intake, before any transaction exists: nothing is
 * posted for it. */
static void refuse(sw_flow_t *f, sw_conn_t *conn, txn_t *req, uint8_t rc,
		   const char *reason)
{
	req->rc = rc;
	ps_strlcpy(req->reason, reason, sizeof(req->reason));
	answer_now(f, conn, req);
}

/* The one place a transaction gets its final answer. */
static void finish(sw_flow_t *f, sw_txn_t *st, uint8_t rc, const char *reason);

/* ---- routing -------------------------------------------------------------- */

/*
 * Picks the endpoint for an account: the longest-prefix route's primary
 * endpoint if it is available, else its alternates in order. On failure
 * *rc is the answer: 14 invalid account, 15 no route, 91 disabled or all
 * down, 96 the store failed.
 */
static sw_endpoint_t *route_account(sw_flow_t *f, const char *account,
				    route_t *route, uint8_t *rc_out)
{
	MDB_txn *txn = sw_store_read(f->store);
	if (txn == NULL) {
		*rc_out = TXN_RC_SYSTEM_MALFUNCTION;
		return NULL;
	}
	int rc = route_lookup(&f->routes, txn, account, strlen(account), route);
	sw_store_read_done(f->store);
	switch (rc) {
	case 0:
		break;
	case PS_ENOTFOUND:
		*rc_out = TXN_RC_NO_SUCH_ISSUER;
		return NULL;
	case ROUTE_EDISABLED:
		*rc_out = TXN_RC_INOPERATIVE;
		return NULL;
	case PS_EINVAL:
		*rc_out = TXN_RC_INVALID_ACCOUNT;
		return NULL;
	default:
		*rc_out = TXN_RC_SYSTEM_MALFUNCTION;
		return NULL;
	}
	*rc_out = TXN_RC_INOPERATIVE;
	sw_endpoint_t *ep = sw_net_endpoint(f->net, route->endpoint);
	if (ep != NULL && sw_endpoint_available(ep))
		return ep;
	for (uint8_t i = 0; i < route->alternate_count; i++) {
		ep = sw_net_endpoint(f->net, route->alternates[i]);
		if (ep != NULL && sw_endpoint_available(ep))
			return ep;
	}
	return NULL;
}

/* Why a route gave no endpoint, for a PSP's reason text. */
static const char *route_reason(uint8_t rc, bool payer)
{
	if (rc == TXN_RC_NO_SUCH_ISSUER)
		return payer ? "payer.account: no bank routes this account"
			     : "payee.account: no bank routes this account";
	if (rc == TXN_RC_INOPERATIVE)
		return payer ? "payer.account: the bank is not available"
			     : "payee.account: the bank is not available";
	return NULL;
}

/* ---- legs ----------------------------------------------------------------- */

/* Routes and sends leg i: TXN_RC_NONE when it went, else the response code
 * to answer. */
static uint8_t send_leg(sw_flow_t *f, sw_txn_t *st, unsigned i)
{
	txn_leg_t *l = &st->t.leg[i];
	route_t route;
	uint8_t rc;
	sw_endpoint_t *ep = route_account(f, l->account, &route, &rc);
	if (ep == NULL) {
		l->state = TXN_LEG_UNSENT;
		l->rc = rc;
		sw_table_mark(f->table, st);
		return rc;
	}
	l->network = (uint8_t)route.network;
	ps_strlcpy(l->institution, route.institution, sizeof(l->institution));
	/* A debit carries its route's fees (docs/clearing.md). */
	if (l->kind == TXN_KIND_PURCHASE)
		route_fees_of(&route.fees, st->t.amount, &l->fee_issuer,
			      &l->fee_network);
	sw_leg_number(f->legs, l);
	if (sw_leg_transmit(f->legs, st, i, ep) != 0) {
		l->state = TXN_LEG_UNSENT;
		sw_table_mark(f->table, st);
		return TXN_RC_SYSTEM_MALFUNCTION;
	}
	return TXN_RC_NONE;
}

/* ---- finishing -------------------------------------------------------- */

/* A refund is over: release its hold on the pay it refunds. */
static void settle_refund(sw_flow_t *f, sw_txn_t *st)
{
	sw_txn_t *pay = sw_txn_by_id(f->table, st->t.parent_id);
	PS_ASSERT(pay != NULL && pay->pins > 0); /* pinned since intake */
	pay->t.refund_pending -= st->t.amount;
	if (st->t.rc == TXN_RC_APPROVED)
		pay->t.refunded += st->t.amount;
	PS_ASSERT(pay->t.refund_pending >= 0);
	PS_ASSERT(pay->t.refunded <= pay->t.amount);
	pay->pins--;
	sw_table_mark(f->table, pay);
	sw_table_let_go(f->table, pay);
}

static void finish(sw_flow_t *f, sw_txn_t *st, uint8_t rc, const char *reason)
{
	txn_t *t = &st->t;
	PS_ASSERT(t->state != TXN_STATE_DONE && rc != TXN_RC_NONE);
	t->rc = rc;
	if (reason != NULL)
		ps_strlcpy(t->reason, reason, sizeof(t->reason));
	t->state = TXN_STATE_DONE;
	t->answered_ms = ps_wall_ms();
	if (rc == TXN_RC_APPROVED)
		t->window = sw_clearing_window(f->clearing);
	sw_table_mark(f->table, st);
	uint8_t key[8];
	sw_id_key(t->id, key);
	sw_store_del(f->store, f->store->active, key, sizeof(key));
	if (txn_is_refund(t) && t->parent_id != 0)
		settle_refund(f, st);
	if (st->answer != NULL) {
		/* NULL when the origin's connection is gone: then the net
		 * reports the answer lost (sw_flow_answer_lost). */
		sw_wbuf_t *wb = sw_conn_answer_final(f->net, st->answer, t);
		st->answer = NULL;
		if (wb != NULL)
			sw_outbox_send(f->outbox, wb);
	}
	f->requests_inflight--;
	sw_metrics_latency(&f->ctx->metrics, ps_mono_ns() - st->started_ns);
	if (ps_log_enabled(PS_LOG_DEBUG)) {
		char code[3];
		txn_rc_text(rc, code);
		ps_log_t *l = ps_log_begin(PS_LOG_DEBUG, "txn_done");
		ps_log_uint(l, "txn", t->id);
		ps_log_str(l, "kind", txn_kind_name(t->kind));
		ps_log_str(l, "request_id", t->request_id);
		ps_log_pan(l, "payer", t->payer, strlen(t->payer));
		ps_log_int(l, "amount", t->amount);
		ps_log_str(l, "code", code);
		ps_log_end(l);
	}
	sw_table_release(f->table, st);
}

/* Copies the answer fields of the leg that authorised the payment; the
 * origin's own RRN, when it sent one, stays. */
static void take_authorisation(txn_t *t, unsigned leg)
{
	ps_strlcpy(t->auth_code, t->leg[leg].auth_code, sizeof(t->auth_code));
	if (t->rrn[0] == '\0')
		ps_strlcpy(t->rrn, t->leg[leg].rrn, sizeof(t->rrn));
}

/* ---- pay and refund: two legs ------------------------------------------ */

static void two_leg_step(sw_flow_t *f, sw_txn_t *st, unsigned leg)
{
	txn_t *t = &st->t;
	const txn_leg_t *l = &t->leg[leg];
	bool approved = l->state == TXN_LEG_APPROVED;
	if (leg == 0) {
		if (!approved) {
			finish(f, st, l->rc, NULL);
			return;
		}
		uint8_t rc = send_leg(f, st, 1);
		if (rc != TXN_RC_NONE) {
			sw_saf_reverse(f->saf, t, 0);
			finish(f, st, rc, NULL);
		}
		return;
	}
	if (approved) {
		/* A two-phase bank holds the debit as an authorisation until
		 * its completion advice, sent (and repeated) through the SAF. */
		sw_endpoint_t *debit_ep = sw_net_endpoint(f->net, t->leg[0].endpoint);
		if (debit_ep != NULL && debit_ep->cfg.two_phase)
			sw_saf_queue(f->saf, t, 0, TXN_KIND_COMPLETION, 0);
		take_authorisation(t, 0);
		finish(f, st, TXN_RC_APPROVED, NULL);
		return;
	}
	sw_saf_reverse(f->saf, t, 0);
	finish(f, st, l->rc, NULL);
}

/* One leg to one account: a NetClear agreement payment (the debit; the
 * money goes to the PSP's reserve), a payout or the refund of one (the
 * credit, out of the reserve). */
static void reserve_start(sw_flow_t *f, sw_txn_t *st, int kind,
			  const char *account)
{
	txn_t *t = &st->t;
	t->flags |= TXN_F_RESERVE;
	txn_set_leg(t, 0, kind, account);
	uint8_t rc = send_leg(f, st, 0);
	if (rc != TXN_RC_NONE)
		finish(f, st, rc, route_reason(rc, kind == TXN_KIND_PURCHASE));
}

static void pay_start(sw_flow_t *f, sw_txn_t *st)
{
	txn_t *t = &st->t;
	route_t payer, payee;
	uint8_t rc;
	/* A refund of a payment that went to the reserve comes out of it. */
	if (t->kind == TXN_KIND_REFUND && (t->flags & TXN_F_RESERVE)) {
		reserve_start(f, st, TXN_KIND_REFUND_CREDIT, t->payee);
		return;
	}
	/* Both routes first: never debit a payer whose payee has no bank. */
	sw_endpoint_t *a = route_account(f, t->payer, &payer, &rc);
	if (a == NULL) {
		finish(f, st, rc, route_reason(rc, true));
		return;
	}
	/* Through NetClear, a pay is an agreement payment: the payer's bank
	 * pays the PSP's reserve; the PSP pays its merchant later. */
	if (payer.network == ROUTE_NETWORK_NETCLEAR && t->kind == TXN_KIND_PAY) {
		reserve_start(f, st, TXN_KIND_PURCHASE, t->payer);
		return;
	}
	sw_endpoint_t *b = route_account(f, t->payee, &payee, &rc);
	if (b == NULL) {
		finish(f, st, rc, route_reason(rc, false));
		return;
	}
	if (a == b || (payer.institution[0] &&
		       strcmp(payer.institution, payee.institution) == 0))
		t->flags |= TXN_F_ON_US;
	txn_set_leg(t, 0, TXN_KIND_PURCHASE, t->payer);
	txn_set_leg(t, 1, t->kind == TXN_KIND_PAY ? TXN_KIND_CREDIT
						  : TXN_KIND_REFUND_CREDIT,
		    t->payee);
	rc = send_leg(f, st, 0);
	if (rc != TXN_RC_NONE)
		finish(f, st, rc, NULL);
}

/* Finds a transaction by its origin's key: memory first, then LMDB. A
 * record loaded from LMDB is kept in memory when pin is set. */
static sw_txn_t *find_by_idem(sw_flow_t *f, const char *participant,
			      const char *request_id, bool pin, txn_t *copy,
			      int *rc_out)
{
	*rc_out = 0;
	sw_txn_t *st = sw_txn_by_idem(f->table, participant, request_id);
	if (st != NULL) {
		if (copy != NULL)
			*copy = st->t;
		return st;
	}
	uint64_t id;
	int rc = sw_store_idem_get(f->store, participant, request_id, &id);
	if (rc != 0) {
		*rc_out = rc;
		return NULL;
	}
	if (pin) {
		st = sw_table_load(f->table, id);
		if (st == NULL)
			*rc_out = PS_EIO;
		return st;
	}
	*rc_out = sw_store_get_txn(f->store, id, copy);
	return NULL;
}

/*
 * A refund holds the transaction it refunds: an approved `kind` of the
 * same participant and currency (and, for a card, the same account),
 * never refunded beyond its amount. Pins and returns it, its pending
 * refunds raised by this one, or finishes st with the reason and returns
 * NULL.
 */
static sw_txn_t *hold_original(sw_flow_t *f, sw_txn_t *st, int kind,
			       bool same_account)
{
	txn_t *t = &st->t;
	int rc;
	sw_txn_t *orig = find_by_idem(f, t->participant, t->original_id, true,
				      NULL, &rc);
	if (orig == NULL) {
		bool none = rc == PS_ENOTFOUND;
		finish(f, st, none ? TXN_RC_NO_RECORD : TXN_RC_SYSTEM_MALFUNCTION,
		       none ? "original: no such payment" : NULL);
		return NULL;
	}
	const txn_t *p = &orig->t;
	const char *why = NULL;
	char text[128];
	if (p->kind != kind)
		why = kind == TXN_KIND_PAY ? "original: not a payment"
					   : "original: not a purchase";
	else if (p->state != TXN_STATE_DONE)
		why = "original: still in flight";
	else if (p->rc != TXN_RC_APPROVED)
		why = "original: was not approved";
	else if (p->currency != t->currency)
		why = "currency: differs from the original's";
	else if (same_account && strcmp(p->payer, t->payer) != 0)
		why = "account: not the account the original debited";
	if (why == NULL &&
	    p->refunded + p->refund_pending + t->amount > p->amount) {
		snprintf(text, sizeof(text),
			 "amount: refunds would exceed the original (paid %" PRId64
			 ", refunded %" PRId64 ", in flight %" PRId64 " fen)",
			 p->amount, p->refunded, p->refund_pending);
		sw_table_let_go(f->table, orig);
		finish(f, st, TXN_RC_INVALID_AMOUNT, text);
		return NULL;
	}
	if (why != NULL) {
		sw_table_let_go(f->table, orig);
		finish(f, st, TXN_RC_INVALID_TRANSACTION, why);
		return NULL;
	}
	orig->pins++;
	orig->t.refund_pending += t->amount;
	sw_table_mark(f->table, orig);
	t->parent_id = p->id;
	return orig;
}

static void refund_start(sw_flow_t *f, sw_txn_t *st)
{
	sw_txn_t *pay = hold_original(f, st, TXN_KIND_PAY, false);
	if (pay == NULL)
		return;
	/* The money goes back: the payee pays, the payer receives (out of
	 * the PSP's reserve, for a payment that went there). */
	txn_t *t = &st->t;
	ps_strlcpy(t->payer, pay->t.payee, sizeof(t->payer));
	ps_strlcpy(t->payee, pay->t.payer, sizeof(t->payee));
	t->flags |= pay->t.flags & TXN_F_RESERVE;
	pay_start(f, st);
}

/* ---- forward: an acquirer's request to the issuer ---------------------- */

static void forward_start(sw_flow_t *f, sw_txn_t *st)
{
	txn_t *t = &st->t;
	/* An acquirer's refund returns part of a purchase it names (field
	 * 90): never more than was paid, never without one. */
	if (t->kind == TXN_KIND_REFUND_CREDIT) {
		if (t->original_id[0] == '\0') {
			finish(f, st, TXN_RC_INVALID_TRANSACTION,
			       "90: a refund names the purchase it refunds");
			return;
		}
		if (hold_original(f, st, TXN_KIND_PURCHASE, true) == NULL)
			return;
	}
	txn_set_leg(t, 0, t->kind, t->payer);
	uint8_t rc = send_leg(f, st, 0);
	if (rc != TXN_RC_NONE)
		finish(f, st, rc, NULL);
}

/* ---- advice: an acquirer reverses an earlier request -------------------- */

static void timeout_leg(sw_flow_t *f, sw_txn_t *st);

static void advice_start(sw_flow_t *f, sw_txn_t *st)
{
	int rc;
	sw_txn_t *orig = find_by_idem(f, st->t.participant, st->t.original_id,
				      true, NULL, &rc);
	const char *what = "unknown original: nothing to reverse";
	if (orig != NULL && orig->t.state != TXN_STATE_DONE &&
	    orig->cur_leg >= 0) {
		/* The acquirer gave up before we did: time it out now. */
		timeout_leg(f, orig);
		what = "original in flight: timed out and reversed";
	} else if (orig != NULL && orig->t.leg_count > 0 &&
		   orig->t.leg[0].state == TXN_LEG_APPROVED) {
		/* Passed on as the acquirer sent it: an advice as an advice
		 * (repeated as such), a reversal request as a request. */
		bool advice = (st->t.flags & TXN_F_ADVICE) != 0;
		sw_saf_queue(f->saf, &orig->t, 0, TXN_KIND_REVERSAL,
			     advice ? TXN_F_ADVICE : 0);
		what = advice ? "original approved: advice passed on to the issuer"
			      : "original approved: reversal queued";
	} else if (orig != NULL) {
		what = "original not approved: nothing to reverse";
	}
	if (orig != NULL)
		sw_table_let_go(f->table, orig);
	ps_log_t *l = ps_log_begin(PS_LOG_INFO, "acquirer_reversal");
	ps_log_str(l, "request_id", st->t.request_id);
	ps_log_str(l, "original", st->t.original_id);
	ps_log_str(l, "outcome", what);
	ps_log_end(l);
	/* A reversal request for an original never seen is answered 25, as
	 * issuers do; an advice is acknowledged whatever it finds, or the
	 * acquirer would repeat it for ever. */
	bool advice = (st->t.flags & TXN_F_ADVICE) != 0;
	finish(f, st, orig == NULL && !advice ? TXN_RC_NO_RECORD
					      : TXN_RC_APPROVED, what);
}

/* ---- intake ------------------------------------------------------------ */

/* Answers a request seen before: its final answer, or 94 while the
 * original is still in flight. True when req was a duplicate. */
static bool answer_duplicate(sw_flow_t *f, sw_conn_t *conn, txn_t *req)
{
	int rc;
	txn_t seen;
	sw_txn_t *st = find_by_idem(f, req->participant, req->request_id,
				    false, &seen, &rc);
	if (st == NULL && rc == PS_ENOTFOUND)
		return false;
	f->ctx->metrics.duplicates++;
	if (st == NULL && rc != 0) {
		refuse(f, conn, req, TXN_RC_SYSTEM_MALFUNCTION,
		       "cannot read the request log");
		return true;
	}
	if (seen.state != TXN_STATE_DONE) {
		refuse(f, conn, req, TXN_RC_DUPLICATE,
		       "duplicate: the original is still in flight");
		return true;
	}
	/* The original's answer, on this request (its keys, its header). */
	req->id = seen.id;
	req->state = seen.state;
	req->rc = seen.rc;
	req->balance = seen.balance;
	req->flags |= seen.flags & TXN_F_BALANCE;
	ps_strlcpy(req->rrn, seen.rrn, sizeof(req->rrn));
	ps_strlcpy(req->auth_code, seen.auth_code, sizeof(req->auth_code));
	ps_strlcpy(req->reason, seen.reason, sizeof(req->reason));
	answer(f, conn, req, NULL);
	return true;
}

static void query(sw_flow_t *f, sw_conn_t *conn, txn_t *req)
{
	int rc;
	txn_t target;
	find_by_idem(f, req->participant, req->original_id, false, &target,
		     &rc);
	answer(f, conn, req, rc == 0 ? &target : NULL);
}

static void intake(sw_flow_t *f, sw_conn_t *conn, txn_t *req)
{
	const sw_config_t *cfg = f->ctx->cfg;
	if (f->ctx->draining) {
		refuse(f, conn, req, TXN_RC_INOPERATIVE, "switch is draining");
		return;
	}
	if (f->store->commit_failures > 0 || sw_turn_reserve(f->turn) != 0) {
		refuse(f, conn, req, TXN_RC_INOPERATIVE,
		       "switch store unavailable");
		return;
	}
	if (answer_duplicate(f, conn, req))
		return;
	/* The answer's buffer is set aside now: a request is in flight
	 * until its answer is written (net.h). */
	sw_wbuf_t *ans = f->requests_inflight < cfg->inflight_max
				 ? sw_conn_admit(f->net, conn)
				 : NULL;
	sw_txn_t *st = ans != NULL ? sw_txn_new(f->table) : NULL;
	if (st == NULL) {
		if (ans != NULL)
			sw_wbuf_put(f->net, ans); /* unused: not an answer lost */
		f->ctx->metrics.refused_bound++;
		refuse(f, conn, req, TXN_RC_INOPERATIVE,
		       "too many requests in flight");
		return;
	}
	st->t = *req;
	txn_t *t = &st->t;
	uint64_t now = ps_wall_ms();
	t->id = sw_store_next_txn_id(f->store);
	t->created_ms = now;
	t->state = TXN_STATE_ACTIVE;
	if (t->local_time[0] == '\0')
		txn_format_local(now, t->local_time, t->local_date);
	/* An origin that names no acquirer (a PSP) is acquired under its
	 * listener's institution (the PSP's member id), or by the switch;
	 * the switch forwards everything it sends on. */
	if (t->acquirer[0] == '\0') {
		const char *inst = sw_conn_cfg(conn)->institution;
		ps_strlcpy(t->acquirer, inst[0] ? inst : cfg->institution,
			   sizeof(t->acquirer));
	}
	ps_strlcpy(t->forwarder, cfg->institution, sizeof(t->forwarder));
	if (t->merchant_name[0] == '\0' && t->payee_name[0] != '\0')
		ps_strlcpy(t->merchant_name, t->payee_name, sizeof(t->merchant_name));
	st->answer = ans;
	f->requests_inflight++;
	sw_txn_index_id(f->table, st);
	sw_txn_index_idem(f->table, st);
	uint8_t key[SW_KEY_BYTES_MAX], val[8];
	size_t klen = sw_idem_key(t->participant, t->request_id, key, sizeof(key));
	sw_id_key(t->id, val);
	sw_store_put(f->store, f->store->idem, key, klen, val, sizeof(val));
	sw_store_put(f->store, f->store->active, val, sizeof(val), "", 0);
	sw_table_mark(f->table, st);
	switch (t->kind) {
	case TXN_KIND_PAY:
		pay_start(f, st);
		break;
	case TXN_KIND_PAYOUT:
		reserve_start(f, st, TXN_KIND_CREDIT, t->payee);
		break;
	case TXN_KIND_REFUND:
		refund_start(f, st);
		break;
	case TXN_KIND_REVERSAL:
		advice_start(f, st);
		break;
	default:
		forward_start(f, st);
		break;
	}
}

/* The error answer to a request refused at the door, naming the field. */
static void refuse_field(sw_flow_t *f, sw_conn_t *conn, const txn_t *req,
			 uint8_t rc, const char *field, const char *reason)
{
	txn_error_t err = {.rc = rc};
	ps_strlcpy(err.field, field, sizeof(err.field));
	ps_strlcpy(err.reason, reason, sizeof(err.reason));
	sw_wbuf_t *wb = sw_conn_answer_error(f->net, conn, req, &err);
	if (wb != NULL)
		sw_outbox_send_free(f->outbox, wb);
}

static void log_refused(const sw_listener_cfg_t *l, const sw_conn_t *conn,
			const txn_t *req, const char *event, const char *detail)
{
	ps_log_t *lg = ps_log_begin(PS_LOG_WARN, event);
	ps_log_str(lg, "listener", l->name);
	ps_log_str(lg, "peer", conn->peer);
	ps_log_str(lg, "kind", txn_kind_name(req->kind));
	ps_log_str(lg, "request_id", req->request_id);
	ps_log_str(lg, "detail", detail);
	ps_log_end(lg);
}

/*
 * What a listener's participant may do, before anything else: sign on
 * first where a hello is required, speak as itself (hello, field 32), and
 * send only the operations the listener permits. True when req may go on.
 */
static bool admissible(sw_flow_t *f, sw_conn_t *conn, txn_t *req)
{
	const sw_listener_cfg_t *l = sw_conn_cfg(conn);
	bool sign_on = req->kind == TXN_KIND_NETWORK &&
		       req->net_op == TXN_NET_SIGN_ON;
	if (sign_on && req->participant[0] && l->participant[0] &&
	    strcmp(req->participant, l->participant) != 0) {
		log_refused(l, conn, req, "hello_refused", req->participant);
		refuse_field(f, conn, req, TXN_RC_SECURITY_VIOLATION,
			     "participant", "not the participant of this listener");
		return false;
	}
	if (sign_on) {
		conn->signed_on = true;
		return true;
	}
	if (l->hello_required && !conn->signed_on &&
	    req->kind != TXN_KIND_NETWORK) {
		log_refused(l, conn, req, "hello_required", "no hello yet");
		refuse_field(f, conn, req, TXN_RC_SECURITY_VIOLATION, "op",
			     "hello first: this listener takes nothing before "
			     "a hello");
		return false;
	}
	if (!sw_listener_permits(l, req->kind)) {
		f->ctx->metrics.not_permitted++;
		log_refused(l, conn, req, "not_permitted", "operation");
		char why[96];
		snprintf(why, sizeof(why), "%s is not permitted on listener %s",
			 txn_kind_name(req->kind), l->name);
		refuse_field(f, conn, req, TXN_RC_NOT_PERMITTED_HERE, "op", why);
		return false;
	}
	if (l->acquirer_count > 0 && req->kind != TXN_KIND_NETWORK) {
		if (req->acquirer[0] == '\0') {
			log_refused(l, conn, req, "acquirer_refused", "no field 32");
			refuse_field(f, conn, req, TXN_RC_FORMAT_ERROR, "32",
				     "the acquiring institution is required");
			return false;
		}
		bool known = false;
		for (uint32_t i = 0; i < l->acquirer_count; i++)
			if (strcmp(req->acquirer, l->acquirers[i]) == 0)
				known = true;
		if (!known) {
			log_refused(l, conn, req, "acquirer_refused", req->acquirer);
			refuse_field(f, conn, req, TXN_RC_SECURITY_VIOLATION, "32",
				     "not an acquirer of this listener");
			return false;
		}
	}
	return true;
}

void sw_flow_request(void *data, sw_conn_t *conn, txn_t *req)
{
	sw_flow_t *f = data;
	const sw_listener_cfg_t *l = sw_conn_cfg(conn);
	f->ctx->metrics.requests[req->kind]++;
	ps_strlcpy(req->listener, l->name, sizeof(req->listener));
	if (!admissible(f, conn, req))
		return;
	/* A channel belongs to one participant: the listener's, when it
	 * names one, so a PSP cannot speak for another. */
	if (l->participant[0])
		ps_strlcpy(req->participant, l->participant,
			   sizeof(req->participant));
	else if (req->participant[0] == '\0')
		ps_strlcpy(req->participant, l->name, sizeof(req->participant));
	switch (req->kind) {
	case TXN_KIND_NETWORK:
		req->rc = TXN_RC_APPROVED;
		answer_now(f, conn, req);
		return;
	case TXN_KIND_QUERY:
		query(f, conn, req);
		return;
	case TXN_KIND_RECON:
		refuse(f, conn, req, TXN_RC_INVALID_TRANSACTION,
		       "reconciliation is not taken here");
		return;
	default:
		intake(f, conn, req);
		return;
	}
}

/* ---- answers that could not be delivered ------------------------------------ */

void sw_flow_network_closed(void *data, sw_endpoint_t *ep, const char *period,
			    uint64_t window)
{
	sw_flow_t *f = data;
	sw_clearing_network_closed(f->clearing, ep, period, window);
}

void sw_flow_recon_answer(void *data, sw_endpoint_t *ep,
			  const txn_response_t *resp)
{
	sw_flow_t *f = data;
	sw_recon_bank_answer(f->clearing, ep, resp);
}

void sw_flow_answer_lost(void *data, uint64_t txn_id)
{
	sw_flow_t *f = data;
	if (f->lost_count == f->lost_cap) {
		/* Cannot happen: one entry per answer buffer. */
		ps_logf(PS_LOG_ERROR, "answer_lost_overflow", "txn %" PRIu64,
			txn_id);
		return;
	}
	f->lost[f->lost_count++] = txn_id;
}

/* A card approval the acquirer never received is undone, as after a
 * timeout: the issuer leg is reversed and the transaction's answer
 * becomes 68, which a repeat of the request is given. A PSP's pay is
 * left as it is: the PSP queries it. */
static void undo_undelivered(sw_flow_t *f, uint64_t id)
{
	sw_txn_t *st = sw_table_load(f->table, id);
	if (st == NULL)
		return;
	txn_t *t = &st->t;
	bool card = t->kind == TXN_KIND_PURCHASE || t->kind == TXN_KIND_CREDIT ||
		    t->kind == TXN_KIND_REFUND_CREDIT;
	if (card && t->state == TXN_STATE_DONE && t->rc == TXN_RC_APPROVED &&
	    t->leg_count > 0 && t->leg[0].state == TXN_LEG_APPROVED) {
		sw_saf_reverse(f->saf, t, 0);
		t->rc = TXN_RC_TOO_LATE;
		ps_strlcpy(t->reason, "approved, but the answer could not be "
			   "delivered: reversed", sizeof(t->reason));
		sw_table_mark(f->table, st);
		ps_log_t *l = ps_log_begin(PS_LOG_WARN, "answer_undelivered");
		ps_log_uint(l, "txn", t->id);
		ps_log_str(l, "request_id", t->request_id);
		ps_log_str(l, "outcome", "issuer leg reversed");
		ps_log_end(l);
	}
	sw_table_let_go(f->table, st);
}

void sw_flow_after_turn(sw_flow_t *f)
{
	uint32_t done = 0;
	while (done < f->lost_count) {
		if (f->store->commit_failures > 0 || sw_turn_reserve(f->turn) != 0)
			break; /* the rest waits for a later turn */
		undo_undelivered(f, f->lost[done++]);
	}
	memmove(f->lost, f->lost + done, (f->lost_count - done) * sizeof(f->lost[0]));
	f->lost_count -= done;
}

/* ---- responses and deadlines ------------------------------------------- */

/* A response whose leg is no longer waiting: after its deadline, or after
 * a restart. An approval for a leg already reversed is reversed again. */
static void late_response(sw_flow_t *f, sw_endpoint_t *ep,
			  const txn_response_t *resp)
{
	uint64_t id = 0;
	uint8_t leg = TXN_LEGS_MAX;
	f->ctx->metrics.late_responses++;
	ep->late++;
	const char *outcome = "unmatched: ignored";
	if (sw_store_match_get(f->store, ep->cfg.name, resp->stan,
			       resp->transmit, &id, &leg) == 0) {
		txn_t t;
		sw_txn_t *st = sw_txn_by_id(f->table, id);
		if (st != NULL)
			t = st->t;
		else if (sw_store_get_txn(f->store, id, &t) != 0)
			leg = TXN_LEGS_MAX;
		outcome = "already settled: ignored";
		if (leg < TXN_LEGS_MAX && resp->rc == TXN_RC_APPROVED &&
		    t.leg[leg].state == TXN_LEG_REVERSED) {
			/* The bank approved after our reversal was
			 * acknowledged: that reversal found nothing then, so
			 * send another. */
			sw_saf_reverse(f->saf, &t, leg);
			outcome = "approved after its reversal: reversed again";
		} else if (leg < TXN_LEGS_MAX && t.leg[leg].state == TXN_LEG_TIMEOUT) {
			outcome = "timed out: its reversal is queued";
		}
		uint8_t mkey[SW_MATCH_KEY_BYTES];
		size_t klen = sw_match_key(ep->cfg.name, resp->stan, resp->transmit, mkey);
		sw_store_del(f->store, f->store->match, mkey, klen);
	}
	/* Logged last: a line is built in one per-thread buffer, and the
	 * reversal above logs its own. */
	ps_log_t *l = ps_log_begin(PS_LOG_WARN, "late_response");
	ps_log_str(l, "endpoint", ep->cfg.name);
	ps_log_uint(l, "stan", resp->stan);
	ps_log_str(l, "transmit", resp->transmit);
	char code[3];
	txn_rc_text(resp->rc, code);
	ps_log_str(l, "code", code);
	if (id != 0)
		ps_log_uint(l, "txn", id);
	ps_log_str(l, "outcome", outcome);
	ps_log_end(l);
}

int sw_flow_response(void *data, sw_endpoint_t *ep, const txn_response_t *resp)
{
	sw_flow_t *f = data;
	/* No room for what the answer changes: the link holds it until a
	 * commit succeeds (net.h). */
	if (f->store->commit_failures > 0 || sw_turn_reserve(f->turn) != 0)
		return SW_NET_HOLD;
	sw_txn_t *st = sw_txn_by_match(f->table, ep->cfg.name, resp->stan,
				       resp->transmit);
	if (st == NULL) {
		late_response(f, ep, resp);
		return 0;
	}
	unsigned leg = (unsigned)st->cur_leg;
	txn_leg_t *l = &st->t.leg[leg];
	sw_leg_over(f->legs, st);
	l->rc = resp->rc;
	ps_strlcpy(l->auth_code, resp->auth_code, sizeof(l->auth_code));
	l->answered_ms = ps_wall_ms();
	l->state = resp->rc == TXN_RC_APPROVED ? TXN_LEG_APPROVED
					       : TXN_LEG_DECLINED;
	sw_clearing_take_period(f->clearing, ep, l, resp);
	/* A two-phase debit is booked when its completion is acknowledged. */
	if (!st->saf && l->state == TXN_LEG_APPROVED &&
	    !sw_clearing_leg_held(f->clearing, l))
		sw_clearing_book_leg(f->clearing, &st->t, leg);
	if (resp->has_balance) {
		st->t.balance = resp->balance;
		st->t.flags |= TXN_F_BALANCE;
	}
	sw_table_mark(f->table, st);
	if (!st->saf) {
		uint8_t key[SW_MATCH_KEY_BYTES];
		size_t klen = sw_match_key(l->endpoint, l->stan, l->transmit, key);
		sw_store_del(f->store, f->store->match, key, klen);
	}
	if (st->saf) {
		sw_saf_response(f->saf, st, resp);
		return 0;
	}
	switch (st->t.kind) {
	case TXN_KIND_PAY:
	case TXN_KIND_REFUND:
		/* A payment to or from the reserve has one leg. */
		if (st->t.leg_count == 1) {
			take_authorisation(&st->t, leg);
			finish(f, st, l->rc, NULL);
			break;
		}
		two_leg_step(f, st, leg);
		break;
	default:
		take_authorisation(&st->t, leg);
		finish(f, st, l->rc, NULL);
		break;
	}
	return 0;
}

/* The leg st waits on gets no answer: the origin gets 68 and every leg
 * that may have moved money is reversed. */
static void timeout_leg(sw_flow_t *f, sw_txn_t *st)
{
	unsigned leg = (unsigned)st->cur_leg;
	txn_leg_t *l = &st->t.leg[leg];
	sw_endpoint_t *ep = sw_leg_over(f->legs, st);
	if (ep != NULL)
		ep->timeouts++;
	f->ctx->metrics.timeouts++;
	l->state = TXN_LEG_TIMEOUT;
	sw_table_mark(f->table, st);
	if (st->saf) {
		sw_saf_deadline(f->saf, st);
		return;
	}
	sw_saf_reverse(f->saf, &st->t, leg);
	if (leg == 1 && st->t.leg[0].state == TXN_LEG_APPROVED)
		sw_saf_reverse(f->saf, &st->t, 0);
	finish(f, st, TXN_RC_TOO_LATE, NULL);
}

/* ---- the deadline timer ---------------------------------------------------- */

#define DEADLINES_PER_TICK 4096

static void on_deadline(uv_timer_t *timer)
{
	sw_flow_t *f = timer->data;
	uint64_t now = uv_now(f->ctx->loop);
	for (int n = 0; n < DEADLINES_PER_TICK; n++) {
		sw_txn_t *st = sw_txn_earliest(f->table);
		if (st == NULL || st->deadline_mono_ms > now)
			break;
		/* A deadline that finds no room waits for a later turn: it
		 * stays first in the heap. */
		if (f->store->commit_failures > 0 || sw_turn_reserve(f->turn) != 0)
			break;
		timeout_leg(f, st);
	}
}

void sw_flow_arm_deadline(sw_flow_t *f)
{
	sw_txn_t *st = sw_txn_earliest(f->table);
	if (!f->timer_open)
		return;
	if (st == NULL || f->ctx->stopped) {
		uv_timer_stop(&f->deadline);
		return;
	}
	uint64_t now = uv_now(f->ctx->loop);
	uint64_t wait = st->deadline_mono_ms > now ? st->deadline_mono_ms - now : 0;
	/* While commits fail, deadlines wait for the retry (turn.h). */
	if (f->store->commit_failures > 0 && wait < SW_TURN_RETRY_MS)
		wait = SW_TURN_RETRY_MS;
	uv_timer_start(&f->deadline, on_deadline, wait, 0);
}

/* ---- life ------------------------------------------------------------------- */

int sw_flow_init(sw_flow_t *f, sw_ctx_t *ctx, sw_store_t *store,
		 sw_table_t *table, sw_net_t *net, sw_outbox_t *outbox,
		 sw_legs_t *legs, sw_saf_t *saf, sw_turn_t *turn,
		 sw_clearing_t *clearing, char *err, size_t err_cap)
{
	memset(f, 0, sizeof(*f));
	f->ctx = ctx;
	f->store = store;
	f->table = table;
	f->net = net;
	f->outbox = outbox;
	f->legs = legs;
	f->saf = saf;
	f->turn = turn;
	f->clearing = clearing;
	/* One entry per answer buffer at the most. */
	f->lost_cap = ctx->cfg->inflight_max;
	f->lost = calloc(f->lost_cap, sizeof(*f->lost));
	if (f->lost == NULL) {
		snprintf(err, err_cap, "out of memory for limits.inflight_max");
		return PS_ENOMEM;
	}
	route_error_t rerr = {0};
	if (route_table_open(store->env, &f->routes, &rerr) != 0) {
		snprintf(err, err_cap, "lmdb: routes: %s", rerr.reason);
		return PS_EIO;
	}
	return 0;
}

void sw_flow_start(sw_flow_t *f)
{
	uv_timer_init(f->ctx->loop, &f->deadline);
	f->deadline.data = f;
	f->timer_open = true;
}

static void close_if(uv_handle_t *h)
{
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

void sw_flow_close(sw_flow_t *f)
{
	if (!f->timer_open)
		return;
	f->timer_open = false;
	close_if((uv_handle_t *)&f->deadline);
}

void sw_flow_free(sw_flow_t *f)
{
	free(f->lost);
	f->lost = NULL;
}
