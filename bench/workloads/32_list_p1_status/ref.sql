-- title: list orders, page 1, status filter (limit 20, with total)
-- what: ref.list_orders: LIMIT/OFFSET over the (client, [status,] placed_at, id) index and count(*) for the total
SELECT items, total_count, total_pages FROM ref.list_orders(:big, 1, 20, 'delivered');
