/*
 * route_codec.c: the byte layouts of a route record (the routes database
 * value) and of the table's meta record (route_meta "table"). Explicit
 * big-endian layouts, not struct images, so the files do not depend on a
 * compiler's padding and a corrupt value is detected, never trusted.
 *
 * Route record, ROUTE_RECORD_BYTES (312), fixed size:
 *   0    u8   format (1)
 *   1    u8   flags: bit 0 enabled; other bits zero
 *   2    u8   network (0 direct, 1 unionpay, 2 netclear)
 *   3    u8   alternate count (0..4)
 *   4    u64  changed_ms, big-endian
 *   12   32   endpoint, NUL-padded
 *   44   4x32 alternates, NUL-padded
 *   172  12   institution, NUL-padded ("" = none)
 *   184  64   note, NUL-padded
 *   248  64   changed_by, NUL-padded
 * The prefix is the key (1..19 ASCII digits) and is not repeated.
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
#define OFF_ENDPOINT 12
#define OFF_ALTERNATES 44
#define OFF_INSTITUTION 172
#define OFF_NOTE 184
#define OFF_CHANGED_BY 248

#define FLAG_ENABLED 0x01

_Static_assert(OFF_ALTERNATES - OFF_ENDPOINT == ROUTE_ENDPOINT_BYTES_MAX + 1,
	       "endpoint slot");
_Static_assert(OFF_INSTITUTION - OFF_ALTERNATES ==
		       ROUTE_ALTERNATES_MAX * (ROUTE_ENDPOINT_BYTES_MAX + 1),
	       "alternate slots");
_Static_assert(OFF_NOTE - OFF_INSTITUTION == ROUTE_INSTITUTION_DIGITS_MAX + 1,
	       "institution slot");
_Static_assert(OFF_CHANGED_BY - OFF_NOTE == ROUTE_NOTE_BYTES_MAX + 1,
	       "note slot");
_Static_assert(ROUTE_RECORD_BYTES - OFF_CHANGED_BY == ROUTE_WHO_BYTES_MAX + 1,
	       "changed_by slot");

/* Copies a terminated string into a NUL-padded slot of cap bytes. */
static void put_text(uint8_t *slot, size_t cap, const char *text)
{
	size_t len = strnlen(text, cap - 1);
	memset(slot, 0, cap);
	memcpy(slot, text, len);
}

/* Copies a slot out; false when it holds no terminator (corrupt). */
static bool get_text(char *dst, const uint8_t *slot, size_t cap)
{
	if (memchr(slot, '\0', cap) == NULL)
		return false;
	memcpy(dst, slot, cap);
	return true;
}

void route_record_encode(const route_t *route, uint8_t out[ROUTE_RECORD_BYTES])
{
	PS_ASSERT(route->alternate_count <= ROUTE_ALTERNATES_MAX);
	PS_ASSERT((unsigned)route->network < ROUTE_NETWORK_COUNT);
	memset(out, 0, ROUTE_RECORD_BYTES);
	out[OFF_FORMAT] = ROUTE_RECORD_FORMAT;
	out[OFF_FLAGS] = route->enabled ? FLAG_ENABLED : 0;
	out[OFF_NETWORK] = (uint8_t)route->network;
	out[OFF_ALTERNATES_COUNT] = route->alternate_count;
	route_be64_put(out + OFF_CHANGED_MS, route->changed_ms);
	put_text(out + OFF_ENDPOINT, ROUTE_ENDPOINT_BYTES_MAX + 1,
		 route->endpoint);
	for (unsigned i = 0; i < route->alternate_count; i++)
		put_text(out + OFF_ALTERNATES + i * (ROUTE_ENDPOINT_BYTES_MAX + 1),
			 ROUTE_ENDPOINT_BYTES_MAX + 1, route->alternates[i]);
	put_text(out + OFF_INSTITUTION, ROUTE_INSTITUTION_DIGITS_MAX + 1,
		 route->institution);
	put_text(out + OFF_NOTE, ROUTE_NOTE_BYTES_MAX + 1, route->note);
	put_text(out + OFF_CHANGED_BY, ROUTE_WHO_BYTES_MAX + 1,
		 route->changed_by);
}

/*
 * The lookup path: bounded copies and a few checks, no allocation. The
 * checks are cheap ones that keep a corrupt record from producing an
 * unterminated string or an out-of-range enum; full field validation is
 * for writes.
 */
int route_record_decode(const void *key, size_t key_len, const void *value,
			size_t value_len, route_t *out)
{
	const uint8_t *v = value;
	if (key_len == 0 || key_len > ROUTE_PREFIX_DIGITS_MAX ||
	    !ps_is_digits(key, key_len) || value_len != ROUTE_RECORD_BYTES ||
	    v[OFF_FORMAT] != ROUTE_RECORD_FORMAT ||
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
	out->changed_ms = route_be64_get(v + OFF_CHANGED_MS);
	bool ok = get_text(out->endpoint, v + OFF_ENDPOINT,
			   sizeof(out->endpoint));
	for (unsigned i = 0; i < ROUTE_ALTERNATES_MAX; i++)
		ok = ok && get_text(out->alternates[i],
				    v + OFF_ALTERNATES +
					    i * sizeof(out->alternates[i]),
				    sizeof(out->alternates[i]));
	ok = ok && get_text(out->institution, v + OFF_INSTITUTION,
			    sizeof(out->institution));
	ok = ok && get_text(out->note, v + OFF_NOTE, sizeof(out->note));
	ok = ok && get_text(out->changed_by, v + OFF_CHANGED_BY,
			    sizeof(out->changed_by));
	return ok ? 0 : PS_EFORMAT;
}

void route_meta_encode(const route_table_info_t *info,
		       uint8_t out[ROUTE_META_BYTES])
{
	route_be32_put(out, ROUTE_META_FORMAT);
	route_be64_put(out + 4, info->version);
	for (unsigned i = 0; i <= ROUTE_PREFIX_DIGITS_MAX; i++)
		route_be32_put(out + 12 + 4 * i, info->count_by_length[i]);
}

int route_meta_decode(const void *value, size_t len, route_table_info_t *out)
{
	const uint8_t *v = value;
	if (len != ROUTE_META_BYTES || route_be32_get(v) != ROUTE_META_FORMAT)
		return PS_EFORMAT;
	out->version = route_be64_get(v + 4);
	uint64_t total = 0;
	for (unsigned i = 0; i <= ROUTE_PREFIX_DIGITS_MAX; i++) {
		out->count_by_length[i] = route_be32_get(v + 12 + 4 * i);
		total += out->count_by_length[i];
	}
	if (out->count_by_length[0] != 0 || total > ROUTE_COUNT_MAX)
		return PS_EFORMAT;
	out->count = (uint32_t)total;
	return 0;
}
