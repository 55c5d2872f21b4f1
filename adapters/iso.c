/*
 * iso.c: the canonical transaction to and from ISO 8583 (1987) fields.
 *
 * Field use follows DESIGN.md's message catalogue: 2 PAN or account, 3
 * processing code, 4 amount (n12, minor units), 7 transmission time, 11
 * STAN, 12/13 local time and date, 32/33 acquirer and forwarder, 37 RRN,
 * 38 authorisation code, 39 response code, 41/42/43 card acceptor, 49
 * currency, 52 PIN block, 54 balances, 55 ICC data, 70 network code, 90
 * original data, 100 receiving institution, 102/103 accounts.
 *
 * Fixed-length text fields (41, 42, 43) are kept without their trailing
 * space padding and padded again on the way out, so what an acquirer sent
 * reaches the issuer unchanged.
 */
#include "adapters.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core.h"

static int fail(txn_error_t *err, int rc, const char *code, int field,
		const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int fail(txn_error_t *err, int rc, const char *code, int field,
		const char *fmt, ...)
{
	ps_strlcpy(err->code, code, sizeof(err->code));
	if (field > 0)
		snprintf(err->field, sizeof(err->field), "field %d", field);
	else
		err->field[0] = '\0';
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->reason, sizeof(err->reason), fmt, ap);
	va_end(ap);
	return rc;
}

/* ---- decoding --------------------------------------------------------- */

/* Field n as text into out; absent leaves "" and fails only if required. */
static int take(const iso8583_msg_t *msg, int n, char *out, size_t cap,
		bool required, txn_error_t *err)
{
	out[0] = '\0';
	if (!iso8583_has(msg, n)) {
		if (required)
			return fail(err, TXN_EFORMAT, "30", n, "is required");
		return 0;
	}
	int rc = iso8583_get_text(msg, n, out, cap, NULL);
	if (rc != 0) {
		out[0] = '\0';
		return fail(err, TXN_EFORMAT, "30", n,
			    "longer than %zu characters", cap - 1);
	}
	return 0;
}

static int take_digits(const iso8583_msg_t *msg, int n, char *out, size_t cap,
		       bool required, txn_error_t *err)
{
	int rc = take(msg, n, out, cap, required, err);
	if (rc == 0 && out[0] != '\0' && !ps_is_digits(out, strlen(out)))
		rc = fail(err, TXN_EFORMAT, "30", n, "must be digits");
	return rc;
}

static void trim_right(char *s)
{
	size_t len = strlen(s);
	while (len > 0 && s[len - 1] == ' ')
		s[--len] = '\0';
}

static int take_u64(const iso8583_msg_t *msg, int n, uint64_t *out,
		    bool required, txn_error_t *err)
{
	char text[24];
	int rc = take_digits(msg, n, text, sizeof(text), required, err);
	if (rc != 0 || text[0] == '\0')
		return rc;
	if (ps_parse_u64(text, strlen(text), out) != 0)
		return fail(err, TXN_EFORMAT, "30", n, "must be digits");
	return 0;
}

/* The PAN from field 2, or from track 2 (digits before the separator). */
static int take_pan(const iso8583_msg_t *msg, txn_t *txn, txn_error_t *err)
{
	int rc = take_digits(msg, 2, txn->payer, sizeof(txn->payer), false,
			     err);
	if (rc != 0 || txn->payer[0] != '\0')
		return rc;
	if (txn->track2[0] == '\0')
		return 0;
	size_t n = strcspn(txn->track2, "=D");
	if (n == 0 || n >= sizeof(txn->payer))
		return fail(err, TXN_EFORMAT, "30", 35, "holds no PAN");
	memcpy(txn->payer, txn->track2, n);
	txn->payer[n] = '\0';
	return ps_is_digits(txn->payer, n)
		       ? 0
		       : fail(err, TXN_EFORMAT, "30", 35, "holds no PAN");
}

static int financial_kind(const char *proc)
{
	if (strncmp(proc, "00", 2) == 0)
		return TXN_KIND_PURCHASE;
	if (strncmp(proc, "20", 2) == 0)
		return TXN_KIND_REFUND_CREDIT;
	if (strncmp(proc, "26", 2) == 0)
		return TXN_KIND_CREDIT;
	if (strncmp(proc, "31", 2) == 0)
		return TXN_KIND_BALANCE;
	return TXN_KIND_NONE;
}

static int message_kind(const char *mti, uint16_t *flags)
{
	static const struct {
		char mti[5];
		int kind;
		bool repeat;
	} kinds[] = {
		{"0200", TXN_KIND_PURCHASE, false}, /* refined by field 3 */
		{"0220", TXN_KIND_COMPLETION, false},
		{"0221", TXN_KIND_COMPLETION, true},
		{"0400", TXN_KIND_REVERSAL, false},
		{"0401", TXN_KIND_REVERSAL, true},
		{"0420", TXN_KIND_REVERSAL_ADVICE, false},
		{"0421", TXN_KIND_REVERSAL_ADVICE, true},
		{"0800", TXN_KIND_NETWORK, false},
		{"0500", TXN_KIND_RECON, false},
	};
	for (size_t i = 0; i < PS_ARRAY_LEN(kinds); i++) {
		if (memcmp(mti, kinds[i].mti, 4) == 0) {
			if (kinds[i].repeat)
				*flags |= TXN_F_REPEAT;
			return kinds[i].kind;
		}
	}
	return TXN_KIND_NONE;
}

static int take_card_data(const iso8583_msg_t *msg, txn_t *txn,
			  txn_error_t *err)
{
	int rc;
	if ((rc = take_digits(msg, 14, txn->expiry, sizeof(txn->expiry), false, err)) ||
	    (rc = take_digits(msg, 18, txn->mcc, sizeof(txn->mcc), false, err)) ||
	    (rc = take_digits(msg, 22, txn->pos_entry, sizeof(txn->pos_entry), false, err)) ||
	    (rc = take_digits(msg, 25, txn->pos_condition, sizeof(txn->pos_condition), false, err)) ||
	    (rc = take(msg, 35, txn->track2, sizeof(txn->track2), false, err)) ||
	    (rc = take(msg, 41, txn->terminal, sizeof(txn->terminal), false, err)) ||
	    (rc = take(msg, 42, txn->merchant, sizeof(txn->merchant), false, err)) ||
	    (rc = take(msg, 43, txn->merchant_name, sizeof(txn->merchant_name), false, err)))
		return rc;
	trim_right(txn->terminal);
	trim_right(txn->merchant);
	trim_right(txn->merchant_name);
	if (iso8583_has(msg, 52)) {
		size_t len = 0;
		if (iso8583_get_bytes(msg, 52, txn->pin_block,
				      sizeof(txn->pin_block), &len) != 0 ||
		    len != sizeof(txn->pin_block))
			return fail(err, TXN_EFORMAT, "30", 52,
				    "must be 8 bytes");
		txn->flags |= TXN_F_PIN;
	}
	if (iso8583_has(msg, 55)) {
		size_t len = 0;
		if (iso8583_get_bytes(msg, 55, txn->icc, sizeof(txn->icc),
				      &len) != 0)
			return fail(err, TXN_EFORMAT, "30", 55,
				    "longer than %zu bytes", sizeof(txn->icc));
		txn->icc_len = (uint16_t)len;
	}
	return 0;
}

static int take_amounts(const iso8583_msg_t *msg, txn_t *txn, bool required,
			txn_error_t *err)
{
	uint64_t amount = 0, currency = TXN_CURRENCY_CNY;
	int rc = take_u64(msg, 4, &amount, required, err);
	if (rc == 0)
		rc = take_u64(msg, 49, &currency, false, err);
	if (rc != 0)
		return rc;
	if (amount > (uint64_t)TXN_AMOUNT_MAX)
		return fail(err, TXN_EFORMAT, "13", 4, "beyond 12 digits");
	if (currency == 0 || currency > 999)
		return fail(err, TXN_EFORMAT, "30", 49,
			    "must be an ISO 4217 numeric code");
	txn->amount = (int64_t)amount;
	txn->currency = (uint16_t)currency;
	return 0;
}

/* Fields every request carries: the keys that answer and deduplicate. */
static int take_origin(const iso8583_msg_t *msg, txn_t *txn, txn_error_t *err)
{
	uint64_t stan = 0;
	int rc;
	if ((rc = take_u64(msg, 11, &stan, true, err)) ||
	    (rc = take_digits(msg, 7, txn->transmit, sizeof(txn->transmit), true, err)) ||
	    (rc = take_digits(msg, 12, txn->local_time, sizeof(txn->local_time), false, err)) ||
	    (rc = take_digits(msg, 13, txn->local_date, sizeof(txn->local_date), false, err)) ||
	    (rc = take_digits(msg, 32, txn->acquirer, sizeof(txn->acquirer), false, err)) ||
	    (rc = take_digits(msg, 33, txn->forwarder, sizeof(txn->forwarder), false, err)) ||
	    (rc = take(msg, 37, txn->rrn, sizeof(txn->rrn), false, err)) ||
	    (rc = take_digits(msg, 100, txn->receiver, sizeof(txn->receiver), false, err)))
		return rc;
	if (stan > 999999)
		return fail(err, TXN_EFORMAT, "30", 11, "must be 6 digits");
	if (strlen(txn->transmit) != 10)
		return fail(err, TXN_EFORMAT, "30", 7,
			    "must be 10 digits MMDDhhmmss");
	txn->stan = (uint32_t)stan;
	ps_strlcpy(txn->participant, txn->acquirer, sizeof(txn->participant));
	snprintf(txn->request_id, sizeof(txn->request_id), "%s:%06" PRIu32 ":%s",
		 txn->acquirer, txn->stan, txn->transmit);
	return 0;
}

static int take_financial(const iso8583_msg_t *msg, txn_t *txn,
			  txn_error_t *err)
{
	int rc = take_digits(msg, 3, txn->proc, sizeof(txn->proc), true, err);
	if (rc != 0)
		return rc;
	if (strlen(txn->proc) != 6)
		return fail(err, TXN_EFORMAT, "30", 3, "must be 6 digits");
	int kind = financial_kind(txn->proc);
	if (kind == TXN_KIND_NONE)
		return fail(err, TXN_EINVALID, "12", 3,
			    "processing code %.2s not supported", txn->proc);
	txn->kind = (uint8_t)kind;
	if ((rc = take_card_data(msg, txn, err)) || (rc = take_pan(msg, txn, err)))
		return rc;
	if (txn->payer[0] == '\0')
		return fail(err, TXN_EFORMAT, "30", 2, "is required");
	rc = take_amounts(msg, txn, kind != TXN_KIND_BALANCE, err);
	if (rc == 0 && kind != TXN_KIND_BALANCE && txn->amount == 0)
		rc = fail(err, TXN_EINVALID, "13", 4, "must not be zero");
	return rc;
}

static int take_accounts(const iso8583_msg_t *msg, txn_t *txn,
			 txn_error_t *err)
{
	char account[29];
	int rc = take(msg, 102, account, sizeof(account), false, err);
	if (rc == 0 && account[0] != '\0' && txn->payer[0] == '\0')
		ps_strlcpy(txn->payer, account, sizeof(txn->payer));
	if (rc == 0)
		rc = take(msg, 103, account, sizeof(account), false, err);
	if (rc == 0 && account[0] != '\0')
		ps_strlcpy(txn->payee, account, sizeof(txn->payee));
	return rc;
}

int txn_from_iso(const iso8583_msg_t *msg, txn_t *txn, txn_error_t *err)
{
	txn_init(txn, TXN_KIND_NONE);
	txn->protocol = TXN_PROTO_ISO8583;
	memset(err, 0, sizeof(*err));
	if (msg->mti[0] == '\0')
		return fail(err, TXN_EFORMAT, "30", 0, "no MTI");
	memcpy(txn->mti, msg->mti, 4);
	int kind = message_kind(txn->mti, &txn->flags);
	if (kind == TXN_KIND_NONE)
		return fail(err, TXN_EINVALID, "12", 0,
			    "MTI %s is not a request the switch takes",
			    txn->mti);
	txn->kind = (uint8_t)kind;
	int rc = take_origin(msg, txn, err);
	if (rc != 0)
		return rc;
	switch (kind) {
	case TXN_KIND_PURCHASE:
		rc = take_financial(msg, txn, err);
		break;
	case TXN_KIND_REVERSAL:
	case TXN_KIND_REVERSAL_ADVICE:
	case TXN_KIND_COMPLETION:
		rc = take_digits(msg, 90, txn->original_data,
				 sizeof(txn->original_data), true, err);
		if (rc == 0 && strlen(txn->original_data) != 42)
			rc = fail(err, TXN_EFORMAT, "30", 90,
				  "must be 42 digits");
		if (rc == 0)
			rc = take_digits(msg, 3, txn->proc, sizeof(txn->proc),
					 false, err);
		if (rc == 0)
			rc = take_card_data(msg, txn, err);
		if (rc == 0)
			rc = take_pan(msg, txn, err);
		if (rc == 0)
			rc = take_amounts(msg, txn, false, err);
		break;
	case TXN_KIND_NETWORK:
		rc = take_digits(msg, 70, txn->network_code,
				 sizeof(txn->network_code), true, err);
		break;
	default:
		break;
	}
	if (rc == 0)
		rc = take_accounts(msg, txn, err);
	if (rc == 0) {
		rc = take(msg, 38, txn->auth_code, sizeof(txn->auth_code),
			  false, err);
	}
	return rc;
}

bool txn_mti_is_response(const char *mti)
{
	return mti[0] != '\0' && ((mti[2] - '0') & 1) == 1;
}

/* Field 54, first amount: account type, amount type, currency, C/D, n12. */
static bool parse_balance(const char *text, int64_t *out)
{
	if (strlen(text) < 20 || (text[7] != 'C' && text[7] != 'D') ||
	    !ps_is_digits(text + 8, 12))
		return false;
	uint64_t v = 0;
	ps_parse_u64(text + 8, 12, &v);
	*out = text[7] == 'D' ? -(int64_t)v : (int64_t)v;
	return true;
}

int txn_response_from_iso(const iso8583_msg_t *msg, txn_response_t *resp,
			  txn_error_t *err)
{
	memset(resp, 0, sizeof(*resp));
	memset(err, 0, sizeof(*err));
	if (msg->mti[0] == '\0' || !txn_mti_is_response(msg->mti))
		return fail(err, TXN_EFORMAT, "30", 0, "not a response MTI");
	memcpy(resp->mti, msg->mti, 4);
	uint64_t stan = 0;
	char balance[121];
	int rc;
	if ((rc = take_u64(msg, 11, &stan, true, err)) ||
	    (rc = take_digits(msg, 7, resp->transmit, sizeof(resp->transmit), false, err)) ||
	    (rc = take(msg, 39, resp->response, sizeof(resp->response), true, err)) ||
	    (rc = take(msg, 38, resp->auth_code, sizeof(resp->auth_code), false, err)) ||
	    (rc = take(msg, 37, resp->rrn, sizeof(resp->rrn), false, err)) ||
	    (rc = take_digits(msg, 70, resp->network_code, sizeof(resp->network_code), false, err)) ||
	    (rc = take(msg, 54, balance, sizeof(balance), false, err)))
		return rc;
	if (stan > 999999)
		return fail(err, TXN_EFORMAT, "30", 11, "must be 6 digits");
	if (strlen(resp->response) != 2)
		return fail(err, TXN_EFORMAT, "30", 39, "must be 2 characters");
	resp->stan = (uint32_t)stan;
	resp->has_balance = balance[0] != '\0' &&
			    parse_balance(balance, &resp->balance);
	return 0;
}

/* ---- encoding --------------------------------------------------------- */

/*
 * Values made here (padded text, formatted numbers) live in the message's
 * scratch space, so they last exactly as long as the message does.
 */
static int set_copy(iso8583_msg_t *msg, int n, const void *value, size_t len)
{
	if (len > (size_t)ISO8583_SCRATCH_BYTES - msg->scratch_used)
		return TXN_ENOSPC;
	char *dst = msg->scratch + msg->scratch_used;
	memcpy(dst, value, len);
	msg->scratch_used = (uint16_t)(msg->scratch_used + len);
	return iso8583_set(msg, n, dst, len);
}

static int set_text(iso8583_msg_t *msg, int n, const char *value)
{
	size_t len = strlen(value);
	return len == 0 ? 0 : iso8583_set(msg, n, value, len);
}

/* Right-pads text with spaces to a fixed field's length. */
static int set_padded(iso8583_msg_t *msg, int n, const char *value,
		      size_t width)
{
	char padded[64];
	size_t len = strlen(value);
	if (len == 0)
		return 0;
	PS_ASSERT(width < sizeof(padded));
	if (len > width)
		len = width;
	memcpy(padded, value, len);
	memset(padded + len, ' ', width - len);
	return set_copy(msg, n, padded, width);
}

static int set_digits(iso8583_msg_t *msg, int n, uint64_t value, size_t width)
{
	char text[24];
	PS_ASSERT(width < sizeof(text));
	if (ps_format_u64(text, width, value) != 0)
		return TXN_EINVALID;
	return set_copy(msg, n, text, width);
}

static int set_binary(iso8583_msg_t *msg, int n, const uint8_t *bytes,
		      size_t len)
{
	return len == 0 ? 0 : iso8583_set(msg, n, bytes, len);
}

void txn_original_data(const txn_t *txn, unsigned leg, char *out)
{
	PS_ASSERT(leg < TXN_LEGS_MAX);
	const txn_leg_t *l = &txn->leg[leg];
	uint64_t acquirer = 0, forwarder = 0;
	ps_parse_u64(txn->acquirer, strlen(txn->acquirer), &acquirer);
	ps_parse_u64(txn->forwarder, strlen(txn->forwarder), &forwarder);
	snprintf(out, 43, "0200%06" PRIu32 "%.10s%011" PRIu64 "%011" PRIu64,
		 l->stan % 1000000, l->transmit, acquirer % UINT64_C(100000000000),
		 forwarder % UINT64_C(100000000000));
}

static int encode_card_data(const txn_t *txn, iso8583_msg_t *msg)
{
	int rc;
	if ((rc = set_text(msg, 14, txn->expiry)) ||
	    (rc = set_text(msg, 18, txn->mcc)) ||
	    (rc = set_text(msg, 22, txn->pos_entry)) ||
	    (rc = set_text(msg, 25, txn->pos_condition)) ||
	    (rc = set_text(msg, 35, txn->track2)) ||
	    (rc = set_padded(msg, 41, txn->terminal, 8)) ||
	    (rc = set_padded(msg, 42, txn->merchant, 15)) ||
	    (rc = set_padded(msg, 43, txn->merchant_name, 40)))
		return rc;
	if (txn->flags & TXN_F_PIN)
		rc = set_binary(msg, 52, txn->pin_block, sizeof(txn->pin_block));
	if (rc == 0)
		rc = set_binary(msg, 55, txn->icc, txn->icc_len);
	return rc;
}

/* The request of a financial leg, a reversal or a completion advice. */
static int encode_leg(const txn_t *txn, const txn_leg_t *l, iso8583_msg_t *msg)
{
	bool repeat = (txn->flags & TXN_F_REPEAT) != 0;
	bool advice = txn->kind == TXN_KIND_REVERSAL ||
		      txn->kind == TXN_KIND_COMPLETION;
	bool as_advice = (txn->flags & TXN_F_ADVICE) != 0;
	const char *mti = txn->kind == TXN_KIND_REVERSAL
				  ? (as_advice ? (repeat ? "0421" : "0420")
					       : (repeat ? "0401" : "0400"))
			  : txn->kind == TXN_KIND_COMPLETION ? (repeat ? "0221" : "0220")
							     : "0200";
	int rc;
	if ((rc = iso8583_set_mti(msg, mti)) ||
	    (rc = set_text(msg, 2, l->account)) ||
	    (rc = set_text(msg, 3, l->proc)) ||
	    (rc = set_digits(msg, 4, (uint64_t)txn->amount, 12)) ||
	    (rc = set_text(msg, 7, l->transmit)) ||
	    (rc = set_digits(msg, 11, l->stan, 6)) ||
	    (rc = set_text(msg, 12, txn->local_time)) ||
	    (rc = set_text(msg, 13, txn->local_date)) ||
	    (rc = set_text(msg, 32, txn->acquirer)) ||
	    (rc = set_text(msg, 33, txn->forwarder)) ||
	    (rc = set_text(msg, 37, l->rrn)) ||
	    (rc = encode_card_data(txn, msg)) ||
	    (rc = set_digits(msg, 49, txn->currency, 3)) ||
	    (rc = set_text(msg, 100, l->institution)) ||
	    (rc = set_text(msg, 102, txn->payer)) ||
	    (rc = set_text(msg, 103, txn->payee)))
		return rc;
	if (advice)
		rc = set_text(msg, 90, txn->original_data);
	return rc;
}

int txn_leg_to_iso(const txn_t *txn, unsigned leg,
		   const iso8583_dialect_t *dialect, iso8583_msg_t *msg)
{
	PS_ASSERT(leg < TXN_LEGS_MAX);
	const txn_leg_t *l = &txn->leg[leg];
	iso8583_msg_init(msg, dialect);
	if (txn->kind == TXN_KIND_NETWORK) {
		int rc;
		if ((rc = iso8583_set_mti(msg, "0800")) ||
		    (rc = set_text(msg, 7, l->transmit)) ||
		    (rc = set_digits(msg, 11, l->stan, 6)) ||
		    (rc = set_text(msg, 33, txn->forwarder)))
			return rc;
		return set_text(msg, 70, txn->network_code);
	}
	return encode_leg(txn, l, msg);
}

/* 0200 -> 0210, 0401 -> 0410, 0421 -> 0430: the response to a request. */
static void response_mti(const char *request, char out[5])
{
	memcpy(out, request, 4);
	out[2] = (char)(out[2] + 1);
	out[3] = '0';
	out[4] = '\0';
}

static int encode_balance(const txn_t *txn, iso8583_msg_t *msg)
{
	char text[21];
	int64_t balance = txn->balance;
	uint64_t magnitude = balance < 0 ? (uint64_t)-balance : (uint64_t)balance;
	snprintf(text, sizeof(text), "0002%03u%c%012" PRIu64,
		 (unsigned)txn->currency % 1000, balance < 0 ? 'D' : 'C',
		 magnitude % UINT64_C(1000000000000));
	return set_copy(msg, 54, text, 20);
}

int txn_answer_to_iso(const txn_t *txn, const iso8583_dialect_t *dialect,
		      iso8583_msg_t *msg)
{
	iso8583_msg_init(msg, dialect);
	char mti[5];
	response_mti(txn->mti, mti);
	const char *code = txn->response[0] ? txn->response : "96";
	const char *rrn = txn->rrn[0] ? txn->rrn : txn->leg[0].rrn;
	bool money = txn->kind != TXN_KIND_NETWORK;
	int rc;
	if ((rc = iso8583_set_mti(msg, mti)) ||
	    (rc = set_text(msg, 2, money ? txn->payer : "")) ||
	    (rc = set_text(msg, 3, txn->proc)) ||
	    (rc = set_text(msg, 7, txn->transmit)) ||
	    (rc = set_digits(msg, 11, txn->stan, 6)) ||
	    (rc = set_text(msg, 12, txn->local_time)) ||
	    (rc = set_text(msg, 13, txn->local_date)) ||
	    (rc = set_text(msg, 32, txn->acquirer)) ||
	    (rc = set_text(msg, 33, txn->forwarder)) ||
	    (rc = set_text(msg, 37, money ? rrn : "")) ||
	    (rc = set_text(msg, 39, code)) ||
	    (rc = set_padded(msg, 41, txn->terminal, 8)) ||
	    (rc = set_padded(msg, 42, txn->merchant, 15)) ||
	    (rc = set_text(msg, 70, txn->network_code)) ||
	    (rc = set_text(msg, 90, txn->original_data)))
		return rc;
	if (money && (txn->amount > 0 || txn->kind != TXN_KIND_BALANCE)) {
		if ((rc = set_digits(msg, 4, (uint64_t)txn->amount, 12)) ||
		    (rc = set_digits(msg, 49, txn->currency, 3)))
			return rc;
	}
	if (strcmp(code, "00") == 0 && txn->auth_code[0] != '\0')
		rc = set_padded(msg, 38, txn->auth_code, 6);
	if (rc == 0 && (txn->flags & TXN_F_BALANCE))
		rc = encode_balance(txn, msg);
	return rc;
}
