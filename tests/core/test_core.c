/* test_core.c: buffers, pools, text helpers and log lines of core/. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <fcntl.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core.h"

static void test_buf_bounds(void **state)
{
	(void)state;
	uint8_t storage[8];
	ps_buf_t buf;
	ps_buf_init(&buf, storage, sizeof(storage));
	assert_int_equal(ps_buf_append(&buf, "abcd", 4), 0);
	assert_int_equal(ps_buf_append(&buf, "efghi", 5), PS_ENOSPC);
	assert_int_equal(buf.len, 4);
	assert_int_equal(ps_buf_printf(&buf, "%d", 1234), PS_ENOSPC);
	assert_int_equal(ps_buf_printf(&buf, "%d", 123), 0);
	assert_memory_equal(buf.data, "abcd123", 7);
	ps_buf_consume(&buf, 2);
	assert_int_equal(buf.len, 5);
	assert_memory_equal(buf.data, "cd123", 5);
}

static void test_pool_exhaustion_and_reuse(void **state)
{
	(void)state;
	ps_pool_t pool;
	assert_int_equal(ps_pool_init(&pool, 24, 3), 0);
	void *a = ps_pool_get(&pool);
	void *b = ps_pool_get(&pool);
	void *c = ps_pool_get(&pool);
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(c);
	assert_null(ps_pool_get(&pool));
	assert_int_equal(pool.used, 3);
	memset(b, 0xAB, 24);
	ps_pool_put(&pool, b);
	uint8_t *again = ps_pool_get(&pool);
	assert_ptr_equal(again, b);
	assert_int_equal(again[0], 0); /* handed out zeroed */
	assert_int_equal(ps_pool_index(&pool, c), 2);
	assert_ptr_equal(ps_pool_at(&pool, 2), c);
	ps_pool_free(&pool);
}

static void test_decimal(void **state)
{
	(void)state;
	uint64_t v = 0;
	assert_int_equal(ps_parse_u64("000000012850", 12, &v), 0);
	assert_int_equal(v, 12850);
	assert_int_equal(ps_parse_u64("12a", 3, &v), PS_EINVAL);
	assert_int_equal(ps_parse_u64("", 0, &v), PS_EINVAL);
	assert_int_equal(ps_parse_u64("1234567890123456789", 19, &v), PS_ELIMIT);
	char out[7] = {0};
	assert_int_equal(ps_format_u64(out, 6, 42), 0);
	assert_string_equal(out, "000042");
	assert_int_equal(ps_format_u64(out, 2, 420), PS_ELIMIT);
	assert_true(ps_is_digits("0123", 4));
	assert_false(ps_is_digits("01 3", 4));
	assert_false(ps_is_digits("", 0));
}

static void test_hex(void **state)
{
	(void)state;
	uint8_t bytes[4] = {0xCA, 0xFE, 0x00, 0x7f};
	char text[9];
	ps_hex_encode(bytes, 4, text);
	assert_string_equal(text, "CAFE007F");
	uint8_t back[4];
	assert_int_equal(ps_hex_decode("cafe007F", 8, back, 4), 0);
	assert_memory_equal(back, bytes, 4);
	assert_int_equal(ps_hex_decode("abc", 3, back, 4), PS_EINVAL);
	assert_int_equal(ps_hex_decode("zz", 2, back, 4), PS_EINVAL);
	assert_int_equal(ps_hex_decode("0011223344", 10, back, 4), PS_ENOSPC);
}

static void test_json_escape_byte(void **state)
{
	(void)state;
	char out[6];
	assert_int_equal(ps_json_escape_byte('a', out), 1);
	assert_memory_equal(out, "a", 1);
	assert_int_equal(ps_json_escape_byte('"', out), 2);
	assert_memory_equal(out, "\\\"", 2);
	assert_int_equal(ps_json_escape_byte('\\', out), 2);
	assert_memory_equal(out, "\\\\", 2);
	assert_int_equal(ps_json_escape_byte('\n', out), 6);
	assert_memory_equal(out, "\\u000a", 6);
	assert_int_equal(ps_json_escape_byte(0x7f, out), 6);
	assert_memory_equal(out, "\\u007f", 6);
	assert_int_equal(ps_json_escape_byte(0xE4, out), 1); /* UTF-8 passes */
}

static void test_mask_pan(void **state)
{
	(void)state;
	char out[32];
	ps_mask_pan("6222020000000001", 16, out);
	assert_string_equal(out, "622202******0001");
	ps_mask_pan("1234567890123456789", 19, out);
	assert_string_equal(out, "123456*********6789");
	ps_mask_pan("12345678", 8, out);
	assert_string_equal(out, "****5678");
	ps_mask_pan("12", 2, out);
	assert_string_equal(out, "12");
}

/* Reads one line the logger wrote to a pipe and parses it as JSON. */
static json_t *capture_line(int fd)
{
	static char line[PS_LOG_LINE_MAX + 1];
	size_t n = 0;
	while (n < sizeof(line) - 1) {
		assert_int_equal(read(fd, line + n, 1), 1);
		if (line[n++] == '\n')
			break;
	}
	line[n] = '\0';
	assert_int_equal(line[n - 1], '\n');
	json_error_t err;
	json_t *obj = json_loads(line, 0, &err);
	assert_non_null(obj);
	return obj;
}

static void test_log_line_is_json_and_masks(void **state)
{
	(void)state;
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	ps_log_setup("test", PS_LOG_INFO, fds[1]);

	ps_log_t *l = ps_log_begin(PS_LOG_INFO, "payment");
	ps_log_pan(l, "pan", "6222020000000001", 16);
	ps_log_str(l, "note", "quote\" back\\ nl\n");
	ps_log_int(l, "amount", -12850);
	ps_log_end(l);
	json_t *obj = capture_line(fds[0]);
	assert_string_equal(json_string_value(json_object_get(obj, "event")), "payment");
	assert_string_equal(json_string_value(json_object_get(obj, "pan")), "622202******0001");
	assert_string_equal(json_string_value(json_object_get(obj, "note")), "quote\" back\\ nl\n");
	assert_int_equal(json_integer_value(json_object_get(obj, "amount")), -12850);
	json_decref(obj);

	/* Below the minimum level nothing is written. */
	ps_log_t *d = ps_log_begin(PS_LOG_DEBUG, "noise");
	ps_log_str(d, "k", "v");
	ps_log_end(d);

	/* An oversized value is dropped whole and the line says so. */
	static char big[PS_LOG_LINE_MAX * 2];
	memset(big, 'x', sizeof(big) - 1);
	l = ps_log_begin(PS_LOG_WARN, "big");
	ps_log_str(l, "first", "kept");
	ps_log_str(l, "huge", big);
	ps_log_end(l);
	obj = capture_line(fds[0]);
	assert_string_equal(json_string_value(json_object_get(obj, "event")), "big");
	assert_string_equal(json_string_value(json_object_get(obj, "first")), "kept");
	assert_null(json_object_get(obj, "huge"));
	assert_true(json_is_true(json_object_get(obj, "truncated")));
	json_decref(obj);
	/* A line begun while another is open is written whole, first. */
	ps_log_t *outer = ps_log_begin(PS_LOG_INFO, "outer");
	ps_log_str(outer, "a", "1");
	ps_log_t *inner = ps_log_begin(PS_LOG_INFO, "inner");
	ps_log_str(inner, "b", "2");
	ps_log_end(inner);
	ps_log_end(outer);
	obj = capture_line(fds[0]);
	assert_string_equal(json_string_value(json_object_get(obj, "event")), "inner");
	json_decref(obj);
	obj = capture_line(fds[0]);
	assert_string_equal(json_string_value(json_object_get(obj, "event")), "outer");
	assert_string_equal(json_string_value(json_object_get(obj, "a")), "1");
	json_decref(obj);
	close(fds[0]);
	close(fds[1]);
	ps_log_setup("test", PS_LOG_INFO, 2);
}

/* Reads every whole line the pipe holds now (non-blocking). */
static int drain_lines(int fd, char *events, size_t cap)
{
	static char buf[1 << 20];
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	snprintf(events, cap, "%s", buf);
	int lines = 0;
	for (ssize_t i = 0; i < n; i++)
		lines += buf[i] == '\n';
	return lines;
}

static void test_log_rate_limit(void **state)
{
	(void)state;
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	fcntl(fds[0], F_SETFL, O_NONBLOCK);
	fcntl(fds[1], F_SETFL, O_NONBLOCK);
	ps_log_setup("test", PS_LOG_DEBUG, fds[1]);
	/* Wait for the start of a second, so the burst is one window. */
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	time_t start = ts.tv_sec;
	do {
		clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	} while (ts.tv_sec == start);
	for (int i = 0; i < 1000; i++)
		ps_logf(PS_LOG_ERROR, "noisy", "line %d", i);
	for (int i = 0; i < 50; i++) /* debug lines are never limited */
		ps_logf(PS_LOG_DEBUG, "chatty", "line %d", i);
	for (int i = 0; i < 30; i++)
		ps_logf(PS_LOG_WARN, "once_noisy", "line %d", i);
	static char text[1 << 20];
	assert_int_equal(drain_lines(fds[0], text, sizeof(text)),
			 2 * PS_LOG_EVENT_BURST + 50);
	/* The next second: the next "noisy" line says what was left out ... */
	do {
		clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	} while (ts.tv_sec <= start + 1);
	ps_logf(PS_LOG_ERROR, "noisy", "again");
	assert_int_equal(drain_lines(fds[0], text, sizeof(text)), 1);
	char want[64];
	snprintf(want, sizeof(want), "\"suppressed\":%d", 1000 - PS_LOG_EVENT_BURST);
	assert_non_null(strstr(text, want));
	/* ... and the flush reports "once_noisy", which never came again. */
	ps_log_flush_suppressed();
	assert_int_equal(drain_lines(fds[0], text, sizeof(text)), 1);
	assert_non_null(strstr(text, "\"event\":\"log_suppressed\",\"of\":\"once_noisy\",\"suppressed\":10"));
	ps_log_flush_suppressed(); /* nothing more to say */
	assert_int_equal(drain_lines(fds[0], text, sizeof(text)), 0);
	close(fds[0]);
	close(fds[1]);
	ps_log_setup("test", PS_LOG_INFO, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buf_bounds),
		cmocka_unit_test(test_pool_exhaustion_and_reuse),
		cmocka_unit_test(test_decimal),
		cmocka_unit_test(test_hex),
		cmocka_unit_test(test_json_escape_byte),
		cmocka_unit_test(test_mask_pan),
		cmocka_unit_test(test_log_line_is_json_and_masks),
		cmocka_unit_test(test_log_rate_limit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
