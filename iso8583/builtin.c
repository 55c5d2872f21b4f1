/*
 * builtin.c: the built-in dialects. Their JSON files (iso8583/dialects/)
 * are compiled in by embed_dialects.cmake and loaded once, on first use,
 * through the same loader as any other dialect file, so the files are the
 * one source of truth and are checked by the same rules.
 */
#include "iso8583_internal.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define BUILTIN_MAX 8

static iso8583_dialect_t builtin[BUILTIN_MAX];
static size_t builtin_count;
static pthread_once_t builtin_once = PTHREAD_ONCE_INIT;

/*
 * A built-in that does not load is a broken build, not an operating
 * error: stop loudly with the loader's reason.
 */
static void builtin_load(void)
{
	PS_ASSERT(iso8583_embedded_dialect_count <= BUILTIN_MAX);
	for (size_t i = 0; i < iso8583_embedded_dialect_count; i++) {
		const struct iso8583_embedded *e = &iso8583_embedded_dialects[i];
		iso8583_error_t err;
		if (iso8583_dialect_load_json(e->text, e->len, &builtin[i],
					      &err) != 0) {
			fprintf(stderr, "iso8583: built-in dialect %s: %s\n",
				e->file, err.reason);
			PS_ASSERT(!"built-in dialect loads");
		}
	}
	builtin_count = iso8583_embedded_dialect_count;
}

size_t iso8583_dialect_builtin_count(void)
{
	pthread_once(&builtin_once, builtin_load);
	return builtin_count;
}

const iso8583_dialect_t *iso8583_dialect_builtin_at(size_t index)
{
	pthread_once(&builtin_once, builtin_load);
	return index < builtin_count ? &builtin[index] : NULL;
}

const iso8583_dialect_t *iso8583_dialect_builtin(const char *name)
{
	pthread_once(&builtin_once, builtin_load);
	for (size_t i = 0; i < builtin_count; i++)
		if (strcmp(builtin[i].name, name) == 0)
			return &builtin[i];
	return NULL;
}
