/*
 * lines.c: newline framing for the JSON (PSP) channel.
 *
 * The connection reads straight into the splitter's storage, so a line is
 * never copied before it is parsed. The scan position is remembered, so a
 * long line arriving a byte at a time is scanned once, not once per byte.
 */
#include "adapters.h"

#include <string.h>

#include "core.h"

void txn_lines_init(txn_lines_t *lines, char *storage, size_t cap)
{
	lines->buf = storage;
	lines->cap = cap;
	lines->start = 0;
	lines->scanned = 0;
	lines->len = 0;
}

void txn_lines_space(txn_lines_t *lines, char **data, size_t *len)
{
	if (lines->start > 0) {
		size_t held = lines->len - lines->start;
		memmove(lines->buf, lines->buf + lines->start, held);
		lines->len = held;
		lines->start = 0;
	}
	*data = lines->buf + lines->len;
	*len = lines->cap - lines->len;
}

void txn_lines_commit(txn_lines_t *lines, size_t n)
{
	PS_ASSERT(n <= lines->cap - lines->len);
	lines->len += n;
}

int txn_lines_next(txn_lines_t *lines, const char **line, size_t *len)
{
	for (;;) {
		char *begin = lines->buf + lines->start;
		size_t held = lines->len - lines->start;
		char *nl = memchr(begin + lines->scanned, '\n',
				  held - lines->scanned);
		if (nl == NULL) {
			lines->scanned = held;
			/* A full buffer with no newline is a line over the
			 * bound: it can never complete. */
			if (lines->start == 0 && lines->len == lines->cap)
				return TXN_EFORMAT;
			return 0;
		}
		size_t n = (size_t)(nl - begin);
		lines->start += n + 1;
		lines->scanned = 0;
		if (n > 0 && begin[n - 1] == '\r')
			n--;
		if (n == 0)
			continue; /* blank lines are keep-alives, not requests */
		*line = begin;
		*len = n;
		return 1;
	}
}
