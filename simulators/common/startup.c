/* startup.c: HOST:PORT, the atomic ready file, and reading a whole file. */
#include "sim.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core.h"

int sim_hostport_parse(const char *text, char *host, size_t cap,
		       uint16_t *port)
{
	const char *colon = strrchr(text, ':');
	if (colon == NULL)
		return PS_EINVAL;
	const char *h = text;
	size_t hlen = (size_t)(colon - text);
	if (hlen >= 2 && h[0] == '[' && h[hlen - 1] == ']') {
		h++;
		hlen -= 2;
	}
	uint64_t p = 0;
	if (hlen == 0 || hlen >= cap ||
	    ps_parse_u64(colon + 1, strlen(colon + 1), &p) != 0 || p > 65535)
		return PS_EINVAL;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	*port = (uint16_t)p;
	return 0;
}

int sim_ready_write(const char *path, const char *text, size_t len)
{
	char tmp[4096];
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
		return PS_EIO;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return PS_EIO;
	bool ok = write(fd, text, len) == (ssize_t)len;
	ok = close(fd) == 0 && ok;
	/* rename() makes the file appear whole: a reader never sees half. */
	if (!ok || rename(tmp, path) != 0) {
		unlink(tmp);
		return PS_EIO;
	}
	return 0;
}

int sim_file_read(const char *path, size_t max_bytes, char **out, size_t *len)
{
	*out = NULL;
	*len = 0;
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return PS_EIO;
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return PS_EIO;
	}
	if ((uint64_t)st.st_size > max_bytes) {
		close(fd);
		return PS_ELIMIT;
	}
	size_t size = (size_t)st.st_size;
	char *buf = malloc(size + 1);
	if (buf == NULL) {
		close(fd);
		return PS_ENOMEM;
	}
	size_t got = 0;
	while (got < size) {
		ssize_t n = read(fd, buf + got, size - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (got != size) {
		free(buf);
		return PS_EIO;
	}
	buf[size] = '\0';
	*out = buf;
	*len = size;
	return 0;
}
