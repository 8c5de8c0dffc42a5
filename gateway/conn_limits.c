/*
 * conn_limits.c
 *		Connection admission and request deadlines (see conn_limits.h).
 */
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "conn_limits.h"
#include "log.h"

/* How often the reaper looks for connections past their deadline. */
#define REAPER_TICK_MS 100

struct Conn
{
	Conn	   *prev;
	Conn	   *next;
	struct sockaddr_storage addr;
	int			fd;
	ConnVerdict verdict;
	bool		receiving;		/* a request is due: the deadline applies */
	bool		cut;			/* the reaper shut its socket down */
	struct timespec deadline;
	void	   *request;		/* server.c's, see conn_request_slot() */
};

struct ConnLimits
{
	pthread_mutex_t lock;
	pthread_cond_t wake;		/* stop the reaper */
	Conn		list;			/* circular, list.next is the oldest */
	int			admitted;
	int			max_total;
	int			max_per_address;
	int			timeout_s;
	bool		stopping;
	pthread_t	reaper;
	/* for the metrics (conn_limits_stats) */
	uint64_t	rejected_gateway_full;
	uint64_t	rejected_address_full;
	uint64_t	timed_out;
};

static bool
same_address(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return memcmp(&((const struct sockaddr_in *) a)->sin_addr,
					  &((const struct sockaddr_in *) b)->sin_addr,
					  sizeof(struct in_addr)) == 0;
	if (a->ss_family == AF_INET6)
		return memcmp(&((const struct sockaddr_in6 *) a)->sin6_addr,
					  &((const struct sockaddr_in6 *) b)->sin6_addr,
					  sizeof(struct in6_addr)) == 0;
	return false;
}

static struct timespec
in_seconds(int seconds)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	t.tv_sec += seconds;
	return t;
}

static bool
passed(const struct timespec *deadline, const struct timespec *now)
{
	return now->tv_sec > deadline->tv_sec ||
		(now->tv_sec == deadline->tv_sec && now->tv_nsec >= deadline->tv_nsec);
}

/*
 * Shut down the sockets of connections past their deadline.  The Conn
 * stays registered until libmicrohttpd reports the close, which happens
 * before it closes the descriptor, so the descriptor shut down here is
 * always still this connection's.
 */
static void *
reaper_main(void *arg)
{
	ConnLimits *cl = arg;

	pthread_mutex_lock(&cl->lock);
	while (!cl->stopping)
	{
		struct timespec now,
					wake;
		Conn	   *c;
		int			cut = 0;

		clock_gettime(CLOCK_MONOTONIC, &now);
		for (c = cl->list.next; c != &cl->list; c = c->next)
		{
			if (!c->receiving || c->cut || !passed(&c->deadline, &now))
				continue;
			shutdown(c->fd, SHUT_RDWR);
			c->cut = true;
			cut++;
		}
		cl->timed_out += cut;
		if (cut > 0)
			log_msg("closed %d connection(s) whose request did not arrive in time", cut);
		wake = now;
		wake.tv_nsec += REAPER_TICK_MS * 1000000L;
		if (wake.tv_nsec >= 1000000000L)
		{
			wake.tv_sec++;
			wake.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&cl->wake, &cl->lock, &wake);
	}
	pthread_mutex_unlock(&cl->lock);
	return NULL;
}

ConnLimits *
conn_limits_create(int max_total, int max_per_address, int timeout_s)
{
	ConnLimits *cl = calloc(1, sizeof(ConnLimits));
	pthread_condattr_t attr;

	if (cl == NULL)
		return NULL;
	cl->list.next = cl->list.prev = &cl->list;
	cl->max_total = max_total;
	cl->max_per_address = max_per_address;
	cl->timeout_s = timeout_s;
	pthread_mutex_init(&cl->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&cl->wake, &attr);
	pthread_condattr_destroy(&attr);
	if (pthread_create(&cl->reaper, NULL, reaper_main, cl) != 0)
	{
		pthread_cond_destroy(&cl->wake);
		pthread_mutex_destroy(&cl->lock);
		free(cl);
		return NULL;
	}
	return cl;
}

/* Register a new connection and decide whether it is admitted. */
Conn *
conn_limits_open(ConnLimits *cl, const struct sockaddr *addr, int fd)
{
	Conn	   *conn = calloc(1, sizeof(Conn));
	Conn	   *c;
	int			same = 0;

	if (conn == NULL)
		return NULL;
	if (addr != NULL)
		memcpy(&conn->addr, addr, addr->sa_family == AF_INET6 ?
			   sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
	conn->fd = fd;
	conn->receiving = true;

	pthread_mutex_lock(&cl->lock);
	for (c = cl->list.next; c != &cl->list; c = c->next)
		if (c->verdict == CONN_ADMITTED && same_address(&c->addr, &conn->addr))
			same++;
	if (cl->admitted >= cl->max_total)
	{
		conn->verdict = CONN_GATEWAY_FULL;
		cl->rejected_gateway_full++;
	}
	else if (same >= cl->max_per_address)
	{
		conn->verdict = CONN_ADDRESS_FULL;
		cl->rejected_address_full++;
	}
	else
	{
		conn->verdict = CONN_ADMITTED;
		cl->admitted++;
	}
	conn->deadline = in_seconds(conn->verdict == CONN_ADMITTED ?
								cl->timeout_s : REJECTED_GRACE_S);
	conn->prev = cl->list.prev;
	conn->next = &cl->list;
	cl->list.prev->next = conn;
	cl->list.prev = conn;
	pthread_mutex_unlock(&cl->lock);
	return conn;
}

ConnVerdict
conn_verdict(const Conn *conn)
{
	return conn->verdict;
}

/* The request is in: no deadline while it is served. */
void
conn_limits_received(ConnLimits *cl, Conn *conn)
{
	pthread_mutex_lock(&cl->lock);
	conn->receiving = false;
	pthread_mutex_unlock(&cl->lock);
}

/* A response is done: the next request on this connection is due in time. */
void
conn_limits_next_request(ConnLimits *cl, Conn *conn)
{
	pthread_mutex_lock(&cl->lock);
	conn->receiving = true;
	conn->deadline = in_seconds(conn->verdict == CONN_ADMITTED ?
								cl->timeout_s : REJECTED_GRACE_S);
	pthread_mutex_unlock(&cl->lock);
}

void
conn_limits_close(ConnLimits *cl, Conn *conn)
{
	pthread_mutex_lock(&cl->lock);
	conn->prev->next = conn->next;
	conn->next->prev = conn->prev;
	if (conn->verdict == CONN_ADMITTED)
		cl->admitted--;
	pthread_mutex_unlock(&cl->lock);
	free(conn);
}

void
conn_limits_stats(ConnLimits *cl, ConnLimitsStats *out)
{
	pthread_mutex_lock(&cl->lock);
	out->admitted = cl->admitted;
	out->max_total = cl->max_total;
	out->rejected_gateway_full = cl->rejected_gateway_full;
	out->rejected_address_full = cl->rejected_address_full;
	out->timed_out = cl->timed_out;
	pthread_mutex_unlock(&cl->lock);
}

void
conn_limits_destroy(ConnLimits *cl)
{
	pthread_mutex_lock(&cl->lock);
	cl->stopping = true;
	pthread_cond_signal(&cl->wake);
	pthread_mutex_unlock(&cl->lock);
	pthread_join(cl->reaper, NULL);
	/* libmicrohttpd has closed every connection by now */
	pthread_cond_destroy(&cl->wake);
	pthread_mutex_destroy(&cl->lock);
	free(cl);
}

void	  **
conn_request_slot(Conn *conn)
{
	return &conn->request;
}
