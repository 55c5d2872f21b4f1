/*
 * link.c: a simulator's client link to one host (link.h): connecting with
 * backoff, sign-on and echo, requests in flight in fixed slots matched by
 * (STAN, field 7), their deadlines, and the one callback each gets.
 *
 * Slots: inflight_max for the caller and two for the link's own network
 * management (a sign-on or an echo, never both at once), each with room
 * for a whole frame. A slot is busy while its write is under way or its
 * answer awaited, and free once neither is, so a buffer always outlives
 * its uv_write. Waiting slots sit in a hash by key and in a list in the
 * order sent: every request has the same timeout, so that order is the
 * order of their deadlines, and one timer armed for the head serves them
 * all.
 */
#include "link.h"

#include <stdlib.h>
#include <string.h>

#include "channel_uv.h"
#include "core.h"
#include "sim.h"

#define NONE 0u          /* "no slot" in the index links (index + 1) */
#define OWN_SLOTS 2u     /* the link's sign-on and echo */

enum link_state {
	LINK_IDLE = 0,   /* not started, or waiting to reconnect */
	LINK_CONNECTING,
	LINK_SIGNING_ON,
	LINK_UP,
	LINK_DOWN,       /* the connection is closing */
};

typedef struct slot {
	uint32_t stan;
	char transmit[11];
	bool own;          /* the link's network management */
	bool writing;      /* uv_write until its callback */
	bool waiting;      /* in the hash and the list */
	void *cookie;
	uint64_t deadline_ms; /* loop time */
	uint32_t hash_next;   /* index + 1 */
	uint32_t prev, next;  /* the list in send order, index + 1 */
	size_t len;
	uv_write_t write;
} slot_t;

struct sim_link {
	chan_t ch;             /* first: chan_uv_alloc finds it */
	uv_loop_t *loop;
	uv_tcp_t tcp;
	uv_connect_t connect;
	uv_timer_t deadline_timer;
	uv_timer_t timer;      /* reconnect while down, echo while up */
	sim_link_cfg_t cfg;
	char name[SIM_LINK_NAME_MAX];
	char address[160];
	char institution[16];
	struct sockaddr_storage addr;

	uint8_t state;         /* enum link_state */
	bool started, tcp_open, stopping, tried, echo_waiting;
	bool broken;           /* a write failed: closing at the next timer */
	uint32_t handles_open; /* handles whose close callback is due */
	void (*done)(void *);
	void *done_arg;
	uint32_t backoff_ms;
	uint32_t stan_next;
	uint64_t traffic_ms;   /* loop time of the last answer */

	slot_t *slots;
	uint32_t slot_count;
	uint32_t *free_list;
	uint32_t free_top;
	uint32_t *buckets;     /* index + 1 of the first slot, by key */
	uint32_t bucket_mask;
	uint32_t head, tail;   /* the waiting list */
	uint32_t waiting_user; /* the caller's requests waiting */
	uint8_t *frames;       /* frame_cap bytes per slot */
	size_t frame_cap;
	uint8_t *read_storage;
	size_t read_cap;
	txn_t scratch;         /* a request the host should not have sent */
	sim_link_stats_t stats;
};

const char *sim_link_outcome_name(int outcome)
{
	return outcome == SIM_LINK_ANSWERED ? "answered"
	       : outcome == SIM_LINK_TIMEOUT ? "timeout"
					     : "lost";
}

void sim_link_cfg_init(sim_link_cfg_t *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->sign_on = true;
	cfg->inflight_max = 1024;
	cfg->timeout_ms = 5000;
	cfg->echo_ms = 30000;
	cfg->reconnect_min_ms = 100;
	cfg->reconnect_max_ms = 5000;
	cfg->stan_first = 1;
}

/* ---- slots, the hash and the list --------------------------------------- */

static uint32_t key_hash(const sim_link_t *l, uint32_t stan, const char *transmit)
{
	uint64_t h = stan * UINT64_C(0x9E3779B97F4A7C15);
	for (const char *p = transmit; *p != '\0'; p++)
		h = (h ^ (uint8_t)*p) * UINT64_C(0x100000001B3);
	return (uint32_t)(h >> 32) & l->bucket_mask;
}

static uint8_t *frame_of(sim_link_t *l, const slot_t *s)
{
	return l->frames + (size_t)(s - l->slots) * l->frame_cap;
}

static slot_t *slot_take(sim_link_t *l, bool own)
{
	/* The last OWN_SLOTS are kept for the link's own messages. */
	if (l->free_top <= (own ? 0 : OWN_SLOTS))
		return NULL;
	slot_t *s = &l->slots[l->free_list[--l->free_top]];
	memset(s, 0, offsetof(slot_t, write));
	s->own = own;
	return s;
}

static void slot_put_if_idle(sim_link_t *l, slot_t *s)
{
	if (s->writing || s->waiting)
		return;
	PS_ASSERT(l->free_top < l->slot_count);
	l->free_list[l->free_top++] = (uint32_t)(s - l->slots);
}

static slot_t *find(sim_link_t *l, uint32_t stan, const char *transmit)
{
	for (uint32_t i = l->buckets[key_hash(l, stan, transmit)]; i != NONE;
	     i = l->slots[i - 1].hash_next) {
		slot_t *s = &l->slots[i - 1];
		if (s->stan == stan && strcmp(s->transmit, transmit) == 0)
			return s;
	}
	return NULL;
}

static void on_deadline(uv_timer_t *t);

/* The one timer, for the earliest deadline: the head's. */
static void arm_deadline(sim_link_t *l)
{
	if (l->head == NONE) {
		uv_timer_stop(&l->deadline_timer);
		return;
	}
	uint64_t now = uv_now(l->loop), due = l->slots[l->head - 1].deadline_ms;
	uv_timer_start(&l->deadline_timer, on_deadline, due > now ? due - now : 0,
		       0);
}

static void wait_for(sim_link_t *l, slot_t *s)
{
	uint32_t idx = (uint32_t)(s - l->slots) + 1;
	uint32_t b = key_hash(l, s->stan, s->transmit);
	s->hash_next = l->buckets[b];
	l->buckets[b] = idx;
	s->deadline_ms = uv_now(l->loop) + l->cfg.timeout_ms;
	s->prev = l->tail;
	s->next = NONE;
	if (l->tail != NONE)
		l->slots[l->tail - 1].next = idx;
	else
		l->head = idx;
	l->tail = idx;
	s->waiting = true;
	if (!s->own)
		l->waiting_user++;
	if (l->head == idx)
		arm_deadline(l);
}

/* Out of the hash and the list; the slot is freed unless still writing. */
static void stop_waiting(sim_link_t *l, slot_t *s)
{
	PS_ASSERT(s->waiting);
	uint32_t idx = (uint32_t)(s - l->slots) + 1;
	bool was_head = l->head == idx;
	uint32_t *p = &l->buckets[key_hash(l, s->stan, s->transmit)];
	while (*p != idx)
		p = &l->slots[*p - 1].hash_next;
	*p = s->hash_next;
	if (s->prev != NONE)
		l->slots[s->prev - 1].next = s->next;
	else
		l->head = s->next;
	if (s->next != NONE)
		l->slots[s->next - 1].prev = s->prev;
	else
		l->tail = s->prev;
	s->waiting = false;
	if (!s->own)
		l->waiting_user--;
	if (was_head)
		arm_deadline(l);
}

/* ---- the connection ----------------------------------------------------------- */

static void connect_now(sim_link_t *l);
static void close_conn(sim_link_t *l, const char *why);

static void on_handle_closed(uv_handle_t *h)
{
	sim_link_t *l = h->data;
	PS_ASSERT(l->handles_open > 0);
	if (--l->handles_open == 0 && l->stopping && l->done != NULL) {
		void (*done)(void *) = l->done;
		l->done = NULL;
		done(l->done_arg);
	}
}

static void on_timer(uv_timer_t *t);

static void start_timer(sim_link_t *l, uint64_t ms, uint64_t repeat)
{
	if (!l->stopping)
		uv_timer_start(&l->timer, on_timer, ms, repeat);
}

static void on_tcp_closed(uv_handle_t *h)
{
	sim_link_t *l = h->data;
	l->tcp_open = false;
	if (!l->stopping) {
		l->state = LINK_IDLE;
		start_timer(l, l->backoff_ms, 0);
		uint32_t next = l->backoff_ms * 2;
		l->backoff_ms = PS_MIN(next, l->cfg.reconnect_max_ms);
	}
	on_handle_closed(h);
}

/* Every request waiting ends LOST: the host may have acted on it. */
static void lose_waiting(sim_link_t *l)
{
	while (l->head != NONE) {
		slot_t *s = &l->slots[l->head - 1];
		void *cookie = s->cookie;
		bool own = s->own;
		stop_waiting(l, s);
		slot_put_if_idle(l, s);
		if (!own) {
			l->stats.lost++;
			l->cfg.on_answer(l->cfg.ctx, cookie, SIM_LINK_LOST, NULL);
		}
	}
	l->echo_waiting = false;
}

static void close_conn(sim_link_t *l, const char *why)
{
	if (!l->tcp_open || l->state == LINK_DOWN)
		return;
	bool was_up = l->state == LINK_UP;
	/* A connect that failed was logged as such. */
	if (l->state != LINK_CONNECTING) {
		ps_log_t *lg = ps_log_begin(PS_LOG_WARN, "link_down");
		ps_log_str(lg, "link", l->name);
		ps_log_str(lg, "address", l->address);
		ps_log_str(lg, "reason", why);
		ps_log_uint(lg, "inflight", l->waiting_user);
		ps_log_end(lg);
	}
	l->state = LINK_DOWN;
	l->tried = true;
	uv_timer_stop(&l->timer);
	uv_read_stop((uv_stream_t *)&l->tcp);
	if (was_up && l->cfg.on_state != NULL)
		l->cfg.on_state(l->cfg.ctx, l, false);
	lose_waiting(l);
	uv_close((uv_handle_t *)&l->tcp, on_tcp_closed);
}

static void on_written(uv_write_t *w, int status)
{
	slot_t *s = w->data;
	sim_link_t *l = w->handle->data;
	s->writing = false;
	if (status == 0)
		l->stats.sent++;
	else if (status != UV_ECANCELED)
		close_conn(l, uv_strerror(status));
	slot_put_if_idle(l, s);
}

/* Writes a slot's frame and waits for its answer. */
static int transmit_slot(sim_link_t *l, slot_t *s)
{
	uv_buf_t buf = uv_buf_init((char *)frame_of(l, s), (unsigned)s->len);
	s->write.data = s;
	int rc = uv_write(&s->write, (uv_stream_t *)&l->tcp, &buf, 1, on_written);
	if (rc != 0) {
		slot_put_if_idle(l, s);
		/* Closed from the timer, not here: closing calls the others
		 * back LOST, and no callback runs inside sim_link_send. */
		l->broken = true;
		start_timer(l, 0, 0);
		return PS_ECLOSED;
	}
	s->writing = true;
	wait_for(l, s);
	return 0;
}

/* The link's own sign-on or echo. */
static void send_own(sim_link_t *l, int op)
{
	slot_t *s = slot_take(l, true);
	PS_ASSERT(s != NULL); /* two kept, never more than one in use */
	sim_link_next_key(l, &s->stan, s->transmit);
	int rc = chan_encode_network(&l->cfg.chan, op, s->stan, s->transmit,
				     l->institution, frame_of(l, s),
				     l->frame_cap, &s->len);
	if (rc != 0) {
		slot_put_if_idle(l, s);
		close_conn(l, "network management does not encode");
		return;
	}
	if (transmit_slot(l, s) == 0 && op == TXN_NET_ECHO)
		l->echo_waiting = true;
}

static void came_up(sim_link_t *l)
{
	l->state = LINK_UP;
	l->tried = true;
	l->backoff_ms = l->cfg.reconnect_min_ms;
	l->traffic_ms = uv_now(l->loop);
	l->stats.connects++;
	ps_log_t *lg = ps_log_begin(PS_LOG_INFO, "link_up");
	ps_log_str(lg, "link", l->name);
	ps_log_str(lg, "address", l->address);
	ps_log_end(lg);
	if (l->cfg.echo_ms > 0)
		start_timer(l, l->cfg.echo_ms, l->cfg.echo_ms);
	if (l->cfg.on_state != NULL)
		l->cfg.on_state(l->cfg.ctx, l, true);
}

/* An answer: to the link's own message, or to the caller's. */
static void take_answer(sim_link_t *l, const txn_response_t *resp)
{
	slot_t *s = find(l, resp->stan, resp->transmit);
	if (s == NULL) {
		l->stats.late++;
		ps_log_t *lg = ps_log_begin(PS_LOG_WARN, "late_answer");
		ps_log_str(lg, "link", l->name);
		ps_log_uint(lg, "stan", resp->stan);
		ps_log_str(lg, "transmit", resp->transmit);
		ps_log_end(lg);
		return;
	}
	l->traffic_ms = uv_now(l->loop);
	void *cookie = s->cookie;
	bool own = s->own;
	stop_waiting(l, s);
	slot_put_if_idle(l, s);
	if (!own) {
		l->stats.answered++;
		l->cfg.on_answer(l->cfg.ctx, cookie, SIM_LINK_ANSWERED, resp);
		return;
	}
	if (resp->net_op == TXN_NET_ECHO || l->state != LINK_SIGNING_ON) {
		l->echo_waiting = false;
		return;
	}
	if (resp->rc == TXN_RC_APPROVED)
		came_up(l);
	else
		close_conn(l, "sign-on declined");
}

static void take_frame(sim_link_t *l, const chan_frame_t *frame)
{
	txn_response_t resp;
	txn_error_t err;
	int what = 0;
	int rc = chan_decode(&l->cfg.chan, frame, &l->scratch, &resp, &what, &err);
	if (what == CHAN_MSG_RESPONSE && rc == 0) {
		take_answer(l, &resp);
		return;
	}
	ps_log_t *lg = ps_log_begin(PS_LOG_WARN, what == CHAN_MSG_RESPONSE
							 ? "bad_answer"
							 : "unexpected_request");
	ps_log_str(lg, "link", l->name);
	ps_log_str(lg, "field", err.field);
	ps_log_str(lg, "reason", rc != 0 ? err.reason : "a request; ignored");
	ps_log_end(lg);
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
	(void)buf;
	sim_link_t *l = stream->data;
	char why[256];
	int rc = chan_uv_read(&l->ch, nread, why, sizeof(why));
	if (rc < 0) {
		close_conn(l, why);
		return;
	}
	while (rc > 0 && l->state != LINK_DOWN) {
		chan_frame_t frame;
		rc = chan_next(&l->ch, &frame, why, sizeof(why));
		if (rc < 0)
			close_conn(l, why);
		else if (rc > 0)
			take_frame(l, &frame);
	}
}

static void on_connect(uv_connect_t *req, int status)
{
	sim_link_t *l = req->data;
	if (l->stopping || l->state != LINK_CONNECTING)
		return;
	if (status < 0) {
		ps_log_t *lg = ps_log_begin(PS_LOG_WARN, "link_connect_failed");
		ps_log_str(lg, "link", l->name);
		ps_log_str(lg, "address", l->address);
		ps_log_str(lg, "reason", uv_strerror(status));
		ps_log_uint(lg, "retry_ms", l->backoff_ms);
		ps_log_end(lg);
		close_conn(l, "connect failed");
		return;
	}
	uv_tcp_nodelay(&l->tcp, 1);
	chan_init(&l->ch, &l->cfg.chan, l->read_storage, l->read_cap);
	uv_read_start((uv_stream_t *)&l->tcp, chan_uv_alloc, on_read);
	if (!l->cfg.sign_on) {
		came_up(l);
		return;
	}
	l->state = LINK_SIGNING_ON;
	send_own(l, TXN_NET_SIGN_ON);
}

static void connect_now(sim_link_t *l)
{
	uv_tcp_init(l->loop, &l->tcp);
	l->tcp.data = l;
	l->tcp_open = true;
	l->handles_open++;
	l->state = LINK_CONNECTING;
	l->connect.data = l;
	int rc = uv_tcp_connect(&l->connect, &l->tcp,
				(const struct sockaddr *)&l->addr, on_connect);
	if (rc != 0)
		close_conn(l, uv_strerror(rc));
}

/* Down: time to reconnect. Up: an echo if nothing was heard for echo_ms. */
static void on_timer(uv_timer_t *t)
{
	sim_link_t *l = t->data;
	if (l->stopping)
		return;
	if (l->broken) {
		l->broken = false;
		close_conn(l, "a write failed");
		return;
	}
	if (l->state == LINK_IDLE) {
		connect_now(l);
		return;
	}
	if (l->state == LINK_UP && !l->echo_waiting &&
	    uv_now(l->loop) - l->traffic_ms >= l->cfg.echo_ms)
		send_own(l, TXN_NET_ECHO);
}

static void on_deadline(uv_timer_t *t)
{
	sim_link_t *l = t->data;
	uint64_t now = uv_now(l->loop);
	while (l->head != NONE && l->slots[l->head - 1].deadline_ms <= now) {
		slot_t *s = &l->slots[l->head - 1];
		if (s->own) {
			/* A host that does not answer its sign-on or echo is
			 * gone: start again. */
			close_conn(l, "sign-on or echo unanswered");
			return;
		}
		void *cookie = s->cookie;
		stop_waiting(l, s);
		slot_put_if_idle(l, s);
		l->stats.timeouts++;
		l->cfg.on_answer(l->cfg.ctx, cookie, SIM_LINK_TIMEOUT, NULL);
	}
	arm_deadline(l);
}

/* ---- the API ------------------------------------------------------------------ */

int sim_link_resolve(uv_loop_t *loop, const char *address,
		     struct sockaddr_storage *out, char *err, size_t err_cap)
{
	char host[128];
	uint16_t port = 0;
	if (sim_hostport_parse(address, host, sizeof(host), &port) != 0)
		return sim_fail(err, err_cap, PS_EINVAL, "address \"%s\" is no "
				"HOST:PORT", address);
	char service[8];
	snprintf(service, sizeof(service), "%u", port);
	struct addrinfo hints;
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	uv_getaddrinfo_t req;
	/* Without a callback libuv resolves at once: start-up may block. */
	int rc = uv_getaddrinfo(loop, &req, NULL, host, service, &hints);
	if (rc != 0)
		return sim_fail(err, err_cap, PS_EINVAL, "%s: %s", address,
				uv_strerror(rc));
	memcpy(out, req.addrinfo->ai_addr, req.addrinfo->ai_addrlen);
	uv_freeaddrinfo(req.addrinfo);
	return 0;
}

static int resolve(sim_link_t *l, char *err, size_t cap)
{
	char why[256];
	int rc = sim_link_resolve(l->loop, l->address, &l->addr, why, sizeof(why));
	return rc == 0 ? 0 : sim_fail(err, cap, rc, "%s: %s", l->name, why);
}

static int take_cfg(sim_link_t *l, const sim_link_cfg_t *cfg, char *err,
		    size_t cap)
{
	l->cfg = *cfg;
	const char *name = cfg->name != NULL ? cfg->name : "link";
	if (strlen(name) >= sizeof(l->name) || cfg->address == NULL ||
	    strlen(cfg->address) >= sizeof(l->address) ||
	    (cfg->institution != NULL &&
	     strlen(cfg->institution) >= sizeof(l->institution)))
		return sim_fail(err, cap, PS_EINVAL, "link %s: a name, address or "
				"institution too long", name);
	ps_strlcpy(l->name, name, sizeof(l->name));
	ps_strlcpy(l->address, cfg->address, sizeof(l->address));
	ps_strlcpy(l->institution, cfg->institution ? cfg->institution : "",
		   sizeof(l->institution));
	l->cfg.name = l->name;
	l->cfg.address = l->address;
	l->cfg.institution = l->institution;
	if (cfg->on_answer == NULL || cfg->inflight_max < 1 ||
	    cfg->inflight_max > SIM_LINK_INFLIGHT_MAX || cfg->timeout_ms < 1 ||
	    cfg->reconnect_min_ms < 1 ||
	    cfg->reconnect_max_ms < cfg->reconnect_min_ms ||
	    cfg->stan_first < 1 || cfg->stan_first > 999999 ||
	    cfg->chan.frame_bytes_max < 1 ||
	    (cfg->chan.kind == CHAN_ISO8583 && cfg->chan.dialect == NULL))
		return sim_fail(err, cap, PS_EINVAL, "link %s: a bound out of "
				"range, or no answer callback", name);
	return 0;
}

static int setup_slots(sim_link_t *l, char *err, size_t cap)
{
	l->slot_count = l->cfg.inflight_max + OWN_SLOTS;
	uint32_t buckets = 1;
	while (buckets < 2 * l->slot_count)
		buckets <<= 1;
	l->bucket_mask = buckets - 1;
	/* A whole frame: its length header (4 bytes at most) and body. */
	l->frame_cap = l->cfg.chan.kind == CHAN_ISO8583
			       ? (size_t)l->cfg.chan.frame_bytes_max + 4
			       : TXN_JSON_LINE_MAX;
	l->read_cap = chan_storage_bytes(&l->cfg.chan);
	l->slots = calloc(l->slot_count, sizeof(*l->slots));
	l->free_list = calloc(l->slot_count, sizeof(*l->free_list));
	l->buckets = calloc(buckets, sizeof(*l->buckets));
	l->frames = calloc(l->slot_count, l->frame_cap);
	l->read_storage = calloc(1, l->read_cap);
	if (l->slots == NULL || l->free_list == NULL || l->buckets == NULL ||
	    l->frames == NULL || l->read_storage == NULL)
		return sim_fail(err, cap, PS_ENOMEM, "link %s: no memory for %u "
				"requests in flight", l->name, l->cfg.inflight_max);
	for (uint32_t i = 0; i < l->slot_count; i++)
		l->free_list[i] = l->slot_count - 1 - i;
	l->free_top = l->slot_count;
	return 0;
}

int sim_link_create(uv_loop_t *loop, const sim_link_cfg_t *cfg,
		    sim_link_t **out, char *err, size_t err_cap)
{
	*out = NULL;
	sim_link_t *l = calloc(1, sizeof(*l));
	if (l == NULL)
		return sim_fail(err, err_cap, PS_ENOMEM, "out of memory");
	l->loop = loop;
	int rc;
	if ((rc = take_cfg(l, cfg, err, err_cap)) ||
	    (rc = setup_slots(l, err, err_cap)) ||
	    (rc = resolve(l, err, err_cap))) {
		sim_link_destroy(l);
		return rc;
	}
	l->stan_next = cfg->stan_first;
	l->backoff_ms = cfg->reconnect_min_ms;
	*out = l;
	return 0;
}

void sim_link_start(sim_link_t *l)
{
	PS_ASSERT(!l->started && !l->stopping);
	l->started = true;
	uv_timer_init(l->loop, &l->timer);
	uv_timer_init(l->loop, &l->deadline_timer);
	l->timer.data = l->deadline_timer.data = l;
	l->handles_open += 2;
	connect_now(l);
}

bool sim_link_is_up(const sim_link_t *l)
{
	return l->state == LINK_UP && !l->broken;
}

bool sim_link_tried(const sim_link_t *l)
{
	return l->tried;
}

const char *sim_link_name(const sim_link_t *l)
{
	return l->name;
}

uint32_t sim_link_inflight(const sim_link_t *l)
{
	return l->waiting_user;
}

const sim_link_stats_t *sim_link_stats(const sim_link_t *l)
{
	return &l->stats;
}

void sim_link_next_key(sim_link_t *l, uint32_t *stan, char transmit[11])
{
	*stan = l->stan_next;
	l->stan_next = l->stan_next >= 999999 ? 1 : l->stan_next + 1;
	txn_format_transmit(ps_wall_ms(), transmit);
}

int sim_link_send(sim_link_t *l, uint32_t stan, const char *transmit,
		  const uint8_t *frame, size_t len, void *cookie)
{
	if (l->state != LINK_UP || l->broken)
		return PS_ECLOSED;
	if (len == 0 || len > l->frame_cap || strlen(transmit) >= 11)
		return PS_EINVAL;
	if (find(l, stan, transmit) != NULL)
		return PS_EEXIST;
	slot_t *s = slot_take(l, false);
	if (s == NULL || l->waiting_user >= l->cfg.inflight_max) {
		if (s != NULL)
			slot_put_if_idle(l, s);
		return PS_ELIMIT;
	}
	s->stan = stan;
	ps_strlcpy(s->transmit, transmit, sizeof(s->transmit));
	s->cookie = cookie;
	s->len = len;
	memcpy(frame_of(l, s), frame, len);
	return transmit_slot(l, s);
}

static void close_handle(sim_link_t *l, uv_handle_t *h)
{
	if (!uv_is_closing(h))
		uv_close(h, on_handle_closed);
	else
		PS_ASSERT(h == (uv_handle_t *)&l->tcp);
}

void sim_link_close(sim_link_t *l, void (*done)(void *arg), void *arg)
{
	PS_ASSERT(!l->stopping);
	l->stopping = true;
	l->done = done;
	l->done_arg = arg;
	if (!l->started) {
		if (done != NULL)
			done(arg);
		l->done = NULL;
		return;
	}
	if (l->tcp_open && l->state != LINK_DOWN) {
		bool was_up = l->state == LINK_UP;
		l->state = LINK_DOWN;
		uv_read_stop((uv_stream_t *)&l->tcp);
		if (was_up && l->cfg.on_state != NULL)
			l->cfg.on_state(l->cfg.ctx, l, false);
		lose_waiting(l);
		uv_close((uv_handle_t *)&l->tcp, on_tcp_closed);
	}
	close_handle(l, (uv_handle_t *)&l->timer);
	close_handle(l, (uv_handle_t *)&l->deadline_timer);
}

void sim_link_destroy(sim_link_t *l)
{
	if (l == NULL)
		return;
	PS_ASSERT(!l->started || (l->stopping && l->handles_open == 0));
	free(l->slots);
	free(l->free_list);
	free(l->buckets);
	free(l->frames);
	free(l->read_storage);
	free(l);
}
