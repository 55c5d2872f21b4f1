/*
 * pbocsim.h: the central bank around the server loop (server.h): its
 * configuration, and what is the central bank's own in the loop's life
 * of a request. Internal to the pbocsim executable.
 *
 *   config.c   options (command line and --config file), checked
 *   pbocsim.c  start-up (members, the book and the batch store, the
 *              server), the summary at the end
 *   turn.c     the loop's hooks: decoding PBOC's own JSON schema into
 *              the work area (ops.decode), the turn that answers each
 *              request from the book (ops.turn), the answer line
 *              (ops.encode)
 *   main.c     the modes: serving, --dump-balances, --check-ledger
 *
 * The money is pboc.h's, the protocol proto.h's; everything else
 * (listening, connections and their bounds, framing, writing,
 * backpressure, the drain on SIGTERM, the ready file) is the loop's.
 */
#ifndef PAYSWITCH_PBOCSIM_H
#define PAYSWITCH_PBOCSIM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "pboc.h"
#include "proto.h"
#include "server.h"
#include "sim.h"

#define PBOCSIM_PATH_MAX 512
#define PBOCSIM_DRAIN_MS 3000 /* SIGTERM: answering time, at most */

typedef struct pbocsim_cfg {
	/* Options, as docs/pbocsim.md lists them. */
	char listen[128];
	char ready_file[PBOCSIM_PATH_MAX];
	char name[32];
	char ledger[PBOCSIM_PATH_MAX];
	char members[PBOCSIM_PATH_MAX];
	char shortfall[16];
	char durability[16];
	char log_level[16];
	uint32_t connections_max;
	uint32_t inflight_per_conn_max;
	uint32_t inflight_max;
	uint32_t positions_max;
	uint32_t queue_max;
	bool dump_balances;
	bool check_ledger;
	/* Derived by pbocsim_config(). */
	char host[128];
	uint16_t port;
	uint32_t durability_mode; /* enum ledger_durability */
	bool shortfall_reject;
	int log_level_min;        /* enum ps_log_level */
} pbocsim_cfg_t;

/* Defaults, then --config FILE, then the command line; checked and
 * derived. SIM_OPTS_HELP for --help; PS_EINVAL with err otherwise. */
int pbocsim_config(int argc, char **argv, pbocsim_cfg_t *cfg, char *err,
		   size_t err_cap);
void pbocsim_usage(FILE *out);

/* What only pbocsim counts; the loop counts the rest. */
typedef struct pbocsim_stats {
	uint64_t ops[PBOC_OP_MEMBERS + 1]; /* requests by op (0: unreadable) */
	uint64_t errors;                   /* answered "error" */
} pbocsim_stats_t;

typedef struct pbocsim {
	const pbocsim_cfg_t *cfg;
	sim_server_t *srv;
	pboc_t *pboc;
	pbocsim_stats_t stats;
} pbocsim_t;

/* Builds everything (members, the book, the server: listener, ready
 * file). On failure err says why; destroy what *out holds either way. */
int pbocsim_create(const pbocsim_cfg_t *cfg, pbocsim_t **out, char *err,
		   size_t err_cap);
/* Runs until SIGTERM/SIGINT has drained. */
void pbocsim_run(pbocsim_t *sim);
void pbocsim_destroy(pbocsim_t *sim);

/* ---- the loop's hooks (turn.c); ctx is the pbocsim_t ------------------------------ */

int pbocsim_decode(void *ctx, sim_req_t *req, const chan_frame_t *frame,
		   txn_error_t *err);
void pbocsim_turn(void *ctx, sim_req_t **reqs, uint32_t count);
int pbocsim_encode(void *ctx, const sim_req_t *req, uint8_t *out, size_t cap,
		   size_t *len);

#endif /* PAYSWITCH_PBOCSIM_H */
