/*
 * main.c: the iso8583 command: decode a message from hex to JSON, encode
 * JSON to hex, list the built-in dialects, run the codec demo.
 *
 * Exit codes: 0 done; 1 the input (hex, JSON, message) is malformed, with
 * the codec's error (field, offset, reason) on stderr; 2 a usage error
 * (unknown command or option, unknown dialect, unusable spec file).
 */
#include "tool.h"

#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
	"usage: iso8583 <command> [options]\n"
	"\n"
	"commands:\n"
	"  decode     read one message as hex on stdin (white space ignored),\n"
	"             print it as JSON: {\"mti\":\"0200\",\"fields\":{\"2\":\"...\"}}\n"
	"  encode     read that JSON on stdin, print the message as hex\n"
	"  dialects   list the built-in dialects\n"
	"  demo       encode and decode a purchase in every built-in dialect\n"
	"  send       send each JSON line of stdin to --connect HOST:PORT and\n"
	"             print each answer as a JSON line\n"
	"  help       this text (also --help)\n"
	"\n"
	"options for decode and encode:\n"
	"  --dialect NAME   a built-in dialect (default ascii; see `iso8583 dialects`)\n"
	"  --spec FILE      a dialect JSON file (docs/dialects.md)\n"
	"  --framed         a 2-byte big-endian length comes before the message\n"
	"  --pretty         (decode, send) indent the JSON\n"
	"\n"
	"options for send (and --dialect, --spec):\n"
	"  --connect HOST:PORT   where to send\n"
	"  --framing NAME        binary2 (default), ascii4, bcd2, binary4 or none\n"
	"  --header-bytes N      a fixed header of N zero bytes before the MTI\n"
	"  --header HEX          that header's bytes instead (e.g. a TPDU,\n"
	"                        6000030000); each answer's header is printed\n"
	"                        as \"header\" beside its fields\n"
	"  --timeout-ms MS       wait for each answer (default 5000)\n"
	"\n"
	"Binary fields are upper-case hex strings; text that is not UTF-8 is\n"
	"{\"hex\": \"...\"}; encode also takes integers for numeric fields.\n"
	"Exit status: 0 done, 1 malformed input (the error names field, offset\n"
	"and reason), 2 usage error; send also 3 (a message unanswered) and 4\n"
	"(cannot connect, or the host closed).\n";

struct options {
	const char *command;
	const char *dialect_name;
	const char *spec_path;
	bool framed;
	bool pretty;
	const char *connect;
	const char *framing;
	int header_bytes;
	const char *header;
	int timeout_ms;
};

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "iso8583: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n(try `iso8583 --help`)\n");
	return EXIT_USAGE;
}

static int parse_options(int argc, char **argv, struct options *o)
{
	memset(o, 0, sizeof(*o));
	if (argc < 2)
		return usage_error("%sa command is needed", "");
	o->command = argv[1];
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--dialect") == 0 && i + 1 < argc)
			o->dialect_name = argv[++i];
		else if (strcmp(a, "--spec") == 0 && i + 1 < argc)
			o->spec_path = argv[++i];
		else if (strcmp(a, "--framed") == 0)
			o->framed = true;
		else if (strcmp(a, "--pretty") == 0)
			o->pretty = true;
		else if (strcmp(a, "--connect") == 0 && i + 1 < argc)
			o->connect = argv[++i];
		else if (strcmp(a, "--framing") == 0 && i + 1 < argc)
			o->framing = argv[++i];
		else if (strcmp(a, "--header-bytes") == 0 && i + 1 < argc)
			o->header_bytes = atoi(argv[++i]);
		else if (strcmp(a, "--header") == 0 && i + 1 < argc)
			o->header = argv[++i];
		else if (strcmp(a, "--timeout-ms") == 0 && i + 1 < argc)
			o->timeout_ms = atoi(argv[++i]);
		else
			return usage_error("unknown or incomplete option: %s", a);
	}
	if (o->dialect_name != NULL && o->spec_path != NULL)
		return usage_error("%s--dialect and --spec exclude each other", "");
	return 0;
}

/* The dialect the options name; NULL after printing why not. */
static const iso8583_dialect_t *pick_dialect(const struct options *o)
{
	static iso8583_dialect_t spec;
	if (o->spec_path != NULL) {
		iso8583_error_t err;
		char line[256];
		if (iso8583_dialect_load_file(o->spec_path, &spec, &err) != 0) {
			fprintf(stderr, "iso8583: --spec %s: %s\n", o->spec_path,
				iso8583_error_format(&err, line, sizeof(line)));
			return NULL;
		}
		return &spec;
	}
	const char *name = o->dialect_name ? o->dialect_name : "ascii";
	const iso8583_dialect_t *d = iso8583_dialect_builtin(name);
	if (d == NULL)
		usage_error("unknown dialect: %s (see `iso8583 dialects`)", name);
	return d;
}

/* All of stdin, bounded; NULL (after saying so) when over the bound. */
static char *read_stdin(size_t *len)
{
	char *buf = malloc(TOOL_INPUT_BYTES_MAX + 1);
	PS_ASSERT(buf != NULL);
	*len = fread(buf, 1, TOOL_INPUT_BYTES_MAX + 1, stdin);
	if (*len > TOOL_INPUT_BYTES_MAX) {
		fprintf(stderr, "iso8583: input over %d bytes\n", TOOL_INPUT_BYTES_MAX);
		free(buf);
		return NULL;
	}
	buf[*len] = '\0';
	return buf;
}

/* The one frame in bytes: a 2-byte length and exactly that many bytes. */
static int unframe(uint8_t *bytes, size_t len, const uint8_t **msg,
		   size_t *msg_len, tool_error_t *e)
{
	static uint8_t storage[TOOL_MESSAGE_BYTES_MAX + 4];
	iso8583_framing_t cfg = {ISO8583_LENGTH_BINARY2, 0, TOOL_MESSAGE_BYTES_MAX, NULL};
	iso8583_framer_t f;
	iso8583_frame_t frame;
	iso8583_error_t err;
	size_t took;
	iso8583_framer_init(&f, &cfg, storage, sizeof(storage));
	iso8583_framer_feed(&f, bytes, len, &took);
	int rc = iso8583_framer_next(&f, &frame, &err);
	if (rc < 0) {
		tool_fail_codec(e, &err);
		return -1;
	}
	if (rc == 0 || took != len || iso8583_framer_pending(&f) != 0) {
		tool_fail(e, "input: --framed wants a 2-byte length and exactly that many bytes, got %zu bytes in all",
			  len);
		return -1;
	}
	*msg = frame.message;
	*msg_len = frame.message_len;
	return 0;
}

static int decode(const struct options *o, const iso8583_dialect_t *d,
		  tool_error_t *e)
{
	static uint8_t bytes[TOOL_INPUT_BYTES_MAX / 2];
	static iso8583_msg_t msg;
	size_t text_len, len;
	char *text = read_stdin(&text_len);
	if (text == NULL)
		return EXIT_INPUT;
	int rc = hex_text_to_bytes(text, text_len, bytes, sizeof(bytes), &len, e);
	free(text);
	if (rc != 0)
		return EXIT_INPUT;
	const uint8_t *m = bytes;
	size_t m_len = len;
	if (o->framed && unframe(bytes, len, &m, &m_len, e) != 0)
		return EXIT_INPUT;
	iso8583_error_t err;
	if (iso8583_unpack(&msg, d, m, m_len, &err) != 0) {
		tool_fail_codec(e, &err);
		return EXIT_INPUT;
	}
	json_t *root = message_to_json(&msg);
	json_dumpf(root, stdout, o->pretty ? JSON_INDENT(2) : JSON_COMPACT);
	fputc('\n', stdout);
	json_decref(root);
	return EXIT_OK;
}

static int encode(const struct options *o, const iso8583_dialect_t *d,
		  tool_error_t *e)
{
	static uint8_t arena[TOOL_INPUT_BYTES_MAX];
	static uint8_t out[TOOL_MESSAGE_BYTES_MAX + 2];
	static char hex[2 * sizeof(out) + 1];
	static iso8583_msg_t msg;
	size_t text_len;
	char *text = read_stdin(&text_len);
	if (text == NULL)
		return EXIT_INPUT;
	json_error_t jerr;
	json_t *root = json_loadb(text, text_len, JSON_REJECT_DUPLICATES, &jerr);
	free(text);
	if (root == NULL) {
		tool_fail(e, "input: JSON line %d column %d: %s", jerr.line,
			  jerr.column, jerr.text);
		return EXIT_INPUT;
	}
	iso8583_msg_init(&msg, d);
	int rc = message_from_json(root, &msg, arena, sizeof(arena), e);
	size_t len = 0, at = o->framed ? 2 : 0;
	iso8583_error_t err;
	if (rc == 0 && iso8583_pack(&msg, out + at, sizeof(out) - at - 2, &len, &err) != 0) {
		tool_fail_codec(e, &err);
		rc = -1;
	}
	iso8583_framing_t cfg = {ISO8583_LENGTH_BINARY2, 0, TOOL_MESSAGE_BYTES_MAX, NULL};
	if (rc == 0 && o->framed && iso8583_frame_write_length(&cfg, len, out) != 0) {
		tool_fail(e, "the message of %zu bytes is more than a 2-byte length can frame", len);
		rc = -1;
	}
	json_decref(root);
	if (rc != 0)
		return EXIT_INPUT;
	ps_hex_encode(out, at + len, hex);
	printf("%s\n", hex);
	return EXIT_OK;
}

static int run_send(const struct options *o)
{
	if (o->connect == NULL)
		return usage_error("%ssend needs --connect HOST:PORT", "");
	const iso8583_dialect_t *d = pick_dialect(o);
	if (d == NULL)
		return EXIT_USAGE;
	int lh = iso8583_length_header_parse(o->framing ? o->framing : "binary2");
	if (lh < 0)
		return usage_error("unknown framing: %s (binary2, ascii4, bcd2, binary4, none)",
				   o->framing);
	if (o->header_bytes < 0 || o->header_bytes > 64 || o->timeout_ms < 0)
		return usage_error("%s--header-bytes is 0..64, --timeout-ms positive", "");
	uint8_t header[64] = {0};
	int header_bytes = o->header_bytes;
	if (o->header != NULL) {
		size_t n = strlen(o->header);
		if (n == 0 || ps_hex_decode(o->header, n, header, sizeof(header)) != 0 ||
		    (header_bytes != 0 && (size_t)header_bytes * 2 != n))
			return usage_error("--header %s: want hex, at most 64 bytes, "
					   "as many as --header-bytes", o->header);
		header_bytes = (int)(n / 2);
	}
	iso8583_framing_t framing = {(uint8_t)lh, (uint16_t)header_bytes,
				     TOOL_MESSAGE_BYTES_MAX, d};
	return send_run(o->connect, d, &framing, header,
			o->timeout_ms ? o->timeout_ms : 5000, o->pretty);
}

static int list_dialects(void)
{
	for (size_t i = 0; i < iso8583_dialect_builtin_count(); i++) {
		const iso8583_dialect_t *d = iso8583_dialect_builtin_at(i);
		printf("%-16s %s\n", d->name, d->description);
	}
	return EXIT_OK;
}

int main(int argc, char **argv)
{
	struct options o;
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 ||
			  strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0)) {
		fputs(usage_text, stdout);
		return EXIT_OK;
	}
	int rc = parse_options(argc, argv, &o);
	if (rc != 0)
		return rc;
	bool codec = strcmp(o.command, "decode") == 0 || strcmp(o.command, "encode") == 0;
	bool send = strcmp(o.command, "send") == 0;
	if (!codec && !send && (o.dialect_name || o.spec_path || o.framed || o.pretty))
		return usage_error("%s takes no options", o.command);
	if (!send && (o.connect || o.framing || o.header_bytes || o.header ||
		      o.timeout_ms))
		return usage_error("%s: --connect, --framing, --header-bytes and "
				   "--timeout-ms are for send", o.command);
	if (send)
		return run_send(&o);
	if (strcmp(o.command, "dialects") == 0)
		return list_dialects();
	if (strcmp(o.command, "demo") == 0)
		return demo_run(stdout);
	if (!codec)
		return usage_error("unknown command: %s", o.command);
	const iso8583_dialect_t *d = pick_dialect(&o);
	if (d == NULL)
		return EXIT_USAGE;
	tool_error_t e;
	rc = o.command[0] == 'd' ? decode(&o, d, &e) : encode(&o, d, &e);
	if (rc != EXIT_OK)
		fprintf(stderr, "iso8583: %s: %s\n", o.command, e.text);
	return rc;
}
