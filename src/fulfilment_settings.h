/*
 * fulfilment_settings.h
 *		Fulfilment settings, the background worker, and the backoff formula
 *		of vendor job retries (pure C).
 */
#ifndef ORDERS_FULFILMENT_SETTINGS_H
#define ORDERS_FULFILMENT_SETTINGS_H

#include <stdint.h>

/* Registers the background worker (worker.c); called at load time. */
extern void orders_worker_init(void);

extern int64_t vendor_retry_delay_seconds(int attempt, int64_t base, int64_t max);

#endif							/* ORDERS_FULFILMENT_SETTINGS_H */
