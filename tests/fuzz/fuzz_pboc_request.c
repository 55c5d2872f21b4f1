/*
 * fuzz_pboc_request.c: PBOC's request decoder on any bytes, and the
 * answer to whatever it made of them. It must never crash, leak or loop;
 * a line it accepts must hold a known op, a well-formed id and fields
 * within bounds; a line it refuses must say which field and why; and
 * every answer must encode within PBOC_ANSWER_BYTES_MAX, as one line of
 * valid JSON.
 */
#include <stdint.h>
#include <string.h>

#include <jansson.h>

#include "core.h"
#include "proto.h"

static void check(bool ok)
{
	PS_ASSERT(ok);
}

static void check_request(const pboc_msg_t *m)
{
	check(m->op >= PBOC_OP_SETTLE && m->op <= PBOC_OP_MEMBERS);
	check(m->id[0] != '\0');
	if (m->op == PBOC_OP_SETTLE) {
		check(m->batch.count <= PBOC_POSITIONS_MAX);
		for (uint32_t i = 0; i < m->batch.count; i++) {
			const pboc_position_t *p = &m->batch.positions[i];
			check(pboc_member_id_valid(p->member, strlen(p->member)));
			check(p->amount >= -PBOC_AMOUNT_MAX &&
			      p->amount <= PBOC_AMOUNT_MAX);
		}
	}
	if (m->op == PBOC_OP_FUND)
		check(m->amount >= 1 && m->amount <= PBOC_AMOUNT_MAX);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	if (!ready) {
		pboc_proto_init();
		ready = true;
	}
	static pboc_msg_t m;
	memset(&m, 0, sizeof(m));
	int rc = pboc_request_decode((const char *)data, size,
				     PBOC_POSITIONS_MAX, &m);
	if (rc == 0) {
		check_request(&m);
		m.status = PBOC_ST_REJECTED; /* the longest shape it can take */
		memset(m.reason, 'r', sizeof(m.reason) - 1);
	} else {
		check(rc == PS_EFORMAT && m.status == PBOC_ST_ERROR);
		check(m.field[0] != '\0' && m.reason[0] != '\0');
	}
	static char out[PBOC_ANSWER_BYTES_MAX];
	size_t len = 0;
	check(pboc_answer_encode(&m, out, sizeof(out), &len) == 0);
	check(len > 0 && out[len - 1] == '\n' && memchr(out, '\n', len) == out + len - 1);
	json_t *answer = json_loadb(out, len - 1, 0, NULL);
	check(json_is_object(answer));
	json_decref(answer);
	return 0;
}
