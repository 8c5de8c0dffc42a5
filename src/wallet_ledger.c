/*
 * wallet_ledger.c
 *		The two triggers that make the ledger the only way to move a wallet's
 *		balance (schema/51_wallets.sql, docs/money.md):
 *
 *	- orders.ledger_apply(), BEFORE INSERT on orders.ledger_entries: moves the
 *	  wallet's balance by the entry's amount (one UPDATE, whose row lock
 *	  serialises the movements of a wallet; a concurrent movement re-checks
 *	  the balance after ours commits), never below zero, and records the
 *	  balance after it in the entry;
 *	- orders.wallet_guard(), BEFORE INSERT OR UPDATE on orders.wallets: a new
 *	  wallet starts empty, and balance, currency and client change only from
 *	  ledger_apply (a trigger of the ledger: trigger depth 2 there).
 *
 * In C since issue 11: both fire on every order (its debit), and were
 * PL/pgSQL functions, each call entering the PL/pgSQL executor.  Same
 * statements, same checks, same messages.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/rel.h"

#include "order_money.h"
#include "orders.h"

static void
check_row_trigger(FunctionCallInfo fcinfo, const char *name)
{
	TriggerData *td = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_BEFORE(td->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(td->tg_event))
		elog(ERROR, "%s: must be fired BEFORE, FOR EACH ROW", name);
}

/* A column of the trigger's row; (Datum) 0 with *isnull when NULL. */
static Datum
row_value(HeapTuple tuple, Relation rel, const char *column, bool *isnull)
{
	int			attnum = SPI_fnumber(RelationGetDescr(rel), column);

	if (attnum <= 0)
		elog(ERROR, "%s has no column \"%s\"", RelationGetRelationName(rel), column);
	return heap_getattr(tuple, attnum, RelationGetDescr(rel), isnull);
}

static char *
numeric_text(Datum n)
{
	return DatumGetCString(DirectFunctionCall1(numeric_out, n));
}

PG_FUNCTION_INFO_V1(ledger_apply);

Datum
ledger_apply(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr move_plan = NULL;
	static SPIPlanPtr wallet_plan = NULL;
	static const Oid types[2] = {INT8OID, NUMERICOID};
	TriggerData *td = (TriggerData *) fcinfo->context;
	Relation	rel;
	HeapTuple	entry;
	Datum		args[2];
	bool		wallet_null,
				amount_null,
				client_null,
				isnull;
	int64		wallet_id;
	int64		client_id;
	int64		wallet_client;
	Datum		balance;
	int			balance_after;
	int			rc;

	check_row_trigger(fcinfo, "ledger_apply");
	if (!TRIGGER_FIRED_BY_INSERT(td->tg_event))
		elog(ERROR, "ledger_apply: must be fired by INSERT");
	rel = td->tg_relation;
	entry = td->tg_trigtuple;
	args[0] = row_value(entry, rel, "wallet_id", &wallet_null);
	args[1] = row_value(entry, rel, "amount", &amount_null);
	client_id = DatumGetInt64(row_value(entry, rel, "client_id", &client_null));
	/* NOT NULL columns: their constraints say so, after this trigger */
	if (wallet_null || amount_null || client_null)
		return PointerGetDatum(entry);
	wallet_id = DatumGetInt64(args[0]);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	rc = SPI_execute_plan(order_saved_plan(&move_plan,
		"UPDATE orders.wallets SET balance = balance + $2"
		" WHERE id = $1 AND balance + $2 >= 0 RETURNING client_id, balance",
		2, types), args, NULL, false, 0);
	if (rc != SPI_OK_UPDATE_RETURNING)
		elog(ERROR, "ledger_apply: wallet update failed: %s", SPI_result_code_string(rc));
	if (SPI_processed == 0)
	{
		rc = SPI_execute_plan(order_saved_plan(&wallet_plan,
			"SELECT currency, balance FROM orders.wallets WHERE id = $1",
			1, types), args, NULL, false, 1);
		if (rc != SPI_OK_SELECT)
			elog(ERROR, "ledger_apply: wallet lookup failed: %s", SPI_result_code_string(rc));
		if (SPI_processed == 0)
			ereport(ERROR,
					(errcode(ERRCODE_ORDERS_NOT_FOUND),
					 errmsg("wallet " INT64_FORMAT " does not exist", wallet_id)));
		{
			char	   *currency = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
			char	   *available = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);

			ereport(ERROR,
					(errcode(ERRCODE_ORDERS_REFUSED),
					 errmsg("insufficient balance: %s %s needed, %s %s available",
							numeric_text(DirectFunctionCall1(numeric_uminus, args[1])),
							currency, available, currency)));
		}
	}
	wallet_client = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
												1, &isnull));
	if (wallet_client != client_id)
		ereport(ERROR,
				(errcode(ERRCODE_ORDERS_INVALID_INPUT),
				 errmsg("ledger entry of client " INT64_FORMAT " names wallet " INT64_FORMAT
						" of client " INT64_FORMAT, client_id, wallet_id, wallet_client)));
	/* into the caller's memory: SPI's goes at SPI_finish */
	balance = SPI_datumTransfer(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
											  2, &isnull), false, -1);
	SPI_finish();

	balance_after = SPI_fnumber(RelationGetDescr(rel), "balance_after");
	if (balance_after <= 0)
		elog(ERROR, "ledger_apply: %s has no column balance_after", RelationGetRelationName(rel));
	isnull = false;
	return PointerGetDatum(heap_modify_tuple_by_cols(entry, RelationGetDescr(rel), 1,
													 &balance_after, &balance, &isnull));
}

/* Two values of a column differ (NULL and NULL do not; IS DISTINCT FROM). */
static bool
column_changed(HeapTuple before, HeapTuple after, Relation rel, const char *column,
			   PGFunction equal)
{
	bool		before_null,
				after_null;
	Datum		a = row_value(before, rel, column, &before_null);
	Datum		b = row_value(after, rel, column, &after_null);

	if (before_null || after_null)
		return before_null != after_null;
	/* the column's collation (char(3) compares under it; the others ignore it) */
	return !DatumGetBool(DirectFunctionCall2Coll(equal, DEFAULT_COLLATION_OID, a, b));
}

PG_FUNCTION_INFO_V1(wallet_guard);

Datum
wallet_guard(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	Relation	rel;
	bool		isnull;

	check_row_trigger(fcinfo, "wallet_guard");
	rel = td->tg_relation;
	if (TRIGGER_FIRED_BY_INSERT(td->tg_event))
	{
		Datum		balance = row_value(td->tg_trigtuple, rel, "balance", &isnull);

		if (!isnull &&
			!DatumGetBool(DirectFunctionCall2(numeric_eq, balance,
											  DirectFunctionCall1(int4_numeric, Int32GetDatum(0)))))
			ereport(ERROR,
					(errcode(ERRCODE_ORDERS_APPEND_ONLY),
					 errmsg("a wallet starts with balance 0: fund it through the ledger"),
					 errhint("Use orders.fund_wallet().")));
		return PointerGetDatum(td->tg_trigtuple);
	}
	if (TRIGGER_FIRED_BY_UPDATE(td->tg_event))
	{
		HeapTuple	before = td->tg_trigtuple;
		HeapTuple	after = td->tg_newtuple;

		/*
		 * Only ledger_apply moves a balance: the ledger's trigger (depth 1)
		 * updates the wallet, whose trigger this is (depth 2).  currency and
		 * client_id are NOT NULL; the comparisons are the SQL ones (<>).
		 */
		if ((column_changed(before, after, rel, "balance", numeric_eq) ||
			 column_changed(before, after, rel, "currency", bpchareq) ||
			 column_changed(before, after, rel, "client_id", int8eq)) &&
			DatumGetInt32(DirectFunctionCall1(pg_trigger_depth, (Datum) 0)) < 2)
			ereport(ERROR,
					(errcode(ERRCODE_ORDERS_APPEND_ONLY),
					 errmsg("wallet " INT64_FORMAT ": balance, currency and client change only through the ledger",
							DatumGetInt64(row_value(before, rel, "id", &isnull))),
					 errhint("Use orders.fund_wallet() or orders.refund_order().")));
		return PointerGetDatum(after);
	}
	elog(ERROR, "wallet_guard: must be fired by INSERT or UPDATE");
	PG_RETURN_NULL();			/* not reached */
}
