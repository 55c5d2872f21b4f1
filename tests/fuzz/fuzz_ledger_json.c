/*
 * fuzz_ledger_json.c: the CLI's JSON-lines parser for transfers and
 * accounts. Any input must parse or fail with a reason, never crash or
 * read out of bounds; what parses must format and parse back to the same
 * record.
 */
#include <stdint.h>
#include <string.h>

#include "ledger_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[LEDGER_JSON_ERROR_MAX];
	char text[1024];
	ps_buf_t buf;
	ledger_transfer_t t, again;
	if (ledger_json_parse_transfer((const char *)data, size, &t, err) == 0) {
		ps_buf_init(&buf, text, sizeof(text));
		PS_ASSERT(ledger_json_format_transfer(&buf, &t) == 0);
		PS_ASSERT(ledger_json_parse_transfer(text, buf.len, &again,
						     err) == 0);
		PS_ASSERT(memcmp(&t, &again, sizeof(t)) == 0);
	} else {
		PS_ASSERT(err[0] != '\0');
	}
	ledger_account_t a, a2;
	if (ledger_json_parse_account((const char *)data, size, &a, err) == 0) {
		ps_buf_init(&buf, text, sizeof(text));
		PS_ASSERT(ledger_json_format_account(&buf, &a) == 0);
		PS_ASSERT(ledger_json_parse_account(text, buf.len, &a2, err) ==
			  0);
		PS_ASSERT(memcmp(&a, &a2, sizeof(a)) == 0);
	} else {
		PS_ASSERT(err[0] != '\0');
	}
	return 0;
}
