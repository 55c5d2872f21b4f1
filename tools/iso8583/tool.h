/*
 * tool.h: what the iso8583 command's files share: exit codes, the
 * message <-> JSON and hex conversions, and the demo.
 */
#ifndef PAYSWITCH_TOOL_ISO8583_H
#define PAYSWITCH_TOOL_ISO8583_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "core.h"
#include "iso8583.h"

/* Exit codes: usage errors and bad input are told apart for scripts. */
enum {
	EXIT_OK = 0,
	EXIT_INPUT = 1, /* the message, JSON or hex given is malformed */
	EXIT_USAGE = 2, /* unknown command or option, bad dialect or spec */
};

/* Bounds on what the tool reads: a message is far below these. */
#define TOOL_INPUT_BYTES_MAX (1024 * 1024)
#define TOOL_MESSAGE_BYTES_MAX 65535

/*
 * An error for the user: "iso8583: <command>: <text>" on stderr, in a
 * buffer so the command decides when to print it.
 */
typedef struct tool_error {
	char text[512];
} tool_error_t;

void tool_fail(tool_error_t *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void tool_fail_codec(tool_error_t *e, const iso8583_error_t *err);

/* Hex text (white space ignored) to bytes. */
int hex_text_to_bytes(const char *text, size_t len, uint8_t *out, size_t cap,
		      size_t *out_len, tool_error_t *e);

/* {"mti": "0200", "fields": {"2": "...", ...}} from an unpacked message. */
json_t *message_to_json(const iso8583_msg_t *msg);

/*
 * Sets msg (initialised for its dialect) from that JSON; values that are
 * not borrowed from the JSON go into arena (cap bytes).
 */
int message_from_json(json_t *root, iso8583_msg_t *msg, uint8_t *arena,
		      size_t cap, tool_error_t *e);

/* The codec demo: a purchase through every built-in dialect. */
int demo_run(FILE *out);

/* `iso8583 send`: JSON lines on stdin to a host, answers as JSON lines. */
/* header: framing->header_bytes bytes put before each message. */
int send_run(const char *address, const iso8583_dialect_t *d,
	     const iso8583_framing_t *framing, const uint8_t *header,
	     int timeout_ms, bool pretty);

#endif
