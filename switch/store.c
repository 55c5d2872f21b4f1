/*
 * store.c: the switch's LMDB store and its group commit.
 *
 * Databases (one environment, shared with switchctl; docs/architecture.md):
 *   inflight  u64 txn id (big-endian)          -> txn_t
 *   active    u64 txn id                       -> "" (not yet final)
 *   match     endpoint[32] stan(u32 BE) 7[10]  -> u64 txn id, u8 leg
 *   idem      participant \0 request id        -> u64 txn id
 *   saf       due ms (u64 BE), seq (u64 BE)    -> txn_t (a reversal or a
 *                                               completion advice)
 *   meta      "seq"                            -> reserved sequences
 *   routes, route_meta, audit: routing/ owns them.
 *
 * Nothing is written to LMDB as it happens. Each loop turn collects its
 * changes (dirty transactions and key/value operations) and the messages
 * they justify (the outbox); the uv_check handle then commits everything in
 * one write transaction and only after the commit succeeds writes the
 * outbox to the sockets. One fsync per turn, however many messages.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sw_int.h"

#define SEQ_BLOCK 65536

typedef struct seq_record {
	uint64_t txn_reserved;
	uint64_t msg_reserved;
	uint64_t saf_seq;
} seq_record_t;

void sw_id_key(uint64_t id, uint8_t out[8])
{
	ps_be64_put(out, id);
}

uint64_t sw_id_from_key(const uint8_t key[8])
{
	return ps_be64_get(key);
}

size_t sw_idem_key(const char *participant, const char *request_id,
		   uint8_t *out, size_t cap)
{
	size_t p = strlen(participant), r = strlen(request_id);
	PS_ASSERT(p + 1 + r <= cap);
	memcpy(out, participant, p);
	out[p] = '\0';
	memcpy(out + p + 1, request_id, r);
	return p + 1 + r;
}

size_t sw_match_key(const char *endpoint, uint32_t stan, const char *transmit,
		    uint8_t *out)
{
	memset(out, 0, SW_NAME_MAX);
	memcpy(out, endpoint, strnlen(endpoint, SW_NAME_MAX - 1));
	ps_be32_put(out + SW_NAME_MAX, stan);
	memset(out + SW_NAME_MAX + 4, '0', 10);
	memcpy(out + SW_NAME_MAX + 4, transmit, strnlen(transmit, 10));
	return SW_NAME_MAX + 14;
}

static int log_mdb(const char *what, int rc)
{
	ps_log_t *l = ps_log_begin(PS_LOG_ERROR, "store_error");
	ps_log_str(l, "op", what);
	ps_log_str(l, "error", mdb_strerror(rc));
	ps_log_end(l);
	return PS_EIO;
}

static int open_dbs(sw_store_t *st, char *err, size_t err_cap)
{
	MDB_txn *txn;
	int rc = mdb_txn_begin(st->env, NULL, 0, &txn);
	if (rc == 0)
		rc = mdb_dbi_open(txn, "inflight", MDB_CREATE, &st->inflight);
	if (rc == 0)
		rc = mdb_dbi_open(txn, "active", MDB_CREATE, &st->active);
	if (rc == 0)
		rc = mdb_dbi_open(txn, "match", MDB_CREATE, &st->match);
	if (rc == 0)
		rc = mdb_dbi_open(txn, "idem", MDB_CREATE, &st->idem);
	if (rc == 0)
		rc = mdb_dbi_open(txn, "saf", MDB_CREATE, &st->saf);
	if (rc == 0)
		rc = mdb_dbi_open(txn, "meta", MDB_CREATE, &st->meta);
	seq_record_t seq = {0};
	if (rc == 0) {
		MDB_val k = {3, "seq"}, v;
		int g = mdb_get(txn, st->meta, &k, &v);
		if (g == 0 && v.mv_size == sizeof(seq))
			memcpy(&seq, v.mv_data, sizeof(seq));
		else if (g != MDB_NOTFOUND && g != 0)
			rc = g;
	}
	if (rc == 0) {
		rc = mdb_txn_commit(txn);
	} else {
		mdb_txn_abort(txn);
	}
	if (rc != 0) {
		snprintf(err, err_cap, "lmdb: %s", mdb_strerror(rc));
		return PS_EIO;
	}
	/* Skip whatever the last run may have used of its blocks. */
	st->txn_next = st->txn_reserved = seq.txn_reserved;
	st->msg_next = st->msg_reserved = seq.msg_reserved;
	st->saf_seq = seq.saf_seq;
	if (st->txn_next == 0)
		st->txn_next = st->txn_reserved = 1;
	if (st->msg_next == 0)
		st->msg_next = st->msg_reserved = 1;
	return 0;
}

int sw_store_open(sw_server_t *sw, char *err, size_t err_cap)
{
	sw_store_t *st = &sw->store;
	memset(st, 0, sizeof(*st));
	const sw_config_t *cfg = sw->cfg;
	route_error_t rerr = {0};
	unsigned flags = cfg->lmdb_sync ? 0 : MDB_NOSYNC;
	if (route_env_open_err(cfg->lmdb_dir, cfg->lmdb_map_bytes, flags,
			       &st->env, &rerr) != 0) {
		snprintf(err, err_cap, "lmdb.dir: %s: %s", cfg->lmdb_dir,
			 rerr.reason);
		return PS_EIO;
	}
	if (route_table_open(st->env, &st->routes, &rerr) != 0) {
		snprintf(err, err_cap, "lmdb: routes: %s", rerr.reason);
		return PS_EIO;
	}
	int rc = open_dbs(st, err, err_cap);
	if (rc != 0)
		return rc;
	st->dirty_cap = sw->table.pool.count;
	st->dirty = calloc(st->dirty_cap, sizeof(*st->dirty));
	st->release = calloc(st->dirty_cap, sizeof(*st->release));
	st->ops = calloc(SW_BATCH_OPS_MAX, sizeof(*st->ops));
	st->arena = malloc(SW_BATCH_ARENA_BYTES);
	if (st->dirty == NULL || st->release == NULL || st->ops == NULL ||
	    st->arena == NULL) {
		snprintf(err, err_cap, "out of memory for the commit batch");
		return PS_ENOMEM;
	}
	return 0;
}

void sw_store_close(sw_server_t *sw)
{
	sw_store_t *st = &sw->store;
	if (st->rtxn != NULL)
		mdb_txn_abort(st->rtxn);
	st->rtxn = NULL;
	if (st->env != NULL)
		mdb_env_close(st->env);
	st->env = NULL;
	free(st->dirty);
	free(st->release);
	free(st->ops);
	free(st->arena);
	st->dirty = NULL;
	st->release = NULL;
	st->ops = NULL;
	st->arena = NULL;
}

/* ---- reading ----------------------------------------------------------- */

MDB_txn *sw_store_read(sw_server_t *sw)
{
	sw_store_t *st = &sw->store;
	int rc;
	if (st->rtxn == NULL) {
		rc = route_txn_begin(st->env, NULL, MDB_RDONLY, &st->rtxn);
		if (rc != 0) {
			st->rtxn = NULL;
			return NULL;
		}
		return st->rtxn;
	}
	rc = mdb_txn_renew(st->rtxn);
	if (rc == MDB_MAP_RESIZED) {
		/* switchctl grew the map: adopt it while no txn is open. */
		mdb_txn_abort(st->rtxn);
		st->rtxn = NULL;
		mdb_env_set_mapsize(st->env, 0);
		return sw_store_read(sw);
	}
	if (rc != 0) {
		log_mdb("read_renew", rc);
		return NULL;
	}
	return st->rtxn;
}

void sw_store_read_done(sw_server_t *sw)
{
	if (sw->store.rtxn != NULL)
		mdb_txn_reset(sw->store.rtxn);
}

int sw_store_get_txn(sw_server_t *sw, MDB_dbi dbi, const void *key,
		     size_t klen, txn_t *out)
{
	MDB_txn *txn = sw_store_read(sw);
	if (txn == NULL)
		return PS_EIO;
	MDB_val k = {klen, (void *)key}, v;
	int rc = mdb_get(txn, dbi, &k, &v);
	int result = 0;
	if (rc == MDB_NOTFOUND)
		result = PS_ENOTFOUND;
	else if (rc != 0)
		result = log_mdb("get", rc);
	else if (v.mv_size != sizeof(txn_t))
		result = PS_EFORMAT;
	else
		memcpy(out, v.mv_data, sizeof(txn_t));
	sw_store_read_done(sw);
	if (result == 0 && out->format != TXN_FORMAT)
		result = PS_EFORMAT;
	return result;
}

int sw_store_idem_get(sw_server_t *sw, const char *participant,
		      const char *request_id, uint64_t *txn_id)
{
	uint8_t key[128];
	size_t klen = sw_idem_key(participant, request_id, key, sizeof(key));
	MDB_txn *txn = sw_store_read(sw);
	if (txn == NULL)
		return PS_EIO;
	MDB_val k = {klen, key}, v;
	int rc = mdb_get(txn, sw->store.idem, &k, &v);
	int result = 0;
	if (rc == MDB_NOTFOUND)
		result = PS_ENOTFOUND;
	else if (rc != 0 || v.mv_size != 8)
		result = PS_EIO;
	else
		*txn_id = sw_id_from_key(v.mv_data);
	sw_store_read_done(sw);
	return result;
}

int sw_store_match_get(sw_server_t *sw, const char *endpoint, uint32_t stan,
		       const char *transmit, uint64_t *txn_id, uint8_t *leg)
{
	uint8_t key[SW_NAME_MAX + 14];
	size_t klen = sw_match_key(endpoint, stan, transmit, key);
	MDB_txn *txn = sw_store_read(sw);
	if (txn == NULL)
		return PS_EIO;
	MDB_val k = {klen, key}, v;
	int rc = mdb_get(txn, sw->store.match, &k, &v);
	int result = 0;
	if (rc == MDB_NOTFOUND)
		result = PS_ENOTFOUND;
	else if (rc != 0 || v.mv_size != 9)
		result = PS_EIO;
	else {
		*txn_id = sw_id_from_key(v.mv_data);
		*leg = ((uint8_t *)v.mv_data)[8];
	}
	sw_store_read_done(sw);
	return result;
}

uint64_t sw_saf_entries(sw_server_t *sw)
{
	MDB_txn *txn = sw_store_read(sw);
	if (txn == NULL)
		return 0;
	MDB_stat stat;
	uint64_t n = mdb_stat(txn, sw->store.saf, &stat) == 0 ? stat.ms_entries : 0;
	sw_store_read_done(sw);
	return n;
}

/* ---- sequences --------------------------------------------------------- */

uint64_t sw_next_txn_id(sw_server_t *sw)
{
	sw_store_t *st = &sw->store;
	if (st->txn_next >= st->txn_reserved) {
		st->txn_reserved = st->txn_next + SEQ_BLOCK;
		st->seq_dirty = true;
	}
	return st->txn_next++;
}

uint64_t sw_next_msg_seq(sw_server_t *sw)
{
	sw_store_t *st = &sw->store;
	if (st->msg_next >= st->msg_reserved) {
		st->msg_reserved = st->msg_next + SEQ_BLOCK;
		st->seq_dirty = true;
	}
	return st->msg_next++;
}

/* ---- the batch --------------------------------------------------------- */

/*
 * A turn with something to commit keeps an idle handle active, so libuv
 * polls without blocking and the check handle commits in this same turn
 * even when the work came from a timer rather than from I/O.
 */
static void batch_idle_cb(uv_idle_t *idle)
{
	(void)idle;
}

static void batch_touch(sw_server_t *sw)
{
	if (!sw->batch_idle_on) {
		uv_idle_start(&sw->batch_idle, batch_idle_cb);
		sw->batch_idle_on = true;
	}
}

void sw_store_mark(sw_server_t *sw, sw_txn_t *st)
{
	if (st->dirty)
		return;
	batch_touch(sw);
	sw_store_t *s = &sw->store;
	PS_ASSERT(s->dirty_count < s->dirty_cap);
	st->dirty = true;
	s->dirty[s->dirty_count++] = st;
}

bool sw_store_busy(const sw_server_t *sw)
{
	const sw_store_t *s = &sw->store;
	return s->dirty_count > 0 || s->op_count > 0 || s->outbox_len > 0 ||
	       s->seq_dirty;
}

static int commit(sw_server_t *sw);

static int batch_op(sw_server_t *sw, uint8_t put, MDB_dbi dbi, const void *key,
		    size_t klen, const void *val, size_t vlen)
{
	sw_store_t *s = &sw->store;
	if (s->op_count == SW_BATCH_OPS_MAX ||
	    klen + vlen > SW_BATCH_ARENA_BYTES - s->arena_used) {
		/* A turn that produced this much is committed early: the
		 * same as ending the turn here. */
		int rc = commit(sw);
		if (rc != 0)
			return rc;
	}
	batch_touch(sw);
	sw_op_t *op = &s->ops[s->op_count++];
	op->put = put;
	op->dbi = dbi;
	op->key_off = s->arena_used;
	op->key_len = (uint32_t)klen;
	memcpy(s->arena + s->arena_used, key, klen);
	s->arena_used += (uint32_t)klen;
	op->val_off = s->arena_used;
	op->val_len = (uint32_t)vlen;
	if (vlen > 0)
		memcpy(s->arena + s->arena_used, val, vlen);
	s->arena_used += (uint32_t)vlen;
	return 0;
}

int sw_store_put(sw_server_t *sw, MDB_dbi dbi, const void *key, size_t klen,
		 const void *val, size_t vlen)
{
	return batch_op(sw, 1, dbi, key, klen, val, vlen);
}

int sw_store_del(sw_server_t *sw, MDB_dbi dbi, const void *key, size_t klen)
{
	return batch_op(sw, 0, dbi, key, klen, NULL, 0);
}

void sw_store_send(sw_server_t *sw, sw_wbuf_t *wb)
{
	sw_store_t *s = &sw->store;
	batch_touch(sw);
	wb->next = NULL;
	if (s->outbox_tail != NULL)
		s->outbox_tail->next = wb;
	else
		s->outbox_head = wb;
	s->outbox_tail = wb;
	s->outbox_len++;
}

static int apply(sw_server_t *sw, MDB_txn *txn)
{
	sw_store_t *s = &sw->store;
	int rc = 0;
	for (uint32_t i = 0; i < s->op_count && rc == 0; i++) {
		sw_op_t *op = &s->ops[i];
		MDB_val k = {op->key_len, s->arena + op->key_off};
		if (op->put) {
			MDB_val v = {op->val_len, s->arena + op->val_off};
			rc = mdb_put(txn, op->dbi, &k, &v, 0);
		} else {
			rc = mdb_del(txn, op->dbi, &k, NULL);
			if (rc == MDB_NOTFOUND)
				rc = 0;
		}
	}
	for (uint32_t i = 0; i < s->dirty_count && rc == 0; i++) {
		sw_txn_t *st = s->dirty[i];
		MDB_val v = {sizeof(txn_t), &st->t};
		if (sw_is_saf_kind(st->t.kind)) {
			if (st->saf_done)
				continue; /* acknowledged: its key is deleted */
			MDB_val k = {16, st->saf_key};
			rc = mdb_put(txn, s->saf, &k, &v, 0);
		} else {
			uint8_t key[8];
			sw_id_key(st->t.id, key);
			MDB_val k = {8, key};
			rc = mdb_put(txn, s->inflight, &k, &v, 0);
		}
	}
	if (rc == 0 && s->seq_dirty) {
		seq_record_t seq = {s->txn_reserved, s->msg_reserved, s->saf_seq};
		MDB_val k = {3, "seq"}, v = {sizeof(seq), &seq};
		rc = mdb_put(txn, s->meta, &k, &v, 0);
	}
	return rc;
}

static int try_commit(sw_server_t *sw)
{
	sw_store_t *s = &sw->store;
	MDB_txn *txn;
	int rc = route_txn_begin(s->env, NULL, 0, &txn);
	if (rc != 0)
		return MDB_PANIC;
	rc = apply(sw, txn);
	if (rc == 0)
		return mdb_txn_commit(txn);
	mdb_txn_abort(txn);
	return rc;
}

/* The write batches of one flush, one per target still open. */
#define FLUSH_TARGETS_MAX 64

typedef struct flush {
	sw_wbatch_t *open[FLUSH_TARGETS_MAX];
	uint32_t gen[FLUSH_TARGETS_MAX];
	uint32_t count;
} flush_t;

static void submit(sw_server_t *sw, sw_wbatch_t *b, uint32_t gen)
{
	int rc = b->conn != NULL ? sw_conn_write(b->conn, gen, b)
				 : sw_link_write(b->link, b);
	/* A target that is gone drops its messages: answers to a closed
	 * connection, or requests to a link that went down (their legs time
	 * out and are reversed). */
	if (rc != 0)
		sw_wbatch_free(sw, b);
}

static void submit_at(sw_server_t *sw, flush_t *f, uint32_t i)
{
	submit(sw, f->open[i], f->gen[i]);
	f->open[i] = f->open[--f->count];
	f->gen[i] = f->gen[f->count];
}

/* Adds wb to the open batch for its target, opening one if needed. */
static void batch_message(sw_server_t *sw, flush_t *f, sw_wbuf_t *wb)
{
	sw_conn_t *conn = wb->conn;
	sw_link_t *link = wb->link;
	if (conn != NULL && !sw_conn_alive(conn, wb->conn_gen)) {
		sw_wbuf_put(sw, wb);
		return;
	}
	if (conn == NULL && link == NULL)
		link = sw_endpoint_pick(wb->endpoint);
	if (conn == NULL && link == NULL) {
		sw_wbuf_put(sw, wb);
		return;
	}
	uint32_t i = 0;
	while (i < f->count && (f->open[i]->conn != conn || f->open[i]->link != link))
		i++;
	if (i == f->count) {
		if (f->count == FLUSH_TARGETS_MAX)
			submit_at(sw, f, 0);
		sw_wbatch_t *b = sw_wbatch_get(sw);
		if (b == NULL) { /* sized so it cannot happen; drop, never block */
			sw_wbuf_put(sw, wb);
			return;
		}
		b->conn = conn;
		b->link = link;
		i = f->count++;
		f->open[i] = b;
		f->gen[i] = wb->conn_gen;
	}
	sw_wbatch_add(f->open[i], wb);
	if (f->open[i]->count == SW_WBATCH_MAX)
		submit_at(sw, f, i);
}

static void flush_outbox(sw_server_t *sw)
{
	sw_store_t *s = &sw->store;
	sw_wbuf_t *wb = s->outbox_head;
	s->outbox_head = s->outbox_tail = NULL;
	s->outbox_len = 0;
	flush_t f = {.count = 0};
	while (wb != NULL) {
		sw_wbuf_t *next = wb->next;
		batch_message(sw, &f, wb);
		wb = next;
	}
	while (f.count > 0)
		submit_at(sw, &f, f.count - 1);
}

static void finish_batch(sw_server_t *sw)
{
	sw_store_t *s = &sw->store;
	for (uint32_t i = 0; i < s->dirty_count; i++)
		s->dirty[i]->dirty = false;
	s->dirty_count = 0;
	s->op_count = 0;
	s->arena_used = 0;
	s->seq_dirty = false;
}

/* Frees the transactions that only waited for their last change to be
 * durable. Only at the end of a turn: a commit forced mid-turn by a full
 * batch must not free a record its caller is still holding. */
static void release_done(sw_server_t *sw)
{
	sw_store_t *s = &sw->store;
	for (uint32_t i = 0; i < s->release_count; i++) {
		sw_txn_t *st = s->release[i];
		st->release_queued = false;
		if (st->release && st->pins == 0 && st->cur_leg < 0 && !st->dirty)
			sw_txn_free(sw, st);
	}
	s->release_count = 0;
}

void sw_store_release(sw_server_t *sw, sw_txn_t *st)
{
	sw_store_t *s = &sw->store;
	st->release = true;
	if (st->release_queued)
		return;
	PS_ASSERT(s->release_count < s->dirty_cap);
	st->release_queued = true;
	s->release[s->release_count++] = st;
	batch_touch(sw);
}

static int commit(sw_server_t *sw)
{
	sw_store_t *s = &sw->store;
	if (!sw_store_busy(sw))
		return 0;
	uint64_t t0 = ps_mono_ns();
	uint32_t ops = s->op_count + s->dirty_count;
	int rc = try_commit(sw);
	if (rc == MDB_MAP_FULL) {
		/* Grow the map and try once more; nothing else is open. */
		MDB_envinfo info;
		mdb_env_info(s->env, &info);
		mdb_env_set_mapsize(s->env, info.me_mapsize * 2);
		ps_logf(PS_LOG_WARN, "store_grow", "map full; grown to %zu bytes",
			info.me_mapsize * 2);
		rc = try_commit(sw);
	}
	if (rc != 0) {
		/* Nothing has been sent for this batch, so holding it and
		 * retrying next turn loses nothing; intake refuses new work
		 * meanwhile (sw_flow_request checks commit_failures). */
		s->commit_failures++;
		sw->metrics.commit_failures++;
		log_mdb("commit", rc);
		return PS_EIO;
	}
	s->commit_failures = 0;
	sw->metrics.commits++;
	sw->metrics.batch_ops += ops;
	sw_metrics_commit(&sw->metrics, ps_mono_ns() - t0);
	finish_batch(sw);
	flush_outbox(sw);
	return 0;
}

int sw_store_commit(sw_server_t *sw)
{
	int rc = commit(sw);
	if (rc == 0) {
		release_done(sw);
		if (sw->batch_idle_on) {
			uv_idle_stop(&sw->batch_idle);
			sw->batch_idle_on = false;
		}
	}
	return rc;
}

/* ---- write buffers ------------------------------------------------------ */

sw_wbuf_t *sw_wbuf_get(sw_server_t *sw)
{
	sw_wbuf_t *wb = ps_pool_get(&sw->wbufs);
	if (wb != NULL)
		wb->sw = sw;
	return wb;
}

void sw_wbuf_put(sw_server_t *sw, sw_wbuf_t *wb)
{
	ps_pool_put(&sw->wbufs, wb);
}

sw_wbatch_t *sw_wbatch_get(sw_server_t *sw)
{
	sw_wbatch_t *b = ps_pool_get(&sw->wbatches);
	if (b != NULL)
		b->sw = sw;
	return b;
}

void sw_wbatch_add(sw_wbatch_t *b, sw_wbuf_t *wb)
{
	PS_ASSERT(b->count < SW_WBATCH_MAX);
	b->wb[b->count] = wb;
	b->buf[b->count] = uv_buf_init((char *)wb->data, (unsigned)wb->len);
	b->count++;
}

void sw_wbatch_free(sw_server_t *sw, sw_wbatch_t *b)
{
	for (uint32_t i = 0; i < b->count; i++)
		sw_wbuf_put(sw, b->wb[i]);
	ps_pool_put(&sw->wbatches, b);
}

int sw_wbuf_pack(sw_wbuf_t *wb, const iso8583_framing_t *framing,
		 const uint8_t *header_bytes, const iso8583_msg_t *msg,
		 iso8583_error_t *err)
{
	size_t prefix = iso8583_frame_length_bytes(framing);
	size_t header = framing->header_bytes;
	size_t len = 0;
	int rc = iso8583_pack(msg, wb->data + prefix + header,
			      sizeof(wb->data) - prefix - header, &len, err);
	if (rc != 0)
		return rc;
	memcpy(wb->data + prefix, header_bytes, header);
	rc = iso8583_frame_write_length(framing, header + len, wb->data);
	if (rc != 0)
		return rc;
	wb->len = prefix + header + len;
	return 0;
}
