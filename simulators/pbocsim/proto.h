/*
 * proto.h: PBOC's wire protocol (docs/clearing.md, "PBOC (pbocsim): the
 * protocol"; docs/pbocsim.md has examples): JSON lines over TCP, one
 * request per line, answered by id in any order.
 *
 *   {"op":"settle","id":"S1","batch":"SW99990000-20261203","submitter":"99990000",
 *    "currency":"CNY","positions":[{"member":"01020000","amount":-128500}, ...]}
 *   {"op":"batch","id":"Q1","batch":"SW99990000-20261203"}
 *   {"op":"balance","id":"B1","member":"01020000"}
 *   {"op":"fund","id":"F1","member":"01020000","amount":500000}
 *   {"op":"members","id":"M1"}                  (optional "after":"<member>")
 *
 * A pboc_msg_t is one request and, once answered, its answer: the work
 * area of the server loop's record. pboc_request_decode fills the
 * request part from a line (or an "error" answer naming the field, with
 * the id when it could still be read); the simulator fills the answer
 * part; pboc_answer_encode writes the answer line.
 *
 * Requests are parsed with jansson, whose allocations during a parse come
 * from a static arena reset per line (pboc_proto_init installs it once):
 * no malloc per request, and a hostile line can use no more than the
 * arena (its parse then fails and it is answered "error"). One thread
 * only. Keys a request does not need are ignored (a newer client may send
 * more); every key it needs is checked, and an error says which.
 *
 * Pure: never includes uv.h.
 */
#ifndef PAYSWITCH_PBOCSIM_PROTO_H
#define PAYSWITCH_PBOCSIM_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "members.h"
#include "pboc.h"
#include "store.h"

#define PBOC_MEMBERS_PAGE 100   /* members in one "members" answer */
#define PBOC_FIELD_MAX 32       /* a field's name in an error */

enum pboc_op {
	PBOC_OP_NONE = 0, /* unreadable: answered with the error */
	PBOC_OP_SETTLE,
	PBOC_OP_BATCH,
	PBOC_OP_BALANCE,
	PBOC_OP_FUND,
	PBOC_OP_MEMBERS,
};

/* What an answer says. */
enum pboc_status {
	PBOC_ST_NONE = 0, /* not answered yet */
	PBOC_ST_OK,
	PBOC_ST_POSTED,
	PBOC_ST_QUEUED,
	PBOC_ST_REJECTED,
	PBOC_ST_UNKNOWN,  /* "batch": no such batch */
	PBOC_ST_ERROR,    /* the request, or our storage, failed */
};

/* "settle", ..., "none". */
const char *pboc_op_name(int op);
/* "ok", "posted", "queued", "rejected", "unknown", "error"; "none". */
const char *pboc_status_name(int status);

typedef struct pboc_member_row {
	char member[PBOC_MEMBER_ID_MAX + 1];
	uint8_t kind;
	int64_t balance;
	int64_t credit_limit;
} pboc_member_row_t;

typedef struct pboc_msg {
	/* The request. */
	uint8_t op;                          /* enum pboc_op */
	char id[PBOC_REQUEST_ID_MAX + 1];    /* "" when none could be read */
	char member[PBOC_MEMBER_ID_MAX + 1]; /* balance, fund; members' after */
	int64_t amount;                      /* fund */
	pboc_batch_t batch;                  /* settle: id, submitter,
						positions; batch: id. The
						answer: the batch as it stands */
	/* The answer. */
	uint8_t status;                      /* enum pboc_status */
	char field[PBOC_FIELD_MAX];          /* an error's field ("" none) */
	char reason[PBOC_REASON_MAX];
	int64_t balance;                     /* balance, fund */
	int64_t credit_limit;                /* balance */
	uint8_t kind;                        /* balance: the member's */
	uint32_t released;                   /* settle, fund: queued batches
						that posted because of it */
	uint32_t rows;                       /* members */
	pboc_member_row_t row[PBOC_MEMBERS_PAGE];
	bool more;                           /* members: a next page */
} pboc_msg_t;

/* Installs the parse arena in jansson (once, before any request is
 * decoded; configuration parsing before it is unaffected). */
void pboc_proto_init(void);

/*
 * Decodes one line (without its newline) into m, which must be zeroed.
 * 0: m holds a request whose fields are all well formed (ids and member
 * ids by their syntax, amounts in range, at most positions_max positions,
 * currency CNY). PS_EFORMAT: m->status is PBOC_ST_ERROR with m->field
 * and m->reason ("positions[2].amount", "must be an integer from ...");
 * m->id holds the request's id if it could be read, even from a line
 * that is no JSON, and m->op its op when known. Never fails otherwise.
 */
int pboc_request_decode(const char *line, size_t len, uint32_t positions_max,
			pboc_msg_t *m);

/*
 * The answer line for m (m->status set), '\n' included, into out (cap
 * bytes); *len its length. PS_ENOSPC when it does not fit (never for
 * an answer of at most PBOC_POSITIONS_MAX positions and
 * PBOC_MEMBERS_PAGE members in PBOC_ANSWER_BYTES_MAX).
 */
#define PBOC_ANSWER_BYTES_MAX (16u * 1024u)
int pboc_answer_encode(const pboc_msg_t *m, char *out, size_t cap,
		       size_t *len);

#endif /* PAYSWITCH_PBOCSIM_PROTO_H */
