/*
 * output.c: how switchctl talks: error messages and exit codes, times,
 * aligned tables, JSON lines, and short human descriptions of routes and
 * of what a change did to one.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "switchctl.h"

/* ---- failures --------------------------------------------------------- */

static void fail_json(int exit, const char *message, const route_error_t *err)
{
	json_t *obj = json_object();
	json_object_set_new(obj, "ok", json_false());
	json_object_set_new(obj, "exit", json_integer(exit));
	json_object_set_new(obj, "error", json_string(message));
	if (err != NULL) {
		if (err->line > 0)
			json_object_set_new(obj, "line", json_integer(err->line));
		if (err->record > 0)
			json_object_set_new(obj, "record",
					    json_integer(err->record));
		if (err->field[0] != '\0')
			json_object_set_new(obj, "field",
					    json_string(err->field));
	}
	sc_print_json(obj);
}

int sc_fail(sc_ctx_t *ctx, int exit, const char *fmt, ...)
{
	char message[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	fprintf(stderr, "switchctl: %s\n", message);
	if (ctx->json)
		fail_json(exit, message, NULL);
	return exit;
}

int sc_exit_for(int code, int mdb_rc)
{
	switch (code) {
	case 0:
		return SC_EXIT_OK;
	case PS_EINVAL:
	case PS_EFORMAT:
	case PS_ENOTFOUND:
	case ROUTE_EDISABLED:
	case PS_EEXIST:
		return SC_EXIT_REJECTED;
	case PS_ELIMIT:
		/* A full map is the disk's problem; a bound is the input's. */
		return mdb_rc != 0 ? SC_EXIT_IO : SC_EXIT_REJECTED;
	default:
		return SC_EXIT_IO;
	}
}

int sc_fail_route(sc_ctx_t *ctx, const char *doing, const route_error_t *err)
{
	char detail[512], message[1024];
	route_error_format(err, detail, sizeof(detail));
	snprintf(message, sizeof(message), "%s: %s", doing, detail);
	int exit = sc_exit_for(err->code, err->mdb_rc);
	fprintf(stderr, "switchctl: %s\n", message);
	if (ctx->json)
		fail_json(exit, message, err);
	return exit;
}

/* ---- time ------------------------------------------------------------- */

void sc_format_time(uint64_t ms, bool with_ms, char *out, size_t cap)
{
	time_t secs = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&secs, &tm);
	char base[32];
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	if (with_ms)
		snprintf(out, cap, "%s.%03uZ", base, (unsigned)(ms % 1000));
	else
		snprintf(out, cap, "%sZ", base);
}

/* "90s", "15m", "2h", "7d": that long before now. */
static bool parse_relative(const char *text, uint64_t now_ms, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long n = strtoull(text, &end, 10);
	if (end == text || errno != 0 || end[0] == '\0' || end[1] != '\0')
		return false;
	uint64_t unit;
	switch (end[0]) {
	case 's': unit = 1000; break;
	case 'm': unit = 60 * 1000; break;
	case 'h': unit = 3600 * 1000; break;
	case 'd': unit = 86400 * 1000; break;
	default: return false;
	}
	if (n > now_ms / unit)
		return false;
	*out = now_ms - n * unit;
	return true;
}

bool sc_parse_time(const char *text, uint64_t now_ms, uint64_t *out_ms)
{
	size_t len = strlen(text);
	/* Milliseconds since the epoch, as the JSON output gives them. */
	if (len >= 10 && ps_is_digits(text, len)) {
		uint64_t v;
		if (ps_parse_u64(text, len, &v) != 0)
			return false;
		*out_ms = v;
		return true;
	}
	if (parse_relative(text, now_ms, out_ms))
		return true;
	/* 2025-11-25, 2025-11-25T21:07, 2025-11-25T21:07:03, with an
	 * optional Z or a space for the T: always UTC. */
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	const char *formats[] = {"%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S",
				 "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M",
				 "%Y-%m-%d"};
	for (size_t i = 0; i < PS_ARRAY_LEN(formats); i++) {
		memset(&tm, 0, sizeof(tm));
		const char *end = strptime(text, formats[i], &tm);
		if (end == NULL || !(end[0] == '\0' ||
				     (end[0] == 'Z' && end[1] == '\0')))
			continue;
		time_t secs = timegm(&tm);
		if (secs < 0)
			return false;
		*out_ms = (uint64_t)secs * 1000;
		return true;
	}
	return false;
}

/* ---- tables ----------------------------------------------------------- */

struct sc_table {
	size_t columns;
	size_t rows;
	size_t cap;
	char **cells; /* rows * columns, row-major; row 0 is the header */
};

sc_table_t *sc_table_new(size_t columns, const char *const *headers)
{
	sc_table_t *t = calloc(1, sizeof(*t));
	PS_ASSERT(t != NULL);
	t->columns = columns;
	sc_table_add(t, headers);
	return t;
}

void sc_table_add(sc_table_t *t, const char *const *cells)
{
	if (t->rows == t->cap) {
		t->cap = t->cap != 0 ? t->cap * 2 : 64;
		t->cells = realloc(t->cells, t->cap * t->columns * sizeof(char *));
		PS_ASSERT(t->cells != NULL);
	}
	for (size_t c = 0; c < t->columns; c++) {
		t->cells[t->rows * t->columns + c] = strdup(cells[c]);
		PS_ASSERT(t->cells[t->rows * t->columns + c] != NULL);
	}
	t->rows++;
}

/* Terminal columns of UTF-8 text: East Asian wide characters take two,
 * so a note in Chinese keeps the columns after it aligned. */
static size_t display_width(const char *s)
{
	size_t width = 0;
	const unsigned char *p = (const unsigned char *)s;
	while (*p != '\0') {
		uint32_t cp;
		size_t n;
		if (p[0] < 0x80) {
			cp = p[0];
			n = 1;
		} else if ((p[0] & 0xE0) == 0xC0 && p[1] != 0) {
			cp = (uint32_t)(p[0] & 0x1F) << 6 | (p[1] & 0x3F);
			n = 2;
		} else if ((p[0] & 0xF0) == 0xE0 && p[1] != 0 && p[2] != 0) {
			cp = (uint32_t)(p[0] & 0x0F) << 12 |
			     (uint32_t)(p[1] & 0x3F) << 6 | (p[2] & 0x3F);
			n = 3;
		} else if (p[1] != 0 && p[2] != 0 && p[3] != 0) {
			cp = 0x10000;
			n = 4;
		} else {
			break;
		}
		bool wide = (cp >= 0x1100 && cp <= 0x115F) ||
			    (cp >= 0x2E80 && cp <= 0xA4CF) ||
			    (cp >= 0xAC00 && cp <= 0xD7A3) ||
			    (cp >= 0xF900 && cp <= 0xFAFF) ||
			    (cp >= 0xFE30 && cp <= 0xFE4F) ||
			    (cp >= 0xFF00 && cp <= 0xFF60) ||
			    (cp >= 0xFFE0 && cp <= 0xFFE6) || cp >= 0x10000;
		width += wide ? 2 : 1;
		p += n;
	}
	return width;
}

void sc_table_print(sc_table_t *t, FILE *out)
{
	size_t *widths = calloc(t->columns, sizeof(*widths));
	PS_ASSERT(widths != NULL);
	for (size_t r = 0; r < t->rows; r++)
		for (size_t c = 0; c < t->columns; c++) {
			size_t w = display_width(t->cells[r * t->columns + c]);
			if (w > widths[c])
				widths[c] = w;
		}
	for (size_t r = 0; r < t->rows; r++) {
		for (size_t c = 0; c < t->columns; c++) {
			const char *cell = t->cells[r * t->columns + c];
			fputs(cell, out);
			if (c + 1 == t->columns)
				break;
			for (size_t pad = display_width(cell); pad < widths[c] + 2;
			     pad++)
				fputc(' ', out);
		}
		fputc('\n', out);
	}
	free(widths);
}

void sc_table_free(sc_table_t *t)
{
	for (size_t i = 0; i < t->rows * t->columns; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
}

/* ---- JSON ------------------------------------------------------------- */

void sc_print_json(json_t *value)
{
	char *text = json_dumps(value, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (text != NULL) {
		fputs(text, stdout);
		fputc('\n', stdout);
		free(text);
	}
	json_decref(value);
}

json_t *sc_route_json(const route_t *route)
{
	char text[ROUTE_JSON_BYTES_MAX];
	size_t len;
	if (route_to_json(route, text, sizeof(text), &len) != 0)
		return json_null();
	json_t *obj = json_loadb(text, len, 0, NULL);
	return obj != NULL ? obj : json_null();
}

json_t *sc_audit_json(const route_audit_t *a)
{
	char at[40];
	sc_format_time(a->at_ms, true, at, sizeof(at));
	json_t *obj = json_object();
	json_object_set_new(obj, "at", json_string(at));
	json_object_set_new(obj, "at_ms", json_integer((json_int_t)a->at_ms));
	json_object_set_new(obj, "who", json_string(a->who));
	json_object_set_new(obj, "what", json_string(route_what_name(a->what)));
	json_object_set_new(obj, "prefix", json_string(a->prefix));
	json_object_set_new(obj, "before", a->has_before
						   ? sc_route_json(&a->before)
						   : json_null());
	json_object_set_new(obj, "after",
			    a->has_after ? sc_route_json(&a->after) : json_null());
	json_object_set_new(obj, "version", json_integer((json_int_t)a->version));
	if (a->detail[0] != '\0')
		json_object_set_new(obj, "detail", json_string(a->detail));
	return obj;
}

/* ---- words for humans ------------------------------------------------- */

static void join_alternates(const route_t *route, char *out, size_t cap)
{
	ps_buf_t buf;
	ps_buf_init(&buf, out, cap - 1);
	for (unsigned i = 0; i < route->alternate_count; i++)
		(void)ps_buf_printf(&buf, "%s%s", i > 0 ? "," : "",
				    route->alternates[i]);
	out[buf.len] = '\0';
}

void sc_route_summary(const route_t *route, char *out, size_t cap)
{
	ps_buf_t buf;
	ps_buf_init(&buf, out, cap - 1);
	(void)ps_buf_printf(&buf, "%s (%s)", route->endpoint,
			    route_network_name(route->network));
	if (route->alternate_count > 0) {
		char alts[ROUTE_ALTERNATES_MAX * (ROUTE_ENDPOINT_BYTES_MAX + 1)];
		join_alternates(route, alts, sizeof(alts));
		(void)ps_buf_printf(&buf, ", alternates %s", alts);
	}
	if (route->institution[0] != '\0')
		(void)ps_buf_printf(&buf, ", institution %s",
				    route->institution);
	if (!route->enabled)
		(void)ps_buf_append_str(&buf, ", DISABLED");
	out[buf.len] = '\0';
}

static void diff_field(ps_buf_t *buf, const char *name, const char *a,
		       const char *b)
{
	if (strcmp(a, b) == 0)
		return;
	(void)ps_buf_printf(buf, "%s%s %s -> %s", buf->len > 0 ? "; " : "",
			    name, a[0] != '\0' ? a : "(none)",
			    b[0] != '\0' ? b : "(none)");
}

void sc_route_diff(const route_t *before, const route_t *after, char *out,
		   size_t cap)
{
	ps_buf_t buf;
	ps_buf_init(&buf, out, cap - 1);
	char a[160], b[160];
	diff_field(&buf, "endpoint", before->endpoint, after->endpoint);
	diff_field(&buf, "network", route_network_name(before->network),
		   route_network_name(after->network));
	join_alternates(before, a, sizeof(a));
	join_alternates(after, b, sizeof(b));
	diff_field(&buf, "alternates", a, b);
	diff_field(&buf, "institution", before->institution,
		   after->institution);
	diff_field(&buf, "state", before->enabled ? "enabled" : "disabled",
		   after->enabled ? "enabled" : "disabled");
	diff_field(&buf, "note", before->note, after->note);
	if (buf.len == 0)
		(void)ps_buf_append_str(&buf, "no change");
	out[buf.len] = '\0';
}
