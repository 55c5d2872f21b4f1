/*
 * test_members.c: netsim's members file (members.h) and its clearing
 * record (store.h). The file: a good one loads with its defaults, the
 * longest prefix wins, members are found by id and station; every kind
 * of mistake is refused with its JSON path. The record: legs, keys and
 * periods round trip, and the pending and cleared indexes follow the
 * legs through their states, across a reopen.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters.h"
#include "core.h"
#include "members.h"
#include "store.h"
#include "support.h"

static const char good[] =
	"{\"members\":[{\"member\":\"99990000\",\"station\":\"SW01\",\"name\":\"switch\"}],"
	" \"banks\":[{\"name\":\"bankA\",\"member\":\"01020000\",\"prefixes\":[\"6222\",\"622202\"],"
	"             \"address\":\"127.0.0.1:7301\"},"
	"            {\"member\":\"01030000\",\"station\":\"B\",\"prefixes\":[\"62220288\"],"
	"             \"address\":\"localhost:7302\",\"dialect\":\"binary\",\"framing\":\"ascii4\"}]}";

static void test_members_file(void **state)
{
	(void)state;
	static ns_members_t m;
	char err[256];
	assert_int_equal(ns_members_parse(good, strlen(good), &m, err, sizeof(err)), 0);
	assert_int_equal(m.bank_count, 2);
	assert_int_equal(m.member_count, 3);
	assert_string_equal(m.banks[0].dialect, "ascii");
	assert_string_equal(m.banks[0].framing, "binary2");
	assert_int_equal(m.banks[1].length_header, ISO8583_LENGTH_ASCII4);
	assert_string_equal(m.banks[1].name, "01030000"); /* the id, unnamed */
	/* Longest prefix. */
	assert_int_equal(ns_members_route(&m, "6222020000000001"), 0);
	assert_int_equal(ns_members_route(&m, "6222028800000001"), 1);
	assert_int_equal(ns_members_route(&m, "6222990000000001"), 0);
	assert_int_equal(ns_members_route(&m, "6217000000000001"), -1);
	assert_int_equal(ns_members_route(&m, ""), -1);
	assert_int_equal(ns_members_bank(&m, "01030000"), 1);
	assert_int_equal(ns_members_bank(&m, "99990000"), -1);
	assert_string_equal(ns_members_by_station(&m, "SW01")->member, "99990000");
	assert_string_equal(ns_members_by_station(&m, "01020000")->name, "bankA");
	assert_null(ns_members_by_station(&m, "99990000"));
	assert_null(ns_members_by_id(&m, "1"));
}

static void expect_refused(const char *text, const char *path)
{
	static ns_members_t m;
	char err[256];
	int rc = ns_members_parse(text, strlen(text), &m, err, sizeof(err));
	assert_true(rc == PS_EFORMAT || rc == PS_ELIMIT);
	if (strstr(err, path) == NULL)
		fail_msg("want \"%s\" in: %s", path, err);
	assert_int_equal(m.bank_count, 0);
}

#define BANK(extra) "{\"banks\":[{\"member\":\"1\",\"prefixes\":[\"62\"],\"address\":\"h:1\"" extra "}]}"

static void test_members_refused(void **state)
{
	(void)state;
	expect_refused("{\"banks\":[]}", "banks: at least one bank");
	expect_refused("[1]", "must be an object");
	expect_refused("{\"bank\":[]}", "bank: unknown key");
	expect_refused(BANK(",\"dialekt\":\"ascii\""), "banks[0].dialekt: unknown key");
	expect_refused(BANK(",\"dialect\":\"ebcdic\""), "banks[0].dialect");
	expect_refused(BANK(",\"framing\":\"x\""), "banks[0].framing");
	expect_refused("{\"banks\":[{\"member\":\"1x\",\"prefixes\":[\"62\"],\"address\":\"h:1\"}]}",
		       "banks[0].member");
	expect_refused("{\"banks\":[{\"member\":\"1\",\"prefixes\":[],\"address\":\"h:1\"}]}",
		       "banks[0].prefixes");
	expect_refused("{\"banks\":[{\"member\":\"1\",\"prefixes\":[\"6a\"],\"address\":\"h:1\"}]}",
		       "banks[0].prefixes[0]");
	expect_refused("{\"banks\":[{\"member\":\"1\",\"prefixes\":[\"62\"],\"address\":\"h\"}]}",
		       "banks[0].address");
	expect_refused("{\"banks\":[{\"member\":\"1\",\"prefixes\":[\"62\"],\"address\":\"h:1\"},"
		       "{\"member\":\"2\",\"prefixes\":[\"62\"],\"address\":\"h:2\"}]}",
		       "banks[1].prefixes[0]: is another bank's");
	expect_refused("{\"banks\":[{\"member\":\"1\",\"prefixes\":[\"62\"],\"address\":\"h:1\"}],"
		       "\"members\":[{\"member\":\"1\"}]}", "members[0].member: appears twice");
	expect_refused("{\"banks\":[{\"member\":\"1\",\"prefixes\":[\"62\"],\"address\":\"h:1\"}],"
		       "\"members\":[{\"member\":\"2\",\"station\":\"1\"}]}",
		       "members[0].station: appears twice");
	expect_refused("{\"banks\":[{\"member\":\"1\",\"prefixes\":[\"62\"],\"address\":\"h:1\"}],"
		       "\"members\":[{\"member\":\"2\",\"station\":\"a b\"}]}",
		       "members[0].station");
	expect_refused("{\"banks\":[{\"member\":\"1\",\"prefixes\":[\"62\"],\"address\":\"h:1\"}],"
		       "\"banks\":[]}", "line");
}

/* ---- the record ------------------------------------------------------------------- */

static void leg_of(ns_leg_t *l, uint64_t id, const char *period)
{
	memset(l, 0, sizeof(*l));
	l->version = NS_STORE_VERSION;
	l->id = id;
	l->kind = TXN_KIND_PURCHASE;
	l->state = NS_LEG_SENT;
	ps_strlcpy(l->period, period, sizeof(l->period));
	ps_strlcpy(l->bank, "01020000", sizeof(l->bank));
	l->amount = 100 * (int64_t)id;
}

typedef struct seen {
	uint64_t ids[8];
	int count;
} seen_t;

static int see_leg(void *ctx, const ns_leg_t *leg)
{
	seen_t *s = ctx;
	s->ids[s->count++] = leg->id;
	return 0;
}

static int see_id(void *ctx, uint64_t id, const char *period)
{
	seen_t *s = ctx;
	assert_string_equal(period, "20261203");
	s->ids[s->count++] = id;
	return 0;
}

static seen_t cleared(ns_store_t *s, const char *period)
{
	seen_t seen = {0};
	MDB_txn *txn;
	assert_int_equal(ns_store_begin(s, true, &txn), 0);
	assert_int_equal(ns_store_each_cleared(txn, s, period, see_leg, &seen), 0);
	ns_store_abort(txn);
	return seen;
}

static seen_t pending(ns_store_t *s)
{
	seen_t seen = {0};
	MDB_txn *txn;
	assert_int_equal(ns_store_begin(s, true, &txn), 0);
	assert_int_equal(ns_store_each_pending(txn, s, see_id, &seen), 0);
	ns_store_abort(txn);
	return seen;
}

static void test_record_indexes(void **state)
{
	(void)state;
	char dir[256], err[256];
	ts_tmpdir("netsim-store", dir, sizeof(dir));
	ns_store_t s;
	assert_int_equal(ns_store_open(&s, dir, 16u << 20, false, err, sizeof(err)), 0);
	MDB_txn *txn;
	ns_leg_t l[3];
	assert_int_equal(ns_store_begin(&s, false, &txn), 0);
	for (int i = 0; i < 3; i++) {
		leg_of(&l[i], (uint64_t)i + 1, "20261203");
		assert_int_equal(ns_store_put_leg(txn, &s, &l[i]), 0);
	}
	assert_int_equal(ns_store_put_key(txn, &s, "99990000|48110001:000001:1203101500", 1), 0);
	assert_int_equal(ns_store_put_key(txn, &s, "99990000|0:000009:1203101500", 0), 0);
	assert_int_equal(ns_store_commit(txn), 0);
	assert_int_equal(pending(&s).count, 3);
	/* Leg 1 approved (clears in its period), leg 2 declined, leg 3
	 * unknown (still pending), then cleared late in the next period. */
	assert_int_equal(ns_store_begin(&s, false, &txn), 0);
	l[0].state = NS_LEG_ANSWERED;
	l[0].cleared = true;
	ps_strlcpy(l[0].clear_period, "20261203", sizeof(l[0].clear_period));
	l[1].state = NS_LEG_ANSWERED;
	l[2].state = NS_LEG_UNKNOWN;
	for (int i = 0; i < 3; i++)
		assert_int_equal(ns_store_put_leg(txn, &s, &l[i]), 0);
	assert_int_equal(ns_store_commit(txn), 0);
	seen_t p = pending(&s);
	assert_int_equal(p.count, 1);
	assert_int_equal(p.ids[0], 3);
	assert_int_equal(cleared(&s, "20261203").count, 1);
	assert_int_equal(ns_store_begin(&s, false, &txn), 0);
	l[2].state = NS_LEG_REVERSED;
	l[2].cleared = true;
	ps_strlcpy(l[2].clear_period, "20261204", sizeof(l[2].clear_period));
	assert_int_equal(ns_store_put_leg(txn, &s, &l[2]), 0);
	ns_period_t per = {.version = NS_STORE_VERSION, .state = NS_PERIOD_NETTED};
	ps_strlcpy(per.name, "20261203", sizeof(per.name));
	assert_int_equal(ns_store_put_period(txn, &s, &per), 0);
	assert_int_equal(ns_store_put_batch(txn, &s, "20261203", "{}\n", 3), 0);
	assert_int_equal(ns_store_commit(txn), 0);
	ns_store_close(&s);
	/* Reopened: all of it is there. */
	assert_int_equal(ns_store_open(&s, dir, 16u << 20, false, err, sizeof(err)), 0);
	assert_int_equal(pending(&s).count, 0);
	seen_t c = cleared(&s, "20261204");
	assert_int_equal(c.count, 1);
	assert_int_equal(c.ids[0], 3);
	assert_int_equal(cleared(&s, "20261203").ids[0], 1);
	assert_int_equal(cleared(&s, "2026120").count, 0);
	assert_int_equal(ns_store_begin(&s, true, &txn), 0);
	uint64_t id = 99;
	assert_int_equal(ns_store_get_key(txn, &s, "99990000|48110001:000001:1203101500",
					  &id), 0);
	assert_int_equal(id, 1);
	assert_int_equal(ns_store_get_key(txn, &s, "99990000|0:000009:1203101500", &id), 0);
	assert_int_equal(id, 0); /* a tombstone */
	assert_int_equal(ns_store_get_key(txn, &s, "nobody", &id), PS_ENOTFOUND);
	ns_leg_t back;
	assert_int_equal(ns_store_get_leg(txn, &s, 2, &back), 0);
	assert_int_equal(back.amount, 200);
	assert_int_equal(ns_store_get_period(txn, &s, "20261203", &per), 0);
	assert_int_equal(per.state, NS_PERIOD_NETTED);
	char text[16];
	size_t len;
	assert_int_equal(ns_store_get_batch(txn, &s, "20261203", text, sizeof(text),
					    &len), 0);
	assert_string_equal(text, "{}\n");
	ns_meta_t meta;
	assert_int_equal(ns_store_get_meta(txn, &s, &meta), PS_ENOTFOUND);
	ns_store_abort(txn);
	ns_store_close(&s);
	ts_rmrf(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_members_file),
		cmocka_unit_test(test_members_refused),
		cmocka_unit_test(test_record_indexes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
