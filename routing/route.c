/*
 * route.c: the route model: defaults, field setters with their validation,
 * names of networks and change kinds, and error texts. One validation path
 * serves switchctl's flags, the JSON parser and route_validate(), so a
 * field is judged the same way wherever it comes from.
 */
#include "routing_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <lmdb.h>

/* ---- errors ----------------------------------------------------------- */

const char *route_strerror(int code)
{
	if (code == ROUTE_EDISABLED)
		return "route disabled";
	return ps_strerror(code);
}

int route_fail(route_error_t *err, int code, const char *field,
	       const char *fmt, ...)
{
	if (err == NULL)
		return code;
	err->code = code;
	err->mdb_rc = 0;
	ps_strlcpy(err->field, field != NULL ? field : "", sizeof(err->field));
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->reason, sizeof(err->reason), fmt, ap);
	va_end(ap);
	return code;
}

int route_fail_mdb(route_error_t *err, int mdb_rc, const char *doing)
{
	int code = PS_EIO;
	if (mdb_rc == MDB_NOTFOUND || mdb_rc == ENOENT)
		code = PS_ENOTFOUND;
	else if (mdb_rc == MDB_MAP_FULL || mdb_rc == MDB_READERS_FULL ||
		 mdb_rc == MDB_DBS_FULL || mdb_rc == MDB_TXN_FULL)
		code = PS_ELIMIT;
	else if (mdb_rc == MDB_CORRUPTED || mdb_rc == MDB_PAGE_NOTFOUND)
		code = PS_EFORMAT;
	route_fail(err, code, "", "%s: %s", doing, mdb_strerror(mdb_rc));
	if (err != NULL)
		err->mdb_rc = mdb_rc;
	return code;
}

const char *route_error_format(const route_error_t *err, char *out, size_t cap)
{
	ps_buf_t buf;
	ps_buf_init(&buf, out, cap > 0 ? cap - 1 : 0);
	if (err->line > 0)
		(void)ps_buf_printf(&buf, "line %u: ", err->line);
	else if (err->record > 0)
		(void)ps_buf_printf(&buf, "record %u: ", err->record);
	if (err->field[0] != '\0')
		(void)ps_buf_printf(&buf, "%s: ", err->field);
	if (err->reason[0] != '\0')
		(void)ps_buf_append_str(&buf, err->reason);
	else
		(void)ps_buf_append_str(&buf, route_strerror(err->code));
	if (cap > 0)
		out[buf.len] = '\0';
	return out;
}

/* ---- names ------------------------------------------------------------ */

static const char *const network_names[ROUTE_NETWORK_COUNT] = {
	"direct", "unionpay", "netclear"};

const char *route_network_name(route_network_t network)
{
	if ((unsigned)network >= ROUTE_NETWORK_COUNT)
		return "?";
	return network_names[network];
}

static const char *const what_names[ROUTE_WHAT_COUNT] = {
	"add", "replace", "delete", "enable", "disable", "import",
	"import_summary", "exception_resolve"};

const char *route_what_name(route_what_t what)
{
	if ((unsigned)what >= ROUTE_WHAT_COUNT)
		return "?";
	return what_names[what];
}

int route_what_parse(const char *name, route_what_t *out)
{
	for (unsigned i = 0; i < ROUTE_WHAT_COUNT; i++) {
		if (strcmp(name, what_names[i]) == 0) {
			*out = (route_what_t)i;
			return 0;
		}
	}
	return PS_EINVAL;
}

/* ---- text checks ------------------------------------------------------ */

bool route_is_endpoint_name(const char *name, size_t len)
{
	if (len == 0 || len > ROUTE_ENDPOINT_BYTES_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9') || c == '_' || c == '.' ||
			  c == '-';
		if (!ok)
			return false;
	}
	return true;
}

/*
 * Length of the well-formed UTF-8 sequence at s (at most len bytes), or 0
 * when it is malformed: overlong forms, surrogates and code points past
 * U+10FFFF are refused, as RFC 3629 asks.
 */
static size_t utf8_sequence(const unsigned char *s, size_t len, uint32_t *cp)
{
	unsigned char c = s[0];
	size_t n;
	uint32_t v;
	if (c < 0x80) {
		*cp = c;
		return 1;
	} else if (c >= 0xC2 && c <= 0xDF) {
		n = 2;
		v = c & 0x1F;
	} else if (c >= 0xE0 && c <= 0xEF) {
		n = 3;
		v = c & 0x0F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		n = 4;
		v = c & 0x07;
	} else {
		return 0;
	}
	if (n > len)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		v = v << 6 | (s[i] & 0x3F);
	}
	if ((n == 3 && v < 0x800) || (n == 4 && v < 0x10000) || v > 0x10FFFF ||
	    (v >= 0xD800 && v <= 0xDFFF))
		return 0;
	*cp = v;
	return n;
}

/*
 * Printable UTF-8: no C0 or C1 control characters and no DEL, because a
 * note or a name with a newline or an escape sequence would break the
 * operator's table output and the log lines that quote it.
 */
static bool is_printable_utf8(const char *text, size_t len)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t i = 0;
	while (i < len) {
		uint32_t cp;
		size_t n = utf8_sequence(s + i, len - i, &cp);
		if (n == 0 || cp < 0x20 || (cp >= 0x7F && cp <= 0x9F))
			return false;
		i += n;
	}
	return true;
}

bool route_is_note_text(const char *text, size_t len)
{
	return len <= ROUTE_NOTE_BYTES_MAX && is_printable_utf8(text, len);
}

bool route_is_who_text(const char *text, size_t len)
{
	return len > 0 && len <= ROUTE_WHO_BYTES_MAX &&
	       is_printable_utf8(text, len);
}

/* ---- the route -------------------------------------------------------- */

void route_init(route_t *route)
{
	memset(route, 0, sizeof(*route));
	route->network = ROUTE_NETWORK_DIRECT;
	route->enabled = true;
}

int route_set_prefix(route_t *route, const char *digits, size_t len,
		     route_error_t *err)
{
	if (len == 0 || len > ROUTE_PREFIX_DIGITS_MAX ||
	    !ps_is_digits(digits, len))
		return route_fail(err, PS_EINVAL, "prefix",
				  "must be 1 to %d digits",
				  ROUTE_PREFIX_DIGITS_MAX);
	memcpy(route->prefix, digits, len);
	route->prefix[len] = '\0';
	route->prefix_len = (uint8_t)len;
	return 0;
}

int route_set_endpoint(route_t *route, const char *name, size_t len,
		       route_error_t *err)
{
	if (!route_is_endpoint_name(name, len))
		return route_fail(err, PS_EINVAL, "endpoint",
				  "must be 1 to %d characters of A-Z a-z 0-9 _ . -",
				  ROUTE_ENDPOINT_BYTES_MAX);
	memcpy(route->endpoint, name, len);
	route->endpoint[len] = '\0';
	return 0;
}

int route_add_alternate(route_t *route, const char *name, size_t len,
			route_error_t *err)
{
	if (route->alternate_count >= ROUTE_ALTERNATES_MAX)
		return route_fail(err, PS_ELIMIT, "alternates",
				  "at most %d alternates",
				  ROUTE_ALTERNATES_MAX);
	if (!route_is_endpoint_name(name, len))
		return route_fail(err, PS_EINVAL, "alternates",
				  "each must be 1 to %d characters of A-Z a-z 0-9 _ . -",
				  ROUTE_ENDPOINT_BYTES_MAX);
	/* A repeat adds nothing to failover and hides a typo elsewhere. */
	if (strlen(route->endpoint) == len &&
	    memcmp(route->endpoint, name, len) == 0)
		return route_fail(err, PS_EINVAL, "alternates",
				  "must not repeat the endpoint \"%s\"",
				  route->endpoint);
	for (unsigned i = 0; i < route->alternate_count; i++) {
		if (strlen(route->alternates[i]) == len &&
		    memcmp(route->alternates[i], name, len) == 0)
			return route_fail(err, PS_EINVAL, "alternates",
					  "\"%s\" is listed twice",
					  route->alternates[i]);
	}
	char *slot = route->alternates[route->alternate_count];
	memcpy(slot, name, len);
	slot[len] = '\0';
	route->alternate_count++;
	return 0;
}

int route_set_institution(route_t *route, const char *digits, size_t len,
			  route_error_t *err)
{
	if (len > ROUTE_INSTITUTION_DIGITS_MAX ||
	    (len > 0 && !ps_is_digits(digits, len)))
		return route_fail(err, PS_EINVAL, "institution",
				  "must be 1 to %d digits, or empty for none",
				  ROUTE_INSTITUTION_DIGITS_MAX);
	memcpy(route->institution, digits, len);
	route->institution[len] = '\0';
	return 0;
}

int route_set_note(route_t *route, const char *text, size_t len,
		   route_error_t *err)
{
	if (len > ROUTE_NOTE_BYTES_MAX)
		return route_fail(err, PS_EINVAL, "note",
				  "at most %d bytes (this one has %zu)",
				  ROUTE_NOTE_BYTES_MAX, len);
	if (!route_is_note_text(text, len))
		return route_fail(err, PS_EINVAL, "note",
				  "must be UTF-8 without control characters");
	memcpy(route->note, text, len);
	route->note[len] = '\0';
	return 0;
}

int route_set_network(route_t *route, const char *name, size_t len,
		      route_error_t *err)
{
	for (unsigned i = 0; i < ROUTE_NETWORK_COUNT; i++) {
		if (strlen(network_names[i]) == len &&
		    memcmp(network_names[i], name, len) == 0) {
			route->network = (route_network_t)i;
			return 0;
		}
	}
	return route_fail(err, PS_EINVAL, "network",
			  "must be direct, unionpay or netclear");
}

/* A fixed-size field holds a terminated string of at most cap-1 bytes. */
static bool field_len(const char *field, size_t cap, size_t *len)
{
	const char *nul = memchr(field, '\0', cap);
	if (nul == NULL)
		return false;
	*len = (size_t)(nul - field);
	return true;
}

static bool fees_valid(const route_fees_t *f)
{
	return f->issuer_ppm <= ROUTE_FEE_PPM_MAX &&
	       f->network_ppm <= ROUTE_FEE_PPM_MAX && f->issuer_cap >= 0 &&
	       f->issuer_cap <= ROUTE_FEE_CAP_MAX && f->network_cap >= 0 &&
	       f->network_cap <= ROUTE_FEE_CAP_MAX;
}

int route_validate(const route_t *route, route_error_t *err)
{
	size_t len;
	if (!field_len(route->prefix, sizeof(route->prefix), &len) ||
	    len != route->prefix_len || len == 0 ||
	    !ps_is_digits(route->prefix, len))
		return route_fail(err, PS_EINVAL, "prefix",
				  "must be 1 to %d digits",
				  ROUTE_PREFIX_DIGITS_MAX);
	if (!field_len(route->endpoint, sizeof(route->endpoint), &len) ||
	    !route_is_endpoint_name(route->endpoint, len))
		return route_fail(err, PS_EINVAL, "endpoint",
				  "must be 1 to %d characters of A-Z a-z 0-9 _ . -",
				  ROUTE_ENDPOINT_BYTES_MAX);
	if (!fees_valid(&route->fees))
		return route_fail(err, PS_EINVAL, "fees",
				  "rates must be 0 to %d ppm and caps 0 to %d",
				  ROUTE_FEE_PPM_MAX, ROUTE_FEE_CAP_MAX);
	if ((unsigned)route->network >= ROUTE_NETWORK_COUNT)
		return route_fail(err, PS_EINVAL, "network",
				  "must be direct, unionpay or netclear");
	if (route->alternate_count > ROUTE_ALTERNATES_MAX)
		return route_fail(err, PS_EINVAL, "alternates",
				  "at most %d alternates",
				  ROUTE_ALTERNATES_MAX);
	/* Re-adding each alternate to a scratch copy applies the same rules
	 * (names, no repeats) as the setter does. */
	route_t scratch = *route;
	scratch.alternate_count = 0;
	for (unsigned i = 0; i < route->alternate_count; i++) {
		if (!field_len(route->alternates[i],
			       sizeof(route->alternates[i]), &len))
			len = sizeof(route->alternates[i]);
		int rc = route_add_alternate(&scratch, route->alternates[i],
					     len, err);
		if (rc < 0)
			return rc;
	}
	if (!field_len(route->institution, sizeof(route->institution), &len) ||
	    (len > 0 && !ps_is_digits(route->institution, len)))
		return route_fail(err, PS_EINVAL, "institution",
				  "must be 1 to %d digits, or empty for none",
				  ROUTE_INSTITUTION_DIGITS_MAX);
	if (!field_len(route->note, sizeof(route->note), &len) ||
	    !route_is_note_text(route->note, len))
		return route_fail(err, PS_EINVAL, "note",
				  "must be at most %d bytes of UTF-8 without control characters",
				  ROUTE_NOTE_BYTES_MAX);
	return 0;
}

int64_t route_fee(int64_t amount, uint32_t ppm, int64_t cap)
{
	PS_ASSERT(amount >= 0 && amount <= 999999999999ll);
	PS_ASSERT(ppm <= ROUTE_FEE_PPM_MAX);
	/* At most 1e12 x 1e5: no overflow in 64 bits. */
	int64_t fee = (amount * (int64_t)ppm + 500000) / 1000000;
	return cap > 0 && fee > cap ? cap : fee;
}

void route_fees_of(const route_fees_t *fees, int64_t amount, int64_t *issuer,
		   int64_t *network)
{
	*issuer = route_fee(amount, fees->issuer_ppm, fees->issuer_cap);
	*network = route_fee(amount, fees->network_ppm, fees->network_cap);
}

int route_set_fees(route_t *route, const route_fees_t *fees,
		   route_error_t *err)
{
	if (!fees_valid(fees))
		return route_fail(err, PS_EINVAL, "fees",
				  "rates must be 0 to %d ppm and caps 0 to %d",
				  ROUTE_FEE_PPM_MAX, ROUTE_FEE_CAP_MAX);
	route->fees = *fees;
	return 0;
}

bool route_same_content(const route_t *a, const route_t *b)
{
	if (a->fees.issuer_ppm != b->fees.issuer_ppm ||
	    a->fees.issuer_cap != b->fees.issuer_cap ||
	    a->fees.network_ppm != b->fees.network_ppm ||
	    a->fees.network_cap != b->fees.network_cap)
		return false;
	if (strcmp(a->prefix, b->prefix) != 0 ||
	    strcmp(a->endpoint, b->endpoint) != 0 ||
	    a->network != b->network || a->enabled != b->enabled ||
	    a->alternate_count != b->alternate_count ||
	    strcmp(a->institution, b->institution) != 0 ||
	    strcmp(a->note, b->note) != 0)
		return false;
	for (unsigned i = 0; i < a->alternate_count && i < ROUTE_ALTERNATES_MAX;
	     i++)
		if (strcmp(a->alternates[i], b->alternates[i]) != 0)
			return false;
	return true;
}
