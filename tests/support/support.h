/*
 * support.h: what integration tests need to drive real processes.
 *
 * Processes are started with fork/exec, die with the test (PR_SET_PDEATHSIG),
 * bind port 0 and report their ports in a ready file; clients are blocking
 * sockets with deadlines. Every wait is bounded: a test that would hang
 * fails instead. Only loopback addresses are ever used.
 */
#ifndef PAYSWITCH_TEST_SUPPORT_H
#define PAYSWITCH_TEST_SUPPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "adapters.h"
#include "iso8583.h"

/* ---- files and directories ---------------------------------------------- */

/* A fresh directory under $TMPDIR (or /tmp): "<dir>/payswitch-<tag>-XXXXXX". */
void ts_tmpdir(const char *tag, char *out, size_t cap);
/* Removes a directory tree (unless PS_TEST_KEEP=1: kept for a look). */
void ts_rmrf(const char *path);
/* Writes text to path (replacing it). */
void ts_write_file(const char *path, const char *text);
/* The built executable's path: PS_BIN_DIR "/" name. */
const char *ts_bin(const char *name);

/* ---- processes ----------------------------------------------------------- */

typedef struct ts_proc {
	pid_t pid;
	char name[64];
	char log[512];     /* stdout+stderr of the process */
	int status;        /* after ts_proc_wait */
	bool exited;
} ts_proc_t;

/*
 * Starts argv[0] (a path) with argv, output to log_path. NULL-terminated
 * argv. Asserts on failure.
 */
void ts_proc_start(ts_proc_t *p, const char *log_path, char *const argv[]);
/* Sends sig. */
void ts_proc_signal(ts_proc_t *p, int sig);
/* Waits up to timeout_ms; true when it exited (p->status set). */
bool ts_proc_wait(ts_proc_t *p, int timeout_ms);
/* SIGKILL and reap, if still running. */
void ts_proc_kill(ts_proc_t *p);
/* Exit code of an exited process, -1 if killed by a signal. */
int ts_proc_exit_code(const ts_proc_t *p);
/* Prints the last lines of the process log to stderr (on failure). */
void ts_proc_dump(const ts_proc_t *p);

/*
 * Waits (up to timeout_ms) for a ready file to appear and parses it as
 * JSON; also fails early if proc has exited. Caller owns the result.
 */
json_t *ts_wait_ready(const char *path, ts_proc_t *proc, int timeout_ms);
/* The port of a listener in a switchd ready file; asserts if absent. */
uint16_t ts_ready_port(json_t *ready, const char *listener);

/*
 * Runs argv to completion (at most timeout_ms), capturing stdout into out
 * (NUL-terminated, truncated to cap-1) and stderr into err if non-NULL.
 * stdin_text (may be NULL) is written to its standard input.
 * Returns the exit code, or -1 on a signal or timeout.
 */
int ts_run(char *const argv[], const char *stdin_text, char *out, size_t cap,
	   char *err, size_t err_cap, int timeout_ms);

/* ---- clients --------------------------------------------------------------- */

/* A loopback TCP connection; asserts within timeout_ms. */
int ts_connect(uint16_t port, int timeout_ms);
/* Tries once; -1 if refused. */
int ts_try_connect(uint16_t port);
void ts_send_all(int fd, const void *data, size_t len);
/* Reads exactly len bytes; false on EOF, error or timeout. */
bool ts_recv_exact(int fd, void *data, size_t len, int timeout_ms);
/* True when the peer closed (EOF) within timeout_ms. */
bool ts_wait_closed(int fd, int timeout_ms);

/* JSON lines: send one line (adds '\n'); read one line into out. */
void ts_send_line(int fd, const char *line);
bool ts_recv_line(int fd, char *out, size_t cap, int timeout_ms);
/* Sends a request line and reads the answer for its id (answers may come
 * in any order: others are kept for later calls on the same fd). */
json_t *ts_json_call(int fd, const char *line, int timeout_ms);
/* Reads (or takes from those kept) the answer for id, without sending. */
json_t *ts_json_wait(int fd, const char *id, int timeout_ms);

/* ISO 8583 with a 2-byte big-endian length header. */
void ts_iso_send(int fd, const iso8583_msg_t *msg);
/* A terminal's card purchase (0200, processing code 000000, ascii
 * dialect): field 7 transmit (MMDDhhmmss) also gives 12 and 13, the
 * terminal is TERM0001 at merchant MERCHANT0000001, currency 156. The
 * message refers to pan, transmit and acquirer (iso8583_set): they must
 * outlive it. */
void ts_iso_purchase(iso8583_msg_t *m, const char *pan, int64_t amount,
		     const char *transmit, uint32_t stan, const char *acquirer);
/* Receives one framed message into buf and unpacks it into msg. */
bool ts_iso_recv(int fd, const iso8583_dialect_t *dialect, iso8583_msg_t *msg,
		 uint8_t *buf, size_t cap, int timeout_ms);

/* One control-socket command ({"cmd":...}); caller owns the answer. */
json_t *ts_control(uint16_t port, const char *cmd);

/* Free loopback TCP port (bound then released): for peers that must be
 * named before they start. */
uint16_t ts_free_port(void);

/* Milliseconds of monotonic time, and a sleep. */
uint64_t ts_now_ms(void);
void ts_sleep_ms(int ms);

#endif /* PAYSWITCH_TEST_SUPPORT_H */
