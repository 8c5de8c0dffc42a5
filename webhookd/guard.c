/*
 * guard.c
 *		The SSRF guard (see guard.h).
 *
 * Refused: loopback, RFC 1918 private and IPv6 unique-local (and the old
 * site-local), link-local (169.254/16, where cloud metadata services such
 * as 169.254.169.254 live, and fe80::/10), unspecified (0/8, ::), multicast,
 * CGNAT shared space (100.64/10), reserved 240/4 and broadcast; IPv6
 * addresses that embed an IPv4 address (IPv4-mapped ::ffff:0:0/96,
 * IPv4-compatible ::/96, NAT64 64:ff9b::/96) are judged by that address.
 */
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>

#include "guard.h"

/* a (host byte order) within prefix/len */
static int
in_prefix4(uint32_t a, uint32_t prefix, int len)
{
	uint32_t	mask = len == 0 ? 0 : 0xFFFFFFFFu << (32 - len);

	return (a & mask) == (prefix & mask);
}

static const char *
refusal4(uint32_t a)
{
	if (in_prefix4(a, 0x00000000u, 8))
		return "unspecified";
	if (in_prefix4(a, 0x7F000000u, 8))
		return "loopback";
	if (in_prefix4(a, 0x0A000000u, 8) || in_prefix4(a, 0xAC100000u, 12) ||
		in_prefix4(a, 0xC0A80000u, 16))
		return "private";
	if (in_prefix4(a, 0xA9FE0000u, 16))
		return "link-local";
	if (in_prefix4(a, 0x64400000u, 10))
		return "shared (CGNAT)";
	if (in_prefix4(a, 0xE0000000u, 4))
		return "multicast";
	if (in_prefix4(a, 0xF0000000u, 4))
		return "reserved";
	return NULL;
}

static uint32_t
embedded4(const uint8_t *b)
{
	return ((uint32_t) b[12] << 24) | ((uint32_t) b[13] << 16) |
		((uint32_t) b[14] << 8) | (uint32_t) b[15];
}

static const char *
refusal6(const uint8_t *b)
{
	static const uint8_t zero[16] = {0};
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
	static const uint8_t nat64[12] = {0x00, 0x64, 0xFF, 0x9B};

	if (memcmp(b, zero, 16) == 0)
		return "unspecified";
	if (memcmp(b, zero, 15) == 0 && b[15] == 1)
		return "loopback";
	/* IPv4-mapped, IPv4-compatible (deprecated) and NAT64 well-known prefix */
	if (memcmp(b, mapped, 12) == 0 || memcmp(b, zero, 12) == 0 ||
		memcmp(b, nat64, 12) == 0)
		return refusal4(embedded4(b));
	if ((b[0] & 0xFE) == 0xFC)
		return "unique-local";
	if (b[0] == 0xFE && (b[1] & 0xC0) == 0x80)
		return "link-local";
	if (b[0] == 0xFE && (b[1] & 0xC0) == 0xC0)
		return "site-local";
	if (b[0] == 0xFF)
		return "multicast";
	return NULL;
}

const char *
guard_refusal(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
	{
		const struct sockaddr_in *in = (const struct sockaddr_in *) sa;

		return refusal4(ntohl(in->sin_addr.s_addr));
	}
	if (sa->sa_family == AF_INET6)
	{
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *) sa;

		return refusal6(in6->sin6_addr.s6_addr);
	}
	return "not an IP address";
}
