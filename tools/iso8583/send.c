/*
 * send.c: `iso8583 send`: a client for trying a host by hand or from a
 * script. Each line of standard input is one message as JSON (the form
 * `decode` prints); each is packed, framed, sent to HOST:PORT and its answer
 * read back and printed as a JSON line, in order, one at a time (with the
 * answer's fixed header as "header" when the framing has one). A request
 * that gets no answer within --timeout-ms is reported on stderr.
 *
 * Exit codes: 0 every message answered, 1 malformed input, 2 usage,
 * 3 some message unanswered, 4 cannot connect or the host closed.
 */
#include "tool.h"

#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Reads until one frame is whole or the deadline passes: 1, 0 timeout,
 * -1 closed or a framing error. */
static int read_frame(int fd, iso8583_framer_t *f, iso8583_frame_t *frame,
		      int timeout_ms)
{
	uint64_t end = ps_mono_ms() + (uint64_t)timeout_ms;
	for (;;) {
		iso8583_error_t err;
		int rc = iso8583_framer_next(f, frame, &err);
		if (rc != 0)
			return rc > 0 ? 1 : -1;
		uint64_t now = ps_mono_ms();
		if (now >= end)
			return 0;
		struct pollfd p = {fd, POLLIN, 0};
		if (poll(&p, 1, (int)(end - now)) <= 0)
			continue;
		uint8_t *space;
		size_t room;
		iso8583_framer_space(f, &space, &room);
		ssize_t n = read(fd, space, room);
		if (n <= 0)
			return -1;
		iso8583_framer_commit(f, (size_t)n);
	}
}

int send_run(const char *address, const iso8583_dialect_t *d,
	     const iso8583_framing_t *framing, const uint8_t *header,
	     int timeout_ms, bool pretty)
{
	int fd;
	if (ps_tcp_connect(address, &fd) != 0) {
		fprintf(stderr, "iso8583: send: cannot connect to %s\n", address);
		return 4;
	}
	static uint8_t storage[TOOL_MESSAGE_BYTES_MAX + 4];
	static uint8_t out[TOOL_MESSAGE_BYTES_MAX + 8];
	static uint8_t arena[TOOL_INPUT_BYTES_MAX];
	static char line[TOOL_INPUT_BYTES_MAX];
	static iso8583_msg_t msg, answer;
	iso8583_framer_t f;
	iso8583_framer_init(&f, framing, storage, sizeof(storage));
	int status = EXIT_OK, number = 0;
	while (fgets(line, sizeof(line), stdin) != NULL) {
		number++;
		if (line[strspn(line, " \t\r\n")] == '\0')
			continue;
		tool_error_t e;
		json_error_t jerr;
		json_t *root = json_loads(line, JSON_REJECT_DUPLICATES, &jerr);
		if (root == NULL) {
			fprintf(stderr, "iso8583: send: line %d: %s\n", number, jerr.text);
			status = EXIT_INPUT;
			continue;
		}
		iso8583_msg_init(&msg, d);
		int rc = message_from_json(root, &msg, arena, sizeof(arena), &e);
		size_t prefix = iso8583_frame_length_bytes(framing), len = 0;
		iso8583_error_t err;
		if (rc == 0 && iso8583_pack(&msg, out + prefix + framing->header_bytes,
					    sizeof(out) - prefix - framing->header_bytes,
					    &len, &err) != 0) {
			tool_fail_codec(&e, &err);
			rc = -1;
		}
		json_decref(root);
		if (rc != 0) {
			fprintf(stderr, "iso8583: send: line %d: %s\n", number, e.text);
			status = EXIT_INPUT;
			continue;
		}
		memcpy(out + prefix, header, framing->header_bytes);
		iso8583_frame_write_length(framing, framing->header_bytes + len, out);
		size_t total = prefix + framing->header_bytes + len;
		if (write(fd, out, total) != (ssize_t)total) {
			fprintf(stderr, "iso8583: send: %s closed the connection\n", address);
			close(fd);
			return 4;
		}
		iso8583_frame_t frame;
		rc = read_frame(fd, &f, &frame, timeout_ms);
		if (rc < 0) {
			fprintf(stderr, "iso8583: send: %s closed the connection\n", address);
			close(fd);
			return 4;
		}
		if (rc == 0) {
			fprintf(stderr, "iso8583: send: line %d: no answer within %d ms\n",
				number, timeout_ms);
			status = status == EXIT_OK ? 3 : status;
			continue;
		}
		if (iso8583_unpack(&answer, d, frame.message, frame.message_len, &err) != 0) {
			tool_fail_codec(&e, &err);
			fprintf(stderr, "iso8583: send: line %d: the answer: %s\n", number, e.text);
			status = EXIT_INPUT;
			continue;
		}
		json_t *j = message_to_json(&answer);
		if (frame.header_len > 0) {
			char hex[2 * 64 + 1];
			ps_hex_encode(frame.header, frame.header_len, hex);
			json_object_set_new(j, "header", json_string(hex));
		}
		json_dumpf(j, stdout, pretty ? JSON_INDENT(2) : JSON_COMPACT);
		fputc('\n', stdout);
		fflush(stdout);
		json_decref(j);
	}
	close(fd);
	return status;
}
