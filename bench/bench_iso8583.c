/*
 * bench_iso8583.c: how many typical 0200 purchases one core unpacks and
 * packs per second, in each built-in dialect.
 *
 * The message is what an acquirer sends for a card purchase: 17 fields
 * (2, 3, 4, 7, 11, 12, 13, 14, 22, 25, 32, 35, 37, 41, 42, 43, 49).
 * Measured per dialect: unpack; pack of the unpacked message (forwarding:
 * wire spans copied); unpack+pack (a switch's per-message codec cost); and
 * pack from plain values (an adapter encoding from its own record). Each
 * figure is the median of several timed runs. Numbers only: a benchmark
 * never asserts timing.
 *
 *   build/bin/bench-iso8583 [--runs N] [--ms-per-run M]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "iso8583.h"

enum { OP_UNPACK, OP_PACK, OP_BOTH, OP_PACK_PLAIN, OPS };
static const char *const op_names[OPS] = {"unpack", "pack", "unpack+pack",
					  "pack(plain)"};

static iso8583_msg_t plain, msg;
static uint8_t wire[512], out[512];
static size_t wire_len;
static volatile uint64_t sink; /* keeps the loops from being optimised out */

static void build_purchase(const iso8583_dialect_t *d)
{
	iso8583_msg_init(&plain, d);
	iso8583_set_mti(&plain, "0200");
	iso8583_set_str(&plain, 2, "6222020000000001");
	iso8583_set_str(&plain, 3, "000000");
	iso8583_set_num(&plain, 4, 12850);
	iso8583_set_str(&plain, 7, "0611191024");
	iso8583_set_num(&plain, 11, 123456);
	iso8583_set_str(&plain, 12, "191024");
	iso8583_set_str(&plain, 13, "0611");
	iso8583_set_str(&plain, 14, "2512");
	iso8583_set_str(&plain, 22, "051");
	iso8583_set_str(&plain, 25, "00");
	iso8583_set_str(&plain, 32, "48020000");
	iso8583_set_str(&plain, 35, "6222020000000001=2512101");
	iso8583_set_str(&plain, 37, "061119123456");
	iso8583_set_str(&plain, 41, "TERM0001");
	iso8583_set_str(&plain, 42, "MERCHANT0000001");
	iso8583_set_str(&plain, 43, "THREE SQUIRRELS WUHU          ANHUI   CN");
	iso8583_set_str(&plain, 49, "156");
	iso8583_error_t err;
	if (iso8583_pack(&plain, wire, sizeof(wire), &wire_len, &err) != 0) {
		fprintf(stderr, "bench-iso8583: pack: %s\n", err.reason);
		exit(1);
	}
}

/* Runs op `count` times; returns the nanoseconds taken. */
static uint64_t run_op(int op, const iso8583_dialect_t *d, uint64_t count)
{
	iso8583_error_t err;
	size_t len = 0;
	uint64_t acc = 0;
	if (op == OP_PACK)
		iso8583_unpack(&msg, d, wire, wire_len, &err);
	uint64_t t0 = ps_mono_ns();
	for (uint64_t i = 0; i < count; i++) {
		switch (op) {
		case OP_UNPACK:
			acc += (uint64_t)iso8583_unpack(&msg, d, wire, wire_len, &err);
			acc += msg.field[43].size;
			break;
		case OP_PACK:
			acc += (uint64_t)iso8583_pack(&msg, out, sizeof(out), &len, &err);
			acc += out[len - 1];
			break;
		case OP_BOTH:
			acc += (uint64_t)iso8583_unpack(&msg, d, wire, wire_len, &err);
			acc += (uint64_t)iso8583_pack(&msg, out, sizeof(out), &len, &err);
			acc += out[len - 1];
			break;
		default:
			acc += (uint64_t)iso8583_pack(&plain, out, sizeof(out), &len, &err);
			acc += out[len - 1];
			break;
		}
	}
	uint64_t ns = ps_mono_ns() - t0;
	sink += acc;
	return ns > 0 ? ns : 1;
}

static int compare_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

#define RUNS_MAX 51

/* Median messages per second over `runs` runs of about ms_per_run each. */
static uint64_t measure(int op, const iso8583_dialect_t *d, int runs,
			uint64_t ms_per_run)
{
	/* calibrate the count to the time wanted, after a warm-up */
	uint64_t count = 10000;
	uint64_t ns = run_op(op, d, count);
	count = PS_MAX(count * ms_per_run * 1000000 / ns, 1000u);
	uint64_t rate[RUNS_MAX];
	for (int r = 0; r < runs; r++)
		rate[r] = count * 1000000000ull / run_op(op, d, count);
	qsort(rate, (size_t)runs, sizeof(rate[0]), compare_u64);
	return rate[runs / 2];
}

int main(int argc, char **argv)
{
	int runs = 7;
	uint64_t ms_per_run = 200;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
			runs = atoi(argv[++i]);
		else if (strcmp(argv[i], "--ms-per-run") == 0 && i + 1 < argc)
			ms_per_run = (uint64_t)atoll(argv[++i]);
		else {
			fprintf(stderr, "usage: bench-iso8583 [--runs N] [--ms-per-run M]\n");
			return 2;
		}
	}
	if (runs < 1 || runs > RUNS_MAX || ms_per_run < 1) {
		fprintf(stderr, "bench-iso8583: runs 1-%d, ms-per-run >= 1\n", RUNS_MAX);
		return 2;
	}
	printf("bench-iso8583: 0200 purchase, 17 fields; messages per second on one core,\n"
	       "median of %d runs of ~%llu ms each\n\n", runs,
	       (unsigned long long)ms_per_run);
	printf("%-16s %5s", "dialect", "bytes");
	for (int op = 0; op < OPS; op++)
		printf(" %13s", op_names[op]);
	printf("\n");
	for (size_t i = 0; i < iso8583_dialect_builtin_count(); i++) {
		const iso8583_dialect_t *d = iso8583_dialect_builtin_at(i);
		build_purchase(d);
		printf("%-16s %5zu", d->name, wire_len);
		fflush(stdout);
		for (int op = 0; op < OPS; op++) {
			printf(" %13llu", (unsigned long long)measure(op, d, runs, ms_per_run));
			fflush(stdout);
		}
		printf("\n");
	}
	return 0;
}
