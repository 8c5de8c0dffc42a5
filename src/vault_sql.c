/*
 * vault_sql.c
 *		The vault's SQL-callable primitives (schema/40_vault.sql).  They are
 *		executable by the extension's owner only: the roles reach the vault
 *		through orders.load_inventory, orders.reveal_vouchers and
 *		orders.vault_rotate, which decide who may see what.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"

#include "orders.h"
#include "vault.h"

/*
 * The field name argument n: bound into every ciphertext and fingerprint.
 * Not quoted in the message: a misplaced argument could be a code.
 */
static const char *
field_arg(FunctionCallInfo fcinfo, int n, size_t *len)
{
	text	   *t = PG_GETARG_TEXT_PP(n);

	*len = VARSIZE_ANY_EXHDR(t);
	if (!vault_field_name_ok(VARDATA_ANY(t), *len))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid vault field name"),
				 errdetail("A field name is 1 to %d characters of a-z, 0-9 and _, starting with a letter.",
						   VAULT_FIELD_MAXLEN)));
	return VARDATA_ANY(t);
}

/* Wipe argument n's detoasted copy, if PG_GETARG_*_PP made one. */
static void
wipe_arg_copy(FunctionCallInfo fcinfo, int n, void *detoasted)
{
	if (detoasted != (void *) PG_GETARG_POINTER(n))
		vault_wipe_varlena((struct varlena *) detoasted);
}

PG_FUNCTION_INFO_V1(vault_encrypt);

/* vault_encrypt(plaintext text, row_id bigint, field text) RETURNS bytea */
Datum
vault_encrypt(PG_FUNCTION_ARGS)
{
	text	   *plain = PG_GETARG_TEXT_PP(0);
	int64		row_id = PG_GETARG_INT64(1);
	size_t		field_len;
	const char *field = field_arg(fcinfo, 2, &field_len);
	bytea	   *sealed;

	sealed = vault_seal(VARDATA_ANY(plain), VARSIZE_ANY_EXHDR(plain),
						row_id, field, field_len);
	wipe_arg_copy(fcinfo, 0, plain);
	PG_RETURN_BYTEA_P(sealed);
}

PG_FUNCTION_INFO_V1(vault_decrypt);

/* vault_decrypt(sealed bytea, row_id bigint, field text) RETURNS text */
Datum
vault_decrypt(PG_FUNCTION_ARGS)
{
	bytea	   *sealed = PG_GETARG_BYTEA_PP(0);
	int64		row_id = PG_GETARG_INT64(1);
	size_t		field_len;
	const char *field = field_arg(fcinfo, 2, &field_len);

	PG_RETURN_TEXT_P(vault_open(sealed, row_id, field, field_len));
}

PG_FUNCTION_INFO_V1(vault_reencrypt);

/*
 * vault_reencrypt(sealed bytea, row_id bigint, field text) RETURNS bytea
 *
 * The value under the newest key, for rotation: returned as it is when it
 * already is; else opened and sealed again, the plaintext never leaving C.
 */
Datum
vault_reencrypt(PG_FUNCTION_ARGS)
{
	bytea	   *sealed = PG_GETARG_BYTEA_PP(0);
	int64		row_id = PG_GETARG_INT64(1);
	size_t		field_len;
	const char *field = field_arg(fcinfo, 2, &field_len);
	VaultKey   *newest = vault_newest_key();
	text	   *plain;
	bytea	   *resealed;

	if (vault_header_key_id((const uint8 *) VARDATA_ANY(sealed),
							VARSIZE_ANY_EXHDR(sealed)) == newest->id)
		PG_RETURN_BYTEA_P(sealed);
	plain = vault_open(sealed, row_id, field, field_len);
	resealed = vault_seal(VARDATA(plain), VARSIZE(plain) - VARHDRSZ,
						  row_id, field, field_len);
	vault_wipe_varlena((struct varlena *) plain);
	PG_RETURN_BYTEA_P(resealed);
}

PG_FUNCTION_INFO_V1(vault_fingerprints);

/*
 * vault_fingerprints(value text, field text) RETURNS bytea[]
 *
 * The value's fingerprint under every key of the ring, newest first: the
 * first is what a new row stores, the others find rows not yet rotated.
 */
Datum
vault_fingerprints(PG_FUNCTION_ARGS)
{
	text	   *value = PG_GETARG_TEXT_PP(0);
	size_t		field_len;
	const char *field = field_arg(fcinfo, 1, &field_len);
	VaultKey  **keys;
	int			nkeys = vault_ring_keys(&keys);
	Datum	   *prints = palloc(nkeys * sizeof(Datum));
	int			i;

	for (i = 0; i < nkeys; i++)
		prints[i] = PointerGetDatum(vault_fingerprint(keys[i], VARDATA_ANY(value),
													  VARSIZE_ANY_EXHDR(value),
													  field, field_len));
	wipe_arg_copy(fcinfo, 0, value);
	PG_RETURN_ARRAYTYPE_P(construct_array(prints, nkeys, BYTEAOID, -1, false,
										  TYPALIGN_INT));
}

PG_FUNCTION_INFO_V1(vault_fingerprint_of);

/*
 * vault_fingerprint_of(sealed bytea, row_id bigint, field text) RETURNS bytea
 *
 * The fingerprint, under the newest key, of a stored value: rotation
 * recomputes fingerprints without the plaintext leaving C.
 */
Datum
vault_fingerprint_of(PG_FUNCTION_ARGS)
{
	bytea	   *sealed = PG_GETARG_BYTEA_PP(0);
	int64		row_id = PG_GETARG_INT64(1);
	size_t		field_len;
	const char *field = field_arg(fcinfo, 2, &field_len);
	VaultKey   *newest = vault_newest_key();
	text	   *plain = vault_open(sealed, row_id, field, field_len);
	bytea	   *print;

	print = vault_fingerprint(newest, VARDATA(plain), VARSIZE(plain) - VARHDRSZ,
							  field, field_len);
	vault_wipe_varlena((struct varlena *) plain);
	PG_RETURN_BYTEA_P(print);
}

PG_FUNCTION_INFO_V1(vault_key_id);

/* vault_key_id(sealed_or_fingerprint bytea) RETURNS integer */
Datum
vault_key_id(PG_FUNCTION_ARGS)
{
	bytea	   *data = PG_GETARG_BYTEA_PP(0);
	uint32		id = vault_header_key_id((const uint8 *) VARDATA_ANY(data),
										 VARSIZE_ANY_EXHDR(data));

	if (id == 0)
		ereport(ERROR,
				(errcode(ERRCODE_ORDERS_VAULT_CIPHERTEXT_INVALID),
				 errmsg("not a vault ciphertext or fingerprint"),
				 errdetail("It does not start with format version %d and a key id.",
						   VAULT_FORMAT_VERSION)));
	PG_RETURN_INT32((int32) id);
}

PG_FUNCTION_INFO_V1(vault_keys);

/* vault_keys(OUT key_id integer, OUT newest boolean): ids only, never keys */
Datum
vault_keys(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	VaultKey  **keys;
	int			nkeys,
				i;

	InitMaterializedSRF(fcinfo, 0);
	nkeys = vault_ring_keys(&keys);
	for (i = 0; i < nkeys; i++)
	{
		Datum		values[2] = {Int32GetDatum((int32) keys[i]->id), BoolGetDatum(i == 0)};
		bool		nulls[2] = {false, false};

		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
