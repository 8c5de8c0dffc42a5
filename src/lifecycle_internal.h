/*
 * lifecycle_internal.h
 *		What the files of the lifecycle share between themselves: the armed
 *		rows (lifecycle_arming.c), the single-row inserts of the records
 *		(lifecycle_record.c) and the outbox (lifecycle_outbox.c).  Not for
 *		other concerns: they use lifecycle.h.
 */
#ifndef ORDERS_LIFECYCLE_INTERNAL_H
#define ORDERS_LIFECYCLE_INTERNAL_H

#include "utils/relcache.h"

#include "lifecycle.h"
#include "lifecycle_rules.h"

/*
 * The steps armed for one row, or NULL.  Consumes the arming of that row;
 * the steps stay valid until lifecycle_disarm() or the transaction's end.
 */
extern const LifecycleStep *lifecycle_take_arming(LifecycleEntity entity, int64 id,
												  int *nsteps);

/*
 * A memory context for state that lives until the end of the current
 * transaction: created in *slot on first use (under TopTransactionContext,
 * so freed with it); *slot is set back to NULL at transaction end, which
 * tells its owner that what it kept there is gone.
 */
extern MemoryContext lifecycle_xact_context(MemoryContext *slot);

/*
 * Set the current arming aside (and start from none), and put it back:
 * the orders.transition*() functions do this around their own statement,
 * so that one called from inside another caller's armed statement (a
 * trigger) neither sees nor clears that caller's arming.
 */
typedef struct LifecycleArmingSaved
{
	void	   *context;
	void	   *batches;
} LifecycleArmingSaved;

extern LifecycleArmingSaved lifecycle_arming_save(void);
extern void lifecycle_arming_restore(LifecycleArmingSaved saved);

/*
 * A table the trigger appends rows to by the executor's single-row insert:
 * its columns found by name once, its identity column filled from its
 * sequence.  columns[0] is the identity column "id".
 */
#define RECORD_MAX_COLUMNS 12

typedef struct RecordTarget
{
	const char *relname;		/* in schema orders */
	const char *const *columns;
	int			ncolumns;
	Oid			relid;			/* InvalidOid until looked up */
	Oid			id_seq;
	int			natts;
	int			att[RECORD_MAX_COLUMNS];
} RecordTarget;

/*
 * The rows of one trigger call for one table: the table open
 * (RowExclusiveLock), and one executor state, result relation (indexes
 * open) and slot for all of them, rather than one per row.
 */
typedef struct RecordWriter
{
	RecordTarget *target;
	Relation	rel;
	struct EState *estate;
	struct ResultRelInfo *rri;
	struct TupleTableSlot *slot;
} RecordWriter;

/* Looks the table up if needed, opens it and prepares the writer. */
extern RecordWriter *record_open(RecordTarget *target);

/*
 * Inserts one row through the writer; values / nulls are indexed like
 * target->columns; the "id" (column 0) is drawn here and returned.
 */
extern int64 record_insert(RecordWriter *w, Datum *values, bool *nulls);

/* Closes the indexes and the table (its lock kept) and frees the writer. */
extern void record_close(RecordWriter *w);

extern int	record_column(Relation rel, const char *name);

/* The outbox (orders.order_events) of an order's recorded steps. */
typedef struct OutboxEvent
{
	const char *event;			/* order.<status>, order.refunded */
	int16		status;
	int16		sub_status;
} OutboxEvent;

/* The events of one step of an order (from < 0: the insert); returns how many (0-2). */
extern int	lifecycle_outbox_events_of_step(int from, int from_sub, int to, int to_sub,
											OutboxEvent *out);

/*
 * Appends events after the order's last seq (an UPDATE: the order's row is
 * locked by it), or from seq 1 for a new order.
 */
extern void lifecycle_outbox_append(int64 order_id, int64 client_id,
									const OutboxEvent *events, int nevents, bool new_order);

#endif							/* ORDERS_LIFECYCLE_INTERNAL_H */
