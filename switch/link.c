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

#include "channel_uv.h"
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
	link->queued -= b->count;
	sw_wbatch_free(b->net, b, status == 0);
	if (status < 0 && status != UV_ECANCELED)
		link_fail(link, uv_strerror(status));
}

/* Writes a batch of messages; on failure the caller still owns it. */
int sw_link_write(sw_link_t *link, sw_wbatch_t *b)
{
	if (link->state != SW_LINK_UP && link->state != SW_LINK_SIGNING_ON)
		return PS_ECLOSED;
	/* A host that stops reading would hold every message buffer: past
	 * what it may have in flight, the link is dropped (its queued
	 * writes are cancelled and the legs time out and are reversed). */
	if (link->queued + b->count > link->endpoint->cfg.inflight_max + SW_WBATCH_MAX) {
		link_fail(link, "the host is not reading: messages pile up unwritten");
		return PS_ELIMIT;
	}
	b->link = link;
	b->req.data = b;
	int rc = uv_write(&b->req, (uv_stream_t *)&link->tcp, b->buf, b->count,
			  link_write_cb);
	if (rc != 0) {
		link_fail(link, uv_strerror(rc));
		return PS_EIO;
	}
	link->writes_pending++;
	link->queued += b->count;
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
		sw_wbatch_free(net, b, false);
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
	int rc = chan_encode_leg(&ep->cfg.channel.chan, t, leg, wb->data,
				 sizeof(wb->data), &wb->len);
	if (rc != 0) {
		ps_logf(PS_LOG_ERROR, "encode_error",
			"leg %u of txn %llu for %s: %s", leg,
			(unsigned long long)t->id, ep->cfg.name,
			rc <= ISO8583_EMTI && rc > ISO8583_EMTI - 100
				? iso8583_strerror(rc)
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

/* Sends network management (a sign-on, an echo) on link; *stan is the
 * STAN its answer will carry. */
static int send_network(sw_link_t *link, int op, uint32_t *stan)
{
	sw_endpoint_t *ep = link->endpoint;
	sw_net_t *net = ep->net;
	sw_wbuf_t *wb = sw_wbuf_get(net);
	if (wb == NULL)
		return PS_ELIMIT;
	uint32_t seq = (uint32_t)(net->next_seq(net->seq_data) % 999999) + 1;
	char transmit[11];
	txn_format_transmit(ps_wall_ms(), transmit);
	int rc = chan_encode_network(&ep->cfg.channel.chan, op, seq, transmit,
				     net->ctx->cfg->institution, wb->data,
				     sizeof(wb->data), &wb->len);
	if (rc != 0) {
		ps_logf(PS_LOG_ERROR, "encode_error",
			"network management for %s: %d", ep->cfg.name, rc);
		sw_wbuf_put(net, wb);
		return rc;
	}
	rc = link_send(link, wb);
	if (rc != 0)
		return rc;
	*stan = seq;
	return 0;
}

/* Answers the peer's own network management (an 0800, a hello) with 00;
 * any other request from an endpoint is not ours to take. */
static void answer_network(sw_link_t *link, txn_t *req)
{
	sw_endpoint_t *ep = link->endpoint;
	if (req->kind != TXN_KIND_NETWORK) {
		ps_logf(PS_LOG_WARN, "unexpected_request",
			"endpoint %s sent a %s request; only network "
			"management is answered", ep->cfg.name,
			txn_kind_name(req->kind));
		return;
	}
	/* A network announcing its cutover (0820 201): the period it closes
	 * joins the window open now. */
	sw_net_t *net = ep->net;
	if (req->net_op == TXN_NET_CUTOVER && net->handlers.network_closed != NULL)
		net->handlers.network_closed(net->handlers.data, ep,
					     req->wire.settle_date, 0);
	req->rc = TXN_RC_APPROVED;
	sw_wbuf_t *wb = sw_wbuf_get(ep->net);
	if (wb == NULL)
		return;
	if (chan_encode_answer(&ep->cfg.channel.chan, req, NULL, wb->data,
			       sizeof(wb->data), &wb->len) != 0) {
		sw_wbuf_put(ep->net, wb);
		return;
	}
	link_send(link, wb);
}

static void handle_network_response(sw_link_t *link, const txn_response_t *r)
{
	if (link->state == SW_LINK_SIGNING_ON && r->stan == link->signon_stan) {
		if (r->rc != TXN_RC_APPROVED) {
			char why[64], code[3];
			txn_rc_text(r->rc, code);
			snprintf(why, sizeof(why), "sign-on refused with %s", code);
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
	sw_endpoint_t *ep = link->endpoint;
	if (ep->cutover_pending && r->stan == ep->cutover_stan) {
		ep->cutover_pending = false;
		sw_net_t *net = ep->net;
		if (r->rc != TXN_RC_APPROVED)
			ps_logf(PS_LOG_WARN, "network_cutover_refused",
				"endpoint %s answered our cutover request %02u",
				ep->cfg.name, r->rc);
		else if (net->handlers.network_closed != NULL)
			net->handlers.network_closed(net->handlers.data, ep, r->period,
						     ep->cutover_window);
	}
}

int sw_endpoint_recon(sw_endpoint_t *ep, const char *settle_date)
{
	sw_link_t *link = sw_endpoint_pick(ep);
	if (link == NULL)
		return PS_ECLOSED;
	sw_net_t *net = ep->net;
	sw_wbuf_t *wb = sw_wbuf_get(net);
	if (wb == NULL)
		return PS_ELIMIT;
	uint32_t seq = (uint32_t)(net->next_seq(net->seq_data) % 999999) + 1;
	char transmit[11];
	txn_format_transmit(ps_wall_ms(), transmit);
	int rc = chan_encode_recon(&ep->cfg.channel.chan, seq, transmit,
				   net->ctx->cfg->institution, settle_date,
				   wb->data, sizeof(wb->data), &wb->len);
	if (rc != 0) {
		sw_wbuf_put(net, wb);
		return rc;
	}
	rc = link_send(link, wb);
	if (rc != 0)
		return rc;
	ep->recon_pending = true;
	ep->recon_stan = seq;
	return 0;
}

int sw_endpoint_cutover(sw_endpoint_t *ep, uint64_t window)
{
	sw_link_t *link = sw_endpoint_pick(ep);
	if (link == NULL)
		return PS_ECLOSED;
	uint32_t stan;
	int rc = send_network(link, TXN_NET_CUTOVER, &stan);
	if (rc != 0)
		return rc;
	ep->cutover_pending = true;
	ep->cutover_stan = stan;
	ep->cutover_window = window;
	return 0;
}

/* ---- reading ----------------------------------------------------------- */

/* Decodes and dispatches one frame; SW_NET_HOLD when the response must
 * wait (the frame stays valid while the link does not read). */
static int handle_frame(sw_link_t *link, const chan_frame_t *frame)
{
	sw_endpoint_t *ep = link->endpoint;
	txn_t req;
	txn_response_t resp;
	txn_error_t err;
	int what;
	int rc = chan_decode(&ep->cfg.channel.chan, frame, &req, &resp, &what,
			     &err);
	if (rc != 0) {
		ps_logf(PS_LOG_WARN, "endpoint_format_error", "endpoint %s: %s%s%s",
			ep->cfg.name, err.field, err.field[0] ? ": " : "",
			err.reason);
		return 0;
	}
	if (what == CHAN_MSG_REQUEST) {
		answer_network(link, &req);
		return 0;
	}
	if (resp.net_op != TXN_NET_NONE) {
		handle_network_response(link, &resp);
		return 0;
	}
	if (resp.recon) {
		sw_net_t *net = ep->net;
		if (ep->recon_pending && resp.stan == ep->recon_stan) {
			ep->recon_pending = false;
			if (net->handlers.recon_answer != NULL)
				net->handlers.recon_answer(net->handlers.data, ep, &resp);
		}
		return 0;
	}
	sw_net_t *net = ep->net;
	rc = net->handlers.response(net->handlers.data, ep, &resp);
	if (rc == 0)
		ep->received++; /* like sent: legs only, not network management */
	return rc;
}

/* Takes the frames the channel holds; stops at one the handler holds. */
static void take_frames(sw_link_t *link)
{
	chan_frame_t frame;
	char why[256];
	int rc;
	while (link->state != SW_LINK_CLOSING &&
	       (rc = chan_next(&link->ch, &frame, why, sizeof(why))) == 1) {
		if (handle_frame(link, &frame) == SW_NET_HOLD) {
			link->held = true;
			link->held_frame = frame;
			uv_read_stop((uv_stream_t *)&link->tcp);
			return;
		}
	}
	if (link->state != SW_LINK_CLOSING && rc < 0)
		link_fail(link, why);
}

static void link_read_cb(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
	(void)buf;
	sw_link_t *link = stream->data;
	char why[256];
	int rc = chan_uv_read(&link->ch, nread, why, sizeof(why));
	if (rc < 0)
		link_fail(link, why);
	if (rc <= 0)
		return;
	link->last_rx_ms = uv_now(link->endpoint->net->ctx->loop);
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
		uv_read_start((uv_stream_t *)&link->tcp, chan_uv_alloc,
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
			if (send_network(link, TXN_NET_ECHO, &link->echo_stan) == 0) {
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
	if (link->rbuf_bytes < chan_storage_bytes(&ep->cfg.channel.chan)) {
		link_fail(link, "no memory for frame_bytes_max");
		return;
	}
	chan_init(&link->ch, &ep->cfg.channel.chan, link->rbuf, link->rbuf_bytes);
	uint64_t now = uv_now(ep->net->ctx->loop);
	link->last_rx_ms = now;
	link->echo_sent_ms = now;
	link->echo_pending = false;
	link->echo_misses = 0;
	uv_read_start((uv_stream_t *)&link->tcp, chan_uv_alloc, link_read_cb);
	uv_timer_start(&link->timer, link_tick, tick_ms(ep), tick_ms(ep));
	if (!ep->cfg.sign_on) {
		link->backoff_ms = 0;
		set_state(link, SW_LINK_UP);
		log_link(link, "link_up", NULL);
		return;
	}
	link->state = SW_LINK_SIGNING_ON;
	if (send_network(link, TXN_NET_SIGN_ON, &link->signon_stan) != 0)
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
	/* The endpoint owns a copy of its dialect: it outlives reloads. */
	sw_net_own_channel(&ep->cfg.channel, &ep->dialect);
	size_t storage = chan_storage_bytes(&ep->cfg.channel.chan);
	for (uint32_t i = 0; i < SW_LINKS_MAX; i++) {
		sw_link_t *link = &ep->link[i];
		link->endpoint = ep;
		link->index = i;
		link->rbuf = malloc(storage);
		if (link->rbuf == NULL)
			return PS_ENOMEM;
		link->rbuf_bytes = storage;
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
			 !chan_cfg_same(&ep->cfg.channel.chan, &cfg->channel.chan);
	uint32_t old_connections = ep->cfg.connections;
	size_t old_storage = chan_storage_bytes(&ep->cfg.channel.chan);
	ep->cfg = *cfg;
	sw_net_own_channel(&ep->cfg.channel, &ep->dialect);
	if (!reconnect)
		return;
	ps_logf(PS_LOG_INFO, "endpoint_reconfigured",
		"endpoint %s: reconnecting with the new settings", cfg->name);
	size_t storage = chan_storage_bytes(&ep->cfg.channel.chan);
	for (uint32_t i = 0; i < SW_LINKS_MAX; i++) {
		sw_link_t *link = &ep->link[i];
		if (i < old_connections)
			link_fail(link, "reconfigured");
		/* A closed link reads no more: its storage may change size
		 * (a link whose storage cannot grow fails at connect). */
		if (storage != old_storage) {
			uint8_t *rbuf = malloc(storage);
			if (rbuf != NULL) {
				free(link->rbuf);
				link->rbuf = rbuf;
				link->rbuf_bytes = storage;
			}
		}
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
