/*
 * pboc.h: the switch's client of the central bank (pbocsim's protocol,
 * docs/clearing.md): JSON lines over one TCP connection, requests answered
 * by id in any order.
 *
 * Connects when there is something to ask, and again after a failure;
 * every request is answered exactly once through its callback: with the
 * answer, or with NULL and why (cannot connect, the connection broke, no
 * answer within SW_PBOC_TIMEOUT_MS). Bounded: SW_PBOC_PENDING_MAX
 * requests at once. Not on the payment path: it may allocate.
 */
#ifndef PAYSWITCH_SW_PBOC_H
#define PAYSWITCH_SW_PBOC_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>
#include <uv.h>

#include "adapters.h"

#define SW_PBOC_PENDING_MAX 16
#define SW_PBOC_TIMEOUT_MS 5000

/* answer is the whole answer object (borrowed for the call), NULL on a
 * failure with why. */
typedef void (*sw_pboc_cb)(void *data, json_t *answer, const char *why);

typedef struct sw_pboc_req {
	bool used;
	bool sent;
	char id[24];
	char *line;             /* with its newline */
	size_t len;
	uint64_t deadline_ms;
	sw_pboc_cb cb;
	void *data;
} sw_pboc_req_t;

typedef struct sw_pboc {
	uv_loop_t *loop;
	char host[64];
	uint16_t port;
	uv_tcp_t tcp;
	uv_connect_t connect_req;
	uv_timer_t timer;
	bool configured;
	bool tcp_open;
	bool connected;
	bool timer_open;
	bool closing;
	uint64_t seq;
	sw_pboc_req_t req[SW_PBOC_PENDING_MAX];
	txn_lines_t lines;
	char rbuf[TXN_JSON_LINE_MAX * 4];
} sw_pboc_t;

/* No connection yet; host "" means no central bank is configured (every
 * request then fails at once with that reason). */
void sw_pboc_init(sw_pboc_t *p, uv_loop_t *loop, const char *host,
		  uint16_t port);
/* Sends request (an object; its "id" is set here). 0, or PS_ELIMIT when
 * SW_PBOC_PENDING_MAX are out, PS_EIO when it cannot be sent; the
 * callback is called only on 0. */
int sw_pboc_request(sw_pboc_t *p, json_t *request, sw_pboc_cb cb, void *data);
/* Fails whatever is pending and closes the handles. */
void sw_pboc_close(sw_pboc_t *p);
bool sw_pboc_configured(const sw_pboc_t *p);

#endif /* PAYSWITCH_SW_PBOC_H */
