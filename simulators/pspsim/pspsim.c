/*
 * pspsim.c: a payment front end (PSP) talking to switchd's JSON channel.
 *
 *   pspsim --connect HOST:PORT [--script FILE|-] [--concurrency N]
 *          [--timeout-ms MS] [--json]
 *
 * Reads requests as JSON lines (pay, refund, query, echo, hello; blank
 * lines and lines starting with '#' are skipped), keeps up to N of them in
 * flight on one connection, matches the answers by "id" (they may come in
 * any order) and prints each request with its answer. With --json it
 * prints the answers as they came, one JSON line each.
 *
 * Exit codes: 0 every request answered, 2 usage, 3 some request got no
 * answer within --timeout-ms, 4 cannot connect or the switch closed.
 */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "adapters.h"
#include "core.h"

#define INFLIGHT_MAX 4096
#define SCRIPT_LINES_MAX 100000

typedef struct pending {
	char id[65];
	char *line;
	uint64_t sent_ms;
	bool used;
} pending_t;

typedef struct psp {
	int fd;
	bool json;
	int timeout_ms;
	int concurrency;
	pending_t slot[INFLIGHT_MAX];
	int inflight;
	char rbuf[TXN_JSON_LINE_MAX * 2];
	size_t rlen;
	int answered, unanswered;
} psp_t;

static void usage(FILE *out)
{
	fputs("usage: pspsim --connect HOST:PORT [--script FILE|-] [--concurrency N]\n"
	      "              [--timeout-ms MS] [--json]\n"
	      "\n"
	      "Sends the script's JSON request lines to switchd's PSP listener and\n"
	      "prints each answer. docs/protocol.md describes the messages.\n",
	      out);
}

static const char *member(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

/* "pay 128.50 CNY 6222020000000001 -> 6217000000000009" for people. */
static void describe(const char *line, char *out, size_t cap)
{
	json_t *r = json_loads(line, 0, NULL);
	if (r == NULL) {
		snprintf(out, cap, "%.60s", line);
		return;
	}
	const char *op = member(r, "op");
	json_t *a = json_object_get(r, "amount");
	char money[48];
	if (json_is_integer(a))
		snprintf(money, sizeof(money), "%lld.%02lld", (long long)(json_integer_value(a) / 100),
			 (long long)(json_integer_value(a) % 100));
	else /* shown as sent: the switch will say what is wrong with it */
		snprintf(money, sizeof(money), "amount %g", json_number_value(a));
	if (strcmp(op, "pay") == 0)
		snprintf(out, cap, "pay %s %s %s -> %s", money, member(r, "currency"),
			 member(json_object_get(r, "payer"), "account"),
			 member(json_object_get(r, "payee"), "account"));
	else if (strcmp(op, "refund") == 0)
		snprintf(out, cap, "refund %s of %s", money, member(r, "original"));
	else if (strcmp(op, "query") == 0)
		snprintf(out, cap, "query %s", member(r, "target"));
	else
		snprintf(out, cap, "%s", op);
	json_decref(r);
}

static void report(psp_t *p, pending_t *req, const char *answer_line)
{
	p->answered++;
	if (p->json) {
		printf("%s\n", answer_line);
		return;
	}
	char what[160];
	describe(req != NULL ? req->line : "{}", what, sizeof(what));
	json_t *a = json_loads(answer_line, 0, NULL);
	const char *status = member(a, "status");
	const char *code = member(a, "code");
	const char *reason = member(a, "reason");
	const char *state = member(a, "state");
	json_t *inner = json_object_get(a, "answer");
	char txn[32] = "";
	if (member(a, "txn")[0] != '\0')
		snprintf(txn, sizeof(txn), "txn %s", member(a, "txn"));
	printf("%-12s %-52s %-9s %-3s %-12s %s%s%s%s\n", req ? req->id : member(a, "id"), what,
	       status, code, txn, reason, state[0] ? state : "",
	       inner ? " -> " : "", inner ? member(inner, "status") : "");
	json_decref(a);
}

static pending_t *find(psp_t *p, const char *id)
{
	for (int i = 0; i < INFLIGHT_MAX; i++)
		if (p->slot[i].used && strcmp(p->slot[i].id, id) == 0)
			return &p->slot[i];
	return NULL;
}

/* Reads answers until one arrives (or the deadline); false if closed. */
static bool read_answers(psp_t *p, int wait_ms)
{
	struct pollfd pfd = {p->fd, POLLIN, 0};
	if (poll(&pfd, 1, wait_ms) <= 0)
		return true;
	ssize_t n = read(p->fd, p->rbuf + p->rlen, sizeof(p->rbuf) - p->rlen);
	if (n <= 0)
		return false;
	p->rlen += (size_t)n;
	char *nl;
	while ((nl = memchr(p->rbuf, '\n', p->rlen)) != NULL) {
		*nl = '\0';
		json_t *a = json_loads(p->rbuf, 0, NULL);
		const char *id = a ? json_string_value(json_object_get(a, "id")) : NULL;
		if (id == NULL && a && json_object_get(a, "op"))
			id = "hello";
		pending_t *req = id ? find(p, id) : NULL;
		if (req == NULL && p->inflight == 1) /* an id-less error answer */
			for (int i = 0; i < INFLIGHT_MAX && !req; i++)
				if (p->slot[i].used)
					req = &p->slot[i];
		report(p, req, p->rbuf);
		if (req != NULL) {
			free(req->line);
			req->used = false;
			p->inflight--;
		}
		json_decref(a);
		size_t used = (size_t)(nl - p->rbuf) + 1;
		memmove(p->rbuf, nl + 1, p->rlen - used);
		p->rlen -= used;
	}
	return true;
}

static int expire(psp_t *p)
{
	uint64_t now = ps_mono_ms();
	for (int i = 0; i < INFLIGHT_MAX; i++) {
		pending_t *r = &p->slot[i];
		if (r->used && now - r->sent_ms > (uint64_t)p->timeout_ms) {
			fprintf(stderr, "pspsim: no answer to %s within %d ms\n", r->id,
				p->timeout_ms);
			free(r->line);
			r->used = false;
			p->inflight--;
			p->unanswered++;
		}
	}
	return 0;
}

static int send_request(psp_t *p, const char *line)
{
	json_t *r = json_loads(line, 0, NULL);
	const char *id = r ? json_string_value(json_object_get(r, "id")) : NULL;
	int slot = -1;
	for (int i = 0; i < INFLIGHT_MAX && slot < 0; i++)
		if (!p->slot[i].used)
			slot = i;
	pending_t *req = &p->slot[slot];
	ps_strlcpy(req->id, id ? id : (r && json_object_get(r, "participant") ? "hello" : ""),
		   sizeof(req->id));
	json_decref(r);
	req->line = strdup(line);
	req->sent_ms = ps_mono_ms();
	req->used = true;
	p->inflight++;
	size_t len = strlen(line);
	if (write(p->fd, line, len) != (ssize_t)len || write(p->fd, "\n", 1) != 1)
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	static psp_t p = {.timeout_ms = 10000, .concurrency = 1};
	const char *connect_addr = NULL, *script = "-";
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--connect") == 0 && i + 1 < argc)
			connect_addr = argv[++i];
		else if (strcmp(argv[i], "--script") == 0 && i + 1 < argc)
			script = argv[++i];
		else if (strcmp(argv[i], "--concurrency") == 0 && i + 1 < argc)
			p.concurrency = atoi(argv[++i]);
		else if (strcmp(argv[i], "--timeout-ms") == 0 && i + 1 < argc)
			p.timeout_ms = atoi(argv[++i]);
		else if (strcmp(argv[i], "--json") == 0)
			p.json = true;
		else if (strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (connect_addr == NULL || p.concurrency < 1 || p.concurrency > INFLIGHT_MAX ||
	    p.timeout_ms < 1) {
		usage(stderr);
		return 2;
	}
	FILE *in = strcmp(script, "-") == 0 ? stdin : fopen(script, "r");
	if (in == NULL) {
		fprintf(stderr, "pspsim: %s: %s\n", script, strerror(errno));
		return 2;
	}
	if (ps_tcp_connect(connect_addr, &p.fd) != 0) {
		fprintf(stderr, "pspsim: cannot connect to %s\n", connect_addr);
		return 4;
	}
	static char line[TXN_JSON_LINE_MAX];
	int lines = 0;
	while (fgets(line, sizeof(line), in) != NULL && lines < SCRIPT_LINES_MAX) {
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '\0' || line[0] == '#')
			continue;
		while (p.inflight >= p.concurrency) {
			if (!read_answers(&p, 50))
				goto closed;
			expire(&p);
		}
		if (send_request(&p, line) != 0)
			goto closed;
		lines++;
	}
	while (p.inflight > 0) {
		if (!read_answers(&p, 50))
			goto closed;
		expire(&p);
	}
	close(p.fd);
	return p.unanswered > 0 ? 3 : 0;
closed:
	fprintf(stderr, "pspsim: the switch closed the connection with %d requests unanswered\n",
		p.inflight);
	return 4;
}
