/*
 * server.h: the server loop of every simulator that answers requests
 * (banksim and pbocsim now; netsim next). One process, one thread, one
 * libuv loop: listen, accept within bounds, frame and decode through the
 * channel interface (channel.h), give each loop turn's requests to the
 * simulator together, encode its answers, hold them for a latency, apply
 * faults, write them, and drain on SIGTERM/SIGINT.
 *
 * The life of a request:
 *
 *   read    bytes -> the connection's framer -> chan_decode -> a record
 *           from the pool: a sim_req_t (the decoded txn_t) and the
 *           simulator's work area behind it (a simulator with a message
 *           schema of its own decodes the frame itself: ops.decode)
 *   turn    once per loop iteration, in a uv_check callback that runs
 *           after every socket with data was read: ops.turn gets every
 *           record read since the last turn, in the order they were read,
 *           and sets each one's answer in req->t and its req->action
 *   answer  chan_encode_answer(req->t) (or ops.encode, the simulator's
 *           own); ops.fate picks a fault and a delay;
 *           the answer waits on a timer heap for its delay, is written,
 *           and the record goes back to the pool once the write is done
 *
 * A simulator without batching is a few dozen lines: fill in a
 * sim_server_cfg_t and answer in the turn.
 *
 *   static void on_turn(void *ctx, sim_req_t **reqs, uint32_t count)
 *   {
 *           for (uint32_t i = 0; i < count; i++)
 *                   if (reqs[i]->t.rc == TXN_RC_NONE) // refused at intake?
 *                           reqs[i]->t.rc = TXN_RC_APPROVED;
 *   }
 *   ...
 *   sim_server_cfg_t c;
 *   sim_server_cfg_init(&c);
 *   c.name = "netsim"; c.listen = "127.0.0.1:0"; c.ready_file = path;
 *   c.chan.kind = CHAN_ISO8583; c.chan.dialect = d; c.chan.framing = f;
 *   c.chan.frame_bytes_max = f.frame_bytes_max;
 *   c.ops.turn = on_turn;
 *   if (sim_server_create(&c, &srv, err, sizeof(err)) == 0)
 *           sim_server_run(srv);
 *   sim_server_destroy(srv);
 *
 * tests/simulators/common/sim_echo.c is such a simulator, and
 * docs/simulators.md the long form of this header.
 *
 * Bounds, all set at start, all allocated by sim_server_create: connections
 * (connections_max; one more is accepted and closed at once, logged
 * conn_refused, so that the peer learns now instead of waiting in the
 * backlog), bytes per frame (chan.frame_bytes_max for ISO 8583, and
 * TXN_JSON_LINE_MAX for a JSON line: one framer's storage per connection
 * slot; a bigger frame closes its connection), requests in
 * flight per connection and in all (inflight_per_conn_max, inflight_max:
 * the record pool), held answers (a heap the size of the pool). A record
 * is in flight from its frame's decoding until it is given back: after
 * its answer was written, dropped, or found its connection gone.
 *
 * Backpressure, never a refusal: a connection at its in-flight bound, or
 * any connection while the pool is empty, is simply not read; frames
 * already received stay in its framer. It is read again, in the next turn,
 * once records come back. TCP flow control tells the peer, which is what a
 * real host does; nobody is answered 91 for being busy.
 *
 * Bad input: a broken stream (a frame over the bound, a bad length header,
 * a JSON line over its bound) closes that connection only (bad_frame): it
 * cannot be resynchronised. A message no answer could be matched to (an
 * answer, unexpected_response; or one without the keys an answer is matched
 * by, bad_message) is logged and dropped: the peer's timeout is the
 * answer. A request that can be answered but not taken (TXN_EFORMAT,
 * TXN_EINVALID: a missing field, an unsupported processing code) is logged
 * (refused) and given to the turn like any other, with its code already in
 * req->t.rc (30 when the adapter gave none); answering it as it is, is the
 * usual thing to do. ops.decode, where a simulator reads its own
 * schema, says which of these a frame is.
 *
 * Drain: SIGTERM or SIGINT (or sim_server_drain) stops accepting and
 * reading, calls ops.drain, sends every held answer at once (its delay is
 * waived; a drop stays a drop), lets the turns process what was already
 * read, and when nothing is queued, held, kept by the simulator or being
 * written, closes every handle (ops.finish first) and sim_server_run
 * returns. A second signal, or drain_ms passing, closes everything at
 * once. Frames received but not yet decoded when the drain began are not
 * processed.
 *
 * Ownership and lifetimes:
 *  - The server owns its loop, its handles, every connection and every
 *    record. A record belongs to the simulator only inside ops.turn and
 *    ops.fate, and from a turn that set SIM_KEEP until the simulator gives
 *    it back with sim_server_answer() or sim_server_drop(); after that the
 *    pointer must not be used.
 *  - A record remembers its connection by pointer and generation; the
 *    connection's memory goes back to its pool only in its close callback,
 *    where the generation is cleared, so an answer for a connection that
 *    has gone finds a dead connection instead of a stranger, and is
 *    dropped.
 *  - cfg's strings are copied; cfg->chan is copied, its dialect borrowed:
 *    it must outlive the server. ctx is the simulator's.
 *
 * Logs (JSON lines through core's logging; the simulator's component
 * name): conn_open, conn_close (peer, reason, inflight), conn_refused,
 * bad_frame, unexpected_response, bad_message, refused, header_rejected,
 * encode_error, signal, drain_timeout, loop_not_clean. Faults are logged
 * by ops.fate if the simulator wants them logged: only it knows what to
 * say about them.
 *
 * Caveats: one server per process (it handles SIGTERM and SIGINT, and
 * sim_server_create sets SIGPIPE to be ignored, so that a peer closing
 * mid-write is an error code and not a death). Single-threaded: call
 * nothing here from another thread. Never allocates after
 * sim_server_create.
 */
#ifndef PAYSWITCH_SIM_SERVER_H
#define PAYSWITCH_SIM_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "adapters.h"
#include "channel.h"
#include "sim.h"

/* ---- limits and defaults ---------------------------------------------- */

#define SIM_SERVER_CONNECTIONS_MAX 65536u
#define SIM_SERVER_INFLIGHT_MAX (1u << 20)
#define SIM_SERVER_WORK_BYTES_MAX (64u << 10)   /* one request's work area */
#define SIM_SERVER_ANSWER_BYTES_DEFAULT 1024u   /* an encoded answer, framed */
#define SIM_SERVER_ANSWER_BYTES_MAX TXN_JSON_LINE_MAX
#define SIM_SERVER_DRAIN_MS_DEFAULT 3000u
#define SIM_SERVER_NAME_MAX 64                 /* bytes, NUL included */
#define SIM_SERVER_LISTEN_MAX 160
#define SIM_SERVER_PATH_MAX 512

/* ---- requests --------------------------------------------------------- */

/* What the loop does with a request after the turn that had it. */
enum sim_action {
	SIM_ANSWER = 0, /* encode req->t's answer, apply the fate, send it
			   (the value each request comes to a turn with) */
	SIM_DEFER,      /* give it to the next turn again, before anything
			   read since: that turn comes at once (the loop does
			   not wait in poll while requests wait), so a
			   simulator that defers everything forever spins */
	SIM_DROP,       /* give the record back unanswered: the peer's
			   timeout is the answer (counted as dropped) */
	SIM_KEEP,       /* the simulator keeps it (a forward, a long hold)
			   and gives it back later with sim_server_answer()
			   or sim_server_drop(); the drain waits for it */
};

/* A request as the simulator sees it. The work area (cfg.work_bytes,
 * zeroed when the request is read) follows it: sim_req_work(). */
typedef struct sim_req {
	txn_t t;           /* the request as decoded; the simulator sets the
			      answer: rc, auth_code, balance (TXN_F_BALANCE),
			      ... whatever chan_encode_answer carries.
			      rc != TXN_RC_NONE on arrival: refused at intake */
	uint8_t action;    /* enum sim_action, set by the turn */
	uint32_t conn_id;  /* the connection it came on: the same number for
			      every request of one connection, never 0, not
			      reused while the server runs (it wraps after
			      2^32 - 1 connections) */
	uint64_t read_ms;  /* loop time (uv_now) it was read */
} sim_req_t;

/* The request's work area: cfg.work_bytes, aligned for any type up to 16
 * bytes, the simulator's until the record is given back. */
void *sim_req_work(sim_req_t *req);
/* Is the connection req came on still open (its answer could still be
 * written)? */
bool sim_req_conn_alive(const sim_req_t *req);

/* ---- faults and latency ------------------------------------------------- */

/* What happens to an answer, as ops.fate decides it. */
enum sim_fault {
	SIM_FAULT_NONE = 0,
	SIM_FAULT_DROP,  /* never sent; the connection stays up */
	SIM_FAULT_DELAY, /* sent late: delay_ms includes the extra delay */
	SIM_FAULT_CLOSE, /* the connection is closed instead of answering;
			    the other answers on it are lost too */
};

typedef struct sim_fate {
	uint8_t fault;     /* enum sim_fault */
	uint32_t delay_ms; /* how long the answer is held before it leaves
			      (0: at once); at most 2 * SIM_LATENCY_MS_MAX */
} sim_fate_t;

/* "none", "drop", "delay", "close". */
const char *sim_fault_name(int fault);

/* The usual policy: latency from a distribution, faults by rate. */
typedef struct sim_faults {
	sim_latency_t latency; /* every answer's hold */
	double drop_rate;      /* probabilities 0..1 */
	double close_rate;
	double delay_rate;
	uint32_t delay_ms;     /* the extra delay of SIM_FAULT_DELAY */
	uint64_t seed;
} sim_faults_t;

/*
 * One answer's fate under faults, deterministic per request: the draws
 * come from a stream seeded by faults->seed and the request itself (its
 * MTI, or its kind's name where it has none, and its request_id: fields
 * 32, 11 and 7 for ISO 8583), so the same request meets the same fate in
 * every run, however requests interleave. In order: drop, close, delay
 * (each drawn only while none came before), then the latency; a delayed
 * answer waits its latency plus delay_ms. pinned (a fault the simulator
 * fixes for this request, SIM_FAULT_NONE for none) wins over the rates,
 * which are then not drawn. Network management (TXN_KIND_NETWORK) is
 * never faulted, pinned or not: a link's health checks get through.
 */
void sim_fate_draw(const sim_faults_t *faults, const txn_t *t, int pinned,
		   sim_fate_t *out);

/* ---- the server ------------------------------------------------------- */

typedef struct sim_server sim_server_t;

/*
 * The simulator's callbacks. Each gets cfg.ctx. Only turn is required.
 * Callbacks may call sim_server_answer, sim_server_drop, sim_server_drain
 * and the accessors; never sim_server_destroy.
 */
typedef struct sim_server_ops {
	/*
	 * The requests read since the last turn (count >= 1, those deferred
	 * by the last turn first), in the order they were read. For each,
	 * set the answer in reqs[i]->t and, unless SIM_ANSWER is meant,
	 * reqs[i]->action. Everything a turn decides is decided before any
	 * of its answers is encoded: that is where a simulator commits a
	 * batch (banksim: one ledger batch per turn).
	 */
	void (*turn)(void *ctx, sim_req_t **reqs, uint32_t count);
	/* Optional: the fate of req's answer, once it encoded. Without it
	 * every answer leaves at once. */
	void (*fate)(void *ctx, sim_req_t *req, sim_fate_t *fate);
	/*
	 * Optional: the simulator reads each frame itself, instead of
	 * chan_decode: for a message schema of its own over the channel's
	 * framing (pbocsim's JSON lines are no canonical transaction).
	 * frame is one whole message (a JSON line without its newline; for
	 * ISO 8583 the message after its fixed header), borrowed for the
	 * call only. Fill req's work area (zeroed on arrival) with the
	 * request, and req->t.request_id with its id if it has one: the
	 * loop's log lines name it, and sim_fate_draw seeds from it (the
	 * rest of req->t, as txn_init left it, is the simulator's to use
	 * or leave).
	 * Return, as chan_decode does:
	 *   0             a request for the turn
	 *   TXN_EFORMAT   a request that can be answered but not taken (a
	 *   TXN_EINVALID  bad field, bad JSON whose id could still be read):
	 *                 logged refused with err's field and reason; it
	 *                 reaches the turn with req->t.rc set to err->rc
	 *                 (TXN_RC_FORMAT_ERROR when that is none or 00), so
	 *                 "rc != TXN_RC_NONE on arrival" holds here too;
	 *                 whether it has an id to be answered by is the
	 *                 simulator's call, not the loop's
	 *   TXN_EKEYS     (or any other code) nothing an answer could be
	 *                 matched by: logged bad_message, given back,
	 *                 counted in format_errors
	 * err arrives zeroed. Usually set together with encode.
	 */
	int (*decode)(void *ctx, sim_req_t *req, const chan_frame_t *frame,
		      txn_error_t *err);
	/*
	 * Optional: writes req's answer as a whole frame (a JSON line with
	 * its '\n'; a length header and fixed header for ISO 8583) into out,
	 * cap bytes (cfg.answer_bytes_max), and its length into *len,
	 * instead of chan_encode_answer(req->t). Called once the turn (or
	 * sim_server_answer) gave it back to answer, before the fate.
	 * Returns 0, or a negative code (TXN_ENOSPC: it does not fit): the
	 * answer is then dropped and logged encode_error.
	 */
	int (*encode)(void *ctx, const sim_req_t *req, uint8_t *out,
		      size_t cap, size_t *len);
	/*
	 * Optional: a frame's fixed header, read before its message is (a
	 * network checks the stations of a UnionPay header: is the source a
	 * member, is the destination us?). conn_id is the connection's, as
	 * in sim_req_t. Return NULL to take the frame, or a 5-digit reject
	 * code: the frame goes back as it came, its stations swapped and the
	 * code set (chan_encode_reject), logged header_rejected, never
	 * reaching the turn. Called only for frames with a fixed header. A
	 * frame whose CUPS header the channel itself finds wrong (length,
	 * version, total: chan_decode's TXN_EHEADER) goes back so with the
	 * channel's code whether or not screen is set.
	 */
	const char *(*screen)(void *ctx, uint32_t conn_id,
			      const chan_frame_t *frame);
	/* Optional: every cfg.tick_ms, for periodic work (banksim: expiring
	 * two-phase reservations). Not called once the server finishes. */
	void (*tick)(void *ctx);
	/* Optional: the drain began (a signal, or sim_server_drain): answer
	 * or drop what the simulator keeps, stop what it started. */
	void (*drain)(void *ctx);
	/* Optional: everything closes now: close the simulator's own
	 * handles on the loop (sim_server_loop), or sim_server_run never
	 * returns. Called once, at the end of a drain, on a second signal,
	 * at the drain deadline, or from sim_server_destroy; never after a
	 * sim_server_create that failed. */
	void (*finish)(void *ctx);
} sim_server_ops_t;

typedef struct sim_server_cfg {
	const char *name;       /* the ready file's "name"; "sim" if NULL */
	const char *listen;     /* "HOST:PORT" (sim_hostport_parse); port 0
				   takes any free port: sim_server_port() */
	const char *ready_file; /* NULL or "": none. Once listening,
				   {"pid":N,"port":P,"name":"..."} is written
				   there atomically (sim_ready_write) */
	chan_cfg_t chan;        /* how the simulator speaks; copied. Its
				   frame_bytes_max (>= 1) bounds an ISO 8583
				   frame; a JSON line's bound is fixed */
	uint32_t connections_max;       /* 1..SIM_SERVER_CONNECTIONS_MAX */
	uint32_t inflight_max;          /* 1..SIM_SERVER_INFLIGHT_MAX */
	uint32_t inflight_per_conn_max; /* 1..; above inflight_max it is
					   taken as inflight_max */
	size_t work_bytes;       /* 0..SIM_SERVER_WORK_BYTES_MAX */
	size_t answer_bytes_max; /* one encoded answer with its frame,
				    64..SIM_SERVER_ANSWER_BYTES_MAX; an answer
				    that does not fit is dropped and logged
				    (encode_error) */
	uint32_t drain_ms;       /* 1..: the drain's deadline */
	uint32_t tick_ms;        /* 0: no ticks */
	sim_server_ops_t ops;
	void *ctx;
} sim_server_cfg_t;

/* Counters, from the start. */
typedef struct sim_server_stats {
	uint64_t requests;      /* frames taken from the framers */
	uint64_t answers;       /* answers written */
	uint64_t format_errors; /* frames given back undecoded: bad_message,
				   unexpected_response */
	uint64_t turns;         /* turns that had requests */
	uint64_t deferred;      /* SIM_DEFER, each time */
	uint64_t dropped;       /* SIM_DROP, and answers the fate dropped */
	uint64_t delayed;       /* answers the fate delayed */
	uint64_t closed;        /* connections the fate closed */
	uint64_t encode_errors; /* answers that did not encode */
	uint64_t conns_accepted;
	uint64_t conns_refused; /* over connections_max */
	uint64_t rejected;      /* frames sent back with a header reject
				   code (header_rejected) */
	uint64_t sent;          /* frames sim_server_send began to write
				   (once written, counted in answers too) */
} sim_server_stats_t;

/* Defaults: listen "127.0.0.1:0", 64 connections, 8192 in flight, 1024
 * per connection, answers of SIM_SERVER_ANSWER_BYTES_DEFAULT, a drain of
 * SIM_SERVER_DRAIN_MS_DEFAULT, no ticks; everything else zero or NULL. */
void sim_server_cfg_init(sim_server_cfg_t *cfg);

/*
 * Builds the server: its loop, pools, handles, the listener, the ready
 * file. On failure err says why (for a human: "--listen 127.0.0.1:80:
 * permission denied") and *out holds what was built, or NULL: call
 * sim_server_destroy(*out) either way. Returns
 *   PS_EINVAL  a bound out of range, a string too long, no ops.turn, a
 *              listen text that is no HOST:PORT or names no IP address
 *   PS_ENOMEM  the pools do not fit in memory
 *   PS_EIO     the loop, bind or listen failed (a port taken), or the
 *              ready file could not be written
 */
int sim_server_create(const sim_server_cfg_t *cfg, sim_server_t **out,
		      char *err, size_t err_cap);

/*
 * Runs the loop until the drain is over. 0 after a drain that finished
 * (or a second signal: the simulator was told to stop), PS_ETIMEDOUT
 * when drain_ms passed first (answers still being written were lost),
 * PS_ESTATE when called twice.
 */
int sim_server_run(sim_server_t *srv);

/* Closes whatever is still open, runs the loop until the close callbacks
 * have run (ops.finish among them, if it was not called yet), and frees
 * everything. NULL is fine. */
void sim_server_destroy(sim_server_t *srv);

/* Begins the drain, as SIGTERM does (nothing if it has begun). */
void sim_server_drain(sim_server_t *srv);

/*
 * Gives back a record a turn kept (SIM_KEEP), once that turn has returned
 * (a later callback: a timer, a read, a later turn, ops.drain), answering
 * it: its answer
 * (req->t) is encoded, meets ops.fate, and is held, sent or dropped like
 * any turn's answer. req must not be used afterwards. Returns 0 when the
 * answer went its way (a fate's drop or close included), PS_ECLOSED when
 * its connection had gone (nobody to tell), or the encoder's code
 * (TXN_ENOSPC, TXN_EINVALID ...; logged encode_error) when it would not
 * encode; the record is given back in every case.
 */
int sim_server_answer(sim_server_t *srv, sim_req_t *req);
/* Gives back a record a turn kept, once that turn has returned,
 * unanswered (counted as dropped). */
void sim_server_drop(sim_server_t *srv, sim_req_t *req);

/*
 * Writes a frame the simulator originates (a network's 0820 cutover
 * announcement) to the connection conn_id (a sim_req_t's), unasked (its
 * answers, one per frame sent, are read and dropped quietly). The
 * frame (whole: length header, fixed header, message) is copied into a
 * record from the pool, which counts as in flight on that connection
 * until the write is done. Returns 0 once the write is under way,
 * PS_ECLOSED when no such connection is open (or the server is
 * finishing), PS_ELIMIT when the pool is empty, PS_EINVAL when len is
 * over answer_bytes_max.
 */
int sim_server_send(sim_server_t *srv, uint32_t conn_id, const uint8_t *frame,
		    size_t len);

/* The port listened on (the kernel's choice for port 0). */
uint16_t sim_server_port(const sim_server_t *srv);
/* The loop, for the simulator's own handles (close them in ops.finish). */
uv_loop_t *sim_server_loop(sim_server_t *srv);
bool sim_server_draining(const sim_server_t *srv);
const sim_server_stats_t *sim_server_stats(const sim_server_t *srv);

#endif /* PAYSWITCH_SIM_SERVER_H */
