/*
 * order_money.h
 *		The checks and the pricing of an order line, shared by the create path
 *		(src/order_create.c) and their SQL entry points (orders.check_order_line,
 *		orders.check_order_request, orders.price; schema/52, 53).
 */
#ifndef ORDER_MONEY_H
#define ORDER_MONEY_H

#include "executor/spi.h"
#include "fmgr.h"

/* The reference's "Charges" of an order: orders.charge, field for field. */
typedef struct OrderCharge
{
	int64		wallet_id;
	Datum		currency;		/* bpchar: the wallet's, the currencyCode */
	Datum		currency_value; /* numeric: product currency -> wallet currency */
	Datum		discount_percent;	/* numeric(5,2) */
	Datum		raw_order_total;	/* numeric, exact */
	Datum		order_total;	/* numeric(14,2), rounded to the minor unit */
	Datum		raw_order_discount; /* numeric, exact */
	Datum		order_discount; /* numeric(14,2) */
	Datum		amount_charged; /* numeric(14,2): order_total - order_discount */
} OrderCharge;

#define ORDER_CHARGE_NFIELDS 9

/* Raise OR100 naming the field; NULL arguments are checked as missing. */
extern void order_check_line(bool product_null, int64 product_id,
							 bool denomination_null, Datum denomination,
							 bool quantity_null, int32 quantity);
extern void order_check_request(text *po_number, text *email, text *tag,
								text *phone_code, text *phone_number);

/*
 * Prices p_quantity units of denomination of a product for a client, inside
 * the caller's SPI connection (the Datums live until SPI_finish).  Raises
 * OR103 when the client has no usable wallet or no exchange rate exists.
 * balance, if not NULL, gets the wallet's balance as this snapshot sees it
 * (numeric): a hint only, the ledger's trigger decides under the row lock.
 */
extern void order_price(int64 client_id, int64 product_id, Datum product_currency,
						Datum product_discount, Datum denomination, int32 quantity,
						OrderCharge *charge, Datum *balance);

/* A saved SPI plan, prepared on first use (inside an SPI connection); its
 * generic plan is always used (no planning per call). */
extern SPIPlanPtr order_saved_plan(SPIPlanPtr *slot, const char *sql,
								   int nargs, const Oid *argtypes);

#endif							/* ORDER_MONEY_H */
