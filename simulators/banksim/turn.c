/*
 * turn.c: the turn: everything read during one loop iteration becomes one
 * ledger batch, committed before any of its answers leaves.
 *
 * It runs in a uv_check callback, after the loop has read every socket
 * that had data, so a burst from many connections shares one commit (group
 * commit: the cost of a write transaction is paid per batch, not per
 * request). A request deferred by bank_plan (its key already in this
 * batch, or the batch full) stays at the head of the queue for the next
 * turn, which comes at once: the idle handle keeps poll from blocking
 * while anything waits.
 */
#include <string.h>

#include "banksim.h"
#include "core.h"

void bank_turn_enqueue(banksim_t *sim, bank_req_t *req)
{
	req->next = NULL;
	if (sim->queue_tail != NULL)
		sim->queue_tail->next = req;
	else
		sim->queue_head = req;
	sim->queue_tail = req;
	banksim_keep_turning(sim);
}

static bool is_money_message(const txn_t *t)
{
	return t->kind != TXN_KIND_NETWORK;
}

/* Debug for every answer; info for the ones an operator follows (the
 * reversal paths, completions, refusals) and error for 96. */
static void log_answer(const bank_req_t *req)
{
	const txn_t *t = &req->t;
	const bank_work_t *w = &req->work;
	bool notable = t->kind == TXN_KIND_REVERSAL ||
		       t->kind == TXN_KIND_COMPLETION ||
		       w->op == BANK_OP_TOMBSTONE;
	enum ps_log_level level = strcmp(w->code, "96") == 0 ? PS_LOG_ERROR
				  : notable		   ? PS_LOG_INFO
							   : PS_LOG_DEBUG;
	if (!ps_log_enabled(level))
		return;
	ps_log_t *l = ps_log_begin(level, "answer");
	if (t->wire.mti[0] != '\0')
		ps_log_str(l, "mti", t->wire.mti);
	ps_log_str(l, "kind", txn_kind_name(t->kind));
	if (w->key[0] != '\0')
		ps_log_str(l, "key", w->key);
	if (is_money_message(t)) {
		ps_log_pan(l, "account", t->payer, strlen(t->payer));
		ps_log_int(l, "amount", t->amount);
	} else {
		ps_log_str(l, "network_code", t->wire.network_code);
	}
	ps_log_str(l, "code", w->code);
	ps_log_str(l, "reason", w->reason ? w->reason : "");
	ps_log_end(l);
}

/* Plans the queued records into the batch; the deferred stay queued, in
 * their order. Returns how many were planned. */
static uint32_t plan_all(banksim_t *sim)
{
	bank_req_t *req = sim->queue_head;
	sim->queue_head = sim->queue_tail = NULL;
	uint32_t planned = 0;
	while (req != NULL) {
		bank_req_t *next = req->next;
		int rc = bank_plan(&sim->bank, &sim->batch, &req->t, &req->work);
		if (rc == BANK_EDEFER) {
			sim->stats.deferred++;
			bank_turn_enqueue(sim, req);
		} else {
			PS_ASSERT(rc == 0);
			sim->planned[planned++] = req;
		}
		req = next;
	}
	return planned;
}

void bank_turn_run(banksim_t *sim)
{
	if (sim->queue_head == NULL) {
		banksim_rest(sim);
		return;
	}
	bank_batch_reset(&sim->batch);
	uint32_t planned = plan_all(sim);
	int rc = bank_batch_commit(&sim->bank, &sim->batch);
	if (rc != 0)
		ps_logf(PS_LOG_ERROR, "batch_failed",
			"%u transfers not committed: %s; their requests get 96",
			sim->batch.count, ledger_strerror(rc));
	sim->stats.batches++;
	sim->stats.batch_transfers += sim->batch.count;
	for (uint32_t i = 0; i < planned; i++) {
		bank_req_t *req = sim->planned[i];
		bank_settle(&sim->bank, &sim->batch, &req->work, &req->t);
		log_answer(req);
		const char *code = req->work.code;
		if (code[0] >= '0' && code[0] <= '9' && code[1] >= '0' &&
		    code[1] <= '9')
			sim->stats.codes[(code[0] - '0') * 10 + (code[1] - '0')]++;
		bank_answer_schedule(sim, req);
	}
	if (sim->queue_head == NULL)
		banksim_rest(sim);
}
