/*
 * cmd_audit.c: switchctl audit: the log of operator actions, newest last:
 * route changes, and actions on other things (an exception resolved) that
 * routing.h records with a detail and no route.
 *
 *   switchctl audit [--limit N] [--since TIME]
 *
 * Shows the last N records (default 50, at most SC_AUDIT_LIMIT_MAX) at or
 * after TIME. --json prints one record per line with the routes before
 * and after.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "switchctl.h"

#define SC_AUDIT_LIMIT_DEFAULT 50
#define SC_AUDIT_LIMIT_MAX 10000

/* What the record changed, in a few words. A record without routes (an
 * import's summary, an exception resolved) says it in its detail. */
static void describe(const route_audit_t *a, char *out, size_t cap)
{
	char text[512];
	if (!a->has_before && !a->has_after && a->detail[0] != '\0') {
		snprintf(out, cap, "%s", a->detail);
	} else if (a->has_before && a->has_after) {
		sc_route_diff(&a->before, &a->after, text, sizeof(text));
		snprintf(out, cap, "%s", text);
	} else if (a->has_after) {
		sc_route_summary(&a->after, text, sizeof(text));
		snprintf(out, cap, "new: %s", text);
	} else if (a->has_before) {
		sc_route_summary(&a->before, text, sizeof(text));
		snprintf(out, cap, "removed: %s", text);
	} else {
		snprintf(out, cap, "-");
	}
}

static int parse_args(sc_ctx_t *ctx, int argc, char **argv, size_t *limit,
		      uint64_t *since_ms)
{
	for (int i = 0; i < argc;) {
		int rc = sc_global_option(ctx, argc, argv, &i);
		if (rc < 0)
			return -rc;
		if (rc > 0)
			continue;
		const char *arg = argv[i];
		bool is_limit = strcmp(arg, "--limit") == 0;
		bool is_since = strcmp(arg, "--since") == 0;
		if (!is_limit && !is_since)
			return sc_fail(ctx, SC_EXIT_USAGE,
				       "audit: unexpected \"%s\" (audit [--limit N] [--since TIME])",
				       arg);
		if (i + 1 >= argc)
			return sc_fail(ctx, SC_EXIT_USAGE, "%s needs a value", arg);
		const char *value = argv[i + 1];
		i += 2;
		if (is_limit) {
			uint64_t n;
			if (ps_parse_u64(value, strlen(value), &n) != 0 ||
			    n == 0 || n > SC_AUDIT_LIMIT_MAX)
				return sc_fail(ctx, SC_EXIT_USAGE,
					       "--limit: 1 to %d", SC_AUDIT_LIMIT_MAX);
			*limit = (size_t)n;
		} else if (!sc_parse_time(value, ps_wall_ms(), since_ms)) {
			return sc_fail(ctx, SC_EXIT_USAGE,
				       "--since: a time like 2025-11-25, 2025-11-25T21:07:03Z (UTC), "
				       "milliseconds since 1970, or 90s, 15m, 2h, 7d ago");
		}
	}
	return SC_EXIT_OK;
}

int sc_cmd_audit(sc_ctx_t *ctx, int argc, char **argv)
{
	size_t limit = SC_AUDIT_LIMIT_DEFAULT;
	uint64_t since_ms = 0;
	int rc = parse_args(ctx, argc, argv, &limit, &since_ms);
	if (rc != 0)
		return rc;
	if ((rc = sc_open_store(ctx, false)) != 0)
		return rc;
	route_audit_t *records = calloc(limit, sizeof(*records));
	if (records == NULL)
		return sc_fail(ctx, SC_EXIT_IO, "audit: out of memory");
	MDB_txn *txn;
	if ((rc = sc_begin(ctx, false, &txn)) != 0) {
		free(records);
		return rc;
	}
	size_t count;
	route_error_t err = {0};
	int code = route_audit_list(&ctx->table, txn, since_ms, records, limit,
				    &count, &err);
	mdb_txn_abort(txn);
	if (code < 0) {
		free(records);
		return sc_fail_route(ctx, "audit", &err);
	}
	if (ctx->json) {
		for (size_t i = 0; i < count; i++)
			sc_print_json(sc_audit_json(&records[i]));
	} else {
		static const char *const headers[] = {
			"TIME", "WHO", "WHAT", "PREFIX", "VERSION", "CHANGE"};
		sc_table_t *t = sc_table_new(PS_ARRAY_LEN(headers), headers);
		for (size_t i = 0; i < count; i++) {
			const route_audit_t *a = &records[i];
			char at[40], version[24], change[600];
			sc_format_time(a->at_ms, false, at, sizeof(at));
			snprintf(version, sizeof(version), "%llu",
				 (unsigned long long)a->version);
			describe(a, change, sizeof(change));
			const char *row[] = {at, a->who, route_what_name(a->what),
					     a->prefix[0] ? a->prefix : "-",
					     version, change};
			sc_table_add(t, row);
		}
		sc_table_print(t, stdout);
		printf("%zu record%s%s\n", count, count == 1 ? "" : "s",
		       count == limit ? " (more may be older: raise --limit)"
				      : "");
		sc_table_free(t);
	}
	free(records);
	return SC_EXIT_OK;
}
