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
#include "access/table.h"
#include "access/xact.h"
#include "catalog/dependency.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/sequence.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

#include "enum_io.h"
#include "lifecycle_rules.h"
#include "orders.h"

/* Where accepted changes are written: orders.status_history's columns. */
enum
{
	HISTORY_ID, HISTORY_ENTITY, HISTORY_ENTITY_ID, HISTORY_FROM, HISTORY_TO,
	HISTORY_FROM_SUB, HISTORY_TO_SUB, HISTORY_AT, HISTORY_ACTOR, HISTORY_REASON,
	HISTORY_NCOLS
};

typedef struct HistoryTarget
{
	Oid			relid;			/* InvalidOid until looked up */
	Oid			id_seq;			/* the identity sequence of "id" */
	int			natts;
	int			att[HISTORY_NCOLS];
} HistoryTarget;

/* Column positions of the triggering table, cached per trigger call site. */
typedef struct GuardCache
{
	Oid			relid;
	const LifecycleMachine *machine;
	int			id_att;
	int			status_att;
	int			sub_att;		/* 0 when the entity has no sub-status */
	HistoryTarget history;		/* looked up at the first accepted change */
} GuardCache;


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

/*
 * The history row is written straight into the table through the executor's
 * single-row insert (the path logical replication's apply uses), not by SPI:
 * no statement to start and end for each row, which made SPI the larger part
 * of the trigger's cost.  The history is the trigger's own record, so, like a
 * foreign key's check, it does not depend on the caller's INSERT privilege.
 */
static void
history_lookup(HistoryTarget *target)
{
	Oid			nsp = get_namespace_oid("orders", false);
	Relation	rel;
	TupleDesc	desc;
	int			i;
	static const char *const names[HISTORY_NCOLS] = {
		"id", "entity", "entity_id", "from_status", "to_status",
		"from_sub_status", "to_sub_status", "at", "actor", "reason"
	};

	target->relid = get_relname_relid("status_history", nsp);
	if (!OidIsValid(target->relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("lifecycle_guard: table orders.status_history does not exist")));
	rel = table_open(target->relid, AccessShareLock);
	desc = RelationGetDescr(rel);
	for (i = 0; i < HISTORY_NCOLS; i++)
		target->att[i] = column_or_error(rel, names[i]);
	target->natts = desc->natts;
	table_close(rel, AccessShareLock);
	target->id_seq = getIdentitySequence(target->relid, target->att[HISTORY_ID], false);
}

static void
append_history(HistoryTarget *target, const LifecycleMachine *m, int64 id,
			   int from, int to, int from_sub, int to_sub)
{
	const char *reason = GetConfigOption("orders.transition_reason", true, false);
	Relation	rel;
	EState	   *estate;
	ResultRelInfo *rri;
	TupleTableSlot *slot;
	Datum	   *values;
	bool	   *nulls;

	if (!OidIsValid(target->relid))
		history_lookup(target);

	rel = table_open(target->relid, RowExclusiveLock);
	if (RelationGetDescr(rel)->natts != target->natts)
		elog(ERROR, "lifecycle_guard: orders.status_history changed during the statement");

	estate = CreateExecutorState();
	rri = makeNode(ResultRelInfo);
	InitResultRelInfo(rri, rel, 0, NULL, 0);
	ExecOpenIndices(rri, false);
	slot = ExecInitExtraTupleSlot(estate, RelationGetDescr(rel), &TTSOpsVirtual);
	ExecClearTuple(slot);
	values = slot->tts_values;
	nulls = slot->tts_isnull;
	/* any other column is NULL: a column added to the table belongs here */
	memset(nulls, true, sizeof(bool) * target->natts);

#define SET_COL(col, datum) \
	(values[target->att[col] - 1] = (datum), nulls[target->att[col] - 1] = false)
	SET_COL(HISTORY_ID, Int64GetDatum(nextval_internal(target->id_seq, false)));
	SET_COL(HISTORY_ENTITY, CStringGetTextDatum(m->name));
	SET_COL(HISTORY_ENTITY_ID, Int64GetDatum(id));
	if (from >= 0)
		SET_COL(HISTORY_FROM, CStringGetTextDatum(orders_label_text(m->states, from)));
	SET_COL(HISTORY_TO, CStringGetTextDatum(orders_label_text(m->states, to)));
	if (from_sub >= 0)
		SET_COL(HISTORY_FROM_SUB, CStringGetTextDatum(orders_label_text(m->subs, from_sub)));
	if (to_sub >= 0)
		SET_COL(HISTORY_TO_SUB, CStringGetTextDatum(orders_label_text(m->subs, to_sub)));
	/* the column's default, now(): the transaction's start */
	SET_COL(HISTORY_AT, TimestampTzGetDatum(GetCurrentTransactionStartTimestamp()));
	/* the role that issued the change, not a SECURITY DEFINER owner */
	SET_COL(HISTORY_ACTOR,
			CStringGetTextDatum(GetUserNameFromId(GetOuterUserId(), false)));
	if (reason != NULL && reason[0] != '\0')
		SET_COL(HISTORY_REASON, CStringGetTextDatum(reason));
#undef SET_COL
	ExecStoreVirtualTuple(slot);

	ExecSimpleRelationInsert(rri, estate, slot);

	ExecCloseIndices(rri);
	ExecResetTupleTable(estate->es_tupleTable, false);
	FreeExecutorState(estate);
	table_close(rel, NoLock);
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

	append_history(&cache->history, m, id, from, to, from_sub, to_sub);
	return PointerGetDatum(newtup);
}
