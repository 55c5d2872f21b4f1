/*
 * banksim.h: the server around the bank (decide.h): its configuration,
 * the libuv loop, connections, the turn that turns a loop iteration's
 * requests into one ledger batch, and the answers with their latency and
 * faults. Internal to the banksim executable.
 *
 * The life of a request:
 *   conn.c    bytes -> channel (ISO 8583 or JSON) -> txn_t -> record
 *   turn.c    (uv_check, once per loop turn) bank_plan for every queued
 *             record, one bank_batch_commit, bank_settle for each
 *   answer.c  pack the answer; fault (drop, close, delay); hold it for
 *             its latency on the timer heap; write; give the record back
 *
 * Bounds, all from the configuration and allocated at start: connections
 * (a pool), bytes per frame (each connection's framer storage), requests
 * per connection and in total (the record pool; a connection at a bound
 * stops being read until answers go out), transfers per batch.
 *
 * Lifetimes: a record refers to its connection by pointer and generation;
 * a connection's memory goes back to its pool only in its close callback,
 * where its generation is cleared, so a late answer finds a dead
 * connection instead of a stranger.
 */
#ifndef PAYSWITCH_BANKSIM_H
#define PAYSWITCH_BANKSIM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <uv.h>

#include "adapters.h"
#include "channel.h"
#include "decide.h"
#include "iso8583.h"
#include "sim.h"

#define BANKSIM_HEADER_BYTES_MAX 64    /* a fixed frame header (TPDU ...) */
#define BANKSIM_ANSWER_BYTES_MAX 1024  /* a packed answer with its frame */
#define BANKSIM_DRAIN_MS 3000          /* SIGTERM: answering time, at most */
#define BANKSIM_EXPIRE_INTERVAL_MS 1000
#define BANKSIM_PATH_MAX 512

/* ---- configuration (config.c) ------------------------------------------- */

typedef struct bank_cfg {
	/* Options, as docs/banksim.md lists them. */
	char listen[128];
	char ready_file[BANKSIM_PATH_MAX];
	char name[32];
	char institution[BANK_INSTITUTION_MAX];
	char ledger[BANKSIM_PATH_MAX];
	char durability[16];
	char protocol[16];
	char dialect[64];
	char spec[BANKSIM_PATH_MAX];
	char framing[16];
	uint32_t header_bytes;
	char accounts[BANKSIM_PATH_MAX];
	uint32_t generate;
	char prefix[BANK_ACCOUNT_DIGITS_MAX + 1];
	uint32_t account_digits;
	uint64_t balance;
	bool two_phase;
	uint32_t pending_timeout_s;
	char latency_ms[SIM_LATENCY_TEXT_MAX];
	double decline_rate;
	double fault_delay_rate;
	uint32_t fault_delay_ms;
	double fault_drop_rate;
	double fault_close_rate;
	uint32_t fault_ledger_after;
	uint32_t fault_ledger_count;
	uint64_t seed;
	char log_level[16];
	uint32_t currency;
	uint32_t connections_max;
	uint32_t inflight_per_conn_max;
	uint32_t inflight_max;
	uint32_t frame_bytes_max;
	uint32_t batch_max;
	bool dump_balances;
	bool check_ledger;
	/* Derived by banksim_config(). */
	char host[128];
	uint16_t port;
	sim_latency_t latency;
	uint32_t durability_mode; /* enum ledger_durability */
	uint8_t chan_kind;        /* enum chan_kind */
	uint8_t length_header;    /* enum iso8583_length_header */
	int log_level_min;        /* enum ps_log_level */
} bank_cfg_t;

/* Defaults, then --config FILE, then the command line; checked and
 * derived. SIM_OPTS_HELP for --help; PS_EINVAL with err otherwise. */
int banksim_config(int argc, char **argv, bank_cfg_t *cfg, char *err,
		   size_t err_cap);
void banksim_usage(FILE *out);

/* ---- records and connections ---------------------------------------------- */

typedef struct banksim banksim_t;
typedef struct bank_conn bank_conn_t;

typedef struct bank_req {
	txn_t t;                 /* the request; the answer fields filled in */
	bank_work_t work;        /* what the bank decided */
	bank_conn_t *conn;
	uint32_t conn_gen;
	struct bank_req *next;   /* the turn's queue */
	uint32_t heap_index;     /* place on the latency heap */
	uint64_t due_ms;         /* loop time the answer leaves */
	uv_write_t write;
	size_t answer_len;
	uint8_t answer[BANKSIM_ANSWER_BYTES_MAX];
} bank_req_t;

struct bank_conn {
	chan_t ch;           /* first: chan_uv_alloc finds it; framing over
				the connection's slice of the slab */
	uv_tcp_t tcp;
	banksim_t *sim;
	uint32_t gen;        /* 0 once closed: stale references never match */
	uint32_t inflight;   /* records of this connection not yet given back */
	bool closing;
	bool reading;
	bool paused;         /* at a bound: resumed by the turn */
	bank_conn_t *prev, *next; /* live connections */
	char peer[64];
};

/* ---- the server (server.c) --------------------------------------------------- */

typedef struct banksim_stats {
	uint64_t requests;
	uint64_t answers;
	uint64_t format_errors;
	uint64_t batches;
	uint64_t batch_transfers;
	uint64_t deferred;
	uint64_t dropped;
	uint64_t delayed;
	uint64_t closed;
	uint64_t expired;
	uint64_t codes[100];
} banksim_stats_t;

struct banksim {
	uv_loop_t loop;
	uv_tcp_t listener;
	uv_signal_t sigterm;
	uv_signal_t sigint;
	uv_check_t turn_check;
	uv_idle_t turn_idle;     /* keeps the loop spinning while requests wait */
	uv_timer_t hold_timer;   /* the earliest held answer */
	uv_timer_t expire_timer; /* ledger_expire_pending */
	uv_timer_t drain_timer;
	const bank_cfg_t *cfg;
	bank_t bank;
	iso8583_dialect_t spec_dialect; /* --spec, when given */
	chan_cfg_t chan;         /* how the bank speaks (channel.h) */
	ps_pool_t conns;
	uint8_t *framer_slab;    /* framer storage, one slice per conn slot */
	size_t framer_bytes;
	uint32_t conn_gen_next;
	bank_conn_t *live;
	uint32_t conn_count;
	uint32_t paused_count;
	ps_pool_t reqs;
	bank_req_t *queue_head, *queue_tail;
	bank_batch_t batch;
	bank_req_t **planned;    /* the turn's planned records */
	bank_req_t **heap;       /* held answers, earliest due first */
	uint32_t heap_count;
	uint32_t writes_pending;
	uint16_t port;           /* bound */
	bool draining;
	bool finishing;
	bool handles_started;
	bool listener_open;
	uv_tcp_t spare;          /* accepts, then closes, one conn too many */
	bool spare_busy;
	bool accept_pending;     /* a connection waits for the spare */
	banksim_stats_t stats;
};

/* Builds everything (accounts, ledger, pools, listener, ready file).
 * On failure err says why; destroy what *out holds either way. */
int banksim_create(const bank_cfg_t *cfg, banksim_t **out, char *err,
		   size_t err_cap);
/* Runs until SIGTERM/SIGINT has drained. */
void banksim_run(banksim_t *sim);
void banksim_destroy(banksim_t *sim);
/* The drain is over when nothing is queued, held or being written. */
void banksim_maybe_finish(banksim_t *sim);
/* Requests wait: the loop must not block in poll (an idle handle runs).
 * banksim_rest: nothing waits any more. */
void banksim_keep_turning(banksim_t *sim);
void banksim_rest(banksim_t *sim);

/* ---- connections (conn.c) ---------------------------------------------------- */

void bank_conn_on_accept(uv_stream_t *listener, int status);
bool bank_conn_alive(const bank_conn_t *c, uint32_t gen);
void bank_conn_close(bank_conn_t *c, const char *why);
/* Reads frames held while paused and reading again, if under bounds. */
void bank_conn_resume_paused(banksim_t *sim);
/* SIGTERM: no more reading anywhere. */
void bank_conn_stop_all(banksim_t *sim);
void bank_conn_close_all(banksim_t *sim);

/* ---- the turn (turn.c) ------------------------------------------------------- */

void bank_turn_enqueue(banksim_t *sim, bank_req_t *req);
/* The uv_check callback's work: one batch for what is queued. */
void bank_turn_run(banksim_t *sim);

/* ---- answers (answer.c) ------------------------------------------------------- */

/* Packs, applies faults and latency, and sends (or holds) req's answer;
 * req is given back when it is done with. */
void bank_answer_schedule(banksim_t *sim, bank_req_t *req);
/* SIGTERM: every held answer leaves now. */
void bank_answer_flush(banksim_t *sim);
void bank_answer_on_timer(uv_timer_t *timer);
/* Gives a record back to the pool (and its connection's count). */
void bank_req_release(banksim_t *sim, bank_req_t *req);

#endif /* PAYSWITCH_BANKSIM_H */
