/*
 * guard.h
 *		The SSRF guard: which addresses a delivery may connect to.
 *
 * Checked on the address libcurl is about to connect to (its
 * CURLOPT_OPENSOCKETFUNCTION), after name resolution: a name that resolved
 * to a public address when the endpoint was registered and to 127.0.0.1
 * now (DNS rebinding) is refused all the same.
 */
#ifndef WEBHOOKD_GUARD_H
#define WEBHOOKD_GUARD_H

#include <sys/socket.h>

/*
 * The kind of non-public address sa is ("loopback", "private", ...), or
 * NULL when it is a public unicast address a delivery may connect to.
 */
extern const char *guard_refusal(const struct sockaddr *sa);

#endif
