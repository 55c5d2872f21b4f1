/*
 * record.h: a transaction as the switch stores it.
 *
 * An explicit, versioned, fixed-endian record of what the switch needs to
 * finish, reverse, answer and clear a transaction: its kind and state, its
 * origin's keys, the parties and the money, what it refers to, its final
 * answer, its settlement window and each leg's destination, key and
 * result. The wire part of txn_t (card data, the origin's frame header and
 * numbers) is never in it.
 *
 * Layout (version 2): the four bytes "PST" 0x02, then fields, each a tag
 * byte, a length byte and that many bytes of value: integers big-endian
 * at their natural width, text as bytes without a NUL. A leg is one field
 * whose value is its own list of fields. A field that is zero or empty is
 * left out, and a reader skips a tag it does not know, so a field added
 * later needs no new version: tags are stored and never reused
 * (record.c lists them; room is left for the settlement network and fees
 * of the clearing work).
 *
 * Version 1 was the host-endian txn_t of the first switch (1,648 bytes on
 * x86-64, beginning with its 16-bit format number 1). It is still read, so
 * an upgrade needs no drain: txn_record_decode() takes either.
 *
 * Pure: never includes uv.h; no allocation.
 */
#ifndef PAYSWITCH_RECORD_H
#define PAYSWITCH_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "adapters.h"

#define TXN_RECORD_VERSION 2
/* No record is larger (every field at its maximum). */
#define TXN_RECORD_BYTES_MAX 2048

/* Encodes t into out (cap bytes; TXN_RECORD_BYTES_MAX always suffices).
 * TXN_ENOSPC when cap is too small. */
int txn_record_encode(const txn_t *t, uint8_t *out, size_t cap, size_t *len);

/*
 * Decodes a record of any version this build reads into t (wire part
 * zeroed). PS_EFORMAT for bytes that are no record (a field past the end,
 * text too long for its field or holding a NUL, an unknown version).
 */
int txn_record_decode(const uint8_t *in, size_t len, txn_t *t);

/* The version of a record, or 0 when it is none. */
int txn_record_version(const uint8_t *in, size_t len);

/* Bytes of a version 1 record. */
size_t txn_record_v1_bytes(void);
/* Writes t in the version 1 layout: for the upgrade test and for tools
 * that must produce what an older switch stored. */
int txn_record_encode_v1(const txn_t *t, uint8_t *out, size_t cap,
			 size_t *len);

#endif /* PAYSWITCH_RECORD_H */
