/*
 * orders.c
 *		Module entry point of the orders extension.
 *
 * Each concern lives in its own file; _PG_init only asks each of them to
 * register what it needs (settings, shared memory, background workers).
 */
#include "postgres.h"

#include "fmgr.h"

#include "orders.h"

PG_MODULE_MAGIC;

void
_PG_init(void)
{
	orders_lifecycle_init();
	orders_vault_init();
	orders_identity_init();
	orders_credentials_init();
	orders_ratelimit_init();
	orders_fulfilment_init();
	orders_webhooks_init();
}
