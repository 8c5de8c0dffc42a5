/*
 * tls.h
 *		The gateway's certificate and key for HTTPS (GnuTLS, as libmicrohttpd
 *		uses it), reloadable while serving.
 *
 * libmicrohttpd asks tls_retrieve_certificate for the certificate at each
 * handshake, so a reload (SIGHUP) takes effect for the next connection
 * without a restart.  A reload that fails (unreadable file, key not
 * matching the certificate) is logged and the certificate in use is kept.
 * One set of credentials per process.
 */
#ifndef GATEWAY_TLS_H
#define GATEWAY_TLS_H

#include <stdbool.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>

/* TLS 1.2 and 1.3 only, GnuTLS's default ciphers for them. */
#define TLS_PRIORITIES "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"

extern bool tls_load(const char *cert_file, const char *key_file);
extern bool tls_reload(void);
extern int	tls_retrieve_certificate(gnutls_session_t session,
									 const gnutls_datum_t *req_ca_rdn, int nreqs,
									 const gnutls_pk_algorithm_t *pk_algos,
									 int pk_algos_length, gnutls_pcert_st **pcert,
									 unsigned int *pcert_length,
									 gnutls_privkey_t *privkey);
extern void tls_free(void);

#endif
