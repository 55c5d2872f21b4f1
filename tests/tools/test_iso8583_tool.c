/*
 * test_iso8583_tool.c: the iso8583 command as a user runs it: encode and
 * decode round trips in each dialect, framing, --spec, the error messages
 * and exit codes (1 bad input, 2 usage), dialects, demo and help.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core.h"

#define TOOL PS_BIN_DIR "/iso8583"
#define OUT_MAX 65536

static char out[OUT_MAX], err[OUT_MAX];

static void slurp(int fd, char *buf)
{
	lseek(fd, 0, SEEK_SET);
	ssize_t n = read(fd, buf, OUT_MAX - 1);
	buf[n > 0 ? n : 0] = '\0';
	close(fd);
}

/* Runs the tool with args (NULL-terminated) and input on stdin; returns
 * its exit status, with its stdout and stderr in out and err. */
static int run(const char *input, ...)
{
	const char *argv[16] = {TOOL};
	va_list ap;
	va_start(ap, input);
	int argc = 1;
	while ((argv[argc] = va_arg(ap, const char *)) != NULL)
		argc++;
	va_end(ap);
	char in_path[] = "/tmp/ps-tool-in-XXXXXX", out_path[] = "/tmp/ps-tool-out-XXXXXX",
	     err_path[] = "/tmp/ps-tool-err-XXXXXX";
	int in_fd = mkstemp(in_path), out_fd = mkstemp(out_path), err_fd = mkstemp(err_path);
	assert_true(in_fd >= 0 && out_fd >= 0 && err_fd >= 0);
	unlink(in_path);
	unlink(out_path);
	unlink(err_path);
	size_t len = strlen(input);
	assert_int_equal(write(in_fd, input, len), (ssize_t)len);
	lseek(in_fd, 0, SEEK_SET);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(in_fd, 0);
		dup2(out_fd, 1);
		dup2(err_fd, 2);
		execv(TOOL, (char *const *)argv);
		_exit(127);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	close(in_fd);
	slurp(out_fd, out);
	slurp(err_fd, err);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

/* A copy of what the tool printed, to feed it back in. */
static void copy_out(char *dst, size_t cap)
{
	size_t n = strlen(out);
	assert_true(n < cap);
	memcpy(dst, out, n + 1);
}

static const char purchase_json[] =
	"{\"mti\":\"0200\",\"fields\":{\"2\":\"6222020000000001\",\"3\":\"000000\","
	"\"4\":\"000000012850\",\"11\":\"000001\",\"35\":\"6222020000000001=2512101\","
	"\"41\":\"TERM0001\",\"49\":\"156\",\"52\":\"0123456789ABCDEF\"}}";

static void test_round_trip_each_dialect(void **state)
{
	(void)state;
	const char *dialects[] = {"ascii", "binary", "ascii-binbitmap"};
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(run(purchase_json, "encode", "--dialect", dialects[i], NULL), 0);
		char hex[4096];
		copy_out(hex, sizeof(hex));
		assert_non_null(strchr(hex, '\n'));
		assert_int_equal(run(hex, "decode", "--dialect", dialects[i], NULL), 0);
		char want[4096];
		snprintf(want, sizeof(want), "%s\n", purchase_json);
		assert_string_equal(out, want);
	}
}

/* The bytes themselves, for a message small enough to check by eye. */
static void test_known_bytes(void **state)
{
	(void)state;
	const char *json = "{\"mti\":\"0800\",\"fields\":{\"11\":42,\"70\":\"301\"}}";
	assert_int_equal(run(json, "encode", NULL), 0);
	/* "0800", hex bitmap 8020000000000000 0400000000000000, "000042", "301" */
	assert_string_equal(out, "30383030" "38303230303030303030303030303030"
				 "30343030303030303030303030303030"
				 "303030303432" "333031\n");
	assert_int_equal(run(json, "encode", "--dialect", "binary", NULL), 0);
	assert_string_equal(out, "0800" "8020000000000000" "0400000000000000"
				 "000042" "0301\n");
	/* decode ignores white space and takes lower case */
	assert_int_equal(run("08 00 80200000 00000000\n04000000 00000000 000042 0301\n",
			     "decode", "--dialect", "binary", NULL), 0);
	assert_string_equal(out, "{\"mti\":\"0800\",\"fields\":{\"11\":\"000042\",\"70\":\"301\"}}\n");
}

static void test_framed(void **state)
{
	(void)state;
	const char *json = "{\"mti\":\"0800\",\"fields\":{\"11\":\"000042\",\"70\":\"301\"}}";
	assert_int_equal(run(json, "encode", "--dialect", "binary", "--framed", NULL), 0);
	assert_string_equal(out, "0017" "0800" "8020000000000000" "0400000000000000"
				 "000042" "0301\n");
	char hex[256];
	copy_out(hex, sizeof(hex));
	assert_int_equal(run(hex, "decode", "--dialect", "binary", "--framed", NULL), 0);
	assert_non_null(strstr(out, "\"70\":\"301\""));
	/* a length that does not match what follows */
	assert_int_equal(run("0016 0800 8020000000000000 0400000000000000 000042 0301",
			     "decode", "--dialect", "binary", "--framed", NULL), 1);
	assert_non_null(strstr(err, "--framed wants a 2-byte length and exactly that many bytes"));
	assert_int_equal(run("0000", "decode", "--framed", NULL), 1);
	assert_non_null(strstr(err, "frame at stream offset 0: length 0"));
}

static void test_bad_input_exits_1_naming_field_offset_reason(void **state)
{
	(void)state;
	/* ascii: field 3 is "00A000" */
	const char *bad = "30323030" "32303030303030303030303030303030" "303041303030";
	assert_int_equal(run(bad, "decode", NULL), 1);
	assert_string_equal(err, "iso8583: decode: field 3 at offset 22: content outside class n: "
				 "byte 0x41 (class n takes digits only)\n");
	assert_string_equal(out, "");
	assert_int_equal(run("0200", "decode", NULL), 1);
	assert_non_null(strstr(err, "MTI at offset 0: the MTI needs 4 bytes, 2 left"));
	assert_int_equal(run("30X2", "decode", NULL), 1);
	assert_non_null(strstr(err, "'X' at position 2 is not a hex digit"));
	assert_int_equal(run("303", "decode", NULL), 1);
	assert_non_null(strstr(err, "odd number of hex digits"));
	assert_int_equal(run("{\"mti\":\"0200\",\"fields\":{\"3\":\"00000\"}}", "encode", NULL), 1);
	assert_non_null(strstr(err, "field 3 at offset 20: fixed field of length 6 given 5"));
	assert_int_equal(run("{\"mti\":\"0200\",\"fields\":{\"52\":\"XYZ\"}}", "encode", NULL), 1);
	assert_non_null(strstr(err, "fields.52: class b takes hex bytes"));
	assert_int_equal(run("{\"mti\":\"0200\",\"fields\":{\"300\":\"1\"}}", "encode", NULL), 1);
	assert_non_null(strstr(err, "fields.300: not a field number"));
	assert_int_equal(run("{\"mti\":\"02\",\"fields\":{}}", "encode", NULL), 1);
	assert_non_null(strstr(err, "mti:"));
	assert_int_equal(run("{\"mti\":\"0200\"", "encode", NULL), 1);
	assert_non_null(strstr(err, "input: JSON line"));
	assert_int_equal(run("[]", "encode", NULL), 1);
	assert_int_equal(run("{\"mti\":\"0200\",\"fields\":{\"39\":7}}", "encode", NULL), 1);
	assert_non_null(strstr(err, "fields.39: must be a string"));
}

static void test_usage_errors_exit_2(void **state)
{
	(void)state;
	assert_int_equal(run("", NULL), 2);
	assert_int_equal(run("", "frobnicate", NULL), 2);
	assert_non_null(strstr(err, "unknown command: frobnicate"));
	assert_int_equal(run("", "decode", "--colour", NULL), 2);
	assert_non_null(strstr(err, "unknown or incomplete option: --colour"));
	assert_int_equal(run("", "decode", "--dialect", NULL), 2);
	assert_int_equal(run("", "decode", "--dialect", "ebcdic", NULL), 2);
	assert_non_null(strstr(err, "unknown dialect: ebcdic"));
	assert_int_equal(run("", "decode", "--spec", "/nonexistent.json", NULL), 2);
	assert_non_null(strstr(err, "/nonexistent.json"));
	assert_int_equal(run("", "decode", "--dialect", "ascii", "--spec", "x", NULL), 2);
	assert_int_equal(run("", "dialects", "--framed", NULL), 2);
}

static void test_spec_file(void **state)
{
	(void)state;
	char path[] = "/tmp/ps-tool-spec-XXXXXX";
	int fd = mkstemp(path);
	const char *spec = "{\"name\": \"tiny\", \"mti\": \"ascii\", \"bitmap\": \"binary\","
			   " \"fields\": {\"3\": {\"class\": \"n\", \"length\": 6, \"encoding\": \"bcd\"}}}";
	assert_int_equal(write(fd, spec, strlen(spec)), (ssize_t)strlen(spec));
	close(fd);
	assert_int_equal(run("{\"mti\":\"0200\",\"fields\":{\"3\":\"310000\"}}",
			     "encode", "--spec", path, NULL), 0);
	assert_string_equal(out, "30323030" "2000000000000000" "310000\n");
	assert_int_equal(run("{\"mti\":\"0200\",\"fields\":{\"4\":\"1\"}}",
			     "encode", "--spec", path, NULL), 1);
	assert_non_null(strstr(err, "fields.4: not defined in this dialect"));
	/* a broken spec is a usage error naming the JSON path */
	fd = open(path, O_WRONLY | O_TRUNC);
	const char *broken = "{\"name\": \"tiny\", \"mti\": \"ascii\", \"bitmap\": \"binary\","
			     " \"fields\": {\"3\": {\"class\": \"n\", \"length\": 6, \"encoding\": \"ebcdic\"}}}";
	assert_int_equal(write(fd, broken, strlen(broken)), (ssize_t)strlen(broken));
	close(fd);
	assert_int_equal(run("", "decode", "--spec", path, NULL), 2);
	assert_non_null(strstr(err, "fields.3.encoding: unknown encoding \"ebcdic\""));
	unlink(path);
}

/* Text that is not UTF-8 comes out as {"hex": ...} and goes back exactly. */
static void test_non_utf8_text(void **state)
{
	(void)state;
	assert_int_equal(run("{\"mti\":\"0200\",\"fields\":{\"48\":{\"hex\":\"C4E3BAC3\"}}}",
			     "encode", NULL), 0);
	char hex[256];
	copy_out(hex, sizeof(hex));
	assert_string_equal(hex, "30323030" "30303030303030303030303130303030" "303034C4E3BAC3\n");
	assert_int_equal(run(hex, "decode", NULL), 0);
	assert_string_equal(out, "{\"mti\":\"0200\",\"fields\":{\"48\":{\"hex\":\"C4E3BAC3\"}}}\n");
}

static void test_dialects_demo_help(void **state)
{
	(void)state;
	assert_int_equal(run("", "dialects", NULL), 0);
	assert_non_null(strstr(out, "ascii            jPOS ISO87APackager"));
	assert_non_null(strstr(out, "\nbinary           jPOS ISO87BPackager"));
	assert_non_null(strstr(out, "\nascii-binbitmap  ASCII fields with a binary bitmap"));
	assert_int_equal(run("", "demo", NULL), 0);
	for (const char *d = "ascii\0binary\0ascii-binbitmap\0"; *d; d += strlen(d) + 1) {
		char head[64];
		snprintf(head, sizeof(head), "\n== %s: ", d);
		assert_non_null(strstr(out, head));
	}
	/* the card number is shown masked in every decoded listing */
	const char *p = out;
	int masked = 0;
	while ((p = strstr(p, "Primary account number")) != NULL) {
		const char *eol = strchr(p, '\n');
		assert_non_null(strstr(p, "622202******0001"));
		assert_true(strstr(p, "622202******0001") < eol);
		masked++;
		p = eol;
	}
	assert_int_equal(masked, 3);
	assert_non_null(strstr(out, "622202******0001=*******"));
	assert_non_null(strstr(out, "(128.50)"));
	assert_int_equal(run("", "--help", NULL), 0);
	assert_non_null(strstr(out, "usage: iso8583 <command>"));
	assert_non_null(strstr(out, "--framed"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_each_dialect),
		cmocka_unit_test(test_known_bytes),
		cmocka_unit_test(test_framed),
		cmocka_unit_test(test_bad_input_exits_1_naming_field_offset_reason),
		cmocka_unit_test(test_usage_errors_exit_2),
		cmocka_unit_test(test_spec_file),
		cmocka_unit_test(test_non_utf8_text),
		cmocka_unit_test(test_dialects_demo_help),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
