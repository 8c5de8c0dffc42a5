-- what: wrk (HTTP/1.1 keep-alive, one connection per client) -> orders-gateway -> api.dispatch: GET /api/v1/orders/{id} of a delivered one-voucher order, key and secret headers
-- requires: api.dispatch
local lo, hi = tonumber(os.getenv("BENCH_d1_lo")), tonumber(os.getenv("BENCH_d1_hi"))
wrk.headers["X-API-Key"] = string.format("sk_live_%024x", 48640 + 8)
wrk.headers["X-API-Secret"] = "bench-secret-8-0123456789"

function init(args)
	math.randomseed(os.time() + (tid or 0))
end

function request()
	return wrk.format("GET", "/api/v1/orders/" .. math.random(lo, hi))
end
