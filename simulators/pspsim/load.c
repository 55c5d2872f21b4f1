/*
 * load.c: pspsim's load mode: the connections, the poll() loop, the rate,
 * the requests in flight and their timeouts, and the record of every
 * answer (psp_run_t) the report is made of.
 *
 * Every request lives in a slot from the moment it is written into its
 * connection's buffer until its answer is read, it times out, or its
 * connection is lost. Slots (connections x inflight), buffers and maps
 * are allocated before the first request; a request allocates nothing.
 * The requests in flight are found by their id's number (idmap.h); those
 * given up on are remembered, so an answer that comes after all is told
 * (late) from a second answer to an answered request (extra) and from an
 * id this run never sent (unknown).
 *
 * Timeouts are found by a scan of the slots every timeout/10 (at most
 * 100 ms): a request is given up between 1 and 1.1 times --timeout-ms
 * after it was written.
 */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "adapters.h"
#include "core.h"
#include "idmap.h"
#include "pspsim.h"

#define NS_PER_MS 1000000ull
#define WBUF_MIN (16u * 1024)
#define WBUF_MAX (1u << 20)
#define RBUF_BYTES (2u * TXN_JSON_LINE_MAX)
#define READS_PER_TURN 8
#define GONE_MAX 65536u
#define NOTES_MAX 10  /* stderr lines about lost or disagreeing answers */
#define NO_SLOT UINT32_MAX

enum conn_state { CONN_HELLO = 0, CONN_READY, CONN_CLOSED };

typedef struct slot {
	psp_req_t req;
	uint64_t sent_ns;
	uint32_t conn;
	uint32_t next_free;
	bool used;
} slot_t;

typedef struct conn {
	int fd;
	uint8_t state; /* enum conn_state */
	uint32_t inflight;
	uint32_t free_head; /* its free slots, linked by next_free */
	char *wbuf;
	size_t wlen, woff, wcap;
	char *rbuf;
	txn_lines_t lines;
} conn_t;

typedef struct load {
	const psp_cfg_t *cfg;
	psp_run_t *run;
	psp_accounts_t accounts;
	psp_plan_t plan;
	conn_t *conn;
	struct pollfd *pfd;
	slot_t *slot;
	psp_idmap_t inflight; /* seq -> slot */
	psp_idmap_t gone;     /* seqs given up on */
	uint32_t n_conn, per_conn, open, ready, rr;
	uint64_t inflight_total;
	bool sending;
	uint64_t send_end_ns; /* 0: no duration */
	double tokens, token_cap;
	uint64_t tokens_ns;
	uint64_t timeout_ns, scan_ns, next_scan_ns;
	uint64_t next_progress_ns, progress_ns, progress_answered;
	bool tty, progress_shown;
	uint64_t status_errors, mismatches;
	uint32_t notes;
} load_t;

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/* SIGINT or SIGTERM ends the sending; the run then waits for what is in
 * flight and reports. A second one ends pspsim at once. */
static void catch_stop(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sa.sa_flags = SA_RESETHAND; /* no SA_RESTART: poll() returns */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

static void note(load_t *L, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void note(load_t *L, const char *fmt, ...)
{
	if (L->notes++ >= NOTES_MAX)
		return;
	if (L->progress_shown && L->tty)
		fputc('\n', stderr);
	va_list ap;
	va_start(ap, fmt);
	fputs("pspsim: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	if (L->notes == NOTES_MAX)
		fputs("pspsim: (more such lines left out; the report counts them)\n", stderr);
}

static void link_error(load_t *L, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void link_error(load_t *L, const char *fmt, ...)
{
	psp_run_t *run = L->run;
	if (run->link_error[0] != '\0')
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(run->link_error, sizeof(run->link_error), fmt, ap);
	va_end(ap);
	note(L, "%s", run->link_error);
}

/* ---- set-up --------------------------------------------------------------------- */

static int setup_accounts(load_t *L, char *err, size_t cap)
{
	const psp_load_cfg_t *l = &L->cfg->load;
	if (l->payers[0] != '\0')
		return psp_accounts_load(&L->accounts, l->payers, l->payees, err, cap);
	return psp_accounts_generate(&L->accounts, l->bank_prefix, l->accounts_per_bank,
				     l->merchants_per_bank, l->account_digits, err, cap);
}

static int setup_plan(load_t *L, char *err, size_t cap)
{
	const psp_load_cfg_t *l = &L->cfg->load;
	/* Room for every request in flight to be a pay several times over,
	 * so a pay is rarely forgotten before its answer comes. */
	uint64_t history = PS_MAX((uint64_t)l->history, 4ull * L->n_conn * L->per_conn);
	psp_plan_cfg_t pc = {
		.id_prefix = l->id_prefix,
		.currency = l->currency,
		.mix = L->cfg->mix,
		.amount = L->cfg->amount,
		.refund_full_rate = l->refund_full_rate,
		.history = (uint32_t)PS_MIN(history, (uint64_t)PSP_HISTORY_MAX),
		.seed = l->seed,
	};
	return psp_plan_init(&L->plan, &pc, &L->accounts, err, cap);
}

static int setup_io(load_t *L, char *err, size_t cap)
{
	uint32_t n = L->n_conn, m = L->per_conn;
	L->conn = calloc(n, sizeof(*L->conn));
	L->pfd = calloc(n, sizeof(*L->pfd));
	L->slot = calloc((size_t)n * m, sizeof(*L->slot));
	if (L->conn == NULL || L->pfd == NULL || L->slot == NULL ||
	    psp_idmap_init(&L->inflight, n * m) != 0 ||
	    psp_idmap_init(&L->gone, GONE_MAX) != 0)
		return sim_fail(err, cap, PS_ENOMEM, "no memory for %u x %u requests", n, m);
	size_t wcap = PS_MIN(PS_MAX((size_t)m * 256u, (size_t)WBUF_MIN), (size_t)WBUF_MAX);
	for (uint32_t c = 0; c < n; c++) {
		conn_t *k = &L->conn[c];
		k->fd = -1;
		k->state = CONN_CLOSED;
		k->wcap = wcap;
		k->wbuf = malloc(wcap);
		k->rbuf = malloc(RBUF_BYTES);
		if (k->wbuf == NULL || k->rbuf == NULL)
			return sim_fail(err, cap, PS_ENOMEM, "no memory for connection buffers");
		txn_lines_init(&k->lines, k->rbuf, RBUF_BYTES);
		k->free_head = NO_SLOT;
		for (uint32_t i = m; i-- > 0;) {
			uint32_t s = c * m + i;
			L->slot[s].conn = c;
			L->slot[s].next_free = k->free_head;
			k->free_head = s;
		}
		L->pfd[c].fd = -1;
	}
	return 0;
}

static void teardown(load_t *L)
{
	for (uint32_t c = 0; L->conn != NULL && c < L->n_conn; c++) {
		if (L->conn[c].fd >= 0)
			close(L->conn[c].fd);
		free(L->conn[c].wbuf);
		free(L->conn[c].rbuf);
	}
	free(L->conn);
	free(L->pfd);
	free(L->slot);
	psp_idmap_free(&L->inflight);
	psp_idmap_free(&L->gone);
	psp_plan_free(&L->plan);
	psp_accounts_free(&L->accounts);
}

/* ---- connections ------------------------------------------------------------------ */

static void queue_text(conn_t *k, const char *text, size_t len)
{
	PS_ASSERT(k->wcap - k->wlen >= len);
	memcpy(k->wbuf + k->wlen, text, len);
	k->wlen += len;
}

static void release(load_t *L, uint32_t si)
{
	slot_t *s = &L->slot[si];
	conn_t *k = &L->conn[s->conn];
	bool had = psp_idmap_del(&L->inflight, s->req.seq);
	PS_ASSERT(had && s->used);
	s->used = false;
	s->next_free = k->free_head;
	k->free_head = si;
	k->inflight--;
	L->inflight_total--;
}

/* Closes connection c: what was in flight on it will never be answered.
 * lost: the switch closed or broke it (a refused hello is counted as
 * such instead). */
static void conn_close(load_t *L, uint32_t c, const char *why, bool lost)
{
	conn_t *k = &L->conn[c];
	if (k->state == CONN_CLOSED)
		return;
	if (k->state == CONN_READY)
		L->ready--;
	L->open--;
	k->state = CONN_CLOSED;
	close(k->fd);
	k->fd = -1;
	L->pfd[c].fd = -1;
	if (lost) {
		L->run->connections_lost++;
		link_error(L, "connection %u: %s, %u requests in flight lost", c, why,
			   k->inflight);
	}
	for (uint32_t i = 0; i < L->per_conn; i++) {
		uint32_t si = c * L->per_conn + i;
		if (!L->slot[si].used)
			continue;
		psp_plan_lost(&L->plan, &L->slot[si].req);
		L->run->missing++;
		release(L, si);
	}
}

static int connect_all(load_t *L)
{
	const psp_cfg_t *cfg = L->cfg;
	char hello[160];
	int hlen = snprintf(hello, sizeof(hello), "{\"op\":\"hello\",\"participant\":\"%s\"}\n",
			    cfg->participant);
	for (uint32_t c = 0; c < L->n_conn; c++) {
		conn_t *k = &L->conn[c];
		if (ps_tcp_connect(cfg->connect, &k->fd) != 0) {
			L->run->connect_failed = true;
			link_error(L, "cannot connect to %s: %s", cfg->connect, strerror(errno));
			return PS_EIO;
		}
		int fl = fcntl(k->fd, F_GETFL);
		fcntl(k->fd, F_SETFL, fl | O_NONBLOCK);
		L->pfd[c].fd = k->fd;
		L->open++;
		if (cfg->no_hello) {
			k->state = CONN_READY;
			L->ready++;
		} else {
			k->state = CONN_HELLO;
			queue_text(k, hello, (size_t)hlen);
		}
	}
	return 0;
}

static void flush(load_t *L, uint32_t c)
{
	conn_t *k = &L->conn[c];
	while (k->state != CONN_CLOSED && k->woff < k->wlen) {
		ssize_t n = send(k->fd, k->wbuf + k->woff, k->wlen - k->woff,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			conn_close(L, c, strerror(errno), true);
			return;
		}
		k->woff += (size_t)n;
	}
	if (k->woff == k->wlen) {
		k->woff = k->wlen = 0;
	} else if (k->woff > 0) {
		memmove(k->wbuf, k->wbuf + k->woff, k->wlen - k->woff);
		k->wlen -= k->woff;
		k->woff = 0;
	}
}

/* ---- sending ---------------------------------------------------------------------- */

static bool count_reached(const load_t *L)
{
	return L->cfg->load.count > 0 && L->run->sent >= L->cfg->load.count;
}

static bool can_send(const load_t *L, const conn_t *k)
{
	return k->state == CONN_READY && k->inflight < L->per_conn &&
	       k->wcap - k->wlen >= PSP_LINE_MAX;
}

static void send_one(load_t *L, uint32_t c, uint64_t now)
{
	conn_t *k = &L->conn[c];
	uint32_t si = k->free_head;
	PS_ASSERT(si != NO_SLOT);
	slot_t *s = &L->slot[si];
	k->free_head = s->next_free;
	psp_plan_next(&L->plan, &s->req);
	size_t len = 0;
	int rc = psp_plan_format(&L->plan, &s->req, k->wbuf + k->wlen,
				 k->wcap - k->wlen, &len);
	PS_ASSERT(rc == 0); /* PSP_LINE_MAX of room was checked */
	k->wlen += len;
	rc = psp_idmap_put(&L->inflight, s->req.seq, si);
	PS_ASSERT(rc == 0); /* one request per id in flight (plan.h) */
	s->used = true;
	s->sent_ns = now;
	k->inflight++;
	L->inflight_total++;
	psp_run_t *run = L->run;
	run->sent++;
	if (run->first_send_ns == 0)
		run->first_send_ns = now;
	run->last_send_ns = now;
}

static void refill(load_t *L, uint64_t now)
{
	uint32_t rate = L->cfg->load.rate;
	if (rate == 0)
		return;
	double add = (double)(now - L->tokens_ns) * (double)rate / 1e9;
	L->tokens = PS_MIN(L->tokens + add, L->token_cap);
	L->tokens_ns = now;
}

/* Sends what the rate and the bounds allow, one request per connection
 * per round, so the connections share the rate. */
static void fill(load_t *L, uint64_t now)
{
	if (!L->sending)
		return;
	refill(L, now);
	bool rated = L->cfg->load.rate > 0;
	for (;;) {
		bool any = false;
		for (uint32_t i = 0; i < L->n_conn; i++) {
			if (count_reached(L)) {
				L->sending = false;
				return;
			}
			if (rated && L->tokens < 1.0)
				return;
			uint32_t c = (L->rr + i) % L->n_conn;
			if (!can_send(L, &L->conn[c]))
				continue;
			send_one(L, c, now);
			any = true;
			if (rated)
				L->tokens -= 1.0;
		}
		L->rr = (L->rr + 1) % L->n_conn;
		if (!any)
			return;
	}
}

/* ---- answers ---------------------------------------------------------------------- */

static uint32_t code_index(const char *code)
{
	if (code[0] >= '0' && code[0] <= '9' && code[1] >= '0' && code[1] <= '9' &&
	    code[2] == '\0')
		return (uint32_t)((code[0] - '0') * 10 + (code[1] - '0'));
	return PSP_CODE_OTHER;
}

static void answered(load_t *L, uint32_t si, const txn_answer_t *a, uint64_t now)
{
	slot_t *s = &L->slot[si];
	psp_run_t *run = L->run;
	psp_hist_record(&run->latency, (now - s->sent_ns) / 1000u);
	run->answered++;
	run->last_answer_ns = now;
	int status = psp_status_of(a->status);
	if (status == PSP_STATUS_ERROR)
		L->status_errors++;
	run->outcome[s->req.op][status][code_index(a->code)]++;
	if (psp_plan_answered(&L->plan, &s->req, a) == PSP_VERDICT_MISMATCH) {
		L->mismatches++;
		note(L, "%s %s-%llu answered %s txn %s; the pay was answered %s txn %s",
		     psp_op_name(s->req.op), L->plan.id_prefix,
		     (unsigned long long)s->req.seq, a->code,
		     a->txn[0] ? a->txn : "-", s->req.expect_code,
		     s->req.expect_txn[0] ? s->req.expect_txn : "-");
	}
	release(L, si);
}

static void hello_answered(load_t *L, uint32_t c, const txn_answer_t *a)
{
	if (strcmp(a->status, "ok") == 0) {
		L->conn[c].state = CONN_READY;
		L->ready++;
		return;
	}
	L->run->hello_refused = true;
	link_error(L, "hello as %s refused: %s %s", L->cfg->participant, a->code, a->reason);
	conn_close(L, c, "hello refused", false);
}

static void on_line(load_t *L, uint32_t c, const char *line, size_t len, uint64_t now)
{
	txn_answer_t a;
	txn_error_t e;
	psp_run_t *run = L->run;
	if (txn_answer_from_json(line, len, &a, &e) != 0) {
		run->unparsed++;
		note(L, "not an answer: %.80s", line);
		return;
	}
	if (L->conn[c].state == CONN_HELLO) {
		hello_answered(L, c, &a);
		return;
	}
	uint64_t seq;
	uint32_t si;
	if (!psp_plan_seq_of(&L->plan, a.id, &seq)) {
		run->unknown++;
		note(L, "answer to an id this run never sent: \"%s\"", a.id);
	} else if (psp_idmap_get(&L->inflight, seq, &si)) {
		answered(L, si, &a, now);
	} else if (psp_idmap_del(&L->gone, seq)) {
		run->late++;
	} else {
		run->extra++;
		note(L, "a second answer to %s", a.id);
	}
}

static void read_conn(load_t *L, uint32_t c, uint64_t now)
{
	conn_t *k = &L->conn[c];
	for (int r = 0; r < READS_PER_TURN && k->state != CONN_CLOSED; r++) {
		char *space;
		size_t room;
		txn_lines_space(&k->lines, &space, &room);
		ssize_t n = read(k->fd, space, room);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			conn_close(L, c, n == 0 ? "closed by the switch" : strerror(errno), true);
			return;
		}
		txn_lines_commit(&k->lines, (size_t)n);
		const char *line;
		size_t len;
		int got;
		while ((got = txn_lines_next(&k->lines, &line, &len)) == 1 &&
		       k->state != CONN_CLOSED)
			on_line(L, c, line, len, now);
		if (got < 0) {
			conn_close(L, c, "an answer line over 16 KiB", true);
			return;
		}
	}
}

/* ---- timeouts and progress -------------------------------------------------------- */

static void expire(load_t *L, uint64_t now)
{
	uint64_t total = (uint64_t)L->n_conn * L->per_conn;
	for (uint64_t si = 0; si < total && L->inflight_total > 0; si++) {
		slot_t *s = &L->slot[si];
		if (!s->used || now - s->sent_ns < L->timeout_ns)
			continue;
		L->run->timed_out++;
		note(L, "no answer to %s-%llu within %u ms", L->plan.id_prefix,
		     (unsigned long long)s->req.seq, L->cfg->timeout_ms);
		psp_plan_lost(&L->plan, &s->req);
		/* Full or already there (a duplicate given up twice): its
		 * late answer then counts as extra; the run fails anyway. */
		(void)psp_idmap_put(&L->gone, s->req.seq, 0);
		release(L, (uint32_t)si);
	}
}

static uint64_t errors_of(const load_t *L)
{
	const psp_run_t *r = L->run;
	return L->status_errors + r->timed_out + r->extra + r->unknown + r->unparsed +
	       r->connections_lost + L->mismatches;
}

static void progress(load_t *L, uint64_t now, bool last)
{
	if (L->progress_ns == 0 || (!last && now < L->next_progress_ns))
		return;
	const psp_run_t *r = L->run;
	double since = (double)(now - (L->next_progress_ns - L->progress_ns)) / 1e9;
	double rate = since > 0 ? (double)(r->answered - L->progress_answered) / since : 0;
	L->progress_answered = r->answered;
	L->next_progress_ns = now + L->progress_ns;
	char line[256];
	snprintf(line, sizeof(line), "pspsim: %6.1fs sent %llu answered %llu (%.0f/s) "
		 "in flight %llu errors %llu", (double)(now - r->start_ns) / 1e9,
		 (unsigned long long)r->sent, (unsigned long long)r->answered, rate,
		 (unsigned long long)L->inflight_total, (unsigned long long)errors_of(L));
	if (L->tty)
		fprintf(stderr, "\r%s\033[K%s", line, last ? "\n" : "");
	else
		fprintf(stderr, "%s\n", line);
	L->progress_shown = !last;
}

/* ---- the loop ------------------------------------------------------------------- */

/* How long poll() may sleep: until the next token, timer or deadline. */
static int wait_ms(const load_t *L, uint64_t now)
{
	uint64_t until = now + 100 * NS_PER_MS;
	if (L->sending && L->cfg->load.rate > 0 && L->tokens < 1.0) {
		double ns = (1.0 - L->tokens) * 1e9 / (double)L->cfg->load.rate;
		until = PS_MIN(until, now + (uint64_t)ns);
	}
	if (L->sending && L->send_end_ns > 0)
		until = PS_MIN(until, L->send_end_ns);
	if (L->inflight_total > 0)
		until = PS_MIN(until, L->next_scan_ns);
	if (L->progress_ns > 0 && L->run->start_ns > 0)
		until = PS_MIN(until, L->next_progress_ns);
	if (until <= now)
		return 0;
	/* Rounded up: waking a little late costs a token's worth of
	 * burst, waking early costs a turn for nothing. */
	return (int)((until - now + NS_PER_MS - 1) / NS_PER_MS);
}

static void turn(load_t *L, int timeout_ms)
{
	for (uint32_t c = 0; c < L->n_conn; c++) {
		conn_t *k = &L->conn[c];
		L->pfd[c].events = (short)(POLLIN | (k->woff < k->wlen ? POLLOUT : 0));
		L->pfd[c].revents = 0;
	}
	int n = poll(L->pfd, L->n_conn, timeout_ms);
	if (n < 0 && errno != EINTR) {
		link_error(L, "poll: %s", strerror(errno));
		L->sending = false;
		return;
	}
	uint64_t now = ps_mono_ns();
	for (uint32_t c = 0; n > 0 && c < L->n_conn; c++) {
		short ev = L->pfd[c].revents;
		if (ev & (POLLIN | POLLHUP | POLLERR))
			read_conn(L, c, now);
		if ((ev & POLLOUT) && L->conn[c].state != CONN_CLOSED)
			flush(L, c);
	}
	if (now >= L->next_scan_ns) {
		expire(L, now);
		L->next_scan_ns = now + L->scan_ns;
	}
}

static void flush_all(load_t *L)
{
	for (uint32_t c = 0; c < L->n_conn; c++)
		if (L->conn[c].woff < L->conn[c].wlen)
			flush(L, c);
}

/* Every connection signed on, or the time for it is up. */
static void sign_on(load_t *L)
{
	uint64_t deadline = ps_mono_ns() + L->timeout_ns;
	L->next_scan_ns = UINT64_MAX;
	flush_all(L);
	while (L->ready < L->open && ps_mono_ns() < deadline && !stop_requested)
		turn(L, 10);
	for (uint32_t c = 0; c < L->n_conn; c++)
		if (L->conn[c].state == CONN_HELLO) {
			L->run->hello_refused = true;
			link_error(L, "no answer to the hello within %u ms", L->cfg->timeout_ms);
			conn_close(L, c, "hello unanswered", false);
		}
}

static void run_loop(load_t *L)
{
	psp_run_t *run = L->run;
	uint64_t now = ps_mono_ns();
	run->start_ns = now;
	L->sending = L->ready > 0;
	if (L->cfg->load.duration_s > 0)
		L->send_end_ns = now + (uint64_t)L->cfg->load.duration_s * 1000u * NS_PER_MS;
	L->tokens = 1.0;
	L->tokens_ns = now;
	/* 5 ms of tokens, and at least 2: a wake-up a little after a token
	 * was due keeps what it overslept for the next one. */
	L->token_cap = PS_MAX(2.0, (double)L->cfg->load.rate / 200.0);
	L->next_scan_ns = now + L->scan_ns;
	L->next_progress_ns = now + L->progress_ns;
	for (;;) {
		now = ps_mono_ns();
		if (stop_requested || (L->send_end_ns > 0 && now >= L->send_end_ns) ||
		    L->ready == 0)
			L->sending = false;
		fill(L, now);
		flush_all(L);
		if (!L->sending && L->inflight_total == 0)
			break;
		turn(L, wait_ms(L, now));
		progress(L, ps_mono_ns(), false);
	}
	run->end_ns = ps_mono_ns();
	if (L->progress_ns > 0)
		progress(L, run->end_ns, true);
}

int psp_load_run(const psp_cfg_t *cfg, psp_run_t *run, char *err, size_t err_cap)
{
	static load_t L;
	memset(&L, 0, sizeof(L));
	memset(run, 0, sizeof(*run));
	psp_hist_init(&run->latency);
	L.cfg = cfg;
	L.run = run;
	L.n_conn = cfg->load.connections;
	L.per_conn = cfg->load.inflight;
	L.timeout_ns = (uint64_t)cfg->timeout_ms * NS_PER_MS;
	L.scan_ns = PS_MIN(PS_MAX(L.timeout_ns / 10u, NS_PER_MS), 100u * NS_PER_MS);
	L.progress_ns = (uint64_t)cfg->load.progress_ms * NS_PER_MS;
	L.tty = isatty(STDERR_FILENO) == 1;
	int rc = setup_accounts(&L, err, err_cap);
	if (rc == 0)
		rc = setup_plan(&L, err, err_cap);
	if (rc == 0)
		rc = setup_io(&L, err, err_cap);
	if (rc != 0) {
		teardown(&L);
		return PSP_EXIT_USAGE;
	}
	catch_stop();
	if (connect_all(&L) == 0) {
		sign_on(&L);
		if (L.ready > 0)
			run_loop(&L);
	}
	/* Every request given up on and never answered after all. */
	run->missing += run->timed_out - run->late;
	run->plan = L.plan.stats;
	teardown(&L);
	return 0;
}
