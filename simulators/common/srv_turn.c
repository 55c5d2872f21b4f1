/*
 * srv_turn.c: the turn: everything read during one loop iteration goes to
 * the simulator at once, and only then are its answers encoded and sent.
 *
 * It runs in a uv_check callback, after the loop has read every socket
 * that had data, so a burst from many connections meets the simulator as
 * one list: where it commits a batch, the cost of a commit is paid per
 * turn, not per request (banksim's group commit). A request the turn
 * defers goes back to the head of the queue, in its order, for the next
 * turn, which comes at once: the idle handle keeps poll from blocking
 * while anything waits.
 */
#include "server_int.h"

void srv_turn_enqueue(sim_server_t *srv, srv_rec_t *rec)
{
	rec->state = SRV_REC_QUEUED;
	rec->next = NULL;
	if (srv->queue_tail != NULL)
		srv->queue_tail->next = rec;
	else
		srv->queue_head = rec;
	srv->queue_tail = rec;
	srv_keep_turning(srv);
}

/* Moves the queue into the turn's list; returns how many. */
static uint32_t take_queue(sim_server_t *srv)
{
	uint32_t count = 0;
	srv_rec_t *rec = srv->queue_head;
	srv->queue_head = srv->queue_tail = NULL;
	while (rec != NULL) {
		PS_ASSERT(rec->state == SRV_REC_QUEUED);
		PS_ASSERT(count < srv->cfg.inflight_max);
		srv_rec_t *next = rec->next;
		rec->next = NULL;
		rec->state = SRV_REC_TURN;
		rec->req.action = SIM_ANSWER;
		srv->turn_reqs[count++] = &rec->req;
		rec = next;
	}
	return count;
}

/* What the turn said for each request, in order, so that the deferred
 * keep their order at the head of the queue. */
static void carry_out(sim_server_t *srv, uint32_t count)
{
	for (uint32_t i = 0; i < count; i++) {
		srv_rec_t *rec = (srv_rec_t *)srv->turn_reqs[i];
		PS_ASSERT(rec->state == SRV_REC_TURN);
		switch (rec->req.action) {
		case SIM_ANSWER:
			(void)srv_answer_schedule(srv, rec);
			break;
		case SIM_DEFER:
			srv->stats.deferred++;
			srv_turn_enqueue(srv, rec);
			break;
		case SIM_DROP:
			srv->stats.dropped++;
			srv_rec_release(srv, rec);
			break;
		case SIM_KEEP:
			rec->state = SRV_REC_KEPT;
			srv->kept++;
			break;
		default:
			PS_ASSERT(!"sim_req_t.action is no enum sim_action");
		}
	}
}

void srv_turn_run(sim_server_t *srv)
{
	if (srv->queue_head == NULL) {
		srv_rest(srv);
		return;
	}
	uint32_t count = take_queue(srv);
	srv->stats.turns++;
	srv->cfg.ops.turn(srv->cfg.ctx, srv->turn_reqs, count);
	carry_out(srv, count);
	if (srv->queue_head == NULL)
		srv_rest(srv);
}
