/*
 * answer.c: answers on their way out: packing, fault injection, latency,
 * writing, and giving records back.
 *
 * Faults act on the answer only, after the commit: a dropped answer, or a
 * connection closed instead of answering, leaves the posting in the book,
 * which is exactly the case the switch's timeout and reversal exist for.
 * A fault pinned on an account applies to 0200s naming it; the random
 * rates apply to every answer but 0810s, so the switch's repeats of
 * reversals and advices are exercised too. Draws, in order, for each
 * answer: drop, close, delay, latency, from a stream seeded by --seed and
 * the request itself (MTI, fields 32, 11, 7): the same request meets the
 * same fate in every run.
 *
 * Held answers wait on a binary heap ordered by due time, under one timer
 * armed for the earliest; the heap's storage is sized to the record pool,
 * so holding never allocates.
 */
#include <stdio.h>
#include <string.h>

#include "banksim.h"
#include "core.h"

void bank_req_release(banksim_t *sim, bank_req_t *req)
{
	bank_conn_t *c = req->conn;
	/* Only while the generation matches is c still this connection. */
	if (c != NULL && req->conn_gen != 0 && c->gen == req->conn_gen) {
		PS_ASSERT(c->inflight > 0);
		c->inflight--;
	}
	ps_pool_put(&sim->reqs, req);
	/* A paused connection may go on now: the turn resumes it, and must
	 * not wait for poll to time out first. */
	if (sim->paused_count > 0)
		banksim_keep_turning(sim);
}

/* ---- packing ---------------------------------------------------------------- */

static int pack(banksim_t *sim, bank_req_t *req)
{
	return chan_encode_answer(&sim->chan, &req->t, NULL, req->answer,
				  sizeof(req->answer), &req->answer_len);
}

/* ---- faults ----------------------------------------------------------------- */

static bool is_0200(const txn_t *t)
{
	return t->kind == TXN_KIND_PURCHASE || t->kind == TXN_KIND_CREDIT ||
	       t->kind == TXN_KIND_REFUND_CREDIT || t->kind == TXN_KIND_BALANCE;
}

static int pick_fault(banksim_t *sim, const bank_req_t *req, sim_rng_t *rng)
{
	const bank_cfg_t *cfg = sim->cfg;
	const bank_work_t *w = &req->work;
	if (req->t.kind == TXN_KIND_NETWORK)
		return BANK_FAULT_NONE;
	if (is_0200(&req->t) && w->account != NULL &&
	    w->account->fault != BANK_FAULT_NONE)
		return w->account->fault;
	if (sim_rng_chance(rng, cfg->fault_drop_rate))
		return BANK_FAULT_DROP;
	if (sim_rng_chance(rng, cfg->fault_close_rate))
		return BANK_FAULT_CLOSE;
	if (sim_rng_chance(rng, cfg->fault_delay_rate))
		return BANK_FAULT_DELAY;
	return BANK_FAULT_NONE;
}

static void log_fault(const bank_req_t *req, int fault)
{
	ps_log_t *l = ps_log_begin(PS_LOG_INFO, "fault");
	ps_log_str(l, "fault", bank_fault_name(fault));
	ps_log_str(l, "kind", txn_kind_name(req->t.kind));
	ps_log_str(l, "key", req->work.key);
	ps_log_pan(l, "account", req->t.payer, strlen(req->t.payer));
	ps_log_str(l, "code", req->work.code);
	ps_log_end(l);
}

/* ---- writing ------------------------------------------------------------------ */

static void on_written(uv_write_t *write, int status)
{
	bank_req_t *req = write->data;
	banksim_t *sim = write->handle->loop->data;
	PS_ASSERT(sim->writes_pending > 0);
	sim->writes_pending--;
	if (status == 0)
		sim->stats.answers++;
	else if (status != UV_ECANCELED && bank_conn_alive(req->conn, req->conn_gen))
		bank_conn_close(req->conn, uv_strerror(status));
	bank_req_release(sim, req);
	if (sim->draining)
		banksim_maybe_finish(sim);
}

static void send_now(banksim_t *sim, bank_req_t *req)
{
	bank_conn_t *c = req->conn;
	if (!bank_conn_alive(c, req->conn_gen)) {
		bank_req_release(sim, req); /* the peer is gone: nobody to tell */
		return;
	}
	uv_buf_t buf = uv_buf_init((char *)req->answer, (unsigned)req->answer_len);
	req->write.data = req;
	int rc = uv_write(&req->write, (uv_stream_t *)&c->tcp, &buf, 1,
			  on_written);
	if (rc != 0) {
		bank_conn_close(c, uv_strerror(rc));
		bank_req_release(sim, req);
		return;
	}
	sim->writes_pending++;
}

/* ---- the heap of held answers ----------------------------------------------------- */

static void heap_swap(banksim_t *sim, uint32_t a, uint32_t b)
{
	bank_req_t *t = sim->heap[a];
	sim->heap[a] = sim->heap[b];
	sim->heap[b] = t;
	sim->heap[a]->heap_index = a;
	sim->heap[b]->heap_index = b;
}

static void heap_push(banksim_t *sim, bank_req_t *req)
{
	PS_ASSERT(sim->heap_count < sim->cfg->inflight_max);
	uint32_t i = sim->heap_count++;
	sim->heap[i] = req;
	req->heap_index = i;
	while (i > 0 && sim->heap[(i - 1) / 2]->due_ms > sim->heap[i]->due_ms) {
		heap_swap(sim, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static bank_req_t *heap_pop(banksim_t *sim)
{
	PS_ASSERT(sim->heap_count > 0);
	bank_req_t *top = sim->heap[0];
	sim->heap_count--;
	if (sim->heap_count > 0) {
		sim->heap[0] = sim->heap[sim->heap_count];
		sim->heap[0]->heap_index = 0;
		uint32_t i = 0;
		for (;;) {
			uint32_t l = 2 * i + 1, r = l + 1, m = i;
			if (l < sim->heap_count &&
			    sim->heap[l]->due_ms < sim->heap[m]->due_ms)
				m = l;
			if (r < sim->heap_count &&
			    sim->heap[r]->due_ms < sim->heap[m]->due_ms)
				m = r;
			if (m == i)
				break;
			heap_swap(sim, i, m);
			i = m;
		}
	}
	return top;
}

static void arm(banksim_t *sim)
{
	if (sim->heap_count == 0) {
		uv_timer_stop(&sim->hold_timer);
		return;
	}
	uint64_t now = uv_now(&sim->loop), due = sim->heap[0]->due_ms;
	uv_timer_start(&sim->hold_timer, bank_answer_on_timer,
		       due > now ? due - now : 0, 0);
}

void bank_answer_on_timer(uv_timer_t *timer)
{
	banksim_t *sim = timer->data;
	uint64_t now = uv_now(&sim->loop);
	while (sim->heap_count > 0 && sim->heap[0]->due_ms <= now)
		send_now(sim, heap_pop(sim));
	arm(sim);
}

void bank_answer_flush(banksim_t *sim)
{
	while (sim->heap_count > 0)
		send_now(sim, heap_pop(sim));
	uv_timer_stop(&sim->hold_timer);
}

/* ---- scheduling -------------------------------------------------------------------- */

void bank_answer_schedule(banksim_t *sim, bank_req_t *req)
{
	const bank_cfg_t *cfg = sim->cfg;
	int rc = pack(sim, req);
	if (rc != 0) {
		ps_logf(PS_LOG_ERROR, "encode_error",
			"the answer to %.4s key %s does not pack (%d); dropped",
			txn_kind_name(req->t.kind), req->work.key, rc);
		bank_req_release(sim, req);
		return;
	}
	/* This answer's draws: its own stream, from the seed and the
	 * request's MTI and keys, so they never depend on what else ran. */
	char id[32 + sizeof(req->t.request_id)];
	snprintf(id, sizeof(id), "%s/%s",
		 req->t.wire.mti[0] ? req->t.wire.mti : txn_kind_name(req->t.kind),
		 req->t.request_id);
	sim_rng_t rng;
	sim_rng_seed_text(&rng, sim->bank.seed, "answer", id);
	int fault = pick_fault(sim, req, &rng);
	if (fault != BANK_FAULT_NONE)
		log_fault(req, fault);
	if (fault == BANK_FAULT_DROP) {
		sim->stats.dropped++;
		bank_req_release(sim, req);
		return;
	}
	if (fault == BANK_FAULT_CLOSE) {
		sim->stats.closed++;
		if (bank_conn_alive(req->conn, req->conn_gen))
			bank_conn_close(req->conn, "fault injection: closed "
						   "instead of answering");
		bank_req_release(sim, req);
		return;
	}
	uint64_t delay = sim_latency_sample(&cfg->latency, &rng);
	if (fault == BANK_FAULT_DELAY) {
		sim->stats.delayed++;
		delay += cfg->fault_delay_ms;
	}
	if (delay == 0 || sim->draining) {
		send_now(sim, req);
		return;
	}
	req->due_ms = uv_now(&sim->loop) + delay;
	heap_push(sim, req);
	if (sim->heap[0] == req)
		arm(sim);
}
