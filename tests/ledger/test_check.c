/*
 * test_check.c: ledger_check finds a broken book. Each test builds a sound
 * book, then breaks one thing behind the ledger's back through LMDB (a
 * balance, an index entry, a pending state, a history link) and expects
 * the check to name it (and the reads to refuse a half-stored account).
 */
#include "ledger_test.h"

#include "ledger_int.h"

static void build_book(struct fixture *f)
{
	ledger_account_t a[3] = {
		make_account(1, 0),
		make_account(2, LEDGER_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS),
		make_account(3, 0)};
	ledger_result_t r[4];
	assert_int_equal(ledger_create_accounts(f->l, a, 3, r), 0);
	ledger_transfer_t t[4] = {make_transfer(10, 1, 2, 1000),
				  make_transfer(11, 2, 3, 300),
				  make_transfer(12, 2, 3, 200),
				  make_resolve(13, 12,
					       LEDGER_TRANSFER_POST_PENDING, 0)};
	t[2].flags = LEDGER_TRANSFER_PENDING;
	t[2].timeout_seconds = 100;
	assert_int_equal(ledger_create_transfers(f->l, t, 3, r), 0);
	ledger_transfer_t p = make_transfer(14, 2, 3, 50);
	p.flags = LEDGER_TRANSFER_PENDING;
	p.timeout_seconds = 100;
	assert_transfer_result(f, p, LEDGER_TRANSFER_OK);
	assert_transfer_result(f, t[3], LEDGER_TRANSFER_OK);
	assert_book_sound(f);
	ledger_check_report_t report;
	assert_int_equal(ledger_check(f->l, &report), 0);
	assert_int_equal(report.accounts, 3);
	assert_int_equal(report.transfers, 5);
	assert_int_equal(report.pending_open, 1);
	assert_int_equal(report.ledgers, 1);
}

static MDB_dbi open_db(MDB_txn *t, const char *name)
{
	MDB_dbi dbi;
	assert_int_equal(mdb_dbi_open(t, name, 0, &dbi), 0);
	return dbi;
}

/* Opens the book's LMDB environment raw, runs fn in a write transaction. */
static void tamper(struct fixture *f,
		   void (*fn)(MDB_txn *txn, MDB_dbi (*open)(MDB_txn *, const char *)))
{
	ledger_close(f->l);
	f->l = NULL;
	MDB_env *env;
	assert_int_equal(mdb_env_create(&env), 0);
	mdb_env_set_maxdbs(env, 8);
	mdb_env_set_mapsize(env, 1 << 24);
	assert_int_equal(mdb_env_open(env, f->dir, 0, 0600), 0);
	MDB_txn *txn;
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	fn(txn, open_db);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
	fixture_reopen(f);
}

static void expect_problem(struct fixture *f, const char *words)
{
	ledger_check_report_t report;
	assert_int_equal(ledger_check(f->l, &report), 0);
	assert_false(report.ok);
	assert_true(report.problems > 0);
	if (strstr(report.first_problem, words) == NULL)
		fail_msg("first problem \"%s\" lacks \"%s\"",
			 report.first_problem, words);
}

static void account_key(uint8_t key[16], uint64_t id)
{
	key_put_id(key, ledger_id_from_u64(id));
}

static void add_one_credit(MDB_txn *txn,
			   MDB_dbi (*open)(MDB_txn *, const char *))
{
	MDB_dbi dbi = open(txn, "ledger.accounts");
	uint8_t key[16];
	account_key(key, 3);
	MDB_val k = {16, key}, v;
	assert_int_equal(mdb_get(txn, dbi, &k, &v), 0);
	struct account_hot rec;
	assert_int_equal(v.mv_size, sizeof(rec));
	memcpy(&rec, v.mv_data, sizeof(rec));
	rec.credits_posted += 1; /* money from nowhere */
	v.mv_data = &rec;
	assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
}

static void test_created_money(void **state)
{
	struct fixture *f = *state;
	build_book(f);
	tamper(f, add_one_credit);
	expect_problem(f, "account 3 balances differ from the replay");
	ledger_check_report_t report;
	assert_int_equal(ledger_check(f->l, &report), 0);
	assert_true(report.problems >= 2); /* and the ledger's sums differ */
}

static void drop_index_entry(MDB_txn *txn,
			     MDB_dbi (*open)(MDB_txn *, const char *))
{
	MDB_dbi dbi = open(txn, "ledger.transfer_ids");
	uint8_t key[16];
	account_key(key, 11);
	MDB_val k = {16, key};
	assert_int_equal(mdb_del(txn, dbi, &k, NULL), 0);
}

static void test_lost_index_entry(void **state)
{
	struct fixture *f = *state;
	build_book(f);
	tamper(f, drop_index_entry);
	expect_problem(f, "missing from the id index");
}

static void forge_void(MDB_txn *txn, MDB_dbi (*open)(MDB_txn *, const char *))
{
	/* Mark the posted pending as voided, as if a void had happened. */
	MDB_dbi pending = open(txn, "ledger.pending");
	MDB_cursor *cur;
	assert_int_equal(mdb_cursor_open(txn, pending, &cur), 0);
	MDB_val k, v;
	assert_int_equal(mdb_cursor_get(cur, &k, &v, MDB_FIRST), 0);
	struct pending_record rec;
	memcpy(&rec, v.mv_data, sizeof(rec));
	assert_int_equal(rec.state, LEDGER_PENDING_POSTED);
	rec.state = LEDGER_PENDING_VOIDED;
	v.mv_data = &rec;
	assert_int_equal(mdb_cursor_put(cur, &k, &v, MDB_CURRENT), 0);
	mdb_cursor_close(cur);
}

static void test_forged_pending_state(void **state)
{
	struct fixture *f = *state;
	build_book(f);
	tamper(f, forge_void);
	expect_problem(f, "disagrees with its post");
}

static void break_history(MDB_txn *txn, MDB_dbi (*open)(MDB_txn *, const char *))
{
	MDB_dbi dbi = open(txn, "ledger.accounts");
	uint8_t key[16];
	account_key(key, 2);
	MDB_val k = {16, key}, v;
	assert_int_equal(mdb_get(txn, dbi, &k, &v), 0);
	struct account_hot rec;
	assert_int_equal(v.mv_size, sizeof(rec));
	memcpy(&rec, v.mv_data, sizeof(rec));
	rec.last_transfer_ts = 0; /* the account forgets its transfers */
	v.mv_data = &rec;
	assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
}

static void test_broken_history(void **state)
{
	struct fixture *f = *state;
	build_book(f);
	tamper(f, break_history);
	expect_problem(f, "account 2 history chain broken");
}

static void drop_account_info(MDB_txn *txn,
			      MDB_dbi (*open)(MDB_txn *, const char *))
{
	MDB_dbi dbi = open(txn, "ledger.account_info");
	uint8_t key[16];
	account_key(key, 1);
	MDB_val k = {16, key};
	assert_int_equal(mdb_del(txn, dbi, &k, NULL), 0);
}

static void test_lost_account_info(void **state)
{
	struct fixture *f = *state;
	build_book(f);
	tamper(f, drop_account_info);
	expect_problem(f, "account 1 has no info record");
	ledger_account_t a;
	assert_int_equal(ledger_account_get(f->l, ledger_id_from_u64(1), &a),
			 LEDGER_ECORRUPT);
}

static void drop_expiry(MDB_txn *txn, MDB_dbi (*open)(MDB_txn *, const char *))
{
	MDB_dbi dbi = open(txn, "ledger.expiry");
	assert_int_equal(mdb_drop(txn, dbi, 0), 0);
}

static void test_lost_expiry(void **state)
{
	struct fixture *f = *state;
	build_book(f);
	tamper(f, drop_expiry);
	expect_problem(f, "expiry index holds 0 entries, expected 1");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_created_money,
						fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_lost_index_entry,
						fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_forged_pending_state,
						fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_broken_history,
						fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_lost_expiry,
						fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_lost_account_info,
						fixture_setup, fixture_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
