/*
 * fuzz_route_import.c: the route import parser (route_reader_t: JSON
 * lines or a JSON array) on any bytes. It must never crash, read out of
 * bounds or loop; every route it returns must pass route_validate(),
 * print as JSON within ROUTE_JSON_BYTES_MAX, and read back the same; and
 * every failure must carry a reason and a line within the input.
 */
#include <stdint.h>
#include <string.h>

#include "routing.h"

static void check(bool ok)
{
	PS_ASSERT(ok);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	route_reader_t reader;
	route_reader_init(&reader, (const char *)data, size);
	uint32_t lines = 1;
	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n';
	/* Each call consumes at least one byte or ends the input. */
	for (size_t calls = 0; calls <= size + 1; calls++) {
		route_t route;
		bool has;
		route_error_t err = {0};
		int rc = route_reader_next(&reader, &route, &has, &err);
		if (rc < 0) {
			check(err.code == rc && err.reason[0] != '\0');
			check(err.line >= 1 && err.line <= lines);
			check(route_reader_next(&reader, &route, &has, &err) ==
			      rc);
			return 0;
		}
		if (!has)
			return 0;
		check(route_validate(&route, NULL) == 0);
		char json[ROUTE_JSON_BYTES_MAX];
		size_t len;
		check(route_to_json(&route, json, sizeof(json), &len) == 0);
		route_t back;
		check(route_from_json(json, len, &back, NULL) == 0);
		check(route_same_content(&route, &back));
	}
	check(false); /* the reader did not finish */
	return 0;
}
