/* psp_test.c: running pspsim for the process suites (psp_test.h). */
#include "psp_test.h"

#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>

#include "support.h"

#define ARGS_MAX 64

int pt_run(uint16_t port, const char *stdin_text, char *out, size_t out_cap,
	   char *err, size_t err_cap, int timeout_ms, va_list ap)
{
	char connect[32];
	snprintf(connect, sizeof(connect), "127.0.0.1:%u", port);
	char *argv[ARGS_MAX] = {(char *)ts_bin("pspsim"), "--connect", connect};
	int n = 3;
	const char *a;
	while ((a = va_arg(ap, const char *)) != NULL) {
		assert_true(n + 1 < ARGS_MAX);
		argv[n++] = (char *)a;
	}
	argv[n] = NULL;
	return ts_run(argv, stdin_text, out, out_cap, err, err_cap, timeout_ms);
}
