/*
 * main.c: netsim, a simulated clearing network (docs/netsim.md).
 *
 *   netsim --mode unionpay|netclear --members FILE --store DIR [options]
 *
 * Exit codes: 0 done (after SIGTERM), 2 usage or an option refused, 3
 * start-up failed (members file, store, port, a bank's address).
 */
#include <stdio.h>

#include "core.h"
#include "netsim.h"

int main(int argc, char **argv)
{
	static netsim_cfg_t cfg;
	char err[1024];
	int rc = netsim_config(argc, argv, &cfg, err, sizeof(err));
	if (rc == SIM_OPTS_HELP) {
		netsim_usage(stdout);
		return 0;
	}
	if (rc != 0) {
		fprintf(stderr, "netsim: %s\n", err);
		return 2;
	}
	ps_log_setup(cfg.name, (enum ps_log_level)cfg.log_level_min, 2);
	netsim_t *ns = NULL;
	if (netsim_create(&cfg, &ns, err, sizeof(err)) != 0) {
		fprintf(stderr, "netsim: cannot start: %s\n", err);
		ps_logf(PS_LOG_ERROR, "start_failed", "%s", err);
		netsim_destroy(ns);
		return 3;
	}
	netsim_run(ns);
	netsim_destroy(ns);
	return 0;
}
