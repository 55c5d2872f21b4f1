/*
 * ns_test.h: the fixture of netsim's process suites: netsim over a fresh
 * store with a members file, its member banks (real banksims, through
 * tests/simulators/banksim's fixture, so their books can be read), PBOC
 * (the real pbocsim when it is built, else a small one in a thread that
 * answers every settle "posted"), and a member client that speaks as the
 * switch does: the same adapter calls (chan_encode_leg, chan_decode) over
 * a UnionPay or NetClear channel.
 *
 * Every wait is bounded (NT_WAIT_MS unless said otherwise); processes die
 * with the test (tests/support).
 */
#ifndef PAYSWITCH_NS_TEST_H
#define PAYSWITCH_NS_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdbool.h>

#include <jansson.h>

#include "adapters.h"
#include "bank_test.h"
#include "channel.h"
#include "support.h"

#define NT_WAIT_MS 8000
#define NT_SWITCH "99990000"     /* the member the test acts as */
#define NT_PSP "48110001"        /* the origin of its legs (field 32) */
#define NT_TRANSMIT "1203101500"

/* ---- PBOC --------------------------------------------------------------------- */

typedef struct nt_pboc {
	bool real;              /* build/bin/pbocsim, not the thread */
	uint16_t port;
	char dir[256];
	ts_proc_t proc;
	int listen_fd;
	pthread_t thread;
	pthread_mutex_t mu;
	bool stop;
	char lines[8][16384];   /* settle requests received (the thread's) */
	int count;
} nt_pboc_t;

/* Starts PBOC with these members (a NULL-terminated list of "id:kind"),
 * each funded generously. NT_FAKE_PBOC=1 in the environment forces the
 * thread. */
void nt_pboc_start(nt_pboc_t *p, const char *const *members);
/* The batch as PBOC holds it: {"status","positions":[{"member","amount"}]}
 * once submitted (polled up to NT_WAIT_MS), or NULL. Caller frees. */
json_t *nt_pboc_batch(nt_pboc_t *p, const char *batch);
void nt_pboc_stop(nt_pboc_t *p);
/* The position of member in a batch (0 when absent), and their sum. */
int64_t nt_position(json_t *batch, const char *member);
int64_t nt_positions_sum(json_t *batch);

/* ---- netsim -------------------------------------------------------------------- */

typedef struct nt_net {
	char dir[256];
	char store[320];
	char clearing[320];
	char members[320];
	char ready[320];
	char log[320];
	ts_proc_t proc;
	bool running;
	uint16_t port;
} nt_net_t;

void nt_net_setup(nt_net_t *n, const char *tag, const char *members_json);
/* Starts netsim with --mode mode, the store, members, ready file, and
 * extra (NULL-terminated, may be NULL); waits for the ready file. */
void nt_net_start(nt_net_t *n, const char *mode, const char *const *extra);
void nt_net_stop(nt_net_t *n);
void nt_net_teardown(nt_net_t *n);
int nt_log_count(const nt_net_t *n, const char *text);
/* Reads <clearing>/<member>/<name> (waits for it up to NT_WAIT_MS);
 * malloc'ed, NUL-terminated; NULL when it never came. */
char *nt_clearing_file(const nt_net_t *n, const char *member, const char *name,
		       size_t *len);

/* ---- the world: two banks, PBOC, netsim ----------------------------------------------- */

#define NT_BANK_A "01020000"     /* accounts 622202..., 100000 each */
#define NT_BANK_B "01030000"     /* 6217000000000009 (empty) and
				    6217000000000001, whose 0200 answers
				    it drops */

typedef struct nt_world {
	bt_bank_t a, b;
	nt_pboc_t pboc;
	nt_net_t net;
	char pboc_address[32];
	char members_json[1024];
} nt_world_t;

/* Starts the banks, PBOC and netsim --mode mode (a start date of
 * 20261203, a timeout of 400 ms, quick reversal repeats, and extra). */
void nt_world_start(nt_world_t *w, const char *tag, const char *mode,
		    const char *const *extra);
/* netsim again, on the same store (after a stop or a kill). */
void nt_world_restart(nt_world_t *w, const char *mode);
/* Stops everything; the banks' books are checked sound. */
void nt_world_stop(nt_world_t *w);

/* ---- a member ---------------------------------------------------------------------- */

typedef struct nt_member {
	int fd;
	chan_cfg_t cfg;
} nt_member_t;

/* What came: an answer, or a request (an 0820 announcement, a frame sent
 * back with its header's reject code). */
typedef struct nt_msg {
	bool response;
	txn_response_t resp;
	txn_t req;
	int rc;                  /* chan_decode's */
	iso8583_cups_header_t header; /* UnionPay */
} nt_msg_t;

/* Connects as the switch: UnionPay (ASCII dialect, ascii4 length, a CUPS
 * header from NT_SWITCH to 00010000) or NetClear (issuer NT_SWITCH). */
void nt_member_open(nt_member_t *m, uint16_t port, bool unionpay);
void nt_member_close(nt_member_t *m);
/* Leg 0 of t as the switch sends it; the whole frame into out too (cap
 * bytes, may be NULL) for a test that alters it. */
void nt_member_send(nt_member_t *m, const txn_t *t, uint8_t *out, size_t cap,
		    size_t *len);
void nt_member_send_raw(nt_member_t *m, const void *data, size_t len);
/* Network management (TXN_NET_*) keyed (stan, NT_TRANSMIT). */
void nt_member_network(nt_member_t *m, int op, uint32_t stan);
/* Signs on (STAN 100) and returns the answer, asserted 00. */
txn_response_t nt_member_sign_on(nt_member_t *m);
bool nt_member_recv(nt_member_t *m, nt_msg_t *msg, int timeout_ms);
/* Receives until the answer keyed (stan, NT_TRANSMIT) comes; requests
 * met on the way (announcements) go into others (up to *other_count on
 * entry; may be NULL). Fails the test after NT_WAIT_MS. */
txn_response_t nt_member_answer(nt_member_t *m, uint32_t stan, nt_msg_t *others,
				int *other_count);

/* ---- legs as the switch builds them ---------------------------------------------------- */

/* A leg of kind (PURCHASE, CREDIT, REFUND_CREDIT) for account, keyed
 * (stan, NT_TRANSMIT), its origin NT_PSP. */
void nt_leg(txn_t *t, int kind, const char *account, int64_t amount,
	    uint32_t stan);
/* The reversal of orig's leg 0, its own STAN. */
void nt_reversal(txn_t *rev, const txn_t *orig, uint32_t stan);

#endif /* PAYSWITCH_NS_TEST_H */
