/*
 * credentials.c
 *		The cryptography of API keys and access tokens: HMAC-SHA256,
 *		constant-time comparison, random secrets, base64url, and HS256
 *		JSON Web Tokens.
 *
 * OpenSSL (which the server links anyway) does the HMAC and the
 * constant-time comparison; the token parsing is the pure C of jwt.c.  None
 * of these functions is granted to an API role: the authentication and
 * administration functions (SECURITY DEFINER) call them.
 */
#include "postgres.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "access/htup_details.h"
#include "fmgr.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/guc.h"

#include "jwt.h"
#include "orders.h"

#define SHA256_LEN 32

/* Lifetime of the access tokens orders.issue_access_token() signs. */
static int	access_token_lifetime = 900;

void
orders_credentials_init(void)
{
	DefineCustomIntVariable("orders.access_token_lifetime",
							"Lifetime in seconds of the access tokens exchanged for an API key.",
							NULL, &access_token_lifetime, 900, 60, 86400,
							PGC_SUSET, 0, NULL, NULL, NULL);
}

/* The JOSE header of every token we sign. */
static const char jwt_header[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";

static void
hmac_sha256(const uint8_t *key, size_t keylen, const uint8_t *msg, size_t msglen,
			uint8_t *out)
{
	unsigned int outlen = SHA256_LEN;

	/* An empty key would make every MAC forgeable by anyone. */
	if (keylen == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("HMAC key must not be empty")));
	if (HMAC(EVP_sha256(), key, (int) keylen, msg, msglen, out, &outlen) == NULL ||
		outlen != SHA256_LEN)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("HMAC-SHA256 computation failed")));
}

static text *
b64url_text(const uint8_t *src, size_t len)
{
	text	   *result = palloc(VARHDRSZ + B64URL_ENCODED_LEN(len));
	size_t		n = b64url_encode(src, len, VARDATA(result));

	SET_VARSIZE(result, VARHDRSZ + n);
	return result;
}

/* orders.hmac_sha256(key bytea, message bytea) RETURNS bytea */
PG_FUNCTION_INFO_V1(credentials_hmac_sha256);
Datum
credentials_hmac_sha256(PG_FUNCTION_ARGS)
{
	bytea	   *key = PG_GETARG_BYTEA_PP(0);
	bytea	   *msg = PG_GETARG_BYTEA_PP(1);
	bytea	   *result = palloc(VARHDRSZ + SHA256_LEN);

	hmac_sha256((uint8_t *) VARDATA_ANY(key), VARSIZE_ANY_EXHDR(key),
				(uint8_t *) VARDATA_ANY(msg), VARSIZE_ANY_EXHDR(msg),
				(uint8_t *) VARDATA(result));
	SET_VARSIZE(result, VARHDRSZ + SHA256_LEN);
	PG_RETURN_BYTEA_P(result);
}

/*
 * orders.secure_equal(a bytea, b bytea) RETURNS boolean: equality in time
 * independent of where the values differ.  The lengths are not secret
 * (every stored hash has the same length), so they are compared first.
 */
PG_FUNCTION_INFO_V1(credentials_secure_equal);
Datum
credentials_secure_equal(PG_FUNCTION_ARGS)
{
	bytea	   *a = PG_GETARG_BYTEA_PP(0);
	bytea	   *b = PG_GETARG_BYTEA_PP(1);
	size_t		len = VARSIZE_ANY_EXHDR(a);

	if (len != VARSIZE_ANY_EXHDR(b))
		PG_RETURN_BOOL(false);
	PG_RETURN_BOOL(CRYPTO_memcmp(VARDATA_ANY(a), VARDATA_ANY(b), len) == 0);
}

/* orders.random_bytes(n integer) RETURNS bytea, from the strong source */
PG_FUNCTION_INFO_V1(credentials_random_bytes);
Datum
credentials_random_bytes(PG_FUNCTION_ARGS)
{
	int32		n = PG_GETARG_INT32(0);
	bytea	   *result;

	if (n < 1 || n > 1024)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("random_bytes: length must be between 1 and 1024, not %d", n)));
	result = palloc(VARHDRSZ + n);
	if (!pg_strong_random(VARDATA(result), n))
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not generate random bytes")));
	SET_VARSIZE(result, VARHDRSZ + n);
	PG_RETURN_BYTEA_P(result);
}

/* orders.base64url_encode(bytea) RETURNS text (unpadded) */
PG_FUNCTION_INFO_V1(credentials_base64url_encode);
Datum
credentials_base64url_encode(PG_FUNCTION_ARGS)
{
	bytea	   *src = PG_GETARG_BYTEA_PP(0);

	PG_RETURN_TEXT_P(b64url_text((uint8_t *) VARDATA_ANY(src), VARSIZE_ANY_EXHDR(src)));
}

/* orders.base64url_decode(text) RETURNS bytea; strict */
PG_FUNCTION_INFO_V1(credentials_base64url_decode);
Datum
credentials_base64url_decode(PG_FUNCTION_ARGS)
{
	text	   *src = PG_GETARG_TEXT_PP(0);
	size_t		len = VARSIZE_ANY_EXHDR(src);
	bytea	   *result = palloc(VARHDRSZ + len);
	long		n = b64url_decode(VARDATA_ANY(src), len, (uint8_t *) VARDATA(result), len);

	if (n < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid base64url input"),
				 errhint("Use the alphabet A-Z a-z 0-9 - _ without padding.")));
	SET_VARSIZE(result, VARHDRSZ + n);
	PG_RETURN_BYTEA_P(result);
}

/*
 * orders.jwt_sign(claims text, secret bytea) RETURNS text: the compact
 * HS256 JWS of the claims (a JSON object, as text, signed byte for byte).
 */
PG_FUNCTION_INFO_V1(credentials_jwt_sign);
Datum
credentials_jwt_sign(PG_FUNCTION_ARGS)
{
	text	   *claims = PG_GETARG_TEXT_PP(0);
	bytea	   *secret = PG_GETARG_BYTEA_PP(1);
	size_t		claims_len = VARSIZE_ANY_EXHDR(claims);
	size_t		header_len = strlen(jwt_header);
	size_t		cap = B64URL_ENCODED_LEN(header_len) + B64URL_ENCODED_LEN(claims_len) +
		B64URL_ENCODED_LEN(SHA256_LEN) + 2;
	text	   *result;
	char	   *p;
	uint8_t		mac[SHA256_LEN];

	if (B64URL_ENCODED_LEN(claims_len) + 200 > JWT_MAX_LENGTH)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("token claims too long: %zu bytes", claims_len)));
	result = palloc(VARHDRSZ + cap);
	p = VARDATA(result);
	p += b64url_encode((const uint8_t *) jwt_header, header_len, p);
	*p++ = '.';
	p += b64url_encode((const uint8_t *) VARDATA_ANY(claims), claims_len, p);
	hmac_sha256((uint8_t *) VARDATA_ANY(secret), VARSIZE_ANY_EXHDR(secret),
				(uint8_t *) VARDATA(result), p - VARDATA(result), mac);
	*p++ = '.';
	p += b64url_encode(mac, SHA256_LEN, p);
	SET_VARSIZE(result, VARHDRSZ + (p - VARDATA(result)));
	PG_RETURN_TEXT_P(result);
}

/* Decode one part of a token into text, NULL unless valid UTF-8 without NUL. */
static text *
jwt_part_text(const char *src, size_t len)
{
	text	   *result = palloc(VARHDRSZ + len);
	long		n = b64url_decode(src, len, (uint8_t *) VARDATA(result), len);

	if (n < 0 || memchr(VARDATA(result), '\0', n) != NULL ||
		!pg_verify_mbstr(PG_UTF8, VARDATA(result), n, true))
		return NULL;
	SET_VARSIZE(result, VARHDRSZ + n);
	return result;
}

/*
 * orders.jwt_verify(token text, secret bytea, OUT header text, OUT payload
 * text) RETURNS record: the decoded header and payload of a token whose
 * HS256 signature is valid, NULL otherwise.  It checks the signature only;
 * the caller checks "alg" and the claims (expiry, key).  The reason of a
 * refusal goes to DEBUG1, never the token.
 */
PG_FUNCTION_INFO_V1(credentials_jwt_verify);
Datum
credentials_jwt_verify(PG_FUNCTION_ARGS)
{
	text	   *token = PG_GETARG_TEXT_PP(0);
	bytea	   *secret = PG_GETARG_BYTEA_PP(1);
	const char *tok = VARDATA_ANY(token);
	size_t		len = VARSIZE_ANY_EXHDR(token);
	JwtParts	parts;
	JwtError	err;
	uint8_t		expected[SHA256_LEN];
	uint8_t		given[SHA256_LEN + 3];
	long		given_len;
	text	   *header;
	text	   *payload;
	TupleDesc	tupdesc;
	Datum		values[2];
	bool		nulls[2] = {false, false};

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "jwt_verify must return a record");

	err = jwt_split(tok, len, &parts);
	if (err != JWT_OK)
	{
		elog(DEBUG1, "access token refused: %s", jwt_error_text(err));
		PG_RETURN_NULL();
	}
	hmac_sha256((uint8_t *) VARDATA_ANY(secret), VARSIZE_ANY_EXHDR(secret),
				(const uint8_t *) tok, parts.signature_off - 1, expected);
	given_len = b64url_decode(tok + parts.signature_off, parts.signature_len,
							  given, sizeof(given));
	if (given_len != SHA256_LEN || CRYPTO_memcmp(given, expected, SHA256_LEN) != 0)
	{
		elog(DEBUG1, "access token refused: bad signature");
		PG_RETURN_NULL();
	}
	header = jwt_part_text(tok, parts.header_len);
	payload = jwt_part_text(tok + parts.payload_off, parts.payload_len);
	if (header == NULL || payload == NULL)
	{
		elog(DEBUG1, "access token refused: header or payload is not base64url UTF-8");
		PG_RETURN_NULL();
	}
	values[0] = PointerGetDatum(header);
	values[1] = PointerGetDatum(payload);
	tupdesc = BlessTupleDesc(tupdesc);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}
