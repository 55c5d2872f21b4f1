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
	st->saf = true;
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
	rev.parent_id = parent->id;
	rev.parent_leg = (uint8_t)leg;
	rev.flags = flags;
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
	ps_strlcpy(rev.account_types, parent->account_types,
		   sizeof(rev.account_types));
	/* What it reverses: the parent's leg, by its kind and its key. */
	rev.original_kind = pl->kind;
	rev.original_stan = pl->stan;
	ps_strlcpy(rev.original_transmit, pl->transmit,
		   sizeof(rev.original_transmit));
	ps_strlcpy(rev.original_acquirer, parent->acquirer,
		   sizeof(rev.original_acquirer));
	txn_set_leg(&rev, 0, kind, pl->account);
	txn_leg_t *l = &rev.leg[0];
	l->network = pl->network;
	ps_strlcpy(l->endpoint, pl->endpoint, sizeof(l->endpoint));
	ps_strlcpy(l->institution, pl->institution, sizeof(l->institution));
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

/* ---- exceptions --------------------------------------------------------- */

/* A JSON string member into b: the text escaped as RFC 8259 wants. */
static void json_member(ps_buf_t *b, const char *key, const char *value)
{
	ps_buf_printf(b, ",\"%s\":\"", key);
	for (const char *p = value; *p != '\0'; p++) {
		char esc[6];
		size_t n = ps_json_escape_byte((unsigned char)*p, esc);
		ps_buf_append(b, esc, n);
	}
	ps_buf_append_str(b, "\"");
}

/*
 * rec could not be finished by the queue: it stays, as an open exception,
 * until an operator resolves it (switchctl exceptions). The account is
 * stored masked, as in the logs; the bank finds the posting by its STAN,
 * time and RRN.
 */
static void raise_exception(sw_saf_t *saf, const txn_t *rec, const char *why)
{
	const txn_leg_t *l = &rec->leg[0];
	char text[1024], masked[24], code[3] = "";
	ps_buf_t b;
	ps_buf_init(&b, text, sizeof(text));
	ps_mask_pan(l->account, strlen(l->account), masked);
	if (l->rc != TXN_RC_NONE)
		txn_rc_text(l->rc, code);
	const char *currency = txn_currency_alpha(rec->currency);
	ps_buf_printf(&b, "{\"id\":%llu,\"at_ms\":%llu",
		      (unsigned long long)rec->id,
		      (unsigned long long)ps_wall_ms());
	json_member(&b, "kind", txn_kind_name(rec->kind));
	json_member(&b, "why", why);
	ps_buf_printf(&b, ",\"txn\":%llu,\"leg\":%u",
		      (unsigned long long)rec->parent_id, rec->parent_leg);
	json_member(&b, "request_id", rec->request_id);
	json_member(&b, "participant", rec->participant);
	json_member(&b, "endpoint", l->endpoint);
	json_member(&b, "institution", l->institution);
	json_member(&b, "account", masked);
	ps_buf_printf(&b, ",\"amount\":%lld", (long long)rec->amount);
	json_member(&b, "currency", currency ? currency : "");
	/* What the bank knows the posting by: the original leg's key and
	 * RRN; and the key of the last transmission of this entry. */
	ps_buf_printf(&b, ",\"original_stan\":%u", rec->original_stan);
	json_member(&b, "original_transmit", rec->original_transmit);
	json_member(&b, "rrn", l->rrn);
	ps_buf_printf(&b, ",\"stan\":%u", l->stan);
	json_member(&b, "transmit", l->transmit);
	json_member(&b, "last_code", code);
	ps_buf_printf(&b, ",\"attempts\":%u,\"advice\":%s}", l->attempts,
		      (rec->flags & TXN_F_ADVICE) ? "true" : "false");
	/* Every member is bounded (ids, names, digits, this file's texts):
	 * the object always fits, whole. */
	PS_ASSERT(b.len > 0 && b.len < sizeof(text) && text[b.len - 1] == '}');
	uint8_t key[8];
	sw_id_key(rec->id, key);
	sw_store_put(saf->store, saf->store->exceptions, key, sizeof(key),
		     b.data, b.len);
	saf->ctx->metrics.exceptions++;
	log_reversal("exception", PS_LOG_ERROR, rec, why);
}

/* The parent's leg is marked reversed or completed, on the newest copy.
 * A reversal the bank answered 00 (or 94, done before) undid a posting:
 * its obligation is booked (and the leg's, when it timed out unanswered);
 * 25 found nothing to undo, and books nothing. A completion acknowledged
 * posted the authorisation: the leg's obligation is booked then. */
static void mark_parent(sw_saf_t *saf, const txn_t *rev, uint8_t rc)
{
	sw_txn_t *parent = sw_table_load(saf->table, rev->parent_id);
	if (parent == NULL) {
		log_reversal("saf_parent_missing", PS_LOG_WARN, rev, NULL);
		return;
	}
	const txn_leg_t *pl = &parent->t.leg[rev->parent_leg];
	bool done = rc == TXN_RC_APPROVED || rc == TXN_RC_DUPLICATE;
	if (rev->kind == TXN_KIND_REVERSAL && done && pl->state != TXN_LEG_REVERSED)
		sw_clearing_book_reversal(saf->legs->clearing, &parent->t,
					  rev->parent_leg, rev);
	else if (rev->kind == TXN_KIND_COMPLETION && done &&
		 sw_clearing_leg_held(saf->legs->clearing, pl))
		sw_clearing_book_leg(saf->legs->clearing, &parent->t,
				     rev->parent_leg);
	parent->t.leg[rev->parent_leg].state = rev->kind == TXN_KIND_REVERSAL
						       ? TXN_LEG_REVERSED
						       : TXN_LEG_COMPLETED;
	sw_table_mark(saf->table, parent);
	sw_table_let_go(saf->table, parent);
}

void sw_saf_response(sw_saf_t *saf, sw_txn_t *rev, const txn_response_t *resp)
{
	char code[3];
	txn_rc_text(resp->rc, code);
	bool reversal = rev->t.kind == TXN_KIND_REVERSAL;
	bool acknowledged = resp->rc == TXN_RC_APPROVED ||
			    resp->rc == TXN_RC_DUPLICATE ||
			    (reversal && resp->rc == TXN_RC_NO_RECORD);
	if (!reversal && resp->rc == TXN_RC_NO_RECORD) {
		/* The authorisation is gone (expired at the bank): repeating
		 * cannot post it; an operator must reconcile. */
		rev->t.leg[0].rc = resp->rc;
		raise_exception(saf, &rev->t, "the bank no longer holds the "
				"authorisation (25): the debit was never posted");
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
		sw_clearing_take_period(saf->legs->clearing,
					sw_net_endpoint(saf->net, rev->t.leg[0].endpoint),
					&rev->t.leg[0], resp);
		mark_parent(saf, &rev->t, resp->rc);
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

uint64_t sw_saf_exceptions(sw_saf_t *saf)
{
	return sw_store_exceptions_open(saf->store);
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
			if (sw_store_decode_txn(v.mv_data, v.mv_size,
						&out[n].rec) == 0) {
				memcpy(out[n].key, k.mv_data, 16);
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
			char why[96];
			if (d->rec.leg[0].attempts >= cfg->reversal_attempts_max)
				snprintf(why, sizeof(why), "given up after %u "
					 "attempts (reversal.attempts_max)",
					 d->rec.leg[0].attempts);
			else
				snprintf(why, sizeof(why), "given up after %llu ms "
					 "(reversal.expiry_ms)",
					 (unsigned long long)(now - d->rec.created_ms));
			sw_store_del(saf->store, saf->store->saf, d->key, 16);
			saf->ctx->metrics.reversals_expired++;
			raise_exception(saf, &d->rec, why);
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

