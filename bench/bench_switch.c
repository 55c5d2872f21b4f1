/*
 * bench_switch.c: card purchases through the whole switch.
 *
 * Starts banksim (10,000 accounts, never short of money) and switchd on
 * loopback, then an acquirer's load: CONNECTIONS connections each keeping
 * PIPELINE ISO 8583 0200s in flight, for SECONDS seconds after a one-second
 * warm-up. Every request goes acquirer -> switchd -> banksim -> switchd ->
 * acquirer, with the switch's group commit in the path. Prints
 * transactions per second and latency percentiles, for switchd with
 * lmdb.sync on and off, side by side. A benchmark: it prints numbers and
 * never fails on them.
 *
 *   bench-switch [--seconds N] [--connections C] [--pipeline P]
 *                [--bank-links L] [--only sync|nosync]
 *
 * The load generator, switchd and banksim share the machine: on two cores
 * the numbers are those of the whole chain, not of switchd alone.
 */
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core.h"
#include "iso8583.h"
#include "support.h"

#define CONNECTIONS_MAX 64
#define PIPELINE_MAX 1024
#define SAMPLES_MAX (20u * 1000 * 1000)
#define SENT_RING 4096 /* > PIPELINE_MAX: in-flight STANs never collide */

typedef struct conn {
	int fd;
	int inflight;
	uint32_t stan;
	uint32_t seq;
	uint64_t sent_ns[SENT_RING]; /* by STAN modulo the ring */
	iso8583_framer_t framer;
	uint8_t storage[16384];
} conn_t;

typedef struct bench {
	int seconds, connections, pipeline, bank_links;
	const iso8583_dialect_t *dialect;
	iso8583_framing_t framing;
	conn_t *conn[CONNECTIONS_MAX];
	uint32_t *samples_us;
	uint64_t samples;
	uint64_t answered, approved, other_codes;
	uint64_t rng;
} bench_t;

static uint64_t next_rng(bench_t *b)
{
	b->rng ^= b->rng << 13;
	b->rng ^= b->rng >> 7;
	b->rng ^= b->rng << 17;
	return b->rng;
}

static void transmit_now(char out[11])
{
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	snprintf(out, 11, "%02u%02u%02u%02u%02u", (unsigned)(tm.tm_mon + 1) % 100u,
		 (unsigned)tm.tm_mday % 100u, (unsigned)tm.tm_hour % 100u,
		 (unsigned)tm.tm_min % 100u, (unsigned)tm.tm_sec % 100u);
}

static int send_purchase(bench_t *b, int c)
{
	conn_t *k = b->conn[c];
	char pan[17], transmit[11];
	snprintf(pan, sizeof(pan), "622202%010" PRIu64, next_rng(b) % 10000);
	transmit_now(transmit);
	/* One acquirer: each connection numbers in its own share of the
	 * STANs, so (32, 11, 7) never repeats. */
	uint32_t span = 999999u / (uint32_t)b->connections;
	k->seq++;
	k->stan = (uint32_t)c * span + k->seq % span + 1;
	iso8583_msg_t m;
	iso8583_msg_init(&m, b->dialect);
	iso8583_set_mti(&m, "0200");
	iso8583_set_str(&m, 2, pan);
	iso8583_set_str(&m, 3, "000000");
	iso8583_set_num(&m, 4, 1 + next_rng(b) % 10000);
	iso8583_set_str(&m, 7, transmit);
	iso8583_set_num(&m, 11, k->stan);
	iso8583_set_str(&m, 12, "103000");
	iso8583_set_str(&m, 13, "1125");
	iso8583_set_str(&m, 32, "48020000");
	iso8583_set_str(&m, 41, "TERM0001");
	iso8583_set_str(&m, 42, "MERCHANT0000001");
	iso8583_set_str(&m, 49, "156");
	uint8_t buf[1024];
	size_t len = 0;
	iso8583_error_t err;
	if (iso8583_pack(&m, buf + 2, sizeof(buf) - 2, &len, &err) != 0)
		return -1;
	buf[0] = (uint8_t)(len >> 8);
	buf[1] = (uint8_t)len;
	k->sent_ns[k->stan % SENT_RING] = ps_mono_ns();
	ts_send_all(k->fd, buf, len + 2);
	k->inflight++;
	return 0;
}

static void on_answer(bench_t *b, conn_t *k, const uint8_t *data, size_t len,
		      bool measuring)
{
	iso8583_msg_t m;
	iso8583_error_t err;
	k->inflight--;
	if (iso8583_unpack(&m, b->dialect, data, len, &err) != 0)
		return;
	uint64_t stan = 0;
	iso8583_get_u64(&m, 11, &stan);
	if (!measuring || stan == 0 || stan > 999999)
		return;
	uint64_t us = (ps_mono_ns() - k->sent_ns[stan % SENT_RING]) / 1000;
	if (b->samples < SAMPLES_MAX)
		b->samples_us[b->samples++] = (uint32_t)(us > UINT32_MAX ? UINT32_MAX : us);
	b->answered++;
	char code[3] = "";
	iso8583_get_text(&m, 39, code, sizeof(code), NULL);
	if (strcmp(code, "00") == 0)
		b->approved++;
	else
		b->other_codes++;
}

static void read_conn(bench_t *b, conn_t *k, bool measuring)
{
	uint8_t *space;
	size_t room;
	iso8583_framer_space(&k->framer, &space, &room);
	ssize_t n = read(k->fd, space, room);
	if (n <= 0) {
		fprintf(stderr, "bench-switch: the switch closed a connection\n");
		exit(1);
	}
	iso8583_framer_commit(&k->framer, (size_t)n);
	iso8583_frame_t f;
	iso8583_error_t err;
	while (iso8583_framer_next(&k->framer, &f, &err) == 1)
		on_answer(b, k, f.message, f.message_len, measuring);
}

static void run_load(bench_t *b, uint16_t port)
{
	for (int c = 0; c < b->connections; c++) {
		conn_t *k = calloc(1, sizeof(*k));
		k->fd = ts_connect(port, 5000);
		iso8583_framer_init(&k->framer, &b->framing, k->storage, sizeof(k->storage));
		b->conn[c] = k;
	}
	uint64_t start = ps_mono_ms();
	uint64_t measure_from = start + 1000;
	uint64_t end = measure_from + (uint64_t)b->seconds * 1000;
	struct pollfd p[CONNECTIONS_MAX];
	for (;;) {
		uint64_t now = ps_mono_ms();
		bool measuring = now >= measure_from;
		if (now >= end)
			break;
		for (int c = 0; c < b->connections; c++)
			while (b->conn[c]->inflight < b->pipeline)
				send_purchase(b, c);
		for (int c = 0; c < b->connections; c++)
			p[c] = (struct pollfd){b->conn[c]->fd, POLLIN, 0};
		if (poll(p, (nfds_t)b->connections, 100) <= 0)
			continue;
		for (int c = 0; c < b->connections; c++)
			if (p[c].revents & POLLIN)
				read_conn(b, b->conn[c], measuring);
	}
	for (int c = 0; c < b->connections; c++) {
		close(b->conn[c]->fd);
		free(b->conn[c]);
	}
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static double pct(bench_t *b, double q)
{
	if (b->samples == 0)
		return 0;
	uint64_t i = (uint64_t)(q * (double)(b->samples - 1));
	return b->samples_us[i] / 1000.0;
}

static void run_case(bench_t *b, bool sync)
{
	char dir[512], path[700], log[700], text[4096];
	ts_tmpdir("bench-switch", dir, sizeof(dir));
	/* the bank */
	char ledger[600], ready_bank[600];
	snprintf(ledger, sizeof(ledger), "%s/bank", dir);
	snprintf(ready_bank, sizeof(ready_bank), "%s/bank.ready", dir);
	snprintf(log, sizeof(log), "%s/banksim.log", dir);
	char *bank_argv[] = {(char *)ts_bin("banksim"), "--ledger", ledger,
			     "--generate", "10000", "--prefix", "622202",
			     "--balance", "100000000000", "--ready-file", ready_bank,
			     "--log-level", "warn", "--inflight-max", "65536",
			     "--inflight-per-conn-max", "8192", NULL};
	ts_proc_t bank;
	ts_proc_start(&bank, log, bank_argv);
	json_t *ready = ts_wait_ready(ready_bank, &bank, 20000);
	int bank_port = (int)json_integer_value(json_object_get(ready, "port"));
	json_decref(ready);
	/* the switch */
	char lmdb[600], config[600], ready_sw[600];
	snprintf(lmdb, sizeof(lmdb), "%s/switch", dir);
	snprintf(config, sizeof(config), "%s/switchd.json", dir);
	snprintf(ready_sw, sizeof(ready_sw), "%s/switchd.ready", dir);
	snprintf(text, sizeof(text),
		 "{\"lmdb\": {\"dir\": \"%s\", \"sync\": %s},\n"
		 " \"log\": {\"level\": \"warn\"},\n"
		 " \"limits\": {\"inflight_max\": 100000},\n"
		 " \"listeners\": [{\"name\": \"acq\", \"address\": \"127.0.0.1:0\",\n"
		 "   \"protocol\": \"iso8583\", \"dialect\": \"ascii\", \"participant\": \"48020000\",\n"
		 "   \"inflight_per_conn_max\": 65536}],\n"
		 " \"endpoints\": [{\"name\": \"bank\", \"address\": \"127.0.0.1:%d\",\n"
		 "   \"dialect\": \"ascii\", \"connections\": %d, \"timeout_ms\": 10000,\n"
		 "   \"inflight_max\": 100000}]}\n",
		 lmdb, sync ? "true" : "false", bank_port, b->bank_links);
	ts_write_file(config, text);
	char *ctl[] = {(char *)ts_bin("switchctl"), "--lmdb", lmdb, "routes", "add",
		       "--prefix", "622202", "--endpoint", "bank", NULL};
	if (ts_run(ctl, NULL, text, sizeof(text), NULL, 0, 10000) != 0) {
		fprintf(stderr, "bench-switch: switchctl failed\n");
		exit(1);
	}
	snprintf(log, sizeof(log), "%s/switchd.log", dir);
	char *sw_argv[] = {(char *)ts_bin("switchd"), "--config", config,
			   "--ready-file", ready_sw, NULL};
	ts_proc_t sw;
	ts_proc_start(&sw, log, sw_argv);
	ready = ts_wait_ready(ready_sw, &sw, 20000);
	uint16_t port = ts_ready_port(ready, "acq");
	json_decref(ready);
	ts_sleep_ms(500); /* links sign on */

	b->samples = b->answered = b->approved = b->other_codes = 0;
	run_load(b, port);
	qsort(b->samples_us, b->samples, sizeof(uint32_t), cmp_u32);
	double tps = (double)b->answered / b->seconds;
	printf("%-7s %5d %8d %10.0f %8.2f %8.2f %8.2f %8.2f %8.2f %9" PRIu64 "\n",
	       sync ? "sync" : "nosync", b->connections, b->pipeline, tps,
	       pct(b, 0.50), pct(b, 0.90), pct(b, 0.99), pct(b, 0.999),
	       b->samples ? b->samples_us[b->samples - 1] / 1000.0 : 0.0,
	       b->other_codes);
	fflush(stdout);
	ts_proc_signal(&sw, SIGTERM);
	if (!ts_proc_wait(&sw, 20000))
		ts_proc_kill(&sw);
	ts_proc_signal(&bank, SIGTERM);
	if (!ts_proc_wait(&bank, 20000))
		ts_proc_kill(&bank);
	snprintf(path, sizeof(path), "%s", dir);
	ts_rmrf(path);
}

int main(int argc, char **argv)
{
	static bench_t b = {.seconds = 10, .connections = 8, .pipeline = 32,
			    .bank_links = 4, .rng = 0x2545F4914F6CDD1Dull};
	const char *only = NULL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
			b.seconds = atoi(argv[++i]);
		else if (strcmp(argv[i], "--connections") == 0 && i + 1 < argc)
			b.connections = atoi(argv[++i]);
		else if (strcmp(argv[i], "--pipeline") == 0 && i + 1 < argc)
			b.pipeline = atoi(argv[++i]);
		else if (strcmp(argv[i], "--bank-links") == 0 && i + 1 < argc)
			b.bank_links = atoi(argv[++i]);
		else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc)
			only = argv[++i];
		else {
			fprintf(stderr, "usage: bench-switch [--seconds N] [--connections C] "
					"[--pipeline P] [--bank-links L] [--only sync|nosync]\n");
			return 2;
		}
	}
	if (b.seconds < 1 || b.connections < 1 || b.connections > CONNECTIONS_MAX ||
	    b.pipeline < 1 || b.pipeline > PIPELINE_MAX || b.bank_links < 1 ||
	    b.bank_links > 16) {
		fprintf(stderr, "bench-switch: an option is out of range\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	b.dialect = iso8583_dialect_builtin("ascii");
	b.framing = (iso8583_framing_t){ISO8583_LENGTH_BINARY2, 0, 8192, b.dialect};
	b.samples_us = malloc(SAMPLES_MAX * sizeof(uint32_t));
	printf("ISO 8583 0200 purchases: acquirer -> switchd -> banksim -> back; %d s each\n",
	       b.seconds);
	printf("%-7s %5s %8s %10s %8s %8s %8s %8s %8s %9s\n", "commit", "conns",
	       "pipeline", "tps", "p50 ms", "p90 ms", "p99 ms", "p99.9 ms", "max ms",
	       "not 00");
	if (only == NULL || strcmp(only, "sync") == 0)
		run_case(&b, true);
	if (only == NULL || strcmp(only, "nosync") == 0)
		run_case(&b, false);
	free(b.samples_us);
	return 0;
}
