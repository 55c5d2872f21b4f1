/*
 * bench_routing.c: route lookups per second with 1,000 and 100,000 routes.
 *
 * Tables are built like real ones: most prefixes are 6- or 8-digit BINs,
 * some are 9- to 12-digit account ranges. Lookups are 16-digit PANs, four
 * in five under some route and the rest random (mostly misses). Two ways
 * to hold the read transaction are measured: one snapshot for the whole
 * run (the bare lookup), and mdb_txn_reset/mdb_txn_renew around every
 * lookup (switchd's per-message pattern). A last table has a route at
 * every length 1..19, the worst case for the per-length probes.
 *
 * Usage: bench-routing [lookups]   (default 1,000,000 per case)
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core.h"
#include "routing.h"

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t rng(void)
{
	return ps_xorshift64s(&rng_state);
}

static void random_digits(char *out, size_t len)
{
	for (size_t i = 0; i < len; i++)
		out[i] = (char)('0' + rng() % 10);
}

static size_t realistic_length(void)
{
	static const size_t lengths[] = {6, 6, 6, 6, 8, 8, 8, 9, 10, 12};
	return lengths[rng() % 10];
}

static size_t every_length(void)
{
	return 1 + rng() % ROUTE_PREFIX_DIGITS_MAX;
}

typedef struct bench {
	char dir[64];
	MDB_env *env;
	route_table_t table;
	char (*prefixes)[ROUTE_PREFIX_DIGITS_MAX + 1];
	size_t count;
} bench_t;

static void die(const char *what, int rc)
{
	fprintf(stderr, "bench-routing: %s: %s\n", what, route_strerror(rc));
	exit(1);
}

static void build(bench_t *b, size_t count, size_t (*length)(void))
{
	snprintf(b->dir, sizeof(b->dir), "/tmp/bench-routing-XXXXXX");
	if (mkdtemp(b->dir) == NULL)
		die("mkdtemp", PS_EIO);
	int rc = route_env_open(b->dir, 0, MDB_NOSYNC, &b->env);
	if (rc < 0 || (rc = route_table_open(b->env, &b->table, NULL)) < 0)
		die("open", rc);
	b->prefixes = calloc(count, sizeof(*b->prefixes));
	b->count = 0;
	MDB_txn *txn;
	if ((rc = route_txn_begin(b->env, NULL, 0, &txn)) < 0)
		die("txn", rc);
	route_actor_t actor = {"bench@localhost", 0};
	while (b->count < count) {
		char prefix[ROUTE_PREFIX_DIGITS_MAX + 1];
		size_t len = length();
		random_digits(prefix, len);
		route_t r;
		route_init(&r);
		route_set_prefix(&r, prefix, len, NULL);
		route_set_endpoint(&r, "bank", 4, NULL);
		route_t existing;
		if (route_get(&b->table, txn, prefix, len, &existing) == 0)
			continue;
		if ((rc = route_put(&b->table, txn, &actor, &r, NULL, NULL)) < 0)
			die("put", rc);
		memcpy(b->prefixes[b->count], prefix, len);
		b->prefixes[b->count][len] = '\0';
		b->count++;
	}
	if (mdb_txn_commit(txn) != 0)
		die("commit", PS_EIO);
}

static void destroy(bench_t *b)
{
	mdb_env_close(b->env);
	char path[128];
	snprintf(path, sizeof(path), "%s/data.mdb", b->dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/lock.mdb", b->dir);
	unlink(path);
	rmdir(b->dir);
	free(b->prefixes);
}

/* PANs made before timing, so the clock measures lookups only. */
static char (*make_pans(bench_t *b, size_t n))[17]
{
	char (*pans)[17] = malloc(n * sizeof(*pans));
	for (size_t i = 0; i < n; i++) {
		random_digits(pans[i], 16);
		if (rng() % 5 != 0) {
			const char *p = b->prefixes[rng() % b->count];
			memcpy(pans[i], p, strlen(p) < 16 ? strlen(p) : 16);
		}
		pans[i][16] = '\0';
	}
	return pans;
}

static void run(bench_t *b, const char *label, size_t n, bool renew_each)
{
	char(*pans)[17] = make_pans(b, n);
	MDB_txn *txn;
	int rc = route_txn_begin(b->env, NULL, MDB_RDONLY, &txn);
	if (rc < 0)
		die("txn", rc);
	size_t hits = 0, disabled = 0, misses = 0;
	uint64_t start = ps_mono_ns();
	for (size_t i = 0; i < n; i++) {
		if (renew_each) {
			mdb_txn_reset(txn);
			if (mdb_txn_renew(txn) != 0)
				die("renew", PS_EIO);
		}
		route_t out;
		rc = route_lookup(&b->table, txn, pans[i], 16, &out);
		if (rc == 0)
			hits++;
		else if (rc == ROUTE_EDISABLED)
			disabled++;
		else if (rc == PS_ENOTFOUND)
			misses++;
		else
			die("lookup", rc);
	}
	uint64_t ns = ps_mono_ns() - start;
	mdb_txn_abort(txn);
	route_table_info_t info;
	int lengths = 0;
	MDB_txn *t2;
	route_txn_begin(b->env, NULL, MDB_RDONLY, &t2);
	route_table_info(&b->table, t2, &info);
	mdb_txn_abort(t2);
	for (int l = 1; l <= ROUTE_PREFIX_DIGITS_MAX; l++)
		lengths += info.count_by_length[l] > 0;
	printf("%-22s routes=%-7zu lengths=%-2d %-14s lookups=%zu hits=%zu "
	       "misses=%zu  %.0f ns/lookup  %.2f M lookups/s\n",
	       label, b->count, lengths,
	       renew_each ? "renew-per-msg" : "one-snapshot", n, hits, misses,
	       (double)ns / (double)n, (double)n * 1e3 / (double)ns);
	(void)disabled;
	free(pans);
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? (size_t)atol(argv[1]) : 1000000;
	static const struct {
		const char *label;
		size_t count;
		size_t (*length)(void);
	} cases[] = {
		{"realistic-1k", 1000, realistic_length},
		{"realistic-100k", 100000, realistic_length},
		{"every-length-100k", 100000, every_length},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bench_t b;
		build(&b, cases[i].count, cases[i].length);
		run(&b, cases[i].label, n, false);
		run(&b, cases[i].label, n, true);
		destroy(&b);
	}
	return 0;
}
