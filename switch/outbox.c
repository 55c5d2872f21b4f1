/*
 * outbox.c: the messages of a turn, written after its commit (outbox.h).
 */
#include "outbox.h"

#include <string.h>

/* The write batches of one flush, one per target still open. */
#define FLUSH_TARGETS_MAX 64

typedef struct flush {
	sw_wbatch_t *open[FLUSH_TARGETS_MAX];
	uint32_t gen[FLUSH_TARGETS_MAX];
	uint32_t count;
} flush_t;

void sw_outbox_init(sw_outbox_t *ob, sw_net_t *net)
{
	memset(ob, 0, sizeof(*ob));
	ob->net = net;
}

static void enqueue(sw_queue_t *q, sw_wbuf_t *wb)
{
	wb->next = NULL;
	if (q->tail != NULL)
		q->tail->next = wb;
	else
		q->head = wb;
	q->tail = wb;
	q->len++;
}

void sw_outbox_send(sw_outbox_t *ob, sw_wbuf_t *wb)
{
	enqueue(&ob->gated, wb);
}

void sw_outbox_send_free(sw_outbox_t *ob, sw_wbuf_t *wb)
{
	enqueue(&ob->free, wb);
}

bool sw_outbox_busy(const sw_outbox_t *ob)
{
	return ob->gated.len > 0 || ob->free.len > 0;
}

static void submit(sw_net_t *net, sw_wbatch_t *b, uint32_t gen)
{
	int rc = b->conn != NULL ? sw_conn_write(b->conn, gen, b)
				 : sw_link_write(b->link, b);
	if (rc != 0)
		sw_wbatch_free(net, b, false);
}

static void submit_at(sw_net_t *net, flush_t *f, uint32_t i)
{
	submit(net, f->open[i], f->gen[i]);
	f->open[i] = f->open[--f->count];
	f->gen[i] = f->gen[f->count];
}

/* Adds wb to the open batch for its target, opening one if needed. */
static void batch_message(sw_net_t *net, flush_t *f, sw_wbuf_t *wb)
{
	sw_conn_t *conn = wb->conn;
	sw_link_t *link = wb->link;
	sw_metrics_t *m = &net->ctx->metrics;
	if (conn != NULL && !sw_conn_alive(conn, wb->conn_gen)) {
		sw_wbuf_put(net, wb); /* counted as dropped there */
		return;
	}
	if (conn == NULL && link == NULL)
		link = sw_endpoint_pick(wb->endpoint);
	if (conn == NULL && link == NULL) {
		m->legs_unsent++;
		sw_wbuf_put(net, wb);
		return;
	}
	uint32_t i = 0;
	while (i < f->count && (f->open[i]->conn != conn || f->open[i]->link != link))
		i++;
	if (i == f->count) {
		if (f->count == FLUSH_TARGETS_MAX)
			submit_at(net, f, 0);
		sw_wbatch_t *b = sw_wbatch_get(net);
		if (b == NULL) { /* sized so it cannot happen; drop, never block */
			sw_wbuf_put(net, wb);
			return;
		}
		b->conn = conn;
		b->link = link;
		i = f->count++;
		f->open[i] = b;
		f->gen[i] = wb->conn_gen;
	}
	sw_wbatch_add(f->open[i], wb);
	if (f->open[i]->count == SW_WBATCH_MAX)
		submit_at(net, f, i);
}

static sw_wbuf_t *take(sw_queue_t *q)
{
	sw_wbuf_t *wb = q->head;
	q->head = q->tail = NULL;
	q->len = 0;
	return wb;
}

void sw_outbox_flush(sw_outbox_t *ob, bool committed)
{
	flush_t f = {.count = 0};
	for (int k = committed ? 0 : 1; k < 2; k++) {
		sw_wbuf_t *wb = take(k == 0 ? &ob->gated : &ob->free);
		while (wb != NULL) {
			sw_wbuf_t *next = wb->next;
			batch_message(ob->net, &f, wb);
			wb = next;
		}
	}
	while (f.count > 0)
		submit_at(ob->net, &f, f.count - 1);
}

void sw_outbox_discard(sw_outbox_t *ob)
{
	for (int k = 0; k < 2; k++) {
		sw_wbuf_t *wb = take(k == 0 ? &ob->gated : &ob->free);
		while (wb != NULL) {
			sw_wbuf_t *next = wb->next;
			sw_wbuf_put(ob->net, wb);
			wb = next;
		}
	}
}
