/*
 * conn_limits.h
 *		Who may hold a connection, and for how long it may take to send a
 *		request.
 *
 * Every accepted connection is registered here.  It is admitted while the
 * gateway holds fewer than max_total admitted connections and its address
 * fewer than max_per_address; otherwise it is marked rejected, and the
 * server answers its request 503 and closes it.  Each connection also has a
 * deadline by which its request (headers and body) must have arrived:
 * timeout_s after it opened or after the previous response, never renewed
 * by a byte that trickles in.  A rejected connection gets REJECTED_GRACE_S.
 * A reaper thread shuts down the socket of a connection past its deadline;
 * libmicrohttpd then sees the end of the stream and closes the connection
 * through its usual path (callbacks, freeing).
 */
#ifndef GATEWAY_CONN_LIMITS_H
#define GATEWAY_CONN_LIMITS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

/* Seconds a rejected connection has to send the request its 503 answers. */
#define REJECTED_GRACE_S 2

typedef enum ConnVerdict
{
	CONN_ADMITTED,
	CONN_GATEWAY_FULL,			/* max_total reached */
	CONN_ADDRESS_FULL			/* max_per_address reached for its address */
} ConnVerdict;

/* What the metrics show (totals since start). */
typedef struct ConnLimitsStats
{
	int			admitted;		/* open admitted connections now */
	int			max_total;
	uint64_t	rejected_gateway_full;	/* connections answered 503 ... */
	uint64_t	rejected_address_full;	/* ... for each reason */
	uint64_t	timed_out;		/* cut: the request did not arrive in time */
} ConnLimitsStats;

typedef struct ConnLimits ConnLimits;
typedef struct Conn Conn;

extern ConnLimits *conn_limits_create(int max_total, int max_per_address, int timeout_s);
extern Conn *conn_limits_open(ConnLimits *cl, const struct sockaddr *addr, int fd);
extern ConnVerdict conn_verdict(const Conn *conn);
extern void conn_limits_received(ConnLimits *cl, Conn *conn);
extern void conn_limits_next_request(ConnLimits *cl, Conn *conn);
extern void conn_limits_close(ConnLimits *cl, Conn *conn);
extern void conn_limits_stats(ConnLimits *cl, ConnLimitsStats *out);
extern void conn_limits_destroy(ConnLimits *cl);

/* What server.c keeps per connection: a request not yet freed, or NULL. */
extern void **conn_request_slot(Conn *conn);

#endif
