/*
 * switchctl.h: what switchctl's files share: the run context (global
 * options, the LMDB environment once opened), exit codes, the command
 * table's shape, argument and output helpers.
 */
#ifndef PAYSWITCH_SWITCHCTL_H
#define PAYSWITCH_SWITCHCTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "routing.h"

/* Exit codes: scripts tell "you typed it wrong" from "the switch said no"
 * from "the disk failed". */
enum sc_exit {
	SC_EXIT_OK = 0,
	SC_EXIT_USAGE = 2,    /* bad command line */
	SC_EXIT_REJECTED = 3, /* not found, invalid input, rejected import,
				 a lookup that would not route */
	SC_EXIT_IO = 4,       /* I/O or storage failure */
};

typedef struct sc_ctx {
	/* Global options. */
	const char *lmdb_dir;    /* --lmdb */
	const char *config_path; /* --config */
	const char *control;     /* --control: switchd's control socket */
	bool json;               /* --json */
	char who[ROUTE_WHO_BYTES_MAX + 1]; /* --who, or user@host */
	/* Resolved from the options, the config or SWITCHCTL_LMDB. */
	char dir[4096];
	size_t map_bytes;
	/* Open once a command asks for the store. */
	MDB_env *env;
	route_table_t table;
} sc_ctx_t;

/* One command: name, usage line, one-line summary, and its function,
 * which gets the arguments after its name and returns an exit code. */
typedef struct sc_command {
	const char *name;
	const char *usage;
	const char *summary;
	int (*run)(sc_ctx_t *ctx, int argc, char **argv);
} sc_command_t;

/* dispatch.c: the top-level command table. */
int sc_dispatch(sc_ctx_t *ctx, int argc, char **argv);
void sc_usage(FILE *out);
/* Runs the command named argv[0] from table (for subcommands too). */
int sc_run_table(sc_ctx_t *ctx, const char *group,
		 const sc_command_t *table, size_t count, int argc,
		 char **argv);
/* How many of argv[0..) are global options, taken into ctx (they may come
 * between a group's name and its command); a negative exit code when one
 * is wrong. */
int sc_skip_global_options(sc_ctx_t *ctx, int argc, char **argv);
/* A group's help: the usage line and one entry per command of table. */
int sc_group_help(const char *group, const sc_command_t *table, size_t count);

/* A path from the config file, as switchd reads it: relative to the
 * file's folder (absolute paths as they are). SC_EXIT_USAGE when too long. */
int sc_config_path(sc_ctx_t *ctx, const char *path, char *out, size_t cap);

/* cmd_control.c: sends request (an object with "cmd") to the running
 * switch's control socket and reads its answer (caller decrefs). An exit
 * code: SC_EXIT_OK only for an answer with "ok": true (else it is said on
 * stderr, SC_EXIT_REJECTED, and *answer is NULL). */
struct json_t;
int sc_ask(sc_ctx_t *ctx, struct json_t *request, struct json_t **answer);

/* context.c: global options, finding and opening the store. */
void sc_ctx_init(sc_ctx_t *ctx);
/*
 * If argv[*i] is a global option (--lmdb, --config, --json, --who), takes
 * it and its value, advances *i past them, and returns 1; returns 0 for
 * anything else, or SC_EXIT_USAGE (negated) for a global option without
 * its value. Commands call it so global options work after the command.
 */
int sc_global_option(sc_ctx_t *ctx, int argc, char **argv, int *i);
/* Opens the environment and the route table. create: a write command,
 * which may create the directory; else the directory must exist.
 * Returns an exit code (0 on success), with the message printed. */
int sc_open_store(sc_ctx_t *ctx, bool create);
void sc_close_store(sc_ctx_t *ctx);
/* route_txn_begin with an exit code and a message on failure. */
int sc_begin(sc_ctx_t *ctx, bool write, MDB_txn **txn);
/* mdb_txn_commit with an exit code and a message on failure. */
int sc_commit(sc_ctx_t *ctx, MDB_txn *txn);

/* output.c */
/* Prints "switchctl: <message>" on stderr and, with --json, an
 * {"ok":false,...} object on stdout; returns exit. */
int sc_fail(sc_ctx_t *ctx, int exit, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* As sc_fail for a routing error: the exit code follows err->code. */
int sc_fail_route(sc_ctx_t *ctx, const char *doing, const route_error_t *err);
/* The exit code for a PS_E* or ROUTE_E* code. */
int sc_exit_for(int code, int mdb_rc);
/* "2025-11-25T21:07:03Z"; with_ms adds ".123". */
void sc_format_time(uint64_t ms, bool with_ms, char *out, size_t cap);
/* Parses --since forms (docs/switchctl.md); false when unknown. */
bool sc_parse_time(const char *text, uint64_t now_ms, uint64_t *out_ms);

/* A table printed with aligned columns; cells are copied. */
typedef struct sc_table sc_table_t;
sc_table_t *sc_table_new(size_t columns, const char *const *headers);
void sc_table_add(sc_table_t *t, const char *const *cells);
void sc_table_print(sc_table_t *t, FILE *out);
void sc_table_free(sc_table_t *t);

/* Prints one JSON value as a line on stdout and frees it. */
struct json_t;
void sc_print_json(struct json_t *value);
/* The route as a JSON object (route_to_json's form). */
struct json_t *sc_route_json(const route_t *route);
/* An audit record as JSON: at, at_ms, who, what, prefix, before, after,
 * version, detail (when not empty). */
struct json_t *sc_audit_json(const route_audit_t *audit);
/* "bank_a (direct), alternates bank_a2, institution 01020000" */
void sc_route_summary(const route_t *route, char *out, size_t cap);
/* What a change did to a route, for humans: "endpoint a -> b; ...". */
void sc_route_diff(const route_t *before, const route_t *after, char *out,
		   size_t cap);

/* cmd_routes.c, cmd_audit.c, cmd_exceptions.c: offline, in LMDB. */
int sc_cmd_routes(sc_ctx_t *ctx, int argc, char **argv);
int sc_cmd_audit(sc_ctx_t *ctx, int argc, char **argv);
int sc_cmd_exceptions(sc_ctx_t *ctx, int argc, char **argv);
/* cmd_control.c: over switchd's control socket. */
int sc_cmd_status(sc_ctx_t *ctx, int argc, char **argv);
int sc_cmd_endpoints(sc_ctx_t *ctx, int argc, char **argv);
int sc_cmd_stats(sc_ctx_t *ctx, int argc, char **argv);
int sc_cmd_reload(sc_ctx_t *ctx, int argc, char **argv);
/* cmd_clearing.c */
int sc_cmd_cutover(sc_ctx_t *ctx, int argc, char **argv);
int sc_cmd_windows(sc_ctx_t *ctx, int argc, char **argv);
int sc_cmd_window(sc_ctx_t *ctx, int argc, char **argv);
int sc_cmd_settle(sc_ctx_t *ctx, int argc, char **argv);
int sc_cmd_recon(sc_ctx_t *ctx, int argc, char **argv);

#endif /* PAYSWITCH_SWITCHCTL_H */
