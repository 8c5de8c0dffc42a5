/*
 * vault_keyring.c
 *		The vault's key ring: keys read from an external key file named by
 *		the superuser-only setting orders.vault_key_file, held in this
 *		backend's memory only, wiped when the setting is reloaded and at exit.
 *
 * The ring is loaded lazily, on the first use of the vault in a backend
 * (never in the postmaster), so the same code serves a preloaded library
 * and one loaded on first use.  A reload (SIGHUP) of a configuration file
 * that sets orders.vault_key_file runs the assign hook, which wipes the
 * ring: the next use reads the file again, so keys added to or removed from
 * the file take effect on pg_reload_conf().
 *
 * The key never passes through a setting, a table, an argument, a message
 * or a log line: messages name the line of the file at fault, never its
 * content, and not even the file's path (the setting is superuser-only).
 */
#include "postgres.h"

#include <sys/stat.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/hmac.h>

#include "miscadmin.h"
#include "storage/fd.h"
#include "storage/ipc.h"
#include "utils/guc.h"

#include "orders.h"
#include "vault.h"

/* Label of the derivation of a key's fingerprint (HMAC) key. */
#define FINGERPRINT_KEY_LABEL "orders.vault fingerprint key v1"

static char *vault_key_file = NULL;

static VaultKey ring[VAULT_MAX_KEYS];
static int	ring_size = 0;			/* 0: not loaded */
static VaultKey *ring_by_age[VAULT_MAX_KEYS];	/* newest first */

/* Staging area of the parser; wiped after every load. */
static VaultKeyMaterial staged[VAULT_MAX_KEYS];

static EVP_MAC *hmac_algorithm = NULL;

/* Free the contexts (OpenSSL cleanses their key schedules) and wipe keys. */
static void
ring_wipe(void)
{
	int			i;

	for (i = 0; i < ring_size; i++)
	{
		EVP_CIPHER_CTX_free(ring[i].seal);
		EVP_CIPHER_CTX_free(ring[i].open);
		EVP_MAC_CTX_free(ring[i].fingerprint);
	}
	explicit_bzero(ring, sizeof(ring));
	explicit_bzero(ring_by_age, sizeof(ring_by_age));
	ring_size = 0;
}

static void
ring_wipe_at_exit(int code pg_attribute_unused(), Datum arg pg_attribute_unused())
{
	ring_wipe();
}

/* A new value of the setting (reload): forget the keys read so far. */
static void
assign_vault_key_file(const char *newval pg_attribute_unused(),
					  void *extra pg_attribute_unused())
{
	ring_wipe();
}

void
orders_vault_init(void)
{
	DefineCustomStringVariable("orders.vault_key_file",
							   "File holding the vault's keys, one \"<id>:<64 hex digits>\" a line.",
							   "The highest id encrypts; every key in the file decrypts. "
							   "The file must be readable by the server only (mode 0600).",
							   &vault_key_file,
							   "",
							   PGC_SIGHUP,
							   GUC_SUPERUSER_ONLY,
							   NULL, assign_vault_key_file, NULL);
	on_proc_exit(ring_wipe_at_exit, (Datum) 0);
}

/*
 * Read the whole key file into a palloc'd buffer.  Refuses a file that is
 * not a regular file, is too large, or that others than the server (and
 * root) could read: the same rule PostgreSQL applies to its TLS key.
 */
static char *
read_key_file(size_t *len)
{
	int			fd;
	struct stat st;
	char	   *buf;
	size_t		got = 0;

	fd = OpenTransientFile(vault_key_file, O_RDONLY | PG_BINARY);
	if (fd < 0)
		ereport(ERROR,
				(errcode(ERRCODE_ORDERS_VAULT_KEY_UNAVAILABLE),
				 errmsg("could not open the vault key file: %m"),
				 errhint("orders.vault_key_file names it; it must exist and be readable by the server.")));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
	{
		CloseTransientFile(fd);
		ereport(ERROR,
				(errcode(ERRCODE_ORDERS_VAULT_KEY_UNAVAILABLE),
				 errmsg("the vault key file is not a regular file")));
	}
	if (st.st_uid != geteuid() && st.st_uid != 0)
	{
		CloseTransientFile(fd);
		ereport(ERROR,
				(errcode(ERRCODE_ORDERS_VAULT_KEY_UNAVAILABLE),
				 errmsg("the vault key file must be owned by the database user or root")));
	}
	if ((st.st_uid == geteuid() && (st.st_mode & (S_IRWXG | S_IRWXO))) ||
		(st.st_uid == 0 && (st.st_mode & (S_IWGRP | S_IXGRP | S_IRWXO))))
	{
		CloseTransientFile(fd);
		ereport(ERROR,
				(errcode(ERRCODE_ORDERS_VAULT_KEY_UNAVAILABLE),
				 errmsg("the vault key file has group or world access"),
				 errdetail("It must be u=rw (0600) or less if owned by the database user, or u=rw,g=r (0640) or less if owned by root.")));
	}
	if (st.st_size > VAULT_KEY_FILE_MAXLEN)
	{
		CloseTransientFile(fd);
		ereport(ERROR,
				(errcode(ERRCODE_ORDERS_VAULT_KEY_UNAVAILABLE),
				 errmsg("the vault key file is larger than %d bytes", VAULT_KEY_FILE_MAXLEN)));
	}

	buf = palloc(VAULT_KEY_FILE_MAXLEN + 1);
	for (;;)
	{
		ssize_t		n = read(fd, buf + got, VAULT_KEY_FILE_MAXLEN + 1 - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || (got += n) > VAULT_KEY_FILE_MAXLEN)
		{
			int			save_errno = errno;

			explicit_bzero(buf, VAULT_KEY_FILE_MAXLEN + 1);
			pfree(buf);
			CloseTransientFile(fd);
			errno = save_errno;
			if (n < 0)
				ereport(ERROR,
						(errcode(ERRCODE_ORDERS_VAULT_KEY_UNAVAILABLE),
						 errmsg("could not read the vault key file: %m")));
			ereport(ERROR,
					(errcode(ERRCODE_ORDERS_VAULT_KEY_UNAVAILABLE),
					 errmsg("the vault key file is larger than %d bytes", VAULT_KEY_FILE_MAXLEN)));
		}
		if (n == 0)
			break;
	}
	CloseTransientFile(fd);
	*len = got;
	return buf;
}

/* Derive a key's fingerprint key and set up its HMAC context. */
static void
init_fingerprint_ctx(VaultKey *key)
{
	uint8		derived[VAULT_HMAC_BYTES];
	unsigned int derived_len = 0;
	OSSL_PARAM	params[2];
	EVP_MAC_CTX *ctx;
	bool		ok;

	if (hmac_algorithm == NULL)
		hmac_algorithm = EVP_MAC_fetch(NULL, OSSL_MAC_NAME_HMAC, NULL);
	if (hmac_algorithm == NULL || (ctx = EVP_MAC_CTX_new(hmac_algorithm)) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("could not create an HMAC context")));

	/* a key of its own for the HMAC: never the AES key itself */
	ok = HMAC(EVP_sha256(), key->aes, VAULT_KEY_BYTES,
			  (const unsigned char *) FINGERPRINT_KEY_LABEL,
			  strlen(FINGERPRINT_KEY_LABEL), derived, &derived_len) != NULL &&
		derived_len == VAULT_HMAC_BYTES;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	ok = ok && EVP_MAC_init(ctx, derived, VAULT_HMAC_BYTES, params) == 1;
	explicit_bzero(derived, sizeof(derived));
	if (!ok)
	{
		EVP_MAC_CTX_free(ctx);
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not derive the fingerprint key of vault key %u", key->id)));
	}
	key->fingerprint = ctx;
}

static int
compare_age(const void *a, const void *b)
{
	uint32		ia = (*(VaultKey *const *) a)->id;
	uint32		ib = (*(VaultKey *const *) b)->id;

	return ia < ib ? 1 : ia > ib ? -1 : 0;
}

/* Load the ring from the key file unless it is loaded. */
static void
ring_ensure(void)
{
	char	   *buf;
	size_t		len;
	int			nkeys,
				bad_line,
				i;
	VaultKeyFileStatus st;

	if (ring_size > 0)
		return;
	if (vault_key_file == NULL || vault_key_file[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_ORDERS_VAULT_KEY_UNAVAILABLE),
				 errmsg("no vault key file is configured"),
				 errhint("Set orders.vault_key_file to a file of \"<id>:<64 hex digits>\" lines, readable by the server only, and reload.")));

	buf = read_key_file(&len);
	st = vault_key_file_parse(buf, len, staged, VAULT_MAX_KEYS, &nkeys, &bad_line);
	explicit_bzero(buf, len);
	pfree(buf);
	if (st != VAULT_KEYS_OK)
	{
		explicit_bzero(staged, sizeof(staged));
		if (bad_line > 0)
			ereport(ERROR,
					(errcode(ERRCODE_ORDERS_VAULT_KEY_UNAVAILABLE),
					 errmsg("line %d of the vault key file is invalid: %s",
							bad_line, vault_key_file_status_text(st))));
		ereport(ERROR,
				(errcode(ERRCODE_ORDERS_VAULT_KEY_UNAVAILABLE),
				 errmsg("the vault key file is invalid: %s",
						vault_key_file_status_text(st))));
	}

	for (i = 0; i < nkeys; i++)
	{
		ring[i].id = staged[i].id;
		memcpy(ring[i].aes, staged[i].key, VAULT_KEY_BYTES);
		ring_by_age[i] = &ring[i];
	}
	explicit_bzero(staged, sizeof(staged));
	qsort(ring_by_age, nkeys, sizeof(VaultKey *), compare_age);

	/* Complete the ring (fingerprint keys) before it counts as loaded. */
	PG_TRY();
	{
		for (i = 0; i < nkeys; i++)
			init_fingerprint_ctx(&ring[i]);
	}
	PG_CATCH();
	{
		ring_size = nkeys;
		ring_wipe();
		PG_RE_THROW();
	}
	PG_END_TRY();
	ring_size = nkeys;
}

VaultKey *
vault_newest_key(void)
{
	ring_ensure();
	return ring_by_age[0];
}

VaultKey *
vault_key_for_id(uint32 id)
{
	int			i;

	ring_ensure();
	for (i = 0; i < ring_size; i++)
		if (ring[i].id == id)
			return &ring[i];
	ereport(ERROR,
			(errcode(ERRCODE_ORDERS_VAULT_KEY_UNAVAILABLE),
			 errmsg("vault key %u is not in the key ring", id),
			 errhint("The value was encrypted with key %u; add that key back to the key file and reload, or restore the value.", id)));
	return NULL;				/* keep the compiler quiet */
}

int
vault_ring_keys(VaultKey ***keys)
{
	ring_ensure();
	*keys = ring_by_age;
	return ring_size;
}

static EVP_CIPHER_CTX *
new_gcm_ctx(VaultKey *key, int enc)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();

	if (ctx == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("could not create a cipher context")));
	if (EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, key->aes, NULL, enc) != 1)
	{
		EVP_CIPHER_CTX_free(ctx);
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not set up AES-256-GCM with vault key %u", key->id)));
	}
	return ctx;
}

/*
 * The contexts live as long as the key: each value re-initialises one with
 * its own nonce, which resets any state an earlier ERROR left behind, so
 * nothing is allocated per value and nothing can leak on an error path.
 */
EVP_CIPHER_CTX *
vault_key_seal_ctx(VaultKey *key)
{
	if (key->seal == NULL)
		key->seal = new_gcm_ctx(key, 1);
	return key->seal;
}

EVP_CIPHER_CTX *
vault_key_open_ctx(VaultKey *key)
{
	if (key->open == NULL)
		key->open = new_gcm_ctx(key, 0);
	return key->open;
}
