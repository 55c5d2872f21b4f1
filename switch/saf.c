/*
 * saf.c: the store-and-forward queue (reversals and completion advices),
 * and restart recovery.
 *
 * An entry is a txn_t of kind REVERSAL or COMPLETION kept in the saf
 * database under (due time, sequence). It is sent at once (0400, or 0220)
 * when its endpoint is up, and repeated (0401, 0221) with exponential
 * backoff until the endpoint acknowledges it (a reversal: 00, 25 "no such
 * original" or 94 "already reversed"; a completion: 00 or 94), or until it
 * has used reversal.attempts_max transmissions or lived reversal.expiry_ms;
 * an expired entry is logged at error level for an operator, never
 * silently dropped. Every transmission first re-keys
 * the entry to its next due time, so a reversal is never sent twice at
 * once and a crash loses none.
 *
 * Recovery: at start, every transaction without a final state is
 * finished with 96 and each of its legs that may have moved money (sent,
 * or approved) is reversed through this queue. None is left dangling.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sw_int.h"

static void saf_key(uint64_t due_ms, uint64_t seq, uint8_t out[16])
{
	sw_id_key(due_ms, out);
	sw_id_key(seq, out + 8);
}

static uint64_t key_due(const uint8_t key[16])
{
	return sw_id_from_key(key);
}

static uint64_t next_key(sw_server_t *sw, uint64_t due_ms, uint8_t out[16])
{
	sw->store.saf_seq++;
	sw->store.seq_dirty = true;
	saf_key(due_ms, sw->store.saf_seq, out);
	return due_ms;
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
static bool transmit(sw_server_t *sw, const txn_t *rec, const uint8_t *old_key)
{
	const sw_config_t *cfg = sw->cfg;
	sw_endpoint_t *ep = sw_endpoint_find(sw, rec->leg[0].endpoint);
	if (ep == NULL || !sw_endpoint_up(ep) || sw->draining ||
	    sw->table.reversals >= cfg->saf_inflight_max ||
	    ep->inflight >= ep->cfg.inflight_max)
		return false;
	sw_txn_t *st = sw_txn_new(sw);
	if (st == NULL)
		return false;
	st->t = *rec;
	if (st->t.leg[0].attempts > 0)
		st->t.flags |= TXN_F_REPEAT;
	sw->table.reversals++;
	uint64_t due = ps_wall_ms() + ep->cfg.timeout_ms +
		       backoff_ms(cfg, st->t.leg[0].attempts + 1u);
	next_key(sw, due, st->saf_key);
	if (sw_flow_transmit(sw, st, 0, ep) != 0) {
		sw_txn_free(sw, st);
		return false;
	}
	if (old_key != NULL)
		sw_store_del(sw, sw->store.saf, old_key, 16);
	return true;
}

int sw_saf_queue(sw_server_t *sw, const txn_t *parent, unsigned leg, int kind,
		 uint16_t flags)
{
	PS_ASSERT(leg < TXN_LEGS_MAX && sw_is_saf_kind(kind));
	const txn_leg_t *pl = &parent->leg[leg];
	txn_t rev;
	txn_init(&rev, kind);
	rev.id = sw_next_txn_id(sw);
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
	sw_flow_number(sw, l);
	ps_strlcpy(l->rrn, pl->rrn, sizeof(l->rrn));
	sw->metrics.reversals_queued++;
	log_reversal(kind == TXN_KIND_REVERSAL ? "reversal_queued" : "completion_queued",
		     PS_LOG_INFO, &rev, txn_kind_name(parent->kind));
	if (transmit(sw, &rev, NULL))
		return 0;
	uint8_t key[16];
	next_key(sw, ps_wall_ms() + sw->cfg->reversal_retry_ms, key);
	return sw_store_put(sw, sw->store.saf, key, 16, &rev, sizeof(rev));
}

/* The parent's leg is marked reversed or completed, on the newest copy. */
static void mark_parent(sw_server_t *sw, const txn_t *rev)
{
	sw_txn_t *parent = sw_flow_load(sw, rev->parent_id);
	if (parent == NULL) {
		log_reversal("saf_parent_missing", PS_LOG_WARN, rev, NULL);
		return;
	}
	parent->t.leg[rev->parent_leg].state = rev->kind == TXN_KIND_REVERSAL
						       ? TXN_LEG_REVERSED
						       : TXN_LEG_COMPLETED;
	sw_store_mark(sw, parent);
	sw_flow_let_go(sw, parent);
}

void sw_saf_response(sw_server_t *sw, sw_txn_t *rev, const txn_response_t *resp)
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
		sw_store_del(sw, sw->store.saf, rev->saf_key, 16);
		rev->saf_done = true;
		rev->t.state = TXN_STATE_DONE;
		sw->metrics.reversals_acked++;
		log_reversal(reversal ? "reversal_acknowledged"
				      : "completion_acknowledged",
			     PS_LOG_INFO, &rev->t, code);
		mark_parent(sw, &rev->t);
	} else {
		/* Refused for now (91, 96 ...): the entry stays queued under
		 * its next due time and is repeated then. */
		log_reversal("saf_refused", PS_LOG_WARN, &rev->t, code);
	}
	sw_store_release(sw, rev);
}

void sw_saf_deadline(sw_server_t *sw, sw_txn_t *rev)
{
	log_reversal("reversal_unanswered", PS_LOG_WARN, &rev->t, NULL);
	sw_store_release(sw, rev);
}

/* ---- the queue's timer ------------------------------------------------- */

typedef struct saf_due {
	uint8_t key[16];
	txn_t rec;
} saf_due_t;

static uint32_t collect_due(sw_server_t *sw, saf_due_t *out, uint32_t cap)
{
	MDB_txn *txn = sw_store_read(sw);
	if (txn == NULL)
		return 0;
	MDB_cursor *cur;
	uint32_t n = 0;
	if (mdb_cursor_open(txn, sw->store.saf, &cur) == 0) {
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
	sw_store_read_done(sw);
	return n;
}

static bool expired(const sw_config_t *cfg, const txn_t *rec, uint64_t now)
{
	return rec->leg[0].attempts >= cfg->reversal_attempts_max ||
	       now - rec->created_ms >= cfg->reversal_expiry_ms;
}

void sw_saf_tick(uv_timer_t *timer)
{
	sw_server_t *sw = timer->data;
	const sw_config_t *cfg = sw->cfg;
	if (sw->draining || sw->store.commit_failures > 0)
		return;
	uint32_t n = collect_due(sw, sw->saf_scratch, cfg->saf_scan_max);
	uint64_t now = ps_wall_ms();
	for (uint32_t i = 0; i < n; i++) {
		saf_due_t *d = &sw->saf_scratch[i];
		if (expired(cfg, &d->rec, now)) {
			sw_store_del(sw, sw->store.saf, d->key, 16);
			sw->metrics.reversals_expired++;
			log_reversal("saf_expired", PS_LOG_ERROR, &d->rec,
				     "gave up: reconcile this posting by hand");
			continue;
		}
		if (transmit(sw, &d->rec, d->key))
			continue;
		/* Endpoint down or busy: look again later, not every tick. */
		uint8_t key[16];
		next_key(sw, now + backoff_ms(cfg, 2), key);
		sw_store_del(sw, sw->store.saf, d->key, 16);
		sw_store_put(sw, sw->store.saf, key, 16, &d->rec, sizeof(d->rec));
	}
}

int sw_saf_init(sw_server_t *sw)
{
	sw->saf_scratch = calloc(sw->cfg->saf_scan_max, sizeof(saf_due_t));
	return sw->saf_scratch == NULL ? PS_ENOMEM : 0;
}

void sw_saf_free(sw_server_t *sw)
{
	free(sw->saf_scratch);
	sw->saf_scratch = NULL;
}

/* ---- restart recovery --------------------------------------------------- */

#define RECOVER_CHUNK 256

/* Unfinished transactions, from the active index, starting at *from_id. */
static uint32_t collect_unfinished(sw_server_t *sw, uint64_t *from_id,
				   txn_t *out, uint32_t cap)
{
	MDB_txn *txn = sw_store_read(sw);
	if (txn == NULL)
		return 0;
	MDB_cursor *cur;
	uint32_t n = 0;
	if (mdb_cursor_open(txn, sw->store.active, &cur) == 0) {
		uint8_t start[8];
		sw_id_key(*from_id, start);
		MDB_val k = {8, start}, v;
		int rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
		while (rc == 0 && n < cap) {
			MDB_val rec;
			if (k.mv_size == 8 &&
			    mdb_get(txn, sw->store.inflight, &k, &rec) == 0 &&
			    rec.mv_size == sizeof(txn_t))
				memcpy(&out[n++], rec.mv_data, sizeof(txn_t));
			rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
		}
		if (rc == 0) {
			*from_id = sw_id_from_key(k.mv_data);
		} else {
			*from_id = UINT64_MAX;
		}
		mdb_cursor_close(cur);
	}
	sw_store_read_done(sw);
	return n;
}

static uint32_t recover_one(sw_server_t *sw, txn_t *t)
{
	uint32_t reversals = 0;
	for (unsigned i = 0; i < t->leg_count; i++) {
		txn_leg_t *l = &t->leg[i];
		if (l->state == TXN_LEG_SENT)
			l->state = TXN_LEG_TIMEOUT;
		if (l->state == TXN_LEG_TIMEOUT || l->state == TXN_LEG_APPROVED) {
			sw_saf_reverse(sw, t, i);
			reversals++;
		}
	}
	if (t->kind == TXN_KIND_REFUND && t->parent_id != 0) {
		sw_txn_t *pay = sw_flow_load(sw, t->parent_id);
		if (pay != NULL) {
			pay->t.refund_pending -= t->amount;
			if (pay->t.refund_pending < 0)
				pay->t.refund_pending = 0;
			sw_store_mark(sw, pay);
			sw_flow_let_go(sw, pay);
		}
	}
	t->state = TXN_STATE_DONE;
	ps_strlcpy(t->response, "96", sizeof(t->response));
	ps_strlcpy(t->reason, "switch restarted before the final answer; reversed",
		   sizeof(t->reason));
	t->answered_ms = ps_wall_ms();
	uint8_t key[8];
	sw_id_key(t->id, key);
	sw_store_put(sw, sw->store.inflight, key, 8, t, sizeof(*t));
	sw_store_del(sw, sw->store.active, key, 8);
	return reversals;
}

int sw_recover(sw_server_t *sw, char *err, size_t err_cap)
{
	txn_t *chunk = calloc(RECOVER_CHUNK, sizeof(txn_t));
	if (chunk == NULL) {
		snprintf(err, err_cap, "out of memory for recovery");
		return PS_ENOMEM;
	}
	uint64_t from = 0, recovered = 0, reversals = 0;
	int rc = 0;
	while (from != UINT64_MAX && rc == 0) {
		uint32_t n = collect_unfinished(sw, &from, chunk, RECOVER_CHUNK);
		for (uint32_t i = 0; i < n; i++)
			reversals += recover_one(sw, &chunk[i]);
		recovered += n;
		rc = sw_store_commit(sw);
	}
	free(chunk);
	if (rc != 0) {
		snprintf(err, err_cap, "lmdb: recovery could not commit");
		return rc;
	}
	ps_log_t *l = ps_log_begin(recovered ? PS_LOG_WARN : PS_LOG_INFO,
				   "recovered");
	ps_log_uint(l, "unfinished", recovered);
	ps_log_uint(l, "reversals_queued", reversals);
	ps_log_uint(l, "saf_entries", sw_saf_entries(sw));
	ps_log_end(l);
	return 0;
}
