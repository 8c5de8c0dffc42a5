/*
 * log.h
 *		orders-webhookd's log: one line per event on stderr, with a UTC time.
 *
 * Lines name deliveries by their id, attempt and webhook-id, never by URL
 * (a URL may carry a token), and never carry a body, a signature or the
 * connection string.
 */
#ifndef WEBHOOKD_LOG_H
#define WEBHOOKD_LOG_H

extern void log_msg(const char *fmt,...) __attribute__((format(printf, 1, 2)));

#endif
