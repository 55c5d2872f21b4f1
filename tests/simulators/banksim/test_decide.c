/*
 * test_decide.c: the bank's decisions without a network: bank_plan,
 * bank_batch_commit and bank_settle over a ledger in a temporary
 * directory. Every response code and its cause, what a batch does with two
 * requests on one key (the second waits for the next batch), a full batch,
 * a failed commit (96, and nothing remembered), a reversal that cannot
 * take back a spent credit (51), the set-up run twice over one book, and
 * the totals per settlement date and forwarder: what counts, under which
 * date and forwarder (field 33), never twice, the 0500 that reads them
 * (its own forwarder's, or the sum without field 33), the bound on
 * forwarders and its shared bucket, and a book written before totals
 * were kept per forwarder.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "book.h"
#include "core.h"
#include "decide.h"
#include "support.h"
#include "totals.h"

#define ALICE "6222020000000001"
#define POOR "6222020000000002"
#define SHOP "6222020000000003"

static const char accounts[] =
	"[{\"account\": \"" ALICE "\", \"balance\": 100000, \"limit\": 60000},"
	" {\"account\": \"" POOR "\", \"balance\": 1000},"
	" {\"account\": \"" SHOP "\"},"
	" {\"account\": \"6222020000000004\", \"status\": \"blocked\"},"
	" {\"account\": \"6222020000000005\", \"status\": \"closed\"},"
	" {\"account\": \"6222020000000006\", \"status\": \"expired\"}]";

typedef struct fixture {
	char dir[256];
	bank_t bank;
	bank_batch_t batch;
} fixture_t;

/* 2025-11-25 10:30:00 UTC: requests without field 15 count under 1125. */
static uint64_t fixed_wall_ms(void)
{
	return UINT64_C(1764066600000);
}

static void open_bank(fixture_t *f, const char *accounts_json)
{
	char err[512];
	memset(&f->bank, 0, sizeof(f->bank));
	f->bank.wall_ms = fixed_wall_ms;
	f->bank.currency = 156;
	f->bank.pending_timeout_s = 600;
	f->bank.seed = 1;
	assert_int_equal(bank_accounts_parse(accounts_json, strlen(accounts_json),
					     &f->bank.accounts, err, sizeof(err)), 0);
	if (bank_book_open(&f->bank, f->dir, LEDGER_DURABILITY_NOSYNC, 64, err,
			   sizeof(err)) != 0 ||
	    bank_book_setup(&f->bank, err, sizeof(err)) != 0)
		fail_msg("%s", err);
}

static int setup(void **state)
{
	fixture_t *f = calloc(1, sizeof(*f));
	ts_tmpdir("decide", f->dir, sizeof(f->dir));
	open_bank(f, accounts);
	assert_int_equal(bank_batch_init(&f->batch, 64), 0);
	*state = f;
	return 0;
}

static void check_book(fixture_t *f)
{
	ledger_check_report_t r;
	assert_int_equal(ledger_check(f->bank.ledger, &r), 0);
	if (!r.ok)
		fail_msg("ledger_check: %s", r.first_problem);
}

static int teardown(void **state)
{
	fixture_t *f = *state;
	check_book(f);
	bank_batch_free(&f->batch);
	bank_book_close(&f->bank);
	ts_rmrf(f->dir);
	free(f);
	return 0;
}

/* A request as txn_from_iso gives it. */
static txn_t request(int kind, const char *account, int64_t amount, uint32_t stan)
{
	txn_t t;
	txn_init(&t, kind);
	memcpy(t.wire.mti, kind == TXN_KIND_NETWORK ? "0800" : "0200", 5);
	t.amount = amount;
	t.currency = 156;
	t.wire.stan = stan;
	ps_strlcpy(t.wire.transmit, "1125103000", sizeof(t.wire.transmit));
	ps_strlcpy(t.acquirer, "12345678", sizeof(t.acquirer));
	ps_strlcpy(t.payer, account, sizeof(t.payer));
	return t;
}

/* A reversal or completion of orig, as txn_from_iso gives it from field
 * 90. */
static txn_t advice(int kind, const txn_t *orig, uint32_t stan)
{
	txn_t t = request(kind, orig->payer, orig->amount, stan);
	memcpy(t.wire.mti, kind == TXN_KIND_COMPLETION ? "0220" : "0400", 5);
	t.original_kind = orig->kind;
	t.original_stan = orig->wire.stan;
	ps_strlcpy(t.original_transmit, orig->wire.transmit,
		   sizeof(t.original_transmit));
	ps_strlcpy(t.original_acquirer, "12345678", sizeof(t.original_acquirer));
	return t;
}

static int code_of(const txn_t *t)
{
	return t->rc;
}

/* One request, one batch. */
static int run(fixture_t *f, txn_t *t)
{
	bank_work_t w;
	bank_batch_reset(&f->batch);
	assert_int_equal(bank_plan(&f->bank, &f->batch, t, &w), 0);
	assert_int_equal(bank_batch_commit(&f->bank, &f->batch), 0);
	bank_settle(&f->bank, &f->batch, &w, t);
	return code_of(t);
}

static int64_t available(fixture_t *f, const char *account)
{
	int64_t avail, posted;
	assert_int_equal(bank_book_balance(&f->bank, bank_account_id(account, strlen(account)),
					   &avail, &posted), 0);
	return avail;
}

static void test_every_code(void **state)
{
	fixture_t *f = *state;
	uint32_t stan = 1;
	txn_t t = request(TXN_KIND_PURCHASE, ALICE, 100, stan++);
	assert_int_equal(run(f, &t), 0);
	char auth[7];
	bank_auth_code(ledger_id_from_text("12345678:000001:1125103000", 26), auth);
	assert_string_equal(t.auth_code, auth);
	static const struct {
		const char *account;
		int64_t amount;
		int code;
	} cases[] = {
		{"6222020000000004", 100, 5},  {"6222020000000005", 100, 57},
		{"6222020000000006", 100, 54}, {ALICE, 60001, 61},
		{POOR, 1001, 51},		{"6222029999999999", 100, 14},
		{ALICE, 0, 13},		{ALICE, TXN_AMOUNT_MAX + 1, 13},
	};
	for (size_t i = 0; i < PS_ARRAY_LEN(cases); i++) {
		t = request(TXN_KIND_PURCHASE, cases[i].account, cases[i].amount, stan++);
		assert_int_equal(run(f, &t), cases[i].code);
		assert_string_equal(t.auth_code, "");
	}
	t = request(TXN_KIND_PURCHASE, ALICE, 100, stan++);
	t.currency = 840;
	assert_int_equal(run(f, &t), 13);
	ps_strlcpy(f->bank.institution, "1234", sizeof(f->bank.institution));
	t = request(TXN_KIND_PURCHASE, ALICE, 100, stan++);
	ps_strlcpy(t.wire.receiver, "9999", sizeof(t.wire.receiver));
	assert_int_equal(run(f, &t), 15);
	ps_strlcpy(t.wire.receiver, "1234", sizeof(t.wire.receiver));
	t.rc = TXN_RC_NONE;
	t.wire.stan = stan++;
	assert_int_equal(run(f, &t), 0);
	t = request(TXN_KIND_RECON, "", 0, stan++);
	assert_int_equal(run(f, &t), 0);
	assert_true(t.wire.has_totals);
	assert_string_equal(t.wire.settle_date, "1125"); /* today, as asked */
	f->bank.recon_refused = true; /* a JSON bank */
	t = request(TXN_KIND_RECON, "", 0, stan++);
	assert_int_equal(run(f, &t), 12);
	assert_false(t.wire.has_totals);
	f->bank.recon_refused = false;
	t = request(TXN_KIND_PURCHASE, ALICE, 100, stan++);
	ps_strlcpy(t.wire.settle_date, "1332", sizeof(t.wire.settle_date));
	assert_int_equal(run(f, &t), 30); /* field 15 is no date */
	t = request(TXN_KIND_NETWORK, "", 0, stan++);
	assert_int_equal(run(f, &t), 0);
	t = request(TXN_KIND_PURCHASE, ALICE, 100, stan++);
	t.rc = TXN_RC_FORMAT_ERROR; /* refused at intake */
	assert_int_equal(run(f, &t), 30);
	assert_int_equal(available(f, ALICE), 100000 - 200);
	/* Random declines draw from the seed and the request's key. */
	f->bank.decline_rate = 1.0;
	t = request(TXN_KIND_CREDIT, ALICE, 100, stan++);
	assert_int_equal(run(f, &t), 5);
	assert_int_equal(available(f, ALICE), 100000 - 200);
}

/* A request and its reversal in one turn: the reversal waits one batch,
 * then finds the committed debit and undoes it. */
static void test_one_key_per_batch(void **state)
{
	fixture_t *f = *state;
	txn_t debit = request(TXN_KIND_PURCHASE, ALICE, 5000, 1);
	txn_t copy = debit;
	txn_t rev = advice(TXN_KIND_REVERSAL, &debit, 2);
	txn_t other = request(TXN_KIND_PURCHASE, POOR, 10, 3);
	bank_work_t w1, w2, w3, w4;
	bank_batch_reset(&f->batch);
	assert_int_equal(bank_plan(&f->bank, &f->batch, &debit, &w1), 0);
	assert_int_equal(bank_plan(&f->bank, &f->batch, &rev, &w2), BANK_EDEFER);
	assert_int_equal(bank_plan(&f->bank, &f->batch, &copy, &w3), BANK_EDEFER);
	assert_int_equal(bank_plan(&f->bank, &f->batch, &other, &w4), 0);
	assert_int_equal(bank_batch_commit(&f->bank, &f->batch), 0);
	bank_settle(&f->bank, &f->batch, &w1, &debit);
	bank_settle(&f->bank, &f->batch, &w4, &other);
	assert_int_equal(code_of(&debit), 0);
	assert_int_equal(code_of(&other), 0);
	assert_int_equal(available(f, ALICE), 95000);

	bank_batch_reset(&f->batch);
	assert_int_equal(bank_plan(&f->bank, &f->batch, &rev, &w2), 0);
	assert_int_equal(bank_plan(&f->bank, &f->batch, &copy, &w3), BANK_EDEFER);
	assert_int_equal(bank_batch_commit(&f->bank, &f->batch), 0);
	bank_settle(&f->bank, &f->batch, &w2, &rev);
	assert_int_equal(code_of(&rev), 0);
	assert_int_equal(available(f, ALICE), 100000);
	assert_int_equal(run(f, &copy), 94);
}

static void test_full_batch_defers(void **state)
{
	fixture_t *f = *state;
	bank_batch_t small;
	/* Each debit takes four: its seen marker, its money and its count
	 * and amount in the totals. */
	assert_int_equal(bank_batch_init(&small, 8), 0);
	txn_t a = request(TXN_KIND_PURCHASE, ALICE, 1, 1);
	txn_t b = request(TXN_KIND_PURCHASE, ALICE, 1, 2);
	txn_t c = request(TXN_KIND_PURCHASE, ALICE, 1, 3);
	bank_work_t wa, wb, wc;
	assert_int_equal(bank_plan(&f->bank, &small, &a, &wa), 0);
	assert_int_equal(bank_plan(&f->bank, &small, &b, &wb), 0);
	assert_int_equal(small.count, 8);
	assert_int_equal(bank_plan(&f->bank, &small, &c, &wc), BANK_EDEFER);
	assert_int_equal(bank_batch_commit(&f->bank, &small), 0);
	bank_settle(&f->bank, &small, &wa, &a);
	bank_settle(&f->bank, &small, &wb, &b);
	assert_int_equal(code_of(&a) + code_of(&b), 0);
	bank_batch_free(&small);
	assert_int_equal(bank_batch_init(&small, 3), PS_ELIMIT);
}

/* A failed commit answers 96 and remembers nothing: the retry is new. */
static void test_failed_commit_is_96(void **state)
{
	fixture_t *f = *state;
	txn_t t = request(TXN_KIND_PURCHASE, ALICE, 100, 1);
	txn_t echo = request(TXN_KIND_NETWORK, "", 0, 2);
	bank_work_t w, we;
	bank_batch_reset(&f->batch);
	assert_int_equal(bank_plan(&f->bank, &f->batch, &t, &w), 0);
	assert_int_equal(bank_plan(&f->bank, &f->batch, &echo, &we), 0);
	/* As if ledger_create_transfers had failed. */
	f->batch.committed = false;
	bank_settle(&f->bank, &f->batch, &w, &t);
	bank_settle(&f->bank, &f->batch, &we, &echo);
	assert_int_equal(code_of(&t), 96);
	assert_int_equal(code_of(&echo), 0);
	t.rc = TXN_RC_NONE;
	assert_int_equal(run(f, &t), 0);
}

static void test_reversals(void **state)
{
	fixture_t *f = *state;
	/* A credit already spent cannot be taken back: 51, and the switch
	 * keeps repeating until an operator steps in. */
	txn_t credit = request(TXN_KIND_CREDIT, SHOP, 1000, 1);
	assert_int_equal(run(f, &credit), 0);
	txn_t spend = request(TXN_KIND_PURCHASE, SHOP, 600, 2);
	assert_int_equal(run(f, &spend), 0);
	txn_t rev = advice(TXN_KIND_REVERSAL, &credit, 3);
	assert_int_equal(run(f, &rev), 51);
	assert_int_equal(available(f, SHOP), 400);
	/* Once the money is back, the repeat succeeds, once. */
	txn_t back = request(TXN_KIND_REFUND_CREDIT, SHOP, 600, 4);
	assert_int_equal(run(f, &back), 0);
	rev.rc = TXN_RC_NONE;
	assert_int_equal(run(f, &rev), 0);
	assert_int_equal(available(f, SHOP), 0);
	rev.rc = TXN_RC_NONE;
	assert_int_equal(run(f, &rev), 0);
	assert_int_equal(available(f, SHOP), 0);
	/* Reversal advice (0420) works as a reversal. */
	txn_t debit = request(TXN_KIND_PURCHASE, ALICE, 700, 5);
	assert_int_equal(run(f, &debit), 0);
	txn_t adv = advice(TXN_KIND_REVERSAL, &debit, 6);
	adv.flags |= TXN_F_ADVICE;
	assert_int_equal(run(f, &adv), 0);
	assert_int_equal(available(f, ALICE), 100000);
}

static void test_two_phase_in_the_core(void **state)
{
	fixture_t *f = *state;
	f->bank.two_phase = true;
	txn_t debit = request(TXN_KIND_PURCHASE, ALICE, 40000, 1);
	assert_int_equal(run(f, &debit), 0);
	assert_int_equal(available(f, ALICE), 60000);
	txn_t big = request(TXN_KIND_PURCHASE, ALICE, 60000, 2);
	assert_int_equal(run(f, &big), 0); /* reserved funds count */
	txn_t more = request(TXN_KIND_PURCHASE, ALICE, 1, 3);
	assert_int_equal(run(f, &more), 51);
	txn_t post = advice(TXN_KIND_COMPLETION, &debit, 4);
	assert_int_equal(run(f, &post), 0);
	post.rc = TXN_RC_NONE;
	assert_int_equal(run(f, &post), 94);
	/* Voided: released, nothing had been posted: 25, twice. */
	txn_t rev = advice(TXN_KIND_REVERSAL, &big, 5);
	assert_int_equal(run(f, &rev), 25);
	rev.rc = TXN_RC_NONE;
	assert_int_equal(run(f, &rev), 25);
	assert_int_equal(available(f, ALICE), 60000);
	txn_t late = advice(TXN_KIND_COMPLETION, &big, 6);
	assert_int_equal(run(f, &late), 25);
}

/* Set-up twice over one book changes nothing; a changed opening balance
 * is kept as the book has it; a new account is added. */
static void test_setup_is_idempotent(void **state)
{
	fixture_t *f = *state;
	txn_t t = request(TXN_KIND_PURCHASE, ALICE, 100, 1);
	assert_int_equal(run(f, &t), 0);
	bank_book_close(&f->bank);
	open_bank(f, accounts);
	assert_int_equal(available(f, ALICE), 99900);
	bank_book_close(&f->bank);
	open_bank(f, "[{\"account\": \"" ALICE "\", \"balance\": 7},"
		     " {\"account\": \"7\", \"balance\": 7}]");
	assert_int_equal(available(f, ALICE), 99900);
	assert_int_equal(available(f, "7"), 7);
	t.rc = TXN_RC_NONE;
	assert_int_equal(run(f, &t), 94);
}

/* A random decline belongs to the request: the same requests, in another
 * order and other batches, over a fresh book, meet the same fate. */
static void test_draws_follow_the_request(void **state)
{
	fixture_t *f = *state;
	enum { N = 100 };
	int first[N], declined = 0;
	f->bank.decline_rate = 0.5;
	for (uint32_t i = 0; i < N; i++) {
		txn_t t = request(TXN_KIND_CREDIT, SHOP, 1, i + 1);
		first[i] = run(f, &t);
		declined += first[i] == 5;
	}
	assert_true(declined > 20 && declined < 80);
	bank_book_close(&f->bank);
	ts_rmrf(f->dir);
	open_bank(f, accounts);
	f->bank.decline_rate = 0.5;
	bank_batch_reset(&f->batch);
	txn_t t[N];
	bank_work_t w[N];
	for (uint32_t i = 0; i < N; i++) {
		uint32_t j = N - 1 - i;
		t[j] = request(TXN_KIND_CREDIT, SHOP, 1, j + 1);
		if (bank_plan(&f->bank, &f->batch, &t[j], &w[j]) == BANK_EDEFER) {
			assert_int_equal(bank_batch_commit(&f->bank, &f->batch), 0);
			for (uint32_t k = N - i; k < N; k++)
				if (t[k].rc == TXN_RC_NONE)
					bank_settle(&f->bank, &f->batch, &w[k], &t[k]);
			bank_batch_reset(&f->batch);
			assert_int_equal(bank_plan(&f->bank, &f->batch, &t[j], &w[j]), 0);
		}
	}
	assert_int_equal(bank_batch_commit(&f->bank, &f->batch), 0);
	for (uint32_t k = 0; k < N; k++)
		if (t[k].rc == TXN_RC_NONE)
			bank_settle(&f->bank, &f->batch, &w[k], &t[k]);
	for (uint32_t i = 0; i < N; i++)
		assert_int_equal(code_of(&t[i]), first[i]);
}

static txn_totals_t totals_of(fixture_t *f, uint16_t date)
{
	txn_totals_t x;
	assert_int_equal(bank_totals_read(&f->bank, date, 0, &x), 0);
	return x;
}

static txn_t dated(int kind, const char *account, int64_t amount,
		   uint32_t stan, const char *mmdd)
{
	txn_t t = request(kind, account, amount, stan);
	ps_strlcpy(t.wire.settle_date, mmdd, sizeof(t.wire.settle_date));
	return t;
}

/* What counts and under which date; a failed chain (51) counts nothing;
 * a repeat dated otherwise counts nothing again; a request without field
 * 15 counts today (UTC); an advice is acknowledged 00 whatever it finds;
 * the 0500 reads what the same batch committed. */
static void test_totals_in_the_core(void **state)
{
	fixture_t *f = *state;
	txn_t d1 = dated(TXN_KIND_PURCHASE, ALICE, 1000, 1, "1203");
	assert_int_equal(run(f, &d1), 0);
	assert_string_equal(d1.wire.settle_date, "1203"); /* echoed */
	txn_t poor = dated(TXN_KIND_PURCHASE, POOR, 5000, 2, "1203");
	assert_int_equal(run(f, &poor), 51);
	txn_t c1 = dated(TXN_KIND_CREDIT, SHOP, 800, 3, "1203");
	assert_int_equal(run(f, &c1), 0);
	txn_t r1 = dated(TXN_KIND_REFUND_CREDIT, SHOP, 200, 4, "20251203");
	assert_int_equal(run(f, &r1), 0); /* a JSON leg's period */
	txn_t copy = d1;
	copy.rc = TXN_RC_NONE;
	assert_int_equal(run(f, &copy), 94);
	txn_totals_t x = totals_of(f, 1203);
	assert_int_equal(x.debits, 1);
	assert_int_equal(x.debits_amount, 1000);
	assert_int_equal(x.credits, 2);
	assert_int_equal(x.credits_amount, 1000);
	assert_int_equal(x.net, 0);

	/* A credit taken back once it is spent: 51 and nothing counted;
	 * then, the money back, it counts once. */
	txn_t spend = dated(TXN_KIND_PURCHASE, SHOP, 900, 5, "1203");
	assert_int_equal(run(f, &spend), 0);
	txn_t crev = advice(TXN_KIND_REVERSAL, &c1, 6);
	ps_strlcpy(crev.wire.settle_date, "1204", sizeof(crev.wire.settle_date));
	assert_int_equal(run(f, &crev), 51);
	assert_int_equal(totals_of(f, 1204).credit_reversals, 0);
	txn_t back = dated(TXN_KIND_CREDIT, SHOP, 900, 7, "1204");
	assert_int_equal(run(f, &back), 0);
	crev.rc = TXN_RC_NONE;
	assert_int_equal(run(f, &crev), 0);
	/* Its repeat is dated another day: 00, counted nowhere. */
	ps_strlcpy(crev.wire.settle_date, "1205", sizeof(crev.wire.settle_date));
	crev.rc = TXN_RC_NONE;
	assert_int_equal(run(f, &crev), 0);
	x = totals_of(f, 1204);
	assert_int_equal(x.credits, 1);
	assert_int_equal(x.credit_reversals, 1);
	assert_int_equal(x.credit_reversals_amount, 800);
	assert_int_equal(x.net, 900 - 800);
	x = totals_of(f, 1205);
	assert_int_equal(x.credit_reversals, 0);

	/* A debit reversed by an advice: counted, 00. */
	txn_t d2 = dated(TXN_KIND_PURCHASE, ALICE, 300, 8, "1203");
	assert_int_equal(run(f, &d2), 0);
	txn_t drev = advice(TXN_KIND_REVERSAL, &d2, 9);
	drev.flags |= TXN_F_ADVICE;
	ps_strlcpy(drev.wire.settle_date, "1203", sizeof(drev.wire.settle_date));
	assert_int_equal(run(f, &drev), 0);
	x = totals_of(f, 1203);
	assert_int_equal(x.debits, 3); /* d1, spend, d2 */
	assert_int_equal(x.debits_amount, 2200);
	assert_int_equal(x.debit_reversals, 1);
	assert_int_equal(x.debit_reversals_amount, 300);
	/* Advices of nothing, or of a decline: 00, nothing counted. */
	txn_t never = dated(TXN_KIND_PURCHASE, ALICE, 50, 10, "1203");
	txn_t nadv = advice(TXN_KIND_REVERSAL, &never, 11);
	nadv.flags |= TXN_F_ADVICE;
	assert_int_equal(run(f, &nadv), 0);
	txn_t padv = advice(TXN_KIND_REVERSAL, &poor, 12);
	padv.flags |= TXN_F_ADVICE;
	assert_int_equal(run(f, &padv), 0);
	txn_t prev = advice(TXN_KIND_REVERSAL, &poor, 13);
	assert_int_equal(run(f, &prev), 25);
	never.rc = TXN_RC_NONE;
	assert_int_equal(run(f, &never), 5); /* reversed before it came */
	x = totals_of(f, 1203);
	assert_int_equal(x.debits, 3);
	assert_int_equal(x.debit_reversals, 1);

	/* No field 15: today's date (the bank's clock, UTC). */
	txn_t undated = request(TXN_KIND_CREDIT, SHOP, 70, 14);
	assert_int_equal(run(f, &undated), 0);
	assert_string_equal(undated.wire.settle_date, "");
	x = totals_of(f, 1125);
	assert_int_equal(x.credits, 1);
	assert_int_equal(x.credits_amount, 70);

	/* A 0500 planned after a debit of the same batch sees it. */
	txn_t d3 = dated(TXN_KIND_PURCHASE, ALICE, 5, 15, "1203");
	txn_t ask = dated(TXN_KIND_RECON, "", 0, 16, "1203");
	bank_work_t w1, w2;
	bank_batch_reset(&f->batch);
	assert_int_equal(bank_plan(&f->bank, &f->batch, &d3, &w1), 0);
	assert_int_equal(bank_plan(&f->bank, &f->batch, &ask, &w2), 0);
	assert_int_equal(bank_batch_commit(&f->bank, &f->batch), 0);
	bank_settle(&f->bank, &f->batch, &w1, &d3);
	bank_settle(&f->bank, &f->batch, &w2, &ask);
	assert_int_equal(code_of(&ask), 0);
	assert_true(ask.wire.has_totals);
	assert_string_equal(ask.wire.settle_date, "1203");
	assert_int_equal(ask.wire.totals.debits, 4);
	assert_int_equal(ask.wire.totals.debits_amount, 2205);
	assert_int_equal(ask.wire.totals.net,
			 ask.wire.totals.credits_amount -
				 ask.wire.totals.credit_reversals_amount -
				 2205 + 300);
	/* A date never seen: zeros. */
	txn_t empty = dated(TXN_KIND_RECON, "", 0, 17, "0229");
	assert_int_equal(run(f, &empty), 0);
	txn_totals_t zero = {0};
	assert_memory_equal(&empty.wire.totals, &zero, sizeof(zero));
}

/* Two-phase: counted at the post, under the authorisation's date, for
 * the amount posted; never for a refused completion. */
static void test_two_phase_totals_in_the_core(void **state)
{
	fixture_t *f = *state;
	f->bank.two_phase = true;
	txn_t auth = dated(TXN_KIND_PURCHASE, ALICE, 4000, 1, "1203");
	assert_int_equal(run(f, &auth), 0);
	assert_int_equal(totals_of(f, 1203).debits, 0);
	txn_t over = advice(TXN_KIND_COMPLETION, &auth, 2);
	over.amount = 4001;
	ps_strlcpy(over.wire.settle_date, "1204", sizeof(over.wire.settle_date));
	assert_int_equal(run(f, &over), 13);
	assert_int_equal(totals_of(f, 1203).debits, 0);
	txn_t post = advice(TXN_KIND_COMPLETION, &auth, 3);
	post.amount = 2500;
	ps_strlcpy(post.wire.settle_date, "1204", sizeof(post.wire.settle_date));
	assert_int_equal(run(f, &post), 0);
	post.rc = TXN_RC_NONE;
	assert_int_equal(run(f, &post), 94);
	txn_totals_t x = totals_of(f, 1203);
	assert_int_equal(x.debits, 1);
	assert_int_equal(x.debits_amount, 2500);
	assert_int_equal(totals_of(f, 1204).debits, 0);
	txn_t none = dated(TXN_KIND_PURCHASE, ALICE, 10, 4, "1203");
	txn_t orphan = advice(TXN_KIND_COMPLETION, &none, 5);
	assert_int_equal(run(f, &orphan), 25);
	assert_int_equal(totals_of(f, 1203).debits, 1);
}

/* ---- totals per forwarder ------------------------------------------------------ */

#define SWITCH_FWD "99990000"  /* the switch's direct link */
#define UNIONPAY_FWD "00010000" /* a network's member id */

static txn_t via(txn_t t, const char *forwarder)
{
	ps_strlcpy(t.forwarder, forwarder, sizeof(t.forwarder));
	return t;
}

/* A 0500 for mmdd from forwarder ("" none), run alone; asserts 00. */
static txn_totals_t ask_totals(fixture_t *f, uint32_t stan, const char *mmdd,
			       const char *forwarder)
{
	txn_t t = via(dated(TXN_KIND_RECON, "", 0, stan, mmdd), forwarder);
	assert_int_equal(run(f, &t), 0);
	assert_true(t.wire.has_totals);
	assert_string_equal(t.forwarder, forwarder); /* echoed as it came */
	return t.wire.totals;
}

static void expect_totals(txn_totals_t got, uint32_t credits,
			  int64_t credits_amount, uint32_t debits,
			  int64_t debits_amount, uint32_t debit_reversals,
			  int64_t debit_reversals_amount)
{
	assert_int_equal(got.credits, credits);
	assert_int_equal(got.credits_amount, credits_amount);
	assert_int_equal(got.debits, debits);
	assert_int_equal(got.debits_amount, debits_amount);
	assert_int_equal(got.debit_reversals, debit_reversals);
	assert_int_equal(got.debit_reversals_amount, debit_reversals_amount);
	assert_int_equal(got.credit_reversals, 0);
	assert_int_equal(got.net, credits_amount - debits_amount +
					  debit_reversals_amount);
}

static void expect_id_text(ledger_id_t id, const char *want)
{
	char text[LEDGER_ID_TEXT_MAX];
	assert_string_equal(ledger_id_format(id, text), want);
}

/* Two links post on the same date: each 0500 is answered with its own
 * forwarder's totals only, one without field 33 with the sum; a reversal
 * counts under its own field 33; duplicates and repeats via another link
 * count nothing. */
static void test_totals_per_forwarder(void **state)
{
	fixture_t *f = *state;
	txn_t d1 = via(dated(TXN_KIND_PURCHASE, ALICE, 1000, 1, "1203"),
		       SWITCH_FWD);
	assert_int_equal(run(f, &d1), 0);
	txn_t c1 = via(dated(TXN_KIND_CREDIT, SHOP, 700, 2, "1203"),
		       UNIONPAY_FWD);
	assert_int_equal(run(f, &c1), 0);
	txn_t d2 = via(dated(TXN_KIND_PURCHASE, ALICE, 40, 3, "1203"),
		       UNIONPAY_FWD);
	assert_int_equal(run(f, &d2), 0);
	txn_t bare = dated(TXN_KIND_CREDIT, SHOP, 5, 4, "1203"); /* no 33 */
	assert_int_equal(run(f, &bare), 0);
	/* A copy of d1 over the other link is still a duplicate. */
	txn_t copy = via(d1, UNIONPAY_FWD);
	copy.rc = TXN_RC_NONE;
	assert_int_equal(run(f, &copy), 94);

	expect_totals(ask_totals(f, 10, "1203", SWITCH_FWD), 0, 0, 1, 1000, 0, 0);
	expect_totals(ask_totals(f, 11, "1203", UNIONPAY_FWD), 1, 700, 1, 40, 0, 0);
	/* Field 33 is a number, as field 90 carries it. */
	expect_totals(ask_totals(f, 12, "1203", "10000"), 1, 700, 1, 40, 0, 0);
	expect_totals(ask_totals(f, 13, "1203", "0"), 1, 5, 0, 0, 0, 0);
	expect_totals(ask_totals(f, 14, "1203", ""), 2, 705, 2, 1040, 0, 0);
	/* A forwarder never seen, another date: zeros. */
	expect_totals(ask_totals(f, 15, "1203", "48020000"), 0, 0, 0, 0, 0, 0);
	expect_totals(ask_totals(f, 16, "1204", SWITCH_FWD), 0, 0, 0, 0, 0, 0);

	/* The reversal of d1 comes over the network on 1204: it counts under
	 * its own field 33 and 15; its repeat over the switch counts nothing. */
	txn_t rev = via(advice(TXN_KIND_REVERSAL, &d1, 20), UNIONPAY_FWD);
	ps_strlcpy(rev.wire.settle_date, "1204", sizeof(rev.wire.settle_date));
	assert_int_equal(run(f, &rev), 0);
	txn_t rep = via(rev, SWITCH_FWD);
	rep.wire.stan = 21;
	rep.rc = TXN_RC_NONE;
	assert_int_equal(run(f, &rep), 0);
	expect_totals(ask_totals(f, 22, "1204", UNIONPAY_FWD), 0, 0, 0, 0, 1, 1000);
	expect_totals(ask_totals(f, 23, "1204", SWITCH_FWD), 0, 0, 0, 0, 0, 0);
	expect_totals(ask_totals(f, 24, "1204", ""), 0, 0, 0, 0, 1, 1000);
	expect_totals(ask_totals(f, 25, "1203", SWITCH_FWD), 0, 0, 1, 1000, 0, 0);

	/* The ids and tags as docs/banksim.md spells them. */
	expect_id_text(bank_totals_account_id(1203, 99990000,
					      BANK_TOTAL_DEBITS, true),
		       "300099990000120331");
	expect_id_text(bank_totals_account_id(1203, 0, BANK_TOTAL_DEBITS, true),
		       "2120331");
	expect_id_text(bank_totals_account_id(1203, BANK_FORWARDER_OTHER,
					      BANK_TOTAL_DEBITS, true),
		       "300000000000120331");
	ledger_transfer_t money;
	assert_int_equal(ledger_transfer_get(f->bank.ledger,
			     bank_transfer_id(BANK_STEP_MONEY,
					      "12345678:000001:1125103000"),
			     &money), 0);
	assert_int_equal(money.user_data_64, UINT64_C(1000999900001203));
	uint16_t date;
	uint64_t fwd;
	int total;
	bool amount;
	assert_true(bank_totals_account_of(
		bank_totals_account_id(1231, BANK_FORWARDER_MAX,
				       BANK_TOTAL_DEBIT_REVERSALS, false),
		&date, &fwd, &total, &amount));
	assert_int_equal(date, 1231);
	assert_int_equal(fwd, BANK_FORWARDER_MAX);
	assert_int_equal(total, BANK_TOTAL_DEBIT_REVERSALS);
	assert_false(amount);
	/* Customers and the bank's own ids are never totals. */
	assert_false(bank_totals_account_of(bank_account_id(ALICE, 16), &date,
					    &fwd, &total, &amount));
	assert_false(bank_totals_account_of(ledger_id_from_u64(6), &date, &fwd,
					    &total, &amount));
	assert_false(bank_totals_account_of(
		bank_account_id("30009999000012033", 17), &date, &fwd, &total,
		&amount));

	/* After a restart: the same answers, and repeats count nothing. */
	bank_book_close(&f->bank);
	open_bank(f, accounts);
	assert_int_equal(f->bank.forwarder_count, 2);
	d1.rc = TXN_RC_NONE;
	assert_int_equal(run(f, &d1), 94);
	rev.rc = TXN_RC_NONE;
	assert_int_equal(run(f, &rev), 0);
	expect_totals(ask_totals(f, 30, "1203", SWITCH_FWD), 0, 0, 1, 1000, 0, 0);
	expect_totals(ask_totals(f, 31, "1203", UNIONPAY_FWD), 1, 700, 1, 40, 0, 0);
	expect_totals(ask_totals(f, 32, "1203", ""), 2, 705, 2, 1040, 0, 0);
	expect_totals(ask_totals(f, 33, "1204", UNIONPAY_FWD), 0, 0, 0, 0, 1, 1000);
}

/* Two-phase: the completion counts under the authorisation's date and
 * forwarder, whichever link it came by; a reversal of the posted debit
 * under its own. */
static void test_two_phase_totals_per_forwarder(void **state)
{
	fixture_t *f = *state;
	f->bank.two_phase = true;
	txn_t auth = via(dated(TXN_KIND_PURCHASE, ALICE, 4000, 1, "1203"),
			 SWITCH_FWD);
	assert_int_equal(run(f, &auth), 0);
	expect_totals(ask_totals(f, 10, "1203", SWITCH_FWD), 0, 0, 0, 0, 0, 0);
	txn_t post = via(advice(TXN_KIND_COMPLETION, &auth, 2), UNIONPAY_FWD);
	post.amount = 3000;
	ps_strlcpy(post.wire.settle_date, "1204", sizeof(post.wire.settle_date));
	assert_int_equal(run(f, &post), 0);
	post.rc = TXN_RC_NONE;
	assert_int_equal(run(f, &post), 94);
	expect_totals(ask_totals(f, 11, "1203", SWITCH_FWD), 0, 0, 1, 3000, 0, 0);
	expect_totals(ask_totals(f, 12, "1203", UNIONPAY_FWD), 0, 0, 0, 0, 0, 0);
	expect_totals(ask_totals(f, 13, "1204", ""), 0, 0, 0, 0, 0, 0);
	txn_t rev = via(advice(TXN_KIND_REVERSAL, &auth, 3), UNIONPAY_FWD);
	ps_strlcpy(rev.wire.settle_date, "1204", sizeof(rev.wire.settle_date));
	assert_int_equal(run(f, &rev), 0);
	expect_totals(ask_totals(f, 14, "1204", UNIONPAY_FWD), 0, 0, 0, 0, 1, 3000);
	expect_totals(ask_totals(f, 15, "1204", SWITCH_FWD), 0, 0, 0, 0, 0, 0);
	/* An authorisation without field 33 completes under "no forwarder". */
	txn_t bare = dated(TXN_KIND_PURCHASE, ALICE, 100, 4, "1203");
	assert_int_equal(run(f, &bare), 0);
	txn_t bpost = via(advice(TXN_KIND_COMPLETION, &bare, 5), SWITCH_FWD);
	assert_int_equal(run(f, &bpost), 0);
	expect_totals(ask_totals(f, 16, "1203", "0"), 0, 0, 1, 100, 0, 0);
	expect_totals(ask_totals(f, 17, "1203", SWITCH_FWD), 0, 0, 1, 3000, 0, 0);
}

static void forwarder_text(uint32_t i, char out[12])
{
	snprintf(out, 12, "%" PRIu32, 48000000 + i);
}

/* More forwarders than BANK_FORWARDERS_MAX: the first 64 keep their own
 * totals, any further ones count in "other" (money still moves), their
 * 0500 is answered 12, the sum stays exact; the bound holds across a
 * restart; --dump-balances names them. */
static void test_forwarders_bound(void **state)
{
	fixture_t *f = *state;
	enum { EXTRA = 3 };
	char fwd[12];
	for (uint32_t i = 0; i < BANK_FORWARDERS_MAX + EXTRA; i++) {
		forwarder_text(i, fwd);
		txn_t c = via(dated(TXN_KIND_CREDIT, SHOP, 1, 100 + i, "1203"),
			      fwd);
		assert_int_equal(run(f, &c), 0);
	}
	assert_int_equal(f->bank.forwarder_count, BANK_FORWARDERS_MAX);
	assert_int_equal(available(f, SHOP), BANK_FORWARDERS_MAX + EXTRA);
	forwarder_text(0, fwd);
	expect_totals(ask_totals(f, 1, "1203", fwd), 1, 1, 0, 0, 0, 0);
	forwarder_text(BANK_FORWARDERS_MAX - 1, fwd);
	expect_totals(ask_totals(f, 2, "1203", fwd), 1, 1, 0, 0, 0, 0);
	expect_totals(ask_totals(f, 3, "1203", ""), BANK_FORWARDERS_MAX + EXTRA,
		      BANK_FORWARDERS_MAX + EXTRA, 0, 0, 0, 0);
	txn_totals_t other;
	assert_int_equal(bank_totals_read(&f->bank, 1203, BANK_FORWARDER_OTHER,
					  &other), 0);
	assert_int_equal(other.credits, EXTRA);
	/* One beyond the bound (or never seen, now that it is reached)
	 * cannot be told its own totals. */
	forwarder_text(BANK_FORWARDERS_MAX, fwd);
	txn_t ask = via(dated(TXN_KIND_RECON, "", 0, 4, "1203"), fwd);
	assert_int_equal(run(f, &ask), 12);
	assert_false(ask.wire.has_totals);
	ask = via(dated(TXN_KIND_RECON, "", 0, 5, "1203"), "11112222");
	assert_int_equal(run(f, &ask), 12);
	/* "No forwarder" is not one of the 64. */
	txn_t bare = dated(TXN_KIND_CREDIT, SHOP, 9, 6, "1203");
	assert_int_equal(run(f, &bare), 0);
	expect_totals(ask_totals(f, 7, "1203", "0"), 1, 9, 0, 0, 0, 0);

	/* Restarted: the book says which 64 have their own totals. */
	bank_book_close(&f->bank);
	open_bank(f, accounts);
	assert_int_equal(f->bank.forwarder_count, BANK_FORWARDERS_MAX);
	forwarder_text(BANK_FORWARDERS_MAX + EXTRA, fwd);
	txn_t late = via(dated(TXN_KIND_CREDIT, SHOP, 1, 200, "1203"), fwd);
	assert_int_equal(run(f, &late), 0);
	assert_int_equal(f->bank.forwarder_count, BANK_FORWARDERS_MAX);
	assert_int_equal(bank_totals_read(&f->bank, 1203, BANK_FORWARDER_OTHER,
					  &other), 0);
	assert_int_equal(other.credits, EXTRA + 1);
	forwarder_text(7, fwd);
	expect_totals(ask_totals(f, 8, "1203", fwd), 1, 1, 0, 0, 0, 0);
	expect_totals(ask_totals(f, 9, "1203", ""), BANK_FORWARDERS_MAX + EXTRA + 2,
		      BANK_FORWARDERS_MAX + EXTRA + 10, 0, 0, 0, 0);

	/* The dump says whose each total is. */
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	assert_non_null(out);
	assert_int_equal(bank_book_dump(f->bank.ledger, out), 0);
	fclose(out);
	assert_non_null(strstr(text,
		"{\"id\":\"2120310\",\"kind\":\"totals\",\"date\":\"1203\","
		"\"forwarder\":\"0\",\"total\":\"credits_count\","));
	assert_non_null(strstr(text,
		"{\"id\":\"300048000000120310\",\"kind\":\"totals\","
		"\"date\":\"1203\",\"forwarder\":\"48000000\","
		"\"total\":\"credits_count\","));
	assert_non_null(strstr(text,
		"{\"id\":\"300000000000120311\",\"kind\":\"totals\","
		"\"date\":\"1203\",\"forwarder\":\"other\","
		"\"total\":\"credits_amount\","));
	free(text);
}

/* What a banksim wrote before totals were kept per forwarder, made by
 * hand: the totals accounts of 1203 ("2" MMDD T M) holding one debit of
 * 5000 (its chain as that version wrote it, user_data_64 the date alone),
 * and a reservation of 900 held two-phase on 1203 (user_data_64 1203). */
static void write_old_book(fixture_t *f)
{
	ledger_t *l = f->bank.ledger;
	ledger_account_t accs[2];
	ledger_result_t res[4];
	memset(accs, 0, sizeof(accs));
	for (int m = 0; m < 2; m++) {
		accs[m].id = ledger_id_from_u64(2120330u + (uint64_t)m);
		accs[m].ledger = BANK_LEDGER_MEMO;
		accs[m].code = BANK_ACODE_TOTALS;
	}
	assert_int_equal(ledger_create_accounts(l, accs, 2, res), 0);
	assert_int_equal(res[0].result + res[1].result, LEDGER_ACCOUNT_OK);
	const char *key = "12345678:000801:1125103000";
	ledger_id_t money = bank_transfer_id(BANK_STEP_MONEY, key);
	ledger_transfer_t x[4];
	memset(x, 0, sizeof(x));
	x[0].id = bank_transfer_id(BANK_STEP_SEEN, key);
	x[0].debit_account_id = ledger_id_from_u64(BANK_ID_MEMO_ISSUED);
	x[0].credit_account_id = ledger_id_from_u64(BANK_ID_MEMO_HELD);
	x[0].amount = 1;
	x[0].ledger = BANK_LEDGER_MEMO;
	x[0].code = BANK_XCODE_SEEN;
	x[0].user_data_128 = money;
	x[1].id = money;
	x[1].debit_account_id = bank_account_id(ALICE, 16);
	x[1].credit_account_id = ledger_id_from_u64(BANK_ID_CLEARING);
	x[1].amount = 5000;
	x[1].ledger = 156;
	x[1].code = BANK_XCODE_DEBIT;
	x[1].flags = LEDGER_TRANSFER_LINKED;
	x[1].user_data_128 = money;
	x[1].user_data_64 = 1203;
	for (int m = 0; m < 2; m++) {
		ledger_transfer_t *c = &x[2 + m];
		c->id = bank_totals_transfer_id(m == 1, BANK_STEP_MONEY, key);
		c->debit_account_id = ledger_id_from_u64(
			m ? BANK_ID_TOTALS_AMOUNTS : BANK_ID_TOTALS_COUNTS);
		c->credit_account_id = ledger_id_from_u64(2120330u + (uint64_t)m);
		c->amount = m ? 5000 : 1;
		c->ledger = BANK_LEDGER_MEMO;
		c->code = m ? BANK_XCODE_TOTAL_AMOUNT : BANK_XCODE_TOTAL_COUNT;
		c->flags = m ? 0 : LEDGER_TRANSFER_LINKED;
		c->user_data_128 = money;
		c->user_data_64 = 1203;
	}
	assert_int_equal(ledger_create_transfers(l, x, 4, res), 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(res[i].result, LEDGER_TRANSFER_OK);
	/* The reservation, and its seen marker. */
	const char *held = "12345678:000802:1125103000";
	memset(x, 0, sizeof(x));
	x[0] = (ledger_transfer_t){0};
	x[0].id = bank_transfer_id(BANK_STEP_SEEN, held);
	x[0].debit_account_id = ledger_id_from_u64(BANK_ID_MEMO_ISSUED);
	x[0].credit_account_id = ledger_id_from_u64(BANK_ID_MEMO_HELD);
	x[0].amount = 1;
	x[0].ledger = BANK_LEDGER_MEMO;
	x[0].code = BANK_XCODE_SEEN;
	x[1].id = bank_transfer_id(BANK_STEP_MONEY, held);
	x[1].debit_account_id = bank_account_id(ALICE, 16);
	x[1].credit_account_id = ledger_id_from_u64(BANK_ID_CLEARING);
	x[1].amount = 900;
	x[1].ledger = 156;
	x[1].code = BANK_XCODE_AUTHORISATION;
	x[1].flags = LEDGER_TRANSFER_PENDING;
	x[1].timeout_seconds = 600;
	x[1].user_data_128 = x[1].id;
	x[1].user_data_64 = 1203;
	assert_int_equal(ledger_create_transfers(l, x, 2, res), 0);
	assert_int_equal(res[0].result + res[1].result, LEDGER_TRANSFER_OK);
}

/* A book from before totals were kept per forwarder starts and answers:
 * its totals read as "no forwarder" (and in the sum), a forwarder's 0500
 * sees only what counted under it since, and a reservation made then
 * completes under its date and the completion's forwarder (it has none
 * on record). */
static void test_old_book_reads_as_no_forwarder(void **state)
{
	fixture_t *f = *state;
	write_old_book(f);
	bank_book_close(&f->bank);
	open_bank(f, accounts); /* set-up over the old book */
	f->bank.two_phase = true;
	assert_int_equal(f->bank.forwarder_count, 0);
	expect_totals(ask_totals(f, 1, "1203", ""), 0, 0, 1, 5000, 0, 0);
	expect_totals(ask_totals(f, 2, "1203", "0"), 0, 0, 1, 5000, 0, 0);
	expect_totals(ask_totals(f, 3, "1203", SWITCH_FWD), 0, 0, 0, 0, 0, 0);
	/* The old debit is known: its copy is 94, its reversal counts under
	 * the reversal's own forwarder. */
	txn_t old = via(dated(TXN_KIND_PURCHASE, ALICE, 5000, 801, "1203"),
			SWITCH_FWD);
	assert_int_equal(run(f, &old), 94);
	txn_t rev = via(advice(TXN_KIND_REVERSAL, &old, 4), SWITCH_FWD);
	ps_strlcpy(rev.wire.settle_date, "1203", sizeof(rev.wire.settle_date));
	assert_int_equal(run(f, &rev), 0);
	/* The old reservation, completed over the switch's link on 1204. */
	txn_t held = via(dated(TXN_KIND_PURCHASE, ALICE, 900, 802, "1203"),
			 SWITCH_FWD);
	txn_t post = via(advice(TXN_KIND_COMPLETION, &held, 5), SWITCH_FWD);
	ps_strlcpy(post.wire.settle_date, "1204", sizeof(post.wire.settle_date));
	assert_int_equal(run(f, &post), 0);
	expect_totals(ask_totals(f, 6, "1203", SWITCH_FWD), 0, 0, 1, 900, 1, 5000);
	expect_totals(ask_totals(f, 7, "1203", "0"), 0, 0, 1, 5000, 0, 0);
	expect_totals(ask_totals(f, 8, "1203", ""), 0, 0, 2, 5900, 1, 5000);
	expect_totals(ask_totals(f, 9, "1204", ""), 0, 0, 0, 0, 0, 0);
	/* New postings without field 33 add to the old accounts. */
	txn_t bare = dated(TXN_KIND_PURCHASE, ALICE, 100, 10, "1203");
	f->bank.two_phase = false;
	assert_int_equal(run(f, &bare), 0);
	expect_totals(ask_totals(f, 11, "1203", "0"), 0, 0, 2, 5100, 0, 0);
	assert_int_equal(available(f, ALICE), 100000 - 900 - 100);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_every_code, setup, teardown),
		cmocka_unit_test_setup_teardown(test_one_key_per_batch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_full_batch_defers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_commit_is_96, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reversals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_phase_in_the_core, setup, teardown),
		cmocka_unit_test_setup_teardown(test_setup_is_idempotent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_draws_follow_the_request, setup, teardown),
		cmocka_unit_test_setup_teardown(test_totals_in_the_core, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_phase_totals_in_the_core, setup, teardown),
		cmocka_unit_test_setup_teardown(test_totals_per_forwarder, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_phase_totals_per_forwarder, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forwarders_bound, setup, teardown),
		cmocka_unit_test_setup_teardown(test_old_book_reads_as_no_forwarder, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
