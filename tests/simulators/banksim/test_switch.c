/*
 * test_switch.c: banksim behind the real switchd, end to end. Two banks
 * (bank A two-phase, bank B single-phase), routes by prefix, a PSP on the
 * JSON channel: an approved pay moves the money in both books (bank A's
 * authorisation posted by the switch's completion advice), a 51 from the
 * payer's bank, a 57 from the payee's bank whose debit the switch then
 * reverses, and a dropped answer that times out (68) and is reversed.
 * This is the contract of DESIGN.md's pay flow, checked in the books.
 */
#include "bank_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PAYER "6222020000000001"    /* bank A, 1000.00 */
#define POOR "6222020000000002"     /* bank A, 10.00 */
#define SILENT "6222020000000003"   /* bank A, answers dropped */
#define PAYEE "6217000000000009"    /* bank B */
#define CLOSED "6217000000000008"   /* bank B, closed */

static const char bank_a[] =
	"[{\"account\": \"" PAYER "\", \"balance\": 100000},"
	" {\"account\": \"" POOR "\", \"balance\": 1000},"
	" {\"account\": \"" SILENT "\", \"balance\": 100000, \"fault\": \"drop\"}]";
static const char bank_b[] =
	"[{\"account\": \"" PAYEE "\"},"
	" {\"account\": \"" CLOSED "\", \"status\": \"closed\"}]";

typedef struct chain {
	bt_bank_t a, b;
	char dir[256];
	ts_proc_t switchd;
	uint16_t psp_port;
} chain_t;

static void route(const chain_t *c, const char *prefix, const char *endpoint)
{
	char lmdb[300], out[1024], err[1024];
	snprintf(lmdb, sizeof(lmdb), "%s/swdb", c->dir);
	char *argv[] = {(char *)ts_bin("switchctl"), "--lmdb", lmdb, "routes",
			"add", "--prefix", (char *)prefix, "--endpoint",
			(char *)endpoint, NULL};
	if (ts_run(argv, NULL, out, sizeof(out), err, sizeof(err), BT_WAIT_MS) != 0)
		fail_msg("switchctl: %s", err);
}

static void start_switch(chain_t *c)
{
	char config[300], ready[300], log[300], text[2048];
	snprintf(config, sizeof(config), "%s/switchd.json", c->dir);
	snprintf(ready, sizeof(ready), "%s/switchd.ready", c->dir);
	snprintf(log, sizeof(log), "%s/switchd.log", c->dir);
	snprintf(text, sizeof(text),
		 "{\"lmdb\": {\"dir\": \"%s/swdb\", \"sync\": false},"
		 " \"log\": {\"level\": \"debug\"},"
		 " \"reversal\": {\"retry_ms\": 100, \"retry_max_ms\": 500},"
		 " \"listeners\": [{\"name\": \"psp\", \"address\": \"127.0.0.1:0\","
		 "   \"protocol\": \"json\", \"participant\": \"PSP01\"}],"
		 " \"endpoints\": ["
		 "  {\"name\": \"bankA\", \"address\": \"127.0.0.1:%u\", \"two_phase\": true,"
		 "   \"timeout_ms\": 400, \"connections\": 1},"
		 "  {\"name\": \"bankB\", \"address\": \"127.0.0.1:%u\","
		 "   \"timeout_ms\": 400, \"connections\": 1}]}",
		 c->dir, c->a.port, c->b.port);
	ts_write_file(config, text);
	route(c, "622202", "bankA");
	route(c, "621700", "bankB");
	char *argv[] = {(char *)ts_bin("switchd"), "--config", config,
			"--ready-file", ready, NULL};
	ts_proc_start(&c->switchd, log, argv);
	json_t *r = ts_wait_ready(ready, &c->switchd, BT_WAIT_MS);
	c->psp_port = ts_ready_port(r, "psp");
	json_decref(r);
	/* Both links signed on (0800/001 answered) before the first pay. */
	uint64_t end = ts_now_ms() + BT_WAIT_MS;
	while ((bt_log_count(&c->a, "\"network_code\":\"001\"") == 0 ||
		bt_log_count(&c->b, "\"network_code\":\"001\"") == 0) &&
	       ts_now_ms() < end)
		ts_sleep_ms(20);
	ts_sleep_ms(100); /* the 0810 travels back */
}

static int setup(void **state)
{
	chain_t *c = calloc(1, sizeof(*c));
	bt_setup(&c->a, "chainA", bank_a);
	bt_setup(&c->b, "chainB", bank_b);
	const char *two_phase[] = {"--two-phase", "--name", "bankA", NULL};
	const char *plain[] = {"--name", "bankB", NULL};
	bt_start(&c->a, two_phase);
	bt_start(&c->b, plain);
	ts_tmpdir("chain", c->dir, sizeof(c->dir));
	start_switch(c);
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	chain_t *c = *state;
	ts_proc_signal(&c->switchd, SIGTERM);
	if (!ts_proc_wait(&c->switchd, BT_WAIT_MS) ||
	    ts_proc_exit_code(&c->switchd) != 0) {
		ts_proc_dump(&c->switchd);
		fail_msg("switchd did not exit cleanly");
	}
	bt_teardown(&c->a);
	bt_teardown(&c->b);
	ts_rmrf(c->dir);
	free(c);
	return 0;
}

static json_t *pay(int fd, const char *id, const char *payer,
		   const char *payee, int64_t amount)
{
	char line[512];
	snprintf(line, sizeof(line),
		 "{\"op\":\"pay\",\"id\":\"%s\",\"payer\":{\"account\":\"%s\"},"
		 "\"payee\":{\"account\":\"%s\"},\"amount\":%lld,\"currency\":\"CNY\"}",
		 id, payer, payee, (long long)amount);
	json_t *a = ts_json_call(fd, line, BT_WAIT_MS);
	assert_non_null(a);
	return a;
}

static const char *code_of(json_t *a)
{
	return json_string_value(json_object_get(a, "code"));
}

static void test_pay_through_the_switch(void **state)
{
	chain_t *c = *state;
	int fd = ts_connect(c->psp_port, BT_WAIT_MS);
	json_t *a = ts_json_call(fd, "{\"op\":\"hello\",\"participant\":\"PSP01\"}",
				 BT_WAIT_MS);
	assert_string_equal(json_string_value(json_object_get(a, "status")), "ok");
	json_decref(a);

	a = pay(fd, "PSP01-1", PAYER, PAYEE, 12850);
	assert_string_equal(code_of(a), "00");
	json_decref(a);
	assert_int_equal(bt_available(&c->b, PAYEE), 12850);
	assert_int_equal(bt_available(&c->a, PAYER), 100000 - 12850);
	/* Bank A held the debit; the switch's 0220 posts it. */
	assert_true(bt_wait_posted(&c->a, PAYER, 100000 - 12850));

	a = pay(fd, "PSP01-2", POOR, PAYEE, 5000);
	assert_string_equal(code_of(a), "51");
	json_decref(a);

	/* Credit leg refused: the debit is reversed (voided at bank A). */
	a = pay(fd, "PSP01-3", PAYER, CLOSED, 3000);
	assert_string_equal(code_of(a), "57");
	json_decref(a);
	assert_true(bt_wait_available(&c->a, PAYER, 100000 - 12850));

	/* No answer from bank A: 68 to the PSP, and the switch's reversal
	 * gives the money back at the bank. */
	a = pay(fd, "PSP01-4", SILENT, PAYEE, 4000);
	assert_string_equal(code_of(a), "68");
	json_decref(a);
	assert_true(bt_wait_available(&c->a, SILENT, 100000));
	assert_true(bt_wait_posted(&c->a, SILENT, 100000));
	assert_int_equal(bt_available(&c->b, PAYEE), 12850);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pay_through_the_switch, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
