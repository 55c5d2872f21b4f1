/*
 * test_dialect.c: dialect files. The built-ins load and describe
 * themselves; a dialect file with a mistake is refused with the JSON path
 * of the mistake; a dialect edited in code is checked again by
 * iso8583_dialect_finish.
 */
#include "iso8583_test.h"

#include <unistd.h>

/* Loads json and expects EDIALECT with reason containing want. */
static void expect_refused(const char *json, const char *want)
{
	static iso8583_dialect_t d;
	iso8583_error_t err;
	memset(&err, 0, sizeof(err));
	int rc = iso8583_dialect_load_json(json, strlen(json), &d, &err);
	if (rc != ISO8583_EDIALECT || err.code != ISO8583_EDIALECT)
		fail_msg("loaded (rc %d), want a refusal naming \"%s\"", rc, want);
	if (strstr(err.reason, want) == NULL)
		fail_msg("reason \"%s\" lacks \"%s\"", err.reason, want);
	assert_false(d.finished);
}

#define HEAD "{\"name\": \"t\", \"mti\": \"ascii\", \"bitmap\": \"hex\", "
#define FIELD(n, body) HEAD "\"fields\": {\"" #n "\": {" body "}}}"

static void test_builtins(void **state)
{
	(void)state;
	assert_int_equal(iso8583_dialect_builtin_count(), 3);
	const char *names[] = {"ascii", "binary", "ascii-binbitmap"};
	for (size_t i = 0; i < 3; i++) {
		const iso8583_dialect_t *d = iso8583_dialect_builtin_at(i);
		assert_non_null(d);
		assert_string_equal(d->name, names[i]);
		assert_ptr_equal(iso8583_dialect_builtin(names[i]), d);
		assert_true(d->finished);
		assert_true(strlen(d->description) > 10);
		assert_false(d->tertiary);
		/* fields 2-128 all defined; nothing beyond */
		for (int n = 2; n <= 128; n++)
			assert_true(d->field[n].defined);
		assert_false(d->field[129].defined);
		assert_false(d->field[1].defined);
	}
	assert_null(iso8583_dialect_builtin_at(3));
	assert_null(iso8583_dialect_builtin("ebcdic"));
	const iso8583_dialect_t *a = iso8583_dialect_builtin("ascii");
	const iso8583_dialect_t *b = iso8583_dialect_builtin("binary");
	const iso8583_dialect_t *p = iso8583_dialect_builtin("ascii-binbitmap");
	assert_int_equal(a->mti_encoding, ISO8583_MTI_ASCII);
	assert_int_equal(a->bitmap_encoding, ISO8583_BITMAP_HEX);
	assert_int_equal(b->mti_encoding, ISO8583_MTI_BCD);
	assert_int_equal(b->bitmap_encoding, ISO8583_BITMAP_BINARY);
	assert_int_equal(p->mti_encoding, ISO8583_MTI_ASCII);
	assert_int_equal(p->bitmap_encoding, ISO8583_BITMAP_BINARY);
	/* the class choices docs/dialects.md explains */
	assert_int_equal(a->field[2].cls, ISO8583_CLASS_N);
	assert_int_equal(a->field[2].prefix_digits, 2);
	assert_int_equal(a->field[28].cls, ISO8583_CLASS_XN);
	assert_int_equal(a->field[28].length, 9);
	assert_int_equal(a->field[35].cls, ISO8583_CLASS_Z);
	assert_int_equal(a->field[43].cls, ISO8583_CLASS_ANS);
	assert_int_equal(a->field[52].encoding, ISO8583_ENC_HEX);
	assert_int_equal(b->field[2].encoding, ISO8583_ENC_BCD_RIGHT);
	assert_int_equal(b->field[3].encoding, ISO8583_ENC_BCD);
	assert_int_equal(b->field[35].encoding, ISO8583_ENC_BCD_RIGHT);
	assert_int_equal(b->field[55].cls, ISO8583_CLASS_B);
	assert_int_equal(b->field[55].prefix_encoding, ISO8583_PREFIX_BCD);
	assert_int_equal(p->field[52].encoding, ISO8583_ENC_BINARY);
	assert_string_equal(a->field[2].name, "Primary account number");
}

/* The embedded copy is the file in the tree: same name, same fields. */
static void test_file_equals_builtin(void **state)
{
	(void)state;
	static iso8583_dialect_t d;
	const char *names[] = {"ascii", "binary", "ascii-binbitmap"};
	for (size_t i = 0; i < 3; i++) {
		char path[512];
		snprintf(path, sizeof(path), "%s/iso8583/dialects/%s.json",
			 PS_SOURCE_DIR, names[i]);
		iso8583_error_t err;
		if (iso8583_dialect_load_file(path, &d, &err) != 0)
			fail_msg("%s", err.reason);
		const iso8583_dialect_t *b = iso8583_dialect_builtin(names[i]);
		assert_string_equal(d.name, b->name);
		assert_string_equal(d.description, b->description);
		for (int n = 0; n <= ISO8583_FIELDS_MAX; n++) {
			const iso8583_field_spec_t *x = &d.field[n], *y = &b->field[n];
			assert_int_equal(x->defined, y->defined);
			assert_int_equal(x->cls, y->cls);
			assert_int_equal(x->encoding, y->encoding);
			assert_int_equal(x->length, y->length);
			assert_int_equal(x->prefix_digits, y->prefix_digits);
			assert_int_equal(x->prefix_encoding, y->prefix_encoding);
			assert_int_equal(x->pad_nibble, y->pad_nibble);
			assert_string_equal(x->name, y->name);
		}
	}
}

static void test_json_errors_name_the_path(void **state)
{
	(void)state;
	expect_refused("{\"name\": ", "(JSON) line 1");
	expect_refused("[1, 2]", "a dialect is a JSON object");
	expect_refused("{\"mti\": \"ascii\", \"bitmap\": \"hex\", \"fields\": {}}",
		       "name: missing (required)");
	expect_refused("{\"name\": \"t\", \"bitmap\": \"hex\", \"fields\": {}}",
		       "mti: missing");
	expect_refused("{\"name\": \"t\", \"mti\": \"ascii\", \"fields\": {}}",
		       "bitmap: missing");
	expect_refused("{\"name\": \"t\", \"mti\": \"ascii\", \"bitmap\": \"hex\"}",
		       "fields: missing");
	expect_refused(HEAD "\"fields\": {}, \"colour\": \"red\"}",
		       "colour: unknown key");
	expect_refused(HEAD "\"fields\": {}, \"name\": \"u\"}", "(JSON)"); /* duplicate */
	expect_refused("{\"name\": \"t\", \"mti\": \"ebcdic\", \"bitmap\": \"hex\", \"fields\": {}}",
		       "mti: unknown MTI encoding \"ebcdic\"");
	expect_refused("{\"name\": \"t\", \"mti\": \"ascii\", \"bitmap\": 8, \"fields\": {}}",
		       "bitmap: must be a string");
	expect_refused(HEAD "\"tertiary\": \"yes\", \"fields\": {}}",
		       "tertiary: must be true or false");
	expect_refused("{\"name\": \"\", \"mti\": \"ascii\", \"bitmap\": \"hex\", \"fields\": {}}",
		       "name: a name of 1 to 31 characters");
	expect_refused("{\"name\": \"a-name-that-is-far-too-long-for-it\", \"mti\": \"ascii\","
		       " \"bitmap\": \"hex\", \"fields\": {}}",
		       "name: at most 31 characters");
	expect_refused(HEAD "\"fields\": []}", "fields: must be an object");
	expect_refused(HEAD "\"fields\": {\"x2\": {}}}", "fields.x2: not a field number");
	expect_refused(HEAD "\"fields\": {\"02\": {}}}", "fields.02: not a field number");
	expect_refused(HEAD "\"fields\": {\"200\": {}}}", "fields.200: not a field number");
	expect_refused(HEAD "\"fields\": {\"3\": 6}}", "fields.3: must be an object");
}

static void test_field_errors_name_the_path(void **state)
{
	(void)state;
	expect_refused(FIELD(35, "\"class\": \"z\", \"length\": 37, \"encoding\": \"ebcdic\""),
		       "fields.35.encoding: unknown encoding \"ebcdic\"");
	expect_refused(FIELD(3, "\"class\": \"num\", \"length\": 6, \"encoding\": \"ascii\""),
		       "fields.3.class: unknown class \"num\"");
	expect_refused(FIELD(3, "\"length\": 6, \"encoding\": \"ascii\""),
		       "fields.3.class: missing (required)");
	expect_refused(FIELD(3, "\"class\": \"n\", \"encoding\": \"ascii\""),
		       "fields.3.length: missing");
	expect_refused(FIELD(3, "\"class\": \"n\", \"length\": 6"),
		       "fields.3.encoding: missing");
	expect_refused(FIELD(3, "\"class\": \"n\", \"lenght\": 6, \"length\": 6, \"encoding\": \"ascii\""),
		       "fields.3.lenght: unknown key");
	expect_refused(FIELD(3, "\"class\": \"n\", \"length\": 0, \"encoding\": \"ascii\""),
		       "fields.3.length: must be an integer from 1 to 9999");
	expect_refused(FIELD(3, "\"class\": \"n\", \"length\": 10000, \"encoding\": \"ascii\""),
		       "fields.3.length: must be an integer");
	expect_refused(FIELD(3, "\"class\": \"n\", \"length\": \"6\", \"encoding\": \"ascii\""),
		       "fields.3.length: must be an integer");
	expect_refused(FIELD(2, "\"class\": \"n\", \"length\": 100, \"prefix\": \"LL\","
				" \"prefix_encoding\": \"ascii\", \"encoding\": \"ascii\""),
		       "fields.2.length: length is more than the prefix can say");
	expect_refused(FIELD(2, "\"class\": \"n\", \"length\": 19, \"prefix\": \"L\","
				" \"prefix_encoding\": \"ascii\", \"encoding\": \"ascii\""),
		       "fields.2.prefix: unknown prefix \"L\"");
	expect_refused(FIELD(2, "\"class\": \"n\", \"length\": 19, \"prefix\": \"LL\","
				" \"encoding\": \"ascii\""),
		       "fields.2.prefix_encoding: missing (required for a variable field)");
	expect_refused(FIELD(3, "\"class\": \"n\", \"length\": 6, \"prefix_encoding\": \"bcd\","
				" \"encoding\": \"ascii\""),
		       "fields.3.prefix_encoding: a fixed field has no prefix");
	expect_refused(FIELD(2, "\"class\": \"n\", \"length\": 19, \"prefix\": \"LL\","
				" \"prefix_encoding\": \"ebcdic\", \"encoding\": \"ascii\""),
		       "fields.2.prefix_encoding: unknown prefix encoding");
	expect_refused(FIELD(3, "\"class\": \"n\", \"length\": 6, \"encoding\": \"ascii\", \"pad\": \"F\""),
		       "fields.3.pad: pad applies to bcd encodings only");
	expect_refused(FIELD(3, "\"class\": \"n\", \"length\": 6, \"encoding\": \"bcd\", \"pad\": \"1\""),
		       "fields.3.pad: unknown pad nibble \"1\"");
	expect_refused(FIELD(3, "\"class\": \"n\", \"length\": 6, \"encoding\": \"hex\""),
		       "fields.3.encoding: binary and hex are for class b");
	expect_refused(FIELD(52, "\"class\": \"b\", \"length\": 8, \"encoding\": \"ascii\""),
		       "fields.52.encoding: class b takes binary or hex");
	expect_refused(FIELD(39, "\"class\": \"an\", \"length\": 2, \"encoding\": \"bcd\""),
		       "fields.39.encoding: binary and hex are for class b; bcd is for n, z and xn");
	expect_refused(FIELD(3, "\"class\": \"n\", \"length\": 6, \"encoding\": \"ascii\", \"comment\": 1"),
		       "fields.3.comment: must be a string");
	expect_refused(FIELD(3, "\"name\": \"a name that is much too long for the forty-seven bytes\","
				" \"class\": \"n\", \"length\": 6, \"encoding\": \"ascii\""),
		       "fields.3.name: at most 47 characters");
}

static void test_field_numbers_and_bitmaps(void **state)
{
	(void)state;
	expect_refused(FIELD(1, "\"class\": \"b\", \"length\": 8, \"encoding\": \"binary\""),
		       "fields.1: fields 0 and 1 are the MTI and the bitmap");
	expect_refused(FIELD(0, "\"class\": \"n\", \"length\": 4, \"encoding\": \"ascii\""),
		       "fields.0: fields 0 and 1");
	expect_refused(FIELD(130, "\"class\": \"n\", \"length\": 4, \"encoding\": \"ascii\""),
		       "fields.130: fields 129-192 need \"tertiary\": true");
	expect_refused(HEAD "\"tertiary\": true, \"fields\": {\"65\": {\"class\": \"b\","
		       " \"length\": 1, \"encoding\": \"binary\"}}}",
		       "fields.65: bit 65 announces the tertiary bitmap");
	/* key order does not matter: tertiary after fields */
	static iso8583_dialect_t d;
	load_dialect(&d, "{\"fields\": {\"192\": {\"class\": \"n\", \"length\": 1, \"encoding\": \"ascii\"}},"
			 " \"tertiary\": true, \"name\": \"late\", \"mti\": \"bcd\", \"bitmap\": \"binary\"}");
	assert_true(d.field[192].defined);
}

static void test_load_file(void **state)
{
	(void)state;
	static iso8583_dialect_t d;
	iso8583_error_t err;
	assert_int_equal(iso8583_dialect_load_file("/nonexistent/x.json", &d, &err),
			 ISO8583_EDIALECT);
	assert_non_null(strstr(err.reason, "/nonexistent/x.json"));
	char path[] = "/tmp/ps-dialect-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	const char *bad = FIELD(35, "\"class\": \"z\", \"length\": 37, \"encoding\": \"ebcdic\"");
	assert_int_equal(write(fd, bad, strlen(bad)), (ssize_t)strlen(bad));
	close(fd);
	assert_int_equal(iso8583_dialect_load_file(path, &d, &err), ISO8583_EDIALECT);
	assert_non_null(strstr(err.reason, "fields.35.encoding"));
	char line[256];
	assert_non_null(strstr(iso8583_error_format(&err, line, sizeof(line)),
			       "dialect: fields.35.encoding"));
	unlink(path);
}

/* A copy of a built-in, edited in code and finished again, is used as edited. */
static void test_edit_and_finish(void **state)
{
	(void)state;
	static iso8583_dialect_t d;
	static iso8583_msg_t m;
	iso8583_error_t err;
	d = *iso8583_dialect_builtin("ascii");
	d.field[2].encoding = ISO8583_ENC_BCD_RIGHT;
	d.field[2].prefix_encoding = ISO8583_PREFIX_BINARY;
	assert_int_equal(iso8583_dialect_finish(&d, &err), 0);
	iso8583_msg_init(&m, &d);
	iso8583_set_mti(&m, "0200");
	iso8583_set_str(&m, 2, "123");
	uint8_t out[64];
	size_t len;
	pack_ok(&m, out, sizeof(out), &len);
	assert_int_equal(len, 4 + 16 + 1 + 2);
	assert_memory_equal(out + 20, "\x03\x12\x30", 3);
	/* an edit that breaks a rule is caught, and the dialect unfinished */
	d.field[3].cls = ISO8583_CLASS_B;
	assert_int_equal(iso8583_dialect_finish(&d, &err), ISO8583_EDIALECT);
	assert_non_null(strstr(err.reason, "fields.3.encoding"));
	assert_false(d.finished);
	d.field[3].cls = ISO8583_CLASS_N;
	d.field[3].length = 0;
	assert_int_equal(iso8583_dialect_finish(&d, &err), ISO8583_EDIALECT);
	assert_non_null(strstr(err.reason, "fields.3.length"));
	d.field[3].length = 6;
	d.field[3].prefix_digits = 5;
	assert_int_equal(iso8583_dialect_finish(&d, &err), ISO8583_EDIALECT);
	assert_non_null(strstr(err.reason, "fields.3.prefix"));
	d.field[3].prefix_digits = 0;
	d.field[3].pad_nibble = 7;
	assert_int_equal(iso8583_dialect_finish(&d, &err), ISO8583_EDIALECT);
	assert_non_null(strstr(err.reason, "fields.3.pad"));
	d.field[3].pad_nibble = 0;
	d.mti_encoding = 9;
	assert_int_equal(iso8583_dialect_finish(&d, &err), ISO8583_EDIALECT);
	d.mti_encoding = 0;
	/* removing a field makes its bit undefined */
	d.field[4].defined = false;
	assert_int_equal(iso8583_dialect_finish(&d, &err), 0);
	const char *in = "0200" "1000000000000000" "000000012850";
	assert_int_equal(iso8583_unpack(&m, &d, (const uint8_t *)in, strlen(in), &err),
			 ISO8583_EUNDEFINED);
	assert_int_equal(iso8583_set_str(&m, 4, "000000000001"), ISO8583_EUNDEFINED);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(iso8583_class_name(ISO8583_CLASS_N), "n");
	assert_string_equal(iso8583_class_name(ISO8583_CLASS_XN), "xn");
	assert_string_equal(iso8583_class_name(99), "?");
	assert_string_equal(iso8583_class_name(-1), "?");
	assert_string_equal(iso8583_encoding_name(ISO8583_ENC_BCD_RIGHT), "bcd-right");
	assert_string_equal(iso8583_encoding_name(ISO8583_ENC_HEX), "hex");
	assert_string_equal(iso8583_encoding_name(42), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_builtins),
		cmocka_unit_test(test_file_equals_builtin),
		cmocka_unit_test(test_json_errors_name_the_path),
		cmocka_unit_test(test_field_errors_name_the_path),
		cmocka_unit_test(test_field_numbers_and_bitmaps),
		cmocka_unit_test(test_load_file),
		cmocka_unit_test(test_edit_and_finish),
		cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
