/*
 * clearing_file.c: the clearing files of a network, writer and reader
 * (clearing_file.h): the obligation rule of one line, totals, the
 * UnionPay fixed-width file and the NetClear session summary.
 *
 * The writer and the reader share one table of columns per record, so a
 * layout change is one edit and they cannot drift apart.
 */
#include "clearing_file.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "core.h"

/* ---- types and the obligation rule ------------------------------------------ */

static const struct {
	char code[3];
	uint8_t group;
	int8_t pair; /* the type it reverses, or its reversal */
} types[CLF_TYPE_COUNT] = {
	[CLF_DEBIT] = {"00", CLF_GROUP_DEBIT, CLF_REV_DEBIT},
	[CLF_CREDIT] = {"26", CLF_GROUP_CREDIT, CLF_REV_CREDIT},
	[CLF_REFUND] = {"20", CLF_GROUP_REFUND, CLF_REV_REFUND},
	[CLF_REV_DEBIT] = {"40", CLF_GROUP_REVERSAL, CLF_DEBIT},
	[CLF_REV_CREDIT] = {"46", CLF_GROUP_REVERSAL, CLF_CREDIT},
	[CLF_REV_REFUND] = {"42", CLF_GROUP_REVERSAL, CLF_REFUND},
};

static const char *const group_names[CLF_GROUP_COUNT] = {
	"agreement_payment", "payout", "refund", "reversal"};

static bool type_valid(int type)
{
	return type >= 0 && type < CLF_TYPE_COUNT;
}

const char *clf_type_code(int type)
{
	return type_valid(type) ? types[type].code : NULL;
}

int clf_type_of_code(const char *code)
{
	for (int i = 0; i < CLF_TYPE_COUNT; i++)
		if (strcmp(code, types[i].code) == 0)
			return i;
	return -1;
}

const char *clf_group_name(int group)
{
	return group >= 0 && group < CLF_GROUP_COUNT ? group_names[group] : NULL;
}

int clf_group_of(int type)
{
	PS_ASSERT(type_valid(type));
	return types[type].group;
}

bool clf_type_is_reversal(int type)
{
	return type_valid(type) && types[type].group == CLF_GROUP_REVERSAL;
}

int clf_type_reversed(int type)
{
	PS_ASSERT(type_valid(type));
	return types[type].pair;
}

int64_t clf_net(int type, char role, int64_t amount, int64_t fee_issuer,
		int64_t fee_network)
{
	PS_ASSERT(type_valid(type) && (role == 'I' || role == 'A'));
	bool reversal = clf_type_is_reversal(type);
	int base = reversal ? types[type].pair : type;
	int64_t v;
	if (base == CLF_DEBIT)
		v = role == 'I' ? -(amount - fee_issuer) - fee_network
				: (amount - fee_issuer) - fee_network;
	else
		v = role == 'I' ? amount : -amount;
	return reversal ? -v : v;
}

int64_t clf_network_net(int type, int64_t fee_network)
{
	PS_ASSERT(type_valid(type));
	if (type == CLF_DEBIT)
		return 2 * fee_network;
	return type == CLF_REV_DEBIT ? -2 * fee_network : 0;
}

/* ---- totals -------------------------------------------------------------------- */

static bool add_capped(int64_t *sum, int64_t v)
{
	int64_t next = *sum + v;
	if (next > CLF_TOTAL_MAX || next < -CLF_TOTAL_MAX)
		return false;
	*sum = next;
	return true;
}

int clf_totals_add(clf_totals_t *t, int type, char role, int64_t amount,
		   int64_t fee_issuer, int64_t fee_network)
{
	PS_ASSERT(type_valid(type) && (role == 'I' || role == 'A'));
	clf_totals_t n = *t;
	int g = types[type].group;
	bool issuer = role == 'I';
	/* Fee flows: a debit's go to the issuer and the network, its
	 * reversal's come back. */
	int64_t *fi = NULL, *fn = NULL;
	if (type == CLF_DEBIT) {
		fi = issuer ? &n.issuer_fee_receivable : &n.issuer_fee_payable;
		fn = &n.network_fee_payable;
	} else if (type == CLF_REV_DEBIT) {
		fi = issuer ? &n.issuer_fee_payable : &n.issuer_fee_receivable;
		fn = &n.network_fee_receivable;
	}
	bool ok = n.lines < CLF_COUNT_MAX && n.count[g] < CLF_COUNT_MAX &&
		  add_capped(&n.amount[g], amount) &&
		  add_capped(&n.net, clf_net(type, role, amount, fee_issuer,
					     fee_network));
	if (ok && fi != NULL)
		ok = add_capped(fi, fee_issuer) && add_capped(fn, fee_network);
	if (!ok)
		return PS_ELIMIT;
	n.lines++;
	n.count[g]++;
	*t = n;
	return 0;
}

bool clf_totals_equal(const clf_totals_t *a, const clf_totals_t *b)
{
	if (a->lines != b->lines || a->net != b->net ||
	    a->issuer_fee_receivable != b->issuer_fee_receivable ||
	    a->issuer_fee_payable != b->issuer_fee_payable ||
	    a->network_fee_receivable != b->network_fee_receivable ||
	    a->network_fee_payable != b->network_fee_payable)
		return false;
	for (int g = 0; g < CLF_GROUP_COUNT; g++)
		if (a->count[g] != b->count[g] || a->amount[g] != b->amount[g])
			return false;
	return true;
}

/* ---- values ---------------------------------------------------------------------- */

static int fail(clf_error_t *err, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(clf_error_t *err, const char *field, const char *fmt, ...)
{
	if (err != NULL) {
		ps_strlcpy(err->field, field, sizeof(err->field));
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err->reason, sizeof(err->reason), fmt, ap);
		va_end(ap);
	}
	return PS_EFORMAT;
}

static bool is_member(const char *s)
{
	size_t n = strlen(s);
	return n >= 1 && n <= CLF_MEMBER_MAX && ps_is_digits(s, n);
}

static bool is_date(const char *s)
{
	if (strlen(s) != 8 || !ps_is_digits(s, 8))
		return false;
	int month = (s[4] - '0') * 10 + (s[5] - '0');
	int day = (s[6] - '0') * 10 + (s[7] - '0');
	return s[0] != '0' && month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

static bool is_transmit(const char *s)
{
	return strlen(s) == 10 && ps_is_digits(s, 10);
}

/* Letters, digits and spaces inside (field 37 is an). */
static bool is_an(const char *s)
{
	for (; *s != '\0'; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= 'a' && *s <= 'z') || *s == ' '))
			return false;
	return true;
}

static bool is_masked(const char *s)
{
	for (; *s != '\0'; s++)
		if (!((*s >= '0' && *s <= '9') || *s == '*'))
			return false;
	return true;
}

bool clf_nc_batch_valid(const char *text)
{
	size_t n = strlen(text);
	if (n != 11 || text[0] != 'B' || !ps_is_digits(text + 1, 10))
		return false;
	char date[9];
	memcpy(date, text + 1, 8);
	date[8] = '\0';
	return is_date(date) && !(text[9] == '0' && text[10] == '0');
}

/* ---- the columns ---------------------------------------------------------------------
 *
 * A record is a list of columns, each a kind of value at a position; the
 * writer formats each into its place, the reader reads each back, and
 * both check the same rules. */

enum col_kind {
	COL_LIT,    /* a literal (the record type, the version) */
	COL_TEXT,   /* left-aligned text, space-padded; check() says what */
	COL_NUM,    /* zero-padded digits: a u64 */
	COL_SIGNED, /* "C"/"D" then digits: an int64 */
};

typedef struct col {
	uint8_t kind;
	uint8_t pos;    /* 1-based */
	uint8_t len;    /* the digits of a SIGNED, its sign not counted */
	const char *name;
	const char *lit;
	bool (*check)(const char *);
	size_t offset;  /* of the value in the record's struct */
	size_t size;    /* text: the array's bytes; num: the integer's */
	uint64_t max;   /* num, signed: the largest magnitude */
} col_t;

static bool any_text(const char *s)
{
	(void)s;
	return true;
}

static bool is_role(const char *s)
{
	return strcmp(s, "I") == 0 || strcmp(s, "A") == 0;
}

static bool is_type(const char *s)
{
	return clf_type_of_code(s) >= 0;
}

static bool is_written(const char *s)
{
	char date[9];
	if (strlen(s) != 14 || !ps_is_digits(s, 14))
		return false;
	memcpy(date, s, 8);
	date[8] = '\0';
	return is_date(date);
}

#define LIT(p, l, n, v) {COL_LIT, p, l, n, v, NULL, 0, 0, 0}
#define TEXT(S, p, l, n, f, chk) {COL_TEXT, p, l, n, NULL, chk, offsetof(S, f), sizeof(((S *)0)->f), 0}
#define NUM(S, p, l, n, f, mx) {COL_NUM, p, l, n, NULL, NULL, offsetof(S, f), sizeof(((S *)0)->f), mx}
#define SIGNED(S, p, l, n, f) {COL_SIGNED, p, l, n, NULL, NULL, offsetof(S, f), sizeof(int64_t), CLF_TOTAL_MAX}

/* The header. */
static const col_t header_cols[] = {
	LIT(1, 1, "record", "H"),
	LIT(2, 2, "version", "01"),
	TEXT(clf_cup_header_t, 4, 8, "date", date, is_date),
	TEXT(clf_cup_header_t, 12, 11, "member", member, is_member),
	TEXT(clf_cup_header_t, 23, 11, "network", network, is_member),
	TEXT(clf_cup_header_t, 34, 16, "batch", batch, any_text),
	TEXT(clf_cup_header_t, 50, 14, "written", written, is_written),
};

/* A D line: its role and type are chars and a number in the struct, so
 * they travel through these two text fields. */
typedef struct line_cols {
	clf_cup_line_t l;
	char role[2];
	char type[3];
} line_cols_t;

#define LF(f) l.f
static const col_t line_cols[] = {
	LIT(1, 1, "record", "D"),
	TEXT(line_cols_t, 2, 8, "date", LF(date), is_date),
	TEXT(line_cols_t, 10, 11, "member", LF(member), is_member),
	TEXT(line_cols_t, 21, 1, "role", role, is_role),
	TEXT(line_cols_t, 22, 11, "counterparty", LF(counterparty), is_member),
	TEXT(line_cols_t, 33, 2, "type", type, is_type),
	NUM(line_cols_t, 35, 6, "stan", LF(stan), 999999),
	TEXT(line_cols_t, 41, 10, "transmit", LF(transmit), is_transmit),
	NUM(line_cols_t, 51, 6, "fwd_stan", LF(fwd_stan), 999999),
	TEXT(line_cols_t, 57, 10, "fwd_transmit", LF(fwd_transmit), is_transmit),
	TEXT(line_cols_t, 67, 12, "rrn", LF(rrn), is_an),
	TEXT(line_cols_t, 79, 19, "account", LF(account), is_masked),
	NUM(line_cols_t, 98, 12, "amount", LF(amount), CLF_AMOUNT_MAX),
	NUM(line_cols_t, 110, 12, "fee_issuer", LF(fee_issuer), CLF_AMOUNT_MAX),
	NUM(line_cols_t, 122, 12, "fee_network", LF(fee_network), CLF_AMOUNT_MAX),
	{COL_SIGNED, 134, 12, "net", NULL, NULL, offsetof(line_cols_t, l.net), sizeof(int64_t), CLF_AMOUNT_MAX},
	NUM(line_cols_t, 147, 3, "currency", LF(currency), 999),
	TEXT(line_cols_t, 150, 11, "sender", LF(sender), is_member),
	NUM(line_cols_t, 161, 12, "leg_id", LF(leg_id), 999999999999ull),
};

#define TF(f) totals.f
static const col_t trailer_cols[] = {
	LIT(1, 1, "record", "T"),
	TEXT(clf_cup_trailer_t, 2, 8, "date", date, is_date),
	TEXT(clf_cup_trailer_t, 10, 11, "member", member, is_member),
	NUM(clf_cup_trailer_t, 21, 8, "lines", TF(lines), CLF_COUNT_MAX),
	NUM(clf_cup_trailer_t, 29, 8, "debits", TF(count[CLF_GROUP_DEBIT]), CLF_COUNT_MAX),
	NUM(clf_cup_trailer_t, 37, 16, "debits_amount", TF(amount[CLF_GROUP_DEBIT]), CLF_TOTAL_MAX),
	NUM(clf_cup_trailer_t, 53, 8, "credits", TF(count[CLF_GROUP_CREDIT]), CLF_COUNT_MAX),
	NUM(clf_cup_trailer_t, 61, 16, "credits_amount", TF(amount[CLF_GROUP_CREDIT]), CLF_TOTAL_MAX),
	NUM(clf_cup_trailer_t, 77, 8, "refunds", TF(count[CLF_GROUP_REFUND]), CLF_COUNT_MAX),
	NUM(clf_cup_trailer_t, 85, 16, "refunds_amount", TF(amount[CLF_GROUP_REFUND]), CLF_TOTAL_MAX),
	NUM(clf_cup_trailer_t, 101, 8, "reversals", TF(count[CLF_GROUP_REVERSAL]), CLF_COUNT_MAX),
	NUM(clf_cup_trailer_t, 109, 16, "reversals_amount", TF(amount[CLF_GROUP_REVERSAL]), CLF_TOTAL_MAX),
	NUM(clf_cup_trailer_t, 125, 16, "issuer_fee_receivable", TF(issuer_fee_receivable), CLF_TOTAL_MAX),
	NUM(clf_cup_trailer_t, 141, 16, "issuer_fee_payable", TF(issuer_fee_payable), CLF_TOTAL_MAX),
	NUM(clf_cup_trailer_t, 157, 16, "network_fee_receivable", TF(network_fee_receivable), CLF_TOTAL_MAX),
	NUM(clf_cup_trailer_t, 173, 16, "network_fee_payable", TF(network_fee_payable), CLF_TOTAL_MAX),
	SIGNED(clf_cup_trailer_t, 189, 16, "net", TF(net)),
};

static uint64_t get_uint(const void *p, size_t size)
{
	switch (size) {
	case 2: return *(const uint16_t *)p;
	case 4: return *(const uint32_t *)p;
	default: return *(const uint64_t *)p;
	}
}

static void put_uint(void *p, size_t size, uint64_t v)
{
	switch (size) {
	case 2: *(uint16_t *)p = (uint16_t)v; break;
	case 4: *(uint32_t *)p = (uint32_t)v; break;
	default: *(uint64_t *)p = v; break;
	}
}

/* One column into its place in line (spaces everywhere else). */
static int put_col(const col_t *c, const void *rec, char *line, clf_error_t *err)
{
	char *at = line + c->pos - 1;
	const uint8_t *base = rec;
	switch (c->kind) {
	case COL_LIT:
		memcpy(at, c->lit, c->len);
		return 0;
	case COL_TEXT: {
		const char *s = (const char *)(base + c->offset);
		size_t n = strnlen(s, c->size);
		if (n == c->size || n > c->len || !c->check(s) ||
		    (n > 0 && s[n - 1] == ' '))
			return fail(err, c->name, "\"%.40s\" does not fit %u "
				    "columns of its kind", s, (unsigned)c->len);
		memcpy(at, s, n);
		return 0;
	}
	case COL_NUM: {
		uint64_t v = get_uint(base + c->offset, c->size);
		if (c->size == 8 && (int64_t)v < 0)
			return fail(err, c->name, "must not be negative");
		if (v > c->max || ps_format_u64(at, c->len, v) != 0)
			return fail(err, c->name, "%" PRIu64 " is more than %u "
				    "digits", v, (unsigned)c->len);
		return 0;
	}
	default: {
		int64_t v = *(const int64_t *)(base + c->offset);
		uint64_t m = v < 0 ? (uint64_t)-v : (uint64_t)v;
		if (m > c->max || ps_format_u64(at + 1, c->len, m) != 0)
			return fail(err, c->name, "%" PRId64 " is more than %u "
				    "digits", v, (unsigned)c->len);
		at[0] = v < 0 ? 'D' : 'C';
		return 0;
	}
	}
}

/* One column of line back into rec. */
static int get_col(const col_t *c, const char *line, void *rec, clf_error_t *err)
{
	const char *at = line + c->pos - 1;
	uint8_t *base = rec;
	switch (c->kind) {
	case COL_LIT:
		if (memcmp(at, c->lit, c->len) != 0)
			return fail(err, c->name, "must be \"%s\"", c->lit);
		return 0;
	case COL_TEXT: {
		size_t n = c->len;
		while (n > 0 && at[n - 1] == ' ')
			n--;
		char *s = (char *)(base + c->offset);
		PS_ASSERT(n < c->size);
		memcpy(s, at, n);
		s[n] = '\0';
		if (memchr(s, '\0', n) != NULL || !c->check(s))
			return fail(err, c->name, "\"%.*s\" is not what column "
				    "%u holds", (int)c->len, at, (unsigned)c->pos);
		return 0;
	}
	case COL_NUM: {
		uint64_t v = 0;
		if (!ps_is_digits(at, c->len) ||
		    ps_parse_u64(at, c->len, &v) != 0 || v > c->max)
			return fail(err, c->name, "must be %u digits", (unsigned)c->len);
		put_uint(base + c->offset, c->size, v);
		return 0;
	}
	default: {
		uint64_t v = 0;
		if ((at[0] != 'C' && at[0] != 'D') || !ps_is_digits(at + 1, c->len) ||
		    ps_parse_u64(at + 1, c->len, &v) != 0 || v > c->max)
			return fail(err, c->name, "must be C or D and %u digits",
				    (unsigned)c->len);
		if (at[0] == 'D' && v == 0)
			return fail(err, c->name, "zero is C");
		*(int64_t *)(base + c->offset) = at[0] == 'D' ? -(int64_t)v
							      : (int64_t)v;
		return 0;
	}
	}
}

static int write_cols(const col_t *cols, size_t count, const void *rec,
		      char *out, size_t cap, size_t *len)
{
	if (cap < CLF_CUP_WIDTH + 2)
		return PS_ENOSPC;
	memset(out, ' ', CLF_CUP_WIDTH);
	for (size_t i = 0; i < count; i++)
		if (put_col(&cols[i], rec, out, NULL) != 0)
			return PS_EINVAL;
	out[CLF_CUP_WIDTH] = '\n';
	out[CLF_CUP_WIDTH + 1] = '\0';
	*len = CLF_CUP_WIDTH + 1;
	return 0;
}

static int read_cols(const col_t *cols, size_t count, const char *text,
		     void *rec, clf_error_t *err)
{
	for (size_t i = 0; i < count; i++) {
		int rc = get_col(&cols[i], text, rec, err);
		if (rc != 0)
			return rc;
	}
	/* What no column holds is spaces: nothing hides past the fields. */
	const col_t *last = &cols[count - 1];
	size_t end = last->pos - 1 + last->len + (last->kind == COL_SIGNED);
	for (size_t i = end; i < CLF_CUP_WIDTH; i++)
		if (text[i] != ' ')
			return fail(err, "filler", "column %zu must be a space", i + 1);
	return 0;
}

/* ---- UnionPay: lines ------------------------------------------------------------------- */

static bool line_consistent(const clf_cup_line_t *l, clf_error_t *err)
{
	int type = l->type;
	int base = clf_type_is_reversal(type) ? clf_type_reversed(type) : type;
	if (base != CLF_DEBIT && (l->fee_issuer != 0 || l->fee_network != 0))
		return fail(err, "fee_issuer", "a credit or refund carries no "
			    "fees") == 0;
	if (l->fee_issuer > l->amount)
		return fail(err, "fee_issuer", "more than the amount") == 0;
	if (l->net != clf_net(type, l->role, l->amount, l->fee_issuer,
			      l->fee_network))
		return fail(err, "net", "is not what the amount and fees of a "
			    "%s line as %c make", types[type].code, l->role) == 0;
	return true;
}

int clf_cup_write_header(const clf_cup_header_t *h, char *out, size_t cap,
			 size_t *len)
{
	char batch[CLF_BATCH_MAX + 1];
	snprintf(batch, sizeof(batch), "CUP-%.8s", h->date);
	if (strcmp(batch, h->batch) != 0)
		return PS_EINVAL;
	return write_cols(header_cols, PS_ARRAY_LEN(header_cols), h, out, cap, len);
}

int clf_cup_write_line(const clf_cup_line_t *l, char *out, size_t cap,
		       size_t *len)
{
	if (!type_valid(l->type) || (l->role != 'I' && l->role != 'A') ||
	    !line_consistent(l, NULL))
		return PS_EINVAL;
	line_cols_t lc = {.l = *l};
	lc.role[0] = l->role;
	memcpy(lc.type, types[l->type].code, 3);
	return write_cols(line_cols, PS_ARRAY_LEN(line_cols), &lc, out, cap, len);
}

int clf_cup_write_trailer(const clf_cup_trailer_t *t, char *out, size_t cap,
			  size_t *len)
{
	return write_cols(trailer_cols, PS_ARRAY_LEN(trailer_cols), t, out, cap,
			  len);
}

int clf_cup_parse_line(const char *text, size_t len, clf_cup_record_t *out,
		       clf_error_t *err)
{
	memset(out, 0, sizeof(*out));
	if (len != CLF_CUP_WIDTH)
		return fail(err, "record", "a line is %u characters, not %zu",
			    CLF_CUP_WIDTH, len);
	switch (text[0]) {
	case 'H': {
		out->kind = CLF_RECORD_HEADER;
		int rc = read_cols(header_cols, PS_ARRAY_LEN(header_cols), text,
				   &out->header, err);
		char batch[CLF_BATCH_MAX + 1];
		snprintf(batch, sizeof(batch), "CUP-%s", out->header.date);
		if (rc == 0 && strcmp(batch, out->header.batch) != 0)
			return fail(err, "batch", "must be %s", batch);
		return rc;
	}
	case 'D': {
		out->kind = CLF_RECORD_DETAIL;
		line_cols_t lc;
		memset(&lc, 0, sizeof(lc));
		int rc = read_cols(line_cols, PS_ARRAY_LEN(line_cols), text, &lc, err);
		if (rc != 0)
			return rc;
		lc.l.role = lc.role[0];
		lc.l.type = (uint8_t)clf_type_of_code(lc.type);
		out->line = lc.l;
		return line_consistent(&out->line, err) ? 0 : PS_EFORMAT;
	}
	case 'T':
		out->kind = CLF_RECORD_TRAILER;
		return read_cols(trailer_cols, PS_ARRAY_LEN(trailer_cols), text,
				 &out->trailer, err);
	default:
		return fail(err, "record", "must be H, D or T");
	}
}

/* ---- UnionPay: a whole file -------------------------------------------------------------- */

typedef struct cup_reader {
	clf_cup_header_t header;
	clf_totals_t sums;
	uint32_t line;
	bool have_header, have_trailer;
} cup_reader_t;

static int take_record(cup_reader_t *r, const clf_cup_record_t *rec,
		       clf_cup_line_fn on_line, void *ctx,
		       clf_cup_trailer_t *trailer, clf_error_t *err)
{
	if (r->have_trailer)
		return fail(err, "record", "nothing may follow the trailer");
	if (!r->have_header && rec->kind != CLF_RECORD_HEADER)
		return fail(err, "record", "the file must begin with its header");
	switch (rec->kind) {
	case CLF_RECORD_HEADER:
		if (r->have_header)
			return fail(err, "record", "a second header");
		r->header = rec->header;
		r->have_header = true;
		return 0;
	case CLF_RECORD_DETAIL: {
		const clf_cup_line_t *l = &rec->line;
		if (strcmp(l->date, r->header.date) != 0 ||
		    strcmp(l->member, r->header.member) != 0)
			return fail(err, strcmp(l->date, r->header.date) ? "date"
									 : "member",
				    "must be the header's");
		if (clf_totals_add(&r->sums, l->type, l->role, l->amount,
				   l->fee_issuer, l->fee_network) != 0)
			return fail(err, "amount", "the file's totals overflow");
		return on_line != NULL ? on_line(ctx, l) : 0;
	}
	default: {
		const clf_cup_trailer_t *t = &rec->trailer;
		if (strcmp(t->date, r->header.date) != 0 ||
		    strcmp(t->member, r->header.member) != 0)
			return fail(err, "date", "the trailer's date and member "
				    "must be the header's");
		if (!clf_totals_equal(&t->totals, &r->sums))
			return fail(err, "totals", "are not the sums of the %u "
				    "lines (net %" PRId64 ")", r->sums.lines,
				    r->sums.net);
		r->have_trailer = true;
		if (trailer != NULL)
			*trailer = *t;
		return 0;
	}
	}
}

int clf_cup_read(const char *text, size_t len, clf_cup_line_fn on_line,
		 void *ctx, clf_cup_header_t *header,
		 clf_cup_trailer_t *trailer, clf_error_t *err)
{
	cup_reader_t r;
	memset(&r, 0, sizeof(r));
	clf_error_t scratch;
	if (err == NULL)
		err = &scratch;
	memset(err, 0, sizeof(*err));
	size_t at = 0;
	while (at < len) {
		r.line++;
		err->line = r.line;
		const char *nl = memchr(text + at, '\n', len - at);
		if (nl == NULL)
			return fail(err, "record", "the last line has no newline");
		clf_cup_record_t rec;
		int rc = clf_cup_parse_line(text + at, (size_t)(nl - text) - at,
					    &rec, err);
		if (rc == 0)
			rc = take_record(&r, &rec, on_line, ctx, trailer, err);
		if (rc != 0)
			return rc;
		at = (size_t)(nl - text) + 1;
	}
	err->line = r.line + 1;
	if (!r.have_trailer)
		return fail(err, "record", r.have_header ? "no trailer" : "empty file");
	err->line = 0;
	if (header != NULL)
		*header = r.header;
	return 0;
}

/* ---- NetClear: the summary ----------------------------------------------------------------- */

static const char *const fee_keys[4] = {"issuer_receivable", "issuer_payable",
					"network_receivable", "network_payable"};

static int64_t *fee_of(clf_totals_t *t, int i)
{
	int64_t *f[4] = {&t->issuer_fee_receivable, &t->issuer_fee_payable,
			 &t->network_fee_receivable, &t->network_fee_payable};
	return f[i];
}

static bool summary_valid(const clf_nc_summary_t *s)
{
	if (!is_member(s->network) || !is_member(s->member) ||
	    !clf_nc_batch_valid(s->batch))
		return false;
	uint64_t legs = 0;
	clf_totals_t t = s->totals;
	for (int g = 0; g < CLF_GROUP_COUNT; g++) {
		if (t.amount[g] < 0 || t.amount[g] > CLF_TOTAL_MAX ||
		    t.count[g] > CLF_COUNT_MAX)
			return false;
		legs += t.count[g];
	}
	for (int i = 0; i < 4; i++)
		if (*fee_of(&t, i) < 0 || *fee_of(&t, i) > CLF_TOTAL_MAX)
			return false;
	return legs == t.lines && t.net >= -CLF_TOTAL_MAX && t.net <= CLF_TOTAL_MAX;
}

int clf_nc_write(const clf_nc_summary_t *s, char *out, size_t cap,
		 size_t *len)
{
	if (!summary_valid(s))
		return PS_EINVAL;
	clf_totals_t t = s->totals;
	ps_buf_t b;
	ps_buf_init(&b, out, cap);
	int rc = ps_buf_printf(&b, "{\"format\":\"netclear-summary\",\"version\":1,"
			       "\"network\":\"%s\",\"batch\":\"%s\",\"member\":\"%s\","
			       "\"legs\":%u,\"types\":{", s->network, s->batch,
			       s->member, t.lines);
	for (int g = 0; g < CLF_GROUP_COUNT && rc == 0; g++)
		rc = ps_buf_printf(&b, "%s\"%s\":{\"count\":%u,\"amount\":%" PRId64 "}",
				   g ? "," : "", group_names[g], t.count[g],
				   t.amount[g]);
	if (rc == 0)
		rc = ps_buf_append_str(&b, "},\"fees\":{");
	for (int i = 0; i < 4 && rc == 0; i++)
		rc = ps_buf_printf(&b, "%s\"%s\":%" PRId64, i ? "," : "",
				   fee_keys[i], *fee_of(&t, i));
	if (rc == 0)
		rc = ps_buf_printf(&b, "},\"net\":%" PRId64 "}\n", t.net);
	if (rc == 0 && b.len < cap)
		out[b.len] = '\0';
	if (rc != 0 || b.len >= cap)
		return PS_ENOSPC;
	*len = b.len;
	return 0;
}

/* An object with exactly these keys (in any order). */
static int exact_keys(json_t *obj, const char *path, const char *const *keys,
		      size_t count, clf_error_t *err)
{
	if (!json_is_object(obj))
		return fail(err, path, "must be an object");
	const char *key;
	json_t *v;
	json_object_foreach(obj, key, v) {
		size_t i = 0;
		while (i < count && strcmp(key, keys[i]) != 0)
			i++;
		if (i == count)
			return fail(err, path, "unknown key \"%.40s\"", key);
	}
	for (size_t i = 0; i < count; i++)
		if (json_object_get(obj, keys[i]) == NULL)
			return fail(err, path, "\"%s\" is required", keys[i]);
	return 0;
}

static int get_int(json_t *obj, const char *key, const char *path, int64_t lo,
		   int64_t hi, int64_t *out, clf_error_t *err)
{
	json_t *v = json_object_get(obj, key);
	if (!json_is_integer(v) || json_integer_value(v) < lo ||
	    json_integer_value(v) > hi)
		return fail(err, path, "must be an integer %" PRId64 " to %" PRId64,
			    lo, hi);
	*out = (int64_t)json_integer_value(v);
	return 0;
}

static int get_str(json_t *obj, const char *key, char *out, size_t cap,
		   bool (*check)(const char *), clf_error_t *err)
{
	const char *s = json_string_value(json_object_get(obj, key));
	if (s == NULL || strlen(s) >= cap || !check(s))
		return fail(err, key, "is not what a summary's %s is", key);
	memcpy(out, s, strlen(s) + 1);
	return 0;
}

static bool is_format(const char *s)
{
	return strcmp(s, "netclear-summary") == 0;
}

static int parse_groups(json_t *types_obj, clf_totals_t *t, clf_error_t *err)
{
	int rc = exact_keys(types_obj, "types", group_names, CLF_GROUP_COUNT, err);
	for (int g = 0; g < CLF_GROUP_COUNT && rc == 0; g++) {
		static const char *const keys[2] = {"count", "amount"};
		char path[40];
		json_t *grp = json_object_get(types_obj, group_names[g]);
		snprintf(path, sizeof(path), "types.%s", group_names[g]);
		int64_t count = 0;
		rc = exact_keys(grp, path, keys, 2, err);
		if (rc == 0) {
			snprintf(path, sizeof(path), "types.%s.count", group_names[g]);
			rc = get_int(grp, "count", path, 0, CLF_COUNT_MAX, &count, err);
		}
		if (rc == 0) {
			snprintf(path, sizeof(path), "types.%s.amount", group_names[g]);
			rc = get_int(grp, "amount", path, 0, CLF_TOTAL_MAX,
				     &t->amount[g], err);
		}
		t->count[g] = (uint32_t)count;
	}
	return rc;
}

static int parse_summary(json_t *root, clf_nc_summary_t *s, clf_error_t *err)
{
	static const char *const keys[] = {"format", "version", "network", "batch",
					   "member", "legs", "types", "fees", "net"};
	clf_totals_t *t = &s->totals;
	char format[24];
	int64_t version = 0, legs = 0;
	int rc;
	if ((rc = exact_keys(root, "", keys, PS_ARRAY_LEN(keys), err)) ||
	    (rc = get_str(root, "format", format, sizeof(format), is_format, err)) ||
	    (rc = get_int(root, "version", "version", 1, 1, &version, err)) ||
	    (rc = get_str(root, "network", s->network, sizeof(s->network), is_member, err)) ||
	    (rc = get_str(root, "batch", s->batch, sizeof(s->batch), clf_nc_batch_valid, err)) ||
	    (rc = get_str(root, "member", s->member, sizeof(s->member), is_member, err)) ||
	    (rc = get_int(root, "legs", "legs", 0, CLF_COUNT_MAX, &legs, err)) ||
	    (rc = parse_groups(json_object_get(root, "types"), t, err)) ||
	    (rc = get_int(root, "net", "net", -CLF_TOTAL_MAX, CLF_TOTAL_MAX, &t->net, err)))
		return rc;
	json_t *fees = json_object_get(root, "fees");
	rc = exact_keys(fees, "fees", fee_keys, 4, err);
	for (int i = 0; i < 4 && rc == 0; i++) {
		char path[32];
		snprintf(path, sizeof(path), "fees.%s", fee_keys[i]);
		rc = get_int(fees, fee_keys[i], path, 0, CLF_TOTAL_MAX, fee_of(t, i), err);
	}
	if (rc != 0)
		return rc;
	t->lines = (uint32_t)legs;
	if (!summary_valid(s))
		return fail(err, "legs", "must be the sum of the types' counts");
	return 0;
}

int clf_nc_parse(const char *text, size_t len, clf_nc_summary_t *out,
		 clf_error_t *err)
{
	memset(out, 0, sizeof(*out));
	clf_error_t scratch;
	if (err == NULL)
		err = &scratch;
	memset(err, 0, sizeof(*err));
	if (len > 0 && text[len - 1] == '\n')
		len--;
	if (len >= CLF_SUMMARY_BYTES_MAX)
		return fail(err, "", "longer than %u bytes", CLF_SUMMARY_BYTES_MAX - 1);
	json_error_t jerr;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL)
		return fail(err, "", "invalid JSON at column %d: %.60s", jerr.column,
			    jerr.text);
	int rc = parse_summary(root, out, err);
	json_decref(root);
	return rc;
}
