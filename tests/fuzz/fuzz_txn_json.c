/*
 * fuzz_txn_json.c: the PSP channel's JSON parser (adapters/json.c) and its
 * line splitter. Properties: no crash, no read past the input; a request
 * that decodes encodes back (txn_request_to_json) to a line that decodes
 * to the same record; answers always encode within their bound.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "adapters.h"

static void check_round_trip(const txn_t *t)
{
	char line[TXN_JSON_LINE_MAX * 2];
	size_t len;
	if (t->kind == TXN_KIND_NONE || txn_request_to_json(t, line, sizeof(line), &len) != 0)
		return;
	txn_t back;
	txn_error_t err;
	if (txn_from_json(line, len - 1, &back, &err) != 0)
		abort();
	if (memcmp(t, &back, sizeof(back)) != 0)
		abort();
	txn_t answered = *t;
	memcpy(answered.response, "00", 3);
	if (txn_answer_to_json(&answered, NULL, line, sizeof(line), &len) != 0)
		abort();
}

static void split_lines(const uint8_t *data, size_t size)
{
	static char storage[256];
	txn_lines_t sp;
	txn_lines_init(&sp, storage, sizeof(storage));
	size_t off = 0;
	while (off < size) {
		char *dst;
		size_t room;
		txn_lines_space(&sp, &dst, &room);
		size_t n = (size_t)(data[off] % 17) + 1; /* chunk size from the data */
		if (n > room)
			n = room;
		if (n > size - off)
			n = size - off;
		memcpy(dst, data + off, n);
		off += n;
		txn_lines_commit(&sp, n);
		const char *line;
		size_t len;
		int rc;
		while ((rc = txn_lines_next(&sp, &line, &len)) == 1)
			if (len == 0 || memchr(line, '\n', len) != NULL)
				abort();
		if (rc < 0)
			return;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	txn_t t;
	txn_error_t err;
	if (txn_from_json((const char *)data, size, &t, &err) == 0)
		check_round_trip(&t);
	else if (err.code[0] == '\0' || err.reason[0] == '\0')
		abort(); /* every failure must say why and how to answer */
	txn_answer_t a;
	txn_answer_from_json((const char *)data, size, &a, &err);
	split_lines(data, size);
	return 0;
}
