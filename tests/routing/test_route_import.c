/*
 * test_route_import.c: the import reader (JSON lines and JSON arrays,
 * errors located by line), imports that are all or nothing, merge and
 * replace, and an export that imports back to the same table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "routing_fixture.h"

/* Reads every record of text; returns the first failure or the count. */
static int read_all(const char *text, route_t *out, size_t cap,
		    route_error_t *err)
{
	route_reader_t reader;
	route_reader_init(&reader, text, strlen(text));
	int n = 0;
	for (;;) {
		route_t r;
		bool has;
		int rc = route_reader_next(&reader, &r, &has, err);
		if (rc < 0)
			return rc;
		if (!has)
			return n;
		if ((size_t)n < cap)
			out[n] = r;
		n++;
	}
}

static void test_reader_json_lines(void **state)
{
	(void)state;
	const char *text =
		"\xEF\xBB\xBF# routes for the test\n"
		"{\"prefix\":\"622202\",\"endpoint\":\"bank_a\"}\r\n"
		"\n"
		"   {\"prefix\":\"4\",\"endpoint\":\"visa\",\"network\":\"unionpay\"}   \n"
		"{\"prefix\":\"5\",\"endpoint\":\"mc\"}";
	route_t r[4];
	assert_int_equal(read_all(text, r, 4, NULL), 3);
	assert_string_equal(r[0].prefix, "622202");
	assert_int_equal(r[1].network, ROUTE_NETWORK_UNIONPAY);
	assert_string_equal(r[2].endpoint, "mc");
	assert_int_equal(read_all("", r, 4, NULL), 0);
	assert_int_equal(read_all("\n\n  \n", r, 4, NULL), 0);
}

static void test_reader_json_array(void **state)
{
	(void)state;
	const char *text = "\n[\n"
			   "  {\"prefix\": \"622202\",\n"
			   "   \"endpoint\": \"bank_a\",\n"
			   "   \"note\": \"} ] { [ \\\" tricky\"},\n"
			   "  {\"prefix\": \"4\", \"endpoint\": \"visa\"}\n"
			   "]\n";
	route_t r[4];
	assert_int_equal(read_all(text, r, 4, NULL), 2);
	assert_string_equal(r[0].note, "} ] { [ \" tricky");
	assert_string_equal(r[1].prefix, "4");
	assert_int_equal(read_all("[]", r, 4, NULL), 0);
	assert_int_equal(read_all(" [ ] \n", r, 4, NULL), 0);
}

struct bad_case {
	const char *text;
	int code;
	uint32_t line;
	const char *field;
};

static void test_reader_errors_name_the_line(void **state)
{
	(void)state;
	const struct bad_case cases[] = {
		{"{\"prefix\":\"1\",\"endpoint\":\"a\"}\n"
		 "{\"prefix\":\"2\",\"endpoint\":\"a\"}\n"
		 "{\"prefix\":\"3\",\"endpoint\":\"a b\"}\n",
		 PS_EINVAL, 3, "endpoint"},
		{"{\"prefix\":\"1\",\"endpoint\":\"a\"}\n"
		 "\n"
		 "{\"prefix\":\"2\",\"endpoint\":\"a\"\n",
		 PS_EFORMAT, 3, ""},
		{"{\"prefix\":\"1\",\"endpoint\":\"a\"}\n[1]\n", PS_EFORMAT, 2,
		 ""},
		{"[\n{\"prefix\":\"1\",\"endpoint\":\"a\"},\n\n"
		 "  {\"prefix\":\"x\",\"endpoint\":\"a\"}\n]",
		 PS_EINVAL, 4, "prefix"},
		{"[\n{\"prefix\":\"1\",\n\"endpoint\":\"a\",,}\n]", PS_EFORMAT,
		 3, ""},
		{"[{\"prefix\":\"1\",\"endpoint\":\"a\"},\n]", PS_EFORMAT, 2,
		 ""},
		{"[{\"prefix\":\"1\",\"endpoint\":\"a\"}\n", PS_EFORMAT, 2, ""},
		{"[{\"prefix\":\"1\",\"endpoint\":\"a\"}]\nxyz", PS_EFORMAT, 2,
		 ""},
		{"[{\"prefix\":\"1\",\"endpoint\":\"a\"} {}]", PS_EFORMAT, 1,
		 ""},
		{"[\n\n 42]", PS_EFORMAT, 3, ""},
		{"[{\"prefix\":\"1\",\"endpoint\":\"a\"", PS_EFORMAT, 1, ""},
		{"hello\n", PS_EFORMAT, 1, ""},
	};
	for (size_t i = 0; i < PS_ARRAY_LEN(cases); i++) {
		route_error_t err = {0};
		route_t r[4];
		int rc = read_all(cases[i].text, r, 4, &err);
		if (rc != cases[i].code || err.line != cases[i].line ||
		    strcmp(err.field, cases[i].field) != 0)
			fail_msg("case %zu: rc %d line %u field '%s' (%s)", i,
				 rc, err.line, err.field, err.reason);
	}
}

static void test_reader_bounds_a_record(void **state)
{
	(void)state;
	size_t big = ROUTE_IMPORT_LINE_BYTES_MAX + 100;
	char *text = malloc(big + 64);
	int n = snprintf(text, 64, "{\"prefix\":\"1\",\"endpoint\":\"a\"}\n"
				   "{\"note\":\"");
	memset(text + n, 'x', big);
	strcpy(text + n + big, "\"}\n");
	route_error_t err = {0};
	route_t r[2];
	assert_int_equal(read_all(text, r, 2, &err), PS_ELIMIT);
	assert_int_equal(err.line, 2);
	/* The same giant record inside an array. */
	char *arr = malloc(big + 64);
	n = snprintf(arr, 64, "[{\"note\":\"");
	memset(arr + n, 'x', big);
	strcpy(arr + n + big, "\"}]");
	assert_int_equal(read_all(arr, r, 2, &err), PS_ELIMIT);
	assert_int_equal(err.line, 1);
	free(arr);
	free(text);
}

static int import_text(fixture_t *f, const char *text, unsigned flags,
		       route_import_stats_t *stats, route_error_t *err)
{
	MDB_txn *txn;
	if (route_txn_begin(f->env, NULL, 0, &txn) != 0)
		return PS_EIO;
	int rc = route_import(&f->table, txn, &test_actor, text, strlen(text),
			      flags, stats, err);
	if (rc == 0)
		return mdb_txn_commit(txn) == 0 ? 0 : PS_EIO;
	mdb_txn_abort(txn);
	return rc;
}

static const char base_table[] =
	"{\"prefix\":\"62\",\"endpoint\":\"unionpay\",\"network\":\"unionpay\"}\n"
	"{\"prefix\":\"622202\",\"endpoint\":\"bank_a\",\"institution\":\"01020000\"}\n"
	"{\"prefix\":\"4\",\"endpoint\":\"visa\"}\n";

static void test_import_all_or_nothing(void **state)
{
	fixture_t *f = *state;
	route_import_stats_t stats;
	assert_int_equal(import_text(f, base_table, 0, &stats, NULL), 0);
	assert_int_equal(stats.added, 3);
	route_table_info_t before = table_info(f);

	const char *bad =
		"{\"prefix\":\"5\",\"endpoint\":\"mc\"}\n"
		"{\"prefix\":\"622202\",\"endpoint\":\"bank_z\"}\n"
		"{\"prefix\":\"9\",\"endpoint\":\"x\",\"network\":\"swift\"}\n"
		"{\"prefix\":\"8\",\"endpoint\":\"y\"}\n";
	route_error_t err = {0};
	assert_int_equal(import_text(f, bad, 0, &stats, &err), PS_EINVAL);
	assert_int_equal(err.line, 3);
	assert_int_equal(err.record, 3);
	assert_string_equal(err.field, "network");
	char msg[256];
	route_error_format(&err, msg, sizeof(msg));
	assert_string_equal(msg,
			    "line 3: network: must be direct, unionpay or netclear");

	route_table_info_t after = table_info(f);
	assert_int_equal(after.version, before.version);
	assert_int_equal(after.count, 3);
	route_t r;
	assert_int_equal(lookup(f, "5123", &r), PS_ENOTFOUND);
	assert_int_equal(lookup(f, "6222021", &r), 0);
	assert_string_equal(r.endpoint, "bank_a");

	/* A prefix twice in one input is refused, naming both lines. */
	const char *twice = "{\"prefix\":\"7\",\"endpoint\":\"a\"}\n"
			    "{\"prefix\":\"8\",\"endpoint\":\"a\"}\n"
			    "{\"prefix\":\"7\",\"endpoint\":\"b\"}\n";
	assert_int_equal(import_text(f, twice, 0, &stats, &err), PS_EINVAL);
	assert_int_equal(err.line, 3);
	assert_string_equal(err.field, "prefix");
	assert_non_null(strstr(err.reason, "line 1"));
	assert_int_equal(table_info(f).version, before.version);
}

static void test_import_merge_and_replace(void **state)
{
	fixture_t *f = *state;
	route_import_stats_t stats;
	assert_int_equal(import_text(f, base_table, 0, &stats, NULL), 0);
	uint64_t v1 = table_info(f).version;
	assert_int_equal(v1, 1);

	/* Importing the same table again changes nothing. */
	assert_int_equal(import_text(f, base_table, 0, &stats, NULL), 0);
	assert_int_equal(stats.unchanged, 3);
	assert_int_equal(stats.added + stats.replaced + stats.deleted, 0);
	assert_int_equal(stats.version, v1);
	assert_int_equal(table_info(f).version, v1);

	/* Merge: one changed, one new, the rest kept. */
	const char *merge =
		"[{\"prefix\":\"4\",\"endpoint\":\"visa2\"},"
		" {\"prefix\":\"5\",\"endpoint\":\"mc\"}]";
	assert_int_equal(import_text(f, merge, 0, &stats, NULL), 0);
	assert_int_equal(stats.records, 2);
	assert_int_equal(stats.added, 1);
	assert_int_equal(stats.replaced, 1);
	assert_int_equal(table_info(f).count, 4);
	assert_int_equal(table_info(f).version, v1 + 1);

	/* Replace: the table becomes exactly the input. */
	const char *replace =
		"{\"prefix\":\"622202\",\"endpoint\":\"bank_a\",\"institution\":\"01020000\"}\n"
		"{\"prefix\":\"3\",\"endpoint\":\"amex\"}\n";
	assert_int_equal(import_text(f, replace, ROUTE_IMPORT_REPLACE, &stats,
				     NULL),
			 0);
	assert_int_equal(stats.records, 2);
	assert_int_equal(stats.unchanged, 1);
	assert_int_equal(stats.added, 1);
	assert_int_equal(stats.deleted, 3);
	route_table_info_t info = table_info(f);
	assert_int_equal(info.count, 2);
	assert_int_equal(info.count_by_length[6], 1);
	assert_int_equal(info.count_by_length[1], 1);
	assert_int_equal(info.count_by_length[2], 0);
	route_t r;
	assert_int_equal(lookup(f, "6229", &r), PS_ENOTFOUND);
	assert_int_equal(lookup(f, "4111", &r), PS_ENOTFOUND);
	assert_int_equal(lookup(f, "3782", &r), 0);

	/* The replace left one record per deleted and added route. */
	route_audit_t *list = calloc(8, sizeof(*list));
	size_t n;
	MDB_txn *txn;
	assert_int_equal(route_txn_begin(f->env, NULL, MDB_RDONLY, &txn), 0);
	assert_int_equal(route_audit_list(&f->table, txn, 0, list, 5, &n, NULL),
			 0);
	mdb_txn_abort(txn);
	assert_int_equal(n, 5);
	assert_string_equal(list[0].prefix, "3");
	assert_false(list[0].has_before);
	for (int i = 1; i <= 3; i++) {
		assert_int_equal(list[i].what, ROUTE_WHAT_IMPORT);
		assert_true(list[i].has_before);
		assert_false(list[i].has_after);
	}
	assert_int_equal(list[4].what, ROUTE_WHAT_IMPORT_SUMMARY);
	assert_string_equal(list[4].detail,
			    "replace: 2 records, 1 added, 0 replaced, 3 deleted, 1 unchanged");
	free(list);

	/* Replace with an empty input empties the table. */
	assert_int_equal(import_text(f, "[]", ROUTE_IMPORT_REPLACE, &stats,
				     NULL),
			 0);
	assert_int_equal(stats.deleted, 2);
	assert_int_equal(table_info(f).count, 0);
}

/* Exports the table as JSON lines, the way switchctl does. */
static char *export_text(fixture_t *f)
{
	size_t cap = 1 << 20, len = 0;
	char *out = malloc(cap);
	MDB_txn *txn;
	route_iter_t it;
	assert_int_equal(route_txn_begin(f->env, NULL, MDB_RDONLY, &txn), 0);
	assert_int_equal(route_iter_open(&f->table, txn, "", 0, &it), 0);
	for (;;) {
		route_t r;
		bool has;
		assert_int_equal(route_iter_next(&it, &r, &has), 0);
		if (!has)
			break;
		size_t n;
		assert_true(cap - len > ROUTE_JSON_BYTES_MAX + 1);
		assert_int_equal(route_to_json(&r, out + len, cap - len, &n), 0);
		len += n;
		out[len++] = '\n';
	}
	out[len] = '\0';
	route_iter_close(&it);
	mdb_txn_abort(txn);
	return out;
}

static void test_export_import_round_trip(void **state)
{
	fixture_t *f = *state;
	const char *table =
		"{\"prefix\":\"62\",\"endpoint\":\"unionpay\",\"network\":\"unionpay\"}\n"
		"{\"prefix\":\"622202\",\"endpoint\":\"bank_a\",\"alternates\":[\"bank_a2\",\"bank_a3\"],"
		"\"institution\":\"01020000\",\"note\":\"\xE5\xB7\xA5\xE8\xA1\x8C\"}\n"
		"{\"prefix\":\"6217\",\"endpoint\":\"bank_c\",\"network\":\"netclear\",\"enabled\":false}\n"
		"{\"prefix\":\"1234567890123456789\",\"endpoint\":\"long\"}\n";
	route_import_stats_t stats;
	assert_int_equal(import_text(f, table, 0, &stats, NULL), 0);
	char *first = export_text(f);

	/* Into a second, empty table. */
	fixture_t *g = NULL;
	assert_int_equal(fixture_setup((void **)&g), 0);
	assert_int_equal(import_text(g, first, ROUTE_IMPORT_REPLACE, &stats,
				     NULL),
			 0);
	assert_int_equal(stats.added, 4);
	char *second = export_text(g);
	/* Same routes in the same order; only nothing differs, because the
	 * test actor stamps both with the same name and time. */
	assert_string_equal(first, second);
	/* Export order is prefix order. */
	assert_true(strstr(first, "\"1234567890123456789\"") <
		    strstr(first, "\"62\""));
	assert_true(strstr(first, "\"6217\"") < strstr(first, "\"622202\""));

	/* And back over the original: nothing changes. */
	assert_int_equal(import_text(f, second, ROUTE_IMPORT_REPLACE, &stats,
				     NULL),
			 0);
	assert_int_equal(stats.unchanged, 4);
	free(first);
	free(second);
	fixture_teardown((void **)&g);
}

static void test_import_bounds(void **state)
{
	fixture_t *f = *state;
	MDB_txn *txn;
	route_error_t err = {0};
	assert_int_equal(route_txn_begin(f->env, NULL, 0, &txn), 0);
	/* The size is checked before a byte is read. */
	assert_int_equal(route_import(&f->table, txn, &test_actor, "",
				      ROUTE_IMPORT_BYTES_MAX + 1, 0, NULL,
				      &err),
			 PS_ELIMIT);
	route_actor_t nobody = {NULL, 0};
	assert_int_equal(route_import(&f->table, txn, &nobody, "", 0, 0, NULL,
				      &err),
			 PS_EINVAL);
	assert_string_equal(err.field, "who");
	mdb_txn_abort(txn);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reader_json_lines),
		cmocka_unit_test(test_reader_json_array),
		cmocka_unit_test(test_reader_errors_name_the_line),
		cmocka_unit_test(test_reader_bounds_a_record),
		cmocka_unit_test_setup_teardown(test_import_all_or_nothing,
						fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_import_merge_and_replace,
						fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_export_import_round_trip,
						fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_import_bounds,
						fixture_setup, fixture_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
