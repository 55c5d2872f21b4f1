/*
 * fuzz_iso8583_framer.c: any bytes as a TCP stream through every framing
 * (each length header, fixed headers of 0, 5 and 46 bytes, measured
 * streams), fed whole and in chunks whose sizes come from the input.
 *
 * Property: chunking changes nothing. Both feeds yield the same frames,
 * every frame lies within the framer's storage and within
 * frame_bytes_max, and both end in the same state (the same error at the
 * same stream offset, or the same bytes pending).
 */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz_dialects.h"

#define FRAME_BYTES_MAX 512
#define FRAMES_MAX 4096

struct outcome {
	uint64_t frame_hash[FRAMES_MAX];
	size_t frames;
	int status;          /* 0, or the error that stopped the stream */
	size_t error_offset;
	size_t pending;
};

static struct outcome whole, chunked;
static uint8_t storage[FRAME_BYTES_MAX + 4];

static uint64_t hash_bytes(uint64_t h, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211ull;
	return h;
}

/* Takes every whole frame; false once the stream is in error. */
static bool drain(iso8583_framer_t *f, struct outcome *o)
{
	iso8583_frame_t frame;
	iso8583_error_t err;
	int rc;
	while ((rc = iso8583_framer_next(f, &frame, &err)) == 1) {
		PS_ASSERT(frame.header >= storage);
		PS_ASSERT(frame.message + frame.message_len <= storage + sizeof(storage));
		PS_ASSERT(frame.message == frame.header + frame.header_len);
		PS_ASSERT(frame.header_len == f->cfg.header_bytes);
		PS_ASSERT(frame.message_len > 0);
		PS_ASSERT(frame.header_len + frame.message_len <= FRAME_BYTES_MAX);
		uint64_t h = hash_bytes(14695981039346656037ull, frame.header,
					frame.header_len);
		h = hash_bytes(h ^ 0xFF, frame.message, frame.message_len);
		if (o->frames < FRAMES_MAX)
			o->frame_hash[o->frames] = h;
		o->frames++;
	}
	if (rc == 0)
		return true;
	PS_ASSERT(err.code == rc);
	o->status = rc;
	o->error_offset = err.offset;
	return false;
}

/* Feeds data in chunks: chunk sizes from sizes[] in turn (0: all at once). */
static void run(const iso8583_framing_t *cfg, const uint8_t *data, size_t size,
		const uint8_t *sizes, size_t sizes_len, struct outcome *o)
{
	iso8583_framer_t f;
	memset(o, 0, sizeof(*o));
	iso8583_framer_init(&f, cfg, storage, sizeof(storage));
	size_t at = 0, turn = 0;
	while (at < size) {
		size_t want = size - at;
		if (sizes_len > 0) {
			size_t chunk = (size_t)sizes[turn++ % sizes_len] % 97 + 1;
			want = PS_MIN(want, chunk); /* PS_MIN evaluates twice */
		}
		size_t took;
		iso8583_framer_feed(&f, data + at, want, &took);
		/* the storage always holds a frame: no feed is refused */
		PS_ASSERT(took > 0);
		at += took;
		if (!drain(&f, o))
			return;
	}
	o->pending = iso8583_framer_pending(&f);
	PS_ASSERT(o->pending < FRAME_BYTES_MAX + 4);
}

static void check_same(const struct outcome *a, const struct outcome *b)
{
	PS_ASSERT(a->frames == b->frames);
	for (size_t i = 0; i < PS_MIN(a->frames, (size_t)FRAMES_MAX); i++)
		PS_ASSERT(a->frame_hash[i] == b->frame_hash[i]);
	PS_ASSERT(a->status == b->status);
	PS_ASSERT(a->error_offset == b->error_offset);
	PS_ASSERT(a->pending == b->pending);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 65536)
		return 0;
	const iso8583_dialect_t *const *d = fuzz_dialects();
	const iso8583_framing_t configs[] = {
		{ISO8583_LENGTH_BINARY2, 0, FRAME_BYTES_MAX, NULL},
		{ISO8583_LENGTH_ASCII4, 5, FRAME_BYTES_MAX, NULL},
		{ISO8583_LENGTH_BCD2, 46, FRAME_BYTES_MAX, NULL},
		{ISO8583_LENGTH_BINARY2, 5, FRAME_BYTES_MAX, NULL},
		{ISO8583_LENGTH_BINARY4, 0, FRAME_BYTES_MAX, NULL},
		{ISO8583_LENGTH_NONE, 0, FRAME_BYTES_MAX, d[0]},
		{ISO8583_LENGTH_NONE, 5, FRAME_BYTES_MAX, d[1]},
		{ISO8583_LENGTH_NONE, 0, FRAME_BYTES_MAX, d[3]},
	};
	/* chunk sizes come from the input itself, read backwards */
	static uint8_t sizes[64];
	size_t sizes_len = PS_MIN(size, sizeof(sizes));
	for (size_t i = 0; i < sizes_len; i++)
		sizes[i] = data[size - 1 - i];
	for (size_t c = 0; c < PS_ARRAY_LEN(configs); c++) {
		run(&configs[c], data, size, NULL, 0, &whole);
		run(&configs[c], data, size, sizes, sizes_len, &chunked);
		check_same(&whole, &chunked);
		static const uint8_t one[] = {0};
		run(&configs[c], data, size, one, 1, &chunked);
		check_same(&whole, &chunked);
	}
	return 0;
}
