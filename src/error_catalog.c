/*
 * error_catalog.c
 *		The one table of the project's errors: each SQLSTATE of class OR and
 *		each answer the API gives on its own (401, 404, 405, 429, 500), with
 *		its HTTP status, the "error" code of the body and, where it is fixed,
 *		the message.  orders.error_catalog() publishes it to SQL (the API maps
 *		errors through it) and scripts/render-docs.sh renders docs/errors.md
 *		from it.  The SQLSTATEs are the ERRCODE_ORDERS_* macros the C code
 *		raises, so the text codes cannot drift from them.
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"

#include "error_catalog.h"

const OrdersError orders_errors[] = {
	/* the status machines (C trigger) and append-only tables */
	{"illegal_transition", ERRCODE_ORDERS_ILLEGAL_TRANSITION, 409, "conflict", NULL,
		"illegal status move (internal: should not reach a client)", "lifecycle trigger"},
	{"illegal_sub_status", ERRCODE_ORDERS_ILLEGAL_SUB_STATUS, 409, "conflict", NULL,
		"illegal sub-status for the status (internal)", "lifecycle trigger"},
	{"append_only", ERRCODE_ORDERS_APPEND_ONLY, 500, "internal_error", NULL,
		"change refused on an append-only table or a wallet balance written outside the ledger",
		"`orders.refuse_change`, `orders.wallet_guard`"},
	/* orders and money */
	{"invalid_input", ERRCODE_ORDERS_INVALID_INPUT, 400, "bad_request", NULL,
		"invalid input: a field is missing, has the wrong type, format or range, a denomination "
		"the product does not offer, a quantity over the product's limit, missing `topupData` for "
		"a top-up, bad `page` / `limit` / `status` / `product_id` / date range, order id <= 0, "
		"a malformed request body, an unknown query parameter, a bad webhook `url` / `eventTypes` / "
		"`description` / `enabled`",
		"`create_order`, `quote`, `list_orders`, `order_details`, `fund_wallet`, `refund_order`, the API"},
	{"unknown_reference", ERRCODE_ORDERS_NOT_FOUND, 404, "not_found", NULL,
		"unknown: no such product (`productId`), client, wallet, or order to refund",
		"`create_order`, `quote`, `open_wallet`, `refund_order`"},
	{"po_number_conflict", ERRCODE_ORDERS_PO_NUMBER_CONFLICT, 409, "conflict", NULL,
		"poNumber conflict: the client already used this poNumber for an order with other parameters",
		"`create_order`"},
	{"order_refused", ERRCODE_ORDERS_REFUSED, 422, "order_refused", NULL,
		"refused order: insufficient balance, product not available for ordering, no wallet in the "
		"product's currency and no default wallet, no exchange rate",
		"`create_order`, `quote`, the ledger trigger"},
	{"already_refunded", ERRCODE_ORDERS_ALREADY_REFUNDED, 409, "conflict", NULL,
		"the order is already refunded (a refund happens at most once per order)",
		"`refund_order` (admin / fulfilment only)"},
	/* the vault */
	{"vault_key_unavailable", ERRCODE_ORDERS_VAULT_KEY_UNAVAILABLE, 500, "internal_error", NULL,
		"vault: key unavailable", "the vault ([vault.md](vault.md))"},
	{"vault_ciphertext_invalid", ERRCODE_ORDERS_VAULT_CIPHERTEXT_INVALID, 500, "internal_error", NULL,
		"vault: ciphertext invalid", "the vault ([vault.md](vault.md))"},
	{"reveal_audit_unavailable", ERRCODE_ORDERS_REVEAL_AUDIT_UNAVAILABLE, 500, "internal_error", NULL,
		"voucher reveal refused: its audit could not be committed (orders not preloaded, no "
		"background worker slot, the audit worker failed or did not commit within "
		"`orders.reveal_audit_timeout`); nothing revealed",
		"`orders.reveal_vouchers` ([vault.md](vault.md#the-audit-committed-before-anything-is-decrypted))"},
	/* fulfilment and administration (not reachable through the API) */
	{"stale_lease", ERRCODE_ORDERS_STALE_LEASE, 500, "internal_error", NULL,
		"a vendor or operator report from a lease that no longer holds its job, or with the wrong "
		"operator reference (vendor back-channel)",
		"fulfilment reports ([fulfilment.md](fulfilment.md#errors))"},
	{"not_cancellable", ERRCODE_ORDERS_NOT_CANCELLABLE, 409, "conflict", NULL,
		"the order cannot be cancelled: something of it is delivered, a recharge was submitted, "
		"or it already ended", "`cancel_order`, `admin_cancel_order`"},
	{"contradicting_report", ERRCODE_ORDERS_CONTRADICTING_REPORT, 500, "internal_error", NULL,
		"a report contradicting an earlier one (another vendor reference, a second recharge "
		"result; vendor back-channel)", "fulfilment reports"},
	{"not_waiting", ERRCODE_ORDERS_NOT_WAITING, 500, "internal_error", NULL,
		"an admin action on an order that is not waiting for it (admin)", "`admin_release_order`"},
	{"event_order", ERRCODE_ORDERS_EVENT_ORDER, 500, "internal_error", NULL,
		"an event acknowledged before an earlier event of the same order (admin)",
		"`acknowledge_events`"},
	/* answers of the API itself (no SQLSTATE: returned, never raised) */
	{"unauthorized", 0, 401, "unauthorized", "Invalid or expired access token",
		"missing, wrong, unknown, revoked or expired key; bad, expired or tampered token "
		"(header `WWW-Authenticate: Bearer`)", "the API (authentication)"},
	{"no_match", 0, 404, "not_found", "No Matching Result Found!",
		"unknown route, unknown order id and another client's order alike, a list without any match",
		"the API"},
	{"method_not_allowed", 0, 405, "method_not_allowed", NULL,
		"a known path with another method (header `Allow`)", "the API (routing)"},
	{"rate_limit_exceeded", 0, 429, "rate_limit_exceeded", "Too many requests. Please try again later.",
		"over a rate limit (headers `Retry-After`, `RateLimit-Limit`, `RateLimit-Remaining`, "
		"`RateLimit-Reset`)", "the API (rate limits)"},
	/*
	 * The OAuth 2.0 token request (RFC 6749 sections 4.4 and 5.2) on
	 * POST /api/v1/auth/token: the body is {"error", "error_description"}.
	 */
	{"oauth_invalid_request", 0, 400, "invalid_request", NULL,
		"token request: `grant_type` missing, or more than one client authentication method "
		"(body credentials, HTTP Basic, API key headers)",
		"the API (OAuth 2.0 token endpoint)"},
	{"oauth_invalid_client", 0, 401, "invalid_client", "Client authentication failed",
		"token request: no client credentials, malformed HTTP Basic credentials, or a wrong, "
		"unknown, revoked or expired key (header `WWW-Authenticate: Basic`)",
		"the API (OAuth 2.0 token endpoint)"},
	{"oauth_unsupported_grant_type", 0, 400, "unsupported_grant_type", NULL,
		"token request: a `grant_type` other than `client_credentials`",
		"the API (OAuth 2.0 token endpoint)"},
	{"oauth_invalid_scope", 0, 400, "invalid_scope", NULL,
		"token request: a `scope` other than `orders` (the whole API, the one scope)",
		"the API (OAuth 2.0 token endpoint)"},
	{"webhook_limit", 0, 422, "webhook_limit", "A client may register at most 20 webhook endpoints",
		"registering a webhook endpoint past the limit of 20 per client", "the API (webhooks)"},
	{"webhook_conflict", 0, 409, "conflict", NULL,
		"retrying a webhook delivery that is being sent now, or testing or retrying on a disabled endpoint",
		"the API (webhooks)"},
	{"internal_error", 0, 500, "internal_error", NULL,
		"anything else; the message names the operation only (`Failed to retrieve order`), the "
		"SQLSTATE and message go to the server log as a WARNING", "the API"},
};

const int	orders_n_errors = lengthof(orders_errors);

PG_FUNCTION_INFO_V1(error_catalog);

/*
 * orders.error_catalog(): one row per error, in the order of the table.
 */
Datum
error_catalog(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int			i;

	InitMaterializedSRF(fcinfo, 0);
	for (i = 0; i < orders_n_errors; i++)
	{
		const OrdersError *e = &orders_errors[i];
		Datum		values[7];
		bool		nulls[7] = {false, false, false, false, false, false, false};

		values[0] = CStringGetTextDatum(e->name);
		if (e->sqlcode != 0)
			values[1] = CStringGetTextDatum(unpack_sql_state(e->sqlcode));
		else
			nulls[1] = true;
		values[2] = Int32GetDatum(e->http_status);
		values[3] = CStringGetTextDatum(e->error);
		if (e->message)
			values[4] = CStringGetTextDatum(e->message);
		else
			nulls[4] = true;
		values[5] = CStringGetTextDatum(e->meaning);
		values[6] = CStringGetTextDatum(e->raised_by);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
