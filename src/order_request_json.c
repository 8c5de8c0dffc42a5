/*
 * order_request_json.c
 *		orders.create_order(p_client_id bigint, p_request jsonb): the reference
 *		003 request object (the "data" member) parsed once, each field checked
 *		against the type the reference gives it, then placed by the same core
 *		as the typed function (place_order, src/order_create.c).
 *
 * The checks and messages are those of the SQL version this replaces: a
 * field of the wrong type is OR100 naming it; JSON null is absent.
 */
#include "postgres.h"

#include "catalog/pg_collation.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"

#include "order_create.h"
#include "orders.h"

#define OR100(...) \
	ereport(ERROR, (errcode(ERRCODE_ORDERS_INVALID_INPUT), errmsg(__VA_ARGS__)))

static JsonbValue *
member(JsonbContainer *object, const char *key)
{
	JsonbValue *v = getKeyJsonValueFromContainer(object, key, strlen(key), NULL);

	return (v == NULL || v->type == jbvNull) ? NULL : v;
}

static char *
number_text(JsonbValue *v)
{
	return DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(v->val.numeric)));
}

/* all of s matches: optional '-' (if allowed), then min..max digits */
static bool
all_digits(const char *s, bool sign, int min, int max)
{
	int			n = 0;

	if (sign && *s == '-')
		s++;
	for (; *s; s++, n++)
		if (*s < '0' || *s > '9')
			return false;
	return n >= min && n <= max;
}

/* An integer of at most 18 digits (a JSON number); NULL when absent. */
static char *
integer_field(JsonbValue *v, const char *field)
{
	char	   *text;

	if (v == NULL)
		return NULL;
	if (v->type != jbvNumeric || !all_digits(text = number_text(v), true, 1, 18))
		OR100("%s: must be an integer", field);
	return text;
}

/* An amount: a number, or a string holding one ("25.00"). */
static Datum
amount_field(JsonbValue *v, const char *field, bool *absent)
{
	*absent = (v == NULL);
	if (v == NULL)
		return (Datum) 0;
	if (v->type == jbvNumeric)
		return NumericGetDatum(v->val.numeric);
	if (v->type == jbvString)
	{
		char	   *s = pnstrdup(v->val.string.val, v->val.string.len);
		char	   *dot = strchr(s, '.');
		bool		ok;

		if (dot != NULL)
		{
			*dot = '\0';
			ok = all_digits(s, false, 1, 12) && all_digits(dot + 1, false, 1, PG_INT32_MAX);
			*dot = '.';
		}
		else
			ok = all_digits(s, false, 1, 12);
		if (ok)
			return DirectFunctionCall3(numeric_in, CStringGetDatum(s),
									   ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
	}
	OR100("%s: must be a number", field);
	return (Datum) 0;			/* not reached */
}

/* The reference sends 1 or 0; true and false are accepted too. */
static bool
flag_field(JsonbValue *v, const char *field)
{
	if (v == NULL)
		return false;
	if (v->type == jbvBool)
		return v->val.boolean;
	if (v->type == jbvNumeric)
	{
		int			one = DatumGetInt32(DirectFunctionCall2(numeric_cmp,
															NumericGetDatum(v->val.numeric),
															NumericGetDatum(int64_to_numeric(1))));
		int			zero = DatumGetInt32(DirectFunctionCall2(numeric_cmp,
															 NumericGetDatum(v->val.numeric),
															 NumericGetDatum(int64_to_numeric(0))));

		if (one == 0)
			return true;
		if (zero == 0)
			return false;
	}
	OR100("%s: must be 1 or 0", field);
	return false;				/* not reached */
}

static text *
string_field(JsonbValue *v, const char *field)
{
	if (v == NULL)
		return NULL;
	if (v->type != jbvString)
		OR100("%s: must be a string", field);
	return cstring_to_text_with_len(v->val.string.val, v->val.string.len);
}

/* A phone number, as a string or a JSON integer. */
static text *
digits_field(JsonbValue *v, const char *field)
{
	char	   *s;

	if (v == NULL)
		return NULL;
	if (v->type == jbvString)
		return cstring_to_text_with_len(v->val.string.val, v->val.string.len);
	if (v->type == jbvNumeric && all_digits(s = number_text(v), false, 1, PG_INT32_MAX))
		return cstring_to_text(s);
	OR100("%s: must be a string of digits", field);
	return NULL;				/* not reached */
}

PG_FUNCTION_INFO_V1(order_create_json);

Datum
order_create_json(PG_FUNCTION_ARGS)
{
	Jsonb	   *request = PG_ARGISNULL(1) ? NULL : PG_GETARG_JSONB_P(1);
	JsonbContainer *data;
	JsonbContainer *topup = NULL;
	JsonbValue *v;
	OrderRequest r;
	char	   *product;
	char	   *quantity;
	Datum		quantity_number;
	Datum		response;
	bool		replayed;

	if (request == NULL || JB_ROOT_IS_SCALAR(request) || !JB_ROOT_IS_OBJECT(request))
		OR100("data: must be a JSON object");
	data = &request->root;
	if ((v = member(data, "topupData")) != NULL)
	{
		if (v->type != jbvBinary || !JsonContainerIsObject(v->val.binary.data))
			OR100("topupData: must be an object");
		topup = v->val.binary.data;
	}

	memset(&r, 0, sizeof(r));
	r.client_null = PG_ARGISNULL(0);
	r.client_id = r.client_null ? 0 : PG_GETARG_INT64(0);

	/* The line, required, in the order the reference lists it. */
	if ((product = integer_field(member(data, "productId"), "productId")) == NULL)
		OR100("productId: is required");
	if ((quantity = integer_field(member(data, "quantity"), "quantity")) == NULL)
		OR100("quantity: is required");
	r.denomination = amount_field(member(data, "denomination"), "denomination",
								  &r.denomination_null);
	if (r.denomination_null)
		OR100("denomination: is required");
	quantity_number = DirectFunctionCall3(numeric_in, CStringGetDatum(quantity),
										  ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
	if (DatumGetInt32(DirectFunctionCall2(numeric_cmp, quantity_number,
										  NumericGetDatum(int64_to_numeric(1)))) < 0 ||
		DatumGetInt32(DirectFunctionCall2(numeric_cmp, quantity_number,
										  NumericGetDatum(int64_to_numeric(PG_INT32_MAX)))) > 0)
		OR100("quantity: must be an integer >= 1");
	r.product_id = DatumGetInt64(DirectFunctionCall1(int8in, CStringGetDatum(product)));
	r.quantity = DatumGetInt32(DirectFunctionCall1(int4in, CStringGetDatum(quantity)));

	r.email = string_field(member(data, "email"), "email");
	if (r.email != NULL && VARSIZE_ANY_EXHDR(r.email) == 0)
		r.email = NULL;			/* "" is no email */
	r.tag = string_field(member(data, "tag"), "tag");
	r.po_number = string_field(member(data, "poNumber"), "poNumber");
	r.notify_receiver = flag_field(member(data, "notifyReceiverEmail"), "notifyReceiverEmail");
	r.notify_admin = flag_field(member(data, "notifyAdminEmail"), "notifyAdminEmail");
	if (topup != NULL)
	{
		r.phone_code = string_field(member(topup, "topupPhoneCode"), "topupData.topupPhoneCode");
		r.phone_number = digits_field(member(topup, "topupPhoneNumber"),
									  "topupData.topupPhoneNumber");
	}

	response = place_order(&r, &replayed);
	PG_RETURN_DATUM(create_order_result(fcinfo, response, replayed));
}
