/*
 * lifecycle_trigger.c
 *		The trigger that enforces the lifecycle on every INSERT and UPDATE,
 *		and appends each accepted change to orders.status_history.
 *
 * Attached BEFORE INSERT OR UPDATE OF status[, sub_status] FOR EACH ROW and
 * ENABLE ALWAYS, so neither a superuser nor session_replication_role =
 * replica gets around it.  The table's columns are found by name: "id"
 * (bigint), "status", and for orders "sub_status".
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/rel.h"

#include "enum_io.h"
#include "lifecycle_rules.h"
#include "orders.h"

/* Column positions of the triggering table, cached per trigger call site. */
typedef struct GuardCache
{
	Oid			relid;
	const LifecycleMachine *machine;
	int			id_att;
	int			status_att;
	int			sub_att;		/* 0 when the entity has no sub-status */
} GuardCache;

static SPIPlanPtr history_plan = NULL;

void
orders_lifecycle_init(void)
{
	const char *bad = lifecycle_compile();

	if (bad != NULL)
		elog(ERROR, "lifecycle rules name an unknown label \"%s\"", bad);
}

static int
column_or_error(Relation rel, const char *name)
{
	int			att = SPI_fnumber(RelationGetDescr(rel), name);

	if (att <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("lifecycle_guard: table \"%s\" has no column \"%s\"",
						RelationGetRelationName(rel), name)));
	return att;
}

static GuardCache *
guard_cache(FunctionCallInfo fcinfo, TriggerData *td)
{
	GuardCache *cache = (GuardCache *) fcinfo->flinfo->fn_extra;
	Relation	rel = td->tg_relation;

	if (cache == NULL || cache->relid != RelationGetRelid(rel))
	{
		const LifecycleMachine *m;

		if (td->tg_trigger->tgnargs != 1 ||
			(m = lifecycle_machine(td->tg_trigger->tgargs[0])) == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("lifecycle_guard needs one argument naming the entity"),
					 errhint("Use order, order_item, inventory_unit or recharge.")));
		cache = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(GuardCache));
		cache->relid = RelationGetRelid(rel);
		cache->machine = m;
		cache->id_att = column_or_error(rel, "id");
		cache->status_att = column_or_error(rel, "status");
		cache->sub_att = m->subs ? column_or_error(rel, "sub_status") : 0;
		fcinfo->flinfo->fn_extra = cache;
	}
	return cache;
}

static int
label_column(HeapTuple tuple, TupleDesc desc, int att, const char *what)
{
	bool		isnull;
	Datum		d = heap_getattr(tuple, att, desc, &isnull);

	if (isnull)
		ereport(ERROR,
				(errcode(ERRCODE_NOT_NULL_VIOLATION),
				 errmsg("%s must not be null", what)));
	return DatumGetInt16(d);
}

/* "A, B, C" for the bits of mask, or "none" */
static char *
labels_of_mask(const OrdersLabelSet *set, uint64_t mask)
{
	StringInfoData buf;
	int			code;

	initStringInfo(&buf);
	for (code = 0; code < set->nlabels; code++)
		if (mask & LIFECYCLE_BIT(code))
			appendStringInfo(&buf, "%s%s", buf.len ? ", " : "", set->labels[code]);
	if (buf.len == 0)
		appendStringInfoString(&buf, "none (terminal)");
	return buf.data;
}

static void
refuse_move(const LifecycleMachine *m, int64 id, int from, int to)
{
	const char *from_name = from < 0 ? "(new)" : orders_label_text(m->states, from);

	ereport(ERROR,
			(errcode(ERRCODE_ORDERS_ILLEGAL_TRANSITION),
			 errmsg("%s " INT64_FORMAT ": %s -> %s is not a legal transition",
					m->display, id, from_name, orders_label_text(m->states, to)),
			 from < 0 ?
			 errdetail("A new %s starts as: %s.", m->display,
					   labels_of_mask(m->states, m->initial)) :
			 errdetail("Legal next states from %s: %s.", from_name,
					   labels_of_mask(m->states, m->next[from])),
			 errhint("orders.transitions() lists every legal move.")));
}

static void
refuse_sub(const LifecycleMachine *m, int64 id, int status, int from_sub, int to_sub)
{
	const char *status_name = orders_label_text(m->states, status);

	ereport(ERROR,
			(errcode(ERRCODE_ORDERS_ILLEGAL_SUB_STATUS),
			 errmsg("%s " INT64_FORMAT ": sub-status %s -> %s under %s is not legal",
					m->display, id,
					from_sub < 0 ? "(new)" : orders_label_text(m->subs, from_sub),
					orders_label_text(m->subs, to_sub), status_name),
			 (from_sub >= 0 && !lifecycle_sub_move_ok(m, from_sub, to_sub)) ?
			 errdetail("Sub-status %s is final.", orders_label_text(m->subs, from_sub)) :
			 errdetail("Legal sub-statuses under %s: %s.", status_name,
					   labels_of_mask(m->subs, m->subs_of[status])),
			 errhint("orders.sub_status_rules() lists every legal pair.")));
}

static void
append_history(const LifecycleMachine *m, int64 id,
			   int from, int to, int from_sub, int to_sub)
{
	Datum		values[8];
	char		nulls[8] = {' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '};
	const char *reason = GetConfigOption("orders.transition_reason", true, false);
	int			rc;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "lifecycle_guard: SPI_connect failed");
	if (history_plan == NULL)
	{
		Oid			types[8] = {TEXTOID, INT8OID, TEXTOID, TEXTOID,
		TEXTOID, TEXTOID, TEXTOID, TEXTOID};
		SPIPlanPtr	plan;

		plan = SPI_prepare("INSERT INTO orders.status_history"
						   " (entity, entity_id, from_status, to_status,"
						   "  from_sub_status, to_sub_status, actor, reason)"
						   " VALUES ($1, $2, $3, $4, $5, $6, $7, $8)", 8, types);
		if (plan == NULL)
			elog(ERROR, "lifecycle_guard: SPI_prepare failed: %s",
				 SPI_result_code_string(SPI_result));
		SPI_keepplan(plan);
		history_plan = plan;
	}

	values[0] = CStringGetTextDatum(m->name);
	values[1] = Int64GetDatum(id);
	if (from < 0)
		nulls[2] = 'n';
	else
		values[2] = CStringGetTextDatum(orders_label_text(m->states, from));
	values[3] = CStringGetTextDatum(orders_label_text(m->states, to));
	if (from_sub < 0)
		nulls[4] = 'n';
	else
		values[4] = CStringGetTextDatum(orders_label_text(m->subs, from_sub));
	if (to_sub < 0)
		nulls[5] = 'n';
	else
		values[5] = CStringGetTextDatum(orders_label_text(m->subs, to_sub));
	/* the role that issued the change, not a SECURITY DEFINER owner */
	values[6] = CStringGetTextDatum(GetUserNameFromId(GetOuterUserId(), false));
	if (reason == NULL || reason[0] == '\0')
		nulls[7] = 'n';
	else
		values[7] = CStringGetTextDatum(reason);

	rc = SPI_execute_plan(history_plan, values, nulls, false, 0);
	if (rc != SPI_OK_INSERT)
		elog(ERROR, "lifecycle_guard: history insert failed: %s",
			 SPI_result_code_string(rc));
	SPI_finish();
}

PG_FUNCTION_INFO_V1(lifecycle_guard);

Datum
lifecycle_guard(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	GuardCache *cache;
	const LifecycleMachine *m;
	TupleDesc	desc;
	HeapTuple	newtup;
	bool		isnull;
	int64		id;
	int			from = -1,
				to,
				from_sub = -1,
				to_sub = -1;

	if (!CALLED_AS_TRIGGER(fcinfo) ||
		!TRIGGER_FIRED_BEFORE(td->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(td->tg_event) ||
		!(TRIGGER_FIRED_BY_INSERT(td->tg_event) ||
		  TRIGGER_FIRED_BY_UPDATE(td->tg_event)))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("lifecycle_guard must be a BEFORE INSERT OR UPDATE row trigger")));

	cache = guard_cache(fcinfo, td);
	m = cache->machine;
	desc = RelationGetDescr(td->tg_relation);
	newtup = TRIGGER_FIRED_BY_UPDATE(td->tg_event) ? td->tg_newtuple : td->tg_trigtuple;

	to = label_column(newtup, desc, cache->status_att, "status");
	if (cache->sub_att)
		to_sub = label_column(newtup, desc, cache->sub_att, "sub_status");
	if (TRIGGER_FIRED_BY_UPDATE(td->tg_event))
	{
		from = label_column(td->tg_trigtuple, desc, cache->status_att, "status");
		if (cache->sub_att)
			from_sub = label_column(td->tg_trigtuple, desc, cache->sub_att, "sub_status");
		if (from == to && from_sub == to_sub)
			return PointerGetDatum(newtup);
	}
	id = DatumGetInt64(heap_getattr(newtup, cache->id_att, desc, &isnull));

	if (from != to && !lifecycle_move_ok(m, from, to))
		refuse_move(m, id, from, to);
	if (cache->sub_att &&
		(!lifecycle_pair_ok(m, to, to_sub) ||
		 (from_sub >= 0 && !lifecycle_sub_move_ok(m, from_sub, to_sub))))
		refuse_sub(m, id, to, from_sub, to_sub);

	append_history(m, id, from, to, from_sub, to_sub);
	return PointerGetDatum(newtup);
}
