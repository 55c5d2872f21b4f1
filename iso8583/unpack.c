/*
 * unpack.c: wire bytes to a message, and measuring a message in a stream.
 *
 * One walk over MTI, bitmaps and fields serves both: unpack checks every
 * field's content against its class and records it; measure only finds
 * where the message ends. The walk is written once and inlined twice with
 * constant flags, so unpack pays for no measuring and measure for no
 * checking.
 *
 * Unpack is zero-copy: a field is a span of the caller's bytes. Nothing is
 * allocated, and every read is bounds-checked against len before it is
 * made, whatever the input.
 */
#include "iso8583_internal.h"

/* Where the walk is, and whether it failed only because input ran out. */
struct walk {
	const iso8583_dialect_t *d;
	const uint8_t *data;
	size_t len;
	size_t pos;
	bool ran_out;
	iso8583_error_t *err;
};

static int ran_out(struct walk *w, int code, int field, size_t offset,
		   const char *what, size_t need)
{
	w->ran_out = true;
	return iso8583_fail(w->err, code, field, offset,
			    "%s needs %zu bytes, %zu left", what, need,
			    w->len - offset);
}

static int read_mti(struct walk *w, char mti[4])
{
	const uint8_t *p = w->data;
	if (w->d->mti_encoding == ISO8583_MTI_ASCII) {
		if (w->len < 4)
			return ran_out(w, ISO8583_EMTI, 0, 0, "the MTI", 4);
		for (size_t i = 0; i < 4; i++)
			if (!(iso8583_ctype[p[i]] & ISO8583_CT_N))
				return iso8583_fail(w->err, ISO8583_EMTI, 0, i,
						    "MTI byte 0x%02X is not a digit",
						    p[i]);
		memcpy(mti, p, 4);
		w->pos = 4;
		return 0;
	}
	if (w->len < 2)
		return ran_out(w, ISO8583_EMTI, 0, 0, "the MTI", 2);
	for (size_t i = 0; i < 2; i++)
		if (!(iso8583_bcdtype[p[i]] & ISO8583_BT_N))
			return iso8583_fail(w->err, ISO8583_EMTI, 0, i,
					    "MTI byte 0x%02X is not two BCD digits",
					    p[i]);
	mti[0] = (char)('0' + (p[0] >> 4));
	mti[1] = (char)('0' + (p[0] & 15));
	mti[2] = (char)('0' + (p[1] >> 4));
	mti[3] = (char)('0' + (p[1] & 15));
	w->pos = 2;
	return 0;
}

/* Sixteen hex characters to a bitmap word; false on a non-hex one. */
static bool hex_word(const uint8_t *p, uint64_t *out)
{
	uint64_t v = 0;
	unsigned bad = 0;
	for (size_t i = 0; i < 16; i++) {
		uint8_t h = iso8583_hexval[p[i]];
		bad |= h;
		v = v << 4 | (h & 15u);
	}
	*out = v;
	return (bad & 0xF0u) == 0;
}

static int read_bitmap_word(struct walk *w, uint64_t *word, const char *which)
{
	size_t at = w->pos;
	if (w->d->bitmap_encoding == ISO8583_BITMAP_BINARY) {
		if (w->len - at < 8)
			return ran_out(w, ISO8583_EBITMAP, 1, at, which, 8);
		*word = ps_be64_get(w->data + at);
		w->pos = at + 8;
		return 0;
	}
	if (w->len - at < 16)
		return ran_out(w, ISO8583_EBITMAP, 1, at, which, 16);
	if (!hex_word(w->data + at, word)) {
		size_t i = 0;
		while (iso8583_hexval[w->data[at + i]] != 0xFF)
			i++;
		return iso8583_fail(w->err, ISO8583_EBITMAP, 1, at + i,
				    "%s byte 0x%02X is not a hex digit", which,
				    w->data[at + i]);
	}
	w->pos = at + 16;
	return 0;
}

/* The byte offset of field n's bit in the bitmap that starts at start. */
static size_t bit_offset(const iso8583_dialect_t *d, size_t start, int n)
{
	size_t per = d->bitmap_encoding == ISO8583_BITMAP_BINARY ? 8 : 4;
	return start + (size_t)(n - 1) / per;
}

/*
 * Reads the primary bitmap and the extensions it announces into words,
 * then refuses any bit the dialect does not define.
 */
static int read_bitmaps(struct walk *w, uint64_t words[3])
{
	size_t start = w->pos;
	words[1] = words[2] = 0;
	int rc = read_bitmap_word(w, &words[0], "the primary bitmap");
	if (rc == 0 && (words[0] & ISO8583_BIT(1)))
		rc = read_bitmap_word(w, &words[1], "the secondary bitmap");
	if (rc == 0 && w->d->tertiary && (words[1] & ISO8583_BIT(65)))
		rc = read_bitmap_word(w, &words[2], "the tertiary bitmap");
	if (rc != 0)
		return rc;
	for (int k = 0; k < 3; k++) {
		uint64_t extra = words[k] & ~w->d->allowed[k];
		if (extra == 0)
			continue;
		int n = k * 64 + __builtin_clzll(extra) + 1;
		return iso8583_fail(w->err, ISO8583_EUNDEFINED, n,
				    bit_offset(w->d, start, n),
				    "bit %d is set but the dialect %s does not define field %d",
				    n, w->d->name, n);
	}
	return 0;
}

static int content_fail(struct walk *w, const iso8583_field_spec_t *s, int n,
			size_t at, const char *why)
{
	return iso8583_fail(w->err, ISO8583_ECONTENT, n, at,
			    "content outside class %s: byte 0x%02X (%s)",
			    iso8583_class_name(s->cls), w->data[at], why);
}

/* Checks the content of field n (size bytes at w->pos, length long). */
static int check_content(struct walk *w, const iso8583_field_spec_t *s, int n,
			 size_t length, size_t size)
{
	const uint8_t *p = w->data + w->pos;
	const char *why = NULL;
	size_t bad;
	switch (s->codec) {
	case ISO8583_CODEC_TEXT:
		bad = iso8583_text_scan(p, size, s->class_mask);
		if (bad == size)
			return 0;
		iso8583_text_check(s, p, size, &why);
		break;
	case ISO8583_CODEC_XN_TEXT:
		bad = iso8583_text_check(s, p, size, &why);
		break;
	case ISO8583_CODEC_BCD:
		bad = iso8583_bcd_check(s, p, length, &why);
		break;
	case ISO8583_CODEC_HEX:
		bad = iso8583_text_scan(p, size, ISO8583_CT_HEX);
		why = "hex text takes 0-9, A-F and a-f";
		if (bad == size)
			return 0;
		break;
	default:
		return 0;
	}
	if (bad == SIZE_MAX)
		return 0;
	if (bad >= size) /* an x+n field of length 0 has no sign to show */
		return iso8583_fail(w->err, ISO8583_ECONTENT, n, w->pos,
				    "content outside class %s: %s",
				    iso8583_class_name(s->cls), why);
	return content_fail(w, s, n, w->pos + bad, why);
}

/*
 * Walks field n at w->pos: its prefix, then its content. With check, the
 * content is checked and recorded in *f; without, it is only skipped.
 */
static inline __attribute__((always_inline)) int
walk_field(struct walk *w, int n, iso8583_field_t *f, const bool check)
{
	const iso8583_field_spec_t *s = &w->d->field[n];
	size_t length = s->length;
	size_t start = w->pos;
	if (s->prefix_bytes != 0) {
		if (w->len - start < s->prefix_bytes)
			return ran_out(w, ISO8583_ETRUNCATED, n, start,
				       "the length prefix", s->prefix_bytes);
		long said = iso8583_prefix_read(s, w->data + start);
		if (said < 0)
			return iso8583_fail(w->err, ISO8583_EPREFIX, n, start,
					    "length prefix is not %u %s digits",
					    s->prefix_digits,
					    s->prefix_encoding == ISO8583_PREFIX_BCD
						    ? "BCD" : "ASCII");
		if ((size_t)said > s->length)
			return iso8583_fail(w->err, ISO8583_EPREFIX, n, start,
					    "length %ld is over the field's maximum %u",
					    said, s->length);
		length = (size_t)said;
		w->pos = start + s->prefix_bytes;
	}
	size_t size = iso8583_content_size(s, length);
	if (w->len - w->pos < size)
		return ran_out(w, ISO8583_ETRUNCATED, n, w->pos,
			       "the content", size);
	if (check) {
		int rc = check_content(w, s, n, length, size);
		if (rc != 0)
			return rc;
		f->data = w->data + w->pos;
		f->size = (uint16_t)size;
		f->length = (uint16_t)length;
		f->wire = true;
	}
	w->pos += size;
	return 0;
}

/* Every field the bitmaps announce, in order, skipping the extension bits. */
static inline __attribute__((always_inline)) int
walk_fields(struct walk *w, const uint64_t words[3], iso8583_field_t *fields,
	    const bool check)
{
	uint64_t skip[3] = {ISO8583_BIT(1), w->d->tertiary ? ISO8583_BIT(65) : 0,
			    0};
	for (int k = 0; k < 3; k++) {
		uint64_t bits = words[k] & ~skip[k];
		while (bits != 0) {
			int top = __builtin_clzll(bits);
			bits &= ~(1ull << (63 - top));
			int n = k * 64 + top + 1;
			int rc = walk_field(w, n, check ? &fields[n] : NULL,
					    check);
			if (rc != 0)
				return rc;
		}
	}
	return 0;
}

/* Keeps the bits of fields below `failed` (2..192), the ones walked. */
static void keep_fields_before(uint64_t words[3], int failed)
{
	for (int k = 0; k < 3; k++) {
		int first = k * 64 + 1; /* the field of this word's top bit */
		if (failed <= first)
			words[k] = 0;
		else if (failed <= first + 63)
			words[k] &= ~(~0ull >> (failed - first));
	}
}

int iso8583_unpack(iso8583_msg_t *msg, const iso8583_dialect_t *dialect,
		   const uint8_t *data, size_t len, iso8583_error_t *err)
{
	iso8583_msg_init(msg, dialect);
	struct walk w = {dialect, data, len, 0, false, err};
	uint64_t words[3] = {0, 0, 0};
	int rc = read_mti(&w, msg->mti);
	if (rc != 0) {
		msg->mti[0] = 0;
		return rc;
	}
	rc = read_bitmaps(&w, words);
	if (rc != 0)
		return rc; /* the MTI stays: a switch can still answer 30 */
	rc = walk_fields(&w, words, msg->field, true);
	if (rc == 0 && w.pos != len)
		rc = iso8583_fail(err, ISO8583_ETRAILING, -1, w.pos,
				  "%zu bytes after the last field",
				  len - w.pos);
	if (rc != 0 && err->field >= 2)
		keep_fields_before(words, err->field);
	ps_be64_put(msg->present, words[0]);
	ps_be64_put(msg->present + 8, words[1]);
	ps_be64_put(msg->present + 16, words[2]);
	return rc;
}

int iso8583_measure(const iso8583_dialect_t *dialect, const uint8_t *data,
		    size_t len, size_t *msg_len, iso8583_error_t *err)
{
	PS_ASSERT(dialect != NULL && dialect->finished);
	struct walk w = {dialect, data, len, 0, false, err};
	uint64_t words[3];
	char mti[4];
	int rc = read_mti(&w, mti);
	if (rc == 0)
		rc = read_bitmaps(&w, words);
	if (rc == 0)
		rc = walk_fields(&w, words, NULL, false);
	if (rc != 0)
		return w.ran_out ? 0 : rc;
	*msg_len = w.pos;
	return 1;
}
