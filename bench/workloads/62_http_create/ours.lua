-- what: wrk -> orders-gateway -> api.dispatch: POST /api/v1/orders (INSTANT product, fresh poNumber), each connection the key of its own writer client
-- requires: api.dispatch
local threads = 0
local run = os.getenv("BENCH_run")

function setup(thread)
	thread:set("tid", threads)
	threads = threads + 1
end

function init(args)
	n = 0
	wrk.headers["X-API-Key"] = string.format("sk_live_%024x", 48640 + tid % 8)
	wrk.headers["X-API-Secret"] = "bench-secret-" .. (tid % 8) .. "-0123456789"
	wrk.headers["Content-Type"] = "application/json"
end

function request()
	n = n + 1
	return wrk.format("POST", "/api/v1/orders", nil, string.format(
		'{"data": {"productId": 1001, "quantity": 1, "denomination": 25.00, "email": "bench@example.com", "tag": "bench", "poNumber": "%s-%d-%d"}}',
		run, tid, n))
end
