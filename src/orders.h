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
/* A change only the owning path may make: an append-only table changed
 * (SQL, orders.refuse_change), a wallet moved outside the ledger (C,
 * src/wallet_ledger.c). */
#define ERRCODE_ORDERS_APPEND_ONLY			MAKE_SQLSTATE('O','R','0','0','3')
/* Orders and money (raised in SQL, schema/5x; docs/errors.md). */
#define ERRCODE_ORDERS_INVALID_INPUT		MAKE_SQLSTATE('O','R','1','0','0')
#define ERRCODE_ORDERS_NOT_FOUND			MAKE_SQLSTATE('O','R','1','0','1')
#define ERRCODE_ORDERS_PO_NUMBER_CONFLICT	MAKE_SQLSTATE('O','R','1','0','2')
#define ERRCODE_ORDERS_REFUSED				MAKE_SQLSTATE('O','R','1','0','3')
#define ERRCODE_ORDERS_ALREADY_REFUNDED		MAKE_SQLSTATE('O','R','1','0','4')

extern void _PG_init(void);

/* Per-concern initialisation, called from _PG_init. */
extern void orders_lifecycle_init(void);
extern void orders_vault_init(void);
extern void orders_identity_init(void);
extern void orders_credentials_init(void);
extern void orders_ratelimit_init(void);
extern void orders_fulfilment_init(void);
extern void orders_webhooks_init(void);

#endif							/* ORDERS_H */
