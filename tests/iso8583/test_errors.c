/*
 * test_errors.c: every malformed input gets its own error code, the field
 * it is in and the byte offset where it went wrong; pack refuses values
 * that do not fit their field. Each case names what it breaks.
 */
#include "iso8583_test.h"
#include "every_dialect.h"

static iso8583_dialect_t every;

static int setup(void **state)
{
	(void)state;
	load_dialect(&every, every_dialect_json);
	return 0;
}

/* Unpacks len bytes and checks the error: code, field and offset. */
static void expect_unpack(const iso8583_dialect_t *d, const void *in,
			  size_t len, int code, int field, size_t offset,
			  const char *reason_part)
{
	static iso8583_msg_t m;
	iso8583_error_t err;
	memset(&err, 0, sizeof(err));
	/* an exact-size copy so that ASan sees any read past the end */
	uint8_t *copy = malloc(len ? len : 1);
	memcpy(copy, in, len);
	int rc = iso8583_unpack(&m, d, copy, len, &err);
	free(copy);
	if (rc != code || err.code != code || err.field != field ||
	    err.offset != offset)
		fail_msg("got rc %d field %d offset %zu (%s), want %d field %d offset %zu",
			 rc, err.field, err.offset, err.reason, code, field, offset);
	if (reason_part != NULL && strstr(err.reason, reason_part) == NULL)
		fail_msg("reason \"%s\" lacks \"%s\"", err.reason, reason_part);
	assert_false(iso8583_has(&m, 2)); /* a failed unpack leaves nothing */
	assert_int_equal(m.mti[0], 0);
}

#define ASCII iso8583_dialect_builtin("ascii")
#define BINARY iso8583_dialect_builtin("binary")
#define S(lit) lit, sizeof(lit) - 1

static void test_short_or_bad_mti(void **state)
{
	(void)state;
	expect_unpack(ASCII, S(""), ISO8583_EMTI, 0, 0, "needs 4 bytes");
	expect_unpack(ASCII, S("020"), ISO8583_EMTI, 0, 0, "needs 4 bytes");
	expect_unpack(ASCII, S("02X0" "2000000000000000" "000000"),
		      ISO8583_EMTI, 0, 2, "0x58 is not a digit");
	expect_unpack(BINARY, S("\x02"), ISO8583_EMTI, 0, 0, "needs 2 bytes");
	expect_unpack(BINARY, S("\x02\x0A"), ISO8583_EMTI, 0, 1,
		      "not two BCD digits");
}

static void test_short_or_bad_bitmap(void **state)
{
	(void)state;
	expect_unpack(ASCII, S("0200" "2000"), ISO8583_EBITMAP, 1, 4,
		      "primary bitmap needs 16 bytes, 4 left");
	expect_unpack(ASCII, S("0200" "20000G0000000000" "000000"),
		      ISO8583_EBITMAP, 1, 9, "0x47 is not a hex digit");
	expect_unpack(ASCII, S("0200" "A000000000000000" "00000000"),
		      ISO8583_EBITMAP, 1, 20, "secondary bitmap needs 16");
	expect_unpack(ASCII, S("0200" "A000000000000000" "000000000000000x"
			       "000000"),
		      ISO8583_EBITMAP, 1, 35, "0x78");
	expect_unpack(BINARY, S("\x02\x00" "\x20\x00\x00\x00\x00"),
		      ISO8583_EBITMAP, 1, 2, "needs 8 bytes, 5 left");
	expect_unpack(BINARY, S("\x02\x00" "\x80\x00\x00\x00\x00\x00\x00\x00"
				"\x00\x00"),
		      ISO8583_EBITMAP, 1, 10, "secondary");
}

static void test_bit_for_undefined_field(void **state)
{
	(void)state;
	/* "every" defines 2-23, 70 and 128: bit 24 is the 6th hex digit */
	expect_unpack(&every, S("0200" "0000010000000000"), ISO8583_EUNDEFINED,
		      24, 9, "does not define field 24");
	/* the lowest undefined bit is named, here 65 in the secondary */
	expect_unpack(&every, S("0200" "8000000000000000" "C000000000000000"),
		      ISO8583_EUNDEFINED, 65, 20, "field 65");
	static iso8583_dialect_t bin;
	load_dialect(&bin, "{\"name\": \"b\", \"mti\": \"bcd\", \"bitmap\": \"binary\","
		     " \"fields\": {\"3\": {\"class\": \"n\", \"length\": 6, \"encoding\": \"bcd\"}}}");
	/* binary bitmap: field 12's bit is in byte 1 of the bitmap */
	expect_unpack(&bin, S("\x02\x00" "\x20\x10\x00\x00\x00\x00\x00\x00"),
		      ISO8583_EUNDEFINED, 12, 3, "field 12");
}

static void test_bad_length_prefix(void **state)
{
	(void)state;
	expect_unpack(ASCII, S("0200" "4000000000000000" "1A12345678901"),
		      ISO8583_EPREFIX, 2, 20, "not 2 ASCII digits");
	expect_unpack(ASCII, S("0200" "4000000000000000" "20" "12345678901234567890"),
		      ISO8583_EPREFIX, 2, 20, "length 20 is over the field's maximum 19");
}

/* A bitmap with no bits is a valid, empty message. */
static void test_empty_message_is_valid(void **state)
{
	(void)state;
	static iso8583_msg_t m;
	iso8583_error_t err;
	const char *in = "0800" "0000000000000000";
	assert_int_equal(iso8583_unpack(&m, ASCII, (const uint8_t *)in, 20, &err), 0);
	for (int n = 1; n <= ISO8583_FIELDS_MAX; n++)
		assert_false(iso8583_has(&m, n));
}

static void test_bad_bcd_prefix(void **state)
{
	(void)state;
	expect_unpack(BINARY, S("\x02\x00" "\x40\x00\x00\x00\x00\x00\x00\x00"
				"\x1A" "\x12\x34"),
		      ISO8583_EPREFIX, 2, 10, "not 2 BCD digits");
	expect_unpack(BINARY, S("\x02\x00" "\x40\x00\x00\x00\x00\x00\x00\x00"
				"\x20" "\x12\x34\x56\x78\x90\x12\x34\x56\x78\x90"),
		      ISO8583_EPREFIX, 2, 10, "over the field's maximum 19");
	/* field 18 of "every": LLL as two binary bytes, 1000 > 999 */
	expect_unpack(&every, S("0200" "0000400000000000" "\x03\xE8"),
		      ISO8583_EPREFIX, 18, 20, "length 1000 is over");
}

static void test_content_outside_class(void **state)
{
	(void)state;
	/* n: a letter at position 2 of field 3 */
	expect_unpack(ASCII, S("0200" "2000000000000000" "00A000"),
		      ISO8583_ECONTENT, 3, 22, "outside class n: byte 0x41");
	/* an: '-' in the response code (39) */
	expect_unpack(ASCII, S("0200" "0000000002000000" "0-"),
		      ISO8583_ECONTENT, 39, 21, "class an");
	/* ans: DEL in the card acceptor name (43) */
	char name43[64] = "0200" "0000000000200000" "SHOP \x7F";
	memset(name43 + 26, ' ', 34);
	expect_unpack(ASCII, name43, 60, ISO8583_ECONTENT, 43, 25, "0x7F");
	/* b as hex text: 'G' in the PIN block (52) */
	expect_unpack(ASCII, S("0200" "0000000000001000" "00112233445566G7"),
		      ISO8583_ECONTENT, 52, 34, "0x47");
	/* z as ASCII: 'D' is not a track 2 separator in text */
	expect_unpack(&every, S("0200" "0100000000000000" "05" "12D45"),
		      ISO8583_ECONTENT, 8, 24, "class z");
	/* x+n as ASCII: the sign must be printable, the rest digits */
	expect_unpack(&every, S("0200" "0020000000000000" "\x01" "00001000"),
		      ISO8583_ECONTENT, 11, 20, "sign");
	expect_unpack(&every, S("0200" "0020000000000000" "C0000100X"),
		      ISO8583_ECONTENT, 11, 28, "digits after its sign");
	/* BCD: nibble A in field 3 of the binary dialect */
	expect_unpack(BINARY, S("\x02\x00" "\x20\x00\x00\x00\x00\x00\x00\x00"
				"\x00\x0A\x00"),
		      ISO8583_ECONTENT, 3, 11, "not a digit");
	/* BCD: a left pad nibble that is not 0, and one that is not F */
	expect_unpack(&every, S("0200" "1000000000000000" "\x11\x23\x45"),
		      ISO8583_ECONTENT, 4, 20, "pad nibble is not 0");
	expect_unpack(&every, S("0200" "0400000000000000" "\x01\x23\x45"),
		      ISO8583_ECONTENT, 6, 20, "pad nibble is not F");
	/* BCD right pad in the last byte */
	expect_unpack(&every, S("0200" "0800000000000000" "\x12\x34\x5F"),
		      ISO8583_ECONTENT, 5, 22, "pad nibble is not 0");
	/* z in BCD: D is '=', E is nothing */
	expect_unpack(&every, S("0200" "0080000000000000" "\x05" "\x12\xE4\x50"),
		      ISO8583_ECONTENT, 9, 22, "digit or D");
	/* x+n in BCD: the sign byte must be printable */
	expect_unpack(&every, S("0200" "0010000000000000" "\x80\x00\x00\x10\x00"),
		      ISO8583_ECONTENT, 12, 20, "sign");
}

static void test_data_shorter_than_declared(void **state)
{
	(void)state;
	expect_unpack(ASCII, S("0200" "4000000000000000" "19" "12345"),
		      ISO8583_ETRUNCATED, 2, 22, "content needs 19 bytes, 5 left");
	expect_unpack(ASCII, S("0200" "4000000000000000" "1"),
		      ISO8583_ETRUNCATED, 2, 20, "length prefix needs 2 bytes");
	expect_unpack(ASCII, S("0200" "6000000000000000" "02" "12" "000"),
		      ISO8583_ETRUNCATED, 3, 24, "content needs 6 bytes, 3 left");
	expect_unpack(BINARY, S("\x02\x00" "\x20\x00\x00\x00\x00\x00\x00\x00" "\x00\x00"),
		      ISO8583_ETRUNCATED, 3, 10, "needs 3 bytes, 2 left");
}

static void test_bytes_after_last_field(void **state)
{
	(void)state;
	expect_unpack(ASCII, S("0200" "2000000000000000" "000000" "XY"),
		      ISO8583_ETRAILING, -1, 26, "2 bytes after the last field");
}

/* Every cut of a valid message fails cleanly, for every built-in. */
static void test_every_truncation_fails(void **state)
{
	(void)state;
	for (size_t i = 0; i < iso8583_dialect_builtin_count(); i++) {
		const iso8583_dialect_t *d = iso8583_dialect_builtin_at(i);
		static iso8583_msg_t m;
		iso8583_msg_init(&m, d);
		iso8583_set_mti(&m, "0200");
		iso8583_set_str(&m, 2, "6222020000000001");
		iso8583_set_str(&m, 3, "000000");
		iso8583_set_str(&m, 35, "6222020000000001=2512101");
		iso8583_set(&m, 52, "\x11\x22\x33\x44\x55\x66\x77\x88", 8);
		iso8583_set_str(&m, 70, "301");
		uint8_t full[256];
		size_t len;
		pack_ok(&m, full, sizeof(full), &len);
		for (size_t cut = 0; cut < len; cut++) {
			uint8_t *copy = malloc(cut ? cut : 1);
			memcpy(copy, full, cut);
			iso8583_error_t err;
			int rc = iso8583_unpack(&m, d, copy, cut, &err);
			free(copy);
			assert_true(rc == ISO8583_EMTI || rc == ISO8583_EBITMAP ||
				    rc == ISO8583_ETRUNCATED);
			assert_true(err.offset <= cut);
		}
	}
}

static void expect_pack(iso8583_msg_t *m, int code, int field,
			const char *reason_part)
{
	uint8_t out[512];
	size_t len;
	iso8583_error_t err;
	int rc = iso8583_pack(m, out, sizeof(out), &len, &err);
	if (rc != code || err.field != field)
		fail_msg("pack: got %d field %d (%s), want %d field %d", rc,
			 err.field, err.reason, code, field);
	if (reason_part != NULL && strstr(err.reason, reason_part) == NULL)
		fail_msg("reason \"%s\" lacks \"%s\"", err.reason, reason_part);
}

static void test_pack_refuses(void **state)
{
	(void)state;
	static iso8583_msg_t m;
	iso8583_msg_init(&m, ASCII);
	expect_pack(&m, ISO8583_ENOMTI, 0, "no MTI");
	iso8583_set_mti(&m, "0200");
	iso8583_set_str(&m, 3, "00000");
	expect_pack(&m, ISO8583_ELENGTH, 3, "fixed field of length 6 given 5");
	iso8583_set_str(&m, 3, "0000000");
	expect_pack(&m, ISO8583_ELENGTH, 3, "given 7");
	iso8583_set_str(&m, 3, "00A000");
	expect_pack(&m, ISO8583_ECONTENT, 3, "byte 0x41 at position 2");
	iso8583_set_str(&m, 3, "000000");
	iso8583_set_str(&m, 2, "12345678901234567890");
	expect_pack(&m, ISO8583_ELENGTH, 2, "over the maximum 19");
	iso8583_set_str(&m, 2, "1234");
	iso8583_set_str(&m, 39, "0\n");
	expect_pack(&m, ISO8583_ECONTENT, 39, "class an");
	iso8583_set_str(&m, 39, "00");
	iso8583_set_str(&m, 35, "1234D5678");
	expect_pack(&m, ISO8583_ECONTENT, 35, "class z");
	iso8583_set_str(&m, 35, "1234=5678");
	iso8583_set_str(&m, 28, "C0000100X");
	expect_pack(&m, ISO8583_ECONTENT, 28, "x+n");
	iso8583_set_str(&m, 28, "C00001000");
	iso8583_set(&m, 52, "\x01\x02", 2);
	expect_pack(&m, ISO8583_ELENGTH, 52, "length 8 given 2");
	iso8583_unset(&m, 52);
	uint8_t out[512];
	size_t len;
	pack_ok(&m, out, sizeof(out), &len);

	/* a wire span that does not fit its field is refused, not copied */
	static iso8583_msg_t w;
	unpack_ok(&w, ASCII, out, len);
	w.field[3].size = 5;
	expect_pack(&w, ISO8583_ELENGTH, 3, "wire span");
}

static void test_error_format(void **state)
{
	(void)state;
	static iso8583_msg_t m;
	iso8583_error_t err;
	char line[256];
	const char *in = "0200" "2000000000000000" "00A000";
	assert_int_equal(iso8583_unpack(&m, ASCII, (const uint8_t *)in, strlen(in), &err),
			 ISO8583_ECONTENT);
	assert_string_equal(iso8583_error_format(&err, line, sizeof(line)),
			    "field 3 at offset 22: content outside class n: byte 0x41 (class n takes digits only)");
	in = "02";
	iso8583_unpack(&m, ASCII, (const uint8_t *)in, 2, &err);
	assert_string_equal(iso8583_error_format(&err, line, sizeof(line)),
			    "MTI at offset 0: the MTI needs 4 bytes, 2 left");
	/* a short buffer gets a cut, terminated line */
	iso8583_error_format(&err, line, 8);
	assert_string_equal(line, "MTI at ");
	assert_string_equal(iso8583_strerror(ISO8583_ECONTENT), "content outside class");
	assert_string_equal(iso8583_strerror(12345), "unknown error");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_short_or_bad_mti),
		cmocka_unit_test(test_short_or_bad_bitmap),
		cmocka_unit_test(test_bit_for_undefined_field),
		cmocka_unit_test(test_bad_length_prefix),
		cmocka_unit_test(test_empty_message_is_valid),
		cmocka_unit_test(test_bad_bcd_prefix),
		cmocka_unit_test(test_content_outside_class),
		cmocka_unit_test(test_data_shorter_than_declared),
		cmocka_unit_test(test_bytes_after_last_field),
		cmocka_unit_test(test_every_truncation_fails),
		cmocka_unit_test(test_pack_refuses),
		cmocka_unit_test(test_error_format),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
