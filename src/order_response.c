/*
 * order_response.c
 *		The placeOrder response (reference 003) of an order already stored:
 *		what a replay of its poNumber answers (src/order_create.c), and
 *		orders.place_order_response(order_id).
 *
 * One saved statement reads the order, its product and its items and builds
 * the body, revealing the vouchers of a delivered gift-card order through
 * the vault (orders.reveal_vouchers: audited before anything is decrypted).
 * It was a PL/pgSQL function of four statements; a replay spent most of its
 * own time (outside the reveal) entering it.  The body is the same JSON,
 * field for field: the same expressions, in one statement.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"

#include "order_create.h"
#include "order_money.h"

/*
 * The response of the order, or (Datum) 0 with *isnull set when there is no
 * such order.  Inside the caller's SPI connection: the value lives until
 * SPI_finish.
 */
Datum
order_stored_response(int64 order_id, bool *isnull)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[1] = {INT8OID};
	Datum		args[1] = {Int64GetDatum(order_id)};
	int			rc;

	rc = SPI_execute_plan(order_saved_plan(&plan,
		"SELECT pg_catalog.jsonb_build_object('data', pg_catalog.jsonb_build_object('placeOrder',"
		" pg_catalog.jsonb_build_object('status', 1, 'data',"
		"  pg_catalog.jsonb_build_object('orderId', o.id)"
		"  || orders.charge_json(ROW(NULL, o.charge_currency, o.currency_value, o.discount_percent,"
		"       o.raw_order_total, o.order_total, o.raw_order_discount, o.order_discount,"
		"       o.amount_charged)::orders.charge)"
		"  || pg_catalog.jsonb_build_object("
		"     'orderStatus', o.status,"
		"     'deliveryStatus', CASE"
		"        WHEN d.total > 0 AND d.delivered = d.total THEN 'DELIVERED'"
		"        WHEN d.delivered > 0 THEN 'PARTIALLY_DELIVERED'"
		"        WHEN o.status IN ('FAILED', 'CANCELLED') THEN o.status::text"
		"        ELSE 'PENDING' END,"
		"     'tag', o.tag,"
		"     'quantity', o.quantity,"
		"     'vouchers', CASE"
		"        WHEN p.kind = 'GIFT_CARD' AND o.status IN ('DELIVERED', 'PARTIALLY_DELIVERED')"
		"        THEN orders.reveal_vouchers(o.client_id, o.id) ELSE '[]'::jsonb END,"
		"     'voucherDetails', d.details,"
		"     'orderMeta', pg_catalog.jsonb_build_object('email', o.email)))))"
		"  FROM orders.orders o"
		"  JOIN orders.products p ON p.id = o.product_id,"
		"  LATERAL (SELECT pg_catalog.count(*) AS total,"
		"                  pg_catalog.count(*) FILTER (WHERE it.status = 'DELIVERED') AS delivered,"
		"                  coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object("
		"                    'orderId', o.id, 'productId', p.id, 'productName', p.name,"
		"                    'currencyCode', p.currency,"
		"                    'productStatus', coalesce(r.status::text, it.status::text),"
		"                    'denomination', o.denomination, 'vendorLogo', p.vendor_logo)"
		"                    ORDER BY it.id), '[]'::jsonb) AS details"
		"             FROM orders.order_items it"
		"             LEFT JOIN orders.recharges r ON r.order_item_id = it.id"
		"            WHERE it.order_id = o.id) d"
		" WHERE o.id = $1",
		1, types), args, NULL, false, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "place_order_response: query failed (%s)", SPI_result_code_string(rc));
	if (SPI_processed == 0)
	{
		*isnull = true;
		return (Datum) 0;
	}
	return SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, isnull);
}

PG_FUNCTION_INFO_V1(order_place_response);

/*
 * orders.place_order_response(order_id bigint) RETURNS jsonb: the response
 * of a stored order; NULL when there is no such order.
 */
Datum
order_place_response(PG_FUNCTION_ARGS)
{
	Datum		response;
	bool		isnull;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	response = order_stored_response(PG_GETARG_INT64(0), &isnull);
	if (!isnull)
		response = SPI_datumTransfer(response, false, -1);
	SPI_finish();
	if (isnull)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(response);
}
