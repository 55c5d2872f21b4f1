/*
 * psp_test.h: what the pspsim process suites share: running pspsim
 * against a port with a list of arguments, under a deadline.
 */
#ifndef PAYSWITCH_PSP_TEST_H
#define PAYSWITCH_PSP_TEST_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Runs pspsim --connect 127.0.0.1:port followed by the arguments of ap
 * (strings, up to a NULL), stdin_text (may be NULL) on its standard
 * input, for at most timeout_ms (then killed). Its output goes into out
 * and err (NUL-terminated, cut at their caps). Returns its exit code, -1
 * when killed.
 */
int pt_run(uint16_t port, const char *stdin_text, char *out, size_t out_cap,
	   char *err, size_t err_cap, int timeout_ms, va_list ap);

#endif /* PAYSWITCH_PSP_TEST_H */
