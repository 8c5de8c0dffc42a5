/*
 * json.c
 *		Quoting a string as JSON (see json.h).
 */
#include <stdio.h>

#include "json.h"

/*
 * Append s[0..len) as a quoted JSON string.  Bytes >= 0x80 are copied as
 * they are (callers pass valid UTF-8); control characters are escaped.
 */
void
json_append_string(StrBuf *sb, const char *s, size_t len)
{
	size_t		i,
				run = 0;

	strbuf_append_char(sb, '"');
	for (i = 0; i < len; i++)
	{
		unsigned char ch = (unsigned char) s[i];
		const char *esc = NULL;
		char		ubuf[8];

		if (ch == '"')
			esc = "\\\"";
		else if (ch == '\\')
			esc = "\\\\";
		else if (ch == '\n')
			esc = "\\n";
		else if (ch == '\r')
			esc = "\\r";
		else if (ch == '\t')
			esc = "\\t";
		else if (ch < 0x20 || ch == 0x7F)
		{
			snprintf(ubuf, sizeof(ubuf), "\\u%04x", ch);
			esc = ubuf;
		}
		if (esc == NULL)
			continue;
		strbuf_append(sb, s + run, i - run);
		strbuf_append_str(sb, esc);
		run = i + 1;
	}
	strbuf_append(sb, s + run, len - run);
	strbuf_append_char(sb, '"');
}
