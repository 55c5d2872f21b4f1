/*
 * link.c: the switch's outbound links to banks and networks (net.h).
 *
 * Each endpoint keeps `connections` TCP links. A link connects, signs on
 * (0800, field 70 = 001) when the endpoint asks for it, and is UP once the
 * 0810 approves. An idle link is probed with echo tests (0800/301); after
 * echo_misses_max unanswered echoes it is closed and reconnected. Failed
 * connects back off exponentially from reconnect_min_ms to
 * reconnect_max_ms. An endpoint is up while any of its links is.
 *
 * Requests go round-robin over the links that are UP. Network management
 * never touches the store: it moves no money, so a lost echo is just a
 * missed echo.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net_int.h"

static void link_connect(sw_link_t *link);
static void link_fail(sw_link_t *link, const char *why);

const char *sw_link_state_name(int state)
{
	switch (state) {
	case SW_LINK_DOWN: return "down";
	case SW_LINK_CONNECTING: return "connecting";
	case SW_LINK_SIGNING_ON: return "signing_on";
	case SW_LINK_UP: return "up";
	case SW_LINK_CLOSING: return "closing";
	}
	return "unknown";
}

uint32_t sw_endpoint_links_up(const sw_endpoint_t *ep)
{
	uint32_t up = 0;
	for (uint32_t i = 0; i < ep->cfg.connections; i++)
		if (ep->link[i].state == SW_LINK_UP)
			up++;
	return up;
}

bool sw_endpoint_up(const sw_endpoint_t *ep)
{
	return !ep->retired && sw_endpoint_links_up(ep) > 0;
}

bool sw_endpoint_available(const sw_endpoint_t *ep)
{
	return sw_endpoint_up(ep) && ep->inflight < ep->cfg.inflight_max;
}

sw_endpoint_t *sw_net_endpoint(sw_net_t *net, const char *name)
{
	for (uint32_t i = 0; i < net->endpoint_count; i++) {
		sw_endpoint_t *ep = net->endpoint[i];
		if (!ep->retired && strcmp(ep->cfg.name, name) == 0)
			return ep;
	}
	return NULL;
}

static void log_link(const sw_link_t *link, const char *event, const char *why)
{
	const sw_endpoint_t *ep = link->endpoint;
	ps_log_t *l = ps_log_begin(PS_LOG_INFO, event);
	ps_log_str(l, "endpoint", ep->cfg.name);
	ps_log_uint(l, "link", link->index);
	ps_log_str(l, "address", ep->cfg.host);
	ps_log_uint(l, "port", ep->cfg.port);
	if (why != NULL)
		ps_log_str(l, "reason", why);
	ps_log_uint(l, "links_up", sw_endpoint_links_up(ep));
	ps_log_end(l);
}

static void set_state(sw_link_t *link, uint8_t state)
{
	sw_endpoint_t *ep = link->endpoint;
	bool was_up = sw_endpoint_links_up(ep) > 0;
	link->state = state;
	bool is_up = sw_endpoint_links_up(ep) > 0;
	if (was_up != is_up) {
		if (is_up)
			ep->ups++;
		else
			ep->downs++;
		ps_log_t *l = ps_log_begin(is_up ? PS_LOG_INFO : PS_LOG_WARN,
					   is_up ? "endpoint_up" : "endpoint_down");
		ps_log_str(l, "endpoint", ep->cfg.name);
		ps_log_end(l);
	}
}

/* ---- writing ------------------------------------------------------------ */

static void link_write_cb(uv_write_t *req, int status)
{
	sw_wbatch_t *b = req->data;
	sw_link_t *link = b->link;
	link->writes_pending--;
	sw_wbatch_free(b->net, b);
	if (status < 0 && status != UV_ECANCELED)
		link_fail(link, uv_strerror(status));
}

/* Writes a batch of messages; on failure the caller still owns it. */
int sw_link_write(sw_link_t *link, sw_wbatch_t *b)
{
	if (link->state != SW_LINK_UP && link->state != SW_LINK_SIGNING_ON)
		return PS_ECLOSED;
	b->link = link;
	b->req.data = b;
	int rc = uv_write(&b->req, (uv_stream_t *)&link->tcp, b->buf, b->count,
			  link_write_cb);
	if (rc != 0) {
		link_fail(link, uv_strerror(rc));
		return PS_EIO;
	}
	link->writes_pending++;
	link->last_tx_ms = uv_now(link->endpoint->net->ctx->loop);
	return 0;
}

/* One message now, outside the outbox (network management). The buffer
 * is taken in every case. */
static int link_send(sw_link_t *link, sw_wbuf_t *wb)
{
	sw_net_t *net = link->endpoint->net;
	sw_wbatch_t *b = sw_wbatch_get(net);
	if (b == NULL) {
		sw_wbuf_put(net, wb);
		return PS_ELIMIT;
	}
	sw_wbatch_add(b, wb);
	int rc = sw_link_write(link, b);
	if (rc != 0)
		sw_wbatch_free(net, b);
	return rc;
}

sw_wbuf_t *sw_endpoint_encode_leg(sw_net_t *net, sw_endpoint_t *ep,
				  const txn_t *t, unsigned leg, int *rc_out)
{
	sw_wbuf_t *wb = sw_wbuf_get(net);
	if (wb == NULL) {
		*rc_out = PS_ELIMIT;
		return NULL;
	}
	iso8583_msg_t msg;
	iso8583_error_t ierr;
	int rc = txn_leg_to_iso(t, leg, &ep->dialect, &msg);
	if (rc == 0)
		rc = sw_net_pack(wb, &ep->cfg.chan.framing, ep->cfg.chan.header,
				 &msg, &ierr);
	if (rc != 0) {
		char text[256];
		ps_logf(PS_LOG_ERROR, "encode_error", "leg %u of txn %llu for %s: %s",
			leg, (unsigned long long)t->id, ep->cfg.name,
			rc == ISO8583_ELENGTH || rc == ISO8583_ECONTENT
				? iso8583_error_format(&ierr, text, sizeof(text))
				: "encode failed");
		sw_wbuf_put(net, wb);
		*rc_out = PS_EFORMAT;
		return NULL;
	}
	wb->conn = NULL;
	wb->link = NULL;
	wb->endpoint = ep;
	*rc_out = 0;
	return wb;
}

/* The next link that is up, round-robin; NULL when none is. */
sw_link_t *sw_endpoint_pick(sw_endpoint_t *ep)
{
	uint32_t n = ep->cfg.connections;
	for (uint32_t tries = 0; tries < n; tries++) {
		sw_link_t *link = &ep->link[ep->rr++ % n];
		if (link->state == SW_LINK_UP)
			return link;
	}
	return NULL;
}

/* ---- network management ------------------------------------------------ */

/* Sends 0800 with field 70 = code on link; returns the STAN used. */
static int send_network(sw_link_t *link, const char *code, uint32_t *stan)
{
	sw_endpoint_t *ep = link->endpoint;
	sw_net_t *net = ep->net;
	sw_wbuf_t *wb = sw_wbuf_get(net);
	if (wb == NULL)
		return PS_ELIMIT;
	txn_t t;
	txn_init(&t, TXN_KIND_NETWORK);
	ps_strlcpy(t.network_code, code, sizeof(t.network_code));
	ps_strlcpy(t.forwarder, net->ctx->cfg->institution, sizeof(t.forwarder));
	t.leg[0].stan = (uint32_t)(net->next_seq(net->seq_data) % 999999) + 1;
	txn_format_transmit(ps_wall_ms(), t.leg[0].transmit);
	iso8583_msg_t msg;
	iso8583_error_t ierr;
	int rc = txn_leg_to_iso(&t, 0, &ep->dialect, &msg);
	if (rc == 0)
		rc = sw_net_pack(wb, &ep->cfg.chan.framing, ep->cfg.chan.header,
				 &msg, &ierr);
	if (rc != 0) {
		ps_logf(PS_LOG_ERROR, "encode_error", "0800 for %s: %s",
			ep->cfg.name, iso8583_strerror(rc));
		sw_wbuf_put(net, wb);
		return rc;
	}
	rc = link_send(link, wb);
	if (rc != 0)
		return rc;
	*stan = t.leg[0].stan;
	return 0;
}

/* Answers an 0800 the peer sent us with 0810, 39 = 00. */
static void answer_network(sw_link_t *link, const iso8583_frame_t *frame,
			   const iso8583_msg_t *msg)
{
	sw_endpoint_t *ep = link->endpoint;
	txn_t req;
	txn_error_t err;
	if (txn_from_iso(msg, &req, &err) != 0 || req.kind != TXN_KIND_NETWORK) {
		ps_logf(PS_LOG_WARN, "unexpected_request",
			"endpoint %s sent %.4s; only 0800 is answered",
			ep->cfg.name, msg->mti);
		return;
	}
	ps_strlcpy(req.response, "00", sizeof(req.response));
	sw_wbuf_t *wb = sw_wbuf_get(ep->net);
	if (wb == NULL)
		return;
	iso8583_msg_t out;
	iso8583_error_t ierr;
	uint8_t header[TXN_HEADER_MAX];
	iso8583_header_reply(frame->header, frame->header_len, header);
	if (txn_answer_to_iso(&req, &ep->dialect, &out) != 0 ||
	    sw_net_pack(wb, &ep->cfg.chan.framing, header, &out, &ierr) != 0) {
		sw_wbuf_put(ep->net, wb);
		return;
	}
	link_send(link, wb);
}

static void handle_network_response(sw_link_t *link, const txn_response_t *r)
{
	if (link->state == SW_LINK_SIGNING_ON && r->stan == link->signon_stan) {
		if (strcmp(r->response, "00") != 0) {
			char why[64];
			snprintf(why, sizeof(why), "sign-on refused with %s",
				 r->response);
			link_fail(link, why);
			return;
		}
		link->backoff_ms = 0;
		set_state(link, SW_LINK_UP);
		log_link(link, "link_up", NULL);
		return;
	}
	if (link->echo_pending && r->stan == link->echo_stan) {
		link->echo_pending = false;
		link->echo_misses = 0;
	}
}

/* ---- reading ----------------------------------------------------------- */

static void link_alloc_cb(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
	(void)suggested;
	sw_link_t *link = handle->data;
	uint8_t *data;
	size_t len;
	iso8583_framer_space(&link->framer, &data, &len);
	buf->base = (char *)data;
	buf->len = len;
}

/* Decodes and dispatches one frame; SW_NET_HOLD when the response must
 * wait (the frame stays valid while the link does not read). */
static int handle_frame(sw_link_t *link, const iso8583_frame_t *frame)
{
	sw_endpoint_t *ep = link->endpoint;
	iso8583_msg_t msg;
	iso8583_error_t ierr;
	if (iso8583_unpack(&msg, &ep->dialect, frame->message,
			   frame->message_len, &ierr) != 0) {
		char text[256];
		ps_logf(PS_LOG_WARN, "endpoint_format_error", "endpoint %s: %s",
			ep->cfg.name, iso8583_error_format(&ierr, text, sizeof(text)));
		return 0;
	}
	if (!txn_mti_is_response(msg.mti)) {
		answer_network(link, frame, &msg);
		return 0;
	}
	txn_response_t resp;
	txn_error_t err;
	if (txn_response_from_iso(&msg, &resp, &err) != 0) {
		ps_logf(PS_LOG_WARN, "endpoint_format_error", "endpoint %s: %s %s",
			ep->cfg.name, err.field, err.reason);
		return 0;
	}
	if (strcmp(resp.mti, "0810") == 0) {
		handle_network_response(link, &resp);
		return 0;
	}
	sw_net_t *net = ep->net;
	int rc = net->handlers.response(net->handlers.data, ep, &resp);
	if (rc == 0)
		ep->received++; /* like sent: legs only, not network management */
	return rc;
}

/* Takes the frames the framer holds; stops at one the handler holds. */
static void take_frames(sw_link_t *link)
{
	iso8583_frame_t frame;
	iso8583_error_t ierr;
	int rc;
	while (link->state != SW_LINK_CLOSING &&
	       (rc = iso8583_framer_next(&link->framer, &frame, &ierr)) == 1) {
		if (handle_frame(link, &frame) == SW_NET_HOLD) {
			link->held = true;
			link->held_frame = frame;
			uv_read_stop((uv_stream_t *)&link->tcp);
			return;
		}
	}
	if (link->state != SW_LINK_CLOSING && rc < 0) {
		char text[256];
		link_fail(link, iso8583_error_format(&ierr, text, sizeof(text)));
	}
}

static void link_read_cb(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
	(void)buf;
	sw_link_t *link = stream->data;
	if (nread < 0) {
		link_fail(link, nread == UV_EOF ? "peer closed"
				: nread == UV_ENOBUFS ? "frame over the bound"
						      : uv_strerror((int)nread));
		return;
	}
	if (nread == 0)
		return;
	link->last_rx_ms = uv_now(link->endpoint->net->ctx->loop);
	iso8583_framer_commit(&link->framer, (size_t)nread);
	take_frames(link);
}

static void link_resume(sw_link_t *link)
{
	if (!link->held || link->state == SW_LINK_CLOSING ||
	    link->state == SW_LINK_DOWN)
		return;
	if (handle_frame(link, &link->held_frame) == SW_NET_HOLD)
		return;
	link->held = false;
	take_frames(link);
	if (!link->held && link->state != SW_LINK_CLOSING)
		uv_read_start((uv_stream_t *)&link->tcp, link_alloc_cb,
			      link_read_cb);
}

void sw_net_resume(sw_net_t *net)
{
	for (uint32_t i = 0; i < net->endpoint_count; i++) {
		sw_endpoint_t *ep = net->endpoint[i];
		for (uint32_t j = 0; j < SW_LINKS_MAX; j++)
			link_resume(&ep->link[j]);
	}
}

/* ---- the link timer: backoff, sign-on deadline, echo ------------------- */

static uint64_t tick_ms(const sw_endpoint_t *ep)
{
	uint64_t t = ep->cfg.timeout_ms;
	if (ep->cfg.echo_interval_ms > 0 && ep->cfg.echo_interval_ms < t)
		t = ep->cfg.echo_interval_ms;
	t /= 4;
	return t < 10 ? 10 : t;
}

static void link_tick(uv_timer_t *timer)
{
	sw_link_t *link = timer->data;
	sw_endpoint_t *ep = link->endpoint;
	uint64_t now = uv_now(timer->loop);
	switch (link->state) {
	case SW_LINK_DOWN:
		if (!ep->retired && !ep->net->ctx->stopped)
			link_connect(link);
		return;
	case SW_LINK_SIGNING_ON:
		if (now - link->last_tx_ms >= ep->cfg.timeout_ms)
			link_fail(link, "no answer to sign-on");
		break;
	case SW_LINK_UP:
		if (link->echo_pending &&
		    now - link->echo_sent_ms >= ep->cfg.timeout_ms) {
			link->echo_pending = false;
			if (++link->echo_misses >= ep->cfg.echo_misses_max) {
				link_fail(link, "echo test unanswered");
				return;
			}
		}
		if (ep->cfg.echo_interval_ms > 0 && !link->echo_pending &&
		    now - link->last_rx_ms >= ep->cfg.echo_interval_ms &&
		    now - link->echo_sent_ms >= ep->cfg.echo_interval_ms) {
			if (send_network(link, "301", &link->echo_stan) == 0) {
				link->echo_pending = true;
				link->echo_sent_ms = now;
			}
		}
		break;
	default:
		break;
	}
}

/* ---- connecting and closing --------------------------------------------- */

static void on_connect(uv_connect_t *req, int status)
{
	sw_link_t *link = req->data;
	sw_endpoint_t *ep = link->endpoint;
	if (link->state != SW_LINK_CONNECTING)
		return; /* closed meanwhile */
	if (status < 0) {
		link_fail(link, uv_strerror(status));
		return;
	}
	uv_tcp_nodelay(&link->tcp, 1);
	link->held = false;
	iso8583_framer_init(&link->framer, &ep->cfg.chan.framing, link->rbuf,
			    ep->cfg.frame_bytes_max + 4);
	uint64_t now = uv_now(ep->net->ctx->loop);
	link->last_rx_ms = now;
	link->echo_sent_ms = now;
	link->echo_pending = false;
	link->echo_misses = 0;
	uv_read_start((uv_stream_t *)&link->tcp, link_alloc_cb, link_read_cb);
	uv_timer_start(&link->timer, link_tick, tick_ms(ep), tick_ms(ep));
	if (!ep->cfg.sign_on) {
		link->backoff_ms = 0;
		set_state(link, SW_LINK_UP);
		log_link(link, "link_up", NULL);
		return;
	}
	link->state = SW_LINK_SIGNING_ON;
	if (send_network(link, "001", &link->signon_stan) != 0)
		link_fail(link, "cannot send sign-on");
}

static void link_connect(sw_link_t *link)
{
	sw_endpoint_t *ep = link->endpoint;
	struct sockaddr_storage addr;
	sw_parse_bind(ep->cfg.host, ep->cfg.port, &addr);
	uv_tcp_init(ep->net->ctx->loop, &link->tcp);
	link->tcp.data = link;
	link->tcp_open = true;
	link->state = SW_LINK_CONNECTING;
	link->connect_req.data = link;
	int rc = uv_tcp_connect(&link->connect_req, &link->tcp,
				(struct sockaddr *)&addr, on_connect);
	if (rc != 0)
		link_fail(link, uv_strerror(rc));
}

static void schedule_reconnect(sw_link_t *link)
{
	const sw_endpoint_cfg_t *cfg = &link->endpoint->cfg;
	if (link->backoff_ms == 0)
		link->backoff_ms = cfg->reconnect_min_ms;
	else if (link->backoff_ms < cfg->reconnect_max_ms / 2)
		link->backoff_ms *= 2;
	else
		link->backoff_ms = cfg->reconnect_max_ms;
	uv_timer_start(&link->timer, link_tick, link->backoff_ms, 0);
}

static void link_closed_cb(uv_handle_t *handle)
{
	sw_link_t *link = handle->data;
	sw_endpoint_t *ep = link->endpoint;
	link->tcp_open = false;
	link->state = SW_LINK_DOWN;
	if (!ep->retired && !ep->net->ctx->stopped)
		schedule_reconnect(link);
	sw_net_closed(ep->net);
}

static void link_fail(sw_link_t *link, const char *why)
{
	if (link->state == SW_LINK_CLOSING || link->state == SW_LINK_DOWN)
		return;
	bool was_up = link->state == SW_LINK_UP;
	set_state(link, SW_LINK_CLOSING);
	if (was_up || link->endpoint->net->ctx->stopped)
		log_link(link, "link_down", why);
	else if (link->backoff_ms < link->endpoint->cfg.reconnect_max_ms)
		log_link(link, "link_connect_failed", why);
	uv_timer_stop(&link->timer);
	uv_read_stop((uv_stream_t *)&link->tcp);
	uv_close((uv_handle_t *)&link->tcp, link_closed_cb);
}

int sw_endpoint_start(sw_net_t *net, const sw_endpoint_cfg_t *cfg,
		      sw_endpoint_t **out)
{
	sw_endpoint_t *ep = calloc(1, sizeof(*ep));
	if (ep == NULL)
		return PS_ENOMEM;
	ep->net = net;
	ep->cfg = *cfg;
	ep->dialect = *cfg->chan.iso;
	ep->cfg.chan.iso = &ep->dialect;
	ep->cfg.chan.framing.dialect = &ep->dialect;
	for (uint32_t i = 0; i < SW_LINKS_MAX; i++) {
		sw_link_t *link = &ep->link[i];
		link->endpoint = ep;
		link->index = i;
		link->rbuf = malloc(cfg->frame_bytes_max + 4);
		if (link->rbuf == NULL)
			return PS_ENOMEM;
		uv_timer_init(net->ctx->loop, &link->timer);
		link->timer.data = link;
		link->timer_open = true;
	}
	for (uint32_t i = 0; i < cfg->connections; i++)
		link_connect(&ep->link[i]);
	*out = ep;
	return 0;
}

/*
 * Applies a reloaded configuration. Timeouts, echo, backoff, bounds and
 * the institution change in place; a new address, channel or link count
 * closes the links, which reconnect with the new settings.
 */
void sw_endpoint_update(sw_endpoint_t *ep, const sw_endpoint_cfg_t *cfg)
{
	bool reconnect = strcmp(ep->cfg.host, cfg->host) != 0 ||
			 ep->cfg.port != cfg->port ||
			 ep->cfg.connections != cfg->connections ||
			 ep->cfg.frame_bytes_max != cfg->frame_bytes_max ||
			 memcmp(&ep->dialect, cfg->chan.iso, sizeof(ep->dialect)) != 0 ||
			 ep->cfg.chan.framing.length_header != cfg->chan.framing.length_header ||
			 ep->cfg.chan.framing.header_bytes != cfg->chan.framing.header_bytes;
	uint32_t old_connections = ep->cfg.connections;
	ep->cfg = *cfg;
	ep->dialect = *cfg->chan.iso;
	ep->cfg.chan.iso = &ep->dialect;
	ep->cfg.chan.framing.dialect = &ep->dialect;
	if (!reconnect)
		return;
	ps_logf(PS_LOG_INFO, "endpoint_reconfigured",
		"endpoint %s: reconnecting with the new settings", cfg->name);
	for (uint32_t i = 0; i < SW_LINKS_MAX; i++) {
		sw_link_t *link = &ep->link[i];
		if (i < old_connections)
			link_fail(link, "reconfigured");
		if (link->state == SW_LINK_DOWN && i < cfg->connections) {
			uv_timer_stop(&link->timer);
			link->backoff_ms = 0;
			uv_timer_start(&link->timer, link_tick, 1, 0);
		}
		if (i >= cfg->connections && link->state == SW_LINK_DOWN)
			uv_timer_stop(&link->timer);
	}
}

static void close_links(sw_endpoint_t *ep)
{
	for (uint32_t i = 0; i < SW_LINKS_MAX; i++) {
		sw_link_t *link = &ep->link[i];
		link_fail(link, "stopping");
		if (link->timer_open) {
			uv_close((uv_handle_t *)&link->timer, NULL);
			link->timer_open = false;
		}
	}
}

/* Removed from the configuration: no new traffic; its links close. */
void sw_endpoint_retire(sw_endpoint_t *ep)
{
	if (ep->retired)
		return;
	ep->retired = true;
	close_links(ep);
}

void sw_net_close_endpoints(sw_net_t *net)
{
	for (uint32_t i = 0; i < net->endpoint_count; i++) {
		sw_endpoint_t *ep = net->endpoint[i];
		ep->retired = true;
		close_links(ep);
	}
}

void sw_endpoint_free(sw_endpoint_t *ep)
{
	for (uint32_t j = 0; j < SW_LINKS_MAX; j++)
		free(ep->link[j].rbuf);
	free(ep);
}
