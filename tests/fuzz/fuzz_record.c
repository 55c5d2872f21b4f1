/*
 * fuzz_record.c: the stored-record reader (adapters/record.c) on any
 * bytes, as a store that was damaged or written by another build would
 * hand it over. Properties: no crash, no read past the input; a failure
 * is PS_EFORMAT; txn_record_version() and txn_record_decode() agree on
 * what is a record; whatever decodes has no wire part and stores again,
 * and what that stores reads back to the same record (the same bytes
 * when stored a third time).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok)
{
	PS_ASSERT(ok);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static txn_t t, again;
	static const txn_wire_t no_wire;
	static uint8_t rec[TXN_RECORD_BYTES_MAX], rec2[TXN_RECORD_BYTES_MAX];
	int version = txn_record_version(data, size);
	int rc = txn_record_decode(data, size, &t);
	check(rc == 0 || rc == PS_EFORMAT);
	check(rc != 0 || version == 1 || version == TXN_RECORD_VERSION);
	if (rc != 0)
		return 0;
	check(memcmp(&t.wire, &no_wire, sizeof(no_wire)) == 0);
	check(t.leg_count <= TXN_LEGS_MAX && t.parent_leg < TXN_LEGS_MAX);
	size_t len = 0, len2 = 0;
	check(txn_record_encode(&t, rec, sizeof(rec), &len) == 0);
	check(txn_record_version(rec, len) == TXN_RECORD_VERSION);
	check(txn_record_decode(rec, len, &again) == 0);
	check(txn_record_encode(&again, rec2, sizeof(rec2), &len2) == 0);
	check(len == len2 && memcmp(rec, rec2, len) == 0);
	/* Text fields compare up to their NUL: a repeated tag may leave bytes
	 * after a shorter text's end, which are not content. */
	check(t.kind == again.kind && t.rc == again.rc &&
	      t.leg_count == again.leg_count && t.amount == again.amount &&
	      t.currency == again.currency && t.id == again.id &&
	      strcmp(t.request_id, again.request_id) == 0 &&
	      strcmp(t.payer, again.payer) == 0);
	for (unsigned i = 0; i < TXN_LEGS_MAX; i++)
		check(t.leg[i].rc == again.leg[i].rc &&
		      t.leg[i].stan == again.leg[i].stan &&
		      strcmp(t.leg[i].transmit, again.leg[i].transmit) == 0);
	return 0;
}
