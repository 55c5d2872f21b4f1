/*
 * fuzz_dialects.h: the dialects the iso8583 fuzz targets run every input
 * through: the three built-ins, and "exotic", which reaches what they do
 * not: a tertiary bitmap, BCD MTI with a binary bitmap, F padding,
 * left-padded track data, LLLL prefixes in binary and BCD, x+n in ASCII.
 */
#ifndef PAYSWITCH_FUZZ_DIALECTS_H
#define PAYSWITCH_FUZZ_DIALECTS_H

#include <string.h>

#include "core.h"
#include "iso8583.h"

static const char fuzz_exotic_json[] =
	"{\"name\": \"exotic\", \"mti\": \"bcd\", \"bitmap\": \"binary\", \"tertiary\": true,"
	" \"fields\": {"
	" \"2\": {\"class\": \"n\", \"length\": 19, \"prefix\": \"LL\", \"prefix_encoding\": \"binary\", \"encoding\": \"bcd\", \"pad\": \"F\"},"
	" \"3\": {\"class\": \"n\", \"length\": 5, \"encoding\": \"bcd-right\", \"pad\": \"F\"},"
	" \"4\": {\"class\": \"xn\", \"length\": 9, \"encoding\": \"ascii\"},"
	" \"5\": {\"class\": \"xn\", \"length\": 8, \"encoding\": \"bcd\"},"
	" \"35\": {\"class\": \"z\", \"length\": 37, \"prefix\": \"LL\", \"prefix_encoding\": \"bcd\", \"encoding\": \"bcd\"},"
	" \"36\": {\"class\": \"z\", \"length\": 104, \"prefix\": \"LLL\", \"prefix_encoding\": \"ascii\", \"encoding\": \"ascii\"},"
	" \"39\": {\"class\": \"an\", \"length\": 2, \"encoding\": \"ascii\"},"
	" \"48\": {\"class\": \"ans\", \"length\": 9999, \"prefix\": \"LLLL\", \"prefix_encoding\": \"binary\", \"encoding\": \"ascii\"},"
	" \"52\": {\"class\": \"b\", \"length\": 8, \"encoding\": \"hex\"},"
	" \"55\": {\"class\": \"b\", \"length\": 9999, \"prefix\": \"LLLL\", \"prefix_encoding\": \"bcd\", \"encoding\": \"binary\"},"
	" \"70\": {\"class\": \"n\", \"length\": 3, \"encoding\": \"bcd\"},"
	" \"100\": {\"class\": \"n\", \"length\": 11, \"prefix\": \"LL\", \"prefix_encoding\": \"ascii\", \"encoding\": \"ascii\"},"
	" \"128\": {\"class\": \"b\", \"length\": 8, \"encoding\": \"binary\"},"
	" \"130\": {\"class\": \"an\", \"length\": 3, \"prefix\": \"LL\", \"prefix_encoding\": \"bcd\", \"encoding\": \"ascii\"},"
	" \"192\": {\"class\": \"b\", \"length\": 4, \"encoding\": \"hex\"}}}";

#define FUZZ_DIALECTS 4

/* The dialects, loaded on the first call. */
static inline const iso8583_dialect_t *const *fuzz_dialects(void)
{
	static iso8583_dialect_t exotic;
	static const iso8583_dialect_t *all[FUZZ_DIALECTS];
	if (all[0] == NULL) {
		iso8583_error_t err;
		int rc = iso8583_dialect_load_json(fuzz_exotic_json,
						   strlen(fuzz_exotic_json),
						   &exotic, &err);
		PS_ASSERT(rc == 0);
		all[0] = iso8583_dialect_builtin("ascii");
		all[1] = iso8583_dialect_builtin("binary");
		all[2] = iso8583_dialect_builtin("ascii-binbitmap");
		all[3] = &exotic;
	}
	return all;
}

#endif
