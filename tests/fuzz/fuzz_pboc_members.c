/*
 * fuzz_pboc_members.c: the members-file parser on any bytes. It must
 * never crash, leak or loop; a file it accepts gives members sorted by
 * id, each valid, found again by its id, amounts in range; a file it
 * refuses says why.
 */
#include <stdint.h>
#include <string.h>

#include "core.h"
#include "members.h"

static void check(bool ok)
{
	PS_ASSERT(ok);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	pboc_members_t m;
	char err[256] = "";
	int rc = pboc_members_parse((const char *)data, size, &m, err, sizeof(err));
	if (rc != 0) {
		check(rc < 0 && err[0] != '\0' && m.count == 0);
		return 0;
	}
	for (uint32_t i = 0; i < m.count; i++) {
		const pboc_member_t *x = &m.list[i];
		check(pboc_member_id_valid(x->id, strlen(x->id)));
		check(i == 0 || strcmp(m.list[i - 1].id, x->id) < 0);
		check(pboc_members_find(&m, x->id) == x);
		check(x->kind >= PBOC_KIND_BANK && x->kind <= PBOC_KIND_SWITCH);
		check(x->balance >= 0 && x->balance <= PBOC_AMOUNT_MAX);
		check(x->credit_limit >= 0 && x->credit_limit <= PBOC_AMOUNT_MAX);
	}
	pboc_members_free(&m);
	return 0;
}
