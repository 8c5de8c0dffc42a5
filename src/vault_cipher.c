/*
 * vault_cipher.c
 *		Seal, open and fingerprint one value: AES-256-GCM with a random
 *		96-bit nonce and a 128-bit tag, associated data binding the value to
 *		its row and field (format in vault_format.h); HMAC-SHA256 under a key
 *		derived from a ring key for fingerprints.
 *
 * Messages name the row and the field, never a value or a key.
 */
#include "postgres.h"

#include <openssl/rand.h>

#include "utils/memutils.h"

#include "orders.h"
#include "vault.h"

/* Longest plaintext: the sealed value must still fit a bytea. */
#define VAULT_MAX_PLAINTEXT \
	Min((size_t) PG_INT32_MAX, MaxAllocSize - VARHDRSZ - VAULT_OVERHEAD)

bytea *
vault_seal(const char *plaintext, size_t len, int64 row_id,
		   const char *field, size_t field_len)
{
	VaultKey   *key = vault_newest_key();
	EVP_CIPHER_CTX *ctx = vault_key_seal_ctx(key);
	uint8		aad[VAULT_AAD_MAXLEN];
	size_t		aad_len;
	bytea	   *out;
	uint8	   *header,
			   *nonce,
			   *body;
	int			n;
	bool		ok;

	if (len > VAULT_MAX_PLAINTEXT)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("the %.*s of row " INT64_FORMAT " is too long to encrypt",
						(int) field_len, field, row_id)));

	out = palloc(VARHDRSZ + VAULT_OVERHEAD + len);
	SET_VARSIZE(out, VARHDRSZ + VAULT_OVERHEAD + len);
	header = (uint8 *) VARDATA(out);
	nonce = header + VAULT_HEADER_BYTES;
	body = nonce + VAULT_NONCE_BYTES;

	vault_header_write(header, key->id);
	if (RAND_bytes(nonce, VAULT_NONCE_BYTES) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not generate a random nonce")));
	aad_len = vault_aad_build(aad, header, row_id, field, field_len);

	ok = EVP_EncryptInit_ex(ctx, NULL, NULL, NULL, nonce) == 1 &&
		EVP_EncryptUpdate(ctx, NULL, &n, aad, (int) aad_len) == 1 &&
		(len == 0 ||
		 (EVP_EncryptUpdate(ctx, body, &n, (const uint8 *) plaintext, (int) len) == 1 &&
		  (size_t) n == len)) &&
		EVP_EncryptFinal_ex(ctx, body + len, &n) == 1 && n == 0 &&
		EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, VAULT_TAG_BYTES,
							body + len) == 1;
	if (!ok)
	{
		pfree(out);
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not encrypt the %.*s of row " INT64_FORMAT,
						(int) field_len, field, row_id)));
	}
	return out;
}

text *
vault_open(const bytea *sealed, int64 row_id, const char *field, size_t field_len)
{
	VaultSealed s;
	VaultSealedStatus st;
	VaultKey   *key;
	EVP_CIPHER_CTX *ctx;
	uint8		aad[VAULT_AAD_MAXLEN];
	uint8		tag[VAULT_TAG_BYTES];
	size_t		aad_len;
	text	   *out;
	uint8	   *plain;
	int			n;

	st = vault_sealed_parse((const uint8 *) VARDATA_ANY(sealed),
							VARSIZE_ANY_EXHDR(sealed), &s);
	if (st != VAULT_SEALED_OK)
		ereport(ERROR,
				(errcode(ERRCODE_ORDERS_VAULT_CIPHERTEXT_INVALID),
				 errmsg("the %.*s of row " INT64_FORMAT " is not a vault ciphertext",
						(int) field_len, field, row_id),
				 st == VAULT_SEALED_TOO_SHORT ?
				 errdetail("It is shorter than the %d bytes of the format's header, nonce and tag.",
						   VAULT_OVERHEAD) :
				 st == VAULT_SEALED_BAD_VERSION ?
				 errdetail("Its format version is %d; this build reads version %d.",
						   ((const uint8 *) VARDATA_ANY(sealed))[0], VAULT_FORMAT_VERSION) :
				 errdetail("Its key id is out of range.")));

	key = vault_key_for_id(s.key_id);
	ctx = vault_key_open_ctx(key);
	aad_len = vault_aad_build(aad, s.header, row_id, field, field_len);
	memcpy(tag, s.tag, VAULT_TAG_BYTES);

	out = palloc(VARHDRSZ + s.body_len);
	SET_VARSIZE(out, VARHDRSZ + s.body_len);
	plain = (uint8 *) VARDATA(out);

	if (EVP_DecryptInit_ex(ctx, NULL, NULL, NULL, s.nonce) != 1 ||
		EVP_DecryptUpdate(ctx, NULL, &n, aad, (int) aad_len) != 1 ||
		(s.body_len > 0 &&
		 (EVP_DecryptUpdate(ctx, plain, &n, s.body, (int) s.body_len) != 1 ||
		  (size_t) n != s.body_len)) ||
		EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, VAULT_TAG_BYTES, tag) != 1)
	{
		vault_wipe_varlena((struct varlena *) out);
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not decrypt the %.*s of row " INT64_FORMAT,
						(int) field_len, field, row_id)));
	}
	/* the tag check: nothing is returned unless the value authenticates */
	if (EVP_DecryptFinal_ex(ctx, plain + s.body_len, &n) != 1 || n != 0)
	{
		vault_wipe_varlena((struct varlena *) out);
		ereport(ERROR,
				(errcode(ERRCODE_ORDERS_VAULT_CIPHERTEXT_INVALID),
				 errmsg("the %.*s of row " INT64_FORMAT " does not authenticate",
						(int) field_len, field, row_id),
				 errdetail("The value was altered, copied from another row or field, or vault key %u in the key file is not the key it was encrypted with.",
						   s.key_id)));
	}
	return out;
}

bytea *
vault_fingerprint(VaultKey *key, const char *value, size_t len,
				  const char *field, size_t field_len)
{
	EVP_MAC_CTX *ctx = key->fingerprint;
	bytea	   *out = palloc(VARHDRSZ + VAULT_FINGERPRINT_BYTES);
	uint8	   *p = (uint8 *) VARDATA(out);
	size_t		n = 0;
	static const uint8 separator = 0;

	SET_VARSIZE(out, VARHDRSZ + VAULT_FINGERPRINT_BYTES);
	vault_header_write(p, key->id);
	/* the field name is hashed too: a URL and a card number never collide */
	if (EVP_MAC_init(ctx, NULL, 0, NULL) != 1 ||
		EVP_MAC_update(ctx, (const uint8 *) field, field_len) != 1 ||
		EVP_MAC_update(ctx, &separator, 1) != 1 ||
		EVP_MAC_update(ctx, (const uint8 *) value, len) != 1 ||
		EVP_MAC_final(ctx, p + VAULT_HEADER_BYTES, &n, VAULT_HMAC_BYTES) != 1 ||
		n != VAULT_HMAC_BYTES)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not compute the fingerprint of a %.*s",
						(int) field_len, field)));
	return out;
}

void
vault_wipe_varlena(struct varlena *v)
{
	explicit_bzero(v, VARSIZE(v));
	pfree(v);
}
