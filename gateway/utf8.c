/*
 * utf8.c
 *		Strict UTF-8 validation (see utf8.h).
 */
#include "utf8.h"

/*
 * Length of the well-formed UTF-8 sequence at s (1-4), or 0 when it is
 * not one: truncated, overlong, a surrogate, above U+10FFFF, or NUL (which
 * a text parameter cannot carry).
 */
size_t
utf8_char_length(const unsigned char *s, size_t len)
{
	unsigned char c;
	size_t		n,
				i;
	unsigned char lo = 0x80,
				hi = 0xBF;		/* allowed range of the second byte */

	if (len == 0)
		return 0;
	c = s[0];
	if (c == 0)
		return 0;
	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		n = 2;
	else if (c >= 0xE0 && c <= 0xEF)
	{
		n = 3;
		if (c == 0xE0)
			lo = 0xA0;			/* overlong */
		else if (c == 0xED)
			hi = 0x9F;			/* surrogates */
	}
	else if (c >= 0xF0 && c <= 0xF4)
	{
		n = 4;
		if (c == 0xF0)
			lo = 0x90;			/* overlong */
		else if (c == 0xF4)
			hi = 0x8F;			/* above U+10FFFF */
	}
	else
		return 0;
	if (len < n)
		return 0;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xBF)
			return 0;
	return n;
}

bool
utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *) s;
	size_t		i = 0;

	while (i < len)
	{
		size_t		n;

		if (p[i] >= 0x01 && p[i] < 0x80)
		{
			i++;
			continue;
		}
		n = utf8_char_length(p + i, len - i);
		if (n == 0)
			return false;
		i += n;
	}
	return true;
}
