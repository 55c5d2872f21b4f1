/*
 * make_iso8583_corpus.c: writes the seed corpora of fuzz_iso8583_unpack and
 * fuzz_iso8583_framer: typical messages of each fuzz dialect (purchase,
 * response, network management, reversal, reconciliation), a few broken
 * ones, and streams of them in each framing. Seeds are made with the codec
 * itself, so they follow the dialects as they are.
 *
 *   build/test/tests/make-iso8583-corpus tests/fuzz/corpus
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "fuzz_dialects.h"

static const char *top;

static void write_seed(const char *target, const char *name, const void *data,
		       size_t len)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/%s", top, target);
	if (mkdir(path, 0755) != 0 && errno != EEXIST) {
		perror(path);
		exit(1);
	}
	snprintf(path, sizeof(path), "%s/%s/%s", top, target, name);
	FILE *f = fopen(path, "wb");
	if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

static void must(int rc, const char *what)
{
	if (rc != 0) {
		fprintf(stderr, "make-iso8583-corpus: %s failed: %d\n", what, rc);
		exit(1);
	}
}

static size_t pack(const iso8583_msg_t *m, uint8_t *out, size_t cap)
{
	size_t len;
	iso8583_error_t err;
	if (iso8583_pack(m, out, cap, &len, &err) != 0) {
		fprintf(stderr, "make-iso8583-corpus: pack: %s\n", err.reason);
		exit(1);
	}
	return len;
}

/* A 0200 purchase with the usual fields. */
static size_t purchase(const iso8583_dialect_t *d, uint8_t *out, size_t cap)
{
	static iso8583_msg_t m;
	iso8583_msg_init(&m, d);
	must(iso8583_set_mti(&m, "0200"), "mti");
	iso8583_set_str(&m, 2, "6222020000000001");
	iso8583_set_str(&m, 3, "000000");
	iso8583_set_num(&m, 4, 12850);
	iso8583_set_str(&m, 7, "0611191024");
	iso8583_set_num(&m, 11, 1);
	iso8583_set_str(&m, 12, "191024");
	iso8583_set_str(&m, 13, "0611");
	iso8583_set_str(&m, 14, "2512");
	iso8583_set_str(&m, 22, "051");
	iso8583_set_str(&m, 25, "00");
	iso8583_set_str(&m, 32, "48020000");
	iso8583_set_str(&m, 35, "6222020000000001=25121010000");
	iso8583_set_str(&m, 37, "000000000001");
	iso8583_set_str(&m, 41, "TERM0001");
	iso8583_set_str(&m, 42, "MERCHANT0000001");
	iso8583_set_str(&m, 43, "THREE SQUIRRELS WUHU          ANHUI   CN");
	iso8583_set_str(&m, 49, "156");
	if (d->field[52].defined)
		iso8583_set(&m, 52, "\x12\x34\x56\x78\x9A\xBC\xDE\xF0", 8);
	return pack(&m, out, cap);
}

static size_t network(const iso8583_dialect_t *d, const char *mti,
		      const char *code, uint8_t *out, size_t cap)
{
	static iso8583_msg_t m;
	iso8583_msg_init(&m, d);
	must(iso8583_set_mti(&m, mti), "mti");
	iso8583_set_str(&m, 7, "0611191024");
	iso8583_set_num(&m, 11, 42);
	if (mti[2] == '1')
		iso8583_set_str(&m, 39, "00");
	iso8583_set_str(&m, 70, code);
	return pack(&m, out, cap);
}

static size_t reversal(const iso8583_dialect_t *d, uint8_t *out, size_t cap)
{
	static iso8583_msg_t m;
	iso8583_msg_init(&m, d);
	must(iso8583_set_mti(&m, "0400"), "mti");
	iso8583_set_str(&m, 2, "6222020000000001");
	iso8583_set_str(&m, 3, "000000");
	iso8583_set_num(&m, 4, 12850);
	iso8583_set_num(&m, 11, 2);
	iso8583_set_str(&m, 39, "68");
	iso8583_set_str(&m, 90, "020000000100611191024000480200000000000000");
	return pack(&m, out, cap);
}

static size_t totals(const iso8583_dialect_t *d, uint8_t *out, size_t cap)
{
	static iso8583_msg_t m;
	iso8583_msg_init(&m, d);
	must(iso8583_set_mti(&m, "0500"), "mti");
	iso8583_set_num(&m, 11, 3);
	for (int n = 74; n <= 81; n++)
		iso8583_set_num(&m, n, (uint64_t)n * 3);
	for (int n = 86; n <= 89; n++)
		iso8583_set_num(&m, n, (uint64_t)n * 12850);
	iso8583_set_str(&m, 97, "C0000000000012850");
	return pack(&m, out, cap);
}

static size_t exotic_message(const iso8583_dialect_t *d, uint8_t *out, size_t cap)
{
	static iso8583_msg_t m;
	iso8583_msg_init(&m, d);
	must(iso8583_set_mti(&m, "0200"), "mti");
	iso8583_set_str(&m, 2, "622202000000001");
	iso8583_set_str(&m, 3, "00000");
	iso8583_set_str(&m, 4, "D00001285");
	iso8583_set_str(&m, 5, "C1234567");
	iso8583_set_str(&m, 35, "622202000000001=2512");
	iso8583_set_str(&m, 36, "011=1234");
	iso8583_set_str(&m, 39, "00");
	iso8583_set_str(&m, 48, "order 88123 \xE4\xB8\x89\xE5\x8F\xAA\xE6\x9D\xBE\xE9\xBC\xA0");
	iso8583_set(&m, 52, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
	iso8583_set(&m, 55, "\x9F\x26\x08\x11\x22\x33\x44\x55\x66\x77\x88", 11);
	iso8583_set_str(&m, 70, "301");
	iso8583_set_str(&m, 100, "4802");
	iso8583_set_str(&m, 130, "AB");
	iso8583_set(&m, 192, "\xCA\xFE\xBA\xBE", 4);
	return pack(&m, out, cap);
}

static void unpack_seeds(const iso8583_dialect_t *const *d)
{
	const char *t = "fuzz_iso8583_unpack";
	uint8_t b[1024];
	size_t n;
	n = purchase(d[0], b, sizeof(b));
	write_seed(t, "ascii-0200-purchase", b, n);
	/* the same with a lower-case bitmap, which unpack accepts */
	for (size_t i = 4; i < 20; i++)
		if (b[i] >= 'A' && b[i] <= 'F')
			b[i] = (uint8_t)(b[i] + 32);
	write_seed(t, "ascii-0200-lower-bitmap", b, n);
	b[50] = 'X'; /* inside field 4: content outside class */
	write_seed(t, "ascii-0200-bad-amount", b, n);
	write_seed(t, "ascii-0200-truncated", b, n - 7);
	n = network(d[0], "0810", "301", b, sizeof(b));
	write_seed(t, "ascii-0810-echo", b, n);
	n = reversal(d[0], b, sizeof(b));
	write_seed(t, "ascii-0400-reversal", b, n);
	n = totals(d[0], b, sizeof(b));
	write_seed(t, "ascii-0500-totals", b, n);
	n = purchase(d[1], b, sizeof(b));
	write_seed(t, "binary-0200-purchase", b, n);
	n = network(d[1], "0800", "001", b, sizeof(b));
	write_seed(t, "binary-0800-sign-on", b, n);
	n = totals(d[1], b, sizeof(b));
	write_seed(t, "binary-0500-totals", b, n);
	n = purchase(d[2], b, sizeof(b));
	write_seed(t, "ascii-binbitmap-0200-purchase", b, n);
	n = exotic_message(d[3], b, sizeof(b));
	write_seed(t, "exotic-0200-tertiary", b, n);
}

/* A stream of messages, each framed as cfg says. */
static size_t frame_stream(const iso8583_framing_t *cfg, const uint8_t *const *msgs,
			   const size_t *lens, size_t count, uint8_t *out)
{
	size_t at = 0;
	for (size_t i = 0; i < count; i++) {
		must(iso8583_frame_write_length(cfg, cfg->header_bytes + lens[i],
						out + at), "frame length");
		at += iso8583_frame_length_bytes(cfg);
		for (size_t k = 0; k < cfg->header_bytes; k++)
			out[at++] = k == 0 ? 0x60 : (uint8_t)k;
		memcpy(out + at, msgs[i], lens[i]);
		at += lens[i];
	}
	return at;
}

static void framer_seeds(const iso8583_dialect_t *const *d)
{
	const char *t = "fuzz_iso8583_framer";
	static uint8_t a[512], b[512], c[512], s[4096];
	const uint8_t *msgs[] = {a, b, c};
	size_t lens[3];
	lens[0] = purchase(d[0], a, sizeof(a));
	lens[1] = network(d[0], "0800", "301", b, sizeof(b));
	lens[2] = reversal(d[0], c, sizeof(c));
	iso8583_framing_t cfg = {ISO8583_LENGTH_BINARY2, 0, 512, NULL};
	write_seed(t, "binary2-ascii", s, frame_stream(&cfg, msgs, lens, 3, s));
	cfg.header_bytes = 5;
	write_seed(t, "binary2-tpdu-ascii", s, frame_stream(&cfg, msgs, lens, 3, s));
	cfg.length_header = ISO8583_LENGTH_ASCII4;
	write_seed(t, "ascii4-tpdu-ascii", s, frame_stream(&cfg, msgs, lens, 3, s));
	cfg.length_header = ISO8583_LENGTH_BCD2;
	cfg.header_bytes = 46;
	write_seed(t, "bcd2-header46-ascii", s, frame_stream(&cfg, msgs, lens, 2, s));
	cfg.length_header = ISO8583_LENGTH_NONE;
	cfg.header_bytes = 0;
	write_seed(t, "none-ascii", s, frame_stream(&cfg, msgs, lens, 3, s));
	lens[0] = purchase(d[1], a, sizeof(a));
	lens[1] = network(d[1], "0810", "301", b, sizeof(b));
	cfg.header_bytes = 5;
	write_seed(t, "none-tpdu-binary", s, frame_stream(&cfg, msgs, lens, 2, s));
	lens[0] = exotic_message(d[3], a, sizeof(a));
	cfg.header_bytes = 0;
	write_seed(t, "none-exotic", s, frame_stream(&cfg, msgs, lens, 1, s));
	cfg.length_header = ISO8583_LENGTH_BINARY2;
	size_t n = frame_stream(&cfg, msgs, lens, 2, s);
	s[n++] = 0x00; /* then a zero length */
	s[n++] = 0x00;
	write_seed(t, "binary2-then-zero", s, n);
	s[0] = 0xFF; /* a length far over the bound */
	write_seed(t, "binary2-oversize", s, n);
	write_seed(t, "ascii4-not-digits", "00x1" "0800", 8);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: make-iso8583-corpus DIR\n");
		return 2;
	}
	top = argv[1];
	if (mkdir(top, 0755) != 0 && errno != EEXIST) {
		perror(top);
		return 1;
	}
	const iso8583_dialect_t *const *d = fuzz_dialects();
	unpack_seeds(d);
	framer_seeds(d);
	return 0;
}
