-- Rate limits: token buckets in shared memory (src/ratelimit.c).  Internal:
-- an API role that could call rate_limit_take() could drain another
-- client's budget, so only the API layer's SECURITY DEFINER functions do.

CREATE FUNCTION orders.rate_limit_take(scope text, id bigint,
	OUT allowed boolean, OUT "limit" integer, OUT remaining integer,
	OUT reset_seconds integer, OUT retry_after integer)
RETURNS record
	AS 'MODULE_PATHNAME', 'ratelimit_take' LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION orders.rate_limit_take(text, bigint) IS
'internal: takes one request from the buckets of a client (scope client) or an order (scope order), or refuses it; figures of the binding bucket; allowed and NULL figures when limits are off';

CREATE FUNCTION orders.rate_limit_status(
	OUT enabled boolean, OUT entries bigint, OUT capacity integer,
	OUT denied bigint, OUT table_full bigint)
RETURNS record
	AS 'MODULE_PATHNAME', 'ratelimit_status' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION orders.rate_limit_status() IS
'whether rate limits are on (orders in shared_preload_libraries), entries in use, capacity, requests refused, requests let through for want of room';

CREATE FUNCTION orders.rate_limit_reset() RETURNS bigint
	AS 'MODULE_PATHNAME', 'ratelimit_reset' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION orders.rate_limit_reset() IS
'forgets every rate-limit bucket (all start full again); returns the number of entries dropped';
