/*
 * config.h: switchd's configuration as the rest of the switch reads it.
 *
 * sw_config_load() (switch.h) parses and validates the whole JSON file
 * before anything starts, so a bad file is refused with the key path and
 * the reason instead of failing half-way; docs/configuration.md lists
 * every key. A configuration is plain data owned by the server; a reload
 * replaces it whole, so a part that keeps a pointer to it must take the
 * new one (each part's reconfigure call).
 */
#ifndef PAYSWITCH_SW_CONFIG_H
#define PAYSWITCH_SW_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "adapters.h"
#include "channel.h"
#include "core.h"
#include "iso8583.h"
#include "switch.h"

#define SW_NAME_MAX 32
#define SW_HOST_MAX 64
#define SW_PATH_MAX 256
#define SW_LISTENERS_MAX 16
#define SW_ENDPOINTS_MAX 64
#define SW_LINKS_MAX 16
#define SW_DIALECTS_MAX 16

/*
 * How a listener or an endpoint speaks (channel.h): chan.dialect points
 * at a dialect the configuration owns; a listener or endpoint keeps its
 * own copy, so that it outlives a reload.
 */
typedef struct sw_channel_cfg {
	char dialect[SW_PATH_MAX];      /* built-in name or spec file path */
	chan_cfg_t chan;
} sw_channel_cfg_t;

#define SW_ACQUIRERS_MAX 8
#define SW_INSTITUTION_MAX 12   /* field 32/33: up to 11 digits */

typedef struct sw_listener_cfg {
	char name[SW_NAME_MAX];
	char host[SW_HOST_MAX];
	uint16_t port;
	sw_channel_cfg_t channel;
	char participant[16];
	uint32_t connections_max;
	uint32_t connections_per_peer_max; /* from one IP address */
	uint32_t inflight_per_conn_max;
	uint32_t queued_answers_max;    /* intake answers unwritten, per conn */
	uint32_t frame_bytes_max;
	uint32_t idle_timeout_ms;       /* 0: never */
	uint32_t frame_timeout_ms;      /* a frame's first byte to its last */
	uint32_t write_timeout_ms;      /* writes without progress */
	bool hello_required;            /* JSON: nothing before a hello */
	uint32_t operations;            /* bit (1 << enum txn_kind) permitted */
	uint32_t acquirer_count;        /* ISO: field 32 must be one of these */
	char acquirers[SW_ACQUIRERS_MAX][SW_INSTITUTION_MAX];
	char institution[SW_INSTITUTION_MAX]; /* JSON: the PSP's member id, its
					  requests' field 32; "": the switch's */
} sw_listener_cfg_t;

/* What a listener permits by default: an acquirer (ISO 8583) purchases,
 * balance inquiries, reversals and their advices; a PSP (JSON) pay,
 * refund, payout and query. Network management (sign-on, echo) is always
 * permitted. */
uint32_t sw_listener_default_operations(int chan_kind);
/* Does the listener permit requests of this kind? */
bool sw_listener_permits(const sw_listener_cfg_t *l, int kind);

typedef struct sw_endpoint_cfg {
	char name[SW_NAME_MAX];
	char host[SW_HOST_MAX];
	uint16_t port;
	sw_channel_cfg_t channel;
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
	uint8_t network;         /* route_network_t: a bank's own link, or a
				    clearing network (its periods, cutover) */
	char clearing_dir[SW_PATH_MAX]; /* a network's clearing files */
} sw_endpoint_cfg_t;

/* Clearing and settlement (docs/clearing.md). */
typedef struct sw_clearing_cfg {
	char pboc_host[SW_HOST_MAX];    /* the central bank: "" none */
	uint16_t pboc_port;
	char cutover_time[6];           /* "HH:MM" UTC daily, "" never */
	uint32_t settle_delay_ms;       /* after cutover, for legs in flight */
	uint32_t poll_ms;               /* how often PBOC is asked */
	char first_date[9];             /* window 1's settlement date, "" today */
} sw_clearing_cfg_t;

struct sw_config {
	char institution[12];           /* the switch's own id: 32/33 */
	char lmdb_dir[SW_PATH_MAX];
	uint64_t lmdb_map_bytes;
	bool lmdb_sync;
	int log_level;
	char control[SW_PATH_MAX];      /* "host:port" or "unix:/path" */
	char metrics[SW_PATH_MAX];      /* "host:port" or "" */
	char ready_file[SW_PATH_MAX];   /* bound ports, for switchctl; "" none */
	uint32_t inflight_max;
	uint32_t saf_inflight_max;
	uint32_t reversal_retry_ms;
	uint32_t reversal_retry_max_ms;
	uint32_t reversal_attempts_max;
	uint64_t reversal_expiry_ms;
	uint32_t saf_scan_max;
	uint64_t retention_ms;          /* finished records kept; 0 forever */
	uint32_t drain_ms;
	bool test_faults;               /* the control socket's "fault" */
	sw_clearing_cfg_t clearing;
	uint32_t listener_count;
	sw_listener_cfg_t listener[SW_LISTENERS_MAX];
	uint32_t endpoint_count;
	sw_endpoint_cfg_t endpoint[SW_ENDPOINTS_MAX];
	iso8583_dialect_t *loaded[SW_DIALECTS_MAX]; /* spec files, owned */
	uint32_t loaded_count;
};

/*
 * Splits "host:port" or "[v6]:port" into host (host_cap bytes) and port,
 * and checks that host is an IP literal. PS_EINVAL otherwise.
 */
int sw_config_validate_address(const char *addr, char *host, size_t host_cap,
			       uint16_t *port);

/* An IP literal and a port as a socket address. PS_EINVAL for a host that
 * is not an IPv4 or IPv6 literal. */
int sw_parse_bind(const char *host, uint16_t port, struct sockaddr_storage *out);

#endif /* PAYSWITCH_SW_CONFIG_H */
