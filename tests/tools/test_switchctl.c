/*
 * test_switchctl.c: build/bin/switchctl against a temporary LMDB
 * directory: add, list, lookup, del, enable/disable, import, export and
 * audit; exceptions listed and resolved from records put as switchd
 * writes them; that every --json output parses; and the exit codes (2
 * usage, 3 not found or rejected, 4 I/O).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "core.h"
#include "routing.h"

#define OUTPUT_BYTES_MAX (1 << 20)
#define ARGS_MAX 32

typedef struct fixture {
	char dir[128];  /* scratch: files and the lmdb directory */
	char lmdb[160];
	char out[OUTPUT_BYTES_MAX];
	char err[OUTPUT_BYTES_MAX];
} fixture_t;

static void remove_tree(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	while (d != NULL && (e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		char path[1024];
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (e->d_type == DT_DIR)
			remove_tree(path);
		else
			unlink(path);
	}
	if (d != NULL)
		closedir(d);
	rmdir(dir);
}

static int setup(void **state)
{
	fixture_t *f = calloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/ps-switchctl-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->lmdb, sizeof(f->lmdb), "%s/lmdb", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture_t *f = *state;
	remove_tree(f->dir);
	free(f);
	return 0;
}

static void slurp(const char *path, char *out)
{
	FILE *fp = fopen(path, "rb");
	size_t n = fp != NULL ? fread(out, 1, OUTPUT_BYTES_MAX - 1, fp) : 0;
	out[n] = '\0';
	if (fp != NULL)
		fclose(fp);
}

/*
 * Runs switchctl with the NULL-terminated arguments, stdin from the file
 * stdin_path (or /dev/null); f->out and f->err get its output. Returns
 * the exit status. "--lmdb DIR" is not added: tests say what they mean.
 */
static int run_in(fixture_t *f, const char *stdin_path, const char *first, ...)
{
	const char *argv[ARGS_MAX + 2];
	int argc = 0;
	argv[argc++] = PS_BIN_DIR "/switchctl";
	va_list ap;
	va_start(ap, first);
	for (const char *a = first; a != NULL && argc < ARGS_MAX;
	     a = va_arg(ap, const char *))
		argv[argc++] = a;
	va_end(ap);
	argv[argc] = NULL;
	char out_path[256], err_path[256];
	snprintf(out_path, sizeof(out_path), "%s/stdout", f->dir);
	snprintf(err_path, sizeof(err_path), "%s/stderr", f->dir);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int in = open(stdin_path != NULL ? stdin_path : "/dev/null",
			      O_RDONLY);
		int out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int err = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(in, 0);
		dup2(out, 1);
		dup2(err, 2);
		unsetenv("SWITCHCTL_LMDB");
		setenv("USER", "tester", 1);
		unsetenv("SUDO_USER");
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	slurp(out_path, f->out);
	slurp(err_path, f->err);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

#define run(f, ...) run_in(f, NULL, __VA_ARGS__, NULL)
#define run_stdin(f, path, ...) run_in(f, path, __VA_ARGS__, NULL)

static void write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

/* Every line of f->out parses as a JSON object; returns the count. */
static size_t json_lines(const char *text, json_t **first)
{
	size_t n = 0;
	const char *p = text;
	if (first != NULL)
		*first = NULL;
	while (*p != '\0') {
		const char *nl = strchr(p, '\n');
		assert_non_null(nl);
		json_error_t jerr;
		json_t *obj = json_loadb(p, (size_t)(nl - p), 0, &jerr);
		if (obj == NULL || !json_is_object(obj))
			fail_msg("not a JSON object: %.*s (%s)", (int)(nl - p),
				 p, jerr.text);
		if (n == 0 && first != NULL)
			*first = obj;
		else
			json_decref(obj);
		n++;
		p = nl + 1;
	}
	return n;
}

static const char *json_str(json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));
	assert_non_null(s);
	return s;
}

static void test_add_list_lookup_del(void **state)
{
	fixture_t *f = *state;
	const char *L = f->lmdb;
	assert_int_equal(run(f, "--lmdb", L, "routes", "add", "--prefix",
			     "622202", "--endpoint", "bank_a", "--alt",
			     "bank_a2", "--institution", "01020000", "--note",
			     "ICBC"),
			 0);
	assert_non_null(strstr(f->out, "added 622202 -> bank_a (direct)"));
	assert_int_equal(run(f, "--lmdb", L, "routes", "add", "--prefix", "62",
			     "--endpoint", "unionpay", "--network", "unionpay"),
			 0);
	assert_int_equal(run(f, "--lmdb", L, "routes", "list"), 0);
	assert_non_null(strstr(f->out, "PREFIX"));
	assert_non_null(strstr(f->out, "622202  bank_a"));
	assert_non_null(strstr(f->out, "2 routes, table version 2"));
	assert_non_null(strstr(f->out, "tester@"));

	assert_int_equal(run(f, "--lmdb", L, "routes", "lookup",
			     "6222020000000001"),
			 0);
	assert_non_null(strstr(f->out, "route 622202 matches 6 of 16 digits"));
	assert_non_null(strstr(f->out, "shadowed: 62"));
	assert_int_equal(run(f, "--lmdb", L, "routes", "lookup", "6299"), 0);
	assert_non_null(strstr(f->out, "-> unionpay (unionpay)"));
	assert_int_equal(run(f, "--lmdb", L, "routes", "lookup", "9999"), 3);
	assert_non_null(strstr(f->out, "answers 15"));

	assert_int_equal(run(f, "--lmdb", L, "routes", "disable", "--prefix",
			     "622202"),
			 0);
	assert_int_equal(run(f, "--lmdb", L, "routes", "lookup",
			     "6222020000000001"),
			 3);
	assert_non_null(strstr(f->out, "DISABLED"));
	assert_non_null(strstr(f->out, "answers 91"));
	assert_int_equal(run(f, "--lmdb", L, "routes", "enable", "622202"), 0);
	assert_int_equal(run(f, "--lmdb", L, "routes", "lookup",
			     "6222020000000001"),
			 0);

	assert_int_equal(run(f, "--lmdb", L, "routes", "del", "--prefix",
			     "622202"),
			 0);
	assert_non_null(strstr(f->out, "deleted 622202"));
	assert_int_equal(run(f, "--lmdb", L, "routes", "del", "--prefix",
			     "622202"),
			 3);
	assert_non_null(strstr(f->err, "no route for 622202"));
	assert_int_equal(run(f, "--lmdb", L, "routes", "lookup",
			     "6222020000000001"),
			 0);
	assert_non_null(strstr(f->out, "unionpay"));
}

static void test_json_outputs_parse(void **state)
{
	fixture_t *f = *state;
	const char *L = f->lmdb;
	json_t *obj;
	assert_int_equal(run(f, "--lmdb", L, "--json", "--who", "alice@ops",
			     "routes", "add", "--prefix", "4", "--endpoint",
			     "visa"),
			 0);
	assert_int_equal(json_lines(f->out, &obj), 1);
	assert_string_equal(json_str(obj, "what"), "add");
	assert_string_equal(json_str(obj, "who"), "alice@ops");
	assert_true(json_is_null(json_object_get(obj, "before")));
	assert_string_equal(json_str(json_object_get(obj, "after"), "endpoint"),
			    "visa");
	assert_int_equal(json_integer_value(json_object_get(obj, "version")), 1);
	json_decref(obj);

	/* Global options after the command work too. */
	assert_int_equal(run(f, "--lmdb", L, "routes", "add", "--prefix", "5",
			     "--endpoint", "mc", "--disabled", "--json"),
			 0);
	assert_int_equal(json_lines(f->out, NULL), 1);
	assert_int_equal(run(f, "--lmdb", L, "routes", "list", "--json"), 0);
	assert_int_equal(json_lines(f->out, &obj), 2);
	assert_string_equal(json_str(obj, "prefix"), "4");
	json_decref(obj);

	assert_int_equal(run(f, "--lmdb", L, "--json", "routes", "lookup",
			     "5100000000000000"),
			 3);
	assert_int_equal(json_lines(f->out, &obj), 1);
	assert_string_equal(json_str(obj, "result"), "disabled");
	assert_string_equal(json_str(obj, "response_code"), "91");
	json_decref(obj);
	assert_int_equal(run(f, "--lmdb", L, "--json", "routes", "lookup",
			     "4000"),
			 0);
	assert_int_equal(json_lines(f->out, &obj), 1);
	assert_string_equal(json_str(obj, "result"), "routed");
	assert_int_equal(json_integer_value(json_object_get(obj, "matched_digits")),
			 1);
	json_decref(obj);

	assert_int_equal(run(f, "--lmdb", L, "--json", "audit"), 0);
	assert_int_equal(json_lines(f->out, &obj), 2);
	const char *at = json_str(obj, "at");
	assert_int_equal(strlen(at), 24); /* 2025-11-25T21:07:03.123Z */
	assert_int_equal(at[23], 'Z');
	assert_true(json_is_integer(json_object_get(obj, "at_ms")));
	json_decref(obj);

	/* A failure with --json still prints one object. */
	assert_int_equal(run(f, "--lmdb", L, "--json", "routes", "del", "7"), 3);
	assert_int_equal(json_lines(f->out, &obj), 1);
	assert_true(json_is_false(json_object_get(obj, "ok")));
	assert_int_equal(json_integer_value(json_object_get(obj, "exit")), 3);
	json_decref(obj);
}

static void test_import_export_round_trip(void **state)
{
	fixture_t *f = *state;
	const char *L = f->lmdb;
	char in[256], bad[256], out[256], second[256];
	snprintf(in, sizeof(in), "%s/routes.json", f->dir);
	snprintf(bad, sizeof(bad), "%s/bad.jsonl", f->dir);
	snprintf(out, sizeof(out), "%s/export.jsonl", f->dir);
	snprintf(second, sizeof(second), "%s/export2.jsonl", f->dir);
	write_file(in, "[\n"
		       " {\"prefix\":\"62\",\"endpoint\":\"unionpay\",\"network\":\"unionpay\"},\n"
		       " {\"prefix\":\"622202\",\"endpoint\":\"bank_a\",\"alternates\":[\"bank_a2\"]},\n"
		       " {\"prefix\":\"6217\",\"endpoint\":\"bank_c\",\"network\":\"netclear\"}\n"
		       "]\n");
	assert_int_equal(run(f, "--lmdb", L, "routes", "import", in), 0);
	assert_non_null(strstr(f->out, "3 records, 3 added"));

	/* A bad record rejects the whole file and names its line. */
	write_file(bad, "{\"prefix\":\"9\",\"endpoint\":\"x\"}\n"
			"{\"prefix\":\"8\",\"endpoint\":\"bad name\"}\n");
	assert_int_equal(run(f, "--lmdb", L, "routes", "import", bad), 3);
	assert_non_null(strstr(f->err, "nothing changed"));
	assert_non_null(strstr(f->err, "line 2: endpoint:"));
	assert_int_equal(run(f, "--lmdb", L, "routes", "lookup", "9"), 3);

	assert_int_equal(run(f, "--lmdb", L, "routes", "export", out), 0);
	assert_non_null(strstr(f->out, "exported 3 routes"));
	/* To stdout, the same lines. */
	assert_int_equal(run(f, "--lmdb", L, "routes", "export"), 0);
	assert_int_equal(json_lines(f->out, NULL), 3);
	char exported[4096];
	slurp(out, exported);
	assert_string_equal(exported, f->out);

	/* Replace from stdin into another directory, and export again. */
	char other[200];
	snprintf(other, sizeof(other), "%s/other", f->dir);
	assert_int_equal(run_stdin(f, out, "--lmdb", other, "routes", "import",
				   "-", "--replace"),
			 0);
	assert_int_equal(run(f, "--lmdb", other, "--json", "routes", "export",
			     second),
			 0);
	json_t *obj;
	assert_int_equal(json_lines(f->out, &obj), 1);
	assert_int_equal(json_integer_value(json_object_get(obj, "routes")), 3);
	json_decref(obj);
	char again[4096];
	slurp(second, again);
	/* Same routes in the same order; the stamps say who imported. */
	assert_int_equal(json_lines(again, NULL), 3);
	assert_true(strstr(again, "\"prefix\":\"6217\"") <
		    strstr(again, "\"prefix\":\"622202\""));

	/* A dry run changes nothing. */
	assert_int_equal(run(f, "--lmdb", L, "--json", "routes", "import",
			     "--dry-run", "--replace", bad),
			 3);
	write_file(bad, "{\"prefix\":\"9\",\"endpoint\":\"x\"}\n");
	assert_int_equal(run(f, "--lmdb", L, "--json", "routes", "import",
			     "--dry-run", "--replace", bad),
			 0);
	assert_int_equal(json_lines(f->out, &obj), 1);
	assert_int_equal(json_integer_value(json_object_get(obj, "deleted")), 3);
	assert_true(json_is_true(json_object_get(obj, "dry_run")));
	json_decref(obj);
	assert_int_equal(run(f, "--lmdb", L, "routes", "lookup", "9"), 3);
	assert_int_equal(run(f, "--lmdb", L, "routes", "lookup", "6217000"), 0);
}

static void test_audit_lists_changes(void **state)
{
	fixture_t *f = *state;
	const char *L = f->lmdb;
	assert_int_equal(run(f, "--lmdb", L, "--who", "bob@ops", "routes",
			     "add", "--prefix", "1", "--endpoint", "a"),
			 0);
	assert_int_equal(run(f, "--lmdb", L, "routes", "add", "--prefix", "1",
			     "--endpoint", "b"),
			 0);
	assert_int_equal(run(f, "--lmdb", L, "routes", "del", "1"), 0);
	assert_int_equal(run(f, "--lmdb", L, "audit"), 0);
	assert_non_null(strstr(f->out, "bob@ops"));
	assert_non_null(strstr(f->out, "endpoint a -> b"));
	assert_non_null(strstr(f->out, "delete"));
	assert_non_null(strstr(f->out, "3 records"));
	assert_int_equal(run(f, "--lmdb", L, "audit", "--limit", "1", "--json"),
			 0);
	json_t *obj;
	assert_int_equal(json_lines(f->out, &obj), 1);
	assert_string_equal(json_str(obj, "what"), "delete");
	json_decref(obj);
	assert_int_equal(run(f, "--lmdb", L, "audit", "--since", "1h"), 0);
	assert_non_null(strstr(f->out, "3 records"));
	assert_int_equal(run(f, "--lmdb", L, "audit", "--since", "2999-01-01"),
			 0);
	assert_non_null(strstr(f->out, "0 records"));
	assert_int_equal(run(f, "--lmdb", L, "audit", "--since", "yesterday"),
			 2);
	assert_int_equal(run(f, "--lmdb", L, "audit", "--limit", "0"), 2);
}

static void test_config_and_exit_codes(void **state)
{
	fixture_t *f = *state;
	char config[256], text[512], missing[256];
	snprintf(config, sizeof(config), "%s/switchd.json", f->dir);
	snprintf(text, sizeof(text),
		 "{\"listen\":\"127.0.0.1:0\",\"lmdb\":{\"dir\":\"%s\",\"map_bytes\":67108864}}",
		 f->lmdb);
	write_file(config, text);
	assert_int_equal(run(f, "--config", config, "routes", "add", "--prefix",
			     "3", "--endpoint", "amex"),
			 0);
	assert_int_equal(run(f, "--lmdb", f->lmdb, "routes", "lookup", "37"), 0);

	/* Usage errors: 2. */
	assert_int_equal(run(f, "--lmdb", f->lmdb), 2);
	assert_int_equal(run(f, "--lmdb", f->lmdb, "frobnicate"), 2);
	assert_int_equal(run(f, "--lmdb", f->lmdb, "routes"), 2);
	assert_int_equal(run(f, "--lmdb", f->lmdb, "routes", "add",
			     "--prefix", "3"),
			 2);
	assert_int_equal(run(f, "--lmdb", f->lmdb, "routes", "add",
			     "--prefix"),
			 2);
	assert_int_equal(run(f, "--lmdb", f->lmdb, "routes", "list",
			     "--bogus"),
			 2);
	assert_int_equal(run(f, "routes", "list"), 2);
	assert_non_null(strstr(f->err, "--lmdb"));
	assert_int_equal(run(f, "--help"), 0);
	assert_non_null(strstr(f->out, "usage: switchctl"));
	assert_int_equal(run(f, "routes", "help"), 0);

	/* Rejected or not found: 3. */
	assert_int_equal(run(f, "--lmdb", f->lmdb, "routes", "add", "--prefix",
			     "3x", "--endpoint", "a"),
			 3);
	assert_non_null(strstr(f->err, "prefix: must be 1 to 19 digits"));
	assert_int_equal(run(f, "--lmdb", f->lmdb, "routes", "add", "--prefix",
			     "3", "--endpoint", "a", "--network", "visa"),
			 3);
	assert_non_null(strstr(f->err, "network:"));
	assert_int_equal(run(f, "--lmdb", f->lmdb, "routes", "add", "--prefix",
			     "3", "--endpoint", "a", "--alt", "a"),
			 3);
	assert_non_null(strstr(f->err, "alternates:"));
	assert_int_equal(run(f, "--lmdb", f->lmdb, "routes", "lookup",
			     "12345678901234567890"),
			 3);
	assert_int_equal(run(f, "--lmdb", f->lmdb, "routes", "enable", "77"), 3);

	/* I/O: 4. Reading never creates a directory. */
	snprintf(missing, sizeof(missing), "%s/nowhere", f->dir);
	assert_int_equal(run(f, "--lmdb", missing, "routes", "list"), 4);
	assert_int_equal(access(missing, F_OK), -1);
	assert_int_equal(run(f, "--config", missing, "routes", "list"), 4);
	char nofile[256];
	snprintf(nofile, sizeof(nofile), "%s/none.jsonl", f->dir);
	assert_int_equal(run(f, "--lmdb", f->lmdb, "routes", "import", nofile),
			 4);
}

/* ---- exceptions ------------------------------------------------------ */

/* Two exceptions exactly as switchd writes them (switch/saf.c,
 * raise_exception): a reversal given up and a completion the bank could
 * no longer post. */
static const char exception_47[] =
	"{\"id\":47,\"at_ms\":1795642144300,\"kind\":\"reversal\","
	"\"why\":\"given up after 5 attempts (reversal.attempts_max)\","
	"\"txn\":43,\"leg\":0,\"request_id\":\"PSP01-000043\","
	"\"participant\":\"psp01\",\"endpoint\":\"bank_a\","
	"\"institution\":\"01020000\",\"account\":\"622202******0009\","
	"\"amount\":4321,\"currency\":\"CNY\",\"original_stan\":111111,"
	"\"original_transmit\":\"1125212800\",\"rrn\":\"533021123456\","
	"\"stan\":123456,\"transmit\":\"1125212904\","
	"\"last_code\":\"\",\"attempts\":5,\"advice\":false}";
static const char exception_52[] =
	"{\"id\":52,\"at_ms\":1795642150000,\"kind\":\"completion\","
	"\"why\":\"the bank no longer holds the authorisation (25): the "
	"debit was never posted\",\"txn\":50,\"leg\":1,"
	"\"request_id\":\"ACQ1-7\",\"participant\":\"acq1\","
	"\"endpoint\":\"bank_b\",\"institution\":\"01030000\","
	"\"account\":\"621700******0001\",\"amount\":100000,"
	"\"currency\":\"CNY\",\"original_stan\":222222,"
	"\"original_transmit\":\"1125213000\",\"rrn\":\"533021654321\","
	"\"stan\":654321,\"transmit\":\"1125213010\",\"last_code\":\"25\",\"attempts\":1,"
	"\"advice\":true}";

/* Puts one record as switchd does: the environment opened with routing's
 * settings, the "exceptions" database, an 8-byte big-endian id. Closed
 * again before switchctl runs (one environment per process). */
static void put_exception(const char *lmdb, uint64_t id, const char *text)
{
	MDB_env *env;
	assert_int_equal(route_env_open(lmdb, 0, 0, &env), 0);
	MDB_txn *txn;
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	MDB_dbi dbi;
	assert_int_equal(mdb_dbi_open(txn, "exceptions", MDB_CREATE, &dbi), 0);
	uint8_t key[8];
	ps_be64_put(key, id);
	MDB_val k = {sizeof(key), key};
	MDB_val v = {strlen(text), (void *)text};
	assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

/* The newer first: the listing's order is the ids', not the puts'. */
static void put_exceptions(const char *lmdb)
{
	put_exception(lmdb, 52, exception_52);
	put_exception(lmdb, 47, exception_47);
}

/* Whether the named database exists, looked up without creating it. */
static bool db_exists(const char *lmdb, const char *name)
{
	MDB_env *env;
	assert_int_equal(route_env_open(lmdb, 0, MDB_RDONLY, &env), 0);
	MDB_txn *txn;
	assert_int_equal(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
	MDB_dbi dbi;
	int rc = mdb_dbi_open(txn, name, 0, &dbi);
	mdb_txn_abort(txn);
	mdb_env_close(env);
	assert_true(rc == 0 || rc == MDB_NOTFOUND);
	return rc == 0;
}

static void assert_json_text(json_t *obj, const char *text)
{
	json_t *want = json_loads(text, 0, NULL);
	assert_non_null(want);
	assert_true(json_equal(obj, want));
	json_decref(want);
}

static void test_exceptions_list(void **state)
{
	fixture_t *f = *state;
	const char *L = f->lmdb;
	put_exceptions(L);
	assert_int_equal(run(f, "--lmdb", L, "exceptions"), 0);
	assert_non_null(strstr(f->out, "ID  RAISED"));
	const char *first = strstr(f->out, "\n47  2026-");
	const char *second = strstr(f->out, "\n52  2026-");
	assert_non_null(first);
	assert_non_null(second);
	assert_true(first < second); /* oldest first, by id */
	assert_non_null(strstr(first, "reversal    bank_a    622202******0009"));
	assert_non_null(strstr(first, "4321 fen"));
	assert_non_null(strstr(first, "given up after 5 attempts"));
	assert_non_null(strstr(second, "completion  bank_b"));
	assert_non_null(strstr(f->out, "2 open exceptions\n"));

	/* --json: the stored objects as they are, one per line. */
	json_t *obj;
	assert_int_equal(run(f, "--lmdb", L, "exceptions", "--json"), 0);
	assert_int_equal(json_lines(f->out, &obj), 2);
	assert_json_text(obj, exception_47);
	json_decref(obj);
	assert_int_equal(run(f, "--lmdb", L, "--json", "exceptions", "list",
			     "--limit", "1"),
			 0);
	assert_int_equal(json_lines(f->out, &obj), 1);
	assert_int_equal(json_integer_value(json_object_get(obj, "id")), 47);
	json_decref(obj);
	assert_non_null(strstr(f->err, "raise --limit"));
	assert_int_equal(run(f, "--lmdb", L, "exceptions", "--limit=1"), 0);
	assert_non_null(strstr(f->out, "1 open exception, and more"));

	/* A corrupt record is named and skipped; the others still show. */
	put_exception(L, 49, "{\"id\":50,\"kind\":\"reversal\"}");
	assert_int_equal(run(f, "--lmdb", L, "exceptions"), 4);
	assert_non_null(strstr(f->out, "\n47  "));
	assert_non_null(strstr(f->out, "\n52  "));
	assert_non_null(strstr(f->out, "2 open exceptions\n"));
	assert_non_null(strstr(f->err, "exception 49 is corrupt"));
	assert_non_null(strstr(f->err, "1 corrupt record skipped"));
	assert_int_equal(run(f, "--lmdb", L, "exceptions", "resolve", "49",
			     "--note", "x"),
			 4);

	assert_int_equal(run(f, "--lmdb", L, "exceptions", "--limit", "0"), 2);
	assert_int_equal(run(f, "--lmdb", L, "exceptions", "--bogus"), 2);
	assert_int_equal(run(f, "--lmdb", L, "exceptions", "frob"), 2);
	assert_int_equal(run(f, "--lmdb", L, "exceptions", "help"), 0);
	assert_non_null(strstr(f->out, "exceptions resolve ID --note TEXT"));
}

static void test_exceptions_resolve(void **state)
{
	fixture_t *f = *state;
	const char *L = f->lmdb;
	const char *note = "reversed by hand at bank_a, ticket OPS-7";
	json_t *obj;
	put_exceptions(L);
	uint64_t before_ms = ps_wall_ms();
	assert_int_equal(run(f, "--lmdb", L, "--who", "carol@ops",
			     "exceptions", "resolve", "47", "--note", note),
			 0);
	uint64_t after_ms = ps_wall_ms();
	assert_non_null(strstr(f->out, "resolved exception 47: reversal of "
				       "txn 43 leg 0 at bank_a, 4321 fen\n"));
	assert_non_null(strstr(f->out, "STAN 111111 sent 1125212800"));
	assert_non_null(strstr(f->out, "RRN 533021123456"));
	assert_non_null(strstr(f->out, "by carol@ops at 20"));

	/* One open left; --all shows both, the resolved with who and why. */
	assert_int_equal(run(f, "--lmdb", L, "--json", "exceptions"), 0);
	assert_int_equal(json_lines(f->out, &obj), 1);
	assert_int_equal(json_integer_value(json_object_get(obj, "id")), 52);
	json_decref(obj);
	assert_int_equal(run(f, "--lmdb", L, "exceptions"), 0);
	assert_non_null(strstr(f->out, "1 open exception\n"));
	assert_null(strstr(f->out, "\n47 "));
	assert_int_equal(run(f, "--lmdb", L, "exceptions", "--all", "--json"),
			 0);
	assert_int_equal(json_lines(f->out, &obj), 2);
	assert_int_equal(json_integer_value(json_object_get(obj, "id")), 47);
	assert_string_equal(json_str(obj, "resolved_by"), "carol@ops");
	assert_string_equal(json_str(obj, "note"), note);
	uint64_t resolved_ms =
		(uint64_t)json_integer_value(json_object_get(obj, "resolved_ms"));
	assert_true(resolved_ms >= before_ms && resolved_ms <= after_ms);
	/* Every member switchd wrote is kept as it was. */
	json_object_del(obj, "resolved_ms");
	json_object_del(obj, "resolved_by");
	json_object_del(obj, "note");
	assert_json_text(obj, exception_47);
	json_decref(obj);
	assert_int_equal(run(f, "--lmdb", L, "exceptions", "--all"), 0);
	assert_non_null(strstr(f->out, "ID  STATE"));
	assert_non_null(strstr(f->out, "\n47  resolved  "));
	assert_non_null(strstr(f->out, "\n52  open      "));
	assert_non_null(strstr(f->out, "carol@ops"));
	assert_non_null(strstr(f->out, note));
	assert_non_null(strstr(f->out, "1 open, 1 resolved\n"));

	/* The audit log has the resolution, in words and in JSON. */
	char detail[256];
	snprintf(detail, sizeof(detail),
		 "exception 47 (reversal of txn 43 leg 0 at bank_a, 4321 fen): %s",
		 note);
	assert_int_equal(run(f, "--lmdb", L, "audit"), 0);
	assert_non_null(strstr(f->out, "carol@ops  exception_resolve  -"));
	assert_non_null(strstr(f->out, detail));
	assert_int_equal(run(f, "--lmdb", L, "--json", "audit", "--limit", "1"),
			 0);
	assert_int_equal(json_lines(f->out, &obj), 1);
	assert_string_equal(json_str(obj, "what"), "exception_resolve");
	assert_string_equal(json_str(obj, "who"), "carol@ops");
	assert_string_equal(json_str(obj, "detail"), detail);
	assert_true(json_is_null(json_object_get(obj, "before")));
	assert_true(json_is_null(json_object_get(obj, "after")));
	json_decref(obj);

	/* Once only; an unknown id is not found. */
	assert_int_equal(run(f, "--lmdb", L, "exceptions", "resolve", "47",
			     "--note", "again"),
			 3);
	assert_non_null(strstr(f->err, "exception 47 is not open: already "
				       "resolved by carol@ops at 20"));
	assert_non_null(strstr(f->err, note));
	assert_int_equal(run(f, "--lmdb", L, "--json", "exceptions", "resolve",
			     "999", "--note", "x"),
			 3);
	assert_non_null(strstr(f->err, "no such exception 999"));
	assert_int_equal(json_lines(f->out, &obj), 1);
	assert_true(json_is_false(json_object_get(obj, "ok")));
	json_decref(obj);
	assert_int_equal(run(f, "--lmdb", L, "audit"), 0);
	assert_non_null(strstr(f->out, "1 record\n"));
}

static void test_exceptions_resolve_checks_input(void **state)
{
	fixture_t *f = *state;
	const char *L = f->lmdb;
	json_t *obj;
	put_exceptions(L);
	/* Usage: 2. */
	assert_int_equal(run(f, "--lmdb", L, "exceptions", "resolve", "52"), 2);
	assert_non_null(strstr(f->err, "--note TEXT is required"));
	assert_int_equal(run(f, "--lmdb", L, "exceptions", "resolve", "52",
			     "--note"),
			 2);
	assert_int_equal(run(f, "--lmdb", L, "exceptions", "resolve", "--note",
			     "x"),
			 2);
	assert_int_equal(run(f, "--lmdb", L, "exceptions", "resolve", "52",
			     "53", "--note", "x"),
			 2);
	/* Rejected: 3. */
	char long_note[300];
	memset(long_note, 'n', 256);
	long_note[256] = '\0';
	assert_int_equal(run(f, "--lmdb", L, "exceptions", "resolve", "52",
			     "--note", ""),
			 3);
	assert_int_equal(run(f, "--lmdb", L, "exceptions", "resolve", "52",
			     "--note", "two\nlines"),
			 3);
	assert_non_null(strstr(f->err, "without control characters"));
	assert_int_equal(run(f, "--lmdb", L, "exceptions", "resolve", "52",
			     "--note", long_note),
			 3);
	assert_int_equal(run(f, "--lmdb", L, "exceptions", "resolve", "52",
			     "--note", "\xff"),
			 3);
	assert_int_equal(run(f, "--lmdb", L, "exceptions", "resolve", "5x",
			     "--note", "x"),
			 3);
	assert_int_equal(run(f, "--lmdb", L, "exceptions", "resolve", "0",
			     "--note", "x"),
			 3);
	assert_int_equal(run(f, "--lmdb", L, "--json", "exceptions"), 0);
	assert_int_equal(json_lines(f->out, NULL), 2);

	/* 255 bytes of Chinese (85 characters): all of it in the record, and
	 * the audit detail cut at a character boundary to its 127 bytes. */
	char note[300] = "";
	for (int i = 0; i < 85; i++)
		strcat(note, "\xe5\xaf\xb9"); /* U+5BF9 */
	assert_int_equal(run(f, "--lmdb", L, "--json", "--who", "dave@ops",
			     "exceptions", "resolve", "--note", note, "52"),
			 0);
	assert_int_equal(json_lines(f->out, &obj), 1);
	assert_true(json_is_true(json_object_get(obj, "ok")));
	assert_int_equal(json_integer_value(json_object_get(obj, "id")), 52);
	assert_string_equal(json_str(obj, "note"), note);
	assert_string_equal(json_str(obj, "resolved_by"), "dave@ops");
	json_decref(obj);
	assert_int_equal(run(f, "--lmdb", L, "--json", "audit"), 0);
	/* json_lines refuses a detail that is not UTF-8. */
	assert_int_equal(json_lines(f->out, &obj), 1);
	const char *detail = json_str(obj, "detail");
	const char *head = "exception 52 (completion of txn 50 leg 1 at bank_b, "
			   "100000 fen): \xe5\xaf\xb9";
	assert_memory_equal(detail, head, strlen(head));
	assert_true(strlen(detail) <= ROUTE_DETAIL_BYTES_MAX);
	assert_true(strlen(detail) > ROUTE_DETAIL_BYTES_MAX - 6);
	assert_string_equal(detail + strlen(detail) - 3, "...");
	json_decref(obj);
	assert_int_equal(run(f, "--lmdb", L, "exceptions"), 0);
	assert_non_null(strstr(f->out, "\n47  "));
	assert_non_null(strstr(f->out, "1 open exception\n"));
}

static void test_exceptions_fresh_environment(void **state)
{
	fixture_t *f = *state;
	const char *L = f->lmdb;
	/* An environment switchd never ran on: a route table, no exceptions. */
	assert_int_equal(run(f, "--lmdb", L, "routes", "add", "--prefix", "62",
			     "--endpoint", "unionpay"),
			 0);
	assert_int_equal(run(f, "--lmdb", L, "--json", "exceptions"), 0);
	assert_string_equal(f->out, "");
	assert_string_equal(f->err, "");
	assert_int_equal(run(f, "--lmdb", L, "--json", "exceptions", "--all"),
			 0);
	assert_string_equal(f->out, "");
	assert_int_equal(run(f, "--lmdb", L, "exceptions", "--all"), 0);
	assert_non_null(strstr(f->out, "0 open, 0 resolved\n"));
	assert_int_equal(run(f, "--lmdb", L, "exceptions", "resolve", "1",
			     "--note", "x"),
			 3);
	assert_non_null(strstr(f->err, "no such exception 1"));
	/* Reading and a refused resolution created nothing. */
	assert_true(db_exists(L, "routes"));
	assert_false(db_exists(L, "exceptions"));
	assert_false(db_exists(L, "exceptions_resolved"));

	char missing[256];
	snprintf(missing, sizeof(missing), "%s/nowhere", f->dir);
	assert_int_equal(run(f, "--lmdb", missing, "exceptions"), 4);
	assert_int_equal(run(f, "--lmdb", missing, "exceptions", "resolve",
			     "1", "--note", "x"),
			 4);
	assert_int_equal(access(missing, F_OK), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_add_list_lookup_del, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_json_outputs_parse, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_import_export_round_trip,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_audit_lists_changes, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_config_and_exit_codes,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_exceptions_list, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_exceptions_resolve, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_exceptions_resolve_checks_input,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_exceptions_fresh_environment,
						setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
