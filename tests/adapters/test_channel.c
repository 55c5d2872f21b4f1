/*
 * test_channel.c: the channel interface (channel.h) end to end, through
 * real framing, for CHAN_ISO8583 and CHAN_JSON. One side plays the switch
 * (it encodes legs and network management and reads answers), the other
 * the endpoint (it decodes requests and answers them); every message is
 * framed by one side's encoder and cut by the other side's chan_next, as
 * on a socket.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "channel.h"
#include "core.h"

#define FRAME_MAX 2048
#define FRAMES_MAX 8
#define OUT_BYTES (TXN_JSON_LINE_MAX + 64)

/* The TPDU each side puts on what it originates: id, destination, source. */
static const uint8_t switch_tpdu[5] = {0x60, 0x00, 0x01, 0x00, 0x02};
static const uint8_t bank_tpdu[5] = {0x60, 0x00, 0x02, 0x00, 0x01};

/* One end of a link: its way of speaking and its connection. */
typedef struct side {
	chan_cfg_t cfg;
	chan_t ch;
	uint8_t storage[TXN_JSON_LINE_MAX];
} side_t;

static side_t switch_side, bank_side;

/* A frame copied out of the channel's storage, which the next
 * chan_space() may overwrite. */
typedef struct got {
	uint8_t data[TXN_JSON_LINE_MAX];
	size_t len;
	uint8_t header[TXN_HEADER_MAX];
	size_t header_len;
} got_t;

static got_t got[FRAMES_MAX];

/* Seeded so a failure replays. */
static uint64_t rng_state;
static uint64_t rng(void)
{
	return ps_xorshift64s(&rng_state);
}

static void iso_cfg(chan_cfg_t *cfg, const char *dialect, const uint8_t *tpdu)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->kind = CHAN_ISO8583;
	cfg->dialect = iso8583_dialect_builtin(dialect);
	assert_non_null(cfg->dialect);
	cfg->framing.length_header = ISO8583_LENGTH_BINARY2;
	cfg->framing.header_bytes = 5;
	memcpy(cfg->header, tpdu, 5);
	cfg->frame_bytes_max = FRAME_MAX;
}

static void json_cfg(chan_cfg_t *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->kind = CHAN_JSON;
	cfg->frame_bytes_max = TXN_JSON_LINE_MAX;
}

static void side_open(side_t *s)
{
	size_t need = chan_storage_bytes(&s->cfg);
	assert_true(need <= sizeof(s->storage));
	chan_init(&s->ch, &s->cfg, s->storage, need);
}

/* Both ends of a link of one kind, freshly connected; the chunking seed
 * restarts with each link, so every test replays on its own. */
static void link_iso(const char *dialect)
{
	rng_state = 0x5eed;
	iso_cfg(&switch_side.cfg, dialect, switch_tpdu);
	iso_cfg(&bank_side.cfg, dialect, bank_tpdu);
	side_open(&switch_side);
	side_open(&bank_side);
}

static void link_json(void)
{
	rng_state = 0x5eed;
	json_cfg(&switch_side.cfg);
	json_cfg(&bank_side.cfg);
	side_open(&switch_side);
	side_open(&bank_side);
}

/*
 * Feeds len bytes into s in chunks of chunk bytes (0: seeded random
 * sizes from 1 to 97), taking every whole frame into got[]. Returns the
 * frames taken, or chan_next's negative code with why filled.
 */
static int feed(side_t *s, const uint8_t *bytes, size_t len, size_t chunk,
		char *why, size_t why_cap)
{
	size_t off = 0;
	int count = 0;
	while (off < len) {
		uint8_t *dst;
		size_t room;
		chan_space(&s->ch, &dst, &room);
		assert_true(room > 0);
		size_t n = chunk ? chunk : 1 + (size_t)(rng() % 97);
		n = PS_MIN(n, PS_MIN(room, len - off));
		memcpy(dst, bytes + off, n);
		chan_commit(&s->ch, n);
		off += n;
		chan_frame_t f;
		int rc;
		while ((rc = chan_next(&s->ch, &f, why, why_cap)) == 1) {
			assert_true(count < FRAMES_MAX);
			got_t *g = &got[count++];
			assert_true(f.len <= sizeof(g->data));
			memcpy(g->data, f.data, f.len);
			g->len = f.len;
			assert_true(f.header_len <= sizeof(g->header));
			if (f.header_len > 0)
				memcpy(g->header, f.header, f.header_len);
			g->header_len = f.header_len;
		}
		if (rc < 0)
			return rc;
	}
	return count;
}

/* Delivers one whole message to s, which must cut exactly one frame. */
static void deliver(side_t *s, const uint8_t *bytes, size_t len)
{
	char why[160] = "";
	int n = feed(s, bytes, len, 0, why, sizeof(why));
	if (n != 1)
		fail_msg("expected one frame, got %d (%s)", n, why);
	assert_false(chan_partial(&s->ch));
}

/* Decodes got[i] as s's channel does. */
static int decode(const side_t *s, int i, txn_t *req, txn_response_t *resp,
		  int *what, txn_error_t *err)
{
	chan_frame_t f = {
		.data = got[i].data,
		.len = got[i].len,
		.header = got[i].header,
		.header_len = got[i].header_len,
	};
	return chan_decode(&s->cfg, &f, req, resp, what, err);
}

/* A debit leg as the switch sends it. */
static void debit(txn_t *t)
{
	txn_init(t, TXN_KIND_PAY);
	strcpy(t->payer, "6222020000000001");
	strcpy(t->payee, "6217000000000009");
	t->amount = 12850;
	t->currency = TXN_CURRENCY_CNY;
	strcpy(t->acquirer, "99990000");
	strcpy(t->forwarder, "99990000");
	strcpy(t->merchant_name, "Three Squirrels");
	txn_set_leg(t, 0, TXN_KIND_PURCHASE, t->payer);
	txn_leg_t *l = &t->leg[0];
	l->stan = 123;
	strcpy(l->transmit, "1125103000");
	strcpy(l->rrn, "533000000123");
	strcpy(l->institution, "01020000");
}

/* The switch sends leg 0 of t; the bank receives it as a request. */
static void send_leg(const txn_t *t, txn_t *bank)
{
	static uint8_t out[OUT_BYTES];
	size_t len = 0;
	assert_int_equal(chan_encode_leg(&switch_side.cfg, t, 0, out,
					 sizeof(out), &len),
			 0);
	deliver(&bank_side, out, len);
	txn_response_t resp;
	txn_error_t err;
	int what = 0;
	int rc = decode(&bank_side, 0, bank, &resp, &what, &err);
	if (rc != 0)
		fail_msg("bank decode %d: %s: %s", rc, err.field, err.reason);
	assert_int_equal(what, CHAN_MSG_REQUEST);
}

/* The bank answers req; the switch receives the answer as a response. */
static void answer_back(const txn_t *req, txn_response_t *resp)
{
	static uint8_t out[OUT_BYTES];
	size_t len = 0;
	assert_int_equal(chan_encode_answer(&bank_side.cfg, req, NULL, out,
					    sizeof(out), &len),
			 0);
	deliver(&switch_side, out, len);
	static txn_t unused;
	txn_error_t err;
	int what = 0;
	int rc = decode(&switch_side, 0, &unused, resp, &what, &err);
	if (rc != 0)
		fail_msg("switch decode %d: %s: %s", rc, err.field, err.reason);
	assert_int_equal(what, CHAN_MSG_RESPONSE);
}

static void assert_same_money_and_keys(const txn_t *t, const txn_t *bank)
{
	assert_int_equal(bank->kind, t->leg[0].kind);
	assert_string_equal(bank->payer, t->leg[0].account);
	assert_int_equal(bank->amount, t->amount);
	assert_int_equal(bank->currency, t->currency);
	assert_int_equal(bank->wire.stan, t->leg[0].stan);
	assert_string_equal(bank->wire.transmit, t->leg[0].transmit);
	assert_string_equal(bank->rrn, t->leg[0].rrn);
	assert_string_equal(bank->acquirer, t->acquirer);
	assert_string_equal(bank->wire.receiver, t->leg[0].institution);
}

/* ---- CHAN_ISO8583 ---------------------------------------------------------- */

/* A leg framed by the switch reaches the bank with the same money and
 * keys, and its TPDU as the switch sent it. */
static void test_iso_leg_reaches_the_bank(void **state)
{
	(void)state;
	const char *const dialects[] = {"ascii", "binary", "ascii-binbitmap"};
	for (size_t d = 0; d < 3; d++) {
		link_iso(dialects[d]);
		txn_t t, bank;
		debit(&t);
		send_leg(&t, &bank);
		assert_same_money_and_keys(&t, &bank);
		assert_string_equal(bank.payee, "6217000000000009");
		assert_string_equal(bank.wire.mti, "0200");
		assert_int_equal(bank.wire.header_len, 5);
		assert_memory_equal(bank.wire.header, switch_tpdu, 5);
	}
}

/* The bank's answer gives the switch back the leg's key and the code,
 * for an approval and for refusals. */
static void test_iso_answer_matches_the_leg(void **state)
{
	(void)state;
	const uint8_t codes[] = {TXN_RC_APPROVED, TXN_RC_INSUFFICIENT_FUNDS,
				 TXN_RC_DO_NOT_HONOUR, 99};
	for (size_t i = 0; i < sizeof(codes); i++) {
		link_iso("binary");
		txn_t t, bank;
		debit(&t);
		send_leg(&t, &bank);
		bank.rc = codes[i];
		strcpy(bank.auth_code, "004711");
		txn_response_t r;
		answer_back(&bank, &r);
		assert_int_equal(r.stan, 123);
		assert_string_equal(r.transmit, "1125103000");
		assert_int_equal(r.rc, codes[i]);
		assert_int_equal(r.net_op, TXN_NET_NONE);
		assert_string_equal(r.rrn, "533000000123");
		/* An authorisation code goes only with an approval. */
		assert_string_equal(r.auth_code, codes[i] == 0 ? "004711" : "");
	}
}

/* The answer's TPDU is the request's with destination and source
 * swapped, so it finds its way back through a NAC. */
static void test_iso_answer_tpdu_swapped(void **state)
{
	(void)state;
	link_iso("ascii");
	txn_t t, bank;
	debit(&t);
	send_leg(&t, &bank);
	bank.rc = TXN_RC_APPROVED;
	txn_response_t r;
	answer_back(&bank, &r);
	const uint8_t swapped[5] = {0x60, 0x00, 0x02, 0x00, 0x01};
	assert_int_equal(got[0].header_len, 5);
	assert_memory_equal(got[0].header, swapped, 5);
}

/* A request that did not come in on this channel (no header of its
 * size) is answered with this side's own header. */
static void test_iso_answer_without_request_header(void **state)
{
	(void)state;
	link_iso("ascii");
	txn_t t, bank;
	debit(&t);
	send_leg(&t, &bank);
	bank.wire.header_len = 0;
	bank.rc = TXN_RC_APPROVED;
	txn_response_t r;
	answer_back(&bank, &r);
	assert_memory_equal(got[0].header, bank_tpdu, 5);
}

/* A balance answer carries the balance back. */
static void test_iso_balance_answer(void **state)
{
	(void)state;
	link_iso("ascii");
	txn_t t, bank;
	debit(&t);
	t.leg[0].kind = TXN_KIND_BALANCE;
	t.amount = 0;
	send_leg(&t, &bank);
	assert_int_equal(bank.kind, TXN_KIND_BALANCE);
	bank.rc = TXN_RC_APPROVED;
	bank.balance = 987650;
	bank.flags |= TXN_F_BALANCE;
	txn_response_t r;
	answer_back(&bank, &r);
	assert_true(r.has_balance);
	assert_int_equal(r.balance, 987650);
}

/* Frames msg with a binary2 length and the switch's TPDU, as a peer that
 * does not use this library would. */
static size_t frame_raw(const uint8_t *body, size_t len, uint8_t *out)
{
	ps_be16_put(out, (uint16_t)(5 + len));
	memcpy(out + 2, switch_tpdu, 5);
	memcpy(out + 7, body, len);
	return 7 + len;
}

/*
 * An acquirer's message (ascii dialect) whose field 100 (class n), packed
 * last, holds a letter: unpack itself stops there, after every key has
 * been read. A response
 * MTI gets field 39 too; with_stan false leaves field 11 out.
 */
static size_t broken_request(const char *mti, bool with_stan, uint8_t *out)
{
	iso8583_msg_t m;
	iso8583_msg_init(&m, iso8583_dialect_builtin("ascii"));
	assert_int_equal(iso8583_set_mti(&m, mti), 0);
	assert_int_equal(iso8583_set_str(&m, 2, "6222020000000001"), 0);
	assert_int_equal(iso8583_set_str(&m, 3, "000000"), 0);
	assert_int_equal(iso8583_set_str(&m, 4, "000000012850"), 0);
	assert_int_equal(iso8583_set_str(&m, 7, "1125103000"), 0);
	if (with_stan)
		assert_int_equal(iso8583_set_str(&m, 11, "000077"), 0);
	assert_int_equal(iso8583_set_str(&m, 32, "123456"), 0);
	if (txn_mti_is_response(mti))
		assert_int_equal(iso8583_set_str(&m, 39, "00"), 0);
	assert_int_equal(iso8583_set_str(&m, 49, "156"), 0);
	assert_int_equal(iso8583_set_str(&m, 100, "01020000"), 0);
	uint8_t body[512];
	size_t len = 0;
	iso8583_error_t ierr;
	assert_int_equal(iso8583_pack(&m, body, sizeof(body), &len, &ierr), 0);
	assert_memory_equal(body + len - 8, "01020000", 8);
	body[len - 1] = 'X';
	iso8583_msg_t back;
	assert_int_equal(iso8583_unpack(&back, m.dialect, body, len, &ierr),
			 ISO8583_ECONTENT);
	return frame_raw(body, len, out);
}

/* An undecodable request with its MTI and STAN is a format error whose
 * keys are kept, and its error answer reaches the sender matched. */
static void test_iso_undecodable_keeps_keys(void **state)
{
	(void)state;
	link_iso("ascii");
	uint8_t frame[600];
	size_t len = broken_request("0200", true, frame);
	deliver(&bank_side, frame, len);
	txn_t req;
	txn_response_t resp;
	txn_error_t err;
	int what = 0;
	assert_int_equal(decode(&bank_side, 0, &req, &resp, &what, &err),
			 TXN_EFORMAT);
	assert_int_equal(what, CHAN_MSG_REQUEST);
	assert_int_equal(err.rc, TXN_RC_FORMAT_ERROR);
	assert_true(strlen(err.reason) > 0);
	assert_string_equal(req.wire.mti, "0200");
	assert_int_equal(req.wire.stan, 77);
	assert_string_equal(req.wire.transmit, "1125103000");
	assert_string_equal(req.acquirer, "123456");
	assert_memory_equal(req.wire.header, switch_tpdu, 5);

	static uint8_t out[OUT_BYTES];
	size_t out_len = 0;
	assert_int_equal(chan_encode_error(&bank_side.cfg, &req, &err, out,
					   sizeof(out), &out_len),
			 0);
	deliver(&switch_side, out, out_len);
	static txn_t unused;
	txn_response_t r;
	assert_int_equal(decode(&switch_side, 0, &unused, &r, &what, &err), 0);
	assert_int_equal(what, CHAN_MSG_RESPONSE);
	assert_int_equal(r.stan, 77);
	assert_string_equal(r.transmit, "1125103000");
	assert_int_equal(r.rc, TXN_RC_FORMAT_ERROR);
}

/* Without field 11 nothing could match an answer: TXN_EKEYS. */
static void test_iso_undecodable_without_stan(void **state)
{
	(void)state;
	link_iso("ascii");
	uint8_t frame[600];
	size_t len = broken_request("0200", false, frame);
	deliver(&bank_side, frame, len);
	txn_t req;
	txn_response_t resp;
	txn_error_t err;
	int what = 0;
	assert_int_equal(decode(&bank_side, 0, &req, &resp, &what, &err),
			 TXN_EKEYS);
	assert_int_equal(what, CHAN_MSG_REQUEST);
	assert_true(strlen(err.reason) > 0);
}

/* A well-formed request without field 11 has no keys either. */
static void test_iso_request_without_stan(void **state)
{
	(void)state;
	link_iso("ascii");
	iso8583_msg_t m;
	iso8583_msg_init(&m, iso8583_dialect_builtin("ascii"));
	assert_int_equal(iso8583_set_mti(&m, "0200"), 0);
	assert_int_equal(iso8583_set_str(&m, 2, "6222020000000001"), 0);
	assert_int_equal(iso8583_set_str(&m, 3, "000000"), 0);
	assert_int_equal(iso8583_set_str(&m, 4, "000000012850"), 0);
	assert_int_equal(iso8583_set_str(&m, 7, "1125103000"), 0);
	uint8_t body[512], frame[600];
	size_t len = 0;
	iso8583_error_t ierr;
	assert_int_equal(iso8583_pack(&m, body, sizeof(body), &len, &ierr), 0);
	deliver(&bank_side, frame, frame_raw(body, len, frame));
	txn_t req;
	txn_response_t resp;
	txn_error_t err;
	int what = 0;
	assert_int_equal(decode(&bank_side, 0, &req, &resp, &what, &err),
			 TXN_EKEYS);
}

/*
 * A response that cannot be unpacked is a response the switch cannot
 * read: TXN_EFORMAT (log it, the leg times out), as channel.h says, not
 * TXN_EKEYS, which would close a bank's link over one bad answer.
 */
static void test_iso_undecodable_response(void **state)
{
	(void)state;
	link_iso("ascii");
	uint8_t frame[600];
	size_t len = broken_request("0210", true, frame);
	deliver(&switch_side, frame, len);
	txn_t req;
	txn_response_t resp;
	txn_error_t err;
	int what = 0;
	int rc = decode(&switch_side, 0, &req, &resp, &what, &err);
	assert_int_equal(what, CHAN_MSG_RESPONSE);
	assert_int_equal(rc, TXN_EFORMAT);
}

/* ---- CHAN_JSON -------------------------------------------------------------- */

/* A leg line reaches a JSON bank as a request keyed by "id". */
static void test_json_leg_reaches_the_bank(void **state)
{
	(void)state;
	link_json();
	txn_t t, bank;
	debit(&t);
	send_leg(&t, &bank);
	assert_same_money_and_keys(&t, &bank);
	assert_string_equal(bank.request_id, "1125103000000123");
	assert_int_equal(bank.wire.header_len, 0);
}

/* The bank's answer line gives the switch the key from "id" and the
 * code. */
static void test_json_answer_matches_the_leg(void **state)
{
	(void)state;
	const uint8_t codes[] = {TXN_RC_APPROVED, TXN_RC_INSUFFICIENT_FUNDS,
				 TXN_RC_FORMAT_ERROR};
	for (size_t i = 0; i < sizeof(codes); i++) {
		link_json();
		txn_t t, bank;
		debit(&t);
		send_leg(&t, &bank);
		bank.rc = codes[i];
		strcpy(bank.rrn, "533000000999");
		strcpy(bank.auth_code, "004711");
		txn_response_t r;
		answer_back(&bank, &r);
		assert_int_equal(r.stan, 123);
		assert_string_equal(r.transmit, "1125103000");
		assert_int_equal(r.rc, codes[i]);
		assert_int_equal(r.net_op, TXN_NET_NONE);
		assert_string_equal(r.auth_code, codes[i] == 0 ? "004711" : "");
		assert_string_equal(r.rrn, codes[i] == 0 ? "533000000999" : "");
	}
}

/* A reversal advice line keeps its advice flag and original key. */
static void test_json_reversal_leg(void **state)
{
	(void)state;
	link_json();
	txn_t t, bank;
	debit(&t);
	t.kind = TXN_KIND_REVERSAL;
	t.flags = TXN_F_ADVICE;
	t.original_kind = TXN_KIND_PURCHASE;
	t.original_stan = 122;
	strcpy(t.original_transmit, "1125102959");
	t.leg[0].kind = TXN_KIND_REVERSAL;
	send_leg(&t, &bank);
	assert_int_equal(bank.kind, TXN_KIND_REVERSAL);
	assert_true(bank.flags & TXN_F_ADVICE);
	assert_int_equal(bank.original_stan, 122);
	assert_string_equal(bank.original_transmit, "1125102959");
	bank.rc = TXN_RC_APPROVED;
	txn_response_t r;
	answer_back(&bank, &r);
	assert_int_equal(r.stan, 123);
	assert_int_equal(r.rc, TXN_RC_APPROVED);
}

/* A leg line the bank cannot take is refused with its key, so the
 * switch matches the refusal to the leg. */
static void test_json_refused_leg_answered_with_key(void **state)
{
	(void)state;
	link_json();
	const char line[] = "{\"op\":\"purchase\",\"id\":\"1125103000000123\","
			    "\"account\":\"6222020000000001\",\"amount\":1.5,"
			    "\"currency\":\"CNY\"}\n";
	deliver(&bank_side, (const uint8_t *)line, strlen(line));
	txn_t req;
	txn_response_t resp;
	txn_error_t err;
	int what = 0;
	assert_int_equal(decode(&bank_side, 0, &req, &resp, &what, &err),
			 TXN_EFORMAT);
	assert_int_equal(what, CHAN_MSG_REQUEST);
	assert_int_equal(err.rc, TXN_RC_FORMAT_ERROR); /* a decimal: 30 */
	static uint8_t out[OUT_BYTES];
	size_t len = 0;
	assert_int_equal(chan_encode_error(&bank_side.cfg, &req, &err, out,
					   sizeof(out), &len),
			 0);
	deliver(&switch_side, out, len);
	static txn_t unused;
	txn_response_t r;
	assert_int_equal(decode(&switch_side, 0, &unused, &r, &what, &err), 0);
	assert_int_equal(what, CHAN_MSG_RESPONSE);
	assert_int_equal(r.stan, 123);
	assert_string_equal(r.transmit, "1125103000");
	assert_int_equal(r.rc, TXN_RC_FORMAT_ERROR);
}

/* ---- clearing: settlement dates, totals, the UnionPay header ------------------ */

/* The leg's period goes to the bank as field 15 (MMDD); the bank's answer
 * brings its own back. */
static void test_iso_settlement_date(void **state)
{
	(void)state;
	link_iso("ascii");
	txn_t t, bank;
	debit(&t);
	strcpy(t.leg[0].period, "20261203");
	send_leg(&t, &bank);
	assert_string_equal(bank.wire.settle_date, "1203");
	bank.rc = TXN_RC_APPROVED;
	strcpy(bank.wire.settle_date, "1204");
	txn_response_t r;
	answer_back(&bank, &r);
	assert_string_equal(r.period, "1204");
	/* A leg whose period is a NetClear batch carries no field 15. */
	link_iso("ascii");
	debit(&t);
	strcpy(t.leg[0].period, "B2026120301");
	send_leg(&t, &bank);
	assert_string_equal(bank.wire.settle_date, "");
}

/* 0500 for a date; 0510 with the totals, every field and the sign. */
static void test_iso_recon_totals(void **state)
{
	(void)state;
	const char *dialects[] = {"ascii", "binary"};
	for (size_t d = 0; d < 2; d++) {
		link_iso(dialects[d]);
		static uint8_t out[OUT_BYTES];
		size_t len = 0;
		assert_int_equal(chan_encode_recon(&switch_side.cfg, 77, "1203230000",
						   "99990000", "1203", out,
						   sizeof(out), &len),
				 0);
		deliver(&bank_side, out, len);
		txn_t req;
		txn_response_t unused;
		txn_error_t err;
		int what = 0;
		assert_int_equal(decode(&bank_side, 0, &req, &unused, &what, &err), 0);
		assert_int_equal(req.kind, TXN_KIND_RECON);
		assert_string_equal(req.wire.settle_date, "1203");
		req.rc = TXN_RC_APPROVED;
		req.wire.has_totals = true;
		txn_totals_t want = {.credits = 3, .credit_reversals = 1, .debits = 5,
				     .debit_reversals = 2, .credits_amount = 30000,
				     .credit_reversals_amount = 1000,
				     .debits_amount = 52000,
				     .debit_reversals_amount = 2000, .net = -21000};
		req.wire.totals = want;
		txn_response_t r;
		answer_back(&req, &r);
		assert_int_equal(r.stan, 77);
		assert_true(r.has_totals);
		assert_memory_equal(&r.totals, &want, sizeof(want));
	}
	link_json();
	static uint8_t out[OUT_BYTES];
	size_t len;
	assert_int_equal(chan_encode_recon(&switch_side.cfg, 1, "1203230000", "9",
					   "1203", out, sizeof(out), &len),
			 TXN_EINVALID);
}

/* Both ends of a UnionPay link: ascii4 lengths and the 46-byte header,
 * each side's stations in what it originates. */
static void link_cups(void)
{
	rng_state = 0x5eed;
	const struct {
		side_t *s;
		const char *dst, *src;
	} ends[2] = {{&switch_side, "00010000", "99990000"},
		     {&bank_side, "99990000", "00010000"}};
	for (int i = 0; i < 2; i++) {
		chan_cfg_t *cfg = &ends[i].s->cfg;
		memset(cfg, 0, sizeof(*cfg));
		cfg->kind = CHAN_ISO8583;
		cfg->dialect = iso8583_dialect_builtin("ascii");
		cfg->framing.length_header = ISO8583_LENGTH_ASCII4;
		cfg->framing.header_bytes = ISO8583_CUPS_HEADER_BYTES;
		cfg->frame_bytes_max = FRAME_MAX;
		iso8583_cups_header_t h;
		iso8583_cups_header_init(&h, ends[i].dst, ends[i].src);
		iso8583_cups_header_write(&h, 0, cfg->header);
		side_open(ends[i].s);
	}
}

static void test_cups_header(void **state)
{
	(void)state;
	link_cups();
	txn_t t, bank;
	debit(&t);
	send_leg(&t, &bank); /* the bank side checked the header */
	iso8583_cups_header_t h;
	iso8583_error_t ierr;
	assert_int_equal(iso8583_cups_header_parse(got[0].header,
						   46 + got[0].len, &h, &ierr), 0);
	assert_string_equal(h.source, "99990000");
	assert_string_equal(h.destination, "00010000");
	assert_int_equal(h.total_len, 46 + got[0].len);
	assert_string_equal(h.reject, "00000");
	/* The answer: stations swapped, its own total length. */
	bank.rc = TXN_RC_APPROVED;
	txn_response_t r;
	answer_back(&bank, &r);
	assert_int_equal(iso8583_cups_header_parse(got[0].header,
						   46 + got[0].len, &h, &ierr), 0);
	assert_string_equal(h.source, "00010000");
	assert_string_equal(h.destination, "99990000");
	assert_int_equal(h.total_len, 46 + got[0].len);
	/* A wrong total length: refused before the message is read, and sent
	 * back with reject code 00035, stations swapped, message as it was. */
	static uint8_t out[OUT_BYTES];
	size_t len = 0;
	assert_int_equal(chan_encode_leg(&switch_side.cfg, &t, 0, out, sizeof(out),
					 &len), 0);
	memcpy(out + 4 + 2, "0100", 4); /* after the 4-digit length */
	deliver(&bank_side, out, len);
	txn_t req;
	txn_error_t err;
	int what = 0;
	assert_int_equal(decode(&bank_side, 0, &req, &r, &what, &err), TXN_EHEADER);
	assert_memory_equal(err.reason, "00035", 5);
	chan_frame_t f = {.data = got[0].data, .len = got[0].len,
			  .header = got[0].header, .header_len = got[0].header_len};
	static uint8_t back[OUT_BYTES];
	size_t back_len = 0;
	assert_int_equal(chan_encode_reject(&bank_side.cfg, &f, "00035", back,
					    sizeof(back), &back_len), 0);
	assert_int_equal(back_len, len);
	assert_memory_equal(back + 4 + 46, out + 4 + 46, len - 50);
	assert_int_equal(iso8583_cups_header_parse(back + 4, len - 4, &h, &ierr), 0);
	assert_string_equal(h.reject, "00035");
	assert_string_equal(h.source, "00010000");
	/* A header length byte that is not 46, and a wrong version. */
	uint8_t raw[46];
	memcpy(raw, got[0].header, 46);
	raw[0] = 40;
	assert_int_equal(iso8583_cups_header_parse(raw, 46 + got[0].len, &h, &ierr),
			 ISO8583_EFRAME);
	assert_string_equal(h.reject, "00015");
	raw[0] = 46;
	raw[1] = 7;
	assert_int_equal(iso8583_cups_header_parse(raw, 46 + got[0].len, &h, &ierr),
			 ISO8583_EFRAME);
	assert_string_equal(h.reject, "00025");
	raw[1] = ISO8583_CUPS_TEST_FLAG | ISO8583_CUPS_VERSION; /* a test message */
	assert_int_equal(iso8583_cups_header_parse(raw, 46 + got[0].len, &h, &ierr),
			 ISO8583_EFRAME); /* its total is still the tampered one */
	assert_string_equal(h.reject, "00035");
}

/* NetClear: the same legs and answers, under a message header. */
static void link_netclear(void)
{
	rng_state = 0x5eed;
	json_cfg(&switch_side.cfg);
	json_cfg(&bank_side.cfg);
	switch_side.cfg.kind = bank_side.cfg.kind = CHAN_NETCLEAR;
	strcpy(switch_side.cfg.member, "99990000");
	strcpy(bank_side.cfg.member, "00020000");
	side_open(&switch_side);
	side_open(&bank_side);
}

static void test_netclear_leg_and_answer(void **state)
{
	(void)state;
	link_netclear();
	txn_t t, net;
	debit(&t);
	static uint8_t out[OUT_BYTES];
	size_t len = 0;
	assert_int_equal(chan_encode_leg(&switch_side.cfg, &t, 0, out, sizeof(out),
					 &len), 0);
	assert_non_null(strstr((char *)out, "{\"header\":{\"type\":\"agreement_payment\","
				"\"issuer\":\"99990000\",\"direction\":\"request\","
				"\"msg_id\":\"1125103000000123\"},\"body\":{"));
	send_leg(&t, &net);
	assert_same_money_and_keys(&t, &net);
	assert_string_equal(net.participant, "99990000");
	/* The network answers within its session; the switch learns it. */
	net.rc = TXN_RC_APPROVED;
	strcpy(net.auth_code, "654321");
	strcpy(net.wire.settle_date, "B2026120301");
	txn_response_t r;
	answer_back(&net, &r);
	assert_int_equal(r.stan, 123);
	assert_string_equal(r.transmit, "1125103000");
	assert_int_equal(r.rc, TXN_RC_APPROVED);
	assert_string_equal(r.auth_code, "654321");
	assert_string_equal(r.period, "B2026120301");
	/* A payout (a credit leg) and a reversal of the debit. */
	txn_set_leg(&t, 1, TXN_KIND_CREDIT, t.payee);
	t.leg[1].stan = 124;
	strcpy(t.leg[1].transmit, "1125103001");
	assert_int_equal(chan_encode_leg(&switch_side.cfg, &t, 1, out, sizeof(out),
					 &len), 0);
	assert_non_null(strstr((char *)out, "\"type\":\"payout\""));
	deliver(&bank_side, out, len);
	txn_error_t err;
	int what;
	assert_int_equal(decode(&bank_side, 0, &net, &r, &what, &err), 0);
	assert_int_equal(net.kind, TXN_KIND_CREDIT);
	assert_string_equal(net.payer, t.payee);
	/* An unknown type is answered with its key, so it can be matched. */
	const char bad[] = "{\"header\":{\"type\":\"lottery\",\"issuer\":\"99990000\","
			   "\"direction\":\"request\",\"msg_id\":\"1125103000000125\"},"
			   "\"body\":{}}\n";
	deliver(&bank_side, (const uint8_t *)bad, strlen(bad));
	assert_int_equal(decode(&bank_side, 0, &net, &r, &what, &err), TXN_EINVALID);
	assert_string_equal(err.field, "header.type");
	/* Network management: hello, echo and a cutover request. */
	const int ops[] = {TXN_NET_SIGN_ON, TXN_NET_ECHO, TXN_NET_CUTOVER};
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(chan_encode_network(&switch_side.cfg, ops[i], 9,
						     "1125103000", "99990000", out,
						     sizeof(out), &len), 0);
		deliver(&bank_side, out, len);
		assert_int_equal(decode(&bank_side, 0, &net, &r, &what, &err), 0);
		assert_int_equal(what, CHAN_MSG_REQUEST);
		assert_int_equal(net.kind, TXN_KIND_NETWORK);
		assert_int_equal(net.net_op, ops[i]);
		net.rc = TXN_RC_APPROVED;
		strcpy(net.wire.settle_date, "B2026120302");
		answer_back(&net, &r);
		assert_int_equal(r.net_op, ops[i]);
		assert_int_equal(r.rc, TXN_RC_APPROVED);
		assert_int_equal(r.stan, 9);
	}
	assert_string_equal(r.period, "B2026120302"); /* the session closed */
}

/* ---- network management, both kinds ---------------------------------------- */

static void sign_on_and_echo(void)
{
	const int ops[] = {TXN_NET_SIGN_ON, TXN_NET_ECHO};
	for (size_t i = 0; i < 2; i++) {
		static uint8_t out[OUT_BYTES];
		size_t len = 0;
		uint32_t stan = 900 + (uint32_t)i;
		assert_int_equal(chan_encode_network(&switch_side.cfg, ops[i],
						     stan, "1125000000",
						     "99990000", out,
						     sizeof(out), &len),
				 0);
		deliver(&bank_side, out, len);
		txn_t req;
		txn_response_t resp;
		txn_error_t err;
		int what = 0;
		assert_int_equal(decode(&bank_side, 0, &req, &resp, &what, &err), 0);
		assert_int_equal(what, CHAN_MSG_REQUEST);
		assert_int_equal(req.kind, TXN_KIND_NETWORK);
		assert_int_equal(req.net_op, ops[i]);
		req.rc = TXN_RC_APPROVED;
		txn_response_t r;
		answer_back(&req, &r);
		assert_int_equal(r.net_op, ops[i]);
		assert_int_equal(r.stan, stan);
		assert_string_equal(r.transmit, "1125000000");
		assert_int_equal(r.rc, TXN_RC_APPROVED);
	}
}

/* Sign-on and echo over ISO 8583 (0800/001, 0800/301) and their 0810s. */
static void test_iso_network_management(void **state)
{
	(void)state;
	link_iso("ascii");
	sign_on_and_echo();
	link_iso("binary");
	sign_on_and_echo();
}

/* The same over JSON lines (hello, echo) and their answers. */
static void test_json_network_management(void **state)
{
	(void)state;
	link_json();
	sign_on_and_echo();
}

/* A sign-on participant is who we are. */
static void test_json_sign_on_names_us(void **state)
{
	(void)state;
	link_json();
	static uint8_t out[OUT_BYTES];
	size_t len = 0;
	assert_int_equal(chan_encode_network(&switch_side.cfg, TXN_NET_SIGN_ON,
					     1, "1125000000", "SW01", out,
					     sizeof(out), &len),
			 0);
	deliver(&bank_side, out, len);
	txn_t req;
	txn_response_t resp;
	txn_error_t err;
	int what = 0;
	assert_int_equal(decode(&bank_side, 0, &req, &resp, &what, &err), 0);
	assert_string_equal(req.participant, "SW01");
}

/* What a channel cannot say is refused, not sent garbled. */
static void test_network_op_not_carried(void **state)
{
	(void)state;
	static uint8_t out[OUT_BYTES];
	size_t len = 0;
	link_json();
	assert_int_equal(chan_encode_network(&switch_side.cfg, TXN_NET_CUTOVER,
					     1, "1125000000", "", out,
					     sizeof(out), &len),
			 TXN_EINVALID);
	link_iso("ascii");
	assert_int_equal(chan_encode_network(&switch_side.cfg, TXN_NET_OTHER,
					     1, "1125000000", "", out,
					     sizeof(out), &len),
			 TXN_EINVALID);
}

/* ---- framing ------------------------------------------------------------------ */

/* Three ISO frames in one stream come out whole whatever the chunking:
 * one byte at a time, and in seeded random chunks. */
static void test_iso_any_chunking(void **state)
{
	(void)state;
	link_iso("ascii");
	static uint8_t stream[3 * FRAME_MAX];
	size_t stream_len = 0, body_off[3], body_len[3];
	txn_t t;
	debit(&t);
	for (unsigned i = 0; i < 3; i++) {
		t.leg[0].stan = 200 + i;
		size_t len = 0;
		assert_int_equal(chan_encode_leg(&switch_side.cfg, &t, 0,
						 stream + stream_len,
						 sizeof(stream) - stream_len,
						 &len),
				 0);
		body_off[i] = stream_len + 7; /* after length and TPDU */
		body_len[i] = len - 7;
		stream_len += len;
	}
	const size_t chunks[] = {1, 0, 0, 0, 3, 4096};
	rng_state = 0x5eed;
	for (size_t c = 0; c < PS_ARRAY_LEN(chunks); c++) {
		side_open(&bank_side);
		char why[160] = "";
		assert_int_equal(feed(&bank_side, stream, stream_len, chunks[c],
				      why, sizeof(why)),
				 3);
		for (unsigned i = 0; i < 3; i++) {
			assert_int_equal(got[i].len, body_len[i]);
			assert_memory_equal(got[i].data, stream + body_off[i],
					    body_len[i]);
			assert_memory_equal(got[i].header, switch_tpdu, 5);
		}
		assert_false(chan_partial(&bank_side.ch));
	}
	/* Half a frame is held, not yielded. */
	side_open(&bank_side);
	char why[160] = "";
	assert_int_equal(feed(&bank_side, stream, body_off[0] + 3, 1, why,
			      sizeof(why)),
			 0);
	assert_true(chan_partial(&bank_side.ch));
}

/* JSON lines with CRLF and blank keep-alive lines, in any chunking. */
static void test_json_any_chunking(void **state)
{
	(void)state;
	link_json();
	const char stream[] = "{\"op\":\"echo\",\"id\":\"1125000000000001\"}\r\n"
			      "\n"
			      "{\"op\":\"echo\",\"id\":\"1125000000000002\"}\n"
			      "\r\n"
			      "{\"id\":\"1125000000000003\",\"status\":\"ok\",\"code\":\"00\"}\n";
	const char *const lines[] = {
		"{\"op\":\"echo\",\"id\":\"1125000000000001\"}",
		"{\"op\":\"echo\",\"id\":\"1125000000000002\"}",
		"{\"id\":\"1125000000000003\",\"status\":\"ok\",\"code\":\"00\"}",
	};
	const size_t chunks[] = {1, 0, 0, 0, 2, 4096};
	rng_state = 0x5eed;
	for (size_t c = 0; c < PS_ARRAY_LEN(chunks); c++) {
		side_open(&switch_side);
		char why[160] = "";
		assert_int_equal(feed(&switch_side, (const uint8_t *)stream,
				      strlen(stream), chunks[c], why,
				      sizeof(why)),
				 3);
		for (unsigned i = 0; i < 3; i++) {
			assert_int_equal(got[i].len, strlen(lines[i]));
			assert_memory_equal(got[i].data, lines[i], got[i].len);
			assert_int_equal(got[i].header_len, 0);
		}
		assert_false(chan_partial(&switch_side.ch));
	}
	/* The third decodes as the answer it is. */
	txn_t req;
	txn_response_t r;
	txn_error_t err;
	int what = 0;
	assert_int_equal(decode(&switch_side, 2, &req, &r, &what, &err), 0);
	assert_int_equal(what, CHAN_MSG_RESPONSE);
	assert_int_equal(r.stan, 3);
}

/* A length header announcing more than frame_bytes_max breaks the
 * stream: a negative code and a reason, before the body is awaited. */
static void test_iso_over_long_frame_rejected(void **state)
{
	(void)state;
	link_iso("ascii");
	uint8_t head[2];
	ps_be16_put(head, FRAME_MAX + 1);
	char why[160] = "";
	int rc = feed(&bank_side, head, sizeof(head), 1, why, sizeof(why));
	assert_true(rc < 0);
	assert_true(strlen(why) > 0);
}

/* A JSON line longer than the channel's storage can never complete: a
 * negative code and a reason, found feeding one byte at a time. */
static void test_json_over_long_line_rejected(void **state)
{
	(void)state;
	link_json();
	static uint8_t line[TXN_JSON_LINE_MAX + 1];
	memset(line, 'x', sizeof(line));
	char why[160] = "";
	int rc = feed(&bank_side, line, sizeof(line), 1, why, sizeof(why));
	assert_true(rc < 0);
	assert_non_null(strstr(why, "longer than"));
}

/* The longest line that fits still comes through. */
static void test_json_longest_line_fits(void **state)
{
	(void)state;
	link_json();
	static uint8_t line[TXN_JSON_LINE_MAX];
	memset(line, 'x', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\n';
	char why[160] = "";
	assert_int_equal(feed(&bank_side, line, sizeof(line), 0, why,
			      sizeof(why)),
			 1);
	assert_int_equal(got[0].len, TXN_JSON_LINE_MAX - 1);
}

/* ---- encoding bounds and configuration ----------------------------------------- */

/* Too small an output is reported, for both kinds and every encoder. */
static void test_encode_no_space(void **state)
{
	(void)state;
	uint8_t out[16];
	size_t len = 0;
	txn_t t;
	debit(&t);
	t.rc = TXN_RC_APPROVED;
	link_iso("ascii");
	assert_int_equal(chan_encode_leg(&switch_side.cfg, &t, 0, out,
					 sizeof(out), &len),
			 TXN_ENOSPC);
	assert_int_equal(chan_encode_answer(&bank_side.cfg, &t, NULL, out, 4,
					    &len),
			 TXN_ENOSPC);
	link_json();
	assert_int_equal(chan_encode_leg(&switch_side.cfg, &t, 0, out,
					 sizeof(out), &len),
			 TXN_ENOSPC);
	assert_int_equal(chan_encode_network(&switch_side.cfg, TXN_NET_ECHO, 1,
					     "1125000000", "", out,
					     sizeof(out), &len),
			 TXN_ENOSPC);
}

/* A reload that changes how a link speaks is told apart from one that
 * does not. */
static void test_cfg_same(void **state)
{
	(void)state;
	chan_cfg_t a, b;
	iso_cfg(&a, "ascii", switch_tpdu);
	iso_cfg(&b, "ascii", switch_tpdu);
	assert_true(chan_cfg_same(&a, &b));
	b.header[4] = 0x09;
	assert_false(chan_cfg_same(&a, &b));
	iso_cfg(&b, "binary", switch_tpdu);
	assert_false(chan_cfg_same(&a, &b));
	iso_cfg(&b, "ascii", switch_tpdu);
	b.framing.length_header = ISO8583_LENGTH_ASCII4;
	assert_false(chan_cfg_same(&a, &b));
	json_cfg(&b);
	assert_false(chan_cfg_same(&a, &b));
	json_cfg(&a);
	assert_true(chan_cfg_same(&a, &b));
	assert_string_equal(chan_kind_name(CHAN_ISO8583), "iso8583");
	assert_string_equal(chan_kind_name(CHAN_JSON), "json");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_iso_leg_reaches_the_bank),
		cmocka_unit_test(test_iso_answer_matches_the_leg),
		cmocka_unit_test(test_iso_answer_tpdu_swapped),
		cmocka_unit_test(test_iso_answer_without_request_header),
		cmocka_unit_test(test_iso_balance_answer),
		cmocka_unit_test(test_iso_undecodable_keeps_keys),
		cmocka_unit_test(test_iso_undecodable_without_stan),
		cmocka_unit_test(test_iso_request_without_stan),
		cmocka_unit_test(test_iso_undecodable_response),
		cmocka_unit_test(test_json_leg_reaches_the_bank),
		cmocka_unit_test(test_json_answer_matches_the_leg),
		cmocka_unit_test(test_json_reversal_leg),
		cmocka_unit_test(test_json_refused_leg_answered_with_key),
		cmocka_unit_test(test_iso_settlement_date),
		cmocka_unit_test(test_iso_recon_totals),
		cmocka_unit_test(test_cups_header),
		cmocka_unit_test(test_netclear_leg_and_answer),
		cmocka_unit_test(test_iso_network_management),
		cmocka_unit_test(test_json_network_management),
		cmocka_unit_test(test_json_sign_on_names_us),
		cmocka_unit_test(test_network_op_not_carried),
		cmocka_unit_test(test_iso_any_chunking),
		cmocka_unit_test(test_json_any_chunking),
		cmocka_unit_test(test_iso_over_long_frame_rejected),
		cmocka_unit_test(test_json_over_long_line_rejected),
		cmocka_unit_test(test_json_longest_line_fits),
		cmocka_unit_test(test_encode_no_space),
		cmocka_unit_test(test_cfg_same),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
