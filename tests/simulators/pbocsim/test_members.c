/*
 * test_members.c: the members file parser (members.h): both shapes, the
 * defaults, sorting and lookup, and every refusal naming its JSON path.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "core.h"
#include "members.h"

static void parse_ok(const char *text, pboc_members_t *m)
{
	char err[256] = "";
	int rc = pboc_members_parse(text, strlen(text), m, err, sizeof(err));
	if (rc != 0)
		fail_msg("refused: %s", err);
}

static void refused(const char *text, const char *says)
{
	pboc_members_t m;
	char err[256] = "";
	assert_int_not_equal(pboc_members_parse(text, strlen(text), &m, err,
						sizeof(err)), 0);
	assert_int_equal(m.count, 0);
	if (strstr(err, says) == NULL)
		fail_msg("\"%s\" does not say \"%s\"", err, says);
}

static void test_both_shapes_sorted(void **state)
{
	(void)state;
	pboc_members_t m;
	parse_ok("[{\"member\":\"PSP01\",\"kind\":\"psp\"},"
		 " {\"member\":\"01020000\",\"kind\":\"bank\",\"balance\":100000000,"
		 "  \"credit_limit\":5000},"
		 " {\"member\":\"00010000\",\"kind\":\"network\"},"
		 " {\"member\":\"48020000\",\"kind\":\"acquirer\"},"
		 " {\"member\":\"99990000\",\"kind\":\"switch\"}]", &m);
	assert_int_equal(m.count, 5);
	assert_string_equal(m.list[0].id, "00010000");
	assert_string_equal(m.list[4].id, "PSP01");
	const pboc_member_t *b = pboc_members_find(&m, "01020000");
	assert_non_null(b);
	assert_int_equal(b->kind, PBOC_KIND_BANK);
	assert_int_equal(b->balance, 100000000);
	assert_int_equal(b->credit_limit, 5000);
	assert_int_equal(pboc_members_find(&m, "PSP01")->balance, 0);
	assert_null(pboc_members_find(&m, "PSP02"));
	assert_null(pboc_members_find(&m, "PSP01PSP01PSP01PSP01"));
	assert_string_equal(pboc_kind_name(pboc_members_find(&m, "48020000")->kind),
			    "acquirer");
	pboc_members_free(&m);
	parse_ok("{\"members\": [{\"member\":\"A1\",\"kind\":\"bank\"}]}", &m);
	assert_int_equal(m.count, 1);
	pboc_members_free(&m);
	parse_ok("[]", &m);
	assert_int_equal(m.count, 0);
	assert_null(pboc_members_find(&m, "A1"));
	pboc_members_free(&m);
}

static void test_member_ids(void **state)
{
	(void)state;
	assert_true(pboc_member_id_valid("01020000", 8));
	assert_true(pboc_member_id_valid("ABCDEFGHIJKLMNOP", 16));
	assert_false(pboc_member_id_valid("ABCDEFGHIJKLMNOPQ", 17));
	assert_false(pboc_member_id_valid("", 0));
	assert_false(pboc_member_id_valid("psp01", 5));
	assert_false(pboc_member_id_valid("PSP-1", 5));
}

static void test_refusals_name_the_path(void **state)
{
	(void)state;
	refused("[{\"member\":\"01020000\",\"kind\":\"bank\"},{\"member\":\"x\",\"kind\":\"bank\"}]",
		"[1].member: must be a string of 1 to 16 characters A-Z 0-9");
	refused("[{\"member\":\"A1\",\"kind\":\"central\"}]",
		"[0].kind: must be one of bank, acquirer, psp, network, switch");
	refused("[{\"member\":\"A1\",\"kind\":\"bank\",\"balance\":-1}]",
		"[0].balance: must be an integer from 0 to");
	refused("[{\"member\":\"A1\",\"kind\":\"bank\",\"credit_limit\":1.5}]",
		"[0].credit_limit: must be an integer");
	refused("[{\"member\":\"A1\",\"kind\":\"bank\",\"balanse\":1}]",
		"[0].balanse: unknown key");
	refused("[{\"kind\":\"bank\"}]", "[0].member: is required");
	refused("[{\"member\":\"A1\"}]", "[0].kind: is required");
	refused("{\"members\":[{\"member\":\"A1\",\"kind\":\"bank\"},"
		"{\"member\":\"A1\",\"kind\":\"psp\"}]}", "members: member A1 appears twice");
	refused("[{\"member\":\"A1\",\"kind\":\"bank\",\"kind\":\"psp\"}]", "duplicate");
	refused("[3]", "[0]: must be an object");
	refused("{\"banks\":[]}", "must be an array of members");
	refused("[{", "line 1");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_both_shapes_sorted),
		cmocka_unit_test(test_member_ids),
		cmocka_unit_test(test_refusals_name_the_path),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
