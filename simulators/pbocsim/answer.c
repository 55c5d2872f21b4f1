/*
 * answer.c: PBOC's answer lines (proto.h), written by hand into a
 * bounded buffer: a fixed shape per op and status, every string escaped.
 *
 *   settle   {"id","status","batch", "posted_ms" | "reason", "released"?}
 *   batch    {"id","status","batch","submitter","positions","submitted_ms",
 *             "posted_ms" | "reason"}            (unknown: {"id","status","batch"})
 *   balance  {"id","status","member","kind","balance","credit_limit"}
 *   fund     {"id","status","member","balance","released"?}
 *   members  {"id","status","members":[{"member","kind","balance","credit_limit"}],
 *             "next"?}
 *   errors   {"id"?,"status","reason", and the batch or member named}
 */
#include "proto.h"

#include <inttypes.h>
#include <string.h>

#include "core.h"

/* A writer that stays failed once anything did not fit: one check at
 * the end. */
typedef struct out {
	ps_buf_t buf;
	bool full;
	bool first; /* no comma before the next key */
} out_t;

static void raw(out_t *o, const char *s)
{
	if (!o->full && ps_buf_append_str(&o->buf, s) != 0)
		o->full = true;
}

static void key(out_t *o, const char *k)
{
	raw(o, o->first ? "\"" : ",\"");
	o->first = false;
	raw(o, k);
	raw(o, "\":");
}

static void text(out_t *o, const char *k, const char *v)
{
	key(o, k);
	raw(o, "\"");
	for (; *v != '\0' && !o->full; v++) {
		char esc[7];
		esc[ps_json_escape_byte((unsigned char)*v, esc)] = '\0';
		raw(o, esc);
	}
	raw(o, "\"");
}

static void number(out_t *o, const char *k, int64_t v)
{
	char n[24];
	snprintf(n, sizeof(n), "%" PRId64, v);
	key(o, k);
	raw(o, n);
}

static void open_obj(out_t *o)
{
	raw(o, "{");
	o->first = true;
}

static void close_obj(out_t *o)
{
	raw(o, "}");
	o->first = false;
}

/* ---- the parts ------------------------------------------------------------------- */

static void positions(out_t *o, const pboc_batch_t *b)
{
	key(o, "positions");
	raw(o, "[");
	for (uint32_t i = 0; i < b->count; i++) {
		if (i > 0)
			raw(o, ",");
		open_obj(o);
		text(o, "member", b->positions[i].member);
		number(o, "amount", b->positions[i].amount);
		close_obj(o);
	}
	raw(o, "]");
}

static void members(out_t *o, const pboc_msg_t *m)
{
	key(o, "members");
	raw(o, "[");
	for (uint32_t i = 0; i < m->rows; i++) {
		const pboc_member_row_t *r = &m->row[i];
		if (i > 0)
			raw(o, ",");
		open_obj(o);
		text(o, "member", r->member);
		text(o, "kind", pboc_kind_name(r->kind));
		number(o, "balance", r->balance);
		number(o, "credit_limit", r->credit_limit);
		close_obj(o);
	}
	raw(o, "]");
	if (m->more && m->rows > 0)
		text(o, "next", m->row[m->rows - 1].member);
}

/* The reason of an error names its field first. */
static void reason(out_t *o, const pboc_msg_t *m)
{
	if (m->field[0] == '\0') {
		text(o, "reason", m->reason);
		return;
	}
	char r[PBOC_FIELD_MAX + PBOC_REASON_MAX + 2];
	snprintf(r, sizeof(r), "%s: %s", m->field, m->reason);
	text(o, "reason", r);
}

static void batch_part(out_t *o, const pboc_msg_t *m)
{
	const pboc_batch_t *b = &m->batch;
	if (b->id[0] != '\0')
		text(o, "batch", b->id);
	if (m->op == PBOC_OP_BATCH && m->status != PBOC_ST_UNKNOWN &&
	    m->status != PBOC_ST_ERROR) {
		text(o, "submitter", b->submitter);
		positions(o, b);
		number(o, "submitted_ms", (int64_t)b->submitted_ms);
	}
	if (m->status == PBOC_ST_POSTED)
		number(o, "posted_ms", (int64_t)b->posted_ms);
	else if (m->status != PBOC_ST_UNKNOWN)
		reason(o, m);
	if (m->op == PBOC_OP_SETTLE && m->released > 0)
		number(o, "released", m->released);
}

static void member_part(out_t *o, const pboc_msg_t *m)
{
	if (m->member[0] != '\0')
		text(o, "member", m->member);
	if (m->status != PBOC_ST_OK) {
		reason(o, m);
		return;
	}
	if (m->op == PBOC_OP_BALANCE)
		text(o, "kind", pboc_kind_name(m->kind));
	number(o, "balance", m->balance);
	if (m->op == PBOC_OP_BALANCE)
		number(o, "credit_limit", m->credit_limit);
	if (m->op == PBOC_OP_FUND && m->released > 0)
		number(o, "released", m->released);
}

int pboc_answer_encode(const pboc_msg_t *m, char *out, size_t cap,
		       size_t *len)
{
	PS_ASSERT(m->status != PBOC_ST_NONE);
	out_t o = {.full = false};
	ps_buf_init(&o.buf, out, cap);
	open_obj(&o);
	if (m->id[0] != '\0')
		text(&o, "id", m->id);
	text(&o, "status", pboc_status_name(m->status));
	switch (m->op) {
	case PBOC_OP_SETTLE:
	case PBOC_OP_BATCH:
		batch_part(&o, m);
		break;
	case PBOC_OP_BALANCE:
	case PBOC_OP_FUND:
		member_part(&o, m);
		break;
	case PBOC_OP_MEMBERS:
		if (m->status == PBOC_ST_OK)
			members(&o, m);
		else
			reason(&o, m);
		break;
	default:
		reason(&o, m);
	}
	close_obj(&o);
	raw(&o, "\n");
	if (o.full)
		return PS_ENOSPC;
	*len = o.buf.len;
	return 0;
}
