/*
 * metrics_server.c
 *		The metrics listener (see metrics_server.h).
 *
 * One libmicrohttpd daemon with its own polling thread: scrapes come one
 * at a time from a Prometheus or two, and are answered in turn.  A scrape
 * writes the HTTP side's metrics (server.c), then the database's
 * (db_metrics.c) and whether those could be read.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "db_metrics.h"
#include "listener.h"
#include "log.h"
#include "metrics.h"
#include "metrics_server.h"

/* A scraper or two, and an operator's curl. */
#define METRICS_CONNECTION_LIMIT 16
#define METRICS_IDLE_TIMEOUT_S 30

struct MetricsServer
{
	MetricsConfig config;
	Server	   *server;
	Pool	   *pool;
	struct MHD_Daemon *daemon;
	bool		db_failing;		/* the last scrape could not read them (only
								 * the daemon's one thread touches it) */
};

static enum MHD_Result
send_text(struct MHD_Connection *c, unsigned int status, const char *type,
		  const char *body, size_t len, const char *allow)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = MHD_create_response_from_buffer(len, (void *) body, MHD_RESPMEM_MUST_COPY);
	if (resp == NULL)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (allow != NULL)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
	ret = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result
serve_scrape(MetricsServer *ms, struct MHD_Connection *c)
{
	StrBuf		body = STRBUF_INIT;
	bool		db_ok;
	char		sqlstate[6];
	enum MHD_Result ret;

	server_write_metrics(ms->server, &body);
	db_ok = db_metrics_append(ms->pool, ms->config.role, &body, sqlstate);
	/* log changes only: a scrape every 15 s would repeat the same line */
	if (!db_ok && !ms->db_failing)
		log_msg("metrics: cannot read the database's metrics: %s%s",
				sqlstate[0] ? "SQLSTATE " : "no database connection", sqlstate);
	else if (db_ok && ms->db_failing)
		log_msg("metrics: the database's metrics can be read again");
	ms->db_failing = !db_ok;
	metrics_single(&body, "orders_gateway_database_metrics_up", "gauge",
				   "1 if this scrape read the database's metrics (orders.metrics()), 0 if it could not.",
				   db_ok ? 1 : 0);
	if (!strbuf_ok(&body))
	{
		strbuf_free(&body);
		return MHD_NO;
	}
	ret = send_text(c, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8",
					body.data, body.len, NULL);
	strbuf_free(&body);
	return ret;
}

static enum MHD_Result
metrics_handler(void *cls, struct MHD_Connection *c, const char *url,
				const char *method, const char *version, const char *upload_data,
				size_t *upload_data_size, void **req_cls)
{
	static const char not_found[] = "Not found: the metrics are at /metrics\n";
	static const char not_allowed[] = "Only GET and HEAD are allowed here\n";
	static int	first_call;		/* its address marks a request's first call */
	MetricsServer *ms = cls;

	(void) version;
	(void) upload_data;
	/* answer once the whole request is in; a body is read and ignored */
	if (*req_cls == NULL)
	{
		*req_cls = &first_call;
		return MHD_YES;
	}
	if (*upload_data_size > 0)
	{
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (strcmp(url, "/metrics") != 0)
		return send_text(c, MHD_HTTP_NOT_FOUND, "text/plain; charset=utf-8",
						 not_found, sizeof(not_found) - 1, NULL);
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return send_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain; charset=utf-8",
						 not_allowed, sizeof(not_allowed) - 1, "GET, HEAD");
	return serve_scrape(ms, c);
}

MetricsServer *
metrics_server_start(const MetricsConfig *config, Server *server, Pool *pool)
{
	MetricsServer *ms;
	struct addrinfo *addr;
	unsigned int flags;

	ms = calloc(1, sizeof(MetricsServer));
	if (ms == NULL)
	{
		log_msg("out of memory");
		return NULL;
	}
	ms->config = *config;
	ms->server = server;
	ms->pool = pool;

	addr = listener_address(config->listen_address, config->port, "metrics listen");
	if (addr == NULL)
	{
		free(ms);
		return NULL;
	}
	flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG;
	if (addr->ai_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	ms->daemon = MHD_start_daemon(flags, (uint16_t) config->port, NULL, NULL,
								  metrics_handler, ms,
								  MHD_OPTION_EXTERNAL_LOGGER, listener_mhd_logger,
								  "metrics listener: libmicrohttpd",
								  MHD_OPTION_SOCK_ADDR, addr->ai_addr,
								  MHD_OPTION_CONNECTION_LIMIT, (unsigned int) METRICS_CONNECTION_LIMIT,
								  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) METRICS_IDLE_TIMEOUT_S,
								  MHD_OPTION_END);
	freeaddrinfo(addr);
	if (ms->daemon == NULL)
	{
		log_msg("cannot listen for metrics on %s port %d", config->listen_address, config->port);
		free(ms);
		return NULL;
	}
	return ms;
}

int
metrics_server_port(MetricsServer *ms)
{
	return listener_port(ms->daemon, ms->config.port);
}

void
metrics_server_stop(MetricsServer *ms)
{
	if (ms == NULL)
		return;
	MHD_stop_daemon(ms->daemon);
	free(ms);
}
