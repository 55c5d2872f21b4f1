/*
 * fixtures.h: the one rule for tests that read reference data from
 * ../shared/fixtures (data from other projects, read in place, never
 * copied into the repository).
 *
 * On a developer's machine without ../shared the test skips and says so.
 * In CI (CI=true in the environment) a missing or unreadable fixture
 * directory fails the test instead: a skip must never look like a pass
 * there. PS_FIXTURES_DIR overrides where the fixtures are looked for, so
 * the rule itself can be tested (tests/iso8583/CMakeLists.txt).
 *
 * Header only: include it after cmocka.h.
 */
#ifndef PAYSWITCH_TEST_FIXTURES_H
#define PAYSWITCH_TEST_FIXTURES_H

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The fixture directory below ../shared/fixtures (or PS_FIXTURES_DIR). */
static inline const char *ts_fixture_dir(const char *sub, char *out,
					 size_t cap)
{
	const char *root = getenv("PS_FIXTURES_DIR");
	if (root == NULL || root[0] == '\0')
		root = PS_SHARED_DIR "/fixtures";
	snprintf(out, cap, "%s/%s", root, sub);
	return out;
}

static inline bool ts_in_ci(void)
{
	const char *ci = getenv("CI");
	return ci != NULL && (strcmp(ci, "true") == 0 || strcmp(ci, "1") == 0);
}

/*
 * True when dir can be listed and holds at least one entry. Otherwise:
 * in CI, fails the test naming the directory; elsewhere prints a SKIP
 * line and returns false (the caller then calls skip()).
 */
static inline bool ts_fixtures_ready(const char *dir)
{
	DIR *d = opendir(dir);
	bool any = false;
	if (d != NULL) {
		struct dirent *e;
		while (!any && (e = readdir(d)) != NULL)
			any = e->d_name[0] != '.';
		closedir(d);
	}
	if (any)
		return true;
	if (ts_in_ci())
		fail_msg("CI=true: the fixtures at %s are missing or unreadable; "
			 "CI must run with ../shared beside the checkout", dir);
	printf("SKIP: no fixtures at %s (they are read from ../shared when it "
	       "exists)\n", dir);
	return false;
}

#endif /* PAYSWITCH_TEST_FIXTURES_H */
