/*
 * route_audit.c: the audit log of route changes, in the "audit" database.
 *
 * Key: 12 bytes, the change's time in wall milliseconds (u64) and a
 * sequence (u32), both big-endian so that LMDB's bytewise order is time
 * order. A key never goes backwards: when the clock reads earlier than the
 * last key (a clock step, or two changes in one millisecond), the new key
 * takes the last key's time and the next sequence. So the log's order is
 * the commit order, and "since T" is a cursor seek.
 *
 * Value: one JSON object, readable with mdb_dump:
 *   {"at_ms":..,"who":"alice@host","what":"replace","prefix":"622202",
 *    "before":{route}|null,"after":{route}|null,"version":7,"detail":".."}
 * The records are written by the change's own write transaction, so a
 * change and its record commit together or not at all.
 */
#include "routing_int.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

static void key_encode(uint8_t out[ROUTE_AUDIT_KEY_BYTES], uint64_t ms,
		       uint32_t seq)
{
	ps_be64_put(out, ms);
	ps_be32_put(out + 8, seq);
}

/* Reads the last key on disk, once per write transaction. */
static int writer_prime(const route_table_t *table, MDB_txn *txn,
			route_audit_writer_t *w, route_error_t *err)
{
	MDB_cursor *cursor;
	int mrc = mdb_cursor_open(txn, table->audit, &cursor);
	if (mrc != 0)
		return route_fail_mdb(err, mrc, "opening the audit log");
	MDB_val key, value;
	mrc = mdb_cursor_get(cursor, &key, &value, MDB_LAST);
	mdb_cursor_close(cursor);
	w->last_ms = 0;
	w->last_seq = 0;
	if (mrc == 0) {
		if (key.mv_size != ROUTE_AUDIT_KEY_BYTES)
			return route_fail(err, PS_EFORMAT, "",
					  "an audit key is corrupt");
		w->last_ms = ps_be64_get(key.mv_data);
		w->last_seq = ps_be32_get((const uint8_t *)key.mv_data + 8);
	} else if (mrc != MDB_NOTFOUND) {
		return route_fail_mdb(err, mrc, "reading the audit log");
	}
	w->primed = true;
	return 0;
}

static void writer_next(route_audit_writer_t *w, uint64_t now_ms,
			uint64_t *ms, uint32_t *seq)
{
	if (now_ms > w->last_ms) {
		w->last_ms = now_ms;
		w->last_seq = 0;
	} else if (w->last_seq == UINT32_MAX) {
		w->last_ms++;
		w->last_seq = 0;
	} else {
		w->last_seq++;
	}
	*ms = w->last_ms;
	*seq = w->last_seq;
}

static json_t *route_or_null(const route_t *route)
{
	return route != NULL ? route_json_new(route) : json_null();
}

int route_audit_append(const route_table_t *table, MDB_txn *txn,
		       route_audit_writer_t *writer,
		       const route_actor_t *actor, uint64_t at_ms,
		       route_what_t what, const char *prefix,
		       const route_t *before, const route_t *after,
		       uint64_t version, const char *detail,
		       route_audit_t *out, route_error_t *err)
{
	int rc;
	if (!writer->primed && (rc = writer_prime(table, txn, writer, err)) < 0)
		return rc;
	uint64_t key_ms;
	uint32_t seq;
	writer_next(writer, at_ms, &key_ms, &seq);

	json_t *obj = json_object();
	json_t *jb = route_or_null(before);
	json_t *ja = route_or_null(after);
	if (obj == NULL || jb == NULL || ja == NULL) {
		json_decref(obj);
		json_decref(jb);
		json_decref(ja);
		return route_fail(err, PS_ENOMEM, "", "out of memory");
	}
	json_object_set_new(obj, "at_ms", json_integer((json_int_t)at_ms));
	json_object_set_new(obj, "who", json_string(actor->who));
	json_object_set_new(obj, "what", json_string(route_what_name(what)));
	json_object_set_new(obj, "prefix", json_string(prefix));
	json_object_set_new(obj, "before", jb);
	json_object_set_new(obj, "after", ja);
	json_object_set_new(obj, "version", json_integer((json_int_t)version));
	if (detail != NULL && detail[0] != '\0')
		json_object_set_new(obj, "detail", json_string(detail));
	char *text = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(obj);
	if (text == NULL)
		return route_fail(err, PS_ENOMEM, "", "out of memory");

	uint8_t kbuf[ROUTE_AUDIT_KEY_BYTES];
	key_encode(kbuf, key_ms, seq);
	MDB_val key = {sizeof(kbuf), kbuf};
	MDB_val value = {strlen(text), text};
	/* Keys only grow, so appending skips the B-tree search. */
	int mrc = mdb_put(txn, table->audit, &key, &value, MDB_APPEND);
	free(text);
	if (mrc != 0)
		return route_fail_mdb(err, mrc, "writing the audit log");

	if (out != NULL) {
		memset(out, 0, sizeof(*out));
		out->key_ms = key_ms;
		out->seq = seq;
		out->at_ms = at_ms;
		out->version = version;
		out->what = what;
		ps_strlcpy(out->who, actor->who, sizeof(out->who));
		ps_strlcpy(out->prefix, prefix, sizeof(out->prefix));
		if (detail != NULL)
			ps_strlcpy(out->detail, detail, sizeof(out->detail));
		out->has_before = before != NULL;
		if (before != NULL)
			out->before = *before;
		out->has_after = after != NULL;
		if (after != NULL)
			out->after = *after;
	}
	return 0;
}

/* ---- reading ---------------------------------------------------------- */

static int read_side(json_t *obj, const char *name, bool *has, route_t *out,
		     route_error_t *err)
{
	json_t *value = json_object_get(obj, name);
	*has = false;
	if (value == NULL || json_is_null(value))
		return 0;
	if (!json_is_object(value))
		return route_fail(err, PS_EFORMAT, name,
				  "an audit record's %s is not an object",
				  name);
	int rc = route_json_read(value, true, out, err);
	if (rc < 0)
		return route_fail(err, PS_EFORMAT, name,
				  "an audit record's %s is not a route", name);
	*has = true;
	return 0;
}

static const char *text_or_empty(json_t *obj, const char *name)
{
	const char *s = json_string_value(json_object_get(obj, name));
	return s != NULL ? s : "";
}

static int audit_decode(const MDB_val *key, const MDB_val *value,
			route_audit_t *out, route_error_t *err)
{
	if (key->mv_size != ROUTE_AUDIT_KEY_BYTES)
		return route_fail(err, PS_EFORMAT, "", "an audit key is corrupt");
	memset(out, 0, sizeof(*out));
	out->key_ms = ps_be64_get(key->mv_data);
	out->seq = ps_be32_get((const uint8_t *)key->mv_data + 8);
	json_error_t jerr;
	json_t *obj = json_loadb(value->mv_data, value->mv_size, 0, &jerr);
	if (obj == NULL || !json_is_object(obj)) {
		json_decref(obj);
		return route_fail(err, PS_EFORMAT, "",
				  "an audit record is not a JSON object");
	}
	int rc = 0;
	json_t *at = json_object_get(obj, "at_ms");
	json_t *version = json_object_get(obj, "version");
	if (!json_is_integer(at) || !json_is_integer(version) ||
	    route_what_parse(text_or_empty(obj, "what"), &out->what) < 0) {
		rc = route_fail(err, PS_EFORMAT, "",
				"an audit record lacks at_ms, version or what");
		goto done;
	}
	out->at_ms = (uint64_t)json_integer_value(at);
	out->version = (uint64_t)json_integer_value(version);
	ps_strlcpy(out->who, text_or_empty(obj, "who"), sizeof(out->who));
	ps_strlcpy(out->prefix, text_or_empty(obj, "prefix"),
		   sizeof(out->prefix));
	ps_strlcpy(out->detail, text_or_empty(obj, "detail"),
		   sizeof(out->detail));
	if ((rc = read_side(obj, "before", &out->has_before, &out->before,
			    err)) < 0)
		goto done;
	rc = read_side(obj, "after", &out->has_after, &out->after, err);
done:
	json_decref(obj);
	return rc;
}

int route_audit_list(const route_table_t *table, MDB_txn *txn,
		     uint64_t since_ms, route_audit_t *out, size_t cap,
		     size_t *count, route_error_t *err)
{
	*count = 0;
	MDB_cursor *cursor;
	int mrc = mdb_cursor_open(txn, table->audit, &cursor);
	if (mrc != 0)
		return route_fail_mdb(err, mrc, "opening the audit log");
	/* Newest first from the end, then reversed into time order. */
	MDB_val key, value;
	int rc = 0;
	size_t n = 0;
	mrc = mdb_cursor_get(cursor, &key, &value, MDB_LAST);
	while (mrc == 0 && n < cap) {
		if (key.mv_size == ROUTE_AUDIT_KEY_BYTES &&
		    ps_be64_get(key.mv_data) < since_ms)
			break;
		rc = audit_decode(&key, &value, &out[n], err);
		if (rc < 0)
			break;
		n++;
		mrc = mdb_cursor_get(cursor, &key, &value, MDB_PREV);
	}
	mdb_cursor_close(cursor);
	if (rc < 0)
		return rc;
	if (mrc != 0 && mrc != MDB_NOTFOUND)
		return route_fail_mdb(err, mrc, "reading the audit log");
	for (size_t i = 0; i < n / 2; i++) {
		route_audit_t tmp = out[i];
		out[i] = out[n - 1 - i];
		out[n - 1 - i] = tmp;
	}
	*count = n;
	return 0;
}
