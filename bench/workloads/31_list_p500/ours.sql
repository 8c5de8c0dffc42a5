-- what: orders.list_orders: the page and its totals
-- requires: orders.list_orders
SELECT items, total_count, total_pages FROM orders.list_orders(:big, 500, 20, NULL);
