/*
 * test_shared.c: a ledger inside the caller's LMDB environment, its batch
 * in the caller's write transaction: committed together with the caller's
 * own record, or aborted together with it.
 */
#include "ledger_test.h"

#include <lmdb.h>

struct shared {
	char dir[512];
	MDB_env *env;
	MDB_dbi inflight;
	ledger_t *l;
};

static int shared_setup(void **state)
{
	struct shared *s = calloc(1, sizeof(*s));
	assert_non_null(s);
	fixture_tmpdir(s->dir, sizeof(s->dir), "ledger-shared");
	assert_int_equal(mdb_env_create(&s->env), 0);
	mdb_env_set_maxdbs(s->env, 16);
	mdb_env_set_mapsize(s->env, 64 << 20);
	assert_int_equal(mdb_env_open(s->env, s->dir, MDB_NOTLS | MDB_NOSYNC,
				      0600),
			 0);
	MDB_txn *txn;
	assert_int_equal(mdb_txn_begin(s->env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "switch.inflight", MDB_CREATE,
				      &s->inflight),
			 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	assert_int_equal(ledger_open_env(&s->l, s->env, NULL), 0);
	ledger_account_t a[2] = {make_account(1, 0), make_account(2, 0)};
	ledger_result_t r[2];
	assert_int_equal(ledger_create_accounts(s->l, a, 2, r), 0);
	*state = s;
	return 0;
}

static int shared_teardown(void **state)
{
	struct shared *s = *state;
	ledger_close(s->l);
	mdb_env_close(s->env); /* after the ledger: the env is ours */
	fixture_rmdir(s->dir);
	free(s);
	return 0;
}

/* The caller's record and a ledger batch in one transaction. */
static void step(struct shared *s, uint64_t id, bool commit)
{
	MDB_txn *txn;
	assert_int_equal(mdb_txn_begin(s->env, NULL, 0, &txn), 0);
	char key[16];
	snprintf(key, sizeof(key), "txn-%llu", (unsigned long long)id);
	MDB_val k = {strlen(key), key}, v = {8, "approved"};
	assert_int_equal(mdb_put(txn, s->inflight, &k, &v, 0), 0);
	ledger_transfer_t t = make_transfer(id, 1, 2, 100);
	ledger_result_t r;
	assert_int_equal(ledger_create_transfers_txn(s->l, txn, &t, 1, &r), 0);
	assert_int_equal(r.result, LEDGER_TRANSFER_OK);
	if (commit)
		assert_int_equal(mdb_txn_commit(txn), 0);
	else
		mdb_txn_abort(txn);
}

static void test_commit_and_abort_together(void **state)
{
	struct shared *s = *state;
	step(s, 10, true);
	step(s, 11, false);
	ledger_transfer_t t;
	assert_int_equal(ledger_transfer_get(s->l, ledger_id_from_u64(10), &t),
			 0);
	assert_int_equal(ledger_transfer_get(s->l, ledger_id_from_u64(11), &t),
			 PS_ENOTFOUND);
	ledger_account_t a;
	assert_int_equal(ledger_account_get(s->l, ledger_id_from_u64(2), &a),
			 0);
	assert_int_equal(a.credits_posted, 100);
	/* The aborted id is free again, and the ledger still sound. */
	step(s, 11, true);
	ledger_check_report_t report;
	assert_int_equal(ledger_check(s->l, &report), 0);
	assert_true(report.ok);
	assert_int_equal(report.transfers, 2);
	/* Accounts too, inside the caller's transaction. */
	MDB_txn *txn;
	assert_int_equal(mdb_txn_begin(s->env, NULL, 0, &txn), 0);
	ledger_account_t n = make_account(3, 0);
	ledger_result_t r;
	assert_int_equal(ledger_create_accounts_txn(s->l, txn, &n, 1, &r), 0);
	assert_int_equal(r.result, LEDGER_ACCOUNT_OK);
	assert_int_equal(mdb_txn_commit(txn), 0);
	assert_int_equal(ledger_account_get(s->l, ledger_id_from_u64(3), &a), 0);
}

static void test_misuse(void **state)
{
	struct shared *s = *state;
	ledger_t *other;
	/* An environment without MDB_NOTLS is refused. */
	MDB_env *env;
	char dir[512];
	fixture_tmpdir(dir, sizeof(dir), "ledger-shared-tls");
	assert_int_equal(mdb_env_create(&env), 0);
	mdb_env_set_maxdbs(env, 8);
	assert_int_equal(mdb_env_open(env, dir, 0, 0600), 0);
	assert_int_equal(ledger_open_env(&other, env, NULL), PS_EINVAL);
	mdb_env_close(env);
	fixture_rmdir(dir);
	/* A *_txn call on a ledger that owns its environment is refused. */
	struct fixture *f = fixture_new(16);
	MDB_txn *txn;
	assert_int_equal(mdb_txn_begin(s->env, NULL, 0, &txn), 0);
	ledger_transfer_t t = make_transfer(1, 1, 2, 1);
	ledger_result_t r;
	assert_int_equal(ledger_create_transfers_txn(f->l, txn, &t, 1, &r),
			 PS_EINVAL);
	mdb_txn_abort(txn);
	fixture_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_commit_and_abort_together,
						shared_setup, shared_teardown),
		cmocka_unit_test_setup_teardown(test_misuse, shared_setup,
						shared_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
