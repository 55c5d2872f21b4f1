/*
 * config.c: switchd's JSON configuration, parsed and validated in full
 * before anything starts, so that a bad file is refused with the key path
 * and the reason ("listeners[1].framing.length: unknown length header")
 * instead of failing half-way. Unknown keys are refused too: a misspelt
 * limit silently ignored is how outages start. docs/configuration.md lists
 * every key.
 */
#include <arpa/inet.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "routing.h"

#include <uv.h>

typedef struct cfg_ctx {
	char *err;
	size_t err_cap;
	char path[128];
	const char *base_dir;   /* relative paths are resolved here; NULL: cwd */
	sw_config_t *cfg;
} cfg_ctx_t;

/* A path from the file, relative to the file's folder. PS_EINVAL when
 * the result does not fit. */
static int resolve_path(const cfg_ctx_t *c, const char *in, char *out,
			size_t cap)
{
	int n = in[0] == '/' || c->base_dir == NULL
			? snprintf(out, cap, "%s", in)
			: snprintf(out, cap, "%s/%s", c->base_dir, in);
	return n < 0 || (size_t)n >= cap ? PS_EINVAL : 0;
}

static int cfg_fail(cfg_ctx_t *c, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int cfg_fail(cfg_ctx_t *c, const char *key, const char *fmt, ...)
{
	char reason[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	const char *dot = c->path[0] && key[0] ? "." : "";
	snprintf(c->err, c->err_cap, "%s%s%s: %s", c->path, dot, key, reason);
	return PS_EINVAL;
}

/* Refuses keys outside allowed (a NULL-terminated list). */
static int check_keys(cfg_ctx_t *c, json_t *obj, const char *const *allowed)
{
	const char *key;
	json_t *value;
	json_object_foreach(obj, key, value) {
		(void)value;
		bool known = false;
		for (const char *const *a = allowed; *a != NULL; a++)
			if (strcmp(key, *a) == 0)
				known = true;
		if (!known)
			return cfg_fail(c, key, "unknown key");
	}
	return 0;
}

static int get_str(cfg_ctx_t *c, json_t *obj, const char *key, char *out,
		   size_t cap, bool required)
{
	json_t *v = json_object_get(obj, key);
	if (v == NULL)
		return required ? cfg_fail(c, key, "is required") : 0;
	if (!json_is_string(v))
		return cfg_fail(c, key, "must be a string");
	if (json_string_length(v) >= cap)
		return cfg_fail(c, key, "longer than %zu characters", cap - 1);
	if (required && json_string_length(v) == 0)
		return cfg_fail(c, key, "must not be empty");
	memcpy(out, json_string_value(v), json_string_length(v) + 1);
	return 0;
}

static int get_u64(cfg_ctx_t *c, json_t *obj, const char *key, uint64_t *out,
		   uint64_t min, uint64_t max)
{
	json_t *v = json_object_get(obj, key);
	if (v == NULL)
		return 0; /* *out holds the default */
	if (!json_is_integer(v))
		return cfg_fail(c, key, "must be an integer");
	json_int_t n = json_integer_value(v);
	if (n < 0 || (uint64_t)n < min || (uint64_t)n > max)
		return cfg_fail(c, key, "must be between %llu and %llu",
				(unsigned long long)min,
				(unsigned long long)max);
	*out = (uint64_t)n;
	return 0;
}

static int get_u32(cfg_ctx_t *c, json_t *obj, const char *key, uint32_t *out,
		   uint32_t min, uint32_t max)
{
	uint64_t v = *out;
	int rc = get_u64(c, obj, key, &v, min, max);
	*out = (uint32_t)v;
	return rc;
}

static int get_bool(cfg_ctx_t *c, json_t *obj, const char *key, bool *out)
{
	json_t *v = json_object_get(obj, key);
	if (v == NULL)
		return 0;
	if (!json_is_boolean(v))
		return cfg_fail(c, key, "must be true or false");
	*out = json_is_true(v);
	return 0;
}

static bool is_name(const char *s)
{
	if (s[0] == '\0')
		return false;
	for (; *s; s++) {
		char ch = *s;
		bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			  (ch >= '0' && ch <= '9') || ch == '_' || ch == '-' ||
			  ch == '.';
		if (!ok)
			return false;
	}
	return true;
}

int sw_parse_bind(const char *host, uint16_t port, struct sockaddr_storage *out)
{
	memset(out, 0, sizeof(*out));
	if (uv_ip4_addr(host, port, (struct sockaddr_in *)out) == 0)
		return 0;
	if (uv_ip6_addr(host, port, (struct sockaddr_in6 *)out) == 0)
		return 0;
	return PS_EINVAL;
}

int sw_config_validate_address(const char *addr, char *host, size_t host_cap,
			       uint16_t *port)
{
	const char *colon = strrchr(addr, ':');
	if (colon == NULL || colon == addr || colon[1] == '\0')
		return PS_EINVAL;
	size_t host_len = (size_t)(colon - addr);
	const char *h = addr;
	if (h[0] == '[') { /* [::1]:7001 */
		if (host_len < 3 || h[host_len - 1] != ']')
			return PS_EINVAL;
		h++;
		host_len -= 2;
	}
	if (host_len >= host_cap)
		return PS_EINVAL;
	uint64_t p;
	if (ps_parse_u64(colon + 1, strlen(colon + 1), &p) != 0 || p > 65535)
		return PS_EINVAL;
	memcpy(host, h, host_len);
	host[host_len] = '\0';
	struct sockaddr_storage ss;
	if (sw_parse_bind(host, (uint16_t)p, &ss) != 0)
		return PS_EINVAL;
	*port = (uint16_t)p;
	return 0;
}

static int get_address(cfg_ctx_t *c, json_t *obj, const char *key, char *host,
		       uint16_t *port, bool port_zero_ok)
{
	char addr[SW_HOST_MAX + 8];
	int rc = get_str(c, obj, key, addr, sizeof(addr), true);
	if (rc != 0)
		return rc;
	if (sw_config_validate_address(addr, host, SW_HOST_MAX, port) != 0)
		return cfg_fail(c, key,
				"must be an IP address and port, such as "
				"\"127.0.0.1:7001\" or \"[::1]:7001\"");
	if (*port == 0 && !port_zero_ok)
		return cfg_fail(c, key, "port must not be 0");
	return 0;
}

/* An optional path, relative to the file's folder. */
static int get_path(cfg_ctx_t *c, json_t *obj, const char *key, char *out,
		    size_t cap)
{
	char text[SW_PATH_MAX];
	text[0] = '\0';
	int rc = get_str(c, obj, key, text, sizeof(text), false);
	if (rc != 0 || text[0] == '\0')
		return rc;
	if (resolve_path(c, text, out, cap) != 0)
		return cfg_fail(c, key, "longer than %zu characters with the "
				"configuration's folder before it", cap - 1);
	return 0;
}

static const iso8583_dialect_t *resolve_dialect(cfg_ctx_t *c, const char *name)
{
	const iso8583_dialect_t *d = iso8583_dialect_builtin(name);
	if (d != NULL)
		return d;
	for (uint32_t i = 0; i < c->cfg->loaded_count; i++)
		if (strcmp(c->cfg->loaded[i]->name, name) == 0)
			return c->cfg->loaded[i];
	if (c->cfg->loaded_count == SW_DIALECTS_MAX)
		return NULL;
	iso8583_dialect_t *loaded = malloc(sizeof(*loaded));
	iso8583_error_t ierr;
	char path[SW_PATH_MAX + 256];
	if (loaded == NULL || resolve_path(c, name, path, sizeof(path)) != 0 ||
	    iso8583_dialect_load_file(path, loaded, &ierr) != 0) {
		free(loaded);
		return NULL;
	}
	c->cfg->loaded[c->cfg->loaded_count++] = loaded;
	return loaded;
}

static int parse_framing(cfg_ctx_t *c, json_t *obj, chan_cfg_t *chan)
{
	static const char *const keys[] = {"length", "header_bytes", "header",
					   "source_id", "destination_id", NULL};
	json_t *f = json_object_get(obj, "framing");
	chan->framing.length_header = ISO8583_LENGTH_BINARY2;
	chan->framing.header_bytes = 0;
	memset(chan->header, 0, sizeof(chan->header));
	if (f == NULL)
		return 0;
	size_t mark = strlen(c->path);
	snprintf(c->path + mark, sizeof(c->path) - mark, ".framing");
	int rc = 0;
	if (!json_is_object(f)) {
		c->path[mark] = '\0';
		return cfg_fail(c, "framing", "must be an object");
	}
	if ((rc = check_keys(c, f, keys)) != 0)
		goto out;
	char length[16] = "binary2";
	if ((rc = get_str(c, f, "length", length, sizeof(length), false)))
		goto out;
	int lh = iso8583_length_header_parse(length);
	if (lh < 0) {
		rc = cfg_fail(c, "length", "unknown length header \"%s\" "
			      "(none, binary2, ascii4, bcd2, binary4)", length);
		goto out;
	}
	chan->framing.length_header = (uint8_t)lh;
	uint32_t header = 0;
	if ((rc = get_u32(c, f, "header_bytes", &header, 0, TXN_HEADER_MAX)))
		goto out;
	chan->framing.header_bytes = (uint16_t)header;
	char hex[2 * TXN_HEADER_MAX + 2] = "";
	if ((rc = get_str(c, f, "header", hex, sizeof(hex), false)))
		goto out;
	if (hex[0] != '\0' &&
	    (strlen(hex) != 2u * header ||
	     ps_hex_decode(hex, strlen(hex), chan->header,
			   sizeof(chan->header)) != 0)) {
		rc = cfg_fail(c, "header", "must be %u bytes as hex (%u digits)",
			      header, 2 * header);
		goto out;
	}
	/* A 46-byte header is UnionPay's: its stations name who sends
	 * (source_id: us) and who receives (destination_id). */
	char source[16] = "", destination[16] = "";
	if ((rc = get_str(c, f, "source_id", source, sizeof(source), false)) ||
	    (rc = get_str(c, f, "destination_id", destination,
			  sizeof(destination), false)))
		goto out;
	if ((source[0] || destination[0]) && header != ISO8583_CUPS_HEADER_BYTES) {
		rc = cfg_fail(c, "source_id", "only for a 46-byte (UnionPay) header");
		goto out;
	}
	if (strlen(source) > ISO8583_CUPS_STATION_BYTES ||
	    strlen(destination) > ISO8583_CUPS_STATION_BYTES) {
		rc = cfg_fail(c, "source_id", "station ids are at most 11 characters");
		goto out;
	}
	if (header == ISO8583_CUPS_HEADER_BYTES && hex[0] == '\0') {
		iso8583_cups_header_t h;
		iso8583_cups_header_init(&h, destination, source);
		iso8583_cups_header_write(&h, 0, chan->header);
	}
out:
	c->path[mark] = '\0';
	return rc;
}

/* protocol, dialect and framing: the channel a listener or an endpoint
 * speaks, the same keys for both. */
static int parse_channel(cfg_ctx_t *c, json_t *obj, sw_channel_cfg_t *ch,
			 uint32_t frame_bytes_max)
{
	chan_cfg_t *chan = &ch->chan;
	char protocol[16] = "iso8583";
	int rc = get_str(c, obj, "protocol", protocol, sizeof(protocol), false);
	if (rc != 0)
		return rc;
	if (strcmp(protocol, "iso8583") == 0)
		chan->kind = CHAN_ISO8583;
	else if (strcmp(protocol, "json") == 0)
		chan->kind = CHAN_JSON;
	else if (strcmp(protocol, "netclear") == 0)
		chan->kind = CHAN_NETCLEAR;
	else
		return cfg_fail(c, "protocol", "must be \"iso8583\", \"json\" or "
				"\"netclear\"");
	/* Who we are in a NetClear header: the switch's institution unless
	 * the network knows us by another member id. */
	ps_strlcpy(chan->member, c->cfg->institution, sizeof(chan->member));
	if ((rc = get_str(c, obj, "member", chan->member, sizeof(chan->member),
			  false)))
		return rc;
	if (json_object_get(obj, "member") && chan->kind != CHAN_NETCLEAR)
		return cfg_fail(c, "member", "only for netclear channels");
	if (chan->kind != CHAN_ISO8583) {
		if (json_object_get(obj, "dialect") || json_object_get(obj, "framing"))
			return cfg_fail(c, "protocol",
					"%s channels take no dialect or "
					"framing (they are JSON lines)", protocol);
		chan->frame_bytes_max = TXN_JSON_LINE_MAX;
		return 0;
	}
	ps_strlcpy(ch->dialect, "ascii", sizeof(ch->dialect));
	if ((rc = get_str(c, obj, "dialect", ch->dialect, sizeof(ch->dialect),
			  false)))
		return rc;
	chan->dialect = resolve_dialect(c, ch->dialect);
	if (chan->dialect == NULL)
		return cfg_fail(c, "dialect",
				"\"%s\" is neither a built-in dialect (see "
				"`iso8583 dialects`) nor a readable dialect "
				"file", ch->dialect);
	if ((rc = parse_framing(c, obj, chan)))
		return rc;
	chan->frame_bytes_max = frame_bytes_max;
	chan->framing.frame_bytes_max = frame_bytes_max;
	chan->framing.dialect = chan->dialect;
	return 0;
}

uint32_t sw_listener_default_operations(int chan_kind)
{
	if (chan_kind == CHAN_JSON)
		return 1u << TXN_KIND_PAY | 1u << TXN_KIND_REFUND |
		       1u << TXN_KIND_QUERY | 1u << TXN_KIND_PAYOUT;
	return 1u << TXN_KIND_PURCHASE | 1u << TXN_KIND_BALANCE |
	       1u << TXN_KIND_REVERSAL;
}

bool sw_listener_permits(const sw_listener_cfg_t *l, int kind)
{
	if (kind == TXN_KIND_NETWORK)
		return true;
	return kind > 0 && kind < TXN_KIND_COUNT && (l->operations >> kind & 1u);
}

/* "operations": the kinds a listener's participant may send, by name. */
static int parse_operations(cfg_ctx_t *c, json_t *obj, sw_listener_cfg_t *l)
{
	l->operations = sw_listener_default_operations(l->channel.chan.kind);
	json_t *arr = json_object_get(obj, "operations");
	if (arr == NULL)
		return 0;
	if (!json_is_array(arr))
		return cfg_fail(c, "operations", "must be an array of names");
	l->operations = 0;
	for (size_t i = 0; i < json_array_size(arr); i++) {
		const char *name = json_string_value(json_array_get(arr, i));
		int kind = TXN_KIND_NONE;
		for (int k = TXN_KIND_PAY; k < TXN_KIND_COUNT && name; k++)
			if (k != TXN_KIND_NETWORK && strcmp(name, txn_kind_name(k)) == 0)
				kind = k;
		if (kind == TXN_KIND_NONE)
			return cfg_fail(c, "operations",
					"entry %zu: not an operation (pay, refund, "
					"payout, query, purchase, refund_credit, "
					"credit, balance, reversal, completion)", i);
		l->operations |= 1u << kind;
	}
	return 0;
}

/* "acquirers": the field 32 values an ISO listener takes; by default its
 * participant alone. */
static int parse_acquirers(cfg_ctx_t *c, json_t *obj, sw_listener_cfg_t *l)
{
	json_t *arr = json_object_get(obj, "acquirers");
	if (arr == NULL) {
		if (l->channel.chan.kind == CHAN_ISO8583 && !l->participant[0])
			return cfg_fail(c, "participant",
					"an ISO 8583 listener names the acquirer "
					"ids its field 32 may carry: \"participant\""
					" (one) or \"acquirers\" (a list)");
		if (l->channel.chan.kind == CHAN_ISO8583) {
			if (!ps_is_digits(l->participant, strlen(l->participant)) ||
			    strlen(l->participant) >= SW_INSTITUTION_MAX)
				return cfg_fail(c, "participant",
						"an ISO 8583 listener's participant is "
						"the acquirer id its field 32 carries (1 "
						"to 11 digits), unless \"acquirers\" "
						"lists them");
			ps_strlcpy(l->acquirers[0], l->participant,
				   sizeof(l->acquirers[0]));
			l->acquirer_count = 1;
		}
		return 0;
	}
	if (l->channel.chan.kind != CHAN_ISO8583)
		return cfg_fail(c, "acquirers", "only for iso8583 listeners");
	if (!json_is_array(arr) || json_array_size(arr) == 0 ||
	    json_array_size(arr) > SW_ACQUIRERS_MAX)
		return cfg_fail(c, "acquirers", "must be an array of 1 to %d "
				"acquirer ids", SW_ACQUIRERS_MAX);
	for (size_t i = 0; i < json_array_size(arr); i++) {
		const char *id = json_string_value(json_array_get(arr, i));
		if (id == NULL || id[0] == '\0' || !ps_is_digits(id, strlen(id)) ||
		    strlen(id) >= SW_INSTITUTION_MAX)
			return cfg_fail(c, "acquirers", "entry %zu: must be 1 to "
					"11 digits, as field 32 carries it", i);
		ps_strlcpy(l->acquirers[i], id, sizeof(l->acquirers[i]));
	}
	l->acquirer_count = (uint32_t)json_array_size(arr);
	return 0;
}

static int parse_listener(cfg_ctx_t *c, json_t *obj, sw_listener_cfg_t *l)
{
	static const char *const keys[] = {
		"name", "address", "protocol", "dialect", "framing",
		"participant", "connections_max", "connections_per_peer_max",
		"inflight_per_conn_max", "queued_answers_max", "frame_bytes_max",
		"idle_timeout_ms", "frame_timeout_ms", "write_timeout_ms",
		"hello_required", "operations", "acquirers", "member",
		"institution", NULL};
	if (!json_is_object(obj))
		return cfg_fail(c, "", "must be an object");
	int rc;
	l->connections_max = 256;
	l->inflight_per_conn_max = 1024;
	l->queued_answers_max = 16;
	l->frame_bytes_max = 8192;
	l->frame_timeout_ms = 10000;
	l->write_timeout_ms = 10000;
	l->hello_required = true;
	if ((rc = check_keys(c, obj, keys)) ||
	    (rc = get_str(c, obj, "name", l->name, sizeof(l->name), true)) ||
	    (rc = get_address(c, obj, "address", l->host, &l->port, true)) ||
	    (rc = get_str(c, obj, "participant", l->participant,
			  sizeof(l->participant), false)) ||
	    (rc = get_u32(c, obj, "connections_max", &l->connections_max, 1, 100000)))
		return rc;
	l->connections_per_peer_max = l->connections_max / 2 > 0
					      ? l->connections_max / 2
					      : 1;
	if ((rc = get_u32(c, obj, "connections_per_peer_max",
			  &l->connections_per_peer_max, 1, l->connections_max)) ||
	    (rc = get_u32(c, obj, "inflight_per_conn_max", &l->inflight_per_conn_max, 1, 100000)) ||
	    (rc = get_u32(c, obj, "queued_answers_max", &l->queued_answers_max, 1, 1024)) ||
	    (rc = get_u32(c, obj, "frame_bytes_max", &l->frame_bytes_max, 64, 65535)) ||
	    (rc = get_u32(c, obj, "idle_timeout_ms", &l->idle_timeout_ms, 0, 86400000)) ||
	    (rc = get_u32(c, obj, "frame_timeout_ms", &l->frame_timeout_ms, 10, 3600000)) ||
	    (rc = get_u32(c, obj, "write_timeout_ms", &l->write_timeout_ms, 10, 3600000)) ||
	    (rc = get_bool(c, obj, "hello_required", &l->hello_required)) ||
	    (rc = get_str(c, obj, "institution", l->institution,
			  sizeof(l->institution), false)) ||
	    (rc = parse_channel(c, obj, &l->channel, l->frame_bytes_max)) ||
	    (rc = parse_operations(c, obj, l)) ||
	    (rc = parse_acquirers(c, obj, l)))
		return rc;
	if (!is_name(l->name))
		return cfg_fail(c, "name", "may hold only A-Z a-z 0-9 _ - .");
	if (l->institution[0] && !ps_is_digits(l->institution, strlen(l->institution)))
		return cfg_fail(c, "institution", "must be 1 to 11 digits (a member id)");
	if (l->institution[0] && l->channel.chan.kind == CHAN_ISO8583)
		return cfg_fail(c, "institution", "an ISO 8583 listener's "
				"origins name themselves in field 32 (acquirers)");
	if (l->channel.chan.kind != CHAN_JSON &&
	    json_object_get(obj, "hello_required") != NULL)
		return cfg_fail(c, "hello_required", "only for json listeners "
				"(an ISO 8583 peer signs on with 0800 when it "
				"chooses)");
	if (l->channel.chan.kind != CHAN_JSON)
		l->hello_required = false;
	l->frame_bytes_max = l->channel.chan.frame_bytes_max;
	return 0;
}

static int parse_endpoint(cfg_ctx_t *c, json_t *obj, sw_endpoint_cfg_t *e)
{
	static const char *const keys[] = {
		"name", "address", "protocol", "dialect", "framing",
		"institution", "connections", "timeout_ms", "echo_interval_ms",
		"echo_misses_max", "reconnect_min_ms", "reconnect_max_ms",
		"inflight_max", "frame_bytes_max", "sign_on", "two_phase", "member",
		"network", "clearing_dir", NULL};
	if (!json_is_object(obj))
		return cfg_fail(c, "", "must be an object");
	int rc;
	e->connections = 2;
	e->timeout_ms = 5000;
	e->echo_interval_ms = 30000;
	e->echo_misses_max = 3;
	e->reconnect_min_ms = 100;
	e->reconnect_max_ms = 10000;
	e->inflight_max = 4096;
	e->frame_bytes_max = 8192;
	e->sign_on = true;
	if ((rc = check_keys(c, obj, keys)) ||
	    (rc = get_str(c, obj, "name", e->name, sizeof(e->name), true)) ||
	    (rc = get_address(c, obj, "address", e->host, &e->port, false)) ||
	    (rc = get_str(c, obj, "institution", e->institution,
			  sizeof(e->institution), false)) ||
	    (rc = get_u32(c, obj, "connections", &e->connections, 1, SW_LINKS_MAX)) ||
	    (rc = get_u32(c, obj, "timeout_ms", &e->timeout_ms, 10, 600000)) ||
	    (rc = get_u32(c, obj, "echo_interval_ms", &e->echo_interval_ms, 0, 3600000)) ||
	    (rc = get_u32(c, obj, "echo_misses_max", &e->echo_misses_max, 1, 100)) ||
	    (rc = get_u32(c, obj, "reconnect_min_ms", &e->reconnect_min_ms, 1, 600000)) ||
	    (rc = get_u32(c, obj, "reconnect_max_ms", &e->reconnect_max_ms, 1, 3600000)) ||
	    (rc = get_u32(c, obj, "inflight_max", &e->inflight_max, 1, 1000000)) ||
	    (rc = get_u32(c, obj, "frame_bytes_max", &e->frame_bytes_max, 64, 65535)) ||
	    (rc = get_bool(c, obj, "sign_on", &e->sign_on)) ||
	    (rc = get_bool(c, obj, "two_phase", &e->two_phase)) ||
	    (rc = get_path(c, obj, "clearing_dir", e->clearing_dir,
			   sizeof(e->clearing_dir))) ||
	    (rc = parse_channel(c, obj, &e->channel, e->frame_bytes_max)))
		return rc;
	char network[16] = "direct";
	if ((rc = get_str(c, obj, "network", network, sizeof(network), false)))
		return rc;
	route_t probe;
	route_init(&probe);
	if (route_set_network(&probe, network, strlen(network), NULL) != 0)
		return cfg_fail(c, "network", "must be direct, unionpay or netclear");
	e->network = (uint8_t)probe.network;
	if (!is_name(e->name))
		return cfg_fail(c, "name", "may hold only A-Z a-z 0-9 _ - .");
	e->frame_bytes_max = e->channel.chan.frame_bytes_max;
	if (e->institution[0] && !ps_is_digits(e->institution, strlen(e->institution)))
		return cfg_fail(c, "institution", "must be digits");
	if (e->reconnect_max_ms < e->reconnect_min_ms)
		return cfg_fail(c, "reconnect_max_ms",
				"must not be below reconnect_min_ms");
	return 0;
}

/* Parses an array of objects with parse() at path "name[i]". */
static int parse_array(cfg_ctx_t *c, json_t *root, const char *name,
		       uint32_t max, uint32_t *count, void *items,
		       size_t item_size,
		       int (*parse)(cfg_ctx_t *, json_t *, void *))
{
	json_t *arr = json_object_get(root, name);
	if (arr == NULL)
		return 0;
	if (!json_is_array(arr))
		return cfg_fail(c, name, "must be an array");
	if (json_array_size(arr) > max)
		return cfg_fail(c, name, "at most %u entries", max);
	for (size_t i = 0; i < json_array_size(arr); i++) {
		snprintf(c->path, sizeof(c->path), "%s[%zu]", name, i);
		int rc = parse(c, json_array_get(arr, i),
			       (uint8_t *)items + i * item_size);
		if (rc != 0)
			return rc;
		(*count)++;
	}
	c->path[0] = '\0';
	return 0;
}

static int parse_listener_any(cfg_ctx_t *c, json_t *obj, void *item)
{
	return parse_listener(c, obj, item);
}

static int parse_endpoint_any(cfg_ctx_t *c, json_t *obj, void *item)
{
	return parse_endpoint(c, obj, item);
}

static int parse_section(cfg_ctx_t *c, json_t *root, const char *name,
			 const char *const *keys, json_t **out)
{
	*out = json_object_get(root, name);
	if (*out == NULL)
		return 0;
	if (!json_is_object(*out))
		return cfg_fail(c, name, "must be an object");
	snprintf(c->path, sizeof(c->path), "%s", name);
	int rc = check_keys(c, *out, keys);
	return rc;
}

static int parse_store_and_limits(cfg_ctx_t *c, json_t *root)
{
	static const char *const lmdb_keys[] = {"dir", "map_bytes", "sync", NULL};
	static const char *const limit_keys[] = {"inflight_max",
						 "saf_inflight_max", NULL};
	static const char *const rev_keys[] = {
		"retry_ms", "retry_max_ms", "attempts_max", "expiry_ms",
		"scan_max", NULL};
	static const char *const log_keys[] = {"level", NULL};
	sw_config_t *cfg = c->cfg;
	json_t *s;
	int rc;
	if ((rc = parse_section(c, root, "lmdb", lmdb_keys, &s)))
		return rc;
	if (s == NULL)
		return cfg_fail(c, "lmdb", "is required");
	char dir[SW_PATH_MAX];
	if ((rc = get_str(c, s, "dir", dir, sizeof(dir), true)))
		return rc;
	if (resolve_path(c, dir, cfg->lmdb_dir, sizeof(cfg->lmdb_dir)) != 0)
		return cfg_fail(c, "dir", "longer than %zu characters with the "
				"configuration's folder before it",
				sizeof(cfg->lmdb_dir) - 1);
	if ((rc = get_u64(c, s, "map_bytes", &cfg->lmdb_map_bytes, 1u << 20,
			  (uint64_t)1 << 40)) ||
	    (rc = get_bool(c, s, "sync", &cfg->lmdb_sync)))
		return rc;
	c->path[0] = '\0';
	if ((rc = parse_section(c, root, "limits", limit_keys, &s)))
		return rc;
	if (s && ((rc = get_u32(c, s, "inflight_max", &cfg->inflight_max, 1, 1000000)) ||
		  (rc = get_u32(c, s, "saf_inflight_max", &cfg->saf_inflight_max, 1, 100000))))
		return rc;
	c->path[0] = '\0';
	if ((rc = parse_section(c, root, "reversal", rev_keys, &s)))
		return rc;
	if (s && ((rc = get_u32(c, s, "retry_ms", &cfg->reversal_retry_ms, 10, 3600000)) ||
		  (rc = get_u32(c, s, "retry_max_ms", &cfg->reversal_retry_max_ms, 10, 86400000)) ||
		  (rc = get_u32(c, s, "attempts_max", &cfg->reversal_attempts_max, 1, 1000)) ||
		  (rc = get_u64(c, s, "expiry_ms", &cfg->reversal_expiry_ms, 1000,
				(uint64_t)30 * 86400000)) ||
		  (rc = get_u32(c, s, "scan_max", &cfg->saf_scan_max, 1, 100000))))
		return rc;
	c->path[0] = '\0';
	if ((rc = parse_section(c, root, "log", log_keys, &s)))
		return rc;
	if (s != NULL) {
		char level[16] = "info";
		if ((rc = get_str(c, s, "level", level, sizeof(level), false)))
			return rc;
		cfg->log_level = ps_log_level_parse(level);
		if (cfg->log_level < 0)
			return cfg_fail(c, "level", "must be debug, info, warn or error");
	}
	c->path[0] = '\0';
	return 0;
}

static int check_unique_names(cfg_ctx_t *c)
{
	sw_config_t *cfg = c->cfg;
	for (uint32_t i = 0; i < cfg->listener_count; i++)
		for (uint32_t j = 0; j < i; j++)
			if (strcmp(cfg->listener[i].name, cfg->listener[j].name) == 0) {
				snprintf(c->path, sizeof(c->path), "listeners[%u]", i);
				return cfg_fail(c, "name", "\"%s\" is used twice",
						cfg->listener[i].name);
			}
	for (uint32_t i = 0; i < cfg->endpoint_count; i++)
		for (uint32_t j = 0; j < i; j++)
			if (strcmp(cfg->endpoint[i].name, cfg->endpoint[j].name) == 0) {
				snprintf(c->path, sizeof(c->path), "endpoints[%u]", i);
				return cfg_fail(c, "name", "\"%s\" is used twice",
						cfg->endpoint[i].name);
			}
	return 0;
}

static void config_defaults(sw_config_t *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	ps_strlcpy(cfg->institution, "99990000", sizeof(cfg->institution));
	cfg->lmdb_map_bytes = (uint64_t)1 << 30;
	cfg->lmdb_sync = true;
	cfg->log_level = PS_LOG_INFO;
	cfg->inflight_max = 10000;
	cfg->saf_inflight_max = 256;
	cfg->reversal_retry_ms = 2000;
	cfg->reversal_retry_max_ms = 60000;
	cfg->reversal_attempts_max = 20;
	cfg->reversal_expiry_ms = (uint64_t)86400000;
	cfg->saf_scan_max = 256;
	cfg->retention_ms = (uint64_t)30 * 86400000;
	cfg->drain_ms = 15000;
	cfg->clearing.settle_delay_ms = 6000;
	cfg->clearing.poll_ms = 500;
}

static bool is_loopback(const char *host)
{
	struct sockaddr_storage ss;
	if (sw_parse_bind(host, 0, &ss) != 0)
		return false;
	if (ss.ss_family == AF_INET)
		return (ntohl(((struct sockaddr_in *)&ss)->sin_addr.s_addr) >> 24) == 127;
	static const uint8_t v6_loopback[16] = {[15] = 1};
	return memcmp(&((struct sockaddr_in6 *)&ss)->sin6_addr, v6_loopback, 16) == 0;
}

/*
 * The control socket and the metrics page: "host:port" on a loopback
 * address, or (control) "unix:PATH", relative to the file's folder. Any
 * other address is what anyone on that network could reach: only with
 * "<key>_remote": true.
 */
static int check_admin_address(cfg_ctx_t *c, const char *key, char *addr,
			       size_t cap, bool remote_ok, bool unix_ok)
{
	if (addr[0] == '\0')
		return 0;
	if (unix_ok && strncmp(addr, "unix:", 5) == 0) {
		char path[SW_PATH_MAX];
		char *out = addr + 5;
		if (out[0] == '\0' || resolve_path(c, out, path, sizeof(path)) != 0 ||
		    strlen(path) + 5 >= cap)
			return cfg_fail(c, key, "a unix socket needs a path "
					"(at most %zu characters)", cap - 6);
		ps_strlcpy(out, path, cap - 5);
		return 0;
	}
	char host[SW_HOST_MAX];
	uint16_t port;
	if (sw_config_validate_address(addr, host, sizeof(host), &port) != 0)
		return cfg_fail(c, key, unix_ok ? "must be \"host:port\" or "
						  "\"unix:/path\""
						: "must be \"host:port\"");
	if (!is_loopback(host) && !remote_ok)
		return cfg_fail(c, key, "%s is not a loopback address: anyone "
				"who can reach it could %s; set \"%s_remote\": "
				"true if that is what you want", host,
				unix_ok ? "drain, reload or reconfigure the switch"
					: "read its traffic figures",
				key);
	return 0;
}

/* "clearing": where PBOC is, when to cut over, how long to wait. */
static int parse_clearing(cfg_ctx_t *c, json_t *root)
{
	static const char *const keys[] = {"pboc", "cutover_time",
					   "settle_delay_ms", "poll_ms",
					   "first_date", NULL};
	sw_clearing_cfg_t *k = &c->cfg->clearing;
	json_t *s;
	int rc = parse_section(c, root, "clearing", keys, &s);
	if (rc != 0 || s == NULL) {
		c->path[0] = '\0';
		return rc;
	}
	if (json_object_get(s, "pboc") != NULL &&
	    (rc = get_address(c, s, "pboc", k->pboc_host, &k->pboc_port, false)))
		return rc;
	if ((rc = get_str(c, s, "cutover_time", k->cutover_time,
			  sizeof(k->cutover_time), false)) ||
	    (rc = get_u32(c, s, "settle_delay_ms", &k->settle_delay_ms, 0, 3600000)) ||
	    (rc = get_u32(c, s, "poll_ms", &k->poll_ms, 10, 600000)) ||
	    (rc = get_str(c, s, "first_date", k->first_date,
			  sizeof(k->first_date), false)))
		return rc;
	const char *t = k->cutover_time;
	if (t[0] && (strlen(t) != 5 || t[2] != ':' || !ps_is_digits(t, 2) ||
		     !ps_is_digits(t + 3, 2) || (t[0] - '0') * 10 + t[1] - '0' > 23 ||
		     (t[3] - '0') * 10 + t[4] - '0' > 59))
		return cfg_fail(c, "cutover_time", "must be HH:MM (UTC), 00:00 to 23:59");
	if (k->first_date[0] && (strlen(k->first_date) != 8 ||
				 !ps_is_digits(k->first_date, 8)))
		return cfg_fail(c, "first_date", "must be YYYYMMDD");
	c->path[0] = '\0';
	return 0;
}

static int parse_root(cfg_ctx_t *c, json_t *root)
{
	static const char *const keys[] = {
		"institution", "lmdb", "log", "control", "metrics", "limits",
		"reversal", "retention_ms", "drain_ms", "test_faults",
		"control_remote", "metrics_remote", "ready_file", "clearing",
		"listeners", "endpoints", NULL};
	sw_config_t *cfg = c->cfg;
	bool control_remote = false, metrics_remote = false;
	int rc;
	if (!json_is_object(root))
		return cfg_fail(c, "", "the configuration must be a JSON object");
	if ((rc = check_keys(c, root, keys)) ||
	    (rc = get_str(c, root, "institution", cfg->institution,
			  sizeof(cfg->institution), false)) ||
	    (rc = get_str(c, root, "control", cfg->control,
			  sizeof(cfg->control), false)) ||
	    (rc = get_str(c, root, "metrics", cfg->metrics,
			  sizeof(cfg->metrics), false)) ||
	    (rc = get_path(c, root, "ready_file", cfg->ready_file,
			   sizeof(cfg->ready_file))) ||
	    (rc = get_u32(c, root, "drain_ms", &cfg->drain_ms, 0, 3600000)) ||
	    (rc = get_bool(c, root, "test_faults", &cfg->test_faults)) ||
	    (rc = get_bool(c, root, "control_remote", &control_remote)) ||
	    (rc = get_bool(c, root, "metrics_remote", &metrics_remote)) ||
	    (rc = get_u64(c, root, "retention_ms", &cfg->retention_ms, 0,
			  (uint64_t)3650 * 86400000)) ||
	    (rc = parse_store_and_limits(c, root)))
		return rc;
	if (!ps_is_digits(cfg->institution, strlen(cfg->institution)) ||
	    strlen(cfg->institution) > 11)
		return cfg_fail(c, "institution", "must be 1 to 11 digits");
	if ((rc = check_admin_address(c, "control", cfg->control,
				      sizeof(cfg->control), control_remote, true)) ||
	    (rc = check_admin_address(c, "metrics", cfg->metrics,
				      sizeof(cfg->metrics), metrics_remote, false)))
		return rc;
	if ((rc = parse_clearing(c, root)))
		return rc;
	if ((rc = parse_array(c, root, "listeners", SW_LISTENERS_MAX,
			      &cfg->listener_count, cfg->listener,
			      sizeof(cfg->listener[0]), parse_listener_any)) ||
	    (rc = parse_array(c, root, "endpoints", SW_ENDPOINTS_MAX,
			      &cfg->endpoint_count, cfg->endpoint,
			      sizeof(cfg->endpoint[0]), parse_endpoint_any)))
		return rc;
	if (cfg->listener_count == 0)
		return cfg_fail(c, "listeners", "at least one listener is needed");
	return check_unique_names(c);
}

static int parse_text(const char *text, size_t len, const char *base_dir,
		      sw_config_t **out, char *err, size_t err_cap)
{
	sw_config_t *cfg = malloc(sizeof(*cfg));
	if (cfg == NULL) {
		snprintf(err, err_cap, "out of memory");
		return PS_ENOMEM;
	}
	config_defaults(cfg);
	cfg_ctx_t c = {.err = err, .err_cap = err_cap, .cfg = cfg,
		       .base_dir = base_dir};
	json_error_t jerr;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	int rc;
	if (root == NULL) {
		snprintf(err, err_cap, "line %d column %d: %s", jerr.line,
			 jerr.column, jerr.text);
		rc = PS_EINVAL;
	} else {
		rc = parse_root(&c, root);
		json_decref(root);
	}
	if (rc != 0) {
		sw_config_free(cfg);
		return rc;
	}
	*out = cfg;
	return 0;
}

int sw_config_parse(const char *text, size_t len, sw_config_t **out, char *err,
		    size_t err_cap)
{
	return parse_text(text, len, NULL, out, err, err_cap);
}

int sw_config_load(const char *path, sw_config_t **out, char *err,
		   size_t err_cap)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		snprintf(err, err_cap, "%s: cannot open", path);
		return PS_EIO;
	}
	static char text[1 << 20];
	size_t n = fread(text, 1, sizeof(text), f);
	bool too_big = n == sizeof(text);
	fclose(f);
	if (too_big) {
		snprintf(err, err_cap, "%s: larger than 1 MiB", path);
		return PS_EINVAL;
	}
	/* Relative paths in the file are relative to the file's folder,
	 * wherever the switch (or switchctl) is started from. */
	char base[SW_PATH_MAX];
	const char *slash = strrchr(path, '/');
	if (slash == NULL)
		ps_strlcpy(base, ".", sizeof(base));
	else if (slash == path)
		ps_strlcpy(base, "/", sizeof(base));
	else
		snprintf(base, sizeof(base), "%.*s", (int)(slash - path), path);
	char inner[512];
	int rc = parse_text(text, n, base, out, inner, sizeof(inner));
	if (rc != 0)
		snprintf(err, err_cap, "%s: %s", path, inner);
	return rc;
}

void sw_config_free(sw_config_t *cfg)
{
	if (cfg == NULL)
		return;
	for (uint32_t i = 0; i < cfg->loaded_count; i++)
		free(cfg->loaded[i]);
	free(cfg);
}
