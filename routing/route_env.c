/*
 * route_env.c: opening the switch's shared LMDB environment with the
 * settings every process must agree on, beginning transactions that
 * survive another process growing the map, and opening the table's
 * databases.
 */
#include "routing_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* Flags a caller may choose; the rest would break sharing the directory
 * between processes (MDB_NOLOCK, MDB_NOSUBDIR) or are unsafe with it. */
#define ALLOWED_FLAGS                                                          \
	(MDB_RDONLY | MDB_NOSYNC | MDB_NOMETASYNC | MDB_MAPASYNC |             \
	 MDB_WRITEMAP | MDB_NORDAHEAD | MDB_NOMEMINIT | MDB_NOTLS)

#define DIR_MODE 0770
#define FILE_MODE 0660
#define PATH_BYTES_MAX 4096

/* mkdir -p, with the reason for a human. */
static int make_dirs(const char *dir, route_error_t *err)
{
	if (strlen(dir) >= PATH_BYTES_MAX)
		return route_fail(err, PS_EINVAL, "", "directory name too long");
	if (ps_mkdir_p(dir, DIR_MODE) == 0)
		return 0;
	int e = errno;
	route_fail(err, PS_EIO, "", "cannot create %s: %s", dir, strerror(e));
	if (err != NULL)
		err->mdb_rc = e;
	return PS_EIO;
}

int route_env_open_err(const char *dir, size_t map_bytes, unsigned int flags,
		       MDB_env **out, route_error_t *err)
{
	*out = NULL;
	if (dir == NULL || dir[0] == '\0')
		return route_fail(err, PS_EINVAL, "", "no LMDB directory given");
	if ((flags & ~ALLOWED_FLAGS) != 0)
		return route_fail(err, PS_EINVAL, "",
				  "MDB_NOSUBDIR, MDB_NOLOCK and MDB_FIXEDMAP are refused: the environment is a shared directory");
	int rc;
	if ((flags & MDB_RDONLY) == 0 && (rc = make_dirs(dir, err)) < 0)
		return rc;
	char data_path[PATH_BYTES_MAX];
	struct stat st;
	snprintf(data_path, sizeof(data_path), "%s/data.mdb", dir);
	bool existed = stat(data_path, &st) == 0;
	MDB_env *env;
	int mrc = mdb_env_create(&env);
	if (mrc != 0)
		return route_fail_mdb(err, mrc, "mdb_env_create");
	size_t want = map_bytes != 0 ? map_bytes : ROUTE_ENV_MAP_BYTES_DEFAULT;
	/* A new environment records its size when it is created. An existing
	 * one gets no size before opening, so LMDB adopts the recorded size
	 * where a configured one would replace it, even a smaller one; a
	 * larger size is set after opening and recorded at the next commit
	 * that writes. */
	if ((mrc = mdb_env_set_maxdbs(env, ROUTE_ENV_DBS_MAX)) != 0 ||
	    (mrc = mdb_env_set_maxreaders(env, ROUTE_ENV_READERS_MAX)) != 0 ||
	    (!existed && (mrc = mdb_env_set_mapsize(env, want)) != 0)) {
		mdb_env_close(env);
		return route_fail_mdb(err, mrc, "configuring the environment");
	}
	mrc = mdb_env_open(env, dir, flags | MDB_NOTLS, FILE_MODE);
	if (mrc != 0) {
		mdb_env_close(env);
		char doing[256];
		snprintf(doing, sizeof(doing), "opening LMDB in %s", dir);
		return route_fail_mdb(err, mrc, doing);
	}
	MDB_envinfo info;
	if ((mrc = mdb_env_info(env, &info)) != 0 ||
	    (map_bytes > info.me_mapsize &&
	     (mrc = mdb_env_set_mapsize(env, map_bytes)) != 0)) {
		mdb_env_close(env);
		return route_fail_mdb(err, mrc, "setting the map size");
	}
	/* A process that died inside a read transaction leaves its reader
	 * slot taken; clearing them here keeps the table bounded and the
	 * free pages reusable. */
	int dead;
	(void)mdb_reader_check(env, &dead);
	*out = env;
	return 0;
}

int route_env_open(const char *dir, size_t map_bytes, unsigned int flags,
		   MDB_env **out)
{
	route_error_t err = {0};
	int rc = route_env_open_err(dir, map_bytes, flags, out, &err);
	if (rc < 0) {
		ps_log_t *l = ps_log_begin(PS_LOG_ERROR, "route_env_open_failed");
		ps_log_str(l, "dir", dir != NULL ? dir : "");
		ps_log_str(l, "error", err.reason);
		ps_log_int(l, "code", rc);
		ps_log_end(l);
	}
	return rc;
}

int route_txn_begin(MDB_env *env, MDB_txn *parent, unsigned int flags,
		    MDB_txn **out)
{
	int mrc = mdb_txn_begin(env, parent, flags, out);
	if (mrc == MDB_MAP_RESIZED) {
		/* Another process grew the map; adopt its size. */
		mrc = mdb_env_set_mapsize(env, 0);
		if (mrc == 0)
			mrc = mdb_txn_begin(env, parent, flags, out);
	}
	if (mrc == 0)
		return 0;
	*out = NULL;
	return mrc == MDB_READERS_FULL ? PS_ELIMIT : PS_EIO;
}

int route_table_open(MDB_env *env, route_table_t *out, route_error_t *err)
{
	unsigned int env_flags = 0;
	int mrc = mdb_env_get_flags(env, &env_flags);
	if (mrc != 0)
		return route_fail_mdb(err, mrc, "mdb_env_get_flags");
	bool read_only = (env_flags & MDB_RDONLY) != 0;
	MDB_txn *txn;
	int rc = route_txn_begin(env, NULL, read_only ? MDB_RDONLY : 0, &txn);
	if (rc < 0)
		return route_fail(err, rc, "", "cannot begin a transaction");
	unsigned int db_flags = read_only ? 0 : MDB_CREATE;
	route_table_t t = {.env = env};
	if ((mrc = mdb_dbi_open(txn, ROUTE_DB_ROUTES, db_flags, &t.routes)) != 0 ||
	    (mrc = mdb_dbi_open(txn, ROUTE_DB_META, db_flags, &t.meta)) != 0 ||
	    (mrc = mdb_dbi_open(txn, ROUTE_DB_AUDIT, db_flags, &t.audit)) != 0) {
		mdb_txn_abort(txn);
		rc = route_fail_mdb(err, mrc, "opening the route databases");
		return rc;
	}
	if (!read_only) {
		/* The meta record exists from the start, so a reader never
		 * has to tell "empty" from "never created". */
		MDB_val key = {sizeof(ROUTE_META_KEY) - 1, (void *)ROUTE_META_KEY};
		MDB_val value;
		mrc = mdb_get(txn, t.meta, &key, &value);
		if (mrc == MDB_NOTFOUND) {
			route_table_info_t empty = {0};
			rc = route_meta_store(&t, txn, &empty, err);
			if (rc < 0) {
				mdb_txn_abort(txn);
				return rc;
			}
		} else if (mrc != 0) {
			mdb_txn_abort(txn);
			return route_fail_mdb(err, mrc, "reading the route meta");
		}
	}
	mrc = mdb_txn_commit(txn);
	if (mrc != 0)
		return route_fail_mdb(err, mrc, "committing the route databases");
	*out = t;
	return 0;
}
