/*
 * link.h: a simulator's client link to one host (netsim to each member
 * bank): the client side of what server.h is the server side of.
 *
 * One TCP connection, spoken through a channel (channel.h: ISO 8583 in
 * any dialect and framing, JSON lines, NetClear): connect, sign on
 * (0800/001 or a JSON hello; the link is up once it is answered 00), an
 * echo (0800/301) after echo_ms without traffic, and on any failure
 * (connect refused, sign-on declined, an echo unanswered, the peer
 * closing, a broken frame) close and connect again after a backoff that
 * doubles from reconnect_min_ms to reconnect_max_ms, back to the minimum
 * once signed on.
 *
 * Requests in flight are bounded (inflight_max, allocated at create, each
 * slot holding its frame until written) and matched to their answers by
 * the key every channel carries back, (STAN, field 7). Every request
 * sim_link_send accepted is called back exactly once, never from inside
 * sim_link_send:
 *
 *   SIM_LINK_ANSWERED  with the decoded answer (txn_response_t)
 *   SIM_LINK_TIMEOUT   no answer within timeout_ms; an answer coming later
 *                      matches nothing and is logged late_answer
 *   SIM_LINK_LOST      the connection went down (or the link was closed)
 *                      while it waited: the host may or may not have acted
 *
 * so the caller knows when an outcome is unknown (TIMEOUT, LOST: reverse)
 * and when the host never saw it (sim_link_send's error: nothing to undo).
 *
 *   sim_link_cfg_t c;
 *   sim_link_cfg_init(&c);
 *   c.name = "bank_b"; c.address = "127.0.0.1:7302"; c.chan = chan;
 *   c.on_answer = on_answer; c.ctx = me;
 *   sim_link_create(loop, &c, &link, err, sizeof(err));
 *   sim_link_start(link);
 *   ...
 *   sim_link_next_key(link, &stan, transmit);
 *   chan_encode_leg(&chan, &t, 0, buf, sizeof(buf), &len);  // with that key
 *   sim_link_send(link, stan, transmit, buf, len, cookie);
 *   ...
 *   sim_link_close(link, on_closed, me);  // then sim_link_destroy
 *
 * Logs (component: the process's): link_up, link_down (reason),
 * link_connect_failed, late_answer, unexpected_request, bad_answer.
 *
 * Ownership: the link owns its handles, slots and buffers; cfg is copied
 * (its strings too), cfg->chan's dialect is borrowed and must outlive the
 * link. A cookie is the caller's, passed back untouched. Single-threaded,
 * on the loop given to create; nothing is allocated after create.
 */
#ifndef PAYSWITCH_SIM_LINK_H
#define PAYSWITCH_SIM_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "adapters.h"
#include "channel.h"

#define SIM_LINK_INFLIGHT_MAX 65536u
#define SIM_LINK_NAME_MAX 32

typedef struct sim_link sim_link_t;

enum sim_link_outcome {
	SIM_LINK_ANSWERED = 0,
	SIM_LINK_TIMEOUT,
	SIM_LINK_LOST,
};

/* "answered", "timeout", "lost". */
const char *sim_link_outcome_name(int outcome);

/* One request's end. resp is the answer for SIM_LINK_ANSWERED, NULL
 * otherwise; borrowed for the call. The callback may send again (on this
 * link or another) and may close links. */
typedef void (*sim_link_answer_fn)(void *ctx, void *cookie, int outcome,
				   const txn_response_t *resp);
/* The link came up (signed on) or went down. */
typedef void (*sim_link_state_fn)(void *ctx, sim_link_t *link, bool up);

typedef struct sim_link_cfg {
	const char *name;          /* in logs; at most SIM_LINK_NAME_MAX - 1 */
	const char *address;       /* HOST:PORT (a name is resolved once, at
				      create) */
	chan_cfg_t chan;           /* how the host speaks */
	const char *institution;   /* who we are: field 33 of our network
				      management (and JSON hello's id) */
	bool sign_on;              /* sign on when connected (default true);
				      without it the link is up on connect */
	uint32_t inflight_max;     /* 1..SIM_LINK_INFLIGHT_MAX (default 1024) */
	uint32_t timeout_ms;       /* per request, 1.. (default 5000) */
	uint32_t echo_ms;          /* idle time before an echo; 0 none
				      (default 30000) */
	uint32_t reconnect_min_ms; /* default 100 */
	uint32_t reconnect_max_ms; /* default 5000 */
	uint32_t stan_first;       /* the first STAN, 1..999999 (default 1);
				      a process that restarts may move it on
				      so that keys of before are not reused */
	sim_link_answer_fn on_answer; /* required */
	sim_link_state_fn on_state;   /* optional */
	void *ctx;
} sim_link_cfg_t;

typedef struct sim_link_stats {
	uint64_t sent;          /* requests written (ours included) */
	uint64_t answered;
	uint64_t timeouts;
	uint64_t lost;
	uint64_t late;          /* answers that matched nothing */
	uint64_t connects;      /* times it came up */
} sim_link_stats_t;

void sim_link_cfg_init(sim_link_cfg_t *cfg);

/*
 * Builds the link on loop (not connected yet: sim_link_start). On failure
 * err says why and *out is NULL. PS_EINVAL (a bound out of range, an
 * address that is no HOST:PORT or does not resolve, no on_answer),
 * PS_ENOMEM.
 */
int sim_link_create(uv_loop_t *loop, const sim_link_cfg_t *cfg,
		    sim_link_t **out, char *err, size_t err_cap);
/* Connects (and keeps connecting, with the backoff, until closed). */
void sim_link_start(sim_link_t *link);
/* Signed on, and sending? */
bool sim_link_is_up(const sim_link_t *link);
/* Has it been up, or failed to come up, at least once since start? */
bool sim_link_tried(const sim_link_t *link);
const char *sim_link_name(const sim_link_t *link);
/* Requests waiting for their answers. */
uint32_t sim_link_inflight(const sim_link_t *link);
const sim_link_stats_t *sim_link_stats(const sim_link_t *link);

/* The key of a new request: the next STAN (1..999999, wrapping) and the
 * transmission time, field 7, now (MMDDhhmmss UTC). */
void sim_link_next_key(sim_link_t *link, uint32_t *stan, char transmit[11]);

/*
 * Sends a whole frame (as chan_encode_* wrote it for cfg.chan) whose
 * answer will carry the key (stan, transmit); cookie comes back with its
 * outcome. Returns 0, or, with nothing sent and no callback to come:
 *   PS_ECLOSED  the link is not up
 *   PS_ELIMIT   inflight_max requests are waiting already
 *   PS_EEXIST   a request with this key is waiting
 *   PS_EINVAL   len is 0 or over the channel's frame bound
 */
int sim_link_send(sim_link_t *link, uint32_t stan, const char *transmit,
		  const uint8_t *frame, size_t len, void *cookie);

/*
 * Closes for good: every request waiting is called back SIM_LINK_LOST
 * (now, in this call), the handles close, and done(arg) runs once they
 * have (done may be NULL). No callback of the link runs after done.
 */
void sim_link_close(sim_link_t *link, void (*done)(void *arg), void *arg);
/* Frees a link that is closed (done ran), or was never started. NULL is
 * fine. */
void sim_link_destroy(sim_link_t *link);

/* Resolves "HOST:PORT" (a name too, at once and blocking: for start-up)
 * into out, as sim_link_create does: for a simulator's other clients.
 * PS_EINVAL with err saying why. */
int sim_link_resolve(uv_loop_t *loop, const char *address,
		     struct sockaddr_storage *out, char *err, size_t err_cap);

#endif /* PAYSWITCH_SIM_LINK_H */
