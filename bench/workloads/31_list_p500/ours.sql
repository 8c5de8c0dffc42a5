-- what: orders.list_orders: the page and its totals
-- requires: orders.list_orders
-- before: SELECT orders.roll_up_order_counts()
SELECT items, total_count, total_pages FROM orders.list_orders(:big, 500, 20, NULL);
