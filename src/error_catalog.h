/*
 * error_catalog.h
 *		The project's errors, one table (src/error_catalog.c): SQLSTATE, HTTP
 *		status, error code and message, for SQL (orders.error_catalog()), C
 *		and docs/errors.md.
 */
#ifndef ERROR_CATALOG_H
#define ERROR_CATALOG_H

#include "orders.h"
#include "vault.h"

/*
 * Codes raised only from SQL (no C code raises them): declared here so that
 * the catalog names every code of class OR by its macro.
 */
#define ERRCODE_ORDERS_STALE_LEASE			MAKE_SQLSTATE('O','R','5','0','1')
#define ERRCODE_ORDERS_NOT_CANCELLABLE		MAKE_SQLSTATE('O','R','5','0','2')
#define ERRCODE_ORDERS_CONTRADICTING_REPORT MAKE_SQLSTATE('O','R','5','0','3')
#define ERRCODE_ORDERS_NOT_WAITING			MAKE_SQLSTATE('O','R','5','0','4')
#define ERRCODE_ORDERS_EVENT_ORDER			MAKE_SQLSTATE('O','R','5','1','0')

typedef struct OrdersError
{
	const char *name;			/* stable key, e.g. "invalid_input" */
	int			sqlcode;		/* MAKE_SQLSTATE(...), 0: an API answer only */
	int			http_status;	/* what the API answers */
	const char *error;			/* the "error" member of the API's body */
	const char *message;		/* fixed API message; NULL: the raised one */
	const char *meaning;		/* for docs/errors.md */
	const char *raised_by;		/* for docs/errors.md */
} OrdersError;

extern const OrdersError orders_errors[];
extern const int orders_n_errors;

#endif							/* ERROR_CATALOG_H */
