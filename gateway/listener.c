/*
 * listener.c
 *		What both listeners do alike with libmicrohttpd (see listener.h).
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "listener.h"
#include "log.h"

struct addrinfo *
listener_address(const char *address, int port, const char *what)
{
	struct addrinfo hints,
			   *addr = NULL;
	char		service[16];
	int			rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(service, sizeof(service), "%d", port);
	rc = getaddrinfo(address, service, &hints, &addr);
	if (rc != 0)
	{
		log_msg("invalid %s address \"%s\": %s (give a numeric IPv4 or IPv6 address)",
				what, address, gai_strerror(rc));
		return NULL;
	}
	return addr;
}

void
listener_mhd_logger(void *prefix, const char *fmt, va_list ap)
{
	char		line[512];

	vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	/* a client that went away: its request's own log line says so */
	if (strstr(line, "detected connection closure") != NULL)
		return;
	log_msg("%s: %s", (const char *) prefix, line);
}

int
listener_port(struct MHD_Daemon *daemon, int configured)
{
	const union MHD_DaemonInfo *info;

	info = MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_BIND_PORT);
	return info != NULL ? info->port : configured;
}
