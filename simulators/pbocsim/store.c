/*
 * store.c: the batch records on LMDB (store.h): one environment, three
 * databases, one write transaction per pboc_store_put, a read
 * transaction per lookup (MDB_NOTLS: they belong to the handle).
 */
#include "store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <lmdb.h>

#include "core.h"
#include "ledger.h"

#define STORE_FORMAT 1u
#define RECORD_HEAD offsetof(pboc_batch_t, positions)

struct pboc_store {
	MDB_env *env;
	MDB_dbi batches;
	MDB_dbi queue;
	MDB_dbi meta;
};

const char *pboc_batch_status_name(int status)
{
	switch (status) {
	case PBOC_BATCH_QUEUED: return "queued";
	case PBOC_BATCH_POSTED: return "posted";
	case PBOC_BATCH_REJECTED: return "rejected";
	}
	return "unknown";
}

/* LMDB's codes in ours; what PS_EIO hides is logged. */
static int map_rc(int rc)
{
	switch (rc) {
	case MDB_SUCCESS: return 0;
	case MDB_NOTFOUND: return PS_ENOTFOUND;
	case MDB_MAP_FULL: return PS_ELIMIT;
	case MDB_INVALID:
	case MDB_VERSION_MISMATCH:
	case MDB_INCOMPATIBLE: return PS_EFORMAT;
	case ENOMEM: return PS_ENOMEM;
	}
	ps_logf(PS_LOG_ERROR, "store_error", "%s (%d)", mdb_strerror(rc), rc);
	return PS_EIO;
}

/* ---- opening ---------------------------------------------------------------- */

static unsigned int env_flags(uint32_t durability, bool read_only)
{
	unsigned int flags = MDB_NOTLS;
	if (read_only)
		flags |= MDB_RDONLY;
	if (durability == LEDGER_DURABILITY_NOMETASYNC)
		flags |= MDB_NOMETASYNC;
	else if (durability == LEDGER_DURABILITY_NOSYNC)
		flags |= MDB_NOSYNC;
	return flags;
}

static int open_dbs(pboc_store_t *s, bool read_only)
{
	MDB_txn *txn;
	int rc = mdb_txn_begin(s->env, NULL, read_only ? MDB_RDONLY : 0, &txn);
	if (rc != 0)
		return map_rc(rc);
	unsigned int flags = read_only ? 0 : MDB_CREATE;
	if ((rc = mdb_dbi_open(txn, "batches", flags, &s->batches)) == 0 &&
	    (rc = mdb_dbi_open(txn, "queue", flags, &s->queue)) == 0)
		rc = mdb_dbi_open(txn, "meta", flags, &s->meta);
	if (rc != 0) {
		mdb_txn_abort(txn);
		/* Read-only over a store never written: nothing is there. */
		return rc == MDB_NOTFOUND ? PS_ENOTFOUND : map_rc(rc);
	}
	return map_rc(mdb_txn_commit(txn));
}

int pboc_store_open(pboc_store_t **out, const char *dir, uint32_t durability,
		    bool read_only)
{
	*out = NULL;
	char data[1024];
	struct stat st;
	snprintf(data, sizeof(data), "%s/data.mdb", dir);
	if (read_only && stat(data, &st) != 0)
		return PS_ENOTFOUND;
	if (!read_only && mkdir(dir, 0700) != 0 && errno != EEXIST)
		return PS_EIO;
	pboc_store_t *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return PS_ENOMEM;
	int rc = map_rc(mdb_env_create(&s->env));
	if (rc == 0) {
		mdb_env_set_maxdbs(s->env, 3);
		mdb_env_set_mapsize(s->env, PBOC_STORE_MAP_BYTES);
		rc = map_rc(mdb_env_open(s->env, dir,
					 env_flags(durability, read_only), 0600));
	}
	if (rc == 0) {
		int stale = 0;
		mdb_reader_check(s->env, &stale);
		rc = open_dbs(s, read_only);
	}
	if (rc != 0) {
		pboc_store_close(s);
		return rc;
	}
	*out = s;
	return 0;
}

void pboc_store_close(pboc_store_t *s)
{
	if (s == NULL)
		return;
	if (s->env != NULL)
		mdb_env_close(s->env);
	free(s);
}

/* ---- records ------------------------------------------------------------------ */

static size_t record_bytes(const pboc_batch_t *b)
{
	return RECORD_HEAD + (size_t)b->count * sizeof(b->positions[0]);
}

/* A stored value into *out, checked: a record of another format or size
 * is another program's (or a corrupt one). */
static int record_read(const MDB_val *v, pboc_batch_t *out)
{
	if (v->mv_size < RECORD_HEAD || v->mv_size > sizeof(*out))
		return PS_EFORMAT;
	memcpy(out, v->mv_data, v->mv_size);
	if (out->format != STORE_FORMAT || out->count > PBOC_POSITIONS_MAX ||
	    record_bytes(out) != v->mv_size)
		return PS_EFORMAT;
	out->id[sizeof(out->id) - 1] = '\0';
	out->submitter[sizeof(out->submitter) - 1] = '\0';
	out->reason[sizeof(out->reason) - 1] = '\0';
	return 0;
}

static int get_in(MDB_txn *txn, MDB_dbi dbi, const char *id, pboc_batch_t *out)
{
	MDB_val k = {strlen(id), (void *)id}, v;
	int rc = mdb_get(txn, dbi, &k, &v);
	return rc != 0 ? map_rc(rc) : record_read(&v, out);
}

int pboc_store_get(pboc_store_t *s, const char *id, pboc_batch_t *out)
{
	if (id[0] == '\0' || strlen(id) > PBOC_BATCH_ID_MAX)
		return PS_ENOTFOUND;
	MDB_txn *txn;
	int rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn);
	if (rc != 0)
		return map_rc(rc);
	rc = get_in(txn, s->batches, id, out);
	mdb_txn_abort(txn);
	return rc;
}

/* ---- writing --------------------------------------------------------------------- */

/* The next arrival sequence, written back at once (in txn). */
static int next_seq(MDB_txn *txn, MDB_dbi meta, uint64_t *seq)
{
	MDB_val k = {3, "seq"}, v;
	uint64_t last = 0;
	int rc = mdb_get(txn, meta, &k, &v);
	if (rc == 0 && v.mv_size == sizeof(last))
		memcpy(&last, v.mv_data, sizeof(last));
	else if (rc != 0 && rc != MDB_NOTFOUND)
		return map_rc(rc);
	*seq = last + 1;
	v.mv_size = sizeof(*seq);
	v.mv_data = seq;
	return map_rc(mdb_put(txn, meta, &k, &v, 0));
}

static int queue_set(MDB_txn *txn, MDB_dbi queue, uint64_t seq,
		     const char *id)
{
	uint8_t key[8];
	ps_be64_put(key, seq);
	MDB_val k = {sizeof(key), key};
	if (id == NULL) {
		int rc = mdb_del(txn, queue, &k, NULL);
		return rc == MDB_NOTFOUND ? 0 : map_rc(rc);
	}
	MDB_val v = {strlen(id), (void *)id};
	return map_rc(mdb_put(txn, queue, &k, &v, 0));
}

static int put_in(pboc_store_t *s, MDB_txn *txn, pboc_batch_t *b)
{
	pboc_batch_t prev;
	int rc = get_in(txn, s->batches, b->id, &prev);
	if (rc != 0 && rc != PS_ENOTFOUND)
		return rc;
	/* The id's older place in the queue, if it had one, goes. */
	if (rc == 0 && prev.status == PBOC_BATCH_QUEUED &&
	    (rc = queue_set(txn, s->queue, prev.seq, NULL)) != 0)
		return rc;
	if (b->seq == 0 && (rc = next_seq(txn, s->meta, &b->seq)) != 0)
		return rc;
	rc = queue_set(txn, s->queue, b->seq,
		       b->status == PBOC_BATCH_QUEUED ? b->id : NULL);
	if (rc != 0)
		return rc;
	b->format = STORE_FORMAT;
	MDB_val k = {strlen(b->id), b->id}, v = {record_bytes(b), b};
	return map_rc(mdb_put(txn, s->batches, &k, &v, 0));
}

int pboc_store_put(pboc_store_t *s, pboc_batch_t *b)
{
	PS_ASSERT(b->id[0] != '\0' && strlen(b->id) <= PBOC_BATCH_ID_MAX);
	PS_ASSERT(b->count <= PBOC_POSITIONS_MAX);
	uint64_t seq_given = b->seq;
	MDB_txn *txn;
	int rc = mdb_txn_begin(s->env, NULL, 0, &txn);
	if (rc != 0)
		return map_rc(rc);
	rc = put_in(s, txn, b);
	if (rc == 0)
		rc = map_rc(mdb_txn_commit(txn));
	else
		mdb_txn_abort(txn);
	if (rc != 0)
		b->seq = seq_given; /* nothing was written */
	return rc;
}

/* ---- reading in order ------------------------------------------------------------- */

int pboc_store_queue_next(pboc_store_t *s, uint64_t after_seq,
			  pboc_batch_t *out)
{
	MDB_txn *txn;
	MDB_cursor *cur;
	int rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn);
	if (rc != 0)
		return map_rc(rc);
	rc = mdb_cursor_open(txn, s->queue, &cur);
	if (rc == 0) {
		uint8_t key[8];
		ps_be64_put(key, after_seq + 1);
		MDB_val k = {sizeof(key), key}, v;
		rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
		char id[PBOC_BATCH_ID_MAX + 1];
		if (rc == 0 && (v.mv_size == 0 || v.mv_size > PBOC_BATCH_ID_MAX))
			rc = MDB_CORRUPTED;
		if (rc == 0) {
			memcpy(id, v.mv_data, v.mv_size);
			id[v.mv_size] = '\0';
		}
		mdb_cursor_close(cur);
		rc = rc != 0 ? map_rc(rc) : get_in(txn, s->batches, id, out);
	} else {
		rc = map_rc(rc);
	}
	mdb_txn_abort(txn);
	return rc;
}

int pboc_store_queued(pboc_store_t *s, uint32_t *count)
{
	MDB_txn *txn;
	int rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn);
	if (rc != 0)
		return map_rc(rc);
	MDB_stat st;
	rc = mdb_stat(txn, s->queue, &st);
	mdb_txn_abort(txn);
	if (rc == 0)
		*count = (uint32_t)st.ms_entries;
	return map_rc(rc);
}

int pboc_store_scan(pboc_store_t *s, const char *after, pboc_batch_t *out)
{
	MDB_txn *txn;
	MDB_cursor *cur;
	int rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn);
	if (rc != 0)
		return map_rc(rc);
	rc = mdb_cursor_open(txn, s->batches, &cur);
	if (rc == 0) {
		MDB_val k = {strlen(after), (void *)after}, v;
		rc = mdb_cursor_get(cur, &k, &v,
				    after[0] == '\0' ? MDB_FIRST : MDB_SET_RANGE);
		/* SET_RANGE lands on after itself when it is there. */
		if (rc == 0 && after[0] != '\0' && k.mv_size == strlen(after) &&
		    memcmp(k.mv_data, after, k.mv_size) == 0)
			rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
		rc = rc != 0 ? map_rc(rc) : record_read(&v, out);
		mdb_cursor_close(cur);
	} else {
		rc = map_rc(rc);
	}
	mdb_txn_abort(txn);
	return rc;
}
