/*
 * fuzz_gateway.c
 *		libFuzzer target for the gateway's request handling (gateway/json.c,
 *		gateway/utf8.c, gateway/request.c, the route of gateway/metrics.c).
 *
 * Properties checked on every input:
 * - nothing reads out of bounds (ASan);
 * - json_append_string's output holds no control character and reads back
 *   (JSON string escapes undone) as the input;
 * - the headers object built from the input, split into "name: value"
 *   lines, is one {...} without a control character whenever it is built;
 * - the request target split stays inside the target;
 * - escaped log text holds only printable ASCII;
 * - a path's metrics route is one of the API document's templates or
 *   "unmatched" (a bounded label, whatever the path).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../gateway/json.h"
#include "../../gateway/metrics.h"
#include "../../gateway/openapi.h"
#include "../../gateway/request.h"
#include "../../gateway/strbuf.h"
#include "../../gateway/utf8.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_HEADERS 32

/* No byte below 0x20 and no DEL: JSON text a log or a client can take. */
static bool
no_control(const char *s, size_t len)
{
	size_t		i;

	for (i = 0; i < len; i++)
		if ((unsigned char) s[i] < 0x20 || (unsigned char) s[i] == 0x7F)
			return false;
	return true;
}

/*
 * Undo the escapes json_append_string writes (\" \\ \n \r \t \u00XX)
 * of a quoted string; false if it is not one.
 */
static bool
unquote(const char *q, size_t len, StrBuf *out)
{
	size_t		i;

	if (len < 2 || q[0] != '"' || q[len - 1] != '"')
		return false;
	for (i = 1; i < len - 1; i++)
	{
		char		ch = q[i];

		if (ch == '"')
			return false;
		if (ch == '\\')
		{
			if (++i >= len - 1)
				return false;
			switch (q[i])
			{
				case '"': ch = '"'; break;
				case '\\': ch = '\\'; break;
				case 'n': ch = '\n'; break;
				case 'r': ch = '\r'; break;
				case 't': ch = '\t'; break;
				case 'u':
					if (i + 4 >= len - 1 || strncmp(q + i + 1, "00", 2) != 0)
						return false;
					ch = (char) strtol((char[3]) {q[i + 3], q[i + 4], 0}, NULL, 16);
					i += 4;
					break;
				default:
					return false;
			}
		}
		strbuf_append_char(out, ch);
	}
	return true;
}

static void
check_quoted(const char *s, size_t len)
{
	StrBuf		sb = STRBUF_INIT,
				back = STRBUF_INIT;

	json_append_string(&sb, s, len);
	if (strbuf_ok(&sb) &&
		(!no_control(sb.data, sb.len) || !unquote(sb.data, sb.len, &back) ||
		 (strbuf_ok(&back) && (back.len != len || (len > 0 && memcmp(back.data, s, len) != 0)))))
		abort();
	strbuf_free(&sb);
	strbuf_free(&back);
}

/* Each line of the input "name: value" is a header. */
static void
check_headers(const char *s, size_t len)
{
	HttpHeader	h[MAX_HEADERS];
	size_t		n = 0,
				pos = 0;
	StrBuf		sb = STRBUF_INIT;

	while (pos < len && n < MAX_HEADERS)
	{
		const char *line = s + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t		line_len = nl ? (size_t) (nl - line) : len - pos;
		const char *colon = memchr(line, ':', line_len);

		if (colon != NULL)
		{
			h[n].name = line;
			h[n].name_len = colon - line;
			h[n].value = colon + 1;
			h[n].value_len = line_len - h[n].name_len - 1;
			n++;
		}
		pos += line_len + 1;
	}
	if (request_headers_size(h, n) < n * 4)
		abort();
	if (request_headers_to_json(&sb, h, n) < 0 && strbuf_ok(&sb) &&
		(sb.len < 2 || sb.data[0] != '{' || sb.data[sb.len - 1] != '}' ||
		 !no_control(sb.data, sb.len)))
		abort();
	/* a form needs a Content-Type header: no headers, no form */
	if (request_body_is_form(h, n) && n == 0)
		abort();
	strbuf_free(&sb);
}

static void
check_target(const char *s, size_t len)
{
	RequestTarget t;

	if (request_target_split(s, len, &t) != NULL)
		return;
	if (t.path != s || t.path_len > len || t.path_len == 0 ||
		t.query < s || t.query + t.query_len > s + len ||
		memchr(t.path, '?', t.path_len) != NULL)
		abort();
}

static void
check_log(const char *s, size_t len)
{
	StrBuf		sb = STRBUF_INIT;
	size_t		i;

	log_escape(&sb, s, len, 100);
	for (i = 0; i < sb.len; i++)
		if ((unsigned char) sb.data[i] <= 0x20 || (unsigned char) sb.data[i] >= 0x7F)
			abort();
	strbuf_free(&sb);
}

/* The NUL-terminated checks: response headers and Content-Length. */
static void
check_cstring(const char *s, size_t len)
{
	char	   *z = malloc(len + 1);
	uint64_t	v;

	if (z == NULL)
		return;
	memcpy(z, s, len);
	z[len] = '\0';
	if (response_header_value_valid(z) && (strchr(z, '\r') || strchr(z, '\n')))
		abort();
	if (response_header_name_valid(z) && (strchr(z, ' ') || strchr(z, ':')))
		abort();
	if (request_content_length(z, &v) && strspn(z, "0123456789") != strlen(z))
		abort();
	free(z);
}

static void
check_route(const char *s, size_t size)
{
	const char *route = metrics_route_of(s, size);
	int			i;

	if (strcmp(route, "unmatched") == 0)
		return;
	for (i = 0; i < gateway_route_count; i++)
		if (route == gateway_route_templates[i])
			return;
	abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *) data;

	check_quoted(s, size);
	check_headers(s, size);
	check_target(s, size);
	check_log(s, size);
	check_cstring(s, size);
	check_route(s, size);
	return 0;
}
