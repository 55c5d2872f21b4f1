/*
 * bank.c: the member banks' links (simulators/common/link.h): ISO 8583 in
 * each bank's dialect and framing, signed on and echoed by the link; legs
 * and reversals out, built from the clearing record; answers, timeouts
 * and losses back into it, then to the member that asked.
 *
 * The leg netsim forwards keeps the origin's field 32, names netsim in
 * field 33 and the bank in field 100, carries netsim's settlement date in
 * field 15 and its own key (STAN, field 7) from the bank's link: the bank
 * answers netsim, netsim answers the member with the bank's code and its
 * own period. A bank that does not answer in time (or whose link drops
 * while it should) leaves the leg's outcome unknown: the member hears 91
 * and netsim reverses the leg (saf.c) until the bank says what it did.
 */
#include <string.h>

#include "core.h"
#include "netsim.h"

static void on_answer(void *ctx, void *cookie, int outcome,
		      const txn_response_t *resp);

int ns_banks_create(netsim_t *ns, char *err, size_t cap)
{
	const netsim_cfg_t *cfg = ns->cfg;
	for (uint32_t b = 0; b < ns->members->bank_count; b++) {
		const ns_bank_t *bank = &ns->members->banks[b];
		chan_cfg_t *c = &ns->bank_chan[b];
		memset(c, 0, sizeof(*c));
		c->kind = CHAN_ISO8583;
		c->dialect = iso8583_dialect_builtin(bank->dialect);
		c->framing.length_header = bank->length_header;
		c->framing.dialect = c->dialect;
		c->framing.frame_bytes_max = cfg->frame_bytes_max;
		c->frame_bytes_max = cfg->frame_bytes_max;
		sim_link_cfg_t l;
		sim_link_cfg_init(&l);
		l.name = bank->name;
		l.address = bank->address;
		l.chan = *c;
		l.institution = cfg->member;
		l.inflight_max = cfg->bank_inflight_max;
		l.timeout_ms = cfg->timeout_ms;
		l.echo_ms = cfg->echo_ms;
		l.stan_first = ns->stan_first;
		l.on_answer = on_answer;
		l.ctx = ns;
		int rc = sim_link_create(ns->loop, &l, &ns->links[b], err, cap);
		if (rc != 0)
			return rc;
	}
	return 0;
}

void ns_banks_start(netsim_t *ns)
{
	for (uint32_t b = 0; b < ns->members->bank_count; b++)
		sim_link_start(ns->links[b]);
}

static void on_link_closed(void *arg)
{
	netsim_t *ns = arg;
	PS_ASSERT(ns->links_closing > 0);
	ns->links_closing--;
}

void ns_banks_close(netsim_t *ns)
{
	for (uint32_t b = 0; b < ns->members->bank_count; b++) {
		if (ns->links[b] == NULL)
			continue;
		ns->links_closing++;
		sim_link_close(ns->links[b], on_link_closed, ns);
	}
}

bool ns_banks_tried(const netsim_t *ns)
{
	for (uint32_t b = 0; b < ns->members->bank_count; b++)
		if (!sim_link_tried(ns->links[b]))
			return false;
	return true;
}

/* ---- out ------------------------------------------------------------------- */

/* The leg's own part of the message: its key at the bank, the bank, the
 * settlement date. */
static void set_leg(netsim_t *ns, txn_t *f, const ns_leg_t *leg, int kind,
		    const char *account, const char *rrn)
{
	txn_set_leg(f, 0, kind, account);
	txn_leg_t *l = &f->leg[0];
	l->stan = leg->fwd_stan;
	ps_strlcpy(l->transmit, leg->fwd_transmit, sizeof(l->transmit));
	ps_strlcpy(l->rrn, rrn, sizeof(l->rrn));
	ps_strlcpy(l->institution, leg->bank, sizeof(l->institution));
	ns_period_date(leg->period, l->period);
	ps_strlcpy(f->forwarder, ns->cfg->member, sizeof(f->forwarder));
}

/* A financial leg: the member's request as it came (card data and all),
 * the origin in field 32. */
static void build_leg(netsim_t *ns, const ns_leg_t *leg, const txn_t *orig)
{
	txn_t *f = &ns->msg;
	*f = *orig;
	ps_strlcpy(f->acquirer, leg->origin, sizeof(f->acquirer));
	ps_strlcpy(f->rrn, leg->rrn, sizeof(f->rrn));
	set_leg(ns, f, leg, leg->kind, leg->account, leg->rrn);
}

/* A reversal (0400; 0401 from its second transmission): field 90 names
 * the parent as the bank knows it. */
static void build_reversal(netsim_t *ns, const ns_leg_t *rev,
			   const ns_leg_t *parent)
{
	txn_t *f = &ns->msg;
	txn_init(f, TXN_KIND_REVERSAL);
	if (rev->attempts > 1)
		f->flags |= TXN_F_REPEAT;
	f->original_kind = parent->kind;
	f->original_stan = parent->fwd_stan;
	ps_strlcpy(f->original_transmit, parent->fwd_transmit,
		   sizeof(f->original_transmit));
	ps_strlcpy(f->original_acquirer, parent->origin,
		   sizeof(f->original_acquirer));
	ps_strlcpy(f->acquirer, parent->origin, sizeof(f->acquirer));
	ps_strlcpy(f->payer, parent->account, sizeof(f->payer));
	f->amount = parent->amount;
	f->currency = parent->currency;
	set_leg(ns, f, rev, TXN_KIND_REVERSAL, parent->account, parent->rrn);
}

int ns_bank_send(netsim_t *ns, const ns_leg_t *leg, const txn_t *orig,
		 sim_req_t *req, const ns_leg_t *parent)
{
	int b = ns_members_bank(ns->members, leg->bank);
	if (b < 0)
		return PS_ENOTFOUND; /* a bank gone from the members file */
	ns_fwd_t *f = ps_pool_get(&ns->fwds);
	if (f == NULL)
		return PS_ELIMIT;
	if (leg->kind == TXN_KIND_REVERSAL)
		build_reversal(ns, leg, parent);
	else
		build_leg(ns, leg, orig);
	size_t len = 0;
	int rc = chan_encode_leg(&ns->bank_chan[b], &ns->msg, 0, ns->frame,
				 sizeof(ns->frame), &len);
	if (rc == 0)
		rc = sim_link_send(ns->links[b], leg->fwd_stan, leg->fwd_transmit,
				   ns->frame, len, f);
	if (rc != 0) {
		if (rc != PS_ECLOSED && rc != PS_ELIMIT)
			ps_logf(PS_LOG_ERROR, "forward_failed", "leg %llu to %s: %d",
				(unsigned long long)leg->id, leg->bank, rc);
		ps_pool_put(&ns->fwds, f);
		return rc;
	}
	f->leg = leg->id;
	f->req = req;
	f->bank = (uint16_t)b;
	ns->stats.forwarded++;
	if (ps_log_enabled(PS_LOG_DEBUG)) {
		ps_log_t *l = ps_log_begin(PS_LOG_DEBUG, "forward");
		ps_log_uint(l, "leg", leg->id);
		ps_log_str(l, "kind", txn_kind_name(leg->kind));
		ps_log_str(l, "bank", leg->bank);
		ps_log_pan(l, "account", leg->account, strlen(leg->account));
		ps_log_int(l, "amount", leg->amount);
		ps_log_str(l, "period", leg->period);
		ps_log_end(l);
	}
	return 0;
}

/* ---- back ---------------------------------------------------------------- */

void ns_clear_into(netsim_t *ns, MDB_txn *txn, ns_leg_t *leg,
		   const char *period)
{
	leg->cleared = true;
	if (!ns_period_netted(ns, txn, period)) {
		ps_strlcpy(leg->clear_period, period, sizeof(leg->clear_period));
		return;
	}
	/* Its period was netted while it waited: it clears now. */
	ps_strlcpy(leg->clear_period, ns->meta.period, sizeof(leg->clear_period));
	ps_log_t *l = ps_log_begin(PS_LOG_WARN, "late_clearing");
	ps_log_uint(l, "leg", leg->id);
	ps_log_str(l, "period", leg->period);
	ps_log_str(l, "clears_in", leg->clear_period);
	ps_log_end(l);
}

/* A financial leg's outcome into its record (in txn). A leg whose
 * outcome is unknown, or that a member asked to reverse while it was in
 * flight, gets its reversal recorded in rev (*reverse set). */
static int settle_leg(netsim_t *ns, MDB_txn *txn, ns_leg_t *leg, int outcome,
		      const txn_response_t *resp, ns_leg_t *rev, bool *reverse)
{
	*reverse = false;
	leg->answered_ms = ps_wall_ms();
	bool money = ns_clear_type(leg->kind, 0) >= 0;
	if (outcome == SIM_LINK_ANSWERED) {
		leg->state = NS_LEG_ANSWERED;
		leg->rc = resp->rc;
		ps_strlcpy(leg->auth_code, resp->auth_code, sizeof(leg->auth_code));
		if (resp->rc == TXN_RC_APPROVED && money) {
			ns_clear_into(ns, txn, leg, leg->period);
			*reverse = leg->reverse_wanted;
		}
	} else if (!money) {
		leg->state = NS_LEG_ANSWERED; /* an inquiry: nothing to undo */
		leg->rc = TXN_RC_INOPERATIVE;
	} else {
		leg->state = NS_LEG_UNKNOWN;
		*reverse = true;
	}
	if (*reverse)
		return ns_saf_record(ns, txn, leg,
				     leg->state == NS_LEG_UNKNOWN ? NS_REV_TIMEOUT
								  : NS_REV_MEMBER,
				     rev);
	return ns_store_put_leg(txn, &ns->store, leg);
}

static void answer_member(netsim_t *ns, sim_req_t *req, const ns_leg_t *leg,
			  uint8_t rc, const txn_response_t *resp)
{
	txn_t *t = &req->t;
	t->rc = rc;
	if (resp != NULL && rc == TXN_RC_APPROVED) {
		ps_strlcpy(t->auth_code, resp->auth_code, sizeof(t->auth_code));
		if (resp->has_balance) {
			t->flags |= TXN_F_BALANCE;
			t->balance = resp->balance;
		}
	}
	if (t->rrn[0] == '\0')
		ps_strlcpy(t->rrn, leg->rrn, sizeof(t->rrn));
	ns_period_text(ns, leg->clear_period[0] ? leg->clear_period : leg->period,
		       t->wire.settle_date);
	(void)sim_server_answer(ns->srv, req); /* a peer gone is logged there */
}

static void log_outcome(const ns_leg_t *leg, int outcome, uint8_t rc)
{
	bool quiet = outcome == SIM_LINK_ANSWERED;
	if (quiet && !ps_log_enabled(PS_LOG_DEBUG))
		return;
	ps_log_t *l = ps_log_begin(quiet ? PS_LOG_DEBUG : PS_LOG_WARN,
				   quiet ? "answer" : "leg_unanswered");
	ps_log_uint(l, "leg", leg->id);
	ps_log_str(l, "kind", txn_kind_name(leg->kind));
	ps_log_str(l, "bank", leg->bank);
	ps_log_str(l, "outcome", sim_link_outcome_name(outcome));
	char code[3];
	txn_rc_text(rc, code);
	ps_log_str(l, "code", code);
	ps_log_end(l);
}

static void on_answer(void *ctx, void *cookie, int outcome,
		      const txn_response_t *resp)
{
	netsim_t *ns = ctx;
	ns_fwd_t *f = cookie;
	MDB_txn *txn = NULL;
	ns_leg_t leg, rev;
	memset(&leg, 0, sizeof(leg));
	bool reverse = false;
	int rc = ns_store_begin(&ns->store, false, &txn);
	if (rc == 0)
		rc = ns_store_get_leg(txn, &ns->store, f->leg, &leg);
	if (rc == 0 && leg.kind == TXN_KIND_REVERSAL) {
		ns_store_abort(txn);
		ns_saf_outcome(ns, f, outcome, resp);
		return;
	}
	if (rc == 0)
		rc = settle_leg(ns, txn, &leg, outcome, resp, &rev, &reverse);
	if (rc == 0)
		rc = ns_store_commit(txn);
	else
		ns_store_abort(txn);
	uint8_t code = outcome == SIM_LINK_ANSWERED ? resp->rc : TXN_RC_INOPERATIVE;
	if (rc != 0) {
		/* Not recorded: the member hears 96; a restart finds the leg
		 * still sent and reverses it. */
		netsim_store_failed("a bank's answer", rc);
		code = TXN_RC_SYSTEM_MALFUNCTION;
		reverse = false;
	} else {
		ns->stats.answered += outcome == SIM_LINK_ANSWERED;
		ns->stats.timeouts += outcome != SIM_LINK_ANSWERED;
		ns->stats.codes[code % 100]++;
		log_outcome(&leg, outcome, code);
	}
	if (f->req != NULL)
		answer_member(ns, f->req, &leg, code, resp);
	ps_pool_put(&ns->fwds, f);
	if (reverse)
		ns_saf_push(ns, &rev, 0);
}
