/*
 * test_decide.c: the bank's decisions without a network: bank_plan,
 * bank_batch_commit and bank_settle over a ledger in a temporary
 * directory. Every response code and its cause, what a batch does with two
 * requests on one key (the second waits for the next batch), a full batch,
 * a failed commit (96, and nothing remembered), a reversal that cannot
 * take back a spent credit (51), the set-up run twice over one book, and
 * the totals per settlement date: what counts, under which date, never
 * twice, and the 0500 that reads them.
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
	assert_int_equal(bank_totals_read(&f->bank, date, &x), 0);
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
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
