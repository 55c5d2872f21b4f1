/*
 * ledger_test.h: fixtures shared by the ledger suites: a ledger in a fresh
 * temporary directory with a fake clock, account and transfer builders,
 * and a check that the whole book is sound.
 */
#ifndef PAYSWITCH_LEDGER_TEST_H
#define PAYSWITCH_LEDGER_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ledger.h"

#define TEST_EPOCH_NS 1700000000000000000ull
#define TEST_LEDGER 156 /* CNY */

struct fixture {
	char dir[512];
	ledger_t *l;
	uint64_t now_ns;
	ledger_options_t options;
};

static inline uint64_t fixture_clock(void *context)
{
	return *(uint64_t *)context;
}

static inline void fixture_tmpdir(char *out, size_t cap, const char *name)
{
	const char *base = getenv("TMPDIR");
	if (base == NULL || base[0] == '\0')
		base = "/tmp";
	snprintf(out, cap, "%s/%s-XXXXXX", base, name);
	assert_non_null(mkdtemp(out));
}

static inline int fixture_rm_entry(const char *path, const struct stat *st,
				   int type, struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	return remove(path);
}

static inline void fixture_rmdir(const char *dir)
{
	nftw(dir, fixture_rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

/* Opens (or reopens) the fixture's ledger with its options. */
static inline void fixture_reopen(struct fixture *f)
{
	if (f->l != NULL)
		ledger_close(f->l);
	f->l = NULL;
	assert_int_equal(ledger_open(&f->l, f->dir, &f->options), 0);
}

static inline struct fixture *fixture_new(uint32_t batch_max)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	fixture_tmpdir(f->dir, sizeof(f->dir), "ledger-test");
	f->now_ns = TEST_EPOCH_NS;
	ledger_options_init(&f->options);
	/* Tests check logic, not the disk: no fsync, a small map that must
	 * grow. */
	f->options.durability = LEDGER_DURABILITY_NOSYNC;
	f->options.batch_max = batch_max;
	f->options.map_bytes = 1 << 20;
	f->options.clock_ns = fixture_clock;
	f->options.clock_context = &f->now_ns;
	fixture_reopen(f);
	return f;
}

static inline void fixture_free(struct fixture *f)
{
	ledger_close(f->l);
	fixture_rmdir(f->dir);
	free(f);
}

static inline int fixture_setup(void **state)
{
	*state = fixture_new(LEDGER_BATCH_MAX);
	return 0;
}

static inline int fixture_teardown(void **state)
{
	fixture_free(*state);
	return 0;
}

static inline ledger_account_t make_account(uint64_t id, uint16_t flags)
{
	ledger_account_t a;
	memset(&a, 0, sizeof(a));
	a.id = ledger_id_from_u64(id);
	a.ledger = TEST_LEDGER;
	a.code = 10;
	a.flags = flags;
	return a;
}

static inline ledger_transfer_t make_transfer(uint64_t id, uint64_t debit,
					      uint64_t credit, uint64_t amount)
{
	ledger_transfer_t t;
	memset(&t, 0, sizeof(t));
	t.id = ledger_id_from_u64(id);
	t.debit_account_id = ledger_id_from_u64(debit);
	t.credit_account_id = ledger_id_from_u64(credit);
	t.amount = amount;
	t.ledger = TEST_LEDGER;
	t.code = 1;
	return t;
}

static inline ledger_transfer_t make_resolve(uint64_t id, uint64_t pending,
					     uint16_t flag, uint64_t amount)
{
	ledger_transfer_t t;
	memset(&t, 0, sizeof(t));
	t.id = ledger_id_from_u64(id);
	t.pending_id = ledger_id_from_u64(pending);
	t.flags = flag;
	t.amount = amount;
	return t;
}

static inline uint32_t create_account(struct fixture *f, ledger_account_t a)
{
	ledger_result_t r;
	assert_int_equal(ledger_create_accounts(f->l, &a, 1, &r), 0);
	return r.result;
}

static inline uint32_t create_transfer(struct fixture *f, ledger_transfer_t t)
{
	ledger_result_t r;
	assert_int_equal(ledger_create_transfers(f->l, &t, 1, &r), 0);
	return r.result;
}

#define assert_transfer_result(f, t, want)                                     \
	do {                                                                   \
		uint32_t got_ = create_transfer((f), (t));                     \
		if (got_ != (uint32_t)(want))                                  \
			fail_msg("transfer result %s, want %s",                \
				 ledger_transfer_result_name(got_),            \
				 ledger_transfer_result_name(want));           \
	} while (0)

static inline ledger_account_t get_account(struct fixture *f, uint64_t id)
{
	ledger_account_t a;
	assert_int_equal(ledger_account_get(f->l, ledger_id_from_u64(id), &a),
			 0);
	return a;
}

static inline void assert_book_sound(struct fixture *f)
{
	ledger_check_report_t report;
	assert_int_equal(ledger_check(f->l, &report), 0);
	if (!report.ok)
		fail_msg("ledger_check: %u problems, first: %s",
			 report.problems, report.first_problem);
}

#endif /* PAYSWITCH_LEDGER_TEST_H */
