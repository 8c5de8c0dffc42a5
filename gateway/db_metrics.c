/*
 * db_metrics.c
 *		The engine's metrics, read from the database (see db_metrics.h).
 */
#include <string.h>

#include <libpq-fe.h>

#include <stdio.h>

#include "db_metrics.h"

/*
 * Run a statement; true if it gave the expected status, else its SQLSTATE
 * in sqlstate (the message may quote objects: never needed here).
 */
static bool
exec_ok(PGconn *conn, const char *sql, int nparams, const char *const *params,
		ExecStatusType expected, PGresult **keep, char sqlstate[6])
{
	PGresult   *res = PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);
	bool		ok = PQresultStatus(res) == expected;

	if (!ok)
	{
		const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);

		snprintf(sqlstate, 6, "%s", state != NULL ? state : "?????");
	}
	if (ok && keep != NULL)
		*keep = res;
	else
		PQclear(res);
	return ok;
}

bool
db_metrics_append(Pool *pool, const char *role, StrBuf *out, char sqlstate[6])
{
	PooledConn	pc;
	PGresult   *res = NULL;
	bool		ok;

	sqlstate[0] = '\0';
	if (pool_acquire(pool, &pc) != POOL_OK)
		return false;
	/*
	 * SET LOCAL: the switch ends with the transaction, and the connection
	 * goes back to the pool as the API role it was.
	 */
	ok = exec_ok(pc.conn, "BEGIN READ ONLY", 0, NULL, PGRES_COMMAND_OK, NULL, sqlstate) &&
		(role[0] == '\0' ||
		 exec_ok(pc.conn, "SELECT pg_catalog.set_config('role', $1, true)", 1,
				 (const char *const[]) {role}, PGRES_TUPLES_OK, NULL, sqlstate)) &&
		exec_ok(pc.conn, "SELECT orders.metrics_exposition()", 0, NULL, PGRES_TUPLES_OK,
				&res, sqlstate);
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
