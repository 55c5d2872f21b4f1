/*
 * table.c: the transactions the switch holds in memory, and how it finds
 * them.
 *
 * Records come from a pool sized at start (limits.inflight_max and
 * friends), so the hot path never allocates and a full pool is a bound the
 * caller answers with 91. Three chained hash indexes find a record by
 * switch id, by idempotency key (participant, request id) and by the
 * match key of the leg it waits on (endpoint, STAN, field 7); a binary
 * min-heap orders the deadlines, so the one timer always points at the
 * earliest.
 */
#include <stdlib.h>
#include <string.h>

#include "table.h"

static uint64_t hash_bytes(uint64_t h, const void *data, size_t len)
{
	const uint8_t *p = data;
	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 1099511628211ull; /* FNV-1a */
	}
	return h;
}

#define HASH_SEED 14695981039346656037ull

static uint64_t hash_id(uint64_t id)
{
	return hash_bytes(HASH_SEED, &id, sizeof(id));
}

static uint64_t hash_idem(const char *participant, const char *request_id)
{
	uint64_t h = hash_bytes(HASH_SEED, participant, strlen(participant));
	h = hash_bytes(h, "", 1);
	return hash_bytes(h, request_id, strlen(request_id));
}

static uint64_t hash_match(const char *endpoint, uint32_t stan,
			   const char *transmit)
{
	uint64_t h = hash_bytes(HASH_SEED, endpoint, strlen(endpoint));
	h = hash_bytes(h, &stan, sizeof(stan));
	return hash_bytes(h, transmit, strlen(transmit));
}

int sw_table_init(sw_table_t *tb, sw_store_t *store, uint32_t capacity)
{
	memset(tb, 0, sizeof(*tb));
	tb->store = store;
	int rc = ps_pool_init(&tb->pool, sizeof(sw_txn_t), capacity);
	if (rc != 0)
		return rc;
	uint32_t buckets = 16;
	while (buckets < capacity * 2)
		buckets *= 2;
	tb->bucket_mask = buckets - 1;
	tb->by_id = calloc(buckets, sizeof(uint32_t));
	tb->by_idem = calloc(buckets, sizeof(uint32_t));
	tb->by_match = calloc(buckets, sizeof(uint32_t));
	tb->heap = calloc(capacity, sizeof(sw_txn_t *));
	tb->dirty = calloc(capacity, sizeof(sw_txn_t *));
	tb->release = calloc(capacity, sizeof(sw_txn_t *));
	if (!tb->by_id || !tb->by_idem || !tb->by_match || !tb->heap ||
	    !tb->dirty || !tb->release) {
		sw_table_free(tb);
		return PS_ENOMEM;
	}
	return 0;
}

void sw_table_free(sw_table_t *tb)
{
	ps_pool_free(&tb->pool);
	free(tb->by_id);
	free(tb->by_idem);
	free(tb->by_match);
	free(tb->heap);
	free(tb->dirty);
	free(tb->release);
	memset(tb, 0, sizeof(*tb));
}

static uint32_t ref_of(sw_table_t *tb, sw_txn_t *st)
{
	return ps_pool_index(&tb->pool, st) + 1;
}

static sw_txn_t *txn_at(sw_table_t *tb, uint32_t ref)
{
	return ref == 0 ? NULL : ps_pool_at(&tb->pool, ref - 1);
}

/* Unlinks st from the chain through field offset next_off in bucket. */
static void unlink_chain(sw_table_t *tb, uint32_t *bucket, sw_txn_t *st,
			 size_t next_off)
{
	uint32_t target = ref_of(tb, st);
	uint32_t *link = bucket;
	while (*link != 0) {
		if (*link == target) {
			*link = *(uint32_t *)((uint8_t *)st + next_off);
			*(uint32_t *)((uint8_t *)st + next_off) = 0;
			return;
		}
		link = (uint32_t *)((uint8_t *)txn_at(tb, *link) + next_off);
	}
	PS_ASSERT(!"record missing from its hash chain");
}

sw_txn_t *sw_txn_new(sw_table_t *tb)
{
	sw_txn_t *st = ps_pool_get(&tb->pool);
	if (st == NULL)
		return NULL;
	st->heap_index = SW_NOT_SCHEDULED;
	st->cur_leg = -1;
	st->started_ns = ps_mono_ns();
	return st;
}

void sw_txn_free(sw_table_t *tb, sw_txn_t *st)
{
	PS_ASSERT(!st->dirty);
	sw_txn_unschedule(tb, st);
	sw_txn_unindex_match(tb, st);
	if (st->in_id) {
		uint32_t b = (uint32_t)hash_id(st->t.id) & tb->bucket_mask;
		unlink_chain(tb, &tb->by_id[b], st, offsetof(sw_txn_t, next_id));
		st->in_id = false;
	}
	if (st->in_idem) {
		uint32_t b = (uint32_t)hash_idem(st->t.participant,
						 st->t.request_id) &
			     tb->bucket_mask;
		unlink_chain(tb, &tb->by_idem[b], st,
			     offsetof(sw_txn_t, next_idem));
		st->in_idem = false;
	}
	if (st->saf && tb->reversals > 0)
		tb->reversals--;
	ps_pool_put(&tb->pool, st);
}

sw_txn_t *sw_txn_by_id(sw_table_t *tb, uint64_t id)
{
	uint32_t ref = tb->by_id[(uint32_t)hash_id(id) & tb->bucket_mask];
	for (sw_txn_t *st = txn_at(tb, ref); st != NULL;
	     st = txn_at(tb, st->next_id))
		if (st->t.id == id)
			return st;
	return NULL;
}

sw_txn_t *sw_txn_by_idem(sw_table_t *tb, const char *participant,
			 const char *request_id)
{
	uint32_t b = (uint32_t)hash_idem(participant, request_id) &
		     tb->bucket_mask;
	for (sw_txn_t *st = txn_at(tb, tb->by_idem[b]); st != NULL;
	     st = txn_at(tb, st->next_idem))
		if (strcmp(st->t.request_id, request_id) == 0 &&
		    strcmp(st->t.participant, participant) == 0)
			return st;
	return NULL;
}

sw_txn_t *sw_txn_by_match(sw_table_t *tb, const char *endpoint, uint32_t stan,
			  const char *transmit)
{
	uint32_t b = (uint32_t)hash_match(endpoint, stan, transmit) &
		     tb->bucket_mask;
	for (sw_txn_t *st = txn_at(tb, tb->by_match[b]); st != NULL;
	     st = txn_at(tb, st->next_match)) {
		const txn_leg_t *l = &st->t.leg[st->cur_leg];
		if (l->stan == stan && strcmp(l->transmit, transmit) == 0 &&
		    strcmp(l->endpoint, endpoint) == 0)
			return st;
	}
	return NULL;
}

void sw_txn_index_id(sw_table_t *tb, sw_txn_t *st)
{
	PS_ASSERT(sw_txn_by_id(tb, st->t.id) == NULL);
	uint32_t b = (uint32_t)hash_id(st->t.id) & tb->bucket_mask;
	st->next_id = tb->by_id[b];
	tb->by_id[b] = ref_of(tb, st);
	st->in_id = true;
}

void sw_txn_index_idem(sw_table_t *tb, sw_txn_t *st)
{
	PS_ASSERT(!st->in_idem);
	uint32_t b = (uint32_t)hash_idem(st->t.participant, st->t.request_id) &
		     tb->bucket_mask;
	st->next_idem = tb->by_idem[b];
	tb->by_idem[b] = ref_of(tb, st);
	st->in_idem = true;
}

/* Indexes the leg st waits on (st->cur_leg). */
void sw_txn_index_match(sw_table_t *tb, sw_txn_t *st)
{
	PS_ASSERT(!st->in_match && st->cur_leg >= 0);
	const txn_leg_t *l = &st->t.leg[st->cur_leg];
	uint32_t b = (uint32_t)hash_match(l->endpoint, l->stan, l->transmit) &
		     tb->bucket_mask;
	st->next_match = tb->by_match[b];
	tb->by_match[b] = ref_of(tb, st);
	st->in_match = true;
}

void sw_txn_unindex_match(sw_table_t *tb, sw_txn_t *st)
{
	if (!st->in_match)
		return;
	const txn_leg_t *l = &st->t.leg[st->cur_leg];
	uint32_t b = (uint32_t)hash_match(l->endpoint, l->stan, l->transmit) &
		     tb->bucket_mask;
	unlink_chain(tb, &tb->by_match[b], st, offsetof(sw_txn_t, next_match));
	st->in_match = false;
}

uint32_t sw_table_count(const sw_table_t *tb)
{
	return tb->pool.used;
}

/* ---- deadline heap ------------------------------------------------------ */

static void heap_set(sw_table_t *tb, uint32_t i, sw_txn_t *st)
{
	tb->heap[i] = st;
	st->heap_index = i;
}

static void heap_up(sw_table_t *tb, uint32_t i)
{
	sw_txn_t *st = tb->heap[i];
	while (i > 0) {
		uint32_t parent = (i - 1) / 2;
		if (tb->heap[parent]->deadline_mono_ms <= st->deadline_mono_ms)
			break;
		heap_set(tb, i, tb->heap[parent]);
		i = parent;
	}
	heap_set(tb, i, st);
}

static void heap_down(sw_table_t *tb, uint32_t i)
{
	sw_txn_t *st = tb->heap[i];
	for (;;) {
		uint32_t child = 2 * i + 1;
		if (child >= tb->heap_len)
			break;
		if (child + 1 < tb->heap_len &&
		    tb->heap[child + 1]->deadline_mono_ms <
			    tb->heap[child]->deadline_mono_ms)
			child++;
		if (tb->heap[child]->deadline_mono_ms >= st->deadline_mono_ms)
			break;
		heap_set(tb, i, tb->heap[child]);
		i = child;
	}
	heap_set(tb, i, st);
}

void sw_txn_schedule(sw_table_t *tb, sw_txn_t *st, uint64_t deadline_ms)
{
	sw_txn_unschedule(tb, st);
	PS_ASSERT(tb->heap_len < tb->pool.count);
	st->deadline_mono_ms = deadline_ms;
	heap_set(tb, tb->heap_len++, st);
	heap_up(tb, st->heap_index);
}

void sw_txn_unschedule(sw_table_t *tb, sw_txn_t *st)
{
	uint32_t i = st->heap_index;
	if (i == SW_NOT_SCHEDULED)
		return;
	st->heap_index = SW_NOT_SCHEDULED;
	tb->heap_len--;
	if (i == tb->heap_len)
		return;
	heap_set(tb, i, tb->heap[tb->heap_len]);
	heap_up(tb, i);
	heap_down(tb, tb->heap[i]->heap_index);
}

sw_txn_t *sw_txn_earliest(sw_table_t *tb)
{
	return tb->heap_len ? tb->heap[0] : NULL;
}

void sw_table_delay_deadlines(sw_table_t *tb, uint64_t ms)
{
	for (uint32_t i = 0; i < tb->heap_len; i++)
		tb->heap[i]->deadline_mono_ms += ms;
}

/* ---- loading ------------------------------------------------------------- */

sw_txn_t *sw_table_load(sw_table_t *tb, uint64_t id)
{
	sw_txn_t *st = sw_txn_by_id(tb, id);
	if (st != NULL)
		return st;
	st = sw_txn_new(tb);
	if (st == NULL)
		return NULL;
	if (sw_store_get_txn(tb->store, id, &st->t) != 0) {
		sw_txn_free(tb, st);
		return NULL;
	}
	sw_txn_index_id(tb, st);
	if (st->t.request_id[0] != '\0')
		sw_txn_index_idem(tb, st);
	return st;
}

/* ---- changes and their commit -------------------------------------------- */

void sw_table_mark(sw_table_t *tb, sw_txn_t *st)
{
	if (st->dirty)
		return;
	PS_ASSERT(tb->dirty_count < tb->pool.count);
	st->dirty = true;
	tb->dirty[tb->dirty_count++] = st;
}

void sw_table_release(sw_table_t *tb, sw_txn_t *st)
{
	st->release = true;
	if (st->release_queued)
		return;
	PS_ASSERT(tb->release_count < tb->pool.count);
	st->release_queued = true;
	tb->release[tb->release_count++] = st;
}

void sw_table_let_go(sw_table_t *tb, sw_txn_t *st)
{
	if (st->t.state == TXN_STATE_DONE && st->pins == 0)
		sw_table_release(tb, st);
}

uint32_t sw_table_dirty_count(const sw_table_t *tb)
{
	return tb->dirty_count;
}

void sw_table_flush(sw_table_t *tb)
{
	sw_store_t *store = tb->store;
	for (uint32_t i = 0; i < tb->dirty_count; i++) {
		sw_txn_t *st = tb->dirty[i];
		st->dirty = false;
		if (st->saf) {
			if (st->saf_done)
				continue; /* acknowledged: its key is deleted */
			sw_store_put_txn(store, store->saf, st->saf_key,
					 sizeof(st->saf_key), &st->t);
		} else {
			uint8_t key[8];
			sw_id_key(st->t.id, key);
			sw_store_put_txn(store, store->inflight, key,
					 sizeof(key), &st->t);
		}
	}
	tb->dirty_count = 0;
}

void sw_table_release_done(sw_table_t *tb)
{
	for (uint32_t i = 0; i < tb->release_count; i++) {
		sw_txn_t *st = tb->release[i];
		st->release_queued = false;
		if (st->release && st->pins == 0 && st->cur_leg < 0 && !st->dirty)
			sw_txn_free(tb, st);
	}
	tb->release_count = 0;
}

bool sw_table_busy(const sw_table_t *tb)
{
	return tb->dirty_count > 0 || tb->release_count > 0;
}
