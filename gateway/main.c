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
#include <sys/resource.h>
#include <time.h>

#include "log.h"
#include "metrics_server.h"
#include "pool.h"
#include "server.h"
#include "tls.h"

/* The release, from orders.control (Makefile): one version for the extension and its programs. */
#ifndef GATEWAY_VERSION
#error "GATEWAY_VERSION is defined by the Makefile"
#endif

typedef struct Options
{
	PoolConfig	pool;
	ServerConfig server;
	MetricsConfig metrics;
	int			drain_timeout_s;
	const char *tls_cert;		/* PEM files; both or neither */
	const char *tls_key;
} Options;

static void
usage(FILE *out)
{
	fprintf(out,
			"orders-gateway: the REST gateway of the orders extension\n"
			"\n"
			"Serves /api/v1/... over HTTP: each request becomes one call of\n"
			"api.dispatch(method, path, query, headers, body) in PostgreSQL, and its\n"
			"result the response.  The gateway serves one path itself:\n"
			"GET /api/v1/openapi.json (the API description).  Health: GET /api/v1/health.\n"
			"Metrics for Prometheus: GET /metrics on a listener of its own (--metrics-port).\n"
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
			"      --max-target=BYTES    a longer request target (path and query)\n"
			"                            gets 414 (8192)\n"
			"      --max-headers=BYTES   larger request headers get 431 (8192)\n"
			"      --max-connections=N   HTTP connections served at once; more get 503 (256)\n"
			"      --max-connections-per-address=N\n"
			"                            of those, from one client address (32)\n"
			"      --request-timeout=S   a request's headers and body must arrive within\n"
			"                            this, from the connection's start or the previous\n"
			"                            response; else the connection is closed (10)\n"
			"      --acquire-timeout=MS  wait this long for a free database connection,\n"
			"                            then answer 503 (5000)\n"
			"      --connect-timeout=S   libpq connect_timeout, unless CONNINFO sets it (3)\n"
			"      --idle-timeout=S      close idle HTTP connections after this (30)\n"
			"      --drain-timeout=S     on SIGTERM/SIGINT, wait this long for requests\n"
			"                            in progress (10)\n"
			"      --tls-cert=FILE       serve HTTPS only (TLS 1.2 and 1.3) with this PEM\n"
			"                            certificate chain; needs --tls-key\n"
			"      --tls-key=FILE        the PEM private key of --tls-cert\n"
			"                            (SIGHUP reads both files again)\n"
			"      --metrics-port=PORT   serve GET /metrics (Prometheus) on this port, 0 for\n"
			"                            any free one, -1 for none (-1: no metrics listener)\n"
			"      --metrics-listen=ADDR the metrics listener's numeric address (127.0.0.1)\n"
			"      --metrics-role=ROLE   a scrape reads orders.metrics() as this role (SET\n"
			"                            LOCAL ROLE), \"\" for none (orders_metrics)\n"
			"  -h, --help                show this help and exit\n"
			"  -V, --version             show the version and exit\n"
			"\n"
			"One line per request goes to stderr: method, path, status, duration.\n"
			"Headers, query strings and bodies are never logged.\n");
}

/*
 * The numeric options: name, short option (or a code above 255), range and
 * default.  One table, so each is parsed and range-checked the same way.
 */
enum
{
	NUM_PORT, NUM_POOL_SIZE, NUM_MAX_BODY, NUM_MAX_TARGET, NUM_MAX_HEADERS, NUM_MAX_CONNECTIONS,
	NUM_MAX_PER_ADDRESS, NUM_REQUEST_TIMEOUT,
	NUM_ACQUIRE_TIMEOUT, NUM_CONNECT_TIMEOUT, NUM_IDLE_TIMEOUT, NUM_DRAIN_TIMEOUT,
	NUM_METRICS_PORT,
	NUM_OPTIONS
};

static const struct
{
	const char *name;
	int			code;
	long		min;
	long		max;
	long		fallback;
}			numeric_options[NUM_OPTIONS] = {
	[NUM_PORT] = {"port", 'p', 0, 65535, 8080},
	[NUM_POOL_SIZE] = {"pool-size", 'n', 1, 1000, 4},
	[NUM_MAX_BODY] = {"max-body", 256 + NUM_MAX_BODY, 1, 64 * 1024 * 1024, 65536},
	[NUM_MAX_TARGET] = {"max-target", 256 + NUM_MAX_TARGET, 256, 1024 * 1024, 8192},
	[NUM_MAX_HEADERS] = {"max-headers", 256 + NUM_MAX_HEADERS, 256, 1024 * 1024, 8192},
	[NUM_MAX_CONNECTIONS] = {"max-connections", 256 + NUM_MAX_CONNECTIONS, 1, 100000, 256},
	[NUM_MAX_PER_ADDRESS] = {"max-connections-per-address", 256 + NUM_MAX_PER_ADDRESS, 1, 100000, 32},
	[NUM_REQUEST_TIMEOUT] = {"request-timeout", 256 + NUM_REQUEST_TIMEOUT, 1, 3600, 10},
	[NUM_ACQUIRE_TIMEOUT] = {"acquire-timeout", 256 + NUM_ACQUIRE_TIMEOUT, 0, 600000, 5000},
	[NUM_CONNECT_TIMEOUT] = {"connect-timeout", 256 + NUM_CONNECT_TIMEOUT, 1, 600, 3},
	[NUM_IDLE_TIMEOUT] = {"idle-timeout", 256 + NUM_IDLE_TIMEOUT, 1, 3600, 30},
	[NUM_DRAIN_TIMEOUT] = {"drain-timeout", 256 + NUM_DRAIN_TIMEOUT, 0, 3600, 10},
	[NUM_METRICS_PORT] = {"metrics-port", 256 + NUM_METRICS_PORT, -1, 65535, -1},
};

static long
parse_number(const char *arg, int which)
{
	char	   *end;
	long		v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno != 0 || end == arg || *end != '\0' ||
		v < numeric_options[which].min || v > numeric_options[which].max)
	{
		fprintf(stderr, "orders-gateway: invalid value \"%s\" for --%s: expected an integer from %ld to %ld\n",
				arg, numeric_options[which].name,
				numeric_options[which].min, numeric_options[which].max);
		exit(2);
	}
	return v;
}

static void
parse_options(int argc, char **argv, Options *o)
{
	enum
	{
		OPT_TLS_CERT = 1000, OPT_TLS_KEY, OPT_METRICS_LISTEN, OPT_METRICS_ROLE
	};
	enum
	{
		NAMED_OPTIONS = 9
	};
	struct option longopts[NAMED_OPTIONS + NUM_OPTIONS + 1] = {
		{"listen", required_argument, NULL, 'l'},
		{"conninfo", required_argument, NULL, 'd'},
		{"role", required_argument, NULL, 'r'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{"tls-cert", required_argument, NULL, OPT_TLS_CERT},
		{"tls-key", required_argument, NULL, OPT_TLS_KEY},
		{"metrics-listen", required_argument, NULL, OPT_METRICS_LISTEN},
		{"metrics-role", required_argument, NULL, OPT_METRICS_ROLE},
	};
	long		num[NUM_OPTIONS];
	int			c,
				i;

	for (i = 0; i < NUM_OPTIONS; i++)
	{
		longopts[NAMED_OPTIONS + i].name = numeric_options[i].name;
		longopts[NAMED_OPTIONS + i].has_arg = required_argument;
		longopts[NAMED_OPTIONS + i].val = numeric_options[i].code;
		num[i] = numeric_options[i].fallback;
	}
	o->server.listen_address = "127.0.0.1";
	o->pool.conninfo = "";
	o->pool.role = "orders_api";
	o->tls_cert = NULL;
	o->tls_key = NULL;
	o->metrics.listen_address = "127.0.0.1";
	o->metrics.role = "orders_metrics";

	while ((c = getopt_long(argc, argv, "l:p:d:r:n:hV", longopts, NULL)) != -1)
	{
		for (i = 0; i < NUM_OPTIONS; i++)
			if (c == numeric_options[i].code)
				break;
		if (i < NUM_OPTIONS)
		{
			num[i] = parse_number(optarg, i);
			continue;
		}
		switch (c)
		{
			case 'l':
				o->server.listen_address = optarg;
				break;
			case 'd':
				o->pool.conninfo = optarg;
				break;
			case 'r':
				o->pool.role = optarg;
				break;
			case OPT_TLS_CERT:
				o->tls_cert = optarg;
				break;
			case OPT_TLS_KEY:
				o->tls_key = optarg;
				break;
			case OPT_METRICS_LISTEN:
				o->metrics.listen_address = optarg;
				break;
			case OPT_METRICS_ROLE:
				o->metrics.role = optarg;
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
	if ((o->tls_cert == NULL) != (o->tls_key == NULL))
	{
		fprintf(stderr, "orders-gateway: --tls-cert and --tls-key go together\n");
		exit(2);
	}
	o->server.tls = o->tls_cert != NULL;
	o->server.port = (int) num[NUM_PORT];
	o->server.max_body = (size_t) num[NUM_MAX_BODY];
	o->server.max_target = (size_t) num[NUM_MAX_TARGET];
	o->server.max_headers = (size_t) num[NUM_MAX_HEADERS];
	o->server.max_connections = (int) num[NUM_MAX_CONNECTIONS];
	o->server.max_per_address = (int) num[NUM_MAX_PER_ADDRESS];
	o->server.request_timeout_s = (int) num[NUM_REQUEST_TIMEOUT];
	o->server.connection_timeout_s = (int) num[NUM_IDLE_TIMEOUT];
	o->pool.size = (int) num[NUM_POOL_SIZE];
	o->pool.acquire_timeout_ms = (int) num[NUM_ACQUIRE_TIMEOUT];
	o->pool.connect_timeout_s = (int) num[NUM_CONNECT_TIMEOUT];
	o->drain_timeout_s = (int) num[NUM_DRAIN_TIMEOUT];
	o->metrics.port = (int) num[NUM_METRICS_PORT];
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
	sigset_t	stop = *signals;

	sigdelset(&stop, SIGHUP);	/* a reload request does not cut the drain */

	log_msg("shutting down: %d request(s) in progress", server_in_flight(server));
	server_quiesce(server);
	while (server_in_flight(server) > 0 && waited_ms < timeout_s * 1000L)
	{
		if (sigtimedwait(&stop, NULL, &tick) > 0)
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

/*
 * Raise the soft limit of open files to the hard one: each connection is a
 * descriptor, and rejecting a flood politely takes many.  Returns how many
 * descriptors connections may use (some are kept for the pool and logs).
 */
static int
descriptors_for_connections(int pool_size)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return 0;
	if (rl.rlim_cur < rl.rlim_max)
	{
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > 1000000)
		return 1000000;
	return (int) rl.rlim_cur > pool_size + 64 ? (int) rl.rlim_cur - pool_size - 64 : 1;
}

int
main(int argc, char **argv)
{
	Options		o;
	sigset_t	signals;
	Pool	   *pool;
	Server	   *server;
	MetricsServer *metrics = NULL;
	int			sig;

	parse_options(argc, argv, &o);

	/*
	 * Block the stop signals before any thread exists, so every thread
	 * inherits the mask and only sigwait() below sees them.
	 */
	sigemptyset(&signals);
	sigaddset(&signals, SIGTERM);
	sigaddset(&signals, SIGINT);
	sigaddset(&signals, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &signals, NULL);
	signal(SIGPIPE, SIG_IGN);

	o.server.max_descriptors = descriptors_for_connections(o.pool.size);
	if (o.server.tls && !tls_load(o.tls_cert, o.tls_key))
		return 1;
	pool = pool_create(&o.pool);
	if (pool == NULL)
	{
		log_msg("out of memory");
		tls_free();
		return 1;
	}
	server = server_start(&o.server, pool);
	if (server == NULL)
	{
		pool_destroy(pool);
		tls_free();
		return 1;
	}
	if (o.metrics.port >= 0)
	{
		metrics = metrics_server_start(&o.metrics, server, pool);
		if (metrics == NULL)
		{
			server_stop(server);
			pool_destroy(pool);
			tls_free();
			return 1;
		}
	}
	log_msg("listening on %s port %d, %s (pool of %d connections, role %s)",
			o.server.listen_address, server_port(server),
			o.server.tls ? "HTTPS only" : "plain HTTP", o.pool.size,
			o.pool.role[0] ? o.pool.role : "(none)");
	if (metrics != NULL)
		log_msg("metrics on %s port %d: GET /metrics (database role %s)",
				o.metrics.listen_address, metrics_server_port(metrics),
				o.metrics.role[0] ? o.metrics.role : "(none)");

	for (;;)
	{
		if (sigwait(&signals, &sig) != 0)
			continue;
		if (sig != SIGHUP)
			break;
		if (!o.server.tls)
			log_msg("received SIGHUP: nothing to reload (no TLS)");
		else if (tls_reload())
			log_msg("received SIGHUP: TLS certificate reloaded");
		else
			log_msg("received SIGHUP: TLS certificate not reloaded, the previous one stays");
	}
	log_msg("received %s", sig == SIGTERM ? "SIGTERM" : "SIGINT");
	drain(server, &signals, o.drain_timeout_s);
	/* the metrics listener reads the server's counters: it stops first */
	metrics_server_stop(metrics);
	server_stop(server);
	pool_destroy(pool);
	tls_free();
	log_msg("stopped");
	return 0;
}
