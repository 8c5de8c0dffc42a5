/*
 * dispatch.c
 *		The one SQL call per HTTP request (see dispatch.h).
 */
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

DispatchOutcome
dispatch_call(PGconn *conn, const DispatchRequest *req, DispatchResponse *resp)
{
	const char *params[5];
	PGresult   *res;
	const char *state;
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
	{
		state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
		if (state != NULL)
			strncpy(resp->sqlstate, state, 5);
		if (PQstatus(conn) != CONNECTION_OK)
			return DISPATCH_CONNECTION_LOST;
		if (state != NULL && sqlstate_unavailable(state))
			return DISPATCH_UNAVAILABLE;
		return DISPATCH_FAILED;
	}
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
