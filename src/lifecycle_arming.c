/*
 * lifecycle_arming.c
 *		The rows a caller armed with their path and reasons (lifecycle.h),
 *		until the trigger consumes them, the caller disarms, or the
 *		transaction ends.
 *
 * Backend-local and transaction-scoped on purpose: an arming is the caller's
 * own argument to the trigger of its own next statement, never something
 * another statement, session or transaction can see.  The memory lives in a
 * child of TopTransactionContext, so the transaction's end frees it even if
 * a caller forgot to disarm; the xact callback forgets the pointers.
 */
#include "postgres.h"

#include "access/xact.h"
#include "utils/memutils.h"

#include "enum_io.h"
#include "lifecycle_internal.h"

/* One lifecycle_arm() call: its rows (sorted) and their shared path. */
typedef struct ArmedBatch
{
	struct ArmedBatch *next;	/* older batches */
	LifecycleEntity entity;
	int			nrows;
	int64	   *ids;			/* sorted, for a binary search */
	bool	   *consumed;
	int			nsteps;
	LifecycleStep *steps;
} ArmedBatch;

/* armed is meaningful only while arming_context is set */
static MemoryContext arming_context = NULL;
static ArmedBatch *armed = NULL;	/* newest first */

/* The per-transaction contexts of the lifecycle, forgotten at transaction end. */
#define XACT_SLOTS 4
static MemoryContext *xact_slots[XACT_SLOTS];
static int	n_xact_slots = 0;

static void
lifecycle_xact_callback(XactEvent event, void *arg pg_attribute_unused())
{
	int			i;

	switch (event)
	{
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
		case XACT_EVENT_PREPARE:
			/* the contexts go with TopTransactionContext */
			for (i = 0; i < n_xact_slots; i++)
				*xact_slots[i] = NULL;
			break;
		default:
			break;
	}
}

MemoryContext
lifecycle_xact_context(MemoryContext *slot)
{
	int			i;

	if (*slot != NULL)
		return *slot;
	for (i = 0; i < n_xact_slots && xact_slots[i] != slot; i++)
		;
	if (i == n_xact_slots)
	{
		if (n_xact_slots == XACT_SLOTS)
			elog(ERROR, "lifecycle_xact_context: too many slots");
		if (n_xact_slots == 0)
			RegisterXactCallback(lifecycle_xact_callback, NULL);
		xact_slots[n_xact_slots++] = slot;
	}
	*slot = AllocSetContextCreate(TopTransactionContext, "orders lifecycle, this transaction",
								  ALLOCSET_SMALL_SIZES);
	return *slot;
}

static int
compare_int64(const void *a, const void *b)
{
	int64		x = *(const int64 *) a;
	int64		y = *(const int64 *) b;

	return (x > y) - (x < y);
}

static void
check_step(const LifecycleMachine *m, const LifecycleStep *step, int k)
{
	if (step->status < 0 || step->status >= m->states->nlabels)
		elog(ERROR, "lifecycle_arm: step %d of %s has no status (code %d)",
			 k, m->display, step->status);
	if (m->subs == NULL ? step->sub_status != -1 :
		(step->sub_status < 0 || step->sub_status >= m->subs->nlabels))
		elog(ERROR, "lifecycle_arm: step %d of %s has an invalid sub-status (code %d)",
			 k, m->display, step->sub_status);
}

void
lifecycle_arm(LifecycleEntity entity, const int64 *row_ids, int nrows,
			  const LifecycleStep *steps, int nsteps)
{
	const LifecycleMachine *m;
	MemoryContext old;
	ArmedBatch *batch;
	int			k;

	if ((int) entity < 0 || (int) entity >= lifecycle_n_machines)
		elog(ERROR, "lifecycle_arm: unknown entity %d", (int) entity);
	m = lifecycle_machines[entity];
	if (nrows < 0 || (nrows > 0 && row_ids == NULL) || nsteps < 1 || steps == NULL)
		elog(ERROR, "lifecycle_arm: needs rows and at least one step");
	for (k = 0; k < nsteps; k++)
		check_step(m, &steps[k], k);
	if (nrows == 0)
		return;

	if (arming_context == NULL)
		armed = NULL;
	old = MemoryContextSwitchTo(lifecycle_xact_context(&arming_context));
	batch = palloc(sizeof(ArmedBatch));
	batch->entity = entity;
	batch->nrows = nrows;
	batch->ids = palloc(sizeof(int64) * nrows);
	memcpy(batch->ids, row_ids, sizeof(int64) * nrows);
	if (nrows > 1)
		qsort(batch->ids, nrows, sizeof(int64), compare_int64);
	batch->consumed = palloc0(sizeof(bool) * nrows);
	batch->nsteps = nsteps;
	batch->steps = palloc(sizeof(LifecycleStep) * nsteps);
	for (k = 0; k < nsteps; k++)
	{
		batch->steps[k] = steps[k];
		batch->steps[k].reason = steps[k].reason ? pstrdup(steps[k].reason) : NULL;
	}
	batch->next = armed;
	armed = batch;
	MemoryContextSwitchTo(old);
}

void
lifecycle_disarm(void)
{
	if (arming_context != NULL)
		MemoryContextDelete(arming_context);
	arming_context = NULL;
	armed = NULL;
}

const LifecycleStep *
lifecycle_take_arming(LifecycleEntity entity, int64 id, int *nsteps)
{
	ArmedBatch *batch;

	if (arming_context == NULL)
		return NULL;
	for (batch = armed; batch != NULL; batch = batch->next)
	{
		int64	   *hit;

		if (batch->entity != entity)
			continue;
		hit = bsearch(&id, batch->ids, batch->nrows, sizeof(int64), compare_int64);
		if (hit == NULL)
			continue;
		/* the newest arming of a row decides; once used, the row is plain */
		if (batch->consumed[hit - batch->ids])
			return NULL;
		batch->consumed[hit - batch->ids] = true;
		*nsteps = batch->nsteps;
		return batch->steps;
	}
	return NULL;
}

LifecycleArmingSaved
lifecycle_arming_save(void)
{
	LifecycleArmingSaved saved;

	saved.context = arming_context;
	saved.batches = arming_context ? armed : NULL;
	arming_context = NULL;
	armed = NULL;
	return saved;
}

void
lifecycle_arming_restore(LifecycleArmingSaved saved)
{
	lifecycle_disarm();
	arming_context = (MemoryContext) saved.context;
	armed = (ArmedBatch *) saved.batches;
}
