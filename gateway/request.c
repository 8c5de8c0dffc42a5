/*
 * request.c
 *		Pure C handling of request targets and headers (see request.h).
 */
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "request.h"
#include "utf8.h"

/*
 * Split an origin-form request target ("/path?query") into path and query.
 * Returns NULL, or a static message saying what is wrong with the target.
 */
const char *
request_target_split(const char *target, size_t len, RequestTarget *out)
{
	const char *q = memchr(target, '?', len);
	const char *end = target + len;
	const char *hash;

	if (len == 0 || target[0] != '/')
		return "the request target must be an absolute path";
	if (!utf8_valid(target, len))
		return "the request target is not valid UTF-8";
	hash = memchr(target, '#', len);
	if (hash != NULL)
		end = hash;				/* a fragment is never sent; ignore one */
	if (q != NULL && q > end)
		q = NULL;
	out->path = target;
	out->path_len = (q != NULL ? q : end) - target;
	out->query = q != NULL ? q + 1 : end;
	out->query_len = q != NULL ? (size_t) (end - (q + 1)) : 0;
	return NULL;
}

/* What the headers weigh, counted as on the wire ("name: value\r\n"). */
size_t
request_headers_size(const HttpHeader *headers, size_t n)
{
	size_t		total = 0,
				i;

	for (i = 0; i < n; i++)
		total += headers[i].name_len + headers[i].value_len + 4;
	return total;
}

static bool
names_equal_ci(const HttpHeader *a, const HttpHeader *b)
{
	size_t		i;

	if (a->name_len != b->name_len)
		return false;
	for (i = 0; i < a->name_len; i++)
	{
		unsigned char x = (unsigned char) a->name[i],
					y = (unsigned char) b->name[i];

		if (x >= 'A' && x <= 'Z')
			x += 'a' - 'A';
		if (y >= 'A' && y <= 'Z')
			y += 'a' - 'A';
		if (x != y)
			return false;
	}
	return true;
}

static void
append_lower(StrBuf *sb, const char *s, size_t len)
{
	size_t		i;

	for (i = 0; i < len; i++)
	{
		char		ch = s[i];

		if (ch >= 'A' && ch <= 'Z')
			ch += 'a' - 'A';
		strbuf_append_char(sb, ch);
	}
}

/*
 * Write the headers as one JSON object {"lower-case name": "value"}.
 * A header sent several times becomes one member, its values joined with
 * ", " in the order received (RFC 9110, 5.3).  Returns -1, or the index of
 * the first header whose name or value is not valid UTF-8 (then the
 * buffer holds no complete object).
 */
long
request_headers_to_json(StrBuf *sb, const HttpHeader *headers, size_t n)
{
	size_t		i,
				j;
	StrBuf		name = STRBUF_INIT;

	for (i = 0; i < n; i++)
		if (!utf8_valid(headers[i].name, headers[i].name_len) ||
			!utf8_valid(headers[i].value, headers[i].value_len))
			return (long) i;

	strbuf_append_char(sb, '{');
	for (i = 0; i < n; i++)
	{
		bool		seen = false;
		bool		first = true;

		for (j = 0; j < i && !seen; j++)
			seen = names_equal_ci(&headers[i], &headers[j]);
		if (seen)
			continue;			/* merged into its first occurrence */
		if (i > 0)
			strbuf_append_char(sb, ',');
		strbuf_reset(&name);
		append_lower(&name, headers[i].name, headers[i].name_len);
		json_append_string(sb, strbuf_cstr(&name), name.len);
		strbuf_append_char(sb, ':');

		/* the value: this occurrence and every later one of the same name */
		{
			StrBuf		value = STRBUF_INIT;

			for (j = i; j < n; j++)
			{
				if (j != i && !names_equal_ci(&headers[i], &headers[j]))
					continue;
				if (!first)
					strbuf_append(&value, ", ", 2);
				strbuf_append(&value, headers[j].value, headers[j].value_len);
				first = false;
			}
			json_append_string(sb, strbuf_cstr(&value), value.len);
			if (!strbuf_ok(&value))
				sb->broken = true;
			strbuf_free(&value);
		}
	}
	strbuf_append_char(sb, '}');
	if (!strbuf_ok(&name))
		sb->broken = true;
	strbuf_free(&name);
	return -1;
}

/* s[0..len) equals the lower-case literal lit, ignoring ASCII case. */
static bool
equals_ci(const char *s, size_t len, const char *lit)
{
	size_t		i;

	if (len != strlen(lit))
		return false;
	for (i = 0; i < len; i++)
	{
		unsigned char c = (unsigned char) s[i];

		if (c >= 'A' && c <= 'Z')
			c += 'a' - 'A';
		if (c != (unsigned char) lit[i])
			return false;
	}
	return true;
}

/*
 * Is the body a form: exactly one Content-Type header, whose media type
 * (before any ";" parameter, blanks trimmed) is
 * application/x-www-form-urlencoded in any case?  The same test as
 * orders.is_form_content_type on the joined header api.dispatch sees.
 */
bool
request_body_is_form(const HttpHeader *headers, size_t n)
{
	const HttpHeader *ct = NULL;
	const char *v;
	size_t		len,
				i;

	for (i = 0; i < n; i++)
	{
		if (!equals_ci(headers[i].name, headers[i].name_len, "content-type"))
			continue;
		if (ct != NULL)
			return false;
		ct = &headers[i];
	}
	if (ct == NULL)
		return false;
	v = ct->value;
	len = ct->value_len;
	for (i = 0; i < len && v[i] != ';'; i++)
		;
	len = i;
	while (len > 0 && (*v == ' ' || *v == '\t'))
	{
		v++;
		len--;
	}
	while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t'))
		len--;
	return equals_ci(v, len, "application/x-www-form-urlencoded");
}

/* A Content-Length value: digits only, no overflow. */
bool
request_content_length(const char *s, uint64_t *out)
{
	uint64_t	v = 0;

	if (*s == '\0')
		return false;
	for (; *s; s++)
	{
		if (*s < '0' || *s > '9')
			return false;
		if (v > (UINT64_MAX - 9) / 10)
			return false;
		v = v * 10 + (uint64_t) (*s - '0');
	}
	*out = v;
	return true;
}

/* RFC 9110 token characters: what a header name may be made of. */
bool
response_header_name_valid(const char *s)
{
	static const char extra[] = "!#$%&'*+-.^_`|~";

	if (*s == '\0')
		return false;
	for (; *s; s++)
	{
		unsigned char ch = (unsigned char) *s;

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			  (ch >= '0' && ch <= '9') || (ch != '\0' && strchr(extra, ch) != NULL)))
			return false;
	}
	return true;
}

/* A header value: no control character but HTAB, so no header injection. */
bool
response_header_value_valid(const char *s)
{
	for (; *s; s++)
	{
		unsigned char ch = (unsigned char) *s;

		if ((ch < 0x20 && ch != '\t') || ch == 0x7F)
			return false;
	}
	return true;
}

/*
 * Append s for a log line: printable ASCII as is, everything else as
 * \xNN, at most max bytes of input (then "...").  A path cannot forge a
 * log line or smuggle a terminal escape.
 */
void
log_escape(StrBuf *sb, const char *s, size_t len, size_t max)
{
	size_t		i;

	for (i = 0; i < len && i < max; i++)
	{
		unsigned char ch = (unsigned char) s[i];

		if (ch > 0x20 && ch < 0x7F && ch != '\\')
			strbuf_append_char(sb, (char) ch);
		else
		{
			char		hex[5];

			snprintf(hex, sizeof(hex), "\\x%02x", ch);
			strbuf_append(sb, hex, 4);
		}
	}
	if (len > max)
		strbuf_append(sb, "...", 3);
}
