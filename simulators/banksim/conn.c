/*
 * conn.c: accepted connections: reading straight into the channel's
 * framing storage, decoding each message into a request record, and
 * backpressure.
 *
 * A connection at a bound (its requests in flight, or the record pool
 * empty) stops being read; frames already held stay in its framer and are
 * taken once answers have gone out (the turn resumes paused connections).
 * Nobody is answered 91 for being busy: TCP flow control tells the peer,
 * which is what a bank host does. A peer that breaks the framing is
 * closed: the stream cannot be resynchronised.
 */
#include <arpa/inet.h>
#include <string.h>

#include "banksim.h"
#include "channel_uv.h"
#include "core.h"

bool bank_conn_alive(const bank_conn_t *c, uint32_t gen)
{
	return c != NULL && gen != 0 && c->gen == gen && !c->closing;
}

static void on_closed(uv_handle_t *handle)
{
	bank_conn_t *c = handle->data;
	banksim_t *sim = c->sim;
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		sim->live = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	if (c->paused)
		sim->paused_count--;
	c->gen = 0; /* records still pointing here now see a dead conn */
	ps_pool_put(&sim->conns, c);
	sim->conn_count--;
	if (sim->draining)
		banksim_maybe_finish(sim);
	else if (sim->accept_pending && !sim->spare_busy) {
		sim->accept_pending = false;
		bank_conn_on_accept((uv_stream_t *)&sim->listener, 0);
	}
}

void bank_conn_close(bank_conn_t *c, const char *why)
{
	if (c->closing)
		return;
	c->closing = true;
	ps_log_t *l = ps_log_begin(PS_LOG_INFO, "conn_close");
	ps_log_str(l, "peer", c->peer);
	ps_log_str(l, "reason", why);
	ps_log_uint(l, "inflight", c->inflight);
	ps_log_end(l);
	uv_read_stop((uv_stream_t *)&c->tcp);
	c->reading = false;
	uv_close((uv_handle_t *)&c->tcp, on_closed);
}

/* ---- decoding ------------------------------------------------------------- */

static void log_refused(const bank_conn_t *c, const char *event,
			const char *detail)
{
	ps_log_t *l = ps_log_begin(PS_LOG_WARN, event);
	ps_log_str(l, "peer", c->peer);
	ps_log_str(l, "detail", detail);
	ps_log_end(l);
}

/*
 * Decodes one frame into req. A message that cannot be answered (an
 * answer, or one without the keys an answer is matched by) is logged and
 * dropped: the peer's timeout is the answer. One that can be answered but
 * is refused carries its code in req->t.rc.
 */
static bool decode(bank_conn_t *c, const chan_frame_t *frame, bank_req_t *req)
{
	banksim_t *sim = c->sim;
	txn_response_t resp;
	txn_error_t terr;
	int what;
	int rc = chan_decode(&sim->chan, frame, &req->t, &resp, &what, &terr);
	if (what == CHAN_MSG_RESPONSE) {
		log_refused(c, "unexpected_response", "an answer; ignored");
		return false;
	}
	if (rc == 0)
		return true;
	char text[256];
	snprintf(text, sizeof(text), "%s %s: %s", txn_kind_name(req->t.kind),
		 terr.field, terr.reason);
	if (rc == TXN_EKEYS || req->t.request_id[0] == '\0') {
		/* Without the keys no answer could be matched. */
		log_refused(c, "bad_message", text);
		return false;
	}
	log_refused(c, "refused", text);
	req->t.rc = terr.rc == TXN_RC_NONE || terr.rc == TXN_RC_APPROVED
			    ? TXN_RC_FORMAT_ERROR
			    : terr.rc;
	return true;
}

static void take_frame(bank_conn_t *c, const chan_frame_t *frame)
{
	banksim_t *sim = c->sim;
	bank_req_t *req = ps_pool_get(&sim->reqs);
	PS_ASSERT(req != NULL); /* checked by the caller */
	req->conn = c;
	req->conn_gen = c->gen;
	c->inflight++;
	sim->stats.requests++;
	if (!decode(c, frame, req)) {
		sim->stats.format_errors++;
		bank_req_release(sim, req);
		return;
	}
	bank_turn_enqueue(sim, req);
}

/* ---- reading and backpressure ------------------------------------------------ */

static void pause_conn(bank_conn_t *c)
{
	if (c->reading) {
		uv_read_stop((uv_stream_t *)&c->tcp);
		c->reading = false;
	}
	if (!c->paused && !c->sim->draining) {
		c->paused = true;
		c->sim->paused_count++;
	}
}

static bool at_bound(const bank_conn_t *c)
{
	const banksim_t *sim = c->sim;
	return c->inflight >= sim->cfg->inflight_per_conn_max ||
	       sim->reqs.free_top == 0;
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf);

/* Takes the whole frames held, while under bounds; reads again after. */
static void take_frames(bank_conn_t *c)
{
	banksim_t *sim = c->sim;
	while (!c->closing && !sim->draining) {
		if (at_bound(c)) {
			pause_conn(c);
			return;
		}
		chan_frame_t frame;
		char why[256];
		int rc = chan_next(&c->ch, &frame, why, sizeof(why));
		if (rc == 0)
			break;
		if (rc < 0) {
			log_refused(c, "bad_frame", why);
			bank_conn_close(c, "framing error");
			return;
		}
		take_frame(c, &frame);
	}
	if (c->closing || sim->draining)
		return;
	if (c->paused) {
		c->paused = false;
		sim->paused_count--;
	}
	if (!c->reading && uv_read_start((uv_stream_t *)&c->tcp, chan_uv_alloc,
					 on_read) == 0)
		c->reading = true;
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
	(void)buf;
	bank_conn_t *c = stream->data;
	if (nread == UV_ENOBUFS) {
		pause_conn(c); /* a whole frame held: the turn takes it */
		return;
	}
	char why[256];
	int rc = chan_uv_read(&c->ch, nread, why, sizeof(why));
	if (rc > 0)
		take_frames(c);
	else if (rc < 0)
		bank_conn_close(c, why);
}

void bank_conn_resume_paused(banksim_t *sim)
{
	for (bank_conn_t *c = sim->live; c != NULL && sim->paused_count > 0;
	     c = c->next) {
		if (c->paused && !c->closing && !at_bound(c))
			take_frames(c);
	}
}

void bank_conn_stop_all(banksim_t *sim)
{
	for (bank_conn_t *c = sim->live; c != NULL; c = c->next) {
		if (c->reading)
			uv_read_stop((uv_stream_t *)&c->tcp);
		c->reading = false;
	}
}

void bank_conn_close_all(banksim_t *sim)
{
	for (bank_conn_t *c = sim->live; c != NULL; c = c->next)
		bank_conn_close(c, "shutting down");
}

/* ---- accepting ---------------------------------------------------------------- */

static void describe_peer(bank_conn_t *c)
{
	struct sockaddr_storage addr;
	int len = sizeof(addr);
	char host[48] = "?";
	int port = 0;
	if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&addr, &len) == 0) {
		if (addr.ss_family == AF_INET6) {
			struct sockaddr_in6 *a = (struct sockaddr_in6 *)&addr;
			uv_ip6_name(a, host, sizeof(host));
			port = ntohs(a->sin6_port);
		} else {
			struct sockaddr_in *a = (struct sockaddr_in *)&addr;
			uv_ip4_name(a, host, sizeof(host));
			port = ntohs(a->sin_port);
		}
	}
	snprintf(c->peer, sizeof(c->peer), "%s:%d", host, port);
}

static void on_spare_closed(uv_handle_t *handle)
{
	banksim_t *sim = handle->data;
	sim->spare_busy = false;
	if (sim->accept_pending) {
		sim->accept_pending = false;
		bank_conn_on_accept((uv_stream_t *)&sim->listener, 0);
	}
}

/* A connection past connections_max is accepted on the spare handle and
 * closed at once, so the peer learns now instead of waiting in the
 * backlog. While the spare is closing, the next one waits (libuv holds it
 * until uv_accept) and is taken when the spare is free again. */
static void refuse(banksim_t *sim)
{
	if (sim->spare_busy) {
		sim->accept_pending = true;
		return;
	}
	sim->spare_busy = true;
	uv_tcp_init(&sim->loop, &sim->spare);
	sim->spare.data = sim;
	if (uv_accept((uv_stream_t *)&sim->listener,
		      (uv_stream_t *)&sim->spare) == 0)
		ps_logf(PS_LOG_WARN, "conn_refused",
			"%u connections already (--connections-max)",
			sim->conn_count);
	uv_close((uv_handle_t *)&sim->spare, on_spare_closed);
}

static void on_unaccepted_closed(uv_handle_t *handle)
{
	bank_conn_t *c = handle->data;
	ps_pool_put(&c->sim->conns, c);
}

void bank_conn_on_accept(uv_stream_t *listener, int status)
{
	banksim_t *sim = listener->data;
	if (status < 0 || sim->draining || sim->finishing)
		return;
	bank_conn_t *c = ps_pool_get(&sim->conns);
	if (c == NULL) {
		refuse(sim);
		return;
	}
	c->sim = sim;
	uv_tcp_init(&sim->loop, &c->tcp);
	c->tcp.data = c;
	if (uv_accept(listener, (uv_stream_t *)&c->tcp) != 0) {
		c->closing = true;
		uv_close((uv_handle_t *)&c->tcp, on_unaccepted_closed);
		return;
	}
	uv_tcp_nodelay(&c->tcp, 1);
	if (++sim->conn_gen_next == 0)
		++sim->conn_gen_next;
	c->gen = sim->conn_gen_next;
	uint32_t slot = ps_pool_index(&sim->conns, c);
	chan_init(&c->ch, &sim->chan,
		  sim->framer_slab + (size_t)slot * sim->framer_bytes,
		  sim->framer_bytes);
	describe_peer(c);
	c->next = sim->live;
	if (sim->live != NULL)
		sim->live->prev = c;
	sim->live = c;
	sim->conn_count++;
	ps_log_t *l = ps_log_begin(PS_LOG_INFO, "conn_open");
	ps_log_str(l, "peer", c->peer);
	ps_log_end(l);
	take_frames(c);
}
