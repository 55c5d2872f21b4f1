/*
 * test_clearing_file.c: the clearing files of a network (clearing_file.h).
 * The obligation rule against hand-computed nets (summing to zero with
 * the network's fees); a UnionPay file written line by line reads back to
 * the same lines and totals, byte-exact at known columns; every way a file
 * can be wrong is refused with its line and field; the NetClear summary
 * writes the documented text and parses back, strictly.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "clearing_file.h"
#include "core.h"

/* A debit of 128.50 yuan at 35 bp issuer fee and 3.25 bp network fee:
 * 44.975 fen rounds to 45, 4.176 to 4 (routing's route_fee). */
#define AMOUNT 12850
#define FEE_I 45
#define FEE_N 4

static void test_obligation_rule(void **state)
{
	(void)state;
	assert_int_equal(clf_net(CLF_DEBIT, 'I', AMOUNT, FEE_I, FEE_N), -12809);
	assert_int_equal(clf_net(CLF_DEBIT, 'A', AMOUNT, FEE_I, FEE_N), 12801);
	assert_int_equal(clf_network_net(CLF_DEBIT, FEE_N), 8);
	assert_int_equal(clf_net(CLF_DEBIT, 'I', AMOUNT, FEE_I, FEE_N) +
				 clf_net(CLF_DEBIT, 'A', AMOUNT, FEE_I, FEE_N) +
				 clf_network_net(CLF_DEBIT, FEE_N),
			 0);
	/* A reversal undoes everything, fees included. */
	assert_int_equal(clf_net(CLF_REV_DEBIT, 'I', AMOUNT, FEE_I, FEE_N), 12809);
	assert_int_equal(clf_net(CLF_REV_DEBIT, 'A', AMOUNT, FEE_I, FEE_N), -12801);
	assert_int_equal(clf_network_net(CLF_REV_DEBIT, FEE_N), -8);
	/* A credit: the origin owes the bank. */
	assert_int_equal(clf_net(CLF_CREDIT, 'I', 500, 0, 0), 500);
	assert_int_equal(clf_net(CLF_CREDIT, 'A', 500, 0, 0), -500);
	assert_int_equal(clf_net(CLF_REV_REFUND, 'I', 500, 0, 0), -500);
	assert_int_equal(clf_network_net(CLF_CREDIT, 0), 0);
	assert_string_equal(clf_type_code(CLF_REV_CREDIT), "46");
	assert_int_equal(clf_type_of_code("42"), CLF_REV_REFUND);
	assert_int_equal(clf_type_of_code("99"), -1);
	assert_int_equal(clf_type_reversed(CLF_REV_DEBIT), CLF_DEBIT);
	assert_string_equal(clf_group_name(clf_group_of(CLF_REFUND)), "refund");
}

static void test_totals_flows(void **state)
{
	(void)state;
	clf_totals_t issuer = {0}, origin = {0};
	assert_int_equal(clf_totals_add(&issuer, CLF_DEBIT, 'I', AMOUNT, FEE_I, FEE_N), 0);
	assert_int_equal(clf_totals_add(&origin, CLF_DEBIT, 'A', AMOUNT, FEE_I, FEE_N), 0);
	assert_int_equal(issuer.issuer_fee_receivable, FEE_I);
	assert_int_equal(issuer.network_fee_payable, FEE_N);
	assert_int_equal(origin.issuer_fee_payable, FEE_I);
	assert_int_equal(origin.network_fee_payable, FEE_N);
	assert_int_equal(clf_totals_add(&issuer, CLF_REV_DEBIT, 'I', AMOUNT, FEE_I, FEE_N), 0);
	assert_int_equal(issuer.issuer_fee_payable, FEE_I);
	assert_int_equal(issuer.network_fee_receivable, FEE_N);
	assert_int_equal(issuer.net, 0);
	assert_int_equal(issuer.lines, 2);
	assert_int_equal(issuer.count[CLF_GROUP_REVERSAL], 1);
	/* Past the trailer's width: refused, unchanged. */
	clf_totals_t big = {.amount = {CLF_TOTAL_MAX - 1}};
	clf_totals_t before = big;
	assert_int_equal(clf_totals_add(&big, CLF_DEBIT, 'A', 2, 0, 0), PS_ELIMIT);
	assert_true(clf_totals_equal(&big, &before));
}

/* ---- UnionPay ------------------------------------------------------------------ */

static void header_of(clf_cup_header_t *h, const char *member)
{
	memset(h, 0, sizeof(*h));
	strcpy(h->date, "20261203");
	strcpy(h->member, member);
	strcpy(h->network, "00010000");
	strcpy(h->batch, "CUP-20261203");
	strcpy(h->written, "20261203230001");
}

static void line_of(clf_cup_line_t *l, int type, char role, int64_t amount,
		    int64_t fi, int64_t fn, uint32_t stan)
{
	memset(l, 0, sizeof(*l));
	strcpy(l->date, "20261203");
	strcpy(l->member, role == 'I' ? "1020000" : "48110001");
	l->role = role;
	strcpy(l->counterparty, role == 'I' ? "48110001" : "1020000");
	l->type = (uint8_t)type;
	l->stan = stan;
	strcpy(l->transmit, "1203101500");
	l->fwd_stan = 900000 + stan;
	strcpy(l->fwd_transmit, "1203101501");
	strcpy(l->rrn, "633710000042");
	strcpy(l->account, "622202******0001");
	l->amount = amount;
	l->fee_issuer = fi;
	l->fee_network = fn;
	l->net = clf_net(type, role, amount, fi, fn);
	l->currency = 156;
	strcpy(l->sender, "99990000");
	l->leg_id = stan;
}

typedef struct file {
	char text[8192];
	size_t len;
	clf_cup_trailer_t trailer;
} file_t;

static void append(file_t *f, const char *line, size_t len)
{
	assert_true(f->len + len < sizeof(f->text));
	memcpy(f->text + f->len, line, len);
	f->len += len;
	f->text[f->len] = '\0';
}

/* The bank 1020000's file: a debit, a credit and the debit's reversal. */
static void bank_file(file_t *f)
{
	memset(f, 0, sizeof(*f));
	char line[CLF_CUP_WIDTH + 2];
	size_t len;
	clf_cup_header_t h;
	header_of(&h, "1020000");
	assert_int_equal(clf_cup_write_header(&h, line, sizeof(line), &len), 0);
	append(f, line, len);
	clf_cup_line_t l[3];
	line_of(&l[0], CLF_DEBIT, 'I', AMOUNT, FEE_I, FEE_N, 1);
	line_of(&l[1], CLF_CREDIT, 'I', 700, 0, 0, 2);
	line_of(&l[2], CLF_REV_DEBIT, 'I', AMOUNT, FEE_I, FEE_N, 1);
	strcpy(f->trailer.date, "20261203");
	strcpy(f->trailer.member, "1020000");
	for (int i = 0; i < 3; i++) {
		assert_int_equal(clf_cup_write_line(&l[i], line, sizeof(line), &len), 0);
		assert_int_equal(len, CLF_CUP_WIDTH + 1);
		append(f, line, len);
		assert_int_equal(clf_totals_add(&f->trailer.totals, l[i].type, l[i].role,
						l[i].amount, l[i].fee_issuer,
						l[i].fee_network), 0);
	}
	assert_int_equal(clf_cup_write_trailer(&f->trailer, line, sizeof(line), &len), 0);
	append(f, line, len);
}

typedef struct seen {
	clf_cup_line_t lines[8];
	int count;
} seen_t;

static int on_line(void *ctx, const clf_cup_line_t *l)
{
	seen_t *s = ctx;
	s->lines[s->count++] = *l;
	return 0;
}

static void test_cup_round_trip(void **state)
{
	(void)state;
	file_t f;
	bank_file(&f);
	/* Columns as documented. */
	const char *d1 = f.text + CLF_CUP_WIDTH + 1;
	assert_memory_equal(f.text, "H0120261203", 11);
	assert_memory_equal(f.text + 33, "CUP-20261203    20261203230001", 30);
	assert_memory_equal(d1, "D202612031020000    I48110001   00000001", 40);
	assert_memory_equal(d1 + 97, "000000012850000000000045000000000004D000000012809156"
			    "99990000   000000000001", 75);
	const char *t = f.text + 4 * (CLF_CUP_WIDTH + 1);
	assert_memory_equal(t, "T202612031020000    00000003"
			    "00000001000000000001285000000001000000000000070000000000"
			    "000000000000000000000001000000000001285000000000000000"
			    "45000000000000004500000000000000040000000000000004"
			    "C0000000000000700", 205);
	seen_t seen = {0};
	clf_cup_header_t h;
	clf_cup_trailer_t tr;
	clf_error_t err;
	assert_int_equal(clf_cup_read(f.text, f.len, on_line, &seen, &h, &tr, &err), 0);
	assert_string_equal(h.member, "1020000");
	assert_string_equal(h.batch, "CUP-20261203");
	assert_int_equal(seen.count, 3);
	clf_cup_line_t want;
	line_of(&want, CLF_REV_DEBIT, 'I', AMOUNT, FEE_I, FEE_N, 1);
	assert_memory_equal(&seen.lines[2], &want, sizeof(want));
	assert_true(clf_totals_equal(&tr.totals, &f.trailer.totals));
	assert_int_equal(tr.totals.net, 700);
}

/* Puts text over a file's line (1-based) at a column (1-based). */
static void patch(file_t *f, int line, int col, const char *text)
{
	memcpy(f->text + (size_t)(line - 1) * (CLF_CUP_WIDTH + 1) + col - 1, text,
	       strlen(text));
}

static void expect_error(const file_t *f, uint32_t line, const char *field)
{
	clf_error_t err;
	assert_int_equal(clf_cup_read(f->text, f->len, NULL, NULL, NULL, NULL, &err),
			 PS_EFORMAT);
	if (err.line != line || strcmp(err.field, field) != 0)
		fail_msg("want line %u field %s, got line %u field %s (%s)", line,
			 field, err.line, err.field, err.reason);
	assert_true(err.reason[0] != '\0');
}

static void test_cup_errors(void **state)
{
	(void)state;
	file_t f;
	bank_file(&f);
	patch(&f, 2, 100, "x");
	expect_error(&f, 2, "amount");
	bank_file(&f);
	patch(&f, 2, 135, "000000012808"); /* a net the rule does not make */
	expect_error(&f, 2, "net");
	bank_file(&f);
	patch(&f, 3, 98, "000000000701"); /* the trailer no longer adds up */
	patch(&f, 3, 135, "000000000701");
	expect_error(&f, 5, "totals");
	bank_file(&f);
	patch(&f, 2, 21, "X");
	expect_error(&f, 2, "role");
	bank_file(&f);
	patch(&f, 3, 33, "27");
	expect_error(&f, 3, "type");
	bank_file(&f);
	patch(&f, 4, 10, "1020001");
	expect_error(&f, 4, "member");
	bank_file(&f);
	patch(&f, 2, 200, "Z"); /* something past the fields */
	expect_error(&f, 2, "filler");
	bank_file(&f);
	patch(&f, 1, 1, "Q");
	expect_error(&f, 1, "record");
	bank_file(&f);
	patch(&f, 1, 38, "20261204");
	expect_error(&f, 1, "batch");
	/* A credit with a fee. */
	bank_file(&f);
	patch(&f, 3, 110, "000000000001");
	expect_error(&f, 3, "fee_issuer");
	/* Cut: a short line, no trailer, no newline at the end. */
	bank_file(&f);
	file_t cut = f;
	cut.len = 2 * (CLF_CUP_WIDTH + 1) - 5;
	cut.text[cut.len - 1] = '\n';
	expect_error(&cut, 2, "record");
	cut = f;
	cut.len = 4 * (CLF_CUP_WIDTH + 1);
	expect_error(&cut, 5, "record");
	cut = f;
	cut.len -= 1;
	expect_error(&cut, 5, "record");
	/* Out of order: a detail first, something after the trailer. */
	file_t odd;
	memset(&odd, 0, sizeof(odd));
	append(&odd, f.text + CLF_CUP_WIDTH + 1, f.len - CLF_CUP_WIDTH - 1);
	expect_error(&odd, 1, "record");
	odd = f;
	append(&odd, f.text + CLF_CUP_WIDTH + 1, CLF_CUP_WIDTH + 1);
	expect_error(&odd, 6, "record");
	memset(&odd, 0, sizeof(odd));
	expect_error(&odd, 1, "record");
}

static void test_cup_writer_refuses(void **state)
{
	(void)state;
	char out[CLF_CUP_WIDTH + 2];
	size_t len;
	clf_cup_line_t l;
	line_of(&l, CLF_DEBIT, 'A', AMOUNT, FEE_I, FEE_N, 7);
	assert_int_equal(clf_cup_write_line(&l, out, sizeof(out), &len), 0);
	assert_int_equal(clf_cup_write_line(&l, out, CLF_CUP_WIDTH, &len), PS_ENOSPC);
	clf_cup_line_t bad = l;
	strcpy(bad.member, "ABC");
	assert_int_equal(clf_cup_write_line(&bad, out, sizeof(out), &len), PS_EINVAL);
	bad = l;
	bad.net++;
	assert_int_equal(clf_cup_write_line(&bad, out, sizeof(out), &len), PS_EINVAL);
	bad = l;
	bad.amount = CLF_AMOUNT_MAX + 1;
	bad.net = clf_net(CLF_DEBIT, 'A', bad.amount, FEE_I, FEE_N);
	assert_int_equal(clf_cup_write_line(&bad, out, sizeof(out), &len), PS_EINVAL);
	bad = l;
	strcpy(bad.rrn, "12345 ");
	assert_int_equal(clf_cup_write_line(&bad, out, sizeof(out), &len), PS_EINVAL);
	bad = l;
	bad.role = 'X';
	assert_int_equal(clf_cup_write_line(&bad, out, sizeof(out), &len), PS_EINVAL);
	clf_cup_header_t h;
	header_of(&h, "1020000");
	strcpy(h.batch, "CUP-20261204");
	assert_int_equal(clf_cup_write_header(&h, out, sizeof(out), &len), PS_EINVAL);
	/* An empty RRN and account are fine: spaces. */
	l.rrn[0] = l.account[0] = '\0';
	assert_int_equal(clf_cup_write_line(&l, out, sizeof(out), &len), 0);
	clf_cup_record_t rec;
	clf_error_t err;
	assert_int_equal(clf_cup_parse_line(out, CLF_CUP_WIDTH, &rec, &err), 0);
	assert_int_equal(rec.kind, CLF_RECORD_DETAIL);
	assert_string_equal(rec.line.rrn, "");
}

/* ---- NetClear --------------------------------------------------------------------- */

static const char summary_text[] =
	"{\"format\":\"netclear-summary\",\"version\":1,\"network\":\"00020000\","
	"\"batch\":\"B2026120301\",\"member\":\"48110001\",\"legs\":3,"
	"\"types\":{\"agreement_payment\":{\"count\":2,\"amount\":25700},"
	"\"payout\":{\"count\":1,\"amount\":100},\"refund\":{\"count\":0,\"amount\":0},"
	"\"reversal\":{\"count\":0,\"amount\":0}},"
	"\"fees\":{\"issuer_receivable\":0,\"issuer_payable\":90,"
	"\"network_receivable\":0,\"network_payable\":8},\"net\":25502}\n";

static void summary_of(clf_nc_summary_t *s)
{
	memset(s, 0, sizeof(*s));
	strcpy(s->network, "00020000");
	strcpy(s->batch, "B2026120301");
	strcpy(s->member, "48110001");
	for (int i = 0; i < 2; i++)
		assert_int_equal(clf_totals_add(&s->totals, CLF_DEBIT, 'A', AMOUNT,
						FEE_I, FEE_N), 0);
	assert_int_equal(clf_totals_add(&s->totals, CLF_CREDIT, 'A', 100, 0, 0), 0);
}

static void test_nc_round_trip(void **state)
{
	(void)state;
	clf_nc_summary_t s, back;
	summary_of(&s);
	char out[CLF_SUMMARY_BYTES_MAX];
	size_t len;
	assert_int_equal(clf_nc_write(&s, out, sizeof(out), &len), 0);
	assert_string_equal(out, summary_text);
	assert_int_equal(len, strlen(summary_text));
	clf_error_t err;
	assert_int_equal(clf_nc_parse(out, len, &back, &err), 0);
	assert_string_equal(back.batch, "B2026120301");
	assert_true(clf_totals_equal(&back.totals, &s.totals));
	assert_int_equal(clf_nc_write(&s, out, 40, &len), PS_ENOSPC);
	s.totals.lines = 4;
	assert_int_equal(clf_nc_write(&s, out, sizeof(out), &len), PS_EINVAL);
	summary_of(&s);
	strcpy(s.batch, "B2026120300");
	assert_int_equal(clf_nc_write(&s, out, sizeof(out), &len), PS_EINVAL);
	assert_true(clf_nc_batch_valid("B2026120399"));
	assert_false(clf_nc_batch_valid("B2026130301"));
	assert_false(clf_nc_batch_valid("C2026120301"));
}

/* The summary with from replaced by to (once). */
static void expect_nc_error(const char *from, const char *to, const char *field)
{
	char text[2048];
	const char *at = strstr(summary_text, from);
	assert_non_null(at);
	snprintf(text, sizeof(text), "%.*s%s%s", (int)(at - summary_text),
		 summary_text, to, at + strlen(from));
	clf_nc_summary_t s;
	clf_error_t err;
	assert_int_equal(clf_nc_parse(text, strlen(text), &s, &err), PS_EFORMAT);
	if (strcmp(err.field, field) != 0)
		fail_msg("%s -> %s: want field %s, got %s (%s)", from, to, field,
			 err.field, err.reason);
	assert_int_equal(err.line, 0);
}

static void test_nc_errors(void **state)
{
	(void)state;
	expect_nc_error("\"legs\":3", "\"legs\":4", "legs");
	expect_nc_error("\"legs\":3", "\"legs\":3,\"extra\":1", "");
	expect_nc_error("\"legs\":3,", "", "");
	expect_nc_error("\"payout\":{\"count\":1", "\"payout\":{\"count\":-1",
			"types.payout.count");
	expect_nc_error("\"amount\":100", "\"amount\":\"100\"", "types.payout.amount");
	expect_nc_error("\"amount\":100}", "\"amount\":100,\"x\":0}", "types.payout");
	expect_nc_error("\"network_payable\":8", "\"network_payable\":8.5",
			"fees.network_payable");
	expect_nc_error("B2026120301", "B20261203", "batch");
	expect_nc_error("\"member\":\"48110001\"", "\"member\":\"PSP01\"", "member");
	expect_nc_error("netclear-summary", "cup", "format");
	expect_nc_error("\"version\":1", "\"version\":2", "version");
	expect_nc_error("\"net\":25502", "\"net\":25502,\"net\":1", "");
	expect_nc_error("}\n", "", "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_obligation_rule),
		cmocka_unit_test(test_totals_flows),
		cmocka_unit_test(test_cup_round_trip),
		cmocka_unit_test(test_cup_errors),
		cmocka_unit_test(test_cup_writer_refuses),
		cmocka_unit_test(test_nc_round_trip),
		cmocka_unit_test(test_nc_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
