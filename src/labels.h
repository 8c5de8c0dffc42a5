/*
 * labels.h
 *		Label tables of the enum types of orders, and their pure parser.
 *
 * Each enum type of the reference is one table of labels.  The position
 * of a label in its table is the value stored on disk, so a label is never
 * removed, renamed or moved: new labels are only appended at the end.
 *
 * Nothing here allocates memory or reports errors, so the parser can be
 * linked alone into a fuzz target (test/fuzz/).
 */
#ifndef ORDERS_LABELS_H
#define ORDERS_LABELS_H

#include <stddef.h>

/* Longest input the parser looks at; longer input is invalid. */
#define ORDERS_LABEL_MAXLEN 64

typedef struct OrdersLabelAlias
{
	const char *alias;			/* accepted on input, never printed */
	int			code;			/* the label it stands for */
} OrdersLabelAlias;

typedef struct OrdersLabelSet
{
	const char *type_name;		/* SQL name, for messages */
	const char *description;	/* what the type is: COMMENT ON TYPE, docs */
	const char *const *labels;	/* canonical UPPERCASE, index = stored code */
	int			nlabels;
	const OrdersLabelAlias *aliases;
	int			naliases;
} OrdersLabelSet;

extern const OrdersLabelSet orders_order_status_labels;
extern const OrdersLabelSet orders_order_sub_status_labels;
extern const OrdersLabelSet orders_delivery_time_labels;
extern const OrdersLabelSet orders_delivery_type_labels;
extern const OrdersLabelSet orders_delivery_mode_labels;
extern const OrdersLabelSet orders_classification_labels;
extern const OrdersLabelSet orders_link_type_labels;
extern const OrdersLabelSet orders_inventory_status_labels;
extern const OrdersLabelSet orders_recharge_status_labels;

/* All sets, for tests and the fuzz target. */
extern const OrdersLabelSet *const orders_all_label_sets[];
extern const int orders_n_label_sets;

/*
 * Parse input of len bytes (not necessarily NUL-terminated) in any ASCII
 * case.  Returns the stored code, or -1 if the input is not a label or an
 * alias of the set.
 */
extern int	orders_label_parse(const OrdersLabelSet *set, const char *input, size_t len);

/* Canonical name of a code, or NULL when the code is not in the set. */
extern const char *orders_label_name(const OrdersLabelSet *set, int code);

#endif							/* ORDERS_LABELS_H */
