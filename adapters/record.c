/*
 * record.c: the stored form of a transaction (record.h), version 2, and
 * the reading of version 1.
 */
#include "record.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core.h"

static const uint8_t magic[3] = {'P', 'S', 'T'};
#define HEAD_BYTES 4

/* Tags. Stored: never renumber, never reuse. */
enum {
	T_KIND = 1, T_STATE, T_RC, T_NET_OP, T_FLAGS, T_ID, T_CREATED,
	T_ANSWERED, T_WINDOW,
	T_LISTENER = 10, T_PARTICIPANT, T_REQUEST_ID, T_ACQUIRER, T_FORWARDER,
	T_TERMINAL, T_MERCHANT, T_MERCHANT_NAME, T_LOCAL_TIME, T_LOCAL_DATE,
	T_RRN = 20, T_ACCOUNT_TYPES, T_PAYER, T_PAYEE, T_PAYEE_NAME, T_AMOUNT,
	T_CURRENCY, T_BALANCE, T_MEMO,
	T_ORIGINAL_ID = 29, T_ORIGINAL_KIND, T_ORIGINAL_STAN,
	T_ORIGINAL_TRANSMIT, T_ORIGINAL_ACQUIRER, T_PARENT_ID, T_PARENT_LEG,
	T_REFUNDED, T_REFUND_PENDING,
	T_AUTH_CODE = 38, T_REASON,
	T_LEG = 40,
	/* 41..63: kept for clearing (the settlement network, fees). */
};

enum {
	L_KIND = 1, L_STATE, L_NETWORK, L_ATTEMPTS, L_RC, L_ENDPOINT,
	L_INSTITUTION, L_ACCOUNT, L_STAN, L_TRANSMIT, L_RRN, L_AUTH_CODE,
	L_SENT, L_DEADLINE, L_ANSWERED, L_WINDOW, L_PERIOD, L_FEE_ISSUER,
	L_FEE_NETWORK,
};

/* ---- writing -------------------------------------------------------------- */

typedef struct writer {
	uint8_t *out;
	size_t cap;
	size_t len;
	bool full;
} writer_t;

static void put(writer_t *w, uint8_t tag, const void *value, size_t len)
{
	PS_ASSERT(len <= 255);
	if (w->full || len + 2 > w->cap - w->len) {
		w->full = true;
		return;
	}
	w->out[w->len++] = tag;
	w->out[w->len++] = (uint8_t)len;
	memcpy(w->out + w->len, value, len);
	w->len += len;
}

static void put_u8(writer_t *w, uint8_t tag, uint8_t v)
{
	if (v != 0)
		put(w, tag, &v, 1);
}

/* The record's rc fields store TXN_RC_NONE as themselves; 0 is a code. */
static void put_rc(writer_t *w, uint8_t tag, uint8_t rc)
{
	put(w, tag, &rc, 1);
}

static void put_u16(writer_t *w, uint8_t tag, uint16_t v)
{
	uint8_t b[2];
	ps_be16_put(b, v);
	if (v != 0)
		put(w, tag, b, 2);
}

static void put_u32(writer_t *w, uint8_t tag, uint32_t v)
{
	uint8_t b[4];
	ps_be32_put(b, v);
	if (v != 0)
		put(w, tag, b, 4);
}

static void put_u64(writer_t *w, uint8_t tag, uint64_t v)
{
	uint8_t b[8];
	ps_be64_put(b, v);
	if (v != 0)
		put(w, tag, b, 8);
}

static void put_i64(writer_t *w, uint8_t tag, int64_t v)
{
	put_u64(w, tag, (uint64_t)v);
}

static void put_str(writer_t *w, uint8_t tag, const char *s, size_t cap)
{
	size_t len = strnlen(s, cap);
	PS_ASSERT(len < cap);
	if (len > 0)
		put(w, tag, s, len);
}

#define PUT_STR(w, tag, field) put_str(w, tag, field, sizeof(field))

static void put_leg(writer_t *w, const txn_leg_t *l)
{
	uint8_t body[256];
	writer_t lw = {.out = body, .cap = sizeof(body)};
	put_u8(&lw, L_KIND, l->kind);
	put_u8(&lw, L_STATE, l->state);
	put_u8(&lw, L_NETWORK, l->network);
	put_u8(&lw, L_ATTEMPTS, l->attempts);
	put_rc(&lw, L_RC, l->rc);
	PUT_STR(&lw, L_ENDPOINT, l->endpoint);
	PUT_STR(&lw, L_INSTITUTION, l->institution);
	PUT_STR(&lw, L_ACCOUNT, l->account);
	put_u32(&lw, L_STAN, l->stan);
	PUT_STR(&lw, L_TRANSMIT, l->transmit);
	PUT_STR(&lw, L_RRN, l->rrn);
	PUT_STR(&lw, L_AUTH_CODE, l->auth_code);
	put_u64(&lw, L_SENT, l->sent_ms);
	put_u64(&lw, L_DEADLINE, l->deadline_ms);
	put_u64(&lw, L_ANSWERED, l->answered_ms);
	put_u32(&lw, L_WINDOW, l->window);
	PUT_STR(&lw, L_PERIOD, l->period);
	put_i64(&lw, L_FEE_ISSUER, l->fee_issuer);
	put_i64(&lw, L_FEE_NETWORK, l->fee_network);
	PS_ASSERT(!lw.full && lw.len <= 255);
	put(w, T_LEG, body, lw.len);
}

int txn_record_encode(const txn_t *t, uint8_t *out, size_t cap, size_t *len)
{
	if (cap < HEAD_BYTES)
		return TXN_ENOSPC;
	memcpy(out, magic, 3);
	out[3] = TXN_RECORD_VERSION;
	writer_t w = {.out = out, .cap = cap, .len = HEAD_BYTES};
	put_u8(&w, T_KIND, t->kind);
	put_u8(&w, T_STATE, t->state);
	put_rc(&w, T_RC, t->rc);
	put_u8(&w, T_NET_OP, t->net_op);
	put_u16(&w, T_FLAGS, t->flags);
	put_u64(&w, T_ID, t->id);
	put_u64(&w, T_CREATED, t->created_ms);
	put_u64(&w, T_ANSWERED, t->answered_ms);
	put_u64(&w, T_WINDOW, t->window);
	PUT_STR(&w, T_LISTENER, t->listener);
	PUT_STR(&w, T_PARTICIPANT, t->participant);
	PUT_STR(&w, T_REQUEST_ID, t->request_id);
	PUT_STR(&w, T_ACQUIRER, t->acquirer);
	PUT_STR(&w, T_FORWARDER, t->forwarder);
	PUT_STR(&w, T_TERMINAL, t->terminal);
	PUT_STR(&w, T_MERCHANT, t->merchant);
	PUT_STR(&w, T_MERCHANT_NAME, t->merchant_name);
	PUT_STR(&w, T_LOCAL_TIME, t->local_time);
	PUT_STR(&w, T_LOCAL_DATE, t->local_date);
	PUT_STR(&w, T_RRN, t->rrn);
	PUT_STR(&w, T_ACCOUNT_TYPES, t->account_types);
	PUT_STR(&w, T_PAYER, t->payer);
	PUT_STR(&w, T_PAYEE, t->payee);
	PUT_STR(&w, T_PAYEE_NAME, t->payee_name);
	put_i64(&w, T_AMOUNT, t->amount);
	put_u16(&w, T_CURRENCY, t->currency);
	put_i64(&w, T_BALANCE, t->balance);
	PUT_STR(&w, T_MEMO, t->memo);
	PUT_STR(&w, T_ORIGINAL_ID, t->original_id);
	put_u8(&w, T_ORIGINAL_KIND, t->original_kind);
	put_u32(&w, T_ORIGINAL_STAN, t->original_stan);
	PUT_STR(&w, T_ORIGINAL_TRANSMIT, t->original_transmit);
	PUT_STR(&w, T_ORIGINAL_ACQUIRER, t->original_acquirer);
	put_u64(&w, T_PARENT_ID, t->parent_id);
	put_u8(&w, T_PARENT_LEG, t->parent_leg);
	put_i64(&w, T_REFUNDED, t->refunded);
	put_i64(&w, T_REFUND_PENDING, t->refund_pending);
	PUT_STR(&w, T_AUTH_CODE, t->auth_code);
	PUT_STR(&w, T_REASON, t->reason);
	PS_ASSERT(t->leg_count <= TXN_LEGS_MAX);
	for (unsigned i = 0; i < t->leg_count; i++)
		put_leg(&w, &t->leg[i]);
	if (w.full)
		return TXN_ENOSPC;
	*len = w.len;
	return 0;
}

/* ---- reading --------------------------------------------------------------- */

static uint64_t get_uint(const uint8_t *v, size_t len)
{
	switch (len) {
	case 1: return v[0];
	case 2: return ps_be16_get(v);
	case 4: return ps_be32_get(v);
	case 8: return ps_be64_get(v);
	}
	return 0;
}

/* An integer field: only its natural widths are records. */
static bool take_uint(const uint8_t *v, size_t len, size_t width, void *out)
{
	if (len != width)
		return false;
	uint64_t x = get_uint(v, len);
	switch (width) {
	case 1: *(uint8_t *)out = (uint8_t)x; break;
	case 2: *(uint16_t *)out = (uint16_t)x; break;
	case 4: *(uint32_t *)out = (uint32_t)x; break;
	default: memcpy(out, &x, 8); break;
	}
	return true;
}

static bool take_str(const uint8_t *v, size_t len, char *out, size_t cap)
{
	if (len >= cap || memchr(v, '\0', len) != NULL)
		return false;
	memcpy(out, v, len);
	out[len] = '\0';
	return true;
}

#define U(field) take_uint(v, len, sizeof(field), &(field))
#define S(field) take_str(v, len, field, sizeof(field))

static bool take_leg_field(txn_leg_t *l, uint8_t tag, const uint8_t *v,
			   size_t len)
{
	switch (tag) {
	case L_KIND: return U(l->kind);
	case L_STATE: return U(l->state);
	case L_NETWORK: return U(l->network);
	case L_ATTEMPTS: return U(l->attempts);
	case L_RC: return U(l->rc);
	case L_ENDPOINT: return S(l->endpoint);
	case L_INSTITUTION: return S(l->institution);
	case L_ACCOUNT: return S(l->account);
	case L_STAN: return U(l->stan);
	case L_TRANSMIT: return S(l->transmit);
	case L_RRN: return S(l->rrn);
	case L_AUTH_CODE: return S(l->auth_code);
	case L_SENT: return U(l->sent_ms);
	case L_DEADLINE: return U(l->deadline_ms);
	case L_ANSWERED: return U(l->answered_ms);
	case L_WINDOW: return U(l->window);
	case L_PERIOD: return S(l->period);
	case L_FEE_ISSUER: return U(l->fee_issuer) && l->fee_issuer >= 0;
	case L_FEE_NETWORK: return U(l->fee_network) && l->fee_network >= 0;
	default: return true; /* a later field: skipped */
	}
}

/* Calls take for each field of in[0..len); false at a broken field. */
static bool each_field(const uint8_t *in, size_t len, void *obj,
		       bool (*take)(void *, uint8_t, const uint8_t *, size_t))
{
	size_t at = 0;
	while (at < len) {
		if (len - at < 2 || in[at + 1] > len - at - 2)
			return false;
		uint8_t tag = in[at], n = in[at + 1];
		if (!take(obj, tag, in + at + 2, n))
			return false;
		at += 2u + n;
	}
	return true;
}

static bool leg_field(void *obj, uint8_t tag, const uint8_t *v, size_t len)
{
	return take_leg_field(obj, tag, v, len);
}

static bool txn_field(void *obj, uint8_t tag, const uint8_t *v, size_t len)
{
	txn_t *t = obj;
	switch (tag) {
	case T_KIND: return U(t->kind) && t->kind < TXN_KIND_COUNT;
	case T_STATE: return U(t->state);
	case T_RC: return U(t->rc);
	case T_NET_OP: return U(t->net_op);
	case T_FLAGS: return U(t->flags);
	case T_ID: return U(t->id);
	case T_CREATED: return U(t->created_ms);
	case T_ANSWERED: return U(t->answered_ms);
	case T_WINDOW: return U(t->window);
	case T_LISTENER: return S(t->listener);
	case T_PARTICIPANT: return S(t->participant);
	case T_REQUEST_ID: return S(t->request_id);
	case T_ACQUIRER: return S(t->acquirer);
	case T_FORWARDER: return S(t->forwarder);
	case T_TERMINAL: return S(t->terminal);
	case T_MERCHANT: return S(t->merchant);
	case T_MERCHANT_NAME: return S(t->merchant_name);
	case T_LOCAL_TIME: return S(t->local_time);
	case T_LOCAL_DATE: return S(t->local_date);
	case T_RRN: return S(t->rrn);
	case T_ACCOUNT_TYPES: return S(t->account_types);
	case T_PAYER: return S(t->payer);
	case T_PAYEE: return S(t->payee);
	case T_PAYEE_NAME: return S(t->payee_name);
	case T_AMOUNT: return U(t->amount);
	case T_CURRENCY: return U(t->currency);
	case T_BALANCE: return U(t->balance);
	case T_MEMO: return S(t->memo);
	case T_ORIGINAL_ID: return S(t->original_id);
	case T_ORIGINAL_KIND: return U(t->original_kind);
	case T_ORIGINAL_STAN: return U(t->original_stan);
	case T_ORIGINAL_TRANSMIT: return S(t->original_transmit);
	case T_ORIGINAL_ACQUIRER: return S(t->original_acquirer);
	case T_PARENT_ID: return U(t->parent_id);
	case T_PARENT_LEG: return U(t->parent_leg);
	case T_REFUNDED: return U(t->refunded);
	case T_REFUND_PENDING: return U(t->refund_pending);
	case T_AUTH_CODE: return S(t->auth_code);
	case T_REASON: return S(t->reason);
	case T_LEG:
		if (t->leg_count == TXN_LEGS_MAX)
			return false;
		return each_field(v, len, &t->leg[t->leg_count++], leg_field);
	default:
		return true; /* a later field: skipped */
	}
}

#undef U
#undef S

static int decode_v2(const uint8_t *in, size_t len, txn_t *t)
{
	txn_init(t, TXN_KIND_NONE);
	if (!each_field(in + HEAD_BYTES, len - HEAD_BYTES, t, txn_field))
		return PS_EFORMAT;
	return t->parent_leg < TXN_LEGS_MAX ? 0 : PS_EFORMAT;
}

/* ---- version 1: the first switch's host-endian txn_t --------------------- */

typedef struct v1_leg {
	uint8_t kind;
	uint8_t state;
	uint8_t network;
	uint8_t attempts;
	char endpoint[32];
	char institution[12];
	char account[20];
	char proc[7];
	uint32_t stan;
	char transmit[11];
	char rrn[13];
	char response[3];
	char auth_code[7];
	uint64_t sent_ms;
	uint64_t deadline_ms;
	uint64_t answered_ms;
} v1_leg_t;

typedef struct v1_txn {
	uint16_t format;
	uint8_t kind;
	uint8_t state;
	uint8_t protocol;
	uint8_t leg_count;
	uint16_t flags;
	uint64_t id;
	uint64_t created_ms;
	uint64_t answered_ms;
	char listener[32];
	char participant[16];
	char request_id[65];
	char mti[5];
	char proc[7];
	uint32_t stan;
	char transmit[11];
	char local_time[7];
	char local_date[5];
	char rrn[13];
	char acquirer[12];
	char forwarder[12];
	char terminal[9];
	char merchant[16];
	char merchant_name[41];
	char mcc[5];
	char expiry[5];
	char pos_entry[4];
	char pos_condition[3];
	char track2[38];
	uint8_t pin_block[8];
	uint16_t icc_len;
	uint8_t icc[255];
	char network_code[4];
	char original_data[43];
	char receiver[12];
	uint8_t header_len;
	uint8_t header[64];
	char payer[20];
	char payee[20];
	char payee_name[41];
	int64_t amount;
	uint16_t currency;
	int64_t balance;
	char memo[129];
	char original_id[65];
	uint64_t parent_id;
	uint8_t parent_leg;
	int64_t refunded;
	int64_t refund_pending;
	char response[3];
	char auth_code[7];
	char reason[128];
	v1_leg_t leg[3];
} v1_txn_t;

_Static_assert(sizeof(v1_txn_t) == 1648, "version 1 is 1,648 bytes on x86-64");

/* Version 1's kinds, by their old numbers. */
static const uint8_t v1_kinds[] = {
	TXN_KIND_NONE, TXN_KIND_PAY, TXN_KIND_REFUND, TXN_KIND_QUERY,
	TXN_KIND_NETWORK /* echo */, TXN_KIND_NETWORK /* hello */,
	TXN_KIND_PURCHASE, TXN_KIND_REFUND_CREDIT, TXN_KIND_CREDIT,
	TXN_KIND_BALANCE, TXN_KIND_REVERSAL, TXN_KIND_REVERSAL /* advice */,
	TXN_KIND_COMPLETION, TXN_KIND_NETWORK, TXN_KIND_RECON,
};
#define V1_REVERSAL_ADVICE 11
#define V1_FLAG_PIN 1u

static uint8_t v1_kind(uint8_t k)
{
	return k < PS_ARRAY_LEN(v1_kinds) ? v1_kinds[k] : TXN_KIND_NONE;
}

static uint8_t v1_kind_number(uint8_t kind)
{
	for (uint8_t i = 0; i < PS_ARRAY_LEN(v1_kinds); i++)
		if (v1_kinds[i] == kind && i != 4 && i != 5 &&
		    i != V1_REVERSAL_ADVICE)
			return i;
	return 0;
}

static uint8_t v1_rc(const char *code)
{
	uint8_t rc = TXN_RC_NONE;
	if (code[0] != '\0' && txn_rc_parse(code, &rc) != 0)
		rc = TXN_RC_SYSTEM_MALFUNCTION;
	return rc;
}

#define COPY(dst, src) ps_strlcpy(dst, src, sizeof(dst))

/* The text ends within its array. */
#define ENDS(text) (memchr(text, '\0', sizeof(text)) != NULL)

static bool v1_leg_terminated(const v1_leg_t *l)
{
	return ENDS(l->endpoint) && ENDS(l->institution) && ENDS(l->account) &&
	       ENDS(l->proc) && ENDS(l->transmit) && ENDS(l->rrn) &&
	       ENDS(l->response) && ENDS(l->auth_code);
}

/* Every text decode_v1 reads ends within its array: a record where one
 * does not is damaged, not a longer text. */
static bool v1_terminated(const v1_txn_t *o)
{
	if (!(ENDS(o->listener) && ENDS(o->participant) &&
	      ENDS(o->request_id) && ENDS(o->proc) && ENDS(o->local_time) &&
	      ENDS(o->local_date) && ENDS(o->rrn) && ENDS(o->acquirer) &&
	      ENDS(o->forwarder) && ENDS(o->terminal) && ENDS(o->merchant) &&
	      ENDS(o->merchant_name) && ENDS(o->original_data) &&
	      ENDS(o->payer) && ENDS(o->payee) && ENDS(o->payee_name) &&
	      ENDS(o->memo) && ENDS(o->original_id) && ENDS(o->response) &&
	      ENDS(o->auth_code) && ENDS(o->reason)))
		return false;
	for (unsigned i = 0; i < o->leg_count && i < TXN_LEGS_MAX; i++)
		if (!v1_leg_terminated(&o->leg[i]))
			return false;
	return true;
}

static int decode_v1(const uint8_t *in, txn_t *t)
{
	v1_txn_t o;
	memcpy(&o, in, sizeof(o));
	if (o.format != 1 || o.leg_count > TXN_LEGS_MAX ||
	    o.parent_leg >= TXN_LEGS_MAX || !v1_terminated(&o))
		return PS_EFORMAT;
	txn_init(t, v1_kind(o.kind));
	if (o.kind == 4 || o.kind == 5) /* echo, hello */
		t->net_op = o.kind == 4 ? TXN_NET_ECHO : TXN_NET_SIGN_ON;
	t->state = o.state;
	t->leg_count = o.leg_count;
	t->flags = (uint16_t)(o.flags & ~V1_FLAG_PIN);
	if (o.kind == V1_REVERSAL_ADVICE)
		t->flags |= TXN_F_ADVICE;
	t->id = o.id;
	t->created_ms = o.created_ms;
	t->answered_ms = o.answered_ms;
	COPY(t->listener, o.listener);
	COPY(t->participant, o.participant);
	COPY(t->request_id, o.request_id);
	COPY(t->local_time, o.local_time);
	COPY(t->local_date, o.local_date);
	COPY(t->rrn, o.rrn);
	COPY(t->acquirer, o.acquirer);
	COPY(t->forwarder, o.forwarder);
	COPY(t->terminal, o.terminal);
	COPY(t->merchant, o.merchant);
	COPY(t->merchant_name, o.merchant_name);
	if (strlen(o.proc) == 6)
		COPY(t->account_types, o.proc + 2);
	COPY(t->payer, o.payer);
	COPY(t->payee, o.payee);
	COPY(t->payee_name, o.payee_name);
	t->amount = o.amount;
	t->currency = o.currency;
	t->balance = o.balance;
	COPY(t->memo, o.memo);
	COPY(t->original_id, o.original_id);
	t->parent_id = o.parent_id;
	t->parent_leg = o.parent_leg;
	t->refunded = o.refunded;
	t->refund_pending = o.refund_pending;
	t->rc = v1_rc(o.response);
	COPY(t->auth_code, o.auth_code);
	COPY(t->reason, o.reason);
	if (o.original_data[0] != '\0')
		txn_parse_original_data(o.original_data, t);
	for (unsigned i = 0; i < t->leg_count; i++) {
		const v1_leg_t *ol = &o.leg[i];
		txn_leg_t *l = &t->leg[i];
		l->kind = v1_kind(ol->kind);
		l->state = ol->state;
		l->network = ol->network;
		l->attempts = ol->attempts;
		l->rc = v1_rc(ol->response);
		COPY(l->endpoint, ol->endpoint);
		COPY(l->institution, ol->institution);
		COPY(l->account, ol->account);
		l->stan = ol->stan;
		COPY(l->transmit, ol->transmit);
		COPY(l->rrn, ol->rrn);
		COPY(l->auth_code, ol->auth_code);
		l->sent_ms = ol->sent_ms;
		l->deadline_ms = ol->deadline_ms;
		l->answered_ms = ol->answered_ms;
	}
	/* A reversal or completion reversed the leg of its own leg 0's
	 * processing code. */
	bool refers = t->kind == TXN_KIND_REVERSAL || t->kind == TXN_KIND_COMPLETION;
	if (refers && t->leg_count > 0) {
		int k = txn_kind_of_proc(o.leg[0].proc);
		t->original_kind = (uint8_t)(k ? k : TXN_KIND_PURCHASE);
		if (strlen(o.leg[0].proc) == 6)
			COPY(t->account_types, o.leg[0].proc + 2);
	}
	return 0;
}

size_t txn_record_v1_bytes(void)
{
	return sizeof(v1_txn_t);
}

static void v1_proc(int kind, const char *types, char out[7])
{
	const char *digits = kind == TXN_KIND_CREDIT		? "26"
			     : kind == TXN_KIND_REFUND_CREDIT ? "20"
			     : kind == TXN_KIND_BALANCE	? "31"
							: "00";
	memcpy(out, digits, 2);
	memcpy(out + 2, strlen(types) == 4 ? types : "0000", 5);
}

int txn_record_encode_v1(const txn_t *t, uint8_t *out, size_t cap, size_t *len)
{
	if (cap < sizeof(v1_txn_t))
		return TXN_ENOSPC;
	v1_txn_t o;
	memset(&o, 0, sizeof(o));
	o.format = 1;
	bool advice = t->kind == TXN_KIND_REVERSAL && (t->flags & TXN_F_ADVICE);
	o.kind = advice ? V1_REVERSAL_ADVICE : v1_kind_number(t->kind);
	o.state = t->state;
	o.leg_count = t->leg_count;
	o.flags = (uint16_t)(t->flags & ~(advice ? TXN_F_ADVICE : 0));
	/* The first switch kept the origin's field 3: a financial kind's
	 * digits and the account types. */
	if (t->kind == TXN_KIND_PURCHASE || t->kind == TXN_KIND_CREDIT ||
	    t->kind == TXN_KIND_REFUND_CREDIT || t->kind == TXN_KIND_BALANCE)
		v1_proc(t->kind, t->account_types, o.proc);
	o.id = t->id;
	o.created_ms = t->created_ms;
	o.answered_ms = t->answered_ms;
	COPY(o.listener, t->listener);
	COPY(o.participant, t->participant);
	COPY(o.request_id, t->request_id);
	COPY(o.local_time, t->local_time);
	COPY(o.local_date, t->local_date);
	COPY(o.rrn, t->rrn);
	COPY(o.acquirer, t->acquirer);
	COPY(o.forwarder, t->forwarder);
	COPY(o.terminal, t->terminal);
	COPY(o.merchant, t->merchant);
	COPY(o.merchant_name, t->merchant_name);
	COPY(o.payer, t->payer);
	COPY(o.payee, t->payee);
	COPY(o.payee_name, t->payee_name);
	o.amount = t->amount;
	o.currency = t->currency;
	o.balance = t->balance;
	COPY(o.memo, t->memo);
	COPY(o.original_id, t->original_id);
	o.parent_id = t->parent_id;
	o.parent_leg = t->parent_leg;
	o.refunded = t->refunded;
	o.refund_pending = t->refund_pending;
	if (t->rc != TXN_RC_NONE)
		txn_rc_text(t->rc, o.response);
	COPY(o.auth_code, t->auth_code);
	COPY(o.reason, t->reason);
	if (t->original_transmit[0] != '\0') {
		uint64_t acquirer = 0, forwarder = 0;
		ps_parse_u64(t->acquirer, strlen(t->acquirer), &acquirer);
		ps_parse_u64(t->forwarder, strlen(t->forwarder), &forwarder);
		snprintf(o.original_data, sizeof(o.original_data),
			 "0200%06u%.10s%011llu%011llu",
			 (unsigned)(t->original_stan % 1000000),
			 t->original_transmit,
			 (unsigned long long)(acquirer % 100000000000ull),
			 (unsigned long long)(forwarder % 100000000000ull));
	}
	for (unsigned i = 0; i < t->leg_count; i++) {
		const txn_leg_t *l = &t->leg[i];
		v1_leg_t *ol = &o.leg[i];
		ol->kind = v1_kind_number(l->kind);
		ol->state = l->state;
		ol->network = l->network;
		ol->attempts = l->attempts;
		COPY(ol->endpoint, l->endpoint);
		COPY(ol->institution, l->institution);
		COPY(ol->account, l->account);
		bool refers = t->kind == TXN_KIND_REVERSAL ||
			      t->kind == TXN_KIND_COMPLETION;
		v1_proc(refers ? t->original_kind : l->kind, t->account_types,
			ol->proc);
		ol->stan = l->stan;
		COPY(ol->transmit, l->transmit);
		COPY(ol->rrn, l->rrn);
		if (l->rc != TXN_RC_NONE)
			txn_rc_text(l->rc, ol->response);
		COPY(ol->auth_code, l->auth_code);
		ol->sent_ms = l->sent_ms;
		ol->deadline_ms = l->deadline_ms;
		ol->answered_ms = l->answered_ms;
	}
	memcpy(out, &o, sizeof(o));
	*len = sizeof(o);
	return 0;
}

/* ---- either ------------------------------------------------------------------ */

int txn_record_version(const uint8_t *in, size_t len)
{
	/* Version 1 has no magic: it is known by its size and its format
	 * number; every later version by "PST" and a version byte. */
	if (len == sizeof(v1_txn_t) && in[0] == 1 && in[1] == 0)
		return 1;
	if (len >= HEAD_BYTES && memcmp(in, magic, 3) == 0 && in[3] >= 2)
		return in[3];
	return 0;
}

int txn_record_decode(const uint8_t *in, size_t len, txn_t *t)
{
	switch (txn_record_version(in, len)) {
	case 1:
		PS_ASSERT(len == sizeof(v1_txn_t));
		return decode_v1(in, t);
	case 2:
		return decode_v2(in, len, t);
	default:
		return PS_EFORMAT;
	}
}
