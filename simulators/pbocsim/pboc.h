/*
 * pboc.h: the central bank's settlement system: every member's reserve
 * account in the ledger library, settlement batches posted all or
 * nothing, a queue of batches waiting for funds, funding, balances.
 * pbocsim (docs/pbocsim.md) is this module behind the common server
 * loop; docs/clearing.md is the contract it keeps.
 *
 * The money model (the long form is in docs/pbocsim.md):
 *  - One ledger (currency 156, CNY) in its own directory. Account 1 is
 *    PBOC's issue account (the source of opening balances and funding:
 *    it goes negative by what PBOC has put into reserves); account 2 the
 *    settlement suspense account every batch passes through (flagged
 *    DEBITS_MUST_NOT_EXCEED_CREDITS: debits reach it before credits
 *    leave, and it is back to zero after every batch).
 *  - A member's reserve has as id the member's characters, left-aligned
 *    in the 128 bits (pboc_reserve_id), and its kind as code. A member
 *    without intraday credit (credit_limit 0) has its reserve flagged
 *    DEBITS_MUST_NOT_EXCEED_CREDITS, so the ledger itself refuses an
 *    overdraft; one with credit is unflagged (the ledger has no "down to
 *    -N" limit) and this module checks the limit before posting.
 *  - Transfer ids are ledger_id_from_text() of "open:<member>" (opening
 *    balance), "fund:<member>:<request id>" (a fund) and
 *    "settle:<batch>:<member>" (a member's leg of a batch), so that every
 *    repeat, resubmission and restart finds EXISTS instead of moving
 *    money twice.
 *  - A batch is one linked chain: each debtor's reserve -> suspense, then
 *    suspense -> each creditor's reserve, in member order. It posts
 *    whole or not at all, and once posted it is final.
 *
 * Batches and their status live in the store (store.h), beside the
 * ledger. A batch is recorded queued before its chain is submitted and
 * posted after; a run that dies between the two leaves it queued, and
 * the next start (or the next fund or posting) submits the chain again:
 * the ledger answers EXISTS, and the record becomes posted with the
 * ledger's own timestamp. Nothing is ever posted twice.
 *
 * Pure: never includes uv.h. One thread; a pboc_t and everything it
 * holds is the caller's from pboc_open to pboc_close. Every call that
 * answers a request returns 0 with the answer in its out parameters
 * (posted, queued, rejected are answers), or a negative code when the
 * storage failed (PS_EIO, PS_ELIMIT: the store or the ledger is full),
 * with a reason for the answer.
 */
#ifndef PAYSWITCH_PBOCSIM_PBOC_H
#define PAYSWITCH_PBOCSIM_PBOC_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "ledger.h"
#include "members.h"
#include "store.h"

#define PBOC_CURRENCY 156            /* ISO 4217 CNY: the one ledger */
#define PBOC_REQUEST_ID_MAX 64       /* a fund's request id, characters */
#define PBOC_QUEUE_MAX_LIMIT 65536u  /* --queue-max at most */

/* PBOC's own accounts. Member reserves start with a character of
 * A-Z 0-9 in their top byte, so they never collide with these. */
enum pboc_internal_id {
	PBOC_ID_ISSUE = 1,
	PBOC_ID_SUSPENSE = 2,
};

/* Account codes: a reserve's is its member's kind (enum pboc_kind). */
enum pboc_account_code {
	PBOC_ACODE_ISSUE = 10,
	PBOC_ACODE_SUSPENSE = 11,
};

enum pboc_transfer_code {
	PBOC_XCODE_OPENING = 1,       /* issue -> reserve, at set-up */
	PBOC_XCODE_FUND = 2,          /* issue -> reserve, "fund" */
	PBOC_XCODE_SETTLE_DEBIT = 3,  /* reserve -> suspense, a debtor's leg */
	PBOC_XCODE_SETTLE_CREDIT = 4, /* suspense -> reserve, a creditor's */
};

typedef struct pboc_options {
	const char *ledger_dir;  /* created if missing; the store inside */
	uint32_t durability;     /* enum ledger_durability, ledger and store */
	bool shortfall_reject;   /* reject, not queue, a batch short of funds */
	uint32_t queue_max;      /* 1..PBOC_QUEUE_MAX_LIMIT queued batches */
} pboc_options_t;

typedef struct pboc_stats {
	uint64_t posted;    /* batches posted (recovered ones too) */
	uint64_t queued;    /* batches that went into the queue */
	uint64_t rejected;  /* batches rejected (reuse of an id included) */
	uint64_t funds;     /* funds that moved money */
	uint64_t recovered; /* batches found posted in the ledger, recorded
			       queued: a run died between the two */
} pboc_stats_t;

typedef struct pboc {
	ledger_t *ledger;
	pboc_store_t *store;
	pboc_members_t members;   /* owned; credit limits as in effect */
	pboc_options_t opts;
	pboc_stats_t stats;
	/* Fault on purpose, for tests: a batch's chain is posted and then
	 * the call fails as a run that died there would, leaving its record
	 * queued. */
	bool fault_unrecorded;
	/* Scratch, so that no call allocates: */
	pboc_batch_t queued;      /* the queued batch being retried */
	pboc_batch_t stored;      /* the stored record of an id */
	ledger_transfer_t xfers[PBOC_POSITIONS_MAX];
	ledger_result_t results[PBOC_POSITIONS_MAX];
} pboc_t;

/* ---- ids --------------------------------------------------------------------- */

/* The member's characters, left-aligned and zero-padded in 128 bits
 * ("01020000" is 0x30313032303030300000000000000000). id must be a valid
 * member id. */
ledger_id_t pboc_reserve_id(const char *member);
/* The member of a reserve id into out; false for any other id. */
bool pboc_reserve_member(ledger_id_t id, char out[PBOC_MEMBER_ID_MAX + 1]);
/* The id of member's leg of batch. */
ledger_id_t pboc_leg_id(const char *batch, const char *member);

/* ---- life ------------------------------------------------------------------------ */

/*
 * Opens the ledger and the store, takes members (moved: *members is
 * empty afterwards, and freed by pboc_close even on failure), and sets
 * up idempotently: PBOC's accounts, a reserve per member, each opening
 * balance once (an opening the ledger holds at another amount is kept
 * and logged opening_balance_kept: after day one the book is the truth).
 * A reserve opened without credit (flagged) keeps a credit limit of 0
 * even if the file now gives one (logged credit_limit_unusable): the
 * ledger refuses its overdraft. Then the queue is retried once, which
 * finishes what a run that died mid-posting left. err says why on
 * failure (a reserve of another kind or currency, a storage error).
 * *p is allocated here; pboc_close(*p) whatever the result.
 */
int pboc_open(pboc_t **p, const pboc_options_t *opts, pboc_members_t *members,
	      char *err, size_t err_cap);
void pboc_close(pboc_t *p);

/* ---- requests ------------------------------------------------------------------- */

/*
 * Judges batch b: b->id, b->submitter and b->count positions (any order)
 * in; b out is the batch as it stands now (positions in member order,
 * status, reason, posted_ms). A batch posted or queued under this id
 * before is answered as it stands, if the same (submitter and positions;
 * a queued one after the queue was offered funds once more); otherwise
 * rejected "batch id reused with other positions" (nothing stored). A new batch (or one rejected before: judged afresh) is
 * rejected if its positions do not sum to zero, name a member twice or
 * one that is not a member, or its submitter is no member; queued (or
 * rejected, --shortfall reject, or when the queue is full) if a reserve
 * would go below minus its credit limit; else posted. A posting retries
 * the queue: *released counts the queued batches that posted then.
 * Storage errors: a negative code, with b->reason.
 */
int pboc_settle(pboc_t *p, pboc_batch_t *b, uint32_t *released);

/* The stored batch id into *out; PS_ENOTFOUND when it was never
 * judged (the answer "unknown"). */
int pboc_batch_get(pboc_t *p, const char *id, pboc_batch_t *out);

/* The outcome of a fund. */
typedef struct pboc_fund_result {
	bool done;                    /* false: refused, reason says why */
	char reason[PBOC_REASON_MAX];
	int64_t balance;              /* the reserve after it (and after
					 the batches it released) */
	uint32_t released;            /* queued batches it let post */
} pboc_fund_result_t;

/*
 * Credits member's reserve with amount (1..PBOC_AMOUNT_MAX) from PBOC's
 * issue account, once per request_id: the same id again is answered as
 * done and moves nothing; with another amount it is refused. Then
 * retries the queue.
 */
int pboc_fund(pboc_t *p, const char *member, const char *request_id,
	      int64_t amount, pboc_fund_result_t *out);

/* member's reserve balance (credits - debits, posted) and its credit
 * limit in effect; PS_ENOTFOUND when it is no member. */
int pboc_balance(pboc_t *p, const char *member, int64_t *balance,
		 int64_t *credit_limit);

/*
 * Offers funds to the queued batches in arrival order, over and over
 * while any of them posts (a posting funds its creditors); a batch still
 * short stays where it is, with its reason brought up to date, and the
 * ones behind it are tried too. *released counts what posted.
 */
int pboc_retry(pboc_t *p, uint32_t *released);

/* ---- reports (read-only, beside a running pbocsim) ------------------------------ */

/* Prints every ledger account as one JSON line (--dump-balances). */
int pboc_dump(ledger_t *ledger, FILE *out);
/*
 * ledger_check, and then the batches against the ledger: every posted
 * batch's legs are there as recorded, no rejected batch has any, the
 * suspense account is back to zero (queued batches whose legs are there
 * are counted "unrecorded": the next start records them). Prints one
 * JSON line; *ok says whether everything holds. store may be NULL (no
 * batches yet).
 */
int pboc_check(ledger_t *ledger, pboc_store_t *store, FILE *out, bool *ok);

#endif /* PAYSWITCH_PBOCSIM_PBOC_H */
