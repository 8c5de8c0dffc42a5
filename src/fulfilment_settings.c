/*
 * fulfilment_settings.c
 *		Settings of fulfilment: the vendor job queue's lease length, retry
 *		backoff and retry window, the sandbox vendor, restock on load; and
 *		the backoff formula.
 *
 * The queue's settings are superuser settings (postgresql.conf, ALTER
 * SYSTEM, or SET by a superuser), read by the SQL of schema/6x_*.sql
 * through orders.vendor_policy() and orders.vendor_retry_delay(), so that
 * the background worker, an operator calling orders.run_maintenance() and a
 * vendor process all apply the same policy.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "datatype/timestamp.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/guc.h"
#include "utils/timestamp.h"

#include "orders.h"
#include "fulfilment_settings.h"

static int	lease_timeout_s = 300;
static int	retry_base_s = 30;
static int	retry_max_s = 3600;
static int	retry_window_s = 86400;
static bool sandbox_vendor = false;
static bool restock_on_load = true;

/* The queue's durations: superuser settings in seconds. */
static const struct
{
	const char *name;
	const char *description;
	int		   *value;
	int			max;
}			durations[] = {
	{"orders.vendor_lease_timeout",
		"How long a claimed vendor job is held before it returns to the queue.",
	&lease_timeout_s, 7 * 86400},
	{"orders.vendor_retry_base",
		"Delay before the first retry of a vendor job; doubled at each further attempt.",
	&retry_base_s, 86400},
	{"orders.vendor_retry_max",
		"Longest delay between two attempts of a vendor job.",
	&retry_max_s, 7 * 86400},
	{"orders.vendor_retry_window",
		"How long after it was queued a vendor job may still be retried; past it the order fails and is refunded.",
	&retry_window_s, 365 * 86400},
};

/* Called from _PG_init: the settings of fulfilment, then the worker. */
void
orders_fulfilment_init(void)
{
	int			i;

	for (i = 0; i < (int) lengthof(durations); i++)
		DefineCustomIntVariable(durations[i].name, durations[i].description, NULL,
								durations[i].value, *durations[i].value, 1, durations[i].max,
								PGC_SUSET, GUC_UNIT_S, NULL, NULL, NULL);
	DefineCustomBoolVariable("orders.sandbox_vendor",
							 "Let orders.run_maintenance() (and so the background worker) play the sandbox vendor.",
							 "For demos and tests only: the sandbox invents voucher codes.",
							 &sandbox_vendor, false,
							 PGC_SUSET, 0, NULL, NULL, NULL);
	/*
	 * Read by the restock trigger (schema/64_inventory.sql).  Off, a load
	 * leaves waiting items to the next maintenance round.  An operator's
	 * setting only: a vendor job's vouchers are marked in their rows
	 * (vendor_job_id) and never restock, whatever it says.
	 */
	DefineCustomBoolVariable("orders.restock_on_load",
							 "Loading inventory first serves the items waiting for that product and denomination.",
							 NULL, &restock_on_load, true,
							 PGC_USERSET, 0, NULL, NULL, NULL);
	orders_worker_init();
}

/*
 * Seconds to wait before attempt number "attempt" + 1, after "attempt"
 * attempts failed: base * 2^(attempt - 1), capped at max.  Pure C.
 */
int64_t
vendor_retry_delay_seconds(int attempt, int64_t base, int64_t max)
{
	int64_t		delay = base;

	if (attempt < 1)
		return 0;
	while (--attempt > 0 && delay < max)
		delay *= 2;
	return delay < max ? delay : max;
}

static Interval *
interval_of_seconds(int64_t seconds)
{
	Interval   *result = palloc0(sizeof(Interval));

	result->time = seconds * USECS_PER_SEC;
	return result;
}

PG_FUNCTION_INFO_V1(vendor_retry_delay);

/* orders.vendor_retry_delay(attempt integer) RETURNS interval */
Datum
vendor_retry_delay(PG_FUNCTION_ARGS)
{
	int32		attempt = PG_GETARG_INT32(0);

	if (attempt < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("attempt must be at least 1, not %d", attempt)));
	PG_RETURN_INTERVAL_P(interval_of_seconds(
											 vendor_retry_delay_seconds(attempt, retry_base_s, retry_max_s)));
}

PG_FUNCTION_INFO_V1(vendor_policy);

/* orders.vendor_policy(): the current settings as one row of intervals */
Datum
vendor_policy(PG_FUNCTION_ARGS)
{
	TupleDesc	desc;
	Datum		values[5];
	bool		nulls[5] = {false, false, false, false, false};

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "vendor_policy must be declared with OUT parameters");
	desc = BlessTupleDesc(desc);
	values[0] = IntervalPGetDatum(interval_of_seconds(lease_timeout_s));
	values[1] = IntervalPGetDatum(interval_of_seconds(retry_base_s));
	values[2] = IntervalPGetDatum(interval_of_seconds(retry_max_s));
	values[3] = IntervalPGetDatum(interval_of_seconds(retry_window_s));
	values[4] = BoolGetDatum(sandbox_vendor);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}
