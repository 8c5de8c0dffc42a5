/*
 * db.c
 *		orders-webhookd's database side (see db.h).
 *
 * libpq calls are synchronous: claims and reports are short statements on a
 * nearby server, and a lost connection fails them at once.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db.h"
#include "log.h"

#define BACKOFF_MIN_S 0.25
#define BACKOFF_MAX_S 10.0

double
monotonic_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

void
db_init(Db *db, const char *conninfo, const char *label)
{
	memset(db, 0, sizeof(Db));
	db->conninfo = conninfo;
	db->label = label;
	db->backoff_s = BACKOFF_MIN_S;
}

void
db_close(Db *db)
{
	if (db->conn != NULL)
		PQfinish(db->conn);
	db->conn = NULL;
}

/* The first line of libpq's message (the rest is detail or context). */
static void
log_pq_error(const Db *db, const char *what, const char *message)
{
	size_t		len = strcspn(message, "\n");

	log_msg("%s%s: %.*s", db->label, what, (int) len, message);
}

/* After an error: drop the connection if it is gone; true if so. */
static bool
lost(Db *db)
{
	if (db->conn == NULL)
		return true;
	if (PQstatus(db->conn) == CONNECTION_OK)
		return false;
	log_msg("%slost the database connection; reconnecting in %.2f s", db->label, db->backoff_s);
	db_close(db);
	db->next_connect_at = monotonic_now() + db->backoff_s;
	return true;
}

/* Server notices and warnings (e.g. a message that could not be signed) into the log. */
static void
log_notice(void *arg, const char *message)
{
	log_pq_error((const Db *) arg, "server", message);
}

bool
db_connect(Db *db)
{
	const char *keywords[] = {"dbname", "fallback_application_name", NULL};
	const char *values[] = {db->conninfo, "orders-webhookd", NULL};
	PGresult   *res;

	if (db->conn != NULL || monotonic_now() < db->next_connect_at)
		return false;
	db->conn = PQconnectdbParams(keywords, values, 1);
	if (PQstatus(db->conn) == CONNECTION_OK)
	{
		PQsetNoticeProcessor(db->conn, log_notice, db);
		res = PQexec(db->conn, "LISTEN orders_webhooks");
		if (PQresultStatus(res) == PGRES_COMMAND_OK)
		{
			PQclear(res);
			log_msg("%sconnected to the database, listening on orders_webhooks", db->label);
			db->backoff_s = BACKOFF_MIN_S;
			return true;
		}
		log_pq_error(db, "LISTEN orders_webhooks failed", PQerrorMessage(db->conn));
		PQclear(res);
	}
	else
		log_pq_error(db, "cannot connect to the database", PQerrorMessage(db->conn));
	db_close(db);
	db->next_connect_at = monotonic_now() + db->backoff_s;
	log_msg("%snext connection attempt in %.2f s", db->label, db->backoff_s);
	db->backoff_s = db->backoff_s * 2 > BACKOFF_MAX_S ? BACKOFF_MAX_S : db->backoff_s * 2;
	return false;
}

int
db_socket(const Db *db)
{
	return db->conn != NULL ? PQsocket(db->conn) : -1;
}

bool
db_notified(Db *db)
{
	PGnotify   *n;
	bool		any = false;

	if (db->conn == NULL)
		return false;
	if (!PQconsumeInput(db->conn))
	{
		lost(db);
		return false;
	}
	while ((n = PQnotifies(db->conn)) != NULL)
	{
		any = true;
		PQfreemem(n);
	}
	return any;
}

int
db_enqueue(Db *db)
{
	PGresult   *res;
	int			n;

	if (db->conn == NULL)
		return -1;
	/* autocommit: the fan-out's own short transaction, apart from claims */
	res = PQexec(db->conn, "SELECT orders.webhook_enqueue()");
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
	{
		if (!lost(db))
			log_pq_error(db, "orders.webhook_enqueue failed", PQerrorMessage(db->conn));
		PQclear(res);
		return -1;
	}
	n = atoi(PQgetvalue(res, 0, 0));
	PQclear(res);
	return n;
}

static char *
dup_value(const PGresult *res, int row, int col)
{
	return strdup(PQgetvalue(res, row, col));
}

int
db_claim(Db *db, const char *sender, int max, double lease_s, Delivery **out)
{
	char		max_text[16];
	char		lease_text[32];
	const char *params[3];
	PGresult   *res;
	int			n,
				i;

	if (db->conn == NULL)
		return -1;
	snprintf(max_text, sizeof(max_text), "%d", max);
	snprintf(lease_text, sizeof(lease_text), "%.3f seconds", lease_s);
	params[0] = sender;
	params[1] = max_text;
	params[2] = lease_text;
	res = PQexecParams(db->conn,
					   "SELECT delivery_id, attempt, url, webhook_id, webhook_timestamp,"
					   " webhook_signature, body"
					   " FROM orders.webhook_claim($1, $2::integer, $3::interval)",
					   3, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		if (!lost(db))
			log_pq_error(db, "orders.webhook_claim failed", PQerrorMessage(db->conn));
		PQclear(res);
		return -1;
	}
	n = PQntuples(res);
	if (n > max)
		n = max;
	for (i = 0; i < n; i++)
	{
		Delivery   *d = calloc(1, sizeof(Delivery));

		if (d != NULL)
		{
			d->delivery_id = strtoll(PQgetvalue(res, i, 0), NULL, 10);
			d->attempt = atoi(PQgetvalue(res, i, 1));
			d->url = dup_value(res, i, 2);
			d->webhook_id = dup_value(res, i, 3);
			d->webhook_timestamp = strtoll(PQgetvalue(res, i, 4), NULL, 10);
			d->webhook_signature = dup_value(res, i, 5);
			d->body = dup_value(res, i, 6);
			d->body_len = (size_t) PQgetlength(res, i, 6);
		}
		if (d == NULL || d->url == NULL || d->webhook_id == NULL ||
			d->webhook_signature == NULL || d->body == NULL)
		{
			/* out of memory: the lease runs out and it is claimed again */
			log_msg("%sout of memory for claimed delivery %s", db->label, PQgetvalue(res, i, 0));
			delivery_free(d);
			d = NULL;
		}
		out[i] = d;
	}
	PQclear(res);
	return n;
}

/* Append to buf (size bytes) at *len; false when it does not fit. */
static bool
append(char *buf, size_t size, size_t *len, const char *fmt,...)
{
	va_list		ap;
	int			n;

	va_start(ap, fmt);
	n = vsnprintf(buf + *len, size - *len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t) n >= size - *len)
		return false;
	*len += n;
	return true;
}

/* An element of a text[] literal: NULL, or double-quoted with \ and " escaped. */
static bool
append_text_element(char *buf, size_t size, size_t *len, const char *s)
{
	if (s[0] == '\0')
		return append(buf, size, len, "NULL");
	if (!append(buf, size, len, "\""))
		return false;
	for (; *s; s++)
		if (!append(buf, size, len, (*s == '"' || *s == '\\') ? "\\%c" : "%c", *s))
			return false;
	return append(buf, size, len, "\"");
}

bool
db_report(Db *db, const Outcome *o, int n)
{
	/* per outcome at most ~50 bytes of numbers and 2 * 128 of error */
	size_t		size = (size_t) n * 320 + 16;
	char	   *arrays[5];
	size_t		len[5] = {0, 0, 0, 0, 0};
	PGresult   *res;
	bool		ok = true;
	int			i,
				a;

	if (db->conn == NULL)
		return false;
	if (n == 0)
		return true;
	for (a = 0; a < 5; a++)
	{
		arrays[a] = malloc(size);
		ok = ok && arrays[a] != NULL;
	}
	for (i = 0; ok && i < n; i++)
	{
		const char *sep = i == 0 ? "{" : ",";

		ok = append(arrays[0], size, &len[0], "%s%lld", sep, o[i].delivery_id) &&
			append(arrays[1], size, &len[1], "%s%d", sep, o[i].attempt) &&
			(o[i].http_status > 0
			 ? append(arrays[2], size, &len[2], "%s%d", sep, o[i].http_status)
			 : append(arrays[2], size, &len[2], "%sNULL", sep)) &&
			append(arrays[3], size, &len[3], "%s%d", sep, o[i].latency_ms) &&
			append(arrays[4], size, &len[4], "%s", sep) &&
			append_text_element(arrays[4], size, &len[4], o[i].error);
	}
	for (a = 0; ok && a < 5; a++)
		ok = append(arrays[a], size, &len[a], "}");
	if (!ok)
	{
		/* out of memory: the leases run out and the deliveries are claimed again */
		log_msg("%sout of memory reporting %d outcomes: left to their leases", db->label, n);
		for (a = 0; a < 5; a++)
			free(arrays[a]);
		return true;
	}
	/* one round trip for every outcome at hand */
	res = PQexecParams(db->conn,
					   "SELECT count(orders.webhook_report(d, a, s, l, e))"
					   " FROM unnest($1::bigint[], $2::integer[], $3::integer[],"
					   " $4::integer[], $5::text[]) AS r(d, a, s, l, e)",
					   5, NULL, (const char *const *) arrays, NULL, NULL, 0);
	for (a = 0; a < 5; a++)
		free(arrays[a]);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		if (lost(db))
		{
			PQclear(res);
			return false;
		}
		log_pq_error(db, "orders.webhook_report failed", PQerrorMessage(db->conn));
	}
	PQclear(res);
	return true;
}
