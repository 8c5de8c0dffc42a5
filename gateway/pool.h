/*
 * pool.h
 *		A fixed-size, thread-safe pool of libpq connections.
 *
 * Connections are opened on first use and reopened when found broken, so
 * the gateway starts while the database is down and recovers by itself
 * once it is back.  A connection is checked before each use: an idle
 * connection whose socket turned readable was told something by the
 * server (in practice: "terminating connection"), and is replaced.
 */
#ifndef GATEWAY_POOL_H
#define GATEWAY_POOL_H

#include <stdbool.h>
#include <stdint.h>

#include <libpq-fe.h>

typedef struct PoolConfig
{
	const char *conninfo;		/* libpq connection string; "" = PG* env vars */
	const char *role;			/* SET ROLE on each new connection; "" = none */
	int			size;			/* number of connections */
	int			acquire_timeout_ms; /* wait for a free connection at most */
	int			connect_timeout_s;	/* libpq connect_timeout (conninfo wins) */
} PoolConfig;

typedef enum PoolStatus
{
	POOL_OK,
	POOL_BUSY,					/* no connection free within the timeout */
	POOL_UNAVAILABLE			/* the database cannot be reached */
} PoolStatus;

/* What the metrics show: the slots now, and totals since start. */
typedef struct PoolStats
{
	int			size;
	int			busy;			/* taken by a request */
	int			idle;			/* free with an open connection */
	uint64_t	waits;			/* acquires that had to wait for a slot */
	uint64_t	wait_timeouts;	/* ... and gave up after the acquire timeout */
	double		wait_seconds;	/* time spent waiting */
	uint64_t	connect_failures;
} PoolStats;

typedef struct Pool Pool;
typedef struct PooledConn
{
	PGconn	   *conn;
	bool		reused;			/* was open before this acquire */
	int			slot;
} PooledConn;

extern Pool *pool_create(const PoolConfig *config);
extern PoolStatus pool_acquire(Pool *pool, PooledConn *out);
extern bool pool_reconnect(Pool *pool, PooledConn *pc);
extern void pool_release(Pool *pool, PooledConn *pc, bool broken);
extern int	pool_size(const Pool *pool);
extern void pool_stats(Pool *pool, PoolStats *out);
extern void pool_destroy(Pool *pool);

#endif
