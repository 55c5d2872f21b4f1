/*
 * routing.h: the switch's route table and its audit log, in LMDB.
 *
 * A route says where payments for an account or card number go: the route
 * with the longest prefix of the number names a destination endpoint (the
 * switch's outbound link), the network behind it, alternates for when that
 * link is down, and the bank's institution code. The table lives in
 * the switch's one LMDB environment; switchd reads it per message and
 * switchctl edits it while switchd runs, so a change takes effect at the
 * switch's next read transaction with no restart.
 *
 * Every change writes an audit record (who, when, what, before, after) in
 * the same write transaction as the change, and bumps a table version so
 * a reader can tell cheaply that the table changed.
 *
 * docs/routing.md describes the model, the lookup rules and the on-disk
 * layout; this header is the whole API.
 *
 * Conventions
 * -----------
 *  - Calls that act return 0 or a negative code: PS_E* from core.h or
 *    ROUTE_EDISABLED below. Results go through out parameters.
 *  - Calls that can fail on input or storage take an optional
 *    route_error_t *err (NULL allowed) that names the field, the import
 *    line, and a sentence for a human.
 *  - LMDB values are borrowed until their transaction ends, so every read
 *    copies into caller-owned fixed-size structs (route_t, route_audit_t).
 *    Nothing returned points into the map.
 *  - The library never begins or commits a transaction except in
 *    route_table_open() and route_txn_begin(); callers own transactions.
 *    A write call that fails leaves its transaction in an unspecified
 *    state: abort it. Never hold a transaction across an event-loop
 *    callback.
 *  - Nothing on the lookup path allocates (route_lookup, route_get,
 *    route_table_info). Writes, imports and audit reads may allocate.
 *  - Not thread-safe per transaction (LMDB's rule): one transaction, one
 *    thread at a time.
 *
 * Caveats (from LMDB, and they bite)
 * ----------------------------------
 *  - Open the environment once per process. Two MDB_env handles on the
 *    same directory in one process break LMDB's locks when either closes.
 *  - After fork(), the child must not use the parent's MDB_env; it opens
 *    its own.
 *  - Open with route_env_open() in every process, so that all share the
 *    same maxdbs, maxreaders and map size.
 */
#ifndef PAYSWITCH_ROUTING_H
#define PAYSWITCH_ROUTING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lmdb.h>

#include "core.h"

/* ---- limits ----------------------------------------------------------- */

#define ROUTE_PREFIX_DIGITS_MAX 19      /* a PAN or account number's length */
#define ROUTE_ENDPOINT_BYTES_MAX 31     /* [A-Za-z0-9_.-]{1,31} */
#define ROUTE_ALTERNATES_MAX 4
#define ROUTE_INSTITUTION_DIGITS_MAX 11 /* field 100 is n..11 */
#define ROUTE_NOTE_BYTES_MAX 63         /* UTF-8, no control characters */
#define ROUTE_WHO_BYTES_MAX 63          /* "alice@host" */
#define ROUTE_COUNT_MAX 1000000         /* routes in the table */
#define ROUTE_IMPORT_LINE_BYTES_MAX 4096 /* one JSON line or array element */
#define ROUTE_IMPORT_BYTES_MAX ((size_t)256 << 20) /* a whole import */
#define ROUTE_DETAIL_BYTES_MAX 127      /* an audit record's detail text */
/* A route as JSON (route_to_json) never needs more than this, NUL included. */
#define ROUTE_JSON_BYTES_MAX 1024

/* ---- environment settings shared by every process --------------------- */

#define ROUTE_ENV_DBS_MAX 32        /* named databases: routes, audit, ... */
#define ROUTE_ENV_READERS_MAX 126   /* concurrent read transactions */
#define ROUTE_ENV_MAP_BYTES_DEFAULT ((size_t)1 << 30)

/* The named databases this module owns (docs/routing.md has the layout). */
#define ROUTE_DB_ROUTES "routes"
#define ROUTE_DB_META "route_meta"
#define ROUTE_DB_AUDIT "audit"

/* ---- errors ----------------------------------------------------------- */

enum route_errc {
	/*
	 * The longest matching route exists but is disabled. The switch
	 * answers 91 (issuer or switch inoperative), not 15: the issuer is
	 * known, it is just not taking traffic now. *out is still filled so
	 * the caller can log which route and its note.
	 */
	ROUTE_EDISABLED = -201,
};

/* Text for a ROUTE_E* or PS_E* code; never NULL. */
const char *route_strerror(int code);

/*
 * What went wrong, for a human. code repeats the return value. field names
 * the route field at fault ("prefix", "endpoint", "alternates", ...) or is
 * "" when none applies. line is the 1-based input line of an import record
 * (0 elsewhere); record its 1-based position. mdb_rc is the LMDB or errno
 * code behind a PS_EIO or PS_ELIMIT from storage, else 0.
 */
typedef struct route_error {
	int code;
	int mdb_rc;
	uint32_t line;
	uint32_t record;
	char field[24];
	char reason[160];
} route_error_t;

/*
 * Writes "line 7: endpoint: must be ..." (parts that do not apply are left
 * out) into out, truncating to cap-1 bytes. Returns out.
 */
const char *route_error_format(const route_error_t *err, char *out, size_t cap);

/* ---- the route -------------------------------------------------------- */

typedef enum route_network {
	ROUTE_NETWORK_DIRECT = 0,   /* the bank's own link */
	ROUTE_NETWORK_UNIONPAY = 1, /* through the UnionPay card network */
	ROUTE_NETWORK_NETCLEAR = 2, /* through NetClear (NetsUnion) */
} route_network_t;
#define ROUTE_NETWORK_COUNT 3

/*
 * A route's fee schedule, booked with every approved debit leg it carries
 * (docs/clearing.md, Fees; the 2016 Chinese bank card fee rules): an
 * issuer fee the origin pays the issuer, and a network fee each side pays
 * the network. Rates are in parts per million of the amount (35 basis
 * points = 3500 ppm, 3.25 bp = 325 ppm), caps in minor units (0: none),
 * so no fee is ever a float.
 */
#define ROUTE_FEE_PPM_MAX 100000      /* 10% */
#define ROUTE_FEE_CAP_MAX 100000000   /* 1,000,000.00 */

typedef struct route_fees {
	uint32_t issuer_ppm;
	int64_t issuer_cap;
	uint32_t network_ppm;
	int64_t network_cap;
} route_fees_t;

/* One fee: amount x ppm / 1e6 rounded half up, at most cap (when cap is
 * not 0). amount must be 0..999999999999. */
int64_t route_fee(int64_t amount, uint32_t ppm, int64_t cap);
/* Both fees of a schedule on an amount. */
void route_fees_of(const route_fees_t *fees, int64_t amount, int64_t *issuer,
		   int64_t *network);

/*
 * One route. Fixed size, no pointers: it is copied, never shared. Strings
 * are NUL-terminated and hold at most their *_MAX bytes.
 */
typedef struct route {
	char prefix[ROUTE_PREFIX_DIGITS_MAX + 1];    /* 1..19 digits */
	char endpoint[ROUTE_ENDPOINT_BYTES_MAX + 1]; /* outbound link name */
	/* Tried in order when the primary endpoint is down. */
	char alternates[ROUTE_ALTERNATES_MAX][ROUTE_ENDPOINT_BYTES_MAX + 1];
	char institution[ROUTE_INSTITUTION_DIGITS_MAX + 1]; /* "" = none */
	char note[ROUTE_NOTE_BYTES_MAX + 1];
	char changed_by[ROUTE_WHO_BYTES_MAX + 1]; /* set by the library */
	uint64_t changed_ms;                      /* wall ms, set by the library */
	uint8_t prefix_len;
	uint8_t alternate_count;
	route_network_t network;
	route_fees_t fees;                        /* zero: none */
	bool enabled;
} route_t;

/* An empty route with the defaults: enabled, network direct. */
void route_init(route_t *route);

/*
 * Field setters. Each validates its input and leaves the route unchanged
 * on failure. Lengths are in bytes; text need not be NUL-terminated.
 *   PS_EINVAL  the value is invalid; err names the field and why.
 *   PS_ELIMIT  route_add_alternate: already ROUTE_ALTERNATES_MAX.
 */
int route_set_prefix(route_t *route, const char *digits, size_t len,
		     route_error_t *err);
int route_set_endpoint(route_t *route, const char *name, size_t len,
		       route_error_t *err);
/* An alternate may not repeat the primary endpoint or another alternate. */
int route_add_alternate(route_t *route, const char *name, size_t len,
			route_error_t *err);
/* len 0 clears the institution (none). */
int route_set_institution(route_t *route, const char *digits, size_t len,
			  route_error_t *err);
int route_set_note(route_t *route, const char *text, size_t len,
		   route_error_t *err);
/* "direct", "unionpay" or "netclear". */
int route_set_network(route_t *route, const char *name, size_t len,
		      route_error_t *err);
/* Rates 0..ROUTE_FEE_PPM_MAX, caps 0..ROUTE_FEE_CAP_MAX. */
int route_set_fees(route_t *route, const route_fees_t *fees,
		   route_error_t *err);

/*
 * Checks every field of a route built by hand (not through the setters):
 * returns 0 or PS_EINVAL with err naming the first bad field.
 * changed_by and changed_ms are not checked: the library sets them.
 */
int route_validate(const route_t *route, route_error_t *err);

/* True when the two routes route alike: all fields but changed_by/_ms. */
bool route_same_content(const route_t *a, const route_t *b);

/* "direct", "unionpay", "netclear"; "?" for a value out of range. */
const char *route_network_name(route_network_t network);

/* True for [A-Za-z0-9_.-]{1,31}: a valid endpoint or alternate name. */
bool route_is_endpoint_name(const char *name, size_t len);

/*
 * The route as one compact JSON object (no newline), keys in this order:
 * prefix, endpoint, network, alternates, institution, enabled, note,
 * changed_by, changed_ms, then, when any is not zero, issuer_fee_ppm,
 * issuer_fee_cap, network_fee_ppm, network_fee_cap. The export format and
 * the audit format.
 *   PS_ENOSPC  cap too small (ROUTE_JSON_BYTES_MAX always suffices).
 *   PS_ENOMEM  the JSON library could not allocate.
 * *len (optional) gets the length without the NUL.
 */
int route_to_json(const route_t *route, char *out, size_t cap, size_t *len);

/*
 * Parses one route from JSON object text. prefix and endpoint are
 * required; network defaults to direct, alternates to [], institution to
 * none, enabled to true, note to "". changed_by and changed_ms are
 * accepted (an export imports back) and ignored. An unknown key is an
 * error, so a typo never passes silently.
 *   PS_EFORMAT  not one JSON object; err->reason has the parser's words.
 *   PS_EINVAL   a field is missing, of the wrong type or invalid.
 */
int route_from_json(const char *text, size_t len, route_t *out,
		    route_error_t *err);

/* ---- import reader: JSON lines or one JSON array ----------------------- */

/*
 * Reads routes one at a time from an import text, without LMDB: the
 * parser route_import() uses and the fuzz target drives. The format is
 * chosen by the first non-blank byte: '[' means one JSON array of route
 * objects; anything else means JSON lines (one object per line; blank
 * lines and lines starting with '#' are skipped). A UTF-8 byte order mark
 * is skipped. The text is borrowed for the reader's life.
 */
typedef struct route_reader {
	const char *data;
	size_t len;
	size_t pos;
	uint32_t line;    /* line the next scan starts on, 1-based */
	uint32_t record;  /* records returned so far */
	uint32_t record_line; /* line the last record returned starts on */
	int failed;       /* the code of the failure that stopped it, or 0 */
	bool array;       /* JSON array form */
	bool started;
	bool need_comma;  /* array form: an element was read */
	bool finished;
} route_reader_t;

void route_reader_init(route_reader_t *reader, const char *data, size_t len);

/*
 * Next route. On 0, *has says whether a route was read into *out (false at
 * the end of the input). On failure err->line and err->record locate the
 * bad record:
 *   PS_EFORMAT  not JSON, not an object, or a broken array.
 *   PS_EINVAL   a field is invalid (err->field names it).
 *   PS_ELIMIT   a record is longer than ROUTE_IMPORT_LINE_BYTES_MAX.
 * After a failure the reader stays failed.
 */
int route_reader_next(route_reader_t *reader, route_t *out, bool *has,
		      route_error_t *err);

/* ---- environment and table -------------------------------------------- */

/*
 * Opens the switch's LMDB environment in directory dir, creating the
 * directory (mode 0770 less umask) if it is missing, with the settings
 * every process that opens it must share: ROUTE_ENV_DBS_MAX named
 * databases, ROUTE_ENV_READERS_MAX readers, and a map of the larger of
 * map_bytes and the size the environment already records (map_bytes 0:
 * the recorded size, or ROUTE_ENV_MAP_BYTES_DEFAULT for a new
 * environment). A size raised here is recorded at the next commit; a
 * process that finds its map outgrown adopts the new size in
 * route_txn_begin(). MDB_NOTLS is always added, so a
 * thread may hold a read transaction while it writes. Stale reader slots
 * left by dead processes are cleared.
 *
 * flags: 0 or any of MDB_RDONLY (no directory is created), MDB_NOSYNC,
 * MDB_NOMETASYNC, MDB_MAPASYNC, MDB_WRITEMAP, MDB_NORDAHEAD,
 * MDB_NOMEMINIT. Whether commits are durable (no MDB_NOSYNC) is the
 * caller's choice: switchd takes it from its config, switchctl is always
 * durable. MDB_NOSUBDIR, MDB_NOLOCK and MDB_FIXEDMAP are refused: the
 * environment is a directory and is shared between processes.
 *
 * On success *out is the caller's; close it with mdb_env_close() after
 * every transaction on it has ended.
 *   PS_EINVAL    dir NULL or empty, or a refused flag.
 *   PS_ENOTFOUND MDB_RDONLY and no environment in dir.
 *   PS_EIO       the directory or LMDB failed (permissions, a file that
 *                is not LMDB, version mismatch); err->mdb_rc says which.
 * route_env_open() is the same call without err; it logs the cause.
 */
int route_env_open(const char *dir, size_t map_bytes, unsigned int flags,
		   MDB_env **out);
int route_env_open_err(const char *dir, size_t map_bytes, unsigned int flags,
		       MDB_env **out, route_error_t *err);

/*
 * mdb_txn_begin() that also adopts a map size grown by another process
 * (MDB_MAP_RESIZED) and retries once. Call it only when this process has
 * no other transaction active on env (LMDB's condition for resizing).
 *   PS_EIO  LMDB failed; PS_ELIMIT  the reader table is full.
 */
int route_txn_begin(MDB_env *env, MDB_txn *parent, unsigned int flags,
		    MDB_txn **out);

/* The table's database handles; valid as long as the environment is open. */
typedef struct route_table {
	MDB_env *env;
	MDB_dbi routes;
	MDB_dbi meta;
	MDB_dbi audit;
} route_table_t;

/*
 * Opens (creating if missing, unless the environment is read-only) the
 * routes, route_meta and audit databases in a transaction of its own, and
 * fills *out. Call it once per process at start-up, before any other
 * transaction of this thread is open (LMDB's rule for opening databases).
 *   PS_ENOTFOUND  read-only environment and the table was never created.
 *   PS_EIO        LMDB failed (err->mdb_rc).
 */
int route_table_open(MDB_env *env, route_table_t *out, route_error_t *err);

/* ---- reading: lookups, the version, iteration ------------------------- */

/*
 * The longest-prefix match for a PAN or account number: of the routes
 * whose prefix is a prefix of digits[0..len), the longest one decides,
 * whether it is enabled or not. A disabled route does NOT fall through to
 * a shorter one: operators disable a route to stop traffic to a bank, and
 * falling through would quietly send that traffic somewhere they did not
 * choose (often the same bank through a network). See docs/routing.md.
 *
 * txn: any transaction on the table's environment (read-only is usual).
 * The hot path: one meta read to learn which prefix lengths exist, then
 * one B-tree get per existing length from the longest down; no
 * allocation. For the allocation-free pattern keep one read transaction
 * and mdb_txn_reset() / mdb_txn_renew() it per message.
 *   0                *out is the matching enabled route (a copy).
 *   ROUTE_EDISABLED  *out is the matching route, which is disabled.
 *   PS_ENOTFOUND     no route matches (the switch answers 15).
 *   PS_EINVAL        len is 0 or over 19, or a byte is not a digit.
 *   PS_EFORMAT       a stored record is corrupt.
 *   PS_EIO           LMDB failed.
 */
int route_lookup(const route_table_t *table, MDB_txn *txn, const char *digits,
		 size_t len, route_t *out);

/*
 * Every route whose prefix is a prefix of digits, longest first, enabled
 * or not: out[0] is what route_lookup() decides, the rest are what it
 * shadows. For explaining a lookup (switchctl routes lookup). *count gets
 * the number written, at most cap (ROUTE_PREFIX_DIGITS_MAX always
 * suffices). Errors as route_lookup() but a miss is 0 with *count 0.
 */
int route_lookup_all(const route_table_t *table, MDB_txn *txn,
		     const char *digits, size_t len, route_t *out, size_t cap,
		     size_t *count);

/*
 * The route with exactly this prefix.
 *   PS_ENOTFOUND none; PS_EINVAL not 1..19 digits; PS_EFORMAT; PS_EIO.
 */
int route_get(const route_table_t *table, MDB_txn *txn, const char *prefix,
	      size_t len, route_t *out);

typedef struct route_table_info {
	/* Bumped by every change, in the change's transaction. A reader that
	 * caches anything about the table compares this. Starts at 0. */
	uint64_t version;
	uint32_t count;
	uint32_t count_by_length[ROUTE_PREFIX_DIGITS_MAX + 1]; /* [1..19] */
} route_table_info_t;

/* The version and counts as of txn's snapshot. No allocation.
 *   PS_EFORMAT the meta record is corrupt; PS_EIO LMDB failed. */
int route_table_info(const route_table_t *table, MDB_txn *txn,
		     route_table_info_t *out);

/*
 * Iterates routes in prefix order (byte order: "4" < "40" < "41" < "5"),
 * all of them or those whose prefix starts with under[0..under_len).
 * The iterator holds an LMDB cursor: close it before txn ends.
 */
typedef struct route_iter {
	MDB_cursor *cursor;
	char under[ROUTE_PREFIX_DIGITS_MAX + 1];
	size_t under_len;
	bool started;
	bool done;
} route_iter_t;

/* PS_EINVAL under is not 0..19 digits; PS_EIO LMDB failed. */
int route_iter_open(const route_table_t *table, MDB_txn *txn,
		    const char *under, size_t under_len, route_iter_t *it);
/* On 0, *has says whether *out got a route. PS_EFORMAT, PS_EIO. */
int route_iter_next(route_iter_t *it, route_t *out, bool *has);
void route_iter_close(route_iter_t *it);

/* ---- changing: every call writes its audit record in txn -------------- */

/* What a change did: the audit record's "what". */
typedef enum route_what {
	ROUTE_WHAT_ADD = 0,        /* a new prefix */
	ROUTE_WHAT_REPLACE,        /* an add over an existing prefix */
	ROUTE_WHAT_DELETE,
	ROUTE_WHAT_ENABLE,
	ROUTE_WHAT_DISABLE,
	ROUTE_WHAT_IMPORT,         /* one route added, changed or removed
				      by an import */
	ROUTE_WHAT_IMPORT_SUMMARY, /* one per import: counts in detail */
	ROUTE_WHAT_EXCEPTION_RESOLVE, /* not a route: an operator resolved one
					 of the switch's exceptions (detail) */
} route_what_t;
#define ROUTE_WHAT_COUNT 8

/* "add", "replace", "delete", "enable", "disable", "import",
 * "import_summary", "exception_resolve"; "?" out of range. */
const char *route_what_name(route_what_t what);
/* PS_EINVAL for an unknown name. */
int route_what_parse(const char *name, route_what_t *out);

/* Who makes a change and when (at_ms 0 means now, by the wall clock). */
typedef struct route_actor {
	const char *who; /* 1..63 bytes of printable UTF-8, e.g. "alice@host" */
	uint64_t at_ms;
} route_actor_t;

/*
 * One audit record. key_ms and seq are its key: key_ms is the change's
 * wall time, raised if needed so that keys never go backwards even if the
 * clock does (at_ms keeps the true wall time). before/after are the route
 * before and after the change; has_* false means "none" (null on disk).
 * version is the table version the change produced.
 */
typedef struct route_audit {
	uint64_t key_ms;
	uint32_t seq;
	uint64_t at_ms;
	uint64_t version;
	route_what_t what;
	char who[ROUTE_WHO_BYTES_MAX + 1];
	char prefix[ROUTE_PREFIX_DIGITS_MAX + 1]; /* "" for a summary */
	char detail[ROUTE_DETAIL_BYTES_MAX + 1];  /* a summary's counts, or a
						     note's text; else "" */
	bool has_before;
	bool has_after;
	route_t before;
	route_t after;
} route_audit_t;

/*
 * Inserts or replaces the route with route->prefix. The stored copy gets
 * changed_by and changed_ms from actor. txn must be a write transaction.
 * audit (optional) receives the audit record written (what is ADD or
 * REPLACE).
 *   PS_EINVAL  a field or actor->who is invalid (err names it).
 *   PS_ELIMIT  a new prefix would exceed ROUTE_COUNT_MAX, or the LMDB map
 *              is full (err->mdb_rc MDB_MAP_FULL).
 *   PS_EFORMAT a stored record is corrupt; PS_EIO LMDB failed.
 */
int route_put(const route_table_t *table, MDB_txn *txn,
	      const route_actor_t *actor, const route_t *route,
	      route_audit_t *audit, route_error_t *err);

/* Deletes the route with this exact prefix. PS_ENOTFOUND if none; else as
 * route_put(). */
int route_delete(const route_table_t *table, MDB_txn *txn,
		 const route_actor_t *actor, const char *prefix, size_t len,
		 route_audit_t *audit, route_error_t *err);

/*
 * Enables or disables the route with this exact prefix. The record is
 * written (and audited) even if the state does not change, so the log
 * shows every operator action. PS_ENOTFOUND if none; else as route_put().
 */
int route_set_enabled(const route_table_t *table, MDB_txn *txn,
		      const route_actor_t *actor, const char *prefix,
		      size_t len, bool enabled, route_audit_t *audit,
		      route_error_t *err);

#define ROUTE_IMPORT_REPLACE 0x1u /* the input becomes the whole table */

typedef struct route_import_stats {
	uint32_t records;   /* routes read from the input */
	uint32_t added;     /* prefixes that were not in the table */
	uint32_t replaced;  /* prefixes whose route changed */
	uint32_t unchanged; /* prefixes already routed alike: not rewritten */
	uint32_t deleted;   /* ROUTE_IMPORT_REPLACE: prefixes not in the input */
	uint64_t version;   /* the table version after the import */
} route_import_stats_t;

/*
 * Imports routes from data (route_reader_t formats) into txn, all or
 * nothing: the first bad record fails the call (err->line, err->record,
 * err->field) and the caller aborts txn, so nothing changes. Without
 * flags the input merges into the table (added or replaced per prefix);
 * with ROUTE_IMPORT_REPLACE the table becomes exactly the input. A prefix
 * twice in one input is an error. Each added, changed or removed route
 * gets an IMPORT audit record, then one IMPORT_SUMMARY record carries the
 * counts; unchanged routes are not rewritten. To validate without
 * changing anything (a dry run), abort txn after a successful call.
 *   PS_EFORMAT, PS_EINVAL, PS_ELIMIT  as route_reader_next(); PS_ELIMIT
 *              also for over ROUTE_IMPORT_BYTES_MAX of input, a table over
 *              ROUTE_COUNT_MAX, or a full map.
 *   PS_ENOMEM  the duplicate check could not allocate.
 *   PS_EIO     LMDB failed.
 */
int route_import(const route_table_t *table, MDB_txn *txn,
		 const route_actor_t *actor, const char *data, size_t len,
		 unsigned int flags, route_import_stats_t *stats,
		 route_error_t *err);

/* ---- the audit log ---------------------------------------------------- */

/*
 * The audit log is the switch's one log of operator actions: besides the
 * route changes above, an action on something else (what, such as
 * ROUTE_WHAT_EXCEPTION_RESOLVE) is recorded with route_audit_note(), its
 * detail saying what was done, in txn, so the action and its record
 * commit together. The record names no prefix and no route.
 *   PS_EINVAL  actor->who is invalid, what is a route change, or detail
 *              is longer than ROUTE_DETAIL_BYTES_MAX bytes (the caller
 *              cuts it, at a character boundary).
 *   PS_EIO     LMDB failed; PS_ENOMEM.
 */
int route_audit_note(const route_table_t *table, MDB_txn *txn,
		     const route_actor_t *actor, route_what_t what,
		     const char *detail, route_audit_t *audit,
		     route_error_t *err);

/*
 * The newest audit records whose key time is at or after since_ms (0: all
 * time), at most cap of them, oldest first in out[0..*count). So
 * "limit 20" is the last 20 changes, and "since yesterday, limit 20" the
 * last 20 changes since yesterday.
 *   PS_EFORMAT a record is corrupt; PS_EIO LMDB failed; PS_ENOMEM.
 */
int route_audit_list(const route_table_t *table, MDB_txn *txn,
		     uint64_t since_ms, route_audit_t *out, size_t cap,
		     size_t *count, route_error_t *err);

#endif /* PAYSWITCH_ROUTING_H */
