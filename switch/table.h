/*
 * table.h: the transactions the switch holds in memory.
 *
 * A record (sw_txn_t) is the transaction plus what matters only while
 * this process runs: where to answer, its hash chains, its deadline. It
 * comes from a pool sized at start, so the hot path never allocates and a
 * full pool is a bound the caller answers with 91. Three hash indexes find
 * a record by switch id, by idempotency key (participant, request id) and
 * by the match key of the leg it waits on (endpoint, STAN, field 7); a
 * min-heap orders the deadlines.
 *
 * A record stays in memory until its last change is committed, so every
 * lookup sees the newest state: memory first, then the store. A change is
 * marked (sw_table_mark); at the end of the turn sw_table_flush() writes
 * every marked record into the store's batch, and once that batch is
 * committed sw_table_release_done() frees the records that were only
 * waiting for it. Records are freed only there, at the end of a turn, so
 * a caller's pointer never dangles within one.
 */
#ifndef PAYSWITCH_SW_TABLE_H
#define PAYSWITCH_SW_TABLE_H

#include <stdbool.h>
#include <stdint.h>

#include "adapters.h"
#include "core.h"
#include "store.h"

struct sw_wbuf; /* net.h */

typedef struct sw_txn {
	txn_t t;
	struct sw_wbuf *answer;  /* its origin's answer buffer, addressed to
				    the origin's connection; NULL: nobody
				    to answer (recovered, SAF) */
	uint32_t next_id;        /* hash chains: pool index + 1, 0 = end */
	uint32_t next_idem;
	uint32_t next_match;
	uint32_t heap_index;     /* deadline heap slot, SW_NOT_SCHEDULED */
	uint64_t deadline_mono_ms;
	int8_t cur_leg;          /* leg awaiting a response, -1 none */
	bool in_id;
	bool in_idem;
	bool in_match;
	bool dirty;              /* to be written by this turn's batch */
	bool release;            /* free once the batch is committed */
	bool release_queued;     /* in the release list */
	bool saf;                /* a transmission of the SAF queue: stored
				    under saf_key, not in inflight */
	bool saf_done;           /* acknowledged: its SAF key is deleted */
	uint16_t pins;           /* refunds holding this pay in memory */
	uint8_t saf_key[16];     /* reversal transmissions: their SAF key */
	uint64_t started_ns;     /* intake time, for the latency histogram */
} sw_txn_t;

#define SW_NOT_SCHEDULED UINT32_MAX

typedef struct sw_table {
	sw_store_t *store;
	ps_pool_t pool;
	uint32_t *by_id;         /* buckets: pool index + 1 */
	uint32_t *by_idem;
	uint32_t *by_match;
	uint32_t bucket_mask;
	sw_txn_t **heap;         /* deadline min-heap */
	uint32_t heap_len;
	sw_txn_t **dirty;        /* marked this turn */
	uint32_t dirty_count;
	sw_txn_t **release;      /* to free after the turn's commit */
	uint32_t release_count;
	uint32_t reversals;      /* SAF transmissions in memory */
} sw_table_t;

int sw_table_init(sw_table_t *tb, sw_store_t *store, uint32_t capacity);
void sw_table_free(sw_table_t *tb);

/* A zeroed record, or NULL when the pool is exhausted (a bound). */
sw_txn_t *sw_txn_new(sw_table_t *tb);
/* Back to the pool, out of every index. Never for a marked record. */
void sw_txn_free(sw_table_t *tb, sw_txn_t *st);
uint32_t sw_table_count(const sw_table_t *tb);

/* ---- finding ------------------------------------------------------------ */

sw_txn_t *sw_txn_by_id(sw_table_t *tb, uint64_t id);
sw_txn_t *sw_txn_by_idem(sw_table_t *tb, const char *participant,
			 const char *request_id);
sw_txn_t *sw_txn_by_match(sw_table_t *tb, const char *endpoint, uint32_t stan,
			  const char *transmit);
void sw_txn_index_id(sw_table_t *tb, sw_txn_t *st);
void sw_txn_index_idem(sw_table_t *tb, sw_txn_t *st);
/* Indexes the leg st waits on (st->cur_leg); unindex undoes it. */
void sw_txn_index_match(sw_table_t *tb, sw_txn_t *st);
void sw_txn_unindex_match(sw_table_t *tb, sw_txn_t *st);

/*
 * The record of id in memory, loaded from the store when it is not there
 * (indexed by id and idempotency key, so later changes are made once, on
 * the newest copy). NULL when it exists nowhere or the pool is full.
 */
sw_txn_t *sw_table_load(sw_table_t *tb, uint64_t id);

/* ---- deadlines ---------------------------------------------------------- */

void sw_txn_schedule(sw_table_t *tb, sw_txn_t *st, uint64_t deadline_ms);
void sw_txn_unschedule(sw_table_t *tb, sw_txn_t *st);
/* The record whose deadline comes first, or NULL. */
sw_txn_t *sw_txn_earliest(sw_table_t *tb);
/* Every deadline later by ms (their order, and so the heap, unchanged). */
void sw_table_delay_deadlines(sw_table_t *tb, uint64_t ms);

/* ---- changes and their commit ------------------------------------------- */

/* st changed: the turn's batch writes it. */
void sw_table_mark(sw_table_t *tb, sw_txn_t *st);
/* st may leave memory once its changes are committed (and it is unpinned
 * and waits on no leg). */
void sw_table_release(sw_table_t *tb, sw_txn_t *st);
/* A finished record held only for a lookup goes back once unpinned. */
void sw_table_let_go(sw_table_t *tb, sw_txn_t *st);
/* Records marked but not yet written into the batch. */
uint32_t sw_table_dirty_count(const sw_table_t *tb);
/* Writes every marked record into the store's batch (room was made). */
void sw_table_flush(sw_table_t *tb);
/* After a successful commit: frees the records that waited for it. */
void sw_table_release_done(sw_table_t *tb);
/* Does anything wait for the end of the turn? */
bool sw_table_busy(const sw_table_t *tb);

/* What the SAF queue sends: reversals and completion advices. (An
 * acquirer's own reversal is a transaction like any other.) */
static inline bool sw_is_saf_kind(int kind)
{
	return kind == TXN_KIND_REVERSAL || kind == TXN_KIND_COMPLETION;
}

#endif /* PAYSWITCH_SW_TABLE_H */
