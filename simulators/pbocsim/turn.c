/*
 * turn.c: PBOC in the server loop's hooks. Its messages are a JSON
 * schema of its own, not canonical transactions, so it decodes each
 * line itself (ops.decode, into the record's pboc_msg_t), answers in the
 * turn from the book, and writes the answer line (ops.encode).
 *
 * Each request is answered in the order read. A settlement commits as
 * it is judged (a batch is recorded, posted, recorded again: pboc.h);
 * there is no group commit here, because settlement comes a few batches
 * a window, not thousands a second.
 */
#include <string.h>

#include "core.h"
#include "pbocsim.h"

/* ---- decoding ------------------------------------------------------------------------ */

int pbocsim_decode(void *ctx, sim_req_t *req, const chan_frame_t *frame,
		   txn_error_t *err)
{
	pbocsim_t *sim = ctx;
	pboc_msg_t *m = sim_req_work(req);
	int rc = pboc_request_decode((const char *)frame->data, frame->len,
				     sim->cfg->positions_max, m);
	ps_strlcpy(req->t.request_id, m->id, sizeof(req->t.request_id));
	if (rc == 0)
		return 0;
	/* Answered all the same, by its id if it had one readable. */
	ps_strlcpy(err->field, m->field, sizeof(err->field));
	ps_strlcpy(err->reason, m->reason, sizeof(err->reason));
	return TXN_EFORMAT;
}

int pbocsim_encode(void *ctx, const sim_req_t *req, uint8_t *out, size_t cap,
		   size_t *len)
{
	(void)ctx;
	const pboc_msg_t *m = sim_req_work((sim_req_t *)req);
	return pboc_answer_encode(m, (char *)out, cap, len);
}

/* ---- the ops -------------------------------------------------------------------------- */

static void storage_error(pboc_msg_t *m, const char *reason)
{
	m->status = PBOC_ST_ERROR;
	m->field[0] = '\0';
	ps_strlcpy(m->reason, reason, sizeof(m->reason));
}

static uint8_t status_of_batch(int status)
{
	switch (status) {
	case PBOC_BATCH_POSTED: return PBOC_ST_POSTED;
	case PBOC_BATCH_QUEUED: return PBOC_ST_QUEUED;
	default: return PBOC_ST_REJECTED;
	}
}

static void do_settle(pboc_t *p, pboc_msg_t *m)
{
	int rc = pboc_settle(p, &m->batch, &m->released);
	if (rc != 0) {
		storage_error(m, m->batch.reason);
		return;
	}
	m->status = status_of_batch(m->batch.status);
	ps_strlcpy(m->reason, m->batch.reason, sizeof(m->reason));
}

static void do_batch(pboc_t *p, pboc_msg_t *m)
{
	char id[PBOC_BATCH_ID_MAX + 1];
	memcpy(id, m->batch.id, sizeof(id));
	int rc = pboc_batch_get(p, id, &m->batch);
	if (rc == 0) {
		m->status = status_of_batch(m->batch.status);
		ps_strlcpy(m->reason, m->batch.reason, sizeof(m->reason));
		return;
	}
	memset(&m->batch, 0, sizeof(m->batch));
	memcpy(m->batch.id, id, sizeof(id));
	if (rc == PS_ENOTFOUND)
		m->status = PBOC_ST_UNKNOWN;
	else
		storage_error(m, "storage: the batch record cannot be read");
}

static void no_member(pboc_msg_t *m)
{
	m->status = PBOC_ST_REJECTED;
	ps_strlcpy(m->field, "member", sizeof(m->field));
	snprintf(m->reason, sizeof(m->reason), "%s is no member of PBOC",
		 m->member);
}

static void do_balance(pboc_t *p, pboc_msg_t *m)
{
	int rc = pboc_balance(p, m->member, &m->balance, &m->credit_limit);
	if (rc == PS_ENOTFOUND) {
		no_member(m);
		return;
	}
	if (rc != 0) {
		storage_error(m, "storage: the reserve cannot be read");
		return;
	}
	m->kind = pboc_members_find(&p->members, m->member)->kind;
	m->status = PBOC_ST_OK;
}

static void do_fund(pboc_t *p, pboc_msg_t *m)
{
	pboc_fund_result_t r;
	int rc = pboc_fund(p, m->member, m->id, m->amount, &r);
	m->balance = r.balance;
	m->released = r.released;
	ps_strlcpy(m->reason, r.reason, sizeof(m->reason));
	m->status = rc != 0 ? PBOC_ST_ERROR
			    : r.done ? PBOC_ST_OK : PBOC_ST_REJECTED;
}

/* One page of members after m->member ("" from the first), in id order. */
static void do_members(pboc_t *p, pboc_msg_t *m)
{
	const pboc_members_t *all = &p->members;
	uint32_t i = 0;
	while (i < all->count && strcmp(all->list[i].id, m->member) <= 0)
		i++;
	for (; i < all->count && m->rows < PBOC_MEMBERS_PAGE; i++) {
		const pboc_member_t *mem = &all->list[i];
		pboc_member_row_t *row = &m->row[m->rows];
		memcpy(row->member, mem->id, sizeof(row->member));
		row->kind = mem->kind;
		if (pboc_balance(p, mem->id, &row->balance,
				 &row->credit_limit) != 0) {
			storage_error(m, "storage: a reserve cannot be read");
			return;
		}
		m->rows++;
	}
	m->more = i < all->count;
	m->member[0] = '\0'; /* "after" is no part of the answer */
	m->status = PBOC_ST_OK;
}

/* ---- the turn -------------------------------------------------------------------------- */

/* Debug for every answer; warn for an error of ours (storage), whereas
 * a request refused at intake was logged by the loop (refused). */
static void log_answer(const pboc_msg_t *m, bool refused)
{
	enum ps_log_level level = m->status == PBOC_ST_ERROR && !refused
					  ? PS_LOG_WARN
					  : PS_LOG_DEBUG;
	if (!ps_log_enabled(level))
		return;
	ps_log_t *l = ps_log_begin(level, "answer");
	ps_log_str(l, "op", pboc_op_name(m->op));
	ps_log_str(l, "id", m->id);
	ps_log_str(l, "status", pboc_status_name(m->status));
	if (m->batch.id[0] != '\0')
		ps_log_str(l, "batch", m->batch.id);
	if (m->member[0] != '\0')
		ps_log_str(l, "member", m->member);
	if (m->field[0] != '\0')
		ps_log_str(l, "field", m->field);
	if (m->reason[0] != '\0')
		ps_log_str(l, "reason", m->reason);
	ps_log_end(l);
}

static void answer(pbocsim_t *sim, pboc_msg_t *m)
{
	pboc_t *p = sim->pboc;
	switch (m->op) {
	case PBOC_OP_SETTLE: do_settle(p, m); break;
	case PBOC_OP_BATCH: do_batch(p, m); break;
	case PBOC_OP_BALANCE: do_balance(p, m); break;
	case PBOC_OP_FUND: do_fund(p, m); break;
	case PBOC_OP_MEMBERS: do_members(p, m); break;
	default: PS_ASSERT(!"a request decoded with no op");
	}
}

void pbocsim_turn(void *ctx, sim_req_t **reqs, uint32_t count)
{
	pbocsim_t *sim = ctx;
	for (uint32_t i = 0; i < count; i++) {
		pboc_msg_t *m = sim_req_work(reqs[i]);
		/* Refused at intake: the error is already the answer. */
		bool refused = reqs[i]->t.rc != TXN_RC_NONE;
		if (!refused)
			answer(sim, m);
		PS_ASSERT(m->status != PBOC_ST_NONE);
		sim->stats.ops[m->op]++;
		sim->stats.errors += m->status == PBOC_ST_ERROR;
		log_answer(m, refused);
	}
}
