/*
 * main.c: switchctl's entry point: global options, then the command.
 *
 *   switchctl [--lmdb DIR | --config FILE] [--json] [--who NAME] COMMAND ...
 *
 * Global options may also follow the command (switchctl routes list
 * --json). docs/switchctl.md is the manual.
 */
#include <string.h>

#include "switchctl.h"

int main(int argc, char **argv)
{
	sc_ctx_t ctx;
	sc_ctx_init(&ctx);
	/* Library log lines (JSON) only for real errors, on stderr. */
	ps_log_setup("switchctl", PS_LOG_ERROR, 2);
	int i = 1;
	while (i < argc) {
		int rc = sc_global_option(&ctx, argc, argv, &i);
		if (rc < 0)
			return -rc;
		if (rc == 0)
			break;
	}
	if (i < argc && (strcmp(argv[i], "-h") == 0 ||
			 strcmp(argv[i], "--help") == 0)) {
		sc_usage(stdout);
		return SC_EXIT_OK;
	}
	if (i >= argc) {
		sc_usage(stderr);
		return SC_EXIT_USAGE;
	}
	int rc = sc_dispatch(&ctx, argc - i, argv + i);
	sc_close_store(&ctx);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "switchctl: cannot write the output\n");
		return SC_EXIT_IO;
	}
	return rc;
}
