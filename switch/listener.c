/*
 * listener.c: listeners and the connections they accept (net.h).
 *
 * A connection reads straight into its channel's framing storage
 * (channel.h), so a request is never copied before it is decoded.
 * Everything is bounded per listener and per connection: connections (a
 * pool sized at start) and connections from one address, bytes per frame
 * and the time a frame may take, requests in flight, answers waiting to
 * be written, and the time writes may stall. A peer past a bound is
 * answered 91, not read, or closed, and nobody else notices: the buffers
 * its answers need were set aside for it (net.h, buffers).
 *
 * Lifetimes: a connection's memory belongs to its listener's pool and
 * returns there in the close callback of its last handle. Answer buffers
 * refer to their connection by pointer plus generation; the generation
 * changes on every reuse, so an answer for a closed connection is dropped
 * instead of reaching a stranger. A listener retired by a reload stays
 * allocated until its last connection and the last buffer addressed to
 * one are gone.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "channel_uv.h"
#include "net_int.h"

static void listener_maybe_free(sw_listener_t *l);
static void take_frames(sw_conn_t *conn);

bool sw_conn_alive(const sw_conn_t *conn, uint32_t gen)
{
	return conn != NULL && conn->gen == gen && !conn->closing;
}

const sw_listener_cfg_t *sw_conn_cfg(const sw_conn_t *conn)
{
	return &conn->listener->cfg;
}

static uint64_t now_ms(const sw_conn_t *conn)
{
	return uv_now(conn->listener->net->ctx->loop);
}

/* ---- closing ------------------------------------------------------------- */

static void conn_closed_cb(uv_handle_t *handle)
{
	sw_conn_t *conn = handle->data;
	sw_listener_t *l = conn->listener;
	if (--conn->handles_open > 0)
		return;
	/* Unlink from the listener's list of live connections. */
	if (conn->prev != NULL)
		conn->prev->next = conn->next;
	else
		l->live = conn->next;
	if (conn->next != NULL)
		conn->next->prev = conn->prev;
	conn->gen = 0; /* a stale reference can never match again */
	ps_pool_put(&l->conns, conn);
	l->conn_count--;
	sw_net_t *net = l->net;
	net->conn_total--;
	listener_maybe_free(l);
	sw_net_closed(net);
}

void sw_conn_close(sw_conn_t *conn, const char *why, int cause)
{
	if (conn->closing)
		return;
	conn->closing = true;
	sw_metrics_t *m = &conn->listener->net->ctx->metrics;
	if (cause > SW_CLOSE_NONE && cause < SW_CLOSE_CAUSES)
		m->closed[cause]++;
	ps_log_t *lg = ps_log_begin(cause != SW_CLOSE_NONE ? PS_LOG_WARN
							   : PS_LOG_INFO,
				    "conn_close");
	ps_log_str(lg, "listener", conn->listener->cfg.name);
	ps_log_str(lg, "peer", conn->peer);
	ps_log_str(lg, "reason", why);
	if (cause != SW_CLOSE_NONE)
		ps_log_str(lg, "cause", sw_close_cause_name(cause));
	ps_log_uint(lg, "inflight", conn->inflight);
	ps_log_end(lg);
	uv_read_stop((uv_stream_t *)&conn->tcp);
	conn->reading = false;
	/* Writes still queued are cancelled: their callbacks run first and
	 * count their answers as dropped. */
	uv_close((uv_handle_t *)&conn->tcp, conn_closed_cb);
	if (conn->timer_open)
		uv_close((uv_handle_t *)&conn->timer, conn_closed_cb);
}

/* ---- answer buffers and the bounds they keep ------------------------------- */

static sw_wbuf_t *hold(ps_pool_t *pool, int kind, sw_conn_t *conn)
{
	sw_wbuf_t *wb = ps_pool_get(pool);
	if (wb == NULL)
		return NULL;
	wb->pool = pool;
	wb->kind = (uint8_t)kind;
	wb->conn = conn;
	wb->conn_gen = conn->gen;
	if (kind == SW_WBUF_ANSWER)
		conn->inflight++;
	else
		conn->intake_held++;
	conn->listener->refs++;
	return wb;
}

void sw_conn_unhold(sw_wbuf_t *wb)
{
	sw_conn_t *conn = wb->conn;
	sw_listener_t *l = conn->listener;
	if (conn->gen == wb->conn_gen) {
		if (wb->kind == SW_WBUF_ANSWER) {
			PS_ASSERT(conn->inflight > 0);
			conn->inflight--;
		} else {
			PS_ASSERT(conn->intake_held > 0);
			conn->intake_held--;
		}
	}
	PS_ASSERT(l->refs > 0);
	l->refs--;
	listener_maybe_free(l);
}

sw_wbuf_t *sw_conn_admit(sw_net_t *net, sw_conn_t *conn)
{
	if (!sw_conn_alive(conn, conn->gen) ||
	    conn->inflight >= conn->listener->cfg.inflight_per_conn_max)
		return NULL;
	return hold(&net->answers, SW_WBUF_ANSWER, conn);
}

/* An intake answer's buffer, or NULL (counted and logged). Each message
 * taken gets at most one intake answer, and none is taken while the
 * connection holds queued_answers_max, so the listener's pool is sized
 * for every connection at its bound. */
static sw_wbuf_t *intake_buffer(sw_net_t *net, sw_conn_t *conn,
				const char *about)
{
	sw_wbuf_t *wb = hold(&conn->listener->intake, SW_WBUF_INTAKE, conn);
	if (wb == NULL) {
		net->ctx->metrics.answers_dropped++;
		ps_logf(PS_LOG_ERROR, "answer_dropped",
			"listener %s: no answer buffer for %s",
			conn->listener->cfg.name, about);
	}
	return wb;
}

/* Counts an answer by the code it carries. */
static void count_answer(sw_net_t *net, const txn_t *t, const txn_t *target)
{
	uint8_t rc = t->kind == TXN_KIND_QUERY && target == NULL
			     ? TXN_RC_NO_RECORD
		     : t->rc == TXN_RC_NONE ? TXN_RC_APPROVED
					    : t->rc;
	sw_metrics_answer(&net->ctx->metrics, rc);
}

sw_wbuf_t *sw_conn_answer_final(sw_net_t *net, sw_wbuf_t *wb, const txn_t *t)
{
	PS_ASSERT(wb->kind == SW_WBUF_ANSWER);
	wb->txn_id = t->id;
	sw_conn_t *conn = wb->conn;
	if (!sw_conn_alive(conn, wb->conn_gen)) {
		sw_wbuf_put(net, wb);
		return NULL;
	}
	int rc = chan_encode_answer(&conn->listener->cfg.channel.chan, t, NULL,
				    wb->data, sizeof(wb->data), &wb->len);
	if (rc != 0) {
		ps_logf(PS_LOG_ERROR, "encode_error", "answer to %s: %d",
			t->request_id, rc);
		sw_wbuf_put(net, wb);
		return NULL;
	}
	count_answer(net, t, NULL);
	return wb;
}

sw_wbuf_t *sw_conn_answer(sw_net_t *net, sw_conn_t *conn, const txn_t *t,
			  const txn_t *target)
{
	if (!sw_conn_alive(conn, conn->gen))
		return NULL;
	sw_wbuf_t *wb = intake_buffer(net, conn, t->request_id);
	if (wb == NULL)
		return NULL;
	int rc = chan_encode_answer(&conn->listener->cfg.channel.chan, t, target,
				    wb->data, sizeof(wb->data), &wb->len);
	if (rc != 0) {
		ps_logf(PS_LOG_ERROR, "encode_error", "answer to %s: %d",
			t->request_id, rc);
		sw_wbuf_put(net, wb);
		return NULL;
	}
	count_answer(net, t, target);
	return wb;
}

sw_wbuf_t *sw_conn_answer_error(sw_net_t *net, sw_conn_t *conn,
				const txn_t *req, const txn_error_t *err)
{
	if (!sw_conn_alive(conn, conn->gen))
		return NULL;
	sw_wbuf_t *wb = intake_buffer(net, conn, req->request_id);
	if (wb == NULL)
		return NULL;
	if (chan_encode_error(&conn->listener->cfg.channel.chan, req, err,
			      wb->data, sizeof(wb->data), &wb->len) != 0) {
		sw_wbuf_put(net, wb);
		return NULL;
	}
	sw_metrics_answer(&net->ctx->metrics, err->rc);
	return wb;
}

/* ---- writing ------------------------------------------------------------- */

/* Nothing more will come from a peer that half-closed: once everything
 * it sent is answered and written, the connection is done. */
static bool conn_finished(const sw_conn_t *conn)
{
	return conn->eof && conn->inflight == 0 && conn->intake_held == 0 &&
	       conn->writes_pending == 0;
}

static void conn_write_cb(uv_write_t *req, int status)
{
	sw_wbatch_t *b = req->data;
	sw_conn_t *conn = b->conn;
	sw_net_t *net = b->net;
	conn->writes_pending--;
	/* Progress: the stall clock starts again for what is still queued. */
	conn->write_wait_ms = conn->writes_pending > 0 ? now_ms(conn) : 0;
	sw_wbatch_free(net, b, status == 0);
	if (conn->closing)
		return;
	if (status < 0) {
		sw_conn_close(conn, uv_strerror(status), SW_CLOSE_NONE);
		return;
	}
	if (net->ctx->stopped && conn->writes_pending == 0)
		sw_conn_close(conn, "server stopping", SW_CLOSE_NONE);
	else if (conn_finished(conn))
		sw_conn_close(conn, "peer closed its side; every answer written",
			      SW_CLOSE_NONE);
	else if (conn->paused &&
		 conn->intake_held <= conn->listener->cfg.queued_answers_max / 2)
		take_frames(conn);
}

/* Writes a batch of answers; on failure the caller still owns it. */
int sw_conn_write(sw_conn_t *conn, uint32_t gen, sw_wbatch_t *b)
{
	if (!sw_conn_alive(conn, gen))
		return PS_ECLOSED;
	b->conn = conn;
	b->req.data = b;
	int rc = uv_write(&b->req, (uv_stream_t *)&conn->tcp, b->buf, b->count,
			  conn_write_cb);
	if (rc != 0) {
		sw_conn_close(conn, uv_strerror(rc), SW_CLOSE_NONE);
		return PS_EIO;
	}
	if (conn->writes_pending++ == 0)
		conn->write_wait_ms = now_ms(conn);
	return 0;
}

/* Writes one message now, outside the outbox: answers that depend on no
 * state (format errors). The buffer is taken in every case. */
static void send_now(sw_net_t *net, sw_conn_t *conn, sw_wbuf_t *wb)
{
	sw_wbatch_t *b = sw_wbatch_get(net);
	if (b == NULL) {
		sw_wbuf_put(net, wb);
		return;
	}
	sw_wbatch_add(b, wb);
	if (sw_conn_write(conn, conn->gen, b) != 0)
		sw_wbatch_free(net, b, false);
}

/* ---- reading ----------------------------------------------------------- */

/*
 * A message that could not be taken: its answer at once (it depends on no
 * state), or, when not even the keys to match an answer could be read,
 * the connection is closed: a clear signal beats a silent timeout.
 */
static void refuse_message(sw_conn_t *conn, const txn_t *req,
			   const txn_error_t *err, int rc)
{
	sw_net_t *net = conn->listener->net;
	net->ctx->metrics.format_errors++;
	ps_log_t *lg = ps_log_begin(PS_LOG_WARN, "format_error");
	ps_log_str(lg, "listener", conn->listener->cfg.name);
	ps_log_str(lg, "peer", conn->peer);
	ps_log_str(lg, "field", err->field);
	ps_log_str(lg, "error", err->reason);
	ps_log_end(lg);
	if (rc == TXN_EKEYS) {
		sw_conn_close(conn, "undecodable message: no MTI or STAN to answer",
			      SW_CLOSE_UNDECODABLE);
		return;
	}
	sw_wbuf_t *wb = sw_conn_answer_error(net, conn, req, err);
	if (wb != NULL)
		send_now(net, conn, wb);
}

/* A frame whose CUPS header is wrong goes back with the header's reject
 * code, its message untouched: how UnionPay answers a bad header. */
static void reject_frame(sw_conn_t *conn, const chan_frame_t *frame,
			 const txn_error_t *err)
{
	sw_net_t *net = conn->listener->net;
	net->ctx->metrics.format_errors++;
	ps_log_t *lg = ps_log_begin(PS_LOG_WARN, "header_rejected");
	ps_log_str(lg, "listener", conn->listener->cfg.name);
	ps_log_str(lg, "peer", conn->peer);
	ps_log_str(lg, "error", err->reason);
	ps_log_end(lg);
	char code[6];
	ps_strlcpy(code, err->reason, sizeof(code));
	sw_wbuf_t *wb = intake_buffer(net, conn, "a header rejection");
	if (wb == NULL)
		return;
	if (chan_encode_reject(&conn->listener->cfg.channel.chan, frame, code,
			       wb->data, sizeof(wb->data), &wb->len) != 0) {
		sw_wbuf_put(net, wb);
		return;
	}
	send_now(net, conn, wb);
}

static void take_message(sw_conn_t *conn, const chan_frame_t *frame)
{
	sw_net_t *net = conn->listener->net;
	txn_t req;
	txn_response_t resp;
	txn_error_t err;
	int what;
	int rc = chan_decode(&conn->listener->cfg.channel.chan, frame, &req,
			     &resp, &what, &err);
	if (what == CHAN_MSG_RESPONSE) {
		ps_logf(PS_LOG_WARN, "unexpected_response",
			"listener %s peer %s sent an answer; ignored",
			conn->listener->cfg.name, conn->peer);
		return;
	}
	if (rc == TXN_EHEADER) {
		reject_frame(conn, frame, &err);
		return;
	}
	if (rc != 0) {
		refuse_message(conn, &req, &err, rc);
		return;
	}
	net->handlers.request(net->handlers.data, conn, &req);
}

static void conn_read_cb(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf);

/* At a bound: not read until answers have been written (conn_write_cb
 * takes the frames held and reads again). */
static void conn_pause(sw_conn_t *conn)
{
	if (conn->reading) {
		uv_read_stop((uv_stream_t *)&conn->tcp);
		conn->reading = false;
	}
	if (!conn->paused) {
		conn->paused = true;
		conn->listener->net->ctx->metrics.backpressure_pauses++;
	}
}

/* Takes the whole messages the channel holds while under the bound, then
 * reads on (or, after the peer half-closed, waits for the answers). */
static void take_frames(sw_conn_t *conn)
{
	const sw_listener_cfg_t *cfg = &conn->listener->cfg;
	uint64_t now = now_ms(conn);
	bool took = false;
	conn->paused = false;
	while (!conn->closing) {
		if (conn->intake_held >= cfg->queued_answers_max) {
			conn_pause(conn);
			return;
		}
		chan_frame_t frame;
		char why[256];
		int rc = chan_next(&conn->ch, &frame, why, sizeof(why));
		if (rc == 0)
			break;
		if (rc < 0) {
			sw_conn_close(conn, why, SW_CLOSE_BAD_FRAMING);
			return;
		}
		took = true;
		conn->last_rx_ms = now;
		take_message(conn, &frame);
	}
	if (conn->closing)
		return;
	/* The frame deadline runs from the first byte of a frame. */
	if (!chan_partial(&conn->ch))
		conn->frame_start_ms = 0;
	else if (took || conn->frame_start_ms == 0)
		conn->frame_start_ms = now;
	if (conn->eof) {
		if (conn_finished(conn))
			sw_conn_close(conn, "peer closed its side; every answer "
				      "written", SW_CLOSE_NONE);
		return;
	}
	if (!conn->reading && uv_read_start((uv_stream_t *)&conn->tcp,
					    chan_uv_alloc, conn_read_cb) == 0)
		conn->reading = true;
}

static void conn_read_cb(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
	(void)buf;
	sw_conn_t *conn = stream->data;
	if (nread == UV_EOF) {
		/* A half-close: what the peer sent before it is answered. */
		conn->eof = true;
		uv_read_stop(stream);
		conn->reading = false;
		if (chan_partial(&conn->ch))
			ps_logf(PS_LOG_INFO, "partial_frame",
				"listener %s peer %s closed its side in the "
				"middle of a message", conn->listener->cfg.name,
				conn->peer);
		if (conn_finished(conn))
			sw_conn_close(conn, "peer closed", SW_CLOSE_NONE);
		return;
	}
	char why[256];
	int rc = chan_uv_read(&conn->ch, nread, why, sizeof(why));
	if (rc < 0)
		sw_conn_close(conn, why, SW_CLOSE_NONE);
	else if (rc > 0)
		take_frames(conn);
}

/* The connection's deadlines, checked a few times per shortest one. */
static void conn_timer_cb(uv_timer_t *timer)
{
	sw_conn_t *conn = timer->data;
	const sw_listener_cfg_t *cfg = &conn->listener->cfg;
	uint64_t now = uv_now(timer->loop);
	char why[96];
	if (conn->frame_start_ms != 0 && !conn->paused && !conn->eof &&
	    now - conn->frame_start_ms >= cfg->frame_timeout_ms) {
		snprintf(why, sizeof(why), "a message begun %" PRIu64 " ms ago "
			 "is not whole (frame_timeout_ms)",
			 now - conn->frame_start_ms);
		sw_conn_close(conn, why, SW_CLOSE_FRAME_TIMEOUT);
	} else if (conn->write_wait_ms != 0 &&
		   now - conn->write_wait_ms >= cfg->write_timeout_ms) {
		snprintf(why, sizeof(why), "peer not reading its answers: no "
			 "write done for %" PRIu64 " ms (write_timeout_ms)",
			 now - conn->write_wait_ms);
		sw_conn_close(conn, why, SW_CLOSE_NOT_READING);
	} else if (cfg->idle_timeout_ms > 0 && conn->inflight == 0 &&
		   conn->intake_held == 0 &&
		   now - conn->last_rx_ms >= cfg->idle_timeout_ms) {
		sw_conn_close(conn, "no message within idle_timeout_ms",
			      SW_CLOSE_IDLE);
	}
}

/* A quarter of the shortest deadline, between 10 ms and 1 s. */
static uint64_t tick_ms(const sw_listener_cfg_t *cfg)
{
	uint64_t shortest = cfg->frame_timeout_ms;
	if (cfg->write_timeout_ms < shortest)
		shortest = cfg->write_timeout_ms;
	if (cfg->idle_timeout_ms > 0 && cfg->idle_timeout_ms < shortest)
		shortest = cfg->idle_timeout_ms;
	uint64_t t = shortest / 4;
	return t < 10 ? 10 : t > 1000 ? 1000 : t;
}

/* ---- accepting ----------------------------------------------------------- */

static void refused(sw_listener_t *l, int cause, const char *peer)
{
	l->refused++;
	l->net->ctx->metrics.refused_conns[cause]++;
	ps_log_t *lg = ps_log_begin(PS_LOG_WARN, "conn_refused");
	ps_log_str(lg, "listener", l->cfg.name);
	if (peer != NULL)
		ps_log_str(lg, "peer", peer);
	ps_log_str(lg, "bound", sw_refuse_cause_name(cause));
	ps_log_end(lg);
}

static void refuse(sw_listener_t *l, int cause)
{
	/* Accept and close at once: a connection left in the backlog would
	 * keep the listener readable forever. */
	uv_tcp_t *tmp = malloc(sizeof(*tmp));
	if (tmp == NULL)
		return;
	uv_tcp_init(l->net->ctx->loop, tmp);
	if (uv_accept((uv_stream_t *)&l->tcp, (uv_stream_t *)tmp) == 0)
		refused(l, cause, NULL);
	uv_close((uv_handle_t *)tmp, (uv_close_cb)free);
}

/* The peer's "host:port" for the logs, and its address alone. */
static void peer_name(sw_conn_t *conn)
{
	struct sockaddr_storage ss;
	int len = sizeof(ss);
	char host[64] = "?";
	int port = 0;
	if (uv_tcp_getpeername(&conn->tcp, (struct sockaddr *)&ss, &len) == 0) {
		if (ss.ss_family == AF_INET6) {
			struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
			uv_ip6_name(a, host, sizeof(host));
			port = ntohs(a->sin6_port);
			memcpy(conn->peer_ip, &a->sin6_addr, 16);
		} else {
			struct sockaddr_in *a = (struct sockaddr_in *)&ss;
			uv_ip4_name(a, host, sizeof(host));
			port = ntohs(a->sin_port);
			/* As an IPv4-mapped IPv6 address. */
			conn->peer_ip[10] = conn->peer_ip[11] = 0xff;
			memcpy(conn->peer_ip + 12, &a->sin_addr, 4);
		}
	}
	snprintf(conn->peer, sizeof(conn->peer), "%.48s:%d", host, port);
}

static uint32_t conns_from(const sw_listener_t *l, const uint8_t ip[16])
{
	uint32_t n = 0;
	for (const sw_conn_t *c = l->live; c != NULL; c = c->next)
		if (!c->closing && memcmp(c->peer_ip, ip, 16) == 0)
			n++;
	return n;
}

static void link_conn(sw_listener_t *l, sw_conn_t *conn)
{
	conn->next = l->live;
	conn->prev = NULL;
	if (l->live != NULL)
		l->live->prev = conn;
	l->live = conn;
	l->conn_count++;
	l->net->conn_total++;
}

static void on_connection(uv_stream_t *server, int status)
{
	sw_listener_t *l = server->data;
	sw_net_t *net = l->net;
	uv_loop_t *loop = net->ctx->loop;
	if (status < 0)
		return;
	if (net->ctx->draining || l->retired) {
		refuse(l, SW_REFUSE_DRAINING);
		return;
	}
	sw_conn_t *conn = ps_pool_get(&l->conns);
	if (conn == NULL) {
		refuse(l, SW_REFUSE_CONNECTIONS);
		return;
	}
	conn->listener = l;
	if (++net->conn_gen_seq == 0)
		++net->conn_gen_seq;
	conn->gen = net->conn_gen_seq;
	uv_tcp_init(loop, &conn->tcp);
	conn->tcp.data = conn;
	conn->handles_open = 1;
	if (uv_accept(server, (uv_stream_t *)&conn->tcp) != 0) {
		conn->closing = true;
		uv_close((uv_handle_t *)&conn->tcp, conn_closed_cb);
		link_conn(l, conn);
		return;
	}
	peer_name(conn);
	if (conns_from(l, conn->peer_ip) >= l->cfg.connections_per_peer_max) {
		/* One address cannot take every connection of a listener. */
		refused(l, SW_REFUSE_PER_PEER, conn->peer);
		conn->closing = true;
		uv_close((uv_handle_t *)&conn->tcp, conn_closed_cb);
		link_conn(l, conn);
		return;
	}
	uv_tcp_nodelay(&conn->tcp, 1);
	chan_init(&conn->ch, &l->cfg.channel.chan, conn->rbuf,
		  l->conn_bytes - sizeof(sw_conn_t));
	conn->last_rx_ms = uv_now(loop);
	uv_timer_init(loop, &conn->timer);
	conn->timer.data = conn;
	conn->timer_open = true;
	conn->handles_open++;
	uint64_t every = tick_ms(&l->cfg);
	uv_timer_start(&conn->timer, conn_timer_cb, every, every);
	l->accepted++;
	ps_log_t *lg = ps_log_begin(PS_LOG_INFO, "conn_open");
	ps_log_str(lg, "listener", l->cfg.name);
	ps_log_str(lg, "peer", conn->peer);
	ps_log_end(lg);
	link_conn(l, conn);
	take_frames(conn); /* starts reading */
}

int sw_listener_start(sw_net_t *net, const sw_listener_cfg_t *cfg,
		      sw_listener_t **out, char *err, size_t err_cap)
{
	*out = NULL;
	sw_listener_t *l = calloc(1, sizeof(*l));
	if (l == NULL) {
		snprintf(err, err_cap, "out of memory");
		return PS_ENOMEM;
	}
	l->net = net;
	l->cfg = *cfg;
	/* The listener owns a copy of its dialect: it outlives reloads. */
	sw_net_own_channel(&l->cfg.channel, &l->dialect);
	l->conn_bytes = sizeof(sw_conn_t) + chan_storage_bytes(&l->cfg.channel.chan);
	if (ps_pool_init(&l->conns, l->conn_bytes, cfg->connections_max) != 0 ||
	    ps_pool_init(&l->intake, sizeof(sw_wbuf_t),
			 cfg->connections_max * cfg->queued_answers_max) != 0) {
		ps_pool_free(&l->conns);
		ps_pool_free(&l->intake);
		free(l);
		snprintf(err, err_cap, "listener %s: out of memory", cfg->name);
		return PS_ENOMEM;
	}
	struct sockaddr_storage addr;
	sw_parse_bind(cfg->host, cfg->port, &addr);
	uv_tcp_init(net->ctx->loop, &l->tcp);
	l->tcp.data = l;
	int rc = uv_tcp_bind(&l->tcp, (struct sockaddr *)&addr, 0);
	if (rc == 0)
		rc = uv_listen((uv_stream_t *)&l->tcp, 511, on_connection);
	if (rc != 0) {
		snprintf(err, err_cap, "listeners.%s: cannot listen on %s:%u: %s",
			 cfg->name, cfg->host, cfg->port, uv_strerror(rc));
		l->retired = true;
		uv_close((uv_handle_t *)&l->tcp, NULL);
		l->closed = true;
		/* The handle close completes on the next loop run; the caller
		 * destroys the loop's handles before freeing anything. */
		*out = l;
		return PS_EIO;
	}
	struct sockaddr_storage bound;
	int len = sizeof(bound);
	uv_tcp_getsockname(&l->tcp, (struct sockaddr *)&bound, &len);
	l->bound_port = ntohs(bound.ss_family == AF_INET6
				      ? ((struct sockaddr_in6 *)&bound)->sin6_port
				      : ((struct sockaddr_in *)&bound)->sin_port);
	l->listening = true;
	ps_log_t *lg = ps_log_begin(PS_LOG_INFO, "listening");
	ps_log_str(lg, "listener", cfg->name);
	ps_log_str(lg, "protocol", chan_kind_name(cfg->channel.chan.kind));
	ps_log_str(lg, "host", cfg->host);
	ps_log_uint(lg, "port", l->bound_port);
	ps_log_end(lg);
	*out = l;
	return 0;
}

static void listener_closed_cb(uv_handle_t *handle)
{
	sw_listener_t *l = handle->data;
	sw_net_t *net = l->net;
	l->closed = true;
	listener_maybe_free(l);
	sw_net_closed(net);
}

/* Stops accepting. Live connections go on until they close. */
void sw_listener_retire(sw_listener_t *l)
{
	if (l->retired)
		return;
	l->retired = true;
	if (l->listening) {
		l->listening = false;
		uv_close((uv_handle_t *)&l->tcp, listener_closed_cb);
	}
}

static void listener_maybe_free(sw_listener_t *l)
{
	if (!l->retired || !l->closed || l->conn_count > 0 || l->refs > 0)
		return;
	sw_net_t *net = l->net;
	for (uint32_t i = 0; i < net->listener_count; i++) {
		if (net->listener[i] == l) {
			net->listener[i] = net->listener[--net->listener_count];
			break;
		}
	}
	sw_listener_free(l);
}

void sw_listener_free(sw_listener_t *l)
{
	ps_pool_free(&l->conns);
	ps_pool_free(&l->intake);
	free(l);
}

/* Closes every connection that has nothing left in flight. */
void sw_net_close_idle(sw_net_t *net)
{
	for (uint32_t i = 0; i < net->listener_count; i++) {
		sw_conn_t *next;
		for (sw_conn_t *c = net->listener[i]->live; c != NULL; c = next) {
			next = c->next;
			if (c->inflight == 0 && c->writes_pending == 0)
				sw_conn_close(c, "draining", SW_CLOSE_NONE);
		}
	}
}

/* Stopping never cancels an answer already decided: without force, a
 * connection still writing closes in its write callback. */
uint32_t sw_net_close_conns(sw_net_t *net, bool force)
{
	uint32_t lingering = 0;
	for (uint32_t i = 0; i < net->listener_count; i++) {
		sw_conn_t *next;
		for (sw_conn_t *c = net->listener[i]->live; c != NULL; c = next) {
			next = c->next;
			if (c->closing)
				continue;
			if (!force && c->writes_pending > 0) {
				lingering++;
				continue;
			}
			sw_conn_close(c, "server stopping", SW_CLOSE_NONE);
		}
	}
	return lingering;
}
