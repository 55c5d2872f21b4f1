/* buf.c: a byte buffer over caller storage that never grows past its bound. */
#include "core.h"

#include <stdio.h>
#include <string.h>

void ps_buf_init(ps_buf_t *buf, void *storage, size_t cap)
{
	buf->data = storage;
	buf->len = 0;
	buf->cap = cap;
}

int ps_buf_append(ps_buf_t *buf, const void *data, size_t len)
{
	if (len > buf->cap - buf->len)
		return PS_ENOSPC;
	if (len > 0)
		memcpy(buf->data + buf->len, data, len);
	buf->len += len;
	return 0;
}

int ps_buf_append_str(ps_buf_t *buf, const char *s)
{
	return ps_buf_append(buf, s, strlen(s));
}

int ps_buf_printf(ps_buf_t *buf, const char *fmt, ...)
{
	size_t room = buf->cap - buf->len;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf((char *)buf->data + buf->len, room, fmt, ap);
	va_end(ap);
	/* vsnprintf needs room for its NUL; a result that filled the buffer
	 * exactly was cut by one byte, so it counts as not fitting. */
	if (n < 0 || (size_t)n >= room)
		return PS_ENOSPC;
	buf->len += (size_t)n;
	return 0;
}

void ps_buf_consume(ps_buf_t *buf, size_t n)
{
	PS_ASSERT(n <= buf->len);
	if (n < buf->len)
		memmove(buf->data, buf->data + n, buf->len - n);
	buf->len -= n;
}
