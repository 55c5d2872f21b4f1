/*
 * fuzz_txn_json.c: the JSON channel's parsers (adapters/json.c) and its
 * line splitter. Properties: no crash, no read past the input; a request
 * that decodes encodes back (txn_request_to_json, or txn_leg_to_json for
 * what a switch sends a JSON endpoint) to a line that decodes to the same
 * record; txn_json_decode agrees with the one-purpose decoders; answers
 * always encode within their bound; every failure says why and what to
 * answer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "adapters.h"

static void check_error(const txn_error_t *err)
{
	if (err->rc == TXN_RC_APPROVED || err->rc == TXN_RC_NONE ||
	    err->reason[0] == '\0')
		abort(); /* every failure must say why and how to answer */
}

static bool is_leg_kind(int kind)
{
	switch (kind) {
	case TXN_KIND_PURCHASE:
	case TXN_KIND_CREDIT:
	case TXN_KIND_REFUND_CREDIT:
	case TXN_KIND_BALANCE:
	case TXN_KIND_REVERSAL:
	case TXN_KIND_COMPLETION:
		return true;
	default:
		return false;
	}
}

/*
 * A leg a JSON endpoint received, sent on again as the switch would send
 * it, must reach the next endpoint with the same money and keys.
 */
static void check_leg_round_trip(const txn_t *t)
{
	txn_t out = *t;
	txn_set_leg(&out, 0, t->kind, t->payer);
	out.leg[0].stan = t->wire.stan;
	memcpy(out.leg[0].transmit, t->wire.transmit, sizeof(out.leg[0].transmit));
	memcpy(out.leg[0].rrn, t->rrn, sizeof(out.leg[0].rrn));
	memcpy(out.leg[0].institution, t->wire.receiver,
	       sizeof(out.leg[0].institution));
	static char line[TXN_JSON_LINE_MAX * 2];
	size_t len;
	if (txn_leg_to_json(&out, 0, line, sizeof(line), &len) != 0)
		abort();
	txn_t back;
	txn_error_t err;
	if (txn_from_json(line, len - 1, &back, &err) != 0)
		abort();
	bool refers = t->kind == TXN_KIND_REVERSAL ||
		      t->kind == TXN_KIND_COMPLETION;
	if (back.kind != t->kind || back.amount != t->amount ||
	    back.currency != t->currency || back.wire.stan != t->wire.stan ||
	    strcmp(back.wire.transmit, t->wire.transmit) != 0 ||
	    strcmp(back.payer, t->payer) != 0 ||
	    strcmp(back.acquirer, t->acquirer) != 0 ||
	    strcmp(back.forwarder, t->forwarder) != 0 ||
	    strcmp(back.rrn, t->rrn) != 0 ||
	    strcmp(back.merchant_name, t->merchant_name) != 0 ||
	    strcmp(back.wire.receiver, t->wire.receiver) != 0)
		abort();
	if (!refers && strcmp(back.payee, t->payee) != 0)
		abort();
	/* Only a reversal or completion carries its flags and original. */
	if (refers && (back.flags != t->flags ||
		       back.original_stan != t->original_stan ||
		       back.original_kind != t->original_kind ||
		       strcmp(back.original_transmit, t->original_transmit) != 0 ||
		       strcmp(back.original_id, t->original_id) != 0))
		abort();
}

static void check_round_trip(const txn_t *t)
{
	static char line[TXN_JSON_LINE_MAX * 2];
	size_t len;
	if (is_leg_kind(t->kind))
		check_leg_round_trip(t);
	if (t->kind == TXN_KIND_NONE ||
	    txn_request_to_json(t, line, sizeof(line), &len) != 0)
		return;
	txn_t back;
	txn_error_t err;
	if (txn_from_json(line, len - 1, &back, &err) != 0)
		abort();
	if (memcmp(t, &back, sizeof(back)) != 0)
		abort();
	txn_t answered = *t;
	answered.rc = TXN_RC_APPROVED;
	if (txn_answer_to_json(&answered, NULL, line, sizeof(line), &len) != 0)
		abort();
}

/* One parse of either kind gives what the one-purpose decoder gives. */
static void check_decode_either(const uint8_t *data, size_t size)
{
	static txn_t req, alone;
	txn_response_t resp, resp_alone;
	bool is_response;
	txn_error_t err, err_alone;
	int rc = txn_json_decode((const char *)data, size, &req, &resp,
				 &is_response, &err);
	if (rc != 0)
		check_error(&err);
	if (is_response) {
		int rc_alone = txn_response_from_json((const char *)data, size,
						      &resp_alone, &err_alone);
		if (rc != rc_alone ||
		    (rc == 0 && memcmp(&resp, &resp_alone, sizeof(resp)) != 0))
			abort();
		return;
	}
	int rc_alone = txn_from_json((const char *)data, size, &alone, &err_alone);
	if (rc != rc_alone || memcmp(&req, &alone, sizeof(req)) != 0)
		abort();
}

static void split_lines(const uint8_t *data, size_t size)
{
	static char storage[256];
	txn_lines_t sp;
	txn_lines_init(&sp, storage, sizeof(storage));
	size_t off = 0;
	while (off < size) {
		char *dst;
		size_t room;
		txn_lines_space(&sp, &dst, &room);
		size_t n = (size_t)(data[off] % 17) + 1; /* chunk size from the data */
		if (n > room)
			n = room;
		if (n > size - off)
			n = size - off;
		memcpy(dst, data + off, n);
		off += n;
		txn_lines_commit(&sp, n);
		const char *line;
		size_t len;
		int rc;
		while ((rc = txn_lines_next(&sp, &line, &len)) == 1)
			if (len == 0 || memchr(line, '\n', len) != NULL)
				abort();
		if (rc < 0)
			return;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static txn_t t;
	txn_error_t err;
	if (txn_from_json((const char *)data, size, &t, &err) == 0)
		check_round_trip(&t);
	else
		check_error(&err);
	check_decode_either(data, size);
	txn_answer_t a;
	txn_answer_from_json((const char *)data, size, &a, &err);
	split_lines(data, size);
	return 0;
}
