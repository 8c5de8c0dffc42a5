/*
 * main.c
 *		orders-gateway: the thin REST gateway of orders.
 *
 * Each HTTP request becomes one call of api.dispatch(method, path, query,
 * headers, body) on a pooled connection, and its result becomes the HTTP
 * response.  This file reads the options, starts the pool and the HTTP
 * server, and on SIGTERM or SIGINT stops accepting, lets the requests in
 * progress finish (up to --drain-timeout) and exits 0.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "pool.h"
#include "server.h"

#define GATEWAY_VERSION "1.0"

typedef struct Options
{
	PoolConfig	pool;
	ServerConfig server;
	int			drain_timeout_s;
} Options;

static void
usage(FILE *out)
{
	fprintf(out,
			"orders-gateway: the REST gateway of the orders extension\n"
			"\n"
			"Serves /api/v1/... over HTTP: each request becomes one call of\n"
			"api.dispatch(method, path, query, headers, body) in PostgreSQL, and its\n"
			"result the response.  The gateway answers two paths itself:\n"
			"GET /api/v1/openapi.json (the API description) and GET /healthz.\n"
			"\n"
			"Usage: orders-gateway [OPTION]...\n"
			"\n"
			"  -l, --listen=ADDR         listen on this numeric IPv4/IPv6 address (127.0.0.1)\n"
			"  -p, --port=PORT           listen on this port, 0 for any free one (8080)\n"
			"  -d, --conninfo=CONNINFO   libpq connection string or URI; empty: the PG*\n"
			"                            environment variables (PGHOST, PGPORT, ...) (\"\")\n"
			"  -r, --role=ROLE           SET ROLE to this on each connection, \"\" for none\n"
			"                            (orders_api)\n"
			"  -n, --pool-size=N         database connections (4)\n"
			"      --max-body=BYTES      larger request bodies get 413 (65536)\n"
			"      --max-headers=BYTES   larger request headers get 431 (8192)\n"
			"      --max-connections=N   concurrent HTTP connections (256)\n"
			"      --acquire-timeout=MS  wait this long for a free database connection,\n"
			"                            then answer 503 (5000)\n"
			"      --connect-timeout=S   libpq connect_timeout, unless CONNINFO sets it (3)\n"
			"      --idle-timeout=S      close idle HTTP connections after this (30)\n"
			"      --drain-timeout=S     on SIGTERM/SIGINT, wait this long for requests\n"
			"                            in progress (10)\n"
			"  -h, --help                show this help and exit\n"
			"  -V, --version             show the version and exit\n"
			"\n"
			"One line per request goes to stderr: method, path, status, duration.\n"
			"Headers, query strings and bodies are never logged.\n");
}

static int
parse_int(const char *arg, long min, long max, const char *option)
{
	char	   *end;
	long		v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno != 0 || end == arg || *end != '\0' || v < min || v > max)
	{
		fprintf(stderr, "orders-gateway: invalid value \"%s\" for --%s: expected an integer from %ld to %ld\n",
				arg, option, min, max);
		exit(2);
	}
	return (int) v;
}

static void
parse_options(int argc, char **argv, Options *o)
{
	enum
	{
		OPT_MAX_BODY = 256, OPT_MAX_HEADERS, OPT_MAX_CONNECTIONS,
		OPT_ACQUIRE_TIMEOUT, OPT_CONNECT_TIMEOUT, OPT_IDLE_TIMEOUT, OPT_DRAIN_TIMEOUT
	};
	static const struct option longopts[] = {
		{"listen", required_argument, NULL, 'l'},
		{"port", required_argument, NULL, 'p'},
		{"conninfo", required_argument, NULL, 'd'},
		{"role", required_argument, NULL, 'r'},
		{"pool-size", required_argument, NULL, 'n'},
		{"max-body", required_argument, NULL, OPT_MAX_BODY},
		{"max-headers", required_argument, NULL, OPT_MAX_HEADERS},
		{"max-connections", required_argument, NULL, OPT_MAX_CONNECTIONS},
		{"acquire-timeout", required_argument, NULL, OPT_ACQUIRE_TIMEOUT},
		{"connect-timeout", required_argument, NULL, OPT_CONNECT_TIMEOUT},
		{"idle-timeout", required_argument, NULL, OPT_IDLE_TIMEOUT},
		{"drain-timeout", required_argument, NULL, OPT_DRAIN_TIMEOUT},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0}
	};
	int			c;

	o->server.listen_address = "127.0.0.1";
	o->server.port = 8080;
	o->server.max_body = 65536;
	o->server.max_headers = 8192;
	o->server.max_connections = 256;
	o->server.connection_timeout_s = 30;
	o->pool.conninfo = "";
	o->pool.role = "orders_api";
	o->pool.size = 4;
	o->pool.acquire_timeout_ms = 5000;
	o->pool.connect_timeout_s = 3;
	o->drain_timeout_s = 10;

	while ((c = getopt_long(argc, argv, "l:p:d:r:n:hV", longopts, NULL)) != -1)
	{
		switch (c)
		{
			case 'l':
				o->server.listen_address = optarg;
				break;
			case 'p':
				o->server.port = parse_int(optarg, 0, 65535, "port");
				break;
			case 'd':
				o->pool.conninfo = optarg;
				break;
			case 'r':
				o->pool.role = optarg;
				break;
			case 'n':
				o->pool.size = parse_int(optarg, 1, 1000, "pool-size");
				break;
			case OPT_MAX_BODY:
				o->server.max_body = parse_int(optarg, 1, 64 * 1024 * 1024, "max-body");
				break;
			case OPT_MAX_HEADERS:
				o->server.max_headers = parse_int(optarg, 256, 1024 * 1024, "max-headers");
				break;
			case OPT_MAX_CONNECTIONS:
				o->server.max_connections = parse_int(optarg, 1, 100000, "max-connections");
				break;
			case OPT_ACQUIRE_TIMEOUT:
				o->pool.acquire_timeout_ms = parse_int(optarg, 0, 600000, "acquire-timeout");
				break;
			case OPT_CONNECT_TIMEOUT:
				o->pool.connect_timeout_s = parse_int(optarg, 1, 600, "connect-timeout");
				break;
			case OPT_IDLE_TIMEOUT:
				o->server.connection_timeout_s = parse_int(optarg, 1, 3600, "idle-timeout");
				break;
			case OPT_DRAIN_TIMEOUT:
				o->drain_timeout_s = parse_int(optarg, 0, 3600, "drain-timeout");
				break;
			case 'h':
				usage(stdout);
				exit(0);
			case 'V':
				printf("orders-gateway %s\n", GATEWAY_VERSION);
				exit(0);
			default:
				fprintf(stderr, "Try \"orders-gateway --help\" for more information.\n");
				exit(2);
		}
	}
	if (optind < argc)
	{
		fprintf(stderr, "orders-gateway: unexpected argument \"%s\"\n", argv[optind]);
		fprintf(stderr, "Try \"orders-gateway --help\" for more information.\n");
		exit(2);
	}
}

/*
 * Let the requests in progress finish, up to the drain timeout; a second
 * signal cuts the wait short.
 */
static void
drain(Server *server, const sigset_t *signals, int timeout_s)
{
	struct timespec tick = {0, 20 * 1000 * 1000};
	long		waited_ms = 0;

	log_msg("shutting down: %d request(s) in progress", server_in_flight(server));
	server_quiesce(server);
	while (server_in_flight(server) > 0 && waited_ms < timeout_s * 1000L)
	{
		if (sigtimedwait(signals, NULL, &tick) > 0)
		{
			log_msg("second signal: not waiting any longer");
			break;
		}
		waited_ms += 20;
	}
	if (server_in_flight(server) > 0)
		log_msg("%d request(s) still in progress, closing their connections",
				server_in_flight(server));
}

int
main(int argc, char **argv)
{
	Options		o;
	sigset_t	signals;
	Pool	   *pool;
	Server	   *server;
	int			sig;

	parse_options(argc, argv, &o);

	/*
	 * Block the stop signals before any thread exists, so every thread
	 * inherits the mask and only sigwait() below sees them.
	 */
	sigemptyset(&signals);
	sigaddset(&signals, SIGTERM);
	sigaddset(&signals, SIGINT);
	pthread_sigmask(SIG_BLOCK, &signals, NULL);
	signal(SIGPIPE, SIG_IGN);

	pool = pool_create(&o.pool);
	if (pool == NULL)
	{
		log_msg("out of memory");
		return 1;
	}
	server = server_start(&o.server, pool);
	if (server == NULL)
	{
		pool_destroy(pool);
		return 1;
	}
	log_msg("listening on %s port %d (pool of %d connections, role %s)",
			o.server.listen_address, server_port(server), o.pool.size,
			o.pool.role[0] ? o.pool.role : "(none)");

	while (sigwait(&signals, &sig) != 0)
		;
	log_msg("received %s", sig == SIGTERM ? "SIGTERM" : "SIGINT");
	drain(server, &signals, o.drain_timeout_s);
	server_stop(server);
	pool_destroy(pool);
	log_msg("stopped");
	return 0;
}
