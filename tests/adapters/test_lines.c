/* test_lines.c: JSON lines framing under any chunking. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "adapters.h"

/* Feeds text through a splitter in chunks of the given sizes (cycled). */
static int split(const char *text, const size_t *chunks, size_t nchunks,
		 char lines[][64], size_t cap)
{
	static char storage[128];
	txn_lines_t sp;
	txn_lines_init(&sp, storage, sizeof(storage));
	size_t off = 0, len = strlen(text), count = 0, c = 0;
	while (off < len) {
		char *dst;
		size_t room;
		txn_lines_space(&sp, &dst, &room);
		size_t n = chunks[c++ % nchunks];
		if (n > room)
			n = room;
		if (n > len - off)
			n = len - off;
		memcpy(dst, text + off, n);
		off += n;
		txn_lines_commit(&sp, n);
		const char *line;
		size_t ll;
		int rc;
		while ((rc = txn_lines_next(&sp, &line, &ll)) == 1) {
			assert_true(count < cap);
			memcpy(lines[count], line, ll);
			lines[count][ll] = '\0';
			count++;
		}
		if (rc < 0)
			return rc;
	}
	return (int)count;
}

static void test_any_chunking(void **state)
{
	(void)state;
	const char *text = "{\"a\":1}\n\n{\"b\":2}\r\n{\"c\":3}\n";
	size_t sizes[][3] = {{1, 1, 1}, {2, 3, 5}, {100, 100, 100}, {7, 1, 13}};
	for (size_t i = 0; i < 4; i++) {
		char lines[8][64];
		assert_int_equal(split(text, sizes[i], 3, lines, 8), 3);
		assert_string_equal(lines[0], "{\"a\":1}");
		assert_string_equal(lines[1], "{\"b\":2}"); /* CR stripped */
		assert_string_equal(lines[2], "{\"c\":3}");
	}
}

static void test_partial_line_waits(void **state)
{
	(void)state;
	char lines[4][64];
	size_t one[] = {1};
	assert_int_equal(split("{\"x\":1}", one, 1, lines, 4), 0);
}

static void test_line_over_bound_fails(void **state)
{
	(void)state;
	char text[300];
	memset(text, 'x', sizeof(text) - 2);
	text[sizeof(text) - 2] = '\n';
	text[sizeof(text) - 1] = '\0';
	char lines[4][64];
	size_t big[] = {50};
	assert_int_equal(split(text, big, 1, lines, 4), TXN_EFORMAT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_any_chunking),
		cmocka_unit_test(test_partial_line_waits),
		cmocka_unit_test(test_line_over_bound_fails),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
