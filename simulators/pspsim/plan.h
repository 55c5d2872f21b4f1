/*
 * plan.h: what a load-mode pspsim sends next, and the book it keeps of
 * what it sent: the mix of operations, the amounts, the accounts, and the
 * pays it may refund, repeat or ask about.
 *
 *  - The mix ("pay=80,refund=10,query=5,duplicate=5") is drawn per
 *    request from a generator seeded by --seed.
 *  - Every pay is remembered in a ring of the last `history` pays. A
 *    refund names an approved pay of the ring and never asks for more
 *    than is left of it: the amounts of refunds in flight are set aside
 *    (pending) when they are sent, and given back only when a refund is
 *    refused, so refunded + pending <= amount at every moment, whatever
 *    order the answers come in. A refund that never got an answer keeps
 *    its amount set aside: it may have been applied.
 *  - A duplicate sends an answered pay again, the same line with the same
 *    id, and expects the same answer (code and txn); at most one
 *    duplicate of a pay is in flight at once, so answers never have two
 *    requests to match.
 *  - A query asks about a pay of the ring; when that pay had been
 *    answered (with a txn) before the query left, the query must say
 *    "done" with the same code.
 *  - A refund, duplicate or query drawn before there is anything to refer
 *    to is sent as a pay instead (counted: substituted).
 *
 * Pure: no sockets, no clock; everything is allocated by psp_plan_init.
 */
#ifndef PAYSWITCH_PSPSIM_PLAN_H
#define PAYSWITCH_PSPSIM_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "adapters.h"
#include "sim.h"

/* ---- the mix ---------------------------------------------------------------- */

enum psp_op {
	PSP_OP_PAY = 0,
	PSP_OP_REFUND,
	PSP_OP_QUERY,
	PSP_OP_DUPLICATE, /* a pay sent again, same id, same content */
	PSP_OP_ECHO,
	PSP_OP_COUNT,
};

#define PSP_MIX_WEIGHT_MAX 1000000u

typedef struct psp_mix {
	uint32_t weight[PSP_OP_COUNT];
	uint64_t total;
} psp_mix_t;

/* "pay", "refund", "query", "duplicate", "echo". */
const char *psp_op_name(int op);

/*
 * Parses "pay=80,refund=10,query=5,duplicate=5" (any order, any subset;
 * echo too; integer weights 0..PSP_MIX_WEIGHT_MAX, relative). Operations
 * left out weigh 0. pay must weigh more than 0: everything else refers to
 * pays. PS_EINVAL with err saying what is wrong.
 */
int psp_mix_parse(const char *text, psp_mix_t *mix, char *err, size_t cap);
/* One draw: an enum psp_op, with probability weight / total. */
int psp_mix_draw(const psp_mix_t *mix, sim_rng_t *rng);

/* ---- amounts ------------------------------------------------------------- */

#define PSP_AMOUNT_MAX 999999999999ll /* n12, as the switch takes */

enum psp_amount_kind {
	PSP_AMOUNT_FIXED = 0, /* "12850" */
	PSP_AMOUNT_UNIFORM,   /* "100-50000", inclusive */
	PSP_AMOUNT_EXP,       /* "exp:5000": exponential, mean 5000, from 1 */
};

typedef struct psp_amount {
	uint8_t kind;
	int64_t a, b; /* minor units */
} psp_amount_t;

/* Parses an amount distribution in minor units (fen), each number 1 to
 * PSP_AMOUNT_MAX. PS_EINVAL with err. */
int psp_amount_parse(const char *text, psp_amount_t *out, char *err,
		     size_t cap);
/* One draw, 1..PSP_AMOUNT_MAX; an exponential draw is capped at twenty
 * times its mean. */
int64_t psp_amount_draw(const psp_amount_t *amount, sim_rng_t *rng);

/* ---- accounts ------------------------------------------------------------ */

#define PSP_ACCOUNT_DIGITS_MAX 19
#define PSP_BANKS_MAX 16
#define PSP_ACCOUNTS_LIST_MAX 10000000u
#define PSP_ACCOUNTS_FILE_BYTES_MAX (256u << 20)

typedef char psp_account_no_t[PSP_ACCOUNT_DIGITS_MAX + 1];

/*
 * Where payers and payees come from: generated, as `banksim --generate N
 * --prefix P` numbers its accounts (P then the index zero-padded to
 * `digits` digits in all, from 0), one prefix per bank; or two lists read
 * from files. A generated payee is at another bank than its payer when
 * there are two banks or more, and among the bank's first `merchants`
 * accounts when that is set.
 */
typedef struct psp_accounts {
	uint32_t banks; /* 0: lists */
	char prefix[PSP_BANKS_MAX][PSP_ACCOUNT_DIGITS_MAX + 1];
	uint32_t per_bank;
	uint32_t merchants; /* payees among the first this many; 0 = all */
	uint32_t digits;
	psp_account_no_t *payer, *payee; /* lists (payee may be payer) */
	uint32_t payers, payees;
	bool payee_is_payer; /* one list for both */
} psp_accounts_t;

/*
 * Generated accounts: prefixes is a comma-separated list of 1..16 digit
 * prefixes, each shorter than digits (2..19), per_bank 1.. what fits in
 * the digits left. PS_EINVAL with err.
 */
int psp_accounts_generate(psp_accounts_t *acc, const char *prefixes,
			  uint32_t per_bank, uint32_t merchants,
			  uint32_t digits, char *err, size_t cap);
/*
 * Lists from files: one account number a line ('#' comments and blank
 * lines skipped), or a banksim accounts file (a JSON array of objects
 * with "account", or {"accounts": [...]}). payees_path may be NULL or
 * "": payees are drawn from the payers. PS_EINVAL (unreadable, not
 * account numbers, empty), PS_ENOMEM, with err naming the file.
 */
int psp_accounts_load(psp_accounts_t *acc, const char *payers_path,
		      const char *payees_path, char *err, size_t cap);
void psp_accounts_free(psp_accounts_t *acc);
/* Draws a payer and a payee (distinct accounts): indexes for
 * psp_account_format. */
void psp_accounts_draw(const psp_accounts_t *acc, sim_rng_t *rng,
		       uint32_t *payer, uint32_t *payee);
/* The number of payer (is_payee false) or payee index into out. */
void psp_account_format(const psp_accounts_t *acc, bool is_payee,
			uint32_t index, psp_account_no_t out);

/* ---- the plan ---------------------------------------------------------------- */

#define PSP_ID_PREFIX_MAX 40 /* + "-" + 20 digits: within the 64 of an id */
#define PSP_HISTORY_MAX (1u << 24)

enum psp_pay_state {
	PSP_PAY_EMPTY = 0,
	PSP_PAY_SENT,     /* no answer yet (or never: timed out) */
	PSP_PAY_ANSWERED, /* code and txn hold its answer */
};

typedef struct psp_pay {
	uint64_t seq; /* its id's number; 0 for an empty entry */
	int64_t amount;
	int64_t refunded; /* by approved refunds */
	int64_t pending;  /* by refunds sent and not refused */
	uint32_t payer, payee;
	int32_t refundable_at; /* position in the refundable set, or -1 */
	int32_t duplicable_at; /* position in the duplicable set, or -1 */
	uint8_t state;         /* enum psp_pay_state */
	bool dup_inflight;
	char code[3];
	char txn[24];
} psp_pay_t;

/* A set of ring positions with O(1) add, remove and random pick. */
typedef struct psp_set {
	uint32_t *item;
	uint32_t count;
} psp_set_t;

typedef struct psp_plan_cfg {
	const char *id_prefix; /* 1..PSP_ID_PREFIX_MAX of A-Z a-z 0-9 - _ . : */
	const char *currency;  /* "CNY" */
	psp_mix_t mix;
	psp_amount_t amount;
	double refund_full_rate; /* a refund takes all that is left */
	uint32_t history;        /* pays remembered, 1..PSP_HISTORY_MAX */
	uint64_t seed;
} psp_plan_cfg_t;

typedef struct psp_plan_stats {
	uint64_t drawn[PSP_OP_COUNT]; /* what the mix drew */
	uint64_t sent[PSP_OP_COUNT];  /* what was sent */
	uint64_t substituted;         /* drawn with nothing to refer to */
	uint64_t pays_approved;
	int64_t paid_amount;          /* of approved pays */
	uint64_t refunds_full, refunds_partial, refunds_approved;
	int64_t refund_amount_sent, refunded_amount; /* approved */
	uint64_t dup_matched, dup_mismatched;
	uint64_t query_done, query_in_flight, query_unknown, query_other;
	uint64_t query_mismatched;
} psp_plan_stats_t;

typedef struct psp_plan {
	char id_prefix[PSP_ID_PREFIX_MAX + 1];
	size_t id_prefix_len;
	char currency[4];
	psp_mix_t mix;
	psp_amount_t amount;
	double refund_full_rate;
	const psp_accounts_t *accounts;
	sim_rng_t rng;
	uint64_t next_seq; /* the next new id's number, from 1 */
	psp_pay_t *ring;
	uint32_t ring_cap, ring_next, ring_used;
	psp_set_t refundable; /* approved, something left to refund */
	psp_set_t duplicable; /* answered with a txn, no duplicate out */
	psp_plan_stats_t stats;
} psp_plan_t;

/* One request, as planned: what the loop sends and remembers until its
 * answer comes. Plain data, copied into the loop's slot. */
typedef struct psp_req {
	uint64_t seq;      /* its id's number (a duplicate: its original's) */
	uint64_t pay_seq;  /* the pay it is about: itself, refunded, repeated,
			      asked about; 0 for an echo */
	uint32_t pay;      /* that pay's ring position */
	uint32_t payer, payee;
	int64_t amount;    /* pay, duplicate, refund */
	uint8_t op;        /* enum psp_op */
	bool full;         /* refund: all that was left */
	bool expect_done;  /* duplicate, query: the answer to compare with */
	char expect_code[3];
	char expect_txn[24];
} psp_req_t;

enum psp_verdict {
	PSP_VERDICT_OK = 0,
	PSP_VERDICT_MISMATCH, /* a duplicate or query disagreed */
};

/* Allocates the ring and the sets. accounts must outlive the plan.
 * PS_EINVAL (a bad prefix or currency), PS_ENOMEM, with err. */
int psp_plan_init(psp_plan_t *plan, const psp_plan_cfg_t *cfg,
		  const psp_accounts_t *accounts, char *err, size_t cap);
void psp_plan_free(psp_plan_t *plan);

/* The next request; never fails. */
void psp_plan_next(psp_plan_t *plan, psp_req_t *req);
/* req as one request line, '\n' included. PS_ENOSPC when cap is short
 * (PSP_LINE_MAX always fits). */
#define PSP_LINE_MAX 512
int psp_plan_format(const psp_plan_t *plan, const psp_req_t *req, char *out,
		    size_t cap, size_t *len);

/* req's answer came: updates the book; MISMATCH when a duplicate or a
 * query disagrees with what the pay was answered. */
int psp_plan_answered(psp_plan_t *plan, const psp_req_t *req,
		      const txn_answer_t *answer);
/* req will get no answer (timed out, connection lost). */
void psp_plan_lost(psp_plan_t *plan, const psp_req_t *req);

/* The number of one of this plan's ids ("<prefix>-<n>"); false for an id
 * that is not one. */
bool psp_plan_seq_of(const psp_plan_t *plan, const char *id, uint64_t *seq);

/* Checks the book's invariants (refunded + pending <= amount, both >= 0;
 * the sets hold what they should): for tests. */
bool psp_plan_sound(const psp_plan_t *plan);

#endif /* PAYSWITCH_PSPSIM_PLAN_H */
