/*
 * enum_io.h
 *		PostgreSQL-facing helpers over the label tables.
 */
#ifndef ORDERS_ENUM_IO_H
#define ORDERS_ENUM_IO_H

#include "labels.h"

/* Code of a label; ERROR 22P02 with a hint listing the labels otherwise. */
extern int16 orders_label_code(const OrdersLabelSet *set, const char *str, size_t len);

/* Name of a stored code; ERROR data_corrupted for a code not in the set. */
extern const char *orders_label_text(const OrdersLabelSet *set, int16 code);

/* "A, B, C, X (alias of A)", palloc'd in the current context. */
extern char *orders_label_list(const OrdersLabelSet *set);

#endif							/* ORDERS_ENUM_IO_H */
