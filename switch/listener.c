/*
 * listener.c: listeners and the connections they accept (net.h).
 *
 * A connection reads straight into its channel's framing storage
 * (channel.h), so a request is never copied before it is decoded. Everything is bounded per listener: connections (a pool sized
 * at start), bytes per frame, requests in flight per connection, and
 * answers waiting to be written. A peer past a bound is answered 91 or
 * closed, and nobody else notices.
 *
 * Lifetimes: a connection's memory belongs to its listener's pool and
 * returns there in the close callback of its last handle. Transactions
 * refer to their origin connection by pointer plus generation; the
 * generation changes on every reuse, so an answer for a closed connection
 * is dropped instead of reaching a stranger. A listener retired by a
 * reload stays allocated until its last connection and its last
 * transaction are gone.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "channel_uv.h"
#include "net_int.h"

/* Answers queued but not yet written, per connection; past it, the peer is
 * not reading and is closed. */
#define CONN_WRITES_PENDING_MAX 4096

static void listener_maybe_free(sw_listener_t *l);

bool sw_conn_alive(const sw_conn_t *conn, uint32_t gen)
{
	return conn != NULL && conn->gen == gen && !conn->closing;
}

const sw_listener_cfg_t *sw_conn_cfg(const sw_conn_t *conn)
{
	return &conn->listener->cfg;
}

bool sw_conn_may_begin(const sw_conn_t *conn)
{
	return conn->inflight < conn->listener->cfg.inflight_per_conn_max;
}

static void conn_write_cb(uv_write_t *req, int status)
{
	sw_wbatch_t *b = req->data;
	sw_conn_t *conn = b->conn;
	sw_net_t *net = b->net;
	conn->writes_pending--;
	sw_wbatch_free(net, b);
	if (status < 0 && status != UV_ECANCELED)
		sw_conn_close(conn, uv_strerror(status));
	else if (net->ctx->stopped && conn->writes_pending == 0)
		sw_conn_close(conn, "server stopping");
}

/* Writes a batch of answers; on failure the caller still owns it. */
int sw_conn_write(sw_conn_t *conn, uint32_t gen, sw_wbatch_t *b)
{
	if (!sw_conn_alive(conn, gen))
		return PS_ECLOSED;
	if (conn->writes_pending >= CONN_WRITES_PENDING_MAX) {
		sw_conn_close(conn, "peer not reading its answers");
		return PS_ELIMIT;
	}
	b->conn = conn;
	b->req.data = b;
	int rc = uv_write(&b->req, (uv_stream_t *)&conn->tcp, b->buf, b->count,
			  conn_write_cb);
	if (rc != 0) {
		sw_conn_close(conn, uv_strerror(rc));
		return PS_EIO;
	}
	conn->writes_pending++;
	return 0;
}

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

void sw_conn_close(sw_conn_t *conn, const char *why)
{
	if (conn->closing)
		return;
	conn->closing = true;
	ps_log_t *lg = ps_log_begin(PS_LOG_INFO, "conn_close");
	ps_log_str(lg, "listener", conn->listener->cfg.name);
	ps_log_str(lg, "peer", conn->peer);
	ps_log_str(lg, "reason", why);
	ps_log_uint(lg, "inflight", conn->inflight);
	ps_log_end(lg);
	uv_read_stop((uv_stream_t *)&conn->tcp);
	uv_close((uv_handle_t *)&conn->tcp, conn_closed_cb);
	if (conn->idle_open)
		uv_close((uv_handle_t *)&conn->idle, conn_closed_cb);
}

/* A request's answer has been queued, or its transaction is gone. */
void sw_conn_request_done(sw_conn_t *conn, uint32_t gen)
{
	(void)gen;
	if (conn == NULL)
		return;
	PS_ASSERT(conn->listener->txn_refs > 0);
	conn->listener->txn_refs--;
	if (conn->gen == gen && conn->inflight > 0)
		conn->inflight--;
	listener_maybe_free(conn->listener);
}

void sw_conn_request_begin(sw_conn_t *conn)
{
	conn->inflight++;
	conn->listener->txn_refs++;
}

/* ---- answering ----------------------------------------------------------- */

/* A buffer addressed to (conn, gen), or NULL (logged) when none is free. */
static sw_wbuf_t *answer_buffer(sw_net_t *net, sw_conn_t *conn, uint32_t gen,
				const char *about)
{
	sw_wbuf_t *wb = sw_wbuf_get(net);
	if (wb == NULL) {
		ps_logf(PS_LOG_ERROR, "answer_dropped",
			"no write buffer for %s; the peer is far behind", about);
		return NULL;
	}
	wb->conn = conn;
	wb->conn_gen = gen;
	wb->endpoint = NULL;
	wb->link = NULL;
	return wb;
}

sw_wbuf_t *sw_conn_answer(sw_net_t *net, sw_conn_t *conn, uint32_t gen,
			  const txn_t *t, const txn_t *target)
{
	if (!sw_conn_alive(conn, gen))
		return NULL;
	sw_wbuf_t *wb = answer_buffer(net, conn, gen, t->request_id);
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
	uint8_t rc_counted = t->kind == TXN_KIND_QUERY && target == NULL
				     ? TXN_RC_NO_RECORD
			     : t->rc == TXN_RC_NONE ? TXN_RC_APPROVED
						    : t->rc;
	sw_metrics_answer(&net->ctx->metrics, rc_counted);
	return wb;
}

sw_wbuf_t *sw_conn_answer_error(sw_net_t *net, sw_conn_t *conn,
				const txn_t *req, const txn_error_t *err)
{
	if (!sw_conn_alive(conn, conn->gen))
		return NULL;
	sw_wbuf_t *wb = answer_buffer(net, conn, conn->gen, req->request_id);
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
		sw_wbatch_free(net, b);
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
		sw_conn_close(conn, "undecodable message: no MTI or STAN to answer");
		return;
	}
	sw_wbuf_t *wb = sw_conn_answer_error(net, conn, req, err);
	if (wb != NULL)
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
	if (rc != 0) {
		refuse_message(conn, &req, &err, rc);
		return;
	}
	net->handlers.request(net->handlers.data, conn, &req);
}

static void conn_read_cb(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
	(void)buf;
	sw_conn_t *conn = stream->data;
	char why[256];
	int rc = chan_uv_read(&conn->ch, nread, why, sizeof(why));
	if (rc < 0)
		sw_conn_close(conn, why);
	if (rc <= 0)
		return;
	conn->last_rx_ms = uv_now(conn->listener->net->ctx->loop);
	chan_frame_t frame;
	while (!conn->closing && (rc = chan_next(&conn->ch, &frame, why,
						 sizeof(why))) == 1)
		take_message(conn, &frame);
	if (!conn->closing && rc < 0)
		sw_conn_close(conn, why);
}

static void conn_idle_cb(uv_timer_t *timer)
{
	sw_conn_t *conn = timer->data;
	uint64_t now = uv_now(timer->loop);
	uint64_t idle_ms = conn->listener->cfg.idle_timeout_ms;
	if (conn->inflight == 0 && now - conn->last_rx_ms >= idle_ms)
		sw_conn_close(conn, "idle timeout");
}

/* ---- accepting ----------------------------------------------------------- */

static void refuse(sw_listener_t *l, const char *why)
{
	/* Accept and close at once: a connection left in the backlog would
	 * keep the listener readable forever. */
	uv_tcp_t *tmp = malloc(sizeof(*tmp));
	if (tmp == NULL)
		return;
	uv_tcp_init(l->net->ctx->loop, tmp);
	if (uv_accept((uv_stream_t *)&l->tcp, (uv_stream_t *)tmp) == 0) {
		l->refused++;
		ps_logf(PS_LOG_WARN, "conn_refused", "listener %s: %s",
			l->cfg.name, why);
	}
	uv_close((uv_handle_t *)tmp, (uv_close_cb)free);
}

static void peer_name(uv_tcp_t *tcp, char *out, size_t cap)
{
	struct sockaddr_storage ss;
	int len = sizeof(ss);
	char host[64] = "?";
	int port = 0;
	if (uv_tcp_getpeername(tcp, (struct sockaddr *)&ss, &len) == 0) {
		if (ss.ss_family == AF_INET6) {
			uv_ip6_name((struct sockaddr_in6 *)&ss, host, sizeof(host));
			port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
		} else {
			uv_ip4_name((struct sockaddr_in *)&ss, host, sizeof(host));
			port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
		}
	}
	snprintf(out, cap, "%s:%d", host, port);
}

static void on_connection(uv_stream_t *server, int status)
{
	sw_listener_t *l = server->data;
	sw_net_t *net = l->net;
	uv_loop_t *loop = net->ctx->loop;
	if (status < 0)
		return;
	if (net->ctx->draining || l->retired) {
		refuse(l, "draining");
		return;
	}
	sw_conn_t *conn = ps_pool_get(&l->conns);
	if (conn == NULL) {
		refuse(l, "connections_max reached");
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
		goto link;
	}
	uv_tcp_nodelay(&conn->tcp, 1);
	peer_name(&conn->tcp, conn->peer, sizeof(conn->peer));
	chan_init(&conn->ch, &l->cfg.channel.chan, conn->rbuf,
		  l->conn_bytes - sizeof(sw_conn_t));
	conn->last_rx_ms = uv_now(loop);
	if (l->cfg.idle_timeout_ms > 0) {
		uv_timer_init(loop, &conn->idle);
		conn->idle.data = conn;
		conn->idle_open = true;
		conn->handles_open++;
		uint64_t every = l->cfg.idle_timeout_ms / 2 + 1;
		uv_timer_start(&conn->idle, conn_idle_cb, every, every);
	}
	uv_read_start((uv_stream_t *)&conn->tcp, chan_uv_alloc, conn_read_cb);
	l->accepted++;
	ps_log_t *lg = ps_log_begin(PS_LOG_INFO, "conn_open");
	ps_log_str(lg, "listener", l->cfg.name);
	ps_log_str(lg, "peer", conn->peer);
	ps_log_end(lg);
link:
	conn->next = l->live;
	conn->prev = NULL;
	if (l->live != NULL)
		l->live->prev = conn;
	l->live = conn;
	l->conn_count++;
	net->conn_total++;
}

int sw_listener_start(sw_net_t *net, const sw_listener_cfg_t *cfg,
		      sw_listener_t **out, char *err, size_t err_cap)
{
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
	if (ps_pool_init(&l->conns, l->conn_bytes, cfg->connections_max) != 0) {
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
	if (!l->retired || !l->closed || l->conn_count > 0 || l->txn_refs > 0)
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
				sw_conn_close(c, "draining");
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
			sw_conn_close(c, "server stopping");
		}
	}
	return lingering;
}
