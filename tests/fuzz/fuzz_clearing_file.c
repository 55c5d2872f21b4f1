/*
 * fuzz_clearing_file.c: the clearing file readers (adapters/clearing_file.c):
 * a UnionPay file (clf_cup_read) or, for input that begins with '{', a
 * NetClear summary (clf_nc_parse). Properties: no crash, no read past the
 * input; every failure names a field and a reason; a file that reads
 * writes back, record by record, to exactly its own bytes; a summary that
 * parses writes back to a summary that parses to the same totals.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "clearing_file.h"
#include "core.h"

#define TEXT_MAX (64 * 1024)

/* Every line written again must be the line that was read. */
typedef struct rewrite {
	const char *text;
	size_t at;
} rewrite_t;

static void same_line(rewrite_t *r, const char *line, size_t len)
{
	if (memcmp(r->text + r->at, line, len) != 0)
		abort();
	r->at += len;
}

static int on_line(void *ctx, const clf_cup_line_t *l)
{
	char line[CLF_CUP_WIDTH + 2];
	size_t len;
	if (clf_cup_write_line(l, line, sizeof(line), &len) != 0)
		abort();
	same_line(ctx, line, len);
	return 0;
}

static void cup(const char *text, size_t size)
{
	clf_cup_header_t h;
	clf_cup_trailer_t t;
	clf_error_t err;
	char line[CLF_CUP_WIDTH + 2];
	size_t len;
	rewrite_t r = {text, 0};
	/* The header is written back first, so on_line's offsets follow. */
	clf_cup_record_t first;
	if (size > CLF_CUP_WIDTH && text[CLF_CUP_WIDTH] == '\n' &&
	    clf_cup_parse_line(text, CLF_CUP_WIDTH, &first, &err) == 0 &&
	    first.kind == CLF_RECORD_HEADER) {
		if (clf_cup_write_header(&first.header, line, sizeof(line), &len) != 0)
			abort();
		same_line(&r, line, len);
	}
	int rc = clf_cup_read(text, size, on_line, &r, &h, &t, &err);
	if (rc != 0) {
		if (rc != PS_EFORMAT || err.field[0] == '\0' || err.reason[0] == '\0')
			abort();
		return;
	}
	if (clf_cup_write_trailer(&t, line, sizeof(line), &len) != 0)
		abort();
	same_line(&r, line, len);
	if (r.at != size)
		abort();
}

static void summary(const char *text, size_t size)
{
	clf_nc_summary_t s, back;
	clf_error_t err;
	if (clf_nc_parse(text, size, &s, &err) != 0) {
		if (err.reason[0] == '\0')
			abort();
		return;
	}
	char out[CLF_SUMMARY_BYTES_MAX];
	size_t len;
	if (clf_nc_write(&s, out, sizeof(out), &len) != 0 ||
	    clf_nc_parse(out, len, &back, &err) != 0 ||
	    !clf_totals_equal(&s.totals, &back.totals) ||
	    strcmp(s.batch, back.batch) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char text[TEXT_MAX];
	if (size > TEXT_MAX)
		return 0;
	memcpy(text, data, size);
	if (size > 0 && text[0] == '{')
		summary(text, size);
	else
		cup(text, size);
	return 0;
}
