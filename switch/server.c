/*
 * server.c: switchd's lifecycle (switch.h): it builds the parts of one
 * switch loop, in the order their dependencies point, and tears them down.
 *
 *   config -> store -> table -> net -> outbox -> turn -> legs -> saf ->
 *   clearing -> flow, retain -> control
 *
 * Start: open the store, reverse what a previous run left unfinished,
 * then connect to the endpoints and open the listeners, the control
 * socket and the metrics page, and write the ready file (the ports
 * actually bound, for tests and scripts that asked for port 0).
 *
 * SIGHUP reloads the configuration without dropping a connection. SIGTERM
 * drains: stop accepting, answer new requests 91, let what is in flight
 * finish or time out, commit, close everything, and return from
 * sw_server_run() so that main() exits 0.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clearing.h"
#include "control.h"
#include "ctx.h"
#include "flow.h"
#include "legs.h"
#include "net.h"
#include "outbox.h"
#include "retain.h"
#include "saf.h"
#include "store.h"
#include "switch.h"
#include "table.h"
#include "turn.h"

/* How long stopping waits for peers to take their last answers. */
#define LINGER_MS 2000

struct sw_server {
	uv_loop_t loop;
	bool loop_open;
	sw_ctx_t ctx;
	sw_config_t *cfg;           /* owned; ctx.cfg points here */
	char config_path[SW_PATH_MAX];
	char ready_file[SW_PATH_MAX];
	sw_store_t store;
	bool store_open;
	sw_table_t table;
	sw_net_t net;
	sw_outbox_t outbox;
	sw_turn_t turn;
	sw_legs_t legs;
	sw_saf_t saf;
	sw_flow_t flow;
	sw_retain_t retain;
	sw_clearing_t clearing;
	bool clearing_open;
	sw_control_t *control;
	uv_timer_t drain_timer;
	uv_signal_t sig_hup, sig_term, sig_int;
	bool signals;
};

static void maybe_finish_drain(sw_server_t *sw);

/* ---- the end of each turn, and what closing tells us ----------------------- */

static void after_turn(void *data)
{
	sw_server_t *sw = data;
	if (sw->store.commit_failures == 0)
		sw_net_resume(&sw->net);
	sw_flow_after_turn(&sw->flow);
	sw_flow_arm_deadline(&sw->flow);
	ps_log_flush_suppressed();
	if (sw->ctx.draining)
		maybe_finish_drain(sw);
}

static void net_closed(void *data)
{
	maybe_finish_drain(data);
}

static uint64_t net_seq(void *data)
{
	sw_server_t *sw = data;
	return sw_store_next_msg_seq(&sw->store);
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
	for (uint32_t i = 0; i < sw->net.listener_count; i++) {
		const sw_listener_t *l = sw->net.listener[i];
		if (l->retired)
			continue;
		ps_buf_printf(&b, "%s\"%s\":%u", first ? "" : ",", l->cfg.name,
			      l->bound_port);
		first = false;
	}
	ps_buf_printf(&b, "},\"control\":%u,\"metrics\":%u}\n",
		      sw_control_port(sw->control), sw_metrics_port(sw->control));
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

/* ---- reload --------------------------------------------------------------- */

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
	return sw_net_check_reload(&sw->net, next, err, err_cap);
}

static int reload(void *data, char *err, size_t err_cap)
{
	sw_server_t *sw = data;
	if (sw->config_path[0] == '\0') {
		snprintf(err, err_cap, "no configuration file to reload");
		return PS_EINVAL;
	}
	if (sw->ctx.draining) {
		snprintf(err, err_cap, "draining: not reloading");
		return PS_ESTATE;
	}
	sw_config_t *next = NULL;
	int rc = sw_config_load(sw->config_path, &next, err, err_cap);
	if (rc == 0)
		rc = check_reload(sw, next, err, err_cap);
	if (rc == 0)
		rc = sw_net_reload(&sw->net, next, err, err_cap);
	if (rc != 0) {
		sw_config_free(next);
		return rc;
	}
	/* Limits and timers that apply from the next request on. */
	sw_config_t *old = sw->cfg;
	sw->cfg = next;
	sw->ctx.cfg = next;
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

/* ---- signals ------------------------------------------------------------- */

static void on_sighup(uv_signal_t *sig, int signum)
{
	(void)signum;
	char err[512];
	if (reload(sig->data, err, sizeof(err)) != 0)
		ps_logf(PS_LOG_ERROR, "reload_refused", "%s", err);
}

static void on_sigterm(uv_signal_t *sig, int signum)
{
	ps_logf(PS_LOG_INFO, "signal", "%s: draining",
		signum == SIGINT ? "SIGINT" : "SIGTERM");
	sw_server_stop(sig->data);
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

/* ---- create ------------------------------------------------------------- */

static int build(sw_server_t *sw, char *err, size_t err_cap)
{
	sw_ctx_t *ctx = &sw->ctx;
	const sw_config_t *cfg = sw->cfg;
	uint32_t records = cfg->inflight_max * 2 + cfg->saf_inflight_max + 64;
	/* Legs and reversals in flight, with room for network management;
	 * and one final answer per request in flight (net.h). */
	uint32_t messages = cfg->inflight_max + cfg->saf_inflight_max + 1024;
	int rc = sw_store_open(&sw->store, ctx, err, err_cap);
	if (rc != 0)
		return rc;
	sw->store_open = true;
	sw_net_handlers_t h = {
		.data = &sw->flow,
		.request = sw_flow_request,
		.response = sw_flow_response,
		.answer_lost = sw_flow_answer_lost,
		.network_closed = sw_flow_network_closed,
		.recon_answer = sw_flow_recon_answer,
		.closed = net_closed,
		.closed_data = sw,
	};
	if (sw_table_init(&sw->table, &sw->store, records) != 0 ||
	    sw_net_init(&sw->net, ctx, &h, messages, cfg->inflight_max) != 0) {
		snprintf(err, err_cap, "out of memory for limits.inflight_max %u",
			 cfg->inflight_max);
		return PS_ENOMEM;
	}
	/* Network management numbers its messages from the store's
	 * sequence. */
	sw->net.next_seq = net_seq;
	sw->net.seq_data = sw;
	sw_outbox_init(&sw->outbox, &sw->net);
	sw_turn_start(&sw->turn, ctx, &sw->store, &sw->table, &sw->outbox,
		      after_turn, sw);
	if ((rc = sw_clearing_init(&sw->clearing, ctx, &sw->store, &sw->net,
				   err, err_cap)) != 0)
		return rc;
	sw->clearing_open = true;
	sw_legs_init(&sw->legs, ctx, &sw->store, &sw->table, &sw->net,
		     &sw->outbox, &sw->clearing);
	if (sw_saf_init(&sw->saf, ctx, &sw->store, &sw->table, &sw->net,
			&sw->legs, &sw->turn) != 0) {
		snprintf(err, err_cap, "out of memory for reversal.scan_max");
		return PS_ENOMEM;
	}
	rc = sw_flow_init(&sw->flow, ctx, &sw->store, &sw->table, &sw->net,
			  &sw->outbox, &sw->legs, &sw->saf, &sw->turn,
			  &sw->clearing, err, err_cap);
	if (rc != 0)
		return rc;
	if (sw_retain_init(&sw->retain, ctx, &sw->store, &sw->table,
			   &sw->turn) != 0) {
		snprintf(err, err_cap, "out of memory for retention");
		return PS_ENOMEM;
	}
	return 0;
}

static int open_doors(sw_server_t *sw, char *err, size_t err_cap)
{
	sw_saf_start(&sw->saf);
	sw_flow_start(&sw->flow);
	sw_clearing_start(&sw->clearing);
	sw_retain_start(&sw->retain);
	uv_timer_init(&sw->loop, &sw->drain_timer);
	sw->drain_timer.data = sw;
	int rc = sw_net_start(&sw->net, err, err_cap);
	if (rc != 0)
		return rc;
	sw_control_view_t view = {
		.ctx = &sw->ctx, .net = &sw->net, .flow = &sw->flow,
		.table = &sw->table, .store = &sw->store, .saf = &sw->saf,
		.clearing = &sw->clearing,
		.reload = reload, .reload_data = sw,
	};
	return sw_control_start(&sw->control, &view, err, err_cap);
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
	/* --ready-file wins over the config's "ready_file". */
	ps_strlcpy(sw->ready_file, opts->ready_file != NULL ? opts->ready_file
							     : cfg->ready_file,
		   sizeof(sw->ready_file));
	ps_log_setup("switchd", (enum ps_log_level)cfg->log_level, 2);
	uv_loop_init(&sw->loop);
	sw->loop_open = true;
	sw->ctx.loop = &sw->loop;
	sw->ctx.cfg = cfg;
	sw->ctx.started_mono_ms = ps_mono_ms();
	int rc = build(sw, err, err_cap);
	if (rc == 0)
		rc = sw_flow_recover(&sw->flow, err, err_cap);
	if (rc == 0)
		rc = open_doors(sw, err, err_cap);
	/* Signals before the ready file: whoever waits for it may send a
	 * SIGHUP or SIGTERM the moment it appears. */
	if (rc == 0 && opts->install_signals)
		start_signals(sw);
	if (rc == 0 && write_ready_file(sw) != 0) {
		snprintf(err, err_cap, "cannot write the ready file %s",
			 sw->ready_file);
		rc = PS_EIO;
	}
	if (rc != 0)
		return rc;
	ps_log_t *l = ps_log_begin(PS_LOG_INFO, "started");
	ps_log_uint(l, "listeners", sw->net.listener_count);
	ps_log_uint(l, "endpoints", sw->net.endpoint_count);
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

bool sw_server_step(sw_server_t *sw)
{
	uv_run(&sw->loop, UV_RUN_NOWAIT);
	return !sw->ctx.stopped;
}

static void close_if(uv_handle_t *h)
{
	if (h->loop != NULL && !uv_is_closing(h))
		uv_close(h, NULL);
}

static void on_linger_timeout(uv_timer_t *timer)
{
	sw_server_t *sw = timer->data;
	uint32_t left = sw_net_close_conns(&sw->net, false);
	if (left > 0) {
		ps_logf(PS_LOG_WARN, "linger_timeout",
			"%u connections did not take their last answers", left);
		sw_net_close_conns(&sw->net, true);
	}
	close_if((uv_handle_t *)&sw->drain_timer);
}

/* Everything in flight is answered (or the drain timed out): commit and
 * close every handle, so uv_run() returns. */
static void stop_now(sw_server_t *sw)
{
	if (sw->ctx.stopped)
		return;
	sw->ctx.stopped = true;
	if (sw->turn.open)
		sw_turn_end(&sw->turn);
	ps_log_t *l = ps_log_begin(PS_LOG_INFO, "stopped");
	ps_log_uint(l, "unanswered", sw->flow.requests_inflight);
	ps_log_uint(l, "saf_entries",
		    sw->store_open ? sw_saf_entries(&sw->saf) : 0);
	ps_log_end(l);
	sw_net_stop_accepting(&sw->net);
	uint32_t lingering = sw_net_close_conns(&sw->net, false);
	sw_net_close_endpoints(&sw->net);
	sw_control_close(sw->control);
	sw_turn_close(&sw->turn);
	sw_saf_close(&sw->saf);
	sw_flow_close(&sw->flow);
	sw_clearing_close(&sw->clearing);
	sw_retain_close(&sw->retain);
	if (lingering > 0) /* last answers still being written: wait a little */
		uv_timer_start(&sw->drain_timer, on_linger_timeout, LINGER_MS, 0);
	else
		close_if((uv_handle_t *)&sw->drain_timer);
	if (sw->signals) {
		close_if((uv_handle_t *)&sw->sig_hup);
		close_if((uv_handle_t *)&sw->sig_term);
		close_if((uv_handle_t *)&sw->sig_int);
		/* Closing a signal handle restores the default action, which
		 * for these is to die: a second SIGTERM (an operator's, after
		 * a Ctrl-C that drained us) must not turn this clean exit into
		 * 143. We are stopping already; further ones change nothing. */
		signal(SIGHUP, SIG_IGN);
		signal(SIGTERM, SIG_IGN);
		signal(SIGINT, SIG_IGN);
	}
}

static void maybe_finish_drain(sw_server_t *sw)
{
	if (!sw->ctx.draining || sw->ctx.stopped)
		return;
	sw_net_close_idle(&sw->net);
	if (sw->flow.requests_inflight == 0 && !sw_turn_busy(&sw->turn))
		stop_now(sw);
}

static void on_drain_timeout(uv_timer_t *timer)
{
	sw_server_t *sw = timer->data;
	ps_logf(PS_LOG_WARN, "drain_timeout",
		"%u requests still in flight after drain_ms; stopping: the "
		"next start reverses them", sw->flow.requests_inflight);
	stop_now(sw);
}

void sw_server_stop(sw_server_t *sw)
{
	if (sw->ctx.draining)
		return;
	sw->ctx.draining = true;
	ps_log_t *l = ps_log_begin(PS_LOG_INFO, "draining");
	ps_log_uint(l, "inflight", sw->flow.requests_inflight);
	ps_log_end(l);
	sw_net_stop_accepting(&sw->net);
	uv_timer_start(&sw->drain_timer, on_drain_timeout,
		       sw->cfg->drain_ms ? sw->cfg->drain_ms : 1, 0);
	maybe_finish_drain(sw);
}

void sw_server_destroy(sw_server_t *sw)
{
	if (sw == NULL)
		return;
	if (sw->loop_open) {
		if (!sw->ctx.stopped) {
			sw->ctx.draining = true;
			stop_now(sw);
		}
		/* Let every close callback run, then the loop is empty. */
		uv_run(&sw->loop, UV_RUN_DEFAULT);
		uv_loop_close(&sw->loop);
	}
	sw_outbox_discard(&sw->outbox);
	if (sw->clearing_open)
		sw_clearing_free(&sw->clearing);
	sw_store_close(&sw->store);
	sw_net_free(&sw->net);
	sw_control_free(sw->control);
	sw_saf_free(&sw->saf);
	sw_retain_free(&sw->retain);
	sw_table_free(&sw->table);
	sw_flow_free(&sw->flow);
	sw_config_free(sw->cfg);
	free(sw);
}
