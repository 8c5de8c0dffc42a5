/*
 * lifecycle_transition.c
 *		The SQL entry points of a status change with its reason:
 *		orders.transition_orders(), transition_order_items(),
 *		transition_inventory_units() and transition_recharges().
 *
 * Each arms the lifecycle trigger for the given rows with one step (the new
 * state and the reason), runs its UPDATE (a saved plan), and disarms in
 * PG_FINALLY: the reason reaches the history through arguments only, for
 * exactly the rows of this statement.  Rows already in the new state, and
 * ids that name no row, are left alone; NULL ids (array_agg of nothing) or
 * an empty array move nothing; the result is the number of rows moved.  The trigger checks every move as for any other UPDATE.
 */
#include "postgres.h"

#include "executor/spi.h"
#include "utils/builtins.h"

#include "lifecycle_internal.h"

/* Longest reason kept in the history (as orders.check_label in SQL). */
#define TRANSITION_REASON_MAX 500

typedef struct TransitionPlan
{
	const char *sql;
	SPIPlanPtr	plan;
	Oid			status_type;	/* the argument types the plan was made for */
	Oid			sub_type;
} TransitionPlan;

static TransitionPlan plans[] = {
	[LIFECYCLE_ORDER] = {
		"UPDATE orders.orders SET status = $2, sub_status = $3, updated_at = pg_catalog.now()"
		" WHERE id OPERATOR(pg_catalog.=) ANY ($1)"
		" AND NOT (status OPERATOR(pg_catalog.=) $2 AND sub_status OPERATOR(pg_catalog.=) $3)"},
	[LIFECYCLE_ORDER_ITEM] = {
		"UPDATE orders.order_items SET status = $2, updated_at = pg_catalog.now()"
		" WHERE id OPERATOR(pg_catalog.=) ANY ($1) AND status OPERATOR(pg_catalog.<>) $2"},
	[LIFECYCLE_INVENTORY_UNIT] = {
		"UPDATE orders.inventory_units SET status = $2"
		" WHERE id OPERATOR(pg_catalog.=) ANY ($1) AND status OPERATOR(pg_catalog.<>) $2"},
	[LIFECYCLE_RECHARGE] = {
		"UPDATE orders.recharges SET status = $2, updated_at = pg_catalog.now()"
		" WHERE id OPERATOR(pg_catalog.=) ANY ($1) AND status OPERATOR(pg_catalog.<>) $2"},
};

static void
required(FunctionCallInfo fcinfo, int arg, const char *what)
{
	if (PG_ARGISNULL(arg))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be null", what)));
}

static SPIPlanPtr
transition_plan(LifecycleEntity entity, Oid status_type, Oid sub_type)
{
	TransitionPlan *p = &plans[entity];

	/* a re-created extension has new types: plan again */
	if (p->plan == NULL || p->status_type != status_type || p->sub_type != sub_type)
	{
		Oid			types[3] = {INT8ARRAYOID, status_type, sub_type};
		SPIPlanPtr	plan = SPI_prepare(p->sql, OidIsValid(sub_type) ? 3 : 2, types);

		if (plan == NULL)
			elog(ERROR, "SPI_prepare failed for a lifecycle transition: %s",
				 SPI_result_code_string(SPI_result));
		if (SPI_keepplan(plan) != 0)
			elog(ERROR, "SPI_keepplan failed for a lifecycle transition");
		if (p->plan != NULL)
			SPI_freeplan(p->plan);
		p->plan = plan;
		p->status_type = status_type;
		p->sub_type = sub_type;
	}
	return p->plan;
}

/*
 * transition_*(ids bigint[], status, [sub_status,] reason text) -> integer
 */
static Datum
transition(FunctionCallInfo fcinfo, LifecycleEntity entity)
{
	bool		has_sub = entity == LIFECYCLE_ORDER;
	int			reason_arg = has_sub ? 3 : 2;
	ArrayType  *ids;
	Datum	   *id_datums;
	bool	   *id_nulls;
	int			nids;
	int64	   *row_ids;
	char	   *reason;
	LifecycleStep step;
	Datum		args[3];
	Oid			status_type = get_fn_expr_argtype(fcinfo->flinfo, 1);
	Oid			sub_type = has_sub ? get_fn_expr_argtype(fcinfo->flinfo, 2) : InvalidOid;
	uint64		moved = 0;
	LifecycleArmingSaved saved;
	int			i;

	required(fcinfo, 1, "status");
	if (has_sub)
		required(fcinfo, 2, "sub_status");
	required(fcinfo, reason_arg, "reason");
	reason = text_to_cstring(PG_GETARG_TEXT_PP(reason_arg));
	if (reason[0] == '\0' || strspn(reason, " \t\r\n") == strlen(reason))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("reason must not be empty")));
	if (strlen(reason) > TRANSITION_REASON_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("reason is too long (%d bytes, at most %d)",
						(int) strlen(reason), TRANSITION_REASON_MAX)));

	if (PG_ARGISNULL(0))
		PG_RETURN_INT32(0);
	ids = PG_GETARG_ARRAYTYPE_P(0);
	deconstruct_array(ids, INT8OID, sizeof(int64), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE,
					  &id_datums, &id_nulls, &nids);
	if (nids == 0)
		PG_RETURN_INT32(0);
	row_ids = palloc(sizeof(int64) * nids);
	for (i = 0; i < nids; i++)
	{
		if (id_nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("ids must not contain null")));
		row_ids[i] = DatumGetInt64(id_datums[i]);
	}

	step.status = DatumGetInt16(PG_GETARG_DATUM(1));
	step.sub_status = has_sub ? DatumGetInt16(PG_GETARG_DATUM(2)) : -1;
	step.reason = reason;
	args[0] = PointerGetDatum(ids);
	args[1] = PG_GETARG_DATUM(1);
	args[2] = has_sub ? PG_GETARG_DATUM(2) : (Datum) 0;

	/* someone else's arming (we may run inside its statement) stays aside */
	saved = lifecycle_arming_save();
	PG_TRY();
	{
		SPIPlanPtr	plan;
		int			rc;

		lifecycle_arm(entity, row_ids, nids, &step, 1);
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		plan = transition_plan(entity, status_type, sub_type);
		rc = SPI_execute_plan(plan, args, NULL, false, 0);
		if (rc != SPI_OK_UPDATE)
			elog(ERROR, "lifecycle transition: SPI_execute_plan returned %s",
				 SPI_result_code_string(rc));
		moved = SPI_processed;
		SPI_finish();
	}
	PG_FINALLY();
	{
		lifecycle_arming_restore(saved);
	}
	PG_END_TRY();
	PG_RETURN_INT32((int32) moved);
}

PG_FUNCTION_INFO_V1(transition_orders);
PG_FUNCTION_INFO_V1(transition_order_items);
PG_FUNCTION_INFO_V1(transition_inventory_units);
PG_FUNCTION_INFO_V1(transition_recharges);

Datum
transition_orders(PG_FUNCTION_ARGS)
{
	return transition(fcinfo, LIFECYCLE_ORDER);
}

Datum
transition_order_items(PG_FUNCTION_ARGS)
{
	return transition(fcinfo, LIFECYCLE_ORDER_ITEM);
}

Datum
transition_inventory_units(PG_FUNCTION_ARGS)
{
	return transition(fcinfo, LIFECYCLE_INVENTORY_UNIT);
}

Datum
transition_recharges(PG_FUNCTION_ARGS)
{
	return transition(fcinfo, LIFECYCLE_RECHARGE);
}
