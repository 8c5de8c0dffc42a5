/*
 * vault.h
 *		The voucher vault: AES-256-GCM encryption of voucher fields under an
 *		external key ring (docs/vault.md).
 *
 *	vault_keyring.c   the key ring: setting, key file, keys in backend memory
 *	vault_cipher.c	  seal / open / fingerprint of one value
 *	vault_sql.c		  the SQL-callable primitives
 *	vault_format.c	  pure parsers of the byte formats (fuzzed)
 */
#ifndef ORDERS_VAULT_H
#define ORDERS_VAULT_H

#include <openssl/evp.h>

#include "vault_format.h"

/* SQLSTATEs of the vault, class "OR" (stable, clients may match on them). */
#define ERRCODE_ORDERS_VAULT_KEY_UNAVAILABLE	MAKE_SQLSTATE('O','R','3','0','1')
#define ERRCODE_ORDERS_VAULT_CIPHERTEXT_INVALID MAKE_SQLSTATE('O','R','3','0','2')
/* A reveal whose audit could not be committed (src/reveal_audit.c). */
#define ERRCODE_ORDERS_REVEAL_AUDIT_UNAVAILABLE MAKE_SQLSTATE('O','R','3','0','3')

/* One key of the ring, with its OpenSSL contexts (created on first use). */
typedef struct VaultKey
{
	uint32		id;
	uint8		aes[VAULT_KEY_BYTES];
	EVP_CIPHER_CTX *seal;		/* AES-256-GCM, encrypting, key schedule set */
	EVP_CIPHER_CTX *open;		/* AES-256-GCM, decrypting, key schedule set */
	EVP_MAC_CTX *fingerprint;	/* HMAC-SHA256 under the derived key, set at load */
} VaultKey;

/* The key that encrypts (the highest id); ERROR when no key is available. */
extern VaultKey *vault_newest_key(void);

/* The key of an id, or ERROR naming the id when it is not in the ring. */
extern VaultKey *vault_key_for_id(uint32 id);

/* The keys of the ring, newest first; loads the ring.  Returns the count. */
extern int	vault_ring_keys(VaultKey ***keys);

/* The key's cipher contexts, created on first use. */
extern EVP_CIPHER_CTX *vault_key_seal_ctx(VaultKey *key);
extern EVP_CIPHER_CTX *vault_key_open_ctx(VaultKey *key);

/*
 * Seal plaintext (len bytes) for (row_id, field) under the newest key.
 * Returns a palloc'd bytea in the stored format.
 */
extern bytea *vault_seal(const char *plaintext, size_t len, int64 row_id,
						 const char *field, size_t field_len);

/*
 * Open a stored value bound to (row_id, field).  Returns a palloc'd text
 * holding the plaintext; ERROR when the value is malformed, its key is not
 * in the ring, or it does not authenticate.
 */
extern text *vault_open(const bytea *sealed, int64 row_id,
						const char *field, size_t field_len);

/* Fingerprint (VAULT_FINGERPRINT_BYTES) of a value of field under key. */
extern bytea *vault_fingerprint(VaultKey *key, const char *value, size_t len,
								const char *field, size_t field_len);

/* Overwrite and free a palloc'd varlena that held plaintext. */
extern void vault_wipe_varlena(struct varlena *v);

#endif							/* ORDERS_VAULT_H */
