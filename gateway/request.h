/*
 * request.h
 *		The parts of an HTTP request the gateway looks at, as pure C
 *		functions (no libmicrohttpd, no libpq), fuzzed by test/fuzz/.
 *
 * The gateway does not interpret a request: it splits the request target
 * into path and query, gathers the headers into one JSON object with
 * lower-case names, and checks that everything it passes on is text the
 * database accepts.  Routing and every decision happen in api.dispatch.
 */
#ifndef GATEWAY_REQUEST_H
#define GATEWAY_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

typedef struct RequestTarget
{
	const char *path;			/* points into the target; not NUL-terminated */
	size_t		path_len;
	const char *query;			/* after '?', without any '#fragment' */
	size_t		query_len;
} RequestTarget;

typedef struct HttpHeader
{
	const char *name;
	size_t		name_len;
	const char *value;
	size_t		value_len;
} HttpHeader;

extern const char *request_target_split(const char *target, size_t len, RequestTarget *out);
extern size_t request_headers_size(const HttpHeader *headers, size_t n);
extern long request_headers_to_json(StrBuf *sb, const HttpHeader *headers, size_t n);
extern bool request_body_is_form(const HttpHeader *headers, size_t n);
extern bool request_content_length(const char *s, uint64_t *out);
extern bool response_header_name_valid(const char *s);
extern bool response_header_value_valid(const char *s);
extern void log_escape(StrBuf *sb, const char *s, size_t len, size_t max);

#endif
