/*
 * test_sim_common.c: the simulators' shared plumbing: one option table
 * read from the command line and from a --config file (and the first
 * overridden by the second), every refusal naming its option or key;
 * latency distributions and their bounds; the seeded generator replaying
 * exactly; HOST:PORT; the ready file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core.h"
#include "sim.h"
#include "support.h"

typedef struct cfg {
	char name[8];
	uint32_t count;
	uint64_t big;
	uint16_t small;
	double rate;
	bool flag;
	bool mode;
} cfg_t;

static const sim_opt_t opts[] = {
	{"name", "NAME", "a name", SIM_OPT_STR, false, offsetof(cfg_t, name), sizeof(((cfg_t *)0)->name), 0, 0},
	{"count", "N", "a count", SIM_OPT_UINT, false, offsetof(cfg_t, count), 4, 1, 100},
	{"big-number", "N", "a u64", SIM_OPT_UINT, false, offsetof(cfg_t, big), 8, 0, UINT64_MAX},
	{"small", "N", "a u16", SIM_OPT_UINT, false, offsetof(cfg_t, small), 2, 0, 65535},
	{"rate", "R", "a rate", SIM_OPT_RATE, false, offsetof(cfg_t, rate), sizeof(double), 0, 0},
	{"flag", NULL, "a flag", SIM_OPT_FLAG, false, offsetof(cfg_t, flag), sizeof(bool), 0, 0},
	{"mode", NULL, "cli only", SIM_OPT_FLAG, true, offsetof(cfg_t, mode), sizeof(bool), 0, 0},
};

static int parse(cfg_t *c, char *err, size_t cap, int argc, char **argv)
{
	memset(c, 0, sizeof(*c));
	return sim_opts_parse(opts, PS_ARRAY_LEN(opts), argc, argv, c, err, cap);
}

static void test_command_line(void **state)
{
	(void)state;
	cfg_t c;
	char err[256];
	char *argv[] = {"x", "--name", "bank", "--count=7", "--big-number",
			"123456789012", "--small", "65535", "--rate", "0.25",
			"--flag", "--mode", NULL};
	assert_int_equal(parse(&c, err, sizeof(err), 12, argv), 0);
	assert_string_equal(c.name, "bank");
	assert_int_equal(c.count, 7);
	assert_int_equal(c.big, 123456789012ull);
	assert_int_equal(c.small, 65535);
	assert_true(c.rate == 0.25);
	assert_true(c.flag && c.mode);
	char *off[] = {"x", "--flag=false", NULL};
	assert_int_equal(parse(&c, err, sizeof(err), 2, off), 0);
	assert_false(c.flag);

	static const struct {
		const char *arg, *value, *want;
	} bad[] = {
		{"--count", "0", "--count: must be an integer from 1 to 100"},
		{"--count", "101", "--count: must be"},
		{"--count", "-1", "--count: must be"},
		{"--small", "65536", "--small: must be"},
		{"--rate", "1.5", "--rate: must be a probability"},
		{"--rate", "nan", "--rate: must be a probability"},
		{"--rate", "", "--rate: must be a probability"},
		{"--name", "toolongname", "--name: longer than 7"},
		{"--flag=maybe", NULL, "--flag: must be true or false"},
		{"--nope", "1", "unknown option --nope"},
		{"stray", NULL, "unexpected argument \"stray\""},
		{"--count", NULL, "--count needs a value"},
	};
	for (size_t i = 0; i < PS_ARRAY_LEN(bad); i++) {
		char *a[] = {"x", (char *)bad[i].arg, (char *)bad[i].value, NULL};
		int argc = bad[i].value ? 3 : 2;
		err[0] = '\0';
		if (parse(&c, err, sizeof(err), argc, a) != PS_EINVAL ||
		    strstr(err, bad[i].want) == NULL)
			fail_msg("%s %s: \"%s\", want \"%s\"", bad[i].arg,
				 bad[i].value ? bad[i].value : "", err, bad[i].want);
	}
	char *help[] = {"x", "--count", "3", "-h", NULL};
	assert_int_equal(parse(&c, err, sizeof(err), 4, help), SIM_OPTS_HELP);
}

static void test_config_file(void **state)
{
	(void)state;
	char dir[256], path[300], err[512];
	ts_tmpdir("simopts", dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/c.json", dir);
	ts_write_file(path, "{\"name\": \"file\", \"count\": 9, \"big_number\": 5,"
			    " \"rate\": 0.5, \"flag\": true}");
	cfg_t c;
	char *argv[] = {"x", "--count", "3", "--config", path, NULL};
	assert_int_equal(parse(&c, err, sizeof(err), 5, argv), 0);
	assert_string_equal(c.name, "file");
	assert_int_equal(c.count, 3); /* the command line wins */
	assert_int_equal(c.big, 5);
	assert_true(c.rate == 0.5 && c.flag);

	static const struct {
		const char *text, *want;
	} bad[] = {
		{"{\"mode\": true}", "mode: unknown key"},
		{"{\"big-number\": 1}", "big-number: unknown key"},
		{"{\"count\": \"x\"}", "count: must be an integer"},
		{"{\"count\": [1]}", "count: must be a string, a number or a boolean"},
		{"{\"count\": 1, \"count\": 2}", "duplicate"},
		{"[1]", "must be a JSON object"},
		{"{", "line 1"},
	};
	for (size_t i = 0; i < PS_ARRAY_LEN(bad); i++) {
		ts_write_file(path, bad[i].text);
		char *a[] = {"x", "--config", path, NULL};
		err[0] = '\0';
		if (parse(&c, err, sizeof(err), 3, a) != PS_EINVAL ||
		    strstr(err, bad[i].want) == NULL || strstr(err, path) == NULL)
			fail_msg("%s: \"%s\", want \"%s\"", bad[i].text, err, bad[i].want);
	}
	char *missing[] = {"x", "--config", "/nonexistent/c.json", NULL};
	assert_int_equal(parse(&c, err, sizeof(err), 3, missing), PS_EINVAL);
	assert_non_null(strstr(err, "cannot read"));
	ts_rmrf(dir);
}

static void test_latency(void **state)
{
	(void)state;
	sim_latency_t l;
	char err[256];
	sim_rng_t rng;
	sim_rng_seed(&rng, 42);
	assert_int_equal(sim_latency_parse("0", &l, err, sizeof(err)), 0);
	assert_true(sim_latency_is_zero(&l));
	assert_int_equal(sim_latency_sample(&l, &rng), 0);
	assert_int_equal(sim_latency_parse("5", &l, err, sizeof(err)), 0);
	assert_false(sim_latency_is_zero(&l));
	assert_int_equal(sim_latency_sample(&l, &rng), 5);
	assert_int_equal(sim_latency_parse("2-20", &l, err, sizeof(err)), 0);
	bool seen_low = false, seen_high = false;
	for (int i = 0; i < 2000; i++) {
		uint32_t v = sim_latency_sample(&l, &rng);
		assert_true(v >= 2 && v <= 20);
		seen_low |= v == 2;
		seen_high |= v == 20;
	}
	assert_true(seen_low && seen_high);
	assert_int_equal(sim_latency_parse("exp:5", &l, err, sizeof(err)), 0);
	uint64_t sum = 0;
	for (int i = 0; i < 20000; i++) {
		uint32_t v = sim_latency_sample(&l, &rng);
		assert_true(v <= 100);
		sum += v;
	}
	/* The mean of floor(exp(5)) is about 4.5. */
	assert_true(sum / 20000.0 > 3.8 && sum / 20000.0 < 5.2);
	const char *bad[] = {"", "-", "5-", "-5", "20-2", "exp:", "exp:0",
			     "exp:x", "1.5", "600001", "abc", "2-600001"};
	for (size_t i = 0; i < PS_ARRAY_LEN(bad); i++)
		if (sim_latency_parse(bad[i], &l, err, sizeof(err)) != PS_EINVAL)
			fail_msg("accepted \"%s\"", bad[i]);
}

static void test_rng_replays(void **state)
{
	(void)state;
	sim_rng_t a, b;
	sim_rng_seed(&a, 7);
	sim_rng_seed(&b, 7);
	for (int i = 0; i < 100; i++)
		assert_true(sim_rng_next(&a) == sim_rng_next(&b));
	/* Certain and impossible events draw nothing. */
	uint64_t before = a.state;
	assert_true(sim_rng_chance(&a, 1.0));
	assert_false(sim_rng_chance(&a, 0.0));
	assert_true(a.state == before);
	int hits = 0;
	for (int i = 0; i < 10000; i++)
		hits += sim_rng_chance(&a, 0.1);
	assert_true(hits > 800 && hits < 1200);
	for (int i = 0; i < 1000; i++) {
		double u = sim_rng_unit(&a);
		assert_true(u >= 0.0 && u < 1.0);
	}
	/* Streams per text: the same text and salt replay, others differ. */
	sim_rng_seed_text(&a, 7, "decline", "12345678:000001:1125103000");
	sim_rng_seed_text(&b, 7, "decline", "12345678:000001:1125103000");
	assert_true(sim_rng_next(&a) == sim_rng_next(&b));
	sim_rng_seed_text(&a, 7, "decline", "12345678:000001:1125103000");
	sim_rng_seed_text(&b, 7, "answer", "12345678:000001:1125103000");
	assert_true(sim_rng_next(&a) != sim_rng_next(&b));
	sim_rng_seed_text(&a, 7, "decline", "12345678:000001:1125103000");
	sim_rng_seed_text(&b, 7, "decline", "12345678:000002:1125103000");
	assert_true(sim_rng_next(&a) != sim_rng_next(&b));
	sim_rng_seed_text(&a, 7, "decline", "x");
	sim_rng_seed_text(&b, 8, "decline", "x");
	assert_true(sim_rng_next(&a) != sim_rng_next(&b));
}

static void test_hostport_and_ready(void **state)
{
	(void)state;
	char host[64];
	uint16_t port;
	assert_int_equal(sim_hostport_parse("127.0.0.1:0", host, sizeof(host), &port), 0);
	assert_string_equal(host, "127.0.0.1");
	assert_int_equal(port, 0);
	assert_int_equal(sim_hostport_parse("[::1]:8583", host, sizeof(host), &port), 0);
	assert_string_equal(host, "::1");
	assert_int_equal(port, 8583);
	const char *bad[] = {"127.0.0.1", ":80", "h:65536", "h:x", "h:", "[]:1"};
	for (size_t i = 0; i < PS_ARRAY_LEN(bad); i++)
		assert_int_equal(sim_hostport_parse(bad[i], host, sizeof(host), &port),
				 PS_EINVAL);
	char dir[256], path[300];
	ts_tmpdir("simready", dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/ready.json", dir);
	assert_int_equal(sim_ready_write(path, "{\"port\":1}\n", 11), 0);
	char *text;
	size_t len;
	assert_int_equal(sim_file_read(path, 100, &text, &len), 0);
	assert_string_equal(text, "{\"port\":1}\n");
	free(text);
	assert_int_equal(sim_file_read(path, 5, &text, &len), PS_ELIMIT);
	assert_int_equal(sim_file_read(dir, 100, &text, &len), PS_EIO);
	ts_rmrf(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_command_line),
		cmocka_unit_test(test_config_file),
		cmocka_unit_test(test_latency),
		cmocka_unit_test(test_rng_replays),
		cmocka_unit_test(test_hostport_and_ready),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
