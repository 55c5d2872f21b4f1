/*
 * core.h: the base every payswitch module stands on.
 *
 * Errors, assertions, clocks, bounded buffers, fixed-size object pools,
 * structured JSON logging, and the small text helpers (decimal, hex, PAN
 * masking) that the codecs, the stores and the servers share.
 *
 * Conventions (they hold for every module):
 *  - A function that does something returns int: 0 on success or a
 *    negative error code. Results travel through out parameters.
 *  - A predicate returns bool and reads as a question.
 *  - Programmer errors are asserted (PS_ASSERT stays on in production);
 *    operating errors (bad input, peer down, disk full) are returned.
 *  - Money is int64_t minor units (fen for CNY) with an explicit currency.
 *
 * Nothing here allocates after start-up except ps_pool_init().
 */
#ifndef PAYSWITCH_CORE_H
#define PAYSWITCH_CORE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- errors ---------------------------------------------------------- */

/*
 * Error codes shared by modules that have no richer error of their own.
 * They are negative so that "rc < 0" reads as failure everywhere. Modules
 * with codes of their own keep them in their own range, so a code never
 * means two things: core -1..-99, iso8583 -1xx, routing -2xx, ledger -3xx,
 * adapters -4xx.
 */
enum ps_err {
	PS_OK = 0,
	PS_EINVAL = -1,     /* an argument or an input is invalid */
	PS_ENOMEM = -2,     /* an allocation at start-up failed */
	PS_ENOSPC = -3,     /* an output buffer is too small */
	PS_ELIMIT = -4,     /* a configured bound was reached */
	PS_ENOTFOUND = -5,  /* no such record */
	PS_EEXIST = -6,     /* the record already exists */
	PS_EIO = -7,        /* a read, write, or storage call failed */
	PS_ETIMEDOUT = -8,  /* a deadline passed */
	PS_ECLOSED = -9,    /* the peer or the object is closed */
	PS_EFORMAT = -10,   /* malformed input: see the module's detail */
	PS_ESTATE = -11,    /* the call is not valid in the current state */
};

/* The message for a PS_E* code; never NULL. */
const char *ps_strerror(int code);

/* ---- assertions ------------------------------------------------------ */

/*
 * PS_ASSERT checks programmer errors and stays on in release builds: a
 * money system that continues past a broken invariant does more harm than
 * one that stops. Never use it for input from the network or the disk.
 */
#define PS_ASSERT(expr)                                                        \
	do {                                                                   \
		if (!(expr))                                                   \
			ps_assert_fail(#expr, __FILE__, __LINE__, __func__);   \
	} while (0)

_Noreturn void ps_assert_fail(const char *expr, const char *file, int line,
			      const char *func);

#define PS_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define PS_MIN(a, b) ((a) < (b) ? (a) : (b))
#define PS_MAX(a, b) ((a) > (b) ? (a) : (b))

/* ---- big-endian integers --------------------------------------------- */

/*
 * Loads and stores of unsigned integers in big-endian byte order at any
 * alignment: the order of LMDB keys that must sort as numbers, of ISO 8583
 * bitmaps and binary length headers, and of the switch's stored records.
 */
static inline void ps_be16_put(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline uint16_t ps_be16_get(const uint8_t *p)
{
	return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static inline void ps_be32_put(uint8_t *p, uint32_t v)
{
	v = __builtin_bswap32(v);
	__builtin_memcpy(p, &v, 4);
}

static inline uint32_t ps_be32_get(const uint8_t *p)
{
	uint32_t v;
	__builtin_memcpy(&v, p, 4);
	return __builtin_bswap32(v);
}

static inline void ps_be64_put(uint8_t *p, uint64_t v)
{
	v = __builtin_bswap64(v);
	__builtin_memcpy(p, &v, 8);
}

static inline uint64_t ps_be64_get(const uint8_t *p)
{
	uint64_t v;
	__builtin_memcpy(&v, p, 8);
	return __builtin_bswap64(v);
}

/* ---- a small seeded generator ----------------------------------------- */

/*
 * xorshift64*: a seed replays a run exactly (tests, fuzz replays, benches);
 * not for anything secret. The state must not be zero.
 */
static inline uint64_t ps_xorshift64s(uint64_t *state)
{
	uint64_t x = *state;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 2685821657736338717ull;
}

/* ---- clocks ---------------------------------------------------------- */

/* Monotonic milliseconds, for deadlines and latencies. */
uint64_t ps_mono_ms(void);
/* Monotonic nanoseconds, for benchmarks and latency histograms. */
uint64_t ps_mono_ns(void);
/* Wall clock milliseconds since the Unix epoch, for records and logs. */
uint64_t ps_wall_ms(void);

/* ---- bounded byte buffer -------------------------------------------- */

/*
 * A byte buffer over caller-owned storage. Appends never grow it: an append
 * that does not fit returns PS_ENOSPC and leaves the buffer unchanged, so a
 * caller can size its storage from a configured bound and rely on it.
 */
typedef struct ps_buf {
	uint8_t *data;
	size_t len;
	size_t cap;
} ps_buf_t;

void ps_buf_init(ps_buf_t *buf, void *storage, size_t cap);
int ps_buf_append(ps_buf_t *buf, const void *data, size_t len);
int ps_buf_append_str(ps_buf_t *buf, const char *s);
/* printf-style append; PS_ENOSPC if the result would not fit. */
int ps_buf_printf(ps_buf_t *buf, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Drop the first n bytes (n <= len), moving the rest to the front. */
void ps_buf_consume(ps_buf_t *buf, size_t n);

/* ---- fixed-size object pool ----------------------------------------- */

/*
 * A pool of count objects of size bytes each, allocated once by
 * ps_pool_init(). ps_pool_get() returns zeroed memory or NULL when the pool
 * is exhausted; exhaustion is an operating condition (a bound reached) that
 * the caller answers, never a reason to allocate more.
 */
typedef struct ps_pool {
	uint8_t *slab;
	size_t size;      /* bytes per object, rounded up for alignment */
	uint32_t count;   /* objects in the slab */
	uint32_t used;    /* objects handed out */
	uint32_t *free;   /* stack of free indexes */
	uint32_t free_top;
} ps_pool_t;

int ps_pool_init(ps_pool_t *pool, size_t size, uint32_t count);
void ps_pool_free(ps_pool_t *pool);
void *ps_pool_get(ps_pool_t *pool);
void ps_pool_put(ps_pool_t *pool, void *obj);
/* Index of obj in the pool, 0 <= index < count. */
uint32_t ps_pool_index(const ps_pool_t *pool, const void *obj);
void *ps_pool_at(const ps_pool_t *pool, uint32_t index);

/* ---- text helpers ---------------------------------------------------- */

/* True when all len bytes are ASCII digits (an empty span is not). */
bool ps_is_digits(const char *s, size_t len);

/*
 * Parses len decimal digits (no sign, no spaces) into *out. Fails with
 * PS_EINVAL on a non-digit or an empty span, PS_ELIMIT past 18 digits so
 * that any accepted value fits int64_t.
 */
int ps_parse_u64(const char *s, size_t len, uint64_t *out);

/*
 * Writes value as exactly width decimal digits, zero-padded on the left.
 * Returns PS_ELIMIT when the value needs more than width digits.
 */
int ps_format_u64(char *out, size_t width, uint64_t value);

/* The value of one hex digit (either case), or -1. */
int ps_hex_digit(char c);

/*
 * One byte of a JSON string as RFC 8259 wants it: '"' and '\\' escaped,
 * control bytes and DEL as \u00XX, anything else as itself. Writes 1, 2
 * or 6 chars into out (no NUL) and returns how many.
 */
size_t ps_json_escape_byte(unsigned char c, char out[6]);

/* Upper-case hex of len bytes into out (2*len chars, NUL added). */
void ps_hex_encode(const uint8_t *in, size_t len, char *out);
/*
 * Decodes hex text (either case) of len chars into out; len must be even
 * and len/2 <= out_cap. Returns PS_EINVAL on an odd length or a non-hex
 * character, PS_ENOSPC when out is too small.
 */
int ps_hex_decode(const char *in, size_t len, uint8_t *out, size_t out_cap);

/*
 * Masks a PAN or account number for logs: the first 6 and last 4 digits
 * stay, the rest become '*'. Numbers of 10 digits or fewer show only their
 * last 4. out must hold len+1 bytes.
 */
void ps_mask_pan(const char *pan, size_t len, char *out);

/* Copies at most cap-1 bytes of src and terminates; returns bytes copied. */
size_t ps_strlcpy(char *dst, const char *src, size_t cap);

/* ---- files ---------------------------------------------------------- */

/*
 * mkdir -p: creates dir and any missing parent with mode (less umask).
 * PS_EINVAL for an empty or overlong name; PS_EIO when a directory cannot
 * be made or dir exists but is not a directory (errno says why).
 */
int ps_mkdir_p(const char *dir, unsigned mode);

/* ---- client sockets (tools, simulators) ------------------------------ */

/*
 * A blocking connection to address: "host:port" with an IP literal,
 * "[v6]:port", or "unix:/path". For command-line tools and clients, never
 * for the event loops. *fd is the caller's to close. PS_EINVAL for an
 * address that is none of those, PS_EIO when the connect fails (errno
 * says why).
 */
int ps_tcp_connect(const char *address, int *fd);

/* ---- structured logging ---------------------------------------------- */

/*
 * One JSON object per line, written with a single write(2) so lines from
 * one process never interleave. Build a line with ps_log_begin, add keys,
 * and ps_log_end; lines are bounded (PS_LOG_LINE_MAX) and a line that
 * would overflow is cut at a key boundary and marked "truncated":true.
 *
 *   ps_log_t *l = ps_log_begin(PS_LOG_INFO, "conn_open");
 *   ps_log_str(l, "peer", "127.0.0.1:5000");
 *   ps_log_pan(l, "pan", pan, pan_len);    // masked 622202******0001
 *   ps_log_end(l);
 *
 * Every value goes through JSON string escaping; PANs and account numbers
 * must go through ps_log_pan, which masks them. Line buffers are per
 * thread: a line is begun and ended on one thread; up to four may be open
 * at once (a logging caller may call code that logs), deeper ones are
 * dropped and counted ("lines_dropped") in the next line. Each event
 * writes at most PS_LOG_EVENT_BURST lines a second; the rest are counted
 * and reported ("suppressed"), so one noisy peer cannot fill a disk.
 */
enum ps_log_level { PS_LOG_DEBUG = 0, PS_LOG_INFO, PS_LOG_WARN, PS_LOG_ERROR };

#define PS_LOG_LINE_MAX 4096
/* Lines of one event per second, past which they are counted instead
 * (the next one written says "suppressed": N). Not for debug lines. */
#define PS_LOG_EVENT_BURST 20

typedef struct ps_log ps_log_t;

/* Process-wide settings: the component name ("switchd"), the minimum
 * level, and the file descriptor lines go to (default 2). */
void ps_log_setup(const char *component, enum ps_log_level level_min, int fd);
bool ps_log_enabled(enum ps_log_level level);
/* Parses "debug", "info", "warn" or "error"; -1 when unknown. */
int ps_log_level_parse(const char *name);

/* event names what happened ("conn_open"); it must live as long as the
 * process (a string literal): the rate limit keeps it. */
ps_log_t *ps_log_begin(enum ps_log_level level, const char *event);
void ps_log_str(ps_log_t *l, const char *key, const char *value);
void ps_log_strn(ps_log_t *l, const char *key, const char *value, size_t len);
void ps_log_int(ps_log_t *l, const char *key, int64_t value);
void ps_log_uint(ps_log_t *l, const char *key, uint64_t value);
void ps_log_bool(ps_log_t *l, const char *key, bool value);
void ps_log_pan(ps_log_t *l, const char *key, const char *pan, size_t len);
void ps_log_end(ps_log_t *l);

/* Writes a "log_suppressed" line (of, suppressed) for each event whose
 * left-out lines no later line of its own has reported, once their second
 * is over. Cheap when there is nothing to do and at most once a second:
 * an event loop calls it every turn. */
void ps_log_flush_suppressed(void);

/* One-call form for simple lines: a message under "msg". */
void ps_logf(enum ps_log_level level, const char *event, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif /* PAYSWITCH_CORE_H */
