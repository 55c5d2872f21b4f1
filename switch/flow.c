/*
 * flow.c: the transaction state machines.
 *
 *   pay       debit the payer's bank (0200, proc 00), then credit the
 *             payee's (proc 26); a failed credit reverses the debit
 *   refund    the reverse legs against an approved pay, never more than
 *             was paid: debit the payee (00), credit the payer (20)
 *   query     the state and final answer of an earlier request
 *   forward   an acquirer's 0200 (purchase, refund, credit, balance)
 *             routed by PAN to the issuer, its 0210 back to the acquirer
 *   advice    an acquirer's reversal (0400/0420): reverse the original
 *
 * Every step changes the record first (sw_store_mark), then queues the
 * message it justifies; the turn's commit writes the record before the
 * message leaves (store.c). The origin gets exactly one final answer:
 * finish() is the only place that answers, and a transaction is finished
 * once.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "sw_int.h"

/* ---- time fields -------------------------------------------------------- */

/* Writes v as exactly two digits. */
static void two_digits(char *out, int v)
{
	out[0] = (char)('0' + (v / 10) % 10);
	out[1] = (char)('0' + v % 10);
}

void sw_format_transmit(uint64_t wall_ms, char out[11])
{
	time_t secs = (time_t)(wall_ms / 1000);
	struct tm tm;
	gmtime_r(&secs, &tm);
	two_digits(out, tm.tm_mon + 1);
	two_digits(out + 2, tm.tm_mday);
	two_digits(out + 4, tm.tm_hour);
	two_digits(out + 6, tm.tm_min);
	two_digits(out + 8, tm.tm_sec);
	out[10] = '\0';
}

void sw_format_local(uint64_t wall_ms, char time_out[7], char date_out[5])
{
	time_t secs = (time_t)(wall_ms / 1000);
	struct tm tm;
	localtime_r(&secs, &tm);
	two_digits(time_out, tm.tm_hour);
	two_digits(time_out + 2, tm.tm_min);
	two_digits(time_out + 4, tm.tm_sec);
	time_out[6] = '\0';
	two_digits(date_out, tm.tm_mon + 1);
	two_digits(date_out + 2, tm.tm_mday);
	date_out[4] = '\0';
}

/* RRN: last digit of the year, day of the year, 8 digits of sequence. */
static void format_rrn(uint64_t wall_ms, uint64_t seq, char out[13])
{
	time_t secs = (time_t)(wall_ms / 1000);
	struct tm tm;
	gmtime_r(&secs, &tm);
	out[0] = (char)('0' + (tm.tm_year + 1900) % 10);
	int yday = tm.tm_yday + 1;
	out[1] = (char)('0' + yday / 100 % 10);
	two_digits(out + 2, yday % 100);
	ps_format_u64(out + 4, 8, seq % 100000000u);
	out[12] = '\0';
}

/* ---- answering the origin ---------------------------------------------- */

static void count_answer(sw_server_t *sw, const char *code)
{
	if (code[0] >= '0' && code[0] <= '9' && code[1] >= '0' && code[1] <= '9')
		sw->metrics.answers[(code[0] - '0') * 10 + (code[1] - '0')]++;
}

/* Encodes t's answer for conn's protocol and queues it for after the
 * commit. target is what a query asks about (may be NULL). */
static void answer(sw_server_t *sw, sw_conn_t *conn, uint32_t gen,
		   const txn_t *t, const txn_t *target)
{
	if (!sw_conn_alive(conn, gen))
		return;
	sw_wbuf_t *wb = sw_wbuf_get(sw);
	if (wb == NULL) {
		ps_logf(PS_LOG_ERROR, "answer_dropped",
			"no write buffer for %s; the peer is far behind",
			t->request_id);
		return;
	}
	const sw_listener_t *l = conn->listener;
	int rc;
	if (l->cfg.chan.protocol == SW_PROTO_JSON) {
		rc = txn_answer_to_json(t, target, (char *)wb->data,
					sizeof(wb->data), &wb->len);
	} else {
		iso8583_msg_t msg;
		iso8583_error_t ierr;
		/* The request's header comes back (a TPDU swapped). */
		const iso8583_framing_t *framing = &l->cfg.chan.framing;
		uint8_t header[TXN_HEADER_MAX];
		bool echo = t->header_len == framing->header_bytes &&
			    framing->header_bytes > 0;
		if (echo)
			iso8583_header_reply(t->header, t->header_len, header);
		rc = txn_answer_to_iso(t, &l->dialect, &msg);
		if (rc == 0)
			rc = sw_wbuf_pack(wb, framing,
					  echo ? header : l->cfg.chan.header,
					  &msg, &ierr);
	}
	if (rc != 0) {
		ps_logf(PS_LOG_ERROR, "encode_error", "answer to %s: %d",
			t->request_id, rc);
		sw_wbuf_put(sw, wb);
		return;
	}
	wb->conn = conn;
	wb->conn_gen = gen;
	count_answer(sw, t->kind == TXN_KIND_QUERY && target == NULL ? "25"
			 : t->response[0] ? t->response
					  : "00");
	sw_store_send(sw, wb);
}

void sw_flow_answer_error(sw_server_t *sw, sw_conn_t *conn, const txn_t *req,
			  const txn_error_t *err)
{
	if (conn->listener->cfg.chan.protocol == SW_PROTO_JSON) {
		sw_wbuf_t *wb = sw_wbuf_get(sw);
		if (wb == NULL)
			return;
		if (txn_error_to_json(req->request_id, err, (char *)wb->data,
				      sizeof(wb->data), &wb->len) != 0) {
			sw_wbuf_put(sw, wb);
			return;
		}
		wb->conn = conn;
		wb->conn_gen = conn->gen;
		count_answer(sw, err->code);
		sw_store_send(sw, wb);
		return;
	}
	txn_t t = *req;
	ps_strlcpy(t.response, err->code[0] ? err->code : "30",
		   sizeof(t.response));
	answer(sw, conn, conn->gen, &t, NULL);
}

/* An answer decided at intake, before any transaction exists. */
static void refuse(sw_server_t *sw, sw_conn_t *conn, txn_t *req,
		   const char *code, const char *reason)
{
	ps_strlcpy(req->response, code, sizeof(req->response));
	ps_strlcpy(req->reason, reason, sizeof(req->reason));
	answer(sw, conn, conn->gen, req, NULL);
}

/* The one place a transaction gets its final answer. */
static void finish(sw_server_t *sw, sw_txn_t *st, const char *code,
		   const char *reason);

/* ---- routing -------------------------------------------------------------- */

/*
 * Picks the endpoint for an account: the longest-prefix route's primary
 * endpoint if it is up, else its alternates in order. On failure *code is
 * the answer: 14 invalid account, 15 no route, 91 disabled or all down.
 */
static sw_endpoint_t *route_account(sw_server_t *sw, const char *account,
				    route_t *route, const char **code)
{
	MDB_txn *txn = sw_store_read(sw);
	if (txn == NULL) {
		*code = "96";
		return NULL;
	}
	int rc = route_lookup(&sw->store.routes, txn, account, strlen(account),
			      route);
	sw_store_read_done(sw);
	switch (rc) {
	case 0:
		break;
	case PS_ENOTFOUND:
		*code = "15";
		return NULL;
	case ROUTE_EDISABLED:
		*code = "91";
		return NULL;
	case PS_EINVAL:
		*code = "14";
		return NULL;
	default:
		*code = "96";
		return NULL;
	}
	*code = "91";
	sw_endpoint_t *ep = sw_endpoint_find(sw, route->endpoint);
	if (ep != NULL && sw_endpoint_up(ep) && ep->inflight < ep->cfg.inflight_max)
		return ep;
	for (uint8_t i = 0; i < route->alternate_count; i++) {
		ep = sw_endpoint_find(sw, route->alternates[i]);
		if (ep != NULL && sw_endpoint_up(ep) &&
		    ep->inflight < ep->cfg.inflight_max)
			return ep;
	}
	return NULL;
}

/* Why a route gave no endpoint, for a PSP's reason text. */
static const char *route_reason(const char *code, const char *party)
{
	bool payer = strcmp(party, "payer") == 0;
	if (strcmp(code, "15") == 0)
		return payer ? "payer.account: no bank routes this account"
			     : "payee.account: no bank routes this account";
	if (strcmp(code, "91") == 0)
		return payer ? "payer.account: the bank is not available"
			     : "payee.account: the bank is not available";
	return NULL;
}

/* ---- legs ----------------------------------------------------------------- */

/*
 * Encodes leg i of st for ep, indexes it for its response, schedules its
 * deadline and queues it. The leg's stan, transmit and rrn are set.
 */
int sw_flow_transmit(sw_server_t *sw, sw_txn_t *st, unsigned i,
		     sw_endpoint_t *ep)
{
	txn_leg_t *l = &st->t.leg[i];
	sw_wbuf_t *wb = sw_wbuf_get(sw);
	if (wb == NULL)
		return PS_ELIMIT;
	iso8583_msg_t msg;
	iso8583_error_t ierr;
	int rc = txn_leg_to_iso(&st->t, i, &ep->dialect, &msg);
	if (rc == 0)
		rc = sw_wbuf_pack(wb, &ep->cfg.chan.framing, ep->cfg.chan.header,
				  &msg, &ierr);
	if (rc != 0) {
		char text[256];
		ps_logf(PS_LOG_ERROR, "encode_error", "leg %u of txn %" PRIu64
			" for %s: %s", i, st->t.id, ep->cfg.name,
			rc == ISO8583_ELENGTH || rc == ISO8583_ECONTENT
				? iso8583_error_format(&ierr, text, sizeof(text))
				: "encode failed");
		sw_wbuf_put(sw, wb);
		return PS_EFORMAT;
	}
	uint64_t now = ps_wall_ms();
	l->state = TXN_LEG_SENT;
	l->sent_ms = now;
	l->deadline_ms = now + ep->cfg.timeout_ms;
	l->attempts++;
	ps_strlcpy(l->endpoint, ep->cfg.name, sizeof(l->endpoint));
	st->cur_leg = (int8_t)i;
	sw_txn_index_match(sw, st);
	sw_txn_schedule(sw, st, uv_now(&sw->loop) + ep->cfg.timeout_ms);
	ep->inflight++;
	ep->sent++;
	sw_store_mark(sw, st);
	if (!sw_is_saf_kind(st->t.kind)) {
		/* Persisted so that a response after a restart or after the
		 * deadline is recognised as late; reversals and advices need
		 * no such record (the SAF repeats them until acknowledged). */
		uint8_t key[SW_NAME_MAX + 14], val[9];
		size_t klen = sw_match_key(l->endpoint, l->stan, l->transmit, key);
		sw_id_key(st->t.id, val);
		val[8] = (uint8_t)i;
		sw_store_put(sw, sw->store.match, key, klen, val, sizeof(val));
	}
	wb->endpoint = ep;
	sw_store_send(sw, wb);
	return 0;
}

/* Assigns the leg's STAN, field 7 and RRN. */
void sw_flow_number(sw_server_t *sw, txn_leg_t *l)
{
	uint64_t seq = sw_next_msg_seq(sw);
	uint64_t now = ps_wall_ms();
	l->stan = (uint32_t)(seq % 999999) + 1;
	sw_format_transmit(now, l->transmit);
	format_rrn(now, seq, l->rrn);
}

/* Routes and sends leg i. On failure returns the response code to answer. */
static const char *send_leg(sw_server_t *sw, sw_txn_t *st, unsigned i)
{
	txn_leg_t *l = &st->t.leg[i];
	route_t route;
	const char *code;
	sw_endpoint_t *ep = route_account(sw, l->account, &route, &code);
	if (ep == NULL) {
		l->state = TXN_LEG_UNSENT;
		ps_strlcpy(l->response, code, sizeof(l->response));
		sw_store_mark(sw, st);
		return code;
	}
	l->network = (uint8_t)route.network;
	ps_strlcpy(l->institution, route.institution, sizeof(l->institution));
	sw_flow_number(sw, l);
	if (sw_flow_transmit(sw, st, i, ep) != 0) {
		l->state = TXN_LEG_UNSENT;
		sw_store_mark(sw, st);
		return "96";
	}
	return NULL;
}

static void set_leg(txn_t *t, unsigned i, int kind, const char *proc,
		    const char *account)
{
	txn_leg_t *l = &t->leg[i];
	memset(l, 0, sizeof(*l));
	l->kind = (uint8_t)kind;
	ps_strlcpy(l->proc, proc, sizeof(l->proc));
	ps_strlcpy(l->account, account, sizeof(l->account));
	if (i + 1 > t->leg_count)
		t->leg_count = (uint8_t)(i + 1);
}

/* ---- finishing -------------------------------------------------------- */


/* A finished record held only for a lookup goes back once unpinned. */
void sw_flow_let_go(sw_server_t *sw, sw_txn_t *st)
{
	if (st->t.state == TXN_STATE_DONE && st->pins == 0)
		sw_store_release(sw, st);
}

/* A refund is over: release its hold on the pay it refunds. */
static void settle_refund(sw_server_t *sw, sw_txn_t *st)
{
	sw_txn_t *pay = sw_txn_by_id(sw, st->t.parent_id);
	PS_ASSERT(pay != NULL && pay->pins > 0); /* pinned since intake */
	pay->t.refund_pending -= st->t.amount;
	if (strcmp(st->t.response, "00") == 0)
		pay->t.refunded += st->t.amount;
	PS_ASSERT(pay->t.refund_pending >= 0);
	PS_ASSERT(pay->t.refunded <= pay->t.amount);
	pay->pins--;
	sw_store_mark(sw, pay);
	sw_flow_let_go(sw, pay);
}

static void finish(sw_server_t *sw, sw_txn_t *st, const char *code,
		   const char *reason)
{
	txn_t *t = &st->t;
	PS_ASSERT(t->state != TXN_STATE_DONE);
	ps_strlcpy(t->response, code, sizeof(t->response));
	if (reason != NULL)
		ps_strlcpy(t->reason, reason, sizeof(t->reason));
	t->state = TXN_STATE_DONE;
	t->answered_ms = ps_wall_ms();
	sw_store_mark(sw, st);
	uint8_t key[8];
	sw_id_key(t->id, key);
	sw_store_del(sw, sw->store.active, key, sizeof(key));
	if (t->kind == TXN_KIND_REFUND && t->parent_id != 0)
		settle_refund(sw, st);
	if (st->origin != NULL) {
		answer(sw, st->origin, st->origin_gen, t, NULL);
		sw_conn_request_done(st->origin, st->origin_gen);
		st->origin = NULL;
	}
	sw->requests_inflight--;
	sw_metrics_latency(&sw->metrics, ps_mono_ns() - st->started_ns);
	if (ps_log_enabled(PS_LOG_DEBUG)) {
		ps_log_t *l = ps_log_begin(PS_LOG_DEBUG, "txn_done");
		ps_log_uint(l, "txn", t->id);
		ps_log_str(l, "kind", txn_kind_name(t->kind));
		ps_log_str(l, "request_id", t->request_id);
		ps_log_pan(l, "payer", t->payer, strlen(t->payer));
		ps_log_int(l, "amount", t->amount);
		ps_log_str(l, "code", t->response);
		ps_log_end(l);
	}
	sw_store_release(sw, st);
}

/* Copies the answer fields of the leg that authorised the payment. */
static void take_authorisation(txn_t *t, unsigned leg)
{
	ps_strlcpy(t->auth_code, t->leg[leg].auth_code, sizeof(t->auth_code));
	if (t->rrn[0] == '\0' || t->protocol == TXN_PROTO_JSON)
		ps_strlcpy(t->rrn, t->leg[leg].rrn, sizeof(t->rrn));
}

/* ---- pay and refund: two legs ------------------------------------------ */

static void two_leg_step(sw_server_t *sw, sw_txn_t *st, unsigned leg)
{
	txn_t *t = &st->t;
	const txn_leg_t *l = &t->leg[leg];
	bool approved = l->state == TXN_LEG_APPROVED;
	if (leg == 0) {
		if (!approved) {
			finish(sw, st, l->response, NULL);
			return;
		}
		const char *code = send_leg(sw, st, 1);
		if (code != NULL) {
			sw_saf_reverse(sw, t, 0);
			finish(sw, st, code, NULL);
		}
		return;
	}
	if (approved) {
		/* A two-phase bank holds the debit as an authorisation until
		 * its completion advice, sent (and repeated) through the SAF. */
		sw_endpoint_t *debit_ep = sw_endpoint_find(sw, t->leg[0].endpoint);
		if (debit_ep != NULL && debit_ep->cfg.two_phase)
			sw_saf_queue(sw, t, 0, TXN_KIND_COMPLETION, 0);
		take_authorisation(t, 0);
		finish(sw, st, "00", NULL);
		return;
	}
	sw_saf_reverse(sw, t, 0);
	finish(sw, st, l->response, NULL);
}

static void pay_start(sw_server_t *sw, sw_txn_t *st)
{
	txn_t *t = &st->t;
	route_t payer, payee;
	const char *code;
	/* Both routes first: never debit a payer whose payee has no bank. */
	sw_endpoint_t *a = route_account(sw, t->payer, &payer, &code);
	if (a == NULL) {
		finish(sw, st, code, route_reason(code, "payer"));
		return;
	}
	sw_endpoint_t *b = route_account(sw, t->payee, &payee, &code);
	if (b == NULL) {
		finish(sw, st, code, route_reason(code, "payee"));
		return;
	}
	if (a == b || (payer.institution[0] &&
		       strcmp(payer.institution, payee.institution) == 0))
		t->flags |= TXN_F_ON_US;
	if (t->kind == TXN_KIND_PAY) {
		set_leg(t, 0, TXN_KIND_PURCHASE, "000000", t->payer);
		set_leg(t, 1, TXN_KIND_CREDIT, "260000", t->payee);
	} else {
		set_leg(t, 0, TXN_KIND_PURCHASE, "000000", t->payer);
		set_leg(t, 1, TXN_KIND_REFUND_CREDIT, "200000", t->payee);
	}
	code = send_leg(sw, st, 0);
	if (code != NULL)
		finish(sw, st, code, NULL);
}

/* Finds a transaction by its origin's key: memory first, then LMDB. A
 * record loaded from LMDB is kept in memory when pin is set. */
static sw_txn_t *find_by_idem(sw_server_t *sw, const char *participant,
			      const char *request_id, bool pin, txn_t *copy,
			      int *rc_out)
{
	*rc_out = 0;
	sw_txn_t *st = sw_txn_by_idem(sw, participant, request_id);
	if (st != NULL) {
		if (copy != NULL)
			*copy = st->t;
		return st;
	}
	uint64_t id;
	int rc = sw_store_idem_get(sw, participant, request_id, &id);
	if (rc != 0) {
		*rc_out = rc;
		return NULL;
	}
	if (pin)
		return sw_flow_load(sw, id);
	uint8_t key[8];
	sw_id_key(id, key);
	rc = sw_store_get_txn(sw, sw->store.inflight, key, 8, copy);
	*rc_out = rc;
	return NULL;
}

/* Loads a finished record into memory, indexed, so that later changes to
 * it (refund totals) are made once, on the newest copy. */
sw_txn_t *sw_flow_load(sw_server_t *sw, uint64_t id)
{
	sw_txn_t *st = sw_txn_by_id(sw, id);
	if (st != NULL)
		return st;
	st = sw_txn_new(sw);
	if (st == NULL)
		return NULL;
	uint8_t key[8];
	sw_id_key(id, key);
	if (sw_store_get_txn(sw, sw->store.inflight, key, 8, &st->t) != 0) {
		sw_txn_free(sw, st);
		return NULL;
	}
	sw_txn_index_id(sw, st);
	if (st->t.request_id[0] != '\0')
		sw_txn_index_idem(sw, st);
	return st;
}

static void refund_start(sw_server_t *sw, sw_txn_t *st)
{
	txn_t *t = &st->t;
	int rc;
	sw_txn_t *pay = find_by_idem(sw, t->participant, t->original_id, true,
				     NULL, &rc);
	if (pay == NULL) {
		finish(sw, st, rc == PS_ENOTFOUND ? "25" : "96",
		       rc == PS_ENOTFOUND ? "original: no such payment" : NULL);
		return;
	}
	const txn_t *p = &pay->t;
	const char *why = NULL;
	char text[128];
	if (p->kind != TXN_KIND_PAY)
		why = "original: not a payment";
	else if (p->state != TXN_STATE_DONE)
		why = "original: still in flight";
	else if (strcmp(p->response, "00") != 0)
		why = "original: was not approved";
	else if (p->currency != t->currency)
		why = "currency: differs from the original payment's";
	if (why == NULL &&
	    p->refunded + p->refund_pending + t->amount > p->amount) {
		snprintf(text, sizeof(text),
			 "amount: refunds would exceed the payment (paid %" PRId64
			 ", refunded %" PRId64 ", in flight %" PRId64 " fen)",
			 p->amount, p->refunded, p->refund_pending);
		sw_flow_let_go(sw, pay);
		finish(sw, st, "13", text);
		return;
	}
	if (why != NULL) {
		sw_flow_let_go(sw, pay);
		finish(sw, st, "12", why);
		return;
	}
	/* The money goes back: the payee pays, the payer receives. */
	pay->pins++;
	pay->t.refund_pending += t->amount;
	sw_store_mark(sw, pay);
	t->parent_id = p->id;
	ps_strlcpy(t->payer, p->payee, sizeof(t->payer));
	ps_strlcpy(t->payee, p->payer, sizeof(t->payee));
	pay_start(sw, st);
}

/* ---- forward: an acquirer's request to the issuer ---------------------- */

static void forward_start(sw_server_t *sw, sw_txn_t *st)
{
	txn_t *t = &st->t;
	set_leg(t, 0, t->kind, t->proc, t->payer);
	const char *code = send_leg(sw, st, 0);
	if (code != NULL)
		finish(sw, st, code, NULL);
}

/* ---- advice: an acquirer reverses an earlier request -------------------- */

/* The original's request id from field 90: "<32>:<11>:<7>". */
static void original_request_id(const txn_t *t, char *out, size_t cap)
{
	const char *od = t->original_data;
	uint64_t acquirer = 0;
	ps_parse_u64(od + 20, 11, &acquirer);
	snprintf(out, cap, "%" PRIu64 ":%.6s:%.10s", acquirer, od + 4, od + 10);
}

static void timeout_leg(sw_server_t *sw, sw_txn_t *st);

static void advice_start(sw_server_t *sw, sw_txn_t *st)
{
	char original_id[65];
	original_request_id(&st->t, original_id, sizeof(original_id));
	int rc;
	sw_txn_t *orig = find_by_idem(sw, st->t.participant, original_id, true,
				      NULL, &rc);
	const char *what = "unknown original: nothing to reverse";
	if (orig != NULL && orig->t.state != TXN_STATE_DONE &&
	    orig->cur_leg >= 0) {
		/* The acquirer gave up before we did: time it out now. */
		timeout_leg(sw, orig);
		what = "original in flight: timed out and reversed";
	} else if (orig != NULL && orig->t.leg_count > 0 &&
		   orig->t.leg[0].state == TXN_LEG_APPROVED) {
		/* Passed on as the acquirer sent it: an advice as an advice
		 * (0420, repeated 0421), a reversal request as 0400/0401. */
		bool advice = st->t.kind == TXN_KIND_REVERSAL_ADVICE;
		sw_saf_queue(sw, &orig->t, 0, TXN_KIND_REVERSAL,
			     advice ? TXN_F_ADVICE : 0);
		what = advice ? "original approved: advice passed on to the issuer"
			      : "original approved: reversal queued";
	} else if (orig != NULL) {
		what = "original not approved: nothing to reverse";
	}
	if (orig != NULL)
		sw_flow_let_go(sw, orig);
	ps_log_t *l = ps_log_begin(PS_LOG_INFO, "acquirer_reversal");
	ps_log_str(l, "request_id", st->t.request_id);
	ps_log_str(l, "original", original_id);
	ps_log_str(l, "outcome", what);
	ps_log_end(l);
	finish(sw, st, "00", what);
}

/* ---- intake ------------------------------------------------------------ */

/* Answers a request seen before: its final answer, or 94 while the
 * original is still in flight. True when req was a duplicate. */
static bool answer_duplicate(sw_server_t *sw, sw_conn_t *conn, txn_t *req)
{
	int rc;
	txn_t seen;
	sw_txn_t *st = find_by_idem(sw, req->participant, req->request_id,
				    false, &seen, &rc);
	if (st == NULL && rc == PS_ENOTFOUND)
		return false;
	sw->metrics.duplicates++;
	if (st == NULL && rc != 0) {
		refuse(sw, conn, req, "96", "cannot read the request log");
		return true;
	}
	if (seen.state != TXN_STATE_DONE) {
		refuse(sw, conn, req, "94", "duplicate: the original is still in flight");
		return true;
	}
	/* The original answer, to this request's keys. */
	seen.stan = req->stan;
	memcpy(seen.transmit, req->transmit, sizeof(seen.transmit));
	seen.header_len = req->header_len;
	memcpy(seen.header, req->header, sizeof(seen.header));
	answer(sw, conn, conn->gen, &seen, NULL);
	return true;
}

static void query(sw_server_t *sw, sw_conn_t *conn, txn_t *req)
{
	int rc;
	txn_t target;
	find_by_idem(sw, req->participant, req->original_id, false, &target,
		     &rc);
	answer(sw, conn, conn->gen, req, rc == 0 ? &target : NULL);
}

static void intake(sw_server_t *sw, sw_conn_t *conn, txn_t *req)
{
	const sw_listener_t *l = conn->listener;
	if (sw->draining) {
		refuse(sw, conn, req, "91", "switch is draining");
		return;
	}
	if (sw->store.commit_failures > 0) {
		refuse(sw, conn, req, "91", "switch store unavailable");
		return;
	}
	if (answer_duplicate(sw, conn, req))
		return;
	if (conn->inflight >= l->cfg.inflight_per_conn_max ||
	    sw->requests_inflight >= sw->cfg->inflight_max) {
		sw->metrics.refused_bound++;
		refuse(sw, conn, req, "91", "too many requests in flight");
		return;
	}
	sw_txn_t *st = sw_txn_new(sw);
	if (st == NULL) {
		sw->metrics.refused_bound++;
		refuse(sw, conn, req, "91", "too many requests in flight");
		return;
	}
	st->t = *req;
	txn_t *t = &st->t;
	uint64_t now = ps_wall_ms();
	t->id = sw_next_txn_id(sw);
	t->created_ms = now;
	t->state = TXN_STATE_ACTIVE;
	if (t->local_time[0] == '\0')
		sw_format_local(now, t->local_time, t->local_date);
	if (t->protocol == TXN_PROTO_JSON)
		ps_strlcpy(t->acquirer, sw->cfg->institution, sizeof(t->acquirer));
	ps_strlcpy(t->forwarder, sw->cfg->institution, sizeof(t->forwarder));
	if (t->protocol == TXN_PROTO_JSON && t->payee_name[0] != '\0')
		ps_strlcpy(t->merchant_name, t->payee_name, sizeof(t->merchant_name));
	st->origin = conn;
	st->origin_gen = conn->gen;
	sw_conn_request_begin(conn);
	sw->requests_inflight++;
	sw_txn_index_id(sw, st);
	sw_txn_index_idem(sw, st);
	uint8_t key[128], val[8];
	size_t klen = sw_idem_key(t->participant, t->request_id, key, sizeof(key));
	sw_id_key(t->id, val);
	sw_store_put(sw, sw->store.idem, key, klen, val, sizeof(val));
	sw_store_put(sw, sw->store.active, val, sizeof(val), "", 0);
	sw_store_mark(sw, st);
	switch (t->kind) {
	case TXN_KIND_PAY:
		pay_start(sw, st);
		break;
	case TXN_KIND_REFUND:
		refund_start(sw, st);
		break;
	case TXN_KIND_REVERSAL:
	case TXN_KIND_REVERSAL_ADVICE:
		advice_start(sw, st);
		break;
	default:
		forward_start(sw, st);
		break;
	}
}

void sw_flow_request(sw_server_t *sw, sw_conn_t *conn, txn_t *req)
{
	const sw_listener_t *l = conn->listener;
	sw->metrics.requests[req->kind]++;
	ps_strlcpy(req->listener, l->cfg.name, sizeof(req->listener));
	if (req->kind == TXN_KIND_HELLO && l->cfg.participant[0] &&
	    strcmp(req->participant, l->cfg.participant) != 0) {
		txn_error_t err = {.field = "participant", .code = "63"};
		ps_strlcpy(err.reason, "not the participant of this listener",
			   sizeof(err.reason));
		sw_flow_answer_error(sw, conn, req, &err);
		return;
	}
	/* A channel belongs to one participant: the listener's, when it
	 * names one, so a PSP cannot speak for another. */
	if (l->cfg.participant[0])
		ps_strlcpy(req->participant, l->cfg.participant,
			   sizeof(req->participant));
	else if (req->participant[0] == '\0')
		ps_strlcpy(req->participant, l->cfg.name, sizeof(req->participant));
	switch (req->kind) {
	case TXN_KIND_HELLO:
	case TXN_KIND_ECHO:
	case TXN_KIND_NETWORK:
		ps_strlcpy(req->response, "00", sizeof(req->response));
		answer(sw, conn, conn->gen, req, NULL);
		return;
	case TXN_KIND_QUERY:
		query(sw, conn, req);
		return;
	case TXN_KIND_RECON:
		refuse(sw, conn, req, "12", "reconciliation is not taken here");
		return;
	default:
		intake(sw, conn, req);
		return;
	}
}

/* ---- responses and deadlines ------------------------------------------- */

/* A response whose leg is no longer waiting: after its deadline, or after
 * a restart. An approval for a leg already reversed is reversed again. */
static void late_response(sw_server_t *sw, sw_endpoint_t *ep,
			  const txn_response_t *resp)
{
	uint64_t id = 0;
	uint8_t leg = TXN_LEGS_MAX;
	sw->metrics.late_responses++;
	ep->late++;
	const char *outcome = "unmatched: ignored";
	if (sw_store_match_get(sw, ep->cfg.name, resp->stan, resp->transmit,
			       &id, &leg) == 0) {
		txn_t t;
		uint8_t key[8];
		sw_id_key(id, key);
		sw_txn_t *st = sw_txn_by_id(sw, id);
		if (st != NULL)
			t = st->t;
		else if (sw_store_get_txn(sw, sw->store.inflight, key, 8, &t) != 0)
			leg = TXN_LEGS_MAX;
		outcome = "already settled: ignored";
		if (leg < TXN_LEGS_MAX && strcmp(resp->response, "00") == 0 &&
		    t.leg[leg].state == TXN_LEG_REVERSED) {
			/* The bank approved after our reversal was
			 * acknowledged: that reversal found nothing then, so
			 * send another. */
			sw_saf_reverse(sw, &t, leg);
			outcome = "approved after its reversal: reversed again";
		} else if (leg < TXN_LEGS_MAX && t.leg[leg].state == TXN_LEG_TIMEOUT) {
			outcome = "timed out: its reversal is queued";
		}
		uint8_t mkey[SW_NAME_MAX + 14];
		size_t klen = sw_match_key(ep->cfg.name, resp->stan, resp->transmit, mkey);
		sw_store_del(sw, sw->store.match, mkey, klen);
	}
	/* Logged last: a line is built in one per-thread buffer, and the
	 * reversal above logs its own. */
	ps_log_t *l = ps_log_begin(PS_LOG_WARN, "late_response");
	ps_log_str(l, "endpoint", ep->cfg.name);
	ps_log_uint(l, "stan", resp->stan);
	ps_log_str(l, "transmit", resp->transmit);
	ps_log_str(l, "code", resp->response);
	if (id != 0)
		ps_log_uint(l, "txn", id);
	ps_log_str(l, "outcome", outcome);
	ps_log_end(l);
}

void sw_flow_response(sw_server_t *sw, sw_endpoint_t *ep,
		      const txn_response_t *resp)
{
	sw_txn_t *st = sw_txn_by_match(sw, ep->cfg.name, resp->stan,
				       resp->transmit);
	if (st == NULL) {
		late_response(sw, ep, resp);
		return;
	}
	unsigned leg = (unsigned)st->cur_leg;
	txn_leg_t *l = &st->t.leg[leg];
	sw_txn_unindex_match(sw, st);
	sw_txn_unschedule(sw, st);
	st->cur_leg = -1;
	if (ep->inflight > 0)
		ep->inflight--;
	ps_strlcpy(l->response, resp->response, sizeof(l->response));
	ps_strlcpy(l->auth_code, resp->auth_code, sizeof(l->auth_code));
	l->answered_ms = ps_wall_ms();
	l->state = strcmp(resp->response, "00") == 0 ? TXN_LEG_APPROVED
						     : TXN_LEG_DECLINED;
	if (resp->has_balance) {
		st->t.balance = resp->balance;
		st->t.flags |= TXN_F_BALANCE;
	}
	sw_store_mark(sw, st);
	if (!sw_is_saf_kind(st->t.kind)) {
		uint8_t key[SW_NAME_MAX + 14];
		size_t klen = sw_match_key(l->endpoint, l->stan, l->transmit, key);
		sw_store_del(sw, sw->store.match, key, klen);
	}
	switch (st->t.kind) {
	case TXN_KIND_REVERSAL:
	case TXN_KIND_COMPLETION:
		sw_saf_response(sw, st, resp);
		break;
	case TXN_KIND_PAY:
	case TXN_KIND_REFUND:
		two_leg_step(sw, st, leg);
		break;
	default:
		take_authorisation(&st->t, leg);
		finish(sw, st, l->response, NULL);
		break;
	}
}

/* The leg st waits on gets no answer: the origin gets 68 and every leg
 * that may have moved money is reversed. */
static void timeout_leg(sw_server_t *sw, sw_txn_t *st)
{
	unsigned leg = (unsigned)st->cur_leg;
	txn_leg_t *l = &st->t.leg[leg];
	sw_txn_unindex_match(sw, st);
	sw_txn_unschedule(sw, st);
	st->cur_leg = -1;
	sw_endpoint_t *ep = sw_endpoint_find(sw, l->endpoint);
	if (ep != NULL) {
		if (ep->inflight > 0)
			ep->inflight--;
		ep->timeouts++;
	}
	sw->metrics.timeouts++;
	l->state = TXN_LEG_TIMEOUT;
	sw_store_mark(sw, st);
	if (sw_is_saf_kind(st->t.kind)) {
		sw_saf_deadline(sw, st);
		return;
	}
	sw_saf_reverse(sw, &st->t, leg);
	if (leg == 1 && st->t.leg[0].state == TXN_LEG_APPROVED)
		sw_saf_reverse(sw, &st->t, 0);
	finish(sw, st, "68", NULL);
}

void sw_flow_deadline(sw_server_t *sw, sw_txn_t *st)
{
	timeout_leg(sw, st);
}
