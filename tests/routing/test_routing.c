/*
 * test_routing.c: the route model and the table: longest-prefix match at
 * every length, siblings and exact matches, disabled routes, alternates,
 * field validation, JSON forms, the version counter and the audit record
 * of every change kind.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "routing_fixture.h"

static const char pan19[] = "1234567890123456789";

/* Every length 1..19 routes to its own endpoint; each PAN length finds
 * the longest, and deleting routes falls back to the next shorter one. */
static void test_lpm_every_length(void **state)
{
	fixture_t *f = *state;
	for (size_t len = 1; len <= ROUTE_PREFIX_DIGITS_MAX; len++) {
		char prefix[20], endpoint[16];
		memcpy(prefix, pan19, len);
		prefix[len] = '\0';
		snprintf(endpoint, sizeof(endpoint), "len%zu", len);
		route_t r = make_route(prefix, endpoint);
		assert_int_equal(put_route(f, &r), 0);
	}
	route_table_info_t info = table_info(f);
	assert_int_equal(info.count, 19);
	for (size_t len = 1; len <= ROUTE_PREFIX_DIGITS_MAX; len++)
		assert_int_equal(info.count_by_length[len], 1);

	MDB_txn *txn;
	assert_int_equal(route_txn_begin(f->env, NULL, MDB_RDONLY, &txn), 0);
	for (size_t len = 1; len <= ROUTE_PREFIX_DIGITS_MAX; len++) {
		route_t out;
		char endpoint[16];
		snprintf(endpoint, sizeof(endpoint), "len%zu", len);
		assert_int_equal(route_lookup(&f->table, txn, pan19, len, &out),
				 0);
		assert_string_equal(out.endpoint, endpoint);
		assert_int_equal(out.prefix_len, len);
		assert_memory_equal(out.prefix, pan19, len);
		size_t n;
		route_t all[ROUTE_PREFIX_DIGITS_MAX];
		assert_int_equal(route_lookup_all(&f->table, txn, pan19, len,
						  all, PS_ARRAY_LEN(all), &n),
				 0);
		assert_int_equal(n, len);
		assert_int_equal(all[n - 1].prefix_len, 1);
	}
	mdb_txn_abort(txn);

	/* Remove the odd lengths: each odd-length PAN falls to len-1. */
	assert_int_equal(route_txn_begin(f->env, NULL, 0, &txn), 0);
	for (size_t len = 1; len <= ROUTE_PREFIX_DIGITS_MAX; len += 2)
		assert_int_equal(route_delete(&f->table, txn, &test_actor,
					      pan19, len, NULL, NULL),
				 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	route_t out;
	assert_int_equal(lookup(f, "1", &out), PS_ENOTFOUND);
	assert_int_equal(lookup(f, "123", &out), 0);
	assert_string_equal(out.prefix, "12");
	assert_int_equal(lookup(f, pan19, &out), 0);
	assert_string_equal(out.prefix, "123456789012345678");
	assert_int_equal(table_info(f).count, 9);
}

/* Siblings of one length never shadow each other; a prefix as long as
 * the PAN matches it exactly; adding a prefix again replaces it. */
static void test_lpm_siblings_exact_and_replace(void **state)
{
	fixture_t *f = *state;
	route_t a = make_route("62220", "bank_a");
	route_t b = make_route("62221", "bank_b");
	route_t c = make_route("6222020000000001", "vip");
	assert_int_equal(put_route(f, &a), 0);
	assert_int_equal(put_route(f, &b), 0);
	assert_int_equal(put_route(f, &c), 0);
	route_t out;
	assert_int_equal(lookup(f, "6222020000000002", &out), 0);
	assert_string_equal(out.endpoint, "bank_a");
	assert_int_equal(lookup(f, "6222120000000002", &out), 0);
	assert_string_equal(out.endpoint, "bank_b");
	assert_int_equal(lookup(f, "6222020000000001", &out), 0);
	assert_string_equal(out.endpoint, "vip");
	assert_int_equal(lookup(f, "62222", &out), PS_ENOTFOUND);
	assert_int_equal(lookup(f, "6222", &out), PS_ENOTFOUND);

	route_t a2 = make_route("62220", "bank_a2");
	assert_int_equal(put_route(f, &a2), 0);
	assert_int_equal(lookup(f, "6222099", &out), 0);
	assert_string_equal(out.endpoint, "bank_a2");
	assert_string_equal(out.changed_by, "tester@host");
	assert_int_equal(out.changed_ms, test_actor.at_ms);
	assert_int_equal(table_info(f).count, 3);
}

/* A disabled longest match answers "disabled" and does not fall through
 * to the shorter enabled route (docs/routing.md says why). */
static void test_disabled_does_not_fall_through(void **state)
{
	fixture_t *f = *state;
	route_t up = make_route("62", "unionpay_link");
	assert_int_equal(route_set_network(&up, "unionpay", 8, NULL), 0);
	route_t bank = make_route("622202", "bank_a");
	assert_int_equal(put_route(f, &up), 0);
	assert_int_equal(put_route(f, &bank), 0);

	MDB_txn *txn;
	assert_int_equal(route_txn_begin(f->env, NULL, 0, &txn), 0);
	assert_int_equal(route_set_enabled(&f->table, txn, &test_actor,
					   "622202", 6, false, NULL, NULL),
			 0);
	assert_int_equal(mdb_txn_commit(txn), 0);

	route_t out;
	assert_int_equal(lookup(f, "6222020000000001", &out), ROUTE_EDISABLED);
	assert_string_equal(out.prefix, "622202");
	assert_false(out.enabled);
	assert_int_equal(lookup(f, "6228000000000001", &out), 0);
	assert_string_equal(out.endpoint, "unionpay_link");
	assert_int_equal(out.network, ROUTE_NETWORK_UNIONPAY);
	assert_string_equal(route_strerror(ROUTE_EDISABLED), "route disabled");

	/* A disabled short route does not hide an enabled longer one. */
	assert_int_equal(route_txn_begin(f->env, NULL, 0, &txn), 0);
	assert_int_equal(route_set_enabled(&f->table, txn, &test_actor, "62",
					   2, false, NULL, NULL),
			 0);
	assert_int_equal(route_set_enabled(&f->table, txn, &test_actor,
					   "622202", 6, true, NULL, NULL),
			 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	assert_int_equal(lookup(f, "6222020000000001", &out), 0);
	assert_int_equal(lookup(f, "6229", &out), ROUTE_EDISABLED);

	/* Enabling a prefix that has no route. */
	assert_int_equal(route_txn_begin(f->env, NULL, 0, &txn), 0);
	route_error_t err = {0};
	assert_int_equal(route_set_enabled(&f->table, txn, &test_actor, "9", 1,
					   true, NULL, &err),
			 PS_ENOTFOUND);
	assert_string_equal(err.field, "prefix");
	mdb_txn_abort(txn);
}

static void test_alternates(void **state)
{
	fixture_t *f = *state;
	route_t r = make_route("4", "primary");
	route_error_t err = {0};
	assert_int_equal(route_add_alternate(&r, "primary", 7, &err),
			 PS_EINVAL);
	assert_string_equal(err.field, "alternates");
	const char *alts[] = {"alt1", "alt2", "alt.3", "alt-4"};
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(route_add_alternate(&r, alts[i],
						     strlen(alts[i]), NULL),
				 0);
	assert_int_equal(route_add_alternate(&r, "alt5", 4, &err), PS_ELIMIT);
	assert_int_equal(r.alternate_count, 4);
	route_t dup = make_route("4", "primary");
	assert_int_equal(route_add_alternate(&dup, "x", 1, NULL), 0);
	assert_int_equal(route_add_alternate(&dup, "x", 1, &err), PS_EINVAL);
	assert_int_equal(route_add_alternate(&dup, "bad name", 8, &err),
			 PS_EINVAL);

	assert_int_equal(put_route(f, &r), 0);
	route_t out;
	assert_int_equal(lookup(f, "4111111111111111", &out), 0);
	assert_int_equal(out.alternate_count, 4);
	for (size_t i = 0; i < 4; i++)
		assert_string_equal(out.alternates[i], alts[i]);
	assert_true(route_same_content(&r, &out));

	/* A hand-built route with a repeated alternate is refused. */
	route_t bad = r;
	strcpy(bad.alternates[2], "alt1");
	assert_int_equal(put_route(f, &bad), PS_EINVAL);
}

static void expect_field(int rc, const route_error_t *err, const char *field)
{
	assert_int_equal(rc, PS_EINVAL);
	assert_string_equal(err->field, field);
	assert_true(err->reason[0] != '\0');
}

static void test_validation_names_the_field(void **state)
{
	(void)state;
	route_t r;
	route_init(&r);
	route_error_t err = {0};
	expect_field(route_set_prefix(&r, "", 0, &err), &err, "prefix");
	expect_field(route_set_prefix(&r, "12a", 3, &err), &err, "prefix");
	expect_field(route_set_prefix(&r, "12345678901234567890", 20, &err),
		     &err, "prefix");
	assert_int_equal(route_set_prefix(&r, "1234567890123456789", 19, &err),
			 0);
	expect_field(route_set_endpoint(&r, "", 0, &err), &err, "endpoint");
	expect_field(route_set_endpoint(&r, "bank a", 6, &err), &err,
		     "endpoint");
	expect_field(route_set_endpoint(&r, "b/a", 3, &err), &err, "endpoint");
	char long_name[40];
	memset(long_name, 'x', sizeof(long_name));
	expect_field(route_set_endpoint(&r, long_name, 32, &err), &err,
		     "endpoint");
	assert_int_equal(route_set_endpoint(&r, long_name, 31, &err), 0);
	expect_field(route_set_network(&r, "visa", 4, &err), &err, "network");
	expect_field(route_set_network(&r, "direc", 5, &err), &err, "network");
	assert_int_equal(route_set_network(&r, "netclear", 8, &err), 0);
	expect_field(route_set_institution(&r, "123456789012", 12, &err), &err,
		     "institution");
	expect_field(route_set_institution(&r, "12x", 3, &err), &err,
		     "institution");
	assert_int_equal(route_set_institution(&r, "01020000", 8, &err), 0);
	assert_int_equal(route_set_institution(&r, "", 0, &err), 0);
	char note[70];
	memset(note, 'n', sizeof(note));
	expect_field(route_set_note(&r, note, 64, &err), &err, "note");
	assert_int_equal(route_set_note(&r, note, 63, &err), 0);
	expect_field(route_set_note(&r, "a\nb", 3, &err), &err, "note");
	expect_field(route_set_note(&r, "\xC3\x28", 2, &err), &err, "note");
	expect_field(route_set_note(&r, "\xC0\xAF", 2, &err), &err, "note");
	expect_field(route_set_note(&r, "\xED\xA0\x80", 3, &err), &err,
		     "note");
	expect_field(route_set_note(&r, "\xC2\x85", 2, &err), &err, "note");
	const char *chinese = "\xE4\xB8\xAD\xE5\x9B\xBD\xE9\x93\xB6\xE8\xA1\x8C";
	assert_int_equal(route_set_note(&r, chinese, strlen(chinese), &err), 0);
	assert_int_equal(route_validate(&r, &err), 0);

	/* route_validate catches what the setters would have. */
	route_t hand = r;
	hand.network = (route_network_t)7;
	expect_field(route_validate(&hand, &err), &err, "network");
	hand = r;
	hand.prefix_len = 3;
	expect_field(route_validate(&hand, &err), &err, "prefix");
	hand = r;
	memset(hand.note, 'x', sizeof(hand.note));
	expect_field(route_validate(&hand, &err), &err, "note");
	hand = r;
	hand.alternate_count = 5;
	expect_field(route_validate(&hand, &err), &err, "alternates");

	char msg[200];
	route_error_t located = {.code = PS_EINVAL, .line = 7};
	strcpy(located.field, "endpoint");
	strcpy(located.reason, "must be ...");
	assert_string_equal(route_error_format(&located, msg, sizeof(msg)),
			    "line 7: endpoint: must be ...");
}

static void test_lookup_input_validation(void **state)
{
	fixture_t *f = *state;
	route_t out;
	MDB_txn *txn;
	assert_int_equal(route_txn_begin(f->env, NULL, MDB_RDONLY, &txn), 0);
	assert_int_equal(route_lookup(&f->table, txn, "", 0, &out), PS_EINVAL);
	assert_int_equal(route_lookup(&f->table, txn, "12345678901234567890",
				      20, &out),
			 PS_EINVAL);
	assert_int_equal(route_lookup(&f->table, txn, "62220x", 6, &out),
			 PS_EINVAL);
	assert_int_equal(route_lookup(&f->table, txn, " 62220", 6, &out),
			 PS_EINVAL);
	assert_int_equal(route_lookup(&f->table, txn, "6222", 4, &out),
			 PS_ENOTFOUND);
	assert_int_equal(route_get(&f->table, txn, "6a", 2, &out), PS_EINVAL);
	mdb_txn_abort(txn);
}

static void test_json_round_trip(void **state)
{
	(void)state;
	route_t r = make_route("622202", "bank_a");
	assert_int_equal(route_add_alternate(&r, "bank_a2", 7, NULL), 0);
	assert_int_equal(route_set_institution(&r, "01020000", 8, NULL), 0);
	assert_int_equal(route_set_note(&r, "ICBC \"main\" \\ link", 18, NULL),
			 0);
	assert_int_equal(route_set_network(&r, "unionpay", 8, NULL), 0);
	r.enabled = false;
	strcpy(r.changed_by, "alice@host");
	r.changed_ms = 1700000000123ull;
	char json[ROUTE_JSON_BYTES_MAX];
	size_t len;
	assert_int_equal(route_to_json(&r, json, sizeof(json), &len), 0);
	assert_int_equal(strlen(json), len);
	assert_string_equal(
		json,
		"{\"prefix\":\"622202\",\"endpoint\":\"bank_a\",\"network\":\"unionpay\","
		"\"alternates\":[\"bank_a2\"],\"institution\":\"01020000\","
		"\"enabled\":false,\"note\":\"ICBC \\\"main\\\" \\\\ link\","
		"\"changed_by\":\"alice@host\",\"changed_ms\":1700000000123}");
	route_t back;
	assert_int_equal(route_from_json(json, len, &back, NULL), 0);
	assert_true(route_same_content(&r, &back));
	assert_string_equal(back.changed_by, ""); /* import ignores the stamp */

	char small[16];
	assert_int_equal(route_to_json(&r, small, sizeof(small), NULL),
			 PS_ENOSPC);

	/* A route at every limit still fits ROUTE_JSON_BYTES_MAX. */
	route_t big;
	route_init(&big);
	memcpy(big.prefix, pan19, 20);
	big.prefix_len = 19;
	memset(big.endpoint, 'e', 31);
	for (int i = 0; i < 4; i++) {
		memset(big.alternates[i], 'a' + i, 31);
	}
	big.alternate_count = 4;
	memset(big.institution, '9', 11);
	memset(big.note, '"', 63); /* each escapes to two bytes */
	memset(big.changed_by, '\\', 63);
	big.changed_ms = UINT64_MAX >> 1;
	assert_int_equal(route_to_json(&big, json, sizeof(json), &len), 0);

	route_error_t err = {0};
	const char *cases[][2] = {
		{"{\"endpoint\":\"a\"}", "prefix"},
		{"{\"prefix\":622202,\"endpoint\":\"a\"}", "prefix"},
		{"{\"prefix\":\"6\"}", "endpoint"},
		{"{\"prefix\":\"6\",\"endpoint\":\"a\",\"endpiont\":\"b\"}",
		 "endpiont"},
		{"{\"prefix\":\"6\",\"endpoint\":\"a\",\"enabled\":\"yes\"}",
		 "enabled"},
		{"{\"prefix\":\"6\",\"endpoint\":\"a\",\"alternates\":\"b\"}",
		 "alternates"},
		{"{\"prefix\":\"6\",\"endpoint\":\"a\",\"alternates\":[1]}",
		 "alternates"},
		{"{\"prefix\":\"6\",\"endpoint\":\"a\",\"alternates\":"
		 "[\"b\",\"c\",\"d\",\"e\",\"f\"]}",
		 "alternates"},
		{"{\"prefix\":\"6\",\"endpoint\":\"a\",\"institution\":1020000}",
		 "institution"},
		{"{\"prefix\":\"6\",\"endpoint\":\"a\",\"changed_ms\":\"x\"}",
		 "changed_ms"},
	};
	for (size_t i = 0; i < PS_ARRAY_LEN(cases); i++) {
		memset(&err, 0, sizeof(err));
		assert_int_equal(route_from_json(cases[i][0],
						 strlen(cases[i][0]), &back,
						 &err),
				 PS_EINVAL);
		assert_string_equal(err.field, cases[i][1]);
	}
	assert_int_equal(route_from_json("[1]", 3, &back, &err), PS_EFORMAT);
	assert_int_equal(route_from_json("{\"prefix\":", 10, &back, &err),
			 PS_EFORMAT);
	const char *dup = "{\"prefix\":\"6\",\"prefix\":\"7\",\"endpoint\":\"a\"}";
	assert_int_equal(route_from_json(dup, strlen(dup), &back, &err),
			 PS_EFORMAT);
	const char *nul = "{\"prefix\":\"6\",\"endpoint\":\"a\\u0000b\"}";
	assert_int_equal(route_from_json(nul, strlen(nul), &back, &err),
			 PS_EFORMAT);
	const char *nulls = "{\"prefix\":\"6\",\"endpoint\":\"a\",\"institution\":"
			    "null,\"note\":null,\"alternates\":null}";
	assert_int_equal(route_from_json(nulls, strlen(nulls), &back, &err), 0);
	assert_string_equal(back.institution, "");
}

static void test_version_counter(void **state)
{
	fixture_t *f = *state;
	assert_int_equal(table_info(f).version, 0);
	route_t r = make_route("5", "bank");
	assert_int_equal(put_route(f, &r), 0);
	assert_int_equal(table_info(f).version, 1);
	assert_int_equal(put_route(f, &r), 0);
	assert_int_equal(table_info(f).version, 2);

	/* An aborted change leaves the version where it was. */
	MDB_txn *txn;
	assert_int_equal(route_txn_begin(f->env, NULL, 0, &txn), 0);
	assert_int_equal(route_delete(&f->table, txn, &test_actor, "5", 1,
				      NULL, NULL),
			 0);
	mdb_txn_abort(txn);
	assert_int_equal(table_info(f).version, 2);
	/* A failed change too. */
	route_t bad = r;
	bad.endpoint[0] = '\0';
	assert_int_equal(put_route(f, &bad), PS_EINVAL);
	assert_int_equal(table_info(f).version, 2);

	assert_int_equal(route_txn_begin(f->env, NULL, 0, &txn), 0);
	assert_int_equal(route_set_enabled(&f->table, txn, &test_actor, "5", 1,
					   false, NULL, NULL),
			 0);
	assert_int_equal(route_delete(&f->table, txn, &test_actor, "5", 1,
				      NULL, NULL),
			 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	route_table_info_t info = table_info(f);
	assert_int_equal(info.version, 4);
	assert_int_equal(info.count, 0);
}

static void check_audit(const route_audit_t *a, route_what_t what,
			const char *prefix, bool has_before, bool has_after)
{
	assert_int_equal(a->what, what);
	assert_string_equal(a->prefix, prefix);
	assert_int_equal(a->has_before, has_before);
	assert_int_equal(a->has_after, has_after);
	assert_string_equal(a->who, "tester@host");
}

/* Every change kind leaves its record, in order, with before and after. */
static void test_audit_every_change(void **state)
{
	fixture_t *f = *state;
	route_t r = make_route("622202", "bank_a");
	route_t r2 = make_route("622202", "bank_b");
	MDB_txn *txn;
	route_audit_t written;
	assert_int_equal(route_txn_begin(f->env, NULL, 0, &txn), 0);
	assert_int_equal(route_put(&f->table, txn, &test_actor, &r, &written,
				   NULL),
			 0);
	assert_int_equal(written.what, ROUTE_WHAT_ADD);
	assert_int_equal(written.version, 1);
	assert_int_equal(route_put(&f->table, txn, &test_actor, &r2, NULL,
				   NULL),
			 0);
	assert_int_equal(route_set_enabled(&f->table, txn, &test_actor,
					   "622202", 6, false, NULL, NULL),
			 0);
	assert_int_equal(route_set_enabled(&f->table, txn, &test_actor,
					   "622202", 6, true, NULL, NULL),
			 0);
	assert_int_equal(route_delete(&f->table, txn, &test_actor, "622202", 6,
				      NULL, NULL),
			 0);
	const char *input = "{\"prefix\":\"4\",\"endpoint\":\"visa_link\"}\n";
	route_import_stats_t stats;
	assert_int_equal(route_import(&f->table, txn, &test_actor, input,
				      strlen(input), 0, &stats, NULL),
			 0);
	assert_int_equal(mdb_txn_commit(txn), 0);

	route_audit_t *list = calloc(16, sizeof(*list));
	size_t n;
	assert_int_equal(route_txn_begin(f->env, NULL, MDB_RDONLY, &txn), 0);
	assert_int_equal(route_audit_list(&f->table, txn, 0, list, 16, &n,
					  NULL),
			 0);
	assert_int_equal(n, 7);
	check_audit(&list[0], ROUTE_WHAT_ADD, "622202", false, true);
	assert_string_equal(list[0].after.endpoint, "bank_a");
	check_audit(&list[1], ROUTE_WHAT_REPLACE, "622202", true, true);
	assert_string_equal(list[1].before.endpoint, "bank_a");
	assert_string_equal(list[1].after.endpoint, "bank_b");
	check_audit(&list[2], ROUTE_WHAT_DISABLE, "622202", true, true);
	assert_true(list[2].before.enabled);
	assert_false(list[2].after.enabled);
	check_audit(&list[3], ROUTE_WHAT_ENABLE, "622202", true, true);
	check_audit(&list[4], ROUTE_WHAT_DELETE, "622202", true, false);
	assert_string_equal(list[4].before.changed_by, "tester@host");
	check_audit(&list[5], ROUTE_WHAT_IMPORT, "4", false, true);
	check_audit(&list[6], ROUTE_WHAT_IMPORT_SUMMARY, "", false, false);
	assert_non_null(strstr(list[6].detail, "1 added"));
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(list[i].at_ms, test_actor.at_ms);
		/* One millisecond, so the sequence orders them. */
		assert_int_equal(list[i].key_ms, test_actor.at_ms);
		assert_int_equal(list[i].seq, i);
	}
	assert_int_equal(list[5].version, 6);
	assert_int_equal(list[6].version, 6);

	/* The limit keeps the newest, still in time order. */
	assert_int_equal(route_audit_list(&f->table, txn, 0, list, 2, &n, NULL),
			 0);
	assert_int_equal(n, 2);
	assert_int_equal(list[0].what, ROUTE_WHAT_IMPORT);
	assert_int_equal(list[1].what, ROUTE_WHAT_IMPORT_SUMMARY);
	mdb_txn_abort(txn);
	free(list);
}

/* Keys never go backwards even when the clock does; since filters. */
static void test_audit_since_and_clock_steps(void **state)
{
	fixture_t *f = *state;
	uint64_t times[] = {5000, 9000, 7000, 9000, 12000};
	for (size_t i = 0; i < PS_ARRAY_LEN(times); i++) {
		route_actor_t actor = {"ops@host", times[i]};
		char prefix[4];
		snprintf(prefix, sizeof(prefix), "%zu", i + 1);
		route_t r = make_route(prefix, "bank");
		MDB_txn *txn;
		assert_int_equal(route_txn_begin(f->env, NULL, 0, &txn), 0);
		assert_int_equal(route_put(&f->table, txn, &actor, &r, NULL,
					   NULL),
				 0);
		assert_int_equal(mdb_txn_commit(txn), 0);
	}
	route_audit_t list[8];
	size_t n;
	MDB_txn *txn;
	assert_int_equal(route_txn_begin(f->env, NULL, MDB_RDONLY, &txn), 0);
	assert_int_equal(route_audit_list(&f->table, txn, 0, list, 8, &n, NULL),
			 0);
	assert_int_equal(n, 5);
	uint64_t want_key[] = {5000, 9000, 9000, 9000, 12000};
	uint32_t want_seq[] = {0, 0, 1, 2, 0};
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(list[i].key_ms, want_key[i]);
		assert_int_equal(list[i].seq, want_seq[i]);
		assert_int_equal(list[i].at_ms, times[i]);
	}
	assert_int_equal(route_audit_list(&f->table, txn, 9000, list, 8, &n,
					  NULL),
			 0);
	assert_int_equal(n, 4);
	assert_string_equal(list[0].prefix, "2");
	assert_int_equal(route_audit_list(&f->table, txn, 12001, list, 8, &n,
					  NULL),
			 0);
	assert_int_equal(n, 0);
	mdb_txn_abort(txn);
}

static void test_iterate_in_prefix_order(void **state)
{
	fixture_t *f = *state;
	const char *prefixes[] = {"5", "41", "4", "622202", "62", "40", "6"};
	for (size_t i = 0; i < PS_ARRAY_LEN(prefixes); i++) {
		route_t r = make_route(prefixes[i], "x");
		assert_int_equal(put_route(f, &r), 0);
	}
	MDB_txn *txn;
	assert_int_equal(route_txn_begin(f->env, NULL, MDB_RDONLY, &txn), 0);
	route_iter_t it;
	const char *want[] = {"4", "40", "41", "5", "6", "62", "622202"};
	assert_int_equal(route_iter_open(&f->table, txn, "", 0, &it), 0);
	for (size_t i = 0;; i++) {
		route_t r;
		bool has;
		assert_int_equal(route_iter_next(&it, &r, &has), 0);
		if (!has) {
			assert_int_equal(i, PS_ARRAY_LEN(want));
			break;
		}
		assert_string_equal(r.prefix, want[i]);
	}
	route_iter_close(&it);
	assert_int_equal(route_iter_open(&f->table, txn, "62", 2, &it), 0);
	route_t r;
	bool has;
	assert_int_equal(route_iter_next(&it, &r, &has), 0);
	assert_true(has);
	assert_string_equal(r.prefix, "62");
	assert_int_equal(route_iter_next(&it, &r, &has), 0);
	assert_string_equal(r.prefix, "622202");
	assert_int_equal(route_iter_next(&it, &r, &has), 0);
	assert_false(has);
	route_iter_close(&it);
	assert_int_equal(route_iter_open(&f->table, txn, "7", 1, &it), 0);
	assert_int_equal(route_iter_next(&it, &r, &has), 0);
	assert_false(has);
	route_iter_close(&it);
	assert_int_equal(route_iter_open(&f->table, txn, "x", 1, &it),
			 PS_EINVAL);
	mdb_txn_abort(txn);
}

/* A stored value that is not a route record is reported, not trusted. */
static void test_corrupt_record_detected(void **state)
{
	fixture_t *f = *state;
	route_t r = make_route("77", "x");
	assert_int_equal(put_route(f, &r), 0);
	MDB_txn *txn;
	assert_int_equal(route_txn_begin(f->env, NULL, 0, &txn), 0);
	MDB_val key = {2, "77"};
	MDB_val value = {5, "hello"};
	assert_int_equal(mdb_put(txn, f->table.routes, &key, &value, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	route_t out;
	assert_int_equal(lookup(f, "7712", &out), PS_EFORMAT);
}

/* The 2016 card fee rules, hand-computed: issuer fees of 35 bp capped at
 * 13 yuan (debit cards) and 45 bp uncapped (credit cards), a network fee
 * of 3.25 bp capped at 3.25 yuan from each side; half a fen rounds up. */
static void test_fee_rules(void **state)
{
	(void)state;
	static const struct {
		int64_t amount;
		uint32_t ppm;
		int64_t cap;
		int64_t fee;
	} cases[] = {
		{10000, 3500, 1300, 35},      /* 100.00 yuan debit card: 0.35 */
		{371428, 3500, 1300, 1300},   /* 1299.998 rounds to the cap */
		{371400, 3500, 1300, 1300},   /* 1299.9: rounds up to 1300 */
		{371000, 3500, 1300, 1299},   /* 1298.5: half up */
		{1000000, 3500, 1300, 1300},  /* 10,000 yuan: capped */
		{1000000, 4500, 0, 4500},     /* credit card: no cap */
		{143, 3500, 0, 1},            /* 0.5005 fen */
		{142, 3500, 0, 0},            /* 0.497 fen */
		{10000, 325, 325, 3},         /* 3.25 fen rounds down */
		{20000, 325, 325, 7},         /* 6.5 fen rounds up */
		{1000000, 325, 325, 325},     /* exactly the cap */
		{2000000, 325, 325, 325},     /* capped */
		{999999999999, 100000, 0, 99999999999 + 1}, /* 10%, the largest */
		{123456, 0, 0, 0},
		{0, 3500, 1300, 0},
	};
	for (size_t i = 0; i < PS_ARRAY_LEN(cases); i++)
		assert_int_equal(route_fee(cases[i].amount, cases[i].ppm, cases[i].cap),
				 cases[i].fee);
	route_fees_t f = {.issuer_ppm = 3500, .issuer_cap = 1300,
			  .network_ppm = 325, .network_cap = 325};
	int64_t issuer, network;
	route_fees_of(&f, 500000, &issuer, &network);
	assert_int_equal(issuer, 1300); /* 1750 capped */
	assert_int_equal(network, 163); /* 162.5 up */
}

/* Fees are stored, exported, imported and validated; a route written in
 * the format before fees (2) is still read, feeless. */
static void test_fees_stored(void **state)
{
	fixture_t *f = *state;
	route_t r = make_route("62", "cup");
	route_fees_t fees = {.issuer_ppm = 3500, .issuer_cap = 1300,
			     .network_ppm = 325, .network_cap = 325};
	assert_int_equal(route_set_fees(&r, &fees, NULL), 0);
	assert_int_equal(put_route(f, &r), 0);
	route_t out;
	assert_int_equal(lookup(f, "6222020000000001", &out), 0);
	assert_int_equal(out.fees.issuer_ppm, 3500);
	assert_int_equal(out.fees.issuer_cap, 1300);
	assert_int_equal(out.fees.network_ppm, 325);
	assert_int_equal(out.fees.network_cap, 325);
	char json[ROUTE_JSON_BYTES_MAX];
	assert_int_equal(route_to_json(&out, json, sizeof(json), NULL), 0);
	assert_non_null(strstr(json, "\"issuer_fee_ppm\":3500,\"issuer_fee_cap\":1300,"
				     "\"network_fee_ppm\":325,\"network_fee_cap\":325"));
	route_t back;
	route_error_t err;
	assert_int_equal(route_from_json(json, strlen(json), &back, &err), 0);
	assert_true(route_same_content(&out, &back));
	const char *bad = "{\"prefix\":\"1\",\"endpoint\":\"x\",\"issuer_fee_ppm\":100001}";
	assert_int_equal(route_from_json(bad, strlen(bad), &back, &err), PS_EINVAL);
	assert_string_equal(err.field, "issuer_fee_ppm");
	/* A format-2 record: 12-byte head, endpoint "old", institution,
	 * note and changed_by empty, no fee block. */
	uint8_t v2[] = {2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 'o', 'l', 'd', 0, 0, 0};
	MDB_txn *txn;
	assert_int_equal(route_txn_begin(f->env, NULL, 0, &txn), 0);
	MDB_val key = {2, "77"};
	MDB_val value = {sizeof(v2), v2};
	assert_int_equal(mdb_put(txn, f->table.routes, &key, &value, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	assert_int_equal(lookup(f, "7712", &out), 0);
	assert_string_equal(out.endpoint, "old");
	assert_int_equal(out.fees.issuer_ppm, 0);
	assert_int_equal(out.fees.network_cap, 0);
}

static void test_who_is_required(void **state)
{
	fixture_t *f = *state;
	route_t r = make_route("8", "x");
	MDB_txn *txn;
	assert_int_equal(route_txn_begin(f->env, NULL, 0, &txn), 0);
	route_actor_t nobody = {"", 0};
	route_actor_t control = {"a\tb", 0};
	route_error_t err = {0};
	expect_field(route_put(&f->table, txn, &nobody, &r, NULL, &err), &err,
		     "who");
	expect_field(route_put(&f->table, txn, &control, &r, NULL, &err), &err,
		     "who");
	mdb_txn_abort(txn);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_lpm_every_length,
						fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_lpm_siblings_exact_and_replace,
						fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_disabled_does_not_fall_through,
						fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_alternates, fixture_setup,
						fixture_teardown),
		cmocka_unit_test(test_validation_names_the_field),
		cmocka_unit_test_setup_teardown(test_lookup_input_validation,
						fixture_setup, fixture_teardown),
		cmocka_unit_test(test_json_round_trip),
		cmocka_unit_test(test_fee_rules),
		cmocka_unit_test_setup_teardown(test_fees_stored, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_version_counter,
						fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_audit_every_change,
						fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_audit_since_and_clock_steps,
						fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_iterate_in_prefix_order,
						fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_record_detected,
						fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_who_is_required,
						fixture_setup, fixture_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
