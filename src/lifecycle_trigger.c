/*
 * lifecycle_trigger.c
 *		The trigger that enforces the lifecycle on every INSERT and UPDATE,
 *		and appends each accepted change to orders.status_history.
 *
 * Attached BEFORE INSERT OR UPDATE OF status[, sub_status] FOR EACH ROW and
 * ENABLE ALWAYS, so neither a superuser nor session_replication_role =
 * replica gets around it.  The table's columns are found by name: "id"
 * (bigint), "status", and for orders "sub_status" and "client_id".
 *
 * A row armed by its writer (lifecycle.h: orders.transition*(), the create
 * path) is checked and recorded step by step with the writer's reasons; any
 * other write is one step with no reason.  For orders, each step also gets
 * its outbox events (lifecycle_outbox.c).
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/namespace.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

#include "enum_io.h"
#include "lifecycle_internal.h"
#include "orders.h"

/* Where accepted changes are written: orders.status_history's columns. */
enum
{
	HISTORY_ID, HISTORY_ENTITY, HISTORY_ENTITY_ID, HISTORY_FROM, HISTORY_TO,
	HISTORY_FROM_SUB, HISTORY_TO_SUB, HISTORY_AT, HISTORY_ACTOR, HISTORY_REASON,
	HISTORY_NCOLS
};

static const char *const history_columns[HISTORY_NCOLS] = {
	"id", "entity", "entity_id", "from_status", "to_status",
	"from_sub_status", "to_sub_status", "at", "actor", "reason"
};

static RecordTarget history_target = {.relname = "status_history", .columns = history_columns, .ncolumns = HISTORY_NCOLS};

/* Column positions of the triggering table, cached per trigger call site. */
typedef struct GuardCache
{
	Oid			relid;
	LifecycleEntity entity;
	const LifecycleMachine *machine;
	int			id_att;
	int			status_att;
	int			sub_att;		/* 0 when the entity has no sub-status */
	int			client_att;		/* orders.orders only: for the outbox */
} GuardCache;


void
orders_lifecycle_init(void)
{
	const char *bad = lifecycle_compile();

	if (bad != NULL)
		elog(ERROR, "lifecycle rules name an unknown label \"%s\"", bad);
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
		for (cache->entity = 0; lifecycle_machines[cache->entity] != m; cache->entity++)
			;
		cache->id_att = record_column(rel, "id");
		cache->status_att = record_column(rel, "status");
		cache->sub_att = m->subs ? record_column(rel, "sub_status") : 0;
		/*
		 * The outbox is orders.orders' (its events reference that table):
		 * a copy of the table with the same trigger (bench/) gets the
		 * checks and the history only.
		 */
		if (cache->entity == LIFECYCLE_ORDER &&
			strcmp(RelationGetRelationName(rel), "orders") == 0 &&
			RelationGetNamespace(rel) == get_namespace_oid("orders", false))
			cache->client_att = record_column(rel, "client_id");
		else
			cache->client_att = 0;
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

/* One history row: the move from (from, from_sub) to (to, to_sub) of row id. */
static void
append_history(RecordWriter *history, const LifecycleMachine *m, int64 id,
			   int from, int to, int from_sub, int to_sub, const char *reason)
{
	Datum		values[HISTORY_NCOLS];
	bool		nulls[HISTORY_NCOLS];

	memset(nulls, true, sizeof(nulls));
#define SET_COL(col, datum) (values[col] = (datum), nulls[col] = false)
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
	record_insert(history, values, nulls);
}

/* The path an armed row was written with does not end where the row is. */
static void
refuse_armed_end(const LifecycleMachine *m, int64 id, const LifecycleStep *last,
				 int to, int to_sub)
{
	ereport(ERROR,
			(errcode(ERRCODE_ORDERS_ILLEGAL_TRANSITION),
			 errmsg("%s " INT64_FORMAT ": written as %s%s%s, but its transition ends in %s%s%s",
					m->display, id, orders_label_text(m->states, to),
					to_sub >= 0 ? " / " : "", to_sub >= 0 ? orders_label_text(m->subs, to_sub) : "",
					orders_label_text(m->states, last->status),
					last->sub_status >= 0 ? " / " : "",
					last->sub_status >= 0 ? orders_label_text(m->subs, last->sub_status) : "")));
}

/* A step accepted by the trigger, to be written to the history (and outbox). */
typedef struct RecordedStep
{
	int			from;			/* -1: the row's creation */
	int			to;
	int			from_sub;		/* -1: none */
	int			to_sub;
	const char *reason;
} RecordedStep;

/*
 * Writes the history rows of the accepted steps of one row and, for
 * orders.orders, their outbox events (numbered from 1 for a new order).
 */
static void
write_records(const LifecycleMachine *m, int64 id, int64 client_id,
			  const RecordedStep *records, int nrecords, bool new_order, bool outbox)
{
	RecordWriter *history;
	OutboxEvent *events = NULL;
	int			nevents = 0;
	int			k;

	if (nrecords == 0)
		return;
	history = record_open(&history_target);
	for (k = 0; k < nrecords; k++)
		append_history(history, m, id, records[k].from, records[k].to,
					   records[k].from_sub, records[k].to_sub, records[k].reason);
	record_close(history);

	if (!outbox)
		return;
	Assert(m == lifecycle_machines[LIFECYCLE_ORDER]);
	events = palloc(sizeof(OutboxEvent) * 2 * nrecords);
	for (k = 0; k < nrecords; k++)
		nevents += lifecycle_outbox_events_of_step(records[k].from, records[k].from_sub,
												   records[k].to, records[k].to_sub,
												   events + nevents);
	lifecycle_outbox_append(id, client_id, events, nevents, new_order);
	pfree(events);
}

/* The records of inserted orders, until their AFTER INSERT trigger. */
typedef struct DeferredRecords
{
	int64		id;
	int64		client_id;
	int			nrecords;
	RecordedStep records[FLEXIBLE_ARRAY_MEMBER];
} DeferredRecords;

/* deferred is meaningful only while deferred_context is set */
static MemoryContext deferred_context = NULL;
static List *deferred = NIL;

static void
defer_records(int64 id, int64 client_id, const RecordedStep *records, int nrecords)
{
	MemoryContext old;
	DeferredRecords *d;
	int			k;

	if (deferred_context == NULL)
		deferred = NIL;
	old = MemoryContextSwitchTo(lifecycle_xact_context(&deferred_context));
	d = palloc(offsetof(DeferredRecords, records) + sizeof(RecordedStep) * nrecords);
	d->id = id;
	d->client_id = client_id;
	d->nrecords = nrecords;
	for (k = 0; k < nrecords; k++)
	{
		d->records[k] = records[k];
		/* the caller's arming may be gone by the time the row is written */
		d->records[k].reason = records[k].reason ? pstrdup(records[k].reason) : NULL;
	}
	deferred = lappend(deferred, d);
	MemoryContextSwitchTo(old);
}

PG_FUNCTION_INFO_V1(lifecycle_record);

/*
 * AFTER INSERT row trigger on orders.orders: writes the history and the
 * outbox events lifecycle_guard accepted for the inserted order.  Rows are
 * usually found at the head of the list (AFTER triggers fire in insertion
 * order); rows skipped by ON CONFLICT stay behind until transaction end.
 */
Datum
lifecycle_record(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	int64		id;
	bool		isnull;
	ListCell   *lc;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_AFTER(td->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(td->tg_event) || !TRIGGER_FIRED_BY_INSERT(td->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("lifecycle_record must be an AFTER INSERT row trigger")));
	if (deferred_context == NULL)
		return PointerGetDatum(NULL);
	id = DatumGetInt64(heap_getattr(td->tg_trigtuple, record_column(td->tg_relation, "id"),
									RelationGetDescr(td->tg_relation), &isnull));
	foreach(lc, deferred)
	{
		DeferredRecords *d = lfirst(lc);

		if (d->id == id)
		{
			deferred = foreach_delete_current(deferred, lc);
			write_records(lifecycle_machines[LIFECYCLE_ORDER], d->id,
						  d->client_id, d->records, d->nrecords, true, true);
			pfree(d);
			break;
		}
	}
	return PointerGetDatum(NULL);
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
	const LifecycleStep *steps;
	LifecycleStep plain;
	int			nsteps;
	int			k;
	RecordedStep *records;
	int			nrecords = 0;
	int64		client_id;

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
	}
	id = DatumGetInt64(heap_getattr(newtup, cache->id_att, desc, &isnull));

	/* the caller's path and reasons (lifecycle_arm), or one plain step */
	steps = lifecycle_take_arming(cache->entity, id, &nsteps);
	if (steps == NULL)
	{
		/* an UPDATE that does not touch the state records nothing */
		if (from == to && from_sub == to_sub)
			return PointerGetDatum(newtup);
		plain.status = to;
		plain.sub_status = to_sub;
		plain.reason = NULL;
		steps = &plain;
		nsteps = 1;
	}
	else if (steps[nsteps - 1].status != to || steps[nsteps - 1].sub_status != to_sub)
		refuse_armed_end(m, id, &steps[nsteps - 1], to, to_sub);

	/* check every step, then record the ones that change something */
	records = palloc(sizeof(RecordedStep) * nsteps);
	for (k = 0; k < nsteps; k++)
	{
		int			step_to = steps[k].status;
		int			step_sub = steps[k].sub_status;

		if (from == step_to && from_sub == step_sub)
			continue;
		if (from != step_to && !lifecycle_move_ok(m, from, step_to))
			refuse_move(m, id, from, step_to);
		if (cache->sub_att &&
			(!lifecycle_pair_ok(m, step_to, step_sub) ||
			 (from_sub >= 0 && !lifecycle_sub_move_ok(m, from_sub, step_sub))))
			refuse_sub(m, id, step_to, from_sub, step_sub);
		records[nrecords].from = from;
		records[nrecords].to = step_to;
		records[nrecords].from_sub = from_sub;
		records[nrecords].to_sub = step_sub;
		records[nrecords].reason = steps[k].reason;
		nrecords++;
		from = step_to;
		from_sub = step_sub;
	}
	client_id = cache->client_att ?
		DatumGetInt64(heap_getattr(newtup, cache->client_att, desc, &isnull)) : 0;

	/*
	 * An order's INSERT is recorded once the row is really inserted, by the
	 * AFTER INSERT trigger orders.lifecycle_record: an INSERT ... ON
	 * CONFLICT DO NOTHING fires BEFORE triggers for a row it then skips,
	 * and a row never written must leave no history and no event.
	 */
	if (cache->client_att && TRIGGER_FIRED_BY_INSERT(td->tg_event))
		defer_records(id, client_id, records, nrecords);
	else
		write_records(m, id, client_id, records, nrecords, false,
					  cache->client_att != 0);
	return PointerGetDatum(newtup);
}
