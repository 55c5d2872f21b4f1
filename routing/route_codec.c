/*
 * route_codec.c: the byte layouts of a route record (the routes database
 * value) and of the table's meta record (route_meta "table"). Explicit
 * big-endian layouts, not struct images, so the files do not depend on a
 * compiler's padding and a corrupt value is detected, never trusted.
 *
 * Route record, 16 to ROUTE_RECORD_BYTES_MAX (336) bytes:
 *   0    u8   format (3)
 *   1    u8   flags: bit 0 enabled; other bits zero
 *   2    u8   network (0 direct, 1 unionpay, 2 netclear)
 *   3    u8   alternate count (0..4)
 *   4    u64  changed_ms, big-endian
 *   12   then, each as a u8 length and that many bytes: endpoint, each
 *        alternate, institution, note, changed_by
 *   then the fees, big-endian: u32 issuer ppm, u64 issuer cap, u32
 *        network ppm, u64 network cap (24 bytes)
 * Format 2 (before fees) is the same without the fee block, and is still
 * read: a table written by an older switchctl routes as it did, feeless.
 * The prefix is the key (1..19 ASCII digits) and is not repeated.
 * Records are variable-length on purpose: a typical route takes about 60
 * bytes instead of 312, so five times as many fit in a B-tree page, and a
 * lookup over a large table touches fewer pages (bench/bench_routing.c).
 *
 * Meta record, ROUTE_META_BYTES (92):
 *   0    u32  format "RTB1"
 *   4    u64  version
 *   12   20 x u32 count of routes per prefix length (index 0 unused)
 */
#include "routing_int.h"

#include <string.h>

#define OFF_FORMAT 0
#define OFF_FLAGS 1
#define OFF_NETWORK 2
#define OFF_ALTERNATES_COUNT 3
#define OFF_CHANGED_MS 4
#define OFF_TEXT 12

#define FLAG_ENABLED 0x01

_Static_assert(OFF_TEXT + (ROUTE_ENDPOINT_BYTES_MAX + 1) * (1 + ROUTE_ALTERNATES_MAX) +
			       ROUTE_INSTITUTION_DIGITS_MAX + 1 +
			       ROUTE_NOTE_BYTES_MAX + 1 + ROUTE_WHO_BYTES_MAX + 1 +
			       ROUTE_RECORD_FEES_BYTES ==
		       ROUTE_RECORD_BYTES_MAX,
	       "record bound");

/* Appends a length byte and the string (at most cap-1 bytes of it). */
static size_t put_text(uint8_t *out, const char *text, size_t cap)
{
	size_t len = strnlen(text, cap - 1);
	out[0] = (uint8_t)len;
	memcpy(out + 1, text, len);
	return 1 + len;
}

size_t route_record_encode(const route_t *route,
			   uint8_t out[ROUTE_RECORD_BYTES_MAX])
{
	PS_ASSERT(route->alternate_count <= ROUTE_ALTERNATES_MAX);
	PS_ASSERT((unsigned)route->network < ROUTE_NETWORK_COUNT);
	out[OFF_FORMAT] = ROUTE_RECORD_FORMAT;
	out[OFF_FLAGS] = route->enabled ? FLAG_ENABLED : 0;
	out[OFF_NETWORK] = (uint8_t)route->network;
	out[OFF_ALTERNATES_COUNT] = route->alternate_count;
	ps_be64_put(out + OFF_CHANGED_MS, route->changed_ms);
	size_t n = OFF_TEXT;
	n += put_text(out + n, route->endpoint, sizeof(route->endpoint));
	for (unsigned i = 0; i < route->alternate_count; i++)
		n += put_text(out + n, route->alternates[i],
			      sizeof(route->alternates[i]));
	n += put_text(out + n, route->institution, sizeof(route->institution));
	n += put_text(out + n, route->note, sizeof(route->note));
	n += put_text(out + n, route->changed_by, sizeof(route->changed_by));
	ps_be32_put(out + n, route->fees.issuer_ppm);
	ps_be64_put(out + n + 4, (uint64_t)route->fees.issuer_cap);
	ps_be32_put(out + n + 12, route->fees.network_ppm);
	ps_be64_put(out + n + 16, (uint64_t)route->fees.network_cap);
	n += ROUTE_RECORD_FEES_BYTES;
	PS_ASSERT(n <= ROUTE_RECORD_BYTES_MAX);
	return n;
}

/* Reads one length-prefixed string into dst (cap bytes with the NUL);
 * false if it overruns the record or the field. */
static bool get_text(char *dst, size_t cap, const uint8_t *v, size_t len,
		     size_t *pos)
{
	if (*pos >= len)
		return false;
	size_t n = v[*pos];
	if (n >= cap || *pos + 1 + n > len)
		return false;
	memcpy(dst, v + *pos + 1, n);
	dst[n] = '\0';
	*pos += 1 + n;
	return true;
}

/*
 * The lookup path: bounded copies and a few checks, no allocation. The
 * checks keep a corrupt record from producing an overlong string or an
 * out-of-range enum; full field validation is for writes.
 */
int route_record_decode(const void *key, size_t key_len, const void *value,
			size_t value_len, route_t *out)
{
	const uint8_t *v = value;
	if (key_len == 0 || key_len > ROUTE_PREFIX_DIGITS_MAX ||
	    !ps_is_digits(key, key_len) || value_len < OFF_TEXT ||
	    value_len > ROUTE_RECORD_BYTES_MAX ||
	    (v[OFF_FORMAT] != ROUTE_RECORD_FORMAT && v[OFF_FORMAT] != 2) ||
	    (v[OFF_FLAGS] & ~FLAG_ENABLED) != 0 ||
	    v[OFF_NETWORK] >= ROUTE_NETWORK_COUNT ||
	    v[OFF_ALTERNATES_COUNT] > ROUTE_ALTERNATES_MAX)
		return PS_EFORMAT;
	memcpy(out->prefix, key, key_len);
	out->prefix[key_len] = '\0';
	out->prefix_len = (uint8_t)key_len;
	out->enabled = (v[OFF_FLAGS] & FLAG_ENABLED) != 0;
	out->network = (route_network_t)v[OFF_NETWORK];
	out->alternate_count = v[OFF_ALTERNATES_COUNT];
	out->changed_ms = ps_be64_get(v + OFF_CHANGED_MS);
	size_t pos = OFF_TEXT;
	bool ok = get_text(out->endpoint, sizeof(out->endpoint), v, value_len,
			   &pos);
	for (unsigned i = 0; i < ROUTE_ALTERNATES_MAX; i++) {
		if (i < out->alternate_count)
			ok = ok && get_text(out->alternates[i],
					    sizeof(out->alternates[i]), v,
					    value_len, &pos);
		else
			out->alternates[i][0] = '\0';
	}
	ok = ok && get_text(out->institution, sizeof(out->institution), v,
			    value_len, &pos);
	ok = ok && get_text(out->note, sizeof(out->note), v, value_len, &pos);
	ok = ok && get_text(out->changed_by, sizeof(out->changed_by), v,
			    value_len, &pos);
	memset(&out->fees, 0, sizeof(out->fees));
	if (ok && v[OFF_FORMAT] == ROUTE_RECORD_FORMAT) {
		if (pos + ROUTE_RECORD_FEES_BYTES != value_len)
			return PS_EFORMAT;
		out->fees.issuer_ppm = ps_be32_get(v + pos);
		out->fees.issuer_cap = (int64_t)ps_be64_get(v + pos + 4);
		out->fees.network_ppm = ps_be32_get(v + pos + 12);
		out->fees.network_cap = (int64_t)ps_be64_get(v + pos + 16);
		pos += ROUTE_RECORD_FEES_BYTES;
		/* A corrupt fee is refused here, not used. */
		if (out->fees.issuer_ppm > ROUTE_FEE_PPM_MAX ||
		    out->fees.network_ppm > ROUTE_FEE_PPM_MAX ||
		    out->fees.issuer_cap < 0 || out->fees.network_cap < 0 ||
		    out->fees.issuer_cap > ROUTE_FEE_CAP_MAX ||
		    out->fees.network_cap > ROUTE_FEE_CAP_MAX)
			return PS_EFORMAT;
	}
	return ok && pos == value_len ? 0 : PS_EFORMAT;
}

void route_meta_encode(const route_table_info_t *info,
		       uint8_t out[ROUTE_META_BYTES])
{
	ps_be32_put(out, ROUTE_META_FORMAT);
	ps_be64_put(out + 4, info->version);
	for (unsigned i = 0; i <= ROUTE_PREFIX_DIGITS_MAX; i++)
		ps_be32_put(out + 12 + 4 * i, info->count_by_length[i]);
}

int route_meta_decode(const void *value, size_t len, route_table_info_t *out)
{
	const uint8_t *v = value;
	if (len != ROUTE_META_BYTES || ps_be32_get(v) != ROUTE_META_FORMAT)
		return PS_EFORMAT;
	out->version = ps_be64_get(v + 4);
	uint64_t total = 0;
	for (unsigned i = 0; i <= ROUTE_PREFIX_DIGITS_MAX; i++) {
		out->count_by_length[i] = ps_be32_get(v + 12 + 4 * i);
		total += out->count_by_length[i];
	}
	if (out->count_by_length[0] != 0 || total > ROUTE_COUNT_MAX)
		return PS_EFORMAT;
	out->count = (uint32_t)total;
	return 0;
}
