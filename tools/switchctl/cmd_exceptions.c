/*
 * cmd_exceptions.c: switchctl exceptions ...: what switchd could not finish
 * by itself and an operator must, offline in the switch's LMDB environment.
 *
 *   switchctl exceptions [list] [--all] [--limit N]
 *   switchctl exceptions resolve ID --note TEXT
 *
 * An exception (switch/store.h) is a reversal or completion advice the
 * switch gave up on, or a completion the bank can no longer post. switchd
 * writes each as one JSON object (switch/saf.c, raise_exception) under its
 * 8-byte big-endian id in the "exceptions" database. Resolving moves it to
 * "exceptions_resolved" with resolved_ms, resolved_by and note added and
 * appends an audit record (routing.h, route_audit_note), in one write
 * transaction: the resolution and its record commit together or not at all.
 *
 * The objects are switchd's: this file reads the members it shows and
 * passes every member through untouched, so a member a later switchd
 * adds survives a resolution.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "switchctl.h"

/* The names switch/store.c opens the databases with. */
#define SC_DB_EXCEPTIONS "exceptions"
#define SC_DB_EXCEPTIONS_RESOLVED "exceptions_resolved"
#define SC_EXCEPTION_KEY_BYTES 8
#define SC_EXCEPTION_NOTE_BYTES_MAX 255
#define SC_EXCEPTIONS_LIMIT_DEFAULT 100
#define SC_EXCEPTIONS_LIMIT_MAX 10000
/* A member as raise_exception writes it fits its whole record: 1 KiB. */
#define SC_EXCEPTION_TEXT_BYTES_MAX 1200

/* ---- the stored records ------------------------------------------------ */

/*
 * Opens the named database in txn without creating it, so that reading
 * never changes the environment: *found is false (and the result 0) when
 * switchd never made it. Returns an exit code.
 */
static int open_db(sc_ctx_t *ctx, MDB_txn *txn, const char *name,
		   MDB_dbi *dbi, bool *found)
{
	int mrc = mdb_dbi_open(txn, name, 0, dbi);
	*found = mrc == 0;
	if (mrc == 0 || mrc == MDB_NOTFOUND)
		return SC_EXIT_OK;
	return sc_fail(ctx, SC_EXIT_IO, "cannot open the %s database: %s", name,
		       mdb_strerror(mrc));
}

/* The stored value as a new JSON object whose id is its key's; NULL when
 * the record is corrupt. The value is copied: it may be borrowed. */
static json_t *decode(const MDB_val *key, const MDB_val *value)
{
	if (key->mv_size != SC_EXCEPTION_KEY_BYTES)
		return NULL;
	json_t *obj = json_loadb(value->mv_data, value->mv_size, 0, NULL);
	json_t *id = json_object_get(obj, "id");
	if (!json_is_integer(id) || (uint64_t)json_integer_value(id) !=
					    ps_be64_get(key->mv_data)) {
		json_decref(obj);
		return NULL;
	}
	return obj;
}

static void corrupt_text(const char *db, const MDB_val *key, char *out,
			 size_t cap)
{
	if (key->mv_size != SC_EXCEPTION_KEY_BYTES)
		snprintf(out, cap, "%s: a key of %zu bytes is corrupt", db,
			 key->mv_size);
	else
		snprintf(out, cap, "%s: the record of exception %llu is corrupt "
			 "(not a JSON object with its id)", db,
			 (unsigned long long)ps_be64_get(key->mv_data));
}

static int corrupt(sc_ctx_t *ctx, const char *db, const MDB_val *key)
{
	char message[160];
	corrupt_text(db, key, message, sizeof(message));
	return sc_fail(ctx, SC_EXIT_IO, "%s", message);
}

static const char *member_text(json_t *obj, const char *name)
{
	const char *s = json_string_value(json_object_get(obj, name));
	return s != NULL ? s : "";
}

static long long member_int(json_t *obj, const char *name)
{
	return (long long)json_integer_value(json_object_get(obj, name));
}

/* "4321 fen": minor units, as the banks' ledgers and the JSON keep them,
 * so the figure is the one the bank's records show. */
static void format_amount(json_t *obj, char *out, size_t cap)
{
	const char *currency = member_text(obj, "currency");
	if (strcmp(currency, "CNY") == 0)
		snprintf(out, cap, "%lld fen", member_int(obj, "amount"));
	else
		snprintf(out, cap, "%lld minor units%s%s", member_int(obj, "amount"),
			 currency[0] != '\0' ? " " : "", currency);
}

/* "reversal of txn 43 leg 0 at bank_a, 4321 fen" */
static void describe(json_t *obj, char *out, size_t cap)
{
	char amount[64];
	format_amount(obj, amount, sizeof(amount));
	snprintf(out, cap, "%s of txn %lld leg %lld at %s, %s", member_text(obj, "kind"),
		 member_int(obj, "txn"), member_int(obj, "leg"), member_text(obj, "endpoint"),
		 amount);
}

static void format_ms(json_t *obj, const char *name, char *out, size_t cap)
{
	sc_format_time((uint64_t)member_int(obj, name), false, out, cap);
}

/* ---- list -------------------------------------------------------------- */

/* One database read in key order; never has anything when it does not
 * exist. */
typedef struct source {
	const char *db;
	bool resolved;
	MDB_cursor *cursor;
	MDB_val key, value;
	bool has;
} source_t;

static int source_step(sc_ctx_t *ctx, source_t *s, MDB_cursor_op op)
{
	int mrc = mdb_cursor_get(s->cursor, &s->key, &s->value, op);
	s->has = mrc == 0;
	if (mrc == 0 || mrc == MDB_NOTFOUND)
		return SC_EXIT_OK;
	return sc_fail(ctx, SC_EXIT_IO, "cannot read the %s database: %s",
		       s->db, mdb_strerror(mrc));
}

static int source_open(sc_ctx_t *ctx, MDB_txn *txn, source_t *s)
{
	MDB_dbi dbi;
	bool found;
	int rc = open_db(ctx, txn, s->db, &dbi, &found);
	if (rc != SC_EXIT_OK || !found)
		return rc;
	int mrc = mdb_cursor_open(txn, dbi, &s->cursor);
	if (mrc != 0)
		return sc_fail(ctx, SC_EXIT_IO, "cannot read the %s database: %s",
			       s->db, mdb_strerror(mrc));
	return source_step(ctx, s, MDB_FIRST);
}

static void source_close(source_t *s)
{
	if (s->cursor != NULL)
		mdb_cursor_close(s->cursor);
	s->cursor = NULL;
}

/* Of the two, the one with the lower id next; the open one on a tie (an
 * id switchd raised again after it was resolved). NULL at the end. */
static source_t *source_pick(source_t *open, source_t *resolved)
{
	if (!open->has || !resolved->has)
		return open->has ? open : resolved->has ? resolved : NULL;
	size_t n = PS_MIN(open->key.mv_size, resolved->key.mv_size);
	int c = memcmp(open->key.mv_data, resolved->key.mv_data, n);
	if (c == 0)
		c = open->key.mv_size <= resolved->key.mv_size ? -1 : 1;
	return c < 0 ? open : resolved;
}

typedef struct listing {
	bool all;
	size_t limit;
	sc_table_t *table; /* NULL with --json */
	size_t open;
	size_t resolved;
	size_t corrupt;    /* records skipped, each named on stderr */
	bool more;         /* stopped at the limit with records left */
} listing_t;

static void add_row(listing_t *l, json_t *obj, bool resolved)
{
	char id[24], raised[32], amount[64], attempts[16], at[32] = "-";
	snprintf(id, sizeof(id), "%lld", member_int(obj, "id"));
	format_ms(obj, "at_ms", raised, sizeof(raised));
	format_amount(obj, amount, sizeof(amount));
	snprintf(attempts, sizeof(attempts), "%lld", member_int(obj, "attempts"));
	const char *account = member_text(obj, "account");
	if (!l->all) {
		const char *row[] = {id, raised, member_text(obj, "kind"),
				     member_text(obj, "endpoint"),
				     account[0] ? account : "-", amount,
				     attempts, member_text(obj, "why")};
		sc_table_add(l->table, row);
		return;
	}
	if (resolved)
		format_ms(obj, "resolved_ms", at, sizeof(at));
	const char *row[] = {id, resolved ? "resolved" : "open", raised,
			     member_text(obj, "kind"), member_text(obj, "endpoint"),
			     account[0] ? account : "-", amount, attempts, at,
			     resolved ? member_text(obj, "resolved_by") : "-",
			     member_text(obj, "why"), resolved ? member_text(obj, "note") : "-"};
	sc_table_add(l->table, row);
}

/* Walks the open exceptions, and with --all the resolved ones beside
 * them, in id order, up to the limit. A corrupt record is named and
 * skipped, so that it hides none of the others. */
static int list_records(sc_ctx_t *ctx, MDB_txn *txn, listing_t *l)
{
	source_t open = {.db = SC_DB_EXCEPTIONS};
	source_t resolved = {.db = SC_DB_EXCEPTIONS_RESOLVED, .resolved = true};
	int rc = source_open(ctx, txn, &open);
	if (rc == SC_EXIT_OK && l->all)
		rc = source_open(ctx, txn, &resolved);
	source_t *s;
	while (rc == SC_EXIT_OK && (s = source_pick(&open, &resolved)) != NULL) {
		if (l->open + l->resolved == l->limit) {
			l->more = true;
			break;
		}
		json_t *obj = decode(&s->key, &s->value);
		if (obj == NULL) {
			char message[160];
			corrupt_text(s->db, &s->key, message, sizeof(message));
			fprintf(stderr, "switchctl: %s\n", message);
			l->corrupt++;
			rc = source_step(ctx, s, MDB_NEXT);
			continue;
		}
		*(s->resolved ? &l->resolved : &l->open) += 1;
		if (l->table != NULL) {
			add_row(l, obj, s->resolved);
			json_decref(obj);
		} else {
			sc_print_json(obj);
		}
		rc = source_step(ctx, s, MDB_NEXT);
	}
	source_close(&open);
	source_close(&resolved);
	return rc;
}

static void print_summary(const listing_t *l)
{
	if (l->all)
		printf("%zu open, %zu resolved", l->open, l->resolved);
	else
		printf("%zu open exception%s", l->open, l->open == 1 ? "" : "s");
	printf("%s\n", l->more ? ", and more (raise --limit)" : "");
}

static int parse_list(sc_ctx_t *ctx, int argc, char **argv, listing_t *l)
{
	for (int i = 0; i < argc;) {
		int rc = sc_global_option(ctx, argc, argv, &i);
		if (rc < 0)
			return -rc;
		if (rc > 0)
			continue;
		const char *arg = argv[i++];
		const char *value = NULL;
		if (strcmp(arg, "--all") == 0) {
			l->all = true;
			continue;
		}
		if (strncmp(arg, "--limit=", 8) == 0) {
			value = arg + 8;
		} else if (strcmp(arg, "--limit") == 0) {
			if (i >= argc)
				return sc_fail(ctx, SC_EXIT_USAGE, "--limit needs a value");
			value = argv[i++];
		} else {
			return sc_fail(ctx, SC_EXIT_USAGE,
				       "exceptions: unexpected \"%s\" (try exceptions help)",
				       arg);
		}
		uint64_t n;
		if (ps_parse_u64(value, strlen(value), &n) != 0 || n == 0 ||
		    n > SC_EXCEPTIONS_LIMIT_MAX)
			return sc_fail(ctx, SC_EXIT_USAGE, "--limit: 1 to %d",
				       SC_EXCEPTIONS_LIMIT_MAX);
		l->limit = (size_t)n;
	}
	return SC_EXIT_OK;
}

static int exceptions_list(sc_ctx_t *ctx, int argc, char **argv)
{
	listing_t l = {.limit = SC_EXCEPTIONS_LIMIT_DEFAULT};
	int rc = parse_list(ctx, argc, argv, &l);
	if (rc != SC_EXIT_OK)
		return rc;
	if ((rc = sc_open_store(ctx, false)) != SC_EXIT_OK)
		return rc;
	MDB_txn *txn;
	if ((rc = sc_begin(ctx, false, &txn)) != SC_EXIT_OK)
		return rc;
	if (!ctx->json) {
		static const char *const open_headers[] = {
			"ID", "RAISED", "KIND", "ENDPOINT", "ACCOUNT", "AMOUNT",
			"ATTEMPTS", "WHY"};
		static const char *const all_headers[] = {
			"ID", "STATE", "RAISED", "KIND", "ENDPOINT", "ACCOUNT",
			"AMOUNT", "ATTEMPTS", "RESOLVED", "BY", "WHY", "NOTE"};
		l.table = l.all ? sc_table_new(PS_ARRAY_LEN(all_headers),
					       all_headers)
				: sc_table_new(PS_ARRAY_LEN(open_headers),
					       open_headers);
	}
	rc = list_records(ctx, txn, &l);
	mdb_txn_abort(txn);
	if (l.table != NULL) {
		if (rc == SC_EXIT_OK) {
			sc_table_print(l.table, stdout);
			print_summary(&l);
		}
		sc_table_free(l.table);
	} else if (rc == SC_EXIT_OK && l.more) {
		/* JSON lines carry no summary: say it where a script's
		 * operator sees it. */
		fprintf(stderr, "switchctl: more exceptions follow (raise --limit)\n");
	}
	if (rc == SC_EXIT_OK && l.corrupt > 0)
		rc = sc_fail(ctx, SC_EXIT_IO, "exceptions: %zu corrupt record%s "
			     "skipped", l.corrupt, l.corrupt == 1 ? "" : "s");
	return rc;
}

/* ---- resolve ------------------------------------------------------------ */

/*
 * Printable UTF-8 of 1..255 bytes: no C0 or C1 control characters and no
 * DEL, because a note with a newline or an escape sequence would break the
 * table output and the audit log that quote it.
 */
static bool is_note_text(const char *note)
{
	size_t len = strlen(note);
	if (len == 0 || len > SC_EXCEPTION_NOTE_BYTES_MAX)
		return false;
	/* Jansson refuses what is not UTF-8 (overlong forms, surrogates). */
	json_t *probe = json_stringn(note, len);
	if (probe == NULL)
		return false;
	json_decref(probe);
	const unsigned char *p = (const unsigned char *)note;
	for (size_t i = 0; i < len; i++) {
		if (p[i] < 0x20 || p[i] == 0x7F)
			return false;
		/* U+0080..U+009F are C2 80..C2 9F. */
		if (p[i] == 0xC2 && p[i + 1] >= 0x80 && p[i + 1] <= 0x9F)
			return false;
	}
	return true;
}

static int parse_resolve(sc_ctx_t *ctx, int argc, char **argv, uint64_t *id,
			 const char **note)
{
	const char *id_text = NULL;
	*note = NULL;
	for (int i = 0; i < argc;) {
		int rc = sc_global_option(ctx, argc, argv, &i);
		if (rc < 0)
			return -rc;
		if (rc > 0)
			continue;
		const char *arg = argv[i++];
		if (strncmp(arg, "--note=", 7) == 0) {
			*note = arg + 7;
		} else if (strcmp(arg, "--note") == 0) {
			if (i >= argc)
				return sc_fail(ctx, SC_EXIT_USAGE, "--note needs a value");
			*note = argv[i++];
		} else if (arg[0] != '-' && id_text == NULL) {
			id_text = arg;
		} else {
			return sc_fail(ctx, SC_EXIT_USAGE,
				       "exceptions resolve: unexpected \"%s\" "
				       "(exceptions resolve ID --note TEXT)",
				       arg);
		}
	}
	if (id_text == NULL)
		return sc_fail(ctx, SC_EXIT_USAGE,
			       "exceptions resolve: which exception? "
			       "(exceptions resolve ID --note TEXT)");
	if (*note == NULL)
		return sc_fail(ctx, SC_EXIT_USAGE,
			       "exceptions resolve: --note TEXT is required: say "
			       "how it was reconciled with the bank");
	if (ps_parse_u64(id_text, strlen(id_text), id) != 0 || *id == 0)
		return sc_fail(ctx, SC_EXIT_REJECTED,
			       "exceptions resolve: \"%s\" is not an exception id "
			       "(a number, as exceptions lists it)",
			       id_text);
	if (!is_note_text(*note))
		return sc_fail(ctx, SC_EXIT_REJECTED,
			       "exceptions resolve: --note: 1 to %d bytes of UTF-8 "
			       "without control characters",
			       SC_EXCEPTION_NOTE_BYTES_MAX);
	return SC_EXIT_OK;
}

/* The exception is not open: says whether it was resolved, by whom and
 * when, or never raised. Returns SC_EXIT_REJECTED or a storage failure. */
static int not_open(sc_ctx_t *ctx, MDB_txn *txn, uint64_t id, MDB_val *key)
{
	MDB_dbi dbi;
	bool found;
	int rc = open_db(ctx, txn, SC_DB_EXCEPTIONS_RESOLVED, &dbi, &found);
	if (rc != SC_EXIT_OK)
		return rc;
	MDB_val value;
	int mrc = found ? mdb_get(txn, dbi, key, &value) : MDB_NOTFOUND;
	if (mrc == MDB_NOTFOUND)
		return sc_fail(ctx, SC_EXIT_REJECTED,
			       "exceptions resolve: no such exception %llu, open "
			       "or resolved",
			       (unsigned long long)id);
	if (mrc != 0)
		return sc_fail(ctx, SC_EXIT_IO, "cannot read the %s database: %s",
			       SC_DB_EXCEPTIONS_RESOLVED, mdb_strerror(mrc));
	json_t *obj = decode(key, &value);
	if (obj == NULL)
		return corrupt(ctx, SC_DB_EXCEPTIONS_RESOLVED, key);
	char at[32];
	format_ms(obj, "resolved_ms", at, sizeof(at));
	rc = sc_fail(ctx, SC_EXIT_REJECTED,
		     "exceptions resolve: exception %llu is not open: already "
		     "resolved by %s at %s: %s",
		     (unsigned long long)id, member_text(obj, "resolved_by"), at,
		     member_text(obj, "note"));
	json_decref(obj);
	return rc;
}

/* Cuts text to at most max bytes (max > 3) at a character boundary,
 * marking the cut with "...". */
static void cut_utf8(char *text, size_t max)
{
	if (strlen(text) <= max)
		return;
	size_t end = max - 3;
	while (end > 0 && ((unsigned char)text[end] & 0xC0) == 0x80)
		end--;
	memcpy(text + end, "...", 4);
}

/* "exception 47 (reversal of txn 43 leg 0 at bank_a, 4321 fen): NOTE",
 * cut to the audit's bound; the whole note is in the resolved record. */
static void audit_detail(uint64_t id, json_t *obj, const char *note,
			 char out[ROUTE_DETAIL_BYTES_MAX + 1])
{
	char what[SC_EXCEPTION_TEXT_BYTES_MAX];
	char full[SC_EXCEPTION_TEXT_BYTES_MAX + SC_EXCEPTION_NOTE_BYTES_MAX + 32];
	describe(obj, what, sizeof(what));
	snprintf(full, sizeof(full), "exception %llu (%s): %s",
		 (unsigned long long)id, what, note);
	cut_utf8(full, ROUTE_DETAIL_BYTES_MAX);
	ps_strlcpy(out, full, ROUTE_DETAIL_BYTES_MAX + 1);
}

/* The open record gets who, when and why it was resolved. */
static int stamp(sc_ctx_t *ctx, json_t *obj, uint64_t now_ms,
		 const char *note)
{
	json_t *who = json_string(ctx->who);
	if (who == NULL)
		return sc_fail(ctx, SC_EXIT_REJECTED,
			       "--who: must be UTF-8 text");
	if (json_object_set_new(obj, "resolved_ms",
				json_integer((json_int_t)now_ms)) != 0 ||
	    json_object_set_new(obj, "resolved_by", who) != 0 ||
	    json_object_set_new(obj, "note", json_string(note)) != 0)
		return sc_fail(ctx, SC_EXIT_IO, "exceptions resolve: out of memory");
	return SC_EXIT_OK;
}

/* Moves exception id from open to resolved in txn and audits it; *out
 * gets the resolved record. Returns an exit code; on failure abort txn. */
static int resolve_in(sc_ctx_t *ctx, MDB_txn *txn, uint64_t id,
		      const char *note, json_t **out)
{
	uint8_t kbuf[SC_EXCEPTION_KEY_BYTES];
	ps_be64_put(kbuf, id);
	MDB_val key = {sizeof(kbuf), kbuf}, value;
	MDB_dbi open_dbi, resolved_dbi;
	bool found;
	int rc = open_db(ctx, txn, SC_DB_EXCEPTIONS, &open_dbi, &found);
	if (rc != SC_EXIT_OK)
		return rc;
	int mrc = found ? mdb_get(txn, open_dbi, &key, &value) : MDB_NOTFOUND;
	if (mrc == MDB_NOTFOUND)
		return not_open(ctx, txn, id, &key);
	if (mrc != 0)
		return sc_fail(ctx, SC_EXIT_IO, "cannot read the %s database: %s",
			       SC_DB_EXCEPTIONS, mdb_strerror(mrc));
	/* Copied out before any write moves the page it points into. */
	json_t *obj = decode(&key, &value);
	if (obj == NULL)
		return corrupt(ctx, SC_DB_EXCEPTIONS, &key);
	uint64_t now_ms = ps_wall_ms();
	char detail[ROUTE_DETAIL_BYTES_MAX + 1];
	audit_detail(id, obj, note, detail);
	char *text_out = NULL;
	if ((rc = stamp(ctx, obj, now_ms, note)) != SC_EXIT_OK)
		goto free_record;
	text_out = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (text_out == NULL) {
		rc = sc_fail(ctx, SC_EXIT_IO, "exceptions resolve: out of memory");
		goto free_record;
	}
	value.mv_size = strlen(text_out);
	value.mv_data = text_out;
	/* Created on the first resolution. An id switchd raised again after
	 * it was resolved replaces the old resolution here; the audit log
	 * keeps both. */
	mrc = mdb_dbi_open(txn, SC_DB_EXCEPTIONS_RESOLVED, MDB_CREATE,
			   &resolved_dbi);
	if (mrc == 0)
		mrc = mdb_put(txn, resolved_dbi, &key, &value, 0);
	if (mrc == 0)
		mrc = mdb_del(txn, open_dbi, &key, NULL);
	if (mrc != 0) {
		rc = sc_fail(ctx, SC_EXIT_IO, "exceptions resolve: cannot write: %s",
			     mdb_strerror(mrc));
		goto free_record;
	}
	route_actor_t actor = {ctx->who, now_ms};
	route_error_t err = {0};
	if (route_audit_note(&ctx->table, txn, &actor,
			     ROUTE_WHAT_EXCEPTION_RESOLVE, detail, NULL,
			     &err) < 0) {
		rc = sc_fail_route(ctx, "exceptions resolve: the audit record",
				   &err);
		goto free_record;
	}
	free(text_out);
	*out = obj;
	return SC_EXIT_OK;
free_record:
	free(text_out);
	json_decref(obj);
	return rc;
}

static void print_resolved(sc_ctx_t *ctx, json_t *obj)
{
	if (ctx->json) {
		json_object_set_new(obj, "ok", json_true());
		sc_print_json(json_incref(obj));
		return;
	}
	char what[SC_EXCEPTION_TEXT_BYTES_MAX], raised[32], at[32];
	describe(obj, what, sizeof(what));
	format_ms(obj, "at_ms", raised, sizeof(raised));
	format_ms(obj, "resolved_ms", at, sizeof(at));
	printf("resolved exception %lld: %s\n", member_int(obj, "id"), what);
	printf("  account %s, the original: STAN %lld sent %s, RRN %s; raised %s: %s\n",
	       member_text(obj, "account"), member_int(obj, "original_stan"),
	       member_text(obj, "original_transmit"), member_text(obj, "rrn"),
	       raised, member_text(obj, "why"));
	printf("  by %s at %s: %s\n", member_text(obj, "resolved_by"), at,
	       member_text(obj, "note"));
}

static int exceptions_resolve(sc_ctx_t *ctx, int argc, char **argv)
{
	uint64_t id;
	const char *note;
	int rc = parse_resolve(ctx, argc, argv, &id, &note);
	if (rc != SC_EXIT_OK)
		return rc;
	/* Not create: a mistyped directory has no exceptions to resolve. */
	if ((rc = sc_open_store(ctx, false)) != SC_EXIT_OK)
		return rc;
	MDB_txn *txn;
	if ((rc = sc_begin(ctx, true, &txn)) != SC_EXIT_OK)
		return rc;
	json_t *obj = NULL;
	rc = resolve_in(ctx, txn, id, note, &obj);
	if (rc != SC_EXIT_OK) {
		mdb_txn_abort(txn);
		return rc;
	}
	if ((rc = sc_commit(ctx, txn)) == SC_EXIT_OK)
		print_resolved(ctx, obj);
	json_decref(obj);
	return rc;
}

/* ---- the subcommand table ---------------------------------------------- */

static int exceptions_help(sc_ctx_t *ctx, int argc, char **argv);

static const sc_command_t exceptions_commands[] = {
	{"list", "exceptions [list] [--all] [--limit N]",
	 "open exceptions, oldest first; --all adds the resolved ones "
	 "(--limit: default 100)",
	 exceptions_list},
	{"resolve", "exceptions resolve ID --note TEXT",
	 "after reconciling it with the bank: close it, with the note, audited",
	 exceptions_resolve},
	{"help", "exceptions help", "this help", exceptions_help},
};

static int exceptions_help(sc_ctx_t *ctx, int argc, char **argv)
{
	(void)ctx;
	(void)argc;
	(void)argv;
	return sc_group_help("exceptions", exceptions_commands,
			     PS_ARRAY_LEN(exceptions_commands));
}

int sc_cmd_exceptions(sc_ctx_t *ctx, int argc, char **argv)
{
	int i = sc_skip_global_options(ctx, argc, argv);
	if (i < 0)
		return -i;
	/* Without a command, or with options only, it lists. */
	if (i == argc || argv[i][0] == '-')
		return exceptions_list(ctx, argc - i, argv + i);
	return sc_run_table(ctx, "exceptions", exceptions_commands,
			    PS_ARRAY_LEN(exceptions_commands), argc - i,
			    argv + i);
}
