/*
 * cmd_control.c: commands that ask a running switchd, over its control
 * socket (JSON lines): status, endpoints, stats, reload. The address is
 * --control ADDR, else "control" from --config FILE, else
 * $SWITCHCTL_CONTROL; "host:port" or "unix:/path".
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "switchctl.h"

#define CONTROL_TIMEOUT_MS 5000
#define CONTROL_ANSWER_MAX (1 << 20)

/*
 * The config's "control": a unix socket path relative to the config's
 * folder, as switchd reads it; a port 0 (the kernel's choice) is found in
 * the ready file the config names, where switchd wrote the port it got.
 */
static int control_from_config(sc_ctx_t *ctx, json_t *root, char *out,
			       size_t cap)
{
	const char *c = json_string_value(json_object_get(root, "control"));
	if (c == NULL)
		return sc_fail(ctx, SC_EXIT_USAGE,
			       "config %s has no \"control\" address",
			       ctx->config_path);
	if (strncmp(c, "unix:", 5) == 0) {
		char path[4096];
		int rc = sc_config_path(ctx, c + 5, path, sizeof(path));
		if (rc == SC_EXIT_OK && (size_t)snprintf(out, cap, "unix:%s", path) >= cap)
			return sc_fail(ctx, SC_EXIT_USAGE, "control path %s is too long",
				       path);
		return rc;
	}
	const char *colon = strrchr(c, ':');
	if (colon == NULL || strcmp(colon, ":0") != 0) {
		ps_strlcpy(out, c, cap);
		return SC_EXIT_OK;
	}
	const char *ready = json_string_value(json_object_get(root, "ready_file"));
	if (ready == NULL)
		return sc_fail(ctx, SC_EXIT_USAGE,
			       "config %s: control port 0 is chosen by the kernel "
			       "when switchd starts; name a \"ready_file\" in the "
			       "config (switchd writes its ports there) or give "
			       "--control", ctx->config_path);
	char path[4096];
	int rc = sc_config_path(ctx, ready, path, sizeof(path));
	if (rc != SC_EXIT_OK)
		return rc;
	json_error_t jerr;
	json_t *r = json_load_file(path, 0, &jerr);
	json_int_t port = r ? json_integer_value(json_object_get(r, "control")) : 0;
	json_decref(r);
	if (port <= 0 || port > 65535)
		return sc_fail(ctx, SC_EXIT_IO,
			       "%s: no control port there (is switchd running "
			       "with config %s?)", path, ctx->config_path);
	snprintf(out, cap, "%.*s:%d", (int)(colon - c), c, (int)port);
	return SC_EXIT_OK;
}

static int resolve_control(sc_ctx_t *ctx, char *out, size_t cap)
{
	if (ctx->control != NULL && ctx->control[0] != '\0') {
		ps_strlcpy(out, ctx->control, cap);
		return SC_EXIT_OK;
	}
	if (ctx->config_path != NULL) {
		json_error_t jerr;
		json_t *root = json_load_file(ctx->config_path, 0, &jerr);
		if (root == NULL)
			return sc_fail(ctx, jerr.line < 1 ? SC_EXIT_IO : SC_EXIT_USAGE,
				       "config %s: %s", ctx->config_path, jerr.text);
		int rc = control_from_config(ctx, root, out, cap);
		json_decref(root);
		return rc;
	}
	const char *env = getenv("SWITCHCTL_CONTROL");
	if (env != NULL && env[0] != '\0') {
		ps_strlcpy(out, env, cap);
		return SC_EXIT_OK;
	}
	return sc_fail(ctx, SC_EXIT_USAGE,
		       "which switch? give --control ADDR or --config FILE, or set SWITCHCTL_CONTROL");
}

int sc_ask(sc_ctx_t *ctx, json_t *request, json_t **answer)
{
	*answer = NULL;
	char address[512];
	int rc = resolve_control(ctx, address, sizeof(address));
	if (rc != SC_EXIT_OK)
		return rc;
	int fd;
	if (ps_tcp_connect(address, &fd) != 0)
		return sc_fail(ctx, SC_EXIT_IO, "cannot reach switchd at %s: %s",
			       address, strerror(errno));
	char *text = json_dumps(request, JSON_COMPACT);
	size_t n = text != NULL ? strlen(text) : 0;
	bool sent = text != NULL && write(fd, text, n) == (ssize_t)n &&
		    write(fd, "\n", 1) == 1;
	free(text);
	if (!sent) {
		close(fd);
		return sc_fail(ctx, SC_EXIT_IO, "cannot write to switchd at %s", address);
	}
	char *buf = malloc(CONTROL_ANSWER_MAX);
	size_t len = 0;
	char *nl = NULL;
	const char *why = NULL; /* why no answer came, when none did */
	int read_errno = 0;
	uint64_t deadline = ps_mono_ms() + CONTROL_TIMEOUT_MS;
	while (buf != NULL && nl == NULL && why == NULL) {
		if (len == CONTROL_ANSWER_MAX) {
			why = "answer too long";
			break;
		}
		uint64_t now = ps_mono_ms();
		struct pollfd p = {fd, POLLIN, 0};
		if (now >= deadline || poll(&p, 1, (int)(deadline - now)) == 0) {
			why = "timeout";
			break;
		}
		ssize_t r = read(fd, buf + len, CONTROL_ANSWER_MAX - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			read_errno = r < 0 ? errno : 0;
			why = "closed";
			break;
		}
		nl = memchr(buf + len, '\n', (size_t)r);
		len += (size_t)r;
	}
	close(fd);
	if (nl == NULL) {
		free(buf);
		if (why != NULL && strcmp(why, "closed") == 0)
			return sc_fail(ctx, SC_EXIT_IO,
				       "switchd at %s closed the connection without "
				       "answering%s%s (it allows a few control "
				       "clients at once: are others connected?)",
				       address, read_errno ? ": " : "",
				       read_errno ? strerror(read_errno) : "");
		if (why != NULL && strcmp(why, "timeout") == 0)
			return sc_fail(ctx, SC_EXIT_IO,
				       "no answer from switchd at %s within %d ms",
				       address, CONTROL_TIMEOUT_MS);
		return sc_fail(ctx, SC_EXIT_IO, "switchd at %s: %s", address,
			       why != NULL ? why : "out of memory");
	}
	json_error_t jerr;
	*answer = json_loadb(buf, (size_t)(nl - buf), 0, &jerr);
	free(buf);
	if (*answer == NULL)
		return sc_fail(ctx, SC_EXIT_IO, "switchd at %s answered garbage: %s",
			       address, jerr.text);
	if (!json_is_true(json_object_get(*answer, "ok"))) {
		const char *e = json_string_value(json_object_get(*answer, "error"));
		int exit = sc_fail(ctx, SC_EXIT_REJECTED, "switchd: %s", e ? e : "refused");
		json_decref(*answer);
		*answer = NULL;
		return exit;
	}
	return SC_EXIT_OK;
}

/* Sends {"cmd":cmd} and reads one answer line, within the timeout. */
static int ask(sc_ctx_t *ctx, const char *cmd, json_t **answer)
{
	json_t *req = json_pack("{s:s}", "cmd", cmd);
	int rc = sc_ask(ctx, req, answer);
	json_decref(req);
	return rc;
}

static json_int_t num(json_t *obj, const char *key)
{
	return json_integer_value(json_object_get(obj, key));
}

static const char *text(json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));
	return s ? s : "";
}

static void format_uptime(json_int_t ms, char *out, size_t cap)
{
	json_int_t s = ms / 1000;
	snprintf(out, cap, "%lldd %02lldh %02lldm %02llds", (long long)(s / 86400),
		 (long long)(s / 3600 % 24), (long long)(s / 60 % 60), (long long)(s % 60));
}

static int cmd_status(sc_ctx_t *ctx, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	json_t *a;
	int rc = ask(ctx, "status", &a);
	if (rc != SC_EXIT_OK)
		return rc;
	if (ctx->json) {
		sc_print_json(a);
		return SC_EXIT_OK;
	}
	char up[64];
	format_uptime(num(a, "uptime_ms"), up, sizeof(up));
	printf("switchd pid %lld, up %s%s\n", (long long)num(a, "pid"), up,
	       json_is_true(json_object_get(a, "draining")) ? ", DRAINING" : "");
	printf("in flight %lld, connections %lld, SAF entries %lld, commit failures %lld\n\n",
	       (long long)num(a, "inflight"), (long long)num(a, "connections"),
	       (long long)num(a, "saf_entries"), (long long)num(a, "commit_failures"));
	static const char *const head[] = {"LISTENER", "PROTOCOL", "PORT", "LISTENING",
					   "CONNECTIONS", "ACCEPTED", "REFUSED"};
	sc_table_t *t = sc_table_new(7, head);
	size_t i;
	json_t *l;
	json_array_foreach(json_object_get(a, "listeners"), i, l) {
		char port[16], conns[24], acc[24], ref[24];
		snprintf(port, sizeof(port), "%lld", (long long)num(l, "port"));
		snprintf(conns, sizeof(conns), "%lld", (long long)num(l, "connections"));
		snprintf(acc, sizeof(acc), "%lld", (long long)num(l, "accepted"));
		snprintf(ref, sizeof(ref), "%lld", (long long)num(l, "refused"));
		const char *cells[] = {text(l, "name"), text(l, "protocol"), port,
				       json_is_true(json_object_get(l, "listening")) ? "yes" : "no",
				       conns, acc, ref};
		sc_table_add(t, cells);
	}
	sc_table_print(t, stdout);
	sc_table_free(t);
	json_decref(a);
	return SC_EXIT_OK;
}

static int cmd_endpoints(sc_ctx_t *ctx, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	json_t *a;
	int rc = ask(ctx, "endpoints", &a);
	if (rc != SC_EXIT_OK)
		return rc;
	if (ctx->json) {
		sc_print_json(a);
		return SC_EXIT_OK;
	}
	static const char *const head[] = {"ENDPOINT", "ADDRESS", "STATE", "LINKS UP",
					   "IN FLIGHT", "SENT", "RECEIVED", "TIMEOUTS", "LATE"};
	sc_table_t *t = sc_table_new(9, head);
	size_t i;
	json_t *e;
	json_array_foreach(json_object_get(a, "endpoints"), i, e) {
		char links[32], inflight[24], sent[24], recv[24], to[24], late[24];
		snprintf(links, sizeof(links), "%lld/%lld", (long long)num(e, "links_up"),
			 (long long)num(e, "connections"));
		snprintf(inflight, sizeof(inflight), "%lld", (long long)num(e, "inflight"));
		snprintf(sent, sizeof(sent), "%lld", (long long)num(e, "sent"));
		snprintf(recv, sizeof(recv), "%lld", (long long)num(e, "received"));
		snprintf(to, sizeof(to), "%lld", (long long)num(e, "timeouts"));
		snprintf(late, sizeof(late), "%lld", (long long)num(e, "late"));
		const char *cells[] = {text(e, "name"), text(e, "address"), text(e, "state"),
				       links, inflight, sent, recv, to, late};
		sc_table_add(t, cells);
	}
	sc_table_print(t, stdout);
	sc_table_free(t);
	json_decref(a);
	return SC_EXIT_OK;
}

static void print_counts(json_t *obj, const char *title)
{
	const char *key;
	json_t *v;
	printf("%s:", title);
	if (json_object_size(obj) == 0)
		printf(" none");
	json_object_foreach(obj, key, v)
		printf(" %s=%lld", key, (long long)json_integer_value(v));
	printf("\n");
}

static int cmd_stats(sc_ctx_t *ctx, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	json_t *a;
	int rc = ask(ctx, "stats", &a);
	if (rc != SC_EXIT_OK)
		return rc;
	if (ctx->json) {
		sc_print_json(a);
		return SC_EXIT_OK;
	}
	print_counts(json_object_get(a, "requests"), "requests");
	print_counts(json_object_get(a, "answers"), "answers by code");
	const char *key;
	json_t *v;
	json_object_foreach(a, key, v) {
		if (json_is_integer(v))
			printf("%-24s %lld\n", key, (long long)json_integer_value(v));
		else if (json_is_real(v))
			printf("%-24s %.3f\n", key, json_real_value(v));
	}
	json_decref(a);
	return SC_EXIT_OK;
}

static int cmd_reload(sc_ctx_t *ctx, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	json_t *a;
	int rc = ask(ctx, "reload", &a);
	if (rc != SC_EXIT_OK)
		return rc;
	if (ctx->json)
		sc_print_json(a);
	else {
		printf("switchd reloaded its configuration\n");
		json_decref(a);
	}
	return SC_EXIT_OK;
}

int sc_cmd_status(sc_ctx_t *ctx, int argc, char **argv)
{
	return cmd_status(ctx, argc, argv);
}

int sc_cmd_endpoints(sc_ctx_t *ctx, int argc, char **argv)
{
	return cmd_endpoints(ctx, argc, argv);
}

int sc_cmd_stats(sc_ctx_t *ctx, int argc, char **argv)
{
	return cmd_stats(ctx, argc, argv);
}

int sc_cmd_reload(sc_ctx_t *ctx, int argc, char **argv)
{
	return cmd_reload(ctx, argc, argv);
}
