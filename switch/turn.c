/*
 * turn.c: the per-turn commit (turn.h).
 */
#include "turn.h"

#include <string.h>

/* Bytes a marked record takes in the batch: its key and its value. */
#define RECORD_BATCH_BYTES (16 + TXN_RECORD_BYTES_MAX)

bool sw_turn_busy(const sw_turn_t *turn)
{
	return sw_store_busy(turn->store) || sw_table_busy(turn->table) ||
	       sw_outbox_busy(turn->outbox);
}

int sw_turn_commit(sw_turn_t *turn)
{
	bool failing = turn->store->commit_failures > 0;
	sw_table_flush(turn->table);
	int rc = sw_store_commit(turn->store);
	uint64_t now = uv_now(turn->ctx->loop);
	if (rc != 0 && !failing)
		turn->outage_start_ms = now;
	if (rc == 0 && failing) {
		/* The legs of the held batch only leave now, and no deadline
		 * could be worked while the store failed: every clock starts
		 * again where it stood when the outage began. */
		sw_table_delay_deadlines(turn->table, now - turn->outage_start_ms);
	}
	/* What depends on no state leaves either way; the rest only once
	 * its batch is durable. */
	sw_outbox_flush(turn->outbox, rc == 0);
	return rc;
}

int sw_turn_end(sw_turn_t *turn)
{
	int rc = sw_turn_commit(turn);
	if (rc == 0)
		sw_table_release_done(turn->table);
	return rc;
}

int sw_turn_reserve(sw_turn_t *turn)
{
	uint32_t dirty = sw_table_dirty_count(turn->table);
	uint32_t ops = SW_EVENT_OPS_MAX + dirty;
	size_t bytes = SW_EVENT_BYTES_MAX + (size_t)dirty * RECORD_BATCH_BYTES;
	if (sw_store_has_room(turn->store, ops, bytes))
		return 0;
	/* A turn that produced this much is committed early: the same as
	 * ending the turn here, except that no record is freed (callers up
	 * the stack may hold them). */
	return sw_turn_commit(turn);
}

/* ---- the handles ------------------------------------------------------------ */

static void on_idle(uv_idle_t *idle)
{
	(void)idle; /* being active is the point: poll does not block */
}

static void on_prepare(uv_prepare_t *prepare)
{
	sw_turn_t *turn = prepare->data;
	/* Work waits for the check handle: do not block in poll. While
	 * commits fail, the retry timer wakes the loop instead. */
	bool spin = sw_turn_busy(turn) && turn->store->commit_failures == 0;
	if (spin && !turn->idle_on)
		uv_idle_start(&turn->idle, on_idle);
	else if (!spin && turn->idle_on)
		uv_idle_stop(&turn->idle);
	turn->idle_on = spin;
}

static void on_retry(uv_timer_t *timer)
{
	(void)timer; /* waking the loop is enough: the check handle retries */
}

static void on_check(uv_check_t *check)
{
	sw_turn_t *turn = check->data;
	if (sw_turn_busy(turn) && sw_turn_end(turn) != 0 &&
	    !uv_is_active((uv_handle_t *)&turn->retry))
		uv_timer_start(&turn->retry, on_retry, SW_TURN_RETRY_MS, 0);
	if (turn->after != NULL)
		turn->after(turn->after_data);
}

int sw_turn_start(sw_turn_t *turn, sw_ctx_t *ctx, sw_store_t *store,
		  sw_table_t *table, sw_outbox_t *outbox,
		  void (*after)(void *data), void *after_data)
{
	memset(turn, 0, sizeof(*turn));
	turn->ctx = ctx;
	turn->store = store;
	turn->table = table;
	turn->outbox = outbox;
	turn->after = after;
	turn->after_data = after_data;
	uv_prepare_init(ctx->loop, &turn->prepare);
	uv_idle_init(ctx->loop, &turn->idle);
	uv_check_init(ctx->loop, &turn->check);
	uv_timer_init(ctx->loop, &turn->retry);
	turn->prepare.data = turn->idle.data = turn->check.data = turn;
	turn->retry.data = turn;
	uv_prepare_start(&turn->prepare, on_prepare);
	uv_check_start(&turn->check, on_check);
	turn->open = true;
	return 0;
}

static void close_if(uv_handle_t *h)
{
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

void sw_turn_close(sw_turn_t *turn)
{
	if (!turn->open)
		return;
	turn->open = false;
	close_if((uv_handle_t *)&turn->prepare);
	close_if((uv_handle_t *)&turn->idle);
	close_if((uv_handle_t *)&turn->check);
	close_if((uv_handle_t *)&turn->retry);
}
