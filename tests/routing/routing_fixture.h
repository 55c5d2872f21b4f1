/*
 * routing_fixture.h: a fresh LMDB environment and route table per test, in
 * a temporary directory removed afterwards. Header-only, for the routing
 * test suites.
 */
#ifndef PAYSWITCH_TEST_ROUTING_FIXTURE_H
#define PAYSWITCH_TEST_ROUTING_FIXTURE_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "routing.h"

typedef struct fixture {
	char dir[256];
	MDB_env *env;
	route_table_t table;
} fixture_t;

static inline void fixture_rmdir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	while (d != NULL && (e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		char path[1024];
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		unlink(path);
	}
	if (d != NULL)
		closedir(d);
	rmdir(dir);
}

static inline int fixture_setup(void **state)
{
	fixture_t *f = calloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/ps-routing-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	if (route_env_open(f->dir, 64u << 20, MDB_NOSYNC, &f->env) != 0)
		return -1;
	if (route_table_open(f->env, &f->table, NULL) != 0)
		return -1;
	*state = f;
	return 0;
}

static inline int fixture_teardown(void **state)
{
	fixture_t *f = *state;
	mdb_env_close(f->env);
	fixture_rmdir(f->dir);
	free(f);
	return 0;
}

static const route_actor_t test_actor = {"tester@host", 1700000000000ull};

/* A route with the given prefix and endpoint and the defaults. */
static inline route_t make_route(const char *prefix, const char *endpoint)
{
	route_t r;
	route_init(&r);
	if (route_set_prefix(&r, prefix, strlen(prefix), NULL) != 0 ||
	    route_set_endpoint(&r, endpoint, strlen(endpoint), NULL) != 0)
		abort();
	return r;
}

/* Puts one route in its own committed transaction; returns the code. */
static inline int put_route(fixture_t *f, const route_t *r)
{
	MDB_txn *txn;
	if (route_txn_begin(f->env, NULL, 0, &txn) != 0)
		return PS_EIO;
	int rc = route_put(&f->table, txn, &test_actor, r, NULL, NULL);
	if (rc == 0)
		return mdb_txn_commit(txn) == 0 ? 0 : PS_EIO;
	mdb_txn_abort(txn);
	return rc;
}

static inline int lookup(fixture_t *f, const char *digits, route_t *out)
{
	MDB_txn *txn;
	if (route_txn_begin(f->env, NULL, MDB_RDONLY, &txn) != 0)
		return PS_EIO;
	int rc = route_lookup(&f->table, txn, digits, strlen(digits), out);
	mdb_txn_abort(txn);
	return rc;
}

static inline route_table_info_t table_info(fixture_t *f)
{
	MDB_txn *txn;
	route_table_info_t info = {0};
	if (route_txn_begin(f->env, NULL, MDB_RDONLY, &txn) != 0)
		abort();
	if (route_table_info(&f->table, txn, &info) != 0)
		abort();
	mdb_txn_abort(txn);
	return info;
}

#endif
