/*
 * jwt.h
 *		Pure C pieces of the HS256 access token: base64url and the splitting
 *		of a compact JWS.  No palloc, no ereport: the fuzz target links them
 *		alone (test/fuzz/fuzz_jwt.c).
 */
#ifndef ORDERS_JWT_H
#define ORDERS_JWT_H

#include <stddef.h>
#include <stdint.h>

/* Longest token accepted; a real one is a few hundred bytes. */
#define JWT_MAX_LENGTH 4096

/* Bytes b64url_encode writes for len input bytes (no padding, no NUL). */
#define B64URL_ENCODED_LEN(len) ((((len) + 2) / 3) * 4)

/* Why a token was refused, for the log (never shown to a client). */
typedef enum JwtError
{
	JWT_OK = 0,
	JWT_TOO_LONG,
	JWT_NOT_THREE_PARTS,
	JWT_EMPTY_PART,
	JWT_BAD_BASE64URL
} JwtError;

/* Offsets of the three parts of "header.payload.signature". */
typedef struct JwtParts
{
	size_t		header_len;		/* header starts at 0 */
	size_t		payload_off;
	size_t		payload_len;
	size_t		signature_off;
	size_t		signature_len;
} JwtParts;

extern size_t b64url_encode(const uint8_t *src, size_t len, char *dst);
extern long b64url_decode(const char *src, size_t len, uint8_t *dst, size_t cap);
extern JwtError jwt_split(const char *token, size_t len, JwtParts *parts);
extern const char *jwt_error_text(JwtError err);

#endif							/* ORDERS_JWT_H */
