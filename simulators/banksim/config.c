/*
 * config.c: banksim's options (command line and --config file), their
 * defaults, and the checks that run before anything is opened.
 *
 * Defaults favour a simulator: listen on loopback, durability nosync (a
 * machine crash may lose the last commits; a process crash never does),
 * no latency, no faults.
 */
#include <stddef.h>
#include <string.h>

#include "banksim.h"
#include "core.h"

#define OPT_STR(n, a, f, h) {n, a, h, SIM_OPT_STR, false, offsetof(bank_cfg_t, f), sizeof(((bank_cfg_t *)0)->f), 0, 0}
#define OPT_UINT(n, a, f, lo, hi, h) {n, a, h, SIM_OPT_UINT, false, offsetof(bank_cfg_t, f), sizeof(((bank_cfg_t *)0)->f), lo, hi}
#define OPT_RATE(n, f, h) {n, "R", h, SIM_OPT_RATE, false, offsetof(bank_cfg_t, f), sizeof(double), 0, 0}
#define OPT_FLAG(n, f, cli, h) {n, NULL, h, SIM_OPT_FLAG, cli, offsetof(bank_cfg_t, f), sizeof(bool), 0, 0}

static const sim_opt_t options[] = {
	OPT_STR("listen", "HOST:PORT", listen, "where to listen (default 127.0.0.1:0; port 0: any free port)"),
	OPT_STR("ready-file", "PATH", ready_file, "once listening, write {\"pid\",\"port\",\"name\"} there atomically"),
	OPT_STR("name", "NAME", name, "the bank's name in logs and the ready file (default banksim)"),
	OPT_STR("institution", "DIGITS", institution, "the bank's institution id; a field 100 naming another gets 15"),
	OPT_STR("ledger", "DIR", ledger, "the bank's own ledger directory (LMDB), created if missing; required"),
	OPT_STR("durability", "MODE", durability, "sync | nometasync | nosync (default nosync: a simulator)"),
	OPT_STR("protocol", "NAME", protocol, "iso8583 (default) or json: JSON lines, as a JSON endpoint speaks (docs/protocol.md)"),
	OPT_STR("dialect", "NAME", dialect, "built-in ISO 8583 dialect: ascii (default), binary, ascii-binbitmap"),
	OPT_STR("spec", "FILE", spec, "ISO 8583 dialect from a JSON file instead of --dialect"),
	OPT_STR("framing", "KIND", framing, "length header: binary2 (default), ascii4, bcd2, binary4, none"),
	OPT_UINT("header-bytes", "N", header_bytes, 0, BANKSIM_HEADER_BYTES_MAX, "fixed header after the length (e.g. 5 TPDU, 46); echoed back (TPDU addresses swapped)"),
	OPT_STR("accounts", "FILE", accounts, "the accounts file (JSON; docs/banksim.md)"),
	OPT_UINT("generate", "N", generate, 1, BANK_ACCOUNTS_MAX, "instead of --accounts: N accounts PREFIX + index"),
	OPT_STR("prefix", "DIGITS", prefix, "generated accounts' prefix (default 622202)"),
	OPT_UINT("account-digits", "N", account_digits, 2, BANK_ACCOUNT_DIGITS_MAX, "generated accounts' length (default 16)"),
	OPT_UINT("balance", "MINOR", balance, 0, BANK_AMOUNT_MAX, "generated accounts' opening balance (default 1000000)"),
	OPT_FLAG("two-phase", two_phase, false, "debits reserve (pending) and 0220 posts them"),
	OPT_UINT("pending-timeout-s", "S", pending_timeout_s, 1, 31536000, "two-phase reservations expire after S seconds (default 600)"),
	OPT_STR("latency-ms", "DIST", latency_ms, "answer latency: 0 (default), 5, 2-20 (uniform), exp:5 (mean)"),
	OPT_RATE("decline-rate", decline_rate, "probability a 0200 that would move money is declined 05"),
	OPT_RATE("fault-delay-rate", fault_delay_rate, "probability an answer is sent --fault-delay-ms late"),
	OPT_UINT("fault-delay-ms", "MS", fault_delay_ms, 0, SIM_LATENCY_MS_MAX, "extra delay of a delayed answer (default 10000)"),
	OPT_RATE("fault-drop-rate", fault_drop_rate, "probability an answer is never sent (the posting stands)"),
	OPT_RATE("fault-close-rate", fault_close_rate, "probability the connection is closed instead of answering"),
	OPT_UINT("fault-ledger-after", "N", fault_ledger_after, 0, UINT32_MAX, "ledger fault: after N batch commits that write ..."),
	OPT_UINT("fault-ledger-count", "M", fault_ledger_count, 0, UINT32_MAX, "... M fail as a failed write would (answered 96, nothing posted)"),
	OPT_UINT("seed", "S", seed, 0, UINT64_MAX, "seed of every random draw (default 1)"),
	OPT_STR("log-level", "LEVEL", log_level, "debug | info (default) | warn | error"),
	OPT_UINT("currency", "NUM", currency, 1, 998, "ISO 4217 numeric currency of the accounts (default 156, CNY)"),
	OPT_UINT("connections-max", "N", connections_max, 1, 65536, "connections at once (default 64)"),
	OPT_UINT("inflight-per-conn-max", "N", inflight_per_conn_max, 1, 1u << 20, "requests in flight per connection (default 1024)"),
	OPT_UINT("inflight-max", "N", inflight_max, 1, 1u << 20, "requests in flight in all (default 8192)"),
	OPT_UINT("frame-bytes-max", "N", frame_bytes_max, 64, 65535, "largest frame accepted (default 8192)"),
	OPT_UINT("batch-max", "N", batch_max, BANK_PLAN_TRANSFERS_MAX, LEDGER_BATCH_MAX, "transfers per ledger batch (default 8190)"),
	OPT_FLAG("dump-balances", dump_balances, true, "print every ledger account of --ledger as JSON lines, exit"),
	OPT_FLAG("check-ledger", check_ledger, true, "run ledger_check on --ledger, print the report, exit 0 if sound"),
};

static void defaults(bank_cfg_t *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	ps_strlcpy(cfg->listen, "127.0.0.1:0", sizeof(cfg->listen));
	ps_strlcpy(cfg->name, "banksim", sizeof(cfg->name));
	ps_strlcpy(cfg->durability, "nosync", sizeof(cfg->durability));
	ps_strlcpy(cfg->protocol, "iso8583", sizeof(cfg->protocol));
	ps_strlcpy(cfg->dialect, "ascii", sizeof(cfg->dialect));
	ps_strlcpy(cfg->framing, "binary2", sizeof(cfg->framing));
	ps_strlcpy(cfg->prefix, "622202", sizeof(cfg->prefix));
	cfg->account_digits = 16;
	cfg->balance = 1000000;
	cfg->pending_timeout_s = 600;
	ps_strlcpy(cfg->latency_ms, "0", sizeof(cfg->latency_ms));
	cfg->fault_delay_ms = 10000;
	cfg->seed = 1;
	ps_strlcpy(cfg->log_level, "info", sizeof(cfg->log_level));
	cfg->currency = 156;
	cfg->connections_max = 64;
	cfg->inflight_per_conn_max = 1024;
	cfg->inflight_max = 8192;
	cfg->frame_bytes_max = 8192;
	cfg->batch_max = LEDGER_BATCH_MAX;
}

static int parse_durability(const char *s, uint32_t *out)
{
	if (strcmp(s, "sync") == 0)
		*out = LEDGER_DURABILITY_SYNC;
	else if (strcmp(s, "nometasync") == 0)
		*out = LEDGER_DURABILITY_NOMETASYNC;
	else if (strcmp(s, "nosync") == 0)
		*out = LEDGER_DURABILITY_NOSYNC;
	else
		return PS_EINVAL;
	return 0;
}

/* The options that only serving needs. */
static int check_serving(bank_cfg_t *cfg, char *err, size_t cap)
{
	bool file = cfg->accounts[0] != '\0', gen = cfg->generate > 0;
	if (file == gen)
		return sim_fail(err, cap, PS_EINVAL, "give exactly one of --accounts FILE and "
			    "--generate N");
	if (cfg->spec[0] != '\0' && strcmp(cfg->dialect, "ascii") != 0)
		return sim_fail(err, cap, PS_EINVAL, "give --dialect or --spec, not both");
	if (sim_hostport_parse(cfg->listen, cfg->host, sizeof(cfg->host),
			       &cfg->port) != 0)
		return sim_fail(err, cap, PS_EINVAL, "--listen: must be HOST:PORT, not \"%s\"",
			    cfg->listen);
	if (strcmp(cfg->protocol, "iso8583") == 0)
		cfg->chan_kind = CHAN_ISO8583;
	else if (strcmp(cfg->protocol, "json") == 0)
		cfg->chan_kind = CHAN_JSON;
	else
		return sim_fail(err, cap, PS_EINVAL, "--protocol: must be iso8583 "
				"or json, not \"%s\"", cfg->protocol);
	int lh = iso8583_length_header_parse(cfg->framing);
	if (lh < 0)
		return sim_fail(err, cap, PS_EINVAL, "--framing: must be binary2, ascii4, "
			    "bcd2, binary4 or none, not \"%s\"", cfg->framing);
	cfg->length_header = (uint8_t)lh;
	if (cfg->header_bytes + 64u > cfg->frame_bytes_max)
		return sim_fail(err, cap, PS_EINVAL, "--header-bytes leaves no room in "
			    "--frame-bytes-max");
	if (cfg->institution[0] != '\0' &&
	    !ps_is_digits(cfg->institution, strlen(cfg->institution)))
		return sim_fail(err, cap, PS_EINVAL, "--institution: must be 1 to 11 digits");
	if (cfg->currency == BANK_LEDGER_MEMO)
		return sim_fail(err, cap, PS_EINVAL, "--currency: 999 is the memo ledger");
	if (cfg->inflight_per_conn_max > cfg->inflight_max)
		cfg->inflight_per_conn_max = cfg->inflight_max;
	char why[256];
	if (sim_latency_parse(cfg->latency_ms, &cfg->latency, why,
			      sizeof(why)) != 0)
		return sim_fail(err, cap, PS_EINVAL, "--latency-ms: %s", why);
	return 0;
}

int banksim_config(int argc, char **argv, bank_cfg_t *cfg, char *err,
		   size_t err_cap)
{
	defaults(cfg);
	int rc = sim_opts_parse(options, PS_ARRAY_LEN(options), argc, argv,
				cfg, err, err_cap);
	if (rc != 0)
		return rc;
	if (cfg->ledger[0] == '\0')
		return sim_fail(err, err_cap, PS_EINVAL, "--ledger DIR is required");
	if (parse_durability(cfg->durability, &cfg->durability_mode) != 0)
		return sim_fail(err, err_cap, PS_EINVAL, "--durability: must be sync, "
			    "nometasync or nosync, not \"%s\"", cfg->durability);
	cfg->log_level_min = ps_log_level_parse(cfg->log_level);
	if (cfg->log_level_min < 0)
		return sim_fail(err, err_cap, PS_EINVAL, "--log-level: must be debug, info, "
			    "warn or error, not \"%s\"", cfg->log_level);
	if (cfg->dump_balances && cfg->check_ledger)
		return sim_fail(err, err_cap, PS_EINVAL, "give --dump-balances or "
			    "--check-ledger, not both");
	if (cfg->dump_balances || cfg->check_ledger)
		return 0;
	return check_serving(cfg, err, err_cap);
}

void banksim_usage(FILE *out)
{
	sim_opts_usage(out,
		       "usage: banksim --ledger DIR (--accounts FILE | --generate N) [options]\n"
		       "       banksim --ledger DIR --dump-balances | --check-ledger\n"
		       "\n"
		       "A commercial bank's host: an ISO 8583 server whose accounts live in a\n"
		       "double-entry ledger (docs/banksim.md). SIGTERM answers what it can and\n"
		       "exits 0. Exit codes: 0 done, 1 ledger check failed, 2 usage, 3 start-up.",
		       options, PS_ARRAY_LEN(options));
}
