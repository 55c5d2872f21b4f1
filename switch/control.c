/*
 * control.c: the control socket and the metrics page (control.h).
 */
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "control.h"
#include "recon.h"

/* Each door has its own bounds: clients at once, a request's size, and
 * how long a client may stay without asking anything (an operator's tool
 * asks at once). At the client bound, the client idle longest makes room
 * for the new one, so idle connections cannot lock the operator out. */
#define ADMIN_CLIENTS_MAX 16
#define ADMIN_REQUEST_BYTES_MAX 8192
#define ADMIN_IDLE_MS 10000
#define METRICS_IDLE_MS 5000
#define ADMIN_TICK_MS 1000
#define METRICS_BYTES_MAX (256 * 1024)

typedef union admin_handle {
	uv_handle_t handle;
	uv_stream_t stream;
	uv_tcp_t tcp;
	uv_pipe_t pipe;
} admin_handle_t;

typedef struct admin_client admin_client_t;

struct admin_server {
	sw_control_t *ctl;
	admin_handle_t h;
	admin_client_t *live;
	uv_timer_t idle;         /* closes clients idle past their bound */
	bool idle_open;
	bool http;
	bool open;
	uint16_t port;
	uint32_t clients;        /* not yet closed (closing ones included) */
	uint32_t active;         /* not closing */
};

struct admin_client {
	struct admin_server *srv;
	admin_client_t *prev, *next;
	admin_handle_t h;
	uint64_t last_ms;        /* connected, or last asked */
	bool closing;
	bool close_after_write;
	uint32_t writes;
	size_t len;
	char buf[ADMIN_REQUEST_BYTES_MAX];
};

typedef struct admin_write {
	uv_write_t req;
	admin_client_t *client;
	char data[];
} admin_write_t;

struct sw_control {
	sw_control_view_t v;
	struct admin_server control;
	struct admin_server metrics;
};

static void client_closed(uv_handle_t *h)
{
	admin_client_t *c = h->data;
	struct admin_server *srv = c->srv;
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		srv->live = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	srv->clients--;
	free(c);
}

static void client_close(admin_client_t *c)
{
	if (c->closing)
		return;
	c->closing = true;
	c->srv->active--;
	uv_close(&c->h.handle, client_closed);
}

static uint64_t idle_max_ms(const struct admin_server *srv)
{
	return srv->http ? METRICS_IDLE_MS : ADMIN_IDLE_MS;
}

/* A client with nothing asked and nothing being written. */
static bool client_idle(const admin_client_t *c)
{
	return !c->closing && c->writes == 0 && c->len == 0;
}

static void on_idle_tick(uv_timer_t *timer)
{
	struct admin_server *srv = timer->data;
	uint64_t now = uv_now(timer->loop);
	admin_client_t *next;
	for (admin_client_t *c = srv->live; c != NULL; c = next) {
		next = c->next;
		if (!c->closing && c->writes == 0 &&
		    now - c->last_ms >= idle_max_ms(srv))
			client_close(c);
	}
}

/* Room for one more: the client idle longest goes, if there is one. */
static bool make_room(struct admin_server *srv)
{
	if (srv->active < ADMIN_CLIENTS_MAX)
		return true;
	admin_client_t *oldest = NULL;
	for (admin_client_t *c = srv->live; c != NULL; c = c->next)
		if (client_idle(c) && (oldest == NULL || c->last_ms < oldest->last_ms))
			oldest = c;
	if (oldest == NULL)
		return false;
	ps_logf(PS_LOG_WARN, "admin_client_evicted", "%s: %u clients already; "
		"the one idle longest makes room", srv->http ? "metrics" : "control",
		srv->active);
	client_close(oldest);
	return true;
}

static void write_done(uv_write_t *req, int status)
{
	admin_write_t *w = req->data;
	admin_client_t *c = w->client;
	free(w);
	c->writes--;
	if (status < 0 || (c->close_after_write && c->writes == 0))
		client_close(c);
}

static void client_write(admin_client_t *c, const char *data, size_t len)
{
	admin_write_t *w = malloc(sizeof(*w) + len);
	if (w == NULL) {
		client_close(c);
		return;
	}
	memcpy(w->data, data, len);
	w->client = c;
	w->req.data = w;
	uv_buf_t buf = uv_buf_init(w->data, (unsigned)len);
	if (uv_write(&w->req, &c->h.stream, &buf, 1, write_done) != 0) {
		free(w);
		client_close(c);
		return;
	}
	c->writes++;
}

/* ---- control commands ------------------------------------------------------ */

static json_t *listeners_json(const sw_control_view_t *v)
{
	json_t *arr = json_array();
	for (uint32_t i = 0; i < v->net->listener_count; i++) {
		const sw_listener_t *l = v->net->listener[i];
		json_array_append_new(arr, json_pack(
			"{s:s, s:s, s:i, s:b, s:I, s:I, s:I}",
			"name", l->cfg.name,
			"protocol", chan_kind_name(l->cfg.channel.chan.kind),
			"port", (int)l->bound_port,
			"listening", l->listening,
			"connections", (json_int_t)l->conn_count,
			"accepted", (json_int_t)l->accepted,
			"refused", (json_int_t)l->refused));
	}
	return arr;
}

static json_t *cmd_status(const sw_control_view_t *v)
{
	return json_pack(
		"{s:b, s:i, s:I, s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:o}",
		"ok", 1,
		"pid", (int)getpid(),
		"uptime_ms", (json_int_t)(ps_mono_ms() - v->ctx->started_mono_ms),
		"draining", v->ctx->draining,
		"inflight", (json_int_t)v->flow->requests_inflight,
		"records_in_memory", (json_int_t)sw_table_count(v->table),
		"connections", (json_int_t)v->net->conn_total,
		"saf_entries", (json_int_t)sw_saf_entries(v->saf),
		"exceptions_open", (json_int_t)sw_saf_exceptions(v->saf),
		"commit_failures", (json_int_t)v->store->commit_failures,
		"listeners", listeners_json(v));
}

static json_t *cmd_endpoints(const sw_control_view_t *v)
{
	json_t *arr = json_array();
	for (uint32_t i = 0; i < v->net->endpoint_count; i++) {
		const sw_endpoint_t *ep = v->net->endpoint[i];
		if (ep->retired)
			continue;
		json_t *links = json_array();
		for (uint32_t j = 0; j < ep->cfg.connections; j++)
			json_array_append_new(links, json_pack(
				"{s:i, s:s, s:i}", "index", (int)j,
				"state", sw_link_state_name(ep->link[j].state),
				"echo_misses", (int)ep->link[j].echo_misses));
		char address[SW_HOST_MAX + 8];
		snprintf(address, sizeof(address), "%s:%u", ep->cfg.host, ep->cfg.port);
		json_array_append_new(arr, json_pack(
			"{s:s, s:s, s:s, s:s, s:i, s:i, s:I, s:I, s:I, s:I, s:I, s:o}",
			"name", ep->cfg.name,
			"address", address,
			"institution", ep->cfg.institution,
			"state", sw_endpoint_up(ep) ? "up" : "down",
			"links_up", (int)sw_endpoint_links_up(ep),
			"connections", (int)ep->cfg.connections,
			"inflight", (json_int_t)ep->inflight,
			"sent", (json_int_t)ep->sent,
			"received", (json_int_t)ep->received,
			"timeouts", (json_int_t)ep->timeouts,
			"late", (json_int_t)ep->late,
			"links", links));
	}
	return json_pack("{s:b, s:o}", "ok", 1, "endpoints", arr);
}

static json_t *cmd_stats(const sw_control_view_t *v)
{
	const sw_metrics_t *m = &v->ctx->metrics;
	json_t *requests = json_object();
	for (int k = 1; k < TXN_KIND_COUNT; k++)
		if (m->requests[k] > 0)
			json_object_set_new(requests, txn_kind_name(k),
					    json_integer((json_int_t)m->requests[k]));
	json_t *answers = json_object();
	for (int c = 0; c < 100; c++) {
		if (m->answers[c] == 0)
			continue;
		char code[3] = {(char)('0' + c / 10), (char)('0' + c % 10), 0};
		json_object_set_new(answers, code, json_integer((json_int_t)m->answers[c]));
	}
	double mean_ms = m->latency_count
				 ? (double)m->latency_sum_us / 1000.0 / (double)m->latency_count
				 : 0.0;
	json_t *out = json_pack("{s:b, s:o, s:o}", "ok", 1, "requests", requests,
				"answers", answers);
	for (size_t i = 0; i < sw_counter_count; i++)
		json_object_set_new(out, sw_counters[i].name,
				    json_integer((json_int_t)sw_counter_value(m, &sw_counters[i])));
	json_t *closed = json_object(), *refused = json_object();
	for (int c = 1; c < SW_CLOSE_CAUSES; c++)
		json_object_set_new(closed, sw_close_cause_name(c),
				    json_integer((json_int_t)m->closed[c]));
	for (int c = 0; c < SW_REFUSE_CAUSES; c++)
		json_object_set_new(refused, sw_refuse_cause_name(c),
				    json_integer((json_int_t)m->refused_conns[c]));
	json_object_set_new(out, "connections_closed", closed);
	json_object_set_new(out, "connections_refused", refused);
	json_object_set_new(out, "latency_mean_ms", json_real(mean_ms));
	return out;
}

static json_t *error_json(const char *fmt, const char *detail)
{
	char text[600];
	snprintf(text, sizeof(text), fmt, detail);
	return json_pack("{s:b, s:s}", "ok", 0, "error", text);
}

/*
 * {"cmd":"fault", "commit_after":N, "commit_count":M, "put_at":K,
 * "map_full":true}: faults injected into the store for tests (store.h);
 * the members left out are no fault, so {"cmd":"fault"} clears them all.
 * Refused unless the configuration sets "test_faults": true.
 */
static json_t *cmd_fault(const sw_control_view_t *v, json_t *req)
{
	if (!v->ctx->cfg->test_faults)
		return error_json("%s", "fault injection is off (set \"test_faults\": "
				  "true in the configuration of a test switch)");
	sw_store_faults_t f = {.put_at = -1};
	json_t *x;
	if ((x = json_object_get(req, "commit_after")) != NULL)
		f.commit_after = (uint32_t)json_integer_value(x);
	if ((x = json_object_get(req, "commit_count")) != NULL)
		f.commit_count = (uint32_t)json_integer_value(x);
	if ((x = json_object_get(req, "put_at")) != NULL)
		f.put_at = (int32_t)json_integer_value(x);
	f.map_full = json_is_true(json_object_get(req, "map_full"));
	sw_store_set_faults(v->store, &f);
	return json_pack("{s:b}", "ok", 1);
}

/* ---- clearing (clearing.h) -------------------------------------------- */

static int window_arg(json_t *req, uint64_t *out)
{
	json_t *w = json_object_get(req, "window");
	if (!json_is_integer(w) || json_integer_value(w) < 1)
		return PS_EINVAL;
	*out = (uint64_t)json_integer_value(w);
	return 0;
}

static json_t *cmd_cutover(const sw_control_view_t *v)
{
	uint64_t closed;
	char err[256];
	if (sw_clearing_cutover(v->clearing, &closed, err, sizeof(err)) != 0)
		return error_json("cutover refused: %s", err);
	return json_pack("{s:b, s:I, s:I, s:s}", "ok", 1, "closed",
			 (json_int_t)closed, "opened",
			 (json_int_t)sw_clearing_window(v->clearing), "date",
			 sw_clearing_date(v->clearing));
}

static json_t *cmd_window(const sw_control_view_t *v, json_t *req)
{
	uint64_t id;
	if (window_arg(req, &id) != 0)
		return error_json("%s", "\"window\" must be a window number");
	json_t *w = sw_clearing_window_json(v->clearing, id);
	if (w == NULL)
		return error_json("%s", "no such window");
	return json_pack("{s:b, s:o}", "ok", 1, "window", w);
}

/* The last windows, newest first: number, state, date, why. */
static json_t *cmd_windows(const sw_control_view_t *v, json_t *req)
{
	json_int_t limit = json_integer_value(json_object_get(req, "limit"));
	if (limit <= 0 || limit > 1000)
		limit = 20;
	json_t *arr = json_array();
	uint64_t open = sw_clearing_window(v->clearing);
	for (uint64_t id = open; id >= 1 && (json_int_t)json_array_size(arr) < limit;
	     id--) {
		json_t *w = sw_clearing_window_json(v->clearing, id);
		if (w == NULL)
			break;
		json_t *row = json_pack("{s:I, s:O, s:O}", "window", (json_int_t)id,
					"state", json_object_get(w, "state"), "date",
					json_object_get(w, "date"));
		json_t *reason = json_object_get(w, "reason");
		if (reason != NULL)
			json_object_set(row, "reason", reason);
		json_object_set(row, "batches", json_object_get(w, "batches"));
		json_array_append_new(arr, row);
		json_decref(w);
	}
	return json_pack("{s:b, s:I, s:o}", "ok", 1, "open", (json_int_t)open,
			 "windows", arr);
}

static json_t *cmd_settle(const sw_control_view_t *v, json_t *req)
{
	uint64_t id;
	if (window_arg(req, &id) != 0)
		return error_json("%s", "\"window\" must be a window number");
	char err[256];
	if (sw_clearing_settle(v->clearing, id, err, sizeof(err)) != 0)
		return error_json("settle refused: %s", err);
	return json_pack("{s:b}", "ok", 1);
}

static json_t *cmd_recon(const sw_control_view_t *v, json_t *req)
{
	uint64_t id;
	if (window_arg(req, &id) != 0)
		return error_json("%s", "\"window\" must be a window number");
	char err[256];
	if (sw_recon_start(v->clearing, id, err, sizeof(err)) != 0)
		return error_json("recon refused: %s", err);
	return json_pack("{s:b}", "ok", 1);
}

static json_t *run_command(const sw_control_view_t *v, const char *line,
			   size_t len)
{
	json_error_t jerr;
	json_t *req = json_loadb(line, len, 0, &jerr);
	if (req == NULL)
		return error_json("invalid JSON: %s", jerr.text);
	const char *cmd = json_string_value(json_object_get(req, "cmd"));
	json_t *out;
	if (cmd == NULL) {
		out = error_json("%s", "\"cmd\" is required");
	} else if (strcmp(cmd, "status") == 0) {
		out = cmd_status(v);
	} else if (strcmp(cmd, "endpoints") == 0) {
		out = cmd_endpoints(v);
	} else if (strcmp(cmd, "stats") == 0) {
		out = cmd_stats(v);
	} else if (strcmp(cmd, "fault") == 0) {
		out = cmd_fault(v, req);
	} else if (strcmp(cmd, "reload") == 0) {
		char err[512];
		out = v->reload(v->reload_data, err, sizeof(err)) == 0
			      ? json_pack("{s:b}", "ok", 1)
			      : error_json("reload refused: %s", err);
	} else if (strcmp(cmd, "cutover") == 0) {
		out = cmd_cutover(v);
	} else if (strcmp(cmd, "window") == 0) {
		out = cmd_window(v, req);
	} else if (strcmp(cmd, "windows") == 0) {
		out = cmd_windows(v, req);
	} else if (strcmp(cmd, "settle") == 0) {
		out = cmd_settle(v, req);
	} else if (strcmp(cmd, "recon") == 0) {
		out = cmd_recon(v, req);
	} else {
		out = error_json("unknown command \"%s\" (status, endpoints, "
				 "stats, reload, cutover, windows, window, "
				 "settle, recon)", cmd);
	}
	json_decref(req);
	return out;
}

static void control_input(admin_client_t *c)
{
	char *nl;
	while (!c->closing && (nl = memchr(c->buf, '\n', c->len)) != NULL) {
		size_t n = (size_t)(nl - c->buf);
		json_t *out = run_command(&c->srv->ctl->v, c->buf, n);
		char *text = json_dumps(out, JSON_COMPACT);
		json_decref(out);
		if (text != NULL) {
			size_t tl = strlen(text);
			text[tl] = '\n'; /* json_dumps leaves room for its NUL */
			client_write(c, text, tl + 1);
			free(text);
		}
		memmove(c->buf, nl + 1, c->len - n - 1);
		c->len -= n + 1;
	}
}

/* ---- metrics over HTTP ------------------------------------------------------ */

static void render_endpoints(const sw_net_t *net, ps_buf_t *out)
{
	static const struct {
		const char *name, *type, *help;
	} series[] = {
		{"endpoint_up", "gauge", "1 when at least one link is up."},
		{"endpoint_links_up", "gauge", "Links signed on and up."},
		{"endpoint_inflight", "gauge", "Requests awaiting a response."},
		{"endpoint_sent_total", "counter", "Requests sent."},
		{"endpoint_timeouts_total", "counter", "Requests that timed out."},
		{"endpoint_late_total", "counter", "Responses after their deadline."},
	};
	for (size_t s = 0; s < PS_ARRAY_LEN(series); s++) {
		sw_metrics_header(out, series[s].name, series[s].type,
				  series[s].help);
		for (uint32_t i = 0; i < net->endpoint_count; i++) {
			const sw_endpoint_t *ep = net->endpoint[i];
			if (ep->retired)
				continue;
			uint64_t v[] = {sw_endpoint_up(ep), sw_endpoint_links_up(ep),
					ep->inflight, ep->sent, ep->timeouts,
					ep->late};
			ps_buf_printf(out, "payswitch_%s{endpoint=\"%s\"} %" PRIu64 "\n",
				      series[s].name, ep->cfg.name, v[s]);
		}
	}
}

static void render_metrics(const sw_control_view_t *v, ps_buf_t *out)
{
	sw_metrics_render(&v->ctx->metrics, out);
	sw_metrics_gauge(out, "inflight", "Requests not yet answered.",
			 v->flow->requests_inflight);
	sw_metrics_gauge(out, "connections", "Inbound connections open.",
			 v->net->conn_total);
	sw_metrics_gauge(out, "saf_entries",
			 "Reversals waiting in the store-and-forward queue.",
			 sw_saf_entries(v->saf));
	sw_metrics_gauge(out, "exceptions_open",
			 "Exceptions waiting for an operator (switchctl exceptions).",
			 sw_saf_exceptions(v->saf));
	sw_metrics_gauge(out, "draining", "1 while the switch drains.",
			 v->ctx->draining);
	render_endpoints(v->net, out);
}

static void http_input(admin_client_t *c)
{
	if (memmem(c->buf, c->len, "\r\n\r\n", 4) == NULL &&
	    memmem(c->buf, c->len, "\n\n", 2) == NULL)
		return;
	c->close_after_write = true;
	static char body[METRICS_BYTES_MAX];
	static char head[256];
	ps_buf_t b;
	ps_buf_init(&b, body, sizeof(body));
	const char *status = "200 OK";
	if (c->len >= 13 && memcmp(c->buf, "GET /metrics", 12) == 0 &&
	    (c->buf[12] == ' ' || c->buf[12] == '?')) {
		render_metrics(&c->srv->ctl->v, &b);
	} else {
		status = "404 Not Found";
		ps_buf_append_str(&b, "try GET /metrics\n");
	}
	int n = snprintf(head, sizeof(head),
			 "HTTP/1.0 %s\r\nContent-Type: text/plain; version=0.0.4\r\n"
			 "Content-Length: %zu\r\nConnection: close\r\n\r\n",
			 status, b.len);
	client_write(c, head, (size_t)n);
	client_write(c, body, b.len);
	c->len = 0;
}

/* ---- plumbing -------------------------------------------------------------- */

static void client_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	(void)suggested;
	admin_client_t *c = h->data;
	buf->base = c->buf + c->len;
	buf->len = sizeof(c->buf) - c->len;
}

static void client_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	(void)buf;
	admin_client_t *c = s->data;
	if (nread < 0) {
		client_close(c);
		return;
	}
	c->len += (size_t)nread;
	c->last_ms = uv_now(s->loop);
	if (c->srv->http)
		http_input(c);
	else
		control_input(c);
	if (c->len == sizeof(c->buf)) /* a request over the bound */
		client_close(c);
}

static void on_admin_connection(uv_stream_t *server, int status)
{
	struct admin_server *srv = server->data;
	if (status < 0)
		return;
	admin_client_t *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return;
	c->srv = srv;
	if (srv->h.handle.type == UV_NAMED_PIPE)
		uv_pipe_init(server->loop, &c->h.pipe, 0);
	else
		uv_tcp_init(server->loop, &c->h.tcp);
	c->h.handle.data = c;
	c->last_ms = uv_now(server->loop);
	bool room = make_room(srv);
	srv->clients++;
	srv->active++;
	c->next = srv->live;
	if (srv->live != NULL)
		srv->live->prev = c;
	srv->live = c;
	if (uv_accept(server, &c->h.stream) != 0 || !room) {
		client_close(c);
		return;
	}
	uv_read_start(&c->h.stream, client_alloc, client_read);
}

static int admin_listen(sw_control_t *ctl, struct admin_server *srv,
			const char *address, bool http, char *err, size_t err_cap)
{
	uv_loop_t *loop = ctl->v.ctx->loop;
	srv->ctl = ctl;
	srv->http = http;
	int rc;
	if (strncmp(address, "unix:", 5) == 0) {
		const char *path = address + 5;
		unlink(path); /* a socket file left by a killed switch */
		uv_pipe_init(loop, &srv->h.pipe, 0);
		srv->h.handle.data = srv;
		srv->open = true;
		rc = uv_pipe_bind(&srv->h.pipe, path);
	} else {
		char host[SW_HOST_MAX];
		uint16_t port;
		struct sockaddr_storage addr;
		sw_config_validate_address(address, host, sizeof(host), &port);
		sw_parse_bind(host, port, &addr);
		uv_tcp_init(loop, &srv->h.tcp);
		srv->h.handle.data = srv;
		srv->open = true;
		rc = uv_tcp_bind(&srv->h.tcp, (struct sockaddr *)&addr, 0);
	}
	if (rc == 0)
		rc = uv_listen(&srv->h.stream, 16, on_admin_connection);
	if (rc == 0) {
		uv_timer_init(loop, &srv->idle);
		srv->idle.data = srv;
		srv->idle_open = true;
		uv_timer_start(&srv->idle, on_idle_tick, ADMIN_TICK_MS, ADMIN_TICK_MS);
	}
	if (rc != 0) {
		snprintf(err, err_cap, "%s: cannot listen on %s: %s",
			 http ? "metrics" : "control", address, uv_strerror(rc));
		return PS_EIO;
	}
	if (srv->h.handle.type == UV_TCP) {
		struct sockaddr_storage bound;
		int len = sizeof(bound);
		uv_tcp_getsockname(&srv->h.tcp, (struct sockaddr *)&bound, &len);
		srv->port = ntohs(bound.ss_family == AF_INET6
					  ? ((struct sockaddr_in6 *)&bound)->sin6_port
					  : ((struct sockaddr_in *)&bound)->sin_port);
	}
	return 0;
}

int sw_control_start(sw_control_t **out, const sw_control_view_t *view,
		     char *err, size_t err_cap)
{
	sw_control_t *c = calloc(1, sizeof(*c));
	*out = c;
	if (c == NULL) {
		snprintf(err, err_cap, "out of memory");
		return PS_ENOMEM;
	}
	c->v = *view;
	const sw_config_t *cfg = view->ctx->cfg;
	int rc = 0;
	if (cfg->control[0] != '\0')
		rc = admin_listen(c, &c->control, cfg->control, false, err,
				  err_cap);
	if (rc == 0 && cfg->metrics[0] != '\0')
		rc = admin_listen(c, &c->metrics, cfg->metrics, true, err,
				  err_cap);
	return rc;
}

static void admin_close(struct admin_server *srv)
{
	for (admin_client_t *c = srv->live; c != NULL; c = c->next)
		client_close(c);
	if (srv->open && !uv_is_closing(&srv->h.handle))
		uv_close(&srv->h.handle, NULL);
	if (srv->idle_open)
		uv_close((uv_handle_t *)&srv->idle, NULL);
	srv->idle_open = false;
	srv->open = false;
}

void sw_control_close(sw_control_t *c)
{
	if (c == NULL)
		return;
	admin_close(&c->control);
	admin_close(&c->metrics);
}

void sw_control_free(sw_control_t *c)
{
	free(c);
}

uint16_t sw_control_port(const sw_control_t *c)
{
	return c != NULL ? c->control.port : 0;
}

uint16_t sw_metrics_port(const sw_control_t *c)
{
	return c != NULL ? c->metrics.port : 0;
}
