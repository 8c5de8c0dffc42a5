/*
 * webhook_signature.c
 *		The cryptography of webhooks (issue 13, docs/webhooks.md): new
 *		signing secrets and the Standard Webhooks signature of a message.
 *
 * A secret is "whsec_" followed by the base64 of 32 random bytes; the
 * signing key is those bytes (the base64-decoded part after "whsec_"), as
 * Standard Webhooks specifies.  A signature is "v1," and the base64 of
 * HMAC-SHA256(key, id "." timestamp "." body); several secrets (the current
 * one and, during the grace period after a rotation, the previous one) give
 * several signatures separated by spaces.  Signing happens here, in the
 * database, so that the delivery daemon never holds a secret.  Neither
 * function ever quotes a secret in an error.
 */
#include "postgres.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "catalog/pg_type.h"
#include "common/base64.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/builtins.h"

#include "orders.h"

#define WEBHOOK_SECRET_PREFIX "whsec_"
#define WEBHOOK_SECRET_BYTES 32

PG_FUNCTION_INFO_V1(webhook_new_secret);

/* orders.webhook_new_secret() RETURNS text: whsec_<base64 of 32 random bytes> */
Datum
webhook_new_secret(PG_FUNCTION_ARGS)
{
	uint8		key[WEBHOOK_SECRET_BYTES];
	int			enc_len = pg_b64_enc_len(WEBHOOK_SECRET_BYTES);
	int			prefix_len = strlen(WEBHOOK_SECRET_PREFIX);
	text	   *result;
	int			n;

	if (!pg_strong_random(key, sizeof(key)))
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not generate a random webhook secret")));
	result = palloc(VARHDRSZ + prefix_len + enc_len);
	memcpy(VARDATA(result), WEBHOOK_SECRET_PREFIX, prefix_len);
	n = pg_b64_encode((const char *) key, sizeof(key), VARDATA(result) + prefix_len, enc_len);
	OPENSSL_cleanse(key, sizeof(key));
	if (n < 0)
		elog(ERROR, "could not encode a webhook secret");
	SET_VARSIZE(result, VARHDRSZ + prefix_len + n);
	PG_RETURN_TEXT_P(result);
}

/*
 * The key of a secret: the base64-decoded part after "whsec_".  An invalid
 * secret is an error that does not quote it.  Returns the key's length.
 */
static int
secret_key(const char *secret, int len, uint8 *key, int keymax)
{
	int			prefix_len = strlen(WEBHOOK_SECRET_PREFIX);
	int			n;

	if (len <= prefix_len || memcmp(secret, WEBHOOK_SECRET_PREFIX, prefix_len) != 0 ||
		pg_b64_dec_len(len - prefix_len) > keymax)
		n = -1;
	else
		n = pg_b64_decode(secret + prefix_len, len - prefix_len, (char *) key, keymax);
	if (n <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid webhook secret"),
				 errdetail("A webhook secret is \"whsec_\" followed by the base64 of the signing key.")));
	return n;
}

PG_FUNCTION_INFO_V1(webhook_sign);

/*
 * orders.webhook_sign(secrets text[], msg_id text, timestamp bigint, body text)
 * RETURNS text: "v1,<sig>" per non-NULL secret, space-separated, in the
 * order of the array.
 */
Datum
webhook_sign(PG_FUNCTION_ARGS)
{
	ArrayType  *secrets = PG_GETARG_ARRAYTYPE_P(0);
	text	   *msg_id = PG_GETARG_TEXT_PP(1);
	int64		timestamp = PG_GETARG_INT64(2);
	text	   *body = PG_GETARG_TEXT_PP(3);
	StringInfoData signed_content;
	StringInfoData result;
	Datum	   *elems;
	bool	   *nulls;
	int			nelems;
	int			i;

	if (ARR_NDIM(secrets) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("webhook secrets must be a one-dimensional array")));
	deconstruct_array(secrets, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &nelems);

	/* id "." timestamp "." body: the bytes Standard Webhooks signs */
	initStringInfo(&signed_content);
	appendBinaryStringInfo(&signed_content, VARDATA_ANY(msg_id), VARSIZE_ANY_EXHDR(msg_id));
	appendStringInfo(&signed_content, "." INT64_FORMAT ".", timestamp);
	appendBinaryStringInfo(&signed_content, VARDATA_ANY(body), VARSIZE_ANY_EXHDR(body));

	initStringInfo(&result);
	for (i = 0; i < nelems; i++)
	{
		text	   *secret;
		uint8		key[64];
		int			key_len;
		uint8		mac[EVP_MAX_MD_SIZE];
		unsigned int mac_len = 0;
		char		mac_b64[128];
		int			b64_len;

		if (nulls[i])
			continue;
		secret = DatumGetTextPP(elems[i]);
		key_len = secret_key(VARDATA_ANY(secret), VARSIZE_ANY_EXHDR(secret), key, sizeof(key));
		if (HMAC(EVP_sha256(), key, key_len, (const unsigned char *) signed_content.data,
				 signed_content.len, mac, &mac_len) == NULL)
		{
			OPENSSL_cleanse(key, sizeof(key));
			elog(ERROR, "could not compute a webhook signature");
		}
		OPENSSL_cleanse(key, sizeof(key));
		b64_len = pg_b64_encode((const char *) mac, mac_len, mac_b64, sizeof(mac_b64));
		if (b64_len < 0)
			elog(ERROR, "could not encode a webhook signature");
		if (result.len > 0)
			appendStringInfoChar(&result, ' ');
		appendStringInfoString(&result, "v1,");
		appendBinaryStringInfo(&result, mac_b64, b64_len);
	}
	pfree(signed_content.data);
	if (result.len == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a webhook message needs at least one secret to be signed")));
	PG_RETURN_TEXT_P(cstring_to_text_with_len(result.data, result.len));
}
