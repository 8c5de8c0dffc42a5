-- The voucher vault (docs/vault.md): AES-256-GCM in C (src/vault*.c) under
-- keys read from an external key file (orders.vault_key_file).
--
-- These primitives are executable by the extension's owner only (nothing is
-- granted): roles reach the vault through orders.load_inventory,
-- orders.reveal_vouchers and orders.vault_rotate, which decide who may see
-- what.  The schema's default privileges do not take EXECUTE from PUBLIC
-- (per-schema defaults can only add to the global ones), so each function is
-- revoked from PUBLIC explicitly.

CREATE FUNCTION orders.vault_encrypt(p_plaintext text, p_row_id bigint, p_field text)
RETURNS bytea
	AS 'MODULE_PATHNAME', 'vault_encrypt' LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION orders.vault_encrypt(text, bigint, text) IS
'AES-256-GCM ciphertext of a value under the newest vault key, bound to its row id and field name (owner only)';

CREATE FUNCTION orders.vault_decrypt(p_ciphertext bytea, p_row_id bigint, p_field text)
RETURNS text
	AS 'MODULE_PATHNAME', 'vault_decrypt' LANGUAGE C STABLE STRICT;
COMMENT ON FUNCTION orders.vault_decrypt(bytea, bigint, text) IS
'plaintext of a vault ciphertext of that row and field; an error if it was altered, moved or its key is wrong or missing (owner only)';

CREATE FUNCTION orders.vault_reencrypt(p_ciphertext bytea, p_row_id bigint, p_field text)
RETURNS bytea
	AS 'MODULE_PATHNAME', 'vault_reencrypt' LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION orders.vault_reencrypt(bytea, bigint, text) IS
'the ciphertext under the newest vault key (unchanged if it already is); the plaintext never leaves C (owner only)';

CREATE FUNCTION orders.vault_fingerprints(p_value text, p_field text)
RETURNS bytea[]
	AS 'MODULE_PATHNAME', 'vault_fingerprints' LANGUAGE C STABLE STRICT;
COMMENT ON FUNCTION orders.vault_fingerprints(text, text) IS
'keyed HMAC-SHA256 fingerprints of a value under every vault key, newest first (owner only)';

CREATE FUNCTION orders.vault_fingerprint_of(p_ciphertext bytea, p_row_id bigint, p_field text)
RETURNS bytea
	AS 'MODULE_PATHNAME', 'vault_fingerprint_of' LANGUAGE C STABLE STRICT;
COMMENT ON FUNCTION orders.vault_fingerprint_of(bytea, bigint, text) IS
'fingerprint under the newest vault key of the value a ciphertext holds, computed in C (owner only)';

CREATE FUNCTION orders.vault_key_id(p_ciphertext bytea)
RETURNS integer
	AS 'MODULE_PATHNAME', 'vault_key_id' LANGUAGE C IMMUTABLE STRICT;
COMMENT ON FUNCTION orders.vault_key_id(bytea) IS
'id of the vault key a ciphertext or fingerprint is under (read from its header; owner only)';

CREATE FUNCTION orders.vault_keys(OUT key_id integer, OUT newest boolean)
RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'vault_keys' LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION orders.vault_keys() IS
'ids of the keys of the vault key ring (never the keys); newest is the one that encrypts (owner only)';

CREATE FUNCTION orders.calling_role() RETURNS text
	AS 'MODULE_PATHNAME', 'calling_role' LANGUAGE C STABLE STRICT;
COMMENT ON FUNCTION orders.calling_role() IS
'the role that issued the statement (not the owner of a SECURITY DEFINER function it runs in), for audit rows';

REVOKE EXECUTE ON FUNCTION
	orders.vault_encrypt(text, bigint, text),
	orders.vault_decrypt(bytea, bigint, text),
	orders.vault_reencrypt(bytea, bigint, text),
	orders.vault_fingerprints(text, text),
	orders.vault_fingerprint_of(bytea, bigint, text),
	orders.vault_key_id(bytea),
	orders.vault_keys(),
	orders.calling_role()
FROM PUBLIC;

-- A code loaded twice for a product is refused by the fingerprint (under the
-- newest key; orders.load_inventory also checks older keys' fingerprints).
CREATE UNIQUE INDEX inventory_units_fingerprint_key
	ON orders.inventory_units (product_id, fingerprint);
-- Rotation walks the rows under older keys.
CREATE INDEX inventory_units_key_id ON orders.inventory_units (key_id);
