/*
 * json.c: the JSON-lines form of accounts and transfers (ledger_json.h),
 * for the CLI's batches and exports. Strict on input: every key known,
 * every number a non-negative integer, every id in range.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "ledger_json.h"

struct flag_name {
	uint16_t flag;
	const char *name;
};

static const struct flag_name transfer_flags[] = {
	{LEDGER_TRANSFER_LINKED, "linked"},
	{LEDGER_TRANSFER_PENDING, "pending"},
	{LEDGER_TRANSFER_POST_PENDING, "post_pending"},
	{LEDGER_TRANSFER_VOID_PENDING, "void_pending"},
};

static const struct flag_name account_flags[] = {
	{LEDGER_ACCOUNT_LINKED, "linked"},
	{LEDGER_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS,
	 "debits_must_not_exceed_credits"},
	{LEDGER_ACCOUNT_CREDITS_MUST_NOT_EXCEED_DEBITS,
	 "credits_must_not_exceed_debits"},
	{LEDGER_ACCOUNT_CLOSED, "closed"},
};

static int flag_lookup(const struct flag_name *names, size_t count,
		       const char *name, size_t len, uint16_t *flag)
{
	for (size_t i = 0; i < count; i++) {
		if (strlen(names[i].name) == len &&
		    memcmp(names[i].name, name, len) == 0) {
			*flag = names[i].flag;
			return 0;
		}
	}
	return PS_EINVAL;
}

static const char *flags_text(const struct flag_name *names, size_t count,
			      uint16_t flags, char *out, size_t cap)
{
	ps_buf_t buf;
	ps_buf_init(&buf, out, cap - 1);
	for (size_t i = 0; i < count; i++) {
		if (!(flags & names[i].flag))
			continue;
		if (buf.len > 0)
			ps_buf_append(&buf, ",", 1);
		ps_buf_append_str(&buf, names[i].name);
	}
	out[buf.len] = '\0';
	return out;
}

const char *ledger_transfer_flags_text(uint16_t flags, char *out, size_t cap)
{
	return flags_text(transfer_flags, PS_ARRAY_LEN(transfer_flags), flags,
			  out, cap);
}

const char *ledger_account_flags_text(uint16_t flags, char *out, size_t cap)
{
	return flags_text(account_flags, PS_ARRAY_LEN(account_flags), flags,
			  out, cap);
}

static int flags_parse(const struct flag_name *names, size_t count,
		       const char *text, uint16_t *out)
{
	*out = 0;
	while (*text != '\0') {
		const char *end = strchr(text, ',');
		size_t len = end ? (size_t)(end - text) : strlen(text);
		uint16_t flag;
		if (flag_lookup(names, count, text, len, &flag) != 0)
			return PS_EINVAL;
		*out |= flag;
		text += len + (end ? 1 : 0);
	}
	return 0;
}

int ledger_transfer_flags_parse(const char *text, uint16_t *out)
{
	return flags_parse(transfer_flags, PS_ARRAY_LEN(transfer_flags), text,
			   out);
}

int ledger_account_flags_parse(const char *text, uint16_t *out)
{
	/* "closed" is state, set by close, never at creation. */
	int rc = flags_parse(account_flags, PS_ARRAY_LEN(account_flags), text,
			     out);
	return rc == 0 && (*out & LEDGER_ACCOUNT_CLOSED) ? PS_EINVAL : rc;
}

/* ---- parsing ----------------------------------------------------------- */

#define FAIL(err, ...)                                                         \
	do {                                                                   \
		snprintf((err), LEDGER_JSON_ERROR_MAX, __VA_ARGS__);           \
		return PS_EFORMAT;                                             \
	} while (0)

static int get_id(json_t *v, const char *key, ledger_id_t *out, char *err)
{
	if (json_is_integer(v)) {
		json_int_t n = json_integer_value(v);
		if (n < 0)
			FAIL(err, "%.48s: must not be negative", key);
		*out = ledger_id_from_u64((uint64_t)n);
		return 0;
	}
	if (!json_is_string(v))
		FAIL(err, "%.48s: must be an integer or a string", key);
	const char *s = json_string_value(v);
	size_t len = json_string_length(v);
	if (len > 5 && memcmp(s, "text:", 5) == 0) {
		*out = ledger_id_from_text(s + 5, len - 5);
		return 0;
	}
	if (ledger_id_parse(s, len, out) != 0)
		FAIL(err, "%.48s: not a decimal, 0x hex or text: id", key);
	return 0;
}

static int get_u64(json_t *v, const char *key, uint64_t max, uint64_t *out,
		   char *err)
{
	/* Reals (12.5, 1e3) are refused: money is never floating point. */
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		FAIL(err, "%.48s: must be a non-negative integer", key);
	uint64_t n = (uint64_t)json_integer_value(v);
	if (n > max)
		FAIL(err, "%.48s: must be at most %llu", key,
		     (unsigned long long)max);
	*out = n;
	return 0;
}

static int get_flags(json_t *v, const char *key, const struct flag_name *names,
		     size_t count, uint16_t *out, char *err)
{
	if (!json_is_array(v))
		FAIL(err, "%.48s: must be an array of names", key);
	size_t i;
	json_t *item;
	*out = 0;
	json_array_foreach(v, i, item)
	{
		uint16_t flag;
		if (!json_is_string(item) ||
		    flag_lookup(names, count, json_string_value(item),
				json_string_length(item), &flag) != 0)
			FAIL(err, "%.48s: unknown flag at index %zu", key, i);
		*out |= flag;
	}
	return 0;
}

static json_t *load_object(const char *text, size_t len, char *err)
{
	json_error_t jerr;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		snprintf(err, LEDGER_JSON_ERROR_MAX, "json: %.100s (column %d)",
			 jerr.text, jerr.column);
		return NULL;
	}
	if (!json_is_object(root)) {
		snprintf(err, LEDGER_JSON_ERROR_MAX, "json: not an object");
		json_decref(root);
		return NULL;
	}
	return root;
}

static int transfer_field(const char *key, json_t *v, ledger_transfer_t *t,
			  char *err)
{
	uint64_t n = 0;
	int rc;
	if (strcmp(key, "id") == 0)
		return get_id(v, key, &t->id, err);
	if (strcmp(key, "debit_account_id") == 0)
		return get_id(v, key, &t->debit_account_id, err);
	if (strcmp(key, "credit_account_id") == 0)
		return get_id(v, key, &t->credit_account_id, err);
	if (strcmp(key, "pending_id") == 0)
		return get_id(v, key, &t->pending_id, err);
	if (strcmp(key, "user_data_128") == 0)
		return get_id(v, key, &t->user_data_128, err);
	if (strcmp(key, "amount") == 0)
		return get_u64(v, key, LEDGER_AMOUNT_MAX, &t->amount, err);
	if (strcmp(key, "user_data_64") == 0)
		return get_u64(v, key, INT64_MAX, &t->user_data_64, err);
	if (strcmp(key, "timestamp") == 0)
		return get_u64(v, key, INT64_MAX, &t->timestamp, err);
	if (strcmp(key, "timeout_seconds") == 0) {
		rc = get_u64(v, key, UINT32_MAX, &n, err);
		t->timeout_seconds = (uint32_t)n;
		return rc;
	}
	if (strcmp(key, "ledger") == 0) {
		rc = get_u64(v, key, UINT32_MAX, &n, err);
		t->ledger = (uint32_t)n;
		return rc;
	}
	if (strcmp(key, "code") == 0) {
		rc = get_u64(v, key, UINT16_MAX, &n, err);
		t->code = (uint16_t)n;
		return rc;
	}
	if (strcmp(key, "flags") == 0)
		return get_flags(v, key, transfer_flags,
				 PS_ARRAY_LEN(transfer_flags), &t->flags, err);
	FAIL(err, "%.48s: unknown key", key);
}

/*
 * Parses one JSON object with field() for each key: the same bounds, the
 * same "unknown key" and "id: missing" rules for accounts and transfers.
 */
static int parse_object(const char *text, size_t len, void *out,
			int (*field)(const char *, json_t *, void *, char *),
			char *err)
{
	err[0] = '\0';
	if (len > LEDGER_JSON_LINE_MAX)
		FAIL(err, "line longer than %d bytes", LEDGER_JSON_LINE_MAX);
	json_t *root = load_object(text, len, err);
	if (root == NULL)
		return PS_EFORMAT;
	const char *key;
	json_t *v;
	int rc = 0;
	json_object_foreach(root, key, v)
	{
		rc = field(key, v, out, err);
		if (rc != 0)
			break;
	}
	if (rc == 0 && json_object_get(root, "id") == NULL) {
		snprintf(err, LEDGER_JSON_ERROR_MAX, "id: missing");
		rc = PS_EFORMAT;
	}
	json_decref(root);
	return rc;
}

static int transfer_field_any(const char *key, json_t *v, void *t, char *err)
{
	return transfer_field(key, v, t, err);
}

int ledger_json_parse_transfer(const char *text, size_t len,
			       ledger_transfer_t *out, char *err)
{
	PS_ASSERT(out != NULL && err != NULL);
	memset(out, 0, sizeof(*out));
	return parse_object(text, len, out, transfer_field_any, err);
}

static int account_field(const char *key, json_t *v, ledger_account_t *a,
			 char *err)
{
	uint64_t n = 0;
	int rc;
	if (strcmp(key, "id") == 0)
		return get_id(v, key, &a->id, err);
	if (strcmp(key, "user_data_128") == 0)
		return get_id(v, key, &a->user_data_128, err);
	if (strcmp(key, "user_data_64") == 0)
		return get_u64(v, key, INT64_MAX, &a->user_data_64, err);
	if (strcmp(key, "ledger") == 0) {
		rc = get_u64(v, key, UINT32_MAX, &n, err);
		a->ledger = (uint32_t)n;
		return rc;
	}
	if (strcmp(key, "code") == 0) {
		rc = get_u64(v, key, UINT16_MAX, &n, err);
		a->code = (uint16_t)n;
		return rc;
	}
	if (strcmp(key, "flags") == 0)
		return get_flags(v, key, account_flags,
				 PS_ARRAY_LEN(account_flags), &a->flags, err);
	/* Export writes balances and timestamps; re-importing an export
	 * passes them on so the ledger can refuse non-zero ones. */
	uint64_t *balances[] = {&a->debits_pending, &a->debits_posted,
				&a->credits_pending, &a->credits_posted,
				&a->timestamp};
	const char *names[] = {"debits_pending", "debits_posted",
			       "credits_pending", "credits_posted",
			       "timestamp"};
	for (size_t i = 0; i < PS_ARRAY_LEN(names); i++)
		if (strcmp(key, names[i]) == 0)
			return get_u64(v, key, INT64_MAX, balances[i], err);
	FAIL(err, "%.48s: unknown key", key);
}

static int account_field_any(const char *key, json_t *v, void *a, char *err)
{
	return account_field(key, v, a, err);
}

int ledger_json_parse_account(const char *text, size_t len,
			      ledger_account_t *out, char *err)
{
	PS_ASSERT(out != NULL && err != NULL);
	memset(out, 0, sizeof(*out));
	return parse_object(text, len, out, account_field_any, err);
}

/* ---- output ------------------------------------------------------------ */

int ledger_json_format_id(ps_buf_t *buf, ledger_id_t id)
{
	if (id.hi == 0 && id.lo <= (uint64_t)INT64_MAX)
		return ps_buf_printf(buf, "%llu", (unsigned long long)id.lo);
	char text[LEDGER_ID_TEXT_MAX];
	return ps_buf_printf(buf, "\"%s\"", ledger_id_format(id, text));
}

static int format_flags(ps_buf_t *buf, const struct flag_name *names,
			size_t count, uint16_t flags)
{
	int rc = ps_buf_append_str(buf, "[");
	bool first = true;
	for (size_t i = 0; i < count && rc == 0; i++) {
		if (!(flags & names[i].flag))
			continue;
		rc = ps_buf_printf(buf, "%s\"%s\"", first ? "" : ",",
				   names[i].name);
		first = false;
	}
	return rc ? rc : ps_buf_append_str(buf, "]");
}

static int format_key_id(ps_buf_t *buf, const char *key, ledger_id_t id)
{
	int rc = ps_buf_printf(buf, ",\"%s\":", key);
	return rc ? rc : ledger_json_format_id(buf, id);
}

int ledger_json_format_transfer(ps_buf_t *buf, const ledger_transfer_t *t)
{
	size_t start = buf->len;
	int rc = ps_buf_append_str(buf, "{\"id\":");
	rc = rc ? rc : ledger_json_format_id(buf, t->id);
	rc = rc ? rc : format_key_id(buf, "debit_account_id", t->debit_account_id);
	rc = rc ? rc : format_key_id(buf, "credit_account_id", t->credit_account_id);
	rc = rc ? rc : ps_buf_printf(buf, ",\"amount\":%llu,\"ledger\":%u,\"code\":%u,\"flags\":",
				     (unsigned long long)t->amount, t->ledger, t->code);
	rc = rc ? rc : format_flags(buf, transfer_flags, PS_ARRAY_LEN(transfer_flags), t->flags);
	if (rc == 0 && !ledger_id_is_zero(t->pending_id))
		rc = format_key_id(buf, "pending_id", t->pending_id);
	if (rc == 0 && t->timeout_seconds != 0)
		rc = ps_buf_printf(buf, ",\"timeout_seconds\":%u", t->timeout_seconds);
	if (rc == 0 && !ledger_id_is_zero(t->user_data_128))
		rc = format_key_id(buf, "user_data_128", t->user_data_128);
	if (rc == 0 && t->user_data_64 != 0)
		rc = ps_buf_printf(buf, ",\"user_data_64\":%llu",
				   (unsigned long long)t->user_data_64);
	rc = rc ? rc : ps_buf_printf(buf, ",\"timestamp\":%llu}",
				     (unsigned long long)t->timestamp);
	if (rc != 0)
		buf->len = start;
	return rc;
}

int ledger_json_format_account(ps_buf_t *buf, const ledger_account_t *a)
{
	size_t start = buf->len;
	int rc = ps_buf_append_str(buf, "{\"id\":");
	rc = rc ? rc : ledger_json_format_id(buf, a->id);
	rc = rc ? rc : ps_buf_printf(buf, ",\"ledger\":%u,\"code\":%u,\"flags\":",
				     a->ledger, a->code);
	rc = rc ? rc : format_flags(buf, account_flags, PS_ARRAY_LEN(account_flags), a->flags);
	rc = rc ? rc : ps_buf_printf(buf,
		",\"debits_pending\":%llu,\"debits_posted\":%llu"
		",\"credits_pending\":%llu,\"credits_posted\":%llu",
		(unsigned long long)a->debits_pending,
		(unsigned long long)a->debits_posted,
		(unsigned long long)a->credits_pending,
		(unsigned long long)a->credits_posted);
	if (rc == 0 && !ledger_id_is_zero(a->user_data_128))
		rc = format_key_id(buf, "user_data_128", a->user_data_128);
	if (rc == 0 && a->user_data_64 != 0)
		rc = ps_buf_printf(buf, ",\"user_data_64\":%llu",
				   (unsigned long long)a->user_data_64);
	rc = rc ? rc : ps_buf_printf(buf, ",\"timestamp\":%llu}",
				     (unsigned long long)a->timestamp);
	if (rc != 0)
		buf->len = start;
	return rc;
}
