/*
 * route_change.c: changing the route table: add or replace, delete,
 * enable or disable, and import (merge or replace-all). Each change
 * updates the routes, bumps the meta record's version and counts, and
 * appends its audit record, all in the caller's write transaction, so
 * the three commit together or not at all.
 */
#include "routing_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_actor(const route_actor_t *actor, route_error_t *err)
{
	if (actor == NULL || actor->who == NULL ||
	    !route_is_who_text(actor->who, strlen(actor->who)))
		return route_fail(err, PS_EINVAL, "who",
				  "must be 1 to %d bytes of printable UTF-8",
				  ROUTE_WHO_BYTES_MAX);
	return 0;
}

static uint64_t actor_time(const route_actor_t *actor)
{
	return actor->at_ms != 0 ? actor->at_ms : ps_wall_ms();
}

/* The stored route for prefix, or PS_ENOTFOUND, with err filled. */
static int load_route(const route_table_t *table, MDB_txn *txn,
		      const char *prefix, size_t len, route_t *out,
		      route_error_t *err)
{
	int rc = route_get(table, txn, prefix, len, out);
	if (rc == PS_EINVAL)
		return route_fail(err, rc, "prefix", "must be 1 to %d digits",
				  ROUTE_PREFIX_DIGITS_MAX);
	if (rc == PS_ENOTFOUND)
		return route_fail(err, rc, "prefix", "no route for %.*s",
				  (int)len, prefix);
	if (rc == PS_EFORMAT)
		return route_fail(err, rc, "", "the route %.*s is corrupt",
				  (int)len, prefix);
	if (rc < 0)
		return route_fail(err, rc, "", "cannot read the route table");
	return 0;
}

static int store_route(const route_table_t *table, MDB_txn *txn,
		       const route_t *route, route_error_t *err)
{
	uint8_t buf[ROUTE_RECORD_BYTES_MAX];
	MDB_val key = {route->prefix_len, (void *)route->prefix};
	MDB_val value = {route_record_encode(route, buf), buf};
	int mrc = mdb_put(txn, table->routes, &key, &value, 0);
	if (mrc != 0)
		return route_fail_mdb(err, mrc, "writing a route");
	return 0;
}

static int remove_route(const route_table_t *table, MDB_txn *txn,
			const char *prefix, size_t len, route_error_t *err)
{
	MDB_val key = {len, (void *)prefix};
	int mrc = mdb_del(txn, table->routes, &key, NULL);
	if (mrc != 0)
		return route_fail_mdb(err, mrc, "deleting a route");
	return 0;
}

/* The copy that gets stored: the caller's fields, the actor's stamp, and
 * unused alternate slots cleared so equal routes encode alike. */
static void stamp(route_t *stored, const route_t *route,
		  const route_actor_t *actor, uint64_t at_ms)
{
	*stored = *route;
	for (unsigned i = stored->alternate_count; i < ROUTE_ALTERNATES_MAX; i++)
		memset(stored->alternates[i], 0, sizeof(stored->alternates[i]));
	ps_strlcpy(stored->changed_by, actor->who, sizeof(stored->changed_by));
	stored->changed_ms = at_ms;
}

int route_put(const route_table_t *table, MDB_txn *txn,
	      const route_actor_t *actor, const route_t *route,
	      route_audit_t *audit, route_error_t *err)
{
	int rc;
	if ((rc = route_validate(route, err)) < 0 ||
	    (rc = check_actor(actor, err)) < 0)
		return rc;
	route_table_info_t meta;
	if ((rc = route_meta_load(table, txn, &meta, err)) < 0)
		return rc;
	route_t before;
	rc = load_route(table, txn, route->prefix, route->prefix_len, &before,
			err);
	bool existed = rc == 0;
	if (rc < 0 && rc != PS_ENOTFOUND)
		return rc;
	if (!existed && meta.count >= ROUTE_COUNT_MAX)
		return route_fail(err, PS_ELIMIT, "prefix",
				  "the table already holds %d routes",
				  ROUTE_COUNT_MAX);
	uint64_t at_ms = actor_time(actor);
	route_t stored;
	stamp(&stored, route, actor, at_ms);
	if ((rc = store_route(table, txn, &stored, err)) < 0)
		return rc;
	if (!existed) {
		meta.count_by_length[stored.prefix_len]++;
		meta.count++;
	}
	meta.version++;
	if ((rc = route_meta_store(table, txn, &meta, err)) < 0)
		return rc;
	route_audit_writer_t writer = {0};
	return route_audit_append(table, txn, &writer, actor, at_ms,
				  existed ? ROUTE_WHAT_REPLACE : ROUTE_WHAT_ADD,
				  stored.prefix, existed ? &before : NULL,
				  &stored, meta.version, NULL, audit, err);
}

int route_delete(const route_table_t *table, MDB_txn *txn,
		 const route_actor_t *actor, const char *prefix, size_t len,
		 route_audit_t *audit, route_error_t *err)
{
	int rc;
	if ((rc = check_actor(actor, err)) < 0)
		return rc;
	route_table_info_t meta;
	route_t before;
	if ((rc = route_meta_load(table, txn, &meta, err)) < 0 ||
	    (rc = load_route(table, txn, prefix, len, &before, err)) < 0 ||
	    (rc = remove_route(table, txn, before.prefix, before.prefix_len,
			       err)) < 0)
		return rc;
	if (meta.count_by_length[before.prefix_len] == 0)
		return route_fail(err, PS_EFORMAT, "",
				  "the route meta counts are corrupt");
	meta.count_by_length[before.prefix_len]--;
	meta.count--;
	meta.version++;
	if ((rc = route_meta_store(table, txn, &meta, err)) < 0)
		return rc;
	route_audit_writer_t writer = {0};
	return route_audit_append(table, txn, &writer, actor, actor_time(actor),
				  ROUTE_WHAT_DELETE, before.prefix, &before,
				  NULL, meta.version, NULL, audit, err);
}

int route_set_enabled(const route_table_t *table, MDB_txn *txn,
		      const route_actor_t *actor, const char *prefix,
		      size_t len, bool enabled, route_audit_t *audit,
		      route_error_t *err)
{
	int rc;
	if ((rc = check_actor(actor, err)) < 0)
		return rc;
	route_table_info_t meta;
	route_t before;
	if ((rc = route_meta_load(table, txn, &meta, err)) < 0 ||
	    (rc = load_route(table, txn, prefix, len, &before, err)) < 0)
		return rc;
	uint64_t at_ms = actor_time(actor);
	route_t stored;
	stamp(&stored, &before, actor, at_ms);
	stored.enabled = enabled;
	if ((rc = store_route(table, txn, &stored, err)) < 0)
		return rc;
	meta.version++;
	if ((rc = route_meta_store(table, txn, &meta, err)) < 0)
		return rc;
	route_audit_writer_t writer = {0};
	return route_audit_append(table, txn, &writer, actor, at_ms,
				  enabled ? ROUTE_WHAT_ENABLE
					  : ROUTE_WHAT_DISABLE,
				  stored.prefix, &before, &stored,
				  meta.version, NULL, audit, err);
}

/* ---- import ----------------------------------------------------------- */

/*
 * The prefixes one import has seen, to refuse a prefix given twice and,
 * for a replace, to find what the input left out. Open addressing keyed
 * by (digits as a number, length): 19 digits fit in a u64. It grows by
 * doubling; the record count is bounded by ROUTE_COUNT_MAX, so it is too.
 */
typedef struct seen_entry {
	uint64_t value;
	uint32_t line;
	uint8_t len; /* 0: empty slot */
} seen_entry_t;

typedef struct seen_set {
	seen_entry_t *slots;
	size_t cap; /* a power of two */
	size_t used;
} seen_set_t;

static uint64_t digits_value(const char *digits, size_t len)
{
	uint64_t v = 0;
	for (size_t i = 0; i < len; i++)
		v = v * 10 + (uint64_t)(digits[i] - '0');
	return v;
}

static size_t seen_hash(uint64_t value, uint8_t len)
{
	uint64_t h = (value ^ ((uint64_t)len << 59)) * 0x9E3779B97F4A7C15ull;
	return (size_t)(h >> 17);
}

static seen_entry_t *seen_slot(seen_set_t *set, uint64_t value, uint8_t len)
{
	size_t i = seen_hash(value, len) & (set->cap - 1);
	while (set->slots[i].len != 0 &&
	       (set->slots[i].len != len || set->slots[i].value != value))
		i = (i + 1) & (set->cap - 1);
	return &set->slots[i];
}

static int seen_grow(seen_set_t *set)
{
	size_t cap = set->cap != 0 ? set->cap * 2 : 1024;
	seen_entry_t *old = set->slots;
	size_t old_cap = set->cap;
	set->slots = calloc(cap, sizeof(*set->slots));
	if (set->slots == NULL) {
		set->slots = old;
		return PS_ENOMEM;
	}
	set->cap = cap;
	for (size_t i = 0; i < old_cap; i++)
		if (old[i].len != 0)
			*seen_slot(set, old[i].value, old[i].len) = old[i];
	free(old);
	return 0;
}

/* Adds the prefix; *first_line gets 0, or the line it was first seen on. */
static int seen_add(seen_set_t *set, const char *prefix, size_t len,
		    uint32_t line, uint32_t *first_line)
{
	if ((set->used + 1) * 2 > set->cap && seen_grow(set) < 0)
		return PS_ENOMEM;
	uint64_t value = digits_value(prefix, len);
	seen_entry_t *e = seen_slot(set, value, (uint8_t)len);
	*first_line = e->len != 0 ? e->line : 0;
	if (e->len == 0) {
		e->value = value;
		e->len = (uint8_t)len;
		e->line = line;
		set->used++;
	}
	return 0;
}

static bool seen_has(seen_set_t *set, const char *prefix, size_t len)
{
	if (set->cap == 0)
		return false;
	return seen_slot(set, digits_value(prefix, len), (uint8_t)len)->len != 0;
}

typedef struct import_run {
	const route_table_t *table;
	MDB_txn *txn;
	const route_actor_t *actor;
	uint64_t at_ms;
	route_table_info_t meta;
	uint64_t version; /* the version this import's records carry */
	route_audit_writer_t writer;
	route_import_stats_t stats;
	seen_set_t seen;
} import_run_t;

/* One record of the input: skip it if it routes alike, else write it. */
static int import_one(import_run_t *run, const route_t *route, uint32_t line,
		      route_error_t *err)
{
	uint32_t first_line;
	if (seen_add(&run->seen, route->prefix, route->prefix_len, line,
		     &first_line) < 0)
		return route_fail(err, PS_ENOMEM, "", "out of memory");
	if (first_line != 0)
		return route_fail(err, PS_EINVAL, "prefix",
				  "%s appears twice (first on line %u)",
				  route->prefix, first_line);
	route_t before;
	int rc = load_route(run->table, run->txn, route->prefix,
			    route->prefix_len, &before, err);
	bool existed = rc == 0;
	if (rc < 0 && rc != PS_ENOTFOUND)
		return rc;
	if (existed && route_same_content(&before, route)) {
		run->stats.unchanged++;
		return 0;
	}
	if (!existed && run->meta.count >= ROUTE_COUNT_MAX)
		return route_fail(err, PS_ELIMIT, "prefix",
				  "the table would hold more than %d routes",
				  ROUTE_COUNT_MAX);
	route_t stored;
	stamp(&stored, route, run->actor, run->at_ms);
	if ((rc = store_route(run->table, run->txn, &stored, err)) < 0)
		return rc;
	if (existed) {
		run->stats.replaced++;
	} else {
		run->stats.added++;
		run->meta.count_by_length[stored.prefix_len]++;
		run->meta.count++;
	}
	return route_audit_append(run->table, run->txn, &run->writer,
				  run->actor, run->at_ms, ROUTE_WHAT_IMPORT,
				  stored.prefix, existed ? &before : NULL,
				  &stored, run->version, NULL, NULL, err);
}

/* Replace-all: delete every route the input did not name. */
static int import_prune(import_run_t *run, route_error_t *err)
{
	MDB_cursor *cursor;
	int mrc = mdb_cursor_open(run->txn, run->table->routes, &cursor);
	if (mrc != 0)
		return route_fail_mdb(err, mrc, "opening the route table");
	MDB_val key, value;
	int rc = 0;
	mrc = mdb_cursor_get(cursor, &key, &value, MDB_FIRST);
	while (mrc == 0) {
		route_t before;
		if (route_record_decode(key.mv_data, key.mv_size, value.mv_data,
					value.mv_size, &before) < 0) {
			rc = route_fail(err, PS_EFORMAT, "",
					"a stored route is corrupt");
			break;
		}
		if (seen_has(&run->seen, before.prefix, before.prefix_len)) {
			mrc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT);
			continue;
		}
		if ((mrc = mdb_cursor_del(cursor, 0)) != 0)
			break;
		run->stats.deleted++;
		run->meta.count_by_length[before.prefix_len]--;
		run->meta.count--;
		rc = route_audit_append(run->table, run->txn, &run->writer,
					run->actor, run->at_ms,
					ROUTE_WHAT_IMPORT, before.prefix,
					&before, NULL, run->version, NULL,
					NULL, err);
		if (rc < 0)
			break;
		/* Seek past the deleted key rather than rely on where a
		 * deletion leaves the cursor. */
		key.mv_size = before.prefix_len;
		key.mv_data = before.prefix;
		mrc = mdb_cursor_get(cursor, &key, &value, MDB_SET_RANGE);
	}
	mdb_cursor_close(cursor);
	if (rc < 0)
		return rc;
	if (mrc != 0 && mrc != MDB_NOTFOUND)
		return route_fail_mdb(err, mrc, "replacing the route table");
	return 0;
}

static int import_finish(import_run_t *run, bool replace, route_error_t *err)
{
	route_import_stats_t *s = &run->stats;
	bool changed = s->added + s->replaced + s->deleted > 0;
	if (changed)
		run->meta.version = run->version;
	s->version = run->meta.version;
	int rc = route_meta_store(run->table, run->txn, &run->meta, err);
	if (rc < 0)
		return rc;
	char detail[ROUTE_DETAIL_BYTES_MAX + 1];
	snprintf(detail, sizeof(detail),
		 "%s: %u records, %u added, %u replaced, %u deleted, %u unchanged",
		 replace ? "replace" : "merge", s->records, s->added,
		 s->replaced, s->deleted, s->unchanged);
	return route_audit_append(run->table, run->txn, &run->writer,
				  run->actor, run->at_ms,
				  ROUTE_WHAT_IMPORT_SUMMARY, "", NULL, NULL,
				  s->version, detail, NULL, err);
}

int route_import(const route_table_t *table, MDB_txn *txn,
		 const route_actor_t *actor, const char *data, size_t len,
		 unsigned int flags, route_import_stats_t *stats,
		 route_error_t *err)
{
	int rc;
	if ((rc = check_actor(actor, err)) < 0)
		return rc;
	if (len > ROUTE_IMPORT_BYTES_MAX)
		return route_fail(err, PS_ELIMIT, "",
				  "the input is over %zu MiB; split it",
				  ROUTE_IMPORT_BYTES_MAX >> 20);
	import_run_t run = {.table = table, .txn = txn, .actor = actor,
			    .at_ms = actor_time(actor)};
	if ((rc = route_meta_load(table, txn, &run.meta, err)) < 0)
		return rc;
	run.version = run.meta.version + 1;
	route_reader_t reader;
	route_reader_init(&reader, data, len);
	for (;;) {
		route_t route;
		bool has;
		rc = route_reader_next(&reader, &route, &has, err);
		if (rc < 0 || !has)
			break;
		run.stats.records++;
		rc = import_one(&run, &route, reader.record_line, err);
		if (rc < 0) {
			if (err != NULL) {
				err->record = reader.record;
				err->line = reader.record_line;
			}
			break;
		}
	}
	if (rc == 0 && (flags & ROUTE_IMPORT_REPLACE) != 0)
		rc = import_prune(&run, err);
	if (rc == 0)
		rc = import_finish(&run, (flags & ROUTE_IMPORT_REPLACE) != 0,
				   err);
	free(run.seen.slots);
	if (rc == 0 && stats != NULL)
		*stats = run.stats;
	return rc;
}

int route_audit_note(const route_table_t *table, MDB_txn *txn,
		     const route_actor_t *actor, route_what_t what,
		     const char *detail, route_audit_t *audit,
		     route_error_t *err)
{
	int rc;
	if ((rc = check_actor(actor, err)) < 0)
		return rc;
	if (what != ROUTE_WHAT_EXCEPTION_RESOLVE)
		return route_fail(err, PS_EINVAL, "", "a note records no route "
				  "change");
	if (detail == NULL || strlen(detail) > ROUTE_DETAIL_BYTES_MAX)
		return route_fail(err, PS_EINVAL, "detail", "1 to %d bytes",
				  ROUTE_DETAIL_BYTES_MAX);
	route_table_info_t meta;
	if ((rc = route_meta_load(table, txn, &meta, err)) < 0)
		return rc;
	route_audit_writer_t writer = {0};
	return route_audit_append(table, txn, &writer, actor, actor_time(actor),
				  what, "", NULL, NULL, meta.version, detail,
				  audit, err);
}
