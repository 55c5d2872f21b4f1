/*
 * store.h: the switch's LMDB environment and the batch of one loop turn.
 *
 * The switch owns one LMDB environment (lmdb.dir). The store opens it and
 * its databases, lends it to the route table (routing.h is given the
 * environment, it does not open it), reads through one reusable read
 * snapshot, and collects the turn's writes in a batch: a list of puts and
 * deletes over an arena, applied in one write transaction by
 * sw_store_commit(). One fsync per turn, however many messages it carries.
 *
 * Databases (docs/architecture.md has the layouts):
 *   inflight  u64 txn id (big-endian)          -> transaction record
 *   active    u64 txn id                       -> "" (not yet final)
 *   match     endpoint[32] stan(u32 BE) 7[10]  -> u64 txn id, u8 leg
 *   idem      participant \0 request id        -> u64 txn id
 *   saf       due ms (u64 BE), seq (u64 BE)    -> reversal or advice record
 *   exceptions          u64 id (BE)            -> an open exception (JSON)
 *   exceptions_resolved u64 id (BE)            -> the same, resolved
 *   meta      "seq"                            -> reserved sequences
 *   windows   u64 window (BE), or "open"       -> a window (JSON), the open one
 *   obligations channel u8, period[12], txn u64, leg u8, event u8
 *                                              -> an obligation (clearing.h)
 *   ledger.*  the switch's ledger (ledger.h, opened in this environment)
 *   routes, route_meta, audit: routing/ owns them.
 *
 * An exception is what the switch could not finish by itself and an
 * operator must: a reversal or a completion advice given up after its
 * attempts or its age, a completion whose authorisation the bank no
 * longer holds. Its value is one JSON object (docs/operations.md lists
 * the members); `switchctl exceptions resolve` moves it to
 * exceptions_resolved with who, when and a note, and audits that.
 *
 * The batch never drops an operation: a caller first makes room for
 * everything one event may write (sw_turn_reserve() in turn.h commits the
 * turn early when the batch is full), so a put or a delete into a batch
 * without room is a programmer error and asserts. A failed commit keeps
 * the whole batch for the next attempt; nothing that depends on it has
 * been sent (turn.h).
 *
 * Not thread-safe: one loop, one store.
 */
#ifndef PAYSWITCH_SW_STORE_H
#define PAYSWITCH_SW_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lmdb.h>

#include "ctx.h"

#define SW_STORE_DBS_MAX 32       /* = ROUTE_ENV_DBS_MAX: switchctl opens */
#define SW_STORE_READERS_MAX 126  /* the same environment with routing.h */
#define SW_BATCH_ARENA_BYTES (4u * 1024 * 1024)
#define SW_BATCH_OPS_MAX 65536

#define SW_KEY_BYTES_MAX 128      /* the longest key the switch writes */
#define SW_MATCH_KEY_BYTES (SW_NAME_MAX + 14)

typedef struct sw_op {
	uint8_t put;             /* 1 put, 0 delete */
	MDB_dbi dbi;
	uint32_t key_off, key_len;
	uint32_t val_off, val_len;
} sw_op_t;

/*
 * Faults on purpose, for tests (the control socket's "fault" command,
 * allowed only with "test_faults": true in the configuration). A fault
 * makes sw_store_commit() fail exactly as a disk would: nothing of the
 * batch is written, and it is kept for the next attempt.
 */
typedef struct sw_store_faults {
	uint32_t commit_after;   /* commits that still succeed, then ... */
	uint32_t commit_count;   /* ... this many fail (0: no commit fault) */
	int32_t put_at;          /* the next commit fails at its operation of
				    this index (-1: none) */
	bool map_full;           /* every commit finds the map full and
				    cannot grow it, until cleared */
} sw_store_faults_t;

typedef struct sw_store {
	sw_ctx_t *ctx;
	MDB_env *env;
	MDB_dbi inflight, active, match, idem, saf, meta;
	MDB_dbi exceptions, exceptions_resolved;
	MDB_dbi windows, obligations;      /* clearing.h */
	MDB_txn *rtxn;           /* the read snapshot: reset between uses */
	/* The batch of this loop turn. */
	sw_op_t *ops;
	uint32_t op_count;
	uint8_t *arena;
	uint32_t arena_used;
	/* Sequences, reserved in blocks so a restart never reuses one. */
	uint64_t txn_next, txn_reserved;
	uint64_t msg_next, msg_reserved;
	uint64_t saf_seq;
	bool seq_dirty;
	uint32_t commit_failures; /* in a row; 0 after a commit succeeds */
	sw_store_faults_t faults;
	int lock_fd;             /* lmdb.dir/switchd.lock, held (flock) */
	bool lock_open;          /* lock_fd is open (held once open succeeds) */
} sw_store_t;

/* Opens (creating) lmdb.dir and the databases; the first sequence numbers
 * follow the blocks the last run reserved. Takes lmdb.dir/switchd.lock
 * first: PS_ESTATE when another switchd holds it. PS_EIO with err on
 * other failures. */
int sw_store_open(sw_store_t *st, sw_ctx_t *ctx, char *err, size_t err_cap);
/* Closes the environment. Every transaction must have ended. */
void sw_store_close(sw_store_t *st);

/* ---- reading ----------------------------------------------------------- */

/*
 * The read snapshot, renewed: it sees every committed batch (and what
 * switchctl committed). Values are borrowed until sw_store_read_done().
 * NULL when LMDB failed (logged).
 */
MDB_txn *sw_store_read(sw_store_t *st);
void sw_store_read_done(sw_store_t *st);

/* A whole value copied into out (cap bytes), *len its size.
 * PS_ENOTFOUND, PS_ENOSPC (value larger than cap), PS_EIO. */
int sw_store_get(sw_store_t *st, MDB_dbi dbi, const void *key, size_t klen,
		 void *out, size_t cap, size_t *len);
/* The transaction record of id (inflight), decoded into out (any record
 * version this build reads: record.h). PS_ENOTFOUND, PS_EFORMAT (not a
 * record this switch can read; logged), PS_EIO. */
int sw_store_get_txn(sw_store_t *st, uint64_t id, txn_t *out);
/* A record read by a cursor (SAF, recovery, retention), decoded. */
int sw_store_decode_txn(const void *val, size_t len, txn_t *out);
/* idem: the switch id of (participant, request id). PS_ENOTFOUND, PS_EIO. */
int sw_store_idem_get(sw_store_t *st, const char *participant,
		      const char *request_id, uint64_t *txn_id);
/* match: the transaction and leg a response key names. */
int sw_store_match_get(sw_store_t *st, const char *endpoint, uint32_t stan,
		       const char *transmit, uint64_t *txn_id, uint8_t *leg);
/* Entries in the SAF queue, and open exceptions (0 when LMDB fails). */
uint64_t sw_store_saf_entries(sw_store_t *st);
uint64_t sw_store_exceptions_open(sw_store_t *st);

/* ---- keys -------------------------------------------------------------- */

void sw_id_key(uint64_t id, uint8_t out[8]);
uint64_t sw_id_from_key(const uint8_t key[8]);
/* participant \0 request id; returns the key length (<= cap). */
size_t sw_idem_key(const char *participant, const char *request_id,
		   uint8_t *out, size_t cap);
/* endpoint (32 bytes, NUL padded), STAN (u32 BE), field 7 (10 digits). */
size_t sw_match_key(const char *endpoint, uint32_t stan, const char *transmit,
		    uint8_t out[SW_MATCH_KEY_BYTES]);

/* ---- the batch --------------------------------------------------------- */

/* Is there room for ops more operations holding bytes more key and value
 * bytes? */
bool sw_store_has_room(const sw_store_t *st, uint32_t ops, size_t bytes);
/* Adds a put or a delete to the batch; room was made for it. */
void sw_store_put(sw_store_t *st, MDB_dbi dbi, const void *key, size_t klen,
		  const void *val, size_t vlen);
void sw_store_del(sw_store_t *st, MDB_dbi dbi, const void *key, size_t klen);
/* A transaction record (record.h, the current version) into inflight, or
 * a SAF record under its key. */
void sw_store_put_txn(sw_store_t *st, MDB_dbi dbi, const uint8_t *key,
		      size_t klen, const txn_t *t);
/* Does the batch hold anything to commit? */
bool sw_store_busy(const sw_store_t *st);
/*
 * Applies the batch in one write transaction and commits it (growing a
 * full map once). 0: the batch is durable (per lmdb.sync) and emptied.
 * PS_EIO: nothing was written and the batch is kept as it was, to be
 * committed by a later call; commit_failures counts the failures in a row.
 */
int sw_store_commit(sw_store_t *st);

/* Sets the faults to inject (all zero and put_at -1: none). */
void sw_store_set_faults(sw_store_t *st, const sw_store_faults_t *faults);

/* ---- sequences ---------------------------------------------------------- */

uint64_t sw_store_next_txn_id(sw_store_t *st);
/* The sequence behind STANs and RRNs. */
uint64_t sw_store_next_msg_seq(sw_store_t *st);
/* The sequence that orders SAF keys with the same due time. */
uint64_t sw_store_next_saf_seq(sw_store_t *st);

#endif /* PAYSWITCH_SW_STORE_H */
