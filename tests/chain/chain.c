/*
 * chain.c: the whole chain for tests (chain.h).
 */
#include "chain.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FEES "\"issuer_fee_ppm\": 3500, \"issuer_fee_cap\": 1300, " \
	     "\"network_fee_ppm\": 325, \"network_fee_cap\": 325"

void ch_init(chain_t *c, const char *tag)
{
	memset(c, 0, sizeof(*c));
	ts_tmpdir(tag, c->dir, sizeof(c->dir));
	static const char *const names[CH_BANKS] = {"bank_a", "bank_b", "bank_c",
						    "bank_d"};
	static const char *const members[CH_BANKS] = {"01020000", "01030000",
						      "01040000", "01050000"};
	static const char *const prefixes[CH_BANKS] = {"622202", "621700", "622848",
						       "621226"};
	for (int i = 0; i < CH_BANKS; i++) {
		ch_bank_t *b = &c->bank[i];
		b->name = names[i];
		b->member = members[i];
		b->prefix = prefixes[i];
		snprintf(b->ledger, sizeof(b->ledger), "%s/%s", c->dir, b->name);
		snprintf(b->ready, sizeof(b->ready), "%s/%s.ready", c->dir, b->name);
	}
	c->balance = 10000000;      /* 100,000.00 */
	c->balance_d = 10000000;
}

static uint16_t start(ts_proc_t *p, const char *dir, const char *name,
		      const char *ready, char **argv)
{
	char log[600];
	snprintf(log, sizeof(log), "%s/%s.log", dir, name);
	unlink(ready);
	ts_proc_start(p, log, argv);
	json_t *r = ts_wait_ready(ready, p, 15000);
	if (r == NULL) {
		ts_proc_dump(p);
		fail_msg("%s did not start", name);
	}
	uint16_t port = (uint16_t)json_integer_value(json_object_get(r, "port"));
	json_decref(r);
	return port;
}

static void start_banks(chain_t *c)
{
	for (int i = 0; i < CH_BANKS; i++) {
		ch_bank_t *b = &c->bank[i];
		char n[16], bal[24], drop[24];
		snprintf(n, sizeof(n), "%d", CH_ACCOUNTS);
		snprintf(bal, sizeof(bal), "%lld",
			 (long long)(i == CH_D ? c->balance_d : c->balance));
		snprintf(drop, sizeof(drop), "%g", i == CH_B ? c->drop_b : 0.0);
		char *argv[] = {(char *)ts_bin("banksim"), "--name", (char *)b->name,
				"--institution", (char *)b->member, "--ledger", b->ledger,
				"--generate", n, "--prefix", (char *)b->prefix,
				"--balance", bal, "--fault-drop-rate", drop, "--seed", "3",
				"--ready-file", b->ready, "--log-level", "warn", NULL};
		b->port = start(&b->proc, c->dir, b->name, b->ready, argv);
	}
}

static void start_pboc(chain_t *c)
{
	char members[600], ready[600];
	snprintf(members, sizeof(members), "%s/pboc-members.json", c->dir);
	snprintf(ready, sizeof(ready), "%s/pboc.ready", c->dir);
	snprintf(c->pboc_ledger, sizeof(c->pboc_ledger), "%s/pboc", c->dir);
	/* The PSP and the acquirer pay fees before they are owed anything:
	 * they start with a reserve. */
	ts_write_file(members,
		      "{\"members\": [\n"
		      " {\"member\": \"01020000\", \"kind\": \"bank\", \"balance\": 100000000000},\n"
		      " {\"member\": \"01030000\", \"kind\": \"bank\", \"balance\": 100000000000},\n"
		      " {\"member\": \"01040000\", \"kind\": \"bank\", \"balance\": 100000000000},\n"
		      " {\"member\": \"01050000\", \"kind\": \"bank\", \"balance\": 100000000000},\n"
		      " {\"member\": \"" CH_PSP "\", \"kind\": \"psp\", \"balance\": 100000000},\n"
		      " {\"member\": \"" CH_ACQ "\", \"kind\": \"acquirer\", \"balance\": 100000000},\n"
		      " {\"member\": \"00010000\", \"kind\": \"network\"},\n"
		      " {\"member\": \"00020000\", \"kind\": \"network\"},\n"
		      " {\"member\": \"99990000\", \"kind\": \"switch\"}]}\n");
	char *argv[] = {(char *)ts_bin("pbocsim"), "--ledger", c->pboc_ledger,
			"--members", members, "--ready-file", ready, "--log-level",
			"warn", NULL};
	c->pboc_port = start(&c->pboc, c->dir, "pboc", ready, argv);
}

static void start_network(chain_t *c, bool unionpay)
{
	const char *name = unionpay ? "cup" : "nc";
	const ch_bank_t *own = &c->bank[unionpay ? CH_C : CH_D];
	char members[600], store[560], ready[600], text[2048], pboc[32];
	snprintf(members, sizeof(members), "%s/%s-members.json", c->dir, name);
	snprintf(store, sizeof(store), "%s/%s", c->dir, name);
	snprintf(ready, sizeof(ready), "%s/%s.ready", c->dir, name);
	snprintf(pboc, sizeof(pboc), "127.0.0.1:%u", c->pboc_port);
	snprintf(unionpay ? c->cup_files : c->nc_files, sizeof(c->cup_files),
		 "%s/clearing", store);
	snprintf(text, sizeof(text),
		 "{\"members\": [{\"member\": \"99990000\", \"name\": \"switch\"}],\n"
		 " \"banks\": [\n"
		 "  {\"name\": \"bank_a\", \"member\": \"01020000\", \"prefixes\": [\"622202\"],"
		 " \"address\": \"127.0.0.1:%u\"},\n"
		 "  {\"name\": \"bank_b\", \"member\": \"01030000\", \"prefixes\": [\"621700\"],"
		 " \"address\": \"127.0.0.1:%u\"},\n"
		 "  {\"name\": \"%s\", \"member\": \"%s\", \"prefixes\": [\"%s\"],"
		 " \"address\": \"127.0.0.1:%u\"}]}\n",
		 c->bank[CH_A].port, c->bank[CH_B].port, own->name, own->member,
		 own->prefix, own->port);
	ts_write_file(members, text);
	char *argv[] = {(char *)ts_bin("netsim"), "--mode",
			unionpay ? "unionpay" : "netclear", "--name", (char *)name,
			"--members", members, "--store", store, "--pboc", pboc,
			"--start-date", "20261203", "--settle-wait-ms", "300",
			"--timeout-ms", "1000", "--reversal-retry-ms", "100",
			"--ready-file", ready, "--log-level", "warn", NULL};
	uint16_t port = start(unionpay ? &c->cup : &c->nc, c->dir, name, ready, argv);
	if (unionpay)
		c->cup_port = port;
	else
		c->nc_port = port;
}

static void write_config(chain_t *c)
{
	char text[8192];
	snprintf(c->config, sizeof(c->config), "%s/switchd.json", c->dir);
	snprintf(text, sizeof(text),
		 "{\"institution\": \"99990000\",\n"
		 " \"lmdb\": {\"dir\": \"switch\", \"sync\": false},\n"
		 " \"log\": {\"level\": \"warn\"},\n"
		 " \"control\": \"127.0.0.1:0\", \"ready_file\": \"switchd.ready\",\n"
		 " \"reversal\": {\"retry_ms\": 200, \"retry_max_ms\": 1000},\n"
		 " \"clearing\": {\"pboc\": \"127.0.0.1:%u\", \"settle_delay_ms\": 300,"
		 " \"poll_ms\": 50, \"first_date\": \"20261203\"},\n"
		 " \"listeners\": [\n"
		 "  {\"name\": \"psp\", \"address\": \"127.0.0.1:0\", \"protocol\": \"json\","
		 " \"participant\": \"PSP01\", \"institution\": \"" CH_PSP "\"},\n"
		 "  {\"name\": \"acq\", \"address\": \"127.0.0.1:0\", \"protocol\": \"iso8583\","
		 " \"dialect\": \"ascii\", \"participant\": \"ACQ01\", \"acquirers\": [\"" CH_ACQ "\"]}],\n"
		 " \"endpoints\": [\n"
		 "  {\"name\": \"bank_a\", \"address\": \"127.0.0.1:%u\", \"institution\": \"01020000\","
		 " \"timeout_ms\": 1000},\n"
		 "  {\"name\": \"bank_b\", \"address\": \"127.0.0.1:%u\", \"institution\": \"01030000\","
		 " \"timeout_ms\": 500},\n"
		 "  {\"name\": \"bank_c\", \"address\": \"127.0.0.1:%u\", \"institution\": \"01040000\","
		 " \"timeout_ms\": 1000},\n"
		 "  {\"name\": \"cup\", \"address\": \"127.0.0.1:%u\", \"network\": \"unionpay\","
		 " \"institution\": \"00010000\", \"timeout_ms\": 3000,"
		 " \"framing\": {\"length\": \"ascii4\", \"header_bytes\": 46,"
		 " \"source_id\": \"99990000\", \"destination_id\": \"00010000\"},"
		 " \"clearing_dir\": \"%s\"},\n"
		 "  {\"name\": \"nc\", \"address\": \"127.0.0.1:%u\", \"protocol\": \"netclear\","
		 " \"network\": \"netclear\", \"institution\": \"00020000\", \"timeout_ms\": 3000,"
		 " \"clearing_dir\": \"%s\"}]}\n",
		 c->pboc_port, c->bank[CH_A].port, c->bank[CH_B].port, c->bank[CH_C].port,
		 c->cup_port, c->cup_files, c->nc_port, c->nc_files);
	ts_write_file(c->config, text);
}

static void load_routes(chain_t *c)
{
	char routes[600], text[2048];
	snprintf(routes, sizeof(routes), "%s/routes.jsonl", c->dir);
	snprintf(text, sizeof(text),
		 "{\"prefix\": \"622202\", \"endpoint\": \"bank_a\", \"institution\": \"01020000\"}\n"
		 "{\"prefix\": \"621700\", \"endpoint\": \"bank_b\", \"institution\": \"01030000\"}\n"
		 "{\"prefix\": \"622848\", \"endpoint\": \"cup\", \"network\": \"unionpay\","
		 " \"institution\": \"01040000\", %s" FEES "}\n"
		 "{\"prefix\": \"621226\", \"endpoint\": \"nc\", \"network\": \"netclear\","
		 " \"institution\": \"01050000\", " FEES "}\n",
		 c->alternate_c ? "\"alternates\": [\"bank_c\"], " : "");
	ts_write_file(routes, text);
	char out[4096];
	int rc = ch_switchctl(c, out, sizeof(out), "routes", "import", routes, NULL);
	if (rc != 0)
		fail_msg("routes import: %d: %s", rc, out);
}

void ch_start(chain_t *c)
{
	start_banks(c);
	start_pboc(c);
	start_network(c, true);
	start_network(c, false);
	write_config(c);
	load_routes(c);
	char ready[600];
	snprintf(ready, sizeof(ready), "%s/switchd.ready", c->dir);
	unlink(ready);
	char log[600];
	snprintf(log, sizeof(log), "%s/switchd.log", c->dir);
	char *argv[] = {(char *)ts_bin("switchd"), "--config", c->config, NULL};
	ts_proc_start(&c->sw, log, argv);
	json_t *r = ts_wait_ready(ready, &c->sw, 15000);
	if (r == NULL) {
		ts_proc_dump(&c->sw);
		fail_msg("switchd did not start");
	}
	c->psp = ts_ready_port(r, "psp");
	c->acq = ts_ready_port(r, "acq");
	c->control = (uint16_t)json_integer_value(json_object_get(r, "control"));
	json_decref(r);
	static const char *const eps[] = {"bank_a", "bank_b", "bank_c", "cup", "nc"};
	for (size_t i = 0; i < sizeof(eps) / sizeof(eps[0]); i++)
		if (!ch_wait_endpoint(c, eps[i], true, 15000))
			fail_msg("endpoint %s never came up", eps[i]);
}

static void stop(ts_proc_t *p)
{
	if (p->pid <= 0 || p->exited)
		return;
	ts_proc_signal(p, SIGTERM);
	if (!ts_proc_wait(p, 15000) || ts_proc_exit_code(p) != 0) {
		ts_proc_dump(p);
		ts_proc_kill(p);
		fail_msg("%s did not drain and exit 0 on SIGTERM", p->name);
	}
}

static void check_ledger(const char *prog, const char *dir)
{
	char out[8192], err[8192];
	char *argv[] = {(char *)ts_bin(prog), "--ledger", (char *)dir, "--check-ledger",
			NULL};
	int rc = ts_run(argv, NULL, out, sizeof(out), err, sizeof(err), 60000);
	if (rc != 0)
		fail_msg("%s --check-ledger %s: %d\n%s%s", prog, dir, rc, out, err);
}

void ch_stop(chain_t *c)
{
	stop(&c->sw);
	stop(&c->cup);
	stop(&c->nc);
	stop(&c->pboc);
	for (int i = 0; i < CH_BANKS; i++)
		stop(&c->bank[i].proc);
	for (int i = 0; i < CH_BANKS; i++)
		check_ledger("banksim", c->bank[i].ledger);
	check_ledger("pbocsim", c->pboc_ledger);
	ts_rmrf(c->dir);
}

void ch_account(const chain_t *c, int bank, unsigned index, char out[20])
{
	snprintf(out, 20, "%s%010u", c->bank[bank].prefix, index);
}

json_t *ch_psp(chain_t *c, const char *fmt, ...)
{
	char line[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	int fd = ts_connect(c->psp, 5000);
	json_t *h = ts_json_call(fd, "{\"op\":\"hello\",\"participant\":\"PSP01\"}", 5000);
	json_decref(h);
	json_t *a = ts_json_call(fd, line, 15000);
	close(fd);
	if (a == NULL)
		fail_msg("no answer to %s", line);
	return a;
}

const char *ch_purchase(chain_t *c, const char *pan, int64_t amount,
			uint32_t stan, char code[3])
{
	const iso8583_dialect_t *d = iso8583_dialect_builtin("ascii");
	iso8583_msg_t m;
	ts_iso_purchase(&m, pan, amount, "1203103000", stan, CH_ACQ);
	int fd = ts_connect(c->acq, 5000);
	ts_iso_send(fd, &m);
	iso8583_msg_t r;
	uint8_t buf[4096];
	code[0] = '\0';
	if (ts_iso_recv(fd, d, &r, buf, sizeof(buf), 15000) && iso8583_has(&r, 39))
		iso8583_get_text(&r, 39, code, 3, NULL);
	close(fd);
	return code;
}

json_t *ch_control(chain_t *c, const char *line)
{
	int fd = ts_connect(c->control, 5000);
	ts_send_line(fd, line);
	static char text[1 << 20];
	json_t *j = NULL;
	if (ts_recv_line(fd, text, sizeof(text), 10000))
		j = json_loads(text, 0, NULL);
	close(fd);
	return j;
}

int ch_switchctl(chain_t *c, char *out, size_t cap, ...)
{
	char *argv[24] = {(char *)ts_bin("switchctl"), "--config", c->config};
	int n = 3;
	va_list ap;
	va_start(ap, cap);
	for (char *a; n < 23 && (a = va_arg(ap, char *)) != NULL;)
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	char err[4096];
	int rc = ts_run(argv, NULL, out, cap, err, sizeof(err), 60000);
	if (rc != 0 && cap > 0)
		snprintf(out + strlen(out), cap - strlen(out), "%s", err);
	return rc;
}

bool ch_wait_endpoint(chain_t *c, const char *name, bool up, int timeout_ms)
{
	uint64_t end = ts_now_ms() + (uint64_t)timeout_ms;
	for (;;) {
		json_t *a = ch_control(c, "{\"cmd\":\"endpoints\"}");
		bool is_up = false;
		size_t i;
		json_t *e;
		json_array_foreach(json_object_get(a, "endpoints"), i, e)
			if (strcmp(json_string_value(json_object_get(e, "name")), name) == 0)
				is_up = strcmp(json_string_value(json_object_get(e, "state")),
					       "up") == 0;
		json_decref(a);
		if (is_up == up)
			return true;
		if (ts_now_ms() > end)
			return false;
		ts_sleep_ms(50);
	}
}

bool ch_wait_saf_empty(chain_t *c, int timeout_ms)
{
	uint64_t end = ts_now_ms() + (uint64_t)timeout_ms;
	for (;;) {
		json_t *a = ch_control(c, "{\"cmd\":\"status\"}");
		json_int_t n = json_integer_value(json_object_get(a, "saf_entries"));
		bool got = json_object_get(a, "saf_entries") != NULL;
		json_decref(a);
		if (got && n == 0)
			return true;
		if (ts_now_ms() > end)
			return false;
		ts_sleep_ms(100);
	}
}

json_t *ch_wait_window(chain_t *c, uint64_t id, const char *state, int timeout_ms)
{
	uint64_t end = ts_now_ms() + (uint64_t)timeout_ms;
	char line[64];
	snprintf(line, sizeof(line), "{\"cmd\":\"window\",\"window\":%llu}",
		 (unsigned long long)id);
	for (;;) {
		json_t *a = ch_control(c, line);
		json_t *w = json_object_get(a, "window");
		const char *st = json_string_value(json_object_get(w, "state"));
		if (st != NULL && strcmp(st, state) == 0) {
			json_incref(w);
			json_decref(a);
			return w;
		}
		if (ts_now_ms() > end) {
			char *dump = json_dumps(a, JSON_COMPACT);
			fprintf(stderr, "window %llu is not %s: %s\n", (unsigned long long)id,
				state, dump ? dump : "(none)");
			free(dump);
			json_decref(a);
			return NULL;
		}
		json_decref(a);
		ts_sleep_ms(100);
	}
}

/* Each line of `prog --ledger dir --dump-balances`, to fn. */
static void dump(const char *prog, const char *dir,
		 void (*fn)(json_t *line, void *arg), void *arg)
{
	size_t cap = 8 << 20;
	char *out = malloc(cap);
	assert_non_null(out);
	char *argv[] = {(char *)ts_bin(prog), "--ledger", (char *)dir, "--dump-balances",
			NULL};
	int rc = ts_run(argv, NULL, out, cap, NULL, 0, 30000);
	if (rc != 0)
		fail_msg("%s --dump-balances %s: %d", prog, dir, rc);
	for (char *line = strtok(out, "\n"); line != NULL; line = strtok(NULL, "\n")) {
		json_t *j = json_loads(line, 0, NULL);
		if (j != NULL)
			fn(j, arg);
		json_decref(j);
	}
	free(out);
}

typedef struct sum_arg {
	const char *account;  /* one, or NULL for all customers */
	int64_t sum;
} sum_arg_t;

static void add_customer(json_t *j, void *arg)
{
	sum_arg_t *s = arg;
	const char *kind = json_string_value(json_object_get(j, "kind"));
	if (kind == NULL || strcmp(kind, "customer") != 0)
		return;
	if (s->account != NULL &&
	    strcmp(json_string_value(json_object_get(j, "account")), s->account) != 0)
		return;
	s->sum += json_integer_value(json_object_get(j, "posted"));
}

int64_t ch_customers(chain_t *c, int bank)
{
	sum_arg_t s = {NULL, 0};
	dump("banksim", c->bank[bank].ledger, add_customer, &s);
	return s.sum;
}

int64_t ch_balance(chain_t *c, int bank, const char *account)
{
	sum_arg_t s = {account, 0};
	dump("banksim", c->bank[bank].ledger, add_customer, &s);
	return s.sum;
}

static void add_reserve(json_t *j, void *arg)
{
	const char *member = json_string_value(json_object_get(j, "member"));
	if (member != NULL)
		json_object_set_new(arg, member, json_integer(json_integer_value(
							 json_object_get(j, "balance"))));
}

json_t *ch_reserves(chain_t *c)
{
	json_t *r = json_object();
	dump("pbocsim", c->pboc_ledger, add_reserve, r);
	return r;
}
