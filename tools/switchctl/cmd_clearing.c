/*
 * cmd_clearing.c: settlement windows, through a running switchd's control
 * socket (docs/clearing.md): cutover, windows, window N, settle N,
 * recon N.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <stdio.h>
#include <time.h>
#include <string.h>

#include <jansson.h>

#include "switchctl.h"

static const char *text(json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));
	return s != NULL ? s : "";
}

/* The one positional argument, a window number. */
static int window_number(sc_ctx_t *ctx, const char *cmd, int argc, char **argv,
			 uint64_t *out)
{
	int i = sc_skip_global_options(ctx, argc, argv);
	if (i < 0)
		return -i;
	if (i >= argc)
		return sc_fail(ctx, SC_EXIT_USAGE, "%s: which window? (%s N)", cmd, cmd);
	uint64_t n = 0;
	if (ps_parse_u64(argv[i], strlen(argv[i]), &n) != 0 || n == 0)
		return sc_fail(ctx, SC_EXIT_USAGE, "%s: %s is not a window number",
			       cmd, argv[i]);
	if (sc_skip_global_options(ctx, argc - i - 1, argv + i + 1) != argc - i - 1)
		return sc_fail(ctx, SC_EXIT_USAGE, "%s: one window number only", cmd);
	*out = n;
	return SC_EXIT_OK;
}

int sc_cmd_cutover(sc_ctx_t *ctx, int argc, char **argv)
{
	int i = sc_skip_global_options(ctx, argc, argv);
	if (i < 0)
		return -i;
	if (i != argc)
		return sc_fail(ctx, SC_EXIT_USAGE, "cutover takes no arguments");
	json_t *req = json_pack("{s:s}", "cmd", "cutover"), *a;
	int rc = sc_ask(ctx, req, &a);
	json_decref(req);
	if (rc != SC_EXIT_OK)
		return rc;
	if (ctx->json)
		sc_print_json(json_incref(a));
	else
		printf("window %lld closed; window %lld open, settlement date %s\n",
		       (long long)json_integer_value(json_object_get(a, "closed")),
		       (long long)json_integer_value(json_object_get(a, "opened")),
		       text(a, "date"));
	json_decref(a);
	return SC_EXIT_OK;
}

/* "posted 2, queued 1 (reserve of 01020000 short by 8500 fen)" */
static void batches_summary(json_t *batches, char *out, size_t cap)
{
	size_t i;
	json_t *b;
	size_t n = 0;
	out[0] = '\0';
	json_array_foreach(batches, i, b) {
		const char *reason = text(b, "reason");
		int w = snprintf(out + n, cap - n, "%s%s %s%s%s%s", i ? ", " : "",
				 text(b, "batch"), text(b, "status"),
				 reason[0] ? " (" : "", reason, reason[0] ? ")" : "");
		if (w < 0 || (size_t)w >= cap - n)
			break;
		n += (size_t)w;
	}
	if (n == 0)
		snprintf(out, cap, "-");
}

int sc_cmd_windows(sc_ctx_t *ctx, int argc, char **argv)
{
	int i = sc_skip_global_options(ctx, argc, argv);
	if (i < 0)
		return -i;
	if (i != argc)
		return sc_fail(ctx, SC_EXIT_USAGE, "windows takes no arguments");
	json_t *req = json_pack("{s:s, s:i}", "cmd", "windows", "limit", 50), *a;
	int rc = sc_ask(ctx, req, &a);
	json_decref(req);
	if (rc != SC_EXIT_OK)
		return rc;
	if (ctx->json) {
		sc_print_json(json_incref(a));
		json_decref(a);
		return SC_EXIT_OK;
	}
	static const char *const head[] = {"WINDOW", "STATE", "DATE", "BATCHES", "WHY"};
	sc_table_t *t = sc_table_new(5, head);
	json_t *w;
	json_array_foreach(json_object_get(a, "windows"), i, w) {
		char id[24], batches[512];
		snprintf(id, sizeof(id), "%lld",
			 (long long)json_integer_value(json_object_get(w, "window")));
		batches_summary(json_object_get(w, "batches"), batches, sizeof(batches));
		const char *cells[] = {id, text(w, "state"), text(w, "date"), batches,
				       text(w, "reason")};
		sc_table_add(t, cells);
	}
	sc_table_print(t, stdout);
	sc_table_free(t);
	json_decref(a);
	return SC_EXIT_OK;
}

int sc_cmd_window(sc_ctx_t *ctx, int argc, char **argv)
{
	uint64_t n = 0;
	int rc = window_number(ctx, "window", argc, argv, &n);
	if (rc != SC_EXIT_OK)
		return rc;
	json_t *req = json_pack("{s:s, s:I}", "cmd", "window", "window", (json_int_t)n), *a;
	rc = sc_ask(ctx, req, &a);
	json_decref(req);
	if (rc != SC_EXIT_OK)
		return rc;
	json_t *w = json_object_get(a, "window");
	if (ctx->json) {
		sc_print_json(json_incref(w));
		json_decref(a);
		return SC_EXIT_OK;
	}
	char batches[1024];
	batches_summary(json_object_get(w, "batches"), batches, sizeof(batches));
	printf("window %" PRIu64 ": %s, settlement date %s\n", n, text(w, "state"),
	       text(w, "date"));
	if (text(w, "reason")[0])
		printf("why: %s\n", text(w, "reason"));
	printf("batches: %s\n", batches);
	json_t *recon = json_object_get(w, "recon");
	if (recon != NULL)
		printf("reconciliation: %s (%lld differences)\n", text(recon, "state"),
		       (long long)json_integer_value(
			       json_object_get(recon, "difference_count")));
	printf("\n");
	static const char *const head[] = {"CHANNEL", "PERIOD", "MEMBER", "CURRENCY",
					   "POSITION"};
	sc_table_t *t = sc_table_new(5, head);
	size_t i;
	json_t *p;
	json_array_foreach(json_object_get(w, "positions"), i, p) {
		char ccy[8], amount[32];
		snprintf(ccy, sizeof(ccy), "%lld",
			 (long long)json_integer_value(json_object_get(p, "currency")));
		snprintf(amount, sizeof(amount), "%lld",
			 (long long)json_integer_value(json_object_get(p, "amount")));
		const char *cells[] = {text(p, "channel"), text(p, "period"),
				       text(p, "member"), ccy, amount};
		sc_table_add(t, cells);
	}
	sc_table_print(t, stdout);
	sc_table_free(t);
	printf("positions in minor units (fen): > 0 the member is owed, < 0 it owes\n");
	json_decref(a);
	return SC_EXIT_OK;
}

int sc_cmd_settle(sc_ctx_t *ctx, int argc, char **argv)
{
	uint64_t n = 0;
	int rc = window_number(ctx, "settle", argc, argv, &n);
	if (rc != SC_EXIT_OK)
		return rc;
	json_t *req = json_pack("{s:s, s:I}", "cmd", "settle", "window", (json_int_t)n), *a;
	rc = sc_ask(ctx, req, &a);
	json_decref(req);
	if (rc != SC_EXIT_OK)
		return rc;
	if (!ctx->json)
		printf("window %" PRIu64 ": its rejected batches go to PBOC again\n", n);
	json_decref(a);
	return SC_EXIT_OK;
}

/* What one difference says, in one cell: the values, then what else. */
static void difference_detail(json_t *d, char *out, size_t cap)
{
	size_t n = 0;
	out[0] = '\0';
	const char *key;
	json_t *v;
	json_object_foreach(d, key, v) {
		if (!strcmp(key, "source") || !strcmp(key, "from") ||
		    !strcmp(key, "member") || !strcmp(key, "period") ||
		    !strcmp(key, "what"))
			continue;
		char *val = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		int w = snprintf(out + n, cap - n, "%s%s=%s", n ? " " : "", key,
				 val ? val : "?");
		free(val);
		if (w < 0 || (size_t)w >= cap - n)
			break;
		n += (size_t)w;
	}
}

static void print_recon(uint64_t n, json_t *recon)
{
	json_int_t count = json_integer_value(json_object_get(recon, "difference_count"));
	printf("window %" PRIu64 ": %s, %lld comparisons, %lld differences\n", n,
	       text(recon, "state"),
	       (long long)json_integer_value(json_object_get(recon, "compared")),
	       (long long)count);
	if (text(recon, "note")[0])
		printf("note: %s\n", text(recon, "note"));
	json_t *diffs = json_object_get(recon, "differences");
	if (json_array_size(diffs) == 0)
		return;
	static const char *const head[] = {"SOURCE", "FROM", "MEMBER", "PERIOD",
					   "WHAT", "DETAIL"};
	sc_table_t *t = sc_table_new(6, head);
	size_t i;
	json_t *d;
	json_array_foreach(diffs, i, d) {
		char detail[512];
		difference_detail(d, detail, sizeof(detail));
		const char *cells[] = {text(d, "source"), text(d, "from"),
				       text(d, "member"), text(d, "period"),
				       text(d, "what"), detail};
		sc_table_add(t, cells);
	}
	sc_table_print(t, stdout);
	sc_table_free(t);
	if ((json_int_t)json_array_size(diffs) < count)
		printf("(the first %zu of %lld are kept)\n", json_array_size(diffs),
		       (long long)count);
}

/*
 * Starts reconciling window N and waits for the verdict (the switch asks
 * the networks' files, PBOC and the banks, SW_RECON_WAIT_MS at most):
 * exit 0 when it is reconciled, 3 when there are differences.
 */
int sc_cmd_recon(sc_ctx_t *ctx, int argc, char **argv)
{
	uint64_t n = 0;
	int rc = window_number(ctx, "recon", argc, argv, &n);
	if (rc != SC_EXIT_OK)
		return rc;
	json_t *req = json_pack("{s:s, s:I}", "cmd", "recon", "window", (json_int_t)n), *a;
	rc = sc_ask(ctx, req, &a);
	json_decref(req);
	if (rc != SC_EXIT_OK)
		return rc;
	json_decref(a);
	req = json_pack("{s:s, s:I}", "cmd", "window", "window", (json_int_t)n);
	for (int tries = 0; tries < 300; tries++) {   /* 30 s */
		rc = sc_ask(ctx, req, &a);
		if (rc != SC_EXIT_OK)
			break;
		json_t *recon = json_object_get(json_object_get(a, "window"), "recon");
		const char *state = text(recon, "state");
		if (recon != NULL && strcmp(state, "running") != 0) {
			if (ctx->json)
				sc_print_json(json_incref(recon));
			else
				print_recon(n, recon);
			rc = strcmp(state, "reconciled") == 0 ? SC_EXIT_OK
							      : SC_EXIT_REJECTED;
			json_decref(a);
			json_decref(req);
			return rc;
		}
		json_decref(a);
		struct timespec ts = {0, 100 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	json_decref(req);
	if (rc != SC_EXIT_OK)
		return rc;
	return sc_fail(ctx, SC_EXIT_IO, "recon: window %" PRIu64
		       " has no verdict after 30 s", n);
}
