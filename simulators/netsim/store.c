/*
 * store.c: netsim's clearing record in LMDB (store.h): the environment,
 * records in and out, the indexes that follow the legs, and the walks.
 */
#include "store.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "adapters.h"
#include "core.h"
#include "sim.h"

#define DBS_MAX 8
#define CLEARED_KEY_BYTES (NS_PERIOD_MAX + 8)

_Static_assert(sizeof(ns_leg_t) < 512, "a leg record fits a small value");

bool ns_leg_is_pending(const ns_leg_t *l)
{
	return l->state == NS_LEG_SENT || l->state == NS_LEG_UNKNOWN;
}

const char *ns_period_state_name(int state)
{
	static const char *const names[] = {"open", "closed", "netted", "posted",
					    "queued", "rejected", "empty"};
	return state >= 0 && (size_t)state < PS_ARRAY_LEN(names) ? names[state]
								 : "unknown";
}

static int mdb_fail(int mrc)
{
	if (mrc == MDB_NOTFOUND)
		return PS_ENOTFOUND;
	return mrc == MDB_MAP_FULL ? PS_ENOSPC : PS_EIO;
}

int ns_store_open(ns_store_t *s, const char *dir, size_t map_bytes, bool sync,
		  char *err, size_t err_cap)
{
	memset(s, 0, sizeof(*s));
	if (ps_mkdir_p(dir, 0770) != 0)
		return sim_fail(err, err_cap, PS_EIO, "--store %s: %s", dir,
				strerror(errno));
	int mrc = mdb_env_create(&s->env);
	if (mrc == 0)
		mrc = mdb_env_set_maxdbs(s->env, DBS_MAX);
	if (mrc == 0)
		mrc = mdb_env_set_mapsize(s->env, map_bytes);
	if (mrc == 0)
		mrc = mdb_env_open(s->env, dir, MDB_NOTLS | (sync ? 0 : MDB_NOSYNC),
				   0660);
	MDB_txn *txn = NULL;
	if (mrc == 0)
		mrc = mdb_txn_begin(s->env, NULL, 0, &txn);
	struct {
		const char *name;
		MDB_dbi *dbi;
	} dbs[] = {{"legs", &s->legs},       {"keys", &s->keys},
		   {"pending", &s->pending}, {"cleared", &s->cleared},
		   {"periods", &s->periods}, {"batches", &s->batches},
		   {"meta", &s->meta}};
	for (size_t i = 0; i < PS_ARRAY_LEN(dbs) && mrc == 0; i++)
		mrc = mdb_dbi_open(txn, dbs[i].name, MDB_CREATE, dbs[i].dbi);
	if (mrc == 0)
		mrc = mdb_txn_commit(txn);
	else if (txn != NULL)
		mdb_txn_abort(txn);
	if (mrc != 0) {
		sim_fail(err, err_cap, PS_EIO, "--store %s: %s", dir,
			 mdb_strerror(mrc));
		ns_store_close(s);
		return PS_EIO;
	}
	return 0;
}

void ns_store_close(ns_store_t *s)
{
	if (s->env != NULL)
		mdb_env_close(s->env);
	s->env = NULL;
}

int ns_store_begin(ns_store_t *s, bool rdonly, MDB_txn **txn)
{
	int mrc = mdb_txn_begin(s->env, NULL, rdonly ? MDB_RDONLY : 0, txn);
	return mrc == 0 ? 0 : mdb_fail(mrc);
}

int ns_store_commit(MDB_txn *txn)
{
	int mrc = mdb_txn_commit(txn);
	return mrc == 0 ? 0 : mdb_fail(mrc);
}

void ns_store_abort(MDB_txn *txn)
{
	if (txn != NULL)
		mdb_txn_abort(txn);
}

/* ---- records ---------------------------------------------------------------------- */

static int get_fixed(MDB_txn *txn, MDB_dbi dbi, const void *k, size_t klen,
		     void *out, size_t size)
{
	MDB_val key = {klen, (void *)k}, val;
	int mrc = mdb_get(txn, dbi, &key, &val);
	if (mrc != 0)
		return mdb_fail(mrc);
	/* A record of another size is another build's: not ours to read. */
	uint32_t version = 0;
	if (val.mv_size == size)
		memcpy(&version, val.mv_data, sizeof(version));
	if (version != NS_STORE_VERSION)
		return PS_EIO;
	memcpy(out, val.mv_data, size);
	return 0;
}

static int put(MDB_txn *txn, MDB_dbi dbi, const void *k, size_t klen,
	       const void *v, size_t vlen)
{
	MDB_val key = {klen, (void *)k}, val = {vlen, (void *)v};
	int mrc = mdb_put(txn, dbi, &key, &val, 0);
	return mrc == 0 ? 0 : mdb_fail(mrc);
}

static int del(MDB_txn *txn, MDB_dbi dbi, const void *k, size_t klen)
{
	MDB_val key = {klen, (void *)k};
	int mrc = mdb_del(txn, dbi, &key, NULL);
	return mrc == 0 || mrc == MDB_NOTFOUND ? 0 : mdb_fail(mrc);
}

static void id_key(uint64_t id, uint8_t out[8])
{
	ps_be64_put(out, id);
}

static void cleared_key(const char *period, uint64_t id,
			uint8_t out[CLEARED_KEY_BYTES])
{
	memset(out, 0, NS_PERIOD_MAX);
	memcpy(out, period, strnlen(period, NS_PERIOD_MAX - 1));
	ps_be64_put(out + NS_PERIOD_MAX, id);
}

int ns_store_get_leg(MDB_txn *txn, const ns_store_t *s, uint64_t id,
		     ns_leg_t *out)
{
	uint8_t k[8];
	id_key(id, k);
	return get_fixed(txn, s->legs, k, sizeof(k), out, sizeof(*out));
}

/* The indexes of old (NULL: none) move to those of leg. */
static int move_indexes(MDB_txn *txn, const ns_store_t *s, const ns_leg_t *old,
			const ns_leg_t *leg)
{
	uint8_t k[8];
	id_key(leg->id, k);
	bool was = old != NULL && ns_leg_is_pending(old);
	bool is = ns_leg_is_pending(leg);
	int rc = 0;
	if (is && !was)
		rc = put(txn, s->pending, k, sizeof(k), leg->period,
			 strlen(leg->period) + 1);
	else if (was && !is)
		rc = del(txn, s->pending, k, sizeof(k));
	bool old_cleared = old != NULL && old->cleared;
	bool same = old_cleared && leg->cleared &&
		    strcmp(old->clear_period, leg->clear_period) == 0;
	uint8_t ck[CLEARED_KEY_BYTES];
	if (rc == 0 && old_cleared && !same) {
		cleared_key(old->clear_period, old->id, ck);
		rc = del(txn, s->cleared, ck, sizeof(ck));
	}
	if (rc == 0 && leg->cleared && !same) {
		cleared_key(leg->clear_period, leg->id, ck);
		rc = put(txn, s->cleared, ck, sizeof(ck), "", 0);
	}
	return rc;
}

int ns_store_put_leg(MDB_txn *txn, const ns_store_t *s, const ns_leg_t *leg)
{
	PS_ASSERT(leg->version == NS_STORE_VERSION && leg->id != 0);
	PS_ASSERT(!leg->cleared || leg->clear_period[0] != '\0');
	ns_leg_t old;
	int rc = ns_store_get_leg(txn, s, leg->id, &old);
	if (rc != 0 && rc != PS_ENOTFOUND)
		return rc;
	rc = move_indexes(txn, s, rc == 0 ? &old : NULL, leg);
	if (rc != 0)
		return rc;
	uint8_t k[8];
	id_key(leg->id, k);
	return put(txn, s->legs, k, sizeof(k), leg, sizeof(*leg));
}

int ns_store_get_key(MDB_txn *txn, const ns_store_t *s, const char *key,
		     uint64_t *id)
{
	MDB_val k = {strlen(key), (void *)key}, val;
	int mrc = mdb_get(txn, s->keys, &k, &val);
	if (mrc != 0)
		return mdb_fail(mrc);
	if (val.mv_size != 8)
		return PS_EIO;
	*id = ps_be64_get(val.mv_data);
	return 0;
}

int ns_store_put_key(MDB_txn *txn, const ns_store_t *s, const char *key,
		     uint64_t id)
{
	uint8_t v[8];
	id_key(id, v);
	PS_ASSERT(key[0] != '\0' && strlen(key) < NS_KEY_MAX);
	return put(txn, s->keys, key, strlen(key), v, sizeof(v));
}

int ns_store_get_meta(MDB_txn *txn, const ns_store_t *s, ns_meta_t *out)
{
	return get_fixed(txn, s->meta, "meta", 4, out, sizeof(*out));
}

int ns_store_put_meta(MDB_txn *txn, const ns_store_t *s, const ns_meta_t *m)
{
	PS_ASSERT(m->version == NS_STORE_VERSION);
	return put(txn, s->meta, "meta", 4, m, sizeof(*m));
}

int ns_store_get_period(MDB_txn *txn, const ns_store_t *s, const char *name,
			ns_period_t *out)
{
	return get_fixed(txn, s->periods, name, strlen(name), out, sizeof(*out));
}

int ns_store_put_period(MDB_txn *txn, const ns_store_t *s, const ns_period_t *p)
{
	PS_ASSERT(p->version == NS_STORE_VERSION && p->name[0] != '\0');
	return put(txn, s->periods, p->name, strlen(p->name), p, sizeof(*p));
}

int ns_store_get_batch(MDB_txn *txn, const ns_store_t *s, const char *period,
		       char *out, size_t cap, size_t *len)
{
	MDB_val k = {strlen(period), (void *)period}, val;
	int mrc = mdb_get(txn, s->batches, &k, &val);
	if (mrc != 0)
		return mdb_fail(mrc);
	if (val.mv_size >= cap)
		return PS_ENOSPC;
	memcpy(out, val.mv_data, val.mv_size);
	out[val.mv_size] = '\0';
	*len = val.mv_size;
	return 0;
}

int ns_store_put_batch(MDB_txn *txn, const ns_store_t *s, const char *period,
		       const char *text, size_t len)
{
	return put(txn, s->batches, period, strlen(period), text, len);
}

/* ---- walks ------------------------------------------------------------------------------ */

#define WALK_STOP 1

/* Calls each for every record of dbi from start (NULL: the first) in key
 * order, until it returns WALK_STOP (done) or an error (returned). */
typedef int (*walk_fn)(void *ctx, const MDB_val *k, const MDB_val *v);

static int walk(MDB_txn *txn, MDB_dbi dbi, const MDB_val *start, walk_fn each,
		void *ctx)
{
	MDB_cursor *cur;
	int mrc = mdb_cursor_open(txn, dbi, &cur);
	if (mrc != 0)
		return mdb_fail(mrc);
	MDB_val k = start != NULL ? *start : (MDB_val){0, NULL}, v;
	int rc = 0;
	mrc = mdb_cursor_get(cur, &k, &v, start != NULL ? MDB_SET_RANGE : MDB_FIRST);
	while (mrc == 0 && (rc = each(ctx, &k, &v)) == 0)
		mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	mdb_cursor_close(cur);
	if (rc == WALK_STOP)
		return 0;
	return rc == 0 && mrc != MDB_NOTFOUND ? mdb_fail(mrc) : rc;
}

typedef struct visit {
	MDB_txn *txn;
	const ns_store_t *s;
	const uint8_t *prefix;  /* the cleared walk: its period's key */
	ns_leg_fn leg_fn;
	ns_id_fn id_fn;
	ns_period_fn period_fn;
	void *ctx;
} visit_t;

static int each_cleared(void *ctx, const MDB_val *k, const MDB_val *v)
{
	(void)v;
	visit_t *w = ctx;
	if (k->mv_size != CLEARED_KEY_BYTES ||
	    memcmp(k->mv_data, w->prefix, NS_PERIOD_MAX) != 0)
		return WALK_STOP; /* past the period */
	ns_leg_t leg;
	int rc = ns_store_get_leg(w->txn, w->s,
				  ps_be64_get((const uint8_t *)k->mv_data +
					      NS_PERIOD_MAX),
				  &leg);
	return rc != 0 ? rc : w->leg_fn(w->ctx, &leg);
}

int ns_store_each_cleared(MDB_txn *txn, const ns_store_t *s, const char *period,
			  ns_leg_fn fn, void *ctx)
{
	uint8_t start[CLEARED_KEY_BYTES];
	cleared_key(period, 0, start);
	MDB_val k = {sizeof(start), start};
	visit_t w = {.txn = txn, .s = s, .prefix = start, .leg_fn = fn, .ctx = ctx};
	return walk(txn, s->cleared, &k, each_cleared, &w);
}

static int each_pending(void *ctx, const MDB_val *k, const MDB_val *v)
{
	visit_t *w = ctx;
	char period[NS_PERIOD_MAX] = "";
	if (v->mv_size > 0 && v->mv_size <= sizeof(period))
		memcpy(period, v->mv_data, v->mv_size);
	period[NS_PERIOD_MAX - 1] = '\0';
	return k->mv_size != 8 ? PS_EIO
			       : w->id_fn(w->ctx, ps_be64_get(k->mv_data), period);
}

int ns_store_each_pending(MDB_txn *txn, const ns_store_t *s, ns_id_fn fn,
			  void *ctx)
{
	visit_t w = {.id_fn = fn, .ctx = ctx};
	return walk(txn, s->pending, NULL, each_pending, &w);
}

static int each_period(void *ctx, const MDB_val *k, const MDB_val *v)
{
	(void)k;
	visit_t *w = ctx;
	ns_period_t p;
	if (v->mv_size != sizeof(p))
		return PS_EIO;
	memcpy(&p, v->mv_data, sizeof(p));
	return w->period_fn(w->ctx, &p);
}

int ns_store_each_period(MDB_txn *txn, const ns_store_t *s, ns_period_fn fn,
			 void *ctx)
{
	visit_t w = {.period_fn = fn, .ctx = ctx};
	return walk(txn, s->periods, NULL, each_period, &w);
}
