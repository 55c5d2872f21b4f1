/*
 * adapters.h: the canonical transaction and its wire mappings.
 *
 * Every channel decodes into one record, txn_t, and encodes out of it, so
 * routing, persistence and clearing never see a wire format. This module is
 * the only code that knows ISO 8583 MTIs, processing codes, field numbers,
 * field 90's layout and JSON keys:
 *
 *   inbound request   ISO 8583 -> txn_t   txn_from_iso()
 *                     JSON     -> txn_t   txn_from_json()
 *   outbound leg      txn_t -> ISO 8583   txn_leg_to_iso()
 *                     txn_t -> JSON       txn_leg_to_json()
 *   response to a leg ISO 8583 -> txn_response_t   txn_response_from_iso()
 *                     JSON     -> txn_response_t   txn_response_from_json()
 *   answer to origin  txn_t -> ISO 8583   txn_answer_to_iso()
 *                     txn_t -> JSON       txn_answer_to_json()
 *   client side       txn_t -> JSON request  txn_request_to_json()
 *                     JSON answer -> txn_answer_t  txn_answer_from_json()
 *
 * channel.h puts these together, with framing, into the one interface
 * every link of the switch and of the simulators speaks through; record.h
 * is the versioned form in which the switch stores a transaction.
 *
 * txn_t is plain data (no pointers). Its wire part (txn_wire_t: the
 * origin's STAN and time, card data, the frame header) matters only while
 * the request is being answered and passed on; it is never stored. Strings
 * are NUL-terminated in fixed arrays sized from the ISO field maximums;
 * amounts are int64_t minor units (fen) with an ISO 4217 numeric currency;
 * response codes are enum txn_rc, turned into the two ISO characters only
 * at the edges.
 *
 * Bad input gets a txn_error_t: the field ("amount", "payer.account",
 * "field 4"), the reason, and the response code to answer with (30 format
 * error, 13 invalid amount, 12 invalid transaction, ...). Decoding never
 * allocates except inside jansson, whose allocations during a JSON decode
 * come from a bounded per-thread arena.
 *
 * Never includes uv.h.
 */
#ifndef PAYSWITCH_ADAPTERS_H
#define PAYSWITCH_ADAPTERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iso8583.h"

#define TXN_HEADER_MAX 64 /* = the largest fixed header a channel may have */
#define TXN_PERIOD_MAX 12 /* "20261203", "B2026120301", with the NUL */
#define TXN_LEGS_MAX 3
#define TXN_JSON_LINE_MAX (16 * 1024) /* a JSON line, newline included */
#define TXN_AMOUNT_MAX 999999999999ll /* n12 */
#define TXN_CURRENCY_CNY 156

/* ---- kinds and states ------------------------------------------------
 * The values of these enums are stored (record.h): append, never
 * renumber. */

enum txn_kind {
	TXN_KIND_NONE = 0,
	TXN_KIND_PAY,             /* PSP: debit payer's bank, credit payee's */
	TXN_KIND_REFUND,          /* PSP: reverse legs against a pay */
	TXN_KIND_QUERY,           /* PSP: state of an earlier request */
	TXN_KIND_PURCHASE,        /* debit an account or card (ISO proc 00) */
	TXN_KIND_REFUND_CREDIT,   /* return money to an account (proc 20) */
	TXN_KIND_CREDIT,          /* credit an account (proc 26) */
	TXN_KIND_BALANCE,         /* balance inquiry (proc 31) */
	TXN_KIND_REVERSAL,        /* undo an earlier leg (0400/0420) */
	TXN_KIND_COMPLETION,      /* post an earlier authorisation (0220:
				     two-phase banks) */
	TXN_KIND_NETWORK,         /* sign-on, echo, cutover (0800, PSP hello) */
	TXN_KIND_RECON,           /* reconciliation totals (0500) */
	TXN_KIND_PAYOUT,          /* PSP: credit an account out of the PSP's
				     reserve (no debit leg) */
	TXN_KIND_COUNT
};

/* What a network management message asks (ISO field 70). */
enum txn_net_op {
	TXN_NET_NONE = 0,
	TXN_NET_SIGN_ON,     /* 001; a PSP's hello */
	TXN_NET_SIGN_OFF,    /* 002 */
	TXN_NET_ECHO,        /* 301; a PSP's echo */
	TXN_NET_CUTOVER,     /* 201: cutover begins */
	TXN_NET_CUTOVER_END, /* 202 */
	TXN_NET_KEY_CHANGE,  /* 101 */
	TXN_NET_OTHER,       /* a code of its own: wire.network_code */
};

/* Where a transaction stands, as stored before each message leaves. */
enum txn_state {
	TXN_STATE_NEW = 0,    /* decoded, not yet recorded */
	TXN_STATE_ACTIVE,     /* recorded; legs in progress */
	TXN_STATE_DONE,       /* final answer decided (txn.rc); legs that
				 failed are being reversed in the SAF */
};

enum txn_leg_state {
	TXN_LEG_NONE = 0,
	TXN_LEG_SENT,       /* recorded, then sent; awaiting the response */
	TXN_LEG_APPROVED,   /* response 00 */
	TXN_LEG_DECLINED,   /* response other than 00 */
	TXN_LEG_TIMEOUT,    /* no response by the deadline: reversal queued */
	TXN_LEG_REVERSED,   /* the reversal was acknowledged */
	TXN_LEG_UNSENT,     /* never sent: no route, or endpoints down */
	TXN_LEG_COMPLETED,  /* its completion advice (0220) was acknowledged */
};

enum txn_flags {
	TXN_F_REPEAT = 1u << 1, /* a repeat (0401, 0221, 0421) */
	TXN_F_ON_US = 1u << 2,  /* payer and payee at the same bank */
	TXN_F_BALANCE = 1u << 3, /* balance holds an amount (field 54) */
	TXN_F_RESERVE = 1u << 5, /* a pay whose money went to the PSP's
				    reserve (a NetClear agreement payment),
				    or a refund paid out of it */
	TXN_F_ADVICE = 1u << 4,  /* an advice: the sender does not wait for
				    approval (0220, 0420, 0820) */
};

/* "pay", "purchase", ... */
const char *txn_kind_name(int kind);
/* "sent", "approved", ... */
const char *txn_leg_state_name(int state);

/* ---- response codes ---------------------------------------------------- */

/*
 * A response code. The value is the ISO 8583:1987 code read as a decimal
 * number (51 is "51"), so every code 00..99 a bank sends is kept as it
 * is; the names are those the system acts on. TXN_RC_NONE: no answer yet.
 */
enum txn_rc {
	TXN_RC_APPROVED = 0,
	TXN_RC_DO_NOT_HONOUR = 5,
	TXN_RC_IN_PROGRESS = 9,
	TXN_RC_INVALID_TRANSACTION = 12,
	TXN_RC_INVALID_AMOUNT = 13,
	TXN_RC_INVALID_ACCOUNT = 14,
	TXN_RC_NO_SUCH_ISSUER = 15,
	TXN_RC_NO_RECORD = 25,
	TXN_RC_FORMAT_ERROR = 30,
	TXN_RC_INSUFFICIENT_FUNDS = 51,
	TXN_RC_EXPIRED_CARD = 54,
	TXN_RC_INCORRECT_PIN = 55,
	TXN_RC_NOT_PERMITTED = 57,
	TXN_RC_NOT_PERMITTED_HERE = 58, /* to this terminal or channel */
	TXN_RC_OVER_LIMIT = 61,
	TXN_RC_SECURITY_VIOLATION = 63,
	TXN_RC_TOO_LATE = 68,
	TXN_RC_INOPERATIVE = 91,
	TXN_RC_DUPLICATE = 94,
	TXN_RC_SYSTEM_MALFUNCTION = 96,
	TXN_RC_NONE = 255,
};

/* The two characters of rc ("51"); "96" for a value that is no code. */
void txn_rc_text(uint8_t rc, char out[3]);
/*
 * Parses a two-character field 39. Two digits give their value; any other
 * two printable characters (some networks send "A1", "N7") are an
 * unlisted refusal and give TXN_RC_DO_NOT_HONOUR. PS_EFORMAT when text is
 * not two printable characters.
 */
int txn_rc_parse(const char *text, uint8_t *out);
/* The standard meaning ("insufficient funds" for 51); "unknown response
 * code" for others. */
const char *txn_rc_meaning(uint8_t rc);
/* "approved" for 00, "error" for 30 and 96, "declined" otherwise. */
const char *txn_rc_status(uint8_t rc);

/* ---- the record --------------------------------------------------------- */

/*
 * One message sent towards an endpoint on behalf of a transaction: a debit,
 * a credit, a forwarded purchase, a reversal or a completion. The switch
 * assigns stan, transmit and rrn per endpoint: (stan, transmit) is the key
 * that matches the endpoint's answer to the leg, on every channel.
 */
typedef struct txn_leg {
	uint8_t kind;          /* enum txn_kind of the message sent */
	uint8_t state;         /* enum txn_leg_state */
	uint8_t network;       /* route_network_t the leg travels */
	uint8_t attempts;      /* transmissions so far (reversal repeats) */
	uint8_t rc;            /* the answer; TXN_RC_NONE until then */
	char endpoint[32];     /* destination link name */
	char institution[12];  /* destination bank (ISO field 100), may be "" */
	char account[20];      /* the account this leg moves */
	uint32_t stan;         /* the key: STAN (ISO field 11) ... */
	char transmit[11];     /* ... and time sent, MMDDhhmmss UTC (7) */
	char rrn[13];          /* retrieval reference (37) */
	char auth_code[7];     /* authorisation code received (38) */
	uint64_t sent_ms;      /* wall clock */
	uint64_t deadline_ms;  /* wall clock */
	uint64_t answered_ms;  /* wall clock, 0 until answered */
	/* Clearing (docs/clearing.md). */
	uint32_t window;       /* the switch's window when it was sent */
	char period[TXN_PERIOD_MAX]; /* its clearing period: YYYYMMDD (direct,
				    UnionPay) or a NetClear batch; "" unknown */
	int64_t fee_issuer;    /* a debit leg's fees, minor units */
	int64_t fee_network;   /* ... the network's, from each side */
} txn_leg_t;

/*
 * Reconciliation totals (ISO 8583 0500/0510, fields 74-77, 86-89, 97):
 * what an institution counted for one settlement date.
 */
typedef struct txn_totals {
	uint32_t credits, credit_reversals, debits, debit_reversals;
	int64_t credits_amount, credit_reversals_amount;
	int64_t debits_amount, debit_reversals_amount;
	int64_t net;           /* field 97: > 0 it is owed (C), < 0 it owes (D) */
} txn_totals_t;

/*
 * What only the origin's wire carries: echoed in the answer or passed on
 * to the issuer while the request is in flight, and never stored.
 */
typedef struct txn_wire {
	char mti[5];            /* the origin's MTI */
	char proc[7];           /* field 3 as received */
	uint32_t stan;          /* the origin's field 11 */
	char transmit[11];      /* the origin's field 7 */
	char forwarder[12];     /* the origin's field 33, echoed on the answer
				   (the txn's own is the switch's, on legs) */
	char original_data[43]; /* field 90 as received */
	char receiver[12];      /* field 100 as received */
	char network_code[4];   /* field 70 as received */
	char expiry[5];         /* field 14 YYMM */
	char mcc[5];            /* field 18 */
	char pos_entry[4];      /* field 22 */
	char pos_condition[3];  /* field 25 */
	char track2[38];        /* field 35 */
	uint8_t pin_len;        /* 8 when field 52 came */
	uint8_t pin_block[8];   /* field 52 */
	uint16_t icc_len;
	uint8_t icc[255];       /* field 55 */
	uint8_t header_len;     /* the frame's fixed header (TPDU ...), */
	uint8_t header[TXN_HEADER_MAX]; /* echoed on the answer */
	char settle_date[TXN_PERIOD_MAX]; /* the sender's clearing period as
				   received, and answered: field 15 (MMDD),
				   or a JSON leg's "period" */
	bool has_totals;        /* a 0510's totals (kind RECON) */
	txn_totals_t totals;
} txn_wire_t;

typedef struct txn {
	uint8_t kind;           /* enum txn_kind */
	uint8_t state;          /* enum txn_state */
	uint8_t leg_count;
	uint8_t rc;             /* final answer; TXN_RC_NONE until then */
	uint8_t net_op;         /* kind NETWORK: enum txn_net_op */
	uint16_t flags;         /* enum txn_flags */
	uint64_t id;            /* switch transaction id, unique per switch */
	uint64_t created_ms;    /* wall clock at intake */
	uint64_t answered_ms;   /* wall clock when the final answer was set */
	uint64_t window;        /* settlement window it clears in, 0 none */

	/* Origin: who asked, and the key that deduplicates. */
	char listener[32];      /* origin listener name */
	char participant[16];   /* PSP participant id, or the acquirer (32) */
	char request_id[65];    /* PSP id; ISO: "<32>:<11>:<7>" */
	char acquirer[12];      /* acquiring institution (32) */
	char forwarder[12];     /* forwarding institution (33) */
	char terminal[9];       /* card acceptor terminal (41) */
	char merchant[16];      /* card acceptor id (42) */
	char merchant_name[41]; /* card acceptor name and location (43) */
	char local_time[7];     /* at the acceptor, hhmmss (12) */
	char local_date[5];     /* MMDD (13) */
	char rrn[13];           /* retrieval reference (37) */
	char account_types[5];  /* from and to account type, 2 digits each
				   (digits 3-6 of field 3); "" is "0000" */

	/* Parties and money. */
	char payer[20];         /* debited account or card */
	char payee[20];         /* credited account */
	char payee_name[41];
	int64_t amount;         /* minor units */
	uint16_t currency;      /* ISO 4217 numeric */
	int64_t balance;        /* balance inquiry answer (TXN_F_BALANCE) */
	char memo[129];

	/* What it refers to. */
	char original_id[65];   /* refund: the pay's id; query: the target;
				   acquirer reversal: the original's id */
	uint8_t original_kind;  /* reversal, completion: the leg's kind */
	uint32_t original_stan; /* ... and its key */
	char original_transmit[11];
	char original_acquirer[12];
	uint64_t parent_id;     /* reversal: the transaction it reverses;
				   refund: the pay (or, an acquirer's,
				   the purchase) it refunds */
	uint8_t parent_leg;     /* reversal: the parent's leg it reverses */
	int64_t refunded;       /* pay: sum of approved refunds */
	int64_t refund_pending; /* pay: sum of refunds still in flight */

	/* Final answer. */
	char auth_code[7];      /* field 38 */
	char reason[128];       /* text for JSON answers */

	txn_leg_t leg[TXN_LEGS_MAX];
	txn_wire_t wire;
} txn_t;

/* Zeroes txn and sets kind; rc and every leg's rc are TXN_RC_NONE. */
void txn_init(txn_t *txn, int kind);
/* Sets up leg i of t (kind, account), counting it. */
void txn_set_leg(txn_t *t, unsigned i, int kind, const char *account);
/* A PSP's refund or an acquirer's (a refund credit): it refunds a parent. */
static inline bool txn_is_refund(const txn_t *t)
{
	return t->kind == TXN_KIND_REFUND || t->kind == TXN_KIND_REFUND_CREDIT;
}

/* ---- errors ----------------------------------------------------------- */

typedef struct txn_error {
	char field[32];   /* "amount", "payer.account", "field 4", "" */
	char reason[128]; /* "must be a positive integer" */
	uint8_t rc;       /* response code to answer with */
} txn_error_t;

/* Error codes returned with a filled txn_error_t. */
enum txn_errc {
	TXN_EFORMAT = -401,   /* malformed or missing field: answer 30 */
	TXN_EINVALID = -402,  /* well formed but not acceptable (12, 13) */
	TXN_ENOSPC = -403,    /* output buffer too small */
	TXN_ENOMEM = -404,    /* message too complex for the parse arena */
	TXN_EKEYS = -405,     /* not even the keys of an answer could be read
				 (no MTI or STAN): no answer is possible */
	TXN_EHEADER = -406,   /* the fixed header is wrong (a CUPS header's
				 length, version or total): err->reason
				 starts with its 5-digit reject code */
};

/* ---- message numbers and times ------------------------------------------ */

/* Field 7, transmission date and time: MMDDhhmmss in UTC. */
void txn_format_transmit(uint64_t wall_ms, char out[11]);
/* Fields 12 and 13, local time hhmmss and date MMDD. */
void txn_format_local(uint64_t wall_ms, char time_out[7], char date_out[5]);
/* Field 37, a retrieval reference number: the last digit of the year, the
 * day of the year (3 digits), then 8 digits of seq. */
void txn_format_rrn(uint64_t wall_ms, uint64_t seq, char out[13]);
/* The request id of an ISO 8583 request: "<acquirer>:<stan 6>:<transmit>". */
void txn_iso_request_id(const char *acquirer, uint32_t stan,
			const char *transmit, char out[65]);

/* ---- ISO 8583 --------------------------------------------------------- */

/*
 * Decodes an inbound request (0200, 0220/0221, 0400/0401, 0420/0421,
 * 0800/0820, 0500) into txn (initialised here): kind from the MTI and the
 * processing code, origin keys, parties, amount, card data into
 * txn->wire; a reversal's or completion's field 90 into original_*.
 * request_id becomes "<32>:<11>:<7>". TXN_EFORMAT for a missing mandatory
 * field or a value out of class, TXN_EINVALID for an unsupported MTI or
 * processing code (answer 12), TXN_EKEYS when there is no MTI or no
 * STAN; what could be read stays in txn for the error answer. The message
 * is only read; txn keeps copies.
 */
int txn_from_iso(const iso8583_msg_t *msg, txn_t *txn, txn_error_t *err);
/* What an error answer echoes of a request it could not take: the
 * account (2), processing code (3), amount (4) and currency (49), each
 * when present and well formed; never fails. */
void txn_iso_take_echo(const iso8583_msg_t *msg, txn_t *txn);

/*
 * Encodes the request for leg i of txn into msg (initialised here for the
 * dialect). A financial leg gives 0200 with the processing code of its
 * kind; a reversal (txn kind REVERSAL) gives 0400, or 0401 when
 * TXN_F_REPEAT is set (0420/0421 with TXN_F_ADVICE), with field 90 from
 * original_*; a completion gives 0220, or 0221. The fields point into
 * txn, which must outlive the pack.
 */
int txn_leg_to_iso(const txn_t *txn, unsigned leg,
		   const iso8583_dialect_t *dialect, iso8583_msg_t *msg);

/* The kind of a processing code's first two digits (00 purchase, 20
 * refund credit, 26 credit, 31 balance); TXN_KIND_NONE for others. */
int txn_kind_of_proc(const char *proc);
/* Field 90's STAN, time and acquirer (without its zero padding) into t's
 * original_stan, original_transmit and original_acquirer. PS_EFORMAT
 * unless od is 42 digits. */
int txn_parse_original_data(const char *od, txn_t *t);

/* Network management this side originates: 0800 with field 70 for op,
 * its STAN and field 7 (the key of its answer) and field 33. */
int txn_network_to_iso(int op, uint32_t stan, const char *transmit,
		       const char *institution,
		       const iso8583_dialect_t *dialect, iso8583_msg_t *msg);

/* What an endpoint's response says; (stan, transmit) match it to its leg. */
typedef struct txn_response {
	uint32_t stan;          /* field 11 */
	char transmit[11];      /* field 7 */
	uint8_t rc;             /* field 39 */
	uint8_t net_op;         /* an answer to network management */
	char auth_code[7];      /* field 38 */
	char rrn[13];           /* field 37 */
	bool has_balance;
	int64_t balance;        /* field 54, ledger balance, minor units */
	char period[TXN_PERIOD_MAX]; /* the answerer's clearing period: field
				    15 as MMDD (the caller adds the year), or
				    a JSON answer's "period" */
	bool recon;             /* an answer to a 0500 (0510) */
	bool has_totals;        /* ... approved, with its totals */
	txn_totals_t totals;
} txn_response_t;

/* Is this MTI a response (its third digit odd: 0210, 0410, 0810 ...)? */
bool txn_mti_is_response(const char *mti);

/*
 * Decodes a response message (0210, 0230, 0410, 0430, 0810, 0830, 0510).
 * TXN_EFORMAT when field 11 or 39 is missing or malformed.
 */
int txn_response_from_iso(const iso8583_msg_t *msg, txn_response_t *resp,
			  txn_error_t *err);

/*
 * Encodes the answer to txn's origin: the response MTI of its kind, the
 * origin's fields echoed (2, 3, 4, 7, 11, 12, 13, 32, 37, 41, 42, 49 ...,
 * from txn and txn->wire), and 38, 39 (and 54 for a balance) from the
 * final answer.
 */
/*
 * A reconciliation request (0500) for one settlement date (MMDD, field
 * 15), keyed (stan, transmit) like network management; institution is
 * who asks (33). The 0510 comes back with the totals in txn_response_t.
 */
int txn_recon_to_iso(uint32_t stan, const char *transmit,
		     const char *institution, const char *settle_date,
		     const iso8583_dialect_t *dialect, iso8583_msg_t *msg);

int txn_answer_to_iso(const txn_t *txn, const iso8583_dialect_t *dialect,
		      iso8583_msg_t *msg);

/* ---- JSON ---------------------------------------------------------------- */

/*
 * Decodes one request line (without its newline) into txn. A PSP sends
 * hello, pay, refund, query, echo; a switch sends a JSON endpoint the
 * legs (purchase, credit, refund_credit, balance, reversal, completion),
 * whose "id" is the leg's key: field 7 then the STAN, 16 digits.
 * Amounts must be JSON integers in minor units, 1 to 12 digits;
 * currencies are ISO 4217 codes ("CNY"). Unknown keys are ignored;
 * duplicate keys are rejected. On failure err names the field and
 * txn->request_id holds the request's id when one could be read, so the
 * error answer can carry it. docs/protocol.md has every message.
 */
int txn_from_json(const char *line, size_t len, txn_t *txn, txn_error_t *err);

/* One line of either kind, parsed once: an answer (it has "status") into
 * *resp with *is_response set, else a request into *req, as
 * txn_from_json() and txn_response_from_json() do. */
int txn_json_decode(const char *line, size_t len, txn_t *req,
		    txn_response_t *resp, bool *is_response, txn_error_t *err);

/* ---- NetClear: JSON with a message header (docs/clearing.md) ---------------
 *
 * {"header":{"type","issuer","direction","batch","msg_id"},"body":{...}}:
 * the body is a JSON-lines leg or answer without "op" and "id", which the
 * header's type (agreement_payment = purchase, payout = credit, refund =
 * refund credit, reversal, hello, echo, cutover) and msg_id give; issuer
 * is the sender's member id; batch the answerer's clearing session.
 */
int txn_leg_to_netclear(const txn_t *txn, unsigned leg, const char *issuer,
			char *out, size_t cap, size_t *out_len);
/* The answer to a NetClear request; its batch is txn->wire.settle_date. */
int txn_answer_to_netclear(const txn_t *txn, const char *issuer, char *out,
			   size_t cap, size_t *out_len);
int txn_error_to_netclear(const txn_t *req, const txn_error_t *err,
			  const char *issuer, char *out, size_t cap,
			  size_t *out_len);
/* hello, echo or cutover, keyed (stan, transmit). */
int txn_network_to_netclear(int op, uint32_t stan, const char *transmit,
			    const char *issuer, char *out, size_t cap,
			    size_t *out_len);
/* One line: a response (direction "response") into *resp, with the
 * header's batch as resp->period, else a request into *req, its
 * participant the header's issuer. */
int txn_netclear_decode(const char *line, size_t len, txn_t *req,
			txn_response_t *resp, bool *is_response, txn_error_t *err);

/* Leg i of txn as a request line for a JSON endpoint, '\n' included. */
int txn_leg_to_json(const txn_t *txn, unsigned leg, char *out, size_t cap,
		    size_t *out_len);
/* Network management this side originates: hello (sign-on) or echo,
 * "id" the key of its answer. */
int txn_network_to_json(int op, uint32_t stan, const char *transmit,
			const char *institution, char *out, size_t cap,
			size_t *out_len);
/* A JSON endpoint's answer to a leg or to network management. TXN_EFORMAT
 * when "id" is not a leg's key or "code" is missing. */
int txn_response_from_json(const char *line, size_t len,
			   txn_response_t *resp, txn_error_t *err);

/*
 * Encodes the answer to a request as one line ending in '\n'. For a
 * query, txn is the query and target (may be NULL when not found) the
 * transaction it asks about. TXN_ENOSPC when cap is too small.
 */
int txn_answer_to_json(const txn_t *txn, const txn_t *target, char *out,
		       size_t cap, size_t *out_len);

/* An error answer for a request that could not be decoded. id may be ""
 * (answered as null). */
int txn_error_to_json(const char *id, const txn_error_t *err, char *out,
		      size_t cap, size_t *out_len);

/* Client side (pspsim, tests): a request line from txn, '\n' included. */
int txn_request_to_json(const txn_t *txn, char *out, size_t cap,
			size_t *out_len);

/* A PSP answer as a client reads it. */
typedef struct txn_answer {
	char id[65];
	char status[16];     /* approved, declined, error, pending, ok */
	char code[3];
	char txn[24];        /* switch transaction id */
	char rrn[13];
	char auth_code[7];
	char reason[128];
	char target[65];     /* query answers: the request asked about */
	char state[16];      /* query answers: in_flight, done, unknown */
	char target_status[16]; /* query answers: the target's final status */
	char target_code[3];    /* query answers: the target's final code */
} txn_answer_t;

int txn_answer_from_json(const char *line, size_t len, txn_answer_t *answer,
			 txn_error_t *err);

/* ISO 4217: "CNY" -> 156; 0 when unknown. And back; NULL when unknown. */
uint16_t txn_currency_parse(const char *alpha);
const char *txn_currency_alpha(uint16_t numeric);

/* ---- JSON lines framing ----------------------------------------------- */

/*
 * Splits a byte stream into lines of at most cap bytes, over caller
 * storage, the same way iso8583_framer does for ISO 8583:
 * txn_lines_space()/commit() to read into it, txn_lines_next() until it
 * returns 0. A line (without "\n" or "\r\n") stays valid until the next
 * space call. A line over the bound returns TXN_EFORMAT: close the peer.
 */
typedef struct txn_lines {
	char *buf;
	size_t cap;
	size_t start;   /* first byte not yet yielded */
	size_t scanned; /* bytes from start known to hold no newline */
	size_t len;
} txn_lines_t;

void txn_lines_init(txn_lines_t *lines, char *storage, size_t cap);
void txn_lines_space(txn_lines_t *lines, char **data, size_t *len);
void txn_lines_commit(txn_lines_t *lines, size_t n);
int txn_lines_next(txn_lines_t *lines, const char **line, size_t *len);

#endif /* PAYSWITCH_ADAPTERS_H */
