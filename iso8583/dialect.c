/*
 * dialect.c: dialects as data. Loads a dialect from its JSON description
 * (docs/dialects.md), checks it, and derives the per-field data the codec's
 * hot path uses (codec, prefix size, class mask, allowed bitmap bits), so
 * that unpack and pack never re-derive them per field.
 *
 * Every error names the JSON path of the offending key, so a dialect file
 * with a mistake says where: "fields.35.encoding: unknown encoding".
 */
#include "iso8583_internal.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

static const char *const class_names[] = {"n", "an", "ans", "b", "z", "xn"};
static const char *const encoding_names[] = {"ascii", "bcd", "bcd-right",
					     "binary", "hex"};
static const char *const prefix_encoding_names[] = {"ascii", "bcd", "binary"};

/* Dialect files are small; a bound keeps a wrong path from reading a disk. */
#define DIALECT_FILE_BYTES_MAX (1024 * 1024)

const char *iso8583_class_name(int cls)
{
	if (cls < 0 || (size_t)cls >= PS_ARRAY_LEN(class_names))
		return "?";
	return class_names[cls];
}

const char *iso8583_encoding_name(int encoding)
{
	if (encoding < 0 || (size_t)encoding >= PS_ARRAY_LEN(encoding_names))
		return "?";
	return encoding_names[encoding];
}

static int name_index(const char *const *names, size_t count, const char *s)
{
	for (size_t i = 0; i < count; i++)
		if (strcmp(names[i], s) == 0)
			return (int)i;
	return -1;
}

/*
 * Fails with the JSON path of what is wrong: "fields.<n>.<key>" for a
 * field's key (key NULL: the field itself), "<key>" at the top (n < 0).
 * Keys come from the input, so they are printed, never used as formats.
 */
static int dialect_fail(iso8583_error_t *err, int n, const char *key,
			const char *rule)
{
	if (n < 0)
		return iso8583_fail(err, ISO8583_EDIALECT, -1, 0, "%.40s: %s",
				    key, rule);
	if (key == NULL)
		return iso8583_fail(err, ISO8583_EDIALECT, n, 0,
				    "fields.%d: %s", n, rule);
	return iso8583_fail(err, ISO8583_EDIALECT, n, 0, "fields.%d.%.40s: %s",
			    n, key, rule);
}

/* ---- checking and deriving --------------------------------------------- */

static bool encoding_fits_class(unsigned cls, unsigned encoding)
{
	switch (encoding) {
	case ISO8583_ENC_ASCII:
		return cls != ISO8583_CLASS_B;
	case ISO8583_ENC_BCD:
	case ISO8583_ENC_BCD_RIGHT:
		return cls == ISO8583_CLASS_N || cls == ISO8583_CLASS_Z ||
		       cls == ISO8583_CLASS_XN;
	default:
		return cls == ISO8583_CLASS_B;
	}
}

static uint8_t derive_codec(const iso8583_field_spec_t *s)
{
	switch (s->encoding) {
	case ISO8583_ENC_ASCII:
		return s->cls == ISO8583_CLASS_XN ? ISO8583_CODEC_XN_TEXT
						  : ISO8583_CODEC_TEXT;
	case ISO8583_ENC_BCD:
	case ISO8583_ENC_BCD_RIGHT:
		return ISO8583_CODEC_BCD;
	case ISO8583_ENC_BINARY:
		return ISO8583_CODEC_BINARY;
	default:
		return ISO8583_CODEC_HEX;
	}
}

static uint8_t derive_class_mask(const iso8583_field_spec_t *s)
{
	switch (s->cls) {
	case ISO8583_CLASS_N: return ISO8583_CT_N;
	case ISO8583_CLASS_AN: return ISO8583_CT_AN;
	case ISO8583_CLASS_ANS: return ISO8583_CT_ANS;
	case ISO8583_CLASS_Z: return ISO8583_CT_Z;
	case ISO8583_CLASS_XN: return ISO8583_CT_N; /* after the sign */
	default: return ISO8583_CT_HEX; /* b as hex text */
	}
}

static unsigned prefix_capacity(unsigned digits)
{
	return digits == 2 ? 99 : digits == 3 ? 999 : 9999;
}

static int check_field(iso8583_field_spec_t *s, int n, iso8583_error_t *err)
{
	if (s->cls >= PS_ARRAY_LEN(class_names))
		return dialect_fail(err, n, "class", "unknown class");
	if (s->encoding >= PS_ARRAY_LEN(encoding_names))
		return dialect_fail(err, n, "encoding",
				    "unknown encoding");
	if (!encoding_fits_class(s->cls, s->encoding))
		return dialect_fail(err, n, "encoding",
				    s->cls == ISO8583_CLASS_B
					    ? "class b takes binary or hex"
					    : "binary and hex are for class b; bcd is for n, z and xn");
	if (s->prefix_digits != 0 && (s->prefix_digits < 2 ||
				      s->prefix_digits > 4))
		return dialect_fail(err, n, "prefix",
				    "prefix must be fixed, LL, LLL or LLLL");
	if (s->prefix_encoding >= PS_ARRAY_LEN(prefix_encoding_names))
		return dialect_fail(err, n, "prefix_encoding",
				    "unknown prefix encoding");
	if (s->pad_nibble != 0 && s->pad_nibble != 0xF)
		return dialect_fail(err, n, "pad", "pad must be 0 or F");
	if (s->length < 1 || s->length > ISO8583_FIELD_LENGTH_MAX)
		return dialect_fail(err, n, "length",
				    "length must be 1 to 9999");
	if (s->prefix_digits != 0 &&
	    s->length > prefix_capacity(s->prefix_digits))
		return dialect_fail(err, n, "length",
				    "length is more than the prefix can say");
	s->codec = derive_codec(s);
	s->prefix_bytes = iso8583_prefix_size(s->prefix_digits,
					      s->prefix_encoding);
	s->class_mask = derive_class_mask(s);
	return 0;
}

/* Fields 0 and 1 are the MTI and bitmap; 65 is the tertiary bitmap's bit
 * where there is one; 129-192 exist only with a tertiary bitmap. */
static int check_field_number(const iso8583_dialect_t *d, int n,
			      iso8583_error_t *err)
{
	if (n < 2)
		return dialect_fail(err, n, NULL,
				    "fields 0 and 1 are the MTI and the bitmap, not data elements");
	if (n == 65 && d->tertiary)
		return dialect_fail(err, n, NULL,
				    "bit 65 announces the tertiary bitmap in a dialect with \"tertiary\": true");
	if (n > 128 && !d->tertiary)
		return dialect_fail(err, n, NULL,
				    "fields 129-192 need \"tertiary\": true");
	return 0;
}

int iso8583_dialect_finish(iso8583_dialect_t *d, iso8583_error_t *err)
{
	d->finished = false;
	if (memchr(d->name, '\0', sizeof(d->name)) == NULL || d->name[0] == 0)
		return dialect_fail(err, -1, "name",
				    "a name of 1 to 31 characters is required");
	if (memchr(d->description, '\0', sizeof(d->description)) == NULL)
		return dialect_fail(err, -1, "description",
				    "at most 127 characters");
	if (d->mti_encoding > ISO8583_MTI_BCD)
		return dialect_fail(err, -1, "mti", "unknown MTI encoding");
	if (d->bitmap_encoding > ISO8583_BITMAP_HEX)
		return dialect_fail(err, -1, "bitmap",
				    "unknown bitmap encoding");
	memset(d->allowed, 0, sizeof(d->allowed));
	d->allowed[0] = ISO8583_BIT(1);
	if (d->tertiary)
		d->allowed[1] = ISO8583_BIT(65);
	for (int n = 0; n <= ISO8583_FIELDS_MAX; n++) {
		iso8583_field_spec_t *s = &d->field[n];
		if (!s->defined) {
			s->codec = ISO8583_CODEC_NONE;
			continue;
		}
		int rc = check_field_number(d, n, err);
		if (rc == 0)
			rc = check_field(s, n, err);
		if (rc != 0)
			return rc;
		if (memchr(s->name, '\0', sizeof(s->name)) == NULL)
			return dialect_fail(err, n, "name",
					    "at most 47 characters");
		d->allowed[(n - 1) / 64] |= ISO8583_BIT(n);
	}
	d->finished = true;
	return 0;
}

/* ---- JSON ---------------------------------------------------------------- */

static int copy_string(json_t *value, char *out, size_t cap, int n,
		       const char *key, iso8583_error_t *err)
{
	if (!json_is_string(value))
		return dialect_fail(err, n, key, "must be a string");
	if (json_string_length(value) >= cap) {
		char rule[64];
		snprintf(rule, sizeof(rule), "at most %zu characters", cap - 1);
		return dialect_fail(err, n, key, rule);
	}
	memcpy(out, json_string_value(value), json_string_length(value) + 1);
	return 0;
}

static int pick_name(json_t *value, const char *const *names, size_t count,
		     int n, const char *key, const char *what,
		     iso8583_error_t *err)
{
	if (!json_is_string(value))
		return dialect_fail(err, n, key, "must be a string");
	int i = name_index(names, count, json_string_value(value));
	if (i < 0) {
		char rule[96];
		snprintf(rule, sizeof(rule), "unknown %s \"%.40s\"", what,
			 json_string_value(value));
		return dialect_fail(err, n, key, rule);
	}
	return i;
}

static int load_prefix(json_t *value, iso8583_field_spec_t *s, int n,
		       iso8583_error_t *err)
{
	static const char *const prefixes[] = {"fixed", "LL", "LLL", "LLLL"};
	int i = pick_name(value, prefixes, PS_ARRAY_LEN(prefixes),
			  n, "prefix", "prefix", err);
	if (i < 0)
		return i;
	s->prefix_digits = (uint8_t)(i == 0 ? 0 : i + 1);
	return 0;
}

static int load_pad(json_t *value, iso8583_field_spec_t *s, int n,
		    iso8583_error_t *err)
{
	static const char *const pads[] = {"0", "F"};
	int i = pick_name(value, pads, PS_ARRAY_LEN(pads), n,
			  "pad", "pad nibble", err);
	if (i < 0)
		return i;
	s->pad_nibble = i == 0 ? 0x0 : 0xF;
	return 0;
}

static int load_length(json_t *value, iso8583_field_spec_t *s, int n,
		       iso8583_error_t *err)
{
	if (!json_is_integer(value) || json_integer_value(value) < 1 ||
	    json_integer_value(value) > ISO8583_FIELD_LENGTH_MAX)
		return dialect_fail(err, n, "length",
				    "must be an integer from 1 to 9999");
	s->length = (uint16_t)json_integer_value(value);
	return 0;
}

static int load_field_key(const char *key, json_t *value,
			  iso8583_field_spec_t *s, int n, iso8583_error_t *err)
{
	int i;
	if (strcmp(key, "name") == 0)
		return copy_string(value, s->name, sizeof(s->name), n, key,
				   err);
	if (strcmp(key, "comment") == 0)
		return json_is_string(value) ? 0 : dialect_fail(err, n, key,
								"must be a string");
	if (strcmp(key, "length") == 0)
		return load_length(value, s, n, err);
	if (strcmp(key, "prefix") == 0)
		return load_prefix(value, s, n, err);
	if (strcmp(key, "pad") == 0)
		return load_pad(value, s, n, err);
	if (strcmp(key, "class") == 0) {
		i = pick_name(value, class_names, PS_ARRAY_LEN(class_names),
			      n, key, "class", err);
		s->cls = (uint8_t)i;
	} else if (strcmp(key, "encoding") == 0) {
		i = pick_name(value, encoding_names,
			      PS_ARRAY_LEN(encoding_names), n, key,
			      "encoding", err);
		s->encoding = (uint8_t)i;
	} else if (strcmp(key, "prefix_encoding") == 0) {
		i = pick_name(value, prefix_encoding_names,
			      PS_ARRAY_LEN(prefix_encoding_names), n, key,
			      "prefix encoding", err);
		s->prefix_encoding = (uint8_t)i;
	} else {
		return dialect_fail(err, n, key, "unknown key");
	}
	return i < 0 ? i : 0;
}

/* Required keys and the ones that only make sense together. */
static int check_field_keys(json_t *obj, const iso8583_field_spec_t *s, int n,
			    iso8583_error_t *err)
{
	static const char *const required[] = {"class", "length", "encoding"};
	for (size_t i = 0; i < PS_ARRAY_LEN(required); i++)
		if (json_object_get(obj, required[i]) == NULL)
			return dialect_fail(err, n, required[i],
					    "missing (required)");
	bool variable = s->prefix_digits != 0;
	bool has_prefix_encoding = json_object_get(obj, "prefix_encoding");
	if (variable && !has_prefix_encoding)
		return dialect_fail(err, n, "prefix_encoding",
				    "missing (required for a variable field)");
	if (!variable && has_prefix_encoding)
		return dialect_fail(err, n, "prefix_encoding",
				    "a fixed field has no prefix");
	bool bcd = s->encoding == ISO8583_ENC_BCD ||
		   s->encoding == ISO8583_ENC_BCD_RIGHT;
	if (!bcd && json_object_get(obj, "pad") != NULL)
		return dialect_fail(err, n, "pad",
				    "pad applies to bcd encodings only");
	return 0;
}

static int parse_field_number(const char *key)
{
	size_t len = strlen(key);
	if (len == 0 || len > 3 || (key[0] == '0' && len > 1) ||
	    !ps_is_digits(key, len))
		return -1;
	return atoi(key);
}

static int load_field(const char *key, json_t *obj, iso8583_dialect_t *d,
		      iso8583_error_t *err)
{
	int n = parse_field_number(key);
	if (n < 0 || n > ISO8583_FIELDS_MAX)
		return iso8583_fail(err, ISO8583_EDIALECT, -1, 0,
				    "fields.%.8s: not a field number 2-192", key);
	if (!json_is_object(obj))
		return dialect_fail(err, n, NULL,
				    "must be an object");
	iso8583_field_spec_t *s = &d->field[n];
	const char *k;
	json_t *v;
	json_object_foreach(obj, k, v) {
		int rc = load_field_key(k, v, s, n, err);
		if (rc != 0)
			return rc;
	}
	int rc = check_field_keys(obj, s, n, err);
	if (rc != 0)
		return rc;
	s->defined = true;
	return 0;
}

static int load_fields(json_t *fields, iso8583_dialect_t *d,
		       iso8583_error_t *err)
{
	if (!json_is_object(fields))
		return dialect_fail(err, -1, "fields",
				    "must be an object");
	const char *k;
	json_t *v;
	json_object_foreach(fields, k, v) {
		int rc = load_field(k, v, d, err);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int load_top_key(const char *key, json_t *value, iso8583_dialect_t *d,
			iso8583_error_t *err)
{
	static const char *const mti_names[] = {"ascii", "bcd"};
	static const char *const bitmap_names[] = {"binary", "hex"};
	int i;
	if (strcmp(key, "name") == 0)
		return copy_string(value, d->name, sizeof(d->name), -1, key,
				   err);
	if (strcmp(key, "description") == 0)
		return copy_string(value, d->description,
				   sizeof(d->description), -1, key, err);
	if (strcmp(key, "comment") == 0)
		return json_is_string(value) ? 0 : dialect_fail(err, -1, key,
								"must be a string");
	if (strcmp(key, "tertiary") == 0) {
		if (!json_is_boolean(value))
			return dialect_fail(err, -1, key,
					    "must be true or false");
		d->tertiary = json_is_true(value);
		return 0;
	}
	if (strcmp(key, "fields") == 0)
		return 0; /* after "tertiary", whatever the key order */
	if (strcmp(key, "mti") == 0) {
		i = pick_name(value, mti_names, 2, -1, key,
			      "MTI encoding", err);
		d->mti_encoding = (uint8_t)i;
	} else if (strcmp(key, "bitmap") == 0) {
		i = pick_name(value, bitmap_names, 2, -1, key,
			      "bitmap encoding", err);
		d->bitmap_encoding = (uint8_t)i;
	} else {
		return dialect_fail(err, -1, key, "unknown key");
	}
	return i < 0 ? i : 0;
}

static int load_root(json_t *root, iso8583_dialect_t *d, iso8583_error_t *err)
{
	if (!json_is_object(root))
		return dialect_fail(err, -1, "(top)",
				    "a dialect is a JSON object");
	static const char *const required[] = {"name", "mti", "bitmap",
					       "fields"};
	for (size_t i = 0; i < PS_ARRAY_LEN(required); i++)
		if (json_object_get(root, required[i]) == NULL)
			return dialect_fail(err, -1, required[i],
					    "missing (required)");
	const char *k;
	json_t *v;
	json_object_foreach(root, k, v) {
		int rc = load_top_key(k, v, d, err);
		if (rc != 0)
			return rc;
	}
	return load_fields(json_object_get(root, "fields"), d, err);
}

int iso8583_dialect_load_json(const char *text, size_t len,
			      iso8583_dialect_t *out, iso8583_error_t *err)
{
	memset(out, 0, sizeof(*out));
	json_error_t jerr;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL)
		return iso8583_fail(err, ISO8583_EDIALECT, -1,
				    (size_t)PS_MAX(jerr.position, 0),
				    "(JSON) line %d column %d: %s", jerr.line,
				    jerr.column, jerr.text);
	int rc = load_root(root, out, err);
	json_decref(root);
	if (rc != 0)
		return rc;
	return iso8583_dialect_finish(out, err);
}

int iso8583_dialect_load_file(const char *path, iso8583_dialect_t *out,
			      iso8583_error_t *err)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return iso8583_fail(err, ISO8583_EDIALECT, -1, 0, "%s: %s",
				    path, strerror(errno));
	char *text = malloc(DIALECT_FILE_BYTES_MAX);
	if (text == NULL) {
		fclose(f);
		return iso8583_fail(err, ISO8583_EDIALECT, -1, 0,
				    "%s: out of memory", path);
	}
	size_t len = fread(text, 1, DIALECT_FILE_BYTES_MAX, f);
	bool too_big = len == DIALECT_FILE_BYTES_MAX && fgetc(f) != EOF;
	bool failed = ferror(f) != 0;
	fclose(f);
	int rc;
	if (failed)
		rc = iso8583_fail(err, ISO8583_EDIALECT, -1, 0,
				  "%s: read error", path);
	else if (too_big)
		rc = iso8583_fail(err, ISO8583_EDIALECT, -1, 0,
				  "%s: over %d bytes", path,
				  DIALECT_FILE_BYTES_MAX);
	else
		rc = iso8583_dialect_load_json(text, len, out, err);
	free(text);
	return rc;
}
