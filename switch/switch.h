/*
 * switch.h: switchd, the payment switch, as a library.
 *
 * A single-threaded libuv server: it accepts payment channels over TCP
 * (ISO 8583 from acquirers, JSON lines from PSPs), routes each instruction
 * by account number to a bank or network endpoint, keeps every in-flight
 * transaction in LMDB so nothing is lost, and answers the origin.
 * switchd's main() is a thin wrapper; tests and benchmarks can run a server
 * in-process through these calls.
 *
 * Configuration is one JSON file (docs/configuration.md). A bad file is
 * refused with the key path and the reason; SIGHUP reloads it without
 * dropping live connections; SIGTERM drains and exits 0.
 */
#ifndef PAYSWITCH_SWITCH_H
#define PAYSWITCH_SWITCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sw_config sw_config_t;
typedef struct sw_server sw_server_t;

/*
 * Loads and validates a configuration file. On failure returns PS_EINVAL
 * (or PS_EIO when the file cannot be read) and writes "key.path: reason"
 * into err. The config is owned by the caller: sw_config_free(). Paths in
 * the file (lmdb.dir, dialect files, a unix: control socket) are relative
 * to the file's folder; for sw_config_parse(), to the working directory.
 */
int sw_config_load(const char *path, sw_config_t **out, char *err,
		   size_t err_cap);
int sw_config_parse(const char *text, size_t len, sw_config_t **out,
		    char *err, size_t err_cap);
void sw_config_free(sw_config_t *cfg);

typedef struct sw_options {
	const char *config_path; /* for SIGHUP reloads; may be NULL */
	const char *ready_file;  /* written once listening: bound ports */
	bool install_signals;    /* SIGHUP, SIGTERM, SIGINT handlers */
} sw_options_t;

/*
 * Creates a server on its own loop from cfg (the server takes ownership),
 * opens the LMDB store, reverses whatever a previous run left in flight,
 * binds the listeners and starts connecting to endpoints.
 */
int sw_server_create(sw_config_t *cfg, const sw_options_t *opts,
		     sw_server_t **out, char *err, size_t err_cap);

/* Runs the loop until the server has drained and stopped. Returns 0. */
int sw_server_run(sw_server_t *sw);

/* Runs one turn of the loop without blocking: for a caller that drives
 * the server step by step (tests). True while the server has not
 * stopped. */
bool sw_server_step(sw_server_t *sw);

/* Asks the server to drain: stop accepting, finish or time out what is in
 * flight, commit, close. Safe from the loop thread only. */
void sw_server_stop(sw_server_t *sw);

void sw_server_destroy(sw_server_t *sw);

#endif /* PAYSWITCH_SWITCH_H */
