/*
 * netsim.h: the clearing network around the server loop (server.h), in
 * either mode: what is the network's own in the loop's life of a
 * request. Internal to the netsim executable (docs/netsim.md).
 *
 *   config.c   options (command line, --config), defaults, checks
 *   netsim.c   start-up (members, store, the server, the bank links, the
 *              timers), recovery of what a restart finds, the ready file,
 *              the end
 *   turn.c     the loop's turn: members' requests (legs, reversals,
 *              network management), each recorded, then forwarded and
 *              kept, or answered at once
 *   bank.c     the bank links: forwarded legs and reversals out, their
 *              answers, timeouts and losses in, the members answered
 *   saf.c      reversals netsim owes: the store-and-forward queue with
 *              its backoff and bound
 *   cutover.c  periods: the daily cutover or the session timer, a
 *              member's request, SIGUSR1; the wait for legs in flight;
 *              netting, the clearing files, the batch
 *   pboc.c     the batch to pbocsim: submit, retry, record its answer
 *   wire.c     what the channel does not: the header's stations checked,
 *              members' connections remembered, 0820 announcements,
 *              the period an answer carries
 *
 * The pure parts are members.h (the members file), netting.h (fees,
 * positions, the calendar), store.h (the clearing record) and
 * adapters/clearing_file.h (the files' formats).
 */
#ifndef PAYSWITCH_NETSIM_H
#define PAYSWITCH_NETSIM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <uv.h>

#include "adapters.h"
#include "channel.h"
#include "link.h"
#include "members.h"
#include "netting.h"
#include "server.h"
#include "sim.h"
#include "store.h"

#define NETSIM_PATH_MAX 512
#define NETSIM_ANSWER_BYTES_MAX 2048
#define NETSIM_DRAIN_MS 10000
#define NETSIM_CLOSING_MAX 8        /* periods closed, waiting to net */
#define NETSIM_SETTLE_POLL_MS 50
#define NETSIM_READY_WAIT_MS 3000   /* the ready file waits this long for
				       every bank link's first try */

enum netsim_mode { NETSIM_UNIONPAY = 1, NETSIM_NETCLEAR };

/* ---- configuration (config.c) --------------------------------------------- */

typedef struct netsim_cfg {
	char mode[16];
	char listen[128];
	char ready_file[NETSIM_PATH_MAX];
	char name[32];
	char member[CLF_MEMBER_MAX + 1];
	char station[NS_ID_MAX + 1];
	char members[NETSIM_PATH_MAX];
	char store[NETSIM_PATH_MAX];
	char clearing_dir[NETSIM_PATH_MAX];
	char pboc[128];
	char start_date[16];
	char cutover_time[8];
	uint32_t session_minutes;
	uint32_t issuer_fee_ppm;
	uint64_t issuer_fee_cap;
	uint32_t network_fee_ppm;
	uint64_t network_fee_cap;
	uint32_t timeout_ms;
	uint32_t settle_wait_ms;
	uint32_t reversal_retry_ms;
	uint32_t reversal_retry_max_ms;
	uint32_t reversal_attempts_max;
	uint32_t saf_max;
	char dialect[32];
	uint32_t frame_bytes_max;
	uint32_t connections_max;
	uint32_t inflight_per_conn_max;
	uint32_t inflight_max;
	uint32_t bank_inflight_max;
	uint32_t echo_ms;
	uint32_t pboc_retry_max_ms;
	char durability[16];
	uint32_t store_map_mb;
	char log_level[16];
	/* Derived by netsim_config(). */
	uint8_t mode_kind;        /* enum netsim_mode */
	uint32_t cutover_minute;  /* minutes after 00:00 UTC */
	int log_level_min;
} netsim_cfg_t;

int netsim_config(int argc, char **argv, netsim_cfg_t *cfg, char *err,
		  size_t err_cap);
void netsim_usage(FILE *out);

/* ---- the network ---------------------------------------------------------------- */

/* A leg or reversal on its way to a bank: the link's cookie. */
typedef struct ns_fwd {
	uint64_t leg;
	sim_req_t *req;      /* the member's request kept for it, or NULL */
	uint16_t bank;
} ns_fwd_t;

/* A request of the turn, forwarded once the turn's record is committed. */
typedef struct ns_plan {
	sim_req_t *req;
	ns_leg_t leg;
	ns_leg_t parent;     /* a reversal's */
} ns_plan_t;

/* A reversal netsim owes a bank. */
typedef struct ns_saf_entry {
	uint64_t leg;        /* the reversal's record */
	uint16_t bank;
	bool sending;        /* on the link now */
	uint64_t due_ms;     /* loop time of its next attempt */
} ns_saf_entry_t;

/* A member's connection, as its messages named it. */
typedef struct ns_conn {
	uint32_t conn_id;
	char station[NS_ID_MAX + 1];
} ns_conn_t;

/* A period closed and waiting for its legs in flight. */
typedef struct ns_closing {
	char name[NS_PERIOD_MAX];
	uint64_t deadline_ms; /* loop time: netted by then, whatever waits */
} ns_closing_t;

/* The batch submission (pboc.c). */
typedef struct ns_pboc {
	struct sockaddr_storage addr;
	bool configured;
	bool busy;           /* a connection is open or opening */
	bool closing;
	uv_tcp_t tcp;
	uv_connect_t connect;
	uv_write_t write;
	uv_timer_t timer;    /* the retry, and the answer's deadline */
	uint32_t backoff_ms;
	char queue[32][NS_PERIOD_MAX]; /* periods to submit, oldest first */
	uint32_t queued;
	char line[NS_SETTLE_LINE_MAX];
	size_t line_len;
	char answer[4096];
	size_t answer_len;
	uint32_t handles_open;
} ns_pboc_t;

typedef struct netsim_stats {
	uint64_t forwarded, answered, timeouts, unsent, replayed;
	uint64_t reversals, reversals_acked, abandoned;
	uint64_t cutovers, netted, announced;
	uint64_t codes[100];
} netsim_stats_t;

typedef struct netsim {
	const netsim_cfg_t *cfg;
	sim_server_t *srv;
	uv_loop_t *loop;
	ns_members_t *members;
	ns_store_t store;
	ns_fees_t fees;
	chan_cfg_t chan;                   /* how members speak to us */
	chan_cfg_t bank_chan[NS_BANKS_MAX];
	sim_link_t *links[NS_BANKS_MAX];
	uint32_t links_closing;
	ns_meta_t meta;                    /* as last committed */
	ps_pool_t fwds;
	ns_plan_t *plans;                  /* the turn's, inflight_max */
	sim_req_t **cuts;                  /* the turn's cutover requests */
	ns_saf_entry_t *saf;
	uint32_t saf_count;
	ns_conn_t *conns;
	uint32_t conn_count;
	ns_closing_t closing[NETSIM_CLOSING_MAX];
	uint32_t closing_count;
	uv_timer_t saf_timer, cutover_timer, settle_timer, ready_timer;
	uv_signal_t sigusr1;
	bool handles_started;
	bool ready_written;
	uint64_t started_ms;
	uint32_t own_stan;                 /* our 0820s */
	uint32_t stan_first;               /* the bank links' first STAN */
	ns_pboc_t pboc;
	netsim_stats_t stats;
	uint8_t frame[TXN_JSON_LINE_MAX];  /* one message being encoded */
	txn_t msg;                         /* one message being built */
} netsim_t;

int netsim_create(const netsim_cfg_t *cfg, netsim_t **out, char *err,
		  size_t err_cap);
void netsim_run(netsim_t *ns);
void netsim_destroy(netsim_t *ns);
/* A failed store write: logged; the loop goes on (the peer's timeout and
 * a restart's recovery cover what it lost). */
void netsim_store_failed(const char *what, int rc);

/* ---- the turn (turn.c) -------------------------------------------------------------- */

void ns_turn(void *ctx, sim_req_t **reqs, uint32_t count);
/* The member key of a leg: "<sender>|<acquirer without leading
 * zeros>:<stan 6>:<transmit>". */
void ns_member_key(const char *sender, const char *acquirer, uint32_t stan,
		   const char *transmit, char out[NS_KEY_MAX]);

/* ---- banks (bank.c) ----------------------------------------------------------------- */

int ns_banks_create(netsim_t *ns, char *err, size_t cap);
void ns_banks_start(netsim_t *ns);
void ns_banks_close(netsim_t *ns);
bool ns_banks_tried(const netsim_t *ns);
/* Sends leg (recorded and committed) to its bank, the member's request
 * req kept for its answer (may be NULL). 0, or the link's refusal
 * (nothing sent: the caller resolves the leg). orig: the member's request
 * as decoded, for a financial leg (its card data go on), or NULL. */
int ns_bank_send(netsim_t *ns, const ns_leg_t *leg, const txn_t *orig,
		 sim_req_t *req, const ns_leg_t *parent);
/* Where a leg now clears: its own period while that is not netted yet,
 * else the open one. */
void ns_clear_into(netsim_t *ns, MDB_txn *txn, ns_leg_t *leg,
		   const char *period);

/* ---- reversals (saf.c) ---------------------------------------------------------------- */

/* Records a reversal of parent (in txn, with parent's new state) and
 * queues it once txn commits: call ns_saf_push after the commit. */
int ns_saf_record(netsim_t *ns, MDB_txn *txn, ns_leg_t *parent, int source,
		  ns_leg_t *rev);
void ns_saf_push(netsim_t *ns, const ns_leg_t *rev, uint32_t delay_ms);
/* A reversal's outcome from its link (req: the member's, or NULL). */
void ns_saf_outcome(netsim_t *ns, ns_fwd_t *fwd, int outcome,
		    const txn_response_t *resp);
void ns_saf_start(netsim_t *ns);

/* ---- periods (cutover.c) ----------------------------------------------------------------- */

enum ns_cutover_why { NS_CUT_TIMER = 1, NS_CUT_MEMBER, NS_CUT_SIGNAL };

/* Closes the open period and opens the next; closed gets the one closed.
 * 0, or the store's failure (nothing changed). */
int ns_cutover(netsim_t *ns, int why, char closed[NS_PERIOD_MAX]);
void ns_cutover_start(netsim_t *ns);
/* A period closed before a restart, or now: net it once its legs are in. */
void ns_cutover_wait(netsim_t *ns, const char *period, uint32_t wait_ms);
/* Is period netted already (its legs can no longer clear in it)? */
bool ns_period_netted(netsim_t *ns, MDB_txn *txn, const char *period);

/* ---- PBOC (pboc.c) ------------------------------------------------------------------------- */

int ns_pboc_setup(netsim_t *ns, char *err, size_t cap);
void ns_pboc_submit(netsim_t *ns, const char *period);
void ns_pboc_close(netsim_t *ns);

/* ---- the wire (wire.c) --------------------------------------------------------------------- */

const char *ns_screen(void *ctx, uint32_t conn_id, const chan_frame_t *frame);
/* The member id of the member that sent req, or NULL (unknown). */
const char *ns_sender(netsim_t *ns, const sim_req_t *req);
/* Remembers a NetClear member's connection (UnionPay's are learnt from
 * their headers). */
void ns_conn_learn(netsim_t *ns, uint32_t conn_id, const char *station);
/* Announces a cutover to every member connection (UnionPay: 0820 201
 * with the closed date, then 202 with the opened one). */
void ns_announce(netsim_t *ns, const char *closed, const char *opened);
/* The period as an answer carries it: MMDD (UnionPay field 15) or the
 * session id (NetClear header batch). */
void ns_period_text(const netsim_t *ns, const char *period,
		    char out[TXN_PERIOD_MAX]);
/* A leg's settlement date: the period's date, YYYYMMDD. */
void ns_period_date(const char *period, char out[9]);
/* The batch id of a period: CUP-YYYYMMDD, or the session id. */
void ns_batch_id(const netsim_t *ns, const char *period, char out[24]);

#endif /* PAYSWITCH_NETSIM_H */
