/* text.c: decimal, hex and PAN-masking helpers shared by codecs and logs. */
#include "core.h"

#include <string.h>

bool ps_is_digits(const char *s, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)(s[i] - '0') > 9)
			return false;
	return true;
}

int ps_parse_u64(const char *s, size_t len, uint64_t *out)
{
	if (len == 0)
		return PS_EINVAL;
	if (len > 18)
		return PS_ELIMIT;
	uint64_t v = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned d = (unsigned char)s[i] - '0';
		if (d > 9)
			return PS_EINVAL;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

int ps_format_u64(char *out, size_t width, uint64_t value)
{
	for (size_t i = width; i > 0; i--) {
		out[i - 1] = (char)('0' + value % 10);
		value /= 10;
	}
	return value == 0 ? 0 : PS_ELIMIT;
}

size_t ps_json_escape_byte(unsigned char c, char out[6])
{
	static const char hex[] = "0123456789abcdef";
	if (c == '"' || c == '\\') {
		out[0] = '\\';
		out[1] = (char)c;
		return 2;
	}
	if (c < 0x20 || c == 0x7f) {
		memcpy(out, "\\u00", 4);
		out[4] = hex[c >> 4];
		out[5] = hex[c & 15];
		return 6;
	}
	out[0] = (char)c;
	return 1;
}

void ps_hex_encode(const uint8_t *in, size_t len, char *out)
{
	static const char digits[] = "0123456789ABCDEF";
	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * len] = '\0';
}

int ps_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int ps_hex_decode(const char *in, size_t len, uint8_t *out, size_t out_cap)
{
	if (len % 2 != 0)
		return PS_EINVAL;
	if (len / 2 > out_cap)
		return PS_ENOSPC;
	for (size_t i = 0; i < len; i += 2) {
		int hi = ps_hex_digit(in[i]);
		int lo = ps_hex_digit(in[i + 1]);
		if (hi < 0 || lo < 0)
			return PS_EINVAL;
		out[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

void ps_mask_pan(const char *pan, size_t len, char *out)
{
	size_t keep_head = len > 10 ? 6 : 0;
	size_t keep_tail = len >= 4 ? 4 : len;
	for (size_t i = 0; i < len; i++) {
		bool keep = i < keep_head || i >= len - keep_tail;
		out[i] = keep ? pan[i] : '*';
	}
	out[len] = '\0';
}

size_t ps_strlcpy(char *dst, const char *src, size_t cap)
{
	PS_ASSERT(cap > 0);
	size_t n = strnlen(src, cap - 1);
	memcpy(dst, src, n);
	dst[n] = '\0';
	return n;
}
