/*
 * test_ledger_cli.c: build/bin/ledger run as a user would: commands,
 * text and JSON output, JSON-lines batches from a file and stdin, and the
 * exit codes (0 done, 1 rejected, 2 usage, 3 I/O).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdbool.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define OUTPUT_MAX (1 << 20)

static char dir[512];     /* scratch directory of the test */
static char book[600];    /* the ledger directory inside it */
static char out[OUTPUT_MAX], err[OUTPUT_MAX];

static void slurp(const char *path, char *buf)
{
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	size_t n = fread(buf, 1, OUTPUT_MAX - 1, f);
	buf[n] = '\0';
	fclose(f);
}

/* Runs the CLI with the arguments (NULL-terminated) and input on stdin;
 * fills out and err; returns the exit code. */
static int run(const char *input, ...)
{
	const char *argv[32] = {PS_BIN_DIR "/ledger"};
	int argc = 1;
	va_list ap;
	va_start(ap, input);
	const char *a;
	while ((a = va_arg(ap, const char *)) != NULL && argc < 31)
		argv[argc++] = a;
	va_end(ap);
	argv[argc] = NULL;
	char in_path[700], out_path[700], err_path[700];
	snprintf(in_path, sizeof(in_path), "%s/stdin", dir);
	snprintf(out_path, sizeof(out_path), "%s/stdout", dir);
	snprintf(err_path, sizeof(err_path), "%s/stderr", dir);
	FILE *f = fopen(in_path, "w");
	assert_non_null(f);
	fputs(input ? input : "", f);
	fclose(f);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int in = open(in_path, O_RDONLY);
		int o = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int e = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(in, 0);
		dup2(o, 1);
		dup2(e, 2);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	slurp(out_path, out);
	slurp(err_path, err);
	return WEXITSTATUS(status);
}

static int rm_entry(const char *path, const struct stat *st, int type,
		    struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	return remove(path);
}

static int setup(void **state)
{
	(void)state;
	const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	snprintf(dir, sizeof(dir), "%s/ledger-cli-XXXXXX", base);
	assert_non_null(mkdtemp(dir));
	snprintf(book, sizeof(book), "%s/book", dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	return 0;
}

#define D "--durability", "nosync", "-d", book

static void open_accounts(void)
{
	assert_int_equal(run(NULL, D, "create-account", "1", "--ledger", "156",
			     "--code", "1", NULL),
			 0);
	assert_string_equal(out, "account 1: ok\n");
	assert_int_equal(run(NULL, D, "create-account", "2", "--ledger", "156",
			     "--code", "10", "--flags",
			     "debits_must_not_exceed_credits", NULL),
			 0);
	assert_int_equal(run(NULL, D, "create-account", "3", "--ledger", "156",
			     "--code", "10", NULL),
			 0);
}

static void test_single_commands(void **state)
{
	(void)state;
	open_accounts();
	/* Retrying is answered, not repeated. */
	assert_int_equal(run(NULL, D, "create-account", "1", "--ledger", "156",
			     "--code", "1", NULL),
			 0);
	assert_string_equal(out, "account 1: exists\n");
	assert_int_equal(run(NULL, D, "create-account", "1", "--ledger", "840",
			     "--code", "1", NULL),
			 1);
	assert_string_equal(out, "account 1: exists_with_different_ledger\n");
	assert_int_equal(run(NULL, D, "transfer", "100", "1", "2", "100000",
			     "--ledger", "156", NULL),
			 0);
	assert_string_equal(out, "transfer 100: ok\n");
	assert_int_equal(run(NULL, D, "transfer", "101", "2", "3", "100001",
			     "--ledger", "156", NULL),
			 1);
	assert_string_equal(out, "transfer 101: exceeds_credits\n");
	assert_int_equal(run(NULL, D, "transfer", "102", "2", "3", "12850",
			     "--ledger", "156", "--pending", "--timeout", "60",
			     NULL),
			 0);
	assert_int_equal(run(NULL, D, "post", "103", "102", "12000", NULL), 0);
	assert_int_equal(run(NULL, D, "void", "104", "102", NULL), 1);
	assert_string_equal(out, "transfer 104: pending_transfer_already_posted\n");
	assert_int_equal(run(NULL, D, "show", "2", NULL), 0);
	assert_non_null(strstr(out, "account 2  ledger 156  code 10  flags "
				    "debits_must_not_exceed_credits\n"));
	assert_non_null(strstr(out, "debits   posted 12000  pending 0\n"));
	assert_non_null(strstr(out, "credits  posted 100000  pending 0\n"));
	assert_int_equal(run(NULL, "--json", D, "show", "3", NULL), 0);
	assert_non_null(strstr(out, "\"credits_posted\":12000"));
	assert_int_equal(run(NULL, D, "show", "99", NULL), 1);
	assert_int_equal(run(NULL, D, "history", "2", "--limit", "2", NULL), 0);
	assert_non_null(strncmp(out, "transfer 103", 12) == 0 ? out : NULL);
	assert_non_null(strstr(out, "transfer 102"));
	assert_null(strstr(out, "transfer 100"));
	assert_int_equal(run(NULL, D, "get-transfer", "102", NULL), 0);
	assert_non_null(strstr(out, "state posted"));
	assert_int_equal(run(NULL, D, "close", "3", NULL), 0);
	assert_int_equal(run(NULL, D, "transfer", "105", "1", "3", "1",
			     "--ledger", "156", NULL),
			 1);
	assert_string_equal(out, "transfer 105: credit_account_closed\n");
	assert_int_equal(run(NULL, D, "reopen", "3", NULL), 0);
	assert_int_equal(run(NULL, D, "expire", NULL), 0);
	assert_string_equal(out, "expired 0 pending transfers\n");
	assert_int_equal(run(NULL, D, "check", NULL), 0);
	assert_non_null(strstr(out, "ok: 3 accounts on 1 ledgers, 3 transfers"));
	assert_int_equal(run(NULL, "--json", D, "check", NULL), 0);
	assert_non_null(strstr(out, "\"ok\":true"));
}

static void test_batches_and_export(void **state)
{
	(void)state;
	open_accounts();
	const char *lines =
		"{\"id\":1,\"debit_account_id\":1,\"credit_account_id\":2,"
		"\"amount\":500,\"ledger\":156,\"code\":1}\n"
		"\n"
		"{\"id\":2,\"debit_account_id\":2,\"credit_account_id\":3,"
		"\"amount\":5,\"ledger\":156,\"code\":1,\"flags\":[\"linked\"]}\n"
		"{\"id\":3,\"debit_account_id\":2,\"credit_account_id\":3,"
		"\"amount\":900,\"ledger\":156,\"code\":1}\n"
		"{\"id\":\"text:PSP01-000001\",\"debit_account_id\":2,"
		"\"credit_account_id\":\"3\",\"amount\":100,\"ledger\":156,"
		"\"code\":1}\n";
	assert_int_equal(run(lines, "--json", D, "transfers", NULL), 1);
	assert_non_null(strstr(out, "{\"line\":1,\"transfer\":1,\"result\":\"ok\""));
	assert_non_null(strstr(out, "{\"line\":3,\"transfer\":2,\"result\":"
				    "\"linked_event_failed\""));
	assert_non_null(strstr(out, "{\"line\":4,\"transfer\":3,\"result\":"
				    "\"exceeds_credits\""));
	assert_non_null(strstr(out, "\"line\":5"));
	/* The same file again: every line is answered, nothing posts twice. */
	char path[700];
	snprintf(path, sizeof(path), "%s/batch.jsonl", dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(lines, f);
	fclose(f);
	assert_int_equal(run(NULL, D, "transfers", path, NULL), 1);
	assert_non_null(strstr(out, "line 1: transfer 1: exists\n"));
	assert_non_null(strstr(out, ": exists\n"));
	assert_int_equal(run(NULL, D, "show", "2", NULL), 0);
	assert_non_null(strstr(out, "debits   posted 100  pending 0"));
	/* The id derived from the text is what `ledger id` prints. */
	assert_int_equal(run(NULL, "id", "PSP01-000001", NULL), 0);
	char id[64];
	snprintf(id, sizeof(id), "%.*s", (int)strcspn(out, "\n"), out);
	assert_int_equal(run(NULL, D, "get-transfer", id, NULL), 0);
	/* Export: JSON lines, ids and balances as stored. */
	assert_int_equal(run(NULL, D, "export", "transfers", NULL), 0);
	assert_non_null(strstr(out, "{\"id\":1,\"debit_account_id\":1,"
				    "\"credit_account_id\":2,\"amount\":500,"));
	assert_int_equal(run(NULL, D, "export", "accounts", NULL), 0);
	assert_non_null(strstr(out, "\"credits_posted\":500"));
	/* Accounts as JSON lines too. */
	assert_int_equal(run("{\"id\":7,\"ledger\":156,\"code\":3,\"flags\":"
			     "[\"credits_must_not_exceed_debits\"]}\n",
			     D, "create-accounts", NULL),
			 0);
	assert_string_equal(out, "line 1: account 7: ok\n");
	assert_int_equal(run(NULL, D, "check", NULL), 0);
}

static void test_batch_boundaries(void **state)
{
	(void)state;
	open_accounts();
	assert_int_equal(run(NULL, D, "transfer", "1", "1", "2", "100000000",
			     "--ledger", "156", NULL),
			 0);
	/* 8,189 plain lines, then a chain of three across the 8,190 mark:
	 * the chain must go whole into the second batch. */
	enum { PLAIN = 8189 };
	static char input[(PLAIN + 3) * 120];
	size_t len = 0;
	for (int i = 0; i < PLAIN + 3; i++) {
		bool chained = i >= PLAIN && i < PLAIN + 2;
		len += (size_t)snprintf(input + len, sizeof(input) - len,
			"{\"id\":%d,\"debit_account_id\":2,"
			"\"credit_account_id\":3,\"amount\":1,\"ledger\":156,"
			"\"code\":1%s}\n",
			100 + i, chained ? ",\"flags\":[\"linked\"]" : "");
	}
	assert_int_equal(run(input, D, "transfers", NULL), 0);
	assert_non_null(strstr(err, "8192 done, 0 rejected"));
	assert_non_null(strstr(out, "line 8192: transfer 8291: ok\n"));
	/* A malformed line: everything before it is posted, nothing after. */
	assert_int_equal(run("{\"id\":9001,\"debit_account_id\":2,"
			     "\"credit_account_id\":3,\"amount\":1,"
			     "\"ledger\":156,\"code\":1}\n"
			     "{\"id\":9002,\"amount\":\"1\"}\n"
			     "{\"id\":9003,\"debit_account_id\":2,"
			     "\"credit_account_id\":3,\"amount\":1,"
			     "\"ledger\":156,\"code\":1}\n",
			     D, "transfers", NULL),
			 2);
	assert_string_equal(out, "line 1: transfer 9001: ok\n");
	assert_non_null(strstr(err, "line 2: amount: must be a non-negative "
				    "integer"));
	assert_int_equal(run(NULL, D, "get-transfer", "9003", NULL), 1);
	assert_int_equal(run(NULL, D, "check", NULL), 0);
}

static void test_errors(void **state)
{
	(void)state;
	/* Usage errors: exit 2, message on stderr. */
	assert_int_equal(run(NULL, NULL), 2);
	assert_int_equal(run(NULL, D, "frobnicate", NULL), 2);
	assert_int_equal(run(NULL, D, "transfer", "1", "2", NULL), 2);
	assert_int_equal(run(NULL, D, "transfer", "1", "2", "3", "12.50",
			     "--ledger", "156", NULL),
			 2);
	assert_int_equal(run(NULL, D, "create-account", "1", "--code", "1",
			     NULL),
			 2);
	assert_int_equal(run(NULL, "show", "1", NULL), 2);
	assert_non_null(strstr(err, "no ledger directory"));
	/* Malformed input lines: exit 2 naming the line and the key. */
	open_accounts();
	assert_int_equal(run("{\"id\":1,\"amount\":12.5}\n", D, "transfers",
			     NULL),
			 2);
	assert_non_null(strstr(err, "line 1: amount: must be a non-negative "
				    "integer"));
	assert_int_equal(run("{\"id\":1,\"amonut\":1}\n", D, "transfers", NULL),
			 2);
	assert_non_null(strstr(err, "amonut: unknown key"));
	assert_int_equal(run("not json\n", D, "transfers", NULL), 2);
	/* I/O: a missing ledger or input file, exit 3. */
	char missing[700];
	snprintf(missing, sizeof(missing), "%s/none", dir);
	assert_int_equal(run(NULL, "-d", missing, "check", NULL), 3);
	assert_int_equal(run(NULL, D, "transfers", missing, NULL), 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_single_commands, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_batches_and_export, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_batch_boundaries, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
