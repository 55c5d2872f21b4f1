/*
 * test_unionpay.c: netsim --mode unionpay as a process, the test acting
 * as the switch in front of two real banksims and PBOC.
 *
 * A day of traffic: sign-on; a debit and a credit forwarded to the banks
 * that hold the accounts and answered with field 15, the header's
 * stations swapped; a debit and its reversal; a debit whose bank never
 * answers (91, then netsim's own reversal, acknowledged: nothing stays
 * posted); frames whose header is wrong sent back with its reject code
 * (00035 a wrong total length, 00055 an unknown source, 00045 a wrong
 * destination). Then the member's cutover request: 0810 with the date
 * closed, 0820 201 and 202 announcements; the clearing files of both
 * banks and of the origin read back (clearing_file.h) with hand-computed
 * nets; the batch CUP-20261203 at PBOC summing to zero. A restart after
 * SIGKILL keeps the record: legs of before clear in the next day.
 */
#include "ns_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clearing_file.h"
#include "core.h"

static int code_of(uint8_t rc)
{
	return rc;
}

/* Sends t and returns its answer, checking its key and field 15. */
static txn_response_t call(nt_member_t *m, const txn_t *t, const char *mmdd)
{
	nt_member_send(m, t, NULL, 0, NULL);
	txn_response_t r = nt_member_answer(m, t->leg[0].stan, NULL, NULL);
	if (mmdd != NULL)
		assert_string_equal(r.period, mmdd);
	return r;
}

/* A frame sent back with its header's reject code, the message as it was. */
static void expect_reject(nt_member_t *m, const uint8_t *frame, size_t len,
			  const char *reject, const char *source,
			  const char *destination)
{
	nt_member_send_raw(m, frame, len);
	nt_msg_t msg;
	assert_true(nt_member_recv(m, &msg, NT_WAIT_MS));
	assert_string_equal(msg.header.reject, reject);
	/* Its stations swapped: back to whoever it named as source. */
	assert_string_equal(msg.header.source, source);
	assert_string_equal(msg.header.destination, destination);
	assert_false(msg.response);
	assert_string_equal(msg.req.wire.mti, "0200");
}

static void header_rejects(nt_member_t *m)
{
	txn_t t;
	nt_leg(&t, TXN_KIND_PURCHASE, "6222020000000003", 100, 90);
	uint8_t frame[4096];
	size_t len = 0;
	uint8_t good[4096];
	size_t good_len = 0;
	txn_t probe = t;
	probe.leg[0].stan = 99;
	/* Encoded, not sent, so that nothing is forwarded. */
	assert_int_equal(chan_encode_leg(&m->cfg, &probe, 0, good, sizeof(good),
					 &good_len), 0);
	memcpy(frame, good, good_len);
	len = good_len;
	memcpy(frame + 4 + 2, "0100", 4); /* the total length, after "LLLL" */
	expect_reject(m, frame, len, "00035", "00010000", NT_SWITCH);
	/* An unknown source, then a destination that is not netsim. */
	iso8583_cups_header_t h;
	iso8583_cups_header_init(&h, "00010000", "12345678");
	memcpy(frame, good, good_len);
	iso8583_cups_header_write(&h, good_len - 4, frame + 4);
	expect_reject(m, frame, len, "00055", "00010000", "12345678");
	iso8583_cups_header_init(&h, "00020000", NT_SWITCH);
	iso8583_cups_header_write(&h, good_len - 4, frame + 4);
	expect_reject(m, frame, len, "00045", "00020000", NT_SWITCH);
}

/* The cutover request: 0810 with the date closed, and both 0820s. */
static void cutover(nt_member_t *m)
{
	nt_member_network(m, TXN_NET_CUTOVER, 50);
	nt_msg_t others[4];
	int count = 4;
	txn_response_t r = nt_member_answer(m, 50, others, &count);
	assert_int_equal(r.rc, TXN_RC_APPROVED);
	assert_string_equal(r.period, "1203");
	/* The announcements left before the answer. */
	bool began = false, ended = false;
	for (int i = 0; i < count; i++) {
		txn_t *a = &others[i].req;
		assert_false(others[i].response);
		assert_string_equal(a->wire.mti, "0820");
		assert_string_equal(others[i].header.source, "00010000");
		assert_string_equal(others[i].header.destination, NT_SWITCH);
		if (a->net_op == TXN_NET_CUTOVER) {
			assert_string_equal(a->wire.settle_date, "1203");
			began = true;
		} else {
			assert_int_equal(a->net_op, TXN_NET_CUTOVER_END);
			assert_string_equal(a->wire.settle_date, "1204");
			ended = true;
		}
	}
	assert_true(began && ended);
}

typedef struct lines {
	clf_cup_line_t l[16];
	int count;
} lines_t;

static int keep_line(void *ctx, const clf_cup_line_t *l)
{
	lines_t *ls = ctx;
	assert_true(ls->count < 16);
	ls->l[ls->count++] = *l;
	return 0;
}

/* A member's file for 2026-12-03, read and checked whole. */
static clf_cup_trailer_t read_file(const nt_net_t *net, const char *member,
				   lines_t *lines)
{
	size_t len = 0;
	char *text = nt_clearing_file(net, member, "CUP-20261203.txt", &len);
	if (text == NULL)
		fail_msg("no clearing file for %s", member);
	clf_cup_header_t h;
	clf_cup_trailer_t t;
	clf_error_t err;
	memset(lines, 0, sizeof(*lines));
	int rc = clf_cup_read(text, len, keep_line, lines, &h, &t, &err);
	if (rc != 0)
		fail_msg("%s line %u %s: %s", member, err.line, err.field, err.reason);
	assert_string_equal(h.member, member);
	assert_string_equal(h.network, "00010000");
	assert_string_equal(h.batch, "CUP-20261203");
	free(text);
	return t;
}

static void clearing_files(const nt_net_t *net)
{
	lines_t a, b, psp;
	/* Bank A: the debit (12850, fees 45 and 4), the debit of 5000 and
	 * its reversal (fees 18 and 2, netting to zero). */
	clf_cup_trailer_t ta = read_file(net, NT_BANK_A, &a);
	assert_int_equal(a.count, 3);
	assert_int_equal(a.l[0].type, CLF_DEBIT);
	assert_int_equal(a.l[0].role, 'I');
	assert_string_equal(a.l[0].counterparty, NT_PSP);
	assert_int_equal(a.l[0].stan, 1);
	assert_string_equal(a.l[0].transmit, NT_TRANSMIT);
	assert_string_equal(a.l[0].rrn, "633700000001");
	assert_string_equal(a.l[0].account, "622202******0001");
	assert_int_equal(a.l[0].fee_issuer, 45);
	assert_int_equal(a.l[0].fee_network, 4);
	assert_int_equal(a.l[2].type, CLF_REV_DEBIT);
	assert_int_equal(a.l[2].stan, 3); /* the keys of the leg it reverses */
	assert_string_equal(a.l[2].sender, NT_SWITCH);
	assert_int_equal(ta.totals.net, -12809);
	assert_int_equal(ta.totals.issuer_fee_receivable, 45 + 18);
	assert_int_equal(ta.totals.issuer_fee_payable, 18);
	/* Bank B: the credit of 700; the debit it never answered and its
	 * reversal, which its 00 says it had posted: both, netting to 0. */
	clf_cup_trailer_t tb = read_file(net, NT_BANK_B, &b);
	assert_int_equal(b.count, 3);
	assert_int_equal(tb.totals.net, 700);
	assert_int_equal(tb.totals.count[CLF_GROUP_REVERSAL], 1);
	/* The origin sees all six from the other side. */
	clf_cup_trailer_t tp = read_file(net, NT_PSP, &psp);
	assert_int_equal(psp.count, 6);
	assert_int_equal(psp.l[0].role, 'A');
	assert_string_equal(psp.l[0].counterparty, NT_BANK_A);
	assert_int_equal(tp.totals.net, 12801 - 700);
	/* With the network's fees, the day nets to zero. */
	assert_int_equal(ta.totals.net + tb.totals.net + tp.totals.net + 8, 0);
}

static void settlement(nt_world_t *w)
{
	json_t *batch = nt_pboc_batch(&w->pboc, "CUP-20261203");
	assert_non_null(batch);
	assert_string_equal(json_string_value(json_object_get(batch, "status")),
			    "posted");
	assert_int_equal(nt_position(batch, NT_BANK_A), -12809);
	assert_int_equal(nt_position(batch, NT_BANK_B), 700);
	assert_int_equal(nt_position(batch, NT_PSP), 12101);
	assert_int_equal(nt_position(batch, "00010000"), 8);
	assert_int_equal(nt_positions_sum(batch), 0);
	json_decref(batch);
}

static void test_a_day(void **state)
{
	(void)state;
	nt_world_t w;
	nt_world_start(&w, "netsim-unionpay", "unionpay", NULL);
	nt_member_t m;
	nt_member_open(&m, w.net.port, true);
	nt_member_sign_on(&m);
	/* A debit at bank A: its code, field 15, the header back. */
	txn_t d1, c1, d2, r2, d3;
	nt_leg(&d1, TXN_KIND_PURCHASE, "6222020000000001", 12850, 1);
	nt_member_send(&m, &d1, NULL, 0, NULL);
	nt_msg_t answer;
	assert_true(nt_member_recv(&m, &answer, NT_WAIT_MS));
	assert_true(answer.response);
	assert_int_equal(answer.resp.stan, 1);
	assert_int_equal(code_of(answer.resp.rc), 0);
	assert_string_equal(answer.resp.period, "1203");
	assert_string_equal(answer.header.source, "00010000");
	assert_string_equal(answer.header.destination, NT_SWITCH);
	assert_string_equal(answer.header.reject, "00000");
	assert_int_equal(bt_available(&w.a, "6222020000000001"), 100000 - 12850);
	/* A credit at bank B. */
	nt_leg(&c1, TXN_KIND_CREDIT, "6217000000000009", 700, 2);
	assert_int_equal(call(&m, &c1, "1203").rc, TXN_RC_APPROVED);
	assert_int_equal(bt_available(&w.b, "6217000000000009"), 700);
	/* A debit and its reversal: the money comes back. */
	nt_leg(&d2, TXN_KIND_PURCHASE, "6222020000000002", 5000, 3);
	assert_int_equal(call(&m, &d2, "1203").rc, TXN_RC_APPROVED);
	nt_reversal(&r2, &d2, 4);
	assert_int_equal(call(&m, &r2, "1203").rc, TXN_RC_APPROVED);
	assert_int_equal(bt_available(&w.a, "6222020000000002"), 100000);
	/* The same reversal again: nothing more. */
	nt_reversal(&r2, &d2, 5);
	assert_int_equal(call(&m, &r2, NULL).rc, TXN_RC_APPROVED);
	/* A debit bank B posts but never answers: 91, reversed by netsim. */
	nt_leg(&d3, TXN_KIND_PURCHASE, "6217000000000001", 3000, 6);
	assert_int_equal(call(&m, &d3, "1203").rc, TXN_RC_INOPERATIVE);
	assert_true(bt_wait_available(&w.b, "6217000000000001", 100000));
	/* A reversal of what netsim never carried: 25. */
	txn_t ghost, rg;
	nt_leg(&ghost, TXN_KIND_PURCHASE, "6222020000000003", 100, 77);
	nt_reversal(&rg, &ghost, 78);
	assert_int_equal(call(&m, &rg, NULL).rc, TXN_RC_NO_RECORD);
	header_rejects(&m);
	/* The original that was reversed first is never posted. */
	assert_int_equal(call(&m, &ghost, NULL).rc, TXN_RC_DO_NOT_HONOUR);
	assert_int_equal(bt_available(&w.a, "6222020000000003"), 100000);
	/* Wait for netsim's own reversal to be acknowledged, then cut. */
	uint64_t end = ts_now_ms() + NT_WAIT_MS;
	while (nt_log_count(&w.net, "\"verdict\":\"acknowledged\"") < 1 &&
	       ts_now_ms() < end)
		ts_sleep_ms(20);
	cutover(&m);
	clearing_files(&w.net);
	settlement(&w);
	/* The next day's legs carry its date. */
	txn_t d4;
	nt_leg(&d4, TXN_KIND_PURCHASE, "6222020000000003", 1000, 7);
	assert_int_equal(call(&m, &d4, "1204").rc, TXN_RC_APPROVED);
	nt_member_close(&m);
	assert_int_equal(nt_log_count(&w.net, "header_rejected"), 3);
	nt_world_stop(&w);
}

/* SIGKILL between a leg and the cutover: the record holds; the legs of
 * before are in the day's file after a restart. */
static void test_restart_keeps_the_record(void **state)
{
	(void)state;
	nt_world_t w;
	nt_world_start(&w, "netsim-restart", "unionpay", NULL);
	nt_member_t m;
	nt_member_open(&m, w.net.port, true);
	txn_t d;
	nt_leg(&d, TXN_KIND_PURCHASE, "6222020000000001", 20000, 1);
	assert_int_equal(call(&m, &d, "1203").rc, TXN_RC_APPROVED);
	nt_member_close(&m);
	ts_proc_kill(&w.net.proc);
	w.net.running = false;
	nt_world_restart(&w, "unionpay");
	nt_member_open(&m, w.net.port, true);
	/* A copy of the leg is answered as it was, not sent again. */
	assert_int_equal(call(&m, &d, "1203").rc, TXN_RC_APPROVED);
	assert_int_equal(bt_available(&w.a, "6222020000000001"), 80000);
	/* A new leg: its key at the bank is not one of the run before. */
	txn_t d2;
	nt_leg(&d2, TXN_KIND_PURCHASE, "6222020000000002", 1000, 2);
	assert_int_equal(call(&m, &d2, "1203").rc, TXN_RC_APPROVED);
	ts_proc_signal(&w.net.proc, SIGUSR1);
	lines_t a;
	clf_cup_trailer_t t = read_file(&w.net, NT_BANK_A, &a);
	assert_int_equal(a.count, 2);
	assert_true(a.l[0].fwd_stan < 100000);
	assert_true(a.l[1].fwd_stan > 100000);
	/* 20000: issuer fee 70, network fee 7 (6.5 rounds half up); 1000:
	 * 4 (3.5 up) and 0. */
	assert_int_equal(t.totals.net, -(20000 - 70) - 7 - (1000 - 4));
	json_t *batch = nt_pboc_batch(&w.pboc, "CUP-20261203");
	assert_non_null(batch);
	assert_int_equal(nt_positions_sum(batch), 0);
	json_decref(batch);
	nt_member_close(&m);
	nt_world_stop(&w);
}

/* A member reverses a leg its bank has not answered yet: 00 at once,
 * and netsim, hearing nothing from the bank, reverses it itself. A bank
 * whose link is down: 91, nothing recorded. A day whose legs all net
 * out: files, but no batch. */
static void test_in_flight_and_down(void **state)
{
	(void)state;
	nt_world_t w;
	nt_world_start(&w, "netsim-inflight", "unionpay", NULL);
	nt_member_t m;
	nt_member_open(&m, w.net.port, true);
	txn_t d, r;
	nt_leg(&d, TXN_KIND_PURCHASE, "6217000000000001", 3000, 1);
	nt_reversal(&r, &d, 2);
	nt_member_send(&m, &d, NULL, 0, NULL);
	nt_member_send(&m, &r, NULL, 0, NULL);
	assert_int_equal(nt_member_answer(&m, 2, NULL, NULL).rc, TXN_RC_APPROVED);
	assert_int_equal(nt_member_answer(&m, 1, NULL, NULL).rc, TXN_RC_INOPERATIVE);
	assert_true(bt_wait_available(&w.b, "6217000000000001", 100000));
	uint64_t end = ts_now_ms() + NT_WAIT_MS;
	while (nt_log_count(&w.net, "\"verdict\":\"acknowledged\"") < 1 &&
	       ts_now_ms() < end)
		ts_sleep_ms(20);
	bt_stop(&w.b);
	txn_t c;
	nt_leg(&c, TXN_KIND_CREDIT, "6217000000000009", 700, 3);
	assert_int_equal(call(&m, &c, "1203").rc, TXN_RC_INOPERATIVE);
	ts_proc_signal(&w.net.proc, SIGUSR1);
	size_t len = 0;
	char *text = nt_clearing_file(&w.net, NT_BANK_B, "CUP-20261203.txt", &len);
	assert_non_null(text);
	clf_cup_trailer_t t;
	clf_error_t err;
	assert_int_equal(clf_cup_read(text, len, NULL, NULL, NULL, &t, &err), 0);
	free(text);
	assert_int_equal(t.totals.lines, 2);
	assert_int_equal(t.totals.net, 0);
	end = ts_now_ms() + NT_WAIT_MS;
	while (nt_log_count(&w.net, "settle_none") < 1 && ts_now_ms() < end)
		ts_sleep_ms(20);
	assert_int_equal(nt_log_count(&w.net, "settle_none"), 1);
	assert_int_equal(nt_log_count(&w.net, "settle_submitted"), 0);
	nt_member_close(&m);
	nt_world_stop(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_day),
		cmocka_unit_test(test_restart_keeps_the_record),
		cmocka_unit_test(test_in_flight_and_down),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
