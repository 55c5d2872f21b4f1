/*
 * test_settle.c: PBOC's postings (pboc.h) directly, over a fresh ledger
 * directory per test: the zero-sum rule, unknown and duplicate members,
 * all-or-nothing chains that leave the suspense account at zero and the
 * sum of reserves unchanged, a shortfall queued until a fund (or another
 * posting) and then posted in arrival order, intraday credit limits,
 * idempotent resubmission and reuse of an id with other positions,
 * --shortfall reject, the queue's bound, funding once per request id,
 * and restarts: batch status kept, a run that died between posting and
 * recording finished by the next start, changed credit limits.
 * Every test ends with pboc_check finding the book and the batches sound.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "pboc.h"
#include "support.h"

#define A "01020000"
#define B "01030000"
#define C "PSP01"
#define SW "99990000"

static const char members[] =
	"[{\"member\":\"" A "\",\"kind\":\"bank\",\"balance\":120000},"
	" {\"member\":\"" B "\",\"kind\":\"bank\",\"balance\":10000,\"credit_limit\":50000},"
	" {\"member\":\"" C "\",\"kind\":\"psp\"},"
	" {\"member\":\"" SW "\",\"kind\":\"switch\"}]";

typedef struct fixture {
	char dir[256];
	pboc_t *p;
	bool reject;
	uint32_t queue_max;
	const char *members;
} fixture_t;

static void bank_open(fixture_t *f)
{
	pboc_members_t m;
	char err[512];
	const char *text = f->members != NULL ? f->members : members;
	assert_int_equal(pboc_members_parse(text, strlen(text), &m, err,
					    sizeof(err)), 0);
	pboc_options_t o = {.ledger_dir = f->dir,
			    .durability = LEDGER_DURABILITY_NOSYNC,
			    .shortfall_reject = f->reject,
			    .queue_max = f->queue_max ? f->queue_max : 16};
	int rc = pboc_open(&f->p, &o, &m, err, sizeof(err));
	if (rc != 0)
		fail_msg("pboc_open: %s", err);
}

/* Asserts the book and the batches are sound, then closes. */
static void bank_close(fixture_t *f)
{
	char line[1024];
	FILE *out = fmemopen(line, sizeof(line), "w");
	bool ok = false;
	assert_int_equal(pboc_check(f->p->ledger, f->p->store, out, &ok), 0);
	fclose(out);
	if (!ok)
		fail_msg("not sound: %s", line);
	pboc_close(f->p);
	f->p = NULL;
}

static int setup(void **state)
{
	fixture_t *f = calloc(1, sizeof(*f));
	ts_tmpdir("pbocset", f->dir, sizeof(f->dir));
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture_t *f = *state;
	if (f->p != NULL)
		bank_close(f);
	ts_rmrf(f->dir);
	free(f);
	return 0;
}

/* A batch from "MEMBER=AMOUNT MEMBER=AMOUNT ..."; submitted by SW. */
static void batch_of(pboc_batch_t *b, const char *id, const char *spec)
{
	memset(b, 0, sizeof(*b));
	ps_strlcpy(b->id, id, sizeof(b->id));
	ps_strlcpy(b->submitter, SW, sizeof(b->submitter));
	char copy[512];
	ps_strlcpy(copy, spec, sizeof(copy));
	for (char *save = NULL, *tok = strtok_r(copy, " ", &save); tok != NULL;
	     tok = strtok_r(NULL, " ", &save)) {
		char *eq = strchr(tok, '=');
		assert_non_null(eq);
		*eq = '\0';
		pboc_position_t *pos = &b->positions[b->count++];
		ps_strlcpy(pos->member, tok, sizeof(pos->member));
		pos->amount = strtoll(eq + 1, NULL, 10);
	}
}

static pboc_batch_t last; /* the last settle's answer */
static uint32_t released;

static int settle(fixture_t *f, const char *id, const char *spec)
{
	batch_of(&last, id, spec);
	assert_int_equal(pboc_settle(f->p, &last, &released), 0);
	return last.status;
}

static int64_t balance(fixture_t *f, const char *member)
{
	int64_t bal = 0, limit = 0;
	assert_int_equal(pboc_balance(f->p, member, &bal, &limit), 0);
	return bal;
}

static int64_t reserves_total(fixture_t *f)
{
	return balance(f, A) + balance(f, B) + balance(f, C) + balance(f, SW);
}

static int status_of(fixture_t *f, const char *id)
{
	pboc_batch_t b;
	int rc = pboc_batch_get(f->p, id, &b);
	return rc == PS_ENOTFOUND ? 0 : (assert_int_equal(rc, 0), b.status);
}

/* ---- ids ------------------------------------------------------------------------- */

static void test_reserve_ids(void **state)
{
	(void)state;
	ledger_id_t id = pboc_reserve_id(A);
	assert_true(id.hi == 0x3031303230303030ull && id.lo == 0);
	char back[PBOC_MEMBER_ID_MAX + 1];
	assert_true(pboc_reserve_member(id, back));
	assert_string_equal(back, A);
	assert_true(pboc_reserve_member(pboc_reserve_id("ABCDEFGHIJKLMNOP"), back));
	assert_string_equal(back, "ABCDEFGHIJKLMNOP");
	assert_false(pboc_reserve_member(ledger_id_from_u64(PBOC_ID_ISSUE), back));
	assert_false(pboc_reserve_member(ledger_id_from_u64(PBOC_ID_SUSPENSE), back));
	assert_false(ledger_id_equal(pboc_leg_id("X", A), pboc_leg_id("X", B)));
	assert_false(ledger_id_equal(pboc_leg_id("X", A), pboc_leg_id("Y", A)));
}

/* ---- judging ----------------------------------------------------------------------- */

static void test_batch_must_sum_to_zero(void **state)
{
	fixture_t *f = *state;
	bank_open(f);
	assert_int_equal(settle(f, "S1", A "=-100 " B "=200"), PBOC_BATCH_REJECTED);
	assert_string_equal(last.reason, "positions sum to 100, not 0");
	assert_int_equal(status_of(f, "S1"), PBOC_BATCH_REJECTED);
	assert_int_equal(balance(f, A), 120000);
	assert_int_equal(balance(f, B), 10000);
}

static void test_unknown_and_duplicate_members(void **state)
{
	fixture_t *f = *state;
	bank_open(f);
	assert_int_equal(settle(f, "S1", A "=-100 09990000=100"), PBOC_BATCH_REJECTED);
	assert_string_equal(last.reason, "positions: 09990000 is no member of PBOC");
	assert_int_equal(settle(f, "S2", A "=-100 " B "=50 " A "=50"),
			 PBOC_BATCH_REJECTED);
	assert_string_equal(last.reason, "positions: member " A " appears twice");
	batch_of(&last, "S3", A "=-100 " B "=100");
	ps_strlcpy(last.submitter, "77770000", sizeof(last.submitter));
	assert_int_equal(pboc_settle(f->p, &last, &released), 0);
	assert_int_equal(last.status, PBOC_BATCH_REJECTED);
	assert_string_equal(last.reason, "submitter: 77770000 is no member of PBOC");
	assert_int_equal(reserves_total(f), 130000);
	assert_int_equal(balance(f, A), 120000);
}

static void test_posts_all_or_nothing(void **state)
{
	fixture_t *f = *state;
	bank_open(f);
	int64_t total = reserves_total(f);
	/* Three parties, one chain. */
	assert_int_equal(settle(f, "SW99990000-20261203",
				A "=-100000 " B "=60000 " C "=40000"),
			 PBOC_BATCH_POSTED);
	assert_string_equal(last.reason, "");
	assert_true(last.posted_ms > 1700000000000ull);
	assert_int_equal(balance(f, A), 20000);
	assert_int_equal(balance(f, B), 70000);
	assert_int_equal(balance(f, C), 40000);
	assert_int_equal(reserves_total(f), total);
	ledger_account_t s;
	assert_int_equal(ledger_account_get(f->p->ledger,
					    ledger_id_from_u64(PBOC_ID_SUSPENSE), &s), 0);
	assert_true(s.debits_posted == 100000 && s.credits_posted == 100000);
	/* Every leg is in the ledger under its derived id. */
	ledger_transfer_t t;
	assert_int_equal(ledger_transfer_get(f->p->ledger,
					     pboc_leg_id("SW99990000-20261203", C), &t), 0);
	assert_int_equal(t.amount, 40000);
	assert_int_equal(t.code, PBOC_XCODE_SETTLE_CREDIT);
	/* Two debtors, one of them short: nothing of it moves. */
	assert_int_equal(settle(f, "S2", A "=-10000 " C "=-50000 " B "=60000"),
			 PBOC_BATCH_QUEUED);
	assert_int_equal(balance(f, A), 20000);
	assert_int_equal(balance(f, C), 40000);
	assert_int_equal(ledger_transfer_get(f->p->ledger, pboc_leg_id("S2", A), &t),
			 PS_ENOTFOUND);
	/* All zero, or nothing at all: posted, nothing moves. */
	assert_int_equal(settle(f, "S3", A "=0 " B "=0"), PBOC_BATCH_POSTED);
	assert_int_equal(settle(f, "S4", ""), PBOC_BATCH_POSTED);
	assert_int_equal(reserves_total(f), total);
}

/* ---- shortfalls and the queue ---------------------------------------------------------- */

static void test_shortfall_queued_then_funded(void **state)
{
	fixture_t *f = *state;
	bank_open(f);
	assert_int_equal(settle(f, "SW99990000-20261203", A "=-128500 " B "=128500"),
			 PBOC_BATCH_QUEUED);
	assert_string_equal(last.reason, "reserve of " A " short by 8500 fen "
			    "(balance 120000, credit limit 0)");
	pboc_batch_t q;
	assert_int_equal(pboc_batch_get(f->p, "SW99990000-20261203", &q), 0);
	assert_int_equal(q.status, PBOC_BATCH_QUEUED);
	assert_string_equal(q.reason, last.reason);
	pboc_fund_result_t r;
	assert_int_equal(pboc_fund(f->p, A, "F1", 5000, &r), 0);
	assert_true(r.done);
	assert_int_equal(r.released, 0);
	assert_int_equal(r.balance, 125000);
	assert_int_equal(pboc_batch_get(f->p, "SW99990000-20261203", &q), 0);
	assert_string_equal(q.reason, "reserve of " A " short by 3500 fen "
			    "(balance 125000, credit limit 0)");
	assert_int_equal(pboc_fund(f->p, A, "F2", 500000, &r), 0);
	assert_true(r.done);
	assert_int_equal(r.released, 1);
	assert_int_equal(r.balance, 625000 - 128500);
	assert_int_equal(status_of(f, "SW99990000-20261203"), PBOC_BATCH_POSTED);
	assert_int_equal(balance(f, B), 10000 + 128500);
	assert_int_equal(f->p->stats.posted, 1);
	assert_int_equal(f->p->stats.queued, 1);
}

static void test_credit_limit(void **state)
{
	fixture_t *f = *state;
	bank_open(f);
	/* B: 10000 and 50000 of credit: down to -50000, not one fen more. */
	assert_int_equal(settle(f, "S1", B "=-60000 " C "=60000"), PBOC_BATCH_POSTED);
	assert_int_equal(balance(f, B), -50000);
	assert_int_equal(settle(f, "S2", B "=-1 " C "=1"), PBOC_BATCH_QUEUED);
	assert_string_equal(last.reason, "reserve of " B " short by 1 fen "
			    "(balance -50000, credit limit 50000)");
	/* Credit is ours to check; no credit is the ledger's to enforce. */
	ledger_account_t a, b;
	assert_int_equal(ledger_account_get(f->p->ledger, pboc_reserve_id(A), &a), 0);
	assert_int_equal(ledger_account_get(f->p->ledger, pboc_reserve_id(B), &b), 0);
	assert_true(a.flags & LEDGER_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS);
	assert_false(b.flags & LEDGER_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS);
	/* A posting that funds B releases S2. */
	assert_int_equal(settle(f, "S3", C "=-100 " B "=100"), PBOC_BATCH_POSTED);
	assert_int_equal(released, 1);
	assert_int_equal(status_of(f, "S2"), PBOC_BATCH_POSTED);
	assert_int_equal(balance(f, B), -49901);
}

static void test_queue_is_fifo_and_bypassed(void **state)
{
	fixture_t *f = *state;
	bank_open(f);
	assert_int_equal(settle(f, "Q1", C "=-100000 " A "=100000"), PBOC_BATCH_QUEUED);
	assert_int_equal(settle(f, "Q2", C "=-30000 " A "=30000"), PBOC_BATCH_QUEUED);
	pboc_fund_result_t r;
	/* Q1 is offered the funds first: it takes 100000, Q2 waits. */
	assert_int_equal(pboc_fund(f->p, C, "F1", 110000, &r), 0);
	assert_int_equal(r.released, 1);
	assert_int_equal(status_of(f, "Q1"), PBOC_BATCH_POSTED);
	assert_int_equal(status_of(f, "Q2"), PBOC_BATCH_QUEUED);
	/* A batch behind a short one is not held up by it. */
	assert_int_equal(settle(f, "Q3", C "=-5000 " A "=5000"), PBOC_BATCH_POSTED);
	assert_int_equal(pboc_fund(f->p, C, "F2", 25000, &r), 0);
	assert_int_equal(r.released, 1);
	assert_int_equal(status_of(f, "Q2"), PBOC_BATCH_POSTED);
	assert_int_equal(balance(f, C), 0);
	uint32_t queued = 9;
	assert_int_equal(pboc_store_queued(f->p->store, &queued), 0);
	assert_int_equal(queued, 0);
}

static void test_queue_bound(void **state)
{
	fixture_t *f = *state;
	f->queue_max = 1;
	bank_open(f);
	assert_int_equal(settle(f, "Q1", C "=-1 " A "=1"), PBOC_BATCH_QUEUED);
	assert_int_equal(settle(f, "Q2", C "=-1 " A "=1"), PBOC_BATCH_REJECTED);
	assert_string_equal(last.reason, "queue full: 1 batches already wait "
			    "for funds (--queue-max)");
	/* Rejected binds nothing: judged afresh once there is room. */
	pboc_fund_result_t r;
	assert_int_equal(pboc_fund(f->p, C, "F1", 1, &r), 0);
	assert_int_equal(r.released, 1);
	assert_int_equal(settle(f, "Q2", C "=-1 " A "=1"), PBOC_BATCH_QUEUED);
}

static void test_shortfall_reject_mode(void **state)
{
	fixture_t *f = *state;
	f->reject = true;
	bank_open(f);
	assert_int_equal(settle(f, "S1", A "=-128500 " B "=128500"),
			 PBOC_BATCH_REJECTED);
	assert_string_equal(last.reason, "reserve of " A " short by 8500 fen "
			    "(balance 120000, credit limit 0)");
	assert_int_equal(balance(f, A), 120000);
	pboc_fund_result_t r;
	assert_int_equal(pboc_fund(f->p, A, "F1", 8500, &r), 0);
	assert_int_equal(r.released, 0); /* nothing waits */
	assert_int_equal(settle(f, "S1", A "=-128500 " B "=128500"), PBOC_BATCH_POSTED);
	assert_int_equal(balance(f, A), 0);
}

/* ---- idempotency -------------------------------------------------------------------------- */

static void test_resubmission_is_idempotent(void **state)
{
	fixture_t *f = *state;
	bank_open(f);
	assert_int_equal(settle(f, "S1", A "=-1000 " B "=1000"), PBOC_BATCH_POSTED);
	uint64_t posted_ms = last.posted_ms;
	/* The same positions in another order: the same batch. */
	assert_int_equal(settle(f, "S1", B "=1000 " A "=-1000"), PBOC_BATCH_POSTED);
	assert_int_equal(last.posted_ms, posted_ms);
	assert_int_equal(balance(f, A), 119000);
	assert_int_equal(settle(f, "S1", B "=999 " A "=-999"), PBOC_BATCH_REJECTED);
	assert_string_equal(last.reason, "batch id reused with other positions");
	batch_of(&last, "S1", A "=-1000 " B "=1000");
	ps_strlcpy(last.submitter, C, sizeof(last.submitter));
	assert_int_equal(pboc_settle(f->p, &last, &released), 0);
	assert_int_equal(last.status, PBOC_BATCH_REJECTED);
	assert_string_equal(last.reason, "batch id reused by another submitter "
			    "(" SW " submitted it)");
	/* The record is untouched by the reuse, and nothing moved. */
	assert_int_equal(status_of(f, "S1"), PBOC_BATCH_POSTED);
	assert_int_equal(balance(f, A), 119000);
	/* A queued batch resubmitted is queued still, with its reason. */
	assert_int_equal(settle(f, "S2", A "=-200000 " B "=200000"), PBOC_BATCH_QUEUED);
	char reason[PBOC_REASON_MAX];
	ps_strlcpy(reason, last.reason, sizeof(reason));
	assert_int_equal(settle(f, "S2", A "=-200000 " B "=200000"), PBOC_BATCH_QUEUED);
	assert_string_equal(last.reason, reason);
	assert_int_equal(f->p->stats.queued, 1);
}

static void test_fund_once_per_id(void **state)
{
	fixture_t *f = *state;
	bank_open(f);
	pboc_fund_result_t r;
	assert_int_equal(pboc_fund(f->p, C, "F1", 700, &r), 0);
	assert_true(r.done);
	assert_int_equal(pboc_fund(f->p, C, "F1", 700, &r), 0);
	assert_true(r.done);
	assert_int_equal(r.balance, 700);
	assert_int_equal(pboc_fund(f->p, C, "F1", 800, &r), 0);
	assert_false(r.done);
	assert_string_equal(r.reason, "id: F1 funded " C " with another amount before");
	assert_int_equal(pboc_fund(f->p, "NOPE", "F2", 800, &r), 0);
	assert_false(r.done);
	assert_string_equal(r.reason, "member: NOPE is no member of PBOC");
	assert_int_equal(balance(f, C), 700);
	assert_int_equal(f->p->stats.funds, 1);
}

/* ---- restarts ------------------------------------------------------------------------------ */

static void test_restart_keeps_batch_status(void **state)
{
	fixture_t *f = *state;
	bank_open(f);
	assert_int_equal(settle(f, "P1", A "=-1000 " B "=1000"), PBOC_BATCH_POSTED);
	uint64_t posted_ms = last.posted_ms;
	assert_int_equal(settle(f, "Q1", C "=-500 " A "=500"), PBOC_BATCH_QUEUED);
	assert_int_equal(settle(f, "R1", C "=-500 " A "=400"), PBOC_BATCH_REJECTED);
	bank_close(f);

	bank_open(f); /* the opening balances are not posted again */
	assert_int_equal(balance(f, A), 119000);
	pboc_batch_t b;
	assert_int_equal(pboc_batch_get(f->p, "P1", &b), 0);
	assert_int_equal(b.status, PBOC_BATCH_POSTED);
	assert_int_equal(b.posted_ms, posted_ms);
	assert_int_equal(b.count, 2);
	assert_string_equal(b.positions[0].member, A);
	assert_int_equal(b.positions[0].amount, -1000);
	assert_int_equal(pboc_batch_get(f->p, "Q1", &b), 0);
	assert_int_equal(b.status, PBOC_BATCH_QUEUED);
	assert_string_equal(b.reason, "reserve of " C " short by 500 fen "
			    "(balance 0, credit limit 0)");
	assert_int_equal(status_of(f, "R1"), PBOC_BATCH_REJECTED);
	assert_int_equal(status_of(f, "never"), 0);
	assert_int_equal(settle(f, "P1", A "=-1000 " B "=1000"), PBOC_BATCH_POSTED);
	assert_int_equal(last.posted_ms, posted_ms);
	assert_int_equal(balance(f, A), 119000);
	/* The queue survived too: a fund releases it. */
	pboc_fund_result_t r;
	assert_int_equal(pboc_fund(f->p, C, "F1", 500, &r), 0);
	assert_int_equal(r.released, 1);
	assert_int_equal(balance(f, A), 119500);
}

/* Posted in the ledger, then the run "dies" before recording it: the
 * next start finds its legs, records it posted with the ledger's time,
 * and moves nothing twice. */
static void test_crash_between_posting_and_recording(void **state)
{
	fixture_t *f = *state;
	bank_open(f);
	f->p->fault_unrecorded = true;
	batch_of(&last, "S1", A "=-1000 " B "=1000");
	assert_int_equal(pboc_settle(f->p, &last, &released), PS_EIO);
	assert_int_equal(balance(f, A), 119000);
	assert_int_equal(status_of(f, "S1"), PBOC_BATCH_QUEUED);
	ledger_transfer_t leg;
	assert_int_equal(ledger_transfer_get(f->p->ledger, pboc_leg_id("S1", A), &leg), 0);
	bank_close(f); /* sound: a queued batch with its legs is "unrecorded" */

	bank_open(f);
	assert_int_equal(f->p->stats.recovered, 1);
	pboc_batch_t b;
	assert_int_equal(pboc_batch_get(f->p, "S1", &b), 0);
	assert_int_equal(b.status, PBOC_BATCH_POSTED);
	assert_int_equal(b.posted_ms, leg.timestamp / 1000000u);
	assert_int_equal(balance(f, A), 119000);
	assert_int_equal(balance(f, B), 11000);
	/* The same, healed by a resubmission instead of a restart, even
	 * when the reserve could no longer pay: its legs took the funds. */
	f->p->fault_unrecorded = true;
	batch_of(&last, "S2", A "=-119000 " B "=119000");
	assert_int_equal(pboc_settle(f->p, &last, &released), PS_EIO);
	f->p->fault_unrecorded = false;
	assert_int_equal(settle(f, "S2", A "=-119000 " B "=119000"), PBOC_BATCH_POSTED);
	assert_int_equal(balance(f, A), 0);
	assert_int_equal(f->p->stats.recovered, 2);
}

static void test_changed_credit_limits(void **state)
{
	fixture_t *f = *state;
	bank_open(f);
	bank_close(f);
	/* A asks for credit, B gives its up. */
	f->members = "[{\"member\":\"" A "\",\"kind\":\"bank\",\"balance\":120000,\"credit_limit\":1000},"
		     " {\"member\":\"" B "\",\"kind\":\"bank\",\"balance\":10000},"
		     " {\"member\":\"" SW "\",\"kind\":\"switch\"}]";
	bank_open(f);
	int64_t bal, limit;
	assert_int_equal(pboc_balance(f->p, A, &bal, &limit), 0);
	assert_int_equal(limit, 0); /* its reserve was opened without credit */
	assert_int_equal(pboc_balance(f->p, B, &bal, &limit), 0);
	assert_int_equal(limit, 0);
	assert_int_equal(settle(f, "S1", B "=-10001 " A "=10001"), PBOC_BATCH_QUEUED);
	assert_int_equal(settle(f, "S2", A "=-120001 " B "=120001"), PBOC_BATCH_QUEUED);
	assert_int_equal(pboc_balance(f->p, C, &bal, &limit), PS_ENOTFOUND);
	/* A kind that changed is refused at start. */
	bank_close(f);
	f->members = "[{\"member\":\"" A "\",\"kind\":\"psp\"}]";
	pboc_members_t m;
	char err[512];
	assert_int_equal(pboc_members_parse(f->members, strlen(f->members), &m,
					    err, sizeof(err)), 0);
	pboc_options_t o = {.ledger_dir = f->dir, .queue_max = 4};
	assert_int_equal(pboc_open(&f->p, &o, &m, err, sizeof(err)), PS_EEXIST);
	assert_non_null(strstr(err, "exists_with_different_code"));
	pboc_close(f->p);
	f->p = NULL;
}

int main(void)
{
	ps_log_setup("test_pboc_settle", PS_LOG_ERROR, 2);
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reserve_ids),
		T(test_batch_must_sum_to_zero),
		T(test_unknown_and_duplicate_members),
		T(test_posts_all_or_nothing),
		T(test_shortfall_queued_then_funded),
		T(test_credit_limit),
		T(test_queue_is_fifo_and_bypassed),
		T(test_queue_bound),
		T(test_shortfall_reject_mode),
		T(test_resubmission_is_idempotent),
		T(test_fund_once_per_id),
		T(test_restart_keeps_batch_status),
		T(test_crash_between_posting_and_recording),
		T(test_changed_credit_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
