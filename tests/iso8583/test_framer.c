/*
 * test_framer.c: cutting streams into frames. For every length header
 * (binary2, ascii4, bcd2, binary4, none) and fixed header (none, 5-byte TPDU,
 * 46-byte network header), a stream of many frames fed whole, one byte at a
 * time, and in seeded random chunks gives back exactly the frames that
 * went in. Bad headers, oversize and zero lengths are refused.
 */
#include "core.h"
#include "iso8583_test.h"

#define FRAMES 64
#define FRAME_MAX 2048

/* Seeded so a failure replays. */
static uint64_t rng_state;
static uint64_t rng(void)
{
	return ps_xorshift64s(&rng_state);
}

struct sample {
	uint8_t header[64];
	uint8_t message[1024];
	size_t message_len;
};

static struct sample samples[FRAMES];
static uint8_t stream[FRAMES * (4 + 64 + 1024)];
static size_t stream_len;

/* A purchase of varying size: field 48 from 0 to 700 bytes. */
static size_t make_message(const iso8583_dialect_t *d, size_t extra,
			   uint8_t *out, size_t cap)
{
	static iso8583_msg_t m;
	static char text48[1000];
	for (size_t i = 0; i < extra; i++)
		text48[i] = (char)('A' + i % 26);
	iso8583_msg_init(&m, d);
	iso8583_set_mti(&m, "0200");
	iso8583_set_str(&m, 2, "6222020000000001");
	iso8583_set_str(&m, 3, "000000");
	iso8583_set_num(&m, 4, 12850 + extra);
	iso8583_set_num(&m, 11, extra);
	iso8583_set(&m, 48, text48, extra);
	iso8583_set_str(&m, 49, "156");
	size_t len;
	pack_ok(&m, out, cap, &len);
	return len;
}

static void make_stream(const iso8583_framing_t *cfg, uint64_t seed)
{
	rng_state = seed | 1;
	stream_len = 0;
	for (size_t i = 0; i < FRAMES; i++) {
		struct sample *s = &samples[i];
		size_t extra = i == 0 ? 0 : rng() % 700;
		const iso8583_dialect_t *d = cfg->dialect ? cfg->dialect
							  : iso8583_dialect_builtin("ascii");
		s->message_len = make_message(d, extra, s->message, sizeof(s->message));
		for (size_t k = 0; k < cfg->header_bytes; k++)
			s->header[k] = (uint8_t)rng();
		size_t body = cfg->header_bytes + s->message_len;
		size_t lb = iso8583_frame_length_bytes(cfg);
		assert_int_equal(iso8583_frame_write_length(cfg, body, stream + stream_len), 0);
		stream_len += lb;
		memcpy(stream + stream_len, s->header, cfg->header_bytes);
		stream_len += cfg->header_bytes;
		memcpy(stream + stream_len, s->message, s->message_len);
		stream_len += s->message_len;
	}
}

/* Takes every frame now held; *count says how many came so far. */
static void drain(iso8583_framer_t *f, const iso8583_framing_t *cfg,
		  size_t *count)
{
	iso8583_frame_t frame;
	iso8583_error_t err;
	int rc;
	while ((rc = iso8583_framer_next(f, &frame, &err)) == 1) {
		assert_true(*count < FRAMES);
		const struct sample *s = &samples[*count];
		assert_int_equal(frame.header_len, cfg->header_bytes);
		assert_memory_equal(frame.header, s->header, cfg->header_bytes);
		assert_int_equal(frame.message_len, s->message_len);
		assert_memory_equal(frame.message, s->message, s->message_len);
		assert_true(frame.header_len + frame.message_len <= cfg->frame_bytes_max);
		(*count)++;
	}
	if (rc != 0)
		fail_msg("framer: %s", err.reason);
}

/* chunk 0: all at once; 1: a byte at a time; else random up to chunk. */
static void run_stream(const iso8583_framing_t *cfg, size_t chunk_max)
{
	static uint8_t storage[FRAME_MAX + 4];
	iso8583_framer_t f;
	iso8583_framer_init(&f, cfg, storage, sizeof(storage));
	size_t count = 0, at = 0;
	while (at < stream_len) {
		size_t want = chunk_max == 0 ? stream_len - at
			    : chunk_max == 1 ? 1 : 1 + rng() % chunk_max;
		/* (computed before PS_MIN, which evaluates its arguments twice) */
		want = PS_MIN(want, stream_len - at);
		while (want > 0) {
			size_t took;
			iso8583_framer_feed(&f, stream + at, want, &took);
			at += took;
			want -= took;
			drain(&f, cfg, &count);
		}
	}
	assert_int_equal(count, FRAMES);
	assert_int_equal(iso8583_framer_pending(&f), 0);
}

/* The zero-copy path: read into the framer's own space. */
static void run_stream_zero_copy(const iso8583_framing_t *cfg)
{
	static uint8_t storage[FRAME_MAX + 4];
	iso8583_framer_t f;
	iso8583_framer_init(&f, cfg, storage, sizeof(storage));
	size_t count = 0, at = 0;
	while (at < stream_len) {
		uint8_t *space;
		size_t room;
		iso8583_framer_space(&f, &space, &room);
		assert_true(room > 0);
		size_t n = 1 + rng() % 3000; /* not inside PS_MIN: it evaluates twice */
		n = PS_MIN(PS_MIN(room, n), stream_len - at);
		memcpy(space, stream + at, n);
		iso8583_framer_commit(&f, n);
		at += n;
		drain(&f, cfg, &count);
	}
	assert_int_equal(count, FRAMES);
	assert_int_equal(iso8583_framer_pending(&f), 0);
}

static void test_every_framing_any_chunking(void **state)
{
	(void)state;
	const uint8_t headers[] = {0, 5, 46};
	for (int lh = ISO8583_LENGTH_NONE; lh <= ISO8583_LENGTH_BINARY4; lh++) {
		for (size_t h = 0; h < sizeof(headers); h++) {
			iso8583_framing_t cfg = {
				.length_header = (uint8_t)lh,
				.header_bytes = headers[h],
				.frame_bytes_max = FRAME_MAX,
				.dialect = lh == ISO8583_LENGTH_NONE
					? iso8583_dialect_builtin(h == 1 ? "binary" : "ascii")
					: NULL,
			};
			uint64_t seed = 0x5eed0000u + (uint64_t)lh * 16 + h;
			make_stream(&cfg, seed);
			run_stream(&cfg, 0);
			run_stream(&cfg, 1);
			for (size_t chunk = 2; chunk < 5000; chunk *= 3)
				run_stream(&cfg, chunk);
			run_stream_zero_copy(&cfg);
		}
	}
}

static void test_length_header_bytes(void **state)
{
	(void)state;
	iso8583_framing_t cfg = {.frame_bytes_max = 9999};
	uint8_t out[4];
	cfg.length_header = ISO8583_LENGTH_BINARY2;
	assert_int_equal(iso8583_frame_write_length(&cfg, 300, out), 0);
	assert_memory_equal(out, "\x01\x2C", 2);
	cfg.length_header = ISO8583_LENGTH_ASCII4;
	assert_int_equal(iso8583_frame_write_length(&cfg, 300, out), 0);
	assert_memory_equal(out, "0300", 4);
	cfg.length_header = ISO8583_LENGTH_BCD2;
	assert_int_equal(iso8583_frame_write_length(&cfg, 1234, out), 0);
	assert_memory_equal(out, "\x12\x34", 2);
	assert_int_equal(iso8583_frame_length_bytes(&cfg), 2);
	cfg.length_header = ISO8583_LENGTH_ASCII4;
	assert_int_equal(iso8583_frame_length_bytes(&cfg), 4);
	cfg.length_header = ISO8583_LENGTH_BINARY4;
	assert_int_equal(iso8583_frame_length_bytes(&cfg), 4);
	assert_int_equal(iso8583_frame_write_length(&cfg, 300, out), 0);
	assert_memory_equal(out, "\x00\x00\x01\x2C", 4);
	cfg.length_header = ISO8583_LENGTH_NONE;
	assert_int_equal(iso8583_frame_length_bytes(&cfg), 0);

	/* refused: zero, over the bound, over what the header can say */
	cfg.length_header = ISO8583_LENGTH_BINARY2;
	assert_int_equal(iso8583_frame_write_length(&cfg, 0, out), ISO8583_EFRAME);
	assert_int_equal(iso8583_frame_write_length(&cfg, 10000, out), ISO8583_EFRAME);
	cfg.frame_bytes_max = 100000;
	assert_int_equal(iso8583_frame_write_length(&cfg, 65535, out), 0);
	assert_int_equal(iso8583_frame_write_length(&cfg, 65536, out), ISO8583_EFRAME);
	cfg.length_header = ISO8583_LENGTH_ASCII4;
	assert_int_equal(iso8583_frame_write_length(&cfg, 10000, out), ISO8583_EFRAME);
	cfg.length_header = ISO8583_LENGTH_BINARY4;
	assert_int_equal(iso8583_frame_write_length(&cfg, 65536, out), 0);
	assert_memory_equal(out, "\x00\x01\x00\x00", 4);
	assert_int_equal(iso8583_frame_write_length(&cfg, 100001, out), ISO8583_EFRAME);
	cfg.length_header = ISO8583_LENGTH_BCD2;
	assert_int_equal(iso8583_frame_write_length(&cfg, 10000, out), ISO8583_EFRAME);
	cfg.header_bytes = 5;
	assert_int_equal(iso8583_frame_write_length(&cfg, 5, out), ISO8583_EFRAME);
	assert_int_equal(iso8583_frame_write_length(&cfg, 6, out), 0);

	assert_int_equal(iso8583_length_header_parse("binary2"), ISO8583_LENGTH_BINARY2);
	assert_int_equal(iso8583_length_header_parse("ascii4"), ISO8583_LENGTH_ASCII4);
	assert_int_equal(iso8583_length_header_parse("bcd2"), ISO8583_LENGTH_BCD2);
	assert_int_equal(iso8583_length_header_parse("binary4"), ISO8583_LENGTH_BINARY4);
	assert_int_equal(iso8583_length_header_parse("none"), ISO8583_LENGTH_NONE);
	assert_int_equal(iso8583_length_header_parse("ebcdic4"), -1);
	assert_string_equal(iso8583_length_header_name(ISO8583_LENGTH_BCD2), "bcd2");
	assert_string_equal(iso8583_length_header_name(9), "?");
}

/* Feeds bytes and returns what next() says, with the error. */
static int feed_and_next(iso8583_framer_t *f, const void *bytes, size_t len,
			 iso8583_frame_t *frame, iso8583_error_t *err)
{
	size_t took;
	iso8583_framer_feed(f, bytes, len, &took);
	assert_int_equal(took, len);
	return iso8583_framer_next(f, frame, err);
}

static void test_frame_size_bound(void **state)
{
	(void)state;
	static uint8_t storage[104];
	static uint8_t body[100];
	iso8583_framing_t cfg = {.length_header = ISO8583_LENGTH_BINARY2,
				 .frame_bytes_max = 100};
	iso8583_framer_t f;
	iso8583_frame_t frame;
	iso8583_error_t err;
	/* exactly the bound: accepted */
	iso8583_framer_init(&f, &cfg, storage, sizeof(storage));
	assert_int_equal(feed_and_next(&f, "\x00\x64", 2, &frame, &err), 0);
	assert_int_equal(feed_and_next(&f, body, 100, &frame, &err), 1);
	assert_int_equal(frame.message_len, 100);
	/* one over: refused as soon as the header is in, before the body */
	assert_int_equal(feed_and_next(&f, "\x00\x65", 2, &frame, &err), ISO8583_EFRAME);
	assert_non_null(strstr(err.reason, "length 101 is over frame_bytes_max 100"));
	assert_int_equal(err.offset, 102); /* stream offset of that frame */
	/* 65535 in a binary2 header is refused, never buffered */
	iso8583_framer_init(&f, &cfg, storage, sizeof(storage));
	assert_int_equal(feed_and_next(&f, "\xFF\xFF", 2, &frame, &err), ISO8583_EFRAME);
}

static void test_zero_and_bad_lengths(void **state)
{
	(void)state;
	static uint8_t storage[1028];
	iso8583_framing_t cfg = {.frame_bytes_max = 1024};
	iso8583_framer_t f;
	iso8583_frame_t frame;
	iso8583_error_t err;
	cfg.length_header = ISO8583_LENGTH_BINARY2;
	iso8583_framer_init(&f, &cfg, storage, sizeof(storage));
	assert_int_equal(feed_and_next(&f, "\x00\x00", 2, &frame, &err), ISO8583_EFRAME);
	assert_non_null(strstr(err.reason, "length 0"));
	cfg.length_header = ISO8583_LENGTH_ASCII4;
	iso8583_framer_init(&f, &cfg, storage, sizeof(storage));
	assert_int_equal(feed_and_next(&f, "0000", 4, &frame, &err), ISO8583_EFRAME);
	iso8583_framer_init(&f, &cfg, storage, sizeof(storage));
	assert_int_equal(feed_and_next(&f, "00", 2, &frame, &err), 0); /* partial */
	assert_int_equal(feed_and_next(&f, "1x", 2, &frame, &err), ISO8583_EFRAME);
	assert_non_null(strstr(err.reason, "not 4 ASCII digits"));
	cfg.length_header = ISO8583_LENGTH_BCD2;
	iso8583_framer_init(&f, &cfg, storage, sizeof(storage));
	assert_int_equal(feed_and_next(&f, "\x00\x0A", 2, &frame, &err), ISO8583_EFRAME);
	assert_non_null(strstr(err.reason, "not 4 BCD digits"));
	/* a length that does not even cover the fixed header */
	cfg.length_header = ISO8583_LENGTH_BINARY2;
	cfg.header_bytes = 5;
	iso8583_framer_init(&f, &cfg, storage, sizeof(storage));
	assert_int_equal(feed_and_next(&f, "\x00\x05" "TPDU!", 7, &frame, &err), ISO8583_EFRAME);
	assert_non_null(strstr(err.reason, "leaves no message after the 5-byte header"));
}

static void test_unframed_stream_errors(void **state)
{
	(void)state;
	static uint8_t storage[300];
	iso8583_framing_t cfg = {.length_header = ISO8583_LENGTH_NONE,
				 .header_bytes = 5,
				 .frame_bytes_max = 296,
				 .dialect = iso8583_dialect_builtin("ascii")};
	iso8583_framer_t f;
	iso8583_frame_t frame;
	iso8583_error_t err;
	/* not a message after the header: the measure error, at its offset */
	iso8583_framer_init(&f, &cfg, storage, sizeof(storage));
	assert_int_equal(feed_and_next(&f, "TPDU!GET / HTTP/1.1", 19, &frame, &err),
			 ISO8583_EMTI);
	assert_int_equal(err.offset, 5);
	/* a message announcing more than frame_bytes_max: refused at the bound */
	iso8583_framer_init(&f, &cfg, storage, sizeof(storage));
	char big[300] = "TPDU!" "0200" "0000000000010000" "999";
	memset(big + 28, 'A', sizeof(big) - 28);
	assert_int_equal(feed_and_next(&f, big, 200, &frame, &err), 0);
	assert_int_equal(feed_and_next(&f, big + 200, 96, &frame, &err), ISO8583_EFRAME);
	assert_non_null(strstr(err.reason, "no whole message within frame_bytes_max 296"));
}

/* An answer's header: a TPDU's (any 5-byte header's) addresses swap,
 * any other header is copied. */
static void test_header_reply(void **state)
{
	(void)state;
	uint8_t out[46];
	const uint8_t tpdu[5] = {0x60, 0x00, 0x03, 0x80, 0x00};
	iso8583_header_reply(tpdu, 5, out);
	assert_memory_equal(out, ((uint8_t[]){0x60, 0x80, 0x00, 0x00, 0x03}), 5);
	const uint8_t other[5] = {0x68, 0x00, 0x03, 0x80, 0x00};
	iso8583_header_reply(other, 5, out);
	assert_memory_equal(out, ((uint8_t[]){0x68, 0x80, 0x00, 0x00, 0x03}), 5);
	uint8_t cups[46];
	for (size_t i = 0; i < sizeof(cups); i++)
		cups[i] = (uint8_t)i;
	iso8583_header_reply(cups, sizeof(cups), out);
	assert_memory_equal(out, cups, sizeof(cups));
	iso8583_header_reply(tpdu, 0, out); /* no header: nothing to do */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_framing_any_chunking),
		cmocka_unit_test(test_length_header_bytes),
		cmocka_unit_test(test_frame_size_bound),
		cmocka_unit_test(test_header_reply),
		cmocka_unit_test(test_zero_and_bad_lengths),
		cmocka_unit_test(test_unframed_stream_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
