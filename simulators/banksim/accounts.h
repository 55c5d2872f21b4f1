/*
 * accounts.h: the bank's customer and merchant accounts, as the bank's
 * front office knows them: number, status, per-debit limit, opening
 * balance and a deterministic fault for tests. The money itself lives in
 * the ledger (book.h); this table says who may do what.
 *
 * The table is filled once at start-up, from an accounts file (JSON, see
 * docs/banksim.md) or generated, and is read-only afterwards: lookups by
 * account number are an open-addressing hash probe, no allocation.
 *
 * Pure: never includes uv.h or the ledger, so the parser can be fuzzed.
 */
#ifndef PAYSWITCH_BANKSIM_ACCOUNTS_H
#define PAYSWITCH_BANKSIM_ACCOUNTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BANK_ACCOUNT_DIGITS_MAX 19          /* field 2 is n..19 */
#define BANK_ACCOUNTS_MAX 10000000u          /* table bound */
#define BANK_ACCOUNTS_FILE_BYTES_MAX (64u << 20) /* larger sets: --generate */
/* An opening balance or a limit: n12 in minor units, like field 4. */
#define BANK_AMOUNT_MAX 999999999999ll
#define BANK_ACCOUNTS_ERR_MAX 256

enum bank_status {
	BANK_STATUS_ACTIVE = 0,
	BANK_STATUS_BLOCKED, /* frozen: every request 05 */
	BANK_STATUS_CLOSED,  /* every request 57 */
	BANK_STATUS_EXPIRED, /* the card has expired: every request 54 */
};

/* A fault a test pins on an account: applied to the answer of every 0200
 * naming it (never to reversals, completions or 0800). */
enum bank_fault {
	BANK_FAULT_NONE = 0,
	BANK_FAULT_DROP,  /* posted, never answered */
	BANK_FAULT_DELAY, /* answered --fault-delay-ms late */
	BANK_FAULT_CLOSE, /* posted, connection closed instead of answer */
};

typedef struct bank_account {
	char number[BANK_ACCOUNT_DIGITS_MAX + 1];
	uint8_t len;
	uint8_t status;  /* enum bank_status */
	uint8_t fault;   /* enum bank_fault */
	int64_t balance; /* opening balance, minor units, >= 0 */
	int64_t limit;   /* largest single debit, minor units; 0 = none */
} bank_account_t;

typedef struct bank_accounts {
	bank_account_t *list;
	uint32_t count;
	uint32_t cap;
	uint32_t *slots;    /* hash slots: list index + 1; 0 is empty */
	uint32_t slot_mask; /* slots - 1, a power of two >= 2 * cap */
} bank_accounts_t;

/* Allocates a table for up to cap accounts (1..BANK_ACCOUNTS_MAX).
 * PS_ELIMIT over the bound, PS_ENOMEM. */
int bank_accounts_init(bank_accounts_t *accounts, uint32_t cap);
void bank_accounts_free(bank_accounts_t *accounts);

/* Adds a copy of a (number validated by the caller). PS_EEXIST when the
 * number is there already, PS_ELIMIT when the table is full. */
int bank_accounts_add(bank_accounts_t *accounts, const bank_account_t *a);

/* The account with this number, or NULL. The pointer stays valid until
 * bank_accounts_free. */
const bank_account_t *bank_accounts_find(const bank_accounts_t *accounts,
					 const char *number, size_t len);

/* Is this an account number the bank can hold: 1..19 ASCII digits? */
bool bank_account_number_valid(const char *number, size_t len);

/*
 * Parses an accounts file: a JSON array of account objects, or an object
 * {"accounts": [...]}. Each object: "account" (string of 1-19 digits,
 * required), "balance" (integer 0..999999999999, default 0), "status"
 * ("active", "blocked", "closed", "expired"; default active), "limit"
 * (integer 1..999999999999; absent: none), "fault" ("drop", "delay",
 * "close"; absent: none). Unknown keys and duplicate accounts are
 * refused. Initialises out (free it with bank_accounts_free, also after a
 * failure). PS_EFORMAT with err naming the JSON path and the rule
 * ("accounts[3].status: must be one of ..."), PS_ELIMIT past
 * BANK_ACCOUNTS_MAX, PS_ENOMEM.
 */
int bank_accounts_parse(const char *text, size_t len, bank_accounts_t *out,
			char *err, size_t err_cap);

/* Reads and parses path (at most BANK_ACCOUNTS_FILE_BYTES_MAX). */
int bank_accounts_load(const char *path, bank_accounts_t *out, char *err,
		       size_t err_cap);

/*
 * Generates count active accounts: account i (from 0) is prefix followed
 * by i zero-padded to digits digits in all; each opens with balance.
 * PS_EINVAL when the prefix is not digits, digits is over 19, or the
 * numbers left after the prefix cannot count to count.
 */
int bank_accounts_generate(bank_accounts_t *out, uint32_t count,
			   const char *prefix, uint32_t digits,
			   int64_t balance, char *err, size_t err_cap);

const char *bank_status_name(int status);

#endif /* PAYSWITCH_BANKSIM_ACCOUNTS_H */
