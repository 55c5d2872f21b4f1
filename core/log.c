/*
 * log.c: structured JSON log lines.
 *
 * Each line is built in a per-thread buffer and written with one write(2),
 * so concurrent writers never interleave. Lines are bounded: a key that does
 * not fit is dropped and the line says "truncated":true, so a hostile value
 * can cost at most one line's worth of detail, never memory or a crash.
 */
#include "core.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct ps_log {
	char line[PS_LOG_LINE_MAX];
	size_t len;
	bool truncated;
	bool active;
};

static const char *log_component = "payswitch";
static enum ps_log_level log_level_min = PS_LOG_INFO;
static int log_fd = 2;
/*
 * A few lines may be open at once on a thread: code that logs may call
 * code that logs before it ends its own line. Past the depth, a line is
 * dropped (counted in the next line written) rather than corrupted.
 */
#define LOG_DEPTH_MAX 4
static _Thread_local struct ps_log log_lines[LOG_DEPTH_MAX];
static _Thread_local unsigned log_dropped;
/* A disabled line still needs somewhere to go; it is never written. */
static _Thread_local struct ps_log log_sink;

static const char *level_names[] = {"debug", "info", "warn", "error"};

/*
 * Rate limiting: each event (by name) may write PS_LOG_EVENT_BURST lines
 * per second; the rest of that second's are counted, not written, and
 * the next line of the event that is written says how many were left out
 * ("suppressed"). A count that no later line of its event would carry is
 * written by ps_log_flush_suppressed() (switchd calls it every second) as
 * a "log_suppressed" line. Debug lines are never limited: asking for them
 * is asking for all of them. The table is small and fixed: an event that
 * finds no slot shares the last one, so the limit may bite early, never
 * late.
 */
#define LOG_EVENTS_MAX 64

typedef struct log_event {
	const char *name;      /* NULL: free */
	uint64_t window_s;     /* the second its count is for */
	uint32_t written;      /* lines written in that second */
	uint64_t suppressed;   /* left out since the last line written */
} log_event_t;

static _Thread_local log_event_t log_events[LOG_EVENTS_MAX];
static _Thread_local bool log_flushing;
static _Thread_local uint64_t log_flushed_s;
static _Thread_local bool log_pending; /* some count waits */

static uint64_t log_now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec;
}

static log_event_t *log_event_slot(const char *event)
{
	uint64_t h = 14695981039346656037ull;
	for (const char *p = event; *p; p++)
		h = (h ^ (uint8_t)*p) * 1099511628211ull;
	for (unsigned probe = 0; probe < LOG_EVENTS_MAX; probe++) {
		log_event_t *e = &log_events[(h + probe) % LOG_EVENTS_MAX];
		if (e->name == NULL) {
			e->name = event;
			return e;
		}
		if (e->name == event || strcmp(e->name, event) == 0)
			return e;
	}
	return &log_events[LOG_EVENTS_MAX - 1];
}

/* May a line of this event be written now? Counts it either way. */
static bool log_admit(log_event_t *e)
{
	uint64_t now = log_now_s();
	if (e->window_s != now) {
		e->window_s = now;
		e->written = 0;
	}
	if (e->written >= PS_LOG_EVENT_BURST) {
		e->suppressed++;
		log_pending = true;
		return false;
	}
	e->written++;
	return true;
}

void ps_log_flush_suppressed(void)
{
	if (!log_pending)
		return;
	uint64_t now = log_now_s();
	if (now == log_flushed_s)
		return;
	log_flushed_s = now;
	log_pending = false;
	log_flushing = true;
	for (unsigned i = 0; i < LOG_EVENTS_MAX; i++) {
		log_event_t *e = &log_events[i];
		if (e->name == NULL || e->suppressed == 0)
			continue;
		if (e->window_s == now) {
			log_pending = true; /* its second is not over */
			continue;
		}
		ps_log_t *l = ps_log_begin(PS_LOG_WARN, "log_suppressed");
		ps_log_str(l, "of", e->name);
		ps_log_uint(l, "suppressed", e->suppressed);
		ps_log_end(l);
		e->suppressed = 0;
	}
	log_flushing = false;
}

void ps_log_setup(const char *component, enum ps_log_level level_min, int fd)
{
	log_component = component;
	log_level_min = level_min;
	log_fd = fd;
}

bool ps_log_enabled(enum ps_log_level level)
{
	return level >= log_level_min;
}

int ps_log_level_parse(const char *name)
{
	for (size_t i = 0; i < PS_ARRAY_LEN(level_names); i++)
		if (strcmp(name, level_names[i]) == 0)
			return (int)i;
	return -1;
}

/* Appends raw text; the reserve keeps room for the closing "}\n" and the
 * truncation marker so a full line is still valid JSON. */
#define LOG_RESERVE 24

static bool log_raw(ps_log_t *l, const char *s, size_t n)
{
	if (l->len + n + LOG_RESERVE > sizeof(l->line)) {
		l->truncated = true;
		return false;
	}
	memcpy(l->line + l->len, s, n);
	l->len += n;
	return true;
}

/* JSON string escaping per RFC 8259; control bytes become \u00XX. */
static bool log_escaped(ps_log_t *l, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char esc[6];
		size_t esc_len = ps_json_escape_byte((unsigned char)s[i], esc);
		if (!log_raw(l, esc, esc_len))
			return false;
	}
	return true;
}

/* Starts ,"key": and returns the length to roll back to on overflow. */
static size_t log_key(ps_log_t *l, const char *key)
{
	size_t mark = l->len;
	if (!log_raw(l, ",\"", 2) || !log_escaped(l, key, strlen(key)) ||
	    !log_raw(l, "\":", 2))
		l->len = mark;
	return mark;
}

ps_log_t *ps_log_begin(enum ps_log_level level, const char *event)
{
	if (!ps_log_enabled(level)) {
		log_sink.active = false;
		return &log_sink;
	}
	ps_log_t *l = NULL;
	for (unsigned i = 0; i < LOG_DEPTH_MAX && l == NULL; i++)
		if (!log_lines[i].active)
			l = &log_lines[i];
	if (l == NULL) {
		log_dropped++;
		log_sink.active = false;
		return &log_sink;
	}
	uint64_t suppressed = 0;
	if (level > PS_LOG_DEBUG && !log_flushing) {
		log_event_t *e = log_event_slot(event);
		if (!log_admit(e)) {
			log_sink.active = false;
			return &log_sink;
		}
		suppressed = e->suppressed;
		e->suppressed = 0;
	}
	l->active = true;
	l->len = 0;
	l->truncated = false;

	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	gmtime_r(&ts.tv_sec, &tm);
	int n = snprintf(l->line, sizeof(l->line),
			 "{\"ts\":\"%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ\","
			 "\"level\":\"%s\",\"component\":\"",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
			 tm.tm_hour, tm.tm_min, tm.tm_sec,
			 ts.tv_nsec / 1000000, level_names[level]);
	l->len = (size_t)n;
	log_escaped(l, log_component, strlen(log_component));
	log_raw(l, "\",\"event\":\"", 11);
	log_escaped(l, event, strlen(event));
	log_raw(l, "\"", 1);
	if (log_dropped > 0) {
		ps_log_uint(l, "lines_dropped", log_dropped);
		log_dropped = 0;
	}
	if (suppressed > 0)
		ps_log_uint(l, "suppressed", suppressed);
	return l;
}

void ps_log_strn(ps_log_t *l, const char *key, const char *value, size_t len)
{
	if (!l->active)
		return;
	size_t mark = log_key(l, key);
	if (l->len == mark)
		return;
	if (!log_raw(l, "\"", 1) || !log_escaped(l, value, len) ||
	    !log_raw(l, "\"", 1))
		l->len = mark;
}

void ps_log_str(ps_log_t *l, const char *key, const char *value)
{
	ps_log_strn(l, key, value ? value : "", value ? strlen(value) : 0);
}

static void log_number(ps_log_t *l, const char *key, const char *text)
{
	if (!l->active)
		return;
	size_t mark = log_key(l, key);
	if (l->len == mark)
		return;
	if (!log_raw(l, text, strlen(text)))
		l->len = mark;
}

void ps_log_int(ps_log_t *l, const char *key, int64_t value)
{
	char text[24];
	snprintf(text, sizeof(text), "%lld", (long long)value);
	log_number(l, key, text);
}

void ps_log_uint(ps_log_t *l, const char *key, uint64_t value)
{
	char text[24];
	snprintf(text, sizeof(text), "%llu", (unsigned long long)value);
	log_number(l, key, text);
}

void ps_log_bool(ps_log_t *l, const char *key, bool value)
{
	log_number(l, key, value ? "true" : "false");
}

void ps_log_pan(ps_log_t *l, const char *key, const char *pan, size_t len)
{
	char masked[64];
	if (len >= sizeof(masked))
		len = sizeof(masked) - 1;
	ps_mask_pan(pan, len, masked);
	ps_log_strn(l, key, masked, len);
}

void ps_log_end(ps_log_t *l)
{
	if (!l->active)
		return;
	if (l->truncated) {
		/* LOG_RESERVE guarantees room for this marker and the end. */
		static const char mark[] = ",\"truncated\":true";
		memcpy(l->line + l->len, mark, sizeof(mark) - 1);
		l->len += sizeof(mark) - 1;
	}
	l->line[l->len++] = '}';
	l->line[l->len++] = '\n';
	size_t off = 0;
	while (off < l->len) {
		ssize_t n = write(log_fd, l->line + off, l->len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break; /* a lost log line must not stop the switch */
		off += (size_t)n;
	}
	l->active = false;
}

void ps_logf(enum ps_log_level level, const char *event, const char *fmt, ...)
{
	if (!ps_log_enabled(level))
		return;
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ps_log_t *l = ps_log_begin(level, event);
	ps_log_str(l, "msg", msg);
	ps_log_end(l);
}
