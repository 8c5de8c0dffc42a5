/*
 * reveal_audit.h
 *		The durable audit of voucher reveals, written by a background worker
 *		(src/reveal_audit.c, docs/vault.md "Reveal").
 */
#ifndef REVEAL_AUDIT_H
#define REVEAL_AUDIT_H

#include "postgres.h"

/* Settings and shared memory; workers are started on demand. */
extern void orders_reveal_audit_init(void);

/*
 * Hand the audit of a reveal to come (the create path's response) to the
 * worker without waiting; orders.vault_audit_reveal() of exactly these
 * items then waits for it instead of queueing its own.  May do nothing
 * (the reveal then queues as usual).
 */
extern void reveal_audit_prepare(int64 client_id, int64 order_id, const int64 *item_ids,
								 const int64 *unit_ids, int nitems);

/* Entry point of an audit worker (main_arg: the database's OID). */
extern PGDLLEXPORT void orders_reveal_audit_main(Datum main_arg);

#endif							/* REVEAL_AUDIT_H */
