-- what: wrk -> orders-gateway -> api.dispatch: GET /api/v1/orders?page=1&limit=20 of the client with a million orders
-- requires: api.dispatch
-- before: SELECT orders.roll_up_order_counts()
wrk.headers["X-API-Key"] = string.format("sk_live_%024x", 48640 + 9)
wrk.headers["X-API-Secret"] = "bench-secret-9-0123456789"
wrk.path = "/api/v1/orders?page=1&limit=20"
