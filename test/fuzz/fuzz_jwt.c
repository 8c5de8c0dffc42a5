/*
 * fuzz_jwt.c
 *		libFuzzer target for the token parser (src/jwt.c): jwt_split and
 *		strict base64url.
 *
 * Splitting must never read out of bounds and must return parts inside the
 * input; decoding must never write past its buffer; whatever decodes must
 * encode back to the very same characters (one spelling per value).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/jwt.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *tok = (const char *) data;
	JwtParts	parts;
	uint8_t    *decoded = malloc(size + 1);
	char	   *encoded = malloc(B64URL_ENCODED_LEN(size) + 1);
	long		n;

	if (jwt_split(tok, size, &parts) == JWT_OK)
	{
		if (parts.signature_off + parts.signature_len != size ||
			parts.payload_off + parts.payload_len >= size ||
			parts.header_len == 0)
			abort();
	}
	n = b64url_decode(tok, size, decoded, size);
	if (n >= 0)
	{
		size_t		m = b64url_encode(decoded, (size_t) n, encoded);

		if (m != size || memcmp(encoded, tok, size) != 0)
			abort();
	}
	free(decoded);
	free(encoded);
	return 0;
}
