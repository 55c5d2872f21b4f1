/*
 * cutover.c: clearing periods. One is open at a time; legs are stamped
 * with it when they are sent. It closes at the daily cutover (UnionPay,
 * --cutover-time), when its session is over (NetClear,
 * --session-minutes), at a member's cutover request or on SIGUSR1; the
 * next opens in the same step, so traffic never pauses.
 *
 * A closed period waits for its legs still in flight (answered, or their
 * reversals acknowledged), at most --settle-wait-ms; then it is netted:
 * every leg cleared in it is read in order, each member's position
 * booked (netting.h, the obligation rule of clearing_file.h), a clearing
 * file written per member that appears (clearing_file.h's formats,
 * written beside and renamed into place, so a reader never sees half of
 * one), and the batch of positions recorded and handed to pboc.c. A leg
 * whose outcome comes later clears in the period open then.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core.h"
#include "netsim.h"

/* ---- when periods close ------------------------------------------------------ */

static void on_cutover_timer(uv_timer_t *t)
{
	char closed[NS_PERIOD_MAX];
	(void)ns_cutover(t->data, NS_CUT_TIMER, closed);
}

static void on_sigusr1(uv_signal_t *s, int signum)
{
	(void)signum;
	char closed[NS_PERIOD_MAX];
	(void)ns_cutover(s->data, NS_CUT_SIGNAL, closed);
}

static void arm_cutover(netsim_t *ns)
{
	if (sim_server_draining(ns->srv)) {
		uv_timer_stop(&ns->cutover_timer);
		return;
	}
	uint64_t now = ps_wall_ms(), at;
	if (ns->cfg->mode_kind == NETSIM_UNIONPAY)
		at = ns_next_cutover_ms(now, ns->cfg->cutover_minute);
	else
		at = ns->meta.opened_ms + (uint64_t)ns->cfg->session_minutes * 60000;
	uv_timer_start(&ns->cutover_timer, on_cutover_timer, at > now ? at - now : 0,
		       0);
}

static void on_settle_timer(uv_timer_t *t);

void ns_cutover_start(netsim_t *ns)
{
	uv_timer_init(ns->loop, &ns->cutover_timer);
	uv_timer_init(ns->loop, &ns->settle_timer);
	uv_signal_init(ns->loop, &ns->sigusr1);
	ns->cutover_timer.data = ns->settle_timer.data = ns->sigusr1.data = ns;
	uv_signal_start(&ns->sigusr1, on_sigusr1, SIGUSR1);
	arm_cutover(ns);
}

/* The period after the open one, into next. */
static void next_period(const netsim_t *ns, ns_meta_t *next)
{
	if (ns->cfg->mode_kind == NETSIM_UNIONPAY) {
		if (ns_date_next(ns->meta.date, next->date) != 0)
			ns_date_of_ms(ps_wall_ms(), next->date);
		ps_strlcpy(next->period, next->date, sizeof(next->period));
		return;
	}
	char today[9];
	ns_date_of_ms(ps_wall_ms(), today);
	ns_session_next(ns->meta.date, ns->meta.session, today, next->date,
			&next->session);
	ns_session_name(next->date, next->session, next->period);
}

static void period_init(ns_period_t *p, const netsim_t *ns, const char *name)
{
	memset(p, 0, sizeof(*p));
	p->version = NS_STORE_VERSION;
	ps_strlcpy(p->name, name, sizeof(p->name));
	ns_batch_id(ns, name, p->batch);
}

int ns_cutover(netsim_t *ns, int why, char closed[NS_PERIOD_MAX])
{
	ns_meta_t next = ns->meta;
	next_period(ns, &next);
	uint64_t now = ps_wall_ms();
	next.opened_ms = now;
	ns_period_t old, fresh;
	MDB_txn *txn = NULL;
	int rc = ns_store_begin(&ns->store, false, &txn);
	if (rc == 0) {
		rc = ns_store_get_period(txn, &ns->store, ns->meta.period, &old);
		if (rc == PS_ENOTFOUND) {
			period_init(&old, ns, ns->meta.period);
			rc = 0;
		}
	}
	if (rc == 0) {
		old.state = NS_PERIOD_CLOSED;
		old.closed_ms = now;
		period_init(&fresh, ns, next.period);
		fresh.opened_ms = now;
		if ((rc = ns_store_put_period(txn, &ns->store, &old)) == 0 &&
		    (rc = ns_store_put_period(txn, &ns->store, &fresh)) == 0)
			rc = ns_store_put_meta(txn, &ns->store, &next);
	}
	if (rc == 0)
		rc = ns_store_commit(txn);
	else
		ns_store_abort(txn);
	if (rc != 0) {
		netsim_store_failed("a cutover", rc);
		return rc;
	}
	ps_strlcpy(closed, ns->meta.period, NS_PERIOD_MAX);
	ns->meta = next;
	ns->stats.cutovers++;
	static const char *const whys[] = {"", "timer", "member", "signal"};
	ps_log_t *l = ps_log_begin(PS_LOG_INFO, "cutover");
	ps_log_str(l, "closed", closed);
	ps_log_str(l, "opened", next.period);
	ps_log_str(l, "why", whys[why]);
	ps_log_end(l);
	ns_announce(ns, closed, next.period);
	ns_cutover_wait(ns, closed, ns->cfg->settle_wait_ms);
	arm_cutover(ns);
	return 0;
}

bool ns_period_netted(netsim_t *ns, MDB_txn *txn, const char *period)
{
	ns_period_t p;
	return ns_store_get_period(txn, &ns->store, period, &p) == 0 &&
	       p.state >= NS_PERIOD_NETTED;
}

/* ---- netting ---------------------------------------------------------------------- */

/* One member's file (or summary) of the period being netted. */
typedef struct out {
	char member[CLF_MEMBER_MAX + 1];
	FILE *file;               /* UnionPay: being written */
	char path[NETSIM_PATH_MAX + 64];
	clf_totals_t totals;
} out_t;

typedef struct netting {
	netsim_t *ns;
	MDB_txn *txn;
	const char *period;
	char date[9];
	char batch[24];
	char written[15];
	ns_positions_t positions;
	out_t outs[NS_POSITIONS_MAX];
	uint32_t out_count;
	uint32_t legs;
	bool failed;
	char line[NS_SETTLE_LINE_MAX];
} netting_t;

static int fail_file(netting_t *n, const char *path)
{
	ps_logf(PS_LOG_ERROR, "clearing_file_failed", "%s: %s", path,
		strerror(errno));
	n->failed = true;
	return PS_EIO;
}

/* The member's out, opened (its directory made, its header written) the
 * first time. */
static out_t *out_of(netting_t *n, const char *member)
{
	for (uint32_t i = 0; i < n->out_count; i++)
		if (strcmp(n->outs[i].member, member) == 0)
			return &n->outs[i];
	if (n->out_count == NS_POSITIONS_MAX)
		return NULL;
	out_t *o = &n->outs[n->out_count++];
	memset(o, 0, sizeof(*o));
	ps_strlcpy(o->member, member, sizeof(o->member));
	const netsim_cfg_t *cfg = n->ns->cfg;
	char dir[NETSIM_PATH_MAX + 16];
	snprintf(dir, sizeof(dir), "%s/%s", cfg->clearing_dir, member);
	bool cup = cfg->mode_kind == NETSIM_UNIONPAY;
	snprintf(o->path, sizeof(o->path), "%s/%s.%s", dir, n->batch,
		 cup ? "txt" : "json");
	if (ps_mkdir_p(dir, 0775) != 0) {
		fail_file(n, dir);
		return NULL;
	}
	if (!cup)
		return o;
	char tmp[sizeof(o->path) + 8];
	snprintf(tmp, sizeof(tmp), "%s.tmp", o->path);
	o->file = fopen(tmp, "w");
	clf_cup_header_t h;
	memset(&h, 0, sizeof(h));
	ps_strlcpy(h.date, n->date, sizeof(h.date));
	ps_strlcpy(h.member, member, sizeof(h.member));
	ps_strlcpy(h.network, cfg->member, sizeof(h.network));
	ps_strlcpy(h.batch, n->batch, sizeof(h.batch));
	ps_strlcpy(h.written, n->written, sizeof(h.written));
	char text[CLF_CUP_WIDTH + 2];
	size_t len = 0;
	if (o->file == NULL ||
	    clf_cup_write_header(&h, text, sizeof(text), &len) != 0 ||
	    fwrite(text, 1, len, o->file) != len) {
		fail_file(n, tmp);
		return NULL;
	}
	return o;
}

/* One line of the leg, seen from member in role. */
static int out_line(netting_t *n, clf_cup_line_t *l, const char *member,
		    char role, const char *counterparty)
{
	out_t *o = out_of(n, member);
	if (o == NULL)
		return PS_EIO;
	ps_strlcpy(l->member, member, sizeof(l->member));
	ps_strlcpy(l->counterparty, counterparty, sizeof(l->counterparty));
	l->role = role;
	l->net = clf_net(l->type, role, l->amount, l->fee_issuer, l->fee_network);
	if (clf_totals_add(&o->totals, l->type, role, l->amount, l->fee_issuer,
			   l->fee_network) != 0)
		return PS_ELIMIT;
	if (o->file == NULL)
		return 0;
	char text[CLF_CUP_WIDTH + 2];
	size_t len = 0;
	if (clf_cup_write_line(l, text, sizeof(text), &len) != 0) {
		ps_logf(PS_LOG_ERROR, "clearing_line_refused", "leg %llu does not "
			"fit the layout", (unsigned long long)l->leg_id);
		return PS_EINVAL;
	}
	return fwrite(text, 1, len, o->file) == len ? 0 : fail_file(n, o->path);
}

/* A leg cleared in the period: its positions and its two lines. */
static int on_cleared(void *ctx, const ns_leg_t *leg)
{
	netting_t *n = ctx;
	int type = ns_clear_type(leg->kind, leg->original_kind);
	if (type < 0)
		return 0;
	/* A reversal's line carries the leg it reverses: its keys. */
	ns_leg_t parent;
	const ns_leg_t *base = leg;
	if (leg->kind == TXN_KIND_REVERSAL) {
		int rc = ns_store_get_leg(n->txn, &n->ns->store, leg->parent, &parent);
		if (rc != 0)
			return rc;
		base = &parent;
	}
	int rc = ns_positions_book(&n->positions, base->bank, base->origin,
				   n->ns->cfg->member, type, base->amount,
				   base->fee_issuer, base->fee_network);
	if (rc != 0)
		return rc;
	clf_cup_line_t l;
	memset(&l, 0, sizeof(l));
	ps_strlcpy(l.date, n->date, sizeof(l.date));
	l.type = (uint8_t)type;
	l.stan = base->stan;
	ps_strlcpy(l.transmit, base->transmit, sizeof(l.transmit));
	l.fwd_stan = base->fwd_stan;
	ps_strlcpy(l.fwd_transmit, base->fwd_transmit, sizeof(l.fwd_transmit));
	ps_strlcpy(l.rrn, base->rrn, sizeof(l.rrn));
	ps_mask_pan(base->account, strlen(base->account), l.account);
	l.amount = base->amount;
	l.fee_issuer = base->fee_issuer;
	l.fee_network = base->fee_network;
	l.currency = base->currency;
	ps_strlcpy(l.sender, base->sender, sizeof(l.sender));
	l.leg_id = leg->id;
	n->legs++;
	if ((rc = out_line(n, &l, base->bank, 'I', base->origin)) != 0)
		return rc;
	return out_line(n, &l, base->origin, 'A', base->bank);
}

/* Each member's file: a UnionPay trailer, or the NetClear summary. */
static int finish_out(netting_t *n, out_t *o)
{
	char text[CLF_SUMMARY_BYTES_MAX + CLF_CUP_WIDTH];
	size_t len = 0;
	char tmp[sizeof(o->path) + 8];
	snprintf(tmp, sizeof(tmp), "%s.tmp", o->path);
	int rc;
	if (o->file != NULL) {
		clf_cup_trailer_t t;
		memset(&t, 0, sizeof(t));
		ps_strlcpy(t.date, n->date, sizeof(t.date));
		ps_strlcpy(t.member, o->member, sizeof(t.member));
		t.totals = o->totals;
		rc = clf_cup_write_trailer(&t, text, sizeof(text), &len);
	} else {
		clf_nc_summary_t s;
		memset(&s, 0, sizeof(s));
		ps_strlcpy(s.network, n->ns->cfg->member, sizeof(s.network));
		ps_strlcpy(s.batch, n->batch, sizeof(s.batch));
		ps_strlcpy(s.member, o->member, sizeof(s.member));
		s.totals = o->totals;
		rc = clf_nc_write(&s, text, sizeof(text), &len);
		o->file = rc == 0 ? fopen(tmp, "w") : NULL;
	}
	bool ok = rc == 0 && o->file != NULL && fwrite(text, 1, len, o->file) == len;
	ok = (o->file == NULL || fclose(o->file) == 0) && ok;
	o->file = NULL;
	if (!ok || rename(tmp, o->path) != 0)
		return fail_file(n, o->path);
	ps_log_t *l = ps_log_begin(PS_LOG_INFO, "clearing_file");
	ps_log_str(l, "path", o->path);
	ps_log_uint(l, "lines", o->totals.lines);
	ps_log_int(l, "net", o->totals.net);
	ps_log_end(l);
	return 0;
}

/* The batch recorded with the period's new state, in one commit. */
static int record_batch(netting_t *n, bool empty)
{
	netsim_t *ns = n->ns;
	MDB_txn *txn = NULL;
	ns_period_t p;
	size_t len = 0;
	int rc = empty ? 0 : ns_settle_line(n->batch, ns->cfg->member, &n->positions,
					    n->line, sizeof(n->line), &len);
	if (rc == 0)
		rc = ns_store_begin(&ns->store, false, &txn);
	if (rc == 0) {
		rc = ns_store_get_period(txn, &ns->store, n->period, &p);
		if (rc == PS_ENOTFOUND) {
			period_init(&p, ns, n->period);
			rc = 0;
		}
	}
	if (rc == 0) {
		p.state = empty ? NS_PERIOD_EMPTY : NS_PERIOD_NETTED;
		p.netted_ms = ps_wall_ms();
		p.legs = n->legs;
		p.members = 0;
		for (uint32_t i = 0; i < n->positions.count; i++)
			p.members += n->positions.pos[i].amount != 0;
		rc = ns_store_put_period(txn, &ns->store, &p);
		if (rc == 0 && !empty)
			rc = ns_store_put_batch(txn, &ns->store, n->period, n->line, len);
	}
	if (rc == 0)
		rc = ns_store_commit(txn);
	else
		ns_store_abort(txn);
	return rc;
}

/* Anything to settle? A period whose legs all net out has not. */
static bool has_position(const ns_positions_t *p)
{
	for (uint32_t i = 0; i < p->count; i++)
		if (p->pos[i].amount != 0)
			return true;
	return false;
}

static int net_legs(netting_t *n)
{
	int rc = ns_store_begin(&n->ns->store, true, &n->txn);
	if (rc != 0)
		return rc;
	rc = ns_store_each_cleared(n->txn, &n->ns->store, n->period, on_cleared, n);
	ns_store_abort(n->txn);
	n->txn = NULL;
	for (uint32_t i = 0; i < n->out_count; i++) {
		if (rc == 0)
			rc = finish_out(n, &n->outs[i]);
		else if (n->outs[i].file != NULL)
			fclose(n->outs[i].file);
	}
	return rc;
}

static void net_period(netsim_t *ns, const char *period)
{
	netting_t *n = calloc(1, sizeof(*n));
	if (n == NULL) {
		ps_logf(PS_LOG_ERROR, "netting_failed", "%s: out of memory", period);
		return;
	}
	n->ns = ns;
	n->period = period;
	ns_period_date(period, n->date);
	ns_batch_id(ns, period, n->batch);
	time_t now = (time_t)(ps_wall_ms() / 1000);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(n->written, sizeof(n->written), "%Y%m%d%H%M%S", &tm);
	ns_positions_init(&n->positions);
	int rc = net_legs(n);
	if (rc == 0) {
		/* The rule books every leg to both sides: a batch that does
		 * not sum to zero is a bug here, never PBOC's to find. */
		PS_ASSERT(ns_positions_sum(&n->positions) == 0);
		ns_positions_sort(&n->positions);
		rc = record_batch(n, !has_position(&n->positions));
	}
	if (rc != 0) {
		ps_logf(PS_LOG_ERROR, "netting_failed", "%s: %s (the period stays "
			"closed; a restart nets it again)", period, ps_strerror(rc));
		free(n);
		return;
	}
	ns->stats.netted++;
	ps_log_t *l = ps_log_begin(PS_LOG_INFO, "period_netted");
	ps_log_str(l, "period", period);
	ps_log_str(l, "batch", n->batch);
	ps_log_uint(l, "legs", n->legs);
	ps_log_uint(l, "files", n->out_count);
	ps_log_uint(l, "positions", n->positions.count);
	ps_log_end(l);
	if (has_position(&n->positions))
		ns_pboc_submit(ns, period);
	else
		ps_logf(PS_LOG_INFO, "settle_none", "%s: every position is zero, "
			"nothing to settle", period);
	free(n);
}

/* ---- waiting for legs in flight ------------------------------------------------------ */

typedef struct pending_count {
	const char *period;
	uint32_t count;
} pending_count_t;

static int count_pending(void *ctx, uint64_t id, const char *period)
{
	(void)id;
	pending_count_t *c = ctx;
	c->count += strcmp(period, c->period) == 0;
	return 0;
}

/* Has period no leg pending, or waited long enough? */
static bool ready_to_net(netsim_t *ns, MDB_txn *txn, const ns_closing_t *c)
{
	if (uv_now(ns->loop) >= c->deadline_ms)
		return true;
	pending_count_t count = {c->name, 0};
	return ns_store_each_pending(txn, &ns->store, count_pending, &count) == 0 &&
	       count.count == 0;
}

static void on_settle_timer(uv_timer_t *t)
{
	netsim_t *ns = t->data;
	char due[NETSIM_CLOSING_MAX][NS_PERIOD_MAX];
	uint32_t due_count = 0;
	MDB_txn *txn = NULL;
	if (ns_store_begin(&ns->store, true, &txn) != 0)
		return;
	for (uint32_t i = 0; i < ns->closing_count;) {
		if (!ready_to_net(ns, txn, &ns->closing[i])) {
			i++;
			continue;
		}
		memcpy(due[due_count++], ns->closing[i].name, NS_PERIOD_MAX);
		ns->closing[i] = ns->closing[--ns->closing_count];
	}
	ns_store_abort(txn);
	for (uint32_t i = 0; i < due_count; i++)
		net_period(ns, due[i]);
	if (ns->closing_count == 0)
		uv_timer_stop(&ns->settle_timer);
}

void ns_cutover_wait(netsim_t *ns, const char *period, uint32_t wait_ms)
{
	if (ns->closing_count == NETSIM_CLOSING_MAX) {
		/* Periods closing faster than legs come in: net the oldest
		 * now, its late legs clear later. */
		ns->closing[0].deadline_ms = 0;
		on_settle_timer(&ns->settle_timer);
	}
	ns_closing_t *c = &ns->closing[ns->closing_count++];
	ps_strlcpy(c->name, period, sizeof(c->name));
	c->deadline_ms = uv_now(ns->loop) + wait_ms;
	if (!uv_is_active((uv_handle_t *)&ns->settle_timer))
		uv_timer_start(&ns->settle_timer, on_settle_timer, 0,
			       NETSIM_SETTLE_POLL_MS);
}
