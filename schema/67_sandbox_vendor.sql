-- The sandbox vendor: a deterministic stand-in for real vendors and
-- operators, for tests and the demo.  It claims jobs through the same
-- functions a real vendor worker uses and answers according to scenarios:
-- the order's poNumber picks the scenario with the longest matching
-- prefix, attempt k plays outcome k (the last one repeats); no scenario
-- means 'ok'.  Outcomes:
--   ok         vendor order created, every voucher delivered (top-up:
--              every recharge submitted and confirmed)
--   partial    half of the held items delivered (rounded down; at least one
--              held item stays open), the rest retried; top-up: half
--              confirmed, the rest rejected by the operator
--   transient  a transient failure: retried after the backoff
--   final      the vendor rejects the order (top-up: the operator rejects
--              every submitted recharge)
--   slow       vendor order created, then silence: the lease runs out and
--              maintenance puts the job back in the queue
-- Voucher codes are derived from the job, attempt and position, so a run
-- is reproducible; they are fake and never printed.

CREATE TABLE orders.sandbox_vendor_scenarios (
	po_prefix	text PRIMARY KEY CHECK (length(po_prefix) BETWEEN 1 AND 100),
	outcomes	text[] NOT NULL CHECK (cardinality(outcomes) BETWEEN 1 AND 100
				AND outcomes <@ ARRAY['ok', 'partial', 'transient', 'final', 'slow']),
	note		text
);
COMMENT ON TABLE orders.sandbox_vendor_scenarios IS
'sandbox vendor: outcome of attempt k of orders whose poNumber starts with po_prefix (longest prefix wins; none: ok)';
SELECT pg_catalog.pg_extension_config_dump('orders.sandbox_vendor_scenarios', '');

CREATE FUNCTION orders.sandbox_outcome(p_po_number text, p_attempt integer) RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, orders AS $$
	SELECT coalesce((
		SELECT s.outcomes[least(p_attempt, cardinality(s.outcomes))]
		FROM orders.sandbox_vendor_scenarios s
		WHERE starts_with(p_po_number, s.po_prefix)
		ORDER BY length(s.po_prefix) DESC LIMIT 1), 'ok')
$$;
COMMENT ON FUNCTION orders.sandbox_outcome(text, integer) IS
'the sandbox vendor''s outcome for attempt p_attempt of the order with that poNumber';

-- n fake vouchers for a job's attempt, in the vault loader's format.
CREATE FUNCTION orders.sandbox_vouchers(p_job_id bigint, p_attempt integer, p_count integer)
RETURNS jsonb
LANGUAGE sql STABLE SET search_path = pg_catalog, orders AS $$
	SELECT coalesce(jsonb_agg(jsonb_build_object(
		'card_number', 'SBX' || upper(substr(md5(seed), 1, 13)),
		'pin_code', lpad((('x' || substr(md5(seed || '/pin'), 1, 8))::bit(32)::bigint % 10000)::text, 4, '0'),
		'voucher_reference_number', format('SBX-%s-%s-%s', p_job_id, p_attempt, k),
		'expires_at', orders.rfc3339((date_trunc('day', now() AT TIME ZONE 'UTC') + interval '365 days')
									 AT TIME ZONE 'UTC')) ORDER BY k), '[]')
	FROM generate_series(1, p_count) AS k,
		 LATERAL (SELECT format('sandbox/%s/%s/%s', p_job_id, p_attempt, k) AS seed) s
$$;
COMMENT ON FUNCTION orders.sandbox_vouchers(bigint, integer, integer) IS
'p_count fake, reproducible vouchers for a sandbox job attempt (card number, PIN, reference, expiry in a year)';

-- The sandbox's answer to one claimed job.
CREATE FUNCTION orders.sandbox_answer(c record, p_outcome text) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, orders AS $$
DECLARE
	rid bigint;
	k integer := 0;
	half integer := c.items / 2;
BEGIN
	IF p_outcome = 'transient' OR (p_outcome = 'partial' AND half = 0) THEN
		PERFORM orders.report_vendor_failure(c.job_id, c.lease_token, false,
											 'sandbox: vendor temporarily unavailable');
		RETURN;
	END IF;
	IF p_outcome = 'final' AND c.kind <> 'TOPUP' THEN
		PERFORM orders.report_vendor_failure(c.job_id, c.lease_token, true,
											 'sandbox: vendor rejected the order');
		RETURN;
	END IF;
	PERFORM orders.report_vendor_order_created(c.job_id, c.lease_token,
											   format('SBX-%s-%s', c.job_id, c.attempt));
	IF p_outcome = 'slow' THEN
		RETURN;
	END IF;
	IF c.kind = 'TOPUP' THEN
		FOREACH rid IN ARRAY c.recharge_ids LOOP
			PERFORM orders.report_recharge_submitted(c.job_id, c.lease_token, rid,
													 format('SBX-R-%s-%s', rid, c.attempt));
		END LOOP;
		FOREACH rid IN ARRAY c.recharge_ids LOOP
			k := k + 1;
			IF p_outcome = 'ok' OR (p_outcome = 'partial' AND k <= half) THEN
				PERFORM orders.report_recharge_result(rid, format('SBX-R-%s-%s', rid, c.attempt),
													  'RECHARGED');
			ELSE
				PERFORM orders.report_recharge_result(rid, format('SBX-R-%s-%s', rid, c.attempt),
													  'FAILED', 'sandbox: number not rechargeable');
			END IF;
		END LOOP;
		RETURN;
	END IF;
	PERFORM orders.report_vouchers_fetched(c.job_id, c.lease_token,
		orders.sandbox_vouchers(c.job_id, c.attempt,
								CASE WHEN p_outcome = 'partial' THEN half ELSE c.items END));
END
$$;
COMMENT ON FUNCTION orders.sandbox_answer(record, text) IS
'plays one outcome of the sandbox vendor for a claimed job through the vendor report functions';

CREATE FUNCTION orders.sandbox_vendor_round(p_limit integer DEFAULT 20,
											p_product_ids bigint[] DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, orders AS $$
DECLARE
	c record;
	outcome text;
	played jsonb := '{}';
BEGIN
	FOR c IN SELECT * FROM orders.claim_vendor_jobs('sandbox', p_limit, p_product_ids) LOOP
		outcome := orders.sandbox_outcome(c.po_number, c.attempt);
		BEGIN
			PERFORM orders.sandbox_answer(c, outcome);
		EXCEPTION WHEN OTHERS THEN
			RAISE WARNING 'orders sandbox vendor: job % (%): %', c.job_id, outcome, SQLERRM;
			outcome := 'error';
		END;
		played := jsonb_set(played, ARRAY[outcome],
							to_jsonb(coalesce((played ->> outcome)::integer, 0) + 1));
	END LOOP;
	RETURN played;
END
$$;
COMMENT ON FUNCTION orders.sandbox_vendor_round(integer, bigint[]) IS
'sandbox vendor: claims up to p_limit ready jobs (of the given products; NULL: any) and answers each as its scenario says; returns how many of each outcome';

GRANT EXECUTE ON FUNCTION orders.sandbox_vendor_round(integer, bigint[]) TO orders_admin;
GRANT SELECT, INSERT, UPDATE, DELETE ON orders.sandbox_vendor_scenarios TO orders_admin;
