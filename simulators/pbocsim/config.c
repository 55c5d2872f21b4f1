/*
 * config.c: pbocsim's options (command line and --config file), their
 * defaults, and the checks that run before anything is opened.
 *
 * Defaults favour a simulator, as banksim's do: loopback, any free port,
 * durability nosync (a machine crash may lose the last commits; a
 * process crash never does), batches short of funds queued.
 */
#include <stddef.h>
#include <string.h>

#include "core.h"
#include "pbocsim.h"

#define OPT_STR(n, a, f, h) {n, a, h, SIM_OPT_STR, false, offsetof(pbocsim_cfg_t, f), sizeof(((pbocsim_cfg_t *)0)->f), 0, 0}
#define OPT_UINT(n, a, f, lo, hi, h) {n, a, h, SIM_OPT_UINT, false, offsetof(pbocsim_cfg_t, f), sizeof(((pbocsim_cfg_t *)0)->f), lo, hi}
#define OPT_FLAG(n, f, h) {n, NULL, h, SIM_OPT_FLAG, true, offsetof(pbocsim_cfg_t, f), sizeof(bool), 0, 0}

static const sim_opt_t options[] = {
	OPT_STR("listen", "HOST:PORT", listen, "where to listen (default 127.0.0.1:0; port 0: any free port)"),
	OPT_STR("ready-file", "PATH", ready_file, "once listening, write {\"pid\",\"port\",\"name\"} there atomically"),
	OPT_STR("name", "NAME", name, "the name in logs and the ready file (default pbocsim)"),
	OPT_STR("ledger", "DIR", ledger, "PBOC's ledger directory (LMDB), created if missing, batches inside; required"),
	OPT_STR("members", "FILE", members, "the members file (JSON; docs/pbocsim.md); required to serve"),
	OPT_STR("shortfall", "MODE", shortfall, "a batch that would overdraw a reserve: queue (default) or reject"),
	OPT_STR("durability", "MODE", durability, "sync | nometasync | nosync (default nosync: a simulator)"),
	OPT_STR("log-level", "LEVEL", log_level, "debug (a line per answer) | info (default) | warn | error"),
	OPT_UINT("connections-max", "N", connections_max, 1, 65536, "connections at once (default 64)"),
	OPT_UINT("inflight-per-conn-max", "N", inflight_per_conn_max, 1, 1u << 16, "requests in flight per connection (default 64)"),
	OPT_UINT("inflight-max", "N", inflight_max, 1, 1u << 16, "requests in flight in all (default 256)"),
	OPT_UINT("positions-max", "N", positions_max, 1, PBOC_POSITIONS_MAX, "positions in one batch (default and most 256)"),
	OPT_UINT("queue-max", "N", queue_max, 1, PBOC_QUEUE_MAX_LIMIT, "batches waiting for funds (default 1024); one more is rejected"),
	OPT_FLAG("dump-balances", dump_balances, "print every ledger account of --ledger as JSON lines, exit"),
	OPT_FLAG("check-ledger", check_ledger, "check the ledger and the batches against it, print the report, exit 0 if sound"),
};

static void defaults(pbocsim_cfg_t *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	ps_strlcpy(cfg->listen, "127.0.0.1:0", sizeof(cfg->listen));
	ps_strlcpy(cfg->name, "pbocsim", sizeof(cfg->name));
	ps_strlcpy(cfg->shortfall, "queue", sizeof(cfg->shortfall));
	ps_strlcpy(cfg->durability, "nosync", sizeof(cfg->durability));
	ps_strlcpy(cfg->log_level, "info", sizeof(cfg->log_level));
	cfg->connections_max = 64;
	cfg->inflight_per_conn_max = 64;
	cfg->inflight_max = 256;
	cfg->positions_max = PBOC_POSITIONS_MAX;
	cfg->queue_max = 1024;
}

/* The names of enum ledger_durability, in its order. */
static const char *const durability_names[] = {"sync", "nometasync",
					       "nosync"};
_Static_assert(LEDGER_DURABILITY_SYNC == 0 && LEDGER_DURABILITY_NOSYNC == 2,
	       "durability_names follows enum ledger_durability");

static int derive(pbocsim_cfg_t *cfg, char *err, size_t cap)
{
	cfg->durability_mode = PS_ARRAY_LEN(durability_names);
	for (uint32_t i = 0; i < PS_ARRAY_LEN(durability_names); i++)
		if (strcmp(cfg->durability, durability_names[i]) == 0)
			cfg->durability_mode = i;
	if (cfg->durability_mode == PS_ARRAY_LEN(durability_names))
		return sim_fail(err, cap, PS_EINVAL, "--durability: must be "
				"sync, nometasync or nosync, not \"%s\"",
				cfg->durability);
	cfg->log_level_min = ps_log_level_parse(cfg->log_level);
	if (cfg->log_level_min < 0)
		return sim_fail(err, cap, PS_EINVAL, "--log-level: must be "
				"debug, info, warn or error, not \"%s\"",
				cfg->log_level);
	return 0;
}

/* The options that only serving needs. */
static int check_serving(pbocsim_cfg_t *cfg, char *err, size_t cap)
{
	if (cfg->members[0] == '\0')
		return sim_fail(err, cap, PS_EINVAL, "--members FILE is required");
	if (strcmp(cfg->shortfall, "queue") == 0)
		cfg->shortfall_reject = false;
	else if (strcmp(cfg->shortfall, "reject") == 0)
		cfg->shortfall_reject = true;
	else
		return sim_fail(err, cap, PS_EINVAL, "--shortfall: must be "
				"queue or reject, not \"%s\"", cfg->shortfall);
	if (sim_hostport_parse(cfg->listen, cfg->host, sizeof(cfg->host),
			       &cfg->port) != 0)
		return sim_fail(err, cap, PS_EINVAL, "--listen: must be "
				"HOST:PORT, not \"%s\"", cfg->listen);
	if (cfg->inflight_per_conn_max > cfg->inflight_max)
		cfg->inflight_per_conn_max = cfg->inflight_max;
	return 0;
}

int pbocsim_config(int argc, char **argv, pbocsim_cfg_t *cfg, char *err,
		   size_t err_cap)
{
	defaults(cfg);
	int rc = sim_opts_parse(options, PS_ARRAY_LEN(options), argc, argv,
				cfg, err, err_cap);
	if (rc != 0)
		return rc;
	if (cfg->ledger[0] == '\0')
		return sim_fail(err, err_cap, PS_EINVAL, "--ledger DIR is required");
	if ((rc = derive(cfg, err, err_cap)) != 0)
		return rc;
	if (cfg->dump_balances && cfg->check_ledger)
		return sim_fail(err, err_cap, PS_EINVAL, "give --dump-balances "
				"or --check-ledger, not both");
	if (cfg->dump_balances || cfg->check_ledger)
		return 0;
	return check_serving(cfg, err, err_cap);
}

void pbocsim_usage(FILE *out)
{
	sim_opts_usage(out,
		       "usage: pbocsim --ledger DIR --members FILE [options]\n"
		       "       pbocsim --ledger DIR --dump-balances | --check-ledger\n"
		       "\n"
		       "The central bank's settlement system: members' reserve accounts in a\n"
		       "ledger, settlement batches posted all or nothing, JSON lines over TCP\n"
		       "(docs/pbocsim.md). SIGTERM answers what was read and exits 0.\n"
		       "Exit codes: 0 done, 1 ledger check failed, 2 usage, 3 start-up.",
		       options, PS_ARRAY_LEN(options));
}
