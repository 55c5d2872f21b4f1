/*
 * net.h: the switch's network layer: listeners and the connections they
 * accept (PSPs, acquirers), endpoints and their outbound links (banks,
 * networks), the write buffers, and the writes themselves.
 *
 * Inbound bytes are framed and decoded here; a decoded request goes to
 * handlers.request, a response to one of the switch's legs to
 * handlers.response. The layer never decides anything about money: it
 * answers on its own only what needs no state (a message that cannot be
 * decoded gets its format-error answer at once; a peer's 0800 its 0810),
 * and it keeps each link healthy by itself (sign-on, echo tests,
 * reconnect with backoff).
 *
 * What the switch sends is encoded here too (sw_conn_answer,
 * sw_endpoint_encode_leg), into buffers from bounded pools, and written
 * by the outbox after the turn's commit (outbox.h), so nothing here
 * depends on the store.
 *
 * Lifetimes: a connection's memory belongs to its listener's pool and
 * returns there in the close callback of its last handle. Transactions
 * refer to their origin connection by pointer plus generation; the
 * generation changes on every reuse, so an answer for a closed connection
 * is dropped instead of reaching a stranger. A listener retired by a
 * reload stays allocated until its last connection and its last
 * transaction are gone; a retired endpoint until the server is destroyed.
 */
#ifndef PAYSWITCH_SW_NET_H
#define PAYSWITCH_SW_NET_H

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "adapters.h"
#include "channel.h"
#include "ctx.h"
#include "iso8583.h"

/* Every message the switch encodes comes from a txn_t whose fields are
 * bounded, so it fits here with room to spare. */
#define SW_WBUF_BYTES 2048
/* The messages of one turn to one socket go out in one writev. */
#define SW_WBATCH_MAX 32

typedef struct sw_net sw_net_t;
typedef struct sw_conn sw_conn_t;
typedef struct sw_listener sw_listener_t;
typedef struct sw_endpoint sw_endpoint_t;
typedef struct sw_link sw_link_t;

/* ---- buffers -------------------------------------------------------------- */

/*
 * Three kinds of buffer, from three pools, so that no peer can take
 * another's:
 *
 *   SW_WBUF_MESSAGE  a leg, a reversal or network management to an
 *                    endpoint: the layer's message pool
 *   SW_WBUF_ANSWER   the final answer to a request in flight: taken from
 *                    the answer pool (limits.inflight_max of them) when
 *                    the request is admitted, so it always has one
 *   SW_WBUF_INTAKE   an answer decided at intake (a refusal, a duplicate's
 *                    answer, a query's, an echo): from the connection's
 *                    listener, queued_answers_max per connection
 *
 * A request is in flight until its answer is written (or dropped): its
 * answer buffer counts against inflight_per_conn_max and inflight_max
 * until then, so a peer that does not read its answers stops being able
 * to start new requests instead of filling memory.
 */
enum sw_wbuf_kind { SW_WBUF_MESSAGE = 0, SW_WBUF_ANSWER, SW_WBUF_INTAKE };

/*
 * One message on its way out: encoded once, held in the outbox until the
 * batch that justifies it is committed, then written as part of a write
 * batch, and returned to its pool in that batch's write callback (libuv
 * owns it until then). Its target is a connection (with its generation),
 * an endpoint (any link that is up), or one particular link.
 */
typedef struct sw_wbuf {
	struct sw_wbuf *next;      /* the outbox's chain */
	ps_pool_t *pool;           /* where it goes back */
	uint8_t kind;              /* enum sw_wbuf_kind */
	sw_conn_t *conn;
	uint32_t conn_gen;
	uint64_t txn_id;           /* SW_WBUF_ANSWER: whose answer */
	sw_endpoint_t *endpoint;
	sw_link_t *link;
	size_t len;
	uint8_t data[SW_WBUF_BYTES];
} sw_wbuf_t;

/* One write to one socket. */
typedef struct sw_wbatch {
	uv_write_t req;
	sw_net_t *net;
	sw_conn_t *conn;           /* the target: a connection ... */
	sw_link_t *link;           /* ... or a link */
	uint32_t count;
	sw_wbuf_t *wb[SW_WBATCH_MAX];
	uv_buf_t buf[SW_WBATCH_MAX];
} sw_wbatch_t;

/* A message buffer (SW_WBUF_MESSAGE), or NULL when the pool is
 * exhausted. */
sw_wbuf_t *sw_wbuf_get(sw_net_t *net);
/* Back to its pool. An answer that was not written (delivered false: its
 * connection closed first) is counted, and a transaction's answer is
 * reported to handlers.answer_lost. */
void sw_wbuf_release(sw_net_t *net, sw_wbuf_t *wb, bool delivered);
/* sw_wbuf_release(net, wb, false): never written. */
void sw_wbuf_put(sw_net_t *net, sw_wbuf_t *wb);
sw_wbatch_t *sw_wbatch_get(sw_net_t *net);
void sw_wbatch_add(sw_wbatch_t *b, sw_wbuf_t *wb);
/* Returns the batch and every message in it to their pools. */
void sw_wbatch_free(sw_net_t *net, sw_wbatch_t *b, bool delivered);

/* ---- listeners and connections -------------------------------------------- */

struct sw_listener {
	sw_net_t *net;
	sw_listener_cfg_t cfg;       /* cfg.channel.chan.dialect: dialect */
	iso8583_dialect_t dialect;   /* own copy: outlives config reloads */
	uv_tcp_t tcp;
	sw_conn_t *live;             /* connections not yet closed */
	uint32_t refs;               /* buffers addressed to its connections */
	ps_pool_t conns;             /* sw_conn_t + read buffer each */
	ps_pool_t intake;            /* SW_WBUF_INTAKE: queued_answers_max
					per connection */
	size_t conn_bytes;
	uint32_t conn_count;
	uint16_t bound_port;
	bool listening;
	bool retired;                /* removed or replaced by a reload */
	bool closed;                 /* tcp handle closed */
	uint64_t accepted, refused;
};

/*
 * A connection is read until one of its bounds is reached, and then not
 * read (TCP tells the peer) until its answers have been written:
 * inflight_per_conn_max requests in flight (past it a request is answered
 * 91), queued_answers_max answers decided at intake waiting to be
 * written. Its timer closes it for cause: a frame begun and not finished
 * within frame_timeout_ms, writes that make no progress for
 * write_timeout_ms (a peer that does not read), no whole message for
 * idle_timeout_ms. A peer that half-closes is answered what it sent
 * before the connection closes.
 */
struct sw_conn {
	chan_t ch;               /* first: chan_uv_alloc finds it; over rbuf */
	sw_listener_t *listener;
	sw_conn_t *prev, *next;  /* the listener's live list */
	uv_tcp_t tcp;
	uv_timer_t timer;        /* the deadlines above */
	uint8_t handles_open;
	bool timer_open;
	uint32_t gen;
	uint32_t inflight;       /* admitted, answer not yet written */
	uint32_t intake_held;    /* SW_WBUF_INTAKE buffers held */
	uint32_t writes_pending;
	uint64_t last_rx_ms;     /* the last whole message */
	uint64_t frame_start_ms; /* a frame begun and not whole; 0: none */
	uint64_t write_wait_ms;  /* writes queued, none done since; 0: none */
	bool reading;
	bool paused;             /* at a bound: read again once written */
	bool eof;                /* the peer half-closed */
	bool closing;
	bool signed_on;          /* a hello was accepted (flow.c) */
	uint8_t peer_ip[16];     /* for connections_per_peer_max */
	char peer[64];
	uint8_t rbuf[];          /* chan_storage_bytes() */
};

bool sw_conn_alive(const sw_conn_t *conn, uint32_t gen);
/* The listener a connection belongs to (its name, participant, bounds). */
const sw_listener_cfg_t *sw_conn_cfg(const sw_conn_t *conn);
/*
 * Admits a request of conn: the buffer its final answer will be written
 * from, addressed to conn; the request is in flight until that buffer is
 * written or dropped. NULL when conn is at inflight_per_conn_max or the
 * switch at inflight_max (the answer pool is empty): answer 91.
 */
sw_wbuf_t *sw_conn_admit(sw_net_t *net, sw_conn_t *conn);
/*
 * Encodes the final answer to t into wb (from sw_conn_admit) and counts
 * it by code. NULL when wb's connection is gone or the encoding failed
 * (logged): wb is then released, its answer lost.
 */
sw_wbuf_t *sw_conn_answer_final(sw_net_t *net, sw_wbuf_t *wb, const txn_t *t);
/*
 * An answer decided at intake (target: what a query asks about, may be
 * NULL), in a buffer of conn's listener, counted by code. NULL when conn
 * is gone or the encoding failed (logged).
 */
sw_wbuf_t *sw_conn_answer(sw_net_t *net, sw_conn_t *conn, const txn_t *t,
			  const txn_t *target);
/* The error answer to a request that cannot be taken (err's code and
 * reason); NULL as sw_conn_answer(). */
sw_wbuf_t *sw_conn_answer_error(sw_net_t *net, sw_conn_t *conn,
				const txn_t *req, const txn_error_t *err);
/* Writes a batch of answers; on failure the caller still owns it. */
int sw_conn_write(sw_conn_t *conn, uint32_t gen, sw_wbatch_t *b);
/* Closes conn (why is logged); a cause other than SW_CLOSE_NONE (enum
 * sw_close_cause) is counted. */
void sw_conn_close(sw_conn_t *conn, const char *why, int cause);

/* ---- endpoints and links ---------------------------------------------------- */

enum sw_link_state {
	SW_LINK_DOWN = 0,     /* waiting to reconnect */
	SW_LINK_CONNECTING,
	SW_LINK_SIGNING_ON,   /* sign-on sent */
	SW_LINK_UP,
	SW_LINK_CLOSING,
};

struct sw_link {
	chan_t ch;               /* first: chan_uv_alloc finds it; over rbuf */
	sw_endpoint_t *endpoint;
	uint32_t index;
	uv_tcp_t tcp;
	uv_connect_t connect_req;
	uv_timer_t timer;        /* reconnect backoff, then echo */
	uint8_t state;
	bool tcp_open;
	bool timer_open;
	uint32_t backoff_ms;
	uint64_t last_rx_ms;
	uint64_t last_tx_ms;
	uint32_t echo_misses;
	bool echo_pending;
	uint32_t echo_stan;
	uint64_t echo_sent_ms;
	uint32_t signon_stan;
	uint32_t writes_pending;
	uint32_t queued;         /* messages written, not yet done */
	uint8_t *rbuf;
	size_t rbuf_bytes;
	bool held;               /* a response waits in held_frame */
	chan_frame_t held_frame;
};

struct sw_endpoint {
	sw_net_t *net;
	sw_endpoint_cfg_t cfg;       /* cfg.channel.chan.dialect: dialect */
	iso8583_dialect_t dialect;   /* own copy: outlives config reloads */
	sw_link_t link[SW_LINKS_MAX];
	uint32_t rr;
	uint32_t inflight;           /* legs awaiting a response */
	bool recon_pending;          /* a bank asked for its totals ... */
	uint32_t recon_stan;         /* ... keyed so */
	bool cutover_pending;        /* a network asked to cut over ... */
	uint32_t cutover_stan;       /* ... keyed so */
	uint64_t cutover_window;     /* ... for this window */
	bool retired;
	uint64_t sent, received, timeouts, late, ups, downs;
};

/* The live endpoint of that name, or NULL. */
sw_endpoint_t *sw_net_endpoint(sw_net_t *net, const char *name);
bool sw_endpoint_up(const sw_endpoint_t *ep);
/* Up, and under its inflight_max: a leg may go there now. */
bool sw_endpoint_available(const sw_endpoint_t *ep);
uint32_t sw_endpoint_links_up(const sw_endpoint_t *ep);
const char *sw_link_state_name(int state);
/* Leg i of t encoded for ep, addressed to the endpoint; NULL when no
 * buffer is free (PS_ELIMIT in *rc) or it cannot be encoded (PS_EFORMAT,
 * logged). */
sw_wbuf_t *sw_endpoint_encode_leg(sw_net_t *net, sw_endpoint_t *ep,
				  const txn_t *t, unsigned leg, int *rc);
/* The next link that is up, round-robin; NULL when none is. */
sw_link_t *sw_endpoint_pick(sw_endpoint_t *ep);
/* Writes a batch of messages; on failure the caller still owns it. */
int sw_link_write(sw_link_t *link, sw_wbatch_t *b);
/* Asks a network endpoint to cut over (ISO 8583 0800 with field 70 =
 * 201, or a NetClear cutover), on behalf of window; its answer reaches
 * handlers.network_closed. PS_ECLOSED when no link is up. */
int sw_endpoint_cutover(sw_endpoint_t *ep, uint64_t window);
/* Asks a bank for its totals of one settlement date (0500, MMDD); the
 * 0510 reaches handlers.recon_answer. PS_ECLOSED when no link is up,
 * TXN_EINVALID when its channel carries no totals. */
int sw_endpoint_recon(sw_endpoint_t *ep, const char *settle_date);

/* ---- the layer ---------------------------------------------------------------- */

/* A handler's answer: come back with this message later. The link stops
 * reading and keeps the message (its bytes stay in the framer) until
 * sw_net_resume(). */
#define SW_NET_HOLD 1

typedef struct sw_net_handlers {
	void *data;
	/* A decoded request from conn; req is scratch, valid for the call. */
	void (*request)(void *data, sw_conn_t *conn, txn_t *req);
	/* A response from ep to a leg (network management is kept here):
	 * 0 taken, or SW_NET_HOLD. */
	int (*response)(void *data, sw_endpoint_t *ep,
			const txn_response_t *resp);
	/* A network endpoint closed a clearing period: its answer to our
	 * cutover request (window: the window that asked), or its own
	 * announcement (window 0). */
	void (*network_closed)(void *data, sw_endpoint_t *ep,
			       const char *period, uint64_t window);
	/* A bank's answer to our 0500 (sw_endpoint_recon). */
	void (*recon_answer)(void *data, sw_endpoint_t *ep,
			     const txn_response_t *resp);
	/* The final answer of transaction txn_id was not written: its
	 * connection closed first. Called from a write callback or a flush:
	 * note it, act on it at the end of the turn. */
	void (*answer_lost)(void *data, uint64_t txn_id);
	/* A connection, listener or link finished closing (a drain may be
	 * over). */
	void (*closed)(void *data);
	void *closed_data;
} sw_net_handlers_t;

struct sw_net {
	sw_ctx_t *ctx;
	sw_net_handlers_t handlers;
	ps_pool_t wbufs;             /* SW_WBUF_MESSAGE */
	ps_pool_t answers;           /* SW_WBUF_ANSWER: limits.inflight_max */
	ps_pool_t wbatches;
	sw_listener_t *listener[SW_LISTENERS_MAX * 2]; /* live and retired */
	uint32_t listener_count;
	sw_endpoint_t *endpoint[SW_ENDPOINTS_MAX * 2];
	uint32_t endpoint_count;
	uint32_t conn_total;
	uint32_t conn_gen_seq;
	/* Network management's own numbers (sign-on, echo STANs). */
	uint64_t (*next_seq)(void *data);
	void *seq_data;
};

/* Pools sized for `messages` messages to endpoints and `answers`
 * requests in flight; no handle opened yet. */
int sw_net_init(sw_net_t *net, sw_ctx_t *ctx, const sw_net_handlers_t *h,
		uint32_t messages, uint32_t answers);
/* Connects every endpoint and opens every listener of ctx->cfg. */
int sw_net_start(sw_net_t *net, char *err, size_t err_cap);
/* Checks that next can be applied without a restart (sizes, slots). */
int sw_net_check_reload(const sw_net_t *net, const sw_config_t *next,
			char *err, size_t err_cap);
/* Applies next's listeners and endpoints; live connections stay. */
int sw_net_reload(sw_net_t *net, const sw_config_t *next, char *err,
		  size_t err_cap);
/* Delivers the messages links hold (SW_NET_HOLD) and reads on. */
void sw_net_resume(sw_net_t *net);
/* Drain: stop accepting; close the connections with nothing in flight. */
void sw_net_stop_accepting(sw_net_t *net);
void sw_net_close_idle(sw_net_t *net);
/*
 * Closes every connection; without force, those still writing their last
 * answers are left to close in their write callback. Returns how many
 * were left open.
 */
uint32_t sw_net_close_conns(sw_net_t *net, bool force);
/* Closes every link for good (stopping). */
void sw_net_close_endpoints(sw_net_t *net);
/* Frees everything; every handle must have closed (the loop ran). */
void sw_net_free(sw_net_t *net);

#endif /* PAYSWITCH_SW_NET_H */
