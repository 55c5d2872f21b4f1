/*
 * members.c: the members file's strict parser (members.h) and the
 * lookups: longest account prefix, member id, station.
 *
 * Prefixes are kept sorted by length, then digits, so the longest match
 * is at most NS_ACCOUNT_DIGITS_MAX binary searches, one per length.
 */
#include "members.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core.h"
#include "iso8583.h"
#include "sim.h"

typedef struct parse {
	ns_members_t *m;
	char *err;
	size_t cap;
} parse_t;

static int at(parse_t *p, const char *path, const char *key, const char *why)
{
	return sim_fail(p->err, p->cap, PS_EFORMAT, "%s%s%s: %s", path,
			key[0] ? "." : "", key, why);
}

static bool is_id(const char *s)
{
	size_t n = strlen(s);
	return n >= 1 && n <= NS_ID_MAX && ps_is_digits(s, n);
}

static bool is_station(const char *s)
{
	size_t n = strlen(s);
	if (n < 1 || n > NS_ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] <= ' ' || s[i] > '~')
			return false;
	return true;
}

/* A string member of obj into out (cap bytes), checked. */
static int take_str(parse_t *p, json_t *obj, const char *path, const char *key,
		    char *out, size_t cap, bool required, bool (*check)(const char *),
		    const char *rule)
{
	json_t *v = json_object_get(obj, key);
	if (v == NULL)
		return required ? at(p, path, key, "is required") : 0;
	const char *s = json_string_value(v);
	if (s == NULL || strlen(s) >= cap || strlen(s) == 0 ||
	    (check != NULL && !check(s)))
		return at(p, path, key, rule);
	memcpy(out, s, strlen(s) + 1);
	return 0;
}

static int known_keys(parse_t *p, json_t *obj, const char *path,
		      const char *const *keys, size_t count)
{
	if (!json_is_object(obj))
		return at(p, path, "", "must be an object");
	const char *key;
	json_t *v;
	json_object_foreach(obj, key, v) {
		size_t i = 0;
		while (i < count && strcmp(key, keys[i]) != 0)
			i++;
		if (i == count)
			return at(p, path, key, "unknown key");
	}
	return 0;
}

static int add_member(parse_t *p, const char *path, const ns_member_t *mem)
{
	ns_members_t *m = p->m;
	for (uint32_t i = 0; i < m->member_count; i++) {
		if (strcmp(m->members[i].member, mem->member) == 0)
			return at(p, path, "member", "appears twice in the file");
		if (strcmp(m->members[i].station, mem->station) == 0)
			return at(p, path, "station", "appears twice in the file");
	}
	if (m->member_count == NS_MEMBERS_MAX)
		return sim_fail(p->err, p->cap, PS_ELIMIT, "%s: more than %u members",
				path, NS_MEMBERS_MAX);
	m->members[m->member_count++] = *mem;
	return 0;
}

/* The part a bank and any member share: member, station, name. */
static int take_identity(parse_t *p, json_t *obj, const char *path,
			 ns_member_t *mem)
{
	memset(mem, 0, sizeof(*mem));
	mem->bank = -1;
	int rc;
	if ((rc = take_str(p, obj, path, "member", mem->member, sizeof(mem->member),
			   true, is_id, "must be 1 to 11 digits")) ||
	    (rc = take_str(p, obj, path, "station", mem->station,
			   sizeof(mem->station), false, is_station,
			   "must be 1 to 11 printable characters, no spaces")) ||
	    (rc = take_str(p, obj, path, "name", mem->name, sizeof(mem->name), false,
			   NULL, "must be a string of 1 to 31 characters")))
		return rc;
	if (mem->station[0] == '\0')
		ps_strlcpy(mem->station, mem->member, sizeof(mem->station));
	if (mem->name[0] == '\0')
		ps_strlcpy(mem->name, mem->member, sizeof(mem->name));
	return 0;
}

static int take_prefixes(parse_t *p, json_t *arr, const char *path, uint16_t bank)
{
	ns_members_t *m = p->m;
	if (!json_is_array(arr) || json_array_size(arr) == 0)
		return at(p, path, "prefixes", "must be an array of digit strings, "
			  "not empty");
	for (size_t i = 0; i < json_array_size(arr); i++) {
		char where[96];
		snprintf(where, sizeof(where), "%s.prefixes[%zu]", path, i);
		const char *s = json_string_value(json_array_get(arr, i));
		size_t n = s != NULL ? strlen(s) : 0;
		if (n < 1 || n > NS_ACCOUNT_DIGITS_MAX || !ps_is_digits(s, n))
			return at(p, where, "", "must be 1 to 19 digits");
		for (uint32_t j = 0; j < m->prefix_count; j++)
			if (strcmp(m->prefixes[j].digits, s) == 0)
				return at(p, where, "", "is another bank's prefix "
					  "already");
		if (m->prefix_count == NS_PREFIXES_MAX)
			return sim_fail(p->err, p->cap, PS_ELIMIT, "%s: more than "
					"%u prefixes", where, NS_PREFIXES_MAX);
		ns_prefix_t *px = &m->prefixes[m->prefix_count++];
		memcpy(px->digits, s, n + 1);
		px->len = (uint8_t)n;
		px->bank = bank;
	}
	return 0;
}

static bool is_dialect(const char *s)
{
	return iso8583_dialect_builtin(s) != NULL;
}

static bool is_framing(const char *s)
{
	return iso8583_length_header_parse(s) >= 0;
}

static int take_bank(parse_t *p, json_t *obj, const char *path)
{
	static const char *const keys[] = {"name", "member", "station", "prefixes",
					   "address", "dialect", "framing"};
	ns_members_t *m = p->m;
	int rc = known_keys(p, obj, path, keys, PS_ARRAY_LEN(keys));
	if (rc != 0)
		return rc;
	if (m->bank_count == NS_BANKS_MAX)
		return sim_fail(p->err, p->cap, PS_ELIMIT, "%s: more than %u banks",
				path, NS_BANKS_MAX);
	ns_member_t mem;
	ns_bank_t *b = &m->banks[m->bank_count];
	memset(b, 0, sizeof(*b));
	ps_strlcpy(b->dialect, "ascii", sizeof(b->dialect));
	ps_strlcpy(b->framing, "binary2", sizeof(b->framing));
	if ((rc = take_identity(p, obj, path, &mem)) ||
	    (rc = take_str(p, obj, path, "address", b->address, sizeof(b->address),
			   true, NULL, "must be HOST:PORT")) ||
	    (rc = take_str(p, obj, path, "dialect", b->dialect, sizeof(b->dialect),
			   false, is_dialect, "must be a built-in dialect: ascii, "
			   "binary, ascii-binbitmap")) ||
	    (rc = take_str(p, obj, path, "framing", b->framing, sizeof(b->framing),
			   false, is_framing, "must be binary2, ascii4, bcd2, binary4 "
			   "or none")))
		return rc;
	char host[128];
	uint16_t port;
	if (sim_hostport_parse(b->address, host, sizeof(host), &port) != 0 || port == 0)
		return at(p, path, "address", "must be HOST:PORT with a port");
	mem.bank = (int16_t)m->bank_count;
	ps_strlcpy(b->member, mem.member, sizeof(b->member));
	ps_strlcpy(b->name, mem.name, sizeof(b->name));
	b->length_header = (uint8_t)iso8583_length_header_parse(b->framing);
	if ((rc = add_member(p, path, &mem)) ||
	    (rc = take_prefixes(p, json_object_get(obj, "prefixes"), path,
				(uint16_t)m->bank_count)))
		return rc;
	m->bank_count++;
	return 0;
}

static int take_other(parse_t *p, json_t *obj, const char *path)
{
	static const char *const keys[] = {"member", "station", "name"};
	int rc = known_keys(p, obj, path, keys, PS_ARRAY_LEN(keys));
	ns_member_t mem;
	if (rc == 0)
		rc = take_identity(p, obj, path, &mem);
	return rc != 0 ? rc : add_member(p, path, &mem);
}

static int take_list(parse_t *p, json_t *root, const char *key,
		     int (*take)(parse_t *, json_t *, const char *))
{
	json_t *arr = json_object_get(root, key);
	if (arr == NULL)
		return 0;
	if (!json_is_array(arr))
		return at(p, key, "", "must be an array");
	for (size_t i = 0; i < json_array_size(arr); i++) {
		char path[48];
		snprintf(path, sizeof(path), "%s[%zu]", key, i);
		int rc = take(p, json_array_get(arr, i), path);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int prefix_cmp(const void *a, const void *b)
{
	const ns_prefix_t *x = a, *y = b;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return strcmp(x->digits, y->digits);
}

int ns_members_parse(const char *text, size_t len, ns_members_t *out,
		     char *err, size_t err_cap)
{
	static const char *const keys[] = {"members", "banks"};
	memset(out, 0, sizeof(*out));
	parse_t p = {out, err, err_cap};
	json_error_t jerr;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL)
		return sim_fail(err, err_cap, PS_EFORMAT, "line %d: %s", jerr.line,
				jerr.text);
	int rc = known_keys(&p, root, "members file", keys, PS_ARRAY_LEN(keys));
	if (rc == 0)
		rc = take_list(&p, root, "banks", take_bank);
	if (rc == 0)
		rc = take_list(&p, root, "members", take_other);
	if (rc == 0 && out->bank_count == 0)
		rc = sim_fail(err, err_cap, PS_EFORMAT, "banks: at least one bank "
			      "is required");
	json_decref(root);
	if (rc != 0) {
		memset(out, 0, sizeof(*out));
		return rc;
	}
	qsort(out->prefixes, out->prefix_count, sizeof(out->prefixes[0]),
	      prefix_cmp);
	return 0;
}

int ns_members_load(const char *path, ns_members_t *out, char *err,
		    size_t err_cap)
{
	char *text = NULL;
	size_t len = 0;
	int rc = sim_file_read(path, NS_MEMBERS_FILE_BYTES_MAX, &text, &len);
	if (rc != 0)
		return sim_fail(err, err_cap, rc, "%s: %s", path,
				rc == PS_ELIMIT ? "larger than 1 MiB" : "cannot be read");
	char why[400];
	rc = ns_members_parse(text, len, out, why, sizeof(why));
	free(text);
	if (rc != 0)
		return sim_fail(err, err_cap, rc, "%s: %s", path, why);
	return 0;
}

/* ---- lookups ----------------------------------------------------------------- */

int ns_members_route(const ns_members_t *m, const char *account)
{
	size_t n = strnlen(account, NS_ACCOUNT_DIGITS_MAX + 1);
	for (size_t len = PS_MIN(n, NS_ACCOUNT_DIGITS_MAX); len >= 1; len--) {
		uint32_t lo = 0, hi = m->prefix_count;
		while (lo < hi) {
			uint32_t mid = lo + (hi - lo) / 2;
			const ns_prefix_t *px = &m->prefixes[mid];
			int c = px->len != len ? (px->len < len ? -1 : 1)
					       : strncmp(px->digits, account, len);
			if (c == 0)
				return px->bank;
			if (c < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
	}
	return -1;
}

int ns_members_bank(const ns_members_t *m, const char *member)
{
	const ns_member_t *mem = ns_members_by_id(m, member);
	return mem != NULL ? mem->bank : -1;
}

const ns_member_t *ns_members_by_station(const ns_members_t *m,
					 const char *station)
{
	for (uint32_t i = 0; i < m->member_count; i++)
		if (strcmp(m->members[i].station, station) == 0)
			return &m->members[i];
	return NULL;
}

const ns_member_t *ns_members_by_id(const ns_members_t *m, const char *member)
{
	for (uint32_t i = 0; i < m->member_count; i++)
		if (strcmp(m->members[i].member, member) == 0)
			return &m->members[i];
	return NULL;
}
