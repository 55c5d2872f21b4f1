/*
 * fixture.h: a payment chain on loopback for switch tests: two banksim
 * banks (A: prefix 622202, institution 01020000, ascii dialect; B: prefix
 * 621700, institution 01030000, binary dialect with ASCII lengths),
 * switchd with a PSP listener (JSON) and an acquirer listener (ISO 8583,
 * ascii dialect), and the routes between them, all on ports the kernel
 * picked. Processes die with the test.
 */
#ifndef PAYSWITCH_TEST_SWITCH_FIXTURE_H
#define PAYSWITCH_TEST_SWITCH_FIXTURE_H

#include "ledger.h"
#include "support.h"

#define FX_BANKS 2

typedef struct fx_bank {
	char name[16];
	char dir[512];
	char ledger[512];
	char accounts[512];
	char ready[512];
	ts_proc_t proc;
	uint16_t port;
	ledger_t *book; /* the bank's ledger, opened by the test to read */
} fx_bank_t;

typedef struct fx {
	char dir[512];
	char config[512];
	char ready[512];
	char lmdb[512];
	fx_bank_t bank[FX_BANKS];
	ts_proc_t switchd;
	uint16_t psp, acq, nac, control, metrics; /* nac: binary, TPDU */
	int psp_fd;   /* one PSP connection, opened at start (after hello) */
	uint32_t stan; /* the acquirer's next STAN */
	/* Knobs, set before fx_start. */
	int timeout_ms;
	int inflight_per_conn_max;
	int connections_max;
	int connections_per_peer_max; /* 0: connections_max (tests share
					 one address) */
	bool sync;
	bool two_phase_a;         /* bank A holds debits until a 0220 */
	bool second_psp_listener; /* a listener "psp2" too (reload tests) */
	bool bank_b_json;         /* bank B speaks JSON lines, not ISO 8583 */
	bool test_faults;         /* the control socket's "fault" command */
	int attempts_max;         /* reversal.attempts_max; 0: the default */
	uint64_t retention_ms;    /* 0: the switch's default */
	const char *root_extra;   /* more top-level keys: " \"k\": v,\n" */
	const char *psp_extra;    /* more keys for the psp listener: ", \"k\": v" */
	const char *acq_extra;    /* ... and for the acq listener */
	const char *extra_bank_a_args[8];
} fx_t;

/* Accounts of bank A (prefix 622202) and bank B (621700). */
#define A_RICH "6222020000000001"    /* 1,000,000.00 */
#define A_POOR "6222020000000002"    /* 1.00 */
#define A_BLOCKED "6222020000000003"
#define A_CLOSED "6222020000000004"
#define A_EXPIRED "6222020000000005"
#define A_LIMITED "6222020000000006" /* limit 500.00 */
#define A_DROP "6222020000000007"    /* answers dropped */
#define A_DELAY "6222020000000008"   /* answers late */
#define A_SPARE "6222020000000009"   /* 10,000.00 */
#define A_UNKNOWN "6222029999999999" /* routed to A, not an account there */
#define B_SHOP "6217000000000009"    /* merchant */
#define B_CLOSED "6217000000000004"
#define B_DROP "6217000000000007"
#define B_SHOP2 "6217000000000010"
#define NO_ROUTE "9999000000000001"

void fx_init(fx_t *fx, const char *tag);
/* Starts the banks and switchd; waits until every endpoint is up. */
void fx_start(fx_t *fx);
/* Starts switchd alone again (after a kill), on the same store. */
void fx_start_switchd(fx_t *fx);
void fx_stop(fx_t *fx);
/* Starts bank i again (killed first if it runs) on its port and ledger. */
void fx_restart_bank(fx_t *fx, int i);
/* (Re)writes switchd's config from the knobs. */
void fx_write_config(fx_t *fx);

/* A new PSP connection, signed on (hello) as PSP01. */
int fx_psp_open(fx_t *fx);

/* The bank's ledger record of an account. */
ledger_account_t fx_account(fx_t *fx, int bank, const char *account);
/* The bank's available balance of an account (minor units). */
int64_t fx_balance(fx_t *fx, int bank, const char *account);
/* Waits until the balance is want (a reversal takes a moment). */
bool fx_wait_balance(fx_t *fx, int bank, const char *account, int64_t want,
		     int timeout_ms);

/* switchctl with args (NULL-terminated); its exit code; output in out. */
int fx_switchctl(fx_t *fx, char *out, size_t cap, ...);

/* A PSP request on fx->psp_fd; the answer (caller frees). */
json_t *fx_call(fx_t *fx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
json_t *fx_pay(fx_t *fx, const char *id, const char *payer, const char *payee,
	       int64_t amount);

/* An acquirer's 0200 purchase on a new connection: the 0210, unpacked
 * into answer (buf holds its bytes). stan 0 takes the next one. */
bool fx_purchase(fx_t *fx, const char *pan, int64_t amount, uint32_t stan,
		 iso8583_msg_t *answer, uint8_t *buf, size_t cap);
/* Field n of msg as text ("" when absent). */
const char *fx_field(const iso8583_msg_t *msg, int n);

/* A JSON member as a string ("" when absent). */
const char *fx_str(json_t *j, const char *key);
/* Sends a control command given as a JSON object text; its "ok". */
bool fx_control_ok(fx_t *fx, const char *json);
/* A counter from the control socket's "stats" or "status". */
int64_t fx_stat(fx_t *fx, const char *cmd, const char *key);
/* Waits until the switch's SAF queue is empty. */
bool fx_wait_saf_empty(fx_t *fx, int timeout_ms);

#endif
