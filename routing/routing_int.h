/*
 * routing_int.h: what the routing module's files share and nobody else
 * sees: error helpers, the on-disk record layouts, and the audit writer.
 */
#ifndef PAYSWITCH_ROUTING_INT_H
#define PAYSWITCH_ROUTING_INT_H

#include "routing.h"

/* ---- errors ----------------------------------------------------------- */

/* Fills err (if not NULL) and returns code, so a failure is one line. */
int route_fail(route_error_t *err, int code, const char *field,
	       const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/*
 * Maps an LMDB or errno return code to a PS_E* code and fills err with
 * "<doing>: <mdb_strerror>". MDB_NOTFOUND maps to PS_ENOTFOUND, a full
 * map or reader table to PS_ELIMIT, MDB_CORRUPTED to PS_EFORMAT, the rest
 * to PS_EIO.
 */
int route_fail_mdb(route_error_t *err, int mdb_rc, const char *doing);

/* ---- validation used by setters, validate and the JSON parser --------- */

bool route_is_note_text(const char *text, size_t len);
bool route_is_who_text(const char *text, size_t len);

/* ---- JSON forms shared by the export and the audit (route_json.c) ---- */

struct json_t;
/* A new JSON object for the route (route_to_json's form), or NULL. */
struct json_t *route_json_new(const route_t *route);
/*
 * Reads a route object. keep_changed: take changed_by and changed_ms from
 * the object (the audit's before/after) instead of ignoring them (import).
 */
int route_json_read(struct json_t *obj, bool keep_changed, route_t *out,
		    route_error_t *err);

/* ---- the routes database value (docs/routing.md, "Route record") ------ */

#define ROUTE_RECORD_FORMAT 3      /* 2: the same without fees */
#define ROUTE_RECORD_FEES_BYTES 24
#define ROUTE_RECORD_BYTES_MAX 336 /* every string at its limit, fees */

/* Encodes the route's fields (not its prefix, which is the key) and
 * returns the record's length. */
size_t route_record_encode(const route_t *route,
			   uint8_t out[ROUTE_RECORD_BYTES_MAX]);
/* Decodes a stored value into *out with the key's prefix; PS_EFORMAT. */
int route_record_decode(const void *key, size_t key_len, const void *value,
			size_t value_len, route_t *out);

/* ---- the route_meta "table" record ------------------------------------ */

#define ROUTE_META_KEY "table"
#define ROUTE_META_FORMAT 0x52544231u /* "RTB1" */
#define ROUTE_META_BYTES (4 + 8 + 4 * (ROUTE_PREFIX_DIGITS_MAX + 1))

void route_meta_encode(const route_table_info_t *info,
		       uint8_t out[ROUTE_META_BYTES]);
int route_meta_decode(const void *value, size_t len, route_table_info_t *out);

/* Reads the meta record in txn; an absent record is an empty table. */
int route_meta_load(const route_table_t *table, MDB_txn *txn,
		    route_table_info_t *out, route_error_t *err);
int route_meta_store(const route_table_t *table, MDB_txn *txn,
		     const route_table_info_t *info, route_error_t *err);

/* ---- the audit writer ------------------------------------------------- */

#define ROUTE_AUDIT_KEY_BYTES 12 /* u64 ms, u32 sequence, big-endian */

/*
 * Hands out increasing audit keys within one write transaction. primed is
 * false until the last key on disk has been read, once per transaction.
 */
typedef struct route_audit_writer {
	uint64_t last_ms;
	uint32_t last_seq;
	bool primed;
} route_audit_writer_t;

/*
 * Appends one audit record in txn. before/after may be NULL (none).
 * *out (optional) gets the record as written.
 */
int route_audit_append(const route_table_t *table, MDB_txn *txn,
		       route_audit_writer_t *writer,
		       const route_actor_t *actor, uint64_t at_ms,
		       route_what_t what, const char *prefix,
		       const route_t *before, const route_t *after,
		       uint64_t version, const char *detail,
		       route_audit_t *out, route_error_t *err);

#endif /* PAYSWITCH_ROUTING_INT_H */
