/*
 * iso8583_test.h: helpers the iso8583 test suites share: dialects from
 * inline JSON, hex to bytes, and pack/unpack wrappers that fail the test
 * with the codec's own error line.
 */
#ifndef PAYSWITCH_ISO8583_TEST_H
#define PAYSWITCH_ISO8583_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "iso8583.h"

/* Loads a dialect from JSON text, failing the test with the reason. */
static inline void load_dialect(iso8583_dialect_t *d, const char *json)
{
	iso8583_error_t err;
	int rc = iso8583_dialect_load_json(json, strlen(json), d, &err);
	if (rc != 0)
		fail_msg("dialect: %s", err.reason);
}

/* Hex text (white space ignored) to bytes; returns the byte count. */
static inline size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
	char clean[8192];
	size_t n = 0;
	for (const char *p = hex; *p; p++)
		if (*p != ' ' && *p != '\n' && *p != '\t') {
			assert_true(n < sizeof(clean));
			clean[n++] = *p;
		}
	assert_int_equal(ps_hex_decode(clean, n, out, cap), 0);
	return n / 2;
}

static inline void pack_ok(const iso8583_msg_t *m, uint8_t *out, size_t cap,
			   size_t *len)
{
	iso8583_error_t err;
	char line[256];
	if (iso8583_pack(m, out, cap, len, &err) != 0)
		fail_msg("pack: %s", iso8583_error_format(&err, line, sizeof(line)));
}

static inline void unpack_ok(iso8583_msg_t *m, const iso8583_dialect_t *d,
			     const uint8_t *in, size_t len)
{
	iso8583_error_t err;
	char line[256];
	if (iso8583_unpack(m, d, in, len, &err) != 0)
		fail_msg("unpack: %s", iso8583_error_format(&err, line, sizeof(line)));
}

/* Field n's text, in a static buffer (tests are single-threaded). */
static inline const char *text_of(const iso8583_msg_t *m, int n)
{
	static char text[2 * ISO8583_FIELD_LENGTH_MAX + 1];
	assert_int_equal(iso8583_get_text(m, n, text, sizeof(text), NULL), 0);
	return text;
}

#endif /* PAYSWITCH_ISO8583_TEST_H */
