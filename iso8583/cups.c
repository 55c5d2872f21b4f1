/*
 * cups.c: the UnionPay (CUPS) 46-byte message header (iso8583.h).
 *
 * Only the framing knows it is there (header_bytes 46); what it says is
 * read and written here, so that a network and its members agree on
 * every byte: the total length is the frame's, the stations are swapped
 * on an answer, and a header found wrong is sent back with the reject
 * code of the field at fault.
 */
#include "iso8583.h"

#include <stdio.h>
#include <string.h>

#include "core.h"

#define OFF_HEADER_LEN 0
#define OFF_FLAGS 1
#define OFF_TOTAL 2
#define OFF_DESTINATION 6
#define OFF_SOURCE 17
#define OFF_RESERVED 28
#define OFF_BATCH 31
#define OFF_TXN_INFO 32
#define OFF_USER_INFO 40
#define OFF_REJECT 41

_Static_assert(OFF_REJECT + 5 == ISO8583_CUPS_HEADER_BYTES, "CUPS header layout");

static void put_station(uint8_t *out, const char *station)
{
	size_t n = strnlen(station, ISO8583_CUPS_STATION_BYTES);
	memcpy(out, station, n);
	memset(out + n, ' ', ISO8583_CUPS_STATION_BYTES - n);
}

static void get_station(const uint8_t *in, char *out)
{
	size_t n = ISO8583_CUPS_STATION_BYTES;
	while (n > 0 && (in[n - 1] == ' ' || in[n - 1] == '\0'))
		n--;
	for (size_t i = 0; i < n; i++)
		out[i] = in[i] >= 0x20 && in[i] < 0x7f ? (char)in[i] : '?';
	out[n] = '\0';
}

void iso8583_cups_header_init(iso8583_cups_header_t *h, const char *destination,
			      const char *source)
{
	memset(h, 0, sizeof(*h));
	h->flags = ISO8583_CUPS_VERSION;
	ps_strlcpy(h->destination, destination, sizeof(h->destination));
	ps_strlcpy(h->source, source, sizeof(h->source));
	memcpy(h->reject, "00000", 6);
}

static int reject(iso8583_error_t *err, iso8583_cups_header_t *out, int field,
		  const char *fmt, unsigned value)
{
	snprintf(out->reject, sizeof(out->reject), "000%d5", field);
	if (err != NULL) {
		err->code = ISO8583_EFRAME;
		err->field = field;
		err->offset = (size_t)(field == 1 ? OFF_HEADER_LEN
				       : field == 2 ? OFF_FLAGS
						    : OFF_TOTAL);
		snprintf(err->reason, sizeof(err->reason), fmt, value);
	}
	return ISO8583_EFRAME;
}

int iso8583_cups_header_parse(const uint8_t *in, size_t frame_len,
			      iso8583_cups_header_t *out, iso8583_error_t *err)
{
	memset(out, 0, sizeof(*out));
	out->flags = in[OFF_FLAGS];
	get_station(in + OFF_DESTINATION, out->destination);
	get_station(in + OFF_SOURCE, out->source);
	memcpy(out->reserved, in + OFF_RESERVED, 3);
	out->batch = in[OFF_BATCH];
	memcpy(out->txn_info, in + OFF_TXN_INFO, 8);
	out->user_info = in[OFF_USER_INFO];
	memcpy(out->reject, in + OFF_REJECT, 5);
	out->reject[5] = '\0';
	uint64_t total = 0;
	bool digits = ps_is_digits((const char *)in + OFF_TOTAL, 4);
	if (digits)
		ps_parse_u64((const char *)in + OFF_TOTAL, 4, &total);
	out->total_len = (uint32_t)total;
	if (in[OFF_HEADER_LEN] != ISO8583_CUPS_HEADER_BYTES)
		return reject(err, out, 1, "CUPS header length %u, not 46",
			      in[OFF_HEADER_LEN]);
	if ((out->flags & ~ISO8583_CUPS_TEST_FLAG) != ISO8583_CUPS_VERSION)
		return reject(err, out, 2, "CUPS header version %u, not 1",
			      out->flags & ~ISO8583_CUPS_TEST_FLAG);
	if (!digits || total != frame_len)
		return reject(err, out, 3, "CUPS total message length is not "
			      "the frame's %u bytes", (unsigned)frame_len);
	if (!ps_is_digits(out->reject, 5))
		memcpy(out->reject, "00000", 6);
	return 0;
}

void iso8583_cups_header_set_total(uint8_t *header, size_t total_len)
{
	PS_ASSERT(total_len <= 9999);
	char total[5];
	snprintf(total, sizeof(total), "%04u", (unsigned)total_len);
	memcpy(header + OFF_TOTAL, total, 4);
}

void iso8583_cups_header_write(const iso8583_cups_header_t *h, size_t total_len,
			       uint8_t out[ISO8583_CUPS_HEADER_BYTES])
{
	out[OFF_HEADER_LEN] = ISO8583_CUPS_HEADER_BYTES;
	out[OFF_FLAGS] = h->flags;
	iso8583_cups_header_set_total(out, total_len);
	put_station(out + OFF_DESTINATION, h->destination);
	put_station(out + OFF_SOURCE, h->source);
	memcpy(out + OFF_RESERVED, h->reserved, 3);
	out[OFF_BATCH] = h->batch;
	memcpy(out + OFF_TXN_INFO, h->txn_info, 8);
	out[OFF_USER_INFO] = h->user_info;
	memcpy(out + OFF_REJECT, ps_is_digits(h->reject, 5) ? h->reject : "00000",
	       5);
}

void iso8583_cups_header_reply(const iso8583_cups_header_t *h,
			       const char *reject_code, iso8583_cups_header_t *out)
{
	*out = *h;
	ps_strlcpy(out->destination, h->source, sizeof(out->destination));
	ps_strlcpy(out->source, h->destination, sizeof(out->source));
	ps_strlcpy(out->reject, reject_code, sizeof(out->reject));
}
