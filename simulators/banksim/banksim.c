/*
 * banksim.c: the bank around the server loop: start-up (the codec, the
 * accounts, the ledger, then the loop with its listener and ready file),
 * the periodic expiry of two-phase reservations, and the summary and the
 * book's last sync at the end.
 *
 * The drain on SIGTERM is the loop's (server.h): stop accepting and
 * reading, commit and answer what was read, send held answers at once.
 * The book needs no flush for safety: every batch committed before its
 * answers went out, and LMDB survives a process crash at any point.
 */
#include <stdlib.h>
#include <string.h>

#include "banksim.h"
#include "core.h"

/* ---- the loop's tick: expiry ------------------------------------------------ */

static void on_tick(void *ctx)
{
	banksim_t *sim = ctx;
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

/* ---- start-up ----------------------------------------------------------------- */

static int setup_codec(banksim_t *sim, char *err, size_t cap)
{
	const bank_cfg_t *cfg = sim->cfg;
	if (cfg->spec[0] != '\0') {
		iso8583_error_t ierr;
		if (iso8583_dialect_load_file(cfg->spec, &sim->spec_dialect,
					      &ierr) != 0)
			return sim_fail(err, cap, PS_EINVAL, "--spec %s: %s",
					cfg->spec, ierr.reason);
		sim->chan.dialect = &sim->spec_dialect;
	} else {
		sim->chan.dialect = iso8583_dialect_builtin(cfg->dialect);
		if (sim->chan.dialect == NULL)
			return sim_fail(err, cap, PS_EINVAL, "--dialect: no "
					"built-in dialect \"%s\" (ascii, binary, "
					"ascii-binbitmap)", cfg->dialect);
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
	/* A 0510's totals have no place on a JSON line. */
	bank->recon_refused = cfg->chan_kind == CHAN_JSON;
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
	if (rc == 0 && bank_batch_init(&sim->batch, cfg->batch_max) != 0)
		rc = sim_fail(err, cap, PS_ENOMEM, "no memory for a batch of "
			      "%u transfers", cfg->batch_max);
	return rc;
}

static void setup_faults(banksim_t *sim)
{
	const bank_cfg_t *cfg = sim->cfg;
	sim_faults_t *f = &sim->faults;
	f->latency = cfg->latency;
	f->drop_rate = cfg->fault_drop_rate;
	f->close_rate = cfg->fault_close_rate;
	f->delay_rate = cfg->fault_delay_rate;
	f->delay_ms = cfg->fault_delay_ms;
	f->seed = cfg->seed;
}

static int setup_server(banksim_t *sim, char *err, size_t cap)
{
	const bank_cfg_t *cfg = sim->cfg;
	sim_server_cfg_t s;
	sim_server_cfg_init(&s);
	s.name = cfg->name;
	s.listen = cfg->listen;
	s.ready_file = cfg->ready_file;
	s.chan = sim->chan;
	s.connections_max = cfg->connections_max;
	s.inflight_max = cfg->inflight_max;
	s.inflight_per_conn_max = cfg->inflight_per_conn_max;
	s.work_bytes = sizeof(bank_work_t);
	s.answer_bytes_max = BANKSIM_ANSWER_BYTES_MAX;
	s.drain_ms = BANKSIM_DRAIN_MS;
	s.tick_ms = BANKSIM_EXPIRE_INTERVAL_MS;
	s.ops.turn = bank_turn;
	s.ops.fate = bank_fate;
	s.ops.tick = on_tick;
	s.ctx = sim;
	return sim_server_create(&s, &sim->srv, err, cap);
}

static void log_started(const banksim_t *sim)
{
	const bank_cfg_t *cfg = sim->cfg;
	ps_log_t *l = ps_log_begin(PS_LOG_INFO, "started");
	ps_log_str(l, "name", cfg->name);
	ps_log_str(l, "host", cfg->host);
	ps_log_uint(l, "port", sim_server_port(sim->srv));
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
	if (sim == NULL)
		return sim_fail(err, err_cap, PS_ENOMEM, "out of memory");
	sim->cfg = cfg;
	setup_faults(sim);
	int rc;
	if ((rc = setup_codec(sim, err, err_cap)) ||
	    (rc = setup_bank(sim, err, err_cap)) ||
	    (rc = setup_server(sim, err, err_cap)))
		return rc;
	log_started(sim);
	return 0;
}

/* ---- the end -------------------------------------------------------------------- */

static void log_summary(const banksim_t *sim)
{
	const sim_server_stats_t *s = sim_server_stats(sim->srv);
	const banksim_stats_t *b = &sim->stats;
	ps_log_t *l = ps_log_begin(PS_LOG_INFO, "stopped");
	ps_log_uint(l, "requests", s->requests);
	ps_log_uint(l, "answers", s->answers);
	ps_log_uint(l, "batches", b->batches);
	ps_log_uint(l, "batch_transfers", b->batch_transfers);
	ps_log_uint(l, "deferred", s->deferred);
	ps_log_uint(l, "format_errors", s->format_errors);
	ps_log_uint(l, "dropped", s->dropped);
	ps_log_uint(l, "delayed", s->delayed);
	ps_log_uint(l, "closed", s->closed);
	ps_log_uint(l, "expired", b->expired);
	ps_log_uint(l, "approved", b->codes[0]);
	ps_log_end(l);
}

void banksim_run(banksim_t *sim)
{
	(void)sim_server_run(sim->srv); /* a drain deadline is logged there */
	log_summary(sim);
}

void banksim_destroy(banksim_t *sim)
{
	if (sim == NULL)
		return;
	/* The loop first: it may still give records back, never touching
	 * the book. */
	sim_server_destroy(sim->srv);
	if (sim->bank.ledger != NULL && ledger_sync(sim->bank.ledger) != 0)
		ps_logf(PS_LOG_WARN, "ledger_sync_failed",
			"the last commits may not be on disk yet");
	bank_book_close(&sim->bank);
	bank_batch_free(&sim->batch);
	free(sim);
}
