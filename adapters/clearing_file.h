/*
 * clearing_file.h: the clearing files a network writes for each member at
 * the close of each clearing period (docs/clearing.md, docs/netsim.md),
 * the writer and the reader of both formats, so that what netsim writes
 * and what the switch's reconciliation reads are one definition:
 *
 *   UnionPay  <clearing-dir>/<member>/CUP-<YYYYMMDD>.txt: fixed width, a
 *             header line, one line per cleared leg the member is a party
 *             to, a trailer with counts, amounts, fees and the signed net
 *   NetClear  <clearing-dir>/<member>/<batch>.json: the session summary,
 *             one JSON object: counts and amounts by type, fees
 *             receivable and payable, the net position
 *
 * The meaning of a line is the obligation rule of docs/clearing.md, and it
 * lives here once (clf_net, clf_network_net), so that a file's nets and
 * the positions a network submits to PBOC agree by construction:
 *
 *   type         role I (the bank that holds the account)  role A (the origin, field 32)
 *   debit 00     -(amount - fee_issuer) - fee_network       +(amount - fee_issuer) - fee_network
 *   credit 26    +amount                                    -amount
 *   refund 20    +amount                                    -amount
 *   reversal 4x  the opposite of the leg it reverses (40 a debit, 46 a credit, 42 a refund)
 *
 * and the network that carried a debit gets fee_network from each side
 * (+2 x fee_network; a reversal gives it back). Credits and refunds carry
 * no fees. A reversal line carries the amount, fees and keys of the leg it
 * reverses, so that it pairs with its original.
 *
 * ---- UnionPay: CUP-<YYYYMMDD>.txt -------------------------------------------
 *
 * Lines of exactly CLF_CUP_WIDTH (220) characters and a '\n'; ASCII; text
 * fields left-aligned and space-padded, numbers right-aligned and
 * zero-padded; positions are 1-based. In this order: one H, any number of
 * D (in the network's leg order), one T, nothing after it.
 *
 *   H header         pos len  field
 *                      1   1  "H"
 *                      2   2  format version "01"
 *                      4   8  settlement date YYYYMMDD
 *                     12  11  member id (whose file this is)
 *                     23  11  the network's member id
 *                     34  16  settlement batch id ("CUP-YYYYMMDD")
 *                     50  14  written at, YYYYMMDDhhmmss UTC
 *                     64 157  spaces
 *
 *   D detail         pos len  field
 *                      1   1  "D"
 *                      2   8  settlement date YYYYMMDD (the H's)
 *                     10  11  member id (the H's)
 *                     21   1  role: "I" the member held the account (the
 *                             issuer, or the payee's bank), "A" the member
 *                             is the origin (acquirer, PSP)
 *                     22  11  the counterparty: the origin for role I,
 *                             the bank for role A
 *                     33   2  type: 00 debit, 26 credit, 20 refund, 40/46/42
 *                             reversal of a debit/credit/refund
 *                     35   6  STAN as the sender numbered it (field 11)
 *                     41  10  field 7 as the sender sent it, MMDDhhmmss
 *                     51   6  STAN the network forwarded it with
 *                     57  10  field 7 the network forwarded it with
 *                     67  12  RRN (field 37)
 *                     79  19  account, masked (622202******0001)
 *                     98  12  amount, minor units
 *                    110  12  issuer fee
 *                    122  12  network fee (from each side)
 *                    134   1  "C" the member is owed, "D" it owes
 *                    135  12  the member's net of this line (clf_net)
 *                    147   3  currency, ISO 4217 numeric
 *                    150  11  the sender: the member that sent the leg
 *                             to the network (the switch's 99990000)
 *                    161  12  the network's leg id
 *                    173  48  spaces
 *
 *   T trailer        pos len  field
 *                      1   1  "T"
 *                      2   8  settlement date
 *                     10  11  member id
 *                     21   8  D lines
 *                     29   8  debits (00): count    37 16  amount
 *                     53   8  credits (26): count   61 16  amount
 *                     77   8  refunds (20): count   85 16  amount
 *                    101   8  reversals (4x): count 109 16  amount
 *                    125  16  issuer fees receivable
 *                    141  16  issuer fees payable
 *                    157  16  network fees receivable
 *                    173  16  network fees payable
 *                    189   1  "C" or "D"
 *                    190  16  net: the sum of the D lines' nets
 *                    206  15  spaces
 *
 * Fees receivable and payable are flows, each non-negative: on a debit
 * the bank (I) receives the issuer fee and the origin (A) pays it, and
 * both pay the network fee; on the reversal of a debit every flow goes
 * back the other way.
 *
 * ---- NetClear: <batch>.json ----------------------------------------------------
 *
 * One JSON object on one line, keys in this order, every key required,
 * no other key:
 *
 *   {"format":"netclear-summary","version":1,"network":"00020000",
 *    "batch":"B2026120301","member":"01020000","legs":3,
 *    "types":{"agreement_payment":{"count":2,"amount":25700},
 *             "payout":{"count":1,"amount":100},
 *             "refund":{"count":0,"amount":0},
 *             "reversal":{"count":0,"amount":0}},
 *    "fees":{"issuer_receivable":90,"issuer_payable":0,
 *            "network_receivable":0,"network_payable":8},
 *    "net":-25502}
 *
 * legs is the sum of the counts; the counts, amounts and fees are the
 * trailer's above (a reversal of any type counts under "reversal").
 *
 * Readers are strict: a wrong width, a non-digit, a record out of order, a
 * trailer that disagrees with its lines, an unknown key: the error names
 * the line (1-based; 0 for the JSON summary) and the field.
 *
 * Pure: never includes uv.h; no allocation but jansson's while a summary
 * is parsed.
 */
#ifndef PAYSWITCH_CLEARING_FILE_H
#define PAYSWITCH_CLEARING_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CLF_CUP_WIDTH 220       /* characters of every line, '\n' not counted */
#define CLF_MEMBER_MAX 11       /* a member id: 1 to 11 digits */
#define CLF_BATCH_MAX 16
#define CLF_SUMMARY_BYTES_MAX 1024 /* a summary line, '\n' included */
#define CLF_COUNT_MAX 99999999u
#define CLF_AMOUNT_MAX 999999999999ll        /* n12: one line's amount */
#define CLF_TOTAL_MAX 9999999999999999ll     /* n16: a trailer's sum */

/* A line's type. Stored in no record of ours: only its code is. */
enum clf_type {
	CLF_DEBIT = 0,       /* 00: a debit (purchase, agreement payment) */
	CLF_CREDIT,          /* 26: a credit (payout) */
	CLF_REFUND,          /* 20: a refund credit */
	CLF_REV_DEBIT,       /* 40: the reversal of a debit */
	CLF_REV_CREDIT,      /* 46 */
	CLF_REV_REFUND,      /* 42 */
	CLF_TYPE_COUNT
};

/* The groups of the trailer and the summary. */
enum clf_group {
	CLF_GROUP_DEBIT = 0,
	CLF_GROUP_CREDIT,
	CLF_GROUP_REFUND,
	CLF_GROUP_REVERSAL,
	CLF_GROUP_COUNT
};

/* "00", "26", "20", "40", "46", "42"; NULL for no type. */
const char *clf_type_code(int type);
/* The type of a code; -1 when it is none. */
int clf_type_of_code(const char *code);
/* The NetClear name of a type's group: agreement_payment, payout, refund,
 * reversal. */
const char *clf_group_name(int group);
int clf_group_of(int type);
/* Is type a reversal (40, 46, 42)? And the type it reverses, or the
 * reversal of one that is not. */
bool clf_type_is_reversal(int type);
int clf_type_reversed(int type);

/*
 * The obligation rule (the table above): what a leg of type, amount and
 * fees does to the position of the party in role ('I' or 'A'), and to the
 * network that carried it. Positive: owed; negative: owes. Inputs are
 * checked by the caller (amount and fees 0..CLF_AMOUNT_MAX).
 */
int64_t clf_net(int type, char role, int64_t amount, int64_t fee_issuer,
		int64_t fee_network);
int64_t clf_network_net(int type, int64_t fee_network);

/* Where a reader found something wrong. */
typedef struct clf_error {
	uint32_t line;     /* 1-based; 0: the JSON summary, or no line */
	char field[40];    /* "amount", "totals", "types.payout.count" */
	char reason[112];
} clf_error_t;

/* ---- totals: the trailer's and the summary's ------------------------------- */

typedef struct clf_totals {
	uint32_t lines;
	uint32_t count[CLF_GROUP_COUNT];
	int64_t amount[CLF_GROUP_COUNT];
	int64_t issuer_fee_receivable;
	int64_t issuer_fee_payable;
	int64_t network_fee_receivable;
	int64_t network_fee_payable;
	int64_t net;
} clf_totals_t;

/*
 * Adds one leg, seen from role, to t: its group's count and amount, the
 * fee flows, its net (clf_net). PS_ELIMIT (t unchanged) when a count or
 * a sum would pass its width (CLF_COUNT_MAX, CLF_TOTAL_MAX).
 */
int clf_totals_add(clf_totals_t *t, int type, char role, int64_t amount,
		   int64_t fee_issuer, int64_t fee_network);
bool clf_totals_equal(const clf_totals_t *a, const clf_totals_t *b);

/* ---- UnionPay ------------------------------------------------------------------- */

typedef struct clf_cup_header {
	char date[9];                    /* YYYYMMDD */
	char member[CLF_MEMBER_MAX + 1];
	char network[CLF_MEMBER_MAX + 1];
	char batch[CLF_BATCH_MAX + 1];   /* CUP-YYYYMMDD */
	char written[15];                /* YYYYMMDDhhmmss */
} clf_cup_header_t;

typedef struct clf_cup_line {
	char date[9];
	char member[CLF_MEMBER_MAX + 1];
	char role;                       /* 'I' or 'A' */
	char counterparty[CLF_MEMBER_MAX + 1];
	uint8_t type;                    /* enum clf_type */
	uint32_t stan;                   /* the sender's key */
	char transmit[11];
	uint32_t fwd_stan;               /* the forwarded leg's key */
	char fwd_transmit[11];
	char rrn[13];                    /* may be "" */
	char account[20];                /* masked; may be "" */
	int64_t amount;
	int64_t fee_issuer;
	int64_t fee_network;
	int64_t net;                     /* clf_net of the above */
	uint16_t currency;
	char sender[CLF_MEMBER_MAX + 1];
	uint64_t leg_id;                 /* 0..999999999999 */
} clf_cup_line_t;

typedef struct clf_cup_trailer {
	char date[9];
	char member[CLF_MEMBER_MAX + 1];
	clf_totals_t totals;
} clf_cup_trailer_t;

/*
 * Each writes one line of CLF_CUP_WIDTH characters and '\n' into out
 * (cap >= CLF_CUP_WIDTH + 2: a NUL follows) and its length into *len.
 * PS_EINVAL (nothing useful in out) when a field does not fit its
 * columns or is not what the layout says: a member that is not 1-11
 * digits, a date that is no YYYYMMDD, a net that is not clf_net of the
 * line; PS_ENOSPC when cap is too small.
 */
int clf_cup_write_header(const clf_cup_header_t *h, char *out, size_t cap,
			 size_t *len);
int clf_cup_write_line(const clf_cup_line_t *l, char *out, size_t cap,
		       size_t *len);
int clf_cup_write_trailer(const clf_cup_trailer_t *t, char *out, size_t cap,
			  size_t *len);

/* What one line of a UnionPay file is. */
enum clf_record { CLF_RECORD_HEADER = 1, CLF_RECORD_DETAIL, CLF_RECORD_TRAILER };

typedef struct clf_cup_record {
	uint8_t kind;                    /* enum clf_record */
	clf_cup_header_t header;
	clf_cup_line_t line;
	clf_cup_trailer_t trailer;
} clf_cup_record_t;

/*
 * Parses one line (without its '\n'; exactly CLF_CUP_WIDTH characters)
 * into out, which says which record it was. PS_EFORMAT with err's field
 * and reason (err->line is left to the caller) otherwise.
 */
int clf_cup_parse_line(const char *text, size_t len, clf_cup_record_t *out,
		       clf_error_t *err);

/* Called for each D line, in order; a non-zero return stops the read and
 * is returned. */
typedef int (*clf_cup_line_fn)(void *ctx, const clf_cup_line_t *line);

/*
 * Reads a whole file's text (len bytes; every line ends in '\n'): the H,
 * each D through on_line (may be NULL), the T; checks the order, that
 * every D has the H's date and member, that each net is clf_net of its
 * line, and that the trailer's totals are the lines' (clf_totals_add).
 * header and trailer (may be NULL) get the H and T. 0, or PS_EFORMAT with
 * err (its line, field and reason), or on_line's code.
 */
int clf_cup_read(const char *text, size_t len, clf_cup_line_fn on_line,
		 void *ctx, clf_cup_header_t *header,
		 clf_cup_trailer_t *trailer, clf_error_t *err);

/* ---- NetClear ------------------------------------------------------------------------ */

typedef struct clf_nc_summary {
	char network[CLF_MEMBER_MAX + 1];
	char batch[CLF_BATCH_MAX + 1];   /* B + YYYYMMDD + 2 digits */
	char member[CLF_MEMBER_MAX + 1];
	clf_totals_t totals;             /* lines is "legs" */
} clf_nc_summary_t;

/* Is text a NetClear batch id, "B" + YYYYMMDD + 2 digits 01..99? */
bool clf_nc_batch_valid(const char *text);

/* One line, '\n' included, into out (cap >= CLF_SUMMARY_BYTES_MAX always
 * suffices). PS_EINVAL for a field that is not what the format says
 * (legs not the sum of the counts among them), PS_ENOSPC. */
int clf_nc_write(const clf_nc_summary_t *s, char *out, size_t cap,
		 size_t *len);
/* Parses a summary (its text, a trailing '\n' allowed). PS_EFORMAT with
 * err's field ("types.payout.count") and reason, err->line 0. */
int clf_nc_parse(const char *text, size_t len, clf_nc_summary_t *out,
		 clf_error_t *err);

#endif /* PAYSWITCH_CLEARING_FILE_H */
