/*
 * config.c: netsim's options (command line and --config file), their
 * defaults, and the checks that run before anything is opened.
 *
 * Defaults are the 2016 debit card fee rules (issuer 35 bp capped at 13
 * yuan, network 3.25 bp capped at 3.25 yuan), the daily cutover at 23:00
 * UTC, sessions of four hours, and a simulator's durability (nosync).
 */
#include <stddef.h>
#include <string.h>

#include "core.h"
#include "netsim.h"
#include "routing.h"

#define OPT_STR(n, a, f, h) {n, a, h, SIM_OPT_STR, false, offsetof(netsim_cfg_t, f), sizeof(((netsim_cfg_t *)0)->f), 0, 0}
#define OPT_UINT(n, a, f, lo, hi, h) {n, a, h, SIM_OPT_UINT, false, offsetof(netsim_cfg_t, f), sizeof(((netsim_cfg_t *)0)->f), lo, hi}

static const sim_opt_t options[] = {
	OPT_STR("mode", "MODE", mode, "unionpay (ISO 8583, 46-byte header, daily cutover) or netclear (JSON, sessions); required"),
	OPT_STR("listen", "HOST:PORT", listen, "where members connect (default 127.0.0.1:0; port 0: any free port)"),
	OPT_STR("ready-file", "PATH", ready_file, "once listening and the bank links tried, write {\"pid\",\"port\",\"name\"} there"),
	OPT_STR("name", "NAME", name, "the name in logs and the ready file (default netsim)"),
	OPT_STR("member", "DIGITS", member, "the network's own member id (default 00010000 unionpay, 00020000 netclear)"),
	OPT_STR("station", "ID", station, "UnionPay: our station id in the header (default the member id)"),
	OPT_STR("members", "FILE", members, "the members file (JSON: banks and member stations; docs/netsim.md); required"),
	OPT_STR("store", "DIR", store, "the clearing record (LMDB), created if missing; required"),
	OPT_STR("clearing-dir", "DIR", clearing_dir, "where the clearing files go (default STORE/clearing)"),
	OPT_STR("pboc", "HOST:PORT", pboc, "pbocsim, where each period's batch is submitted (default none: kept)"),
	OPT_STR("start-date", "YYYYMMDD", start_date, "the first settlement date of a new store (default today, UTC)"),
	OPT_STR("cutover-time", "HH:MM", cutover_time, "UnionPay: the daily cutover, UTC (default 23:00)"),
	OPT_UINT("session-minutes", "N", session_minutes, 1, 1440, "NetClear: a session's length (default 240)"),
	OPT_UINT("issuer-fee-ppm", "PPM", issuer_fee_ppm, 0, ROUTE_FEE_PPM_MAX, "issuer fee on a debit, parts per million (default 3500)"),
	OPT_UINT("issuer-fee-cap", "FEN", issuer_fee_cap, 0, ROUTE_FEE_CAP_MAX, "its cap, 0 none (default 1300)"),
	OPT_UINT("network-fee-ppm", "PPM", network_fee_ppm, 0, ROUTE_FEE_PPM_MAX, "network fee from each side of a debit (default 325)"),
	OPT_UINT("network-fee-cap", "FEN", network_fee_cap, 0, ROUTE_FEE_CAP_MAX, "its cap, 0 none (default 325)"),
	OPT_UINT("timeout-ms", "MS", timeout_ms, 1, 600000, "a bank's answer is awaited this long, then 91 and a reversal (default 5000)"),
	OPT_UINT("settle-wait-ms", "MS", settle_wait_ms, 0, 3600000, "a closed period waits at most this long for legs in flight (default 15000)"),
	OPT_UINT("reversal-retry-ms", "MS", reversal_retry_ms, 1, 600000, "first wait before a reversal is repeated (0401), doubling (default 500)"),
	OPT_UINT("reversal-retry-max-ms", "MS", reversal_retry_max_ms, 1, 3600000, "the longest wait between repeats (default 10000)"),
	OPT_UINT("reversal-attempts-max", "N", reversal_attempts_max, 1, 100, "transmissions of a reversal before it is given up (default 10)"),
	OPT_UINT("saf-max", "N", saf_max, 1, 1u << 20, "reversals queued in memory at once (default 4096)"),
	OPT_STR("dialect", "NAME", dialect, "UnionPay: the members' ISO 8583 dialect (default ascii)"),
	OPT_UINT("frame-bytes-max", "N", frame_bytes_max, 128, 9999, "largest frame, header included (default 8192)"),
	OPT_UINT("connections-max", "N", connections_max, 1, 65536, "member connections at once (default 64)"),
	OPT_UINT("inflight-per-conn-max", "N", inflight_per_conn_max, 1, 1u << 20, "requests in flight per member connection (default 1024)"),
	OPT_UINT("inflight-max", "N", inflight_max, 1, 1u << 20, "requests in flight in all (default 8192)"),
	OPT_UINT("bank-inflight-max", "N", bank_inflight_max, 1, SIM_LINK_INFLIGHT_MAX, "legs in flight per bank link (default 1024)"),
	OPT_UINT("echo-ms", "MS", echo_ms, 0, 3600000, "an idle bank link is echoed after this long, 0 never (default 30000)"),
	OPT_UINT("pboc-retry-max-ms", "MS", pboc_retry_max_ms, 10, 3600000, "the longest wait between submissions to PBOC (default 10000)"),
	OPT_STR("durability", "MODE", durability, "sync | nosync (default nosync: a simulator)"),
	OPT_UINT("store-map-mb", "MB", store_map_mb, 1, 1u << 20, "the store's map size (default 1024)"),
	OPT_STR("log-level", "LEVEL", log_level, "debug (a line per leg) | info (default) | warn | error"),
};

static void defaults(netsim_cfg_t *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	ps_strlcpy(cfg->listen, "127.0.0.1:0", sizeof(cfg->listen));
	ps_strlcpy(cfg->name, "netsim", sizeof(cfg->name));
	ps_strlcpy(cfg->cutover_time, "23:00", sizeof(cfg->cutover_time));
	cfg->session_minutes = 240;
	cfg->issuer_fee_ppm = 3500;
	cfg->issuer_fee_cap = 1300;
	cfg->network_fee_ppm = 325;
	cfg->network_fee_cap = 325;
	cfg->timeout_ms = 5000;
	cfg->settle_wait_ms = 15000;
	cfg->reversal_retry_ms = 500;
	cfg->reversal_retry_max_ms = 10000;
	cfg->reversal_attempts_max = 10;
	cfg->saf_max = 4096;
	ps_strlcpy(cfg->dialect, "ascii", sizeof(cfg->dialect));
	cfg->frame_bytes_max = 8192;
	cfg->connections_max = 64;
	cfg->inflight_per_conn_max = 1024;
	cfg->inflight_max = 8192;
	cfg->bank_inflight_max = 1024;
	cfg->echo_ms = 30000;
	cfg->pboc_retry_max_ms = 10000;
	ps_strlcpy(cfg->durability, "nosync", sizeof(cfg->durability));
	cfg->store_map_mb = 1024;
	ps_strlcpy(cfg->log_level, "info", sizeof(cfg->log_level));
}

static bool is_member_id(const char *s)
{
	size_t n = strlen(s);
	return n >= 1 && n <= CLF_MEMBER_MAX && ps_is_digits(s, n);
}

/* A name goes into the ready file's JSON and every log line: keep it
 * plain. */
static bool is_plain(const char *s, size_t max)
{
	size_t n = strlen(s);
	if (n < 1 || n > max)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] <= ' ' || s[i] > '~' || s[i] == '"' || s[i] == '\\')
			return false;
	return true;
}

static int parse_hhmm(const char *s, uint32_t *minute)
{
	if (strlen(s) != 5 || s[2] != ':' || !ps_is_digits(s, 2) ||
	    !ps_is_digits(s + 3, 2))
		return PS_EINVAL;
	uint32_t h = (uint32_t)(s[0] - '0') * 10 + (uint32_t)(s[1] - '0');
	uint32_t m = (uint32_t)(s[3] - '0') * 10 + (uint32_t)(s[4] - '0');
	if (h > 23 || m > 59)
		return PS_EINVAL;
	*minute = h * 60 + m;
	return 0;
}

static int check_mode(netsim_cfg_t *cfg, char *err, size_t cap)
{
	if (strcmp(cfg->mode, "unionpay") == 0)
		cfg->mode_kind = NETSIM_UNIONPAY;
	else if (strcmp(cfg->mode, "netclear") == 0)
		cfg->mode_kind = NETSIM_NETCLEAR;
	else
		return sim_fail(err, cap, PS_EINVAL, "--mode: must be unionpay or "
				"netclear, not \"%s\"", cfg->mode);
	if (cfg->member[0] == '\0')
		ps_strlcpy(cfg->member, cfg->mode_kind == NETSIM_UNIONPAY ? "00010000"
									  : "00020000",
			   sizeof(cfg->member));
	if (!is_member_id(cfg->member))
		return sim_fail(err, cap, PS_EINVAL, "--member: must be 1 to 11 digits");
	if (cfg->station[0] == '\0')
		ps_strlcpy(cfg->station, cfg->member, sizeof(cfg->station));
	if (!is_plain(cfg->station, NS_ID_MAX))
		return sim_fail(err, cap, PS_EINVAL, "--station: must be 1 to 11 "
				"printable characters, no spaces");
	if (!is_plain(cfg->name, sizeof(cfg->name) - 1))
		return sim_fail(err, cap, PS_EINVAL, "--name: must be printable, "
				"without spaces or quotes");
	return 0;
}

static int check_paths(netsim_cfg_t *cfg, char *err, size_t cap)
{
	if (cfg->members[0] == '\0')
		return sim_fail(err, cap, PS_EINVAL, "--members FILE is required");
	if (cfg->store[0] == '\0')
		return sim_fail(err, cap, PS_EINVAL, "--store DIR is required");
	if (cfg->clearing_dir[0] == '\0') {
		char dir[sizeof(cfg->store) + 16];
		snprintf(dir, sizeof(dir), "%s/clearing", cfg->store);
		if (strlen(dir) >= sizeof(cfg->clearing_dir))
			return sim_fail(err, cap, PS_EINVAL, "--store: name too long");
		ps_strlcpy(cfg->clearing_dir, dir, sizeof(cfg->clearing_dir));
	}
	char host[128];
	uint16_t port;
	if (sim_hostport_parse(cfg->listen, host, sizeof(host), &port) != 0)
		return sim_fail(err, cap, PS_EINVAL, "--listen: must be HOST:PORT, "
				"not \"%s\"", cfg->listen);
	if (cfg->pboc[0] != '\0' &&
	    (sim_hostport_parse(cfg->pboc, host, sizeof(host), &port) != 0 ||
	     port == 0))
		return sim_fail(err, cap, PS_EINVAL, "--pboc: must be HOST:PORT, not "
				"\"%s\"", cfg->pboc);
	return 0;
}

static int check_times(netsim_cfg_t *cfg, char *err, size_t cap)
{
	if (cfg->start_date[0] != '\0' && !ns_date_valid(cfg->start_date))
		return sim_fail(err, cap, PS_EINVAL, "--start-date: must be a date "
				"YYYYMMDD, not \"%s\"", cfg->start_date);
	if (parse_hhmm(cfg->cutover_time, &cfg->cutover_minute) != 0)
		return sim_fail(err, cap, PS_EINVAL, "--cutover-time: must be HH:MM "
				"(UTC), not \"%s\"", cfg->cutover_time);
	if (cfg->reversal_retry_max_ms < cfg->reversal_retry_ms)
		return sim_fail(err, cap, PS_EINVAL, "--reversal-retry-max-ms is "
				"below --reversal-retry-ms");
	if (strcmp(cfg->durability, "sync") != 0 &&
	    strcmp(cfg->durability, "nosync") != 0)
		return sim_fail(err, cap, PS_EINVAL, "--durability: must be sync or "
				"nosync, not \"%s\"", cfg->durability);
	if (cfg->inflight_per_conn_max > cfg->inflight_max)
		cfg->inflight_per_conn_max = cfg->inflight_max;
	return 0;
}

int netsim_config(int argc, char **argv, netsim_cfg_t *cfg, char *err,
		  size_t err_cap)
{
	defaults(cfg);
	int rc = sim_opts_parse(options, PS_ARRAY_LEN(options), argc, argv, cfg,
				err, err_cap);
	if (rc != 0)
		return rc;
	cfg->log_level_min = ps_log_level_parse(cfg->log_level);
	if (cfg->log_level_min < 0)
		return sim_fail(err, err_cap, PS_EINVAL, "--log-level: must be debug, "
				"info, warn or error, not \"%s\"", cfg->log_level);
	if ((rc = check_mode(cfg, err, err_cap)) ||
	    (rc = check_paths(cfg, err, err_cap)) ||
	    (rc = check_times(cfg, err, err_cap)))
		return rc;
	if (cfg->mode_kind == NETSIM_UNIONPAY &&
	    iso8583_dialect_builtin(cfg->dialect) == NULL)
		return sim_fail(err, err_cap, PS_EINVAL, "--dialect: no built-in "
				"dialect \"%s\" (ascii, binary, ascii-binbitmap)",
				cfg->dialect);
	return 0;
}

void netsim_usage(FILE *out)
{
	sim_opts_usage(out,
		       "usage: netsim --mode unionpay|netclear --members FILE --store DIR [options]\n"
		       "\n"
		       "A clearing network (docs/netsim.md): members send it legs, it forwards each\n"
		       "to the member bank that holds the account, keeps its own clearing record,\n"
		       "and at each period's close writes a clearing file per member and submits\n"
		       "the members' net positions to pbocsim. SIGUSR1 cuts over; SIGTERM answers\n"
		       "what it can and exits 0. Exit codes: 0 done, 2 usage, 3 start-up.",
		       options, PS_ARRAY_LEN(options));
}
