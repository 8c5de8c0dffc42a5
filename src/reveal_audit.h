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

/* Entry point of an audit worker (main_arg: the database's OID). */
extern PGDLLEXPORT void orders_reveal_audit_main(Datum main_arg);

#endif							/* REVEAL_AUDIT_H */
