/*
 * chain.h: the whole payment chain on loopback for tests, every process
 * real and on a port the kernel chose:
 *
 *   bank A 01020000 622202 ┐ direct to the switch
 *   bank B 01030000 621700 ┘
 *   bank C 01040000 622848   behind UnionPay (netsim cup); also a direct
 *                            link (endpoint bank_c) for alternates
 *   bank D 01050000 621226   behind NetClear (netsim nc)
 *   pbocsim                  every member's reserve
 *   switchd                  PSP listener (PSP01, member 48110001),
 *                            acquirer listener (48020000), the routes
 *
 * Network routes carry netsim's fees (35 bp capped at 13 yuan, 3.25 bp
 * capped at 3.25 yuan from each side); direct routes none. The first
 * settlement date is 2026-12-03 everywhere.
 */
#ifndef PAYSWITCH_TEST_CHAIN_H
#define PAYSWITCH_TEST_CHAIN_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "support.h"

#define CH_BANKS 4
#define CH_A 0
#define CH_B 1
#define CH_C 2
#define CH_D 3
#define CH_PSP "48110001"
#define CH_ACQ "48020000"
#define CH_ACCOUNTS 300    /* generated per bank: PREFIX + 10 digits */

typedef struct ch_bank {
	const char *name, *member, *prefix;
	char ledger[600], ready[600];
	ts_proc_t proc;
	uint16_t port;
} ch_bank_t;

typedef struct chain {
	char dir[512];
	ch_bank_t bank[CH_BANKS];
	ts_proc_t pboc, cup, nc, sw;
	uint16_t pboc_port, cup_port, nc_port, psp, acq, control;
	char config[600], pboc_ledger[600], cup_files[640], nc_files[640];
	/* Knobs, set before ch_start. */
	int64_t balance;              /* each generated account's */
	int64_t balance_d;            /* bank D's (small: some 51s) */
	double drop_b;                /* bank B's --fault-drop-rate */
	bool alternate_c;             /* 622848: cup, then bank_c direct */
} chain_t;

void ch_init(chain_t *c, const char *tag);
/* Starts everything and loads the routes; every endpoint is up after. */
void ch_start(chain_t *c);
/* SIGTERM for all, each must exit 0; every ledger must check sound. */
void ch_stop(chain_t *c);

/* An account of bank i: its prefix and index, 16 digits. */
void ch_account(const chain_t *c, int bank, unsigned index, char out[20]);

/* A PSP request on a new connection (signed on); its answer. */
json_t *ch_psp(chain_t *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* A card purchase through the acquirer listener; its field 39 ("" when
 * there was no answer). */
const char *ch_purchase(chain_t *c, const char *pan, int64_t amount,
			uint32_t stan, char code[3]);
/* A control command (a JSON object's text); its answer. */
json_t *ch_control(chain_t *c, const char *line);
/* switchctl --config ... args (NULL-terminated); its exit code, its
 * stdout in out. */
int ch_switchctl(chain_t *c, char *out, size_t cap, ...);
/* Waits until the switch says endpoint name is "up" (or not). */
bool ch_wait_endpoint(chain_t *c, const char *name, bool up, int timeout_ms);
/* Waits until the switch's SAF queue is empty. */
bool ch_wait_saf_empty(chain_t *c, int timeout_ms);
/* Waits until window id is in state; its record (caller frees). */
json_t *ch_wait_window(chain_t *c, uint64_t id, const char *state,
		       int timeout_ms);

/* The sum of bank i's customers' posted balances (its ledger, read as
 * banksim --dump-balances prints it). */
int64_t ch_customers(chain_t *c, int bank);
/* One customer's posted balance. */
int64_t ch_balance(chain_t *c, int bank, const char *account);
/* Every member's reserve at PBOC: an object member -> balance. */
json_t *ch_reserves(chain_t *c);

#endif
