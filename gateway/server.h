/*
 * server.h
 *		The HTTP side of the gateway (libmicrohttpd, a thread per connection).
 *
 * Every request goes to api.dispatch (GET /api/v1/health included), except
 * GET /api/v1/openapi.json, the embedded API document, which the gateway
 * serves itself.
 */
#ifndef GATEWAY_SERVER_H
#define GATEWAY_SERVER_H

#include <stdbool.h>
#include <stddef.h>

#include "pool.h"
#include "strbuf.h"

typedef struct ServerConfig
{
	const char *listen_address; /* numeric IPv4 or IPv6 address */
	int			port;			/* 0: any free port */
	size_t		max_body;		/* bytes; larger bodies get 413 */
	size_t		max_target;		/* bytes of the request target; more get 414 */
	size_t		max_headers;	/* bytes of all headers; more get 431 */
	int			max_connections;	/* admitted at once; more get 503 */
	int			max_per_address;	/* admitted at once from one address */
	int			request_timeout_s;	/* a request's head and body must
									 * arrive within this */
	int			connection_timeout_s;	/* idle HTTP connections are closed */
	int			max_descriptors;	/* file descriptors for connections; 0:
									 * no bound */
	bool		tls;			/* HTTPS with tls.c's certificate */
} ServerConfig;

typedef struct Server Server;

extern size_t server_connection_memory(const ServerConfig *config);
extern Server *server_start(const ServerConfig *config, Pool *pool);
extern int	server_port(Server *server);
extern void server_quiesce(Server *server);
extern int	server_in_flight(Server *server);
extern void server_write_metrics(Server *server, StrBuf *out);
extern void server_stop(Server *server);

#endif
