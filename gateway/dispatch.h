/*
 * dispatch.h
 *		The one SQL call per HTTP request: api.dispatch.
 *
 *   api.dispatch(method text, path text, query text, headers jsonb, body text)
 *     RETURNS TABLE(status integer, headers jsonb, body text)
 *
 * A request body is first checked by jsonb (dispatch_check_body), so the
 * gateway parses no JSON at all.  Everything is a bind parameter.  The headers of the answer are unpacked
 * by the same statement (one result row per header), so the gateway needs
 * no JSON parser for them.
 */
#ifndef GATEWAY_DISPATCH_H
#define GATEWAY_DISPATCH_H

#include <stdbool.h>
#include <stddef.h>

#include <libpq-fe.h>

typedef struct DispatchRequest
{
	const char *method;
	const char *path;			/* raw path, no query string, NUL-terminated */
	const char *query;			/* raw query string without '?'; "" if none */
	const char *headers_json;	/* {"lower-case name": "value", ...} */
	const char *body;			/* NULL when the request has no body */
	bool		body_is_form;	/* application/x-www-form-urlencoded */
} DispatchRequest;

typedef enum DispatchOutcome
{
	DISPATCH_OK,				/* an answer from api.dispatch */
	DISPATCH_CONNECTION_LOST,	/* the connection broke */
	DISPATCH_UNAVAILABLE,		/* the server refuses work: shutting down, ... */
	DISPATCH_FAILED,			/* any other error: a 500 */
	DISPATCH_BAD_BODY			/* dispatch_check_body: not JSON, a 400 */
} DispatchOutcome;

typedef struct DispatchResponse
{
	PGresult   *result;			/* owns the strings below */
	int			status;
	const char *body;
	size_t		body_len;
	int			nheaders;
	char		sqlstate[6];	/* of a failure, for the log */
} DispatchResponse;

extern DispatchOutcome dispatch_check_body(PGconn *conn, const char *body,
										   char *msg, size_t msg_size,
										   char *sqlstate);
extern DispatchOutcome dispatch_call(PGconn *conn, const DispatchRequest *req,
									 DispatchResponse *resp);
extern const char *dispatch_header_name(const DispatchResponse *resp, int i);
extern const char *dispatch_header_value(const DispatchResponse *resp, int i);
extern void dispatch_response_free(DispatchResponse *resp);

#endif
