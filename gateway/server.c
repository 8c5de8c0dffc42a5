/*
 * server.c
 *		The HTTP side of the gateway (see server.h).
 *
 * A request goes through three calls of the access handler: headers
 * (limits are checked here, so an oversized upload is refused before it is
 * read), body chunks (collected up to the limit), end of request (the one
 * SQL call, then the response).  The raw request target comes from the
 * URI log callback, which also starts the request's clock; the completion
 * callback writes the log line.  Connections are admitted and given their
 * request deadline by conn_limits.c (the connection-notify callback); one
 * that is not admitted has its request answered 503.
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>
#include <time.h>

#include <microhttpd.h>

#include "conn_limits.h"
#include "dispatch.h"
#include "json.h"
#include "listener.h"
#include "log.h"
#include "metrics.h"
#include "openapi.h"
#include "request.h"
#include "server.h"
#include "strbuf.h"
#include "tls.h"
#include "utf8.h"

/*
 * An upload past the body limit is read and thrown away (libmicrohttpd
 * cannot answer in the middle of an upload) up to this many times the
 * limit; past that the connection is closed without an answer.
 */
#define DISCARD_FACTOR 16

/*
 * libmicrohttpd's own connection limit, past which it closes new
 * connections at once: room for this many rejected connections (answered
 * 503 within REJECTED_GRACE_S) beyond --max-connections.
 */
#define REJECTED_ROOM 4096

/* Each connection has a thread: a small stack lets thousands exist. */
#define THREAD_STACK_SIZE (512 * 1024)

struct Server
{
	ServerConfig config;
	Pool	   *pool;
	ConnLimits *limits;
	struct MHD_Daemon *daemon;
	RequestMetrics *metrics;
	double		started_at;		/* seconds since the epoch */
	atomic_int	in_flight;
	atomic_bool draining;
};

typedef struct Request
{
	struct timespec start;
	char	   *target;			/* raw request target, as received */
	char		method[16];		/* for the log line */
	bool		headers_seen;
	HttpHeader *headers;
	size_t		nheaders;
	size_t		headers_cap;
	StrBuf		body;
	uint64_t	received;		/* bytes of body received */
	bool		body_too_large;
	int			status;			/* sent, for the log; 0 = none */
	const char *note;			/* for the log: why the gateway answered */
	bool		close;			/* answer with Connection: close */
} Request;

static const char path_openapi[] = "/api/v1/openapi.json";

/* The connection's registration in conn_limits.c, NULL if none. */
static Conn *
connection_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *info;

	info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return info != NULL ? info->socket_context : NULL;
}

/* ---- responses ---- */

static enum MHD_Result
send_response(Server *server, struct MHD_Connection *c, Request *r,
			  int status, struct MHD_Response *resp)
{
	enum MHD_Result ret;

	if (resp == NULL)
		return MHD_NO;
	if (atomic_load(&server->draining) || r->close)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
	ret = MHD_queue_response(c, (unsigned int) status, resp);
	MHD_destroy_response(resp);
	r->status = status;
	return ret;
}

static struct MHD_Response *
json_response(const char *body, size_t len)
{
	struct MHD_Response *resp;

	resp = MHD_create_response_from_buffer(len, (void *) body, MHD_RESPMEM_MUST_COPY);
	if (resp != NULL)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
								"application/json; charset=utf-8");
	return resp;
}

/*
 * An answer of the gateway itself, in the API's error format
 * {"error": "...", "message": "..."}.
 */
static enum MHD_Result
send_error(Server *server, struct MHD_Connection *c, Request *r,
		   int status, const char *error, const char *message)
{
	StrBuf		body = STRBUF_INIT;
	struct MHD_Response *resp;

	strbuf_append_str(&body, "{\"error\":");
	json_append_string(&body, error, strlen(error));
	strbuf_append_str(&body, ",\"message\":");
	json_append_string(&body, message, strlen(message));
	strbuf_append_char(&body, '}');
	if (!strbuf_ok(&body))
	{
		strbuf_free(&body);
		return MHD_NO;
	}
	resp = json_response(body.data, body.len);
	strbuf_free(&body);
	if (resp != NULL && status == MHD_HTTP_SERVICE_UNAVAILABLE)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, "1");
	if (r->note == NULL)
		r->note = error;
	return send_response(server, c, r, status, resp);
}

static enum MHD_Result
send_unavailable(Server *server, struct MHD_Connection *c, Request *r,
				 const char *note)
{
	r->note = note;
	return send_error(server, c, r, MHD_HTTP_SERVICE_UNAVAILABLE,
					  "service_unavailable",
					  "The service is temporarily unavailable. Please try again later.");
}

static enum MHD_Result
send_internal_error(Server *server, struct MHD_Connection *c, Request *r)
{
	return send_error(server, c, r, MHD_HTTP_INTERNAL_SERVER_ERROR,
					  "internal_error", "Internal server error");
}

/* ---- the gateway's own resources ---- */

static bool
path_is(const RequestTarget *t, const char *path)
{
	return t->path_len == strlen(path) && memcmp(t->path, path, t->path_len) == 0;
}

static bool
method_is_read(const char *method)
{
	return strcmp(method, MHD_HTTP_METHOD_GET) == 0 ||
		strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
}

static enum MHD_Result
send_method_not_allowed(Server *server, struct MHD_Connection *c, Request *r)
{
	StrBuf		body = STRBUF_INIT;
	struct MHD_Response *resp;

	strbuf_append_str(&body, "{\"error\":\"method_not_allowed\",\"message\":\"Only GET and HEAD are allowed here\"}");
	resp = json_response(strbuf_cstr(&body), body.len);
	strbuf_free(&body);
	if (resp != NULL)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	r->note = "method_not_allowed";
	return send_response(server, c, r, MHD_HTTP_METHOD_NOT_ALLOWED, resp);
}

static enum MHD_Result
serve_openapi(Server *server, struct MHD_Connection *c, Request *r)
{
	struct MHD_Response *resp;

	resp = MHD_create_response_from_buffer(gateway_openapi_json_len,
										   (void *) gateway_openapi_json,
										   MHD_RESPMEM_PERSISTENT);
	if (resp != NULL)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
								"application/json; charset=utf-8");
	return send_response(server, c, r, MHD_HTTP_OK, resp);
}

/* ---- dispatch ---- */

static enum MHD_Result
send_dispatched(Server *server, struct MHD_Connection *c, Request *r,
				const DispatchResponse *d)
{
	struct MHD_Response *resp;
	bool		has_type = false;
	int			i;

	resp = MHD_create_response_from_buffer(d->body_len, (void *) d->body,
										   MHD_RESPMEM_MUST_COPY);
	if (resp == NULL)
		return MHD_NO;
	for (i = 0; i < d->nheaders; i++)
	{
		const char *name = dispatch_header_name(d, i);
		const char *value = dispatch_header_value(d, i);

		/* never forward what could split the response or forge a header */
		if (!response_header_name_valid(name) || !response_header_value_valid(value) ||
			MHD_add_response_header(resp, name, value) != MHD_YES)
		{
			StrBuf		n = STRBUF_INIT;

			log_escape(&n, name, strlen(name), 64);
			log_msg("dropped response header \"%s\" from api.dispatch", strbuf_cstr(&n));
			strbuf_free(&n);
			continue;
		}
		if (strcasecmp(name, MHD_HTTP_HEADER_CONTENT_TYPE) == 0)
			has_type = true;
	}
	if (!has_type && d->body_len > 0)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
								"application/json; charset=utf-8");
	return send_response(server, c, r, d->status, resp);
}

/*
 * The body's check (when there is a body), then api.dispatch.  A form
 * (the OAuth 2.0 token request) is decoded by api.dispatch like a query
 * string: it need only be text PostgreSQL takes whole, which the check on
 * receipt saw to (UTF-8 without NUL).  Anything else must be JSON, checked
 * by jsonb.
 */
static DispatchOutcome
check_and_dispatch(PGconn *conn, const DispatchRequest *req, DispatchResponse *d,
				   char *bad_body, size_t bad_body_size)
{
	memset(d, 0, sizeof(*d));
	if (req->body != NULL && !req->body_is_form)
	{
		DispatchOutcome outcome = dispatch_check_body(conn, req->body, bad_body,
													  bad_body_size, d->sqlstate);

		if (outcome != DISPATCH_OK)
			return outcome;
	}
	return dispatch_call(conn, req, d);
}

static enum MHD_Result
serve_dispatch(Server *server, struct MHD_Connection *c, Request *r,
			   const char *method, const RequestTarget *t)
{
	StrBuf		headers = STRBUF_INIT,
				path = STRBUF_INIT,
				query = STRBUF_INIT;
	DispatchRequest req;
	DispatchResponse d;
	DispatchOutcome outcome;
	PooledConn	pc;
	PoolStatus	ps;
	long		bad;
	enum MHD_Result ret;
	char		bad_body[256];
	char		msg[320];

	bad = request_headers_to_json(&headers, r->headers, r->nheaders);
	if (bad >= 0)
	{
		StrBuf		msg = STRBUF_INIT;

		strbuf_append_str(&msg, "Request header ");
		log_escape(&msg, r->headers[bad].name, r->headers[bad].name_len, 64);
		strbuf_append_str(&msg, " is not valid UTF-8");
		ret = send_error(server, c, r, MHD_HTTP_BAD_REQUEST, "bad_request",
						 strbuf_cstr(&msg));
		strbuf_free(&msg);
		strbuf_free(&headers);
		return ret;
	}
	strbuf_append(&path, t->path, t->path_len);
	strbuf_append(&query, t->query, t->query_len);
	if (!strbuf_ok(&headers) || !strbuf_ok(&path) || !strbuf_ok(&query))
	{
		ret = send_internal_error(server, c, r);
		goto done;
	}
	req.method = method;
	req.path = strbuf_cstr(&path);
	req.query = strbuf_cstr(&query);
	req.headers_json = strbuf_cstr(&headers);
	req.body = r->body.len > 0 ? strbuf_cstr(&r->body) : NULL;
	req.body_is_form = request_body_is_form(r->headers, r->nheaders);

	ps = pool_acquire(server->pool, &pc);
	if (ps != POOL_OK)
	{
		ret = send_unavailable(server, c, r, ps == POOL_BUSY ? "pool busy" : "database unavailable");
		goto done;
	}
	outcome = check_and_dispatch(pc.conn, &req, &d, bad_body, sizeof(bad_body));

	/*
	 * A connection that was idle in the pool may have been closed by a
	 * server restart without our noticing: retry once on a new one.
	 */
	if (outcome == DISPATCH_CONNECTION_LOST && pc.reused)
	{
		dispatch_response_free(&d);
		if (pool_reconnect(server->pool, &pc))
			outcome = check_and_dispatch(pc.conn, &req, &d, bad_body, sizeof(bad_body));
	}
	switch (outcome)
	{
		case DISPATCH_BAD_BODY:
			snprintf(msg, sizeof(msg), "Request body is not valid %s: %s",
					 req.body_is_form ? "form data" : "JSON", bad_body);
			ret = send_error(server, c, r, MHD_HTTP_BAD_REQUEST, "bad_request", msg);
			break;
		case DISPATCH_OK:
			ret = send_dispatched(server, c, r, &d);
			break;
		case DISPATCH_CONNECTION_LOST:
			ret = send_unavailable(server, c, r, "database connection lost");
			break;
		case DISPATCH_UNAVAILABLE:
			log_msg("api.dispatch: database unavailable, SQLSTATE %s", d.sqlstate);
			ret = send_unavailable(server, c, r, "database unavailable");
			break;
		default:
			/* the details are in the server log; none go to the client */
			log_msg("api.dispatch failed, SQLSTATE %s", d.sqlstate[0] ? d.sqlstate : "(none)");
			ret = send_internal_error(server, c, r);
			break;
	}
	dispatch_response_free(&d);
	pool_release(server->pool, &pc, pc.conn == NULL || PQstatus(pc.conn) != CONNECTION_OK);
done:
	strbuf_free(&headers);
	strbuf_free(&path);
	strbuf_free(&query);
	return ret;
}

/* ---- the request's three phases ---- */

static enum MHD_Result
collect_header(void *cls, enum MHD_ValueKind kind, const char *key, size_t key_size,
			   const char *value, size_t value_size)
{
	Request    *r = cls;

	(void) kind;
	if (r->nheaders == r->headers_cap)
	{
		size_t		cap = r->headers_cap ? r->headers_cap * 2 : 16;
		HttpHeader *h = realloc(r->headers, cap * sizeof(HttpHeader));

		if (h == NULL)
			return MHD_NO;
		r->headers = h;
		r->headers_cap = cap;
	}
	r->headers[r->nheaders].name = key;
	r->headers[r->nheaders].name_len = key_size;
	r->headers[r->nheaders].value = value ? value : "";
	r->headers[r->nheaders].value_len = value ? value_size : 0;
	r->nheaders++;
	return MHD_YES;
}

/* Headers are in: check the limits before any body is read. */
static enum MHD_Result
on_headers(Server *server, struct MHD_Connection *c, Request *r, const char *method)
{
	const char *cl;
	uint64_t	length;
	char		msg[128];

	snprintf(r->method, sizeof(r->method), "%s", method);
	if (strlen(r->target) > server->config.max_target)
	{
		snprintf(msg, sizeof(msg), "Request target exceeds %zu bytes",
				 server->config.max_target);
		return send_error(server, c, r, MHD_HTTP_URI_TOO_LONG, "uri_too_long", msg);
	}
	MHD_get_connection_values_n(c, MHD_HEADER_KIND, collect_header, r);
	if (request_headers_size(r->headers, r->nheaders) > server->config.max_headers)
	{
		snprintf(msg, sizeof(msg), "Request headers exceed %zu bytes",
				 server->config.max_headers);
		return send_error(server, c, r, MHD_HTTP_REQUEST_HEADER_FIELDS_TOO_LARGE,
						  "request_header_fields_too_large", msg);
	}
	cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (cl != NULL && request_content_length(cl, &length) &&
		length > server->config.max_body)
	{
		snprintf(msg, sizeof(msg), "Request body exceeds %zu bytes",
				 server->config.max_body);
		return send_error(server, c, r, MHD_HTTP_CONTENT_TOO_LARGE,
						  "payload_too_large", msg);
	}
	return MHD_YES;
}

static enum MHD_Result
on_body_chunk(Server *server, Request *r, const char *data, size_t *size)
{
	r->received += *size;
	if (!r->body_too_large && r->body.len + *size > server->config.max_body)
	{
		r->body_too_large = true;
		strbuf_free(&r->body);
	}
	if (!r->body_too_large)
		strbuf_append(&r->body, data, *size);
	*size = 0;
	if (r->received > (uint64_t) server->config.max_body * DISCARD_FACTOR)
		return MHD_NO;
	return MHD_YES;
}

static enum MHD_Result
on_request_complete(Server *server, struct MHD_Connection *c, Request *r,
					const char *method)
{
	RequestTarget t;
	const char *bad;
	char		msg[192];
	Conn	   *conn = connection_of(c);

	/* all of the request is in: no deadline while the database works */
	if (conn != NULL)
		conn_limits_received(server->limits, conn);
	if (r->body_too_large)
	{
		snprintf(msg, sizeof(msg), "Request body exceeds %zu bytes",
				 server->config.max_body);
		return send_error(server, c, r, MHD_HTTP_CONTENT_TOO_LARGE,
						  "payload_too_large", msg);
	}
	if (!strbuf_ok(&r->body))
		return send_internal_error(server, c, r);
	bad = request_target_split(r->target, strlen(r->target), &t);
	if (bad != NULL)
	{
		snprintf(msg, sizeof(msg), "Invalid request: %s", bad);
		return send_error(server, c, r, MHD_HTTP_BAD_REQUEST, "bad_request", msg);
	}
	if (path_is(&t, path_openapi))
	{
		if (!method_is_read(method))
			return send_method_not_allowed(server, c, r);
		return serve_openapi(server, c, r);
	}
	/* PostgreSQL refuses invalid UTF-8 in a text parameter: say so here */
	if (!utf8_valid(r->body.data, r->body.len))
		return send_error(server, c, r, MHD_HTTP_BAD_REQUEST, "bad_request",
						  request_body_is_form(r->headers, r->nheaders)
						  ? "Request body is not valid form data: invalid UTF-8"
						  : "Request body is not valid JSON: invalid UTF-8");
	return serve_dispatch(server, c, r, method, &t);
}

/*
 * Was the connection admitted (conn_limits.c)?  If not, answer 503 and
 * close it: a clear answer instead of a reset.
 */
static bool
admitted(Server *server, struct MHD_Connection *c, Request *r)
{
	Conn	   *conn = connection_of(c);
	const char *msg;

	if (conn != NULL && conn_verdict(conn) == CONN_ADMITTED)
		return true;
	r->close = true;
	r->note = conn != NULL && conn_verdict(conn) == CONN_ADDRESS_FULL ?
		"connection limit of the address" : "connection limit";
	msg = conn != NULL && conn_verdict(conn) == CONN_ADDRESS_FULL ?
		"Too many connections from your address. Please try again later." :
		"The gateway is at its connection limit. Please try again later.";
	send_error(server, c, r, MHD_HTTP_SERVICE_UNAVAILABLE, "service_unavailable", msg);
	return false;
}

static enum MHD_Result
access_handler(void *cls, struct MHD_Connection *c, const char *url,
			   const char *method, const char *version, const char *upload_data,
			   size_t *upload_data_size, void **req_cls)
{
	Server	   *server = cls;
	Request    *r = *req_cls;

	(void) url;					/* decoded by libmicrohttpd; we use the raw target */
	(void) version;
	if (r == NULL)
		return MHD_NO;			/* the URI log callback ran out of memory */
	if (!r->headers_seen)
	{
		r->headers_seen = true;
		snprintf(r->method, sizeof(r->method), "%s", method);
		if (!admitted(server, c, r))
			return MHD_YES;		/* answered 503 */
		return on_headers(server, c, r, method);
	}
	if (*upload_data_size > 0)
		return on_body_chunk(server, r, upload_data, upload_data_size);
	return on_request_complete(server, c, r, method);
}

/* ---- request bookkeeping ---- */

/*
 * A request's state lives from the URI log callback (request_begin) to
 * the request-completed callback (request_end).  libmicrohttpd calls the
 * latter only for requests that reached the access handler, so the state
 * is also hung on the connection: a connection that drops while the head
 * is still arriving frees it in connection_event.
 */
static void *
request_begin(void *cls, const char *uri, struct MHD_Connection *c)
{
	Server	   *server = cls;
	Request    *r = calloc(1, sizeof(Request));
	Conn	   *conn = connection_of(c);

	if (r == NULL)
		return NULL;
	clock_gettime(CLOCK_MONOTONIC, &r->start);
	r->target = strdup(uri);
	if (r->target == NULL)
	{
		free(r);
		return NULL;
	}
	snprintf(r->method, sizeof(r->method), "-");
	atomic_fetch_add(&server->in_flight, 1);
	if (conn != NULL)
		*conn_request_slot(conn) = r;
	return r;
}

/* Log the request's line and free its state. */
static void
request_finish(Server *server, Request *r, const char *note)
{
	struct timespec now;
	size_t		path_len = strcspn(r->target, "?#");
	double		seconds;

	clock_gettime(CLOCK_MONOTONIC, &now);
	seconds = (now.tv_sec - r->start.tv_sec) + (now.tv_nsec - r->start.tv_nsec) / 1e9;
	log_request(r->method, r->target, path_len, r->status, seconds * 1e3,
				note ? note : r->note);
	request_metrics_observe(server->metrics, r->method, r->target, path_len,
							r->status, seconds);
	strbuf_free(&r->body);
	free(r->headers);
	free(r->target);
	free(r);
	atomic_fetch_sub(&server->in_flight, 1);
}

static void
request_end(void *cls, struct MHD_Connection *c, void **req_cls,
			enum MHD_RequestTerminationCode toe)
{
	Server	   *server = cls;
	Request    *r = *req_cls;
	Conn	   *conn = connection_of(c);

	if (r == NULL)
		return;
	if (conn != NULL)
	{
		*conn_request_slot(conn) = NULL;
		conn_limits_next_request(server->limits, conn);
	}
	request_finish(server, r, toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? NULL :
				   "connection closed before the response was sent");
	*req_cls = NULL;
}

/* A connection opens (admission) or closes (what is left of it is freed). */
static void
connection_event(void *cls, struct MHD_Connection *c, void **socket_context,
				 enum MHD_ConnectionNotificationCode code)
{
	Server	   *server = cls;
	Conn	   *conn = *socket_context;

	if (code == MHD_CONNECTION_NOTIFY_STARTED)
	{
		const union MHD_ConnectionInfo *fd,
				   *addr;

		fd = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
		addr = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
		/* out of memory: NULL, and the request gets 503 (admitted()) */
		*socket_context = conn_limits_open(server->limits,
										   addr != NULL ? addr->client_addr : NULL,
										   fd != NULL ? fd->connect_fd : -1);
		return;
	}
	if (conn == NULL)
		return;
	if (*conn_request_slot(conn) != NULL)
		request_finish(server, *conn_request_slot(conn),
					   "connection closed before the request was complete");
	conn_limits_close(server->limits, conn);
	*socket_context = NULL;
}

/* ---- life cycle ---- */

/* libmicrohttpd's memory per connection: 4 x our limits + 32 KiB. */
size_t
server_connection_memory(const ServerConfig *config)
{
	return (config->max_target + config->max_headers) * 4 + 32768;
}

Server *
server_start(const ServerConfig *config, Pool *pool)
{
	Server	   *server = calloc(1, sizeof(Server));
	struct addrinfo *addr;
	unsigned int flags;
	unsigned int hard_limit;

	/* HTTPS: the certificate comes from tls.c at each handshake */
	struct MHD_OptionItem tls_options[] = {
		{MHD_OPTION_HTTPS_CERT_CALLBACK, 0, (void *) tls_retrieve_certificate},
		{MHD_OPTION_HTTPS_PRIORITIES, 0, (void *) TLS_PRIORITIES},
		{MHD_OPTION_END, 0, NULL}
	};

	if (server == NULL)
		return NULL;
	server->config = *config;
	server->pool = pool;
	if (config->tls && (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES ||
						MHD_is_feature_supported(MHD_FEATURE_HTTPS_CERT_CALLBACK) != MHD_YES))
	{
		log_msg("this libmicrohttpd was built without TLS: cannot serve HTTPS");
		free(server);
		return NULL;
	}
	server->limits = conn_limits_create(config->max_connections, config->max_per_address,
										config->request_timeout_s);
	server->metrics = request_metrics_create();
	if (server->limits == NULL || server->metrics == NULL)
	{
		log_msg("out of memory");
		if (server->limits != NULL)
			conn_limits_destroy(server->limits);
		request_metrics_destroy(server->metrics);
		free(server);
		return NULL;
	}
	{
		struct timespec now;

		clock_gettime(CLOCK_REALTIME, &now);
		server->started_at = now.tv_sec + now.tv_nsec / 1e9;
	}
	atomic_init(&server->in_flight, 0);
	atomic_init(&server->draining, false);

	addr = listener_address(config->listen_address, config->port, "listen");
	if (addr == NULL)
	{
		conn_limits_destroy(server->limits);
		request_metrics_destroy(server->metrics);
		free(server);
		return NULL;
	}

	flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
		MHD_USE_AUTO | MHD_USE_ITC | MHD_USE_ERROR_LOG;
	if (addr->ai_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (config->tls)
		flags |= MHD_USE_TLS;
	hard_limit = (unsigned int) (config->max_connections + REJECTED_ROOM);
	if (config->max_descriptors > 0 && hard_limit > (unsigned int) config->max_descriptors)
		hard_limit = (unsigned int) config->max_descriptors;

	server->daemon = MHD_start_daemon(flags, (uint16_t) config->port,
									  NULL, NULL,
									  access_handler, server,
									  MHD_OPTION_EXTERNAL_LOGGER, listener_mhd_logger, "libmicrohttpd",
									  MHD_OPTION_SOCK_ADDR, addr->ai_addr,
									  MHD_OPTION_URI_LOG_CALLBACK, request_begin, server,
									  MHD_OPTION_NOTIFY_COMPLETED, request_end, server,
									  MHD_OPTION_NOTIFY_CONNECTION, connection_event, server,
									  MHD_OPTION_CONNECTION_LIMIT, hard_limit,
									  MHD_OPTION_THREAD_STACK_SIZE, (size_t) THREAD_STACK_SIZE,
									  MHD_OPTION_ARRAY, config->tls ? tls_options : tls_options + 2,
									  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) config->connection_timeout_s,
	/*
	 * Room for a request line and headers well past our own limits, so
	 * that oversized ones reach our handler and get the JSON 414 or 431,
	 * not libmicrohttpd's own (which it sends past this memory).
	 */
									  MHD_OPTION_CONNECTION_MEMORY_LIMIT,
									  server_connection_memory(config),
									  MHD_OPTION_END);
	freeaddrinfo(addr);
	if (server->daemon == NULL)
	{
		log_msg("cannot listen on %s port %d", config->listen_address, config->port);
		conn_limits_destroy(server->limits);
		request_metrics_destroy(server->metrics);
		free(server);
		return NULL;
	}
	return server;
}

int
server_port(Server *server)
{
	return listener_port(server->daemon, server->config.port);
}

/* Stop accepting connections; requests in progress go on. */
void
server_quiesce(Server *server)
{
	MHD_socket	listener;

	atomic_store(&server->draining, true);
	listener = MHD_quiesce_daemon(server->daemon);
	if (listener != MHD_INVALID_SOCKET)
		close(listener);		/* ours to close, says libmicrohttpd */
}

int
server_in_flight(Server *server)
{
	return atomic_load(&server->in_flight);
}

void
server_stop(Server *server)
{
	MHD_stop_daemon(server->daemon);
	conn_limits_destroy(server->limits);
	request_metrics_destroy(server->metrics);
	free(server);
}

/*
 * The HTTP side's metrics in the text format: requests, connections, the
 * pool, the process.  Called by the metrics listener (metrics_server.c)
 * from its own thread: everything read here is atomic or locked.
 */
void
server_write_metrics(Server *server, StrBuf *out)
{
	ConnLimitsStats cs;
	PoolStats	ps;

	request_metrics_write(server->metrics, out);
	metrics_single(out, "orders_gateway_http_requests_in_flight", "gauge",
				   "Requests being served now.", atomic_load(&server->in_flight));

	conn_limits_stats(server->limits, &cs);
	metrics_single(out, "orders_gateway_connections", "gauge",
				   "HTTP connections admitted and open now.", cs.admitted);
	metrics_single(out, "orders_gateway_connections_max", "gauge",
				   "HTTP connections admitted at most (--max-connections).", cs.max_total);
	metrics_family(out, "orders_gateway_connections_rejected_total", "counter",
				   "HTTP connections refused (answered 503) by the connection limits, by limit: gateway (--max-connections) or address (--max-connections-per-address).");
	metrics_sample_count(out, "orders_gateway_connections_rejected_total",
						 "{limit=\"address\"}", cs.rejected_address_full);
	metrics_sample_count(out, "orders_gateway_connections_rejected_total",
						 "{limit=\"gateway\"}", cs.rejected_gateway_full);
	metrics_single(out, "orders_gateway_request_timeouts_total", "counter",
				   "Connections closed because their request did not arrive within --request-timeout.",
				   cs.timed_out);

	pool_stats(server->pool, &ps);
	metrics_family(out, "orders_gateway_db_pool_connections", "gauge",
				   "Database connections of the pool by state: busy (serving a request) or idle (open, free).");
	metrics_sample(out, "orders_gateway_db_pool_connections", "{state=\"busy\"}", ps.busy);
	metrics_sample(out, "orders_gateway_db_pool_connections", "{state=\"idle\"}", ps.idle);
	metrics_single(out, "orders_gateway_db_pool_connections_max", "gauge",
				   "Database connections of the pool at most (--pool-size).", ps.size);
	metrics_single(out, "orders_gateway_db_pool_waits_total", "counter",
				   "Requests that found every database connection busy and waited for one.",
				   ps.waits);
	metrics_single(out, "orders_gateway_db_pool_wait_timeouts_total", "counter",
				   "Requests that waited --acquire-timeout for a database connection in vain (answered 503).",
				   ps.wait_timeouts);
	metrics_single(out, "orders_gateway_db_pool_wait_seconds_total", "counter",
				   "Time requests spent waiting for a database connection.", ps.wait_seconds);
	metrics_single(out, "orders_gateway_db_connect_failures_total", "counter",
				   "Failed attempts to open a database connection.", ps.connect_failures);

	metrics_write_process(out, server->started_at);
}
