/*
 * metrics.h
 *		The gateway's request metrics and the Prometheus text format
 *		(version 0.0.4) they are written in (docs/metrics.md).
 *
 * Requests are counted by route, method and status, and their durations
 * in a histogram by route and method.  The route is the template of the
 * API document's path the request matched ("/api/v1/orders/{id}"), or
 * "unmatched": never the raw path, so the number of series is bounded
 * whatever clients send.  Every counter is an atomic in one block
 * allocated at start: recording a request takes no lock and allocates
 * nothing, from any of libmicrohttpd's connection threads.
 */
#ifndef GATEWAY_METRICS_H
#define GATEWAY_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

typedef struct RequestMetrics RequestMetrics;

extern RequestMetrics *request_metrics_create(void);
extern void request_metrics_destroy(RequestMetrics *m);

/* A request answered with status (0: no answer was sent) after seconds. */
extern void request_metrics_observe(RequestMetrics *m, const char *method,
									const char *path, size_t path_len,
									int status, double seconds);
extern void request_metrics_write(RequestMetrics *m, StrBuf *out);

/* The route label of a raw request path (exposed for the fuzzer). */
extern const char *metrics_route_of(const char *path, size_t path_len);

/* The process' own figures: CPU, memory, descriptors, start time (given). */
extern void metrics_write_process(StrBuf *out, double start_time);

/*
 * Writing the text format: a family's # HELP and # TYPE lines, then its
 * samples; labels are written already formatted ("" or "{a=\"b\"}") and
 * are the caller's constants or route templates, which need no escaping.
 */
extern void metrics_family(StrBuf *out, const char *name, const char *type,
						   const char *help);
extern void metrics_sample(StrBuf *out, const char *name, const char *labels,
						   double value);
extern void metrics_sample_count(StrBuf *out, const char *name,
								 const char *labels, uint64_t value);
/* A family of one sample without labels. */
extern void metrics_single(StrBuf *out, const char *name, const char *type,
						   const char *help, double value);

#endif
