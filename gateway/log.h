/*
 * log.h
 *		The gateway's log: one line per event on stderr, with a UTC time.
 *
 * Request lines carry method, path (without the query string), status and
 * duration: never a header, never a body, so no secret and no voucher code
 * can reach the log through them.
 */
#ifndef GATEWAY_LOG_H
#define GATEWAY_LOG_H

#include <stddef.h>

extern void log_msg(const char *fmt,...) __attribute__((format(printf, 1, 2)));
extern void log_request(const char *method, const char *path, size_t path_len,
						int status, double duration_ms, const char *note);

#endif
