/*
 * fields.c: field classes and content encodings: the lookup tables that
 * say which bytes each class accepts, and the BCD conversions (digits two
 * a byte, the pad nibble, '=' as nibble D for track data, the ASCII sign
 * of x+n amounts).
 *
 * The tables are computed by the compiler from the class definitions
 * below, so there is no hand-typed 256-entry table to get wrong.
 */
#include "iso8583_internal.h"

#include <stdint.h>

#define IS_DIGIT(c) ((c) >= '0' && (c) <= '9')
#define IS_ALPHA(c) (((c) >= 'A' && (c) <= 'Z') || ((c) >= 'a' && (c) <= 'z'))
#define IS_HEX(c) (IS_DIGIT(c) || ((c) >= 'A' && (c) <= 'F') || \
		   ((c) >= 'a' && (c) <= 'f'))

#define CTYPE(c)                                                          \
	((IS_DIGIT(c) ? ISO8583_CT_N : 0) |                               \
	 (IS_DIGIT(c) || IS_ALPHA(c) || (c) == ' ' ? ISO8583_CT_AN : 0) | \
	 ((c) >= 0x20 && (c) != 0x7F ? ISO8583_CT_ANS : 0) |              \
	 (IS_DIGIT(c) || (c) == '=' ? ISO8583_CT_Z : 0) |                 \
	 (IS_HEX(c) ? ISO8583_CT_HEX : 0) |                               \
	 ((c) >= 0x20 && (c) <= 0x7E ? ISO8583_CT_PRINT : 0))

#define HEXVAL(c)                                                 \
	(IS_DIGIT(c) ? (c) - '0'                                  \
	 : (c) >= 'A' && (c) <= 'F' ? (c) - 'A' + 10              \
	 : (c) >= 'a' && (c) <= 'f' ? (c) - 'a' + 10 : 0xFF)

#define NIB_N(x) ((x) <= 9)
#define NIB_Z(x) ((x) <= 9 || (x) == 0xD)
#define BCDTYPE(b)                                                        \
	((NIB_N((b) >> 4) && NIB_N((b) & 15) ? ISO8583_BT_N : 0) |        \
	 (NIB_Z((b) >> 4) && NIB_Z((b) & 15) ? ISO8583_BT_Z : 0))

#define R4(F, b) F(b), F((b) + 1), F((b) + 2), F((b) + 3)
#define R16(F, b) R4(F, b), R4(F, (b) + 4), R4(F, (b) + 8), R4(F, (b) + 12)
#define R64(F, b) R16(F, b), R16(F, (b) + 16), R16(F, (b) + 32), \
		  R16(F, (b) + 48)
#define R256(F) R64(F, 0), R64(F, 64), R64(F, 128), R64(F, 192)

const uint8_t iso8583_ctype[256] = {R256(CTYPE)};
const uint8_t iso8583_hexval[256] = {R256(HEXVAL)};
const uint8_t iso8583_bcdtype[256] = {R256(BCDTYPE)};

static bool nibble_ok(unsigned nibble, bool track)
{
	return nibble <= 9 || (track && nibble == 0xD);
}

size_t iso8583_bcd_check(const iso8583_field_spec_t *s, const uint8_t *p,
			 size_t length, const char **why)
{
	size_t base = 0;
	if (s->cls == ISO8583_CLASS_XN) {
		if (length == 0) {
			*why = "an x+n value needs its sign";
			return 0;
		}
		if (!(iso8583_ctype[p[0]] & ISO8583_CT_PRINT)) {
			*why = "the sign of an x+n value must be printable";
			return 0;
		}
		base = 1;
		length--;
	}
	bool track = s->cls == ISO8583_CLASS_Z;
	uint8_t mask = track ? ISO8583_BT_Z : ISO8583_BT_N;
	const uint8_t *d = p + base;
	size_t bytes = (length + 1) / 2;
	size_t first = 0, last = bytes;
	*why = track ? "BCD nibble is not a digit or D" : "BCD nibble is not a digit";
	if (length % 2 == 1) {
		/* The one byte that holds the pad nibble beside a digit. */
		bool right = s->encoding == ISO8583_ENC_BCD_RIGHT;
		size_t at = right ? bytes - 1 : 0;
		unsigned pad = right ? d[at] & 15u : d[at] >> 4;
		unsigned digit = right ? d[at] >> 4 : d[at] & 15u;
		if (!nibble_ok(digit, track))
			return base + at;
		if (pad != s->pad_nibble) {
			*why = s->pad_nibble ? "BCD pad nibble is not F"
					     : "BCD pad nibble is not 0";
			return base + at;
		}
		if (right)
			last--;
		else
			first++;
	}
	for (size_t i = first; i < last; i++)
		if (!(iso8583_bcdtype[d[i]] & mask))
			return base + i;
	return SIZE_MAX;
}

size_t iso8583_text_check(const iso8583_field_spec_t *s, const uint8_t *text,
			  size_t length, const char **why)
{
	if (s->cls == ISO8583_CLASS_XN) {
		if (length == 0) {
			*why = "an x+n value needs its sign";
			return 0;
		}
		if (!(iso8583_ctype[text[0]] & ISO8583_CT_PRINT)) {
			*why = "the sign of an x+n value must be printable";
			return 0;
		}
		size_t i = 1 + iso8583_text_scan(text + 1, length - 1,
						 ISO8583_CT_N);
		*why = "an x+n value has digits after its sign";
		return i == length ? SIZE_MAX : i;
	}
	size_t i = iso8583_text_scan(text, length, s->class_mask);
	switch (s->cls) {
	case ISO8583_CLASS_N: *why = "class n takes digits only"; break;
	case ISO8583_CLASS_AN: *why = "class an takes letters, digits and space"; break;
	case ISO8583_CLASS_Z: *why = "class z takes digits and '='"; break;
	case ISO8583_CLASS_B: *why = "hex text takes 0-9 and A-F"; break;
	default: *why = "class ans takes no control characters"; break;
	}
	return i == length ? SIZE_MAX : i;
}

static uint8_t text_nibble(uint8_t c)
{
	return c == '=' ? 0xD : (uint8_t)(c - '0');
}

void iso8583_bcd_encode(const iso8583_field_spec_t *s, const uint8_t *text,
			size_t length, uint8_t *out)
{
	if (s->cls == ISO8583_CLASS_XN && length > 0) {
		*out++ = *text++;
		length--;
	}
	bool right = s->encoding == ISO8583_ENC_BCD_RIGHT;
	uint8_t pad = s->pad_nibble;
	if (length % 2 == 1 && !right) {
		*out++ = (uint8_t)(pad << 4 | text_nibble(*text++));
		length--;
	}
	for (; length >= 2; length -= 2, text += 2)
		*out++ = (uint8_t)(text_nibble(text[0]) << 4 |
				   text_nibble(text[1]));
	if (length == 1)
		*out = (uint8_t)(text_nibble(text[0]) << 4 | pad);
}

void iso8583_bcd_decode(const iso8583_field_spec_t *s, const uint8_t *p,
			size_t length, char *text)
{
	/* Only digits and (for track data) D reach here: unpack checked. */
	static const char nibble_char[] = "0123456789ABC=EF";
	if (s->cls == ISO8583_CLASS_XN && length > 0) {
		*text++ = (char)*p++;
		length--;
	}
	size_t k = length % 2 == 1 && s->encoding == ISO8583_ENC_BCD ? 1 : 0;
	for (size_t i = 0; i < length; i++, k++) {
		uint8_t b = p[k / 2];
		text[i] = nibble_char[k % 2 ? b & 15 : b >> 4];
	}
}
