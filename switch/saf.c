/*
 * saf.c: the store-and-forward queue of reversals and completion advices
 * (saf.h).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "saf.h"

static void saf_key(uint64_t due_ms, uint64_t seq, uint8_t out[16])
{
	sw_id_key(due_ms, out);
	sw_id_key(seq, out + 8);
}

static uint64_t key_due(const uint8_t key[16])
{
	return sw_id_from_key(key);
}

static void next_key(sw_saf_t *saf, uint64_t due_ms, uint8_t out[16])
{
	saf_key(due_ms, sw_store_next_saf_seq(saf->store), out);
}

/* Wait before the n-th repeat: retry_ms, doubling, at most retry_max_ms. */
static uint64_t backoff_ms(const sw_config_t *cfg, unsigned attempts)
{
	uint64_t wait = cfg->reversal_retry_ms;
	for (unsigned i = 1; i < attempts && wait < cfg->reversal_retry_max_ms; i++)
		wait *= 2;
	return wait < cfg->reversal_retry_max_ms ? wait : cfg->reversal_retry_max_ms;
}

static void log_reversal(const char *event, enum ps_log_level level,
			 const txn_t *rev, const char *detail)
{
	ps_log_t *l = ps_log_begin(level, event);
	ps_log_uint(l, "reversal", rev->id);
	ps_log_uint(l, "txn", rev->parent_id);
	ps_log_uint(l, "leg", rev->parent_leg);
	ps_log_str(l, "endpoint", rev->leg[0].endpoint);
	ps_log_pan(l, "account", rev->leg[0].account, strlen(rev->leg[0].account));
	ps_log_int(l, "amount", rev->amount);
	ps_log_uint(l, "attempts", rev->leg[0].attempts);
	if (detail != NULL)
		ps_log_str(l, "detail", detail);
	ps_log_end(l);
}

/*
 * Sends the reversal rec now if its endpoint can take it: loads it into
 * memory, re-keys it to its next due time (old_key, if any, is deleted)
 * and transmits. False when it must wait in the queue.
 */
static bool transmit(sw_saf_t *saf, const txn_t *rec, const uint8_t *old_key)
{
	const sw_config_t *cfg = saf->ctx->cfg;
	sw_table_t *tb = saf->table;
	sw_endpoint_t *ep = sw_net_endpoint(saf->net, rec->leg[0].endpoint);
	if (ep == NULL || !sw_endpoint_available(ep) || saf->ctx->draining ||
	    tb->reversals >= cfg->saf_inflight_max)
		return false;
	sw_txn_t *st = sw_txn_new(tb);
	if (st == NULL)
		return false;
	st->t = *rec;
	if (st->t.leg[0].attempts > 0)
		st->t.flags |= TXN_F_REPEAT;
	tb->reversals++;
	uint64_t due = ps_wall_ms() + ep->cfg.timeout_ms +
		       backoff_ms(cfg, st->t.leg[0].attempts + 1u);
	next_key(saf, due, st->saf_key);
	if (sw_leg_transmit(saf->legs, st, 0, ep) != 0) {
		sw_txn_free(tb, st);
		return false;
	}
	if (old_key != NULL)
		sw_store_del(saf->store, saf->store->saf, old_key, 16);
	return true;
}

void sw_saf_queue(sw_saf_t *saf, const txn_t *parent, unsigned leg, int kind,
		  uint16_t flags)
{
	PS_ASSERT(leg < TXN_LEGS_MAX && sw_is_saf_kind(kind));
	const txn_leg_t *pl = &parent->leg[leg];
	txn_t rev;
	txn_init(&rev, kind);
	rev.id = sw_store_next_txn_id(saf->store);
	rev.created_ms = ps_wall_ms();
	rev.state = TXN_STATE_ACTIVE;
	rev.protocol = parent->protocol;
	rev.parent_id = parent->id;
	rev.parent_leg = (uint8_t)leg;
	rev.flags = flags;
	memcpy(rev.mti, kind == TXN_KIND_COMPLETION ? "0220"
			: (flags & TXN_F_ADVICE) ? "0420" : "0400", 5);
	ps_strlcpy(rev.request_id, parent->request_id, sizeof(rev.request_id));
	ps_strlcpy(rev.participant, parent->participant, sizeof(rev.participant));
	ps_strlcpy(rev.payer, parent->payer, sizeof(rev.payer));
	ps_strlcpy(rev.payee, parent->payee, sizeof(rev.payee));
	rev.amount = parent->amount;
	rev.currency = parent->currency;
	ps_strlcpy(rev.acquirer, parent->acquirer, sizeof(rev.acquirer));
	ps_strlcpy(rev.forwarder, parent->forwarder, sizeof(rev.forwarder));
	ps_strlcpy(rev.local_time, parent->local_time, sizeof(rev.local_time));
	ps_strlcpy(rev.local_date, parent->local_date, sizeof(rev.local_date));
	ps_strlcpy(rev.terminal, parent->terminal, sizeof(rev.terminal));
	ps_strlcpy(rev.merchant, parent->merchant, sizeof(rev.merchant));
	txn_original_data(parent, leg, rev.original_data);
	rev.leg_count = 1;
	txn_leg_t *l = &rev.leg[0];
	l->kind = (uint8_t)kind;
	l->network = pl->network;
	ps_strlcpy(l->endpoint, pl->endpoint, sizeof(l->endpoint));
	ps_strlcpy(l->institution, pl->institution, sizeof(l->institution));
	ps_strlcpy(l->account, pl->account, sizeof(l->account));
	ps_strlcpy(l->proc, pl->proc, sizeof(l->proc));
	/* The reversal carries the original's RRN; a STAN and field 7 of
	 * its own, kept for every repeat so any answer matches. */
	sw_leg_number(saf->legs, l);
	ps_strlcpy(l->rrn, pl->rrn, sizeof(l->rrn));
	saf->ctx->metrics.reversals_queued++;
	log_reversal(kind == TXN_KIND_REVERSAL ? "reversal_queued" : "completion_queued",
		     PS_LOG_INFO, &rev, txn_kind_name(parent->kind));
	if (transmit(saf, &rev, NULL))
		return;
	uint8_t key[16];
	next_key(saf, ps_wall_ms() + saf->ctx->cfg->reversal_retry_ms, key);
	sw_store_put_txn(saf->store, saf->store->saf, key, sizeof(key), &rev);
}

/* The parent's leg is marked reversed or completed, on the newest copy. */
static void mark_parent(sw_saf_t *saf, const txn_t *rev)
{
	sw_txn_t *parent = sw_table_load(saf->table, rev->parent_id);
	if (parent == NULL) {
		log_reversal("saf_parent_missing", PS_LOG_WARN, rev, NULL);
		return;
	}
	parent->t.leg[rev->parent_leg].state = rev->kind == TXN_KIND_REVERSAL
						       ? TXN_LEG_REVERSED
						       : TXN_LEG_COMPLETED;
	sw_table_mark(saf->table, parent);
	sw_table_let_go(saf->table, parent);
}

void sw_saf_response(sw_saf_t *saf, sw_txn_t *rev, const txn_response_t *resp)
{
	const char *code = resp->response;
	bool reversal = rev->t.kind == TXN_KIND_REVERSAL;
	bool acknowledged = strcmp(code, "00") == 0 || strcmp(code, "94") == 0 ||
			    (reversal && strcmp(code, "25") == 0);
	if (!reversal && strcmp(code, "25") == 0) {
		/* The authorisation is gone (expired at the bank): repeating
		 * cannot post it; an operator must reconcile. */
		log_reversal("completion_failed", PS_LOG_ERROR, &rev->t,
			     "authorisation not found at the bank");
		acknowledged = true;
	}
	if (acknowledged) {
		sw_store_del(saf->store, saf->store->saf, rev->saf_key, 16);
		rev->saf_done = true;
		rev->t.state = TXN_STATE_DONE;
		saf->ctx->metrics.reversals_acked++;
		log_reversal(reversal ? "reversal_acknowledged"
				      : "completion_acknowledged",
			     PS_LOG_INFO, &rev->t, code);
		mark_parent(saf, &rev->t);
	} else {
		/* Refused for now (91, 96 ...): the entry stays queued under
		 * its next due time and is repeated then. */
		log_reversal("saf_refused", PS_LOG_WARN, &rev->t, code);
	}
	sw_table_release(saf->table, rev);
}

void sw_saf_deadline(sw_saf_t *saf, sw_txn_t *rev)
{
	log_reversal("reversal_unanswered", PS_LOG_WARN, &rev->t, NULL);
	sw_table_release(saf->table, rev);
}

uint64_t sw_saf_entries(sw_saf_t *saf)
{
	return sw_store_saf_entries(saf->store);
}

/* ---- the queue's timer ------------------------------------------------- */

typedef struct saf_due {
	uint8_t key[16];
	txn_t rec;
} saf_due_t;

static uint32_t collect_due(sw_saf_t *saf, saf_due_t *out, uint32_t cap)
{
	MDB_txn *txn = sw_store_read(saf->store);
	if (txn == NULL)
		return 0;
	MDB_cursor *cur;
	uint32_t n = 0;
	if (mdb_cursor_open(txn, saf->store->saf, &cur) == 0) {
		uint64_t now = ps_wall_ms();
		MDB_val k, v;
		int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
		while (rc == 0 && n < cap && k.mv_size == 16 &&
		       key_due(k.mv_data) <= now) {
			if (v.mv_size == sizeof(txn_t)) {
				memcpy(out[n].key, k.mv_data, 16);
				memcpy(&out[n].rec, v.mv_data, sizeof(txn_t));
				n++;
			}
			rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
		}
		mdb_cursor_close(cur);
	}
	sw_store_read_done(saf->store);
	return n;
}

static bool expired(const sw_config_t *cfg, const txn_t *rec, uint64_t now)
{
	return rec->leg[0].attempts >= cfg->reversal_attempts_max ||
	       now - rec->created_ms >= cfg->reversal_expiry_ms;
}

static void on_tick(uv_timer_t *timer)
{
	sw_saf_t *saf = timer->data;
	const sw_config_t *cfg = saf->ctx->cfg;
	if (saf->ctx->draining || saf->store->commit_failures > 0)
		return;
	uint32_t cap = PS_MIN(cfg->saf_scan_max, saf->scratch_cap);
	uint32_t n = collect_due(saf, saf->scratch, cap);
	uint64_t now = ps_wall_ms();
	for (uint32_t i = 0; i < n; i++) {
		saf_due_t *d = &saf->scratch[i];
		/* Each entry is an event of its own; one that finds no room
		 * waits in the queue for the next tick. */
		if (sw_turn_reserve(saf->turn) != 0)
			return;
		if (expired(cfg, &d->rec, now)) {
			sw_store_del(saf->store, saf->store->saf, d->key, 16);
			saf->ctx->metrics.reversals_expired++;
			log_reversal("saf_expired", PS_LOG_ERROR, &d->rec,
				     "gave up: reconcile this posting by hand");
			continue;
		}
		if (transmit(saf, &d->rec, d->key))
			continue;
		/* Endpoint down or busy: look again later, not every tick. */
		uint8_t key[16];
		next_key(saf, now + backoff_ms(cfg, 2), key);
		sw_store_del(saf->store, saf->store->saf, d->key, 16);
		sw_store_put_txn(saf->store, saf->store->saf, key, sizeof(key),
				 &d->rec);
	}
}

int sw_saf_init(sw_saf_t *saf, sw_ctx_t *ctx, sw_store_t *store,
		sw_table_t *table, sw_net_t *net, sw_legs_t *legs,
		sw_turn_t *turn)
{
	memset(saf, 0, sizeof(*saf));
	saf->ctx = ctx;
	saf->store = store;
	saf->table = table;
	saf->net = net;
	saf->legs = legs;
	saf->turn = turn;
	saf->scratch_cap = ctx->cfg->saf_scan_max;
	saf->scratch = calloc(saf->scratch_cap, sizeof(saf_due_t));
	return saf->scratch == NULL ? PS_ENOMEM : 0;
}

void sw_saf_start(sw_saf_t *saf)
{
	uv_timer_init(saf->ctx->loop, &saf->timer);
	saf->timer.data = saf;
	saf->timer_open = true;
	uint64_t every = saf->ctx->cfg->reversal_retry_ms / 2;
	every = every < 20 ? 20 : every > 1000 ? 1000 : every;
	uv_timer_start(&saf->timer, on_tick, every, every);
}

void sw_saf_close(sw_saf_t *saf)
{
	if (saf->timer_open && !uv_is_closing((uv_handle_t *)&saf->timer))
		uv_close((uv_handle_t *)&saf->timer, NULL);
	saf->timer_open = false;
}

void sw_saf_free(sw_saf_t *saf)
{
	free(saf->scratch);
	saf->scratch = NULL;
}

