/*
 * batch.c: the driver shared by account and transfer batches: events in
 * order, linked chains that succeed or fail as a whole (rolled back in
 * memory through the undo log), and the results of a failed or unfinished
 * chain.
 */
#include "ledger_int.h"

/* Marks the events of a failed chain [start, end]: the culprit keeps its
 * result, the others become linked_event_failed. */
static void fail_chain(const struct batch_events *e, ledger_result_t *out,
		       uint32_t start, uint32_t end, uint32_t culprit)
{
	for (uint32_t j = start; j <= end; j++) {
		if (j != culprit)
			out[j].result = e->linked_event_failed;
		out[j].timestamp = 0;
	}
}

int ledger_batch_run(ledger_t *l, const struct batch_events *e,
		     uint32_t count, ledger_result_t *out)
{
	struct batch *b = &l->batch;
	struct chain_mark mark;
	uint32_t chain_start = 0, culprit = 0;
	bool chain_failed = false;
	for (uint32_t i = 0; i < count; i++) {
		bool linked = e->linked(e->events, i);
		if (!b->chain_active && linked) {
			b->chain_active = true;
			chain_start = i;
			chain_failed = false;
			ledger_chain_mark(b, &mark);
		}
		out[i].reserved = 0;
		if (b->chain_active && chain_failed) {
			out[i].result = e->linked_event_failed;
			out[i].timestamp = 0;
		} else {
			int rc = e->process(l, e->events, i, &out[i]);
			if (rc != 0)
				return rc;
			/* In a chain, exists is success: a retried chain
			 * answers exists for each of its events. */
			if (b->chain_active && out[i].result != e->ok &&
			    out[i].result != e->exists) {
				chain_failed = true;
				culprit = i;
				ledger_chain_rollback(b, &mark);
			}
		}
		if (!b->chain_active)
			continue;
		bool last = i + 1 == count;
		if (linked && !last)
			continue;
		if (linked && !chain_failed) {
			/* The batch ended inside the chain. */
			ledger_chain_rollback(b, &mark);
			chain_failed = true;
			culprit = i;
			out[i].result = e->linked_event_chain_open;
		}
		if (chain_failed)
			fail_chain(e, out, chain_start, i, culprit);
		b->chain_active = false;
	}
	return 0;
}
