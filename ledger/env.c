/*
 * env.c: opening and closing a ledger, its LMDB environment and databases,
 * the durability modes, read transactions, and the write-transaction
 * driver that grows the map when a batch does not fit.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ledger_int.h"

static const char *const db_names[] = {
	"ledger.accounts", "ledger.account_info", "ledger.transfers",
	"ledger.transfer_ids", "ledger.pending", "ledger.expiry",
	"ledger.meta",
};

void ledger_options_init(ledger_options_t *options)
{
	PS_ASSERT(options != NULL);
	memset(options, 0, sizeof(*options));
	options->durability = LEDGER_DURABILITY_SYNC;
	options->batch_max = LEDGER_BATCH_MAX;
	options->map_bytes = LEDGER_MAP_BYTES_DEFAULT;
	options->map_bytes_max = LEDGER_MAP_BYTES_MAX_DEFAULT;
}

int ledger_map_mdb(int rc)
{
	switch (rc) {
	case MDB_SUCCESS: return 0;
	case MDB_NOTFOUND: return PS_ENOTFOUND;
	case MDB_KEYEXIST: return PS_EEXIST;
	case MDB_MAP_FULL: return LEDGER_EMAPFULL;
	case MDB_READERS_FULL: return LEDGER_EREADERS;
	case MDB_VERSION_MISMATCH:
	case MDB_INVALID: return LEDGER_EVERSION;
	case MDB_CORRUPTED:
	case MDB_PAGE_NOTFOUND:
	case MDB_BAD_VALSIZE: return LEDGER_ECORRUPT;
	case ENOMEM: return PS_ENOMEM;
	}
	/* PS_EIO says little: log what LMDB (or the system) said. */
	ps_logf(PS_LOG_ERROR, "ledger_storage_error", "%s (%d)",
		mdb_strerror(rc), rc);
	return PS_EIO;
}

static uint64_t wall_clock_ns(void *context)
{
	(void)context;
	return ps_wall_ms() * 1000000ull;
}

static unsigned int env_flags(uint32_t durability)
{
	/* MDB_NOTLS: read transactions belong to the handle, not the thread.
	 * MDB_NORDAHEAD: lookups are random; read-ahead only wastes cache.
	 * MDB_WRITEMAP is never used: with it a stray write through the map
	 * can corrupt the book, MDB_NOSYNC loses its ordering promise, and
	 * on this workload it measured slower (msync of the map). */
	unsigned int flags = MDB_NOTLS | MDB_NORDAHEAD;
	if (durability == LEDGER_DURABILITY_NOMETASYNC)
		flags |= MDB_NOMETASYNC;
	else if (durability == LEDGER_DURABILITY_NOSYNC)
		flags |= MDB_NOSYNC;
	return flags;
}

static int check_options(const ledger_options_t *o)
{
	if (o->durability > LEDGER_DURABILITY_NOSYNC)
		return PS_EINVAL;
	if (o->batch_max == 0 || o->batch_max > LEDGER_BATCH_MAX)
		return PS_EINVAL;
	if (o->map_bytes == 0 || o->map_bytes > o->map_bytes_max)
		return PS_EINVAL;
	return 0;
}

/* Opens the databases and checks (or writes) the format version. */
static int adopt_map_size(ledger_t *l);

static int open_databases(ledger_t *l)
{
	MDB_txn *txn;
	int rc = mdb_txn_begin(l->env, NULL, 0, &txn);
	/* Other processes may grow the map between our open and here; each
	 * growth doubles it, so a few rounds always suffice. */
	for (int round = 0; rc == MDB_MAP_RESIZED && round < 8; round++) {
		rc = adopt_map_size(l);
		if (rc != 0)
			return rc;
		rc = mdb_txn_begin(l->env, NULL, 0, &txn);
	}
	if (rc != 0)
		return ledger_map_mdb(rc);
	MDB_dbi *dbis[] = {&l->db_accounts, &l->db_account_info,
			   &l->db_transfers, &l->db_ids, &l->db_pending,
			   &l->db_expiry, &l->db_meta};
	_Static_assert(PS_ARRAY_LEN(dbis) == PS_ARRAY_LEN(db_names),
		       "a handle for every database");
	for (size_t i = 0; i < PS_ARRAY_LEN(dbis) && rc == 0; i++)
		rc = mdb_dbi_open(txn, db_names[i], MDB_CREATE, dbis[i]);
	uint32_t version = 0;
	MDB_val key = {7, "version"}, val;
	if (rc == 0) {
		rc = mdb_get(txn, l->db_meta, &key, &val);
		if (rc == MDB_NOTFOUND) {
			version = LEDGER_FORMAT_VERSION;
			val.mv_size = sizeof(version);
			val.mv_data = &version;
			rc = mdb_put(txn, l->db_meta, &key, &val, 0);
		} else if (rc == 0) {
			if (val.mv_size != sizeof(version))
				rc = MDB_INVALID;
			else
				memcpy(&version, val.mv_data, sizeof(version));
			if (version != LEDGER_FORMAT_VERSION)
				rc = MDB_INVALID;
		}
	}
	if (rc != 0) {
		mdb_txn_abort(txn);
		return ledger_map_mdb(rc);
	}
	return ledger_map_mdb(mdb_txn_commit(txn));
}

int ledger_open(ledger_t **out, const char *path,
		const ledger_options_t *options)
{
	if (out == NULL || path == NULL)
		return PS_EINVAL;
	*out = NULL;
	ledger_options_t o;
	if (options != NULL)
		o = *options;
	else
		ledger_options_init(&o);
	if (o.batch_max == 0)
		o.batch_max = LEDGER_BATCH_MAX;
	if (o.map_bytes == 0)
		o.map_bytes = LEDGER_MAP_BYTES_DEFAULT;
	if (o.map_bytes_max == 0)
		o.map_bytes_max = PS_MAX(LEDGER_MAP_BYTES_MAX_DEFAULT,
					 o.map_bytes);
	if (o.clock_ns == NULL)
		o.clock_ns = wall_clock_ns;
	int rc = check_options(&o);
	if (rc != 0)
		return rc;
	if (mkdir(path, 0700) != 0 && errno != EEXIST)
		return PS_EIO;

	ledger_t *l = calloc(1, sizeof(*l));
	if (l == NULL)
		return PS_ENOMEM;
	l->options = o;
	l->map_bytes = o.map_bytes;
	rc = ledger_batch_alloc(&l->batch, o.batch_max);
	if (rc != 0)
		goto fail;
	rc = ledger_map_mdb(mdb_env_create(&l->env));
	if (rc != 0)
		goto fail;
	mdb_env_set_maxdbs(l->env, PS_ARRAY_LEN(db_names));
	mdb_env_set_mapsize(l->env, (size_t)l->map_bytes);
	rc = mdb_env_open(l->env, path, env_flags(o.durability), 0600);
	if (rc != 0) {
		rc = ledger_map_mdb(rc);
		goto fail;
	}
	/* A process killed while reading leaves its reader slot behind, and
	 * a stale slot pins old pages so the file only grows: clear them. */
	int stale = 0;
	mdb_reader_check(l->env, &stale);
	/* Another process may have grown the map: adopt its size. */
	MDB_envinfo info;
	mdb_env_info(l->env, &info);
	if (info.me_mapsize > l->map_bytes)
		l->map_bytes = info.me_mapsize;
	rc = open_databases(l);
	if (rc != 0)
		goto fail;
	*out = l;
	return 0;
fail:
	ledger_close(l);
	return rc;
}

int ledger_open_env(ledger_t **out, MDB_env *env,
		    const ledger_options_t *options)
{
	if (out == NULL || env == NULL)
		return PS_EINVAL;
	*out = NULL;
	unsigned int flags = 0;
	/* Our reader is reused across calls and threads: it needs NOTLS. */
	if (mdb_env_get_flags(env, &flags) != 0 || !(flags & MDB_NOTLS))
		return PS_EINVAL;
	ledger_options_t o;
	ledger_options_init(&o);
	if (options != NULL) {
		o.batch_max = options->batch_max ? options->batch_max
						 : LEDGER_BATCH_MAX;
		o.clock_ns = options->clock_ns;
		o.clock_context = options->clock_context;
	}
	if (o.clock_ns == NULL)
		o.clock_ns = wall_clock_ns;
	int rc = check_options(&o);
	if (rc != 0)
		return rc;
	ledger_t *l = calloc(1, sizeof(*l));
	if (l == NULL)
		return PS_ENOMEM;
	l->options = o;
	l->env = env;
	l->env_shared = true;
	rc = ledger_batch_alloc(&l->batch, o.batch_max);
	if (rc == 0)
		rc = open_databases(l);
	if (rc != 0) {
		ledger_close(l);
		return rc;
	}
	*out = l;
	return 0;
}

void ledger_close(ledger_t *l)
{
	if (l == NULL)
		return;
	if (l->read_txn != NULL)
		mdb_txn_abort(l->read_txn);
	if (l->env != NULL && !l->env_shared)
		mdb_env_close(l->env);
	ledger_batch_free(&l->batch);
	free(l);
}

int ledger_sync(ledger_t *l)
{
	PS_ASSERT(l != NULL);
	return ledger_map_mdb(mdb_env_sync(l->env, 1));
}

uint32_t ledger_batch_max(const ledger_t *l)
{
	PS_ASSERT(l != NULL);
	return l->options.batch_max;
}

/* After MDB_MAP_RESIZED (another process grew the map) adopt its size. */
static int adopt_map_size(ledger_t *l)
{
	int rc = mdb_env_set_mapsize(l->env, 0);
	if (rc != 0)
		return ledger_map_mdb(rc);
	MDB_envinfo info;
	mdb_env_info(l->env, &info);
	l->map_bytes = info.me_mapsize;
	return 0;
}

int ledger_read_begin(ledger_t *l, MDB_txn **txn)
{
	int rc;
	for (int attempt = 0; attempt < 8; attempt++) {
		if (l->read_txn != NULL)
			rc = mdb_txn_renew(l->read_txn);
		else
			rc = mdb_txn_begin(l->env, NULL, MDB_RDONLY,
					   &l->read_txn);
		if (rc == MDB_MAP_RESIZED) {
			if (l->read_txn != NULL) {
				mdb_txn_abort(l->read_txn);
				l->read_txn = NULL;
			}
			rc = adopt_map_size(l);
			if (rc != 0)
				return rc;
			continue;
		}
		if (rc != 0)
			return ledger_map_mdb(rc);
		*txn = l->read_txn;
		return 0;
	}
	return PS_EIO;
}

void ledger_read_end(ledger_t *l)
{
	if (l->read_txn != NULL)
		mdb_txn_reset(l->read_txn);
}

static int grow_map(ledger_t *l)
{
	if (l->env_shared || l->map_bytes >= l->options.map_bytes_max)
		return LEDGER_EMAPFULL;
	uint64_t bytes = PS_MIN(l->map_bytes * 2, l->options.map_bytes_max);
	/* A read transaction merely reset still pins the old map. */
	if (l->read_txn != NULL) {
		mdb_txn_abort(l->read_txn);
		l->read_txn = NULL;
	}
	int rc = mdb_env_set_mapsize(l->env, (size_t)bytes);
	if (rc != 0)
		return ledger_map_mdb(rc);
	l->map_bytes = bytes;
	ps_logf(PS_LOG_INFO, "ledger_map_grow", "map grown to %llu bytes",
		(unsigned long long)bytes);
	return 0;
}

int ledger_write(ledger_t *l, int (*fn)(ledger_t *, void *), void *arg)
{
	/* Each pass either commits, fails for good, or doubles the map, so
	 * the loop ends after at most log2(max/initial) + 2 passes. */
	for (int pass = 0; pass < 64; pass++) {
		MDB_txn *txn;
		int rc = mdb_txn_begin(l->env, NULL, 0, &txn);
		if (rc == MDB_MAP_RESIZED) {
			rc = adopt_map_size(l);
			if (rc != 0)
				return rc;
			continue;
		}
		if (rc != 0)
			return ledger_map_mdb(rc);
		l->batch.txn = txn;
		rc = fn(l, arg);
		l->batch.txn = NULL;
		if (rc == 0) {
			int mrc = mdb_txn_commit(txn);
			if (mrc == 0)
				return 0;
			rc = ledger_map_mdb(mrc);
		} else {
			mdb_txn_abort(txn);
		}
		if (rc != LEDGER_EMAPFULL)
			return rc;
		rc = grow_map(l);
		if (rc != 0)
			return rc;
	}
	return PS_EIO;
}

int ledger_write_in(ledger_t *l, MDB_txn *txn,
		    int (*fn)(ledger_t *, void *), void *arg)
{
	if (!l->env_shared || mdb_txn_env(txn) != l->env)
		return PS_EINVAL;
	l->batch.txn = txn;
	int rc = fn(l, arg);
	l->batch.txn = NULL;
	return rc;
}

int ledger_account_read(ledger_t *l, MDB_txn *txn, ledger_id_t id,
			bool with_info, struct account_record *out)
{
	uint8_t key[16];
	key_put_id(key, id);
	struct account_hot hot;
	memset(out, 0, sizeof(*out));
	int rc = ledger_get_record(txn, l->db_accounts, key, sizeof(key), &hot,
				   sizeof(hot));
	if (rc != 0)
		return rc;
	account_hot_decode(id, &hot, out);
	if (!with_info)
		return 0;
	struct account_cold cold;
	rc = ledger_get_record(txn, l->db_account_info, key, sizeof(key),
			       &cold, sizeof(cold));
	if (rc == PS_ENOTFOUND)
		return LEDGER_ECORRUPT; /* the two parts go together */
	if (rc == 0)
		account_cold_decode(&cold, out);
	return rc;
}

int ledger_account_put(ledger_t *l, MDB_cursor *hot_cursor,
		       const struct account_record *r, bool with_info,
		       unsigned int put_flags)
{
	uint8_t key[16];
	key_put_id(key, r->account.id);
	struct account_hot hot;
	account_hot_encode(r, &hot);
	MDB_val k = {sizeof(key), key}, v = {sizeof(hot), &hot};
	int rc = mdb_cursor_put(hot_cursor, &k, &v, put_flags);
	if (rc == 0 && with_info) {
		struct account_cold cold;
		account_cold_encode(r, &cold);
		MDB_val cv = {sizeof(cold), &cold};
		rc = mdb_put(mdb_cursor_txn(hot_cursor), l->db_account_info,
			     &k, &cv, put_flags);
	}
	/* Creation checked every id first: a clash is a bug. */
	PS_ASSERT(rc != MDB_KEYEXIST);
	return ledger_map_mdb(rc);
}

int ledger_get_record(MDB_txn *txn, MDB_dbi dbi, const void *key,
		      size_t key_size, void *out, size_t size)
{
	MDB_val k = {key_size, (void *)key}, v;
	int rc = mdb_get(txn, dbi, &k, &v);
	if (rc != 0)
		return ledger_map_mdb(rc);
	if (v.mv_size != size)
		return LEDGER_ECORRUPT;
	/* LMDB values are only 2-byte aligned: copy, never cast. */
	memcpy(out, v.mv_data, size);
	return 0;
}

static MDB_val last_ts_key = {14, "last_timestamp"};

int ledger_batch_begin(ledger_t *l, MDB_txn *txn)
{
	struct batch *b = &l->batch;
	ledger_batch_reset(b, txn);
	uint64_t last = 0;
	int rc = ledger_get_record(txn, l->db_meta, last_ts_key.mv_data,
				   last_ts_key.mv_size, &last, sizeof(last));
	if (rc != 0 && rc != PS_ENOTFOUND)
		return rc;
	b->now_ns = l->options.clock_ns(l->options.clock_context);
	b->next_ts = PS_MAX(b->now_ns, last + 1);
	/* The largest stored transfer id: an id above it needs no lookup
	 * and can be appended to the index. */
	b->transfer_id_max = (ledger_id_t){0, 0};
	b->id_max = b->transfer_id_max;
	MDB_cursor *cur;
	rc = mdb_cursor_open(txn, l->db_ids, &cur);
	if (rc != 0)
		return ledger_map_mdb(rc);
	MDB_val k, v;
	rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
	mdb_cursor_close(cur);
	if (rc == 0) {
		if (k.mv_size != 16)
			return LEDGER_ECORRUPT;
		b->transfer_id_max = key_get_id(k.mv_data);
		b->id_max = b->transfer_id_max;
	} else if (rc != MDB_NOTFOUND) {
		return ledger_map_mdb(rc);
	}
	return 0;
}

int ledger_batch_store_clock(ledger_t *l)
{
	uint64_t last = l->batch.next_ts - 1;
	MDB_val v = {sizeof(last), &last};
	return ledger_map_mdb(
		mdb_put(l->batch.txn, l->db_meta, &last_ts_key, &v, 0));
}
