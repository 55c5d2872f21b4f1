/*
 * test_routing_env.c: the shared environment. Opening rules, and two
 * processes on one directory: a reader sees a writer's change at its next
 * read transaction (never inside the one it holds), and a reader running
 * while a child process writes always sees a consistent table.
 *
 * LMDB forbids two environments on one directory in one process, so the
 * second environment is always a child process, forked before the parent
 * opens its own.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/stat.h>
#include <sys/wait.h>

#include "routing_fixture.h"

static void make_temp_dir(char *dir, size_t cap)
{
	snprintf(dir, cap, "/tmp/ps-routing-env-XXXXXX");
	assert_non_null(mkdtemp(dir));
}

static void test_env_open_rules(void **state)
{
	(void)state;
	char dir[256], nested[300];
	make_temp_dir(dir, sizeof(dir));
	MDB_env *env;
	snprintf(nested, sizeof(nested), "%s/a/b", dir);

	/* Read-only never creates anything. */
	assert_int_equal(route_env_open(nested, 0, MDB_RDONLY, &env),
			 PS_ENOTFOUND);
	assert_null(env);
	assert_int_equal(route_env_open(nested, 0, MDB_NOLOCK, &env),
			 PS_EINVAL);
	assert_int_equal(route_env_open(nested, 0, MDB_NOSUBDIR, &env),
			 PS_EINVAL);
	assert_int_equal(route_env_open("", 0, 0, &env), PS_EINVAL);

	/* A missing directory and its parents are created. */
	assert_int_equal(route_env_open(nested, 0, 0, &env), 0);
	MDB_envinfo info;
	assert_int_equal(mdb_env_info(env, &info), 0);
	assert_int_equal(info.me_mapsize, ROUTE_ENV_MAP_BYTES_DEFAULT);
	assert_int_equal(info.me_maxreaders, ROUTE_ENV_READERS_MAX);
	unsigned int flags;
	assert_int_equal(mdb_env_get_flags(env, &flags), 0);
	assert_true(flags & MDB_NOTLS);
	mdb_env_close(env);

	/* Read-only on an environment whose table was never created. */
	assert_int_equal(route_env_open(nested, 0, MDB_RDONLY, &env), 0);
	route_table_t table;
	route_error_t err = {0};
	assert_int_equal(route_table_open(env, &table, &err), PS_ENOTFOUND);
	mdb_env_close(env);

	/* A bigger size is kept; 0 or a smaller size adopts the recorded. */
	assert_int_equal(route_env_open(nested, ROUTE_ENV_MAP_BYTES_DEFAULT * 2,
					0, &env),
			 0);
	route_table_t grown;
	assert_int_equal(route_table_open(env, &grown, NULL), 0);
	route_t first = make_route("1", "one");
	MDB_txn *grow;
	assert_int_equal(route_txn_begin(env, NULL, 0, &grow), 0);
	assert_int_equal(route_put(&grown, grow, &test_actor, &first, NULL,
				   NULL),
			 0);
	assert_int_equal(mdb_txn_commit(grow), 0);
	mdb_env_close(env);
	assert_int_equal(route_env_open(nested, 1u << 20, 0, &env), 0);
	assert_int_equal(mdb_env_info(env, &info), 0);
	assert_int_equal(info.me_mapsize, ROUTE_ENV_MAP_BYTES_DEFAULT * 2);
	mdb_env_close(env);
	assert_int_equal(route_env_open(nested, 0, 0, &env), 0);
	assert_int_equal(mdb_env_info(env, &info), 0);
	assert_int_equal(info.me_mapsize, ROUTE_ENV_MAP_BYTES_DEFAULT * 2);
	mdb_env_close(env);

	/* Write to the table, then read it through a read-only environment. */
	assert_int_equal(route_env_open(nested, 0, 0, &env), 0);
	assert_int_equal(route_table_open(env, &table, NULL), 0);
	route_t r = make_route("9", "nine");
	MDB_txn *txn;
	assert_int_equal(route_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(route_put(&table, txn, &test_actor, &r, NULL, NULL), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
	assert_int_equal(route_env_open(nested, 0, MDB_RDONLY, &env), 0);
	assert_int_equal(route_table_open(env, &table, NULL), 0);
	assert_int_equal(route_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
	route_t out;
	assert_int_equal(route_lookup(&table, txn, "99", 2, &out), 0);
	assert_string_equal(out.endpoint, "nine");
	mdb_txn_abort(txn);
	mdb_env_close(env);

	/* A file where the directory should be. */
	char file[300];
	snprintf(file, sizeof(file), "%s/file", dir);
	FILE *fp = fopen(file, "w");
	fclose(fp);
	assert_int_equal(route_env_open_err(file, 0, 0, &env, &err), PS_EIO);
	assert_true(err.reason[0] != '\0');

	unlink(file);
	fixture_rmdir(nested);
	snprintf(nested, sizeof(nested), "%s/a", dir);
	rmdir(nested);
	rmdir(dir);
}

/* ---- two processes ---------------------------------------------------- */

typedef struct child {
	pid_t pid;
	int go_fd;   /* parent writes: the child may start */
	int done_fd; /* parent reads: the child has committed */
} child_t;

static void wait_byte(int fd)
{
	char c;
	while (read(fd, &c, 1) < 0)
		;
}

static void send_byte(int fd)
{
	char c = 'x';
	while (write(fd, &c, 1) < 0)
		;
}

/* Forks a child that waits for "go", runs body(dir, count), reports
 * "done" and exits with body's status. */
static child_t spawn(const char *dir, int count,
		     int (*body)(const char *dir, int count, int done_fd))
{
	int go[2], done[2];
	assert_int_equal(pipe(go), 0);
	assert_int_equal(pipe(done), 0);
	child_t c = {.pid = fork()};
	assert_true(c.pid >= 0);
	if (c.pid == 0) {
		close(go[1]);
		close(done[0]);
		wait_byte(go[0]);
		_exit(body(dir, count, done[1]));
	}
	close(go[0]);
	close(done[1]);
	c.go_fd = go[1];
	c.done_fd = done[0];
	return c;
}

static int child_status(child_t *c)
{
	int status = 0;
	assert_int_equal(waitpid(c->pid, &status, 0), c->pid);
	close(c->go_fd);
	close(c->done_fd);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 100;
}

/* The child's own environment: writes count routes, one per commit. */
static int writer_body(const char *dir, int count, int done_fd)
{
	MDB_env *env;
	route_table_t table;
	if (route_env_open(dir, 64u << 20, MDB_NOSYNC, &env) != 0 ||
	    route_table_open(env, &table, NULL) != 0)
		return 1;
	for (int i = 0; i < count; i++) {
		char prefix[16], endpoint[16];
		snprintf(prefix, sizeof(prefix), "%d", 100000 + i);
		snprintf(endpoint, sizeof(endpoint), "child%d", i);
		route_t r = make_route(prefix, endpoint);
		MDB_txn *txn;
		if (route_txn_begin(env, NULL, 0, &txn) != 0)
			return 2;
		if (route_put(&table, txn, &test_actor, &r, NULL, NULL) != 0) {
			mdb_txn_abort(txn);
			return 3;
		}
		if (mdb_txn_commit(txn) != 0)
			return 4;
	}
	mdb_env_close(env);
	send_byte(done_fd);
	return 0;
}

static void open_table(const char *dir, MDB_env **env, route_table_t *table)
{
	assert_int_equal(route_env_open(dir, 64u << 20, MDB_NOSYNC, env), 0);
	assert_int_equal(route_table_open(*env, table, NULL), 0);
}

/* The held snapshot does not change; the next one has the change. */
static void test_reader_sees_change_at_next_txn(void **state)
{
	(void)state;
	char dir[256];
	make_temp_dir(dir, sizeof(dir));
	child_t c = spawn(dir, 1, writer_body);
	MDB_env *env;
	route_table_t table;
	open_table(dir, &env, &table);

	MDB_txn *txn;
	route_t out;
	route_table_info_t info;
	assert_int_equal(route_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
	assert_int_equal(route_lookup(&table, txn, "1000001", 7, &out),
			 PS_ENOTFOUND);
	send_byte(c.go_fd);
	wait_byte(c.done_fd);
	/* Still the old snapshot. */
	assert_int_equal(route_lookup(&table, txn, "1000001", 7, &out),
			 PS_ENOTFOUND);
	assert_int_equal(route_table_info(&table, txn, &info), 0);
	assert_int_equal(info.version, 0);
	/* The switch's per-message pattern: reset, renew, look up. */
	mdb_txn_reset(txn);
	assert_int_equal(mdb_txn_renew(txn), 0);
	assert_int_equal(route_lookup(&table, txn, "1000001", 7, &out), 0);
	assert_string_equal(out.endpoint, "child0");
	assert_int_equal(route_table_info(&table, txn, &info), 0);
	assert_int_equal(info.version, 1);
	mdb_txn_abort(txn);
	assert_int_equal(child_status(&c), 0);
	mdb_env_close(env);
	fixture_rmdir(dir);
}

#define WRITES 200

/* Every snapshot the reader takes while the child writes is whole: the
 * counts agree with the routes, and the version only goes up. */
static void test_concurrent_writer_and_reader(void **state)
{
	(void)state;
	char dir[256];
	make_temp_dir(dir, sizeof(dir));
	child_t c = spawn(dir, WRITES, writer_body);
	MDB_env *env;
	route_table_t table;
	open_table(dir, &env, &table);
	send_byte(c.go_fd);

	MDB_txn *txn;
	assert_int_equal(route_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
	mdb_txn_reset(txn);
	uint64_t last_version = 0, snapshots = 0;
	uint64_t deadline = ps_mono_ms() + 60000;
	while (last_version < WRITES) {
		assert_true(ps_mono_ms() < deadline);
		assert_int_equal(mdb_txn_renew(txn), 0);
		route_table_info_t info;
		assert_int_equal(route_table_info(&table, txn, &info), 0);
		assert_true(info.version >= last_version);
		assert_int_equal(info.count, info.version);
		route_iter_t it;
		uint32_t seen = 0;
		assert_int_equal(route_iter_open(&table, txn, "", 0, &it), 0);
		for (;;) {
			route_t r;
			bool has;
			assert_int_equal(route_iter_next(&it, &r, &has), 0);
			if (!has)
				break;
			seen++;
		}
		route_iter_close(&it);
		assert_int_equal(seen, info.count);
		if (info.count > 0) {
			char pan[16];
			route_t r;
			snprintf(pan, sizeof(pan), "%d0001",
				 100000 + (int)info.count - 1);
			assert_int_equal(route_lookup(&table, txn, pan,
						      strlen(pan), &r),
					 0);
		}
		last_version = info.version;
		snapshots++;
		mdb_txn_reset(txn);
	}
	mdb_txn_abort(txn);
	assert_int_equal(child_status(&c), 0);
	assert_true(snapshots > 0);
	mdb_env_close(env);
	fixture_rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_env_open_rules),
		cmocka_unit_test(test_reader_sees_change_at_next_txn),
		cmocka_unit_test(test_concurrent_writer_and_reader),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
