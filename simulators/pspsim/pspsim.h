/*
 * pspsim.h: a third-party payment front end (PSP) on switchd's JSON
 * channel (docs/pspsim.md). Two modes, one set of options:
 *
 *  - script mode (the default): sends the JSON request lines of a script
 *    on one connection and prints each answer;
 *  - load mode (--count or --duration-s): holds --connections
 *    connections, keeps up to --inflight requests in flight on each,
 *    draws them from a mix (pay, refund, query, duplicate, echo), at a
 *    target rate or flat out, and ends with a report: throughput, latency
 *    percentiles, outcomes, and the check that every request got exactly
 *    one answer.
 *
 * Both sign on first (hello, as --participant) unless --no-hello. One
 * thread, poll(), non-blocking sockets in load mode; everything the load
 * loop needs is allocated before the first request.
 */
#ifndef PAYSWITCH_PSPSIM_H
#define PAYSWITCH_PSPSIM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "hist.h"
#include "plan.h"
#include "sim.h"

/* Exit codes (docs/pspsim.md). */
enum psp_exit {
	PSP_EXIT_OK = 0,
	PSP_EXIT_USAGE = 2,
	PSP_EXIT_UNANSWERED = 3, /* exactly-once failed: missing, timed out,
				    extra, late or unknown answers */
	PSP_EXIT_LINK = 4,       /* cannot connect, hello refused, the switch
				    closed a connection */
	PSP_EXIT_MISMATCH = 5,   /* a duplicate or query disagreed */
};

#define PSP_CONNECTIONS_MAX 4096u
#define PSP_INFLIGHT_MAX 65536u        /* per connection */
#define PSP_SLOTS_MAX (1u << 20)       /* connections x inflight */
#define PSP_PATH_MAX 1024
#define PSP_PARTICIPANT_MAX 64

/* The options only load mode reads: set any of them without --count or
 * --duration-s and pspsim says so instead of ignoring it. */
typedef struct psp_load_cfg {
	uint64_t count;
	uint32_t duration_s;
	uint32_t connections;
	uint32_t inflight;
	uint32_t rate;
	char mix_text[128];
	char amount_text[64];
	char currency[8];
	double refund_full_rate;
	char bank_prefix[PSP_BANKS_MAX * (PSP_ACCOUNT_DIGITS_MAX + 1) + 1];
	uint32_t accounts_per_bank;
	uint32_t merchants_per_bank;
	uint32_t account_digits;
	char payers[PSP_PATH_MAX];
	char payees[PSP_PATH_MAX];
	uint64_t seed;
	char id_prefix[PSP_ID_PREFIX_MAX + 1];
	uint32_t progress_ms;
	uint32_t history;
} psp_load_cfg_t;

typedef struct psp_cfg {
	char connect[256];
	char participant[PSP_PARTICIPANT_MAX + 1];
	bool no_hello;
	uint32_t timeout_ms;
	bool json;
	/* script mode */
	char script[PSP_PATH_MAX];
	uint32_t concurrency;
	/* load mode */
	psp_load_cfg_t load;
	/* derived by psp_config */
	bool load_mode;
	psp_mix_t mix;
	psp_amount_t amount;
} psp_cfg_t;

/* Reads the options (--config FILE, then the command line) and checks
 * them. SIM_OPTS_HELP for --help; PS_EINVAL with err. */
int psp_config(int argc, char **argv, psp_cfg_t *cfg, char *err,
	       size_t err_cap);
void psp_usage(FILE *out);

/* ---- the load run's record, for the report ------------------------------- */

enum psp_status {
	PSP_STATUS_APPROVED = 0,
	PSP_STATUS_DECLINED,
	PSP_STATUS_ERROR,
	PSP_STATUS_OK,
	PSP_STATUS_PENDING,
	PSP_STATUS_OTHER,
	PSP_STATUS_COUNT,
};

#define PSP_CODE_OTHER 100 /* a code that is not two digits */

typedef struct psp_run {
	uint64_t sent, answered;
	uint64_t timed_out; /* no answer within --timeout-ms */
	uint64_t late;      /* ... which came after all */
	uint64_t extra;     /* a second answer to an answered request */
	uint64_t unknown;   /* an answer to no request of this run */
	uint64_t missing;   /* never answered, at the end */
	uint64_t unparsed;  /* answer lines that were not JSON answers */
	uint32_t connections_lost;
	bool connect_failed, hello_refused;
	char link_error[256]; /* the first, for the report */
	uint64_t first_send_ns, last_send_ns, last_answer_ns;
	uint64_t start_ns, end_ns;
	psp_hist_t latency;
	uint64_t outcome[PSP_OP_COUNT][PSP_STATUS_COUNT][PSP_CODE_OTHER + 1];
	psp_plan_stats_t plan;
} psp_run_t;

/* Runs script mode; returns the exit code. */
int psp_script_run(const psp_cfg_t *cfg);
/* Runs load mode into run (the caller's, it is large); returns 0, or
 * PSP_EXIT_USAGE when the accounts or the plan cannot be set up (err
 * says why). */
int psp_load_run(const psp_cfg_t *cfg, psp_run_t *run, char *err,
		 size_t err_cap);

const char *psp_status_name(int status);
int psp_status_of(const char *status);
/* The exit code a run earns (enum psp_exit). */
int psp_report_exit_code(const psp_run_t *run);
void psp_report_text(FILE *out, const psp_cfg_t *cfg, const psp_run_t *run);
void psp_report_json(FILE *out, const psp_cfg_t *cfg, const psp_run_t *run);

#endif /* PAYSWITCH_PSPSIM_H */
