-- What each enum type is, in the words of the reference (001).
COMMENT ON TYPE orders.order_status IS
'primary order status: PLACED, PENDING, PROCESSING, DELIVERED, PARTIALLY_DELIVERED, CANCELLED, FAILED';
COMMENT ON TYPE orders.order_sub_status IS
'detailed order sub-status; new labels are appended over time';
COMMENT ON TYPE orders.delivery_time IS
'how fast a voucher is expected: INSTANT (alias REALTIME) or DELAYED';
COMMENT ON TYPE orders.delivery_type IS
'delivery format of a voucher: CODE_WITH_PIN or URL';
COMMENT ON TYPE orders.delivery_mode IS
'where a voucher is redeemed: ONLINE, OFFLINE, ONLINE_OR_OFFLINE, NA';
COMMENT ON TYPE orders.classification IS
'redemption scope: OPEN_LOOP, CLOSED_LOOP, SEMI_OPEN, SEMI_CLOSE';
COMMENT ON TYPE orders.link_type IS
'access model of a redemption URL: PUBLIC or PROTECTED';
COMMENT ON TYPE orders.inventory_status IS
'state of one voucher unit: AVAILABLE, ALLOCATED, DELIVERED, COMPLETED, BLOCKED, REVOKED';
COMMENT ON TYPE orders.recharge_status IS
'state of a mobile recharge: PENDING, DELIVERED, RECHARGED, FAILED, CANCELLED';

CREATE FUNCTION orders.labels(regtype) RETURNS SETOF text
	AS 'MODULE_PATHNAME', 'enum_labels' LANGUAGE C STABLE STRICT;
COMMENT ON FUNCTION orders.labels(regtype) IS
'the canonical labels of an enum type of orders, in sort order';
