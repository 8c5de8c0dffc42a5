/*
 * sender.h
 *		The HTTP side: POSTs claimed deliveries concurrently (libcurl multi)
 *		and hands back one Outcome per finished attempt.
 */
#ifndef WEBHOOKD_SENDER_H
#define WEBHOOKD_SENDER_H

#include <stdbool.h>

#include "delivery.h"

typedef struct SenderConfig
{
	int			max_connections;	/* kept open for reuse: the concurrency */
	long		connect_timeout_ms;
	long		timeout_ms;		/* the whole attempt */
	bool		allow_private_addresses;	/* the SSRF guard off (tests) */
} SenderConfig;

typedef struct Sender Sender;

extern Sender *sender_create(const SenderConfig *config);
extern void sender_destroy(Sender *s);

/* Start POSTing d; the sender owns d from here.  False if it cannot start. */
extern bool sender_start(Sender *s, Delivery *d);

/* Attempts started and not yet finished. */
extern int	sender_in_flight(const Sender *s);

/*
 * Wait up to timeout_ms for network activity or for one of the nfds
 * descriptors (the database socket, the signal pipe) to become readable,
 * and advance the transfers.
 */
extern void sender_wait(Sender *s, const int *fds, int nfds, int timeout_ms);

/* The next finished attempt's outcome into *out; false when there is none. */
extern bool sender_next_outcome(Sender *s, Outcome *out);

/* Attempts finished so far, and the connections they opened (the others reused one). */
extern void sender_counts(const Sender *s, long *attempts, long *connections);

#endif
