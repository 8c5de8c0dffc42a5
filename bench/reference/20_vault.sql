-- The reference implementation, part 3: codes encrypted with pgcrypto.
--
-- pgp_sym_encrypt / pgp_sym_decrypt with AES-256 and pgcrypto's default
-- key derivation; the key is a setting of the database (ref.vault_key, set
-- by bench/run.sh).  A keyed hash of the card number detects duplicates.

CREATE FUNCTION ref.vault_encrypt(p_plain text) RETURNS bytea
LANGUAGE sql VOLATILE AS $$
	SELECT public.pgp_sym_encrypt(p_plain, current_setting('ref.vault_key'), 'cipher-algo=aes256')
$$;
COMMENT ON FUNCTION ref.vault_encrypt(text) IS 'pgp_sym_encrypt with the vault key (NULL stays NULL)';

CREATE FUNCTION ref.vault_decrypt(p_cipher bytea) RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT public.pgp_sym_decrypt(p_cipher, current_setting('ref.vault_key'))
$$;
COMMENT ON FUNCTION ref.vault_decrypt(bytea) IS 'pgp_sym_decrypt with the vault key (NULL stays NULL)';

CREATE FUNCTION ref.fingerprint(p_card_number text) RETURNS bytea
LANGUAGE sql STABLE AS $$
	SELECT public.hmac(p_card_number, current_setting('ref.vault_key'), 'sha256')
$$;
COMMENT ON FUNCTION ref.fingerprint(text) IS 'keyed hash of a card number, for duplicate detection';

-- Bulk load: a JSON array of {card_number, pin_code, claim_url,
-- voucher_reference_number, expires_at}; all or nothing.
CREATE FUNCTION ref.load_inventory(p_product_id bigint, p_denomination numeric, p_units jsonb)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	v_count integer;
BEGIN
	IF jsonb_typeof(p_units) IS DISTINCT FROM 'array' THEN
		RAISE EXCEPTION 'units must be a JSON array' USING ERRCODE = '22023';
	END IF;
	IF NOT EXISTS (SELECT 1 FROM ref.products WHERE id = p_product_id) THEN
		RAISE EXCEPTION 'product % does not exist', p_product_id USING ERRCODE = '23503';
	END IF;
	INSERT INTO ref.inventory_units
		(product_id, denomination, status, expires_at,
		 card_number_enc, pin_code_enc, claim_url_enc, reference_enc, fingerprint)
	SELECT p_product_id, p_denomination,
		   CASE WHEN u.expires_at > now() THEN 'AVAILABLE' ELSE 'BLOCKED' END::ref.inventory_status,
		   u.expires_at,
		   ref.vault_encrypt(u.card_number), ref.vault_encrypt(u.pin_code),
		   ref.vault_encrypt(u.claim_url), ref.vault_encrypt(u.voucher_reference_number),
		   ref.fingerprint(u.card_number)
	  FROM jsonb_to_recordset(p_units)
		   AS u(card_number text, pin_code text, claim_url text,
				voucher_reference_number text, expires_at timestamptz);
	GET DIAGNOSTICS v_count = ROW_COUNT;
	RETURN v_count;
END
$$;
COMMENT ON FUNCTION ref.load_inventory(bigint, numeric, jsonb) IS
'loads voucher units from a JSON array, encrypting every code';

-- The one read path that decrypts: the DELIVERED items of a client's
-- DELIVERED or PARTIALLY_DELIVERED order, '[]' otherwise; one audit row
-- per voucher revealed.
CREATE FUNCTION ref.reveal_vouchers(p_client_id bigint, p_order_id bigint) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	v_vouchers jsonb;
BEGIN
	WITH revealed AS MATERIALIZED (
		SELECT i.id AS item_id, u.id AS unit_id, u.expires_at,
			   u.card_number_enc, u.pin_code_enc, u.claim_url_enc, u.reference_enc
		  FROM ref.orders o
		  JOIN ref.order_items i ON i.order_id = o.id
		  JOIN ref.inventory_units u ON u.id = i.unit_id
		 WHERE o.id = p_order_id AND o.client_id = p_client_id
		   AND o.status IN ('DELIVERED', 'PARTIALLY_DELIVERED')
		   AND i.status = 'DELIVERED'
	), audit AS (
		INSERT INTO ref.voucher_reveals (client_id, order_id, order_item_id, unit_id, revealed_by)
		SELECT p_client_id, p_order_id, r.item_id, r.unit_id, current_user FROM revealed r
	)
	SELECT coalesce(jsonb_agg(jsonb_build_object(
			   'card_number', ref.vault_decrypt(r.card_number_enc),
			   'pin_code', ref.vault_decrypt(r.pin_code_enc),
			   'claim_url', ref.vault_decrypt(r.claim_url_enc),
			   'voucher_reference_number', ref.vault_decrypt(r.reference_enc),
			   'expires_at', to_char(r.expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'))
			   ORDER BY r.item_id), '[]')
	  INTO v_vouchers
	  FROM revealed r;
	RETURN v_vouchers;
END
$$;
COMMENT ON FUNCTION ref.reveal_vouchers(bigint, bigint) IS
'decrypted vouchers of the delivered items of a client''s delivered order, [] otherwise; audits each';
