/*
 * cmd_routes.c: switchctl routes ...: the offline route commands. They
 * open the switch's LMDB environment directly; a running switchd sees a
 * change at its next message. Each change is one write transaction with
 * its audit record (routing.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "switchctl.h"

/* ---- arguments -------------------------------------------------------- */

typedef struct args {
	int argc;
	char **argv;
	int i;
} args_t;

/*
 * Takes "--name VALUE" or "--name=VALUE" at the cursor. Returns 1 and
 * *value when it matches, 0 when it does not, -SC_EXIT_USAGE when the
 * value is missing.
 */
static int take_value(sc_ctx_t *ctx, args_t *a, const char *name,
		      const char **value)
{
	const char *arg = a->argv[a->i];
	size_t n = strlen(name);
	if (strncmp(arg, name, n) != 0 || (arg[n] != '\0' && arg[n] != '='))
		return 0;
	if (arg[n] == '=') {
		*value = arg + n + 1;
		a->i++;
		return 1;
	}
	if (a->i + 1 >= a->argc)
		return -sc_fail(ctx, SC_EXIT_USAGE, "%s needs a value", name);
	*value = a->argv[a->i + 1];
	a->i += 2;
	return 1;
}

static bool take_flag(args_t *a, const char *name)
{
	if (strcmp(a->argv[a->i], name) != 0)
		return false;
	a->i++;
	return true;
}

/*
 * The loop every subcommand's parser starts with: global options are
 * taken here; returns 1 to go on with a.argv[a.i], 0 at the end, or a
 * negative exit code.
 */
static int next_arg(sc_ctx_t *ctx, args_t *a)
{
	while (a->i < a->argc) {
		int rc = sc_global_option(ctx, a->argc, a->argv, &a->i);
		if (rc < 0)
			return rc;
		if (rc == 0)
			return 1;
	}
	return 0;
}

static int unknown_arg(sc_ctx_t *ctx, const char *command, const char *arg)
{
	return sc_fail(ctx, SC_EXIT_USAGE, "routes %s: unexpected \"%s\" (try routes help)",
		       command, arg);
}

static bool is_option(const char *arg)
{
	return arg[0] == '-' && arg[1] != '\0';
}

/* ---- shared printing -------------------------------------------------- */

static void print_change(sc_ctx_t *ctx, const route_audit_t *a)
{
	if (ctx->json) {
		json_t *obj = sc_audit_json(a);
		json_object_set_new(obj, "ok", json_true());
		sc_print_json(obj);
		return;
	}
	char text[512];
	switch (a->what) {
	case ROUTE_WHAT_ADD:
		sc_route_summary(&a->after, text, sizeof(text));
		printf("added %s -> %s\n", a->prefix, text);
		break;
	case ROUTE_WHAT_REPLACE:
		sc_route_diff(&a->before, &a->after, text, sizeof(text));
		printf("replaced %s: %s\n", a->prefix, text);
		break;
	case ROUTE_WHAT_DELETE:
		sc_route_summary(&a->before, text, sizeof(text));
		printf("deleted %s (was -> %s)\n", a->prefix, text);
		break;
	case ROUTE_WHAT_ENABLE:
		printf("enabled %s -> %s (%s)%s\n", a->prefix,
		       a->after.endpoint, route_network_name(a->after.network),
		       a->before.enabled ? ", it already was" : "");
		break;
	case ROUTE_WHAT_DISABLE:
		printf("disabled %s -> %s%s: numbers it matches are now "
		       "declined with 91, without falling back to a shorter "
		       "prefix\n",
		       a->prefix, a->after.endpoint,
		       a->before.enabled ? "" : " (it already was)");
		break;
	default:
		break;
	}
	printf("table version %llu\n", (unsigned long long)a->version);
}

/* ---- list ------------------------------------------------------------- */

/* "issuer 3500ppm<=1300 net 325ppm<=325", or "-" without fees. */
static void format_fees(const route_fees_t *f, char *out, size_t cap)
{
	if (!f->issuer_ppm && !f->issuer_cap && !f->network_ppm && !f->network_cap) {
		snprintf(out, cap, "-");
		return;
	}
	snprintf(out, cap, "issuer %uppm<=%lld net %uppm<=%lld", f->issuer_ppm,
		 (long long)f->issuer_cap, f->network_ppm,
		 (long long)f->network_cap);
}

static int routes_list(sc_ctx_t *ctx, int argc, char **argv)
{
	args_t a = {argc, argv, 0};
	const char *under = "";
	int rc;
	while ((rc = next_arg(ctx, &a)) > 0) {
		int v = take_value(ctx, &a, "--under", &under);
		if (v < 0)
			return -v;
		if (v == 0)
			return unknown_arg(ctx, "list", a.argv[a.i]);
	}
	if (rc < 0)
		return -rc;
	if ((rc = sc_open_store(ctx, false)) != 0)
		return rc;
	MDB_txn *txn;
	if ((rc = sc_begin(ctx, false, &txn)) != 0)
		return rc;
	route_iter_t it;
	if (route_iter_open(&ctx->table, txn, under, strlen(under), &it) < 0) {
		mdb_txn_abort(txn);
		return sc_fail(ctx, SC_EXIT_USAGE, "--under: must be up to %d digits",
			       ROUTE_PREFIX_DIGITS_MAX);
	}
	route_table_info_t info;
	int code = route_table_info(&ctx->table, txn, &info);
	static const char *const headers[] = {
		"PREFIX", "ENDPOINT", "NETWORK", "ALTERNATES", "INSTITUTION",
		"STATE", "FEES", "CHANGED", "BY", "NOTE"};
	sc_table_t *table = ctx->json ? NULL
				      : sc_table_new(PS_ARRAY_LEN(headers),
						     headers);
	size_t count = 0;
	while (code == 0) {
		route_t r;
		bool has;
		code = route_iter_next(&it, &r, &has);
		if (code < 0 || !has)
			break;
		count++;
		if (ctx->json) {
			sc_print_json(sc_route_json(&r));
			continue;
		}
		char alts[160] = "", changed[32];
		for (unsigned i = 0; i < r.alternate_count; i++) {
			strcat(alts, i > 0 ? "," : "");
			strcat(alts, r.alternates[i]);
		}
		sc_format_time(r.changed_ms, false, changed, sizeof(changed));
		char fees[96];
		format_fees(&r.fees, fees, sizeof(fees));
		const char *row[] = {
			r.prefix, r.endpoint, route_network_name(r.network),
			alts[0] ? alts : "-",
			r.institution[0] ? r.institution : "-",
			r.enabled ? "enabled" : "DISABLED", fees, changed,
			r.changed_by, r.note};
		sc_table_add(table, row);
	}
	route_iter_close(&it);
	mdb_txn_abort(txn);
	if (table != NULL) {
		if (code == 0) {
			sc_table_print(table, stdout);
			printf("%zu route%s%s%s, table version %llu\n", count,
			       count == 1 ? "" : "s",
			       under[0] ? " under " : "", under,
			       (unsigned long long)info.version);
		}
		sc_table_free(table);
	}
	if (code < 0)
		return sc_fail(ctx, sc_exit_for(code, 0),
			       "cannot read the route table: %s",
			       route_strerror(code));
	return SC_EXIT_OK;
}

/* ---- add -------------------------------------------------------------- */

/* --issuer-fee-ppm N, --issuer-fee-cap FEN, --network-fee-ppm N,
 * --network-fee-cap FEN into fees: 1 taken, 0 not one of them, or a
 * negative exit code. */
static int take_fee(sc_ctx_t *ctx, args_t *a, route_fees_t *fees)
{
	static const char *const names[] = {"--issuer-fee-ppm", "--issuer-fee-cap",
					    "--network-fee-ppm", "--network-fee-cap"};
	for (size_t i = 0; i < PS_ARRAY_LEN(names); i++) {
		const char *v;
		int t = take_value(ctx, a, names[i], &v);
		if (t <= 0) {
			if (t < 0)
				return t;
			continue;
		}
		uint64_t n;
		uint64_t max = i % 2 ? ROUTE_FEE_CAP_MAX : ROUTE_FEE_PPM_MAX;
		if (ps_parse_u64(v, strlen(v), &n) != 0 || n > max)
			return -sc_fail(ctx, SC_EXIT_REJECTED, "routes add: %s: must "
					"be an integer 0 to %llu", names[i] + 2,
					(unsigned long long)max);
		switch (i) {
		case 0: fees->issuer_ppm = (uint32_t)n; break;
		case 1: fees->issuer_cap = (int64_t)n; break;
		case 2: fees->network_ppm = (uint32_t)n; break;
		default: fees->network_cap = (int64_t)n; break;
		}
		return 1;
	}
	return 0;
}

static int routes_add(sc_ctx_t *ctx, int argc, char **argv)
{
	args_t a = {argc, argv, 0};
	route_t r;
	route_init(&r);
	route_error_t err = {0};
	bool have_prefix = false, have_endpoint = false;
	route_fees_t fees = {0};
	const char *alts[ROUTE_ALTERNATES_MAX + 1];
	size_t alt_count = 0;
	int rc, code = 0;
	while ((rc = next_arg(ctx, &a)) > 0) {
		const char *v;
		int t;
		if ((t = take_value(ctx, &a, "--prefix", &v)) > 0) {
			code = route_set_prefix(&r, v, strlen(v), &err);
			have_prefix = true;
		} else if (t == 0 && (t = take_value(ctx, &a, "--endpoint", &v)) > 0) {
			code = route_set_endpoint(&r, v, strlen(v), &err);
			have_endpoint = true;
		} else if (t == 0 && (t = take_value(ctx, &a, "--network", &v)) > 0) {
			code = route_set_network(&r, v, strlen(v), &err);
		} else if (t == 0 && (t = take_value(ctx, &a, "--alt", &v)) > 0) {
			if (alt_count == PS_ARRAY_LEN(alts))
				return sc_fail(ctx, SC_EXIT_REJECTED,
					       "alternates: at most %d",
					       ROUTE_ALTERNATES_MAX);
			alts[alt_count++] = v;
		} else if (t == 0 &&
			   (t = take_value(ctx, &a, "--institution", &v)) > 0) {
			code = route_set_institution(&r, v, strlen(v), &err);
		} else if (t == 0 && (t = take_value(ctx, &a, "--note", &v)) > 0) {
			code = route_set_note(&r, v, strlen(v), &err);
		} else if (t == 0 && take_flag(&a, "--disabled")) {
			r.enabled = false;
		} else if (t == 0 && (t = take_fee(ctx, &a, &fees)) > 0) {
			code = route_set_fees(&r, &fees, &err);
		} else if (t == 0) {
			return unknown_arg(ctx, "add", a.argv[a.i]);
		}
		if (t < 0)
			return -t;
		if (code < 0)
			return sc_fail_route(ctx, "routes add", &err);
	}
	if (rc < 0)
		return -rc;
	if (!have_prefix || !have_endpoint)
		return sc_fail(ctx, SC_EXIT_USAGE,
			       "routes add: --prefix and --endpoint are required");
	/* After the endpoint is known, so an alternate may not repeat it. */
	for (size_t i = 0; i < alt_count; i++)
		if (route_add_alternate(&r, alts[i], strlen(alts[i]), &err) < 0)
			return sc_fail_route(ctx, "routes add", &err);
	if ((rc = sc_open_store(ctx, true)) != 0)
		return rc;
	MDB_txn *txn;
	if ((rc = sc_begin(ctx, true, &txn)) != 0)
		return rc;
	route_actor_t actor = {ctx->who, 0};
	route_audit_t *audit = calloc(1, sizeof(*audit));
	code = route_put(&ctx->table, txn, &actor, &r, audit, &err);
	if (code < 0) {
		mdb_txn_abort(txn);
		free(audit);
		return sc_fail_route(ctx, "routes add", &err);
	}
	if ((rc = sc_commit(ctx, txn)) == 0)
		print_change(ctx, audit);
	free(audit);
	return rc;
}

/* ---- del, enable, disable --------------------------------------------- */

/* At most one positional argument and no options of its own (global
 * options may still appear): *out is it, or NULL. */
static int one_argument(sc_ctx_t *ctx, const char *command, int argc,
			char **argv, const char **out)
{
	args_t a = {argc, argv, 0};
	int rc;
	*out = NULL;
	while ((rc = next_arg(ctx, &a)) > 0) {
		if (is_option(a.argv[a.i]) || *out != NULL)
			return unknown_arg(ctx, command, a.argv[a.i]);
		*out = a.argv[a.i++];
	}
	return rc < 0 ? -rc : SC_EXIT_OK;
}

/* The prefix as --prefix P or as the one positional argument. */
static int parse_prefix_arg(sc_ctx_t *ctx, const char *command, int argc,
			    char **argv, const char **prefix)
{
	args_t a = {argc, argv, 0};
	int rc;
	*prefix = NULL;
	while ((rc = next_arg(ctx, &a)) > 0) {
		const char *v;
		int t = take_value(ctx, &a, "--prefix", &v);
		if (t < 0)
			return -t;
		if (t == 0) {
			if (is_option(a.argv[a.i]) || *prefix != NULL)
				return unknown_arg(ctx, command, a.argv[a.i]);
			v = a.argv[a.i++];
		}
		*prefix = v;
	}
	if (rc < 0)
		return -rc;
	if (*prefix == NULL)
		return sc_fail(ctx, SC_EXIT_USAGE, "routes %s: which prefix? (--prefix P)",
			       command);
	return SC_EXIT_OK;
}

/* del, enable and disable differ only in the library call. */
static int change_one(sc_ctx_t *ctx, const char *command, int argc,
		      char **argv, route_what_t what)
{
	const char *prefix;
	int rc = parse_prefix_arg(ctx, command, argc, argv, &prefix);
	if (rc != 0)
		return rc;
	if ((rc = sc_open_store(ctx, true)) != 0)
		return rc;
	MDB_txn *txn;
	if ((rc = sc_begin(ctx, true, &txn)) != 0)
		return rc;
	route_actor_t actor = {ctx->who, 0};
	route_audit_t *audit = calloc(1, sizeof(*audit));
	route_error_t err = {0};
	int code;
	if (what == ROUTE_WHAT_DELETE)
		code = route_delete(&ctx->table, txn, &actor, prefix,
				    strlen(prefix), audit, &err);
	else
		code = route_set_enabled(&ctx->table, txn, &actor, prefix,
					 strlen(prefix),
					 what == ROUTE_WHAT_ENABLE, audit, &err);
	char doing[64];
	snprintf(doing, sizeof(doing), "routes %s", command);
	if (code < 0) {
		mdb_txn_abort(txn);
		free(audit);
		return sc_fail_route(ctx, doing, &err);
	}
	if ((rc = sc_commit(ctx, txn)) == 0)
		print_change(ctx, audit);
	free(audit);
	return rc;
}

static int routes_del(sc_ctx_t *ctx, int argc, char **argv)
{
	return change_one(ctx, "del", argc, argv, ROUTE_WHAT_DELETE);
}

static int routes_enable(sc_ctx_t *ctx, int argc, char **argv)
{
	return change_one(ctx, "enable", argc, argv, ROUTE_WHAT_ENABLE);
}

static int routes_disable(sc_ctx_t *ctx, int argc, char **argv)
{
	return change_one(ctx, "disable", argc, argv, ROUTE_WHAT_DISABLE);
}

/* ---- lookup ----------------------------------------------------------- */

static void print_lookup_text(const char *pan, int code, const route_t *all,
			      size_t count)
{
	char text[512];
	size_t len = strlen(pan);
	if (code == PS_ENOTFOUND) {
		printf("%s: no route matches; the switch answers 15 (no such issuer)\n",
		       pan);
		return;
	}
	sc_route_summary(&all[0], text, sizeof(text));
	if (code == 0)
		printf("%s -> %s\n  route %s matches %u of %zu digits, the longest prefix that does\n",
		       pan, text, all[0].prefix, all[0].prefix_len, len);
	else
		printf("%s: route %s matches (%u of %zu digits) and is DISABLED;\n"
		       "  the switch answers 91 (issuer or switch inoperative), "
		       "and does not fall back to a shorter prefix\n  route: %s\n",
		       pan, all[0].prefix, all[0].prefix_len, len, text);
	if (all[0].note[0] != '\0')
		printf("  note: %s\n", all[0].note);
	for (size_t i = 1; i < count; i++) {
		sc_route_summary(&all[i], text, sizeof(text));
		printf("  shadowed: %s -> %s (a longer prefix wins)\n",
		       all[i].prefix, text);
	}
}

static void print_lookup_json(const char *pan, int code, const route_t *all,
			      size_t count, uint64_t version)
{
	json_t *obj = json_object();
	json_object_set_new(obj, "pan", json_string(pan));
	const char *result = code == 0 ? "routed"
			     : code == ROUTE_EDISABLED ? "disabled"
						       : "no_route";
	json_object_set_new(obj, "result", json_string(result));
	json_object_set_new(obj, "response_code",
			    code == 0 ? json_null()
			    : json_string(code == ROUTE_EDISABLED ? "91" : "15"));
	json_object_set_new(obj, "route",
			    count > 0 ? sc_route_json(&all[0]) : json_null());
	json_object_set_new(obj, "matched_digits",
			    json_integer(count > 0 ? all[0].prefix_len : 0));
	json_t *shadowed = json_array();
	for (size_t i = 1; i < count; i++)
		json_array_append_new(shadowed, sc_route_json(&all[i]));
	json_object_set_new(obj, "shadowed", shadowed);
	json_object_set_new(obj, "version", json_integer((json_int_t)version));
	sc_print_json(obj);
}

static int routes_lookup(sc_ctx_t *ctx, int argc, char **argv)
{
	const char *pan;
	int rc = one_argument(ctx, "lookup", argc, argv, &pan);
	if (rc != SC_EXIT_OK)
		return rc;
	if (pan == NULL)
		return sc_fail(ctx, SC_EXIT_USAGE, "routes lookup: which number? (routes lookup PAN)");
	size_t len = strlen(pan);
	if (len == 0 || len > ROUTE_PREFIX_DIGITS_MAX || !ps_is_digits(pan, len))
		return sc_fail(ctx, SC_EXIT_REJECTED,
			       "routes lookup: a PAN or account number is 1 to %d digits",
			       ROUTE_PREFIX_DIGITS_MAX);
	if ((rc = sc_open_store(ctx, false)) != 0)
		return rc;
	MDB_txn *txn;
	if ((rc = sc_begin(ctx, false, &txn)) != 0)
		return rc;
	route_t all[ROUTE_PREFIX_DIGITS_MAX];
	size_t count = 0;
	route_t chosen;
	route_table_info_t info = {0};
	/* route_lookup decides, exactly as the switch does; lookup_all only
	 * explains what it shadowed. */
	int code = route_lookup(&ctx->table, txn, pan, len, &chosen);
	int code_all = route_lookup_all(&ctx->table, txn, pan, len, all,
					PS_ARRAY_LEN(all), &count);
	(void)route_table_info(&ctx->table, txn, &info);
	mdb_txn_abort(txn);
	if (code != 0 && code != ROUTE_EDISABLED && code != PS_ENOTFOUND)
		return sc_fail(ctx, sc_exit_for(code, 0), "routes lookup: %s",
			       route_strerror(code));
	if (code_all < 0)
		return sc_fail(ctx, SC_EXIT_IO, "routes lookup: %s",
			       route_strerror(code_all));
	PS_ASSERT(code == PS_ENOTFOUND ||
		  (count > 0 && strcmp(all[0].prefix, chosen.prefix) == 0));
	if (ctx->json)
		print_lookup_json(pan, code, all, count, info.version);
	else
		print_lookup_text(pan, code, all, count);
	return code == 0 ? SC_EXIT_OK : SC_EXIT_REJECTED;
}

/* ---- import ----------------------------------------------------------- */

/* Reads all of path ("-" for stdin), bounded by ROUTE_IMPORT_BYTES_MAX. */
static int read_input(sc_ctx_t *ctx, const char *path, char **data,
		      size_t *len)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	if (f == NULL)
		return sc_fail(ctx, SC_EXIT_IO, "%s: %s", path, strerror(errno));
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap);
	int rc = SC_EXIT_OK;
	for (;;) {
		if (n == cap) {
			if (cap > ROUTE_IMPORT_BYTES_MAX) {
				rc = sc_fail(ctx, SC_EXIT_REJECTED,
					     "%s: over %zu MiB; split it", path,
					     ROUTE_IMPORT_BYTES_MAX >> 20);
				break;
			}
			cap *= 2;
			buf = realloc(buf, cap);
			PS_ASSERT(buf != NULL);
		}
		size_t got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0) {
			if (ferror(f))
				rc = sc_fail(ctx, SC_EXIT_IO, "%s: read error",
					     path);
			break;
		}
	}
	if (f != stdin)
		fclose(f);
	if (rc != SC_EXIT_OK) {
		free(buf);
		return rc;
	}
	*data = buf;
	*len = n;
	return SC_EXIT_OK;
}

static int routes_import(sc_ctx_t *ctx, int argc, char **argv)
{
	args_t a = {argc, argv, 0};
	const char *path = NULL;
	bool replace = false, dry_run = false;
	int rc;
	while ((rc = next_arg(ctx, &a)) > 0) {
		if (take_flag(&a, "--replace"))
			replace = true;
		else if (take_flag(&a, "--dry-run"))
			dry_run = true;
		else if (is_option(a.argv[a.i]) || path != NULL)
			return unknown_arg(ctx, "import", a.argv[a.i]);
		else
			path = a.argv[a.i++];
	}
	if (rc < 0)
		return -rc;
	if (path == NULL)
		return sc_fail(ctx, SC_EXIT_USAGE, "routes import: which file? (a path, or - for stdin)");
	char *data = NULL;
	size_t len = 0;
	if ((rc = read_input(ctx, path, &data, &len)) != 0)
		return rc;
	if ((rc = sc_open_store(ctx, true)) != 0) {
		free(data);
		return rc;
	}
	MDB_txn *txn;
	if ((rc = sc_begin(ctx, true, &txn)) != 0) {
		free(data);
		return rc;
	}
	route_actor_t actor = {ctx->who, 0};
	route_import_stats_t st;
	route_error_t err = {0};
	int code = route_import(&ctx->table, txn, &actor, data, len,
				replace ? ROUTE_IMPORT_REPLACE : 0, &st, &err);
	free(data);
	if (code < 0) {
		mdb_txn_abort(txn);
		char doing[600];
		snprintf(doing, sizeof(doing),
			 "import rejected, nothing changed: %s", path);
		return sc_fail_route(ctx, doing, &err);
	}
	if (dry_run)
		mdb_txn_abort(txn);
	else if ((rc = sc_commit(ctx, txn)) != 0)
		return rc;
	const char *mode = replace ? "replace" : "merge";
	if (ctx->json) {
		json_t *obj = json_object();
		json_object_set_new(obj, "ok", json_true());
		json_object_set_new(obj, "file", json_string(path));
		json_object_set_new(obj, "mode", json_string(mode));
		json_object_set_new(obj, "dry_run", json_boolean(dry_run));
		json_object_set_new(obj, "records", json_integer(st.records));
		json_object_set_new(obj, "added", json_integer(st.added));
		json_object_set_new(obj, "replaced", json_integer(st.replaced));
		json_object_set_new(obj, "deleted", json_integer(st.deleted));
		json_object_set_new(obj, "unchanged", json_integer(st.unchanged));
		json_object_set_new(obj, "version",
				    json_integer((json_int_t)st.version));
		sc_print_json(obj);
	} else {
		printf("%s%s (%s): %u records, %u added, %u replaced, %u deleted, %u unchanged\n",
		       dry_run ? "dry run, nothing changed: would import " : "imported ",
		       path, mode, st.records, st.added, st.replaced, st.deleted,
		       st.unchanged);
		printf("table version %s%llu\n",
		       dry_run ? "would become " : "",
		       (unsigned long long)st.version);
	}
	return SC_EXIT_OK;
}

/* ---- export ----------------------------------------------------------- */

static int write_routes(sc_ctx_t *ctx, MDB_txn *txn, FILE *out, size_t *count)
{
	route_iter_t it;
	int code = route_iter_open(&ctx->table, txn, "", 0, &it);
	*count = 0;
	while (code == 0) {
		route_t r;
		bool has;
		code = route_iter_next(&it, &r, &has);
		if (code < 0 || !has)
			break;
		char line[ROUTE_JSON_BYTES_MAX];
		size_t len;
		code = route_to_json(&r, line, sizeof(line), &len);
		if (code == 0) {
			line[len] = '\n';
			if (fwrite(line, 1, len + 1, out) != len + 1)
				code = PS_EIO;
			(*count)++;
		}
	}
	route_iter_close(&it);
	return code;
}

static int routes_export(sc_ctx_t *ctx, int argc, char **argv)
{
	const char *path;
	int rc = one_argument(ctx, "export", argc, argv, &path);
	if (rc != SC_EXIT_OK)
		return rc;
	bool to_stdout = path == NULL || strcmp(path, "-") == 0;
	if ((rc = sc_open_store(ctx, false)) != 0)
		return rc;
	/* A file is written beside its final name and renamed into place,
	 * so a reader never sees half an export. */
	char tmp[4200];
	FILE *out = stdout;
	if (!to_stdout) {
		snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
		out = fopen(tmp, "w");
		if (out == NULL)
			return sc_fail(ctx, SC_EXIT_IO, "%s: %s", tmp,
				       strerror(errno));
	}
	MDB_txn *txn;
	if ((rc = sc_begin(ctx, false, &txn)) != 0) {
		if (!to_stdout) {
			fclose(out);
			unlink(tmp);
		}
		return rc;
	}
	size_t count;
	route_table_info_t info = {0};
	(void)route_table_info(&ctx->table, txn, &info);
	int code = write_routes(ctx, txn, out, &count);
	mdb_txn_abort(txn);
	if (to_stdout) {
		if (code < 0)
			return sc_fail(ctx, sc_exit_for(code, 0),
				       "routes export: %s", route_strerror(code));
		return SC_EXIT_OK;
	}
	if (code == 0 && (fflush(out) != 0 || fsync(fileno(out)) != 0))
		code = PS_EIO;
	if (fclose(out) != 0 && code == 0)
		code = PS_EIO;
	if (code == 0 && rename(tmp, path) != 0)
		code = PS_EIO;
	if (code < 0) {
		unlink(tmp);
		return sc_fail(ctx, sc_exit_for(code, 0), "routes export %s: %s",
			       path, code == PS_EIO ? strerror(errno)
						    : route_strerror(code));
	}
	if (ctx->json) {
		json_t *obj = json_object();
		json_object_set_new(obj, "ok", json_true());
		json_object_set_new(obj, "file", json_string(path));
		json_object_set_new(obj, "routes", json_integer((json_int_t)count));
		json_object_set_new(obj, "version",
				    json_integer((json_int_t)info.version));
		sc_print_json(obj);
	} else {
		printf("exported %zu route%s to %s, table version %llu\n",
		       count, count == 1 ? "" : "s", path,
		       (unsigned long long)info.version);
	}
	return SC_EXIT_OK;
}

/* ---- the routes command table ----------------------------------------- */

static int routes_help(sc_ctx_t *ctx, int argc, char **argv);

static const sc_command_t routes_commands[] = {
	{"list", "routes list [--under PREFIX]",
	 "the table in prefix order (--json: one route per line)", routes_list},
	{"add", "routes add --prefix P --endpoint E [--network direct|unionpay|netclear]\n"
		"             [--alt E2]... [--institution DIGITS] [--note TEXT] [--disabled]\n"
		"             [--issuer-fee-ppm N] [--issuer-fee-cap FEN] [--network-fee-ppm N]\n"
		"             [--network-fee-cap FEN]",
	 "add a route, or replace the route with that prefix", routes_add},
	{"del", "routes del --prefix P", "delete a route", routes_del},
	{"enable", "routes enable --prefix P", "route traffic again",
	 routes_enable},
	{"disable", "routes disable --prefix P",
	 "stop traffic: matching numbers are declined with 91", routes_disable},
	{"lookup", "routes lookup PAN",
	 "which route a number takes, and why", routes_lookup},
	{"import", "routes import FILE|- [--replace] [--dry-run]",
	 "load JSON lines or a JSON array, all or nothing", routes_import},
	{"export", "routes export [FILE]",
	 "the table as JSON lines, in prefix order", routes_export},
	{"help", "routes help", "this help", routes_help},
};

static int routes_help(sc_ctx_t *ctx, int argc, char **argv)
{
	(void)ctx;
	(void)argc;
	(void)argv;
	return sc_group_help("routes", routes_commands,
			     PS_ARRAY_LEN(routes_commands));
}

int sc_cmd_routes(sc_ctx_t *ctx, int argc, char **argv)
{
	int i = sc_skip_global_options(ctx, argc, argv);
	if (i < 0)
		return -i;
	return sc_run_table(ctx, "routes", routes_commands,
			    PS_ARRAY_LEN(routes_commands), argc - i, argv + i);
}
