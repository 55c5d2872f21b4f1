/*
 * store.c: the switch's LMDB environment, its read snapshot, and the
 * batch of one loop turn with its group commit (store.h).
 */
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "record.h"
#include "routing.h"

_Static_assert(SW_STORE_DBS_MAX == ROUTE_ENV_DBS_MAX &&
		       SW_STORE_READERS_MAX == ROUTE_ENV_READERS_MAX,
	       "switchd and switchctl open one environment: same settings");

#define SEQ_BLOCK 65536
#define DIR_MODE 0770
#define FILE_MODE 0660

typedef struct seq_record {
	uint64_t txn_reserved;
	uint64_t msg_reserved;
	uint64_t saf_seq;
} seq_record_t;

static int log_mdb(const char *what, int rc)
{
	ps_log_t *l = ps_log_begin(PS_LOG_ERROR, "store_error");
	ps_log_str(l, "op", what);
	ps_log_str(l, "error", mdb_strerror(rc));
	ps_log_end(l);
	return PS_EIO;
}

/* ---- keys --------------------------------------------------------------- */

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
		    uint8_t out[SW_MATCH_KEY_BYTES])
{
	memset(out, 0, SW_NAME_MAX);
	memcpy(out, endpoint, strnlen(endpoint, SW_NAME_MAX - 1));
	ps_be32_put(out + SW_NAME_MAX, stan);
	memset(out + SW_NAME_MAX + 4, '0', 10);
	memcpy(out + SW_NAME_MAX + 4, transmit, strnlen(transmit, 10));
	return SW_MATCH_KEY_BYTES;
}

/* ---- opening ---------------------------------------------------------------- */

static int open_env(sw_store_t *st, const sw_config_t *cfg, char *err,
		    size_t err_cap)
{
	if (ps_mkdir_p(cfg->lmdb_dir, DIR_MODE) != 0) {
		snprintf(err, err_cap, "lmdb.dir: cannot create %s: %s",
			 cfg->lmdb_dir, strerror(errno));
		return PS_EIO;
	}
	/* One switch per store: a second one would run recovery over the
	 * first one's transactions in flight (reversing what it is about to
	 * answer). The lock dies with its process, kill -9 included; readers
	 * (switchctl) never take it. */
	char lock_path[PATH_MAX];
	int n = snprintf(lock_path, sizeof(lock_path), "%s/switchd.lock",
			 cfg->lmdb_dir);
	if (n < 0 || (size_t)n >= sizeof(lock_path)) {
		snprintf(err, err_cap, "lmdb.dir: path too long");
		return PS_EINVAL;
	}
	st->lock_fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, FILE_MODE);
	if (st->lock_fd < 0) {
		snprintf(err, err_cap, "lmdb.dir: cannot open %s: %s", lock_path,
			 strerror(errno));
		return PS_EIO;
	}
	st->lock_open = true;
	if (flock(st->lock_fd, LOCK_EX | LOCK_NB) != 0) {
		int e = errno;
		if (e != EWOULDBLOCK) {
			snprintf(err, err_cap, "lmdb.dir: cannot lock %s: %s",
				 lock_path, strerror(e));
			return PS_EIO;
		}
		snprintf(err, err_cap, "lmdb.dir: %s is in use by another switchd "
			 "(it holds %s): one switch per store",
			 cfg->lmdb_dir, lock_path);
		return PS_ESTATE;
	}
	int rc = mdb_env_create(&st->env);
	if (rc == 0)
		rc = mdb_env_set_maxdbs(st->env, SW_STORE_DBS_MAX);
	if (rc == 0)
		rc = mdb_env_set_maxreaders(st->env, SW_STORE_READERS_MAX);
	unsigned flags = MDB_NOTLS | (cfg->lmdb_sync ? 0 : MDB_NOSYNC);
	if (rc == 0)
		rc = mdb_env_open(st->env, cfg->lmdb_dir, flags, FILE_MODE);
	/* The map is the larger of the configured size and the recorded one
	 * (switchctl may have grown it); set after opening, it is recorded
	 * at the next commit. */
	MDB_envinfo info;
	if (rc == 0)
		rc = mdb_env_info(st->env, &info);
	if (rc == 0 && cfg->lmdb_map_bytes > info.me_mapsize)
		rc = mdb_env_set_mapsize(st->env, cfg->lmdb_map_bytes);
	if (rc != 0) {
		snprintf(err, err_cap, "lmdb.dir: %s: %s", cfg->lmdb_dir,
			 mdb_strerror(rc));
		return PS_EIO;
	}
	/* Reader slots left by dead processes (a kill -9) are freed. */
	int dead;
	(void)mdb_reader_check(st->env, &dead);
	return 0;
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
	if (rc == 0)
		rc = mdb_dbi_open(txn, "exceptions", MDB_CREATE, &st->exceptions);
	if (rc == 0)
		rc = mdb_dbi_open(txn, "exceptions_resolved", MDB_CREATE,
				  &st->exceptions_resolved);
	if (rc == 0)
		rc = mdb_dbi_open(txn, "windows", MDB_CREATE, &st->windows);
	if (rc == 0)
		rc = mdb_dbi_open(txn, "obligations", MDB_CREATE, &st->obligations);
	seq_record_t seq = {0};
	if (rc == 0) {
		MDB_val k = {3, "seq"}, v;
		int g = mdb_get(txn, st->meta, &k, &v);
		if (g == 0 && v.mv_size == sizeof(seq))
			memcpy(&seq, v.mv_data, sizeof(seq));
		else if (g != MDB_NOTFOUND && g != 0)
			rc = g;
	}
	if (rc == 0)
		rc = mdb_txn_commit(txn);
	else
		mdb_txn_abort(txn);
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

int sw_store_open(sw_store_t *st, sw_ctx_t *ctx, char *err, size_t err_cap)
{
	memset(st, 0, sizeof(*st));
	st->ctx = ctx;
	st->faults.put_at = -1;
	int rc = open_env(st, ctx->cfg, err, err_cap);
	if (rc == 0)
		rc = open_dbs(st, err, err_cap);
	if (rc != 0)
		return rc;
	st->ops = calloc(SW_BATCH_OPS_MAX, sizeof(*st->ops));
	st->arena = malloc(SW_BATCH_ARENA_BYTES);
	if (st->ops == NULL || st->arena == NULL) {
		snprintf(err, err_cap, "out of memory for the commit batch");
		return PS_ENOMEM;
	}
	return 0;
}

void sw_store_close(sw_store_t *st)
{
	if (st->rtxn != NULL)
		mdb_txn_abort(st->rtxn);
	st->rtxn = NULL;
	if (st->env != NULL)
		mdb_env_close(st->env);
	st->env = NULL;
	if (st->lock_open)
		close(st->lock_fd); /* and with it the lock */
	st->lock_open = false;
	free(st->ops);
	free(st->arena);
	st->ops = NULL;
	st->arena = NULL;
}

/* ---- reading ------------------------------------------------------------- */

/* Another process (switchctl) grew the map: adopt it while no
 * transaction of ours is open. */
static void adopt_map_size(sw_store_t *st)
{
	if (st->rtxn != NULL)
		mdb_txn_abort(st->rtxn);
	st->rtxn = NULL;
	mdb_env_set_mapsize(st->env, 0);
}

MDB_txn *sw_store_read(sw_store_t *st)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		int rc = st->rtxn == NULL
				 ? mdb_txn_begin(st->env, NULL, MDB_RDONLY, &st->rtxn)
				 : mdb_txn_renew(st->rtxn);
		if (rc == 0)
			return st->rtxn;
		if (rc == MDB_MAP_RESIZED) {
			adopt_map_size(st);
			continue;
		}
		if (st->rtxn != NULL && rc != 0) {
			mdb_txn_abort(st->rtxn);
		}
		st->rtxn = NULL;
		log_mdb("read_begin", rc);
		return NULL;
	}
	return NULL;
}

void sw_store_read_done(sw_store_t *st)
{
	if (st->rtxn != NULL)
		mdb_txn_reset(st->rtxn);
}

int sw_store_get(sw_store_t *st, MDB_dbi dbi, const void *key, size_t klen,
		 void *out, size_t cap, size_t *len)
{
	MDB_txn *txn = sw_store_read(st);
	if (txn == NULL)
		return PS_EIO;
	MDB_val k = {klen, (void *)key}, v;
	int rc = mdb_get(txn, dbi, &k, &v);
	int result = 0;
	if (rc == MDB_NOTFOUND)
		result = PS_ENOTFOUND;
	else if (rc != 0)
		result = log_mdb("get", rc);
	else if (v.mv_size > cap)
		result = PS_ENOSPC;
	else {
		memcpy(out, v.mv_data, v.mv_size);
		*len = v.mv_size;
	}
	sw_store_read_done(st);
	return result;
}

int sw_store_decode_txn(const void *val, size_t len, txn_t *out)
{
	int rc = txn_record_decode(val, len, out);
	if (rc != 0)
		ps_logf(PS_LOG_ERROR, "store_record", "a stored transaction "
			"record of %zu bytes cannot be read (version %d)", len,
			txn_record_version(val, len));
	return rc;
}

int sw_store_get_txn(sw_store_t *st, uint64_t id, txn_t *out)
{
	uint8_t key[8];
	sw_id_key(id, key);
	MDB_txn *txn = sw_store_read(st);
	if (txn == NULL)
		return PS_EIO;
	MDB_val k = {sizeof(key), key}, v;
	int rc = mdb_get(txn, st->inflight, &k, &v);
	int result;
	if (rc == MDB_NOTFOUND)
		result = PS_ENOTFOUND;
	else if (rc != 0)
		result = log_mdb("get", rc);
	else
		result = sw_store_decode_txn(v.mv_data, v.mv_size, out);
	sw_store_read_done(st);
	return result;
}

int sw_store_idem_get(sw_store_t *st, const char *participant,
		      const char *request_id, uint64_t *txn_id)
{
	uint8_t key[SW_KEY_BYTES_MAX], val[8];
	size_t klen = sw_idem_key(participant, request_id, key, sizeof(key));
	size_t len = 0;
	int rc = sw_store_get(st, st->idem, key, klen, val, sizeof(val), &len);
	if (rc == PS_ENOSPC || (rc == 0 && len != 8))
		return PS_EIO;
	if (rc == 0)
		*txn_id = sw_id_from_key(val);
	return rc;
}

int sw_store_match_get(sw_store_t *st, const char *endpoint, uint32_t stan,
		       const char *transmit, uint64_t *txn_id, uint8_t *leg)
{
	uint8_t key[SW_MATCH_KEY_BYTES], val[9];
	size_t klen = sw_match_key(endpoint, stan, transmit, key);
	size_t len = 0;
	int rc = sw_store_get(st, st->match, key, klen, val, sizeof(val), &len);
	if (rc == PS_ENOSPC || (rc == 0 && len != 9))
		return PS_EIO;
	if (rc == 0) {
		*txn_id = sw_id_from_key(val);
		*leg = val[8];
	}
	return rc;
}

static uint64_t entries(sw_store_t *st, MDB_dbi dbi)
{
	MDB_txn *txn = sw_store_read(st);
	if (txn == NULL)
		return 0;
	MDB_stat stat;
	uint64_t n = mdb_stat(txn, dbi, &stat) == 0 ? stat.ms_entries : 0;
	sw_store_read_done(st);
	return n;
}

uint64_t sw_store_saf_entries(sw_store_t *st)
{
	return entries(st, st->saf);
}

uint64_t sw_store_exceptions_open(sw_store_t *st)
{
	return entries(st, st->exceptions);
}

/* ---- sequences -------------------------------------------------------------- */

uint64_t sw_store_next_txn_id(sw_store_t *st)
{
	if (st->txn_next >= st->txn_reserved) {
		st->txn_reserved = st->txn_next + SEQ_BLOCK;
		st->seq_dirty = true;
	}
	return st->txn_next++;
}

uint64_t sw_store_next_msg_seq(sw_store_t *st)
{
	if (st->msg_next >= st->msg_reserved) {
		st->msg_reserved = st->msg_next + SEQ_BLOCK;
		st->seq_dirty = true;
	}
	return st->msg_next++;
}

uint64_t sw_store_next_saf_seq(sw_store_t *st)
{
	st->seq_dirty = true;
	return ++st->saf_seq;
}

/* ---- the batch ---------------------------------------------------------------- */

bool sw_store_has_room(const sw_store_t *st, uint32_t ops, size_t bytes)
{
	return ops <= SW_BATCH_OPS_MAX - st->op_count &&
	       bytes <= SW_BATCH_ARENA_BYTES - st->arena_used;
}

static void batch_op(sw_store_t *st, uint8_t put, MDB_dbi dbi, const void *key,
		     size_t klen, const void *val, size_t vlen)
{
	/* The caller made room for its event (sw_turn_reserve). */
	PS_ASSERT(sw_store_has_room(st, 1, klen + vlen));
	sw_op_t *op = &st->ops[st->op_count++];
	op->put = put;
	op->dbi = dbi;
	op->key_off = st->arena_used;
	op->key_len = (uint32_t)klen;
	memcpy(st->arena + st->arena_used, key, klen);
	st->arena_used += (uint32_t)klen;
	op->val_off = st->arena_used;
	op->val_len = (uint32_t)vlen;
	if (vlen > 0)
		memcpy(st->arena + st->arena_used, val, vlen);
	st->arena_used += (uint32_t)vlen;
}

void sw_store_put(sw_store_t *st, MDB_dbi dbi, const void *key, size_t klen,
		  const void *val, size_t vlen)
{
	batch_op(st, 1, dbi, key, klen, val, vlen);
}

void sw_store_del(sw_store_t *st, MDB_dbi dbi, const void *key, size_t klen)
{
	batch_op(st, 0, dbi, key, klen, NULL, 0);
}

void sw_store_put_txn(sw_store_t *st, MDB_dbi dbi, const uint8_t *key,
		      size_t klen, const txn_t *t)
{
	/* Encoded straight into the arena: the record is written once. */
	PS_ASSERT(sw_store_has_room(st, 1, klen + TXN_RECORD_BYTES_MAX));
	uint8_t *val = st->arena + st->arena_used + klen;
	size_t vlen = 0;
	int rc = txn_record_encode(t, val, TXN_RECORD_BYTES_MAX, &vlen);
	PS_ASSERT(rc == 0);
	sw_op_t *op = &st->ops[st->op_count++];
	op->put = 1;
	op->dbi = dbi;
	op->key_off = st->arena_used;
	op->key_len = (uint32_t)klen;
	memcpy(st->arena + st->arena_used, key, klen);
	op->val_off = st->arena_used + (uint32_t)klen;
	op->val_len = (uint32_t)vlen;
	st->arena_used += (uint32_t)(klen + vlen);
}

bool sw_store_busy(const sw_store_t *st)
{
	return st->op_count > 0 || st->seq_dirty;
}

/* The put fault, once: the write of that operation fails as EIO. */
static bool put_fault(sw_store_t *st, uint32_t i)
{
	if (st->faults.put_at < 0 || (uint32_t)st->faults.put_at != i)
		return false;
	st->faults.put_at = -1;
	return true;
}

static int apply(sw_store_t *st, MDB_txn *txn)
{
	int rc = 0;
	for (uint32_t i = 0; i < st->op_count && rc == 0; i++) {
		sw_op_t *op = &st->ops[i];
		if (put_fault(st, i)) {
			rc = EIO;
			break;
		}
		MDB_val k = {op->key_len, st->arena + op->key_off};
		if (op->put) {
			MDB_val v = {op->val_len, st->arena + op->val_off};
			rc = mdb_put(txn, op->dbi, &k, &v, 0);
		} else {
			rc = mdb_del(txn, op->dbi, &k, NULL);
			if (rc == MDB_NOTFOUND)
				rc = 0;
		}
	}
	if (rc == 0 && st->seq_dirty) {
		seq_record_t seq = {st->txn_reserved, st->msg_reserved, st->saf_seq};
		MDB_val k = {3, "seq"}, v = {sizeof(seq), &seq};
		rc = mdb_put(txn, st->meta, &k, &v, 0);
	}
	return rc;
}

/* The commit fault: true when this commit must fail. */
static bool commit_fault(sw_store_t *st)
{
	sw_store_faults_t *f = &st->faults;
	if (f->commit_count == 0)
		return false;
	if (f->commit_after > 0) {
		f->commit_after--;
		return false;
	}
	f->commit_count--;
	return true;
}

static int try_commit(sw_store_t *st)
{
	if (st->faults.map_full)
		return MDB_MAP_FULL;
	if (commit_fault(st))
		return EIO;
	MDB_txn *txn;
	int rc = mdb_txn_begin(st->env, NULL, 0, &txn);
	if (rc == MDB_MAP_RESIZED) {
		adopt_map_size(st);
		rc = mdb_txn_begin(st->env, NULL, 0, &txn);
	}
	if (rc != 0)
		return rc;
	rc = apply(st, txn);
	if (rc == 0)
		return mdb_txn_commit(txn);
	mdb_txn_abort(txn);
	return rc;
}

static void batch_clear(sw_store_t *st)
{
	st->op_count = 0;
	st->arena_used = 0;
	st->seq_dirty = false;
}

int sw_store_commit(sw_store_t *st)
{
	if (!sw_store_busy(st))
		return 0;
	sw_metrics_t *m = &st->ctx->metrics;
	uint64_t t0 = ps_mono_ns();
	uint32_t ops = st->op_count;
	int rc = try_commit(st);
	if (rc == MDB_MAP_FULL && !st->faults.map_full) {
		/* Grow the map and try once more; nothing else is open. */
		MDB_envinfo info;
		mdb_env_info(st->env, &info);
		if (st->rtxn != NULL)
			mdb_txn_abort(st->rtxn);
		st->rtxn = NULL;
		mdb_env_set_mapsize(st->env, info.me_mapsize * 2);
		ps_logf(PS_LOG_WARN, "store_grow", "map full; grown to %zu bytes",
			info.me_mapsize * 2);
		rc = try_commit(st);
	}
	if (rc != 0) {
		/* Nothing of this batch has been sent, so holding it and
		 * retrying loses nothing (turn.h). */
		st->commit_failures++;
		m->commit_failures++;
		log_mdb("commit", rc);
		return PS_EIO;
	}
	st->commit_failures = 0;
	m->commits++;
	m->batch_ops += ops;
	sw_metrics_commit(m, ps_mono_ns() - t0);
	batch_clear(st);
	return 0;
}

void sw_store_set_faults(sw_store_t *st, const sw_store_faults_t *faults)
{
	st->faults = *faults;
	ps_log_t *l = ps_log_begin(PS_LOG_WARN, "store_faults");
	ps_log_uint(l, "commit_after", faults->commit_after);
	ps_log_uint(l, "commit_count", faults->commit_count);
	ps_log_int(l, "put_at", faults->put_at);
	ps_log_bool(l, "map_full", faults->map_full);
	ps_log_end(l);
}
