/*
 * test_plan.c: what pspsim's load mode sends (simulators/pspsim/plan.h):
 * the mix and amounts as parsed and drawn, accounts numbered exactly as
 * banksim generates them, request lines the switch's own decoder takes,
 * and the book of pays: under answers in any order, refused refunds,
 * lost requests and a ring that forgets, no pay is ever refunded beyond
 * its amount, a duplicate is one of an answered pay, and disagreeing
 * answers are caught. Also the request-number map (idmap.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "accounts.h" /* banksim's, to compare the numbering */
#include "adapters.h"
#include "core.h"
#include "idmap.h"
#include "plan.h"

/* ---- the mix and the amounts -------------------------------------------------- */

static void test_mix_parse(void **state)
{
	(void)state;
	psp_mix_t mix;
	char err[256];
	assert_int_equal(psp_mix_parse("pay=80,refund=10,query=5,duplicate=5", &mix, err,
				       sizeof(err)), 0);
	assert_int_equal(mix.weight[PSP_OP_PAY], 80);
	assert_int_equal(mix.weight[PSP_OP_DUPLICATE], 5);
	assert_int_equal(mix.weight[PSP_OP_ECHO], 0);
	assert_int_equal(mix.total, 100);
	assert_int_equal(psp_mix_parse("echo=1,pay=3", &mix, err, sizeof(err)), 0);
	assert_int_equal(mix.total, 4);
	const char *bad[] = {"pay", "pay=x", "pay=-1", "pay=2000000", "refund=10",
			     "pay=0,refund=1", "pay=1,payment=2", "", "pay=1,,"};
	for (size_t i = 0; i < PS_ARRAY_LEN(bad); i++)
		if (psp_mix_parse(bad[i], &mix, err, sizeof(err)) != PS_EINVAL)
			fail_msg("mix \"%s\" was taken", bad[i]);
	psp_mix_parse("pay=1,payment=2", &mix, err, sizeof(err));
	assert_non_null(strstr(err, "payment"));
}

static void test_mix_draws_follow_the_weights(void **state)
{
	(void)state;
	psp_mix_t mix;
	char err[256];
	assert_int_equal(psp_mix_parse("pay=70,refund=20,query=10", &mix, err, sizeof(err)), 0);
	sim_rng_t rng;
	sim_rng_seed(&rng, 42);
	int n[PSP_OP_COUNT] = {0};
	for (int i = 0; i < 100000; i++)
		n[psp_mix_draw(&mix, &rng)]++;
	assert_in_range(n[PSP_OP_PAY], 69000, 71000);
	assert_in_range(n[PSP_OP_REFUND], 19000, 21000);
	assert_in_range(n[PSP_OP_QUERY], 9000, 11000);
	assert_int_equal(n[PSP_OP_DUPLICATE] + n[PSP_OP_ECHO], 0);
}

static void test_amounts(void **state)
{
	(void)state;
	psp_amount_t a;
	char err[256];
	sim_rng_t rng;
	sim_rng_seed(&rng, 7);
	assert_int_equal(psp_amount_parse("12850", &a, err, sizeof(err)), 0);
	assert_int_equal(psp_amount_draw(&a, &rng), 12850);
	assert_int_equal(psp_amount_parse("100-200", &a, err, sizeof(err)), 0);
	bool lo = false, hi = false;
	for (int i = 0; i < 10000; i++) {
		int64_t v = psp_amount_draw(&a, &rng);
		assert_in_range(v, 100, 200);
		lo |= v == 100;
		hi |= v == 200;
	}
	assert_true(lo && hi);
	assert_int_equal(psp_amount_parse("exp:5000", &a, err, sizeof(err)), 0);
	int64_t sum = 0;
	for (int i = 0; i < 100000; i++) {
		int64_t v = psp_amount_draw(&a, &rng);
		assert_in_range(v, 1, 100000);
		sum += v;
	}
	assert_in_range(sum / 100000, 4800, 5200);
	const char *bad[] = {"0", "-5", "1.5", "200-100", "1-", "exp:", "exp:0",
			     "1000000000000", "abc", ""};
	for (size_t i = 0; i < PS_ARRAY_LEN(bad); i++)
		if (psp_amount_parse(bad[i], &a, err, sizeof(err)) != PS_EINVAL)
			fail_msg("amount \"%s\" was taken", bad[i]);
	assert_int_equal(psp_amount_parse("999999999999", &a, err, sizeof(err)), 0);
}

/* ---- accounts ------------------------------------------------------------------ */

/* banksim --generate N --prefix P --account-digits D numbers its accounts
 * the way pspsim generates them: the same strings, index by index. */
static void same_as_banksim(const char *prefix, uint32_t count, uint32_t digits)
{
	bank_accounts_t bank;
	char err[256];
	assert_int_equal(bank_accounts_generate(&bank, count, prefix, digits, 100, err,
						sizeof(err)), 0);
	psp_accounts_t acc;
	assert_int_equal(psp_accounts_generate(&acc, prefix, count, 0, digits, err,
					       sizeof(err)), 0);
	for (uint32_t i = 0; i < count; i++) {
		psp_account_no_t no;
		psp_account_format(&acc, i % 2 == 0, i, no);
		assert_string_equal(no, bank.list[i].number);
		assert_non_null(bank_accounts_find(&bank, no, strlen(no)));
	}
	bank_accounts_free(&bank);
}

static void test_accounts_match_banksim(void **state)
{
	(void)state;
	same_as_banksim("622202", 1000, 16);
	same_as_banksim("621700", 10, 16);
	same_as_banksim("95", 500, 19);
	same_as_banksim("6", 99, 4);
}

static void test_accounts_generated_draws(void **state)
{
	(void)state;
	psp_accounts_t acc;
	char err[256];
	assert_int_equal(psp_accounts_generate(&acc, "622202,621700,623000", 50, 5, 16,
					       err, sizeof(err)), 0);
	assert_int_equal(acc.banks, 3);
	sim_rng_t rng;
	sim_rng_seed(&rng, 3);
	for (int i = 0; i < 10000; i++) {
		uint32_t payer, payee;
		psp_accounts_draw(&acc, &rng, &payer, &payee);
		psp_account_no_t a, b;
		psp_account_format(&acc, false, payer, a);
		psp_account_format(&acc, true, payee, b);
		assert_int_equal(strlen(a), 16);
		/* Another bank; a merchant: one of its first 5 accounts. */
		assert_true(strncmp(a, b, 6) != 0);
		assert_true(payee % 50 < 5);
		assert_true(payer % 50 < 50);
	}
	/* One bank: payer and payee differ still. */
	assert_int_equal(psp_accounts_generate(&acc, "622202", 2, 0, 16, err, sizeof(err)), 0);
	for (int i = 0; i < 1000; i++) {
		uint32_t payer, payee;
		psp_accounts_draw(&acc, &rng, &payer, &payee);
		assert_int_not_equal(payer, payee);
	}
	/* What cannot be generated. */
	assert_int_equal(psp_accounts_generate(&acc, "62x", 10, 0, 16, err, sizeof(err)), PS_EINVAL);
	assert_int_equal(psp_accounts_generate(&acc, "622202", 1000, 0, 8, err, sizeof(err)),
			 PS_EINVAL); /* 2 digits left: 100 accounts */
	assert_non_null(strstr(err, "do not fit"));
	assert_int_equal(psp_accounts_generate(&acc, "", 10, 0, 16, err, sizeof(err)), PS_EINVAL);
	assert_int_equal(psp_accounts_generate(&acc, "622202", 1, 0, 16, err, sizeof(err)),
			 PS_EINVAL); /* one account cannot pay itself */
	assert_int_equal(psp_accounts_generate(&acc, "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17",
					       10, 0, 16, err, sizeof(err)), PS_EINVAL);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_accounts_from_files(void **state)
{
	(void)state;
	char lines[64], json[64], bad[64];
	snprintf(lines, sizeof(lines), "/tmp/pspsim-payers-%d.txt", (int)getpid());
	snprintf(json, sizeof(json), "/tmp/pspsim-payees-%d.json", (int)getpid());
	snprintf(bad, sizeof(bad), "/tmp/pspsim-bad-%d.txt", (int)getpid());
	write_file(lines, "# payers\n6222020000000001\n\n6222020000000002\r\n");
	write_file(json, "{\"accounts\": [{\"account\": \"6217000000000009\", \"balance\": 0},"
			 " {\"account\": \"6217000000000010\"}]}");
	write_file(bad, "6222020000000001\nnot-an-account\n");
	psp_accounts_t acc;
	char err[256];
	assert_int_equal(psp_accounts_load(&acc, lines, json, err, sizeof(err)), 0);
	assert_int_equal(acc.payers, 2);
	assert_int_equal(acc.payees, 2);
	psp_account_no_t no;
	psp_account_format(&acc, true, 1, no);
	assert_string_equal(no, "6217000000000010");
	psp_account_format(&acc, false, 1, no);
	assert_string_equal(no, "6222020000000002");
	psp_accounts_free(&acc);
	/* Payees from the payers' list: never the payer itself. */
	assert_int_equal(psp_accounts_load(&acc, lines, NULL, err, sizeof(err)), 0);
	sim_rng_t rng;
	sim_rng_seed(&rng, 1);
	for (int i = 0; i < 100; i++) {
		uint32_t a, b;
		psp_accounts_draw(&acc, &rng, &a, &b);
		assert_int_not_equal(a, b);
	}
	psp_accounts_free(&acc);
	assert_int_equal(psp_accounts_load(&acc, bad, NULL, err, sizeof(err)), PS_EINVAL);
	assert_non_null(strstr(err, "line 2"));
	assert_int_equal(psp_accounts_load(&acc, "/nonexistent/x", NULL, err, sizeof(err)),
			 PS_EINVAL);
	unlink(lines);
	unlink(json);
	unlink(bad);
}

/* ---- the plan -------------------------------------------------------------------- */

typedef struct world {
	psp_accounts_t acc;
	psp_plan_t plan;
} world_t;

static void world_init(world_t *w, const char *mix, uint32_t history, uint64_t seed)
{
	char err[256];
	assert_int_equal(psp_accounts_generate(&w->acc, "622202,621700", 100, 0, 16, err,
					       sizeof(err)), 0);
	psp_plan_cfg_t cfg = {.id_prefix = "T", .currency = "CNY", .history = history,
			      .refund_full_rate = 0.3, .seed = seed};
	assert_int_equal(psp_mix_parse(mix, &cfg.mix, err, sizeof(err)), 0);
	assert_int_equal(psp_amount_parse("1-1000", &cfg.amount, err, sizeof(err)), 0);
	assert_int_equal(psp_plan_init(&w->plan, &cfg, &w->acc, err, sizeof(err)), 0);
}

static void world_free(world_t *w)
{
	psp_plan_free(&w->plan);
	psp_accounts_free(&w->acc);
}

static txn_answer_t answer_of(const char *code, const char *txn)
{
	txn_answer_t a;
	memset(&a, 0, sizeof(a));
	ps_strlcpy(a.status, strcmp(code, "00") == 0 ? "approved" : "declined",
		   sizeof(a.status));
	ps_strlcpy(a.code, code, sizeof(a.code));
	ps_strlcpy(a.txn, txn, sizeof(a.txn));
	return a;
}

static void test_lines_are_what_the_switch_takes(void **state)
{
	(void)state;
	world_t w;
	world_init(&w, "pay=1,refund=1,query=1,duplicate=1,echo=1", 64, 5);
	char line[PSP_LINE_MAX];
	size_t len;
	int seen[PSP_OP_COUNT] = {0};
	for (int i = 0; i < 400; i++) {
		psp_req_t r;
		psp_plan_next(&w.plan, &r);
		assert_int_equal(psp_plan_format(&w.plan, &r, line, sizeof(line), &len), 0);
		assert_int_equal(line[len - 1], '\n');
		assert_int_equal(strlen(line), len);
		txn_t t;
		txn_error_t e;
		if (txn_from_json(line, len - 1, &t, &e) != 0)
			fail_msg("the switch refuses \"%s\": %s", line, e.reason);
		char id[80];
		snprintf(id, sizeof(id), "T-%llu", (unsigned long long)r.seq);
		assert_string_equal(t.request_id, id);
		uint64_t seq;
		assert_true(psp_plan_seq_of(&w.plan, id, &seq));
		assert_int_equal(seq, r.seq);
		seen[r.op]++;
		if (r.op == PSP_OP_PAY || r.op == PSP_OP_DUPLICATE) {
			assert_int_equal(t.kind, TXN_KIND_PAY);
			assert_int_equal(t.amount, r.amount);
			assert_int_equal(t.currency, 156);
			assert_string_not_equal(t.payer, t.payee);
		}
		if (r.op == PSP_OP_REFUND) {
			assert_int_equal(t.kind, TXN_KIND_REFUND);
			snprintf(id, sizeof(id), "T-%llu", (unsigned long long)r.pay_seq);
			assert_string_equal(t.original_id, id);
			assert_true(r.amount >= 1);
		}
		if (r.op == PSP_OP_QUERY)
			assert_int_equal(t.kind, TXN_KIND_QUERY);
		if (r.op == PSP_OP_PAY) {
			char txn[24];
			snprintf(txn, sizeof(txn), "%llu", (unsigned long long)r.seq);
			txn_answer_t a = answer_of("00", txn);
			psp_plan_answered(&w.plan, &r, &a);
		}
	}
	for (int op = 0; op < PSP_OP_COUNT; op++)
		assert_true(seen[op] > 0);
	/* Ids of nobody. */
	uint64_t seq;
	assert_false(psp_plan_seq_of(&w.plan, "T-0", &seq));
	assert_false(psp_plan_seq_of(&w.plan, "T-01", &seq));
	assert_false(psp_plan_seq_of(&w.plan, "T-99999", &seq)); /* not sent yet */
	assert_false(psp_plan_seq_of(&w.plan, "TT-1", &seq));
	assert_false(psp_plan_seq_of(&w.plan, "T1", &seq));
	assert_false(psp_plan_seq_of(&w.plan, "", &seq));
	world_free(&w);
}

static void test_duplicate_is_the_same_line(void **state)
{
	(void)state;
	world_t w;
	world_init(&w, "pay=1,duplicate=1000", 64, 9);
	psp_req_t pay, dup;
	psp_plan_next(&w.plan, &pay); /* nothing to repeat yet: a pay */
	assert_int_equal(pay.op, PSP_OP_PAY);
	char a[PSP_LINE_MAX], b[PSP_LINE_MAX];
	size_t alen, blen;
	psp_plan_format(&w.plan, &pay, a, sizeof(a), &alen);
	/* Not before the pay is answered: the answer to compare with. */
	psp_plan_next(&w.plan, &dup);
	if (dup.op == PSP_OP_DUPLICATE)
		fail_msg("a duplicate of a pay in flight");
	psp_plan_lost(&w.plan, &dup); /* the second pay never answered */
	txn_answer_t ok = answer_of("00", "777");
	psp_plan_answered(&w.plan, &pay, &ok);
	do
		psp_plan_next(&w.plan, &dup);
	while (dup.op != PSP_OP_DUPLICATE);
	assert_int_equal(dup.seq, pay.seq);
	psp_plan_format(&w.plan, &dup, b, sizeof(b), &blen);
	assert_string_equal(a, b);
	assert_true(dup.expect_done);
	assert_string_equal(dup.expect_txn, "777");
	/* One duplicate of it at a time: the next draws find none. */
	for (int i = 0; i < 50; i++) {
		psp_req_t r;
		psp_plan_next(&w.plan, &r);
		assert_false(r.op == PSP_OP_DUPLICATE && r.seq == pay.seq);
		psp_plan_lost(&w.plan, &r);
	}
	assert_int_equal(psp_plan_answered(&w.plan, &dup, &ok), PSP_VERDICT_OK);
	assert_int_equal(w.plan.stats.dup_matched, 1);
	/* Repeated again, answered with another txn: caught. */
	do
		psp_plan_next(&w.plan, &dup);
	while (dup.op != PSP_OP_DUPLICATE);
	txn_answer_t other = answer_of("00", "778");
	assert_int_equal(psp_plan_answered(&w.plan, &dup, &other), PSP_VERDICT_MISMATCH);
	assert_int_equal(w.plan.stats.dup_mismatched, 1);
	assert_true(psp_plan_sound(&w.plan));
	world_free(&w);
}

static void test_query_checks_the_answer(void **state)
{
	(void)state;
	world_t w;
	world_init(&w, "pay=1,query=1000000", 4, 11);
	psp_req_t pay, q;
	psp_plan_next(&w.plan, &pay);
	psp_plan_next(&w.plan, &q); /* the pay in flight: anything goes */
	assert_int_equal(q.op, PSP_OP_QUERY);
	assert_false(q.expect_done);
	txn_answer_t inflight = answer_of("00", "");
	ps_strlcpy(inflight.status, "ok", sizeof(inflight.status));
	ps_strlcpy(inflight.state, "unknown", sizeof(inflight.state));
	assert_int_equal(psp_plan_answered(&w.plan, &q, &inflight), PSP_VERDICT_OK);
	txn_answer_t declined = answer_of("51", "42");
	psp_plan_answered(&w.plan, &pay, &declined);
	psp_plan_next(&w.plan, &q);
	assert_true(q.expect_done);
	txn_answer_t done = inflight;
	ps_strlcpy(done.state, "done", sizeof(done.state));
	ps_strlcpy(done.target_code, "51", sizeof(done.target_code));
	assert_int_equal(psp_plan_answered(&w.plan, &q, &done), PSP_VERDICT_OK);
	ps_strlcpy(done.target_code, "00", sizeof(done.target_code));
	assert_int_equal(psp_plan_answered(&w.plan, &q, &done), PSP_VERDICT_MISMATCH);
	assert_int_equal(psp_plan_answered(&w.plan, &q, &inflight), PSP_VERDICT_MISMATCH);
	assert_int_equal(w.plan.stats.query_mismatched, 2);
	/* A declined pay is never refunded. */
	assert_int_equal(w.plan.refundable.count, 0);
	world_free(&w);
}

/*
 * The book under a storm: up to 200 requests in flight, answered in a
 * random order, pays approved 85% (else 51), refunds approved 80% (else
 * 05), 3% lost, a ring of 64 pays that forgets the oldest. After every
 * step the book holds (refunded + pending <= amount), and, counted
 * independently here, no refund ever left while the approved and the
 * unsettled ones (in flight or lost) would have exceeded its pay.
 */
#define STORM_INFLIGHT 200
#define STORM_STEPS 200000

typedef struct storm_pay {
	int64_t amount;
	int64_t out;      /* refunds sent, not refused: in flight, lost, approved */
	int64_t approved; /* the approved ones */
	char code[3];
	char txn[24];
	bool answered;
} storm_pay_t;

static void storm_answer(world_t *w, psp_req_t *r, storm_pay_t *pays, sim_rng_t *rng)
{
	storm_pay_t *p = &pays[r->pay_seq];
	txn_answer_t a;
	char txn[24];
	snprintf(txn, sizeof(txn), "%llu", (unsigned long long)r->seq);
	switch (r->op) {
	case PSP_OP_PAY:
		a = answer_of(sim_rng_chance(rng, 0.85) ? "00" : "51", txn);
		ps_strlcpy(p->code, a.code, sizeof(p->code));
		ps_strlcpy(p->txn, a.txn, sizeof(p->txn));
		p->answered = true;
		break;
	case PSP_OP_REFUND:
		/* The switch's rule: never beyond what is left of the pay. */
		assert_true(p->approved + r->amount <= p->amount);
		a = answer_of(sim_rng_chance(rng, 0.8) ? "00" : "05", txn);
		if (strcmp(a.code, "00") == 0)
			p->approved += r->amount;
		else
			p->out -= r->amount; /* refused: it may be asked again */
		break;
	case PSP_OP_DUPLICATE:
		assert_true(p->answered); /* only answered pays are repeated */
		a = answer_of(p->code, p->txn);
		break;
	default:
		a = answer_of("00", "");
		ps_strlcpy(a.status, "ok", sizeof(a.status));
		ps_strlcpy(a.state, p->answered ? "done" : "in_flight", sizeof(a.state));
		ps_strlcpy(a.target_code, p->code, sizeof(a.target_code));
		break;
	}
	assert_int_equal(psp_plan_answered(&w->plan, r, &a), PSP_VERDICT_OK);
}

static void test_refunds_never_exceed_the_pay(void **state)
{
	(void)state;
	world_t w;
	world_init(&w, "pay=35,refund=45,query=10,duplicate=10", 64, 2024);
	storm_pay_t *pays = calloc(STORM_STEPS + 2, sizeof(*pays));
	psp_req_t *out = calloc(STORM_INFLIGHT, sizeof(*out));
	assert_non_null(pays);
	assert_non_null(out);
	sim_rng_t rng;
	sim_rng_seed(&rng, 99);
	uint32_t n = 0, sent = 0;
	for (int step = 0; step < STORM_STEPS; step++) {
		bool send = n == 0 || (n < STORM_INFLIGHT && sim_rng_chance(&rng, 0.5));
		if (send) {
			psp_req_t *r = &out[n++];
			psp_plan_next(&w.plan, r);
			sent++;
			if (r->op == PSP_OP_PAY)
				pays[r->seq].amount = r->amount;
			if (r->op == PSP_OP_REFUND) {
				storm_pay_t *p = &pays[r->pay_seq];
				p->out += r->amount;
				assert_true(p->answered && strcmp(p->code, "00") == 0);
				if (p->out > p->amount)
					fail_msg("pay %llu of %lld: %lld of refunds out",
						 (unsigned long long)r->pay_seq,
						 (long long)p->amount, (long long)p->out);
			}
			continue;
		}
		uint32_t i = (uint32_t)(sim_rng_next(&rng) % n);
		psp_req_t r = out[i];
		out[i] = out[--n];
		if (sim_rng_chance(&rng, 0.03))
			psp_plan_lost(&w.plan, &r);
		else
			storm_answer(&w, &r, pays, &rng);
		if (step % 64 == 0)
			assert_true(psp_plan_sound(&w.plan));
	}
	assert_true(psp_plan_sound(&w.plan));
	const psp_plan_stats_t *s = &w.plan.stats;
	for (uint64_t seq = 1; seq < w.plan.next_seq; seq++)
		assert_true(pays[seq].approved <= pays[seq].amount);
	/* Every kind happened, and often. */
	assert_true(s->sent[PSP_OP_REFUND] > 10000);
	assert_true(s->refunds_full > 1000 && s->refunds_partial > 1000);
	assert_true(s->refunds_approved > 1000);
	assert_true(s->dup_matched > 1000);
	assert_true(s->query_done > 1000);
	assert_int_equal(s->dup_mismatched, 0);
	assert_int_equal(s->query_mismatched, 0);
	uint64_t total = 0;
	for (int op = 0; op < PSP_OP_COUNT; op++)
		total += s->sent[op];
	assert_int_equal(total, sent);
	free(pays);
	free(out);
	world_free(&w);
}

static void test_plan_refuses_bad_settings(void **state)
{
	(void)state;
	psp_accounts_t acc;
	char err[256];
	assert_int_equal(psp_accounts_generate(&acc, "622202,621700", 10, 0, 16, err,
					       sizeof(err)), 0);
	psp_plan_cfg_t cfg = {.id_prefix = "bad id", .currency = "CNY", .history = 8};
	psp_mix_parse("pay=1", &cfg.mix, err, sizeof(err));
	psp_amount_parse("1", &cfg.amount, err, sizeof(err));
	psp_plan_t plan;
	assert_int_equal(psp_plan_init(&plan, &cfg, &acc, err, sizeof(err)), PS_EINVAL);
	cfg.id_prefix = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"; /* 41 */
	assert_int_equal(psp_plan_init(&plan, &cfg, &acc, err, sizeof(err)), PS_EINVAL);
	cfg.id_prefix = "ok";
	cfg.currency = "XXX";
	assert_int_equal(psp_plan_init(&plan, &cfg, &acc, err, sizeof(err)), PS_EINVAL);
	cfg.currency = "JPY";
	assert_int_equal(psp_plan_init(&plan, &cfg, &acc, err, sizeof(err)), 0);
	psp_plan_free(&plan);
	psp_accounts_free(&acc);
}

/* ---- the request-number map ------------------------------------------------------- */

static void test_idmap(void **state)
{
	(void)state;
	psp_idmap_t m;
	assert_int_equal(psp_idmap_init(&m, 1000), 0);
	enum { KEYS = 5000 };
	static uint32_t ref[KEYS + 1]; /* 0: absent, else value + 1 */
	memset(ref, 0, sizeof(ref));
	sim_rng_t rng;
	sim_rng_seed(&rng, 5);
	for (int i = 0; i < 200000; i++) {
		uint64_t k = 1 + sim_rng_next(&rng) % KEYS;
		uint32_t v;
		if (sim_rng_chance(&rng, 0.5)) {
			bool full = m.count >= m.max;
			int rc = psp_idmap_put(&m, k, (uint32_t)i);
			if (ref[k] != 0)
				assert_int_equal(rc, PS_EEXIST);
			else if (full)
				assert_int_equal(rc, PS_ELIMIT);
			else if (rc == 0)
				ref[k] = (uint32_t)i + 1;
			else
				fail_msg("put %llu: %d", (unsigned long long)k, rc);
		} else {
			assert_int_equal(psp_idmap_del(&m, k), ref[k] != 0);
			ref[k] = 0;
		}
		uint64_t probe = 1 + sim_rng_next(&rng) % KEYS;
		bool there = psp_idmap_get(&m, probe, &v);
		assert_int_equal(there, ref[probe] != 0);
		if (there)
			assert_int_equal(v + 1, ref[probe]);
	}
	uint32_t count = 0;
	for (int k = 1; k <= KEYS; k++)
		count += ref[k] != 0;
	assert_int_equal(count, m.count);
	assert_false(psp_idmap_get(&m, 0, NULL));
	psp_idmap_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mix_parse),
		cmocka_unit_test(test_mix_draws_follow_the_weights),
		cmocka_unit_test(test_amounts),
		cmocka_unit_test(test_accounts_match_banksim),
		cmocka_unit_test(test_accounts_generated_draws),
		cmocka_unit_test(test_accounts_from_files),
		cmocka_unit_test(test_lines_are_what_the_switch_takes),
		cmocka_unit_test(test_duplicate_is_the_same_line),
		cmocka_unit_test(test_query_checks_the_answer),
		cmocka_unit_test(test_refunds_never_exceed_the_pay),
		cmocka_unit_test(test_plan_refuses_bad_settings),
		cmocka_unit_test(test_idmap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
