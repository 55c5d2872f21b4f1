/*
 * ledger_int.h: what the ledger's source files share and nobody else sees:
 * the stored record layouts, the key encodings, the handle, and the batch
 * scratch space (account cache, new transfers, pending states, undo log).
 *
 * Storage (one LMDB environment, named databases):
 *   ledger.accounts      id (16 bytes, big-endian)     -> account_hot
 *   ledger.account_info  id (16 bytes, big-endian)     -> account_cold
 *   ledger.transfers     timestamp (8, big-endian)     -> transfer_record
 *   ledger.transfer_ids  id (16, big-endian)           -> timestamp (native)
 *   ledger.pending       pending's timestamp (8, BE)   -> pending_record
 *   ledger.expiry        expires_at (8, BE) + ts (8)   -> empty
 *   ledger.meta          "version", "last_timestamp"   -> u32, u64
 * Keys are big-endian so that LMDB's byte order is numeric order: the
 * ledger-assigned timestamp only grows, so transfers are appended
 * (MDB_APPEND) and never inserted in the middle of the tree.
 *
 * An account is split in two: the part every transfer reads and writes
 * (balances, ledger, code, flags, history head: 48 bytes) and the part
 * written once at creation (user data, timestamp). A batch rewrites every
 * account page it touches, so the smaller the hot record, the fewer pages
 * each commit writes: the split halves them.
 */
#ifndef PAYSWITCH_LEDGER_INT_H
#define PAYSWITCH_LEDGER_INT_H

#include <lmdb.h>

#include "core.h"
#include "ledger.h"

#define LEDGER_FORMAT_VERSION 1u

/* An account in memory: the public record plus the head of its history. */
struct account_record {
	ledger_account_t account;
	uint64_t last_transfer_ts; /* newest transfer touching it; 0 none */
};

/* The stored parts of an account (see the top of this file). */
struct account_hot {
	uint64_t debits_pending;
	uint64_t debits_posted;
	uint64_t credits_pending;
	uint64_t credits_posted;
	uint64_t last_transfer_ts;
	uint32_t ledger;
	uint16_t code;
	uint16_t flags;
};

struct account_cold {
	ledger_id_t user_data_128;
	uint64_t user_data_64;
	uint64_t timestamp;
};

/* A transfer as stored: the public record plus its links in the history
 * chains of its two accounts (the previous transfer of each, 0 none). */
struct transfer_record {
	ledger_transfer_t transfer;
	uint64_t debit_prev_ts;
	uint64_t credit_prev_ts;
};

/* The mutable state of a pending transfer, kept apart from the immutable
 * transfer record. */
struct pending_record {
	uint32_t state;        /* enum ledger_pending_state */
	uint32_t reserved;
	uint64_t expires_at;   /* ns; 0 never */
	uint64_t resolved_ts;  /* the post's or void's timestamp; 0 */
	uint64_t posted_amount;
};

_Static_assert(sizeof(ledger_account_t) == 88, "account layout");
_Static_assert(sizeof(ledger_transfer_t) == 120, "transfer layout");
_Static_assert(sizeof(struct account_record) == 96, "account record");
_Static_assert(sizeof(struct account_hot) == 48, "account hot part");
_Static_assert(sizeof(struct account_cold) == 32, "account cold part");
_Static_assert(sizeof(struct transfer_record) == 136, "transfer record");
_Static_assert(sizeof(struct pending_record) == 32, "pending record");

/* ---- batch scratch ------------------------------------------------------ */

enum slot_flags {
	SLOT_USED = 1u << 0,    /* slot holds a key this batch */
	SLOT_FOUND = 1u << 1,   /* account: exists (else a cached miss) */
	SLOT_DIRTY = 1u << 2,   /* must be written back */
	SLOT_NEW = 1u << 3,     /* created by this batch */
};

struct account_slot {
	ledger_id_t id;
	uint32_t gen;   /* valid only when equal to the batch's generation */
	uint32_t flags;
	struct account_record rec;
};

struct pending_slot {
	uint64_t ts;    /* the pending transfer's timestamp: the key */
	uint32_t gen;
	uint32_t flags;
	uint32_t orig_state; /* state in the store before this batch */
	uint32_t reserved;
	struct pending_record rec;
	struct transfer_record pending; /* the pending transfer itself */
};

struct id_slot {
	ledger_id_t id;
	uint32_t gen;
	uint32_t index; /* into new_transfers */
};

enum undo_kind {
	UNDO_ACCOUNT = 1,  /* restore an account slot's record */
	UNDO_PENDING,      /* restore a pending slot's record */
	UNDO_PENDING_ADD,  /* forget a pending slot */
	UNDO_ACCOUNT_ADD,  /* forget an account slot (account creation) */
};

struct undo_entry {
	uint32_t kind;
	uint32_t slot;
	union {
		struct account_record account;
		struct pending_record pending;
	} old;
};

/* An account id and its slot, for visiting the store in key order. */
struct id_ref {
	ledger_id_t id;
	uint32_t slot;
	uint32_t reserved;
};

/* Marks of a linked chain's start, for rolling it back. */
struct chain_mark {
	uint32_t undo_count;
	uint32_t new_count;
	uint32_t account_dirty_count;
	uint32_t pending_dirty_count;
	uint64_t next_ts;
};

struct batch {
	uint32_t gen;
	uint64_t now_ns;           /* the clock read once per batch */
	uint64_t next_ts;          /* next timestamp to assign */
	ledger_id_t transfer_id_max; /* largest stored transfer id */
	ledger_id_t id_max;        /* largest id stored or new in the batch */
	bool chain_active;         /* inside a linked chain: log undo */

	struct account_slot *accounts; /* open addressing, pow2 slots */
	uint32_t account_mask;
	uint32_t *account_dirty;   /* slot indexes, write-back order */
	uint32_t account_dirty_count;
	uint32_t account_dirty_cap;

	struct pending_slot *pendings;
	uint32_t pending_mask;
	uint32_t *pending_dirty;
	uint32_t pending_dirty_count;
	uint32_t pending_dirty_cap;

	struct id_slot *ids;       /* new transfers' ids -> index */
	uint32_t id_mask;
	struct transfer_record *new_transfers;
	uint32_t new_count;

	struct undo_entry *undo;
	uint32_t undo_count;
	uint32_t undo_cap;

	struct id_ref *sorted;     /* 2 * batch_max ids, sorted for LMDB */
	struct id_ref *sort_scratch; /* the radix sort's other half */
	uint32_t *radix_count;     /* the radix sort's histogram */

	MDB_txn *txn;              /* the batch's write transaction */
};

struct ledger {
	MDB_env *env;
	MDB_dbi db_accounts;       /* the hot parts */
	MDB_dbi db_account_info;   /* the cold parts */
	MDB_dbi db_transfers;
	MDB_dbi db_ids;
	MDB_dbi db_pending;
	MDB_dbi db_expiry;
	MDB_dbi db_meta;
	MDB_txn *read_txn;         /* reset between calls, renewed */
	ledger_options_t options;
	uint64_t map_bytes;
	bool env_shared;           /* the caller's env: never closed, grown */
	struct batch batch;
};

/* ---- keys ----------------------------------------------------------------- */

static inline void key_put_id(uint8_t *out, ledger_id_t id)
{
	ps_be64_put(out, id.hi);
	ps_be64_put(out + 8, id.lo);
}
static inline ledger_id_t key_get_id(const uint8_t *in)
{
	ledger_id_t id = {ps_be64_get(in), ps_be64_get(in + 8)};
	return id;
}
static inline bool id_is_max(ledger_id_t id)
{
	return id.hi == UINT64_MAX && id.lo == UINT64_MAX;
}

static inline void account_hot_encode(const struct account_record *r,
				      struct account_hot *h)
{
	const ledger_account_t *a = &r->account;
	h->debits_pending = a->debits_pending;
	h->debits_posted = a->debits_posted;
	h->credits_pending = a->credits_pending;
	h->credits_posted = a->credits_posted;
	h->last_transfer_ts = r->last_transfer_ts;
	h->ledger = a->ledger;
	h->code = a->code;
	h->flags = a->flags;
}

/* Fills r's hot fields and id; leaves its cold fields alone. */
static inline void account_hot_decode(ledger_id_t id, const struct account_hot *h,
				      struct account_record *r)
{
	ledger_account_t *a = &r->account;
	a->id = id;
	a->debits_pending = h->debits_pending;
	a->debits_posted = h->debits_posted;
	a->credits_pending = h->credits_pending;
	a->credits_posted = h->credits_posted;
	r->last_transfer_ts = h->last_transfer_ts;
	a->ledger = h->ledger;
	a->code = h->code;
	a->flags = h->flags;
}

static inline void account_cold_encode(const struct account_record *r,
				       struct account_cold *c)
{
	c->user_data_128 = r->account.user_data_128;
	c->user_data_64 = r->account.user_data_64;
	c->timestamp = r->account.timestamp;
}

static inline void account_cold_decode(const struct account_cold *c,
				       struct account_record *r)
{
	r->account.user_data_128 = c->user_data_128;
	r->account.user_data_64 = c->user_data_64;
	r->account.timestamp = c->timestamp;
}

/* ---- env.c ------------------------------------------------------------- */

/* Maps an LMDB return code to a ledger error (0 stays 0). */
int ledger_map_mdb(int rc);
/* Begins and ends read transactions on the handle's reusable reader. */
int ledger_read_begin(ledger_t *ledger, MDB_txn **txn);
void ledger_read_end(ledger_t *ledger);
/*
 * Runs fn in a write transaction and commits it; when the map fills, grows
 * it (up to map_bytes_max) and runs fn again from the start, so fn must
 * depend only on the store and its arguments.
 */
int ledger_write(ledger_t *ledger, int (*fn)(ledger_t *, void *), void *arg);
/* Runs fn inside the caller's write transaction, without committing. */
int ledger_write_in(ledger_t *ledger, MDB_txn *txn,
		    int (*fn)(ledger_t *, void *), void *arg);
/* Loads a stored record by key into out (exact size checked). */
int ledger_get_record(MDB_txn *txn, MDB_dbi dbi, const void *key,
		      size_t key_size, void *out, size_t size);
/* The next timestamp and the batch's clock, at the start of a write. */
int ledger_batch_begin(ledger_t *ledger, MDB_txn *txn);
/* Stores the last assigned timestamp. */
int ledger_batch_store_clock(ledger_t *ledger);

/*
 * Reads account id into *out (zeroed first): the hot part, and the cold
 * part too when with_info. PS_ENOTFOUND when there is no such account,
 * LEDGER_ECORRUPT when one part is missing or malformed.
 */
int ledger_account_read(ledger_t *ledger, MDB_txn *txn, ledger_id_t id,
			bool with_info, struct account_record *out);
/* Writes an account's hot part (and its cold part when with_info). */
int ledger_account_put(ledger_t *ledger, MDB_cursor *hot,
		       const struct account_record *r, bool with_info,
		       unsigned int put_flags);

/* ---- cache.c ------------------------------------------------------------ */

int ledger_batch_alloc(struct batch *b, uint32_t batch_max);
void ledger_batch_free(struct batch *b);
/* Starts a new batch: forgets every slot in O(1). */
void ledger_batch_reset(struct batch *b, MDB_txn *txn);
/* The account slot for id, loaded from the store on first use; the slot's
 * SLOT_FOUND flag says whether the account exists. */
int ledger_account_load(ledger_t *ledger, ledger_id_t id,
			struct account_slot **out);
/* The cached slot for id, or NULL; never reads the store. */
struct account_slot *ledger_account_cached(struct batch *b, ledger_id_t id);
/*
 * Loads, in id order with one cursor, every account the batch's transfers
 * name, so that the B-tree is walked once rather than searched per
 * transfer. Pure speed: ledger_account_load() would find them anyway.
 */
int ledger_accounts_prefetch(ledger_t *ledger, const ledger_transfer_t *t,
			     uint32_t count);
/* Writes every dirty account back, in id order: the hot parts, and for
 * accounts this batch created the cold parts too. */
int ledger_accounts_write(ledger_t *ledger, bool created);
/* A fresh account slot for a new account (the id must not be cached). */
struct account_slot *ledger_account_add(struct batch *b, ledger_id_t id);
uint32_t ledger_account_slot_index(const struct batch *b,
				   const struct account_slot *slot);
/* Records the old value of an account slot (in a chain) and marks it
 * dirty; call before changing it. */
void ledger_account_touch(struct batch *b, struct account_slot *slot);
/* The new transfer index with this id, or -1. */
int64_t ledger_new_transfer_find(const struct batch *b, ledger_id_t id);
/* Appends a new transfer (its timestamp set) and indexes its id. */
void ledger_new_transfer_add(struct batch *b, const struct transfer_record *r);
/* The pending slot for the pending transfer at ts; *out NULL if absent. */
struct pending_slot *ledger_pending_find(struct batch *b, uint64_t ts);
struct pending_slot *ledger_pending_add(struct batch *b, uint64_t ts);
void ledger_pending_touch(struct batch *b, struct pending_slot *slot);
/* Linked chains: mark the start, roll back to the mark. */
void ledger_chain_mark(const struct batch *b, struct chain_mark *mark);
void ledger_chain_rollback(struct batch *b, const struct chain_mark *mark);

/* ---- batch.c -------------------------------------------------------------- */

/* What the batch driver needs to know of one kind of event. */
struct batch_events {
	const void *events;
	/* Applies event i (or rejects it) into *out; an error aborts. */
	int (*process)(ledger_t *ledger, const void *events, uint32_t i,
		       ledger_result_t *out);
	bool (*linked)(const void *events, uint32_t i);
	uint32_t ok, exists, linked_event_failed, linked_event_chain_open;
};

/* Runs count events in order with linked-chain semantics. */
int ledger_batch_run(ledger_t *ledger, const struct batch_events *events,
		     uint32_t count, ledger_result_t *out);

/* ---- transfers.c / two_phase.c ------------------------------------------ */

/* Looks a stored or new transfer up by id, into *out; 0, PS_ENOTFOUND. */
int ledger_transfer_find(ledger_t *ledger, ledger_id_t id,
			 struct transfer_record *out);
/* Validates and applies one post or void; returns its result code. */
int ledger_two_phase_apply(ledger_t *ledger, const ledger_transfer_t *t,
			   uint32_t *result);
/* Adds a pending transfer's pending slot (a new one). */
void ledger_pending_created(ledger_t *ledger,
			    const struct transfer_record *r);
/* Write-back of pending states and the expiry index. */
int ledger_pending_write(ledger_t *ledger);
/* Appends a transfer to its accounts' history chains and the batch. */
void ledger_transfer_record(ledger_t *ledger, struct transfer_record *r,
			    struct account_slot *dr, struct account_slot *cr);
/* Balance arithmetic shared by single-phase and two-phase transfers. */
uint32_t ledger_balance_check_post(const struct account_slot *dr,
				   const struct account_slot *cr,
				   uint64_t amount, bool pending);

#endif /* PAYSWITCH_LEDGER_INT_H */
