/*
 * request.c: decoding PBOC's request lines (proto.h) with jansson over a
 * static parse arena, and finding the id of a line that is no JSON, so
 * that even that is answered by its id.
 */
#include "proto.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core.h"

/* ---- the parse arena ------------------------------------------------------------ */

/* A 16 KiB line of the smallest values ("[0,0,0,...]") makes about 8,000
 * nodes of a few dozen bytes: 1 MiB holds any line that fits. */
#define ARENA_BYTES (1u << 20)

static struct {
	_Alignas(16) uint8_t mem[ARENA_BYTES];
	size_t used;
	bool on; /* during a parse; malloc otherwise */
} arena;

static void *arena_alloc(size_t n)
{
	if (!arena.on)
		return malloc(n);
	size_t need = (n + 15u) & ~(size_t)15u;
	if (need > ARENA_BYTES - arena.used)
		return NULL; /* the parse fails: the line is answered */
	void *p = arena.mem + arena.used;
	arena.used += need;
	return p;
}

static void arena_release(void *p)
{
	const uint8_t *b = p;
	bool ours = b >= arena.mem && b < arena.mem + ARENA_BYTES;
	if (!ours)
		free(p); /* all of the arena goes at once, per line */
}

void pboc_proto_init(void)
{
	json_set_alloc_funcs(arena_alloc, arena_release);
}

/* ---- names ------------------------------------------------------------------------ */

static const char *const op_names[] = {
	[PBOC_OP_NONE] = "none",       [PBOC_OP_SETTLE] = "settle",
	[PBOC_OP_BATCH] = "batch",     [PBOC_OP_BALANCE] = "balance",
	[PBOC_OP_FUND] = "fund",       [PBOC_OP_MEMBERS] = "members",
};

static const char *const status_names[] = {
	[PBOC_ST_NONE] = "none",         [PBOC_ST_OK] = "ok",
	[PBOC_ST_POSTED] = "posted",     [PBOC_ST_QUEUED] = "queued",
	[PBOC_ST_REJECTED] = "rejected", [PBOC_ST_UNKNOWN] = "unknown",
	[PBOC_ST_ERROR] = "error",
};

const char *pboc_op_name(int op)
{
	return op >= 0 && (size_t)op < PS_ARRAY_LEN(op_names) ? op_names[op]
							     : "none";
}

const char *pboc_status_name(int status)
{
	return status >= 0 && (size_t)status < PS_ARRAY_LEN(status_names)
		       ? status_names[status]
		       : "none";
}

/* ---- errors ------------------------------------------------------------------------- */

static int bad(pboc_msg_t *m, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int bad(pboc_msg_t *m, const char *field, const char *fmt, ...)
{
	m->status = PBOC_ST_ERROR;
	ps_strlcpy(m->field, field, sizeof(m->field));
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(m->reason, sizeof(m->reason), fmt, ap);
	va_end(ap);
	return PS_EFORMAT;
}

/* ---- ids of a line that does not parse -------------------------------------------------- */

/* Request ids and batch ids: printable, no quotes, bounded. */
static bool is_id_char(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
	       (c >= 'a' && c <= 'z') || c == '-' || c == '_' || c == '.' ||
	       c == ':';
}

static size_t skip_blank(const char *s, size_t i, size_t len)
{
	while (i < len && (s[i] == ' ' || s[i] == '\t'))
		i++;
	return i;
}

/* The value of the top-level key "id" of a broken line, when it is a
 * string of id characters: one pass that knows strings and nesting, so
 * that an "id" inside a position or a string is not taken for it. */
static void find_id(const char *s, size_t len, char *out, size_t cap)
{
	out[0] = '\0';
	int depth = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '{' || s[i] == '[' || s[i] == '}' || s[i] == ']') {
			depth += s[i] == '{' || s[i] == '[' ? 1 : -1;
			continue;
		}
		if (s[i] != '"')
			continue;
		size_t start = i + 1, end = start;
		while (end < len && s[end] != '"')
			end += s[end] == '\\' ? 2 : 1;
		if (end >= len)
			return; /* the line ends inside a string */
		i = end;
		size_t colon = skip_blank(s, end + 1, len);
		bool is_key = depth == 1 && end - start == 2 &&
			      memcmp(s + start, "id", 2) == 0 && colon < len &&
			      s[colon] == ':';
		if (!is_key)
			continue;
		size_t v = skip_blank(s, colon + 1, len), n = 0;
		if (v >= len || s[v] != '"')
			return;
		while (v + 1 + n < len && n < cap - 1 &&
		       is_id_char((unsigned char)s[v + 1 + n]))
			n++;
		if (n > 0 && v + 1 + n < len && s[v + 1 + n] == '"') {
			memcpy(out, s + v + 1, n);
			out[n] = '\0';
		}
		return;
	}
}

/* ---- fields ---------------------------------------------------------------------------- */

/* An id-like string (request id, batch id) of 1..cap-1 characters. */
static int get_id(json_t *obj, const char *key, char *out, size_t cap,
		  pboc_msg_t *m)
{
	json_t *v = json_object_get(obj, key);
	if (v == NULL)
		return bad(m, key, "is required");
	size_t len = json_is_string(v) ? json_string_length(v) : 0;
	const char *s = json_is_string(v) ? json_string_value(v) : "";
	bool ok = len >= 1 && len < cap;
	for (size_t i = 0; ok && i < len; i++)
		ok = is_id_char((unsigned char)s[i]);
	if (!ok)
		return bad(m, key, "must be a string of 1 to %zu characters "
			   "A-Z a-z 0-9 - _ . :", cap - 1);
	memcpy(out, s, len + 1);
	return 0;
}

static int get_member(json_t *obj, const char *key, const char *field,
		      char out[PBOC_MEMBER_ID_MAX + 1], pboc_msg_t *m)
{
	json_t *v = json_object_get(obj, key);
	if (v == NULL)
		return bad(m, field, "is required");
	size_t len = json_is_string(v) ? json_string_length(v) : 0;
	const char *s = json_is_string(v) ? json_string_value(v) : "";
	if (!pboc_member_id_valid(s, len))
		return bad(m, field, "must be a member id: 1 to %d characters "
			   "A-Z 0-9", PBOC_MEMBER_ID_MAX);
	memcpy(out, s, len + 1);
	return 0;
}

static int get_amount(json_t *obj, const char *field, int64_t min,
		      int64_t *out, pboc_msg_t *m)
{
	json_t *v = json_object_get(obj, "amount");
	if (v == NULL)
		return bad(m, field, "is required");
	if (!json_is_integer(v) || json_integer_value(v) < min ||
	    json_integer_value(v) > PBOC_AMOUNT_MAX)
		return bad(m, field, "must be an integer from %lld to %lld "
			   "(fen)", (long long)min, (long long)PBOC_AMOUNT_MAX);
	*out = (int64_t)json_integer_value(v);
	return 0;
}

/* Optional; when given, CNY: the one currency PBOC settles here. */
static int get_currency(json_t *obj, bool required, pboc_msg_t *m)
{
	json_t *v = json_object_get(obj, "currency");
	if (v == NULL)
		return required ? bad(m, "currency", "is required") : 0;
	if (!json_is_string(v) || strcmp(json_string_value(v), "CNY") != 0)
		return bad(m, "currency", "must be \"CNY\"");
	return 0;
}

/* ---- the ops ------------------------------------------------------------------------ */

static int get_positions(json_t *obj, uint32_t max, pboc_msg_t *m)
{
	json_t *list = json_object_get(obj, "positions");
	/* Empty is a batch too: a window whose positions all netted to
	 * zero settles by moving nothing. */
	if (!json_is_array(list) || json_array_size(list) > max)
		return bad(m, "positions", "must be an array of at most %u "
			   "positions", (unsigned)max);
	pboc_batch_t *b = &m->batch;
	for (size_t i = 0; i < json_array_size(list); i++) {
		json_t *p = json_array_get(list, i);
		char field[PBOC_FIELD_MAX];
		snprintf(field, sizeof(field), "positions[%u]", (unsigned)i);
		if (!json_is_object(p))
			return bad(m, field, "must be an object {\"member\", "
				   "\"amount\"}");
		pboc_position_t *pos = &b->positions[b->count];
		snprintf(field, sizeof(field), "positions[%u].member", (unsigned)i);
		int rc = get_member(p, "member", field, pos->member, m);
		snprintf(field, sizeof(field), "positions[%u].amount", (unsigned)i);
		if (rc == 0)
			rc = get_amount(p, field, -PBOC_AMOUNT_MAX, &pos->amount, m);
		if (rc != 0)
			return rc;
		b->count++;
	}
	return 0;
}

static int decode_settle(json_t *obj, uint32_t max, pboc_msg_t *m)
{
	pboc_batch_t *b = &m->batch;
	int rc = get_id(obj, "batch", b->id, sizeof(b->id), m);
	if (rc == 0)
		rc = get_member(obj, "submitter", "submitter", b->submitter, m);
	if (rc == 0)
		rc = get_currency(obj, true, m);
	if (rc == 0)
		rc = get_positions(obj, max, m);
	return rc;
}

static int decode_members(json_t *obj, pboc_msg_t *m)
{
	if (json_object_get(obj, "after") == NULL)
		return 0;
	return get_member(obj, "after", "after", m->member, m);
}

static int decode_op(json_t *obj, uint32_t max, pboc_msg_t *m)
{
	json_t *v = json_object_get(obj, "op");
	const char *op = json_is_string(v) ? json_string_value(v) : NULL;
	if (op == NULL)
		return bad(m, "op", "must be a string (settle, batch, balance, "
			   "fund, members)");
	for (int i = PBOC_OP_SETTLE; i <= PBOC_OP_MEMBERS; i++)
		if (strcmp(op, op_names[i]) == 0)
			m->op = (uint8_t)i;
	if (m->op == PBOC_OP_NONE)
		return bad(m, "op", "unknown operation (settle, batch, balance, "
			   "fund, members)");
	int rc = get_id(obj, "id", m->id, sizeof(m->id), m);
	if (rc != 0)
		return rc;
	switch (m->op) {
	case PBOC_OP_SETTLE:
		return decode_settle(obj, max, m);
	case PBOC_OP_BATCH:
		return get_id(obj, "batch", m->batch.id, sizeof(m->batch.id), m);
	case PBOC_OP_BALANCE:
		return get_member(obj, "member", "member", m->member, m);
	case PBOC_OP_FUND:
		rc = get_member(obj, "member", "member", m->member, m);
		if (rc == 0)
			rc = get_amount(obj, "amount", 1, &m->amount, m);
		return rc == 0 ? get_currency(obj, false, m) : rc;
	default:
		return decode_members(obj, m);
	}
}

int pboc_request_decode(const char *line, size_t len, uint32_t positions_max,
			pboc_msg_t *m)
{
	PS_ASSERT(positions_max >= 1 && positions_max <= PBOC_POSITIONS_MAX);
	arena.used = 0;
	arena.on = true;
	json_error_t jerr;
	json_t *root = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	int rc;
	if (root == NULL) {
		/* jansson quotes the input: only printable ASCII of it goes
		 * back, so that the answer is always valid UTF-8. */
		for (char *c = jerr.text; *c != '\0'; c++)
			if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7e)
				*c = '?';
		rc = bad(m, "request", "not JSON: %s (column %d)", jerr.text,
			 jerr.column);
	}
	else if (!json_is_object(root))
		rc = bad(m, "request", "must be a JSON object");
	else
		rc = decode_op(root, positions_max, m);
	/* The tree lives in the arena: it all goes with the next line. */
	arena.on = false;
	if (rc != 0 && m->id[0] == '\0')
		find_id(line, len, m->id, sizeof(m->id));
	return rc;
}
