/*
 * main.c: pspsim, a third-party payment front end (PSP) on switchd's JSON
 * channel (docs/pspsim.md).
 *
 *   pspsim --connect HOST:PORT [--script FILE|-] [--concurrency N] [--json]
 *   pspsim --connect HOST:PORT (--count C | --duration-s S)
 *          (--bank-prefix P ... | --payers FILE) [load options] [--json]
 *
 * Exit codes: 0 done, 2 usage, 3 a request not answered exactly once
 * (script mode: not answered within --timeout-ms), 4 cannot connect,
 * hello refused or a connection lost, 5 a duplicate or a query disagreed
 * with the original's answer.
 */
#include <stdio.h>
#include <stdlib.h>

#include "pspsim.h"

int main(int argc, char **argv)
{
	static psp_cfg_t cfg;
	char err[1024];
	int rc = psp_config(argc, argv, &cfg, err, sizeof(err));
	if (rc == SIM_OPTS_HELP) {
		psp_usage(stdout);
		return PSP_EXIT_OK;
	}
	if (rc != 0) {
		fprintf(stderr, "pspsim: %s\n", err);
		return PSP_EXIT_USAGE;
	}
	if (!cfg.load_mode)
		return psp_script_run(&cfg);
	/* The run's record is large (its histogram and outcome table). */
	psp_run_t *run = calloc(1, sizeof(*run));
	if (run == NULL) {
		fprintf(stderr, "pspsim: no memory\n");
		return PSP_EXIT_USAGE;
	}
	rc = psp_load_run(&cfg, run, err, sizeof(err));
	if (rc != 0) {
		fprintf(stderr, "pspsim: %s\n", err);
		free(run);
		return rc;
	}
	if (cfg.json)
		psp_report_json(stdout, &cfg, run);
	else
		psp_report_text(stdout, &cfg, run);
	fflush(stdout);
	rc = psp_report_exit_code(run);
	free(run);
	return rc;
}
