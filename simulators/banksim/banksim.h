/*
 * banksim.h: the bank around the server loop (server.h): its
 * configuration, and what is the bank's own in the loop's life of a
 * request. Internal to the banksim executable.
 *
 *   banksim.c  start-up (codec, accounts, ledger, the server), the
 *              expiry of two-phase reservations on the loop's tick, the
 *              summary at the end
 *   turn.c     the loop's turn: bank_plan for every request read this
 *              turn, one bank_batch_commit, bank_settle for each
 *   fault.c    the fate of each answer: pinned and random faults, latency
 *
 * Everything else (listening, connections and their bounds, framing,
 * decoding, encoding, holding, writing, backpressure, the drain on
 * SIGTERM, the ready file) is the loop's, in simulators/common.
 */
#ifndef PAYSWITCH_BANKSIM_H
#define PAYSWITCH_BANKSIM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "adapters.h"
#include "channel.h"
#include "decide.h"
#include "iso8583.h"
#include "server.h"
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

/* ---- the bank around the loop (banksim.c) ------------------------------------ */

/* What only the bank counts; the loop counts the rest (sim_server_stats). */
typedef struct banksim_stats {
	uint64_t batches;
	uint64_t batch_transfers;
	uint64_t expired;
	uint64_t codes[100];
} banksim_stats_t;

typedef struct banksim {
	const bank_cfg_t *cfg;
	sim_server_t *srv;
	bank_t bank;
	iso8583_dialect_t spec_dialect; /* --spec, when given */
	chan_cfg_t chan;         /* how the bank speaks (channel.h) */
	bank_batch_t batch;      /* the turn's ledger batch */
	sim_faults_t faults;     /* --latency-ms, --fault-*-rate, --seed */
	banksim_stats_t stats;
} banksim_t;

/* Builds everything (accounts, ledger, the server: listener, ready file).
 * On failure err says why; destroy what *out holds either way. */
int banksim_create(const bank_cfg_t *cfg, banksim_t **out, char *err,
		   size_t err_cap);
/* Runs until SIGTERM/SIGINT has drained. */
void banksim_run(banksim_t *sim);
void banksim_destroy(banksim_t *sim);

/* ---- the turn (turn.c) ------------------------------------------------------- */

/* ops.turn: one ledger batch for the requests read this turn; each
 * request's work area is its bank_work_t. */
void bank_turn(void *ctx, sim_req_t **reqs, uint32_t count);

/* ---- faults (fault.c) --------------------------------------------------------- */

/* ops.fate: an account's pinned fault for a 0200 naming it, else the
 * rates; then the latency. Logs every fault it picks. */
void bank_fate(void *ctx, sim_req_t *req, sim_fate_t *fate);

#endif /* PAYSWITCH_BANKSIM_H */
