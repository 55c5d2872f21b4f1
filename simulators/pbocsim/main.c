/*
 * main.c: pbocsim, the simulated central bank's settlement system
 * (docs/pbocsim.md).
 *
 *   pbocsim --ledger DIR --members FILE [options]
 *   pbocsim --ledger DIR --dump-balances
 *   pbocsim --ledger DIR --check-ledger
 *
 * Exit codes: 0 done (after SIGTERM, or a report of a sound book), 1 the
 * check found a problem, 2 usage or an option refused, 3 start-up failed
 * (members file, ledger, batch store, port, ready file).
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "core.h"
#include "pbocsim.h"

/* The read-only modes: they open the book beside a running pbocsim
 * (LMDB readers never block its writer) and never create one. */
static int report(const pbocsim_cfg_t *cfg)
{
	char path[PBOCSIM_PATH_MAX + 32];
	struct stat st;
	snprintf(path, sizeof(path), "%s/data.mdb", cfg->ledger);
	if (stat(path, &st) != 0) {
		fprintf(stderr, "pbocsim: %s holds no ledger\n", cfg->ledger);
		return 3;
	}
	ledger_options_t o;
	ledger_options_init(&o);
	o.durability = LEDGER_DURABILITY_NOSYNC; /* it writes nothing */
	ledger_t *ledger = NULL;
	int rc = ledger_open(&ledger, cfg->ledger, &o);
	pboc_store_t *store = NULL;
	if (rc == 0 && cfg->check_ledger) {
		snprintf(path, sizeof(path), "%s/%s", cfg->ledger, PBOC_STORE_DIR);
		rc = pboc_store_open(&store, path, LEDGER_DURABILITY_NOSYNC, true);
		if (rc == PS_ENOTFOUND)
			rc = 0; /* no batch yet */
	}
	bool ok = true;
	if (rc == 0)
		rc = cfg->dump_balances ? pboc_dump(ledger, stdout)
					: pboc_check(ledger, store, stdout, &ok);
	pboc_store_close(store);
	ledger_close(ledger);
	if (rc != 0) {
		fprintf(stderr, "pbocsim: reading %s: %s\n", cfg->ledger,
			ledger_strerror(rc));
		return 3;
	}
	return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
	static pbocsim_cfg_t cfg;
	char err[1024];
	int rc = pbocsim_config(argc, argv, &cfg, err, sizeof(err));
	if (rc == SIM_OPTS_HELP) {
		pbocsim_usage(stdout);
		return 0;
	}
	if (rc != 0) {
		fprintf(stderr, "pbocsim: %s\n", err);
		return 2;
	}
	ps_log_setup(cfg.name, (enum ps_log_level)cfg.log_level_min, 2);
	if (cfg.dump_balances || cfg.check_ledger)
		return report(&cfg);
	pbocsim_t *sim = NULL;
	if (pbocsim_create(&cfg, &sim, err, sizeof(err)) != 0) {
		fprintf(stderr, "pbocsim: cannot start: %s\n", err);
		ps_logf(PS_LOG_ERROR, "start_failed", "%s", err);
		pbocsim_destroy(sim);
		return 3;
	}
	pbocsim_run(sim);
	pbocsim_destroy(sim);
	return 0;
}
