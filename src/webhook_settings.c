/*
 * webhook_settings.c
 *		The operator's settings of webhook delivery (docs/webhooks.md), all
 *		superuser settings, read by the SQL of schema/68_webhooks.sql and
 *		schema/69_webhook_delivery.sql through orders.webhook_policy().
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "datatype/timestamp.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/timestamp.h"

#include "orders.h"

static int	secret_grace_s = 86400;
static int	disable_after_s = 5 * 86400;
static bool allow_private_addresses = false;
/* Standard Webhooks' schedule: the delays before retry 1, 2, ... */
static char *retry_schedule = NULL;
/* how long ended deliveries and their events are kept (orders.webhook_purge) */
static int	retention_s = 30 * 86400;

void
orders_webhooks_init(void)
{
	DefineCustomIntVariable("orders.webhook_secret_grace",
							"How long the previous webhook secret keeps signing after a rotation.",
							NULL, &secret_grace_s, 86400, 0, 30 * 86400,
							PGC_SUSET, GUC_UNIT_S, NULL, NULL, NULL);
	DefineCustomIntVariable("orders.webhook_disable_after",
							"An endpoint whose deliveries failed continuously for longer than this is disabled.",
							NULL, &disable_after_s, 5 * 86400, 1, 365 * 86400,
							PGC_SUSET, GUC_UNIT_S, NULL, NULL, NULL);
	DefineCustomBoolVariable("orders.webhook_allow_private_addresses",
							 "Accept webhook URLs whose host is a loopback, private, link-local or metadata address.",
							 "For tests and closed networks only; the delivery daemon applies it to resolved addresses too.",
							 &allow_private_addresses, false,
							 PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomStringVariable("orders.webhook_retry_schedule",
							   "Delays before each retry of a failed webhook delivery, comma-separated intervals; after the last one the delivery is given up.",
							   NULL, &retry_schedule,
							   "5 seconds, 5 minutes, 30 minutes, 2 hours, 5 hours, 10 hours, 14 hours, 20 hours, 20 hours",
							   PGC_SUSET, 0, NULL, NULL, NULL);
	/* at least a day: the retry schedule's three days should fit in it */
	DefineCustomIntVariable("orders.webhook_retention",
							"Webhook events whose deliveries all ended longer ago than this are deleted, with their deliveries and attempts, by maintenance.",
							"Keep it longer than the retry schedule: an event with a delivery still pending is kept.",
							&retention_s, 30 * 86400, 86400, 3650 * 86400,
							PGC_SUSET, GUC_UNIT_S, NULL, NULL, NULL);
}

static Interval *
interval_of_seconds(int64 seconds)
{
	Interval   *result = palloc0(sizeof(Interval));

	result->time = seconds * USECS_PER_SEC;
	return result;
}

PG_FUNCTION_INFO_V1(webhook_policy);

/*
 * orders.webhook_policy(): the settings as one row (secret_grace interval,
 * disable_after interval, allow_private_addresses boolean, retry_schedule
 * text, retention interval; the schedule is parsed by
 * orders.webhook_retry_delays()).
 */
Datum
webhook_policy(PG_FUNCTION_ARGS)
{
	TupleDesc	desc;
	Datum		values[5];
	bool		nulls[5] = {false, false, false, false, false};

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "webhook_policy must be declared with OUT parameters");
	desc = BlessTupleDesc(desc);
	values[0] = IntervalPGetDatum(interval_of_seconds(secret_grace_s));
	values[1] = IntervalPGetDatum(interval_of_seconds(disable_after_s));
	values[2] = BoolGetDatum(allow_private_addresses);
	values[3] = CStringGetTextDatum(retry_schedule ? retry_schedule : "");
	values[4] = IntervalPGetDatum(interval_of_seconds(retention_s));
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}
