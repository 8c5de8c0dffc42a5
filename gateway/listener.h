/*
 * listener.h
 *		What the API listener (server.c) and the metrics listener
 *		(metrics_server.c) do alike with libmicrohttpd: resolve the numeric
 *		address to listen on, log its messages, report the bound port.
 */
#ifndef GATEWAY_LISTENER_H
#define GATEWAY_LISTENER_H

#include <netdb.h>
#include <stdarg.h>

#include <microhttpd.h>

/*
 * The address to bind, or NULL (logged, naming what the address is for);
 * free it with freeaddrinfo().
 */
extern struct addrinfo *listener_address(const char *address, int port, const char *what);

/* MHD_OPTION_EXTERNAL_LOGGER; its argument is the prefix of the lines. */
extern void listener_mhd_logger(void *prefix, const char *fmt, va_list ap);

/* The port a daemon listens on (the configured one if it cannot say). */
extern int	listener_port(struct MHD_Daemon *daemon, int configured);

#endif
