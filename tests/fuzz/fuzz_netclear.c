/*
 * fuzz_netclear.c: the NetClear channel's decoder (adapters/json.c,
 * txn_netclear_decode). Properties: no crash, no read past the input;
 * every failure says why and what to answer; a leg that decodes encodes
 * back (txn_leg_to_netclear) to a line that decodes to the same money and
 * keys; an answer to a request always encodes within its bound; a
 * response keeps the header's batch as its period, bounded.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "adapters.h"

static bool is_leg_kind(int kind)
{
	return kind == TXN_KIND_PURCHASE || kind == TXN_KIND_CREDIT ||
	       kind == TXN_KIND_REFUND_CREDIT || kind == TXN_KIND_REVERSAL;
}

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
	if (txn_leg_to_netclear(&out, 0, "99990000", line, sizeof(line), &len) != 0)
		abort();
	static txn_t back;
	txn_response_t resp;
	txn_error_t err;
	bool is_response;
	if (txn_netclear_decode(line, len - 1, &back, &resp, &is_response, &err) != 0 ||
	    is_response)
		abort();
	if (back.kind != t->kind || back.amount != t->amount ||
	    back.currency != t->currency || back.wire.stan != t->wire.stan ||
	    strcmp(back.wire.transmit, t->wire.transmit) != 0 ||
	    strcmp(back.payer, t->payer) != 0 ||
	    strcmp(back.participant, "99990000") != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static txn_t req;
	txn_response_t resp;
	txn_error_t err;
	bool is_response;
	int rc = txn_netclear_decode((const char *)data, size, &req, &resp,
				     &is_response, &err);
	if (rc != 0) {
		if (err.rc == TXN_RC_APPROVED || err.rc == TXN_RC_NONE ||
		    err.reason[0] == '\0')
			abort();
		static char line[TXN_JSON_LINE_MAX * 2];
		size_t len;
		if (!is_response &&
		    txn_error_to_netclear(&req, &err, "00020000", line, sizeof(line),
					  &len) != 0)
			abort();
		return 0;
	}
	if (is_response) {
		if (strnlen(resp.period, sizeof(resp.period)) >= sizeof(resp.period))
			abort();
		return 0;
	}
	if (is_leg_kind(req.kind))
		check_leg_round_trip(&req);
	static char line[TXN_JSON_LINE_MAX * 2];
	size_t len;
	req.rc = TXN_RC_APPROVED;
	int ec = txn_answer_to_netclear(&req, "00020000", line, sizeof(line), &len);
	if (ec != 0 && ec != TXN_EINVALID)
		abort();
	return 0;
}
