/*
 * pool.c
 *		A fixed-size, thread-safe pool of libpq connections (see pool.h).
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "pool.h"

struct Pool
{
	PoolConfig	config;
	pthread_mutex_t lock;
	pthread_cond_t freed;
	PGconn	  **conns;			/* NULL: not connected */
	bool	   *in_use;
	bool		db_down;		/* last connect failed: log transitions only */
	/* for the metrics (pool_stats) */
	uint64_t	waits;			/* acquires that found no free slot */
	uint64_t	wait_timeouts;	/* ... and gave up (503) */
	uint64_t	wait_us;		/* time spent waiting, microseconds */
	uint64_t	connect_failures;
};

Pool *
pool_create(const PoolConfig *config)
{
	Pool	   *pool = calloc(1, sizeof(Pool));
	pthread_condattr_t attr;

	if (pool == NULL)
		return NULL;
	pool->config = *config;
	pool->conns = calloc(config->size, sizeof(PGconn *));
	pool->in_use = calloc(config->size, sizeof(bool));
	if (pool->conns == NULL || pool->in_use == NULL)
	{
		free(pool->conns);
		free(pool->in_use);
		free(pool);
		return NULL;
	}
	pthread_mutex_init(&pool->lock, NULL);
	/* timed waits on the monotonic clock: immune to clock changes */
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&pool->freed, &attr);
	pthread_condattr_destroy(&attr);
	return pool;
}

int
pool_size(const Pool *pool)
{
	return pool->config.size;
}

/*
 * Is this idle connection still usable?  Nothing should arrive on an idle
 * connection of ours (the gateway never LISTENs), so readable means the
 * server is closing it or already has.
 */
static bool
conn_usable(PGconn *conn)
{
	struct pollfd pfd;

	if (PQstatus(conn) != CONNECTION_OK ||
		PQtransactionStatus(conn) != PQTRANS_IDLE)
		return false;
	pfd.fd = PQsocket(conn);
	pfd.events = POLLIN;
	pfd.revents = 0;
	if (pfd.fd < 0)
		return false;
	return poll(&pfd, 1, 0) == 0;
}

static void
note_db_state(Pool *pool, bool down, const char *why)
{
	bool		changed;

	pthread_mutex_lock(&pool->lock);
	if (down)
		pool->connect_failures++;
	changed = pool->db_down != down;
	pool->db_down = down;
	pthread_mutex_unlock(&pool->lock);
	if (changed && down)
		log_msg("database unavailable: %s", why);
	else if (changed)
		log_msg("database connection restored");
}

/*
 * Notices and warnings of the server (api.dispatch logs failures as
 * WARNINGs) are not the gateway's to print: they are in the server log,
 * and libpq's default would copy them, messages and all, to our stderr.
 */
static void
ignore_notice(void *arg, const char *message)
{
	(void) arg;
	(void) message;
}

/* A new connection, with the role set; NULL (and logged) on failure. */
static PGconn *
pool_connect(Pool *pool)
{
	char		timeout[16];
	/* conninfo comes last, so whatever it says wins over our defaults */
	const char *keywords[] = {"fallback_application_name", "connect_timeout", "dbname", NULL};
	const char *values[] = {"orders-gateway", timeout, pool->config.conninfo, NULL};
	PGconn	   *conn;
	char		why[256];

	snprintf(timeout, sizeof(timeout), "%d", pool->config.connect_timeout_s);
	conn = PQconnectdbParams(keywords, values, 1);
	if (conn == NULL)
	{
		note_db_state(pool, true, "out of memory");
		return NULL;
	}
	if (PQstatus(conn) != CONNECTION_OK)
	{
		/* libpq's message names host and port, never the password */
		snprintf(why, sizeof(why), "%s", PQerrorMessage(conn));
		why[strcspn(why, "\n")] = '\0';
		note_db_state(pool, true, why);
		PQfinish(conn);
		return NULL;
	}
	PQsetNoticeProcessor(conn, ignore_notice, NULL);
	if (pool->config.role[0] != '\0')
	{
		const char *params[1] = {pool->config.role};
		PGresult   *res = PQexecParams(conn,
									   "SELECT pg_catalog.set_config('role', $1, false)",
									   1, NULL, params, NULL, NULL, 0);

		if (PQresultStatus(res) != PGRES_TUPLES_OK)
		{
			snprintf(why, sizeof(why), "cannot switch to role \"%s\": %s",
					 pool->config.role, PQresultErrorMessage(res));
			why[strcspn(why, "\n")] = '\0';
			note_db_state(pool, true, why);
			PQclear(res);
			PQfinish(conn);
			return NULL;
		}
		PQclear(res);
	}
	note_db_state(pool, false, NULL);
	return conn;
}

static uint64_t
elapsed_us(const struct timespec *since)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (uint64_t) ((now.tv_sec - since->tv_sec) * 1000000L +
					   (now.tv_nsec - since->tv_nsec) / 1000);
}

/*
 * Take a connection: wait for a free slot (at most acquire_timeout_ms),
 * then make sure its connection is open and healthy.
 */
PoolStatus
pool_acquire(Pool *pool, PooledConn *out)
{
	struct timespec deadline,
				start;
	int			slot = -1;
	int			i;
	bool		waited = false;
	PGconn	   *conn;

	clock_gettime(CLOCK_MONOTONIC, &start);
	deadline = start;
	deadline.tv_sec += pool->config.acquire_timeout_ms / 1000;
	deadline.tv_nsec += (long) (pool->config.acquire_timeout_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L)
	{
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}

	pthread_mutex_lock(&pool->lock);
	for (;;)
	{
		/* prefer an open connection, then any free slot */
		for (i = 0; i < pool->config.size && slot < 0; i++)
			if (!pool->in_use[i] && pool->conns[i] != NULL)
				slot = i;
		for (i = 0; i < pool->config.size && slot < 0; i++)
			if (!pool->in_use[i])
				slot = i;
		if (slot >= 0)
			break;
		if (!waited)
		{
			waited = true;
			pool->waits++;
		}
		if (pthread_cond_timedwait(&pool->freed, &pool->lock, &deadline) == ETIMEDOUT)
		{
			pool->wait_timeouts++;
			pool->wait_us += elapsed_us(&start);
			pthread_mutex_unlock(&pool->lock);
			return POOL_BUSY;
		}
	}
	if (waited)
		pool->wait_us += elapsed_us(&start);
	pool->in_use[slot] = true;
	conn = pool->conns[slot];
	pool->conns[slot] = NULL;	/* owned by the caller until release */
	pthread_mutex_unlock(&pool->lock);

	out->slot = slot;
	out->reused = conn != NULL;
	if (conn != NULL && !conn_usable(conn))
	{
		PQfinish(conn);
		conn = NULL;
		out->reused = false;
	}
	if (conn == NULL)
		conn = pool_connect(pool);
	out->conn = conn;
	if (conn == NULL)
	{
		pool_release(pool, out, true);
		return POOL_UNAVAILABLE;
	}
	return POOL_OK;
}

/* Replace the caller's connection by a new one; false if none can be had. */
bool
pool_reconnect(Pool *pool, PooledConn *pc)
{
	if (pc->conn != NULL)
		PQfinish(pc->conn);
	pc->conn = pool_connect(pool);
	pc->reused = false;
	return pc->conn != NULL;
}

/* Give a connection back; a broken one is closed and reopened on next use. */
void
pool_release(Pool *pool, PooledConn *pc, bool broken)
{
	if (broken && pc->conn != NULL)
	{
		PQfinish(pc->conn);
		pc->conn = NULL;
	}
	pthread_mutex_lock(&pool->lock);
	pool->conns[pc->slot] = pc->conn;
	pool->in_use[pc->slot] = false;
	pthread_cond_signal(&pool->freed);
	pthread_mutex_unlock(&pool->lock);
	pc->conn = NULL;
}

void
pool_stats(Pool *pool, PoolStats *out)
{
	int			i;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&pool->lock);
	out->size = pool->config.size;
	for (i = 0; i < pool->config.size; i++)
	{
		if (pool->in_use[i])
			out->busy++;
		else if (pool->conns[i] != NULL)
			out->idle++;
	}
	out->waits = pool->waits;
	out->wait_timeouts = pool->wait_timeouts;
	out->wait_seconds = pool->wait_us / 1e6;
	out->connect_failures = pool->connect_failures;
	pthread_mutex_unlock(&pool->lock);
}

void
pool_destroy(Pool *pool)
{
	int			i;

	for (i = 0; i < pool->config.size; i++)
		if (pool->conns[i] != NULL)
			PQfinish(pool->conns[i]);
	pthread_cond_destroy(&pool->freed);
	pthread_mutex_destroy(&pool->lock);
	free(pool->conns);
	free(pool->in_use);
	free(pool);
}
