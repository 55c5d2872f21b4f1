/*
 * server.c: banksim's start-up (accounts, ledger, pools, listener, ready
 * file), the loop's handles, the periodic expiry of two-phase
 * reservations, and the drain on SIGTERM.
 *
 * Drain: stop accepting and reading; the turn commits and answers what
 * was already read; held answers leave at once (their latency is waived,
 * a drop is still a drop); when nothing is queued, held or being written
 * (or after BANKSIM_DRAIN_MS) every handle closes and the loop ends. The
 * book needs no flush for safety: every batch committed before its
 * answers went out, and LMDB survives a process crash at any point.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "banksim.h"
#include "core.h"

/* ---- the loop's handles --------------------------------------------------- */

static void on_turn_check(uv_check_t *check)
{
	banksim_t *sim = check->data;
	if (sim->paused_count > 0)
		bank_conn_resume_paused(sim);
	bank_turn_run(sim);
	if (sim->draining)
		banksim_maybe_finish(sim);
}

static void on_expire(uv_timer_t *timer)
{
	banksim_t *sim = timer->data;
	uint32_t limit = ledger_batch_max(sim->bank.ledger), n = 0, total = 0;
	/* Bounded per tick: a backlog is worked off over several ticks. */
	for (int round = 0; round < 8; round++) {
		int rc = ledger_expire_pending(sim->bank.ledger, limit, &n);
		if (rc != 0) {
			ps_logf(PS_LOG_ERROR, "expire_failed", "%s",
				ledger_strerror(rc));
			break;
		}
		total += n;
		if (n < limit)
			break;
	}
	if (total > 0) {
		sim->stats.expired += total;
		ps_log_t *l = ps_log_begin(PS_LOG_INFO, "pending_expired");
		ps_log_uint(l, "count", total);
		ps_log_end(l);
	}
}

static void on_idle(uv_idle_t *idle)
{
	(void)idle; /* its being active is the point: poll does not block */
}

void banksim_keep_turning(banksim_t *sim)
{
	if (!sim->finishing && !uv_is_active((uv_handle_t *)&sim->turn_idle))
		uv_idle_start(&sim->turn_idle, on_idle);
}

void banksim_rest(banksim_t *sim)
{
	if (!sim->draining)
		uv_idle_stop(&sim->turn_idle);
}

static void close_handle(uv_handle_t *h)
{
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

/* Everything closes; uv_run returns once the close callbacks ran. */
static void finish(banksim_t *sim)
{
	if (sim->finishing)
		return;
	sim->finishing = true;
	bank_conn_close_all(sim);
	if (sim->listener_open)
		close_handle((uv_handle_t *)&sim->listener);
	if (!sim->handles_started)
		return;
	close_handle((uv_handle_t *)&sim->sigterm);
	close_handle((uv_handle_t *)&sim->sigint);
	close_handle((uv_handle_t *)&sim->turn_check);
	close_handle((uv_handle_t *)&sim->turn_idle);
	close_handle((uv_handle_t *)&sim->hold_timer);
	close_handle((uv_handle_t *)&sim->expire_timer);
	close_handle((uv_handle_t *)&sim->drain_timer);
}

void banksim_maybe_finish(banksim_t *sim)
{
	if (sim->queue_head == NULL && sim->heap_count == 0 &&
	    sim->writes_pending == 0)
		finish(sim);
}

static void on_drain_timeout(uv_timer_t *timer)
{
	banksim_t *sim = timer->data;
	ps_logf(PS_LOG_WARN, "drain_timeout",
		"%u answers still being written after %d ms; closing",
		sim->writes_pending, BANKSIM_DRAIN_MS);
	finish(sim);
}

static void on_signal(uv_signal_t *sig, int signum)
{
	banksim_t *sim = sig->data;
	if (sim->draining) {
		finish(sim); /* a second signal: stop now */
		return;
	}
	ps_logf(PS_LOG_INFO, "signal", "%s: answering what was read, then "
		"exiting", signum == SIGINT ? "SIGINT" : "SIGTERM");
	sim->draining = true;
	if (sim->listener_open)
		close_handle((uv_handle_t *)&sim->listener);
	bank_conn_stop_all(sim);
	bank_answer_flush(sim);
	uv_timer_start(&sim->drain_timer, on_drain_timeout, BANKSIM_DRAIN_MS, 0);
	/* The check handle finishes the drain once the turn is empty; make
	 * sure the loop comes round to it. */
	banksim_keep_turning(sim);
}

/* ---- start-up ----------------------------------------------------------------- */

static int setup_codec(banksim_t *sim, char *err, size_t cap)
{
	const bank_cfg_t *cfg = sim->cfg;
	if (cfg->spec[0] != '\0') {
		iso8583_error_t ierr;
		if (iso8583_dialect_load_file(cfg->spec, &sim->spec_dialect,
					      &ierr) != 0) {
			snprintf(err, cap, "--spec %s: %s", cfg->spec, ierr.reason);
			return PS_EINVAL;
		}
		sim->chan.dialect = &sim->spec_dialect;
	} else {
		sim->chan.dialect = iso8583_dialect_builtin(cfg->dialect);
		if (sim->chan.dialect == NULL) {
			snprintf(err, cap, "--dialect: no built-in dialect \"%s\" "
				 "(ascii, binary, ascii-binbitmap)", cfg->dialect);
			return PS_EINVAL;
		}
	}
	sim->chan.kind = cfg->chan_kind;
	sim->chan.framing.length_header = cfg->length_header;
	sim->chan.framing.header_bytes = (uint16_t)cfg->header_bytes;
	sim->chan.framing.frame_bytes_max = cfg->frame_bytes_max;
	sim->chan.framing.dialect = sim->chan.dialect;
	sim->chan.frame_bytes_max = cfg->chan_kind == CHAN_JSON
					    ? TXN_JSON_LINE_MAX
					    : cfg->frame_bytes_max;
	return 0;
}

static int setup_bank(banksim_t *sim, char *err, size_t cap)
{
	const bank_cfg_t *cfg = sim->cfg;
	bank_t *bank = &sim->bank;
	bank->currency = cfg->currency;
	bank->two_phase = cfg->two_phase;
	bank->pending_timeout_s = cfg->pending_timeout_s;
	bank->decline_rate = cfg->decline_rate;
	ps_strlcpy(bank->institution, cfg->institution, sizeof(bank->institution));
	bank->seed = cfg->seed;
	bank->fault_commit_after = cfg->fault_ledger_after;
	bank->fault_commit_count = cfg->fault_ledger_count;
	int rc = cfg->accounts[0] != '\0'
			 ? bank_accounts_load(cfg->accounts, &bank->accounts,
					      err, cap)
			 : bank_accounts_generate(&bank->accounts, cfg->generate,
						  cfg->prefix, cfg->account_digits,
						  (int64_t)cfg->balance, err, cap);
	if (rc != 0)
		return rc;
	rc = bank_book_open(bank, cfg->ledger, cfg->durability_mode,
			    cfg->batch_max, err, cap);
	if (rc == 0)
		rc = bank_book_setup(bank, err, cap);
	return rc;
}

static int setup_pools(banksim_t *sim, char *err, size_t cap)
{
	const bank_cfg_t *cfg = sim->cfg;
	sim->framer_bytes = chan_storage_bytes(&sim->chan);
	sim->framer_slab = calloc(cfg->connections_max, sim->framer_bytes);
	sim->planned = calloc(cfg->inflight_max, sizeof(*sim->planned));
	sim->heap = calloc(cfg->inflight_max, sizeof(*sim->heap));
	if (sim->framer_slab == NULL || sim->planned == NULL ||
	    sim->heap == NULL ||
	    ps_pool_init(&sim->conns, sizeof(bank_conn_t), cfg->connections_max) ||
	    ps_pool_init(&sim->reqs, sizeof(bank_req_t), cfg->inflight_max) ||
	    bank_batch_init(&sim->batch, cfg->batch_max)) {
		snprintf(err, cap, "no memory for %u connections and %u "
			 "requests in flight", cfg->connections_max,
			 cfg->inflight_max);
		return PS_ENOMEM;
	}
	return 0;
}

static int setup_listener(banksim_t *sim, char *err, size_t cap)
{
	const bank_cfg_t *cfg = sim->cfg;
	struct sockaddr_storage addr;
	int rc = uv_ip4_addr(cfg->host, cfg->port, (struct sockaddr_in *)&addr);
	if (rc != 0)
		rc = uv_ip6_addr(cfg->host, cfg->port, (struct sockaddr_in6 *)&addr);
	if (rc == 0) {
		uv_tcp_init(&sim->loop, &sim->listener);
		sim->listener_open = true;
		sim->listener.data = sim;
		rc = uv_tcp_bind(&sim->listener, (struct sockaddr *)&addr, 0);
	}
	if (rc == 0)
		rc = uv_listen((uv_stream_t *)&sim->listener, 128,
			       bank_conn_on_accept);
	if (rc != 0) {
		snprintf(err, cap, "--listen %s: %s", cfg->listen, uv_strerror(rc));
		return PS_EIO;
	}
	struct sockaddr_storage bound;
	int len = sizeof(bound);
	uv_tcp_getsockname(&sim->listener, (struct sockaddr *)&bound, &len);
	sim->port = ntohs(bound.ss_family == AF_INET6
				  ? ((struct sockaddr_in6 *)&bound)->sin6_port
				  : ((struct sockaddr_in *)&bound)->sin_port);
	return 0;
}

static int write_ready(banksim_t *sim, char *err, size_t cap)
{
	const bank_cfg_t *cfg = sim->cfg;
	if (cfg->ready_file[0] == '\0')
		return 0;
	char text[256];
	int n = snprintf(text, sizeof(text),
			 "{\"pid\":%d,\"port\":%u,\"name\":\"%s\"}\n",
			 (int)getpid(), sim->port, cfg->name);
	if (n < 0 || (size_t)n >= sizeof(text) ||
	    sim_ready_write(cfg->ready_file, text, (size_t)n) != 0) {
		snprintf(err, cap, "cannot write the ready file %s",
			 cfg->ready_file);
		return PS_EIO;
	}
	return 0;
}

static void start_handles(banksim_t *sim)
{
	uv_check_init(&sim->loop, &sim->turn_check);
	uv_idle_init(&sim->loop, &sim->turn_idle);
	uv_timer_init(&sim->loop, &sim->hold_timer);
	uv_timer_init(&sim->loop, &sim->expire_timer);
	uv_timer_init(&sim->loop, &sim->drain_timer);
	uv_signal_init(&sim->loop, &sim->sigterm);
	uv_signal_init(&sim->loop, &sim->sigint);
	sim->turn_check.data = sim->turn_idle.data = sim;
	sim->hold_timer.data = sim->expire_timer.data = sim;
	sim->drain_timer.data = sim->sigterm.data = sim->sigint.data = sim;
	uv_check_start(&sim->turn_check, on_turn_check);
	uv_timer_start(&sim->expire_timer, on_expire, BANKSIM_EXPIRE_INTERVAL_MS,
		       BANKSIM_EXPIRE_INTERVAL_MS);
	uv_signal_start(&sim->sigterm, on_signal, SIGTERM);
	uv_signal_start(&sim->sigint, on_signal, SIGINT);
	sim->handles_started = true;
}

static void log_started(const banksim_t *sim)
{
	const bank_cfg_t *cfg = sim->cfg;
	ps_log_t *l = ps_log_begin(PS_LOG_INFO, "started");
	ps_log_str(l, "name", cfg->name);
	ps_log_str(l, "host", cfg->host);
	ps_log_uint(l, "port", sim->port);
	ps_log_str(l, "ledger", cfg->ledger);
	ps_log_str(l, "durability", cfg->durability);
	ps_log_str(l, "protocol", chan_kind_name(sim->chan.kind));
	if (sim->chan.kind == CHAN_ISO8583) {
		ps_log_str(l, "dialect", sim->chan.dialect->name);
		ps_log_str(l, "framing", cfg->framing);
	}
	ps_log_uint(l, "accounts", sim->bank.accounts.count);
	ps_log_bool(l, "two_phase", cfg->two_phase);
	ps_log_str(l, "latency_ms", cfg->latency_ms);
	ps_log_uint(l, "seed", cfg->seed);
	ps_log_end(l);
}

int banksim_create(const bank_cfg_t *cfg, banksim_t **out, char *err,
		   size_t err_cap)
{
	banksim_t *sim = calloc(1, sizeof(*sim));
	*out = sim;
	if (sim == NULL) {
		snprintf(err, err_cap, "out of memory");
		return PS_ENOMEM;
	}
	sim->cfg = cfg;
	int rc = uv_loop_init(&sim->loop);
	if (rc != 0) {
		snprintf(err, err_cap, "uv_loop_init: %s", uv_strerror(rc));
		free(sim);
		*out = NULL;
		return PS_EIO;
	}
	sim->loop.data = sim;
	if ((rc = setup_codec(sim, err, err_cap)) ||
	    (rc = setup_bank(sim, err, err_cap)) ||
	    (rc = setup_pools(sim, err, err_cap)))
		return rc;
	start_handles(sim);
	if ((rc = setup_listener(sim, err, err_cap)) ||
	    (rc = write_ready(sim, err, err_cap))) {
		finish(sim);
		return rc;
	}
	log_started(sim);
	return 0;
}

static void log_summary(const banksim_t *sim)
{
	const banksim_stats_t *s = &sim->stats;
	ps_log_t *l = ps_log_begin(PS_LOG_INFO, "stopped");
	ps_log_uint(l, "requests", s->requests);
	ps_log_uint(l, "answers", s->answers);
	ps_log_uint(l, "batches", s->batches);
	ps_log_uint(l, "batch_transfers", s->batch_transfers);
	ps_log_uint(l, "deferred", s->deferred);
	ps_log_uint(l, "format_errors", s->format_errors);
	ps_log_uint(l, "dropped", s->dropped);
	ps_log_uint(l, "delayed", s->delayed);
	ps_log_uint(l, "closed", s->closed);
	ps_log_uint(l, "expired", s->expired);
	ps_log_uint(l, "approved", s->codes[0]);
	ps_log_end(l);
}

void banksim_run(banksim_t *sim)
{
	uv_run(&sim->loop, UV_RUN_DEFAULT);
	log_summary(sim);
}

void banksim_destroy(banksim_t *sim)
{
	if (sim == NULL)
		return;
	/* Close whatever is still open and let the callbacks run. */
	finish(sim);
	uv_run(&sim->loop, UV_RUN_DEFAULT);
	if (uv_loop_close(&sim->loop) != 0)
		ps_logf(PS_LOG_WARN, "loop_not_clean", "handles left open at exit");
	if (sim->bank.ledger != NULL && ledger_sync(sim->bank.ledger) != 0)
		ps_logf(PS_LOG_WARN, "ledger_sync_failed",
			"the last commits may not be on disk yet");
	bank_book_close(&sim->bank);
	bank_batch_free(&sim->batch);
	ps_pool_free(&sim->reqs);
	ps_pool_free(&sim->conns);
	free(sim->framer_slab);
	free(sim->planned);
	free(sim->heap);
	free(sim);
}
