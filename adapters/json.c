/*
 * json.c: the PSP channel's JSON lines, both ways, with jansson.
 *
 * Parsing runs on the switch's hot path, so jansson's allocations during a
 * parse come from a per-thread arena that is reset after each message: no
 * malloc per request, and a hostile line can use at most the arena (the
 * parse then fails and the request is answered 30). Outside a parse jansson
 * allocates normally, so configuration loading is unaffected.
 *
 * Answers are written by hand: a fixed shape, escaped strings, no tree.
 */
#include "adapters.h"

#include <jansson.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

/* ---- the parse arena -------------------------------------------------- */

#define ARENA_BYTES (1024 * 1024)

struct arena {
	uint8_t *mem;
	size_t used;
	bool active;
};

static _Thread_local struct arena arena;
static pthread_once_t arena_once = PTHREAD_ONCE_INIT;

static void *arena_malloc(size_t size)
{
	if (!arena.active)
		return malloc(size);
	size = (size + 15u) & ~(size_t)15u;
	if (size > ARENA_BYTES - arena.used)
		return NULL;
	void *p = arena.mem + arena.used;
	arena.used += size;
	return p;
}

static void arena_free(void *p)
{
	uint8_t *b = p;
	if (arena.mem != NULL && b >= arena.mem && b < arena.mem + ARENA_BYTES)
		return; /* released all at once by arena_end() */
	free(p);
}

static void arena_install(void)
{
	json_set_alloc_funcs(arena_malloc, arena_free);
}

static int arena_begin(void)
{
	pthread_once(&arena_once, arena_install);
	if (arena.mem == NULL) {
		/* Once per thread, at its first message. */
		arena.mem = malloc(ARENA_BYTES);
		if (arena.mem == NULL)
			return TXN_ENOMEM;
	}
	arena.used = 0;
	arena.active = true;
	return 0;
}

static void arena_end(void)
{
	arena.active = false;
	arena.used = 0;
}

/* ---- errors ------------------------------------------------------------ */

static int fail(txn_error_t *err, int rc, const char *code, const char *field,
		const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int fail(txn_error_t *err, int rc, const char *code, const char *field,
		const char *fmt, ...)
{
	ps_strlcpy(err->code, code, sizeof(err->code));
	ps_strlcpy(err->field, field, sizeof(err->field));
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->reason, sizeof(err->reason), fmt, ap);
	va_end(ap);
	return rc;
}

/* ---- reading fields ------------------------------------------------------ */

/* Request ids and participant ids: printable, no quotes, bounded. */
static bool is_id_char(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
	       (c >= 'a' && c <= 'z') || c == '-' || c == '_' || c == '.' ||
	       c == ':';
}

static int get_id(json_t *obj, const char *key, const char *field, char *out,
		  size_t cap, bool required, txn_error_t *err)
{
	json_t *v = json_object_get(obj, key);
	if (v == NULL) {
		if (!required)
			return 0;
		return fail(err, TXN_EFORMAT, "30", field, "is required");
	}
	if (!json_is_string(v))
		return fail(err, TXN_EFORMAT, "30", field, "must be a string");
	const char *s = json_string_value(v);
	size_t len = json_string_length(v);
	if (len == 0 || len >= cap)
		return fail(err, TXN_EFORMAT, "30", field,
			    "must be 1 to %zu characters", cap - 1);
	for (size_t i = 0; i < len; i++)
		if (!is_id_char((unsigned char)s[i]))
			return fail(err, TXN_EFORMAT, "30", field,
				    "may hold only A-Z a-z 0-9 - _ . :");
	memcpy(out, s, len + 1);
	return 0;
}

static int get_text(json_t *obj, const char *key, const char *field, char *out,
		    size_t cap, txn_error_t *err)
{
	json_t *v = json_object_get(obj, key);
	if (v == NULL)
		return 0;
	if (!json_is_string(v))
		return fail(err, TXN_EFORMAT, "30", field, "must be a string");
	size_t len = json_string_length(v);
	if (len >= cap)
		return fail(err, TXN_EFORMAT, "30", field,
			    "must be at most %zu bytes", cap - 1);
	const char *s = json_string_value(v);
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20)
			return fail(err, TXN_EFORMAT, "30", field,
				    "must not hold control characters");
	memcpy(out, s, len + 1);
	return 0;
}

/* An account number: 1 to 19 digits, the range routing matches on. */
static int get_account(json_t *obj, const char *key, const char *field,
		       char *out, txn_error_t *err)
{
	json_t *party = json_object_get(obj, key);
	if (party == NULL)
		return fail(err, TXN_EFORMAT, "30", key, "is required");
	if (!json_is_object(party))
		return fail(err, TXN_EFORMAT, "30", key, "must be an object");
	json_t *v = json_object_get(party, "account");
	if (v == NULL)
		return fail(err, TXN_EFORMAT, "30", field, "is required");
	if (!json_is_string(v))
		return fail(err, TXN_EFORMAT, "30", field,
			    "must be a string of digits");
	size_t len = json_string_length(v);
	const char *s = json_string_value(v);
	if (len < 1 || len > 19 || !ps_is_digits(s, len))
		return fail(err, TXN_EFORMAT, "30", field,
			    "must be 1 to 19 digits");
	memcpy(out, s, len + 1);
	return 0;
}

static int get_amount(json_t *obj, txn_t *txn, txn_error_t *err)
{
	json_t *v = json_object_get(obj, "amount");
	if (v == NULL)
		return fail(err, TXN_EFORMAT, "30", "amount", "is required");
	if (json_is_real(v))
		return fail(err, TXN_EFORMAT, "13", "amount",
			    "must be an integer number of minor units (fen), "
			    "not a decimal");
	if (!json_is_integer(v))
		return fail(err, TXN_EFORMAT, "30", "amount",
			    "must be a positive integer number of minor units "
			    "(fen)");
	json_int_t amount = json_integer_value(v);
	if (amount <= 0)
		return fail(err, TXN_EINVALID, "13", "amount",
			    "must be a positive integer");
	if (amount > TXN_AMOUNT_MAX)
		return fail(err, TXN_EINVALID, "13", "amount",
			    "must be at most 12 digits (999999999999)");
	txn->amount = (int64_t)amount;
	return 0;
}

static int get_currency(json_t *obj, txn_t *txn, txn_error_t *err)
{
	json_t *v = json_object_get(obj, "currency");
	if (v == NULL)
		return fail(err, TXN_EFORMAT, "30", "currency", "is required");
	if (!json_is_string(v))
		return fail(err, TXN_EFORMAT, "30", "currency",
			    "must be an ISO 4217 code such as \"CNY\"");
	uint16_t numeric = txn_currency_parse(json_string_value(v));
	if (numeric == 0)
		return fail(err, TXN_EINVALID, "30", "currency",
			    "unknown ISO 4217 code");
	txn->currency = numeric;
	return 0;
}

static int decode_pay(json_t *obj, txn_t *txn, txn_error_t *err)
{
	int rc;
	if ((rc = get_account(obj, "payer", "payer.account", txn->payer, err)) ||
	    (rc = get_account(obj, "payee", "payee.account", txn->payee, err)) ||
	    (rc = get_amount(obj, txn, err)) ||
	    (rc = get_currency(obj, txn, err)) ||
	    (rc = get_text(obj, "memo", "memo", txn->memo, sizeof(txn->memo),
			   err)))
		return rc;
	json_t *payee = json_object_get(obj, "payee");
	rc = get_text(payee, "name", "payee.name", txn->payee_name,
		      sizeof(txn->payee_name), err);
	if (rc == 0 && strcmp(txn->payer, txn->payee) == 0)
		rc = fail(err, TXN_EINVALID, "12", "payee.account",
			  "must differ from payer.account");
	return rc;
}

static int decode_refund(json_t *obj, txn_t *txn, txn_error_t *err)
{
	int rc;
	if ((rc = get_id(obj, "original", "original", txn->original_id,
			 sizeof(txn->original_id), true, err)) ||
	    (rc = get_amount(obj, txn, err)) ||
	    (rc = get_currency(obj, txn, err)) ||
	    (rc = get_text(obj, "memo", "memo", txn->memo, sizeof(txn->memo),
			   err)))
		return rc;
	return 0;
}

static const struct {
	const char *name;
	int kind;
} json_ops[] = {
	{"pay", TXN_KIND_PAY},     {"refund", TXN_KIND_REFUND},
	{"query", TXN_KIND_QUERY}, {"echo", TXN_KIND_ECHO},
	{"hello", TXN_KIND_HELLO},
};

static int decode_request(json_t *root, txn_t *txn, txn_error_t *err)
{
	if (!json_is_object(root))
		return fail(err, TXN_EFORMAT, "30", "", "must be a JSON object");
	/* Read the id first so that every later error can quote it. */
	int rc = get_id(root, "id", "id", txn->request_id,
			sizeof(txn->request_id), false, err);
	if (rc != 0)
		return rc;
	json_t *op = json_object_get(root, "op");
	if (op == NULL)
		return fail(err, TXN_EFORMAT, "30", "op", "is required");
	if (!json_is_string(op))
		return fail(err, TXN_EFORMAT, "30", "op", "must be a string");
	int kind = TXN_KIND_NONE;
	for (size_t i = 0; i < PS_ARRAY_LEN(json_ops); i++)
		if (strcmp(json_string_value(op), json_ops[i].name) == 0)
			kind = json_ops[i].kind;
	if (kind == TXN_KIND_NONE)
		return fail(err, TXN_EINVALID, "12", "op",
			    "unknown operation (pay, refund, query, echo, "
			    "hello)");
	txn->kind = (uint8_t)kind;
	if (kind == TXN_KIND_HELLO)
		return get_id(root, "participant", "participant",
			      txn->participant, sizeof(txn->participant), true,
			      err);
	if (txn->request_id[0] == '\0')
		return fail(err, TXN_EFORMAT, "30", "id", "is required");
	switch (kind) {
	case TXN_KIND_PAY:
		return decode_pay(root, txn, err);
	case TXN_KIND_REFUND:
		return decode_refund(root, txn, err);
	case TXN_KIND_QUERY:
		return get_id(root, "target", "target", txn->original_id,
			      sizeof(txn->original_id), true, err);
	default:
		return 0;
	}
}

static int parse_line(const char *line, size_t len, json_t **root,
		      txn_error_t *err)
{
	json_error_t jerr;
	*root = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (*root != NULL)
		return 0;
	if (strstr(jerr.text, "out of memory") != NULL)
		return fail(err, TXN_ENOMEM, "30", "",
			    "message too complex to parse");
	if (strstr(jerr.text, "too big") != NULL)
		return fail(err, TXN_EFORMAT, "13", "",
			    "number too large (amounts are at most 12 digits) "
			    "at column %d", jerr.column);
	return fail(err, TXN_EFORMAT, "30", "", "invalid JSON at column %d: %s",
		    jerr.column, jerr.text);
}

/* Parses a line in the arena and hands the tree to decode; the tree is
 * gone when this returns. */
static int parse_and_decode(const char *line, size_t len, txn_error_t *err,
			    int (*decode)(json_t *, void *, txn_error_t *),
			    void *out)
{
	int rc = arena_begin();
	if (rc != 0)
		return fail(err, rc, "96", "", "no memory for the parse arena");
	json_t *root;
	rc = parse_line(line, len, &root, err);
	if (rc == 0) {
		rc = decode(root, out, err);
		json_decref(root);
	}
	arena_end();
	return rc;
}

static int decode_request_any(json_t *root, void *txn, txn_error_t *err)
{
	return decode_request(root, txn, err);
}

int txn_from_json(const char *line, size_t len, txn_t *txn, txn_error_t *err)
{
	txn_init(txn, TXN_KIND_NONE);
	txn->protocol = TXN_PROTO_JSON;
	memset(err, 0, sizeof(*err));
	if (len >= TXN_JSON_LINE_MAX)
		return fail(err, TXN_EFORMAT, "30", "",
			    "line longer than %d bytes", TXN_JSON_LINE_MAX - 1);
	return parse_and_decode(line, len, err, decode_request_any, txn);
}

/* ---- writing answers ------------------------------------------------- */

/*
 * A JSON writer over a bounded buffer. Once anything does not fit it stays
 * failed, so callers check once at the end.
 */
typedef struct jw {
	char *out;
	size_t cap;
	size_t len;
	bool full;
	bool first;
} jw_t;

static void jw_raw(jw_t *w, const char *s, size_t n)
{
	if (w->full || n > w->cap - w->len) {
		w->full = true;
		return;
	}
	memcpy(w->out + w->len, s, n);
	w->len += n;
}

static void jw_string(jw_t *w, const char *s)
{
	jw_raw(w, "\"", 1);
	for (; *s != '\0'; s++) {
		char esc[6];
		jw_raw(w, esc, ps_json_escape_byte((unsigned char)*s, esc));
	}
	jw_raw(w, "\"", 1);
}

static void jw_key(jw_t *w, const char *key)
{
	if (!w->first)
		jw_raw(w, ",", 1);
	w->first = false;
	jw_string(w, key);
	jw_raw(w, ":", 1);
}

static void jw_str(jw_t *w, const char *key, const char *value)
{
	jw_key(w, key);
	jw_string(w, value);
}

/* A string member only when the value is not empty. */
static void jw_opt(jw_t *w, const char *key, const char *value)
{
	if (value[0] != '\0')
		jw_str(w, key, value);
}

static void jw_int(jw_t *w, const char *key, int64_t value)
{
	char text[24];
	int n = snprintf(text, sizeof(text), "%" PRId64, value);
	jw_key(w, key);
	jw_raw(w, text, (size_t)n);
}

static void jw_open(jw_t *w)
{
	jw_raw(w, "{", 1);
	w->first = true;
}

static void jw_close(jw_t *w)
{
	jw_raw(w, "}", 1);
	w->first = false;
}

static void jw_null_or_str(jw_t *w, const char *key, const char *value)
{
	jw_key(w, key);
	if (value[0] == '\0')
		jw_raw(w, "null", 4);
	else
		jw_string(w, value);
}

static int jw_finish(jw_t *w, size_t *out_len)
{
	jw_raw(w, "\n", 1);
	if (w->full) {
		*out_len = w->len;
		return TXN_ENOSPC;
	}
	*out_len = w->len;
	return 0;
}

static void txn_id_text(uint64_t id, char out[24])
{
	snprintf(out, 24, "%" PRIu64, id);
}

/* The body of a final answer: status, code, and what goes with it. */
static void write_result(jw_t *w, const txn_t *txn)
{
	const char *code = txn->response[0] ? txn->response : "96";
	jw_str(w, "status", txn_response_status(code));
	jw_str(w, "code", code);
	if (txn->id != 0) {
		char id[24];
		txn_id_text(txn->id, id);
		jw_str(w, "txn", id);
	}
	if (strcmp(code, "00") == 0) {
		jw_opt(w, "rrn", txn->rrn);
		jw_opt(w, "auth_code", txn->auth_code);
	} else {
		jw_str(w, "reason", txn->reason[0] ? txn->reason
						   : txn_response_text(code));
	}
}

static void write_query(jw_t *w, const txn_t *query, const txn_t *target)
{
	jw_str(w, "target", query->original_id);
	if (target == NULL) {
		jw_str(w, "status", "declined");
		jw_str(w, "code", "25");
		jw_str(w, "reason", txn_response_text("25"));
		jw_str(w, "state", "unknown");
		return;
	}
	jw_str(w, "status", "ok");
	jw_str(w, "code", "00");
	if (target->state != TXN_STATE_DONE) {
		jw_str(w, "state", "in_flight");
		return;
	}
	jw_str(w, "state", "done");
	jw_str(w, "op", txn_kind_name(target->kind));
	jw_int(w, "amount", target->amount);
	const char *alpha = txn_currency_alpha(target->currency);
	jw_str(w, "currency", alpha ? alpha : "");
	jw_key(w, "answer");
	jw_open(w);
	write_result(w, target);
	jw_close(w);
}

int txn_answer_to_json(const txn_t *txn, const txn_t *target, char *out,
		       size_t cap, size_t *out_len)
{
	jw_t w = {.out = out, .cap = cap};
	jw_open(&w);
	if (txn->kind == TXN_KIND_HELLO) {
		jw_str(&w, "op", "hello");
		jw_str(&w, "status", "ok");
		jw_str(&w, "participant", txn->participant);
	} else {
		jw_str(&w, "id", txn->request_id);
		if (txn->kind == TXN_KIND_QUERY) {
			write_query(&w, txn, target);
		} else if (txn->kind == TXN_KIND_ECHO) {
			jw_str(&w, "status", "ok");
			jw_str(&w, "code", "00");
		} else {
			write_result(&w, txn);
		}
	}
	jw_close(&w);
	return jw_finish(&w, out_len);
}

int txn_error_to_json(const char *id, const txn_error_t *err, char *out,
		      size_t cap, size_t *out_len)
{
	jw_t w = {.out = out, .cap = cap};
	char reason[sizeof(err->field) + sizeof(err->reason) + 2];
	if (err->field[0] != '\0')
		snprintf(reason, sizeof(reason), "%s: %s", err->field,
			 err->reason);
	else
		snprintf(reason, sizeof(reason), "%s", err->reason);
	const char *code = err->code[0] ? err->code : "30";
	jw_open(&w);
	jw_null_or_str(&w, "id", id);
	jw_str(&w, "status", txn_response_status(code));
	jw_str(&w, "code", code);
	jw_str(&w, "reason", reason);
	jw_close(&w);
	return jw_finish(&w, out_len);
}

int txn_request_to_json(const txn_t *txn, char *out, size_t cap,
			size_t *out_len)
{
	jw_t w = {.out = out, .cap = cap};
	const char *alpha = txn_currency_alpha(txn->currency);
	jw_open(&w);
	jw_str(&w, "op", txn_kind_name(txn->kind));
	switch (txn->kind) {
	case TXN_KIND_HELLO:
		jw_opt(&w, "id", txn->request_id); /* optional on hello */
		jw_str(&w, "participant", txn->participant);
		break;
	case TXN_KIND_PAY:
		jw_str(&w, "id", txn->request_id);
		jw_key(&w, "payer");
		jw_open(&w);
		jw_str(&w, "account", txn->payer);
		jw_close(&w);
		jw_key(&w, "payee");
		jw_open(&w);
		jw_str(&w, "account", txn->payee);
		jw_opt(&w, "name", txn->payee_name);
		jw_close(&w);
		jw_int(&w, "amount", txn->amount);
		jw_str(&w, "currency", alpha ? alpha : "");
		jw_opt(&w, "memo", txn->memo);
		break;
	case TXN_KIND_REFUND:
		jw_str(&w, "id", txn->request_id);
		jw_str(&w, "original", txn->original_id);
		jw_int(&w, "amount", txn->amount);
		jw_str(&w, "currency", alpha ? alpha : "");
		jw_opt(&w, "memo", txn->memo);
		break;
	case TXN_KIND_QUERY:
		jw_str(&w, "id", txn->request_id);
		jw_str(&w, "target", txn->original_id);
		break;
	case TXN_KIND_ECHO:
		jw_str(&w, "id", txn->request_id);
		break;
	default:
		return TXN_EINVALID;
	}
	jw_close(&w);
	return jw_finish(&w, out_len);
}

/* ---- reading answers (client side) ------------------------------------ */

static void copy_member(json_t *obj, const char *key, char *out, size_t cap)
{
	json_t *v = json_object_get(obj, key);
	if (json_is_string(v))
		ps_strlcpy(out, json_string_value(v), cap);
}

static int decode_answer(json_t *root, txn_answer_t *a, txn_error_t *err)
{
	if (!json_is_object(root))
		return fail(err, TXN_EFORMAT, "30", "", "must be a JSON object");
	copy_member(root, "id", a->id, sizeof(a->id));
	copy_member(root, "status", a->status, sizeof(a->status));
	copy_member(root, "code", a->code, sizeof(a->code));
	copy_member(root, "txn", a->txn, sizeof(a->txn));
	copy_member(root, "rrn", a->rrn, sizeof(a->rrn));
	copy_member(root, "auth_code", a->auth_code, sizeof(a->auth_code));
	copy_member(root, "reason", a->reason, sizeof(a->reason));
	copy_member(root, "target", a->target, sizeof(a->target));
	copy_member(root, "state", a->state, sizeof(a->state));
	json_t *inner = json_object_get(root, "answer");
	if (json_is_object(inner)) {
		copy_member(inner, "status", a->target_status,
			    sizeof(a->target_status));
		copy_member(inner, "code", a->target_code,
			    sizeof(a->target_code));
	}
	if (a->status[0] == '\0')
		return fail(err, TXN_EFORMAT, "30", "status", "is required");
	return 0;
}

static int decode_answer_any(json_t *root, void *answer, txn_error_t *err)
{
	return decode_answer(root, answer, err);
}

int txn_answer_from_json(const char *line, size_t len, txn_answer_t *answer,
			 txn_error_t *err)
{
	memset(answer, 0, sizeof(*answer));
	memset(err, 0, sizeof(*err));
	return parse_and_decode(line, len, err, decode_answer_any, answer);
}
