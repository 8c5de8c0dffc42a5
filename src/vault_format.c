/*
 * vault_format.c
 *		Pure parsers and writers of the vault's byte formats (see
 *		vault_format.h).  No palloc, no ereport, no OpenSSL: the fuzz target
 *		test/fuzz/fuzz_vault_format.c links this file alone.
 */
#include "vault_format.h"

#include <string.h>

static uint32_t
read_be32(const uint8_t *p)
{
	return ((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16) |
		((uint32_t) p[2] << 8) | (uint32_t) p[3];
}

void
vault_header_write(uint8_t *out, uint32_t key_id)
{
	out[0] = VAULT_FORMAT_VERSION;
	out[1] = (uint8_t) (key_id >> 24);
	out[2] = (uint8_t) (key_id >> 16);
	out[3] = (uint8_t) (key_id >> 8);
	out[4] = (uint8_t) key_id;
}

uint32_t
vault_header_key_id(const uint8_t *data, size_t len)
{
	uint32_t	id;

	if (len < VAULT_HEADER_BYTES || data[0] != VAULT_FORMAT_VERSION)
		return 0;
	id = read_be32(data + 1);
	return id <= VAULT_KEY_ID_MAX ? id : 0;
}

VaultSealedStatus
vault_sealed_parse(const uint8_t *data, size_t len, VaultSealed *out)
{
	if (len < VAULT_OVERHEAD)
		return VAULT_SEALED_TOO_SHORT;
	if (data[0] != VAULT_FORMAT_VERSION)
		return VAULT_SEALED_BAD_VERSION;
	out->key_id = vault_header_key_id(data, len);
	if (out->key_id == 0)
		return VAULT_SEALED_BAD_KEY_ID;
	out->header = data;
	out->nonce = data + VAULT_HEADER_BYTES;
	out->body = out->nonce + VAULT_NONCE_BYTES;
	out->body_len = len - VAULT_OVERHEAD;
	out->tag = out->body + out->body_len;
	return VAULT_SEALED_OK;
}

bool
vault_field_name_ok(const char *name, size_t len)
{
	size_t		i;

	if (len == 0 || len > VAULT_FIELD_MAXLEN || name[0] < 'a' || name[0] > 'z')
		return false;
	for (i = 0; i < len; i++)
	{
		char		c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
			return false;
	}
	return true;
}

size_t
vault_aad_build(uint8_t *out, const uint8_t *header, int64_t row_id,
				const char *field, size_t field_len)
{
	uint64_t	r = (uint64_t) row_id;
	int			i;

	memcpy(out, header, VAULT_HEADER_BYTES);
	for (i = 0; i < 8; i++)
		out[VAULT_HEADER_BYTES + i] = (uint8_t) (r >> (56 - 8 * i));
	memcpy(out + VAULT_HEADER_BYTES + 8, field, field_len);
	return VAULT_HEADER_BYTES + 8 + field_len;
}

static int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* Parse one trimmed, non-empty, non-comment line into *key. */
static VaultKeyFileStatus
parse_key_line(const char *p, size_t len, VaultKeyMaterial *key)
{
	size_t		i = 0;
	uint64_t	id = 0;
	size_t		ndigits;
	uint8_t		any = 0;

	/* the id: decimal, no sign, no leading zero */
	while (i < len && p[i] >= '0' && p[i] <= '9')
	{
		id = id * 10 + (uint64_t) (p[i] - '0');
		if (id > VAULT_KEY_ID_MAX)
			return VAULT_KEYS_BAD_ID;
		i++;
	}
	if (i == 0 || i >= len || p[i] != ':')
		return VAULT_KEYS_MALFORMED;
	if (id == 0 || p[0] == '0')
		return VAULT_KEYS_BAD_ID;
	i++;

	/* the key: exactly 2 * VAULT_KEY_BYTES hex digits */
	for (ndigits = 0; i + ndigits < len; ndigits++)
		if (hex_value(p[i + ndigits]) < 0)
			return VAULT_KEYS_MALFORMED;
	if (ndigits < 2 * VAULT_KEY_BYTES)
		return VAULT_KEYS_SHORT;
	if (ndigits > 2 * VAULT_KEY_BYTES)
		return VAULT_KEYS_LONG;
	for (ndigits = 0; ndigits < VAULT_KEY_BYTES; ndigits++)
	{
		key->key[ndigits] = (uint8_t) (hex_value(p[i + 2 * ndigits]) << 4 |
									   hex_value(p[i + 2 * ndigits + 1]));
		any |= key->key[ndigits];
	}
	if (any == 0)
		return VAULT_KEYS_ZERO;
	key->id = (uint32_t) id;
	return VAULT_KEYS_OK;
}

VaultKeyFileStatus
vault_key_file_parse(const char *text, size_t len, VaultKeyMaterial *keys,
					 int max_keys, int *nkeys, int *bad_line)
{
	size_t		pos = 0;
	int			line = 0;

	*nkeys = 0;
	*bad_line = 0;
	while (pos < len)
	{
		size_t		start = pos,
					end;
		VaultKeyFileStatus st;
		int			k;

		while (pos < len && text[pos] != '\n')
			pos++;
		end = pos;
		pos++;					/* past the LF (or the end) */
		line++;

		while (start < end && is_blank(text[start]))
			start++;
		while (end > start && is_blank(text[end - 1]))
			end--;
		if (start == end || text[start] == '#')
			continue;

		*bad_line = line;
		if (*nkeys >= max_keys)
			return VAULT_KEYS_TOO_MANY;
		st = parse_key_line(text + start, end - start, &keys[*nkeys]);
		if (st != VAULT_KEYS_OK)
			return st;
		for (k = 0; k < *nkeys; k++)
			if (keys[k].id == keys[*nkeys].id)
				return VAULT_KEYS_DUPLICATE_ID;
		(*nkeys)++;
	}
	*bad_line = 0;
	return *nkeys > 0 ? VAULT_KEYS_OK : VAULT_KEYS_EMPTY;
}

const char *
vault_key_file_status_text(VaultKeyFileStatus status)
{
	switch (status)
	{
		case VAULT_KEYS_OK:
			return "ok";
		case VAULT_KEYS_EMPTY:
			return "the file holds no key";
		case VAULT_KEYS_MALFORMED:
			return "the line is not of the form <id>:<64 hex digits>";
		case VAULT_KEYS_BAD_ID:
			return "the key id is not an integer between 1 and 2147483647 without leading zeros";
		case VAULT_KEYS_SHORT:
			return "the key is shorter than 256 bits (64 hex digits)";
		case VAULT_KEYS_LONG:
			return "the key is longer than 256 bits (64 hex digits)";
		case VAULT_KEYS_ZERO:
			return "the key is all zeros";
		case VAULT_KEYS_DUPLICATE_ID:
			return "the key id appears twice";
		case VAULT_KEYS_TOO_MANY:
			return "the file holds more than 32 keys";
	}
	return "unknown error";
}
