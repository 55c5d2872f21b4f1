/*
 * test_crash.c: a writer killed with SIGKILL at random moments loses
 * nothing it acknowledged and never leaves a broken book.
 *
 * Each round forks a child that posts batches (plain transfers, linked
 * chains of three, authorisations and their completions) and, only after
 * ledger_create_transfers() returned, writes the ids it was told are in
 * the book to a pipe. The parent kills it after a random delay (seeded),
 * reopens the ledger, runs ledger_check, verifies that every acknowledged
 * id is there, and that every chain is all there or not at all. Rounds
 * alternate the synced and the fast durability mode: a process crash must
 * lose nothing in either. LEDGER_CRASH_ROUNDS sets a longer soak,
 * LEDGER_CRASH_SEED replays one. A second test runs two writer processes
 * on one ledger at once.
 */
#include "core.h"
#include "ledger_test.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>

#define ACCOUNTS 64
#define CHAIN_BIT (1ull << 40)
#define ACK_PER_WRITE 256 /* 16-byte records: one write <= PIPE_BUF */

struct ack {
	uint64_t id;
	uint64_t timestamp;
};

static uint64_t rng_state;
static uint64_t rng(void)
{
	return ps_xorshift64s(&rng_state);
}

static void write_all(int fd, const void *data, size_t len)
{
	/* Writes of at most PIPE_BUF bytes are atomic: the parent never
	 * sees half a record, whenever the kill comes. */
	ssize_t n;
	do {
		n = write(fd, data, len);
	} while (n < 0 && errno == EINTR);
	if (n != (ssize_t)len)
		_exit(3);
}

static void child_acknowledge(int fd, const ledger_transfer_t *t,
			      const ledger_result_t *r, uint32_t n)
{
	struct ack acks[ACK_PER_WRITE];
	uint32_t count = 0;
	for (uint32_t i = 0; i < n; i++) {
		if (!ledger_transfer_result_is_success(r[i].result))
			continue;
		acks[count++] = (struct ack){t[i].id.lo, r[i].timestamp};
		if (count == ACK_PER_WRITE) {
			write_all(fd, acks, sizeof(acks));
			count = 0;
		}
	}
	if (count > 0)
		write_all(fd, acks, count * sizeof(acks[0]));
}

static uint32_t child_fill(ledger_transfer_t *t, uint64_t round,
			   uint64_t *seq, uint64_t *pendings,
			   uint32_t *pending_count)
{
	uint32_t n = 1 + (uint32_t)(rng() % 200);
	for (uint32_t i = 0; i < n; i++) {
		uint64_t id = (round << 32) | ++*seq;
		uint64_t dr = 2 + rng() % ACCOUNTS, cr = 2 + rng() % ACCOUNTS;
		if (cr == dr)
			cr = 1;
		uint64_t kind = rng() % 10;
		if (kind == 0 && i + 3 <= n) {
			/* A chain of three: all or nothing. */
			uint64_t chain = (round << 32) | ++*seq;
			for (int m = 0; m < 3; m++) {
				t[i + (uint32_t)m] = make_transfer(
					CHAIN_BIT | (chain << 2) | (uint64_t)m,
					dr, cr, 1 + rng() % 50);
				if (m < 2)
					t[i + (uint32_t)m].flags =
						LEDGER_TRANSFER_LINKED;
			}
			i += 2;
			continue;
		}
		t[i] = make_transfer(id, dr, cr, 1 + rng() % 100);
		if (kind == 1) {
			t[i].flags = LEDGER_TRANSFER_PENDING;
			if (*pending_count < 1024)
				pendings[(*pending_count)++] = id;
		} else if (kind == 2 && *pending_count > 0) {
			uint64_t p = pendings[rng() % *pending_count];
			t[i] = make_resolve(id, p, LEDGER_TRANSFER_POST_PENDING,
					    0);
		}
	}
	return n;
}

static _Noreturn void child_run(const char *dir, uint32_t durability,
				uint64_t round, int fd)
{
	ledger_options_t o;
	ledger_options_init(&o);
	o.durability = durability;
	o.map_bytes = 1 << 20; /* growth under fire, too */
	ledger_t *l;
	if (ledger_open(&l, dir, &o) != 0)
		_exit(2);
	static ledger_transfer_t t[256];
	static ledger_result_t r[256];
	static uint64_t pendings[1024];
	uint32_t pending_count = 0;
	uint64_t seq = 0;
	for (;;) {
		uint32_t n = child_fill(t, round, &seq, pendings,
					&pending_count);
		if (ledger_create_transfers(l, t, n, r) != 0)
			_exit(4);
		child_acknowledge(fd, t, r, n);
	}
}

struct acks {
	struct ack *items;
	size_t count, cap;
};

static void acks_read(struct acks *a, int fd)
{
	for (;;) {
		if (a->count + ACK_PER_WRITE > a->cap) {
			a->cap = a->cap ? a->cap * 2 : 65536;
			a->items = realloc(a->items, a->cap * sizeof(*a->items));
			assert_non_null(a->items);
		}
		ssize_t n = read(fd, a->items + a->count,
				 ACK_PER_WRITE * sizeof(struct ack));
		if (n <= 0)
			return;
		assert_int_equal(n % (ssize_t)sizeof(struct ack), 0);
		a->count += (size_t)n / sizeof(struct ack);
	}
}

/* Runs one child until the kill; returns how many ids it acknowledged. */
static size_t crash_round(const char *dir, uint32_t durability,
			  uint64_t round, struct acks *a)
{
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		child_run(dir, durability, round, fds[1]);
	}
	close(fds[1]);
	size_t before = a->count;
	fcntl(fds[0], F_SETFL, O_NONBLOCK);
	uint64_t deadline = ps_mono_ms() + 10 + rng() % 150;
	while (ps_mono_ms() < deadline) {
		struct pollfd p = {fds[0], POLLIN, 0};
		poll(&p, 1, 5);
		acks_read(a, fds[0]);
	}
	assert_int_equal(kill(pid, SIGKILL), 0);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	/* Killed, not exited: an exit would be the child failing. */
	if (!WIFSIGNALED(status))
		fail_msg("child exited with %d", WEXITSTATUS(status));
	fcntl(fds[0], F_SETFL, 0);
	acks_read(a, fds[0]);
	close(fds[0]);
	return a->count - before;
}

/* Every chain of three is complete or absent. */
static void check_chains(ledger_t *l)
{
	static ledger_transfer_t page[1024];
	uint32_t n;
	uint64_t after = 0, chain = 0;
	int members = 3;
	do {
		assert_int_equal(ledger_scan_transfers(l, after, page, 1024, &n),
				 0);
		for (uint32_t i = 0; i < n; i++) {
			after = page[i].timestamp;
			if (!(page[i].id.lo & CHAIN_BIT))
				continue;
			uint64_t c = (page[i].id.lo & ~CHAIN_BIT) >> 2;
			if (c != chain) {
				assert_int_equal(members, 3);
				chain = c;
				members = 0;
			}
			assert_int_equal(page[i].id.lo & 3, members);
			members++;
		}
	} while (n > 0);
	assert_int_equal(members, 3);
}

static void test_sigkill_rounds(void **state)
{
	(void)state;
	const char *env = getenv("LEDGER_CRASH_SEED");
	uint64_t seed = env ? strtoull(env, NULL, 0) : 0xc0ffee;
	rng_state = seed * 0x9e3779b97f4a7c15ull + 1;
	env = getenv("LEDGER_CRASH_ROUNDS");
	uint32_t rounds = env ? (uint32_t)atoi(env) : 8;
	char dir[512];
	fixture_tmpdir(dir, sizeof(dir), "ledger-crash");

	/* The accounts, funded, before any child runs. */
	ledger_t *l;
	assert_int_equal(ledger_open(&l, dir, NULL), 0);
	ledger_account_t a[ACCOUNTS + 1];
	ledger_result_t r[ACCOUNTS + 1];
	for (uint64_t i = 0; i <= ACCOUNTS; i++)
		a[i] = make_account(i + 1,
				    i ? LEDGER_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS
				      : 0);
	assert_int_equal(ledger_create_accounts(l, a, ACCOUNTS + 1, r), 0);
	ledger_transfer_t fund[ACCOUNTS];
	for (uint64_t i = 0; i < ACCOUNTS; i++)
		fund[i] = make_transfer(1 + i, 1, 2 + i, 1000000);
	assert_int_equal(ledger_create_transfers(l, fund, ACCOUNTS, r), 0);
	ledger_close(l);

	struct acks acks = {0};
	for (uint32_t round = 1; round <= rounds; round++) {
		uint32_t durability = round % 2 ? LEDGER_DURABILITY_SYNC
						 : LEDGER_DURABILITY_NOSYNC;
		size_t acked = crash_round(dir, durability, round, &acks);
		assert_int_equal(ledger_open(&l, dir, NULL), 0);
		ledger_check_report_t report;
		assert_int_equal(ledger_check(l, &report), 0);
		if (!report.ok)
			fail_msg("seed 0x%llx round %u: %s",
				 (unsigned long long)seed, round,
				 report.first_problem);
		for (size_t i = 0; i < acks.count; i++) {
			ledger_transfer_t t;
			int rc = ledger_transfer_get(
				l, ledger_id_from_u64(acks.items[i].id), &t);
			if (rc != 0 || t.timestamp != acks.items[i].timestamp)
				fail_msg("seed 0x%llx round %u: acknowledged "
					 "transfer %llx lost",
					 (unsigned long long)seed, round,
					 (unsigned long long)acks.items[i].id);
		}
		check_chains(l);
		print_message("round %u (%s): %zu acknowledged, %llu in the "
			      "book\n",
			      round, durability ? "fast" : "sync", acked,
			      (unsigned long long)report.transfers);
		ledger_close(l);
	}
	free(acks.items);
	fixture_rmdir(dir);
}

/* Two processes write the same ledger at once: LMDB serialises their
 * transactions, and neither may trust anything cached from before its
 * own transaction began (timestamps, the largest id, balances). */
static void test_two_writers(void **state)
{
	(void)state;
	char dir[512];
	fixture_tmpdir(dir, sizeof(dir), "ledger-writers");
	ledger_t *l;
	ledger_options_t o;
	ledger_options_init(&o);
	o.durability = LEDGER_DURABILITY_NOSYNC;
	o.map_bytes = 1 << 20; /* both grow the map under each other */
	assert_int_equal(ledger_open(&l, dir, &o), 0);
	ledger_account_t a[3] = {make_account(1, 0), make_account(2, 0),
				 make_account(3, 0)};
	ledger_result_t r[100];
	assert_int_equal(ledger_create_accounts(l, a, 3, r), 0);
	ledger_close(l);
	enum { WRITERS = 2, BATCHES = 60, PER_BATCH = 100 };
	pid_t pids[WRITERS];
	for (int w = 0; w < WRITERS; w++) {
		pids[w] = fork();
		assert_true(pids[w] >= 0);
		if (pids[w] != 0)
			continue;
		ledger_t *cl;
		int orc = ledger_open(&cl, dir, &o);
		if (orc != 0) {
			fprintf(stderr, "writer %d: open: %s\n", w,
				ledger_strerror(orc));
			_exit(2);
		}
		ledger_transfer_t t[PER_BATCH];
		for (uint64_t b = 0; b < BATCHES; b++) {
			/* Interleaved ids: each writer's ids fall below the
			 * other's, so the no-lookup shortcut must not fire on
			 * a stale maximum. */
			for (uint64_t i = 0; i < PER_BATCH; i++)
				t[i] = make_transfer(
					1 + ((b * PER_BATCH + i) * WRITERS +
					     (uint64_t)w),
					1 + (uint64_t)w, 3, 1);
			if (ledger_create_transfers(cl, t, PER_BATCH, r) != 0)
				_exit(3);
			for (int i = 0; i < PER_BATCH; i++)
				if (r[i].result != LEDGER_TRANSFER_OK)
					_exit(4);
		}
		ledger_close(cl);
		_exit(0);
	}
	for (int w = 0; w < WRITERS; w++) {
		int status;
		assert_int_equal(waitpid(pids[w], &status, 0), pids[w]);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	assert_int_equal(ledger_open(&l, dir, NULL), 0);
	ledger_check_report_t report;
	assert_int_equal(ledger_check(l, &report), 0);
	if (!report.ok)
		fail_msg("%s", report.first_problem);
	assert_int_equal(report.transfers, WRITERS * BATCHES * PER_BATCH);
	ledger_account_t got;
	assert_int_equal(ledger_account_get(l, ledger_id_from_u64(3), &got), 0);
	assert_int_equal(got.credits_posted, WRITERS * BATCHES * PER_BATCH);
	/* A retry of any of them, from either writer, is answered exists. */
	ledger_transfer_t t = make_transfer(2, 2, 3, 1);
	assert_int_equal(ledger_create_transfers(l, &t, 1, r), 0);
	assert_int_equal(r[0].result, LEDGER_TRANSFER_EXISTS);
	ledger_close(l);
	fixture_rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sigkill_rounds),
		cmocka_unit_test(test_two_writers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
