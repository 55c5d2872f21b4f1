/*
 * store.h: netsim's clearing record, an LMDB environment of its own
 * (--store DIR): every leg it carried, durable across restarts, and what
 * its periods and their settlement have come to.
 *
 *   legs     leg id (8 bytes, big-endian)  -> ns_leg_t
 *   keys     the sender's key of a leg     -> leg id (0: a tombstone, a
 *            ("<sender>|<acquirer>:<stan>:<transmit>", the acquirer
 *            without leading zeros)           reversal that came first)
 *   pending  leg id                        -> its period: legs whose outcome
 *                                             is not known yet (sent, or
 *                                             being reversed)
 *   cleared  period (12 bytes) + leg id    -> nothing: the legs whose
 *                                             obligations a period nets
 *   periods  period                        -> ns_period_t
 *   batches  period                        -> the settle request sent to
 *                                             PBOC (a JSON line)
 *   meta     "meta"                        -> ns_meta_t
 *
 * The pending and cleared indexes follow the legs: ns_store_put_leg
 * compares the record it replaces with the new one and moves the index
 * entries, so no caller keeps them by hand.
 *
 * Records are this build's structs as they are in memory (host byte
 * order), each beginning with its version: a store stays on the machine
 * that wrote it, as a simulator's does. Writes go through one write
 * transaction per loop event (a turn, an answer, a timeout), committed
 * before any answer that depends on it is sent. Values read are copied
 * out, never borrowed past the call.
 *
 * Pure: never includes uv.h.
 */
#ifndef PAYSWITCH_NETSIM_STORE_H
#define PAYSWITCH_NETSIM_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lmdb.h>

#include "netting.h"

#define NS_STORE_VERSION 1
#define NS_KEY_MAX 64

/* Where a leg is. */
enum ns_leg_state {
	NS_LEG_SENT = 1,   /* forwarded; its answer awaited (a reversal: not
			      acknowledged yet, repeated) */
	NS_LEG_ANSWERED,   /* the bank answered: rc */
	NS_LEG_UNSENT,     /* never left (the bank's link down): nothing */
	NS_LEG_UNKNOWN,    /* no answer in time: its reversal decides */
	NS_LEG_REVERSED,   /* its reversal was answered 00 */
	NS_LEG_VOID,       /* never posted: its reversal was answered 25 (or,
			      a reversal, answered 25) */
	NS_LEG_ABANDONED,  /* a reversal given up after its attempts, and the
			      leg it was for: an operator's case */
};

/* Who asked for a reversal. */
enum ns_rev_source { NS_REV_MEMBER = 1, NS_REV_TIMEOUT, NS_REV_LATE };

typedef struct ns_leg {
	uint32_t version;
	uint8_t kind;           /* enum txn_kind: PURCHASE, CREDIT, REFUND_CREDIT,
				   BALANCE, REVERSAL */
	uint8_t original_kind;  /* a reversal: its parent's kind */
	uint8_t state;          /* enum ns_leg_state */
	uint8_t rc;             /* the bank's answer; TXN_RC_NONE none */
	uint8_t source;         /* a reversal: enum ns_rev_source */
	uint8_t attempts;       /* a reversal: transmissions so far */
	bool cleared;           /* its obligation counts, in clear_period */
	bool reverse_wanted;    /* a member asked to reverse it in flight */
	uint64_t id;
	uint64_t parent;        /* a reversal: the leg it reverses */
	uint64_t reversal;      /* a leg: its reversal, 0 none */
	char period[NS_PERIOD_MAX];       /* stamped when sent (field 15) */
	char clear_period[NS_PERIOD_MAX]; /* netted in; "" not cleared */
	char bank[CLF_MEMBER_MAX + 1];    /* the member bank (field 100) */
	char origin[CLF_MEMBER_MAX + 1];  /* field 32 */
	char sender[CLF_MEMBER_MAX + 1];  /* the member that sent it */
	char account[20];
	int64_t amount;
	uint16_t currency;
	int64_t fee_issuer;
	int64_t fee_network;
	uint32_t stan;          /* the sender's key */
	char transmit[11];
	uint32_t fwd_stan;      /* the key it was forwarded with */
	char fwd_transmit[11];
	char rrn[13];
	char auth_code[7];
	uint64_t created_ms;    /* wall clock */
	uint64_t answered_ms;
	char key[NS_KEY_MAX];   /* its entry in keys ("" for netsim's own) */
} ns_leg_t;

/* A leg whose outcome is not known yet. */
bool ns_leg_is_pending(const ns_leg_t *l);

enum ns_period_state {
	NS_PERIOD_OPEN = 0,
	NS_PERIOD_CLOSED,    /* waiting for its pending legs */
	NS_PERIOD_NETTED,    /* files written, batch made; PBOC not yet sure */
	NS_PERIOD_POSTED,    /* PBOC's answers */
	NS_PERIOD_QUEUED,
	NS_PERIOD_REJECTED,
	NS_PERIOD_EMPTY,     /* nothing to settle */
};

const char *ns_period_state_name(int state);

typedef struct ns_period {
	uint32_t version;
	uint8_t state;          /* enum ns_period_state */
	char name[NS_PERIOD_MAX];
	char batch[24];         /* CUP-YYYYMMDD, or the session's id */
	uint64_t opened_ms, closed_ms, netted_ms, answered_ms;
	uint32_t legs;          /* cleared legs netted */
	uint32_t members;       /* positions */
	char reason[160];       /* PBOC's, for queued and rejected */
} ns_period_t;

typedef struct ns_meta {
	uint32_t version;
	uint8_t mode;           /* the mode that made the store */
	char period[NS_PERIOD_MAX]; /* the open period */
	char date[9];           /* its date */
	uint32_t session;       /* NetClear: its sequence */
	uint64_t opened_ms;     /* wall clock it opened */
	uint64_t next_leg;      /* the next leg id */
	uint32_t stan_base;     /* where the links' STANs start next time */
} ns_meta_t;

typedef struct ns_store {
	MDB_env *env;
	MDB_dbi legs, keys, pending, cleared, periods, batches, meta;
} ns_store_t;

/* Opens (creating) the environment in dir. sync: fsync every commit (else
 * a machine crash may lose the last ones; a process crash never does).
 * PS_EIO with err. */
int ns_store_open(ns_store_t *s, const char *dir, size_t map_bytes, bool sync,
		  char *err, size_t err_cap);
void ns_store_close(ns_store_t *s);

/* Transactions: write (rdonly false) or read. PS_EIO on failure. */
int ns_store_begin(ns_store_t *s, bool rdonly, MDB_txn **txn);
int ns_store_commit(MDB_txn *txn);
void ns_store_abort(MDB_txn *txn);

/* Each returns 0, PS_ENOTFOUND, or PS_EIO (PS_ENOSPC: the map is full). */
int ns_store_get_leg(MDB_txn *txn, const ns_store_t *s, uint64_t id,
		     ns_leg_t *out);
int ns_store_put_leg(MDB_txn *txn, const ns_store_t *s, const ns_leg_t *leg);
int ns_store_get_key(MDB_txn *txn, const ns_store_t *s, const char *key,
		     uint64_t *id);
int ns_store_put_key(MDB_txn *txn, const ns_store_t *s, const char *key,
		     uint64_t id);
int ns_store_get_meta(MDB_txn *txn, const ns_store_t *s, ns_meta_t *out);
int ns_store_put_meta(MDB_txn *txn, const ns_store_t *s, const ns_meta_t *m);
int ns_store_get_period(MDB_txn *txn, const ns_store_t *s, const char *name,
			ns_period_t *out);
int ns_store_put_period(MDB_txn *txn, const ns_store_t *s,
			const ns_period_t *p);
/* A period's settle request; text into out (cap bytes, NUL-terminated). */
int ns_store_get_batch(MDB_txn *txn, const ns_store_t *s, const char *period,
		       char *out, size_t cap, size_t *len);
int ns_store_put_batch(MDB_txn *txn, const ns_store_t *s, const char *period,
		       const char *text, size_t len);

/* Visitors: 0 goes on; an error code (negative) stops the walk and is
 * returned. */
typedef int (*ns_leg_fn)(void *ctx, const ns_leg_t *leg);
typedef int (*ns_id_fn)(void *ctx, uint64_t id, const char *period);
typedef int (*ns_period_fn)(void *ctx, const ns_period_t *p);

/* The legs cleared in period, in id order. */
int ns_store_each_cleared(MDB_txn *txn, const ns_store_t *s, const char *period,
			  ns_leg_fn fn, void *ctx);
/* The pending legs' ids and periods, in id order. */
int ns_store_each_pending(MDB_txn *txn, const ns_store_t *s, ns_id_fn fn,
			  void *ctx);
int ns_store_each_period(MDB_txn *txn, const ns_store_t *s, ns_period_fn fn,
			 void *ctx);

#endif /* PAYSWITCH_NETSIM_STORE_H */
