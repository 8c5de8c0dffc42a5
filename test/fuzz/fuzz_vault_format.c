/*
 * fuzz_vault_format.c
 *		libFuzzer target for the vault's pure parsers (src/vault_format.c):
 *		the key file and the stored ciphertext header.
 *
 * Key file: parsing never reads out of bounds; on success every key has an
 * id in range, distinct from the others, and is not all zeros, and the keys
 * written back as a file parse to the same keys.  Ciphertext: on success the
 * parts tile the input exactly.  Field names: the AAD built for an accepted
 * name has the documented length.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/vault_format.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_key_file(const uint8_t *data, size_t size)
{
	VaultKeyMaterial keys[VAULT_MAX_KEYS];
	VaultKeyMaterial again[VAULT_MAX_KEYS];
	char		text[VAULT_MAX_KEYS * (11 + 1 + 2 * VAULT_KEY_BYTES + 1) + 1];
	size_t		len = 0;
	int			nkeys,
				nagain,
				bad_line,
				i,
				j;

	if (vault_key_file_parse((const char *) data, size, keys, VAULT_MAX_KEYS,
							 &nkeys, &bad_line) != VAULT_KEYS_OK)
	{
		if (bad_line < 0)
			abort();
		return;
	}
	if (nkeys < 1 || nkeys > VAULT_MAX_KEYS || bad_line != 0)
		abort();
	for (i = 0; i < nkeys; i++)
	{
		uint8_t		any = 0;

		if (keys[i].id < 1 || keys[i].id > VAULT_KEY_ID_MAX)
			abort();
		for (j = 0; j < i; j++)
			if (keys[j].id == keys[i].id)
				abort();
		for (j = 0; j < VAULT_KEY_BYTES; j++)
			any |= keys[i].key[j];
		if (any == 0)
			abort();
		len += (size_t) sprintf(text + len, "%u:", keys[i].id);
		for (j = 0; j < VAULT_KEY_BYTES; j++)
			len += (size_t) sprintf(text + len, "%02x", keys[i].key[j]);
		text[len++] = '\n';
	}
	if (vault_key_file_parse(text, len, again, VAULT_MAX_KEYS, &nagain, &bad_line) != VAULT_KEYS_OK ||
		nagain != nkeys || memcmp(keys, again, sizeof(VaultKeyMaterial) * nkeys) != 0)
		abort();
	if (vault_key_file_status_text(VAULT_KEYS_OK) == NULL)
		abort();
}

static void
check_sealed(const uint8_t *data, size_t size)
{
	VaultSealed s;

	if (vault_sealed_parse(data, size, &s) != VAULT_SEALED_OK)
		return;
	if (s.header != data || s.nonce != data + VAULT_HEADER_BYTES ||
		s.body != s.nonce + VAULT_NONCE_BYTES ||
		s.tag + VAULT_TAG_BYTES != data + size ||
		s.body_len + VAULT_OVERHEAD != size ||
		s.key_id != vault_header_key_id(data, size) || s.key_id == 0)
		abort();
}

static void
check_field(const uint8_t *data, size_t size)
{
	uint8_t		aad[VAULT_AAD_MAXLEN];
	uint8_t		header[VAULT_HEADER_BYTES];

	if (!vault_field_name_ok((const char *) data, size))
		return;
	vault_header_write(header, 1);
	if (vault_aad_build(aad, header, -1, (const char *) data, size) !=
		VAULT_HEADER_BYTES + 8 + size)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_key_file(data, size);
	check_sealed(data, size);
	check_field(data, size);
	return 0;
}
