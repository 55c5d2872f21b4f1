/*
 * cache.c: the scratch space of one batch, allocated once at open: the
 * accounts the batch touches (read once, written back once), the new
 * transfers and their ids, the pending transfers it posts or voids, and
 * the undo log that rolls a failed linked chain back in memory.
 *
 * The hash tables use open addressing with linear probing and a
 * generation number per slot, so a new batch forgets them in O(1). A
 * chain's rollback removes the slots it added in reverse order of
 * insertion, which restores a linear-probing table exactly.
 */
#include <stdlib.h>
#include <string.h>

#include "ledger_int.h"

#define RADIX_BITS 11
#define RADIX_SIZE (1u << RADIX_BITS)

static uint32_t pow2_at_least(uint32_t n)
{
	uint32_t p = 1;
	while (p < n)
		p <<= 1;
	return p;
}

/* A 64-bit mix (splitmix64's finaliser): ids may be sequential. */
static uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x;
}

static uint32_t hash_id(ledger_id_t id)
{
	return (uint32_t)mix64(id.lo ^ mix64(id.hi));
}

int ledger_batch_alloc(struct batch *b, uint32_t batch_max)
{
	memset(b, 0, sizeof(*b));
	/* A batch touches at most two accounts and one pending per event;
	 * tables at most half full keep probes short. */
	uint32_t account_slots = pow2_at_least(4 * batch_max);
	uint32_t pending_slots = pow2_at_least(2 * batch_max);
	uint32_t id_slots = pow2_at_least(2 * batch_max);
	b->account_mask = account_slots - 1;
	b->pending_mask = pending_slots - 1;
	b->id_mask = id_slots - 1;
	/* Per event: two accounts, one pending changed, one pending added. */
	b->undo_cap = 4 * batch_max;
	b->account_dirty_cap = 2 * batch_max;
	b->pending_dirty_cap = batch_max;
	b->accounts = calloc(account_slots, sizeof(*b->accounts));
	b->account_dirty = calloc(2 * batch_max, sizeof(uint32_t));
	b->pendings = calloc(pending_slots, sizeof(*b->pendings));
	b->pending_dirty = calloc(batch_max, sizeof(uint32_t));
	b->ids = calloc(id_slots, sizeof(*b->ids));
	b->new_transfers = calloc(batch_max, sizeof(*b->new_transfers));
	b->undo = calloc(b->undo_cap, sizeof(*b->undo));
	b->sorted = calloc(2 * (size_t)batch_max, sizeof(*b->sorted));
	b->sort_scratch = calloc(2 * (size_t)batch_max, sizeof(*b->sorted));
	b->radix_count = calloc(RADIX_SIZE, sizeof(uint32_t));
	if (!b->sorted || !b->sort_scratch || !b->radix_count ||
	    !b->accounts || !b->account_dirty || !b->pendings ||
	    !b->pending_dirty || !b->ids || !b->new_transfers || !b->undo) {
		ledger_batch_free(b);
		return PS_ENOMEM;
	}
	b->gen = 0;
	return 0;
}

void ledger_batch_free(struct batch *b)
{
	free(b->accounts);
	free(b->account_dirty);
	free(b->pendings);
	free(b->pending_dirty);
	free(b->ids);
	free(b->new_transfers);
	free(b->undo);
	free(b->sorted);
	free(b->sort_scratch);
	free(b->radix_count);
	memset(b, 0, sizeof(*b));
}

void ledger_batch_reset(struct batch *b, MDB_txn *txn)
{
	b->gen++;
	if (b->gen == 0) {
		/* Wrapped after 2^32 batches: clear for real, once. */
		for (uint32_t i = 0; i <= b->account_mask; i++)
			b->accounts[i].gen = 0;
		for (uint32_t i = 0; i <= b->pending_mask; i++)
			b->pendings[i].gen = 0;
		for (uint32_t i = 0; i <= b->id_mask; i++)
			b->ids[i].gen = 0;
		b->gen = 1;
	}
	b->account_dirty_count = 0;
	b->pending_dirty_count = 0;
	b->new_count = 0;
	b->undo_count = 0;
	b->chain_active = false;
	b->txn = txn;
}

static struct undo_entry *undo_push(struct batch *b, uint32_t kind,
				    uint32_t slot)
{
	PS_ASSERT(b->undo_count < b->undo_cap);
	struct undo_entry *u = &b->undo[b->undo_count++];
	u->kind = kind;
	u->slot = slot;
	return u;
}

/* ---- accounts ------------------------------------------------------------ */

/* The slot holding id, or the empty slot where it would go. */
static uint32_t account_probe(const struct batch *b, ledger_id_t id)
{
	uint32_t i = hash_id(id) & b->account_mask;
	for (uint32_t n = 0; n <= b->account_mask; n++) {
		const struct account_slot *s = &b->accounts[i];
		if (s->gen != b->gen || ledger_id_equal(s->id, id))
			return i;
		i = (i + 1) & b->account_mask;
	}
	PS_ASSERT(!"account cache full"); /* sized for the batch: a bug */
	return 0;
}

uint32_t ledger_account_slot_index(const struct batch *b,
				   const struct account_slot *slot)
{
	return (uint32_t)(slot - b->accounts);
}

int ledger_account_load(ledger_t *l, ledger_id_t id, struct account_slot **out)
{
	struct batch *b = &l->batch;
	uint32_t i = account_probe(b, id);
	struct account_slot *s = &b->accounts[i];
	if (s->gen == b->gen) {
		*out = s;
		return 0;
	}
	/* Transfers need only the hot part; the cold one stays zero here
	 * and is never written back from a transfer batch. */
	int rc = ledger_account_read(l, b->txn, id, false, &s->rec);
	if (rc != 0 && rc != PS_ENOTFOUND)
		return rc;
	s->id = id;
	s->gen = b->gen;
	/* A miss is cached too: within one transfer batch no account can
	 * appear, so asking the store again would be wasted. */
	s->flags = SLOT_USED | (rc == 0 ? SLOT_FOUND : 0);
	*out = s;
	return 0;
}

struct account_slot *ledger_account_cached(struct batch *b, ledger_id_t id)
{
	struct account_slot *s = &b->accounts[account_probe(b, id)];
	return s->gen == b->gen ? s : NULL;
}

struct account_slot *ledger_account_add(struct batch *b, ledger_id_t id)
{
	uint32_t i = account_probe(b, id);
	struct account_slot *s = &b->accounts[i];
	PS_ASSERT(s->gen != b->gen);
	s->id = id;
	s->gen = b->gen;
	s->flags = SLOT_USED | SLOT_FOUND | SLOT_NEW | SLOT_DIRTY;
	memset(&s->rec, 0, sizeof(s->rec));
	PS_ASSERT(b->account_dirty_count < b->account_dirty_cap);
	b->account_dirty[b->account_dirty_count++] = i;
	if (b->chain_active)
		undo_push(b, UNDO_ACCOUNT_ADD, i);
	return s;
}

void ledger_account_touch(struct batch *b, struct account_slot *s)
{
	uint32_t i = ledger_account_slot_index(b, s);
	if (b->chain_active) {
		struct undo_entry *u = undo_push(b, UNDO_ACCOUNT, i);
		u->old.account = s->rec;
	}
	if (!(s->flags & SLOT_DIRTY)) {
		PS_ASSERT(b->account_dirty_count < b->account_dirty_cap);
		s->flags |= SLOT_DIRTY;
		b->account_dirty[b->account_dirty_count++] = i;
	}
}

/*
 * Sorts refs by id: an LSD radix sort in 11-bit digits that skips every
 * digit on which all ids agree, so small or clustered ids (the usual
 * case) cost two or three linear passes instead of n log n comparisons.
 * Stable; the result is in b->sorted.
 */

static void sort_refs(struct batch *b, uint32_t n)
{
	uint64_t or_hi = 0, or_lo = 0, and_hi = UINT64_MAX, and_lo = UINT64_MAX;
	for (uint32_t i = 0; i < n; i++) {
		or_hi |= b->sorted[i].id.hi;
		and_hi &= b->sorted[i].id.hi;
		or_lo |= b->sorted[i].id.lo;
		and_lo &= b->sorted[i].id.lo;
	}
	uint64_t differ[2] = {or_lo ^ and_lo, or_hi ^ and_hi};
	struct id_ref *from = b->sorted, *to = b->sort_scratch;
	uint32_t *count = b->radix_count; /* per handle: handles may run in
					     different threads */
	for (unsigned shift = 0; shift < 128; shift += RADIX_BITS) {
		unsigned word = shift / 64, bit = shift % 64;
		/* A digit may straddle the two words: take it from each. */
		uint64_t mask = ((uint64_t)RADIX_SIZE - 1) << bit;
		uint64_t spill = bit + RADIX_BITS > 64 && word == 0
					 ? (((uint64_t)RADIX_SIZE - 1) >> (64 - bit))
					 : 0;
		if (!(differ[word] & mask) && !(spill & differ[1]))
			continue;
		memset(count, 0, RADIX_SIZE * sizeof(*count));
		for (uint32_t i = 0; i < n; i++) {
			const ledger_id_t *id = &from[i].id;
			uint64_t w = word ? id->hi : id->lo;
			uint32_t d = (uint32_t)((w >> bit) | (spill ? id->hi << (64 - bit) : 0)) &
				     (RADIX_SIZE - 1);
			count[d]++;
		}
		uint32_t sum = 0;
		for (uint32_t d = 0; d < RADIX_SIZE; d++) {
			uint32_t c = count[d];
			count[d] = sum;
			sum += c;
		}
		for (uint32_t i = 0; i < n; i++) {
			const ledger_id_t *id = &from[i].id;
			uint64_t w = word ? id->hi : id->lo;
			uint32_t d = (uint32_t)((w >> bit) | (spill ? id->hi << (64 - bit) : 0)) &
				     (RADIX_SIZE - 1);
			to[count[d]++] = from[i];
		}
		struct id_ref *t = from;
		from = to;
		to = t;
	}
	if (from != b->sorted)
		memcpy(b->sorted, from, n * sizeof(*from));
	for (uint32_t i = 1; i < n; i++)
		PS_ASSERT(ledger_id_compare(b->sorted[i - 1].id, b->sorted[i].id) <= 0);
}

/* Fills the slot of a prefetched id from the cursor's answer. */
static int prefetch_one(ledger_t *l, MDB_cursor *cur, ledger_id_t id)
{
	struct batch *b = &l->batch;
	struct account_slot *s = &b->accounts[account_probe(b, id)];
	if (s->gen == b->gen)
		return 0;
	uint8_t key[16];
	key_put_id(key, id);
	MDB_val k = {sizeof(key), key}, v;
	int rc = mdb_cursor_get(cur, &k, &v, MDB_SET_KEY);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return ledger_map_mdb(rc);
	s->id = id;
	s->gen = b->gen;
	s->flags = SLOT_USED;
	memset(&s->rec, 0, sizeof(s->rec));
	if (rc == MDB_NOTFOUND)
		return 0;
	struct account_hot hot;
	if (v.mv_size != sizeof(hot))
		return LEDGER_ECORRUPT;
	memcpy(&hot, v.mv_data, sizeof(hot));
	account_hot_decode(id, &hot, &s->rec);
	s->flags |= SLOT_FOUND;
	return 0;
}

int ledger_accounts_prefetch(ledger_t *l, const ledger_transfer_t *t,
			     uint32_t count)
{
	struct batch *b = &l->batch;
	/* One transfer gains nothing from sorting. */
	if (count < 16)
		return 0;
	uint32_t n = 0;
	for (uint32_t i = 0; i < count; i++) {
		if (!ledger_id_is_zero(t[i].debit_account_id))
			b->sorted[n++].id = t[i].debit_account_id;
		if (!ledger_id_is_zero(t[i].credit_account_id))
			b->sorted[n++].id = t[i].credit_account_id;
	}
	sort_refs(b, n);
	MDB_cursor *cur;
	int rc = mdb_cursor_open(b->txn, l->db_accounts, &cur);
	if (rc != 0)
		return ledger_map_mdb(rc);
	for (uint32_t i = 0; i < n && rc == 0; i++) {
		if (i > 0 && ledger_id_equal(b->sorted[i].id, b->sorted[i - 1].id))
			continue;
		rc = prefetch_one(l, cur, b->sorted[i].id);
	}
	mdb_cursor_close(cur);
	return rc;
}

int ledger_accounts_write(ledger_t *l, bool created)
{
	struct batch *b = &l->batch;
	uint32_t n = b->account_dirty_count;
	for (uint32_t i = 0; i < n; i++) {
		b->sorted[i].slot = b->account_dirty[i];
		b->sorted[i].id = b->accounts[b->account_dirty[i]].id;
	}
	/* In key order a cursor stays on its leaf page between puts. */
	sort_refs(b, n);
	MDB_cursor *cur;
	int rc = mdb_cursor_open(b->txn, l->db_accounts, &cur);
	if (rc != 0)
		return ledger_map_mdb(rc);
	for (uint32_t i = 0; i < n && rc == 0; i++) {
		struct account_slot *s = &b->accounts[b->sorted[i].slot];
		rc = ledger_account_put(l, cur, &s->rec, created,
					created ? MDB_NOOVERWRITE : 0);
	}
	mdb_cursor_close(cur);
	return rc;
}

/* ---- new transfers --------------------------------------------------------- */

static uint32_t id_probe(const struct batch *b, ledger_id_t id)
{
	uint32_t i = hash_id(id) & b->id_mask;
	for (uint32_t n = 0; n <= b->id_mask; n++) {
		const struct id_slot *s = &b->ids[i];
		if (s->gen != b->gen || ledger_id_equal(s->id, id))
			return i;
		i = (i + 1) & b->id_mask;
	}
	PS_ASSERT(!"id table full");
	return 0;
}

int64_t ledger_new_transfer_find(const struct batch *b, ledger_id_t id)
{
	const struct id_slot *s = &b->ids[id_probe(b, id)];
	if (s->gen != b->gen)
		return -1;
	return s->index;
}

void ledger_new_transfer_add(struct batch *b, const struct transfer_record *r)
{
	uint32_t i = id_probe(b, r->transfer.id);
	PS_ASSERT(b->ids[i].gen != b->gen);
	PS_ASSERT(b->new_count <= b->id_mask / 2);
	b->ids[i].id = r->transfer.id;
	b->ids[i].gen = b->gen;
	b->ids[i].index = b->new_count;
	b->new_transfers[b->new_count++] = *r;
	if (ledger_id_compare(r->transfer.id, b->id_max) > 0)
		b->id_max = r->transfer.id;
}

/* ---- pendings -------------------------------------------------------------- */

static uint32_t pending_probe(const struct batch *b, uint64_t ts)
{
	uint32_t i = (uint32_t)mix64(ts) & b->pending_mask;
	for (uint32_t n = 0; n <= b->pending_mask; n++) {
		const struct pending_slot *s = &b->pendings[i];
		if (s->gen != b->gen || s->ts == ts)
			return i;
		i = (i + 1) & b->pending_mask;
	}
	PS_ASSERT(!"pending table full");
	return 0;
}

struct pending_slot *ledger_pending_find(struct batch *b, uint64_t ts)
{
	struct pending_slot *s = &b->pendings[pending_probe(b, ts)];
	return s->gen == b->gen ? s : NULL;
}

struct pending_slot *ledger_pending_add(struct batch *b, uint64_t ts)
{
	uint32_t i = pending_probe(b, ts);
	struct pending_slot *s = &b->pendings[i];
	PS_ASSERT(s->gen != b->gen);
	memset(s, 0, sizeof(*s));
	s->ts = ts;
	s->gen = b->gen;
	s->flags = SLOT_USED;
	if (b->chain_active)
		undo_push(b, UNDO_PENDING_ADD, i);
	return s;
}

void ledger_pending_touch(struct batch *b, struct pending_slot *s)
{
	uint32_t i = (uint32_t)(s - b->pendings);
	if (b->chain_active) {
		struct undo_entry *u = undo_push(b, UNDO_PENDING, i);
		u->old.pending = s->rec;
	}
	if (!(s->flags & SLOT_DIRTY)) {
		s->flags |= SLOT_DIRTY;
		PS_ASSERT(b->pending_dirty_count < b->pending_dirty_cap);
		b->pending_dirty[b->pending_dirty_count++] = i;
	}
}

/* ---- linked chains ---------------------------------------------------------- */

void ledger_chain_mark(const struct batch *b, struct chain_mark *m)
{
	m->undo_count = b->undo_count;
	m->new_count = b->new_count;
	m->account_dirty_count = b->account_dirty_count;
	m->pending_dirty_count = b->pending_dirty_count;
	m->next_ts = b->next_ts;
}

void ledger_chain_rollback(struct batch *b, const struct chain_mark *m)
{
	/* Dirty marks first, while every slot still holds its key. */
	for (uint32_t i = m->account_dirty_count; i < b->account_dirty_count;
	     i++)
		b->accounts[b->account_dirty[i]].flags &= ~SLOT_DIRTY;
	b->account_dirty_count = m->account_dirty_count;
	for (uint32_t i = m->pending_dirty_count; i < b->pending_dirty_count;
	     i++)
		b->pendings[b->pending_dirty[i]].flags &= ~SLOT_DIRTY;
	b->pending_dirty_count = m->pending_dirty_count;

	while (b->undo_count > m->undo_count) {
		struct undo_entry *u = &b->undo[--b->undo_count];
		switch (u->kind) {
		case UNDO_ACCOUNT:
			b->accounts[u->slot].rec = u->old.account;
			break;
		case UNDO_ACCOUNT_ADD:
			b->accounts[u->slot].gen = 0;
			break;
		case UNDO_PENDING:
			b->pendings[u->slot].rec = u->old.pending;
			break;
		case UNDO_PENDING_ADD:
			b->pendings[u->slot].gen = 0;
			break;
		default:
			PS_ASSERT(!"undo kind");
		}
	}
	/* New transfers' ids, newest first: exact for linear probing. */
	while (b->new_count > m->new_count) {
		b->new_count--;
		uint32_t i = id_probe(b, b->new_transfers[b->new_count].transfer.id);
		PS_ASSERT(b->ids[i].gen == b->gen);
		b->ids[i].gen = 0;
	}
	b->next_ts = m->next_ts;
}
