/*
 * db_metrics.c
 *		The engine's metrics, read from the database (see db_metrics.h).
 */
#include <string.h>

#include <libpq-fe.h>

#include "db_metrics.h"
#include "log.h"

/* Run a statement; true if it gave the expected status. */
static bool
exec_ok(PGconn *conn, const char *sql, int nparams, const char *const *params,
		ExecStatusType expected, PGresult **keep)
{
	PGresult   *res = PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);
	bool		ok = PQresultStatus(res) == expected;

	if (!ok)
	{
		const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);

		/* the SQLSTATE only: the message may name objects, never needed here */
		log_msg("metrics: reading the database's metrics failed, SQLSTATE %s",
				state != NULL ? state : "(none)");
	}
	if (ok && keep != NULL)
		*keep = res;
	else
		PQclear(res);
	return ok;
}

bool
db_metrics_append(Pool *pool, const char *role, StrBuf *out)
{
	PooledConn	pc;
	PGresult   *res = NULL;
	bool		ok;

	if (pool_acquire(pool, &pc) != POOL_OK)
		return false;
	/*
	 * SET LOCAL: the switch ends with the transaction, and the connection
	 * goes back to the pool as the API role it was.
	 */
	ok = exec_ok(pc.conn, "BEGIN READ ONLY", 0, NULL, PGRES_COMMAND_OK, NULL) &&
		(role[0] == '\0' ||
		 exec_ok(pc.conn, "SELECT pg_catalog.set_config('role', $1, true)", 1,
				 (const char *const[]) {role}, PGRES_TUPLES_OK, NULL)) &&
		exec_ok(pc.conn, "SELECT orders.metrics_exposition()", 0, NULL, PGRES_TUPLES_OK, &res);
	if (ok && PQntuples(res) == 1 && !PQgetisnull(res, 0, 0))
		strbuf_append(out, PQgetvalue(res, 0, 0), (size_t) PQgetlength(res, 0, 0));
	else
		ok = false;
	PQclear(res);
	if (PQtransactionStatus(pc.conn) != PQTRANS_IDLE)
	{
		PGresult   *end = PQexec(pc.conn, ok ? "COMMIT" : "ROLLBACK");

		PQclear(end);
	}
	pool_release(pool, &pc, PQstatus(pc.conn) != CONNECTION_OK ||
				 PQtransactionStatus(pc.conn) != PQTRANS_IDLE);
	return ok;
}
