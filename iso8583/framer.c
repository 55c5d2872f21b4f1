/*
 * framer.c: cutting a TCP byte stream into ISO 8583 frames.
 *
 * A frame is [length header][fixed header][message]. The length header
 * (binary2, ascii4, bcd2, binary4, or none) counts the fixed header and
 * the message; the fixed header (a 5-byte TPDU, a 46-byte network header,
 * ...) is opaque here, except that iso8583_header_reply() says how an
 * answer carries it back. Without a length header, each message is
 * measured with the dialect.
 *
 * Bytes arrive in any chunking; the framer holds a partial frame in the
 * caller's storage and yields whole frames that point into it. Storage is
 * sized from frame_bytes_max, so a frame always fits and a peer announcing
 * more is refused instead of buffered.
 */
#include "iso8583_internal.h"

#include <stdarg.h>
#include <stdio.h>

static const char *const length_header_names[] = {"none", "binary2", "ascii4",
						  "bcd2", "binary4"};

int iso8583_length_header_parse(const char *name)
{
	for (size_t i = 0; i < PS_ARRAY_LEN(length_header_names); i++)
		if (strcmp(name, length_header_names[i]) == 0)
			return (int)i;
	return -1;
}

const char *iso8583_length_header_name(int length_header)
{
	if (length_header < 0 ||
	    (size_t)length_header >= PS_ARRAY_LEN(length_header_names))
		return "?";
	return length_header_names[length_header];
}

size_t iso8583_frame_length_bytes(const iso8583_framing_t *cfg)
{
	switch (cfg->length_header) {
	case ISO8583_LENGTH_BINARY2: return 2;
	case ISO8583_LENGTH_ASCII4: return 4;
	case ISO8583_LENGTH_BCD2: return 2;
	case ISO8583_LENGTH_BINARY4: return 4;
	default: return 0;
	}
}

/* The most a length header can say. */
static size_t length_header_max(const iso8583_framing_t *cfg)
{
	switch (cfg->length_header) {
	case ISO8583_LENGTH_BINARY2: return 0xFFFF;
	case ISO8583_LENGTH_ASCII4: return 9999;
	case ISO8583_LENGTH_BCD2: return 9999;
	case ISO8583_LENGTH_BINARY4: return UINT32_MAX;
	default: return SIZE_MAX;
	}
}

void iso8583_header_reply(const uint8_t *request, size_t len, uint8_t *reply)
{
	memcpy(reply, request, len);
	if (len == 5) {
		memcpy(reply + 1, request + 3, 2); /* destination := source */
		memcpy(reply + 3, request + 1, 2); /* source := destination */
	} else if (len == ISO8583_CUPS_HEADER_BYTES &&
		   request[0] == ISO8583_CUPS_HEADER_BYTES) {
		/* CUPS: the stations swap, the reject code is cleared; the
		 * total length is the answer's, written with its frame. */
		memcpy(reply + 6, request + 17, ISO8583_CUPS_STATION_BYTES);
		memcpy(reply + 17, request + 6, ISO8583_CUPS_STATION_BYTES);
		memcpy(reply + 41, "00000", 5);
	}
}

int iso8583_frame_write_length(const iso8583_framing_t *cfg, size_t body_len,
			       uint8_t *out)
{
	if (body_len <= cfg->header_bytes || body_len > cfg->frame_bytes_max ||
	    body_len > length_header_max(cfg))
		return ISO8583_EFRAME;
	switch (cfg->length_header) {
	case ISO8583_LENGTH_BINARY2:
		ps_be16_put(out, (uint16_t)body_len);
		break;
	case ISO8583_LENGTH_ASCII4: {
		int rc = ps_format_u64((char *)out, 4, body_len);
		PS_ASSERT(rc == 0);
		break;
	}
	case ISO8583_LENGTH_BCD2:
		out[0] = (uint8_t)((body_len / 1000) << 4 | body_len / 100 % 10);
		out[1] = (uint8_t)((body_len / 10 % 10) << 4 | body_len % 10);
		break;
	case ISO8583_LENGTH_BINARY4:
		ps_be32_put(out, (uint32_t)body_len);
		break;
	default:
		break;
	}
	return 0;
}

void iso8583_framer_init(iso8583_framer_t *f, const iso8583_framing_t *cfg,
			 uint8_t *storage, size_t cap)
{
	PS_ASSERT(cfg->length_header <= ISO8583_LENGTH_BINARY4);
	PS_ASSERT(cfg->frame_bytes_max > cfg->header_bytes);
	PS_ASSERT(cap >= (size_t)cfg->frame_bytes_max + 4);
	PS_ASSERT(cfg->length_header != ISO8583_LENGTH_NONE ||
		  (cfg->dialect != NULL && cfg->dialect->finished));
	f->cfg = *cfg;
	f->buf = storage;
	f->cap = cap;
	f->start = 0;
	f->len = 0;
	f->stream_offset = 0;
}

/* Moves the unread bytes to the front, so the free space is contiguous. */
static void compact(iso8583_framer_t *f)
{
	if (f->start == 0)
		return;
	size_t held = f->len - f->start;
	if (held > 0)
		memmove(f->buf, f->buf + f->start, held);
	f->stream_offset += f->start;
	f->start = 0;
	f->len = held;
}

void iso8583_framer_space(iso8583_framer_t *f, uint8_t **data, size_t *len)
{
	compact(f);
	*data = f->buf + f->len;
	*len = f->cap - f->len;
}

void iso8583_framer_commit(iso8583_framer_t *f, size_t n)
{
	PS_ASSERT(n <= f->cap - f->len);
	f->len += n;
}

void iso8583_framer_feed(iso8583_framer_t *f, const uint8_t *data, size_t len,
			 size_t *consumed)
{
	uint8_t *space;
	size_t room;
	iso8583_framer_space(f, &space, &room);
	size_t n = PS_MIN(len, room);
	if (n > 0)
		memcpy(space, data, n);
	f->len += n;
	*consumed = n;
}

size_t iso8583_framer_pending(const iso8583_framer_t *f)
{
	return f->len - f->start;
}

static int frame_fail(const iso8583_framer_t *f, iso8583_error_t *err,
		      const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Frame errors are at the frame's first byte, counted in the stream. */
static int frame_fail(const iso8583_framer_t *f, iso8583_error_t *err,
		      const char *fmt, ...)
{
	char reason[ISO8583_REASON_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	return iso8583_fail(err, ISO8583_EFRAME, -1,
			    (size_t)f->stream_offset + f->start, "%s", reason);
}

/* The body length the header at p says, or an error. */
static int read_length(const iso8583_framer_t *f, const uint8_t *p,
		       size_t *body_len, iso8583_error_t *err)
{
	switch (f->cfg.length_header) {
	case ISO8583_LENGTH_BINARY2:
		*body_len = ps_be16_get(p);
		return 0;
	case ISO8583_LENGTH_BINARY4:
		*body_len = ps_be32_get(p);
		return 0;
	case ISO8583_LENGTH_ASCII4: {
		uint64_t v;
		if (ps_parse_u64((const char *)p, 4, &v) != 0)
			return frame_fail(f, err,
					  "length header %02X%02X%02X%02X is not 4 ASCII digits",
					  p[0], p[1], p[2], p[3]);
		*body_len = (size_t)v;
		return 0;
	}
	default:
		if (!(iso8583_bcdtype[p[0]] & ISO8583_BT_N) ||
		    !(iso8583_bcdtype[p[1]] & ISO8583_BT_N))
			return frame_fail(f, err,
					  "length header %02X%02X is not 4 BCD digits",
					  p[0], p[1]);
		*body_len = (size_t)((p[0] >> 4) * 1000 + (p[0] & 15) * 100 +
				     (p[1] >> 4) * 10 + (p[1] & 15));
		return 0;
	}
}

static int next_headed(iso8583_framer_t *f, iso8583_frame_t *frame,
		       iso8583_error_t *err)
{
	const uint8_t *p = f->buf + f->start;
	size_t avail = f->len - f->start;
	size_t lb = iso8583_frame_length_bytes(&f->cfg);
	if (avail < lb)
		return 0;
	size_t body_len = 0;
	int rc = read_length(f, p, &body_len, err);
	if (rc != 0)
		return rc;
	if (body_len <= f->cfg.header_bytes)
		return frame_fail(f, err,
				  "length %zu leaves no message after the %u-byte header",
				  body_len, (unsigned)f->cfg.header_bytes);
	if (body_len > f->cfg.frame_bytes_max)
		return frame_fail(f, err, "length %zu is over frame_bytes_max %u",
				  body_len, (unsigned)f->cfg.frame_bytes_max);
	if (avail - lb < body_len)
		return 0;
	frame->header = p + lb;
	frame->header_len = f->cfg.header_bytes;
	frame->message = p + lb + f->cfg.header_bytes;
	frame->message_len = body_len - f->cfg.header_bytes;
	f->start += lb + body_len;
	return 1;
}

/* Without a length header: the fixed header, then a measured message. */
static int next_measured(iso8583_framer_t *f, iso8583_frame_t *frame,
			 iso8583_error_t *err)
{
	const uint8_t *p = f->buf + f->start;
	size_t avail = f->len - f->start;
	size_t hb = f->cfg.header_bytes;
	if (avail <= hb)
		return 0;
	/* Measure no further than a frame may reach. */
	size_t window = PS_MIN(avail, (size_t)f->cfg.frame_bytes_max) - hb;
	size_t msg_len;
	int rc = iso8583_measure(f->cfg.dialect, p + hb, window, &msg_len, err);
	if (rc < 0) {
		if (err != NULL)
			err->offset += (size_t)f->stream_offset + f->start + hb;
		return rc;
	}
	if (rc == 0) {
		if (avail >= f->cfg.frame_bytes_max)
			return frame_fail(f, err,
					  "no whole message within frame_bytes_max %u",
					  (unsigned)f->cfg.frame_bytes_max);
		return 0;
	}
	frame->header = p;
	frame->header_len = hb;
	frame->message = p + hb;
	frame->message_len = msg_len;
	f->start += hb + msg_len;
	return 1;
}

int iso8583_framer_next(iso8583_framer_t *f, iso8583_frame_t *frame,
			iso8583_error_t *err)
{
	if (f->cfg.length_header == ISO8583_LENGTH_NONE)
		return next_measured(f, frame, err);
	return next_headed(f, frame, err);
}
