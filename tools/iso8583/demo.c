/*
 * demo.c: the codec demo (`iso8583 demo`, what `make demo` runs for now):
 * a card purchase of 128.50 CNY built as a 0200, encoded in every built-in
 * dialect, shown as hex, decoded again and printed field by field, with
 * the card number masked (first 6 and last 4 digits) wherever it appears.
 */
#include "tool.h"

#include <string.h>

static void build_purchase(iso8583_msg_t *m, const iso8583_dialect_t *d)
{
	iso8583_msg_init(m, d);
	iso8583_set_mti(m, "0200");
	iso8583_set_str(m, 2, "6222020000000001");
	iso8583_set_str(m, 3, "000000");
	iso8583_set_num(m, 4, 12850); /* fen: 128.50 CNY */
	iso8583_set_str(m, 7, "0611191024");
	iso8583_set_num(m, 11, 1);
	iso8583_set_str(m, 12, "191024");
	iso8583_set_str(m, 13, "0611");
	iso8583_set_str(m, 14, "2512");
	iso8583_set_str(m, 22, "051");
	iso8583_set_str(m, 25, "00");
	iso8583_set_str(m, 32, "48020000");
	iso8583_set_str(m, 35, "6222020000000001=2512101");
	iso8583_set_str(m, 37, "061119000001");
	iso8583_set_str(m, 41, "TERM0001");
	iso8583_set_str(m, 42, "MERCHANT0000001");
	iso8583_set_str(m, 43, "THREE SQUIRRELS WUHU          ANHUI   CN");
	iso8583_set_str(m, 49, "156");
}

static void print_hex(FILE *out, const uint8_t *bytes, size_t len)
{
	for (size_t i = 0; i < len; i += 32) {
		char hex[65];
		size_t n = PS_MIN(len - i, (size_t)32);
		ps_hex_encode(bytes + i, n, hex);
		fprintf(out, "    %04zx  %s\n", i, hex);
	}
}

/* A field's text as it may be shown: card numbers masked. */
static void readable(int n, const char *text, size_t len, char *out)
{
	if (n == 2) {
		ps_mask_pan(text, len, out);
		return;
	}
	if (n == 35) { /* track 2: the PAN masked, the rest hidden */
		const char *sep = memchr(text, '=', len);
		size_t pan = sep ? (size_t)(sep - text) : len;
		ps_mask_pan(text, pan, out);
		for (size_t i = pan; i < len; i++)
			out[i] = i == pan ? '=' : '*';
		out[len] = '\0';
		return;
	}
	memcpy(out, text, len + 1);
}

static void print_fields(FILE *out, const iso8583_msg_t *m)
{
	fprintf(out, "  decoded:\n    %3s  %-44s %.4s\n", "MTI", "", m->mti);
	for (int n = 2; n <= ISO8583_FIELDS_MAX; n++) {
		char text[2 * ISO8583_FIELD_LENGTH_MAX + 1], shown[sizeof(text)];
		size_t len;
		if (iso8583_get_text(m, n, text, sizeof(text), &len) != 0)
			continue;
		readable(n, text, len, shown);
		fprintf(out, "    %3d  %-44s %s", n, m->dialect->field[n].name, shown);
		uint64_t fen;
		if (n == 4 && iso8583_get_u64(m, 4, &fen) == 0)
			fprintf(out, "  (%llu.%02llu)", (unsigned long long)(fen / 100),
				(unsigned long long)(fen % 100));
		fputc('\n', out);
	}
}

int demo_run(FILE *out)
{
	static iso8583_msg_t msg, back;
	uint8_t wire[512];
	fprintf(out, "iso8583 demo: a 0200 card purchase of 128.50 CNY in each built-in dialect\n");
	for (size_t i = 0; i < iso8583_dialect_builtin_count(); i++) {
		const iso8583_dialect_t *d = iso8583_dialect_builtin_at(i);
		iso8583_error_t err;
		char line[256];
		size_t len;
		build_purchase(&msg, d);
		if (iso8583_pack(&msg, wire, sizeof(wire), &len, &err) != 0 ||
		    iso8583_unpack(&back, d, wire, len, &err) != 0) {
			fprintf(stderr, "iso8583: demo: %s: %s\n", d->name,
				iso8583_error_format(&err, line, sizeof(line)));
			return EXIT_INPUT;
		}
		fprintf(out, "\n== %s: %s\n  encoded, %zu bytes:\n", d->name,
			d->description, len);
		print_hex(out, wire, len);
		print_fields(out, &back);
	}
	return EXIT_OK;
}
