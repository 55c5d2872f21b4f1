/*
 * main.c: `ledger`, the command line over a ledger directory: create
 * accounts, post transfers (one, or JSON lines from a file or stdin), show
 * balances and history, check the invariants, export, expire pendings,
 * close and reopen accounts. Readable text by default, JSON with --json.
 *
 * Exit codes: 0 done (every event ok or exists), 1 something was rejected
 * (an event, a missing record, a failed check), 2 usage or malformed
 * input, 3 storage or I/O failure.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ledger.h"
#include "ledger_json.h"

enum exit_code { EXIT_DONE = 0, EXIT_REJECTED = 1, EXIT_USAGE = 2, EXIT_IO = 3 };

#define OUT_LINE_MAX 1024
#define HISTORY_PAGE 256

struct cli {
	bool json;
	const char *dir;
	uint32_t durability;
	ledger_t *l;
	int argc;    /* the command's arguments, after its name */
	char **argv;
};

static const char usage_text[] =
	"usage: ledger [--json] [--durability sync|nometasync|nosync] -d DIR COMMAND [ARGS]\n"
	"\n"
	"commands:\n"
	"  create-account ID --ledger N --code N [--flags F,..] [--user-data-128 ID] [--user-data-64 N]\n"
	"  create-accounts [FILE|-]          JSON lines, one account each\n"
	"  transfer ID DEBIT CREDIT AMOUNT --ledger N [--code N] [--pending [--timeout S]]\n"
	"                                    [--user-data-128 ID] [--user-data-64 N]\n"
	"  post ID PENDING_ID [AMOUNT]       complete an authorisation (AMOUNT: partial)\n"
	"  void ID PENDING_ID                release an authorisation\n"
	"  transfers [FILE|-]                JSON lines, one transfer each, posted in batches\n"
	"  show ACCOUNT...                   balances of accounts\n"
	"  accounts                          every account with its balances\n"
	"  get-transfer ID...                transfers by id\n"
	"  history ACCOUNT [--limit N]       an account's transfers, newest first\n"
	"  check                             verify every invariant of the book\n"
	"  export accounts|transfers         JSON lines of every record\n"
	"  expire [--limit N]                void pendings past their timeout\n"
	"  close ACCOUNT | reopen ACCOUNT\n"
	"  id TEXT                           the 128-bit id derived from TEXT\n"
	"\n"
	"ids: decimal, 0x hex, or text:ANY. exit: 0 done, 1 rejected, 2 usage, 3 I/O.\n";

static int usage(const char *why)
{
	if (why != NULL)
		fprintf(stderr, "ledger: %s\n", why);
	fputs(usage_text, stderr);
	return EXIT_USAGE;
}

static int storage_error(const char *what, int rc)
{
	fprintf(stderr, "ledger: %s: %s%s%s\n", what, ledger_strerror(rc),
		rc == PS_EIO && errno ? ": " : "",
		rc == PS_EIO && errno ? strerror(errno) : "");
	return EXIT_IO;
}

/* ---- argument parsing ---------------------------------------------------- */

static bool parse_id(const char *text, ledger_id_t *out)
{
	size_t len = strlen(text);
	if (len > 5 && memcmp(text, "text:", 5) == 0) {
		*out = ledger_id_from_text(text + 5, len - 5);
		return true;
	}
	return ledger_id_parse(text, len, out) == 0;
}

static bool parse_u64(const char *text, uint64_t max, uint64_t *out)
{
	uint64_t v;
	if (ps_parse_u64(text, strlen(text), &v) != 0 || v > max)
		return false;
	*out = v;
	return true;
}

/* Takes "--name VALUE" at argv[*i]; NULL (and a usage message) if the
 * value is missing. */
static const char *option_value(struct cli *c, int *i)
{
	if (*i + 1 >= c->argc) {
		fprintf(stderr, "ledger: %s needs a value\n", c->argv[*i]);
		return NULL;
	}
	*i += 1;
	return c->argv[*i];
}

struct event_options {
	uint64_t ledger, code, user_data_64, timeout_seconds, limit;
	ledger_id_t user_data_128;
	const char *flags;
	bool pending, linked, have_ledger;
};

/* Parses the options after the positional arguments of a command; returns
 * the count of positional arguments or -1 on a usage error. */
static int parse_options(struct cli *c, struct event_options *o)
{
	int positional = 0;
	for (int i = 0; i < c->argc; i++) {
		const char *a = c->argv[i];
		const char *v = NULL;
		if (strncmp(a, "--", 2) != 0) {
			if (positional != i)
				return -1; /* positionals come first */
			positional++;
			continue;
		}
		if (strcmp(a, "--pending") == 0) {
			o->pending = true;
			continue;
		}
		if (strcmp(a, "--linked") == 0) {
			o->linked = true;
			continue;
		}
		if ((v = option_value(c, &i)) == NULL)
			return -1;
		bool ok;
		if (strcmp(a, "--ledger") == 0)
			ok = parse_u64(v, UINT32_MAX, &o->ledger),
			o->have_ledger = true;
		else if (strcmp(a, "--code") == 0)
			ok = parse_u64(v, UINT16_MAX, &o->code);
		else if (strcmp(a, "--user-data-64") == 0)
			ok = parse_u64(v, INT64_MAX, &o->user_data_64);
		else if (strcmp(a, "--timeout") == 0)
			ok = parse_u64(v, UINT32_MAX, &o->timeout_seconds);
		else if (strcmp(a, "--limit") == 0)
			ok = parse_u64(v, 1000000, &o->limit) && o->limit > 0;
		else if (strcmp(a, "--user-data-128") == 0)
			ok = parse_id(v, &o->user_data_128);
		else if (strcmp(a, "--flags") == 0)
			ok = (o->flags = v) != NULL;
		else {
			fprintf(stderr, "ledger: unknown option %s\n", a);
			return -1;
		}
		if (!ok) {
			fprintf(stderr, "ledger: %s: bad value %s\n", a, v);
			return -1;
		}
	}
	return positional;
}

/* ---- output ---------------------------------------------------------------- */

static void print_id(ledger_id_t id)
{
	char text[LEDGER_ID_TEXT_MAX];
	fputs(ledger_id_format(id, text), stdout);
}

static void print_account(const struct cli *c, const ledger_account_t *a)
{
	char line[OUT_LINE_MAX];
	if (c->json) {
		ps_buf_t buf;
		ps_buf_init(&buf, line, sizeof(line));
		PS_ASSERT(ledger_json_format_account(&buf, a) == 0);
		printf("%.*s\n", (int)buf.len, line);
		return;
	}
	char flags[128];
	ledger_account_flags_text(a->flags, flags, sizeof(flags));
	printf("account ");
	print_id(a->id);
	printf("  ledger %u  code %u%s%s\n", a->ledger, a->code,
	       flags[0] ? "  flags " : "", flags);
	printf("  debits   posted %llu  pending %llu\n",
	       (unsigned long long)a->debits_posted,
	       (unsigned long long)a->debits_pending);
	printf("  credits  posted %llu  pending %llu\n",
	       (unsigned long long)a->credits_posted,
	       (unsigned long long)a->credits_pending);
	/* Balances are in [0, 2^63), so the difference fits int64_t. */
	int64_t net = (int64_t)a->credits_posted - (int64_t)a->debits_posted;
	int64_t avail = net - (int64_t)a->debits_pending;
	printf("  net (credits - debits, posted) %lld  available %lld\n",
	       (long long)net, (long long)avail);
}

static void print_transfer(const struct cli *c, const ledger_transfer_t *t)
{
	char line[OUT_LINE_MAX];
	if (c->json) {
		ps_buf_t buf;
		ps_buf_init(&buf, line, sizeof(line));
		PS_ASSERT(ledger_json_format_transfer(&buf, t) == 0);
		printf("%.*s\n", (int)buf.len, line);
		return;
	}
	char flags[128];
	ledger_transfer_flags_text(t->flags, flags, sizeof(flags));
	printf("transfer ");
	print_id(t->id);
	printf("  %llu from ", (unsigned long long)t->amount);
	print_id(t->debit_account_id);
	printf(" to ");
	print_id(t->credit_account_id);
	printf("  ledger %u code %u", t->ledger, t->code);
	if (flags[0])
		printf("  [%s]", flags);
	if (!ledger_id_is_zero(t->pending_id)) {
		printf("  pending ");
		print_id(t->pending_id);
	}
	if (t->timeout_seconds)
		printf("  timeout %us", t->timeout_seconds);
	printf("  at %llu\n", (unsigned long long)t->timestamp);
}

/* One line per event result; returns whether it counts as done. */
static bool print_result(const struct cli *c, const char *kind, long line,
			 ledger_id_t id, const ledger_result_t *r,
			 bool is_transfer)
{
	const char *name = is_transfer ? ledger_transfer_result_name(r->result)
				       : ledger_account_result_name(r->result);
	bool done = r->result == 0 ||
		    r->result == (is_transfer ? (uint32_t)LEDGER_TRANSFER_EXISTS
					      : (uint32_t)LEDGER_ACCOUNT_EXISTS);
	if (c->json) {
		char buf_storage[256];
		ps_buf_t buf;
		ps_buf_init(&buf, buf_storage, sizeof(buf_storage));
		ps_buf_printf(&buf, "{");
		if (line > 0)
			ps_buf_printf(&buf, "\"line\":%ld,", line);
		ps_buf_printf(&buf, "\"%s\":", kind);
		ledger_json_format_id(&buf, id);
		ps_buf_printf(&buf, ",\"result\":\"%s\",\"timestamp\":%llu}",
			      name, (unsigned long long)r->timestamp);
		printf("%.*s\n", (int)buf.len, buf_storage);
	} else {
		if (line > 0)
			printf("line %ld: ", line);
		printf("%s ", kind);
		print_id(id);
		printf(": %s\n", name);
	}
	return done;
}

/* ---- commands ---------------------------------------------------------- */

static int open_ledger(struct cli *c, bool create)
{
	if (c->dir == NULL)
		return usage("no ledger directory: give -d DIR or set LEDGER_DIR");
	struct stat st;
	if (!create && stat(c->dir, &st) != 0) {
		fprintf(stderr, "ledger: %s: %s\n", c->dir, strerror(errno));
		return EXIT_IO;
	}
	ledger_options_t o;
	ledger_options_init(&o);
	o.durability = c->durability;
	errno = 0;
	int rc = ledger_open(&c->l, c->dir, &o);
	return rc == 0 ? EXIT_DONE : storage_error(c->dir, rc);
}

static int cmd_create_account(struct cli *c)
{
	struct event_options o = {0};
	ledger_account_t a = {0};
	if (parse_options(c, &o) != 1 || !parse_id(c->argv[0], &a.id))
		return usage("create-account ID --ledger N --code N");
	if (!o.have_ledger || o.code == 0)
		return usage("create-account needs --ledger and --code");
	if (o.flags && ledger_account_flags_parse(o.flags, &a.flags) != 0)
		return usage("unknown account flag");
	a.ledger = (uint32_t)o.ledger;
	a.code = (uint16_t)o.code;
	a.user_data_128 = o.user_data_128;
	a.user_data_64 = o.user_data_64;
	int rc = open_ledger(c, true);
	if (rc != EXIT_DONE)
		return rc;
	ledger_result_t r;
	rc = ledger_create_accounts(c->l, &a, 1, &r);
	if (rc != 0)
		return storage_error("create account", rc);
	return print_result(c, "account", 0, a.id, &r, false) ? EXIT_DONE
								 : EXIT_REJECTED;
}

static int submit_transfer(struct cli *c, const ledger_transfer_t *t)
{
	int rc = open_ledger(c, true);
	if (rc != EXIT_DONE)
		return rc;
	ledger_result_t r;
	rc = ledger_create_transfers(c->l, t, 1, &r);
	if (rc != 0)
		return storage_error("transfer", rc);
	return print_result(c, "transfer", 0, t->id, &r, true) ? EXIT_DONE
								  : EXIT_REJECTED;
}

static int cmd_transfer(struct cli *c)
{
	struct event_options o = {.code = 1};
	ledger_transfer_t t = {0};
	if (parse_options(c, &o) != 4 || !parse_id(c->argv[0], &t.id) ||
	    !parse_id(c->argv[1], &t.debit_account_id) ||
	    !parse_id(c->argv[2], &t.credit_account_id) ||
	    !parse_u64(c->argv[3], LEDGER_AMOUNT_MAX, &t.amount))
		return usage("transfer ID DEBIT CREDIT AMOUNT --ledger N");
	if (!o.have_ledger)
		return usage("transfer needs --ledger");
	t.ledger = (uint32_t)o.ledger;
	t.code = (uint16_t)o.code;
	t.user_data_128 = o.user_data_128;
	t.user_data_64 = o.user_data_64;
	t.timeout_seconds = (uint32_t)o.timeout_seconds;
	if (o.pending)
		t.flags |= LEDGER_TRANSFER_PENDING;
	return submit_transfer(c, &t);
}

static int cmd_resolve(struct cli *c, bool post)
{
	struct event_options o = {0};
	ledger_transfer_t t = {0};
	int n = parse_options(c, &o);
	if (n < 2 || n > (post ? 3 : 2) || !parse_id(c->argv[0], &t.id) ||
	    !parse_id(c->argv[1], &t.pending_id) ||
	    (n == 3 && !parse_u64(c->argv[2], LEDGER_AMOUNT_MAX, &t.amount)))
		return usage(post ? "post ID PENDING_ID [AMOUNT]"
				  : "void ID PENDING_ID");
	t.flags = post ? LEDGER_TRANSFER_POST_PENDING
		       : LEDGER_TRANSFER_VOID_PENDING;
	t.user_data_128 = o.user_data_128;
	t.user_data_64 = o.user_data_64;
	return submit_transfer(c, &t);
}

/* Reads JSON lines and posts them in batches of up to batch_max; a linked
 * chain is never split across two batches (unless it is longer than a
 * batch, when it fails as open). */
struct batch_reader {
	FILE *in;
	long line;
	uint32_t count;
	bool eof;
	char *text;
	size_t text_cap;
};

static int read_event(struct batch_reader *br, bool transfers, void *out,
		      char *err)
{
	for (;;) {
		ssize_t n = getline(&br->text, &br->text_cap, br->in);
		if (n < 0) {
			br->eof = true;
			return ferror(br->in) ? PS_EIO : PS_ENOTFOUND;
		}
		br->line++;
		while (n > 0 && (br->text[n - 1] == '\n' || br->text[n - 1] == '\r'))
			n--;
		if (n == 0)
			continue; /* blank lines separate nothing */
		return transfers ? ledger_json_parse_transfer(br->text, (size_t)n,
							      out, err)
				 : ledger_json_parse_account(br->text, (size_t)n,
							     out, err);
	}
}

/* A JSON-lines batch in the making: events read and not yet posted. */
struct pending_batch {
	bool transfers;    /* transfers, else accounts */
	size_t size;       /* bytes per event */
	uint32_t max;      /* the ledger's batch_max */
	uint32_t held;
	uint8_t *events;
	long *lines;       /* input line of each event */
	ledger_result_t *results;
	uint64_t done, rejected;
};

static ledger_id_t event_id(const struct pending_batch *pb, uint32_t i)
{
	const uint8_t *e = pb->events + i * pb->size;
	return pb->transfers ? ((const ledger_transfer_t *)e)->id
			     : ((const ledger_account_t *)e)->id;
}

static bool event_linked(const struct pending_batch *pb, uint32_t i)
{
	const uint8_t *e = pb->events + i * pb->size;
	return pb->transfers
		? (((const ledger_transfer_t *)e)->flags & LEDGER_TRANSFER_LINKED)
		: (((const ledger_account_t *)e)->flags & LEDGER_ACCOUNT_LINKED);
}

/* Posts the held events and prints their results. Unless final, an
 * unfinished chain at the end stays for the next batch, so no chain is
 * split (a chain longer than a batch is posted, and fails as open). */
static int post_held(struct cli *c, struct pending_batch *pb, bool final)
{
	uint32_t post = pb->held;
	while (!final && post > 0 && event_linked(pb, post - 1))
		post--;
	if (post == 0)
		post = pb->held;
	if (post == 0)
		return EXIT_DONE;
	int rc = pb->transfers
		? ledger_create_transfers(c->l, (void *)pb->events, post, pb->results)
		: ledger_create_accounts(c->l, (void *)pb->events, post, pb->results);
	if (rc != 0)
		return storage_error("post batch", rc);
	for (uint32_t i = 0; i < post; i++) {
		if (print_result(c, pb->transfers ? "transfer" : "account",
				 pb->lines[i], event_id(pb, i), &pb->results[i],
				 pb->transfers))
			pb->done++;
		else
			pb->rejected++;
	}
	pb->held -= post;
	memmove(pb->events, pb->events + post * pb->size, pb->held * pb->size);
	memmove(pb->lines, pb->lines + post, pb->held * sizeof(long));
	return EXIT_DONE;
}

/* Reads, posts, and reads on. A malformed line stops the run: every line
 * before it is posted, none after it (exit 2). */
static int run_batches(struct cli *c, struct pending_batch *pb,
		       struct batch_reader *br, const char *path)
{
	for (;;) {
		char err[LEDGER_JSON_ERROR_MAX];
		int rc = 0;
		while (pb->held < pb->max) {
			void *slot = pb->events + pb->held * pb->size;
			rc = read_event(br, pb->transfers, slot, err);
			if (rc != 0)
				break;
			pb->lines[pb->held++] = br->line;
		}
		if (rc == PS_EIO) {
			fprintf(stderr, "ledger: %s: read error\n", path);
			return EXIT_IO;
		}
		bool bad = rc != 0 && rc != PS_ENOTFOUND;
		int code = post_held(c, pb, rc != 0);
		if (code != EXIT_DONE)
			return code;
		if (bad) {
			fprintf(stderr, "ledger: %s line %ld: %s\n", path,
				br->line, err);
			return EXIT_USAGE;
		}
		if (rc == PS_ENOTFOUND && pb->held == 0)
			return EXIT_DONE;
	}
}

static int cmd_batch(struct cli *c, bool transfers)
{
	if (c->argc > 1)
		return usage(transfers ? "transfers [FILE|-]"
				       : "create-accounts [FILE|-]");
	const char *path = c->argc == 1 ? c->argv[0] : "-";
	struct batch_reader br = {0};
	br.in = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	if (br.in == NULL) {
		fprintf(stderr, "ledger: %s: %s\n", path, strerror(errno));
		return EXIT_IO;
	}
	int code = open_ledger(c, true);
	struct pending_batch pb = {.transfers = transfers};
	if (code == EXIT_DONE) {
		pb.size = transfers ? sizeof(ledger_transfer_t)
				    : sizeof(ledger_account_t);
		pb.max = ledger_batch_max(c->l);
		pb.events = calloc(pb.max, pb.size);
		pb.lines = calloc(pb.max, sizeof(long));
		pb.results = calloc(pb.max, sizeof(*pb.results));
		if (!pb.events || !pb.lines || !pb.results)
			code = storage_error("allocate", PS_ENOMEM);
	}
	if (code == EXIT_DONE)
		code = run_batches(c, &pb, &br, path);
	fflush(stdout); /* results first, then the summary */
	if (!c->json && (pb.done || pb.rejected))
		fprintf(stderr, "ledger: %llu done, %llu rejected\n",
			(unsigned long long)pb.done,
			(unsigned long long)pb.rejected);
	free(pb.events);
	free(pb.lines);
	free(pb.results);
	free(br.text);
	if (br.in != stdin)
		fclose(br.in);
	if (code == EXIT_DONE && pb.rejected > 0)
		code = EXIT_REJECTED;
	return code;
}

static int cmd_show(struct cli *c)
{
	if (c->argc < 1)
		return usage("show ACCOUNT...");
	int code = open_ledger(c, false);
	for (int i = 0; i < c->argc && code != EXIT_IO && code != EXIT_USAGE;
	     i++) {
		ledger_id_t id;
		if (!parse_id(c->argv[i], &id))
			return usage("bad account id");
		ledger_account_t a;
		int rc = ledger_account_get(c->l, id, &a);
		if (rc == PS_ENOTFOUND) {
			fprintf(stderr, "ledger: account %s not found\n",
				c->argv[i]);
			code = EXIT_REJECTED;
		} else if (rc != 0) {
			return storage_error("show", rc);
		} else {
			print_account(c, &a);
		}
	}
	return code;
}

static int cmd_get_transfer(struct cli *c)
{
	if (c->argc < 1)
		return usage("get-transfer ID...");
	int code = open_ledger(c, false);
	for (int i = 0; i < c->argc && code != EXIT_IO && code != EXIT_USAGE;
	     i++) {
		ledger_id_t id;
		if (!parse_id(c->argv[i], &id))
			return usage("bad transfer id");
		ledger_transfer_t t;
		int rc = ledger_transfer_get(c->l, id, &t);
		if (rc == PS_ENOTFOUND) {
			fprintf(stderr, "ledger: transfer %s not found\n",
				c->argv[i]);
			code = EXIT_REJECTED;
			continue;
		}
		if (rc != 0)
			return storage_error("get-transfer", rc);
		print_transfer(c, &t);
		uint32_t state;
		uint64_t expires;
		if (!c->json && (t.flags & LEDGER_TRANSFER_PENDING) &&
		    ledger_pending_get(c->l, id, &state, &expires) == 0)
			printf("  state %s\n", ledger_pending_state_name(state));
	}
	return code;
}

static int cmd_history(struct cli *c)
{
	struct event_options o = {.limit = 20};
	ledger_id_t id;
	if (parse_options(c, &o) != 1 || !parse_id(c->argv[0], &id))
		return usage("history ACCOUNT [--limit N]");
	int code = open_ledger(c, false);
	if (code != EXIT_DONE)
		return code;
	static ledger_transfer_t page[HISTORY_PAGE];
	uint64_t before = 0, left = o.limit;
	while (left > 0) {
		uint32_t n;
		int rc = ledger_account_transfers(c->l, id, before, page,
						  (uint32_t)PS_MIN(left, HISTORY_PAGE),
						  &n);
		if (rc == PS_ENOTFOUND) {
			fprintf(stderr, "ledger: account %s not found\n",
				c->argv[0]);
			return EXIT_REJECTED;
		}
		if (rc != 0)
			return storage_error("history", rc);
		for (uint32_t i = 0; i < n; i++)
			print_transfer(c, &page[i]);
		if (n == 0)
			break;
		before = page[n - 1].timestamp;
		left -= n;
	}
	return EXIT_DONE;
}

static int cmd_accounts(struct cli *c)
{
	if (c->argc != 0)
		return usage("accounts takes no arguments");
	int code = open_ledger(c, false);
	if (code != EXIT_DONE)
		return code;
	static ledger_account_t page[HISTORY_PAGE];
	ledger_id_t after = {0, 0};
	for (;;) {
		uint32_t n;
		int rc = ledger_scan_accounts(c->l, after, page, HISTORY_PAGE, &n);
		if (rc != 0)
			return storage_error("accounts", rc);
		if (n == 0)
			return EXIT_DONE;
		for (uint32_t i = 0; i < n; i++)
			print_account(c, &page[i]);
		after = page[n - 1].id;
	}
}

static int cmd_export(struct cli *c)
{
	if (c->argc != 1 || (strcmp(c->argv[0], "accounts") != 0 &&
			     strcmp(c->argv[0], "transfers") != 0))
		return usage("export accounts|transfers");
	bool json = c->json;
	c->json = true; /* exports are always JSON lines */
	int code;
	if (strcmp(c->argv[0], "accounts") == 0) {
		c->argc = 0;
		code = cmd_accounts(c);
	} else {
		code = open_ledger(c, false);
		static ledger_transfer_t page[HISTORY_PAGE];
		uint64_t after = 0;
		while (code == EXIT_DONE) {
			uint32_t n;
			int rc = ledger_scan_transfers(c->l, after, page,
						       HISTORY_PAGE, &n);
			if (rc != 0)
				code = storage_error("export", rc);
			else if (n == 0)
				break;
			for (uint32_t i = 0; rc == 0 && i < n; i++)
				print_transfer(c, &page[i]);
			if (rc == 0)
				after = page[n - 1].timestamp;
		}
	}
	c->json = json;
	return code;
}

static int cmd_check(struct cli *c)
{
	if (c->argc != 0)
		return usage("check takes no arguments");
	int code = open_ledger(c, false);
	if (code != EXIT_DONE)
		return code;
	ledger_check_report_t r;
	int rc = ledger_check(c->l, &r);
	if (rc != 0)
		return storage_error("check", rc);
	if (c->json) {
		printf("{\"ok\":%s,\"problems\":%u,\"accounts\":%llu,"
		       "\"transfers\":%llu,\"pending_open\":%llu,\"ledgers\":%u",
		       r.ok ? "true" : "false", r.problems,
		       (unsigned long long)r.accounts,
		       (unsigned long long)r.transfers,
		       (unsigned long long)r.pending_open, r.ledgers);
		if (!r.ok) {
			/* The detail holds only ids, numbers and words. */
			printf(",\"first_problem\":\"%s\"", r.first_problem);
		}
		printf("}\n");
	} else if (r.ok) {
		printf("ok: %llu accounts on %u ledgers, %llu transfers, %llu "
		       "pending open; debits equal credits, balances equal "
		       "the replay\n",
		       (unsigned long long)r.accounts, r.ledgers,
		       (unsigned long long)r.transfers,
		       (unsigned long long)r.pending_open);
	} else {
		printf("FAILED: %u problems; first: %s\n", r.problems,
		       r.first_problem);
	}
	return r.ok ? EXIT_DONE : EXIT_REJECTED;
}

static int cmd_expire(struct cli *c)
{
	struct event_options o = {.limit = LEDGER_BATCH_MAX};
	if (parse_options(c, &o) != 0 || o.limit > LEDGER_BATCH_MAX)
		return usage("expire [--limit N]");
	int code = open_ledger(c, false);
	if (code != EXIT_DONE)
		return code;
	uint32_t n;
	int rc = ledger_expire_pending(c->l, (uint32_t)o.limit, &n);
	if (rc != 0)
		return storage_error("expire", rc);
	if (c->json)
		printf("{\"expired\":%u}\n", n);
	else
		printf("expired %u pending transfers\n", n);
	return EXIT_DONE;
}

static int cmd_close(struct cli *c, bool closed)
{
	ledger_id_t id;
	if (c->argc != 1 || !parse_id(c->argv[0], &id))
		return usage(closed ? "close ACCOUNT" : "reopen ACCOUNT");
	int code = open_ledger(c, false);
	if (code != EXIT_DONE)
		return code;
	uint32_t result;
	int rc = ledger_account_set_closed(c->l, id, closed, &result);
	if (rc != 0)
		return storage_error("close", rc);
	ledger_result_t r = {result, 0, 0};
	return print_result(c, "account", 0, id, &r, false) ? EXIT_DONE
							   : EXIT_REJECTED;
}

static int cmd_id(struct cli *c)
{
	if (c->argc != 1)
		return usage("id TEXT");
	ledger_id_t id = ledger_id_from_text(c->argv[0], strlen(c->argv[0]));
	char text[LEDGER_ID_TEXT_MAX];
	if (c->json) /* the text itself is not echoed: it needs no escaping */
		printf("{\"id\":\"%s\"}\n", ledger_id_format(id, text));
	else
		printf("%s\n", ledger_id_format(id, text));
	return EXIT_DONE;
}

static int dispatch(struct cli *c, const char *cmd)
{
	if (strcmp(cmd, "id") == 0)
		return cmd_id(c);
	if (strcmp(cmd, "create-account") == 0)
		return cmd_create_account(c);
	if (strcmp(cmd, "create-accounts") == 0)
		return cmd_batch(c, false);
	if (strcmp(cmd, "transfer") == 0)
		return cmd_transfer(c);
	if (strcmp(cmd, "post") == 0)
		return cmd_resolve(c, true);
	if (strcmp(cmd, "void") == 0)
		return cmd_resolve(c, false);
	if (strcmp(cmd, "transfers") == 0)
		return cmd_batch(c, true);
	if (strcmp(cmd, "show") == 0)
		return cmd_show(c);
	if (strcmp(cmd, "accounts") == 0)
		return cmd_accounts(c);
	if (strcmp(cmd, "get-transfer") == 0)
		return cmd_get_transfer(c);
	if (strcmp(cmd, "history") == 0)
		return cmd_history(c);
	if (strcmp(cmd, "check") == 0)
		return cmd_check(c);
	if (strcmp(cmd, "export") == 0)
		return cmd_export(c);
	if (strcmp(cmd, "expire") == 0)
		return cmd_expire(c);
	if (strcmp(cmd, "close") == 0)
		return cmd_close(c, true);
	if (strcmp(cmd, "reopen") == 0)
		return cmd_close(c, false);
	return usage("unknown command");
}

int main(int argc, char **argv)
{
	struct cli c = {.dir = getenv("LEDGER_DIR"),
			.durability = LEDGER_DURABILITY_SYNC};
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			c.json = true;
		} else if ((strcmp(argv[i], "-d") == 0 ||
			    strcmp(argv[i], "--dir") == 0) && i + 1 < argc) {
			c.dir = argv[++i];
		} else if (strcmp(argv[i], "--durability") == 0 && i + 1 < argc) {
			const char *m = argv[++i];
			if (strcmp(m, "sync") == 0)
				c.durability = LEDGER_DURABILITY_SYNC;
			else if (strcmp(m, "nometasync") == 0)
				c.durability = LEDGER_DURABILITY_NOMETASYNC;
			else if (strcmp(m, "nosync") == 0)
				c.durability = LEDGER_DURABILITY_NOSYNC;
			else
				return usage("durability: sync, nometasync or nosync");
		} else if (strcmp(argv[i], "-h") == 0 ||
			   strcmp(argv[i], "--help") == 0) {
			fputs(usage_text, stdout);
			return EXIT_DONE;
		} else {
			return usage("unknown option");
		}
	}
	if (i >= argc)
		return usage(NULL);
	/* Log lines (map growth) go to stderr, away from the output. */
	ps_log_setup("ledger", PS_LOG_WARN, 2);
	c.argc = argc - i - 1;
	c.argv = argv + i + 1;
	int code = dispatch(&c, argv[i]);
	ledger_close(c.l);
	if (fflush(stdout) != 0 && code == EXIT_DONE)
		code = EXIT_IO;
	return code;
}
