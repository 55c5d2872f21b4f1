/*
 * srv_answer.c: answers on their way out: encoding, the fate (fault and
 * delay), holding, writing, and giving records back.
 *
 * The fate acts on the answer only, after the turn decided it: a dropped
 * answer, or a connection closed instead of answering, leaves whatever
 * the turn did in place, which is exactly the case a peer's timeout and
 * reversal exist for.
 *
 * Held answers wait on a binary heap ordered by due time, under one timer
 * armed for the earliest; the heap's storage is sized to the record pool,
 * so holding never allocates.
 */
#include <stdio.h>
#include <string.h>

#include "server_int.h"

void *sim_req_work(sim_req_t *req)
{
	return (uint8_t *)req + SRV_WORK_OFFSET;
}

void srv_rec_release(sim_server_t *srv, srv_rec_t *rec)
{
	PS_ASSERT(rec->state != SRV_REC_FREE);
	srv_conn_t *c = rec->conn;
	/* Only while the generation matches is c still this connection. */
	if (c != NULL && rec->conn_gen != 0 && c->gen == rec->conn_gen) {
		PS_ASSERT(c->inflight > 0);
		c->inflight--;
	}
	rec->state = SRV_REC_FREE;
	ps_pool_put(&srv->recs, rec);
	/* A paused connection may go on now: the turn resumes it, and must
	 * not wait for poll to time out first. */
	if (srv->paused_count > 0)
		srv_keep_turning(srv);
}

static uint8_t *answer_of(sim_server_t *srv, const srv_rec_t *rec)
{
	return srv->answer_slab +
	       (size_t)ps_pool_index(&srv->recs, rec) * srv->cfg.answer_bytes_max;
}

/* ---- writing ------------------------------------------------------------------ */

static void on_written(uv_write_t *write, int status)
{
	srv_rec_t *rec = write->data;
	sim_server_t *srv = write->handle->loop->data;
	PS_ASSERT(srv->writes_pending > 0);
	srv->writes_pending--;
	if (status == 0)
		srv->stats.answers++;
	else if (status != UV_ECANCELED && srv_conn_alive(rec->conn, rec->conn_gen))
		srv_conn_close(rec->conn, uv_strerror(status));
	srv_rec_release(srv, rec);
	if (srv->draining)
		srv_maybe_finish(srv);
}

static int send_now(sim_server_t *srv, srv_rec_t *rec)
{
	srv_conn_t *c = rec->conn;
	if (!srv_conn_alive(c, rec->conn_gen)) {
		srv_rec_release(srv, rec); /* the peer is gone: nobody to tell */
		return PS_ECLOSED;
	}
	uv_buf_t buf = uv_buf_init((char *)answer_of(srv, rec),
				   (unsigned)rec->answer_len);
	rec->write.data = rec;
	rec->state = SRV_REC_WRITING;
	int rc = uv_write(&rec->write, (uv_stream_t *)&c->tcp, &buf, 1,
			  on_written);
	if (rc != 0) {
		srv_conn_close(c, uv_strerror(rc));
		srv_rec_release(srv, rec);
		return PS_ECLOSED;
	}
	srv->writes_pending++;
	return 0;
}

/* ---- the heap of held answers ----------------------------------------------------- */

static void heap_swap(sim_server_t *srv, uint32_t a, uint32_t b)
{
	srv_rec_t *t = srv->heap[a];
	srv->heap[a] = srv->heap[b];
	srv->heap[b] = t;
	srv->heap[a]->heap_index = a;
	srv->heap[b]->heap_index = b;
}

static void heap_push(sim_server_t *srv, srv_rec_t *rec)
{
	PS_ASSERT(srv->heap_count < srv->cfg.inflight_max);
	uint32_t i = srv->heap_count++;
	srv->heap[i] = rec;
	rec->heap_index = i;
	while (i > 0 && srv->heap[(i - 1) / 2]->due_ms > srv->heap[i]->due_ms) {
		heap_swap(srv, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static srv_rec_t *heap_pop(sim_server_t *srv)
{
	PS_ASSERT(srv->heap_count > 0);
	srv_rec_t *top = srv->heap[0];
	srv->heap_count--;
	if (srv->heap_count > 0) {
		srv->heap[0] = srv->heap[srv->heap_count];
		srv->heap[0]->heap_index = 0;
		uint32_t i = 0;
		for (;;) {
			uint32_t l = 2 * i + 1, r = l + 1, m = i;
			if (l < srv->heap_count &&
			    srv->heap[l]->due_ms < srv->heap[m]->due_ms)
				m = l;
			if (r < srv->heap_count &&
			    srv->heap[r]->due_ms < srv->heap[m]->due_ms)
				m = r;
			if (m == i)
				break;
			heap_swap(srv, i, m);
			i = m;
		}
	}
	return top;
}

static void arm(sim_server_t *srv)
{
	if (srv->heap_count == 0) {
		uv_timer_stop(&srv->hold_timer);
		return;
	}
	uint64_t now = uv_now(&srv->loop), due = srv->heap[0]->due_ms;
	uv_timer_start(&srv->hold_timer, srv_answer_on_timer,
		       due > now ? due - now : 0, 0);
}

void srv_answer_on_timer(uv_timer_t *timer)
{
	sim_server_t *srv = timer->data;
	uint64_t now = uv_now(&srv->loop);
	while (srv->heap_count > 0 && srv->heap[0]->due_ms <= now)
		(void)send_now(srv, heap_pop(srv));
	arm(srv);
}

void srv_answer_flush(sim_server_t *srv)
{
	while (srv->heap_count > 0)
		(void)send_now(srv, heap_pop(srv));
	uv_timer_stop(&srv->hold_timer);
}

/* ---- scheduling -------------------------------------------------------------------- */

int srv_answer_schedule(sim_server_t *srv, srv_rec_t *rec)
{
	const txn_t *t = &rec->req.t;
	/* Encoded and fated even when its connection has gone, so that a
	 * request meets the same fate (and the same log lines) however fast
	 * its peer went away; send_now finds the connection dead. */
	uint8_t *out = answer_of(srv, rec);
	size_t cap = srv->cfg.answer_bytes_max;
	int rc = srv->cfg.ops.encode != NULL
			 ? srv->cfg.ops.encode(srv->cfg.ctx, &rec->req, out,
					       cap, &rec->answer_len)
			 : chan_encode_answer(&srv->cfg.chan, t, NULL, out, cap,
					      &rec->answer_len);
	/* An encoder that says it wrote more than it was given is a bug. */
	PS_ASSERT(rc != 0 || rec->answer_len <= cap);
	if (rc != 0) {
		srv->stats.encode_errors++;
		ps_logf(PS_LOG_ERROR, "encode_error",
			"the answer to %s %s does not encode (%d); dropped",
			txn_kind_name(t->kind), t->request_id, rc);
		srv_rec_release(srv, rec);
		return rc;
	}
	sim_fate_t fate = {.fault = SIM_FAULT_NONE, .delay_ms = 0};
	if (srv->cfg.ops.fate != NULL)
		srv->cfg.ops.fate(srv->cfg.ctx, &rec->req, &fate);
	switch (fate.fault) {
	case SIM_FAULT_NONE:
		break;
	case SIM_FAULT_DROP:
		srv->stats.dropped++;
		srv_rec_release(srv, rec);
		return 0;
	case SIM_FAULT_CLOSE:
		srv->stats.closed++;
		if (srv_conn_alive(rec->conn, rec->conn_gen))
			srv_conn_close(rec->conn, "fault injection: closed "
						  "instead of answering");
		srv_rec_release(srv, rec);
		return 0;
	case SIM_FAULT_DELAY:
		srv->stats.delayed++;
		break;
	default:
		PS_ASSERT(!"sim_fate_t.fault is no enum sim_fault");
	}
	/* Draining, a delay is waived; finished (the hold timer closed),
	 * send_now finds the connection closed and gives the record back. */
	if (fate.delay_ms == 0 || srv->draining || srv->finishing)
		return send_now(srv, rec);
	rec->state = SRV_REC_HELD;
	rec->due_ms = uv_now(&srv->loop) + fate.delay_ms;
	heap_push(srv, rec);
	if (srv->heap[0] == rec)
		arm(srv);
	return 0;
}

/* ---- what goes out unasked: a header's rejection, a simulator's own ------------------- */

int srv_answer_reject(sim_server_t *srv, srv_rec_t *rec,
		      const chan_frame_t *frame, const char *reject)
{
	srv->stats.rejected++;
	int rc = chan_encode_reject(&srv->cfg.chan, frame, reject,
				    answer_of(srv, rec),
				    srv->cfg.answer_bytes_max, &rec->answer_len);
	if (rc != 0) {
		srv->stats.encode_errors++;
		ps_logf(PS_LOG_ERROR, "encode_error",
			"a rejected frame does not fit an answer (%d); dropped",
			rc);
		srv_rec_release(srv, rec);
		return rc;
	}
	return send_now(srv, rec);
}

int sim_server_send(sim_server_t *srv, uint32_t conn_id, const uint8_t *frame,
		    size_t len)
{
	if (len > srv->cfg.answer_bytes_max)
		return PS_EINVAL;
	srv_conn_t *c = srv->finishing ? NULL : srv_conn_find(srv, conn_id);
	if (c == NULL)
		return PS_ECLOSED;
	srv_rec_t *rec = ps_pool_get(&srv->recs);
	if (rec == NULL)
		return PS_ELIMIT;
	/* A record like a request's, so that its write is counted, waited
	 * for by the drain and given back as an answer's is. */
	rec->state = SRV_REC_READ;
	rec->conn = c;
	rec->conn_gen = c->gen;
	rec->req.conn_id = c->gen;
	c->inflight++;
	memcpy(answer_of(srv, rec), frame, len);
	rec->answer_len = len;
	int rc = send_now(srv, rec);
	if (rc == 0) {
		srv->stats.sent++;
		c->unasked++;
	}
	return rc;
}

/* ---- what the simulator kept --------------------------------------------------------- */

static srv_rec_t *take_kept(sim_server_t *srv, sim_req_t *req)
{
	srv_rec_t *rec = (srv_rec_t *)req;
	/* Only a record a turn kept, after that turn: anything else is a
	 * record the loop still has, or one given back already. */
	PS_ASSERT(rec->state == SRV_REC_KEPT);
	PS_ASSERT(srv->kept > 0);
	srv->kept--;
	return rec;
}

int sim_server_answer(sim_server_t *srv, sim_req_t *req)
{
	return srv_answer_schedule(srv, take_kept(srv, req));
}

void sim_server_drop(sim_server_t *srv, sim_req_t *req)
{
	srv_rec_t *rec = take_kept(srv, req);
	srv->stats.dropped++;
	srv_rec_release(srv, rec);
}
