/*
 * decide.h: what the bank answers, and the one ledger batch per loop turn
 * that makes the answers true.
 *
 * A turn goes: bank_batch_reset(); for each request read this turn,
 * bank_plan() (checks, a few ledger reads, and the transfers it needs,
 * appended to the batch); bank_batch_commit() (one
 * ledger_create_transfers: a group commit); then bank_settle() for each
 * planned request, which turns the ledger's results into response codes.
 * Nothing is answered before the commit that it depends on.
 *
 * One key per batch: a request whose request key (its own, or its
 * original's for a reversal or a completion) is already in the batch is
 * deferred to the next batch (BANK_EDEFER), so every decision reads a
 * book where everything before it about that key is committed. That is
 * what makes a 0200 and its reversal, read in the same turn, come out the
 * same as if they had come a second apart.
 *
 * Totals (totals.h): every transfer that is counted for reconciliation
 * is chained in the batch with the two memo transfers that count it, so
 * the totals of a (date, forwarder) are exactly what the book committed;
 * a 0500 reads them after the turn's commit: its own forwarder's (field
 * 33), or the sum over every forwarder when it has no field 33.
 *
 * Response codes (docs/banksim.md has the table):
 *   00 approved; a reversal that took back a posted transfer (or had done
 *   so before); any reversal advice (0420/0421), whatever it found; a
 *   0510 with its totals. 05 blocked account, random decline, or an
 *   original whose reversal came first; 12 a message the bank does not
 *   take, a 0500 on JSON lines, a 0500 from a forwarder whose totals
 *   are in the shared bucket (totals.h); 13 amount 0, beyond n12, or
 *   another currency; 14 no such account; 15 field 100 names another
 *   institution; 25 a reversal that found nothing posted to take back (an
 *   unknown original, a declined one, an authorisation voided or
 *   expired), or completion of no authorisation; 30 field 15 is not a
 *   date; 51 insufficient funds; 54 expired card; 57 closed account; 61
 *   over the account's limit; 94 duplicate 0200, or completion already
 *   posted; 96 the ledger failed.
 *
 * Pure: never includes uv.h; tested directly (tests/simulators/banksim).
 */
#ifndef PAYSWITCH_BANKSIM_DECIDE_H
#define PAYSWITCH_BANKSIM_DECIDE_H

#include <stdbool.h>
#include <stdint.h>

#include "adapters.h"
#include "book.h"

/* bank_plan: the request must wait for the next batch (its key is in
 * this one, or the batch is full). Not an error. */
#define BANK_EDEFER (-301)

/* Transfers one request may add: a marker, its money, and the two that
 * count the money in its (date, forwarder)'s totals. */
#define BANK_PLAN_TRANSFERS_MAX 4
/* (forwarder, date, total)s whose accounts one batch may create. */
#define BANK_BATCH_FRESH_MAX 64

enum bank_op {
	BANK_OP_FIXED = 0, /* the code was decided at plan time */
	BANK_OP_MONEY,     /* a 0200's transfer: 00, or 51 ... */
	BANK_OP_BALANCE,   /* 00 and the available balance, read after */
	BANK_OP_TOMBSTONE, /* reversal before its original: 25 */
	BANK_OP_REVERSE,   /* compensating transfer: 00 (or 51) */
	BANK_OP_VOID,      /* void of a pending: 25, nothing was posted */
	BANK_OP_COMPLETE,  /* post of a pending authorisation: 00, 94, 25 */
	BANK_OP_RECON,     /* a 0500: 00 and the date's totals, read after */
};

/* What the bank does with one request; lives in the request's record. */
typedef struct bank_work {
	uint8_t op;          /* enum bank_op */
	uint8_t count;       /* transfers it put in the batch */
	uint32_t first;      /* index of the first of them */
	uint32_t decisive;   /* index of the one whose result decides */
	const bank_account_t *account; /* the account named, when known */
	char key[BANK_KEY_MAX];        /* its request key ("" if none) */
	uint16_t date;       /* the settlement date (MMDD) it counts under,
				or a 0500 asks for */
	uint64_t forwarder;  /* the forwarder it counts under, or a 0500
				asks for (field 33; 0 none) */
	bool all_forwarders; /* a 0500 without field 33: the sum */
	bool advice;         /* a reversal advice: acknowledged 00 */
	bool warn;           /* the answer hides a problem: log it at warn */
	char code[3];        /* the answer, once decided */
	const char *reason;  /* why, in words, for the log (static text) */
} bank_work_t;

typedef struct bank_batch {
	ledger_transfer_t *transfers;
	ledger_result_t *results;
	uint32_t count;
	uint32_t cap;
	bool committed;      /* bank_batch_commit succeeded */
	/* The keys this batch touches (an open-addressing set of the keys'
	 * ids), and which slots to clear at the next reset. */
	ledger_id_t *keys;
	uint32_t key_mask;
	uint32_t *key_used;
	uint32_t key_used_count;
	/* The pairs (bank_totals_pair) whose accounts this batch creates
	 * before its transfers, and the scratch to do it with. */
	uint32_t fresh[BANK_BATCH_FRESH_MAX];
	uint32_t fresh_count;
	ledger_account_t *fresh_accounts;
	ledger_result_t *fresh_results;
} bank_batch_t;

/* Allocates a batch of up to cap transfers (1..LEDGER_BATCH_MAX). */
int bank_batch_init(bank_batch_t *batch, uint32_t cap);
void bank_batch_free(bank_batch_t *batch);
void bank_batch_reset(bank_batch_t *batch);

/*
 * Decides what t asks of the bank, reading the book as committed, and
 * appends the transfers that carry it out to batch. A request refused at
 * intake carries its code in t->response already and is answered with it.
 * Returns 0 (w filled), or BANK_EDEFER. Ledger read failures are not
 * returned: the request is answered 96.
 */
int bank_plan(bank_t *bank, bank_batch_t *batch, const txn_t *t,
	      bank_work_t *w);

/* Submits the batch as one ledger_create_transfers call (nothing to do
 * for an empty batch), after creating the totals accounts it is the
 * first to need. On failure nothing of the batch's transfers was
 * committed and every request that needed the ledger is answered 96;
 * bank->fault_commit_* make a commit fail so on purpose. */
int bank_batch_commit(bank_t *bank, bank_batch_t *batch);

/*
 * After the commit: the answer for w, into t->rc (and t->auth_code for
 * an approved 0200, t->balance with TXN_F_BALANCE for a balance inquiry,
 * t->wire.totals with has_totals for a 0500, whose field 15 is set to
 * the date answered when it had none; field 33 is echoed as it came); w->code and w->reason say the
 * same for the log. t->wire.settle_date is otherwise left as received,
 * so the answer echoes field 15.
 */
void bank_settle(bank_t *bank, const bank_batch_t *batch, bank_work_t *w,
		 txn_t *t);

/* The auth code (field 38) of an approved 0200: six digits from its
 * transfer id, so a retry of the question gets the same answer. */
void bank_auth_code(ledger_id_t money_id, char out[7]);

#endif /* PAYSWITCH_BANKSIM_DECIDE_H */
