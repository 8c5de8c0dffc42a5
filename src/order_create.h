/*
 * order_create.h
 *		The create path's request and its two SQL entry points: the typed
 *		orders.create_order (src/order_create.c) and the JSON one
 *		(src/order_request_json.c), which parses the request once and hands
 *		the same struct to the same core.
 */
#ifndef ORDER_CREATE_H
#define ORDER_CREATE_H

#include "fmgr.h"

/* An order request, typed; NULL text fields are absent. */
typedef struct OrderRequest
{
	int64		client_id;
	int64		product_id;
	int32		quantity;
	Datum		denomination;
	bool		client_null;	/* the numbers may be missing: errors */
	bool		product_null;
	bool		quantity_null;
	bool		denomination_null;
	text	   *email;
	text	   *tag;
	text	   *po_number;
	bool		notify_receiver;
	bool		notify_admin;
	text	   *phone_code;
	text	   *phone_number;
} OrderRequest;

/* Places the order (or finds the one placed under its key); the response
 * is in the caller's memory context. */
extern Datum place_order(OrderRequest *request, bool *replayed);

/* The response of an order already stored (src/order_response.c), inside
 * the caller's SPI connection; *isnull when there is no such order. */
extern Datum order_stored_response(int64 order_id, bool *isnull);

/* The (response jsonb, replayed boolean) row of either entry point. */
extern Datum create_order_result(FunctionCallInfo fcinfo, Datum response, bool replayed);

#endif							/* ORDER_CREATE_H */
