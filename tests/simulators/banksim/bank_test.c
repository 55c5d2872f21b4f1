/* bank_test.c: the banksim process fixture, its ISO 8583 client, book reads. */
#include "bank_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "book.h"
#include "channel.h"
#include "core.h"
#include "ledger.h"

#define ARGS_MAX 64

void bt_setup(bt_bank_t *b, const char *tag, const char *accounts_json)
{
	memset(b, 0, sizeof(*b));
	ts_tmpdir(tag, b->dir, sizeof(b->dir));
	snprintf(b->ledger, sizeof(b->ledger), "%s/ledger", b->dir);
	snprintf(b->accounts, sizeof(b->accounts), "%s/accounts.json", b->dir);
	snprintf(b->ready, sizeof(b->ready), "%s/ready.json", b->dir);
	snprintf(b->log, sizeof(b->log), "%s/banksim.log", b->dir);
	ts_write_file(b->accounts, accounts_json);
}

void bt_start(bt_bank_t *b, const char *const *extra)
{
	const char *argv[ARGS_MAX] = {
		ts_bin("banksim"), "--ledger", b->ledger, "--accounts",
		b->accounts, "--ready-file", b->ready, "--log-level", "debug",
	};
	size_t n = 9;
	for (size_t i = 0; extra != NULL && extra[i] != NULL; i++) {
		assert_true(n + 1 < ARGS_MAX);
		argv[n++] = extra[i];
	}
	argv[n] = NULL;
	unlink(b->ready);
	ts_proc_start(&b->proc, b->log, (char *const *)argv);
	json_t *ready = ts_wait_ready(b->ready, &b->proc, BT_WAIT_MS);
	b->port = (uint16_t)json_integer_value(json_object_get(ready, "port"));
	assert_true(b->port > 0);
	assert_int_equal(json_integer_value(json_object_get(ready, "pid")),
			 b->proc.pid);
	json_decref(ready);
	b->running = true;
}

void bt_stop(bt_bank_t *b)
{
	assert_true(b->running);
	ts_proc_signal(&b->proc, SIGTERM);
	if (!ts_proc_wait(&b->proc, BT_WAIT_MS)) {
		ts_proc_dump(&b->proc);
		fail_msg("banksim did not exit after SIGTERM");
	}
	if (ts_proc_exit_code(&b->proc) != 0) {
		ts_proc_dump(&b->proc);
		fail_msg("banksim exited %d", ts_proc_exit_code(&b->proc));
	}
	b->running = false;
}

void bt_kill(bt_bank_t *b)
{
	ts_proc_kill(&b->proc);
	b->running = false;
}

void bt_teardown(bt_bank_t *b)
{
	if (b->running)
		bt_stop(b);
	bt_check(b);
	ts_rmrf(b->dir);
}

int bt_connect(const bt_bank_t *b)
{
	return ts_connect(b->port, BT_WAIT_MS);
}

/* ---- messages ---------------------------------------------------------------- */

static int kind_of(const char *proc)
{
	if (strncmp(proc, "26", 2) == 0)
		return TXN_KIND_CREDIT;
	if (strncmp(proc, "20", 2) == 0)
		return TXN_KIND_REFUND_CREDIT;
	if (strncmp(proc, "31", 2) == 0)
		return TXN_KIND_BALANCE;
	return TXN_KIND_PURCHASE;
}

static void origin(txn_t *t)
{
	t->currency = TXN_CURRENCY_CNY;
	ps_strlcpy(t->acquirer, BT_ACQUIRER, sizeof(t->acquirer));
	ps_strlcpy(t->forwarder, BT_FORWARDER, sizeof(t->forwarder));
	ps_strlcpy(t->local_time, "183000", sizeof(t->local_time));
	ps_strlcpy(t->local_date, "1125", sizeof(t->local_date));
	t->leg_count = 1;
}

void bt_financial(txn_t *t, const char *proc, const char *account,
		  int64_t amount, uint32_t stan)
{
	txn_init(t, kind_of(proc));
	origin(t);
	t->amount = amount;
	ps_strlcpy(t->payer, account, sizeof(t->payer));
	ps_strlcpy(t->account_types, proc + 2, sizeof(t->account_types));
	/* Kept as given, so a test can send a code the switch never does. */
	ps_strlcpy(t->wire.proc, proc, sizeof(t->wire.proc));
	txn_set_leg(t, 0, t->kind, account);
	txn_leg_t *l = &t->leg[0];
	l->stan = stan;
	ps_strlcpy(l->transmit, BT_TRANSMIT, sizeof(l->transmit));
	snprintf(l->rrn, sizeof(l->rrn), "5329%08u", stan);
}

static void advice(txn_t *a, int kind, const txn_t *orig, uint32_t stan,
		   bool repeat)
{
	txn_init(a, kind);
	origin(a);
	a->amount = orig->amount;
	ps_strlcpy(a->payer, orig->payer, sizeof(a->payer));
	if (repeat)
		a->flags |= TXN_F_REPEAT;
	ps_strlcpy(a->account_types, orig->account_types,
		   sizeof(a->account_types));
	a->original_kind = orig->leg[0].kind;
	a->original_stan = orig->leg[0].stan;
	ps_strlcpy(a->original_transmit, orig->leg[0].transmit,
		   sizeof(a->original_transmit));
	ps_strlcpy(a->original_acquirer, orig->acquirer,
		   sizeof(a->original_acquirer));
	a->leg[0] = orig->leg[0];
	a->leg[0].kind = (uint8_t)kind;
	a->leg[0].stan = stan;
}

void bt_reversal(txn_t *rev, const txn_t *orig, uint32_t stan, bool repeat)
{
	advice(rev, TXN_KIND_REVERSAL, orig, stan, repeat);
}

void bt_completion(txn_t *adv, const txn_t *orig, uint32_t stan, bool repeat)
{
	advice(adv, TXN_KIND_COMPLETION, orig, stan, repeat);
}

void bt_network(txn_t *t, const char *code, uint32_t stan)
{
	txn_init(t, TXN_KIND_NETWORK);
	origin(t);
	ps_strlcpy(t->wire.network_code, code, sizeof(t->wire.network_code));
	t->leg[0].stan = stan;
	ps_strlcpy(t->leg[0].transmit, BT_TRANSMIT, sizeof(t->leg[0].transmit));
}

void bt_dated(txn_t *t, const char *yyyymmdd)
{
	ps_strlcpy(t->leg[0].period, yyyymmdd, sizeof(t->leg[0].period));
}

static const iso8583_dialect_t *dialect(void)
{
	const iso8583_dialect_t *d = iso8583_dialect_builtin("ascii");
	assert_non_null(d);
	return d;
}

/* An 0800 with any field 70, as a peer may send one. The message
 * borrows stan (7 bytes) and t. */
static void network_message(const txn_t *t, char stan[7], iso8583_msg_t *msg)
{
	iso8583_msg_init(msg, dialect());
	snprintf(stan, 7, "%06u", (unsigned)t->leg[0].stan);
	assert_int_equal(iso8583_set_mti(msg, "0800"), 0);
	assert_int_equal(iso8583_set(msg, 7, t->leg[0].transmit, 10), 0);
	assert_int_equal(iso8583_set(msg, 11, stan, 6), 0);
	assert_int_equal(iso8583_set(msg, 33, t->forwarder, strlen(t->forwarder)), 0);
	assert_int_equal(iso8583_set(msg, 70, t->wire.network_code, 3), 0);
}

void bt_send(int fd, const txn_t *t)
{
	iso8583_msg_t msg;
	if (t->kind == TXN_KIND_NETWORK) {
		char stan[7];
		network_message(t, stan, &msg);
		ts_iso_send(fd, &msg);
		return;
	}
	assert_int_equal(txn_leg_to_iso(t, 0, dialect(), &msg), 0);
	if (t->kind != TXN_KIND_REVERSAL && t->kind != TXN_KIND_COMPLETION &&
	    t->wire.proc[0] != '\0')
		assert_int_equal(iso8583_set(&msg, 3, t->wire.proc, 6), 0);
	ts_iso_send(fd, &msg);
}

static void text_of(const iso8583_msg_t *msg, int n, char *out, size_t cap)
{
	out[0] = '\0';
	if (iso8583_has(msg, n))
		assert_int_equal(iso8583_get_text(msg, n, out, cap, NULL), 0);
}

bool bt_recv(int fd, bt_answer_t *a, int timeout_ms)
{
	uint8_t buf[4096];
	iso8583_msg_t msg;
	if (!ts_iso_recv(fd, dialect(), &msg, buf, sizeof(buf), timeout_ms))
		return false;
	memset(a, 0, sizeof(*a));
	memcpy(a->mti, msg.mti, 4);
	uint64_t stan = 0;
	assert_int_equal(iso8583_get_u64(&msg, 11, &stan), 0);
	a->stan = (uint32_t)stan;
	text_of(&msg, 7, a->transmit, sizeof(a->transmit));
	text_of(&msg, 39, a->response, sizeof(a->response));
	text_of(&msg, 38, a->auth_code, sizeof(a->auth_code));
	text_of(&msg, 37, a->rrn, sizeof(a->rrn));
	text_of(&msg, 70, a->network_code, sizeof(a->network_code));
	text_of(&msg, 33, a->forwarder, sizeof(a->forwarder));
	txn_response_t r;
	txn_error_t err;
	assert_int_equal(txn_response_from_iso(&msg, &r, &err), 0);
	a->has_balance = r.has_balance;
	a->balance = r.balance;
	ps_strlcpy(a->settle_date, r.period, sizeof(a->settle_date));
	a->has_totals = r.has_totals;
	a->totals = r.totals;
	return true;
}

bt_answer_t bt_call(int fd, const txn_t *t)
{
	bt_answer_t resp;
	bt_send(fd, t);
	if (!bt_recv(fd, &resp, BT_WAIT_MS))
		fail_msg("no answer to STAN %u", t->leg[0].stan);
	assert_int_equal(resp.stan, t->leg[0].stan);
	assert_string_equal(resp.transmit, t->leg[0].transmit);
	return resp;
}

int bt_code(int fd, const txn_t *t)
{
	bt_answer_t r = bt_call(fd, t);
	return (r.response[0] - '0') * 10 + (r.response[1] - '0');
}

txn_totals_t bt_totals(int fd, uint32_t stan, const char *mmdd)
{
	return bt_totals_via(fd, stan, mmdd, BT_FORWARDER);
}

txn_totals_t bt_totals_via(int fd, uint32_t stan, const char *mmdd,
			   const char *forwarder)
{
	/* The way banksim's default listener speaks: ASCII, binary2. */
	chan_cfg_t cfg;
	memset(&cfg, 0, sizeof(cfg));
	cfg.kind = CHAN_ISO8583;
	cfg.dialect = dialect();
	cfg.framing.length_header = ISO8583_LENGTH_BINARY2;
	cfg.framing.dialect = cfg.dialect;
	cfg.frame_bytes_max = 8192;
	uint8_t frame[1024];
	size_t len = 0;
	assert_int_equal(chan_encode_recon(&cfg, stan, BT_TRANSMIT, forwarder,
					   mmdd, frame, sizeof(frame), &len),
			 0);
	ts_send_all(fd, frame, len);
	bt_answer_t r;
	if (!bt_recv(fd, &r, BT_WAIT_MS))
		fail_msg("no answer to the 0500 for %s", mmdd);
	assert_string_equal(r.mti, "0510");
	assert_int_equal(r.stan, stan);
	assert_string_equal(r.transmit, BT_TRANSMIT);
	assert_string_equal(r.response, "00");
	assert_string_equal(r.settle_date, mmdd);
	assert_string_equal(r.forwarder, forwarder);
	assert_true(r.has_totals);
	return r.totals;
}

/* ---- the book ---------------------------------------------------------------- */

static ledger_t *open_book(const bt_bank_t *b)
{
	ledger_options_t o;
	ledger_options_init(&o);
	o.durability = LEDGER_DURABILITY_NOSYNC;
	o.batch_max = 64; /* reads only: keep the scratch small */
	ledger_t *l = NULL;
	assert_int_equal(ledger_open(&l, b->ledger, &o), 0);
	return l;
}

static ledger_account_t account_of(const bt_bank_t *b, const char *account)
{
	ledger_t *l = open_book(b);
	ledger_account_t a;
	assert_int_equal(ledger_account_get(l, bank_account_id(account, strlen(account)), &a), 0);
	ledger_close(l);
	return a;
}

int64_t bt_available(const bt_bank_t *b, const char *account)
{
	ledger_account_t a = account_of(b, account);
	return (int64_t)a.credits_posted - (int64_t)a.debits_posted -
	       (int64_t)a.debits_pending;
}

int64_t bt_posted(const bt_bank_t *b, const char *account)
{
	ledger_account_t a = account_of(b, account);
	return (int64_t)a.credits_posted - (int64_t)a.debits_posted;
}

void bt_check(const bt_bank_t *b)
{
	ledger_t *l = open_book(b);
	ledger_check_report_t r;
	assert_int_equal(ledger_check(l, &r), 0);
	ledger_close(l);
	if (!r.ok)
		fail_msg("ledger_check: %u problems, first: %s", r.problems,
			 r.first_problem);
}

bool bt_wait_available(const bt_bank_t *b, const char *account, int64_t want)
{
	uint64_t end = ts_now_ms() + BT_WAIT_MS;
	while (ts_now_ms() < end) {
		if (bt_available(b, account) == want)
			return true;
		ts_sleep_ms(50);
	}
	return false;
}

bool bt_wait_posted(const bt_bank_t *b, const char *account, int64_t want)
{
	uint64_t end = ts_now_ms() + BT_WAIT_MS;
	while (ts_now_ms() < end) {
		if (bt_posted(b, account) == want)
			return true;
		ts_sleep_ms(50);
	}
	return false;
}

int bt_log_count(const bt_bank_t *b, const char *text)
{
	FILE *f = fopen(b->log, "r");
	if (f == NULL)
		return 0;
	char line[8192];
	int n = 0;
	while (fgets(line, sizeof(line), f) != NULL)
		n += strstr(line, text) != NULL;
	fclose(f);
	return n;
}
