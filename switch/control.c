/*
 * control.c: the operator's two doors into a running switch.
 *
 *   control  JSON lines over loopback TCP or a Unix socket ("control" in
 *            the config): {"cmd":"status"}, "endpoints", "stats",
 *            "reload". switchctl status|endpoints|stats speaks it.
 *   metrics  Prometheus text over HTTP ("metrics"): GET /metrics.
 *
 * Neither is on the payment path, so they may allocate; both are bounded
 * (clients, request size) so a stuck operator tool cannot hurt traffic.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sw_int.h"

#define ADMIN_CLIENTS_MAX 16
#define ADMIN_REQUEST_BYTES_MAX 8192
#define METRICS_BYTES_MAX (256 * 1024)

typedef union admin_handle {
	uv_handle_t handle;
	uv_stream_t stream;
	uv_tcp_t tcp;
	uv_pipe_t pipe;
} admin_handle_t;

typedef struct admin_client admin_client_t;

struct admin_server {
	sw_server_t *sw;
	admin_handle_t h;
	admin_client_t *live;
	bool http;
	bool open;
	uint16_t port;
	uint32_t clients;
};

struct admin_client {
	struct admin_server *srv;
	admin_client_t *prev, *next;
	admin_handle_t h;
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
	uv_close(&c->h.handle, client_closed);
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

static json_t *listeners_json(sw_server_t *sw)
{
	json_t *arr = json_array();
	for (uint32_t i = 0; i < sw->listener_count; i++) {
		const sw_listener_t *l = sw->listener[i];
		json_array_append_new(arr, json_pack(
			"{s:s, s:s, s:i, s:b, s:I, s:I, s:I}",
			"name", l->cfg.name,
			"protocol", l->cfg.chan.protocol == SW_PROTO_JSON ? "json" : "iso8583",
			"port", (int)l->bound_port,
			"listening", l->listening,
			"connections", (json_int_t)l->conn_count,
			"accepted", (json_int_t)l->accepted,
			"refused", (json_int_t)l->refused));
	}
	return arr;
}

static json_t *cmd_status(sw_server_t *sw)
{
	return json_pack(
		"{s:b, s:i, s:I, s:b, s:I, s:I, s:I, s:I, s:I, s:o}",
		"ok", 1,
		"pid", (int)getpid(),
		"uptime_ms", (json_int_t)(ps_mono_ms() - sw->started_mono_ms),
		"draining", sw->draining,
		"inflight", (json_int_t)sw->requests_inflight,
		"records_in_memory", (json_int_t)sw_txn_count(sw),
		"connections", (json_int_t)sw->conn_total,
		"saf_entries", (json_int_t)sw_saf_entries(sw),
		"commit_failures", (json_int_t)sw->store.commit_failures,
		"listeners", listeners_json(sw));
}

static json_t *cmd_endpoints(sw_server_t *sw)
{
	json_t *arr = json_array();
	for (uint32_t i = 0; i < sw->endpoint_count; i++) {
		const sw_endpoint_t *ep = sw->endpoint[i];
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

static json_t *cmd_stats(sw_server_t *sw)
{
	const sw_metrics_t *m = &sw->metrics;
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
	json_object_set_new(out, "latency_mean_ms", json_real(mean_ms));
	return out;
}

static json_t *error_json(const char *fmt, const char *detail)
{
	char text[600];
	snprintf(text, sizeof(text), fmt, detail);
	return json_pack("{s:b, s:s}", "ok", 0, "error", text);
}

static json_t *run_command(sw_server_t *sw, const char *line, size_t len)
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
		out = cmd_status(sw);
	} else if (strcmp(cmd, "endpoints") == 0) {
		out = cmd_endpoints(sw);
	} else if (strcmp(cmd, "stats") == 0) {
		out = cmd_stats(sw);
	} else if (strcmp(cmd, "reload") == 0) {
		char err[512];
		out = sw_server_reload(sw, err, sizeof(err)) == 0
			      ? json_pack("{s:b}", "ok", 1)
			      : error_json("reload refused: %s", err);
	} else {
		out = error_json("unknown command \"%s\" (status, endpoints, "
				 "stats, reload)", cmd);
	}
	json_decref(req);
	return out;
}

static void control_input(admin_client_t *c)
{
	char *nl;
	while (!c->closing && (nl = memchr(c->buf, '\n', c->len)) != NULL) {
		size_t n = (size_t)(nl - c->buf);
		json_t *out = run_command(c->srv->sw, c->buf, n);
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
		sw_metrics_render(c->srv->sw, &b);
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
	srv->clients++;
	c->next = srv->live;
	if (srv->live != NULL)
		srv->live->prev = c;
	srv->live = c;
	if (uv_accept(server, &c->h.stream) != 0 ||
	    srv->clients > ADMIN_CLIENTS_MAX) {
		client_close(c);
		return;
	}
	uv_read_start(&c->h.stream, client_alloc, client_read);
}

static int admin_listen(sw_server_t *sw, struct admin_server *srv,
			const char *address, bool http, char *err, size_t err_cap)
{
	srv->sw = sw;
	srv->http = http;
	int rc;
	if (strncmp(address, "unix:", 5) == 0) {
		const char *path = address + 5;
		unlink(path); /* a socket file left by a killed switch */
		uv_pipe_init(&sw->loop, &srv->h.pipe, 0);
		srv->h.handle.data = srv;
		srv->open = true;
		rc = uv_pipe_bind(&srv->h.pipe, path);
	} else {
		char host[SW_HOST_MAX];
		uint16_t port;
		struct sockaddr_storage addr;
		sw_config_validate_address(address, host, sizeof(host), &port);
		sw_parse_bind(host, port, &addr);
		uv_tcp_init(&sw->loop, &srv->h.tcp);
		srv->h.handle.data = srv;
		srv->open = true;
		rc = uv_tcp_bind(&srv->h.tcp, (struct sockaddr *)&addr, 0);
	}
	if (rc == 0)
		rc = uv_listen(&srv->h.stream, 16, on_admin_connection);
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

int sw_control_start(sw_server_t *sw, char *err, size_t err_cap)
{
	sw->control = calloc(1, sizeof(*sw->control));
	if (sw->control == NULL)
		return PS_ENOMEM;
	if (sw->cfg->control[0] == '\0')
		return 0;
	return admin_listen(sw, &sw->control->control, sw->cfg->control, false,
			    err, err_cap);
}

int sw_metrics_start(sw_server_t *sw, char *err, size_t err_cap)
{
	if (sw->cfg->metrics[0] == '\0')
		return 0;
	return admin_listen(sw, &sw->control->metrics, sw->cfg->metrics, true,
			    err, err_cap);
}

static void admin_close(struct admin_server *srv)
{
	for (admin_client_t *c = srv->live; c != NULL; c = c->next)
		client_close(c);
	if (srv->open && !uv_is_closing(&srv->h.handle))
		uv_close(&srv->h.handle, NULL);
	srv->open = false;
}

void sw_control_close(sw_server_t *sw)
{
	if (sw->control != NULL)
		admin_close(&sw->control->control);
}

void sw_metrics_close(sw_server_t *sw)
{
	if (sw->control != NULL)
		admin_close(&sw->control->metrics);
}

uint16_t sw_control_port(const sw_server_t *sw)
{
	return sw->control ? sw->control->control.port : 0;
}

uint16_t sw_metrics_port(const sw_server_t *sw)
{
	return sw->control ? sw->control->metrics.port : 0;
}
