/*
 * test_property.c: thousands of random operations against a small book,
 * checked against a model kept by the test.
 *
 * Each round submits a random batch (plain transfers, authorisations with
 * and without timeouts, posts, voids, retries of earlier ids, linked
 * chains, invalid events), applies every OK result to the model, checks
 * that each rejection of an unlinked event is justified by the model, then
 * runs ledger_check and compares every balance with the model. The clock
 * moves, pendings expire, accounts close and reopen, and the ledger is
 * reopened now and then. A failure prints its seed; set
 * LEDGER_PROPERTY_SEED to replay it and LEDGER_PROPERTY_ROUNDS for more.
 */
#include "core.h"
#include "ledger_test.h"

#define ACCOUNTS 24
#define PENDINGS_MAX 4096
#define SUBMITTED_MAX 16384
#define NS 1000000000ull

struct model_account {
	uint64_t dp, dpo, cp, cpo; /* debits pending/posted, credits ... */
	uint16_t flags;
	uint32_t ledger;
	bool closed;
};

struct model_pending {
	uint64_t id, dr, cr, amount, expires_at;
	uint32_t state;
};

static struct model_account model[ACCOUNTS + 1];
static struct model_pending pend[PENDINGS_MAX];
static uint32_t pend_count;
static ledger_transfer_t submitted[SUBMITTED_MAX]; /* for retries */
static bool submitted_ok[SUBMITTED_MAX];
static uint32_t submitted_count;
static uint64_t next_id = 1000;
static uint64_t seed_used;
static uint64_t rng_state;

static uint64_t rng(void)
{
	return ps_xorshift64s(&rng_state);
}

static uint64_t pick(uint64_t n)
{
	return rng() % n;
}

static struct model_pending *find_pending(uint64_t id)
{
	for (uint32_t i = 0; i < pend_count; i++)
		if (pend[i].id == id)
			return &pend[i];
	return NULL;
}

static uint64_t random_amount(void)
{
	switch (pick(20)) {
	case 0: return 0;
	case 1: return LEDGER_AMOUNT_MAX - pick(3);
	case 2: return 5000 + pick(100000);
	default: return 1 + pick(500);
	}
}

static uint64_t random_account(void)
{
	return pick(30) == 0 ? 99 : 1 + pick(ACCOUNTS); /* 99 never exists */
}

static ledger_transfer_t random_event(const struct fixture *f)
{
	ledger_transfer_t t;
	uint64_t kind = pick(100);
	if (kind < 8 && submitted_count > 0) {
		t = submitted[pick(submitted_count)]; /* a retry */
		return t;
	}
	if (kind < 30 && pend_count > 0) {
		struct model_pending *p = &pend[pick(pend_count)];
		bool post = pick(2) == 0;
		uint64_t amount = 0;
		if (pick(3) == 0)
			amount = pick(p->amount + 2);
		t = make_resolve(next_id++, p->id,
				 post ? LEDGER_TRANSFER_POST_PENDING
				      : LEDGER_TRANSFER_VOID_PENDING,
				 amount);
		if (pick(10) == 0)
			t.debit_account_id = ledger_id_from_u64(p->dr);
		if (pick(40) == 0)
			t.pending_id = ledger_id_from_u64(next_id + 5000);
	} else {
		uint64_t dr = random_account(), cr = random_account();
		t = make_transfer(next_id++, dr, cr, random_amount());
		t.ledger = dr <= ACCOUNTS ? model[dr].ledger : TEST_LEDGER;
		if (pick(3) == 0) {
			t.flags = LEDGER_TRANSFER_PENDING;
			if (pick(2) == 0)
				t.timeout_seconds = 1 + (uint32_t)pick(20);
		}
	}
	if (pick(50) == 0)
		t.code = 0;
	if (pick(6) == 0)
		t.flags |= LEDGER_TRANSFER_LINKED;
	(void)f;
	return t;
}

/* What an OK transfer does to the model. */
static void model_apply(const ledger_transfer_t *t, uint64_t ts)
{
	uint64_t dr = t->debit_account_id.lo, cr = t->credit_account_id.lo;
	if (t->flags & LEDGER_TRANSFER_PENDING) {
		model[dr].dp += t->amount;
		model[cr].cp += t->amount;
		assert_true(pend_count < PENDINGS_MAX);
		struct model_pending *p = &pend[pend_count++];
		*p = (struct model_pending){t->id.lo, dr, cr, t->amount, 0,
					    LEDGER_PENDING_PENDING};
		if (t->timeout_seconds)
			p->expires_at = ts + t->timeout_seconds * NS;
	} else if (t->flags & (LEDGER_TRANSFER_POST_PENDING |
			       LEDGER_TRANSFER_VOID_PENDING)) {
		struct model_pending *p = find_pending(t->pending_id.lo);
		assert_non_null(p);
		assert_int_equal(p->state, LEDGER_PENDING_PENDING);
		model[p->dr].dp -= p->amount;
		model[p->cr].cp -= p->amount;
		if (t->flags & LEDGER_TRANSFER_POST_PENDING) {
			uint64_t a = t->amount ? t->amount : p->amount;
			assert_true(a <= p->amount);
			model[p->dr].dpo += a;
			model[p->cr].cpo += a;
			p->state = LEDGER_PENDING_POSTED;
		} else {
			p->state = LEDGER_PENDING_VOIDED;
		}
	} else {
		model[dr].dpo += t->amount;
		model[cr].cpo += t->amount;
	}
}

/* A rejection of an unlinked event must be what the model predicts. */
static void model_justify(const struct fixture *f, const ledger_transfer_t *t,
			  uint32_t result)
{
	uint64_t dr = t->debit_account_id.lo, cr = t->credit_account_id.lo;
	const struct model_account *d = &model[dr <= ACCOUNTS ? dr : 0];
	const struct model_account *c = &model[cr <= ACCOUNTS ? cr : 0];
	struct model_pending *p = find_pending(t->pending_id.lo);
	switch (result) {
	case LEDGER_TRANSFER_EXCEEDS_CREDITS:
		assert_true(d->flags & LEDGER_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS);
		assert_true(d->dp + d->dpo + t->amount > d->cpo);
		break;
	case LEDGER_TRANSFER_EXCEEDS_DEBITS:
		assert_true(c->flags & LEDGER_ACCOUNT_CREDITS_MUST_NOT_EXCEED_DEBITS);
		assert_true(c->cp + c->cpo + t->amount > c->dpo);
		break;
	case LEDGER_TRANSFER_DEBIT_ACCOUNT_NOT_FOUND:
		assert_true(dr == 99);
		break;
	case LEDGER_TRANSFER_DEBIT_ACCOUNT_CLOSED:
		assert_true(p ? model[p->dr].closed : d->closed);
		break;
	case LEDGER_TRANSFER_CREDIT_ACCOUNT_CLOSED:
		assert_true(p ? model[p->cr].closed : c->closed);
		break;
	case LEDGER_TRANSFER_PENDING_TRANSFER_ALREADY_POSTED:
		assert_int_equal(p->state, LEDGER_PENDING_POSTED);
		break;
	case LEDGER_TRANSFER_PENDING_TRANSFER_ALREADY_VOIDED:
		assert_int_equal(p->state, LEDGER_PENDING_VOIDED);
		break;
	case LEDGER_TRANSFER_PENDING_TRANSFER_EXPIRED:
		assert_true(p->state == LEDGER_PENDING_EXPIRED ||
			    (p->expires_at && f->now_ns >= p->expires_at));
		break;
	case LEDGER_TRANSFER_PENDING_TRANSFER_NOT_FOUND:
		assert_null(p);
		break;
	default:
		break;
	}
}

static void compare_balances(struct fixture *f)
{
	for (uint64_t i = 1; i <= ACCOUNTS; i++) {
		ledger_account_t a = get_account(f, i);
		if (a.debits_pending != model[i].dp ||
		    a.debits_posted != model[i].dpo ||
		    a.credits_pending != model[i].cp ||
		    a.credits_posted != model[i].cpo)
			fail_msg("seed 0x%llx: account %llu differs from the "
				 "model", (unsigned long long)seed_used,
				 (unsigned long long)i);
	}
}

static void expire(struct fixture *f)
{
	uint32_t expected = 0, expired;
	for (uint32_t i = 0; i < pend_count; i++) {
		struct model_pending *p = &pend[i];
		if (p->state == LEDGER_PENDING_PENDING && p->expires_at &&
		    f->now_ns >= p->expires_at) {
			p->state = LEDGER_PENDING_EXPIRED;
			model[p->dr].dp -= p->amount;
			model[p->cr].cp -= p->amount;
			expected++;
		}
	}
	assert_true(expected < LEDGER_BATCH_MAX);
	assert_int_equal(ledger_expire_pending(f->l, LEDGER_BATCH_MAX,
					       &expired),
			 0);
	assert_int_equal(expired, expected);
}

static void round_once(struct fixture *f)
{
	static ledger_transfer_t t[256];
	static ledger_result_t r[256];
	uint32_t n = 1 + (uint32_t)pick(pick(4) == 0 ? 256 : 40);
	for (uint32_t i = 0; i < n; i++)
		t[i] = random_event(f);
	assert_int_equal(ledger_create_transfers(f->l, t, n, r), 0);
	bool in_chain = false;
	for (uint32_t i = 0; i < n; i++) {
		bool linked = t[i].flags & LEDGER_TRANSFER_LINKED;
		bool chained = in_chain || linked;
		if (r[i].result == LEDGER_TRANSFER_OK) {
			model_apply(&t[i], r[i].timestamp);
			/* A stored post or void holds the filled-in values,
			 * so keep the stored form for retries. */
			assert_true(submitted_count < SUBMITTED_MAX);
			submitted_ok[submitted_count] = true;
			submitted[submitted_count++] = t[i];
		} else if (!chained) {
			model_justify(f, &t[i], r[i].result);
		}
		if (r[i].result == LEDGER_TRANSFER_EXISTS)
			assert_true(r[i].timestamp != 0);
		in_chain = linked;
	}
}

static void test_random_operations(void **state)
{
	struct fixture *f = *state;
	const char *env = getenv("LEDGER_PROPERTY_SEED");
	seed_used = env ? strtoull(env, NULL, 0) : 0x1edfe11e5eedull;
	rng_state = seed_used * 0x9e3779b97f4a7c15ull + 1;
	const char *rounds_env = getenv("LEDGER_PROPERTY_ROUNDS");
	uint32_t rounds = rounds_env ? (uint32_t)atoi(rounds_env) : 250;
	print_message("seed 0x%llx, %u rounds\n", (unsigned long long)seed_used,
		      rounds);

	ledger_account_t a[ACCOUNTS];
	ledger_result_t r[ACCOUNTS];
	for (uint64_t i = 1; i <= ACCOUNTS; i++) {
		uint16_t flags = 0;
		if (i % 3 == 1)
			flags = LEDGER_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS;
		else if (i % 7 == 0)
			flags = LEDGER_ACCOUNT_CREDITS_MUST_NOT_EXCEED_DEBITS;
		a[i - 1] = make_account(i, flags);
		a[i - 1].ledger = i % 11 == 0 ? 840 : TEST_LEDGER;
		model[i].flags = flags;
		model[i].ledger = a[i - 1].ledger;
	}
	assert_int_equal(ledger_create_accounts(f->l, a, ACCOUNTS, r), 0);
	uint64_t total = 0;
	for (uint32_t round = 0; round < rounds; round++) {
		round_once(f);
		total++;
		if (pick(8) == 0)
			f->now_ns += pick(6) * NS;
		if (pick(10) == 0)
			expire(f);
		if (pick(15) == 0) {
			uint64_t id = 1 + pick(ACCOUNTS);
			uint32_t result;
			model[id].closed = !model[id].closed;
			assert_int_equal(ledger_account_set_closed(
						 f->l, ledger_id_from_u64(id),
						 model[id].closed, &result),
					 0);
		}
		if (pick(40) == 0)
			fixture_reopen(f);
		ledger_check_report_t report;
		assert_int_equal(ledger_check(f->l, &report), 0);
		if (!report.ok)
			fail_msg("seed 0x%llx round %u: %s",
				 (unsigned long long)seed_used, round,
				 report.first_problem);
		compare_balances(f);
	}
	/* Every accepted id is in the book, with its amount. */
	for (uint32_t i = 0; i < submitted_count; i++) {
		ledger_transfer_t got;
		assert_int_equal(ledger_transfer_get(f->l, submitted[i].id, &got),
				 0);
		if (!(submitted[i].flags & LEDGER_TRANSFER_POST_PENDING))
			assert_int_equal(got.amount,
					 submitted[i].amount ? submitted[i].amount
							     : got.amount);
	}
	print_message("%u accepted transfers, %u pendings\n", submitted_count,
		      pend_count);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_random_operations,
						fixture_setup, fixture_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
