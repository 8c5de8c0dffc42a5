/*
 * db.h
 *		orders-webhookd's database side: one libpq connection that LISTENs
 *		on orders_webhooks, claims due deliveries (orders.webhook_claim) and
 *		reports outcomes (orders.webhook_report), reconnecting with backoff
 *		when the server goes away.
 */
#ifndef WEBHOOKD_DB_H
#define WEBHOOKD_DB_H

#include <stdbool.h>
#include <libpq-fe.h>

#include "delivery.h"

typedef struct Db
{
	const char *conninfo;
	const char *label;			/* prefix of its log lines: "" or "database N: " */
	PGconn	   *conn;			/* NULL while disconnected */
	double		backoff_s;		/* before the next connection attempt */
	double		next_connect_at;	/* monotonic seconds */
} Db;

/* Seconds on a monotonic clock. */
extern double monotonic_now(void);

extern void db_init(Db *db, const char *conninfo, const char *label);
extern void db_close(Db *db);

/*
 * Connect and LISTEN if disconnected and the backoff has passed; true when
 * this call made a new connection.
 */
extern bool db_connect(Db *db);

/* The connection's socket, or -1 while disconnected. */
extern int	db_socket(const Db *db);

/* Read what the server sent; true if a notification arrived. */
extern bool db_notified(Db *db);

/*
 * The fan-out (orders.webhook_enqueue), in its own transaction: new outbox
 * events into deliveries.  The number of deliveries created, or -1 on
 * error.
 */
extern int	db_enqueue(Db *db);

/*
 * Claim up to max deliveries for sender with a lease of lease_s seconds
 * into out[] (the caller owns them); the number claimed, or -1 on error.
 */
extern int	db_claim(Db *db, const char *sender, int max, double lease_s,
					 Delivery **out);

/*
 * Report n outcomes in one statement.  False only when the connection was
 * lost (they can be reported again after reconnecting); an error of the
 * call itself is logged and the outcomes dropped (their leases run out and
 * the deliveries are claimed again, with the same webhook-id).
 */
extern bool db_report(Db *db, const Outcome *o, int n);

#endif
