/*
 * turn.c: the bank's turn: everything read during one loop iteration
 * becomes one ledger batch, committed before any of its answers leaves.
 *
 * The server loop (server.h) gives the turn every request read since the
 * last one, so a burst from many connections shares one commit (group
 * commit: the cost of a write transaction is paid per batch, not per
 * request). A request bank_plan defers (its key already in this batch, or
 * the batch full) is marked SIM_DEFER: the loop gives it to the next turn,
 * which comes at once, ahead of anything read since. The first request of
 * a turn always fits an empty batch, so every turn makes progress.
 */
#include <string.h>

#include "banksim.h"
#include "core.h"

static bool is_money_message(const txn_t *t)
{
	return t->kind != TXN_KIND_NETWORK && t->kind != TXN_KIND_RECON;
}

/* A 0510's totals, as it answers them: of the forwarder asking (field
 * 33), or of them all. */
static void log_totals(ps_log_t *l, const txn_t *t)
{
	const txn_totals_t *x = &t->wire.totals;
	ps_log_str(l, "settle_date", t->wire.settle_date);
	ps_log_str(l, "forwarder", t->forwarder[0] ? t->forwarder : "all");
	if (!t->wire.has_totals)
		return;
	ps_log_uint(l, "credits", x->credits);
	ps_log_int(l, "credits_amount", x->credits_amount);
	ps_log_uint(l, "credit_reversals", x->credit_reversals);
	ps_log_int(l, "credit_reversals_amount", x->credit_reversals_amount);
	ps_log_uint(l, "debits", x->debits);
	ps_log_int(l, "debits_amount", x->debits_amount);
	ps_log_uint(l, "debit_reversals", x->debit_reversals);
	ps_log_int(l, "debit_reversals_amount", x->debit_reversals_amount);
	ps_log_int(l, "net", x->net);
}

/* Debug for every answer; info for the ones an operator follows (the
 * reversal paths, completions, refusals, reconciliation), warn for an
 * answer that hides a problem, and error for 96. */
static void log_answer(const txn_t *t, const bank_work_t *w)
{
	bool notable = t->kind == TXN_KIND_REVERSAL ||
		       t->kind == TXN_KIND_COMPLETION ||
		       t->kind == TXN_KIND_RECON ||
		       w->op == BANK_OP_TOMBSTONE;
	enum ps_log_level level = strcmp(w->code, "96") == 0 ? PS_LOG_ERROR
				  : w->warn		   ? PS_LOG_WARN
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
	} else if (t->kind == TXN_KIND_RECON) {
		log_totals(l, t);
	} else {
		ps_log_str(l, "network_code", t->wire.network_code);
	}
	ps_log_str(l, "code", w->code);
	ps_log_str(l, "reason", w->reason ? w->reason : "");
	ps_log_end(l);
}

/* Plans every request into the batch; the deferred are marked so. */
static void plan_all(banksim_t *sim, sim_req_t **reqs, uint32_t count)
{
	for (uint32_t i = 0; i < count; i++) {
		bank_work_t *w = sim_req_work(reqs[i]);
		int rc = bank_plan(&sim->bank, &sim->batch, &reqs[i]->t, w);
		if (rc == BANK_EDEFER) {
			reqs[i]->action = SIM_DEFER;
		} else {
			PS_ASSERT(rc == 0);
		}
	}
}

void bank_turn(void *ctx, sim_req_t **reqs, uint32_t count)
{
	banksim_t *sim = ctx;
	bank_batch_reset(&sim->batch);
	plan_all(sim, reqs, count);
	int rc = bank_batch_commit(&sim->bank, &sim->batch);
	if (rc != 0)
		ps_logf(PS_LOG_ERROR, "batch_failed",
			"%u transfers not committed: %s; their requests get 96",
			sim->batch.count, ledger_strerror(rc));
	sim->stats.batches++;
	sim->stats.batch_transfers += sim->batch.count;
	for (uint32_t i = 0; i < count; i++) {
		if (reqs[i]->action == SIM_DEFER)
			continue;
		bank_work_t *w = sim_req_work(reqs[i]);
		bank_settle(&sim->bank, &sim->batch, w, &reqs[i]->t);
		log_answer(&reqs[i]->t, w);
		const char *code = w->code;
		if (code[0] >= '0' && code[0] <= '9' && code[1] >= '0' &&
		    code[1] <= '9')
			sim->stats.codes[(code[0] - '0') * 10 + (code[1] - '0')]++;
	}
}
