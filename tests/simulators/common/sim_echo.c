/*
 * sim_echo.c: the smallest simulator on the common server loop
 * (server.h), built only for tests/simulators/common: it answers every
 * request 00 (one refused at intake with its own code), over ISO 8583
 * (ascii dialect, binary2 framing) or JSON lines.
 *
 * Its switches reach every part of the loop's API: --latency-ms and the
 * --fault-*-rate options a fate (sim_fate_draw), --defer-odd SIM_DEFER
 * (odd STANs wait one turn; the work area remembers), --drop-stan
 * SIM_DROP, --hold-ms SIM_KEEP (answered later by a timer of its own on
 * the loop, closed in ops.finish), --answer-on-drain ops.drain, --tick-ms
 * ops.tick. At the end it logs "echo_stopped" with its counts and the
 * loop's, which the tests read.
 *
 * Exit codes: 0 drained, 2 usage, 3 start-up failed, 4 the drain's
 * deadline passed.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "server.h"
#include "sim.h"

typedef struct echo_cfg {
	char listen[128];
	char ready_file[512];
	char name[32];
	char protocol[16];
	char latency_ms[SIM_LATENCY_TEXT_MAX];
	char log_level[16];
	double drop_rate;
	double close_rate;
	uint64_t seed;
	uint32_t connections_max;
	uint32_t inflight_max;
	uint32_t inflight_per_conn_max;
	uint32_t frame_bytes_max;
	uint32_t hold_ms;
	uint32_t drop_stan;
	uint32_t tick_ms;
	uint32_t drain_ms;
	bool defer_odd;
	bool answer_on_drain;
} echo_cfg_t;

#define OPT(kind, n, a, f, lo, hi) {n, a, n, kind, false, offsetof(echo_cfg_t, f), sizeof(((echo_cfg_t *)0)->f), lo, hi}

static const sim_opt_t options[] = {
	OPT(SIM_OPT_STR, "listen", "HOST:PORT", listen, 0, 0),
	OPT(SIM_OPT_STR, "ready-file", "PATH", ready_file, 0, 0),
	OPT(SIM_OPT_STR, "name", "NAME", name, 0, 0),
	OPT(SIM_OPT_STR, "protocol", "iso8583|json", protocol, 0, 0),
	OPT(SIM_OPT_STR, "latency-ms", "DIST", latency_ms, 0, 0),
	OPT(SIM_OPT_STR, "log-level", "LEVEL", log_level, 0, 0),
	OPT(SIM_OPT_RATE, "fault-drop-rate", "R", drop_rate, 0, 0),
	OPT(SIM_OPT_RATE, "fault-close-rate", "R", close_rate, 0, 0),
	OPT(SIM_OPT_UINT, "seed", "S", seed, 0, UINT64_MAX),
	OPT(SIM_OPT_UINT, "connections-max", "N", connections_max, 1, 65536),
	OPT(SIM_OPT_UINT, "inflight-max", "N", inflight_max, 1, 1u << 20),
	OPT(SIM_OPT_UINT, "inflight-per-conn-max", "N", inflight_per_conn_max, 1, 1u << 20),
	OPT(SIM_OPT_UINT, "frame-bytes-max", "N", frame_bytes_max, 64, 65535),
	OPT(SIM_OPT_UINT, "hold-ms", "MS", hold_ms, 0, 600000),
	OPT(SIM_OPT_UINT, "drop-stan", "STAN", drop_stan, 0, 999999),
	OPT(SIM_OPT_UINT, "tick-ms", "MS", tick_ms, 0, 600000),
	OPT(SIM_OPT_UINT, "drain-ms", "MS", drain_ms, 1, 600000),
	OPT(SIM_OPT_FLAG, "defer-odd", NULL, defer_odd, 0, 0),
	OPT(SIM_OPT_FLAG, "answer-on-drain", NULL, answer_on_drain, 0, 0),
};

typedef struct echo_work {
	bool deferred; /* --defer-odd: it waited one turn already */
} echo_work_t;

typedef struct echo {
	echo_cfg_t cfg;
	sim_server_t *srv;
	sim_faults_t faults;
	uv_timer_t hold_timer;
	bool hold_timer_open;
	/* --hold-ms: what the turns kept, oldest first (one hold for all,
	 * so the oldest is always due first); a ring of inflight_max. */
	sim_req_t **kept;
	uint32_t kept_head, kept_count;
	uint64_t turns, turn_max, ticks, drains, finishes;
} echo_t;

/* ---- kept requests: answered hold_ms after they were read ---------------- */

static sim_req_t *kept_pop(echo_t *e)
{
	sim_req_t *req = e->kept[e->kept_head];
	e->kept_head = (e->kept_head + 1) % e->cfg.inflight_max;
	e->kept_count--;
	return req;
}

static void on_hold(uv_timer_t *timer);

static void arm_hold(echo_t *e)
{
	if (e->kept_count == 0 || !e->hold_timer_open)
		return;
	uint64_t due = e->kept[e->kept_head]->read_ms + e->cfg.hold_ms;
	uint64_t now = uv_now(sim_server_loop(e->srv));
	uv_timer_start(&e->hold_timer, on_hold, due > now ? due - now : 0, 0);
}

static void on_hold(uv_timer_t *timer)
{
	echo_t *e = timer->data;
	uint64_t now = uv_now(sim_server_loop(e->srv));
	while (e->kept_count > 0 &&
	       e->kept[e->kept_head]->read_ms + e->cfg.hold_ms <= now)
		(void)sim_server_answer(e->srv, kept_pop(e));
	arm_hold(e);
}

/* ---- the loop's callbacks ---------------------------------------------------- */

static void on_turn(void *ctx, sim_req_t **reqs, uint32_t count)
{
	echo_t *e = ctx;
	e->turns++;
	e->turn_max = PS_MAX(e->turn_max, count);
	bool kept_any = false;
	for (uint32_t i = 0; i < count; i++) {
		sim_req_t *req = reqs[i];
		echo_work_t *w = sim_req_work(req);
		uint32_t stan = req->t.wire.stan;
		if (e->cfg.drop_stan != 0 && stan == e->cfg.drop_stan) {
			req->action = SIM_DROP;
			continue;
		}
		if (e->cfg.defer_odd && stan % 2 == 1 && !w->deferred) {
			w->deferred = true;
			req->action = SIM_DEFER;
			continue;
		}
		if (req->t.rc == TXN_RC_NONE) /* else: refused at intake */
			req->t.rc = TXN_RC_APPROVED;
		if (e->cfg.hold_ms > 0) {
			req->action = SIM_KEEP;
			uint32_t tail = (e->kept_head + e->kept_count) %
					e->cfg.inflight_max;
			e->kept[tail] = req;
			e->kept_count++;
			kept_any = true;
		}
	}
	if (kept_any && !uv_is_active((uv_handle_t *)&e->hold_timer))
		arm_hold(e);
}

static void on_fate(void *ctx, sim_req_t *req, sim_fate_t *fate)
{
	echo_t *e = ctx;
	sim_fate_draw(&e->faults, &req->t, SIM_FAULT_NONE, fate);
}

static void on_tick(void *ctx)
{
	((echo_t *)ctx)->ticks++;
}

static void on_drain(void *ctx)
{
	echo_t *e = ctx;
	e->drains++;
	if (!e->cfg.answer_on_drain)
		return;
	while (e->kept_count > 0)
		(void)sim_server_answer(e->srv, kept_pop(e));
}

static void on_finish(void *ctx)
{
	echo_t *e = ctx;
	e->finishes++;
	if (e->hold_timer_open) {
		e->hold_timer_open = false;
		uv_close((uv_handle_t *)&e->hold_timer, NULL);
	}
}

/* ---- start-up --------------------------------------------------------------------- */

static int configure(echo_t *e, int argc, char **argv, char *err, size_t cap)
{
	echo_cfg_t *c = &e->cfg;
	ps_strlcpy(c->listen, "127.0.0.1:0", sizeof(c->listen));
	ps_strlcpy(c->name, "echo", sizeof(c->name));
	ps_strlcpy(c->protocol, "iso8583", sizeof(c->protocol));
	ps_strlcpy(c->latency_ms, "0", sizeof(c->latency_ms));
	ps_strlcpy(c->log_level, "info", sizeof(c->log_level));
	c->seed = 1;
	c->connections_max = 16;
	c->inflight_max = 1024;
	c->inflight_per_conn_max = 256;
	c->frame_bytes_max = 8192;
	c->drain_ms = SIM_SERVER_DRAIN_MS_DEFAULT;
	int rc = sim_opts_parse(options, PS_ARRAY_LEN(options), argc, argv, c,
				err, cap);
	if (rc != 0)
		return rc;
	char why[256];
	if (sim_latency_parse(c->latency_ms, &e->faults.latency, why,
			      sizeof(why)) != 0)
		return sim_fail(err, cap, PS_EINVAL, "--latency-ms: %s", why);
	e->faults.drop_rate = c->drop_rate;
	e->faults.close_rate = c->close_rate;
	e->faults.seed = c->seed;
	int level = ps_log_level_parse(c->log_level);
	if (level < 0)
		return sim_fail(err, cap, PS_EINVAL, "--log-level: %s", c->log_level);
	ps_log_setup(c->name, (enum ps_log_level)level, 2);
	return 0;
}

static int start(echo_t *e, char *err, size_t cap)
{
	const echo_cfg_t *c = &e->cfg;
	sim_server_cfg_t s;
	sim_server_cfg_init(&s);
	s.name = c->name;
	s.listen = c->listen;
	s.ready_file = c->ready_file;
	if (strcmp(c->protocol, "json") == 0) {
		s.chan.kind = CHAN_JSON;
		s.chan.frame_bytes_max = TXN_JSON_LINE_MAX;
		s.answer_bytes_max = 4096;
	} else {
		s.chan.kind = CHAN_ISO8583;
		s.chan.dialect = iso8583_dialect_builtin("ascii");
		s.chan.framing.length_header = ISO8583_LENGTH_BINARY2;
		s.chan.framing.dialect = s.chan.dialect;
		s.chan.framing.frame_bytes_max = c->frame_bytes_max;
		s.chan.frame_bytes_max = c->frame_bytes_max;
	}
	s.connections_max = c->connections_max;
	s.inflight_max = c->inflight_max;
	s.inflight_per_conn_max = c->inflight_per_conn_max;
	s.work_bytes = sizeof(echo_work_t);
	s.drain_ms = c->drain_ms;
	s.tick_ms = c->tick_ms;
	s.ops.turn = on_turn;
	s.ops.tick = on_tick;
	s.ops.drain = on_drain;
	s.ops.finish = on_finish;
	if (!sim_latency_is_zero(&e->faults.latency) || c->drop_rate > 0 ||
	    c->close_rate > 0)
		s.ops.fate = on_fate;
	s.ctx = e;
	e->kept = calloc(c->inflight_max, sizeof(*e->kept));
	if (e->kept == NULL)
		return sim_fail(err, cap, PS_ENOMEM, "out of memory");
	int rc = sim_server_create(&s, &e->srv, err, cap);
	if (rc != 0)
		return rc;
	uv_timer_init(sim_server_loop(e->srv), &e->hold_timer);
	e->hold_timer.data = e;
	e->hold_timer_open = true;
	return 0;
}

static void log_stopped(const echo_t *e, int run_rc)
{
	const sim_server_stats_t *s = sim_server_stats(e->srv);
	ps_log_t *l = ps_log_begin(PS_LOG_INFO, "echo_stopped");
	ps_log_uint(l, "requests", s->requests);
	ps_log_uint(l, "answers", s->answers);
	ps_log_uint(l, "format_errors", s->format_errors);
	ps_log_uint(l, "deferred", s->deferred);
	ps_log_uint(l, "dropped", s->dropped);
	ps_log_uint(l, "closed", s->closed);
	ps_log_uint(l, "conns_refused", s->conns_refused);
	ps_log_uint(l, "turns", e->turns);
	ps_log_uint(l, "turn_max", e->turn_max);
	ps_log_uint(l, "ticks", e->ticks);
	ps_log_uint(l, "drains", e->drains);
	ps_log_uint(l, "finishes", e->finishes);
	ps_log_int(l, "run", run_rc);
	ps_log_end(l);
}

int main(int argc, char **argv)
{
	static echo_t e;
	char err[512];
	int rc = configure(&e, argc, argv, err, sizeof(err));
	if (rc == SIM_OPTS_HELP) {
		sim_opts_usage(stdout, "usage: sim_echo [options]", options,
			       PS_ARRAY_LEN(options));
		return 0;
	}
	if (rc != 0) {
		fprintf(stderr, "sim_echo: %s\n", err);
		return 2;
	}
	if (start(&e, err, sizeof(err)) != 0) {
		fprintf(stderr, "sim_echo: cannot start: %s\n", err);
		sim_server_destroy(e.srv);
		free(e.kept);
		return 3;
	}
	rc = sim_server_run(e.srv);
	log_stopped(&e, rc);
	sim_server_destroy(e.srv);
	free(e.kept);
	return rc == PS_ETIMEDOUT ? 4 : 0;
}
