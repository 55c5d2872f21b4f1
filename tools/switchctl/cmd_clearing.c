/*
 * cmd_clearing.c: settlement windows, through a running switchd's control
 * socket (docs/clearing.md): cutover, windows, window N, settle N.
 */
#include <inttypes.h>
#include <stdlib.h>
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
	uint64_t n;
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
	uint64_t n;
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
	printf("batches: %s\n\n", batches);
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
	uint64_t n;
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
