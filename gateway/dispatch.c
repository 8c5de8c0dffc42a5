/*
 * dispatch.c
 *		The one SQL call per HTTP request (see dispatch.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dispatch.h"

/*
 * One row per response header (at least one row): status and body ride on
 * the first.  A headers value that is not an object counts as no headers.
 */
static const char dispatch_sql[] =
"SELECT d.status, CASE WHEN h.n IS NULL OR h.n = 1 THEN d.body END, h.key, h.value"
"  FROM api.dispatch($1, $2, $3, $4::pg_catalog.jsonb, $5) AS d"
"  LEFT JOIN LATERAL pg_catalog.jsonb_each_text("
"         CASE WHEN pg_catalog.jsonb_typeof(d.headers) = 'object'"
"              THEN d.headers ELSE '{}'::pg_catalog.jsonb END)"
"       WITH ORDINALITY AS h(key, value, n) ON true";

/* SQLSTATEs that mean "the database cannot serve now": a 503, not a 500. */
static int
sqlstate_unavailable(const char *s)
{
	return strncmp(s, "08", 2) == 0 ||	/* connection exception */
		strncmp(s, "53", 2) == 0 ||	/* insufficient resources */
		strcmp(s, "57P01") == 0 ||	/* admin shutdown */
		strcmp(s, "57P02") == 0 ||	/* crash shutdown */
		strcmp(s, "57P03") == 0 ||	/* cannot connect now */
		strcmp(s, "25006") == 0;	/* read-only transaction: a standby */
}

/*
 * A failed statement: is the connection gone, is the server refusing work,
 * or is it anything else?
 */
static DispatchOutcome
failure_outcome(PGconn *conn, PGresult *res, char *sqlstate)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

	if (state != NULL)
		strncpy(sqlstate, state, 5);
	if (PQstatus(conn) != CONNECTION_OK)
		return DISPATCH_CONNECTION_LOST;
	if (state != NULL && sqlstate_unavailable(state))
		return DISPATCH_UNAVAILABLE;
	return DISPATCH_FAILED;
}

/*
 * Is the body JSON?  The database's jsonb decides (the same cast api.dispatch
 * applies, blank counting as no body), before api.dispatch runs, so a
 * malformed body costs no rate-limit token and no audit row.  A data
 * exception (class 22: syntax, \u0000, a number numeric cannot hold,
 * invalid UTF-8) or too deep a nesting (54001) is the body's fault:
 * DISPATCH_BAD_BODY with PostgreSQL's message and detail in msg.
 */
DispatchOutcome
dispatch_check_body(PGconn *conn, const char *body, char *msg, size_t msg_size,
					char *sqlstate)
{
	static const char sql[] =
		"SELECT NULLIF(pg_catalog.btrim($1::pg_catalog.text), '')::pg_catalog.jsonb IS NULL";
	PGresult   *res;
	const char *state;
	DispatchOutcome outcome = DISPATCH_OK;

	res = PQexecParams(conn, sql, 1, NULL, &body, NULL, NULL, 0);
	if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
		if (PQstatus(conn) == CONNECTION_OK && state != NULL &&
			(strncmp(state, "22", 2) == 0 || strcmp(state, "54001") == 0))
		{
			const char *primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
			const char *detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);

			snprintf(msg, msg_size, "%s%s%s%s", primary ? primary : "invalid input",
					 detail ? " (" : "", detail ? detail : "", detail ? ")" : "");
			outcome = DISPATCH_BAD_BODY;
		}
		else
			outcome = failure_outcome(conn, res, sqlstate);
	}
	PQclear(res);
	return outcome;
}

DispatchOutcome
dispatch_call(PGconn *conn, const DispatchRequest *req, DispatchResponse *resp)
{
	const char *params[5];
	PGresult   *res;
	char	   *end;
	long		status;

	memset(resp, 0, sizeof(*resp));
	params[0] = req->method;
	params[1] = req->path;
	params[2] = req->query;
	params[3] = req->headers_json;
	params[4] = req->body;
	res = PQexecParams(conn, dispatch_sql, 5, NULL, params, NULL, NULL, 0);
	resp->result = res;

	if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK)
		return failure_outcome(conn, res, resp->sqlstate);
	if (PQntuples(res) < 1 || PQnfields(res) != 4 || PQgetisnull(res, 0, 0))
		return DISPATCH_FAILED;
	status = strtol(PQgetvalue(res, 0, 0), &end, 10);
	if (*end != '\0' || status < 100 || status > 599)
		return DISPATCH_FAILED;
	resp->status = (int) status;
	resp->body = PQgetvalue(res, 0, 1);
	resp->body_len = (size_t) PQgetlength(res, 0, 1);
	resp->nheaders = PQgetisnull(res, 0, 2) ? 0 : PQntuples(res);
	return DISPATCH_OK;
}

const char *
dispatch_header_name(const DispatchResponse *resp, int i)
{
	return PQgetvalue(resp->result, i, 2);
}

/* A JSON null value reads as "" (jsonb_each_text gives SQL NULL). */
const char *
dispatch_header_value(const DispatchResponse *resp, int i)
{
	return PQgetvalue(resp->result, i, 3);
}

void
dispatch_response_free(DispatchResponse *resp)
{
	if (resp->result != NULL)
		PQclear(resp->result);
	resp->result = NULL;
}
