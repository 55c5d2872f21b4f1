/*
 * server_int.h: what the server loop's files share (server.c, srv_conn.c,
 * srv_turn.c, srv_answer.c); nothing outside them includes it.
 *
 *   server.c      start-up, the loop's handles, ticks, the drain, the end
 *   srv_conn.c    accepting within bounds, reading, framing, decoding,
 *                 backpressure
 *   srv_turn.c    the queue of decoded requests and the turn
 *   srv_answer.c  encoding, the fate, the heap of held answers, writing,
 *                 giving records back
 */
#ifndef PAYSWITCH_SIM_SERVER_INT_H
#define PAYSWITCH_SIM_SERVER_INT_H

#include "core.h"
#include "server.h"

/* Where a record is: asserted at every hand-over, so that a record given
 * back twice, or answered while the loop still has it, stops the process
 * instead of corrupting the pool. */
enum srv_rec_state {
	SRV_REC_FREE = 0, /* in the pool (ps_pool_get zeroes it to this) */
	SRV_REC_READ,     /* being decoded */
	SRV_REC_QUEUED,   /* waiting for the turn */
	SRV_REC_TURN,     /* in the turn's hands */
	SRV_REC_KEPT,     /* the simulator's (SIM_KEEP) */
	SRV_REC_HELD,     /* on the heap, waiting for its delay */
	SRV_REC_WRITING,  /* uv_write until its callback */
};

typedef struct srv_conn srv_conn_t;

/* One request's record: the public part first, so that a sim_req_t * is
 * a srv_rec_t *; the work area follows at SRV_WORK_OFFSET. The encoded
 * answer lives in the server's answer slab, at the record's pool index,
 * so a new record needs no zeroing of answer bytes. */
typedef struct srv_rec {
	sim_req_t req;
	srv_conn_t *conn;
	uint32_t conn_gen;
	uint8_t state;          /* enum srv_rec_state */
	struct srv_rec *next;   /* the queue */
	uint32_t heap_index;    /* place on the heap while held */
	uint64_t due_ms;        /* loop time the held answer leaves */
	size_t answer_len;
	uv_write_t write;
} srv_rec_t;

#define SRV_WORK_OFFSET ((sizeof(srv_rec_t) + 15u) & ~(size_t)15u)

struct srv_conn {
	chan_t ch;             /* first: chan_uv_alloc finds it; framing over
				  the connection's slice of the framer slab */
	uv_tcp_t tcp;
	sim_server_t *srv;
	uint32_t gen;          /* 0 once closed: stale references never match */
	uint32_t inflight;     /* its records not yet given back */
	uint32_t unasked;      /* frames sim_server_send wrote on it whose
				  answers (an 0830 to an 0820) are due */
	bool closing;
	bool reading;
	bool paused;           /* at a bound: resumed by the turn */
	srv_conn_t *prev, *next; /* live connections */
	char peer[64];
};

struct sim_server {
	uv_loop_t loop;
	uv_tcp_t listener;
	uv_signal_t sigterm;
	uv_signal_t sigint;
	uv_check_t turn_check;
	uv_idle_t turn_idle;     /* keeps poll from blocking while requests wait */
	uv_timer_t hold_timer;   /* the earliest held answer */
	uv_timer_t tick_timer;
	uv_timer_t drain_timer;
	uv_tcp_t spare;          /* accepts, then closes, one conn too many */

	sim_server_cfg_t cfg;    /* a copy; its strings point at ours: */
	char name[SIM_SERVER_NAME_MAX];
	char listen[SIM_SERVER_LISTEN_MAX];
	char ready_file[SIM_SERVER_PATH_MAX];

	ps_pool_t conns;
	uint8_t *framer_slab;    /* framer storage, one slice per conn slot */
	size_t framer_bytes;
	uint32_t conn_gen_next;
	srv_conn_t *live;
	uint32_t conn_count;
	uint32_t paused_count;

	ps_pool_t recs;
	uint8_t *answer_slab;    /* answer_bytes_max per record slot */
	srv_rec_t *queue_head, *queue_tail;
	sim_req_t **turn_reqs;   /* the turn's list, inflight_max long */
	srv_rec_t **heap;        /* held answers, earliest due first */
	uint32_t heap_count;
	uint32_t writes_pending;
	uint32_t kept;           /* records the simulator holds */

	uint16_t port;           /* bound */
	bool running;
	bool draining;
	bool finishing;
	bool drain_timed_out;
	bool handles_started;
	bool listener_open;
	bool spare_busy;
	bool accept_pending;     /* a connection waits for the spare */
	sim_server_stats_t stats;
};

/* server.c */
/* Requests wait: the loop must not block in poll (the idle handle runs).
 * srv_rest: nothing waits any more. */
void srv_keep_turning(sim_server_t *srv);
void srv_rest(sim_server_t *srv);
/* The drain is over when nothing is queued, held, kept or written. */
void srv_maybe_finish(sim_server_t *srv);

/* srv_conn.c */
void srv_conn_on_accept(uv_stream_t *listener, int status);
bool srv_conn_alive(const srv_conn_t *c, uint32_t gen);
void srv_conn_close(srv_conn_t *c, const char *why);
/* Takes frames held while paused and reads again, where under bounds. */
void srv_conn_resume_paused(sim_server_t *srv);
/* The drain: no more reading anywhere. */
void srv_conn_stop_all(sim_server_t *srv);
void srv_conn_close_all(sim_server_t *srv);
/* The open connection whose generation is conn_id, or NULL. */
srv_conn_t *srv_conn_find(sim_server_t *srv, uint32_t conn_id);

/* srv_turn.c */
void srv_turn_enqueue(sim_server_t *srv, srv_rec_t *rec);
/* The uv_check callback's work: one turn for what is queued. */
void srv_turn_run(sim_server_t *srv);

/* srv_answer.c */
/* Encodes, meets the fate, and sends or holds rec's answer; 0, or
 * PS_ECLOSED or the encoder's code (rec given back then). */
int srv_answer_schedule(sim_server_t *srv, srv_rec_t *rec);
/* Sends frame back with its header's reject code (chan_encode_reject),
 * through rec; rec is given back once written (or at once on failure). */
int srv_answer_reject(sim_server_t *srv, srv_rec_t *rec,
		      const chan_frame_t *frame, const char *reject);
/* The drain: every held answer leaves now. */
void srv_answer_flush(sim_server_t *srv);
void srv_answer_on_timer(uv_timer_t *timer);
/* Gives a record back to the pool (and its connection's count). */
void srv_rec_release(sim_server_t *srv, srv_rec_t *rec);

#endif /* PAYSWITCH_SIM_SERVER_INT_H */
