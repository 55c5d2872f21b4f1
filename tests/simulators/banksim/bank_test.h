/*
 * bank_test.h: the fixture of the banksim process suites: a banksim over
 * a fresh temporary ledger directory and accounts file, an ISO 8583
 * client that sends what switchd sends (built with the same adapter
 * call, txn_leg_to_iso), and reads of the book
 * through the ledger library while banksim runs.
 *
 * Every wait is bounded (BT_WAIT_MS unless said otherwise); a process left
 * running dies with the test (tests/support).
 */
#ifndef PAYSWITCH_BANK_TEST_H
#define PAYSWITCH_BANK_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdbool.h>

#include "adapters.h"
#include "core.h"
#include "support.h"

#define BT_WAIT_MS 5000
#define BT_ACQUIRER "12345678"
#define BT_FORWARDER "87654321"
#define BT_TRANSMIT "1125103000"

typedef struct bt_bank {
	char dir[256];      /* scratch: ledger/, accounts.json, ready, log */
	char ledger[320];
	char accounts[320];
	char ready[320];
	char log[320];
	ts_proc_t proc;
	bool running;
	uint16_t port;
} bt_bank_t;

/* A fresh scratch directory with accounts_json as its accounts file. */
void bt_setup(bt_bank_t *b, const char *tag, const char *accounts_json);
/* Starts banksim on it with --accounts, plus extra arguments (a NULL-
 * terminated list, may be NULL); waits for the ready file. */
void bt_start(bt_bank_t *b, const char *const *extra);
/* SIGTERM; asserts it exits 0 within BT_WAIT_MS. */
void bt_stop(bt_bank_t *b);
/* SIGKILL and reap. */
void bt_kill(bt_bank_t *b);
/* Stops banksim if running, asserts ledger_check holds, removes it all. */
void bt_teardown(bt_bank_t *b);
int bt_connect(const bt_bank_t *b);

/* ---- messages as switchd builds them -------------------------------------- */

/* A 0200 (proc "000000" debit, "260000" credit, "200000" refund, "310000"
 * balance) for account; STAN stan, field 7 BT_TRANSMIT. */
void bt_financial(txn_t *t, const char *proc, const char *account,
		  int64_t amount, uint32_t stan);
/* The 0400 (0401 when repeat) that reverses orig, with its own STAN. */
void bt_reversal(txn_t *rev, const txn_t *orig, uint32_t stan, bool repeat);
/* The 0220 (0221 when repeat) that completes orig. */
void bt_completion(txn_t *adv, const txn_t *orig, uint32_t stan,
		   bool repeat);
/* An 0800 with field 70 = code. */
void bt_network(txn_t *t, const char *code, uint32_t stan);
/* Gives t (a 0200, 0400 or 0220 from the calls above) field 15: the
 * settlement date yyyymmdd's MMDD, as switchd stamps a leg's period. */
void bt_dated(txn_t *t, const char *yyyymmdd);

/* An answer as it came on the wire: its MTI and fields as text. */
typedef struct bt_answer {
	char mti[5];
	uint32_t stan;          /* field 11 */
	char transmit[11];      /* field 7 */
	char response[3];       /* field 39 */
	char auth_code[7];      /* field 38 */
	char rrn[13];           /* field 37 */
	char network_code[4];   /* field 70 */
	bool has_balance;
	int64_t balance;        /* field 54's first amount */
	char settle_date[TXN_PERIOD_MAX]; /* field 15 */
	char forwarder[12];     /* field 33 */
	bool has_totals;        /* a 0510 with 39 = 00 */
	txn_totals_t totals;    /* its fields 74-77, 86-89, 97 */
} bt_answer_t;

void bt_send(int fd, const txn_t *t);
/* Reads one answer; false on timeout or close. */
bool bt_recv(int fd, bt_answer_t *resp, int timeout_ms);
/* Sends t and returns its answer, asserting it comes and matches t's STAN
 * and field 7. */
bt_answer_t bt_call(int fd, const txn_t *t);
/* The response code of bt_call(fd, t), as an int (00 -> 0, 51 -> 51). */
int bt_code(int fd, const txn_t *t);
/* Asks for the totals of settlement date mmdd with a 0500 built as the
 * switch builds it (chan_encode_recon), STAN stan; asserts the 0510
 * comes, matches, says 00 and names the date, and returns its totals. */
txn_totals_t bt_totals(int fd, uint32_t stan, const char *mmdd);
/* The same from forwarder (field 33 of the 0500, "" for none), asserting
 * that the 0510 echoes it. */
txn_totals_t bt_totals_via(int fd, uint32_t stan, const char *mmdd,
			   const char *forwarder);

/* ---- the book ------------------------------------------------------------------- */

/* Available balance (credits posted - debits posted - debits pending). */
int64_t bt_available(const bt_bank_t *b, const char *account);
/* Posted balance (credits posted - debits posted). */
int64_t bt_posted(const bt_bank_t *b, const char *account);
/* Asserts that ledger_check finds the book sound. */
void bt_check(const bt_bank_t *b);
/* Polls until account's available balance is want (or BT_WAIT_MS). */
bool bt_wait_available(const bt_bank_t *b, const char *account, int64_t want);

/* Polls until account's posted balance is want (or BT_WAIT_MS). */
bool bt_wait_posted(const bt_bank_t *b, const char *account, int64_t want);

/* Counts lines of the banksim log containing text. */
int bt_log_count(const bt_bank_t *b, const char *text);

#endif /* PAYSWITCH_BANK_TEST_H */
