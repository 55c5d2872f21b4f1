/*
 * sw_int.h: switchd's internal structures, shared by the switch's files.
 *
 * The pieces, one file each:
 *   config.c    the JSON configuration and its validation
 *   server.c    lifecycle: create, signals, reload, drain, ready file
 *   store.c     LMDB: inflight, match, idem, saf, meta; the per-turn batch
 *               and its group commit; the outbox sent after each commit
 *   table.c     in-memory transactions: pool, hash indexes, deadline heap
 *   conn.c      listeners and inbound connections (ISO 8583, JSON lines)
 *   endpoint.c  outbound links: connect, sign on, echo, backoff, up/down
 *   flow.c      the transaction state machines (pay, refund, purchase ...)
 *   saf.c       the store-and-forward reversal queue and restart recovery
 *   control.c   the control socket (JSON lines)
 *   metrics.c   counters, histograms and the Prometheus endpoint
 *
 * The one rule that ties them together: a state change is recorded in the
 * batch, and nothing that depends on it (a message to a bank, an answer to
 * an origin) is written to a socket before the batch is committed. The
 * uv_check handle commits once per loop turn, then flushes the outbox.
 */
#ifndef PAYSWITCH_SW_INT_H
#define PAYSWITCH_SW_INT_H

#include <lmdb.h>
#include <uv.h>

#include "adapters.h"
#include "core.h"
#include "iso8583.h"
#include "routing.h"
#include "switch.h"

/* ---- bounds ------------------------------------------------------------ */

#define SW_NAME_MAX 32
#define SW_HOST_MAX 64
#define SW_PATH_MAX 256
#define SW_LISTENERS_MAX 16
#define SW_ENDPOINTS_MAX 64
#define SW_LINKS_MAX 16
#define SW_DIALECTS_MAX 16
/* Every message the switch encodes comes from a txn_t whose fields are
 * bounded, so it fits here with room to spare; see sw_wbuf_pack(). */
#define SW_WBUF_BYTES 2048
#define SW_BATCH_ARENA_BYTES (4u * 1024 * 1024)
#define SW_BATCH_OPS_MAX 65536

enum sw_protocol { SW_PROTO_ISO8583 = 0, SW_PROTO_JSON };

/* ---- configuration ------------------------------------------------------ */

typedef struct sw_channel_cfg {
	uint8_t protocol;               /* enum sw_protocol */
	char dialect[SW_PATH_MAX];      /* built-in name or spec file path */
	const iso8583_dialect_t *iso;   /* resolved; owned by the config */
	iso8583_framing_t framing;      /* framing.dialect set on apply */
	uint8_t header[TXN_HEADER_MAX]; /* fixed header of what the switch
					   originates (zeros by default) */
} sw_channel_cfg_t;

typedef struct sw_listener_cfg {
	char name[SW_NAME_MAX];
	char host[SW_HOST_MAX];
	uint16_t port;
	sw_channel_cfg_t chan;
	char participant[16];
	uint32_t connections_max;
	uint32_t inflight_per_conn_max;
	uint32_t frame_bytes_max;
	uint32_t idle_timeout_ms;       /* 0: never */
} sw_listener_cfg_t;

typedef struct sw_endpoint_cfg {
	char name[SW_NAME_MAX];
	char host[SW_HOST_MAX];
	uint16_t port;
	sw_channel_cfg_t chan;
	char institution[12];
	uint32_t connections;
	uint32_t timeout_ms;
	uint32_t echo_interval_ms;
	uint32_t echo_misses_max;
	uint32_t reconnect_min_ms;
	uint32_t reconnect_max_ms;
	uint32_t inflight_max;
	uint32_t frame_bytes_max;
	bool sign_on;
	bool two_phase;          /* debits are authorisations until a 0220 */
} sw_endpoint_cfg_t;

struct sw_config {
	char institution[12];           /* the switch's own id: 32/33 */
	char lmdb_dir[SW_PATH_MAX];
	uint64_t lmdb_map_bytes;
	bool lmdb_sync;
	int log_level;
	char control[SW_PATH_MAX];      /* "host:port" or "unix:/path" */
	char metrics[SW_PATH_MAX];      /* "host:port" or "" */
	uint32_t inflight_max;
	uint32_t saf_inflight_max;
	uint32_t reversal_retry_ms;
	uint32_t reversal_retry_max_ms;
	uint32_t reversal_attempts_max;
	uint64_t reversal_expiry_ms;
	uint32_t saf_scan_max;
	uint64_t retention_ms;          /* finished records kept; 0 forever */
	uint32_t drain_ms;
	uint32_t listener_count;
	sw_listener_cfg_t listener[SW_LISTENERS_MAX];
	uint32_t endpoint_count;
	sw_endpoint_cfg_t endpoint[SW_ENDPOINTS_MAX];
	iso8583_dialect_t *loaded[SW_DIALECTS_MAX]; /* spec files, owned */
	uint32_t loaded_count;
};

/* ---- write buffers and the outbox ------------------------------------- */

typedef struct sw_conn sw_conn_t;
typedef struct sw_endpoint sw_endpoint_t;
typedef struct sw_link sw_link_t;

/*
 * A message on its way out: encoded once, held in the outbox until the
 * batch that justifies it is committed, then written as part of a write
 * batch; returned to the pool in the batch's write callback (libuv owns
 * it until then).
 */
typedef struct sw_wbuf {
	struct sw_wbuf *next;      /* outbox chain */
	sw_server_t *sw;
	sw_conn_t *conn;           /* target: an inbound connection ... */
	uint32_t conn_gen;
	sw_endpoint_t *endpoint;   /* ... or an endpoint (any link up) */
	sw_link_t *link;           /* ... or one particular link */
	size_t len;
	uint8_t data[SW_WBUF_BYTES];
} sw_wbuf_t;

/*
 * One write to one socket: the messages of a turn for the same target go
 * out in a single writev, so a busy link costs one syscall a turn, not one
 * a message.
 */
#define SW_WBATCH_MAX 32

typedef struct sw_wbatch {
	uv_write_t req;
	sw_server_t *sw;
	sw_conn_t *conn;           /* the target: a connection ... */
	sw_link_t *link;           /* ... or a link */
	uint32_t count;
	sw_wbuf_t *wb[SW_WBATCH_MAX];
	uv_buf_t buf[SW_WBATCH_MAX];
} sw_wbatch_t;

/* ---- in-memory transactions ------------------------------------------- */

/*
 * A transaction the switch is working on: the persisted record plus what
 * only matters while this process runs. It stays in memory until its last
 * change is committed, so every lookup sees the newest state: memory first,
 * then LMDB.
 */
typedef struct sw_txn {
	txn_t t;
	sw_conn_t *origin;       /* where to answer; check origin_gen */
	uint32_t origin_gen;
	uint32_t next_id;        /* hash chains: pool index + 1, 0 = end */
	uint32_t next_idem;
	uint32_t next_match;
	uint32_t heap_index;     /* deadline heap slot, SW_NOT_SCHEDULED */
	uint64_t deadline_mono_ms;
	int8_t cur_leg;          /* leg awaiting a response, -1 none */
	bool in_id;
	bool in_idem;
	bool in_match;
	bool dirty;              /* in the batch's dirty list */
	bool release;            /* free once the batch is committed */
	bool release_queued;     /* in the store's release list */
	bool saf_done;           /* reversal acknowledged: SAF key deleted */
	uint16_t pins;           /* refunds holding this pay in memory */
	uint8_t saf_key[16];     /* reversal transmissions: their SAF key */
	uint64_t started_ns;     /* intake time, for the latency histogram */
} sw_txn_t;

#define SW_NOT_SCHEDULED UINT32_MAX

typedef struct sw_table {
	ps_pool_t pool;
	uint32_t *by_id;         /* buckets: pool index + 1 */
	uint32_t *by_idem;
	uint32_t *by_match;
	uint32_t bucket_mask;
	sw_txn_t **heap;         /* deadline min-heap */
	uint32_t heap_len;
	uint32_t reversals;      /* SAF transmissions in memory */
} sw_table_t;

/* ---- store --------------------------------------------------------------- */

typedef struct sw_op {
	uint8_t put;             /* 1 put, 0 delete */
	MDB_dbi dbi;
	uint32_t key_off, key_len;
	uint32_t val_off, val_len;
} sw_op_t;

typedef struct sw_store {
	MDB_env *env;
	MDB_dbi inflight, active, match, idem, saf, meta;
	route_table_t routes;
	MDB_txn *rtxn;           /* reusable read txn: reset between uses */
	/* The batch of this loop turn. */
	sw_txn_t **dirty;
	uint32_t dirty_count;
	uint32_t dirty_cap;
	sw_txn_t **release;      /* to free after the turn's commit */
	uint32_t release_count;
	sw_op_t *ops;
	uint32_t op_count;
	uint8_t *arena;
	uint32_t arena_used;
	sw_wbuf_t *outbox_head;
	sw_wbuf_t *outbox_tail;
	uint32_t outbox_len;
	/* Sequences, reserved in blocks so a restart never reuses one. */
	uint64_t txn_next, txn_reserved;
	uint64_t msg_next, msg_reserved;
	uint64_t saf_seq;
	bool seq_dirty;
	uint32_t commit_failures;
} sw_store_t;

/* ---- listeners and connections --------------------------------------- */

typedef struct sw_listener {
	sw_server_t *sw;
	sw_listener_cfg_t cfg;
	iso8583_dialect_t dialect;   /* own copy: outlives config reloads */
	uv_tcp_t tcp;
	sw_conn_t *live;             /* connections not yet closed */
	uint32_t txn_refs;           /* transactions whose origin is here */
	ps_pool_t conns;         /* sw_conn_t + read buffer each */
	size_t conn_bytes;
	uint32_t conn_count;
	uint16_t bound_port;
	bool listening;
	bool retired;            /* removed or replaced by a reload */
	bool closed;             /* tcp handle closed */
	uint64_t accepted, refused;
} sw_listener_t;

struct sw_conn {
	sw_listener_t *listener;
	sw_conn_t *prev, *next;  /* the listener's live list */
	uv_tcp_t tcp;
	uv_timer_t idle;
	uint8_t handles_open;
	bool idle_open;
	uint32_t gen;
	uint32_t inflight;
	uint32_t writes_pending;
	uint64_t last_rx_ms;
	bool closing;
	bool reading;
	char peer[64];
	iso8583_framer_t framer; /* protocol iso8583 */
	txn_lines_t lines;       /* protocol json */
	uint8_t rbuf[];          /* frame_bytes_max + 4, or a JSON line */
};

/* ---- endpoints and links ----------------------------------------------- */

enum sw_link_state {
	SW_LINK_DOWN = 0,     /* waiting to reconnect */
	SW_LINK_CONNECTING,
	SW_LINK_SIGNING_ON,   /* 0800/001 sent */
	SW_LINK_UP,
	SW_LINK_CLOSING,
};

struct sw_link {
	sw_endpoint_t *endpoint;
	uint32_t index;
	uv_tcp_t tcp;
	uv_connect_t connect_req;
	uv_timer_t timer;        /* reconnect backoff, then echo */
	uint8_t state;
	bool tcp_open;           /* tcp handle initialised, not yet closed */
	bool timer_open;
	uint32_t backoff_ms;
	uint64_t last_rx_ms;
	uint64_t last_tx_ms;
	uint32_t echo_misses;
	bool echo_pending;
	uint32_t echo_stan;
	uint64_t echo_sent_ms;
	uint32_t signon_stan;
	uint32_t writes_pending;
	iso8583_framer_t framer;
	uint8_t *rbuf;
};

struct sw_endpoint {
	sw_server_t *sw;
	sw_endpoint_cfg_t cfg;
	iso8583_dialect_t dialect;   /* own copy: outlives config reloads */
	sw_link_t link[SW_LINKS_MAX];
	uint32_t rr;
	uint32_t inflight;
	bool retired;
	uint64_t sent, received, timeouts, late, ups, downs;
};

/* ---- metrics -------------------------------------------------------------- */

#define SW_LATENCY_BUCKETS 16

typedef struct sw_metrics {
	uint64_t requests[TXN_KIND_COUNT];
	uint64_t answers[100];           /* by response code 00..99 */
	uint64_t format_errors;
	uint64_t duplicates;
	uint64_t refused_bound;          /* 91 for a bound reached */
	uint64_t timeouts;
	uint64_t late_responses;
	uint64_t reversals_queued;
	uint64_t reversals_acked;
	uint64_t reversals_expired;
	uint64_t purged;                 /* finished records past retention */
	uint64_t commits;
	uint64_t commit_failures;
	uint64_t batch_ops;
	uint64_t latency_count;
	uint64_t latency_sum_us;
	uint64_t latency_bucket[SW_LATENCY_BUCKETS];
	uint64_t commit_count;
	uint64_t commit_sum_us;
	uint64_t commit_bucket[SW_LATENCY_BUCKETS];
} sw_metrics_t;

/* ---- the server -------------------------------------------------------- */

typedef struct sw_control sw_control_t;
typedef struct saf_due saf_due_t;
typedef struct sw_http sw_http_t;

struct sw_server {
	uv_loop_t loop;
	bool loop_open;
	sw_config_t *cfg;
	char config_path[SW_PATH_MAX];
	char ready_file[SW_PATH_MAX];
	sw_store_t store;
	sw_table_t table;
	ps_pool_t wbufs;
	ps_pool_t wbatches;
	sw_listener_t *listener[SW_LISTENERS_MAX * 2]; /* live and retired */
	uint32_t listener_count;
	sw_endpoint_t *endpoint[SW_ENDPOINTS_MAX * 2];
	uint32_t endpoint_count;
	uv_check_t commit_check;
	uv_idle_t batch_idle;     /* active while a batch waits to commit */
	bool batch_idle_on;
	uv_timer_t commit_retry;  /* wakes the loop after a failed commit */
	uv_timer_t deadline_timer;
	uv_timer_t saf_timer;
	uv_timer_t retain_timer;
	uv_timer_t drain_timer;
	uv_signal_t sig_hup, sig_term, sig_int;
	bool signals;
	sw_control_t *control;
	sw_http_t *http;
	sw_metrics_t metrics;
	saf_due_t *saf_scratch;   /* saf.c: due entries of one tick */
	txn_t *retain_scratch;    /* retain.c: expired records of one tick */
	uint64_t started_mono_ms;
	bool draining;
	bool stopped;
	uint32_t conn_total;
	uint32_t conn_gen_seq;
	uint32_t requests_inflight;  /* requests not yet answered */
};

/* ---- calls between the files ---------------------------------------------- */

/* config.c */
int sw_config_validate_address(const char *addr, char *host, size_t host_cap,
			       uint16_t *port);

/* store.c */
int sw_store_open(sw_server_t *sw, char *err, size_t err_cap);
void sw_store_close(sw_server_t *sw);
void sw_store_mark(sw_server_t *sw, sw_txn_t *st);
void sw_store_release(sw_server_t *sw, sw_txn_t *st);
int sw_store_put(sw_server_t *sw, MDB_dbi dbi, const void *key, size_t klen,
		 const void *val, size_t vlen);
int sw_store_del(sw_server_t *sw, MDB_dbi dbi, const void *key, size_t klen);
void sw_store_send(sw_server_t *sw, sw_wbuf_t *wb);
int sw_store_commit(sw_server_t *sw);
bool sw_store_busy(const sw_server_t *sw);
MDB_txn *sw_store_read(sw_server_t *sw);
void sw_store_read_done(sw_server_t *sw);
int sw_store_get_txn(sw_server_t *sw, MDB_dbi dbi, const void *key,
		     size_t klen, txn_t *out);
int sw_store_idem_get(sw_server_t *sw, const char *participant,
		      const char *request_id, uint64_t *txn_id);
int sw_store_match_get(sw_server_t *sw, const char *endpoint, uint32_t stan,
		       const char *transmit, uint64_t *txn_id, uint8_t *leg);
size_t sw_idem_key(const char *participant, const char *request_id,
		   uint8_t *out, size_t cap);
size_t sw_match_key(const char *endpoint, uint32_t stan, const char *transmit,
		    uint8_t *out);
void sw_id_key(uint64_t id, uint8_t out[8]);
uint64_t sw_id_from_key(const uint8_t key[8]);
uint64_t sw_next_txn_id(sw_server_t *sw);
uint64_t sw_next_msg_seq(sw_server_t *sw);
uint64_t sw_saf_entries(sw_server_t *sw);

/* table.c */
int sw_table_init(sw_table_t *tb, uint32_t capacity);
void sw_table_free(sw_table_t *tb);
sw_txn_t *sw_txn_new(sw_server_t *sw);
void sw_txn_free(sw_server_t *sw, sw_txn_t *st);
sw_txn_t *sw_txn_by_id(sw_server_t *sw, uint64_t id);
sw_txn_t *sw_txn_by_idem(sw_server_t *sw, const char *participant,
			 const char *request_id);
sw_txn_t *sw_txn_by_match(sw_server_t *sw, const char *endpoint, uint32_t stan,
			  const char *transmit);
void sw_txn_index_id(sw_server_t *sw, sw_txn_t *st);
void sw_txn_index_idem(sw_server_t *sw, sw_txn_t *st);
void sw_txn_index_match(sw_server_t *sw, sw_txn_t *st);
void sw_txn_unindex_match(sw_server_t *sw, sw_txn_t *st);
void sw_txn_schedule(sw_server_t *sw, sw_txn_t *st, uint64_t deadline_ms);
void sw_txn_unschedule(sw_server_t *sw, sw_txn_t *st);
sw_txn_t *sw_txn_earliest(sw_server_t *sw);
uint32_t sw_txn_count(const sw_server_t *sw);

/* wbuf helpers (store.c) */
sw_wbuf_t *sw_wbuf_get(sw_server_t *sw);
void sw_wbuf_put(sw_server_t *sw, sw_wbuf_t *wb);
sw_wbatch_t *sw_wbatch_get(sw_server_t *sw);
void sw_wbatch_add(sw_wbatch_t *b, sw_wbuf_t *wb);
/* Returns the batch and every message in it to their pools. */
void sw_wbatch_free(sw_server_t *sw, sw_wbatch_t *b);
/* header: the framing's header_bytes of fixed header. */
int sw_wbuf_pack(sw_wbuf_t *wb, const iso8583_framing_t *framing,
		 const uint8_t *header, const iso8583_msg_t *msg,
		 iso8583_error_t *err);

/* conn.c */
int sw_listener_start(sw_server_t *sw, const sw_listener_cfg_t *cfg,
		      sw_listener_t **out, char *err, size_t err_cap);
void sw_listener_retire(sw_listener_t *l);
bool sw_conn_alive(const sw_conn_t *conn, uint32_t gen);
int sw_conn_write(sw_conn_t *conn, uint32_t gen, sw_wbatch_t *b);
void sw_conn_request_begin(sw_conn_t *conn);
void sw_conn_request_done(sw_conn_t *conn, uint32_t gen);
void sw_conn_close(sw_conn_t *conn, const char *why);
void sw_conn_close_idle(sw_server_t *sw);
uint32_t sw_conn_close_all(sw_server_t *sw, bool force);
void sw_listener_close_all(sw_server_t *sw);

/* endpoint.c */
int sw_endpoint_start(sw_server_t *sw, const sw_endpoint_cfg_t *cfg,
		      sw_endpoint_t **out);
void sw_endpoint_update(sw_endpoint_t *ep, const sw_endpoint_cfg_t *cfg);
void sw_endpoint_retire(sw_endpoint_t *ep);
sw_endpoint_t *sw_endpoint_find(sw_server_t *sw, const char *name);
bool sw_endpoint_up(const sw_endpoint_t *ep);
uint32_t sw_endpoint_links_up(const sw_endpoint_t *ep);
sw_link_t *sw_endpoint_pick(sw_endpoint_t *ep);
int sw_link_write(sw_link_t *link, sw_wbatch_t *b);
int sw_link_send(sw_link_t *link, sw_wbuf_t *wb);
void sw_endpoint_close_all(sw_server_t *sw);
void sw_endpoint_free_all(sw_server_t *sw);
const char *sw_link_state_name(int state);

/* flow.c */
void sw_flow_request(sw_server_t *sw, sw_conn_t *conn, txn_t *req);
void sw_flow_response(sw_server_t *sw, sw_endpoint_t *ep,
		      const txn_response_t *resp);
void sw_flow_deadline(sw_server_t *sw, sw_txn_t *st);
int sw_flow_transmit(sw_server_t *sw, sw_txn_t *st, unsigned leg,
		     sw_endpoint_t *ep);
void sw_flow_number(sw_server_t *sw, txn_leg_t *leg);
sw_txn_t *sw_flow_load(sw_server_t *sw, uint64_t id);
void sw_flow_let_go(sw_server_t *sw, sw_txn_t *st);
void sw_flow_answer_error(sw_server_t *sw, sw_conn_t *conn, const txn_t *req,
			  const txn_error_t *err);
void sw_format_transmit(uint64_t wall_ms, char out[11]);
void sw_format_local(uint64_t wall_ms, char time_out[7], char date_out[5]);

/* saf.c */
/* Queues a reversal or a completion advice of the parent's leg; flags
 * (TXN_F_ADVICE) go on the queued record. */
int sw_saf_queue(sw_server_t *sw, const txn_t *parent, unsigned leg, int kind,
		 uint16_t flags);
static inline int sw_saf_reverse(sw_server_t *sw, const txn_t *parent,
				 unsigned leg)
{
	return sw_saf_queue(sw, parent, leg, TXN_KIND_REVERSAL, 0);
}
/* Reversals and completion advices live in the SAF queue, not inflight. */
static inline bool sw_is_saf_kind(int kind)
{
	return kind == TXN_KIND_REVERSAL || kind == TXN_KIND_COMPLETION;
}
void sw_saf_response(sw_server_t *sw, sw_txn_t *rev,
		     const txn_response_t *resp);
void sw_saf_deadline(sw_server_t *sw, sw_txn_t *rev);
void sw_saf_tick(uv_timer_t *timer);
int sw_recover(sw_server_t *sw, char *err, size_t err_cap);
int sw_saf_init(sw_server_t *sw);
/* retain.c */
int sw_retain_start(sw_server_t *sw);
void sw_retain_free(sw_server_t *sw);
void sw_saf_free(sw_server_t *sw);

/* control.c */
int sw_control_start(sw_server_t *sw, char *err, size_t err_cap);
void sw_control_close(sw_server_t *sw);
uint16_t sw_control_port(const sw_server_t *sw);
int sw_server_reload(sw_server_t *sw, char *err, size_t err_cap);

/* metrics.c */
int sw_metrics_start(sw_server_t *sw, char *err, size_t err_cap);
void sw_metrics_close(sw_server_t *sw);
uint16_t sw_metrics_port(const sw_server_t *sw);
void sw_metrics_latency(sw_metrics_t *m, uint64_t elapsed_ns);
void sw_metrics_commit(sw_metrics_t *m, uint64_t elapsed_ns);
int sw_metrics_render(sw_server_t *sw, ps_buf_t *out);

/* The plain counters, once: Prometheus and `switchctl stats` both read
 * this table, so a counter added here shows in both. */
typedef struct sw_counter {
	const char *name;   /* stats key; Prometheus adds "_total" */
	const char *help;
	size_t offset;      /* of its uint64_t in sw_metrics_t */
} sw_counter_t;

extern const sw_counter_t sw_counters[];
extern const size_t sw_counter_count;
uint64_t sw_counter_value(const sw_metrics_t *m, const sw_counter_t *c);

/* server.c */
void sw_server_maybe_finish_drain(sw_server_t *sw);
int sw_parse_bind(const char *host, uint16_t port, struct sockaddr_storage *out);

#endif /* PAYSWITCH_SW_INT_H */
