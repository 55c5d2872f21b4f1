/*
 * netsim.c: the network around the server loop: start-up (the members
 * file, the clearing record, the server with its listener, the bank
 * links, the timers), what a restart finds in the record and does about
 * it, the ready file, the drain and the end.
 *
 * Recovery: a leg still SENT when netsim stopped may have been posted by
 * its bank; its member was never answered (or heard its timeout): it is
 * reversed, as a timeout would have. Reversals not yet acknowledged go
 * back into the queue. Closed periods not netted are netted once their
 * legs are in; netted ones PBOC has not answered are submitted again
 * (the batch id makes that safe).
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core.h"
#include "netsim.h"

void netsim_store_failed(const char *what, int rc)
{
	ps_logf(PS_LOG_ERROR, "store_failed", "%s: %s", what, ps_strerror(rc));
}

/* ---- the clearing record's state --------------------------------------------- */

static void first_meta(netsim_t *ns, ns_meta_t *m)
{
	const netsim_cfg_t *cfg = ns->cfg;
	memset(m, 0, sizeof(*m));
	m->version = NS_STORE_VERSION;
	m->mode = cfg->mode_kind;
	if (cfg->start_date[0] != '\0')
		ps_strlcpy(m->date, cfg->start_date, sizeof(m->date));
	else
		ns_date_of_ms(ps_wall_ms(), m->date);
	if (cfg->mode_kind == NETSIM_UNIONPAY) {
		ps_strlcpy(m->period, m->date, sizeof(m->period));
	} else {
		m->session = 1;
		ns_session_name(m->date, 1, m->period);
	}
	m->opened_ms = ps_wall_ms();
	m->next_leg = 1;
	m->stan_base = 1;
}

static int open_record(netsim_t *ns, char *err, size_t cap)
{
	const netsim_cfg_t *cfg = ns->cfg;
	int rc = ns_store_open(&ns->store, cfg->store,
			       (size_t)cfg->store_map_mb << 20,
			       strcmp(cfg->durability, "sync") == 0, err, cap);
	MDB_txn *txn = NULL;
	if (rc == 0)
		rc = ns_store_begin(&ns->store, false, &txn);
	if (rc != 0)
		return rc == PS_EIO ? rc : sim_fail(err, cap, rc, "--store: %s",
						     ps_strerror(rc));
	rc = ns_store_get_meta(txn, &ns->store, &ns->meta);
	if (rc == PS_ENOTFOUND) {
		first_meta(ns, &ns->meta);
		ns_period_t p;
		memset(&p, 0, sizeof(p));
		p.version = NS_STORE_VERSION;
		ps_strlcpy(p.name, ns->meta.period, sizeof(p.name));
		ns_batch_id(ns, p.name, p.batch);
		p.opened_ms = ns->meta.opened_ms;
		rc = ns_store_put_period(txn, &ns->store, &p);
	} else if (rc == 0 && ns->meta.mode != cfg->mode_kind) {
		ns_store_abort(txn);
		return sim_fail(err, cap, PS_EINVAL, "--store %s holds a %s "
				"network's record", cfg->store,
				ns->meta.mode == NETSIM_UNIONPAY ? "unionpay" : "netclear");
	}
	/* Keys of a run before are never reused: this run's links start at
	 * the recorded base, the next run's 100000 further on. */
	ns->stan_first = ns->meta.stan_base;
	ns->meta.stan_base = ns->stan_first > 899999 ? 1 : ns->stan_first + 100000;
	if (rc == 0)
		rc = ns_store_put_meta(txn, &ns->store, &ns->meta);
	if (rc == 0)
		rc = ns_store_commit(txn);
	else
		ns_store_abort(txn);
	if (rc != 0)
		return sim_fail(err, cap, rc, "--store %s: %s", cfg->store,
				ps_strerror(rc));
	return 0;
}

/* ---- recovery ---------------------------------------------------------------------- */

typedef struct ids {
	uint64_t *id;
	uint32_t count, cap;
} ids_t;

static int collect(void *ctx, uint64_t id, const char *period)
{
	(void)period;
	ids_t *ids = ctx;
	if (ids->count == ids->cap) {
		uint32_t cap = ids->cap ? ids->cap * 2 : 256;
		uint64_t *grown = realloc(ids->id, cap * sizeof(*grown));
		if (grown == NULL)
			return PS_ENOMEM;
		ids->id = grown;
		ids->cap = cap;
	}
	ids->id[ids->count++] = id;
	return 0;
}

/* One pending leg found at start-up. */
static void recover_leg(netsim_t *ns, uint64_t id)
{
	MDB_txn *txn = NULL;
	ns_leg_t leg, rev;
	bool push = false;
	int rc = ns_store_begin(&ns->store, false, &txn);
	if (rc == 0)
		rc = ns_store_get_leg(txn, &ns->store, id, &leg);
	if (rc == 0 && leg.kind == TXN_KIND_REVERSAL) {
		rev = leg;
		push = true;
	} else if (rc == 0 && ns_clear_type(leg.kind, 0) < 0) {
		leg.state = NS_LEG_ANSWERED; /* an inquiry: nothing to undo */
		leg.rc = TXN_RC_INOPERATIVE;
		rc = ns_store_put_leg(txn, &ns->store, &leg);
	} else if (rc == 0 && leg.reversal == 0) {
		rc = ns_saf_record(ns, txn, &leg, NS_REV_TIMEOUT, &rev);
		push = rc == 0;
		ps_logf(PS_LOG_WARN, "recovered", "leg %llu was in flight: reversed",
			(unsigned long long)id);
	}
	if (rc == 0)
		rc = ns_store_commit(txn);
	else
		ns_store_abort(txn);
	if (rc != 0)
		netsim_store_failed("recovery", rc);
	else if (push)
		ns_saf_push(ns, &rev, 0);
}

static int recover_period(void *ctx, const ns_period_t *p)
{
	netsim_t *ns = ctx;
	if (p->state == NS_PERIOD_CLOSED)
		ns_cutover_wait(ns, p->name, ns->cfg->settle_wait_ms);
	else if (p->state == NS_PERIOD_NETTED)
		ns_pboc_submit(ns, p->name);
	return 0;
}

static int recover(netsim_t *ns, char *err, size_t cap)
{
	ids_t ids = {0};
	MDB_txn *txn = NULL;
	int rc = ns_store_begin(&ns->store, true, &txn);
	if (rc == 0)
		rc = ns_store_each_pending(txn, &ns->store, collect, &ids);
	ns_store_abort(txn);
	for (uint32_t i = 0; rc == 0 && i < ids.count; i++)
		recover_leg(ns, ids.id[i]);
	free(ids.id);
	/* Periods last: netting may submit, and needs the record settled. */
	txn = NULL;
	if (rc == 0)
		rc = ns_store_begin(&ns->store, true, &txn);
	if (rc == 0)
		rc = ns_store_each_period(txn, &ns->store, recover_period, ns);
	ns_store_abort(txn);
	if (rc != 0)
		return sim_fail(err, cap, rc, "recovery: %s", ps_strerror(rc));
	if (ids.count > 0)
		ps_logf(PS_LOG_INFO, "recovery", "%u legs were pending", ids.count);
	return 0;
}

/* ---- the ready file ---------------------------------------------------------------- */

static void on_ready_timer(uv_timer_t *t)
{
	netsim_t *ns = t->data;
	if (!ns_banks_tried(ns) &&
	    uv_now(ns->loop) - ns->started_ms < NETSIM_READY_WAIT_MS)
		return;
	uv_timer_stop(t);
	if (ns->cfg->ready_file[0] == '\0')
		return;
	char text[160];
	int len = snprintf(text, sizeof(text), "{\"pid\":%d,\"port\":%u,\"name\":\"%s\"}\n",
			   (int)getpid(), sim_server_port(ns->srv), ns->cfg->name);
	if (sim_ready_write(ns->cfg->ready_file, text, (size_t)len) != 0)
		ps_logf(PS_LOG_ERROR, "ready_failed", "cannot write %s",
			ns->cfg->ready_file);
}

/* ---- the loop's hooks ----------------------------------------------------------------- */

static void on_drain(void *ctx)
{
	netsim_t *ns = ctx;
	/* No new periods or repeats; what is in flight is answered. */
	uv_timer_stop(&ns->cutover_timer);
	uv_timer_stop(&ns->saf_timer);
}

static void close_if(uv_handle_t *h)
{
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

static void on_finish(void *ctx)
{
	netsim_t *ns = ctx;
	if (!ns->handles_started)
		return;
	ns_banks_close(ns);
	ns_pboc_close(ns);
	close_if((uv_handle_t *)&ns->saf_timer);
	close_if((uv_handle_t *)&ns->cutover_timer);
	close_if((uv_handle_t *)&ns->settle_timer);
	close_if((uv_handle_t *)&ns->ready_timer);
	close_if((uv_handle_t *)&ns->sigusr1);
}

/* ---- start-up ----------------------------------------------------------------------- */

static void setup_channel(netsim_t *ns)
{
	const netsim_cfg_t *cfg = ns->cfg;
	chan_cfg_t *c = &ns->chan;
	memset(c, 0, sizeof(*c));
	if (cfg->mode_kind == NETSIM_NETCLEAR) {
		c->kind = CHAN_NETCLEAR;
		c->frame_bytes_max = TXN_JSON_LINE_MAX;
		ps_strlcpy(c->member, cfg->member, sizeof(c->member));
		return;
	}
	c->kind = CHAN_ISO8583;
	c->dialect = iso8583_dialect_builtin(cfg->dialect);
	c->framing.length_header = ISO8583_LENGTH_ASCII4;
	c->framing.header_bytes = ISO8583_CUPS_HEADER_BYTES;
	c->framing.dialect = c->dialect;
	c->framing.frame_bytes_max = cfg->frame_bytes_max;
	c->frame_bytes_max = cfg->frame_bytes_max;
	iso8583_cups_header_t h;
	iso8583_cups_header_init(&h, "", cfg->station);
	iso8583_cups_header_write(&h, 0, c->header);
}

static int setup_server(netsim_t *ns, char *err, size_t cap)
{
	const netsim_cfg_t *cfg = ns->cfg;
	sim_server_cfg_t s;
	sim_server_cfg_init(&s);
	s.name = cfg->name;
	s.listen = cfg->listen;
	s.ready_file = NULL; /* ours: once the bank links have been tried */
	s.chan = ns->chan;
	s.connections_max = cfg->connections_max;
	s.inflight_max = cfg->inflight_max;
	s.inflight_per_conn_max = cfg->inflight_per_conn_max;
	/* An answer (or an 0820, or a frame sent back) is small in either
	 * mode; one slot per request in flight. */
	s.answer_bytes_max = NETSIM_ANSWER_BYTES_MAX;
	s.drain_ms = PS_MAX(NETSIM_DRAIN_MS, cfg->timeout_ms + 2000);
	s.ops.turn = ns_turn;
	s.ops.screen = cfg->mode_kind == NETSIM_UNIONPAY ? ns_screen : NULL;
	s.ops.drain = on_drain;
	s.ops.finish = on_finish;
	s.ctx = ns;
	int rc = sim_server_create(&s, &ns->srv, err, cap);
	if (rc == 0)
		ns->loop = sim_server_loop(ns->srv);
	return rc;
}

static int setup_memory(netsim_t *ns, char *err, size_t cap)
{
	const netsim_cfg_t *cfg = ns->cfg;
	uint32_t fwds = cfg->inflight_max + cfg->saf_max;
	ns->plans = calloc(cfg->inflight_max, sizeof(*ns->plans));
	ns->cuts = calloc(cfg->inflight_max, sizeof(*ns->cuts));
	ns->saf = calloc(cfg->saf_max, sizeof(*ns->saf));
	ns->conns = calloc(cfg->connections_max, sizeof(*ns->conns));
	ns->members = calloc(1, sizeof(*ns->members));
	if (ns->plans == NULL || ns->cuts == NULL || ns->saf == NULL ||
	    ns->conns == NULL || ns->members == NULL ||
	    ps_pool_init(&ns->fwds, sizeof(ns_fwd_t), fwds) != 0)
		return sim_fail(err, cap, PS_ENOMEM, "no memory for %u requests in "
				"flight", cfg->inflight_max);
	return 0;
}

static void start_handles(netsim_t *ns)
{
	ns_saf_start(ns);
	ns_cutover_start(ns);
	uv_timer_init(ns->loop, &ns->ready_timer);
	ns->ready_timer.data = ns;
	ns->handles_started = true;
	ns->started_ms = uv_now(ns->loop);
	uv_timer_start(&ns->ready_timer, on_ready_timer, 10, 10);
	ns_banks_start(ns);
}

static void log_started(const netsim_t *ns)
{
	const netsim_cfg_t *cfg = ns->cfg;
	ps_log_t *l = ps_log_begin(PS_LOG_INFO, "started");
	ps_log_str(l, "mode", cfg->mode);
	ps_log_str(l, "member", cfg->member);
	if (cfg->mode_kind == NETSIM_UNIONPAY)
		ps_log_str(l, "station", cfg->station);
	ps_log_uint(l, "port", sim_server_port(ns->srv));
	ps_log_str(l, "period", ns->meta.period);
	ps_log_uint(l, "banks", ns->members->bank_count);
	ps_log_str(l, "store", cfg->store);
	ps_log_str(l, "clearing_dir", cfg->clearing_dir);
	ps_log_str(l, "pboc", cfg->pboc[0] ? cfg->pboc : "none");
	ps_log_end(l);
}

int netsim_create(const netsim_cfg_t *cfg, netsim_t **out, char *err,
		  size_t err_cap)
{
	netsim_t *ns = calloc(1, sizeof(*ns));
	*out = ns;
	if (ns == NULL)
		return sim_fail(err, err_cap, PS_ENOMEM, "out of memory");
	ns->cfg = cfg;
	ns->fees = (ns_fees_t){cfg->issuer_fee_ppm, (int64_t)cfg->issuer_fee_cap,
			       cfg->network_fee_ppm, (int64_t)cfg->network_fee_cap};
	int rc;
	if ((rc = setup_memory(ns, err, err_cap)) ||
	    (rc = ns_members_load(cfg->members, ns->members, err, err_cap)) ||
	    (rc = open_record(ns, err, err_cap)))
		return rc;
	setup_channel(ns);
	if ((rc = setup_server(ns, err, err_cap)) ||
	    (rc = ns_banks_create(ns, err, err_cap)) ||
	    (rc = ns_pboc_setup(ns, err, err_cap)))
		return rc;
	start_handles(ns);
	if ((rc = recover(ns, err, err_cap)) != 0)
		return rc;
	log_started(ns);
	return 0;
}

/* ---- the end ------------------------------------------------------------------------------ */

static void log_summary(const netsim_t *ns)
{
	const sim_server_stats_t *s = sim_server_stats(ns->srv);
	const netsim_stats_t *n = &ns->stats;
	ps_log_t *l = ps_log_begin(PS_LOG_INFO, "stopped");
	ps_log_uint(l, "requests", s->requests);
	ps_log_uint(l, "answers", s->answers);
	ps_log_uint(l, "rejected", s->rejected);
	ps_log_uint(l, "forwarded", n->forwarded);
	ps_log_uint(l, "answered", n->answered);
	ps_log_uint(l, "timeouts", n->timeouts);
	ps_log_uint(l, "unsent", n->unsent);
	ps_log_uint(l, "replayed", n->replayed);
	ps_log_uint(l, "reversals", n->reversals);
	ps_log_uint(l, "reversals_acked", n->reversals_acked);
	ps_log_uint(l, "abandoned", n->abandoned);
	ps_log_uint(l, "cutovers", n->cutovers);
	ps_log_uint(l, "netted", n->netted);
	ps_log_uint(l, "approved", n->codes[0]);
	ps_log_str(l, "period", ns->meta.period);
	ps_log_end(l);
}

void netsim_run(netsim_t *ns)
{
	(void)sim_server_run(ns->srv); /* a drain deadline is logged there */
	log_summary(ns);
}

void netsim_destroy(netsim_t *ns)
{
	if (ns == NULL)
		return;
	/* The loop first: closing it runs on_finish, which closes the links. */
	sim_server_destroy(ns->srv);
	for (uint32_t b = 0; b < NS_BANKS_MAX; b++)
		sim_link_destroy(ns->links[b]);
	ns_store_close(&ns->store);
	ps_pool_free(&ns->fwds);
	free(ns->plans);
	free(ns->cuts);
	free(ns->saf);
	free(ns->conns);
	free(ns->members);
	free(ns);
}
