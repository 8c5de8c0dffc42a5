/*
 * fuzz_gateway.c
 *		libFuzzer target for the gateway's request parsing (gateway/json.c,
 *		gateway/utf8.c, gateway/request.c).
 *
 * Properties checked on every input:
 * - nothing reads out of bounds (ASan);
 * - the JSON check stops inside the input when it fails;
 * - valid UTF-8, quoted by json_append_string, is a valid JSON document;
 * - the headers object built from the input, split into "name: value"
 *   lines, is a valid JSON document whenever it is built;
 * - the request target split stays inside the target;
 * - escaped log text holds only printable ASCII.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../gateway/json.h"
#include "../../gateway/request.h"
#include "../../gateway/strbuf.h"
#include "../../gateway/utf8.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_HEADERS 32

static void
check_json(const char *s, size_t len)
{
	JsonSyntaxError err;

	if (!json_syntax_check(s, len, &err) && (err.offset > len || err.reason == NULL))
		abort();
}

static void
check_quoted(const char *s, size_t len)
{
	StrBuf		sb = STRBUF_INIT;
	JsonSyntaxError err;

	if (!utf8_valid(s, len))
		return;
	json_append_string(&sb, s, len);
	if (strbuf_ok(&sb) && !json_syntax_check(sb.data, sb.len, &err))
		abort();
	strbuf_free(&sb);
}

/* Each line of the input "name: value" is a header. */
static void
check_headers(const char *s, size_t len)
{
	HttpHeader	h[MAX_HEADERS];
	size_t		n = 0,
				pos = 0;
	StrBuf		sb = STRBUF_INIT;
	JsonSyntaxError err;

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
		!json_syntax_check(sb.data, sb.len, &err))
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

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *) data;

	check_json(s, size);
	check_quoted(s, size);
	check_headers(s, size);
	check_target(s, size);
	check_log(s, size);
	check_cstring(s, size);
	return 0;
}
