/*
 * order_money.c
 *		The checks of an order request and the pricing of an order line, in C
 *		for the create path (src/order_create.c), and the SQL functions that
 *		expose the same code: orders.check_order_line, orders.check_order_request
 *		and orders.price.  orders.quote() and orders.create_order() both price
 *		through order_price(), so a quote is exactly what create charges.
 *
 * The patterns are PostgreSQL regular expressions run by the server's own
 * engine (textregexeq, which caches compiled patterns), so the checks accept
 * exactly what the SQL versions they replace accepted.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/numeric.h"

#include "order_money.h"
#include "orders.h"

#define OR100(...) \
	ereport(ERROR, (errcode(ERRCODE_ORDERS_INVALID_INPUT), errmsg(__VA_ARGS__)))

SPIPlanPtr
order_saved_plan(SPIPlanPtr *slot, const char *sql, int nargs, const Oid *argtypes)
{
	if (*slot == NULL)
	{
		/*
		 * Always the generic plan: a custom plan is planned anew at every
		 * call, and the plan cache keeps choosing one whenever its estimate
		 * is lower, which constant folding makes it for the response's
		 * query (its SQL functions evaluated at planning: ~0.3 ms of
		 * planning per order, measured with track_planning).  These
		 * queries look rows up by key, so the generic plan is the custom
		 * one without the folding.
		 */
		SPIPlanPtr	plan = SPI_prepare_cursor(sql, nargs, (Oid *) argtypes,
											  CURSOR_OPT_GENERIC_PLAN);

		if (plan == NULL)
			elog(ERROR, "SPI_prepare failed for \"%s\": %s",
				 sql, SPI_result_code_string(SPI_result));
		if (SPI_keepplan(plan) != 0)
			elog(ERROR, "SPI_keepplan failed");
		*slot = plan;
	}
	return *slot;
}

static bool
matches(text *value, const char *pattern)
{
	return DatumGetBool(DirectFunctionCall2Coll(textregexeq, DEFAULT_COLLATION_OID,
												PointerGetDatum(value),
												CStringGetTextDatum(pattern)));
}

/* length() of a text: characters, not bytes */
static int
chars(text *value)
{
	return pg_mbstrlen_with_len(VARDATA_ANY(value), VARSIZE_ANY_EXHDR(value));
}

/* btrim(value) = '': only spaces (btrim trims spaces only) */
static bool
blank(text *value)
{
	const char *p = VARDATA_ANY(value);
	int			len = VARSIZE_ANY_EXHDR(value);
	int			i;

	for (i = 0; i < len; i++)
		if (p[i] != ' ')
			return false;
	return true;
}

static int
numeric_cmp_datum(Datum a, Datum b)
{
	return DatumGetInt32(DirectFunctionCall2(numeric_cmp, a, b));
}

void
order_check_line(bool product_null, int64 product_id,
				 bool denomination_null, Datum denomination,
				 bool quantity_null, int32 quantity)
{
	if (product_null || product_id <= 0)
		OR100("productId: must be a positive integer");
	if (quantity_null || quantity < 1)
		OR100("quantity: must be an integer >= 1");
	if (denomination_null ||
		numeric_cmp_datum(denomination, NumericGetDatum(int64_to_numeric(0))) <= 0 ||
		numeric_cmp_datum(denomination,
						  DirectFunctionCall3(numeric_in, CStringGetDatum("1e12"),
											  ObjectIdGetDatum(InvalidOid),
											  Int32GetDatum(-1))) >= 0 ||
		numeric_cmp_datum(denomination,
						  DirectFunctionCall2(numeric_round, denomination,
											  Int32GetDatum(2))) != 0)
		OR100("denomination: must be a positive amount with at most 2 decimals");
}

void
order_check_request(text *po_number, text *email, text *tag,
					text *phone_code, text *phone_number)
{
	if (po_number == NULL || blank(po_number))
		OR100("poNumber: is required");
	if (chars(po_number) > 100 || matches(po_number, "[[:cntrl:]]"))
		OR100("poNumber: must be at most 100 characters, without control characters");
	if (email != NULL &&
		(chars(email) > 254 ||
		 !matches(email, "^[^@[:space:][:cntrl:]]+@[^@[:space:][:cntrl:]]+\\.[^@[:space:][:cntrl:].]+$")))
		OR100("email: not a valid email address");
	if (tag != NULL && (chars(tag) > 100 || matches(tag, "[[:cntrl:]]")))
		OR100("tag: must be at most 100 characters, without control characters");
	if ((phone_code == NULL) != (phone_number == NULL))
		OR100("topupData: needs both topupPhoneCode and topupPhoneNumber");
	if (phone_code != NULL && !matches(phone_code, "^\\+[1-9][0-9]{0,3}$"))
		OR100("topupData.topupPhoneCode: must be + and a country calling code of 1 to 4 digits, like +91");
	/* E.164: at most 15 digits with the country code. */
	if (phone_number != NULL &&
		(!matches(phone_number, "^[0-9]{4,14}$") ||
		 chars(phone_code) - 1 + chars(phone_number) > 15))
		OR100("topupData.topupPhoneNumber: must be 4 to 14 digits, at most 15 with the country code");
}

/*
 * One query: the wallet charged (the one in the product's currency, else the
 * default one), the rate, the discount (the client's for the product, else
 * the product's), and the amounts, rounded to the wallet currency's minor
 * unit (numeric round() is half away from zero: half-up for these positive
 * amounts).  docs/money.md.  A NULL rate: no exchange rate exists.
 */
static const char *const price_sql =
"SELECT w.id, w.currency, r.cv, d.dp, t.raw_total,"
"       pg_catalog.round(t.raw_total, m.minor_unit)::numeric(14,2),"
"       t.raw_total * d.dp / 100,"
"       pg_catalog.round(t.raw_total * d.dp / 100, m.minor_unit)::numeric(14,2), w.balance"
"  FROM (SELECT id, currency, balance FROM orders.wallets"
"         WHERE client_id = $1 AND (currency = $2 OR is_default)"
"         ORDER BY currency = $2 DESC LIMIT 1) w"
"  CROSS JOIN LATERAL (SELECT CASE WHEN w.currency = $2 THEN 1::numeric"
"         ELSE (SELECT pg_catalog.trim_scale(x.rate) FROM orders.fx_rates x"
"               WHERE x.base = $2 AND x.quote = w.currency) END AS cv) r"
"  CROSS JOIN LATERAL (SELECT coalesce((SELECT cd.discount_percent"
"         FROM orders.client_discounts cd WHERE cd.client_id = $1 AND cd.product_id = $3),"
"         $4)::numeric(5,2) AS dp) d"
"  CROSS JOIN LATERAL (SELECT $5 * $6 * r.cv AS raw_total) t"
"  JOIN orders.currencies m ON m.code = w.currency";

void
order_price(int64 client_id, int64 product_id, Datum product_currency,
			Datum product_discount, Datum denomination, int32 quantity,
			OrderCharge *charge, Datum *balance)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[6] = {INT8OID, BPCHAROID, INT8OID, NUMERICOID, NUMERICOID, INT4OID};
	Datum		args[6];
	HeapTuple	row;
	TupleDesc	desc;
	bool		isnull;
	int			rc;

	args[0] = Int64GetDatum(client_id);
	args[1] = product_currency;
	args[2] = Int64GetDatum(product_id);
	args[3] = product_discount;
	args[4] = denomination;
	args[5] = Int32GetDatum(quantity);
	rc = SPI_execute_plan(order_saved_plan(&plan, price_sql, 6, types), args, NULL, false, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "pricing query failed: %s", SPI_result_code_string(rc));
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_ORDERS_REFUSED),
				 errmsg("client " INT64_FORMAT " has no wallet in %s and no default wallet",
						client_id, TextDatumGetCString(product_currency))));
	row = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	charge->wallet_id = DatumGetInt64(SPI_getbinval(row, desc, 1, &isnull));
	charge->currency = SPI_getbinval(row, desc, 2, &isnull);
	charge->currency_value = SPI_getbinval(row, desc, 3, &isnull);
	if (isnull)
		ereport(ERROR,
				(errcode(ERRCODE_ORDERS_REFUSED),
				 errmsg("no exchange rate from %s to %s",
						TextDatumGetCString(product_currency),
						TextDatumGetCString(charge->currency))));
	charge->discount_percent = SPI_getbinval(row, desc, 4, &isnull);
	charge->raw_order_total = SPI_getbinval(row, desc, 5, &isnull);
	charge->order_total = SPI_getbinval(row, desc, 6, &isnull);
	charge->raw_order_discount = SPI_getbinval(row, desc, 7, &isnull);
	charge->order_discount = SPI_getbinval(row, desc, 8, &isnull);
	/* both rounded to at most 2 decimals: the difference needs no rounding */
	charge->amount_charged = DirectFunctionCall2(numeric_sub, charge->order_total,
												 charge->order_discount);
	if (balance != NULL)
		*balance = SPI_getbinval(row, desc, 9, &isnull);
}

/* SQL entry points */

PG_FUNCTION_INFO_V1(order_check_line_sql);

Datum
order_check_line_sql(PG_FUNCTION_ARGS)
{
	order_check_line(PG_ARGISNULL(0), PG_ARGISNULL(0) ? 0 : PG_GETARG_INT64(0),
					 PG_ARGISNULL(1), PG_ARGISNULL(1) ? (Datum) 0 : PG_GETARG_DATUM(1),
					 PG_ARGISNULL(2), PG_ARGISNULL(2) ? 0 : PG_GETARG_INT32(2));
	PG_RETURN_VOID();
}

#define TEXT_ARG_OR_NULL(n) (PG_ARGISNULL(n) ? NULL : PG_GETARG_TEXT_PP(n))

PG_FUNCTION_INFO_V1(order_check_request_sql);

Datum
order_check_request_sql(PG_FUNCTION_ARGS)
{
	order_check_request(TEXT_ARG_OR_NULL(0), TEXT_ARG_OR_NULL(1), TEXT_ARG_OR_NULL(2),
						TEXT_ARG_OR_NULL(3), TEXT_ARG_OR_NULL(4));
	PG_RETURN_VOID();
}

/* orders.price(p_client_id bigint, p_product orders.products, p_denomination numeric, p_quantity integer) */
PG_FUNCTION_INFO_V1(order_price_sql);

Datum
order_price_sql(PG_FUNCTION_ARGS)
{
	HeapTupleHeader product;
	TupleDesc	result_desc;
	OrderCharge c;
	Datum		values[ORDER_CHARGE_NFIELDS];
	bool		nulls[ORDER_CHARGE_NFIELDS] = {0};
	Datum		id,
				currency,
				discount;
	bool		id_null,
				currency_null,
				discount_null;
	HeapTuple	result;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2) || PG_ARGISNULL(3))
		PG_RETURN_NULL();
	if (get_call_result_type(fcinfo, NULL, &result_desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "orders.price must return orders.charge");
	product = PG_GETARG_HEAPTUPLEHEADER(1);
	id = GetAttributeByName(product, "id", &id_null);
	currency = GetAttributeByName(product, "currency", &currency_null);
	discount = GetAttributeByName(product, "discount_percent", &discount_null);
	if (id_null || currency_null || discount_null)
		PG_RETURN_NULL();

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	order_price(PG_GETARG_INT64(0), DatumGetInt64(id), currency, discount,
				PG_GETARG_DATUM(2), PG_GETARG_INT32(3), &c, NULL);
	values[0] = Int64GetDatum(c.wallet_id);
	values[1] = c.currency;
	values[2] = c.currency_value;
	values[3] = c.discount_percent;
	values[4] = c.raw_order_total;
	values[5] = c.order_total;
	values[6] = c.raw_order_discount;
	values[7] = c.order_discount;
	values[8] = c.amount_charged;
	result_desc = BlessTupleDesc(result_desc);
	result = heap_form_tuple(result_desc, values, nulls);
	/* copied into the caller's context before SPI's is released */
	product = SPI_returntuple(result, result_desc);
	SPI_finish();
	PG_RETURN_HEAPTUPLEHEADER(product);
}
