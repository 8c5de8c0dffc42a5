/*
 * openapi.h
 *		docs/openapi.yaml as JSON, embedded at build time
 *		(gateway/openapi_json.c, written by gateway/embed-openapi.py),
 *		and its path templates, the routes the metrics count by.
 */
#ifndef GATEWAY_OPENAPI_H
#define GATEWAY_OPENAPI_H

#include <stddef.h>

extern const char gateway_openapi_json[];
extern const size_t gateway_openapi_json_len;

/* The document's paths, e.g. "/api/v1/orders/{id}", sorted. */
extern const char *const gateway_route_templates[];
extern const int gateway_route_count;

#endif
