/*
 * pack.c: a message to wire bytes, in the caller's buffer.
 *
 * Fields from unpack are copied as they came (only the length prefix is
 * rewritten, to the same value), which is what makes unpack-then-pack give
 * back the input. Plain values are checked against their field's class
 * and length, then encoded. When the buffer is too small, packing goes on
 * counting without writing, so the caller learns the size it needs.
 */
#include "iso8583_internal.h"

/* An output cursor that writes while it fits and only counts after. */
struct writer {
	uint8_t *out;
	size_t cap;
	size_t pos;
};

/* n bytes at the cursor, or NULL once the buffer is full; always moves. */
static inline uint8_t *reserve(struct writer *wr, size_t n)
{
	size_t at = wr->pos;
	wr->pos += n;
	return wr->pos <= wr->cap ? wr->out + at : NULL;
}

/*
 * Copies n bytes; most fields are under 16 bytes, where two overlapping
 * word moves beat a call to memcpy.
 */
static inline void copy_bytes(uint8_t *dst, const uint8_t *src, size_t n)
{
	uint64_t a, b;
	uint32_t c, d;
	if (n >= 8 && n <= 16) {
		memcpy(&a, src, 8);
		memcpy(&b, src + n - 8, 8);
		memcpy(dst, &a, 8);
		memcpy(dst + n - 8, &b, 8);
	} else if (n >= 4 && n < 8) {
		memcpy(&c, src, 4);
		memcpy(&d, src + n - 4, 4);
		memcpy(dst, &c, 4);
		memcpy(dst + n - 4, &d, 4);
	} else if (n < 4) {
		for (size_t i = 0; i < n; i++)
			dst[i] = src[i];
	} else {
		memcpy(dst, src, n);
	}
}

static void write_mti(const iso8583_msg_t *msg, struct writer *wr)
{
	const char *m = msg->mti;
	if (msg->dialect->mti_encoding == ISO8583_MTI_ASCII) {
		uint8_t *p = reserve(wr, 4);
		if (p != NULL)
			memcpy(p, m, 4);
		return;
	}
	uint8_t *p = reserve(wr, 2);
	if (p != NULL) {
		p[0] = (uint8_t)((m[0] - '0') << 4 | (m[1] - '0'));
		p[1] = (uint8_t)((m[2] - '0') << 4 | (m[3] - '0'));
	}
}

static void write_bitmap_word(const iso8583_dialect_t *d, uint64_t word,
			      struct writer *wr)
{
	if (d->bitmap_encoding == ISO8583_BITMAP_BINARY) {
		uint8_t *p = reserve(wr, 8);
		if (p != NULL)
			ps_be64_put(p, word);
		return;
	}
	uint8_t *p = reserve(wr, 16);
	if (p == NULL)
		return;
	for (int i = 15; i >= 0; i--, word >>= 4)
		p[i] = (uint8_t)"0123456789ABCDEF"[word & 15];
}

/*
 * The bitmap words for the fields present: the extension bits are set
 * when a field beyond them is present, or when the unpacked message
 * carried that extension (see iso8583_msg_t.present).
 */
static void bitmap_words(const iso8583_msg_t *msg, uint64_t words[3])
{
	const iso8583_dialect_t *d = msg->dialect;
	words[0] = ps_be64_get(msg->present);
	words[1] = ps_be64_get(msg->present + 8);
	words[2] = d->tertiary ? ps_be64_get(msg->present + 16) : 0;
	if (words[2] != 0)
		words[1] |= ISO8583_BIT(65);
	if (words[1] != 0)
		words[0] |= ISO8583_BIT(1);
}

static int pack_wire(const iso8583_field_spec_t *s, int n,
		     const iso8583_field_t *f, struct writer *wr,
		     iso8583_error_t *err)
{
	/* Cheap checks that a span really is one of this field's. */
	if (f->length > s->length ||
	    (s->prefix_bytes == 0 && f->length != s->length) ||
	    f->size != iso8583_content_size(s, f->length))
		return iso8583_fail(err, ISO8583_ELENGTH, n, wr->pos,
				    "wire span of %u bytes does not fit the field",
				    f->size);
	uint8_t *p = reserve(wr, s->prefix_bytes + (size_t)f->size);
	if (p != NULL) {
		iso8583_prefix_write(s, f->length, p);
		copy_bytes(p + s->prefix_bytes, f->data, f->size);
	}
	return 0;
}

static int check_plain(const iso8583_field_spec_t *s, int n,
		       const iso8583_field_t *f, size_t at,
		       iso8583_error_t *err)
{
	size_t length = f->size;
	if (s->prefix_bytes == 0 && length != s->length)
		return iso8583_fail(err, ISO8583_ELENGTH, n, at,
				    "fixed field of length %u given %zu",
				    s->length, length);
	if (length > s->length)
		return iso8583_fail(err, ISO8583_ELENGTH, n, at,
				    "value of length %zu is over the maximum %u",
				    length, s->length);
	if (s->cls == ISO8583_CLASS_B)
		return 0;
	const char *why;
	size_t bad = iso8583_text_check(s, f->data, length, &why);
	if (bad == SIZE_MAX)
		return 0;
	if (bad >= length)
		return iso8583_fail(err, ISO8583_ECONTENT, n, at,
				    "content outside class %s: %s",
				    iso8583_class_name(s->cls), why);
	return iso8583_fail(err, ISO8583_ECONTENT, n, at,
			    "content outside class %s: byte 0x%02X at position %zu (%s)",
			    iso8583_class_name(s->cls), f->data[bad], bad, why);
}

static void encode_plain(const iso8583_field_spec_t *s,
			 const iso8583_field_t *f, uint8_t *p)
{
	switch (s->codec) {
	case ISO8583_CODEC_BCD:
		iso8583_bcd_encode(s, f->data, f->size, p);
		break;
	case ISO8583_CODEC_HEX:
		for (size_t i = 0; i < f->size; i++) {
			p[2 * i] = (uint8_t)"0123456789ABCDEF"[f->data[i] >> 4];
			p[2 * i + 1] = (uint8_t)"0123456789ABCDEF"[f->data[i] & 15];
		}
		break;
	default:
		copy_bytes(p, f->data, f->size);
		break;
	}
}

static int pack_plain(const iso8583_field_spec_t *s, int n,
		      const iso8583_field_t *f, struct writer *wr,
		      iso8583_error_t *err)
{
	int rc = check_plain(s, n, f, wr->pos, err);
	if (rc != 0)
		return rc;
	size_t size = iso8583_content_size(s, f->size);
	uint8_t *p = reserve(wr, s->prefix_bytes + size);
	if (p != NULL) {
		iso8583_prefix_write(s, f->size, p);
		encode_plain(s, f, p + s->prefix_bytes);
	}
	return 0;
}

static int pack_fields(const iso8583_msg_t *msg, const uint64_t words[3],
		       struct writer *wr, iso8583_error_t *err)
{
	const iso8583_dialect_t *d = msg->dialect;
	uint64_t skip[3] = {ISO8583_BIT(1), d->tertiary ? ISO8583_BIT(65) : 0,
			    0};
	for (int k = 0; k < 3; k++) {
		uint64_t bits = words[k] & ~skip[k];
		while (bits != 0) {
			int top = __builtin_clzll(bits);
			bits &= ~(1ull << (63 - top));
			int n = k * 64 + top + 1;
			const iso8583_field_t *f = &msg->field[n];
			int rc = f->wire ? pack_wire(&d->field[n], n, f, wr, err)
					 : pack_plain(&d->field[n], n, f, wr, err);
			if (rc != 0)
				return rc;
		}
	}
	return 0;
}

int iso8583_pack(const iso8583_msg_t *msg, uint8_t *out, size_t cap,
		 size_t *out_len, iso8583_error_t *err)
{
	const iso8583_dialect_t *d = msg->dialect;
	PS_ASSERT(d != NULL && d->finished);
	*out_len = 0;
	if (msg->mti[0] == 0)
		return iso8583_fail(err, ISO8583_ENOMTI, 0, 0,
				    "the message has no MTI");
	uint64_t words[3];
	bitmap_words(msg, words);
	for (int k = 0; k < 3; k++) {
		uint64_t extra = words[k] & ~d->allowed[k];
		if (extra != 0) {
			int n = k * 64 + __builtin_clzll(extra) + 1;
			return iso8583_fail(err, ISO8583_EUNDEFINED, n, 0,
					    "field %d is not defined in dialect %s",
					    n, d->name);
		}
	}
	struct writer wr = {out, cap, 0};
	write_mti(msg, &wr);
	write_bitmap_word(d, words[0], &wr);
	if (words[0] & ISO8583_BIT(1))
		write_bitmap_word(d, words[1], &wr);
	if (d->tertiary && (words[1] & ISO8583_BIT(65)))
		write_bitmap_word(d, words[2], &wr);
	int rc = pack_fields(msg, words, &wr, err);
	if (rc != 0)
		return rc;
	*out_len = wr.pos;
	if (wr.pos > cap)
		return iso8583_fail(err, ISO8583_ENOSPC, -1, cap,
				    "the message needs %zu bytes, the buffer has %zu",
				    wr.pos, cap);
	return 0;
}
