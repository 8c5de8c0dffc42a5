/*
 * jwt.c
 *		base64url (RFC 4648 section 5, unpadded) and the splitting of a
 *		compact JWS "header.payload.signature" (RFC 7515).
 *
 * Pure C: callers own every buffer.  Decoding is strict: padding, white
 * space, characters outside the url-safe alphabet and non-zero trailing
 * bits are refused, so each token has exactly one spelling.
 */
#include "jwt.h"

static const char b64url_alphabet[] =
"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Value of a base64url character, -1 for anything else. */
static int
b64url_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

/*
 * Encode len bytes; dst must hold B64URL_ENCODED_LEN(len) bytes.  Returns
 * the number of characters written (no padding, not NUL-terminated).
 */
size_t
b64url_encode(const uint8_t *src, size_t len, char *dst)
{
	size_t		out = 0;
	size_t		i;

	for (i = 0; i + 2 < len; i += 3)
	{
		uint32_t	v = ((uint32_t) src[i] << 16) | ((uint32_t) src[i + 1] << 8) | src[i + 2];

		dst[out++] = b64url_alphabet[(v >> 18) & 63];
		dst[out++] = b64url_alphabet[(v >> 12) & 63];
		dst[out++] = b64url_alphabet[(v >> 6) & 63];
		dst[out++] = b64url_alphabet[v & 63];
	}
	if (len - i == 1)
	{
		uint32_t	v = (uint32_t) src[i] << 16;

		dst[out++] = b64url_alphabet[(v >> 18) & 63];
		dst[out++] = b64url_alphabet[(v >> 12) & 63];
	}
	else if (len - i == 2)
	{
		uint32_t	v = ((uint32_t) src[i] << 16) | ((uint32_t) src[i + 1] << 8);

		dst[out++] = b64url_alphabet[(v >> 18) & 63];
		dst[out++] = b64url_alphabet[(v >> 12) & 63];
		dst[out++] = b64url_alphabet[(v >> 6) & 63];
	}
	return out;
}

/*
 * Decode len characters into dst (cap bytes).  Returns the number of bytes
 * written, or -1 when the input is not canonical unpadded base64url or does
 * not fit.
 */
long
b64url_decode(const char *src, size_t len, uint8_t *dst, size_t cap)
{
	size_t		out = 0;
	uint32_t	acc = 0;
	int			bits = 0;
	size_t		i;

	if (len % 4 == 1)
		return -1;				/* no byte count encodes to 4n+1 chars */
	for (i = 0; i < len; i++)
	{
		int			v = b64url_value((unsigned char) src[i]);

		if (v < 0)
			return -1;
		acc = (acc << 6) | (uint32_t) v;
		bits += 6;
		if (bits >= 8)
		{
			bits -= 8;
			if (out >= cap)
				return -1;
			dst[out++] = (uint8_t) (acc >> bits);
			acc &= (1U << bits) - 1;
		}
	}
	if (acc != 0)
		return -1;				/* leftover bits must be zero */
	return (long) out;
}

/*
 * Split a compact JWS into its three parts; each must be non-empty
 * base64url.  Does not decode or verify anything.
 */
JwtError
jwt_split(const char *token, size_t len, JwtParts *parts)
{
	size_t		dots[2];
	int			ndots = 0;
	size_t		i;

	if (len > JWT_MAX_LENGTH)
		return JWT_TOO_LONG;
	for (i = 0; i < len; i++)
	{
		if (token[i] == '.')
		{
			if (ndots == 2)
				return JWT_NOT_THREE_PARTS;
			dots[ndots++] = i;
		}
		else if (b64url_value((unsigned char) token[i]) < 0)
			return JWT_BAD_BASE64URL;
	}
	if (ndots != 2)
		return JWT_NOT_THREE_PARTS;
	parts->header_len = dots[0];
	parts->payload_off = dots[0] + 1;
	parts->payload_len = dots[1] - dots[0] - 1;
	parts->signature_off = dots[1] + 1;
	parts->signature_len = len - dots[1] - 1;
	if (parts->header_len == 0 || parts->payload_len == 0 || parts->signature_len == 0)
		return JWT_EMPTY_PART;
	return JWT_OK;
}

const char *
jwt_error_text(JwtError err)
{
	switch (err)
	{
		case JWT_OK:
			return "ok";
		case JWT_TOO_LONG:
			return "token too long";
		case JWT_NOT_THREE_PARTS:
			return "not three dot-separated parts";
		case JWT_EMPTY_PART:
			return "empty part";
		case JWT_BAD_BASE64URL:
			return "character outside base64url";
	}
	return "unknown";
}
