/*
 * orders.h
 *		Declarations shared between the files of the orders module.
 */
#ifndef ORDERS_H
#define ORDERS_H

#include "utils/elog.h"

/*
 * SQLSTATEs of the project, class "OR".  Stable: clients may match on them.
 */
#define ERRCODE_ORDERS_ILLEGAL_TRANSITION	MAKE_SQLSTATE('O','R','0','0','1')
#define ERRCODE_ORDERS_ILLEGAL_SUB_STATUS	MAKE_SQLSTATE('O','R','0','0','2')

extern void _PG_init(void);

/* Per-concern initialisation, called from _PG_init. */
extern void orders_lifecycle_init(void);
extern void orders_vault_init(void);

#endif							/* ORDERS_H */
