/*
 * srv_conn.c: accepted connections: accepting within connections_max,
 * reading straight into the channel's framing storage, decoding each
 * message into a request record, and backpressure.
 *
 * A connection at a bound (its requests in flight, or the record pool
 * empty) stops being read; frames already held stay in its framer and are
 * taken once answers have gone out (the turn resumes paused connections).
 * Nobody is answered 91 for being busy: TCP flow control tells the peer.
 * A peer that breaks the framing is closed, and only that peer: the
 * stream cannot be resynchronised.
 */
#include <arpa/inet.h>
#include <string.h>

#include "channel_uv.h"
#include "server_int.h"

bool srv_conn_alive(const srv_conn_t *c, uint32_t gen)
{
	return c != NULL && gen != 0 && c->gen == gen && !c->closing;
}

bool sim_req_conn_alive(const sim_req_t *req)
{
	const srv_rec_t *rec = (const srv_rec_t *)req;
	return srv_conn_alive(rec->conn, rec->conn_gen);
}

static void on_closed(uv_handle_t *handle)
{
	srv_conn_t *c = handle->data;
	sim_server_t *srv = c->srv;
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		srv->live = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	if (c->paused)
		srv->paused_count--;
	c->gen = 0; /* records still pointing here now see a dead conn */
	ps_pool_put(&srv->conns, c);
	srv->conn_count--;
	if (srv->draining)
		srv_maybe_finish(srv);
	else if (srv->accept_pending && !srv->spare_busy) {
		srv->accept_pending = false;
		srv_conn_on_accept((uv_stream_t *)&srv->listener, 0);
	}
}

void srv_conn_close(srv_conn_t *c, const char *why)
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

static void log_refused(const srv_conn_t *c, const char *event,
			const char *detail)
{
	ps_log_t *l = ps_log_begin(PS_LOG_WARN, event);
	ps_log_str(l, "peer", c->peer);
	ps_log_str(l, "detail", detail);
	ps_log_end(l);
}

/* The simulator's own decoding (ops.decode), in chan_decode's codes:
 * only TXN_EFORMAT and TXN_EINVALID mean "answerable"; anything else has
 * no keys. */
static int decode_own(sim_server_t *srv, const chan_frame_t *frame,
		      srv_rec_t *rec, txn_error_t *terr)
{
	/* rc is TXN_RC_NONE on arrival, as chan_decode leaves it: the turn
	 * tells a refusal by it whoever decoded. */
	txn_init(&rec->req.t, TXN_KIND_NONE);
	memset(terr, 0, sizeof(*terr));
	int rc = srv->cfg.ops.decode(srv->cfg.ctx, &rec->req, frame, terr);
	if (rc != 0 && rc != TXN_EFORMAT && rc != TXN_EINVALID)
		rc = TXN_EKEYS;
	return rc;
}

/*
 * Decodes one frame into rec, through the channel or ops.decode. A
 * message that cannot be answered (an answer, or one without the keys an
 * answer is matched by) is logged and dropped: the peer's timeout is the
 * answer. One that can be answered but is refused carries its code in
 * t.rc, for the turn to answer with.
 */
static bool decode(srv_conn_t *c, const chan_frame_t *frame, srv_rec_t *rec,
		   char reject[6])
{
	sim_server_t *srv = c->srv;
	txn_t *t = &rec->req.t;
	txn_error_t terr;
	bool own = srv->cfg.ops.decode != NULL;
	int rc;
	if (own) {
		rc = decode_own(srv, frame, rec, &terr);
	} else {
		txn_response_t resp;
		int what = 0;
		rc = chan_decode(&srv->cfg.chan, frame, t, &resp, &what, &terr);
		if (rc == TXN_EHEADER) {
			/* Its reason begins with the header's reject code. */
			ps_strlcpy(reject, terr.reason, 6);
			log_refused(c, "header_rejected", terr.reason);
			return false;
		}
		if (what == CHAN_MSG_RESPONSE) {
			/* The answer to a frame the simulator sent on its own
			 * (sim_server_send) is expected: taken, nothing more. */
			if (c->unasked > 0)
				c->unasked--;
			else
				log_refused(c, "unexpected_response",
					    "an answer; ignored");
			return false;
		}
	}
	if (rc == 0)
		return true;
	char text[256];
	if (own)
		snprintf(text, sizeof(text), "%s: %s", terr.field, terr.reason);
	else
		snprintf(text, sizeof(text), "%s %s: %s",
			 txn_kind_name(t->kind), terr.field, terr.reason);
	/* Without the keys no answer could be matched. A simulator that
	 * decodes its own schema says so itself (TXN_EKEYS). */
	if (rc == TXN_EKEYS || (!own && t->request_id[0] == '\0')) {
		log_refused(c, "bad_message", text);
		return false;
	}
	log_refused(c, "refused", text);
	t->rc = terr.rc == TXN_RC_NONE || terr.rc == TXN_RC_APPROVED
			? TXN_RC_FORMAT_ERROR
			: terr.rc;
	return true;
}

/* ops.screen's verdict on a frame's fixed header: true, with the reject
 * code, when the frame is to go back. */
static bool screened_out(srv_conn_t *c, const chan_frame_t *frame,
			 char reject[6])
{
	sim_server_t *srv = c->srv;
	if (srv->cfg.ops.screen == NULL || frame->header_len == 0)
		return false;
	const char *code = srv->cfg.ops.screen(srv->cfg.ctx, c->gen, frame);
	if (code == NULL)
		return false;
	ps_strlcpy(reject, code, 6);
	log_refused(c, "header_rejected", code);
	return true;
}

static void take_frame(srv_conn_t *c, const chan_frame_t *frame)
{
	sim_server_t *srv = c->srv;
	srv_rec_t *rec = ps_pool_get(&srv->recs);
	PS_ASSERT(rec != NULL); /* checked by the caller */
	rec->state = SRV_REC_READ;
	rec->conn = c;
	rec->conn_gen = c->gen;
	rec->req.conn_id = c->gen;
	rec->req.read_ms = uv_now(&srv->loop);
	c->inflight++;
	srv->stats.requests++;
	char reject[6] = "";
	if (screened_out(c, frame, reject) || !decode(c, frame, rec, reject)) {
		if (reject[0] != '\0') {
			/* A wrong header goes back as it came. */
			(void)srv_answer_reject(srv, rec, frame, reject);
			return;
		}
		srv->stats.format_errors++;
		srv_rec_release(srv, rec);
		return;
	}
	srv_turn_enqueue(srv, rec);
}

/* ---- reading and backpressure ------------------------------------------------ */

static void pause_conn(srv_conn_t *c)
{
	if (c->reading) {
		uv_read_stop((uv_stream_t *)&c->tcp);
		c->reading = false;
	}
	if (!c->paused && !c->srv->draining) {
		c->paused = true;
		c->srv->paused_count++;
	}
}

static bool at_bound(const srv_conn_t *c)
{
	const sim_server_t *srv = c->srv;
	return c->inflight >= srv->cfg.inflight_per_conn_max ||
	       srv->recs.free_top == 0;
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf);

/* Takes the whole frames held, while under bounds; reads again after. */
static void take_frames(srv_conn_t *c)
{
	sim_server_t *srv = c->srv;
	while (!c->closing && !srv->draining) {
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
			srv_conn_close(c, "framing error");
			return;
		}
		take_frame(c, &frame);
	}
	if (c->closing || srv->draining)
		return;
	if (c->paused) {
		c->paused = false;
		srv->paused_count--;
	}
	if (!c->reading && uv_read_start((uv_stream_t *)&c->tcp, chan_uv_alloc,
					 on_read) == 0)
		c->reading = true;
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
	(void)buf;
	srv_conn_t *c = stream->data;
	if (nread == UV_ENOBUFS) {
		pause_conn(c); /* a whole frame held: the turn takes it */
		return;
	}
	char why[256];
	int rc = chan_uv_read(&c->ch, nread, why, sizeof(why));
	if (rc > 0)
		take_frames(c);
	else if (rc < 0)
		srv_conn_close(c, why);
}

void srv_conn_resume_paused(sim_server_t *srv)
{
	for (srv_conn_t *c = srv->live; c != NULL && srv->paused_count > 0;
	     c = c->next) {
		if (c->paused && !c->closing && !at_bound(c))
			take_frames(c);
	}
}

void srv_conn_stop_all(sim_server_t *srv)
{
	for (srv_conn_t *c = srv->live; c != NULL; c = c->next) {
		if (c->reading)
			uv_read_stop((uv_stream_t *)&c->tcp);
		c->reading = false;
	}
}

void srv_conn_close_all(sim_server_t *srv)
{
	for (srv_conn_t *c = srv->live; c != NULL; c = c->next)
		srv_conn_close(c, "shutting down");
}

srv_conn_t *srv_conn_find(sim_server_t *srv, uint32_t conn_id)
{
	for (srv_conn_t *c = srv->live; c != NULL; c = c->next)
		if (srv_conn_alive(c, conn_id))
			return c;
	return NULL;
}

/* ---- accepting ---------------------------------------------------------------- */

static void describe_peer(srv_conn_t *c)
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
	sim_server_t *srv = handle->data;
	srv->spare_busy = false;
	if (srv->accept_pending) {
		srv->accept_pending = false;
		srv_conn_on_accept((uv_stream_t *)&srv->listener, 0);
	}
}

/* A connection past connections_max is accepted on the spare handle and
 * closed at once, so the peer learns now instead of waiting in the
 * backlog. While the spare is closing, the next one waits (libuv holds it
 * until uv_accept) and is taken when the spare is free again. */
static void refuse(sim_server_t *srv)
{
	if (srv->spare_busy) {
		srv->accept_pending = true;
		return;
	}
	srv->spare_busy = true;
	uv_tcp_init(&srv->loop, &srv->spare);
	srv->spare.data = srv;
	if (uv_accept((uv_stream_t *)&srv->listener,
		      (uv_stream_t *)&srv->spare) == 0) {
		srv->stats.conns_refused++;
		ps_logf(PS_LOG_WARN, "conn_refused",
			"%u connections already (--connections-max)",
			srv->conn_count);
	}
	uv_close((uv_handle_t *)&srv->spare, on_spare_closed);
}

static void on_unaccepted_closed(uv_handle_t *handle)
{
	srv_conn_t *c = handle->data;
	ps_pool_put(&c->srv->conns, c);
}

void srv_conn_on_accept(uv_stream_t *listener, int status)
{
	sim_server_t *srv = listener->data;
	if (status < 0 || srv->draining || srv->finishing)
		return;
	srv_conn_t *c = ps_pool_get(&srv->conns);
	if (c == NULL) {
		refuse(srv);
		return;
	}
	c->srv = srv;
	uv_tcp_init(&srv->loop, &c->tcp);
	c->tcp.data = c;
	if (uv_accept(listener, (uv_stream_t *)&c->tcp) != 0) {
		c->closing = true;
		uv_close((uv_handle_t *)&c->tcp, on_unaccepted_closed);
		return;
	}
	uv_tcp_nodelay(&c->tcp, 1);
	if (++srv->conn_gen_next == 0)
		++srv->conn_gen_next;
	c->gen = srv->conn_gen_next;
	uint32_t slot = ps_pool_index(&srv->conns, c);
	chan_init(&c->ch, &srv->cfg.chan,
		  srv->framer_slab + (size_t)slot * srv->framer_bytes,
		  srv->framer_bytes);
	describe_peer(c);
	c->next = srv->live;
	if (srv->live != NULL)
		srv->live->prev = c;
	srv->live = c;
	srv->conn_count++;
	srv->stats.conns_accepted++;
	ps_log_t *l = ps_log_begin(PS_LOG_INFO, "conn_open");
	ps_log_str(l, "peer", c->peer);
	ps_log_end(l);
	take_frames(c);
}
