/*
 * test_proto.c: PBOC's wire protocol (proto.h): every op decoded, every
 * refusal naming its field, the id found in a line that is no JSON, the
 * bound on positions, and the answer lines as docs/clearing.md shows
 * them, the largest of them within PBOC_ANSWER_BYTES_MAX.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "proto.h"

static pboc_msg_t msg;

static int decode(const char *line, uint32_t max)
{
	memset(&msg, 0, sizeof(msg));
	return pboc_request_decode(line, strlen(line), max, &msg);
}

/* Decoding fails with field and a reason containing says. */
static void refused(const char *line, const char *id, const char *field,
		    const char *says)
{
	assert_int_equal(decode(line, PBOC_POSITIONS_MAX), PS_EFORMAT);
	assert_int_equal(msg.status, PBOC_ST_ERROR);
	assert_string_equal(msg.id, id);
	assert_string_equal(msg.field, field);
	if (strstr(msg.reason, says) == NULL)
		fail_msg("%s: \"%s\" does not say \"%s\"", line, msg.reason, says);
}

static const char *encode(void)
{
	static char out[PBOC_ANSWER_BYTES_MAX];
	size_t len = 0;
	assert_int_equal(pboc_answer_encode(&msg, out, sizeof(out), &len), 0);
	assert_true(len > 0 && out[len - 1] == '\n');
	out[len - 1] = '\0';
	return out;
}

/* ---- requests ------------------------------------------------------------------- */

static void test_decodes_every_op(void **state)
{
	(void)state;
	assert_int_equal(decode("{\"op\":\"settle\",\"id\":\"S1\",\"batch\":\"SW99990000-20261203\","
				"\"submitter\":\"99990000\",\"currency\":\"CNY\",\"window\":7,"
				"\"positions\":[{\"member\":\"01020000\",\"amount\":-128500},"
				"{\"member\":\"01030000\",\"amount\":128500}]}", 256), 0);
	assert_int_equal(msg.op, PBOC_OP_SETTLE);
	assert_string_equal(msg.id, "S1");
	assert_string_equal(msg.batch.id, "SW99990000-20261203");
	assert_string_equal(msg.batch.submitter, "99990000");
	assert_int_equal(msg.batch.count, 2);
	assert_string_equal(msg.batch.positions[1].member, "01030000");
	assert_int_equal(msg.batch.positions[0].amount, -128500);
	assert_int_equal(decode("{\"op\":\"batch\",\"id\":\"Q1\",\"batch\":\"CUP-20261203\"}", 256), 0);
	assert_int_equal(msg.op, PBOC_OP_BATCH);
	assert_string_equal(msg.batch.id, "CUP-20261203");
	assert_int_equal(decode("{\"op\":\"balance\",\"id\":\"B1\",\"member\":\"PSP01\"}", 256), 0);
	assert_int_equal(msg.op, PBOC_OP_BALANCE);
	assert_string_equal(msg.member, "PSP01");
	assert_int_equal(decode("{\"op\":\"fund\",\"id\":\"F1\",\"member\":\"01020000\","
				"\"amount\":500000}", 256), 0);
	assert_int_equal(msg.op, PBOC_OP_FUND);
	assert_int_equal(msg.amount, 500000);
	assert_int_equal(decode("{\"op\":\"members\",\"id\":\"M1\"}", 256), 0);
	assert_int_equal(msg.op, PBOC_OP_MEMBERS);
	assert_string_equal(msg.member, "");
	assert_int_equal(decode("{\"op\":\"members\",\"id\":\"M2\",\"after\":\"01020000\"}", 256), 0);
	assert_string_equal(msg.member, "01020000");
}

static void test_refusals_name_the_field(void **state)
{
	(void)state;
	refused("{\"op\":\"frob\",\"id\":\"X1\"}", "X1", "op", "unknown operation");
	refused("{\"id\":\"X2\"}", "X2", "op", "must be a string");
	refused("{\"op\":\"batch\"}", "", "id", "is required");
	refused("{\"op\":\"batch\",\"id\":\"has space\",\"batch\":\"B\"}", "", "id",
		"must be a string of 1 to 64 characters");
	refused("{\"op\":\"batch\",\"id\":\"Q1\"}", "Q1", "batch", "is required");
	refused("{\"op\":\"balance\",\"id\":\"B1\",\"member\":\"psp01\"}", "B1", "member",
		"must be a member id");
	refused("{\"op\":\"fund\",\"id\":\"F1\",\"member\":\"A1\",\"amount\":0}", "F1", "amount",
		"must be an integer from 1 to 1000000000000000");
	refused("{\"op\":\"fund\",\"id\":\"F1\",\"member\":\"A1\",\"amount\":5,\"currency\":\"USD\"}",
		"F1", "currency", "must be \"CNY\"");
	const char *settle = "{\"op\":\"settle\",\"id\":\"S1\",\"batch\":\"B1\",\"submitter\":\"SW\","
			     "\"currency\":\"CNY\",\"positions\":";
	char line[512];
	snprintf(line, sizeof(line), "%s{}}", settle);
	refused(line, "S1", "positions", "must be an array of at most 256 positions");
	snprintf(line, sizeof(line), "%s[]}", settle);
	assert_int_equal(decode(line, 256), 0); /* nothing to move */
	assert_int_equal(msg.batch.count, 0);
	snprintf(line, sizeof(line), "%s[{\"member\":\"A1\",\"amount\":1},7]}", settle);
	refused(line, "S1", "positions[1]", "must be an object");
	snprintf(line, sizeof(line), "%s[{\"member\":\"A1\",\"amount\":1},"
		 "{\"member\":\"A2\",\"amount\":\"1\"}]}", settle);
	refused(line, "S1", "positions[1].amount", "must be an integer from "
		"-1000000000000000 to 1000000000000000");
	snprintf(line, sizeof(line), "%s[{\"amount\":1}]}", settle);
	refused(line, "S1", "positions[0].member", "is required");
	refused("{\"op\":\"settle\",\"id\":\"S1\",\"batch\":\"B1\",\"submitter\":\"SW\","
		"\"positions\":[{\"member\":\"A1\",\"amount\":0}]}", "S1", "currency",
		"is required");
	refused("{\"op\":\"settle\",\"id\":\"S1\",\"batch\":\"B1\",\"currency\":\"CNY\"}", "S1",
		"submitter", "is required");
	/* positions_max below the hard bound. */
	snprintf(line, sizeof(line), "%s[{\"member\":\"A1\",\"amount\":1},"
		 "{\"member\":\"A2\",\"amount\":-1}]}", settle);
	assert_int_equal(decode(line, 1), PS_EFORMAT);
	assert_string_equal(msg.field, "positions");
	assert_non_null(strstr(msg.reason, "at most 1 positions"));
}

static void test_broken_lines_keep_their_id(void **state)
{
	(void)state;
	refused("{\"op\":\"settle\",\"id\":\"S9\", broken", "S9", "request", "not JSON");
	refused("{\"positions\":[{\"id\":\"inner\"}],\"id\" : \"S10\",", "S10", "request",
		"not JSON");
	refused("{\"memo\":\"\\\"id\\\":\\\"no\\\"\",\"id\":\"S11\"", "S11", "request",
		"not JSON");
	refused("garbage", "", "request", "not JSON");
	refused("{\"id\":12,", "", "request", "not JSON");
	refused("[1,2]", "", "request", "must be a JSON object");
	refused("{\"op\":\"batch\",\"id\":\"Q\",\"id\":\"Q\"}", "Q", "request", "duplicate");
	/* Every possible answer to these still encodes. */
	assert_non_null(encode());
}

/* A line of 8,000 tiny values: within the parse arena, answered. */
static void test_a_huge_line_is_answered(void **state)
{
	(void)state;
	static char line[16400];
	size_t n = (size_t)snprintf(line, sizeof(line), "{\"id\":\"H1\",\"op\":[");
	while (n + 4 < 16300)
		n += (size_t)snprintf(line + n, sizeof(line) - n, "0,");
	snprintf(line + n, sizeof(line) - n, "0]}");
	refused(line, "H1", "op", "must be a string");
}

/* ---- answers --------------------------------------------------------------------- */

static void settle_answer(int status, const char *reason)
{
	memset(&msg, 0, sizeof(msg));
	msg.op = PBOC_OP_SETTLE;
	ps_strlcpy(msg.id, "S1", sizeof(msg.id));
	ps_strlcpy(msg.batch.id, "SW99990000-20261203", sizeof(msg.batch.id));
	msg.batch.posted_ms = 1795642144300ull;
	msg.status = (uint8_t)status;
	ps_strlcpy(msg.reason, reason, sizeof(msg.reason));
}

static void test_answers_as_the_contract_shows(void **state)
{
	(void)state;
	settle_answer(PBOC_ST_POSTED, "");
	assert_string_equal(encode(), "{\"id\":\"S1\",\"status\":\"posted\","
			    "\"batch\":\"SW99990000-20261203\",\"posted_ms\":1795642144300}");
	settle_answer(PBOC_ST_QUEUED, "reserve of 01020000 short by 8500 fen");
	assert_string_equal(encode(), "{\"id\":\"S1\",\"status\":\"queued\","
			    "\"batch\":\"SW99990000-20261203\",\"reason\":\"reserve of "
			    "01020000 short by 8500 fen\"}");
	settle_answer(PBOC_ST_REJECTED, "positions sum to 100, not 0");
	msg.released = 2;
	assert_string_equal(encode(), "{\"id\":\"S1\",\"status\":\"rejected\","
			    "\"batch\":\"SW99990000-20261203\",\"reason\":\"positions "
			    "sum to 100, not 0\",\"released\":2}");

	memset(&msg, 0, sizeof(msg));
	msg.op = PBOC_OP_BATCH;
	ps_strlcpy(msg.id, "Q1", sizeof(msg.id));
	ps_strlcpy(msg.batch.id, "B1", sizeof(msg.batch.id));
	msg.status = PBOC_ST_UNKNOWN;
	assert_string_equal(encode(), "{\"id\":\"Q1\",\"status\":\"unknown\",\"batch\":\"B1\"}");
	msg.status = PBOC_ST_POSTED;
	ps_strlcpy(msg.batch.submitter, "99990000", sizeof(msg.batch.submitter));
	msg.batch.count = 1;
	ps_strlcpy(msg.batch.positions[0].member, "A1", sizeof(msg.batch.positions[0].member));
	msg.batch.submitted_ms = 5;
	msg.batch.posted_ms = 6;
	assert_string_equal(encode(), "{\"id\":\"Q1\",\"status\":\"posted\",\"batch\":\"B1\","
			    "\"submitter\":\"99990000\",\"positions\":[{\"member\":\"A1\","
			    "\"amount\":0}],\"submitted_ms\":5,\"posted_ms\":6}");

	memset(&msg, 0, sizeof(msg));
	msg.op = PBOC_OP_BALANCE;
	ps_strlcpy(msg.id, "B1", sizeof(msg.id));
	ps_strlcpy(msg.member, "01020000", sizeof(msg.member));
	msg.status = PBOC_ST_OK;
	msg.kind = PBOC_KIND_BANK;
	msg.balance = 1000000;
	assert_string_equal(encode(), "{\"id\":\"B1\",\"status\":\"ok\",\"member\":\"01020000\","
			    "\"kind\":\"bank\",\"balance\":1000000,\"credit_limit\":0}");
	msg.op = PBOC_OP_FUND;
	msg.balance = 1500000;
	assert_string_equal(encode(), "{\"id\":\"B1\",\"status\":\"ok\",\"member\":\"01020000\","
			    "\"balance\":1500000}");
	msg.status = PBOC_ST_REJECTED;
	ps_strlcpy(msg.field, "member", sizeof(msg.field));
	ps_strlcpy(msg.reason, "NOPE is \"no\" member", sizeof(msg.reason));
	assert_string_equal(encode(), "{\"id\":\"B1\",\"status\":\"rejected\",\"member\":\"01020000\","
			    "\"reason\":\"member: NOPE is \\\"no\\\" member\"}");

	memset(&msg, 0, sizeof(msg));
	msg.status = PBOC_ST_ERROR;
	ps_strlcpy(msg.field, "request", sizeof(msg.field));
	ps_strlcpy(msg.reason, "not JSON", sizeof(msg.reason));
	assert_string_equal(encode(), "{\"status\":\"error\",\"reason\":\"request: not JSON\"}");
}

static void test_the_largest_answers_fit(void **state)
{
	(void)state;
	memset(&msg, 0, sizeof(msg));
	msg.op = PBOC_OP_BATCH;
	msg.status = PBOC_ST_REJECTED;
	memset(msg.id, 'i', PBOC_REQUEST_ID_MAX);
	memset(msg.batch.id, 'b', PBOC_BATCH_ID_MAX);
	memset(msg.batch.submitter, 'S', PBOC_MEMBER_ID_MAX);
	memset(msg.reason, 'r', sizeof(msg.reason) - 1);
	ps_strlcpy(msg.field, "positions[255].amount", sizeof(msg.field));
	msg.batch.count = PBOC_POSITIONS_MAX;
	msg.batch.submitted_ms = UINT64_MAX / 2;
	for (uint32_t i = 0; i < PBOC_POSITIONS_MAX; i++) {
		memset(msg.batch.positions[i].member, 'M', PBOC_MEMBER_ID_MAX);
		msg.batch.positions[i].amount = -PBOC_AMOUNT_MAX;
	}
	const char *a = encode();
	assert_true(strlen(a) < PBOC_ANSWER_BYTES_MAX);
	memset(&msg, 0, sizeof(msg));
	msg.op = PBOC_OP_MEMBERS;
	msg.status = PBOC_ST_OK;
	memset(msg.id, 'i', PBOC_REQUEST_ID_MAX);
	msg.rows = PBOC_MEMBERS_PAGE;
	msg.more = true;
	for (uint32_t i = 0; i < PBOC_MEMBERS_PAGE; i++) {
		memset(msg.row[i].member, 'M', PBOC_MEMBER_ID_MAX);
		msg.row[i].kind = PBOC_KIND_ACQUIRER;
		msg.row[i].balance = INT64_MIN;
		msg.row[i].credit_limit = PBOC_AMOUNT_MAX;
	}
	a = encode();
	assert_non_null(strstr(a, "\"next\":\"MMMMMMMMMMMMMMMM\"}"));
	/* Too small a buffer is ENOSPC, never a cut line. */
	char small[64];
	size_t len = 0;
	assert_int_equal(pboc_answer_encode(&msg, small, sizeof(small), &len), PS_ENOSPC);
}

int main(void)
{
	pboc_proto_init();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decodes_every_op),
		cmocka_unit_test(test_refusals_name_the_field),
		cmocka_unit_test(test_broken_lines_keep_their_id),
		cmocka_unit_test(test_a_huge_line_is_answered),
		cmocka_unit_test(test_answers_as_the_contract_shows),
		cmocka_unit_test(test_the_largest_answers_fit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
