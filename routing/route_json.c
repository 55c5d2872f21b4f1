/*
 * route_json.c: routes as JSON (the export, import and audit formats) and
 * the import reader that cuts JSON lines or a JSON array into records.
 *
 * The reader scans the text itself to find each record's bytes and the
 * line it starts on, then hands one record at a time to jansson. So a
 * rejected import names the line of the bad record in either form, and a
 * record is bounded (ROUTE_IMPORT_LINE_BYTES_MAX) before any parsing.
 */
#include "routing_int.h"

#include <stddef.h>
#include <string.h>

#include <jansson.h>

#define STRINGIFY_(x) #x
#define STRINGIFY(x) STRINGIFY_(x)

/* ---- route to JSON ---------------------------------------------------- */

json_t *route_json_new(const route_t *route)
{
	json_t *alternates = json_array();
	for (unsigned i = 0; alternates != NULL && i < route->alternate_count;
	     i++)
		json_array_append_new(alternates,
				      json_string(route->alternates[i]));
	json_t *obj = json_object();
	if (obj == NULL || alternates == NULL) {
		json_decref(obj);
		json_decref(alternates);
		return NULL;
	}
	json_object_set_new(obj, "prefix", json_string(route->prefix));
	json_object_set_new(obj, "endpoint", json_string(route->endpoint));
	json_object_set_new(obj, "network",
			    json_string(route_network_name(route->network)));
	json_object_set_new(obj, "alternates", alternates);
	json_object_set_new(obj, "institution",
			    route->institution[0] != '\0'
				    ? json_string(route->institution)
				    : json_null());
	json_object_set_new(obj, "enabled", json_boolean(route->enabled));
	json_object_set_new(obj, "note", json_string(route->note));
	json_object_set_new(obj, "changed_by",
			    route->changed_by[0] != '\0'
				    ? json_string(route->changed_by)
				    : json_null());
	json_object_set_new(obj, "changed_ms",
			    json_integer((json_int_t)route->changed_ms));
	const route_fees_t *f = &route->fees;
	if (f->issuer_ppm || f->issuer_cap || f->network_ppm || f->network_cap) {
		json_object_set_new(obj, "issuer_fee_ppm", json_integer(f->issuer_ppm));
		json_object_set_new(obj, "issuer_fee_cap", json_integer(f->issuer_cap));
		json_object_set_new(obj, "network_fee_ppm", json_integer(f->network_ppm));
		json_object_set_new(obj, "network_fee_cap", json_integer(f->network_cap));
	}
	return obj;
}

int route_to_json(const route_t *route, char *out, size_t cap, size_t *len)
{
	json_t *obj = route_json_new(route);
	if (obj == NULL)
		return PS_ENOMEM;
	size_t need = json_dumpb(obj, out, cap,
				 JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(obj);
	if (need == 0)
		return PS_ENOMEM;
	if (need >= cap)
		return PS_ENOSPC;
	out[need] = '\0';
	if (len != NULL)
		*len = need;
	return 0;
}

/* ---- JSON to route ---------------------------------------------------- */

static int want_string(json_t *value, const char *field, bool null_ok,
		       route_error_t *err)
{
	if (json_is_string(value) || (null_ok && json_is_null(value)))
		return 0;
	return route_fail(err, PS_EINVAL, field, "must be a string%s",
			  null_ok ? " or null" : "");
}

static int set_alternates(route_t *route, json_t *value, route_error_t *err)
{
	if (!json_is_array(value))
		return route_fail(err, PS_EINVAL, "alternates",
				  "must be an array of endpoint names");
	if (json_array_size(value) > ROUTE_ALTERNATES_MAX)
		return route_fail(err, PS_EINVAL, "alternates",
				  "at most %d alternates (this one has %zu)",
				  ROUTE_ALTERNATES_MAX, json_array_size(value));
	size_t i;
	json_t *item;
	json_array_foreach(value, i, item) {
		if (!json_is_string(item))
			return route_fail(err, PS_EINVAL, "alternates",
					  "item %zu must be a string", i + 1);
		int rc = route_add_alternate(route, json_string_value(item),
					     json_string_length(item), err);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static bool is_known_key(const char *key)
{
	static const char *const keys[] = {
		"prefix", "endpoint", "network", "alternates", "institution",
		"enabled", "note", "changed_by", "changed_ms", "issuer_fee_ppm",
		"issuer_fee_cap", "network_fee_ppm", "network_fee_cap"};
	for (size_t i = 0; i < PS_ARRAY_LEN(keys); i++)
		if (strcmp(key, keys[i]) == 0)
			return true;
	return false;
}

/* Fields in a fixed order: the endpoint before the alternates that may
 * not repeat it. */
int route_json_read(json_t *obj, bool keep_changed, route_t *out,
		    route_error_t *err)
{
	const char *key;
	json_t *value;
	json_object_foreach(obj, key, value) {
		if (!is_known_key(key))
			return route_fail(err, PS_EINVAL, key,
					  "unknown field (expected prefix, endpoint, network, alternates, institution, enabled, note, issuer_fee_ppm, issuer_fee_cap, network_fee_ppm, network_fee_cap)");
	}
	route_t r;
	route_init(&r);
	int rc;
	value = json_object_get(obj, "prefix");
	if (value == NULL)
		return route_fail(err, PS_EINVAL, "prefix", "is required");
	if ((rc = want_string(value, "prefix", false, err)) < 0 ||
	    (rc = route_set_prefix(&r, json_string_value(value),
				   json_string_length(value), err)) < 0)
		return rc;
	value = json_object_get(obj, "endpoint");
	if (value == NULL)
		return route_fail(err, PS_EINVAL, "endpoint", "is required");
	if ((rc = want_string(value, "endpoint", false, err)) < 0 ||
	    (rc = route_set_endpoint(&r, json_string_value(value),
				     json_string_length(value), err)) < 0)
		return rc;
	value = json_object_get(obj, "network");
	if (value != NULL &&
	    ((rc = want_string(value, "network", false, err)) < 0 ||
	     (rc = route_set_network(&r, json_string_value(value),
				     json_string_length(value), err)) < 0))
		return rc;
	value = json_object_get(obj, "alternates");
	if (value != NULL && !json_is_null(value) &&
	    (rc = set_alternates(&r, value, err)) < 0)
		return rc;
	value = json_object_get(obj, "institution");
	if (value != NULL &&
	    ((rc = want_string(value, "institution", true, err)) < 0 ||
	     (json_is_string(value) &&
	      (rc = route_set_institution(&r, json_string_value(value),
					  json_string_length(value),
					  err)) < 0)))
		return rc;
	value = json_object_get(obj, "enabled");
	if (value != NULL) {
		if (!json_is_boolean(value))
			return route_fail(err, PS_EINVAL, "enabled",
					  "must be true or false");
		r.enabled = json_is_true(value);
	}
	value = json_object_get(obj, "note");
	if (value != NULL &&
	    ((rc = want_string(value, "note", true, err)) < 0 ||
	     (json_is_string(value) &&
	      (rc = route_set_note(&r, json_string_value(value),
				   json_string_length(value), err)) < 0)))
		return rc;
	route_fees_t fees = {0};
	static const struct {
		const char *key;
		bool cap;
		size_t off;
	} fee_keys[] = {
		{"issuer_fee_ppm", false, offsetof(route_fees_t, issuer_ppm)},
		{"issuer_fee_cap", true, offsetof(route_fees_t, issuer_cap)},
		{"network_fee_ppm", false, offsetof(route_fees_t, network_ppm)},
		{"network_fee_cap", true, offsetof(route_fees_t, network_cap)},
	};
	for (size_t i = 0; i < PS_ARRAY_LEN(fee_keys); i++) {
		value = json_object_get(obj, fee_keys[i].key);
		if (value == NULL)
			continue;
		json_int_t n = json_is_integer(value) ? json_integer_value(value) : -1;
		json_int_t max = fee_keys[i].cap ? ROUTE_FEE_CAP_MAX : ROUTE_FEE_PPM_MAX;
		if (n < 0 || n > max)
			return route_fail(err, PS_EINVAL, fee_keys[i].key,
					  "must be an integer 0 to %lld",
					  (long long)max);
		uint8_t *at = (uint8_t *)&fees + fee_keys[i].off;
		if (fee_keys[i].cap) {
			int64_t v = (int64_t)n;
			memcpy(at, &v, sizeof(v));
		} else {
			uint32_t v = (uint32_t)n;
			memcpy(at, &v, sizeof(v));
		}
	}
	if ((rc = route_set_fees(&r, &fees, err)) < 0)
		return rc;
	/* Accepted so that an export imports back; the importer's name and
	 * time replace them. */
	value = json_object_get(obj, "changed_by");
	if (value != NULL && (rc = want_string(value, "changed_by", true,
					       err)) < 0)
		return rc;
	if (keep_changed && json_is_string(value))
		ps_strlcpy(r.changed_by, json_string_value(value),
			   sizeof(r.changed_by));
	value = json_object_get(obj, "changed_ms");
	if (value != NULL && !json_is_integer(value) && !json_is_null(value))
		return route_fail(err, PS_EINVAL, "changed_ms",
				  "must be an integer or null");
	if (keep_changed && json_is_integer(value) &&
	    json_integer_value(value) > 0)
		r.changed_ms = (uint64_t)json_integer_value(value);
	*out = r;
	return 0;
}

/*
 * Parses one object whose text starts on line first_line of the input
 * (0 when there is no input file), so parser errors name the right line.
 */
static int parse_record(const char *text, size_t len, uint32_t first_line,
			route_t *out, route_error_t *err)
{
	json_error_t jerr;
	json_t *obj = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (obj == NULL) {
		int rc = route_fail(err, PS_EFORMAT, "", "not valid JSON: %s",
				    jerr.text);
		if (err != NULL && first_line > 0 && jerr.line > 0)
			err->line = first_line + (uint32_t)jerr.line - 1;
		return rc;
	}
	int rc;
	if (!json_is_object(obj))
		rc = route_fail(err, PS_EFORMAT, "",
				"must be a JSON object {...}");
	else
		rc = route_json_read(obj, false, out, err);
	json_decref(obj);
	if (rc < 0 && err != NULL && first_line > 0 && err->line == 0)
		err->line = first_line;
	return rc;
}

int route_from_json(const char *text, size_t len, route_t *out,
		    route_error_t *err)
{
	if (err != NULL) {
		err->line = 0;
		err->record = 0;
	}
	return parse_record(text, len, 0, out, err);
}

/* ---- the import reader ------------------------------------------------ */

void route_reader_init(route_reader_t *reader, const char *data, size_t len)
{
	memset(reader, 0, sizeof(*reader));
	reader->data = data;
	reader->len = len;
	reader->line = 1;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static void skip_blanks(route_reader_t *r)
{
	while (r->pos < r->len && is_blank(r->data[r->pos])) {
		if (r->data[r->pos] == '\n')
			r->line++;
		r->pos++;
	}
}

/* Records a failure so that the reader stays failed; returns code. */
static int reader_fail(route_reader_t *r, route_error_t *err, int code,
		       uint32_t line, const char *reason)
{
	route_fail(err, code, "", "%s", reason);
	if (err != NULL) {
		err->line = line;
		err->record = r->record;
	}
	r->failed = code;
	return code;
}

/* A record failed to parse: locate it and stop the reader. */
static int record_failed(route_reader_t *r, route_error_t *err, int code,
			 uint32_t line)
{
	if (err != NULL) {
		if (err->line == 0)
			err->line = line;
		err->record = r->record;
	}
	r->failed = code;
	return code;
}

static int next_line(route_reader_t *r, route_t *out, bool *has,
		     route_error_t *err)
{
	while (r->pos < r->len) {
		const char *start = r->data + r->pos;
		const char *nl = memchr(start, '\n', r->len - r->pos);
		size_t raw = nl != NULL ? (size_t)(nl - start) : r->len - r->pos;
		uint32_t line = r->line;
		r->pos += raw + (nl != NULL);
		r->line++;
		size_t len = raw;
		while (len > 0 && is_blank(start[len - 1]))
			len--;
		while (len > 0 && is_blank(start[0])) {
			start++;
			len--;
		}
		if (len == 0 || start[0] == '#')
			continue;
		r->record++;
		if (raw > ROUTE_IMPORT_LINE_BYTES_MAX)
			return reader_fail(r, err, PS_ELIMIT, line,
					   "longer than " STRINGIFY(
						   ROUTE_IMPORT_LINE_BYTES_MAX) " bytes");
		r->record_line = line;
		int rc = parse_record(start, len, line, out, err);
		if (rc < 0)
			return record_failed(r, err, rc, line);
		*has = true;
		return 0;
	}
	r->finished = true;
	return 0;
}

/*
 * Finds the end of the object that starts at r->pos: braces and brackets
 * are counted outside strings, and a backslash in a string skips the next
 * byte. jansson then checks the grammar; this only finds the span, so a
 * mismatched "{]" is the parser's to reject.
 */
static int scan_element(route_reader_t *r, size_t *span, route_error_t *err,
			uint32_t line)
{
	size_t depth = 0;
	bool in_string = false;
	uint32_t lines = 0;
	for (size_t i = r->pos; i < r->len; i++) {
		char c = r->data[i];
		if (i - r->pos >= ROUTE_IMPORT_LINE_BYTES_MAX)
			return reader_fail(r, err, PS_ELIMIT, line,
					   "record longer than " STRINGIFY(
						   ROUTE_IMPORT_LINE_BYTES_MAX) " bytes");
		if (c == '\n')
			lines++;
		if (in_string) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_string = false;
			continue;
		}
		if (c == '"') {
			in_string = true;
		} else if (c == '{' || c == '[') {
			depth++;
		} else if (c == '}' || c == ']') {
			depth--;
			if (depth == 0) {
				*span = i + 1 - r->pos;
				r->line += lines;
				return 0;
			}
		}
	}
	return reader_fail(r, err, PS_EFORMAT, line,
			   "the record is not closed before the end of the input");
}

static int next_element(route_reader_t *r, route_t *out, bool *has,
			route_error_t *err)
{
	skip_blanks(r);
	if (r->need_comma) {
		if (r->pos < r->len && r->data[r->pos] == ',') {
			r->pos++;
			skip_blanks(r);
			if (r->pos < r->len && r->data[r->pos] == ']')
				return reader_fail(r, err, PS_EFORMAT, r->line,
						   "a comma before ]");
		} else if (r->pos >= r->len || r->data[r->pos] != ']') {
			return reader_fail(r, err, PS_EFORMAT, r->line,
					   r->pos >= r->len
						   ? "the array is not closed with ]"
						   : "expected , or ] after a record");
		}
	}
	if (r->pos >= r->len)
		return reader_fail(r, err, PS_EFORMAT, r->line,
				   "the array is not closed with ]");
	if (r->data[r->pos] == ']') {
		r->pos++;
		skip_blanks(r);
		if (r->pos < r->len)
			return reader_fail(r, err, PS_EFORMAT, r->line,
					   "text after the closing ]");
		r->finished = true;
		return 0;
	}
	r->record++;
	uint32_t line = r->line;
	r->record_line = line;
	if (r->data[r->pos] != '{')
		return reader_fail(r, err, PS_EFORMAT, line,
				   "each array item must be a JSON object {...}");
	size_t span;
	int rc = scan_element(r, &span, err, line);
	if (rc < 0)
		return rc;
	rc = parse_record(r->data + r->pos, span, line, out, err);
	r->pos += span;
	r->need_comma = true;
	if (rc < 0)
		return record_failed(r, err, rc, line);
	*has = true;
	return 0;
}

int route_reader_next(route_reader_t *reader, route_t *out, bool *has,
		      route_error_t *err)
{
	*has = false;
	if (reader->failed != 0)
		return route_fail(err, reader->failed, "",
				  "the import already failed");
	if (err != NULL) {
		err->line = 0;
		err->record = 0;
	}
	if (!reader->started) {
		reader->started = true;
		if (reader->len >= 3 &&
		    memcmp(reader->data, "\xEF\xBB\xBF", 3) == 0)
			reader->pos = 3;
		size_t pos = reader->pos;
		uint32_t line = reader->line;
		skip_blanks(reader);
		if (reader->pos < reader->len &&
		    reader->data[reader->pos] == '[') {
			reader->array = true;
			reader->pos++;
		} else {
			/* JSON lines count lines themselves, blanks too. */
			reader->pos = pos;
			reader->line = line;
		}
	}
	if (reader->finished)
		return 0;
	return reader->array ? next_element(reader, out, has, err)
			     : next_line(reader, out, has, err);
}
