/*
 * metrics_server.h
 *		The metrics listener: GET /metrics in Prometheus' text format on an
 *		address and port of its own (--metrics-listen, --metrics-port),
 *		loopback by default, apart from the API's listener so that the
 *		public never reaches it by accident (docs/gateway.md, "Metrics").
 */
#ifndef GATEWAY_METRICS_SERVER_H
#define GATEWAY_METRICS_SERVER_H

#include "pool.h"
#include "server.h"

typedef struct MetricsConfig
{
	const char *listen_address; /* numeric IPv4 or IPv6 address */
	int			port;			/* 0: any free port; < 0: no listener */
	const char *role;			/* the database role of a scrape; "" none */
} MetricsConfig;

typedef struct MetricsServer MetricsServer;

extern MetricsServer *metrics_server_start(const MetricsConfig *config,
										   Server *server, Pool *pool);
extern int	metrics_server_port(MetricsServer *ms);
extern void metrics_server_stop(MetricsServer *ms);

#endif
