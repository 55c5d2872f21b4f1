/*
 * pboc.c: the central bank's client (pboc.h).
 */
#include "pboc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

bool sw_pboc_configured(const sw_pboc_t *p)
{
	return p->configured;
}

static void on_tick(uv_timer_t *timer);

void sw_pboc_init(sw_pboc_t *p, uv_loop_t *loop, const char *host,
		  uint16_t port)
{
	memset(p, 0, sizeof(*p));
	p->loop = loop;
	ps_strlcpy(p->host, host, sizeof(p->host));
	p->port = port;
	p->configured = host[0] != '\0';
	txn_lines_init(&p->lines, p->rbuf, sizeof(p->rbuf));
	uv_timer_init(loop, &p->timer);
	p->timer.data = p;
	p->timer_open = true;
	uv_timer_start(&p->timer, on_tick, 250, 250);
}

/* Calls and frees one request. */
static void finish(sw_pboc_req_t *r, json_t *answer, const char *why)
{
	sw_pboc_cb cb = r->cb;
	void *data = r->data;
	free(r->line);
	memset(r, 0, sizeof(*r));
	cb(data, answer, why);
}

static void fail_all(sw_pboc_t *p, const char *why)
{
	for (int i = 0; i < SW_PBOC_PENDING_MAX; i++)
		if (p->req[i].used)
			finish(&p->req[i], NULL, why);
}

static void on_closed(uv_handle_t *h)
{
	sw_pboc_t *p = h->data;
	p->tcp_open = false;
	txn_lines_init(&p->lines, p->rbuf, sizeof(p->rbuf));
}

/* The connection is dropped; requests still out fail with why. */
static void drop(sw_pboc_t *p, const char *why)
{
	p->connected = false;
	if (p->tcp_open && !uv_is_closing((uv_handle_t *)&p->tcp))
		uv_close((uv_handle_t *)&p->tcp, on_closed);
	fail_all(p, why);
}

typedef struct write_req {
	uv_write_t req;
	sw_pboc_t *p;
} write_req_t;

static void on_written(uv_write_t *w, int status)
{
	write_req_t *wr = (write_req_t *)w;
	sw_pboc_t *p = wr->p;
	free(wr);
	if (status < 0 && status != UV_ECANCELED)
		drop(p, uv_strerror(status));
}

/* Writes every queued request not yet sent. */
static void flush(sw_pboc_t *p)
{
	for (int i = 0; i < SW_PBOC_PENDING_MAX && p->connected; i++) {
		sw_pboc_req_t *r = &p->req[i];
		if (!r->used || r->sent)
			continue;
		write_req_t *wr = malloc(sizeof(*wr));
		if (wr == NULL) {
			finish(r, NULL, "out of memory");
			continue;
		}
		wr->p = p;
		uv_buf_t buf = uv_buf_init(r->line, (unsigned)r->len);
		/* The line stays with its request until it is answered,
		 * which is after the write: libuv's rule holds. */
		if (uv_write(&wr->req, (uv_stream_t *)&p->tcp, &buf, 1, on_written) != 0) {
			free(wr);
			drop(p, "cannot write to PBOC");
			return;
		}
		r->sent = true;
	}
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	(void)suggested;
	sw_pboc_t *p = h->data;
	char *data;
	size_t len;
	txn_lines_space(&p->lines, &data, &len);
	*buf = uv_buf_init(data, (unsigned)len);
}

static void take_answer(sw_pboc_t *p, const char *line, size_t len)
{
	json_error_t jerr;
	json_t *a = json_loadb(line, len, 0, &jerr);
	const char *id = json_string_value(json_object_get(a, "id"));
	for (int i = 0; id != NULL && i < SW_PBOC_PENDING_MAX; i++) {
		if (p->req[i].used && strcmp(p->req[i].id, id) == 0) {
			finish(&p->req[i], a, NULL);
			break;
		}
	}
	if (id == NULL)
		ps_logf(PS_LOG_WARN, "pboc_garbage", "an answer without an id: %.80s",
			line);
	json_decref(a);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	(void)buf;
	sw_pboc_t *p = s->data;
	if (nread < 0) {
		drop(p, nread == UV_EOF ? "PBOC closed the connection"
					: uv_strerror((int)nread));
		return;
	}
	txn_lines_commit(&p->lines, (size_t)nread);
	const char *line;
	size_t len;
	int rc;
	while ((rc = txn_lines_next(&p->lines, &line, &len)) == 1)
		take_answer(p, line, len);
	if (rc < 0)
		drop(p, "an answer from PBOC longer than the line bound");
}

static void on_connect(uv_connect_t *req, int status)
{
	sw_pboc_t *p = req->data;
	if (status < 0) {
		char why[160];
		snprintf(why, sizeof(why), "cannot reach PBOC at %s:%u: %s",
			 p->host, p->port, uv_strerror(status));
		drop(p, why);
		return;
	}
	p->connected = true;
	uv_read_start((uv_stream_t *)&p->tcp, on_alloc, on_read);
	flush(p);
}

static void connect_now(sw_pboc_t *p)
{
	if (p->tcp_open || p->closing)
		return;
	struct sockaddr_storage addr;
	if (sw_parse_bind(p->host, p->port, &addr) != 0) {
		fail_all(p, "clearing.pboc is not an IP address");
		return;
	}
	uv_tcp_init(p->loop, &p->tcp);
	p->tcp.data = p;
	p->tcp_open = true;
	p->connect_req.data = p;
	if (uv_tcp_connect(&p->connect_req, &p->tcp, (struct sockaddr *)&addr,
			   on_connect) != 0)
		drop(p, "cannot connect to PBOC");
}

static void on_tick(uv_timer_t *timer)
{
	sw_pboc_t *p = timer->data;
	uint64_t now = uv_now(p->loop);
	bool late = false;
	for (int i = 0; i < SW_PBOC_PENDING_MAX; i++)
		if (p->req[i].used && now >= p->req[i].deadline_ms)
			late = true;
	if (late)
		drop(p, "no answer from PBOC in time");
}

int sw_pboc_request(sw_pboc_t *p, json_t *request, sw_pboc_cb cb, void *data)
{
	int slot = -1;
	for (int i = 0; i < SW_PBOC_PENDING_MAX && slot < 0; i++)
		if (!p->req[i].used)
			slot = i;
	if (slot < 0)
		return PS_ELIMIT;
	sw_pboc_req_t *r = &p->req[slot];
	snprintf(r->id, sizeof(r->id), "SW%llu", (unsigned long long)++p->seq);
	json_object_set_new(request, "id", json_string(r->id));
	char *text = json_dumps(request, JSON_COMPACT);
	if (text == NULL)
		return PS_EIO;
	size_t len = strlen(text);
	r->line = malloc(len + 2);
	if (r->line == NULL) {
		free(text);
		return PS_EIO;
	}
	memcpy(r->line, text, len);
	free(text);
	r->line[len] = '\n';
	r->line[len + 1] = '\0';
	r->len = len + 1;
	r->used = true;
	r->cb = cb;
	r->data = data;
	r->deadline_ms = uv_now(p->loop) + SW_PBOC_TIMEOUT_MS;
	if (!p->configured) {
		finish(r, NULL, "no central bank configured (clearing.pboc)");
		return 0;
	}
	if (p->connected)
		flush(p);
	else
		connect_now(p);
	return 0;
}

void sw_pboc_close(sw_pboc_t *p)
{
	if (p->closing)
		return;
	p->closing = true;
	drop(p, "the switch is stopping");
	if (p->timer_open) {
		uv_close((uv_handle_t *)&p->timer, NULL);
		p->timer_open = false;
	}
}
