/*
 * server.c: switchd's lifecycle.
 *
 * Start: open the store, reverse what a previous run left unfinished, then
 * connect to the endpoints and open the listeners, the control socket and
 * the metrics endpoint, and write the ready file (the ports actually bound,
 * for tests and scripts that asked for port 0).
 *
 * Each loop turn ends in the check handle: commit the turn's batch, write
 * the outbox, re-arm the deadline timer.
 *
 * SIGHUP reloads the configuration without dropping a connection. SIGTERM
 * drains: stop accepting, answer new requests 91, let what is in flight
 * finish or time out, commit, close everything, and return from
 * sw_server_run() so that main() exits 0.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sw_int.h"

#define DEADLINES_PER_TICK 4096

/* ---- the per-turn commit and the deadline timer --------------------------- */

static void on_deadline(uv_timer_t *timer)
{
	sw_server_t *sw = timer->data;
	uint64_t now = uv_now(&sw->loop);
	for (int n = 0; n < DEADLINES_PER_TICK; n++) {
		sw_txn_t *st = sw_txn_earliest(sw);
		if (st == NULL || st->deadline_mono_ms > now)
			break;
		sw_flow_deadline(sw, st);
	}
}

static void arm_deadline(sw_server_t *sw)
{
	sw_txn_t *st = sw_txn_earliest(sw);
	if (st == NULL || sw->stopped) {
		uv_timer_stop(&sw->deadline_timer);
		return;
	}
	uint64_t now = uv_now(&sw->loop);
	uint64_t wait = st->deadline_mono_ms > now ? st->deadline_mono_ms - now : 0;
	uv_timer_start(&sw->deadline_timer, on_deadline, wait, 0);
}

static void on_commit_retry(uv_timer_t *timer)
{
	(void)timer; /* waking the loop is enough: the check handle retries */
}

static void on_check(uv_check_t *check)
{
	sw_server_t *sw = check->data;
	if (sw_store_commit(sw) != 0 && !uv_is_active((uv_handle_t *)&sw->commit_retry))
		uv_timer_start(&sw->commit_retry, on_commit_retry, 100, 0);
	arm_deadline(sw);
	if (sw->draining)
		sw_server_maybe_finish_drain(sw);
}

/* ---- the ready file -------------------------------------------------------- */

static int write_ready_file(sw_server_t *sw)
{
	if (sw->ready_file[0] == '\0')
		return 0;
	char text[4096];
	ps_buf_t b;
	ps_buf_init(&b, text, sizeof(text));
	ps_buf_printf(&b, "{\"pid\":%d,\"listeners\":{", (int)getpid());
	bool first = true;
	for (uint32_t i = 0; i < sw->listener_count; i++) {
		const sw_listener_t *l = sw->listener[i];
		if (l->retired)
			continue;
		ps_buf_printf(&b, "%s\"%s\":%u", first ? "" : ",", l->cfg.name,
			      l->bound_port);
		first = false;
	}
	ps_buf_printf(&b, "},\"control\":%u,\"metrics\":%u}\n",
		      sw_control_port(sw), sw_metrics_port(sw));
	char tmp[SW_PATH_MAX + 8];
	snprintf(tmp, sizeof(tmp), "%s.tmp", sw->ready_file);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return PS_EIO;
	bool ok = write(fd, b.data, b.len) == (ssize_t)b.len;
	ok = close(fd) == 0 && ok;
	/* rename() makes the file appear whole: a reader never sees half. */
	if (!ok || rename(tmp, sw->ready_file) != 0)
		return PS_EIO;
	return 0;
}

/* ---- signals ------------------------------------------------------------- */

static void on_sighup(uv_signal_t *sig, int signum)
{
	(void)signum;
	sw_server_t *sw = sig->data;
	char err[512];
	if (sw_server_reload(sw, err, sizeof(err)) != 0)
		ps_logf(PS_LOG_ERROR, "reload_refused", "%s", err);
}

static void on_sigterm(uv_signal_t *sig, int signum)
{
	sw_server_t *sw = sig->data;
	ps_logf(PS_LOG_INFO, "signal", "%s: draining",
		signum == SIGINT ? "SIGINT" : "SIGTERM");
	sw_server_stop(sw);
}

/* ---- create ------------------------------------------------------------- */

static int start_handles(sw_server_t *sw)
{
	uv_check_init(&sw->loop, &sw->commit_check);
	sw->commit_check.data = sw;
	uv_check_start(&sw->commit_check, on_check);
	uv_idle_init(&sw->loop, &sw->batch_idle);
	sw->batch_idle.data = sw;
	uv_timer_init(&sw->loop, &sw->commit_retry);
	sw->commit_retry.data = sw;
	uv_timer_init(&sw->loop, &sw->deadline_timer);
	sw->deadline_timer.data = sw;
	uv_timer_init(&sw->loop, &sw->drain_timer);
	sw->drain_timer.data = sw;
	uv_timer_init(&sw->loop, &sw->saf_timer);
	sw->saf_timer.data = sw;
	uint64_t every = sw->cfg->reversal_retry_ms / 2;
	every = every < 20 ? 20 : every > 1000 ? 1000 : every;
	uv_timer_start(&sw->saf_timer, sw_saf_tick, every, every);
	return sw_retain_start(sw);
}

static int start_network(sw_server_t *sw, char *err, size_t err_cap)
{
	const sw_config_t *cfg = sw->cfg;
	for (uint32_t i = 0; i < cfg->endpoint_count; i++) {
		sw_endpoint_t *ep;
		if (sw_endpoint_start(sw, &cfg->endpoint[i], &ep) != 0) {
			snprintf(err, err_cap, "endpoints[%u]: out of memory", i);
			return PS_ENOMEM;
		}
		sw->endpoint[sw->endpoint_count++] = ep;
	}
	for (uint32_t i = 0; i < cfg->listener_count; i++) {
		sw_listener_t *l;
		int rc = sw_listener_start(sw, &cfg->listener[i], &l, err, err_cap);
		if (rc != 0)
			return rc;
		sw->listener[sw->listener_count++] = l;
	}
	int rc = sw_control_start(sw, err, err_cap);
	if (rc == 0)
		rc = sw_metrics_start(sw, err, err_cap);
	return rc;
}

static void start_signals(sw_server_t *sw)
{
	uv_signal_init(&sw->loop, &sw->sig_hup);
	uv_signal_init(&sw->loop, &sw->sig_term);
	uv_signal_init(&sw->loop, &sw->sig_int);
	sw->sig_hup.data = sw->sig_term.data = sw->sig_int.data = sw;
	uv_signal_start(&sw->sig_hup, on_sighup, SIGHUP);
	uv_signal_start(&sw->sig_term, on_sigterm, SIGTERM);
	uv_signal_start(&sw->sig_int, on_sigterm, SIGINT);
	sw->signals = true;
}

int sw_server_create(sw_config_t *cfg, const sw_options_t *opts,
		     sw_server_t **out, char *err, size_t err_cap)
{
	sw_server_t *sw = calloc(1, sizeof(*sw));
	if (sw == NULL) {
		sw_config_free(cfg);
		snprintf(err, err_cap, "out of memory");
		return PS_ENOMEM;
	}
	*out = sw;
	sw->cfg = cfg;
	if (opts->config_path != NULL)
		ps_strlcpy(sw->config_path, opts->config_path, sizeof(sw->config_path));
	if (opts->ready_file != NULL)
		ps_strlcpy(sw->ready_file, opts->ready_file, sizeof(sw->ready_file));
	ps_log_setup("switchd", (enum ps_log_level)cfg->log_level, 2);
	sw->started_mono_ms = ps_mono_ms();
	uv_loop_init(&sw->loop);
	sw->loop_open = true;
	uint32_t capacity = cfg->inflight_max * 2 + cfg->saf_inflight_max + 64;
	uint32_t wbufs = cfg->inflight_max + cfg->saf_inflight_max + 1024;
	if (sw_table_init(&sw->table, capacity) != 0 ||
	    ps_pool_init(&sw->wbufs, sizeof(sw_wbuf_t), wbufs) != 0 ||
	    /* at most one batch per message in flight */
	    ps_pool_init(&sw->wbatches, sizeof(sw_wbatch_t), wbufs) != 0 ||
	    sw_saf_init(sw) != 0) {
		snprintf(err, err_cap, "out of memory for limits.inflight_max %u",
			 cfg->inflight_max);
		return PS_ENOMEM;
	}
	int rc = sw_store_open(sw, err, err_cap);
	if (rc == 0)
		rc = start_handles(sw);
	if (rc == 0)
		rc = sw_recover(sw, err, err_cap);
	if (rc == 0)
		rc = start_network(sw, err, err_cap);
	if (rc == 0 && write_ready_file(sw) != 0) {
		snprintf(err, err_cap, "cannot write the ready file %s",
			 sw->ready_file);
		rc = PS_EIO;
	}
	if (rc != 0)
		return rc;
	if (opts->install_signals)
		start_signals(sw);
	ps_log_t *l = ps_log_begin(PS_LOG_INFO, "started");
	ps_log_uint(l, "listeners", sw->listener_count);
	ps_log_uint(l, "endpoints", sw->endpoint_count);
	ps_log_str(l, "lmdb", cfg->lmdb_dir);
	ps_log_bool(l, "sync", cfg->lmdb_sync);
	ps_log_end(l);
	return 0;
}

/* ---- run, drain, stop ----------------------------------------------------- */

int sw_server_run(sw_server_t *sw)
{
	uv_run(&sw->loop, UV_RUN_DEFAULT);
	return 0;
}

static void close_if(uv_handle_t *h)
{
	if (h->loop != NULL && !uv_is_closing(h))
		uv_close(h, NULL);
}

/* How long stopping waits for peers to take their last answers. */
#define LINGER_MS 2000

static void on_linger_timeout(uv_timer_t *timer)
{
	sw_server_t *sw = timer->data;
	uint32_t left = sw_conn_close_all(sw, false);
	if (left > 0) {
		ps_logf(PS_LOG_WARN, "linger_timeout",
			"%u connections did not take their last answers", left);
		sw_conn_close_all(sw, true);
	}
	close_if((uv_handle_t *)&sw->drain_timer);
}

/* Everything in flight is answered (or the drain timed out): commit and
 * close every handle, so uv_run() returns. */
static void stop_now(sw_server_t *sw)
{
	if (sw->stopped)
		return;
	sw->stopped = true;
	sw_store_commit(sw);
	ps_log_t *l = ps_log_begin(PS_LOG_INFO, "stopped");
	ps_log_uint(l, "unanswered", sw->requests_inflight);
	ps_log_uint(l, "saf_entries", sw_saf_entries(sw));
	ps_log_end(l);
	sw_listener_close_all(sw);
	uint32_t lingering = sw_conn_close_all(sw, false);
	sw_endpoint_close_all(sw);
	sw_control_close(sw);
	sw_metrics_close(sw);
	close_if((uv_handle_t *)&sw->commit_check);
	close_if((uv_handle_t *)&sw->batch_idle);
	close_if((uv_handle_t *)&sw->commit_retry);
	close_if((uv_handle_t *)&sw->deadline_timer);
	close_if((uv_handle_t *)&sw->saf_timer);
	close_if((uv_handle_t *)&sw->retain_timer);
	if (lingering > 0) /* last answers still being written: wait a little */
		uv_timer_start(&sw->drain_timer, on_linger_timeout, LINGER_MS, 0);
	else
		close_if((uv_handle_t *)&sw->drain_timer);
	if (sw->signals) {
		close_if((uv_handle_t *)&sw->sig_hup);
		close_if((uv_handle_t *)&sw->sig_term);
		close_if((uv_handle_t *)&sw->sig_int);
	}
}

void sw_server_maybe_finish_drain(sw_server_t *sw)
{
	if (!sw->draining || sw->stopped)
		return;
	sw_conn_close_idle(sw);
	if (sw->requests_inflight == 0 && !sw_store_busy(sw))
		stop_now(sw);
}

static void on_drain_timeout(uv_timer_t *timer)
{
	sw_server_t *sw = timer->data;
	ps_logf(PS_LOG_WARN, "drain_timeout",
		"%u requests still in flight after drain_ms; stopping: the "
		"next start reverses them", sw->requests_inflight);
	stop_now(sw);
}

void sw_server_stop(sw_server_t *sw)
{
	if (sw->draining)
		return;
	sw->draining = true;
	ps_log_t *l = ps_log_begin(PS_LOG_INFO, "draining");
	ps_log_uint(l, "inflight", sw->requests_inflight);
	ps_log_end(l);
	sw_listener_close_all(sw);
	uv_timer_start(&sw->drain_timer, on_drain_timeout,
		       sw->cfg->drain_ms ? sw->cfg->drain_ms : 1, 0);
	sw_server_maybe_finish_drain(sw);
}

void sw_server_destroy(sw_server_t *sw)
{
	if (sw == NULL)
		return;
	if (sw->loop_open) {
		if (!sw->stopped) {
			sw->draining = true;
			stop_now(sw);
		}
		/* Let every close callback run, then the loop is empty. */
		uv_run(&sw->loop, UV_RUN_DEFAULT);
		uv_loop_close(&sw->loop);
	}
	sw_store_close(sw);
	for (uint32_t i = 0; i < sw->listener_count; i++) {
		ps_pool_free(&sw->listener[i]->conns);
		free(sw->listener[i]);
	}
	sw_endpoint_free_all(sw);
	free(sw->control);
	sw_saf_free(sw);
	sw_retain_free(sw);
	sw_table_free(&sw->table);
	ps_pool_free(&sw->wbufs);
	ps_pool_free(&sw->wbatches);
	sw_config_free(sw->cfg);
	free(sw);
}

/* ---- reload -------------------------------------------------------------- */

static bool same_shape(const sw_listener_cfg_t *a, const sw_listener_cfg_t *b)
{
	return strcmp(a->host, b->host) == 0 && a->port == b->port &&
	       a->chan.protocol == b->chan.protocol &&
	       a->frame_bytes_max == b->frame_bytes_max &&
	       a->connections_max == b->connections_max &&
	       a->chan.framing.length_header == b->chan.framing.length_header &&
	       a->chan.framing.header_bytes == b->chan.framing.header_bytes &&
	       (a->chan.protocol == SW_PROTO_JSON ||
		memcmp(a->chan.iso, b->chan.iso, sizeof(*a->chan.iso)) == 0);
}

static sw_listener_t *live_listener(sw_server_t *sw, const char *name)
{
	for (uint32_t i = 0; i < sw->listener_count; i++)
		if (!sw->listener[i]->retired &&
		    strcmp(sw->listener[i]->cfg.name, name) == 0)
			return sw->listener[i];
	return NULL;
}

static int check_reload(const sw_server_t *sw, const sw_config_t *next,
			char *err, size_t err_cap)
{
	const sw_config_t *cur = sw->cfg;
	if (strcmp(cur->lmdb_dir, next->lmdb_dir) != 0) {
		snprintf(err, err_cap, "lmdb.dir: cannot change without a restart");
		return PS_EINVAL;
	}
	if (next->inflight_max > cur->inflight_max ||
	    next->saf_inflight_max > cur->saf_inflight_max) {
		snprintf(err, err_cap, "limits: raising them needs a restart "
			 "(memory is sized at start)");
		return PS_EINVAL;
	}
	if (next->saf_scan_max > cur->saf_scan_max) {
		snprintf(err, err_cap, "reversal.scan_max: raising it needs a restart");
		return PS_EINVAL;
	}
	if (strcmp(cur->control, next->control) != 0 ||
	    strcmp(cur->metrics, next->metrics) != 0) {
		snprintf(err, err_cap, "control, metrics: cannot change without a restart");
		return PS_EINVAL;
	}
	if (sw->listener_count + next->listener_count > PS_ARRAY_LEN(sw->listener) ||
	    sw->endpoint_count + next->endpoint_count > PS_ARRAY_LEN(sw->endpoint)) {
		snprintf(err, err_cap, "too many listeners or endpoints, live and "
			 "removed: a removed listener is freed once its "
			 "connections close, a removed endpoint at the next "
			 "restart");
		return PS_ELIMIT;
	}
	return 0;
}

static int reload_listeners(sw_server_t *sw, const sw_config_t *next,
			    char *err, size_t err_cap)
{
	for (uint32_t i = 0; i < sw->listener_count; i++) {
		sw_listener_t *l = sw->listener[i];
		bool kept = false;
		for (uint32_t j = 0; j < next->listener_count; j++)
			if (strcmp(l->cfg.name, next->listener[j].name) == 0 &&
			    same_shape(&l->cfg, &next->listener[j]))
				kept = true;
		if (!l->retired && !kept)
			sw_listener_retire(l);
	}
	for (uint32_t j = 0; j < next->listener_count; j++) {
		const sw_listener_cfg_t *c = &next->listener[j];
		sw_listener_t *l = live_listener(sw, c->name);
		if (l != NULL) {
			/* Same shape: the limits that need no memory change. */
			ps_strlcpy(l->cfg.participant, c->participant,
				   sizeof(l->cfg.participant));
			l->cfg.inflight_per_conn_max = c->inflight_per_conn_max;
			l->cfg.idle_timeout_ms = c->idle_timeout_ms;
			continue;
		}
		int rc = sw_listener_start(sw, c, &l, err, err_cap);
		sw->listener[sw->listener_count++] = l;
		if (rc != 0)
			return rc;
	}
	return 0;
}

static void reload_endpoints(sw_server_t *sw, const sw_config_t *next)
{
	for (uint32_t i = 0; i < sw->endpoint_count; i++) {
		sw_endpoint_t *ep = sw->endpoint[i];
		bool kept = false;
		for (uint32_t j = 0; j < next->endpoint_count; j++)
			if (strcmp(ep->cfg.name, next->endpoint[j].name) == 0)
				kept = true;
		if (!kept)
			sw_endpoint_retire(ep);
	}
	for (uint32_t j = 0; j < next->endpoint_count; j++) {
		sw_endpoint_t *ep = sw_endpoint_find(sw, next->endpoint[j].name);
		if (ep != NULL) {
			sw_endpoint_update(ep, &next->endpoint[j]);
		} else if (sw_endpoint_start(sw, &next->endpoint[j], &ep) == 0) {
			sw->endpoint[sw->endpoint_count++] = ep;
		}
	}
}

int sw_server_reload(sw_server_t *sw, char *err, size_t err_cap)
{
	if (sw->config_path[0] == '\0') {
		snprintf(err, err_cap, "no configuration file to reload");
		return PS_EINVAL;
	}
	if (sw->draining) {
		snprintf(err, err_cap, "draining: not reloading");
		return PS_ESTATE;
	}
	sw_config_t *next = NULL;
	int rc = sw_config_load(sw->config_path, &next, err, err_cap);
	if (rc == 0)
		rc = check_reload(sw, next, err, err_cap);
	if (rc == 0)
		rc = reload_listeners(sw, next, err, err_cap);
	if (rc != 0) {
		sw_config_free(next);
		return rc;
	}
	reload_endpoints(sw, next);
	/* Limits and timers that apply from the next request on. */
	sw_config_t *old = sw->cfg;
	sw->cfg = next;
	ps_log_setup("switchd", (enum ps_log_level)next->log_level, 2);
	sw_config_free(old);
	write_ready_file(sw);
	ps_log_t *l = ps_log_begin(PS_LOG_INFO, "reloaded");
	ps_log_str(l, "config", sw->config_path);
	ps_log_uint(l, "listeners", next->listener_count);
	ps_log_uint(l, "endpoints", next->endpoint_count);
	ps_log_end(l);
	return 0;
}
