/*
 * book.h: the bank's book on the ledger library: which ledger accounts the
 * bank keeps, how ids derive from account numbers and request keys, the
 * idempotent set-up at start, and balances.
 *
 * The money model (docs/banksim.md has the long form):
 *  - Each customer or merchant account is a ledger account on the bank's
 *    currency (ledger 156 for CNY) flagged DEBITS_MUST_NOT_EXCEED_CREDITS:
 *    it can never go below zero, so "insufficient funds" is the ledger's
 *    EXCEEDS_CREDITS, not a check of ours that could drift.
 *  - Its id is the decimal number "1" followed by the account number
 *    (6222020000000009 -> 16222020000000009): printable, derivable by hand,
 *    and "0123" and "123" stay distinct.
 *  - The bank's own accounts: 1 clearing (the counterparty of every
 *    customer debit and credit: money leaving to or arriving from the
 *    switch), 2 equity (the source of opening balances). Both unflagged.
 *  - Memo accounts 3 and 4 on ledger 999 ("no currency") carry markers:
 *    1-unit transfers whose only purpose is their id ("this request was
 *    seen", "this original was reversed before it arrived"). Markers live
 *    in the same batches as the money, so they commit atomically with it,
 *    survive restarts and never touch a customer balance.
 *  - The totals per settlement date and forwarding institution (totals.h)
 *    are memo accounts too: every transfer the bank counts is chained with
 *    two memo transfers into the count and amount accounts of its date and
 *    forwarder, from the sources 5 and 6.
 *  - Transfer ids are ledger_id_from_text() of the request key (below),
 *    prefixed per step: the money of a 0200 is the key itself; "seen:",
 *    "tomb:", "post:", "void:", "rev:" and "open:" name the rest. Retries
 *    therefore find what they did before (the ledger answers EXISTS).
 *
 * Request key: "<acquirer>:<stan>:<transmit>" from fields 32, 11 and 7,
 * the acquirer as a number without leading zeros (0 when absent), the
 * STAN as 6 digits, field 7 as its 10 digits. It equals the switch's
 * request_id whenever field 32 has no leading zeros, and a reversal's
 * field 90 (MTI, STAN, 7, acquirer zero-padded to 11, forwarder) gives
 * back exactly its original's key.
 *
 * Pure: never includes uv.h.
 */
#ifndef PAYSWITCH_BANKSIM_BOOK_H
#define PAYSWITCH_BANKSIM_BOOK_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "accounts.h"
#include "ledger.h"
#include "sim.h"

#define BANK_KEY_MAX 40          /* "99999999999:999999:1231235959" + NUL */
#define BANK_LEDGER_MEMO 999     /* ISO 4217 "XXX": no currency */
#define BANK_INSTITUTION_MAX 12  /* field 32/100: n..11 */

/* The bank's own ledger accounts. Customer ids start at 10 ("1" + one
 * digit), so these can never collide with a customer. */
enum bank_internal_id {
	BANK_ID_CLEARING = 1,
	BANK_ID_EQUITY = 2,
	BANK_ID_MEMO_ISSUED = 3, /* debited by every marker */
	BANK_ID_MEMO_HELD = 4,   /* credited by every marker */
	BANK_ID_TOTALS_COUNTS = 5,  /* debited by every count (totals.h) */
	BANK_ID_TOTALS_AMOUNTS = 6, /* debited by every counted amount */
};

/* Ledger account codes: what kind of account an id is. */
enum bank_account_code {
	BANK_ACODE_CUSTOMER = 1,
	BANK_ACODE_CLEARING = 2,
	BANK_ACODE_EQUITY = 3,
	BANK_ACODE_TOTALS = 8, /* a date's count or amount of a total */
	BANK_ACODE_MEMO = 9,
};

/* Ledger transfer codes: what a transfer did, for a reader of the book.
 * They follow the processing codes where there is one. */
enum bank_transfer_code {
	BANK_XCODE_OPENING = 1,          /* equity -> customer at set-up */
	BANK_XCODE_DEBIT = 10,           /* 0200 proc 00, single-phase */
	BANK_XCODE_AUTHORISATION = 11,   /* 0200 proc 00, two-phase pending
					    (its post and void inherit 11) */
	BANK_XCODE_REFUND = 20,          /* 0200 proc 20 */
	BANK_XCODE_CREDIT = 26,          /* 0200 proc 26 */
	BANK_XCODE_REVERSE_DEBIT = 40,   /* 0400: a debit given back */
	BANK_XCODE_REVERSE_CREDIT = 41,  /* 0400: a credit or refund taken back */
	BANK_XCODE_SEEN = 90,            /* marker: a 0200 was received */
	BANK_XCODE_TOMBSTONE = 91,       /* marker: reversal before original */
	BANK_XCODE_TOTAL_COUNT = 92,     /* totals: 1 more of a total */
	BANK_XCODE_TOTAL_AMOUNT = 93,    /* totals: its amount */
};

/* What the bank counts per settlement date and forwarder, for a 0510
 * (fields 74-77, 86-89). The values are stored in account ids
 * (totals.h): never renumber. */
enum bank_total {
	BANK_TOTAL_CREDITS = 1,          /* proc 26 and 20, posted */
	BANK_TOTAL_CREDIT_REVERSALS = 2, /* a posted credit taken back */
	BANK_TOTAL_DEBITS = 3,           /* proc 00, posted */
	BANK_TOTAL_DEBIT_REVERSALS = 4,  /* a posted debit given back */
};
#define BANK_TOTAL_KINDS 4
/* A settlement date is MMDD read as a number: 101 (01-01) to 1231. */
#define BANK_DATE_MAX 1231
#define BANK_TOTALS_READY_BYTES ((BANK_DATE_MAX + 1) * BANK_TOTAL_KINDS / 8)
/*
 * The forwarding institutions (field 33) whose totals the bank keeps
 * apart, besides "no forwarder". A forwarder beyond them counts in one
 * shared bucket, "other" (totals.h): a host has a handful of links, and
 * the bound keeps what a stream of made-up field 33s can add to the book
 * to 64 forwarders' accounts.
 */
#define BANK_FORWARDERS_MAX 64
/* Where a forwarder's totals are kept, in this process: slot 0 is "no
 * forwarder", 1..BANK_FORWARDERS_MAX the forwarders as first seen (or as
 * the book held them at open), then the shared bucket. */
#define BANK_TOTALS_SLOT_NONE 0u
#define BANK_TOTALS_SLOT_OTHER (BANK_FORWARDERS_MAX + 1u)
#define BANK_TOTALS_SLOTS (BANK_FORWARDERS_MAX + 2u)

/* Which transfer of a request an id names. */
enum bank_step {
	BANK_STEP_MONEY = 0, /* the 0200's own transfer: id of the key */
	BANK_STEP_SEEN,      /* "seen:<key>" */
	BANK_STEP_TOMBSTONE, /* "tomb:<key>" */
	BANK_STEP_POST,      /* "post:<key>": 0220 completion */
	BANK_STEP_VOID,      /* "void:<key>": 0400 of a pending */
	BANK_STEP_REVERSE,   /* "rev:<key>": 0400 of a posted transfer */
	BANK_STEP_OPENING,   /* "open:<account number>" */
};

/* The bank: its book, its accounts and the policy its answers follow.
 * Single-threaded; owned by whoever called bank_book_open. */
typedef struct bank {
	ledger_t *ledger;
	bank_accounts_t accounts;
	uint32_t currency;           /* ISO 4217 numeric: the money ledger */
	bool two_phase;              /* debits reserve, 0220 posts */
	uint32_t pending_timeout_s;  /* two-phase reservations expire */
	double decline_rate;         /* random 05s (a rate, not money) */
	char institution[BANK_INSTITUTION_MAX]; /* "" accepts any field 100 */
	uint64_t seed;               /* every draw: sim_rng_seed_text(seed, ..) */
	/* Faults on purpose (--fault-ledger-after/-count): after this many
	 * batch commits that write, this many fail as a ledger would,
	 * writing nothing. */
	uint32_t fault_commit_after;
	uint32_t fault_commit_count;
	/* The wall clock, ms since the epoch (NULL: ps_wall_ms): the date a
	 * request without field 15 counts under. Tests set their own. */
	uint64_t (*wall_ms)(void);
	/* The channel cannot carry a 0510's totals (JSON lines): a RECON is
	 * answered 12. */
	bool recon_refused;
	/* The forwarders of slots 1..forwarder_count (totals.h), read from
	 * the book at open and added as they first count something. */
	uint64_t forwarders[BANK_FORWARDERS_MAX];
	uint32_t forwarder_count;
	bool forwarders_full_logged; /* "other" first used: logged once */
	/* Which (slot, date, total) have their accounts in the ledger, as
	 * far as this process knows (totals.h); cleared at open. */
	uint8_t totals_ready[BANK_TOTALS_SLOTS][BANK_TOTALS_READY_BYTES];
} bank_t;

/* ---- ids ------------------------------------------------------------------- */

/* "1" followed by the digits, as a 128-bit number. number must be valid
 * (bank_account_number_valid). */
ledger_id_t bank_account_id(const char *number, size_t len);
/* The account number of a customer id; false for any other id. */
bool bank_account_number_of(ledger_id_t id,
			    char out[BANK_ACCOUNT_DIGITS_MAX + 1]);

/* The key of a request (its acquirer, STAN and time): a 0200's own, or
 * for a reversal or a completion the original's. */
void bank_request_key(const char *acquirer, uint32_t stan,
		      const char *transmit, char out[BANK_KEY_MAX]);
/* The id of a request's step: ledger_id_from_text of its text, the
 * step's prefix and the key ("rev:12345678:000042:1125103000"). */
ledger_id_t bank_transfer_id(int step, const char *key);
#define BANK_TRANSFER_TEXT_MAX (BANK_KEY_MAX + 8)
/* That text, into out; returns its length. */
size_t bank_transfer_text(int step, const char *key,
			  char out[BANK_TRANSFER_TEXT_MAX]);

/* ---- the book --------------------------------------------------------------- */

/*
 * Opens (creating if needed) the ledger in dir, and learns from it which
 * forwarders it keeps totals of (bank_totals_load). durability is an enum
 * ledger_durability; batch_max bounds one batch. err says why on failure
 * (a ledger_strerror code in the return value).
 */
int bank_book_open(bank_t *bank, const char *dir, uint32_t durability,
		   uint32_t batch_max, char *err, size_t err_cap);

/*
 * Creates, idempotently, the bank's own accounts, every account of
 * bank->accounts and its opening balance (a transfer from equity with a
 * fixed id). Over a ledger that has them all this changes nothing; an
 * opening balance that differs from the file's is kept as the ledger has
 * it (and logged): the book, not the file, is the truth after day one.
 * Fails when an existing account differs in kind (flags, code, currency).
 */
int bank_book_setup(bank_t *bank, char *err, size_t err_cap);

/* Closes the ledger and frees the accounts. */
void bank_book_close(bank_t *bank);

/* A customer's balances: available (credits posted - debits posted -
 * debits pending) and posted (credits posted - debits posted).
 * PS_ENOTFOUND when the ledger has no such account. */
int bank_book_balance(bank_t *bank, ledger_id_t id, int64_t *available,
		      int64_t *posted);

/* Prints every ledger account as one JSON line (docs/banksim.md,
 * --dump-balances). */
int bank_book_dump(ledger_t *ledger, FILE *out);

/* Runs ledger_check and prints its report as one JSON line; *ok says
 * whether the book is sound. */
int bank_book_check(ledger_t *ledger, FILE *out, bool *ok);

#endif /* PAYSWITCH_BANKSIM_BOOK_H */
