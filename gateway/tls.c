/*
 * tls.c
 *		The gateway's certificate and key (see tls.h).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "tls.h"

/* A certificate chain of more than this many certificates is refused. */
#define MAX_CHAIN 16

/*
 * One loaded certificate chain and key.  A generation is never freed while
 * the gateway runs (a handshake in progress may still use the previous
 * one); they are freed at exit.  One per reload: a few hundred bytes.
 */
typedef struct Credentials
{
	struct Credentials *older;
	gnutls_pcert_st chain[MAX_CHAIN];
	unsigned int chain_len;
	gnutls_privkey_t key;
} Credentials;

static pthread_mutex_t tls_lock = PTHREAD_MUTEX_INITIALIZER;
static Credentials *current;
static char *cert_path;
static char *key_path;

static void
credentials_free(Credentials *cr)
{
	unsigned int i;

	for (i = 0; i < cr->chain_len; i++)
		gnutls_pcert_deinit(&cr->chain[i]);
	if (cr->key != NULL)
		gnutls_privkey_deinit(cr->key);
	free(cr);
}

/*
 * Read both files; NULL (and logged) when either cannot be read or parsed
 * or the key is not the certificate's.
 */
static Credentials *
credentials_read(const char *cert_file, const char *key_file)
{
	gnutls_certificate_credentials_t check;
	gnutls_datum_t cert = {NULL, 0},
				key = {NULL, 0};
	Credentials *cr = calloc(1, sizeof(Credentials));
	int			rc;

	if (cr == NULL)
		return NULL;
	/* GnuTLS's own loader says whether key and certificate belong together */
	rc = gnutls_certificate_allocate_credentials(&check);
	if (rc == GNUTLS_E_SUCCESS)
	{
		rc = gnutls_certificate_set_x509_key_file(check, cert_file, key_file,
												  GNUTLS_X509_FMT_PEM);
		gnutls_certificate_free_credentials(check);
	}
	if (rc >= 0)
		rc = gnutls_load_file(cert_file, &cert);
	if (rc >= 0)
		rc = gnutls_load_file(key_file, &key);
	if (rc >= 0)
	{
		cr->chain_len = MAX_CHAIN;
		rc = gnutls_pcert_list_import_x509_raw(cr->chain, &cr->chain_len, &cert,
											   GNUTLS_X509_FMT_PEM, 0);
		if (rc < 0)
			cr->chain_len = 0;
	}
	if (rc >= 0)
		rc = gnutls_privkey_init(&cr->key);
	if (rc >= 0)
		rc = gnutls_privkey_import_x509_raw(cr->key, &key, GNUTLS_X509_FMT_PEM, NULL, 0);
	gnutls_free(cert.data);
	if (key.data != NULL)
	{
		memset(key.data, 0, key.size);
		gnutls_free(key.data);
	}
	if (rc < 0)
	{
		/* GnuTLS's message names the problem, never key material */
		log_msg("cannot use TLS certificate \"%s\" with key \"%s\": %s",
				cert_file, key_file, gnutls_strerror(rc));
		credentials_free(cr);
		return NULL;
	}
	return cr;
}

bool
tls_load(const char *cert_file, const char *key_file)
{
	Credentials *cr = credentials_read(cert_file, key_file);

	if (cr == NULL)
		return false;
	cert_path = strdup(cert_file);
	key_path = strdup(key_file);
	if (cert_path == NULL || key_path == NULL)
	{
		credentials_free(cr);
		return false;
	}
	current = cr;
	return true;
}

/* Read the same files again; the new certificate serves new handshakes. */
bool
tls_reload(void)
{
	Credentials *cr;

	if (cert_path == NULL)
		return false;
	cr = credentials_read(cert_path, key_path);
	if (cr == NULL)
		return false;
	pthread_mutex_lock(&tls_lock);
	cr->older = current;
	current = cr;
	pthread_mutex_unlock(&tls_lock);
	return true;
}

/* gnutls_certificate_retrieve_function2: the current chain and key. */
int
tls_retrieve_certificate(gnutls_session_t session,
						 const gnutls_datum_t *req_ca_rdn, int nreqs,
						 const gnutls_pk_algorithm_t *pk_algos,
						 int pk_algos_length, gnutls_pcert_st **pcert,
						 unsigned int *pcert_length, gnutls_privkey_t *privkey)
{
	(void) session;
	(void) req_ca_rdn;
	(void) nreqs;
	(void) pk_algos;
	(void) pk_algos_length;
	pthread_mutex_lock(&tls_lock);
	*pcert = current->chain;
	*pcert_length = current->chain_len;
	*privkey = current->key;
	pthread_mutex_unlock(&tls_lock);
	return 0;
}

void
tls_free(void)
{
	while (current != NULL)
	{
		Credentials *older = current->older;

		credentials_free(current);
		current = older;
	}
	free(cert_path);
	free(key_path);
	cert_path = key_path = NULL;
}
