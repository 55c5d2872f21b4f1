/*
 * turn.h: one loop turn's commit: the record of what the turn decided
 * reaches the disk before anything that depends on it leaves.
 *
 * At the end of every loop turn (a uv_check handle) the turn writes the
 * records the turn changed into the store's batch (sw_table_flush),
 * commits the batch, and only then writes the outbox; the records that
 * were only waiting for the commit are freed last. A turn that has work
 * waiting keeps the loop from blocking in poll (an idle handle, started
 * from a prepare handle), so work started by a timer commits in the same
 * turn.
 *
 * Every event that may write (a request, a response, a deadline, a SAF
 * entry, a record recovered or purged) first calls sw_turn_reserve(): it
 * makes room in the batch for the event's worst case, committing the turn
 * early when the batch is full, so no operation is ever dropped. When that
 * early commit fails the event must not start: the caller refuses it
 * (91) or leaves it for a later turn.
 *
 * A failed commit keeps the batch, the records and the outbox exactly as
 * they were; a timer retries it every SW_TURN_RETRY_MS until it succeeds
 * (the store's commit_failures counts the failures in a row). When it
 * does, every leg deadline moves back by the length of the outage: the
 * legs of the held batch leave only then, and no timeout could be worked
 * meanwhile.
 */
#ifndef PAYSWITCH_SW_TURN_H
#define PAYSWITCH_SW_TURN_H

#include <stdbool.h>

#include <uv.h>

#include "ctx.h"
#include "outbox.h"
#include "record.h"
#include "store.h"
#include "table.h"

/* The most one event may write: operations, and key plus value bytes,
 * besides the records it marks (sw_table_mark), which are counted as they
 * are marked. */
#define SW_EVENT_OPS_MAX 32
#define SW_EVENT_BYTES_MAX (SW_EVENT_OPS_MAX * (SW_KEY_BYTES_MAX + TXN_RECORD_BYTES_MAX))
#define SW_TURN_RETRY_MS 100

typedef struct sw_turn {
	sw_ctx_t *ctx;
	sw_store_t *store;
	sw_table_t *table;
	sw_outbox_t *outbox;
	uv_prepare_t prepare;
	uv_idle_t idle;
	uv_check_t check;
	uv_timer_t retry;
	bool idle_on;
	bool open;
	uint64_t outage_start_ms; /* loop time of the first failed commit */
	/* Called at the end of every turn, after the commit (the server
	 * re-arms its deadline timer and looks at its drain there). */
	void (*after)(void *data);
	void *after_data;
} sw_turn_t;

/* Starts the turn's handles on ctx's loop. */
int sw_turn_start(sw_turn_t *turn, sw_ctx_t *ctx, sw_store_t *store,
		  sw_table_t *table, sw_outbox_t *outbox,
		  void (*after)(void *data), void *after_data);
void sw_turn_close(sw_turn_t *turn);

/* Room for one event (see above). 0, or PS_EIO when the turn had to be
 * committed early and that commit failed. */
int sw_turn_reserve(sw_turn_t *turn);
/* Flushes the marked records, commits, and writes the outbox. 0, or
 * PS_EIO (nothing was sent; the batch is kept). */
int sw_turn_commit(sw_turn_t *turn);
/* sw_turn_commit(), then frees the records that waited for it: what the
 * end of a turn does (also used before the loop runs, by recovery). */
int sw_turn_end(sw_turn_t *turn);
/* Has the turn anything uncommitted or unsent? */
bool sw_turn_busy(const sw_turn_t *turn);

#endif /* PAYSWITCH_SW_TURN_H */
