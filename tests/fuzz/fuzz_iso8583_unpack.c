/*
 * fuzz_iso8583_unpack.c: any bytes through unpack, in every fuzz dialect.
 *
 * Property, when unpack accepts the input:
 *  - measure agrees that the whole input is one message;
 *  - pack gives back the input (a hex bitmap may come back upper case,
 *    the one canonicalisation pack makes) and reports its size exactly
 *    when the buffer is one byte short;
 *  - unpack of that gives the same fields, and a second pack is
 *    byte-identical to the first;
 *  - the fields read as plain values (get_text, or get_bytes for class b)
 *    and set again pack to a message that unpacks to the same texts.
 * When unpack refuses, the error is well-formed and measure does not claim
 * more bytes than there are.
 */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz_dialects.h"

#define INPUT_BYTES_MAX 65536

static uint8_t packed[INPUT_BYTES_MAX], again[INPUT_BYTES_MAX];
static uint8_t plain_packed[2 * INPUT_BYTES_MAX];
static uint8_t arena[2 * INPUT_BYTES_MAX + 2 * ISO8583_FIELDS_MAX];
static iso8583_msg_t m, m2, m3, m4;

static void check_error(const iso8583_error_t *err, int rc, size_t size)
{
	PS_ASSERT(err->code == rc);
	PS_ASSERT(err->offset <= size);
	PS_ASSERT(err->field >= -1 && err->field <= ISO8583_FIELDS_MAX);
	PS_ASSERT(memchr(err->reason, '\0', sizeof(err->reason)) != NULL);
	char line[256];
	iso8583_error_format(err, line, sizeof(line));
}

/* Input and repack agree, but for the case of a hex bitmap. */
static void check_same_bytes(const iso8583_dialect_t *d, const uint8_t *in,
			     const uint8_t *out, size_t size)
{
	size_t from = d->mti_encoding == ISO8583_MTI_ASCII ? 4 : 2;
	size_t to = from;
	if (d->bitmap_encoding == ISO8583_BITMAP_HEX)
		to = from + (iso8583_has(&m, 1) ? 32 : 16);
	PS_ASSERT(memcmp(in, out, from) == 0);
	for (size_t i = from; i < to; i++) {
		uint8_t c = in[i] >= 'a' && in[i] <= 'f' ? in[i] - 32 : in[i];
		PS_ASSERT(c == out[i]);
	}
	PS_ASSERT(memcmp(in + to, out + to, size - to) == 0);
}

static void check_same_fields(const iso8583_msg_t *a, const iso8583_msg_t *b)
{
	PS_ASSERT(memcmp(a->mti, b->mti, 4) == 0);
	for (int n = 1; n <= ISO8583_FIELDS_MAX; n++) {
		PS_ASSERT(iso8583_has(a, n) == iso8583_has(b, n));
		if (n < 2 || !iso8583_has(a, n) || !a->dialect->field[n].defined)
			continue;
		iso8583_field_t x, y;
		PS_ASSERT(iso8583_get(a, n, &x) == 0 && iso8583_get(b, n, &y) == 0);
		PS_ASSERT(x.length == y.length && x.size == y.size);
		PS_ASSERT(memcmp(x.data, y.data, x.size) == 0);
	}
}

/* Every field as a plain value into m3; the values live in arena. */
static void copy_as_plain(const iso8583_dialect_t *d)
{
	size_t used = 0;
	iso8583_msg_init(&m3, d);
	PS_ASSERT(iso8583_set_mti(&m3, (const char[5]){m.mti[0], m.mti[1],
							m.mti[2], m.mti[3], 0}) == 0);
	for (int n = 2; n <= ISO8583_FIELDS_MAX; n++) {
		if (!iso8583_has(&m, n) || !d->field[n].defined)
			continue; /* 65 marks a tertiary bitmap, not a value */
		size_t len;
		uint8_t *at = arena + used;
		size_t room = sizeof(arena) - used;
		if (d->field[n].cls == ISO8583_CLASS_B)
			PS_ASSERT(iso8583_get_bytes(&m, n, at, room, &len) == 0);
		else
			PS_ASSERT(iso8583_get_text(&m, n, (char *)at, room, &len) == 0);
		PS_ASSERT(iso8583_set(&m3, n, at, len) == 0);
		used += len + 1;
	}
}

static void check_texts_equal(const iso8583_msg_t *a, const iso8583_msg_t *b)
{
	static char ta[2 * ISO8583_FIELD_LENGTH_MAX + 1];
	static char tb[2 * ISO8583_FIELD_LENGTH_MAX + 1];
	for (int n = 2; n <= ISO8583_FIELDS_MAX; n++) {
		if (!a->dialect->field[n].defined)
			continue;
		PS_ASSERT(iso8583_has(a, n) == iso8583_has(b, n));
		if (!iso8583_has(a, n))
			continue;
		size_t la, lb;
		PS_ASSERT(iso8583_get_text(a, n, ta, sizeof(ta), &la) == 0);
		PS_ASSERT(iso8583_get_text(b, n, tb, sizeof(tb), &lb) == 0);
		PS_ASSERT(la == lb && memcmp(ta, tb, la) == 0);
	}
}

static bool any_value(int from, int to)
{
	for (int n = from; n <= to; n++)
		if (iso8583_has(&m, n) && m.dialect->field[n].defined)
			return true;
	return false;
}

/*
 * Plain values cannot carry an empty bitmap extension (iso8583_has(msg, 1)
 * with no field 65-192, or a tertiary bitmap with no field 129-192), so a
 * plain copy packs without it: these are the bytes it drops.
 */
static size_t dropped_extension_bytes(const iso8583_dialect_t *d)
{
	size_t word = d->bitmap_encoding == ISO8583_BITMAP_HEX ? 16 : 8;
	bool d2 = any_value(65, 128);
	bool d3 = d->tertiary && any_value(129, ISO8583_FIELDS_MAX);
	bool t = d->tertiary && iso8583_has(&m, 65);
	size_t dropped = 0;
	if (iso8583_has(&m, 1) && !d2 && !d3)
		dropped += word;
	if (t && !d3)
		dropped += word;
	return dropped;
}

static void check_accepted(const iso8583_dialect_t *d, const uint8_t *data,
			   size_t size)
{
	iso8583_error_t err;
	size_t msg_len = 0, len = 0, len2 = 0;
	PS_ASSERT(iso8583_measure(d, data, size, &msg_len, &err) == 1);
	PS_ASSERT(msg_len == size);

	PS_ASSERT(iso8583_pack(&m, packed, sizeof(packed), &len, &err) == 0);
	PS_ASSERT(len == size);
	check_same_bytes(d, data, packed, size);
	PS_ASSERT(iso8583_pack(&m, again, size - 1, &len2, &err) == ISO8583_ENOSPC);
	PS_ASSERT(len2 == size);

	PS_ASSERT(iso8583_unpack(&m2, d, packed, len, &err) == 0);
	check_same_fields(&m, &m2);
	PS_ASSERT(iso8583_pack(&m2, again, sizeof(again), &len2, &err) == 0);
	PS_ASSERT(len2 == len && memcmp(again, packed, len) == 0);

	copy_as_plain(d);
	size_t plain_len;
	PS_ASSERT(iso8583_pack(&m3, plain_packed, sizeof(plain_packed),
			       &plain_len, &err) == 0);
	PS_ASSERT(plain_len == size - dropped_extension_bytes(d));
	PS_ASSERT(iso8583_unpack(&m4, d, plain_packed, plain_len, &err) == 0);
	check_texts_equal(&m, &m4);
}

static void check_one(const iso8583_dialect_t *d, const uint8_t *data,
		      size_t size)
{
	iso8583_error_t err;
	int rc = iso8583_unpack(&m, d, data, size, &err);
	if (rc == 0) {
		check_accepted(d, data, size);
		return;
	}
	check_error(&err, rc, size);
	size_t msg_len = 0;
	rc = iso8583_measure(d, data, size, &msg_len, &err);
	if (rc == 1)
		PS_ASSERT(msg_len <= size);
	else if (rc < 0)
		check_error(&err, rc, size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0 || size > INPUT_BYTES_MAX)
		return 0;
	const iso8583_dialect_t *const *dialects = fuzz_dialects();
	for (size_t i = 0; i < FUZZ_DIALECTS; i++)
		check_one(dialects[i], data, size);
	return 0;
}
