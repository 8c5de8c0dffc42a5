-- Key rotation (docs/vault.md#rotation): after a new key is added to the key
-- file (and the configuration reloaded), it encrypts every new value;
-- orders.vault_rotate re-encrypts the rows still under older keys, one batch
-- per call, online (rows locked by others are skipped and picked up by a
-- later call) and resumable (the state is the rows' key_id).  The webhook
-- endpoints' signing secrets (schema/68_webhooks.sql) are rotated with them,
-- after the units.  Once orders.vault_key_usage() shows no unit (nor secret)
-- under an old key, the key can be removed from the file.

CREATE FUNCTION orders.vault_rotate(p_batch_size integer DEFAULT 1000)
RETURNS TABLE (rotated integer, remaining bigint, newest_key_id integer)
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, orders
AS $$
#variable_conflict use_column
DECLARE
	v_newest integer;
	v_rotated integer;
	v_secrets integer;
BEGIN
	IF p_batch_size IS NULL OR p_batch_size NOT BETWEEN 1 AND 100000 THEN
		RAISE EXCEPTION 'batch size must be between 1 and 100000' USING ERRCODE = '22023';
	END IF;
	SELECT k.key_id INTO v_newest FROM orders.vault_keys() k WHERE k.newest;

	-- The fingerprint is recomputed from the old ciphertext (the SET
	-- expressions see the row before the update).
	WITH batch AS (
		SELECT u.id FROM orders.inventory_units u
		WHERE u.key_id < v_newest
		ORDER BY u.key_id
		LIMIT p_batch_size
		FOR UPDATE SKIP LOCKED
	)
	UPDATE orders.inventory_units u SET
		card_number_enc = orders.vault_reencrypt(u.card_number_enc, u.id, 'card_number'),
		pin_code_enc = orders.vault_reencrypt(u.pin_code_enc, u.id, 'pin_code'),
		claim_url_enc = orders.vault_reencrypt(u.claim_url_enc, u.id, 'claim_url'),
		reference_enc = orders.vault_reencrypt(u.reference_enc, u.id, 'voucher_reference_number'),
		fingerprint = CASE
			WHEN u.card_number_enc IS NOT NULL THEN
				orders.vault_fingerprint_of(u.card_number_enc, u.id, 'card_number')
			WHEN u.claim_url_enc IS NOT NULL THEN
				orders.vault_fingerprint_of(u.claim_url_enc, u.id, 'claim_url')
		END,
		key_id = v_newest
	FROM batch
	WHERE u.id = batch.id;
	GET DIAGNOSTICS v_rotated = ROW_COUNT;

	-- Webhook signing secrets, with what the batch has left (no key_id
	-- column: the key is read from the ciphertext's header).
	IF v_rotated < p_batch_size THEN
		WITH batch AS (
			SELECT w.id FROM orders.webhook_endpoints w
			WHERE orders.vault_key_id(w.secret) < v_newest
			   OR orders.vault_key_id(w.previous_secret) < v_newest
			ORDER BY w.id
			LIMIT p_batch_size - v_rotated
			FOR UPDATE SKIP LOCKED
		)
		UPDATE orders.webhook_endpoints w SET
			secret = orders.vault_reencrypt(w.secret, w.id, 'webhook_secret'),
			previous_secret = orders.vault_reencrypt(w.previous_secret, w.id, 'webhook_previous_secret')
		FROM batch
		WHERE w.id = batch.id;
		GET DIAGNOSTICS v_secrets = ROW_COUNT;
		v_rotated := v_rotated + v_secrets;
	END IF;

	rotated := v_rotated;
	remaining := (SELECT count(*) FROM orders.inventory_units u WHERE u.key_id < v_newest)
		+ (SELECT count(*) FROM orders.webhook_endpoints w
		   WHERE orders.vault_key_id(w.secret) < v_newest
			  OR orders.vault_key_id(w.previous_secret) < v_newest);
	newest_key_id := v_newest;
	RETURN NEXT;
END
$$;
COMMENT ON FUNCTION orders.vault_rotate(integer) IS
're-encrypts one batch of units (then of webhook endpoints'' signing secrets) under older vault keys with the newest key; returns how many, how many remain, and the newest key id';

CREATE PROCEDURE orders.vault_rotate_all(p_batch_size integer DEFAULT 1000)
LANGUAGE plpgsql
-- No SET clause and not SECURITY DEFINER: both forbid the COMMIT between
-- batches.  It runs with the caller's rights and calls only qualified names.
AS $$
DECLARE
	r record;
BEGIN
	LOOP
		SELECT * INTO STRICT r FROM orders.vault_rotate(p_batch_size);
		COMMIT;
		RAISE NOTICE 'vault rotation: % units re-encrypted under key %, % remain',
			r.rotated, r.newest_key_id, r.remaining;
		EXIT WHEN r.remaining = 0;
		IF r.rotated = 0 THEN
			RAISE WARNING 'vault rotation: the % remaining units are locked by other transactions', r.remaining
				USING HINT = 'Call orders.vault_rotate_all() again later; rotation resumes where it stopped.';
			EXIT;
		END IF;
	END LOOP;
END
$$;
COMMENT ON PROCEDURE orders.vault_rotate_all(integer) IS
'rotates every unit to the newest vault key, committing after each batch and reporting progress; resumable';

CREATE FUNCTION orders.vault_key_usage()
RETURNS TABLE (key_id integer, units bigint, in_key_ring boolean, newest boolean)
LANGUAGE sql SECURITY DEFINER
SET search_path = pg_catalog, orders
AS $$
	SELECT coalesce(u.key_id, k.key_id), coalesce(u.units, 0),
		   k.key_id IS NOT NULL, coalesce(k.newest, false)
	FROM (SELECT x.key_id, count(*) AS units
		  FROM (SELECT i.key_id FROM orders.inventory_units i
				UNION ALL
				SELECT orders.vault_key_id(s.c)
				FROM orders.webhook_endpoints w, LATERAL (VALUES (w.secret), (w.previous_secret)) AS s(c)) x
		  WHERE x.key_id IS NOT NULL GROUP BY x.key_id) u
	FULL JOIN orders.vault_keys() k ON k.key_id = u.key_id
	ORDER BY 1
$$;
COMMENT ON FUNCTION orders.vault_key_usage() IS
'for each vault key id in use or in the key ring: how many units (and webhook signing secrets) are under it; a key with 0 can leave the key file';

REVOKE EXECUTE ON FUNCTION orders.vault_rotate(integer), orders.vault_key_usage() FROM PUBLIC;
REVOKE EXECUTE ON PROCEDURE orders.vault_rotate_all(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION orders.vault_rotate(integer), orders.vault_key_usage() TO orders_admin;
GRANT EXECUTE ON PROCEDURE orders.vault_rotate_all(integer) TO orders_admin;
