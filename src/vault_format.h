/*
 * vault_format.h
 *		The vault's byte formats, and the pure parsers that read them: the
 *		stored ciphertext, the fingerprint, and the key file.
 *
 * Nothing here allocates memory, reports errors or calls OpenSSL, so the
 * parsers can be linked alone into a fuzz target (test/fuzz/).
 *
 * Stored ciphertext, version 1 (33 bytes + the plaintext's length):
 *
 *	  offset  size  what
 *	  0		  1		format version (1)
 *	  1		  4		key id, big-endian (1 .. 2^31-1)
 *	  5		  12	nonce (random per value)
 *	  17	  n		AES-256-GCM ciphertext
 *	  17+n	  16	GCM tag
 *
 * The associated data authenticated with it is the 5 header bytes, the row
 * id (8 bytes, big-endian) and the field name: a ciphertext copied to
 * another row or field, or relabelled with another key id, does not open.
 *
 * Fingerprint, version 1 (37 bytes): version (1), key id (4, big-endian),
 * HMAC-SHA256 (32) of the value under a key derived from that key.
 */
#ifndef ORDERS_VAULT_FORMAT_H
#define ORDERS_VAULT_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VAULT_FORMAT_VERSION	1
#define VAULT_KEY_BYTES			32	/* AES-256 */
#define VAULT_NONCE_BYTES		12	/* 96-bit GCM nonce */
#define VAULT_TAG_BYTES			16	/* 128-bit GCM tag */
#define VAULT_HEADER_BYTES		5	/* version + key id */
#define VAULT_OVERHEAD \
	(VAULT_HEADER_BYTES + VAULT_NONCE_BYTES + VAULT_TAG_BYTES)
#define VAULT_HMAC_BYTES		32
#define VAULT_FINGERPRINT_BYTES (VAULT_HEADER_BYTES + VAULT_HMAC_BYTES)

/* Longest field name bound into a ciphertext, and the longest AAD. */
#define VAULT_FIELD_MAXLEN		63
#define VAULT_AAD_MAXLEN		(VAULT_HEADER_BYTES + 8 + VAULT_FIELD_MAXLEN)

#define VAULT_KEY_ID_MAX		INT32_MAX
#define VAULT_MAX_KEYS			32
#define VAULT_KEY_FILE_MAXLEN	65536

/* A stored ciphertext, split into its parts (pointers into the input). */
typedef struct VaultSealed
{
	uint32_t	key_id;
	const uint8_t *header;		/* VAULT_HEADER_BYTES, part of the AAD */
	const uint8_t *nonce;
	const uint8_t *body;		/* the encrypted bytes */
	size_t		body_len;
	const uint8_t *tag;
} VaultSealed;

typedef enum VaultSealedStatus
{
	VAULT_SEALED_OK = 0,
	VAULT_SEALED_TOO_SHORT,
	VAULT_SEALED_BAD_VERSION,
	VAULT_SEALED_BAD_KEY_ID
} VaultSealedStatus;

/* Split a stored ciphertext of len bytes; parts point into data. */
extern VaultSealedStatus vault_sealed_parse(const uint8_t *data, size_t len,
											VaultSealed *out);

/* Write the 5 header bytes for key_id. */
extern void vault_header_write(uint8_t *out, uint32_t key_id);

/* Key id of a stored ciphertext or fingerprint; 0 when the header is bad. */
extern uint32_t vault_header_key_id(const uint8_t *data, size_t len);

/*
 * Is name a valid field name: 1 .. VAULT_FIELD_MAXLEN bytes of [a-z0-9_],
 * starting with a letter?
 */
extern bool vault_field_name_ok(const char *name, size_t len);

/*
 * Build the associated data of a value: header, row id, field name.
 * out must hold VAULT_AAD_MAXLEN bytes; returns the length written.  The
 * field name must have passed vault_field_name_ok.
 */
extern size_t vault_aad_build(uint8_t *out, const uint8_t *header,
							  int64_t row_id, const char *field, size_t field_len);

/* One key of the key file. */
typedef struct VaultKeyMaterial
{
	uint32_t	id;
	uint8_t		key[VAULT_KEY_BYTES];
} VaultKeyMaterial;

typedef enum VaultKeyFileStatus
{
	VAULT_KEYS_OK = 0,
	VAULT_KEYS_EMPTY,			/* no key line at all */
	VAULT_KEYS_MALFORMED,		/* a line is not <id>:<hex> */
	VAULT_KEYS_BAD_ID,			/* id not in 1 .. 2^31-1 */
	VAULT_KEYS_SHORT,			/* fewer than 64 hex digits */
	VAULT_KEYS_LONG,			/* more than 64 hex digits */
	VAULT_KEYS_ZERO,			/* all-zero key: a placeholder, not a key */
	VAULT_KEYS_DUPLICATE_ID,
	VAULT_KEYS_TOO_MANY
} VaultKeyFileStatus;

/*
 * Parse a key file of len bytes (need not be NUL-terminated).  Format: one
 * key a line, "<id>:<64 hex digits>" (the 32 bytes of an AES-256 key);
 * blank lines and lines starting with '#' are ignored; surrounding blanks
 * and a CR before the LF are tolerated.
 *
 * On success fills keys[0 .. *nkeys-1] (in file order).  On failure sets
 * *bad_line to the 1-based line at fault (0 when no line is at fault) and
 * leaves keys partly written: the caller wipes them.
 */
extern VaultKeyFileStatus vault_key_file_parse(const char *text, size_t len,
											   VaultKeyMaterial *keys, int max_keys,
											   int *nkeys, int *bad_line);

/* What a status means, for messages (never contains file content). */
extern const char *vault_key_file_status_text(VaultKeyFileStatus status);

#endif							/* ORDERS_VAULT_FORMAT_H */
