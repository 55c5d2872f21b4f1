/*
 * errors.c: the codec's error codes as text, and the one place that fills
 * an iso8583_error_t, so that every failure names field, offset and reason
 * in the same shape.
 */
#include "iso8583_internal.h"

#include <stdarg.h>
#include <stdio.h>

const char *iso8583_strerror(int code)
{
	switch (code) {
	case ISO8583_OK: return "ok";
	case ISO8583_EMTI: return "bad MTI";
	case ISO8583_EBITMAP: return "bad bitmap";
	case ISO8583_EUNDEFINED: return "undefined field";
	case ISO8583_EPREFIX: return "bad length prefix";
	case ISO8583_ECONTENT: return "content outside class";
	case ISO8583_ETRUNCATED: return "message truncated";
	case ISO8583_ETRAILING: return "trailing bytes";
	case ISO8583_ELENGTH: return "wrong field length";
	case ISO8583_ENOSPC: return "output buffer too small";
	case ISO8583_ENOMTI: return "no MTI";
	case ISO8583_EFRAME: return "bad frame";
	case ISO8583_EDIALECT: return "invalid dialect";
	case ISO8583_EINVAL: return "invalid argument";
	}
	return "unknown error";
}

int iso8583_fail(iso8583_error_t *err, int code, int field, size_t offset,
		 const char *fmt, ...)
{
	if (err == NULL)
		return code;
	err->code = code;
	err->field = field;
	err->offset = offset;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->reason, sizeof(err->reason), fmt, ap);
	va_end(ap);
	return code;
}

/*
 * Reasons are written to stand alone ("content outside class n: byte 0x41
 * at position 3"), so the line is only where, then why.
 */
const char *iso8583_error_format(const iso8583_error_t *err, char *out,
				 size_t cap)
{
	PS_ASSERT(cap > 0);
	if (err->code == ISO8583_EDIALECT)
		snprintf(out, cap, "dialect: %s", err->reason);
	else if (err->code == ISO8583_EFRAME)
		snprintf(out, cap, "frame at stream offset %zu: %s",
			 err->offset, err->reason);
	else if (err->field == 0)
		snprintf(out, cap, "MTI at offset %zu: %s", err->offset,
			 err->reason);
	else if (err->field == 1)
		snprintf(out, cap, "bitmap at offset %zu: %s", err->offset,
			 err->reason);
	else if (err->field > 1)
		snprintf(out, cap, "field %d at offset %zu: %s", err->field,
			 err->offset, err->reason);
	else
		snprintf(out, cap, "offset %zu: %s", err->offset, err->reason);
	return out;
}
