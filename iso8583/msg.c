/*
 * msg.c: a message as the caller sees it: setting the MTI and fields from
 * plain values, and reading fields back as text, bytes or integers,
 * whether they came from unpack (wire spans) or from a setter.
 */
#include "iso8583_internal.h"

static bool bit_get(const uint8_t *present, int n)
{
	return (present[(n - 1) / 8] & (0x80u >> ((n - 1) % 8))) != 0;
}

static void bit_put(uint8_t *present, int n, bool on)
{
	uint8_t mask = (uint8_t)(0x80u >> ((n - 1) % 8));
	if (on)
		present[(n - 1) / 8] |= mask;
	else
		present[(n - 1) / 8] &= (uint8_t)~mask;
}

void iso8583_msg_init(iso8583_msg_t *msg, const iso8583_dialect_t *dialect)
{
	PS_ASSERT(dialect != NULL && dialect->finished);
	msg->dialect = dialect;
	msg->mti[0] = 0;
	memset(msg->present, 0, sizeof(msg->present));
	msg->scratch_used = 0;
}

int iso8583_set_mti(iso8583_msg_t *msg, const char *mti)
{
	if (mti == NULL || strnlen(mti, 5) != 4 || !ps_is_digits(mti, 4))
		return ISO8583_EMTI;
	memcpy(msg->mti, mti, 4);
	return 0;
}

static const iso8583_field_spec_t *spec_of(const iso8583_msg_t *msg, int n)
{
	return &msg->dialect->field[n];
}

int iso8583_set(iso8583_msg_t *msg, int n, const void *value, size_t length)
{
	if (n < 2 || n > ISO8583_FIELDS_MAX)
		return ISO8583_EINVAL;
	if (!spec_of(msg, n)->defined)
		return ISO8583_EUNDEFINED;
	if (length > ISO8583_FIELD_LENGTH_MAX)
		return ISO8583_ELENGTH;
	PS_ASSERT(value != NULL || length == 0);
	iso8583_field_t *f = &msg->field[n];
	f->data = value;
	f->size = (uint16_t)length;
	f->length = (uint16_t)length;
	f->wire = false;
	bit_put(msg->present, n, true);
	return 0;
}

int iso8583_set_str(iso8583_msg_t *msg, int n, const char *value)
{
	return iso8583_set(msg, n, value,
			   strnlen(value, ISO8583_FIELD_LENGTH_MAX + 1));
}

static size_t decimal_digits(uint64_t value)
{
	size_t digits = 1;
	while (value >= 10) {
		value /= 10;
		digits++;
	}
	return digits;
}

int iso8583_set_num(iso8583_msg_t *msg, int n, uint64_t value)
{
	if (n < 2 || n > ISO8583_FIELDS_MAX)
		return ISO8583_EINVAL;
	const iso8583_field_spec_t *s = spec_of(msg, n);
	if (!s->defined)
		return ISO8583_EUNDEFINED;
	if (s->cls != ISO8583_CLASS_N)
		return ISO8583_EINVAL;
	size_t digits = decimal_digits(value);
	if (digits > (size_t)s->length)
		return ISO8583_ELENGTH;
	size_t width = s->prefix_digits == 0 ? s->length : digits;
	if (width > (size_t)(ISO8583_SCRATCH_BYTES - msg->scratch_used))
		return ISO8583_ENOSPC;
	char *at = msg->scratch + msg->scratch_used;
	int rc = ps_format_u64(at, width, value);
	PS_ASSERT(rc == 0);
	msg->scratch_used = (uint16_t)(msg->scratch_used + width);
	return iso8583_set(msg, n, at, width);
}

void iso8583_unset(iso8583_msg_t *msg, int n)
{
	if (n >= 1 && n <= ISO8583_FIELDS_MAX)
		bit_put(msg->present, n, false);
}

bool iso8583_has(const iso8583_msg_t *msg, int n)
{
	return n >= 1 && n <= ISO8583_FIELDS_MAX && bit_get(msg->present, n);
}

/*
 * Whether field n holds a value. Bits 1 and (in a tertiary dialect) 65
 * mark bitmaps, not values, so a defined field is asked for too.
 */
static bool has_value(const iso8583_msg_t *msg, int n)
{
	return n >= 2 && iso8583_has(msg, n) && msg->dialect->field[n].defined;
}

int iso8583_get(const iso8583_msg_t *msg, int n, iso8583_field_t *out)
{
	if (!has_value(msg, n))
		return ISO8583_EINVAL;
	*out = msg->field[n];
	return 0;
}

/* Characters field f of spec s has as text (hex for class b). */
static size_t text_length(const iso8583_field_spec_t *s,
			  const iso8583_field_t *f)
{
	if (s->cls != ISO8583_CLASS_B)
		return f->wire ? f->length : f->size;
	if (f->wire && s->codec == ISO8583_CODEC_HEX)
		return f->size;
	return 2 * (size_t)f->size;
}

/* Writes the text of field f (text_length characters, no NUL). */
static void to_text(const iso8583_field_spec_t *s, const iso8583_field_t *f,
		    char *out)
{
	if (s->cls == ISO8583_CLASS_B) {
		if (f->wire && s->codec == ISO8583_CODEC_HEX) {
			/* Hex text may have come in lower case; say it upper. */
			for (size_t i = 0; i < f->size; i++)
				out[i] = "0123456789ABCDEF"
					[iso8583_hexval[f->data[i]] & 15];
		} else {
			for (size_t i = 0; i < f->size; i++) {
				out[2 * i] = "0123456789ABCDEF"[f->data[i] >> 4];
				out[2 * i + 1] = "0123456789ABCDEF"[f->data[i] & 15];
			}
		}
		return;
	}
	if (f->wire && s->codec == ISO8583_CODEC_BCD)
		iso8583_bcd_decode(s, f->data, f->length, out);
	else
		memcpy(out, f->data, f->size);
}

int iso8583_get_text(const iso8583_msg_t *msg, int n, char *out, size_t cap,
		     size_t *len)
{
	if (!has_value(msg, n))
		return ISO8583_EINVAL;
	const iso8583_field_spec_t *s = spec_of(msg, n);
	const iso8583_field_t *f = &msg->field[n];
	size_t need = text_length(s, f);
	if (len != NULL)
		*len = need;
	if (cap < need + 1)
		return ISO8583_ENOSPC;
	to_text(s, f, out);
	out[need] = '\0';
	return 0;
}

int iso8583_get_bytes(const iso8583_msg_t *msg, int n, uint8_t *out,
		      size_t cap, size_t *len)
{
	if (!has_value(msg, n))
		return ISO8583_EINVAL;
	const iso8583_field_spec_t *s = spec_of(msg, n);
	const iso8583_field_t *f = &msg->field[n];
	if (s->cls != ISO8583_CLASS_B) {
		size_t need = text_length(s, f);
		if (len != NULL)
			*len = need;
		if (cap < need)
			return ISO8583_ENOSPC;
		to_text(s, f, (char *)out);
		return 0;
	}
	bool hex = f->wire && s->codec == ISO8583_CODEC_HEX;
	size_t need = hex ? f->size / 2u : f->size;
	if (len != NULL)
		*len = need;
	if (cap < need)
		return ISO8583_ENOSPC;
	if (!hex) {
		memcpy(out, f->data, need);
		return 0;
	}
	for (size_t i = 0; i < need; i++)
		out[i] = (uint8_t)(iso8583_hexval[f->data[2 * i]] << 4 |
				   iso8583_hexval[f->data[2 * i + 1]]);
	return 0;
}

/* Digit i of a class n field, whatever its form; -1 when not a digit. */
static int digit_at(const iso8583_field_spec_t *s, const iso8583_field_t *f,
		    size_t i)
{
	if (!f->wire || s->codec != ISO8583_CODEC_BCD) {
		unsigned d = (unsigned)f->data[i] - '0';
		return d <= 9 ? (int)d : -1;
	}
	size_t k = i + (f->length % 2 == 1 && s->encoding == ISO8583_ENC_BCD);
	uint8_t b = f->data[k / 2];
	return k % 2 ? b & 15 : b >> 4;
}

int iso8583_get_u64(const iso8583_msg_t *msg, int n, uint64_t *out)
{
	if (!has_value(msg, n))
		return ISO8583_EINVAL;
	const iso8583_field_spec_t *s = spec_of(msg, n);
	const iso8583_field_t *f = &msg->field[n];
	if (s->cls != ISO8583_CLASS_N)
		return ISO8583_EINVAL;
	size_t count = f->wire ? f->length : f->size;
	if (count == 0)
		return ISO8583_ECONTENT;
	uint64_t value = 0;
	size_t significant = 0;
	for (size_t i = 0; i < count; i++) {
		int d = digit_at(s, f, i);
		if (d < 0)
			return ISO8583_ECONTENT;
		if (significant > 0 || d != 0)
			significant++;
		if (significant > 18)
			return ISO8583_ELENGTH;
		value = value * 10 + (uint64_t)d;
	}
	*out = value;
	return 0;
}
