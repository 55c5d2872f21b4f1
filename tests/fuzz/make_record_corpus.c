/*
 * make_record_corpus.c: writes the seed corpus of fuzz_record: stored
 * records as the switch writes them (a PSP pay, an acquirer's purchase, a
 * reversal advice, an empty one, the largest there can be), one with tags
 * a later build might add, and version 1 records (the old raw struct).
 * Seeds are made with the encoder itself, so they follow the format as it
 * is.
 *
 *   build/test/tests/make-record-corpus tests/fuzz/corpus
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "record.h"

static const char *top;

static void write_seed(const char *name, const void *data, size_t len)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/fuzz_record", top);
	if (mkdir(path, 0755) != 0 && errno != EEXIST) {
		perror(path);
		exit(1);
	}
	snprintf(path, sizeof(path), "%s/fuzz_record/%s", top, name);
	FILE *f = fopen(path, "wb");
	if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

static void must(int rc, const char *what)
{
	if (rc != 0) {
		fprintf(stderr, "make-record-corpus: %s failed: %d\n", what, rc);
		exit(1);
	}
}

static void seed(const char *name, const txn_t *t, bool v1)
{
	static uint8_t out[4096];
	size_t len = 0;
	if (v1)
		must(txn_record_encode_v1(t, out, sizeof(out), &len), name);
	else
		must(txn_record_encode(t, out, sizeof(out), &len), name);
	write_seed(name, out, len);
}

static void pay(txn_t *t)
{
	txn_init(t, TXN_KIND_PAY);
	t->state = TXN_STATE_DONE;
	t->rc = TXN_RC_APPROVED;
	t->id = 65537;
	t->created_ms = 1764066600000ull;
	t->answered_ms = 1764066600412ull;
	strcpy(t->listener, "psp");
	strcpy(t->participant, "PSP01");
	strcpy(t->request_id, "PSP01-000001");
	strcpy(t->payer, "6222020000000001");
	strcpy(t->payee, "6217000000000009");
	strcpy(t->payee_name, "Three Squirrels");
	t->amount = 12850;
	t->currency = TXN_CURRENCY_CNY;
	strcpy(t->memo, "order 88123");
	const int kinds[] = {TXN_KIND_PURCHASE, TXN_KIND_CREDIT};
	for (unsigned i = 0; i < 2; i++) {
		txn_set_leg(t, i, kinds[i], i == 0 ? t->payer : t->payee);
		txn_leg_t *l = &t->leg[i];
		l->state = TXN_LEG_APPROVED;
		l->rc = TXN_RC_APPROVED;
		snprintf(l->endpoint, sizeof(l->endpoint), "bank%u", i + 1);
		l->stan = 17 + i;
		strcpy(l->transmit, "1125103000");
		snprintf(l->rrn, sizeof(l->rrn), "53300000001%u", i);
		strcpy(l->auth_code, "004711");
		l->sent_ms = t->created_ms + 1;
		l->deadline_ms = t->created_ms + 30000;
		l->answered_ms = t->created_ms + 200;
	}
}

static void purchase(txn_t *t)
{
	txn_init(t, TXN_KIND_PURCHASE);
	t->state = TXN_STATE_ACTIVE;
	t->id = 65538;
	strcpy(t->listener, "acquirers");
	strcpy(t->participant, "99990000");
	strcpy(t->request_id, "99990000:000123:1125103000");
	strcpy(t->acquirer, "99990000");
	strcpy(t->terminal, "T0000001");
	strcpy(t->merchant, "M00000000000001");
	strcpy(t->merchant_name, "Three Squirrels, Wuhu");
	strcpy(t->local_time, "183000");
	strcpy(t->local_date, "1125");
	strcpy(t->account_types, "1020");
	strcpy(t->payer, "6222020000000001");
	t->amount = 12850;
	t->currency = TXN_CURRENCY_CNY;
	t->window = 20251125;
	txn_set_leg(t, 0, TXN_KIND_PURCHASE, t->payer);
	t->leg[0].state = TXN_LEG_SENT;
	strcpy(t->leg[0].endpoint, "issuer");
	t->leg[0].stan = 900;
	strcpy(t->leg[0].transmit, "1125103001");
}

static void reversal_advice(txn_t *t)
{
	purchase(t);
	t->kind = TXN_KIND_REVERSAL;
	t->flags = TXN_F_ADVICE | TXN_F_REPEAT;
	t->rc = TXN_RC_TOO_LATE;
	t->original_kind = TXN_KIND_PURCHASE;
	t->original_stan = 123;
	strcpy(t->original_transmit, "1125103000");
	strcpy(t->original_acquirer, "99990000");
	strcpy(t->original_id, "99990000:000123:1125103000");
	t->parent_id = 65538;
	t->leg[0].kind = TXN_KIND_REVERSAL;
	t->leg[0].attempts = 3;
	t->leg[0].rc = TXN_RC_NONE;
}

static void fill(char *out, size_t cap, unsigned seed)
{
	for (size_t i = 0; i + 1 < cap; i++)
		out[i] = (char)('!' + (seed * 7 + i) % 94);
	out[cap - 1] = '\0';
}

#define FILL(field, seed) fill(field, sizeof(field), seed)

static void maximal(txn_t *t)
{
	txn_init(t, TXN_KIND_COUNT - 1);
	t->state = t->net_op = t->original_kind = UINT8_MAX;
	t->flags = t->currency = UINT16_MAX;
	t->id = t->created_ms = t->answered_ms = t->window = UINT64_MAX;
	t->parent_id = UINT64_MAX;
	t->amount = t->refund_pending = INT64_MAX;
	t->balance = t->refunded = INT64_MIN;
	t->original_stan = UINT32_MAX;
	t->parent_leg = TXN_LEGS_MAX - 1;
	FILL(t->listener, 1);
	FILL(t->participant, 2);
	FILL(t->request_id, 3);
	FILL(t->acquirer, 4);
	FILL(t->forwarder, 5);
	FILL(t->terminal, 6);
	FILL(t->merchant, 7);
	FILL(t->merchant_name, 8);
	FILL(t->local_time, 9);
	FILL(t->local_date, 10);
	FILL(t->rrn, 11);
	FILL(t->account_types, 12);
	FILL(t->payer, 13);
	FILL(t->payee, 14);
	FILL(t->payee_name, 15);
	FILL(t->memo, 16);
	FILL(t->original_id, 17);
	FILL(t->original_transmit, 18);
	FILL(t->original_acquirer, 19);
	FILL(t->auth_code, 20);
	FILL(t->reason, 21);
	for (unsigned i = 0; i < TXN_LEGS_MAX; i++) {
		txn_set_leg(t, i, UINT8_MAX, "");
		txn_leg_t *l = &t->leg[i];
		l->state = l->network = l->attempts = UINT8_MAX;
		l->rc = 99;
		l->stan = UINT32_MAX;
		l->sent_ms = l->deadline_ms = l->answered_ms = UINT64_MAX;
		FILL(l->endpoint, 30 + i);
		FILL(l->institution, 40 + i);
		FILL(l->account, 50 + i);
		FILL(l->transmit, 60 + i);
		FILL(l->rrn, 70 + i);
		FILL(l->auth_code, 80 + i);
	}
}

/* The pay record with a field of an unknown tag at the end, as a later
 * build might write. */
static void with_unknown_tag(void)
{
	static uint8_t out[TXN_RECORD_BYTES_MAX + 16];
	txn_t t;
	pay(&t);
	size_t len = 0;
	must(txn_record_encode(&t, out, TXN_RECORD_BYTES_MAX, &len), "unknown");
	const uint8_t later[] = {63, 4, 0x00, 0x00, 0x01, 0x2c};
	memcpy(out + len, later, sizeof(later));
	write_seed("v2-unknown-tag", out, len + sizeof(later));
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: make-record-corpus DIR\n");
		return 2;
	}
	top = argv[1];
	if (mkdir(top, 0755) != 0 && errno != EEXIST) {
		perror(top);
		return 1;
	}
	static txn_t t;
	pay(&t);
	seed("v2-pay", &t, false);
	seed("v1-pay", &t, true);
	purchase(&t);
	seed("v2-purchase", &t, false);
	reversal_advice(&t);
	seed("v2-reversal-advice", &t, false);
	seed("v1-reversal-advice", &t, true);
	txn_init(&t, TXN_KIND_NONE);
	seed("v2-empty", &t, false);
	maximal(&t);
	seed("v2-maximal", &t, false);
	with_unknown_tag();
	return 0;
}
