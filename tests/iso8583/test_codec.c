/*
 * test_codec.c: every class and encoding packed to exact, hand-computed
 * bytes and read back; bitmaps (primary, secondary, tertiary, and empty
 * extensions kept); the pack size report; and the setters and getters.
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

/* Upper-case hex of a bitmap with only the given fields' bits set. */
static void bitmap_hex(const int *fields, size_t count, bool tertiary,
		       char *out)
{
	uint8_t bits[24] = {0};
	size_t words = 1;
	for (size_t i = 0; i < count; i++) {
		int n = fields[i];
		bits[(n - 1) / 8] |= (uint8_t)(0x80 >> ((n - 1) % 8));
		if (n > 64)
			words = PS_MAX(words, 2u);
		if (n > 128 && tertiary)
			words = 3;
	}
	if (words >= 2)
		bits[0] |= 0x80;
	if (words == 3)
		bits[8] |= 0x80;
	ps_hex_encode(bits, 8 * words, out);
}

struct row {
	int field;
	const char *value;   /* the plain value: text, or raw bytes for b */
	size_t value_len;
	const char *text;    /* what get_text gives back */
	const char *wire;    /* prefix and content on the wire, in hex */
};

#define ROW(n, v, text, wire) {n, v, sizeof(v) - 1, text, wire}

static const struct row rows[] = {
	ROW(2, "4761739001010119", "4761739001010119",
	    "3136" "34373631373339303031303130313139"),
	ROW(3, "000100", "000100", "303030313030"),
	/* odd BCD: a leading 0 nibble, a trailing 0, a leading F */
	ROW(4, "12345", "12345", "012345"),
	ROW(5, "12345", "12345", "123450"),
	ROW(6, "12345", "12345", "F12345"),
	/* BCD prefix 0x03, right pad F */
	ROW(7, "123", "123", "03" "123F"),
	/* track 2 as ASCII, as right-padded BCD with a binary prefix, and
	 * as left-padded BCD: '=' is nibble D */
	ROW(8, "4761=2512", "4761=2512", "3039" "343736313D32353132"),
	ROW(9, "476173=2512", "476173=2512", "0B" "476173D25120"),
	ROW(10, "12=45", "12=45", "05" "012D45"),
	/* x+n: sign in ASCII, digits in ASCII or BCD */
	ROW(11, "C00001000", "C00001000", "433030303031303030"),
	ROW(12, "D00001000", "D00001000", "44" "00001000"),
	ROW(13, "C1234567", "C1234567", "43" "01234567"),
	ROW(14, "AB 12", "AB 12", "303035" "4142203132"),
	/* ans takes punctuation and multi-byte text (GBK here) */
	ROW(15, "a/b-\xC4\xE3", "a/b-\xC4\xE3", "3036" "612F622DC4E3"),
	ROW(16, "\x01\x02\x03\x04\x05\x06\x07\x08", "0102030405060708",
	    "0102030405060708"),
	ROW(17, "\xCA\xFE\xBA\xBE\x00\x11\x22\x33", "CAFEBABE00112233",
	    "43414645424142453030313132323333"),
	/* LLL binary prefix: two bytes big-endian, counting bytes */
	ROW(18, "\x00\xFF\x10", "00FF10", "0003" "00FF10"),
	ROW(19, "hello", "hello", "30303035" "68656C6C6F"),
	/* LLLL BCD prefix counts bytes, the content is their hex text */
	ROW(20, "\xAB\xCD", "ABCD", "0002" "41424344"),
	ROW(21, "123", "123", "0003" "0123"),
	ROW(22, "A1 ", "A1 ", "413120"),
	/* a variable field may be empty */
	ROW(23, "", "", "3030"),
};

static size_t expected_message(const int *fields, size_t count,
			       const char *wire_hex, uint8_t *out)
{
	char hex[8192];
	char bitmap[49];
	bitmap_hex(fields, count, false, bitmap);
	snprintf(hex, sizeof(hex), "30323030%s", "");
	size_t n = strlen(hex);
	for (const char *b = bitmap; *b; b++)
		n += (size_t)snprintf(hex + n, sizeof(hex) - n, "%02X", *b);
	snprintf(hex + n, sizeof(hex) - n, "%s", wire_hex);
	return unhex(hex, out, 4096);
}

static void test_each_class_and_encoding(void **state)
{
	(void)state;
	for (size_t i = 0; i < PS_ARRAY_LEN(rows); i++) {
		const struct row *r = &rows[i];
		static iso8583_msg_t m, back;
		uint8_t want[4096], out[4096], again[4096];
		size_t want_len = expected_message(&r->field, 1, r->wire, want);
		iso8583_msg_init(&m, &every);
		assert_int_equal(iso8583_set_mti(&m, "0200"), 0);
		assert_int_equal(iso8583_set(&m, r->field, r->value, r->value_len), 0);
		size_t len;
		pack_ok(&m, out, sizeof(out), &len);
		if (len != want_len || memcmp(out, want, len) != 0) {
			char got[8200];
			ps_hex_encode(out, PS_MIN(len, 4096u), got);
			fail_msg("field %d: packed %s, want %s", r->field, got,
				 r->wire);
		}
		unpack_ok(&back, &every, out, len);
		assert_true(iso8583_has(&back, r->field));
		assert_string_equal(text_of(&back, r->field), r->text);
		size_t again_len;
		pack_ok(&back, again, sizeof(again), &again_len);
		assert_int_equal(again_len, len);
		assert_memory_equal(again, out, len);
	}
}

/* All rows in one message: fields follow in order, one bitmap for all. */
static void test_all_fields_in_one_message(void **state)
{
	(void)state;
	static iso8583_msg_t m, back;
	int fields[PS_ARRAY_LEN(rows)];
	char wire[4096] = "";
	iso8583_msg_init(&m, &every);
	assert_int_equal(iso8583_set_mti(&m, "0200"), 0);
	for (size_t i = 0; i < PS_ARRAY_LEN(rows); i++) {
		fields[i] = rows[i].field;
		strcat(wire, rows[i].wire);
		assert_int_equal(iso8583_set(&m, rows[i].field, rows[i].value,
					     rows[i].value_len), 0);
	}
	uint8_t want[4096], out[4096];
	size_t want_len = expected_message(fields, PS_ARRAY_LEN(rows), wire, want);
	size_t len;
	pack_ok(&m, out, sizeof(out), &len);
	assert_int_equal(len, want_len);
	assert_memory_equal(out, want, len);
	unpack_ok(&back, &every, out, len);
	for (size_t i = 0; i < PS_ARRAY_LEN(rows); i++)
		assert_string_equal(text_of(&back, rows[i].field), rows[i].text);
	assert_false(iso8583_has(&back, 1));
	assert_false(iso8583_has(&back, 24));
}

static void test_binary_dialect_bcd_mti_and_bitmap(void **state)
{
	(void)state;
	static iso8583_msg_t m;
	const iso8583_dialect_t *d = iso8583_dialect_builtin("binary");
	iso8583_msg_init(&m, d);
	assert_int_equal(iso8583_set_mti(&m, "0210"), 0);
	assert_int_equal(iso8583_set_str(&m, 3, "310000"), 0);
	assert_int_equal(iso8583_set_str(&m, 39, "00"), 0);
	assert_int_equal(iso8583_set_str(&m, 70, "301"), 0);
	uint8_t out[64], want[64];
	size_t len;
	pack_ok(&m, out, sizeof(out), &len);
	size_t want_len = unhex("0210" "A000000002000000" "0400000000000000"
				"310000" "3030" "0301", want, sizeof(want));
	assert_int_equal(len, want_len);
	assert_memory_equal(out, want, len);
	unpack_ok(&m, d, out, len);
	assert_memory_equal(m.mti, "0210", 4);
	assert_string_equal(text_of(&m, 70), "301");
}

static const char tertiary_json[] =
	"{\"name\": \"three\", \"mti\": \"ascii\", \"bitmap\": \"binary\", \"tertiary\": true,"
	" \"fields\": {"
	" \"2\": {\"class\": \"n\", \"length\": 19, \"prefix\": \"LL\", \"prefix_encoding\": \"ascii\", \"encoding\": \"ascii\"},"
	" \"70\": {\"class\": \"n\", \"length\": 3, \"encoding\": \"ascii\"},"
	" \"130\": {\"class\": \"an\", \"length\": 2, \"encoding\": \"ascii\"},"
	" \"192\": {\"class\": \"b\", \"length\": 2, \"encoding\": \"binary\"}}}";

static void test_tertiary_bitmap(void **state)
{
	(void)state;
	static iso8583_dialect_t d;
	static iso8583_msg_t m, back;
	load_dialect(&d, tertiary_json);
	iso8583_msg_init(&m, &d);
	assert_int_equal(iso8583_set_mti(&m, "0100"), 0);
	assert_int_equal(iso8583_set_str(&m, 2, "12"), 0);
	assert_int_equal(iso8583_set_str(&m, 130, "OK"), 0);
	assert_int_equal(iso8583_set(&m, 192, "\xBE\xEF", 2), 0);
	/* 65 is the tertiary bitmap's bit, not a field, in this dialect */
	assert_int_equal(iso8583_set_str(&m, 65, "1"), ISO8583_EUNDEFINED);
	uint8_t out[128], want[128];
	size_t len;
	pack_ok(&m, out, sizeof(out), &len);
	/* primary: 1 and 2; secondary: 65 only; tertiary: 130 and 192 */
	size_t want_len = unhex("30313030" "C000000000000000" "8000000000000000"
				"4000000000000001" "3032" "3132" "4F4B" "BEEF",
				want, sizeof(want));
	assert_int_equal(len, want_len);
	assert_memory_equal(out, want, len);
	unpack_ok(&back, &d, out, len);
	assert_string_equal(text_of(&back, 130), "OK");
	assert_string_equal(text_of(&back, 192), "BEEF");
	assert_true(iso8583_has(&back, 65));
	/* ... which marks the bitmap: it has no value to read (regression:
	 * get used to hand back an unset field entry here) */
	iso8583_field_t f;
	char text[16];
	assert_int_equal(iso8583_get(&back, 65, &f), ISO8583_EINVAL);
	assert_int_equal(iso8583_get_text(&back, 65, text, sizeof(text), NULL), ISO8583_EINVAL);

	/* Without 129-192 the tertiary bitmap goes, and 70 needs only two. */
	iso8583_unset(&m, 130);
	iso8583_unset(&m, 192);
	assert_int_equal(iso8583_set_str(&m, 70, "301"), 0);
	pack_ok(&m, out, sizeof(out), &len);
	want_len = unhex("30313030" "C000000000000000" "0400000000000000"
			 "3032" "3132" "333031", want, sizeof(want));
	assert_int_equal(len, want_len);
	assert_memory_equal(out, want, len);
}

/* A peer that always sends extended bitmaps gets the same bytes back. */
static void test_empty_extension_bitmaps_kept(void **state)
{
	(void)state;
	static iso8583_dialect_t d;
	static iso8583_msg_t m;
	uint8_t in[128], out[128];
	size_t len;
	/* ascii: bits 1 and 3, and a secondary bitmap of zeros */
	const char *ascii = "0800" "A000000000000000" "0000000000000000"
			    "000001";
	size_t in_len = strlen(ascii);
	memcpy(in, ascii, in_len);
	unpack_ok(&m, iso8583_dialect_builtin("ascii"), in, in_len);
	assert_true(iso8583_has(&m, 1));
	assert_string_equal(text_of(&m, 3), "000001");
	pack_ok(&m, out, sizeof(out), &len);
	assert_int_equal(len, in_len);
	assert_memory_equal(out, in, in_len);
	/* built from scratch, the same message has no secondary bitmap */
	iso8583_msg_init(&m, iso8583_dialect_builtin("ascii"));
	iso8583_set_mti(&m, "0800");
	iso8583_set_str(&m, 3, "000001");
	pack_ok(&m, out, sizeof(out), &len);
	assert_int_equal(len, in_len - 16);
	assert_memory_equal(out, "08002000000000000000000001", len);

	/* tertiary announced, empty */
	load_dialect(&d, tertiary_json);
	in_len = unhex("30313030" "C000000000000000" "8000000000000000"
		       "0000000000000000" "3032" "3132", in, sizeof(in));
	unpack_ok(&m, &d, in, in_len);
	assert_true(iso8583_has(&m, 65));
	pack_ok(&m, out, sizeof(out), &len);
	assert_int_equal(len, in_len);
	assert_memory_equal(out, in, in_len);
}

/* A lower-case hex bitmap is accepted; pack writes it upper case. */
static void test_lower_case_bitmap_canonical_on_pack(void **state)
{
	(void)state;
	static iso8583_msg_t m;
	const char *in = "0200a000000000000000" "0000000000000001" "000000"
			 "CAFEBABECAFEBABE";
	/* 3 and 128 (a secondary bitmap): "a000..." then "0000...01" */
	unpack_ok(&m, iso8583_dialect_builtin("ascii"), (const uint8_t *)in,
		  strlen(in));
	uint8_t out[128];
	size_t len;
	pack_ok(&m, out, sizeof(out), &len);
	assert_int_equal(len, strlen(in));
	assert_memory_equal(out, "0200A000000000000000", 20);
	assert_memory_equal(out + 20, in + 20, len - 20);
	/* hex field content in lower case is kept on the wire, upper in text */
	const char *lower = "0200" "8000000000000000" "0000000000000001"
			    "cafebabecafebabe";
	unpack_ok(&m, iso8583_dialect_builtin("ascii"), (const uint8_t *)lower,
		  strlen(lower));
	assert_string_equal(text_of(&m, 128), "CAFEBABECAFEBABE");
	pack_ok(&m, out, sizeof(out), &len);
	assert_memory_equal(out, lower, len);
}

static void test_pack_reports_size_needed(void **state)
{
	(void)state;
	static iso8583_msg_t m;
	iso8583_msg_init(&m, &every);
	assert_int_equal(iso8583_set_mti(&m, "0200"), 0);
	for (size_t i = 0; i < PS_ARRAY_LEN(rows); i++)
		assert_int_equal(iso8583_set(&m, rows[i].field, rows[i].value,
					     rows[i].value_len), 0);
	uint8_t out[512];
	size_t need;
	pack_ok(&m, out, sizeof(out), &need);
	for (size_t cap = 0; cap < need; cap++) {
		uint8_t small[512];
		size_t len = 12345;
		iso8583_error_t err;
		assert_int_equal(iso8583_pack(&m, small, cap, &len, &err),
				 ISO8583_ENOSPC);
		assert_int_equal(len, need);
		assert_int_equal(err.code, ISO8583_ENOSPC);
	}
	size_t len;
	pack_ok(&m, out, need, &len);
	assert_int_equal(len, need);
	/* NULL out with no room: only counts */
	iso8583_error_t err;
	assert_int_equal(iso8583_pack(&m, NULL, 0, &len, &err), ISO8583_ENOSPC);
	assert_int_equal(len, need);
}

static void test_set_num(void **state)
{
	(void)state;
	static iso8583_msg_t m;
	const iso8583_dialect_t *d = iso8583_dialect_builtin("ascii");
	iso8583_msg_init(&m, d);
	assert_int_equal(iso8583_set_num(&m, 4, 12850), 0);
	assert_string_equal(text_of(&m, 4), "000000012850");
	assert_int_equal(iso8583_set_num(&m, 11, 7), 0);
	assert_string_equal(text_of(&m, 11), "000007");
	assert_int_equal(iso8583_set_num(&m, 32, 0), 0);  /* LL: minimal */
	assert_string_equal(text_of(&m, 32), "0");
	assert_int_equal(iso8583_set_num(&m, 2, 6222020000000001ull), 0);
	assert_string_equal(text_of(&m, 2), "6222020000000001");
	assert_int_equal(iso8583_set_num(&m, 11, 1000000), ISO8583_ELENGTH);
	assert_int_equal(iso8583_set_num(&m, 32, 123456789012ull), ISO8583_ELENGTH);
	assert_int_equal(iso8583_set_num(&m, 39, 0), ISO8583_EINVAL); /* an */
	assert_int_equal(iso8583_set_num(&m, 1, 0), ISO8583_EINVAL);
	assert_int_equal(iso8583_set_num(&m, 193, 0), ISO8583_EINVAL);
	assert_int_equal(iso8583_set_num(&m, 150, 0), ISO8583_EUNDEFINED);
	/* scratch space is bounded: 42-digit field 90 until it is full */
	int ok = 0, rc;
	while ((rc = iso8583_set_num(&m, 90, 1)) == 0)
		ok++;
	assert_int_equal(rc, ISO8583_ENOSPC);
	assert_true(ok >= 10 && ok <= ISO8583_SCRATCH_BYTES / 42);
	assert_string_equal(text_of(&m, 90),
			    "000000000000000000000000000000000000000001");
	/* what set_num wrote packs and reads back */
	iso8583_set_mti(&m, "0200");
	uint8_t out[512];
	size_t len;
	pack_ok(&m, out, sizeof(out), &len);
	unpack_ok(&m, d, out, len);
	uint64_t v;
	assert_int_equal(iso8583_get_u64(&m, 4, &v), 0);
	assert_int_equal(v, 12850);
	/* in BCD too, odd length */
	const iso8583_dialect_t *b = iso8583_dialect_builtin("binary");
	iso8583_msg_init(&m, b);
	iso8583_set_mti(&m, "0200");
	assert_int_equal(iso8583_set_num(&m, 2, 123456789), 0);
	pack_ok(&m, out, sizeof(out), &len);
	assert_memory_equal(out + 10, "\x09\x12\x34\x56\x78\x90", 6);
	unpack_ok(&m, b, out, len);
	assert_int_equal(iso8583_get_u64(&m, 2, &v), 0);
	assert_int_equal(v, 123456789);
}

static void test_getters(void **state)
{
	(void)state;
	static iso8583_msg_t m;
	const iso8583_dialect_t *d = iso8583_dialect_builtin("binary");
	iso8583_msg_init(&m, d);
	iso8583_set_mti(&m, "0200");
	iso8583_set_str(&m, 3, "000000");
	iso8583_set_str(&m, 35, "6222020000000001=2512");
	iso8583_set_str(&m, 41, "TERM0001");
	iso8583_set(&m, 52, "\x01\x23\x45\x67\x89\xAB\xCD\xEF", 8);
	iso8583_set_str(&m, 90, "000000000000000000000000000000000000000123");
	iso8583_set_str(&m, 2, "1234567890123456789");
	uint8_t wire[256];
	size_t wire_len;
	pack_ok(&m, wire, sizeof(wire), &wire_len);

	/* the same answers from plain values and from wire spans */
	for (int pass = 0; pass < 2; pass++) {
		if (pass == 1)
			unpack_ok(&m, d, wire, wire_len);
		char text[64];
		uint8_t bytes[64];
		size_t len;
		assert_int_equal(iso8583_get_text(&m, 35, text, sizeof(text), &len), 0);
		assert_string_equal(text, "6222020000000001=2512");
		assert_int_equal(len, 21);
		assert_int_equal(iso8583_get_text(&m, 35, text, 21, &len), ISO8583_ENOSPC);
		assert_int_equal(iso8583_get_text(&m, 35, text, 22, &len), 0);
		assert_int_equal(iso8583_get_text(&m, 52, text, sizeof(text), &len), 0);
		assert_string_equal(text, "0123456789ABCDEF");
		assert_int_equal(iso8583_get_bytes(&m, 52, bytes, sizeof(bytes), &len), 0);
		assert_int_equal(len, 8);
		assert_memory_equal(bytes, "\x01\x23\x45\x67\x89\xAB\xCD\xEF", 8);
		assert_int_equal(iso8583_get_bytes(&m, 52, bytes, 7, &len), ISO8583_ENOSPC);
		assert_int_equal(iso8583_get_bytes(&m, 41, bytes, sizeof(bytes), &len), 0);
		assert_int_equal(len, 8);
		assert_memory_equal(bytes, "TERM0001", 8);
		assert_int_equal(iso8583_get_text(&m, 4, text, sizeof(text), &len), ISO8583_EINVAL);
		assert_int_equal(iso8583_get_text(&m, 1, text, sizeof(text), &len), ISO8583_EINVAL);
		assert_int_equal(iso8583_get_text(&m, 999, text, sizeof(text), &len), ISO8583_EINVAL);
		uint64_t v;
		assert_int_equal(iso8583_get_u64(&m, 3, &v), 0);
		assert_int_equal(v, 0);
		assert_int_equal(iso8583_get_u64(&m, 90, &v), 0); /* leading zeros */
		assert_int_equal(v, 123);
		assert_int_equal(iso8583_get_u64(&m, 2, &v), ISO8583_ELENGTH); /* 19 */
		assert_int_equal(iso8583_get_u64(&m, 41, &v), ISO8583_EINVAL); /* ans */
		assert_int_equal(iso8583_get_u64(&m, 4, &v), ISO8583_EINVAL);  /* absent */
		iso8583_field_t f;
		assert_int_equal(iso8583_get(&m, 41, &f), 0);
		assert_int_equal(f.wire, pass == 1);
		assert_int_equal(iso8583_get(&m, 4, &f), ISO8583_EINVAL);
	}
	/* a plain numeric value that is not digits is caught on reading it */
	iso8583_set_str(&m, 4, "00000000001A");
	uint64_t v;
	assert_int_equal(iso8583_get_u64(&m, 4, &v), ISO8583_ECONTENT);
}

static void test_setters_refuse(void **state)
{
	(void)state;
	static iso8583_msg_t m;
	iso8583_msg_init(&m, iso8583_dialect_builtin("ascii"));
	assert_int_equal(iso8583_set_str(&m, 1, "x"), ISO8583_EINVAL);
	assert_int_equal(iso8583_set_str(&m, 0, "x"), ISO8583_EINVAL);
	assert_int_equal(iso8583_set_str(&m, 193, "x"), ISO8583_EINVAL);
	assert_int_equal(iso8583_set_str(&m, -4, "x"), ISO8583_EINVAL);
	assert_int_equal(iso8583_set_str(&m, 129, "x"), ISO8583_EUNDEFINED);
	static char big[ISO8583_FIELD_LENGTH_MAX + 2];
	memset(big, 'A', sizeof(big) - 1);
	assert_int_equal(iso8583_set(&m, 48, big, sizeof(big) - 1), ISO8583_ELENGTH);
	assert_int_equal(iso8583_set_mti(&m, "020"), ISO8583_EMTI);
	assert_int_equal(iso8583_set_mti(&m, "02000"), ISO8583_EMTI);
	assert_int_equal(iso8583_set_mti(&m, "02A0"), ISO8583_EMTI);
	assert_int_equal(iso8583_set_mti(&m, NULL), ISO8583_EMTI);
	assert_false(iso8583_has(&m, 0));
	assert_false(iso8583_has(&m, 300));
	iso8583_unset(&m, 300); /* harmless */
	/* unset removes, set again replaces */
	iso8583_set_str(&m, 39, "00");
	assert_true(iso8583_has(&m, 39));
	iso8583_unset(&m, 39);
	assert_false(iso8583_has(&m, 39));
	iso8583_set_str(&m, 39, "05");
	iso8583_set_str(&m, 39, "51");
	assert_string_equal(text_of(&m, 39), "51");
}

static void test_measure(void **state)
{
	(void)state;
	const iso8583_dialect_t *d = iso8583_dialect_builtin("ascii");
	const char *msg = "0200" "7000000000000000" "164761739001010119"
			  "000000" "000000012850";
	size_t len = strlen(msg), got;
	iso8583_error_t err;
	for (size_t cut = 0; cut < len; cut++)
		assert_int_equal(iso8583_measure(d, (const uint8_t *)msg, cut, &got, &err), 0);
	assert_int_equal(iso8583_measure(d, (const uint8_t *)msg, len, &got, &err), 1);
	assert_int_equal(got, len);
	char two[256];
	snprintf(two, sizeof(two), "%s%s", msg, msg);
	assert_int_equal(iso8583_measure(d, (const uint8_t *)two, strlen(two), &got, &err), 1);
	assert_int_equal(got, len);
	/* measure does not check content, only shape */
	char bad[256];
	snprintf(bad, sizeof(bad), "%s", msg);
	bad[30] = 'X';
	assert_int_equal(iso8583_measure(d, (const uint8_t *)bad, len, &got, &err), 1);
	bad[0] = 'X';
	assert_int_equal(iso8583_measure(d, (const uint8_t *)bad, len, &got, &err), ISO8583_EMTI);
	snprintf(bad, sizeof(bad), "%s", msg);
	bad[20] = 'Z'; /* the PAN's prefix */
	assert_int_equal(iso8583_measure(d, (const uint8_t *)bad, len, &got, &err), ISO8583_EPREFIX);
	assert_int_equal(err.field, 2);
	assert_int_equal(err.offset, 20);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_each_class_and_encoding),
		cmocka_unit_test(test_all_fields_in_one_message),
		cmocka_unit_test(test_binary_dialect_bcd_mti_and_bitmap),
		cmocka_unit_test(test_tertiary_bitmap),
		cmocka_unit_test(test_empty_extension_bitmaps_kept),
		cmocka_unit_test(test_lower_case_bitmap_canonical_on_pack),
		cmocka_unit_test(test_pack_reports_size_needed),
		cmocka_unit_test(test_set_num),
		cmocka_unit_test(test_getters),
		cmocka_unit_test(test_setters_refuse),
		cmocka_unit_test(test_measure),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
