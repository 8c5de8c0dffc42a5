/*
 * strbuf.c
 *		A growable byte buffer (see strbuf.h).
 */
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"

void
strbuf_append(StrBuf *sb, const char *s, size_t n)
{
	if (sb->broken)
		return;
	if (sb->len + n + 1 > sb->cap)
	{
		size_t		cap = sb->cap ? sb->cap : 64;
		char	   *data;

		while (cap < sb->len + n + 1)
		{
			if (cap > ((size_t) -1) / 2)
			{
				sb->broken = true;
				return;
			}
			cap *= 2;
		}
		data = realloc(sb->data, cap);
		if (data == NULL)
		{
			sb->broken = true;
			return;
		}
		sb->data = data;
		sb->cap = cap;
	}
	if (n > 0)
		memcpy(sb->data + sb->len, s, n);
	sb->len += n;
	sb->data[sb->len] = '\0';
}

void
strbuf_append_str(StrBuf *sb, const char *s)
{
	strbuf_append(sb, s, strlen(s));
}

void
strbuf_append_char(StrBuf *sb, char c)
{
	strbuf_append(sb, &c, 1);
}

bool
strbuf_ok(const StrBuf *sb)
{
	return !sb->broken;
}

/* The contents as a C string; "" for an empty buffer. */
const char *
strbuf_cstr(StrBuf *sb)
{
	return (sb->data != NULL && !sb->broken) ? sb->data : "";
}

void
strbuf_reset(StrBuf *sb)
{
	sb->len = 0;
	sb->broken = false;
	if (sb->data != NULL)
		sb->data[0] = '\0';
}

void
strbuf_free(StrBuf *sb)
{
	free(sb->data);
	sb->data = NULL;
	sb->len = sb->cap = 0;
	sb->broken = false;
}
