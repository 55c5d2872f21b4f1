/*
 * pbocsim.c: the central bank around the server loop: start-up (the
 * members file, the book and the batch store, then the loop with its
 * listener and ready file), and the summary at the end.
 *
 * The drain on SIGTERM is the loop's (server.h): stop accepting and
 * reading, answer what was read, exit. The book needs nothing more:
 * every batch and fund committed before its answer left, and LMDB
 * survives a process crash at any point (pboc.h says how a crash in the
 * middle of a posting is finished at the next start).
 */
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "pbocsim.h"

static int setup_book(pbocsim_t *sim, char *err, size_t cap)
{
	const pbocsim_cfg_t *cfg = sim->cfg;
	pboc_members_t members;
	int rc = pboc_members_load(cfg->members, &members, err, cap);
	if (rc != 0)
		return rc;
	pboc_options_t o = {
		.ledger_dir = cfg->ledger,
		.durability = cfg->durability_mode,
		.shortfall_reject = cfg->shortfall_reject,
		.queue_max = cfg->queue_max,
	};
	return pboc_open(&sim->pboc, &o, &members, err, cap);
}

static int setup_server(pbocsim_t *sim, char *err, size_t cap)
{
	const pbocsim_cfg_t *cfg = sim->cfg;
	sim_server_cfg_t s;
	sim_server_cfg_init(&s);
	s.name = cfg->name;
	s.listen = cfg->listen;
	s.ready_file = cfg->ready_file;
	s.chan.kind = CHAN_JSON;
	s.chan.frame_bytes_max = TXN_JSON_LINE_MAX;
	s.connections_max = cfg->connections_max;
	s.inflight_max = cfg->inflight_max;
	s.inflight_per_conn_max = cfg->inflight_per_conn_max;
	s.work_bytes = sizeof(pboc_msg_t);
	s.answer_bytes_max = PBOC_ANSWER_BYTES_MAX;
	s.drain_ms = PBOCSIM_DRAIN_MS;
	s.ops.decode = pbocsim_decode;
	s.ops.turn = pbocsim_turn;
	s.ops.encode = pbocsim_encode;
	s.ctx = sim;
	return sim_server_create(&s, &sim->srv, err, cap);
}

static void log_started(const pbocsim_t *sim)
{
	const pbocsim_cfg_t *cfg = sim->cfg;
	uint32_t queued = 0;
	(void)pboc_store_queued(sim->pboc->store, &queued);
	ps_log_t *l = ps_log_begin(PS_LOG_INFO, "started");
	ps_log_str(l, "name", cfg->name);
	ps_log_str(l, "host", cfg->host);
	ps_log_uint(l, "port", sim_server_port(sim->srv));
	ps_log_str(l, "ledger", cfg->ledger);
	ps_log_str(l, "durability", cfg->durability);
	ps_log_uint(l, "members", sim->pboc->members.count);
	ps_log_str(l, "shortfall", cfg->shortfall);
	ps_log_uint(l, "queued", queued);
	ps_log_uint(l, "recovered", sim->pboc->stats.recovered);
	ps_log_end(l);
}

int pbocsim_create(const pbocsim_cfg_t *cfg, pbocsim_t **out, char *err,
		   size_t err_cap)
{
	pbocsim_t *sim = calloc(1, sizeof(*sim));
	*out = sim;
	if (sim == NULL)
		return sim_fail(err, err_cap, PS_ENOMEM, "out of memory");
	sim->cfg = cfg;
	pboc_proto_init();
	int rc;
	if ((rc = setup_book(sim, err, err_cap)) ||
	    (rc = setup_server(sim, err, err_cap)))
		return rc;
	log_started(sim);
	return 0;
}

static void log_summary(const pbocsim_t *sim)
{
	const sim_server_stats_t *s = sim_server_stats(sim->srv);
	const pboc_stats_t *b = &sim->pboc->stats;
	const pbocsim_stats_t *o = &sim->stats;
	ps_log_t *l = ps_log_begin(PS_LOG_INFO, "stopped");
	ps_log_uint(l, "requests", s->requests);
	ps_log_uint(l, "answers", s->answers);
	ps_log_uint(l, "settle", o->ops[PBOC_OP_SETTLE]);
	ps_log_uint(l, "batch", o->ops[PBOC_OP_BATCH]);
	ps_log_uint(l, "balance", o->ops[PBOC_OP_BALANCE]);
	ps_log_uint(l, "fund", o->ops[PBOC_OP_FUND]);
	ps_log_uint(l, "members", o->ops[PBOC_OP_MEMBERS]);
	ps_log_uint(l, "unreadable", o->ops[PBOC_OP_NONE]);
	ps_log_uint(l, "errors", o->errors);
	ps_log_uint(l, "posted", b->posted);
	ps_log_uint(l, "queued", b->queued);
	ps_log_uint(l, "rejected", b->rejected);
	ps_log_uint(l, "funds", b->funds);
	ps_log_uint(l, "format_errors", s->format_errors);
	ps_log_uint(l, "encode_errors", s->encode_errors);
	ps_log_end(l);
}

void pbocsim_run(pbocsim_t *sim)
{
	(void)sim_server_run(sim->srv); /* a drain deadline is logged there */
	log_summary(sim);
}

void pbocsim_destroy(pbocsim_t *sim)
{
	if (sim == NULL)
		return;
	/* The loop first: it may still give records back, never touching
	 * the book. */
	sim_server_destroy(sim->srv);
	pboc_close(sim->pboc);
	free(sim);
}
