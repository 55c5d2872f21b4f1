/*
 * dispatch.c: the command table. A command is a name, a usage line, a
 * summary and a function; adding one (status, endpoints, stats over
 * switchd's control socket) is one row here and one file beside the
 * others. Offline commands (routes, audit, exceptions) live in
 * cmd_routes.c, cmd_audit.c and cmd_exceptions.c and touch only LMDB.
 */
#include <string.h>

#include "switchctl.h"

static int cmd_help(sc_ctx_t *ctx, int argc, char **argv)
{
	(void)ctx;
	(void)argc;
	(void)argv;
	sc_usage(stdout);
	return SC_EXIT_OK;
}

static const sc_command_t commands[] = {
	{"routes", "routes list|add|del|enable|disable|lookup|import|export ...",
	 "show and change the route table (offline, in LMDB)", sc_cmd_routes},
	{"audit", "audit [--limit N] [--since TIME]",
	 "show the log of operator actions: route changes, resolutions",
	 sc_cmd_audit},
	{"exceptions", "exceptions [--all] [--limit N] | resolve ID --note TEXT",
	 "what the switch gave up on, for an operator to reconcile (offline)",
	 sc_cmd_exceptions},
	{"status", "status", "a running switch: uptime, load, listeners (control socket)",
	 sc_cmd_status},
	{"endpoints", "endpoints", "a running switch's bank and network links",
	 sc_cmd_endpoints},
	{"stats", "stats", "a running switch's counters", sc_cmd_stats},
	{"reload", "reload", "make a running switch reload its configuration",
	 sc_cmd_reload},
	{"cutover", "cutover", "close the open settlement window and open the next",
	 sc_cmd_cutover},
	{"windows", "windows", "settlement windows: state, batches at PBOC",
	 sc_cmd_windows},
	{"window", "window N", "one window: its positions per member, its batches",
	 sc_cmd_window},
	{"settle", "settle N", "submit a failed window's rejected batches again",
	 sc_cmd_settle},
	{"recon", "recon N", "reconcile a booked window: network files, PBOC, banks",
	 sc_cmd_recon},
	{"help", "help", "show this help", cmd_help},
};

void sc_usage(FILE *out)
{
	fprintf(out,
		"usage: switchctl [--lmdb DIR | --config FILE] [--control ADDR] [--json] [--who NAME] COMMAND ...\n"
		"\n"
		"  --lmdb DIR     the switch's LMDB directory (else --config, else $SWITCHCTL_LMDB)\n"
		"  --control ADDR the switch's control socket, host:port or unix:/path\n"
		"                 (else --config's \"control\", else $SWITCHCTL_CONTROL)\n"
		"  --config FILE  the switch's JSON config; its lmdb.dir is used\n"
		"  --json         machine-readable output: JSON lines or one object\n"
		"  --who NAME     who makes a change, for the audit log (default user@host)\n"
		"\ncommands:\n");
	for (size_t i = 0; i < PS_ARRAY_LEN(commands); i++)
		fprintf(out, "  %-58s %s\n", commands[i].usage,
			commands[i].summary);
	fprintf(out, "\nexit codes: 0 ok, 2 usage, 3 not found or rejected, 4 I/O or storage failure\n"
		     "manual: docs/switchctl.md\n");
}

int sc_run_table(sc_ctx_t *ctx, const char *group, const sc_command_t *table,
		 size_t count, int argc, char **argv)
{
	if (argc == 0)
		return sc_fail(ctx, SC_EXIT_USAGE, "%s: which command? (try %s help)",
			       group, group);
	for (size_t i = 0; i < count; i++)
		if (strcmp(argv[0], table[i].name) == 0)
			return table[i].run(ctx, argc - 1, argv + 1);
	return sc_fail(ctx, SC_EXIT_USAGE, "%s: unknown command \"%s\" (try %s help)",
		       group, argv[0], group);
}

int sc_skip_global_options(sc_ctx_t *ctx, int argc, char **argv)
{
	int i = 0;
	while (i < argc) {
		int rc = sc_global_option(ctx, argc, argv, &i);
		if (rc < 0)
			return rc;
		if (rc == 0)
			break;
	}
	return i;
}

int sc_group_help(const char *group, const sc_command_t *table, size_t count)
{
	printf("usage: switchctl [--lmdb DIR | --config FILE] [--json] [--who NAME] %s COMMAND\n\n",
	       group);
	for (size_t i = 0; i < count; i++)
		printf("  %s\n      %s\n", table[i].usage, table[i].summary);
	return SC_EXIT_OK;
}

int sc_dispatch(sc_ctx_t *ctx, int argc, char **argv)
{
	return sc_run_table(ctx, "switchctl", commands, PS_ARRAY_LEN(commands),
			    argc, argv);
}
