/*
 * free_ports.c: docs-free-ports N prints N distinct free TCP ports on
 * 127.0.0.1, one a line, for run_examples.sh to put in place of the fixed
 * ports the documentation's examples use (7100, 7301, ...).
 *
 * The ports have four digits, as the documented ones do, so that a table a
 * tool prints (switchctl endpoints) keeps its column widths and its output
 * can be compared byte for byte. Four-digit ports are below the kernel's
 * ephemeral range, so the port-0 listeners of parallel tests never take one
 * of them. Each port is found free by binding it, and all N stay bound until
 * all are found, so they are distinct; they are closed before exit, leaving
 * the usual short window in which another program could take one.
 *
 * Exit codes: 0 done, 1 not enough free ports found, 2 usage.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { PORTS_MAX = 64, PORT_LOW = 2000, PORT_HIGH = 9999, TRIES_MAX = 4000 };

/* Binds 127.0.0.1:port; returns the socket, or -1 if the port is taken. */
static int try_bind(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int main(int argc, char **argv)
{
	int n = argc == 2 ? atoi(argv[1]) : 0;
	if (n < 1 || n > PORTS_MAX) {
		fprintf(stderr, "usage: docs-free-ports N (1 to %d)\n", PORTS_MAX);
		return 2;
	}
	int fds[PORTS_MAX], ports[PORTS_MAX], found = 0;
	/* A different start per run, so that parallel runs rarely probe the
	 * same ports in the same order. */
	srand((unsigned)time(NULL) ^ (unsigned)getpid() << 8);
	for (int tries = 0; found < n && tries < TRIES_MAX; tries++) {
		int port = PORT_LOW + rand() % (PORT_HIGH - PORT_LOW + 1);
		int fd = try_bind(port);
		if (fd >= 0) {
			fds[found] = fd;
			ports[found++] = port;
		}
	}
	for (int i = 0; i < found; i++)
		close(fds[i]);
	if (found < n) {
		fprintf(stderr, "docs-free-ports: found %d free ports of %d\n", found, n);
		return 1;
	}
	for (int i = 0; i < n; i++)
		printf("%d\n", ports[i]);
	return 0;
}
