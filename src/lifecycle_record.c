/*
 * lifecycle_record.c
 *		The rows the lifecycle trigger writes itself (status history, outbox
 *		events), inserted through the executor's single-row insert.
 *
 * That is the path logical replication's apply uses: constraints checked,
 * indexes maintained, the table's own triggers (foreign keys) fired; no
 * statement to start and end for each row, which made SPI the larger part
 * of the trigger's cost.  These rows are the trigger's own records, so,
 * like a foreign key's check, they do not depend on the caller's INSERT
 * privilege.
 */
#include "postgres.h"

#include "access/table.h"
#include "catalog/dependency.h"
#include "catalog/namespace.h"
#include "commands/sequence.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "lifecycle_internal.h"

int
record_column(Relation rel, const char *name)
{
	int			att = SPI_fnumber(RelationGetDescr(rel), name);

	if (att <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("lifecycle_guard: table \"%s\" has no column \"%s\"",
						RelationGetRelationName(rel), name)));
	return att;
}

static void
record_lookup(RecordTarget *target)
{
	Oid			nsp = get_namespace_oid("orders", false);
	Oid			relid = get_relname_relid(target->relname, nsp);
	Relation	rel;
	int			i;

	Assert(target->ncolumns <= RECORD_MAX_COLUMNS);
	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("lifecycle_guard: table orders.%s does not exist", target->relname)));
	rel = table_open(relid, AccessShareLock);
	for (i = 0; i < target->ncolumns; i++)
		target->att[i] = record_column(rel, target->columns[i]);
	target->natts = RelationGetDescr(rel)->natts;
	table_close(rel, AccessShareLock);
	target->id_seq = getIdentitySequence(relid, target->att[0], false);
	target->relid = relid;
}

RecordWriter *
record_open(RecordTarget *target)
{
	RecordWriter *w = palloc(sizeof(RecordWriter));

	/* a dropped and re-created extension has new tables: look up again */
	if (OidIsValid(target->relid) && !SearchSysCacheExists1(RELOID, ObjectIdGetDatum(target->relid)))
		target->relid = InvalidOid;
	if (!OidIsValid(target->relid))
		record_lookup(target);
	w->target = target;
	w->rel = table_open(target->relid, RowExclusiveLock);
	if (RelationGetDescr(w->rel)->natts != target->natts)
		elog(ERROR, "lifecycle_guard: orders.%s changed during the session", target->relname);
	w->estate = CreateExecutorState();
	w->rri = makeNode(ResultRelInfo);
	InitResultRelInfo(w->rri, w->rel, 0, NULL, 0);
	ExecOpenIndices(w->rri, false);
	w->slot = ExecInitExtraTupleSlot(w->estate, RelationGetDescr(w->rel), &TTSOpsVirtual);
	return w;
}

int64
record_insert(RecordWriter *w, Datum *values, bool *nulls)
{
	RecordTarget *target = w->target;
	TupleTableSlot *slot = w->slot;
	int64		id = nextval_internal(target->id_seq, false);
	int			i;

	ExecClearTuple(slot);
	/* any other column is NULL: a column added to the table belongs here */
	memset(slot->tts_isnull, true, sizeof(bool) * target->natts);
	values[0] = Int64GetDatum(id);
	nulls[0] = false;
	for (i = 0; i < target->ncolumns; i++)
	{
		slot->tts_values[target->att[i] - 1] = values[i];
		slot->tts_isnull[target->att[i] - 1] = nulls[i];
	}
	ExecStoreVirtualTuple(slot);

	ExecSimpleRelationInsert(w->rri, w->estate, slot);
	/* what the index insertions and checks of this row allocated */
	ResetPerTupleExprContext(w->estate);
	return id;
}

void
record_close(RecordWriter *w)
{
	ExecCloseIndices(w->rri);
	ExecResetTupleTable(w->estate->es_tupleTable, false);
	FreeExecutorState(w->estate);
	table_close(w->rel, NoLock);
	pfree(w);
}
