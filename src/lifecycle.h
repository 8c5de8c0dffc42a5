/*
 * lifecycle.h
 *		Status changes a C caller vouches for: the path and the reason of each
 *		step, handed to the lifecycle trigger for the caller's own write.
 *
 * The SQL face of this is orders.transition_orders() and its siblings
 * (src/lifecycle_transition.c); C code that writes the rows itself (the
 * create path) arms the trigger directly.
 */
#ifndef ORDERS_LIFECYCLE_H
#define ORDERS_LIFECYCLE_H

#include "c.h"

/* In the order of lifecycle_machines[] (src/lifecycle_rules.c). */
typedef enum LifecycleEntity
{
	LIFECYCLE_ORDER, LIFECYCLE_ORDER_ITEM, LIFECYCLE_INVENTORY_UNIT, LIFECYCLE_RECHARGE
} LifecycleEntity;

/* One status change the caller vouches for.  status / sub_status are the stored
 * codes of the enum types (src/labels.h: index in the label table); sub_status is
 * -1 for entities without one.  reason is copied by lifecycle_arm (NULL: none). */
typedef struct LifecycleStep
{
	int			status;
	int			sub_status;
	const char *reason;
} LifecycleStep;

/*
 * Arms the lifecycle trigger for the next write(s) of the given rows of `entity`
 * by this backend.  On an INSERT of one of these rows, the steps are the row's path
 * from the entity's initial state (PLACED/INITIAL for an order): the trigger checks
 * that every step is a legal move, that the row's status/sub_status equal the last
 * step, and writes one status_history row per step with its reason (and, for orders,
 * the outbox events of each step, numbered from 1).  On an UPDATE of one of these rows,
 * the steps go from the row's OLD state; same checks and records.  An INSERT or UPDATE
 * of a row that is not armed behaves as today: INSERT only in the initial state, UPDATE
 * one legal move, history row with reason NULL.
 * The arming is consumed per row and cleared by lifecycle_disarm(), which callers call
 * in PG_FINALLY around their statement; it is also cleared at transaction end (xact
 * callback), so it can never leak into a later statement.
 * Not reachable from SQL except through the orders.transition*() functions: plain SQL
 * cannot insert an order in a non-initial state.
 *
 * Details:
 * - For an INSERT, steps[0] is the initial state itself (its history row has
 *   from_status NULL; for an order it is the order.placed event, seq 1).
 * - A step equal to the state before it records nothing.
 * - The history and outbox rows of an INSERT of an order (armed or not) are
 *   written by the AFTER INSERT row trigger orders.lifecycle_record, so an
 *   INSERT ... ON CONFLICT DO NOTHING that skips the row leaves nothing
 *   behind; they exist once the INSERT statement's AFTER triggers have run
 *   (for an executor-level insert without its own AfterTriggerBeginQuery /
 *   EndQuery: at the end of the calling SQL statement).  The reasons are
 *   copied, so disarming before that is fine.
 * - row_ids and steps are copied; nrows may be large (one arm for all the
 *   items of an order): lookups are a binary search.  The same id armed
 *   twice: the latest arm wins.
 * - Arming is only for the rows the caller writes next; the ERROR of a
 *   refused step names the row and the step, and changes nothing (the
 *   caller's statement fails).
 */
extern void lifecycle_arm(LifecycleEntity entity, const int64 *row_ids, int nrows,
						  const LifecycleStep *steps, int nsteps);
extern void lifecycle_disarm(void);

#endif							/* ORDERS_LIFECYCLE_H */
