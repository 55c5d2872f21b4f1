/*
 * script.c: pspsim's script mode. Reads requests as JSON lines (pay,
 * refund, query, echo, hello; blank lines and lines starting with '#' are
 * skipped), keeps up to --concurrency of them in flight on one
 * connection, matches the answers by "id" (they may come in any order)
 * and prints each request with its answer; with --json, the answers as
 * they came, one JSON line each.
 *
 * Before the first line it signs on with a hello of its own (its answer
 * is not printed) unless the script's first request is itself a hello,
 * or --no-hello. A script is a handful of lines typed by someone: this
 * mode reads and writes blocking and keeps each line (strdup), which the
 * load mode never does.
 */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "adapters.h"
#include "core.h"
#include "pspsim.h"

#define SCRIPT_INFLIGHT_MAX 4096
#define SCRIPT_LINES_MAX 100000
#define HELLO_ID "hello" /* a hello's answer carries no id */

typedef struct pending {
	char id[65];
	char *line;
	uint64_t sent_ms;
	bool used;
	bool own_hello; /* pspsim's sign-on: checked, not printed */
} pending_t;

typedef struct psp_script {
	int fd;
	bool json;
	uint32_t timeout_ms;
	uint32_t concurrency;
	pending_t slot[SCRIPT_INFLIGHT_MAX];
	uint32_t inflight;
	char rbuf[TXN_JSON_LINE_MAX * 2];
	size_t rlen;
	int unanswered;
	bool hello_refused;
} psp_script_t;

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

static void print_answer(psp_script_t *p, pending_t *req, const char *answer_line)
{
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

/* Our own hello's answer: ok, or the reason it was refused. */
static void check_hello(psp_script_t *p, const char *answer_line)
{
	json_t *a = json_loads(answer_line, 0, NULL);
	if (strcmp(member(a, "status"), "ok") != 0) {
		fprintf(stderr, "pspsim: hello refused: %s %s\n", member(a, "code"),
			member(a, "reason"));
		p->hello_refused = true;
	}
	json_decref(a);
}

static void release(psp_script_t *p, pending_t *req)
{
	free(req->line);
	req->line = NULL;
	req->used = false;
	p->inflight--;
}

static pending_t *find(psp_script_t *p, const char *id)
{
	for (int i = 0; i < SCRIPT_INFLIGHT_MAX; i++)
		if (p->slot[i].used && strcmp(p->slot[i].id, id) == 0)
			return &p->slot[i];
	return NULL;
}

static void one_answer(psp_script_t *p, const char *line)
{
	json_t *a = json_loads(line, 0, NULL);
	const char *id = a ? json_string_value(json_object_get(a, "id")) : NULL;
	if (id == NULL && a && json_object_get(a, "op"))
		id = HELLO_ID;
	pending_t *req = id ? find(p, id) : NULL;
	if (req == NULL && p->inflight == 1) /* an id-less error answer */
		for (int i = 0; i < SCRIPT_INFLIGHT_MAX && !req; i++)
			if (p->slot[i].used)
				req = &p->slot[i];
	if (req != NULL && req->own_hello)
		check_hello(p, line);
	else
		print_answer(p, req, line);
	if (req != NULL)
		release(p, req);
	json_decref(a);
}

/* Reads answers until one arrives (or wait_ms); false if closed. */
static bool read_answers(psp_script_t *p, int wait_ms)
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
		one_answer(p, p->rbuf);
		size_t used = (size_t)(nl - p->rbuf) + 1;
		memmove(p->rbuf, nl + 1, p->rlen - used);
		p->rlen -= used;
	}
	return true;
}

static void expire(psp_script_t *p)
{
	uint64_t now = ps_mono_ms();
	for (int i = 0; i < SCRIPT_INFLIGHT_MAX; i++) {
		pending_t *r = &p->slot[i];
		if (r->used && now - r->sent_ms > p->timeout_ms) {
			fprintf(stderr, "pspsim: no answer to %s within %u ms\n", r->id,
				p->timeout_ms);
			if (r->own_hello)
				p->hello_refused = true;
			release(p, r);
			p->unanswered++;
		}
	}
}

/* The id a line's answer will carry: its "id", or HELLO_ID for a hello. */
static void id_of(const char *line, char *id, size_t cap, bool *is_hello)
{
	json_t *r = json_loads(line, 0, NULL);
	const char *s = r ? json_string_value(json_object_get(r, "id")) : NULL;
	*is_hello = r != NULL && strcmp(member(r, "op"), "hello") == 0;
	ps_strlcpy(id, s ? s : (r && json_object_get(r, "participant") ? HELLO_ID : ""),
		   cap);
	json_decref(r);
}

static int send_request(psp_script_t *p, const char *line, bool own_hello)
{
	int slot = -1;
	for (int i = 0; i < SCRIPT_INFLIGHT_MAX && slot < 0; i++)
		if (!p->slot[i].used)
			slot = i;
	PS_ASSERT(slot >= 0); /* concurrency <= SCRIPT_INFLIGHT_MAX */
	pending_t *req = &p->slot[slot];
	bool is_hello;
	id_of(line, req->id, sizeof(req->id), &is_hello);
	req->line = strdup(line);
	if (req->line == NULL)
		return PS_ENOMEM;
	req->sent_ms = ps_mono_ms();
	req->used = true;
	req->own_hello = own_hello;
	p->inflight++;
	size_t len = strlen(line);
	if (write(p->fd, line, len) != (ssize_t)len || write(p->fd, "\n", 1) != 1)
		return PS_EIO;
	return 0;
}

/* Waits until at most `most` requests are in flight; false if closed. */
static bool wait_inflight(psp_script_t *p, uint32_t most)
{
	while (p->inflight > most) {
		if (!read_answers(p, 50))
			return false;
		expire(p);
	}
	return true;
}

/* Our hello, answered, before the script's first request. */
static int sign_on(psp_script_t *p, const char *participant)
{
	char hello[160];
	snprintf(hello, sizeof(hello), "{\"op\":\"hello\",\"participant\":\"%s\"}",
		 participant);
	if (send_request(p, hello, true) != 0 || !wait_inflight(p, 0))
		return PSP_EXIT_LINK;
	return p->hello_refused ? PSP_EXIT_LINK : 0;
}

static bool first_is_hello(const char *line)
{
	char id[65];
	bool is_hello;
	id_of(line, id, sizeof(id), &is_hello);
	return is_hello;
}

int psp_script_run(const psp_cfg_t *cfg)
{
	static psp_script_t p;
	memset(&p, 0, sizeof(p));
	p.json = cfg->json;
	p.timeout_ms = cfg->timeout_ms;
	p.concurrency = cfg->concurrency;
	FILE *in = strcmp(cfg->script, "-") == 0 ? stdin : fopen(cfg->script, "r");
	if (in == NULL) {
		fprintf(stderr, "pspsim: %s: %s\n", cfg->script, strerror(errno));
		return PSP_EXIT_USAGE;
	}
	if (ps_tcp_connect(cfg->connect, &p.fd) != 0) {
		fprintf(stderr, "pspsim: cannot connect to %s\n", cfg->connect);
		return PSP_EXIT_LINK;
	}
	static char line[TXN_JSON_LINE_MAX];
	int lines = 0, rc = 0;
	while (fgets(line, sizeof(line), in) != NULL && lines < SCRIPT_LINES_MAX) {
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '\0' || line[0] == '#')
			continue;
		if (lines == 0 && !cfg->no_hello && !first_is_hello(line) &&
		    (rc = sign_on(&p, cfg->participant)) != 0)
			goto out;
		if (!wait_inflight(&p, p.concurrency - 1) ||
		    send_request(&p, line, false) != 0)
			goto closed;
		lines++;
	}
	if (!wait_inflight(&p, 0))
		goto closed;
	rc = p.unanswered > 0 ? PSP_EXIT_UNANSWERED : PSP_EXIT_OK;
	goto out;
closed:
	fprintf(stderr, "pspsim: the switch closed the connection with %u requests unanswered\n",
		p.inflight);
	rc = PSP_EXIT_LINK;
out:
	close(p.fd);
	if (in != stdin)
		fclose(in);
	return rc;
}
