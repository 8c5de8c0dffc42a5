/*
 * db_metrics.h
 *		The engine's metrics, read from the database for GET /metrics:
 *		orders.metrics_exposition() (schema/77_metrics.sql), in a read-only
 *		transaction switched to the metrics role.
 */
#ifndef GATEWAY_DB_METRICS_H
#define GATEWAY_DB_METRICS_H

#include <stdbool.h>

#include "pool.h"
#include "strbuf.h"

/*
 * Append the database's metrics to out; false (and nothing appended) when
 * they cannot be read: no connection within the acquire timeout (sqlstate
 * ""), or the call failed (sqlstate its SQLSTATE, for the caller to log).
 * role: "" for no switch.
 */
extern bool db_metrics_append(Pool *pool, const char *role, StrBuf *out,
							  char sqlstate[6]);

#endif
