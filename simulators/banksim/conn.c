/*
 * conn.c: accepted connections: reading straight into the framer, decoding
 * each frame into a request record, and backpressure.
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
 * Decodes one frame into req. A message that cannot be answered (it does
 * not unpack, is a response, or lacks the fields an answer is matched by)
 * is logged and dropped: the peer's timeout is the answer. One that can be
 * answered but is refused carries its code in req->t.response.
 */
static bool decode(bank_conn_t *c, const iso8583_frame_t *frame,
		   bank_req_t *req)
{
	banksim_t *sim = c->sim;
	iso8583_msg_t msg;
	iso8583_error_t ierr;
	char text[256];
	if (iso8583_unpack(&msg, sim->dialect, frame->message,
			   frame->message_len, &ierr) != 0) {
		log_refused(c, "bad_message",
			    iso8583_error_format(&ierr, text, sizeof(text)));
		return false;
	}
	if (txn_mti_is_response(msg.mti)) {
		log_refused(c, "unexpected_response", "a response MTI; ignored");
		return false;
	}
	txn_error_t terr;
	if (txn_from_iso(&msg, &req->t, &terr) == 0)
		return true;
	snprintf(text, sizeof(text), "MTI %.4s %s: %s", msg.mti, terr.field,
		 terr.reason);
	if (req->t.request_id[0] == '\0') {
		/* Without fields 7 and 11 no answer could be matched. */
		log_refused(c, "bad_message", text);
		return false;
	}
	log_refused(c, "refused", text);
	ps_strlcpy(req->t.response, terr.code[0] ? terr.code : "30",
		   sizeof(req->t.response));
	return true;
}

static void take_frame(bank_conn_t *c, const iso8583_frame_t *frame)
{
	banksim_t *sim = c->sim;
	bank_req_t *req = ps_pool_get(&sim->reqs);
	PS_ASSERT(req != NULL); /* checked by the caller */
	req->conn = c;
	req->conn_gen = c->gen;
	c->inflight++;
	sim->stats.requests++;
	PS_ASSERT(frame->header_len <= sizeof(req->header));
	memcpy(req->header, frame->header, frame->header_len);
	req->header_len = (uint16_t)frame->header_len;
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

static void on_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
	(void)suggested;
	bank_conn_t *c = handle->data;
	uint8_t *data;
	size_t len;
	iso8583_framer_space(&c->framer, &data, &len);
	*buf = uv_buf_init((char *)data, (unsigned)len);
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
		iso8583_frame_t frame;
		iso8583_error_t err;
		int rc = iso8583_framer_next(&c->framer, &frame, &err);
		if (rc == 0)
			break;
		if (rc < 0) {
			char text[256];
			log_refused(c, "bad_frame",
				    iso8583_error_format(&err, text, sizeof(text)));
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
	if (!c->reading && uv_read_start((uv_stream_t *)&c->tcp, on_alloc,
					 on_read) == 0)
		c->reading = true;
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
	(void)buf;
	bank_conn_t *c = stream->data;
	if (nread > 0) {
		iso8583_framer_commit(&c->framer, (size_t)nread);
		take_frames(c);
	} else if (nread == UV_ENOBUFS) {
		pause_conn(c); /* a whole frame held: the turn takes it */
	} else if (nread < 0) {
		bank_conn_close(c, nread == UV_EOF ? "peer closed"
						   : uv_strerror((int)nread));
	}
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
	iso8583_framer_init(&c->framer, &sim->framing,
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
