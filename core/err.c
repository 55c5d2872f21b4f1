/* err.c: error messages for the shared PS_E* codes and the assertion handler. */
#include "core.h"

#include <stdio.h>
#include <stdlib.h>

const char *ps_strerror(int code)
{
	switch (code) {
	case PS_OK: return "ok";
	case PS_EINVAL: return "invalid argument or input";
	case PS_ENOMEM: return "out of memory";
	case PS_ENOSPC: return "buffer too small";
	case PS_ELIMIT: return "limit reached";
	case PS_ENOTFOUND: return "not found";
	case PS_EEXIST: return "already exists";
	case PS_EIO: return "input/output error";
	case PS_ETIMEDOUT: return "timed out";
	case PS_ECLOSED: return "closed";
	case PS_EFORMAT: return "malformed input";
	case PS_ESTATE: return "invalid state";
	}
	return "unknown error";
}

void ps_assert_fail(const char *expr, const char *file, int line,
		    const char *func)
{
	/* Plain stdio on purpose: the logger itself may be what is broken. */
	fprintf(stderr, "assertion failed: %s (%s:%d %s)\n", expr, file, line,
		func);
	fflush(stderr);
	abort();
}
