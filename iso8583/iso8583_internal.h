/*
 * iso8583_internal.h: what the codec's source files share and nothing
 * outside iso8583/ may use: the class lookup tables, the per-field codecs
 * derived at dialect load, the length-prefix and BCD helpers, and the
 * error setter.
 *
 * The helpers the hot path calls per field (prefix read and write, content
 * size, text check) are static inline here so that unpack.c and pack.c get
 * them inlined without link-time optimisation.
 */
#ifndef PAYSWITCH_ISO8583_INTERNAL_H
#define PAYSWITCH_ISO8583_INTERNAL_H

#include "core.h"
#include "iso8583.h"

#include <string.h>

/* ---- class lookup ------------------------------------------------------ */

/*
 * One table entry per byte value says which classes accept that byte, so
 * checking content is one load and one AND per byte whatever the class.
 */
enum {
	ISO8583_CT_N = 1 << 0,     /* '0'-'9' */
	ISO8583_CT_AN = 1 << 1,    /* letters, digits, space */
	ISO8583_CT_ANS = 1 << 2,   /* any byte >= 0x20 except 0x7F */
	ISO8583_CT_Z = 1 << 3,     /* digits and '=' (track 2 separator) */
	ISO8583_CT_HEX = 1 << 4,   /* 0-9, A-F, a-f */
	ISO8583_CT_PRINT = 1 << 5, /* 0x20-0x7E: the sign of an x+n value */
};
extern const uint8_t iso8583_ctype[256];

/* Value of a hex character, or 0xFF when the byte is not one. */
extern const uint8_t iso8583_hexval[256];

/* BCD byte checks: both nibbles digits (BT_N), or digits or D (BT_Z). */
enum { ISO8583_BT_N = 1 << 0, ISO8583_BT_Z = 1 << 1 };
extern const uint8_t iso8583_bcdtype[256];

/* ---- codecs ------------------------------------------------------------ */

/*
 * How a field's content is checked, sized and converted, derived from its
 * class and encoding when the dialect is finished.
 */
enum iso8583_codec {
	ISO8583_CODEC_NONE = 0, /* not defined */
	ISO8583_CODEC_TEXT,     /* ASCII n/an/ans/z: each byte in class_mask */
	ISO8583_CODEC_XN_TEXT,  /* ASCII x+n: a printable sign, then digits */
	ISO8583_CODEC_BCD,      /* BCD n/z, or x+n as sign byte plus BCD */
	ISO8583_CODEC_BINARY,   /* raw bytes */
	ISO8583_CODEC_HEX,      /* bytes as hex text, two characters a byte */
};

/* Bytes the content of logical length `length` takes on the wire. */
static inline size_t iso8583_content_size(const iso8583_field_spec_t *s,
					  size_t length)
{
	switch (s->codec) {
	case ISO8583_CODEC_BCD:
		if (s->cls == ISO8583_CLASS_XN)
			return length == 0 ? 0 : 1 + length / 2;
		return (length + 1) / 2;
	case ISO8583_CODEC_HEX:
		return 2 * length;
	default:
		return length;
	}
}

/*
 * Index of the first byte of text[0..len) outside mask, or len when all
 * are in. The loop is the whole cost of checking ASCII fields.
 */
static inline size_t iso8583_text_scan(const uint8_t *text, size_t len,
				       uint8_t mask)
{
	size_t i = 0;
	while (i < len && (iso8583_ctype[text[i]] & mask))
		i++;
	return i;
}

/* ---- length prefixes ----------------------------------------------------- */

/* Bytes a prefix of `digits` (2, 3, 4) takes in `encoding`; 0 for fixed. */
static inline uint8_t iso8583_prefix_size(unsigned digits, unsigned encoding)
{
	if (digits == 0)
		return 0;
	if (encoding == ISO8583_PREFIX_ASCII)
		return (uint8_t)digits;
	return digits == 2 ? 1 : 2;
}

/*
 * Reads the prefix of spec s at p (s->prefix_bytes available). Returns the
 * length it says, or -1 when it is not a well-formed number.
 */
static inline long iso8583_prefix_read(const iso8583_field_spec_t *s,
				       const uint8_t *p)
{
	switch (s->prefix_encoding) {
	case ISO8583_PREFIX_ASCII: {
		long v = 0;
		for (unsigned i = 0; i < s->prefix_bytes; i++) {
			unsigned d = (unsigned)p[i] - '0';
			if (d > 9)
				return -1;
			v = v * 10 + (long)d;
		}
		return v;
	}
	case ISO8583_PREFIX_BCD: {
		long v = 0;
		for (unsigned i = 0; i < s->prefix_bytes; i++) {
			if (!(iso8583_bcdtype[p[i]] & ISO8583_BT_N))
				return -1;
			v = v * 100 + (p[i] >> 4) * 10 + (p[i] & 15);
		}
		return v;
	}
	default:
		if (s->prefix_bytes == 1)
			return p[0];
		return (long)p[0] << 8 | p[1];
	}
}

/* Writes length as the prefix of spec s (length <= s->length). */
static inline void iso8583_prefix_write(const iso8583_field_spec_t *s,
					size_t length, uint8_t *p)
{
	switch (s->prefix_encoding) {
	case ISO8583_PREFIX_ASCII:
		for (unsigned i = s->prefix_bytes; i > 0; i--) {
			p[i - 1] = (uint8_t)('0' + length % 10);
			length /= 10;
		}
		break;
	case ISO8583_PREFIX_BCD:
		for (unsigned i = s->prefix_bytes; i > 0; i--) {
			p[i - 1] = (uint8_t)((length / 10 % 10) << 4 |
					     length % 10);
			length /= 100;
		}
		break;
	default:
		if (s->prefix_bytes == 1) {
			p[0] = (uint8_t)length;
		} else {
			p[0] = (uint8_t)(length >> 8);
			p[1] = (uint8_t)length;
		}
		break;
	}
}

/* ---- bitmaps ----------------------------------------------------------- */

/* Field n's bit in a 64-bit bitmap word (wire order: field 1 is the MSB). */
#define ISO8583_BIT(n) (1ull << (63 - ((unsigned)(n) - 1) % 64))

/* ---- BCD and text conversions (fields.c) ------------------------------- */

/*
 * Checks the BCD content of spec s (codec BCD) at p holding `length`
 * characters' worth (sign included for x+n). Returns the index of the
 * first bad byte, or SIZE_MAX when the content is valid; *why names the
 * rule broken.
 */
size_t iso8583_bcd_check(const iso8583_field_spec_t *s, const uint8_t *p,
			 size_t length, const char **why);

/*
 * Checks a plain text value against spec s's class. Returns the index of
 * the first bad character or SIZE_MAX; *why names the rule broken.
 */
size_t iso8583_text_check(const iso8583_field_spec_t *s, const uint8_t *text,
			  size_t length, const char **why);

/* Encodes checked text of `length` characters as BCD for spec s into out
 * (iso8583_content_size bytes). */
void iso8583_bcd_encode(const iso8583_field_spec_t *s, const uint8_t *text,
			size_t length, uint8_t *out);

/* Decodes checked BCD content of `length` characters into text (length
 * characters, no NUL). */
void iso8583_bcd_decode(const iso8583_field_spec_t *s, const uint8_t *p,
			size_t length, char *text);

/* ---- built-in dialects (generated by embed_dialects.cmake) ------------ */

struct iso8583_embedded {
	const char *file; /* the file name under iso8583/dialects/ */
	const char *text; /* its JSON, NUL-terminated */
	size_t len;       /* bytes, without the NUL */
};
extern const struct iso8583_embedded iso8583_embedded_dialects[];
extern const size_t iso8583_embedded_dialect_count;

/* ---- errors (errors.c) --------------------------------------------------- */

/*
 * Fills *err (when not NULL) and returns code, so that failure paths read
 * `return iso8583_fail(err, ISO8583_EPREFIX, n, pos, "...", ...)`. Only
 * error paths format text.
 */
int iso8583_fail(iso8583_error_t *err, int code, int field, size_t offset,
		 const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#endif /* PAYSWITCH_ISO8583_INTERNAL_H */
