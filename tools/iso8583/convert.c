/*
 * convert.c: the iso8583 command's conversions between a message and its
 * JSON form ({"mti": "0200", "fields": {"2": "6222..."}}) and hex text.
 *
 * Field values are strings: the text for n, an, ans, z and x+n fields,
 * upper-case hex for b. Text that is not valid UTF-8 (GBK, say) cannot be
 * a JSON string; it is written as {"hex": "C4E3..."}, which encode accepts
 * for any field, so decode then encode always gives back the same bytes.
 * Encode also takes a non-negative integer for a class n field.
 */
#include "tool.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void tool_fail(tool_error_t *e, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->text, sizeof(e->text), fmt, ap);
	va_end(ap);
}

void tool_fail_codec(tool_error_t *e, const iso8583_error_t *err)
{
	char line[256];
	tool_fail(e, "%s", iso8583_error_format(err, line, sizeof(line)));
}

int hex_text_to_bytes(const char *text, size_t len, uint8_t *out, size_t cap,
		      size_t *out_len, tool_error_t *e)
{
	size_t n = 0;
	int high = -1; /* the first nibble of a byte, while waiting for its second */
	for (size_t i = 0; i < len; i++) {
		char c = text[i];
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
			continue;
		int v = ps_hex_digit(c);
		if (v < 0) {
			tool_fail(e, "input: '%c' at position %zu is not a hex digit",
				  c >= 0x20 && c < 0x7F ? c : '?', i);
			return -1;
		}
		if (high < 0) {
			high = v;
			continue;
		}
		if (n == cap) {
			tool_fail(e, "input: more than %zu bytes", cap);
			return -1;
		}
		out[n++] = (uint8_t)(high << 4 | v);
		high = -1;
	}
	if (high >= 0) {
		tool_fail(e, "input: an odd number of hex digits");
		return -1;
	}
	*out_len = n;
	return 0;
}

static json_t *hex_object(const uint8_t *bytes, size_t len)
{
	char *hex = malloc(2 * len + 1);
	PS_ASSERT(hex != NULL);
	ps_hex_encode(bytes, len, hex);
	json_t *obj = json_pack("{s:s}", "hex", hex);
	free(hex);
	return obj;
}

json_t *message_to_json(const iso8583_msg_t *msg)
{
	static char text[2 * ISO8583_FIELD_LENGTH_MAX + 1];
	json_t *fields = json_object();
	for (int n = 2; n <= ISO8583_FIELDS_MAX; n++) {
		size_t len;
		if (iso8583_get_text(msg, n, text, sizeof(text), &len) != 0)
			continue;
		char key[8];
		snprintf(key, sizeof(key), "%d", n);
		json_t *value = json_stringn(text, len);
		if (value == NULL) /* not UTF-8: keep the bytes exactly */
			value = hex_object((const uint8_t *)text, len);
		json_object_set_new(fields, key, value);
	}
	return json_pack("{s:s#,s:o}", "mti", msg->mti, (int)4, "fields", fields);
}

static int field_number(const char *key)
{
	size_t len = strlen(key);
	if (len == 0 || len > 3 || key[0] == '0' || !ps_is_digits(key, len))
		return -1;
	return atoi(key);
}

/* Bytes of a {"hex": "..."} value into the arena. */
static int hex_value(json_t *obj, int n, uint8_t *at, size_t room,
		     size_t *len, tool_error_t *e)
{
	json_t *hex = json_object_get(obj, "hex");
	if (json_object_size(obj) != 1 || !json_is_string(hex)) {
		tool_fail(e, "fields.%d: an object value must be {\"hex\": \"...\"}", n);
		return -1;
	}
	const char *s = json_string_value(hex);
	size_t slen = json_string_length(hex);
	if (slen % 2 != 0 || slen / 2 > room ||
	    ps_hex_decode(s, slen, at, room) != 0) {
		tool_fail(e, "fields.%d: \"%.40s\" is not hex bytes", n, s);
		return -1;
	}
	*len = slen / 2;
	return 0;
}

/* One field from its JSON value; *used grows by the arena bytes taken. */
static int set_field(iso8583_msg_t *msg, int n, json_t *value, uint8_t *arena,
		     size_t cap, size_t *used, tool_error_t *e)
{
	const iso8583_field_spec_t *s = &msg->dialect->field[n];
	uint8_t *at = arena + *used;
	size_t room = cap - *used, len = 0;
	int rc;
	if (json_is_integer(value) && s->cls == ISO8583_CLASS_N &&
	    json_integer_value(value) >= 0) {
		rc = iso8583_set_num(msg, n, (uint64_t)json_integer_value(value));
	} else if (json_is_object(value)) {
		if (hex_value(value, n, at, room, &len, e) != 0)
			return -1;
		*used += len;
		rc = iso8583_set(msg, n, at, len);
	} else if (json_is_string(value) && s->cls == ISO8583_CLASS_B) {
		const char *hex = json_string_value(value);
		size_t hlen = json_string_length(value);
		if (hlen % 2 != 0 || hlen / 2 > room ||
		    ps_hex_decode(hex, hlen, at, room) != 0) {
			tool_fail(e, "fields.%d: class b takes hex bytes, not \"%.40s\"", n, hex);
			return -1;
		}
		*used += hlen / 2;
		rc = iso8583_set(msg, n, at, hlen / 2);
	} else if (json_is_string(value)) {
		rc = iso8583_set(msg, n, json_string_value(value),
				 json_string_length(value));
	} else {
		tool_fail(e, "fields.%d: must be a string%s", n,
			  s->cls == ISO8583_CLASS_N ? " or a non-negative integer" : "");
		return -1;
	}
	if (rc != 0)
		tool_fail(e, "fields.%d: %s", n,
			  rc == ISO8583_EUNDEFINED ? "not defined in this dialect"
						   : iso8583_strerror(rc));
	return rc;
}

int message_from_json(json_t *root, iso8583_msg_t *msg, uint8_t *arena,
		      size_t cap, tool_error_t *e)
{
	json_t *mti = json_object_get(root, "mti");
	json_t *fields = json_object_get(root, "fields");
	if (!json_is_object(root) || !json_is_string(mti) || !json_is_object(fields) ||
	    json_object_size(root) != 2) {
		tool_fail(e, "input: want {\"mti\": \"0200\", \"fields\": {...}} and nothing else");
		return -1;
	}
	if (iso8583_set_mti(msg, json_string_value(mti)) != 0) {
		tool_fail(e, "mti: \"%.10s\" is not 4 digits", json_string_value(mti));
		return -1;
	}
	size_t used = 0;
	const char *key;
	json_t *value;
	json_object_foreach(fields, key, value) {
		int n = field_number(key);
		if (n < 2 || n > ISO8583_FIELDS_MAX) {
			tool_fail(e, "fields.%.8s: not a field number 2-192", key);
			return -1;
		}
		if (set_field(msg, n, value, arena, cap, &used, e) != 0)
			return -1;
	}
	return 0;
}
