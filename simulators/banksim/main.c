/*
 * main.c: banksim, a simulated commercial bank host (docs/banksim.md).
 *
 *   banksim --ledger DIR (--accounts FILE | --generate N) [options]
 *   banksim --ledger DIR --dump-balances
 *   banksim --ledger DIR --check-ledger
 *
 * Exit codes: 0 done (after SIGTERM, or a report of a sound book), 1 the
 * ledger check found a problem, 2 usage or an option refused, 3 start-up
 * failed (accounts, ledger, port, ready file).
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "banksim.h"
#include "core.h"

/* The read-only modes: they open the book beside a running banksim
 * (LMDB readers never block its writer) and never create one. */
static int report(const bank_cfg_t *cfg)
{
	char path[BANKSIM_PATH_MAX + 16];
	struct stat st;
	snprintf(path, sizeof(path), "%s/data.mdb", cfg->ledger);
	if (stat(path, &st) != 0) {
		fprintf(stderr, "banksim: %s holds no ledger\n", cfg->ledger);
		return 3;
	}
	bank_t bank;
	memset(&bank, 0, sizeof(bank));
	char err[512];
	/* nosync: opening writes nothing worth a flush. */
	if (bank_book_open(&bank, cfg->ledger, LEDGER_DURABILITY_NOSYNC,
			   LEDGER_BATCH_MAX, err, sizeof(err)) != 0) {
		fprintf(stderr, "banksim: %s\n", err);
		return 3;
	}
	bool ok = true;
	int rc = cfg->dump_balances ? bank_book_dump(bank.ledger, stdout)
				    : bank_book_check(bank.ledger, stdout, &ok);
	bank_book_close(&bank);
	if (rc != 0) {
		fprintf(stderr, "banksim: reading %s: %s\n", cfg->ledger,
			ledger_strerror(rc));
		return 3;
	}
	return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
	static bank_cfg_t cfg;
	char err[1024];
	int rc = banksim_config(argc, argv, &cfg, err, sizeof(err));
	if (rc == SIM_OPTS_HELP) {
		banksim_usage(stdout);
		return 0;
	}
	if (rc != 0) {
		fprintf(stderr, "banksim: %s\n", err);
		return 2;
	}
	ps_log_setup(cfg.name, (enum ps_log_level)cfg.log_level_min, 2);
	if (cfg.dump_balances || cfg.check_ledger)
		return report(&cfg);
	banksim_t *sim = NULL;
	if (banksim_create(&cfg, &sim, err, sizeof(err)) != 0) {
		fprintf(stderr, "banksim: cannot start: %s\n", err);
		ps_logf(PS_LOG_ERROR, "start_failed", "%s", err);
		banksim_destroy(sim);
		return 3;
	}
	banksim_run(sim);
	banksim_destroy(sim);
	return 0;
}
