/*
 * pboc.c: each netted period's batch to pbocsim (--pboc), the "settle" op
 * of docs/clearing.md: one connection per submission, the batch's line
 * (recorded with the period, so a retry or a restart sends the same
 * bytes), one answer line, the connection closed. The batch id is PBOC's
 * idempotency key, so sending again after a failure is always safe: a
 * refused connection, a broken one, an answer that is no answer, or none
 * within PBOC_ANSWER_MS is retried after a wait that doubles up to
 * --pboc-retry-max-ms, for as long as netsim runs. PBOC's answer
 * (posted; queued, with its reason; rejected, with its reason) is logged
 * and recorded as the period's state.
 */
#include <string.h>

#include <jansson.h>

#include "core.h"
#include "netsim.h"

#define PBOC_ANSWER_MS 10000
#define PBOC_BACKOFF_MIN_MS 200

static void start_next(netsim_t *ns);

static void on_handle_closed(uv_handle_t *h)
{
	netsim_t *ns = h->data;
	PS_ASSERT(ns->pboc.handles_open > 0);
	ns->pboc.handles_open--;
}

static void on_retry(uv_timer_t *t)
{
	start_next(t->data);
}

static void on_tcp_closed(uv_handle_t *h)
{
	netsim_t *ns = h->data;
	ns_pboc_t *p = &ns->pboc;
	p->busy = false;
	on_handle_closed(h);
	if (p->closing)
		return;
	if (p->queued > 0)
		uv_timer_start(&p->timer, on_retry, p->backoff_ms, 0);
}

static void end_conn(netsim_t *ns)
{
	ns_pboc_t *p = &ns->pboc;
	uv_timer_stop(&p->timer);
	if (!uv_is_closing((uv_handle_t *)&p->tcp))
		uv_close((uv_handle_t *)&p->tcp, on_tcp_closed);
}

/* The submission failed: the same batch again, later. */
static void retry(netsim_t *ns, const char *why)
{
	ns_pboc_t *p = &ns->pboc;
	ps_log_t *l = ps_log_begin(PS_LOG_WARN, "settle_retry");
	ps_log_str(l, "period", p->queue[0]);
	ps_log_str(l, "reason", why);
	ps_log_uint(l, "retry_ms", p->backoff_ms);
	ps_log_end(l);
	end_conn(ns);
	uint32_t next = p->backoff_ms * 2;
	p->backoff_ms = PS_MIN(next, ns->cfg->pboc_retry_max_ms);
}

static int period_state_of(const char *status)
{
	if (strcmp(status, "posted") == 0)
		return NS_PERIOD_POSTED;
	if (strcmp(status, "queued") == 0)
		return NS_PERIOD_QUEUED;
	return strcmp(status, "rejected") == 0 ? NS_PERIOD_REJECTED : -1;
}

/* PBOC's word into the period's record. */
static int record_answer(netsim_t *ns, int state, const char *reason)
{
	ns_pboc_t *p = &ns->pboc;
	MDB_txn *txn = NULL;
	ns_period_t rec;
	int rc = ns_store_begin(&ns->store, false, &txn);
	if (rc == 0)
		rc = ns_store_get_period(txn, &ns->store, p->queue[0], &rec);
	if (rc == 0) {
		rec.state = (uint8_t)state;
		rec.answered_ms = ps_wall_ms();
		ps_strlcpy(rec.reason, reason, sizeof(rec.reason));
		rc = ns_store_put_period(txn, &ns->store, &rec);
	}
	if (rc == 0)
		rc = ns_store_commit(txn);
	else
		ns_store_abort(txn);
	return rc;
}

static void take_answer(netsim_t *ns, const char *line, size_t len)
{
	ns_pboc_t *p = &ns->pboc;
	json_error_t jerr;
	json_t *root = json_loadb(line, len, 0, &jerr);
	const char *id = json_string_value(json_object_get(root, "id"));
	const char *status = json_string_value(json_object_get(root, "status"));
	const char *reason = json_string_value(json_object_get(root, "reason"));
	char batch[24];
	ns_batch_id(ns, p->queue[0], batch);
	int state = status != NULL ? period_state_of(status) : -1;
	if (id == NULL || strcmp(id, batch) != 0 || state < 0) {
		char why[160];
		snprintf(why, sizeof(why), "not an answer to %s: %.100s", batch,
			 status != NULL ? status : line);
		json_decref(root);
		retry(ns, why);
		return;
	}
	int rc = record_answer(ns, state, reason != NULL ? reason : "");
	ps_log_t *l = ps_log_begin(state == NS_PERIOD_REJECTED ? PS_LOG_ERROR
							       : PS_LOG_INFO,
				   "settle_answer");
	ps_log_str(l, "batch", batch);
	ps_log_str(l, "status", status);
	if (reason != NULL)
		ps_log_str(l, "reason", reason);
	ps_log_end(l);
	json_decref(root);
	if (rc != 0)
		netsim_store_failed("PBOC's answer", rc); /* asked again at restart */
	memmove(p->queue[0], p->queue[1], (p->queued - 1) * sizeof(p->queue[0]));
	p->queued--;
	p->backoff_ms = PBOC_BACKOFF_MIN_MS;
	end_conn(ns);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	(void)suggested;
	ns_pboc_t *p = &((netsim_t *)h->data)->pboc;
	*buf = uv_buf_init(p->answer + p->answer_len,
			   (unsigned)(sizeof(p->answer) - 1 - p->answer_len));
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	(void)buf;
	netsim_t *ns = s->data;
	ns_pboc_t *p = &ns->pboc;
	if (nread < 0) {
		retry(ns, nread == UV_EOF ? "closed before answering"
					  : uv_strerror((int)nread));
		return;
	}
	p->answer_len += (size_t)nread;
	char *nl = memchr(p->answer, '\n', p->answer_len);
	if (nl != NULL) {
		uv_read_stop(s);
		take_answer(ns, p->answer, (size_t)(nl - p->answer));
	} else if (p->answer_len == sizeof(p->answer) - 1) {
		retry(ns, "an answer longer than 4 KiB");
	}
}

static void on_written(uv_write_t *w, int status)
{
	netsim_t *ns = w->handle->data;
	if (status < 0 && status != UV_ECANCELED)
		retry(ns, uv_strerror(status));
}

static void on_deadline(uv_timer_t *t)
{
	retry(t->data, "no answer in time");
}

static void on_connect(uv_connect_t *req, int status)
{
	netsim_t *ns = req->data;
	ns_pboc_t *p = &ns->pboc;
	if (p->closing || status == UV_ECANCELED)
		return;
	if (status < 0) {
		retry(ns, uv_strerror(status));
		return;
	}
	uv_buf_t buf = uv_buf_init(p->line, (unsigned)p->line_len);
	if (uv_read_start((uv_stream_t *)&p->tcp, on_alloc, on_read) != 0 ||
	    uv_write(&p->write, (uv_stream_t *)&p->tcp, &buf, 1, on_written) != 0) {
		retry(ns, "cannot write");
		return;
	}
	ps_log_t *l = ps_log_begin(PS_LOG_INFO, "settle_submitted");
	ps_log_str(l, "period", p->queue[0]);
	ps_log_strn(l, "request", p->line, p->line_len - 1);
	ps_log_end(l);
}

static void start_next(netsim_t *ns)
{
	ns_pboc_t *p = &ns->pboc;
	while (!p->busy && !p->closing && p->queued > 0) {
		MDB_txn *txn = NULL;
		int rc = ns_store_begin(&ns->store, true, &txn);
		if (rc == 0)
			rc = ns_store_get_batch(txn, &ns->store, p->queue[0], p->line,
						sizeof(p->line), &p->line_len);
		ns_store_abort(txn);
		if (rc != 0) {
			ps_logf(PS_LOG_ERROR, "settle_lost", "%s: no batch in the "
				"store (%s)", p->queue[0], ps_strerror(rc));
			memmove(p->queue[0], p->queue[1],
				(p->queued - 1) * sizeof(p->queue[0]));
			p->queued--;
			continue;
		}
		p->busy = true;
		p->answer_len = 0;
		uv_tcp_init(ns->loop, &p->tcp);
		p->tcp.data = ns;
		p->handles_open++;
		p->connect.data = ns;
		uv_timer_start(&p->timer, on_deadline, PBOC_ANSWER_MS, 0);
		rc = uv_tcp_connect(&p->connect, &p->tcp,
				    (const struct sockaddr *)&p->addr, on_connect);
		if (rc != 0)
			retry(ns, uv_strerror(rc));
	}
}

int ns_pboc_setup(netsim_t *ns, char *err, size_t cap)
{
	ns_pboc_t *p = &ns->pboc;
	p->backoff_ms = PBOC_BACKOFF_MIN_MS;
	if (ns->cfg->pboc[0] == '\0')
		return 0;
	char why[256];
	if (sim_link_resolve(ns->loop, ns->cfg->pboc, &p->addr, why,
			     sizeof(why)) != 0)
		return sim_fail(err, cap, PS_EINVAL, "--pboc %s", why);
	uv_timer_init(ns->loop, &p->timer);
	p->timer.data = ns;
	p->handles_open++;
	p->configured = true;
	return 0;
}

void ns_pboc_submit(netsim_t *ns, const char *period)
{
	ns_pboc_t *p = &ns->pboc;
	if (!p->configured) {
		ps_logf(PS_LOG_INFO, "settle_kept", "%s: no --pboc; the batch stays "
			"in the store", period);
		return;
	}
	for (uint32_t i = 0; i < p->queued; i++)
		if (strcmp(p->queue[i], period) == 0)
			return;
	if (p->queued == PS_ARRAY_LEN(p->queue)) {
		ps_logf(PS_LOG_ERROR, "settle_queue_full", "%s waits for a restart",
			period);
		return;
	}
	ps_strlcpy(p->queue[p->queued++], period, NS_PERIOD_MAX);
	start_next(ns);
}

void ns_pboc_close(netsim_t *ns)
{
	ns_pboc_t *p = &ns->pboc;
	if (!p->configured || p->closing)
		return;
	p->closing = true;
	if (p->busy && !uv_is_closing((uv_handle_t *)&p->tcp))
		uv_close((uv_handle_t *)&p->tcp, on_tcp_closed);
	if (!uv_is_closing((uv_handle_t *)&p->timer))
		uv_close((uv_handle_t *)&p->timer, on_handle_closed);
}
