/*
 * context.c: switchctl's global options, who is making a change, and
 * finding and opening the switch's LMDB environment: --lmdb DIR, else
 * lmdb.dir (and lmdb.map_bytes) from --config FILE, else $SWITCHCTL_LMDB.
 */
#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "switchctl.h"

/* "alice@host": the person behind sudo if any, and the short host name. */
static void default_who(char *out, size_t cap)
{
	const char *user = getenv("SUDO_USER");
	if (user == NULL || user[0] == '\0')
		user = getenv("USER");
	if (user == NULL || user[0] == '\0') {
		struct passwd *pw = getpwuid(getuid());
		user = pw != NULL ? pw->pw_name : "unknown";
	}
	char host[256] = "localhost";
	if (gethostname(host, sizeof(host)) != 0)
		strcpy(host, "localhost");
	host[sizeof(host) - 1] = '\0';
	char *dot = strchr(host, '.');
	if (dot != NULL)
		*dot = '\0';
	snprintf(out, cap, "%s@%s", user, host);
}

void sc_ctx_init(sc_ctx_t *ctx)
{
	memset(ctx, 0, sizeof(*ctx));
	default_who(ctx->who, sizeof(ctx->who));
}

static bool is_opt(const char *arg, const char *name, const char **inline_value)
{
	size_t n = strlen(name);
	if (strncmp(arg, name, n) != 0)
		return false;
	if (arg[n] == '\0') {
		*inline_value = NULL;
		return true;
	}
	if (arg[n] == '=') {
		*inline_value = arg + n + 1;
		return true;
	}
	return false;
}

int sc_global_option(sc_ctx_t *ctx, int argc, char **argv, int *i)
{
	const char *arg = argv[*i];
	const char *value;
	if (strcmp(arg, "--json") == 0) {
		ctx->json = true;
		(*i)++;
		return 1;
	}
	const char *names[] = {"--lmdb", "--config", "--who", "--control"};
	for (size_t k = 0; k < PS_ARRAY_LEN(names); k++) {
		if (!is_opt(arg, names[k], &value))
			continue;
		if (value == NULL) {
			if (*i + 1 >= argc) {
				sc_fail(ctx, SC_EXIT_USAGE, "%s needs a value",
					names[k]);
				return -SC_EXIT_USAGE;
			}
			value = argv[*i + 1];
			(*i)++;
		}
		(*i)++;
		if (k == 0) {
			ctx->lmdb_dir = value;
		} else if (k == 1) {
			ctx->config_path = value;
		} else if (k == 3) {
			ctx->control = value;
		} else {
			/* The library checks the text when it writes. */
			if (strlen(value) == 0 ||
			    strlen(value) > ROUTE_WHO_BYTES_MAX) {
				sc_fail(ctx, SC_EXIT_USAGE,
					"--who: 1 to %d bytes",
					ROUTE_WHO_BYTES_MAX);
				return -SC_EXIT_USAGE;
			}
			ps_strlcpy(ctx->who, value, sizeof(ctx->who));
		}
		return 1;
	}
	return 0;
}

int sc_config_path(sc_ctx_t *ctx, const char *path, char *out, size_t cap)
{
	const char *slash = strrchr(ctx->config_path, '/');
	int n = path[0] == '/' || slash == NULL
			? snprintf(out, cap, "%s", path)
			: snprintf(out, cap, "%.*s/%s",
				   (int)(slash - ctx->config_path),
				   ctx->config_path, path);
	if (n < 0 || (size_t)n >= cap)
		return sc_fail(ctx, SC_EXIT_USAGE, "config %s: %s: path too long",
			       ctx->config_path, path);
	return SC_EXIT_OK;
}

/* Reads lmdb.dir (relative to the config's folder, as switchd reads it)
 * and lmdb.map_bytes from the switch's config file. */
static int read_config(sc_ctx_t *ctx)
{
	json_error_t jerr;
	json_t *root = json_load_file(ctx->config_path, JSON_REJECT_DUPLICATES,
				      &jerr);
	if (root == NULL) {
		bool missing = jerr.line < 1;
		return sc_fail(ctx, missing ? SC_EXIT_IO : SC_EXIT_USAGE,
			       "config %s: %s", ctx->config_path, jerr.text);
	}
	json_t *lmdb = json_object_get(root, "lmdb");
	json_t *dir = json_object_get(lmdb, "dir");
	json_t *map = json_object_get(lmdb, "map_bytes");
	int rc = SC_EXIT_OK;
	if (!json_is_string(dir) || json_string_length(dir) == 0 ||
	    json_string_length(dir) >= sizeof(ctx->dir)) {
		rc = sc_fail(ctx, SC_EXIT_USAGE,
			     "config %s: lmdb.dir must be a directory name",
			     ctx->config_path);
	} else if (map != NULL && (!json_is_integer(map) ||
				   json_integer_value(map) < 0)) {
		rc = sc_fail(ctx, SC_EXIT_USAGE,
			     "config %s: lmdb.map_bytes must be a byte count",
			     ctx->config_path);
	} else if ((rc = sc_config_path(ctx, json_string_value(dir), ctx->dir,
					sizeof(ctx->dir))) == SC_EXIT_OK) {
		if (map != NULL)
			ctx->map_bytes = (size_t)json_integer_value(map);
	}
	json_decref(root);
	return rc;
}

static int resolve_dir(sc_ctx_t *ctx)
{
	if (ctx->lmdb_dir != NULL && ctx->lmdb_dir[0] != '\0') {
		ps_strlcpy(ctx->dir, ctx->lmdb_dir, sizeof(ctx->dir));
		/* The config may still say how big the map is. */
		if (ctx->config_path == NULL)
			return SC_EXIT_OK;
		char dir[sizeof(ctx->dir)];
		memcpy(dir, ctx->dir, sizeof(dir));
		int rc = read_config(ctx);
		memcpy(ctx->dir, dir, sizeof(dir));
		return rc;
	}
	if (ctx->config_path != NULL)
		return read_config(ctx);
	const char *env = getenv("SWITCHCTL_LMDB");
	if (env != NULL && env[0] != '\0') {
		ps_strlcpy(ctx->dir, env, sizeof(ctx->dir));
		return SC_EXIT_OK;
	}
	return sc_fail(ctx, SC_EXIT_USAGE,
		       "which switch? give --lmdb DIR or --config FILE, or set SWITCHCTL_LMDB");
}

int sc_open_store(sc_ctx_t *ctx, bool create)
{
	int rc = resolve_dir(ctx);
	if (rc != SC_EXIT_OK)
		return rc;
	struct stat st;
	/* Reading never creates: a mistyped path is an error, not a new
	 * empty table. A change may create the store (before the switch
	 * first runs), and says so: a table the switch never reads is how
	 * a route change silently goes nowhere. */
	bool missing = stat(ctx->dir, &st) != 0;
	if (missing && !create)
		return sc_fail(ctx, SC_EXIT_IO, "%s: %s", ctx->dir,
			       strerror(errno));
	if (missing)
		fprintf(stderr, "switchctl: %s did not exist: creating a new, "
			"empty switch store there (switchd reads lmdb.dir of "
			"its config)\n", ctx->dir);
	route_error_t err = {0};
	int code = route_env_open_err(ctx->dir, ctx->map_bytes, 0, &ctx->env,
				      &err);
	if (code == 0)
		code = route_table_open(ctx->env, &ctx->table, &err);
	if (code < 0) {
		sc_close_store(ctx);
		return sc_fail(ctx, SC_EXIT_IO, "cannot open the route table in %s: %s",
			       ctx->dir, err.reason);
	}
	return SC_EXIT_OK;
}

void sc_close_store(sc_ctx_t *ctx)
{
	if (ctx->env != NULL)
		mdb_env_close(ctx->env);
	ctx->env = NULL;
}

int sc_begin(sc_ctx_t *ctx, bool write, MDB_txn **txn)
{
	int rc = route_txn_begin(ctx->env, NULL, write ? 0 : MDB_RDONLY, txn);
	if (rc < 0)
		return sc_fail(ctx, SC_EXIT_IO, "cannot begin a transaction: %s",
			       route_strerror(rc));
	return SC_EXIT_OK;
}

int sc_commit(sc_ctx_t *ctx, MDB_txn *txn)
{
	int mrc = mdb_txn_commit(txn);
	if (mrc != 0)
		return sc_fail(ctx, SC_EXIT_IO, "cannot commit: %s",
			       mdb_strerror(mrc));
	return SC_EXIT_OK;
}
