/*
 * json.c: JSON lines, both ways, with jansson: what PSPs send the switch
 * and are answered, and what the switch sends a JSON endpoint (a network
 * such as NetClear, or banksim speaking JSON) and reads back.
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

static int fail(txn_error_t *err, int rc, uint8_t code, const char *field,
		const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int fail(txn_error_t *err, int rc, uint8_t code, const char *field,
		const char *fmt, ...)
{
	err->rc = code;
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
		return fail(err, TXN_EFORMAT, TXN_RC_FORMAT_ERROR, field, "is required");
	}
	if (!json_is_string(v))
		return fail(err, TXN_EFORMAT, TXN_RC_FORMAT_ERROR, field, "must be a string");
	const char *s = json_string_value(v);
	size_t len = json_string_length(v);
	if (len == 0 || len >= cap)
		return fail(err, TXN_EFORMAT, TXN_RC_FORMAT_ERROR, field,
			    "must be 1 to %zu characters", cap - 1);
	for (size_t i = 0; i < len; i++)
		if (!is_id_char((unsigned char)s[i]))
			return fail(err, TXN_EFORMAT, TXN_RC_FORMAT_ERROR, field,
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
		return fail(err, TXN_EFORMAT, TXN_RC_FORMAT_ERROR, field, "must be a string");
	size_t len = json_string_length(v);
	if (len >= cap)
		return fail(err, TXN_EFORMAT, TXN_RC_FORMAT_ERROR, field,
			    "must be at most %zu bytes", cap - 1);
	const char *s = json_string_value(v);
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20)
			return fail(err, TXN_EFORMAT, TXN_RC_FORMAT_ERROR, field,
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
		return fail(err, TXN_EFORMAT, TXN_RC_FORMAT_ERROR, key, "is required");
	if (!json_is_object(party))
		return fail(err, TXN_EFORMAT, TXN_RC_FORMAT_ERROR, key, "must be an object");
	json_t *v = json_object_get(party, "account");
	if (v == NULL)
		return fail(err, TXN_EFORMAT, TXN_RC_FORMAT_ERROR, field, "is required");
	if (!json_is_string(v))
		return fail(err, TXN_EFORMAT, TXN_RC_FORMAT_ERROR, field,
			    "must be a string of digits");
	size_t len = json_string_length(v);
	const char *s = json_string_value(v);
	if (len < 1 || len > 19 || !ps_is_digits(s, len))
		return fail(err, TXN_EFORMAT, TXN_RC_FORMAT_ERROR, field,
			    "must be 1 to 19 digits");
	memcpy(out, s, len + 1);
	return 0;
}

static int get_amount(json_t *obj, txn_t *txn, txn_error_t *err)
{
	json_t *v = json_object_get(obj, "amount");
	if (v == NULL)
		return fail(err, TXN_EFORMAT, TXN_RC_FORMAT_ERROR, "amount", "is required");
	/* One rule: an amount that is not a JSON integer is a format error
	 * (30); an integer out of range is an invalid amount (13). */
	if (json_is_real(v))
		return fail(err, TXN_EFORMAT, TXN_RC_FORMAT_ERROR, "amount",
			    "must be an integer number of minor units (fen), "
			    "not a decimal");
	if (!json_is_integer(v))
		return fail(err, TXN_EFORMAT, TXN_RC_FORMAT_ERROR, "amount",
			    "must be a positive integer number of minor units "
			    "(fen)");
	json_int_t amount = json_integer_value(v);
	if (amount <= 0)
		return fail(err, TXN_EINVALID, TXN_RC_INVALID_AMOUNT, "amount",
			    "must be a positive integer");
	if (amount > TXN_AMOUNT_MAX)
		return fail(err, TXN_EINVALID, TXN_RC_INVALID_AMOUNT, "amount",
			    "must be at most 12 digits (999999999999)");
	txn->amount = (int64_t)amount;
	return 0;
}

static int get_currency(json_t *obj, txn_t *txn, txn_error_t *err)
{
	json_t *v = json_object_get(obj, "currency");
	if (v == NULL)
		return fail(err, TXN_EFORMAT, TXN_RC_FORMAT_ERROR, "currency", "is required");
	if (!json_is_string(v))
		return fail(err, TXN_EFORMAT, TXN_RC_FORMAT_ERROR, "currency",
			    "must be an ISO 4217 code such as \"CNY\"");
	uint16_t numeric = txn_currency_parse(json_string_value(v));
	if (numeric == 0)
		return fail(err, TXN_EINVALID, TXN_RC_FORMAT_ERROR, "currency",
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
		rc = fail(err, TXN_EINVALID, TXN_RC_INVALID_TRANSACTION, "payee.account",
			  "must differ from payer.account");
	return rc;
}

/* A payout: the PSP pays an account out of its reserve. */
static int decode_payout(json_t *obj, txn_t *txn, txn_error_t *err)
{
	int rc;
	if ((rc = get_account(obj, "payee", "payee.account", txn->payee, err)) ||
	    (rc = get_amount(obj, txn, err)) ||
	    (rc = get_currency(obj, txn, err)) ||
	    (rc = get_text(obj, "memo", "memo", txn->memo, sizeof(txn->memo),
			   err)))
		return rc;
	json_t *payee = json_object_get(obj, "payee");
	return get_text(payee, "name", "payee.name", txn->payee_name,
			sizeof(txn->payee_name), err);
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

/* A leg's key as JSON's "id": field 7 then the STAN, 16 digits. */
#define KEY_DIGITS 16

static bool parse_key(const char *text, uint32_t *stan, char transmit[11])
{
	if (strlen(text) != KEY_DIGITS || !ps_is_digits(text, KEY_DIGITS))
		return false;
	uint64_t v = 0;
	ps_parse_u64(text + 10, 6, &v);
	*stan = (uint32_t)v;
	memcpy(transmit, text, 10);
	transmit[10] = '\0';
	return true;
}

static void format_key(uint32_t stan, const char *transmit, char out[17])
{
	snprintf(out, 17, "%.10s%06u", transmit, (unsigned)(stan % 1000000));
}

static const struct {
	const char *name;
	uint8_t kind;
	uint8_t net_op;
	bool leg;      /* what a switch sends an endpoint, keyed by "id" */
} json_ops[] = {
	{"pay", TXN_KIND_PAY, 0, false},
	{"refund", TXN_KIND_REFUND, 0, false},
	{"payout", TXN_KIND_PAYOUT, 0, false},
	{"query", TXN_KIND_QUERY, 0, false},
	{"echo", TXN_KIND_NETWORK, TXN_NET_ECHO, false},
	{"hello", TXN_KIND_NETWORK, TXN_NET_SIGN_ON, false},
	{"purchase", TXN_KIND_PURCHASE, 0, true},
	{"credit", TXN_KIND_CREDIT, 0, true},
	{"refund_credit", TXN_KIND_REFUND_CREDIT, 0, true},
	{"balance", TXN_KIND_BALANCE, 0, true},
	{"reversal", TXN_KIND_REVERSAL, 0, true},
	{"completion", TXN_KIND_COMPLETION, 0, true},
};

static int find_op(const char *name)
{
	for (size_t i = 0; i < PS_ARRAY_LEN(json_ops); i++)
		if (strcmp(name, json_ops[i].name) == 0)
			return (int)i;
	return -1;
}

static const char *op_name(int kind, int net_op)
{
	for (size_t i = 0; i < PS_ARRAY_LEN(json_ops); i++)
		if (json_ops[i].kind == kind &&
		    (kind != TXN_KIND_NETWORK || json_ops[i].net_op == net_op))
			return json_ops[i].name;
	return NULL;
}

static int get_bool(json_t *obj, const char *key, bool *out, txn_error_t *err)
{
	json_t *v = json_object_get(obj, key);
	if (v == NULL)
		return 0;
	if (!json_is_boolean(v))
		return fail(err, TXN_EFORMAT, TXN_RC_FORMAT_ERROR, key,
			    "must be true or false");
	*out = json_is_true(v);
	return 0;
}

/* A bare account number member ("account": "6222..."). */
static int get_digits(json_t *obj, const char *key, char *out, size_t cap,
		      bool required, txn_error_t *err)
{
	json_t *v = json_object_get(obj, key);
	if (v == NULL)
		return required ? fail(err, TXN_EFORMAT, TXN_RC_FORMAT_ERROR, key,
				       "is required")
				: 0;
	size_t len = json_is_string(v) ? json_string_length(v) : 0;
	if (len < 1 || len >= cap || !ps_is_digits(json_string_value(v), len))
		return fail(err, TXN_EFORMAT, TXN_RC_FORMAT_ERROR, key,
			    "must be 1 to %zu digits", cap - 1);
	memcpy(out, json_string_value(v), len + 1);
	return 0;
}

/* What a switch sends an endpoint: the leg of kind, keyed by "id". */
static int decode_leg(json_t *obj, txn_t *txn, txn_error_t *err)
{
	txn_wire_t *w = &txn->wire;
	if (!parse_key(txn->request_id, &w->stan, w->transmit))
		return fail(err, TXN_EFORMAT, TXN_RC_FORMAT_ERROR, "id",
			    "must be the leg's key: field 7 then the STAN, "
			    "16 digits");
	bool advice = false, repeat = false;
	int rc;
	if ((rc = get_digits(obj, "account", txn->payer, sizeof(txn->payer), true, err)) ||
	    (rc = get_digits(obj, "payee", txn->payee, sizeof(txn->payee), false, err)) ||
	    (rc = get_digits(obj, "acquirer", txn->acquirer, sizeof(txn->acquirer), false, err)) ||
	    (rc = get_digits(obj, "forwarder", txn->forwarder, sizeof(txn->forwarder), false, err)) ||
	    (rc = get_digits(obj, "institution", w->receiver, sizeof(w->receiver), false, err)) ||
	    (rc = get_text(obj, "rrn", "rrn", txn->rrn, sizeof(txn->rrn), err)) ||
	    (rc = get_text(obj, "merchant_name", "merchant_name", txn->merchant_name,
			   sizeof(txn->merchant_name), err)) ||
	    (rc = get_bool(obj, "advice", &advice, err)) ||
	    (rc = get_bool(obj, "repeat", &repeat, err)) ||
	    (rc = get_text(obj, "period", "period", w->settle_date,
			   sizeof(w->settle_date), err)))
		return rc;
	ps_strlcpy(txn->participant, txn->acquirer, sizeof(txn->participant));
	txn->flags |= (advice ? TXN_F_ADVICE : 0) | (repeat ? TXN_F_REPEAT : 0);
	bool refers = txn->kind == TXN_KIND_REVERSAL ||
		      txn->kind == TXN_KIND_COMPLETION;
	if (refers) {
		char original[KEY_DIGITS + 1] = "";
		rc = get_id(obj, "original", "original", original,
			    sizeof(original), true, err);
		if (rc == 0 && !parse_key(original, &txn->original_stan,
					  txn->original_transmit))
			rc = fail(err, TXN_EFORMAT, TXN_RC_FORMAT_ERROR,
				  "original", "must be the original leg's key");
		if (rc != 0)
			return rc;
		ps_strlcpy(txn->original_acquirer, txn->acquirer,
			   sizeof(txn->original_acquirer));
		txn_iso_request_id(txn->acquirer, txn->original_stan,
				   txn->original_transmit, txn->original_id);
		json_t *o = json_object_get(obj, "original_op");
		int k = json_is_string(o) ? find_op(json_string_value(o)) : -1;
		txn->original_kind = k >= 0 && json_ops[k].leg ? json_ops[k].kind
							       : TXN_KIND_PURCHASE;
	}
	if (txn->kind == TXN_KIND_BALANCE && json_object_get(obj, "amount") == NULL)
		return get_currency(obj, txn, err);
	if ((rc = get_amount(obj, txn, err)) || (rc = get_currency(obj, txn, err)))
		return rc;
	return 0;
}

static int decode_request(json_t *root, txn_t *txn, txn_error_t *err)
{
	if (!json_is_object(root))
		return fail(err, TXN_EFORMAT, TXN_RC_FORMAT_ERROR, "",
			    "must be a JSON object");
	/* Read the id first so that every later error can quote it. */
	int rc = get_id(root, "id", "id", txn->request_id,
			sizeof(txn->request_id), false, err);
	if (rc != 0)
		return rc;
	json_t *op = json_object_get(root, "op");
	if (op == NULL)
		return fail(err, TXN_EFORMAT, TXN_RC_FORMAT_ERROR, "op",
			    "is required");
	if (!json_is_string(op))
		return fail(err, TXN_EFORMAT, TXN_RC_FORMAT_ERROR, "op",
			    "must be a string");
	int i = find_op(json_string_value(op));
	if (i < 0)
		return fail(err, TXN_EINVALID, TXN_RC_INVALID_TRANSACTION, "op",
			    "unknown operation (pay, refund, payout, query, "
			    "echo, hello)");
	txn->kind = json_ops[i].kind;
	txn->net_op = json_ops[i].net_op;
	if (txn->net_op == TXN_NET_SIGN_ON)
		return get_id(root, "participant", "participant",
			      txn->participant, sizeof(txn->participant), true,
			      err);
	if (txn->request_id[0] == '\0')
		return fail(err, TXN_EFORMAT, TXN_RC_FORMAT_ERROR, "id",
			    "is required");
	if (json_ops[i].leg)
		return decode_leg(root, txn, err);
	switch (txn->kind) {
	case TXN_KIND_PAY:
		return decode_pay(root, txn, err);
	case TXN_KIND_REFUND:
		return decode_refund(root, txn, err);
	case TXN_KIND_PAYOUT:
		return decode_payout(root, txn, err);
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
		return fail(err, TXN_ENOMEM, TXN_RC_FORMAT_ERROR, "",
			    "message too complex to parse");
	if (strstr(jerr.text, "too big") != NULL)
		return fail(err, TXN_EFORMAT, TXN_RC_INVALID_AMOUNT, "",
			    "number too large (amounts are at most 12 digits) "
			    "at column %d", jerr.column);
	return fail(err, TXN_EFORMAT, TXN_RC_FORMAT_ERROR, "", "invalid JSON at column %d: %s",
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
		return fail(err, rc, TXN_RC_SYSTEM_MALFUNCTION, "", "no memory for the parse arena");
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

/*
 * The top-level "id" of a line JSON could not parse (a number too large,
 * a syntax error further on), so that its error answer can still be
 * matched: a string of id characters under the key "id" at depth 1,
 * before the fault or after it. "" when there is none.
 */
static void recover_id(const char *line, size_t len, char *out, size_t cap)
{
	out[0] = '\0';
	int depth = 0;
	size_t i = 0;
	while (i < len) {
		char ch = line[i];
		if (ch == '{' || ch == '[') {
			depth++;
			i++;
			continue;
		}
		if (ch == '}' || ch == ']') {
			depth--;
			i++;
			continue;
		}
		if (ch != '"') {
			i++;
			continue;
		}
		/* A string: its end, minding escapes. */
		size_t start = ++i;
		while (i < len && line[i] != '"')
			i += line[i] == '\\' ? 2 : 1;
		if (i >= len)
			return;
		size_t end = i++;
		size_t j = i;
		while (j < len && (line[j] == ' ' || line[j] == '\t'))
			j++;
		bool key = j < len && line[j] == ':';
		if (!key || depth != 1 || end - start != 2 ||
		    memcmp(line + start, "id", 2) != 0)
			continue;
		/* Its value, when it is a string of id characters. */
		j++;
		while (j < len && (line[j] == ' ' || line[j] == '\t'))
			j++;
		if (j >= len || line[j] != '"')
			return;
		size_t v = ++j;
		while (j < len && j - v < cap - 1 && is_id_char((unsigned char)line[j]))
			j++;
		if (j < len && line[j] == '"' && j > v) {
			memcpy(out, line + v, j - v);
			out[j - v] = '\0';
		}
		return;
	}
}

int txn_from_json(const char *line, size_t len, txn_t *txn, txn_error_t *err)
{
	txn_init(txn, TXN_KIND_NONE);
	memset(err, 0, sizeof(*err));
	if (len >= TXN_JSON_LINE_MAX)
		return fail(err, TXN_EFORMAT, TXN_RC_FORMAT_ERROR, "",
			    "line longer than %d bytes", TXN_JSON_LINE_MAX - 1);
	int rc = parse_and_decode(line, len, err, decode_request_any, txn);
	if (rc != 0 && txn->request_id[0] == '\0')
		recover_id(line, len, txn->request_id, sizeof(txn->request_id));
	return rc;
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
	uint8_t rc = txn->rc == TXN_RC_NONE ? TXN_RC_SYSTEM_MALFUNCTION : txn->rc;
	char code[3];
	txn_rc_text(rc, code);
	jw_str(w, "status", txn_rc_status(rc));
	jw_str(w, "code", code);
	if (txn->id != 0) {
		char id[24];
		txn_id_text(txn->id, id);
		jw_str(w, "txn", id);
	}
	jw_opt(w, "period", txn->wire.settle_date);
	if (rc == TXN_RC_APPROVED && (txn->flags & TXN_F_RESERVE))
		jw_raw(w, ",\"reserve\":true", 15);
	if (rc == TXN_RC_APPROVED) {
		jw_opt(w, "rrn", txn->rrn);
		jw_opt(w, "auth_code", txn->auth_code);
		if (txn->flags & TXN_F_BALANCE)
			jw_int(w, "balance", txn->balance);
	} else {
		jw_str(w, "reason", txn->reason[0] ? txn->reason
						   : txn_rc_meaning(rc));
	}
}

static void write_query(jw_t *w, const txn_t *query, const txn_t *target)
{
	jw_str(w, "target", query->original_id);
	if (target == NULL) {
		jw_str(w, "status", "declined");
		jw_str(w, "code", "25");
		jw_str(w, "reason", txn_rc_meaning(TXN_RC_NO_RECORD));
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

/* A hello or an echo: ok, or refused with its code and reason. */
static void write_network(jw_t *w, const txn_t *txn)
{
	bool hello = txn->net_op == TXN_NET_SIGN_ON;
	jw_str(w, "op", hello ? "hello" : "echo");
	jw_opt(w, "id", txn->request_id);
	if (txn->rc != TXN_RC_APPROVED && txn->rc != TXN_RC_NONE) {
		char code[3];
		txn_rc_text(txn->rc, code);
		jw_str(w, "status", txn_rc_status(txn->rc));
		jw_str(w, "code", code);
		jw_str(w, "reason", txn->reason[0] ? txn->reason
						   : txn_rc_meaning(txn->rc));
		return;
	}
	jw_str(w, "status", "ok");
	if (hello)
		jw_str(w, "participant", txn->participant);
	else
		jw_str(w, "code", "00");
}

int txn_answer_to_json(const txn_t *txn, const txn_t *target, char *out,
		       size_t cap, size_t *out_len)
{
	jw_t w = {.out = out, .cap = cap};
	jw_open(&w);
	if (txn->kind == TXN_KIND_NETWORK) {
		write_network(&w, txn);
	} else {
		jw_str(&w, "id", txn->request_id);
		if (txn->kind == TXN_KIND_QUERY)
			write_query(&w, txn, target);
		else
			write_result(&w, txn);
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
	uint8_t rc = err->rc == TXN_RC_APPROVED || err->rc == TXN_RC_NONE
			     ? TXN_RC_FORMAT_ERROR
			     : err->rc;
	char code[3];
	txn_rc_text(rc, code);
	jw_open(&w);
	jw_null_or_str(&w, "id", id);
	jw_str(&w, "status", txn_rc_status(rc));
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
	const char *op = op_name(txn->kind, txn->net_op);
	if (op == NULL)
		return TXN_EINVALID;
	jw_open(&w);
	jw_str(&w, "op", op);
	switch (txn->kind) {
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
	case TXN_KIND_PAYOUT:
		jw_str(&w, "id", txn->request_id);
		jw_key(&w, "payee");
		jw_open(&w);
		jw_str(&w, "account", txn->payee);
		jw_opt(&w, "name", txn->payee_name);
		jw_close(&w);
		jw_int(&w, "amount", txn->amount);
		jw_str(&w, "currency", alpha ? alpha : "");
		jw_opt(&w, "memo", txn->memo);
		break;
	case TXN_KIND_NETWORK:
		if (txn->net_op == TXN_NET_SIGN_ON) {
			jw_opt(&w, "id", txn->request_id); /* optional */
			jw_str(&w, "participant", txn->participant);
		} else {
			jw_str(&w, "id", txn->request_id);
		}
		break;
	default:
		return TXN_EINVALID;
	}
	jw_close(&w);
	return jw_finish(&w, out_len);
}

/* ---- legs to a JSON endpoint, and its answers --------------------------- */

static void copy_member(json_t *obj, const char *key, char *out, size_t cap)
{
	json_t *v = json_object_get(obj, key);
	if (json_is_string(v))
		ps_strlcpy(out, json_string_value(v), cap);
}

int txn_leg_to_json(const txn_t *txn, unsigned leg, char *out, size_t cap,
		    size_t *out_len)
{
	PS_ASSERT(leg < TXN_LEGS_MAX);
	const txn_leg_t *l = &txn->leg[leg];
	bool refers = txn->kind == TXN_KIND_REVERSAL ||
		      txn->kind == TXN_KIND_COMPLETION;
	const char *op = op_name(refers ? txn->kind : l->kind, 0);
	if (op == NULL)
		return TXN_EINVALID;
	char key[KEY_DIGITS + 1];
	const char *alpha = txn_currency_alpha(txn->currency);
	jw_t w = {.out = out, .cap = cap};
	jw_open(&w);
	jw_str(&w, "op", op);
	format_key(l->stan, l->transmit, key);
	jw_str(&w, "id", key);
	jw_str(&w, "account", l->account);
	if (l->kind != TXN_KIND_BALANCE || txn->amount > 0)
		jw_int(&w, "amount", txn->amount);
	jw_str(&w, "currency", alpha ? alpha : "");
	jw_opt(&w, "rrn", l->rrn);
	jw_opt(&w, "acquirer", txn->acquirer);
	jw_opt(&w, "forwarder", txn->forwarder);
	jw_opt(&w, "institution", l->institution);
	jw_opt(&w, "payee", refers ? "" : txn->payee);
	jw_opt(&w, "merchant_name", txn->merchant_name);
	jw_opt(&w, "period", l->period);
	if (refers) {
		format_key(txn->original_stan, txn->original_transmit, key);
		jw_str(&w, "original", key);
		jw_str(&w, "original_op", op_name(txn->original_kind, 0)
						  ? op_name(txn->original_kind, 0)
						  : "purchase");
		if (txn->flags & TXN_F_ADVICE)
			jw_raw(&w, ",\"advice\":true", 14);
		if (txn->flags & TXN_F_REPEAT)
			jw_raw(&w, ",\"repeat\":true", 14);
	}
	jw_close(&w);
	return jw_finish(&w, out_len);
}

int txn_network_to_json(int op, uint32_t stan, const char *transmit,
			const char *institution, char *out, size_t cap,
			size_t *out_len)
{
	if (op != TXN_NET_SIGN_ON && op != TXN_NET_ECHO)
		return TXN_EINVALID;
	char key[KEY_DIGITS + 1];
	format_key(stan, transmit, key);
	jw_t w = {.out = out, .cap = cap};
	jw_open(&w);
	jw_str(&w, "op", op == TXN_NET_SIGN_ON ? "hello" : "echo");
	jw_str(&w, "id", key);
	if (op == TXN_NET_SIGN_ON)
		jw_str(&w, "participant", institution);
	jw_close(&w);
	return jw_finish(&w, out_len);
}

static int decode_response(json_t *root, txn_response_t *r, txn_error_t *err)
{
	if (!json_is_object(root))
		return fail(err, TXN_EFORMAT, TXN_RC_FORMAT_ERROR, "",
			    "must be a JSON object");
	json_t *id = json_object_get(root, "id");
	if (!json_is_string(id) ||
	    !parse_key(json_string_value(id), &r->stan, r->transmit))
		return fail(err, TXN_EFORMAT, TXN_RC_FORMAT_ERROR, "id",
			    "must be a leg's key");
	json_t *op = json_object_get(root, "op");
	if (json_is_string(op)) {
		int i = find_op(json_string_value(op));
		if (i >= 0 && json_ops[i].kind == TXN_KIND_NETWORK)
			r->net_op = json_ops[i].net_op;
	}
	json_t *code = json_object_get(root, "code");
	const char *status = json_string_value(json_object_get(root, "status"));
	if (code == NULL && r->net_op != TXN_NET_NONE && status != NULL &&
	    strcmp(status, "ok") == 0) {
		r->rc = TXN_RC_APPROVED; /* a hello answered ok */
	} else if (!json_is_string(code) ||
		   txn_rc_parse(json_string_value(code), &r->rc) != 0) {
		return fail(err, TXN_EFORMAT, TXN_RC_FORMAT_ERROR, "code",
			    "must be a two-character response code");
	}
	copy_member(root, "auth_code", r->auth_code, sizeof(r->auth_code));
	copy_member(root, "rrn", r->rrn, sizeof(r->rrn));
	json_t *balance = json_object_get(root, "balance");
	if (json_is_integer(balance)) {
		r->has_balance = true;
		r->balance = (int64_t)json_integer_value(balance);
	}
	copy_member(root, "period", r->period, sizeof(r->period));
	return 0;
}

static int decode_response_any(json_t *root, void *resp, txn_error_t *err)
{
	return decode_response(root, resp, err);
}

typedef struct any_out {
	txn_t *req;
	txn_response_t *resp;
	bool *is_response;
} any_out_t;

/* An answer carries "status"; a request never does. */
static int decode_any(json_t *root, void *data, txn_error_t *err)
{
	any_out_t *o = data;
	if (json_is_object(root) && json_object_get(root, "status") != NULL) {
		*o->is_response = true;
		return decode_response(root, o->resp, err);
	}
	return decode_request(root, o->req, err);
}

int txn_json_decode(const char *line, size_t len, txn_t *req,
		    txn_response_t *resp, bool *is_response, txn_error_t *err)
{
	txn_init(req, TXN_KIND_NONE);
	memset(resp, 0, sizeof(*resp));
	memset(err, 0, sizeof(*err));
	*is_response = false;
	if (len >= TXN_JSON_LINE_MAX)
		return fail(err, TXN_EFORMAT, TXN_RC_FORMAT_ERROR, "",
			    "line longer than %d bytes", TXN_JSON_LINE_MAX - 1);
	any_out_t o = {req, resp, is_response};
	int rc = parse_and_decode(line, len, err, decode_any, &o);
	if (rc != 0 && req->request_id[0] == '\0')
		recover_id(line, len, req->request_id, sizeof(req->request_id));
	return rc;
}

int txn_response_from_json(const char *line, size_t len,
			   txn_response_t *resp, txn_error_t *err)
{
	memset(resp, 0, sizeof(*resp));
	memset(err, 0, sizeof(*err));
	return parse_and_decode(line, len, err, decode_response_any, resp);
}

/* ---- reading answers (client side) ------------------------------------ */

static int decode_answer(json_t *root, txn_answer_t *a, txn_error_t *err)
{
	if (!json_is_object(root))
		return fail(err, TXN_EFORMAT, TXN_RC_FORMAT_ERROR, "", "must be a JSON object");
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
		return fail(err, TXN_EFORMAT, TXN_RC_FORMAT_ERROR, "status", "is required");
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

/* ---- NetClear: JSON with a message header ---------------------------------
 *
 * {"header":{"type":T,"issuer":I,"direction":"request"|"response",
 *            "batch":B,"msg_id":K},"body":{...}}
 * The body holds what a JSON-lines leg or answer holds, but for "op" and
 * "id", which the header's type and msg_id say; the answerer's clearing
 * session is the header's batch.
 */

static const struct {
	const char *type;
	uint8_t kind;
	uint8_t net_op;
} netclear_types[] = {
	{"agreement_payment", TXN_KIND_PURCHASE, 0},
	{"payout", TXN_KIND_CREDIT, 0},
	{"refund", TXN_KIND_REFUND_CREDIT, 0},
	{"reversal", TXN_KIND_REVERSAL, 0},
	{"hello", TXN_KIND_NETWORK, TXN_NET_SIGN_ON},
	{"echo", TXN_KIND_NETWORK, TXN_NET_ECHO},
	{"cutover", TXN_KIND_NETWORK, TXN_NET_CUTOVER},
};

static const char *netclear_type(int kind, int net_op)
{
	for (size_t i = 0; i < PS_ARRAY_LEN(netclear_types); i++)
		if (netclear_types[i].kind == kind &&
		    (kind != TXN_KIND_NETWORK || netclear_types[i].net_op == net_op))
			return netclear_types[i].type;
	return NULL;
}

static int find_netclear_type(const char *type)
{
	for (size_t i = 0; i < PS_ARRAY_LEN(netclear_types); i++)
		if (strcmp(type, netclear_types[i].type) == 0)
			return (int)i;
	return -1;
}

/* Writes the header and opens the body. */
static void nc_begin(jw_t *w, const char *type, const char *issuer,
		     bool response, const char *batch, const char *msg_id)
{
	jw_open(w);
	jw_key(w, "header");
	jw_open(w);
	jw_str(w, "type", type);
	jw_str(w, "issuer", issuer);
	jw_str(w, "direction", response ? "response" : "request");
	jw_opt(w, "batch", batch);
	jw_str(w, "msg_id", msg_id);
	jw_close(w);
	jw_key(w, "body");
	jw_open(w);
}

static int nc_end(jw_t *w, size_t *out_len)
{
	jw_close(w);
	jw_close(w);
	return jw_finish(w, out_len);
}

int txn_leg_to_netclear(const txn_t *txn, unsigned leg, const char *issuer,
			char *out, size_t cap, size_t *out_len)
{
	PS_ASSERT(leg < TXN_LEGS_MAX);
	const txn_leg_t *l = &txn->leg[leg];
	bool refers = txn->kind == TXN_KIND_REVERSAL;
	const char *type = netclear_type(refers ? txn->kind : l->kind, 0);
	if (type == NULL)
		return TXN_EINVALID; /* balance, completion: not NetClear's */
	char key[KEY_DIGITS + 1];
	format_key(l->stan, l->transmit, key);
	const char *alpha = txn_currency_alpha(txn->currency);
	jw_t w = {.out = out, .cap = cap};
	nc_begin(&w, type, issuer, false, "", key);
	jw_str(&w, "account", l->account);
	jw_int(&w, "amount", txn->amount);
	jw_str(&w, "currency", alpha ? alpha : "");
	jw_opt(&w, "rrn", l->rrn);
	jw_opt(&w, "acquirer", txn->acquirer);
	jw_opt(&w, "forwarder", txn->forwarder);
	jw_opt(&w, "institution", l->institution);
	jw_opt(&w, "payee", refers ? "" : txn->payee);
	jw_opt(&w, "merchant_name", txn->merchant_name);
	if (refers) {
		format_key(txn->original_stan, txn->original_transmit, key);
		jw_str(&w, "original", key);
		const char *ot = netclear_type(txn->original_kind, 0);
		jw_str(&w, "original_op", op_name(txn->original_kind, 0)
						  ? op_name(txn->original_kind, 0)
						  : "purchase");
		jw_opt(&w, "original_type", ot ? ot : "");
		if (txn->flags & TXN_F_REPEAT)
			jw_raw(&w, ",\"repeat\":true", 14);
	}
	return nc_end(&w, out_len);
}

int txn_answer_to_netclear(const txn_t *txn, const char *issuer, char *out,
			   size_t cap, size_t *out_len)
{
	const char *type = netclear_type(txn->kind, txn->net_op);
	if (type == NULL)
		return TXN_EINVALID;
	jw_t w = {.out = out, .cap = cap};
	nc_begin(&w, type, issuer, true, txn->wire.settle_date, txn->request_id);
	if (txn->kind == TXN_KIND_NETWORK && txn->rc == TXN_RC_APPROVED) {
		jw_str(&w, "status", "ok");
		jw_str(&w, "code", "00");
		if (txn->net_op == TXN_NET_SIGN_ON)
			jw_str(&w, "participant", issuer);
	} else {
		uint8_t rc = txn->rc == TXN_RC_NONE ? TXN_RC_SYSTEM_MALFUNCTION
						    : txn->rc;
		char code[3];
		txn_rc_text(rc, code);
		jw_str(&w, "status", txn_rc_status(rc));
		jw_str(&w, "code", code);
		if (rc == TXN_RC_APPROVED) {
			jw_opt(&w, "rrn", txn->rrn);
			jw_opt(&w, "auth_code", txn->auth_code);
		} else {
			jw_str(&w, "reason", txn->reason[0] ? txn->reason
							    : txn_rc_meaning(rc));
		}
	}
	return nc_end(&w, out_len);
}

int txn_error_to_netclear(const txn_t *req, const txn_error_t *err,
			  const char *issuer, char *out, size_t cap,
			  size_t *out_len)
{
	const char *type = netclear_type(req->kind, req->net_op);
	uint8_t rc = err->rc == TXN_RC_APPROVED || err->rc == TXN_RC_NONE
			     ? TXN_RC_FORMAT_ERROR
			     : err->rc;
	char code[3], reason[sizeof(err->field) + sizeof(err->reason) + 2];
	txn_rc_text(rc, code);
	if (err->field[0] != '\0')
		snprintf(reason, sizeof(reason), "%s: %s", err->field, err->reason);
	else
		snprintf(reason, sizeof(reason), "%s", err->reason);
	jw_t w = {.out = out, .cap = cap};
	nc_begin(&w, type ? type : "error", issuer, true, "", req->request_id);
	jw_str(&w, "status", txn_rc_status(rc));
	jw_str(&w, "code", code);
	jw_str(&w, "reason", reason);
	return nc_end(&w, out_len);
}

int txn_network_to_netclear(int op, uint32_t stan, const char *transmit,
			    const char *issuer, char *out, size_t cap,
			    size_t *out_len)
{
	const char *type = netclear_type(TXN_KIND_NETWORK, op);
	if (type == NULL)
		return TXN_EINVALID;
	char key[KEY_DIGITS + 1];
	format_key(stan, transmit, key);
	jw_t w = {.out = out, .cap = cap};
	nc_begin(&w, type, issuer, false, "", key);
	if (op == TXN_NET_SIGN_ON)
		jw_str(&w, "participant", issuer);
	return nc_end(&w, out_len);
}

typedef struct nc_out {
	txn_t *req;
	txn_response_t *resp;
	bool *is_response;
} nc_out_t;

/* The header read, its type and msg_id put into the body as the JSON
 * lines' "op" and "id", then the body decoded as a JSON line is. */
static int decode_netclear(json_t *root, void *data, txn_error_t *err)
{
	nc_out_t *o = data;
	if (!json_is_object(root))
		return fail(err, TXN_EFORMAT, TXN_RC_FORMAT_ERROR, "",
			    "must be a JSON object");
	json_t *header = json_object_get(root, "header");
	json_t *body = json_object_get(root, "body");
	if (!json_is_object(header))
		return fail(err, TXN_EFORMAT, TXN_RC_FORMAT_ERROR, "header",
			    "is required (an object)");
	if (body == NULL)
		body = json_object();
	if (!json_is_object(body))
		return fail(err, TXN_EFORMAT, TXN_RC_FORMAT_ERROR, "body",
			    "must be an object");
	const char *type = json_string_value(json_object_get(header, "type"));
	const char *dir = json_string_value(json_object_get(header, "direction"));
	const char *issuer = json_string_value(json_object_get(header, "issuer"));
	json_t *msg_id = json_object_get(header, "msg_id");
	if (dir == NULL || (strcmp(dir, "request") && strcmp(dir, "response")))
		return fail(err, TXN_EFORMAT, TXN_RC_FORMAT_ERROR,
			    "header.direction", "must be request or response");
	*o->is_response = strcmp(dir, "response") == 0;
	if (json_is_string(msg_id))
		json_object_set(body, "id", msg_id);
	if (*o->is_response) {
		int rc = decode_response(body, o->resp, err);
		const char *batch = json_string_value(json_object_get(header, "batch"));
		if (rc == 0 && batch != NULL)
			ps_strlcpy(o->resp->period, batch, sizeof(o->resp->period));
		int t = type != NULL ? find_netclear_type(type) : -1;
		if (rc == 0 && t >= 0 && netclear_types[t].kind == TXN_KIND_NETWORK)
			o->resp->net_op = netclear_types[t].net_op;
		return rc;
	}
	int t = type != NULL ? find_netclear_type(type) : -1;
	if (t < 0)
		return fail(err, TXN_EINVALID, TXN_RC_INVALID_TRANSACTION,
			    "header.type", "unknown message type (agreement_payment, "
			    "payout, refund, reversal, hello, echo, cutover)");
	if (issuer == NULL || issuer[0] == '\0' || strlen(issuer) > 16)
		return fail(err, TXN_EFORMAT, TXN_RC_FORMAT_ERROR, "header.issuer",
			    "must be the sender's member id");
	const char *op = op_name(netclear_types[t].kind, netclear_types[t].net_op);
	if (netclear_types[t].net_op == TXN_NET_CUTOVER) {
		/* Not a JSON-lines op: network management of its own. */
		int rc = get_id(body, "id", "header.msg_id", o->req->request_id,
				sizeof(o->req->request_id), true, err);
		if (rc != 0)
			return rc;
		o->req->kind = TXN_KIND_NETWORK;
		o->req->net_op = TXN_NET_CUTOVER;
		ps_strlcpy(o->req->participant, issuer, sizeof(o->req->participant));
		return 0;
	}
	json_object_set_new(body, "op", json_string(op));
	if (netclear_types[t].net_op == TXN_NET_SIGN_ON &&
	    json_object_get(body, "participant") == NULL)
		json_object_set_new(body, "participant", json_string(issuer));
	int rc = decode_request(body, o->req, err);
	/* The member that sent it, whoever the body names as acquirer. */
	if (rc == 0)
		ps_strlcpy(o->req->participant, issuer, sizeof(o->req->participant));
	return rc;
}

int txn_netclear_decode(const char *line, size_t len, txn_t *req,
			txn_response_t *resp, bool *is_response, txn_error_t *err)
{
	txn_init(req, TXN_KIND_NONE);
	memset(resp, 0, sizeof(*resp));
	memset(err, 0, sizeof(*err));
	*is_response = false;
	if (len >= TXN_JSON_LINE_MAX)
		return fail(err, TXN_EFORMAT, TXN_RC_FORMAT_ERROR, "",
			    "line longer than %d bytes", TXN_JSON_LINE_MAX - 1);
	nc_out_t o = {req, resp, is_response};
	return parse_and_decode(line, len, err, decode_netclear, &o);
}
