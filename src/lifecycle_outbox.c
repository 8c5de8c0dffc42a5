/*
 * lifecycle_outbox.c
 *		The outbox of orders (orders.order_events), written by the lifecycle
 *		trigger: one event per step of an order that changes its status
 *		(order.<status>) or enters sub-status REFUNDED (order.refunded),
 *		numbered per order (seq 1, 2, 3... without gaps).
 *
 * No NOTIFY here: NOTIFY makes every notifying transaction take one lock
 * shared by all of them until after its commit, so orders would commit one
 * at a time.  Consumers poll the outbox by its index; the maintenance round
 * wakes them after commit (orders.run_maintenance, schema/66_maintenance.sql).
 *
 * UPDATE: the order's row is locked by the very change, so the numbering of
 * one order is serialised; the next seq is read from the unique index
 * (order_id, seq) by one backward index scan, with a fresh snapshot (what
 * the previous holder of the row lock committed).  A new order's events are
 * numbered from 1; they are written once the row is really inserted
 * (orders.lifecycle_record, src/lifecycle_trigger.c).
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/table.h"
#include "catalog/pg_am.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "executor/tuptable.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "enum_io.h"
#include "lifecycle_internal.h"

enum
{
	EVENT_ID, EVENT_CLIENT, EVENT_ORDER, EVENT_SEQ, EVENT_NAME, EVENT_STATUS,
	EVENT_SUB_STATUS, EVENT_CREATED_AT, EVENT_NCOLS
};

static const char *const event_columns[EVENT_NCOLS] = {
	"id", "client_id", "order_id", "seq", "event", "status", "sub_status", "created_at"
};

static RecordTarget events_target = {.relname = "order_events", .columns = event_columns, .ncolumns = EVENT_NCOLS};
static Oid	seq_index = InvalidOid; /* UNIQUE (order_id, seq), of events_target.relid */
static Oid	seq_index_of = InvalidOid;

/* "order.delivered" for DELIVERED: constant strings, one per status. */
static const char *
status_event(int status)
{
	static char *names[LIFECYCLE_MAX_LABELS];

	if (names[status] == NULL)
	{
		const char *label = orders_label_text(&orders_order_status_labels, status);
		char	   *name = MemoryContextAlloc(TopMemoryContext, strlen(label) + 7);
		char	   *p;

		sprintf(name, "order.%s", label);
		for (p = name; *p; p++)
			*p = pg_ascii_tolower((unsigned char) *p);
		names[status] = name;
	}
	return names[status];
}

int
lifecycle_outbox_events_of_step(int from, int from_sub, int to, int to_sub, OutboxEvent *out)
{
	static int	refunded = -1;
	int			n = 0;

	if (refunded < 0)
		refunded = orders_label_parse(&orders_order_sub_status_labels, "REFUNDED", 8);
	if (from != to)
	{
		out[n].event = status_event(to);
		out[n].status = to;
		out[n].sub_status = to_sub;
		n++;
	}
	if (to_sub == refunded && from_sub != refunded)
	{
		out[n].event = "order.refunded";
		out[n].status = to;
		out[n].sub_status = to_sub;
		n++;
	}
	return n;
}

static Oid
find_seq_index(Relation rel)
{
	List	   *indexes = RelationGetIndexList(rel);
	ListCell   *lc;
	int			order_att = events_target.att[EVENT_ORDER];
	int			seq_att = events_target.att[EVENT_SEQ];
	Oid			found = InvalidOid;

	foreach(lc, indexes)
	{
		Relation	idx = index_open(lfirst_oid(lc), AccessShareLock);
		Form_pg_index form = idx->rd_index;

		if (form->indisunique && form->indnkeyatts == 2 &&
			form->indkey.values[0] == order_att && form->indkey.values[1] == seq_att &&
			idx->rd_rel->relam == BTREE_AM_OID)
			found = RelationGetRelid(idx);
		index_close(idx, AccessShareLock);
		if (OidIsValid(found))
			break;
	}
	list_free(indexes);
	if (!OidIsValid(found))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("lifecycle_guard: orders.order_events has no unique btree index on (order_id, seq)")));
	return found;
}

/* The highest seq of an order so far (0: none), by one backward index scan. */
static int
last_seq(Relation rel, int64 order_id)
{
	Relation	idx;
	ScanKeyData key;
	Snapshot	snapshot;
	IndexScanDesc scan;
	TupleTableSlot *slot;
	int			seq = 0;

	if (seq_index_of != events_target.relid)
	{
		seq_index = find_seq_index(rel);
		seq_index_of = events_target.relid;
	}
	idx = index_open(seq_index, AccessShareLock);
	ScanKeyInit(&key, 1, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(order_id));
	snapshot = RegisterSnapshot(GetLatestSnapshot());
	slot = table_slot_create(rel, NULL);
	scan = index_beginscan(rel, idx, snapshot, 1, 0);
	index_rescan(scan, &key, 1, NULL, 0);
	if (index_getnext_slot(scan, BackwardScanDirection, slot))
	{
		bool		isnull;

		seq = DatumGetInt32(slot_getattr(slot, events_target.att[EVENT_SEQ], &isnull));
	}
	index_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	UnregisterSnapshot(snapshot);
	index_close(idx, AccessShareLock);
	return seq;
}

static void
write_events(RecordWriter *writer, int64 order_id, int64 client_id, int first_seq,
			 const OutboxEvent *events, int nevents)
{
	Datum		values[EVENT_NCOLS];
	bool		nulls[EVENT_NCOLS];
	int			i;

	memset(nulls, false, sizeof(nulls));
	for (i = 0; i < nevents; i++)
	{
		values[EVENT_CLIENT] = Int64GetDatum(client_id);
		values[EVENT_ORDER] = Int64GetDatum(order_id);
		values[EVENT_SEQ] = Int32GetDatum(first_seq + i);
		values[EVENT_NAME] = CStringGetTextDatum(events[i].event);
		values[EVENT_STATUS] = Int16GetDatum(events[i].status);
		values[EVENT_SUB_STATUS] = Int16GetDatum(events[i].sub_status);
		/* the column's default, now(): the transaction's start */
		values[EVENT_CREATED_AT] = TimestampTzGetDatum(GetCurrentTransactionStartTimestamp());
		record_insert(writer, values, nulls);
	}
}

void
lifecycle_outbox_append(int64 order_id, int64 client_id, const OutboxEvent *events, int nevents,
						bool new_order)
{
	RecordWriter *writer;

	if (nevents == 0)
		return;
	writer = record_open(&events_target);
	write_events(writer, order_id, client_id,
				 new_order ? 1 : last_seq(writer->rel, order_id) + 1, events, nevents);
	record_close(writer);
}
