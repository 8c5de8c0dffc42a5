/*
 * json.h
 *		JSON syntax check and string escaping (pure C, fuzzed by test/fuzz/).
 *
 * The gateway checks the syntax of a request body before it takes a
 * database connection, so a malformed body is a 400 with a message saying
 * where it went wrong.  What the JSON means is the database's business.
 * The check accepts exactly what PostgreSQL's jsonb accepts: RFC 8259 JSON
 * in strict UTF-8, without \u0000 and without unpaired surrogates.
 */
#ifndef GATEWAY_JSON_H
#define GATEWAY_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include "strbuf.h"

/* Deepest nesting of arrays and objects accepted in a request body. */
#define JSON_MAX_DEPTH 64

typedef struct JsonSyntaxError
{
	size_t		offset;			/* byte offset of the problem */
	const char *reason;			/* static text, lower case */
} JsonSyntaxError;

extern bool json_syntax_check(const char *buf, size_t len, JsonSyntaxError *err);
extern void json_append_string(StrBuf *sb, const char *s, size_t len);

#endif
