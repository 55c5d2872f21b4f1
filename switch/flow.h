/*
 * flow.h: the transaction flows.
 *
 *   pay       debit the payer's bank, then credit the payee's; a failed
 *             credit reverses the debit
 *   refund    the reverse legs against an approved pay, never more than
 *             was paid: debit the payee, credit the payer
 *   query     the state and final answer of an earlier request
 *   forward   an acquirer's purchase, refund, credit or balance inquiry,
 *             routed by PAN to the issuer and answered with its code
 *   advice    an acquirer's reversal: reverse the original
 *
 * The flow sees only the canonical transaction (adapters.h): it never
 * asks which protocol a message came in on. Every step changes the
 * record first (sw_table_mark), then queues the message it justifies
 * (legs.h, the outbox); the turn's commit writes the record before the
 * message leaves (turn.h). The origin gets exactly one final answer:
 * one place answers, and a transaction is finished once.
 *
 * Also here: restart recovery (recover.c): every transaction a previous
 * run left without a final state is finished with 96 and its legs that
 * may have moved money are reversed.
 */
#ifndef PAYSWITCH_SW_FLOW_H
#define PAYSWITCH_SW_FLOW_H

#include <stdint.h>

#include <uv.h>

#include "clearing.h"
#include "ctx.h"
#include "legs.h"
#include "net.h"
#include "outbox.h"
#include "routing.h"
#include "saf.h"
#include "store.h"
#include "table.h"
#include "turn.h"

typedef struct sw_flow {
	sw_ctx_t *ctx;
	sw_store_t *store;
	sw_table_t *table;
	sw_net_t *net;
	sw_outbox_t *outbox;
	sw_legs_t *legs;
	sw_saf_t *saf;
	sw_turn_t *turn;
	sw_clearing_t *clearing;
	route_table_t routes;    /* in the store's environment */
	uint32_t requests_inflight; /* requests not yet answered */
	uv_timer_t deadline;     /* the earliest leg deadline */
	bool timer_open;
	uint64_t *lost;          /* answers not delivered, to act on */
	uint32_t lost_count, lost_cap;
} sw_flow_t;

/* Opens the route table in the store's environment. */
int sw_flow_init(sw_flow_t *flow, sw_ctx_t *ctx, sw_store_t *store,
		 sw_table_t *table, sw_net_t *net, sw_outbox_t *outbox,
		 sw_legs_t *legs, sw_saf_t *saf, sw_turn_t *turn,
		 sw_clearing_t *clearing, char *err, size_t err_cap);
/* The deadline timer. */
void sw_flow_start(sw_flow_t *flow);
void sw_flow_close(sw_flow_t *flow);

/* net.h's handlers: a decoded request, a response to a leg (0, or
 * SW_NET_HOLD when the turn has no room for what it changes). */
void sw_flow_request(void *flow, sw_conn_t *conn, txn_t *req);
int sw_flow_response(void *flow, sw_endpoint_t *ep, const txn_response_t *resp);
/* net.h's network_closed handler: clearing.h's. */
void sw_flow_network_closed(void *flow, sw_endpoint_t *ep, const char *period,
			    uint64_t window);
/* net.h's recon_answer handler: recon.h's. */
void sw_flow_recon_answer(void *flow, sw_endpoint_t *ep,
			  const txn_response_t *resp);
/* net.h's answer_lost handler: noted, acted on by sw_flow_after_turn. */
void sw_flow_answer_lost(void *flow, uint64_t txn_id);
/* The end of a turn: the answers lost since the last one (an approved
 * card purchase whose acquirer is gone is reversed). */
void sw_flow_after_turn(sw_flow_t *flow);
/* Re-arms the deadline timer at the earliest deadline (end of a turn). */
void sw_flow_arm_deadline(sw_flow_t *flow);
void sw_flow_free(sw_flow_t *flow);

/* Restart recovery, before the listeners open (recover.c). */
int sw_flow_recover(sw_flow_t *flow, char *err, size_t err_cap);

#endif /* PAYSWITCH_SW_FLOW_H */
