/*
 * openapi.h
 *		docs/openapi.yaml as JSON, embedded at build time
 *		(gateway/openapi_json.c, written by gateway/embed-openapi.py).
 */
#ifndef GATEWAY_OPENAPI_H
#define GATEWAY_OPENAPI_H

#include <stddef.h>

extern const char gateway_openapi_json[];
extern const size_t gateway_openapi_json_len;

#endif
