/*
 * lifecycle_rules.h
 *		The state machines of orders, order items, inventory units and
 *		recharges, as data.
 *
 * The rules are written with label names and a reason each; they are
 * compiled once into bit masks over the stored codes.  Pure C: no palloc,
 * no ereport.
 */
#ifndef ORDERS_LIFECYCLE_RULES_H
#define ORDERS_LIFECYCLE_RULES_H

#include <stdbool.h>
#include <stdint.h>

#include "labels.h"

#define LIFECYCLE_MAX_LABELS 64

/* A legal move; from == NULL means "on insert" (the initial states). */
typedef struct LifecycleEdge
{
	const char *from;
	const char *to;
	const char *reason;
} LifecycleEdge;

/* A legal (status, sub-status) pair. */
typedef struct LifecyclePair
{
	const char *status;
	const char *sub_status;
	const char *reason;
} LifecyclePair;

typedef struct LifecycleMachine
{
	const char *name;			/* trigger argument: order, order_item, ... */
	const char *display;		/* in messages: "order", "order item", ... */
	const OrdersLabelSet *states;
	const LifecycleEdge *edges;
	int			nedges;
	const OrdersLabelSet *subs; /* NULL: the entity has no sub-status */
	const LifecyclePair *pairs;
	int			npairs;
	const char *const *final_subs;	/* sub-statuses never left once reached */
	int			nfinal_subs;

	/* compiled by lifecycle_compile() */
	uint64_t	initial;
	uint64_t	next[LIFECYCLE_MAX_LABELS];
	uint64_t	subs_of[LIFECYCLE_MAX_LABELS];
	uint64_t	final_mask;
} LifecycleMachine;

extern LifecycleMachine *const lifecycle_machines[];
extern const int lifecycle_n_machines;

/*
 * Compile every machine.  Returns NULL on success, or the offending label
 * name when a rule names a label its type does not have.
 */
extern const char *lifecycle_compile(void);

extern const LifecycleMachine *lifecycle_machine(const char *name);

/* from < 0 means insert. */
extern bool lifecycle_move_ok(const LifecycleMachine *m, int from, int to);
extern bool lifecycle_pair_ok(const LifecycleMachine *m, int status, int sub);
extern bool lifecycle_sub_move_ok(const LifecycleMachine *m, int from_sub, int to_sub);

#define LIFECYCLE_BIT(code) (UINT64_C(1) << (code))

#endif							/* ORDERS_LIFECYCLE_RULES_H */
