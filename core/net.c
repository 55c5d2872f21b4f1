/* net.c: blocking client connections for the tools and simulators. */
#include "core.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int connect_unix(const char *path, int *fd)
{
	struct sockaddr_un un = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(un.sun_path))
		return PS_EINVAL;
	memcpy(un.sun_path, path, strlen(path) + 1);
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	if (s < 0)
		return PS_EIO;
	if (connect(s, (struct sockaddr *)&un, sizeof(un)) != 0) {
		int saved = errno;
		close(s);
		errno = saved;
		return PS_EIO;
	}
	*fd = s;
	return 0;
}

int ps_tcp_connect(const char *address, int *fd)
{
	if (strncmp(address, "unix:", 5) == 0)
		return connect_unix(address + 5, fd);
	const char *colon = strrchr(address, ':');
	char host[256];
	size_t host_len = colon ? (size_t)(colon - address) : 0;
	if (colon == NULL || host_len == 0 || host_len >= sizeof(host))
		return PS_EINVAL;
	memcpy(host, address, host_len);
	host[host_len] = '\0';
	char *h = host;
	if (h[0] == '[' && host_len > 2 && h[host_len - 1] == ']') {
		h[host_len - 1] = '\0';
		h++;
	}
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV};
	struct addrinfo *res;
	if (getaddrinfo(h, colon + 1, &hints, &res) != 0)
		return PS_EINVAL;
	int s = socket(res->ai_family, SOCK_STREAM, 0);
	int rc = 0;
	if (s < 0 || connect(s, res->ai_addr, res->ai_addrlen) != 0) {
		int saved = errno;
		if (s >= 0)
			close(s);
		errno = saved;
		rc = PS_EIO;
	}
	freeaddrinfo(res);
	if (rc != 0)
		return rc;
	int one = 1;
	setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	*fd = s;
	return 0;
}
