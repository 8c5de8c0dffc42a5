/*
 * json.h
 *		Quoting a string as JSON (pure C, fuzzed by test/fuzz/).
 *
 * The gateway writes JSON (its own error bodies, the request headers
 * object) but never reads any: whether a request body is JSON is decided
 * by PostgreSQL's jsonb (dispatch_check_body in dispatch.c), so there is
 * one grammar, the database's, and no second one to keep in step with it.
 */
#ifndef GATEWAY_JSON_H
#define GATEWAY_JSON_H

#include <stddef.h>

#include "strbuf.h"

extern void json_append_string(StrBuf *sb, const char *s, size_t len);

#endif
