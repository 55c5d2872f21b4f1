/*
 * config.c: pspsim's options (command line and --config file, through the
 * simulators' option table, sim.h), their defaults, and the checks that
 * run before anything connects.
 *
 * --bank-prefix may be given more than once: the table takes one value
 * per option, so the command line's are gathered first into one
 * comma-separated list (which a config file may also give).
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core.h"
#include "pspsim.h"

#define ARGS_MAX 512

#define OPT_STR(n, a, f, h) {n, a, h, SIM_OPT_STR, false, offsetof(psp_cfg_t, f), sizeof(((psp_cfg_t *)0)->f), 0, 0}
#define OPT_UINT(n, a, f, lo, hi, h) {n, a, h, SIM_OPT_UINT, false, offsetof(psp_cfg_t, f), sizeof(((psp_cfg_t *)0)->f), lo, hi}
#define OPT_RATE(n, f, h) {n, "R", h, SIM_OPT_RATE, false, offsetof(psp_cfg_t, f), sizeof(double), 0, 0}
#define OPT_FLAG(n, f, h) {n, NULL, h, SIM_OPT_FLAG, false, offsetof(psp_cfg_t, f), sizeof(bool), 0, 0}

static const sim_opt_t options[] = {
	OPT_STR("connect", "HOST:PORT", connect, "switchd's PSP listener (required)"),
	OPT_STR("participant", "ID", participant, "the hello's participant (default PSP01)"),
	OPT_FLAG("no-hello", no_hello, "send no hello of its own (a listener without hello_required, or to see 63)"),
	OPT_UINT("timeout-ms", "MS", timeout_ms, 1, 3600000, "a request unanswered this long is given up (default 10000)"),
	OPT_FLAG("json", json, "script: answers as JSON lines; load: the report as one JSON object"),
	OPT_STR("script", "FILE|-", script, "script mode: the request lines (default -, standard input)"),
	OPT_UINT("concurrency", "N", concurrency, 1, 4096, "script mode: requests in flight (default 1)"),
	OPT_UINT("count", "C", load.count, 1, UINT64_MAX >> 1, "load mode: send C requests in all"),
	OPT_UINT("duration-s", "S", load.duration_s, 1, 31536000, "load mode: send for S seconds (with --count: whichever ends first)"),
	OPT_UINT("connections", "N", load.connections, 1, PSP_CONNECTIONS_MAX, "connections to hold (default 1)"),
	OPT_UINT("inflight", "M", load.inflight, 1, PSP_INFLIGHT_MAX, "requests in flight per connection, at most (default 16)"),
	OPT_UINT("rate", "R", load.rate, 0, 10000000, "requests per second over all connections; 0 = flat out (default)"),
	OPT_STR("mix", "OP=W,...", load.mix_text, "weights of pay, refund, query, duplicate, echo (default pay=80,refund=10,query=5,duplicate=5)"),
	OPT_STR("amount", "DIST", load.amount_text, "pay amounts in fen: N, LO-HI (uniform), exp:MEAN (default 100-10000)"),
	OPT_STR("currency", "CODE", load.currency, "ISO 4217 code of every amount (default CNY)"),
	OPT_RATE("refund-full-rate", load.refund_full_rate, "probability a refund takes all that is left of its pay (default 0.3)"),
	OPT_STR("bank-prefix", "DIGITS", load.bank_prefix, "a bank's generated accounts (banksim --prefix); repeat it, or P1,P2"),
	OPT_UINT("accounts-per-bank", "N", load.accounts_per_bank, 1, 100000000, "accounts generated per bank, as banksim --generate N (default 100)"),
	OPT_UINT("merchants-per-bank", "K", load.merchants_per_bank, 0, 100000000, "payees among each bank's first K accounts (default 0: any)"),
	OPT_UINT("account-digits", "N", load.account_digits, 2, PSP_ACCOUNT_DIGITS_MAX, "generated accounts' length, as banksim --account-digits (default 16)"),
	OPT_STR("payers", "FILE", load.payers, "instead of --bank-prefix: payer accounts, one a line, or a banksim accounts file"),
	OPT_STR("payees", "FILE", load.payees, "payee accounts, the same way (default: drawn from --payers)"),
	OPT_UINT("seed", "S", load.seed, 0, UINT64_MAX, "seed of every draw (default 1)"),
	OPT_STR("id-prefix", "TEXT", load.id_prefix, "request ids are TEXT-1, TEXT-2, ... (default PARTICIPANT-<time>-<pid>)"),
	OPT_UINT("progress-ms", "MS", load.progress_ms, 0, 3600000, "progress line on stderr every MS; 0 = none (default 1000)"),
	OPT_UINT("history", "N", load.history, 1, PSP_HISTORY_MAX, "pays remembered for refunds, duplicates, queries (default 65536)"),
};

static void defaults(psp_cfg_t *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	ps_strlcpy(cfg->participant, "PSP01", sizeof(cfg->participant));
	cfg->timeout_ms = 10000;
	ps_strlcpy(cfg->script, "-", sizeof(cfg->script));
	cfg->concurrency = 1;
	psp_load_cfg_t *l = &cfg->load;
	l->connections = 1;
	l->inflight = 16;
	ps_strlcpy(l->mix_text, "pay=80,refund=10,query=5,duplicate=5", sizeof(l->mix_text));
	ps_strlcpy(l->amount_text, "100-10000", sizeof(l->amount_text));
	ps_strlcpy(l->currency, "CNY", sizeof(l->currency));
	l->refund_full_rate = 0.3;
	l->accounts_per_bank = 100;
	l->account_digits = 16;
	l->seed = 1;
	l->progress_ms = 1000;
	l->history = 65536;
}

/*
 * Takes every --bank-prefix out of argv (into joined, comma-separated)
 * and leaves the rest in out; --bank-prefix given once or never is left
 * as it is, so the table's own messages apply.
 */
static int gather_prefixes(int argc, char **argv, char **out, int *out_argc,
			   char *joined, size_t cap, char *err, size_t err_cap)
{
	static const char name[] = "--bank-prefix";
	size_t n = sizeof(name) - 1, used = 0;
	int kept = 0, found = 0;
	if (argc > ARGS_MAX)
		return sim_fail(err, err_cap, PS_EINVAL, "more than %d arguments", ARGS_MAX);
	joined[0] = '\0';
	for (int i = 0; i < argc; i++) {
		const char *v = NULL;
		if (i > 0 && strcmp(argv[i], name) == 0 && i + 1 < argc)
			v = argv[++i];
		else if (i > 0 && strncmp(argv[i], name, n) == 0 && argv[i][n] == '=')
			v = argv[i] + n + 1;
		if (v == NULL) {
			out[kept++] = argv[i];
			continue;
		}
		size_t len = strlen(v);
		if (used + len + 2 > cap)
			return sim_fail(err, err_cap, PS_EINVAL, "--bank-prefix: too many");
		if (used > 0)
			joined[used++] = ',';
		memcpy(joined + used, v, len + 1);
		used += len;
		found++;
	}
	out[kept] = NULL;
	*out_argc = kept;
	return found;
}

static bool id_text(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		      (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' ||
		      *s == '.' || *s == ':'))
			return false;
	return true;
}

/* PARTICIPANT-<wall ms base 36>-<pid base 36>: two runs, on one machine
 * or two, do not share ids (the switch keeps ids: a rerun's pays would
 * all be duplicates). */
static void default_id_prefix(psp_cfg_t *cfg)
{
	static const char digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
	char t[16], p[16];
	size_t tn = 0, pn = 0;
	for (uint64_t v = ps_wall_ms(); v > 0 && tn < sizeof(t); v /= 36)
		t[tn++] = digits[v % 36];
	for (uint64_t v = (uint64_t)getpid(); v > 0 && pn < sizeof(p); v /= 36)
		p[pn++] = digits[v % 36];
	char *out = cfg->load.id_prefix;
	size_t o = ps_strlcpy(out, cfg->participant, 24);
	out[o++] = '-';
	while (tn > 0)
		out[o++] = t[--tn];
	out[o++] = '-';
	while (pn > 0)
		out[o++] = p[--pn];
	out[o] = '\0';
}

static int check_load(psp_cfg_t *cfg, char *err, size_t cap)
{
	psp_load_cfg_t *l = &cfg->load;
	char why[256];
	if ((uint64_t)l->connections * l->inflight > PSP_SLOTS_MAX)
		return sim_fail(err, cap, PS_EINVAL, "--connections x --inflight: at most %u "
				"requests in flight in all", PSP_SLOTS_MAX);
	if (psp_mix_parse(l->mix_text, &cfg->mix, why, sizeof(why)) != 0)
		return sim_fail(err, cap, PS_EINVAL, "--mix: %s", why);
	if (psp_amount_parse(l->amount_text, &cfg->amount, why, sizeof(why)) != 0)
		return sim_fail(err, cap, PS_EINVAL, "--amount: %s", why);
	if (txn_currency_parse(l->currency) == 0)
		return sim_fail(err, cap, PS_EINVAL, "--currency: not an ISO 4217 code the "
				"switch takes: \"%s\"", l->currency);
	bool generated = l->bank_prefix[0] != '\0', lists = l->payers[0] != '\0';
	if (generated == lists)
		return sim_fail(err, cap, PS_EINVAL, "load mode: give --bank-prefix P (and "
				"--accounts-per-bank N) or --payers FILE, one of the two");
	if (l->payees[0] != '\0' && !lists)
		return sim_fail(err, cap, PS_EINVAL, "--payees goes with --payers");
	if (l->id_prefix[0] == '\0')
		default_id_prefix(cfg);
	if (!id_text(l->id_prefix))
		return sim_fail(err, cap, PS_EINVAL, "--id-prefix: A-Z a-z 0-9 - _ . : only");
	return 0;
}

int psp_config(int argc, char **argv, psp_cfg_t *cfg, char *err,
	       size_t err_cap)
{
	defaults(cfg);
	static psp_cfg_t plain;
	defaults(&plain);
	char *args[ARGS_MAX + 1];
	static char joined[sizeof(cfg->load.bank_prefix) * 4];
	int n = 0;
	int found = gather_prefixes(argc, argv, args, &n, joined, sizeof(joined),
				    err, err_cap);
	if (found < 0)
		return found;
	int rc = sim_opts_parse(options, PS_ARRAY_LEN(options), n, args, cfg,
				err, err_cap);
	if (rc != 0)
		return rc;
	if (found > 0 &&
	    ps_strlcpy(cfg->load.bank_prefix, joined, sizeof(cfg->load.bank_prefix)) !=
		    strlen(joined))
		return sim_fail(err, err_cap, PS_EINVAL, "--bank-prefix: at most %d banks",
				PSP_BANKS_MAX);
	if (cfg->connect[0] == '\0')
		return sim_fail(err, err_cap, PS_EINVAL, "--connect HOST:PORT is required");
	if (!id_text(cfg->participant))
		return sim_fail(err, err_cap, PS_EINVAL, "--participant: 1 to %d of A-Z a-z "
				"0-9 - _ . :", PSP_PARTICIPANT_MAX);
	cfg->load_mode = cfg->load.count > 0 || cfg->load.duration_s > 0;
	if (!cfg->load_mode) {
		plain.load.count = cfg->load.count;
		plain.load.duration_s = cfg->load.duration_s;
		if (memcmp(&plain.load, &cfg->load, sizeof(plain.load)) != 0)
			return sim_fail(err, err_cap, PS_EINVAL, "load options need --count C "
					"or --duration-s S (load mode)");
		return 0;
	}
	if (strcmp(cfg->script, "-") != 0 || cfg->concurrency != 1)
		return sim_fail(err, err_cap, PS_EINVAL, "--script and --concurrency are "
				"for script mode, not with --count or --duration-s");
	return check_load(cfg, err, err_cap);
}

void psp_usage(FILE *out)
{
	sim_opts_usage(out,
		       "usage: pspsim --connect HOST:PORT [--script FILE|-] [--concurrency N] [--json]\n"
		       "       pspsim --connect HOST:PORT (--count C | --duration-s S)\n"
		       "              (--bank-prefix P... | --payers FILE) [load options] [--json]\n"
		       "\n"
		       "A PSP front end on switchd's JSON channel (docs/pspsim.md). It signs on\n"
		       "(hello) first. Script mode sends the script's request lines and prints each\n"
		       "answer; load mode sends a mix of pays, refunds, queries and duplicates over\n"
		       "many connections and reports throughput, latency and outcomes, and checks\n"
		       "that every request got exactly one answer.\n"
		       "Exit codes: 0 done, 2 usage, 3 a request not answered exactly once,\n"
		       "4 cannot connect, hello refused or connection lost, 5 a duplicate or query\n"
		       "disagreed with the original answer.",
		       options, PS_ARRAY_LEN(options));
}
