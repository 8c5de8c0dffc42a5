-- orders 1.0 -> 1.1: ALTER EXTENSION orders UPDATE TO '1.1'.
-- Each change of the database objects between the two versions, in the
-- order of schema/ (docs/releases.md).  test/upgrade/run.sh proves that 1.0
-- plus this script gives the catalog of a fresh 1.1.

\echo Use "ALTER EXTENSION orders UPDATE TO '1.1'" to load this file. \quit

-- The types' comments are generated from src/labels.c (issue 11): every
-- type now lists its labels and aliases the same way.
COMMENT ON TYPE orders.order_sub_status IS
'detailed order sub-status (new labels are appended over time): INITIAL, PROCESSING, PARTIAL, COMPLETED, VENDOR_ORDER_PENDING, VENDOR_ORDER_CREATED, VENDOR_ORDER_FAILED, VENDOR_VOUCHER_FETCHED, INVENTORY_FULFILLED, PENDING_REPROCESS, REPROCESS_EXPIRED, GV_LINK_PENDING, GV_LINK_CLAIMED, GV_LINK_UNCLAIMED, BULK_LIMIT_EXCEEDED, REFUNDED, NOT_REFUNDED, RECONCILED';
COMMENT ON TYPE orders.delivery_time IS
'how fast a voucher is expected: INSTANT, DELAYED; input aliases: REALTIME = INSTANT';
COMMENT ON TYPE orders.delivery_type IS
'delivery format of a voucher: CODE_WITH_PIN, URL';
COMMENT ON TYPE orders.link_type IS
'access model of a redemption URL: PUBLIC, PROTECTED';
