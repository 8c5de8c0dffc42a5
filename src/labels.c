/*
 * labels.c
 *		The label tables of the enum types, and the pure label parser.
 *
 * APPEND ONLY: the index of a label is its value on disk.  Adding a label
 * means adding it at the end of its table (and to the lifecycle rules if it
 * is a status); never reorder, rename or delete one.  The sort order of a
 * type is the order of its table.
 *
 * These tables are the one source of the labels: the parser and printer,
 * the lifecycle rules, and, through scripts/render-labels.sh, the COMMENT ON
 * TYPE texts (schema/11_enum_comments.sql) and the table of docs/types.md.
 */
#include "labels.h"

#define LENGTH_OF(a) ((int) (sizeof(a) / sizeof((a)[0])))
#define LABEL_SET(sqlname, description, labels, aliases, naliases) \
	{ sqlname, description, labels, LENGTH_OF(labels), aliases, naliases }

/* Primary order status, in lifecycle order. */
static const char *const order_status[] = {
	"PLACED", "PENDING", "PROCESSING", "DELIVERED", "PARTIALLY_DELIVERED",
	"CANCELLED", "FAILED"
};

/* Sub-status, as listed by the current edition of the reference. */
static const char *const order_sub_status[] = {
	"INITIAL", "PROCESSING", "PARTIAL", "COMPLETED",
	"VENDOR_ORDER_PENDING", "VENDOR_ORDER_CREATED", "VENDOR_ORDER_FAILED",
	"VENDOR_VOUCHER_FETCHED", "INVENTORY_FULFILLED", "PENDING_REPROCESS",
	"REPROCESS_EXPIRED", "GV_LINK_PENDING", "GV_LINK_CLAIMED",
	"GV_LINK_UNCLAIMED", "BULK_LIMIT_EXCEEDED", "REFUNDED", "NOT_REFUNDED",
	"RECONCILED"
};

static const char *const delivery_time[] = {"INSTANT", "DELAYED"};

/* REALTIME is the legacy name of INSTANT (reference 001, "Legacy note"). */
static const OrdersLabelAlias delivery_time_aliases[] = {{"REALTIME", 0}};

static const char *const delivery_type[] = {"CODE_WITH_PIN", "URL"};
static const char *const delivery_mode[] = {
	"ONLINE", "OFFLINE", "ONLINE_OR_OFFLINE", "NA"
};
static const char *const classification[] = {
	"OPEN_LOOP", "CLOSED_LOOP", "SEMI_OPEN", "SEMI_CLOSE"
};
static const char *const link_type[] = {"PUBLIC", "PROTECTED"};
static const char *const inventory_status[] = {
	"AVAILABLE", "ALLOCATED", "DELIVERED", "COMPLETED", "BLOCKED", "REVOKED"
};
static const char *const recharge_status[] = {
	"PENDING", "DELIVERED", "RECHARGED", "FAILED", "CANCELLED"
};

const OrdersLabelSet orders_order_status_labels =
LABEL_SET("order_status", "primary order status",
		  order_status, NULL, 0);
const OrdersLabelSet orders_order_sub_status_labels =
LABEL_SET("order_sub_status", "detailed order sub-status (new labels are appended over time)",
		  order_sub_status, NULL, 0);
const OrdersLabelSet orders_delivery_time_labels =
LABEL_SET("delivery_time", "how fast a voucher is expected",
		  delivery_time, delivery_time_aliases,
		  LENGTH_OF(delivery_time_aliases));
const OrdersLabelSet orders_delivery_type_labels =
LABEL_SET("delivery_type", "delivery format of a voucher",
		  delivery_type, NULL, 0);
const OrdersLabelSet orders_delivery_mode_labels =
LABEL_SET("delivery_mode", "where a voucher is redeemed",
		  delivery_mode, NULL, 0);
const OrdersLabelSet orders_classification_labels =
LABEL_SET("classification", "redemption scope",
		  classification, NULL, 0);
const OrdersLabelSet orders_link_type_labels =
LABEL_SET("link_type", "access model of a redemption URL",
		  link_type, NULL, 0);
const OrdersLabelSet orders_inventory_status_labels =
LABEL_SET("inventory_status", "state of one voucher unit",
		  inventory_status, NULL, 0);
const OrdersLabelSet orders_recharge_status_labels =
LABEL_SET("recharge_status", "state of a mobile recharge",
		  recharge_status, NULL, 0);

const OrdersLabelSet *const orders_all_label_sets[] = {
	&orders_order_status_labels,
	&orders_order_sub_status_labels,
	&orders_delivery_time_labels,
	&orders_delivery_type_labels,
	&orders_delivery_mode_labels,
	&orders_classification_labels,
	&orders_link_type_labels,
	&orders_inventory_status_labels,
	&orders_recharge_status_labels,
};
const int	orders_n_label_sets = LENGTH_OF(orders_all_label_sets);

/*
 * ASCII-only case-insensitive comparison of input[0..len) with a
 * NUL-terminated uppercase label.  Bytes >= 0x80 never match, so non-ASCII
 * input is rejected rather than folded by a locale.
 */
static int
label_matches(const char *label, const char *input, size_t len)
{
	size_t		i;

	for (i = 0; i < len; i++)
	{
		unsigned char c = (unsigned char) input[i];

		if (label[i] == '\0')
			return 0;
		if (c >= 'a' && c <= 'z')
			c = (unsigned char) (c - 'a' + 'A');
		if (c != (unsigned char) label[i])
			return 0;
	}
	return label[len] == '\0';
}

int
orders_label_parse(const OrdersLabelSet *set, const char *input, size_t len)
{
	int			i;

	if (input == NULL || len == 0 || len > ORDERS_LABEL_MAXLEN)
		return -1;
	for (i = 0; i < set->nlabels; i++)
		if (label_matches(set->labels[i], input, len))
			return i;
	for (i = 0; i < set->naliases; i++)
		if (label_matches(set->aliases[i].alias, input, len))
			return set->aliases[i].code;
	return -1;
}

const char *
orders_label_name(const OrdersLabelSet *set, int code)
{
	if (code < 0 || code >= set->nlabels)
		return NULL;
	return set->labels[code];
}
