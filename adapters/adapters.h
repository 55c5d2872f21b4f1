/*
 * adapters.h: the canonical transaction and its wire mappings.
 *
 * Every channel decodes into one record, txn_t, and encodes out of it, so
 * routing, persistence and clearing never see a wire format. This module is
 * the only code that knows ISO 8583 field numbers and JSON keys:
 *
 *   inbound request   ISO 8583 -> txn_t   txn_from_iso()
 *                     JSON     -> txn_t   txn_from_json()
 *   outbound leg      txn_t -> ISO 8583   txn_leg_to_iso()
 *   response to a leg ISO 8583 -> txn_response_t   txn_response_from_iso()
 *   answer to origin  txn_t -> ISO 8583   txn_answer_to_iso()
 *                     txn_t -> JSON       txn_answer_to_json()
 *   client side       txn_t -> JSON request  txn_request_to_json()
 *                     JSON answer -> txn_answer_t  txn_answer_from_json()
 *
 * txn_t is plain data (no pointers), so the switch stores it in LMDB as it
 * is (with TXN_FORMAT as its version) and a simulator can keep one per
 * request. Strings are NUL-terminated in fixed arrays sized from the ISO
 * field maximums; amounts are int64_t minor units (fen) with an ISO 4217
 * numeric currency.
 *
 * Bad input gets a txn_error_t: the field ("amount", "payer.account",
 * "field 4"), the reason, and the response code to answer with (30 format
 * error, 13 invalid amount, 12 invalid transaction, ...). Decoding never
 * allocates except inside jansson, whose allocations during txn_from_json
 * and txn_answer_from_json come from a bounded per-thread arena.
 *
 * Never includes uv.h.
 */
#ifndef PAYSWITCH_ADAPTERS_H
#define PAYSWITCH_ADAPTERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iso8583.h"

#define TXN_FORMAT 1
#define TXN_HEADER_MAX 64 /* = the largest fixed header a channel may have */
#define TXN_LEGS_MAX 3
#define TXN_JSON_LINE_MAX (16 * 1024) /* a PSP line, newline included */
#define TXN_AMOUNT_MAX 999999999999ll /* n12 */
#define TXN_CURRENCY_CNY 156

/* ---- kinds and states ------------------------------------------------ */

enum txn_kind {
	TXN_KIND_NONE = 0,
	TXN_KIND_PAY,             /* PSP: debit payer's bank, credit payee's */
	TXN_KIND_REFUND,          /* PSP: reverse legs against a pay */
	TXN_KIND_QUERY,           /* PSP: state of an earlier request */
	TXN_KIND_ECHO,            /* PSP echo */
	TXN_KIND_HELLO,           /* PSP session start */
	TXN_KIND_PURCHASE,        /* 0200 proc 00: debit an account or card */
	TXN_KIND_REFUND_CREDIT,   /* 0200 proc 20: return money to an account */
	TXN_KIND_CREDIT,          /* 0200 proc 26: credit an account */
	TXN_KIND_BALANCE,         /* 0200 proc 31: balance inquiry */
	TXN_KIND_REVERSAL,        /* 0400/0401 */
	TXN_KIND_REVERSAL_ADVICE, /* 0420/0421 */
	TXN_KIND_COMPLETION,      /* 0220/0221: post an earlier authorisation
				     (two-phase banks) */
	TXN_KIND_NETWORK,         /* 0800: sign-on, sign-off, echo, cutover */
	TXN_KIND_RECON,           /* 0500 */
	TXN_KIND_COUNT
};

/* Where a transaction stands, as stored before each message leaves. */
enum txn_state {
	TXN_STATE_NEW = 0,    /* decoded, not yet recorded */
	TXN_STATE_ACTIVE,     /* recorded; legs in progress */
	TXN_STATE_DONE,       /* final answer decided (txn.response); legs
				 that failed are being reversed in the SAF */
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

enum txn_network {
	TXN_NET_DIRECT = 0,
	TXN_NET_UNIONPAY,
	TXN_NET_NETCLEAR,
};

enum txn_protocol { TXN_PROTO_ISO8583 = 0, TXN_PROTO_JSON };

enum txn_flags {
	TXN_F_PIN = 1u << 0,    /* pin_block holds field 52 */
	TXN_F_REPEAT = 1u << 1, /* a repeat (0401, 0421) */
	TXN_F_ON_US = 1u << 2,  /* payer and payee at the same bank */
	TXN_F_BALANCE = 1u << 3, /* balance holds an amount (field 54) */
	TXN_F_ADVICE = 1u << 4   /* a reversal sent as an advice: 0420/0421
				    (an acquirer's advice passed on) */
};

const char *txn_kind_name(int kind);          /* "pay", "purchase", ... */
const char *txn_leg_state_name(int state);    /* "sent", "approved", ... */
const char *txn_network_name(int network);    /* "direct", ... */
/* "direct", "unionpay", "netclear" to enum txn_network; -1 if unknown. */
int txn_network_parse(const char *name);

/* ---- the record ------------------------------------------------------- */

/*
 * One message sent towards an endpoint on behalf of a transaction: a debit,
 * a credit, a forwarded purchase, a reversal or a network message. The
 * switch assigns stan, transmit and rrn per endpoint and restores the
 * origin's on the way back.
 */
typedef struct txn_leg {
	uint8_t kind;          /* enum txn_kind of the message sent */
	uint8_t state;         /* enum txn_leg_state */
	uint8_t network;       /* enum txn_network the leg travels */
	uint8_t attempts;      /* transmissions so far (reversal repeats) */
	char endpoint[32];     /* destination link name */
	char institution[12];  /* destination bank (field 100), may be "" */
	char account[20];      /* field 2: the account this leg moves */
	char proc[7];          /* field 3 */
	uint32_t stan;         /* field 11 as sent */
	char transmit[11];     /* field 7 as sent, MMDDhhmmss UTC */
	char rrn[13];          /* field 37 as sent */
	char response[3];      /* field 39 received, "" until then */
	char auth_code[7];     /* field 38 received */
	uint64_t sent_ms;      /* wall clock */
	uint64_t deadline_ms;  /* wall clock */
	uint64_t answered_ms;  /* wall clock, 0 until answered */
} txn_leg_t;

typedef struct txn {
	uint16_t format;        /* TXN_FORMAT */
	uint8_t kind;           /* enum txn_kind */
	uint8_t state;          /* enum txn_state */
	uint8_t protocol;       /* origin's enum txn_protocol */
	uint8_t leg_count;
	uint16_t flags;         /* enum txn_flags */
	uint64_t id;            /* switch transaction id, unique per switch */
	uint64_t created_ms;    /* wall clock at intake */
	uint64_t answered_ms;   /* wall clock when the final answer was set */

	/* Origin: who asked, and the keys to answer and to deduplicate. */
	char listener[32];      /* origin listener name */
	char participant[16];   /* PSP participant id, or the acquirer (32) */
	char request_id[65];    /* PSP id; ISO: "<32>:<11>:<7>" */
	char mti[5];            /* request MTI as received */
	char proc[7];           /* field 3 */
	uint32_t stan;          /* field 11 */
	char transmit[11];      /* field 7 */
	char local_time[7];     /* field 12 hhmmss */
	char local_date[5];     /* field 13 MMDD */
	char rrn[13];           /* field 37 */
	char acquirer[12];      /* field 32 */
	char forwarder[12];     /* field 33 */
	char terminal[9];       /* field 41 */
	char merchant[16];      /* field 42 */
	char merchant_name[41]; /* field 43 */
	char mcc[5];            /* field 18 */
	char expiry[5];         /* field 14 YYMM */
	char pos_entry[4];      /* field 22 */
	char pos_condition[3];  /* field 25 */
	char track2[38];        /* field 35 */
	uint8_t pin_block[8];   /* field 52, when flags has TXN_F_PIN */
	uint16_t icc_len;
	uint8_t icc[255];       /* field 55 */
	char network_code[4];   /* field 70 */
	char original_data[43]; /* field 90: MTI, STAN, 7, 32, 33 of the
				   original */
	char receiver[12];      /* field 100 */
	uint8_t header_len;     /* the origin's fixed frame header (TPDU...) */
	uint8_t header[TXN_HEADER_MAX]; /* echoed on the answer */

	/* Parties and money. */
	char payer[20];         /* debited account or card (field 2/102) */
	char payee[20];         /* credited account (field 103) */
	char payee_name[41];
	int64_t amount;         /* minor units */
	uint16_t currency;      /* ISO 4217 numeric */
	int64_t balance;        /* balance inquiry answer (TXN_F_BALANCE) */
	char memo[129];
	char original_id[65];   /* refund: the pay's id; query: the target */
	uint64_t parent_id;     /* reversal: the transaction it reverses;
				   refund: the pay it refunds */
	uint8_t parent_leg;     /* reversal: the parent's leg it reverses */
	int64_t refunded;       /* pay: sum of approved refunds */
	int64_t refund_pending; /* pay: sum of refunds still in flight */

	/* Final answer. */
	char response[3];       /* field 39 / "code" */
	char auth_code[7];      /* field 38 */
	char reason[128];       /* text for JSON answers */

	txn_leg_t leg[TXN_LEGS_MAX];
} txn_t;

/* Zeroes txn and sets format and kind. */
void txn_init(txn_t *txn, int kind);

/* ---- message numbers and times ------------------------------------------ */

/* Field 7, transmission date and time: MMDDhhmmss in UTC. */
void txn_format_transmit(uint64_t wall_ms, char out[11]);
/* Fields 12 and 13, local time hhmmss and date MMDD. */
void txn_format_local(uint64_t wall_ms, char time_out[7], char date_out[5]);
/* Field 37, a retrieval reference number: the last digit of the year, the
 * day of the year (3 digits), then 8 digits of seq. */
void txn_format_rrn(uint64_t wall_ms, uint64_t seq, char out[13]);

/* ---- errors ----------------------------------------------------------- */

typedef struct txn_error {
	char field[32];   /* "amount", "payer.account", "field 4", "" */
	char reason[128]; /* "must be a positive integer" */
	char code[3];     /* response code to answer with: "30", "13", ... */
} txn_error_t;

/* Error codes returned with a filled txn_error_t. */
enum txn_errc {
	TXN_EFORMAT = -401,   /* malformed or missing field: answer 30 */
	TXN_EINVALID = -402,  /* well formed but not acceptable (12, 13) */
	TXN_ENOSPC = -403,    /* output buffer too small */
	TXN_ENOMEM = -404,    /* message too complex for the parse arena */
};

/* The standard meaning of an ISO 8583 response code ("insufficient
 * funds" for "51"); "unknown response code" for others. */
const char *txn_response_text(const char *code);
/* "approved" for 00, "declined" otherwise; "error" for 30, 96. */
const char *txn_response_status(const char *code);

/* ---- ISO 8583 --------------------------------------------------------- */

/*
 * Decodes an inbound request (0200, 0220/0221, 0400/0401, 0420/0421, 0800,
 * 0500) into
 * txn (initialised here): kind from MTI and processing code, origin keys,
 * parties, amount, card data. request_id becomes "<32>:<11>:<7>".
 * TXN_EFORMAT for a missing mandatory field or a value out of class,
 * TXN_EINVALID for an unsupported MTI or processing code (answer 12).
 * The message is only read; txn keeps copies.
 */
int txn_from_iso(const iso8583_msg_t *msg, txn_t *txn, txn_error_t *err);

/*
 * Encodes the request for leg i of txn into msg (initialised here for the
 * dialect). Financial legs give 0200; a reversal (txn kind REVERSAL) gives
 * 0400, or 0401 when TXN_F_REPEAT is set (0420/0421 with TXN_F_ADVICE),
 * with field 90; a completion
 * (kind COMPLETION) gives 0220, or 0221, with field 90; a network txn
 * gives 0800 with field 70. The fields point into txn, which must outlive
 * the pack.
 */
int txn_leg_to_iso(const txn_t *txn, unsigned leg,
		   const iso8583_dialect_t *dialect, iso8583_msg_t *msg);

/* What an endpoint's response says; the keys match it to its leg. */
typedef struct txn_response {
	char mti[5];
	uint32_t stan;          /* field 11 */
	char transmit[11];      /* field 7 */
	char response[3];       /* field 39 */
	char auth_code[7];      /* field 38 */
	char rrn[13];           /* field 37 */
	char network_code[4];   /* field 70 */
	bool has_balance;
	int64_t balance;        /* field 54, ledger balance, minor units */
} txn_response_t;

/* Is this MTI a response (its third digit odd: 0210, 0410, 0810 ...)? */
bool txn_mti_is_response(const char *mti);

/*
 * Decodes a response message (0210, 0410, 0430, 0810, 0510).
 * TXN_EFORMAT when field 11 or 39 is missing or malformed.
 */
int txn_response_from_iso(const iso8583_msg_t *msg, txn_response_t *resp,
			  txn_error_t *err);

/*
 * Encodes the answer to txn's origin: the response MTI of txn->mti, the
 * origin's echoed fields (2, 3, 4, 7, 11, 12, 13, 32, 37, 41, 42, 49 ...),
 * and 38, 39 (and 54 for a balance) from the final answer.
 */
int txn_answer_to_iso(const txn_t *txn, const iso8583_dialect_t *dialect,
		      iso8583_msg_t *msg);

/* Field 90 for a reversal of leg i of txn: MTI, STAN, 7, 32 and 33 of the
 * original, 42 digits. out must hold 43 bytes. */
void txn_original_data(const txn_t *txn, unsigned leg, char *out);

/* ---- JSON (the PSP channel) ------------------------------------------ */

/*
 * Decodes one PSP request line (without its newline) into txn: hello, pay,
 * refund, query, echo. Amounts must be JSON integers in minor units, 1 to
 * 12 digits; currencies are ISO 4217 codes ("CNY"). Unknown keys are
 * ignored; duplicate keys are rejected. On failure err names the field and
 * txn->request_id holds the request's id when one could be read, so the
 * error answer can carry it.
 */
int txn_from_json(const char *line, size_t len, txn_t *txn, txn_error_t *err);

/*
 * Encodes the answer to a PSP request as one line ending in '\n'. For a
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
 * Splits a byte stream into lines of at most TXN_JSON_LINE_MAX bytes, over
 * caller storage of that size, the same way iso8583_framer does for ISO
 * 8583: txn_lines_space()/commit() to read into it, txn_lines_next() until
 * it returns 0. A line (without "\n" or "\r\n") stays valid until the next
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
