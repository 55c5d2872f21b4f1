/*
 * test_golden.c: interoperability with jPOS. The fixtures in
 * ../shared/fixtures/iso8583/jpos/ are messages packed by jPOS
 * ISO87APackager and ISO87BPackager and the values they hold: unpacking
 * each image must give exactly those values, and packing the values must
 * give exactly those bytes. The fixtures are read in place (never copied
 * into the repository); without them the tests skip and say so, except in
 * CI, where a missing fixture fails (tests/support/fixtures.h).
 */
#include "iso8583_test.h"

#include "fixtures.h"

static char fixtures[400];
#define FIXTURES fixtures

struct xml_field {
	int id;
	bool binary;  /* type="binary": the value is hex of the bytes */
	char value[256];
};

struct golden {
	uint8_t image[2048];
	size_t image_len;
	struct xml_field fields[ISO8583_FIELDS_MAX + 1];
	size_t count;
};

static bool fixtures_present(void)
{
	ts_fixture_dir("iso8583/jpos", fixtures, sizeof(fixtures));
	return ts_fixtures_ready(fixtures);
}

static size_t read_file(const char *name, void *out, size_t cap)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", FIXTURES, name);
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		fail_msg("cannot open %s", path);
	size_t n = fread(out, 1, cap, f);
	assert_true(feof(f) || n < cap);
	fclose(f);
	return n;
}

/* The value of attribute name in the element at p, XML entities decoded. */
static bool attribute(const char *p, const char *end, const char *name,
		      char *out, size_t cap)
{
	char key[32];
	snprintf(key, sizeof(key), " %s=\"", name);
	const char *at = strstr(p, key);
	if (at == NULL || at > end)
		return false;
	at += strlen(key);
	size_t n = 0;
	while (*at != '"') {
		static const char *const ents[][2] = {
			{"&amp;", "&"}, {"&lt;", "<"}, {"&gt;", ">"},
			{"&quot;", "\""}, {"&apos;", "'"}};
		char c = *at++;
		for (size_t i = 0; c == '&' && i < PS_ARRAY_LEN(ents); i++)
			if (strncmp(at - 1, ents[i][0], strlen(ents[i][0])) == 0) {
				c = ents[i][1][0];
				at += strlen(ents[i][0]) - 1;
				break;
			}
		assert_true(n + 1 < cap);
		out[n++] = c;
	}
	out[n] = '\0';
	return true;
}

/* The <field id=".." value=".." [type="binary"]/> elements of an ISOMsg dump. */
static void read_values(const char *xml_name, struct golden *g)
{
	static char xml[16384];
	size_t n = read_file(xml_name, xml, sizeof(xml) - 1);
	xml[n] = '\0';
	g->count = 0;
	for (const char *p = strstr(xml, "<field"); p != NULL;
	     p = strstr(p + 1, "<field")) {
		const char *end = strstr(p, "/>");
		assert_non_null(end);
		char id[8], type[16];
		struct xml_field *f = &g->fields[g->count++];
		assert_true(attribute(p, end, "id", id, sizeof(id)));
		assert_true(attribute(p, end, "value", f->value, sizeof(f->value)));
		f->id = atoi(id);
		f->binary = attribute(p, end, "type", type, sizeof(type)) &&
			    strcmp(type, "binary") == 0;
	}
	assert_true(g->count > 60);
}

static void load_golden(const char *bin, const char *xml, struct golden *g)
{
	g->image_len = read_file(bin, g->image, sizeof(g->image));
	read_values(xml, g);
}

/* The bytes a value stands for in field n of dialect d. */
static size_t expected_bytes(const iso8583_dialect_t *d,
			     const struct xml_field *f, uint8_t *out, size_t cap)
{
	if (d->field[f->id].cls == ISO8583_CLASS_B && f->binary)
		return unhex(f->value, out, cap);
	size_t n = strlen(f->value);
	assert_true(n <= cap);
	memcpy(out, f->value, n);
	return n;
}

static void check_unpack(const char *dialect, const char *bin, const char *xml,
			 bool secondary)
{
	static struct golden g;
	static iso8583_msg_t m;
	const iso8583_dialect_t *d = iso8583_dialect_builtin(dialect);
	assert_non_null(d);
	load_golden(bin, xml, &g);
	unpack_ok(&m, d, g.image, g.image_len);
	assert_int_equal(iso8583_has(&m, 1), secondary);
	int present = 0;
	for (int n = 2; n <= ISO8583_FIELDS_MAX; n++)
		present += iso8583_has(&m, n);
	assert_int_equal(present, (int)g.count - 1); /* all but the MTI */
	for (size_t i = 0; i < g.count; i++) {
		const struct xml_field *f = &g.fields[i];
		if (f->id == 0) {
			assert_memory_equal(m.mti, f->value, 4);
			continue;
		}
		uint8_t want[512], got[512];
		size_t want_len = expected_bytes(d, f, want, sizeof(want));
		size_t got_len;
		assert_int_equal(iso8583_get_bytes(&m, f->id, got, sizeof(got),
						   &got_len), 0);
		if (got_len != want_len || memcmp(got, want, got_len) != 0)
			fail_msg("%s field %d: got %.*s want %s", bin, f->id,
				 (int)got_len, (const char *)got, f->value);
	}
}

/* Packs the values of g with dialect into out. */
static size_t pack_values(const char *dialect, const struct golden *g,
			  uint8_t *out, size_t cap)
{
	static iso8583_msg_t m;
	static uint8_t bytes[ISO8583_FIELDS_MAX + 1][256];
	const iso8583_dialect_t *d = iso8583_dialect_builtin(dialect);
	iso8583_msg_init(&m, d);
	for (size_t i = 0; i < g->count; i++) {
		const struct xml_field *f = &g->fields[i];
		if (f->id == 0) {
			assert_int_equal(iso8583_set_mti(&m, f->value), 0);
			continue;
		}
		size_t n = expected_bytes(d, f, bytes[f->id], sizeof(bytes[0]));
		assert_int_equal(iso8583_set(&m, f->id, bytes[f->id], n), 0);
	}
	size_t len;
	pack_ok(&m, out, cap, &len);
	return len;
}

static void check_pack(const char *dialect, const char *bin, const char *xml)
{
	static struct golden g;
	load_golden(bin, xml, &g);
	uint8_t out[2048];
	size_t len = pack_values(dialect, &g, out, sizeof(out));
	assert_int_equal(len, g.image_len);
	assert_memory_equal(out, g.image, len);
}

/* Unpack then pack gives back every byte. */
static void check_round_trip(const char *dialect, const char *bin)
{
	static struct golden g;
	static iso8583_msg_t m;
	g.image_len = read_file(bin, g.image, sizeof(g.image));
	unpack_ok(&m, iso8583_dialect_builtin(dialect), g.image, g.image_len);
	uint8_t out[2048];
	size_t len;
	pack_ok(&m, out, sizeof(out), &len);
	assert_int_equal(len, g.image_len);
	assert_memory_equal(out, g.image, len);
}

static void test_ascii_secondary(void **state)
{
	(void)state;
	if (!fixtures_present())
		skip();
	check_unpack("ascii", "ISO87APackager.bin", "ISO87.xml", true);
	check_pack("ascii", "ISO87APackager.bin", "ISO87.xml");
	check_round_trip("ascii", "ISO87APackager.bin");
}

static void test_ascii_primary_only(void **state)
{
	(void)state;
	if (!fixtures_present())
		skip();
	check_unpack("ascii", "ISO87A-Field64.bin", "ISO87-Field64.xml", false);
	check_pack("ascii", "ISO87A-Field64.bin", "ISO87-Field64.xml");
	check_round_trip("ascii", "ISO87A-Field64.bin");
}

static void test_binary_secondary(void **state)
{
	(void)state;
	if (!fixtures_present())
		skip();
	check_unpack("binary", "ISO87BPackager.bin", "ISO87.xml", true);
	check_pack("binary", "ISO87BPackager.bin", "ISO87.xml");
	check_round_trip("binary", "ISO87BPackager.bin");
}

static void test_binary_primary_only(void **state)
{
	(void)state;
	if (!fixtures_present())
		skip();
	check_unpack("binary", "ISO87B-Field64.bin", "ISO87-Field64.xml", false);
	check_pack("binary", "ISO87B-Field64.bin", "ISO87-Field64.xml");
	check_round_trip("binary", "ISO87B-Field64.bin");
}

/* Spot checks that say what the encodings are, beyond "it matched". */
static void test_binary_encodings_by_hand(void **state)
{
	(void)state;
	if (!fixtures_present())
		skip();
	static struct golden g;
	static iso8583_msg_t m;
	load_golden("ISO87BPackager.bin", "ISO87.xml", &g);
	unpack_ok(&m, iso8583_dialect_builtin("binary"), g.image, g.image_len);
	iso8583_field_t f;
	/* Track 2: right-padded BCD with '=' as nibble D, prefix BCD 0x37. */
	assert_int_equal(iso8583_get(&m, 35, &f), 0);
	assert_int_equal(f.length, 37);
	assert_int_equal(f.size, 19);
	assert_int_equal(f.data[-1], 0x37);
	assert_int_equal(f.data[8], 0xD1);
	assert_int_equal(f.data[18], 0x00);
	/* IFB_AMOUNT: ASCII sign, then BCD. */
	assert_int_equal(iso8583_get(&m, 28, &f), 0);
	assert_int_equal(f.size, 5);
	assert_int_equal(f.data[0], '0');
	/* LLLBINARY 55: a two-byte BCD prefix 0x0004, then 'ABCD'. */
	assert_int_equal(iso8583_get(&m, 55, &f), 0);
	assert_memory_equal(f.data - 2, "\x00\x04" "ABCD", 6);
	assert_string_equal(text_of(&m, 55), "41424344");
}

/*
 * ascii-binbitmap has no jPOS image of its own; its bytes follow from the
 * ascii image: the 32 hex bitmap characters become 16 raw bytes and the
 * PIN block (52) its 8 raw bytes instead of 16 hex characters.
 */
static void test_ascii_binbitmap_from_ascii_image(void **state)
{
	(void)state;
	if (!fixtures_present())
		skip();
	static struct golden g;
	static iso8583_msg_t m;
	load_golden("ISO87APackager.bin", "ISO87.xml", &g);
	unpack_ok(&m, iso8583_dialect_builtin("ascii"), g.image, g.image_len);
	iso8583_field_t pin;
	assert_int_equal(iso8583_get(&m, 52, &pin), 0);
	size_t pin_at = (size_t)(pin.data - g.image);

	uint8_t want[2048];
	char bitmap_hex[33];
	memcpy(want, g.image, 4);
	memcpy(bitmap_hex, g.image + 4, 32);
	bitmap_hex[32] = 0;
	size_t w = 4 + unhex(bitmap_hex, want + 4, 16);
	memcpy(want + w, g.image + 36, pin_at - 36);
	w += pin_at - 36;
	const struct xml_field *pin_value = NULL;
	for (size_t i = 0; i < g.count; i++)
		if (g.fields[i].id == 52)
			pin_value = &g.fields[i];
	assert_non_null(pin_value);
	w += unhex(pin_value->value, want + w, 8);
	memcpy(want + w, g.image + pin_at + 16, g.image_len - pin_at - 16);
	w += g.image_len - pin_at - 16;

	uint8_t out[2048];
	size_t len = pack_values("ascii-binbitmap", &g, out, sizeof(out));
	assert_int_equal(len, w);
	assert_memory_equal(out, want, w);
	unpack_ok(&m, iso8583_dialect_builtin("ascii-binbitmap"), want, w);
	assert_string_equal(text_of(&m, 52), pin_value->value);
	assert_string_equal(text_of(&m, 90), g.fields[g.count - 1].value);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ascii_secondary),
		cmocka_unit_test(test_ascii_primary_only),
		cmocka_unit_test(test_binary_secondary),
		cmocka_unit_test(test_binary_primary_only),
		cmocka_unit_test(test_binary_encodings_by_hand),
		cmocka_unit_test(test_ascii_binbitmap_from_ascii_image),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
