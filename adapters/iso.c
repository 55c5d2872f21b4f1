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
 * The MTI is the message's class (02 financial, 04 reversal, 05
 * reconciliation, 08 network), its function (0 request, 2 advice) and
 * whether it is a repeat; the canonical kind and flags say the same, and
 * this file is the only place that turns one into the other. Likewise the
 * processing code (a kind's two digits and the account types) and field
 * 90 (the original's MTI, STAN, time, acquirer and forwarder).
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

static int fail(txn_error_t *err, int rc, uint8_t code, int field,
		const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int fail(txn_error_t *err, int rc, uint8_t code, int field,
		const char *fmt, ...)
{
	err->rc = code;
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

/* ---- the vocabulary: processing codes and network codes ----------------- */

static const struct {
	char digits[3];
	uint8_t kind;
} proc_kinds[] = {
	{"00", TXN_KIND_PURCHASE},
	{"20", TXN_KIND_REFUND_CREDIT},
	{"26", TXN_KIND_CREDIT},
	{"31", TXN_KIND_BALANCE},
};

int txn_kind_of_proc(const char *proc)
{
	for (size_t i = 0; i < PS_ARRAY_LEN(proc_kinds); i++)
		if (strncmp(proc, proc_kinds[i].digits, 2) == 0)
			return proc_kinds[i].kind;
	return TXN_KIND_NONE;
}

/* Field 3 for a leg of kind, with t's account types. */
static void proc_of(int kind, const txn_t *t, char out[7])
{
	const char *digits = "00";
	for (size_t i = 0; i < PS_ARRAY_LEN(proc_kinds); i++)
		if (proc_kinds[i].kind == kind)
			digits = proc_kinds[i].digits;
	memcpy(out, digits, 2);
	memcpy(out + 2, strlen(t->account_types) == 4 ? t->account_types : "0000", 4);
	out[6] = '\0';
}

static const struct {
	char code[4];
	uint8_t op;
} net_codes[] = {
	{"001", TXN_NET_SIGN_ON},   {"002", TXN_NET_SIGN_OFF},
	{"301", TXN_NET_ECHO},      {"201", TXN_NET_CUTOVER},
	{"202", TXN_NET_CUTOVER_END}, {"101", TXN_NET_KEY_CHANGE},
};

static uint8_t net_op_of(const char *code)
{
	for (size_t i = 0; i < PS_ARRAY_LEN(net_codes); i++)
		if (strcmp(code, net_codes[i].code) == 0)
			return net_codes[i].op;
	return TXN_NET_OTHER;
}

static const char *net_code_of(int op)
{
	for (size_t i = 0; i < PS_ARRAY_LEN(net_codes); i++)
		if (net_codes[i].op == op)
			return net_codes[i].code;
	return NULL;
}

/* The request MTI of a kind: class, function (advice), repeat. */
static void request_mti(int kind, uint16_t flags, char out[5])
{
	char cls = '2';
	switch (kind) {
	case TXN_KIND_REVERSAL: cls = '4'; break;
	case TXN_KIND_NETWORK: cls = '8'; break;
	case TXN_KIND_RECON: cls = '5'; break;
	default: break;
	}
	bool advice = (flags & TXN_F_ADVICE) || kind == TXN_KIND_COMPLETION;
	out[0] = '0';
	out[1] = cls;
	out[2] = advice ? '2' : '0';
	out[3] = (flags & TXN_F_REPEAT) ? '1' : '0';
	out[4] = '\0';
}

/* 0200 -> 0210, 0401 -> 0410, 0421 -> 0430: the response to a request. */
/* The answer's MTI: function 0 (request) gives 1, 2 (advice) 3, 4
 * (notification) 5; a function that is none of these (an MTI such as
 * 9999, answered 12) gives 1, so that even it has an answer. */
static void response_mti(const char *request, char out[5])
{
	memcpy(out, request, 4);
	char f = out[2];
	out[2] = f == '0' || f == '2' || f == '4' ? (char)(f + 1) : '1';
	out[3] = '0';
	out[4] = '\0';
}

/* ISO 8583:1987 message functions 1 (request response) and 3 (advice
 * response) are answers; everything else is taken as a request. */
bool txn_mti_is_response(const char *mti)
{
	return mti[0] != '\0' && (mti[2] == '1' || mti[2] == '3');
}

/* ---- decoding --------------------------------------------------------- */

/* Field n as text into out; absent leaves "" and fails only if required. */
static int take(const iso8583_msg_t *msg, int n, char *out, size_t cap,
		bool required, txn_error_t *err)
{
	out[0] = '\0';
	if (!iso8583_has(msg, n)) {
		if (required)
			return fail(err, TXN_EFORMAT, TXN_RC_FORMAT_ERROR, n,
				    "is required");
		return 0;
	}
	int rc = iso8583_get_text(msg, n, out, cap, NULL);
	if (rc != 0) {
		out[0] = '\0';
		return fail(err, TXN_EFORMAT, TXN_RC_FORMAT_ERROR, n,
			    "longer than %zu characters", cap - 1);
	}
	return 0;
}

static int take_digits(const iso8583_msg_t *msg, int n, char *out, size_t cap,
		       bool required, txn_error_t *err)
{
	int rc = take(msg, n, out, cap, required, err);
	if (rc == 0 && out[0] != '\0' && !ps_is_digits(out, strlen(out)))
		rc = fail(err, TXN_EFORMAT, TXN_RC_FORMAT_ERROR, n,
			  "must be digits");
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
		return fail(err, TXN_EFORMAT, TXN_RC_FORMAT_ERROR, n,
			    "must be digits");
	return 0;
}

/* The PAN from field 2, or from track 2 (digits before the separator). */
static int take_pan(const iso8583_msg_t *msg, txn_t *txn, txn_error_t *err)
{
	int rc = take_digits(msg, 2, txn->payer, sizeof(txn->payer), false,
			     err);
	if (rc != 0 || txn->payer[0] != '\0')
		return rc;
	const char *track2 = txn->wire.track2;
	if (track2[0] == '\0')
		return 0;
	size_t n = strcspn(track2, "=D");
	if (n == 0 || n >= sizeof(txn->payer))
		return fail(err, TXN_EFORMAT, TXN_RC_FORMAT_ERROR, 35,
			    "holds no PAN");
	memcpy(txn->payer, track2, n);
	txn->payer[n] = '\0';
	return ps_is_digits(txn->payer, n)
		       ? 0
		       : fail(err, TXN_EFORMAT, TXN_RC_FORMAT_ERROR, 35,
			      "holds no PAN");
}

/* Kind and flags from the MTI; TXN_KIND_NONE for one the switch does not
 * take. */
static int message_kind(const char *mti, uint16_t *flags)
{
	static const struct {
		char mti[5];
		uint8_t kind;
		uint16_t flags;
	} kinds[] = {
		{"0200", TXN_KIND_PURCHASE, 0}, /* refined by field 3 */
		{"0220", TXN_KIND_COMPLETION, TXN_F_ADVICE},
		{"0221", TXN_KIND_COMPLETION, TXN_F_ADVICE | TXN_F_REPEAT},
		{"0400", TXN_KIND_REVERSAL, 0},
		{"0401", TXN_KIND_REVERSAL, TXN_F_REPEAT},
		{"0420", TXN_KIND_REVERSAL, TXN_F_ADVICE},
		{"0421", TXN_KIND_REVERSAL, TXN_F_ADVICE | TXN_F_REPEAT},
		{"0800", TXN_KIND_NETWORK, 0},
		{"0820", TXN_KIND_NETWORK, TXN_F_ADVICE},
		{"0500", TXN_KIND_RECON, 0},
	};
	for (size_t i = 0; i < PS_ARRAY_LEN(kinds); i++) {
		if (memcmp(mti, kinds[i].mti, 4) == 0) {
			*flags |= kinds[i].flags;
			return kinds[i].kind;
		}
	}
	return TXN_KIND_NONE;
}

static int take_card_data(const iso8583_msg_t *msg, txn_t *txn,
			  txn_error_t *err)
{
	txn_wire_t *w = &txn->wire;
	int rc;
	if ((rc = take_digits(msg, 14, w->expiry, sizeof(w->expiry), false, err)) ||
	    (rc = take_digits(msg, 18, w->mcc, sizeof(w->mcc), false, err)) ||
	    (rc = take_digits(msg, 22, w->pos_entry, sizeof(w->pos_entry), false, err)) ||
	    (rc = take_digits(msg, 25, w->pos_condition, sizeof(w->pos_condition), false, err)) ||
	    (rc = take(msg, 35, w->track2, sizeof(w->track2), false, err)) ||
	    (rc = take(msg, 41, txn->terminal, sizeof(txn->terminal), false, err)) ||
	    (rc = take(msg, 42, txn->merchant, sizeof(txn->merchant), false, err)) ||
	    (rc = take(msg, 43, txn->merchant_name, sizeof(txn->merchant_name), false, err)))
		return rc;
	trim_right(txn->terminal);
	trim_right(txn->merchant);
	trim_right(txn->merchant_name);
	if (iso8583_has(msg, 52)) {
		size_t len = 0;
		if (iso8583_get_bytes(msg, 52, w->pin_block, sizeof(w->pin_block),
				      &len) != 0 ||
		    len != sizeof(w->pin_block))
			return fail(err, TXN_EFORMAT, TXN_RC_FORMAT_ERROR, 52,
				    "must be 8 bytes");
		w->pin_len = (uint8_t)len;
	}
	if (iso8583_has(msg, 55)) {
		size_t len = 0;
		if (iso8583_get_bytes(msg, 55, w->icc, sizeof(w->icc), &len) != 0)
			return fail(err, TXN_EFORMAT, TXN_RC_FORMAT_ERROR, 55,
				    "longer than %zu bytes", sizeof(w->icc));
		w->icc_len = (uint16_t)len;
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
		return fail(err, TXN_EFORMAT, TXN_RC_INVALID_AMOUNT, 4,
			    "beyond 12 digits");
	if (currency == 0 || currency > 999)
		return fail(err, TXN_EFORMAT, TXN_RC_FORMAT_ERROR, 49,
			    "must be an ISO 4217 numeric code");
	txn->amount = (int64_t)amount;
	txn->currency = (uint16_t)currency;
	return 0;
}

/* Fields every request carries: the keys that answer and deduplicate. */
static int take_origin(const iso8583_msg_t *msg, txn_t *txn, txn_error_t *err)
{
	txn_wire_t *w = &txn->wire;
	uint64_t stan = 0;
	int rc;
	if (!iso8583_has(msg, 11))
		return fail(err, TXN_EKEYS, TXN_RC_FORMAT_ERROR, 11,
			    "is required");
	/* The STAN first: whatever fails after it, the answer carries it. */
	if ((rc = take_u64(msg, 11, &stan, true, err)) != 0)
		return rc;
	if (stan > 999999)
		return fail(err, TXN_EFORMAT, TXN_RC_FORMAT_ERROR, 11,
			    "must be 6 digits");
	w->stan = (uint32_t)stan;
	if ((rc = take_digits(msg, 7, w->transmit, sizeof(w->transmit), true, err)) ||
	    (rc = take_digits(msg, 12, txn->local_time, sizeof(txn->local_time), false, err)) ||
	    (rc = take_digits(msg, 13, txn->local_date, sizeof(txn->local_date), false, err)) ||
	    (rc = take_digits(msg, 32, txn->acquirer, sizeof(txn->acquirer), false, err)) ||
	    (rc = take_digits(msg, 33, txn->forwarder, sizeof(txn->forwarder), false, err)) ||
	    (rc = take(msg, 37, txn->rrn, sizeof(txn->rrn), false, err)) ||
	    (rc = take_digits(msg, 100, w->receiver, sizeof(w->receiver), false, err)))
		return rc;
	ps_strlcpy(w->forwarder, txn->forwarder, sizeof(w->forwarder));
	if (strlen(w->transmit) != 10)
		return fail(err, TXN_EFORMAT, TXN_RC_FORMAT_ERROR, 7,
			    "must be 10 digits MMDDhhmmss");
	ps_strlcpy(txn->participant, txn->acquirer, sizeof(txn->participant));
	txn_iso_request_id(txn->acquirer, w->stan, w->transmit, txn->request_id);
	return 0;
}

/* Field 3: its kind's two digits and the account types. */
static int take_proc(const iso8583_msg_t *msg, txn_t *txn, bool required,
		     txn_error_t *err)
{
	char *proc = txn->wire.proc;
	int rc = take_digits(msg, 3, proc, sizeof(txn->wire.proc), required, err);
	if (rc != 0 || proc[0] == '\0')
		return rc;
	if (strlen(proc) != 6)
		return fail(err, TXN_EFORMAT, TXN_RC_FORMAT_ERROR, 3,
			    "must be 6 digits");
	memcpy(txn->account_types, proc + 2, 5);
	return 0;
}

static int take_original(const iso8583_msg_t *msg, txn_t *txn,
			 bool required, txn_error_t *err);
static int take_settle_date(const iso8583_msg_t *msg, char *out,
			    txn_error_t *err);

static int take_financial(const iso8583_msg_t *msg, txn_t *txn,
			  txn_error_t *err)
{
	int rc = take_proc(msg, txn, true, err);
	if (rc != 0)
		return rc;
	int kind = txn_kind_of_proc(txn->wire.proc);
	if (kind == TXN_KIND_NONE)
		return fail(err, TXN_EINVALID, TXN_RC_INVALID_TRANSACTION, 3,
			    "processing code %.2s not supported", txn->wire.proc);
	txn->kind = (uint8_t)kind;
	if ((rc = take_card_data(msg, txn, err)) || (rc = take_pan(msg, txn, err)))
		return rc;
	if (txn->payer[0] == '\0')
		return fail(err, TXN_EFORMAT, TXN_RC_FORMAT_ERROR, 2, "is required");
	/* A refund names the purchase it refunds in field 90. */
	if (kind == TXN_KIND_REFUND_CREDIT &&
	    (rc = take_original(msg, txn, false, err)))
		return rc;
	rc = take_amounts(msg, txn, kind != TXN_KIND_BALANCE, err);
	if (rc == 0 && kind != TXN_KIND_BALANCE && txn->amount == 0)
		rc = fail(err, TXN_EINVALID, TXN_RC_INVALID_AMOUNT, 4,
			  "must not be zero");
	return rc;
}

/* The acquirer id of field 90 without its zero padding. */
static void strip_zeros(const char *digits, size_t len, char *out, size_t cap)
{
	while (len > 1 && *digits == '0') {
		digits++;
		len--;
	}
	if (len >= cap)
		len = cap - 1;
	memcpy(out, digits, len);
	out[len] = '\0';
}

int txn_parse_original_data(const char *od, txn_t *t)
{
	if (strlen(od) != 42 || !ps_is_digits(od, 42))
		return PS_EFORMAT;
	uint64_t stan = 0;
	ps_parse_u64(od + 4, 6, &stan);
	t->original_stan = (uint32_t)stan;
	memcpy(t->original_transmit, od + 10, 10);
	t->original_transmit[10] = '\0';
	strip_zeros(od + 20, 11, t->original_acquirer,
		    sizeof(t->original_acquirer));
	return 0;
}

/*
 * Field 90: MTI(4) STAN(6) field 7(10) acquirer(11) forwarder(11) of the
 * original. Its request id uses the acquirer as this request writes field
 * 32 when the two are the same number, so "01020000" in 32 finds the
 * original whatever padding 90 adds.
 */
static int take_original(const iso8583_msg_t *msg, txn_t *txn,
			 bool required, txn_error_t *err)
{
	char *od = txn->wire.original_data;
	int rc = take_digits(msg, 90, od, sizeof(txn->wire.original_data),
			     required, err);
	if (rc != 0 || od[0] == '\0')
		return rc;
	if (txn_parse_original_data(od, txn) != 0)
		return fail(err, TXN_EFORMAT, TXN_RC_FORMAT_ERROR, 90,
			    "must be 42 digits");
	char own[12];
	strip_zeros(txn->acquirer, strlen(txn->acquirer), own, sizeof(own));
	const char *acquirer = txn->acquirer[0] != '\0' &&
					       strcmp(own, txn->original_acquirer) == 0
				       ? txn->acquirer
				       : txn->original_acquirer;
	txn_iso_request_id(acquirer, txn->original_stan,
			   txn->original_transmit, txn->original_id);
	return 0;
}

static int take_reversal(const iso8583_msg_t *msg, txn_t *txn,
			 txn_error_t *err)
{
	int rc = take_original(msg, txn, true, err);
	if (rc == 0)
		rc = take_proc(msg, txn, false, err);
	if (rc == 0) {
		int kind = txn->wire.proc[0] ? txn_kind_of_proc(txn->wire.proc)
					     : TXN_KIND_PURCHASE;
		txn->original_kind = (uint8_t)(kind ? kind : TXN_KIND_PURCHASE);
	}
	if (rc == 0)
		rc = take_card_data(msg, txn, err);
	if (rc == 0)
		rc = take_pan(msg, txn, err);
	if (rc == 0)
		rc = take_amounts(msg, txn, false, err);
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

void txn_iso_take_echo(const iso8583_msg_t *msg, txn_t *txn)
{
	char text[32];
	uint64_t v;
	if (iso8583_has(msg, 2) &&
	    iso8583_get_text(msg, 2, text, sizeof(text), NULL) == 0 &&
	    strlen(text) < sizeof(txn->payer) && ps_is_digits(text, strlen(text)))
		ps_strlcpy(txn->payer, text, sizeof(txn->payer));
	if (iso8583_has(msg, 3) &&
	    iso8583_get_text(msg, 3, text, sizeof(text), NULL) == 0 &&
	    strlen(text) == 6 && ps_is_digits(text, 6))
		ps_strlcpy(txn->wire.proc, text, sizeof(txn->wire.proc));
	/* As text: a dialect may class 49 as an, not n. */
	if (iso8583_has(msg, 4) &&
	    iso8583_get_text(msg, 4, text, sizeof(text), NULL) == 0 &&
	    ps_parse_u64(text, strlen(text), &v) == 0 &&
	    v <= (uint64_t)TXN_AMOUNT_MAX)
		txn->amount = (int64_t)v;
	if (iso8583_has(msg, 49) &&
	    iso8583_get_text(msg, 49, text, sizeof(text), NULL) == 0 &&
	    ps_parse_u64(text, strlen(text), &v) == 0 && v > 0 && v <= 999)
		txn->currency = (uint16_t)v;
}

int txn_from_iso(const iso8583_msg_t *msg, txn_t *txn, txn_error_t *err)
{
	txn_init(txn, TXN_KIND_NONE);
	memset(err, 0, sizeof(*err));
	if (msg->mti[0] == '\0')
		return fail(err, TXN_EKEYS, TXN_RC_FORMAT_ERROR, 0, "no MTI");
	memcpy(txn->wire.mti, msg->mti, 4);
	int rc = take_origin(msg, txn, err);
	if (rc != 0)
		return rc;
	/* Whatever fails below, the error answer echoes these. */
	txn_iso_take_echo(msg, txn);
	int kind = message_kind(txn->wire.mti, &txn->flags);
	if (kind == TXN_KIND_NONE)
		return fail(err, TXN_EINVALID, TXN_RC_INVALID_TRANSACTION, 0,
			    "MTI %s is not a request the switch takes",
			    txn->wire.mti);
	txn->kind = (uint8_t)kind;
	switch (kind) {
	case TXN_KIND_PURCHASE:
		rc = take_financial(msg, txn, err);
		break;
	case TXN_KIND_REVERSAL:
	case TXN_KIND_COMPLETION:
		rc = take_reversal(msg, txn, err);
		break;
	case TXN_KIND_NETWORK:
		rc = take_digits(msg, 70, txn->wire.network_code,
				 sizeof(txn->wire.network_code), true, err);
		if (rc == 0)
			txn->net_op = net_op_of(txn->wire.network_code);
		break;
	default:
		break;
	}
	if (rc == 0)
		rc = take_accounts(msg, txn, err);
	if (rc == 0)
		rc = take(msg, 38, txn->auth_code, sizeof(txn->auth_code),
			  false, err);
	if (rc == 0)
		rc = take_settle_date(msg, txn->wire.settle_date, err);
	return rc;
}

/* Field 15, MMDD, when present. */
static int take_settle_date(const iso8583_msg_t *msg, char *out,
			    txn_error_t *err)
{
	int rc = take_digits(msg, 15, out, 5, false, err);
	if (rc == 0 && out[0] != '\0' && strlen(out) != 4)
		return fail(err, TXN_EFORMAT, TXN_RC_FORMAT_ERROR, 15,
			    "must be 4 digits MMDD");
	return rc;
}

/* Fields 74-77 and 86-89 (counts, amounts) and 97 (net, C or D). */
static int take_totals(const iso8583_msg_t *msg, txn_totals_t *t,
		       txn_error_t *err)
{
	static const int count_fields[4] = {74, 75, 76, 77};
	static const int amount_fields[4] = {86, 87, 88, 89};
	uint32_t *counts[4] = {&t->credits, &t->credit_reversals, &t->debits,
			       &t->debit_reversals};
	int64_t *amounts[4] = {&t->credits_amount, &t->credit_reversals_amount,
			       &t->debits_amount, &t->debit_reversals_amount};
	int rc = 0;
	for (int i = 0; i < 4 && rc == 0; i++) {
		uint64_t v = 0;
		rc = take_u64(msg, count_fields[i], &v, true, err);
		if (rc == 0 && v > UINT32_MAX)
			rc = fail(err, TXN_EFORMAT, TXN_RC_FORMAT_ERROR,
				  count_fields[i], "count too large");
		*counts[i] = (uint32_t)v;
		if (rc == 0)
			rc = take_u64(msg, amount_fields[i], &v, true, err);
		if (rc == 0 && v > (uint64_t)INT64_MAX)
			rc = fail(err, TXN_EFORMAT, TXN_RC_FORMAT_ERROR,
				  amount_fields[i], "amount too large");
		*amounts[i] = (int64_t)v;
	}
	char net[24];
	if (rc == 0)
		rc = take(msg, 97, net, sizeof(net), true, err);
	if (rc == 0) {
		uint64_t v = 0;
		if ((net[0] != 'C' && net[0] != 'D') || strlen(net) != 17 ||
		    ps_parse_u64(net + 1, 16, &v) != 0 || v > (uint64_t)INT64_MAX)
			return fail(err, TXN_EFORMAT, TXN_RC_FORMAT_ERROR, 97,
				    "must be C or D and 16 digits");
		t->net = net[0] == 'D' ? -(int64_t)v : (int64_t)v;
	}
	return rc;
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
		return fail(err, TXN_EFORMAT, TXN_RC_FORMAT_ERROR, 0,
			    "not a response MTI");
	uint64_t stan = 0;
	char code[3], balance[121], network[4];
	int rc;
	if ((rc = take_u64(msg, 11, &stan, true, err)) ||
	    (rc = take_digits(msg, 7, resp->transmit, sizeof(resp->transmit), false, err)) ||
	    (rc = take(msg, 39, code, sizeof(code), true, err)) ||
	    (rc = take(msg, 38, resp->auth_code, sizeof(resp->auth_code), false, err)) ||
	    (rc = take(msg, 37, resp->rrn, sizeof(resp->rrn), false, err)) ||
	    (rc = take_digits(msg, 70, network, sizeof(network), false, err)) ||
	    (rc = take(msg, 54, balance, sizeof(balance), false, err)))
		return rc;
	if (stan > 999999)
		return fail(err, TXN_EFORMAT, TXN_RC_FORMAT_ERROR, 11,
			    "must be 6 digits");
	if (txn_rc_parse(code, &resp->rc) != 0)
		return fail(err, TXN_EFORMAT, TXN_RC_FORMAT_ERROR, 39,
			    "must be 2 characters");
	resp->stan = (uint32_t)stan;
	if (msg->mti[1] == '8')
		resp->net_op = network[0] ? net_op_of(network) : TXN_NET_OTHER;
	resp->has_balance = balance[0] != '\0' &&
			    parse_balance(balance, &resp->balance);
	if ((rc = take_settle_date(msg, resp->period, err)) != 0)
		return rc;
	resp->recon = memcmp(msg->mti, "0510", 4) == 0;
	if (resp->recon && resp->rc == TXN_RC_APPROVED) {
		if ((rc = take_totals(msg, &resp->totals, err)) != 0)
			return rc;
		resp->has_totals = true;
	}
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

/* Field 90 of a reversal or completion: the original's MTI (a leg is a
 * 0200), STAN, time, acquirer (as the original named it) and forwarder. */
static int set_original(iso8583_msg_t *msg, const txn_t *txn)
{
	const char *acq = txn->original_acquirer[0] ? txn->original_acquirer
						    : txn->acquirer;
	uint64_t acquirer = 0, forwarder = 0;
	ps_parse_u64(acq, strlen(acq), &acquirer);
	ps_parse_u64(txn->forwarder, strlen(txn->forwarder), &forwarder);
	if (strlen(txn->original_transmit) != 10)
		return TXN_EINVALID;
	char od[43];
	snprintf(od, sizeof(od), "0200%06" PRIu32 "%.10s%011" PRIu64 "%011" PRIu64,
		 txn->original_stan % 1000000, txn->original_transmit,
		 acquirer % UINT64_C(100000000000),
		 forwarder % UINT64_C(100000000000));
	return set_copy(msg, 90, od, 42);
}

static int encode_card_data(const txn_t *txn, iso8583_msg_t *msg)
{
	const txn_wire_t *w = &txn->wire;
	int rc;
	if ((rc = set_text(msg, 14, w->expiry)) ||
	    (rc = set_text(msg, 18, w->mcc)) ||
	    (rc = set_text(msg, 22, w->pos_entry)) ||
	    (rc = set_text(msg, 25, w->pos_condition)) ||
	    (rc = set_text(msg, 35, w->track2)) ||
	    (rc = set_padded(msg, 41, txn->terminal, 8)) ||
	    (rc = set_padded(msg, 42, txn->merchant, 15)) ||
	    (rc = set_padded(msg, 43, txn->merchant_name, 40)) ||
	    (rc = set_binary(msg, 52, w->pin_block, w->pin_len)))
		return rc;
	return set_binary(msg, 55, w->icc, w->icc_len);
}

/* The request of a financial leg, a reversal or a completion advice. */
static int encode_leg(const txn_t *txn, const txn_leg_t *l, iso8583_msg_t *msg)
{
	char mti[5], proc[7];
	bool refers = txn->kind == TXN_KIND_REVERSAL ||
		      txn->kind == TXN_KIND_COMPLETION;
	if (refers)
		request_mti(txn->kind, txn->flags, mti);
	else
		request_mti(TXN_KIND_PURCHASE, 0, mti);
	proc_of(refers ? txn->original_kind : l->kind, txn, proc);
	int rc;
	if ((rc = iso8583_set_mti(msg, mti)) ||
	    (rc = set_text(msg, 2, l->account)) ||
	    (rc = set_copy(msg, 3, proc, 6)) ||
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
	/* A date period is the leg's settlement date (MMDD). */
	if (strlen(l->period) == 8 && ps_is_digits(l->period, 8) &&
	    (rc = set_copy(msg, 15, l->period + 4, 4)))
		return rc;
	if (refers)
		rc = set_original(msg, txn);
	return rc;
}

int txn_leg_to_iso(const txn_t *txn, unsigned leg,
		   const iso8583_dialect_t *dialect, iso8583_msg_t *msg)
{
	PS_ASSERT(leg < TXN_LEGS_MAX);
	iso8583_msg_init(msg, dialect);
	return encode_leg(txn, &txn->leg[leg], msg);
}

int txn_network_to_iso(int op, uint32_t stan, const char *transmit,
		       const char *institution,
		       const iso8583_dialect_t *dialect, iso8583_msg_t *msg)
{
	const char *code = net_code_of(op);
	if (code == NULL)
		return TXN_EINVALID;
	iso8583_msg_init(msg, dialect);
	int rc;
	if ((rc = iso8583_set_mti(msg, "0800")) ||
	    (rc = set_text(msg, 7, transmit)) ||
	    (rc = set_digits(msg, 11, stan, 6)) ||
	    (rc = set_text(msg, 33, institution)))
		return rc;
	return iso8583_set(msg, 70, code, 3);
}

int txn_recon_to_iso(uint32_t stan, const char *transmit,
		     const char *institution, const char *settle_date,
		     const iso8583_dialect_t *dialect, iso8583_msg_t *msg)
{
	iso8583_msg_init(msg, dialect);
	int rc;
	if ((rc = iso8583_set_mti(msg, "0500")) ||
	    (rc = set_text(msg, 7, transmit)) ||
	    (rc = set_digits(msg, 11, stan, 6)) ||
	    (rc = set_text(msg, 15, settle_date)) ||
	    (rc = set_text(msg, 33, institution)))
		return rc;
	return 0;
}

static int encode_totals(const txn_totals_t *t, iso8583_msg_t *msg)
{
	const uint32_t counts[4] = {t->credits, t->credit_reversals, t->debits,
				    t->debit_reversals};
	const int64_t amounts[4] = {t->credits_amount, t->credit_reversals_amount,
				    t->debits_amount, t->debit_reversals_amount};
	int rc = 0;
	for (int i = 0; i < 4 && rc == 0; i++) {
		rc = set_digits(msg, 74 + i, counts[i], 10);
		if (rc == 0)
			rc = set_digits(msg, 86 + i, (uint64_t)amounts[i], 16);
	}
	if (rc != 0)
		return rc;
	char net[18];
	uint64_t magnitude = t->net < 0 ? (uint64_t)-t->net : (uint64_t)t->net;
	snprintf(net, sizeof(net), "%c%016" PRIu64, t->net < 0 ? 'D' : 'C',
		 magnitude % UINT64_C(10000000000000000));
	return set_copy(msg, 97, net, 17);
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
	const txn_wire_t *w = &txn->wire;
	iso8583_msg_init(msg, dialect);
	char mti[5], request[5], code[3];
	if (w->mti[0] != '\0')
		memcpy(request, w->mti, 5);
	else
		request_mti(txn->kind, txn->flags, request);
	response_mti(request, mti);
	txn_rc_text(txn->rc == TXN_RC_NONE ? TXN_RC_SYSTEM_MALFUNCTION : txn->rc,
		    code);
	const char *rrn = txn->rrn[0] ? txn->rrn : txn->leg[0].rrn;
	/* Field 33 as the request had it (the switch forwards what it sends
	 * on, but answers its origin with the origin's own); a txn that was
	 * never a decoded request answers with its own. */
	const char *forwarder = w->mti[0] != '\0' ? w->forwarder : txn->forwarder;
	bool money = txn->kind != TXN_KIND_NETWORK;
	int rc;
	if ((rc = iso8583_set_mti(msg, mti)) ||
	    (rc = set_text(msg, 2, money ? txn->payer : "")) ||
	    (rc = set_text(msg, 3, w->proc)) ||
	    (rc = set_text(msg, 7, w->transmit)) ||
	    (rc = set_digits(msg, 11, w->stan, 6)) ||
	    (rc = set_text(msg, 12, txn->local_time)) ||
	    (rc = set_text(msg, 13, txn->local_date)) ||
	    (rc = set_text(msg, 32, txn->acquirer)) ||
	    (rc = set_text(msg, 33, forwarder)) ||
	    (rc = set_text(msg, 37, money ? rrn : "")) ||
	    (rc = set_copy(msg, 39, code, 2)) ||
	    (rc = set_padded(msg, 41, txn->terminal, 8)) ||
	    (rc = set_padded(msg, 42, txn->merchant, 15)) ||
	    (rc = set_text(msg, 70, w->network_code)) ||
	    (rc = set_text(msg, 90, w->original_data)))
		return rc;
	/* The amount and currency as the request had them: an answer to
	 * one that could not be read has neither. */
	if (money && txn->amount > 0 &&
	    (rc = set_digits(msg, 4, (uint64_t)txn->amount, 12)))
		return rc;
	if (money && txn->currency != 0 &&
	    (txn->amount > 0 || txn->kind != TXN_KIND_BALANCE) &&
	    (rc = set_digits(msg, 49, txn->currency, 3)))
		return rc;
	if (txn->rc == TXN_RC_APPROVED && txn->auth_code[0] != '\0')
		rc = set_padded(msg, 38, txn->auth_code, 6);
	if (rc == 0 && (txn->flags & TXN_F_BALANCE))
		rc = encode_balance(txn, msg);
	if (rc == 0 && w->settle_date[0] != '\0')
		rc = set_text(msg, 15, w->settle_date);
	if (rc == 0 && w->has_totals && txn->rc == TXN_RC_APPROVED)
		rc = encode_totals(&w->totals, msg);
	return rc;
}
