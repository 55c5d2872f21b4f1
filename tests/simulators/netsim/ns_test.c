/* ns_test.c: netsim's process fixture: PBOC, netsim, a member client. */
#include "ns_test.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core.h"

#define ARGS_MAX 64

/* ---- PBOC: a thread that answers settle "posted" ----------------------------------- */

static void serve_one(nt_pboc_t *p, int fd)
{
	char line[16384];
	if (!ts_recv_line(fd, line, sizeof(line), NT_WAIT_MS))
		return;
	json_error_t jerr;
	json_t *req = json_loads(line, 0, &jerr);
	const char *id = json_string_value(json_object_get(req, "id"));
	const char *batch = json_string_value(json_object_get(req, "batch"));
	char answer[512];
	snprintf(answer, sizeof(answer),
		 "{\"id\":\"%s\",\"status\":\"posted\",\"batch\":\"%s\",\"posted_ms\":1}",
		 id ? id : "", batch ? batch : "");
	pthread_mutex_lock(&p->mu);
	if (p->count < 8)
		ps_strlcpy(p->lines[p->count++], line, sizeof(p->lines[0]));
	pthread_mutex_unlock(&p->mu);
	json_decref(req);
	ts_send_line(fd, answer);
}

static void *pboc_main(void *arg)
{
	nt_pboc_t *p = arg;
	for (;;) {
		pthread_mutex_lock(&p->mu);
		bool stop = p->stop;
		pthread_mutex_unlock(&p->mu);
		if (stop)
			return NULL;
		struct pollfd pfd = {.fd = p->listen_fd, .events = POLLIN};
		if (poll(&pfd, 1, 50) <= 0)
			continue;
		int fd = accept(p->listen_fd, NULL, NULL);
		if (fd < 0)
			continue;
		serve_one(p, fd);
		close(fd);
	}
}

static void fake_start(nt_pboc_t *p)
{
	p->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(p->listen_fd >= 0);
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	assert_int_equal(bind(p->listen_fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(p->listen_fd, 16), 0);
	assert_int_equal(getsockname(p->listen_fd, (struct sockaddr *)&a, &len), 0);
	p->port = ntohs(a.sin_port);
	pthread_mutex_init(&p->mu, NULL);
	assert_int_equal(pthread_create(&p->thread, NULL, pboc_main, p), 0);
}

static void real_start(nt_pboc_t *p, const char *const *members)
{
	ts_tmpdir("pboc", p->dir, sizeof(p->dir));
	char file[320], ledger[320], ready[320], log[320];
	snprintf(file, sizeof(file), "%s/members.json", p->dir);
	snprintf(ledger, sizeof(ledger), "%s/ledger", p->dir);
	snprintf(ready, sizeof(ready), "%s/ready.json", p->dir);
	snprintf(log, sizeof(log), "%s/pbocsim.log", p->dir);
	char text[4096] = "[";
	for (size_t i = 0; members[i] != NULL; i++) {
		char id[32];
		const char *colon = strchr(members[i], ':');
		assert_non_null(colon);
		snprintf(id, sizeof(id), "%.*s", (int)(colon - members[i]), members[i]);
		snprintf(text + strlen(text), sizeof(text) - strlen(text),
			 "%s{\"member\":\"%s\",\"kind\":\"%s\",\"balance\":100000000000}",
			 i ? "," : "", id, colon + 1);
	}
	strcat(text, "]");
	ts_write_file(file, text);
	const char *argv[] = {ts_bin("pbocsim"), "--ledger", ledger, "--members",
			      file, "--ready-file", ready, NULL};
	ts_proc_start(&p->proc, log, (char *const *)argv);
	json_t *r = ts_wait_ready(ready, &p->proc, NT_WAIT_MS);
	p->port = (uint16_t)json_integer_value(json_object_get(r, "port"));
	json_decref(r);
}

void nt_pboc_start(nt_pboc_t *p, const char *const *members)
{
	memset(p, 0, sizeof(*p));
	const char *force = getenv("NT_FAKE_PBOC");
	p->real = access(ts_bin("pbocsim"), X_OK) == 0 &&
		  !(force != NULL && strcmp(force, "1") == 0);
	if (p->real)
		real_start(p, members);
	else
		fake_start(p);
}

static json_t *fake_batch(nt_pboc_t *p, const char *batch)
{
	json_t *found = NULL;
	pthread_mutex_lock(&p->mu);
	for (int i = 0; i < p->count && found == NULL; i++) {
		json_error_t jerr;
		json_t *req = json_loads(p->lines[i], 0, &jerr);
		const char *b = json_string_value(json_object_get(req, "batch"));
		if (b != NULL && strcmp(b, batch) == 0) {
			json_object_set_new(req, "status", json_string("posted"));
			found = req;
		} else {
			json_decref(req);
		}
	}
	pthread_mutex_unlock(&p->mu);
	return found;
}

static json_t *real_batch(nt_pboc_t *p, const char *batch)
{
	int fd = ts_connect(p->port, NT_WAIT_MS);
	char line[256];
	snprintf(line, sizeof(line), "{\"op\":\"batch\",\"id\":\"Q\",\"batch\":\"%s\"}",
		 batch);
	json_t *a = ts_json_call(fd, line, NT_WAIT_MS);
	close(fd);
	const char *status = json_string_value(json_object_get(a, "status"));
	if (status == NULL || strcmp(status, "unknown") == 0) {
		json_decref(a);
		return NULL;
	}
	return a;
}

json_t *nt_pboc_batch(nt_pboc_t *p, const char *batch)
{
	uint64_t end = ts_now_ms() + NT_WAIT_MS;
	while (ts_now_ms() < end) {
		json_t *b = p->real ? real_batch(p, batch) : fake_batch(p, batch);
		if (b != NULL)
			return b;
		ts_sleep_ms(20);
	}
	return NULL;
}

void nt_pboc_stop(nt_pboc_t *p)
{
	if (p->real) {
		ts_proc_signal(&p->proc, SIGTERM);
		if (!ts_proc_wait(&p->proc, NT_WAIT_MS))
			ts_proc_kill(&p->proc);
		ts_rmrf(p->dir);
		return;
	}
	pthread_mutex_lock(&p->mu);
	p->stop = true;
	pthread_mutex_unlock(&p->mu);
	pthread_join(p->thread, NULL);
	close(p->listen_fd);
	pthread_mutex_destroy(&p->mu);
}

int64_t nt_position(json_t *batch, const char *member)
{
	json_t *pos = json_object_get(batch, "positions");
	for (size_t i = 0; i < json_array_size(pos); i++) {
		json_t *e = json_array_get(pos, i);
		const char *m = json_string_value(json_object_get(e, "member"));
		if (m != NULL && strcmp(m, member) == 0)
			return json_integer_value(json_object_get(e, "amount"));
	}
	return 0;
}

int64_t nt_positions_sum(json_t *batch)
{
	int64_t sum = 0;
	json_t *pos = json_object_get(batch, "positions");
	for (size_t i = 0; i < json_array_size(pos); i++)
		sum += json_integer_value(json_object_get(json_array_get(pos, i),
							  "amount"));
	return sum;
}

/* ---- netsim ------------------------------------------------------------------------ */

void nt_net_setup(nt_net_t *n, const char *tag, const char *members_json)
{
	memset(n, 0, sizeof(*n));
	ts_tmpdir(tag, n->dir, sizeof(n->dir));
	snprintf(n->store, sizeof(n->store), "%s/store", n->dir);
	snprintf(n->clearing, sizeof(n->clearing), "%s/clearing", n->dir);
	snprintf(n->members, sizeof(n->members), "%s/members.json", n->dir);
	snprintf(n->ready, sizeof(n->ready), "%s/ready.json", n->dir);
	snprintf(n->log, sizeof(n->log), "%s/netsim.log", n->dir);
	ts_write_file(n->members, members_json);
}

void nt_net_start(nt_net_t *n, const char *mode, const char *const *extra)
{
	const char *argv[ARGS_MAX] = {
		ts_bin("netsim"), "--mode", mode, "--members", n->members,
		"--store", n->store, "--clearing-dir", n->clearing,
		"--ready-file", n->ready, "--log-level", "debug",
	};
	size_t count = 13;
	for (size_t i = 0; extra != NULL && extra[i] != NULL; i++) {
		assert_true(count + 1 < ARGS_MAX);
		argv[count++] = extra[i];
	}
	argv[count] = NULL;
	unlink(n->ready);
	ts_proc_start(&n->proc, n->log, (char *const *)argv);
	json_t *ready = ts_wait_ready(n->ready, &n->proc, NT_WAIT_MS);
	n->port = (uint16_t)json_integer_value(json_object_get(ready, "port"));
	json_decref(ready);
	assert_true(n->port > 0);
	n->running = true;
}

void nt_net_stop(nt_net_t *n)
{
	assert_true(n->running);
	ts_proc_signal(&n->proc, SIGTERM);
	if (!ts_proc_wait(&n->proc, NT_WAIT_MS)) {
		ts_proc_dump(&n->proc);
		fail_msg("netsim did not exit after SIGTERM");
	}
	n->running = false;
	if (ts_proc_exit_code(&n->proc) != 0) {
		ts_proc_dump(&n->proc);
		fail_msg("netsim exited %d", ts_proc_exit_code(&n->proc));
	}
}

void nt_net_teardown(nt_net_t *n)
{
	if (n->running)
		nt_net_stop(n);
	ts_rmrf(n->dir);
}

int nt_log_count(const nt_net_t *n, const char *text)
{
	FILE *f = fopen(n->log, "r");
	if (f == NULL)
		return 0;
	char line[8192];
	int count = 0;
	while (fgets(line, sizeof(line), f) != NULL)
		count += strstr(line, text) != NULL;
	fclose(f);
	return count;
}

char *nt_clearing_file(const nt_net_t *n, const char *member, const char *name,
		       size_t *len)
{
	char path[640];
	snprintf(path, sizeof(path), "%s/%s/%s", n->clearing, member, name);
	uint64_t end = ts_now_ms() + NT_WAIT_MS;
	struct stat st;
	while (stat(path, &st) != 0 && ts_now_ms() < end)
		ts_sleep_ms(20);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return NULL;
	char *text = calloc(1, (size_t)st.st_size + 1);
	assert_non_null(text);
	*len = fread(text, 1, (size_t)st.st_size, f);
	fclose(f);
	return text;
}

/* ---- a member ------------------------------------------------------------------------- */

void nt_member_open(nt_member_t *m, uint16_t port, bool unionpay)
{
	memset(m, 0, sizeof(*m));
	chan_cfg_t *c = &m->cfg;
	if (unionpay) {
		c->kind = CHAN_ISO8583;
		c->dialect = iso8583_dialect_builtin("ascii");
		c->framing.length_header = ISO8583_LENGTH_ASCII4;
		c->framing.header_bytes = ISO8583_CUPS_HEADER_BYTES;
		c->framing.dialect = c->dialect;
		c->framing.frame_bytes_max = c->frame_bytes_max = 8192;
		iso8583_cups_header_t h;
		iso8583_cups_header_init(&h, "00010000", NT_SWITCH);
		iso8583_cups_header_write(&h, 0, c->header);
	} else {
		c->kind = CHAN_NETCLEAR;
		c->frame_bytes_max = TXN_JSON_LINE_MAX;
		ps_strlcpy(c->member, NT_SWITCH, sizeof(c->member));
	}
	m->fd = ts_connect(port, NT_WAIT_MS);
}

void nt_member_close(nt_member_t *m)
{
	if (m->fd >= 0)
		close(m->fd);
	m->fd = -1;
}

void nt_member_send_raw(nt_member_t *m, const void *data, size_t len)
{
	ts_send_all(m->fd, data, len);
}

void nt_member_send(nt_member_t *m, const txn_t *t, uint8_t *out, size_t cap,
		    size_t *len)
{
	uint8_t frame[8192];
	size_t n = 0;
	assert_int_equal(chan_encode_leg(&m->cfg, t, 0, frame, sizeof(frame), &n), 0);
	if (out != NULL) {
		assert_true(n <= cap);
		memcpy(out, frame, n);
		*len = n;
	}
	nt_member_send_raw(m, frame, n);
}

void nt_member_network(nt_member_t *m, int op, uint32_t stan)
{
	uint8_t frame[2048];
	size_t n = 0;
	assert_int_equal(chan_encode_network(&m->cfg, op, stan, NT_TRANSMIT, NT_SWITCH,
					     frame, sizeof(frame), &n), 0);
	nt_member_send_raw(m, frame, n);
}

txn_response_t nt_member_sign_on(nt_member_t *m)
{
	nt_member_network(m, TXN_NET_SIGN_ON, 100);
	txn_response_t r = nt_member_answer(m, 100, NULL, NULL);
	assert_int_equal(r.rc, TXN_RC_APPROVED);
	return r;
}

/* One frame: an ISO body after its 4-digit length, or a JSON line. */
static bool recv_frame(nt_member_t *m, uint8_t *buf, size_t cap, size_t *len,
		       int timeout_ms)
{
	if (m->cfg.kind != CHAN_ISO8583) {
		if (!ts_recv_line(m->fd, (char *)buf, cap, timeout_ms))
			return false;
		*len = strlen((char *)buf);
		return true;
	}
	char digits[5] = "";
	uint64_t n = 0;
	if (!ts_recv_exact(m->fd, digits, 4, timeout_ms) ||
	    ps_parse_u64(digits, 4, &n) != 0 || n > cap || n < 46)
		return false;
	*len = (size_t)n;
	return ts_recv_exact(m->fd, buf, *len, timeout_ms);
}

bool nt_member_recv(nt_member_t *m, nt_msg_t *msg, int timeout_ms)
{
	static uint8_t buf[TXN_JSON_LINE_MAX];
	size_t len = 0;
	if (!recv_frame(m, buf, sizeof(buf), &len, timeout_ms))
		return false;
	memset(msg, 0, sizeof(*msg));
	chan_frame_t f = {.data = buf, .len = len};
	if (m->cfg.kind == CHAN_ISO8583) {
		f.header = buf;
		f.header_len = ISO8583_CUPS_HEADER_BYTES;
		f.data = buf + f.header_len;
		f.len = len - f.header_len;
		iso8583_error_t ierr;
		(void)iso8583_cups_header_parse(buf, len, &msg->header, &ierr);
	}
	txn_error_t err;
	int what = 0;
	msg->rc = chan_decode(&m->cfg, &f, &msg->req, &msg->resp, &what, &err);
	msg->response = what == CHAN_MSG_RESPONSE;
	return true;
}

txn_response_t nt_member_answer(nt_member_t *m, uint32_t stan, nt_msg_t *others,
				int *other_count)
{
	int cap = other_count != NULL ? *other_count : 0;
	if (other_count != NULL)
		*other_count = 0;
	uint64_t end = ts_now_ms() + NT_WAIT_MS;
	while (ts_now_ms() < end) {
		nt_msg_t msg;
		if (!nt_member_recv(m, &msg, (int)(end - ts_now_ms())))
			break;
		if (msg.response && msg.rc == 0 && msg.resp.stan == stan &&
		    strcmp(msg.resp.transmit, NT_TRANSMIT) == 0)
			return msg.resp;
		if (other_count != NULL && *other_count < cap)
			others[(*other_count)++] = msg;
	}
	fail_msg("no answer to STAN %u", stan);
	txn_response_t none;
	memset(&none, 0, sizeof(none));
	return none;
}

/* ---- legs ------------------------------------------------------------------------------- */

void nt_leg(txn_t *t, int kind, const char *account, int64_t amount,
	    uint32_t stan)
{
	txn_init(t, kind);
	t->currency = TXN_CURRENCY_CNY;
	ps_strlcpy(t->acquirer, NT_PSP, sizeof(t->acquirer));
	ps_strlcpy(t->forwarder, NT_SWITCH, sizeof(t->forwarder));
	ps_strlcpy(t->local_time, "101500", sizeof(t->local_time));
	ps_strlcpy(t->local_date, "1203", sizeof(t->local_date));
	t->amount = amount;
	ps_strlcpy(t->payer, account, sizeof(t->payer));
	txn_set_leg(t, 0, kind, account);
	t->leg[0].stan = stan;
	ps_strlcpy(t->leg[0].transmit, NT_TRANSMIT, sizeof(t->leg[0].transmit));
	snprintf(t->leg[0].rrn, sizeof(t->leg[0].rrn), "6337%08u", stan);
}

void nt_reversal(txn_t *rev, const txn_t *orig, uint32_t stan)
{
	nt_leg(rev, TXN_KIND_REVERSAL, orig->payer, orig->amount, stan);
	rev->original_kind = orig->leg[0].kind;
	rev->original_stan = orig->leg[0].stan;
	ps_strlcpy(rev->original_transmit, orig->leg[0].transmit,
		   sizeof(rev->original_transmit));
	ps_strlcpy(rev->original_acquirer, orig->acquirer,
		   sizeof(rev->original_acquirer));
	ps_strlcpy(rev->leg[0].rrn, orig->leg[0].rrn, sizeof(rev->leg[0].rrn));
}

/* ---- the world ------------------------------------------------------------------------------ */

static const char bank_a_accounts[] =
	"{\"accounts\":[{\"account\":\"6222020000000001\",\"balance\":100000},"
	"{\"account\":\"6222020000000002\",\"balance\":100000},"
	"{\"account\":\"6222020000000003\",\"balance\":100000}]}";
static const char bank_b_accounts[] =
	"{\"accounts\":[{\"account\":\"6217000000000009\",\"balance\":0},"
	"{\"account\":\"6217000000000001\",\"balance\":100000,\"fault\":\"drop\"}]}";

static const char *world_extra[ARGS_MAX];

static void start_net(nt_world_t *w, const char *mode, const char *const *extra)
{
	size_t n = 0;
	const char *base[] = {"--pboc", w->pboc_address, "--start-date", "20261203",
			      "--timeout-ms", "400", "--settle-wait-ms", "3000",
			      "--reversal-retry-ms", "100", "--reversal-retry-max-ms",
			      "400", NULL};
	for (size_t i = 0; base[i] != NULL; i++)
		world_extra[n++] = base[i];
	for (size_t i = 0; extra != NULL && extra[i] != NULL; i++) {
		assert_true(n + 1 < ARGS_MAX);
		world_extra[n++] = extra[i];
	}
	world_extra[n] = NULL;
	nt_net_start(&w->net, mode, world_extra);
}

void nt_world_start(nt_world_t *w, const char *tag, const char *mode,
		    const char *const *extra)
{
	memset(w, 0, sizeof(*w));
	bt_setup(&w->a, "netsim-bank-a", bank_a_accounts);
	bt_setup(&w->b, "netsim-bank-b", bank_b_accounts);
	const char *a_extra[] = {"--institution", NT_BANK_A, "--name", "bankA", NULL};
	const char *b_extra[] = {"--institution", NT_BANK_B, "--name", "bankB", NULL};
	bt_start(&w->a, a_extra);
	bt_start(&w->b, b_extra);
	static const char *const members[] = {
		NT_BANK_A ":bank", NT_BANK_B ":bank", NT_PSP ":psp",
		"00010000:network", "00020000:network", NT_SWITCH ":switch", NULL};
	nt_pboc_start(&w->pboc, members);
	snprintf(w->pboc_address, sizeof(w->pboc_address), "127.0.0.1:%u",
		 w->pboc.port);
	snprintf(w->members_json, sizeof(w->members_json),
		 "{\"members\":[{\"member\":\"%s\",\"station\":\"%s\",\"name\":\"switch\"}],"
		 "\"banks\":[{\"name\":\"bankA\",\"member\":\"%s\",\"prefixes\":[\"622202\"],"
		 "\"address\":\"127.0.0.1:%u\"},"
		 "{\"name\":\"bankB\",\"member\":\"%s\",\"prefixes\":[\"621700\"],"
		 "\"address\":\"127.0.0.1:%u\",\"dialect\":\"ascii\",\"framing\":\"binary2\"}]}",
		 NT_SWITCH, NT_SWITCH, NT_BANK_A, w->a.port, NT_BANK_B, w->b.port);
	nt_net_setup(&w->net, tag, w->members_json);
	start_net(w, mode, extra);
}

void nt_world_restart(nt_world_t *w, const char *mode)
{
	start_net(w, mode, NULL);
}

void nt_world_stop(nt_world_t *w)
{
	nt_net_teardown(&w->net);
	nt_pboc_stop(&w->pboc);
	bt_teardown(&w->a);
	bt_teardown(&w->b);
}
