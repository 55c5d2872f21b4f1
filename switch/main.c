/*
 * main.c: switchd, the payment switch daemon.
 *
 *   switchd --config FILE [--ready-file PATH] [--check]
 *
 * Exit codes: 0 after a clean drain (SIGTERM) or a valid --check, 2 usage,
 * 3 configuration refused, 4 start-up failed (store, ports).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "switch.h"

static void usage(FILE *out)
{
	fputs("usage: switchd --config FILE [--ready-file PATH] [--check]\n"
	      "\n"
	      "  --config FILE      the JSON configuration (docs/configuration.md)\n"
	      "  --ready-file PATH  once listening, write the bound ports there as JSON\n"
	      "  --check            validate the configuration and exit\n"
	      "\n"
	      "Signals: SIGHUP reloads the configuration; SIGTERM drains and exits 0.\n",
	      out);
}

int main(int argc, char **argv)
{
	const char *config = NULL, *ready = NULL;
	bool check = false;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
			config = argv[++i];
		} else if (strcmp(argv[i], "--ready-file") == 0 && i + 1 < argc) {
			ready = argv[++i];
		} else if (strcmp(argv[i], "--check") == 0) {
			check = true;
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return 0;
		} else {
			fprintf(stderr, "switchd: unknown argument %s\n", argv[i]);
			usage(stderr);
			return 2;
		}
	}
	if (config == NULL) {
		usage(stderr);
		return 2;
	}
	/* A peer closing mid-write must be an error code, not a death. */
	signal(SIGPIPE, SIG_IGN);
	ps_log_setup("switchd", PS_LOG_INFO, 2);
	char err[1024];
	sw_config_t *cfg;
	if (sw_config_load(config, &cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "switchd: configuration refused: %s\n", err);
		return 3;
	}
	if (check) {
		printf("switchd: %s is valid\n", config);
		sw_config_free(cfg);
		return 0;
	}
	sw_options_t opts = {.config_path = config, .ready_file = ready,
			     .install_signals = true};
	sw_server_t *sw = NULL;
	if (sw_server_create(cfg, &opts, &sw, err, sizeof(err)) != 0) {
		fprintf(stderr, "switchd: cannot start: %s\n", err);
		ps_logf(PS_LOG_ERROR, "start_failed", "%s", err);
		sw_server_destroy(sw);
		return 4;
	}
	sw_server_run(sw);
	sw_server_destroy(sw);
	return 0;
}
