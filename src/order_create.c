/*
 * order_create.c
 *		orders.create_order(): placing an order (reference 003) in C.
 *
 * The order's write set, each row written once in its final state:
 *   - the order, its id drawn from its identity sequence first (and used as
 *     its client_seq, its place in the client's list), inserted
 *     DELIVERED / INVENTORY_FULFILLED (INSTANT), PENDING /
 *     VENDOR_ORDER_PENDING (DELAYED, top-ups), with the lifecycle armed with
 *     its path so the history and outbox rows of every step are written by
 *     the lifecycle trigger at that one insert (src/lifecycle.h);
 *   - the DEBIT ledger entry (its id drawn first too: the order names it),
 *     written last, after the response is built (debit_order: the wallet's
 *     row lock is then held only through the debit and the commit);
 *   - the items, DELIVERED with their unit (INSTANT) or PENDING;
 *   - the units, AVAILABLE -> ALLOCATED -> DELIVERED in one UPDATE;
 *   - a recharge per item of a top-up.
 * The units are claimed (FOR UPDATE SKIP LOCKED, earliest expiry first)
 * before the order is written, which is how INSTANT or DELAYED is decided.
 *
 * Idempotency: (client_id, po_number) is unique.  The key is looked up first
 * (a replay answers before any other check), and the order is inserted with
 * ON CONFLICT (client_id, po_number) DO NOTHING as the first write: a
 * concurrent duplicate waits there for the first request's transaction, then
 * writes nothing (its claimed units are only locked, and released at its
 * end), looks the key up again and answers the replay, or places the order
 * itself if the first rolled back.  The history and outbox of an order are
 * recorded after its row is really inserted (lifecycle_record), so a skipped
 * row leaves none.  No lock is shared by two different orders, and none is
 * taken per order beyond the rows written (a bulk of orders in one
 * transaction takes no lock-table slot per order).
 *
 * Every query is a saved SPI plan.  A replay's response is the stored
 * order's, built by one saved statement too (src/order_response.c).
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/dependency.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/sequence.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"

#include "labels.h"
#include "lifecycle.h"
#include "order_create.h"
#include "order_money.h"
#include "orders.h"
#include "reveal_audit.h"

/* The product, as far as ordering needs it. */
typedef struct OrderProduct
{
	bool		topup;
	bool		active;
	bool		offered;
	int32		quantity_limit;
	Datum		currency;
	Datum		discount_percent;
	Datum		name;
	Datum		vendor_logo;
} OrderProduct;

static int
label_code(const OrdersLabelSet *set, const char *label)
{
	int			code = orders_label_parse(set, label, strlen(label));

	if (code < 0)
		elog(ERROR, "unknown label \"%s\" of %s", label, set->type_name);
	return code;
}

static LifecycleStep
order_step(const char *status, const char *sub_status, const char *reason)
{
	LifecycleStep step;

	step.status = label_code(&orders_order_status_labels, status);
	step.sub_status = sub_status ?
		label_code(&orders_order_sub_status_labels, sub_status) : -1;
	step.reason = reason;
	return step;
}

static LifecycleStep
unit_step(const char *status, const char *reason)
{
	LifecycleStep step;

	step.status = label_code(&orders_inventory_status_labels, status);
	step.sub_status = -1;
	step.reason = reason;
	return step;
}

/* Runs a saved plan; SPI's result is in SPI_tuptable / SPI_processed. */
static void
run(SPIPlanPtr *slot, const char *sql, int nargs, const Oid *types,
	Datum *args, const char *nulls, int expect, long count)
{
	int			rc = SPI_execute_plan(order_saved_plan(slot, sql, nargs, types),
									  args, nulls, false, count);

	if (rc != expect)
		elog(ERROR, "create_order: query failed (%s): %s", SPI_result_code_string(rc), sql);
}

static Datum
column(int row, int col, bool *isnull)
{
	return SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col, isnull);
}

static Datum
text_or_null(text *t, char *nulls, int i)
{
	nulls[i] = t ? ' ' : 'n';
	return PointerGetDatum(t);
}

/* The id sequence of an orders.* table, looked up once per backend and
 * again if the table was re-created (its OID changed). */
typedef struct IdSequence
{
	const char *table;
	Oid			relid;
	Oid			seqid;
} IdSequence;

static int64
next_id(IdSequence *s)
{
	Oid			relid = get_relname_relid(s->table, get_namespace_oid("orders", false));

	if (!OidIsValid(relid))
		elog(ERROR, "table orders.%s does not exist", s->table);
	if (relid != s->relid)
	{
		s->seqid = getIdentitySequence(relid, get_attnum(relid, "id"), false);
		s->relid = relid;
	}
	/* no sequence privilege needed: the INSERT that uses the id checks the
	 * table's, as an identity column's default would */
	return nextval_internal(s->seqid, false);
}

/*
 * The client must exist (OR101), then the product (OR101): one query for
 * both, the client checked first.
 */
static void
load_client_and_product(int64 client_id, int64 product_id, Datum denomination, OrderProduct *p)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[3] = {INT8OID, NUMERICOID, INT8OID};
	Datum		args[3] = {Int64GetDatum(product_id), denomination, Int64GetDatum(client_id)};
	bool		isnull;

	run(&plan,
		"SELECT EXISTS (SELECT 1 FROM orders.clients c WHERE c.id = $3), p.id IS NOT NULL,"
		"       p.kind = 'TOPUP', p.active, orders.denomination_offered(p, $2),"
		"       p.order_quantity_limit, p.currency, p.discount_percent, p.name, p.vendor_logo"
		"  FROM (SELECT 1) one LEFT JOIN orders.products p ON p.id = $1",
		3, types, args, NULL, SPI_OK_SELECT, 1);
	if (!DatumGetBool(column(0, 1, &isnull)))
		ereport(ERROR,
				(errcode(ERRCODE_ORDERS_NOT_FOUND),
				 errmsg("client " INT64_FORMAT " does not exist", client_id)));
	if (!DatumGetBool(column(0, 2, &isnull)))
		ereport(ERROR,
				(errcode(ERRCODE_ORDERS_NOT_FOUND),
				 errmsg("productId: no product " INT64_FORMAT, product_id)));
	p->topup = DatumGetBool(column(0, 3, &isnull));
	p->active = DatumGetBool(column(0, 4, &isnull));
	p->offered = DatumGetBool(column(0, 5, &isnull));
	p->quantity_limit = DatumGetInt32(column(0, 6, &isnull));
	p->currency = column(0, 7, &isnull);
	p->discount_percent = column(0, 8, &isnull);
	p->name = column(0, 9, &isnull);
	p->vendor_logo = column(0, 10, &isnull);
}

/* The denominations a product offers, in words: for the error's hint. */
static char *
denominations_text(int64 product_id)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[1] = {INT8OID};
	Datum		args[1] = {Int64GetDatum(product_id)};
	bool		isnull;

	run(&plan, "SELECT orders.denominations_text(p) FROM orders.products p WHERE p.id = $1",
		1, types, args, NULL, SPI_OK_SELECT, 1);
	return TextDatumGetCString(column(0, 1, &isnull));
}

/*
 * The request's fingerprint (what makes two requests "the same parameters":
 * every field but the poNumber, normalized; jsonb sorts the keys), and the
 * order already placed under this key, if any.  Returns that order's id or 0.
 */
static int64
lookup_key(OrderRequest *r, Datum *fingerprint, bool *same)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[11] = {INT8OID, INT4OID, NUMERICOID, TEXTOID, TEXTOID, BOOLOID,
		BOOLOID, TEXTOID, TEXTOID, INT8OID, TEXTOID};
	Datum		args[11];
	char		nulls[11];
	bool		isnull;
	Datum		existing;

	memset(nulls, ' ', sizeof(nulls));
	args[0] = Int64GetDatum(r->product_id);
	args[1] = Int32GetDatum(r->quantity);
	args[2] = r->denomination;
	args[3] = text_or_null(r->email, nulls, 3);
	args[4] = text_or_null(r->tag, nulls, 4);
	args[5] = BoolGetDatum(r->notify_receiver);
	args[6] = BoolGetDatum(r->notify_admin);
	args[7] = text_or_null(r->phone_code, nulls, 7);
	args[8] = text_or_null(r->phone_number, nulls, 8);
	args[9] = Int64GetDatum(r->client_id);
	args[10] = PointerGetDatum(r->po_number);
	run(&plan,
		"SELECT f.fp, o.id, o.request_fingerprint IS NOT DISTINCT FROM f.fp"
		"  FROM (SELECT pg_catalog.sha256(pg_catalog.convert_to(pg_catalog.jsonb_build_object("
		"         'productId', $1, 'quantity', $2, 'denomination', orders.money_text($3),"
		"         'email', pg_catalog.lower($4), 'tag', $5, 'notifyReceiverEmail', $6,"
		"         'notifyAdminEmail', $7, 'topupPhoneCode', $8, 'topupPhoneNumber', $9)::text,"
		"         'UTF8')) AS fp) f"
		"  LEFT JOIN orders.orders o ON o.client_id = $10 AND o.po_number = $11",
		11, types, args, nulls, SPI_OK_SELECT, 1);
	*fingerprint = column(0, 1, &isnull);
	existing = column(0, 2, &isnull);
	if (isnull)
		return 0;
	*same = DatumGetBool(column(0, 3, &isnull));
	return DatumGetInt64(existing);
}

/* Up to quantity AVAILABLE unexpired units, earliest expiry first, locked;
 * units other transactions hold are skipped.  Returns how many. */
static int
claim_units(int64 product_id, Datum denomination, int32 quantity, Datum *units)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[3] = {INT8OID, NUMERICOID, INT4OID};
	Datum		args[3] = {Int64GetDatum(product_id), denomination, Int32GetDatum(quantity)};
	bool		isnull;
	uint64		i;

	run(&plan,
		"SELECT u.id FROM orders.inventory_units u"
		" WHERE u.product_id = $1 AND u.denomination = $2"
		"   AND u.status = 'AVAILABLE' AND u.expires_at > now()"
		" ORDER BY u.expires_at, u.id LIMIT $3 FOR UPDATE SKIP LOCKED",
		3, types, args, NULL, SPI_OK_SELECT, 0);
	for (i = 0; i < SPI_processed; i++)
		units[i] = column(i, 1, &isnull);
	return (int) SPI_processed;
}

static const int64 *
int64_ids(const Datum *values, int n)
{
	int64	   *ids = palloc(sizeof(int64) * n);
	int			i;

	for (i = 0; i < n; i++)
		ids[i] = DatumGetInt64(values[i]);
	return ids;
}

static ArrayType *
int8_array(Datum *values, int n)
{
	return construct_array(values, n, INT8OID, sizeof(int64), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
}

/* What an order writes, decided before anything is written. */
typedef struct OrderWrite
{
	OrderRequest *r;
	OrderProduct *p;
	OrderCharge *c;
	Datum		fingerprint;
	int64		order_id;
	int64		debit_id;
	Datum	   *items;
	Datum	   *units;
	int			nunits;
	bool		instant;
	const char *status;
	const char *sub_status;
} OrderWrite;

/*
 * The write set of a new order but its debit (debit_order), every row once
 * and in its final state.
 * Returns false, having written nothing, when an order with the same key was
 * committed meanwhile.  The caller disarms the lifecycle whatever happens
 * (PG_FINALLY).
 */
static bool
write_order(const OrderWrite *w)
{
	OrderRequest *rq = w->r;
	const OrderCharge *cg = w->c;
	LifecycleStep path[4];
	int			npath = 0;

	/* The order, once, in its final state, with the path that led there. */
	path[npath++] = order_step("PLACED", "INITIAL", "order placed");
	if (w->p->topup)
		path[npath++] = order_step("PENDING", "VENDOR_ORDER_PENDING", "wallet debited");
	else
	{
		path[npath++] = order_step("PENDING", "INITIAL", "wallet debited");
		if (w->instant)
			path[npath++] = order_step("DELIVERED", "INVENTORY_FULFILLED",
									   "delivered from inventory");
		else
			path[npath++] = order_step("PENDING", "VENDOR_ORDER_PENDING",
									   "inventory short: waiting for a vendor order");
	}
	lifecycle_arm(LIFECYCLE_ORDER, &w->order_id, 1, path, npath);
	{
		static SPIPlanPtr plan = NULL;
		static const Oid types[24] = {INT8OID, INT8OID, TEXTOID, INT8OID, NUMERICOID,
			INT4OID, TEXTOID, TEXTOID, BYTEAOID, TEXTOID, TEXTOID, BOOLOID, BOOLOID,
			TEXTOID, TEXTOID, BPCHAROID, NUMERICOID, NUMERICOID, NUMERICOID,
			NUMERICOID, NUMERICOID, NUMERICOID, NUMERICOID, INT8OID};
		Datum		args[24];
		char		nulls[24];

		memset(nulls, ' ', sizeof(nulls));
		args[0] = Int64GetDatum(w->order_id);
		args[1] = Int64GetDatum(rq->client_id);
		args[2] = PointerGetDatum(rq->po_number);
		args[3] = Int64GetDatum(rq->product_id);
		args[4] = rq->denomination;
		args[5] = Int32GetDatum(rq->quantity);
		args[6] = CStringGetTextDatum(w->status);
		args[7] = CStringGetTextDatum(w->sub_status);
		args[8] = w->fingerprint;
		args[9] = text_or_null(rq->email, nulls, 9);
		args[10] = text_or_null(rq->tag, nulls, 10);
		args[11] = BoolGetDatum(rq->notify_receiver);
		args[12] = BoolGetDatum(rq->notify_admin);
		args[13] = text_or_null(rq->phone_code, nulls, 13);
		args[14] = text_or_null(rq->phone_number, nulls, 14);
		args[15] = cg->currency;
		args[16] = cg->currency_value;
		args[17] = cg->discount_percent;
		args[18] = cg->raw_order_total;
		args[19] = cg->order_total;
		args[20] = cg->raw_order_discount;
		args[21] = cg->order_discount;
		args[22] = cg->amount_charged;
		args[23] = Int64GetDatum(w->debit_id);
		run(&plan,
			"INSERT INTO orders.orders (id, client_seq, client_id, po_number, product_id, denomination,"
			"  quantity, status, sub_status, request_fingerprint, email, tag,"
			"  notify_receiver_email, notify_admin_email, mobile_country_code, mobile_number,"
			"  charge_currency, currency_value, discount_percent, raw_order_total, order_total,"
			"  raw_order_discount, order_discount, amount_charged, transaction_id)"
			" OVERRIDING SYSTEM VALUE VALUES ($1, $1, $2, $3, $4, $5, $6,"
			"  $7::orders.order_status, $8::orders.order_sub_status, $9, $10, $11, $12, $13,"
			"  $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24)"
			" ON CONFLICT (client_id, po_number) DO NOTHING",
			24, types, args, nulls, SPI_OK_INSERT, 0);
	}
	lifecycle_disarm();
	if (SPI_processed == 0)
		return false;

	/* The items, in their final state: with their unit when INSTANT. */
	{
		static SPIPlanPtr plan = NULL;
		static const Oid types[5] = {INT8ARRAYOID, INT8OID, INT8OID, TEXTOID, INT8ARRAYOID};
		Datum		args[5];
		char		nulls[5] = {' ', ' ', ' ', ' ', ' '};
		LifecycleStep item_path[2];

		args[0] = PointerGetDatum(int8_array(w->items, rq->quantity));
		args[1] = Int64GetDatum(rq->client_id);
		args[2] = Int64GetDatum(w->order_id);
		args[3] = CStringGetTextDatum(w->instant ? "DELIVERED" : "PENDING");
		if (w->instant)
			args[4] = PointerGetDatum(int8_array(w->units, w->nunits));
		else
		{
			args[4] = (Datum) 0;
			nulls[4] = 'n';
		}
		if (w->instant)
		{
			item_path[0].status = label_code(&orders_order_status_labels, "PENDING");
			item_path[0].sub_status = -1;
			item_path[0].reason = "order placed";
			item_path[1].status = label_code(&orders_order_status_labels, "DELIVERED");
			item_path[1].sub_status = -1;
			item_path[1].reason = "delivered from inventory";
			lifecycle_arm(LIFECYCLE_ORDER_ITEM, int64_ids(w->items, rq->quantity), rq->quantity,
					  item_path, 2);
		}
		run(&plan,
			"INSERT INTO orders.order_items (id, client_id, order_id, status, unit_id)"
			" OVERRIDING SYSTEM VALUE"
			" SELECT i.id, $2, $3, $4::orders.order_status, u.unit"
			"   FROM unnest($1) WITH ORDINALITY i(id, n)"
			"   LEFT JOIN unnest($5) WITH ORDINALITY u(unit, n) USING (n)"
			"  ORDER BY i.n",
			5, types, args, nulls, SPI_OK_INSERT, 0);
		lifecycle_disarm();
	}

	if (w->instant)
	{
		/* The units: AVAILABLE -> ALLOCATED -> DELIVERED, one write each. */
		static SPIPlanPtr plan = NULL;
		static const Oid types[1] = {INT8ARRAYOID};
		Datum		args[1];
		LifecycleStep unit_path[2];

		unit_path[0] = unit_step("ALLOCATED", psprintf("allocated to order " INT64_FORMAT, w->order_id));
		unit_path[1] = unit_step("DELIVERED", "delivered from inventory");
		args[0] = PointerGetDatum(int8_array(w->units, w->nunits));
		lifecycle_arm(LIFECYCLE_INVENTORY_UNIT, int64_ids(w->units, w->nunits), w->nunits,
				  unit_path, 2);
		run(&plan,
			"UPDATE orders.inventory_units SET status = 'DELIVERED' WHERE id = ANY ($1)",
			1, types, args, NULL, SPI_OK_UPDATE, 0);
		lifecycle_disarm();
	}

	if (w->p->topup)
	{
		static SPIPlanPtr plan = NULL;
		static const Oid types[2] = {INT8OID, INT8ARRAYOID};
		Datum		args[2];

		args[0] = Int64GetDatum(rq->client_id);
		args[1] = PointerGetDatum(int8_array(w->items, rq->quantity));
		run(&plan,
			"INSERT INTO orders.recharges (client_id, order_item_id)"
			" SELECT $1, i FROM unnest($2) i",
			2, types, args, NULL, SPI_OK_INSERT, 0);
	}
	return true;
}

/*
 * The order's debit: the ledger entry, whose trigger moves the wallet's
 * balance (never below zero) under the wallet's row lock.  Every order of a
 * client updates that one row and holds its lock until commit, so the debit
 * is the order's last write, after the response is built: a client's
 * concurrent orders then wait for each other only through the debit and the
 * commit, not through the rest of the order (or the reveal's audit).  A
 * refused debit (insufficient balance) still rolls the whole order back.
 */
static void
debit_order(const OrderWrite *w)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[5] = {INT8OID, INT8OID, INT8OID, NUMERICOID, INT8OID};
	Datum		args[5];

	args[0] = Int64GetDatum(w->debit_id);
	args[1] = Int64GetDatum(w->r->client_id);
	args[2] = Int64GetDatum(w->c->wallet_id);
	args[3] = DirectFunctionCall1(numeric_uminus, w->c->amount_charged);
	args[4] = Int64GetDatum(w->order_id);
	run(&plan,
		"INSERT INTO orders.ledger_entries (id, client_id, wallet_id, kind, amount, order_id)"
		" OVERRIDING SYSTEM VALUE VALUES ($1, $2, $3, 'DEBIT', $4, $5)",
		5, types, args, NULL, SPI_OK_INSERT, 0);
}

/*
 * The answer for a key already used: the order as it is now (a replay), or
 * OR102 when the parameters differ.  Ends the SPI connection.
 */
static Datum
answer_existing(OrderRequest *r, int64 existing, bool same, bool *replayed)
{
	Datum		response;
	bool		isnull;

	if (!same)
		ereport(ERROR,
				(errcode(ERRCODE_ORDERS_PO_NUMBER_CONFLICT),
				 errmsg("poNumber: \"%s\" was already used for order " INT64_FORMAT
						" with other parameters", text_to_cstring(r->po_number), existing),
				 errhint("Use a new poNumber for a new order, or send the original parameters to get the original order.")));
	response = order_stored_response(existing, &isnull);
	if (isnull)
		elog(ERROR, "create_order: order " INT64_FORMAT " of poNumber \"%s\" cannot be read",
			 existing, text_to_cstring(r->po_number));
	response = SPI_datumTransfer(response, false, -1);
	SPI_finish();
	*replayed = true;
	return response;
}

/*
 * Places the order of a request, or finds the one placed earlier under its
 * key.  Returns the response (in the caller's memory context).
 */
Datum
place_order(OrderRequest *rq, bool *replayed)
{
	OrderRequest r = *rq;
	OrderProduct p;
	OrderCharge c;
	OrderWrite	w;
	Datum		fingerprint;
	Datum		balance;
	bool		same = false;
	int64		existing;
	Datum		response;
	bool		isnull;
	volatile bool written = false;
	bool		covered;
	int			i;
	static IdSequence order_seq = {"orders", InvalidOid, InvalidOid};
	static IdSequence ledger_seq = {"ledger_entries", InvalidOid, InvalidOid};
	static IdSequence item_seq = {"order_items", InvalidOid, InvalidOid};

	/* Validation, once: the numbers, then the free-form fields. */
	order_check_line(r.product_null, r.product_id, r.denomination_null, r.denomination,
					 r.quantity_null, r.quantity);
	order_check_request(r.po_number, r.email, r.tag, r.phone_code, r.phone_number);
	if (r.client_null)
		ereport(ERROR,
				(errcode(ERRCODE_ORDERS_NOT_FOUND),
				 errmsg("client must not be null")));

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	load_client_and_product(r.client_id, r.product_id, r.denomination, &p);

	/* The idempotency key: a replay answers before any other check. */
	existing = lookup_key(&r, &fingerprint, &same);
	if (existing != 0)
		return answer_existing(&r, existing, same, replayed);

	/* Orderable? */
	if (!p.active)
		ereport(ERROR,
				(errcode(ERRCODE_ORDERS_REFUSED),
				 errmsg("productId: product " INT64_FORMAT " is not available for ordering",
						r.product_id)));
	if (!p.offered)
		ereport(ERROR,
				(errcode(ERRCODE_ORDERS_INVALID_INPUT),
				 errmsg("denomination: %s is not offered by product " INT64_FORMAT,
						DatumGetCString(DirectFunctionCall1(numeric_out, r.denomination)),
						r.product_id),
				 errhint("Denominations of product " INT64_FORMAT ": %s.",
						 r.product_id, denominations_text(r.product_id))));
	if (r.quantity > p.quantity_limit)
		ereport(ERROR,
				(errcode(ERRCODE_ORDERS_INVALID_INPUT),
				 errmsg("quantity: %d is over the order quantity limit of product " INT64_FORMAT " (%d)",
						r.quantity, r.product_id, p.quantity_limit)));
	if (p.topup && r.phone_code == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_ORDERS_INVALID_INPUT),
				 errmsg("topupData: is required for top-up product " INT64_FORMAT, r.product_id)));

	order_price(r.client_id, r.product_id, p.currency, p.discount_percent,
				r.denomination, r.quantity, &c, &balance);

	/* INSTANT or DELAYED, decided by the units claimed now. */
	w.r = &r;
	w.p = &p;
	w.c = &c;
	w.fingerprint = fingerprint;
	w.units = palloc(sizeof(Datum) * r.quantity);
	w.nunits = p.topup ? 0 : claim_units(r.product_id, r.denomination, r.quantity, w.units);
	w.instant = !p.topup && w.nunits == r.quantity;
	w.status = w.instant ? "DELIVERED" : "PENDING";
	w.sub_status = w.instant ? "INVENTORY_FULFILLED" : "VENDOR_ORDER_PENDING";

	/* The ids first: the rows name each other. */
	w.order_id = next_id(&order_seq);
	w.debit_id = next_id(&ledger_seq);
	w.items = palloc(sizeof(Datum) * r.quantity);
	for (i = 0; i < r.quantity; i++)
		w.items[i] = Int64GetDatum(next_id(&item_seq));

	/*
	 * An INSTANT response reveals its vouchers, audited (committed by the
	 * audit worker) before anything is decrypted.  Hand that audit to the
	 * worker now, so that its commit runs while the order is written; the
	 * response's reveal waits for it (src/reveal_audit.c).  Only when the
	 * write is expected to succeed (the balance as this snapshot sees it
	 * covers the charge): an audit row for an order that then fails names a
	 * reveal that never happened, which only a race can cause.
	 */
	covered = DatumGetBool(DirectFunctionCall2(numeric_le, c.amount_charged, balance));
	if (w.instant && covered)
		reveal_audit_prepare(r.client_id, w.order_id, int64_ids(w.items, r.quantity),
							 int64_ids(w.units, w.nunits), w.nunits);

	PG_TRY();
	{
		written = write_order(&w);
	}
	PG_FINALLY();
	{
		lifecycle_disarm();
	}
	PG_END_TRY();
	if (!written)
	{
		/* a concurrent request with the key committed first: its order */
		existing = lookup_key(&r, &fingerprint, &same);
		if (existing == 0)
			elog(ERROR, "create_order: the order of poNumber \"%s\" conflicted but cannot be found",
				 text_to_cstring(r.po_number));
		return answer_existing(&r, existing, same, replayed);
	}

	/*
	 * A charge the balance did not cover is debited now, before the
	 * response: the debit is then refused (unless the wallet was funded
	 * meanwhile) before any voucher is revealed.  Otherwise it comes last.
	 */
	if (!covered)
		debit_order(&w);

	/* The response, built from what was just written (no re-read). */
	{
		static SPIPlanPtr plan = NULL;
		static const Oid types[20] = {INT8OID, BPCHAROID, NUMERICOID, NUMERICOID, NUMERICOID,
			NUMERICOID, NUMERICOID, NUMERICOID, NUMERICOID, TEXTOID, BOOLOID, TEXTOID,
			INT4OID, INT8OID, TEXTOID, BPCHAROID, NUMERICOID, TEXTOID, TEXTOID, INT8OID};
		Datum		args[20];
		char		nulls[20];

		memset(nulls, ' ', sizeof(nulls));
		args[0] = Int64GetDatum(w.order_id);
		args[1] = c.currency;
		args[2] = c.currency_value;
		args[3] = c.discount_percent;
		args[4] = c.raw_order_total;
		args[5] = c.order_total;
		args[6] = c.raw_order_discount;
		args[7] = c.order_discount;
		args[8] = c.amount_charged;
		args[9] = CStringGetTextDatum(w.status);
		args[10] = BoolGetDatum(w.instant);
		args[11] = text_or_null(r.tag, nulls, 11);
		args[12] = Int32GetDatum(r.quantity);
		args[13] = Int64GetDatum(r.product_id);
		args[14] = p.name;
		args[15] = p.currency;
		args[16] = r.denomination;
		args[17] = p.vendor_logo;
		args[18] = text_or_null(r.email, nulls, 18);
		args[19] = Int64GetDatum(r.client_id);
		run(&plan,
			"SELECT pg_catalog.jsonb_build_object('data', pg_catalog.jsonb_build_object('placeOrder',"
			" pg_catalog.jsonb_build_object('status', 1, 'data',"
			"  pg_catalog.jsonb_build_object('orderId', $1)"
			"  || orders.charge_json(ROW(NULL, $2, $3::numeric(20,10), $4, $5, $6, $7, $8, $9)::orders.charge)"
			"  || pg_catalog.jsonb_build_object("
			"     'orderStatus', $10,"
			"     'deliveryStatus', CASE WHEN $11 THEN 'DELIVERED' ELSE 'PENDING' END,"
			"     'tag', $12,"
			"     'quantity', $13,"
			"     'vouchers', CASE WHEN $11 THEN orders.reveal_vouchers($20, $1) ELSE '[]' END,"
			"     'voucherDetails', (SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object("
			"         'orderId', $1, 'productId', $14, 'productName', $15, 'currencyCode', $16,"
			"         'productStatus', CASE WHEN $11 THEN 'DELIVERED' ELSE 'PENDING' END,"
			"         'denomination', $17::numeric(14,2), 'vendorLogo', $18))"
			"       FROM pg_catalog.generate_series(1, $13)),"
			"     'orderMeta', pg_catalog.jsonb_build_object('email', $19)))))",
			20, types, args, nulls, SPI_OK_SELECT, 1);
	}
	response = SPI_datumTransfer(column(0, 1, &isnull), false, -1);
	if (covered)
		debit_order(&w);
	SPI_finish();
	*replayed = false;
	return response;
}

Datum
create_order_result(FunctionCallInfo fcinfo, Datum response, bool replayed)
{
	TupleDesc	desc;
	Datum		values[2];
	bool		nulls[2] = {false, false};

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "orders.create_order must return (response jsonb, replayed boolean)");
	desc = BlessTupleDesc(desc);
	values[0] = response;
	values[1] = BoolGetDatum(replayed);
	return HeapTupleGetDatum(heap_form_tuple(desc, values, nulls));
}

/* orders.create_order(p_client_id bigint, p_product_id bigint, ...): the typed core */
PG_FUNCTION_INFO_V1(order_create);

Datum
order_create(PG_FUNCTION_ARGS)
{
	OrderRequest r;
	Datum		response;
	bool		replayed;

	memset(&r, 0, sizeof(r));
	r.client_null = PG_ARGISNULL(0);
	r.client_id = r.client_null ? 0 : PG_GETARG_INT64(0);
	r.product_null = PG_ARGISNULL(1);
	r.product_id = r.product_null ? 0 : PG_GETARG_INT64(1);
	r.quantity_null = PG_ARGISNULL(2);
	r.quantity = r.quantity_null ? 0 : PG_GETARG_INT32(2);
	r.denomination_null = PG_ARGISNULL(3);
	r.denomination = r.denomination_null ? (Datum) 0 : PG_GETARG_DATUM(3);
#define TEXT_ARG(n) (PG_ARGISNULL(n) ? NULL : PG_GETARG_TEXT_PP(n))
	r.email = TEXT_ARG(4);
	r.tag = TEXT_ARG(5);
	r.po_number = TEXT_ARG(6);
	r.phone_code = TEXT_ARG(9);
	r.phone_number = TEXT_ARG(10);
#undef TEXT_ARG
	r.notify_receiver = !PG_ARGISNULL(7) && PG_GETARG_BOOL(7);
	r.notify_admin = !PG_ARGISNULL(8) && PG_GETARG_BOOL(8);

	response = place_order(&r, &replayed);
	PG_RETURN_DATUM(create_order_result(fcinfo, response, replayed));
}
