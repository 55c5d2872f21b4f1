/*
 * fuzz_bank_accounts.c: banksim's accounts-file parser on any bytes. It
 * must never crash, leak or loop; a file it accepts must give a table in
 * which every account is found again by its number, with a valid number,
 * a balance and a limit in range and a known status and fault; a file it
 * refuses must say why.
 */
#include <stdint.h>
#include <string.h>

#include "accounts.h"
#include "core.h"

static void check(bool ok)
{
	PS_ASSERT(ok);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	bank_accounts_t a;
	char err[BANK_ACCOUNTS_ERR_MAX] = "";
	int rc = bank_accounts_parse((const char *)data, size, &a, err,
				     sizeof(err));
	if (rc != 0) {
		check(rc < 0 && err[0] != '\0');
		bank_accounts_free(&a);
		return 0;
	}
	check(a.count <= a.cap);
	for (uint32_t i = 0; i < a.count; i++) {
		const bank_account_t *x = &a.list[i];
		check(bank_account_number_valid(x->number, x->len));
		check(strlen(x->number) == x->len);
		check(bank_accounts_find(&a, x->number, x->len) == x);
		check(x->balance >= 0 && x->balance <= BANK_AMOUNT_MAX);
		check(x->limit >= 0 && x->limit <= BANK_AMOUNT_MAX);
		check(x->status <= BANK_STATUS_EXPIRED);
		check(x->fault <= BANK_FAULT_CLOSE);
	}
	bank_accounts_free(&a);
	return 0;
}
