/*
 * strbuf.h
 *		A growable byte buffer for the gateway (plain malloc, no PostgreSQL).
 *
 * Appending never fails silently: on allocation failure the buffer is
 * marked broken, further appends are ignored, and strbuf_ok() says so, so
 * callers check once at the end instead of after every append.
 */
#ifndef GATEWAY_STRBUF_H
#define GATEWAY_STRBUF_H

#include <stdbool.h>
#include <stddef.h>

typedef struct StrBuf
{
	char	   *data;			/* always NUL-terminated when len > 0 */
	size_t		len;
	size_t		cap;
	bool		broken;			/* an allocation failed */
} StrBuf;

#define STRBUF_INIT {NULL, 0, 0, false}

extern void strbuf_append(StrBuf *sb, const char *s, size_t n);
extern void strbuf_append_str(StrBuf *sb, const char *s);
extern void strbuf_append_char(StrBuf *sb, char c);
extern bool strbuf_ok(const StrBuf *sb);
extern const char *strbuf_cstr(StrBuf *sb);
extern void strbuf_reset(StrBuf *sb);
extern void strbuf_free(StrBuf *sb);

#endif
