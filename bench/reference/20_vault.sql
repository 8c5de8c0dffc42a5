-- The reference implementation, part 3: codes encrypted with pgcrypto.
--
-- pgp_sym_encrypt / pgp_sym_decrypt with AES-256 and pgcrypto's default
-- key derivation, called where the codes are written and read; the key is
-- a setting of the database.  A keyed hash (HMAC) of the card number
-- detects duplicates.

-- The key: a setting of the benchmark database (bench/run.sh sets it).
CREATE FUNCTION ref.vault_key() RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT current_setting('ref.vault_key')
$$;
COMMENT ON FUNCTION ref.vault_key() IS 'the pgcrypto passphrase of the codes';

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
		   public.pgp_sym_encrypt(u.card_number, k.key, 'cipher-algo=aes256'),
		   public.pgp_sym_encrypt(u.pin_code, k.key, 'cipher-algo=aes256'),
		   public.pgp_sym_encrypt(u.claim_url, k.key, 'cipher-algo=aes256'),
		   public.pgp_sym_encrypt(u.voucher_reference_number, k.key, 'cipher-algo=aes256'),
		   public.hmac(u.card_number, k.key, 'sha256')
	  FROM jsonb_to_recordset(p_units)
		   AS u(card_number text, pin_code text, claim_url text,
				voucher_reference_number text, expires_at timestamptz),
		   (SELECT ref.vault_key() AS key) AS k;
	GET DIAGNOSTICS v_count = ROW_COUNT;
	RETURN v_count;
END
$$;
COMMENT ON FUNCTION ref.load_inventory(bigint, numeric, jsonb) IS
'loads voucher units from a JSON array, encrypting every code';

-- The one read path that decrypts: the DELIVERED items of a client's
-- DELIVERED or PARTIALLY_DELIVERED order, '[]' otherwise.  The audit rows
-- are the reveal: the codes shown are those of the rows just inserted.
CREATE FUNCTION ref.reveal_vouchers(p_client_id bigint, p_order_id bigint) RETURNS jsonb
LANGUAGE sql AS $$
	WITH audited AS (
		INSERT INTO ref.voucher_reveals (client_id, order_id, order_item_id, unit_id, revealed_by)
		SELECT o.client_id, o.id, i.id, i.unit_id, current_user
		  FROM ref.orders o JOIN ref.order_items i ON i.order_id = o.id
		 WHERE o.id = p_order_id AND o.client_id = p_client_id
		   AND o.status IN ('DELIVERED', 'PARTIALLY_DELIVERED')
		   AND i.status = 'DELIVERED' AND i.unit_id IS NOT NULL
		RETURNING order_item_id, unit_id
	)
	SELECT coalesce(jsonb_agg(jsonb_build_object(
			   'card_number', public.pgp_sym_decrypt(u.card_number_enc, ref.vault_key()),
			   'pin_code', public.pgp_sym_decrypt(u.pin_code_enc, ref.vault_key()),
			   'claim_url', public.pgp_sym_decrypt(u.claim_url_enc, ref.vault_key()),
			   'voucher_reference_number', public.pgp_sym_decrypt(u.reference_enc, ref.vault_key()),
			   'expires_at', ref.rfc3339(u.expires_at)) ORDER BY a.order_item_id), '[]')
	  FROM audited a JOIN ref.inventory_units u ON u.id = a.unit_id
$$;
COMMENT ON FUNCTION ref.reveal_vouchers(bigint, bigint) IS
'decrypted vouchers of the delivered items of a client''s delivered order, [] otherwise; audits each';
