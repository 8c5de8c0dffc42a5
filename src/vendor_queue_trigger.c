/*
 * vendor_queue_trigger.c
 *		orders.queue_vendor_job(): AFTER INSERT OR UPDATE OF status, sub_status
 *		on orders.orders, WHEN the order is PENDING / VENDOR_ORDER_PENDING
 *		(schema/61_vendor_queue.sql): queues the order's vendor job, one per
 *		order, its retry window fixed now (docs/fulfilment.md).
 *
 * In C since issue 11: every DELAYED order fires it at its insert, and it
 * was a PL/pgSQL function of one statement.  The same statement, as a
 * saved plan.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/rel.h"

#include "order_money.h"

PG_FUNCTION_INFO_V1(queue_vendor_job);

Datum
queue_vendor_job(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[2] = {INT8OID, INT8OID};
	TriggerData *td = (TriggerData *) fcinfo->context;
	TupleDesc	desc;
	HeapTuple	order;
	Datum		args[2];
	bool		client_null,
				id_null;
	int			rc;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_AFTER(td->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(td->tg_event))
		elog(ERROR, "queue_vendor_job: must be fired AFTER, FOR EACH ROW");
	order = TRIGGER_FIRED_BY_UPDATE(td->tg_event) ? td->tg_newtuple : td->tg_trigtuple;
	desc = RelationGetDescr(td->tg_relation);
	args[0] = heap_getattr(order, SPI_fnumber(desc, "client_id"), desc, &client_null);
	args[1] = heap_getattr(order, SPI_fnumber(desc, "id"), desc, &id_null);
	if (client_null || id_null)
		elog(ERROR, "queue_vendor_job: the order has no id or client");

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	rc = SPI_execute_plan(order_saved_plan(&plan,
		"INSERT INTO orders.vendor_jobs (client_id, order_id, deadline)"
		" VALUES ($1, $2, pg_catalog.now() + (orders.vendor_policy()).retry_window)"
		" ON CONFLICT (order_id) DO NOTHING",
		2, types), args, NULL, false, 0);
	if (rc != SPI_OK_INSERT)
		elog(ERROR, "queue_vendor_job: insert failed: %s", SPI_result_code_string(rc));
	SPI_finish();
	return PointerGetDatum(NULL);
}
