/*
 * server.c: the server loop's start-up (pools, handles, the listener, the
 * ready file), its handles (the turn's check and idle, ticks, signals),
 * the drain and the end.
 *
 * The drain stops accepting and reading, sends held answers at once and
 * lets the turns answer what was already read; when nothing is queued,
 * held, kept or being written (or after drain_ms) every handle closes and
 * uv_run returns. The check handle is where that is noticed: the idle
 * handle stays active throughout the drain, so the loop comes round to
 * the check every iteration instead of waiting in poll.
 */
#include <arpa/inet.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server_int.h"

#define LISTEN_BACKLOG 128

void sim_server_cfg_init(sim_server_cfg_t *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->listen = "127.0.0.1:0";
	cfg->connections_max = 64;
	cfg->inflight_max = 8192;
	cfg->inflight_per_conn_max = 1024;
	cfg->answer_bytes_max = SIM_SERVER_ANSWER_BYTES_DEFAULT;
	cfg->drain_ms = SIM_SERVER_DRAIN_MS_DEFAULT;
}

/* ---- the loop's handles ------------------------------------------------- */

static void on_turn_check(uv_check_t *check)
{
	sim_server_t *srv = check->data;
	if (srv->paused_count > 0)
		srv_conn_resume_paused(srv);
	srv_turn_run(srv);
	ps_log_flush_suppressed();
	if (srv->draining)
		srv_maybe_finish(srv);
}

static void on_idle(uv_idle_t *idle)
{
	(void)idle; /* its being active is the point: poll does not block */
}

void srv_keep_turning(sim_server_t *srv)
{
	if (!srv->finishing && !uv_is_active((uv_handle_t *)&srv->turn_idle))
		uv_idle_start(&srv->turn_idle, on_idle);
}

void srv_rest(sim_server_t *srv)
{
	if (!srv->draining)
		uv_idle_stop(&srv->turn_idle);
}

static void on_tick(uv_timer_t *timer)
{
	sim_server_t *srv = timer->data;
	if (!srv->finishing && srv->cfg.ops.tick != NULL)
		srv->cfg.ops.tick(srv->cfg.ctx);
}

static void close_handle(uv_handle_t *h)
{
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

/* Everything closes; uv_run returns once the close callbacks ran. */
static void finish(sim_server_t *srv)
{
	if (srv->finishing)
		return;
	srv->finishing = true;
	if (srv->cfg.ops.finish != NULL)
		srv->cfg.ops.finish(srv->cfg.ctx);
	srv_conn_close_all(srv);
	if (srv->listener_open)
		close_handle((uv_handle_t *)&srv->listener);
	if (!srv->handles_started)
		return;
	close_handle((uv_handle_t *)&srv->sigterm);
	close_handle((uv_handle_t *)&srv->sigint);
	/* Closing them restores the default action (death): a second
	 * SIGTERM while we finish must not make a clean exit 143. */
	signal(SIGTERM, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	close_handle((uv_handle_t *)&srv->turn_check);
	close_handle((uv_handle_t *)&srv->turn_idle);
	close_handle((uv_handle_t *)&srv->hold_timer);
	close_handle((uv_handle_t *)&srv->tick_timer);
	close_handle((uv_handle_t *)&srv->drain_timer);
}

void srv_maybe_finish(sim_server_t *srv)
{
	if (srv->queue_head == NULL && srv->heap_count == 0 &&
	    srv->writes_pending == 0 && srv->kept == 0)
		finish(srv);
}

static void on_drain_timeout(uv_timer_t *timer)
{
	sim_server_t *srv = timer->data;
	ps_logf(PS_LOG_WARN, "drain_timeout",
		"%u answers still being written, %u kept after %u ms; closing",
		srv->writes_pending, srv->kept, srv->cfg.drain_ms);
	srv->drain_timed_out = true;
	finish(srv);
}

void sim_server_drain(sim_server_t *srv)
{
	if (srv->draining || srv->finishing)
		return;
	srv->draining = true;
	if (srv->listener_open)
		close_handle((uv_handle_t *)&srv->listener);
	srv_conn_stop_all(srv);
	if (srv->cfg.ops.drain != NULL)
		srv->cfg.ops.drain(srv->cfg.ctx);
	srv_answer_flush(srv);
	uv_timer_start(&srv->drain_timer, on_drain_timeout, srv->cfg.drain_ms,
		       0);
	/* The check handle finishes the drain once the turn is empty; make
	 * sure the loop comes round to it. */
	srv_keep_turning(srv);
}

static void on_signal(uv_signal_t *sig, int signum)
{
	sim_server_t *srv = sig->data;
	if (srv->draining) {
		finish(srv); /* a second signal: stop now */
		return;
	}
	ps_logf(PS_LOG_INFO, "signal", "%s: answering what was read, then "
		"exiting", signum == SIGINT ? "SIGINT" : "SIGTERM");
	sim_server_drain(srv);
}

/* ---- start-up ----------------------------------------------------------- */

static int copy_text(char *dst, size_t cap, const char *src, const char *what,
		     char *err, size_t err_cap)
{
	if (src == NULL)
		src = "";
	if (strlen(src) >= cap)
		return sim_fail(err, err_cap, PS_EINVAL, "%s: longer than %zu "
				"characters", what, cap - 1);
	memcpy(dst, src, strlen(src) + 1);
	return 0;
}

/* Copies cfg, its strings into the server's own arrays, and checks the
 * bounds. */
static int take_cfg(sim_server_t *srv, const sim_server_cfg_t *cfg, char *err,
		    size_t cap)
{
	int rc;
	if ((rc = copy_text(srv->name, sizeof(srv->name),
			    cfg->name != NULL ? cfg->name : "sim", "name", err,
			    cap)) ||
	    (rc = copy_text(srv->listen, sizeof(srv->listen), cfg->listen,
			    "listen", err, cap)) ||
	    (rc = copy_text(srv->ready_file, sizeof(srv->ready_file),
			    cfg->ready_file, "ready file", err, cap)))
		return rc;
	srv->cfg = *cfg;
	srv->cfg.name = srv->name;
	srv->cfg.listen = srv->listen;
	srv->cfg.ready_file = srv->ready_file;
	sim_server_cfg_t *c = &srv->cfg;
	if (c->ops.turn == NULL)
		return sim_fail(err, cap, PS_EINVAL, "no turn callback");
	if (c->connections_max < 1 ||
	    c->connections_max > SIM_SERVER_CONNECTIONS_MAX)
		return sim_fail(err, cap, PS_EINVAL, "connections_max must be "
				"1 to %u", SIM_SERVER_CONNECTIONS_MAX);
	if (c->inflight_max < 1 || c->inflight_max > SIM_SERVER_INFLIGHT_MAX ||
	    c->inflight_per_conn_max < 1)
		return sim_fail(err, cap, PS_EINVAL, "inflight_max must be 1 "
				"to %u, inflight_per_conn_max at least 1",
				SIM_SERVER_INFLIGHT_MAX);
	if (c->inflight_per_conn_max > c->inflight_max)
		c->inflight_per_conn_max = c->inflight_max;
	if (c->work_bytes > SIM_SERVER_WORK_BYTES_MAX)
		return sim_fail(err, cap, PS_EINVAL, "work_bytes: at most %u",
				SIM_SERVER_WORK_BYTES_MAX);
	if (c->answer_bytes_max < 64 ||
	    c->answer_bytes_max > SIM_SERVER_ANSWER_BYTES_MAX)
		return sim_fail(err, cap, PS_EINVAL, "answer_bytes_max must be "
				"64 to %u", (unsigned)SIM_SERVER_ANSWER_BYTES_MAX);
	if (c->drain_ms < 1)
		return sim_fail(err, cap, PS_EINVAL, "drain_ms must be at "
				"least 1");
	if (c->chan.frame_bytes_max < 1 ||
	    (c->chan.kind == CHAN_ISO8583 && c->chan.dialect == NULL))
		return sim_fail(err, cap, PS_EINVAL, "the channel needs a "
				"frame bound (and a dialect for ISO 8583)");
	return 0;
}

static int setup_pools(sim_server_t *srv, char *err, size_t cap)
{
	const sim_server_cfg_t *c = &srv->cfg;
	srv->framer_bytes = chan_storage_bytes(&c->chan);
	srv->framer_slab = calloc(c->connections_max, srv->framer_bytes);
	srv->answer_slab = calloc(c->inflight_max, c->answer_bytes_max);
	srv->turn_reqs = calloc(c->inflight_max, sizeof(*srv->turn_reqs));
	srv->heap = calloc(c->inflight_max, sizeof(*srv->heap));
	if (srv->framer_slab == NULL || srv->answer_slab == NULL ||
	    srv->turn_reqs == NULL || srv->heap == NULL ||
	    ps_pool_init(&srv->conns, sizeof(srv_conn_t), c->connections_max) ||
	    ps_pool_init(&srv->recs, SRV_WORK_OFFSET + c->work_bytes,
			 c->inflight_max))
		return sim_fail(err, cap, PS_ENOMEM, "no memory for %u "
				"connections and %u requests in flight",
				c->connections_max, c->inflight_max);
	return 0;
}

static void start_handles(sim_server_t *srv)
{
	uv_check_init(&srv->loop, &srv->turn_check);
	uv_idle_init(&srv->loop, &srv->turn_idle);
	uv_timer_init(&srv->loop, &srv->hold_timer);
	uv_timer_init(&srv->loop, &srv->tick_timer);
	uv_timer_init(&srv->loop, &srv->drain_timer);
	uv_signal_init(&srv->loop, &srv->sigterm);
	uv_signal_init(&srv->loop, &srv->sigint);
	srv->turn_check.data = srv->turn_idle.data = srv;
	srv->hold_timer.data = srv->tick_timer.data = srv;
	srv->drain_timer.data = srv->sigterm.data = srv->sigint.data = srv;
	uv_check_start(&srv->turn_check, on_turn_check);
	if (srv->cfg.tick_ms > 0)
		uv_timer_start(&srv->tick_timer, on_tick, srv->cfg.tick_ms,
			       srv->cfg.tick_ms);
	uv_signal_start(&srv->sigterm, on_signal, SIGTERM);
	uv_signal_start(&srv->sigint, on_signal, SIGINT);
	srv->handles_started = true;
}

static int setup_listener(sim_server_t *srv, char *err, size_t cap)
{
	char host[SIM_SERVER_LISTEN_MAX];
	uint16_t port = 0;
	if (sim_hostport_parse(srv->listen, host, sizeof(host), &port) != 0)
		return sim_fail(err, cap, PS_EINVAL, "--listen: must be "
				"HOST:PORT, not \"%s\"", srv->listen);
	struct sockaddr_storage addr;
	int rc = uv_ip4_addr(host, port, (struct sockaddr_in *)&addr);
	if (rc != 0)
		rc = uv_ip6_addr(host, port, (struct sockaddr_in6 *)&addr);
	if (rc != 0)
		return sim_fail(err, cap, PS_EINVAL, "--listen %s: %s",
				srv->listen, uv_strerror(rc));
	uv_tcp_init(&srv->loop, &srv->listener);
	srv->listener_open = true;
	srv->listener.data = srv;
	rc = uv_tcp_bind(&srv->listener, (struct sockaddr *)&addr, 0);
	if (rc == 0)
		rc = uv_listen((uv_stream_t *)&srv->listener, LISTEN_BACKLOG,
			       srv_conn_on_accept);
	if (rc != 0)
		return sim_fail(err, cap, PS_EIO, "--listen %s: %s", srv->listen,
				uv_strerror(rc));
	struct sockaddr_storage bound;
	int len = sizeof(bound);
	uv_tcp_getsockname(&srv->listener, (struct sockaddr *)&bound, &len);
	srv->port = ntohs(bound.ss_family == AF_INET6
				  ? ((struct sockaddr_in6 *)&bound)->sin6_port
				  : ((struct sockaddr_in *)&bound)->sin_port);
	return 0;
}

static int write_ready(sim_server_t *srv, char *err, size_t cap)
{
	if (srv->ready_file[0] == '\0')
		return 0;
	/* The name is the simulator's, so escape it as JSON wants. */
	char name[SIM_SERVER_NAME_MAX * 6], text[SIM_SERVER_NAME_MAX * 6 + 64];
	size_t n = 0;
	for (const char *p = srv->name; *p != '\0'; p++)
		n += ps_json_escape_byte((unsigned char)*p, name + n);
	name[n] = '\0';
	int len = snprintf(text, sizeof(text),
			   "{\"pid\":%d,\"port\":%u,\"name\":\"%s\"}\n",
			   (int)getpid(), srv->port, name);
	if (len < 0 || (size_t)len >= sizeof(text) ||
	    sim_ready_write(srv->ready_file, text, (size_t)len) != 0)
		return sim_fail(err, cap, PS_EIO, "cannot write the ready file "
				"%s", srv->ready_file);
	return 0;
}

int sim_server_create(const sim_server_cfg_t *cfg, sim_server_t **out,
		      char *err, size_t err_cap)
{
	/* A peer closing mid-write must be an error code, not a death. */
	signal(SIGPIPE, SIG_IGN);
	sim_server_t *srv = calloc(1, sizeof(*srv));
	*out = srv;
	if (srv == NULL)
		return sim_fail(err, err_cap, PS_ENOMEM, "out of memory");
	int rc = uv_loop_init(&srv->loop);
	if (rc != 0) {
		free(srv);
		*out = NULL;
		return sim_fail(err, err_cap, PS_EIO, "uv_loop_init: %s",
				uv_strerror(rc));
	}
	srv->loop.data = srv;
	rc = take_cfg(srv, cfg, err, err_cap);
	if (rc == 0) {
		/* From here on the handles exist; destroy runs the loop to
		 * close them, whatever fails next. */
		start_handles(srv);
		if ((rc = setup_pools(srv, err, err_cap)) == 0 &&
		    (rc = setup_listener(srv, err, err_cap)) == 0)
			rc = write_ready(srv, err, err_cap);
	}
	if (rc != 0) {
		/* The simulator has had no chance to start anything of its
		 * own: its finish hook has nothing to close. */
		srv->cfg.ops.finish = NULL;
		finish(srv);
	}
	return rc;
}

/* ---- running and the end -------------------------------------------------- */

int sim_server_run(sim_server_t *srv)
{
	if (srv->running || srv->finishing)
		return PS_ESTATE;
	srv->running = true;
	uv_run(&srv->loop, UV_RUN_DEFAULT);
	return srv->drain_timed_out ? PS_ETIMEDOUT : 0;
}

void sim_server_destroy(sim_server_t *srv)
{
	if (srv == NULL)
		return;
	/* Close whatever is still open and let the callbacks run: cancelled
	 * writes give their records back on the way. */
	finish(srv);
	uv_run(&srv->loop, UV_RUN_DEFAULT);
	if (uv_loop_close(&srv->loop) != 0)
		ps_logf(PS_LOG_WARN, "loop_not_clean", "handles left open at exit");
	ps_pool_free(&srv->recs);
	ps_pool_free(&srv->conns);
	free(srv->framer_slab);
	free(srv->answer_slab);
	free(srv->turn_reqs);
	free(srv->heap);
	free(srv);
}

uint16_t sim_server_port(const sim_server_t *srv)
{
	return srv->port;
}

uv_loop_t *sim_server_loop(sim_server_t *srv)
{
	return &srv->loop;
}

bool sim_server_draining(const sim_server_t *srv)
{
	return srv->draining;
}

const sim_server_stats_t *sim_server_stats(const sim_server_t *srv)
{
	return &srv->stats;
}
