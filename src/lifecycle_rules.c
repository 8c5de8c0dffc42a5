/*
 * lifecycle_rules.c
 *		The legal moves of every entity with a status, each with its reason.
 *
 * This table is the single source of the lifecycle: the trigger enforces
 * it, orders.transitions() publishes it, and docs/lifecycle.md is drawn
 * from that.  docs/lifecycle.md explains the choices made here against the
 * reference.
 */
#include <stddef.h>

#include "lifecycle_rules.h"

#define LENGTH_OF(a) ((int) (sizeof(a) / sizeof((a)[0])))

static const LifecycleEdge order_edges[] = {
	{NULL, "PLACED", "an order is recorded before anything else happens"},
	{"PLACED", "PENDING", "the wallet was debited; the order is queued for fulfilment"},
	{"PLACED", "FAILED", "the order was refused before any money moved"},
	{"PLACED", "CANCELLED", "cancelled before any money moved"},
	{"PENDING", "PROCESSING", "a vendor order was created for the items inventory could not serve"},
	{"PENDING", "DELIVERED", "every item was delivered from inventory (INSTANT) or by a restock"},
	{"PENDING", "PARTIALLY_DELIVERED", "some items were delivered, the others wait or failed"},
	{"PENDING", "FAILED", "final vendor failure or retry window expired; the order is refunded"},
	{"PENDING", "CANCELLED", "cancelled by the client or an admin while nothing was delivered; refunded"},
	{"PROCESSING", "PENDING", "transient vendor failure: queued again for a retry"},
	{"PROCESSING", "DELIVERED", "the vendor delivered every item"},
	{"PROCESSING", "PARTIALLY_DELIVERED", "the vendor delivered some items"},
	{"PROCESSING", "FAILED", "the vendor failed the order for good; the order is refunded"},
	{"PROCESSING", "CANCELLED", "cancelled before the vendor delivered anything; refunded"},
	{"PARTIALLY_DELIVERED", "DELIVERED", "the remaining items were delivered later"},
};

static const LifecyclePair order_pairs[] = {
	{"PLACED", "INITIAL", "recorded, nothing done yet"},
	{"PENDING", "INITIAL", "debited, fulfilment not decided yet"},
	{"PENDING", "VENDOR_ORDER_PENDING", "inventory was short: waiting for a vendor order"},
	{"PENDING", "PENDING_REPROCESS", "a transient failure: waiting for the next retry"},
	{"PENDING", "REPROCESS_EXPIRED", "the retry window closed; the order fails next"},
	{"PENDING", "BULK_LIMIT_EXCEEDED", "waiting for an admin: over the bulk limit"},
	{"PENDING", "GV_LINK_PENDING", "waiting for a gift-voucher link to be created"},
	{"PROCESSING", "PROCESSING", "being fulfilled"},
	{"PROCESSING", "VENDOR_ORDER_CREATED", "the vendor accepted the order"},
	{"DELIVERED", "COMPLETED", "fully delivered"},
	{"DELIVERED", "INVENTORY_FULFILLED", "delivered from inventory, no vendor call"},
	{"DELIVERED", "VENDOR_VOUCHER_FETCHED", "delivered with vouchers fetched from the vendor"},
	{"DELIVERED", "GV_LINK_CLAIMED", "the gift-voucher link was claimed"},
	{"DELIVERED", "GV_LINK_UNCLAIMED", "the gift-voucher link is not claimed yet"},
	{"DELIVERED", "RECONCILED", "reconciled with the vendor"},
	{"PARTIALLY_DELIVERED", "PARTIAL", "some items delivered, the rest still open"},
	{"PARTIALLY_DELIVERED", "REFUNDED", "the undelivered part was refunded"},
	{"PARTIALLY_DELIVERED", "NOT_REFUNDED", "the undelivered part is not refunded yet"},
	{"PARTIALLY_DELIVERED", "RECONCILED", "reconciled with the vendor"},
	{"FAILED", "VENDOR_ORDER_FAILED", "the vendor rejected or failed the order"},
	{"FAILED", "REPROCESS_EXPIRED", "the retry window expired without success"},
	{"FAILED", "REFUNDED", "the charge was returned to the wallet"},
	{"FAILED", "NOT_REFUNDED", "failed, refund not made yet"},
	{"CANCELLED", "REFUNDED", "the charge was returned to the wallet"},
	{"CANCELLED", "NOT_REFUNDED", "cancelled, refund not made yet"},
};

/* Money returned and books closed are facts: they never change back. */
static const char *const order_final_subs[] = {"REFUNDED", "RECONCILED"};

static const LifecycleEdge item_edges[] = {
	{NULL, "PENDING", "an item waits for a unit or a vendor voucher"},
	{"PENDING", "PROCESSING", "a vendor job holds the item"},
	{"PENDING", "DELIVERED", "a unit was allocated and released to the client"},
	{"PENDING", "FAILED", "the item cannot be fulfilled"},
	{"PENDING", "CANCELLED", "the order was cancelled"},
	{"PROCESSING", "PENDING", "the vendor job failed transiently or its lease expired"},
	{"PROCESSING", "DELIVERED", "the vendor voucher was stored"},
	{"PROCESSING", "FAILED", "the vendor failed the item for good"},
	{"PROCESSING", "CANCELLED", "the order was cancelled before the vendor delivered"},
};

static const LifecycleEdge unit_edges[] = {
	{NULL, "AVAILABLE", "a loaded unit joins the pool"},
	{NULL, "BLOCKED", "a unit loaded already expired or flagged never joins the pool"},
	{"AVAILABLE", "ALLOCATED", "reserved for an order item"},
	{"AVAILABLE", "BLOCKED", "expired or flagged"},
	{"AVAILABLE", "REVOKED", "recalled by the vendor"},
	{"ALLOCATED", "DELIVERED", "released to the ordering client"},
	{"ALLOCATED", "AVAILABLE", "the order was cancelled before delivery; back to the pool"},
	{"ALLOCATED", "REVOKED", "recalled by the vendor"},
	{"DELIVERED", "COMPLETED", "delivered and reconciled"},
	{"DELIVERED", "REVOKED", "recalled by the vendor after delivery"},
	{"COMPLETED", "REVOKED", "recalled by the vendor after reconciliation"},
	{"BLOCKED", "AVAILABLE", "a flag was cleared (expired units are never allocated)"},
	{"BLOCKED", "REVOKED", "recalled by the vendor"},
};

static const LifecycleEdge recharge_edges[] = {
	{NULL, "PENDING", "a recharge request is queued"},
	{"PENDING", "DELIVERED", "submitted to the operator"},
	{"PENDING", "FAILED", "rejected before submission"},
	{"PENDING", "CANCELLED", "cancelled before submission"},
	{"DELIVERED", "RECHARGED", "the operator confirmed the credit"},
	{"DELIVERED", "FAILED", "the operator rejected the recharge"},
};

static LifecycleMachine order_machine = {
	.name = "order", .display = "order",
	.states = &orders_order_status_labels,
	.edges = order_edges, .nedges = LENGTH_OF(order_edges),
	.subs = &orders_order_sub_status_labels,
	.pairs = order_pairs, .npairs = LENGTH_OF(order_pairs),
	.final_subs = order_final_subs, .nfinal_subs = LENGTH_OF(order_final_subs),
};
static LifecycleMachine item_machine = {
	.name = "order_item", .display = "order item",
	.states = &orders_order_status_labels,
	.edges = item_edges, .nedges = LENGTH_OF(item_edges),
};
static LifecycleMachine unit_machine = {
	.name = "inventory_unit", .display = "inventory unit",
	.states = &orders_inventory_status_labels,
	.edges = unit_edges, .nedges = LENGTH_OF(unit_edges),
};
static LifecycleMachine recharge_machine = {
	.name = "recharge", .display = "recharge",
	.states = &orders_recharge_status_labels,
	.edges = recharge_edges, .nedges = LENGTH_OF(recharge_edges),
};

LifecycleMachine *const lifecycle_machines[] = {
	&order_machine, &item_machine, &unit_machine, &recharge_machine
};
const int	lifecycle_n_machines = LENGTH_OF(lifecycle_machines);

static int
code_of(const OrdersLabelSet *set, const char *name)
{
	size_t		len = 0;

	while (name[len])
		len++;
	return orders_label_parse(set, name, len);
}

const char *
lifecycle_compile(void)
{
	int			i,
				j;

	for (i = 0; i < lifecycle_n_machines; i++)
	{
		LifecycleMachine *m = lifecycle_machines[i];

		m->initial = 0;
		m->final_mask = 0;
		for (j = 0; j < LIFECYCLE_MAX_LABELS; j++)
			m->next[j] = m->subs_of[j] = 0;

		for (j = 0; j < m->nedges; j++)
		{
			int			to = code_of(m->states, m->edges[j].to);
			int			from = m->edges[j].from ? code_of(m->states, m->edges[j].from) : 0;

			if (to < 0)
				return m->edges[j].to;
			if (from < 0)
				return m->edges[j].from;
			if (m->edges[j].from == NULL)
				m->initial |= LIFECYCLE_BIT(to);
			else
				m->next[from] |= LIFECYCLE_BIT(to);
		}
		for (j = 0; j < m->npairs; j++)
		{
			int			status = code_of(m->states, m->pairs[j].status);
			int			sub = code_of(m->subs, m->pairs[j].sub_status);

			if (status < 0)
				return m->pairs[j].status;
			if (sub < 0)
				return m->pairs[j].sub_status;
			m->subs_of[status] |= LIFECYCLE_BIT(sub);
		}
		for (j = 0; j < m->nfinal_subs; j++)
		{
			int			sub = code_of(m->subs, m->final_subs[j]);

			if (sub < 0)
				return m->final_subs[j];
			m->final_mask |= LIFECYCLE_BIT(sub);
		}
	}
	return NULL;
}

const LifecycleMachine *
lifecycle_machine(const char *name)
{
	int			i;

	for (i = 0; i < lifecycle_n_machines; i++)
	{
		const char *a = lifecycle_machines[i]->name;
		const char *b = name;

		while (*a && *a == *b)
			a++, b++;
		if (*a == '\0' && *b == '\0')
			return lifecycle_machines[i];
	}
	return NULL;
}

bool
lifecycle_move_ok(const LifecycleMachine *m, int from, int to)
{
	if (to < 0 || to >= LIFECYCLE_MAX_LABELS || from >= LIFECYCLE_MAX_LABELS)
		return false;
	if (from < 0)
		return (m->initial & LIFECYCLE_BIT(to)) != 0;
	return (m->next[from] & LIFECYCLE_BIT(to)) != 0;
}

bool
lifecycle_pair_ok(const LifecycleMachine *m, int status, int sub)
{
	if (status < 0 || status >= LIFECYCLE_MAX_LABELS ||
		sub < 0 || sub >= LIFECYCLE_MAX_LABELS)
		return false;
	return (m->subs_of[status] & LIFECYCLE_BIT(sub)) != 0;
}

bool
lifecycle_sub_move_ok(const LifecycleMachine *m, int from_sub, int to_sub)
{
	if (from_sub < 0 || from_sub >= LIFECYCLE_MAX_LABELS)
		return false;
	return from_sub == to_sub ||
		(m->final_mask & LIFECYCLE_BIT(from_sub)) == 0;
}
