/*
 * json.c
 *		JSON syntax check and string escaping (see json.h).
 *
 * A recursive-descent recogniser over a byte range: it builds nothing and
 * allocates nothing; the depth limit bounds the recursion.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>

#include "json.h"
#include "utf8.h"

typedef struct JsonCursor
{
	const unsigned char *s;
	size_t		len;
	size_t		pos;
	JsonSyntaxError *err;
} JsonCursor;

static bool json_value(JsonCursor *c, int depth);

static bool
fail(JsonCursor *c, const char *reason)
{
	c->err->offset = c->pos;
	c->err->reason = reason;
	return false;
}

static void
skip_ws(JsonCursor *c)
{
	while (c->pos < c->len &&
		   (c->s[c->pos] == ' ' || c->s[c->pos] == '\t' ||
			c->s[c->pos] == '\n' || c->s[c->pos] == '\r'))
		c->pos++;
}

/* Four hex digits after "\u"; -1 when they are not. */
static long
read_u_escape(JsonCursor *c)
{
	char		hex[5];
	int			i;

	if (c->len - c->pos < 4)
		return -1;
	for (i = 0; i < 4; i++)
	{
		if (!isxdigit(c->s[c->pos + i]))
			return -1;
		hex[i] = (char) c->s[c->pos + i];
	}
	hex[4] = '\0';
	c->pos += 4;
	return strtol(hex, NULL, 16);
}

static bool
json_string(JsonCursor *c)
{
	c->pos++;					/* opening quote */
	for (;;)
	{
		unsigned char ch;

		if (c->pos >= c->len)
			return fail(c, "unterminated string");
		ch = c->s[c->pos];
		if (ch == '"')
		{
			c->pos++;
			return true;
		}
		if (ch < 0x20)
			return fail(c, "control character in string");
		if (ch == '\\')
		{
			long		u;

			c->pos++;
			if (c->pos >= c->len)
				return fail(c, "unterminated string");
			ch = c->s[c->pos++];
			switch (ch)
			{
				case '"':
				case '\\':
				case '/':
				case 'b':
				case 'f':
				case 'n':
				case 'r':
				case 't':
					continue;
				case 'u':
					break;
				default:
					c->pos -= 2;
					return fail(c, "invalid escape sequence");
			}
			u = read_u_escape(c);
			if (u < 0)
				return fail(c, "invalid \\u escape");
			if (u == 0)
				return fail(c, "\\u0000 is not supported");
			if (u >= 0xDC00 && u <= 0xDFFF)
				return fail(c, "unpaired low surrogate");
			if (u >= 0xD800 && u <= 0xDBFF)
			{
				long		lo;

				if (c->len - c->pos < 2 || c->s[c->pos] != '\\' || c->s[c->pos + 1] != 'u')
					return fail(c, "unpaired high surrogate");
				c->pos += 2;
				lo = read_u_escape(c);
				if (lo < 0xDC00 || lo > 0xDFFF)
					return fail(c, "unpaired high surrogate");
			}
			continue;
		}
		if (ch < 0x80)
			c->pos++;
		else
		{
			size_t		n = utf8_char_length(c->s + c->pos, c->len - c->pos);

			if (n == 0)
				return fail(c, "invalid UTF-8");
			c->pos += n;
		}
	}
}

static bool
is_digit(JsonCursor *c)
{
	return c->pos < c->len && c->s[c->pos] >= '0' && c->s[c->pos] <= '9';
}

/*
 * PostgreSQL's numeric, which jsonb stores numbers in, has limits that
 * JSON has not: a number past them fails the cast with "value overflows
 * numeric format".  They are checked here so that the gateway accepts
 * exactly what jsonb accepts.
 */
#define NUMERIC_MAX_DECIMAL_WEIGHT 131071	/* NUMERIC_WEIGHT_MAX * 4 + 3 */
#define NUMERIC_MAX_DSCALE 16383			/* NUMERIC_DSCALE_MAX */
#define NUMERIC_MAX_EXPONENT 1073741822L	/* INT_MAX / 2 - 1 */

static bool
json_number(JsonCursor *c)
{
	size_t		start = c->pos;
	long		int_digits = 0,
				frac_digits = 0,
				first_nonzero_frac = -1;	/* index in the fraction */
	bool		int_nonzero;
	long		exponent = 0,
				weight;

	if (c->s[c->pos] == '-')
		c->pos++;
	if (!is_digit(c))
		return fail(c, "invalid number");
	int_nonzero = c->s[c->pos] != '0';
	if (!int_nonzero)
	{
		c->pos++;
		int_digits = 1;
	}
	else
		while (is_digit(c))
		{
			c->pos++;
			int_digits++;
		}
	if (c->pos < c->len && c->s[c->pos] == '.')
	{
		c->pos++;
		if (!is_digit(c))
			return fail(c, "invalid number");
		while (is_digit(c))
		{
			if (first_nonzero_frac < 0 && c->s[c->pos] != '0')
				first_nonzero_frac = frac_digits;
			c->pos++;
			frac_digits++;
		}
	}
	if (c->pos < c->len && (c->s[c->pos] == 'e' || c->s[c->pos] == 'E'))
	{
		bool		negative = false;

		c->pos++;
		if (c->pos < c->len && (c->s[c->pos] == '+' || c->s[c->pos] == '-'))
			negative = c->s[c->pos++] == '-';
		if (!is_digit(c))
			return fail(c, "invalid number");
		while (is_digit(c))
		{
			if (exponent <= NUMERIC_MAX_EXPONENT)	/* saturate */
				exponent = exponent * 10 + (c->s[c->pos] - '0');
			c->pos++;
		}
		if (negative)
			exponent = -exponent;
	}

	/* numeric's limits: exponent, digits after the point, magnitude */
	if (exponent > NUMERIC_MAX_EXPONENT || exponent < -NUMERIC_MAX_EXPONENT ||
		frac_digits - exponent > NUMERIC_MAX_DSCALE)
	{
		c->pos = start;
		return fail(c, "number out of range");
	}
	if (int_nonzero || first_nonzero_frac >= 0)
	{
		weight = int_nonzero ? int_digits - 1 : -(first_nonzero_frac + 1);
		if (weight + exponent > NUMERIC_MAX_DECIMAL_WEIGHT)
		{
			c->pos = start;
			return fail(c, "number out of range");
		}
	}
	return true;
}

static bool
json_literal(JsonCursor *c, const char *word, size_t n)
{
	size_t		i;

	for (i = 0; i < n; i++)
		if (c->pos + i >= c->len || c->s[c->pos + i] != (unsigned char) word[i])
			return fail(c, "unexpected character");
	c->pos += n;
	return true;
}

/* An array or an object; the cursor is on '[' or '{'. */
static bool
json_container(JsonCursor *c, int depth)
{
	bool		object = c->s[c->pos] == '{';
	unsigned char close = object ? '}' : ']';

	if (depth >= JSON_MAX_DEPTH)
		return fail(c, "nesting too deep");
	c->pos++;
	skip_ws(c);
	if (c->pos < c->len && c->s[c->pos] == close)
	{
		c->pos++;
		return true;
	}
	for (;;)
	{
		if (object)
		{
			skip_ws(c);
			if (c->pos >= c->len)
				return fail(c, "unexpected end of input");
			if (c->s[c->pos] != '"')
				return fail(c, "expected a string as object key");
			if (!json_string(c))
				return false;
			skip_ws(c);
			if (c->pos >= c->len)
				return fail(c, "unexpected end of input");
			if (c->s[c->pos] != ':')
				return fail(c, "expected ':' after object key");
			c->pos++;
		}
		if (!json_value(c, depth + 1))
			return false;
		if (c->pos >= c->len)
			return fail(c, "unexpected end of input");
		if (c->s[c->pos] == close)
		{
			c->pos++;
			return true;
		}
		if (c->s[c->pos] != ',')
			return fail(c, object ? "expected ',' or '}'" : "expected ',' or ']'");
		c->pos++;
	}
}

/* A value with the whitespace around it. */
static bool
json_value(JsonCursor *c, int depth)
{
	bool		ok;

	skip_ws(c);
	if (c->pos >= c->len)
		return fail(c, "unexpected end of input");
	switch (c->s[c->pos])
	{
		case '{':
		case '[':
			ok = json_container(c, depth);
			break;
		case '"':
			ok = json_string(c);
			break;
		case 't':
			ok = json_literal(c, "true", 4);
			break;
		case 'f':
			ok = json_literal(c, "false", 5);
			break;
		case 'n':
			ok = json_literal(c, "null", 4);
			break;
		default:
			if (c->s[c->pos] == '-' || (c->s[c->pos] >= '0' && c->s[c->pos] <= '9'))
				ok = json_number(c);
			else
				ok = fail(c, "unexpected character");
			break;
	}
	if (ok)
		skip_ws(c);
	return ok;
}

/*
 * Is buf[0..len) one JSON value?  On false, *err says where and why.
 */
bool
json_syntax_check(const char *buf, size_t len, JsonSyntaxError *err)
{
	JsonCursor	c;

	c.s = (const unsigned char *) buf;
	c.len = len;
	c.pos = 0;
	c.err = err;
	if (!json_value(&c, 0))
		return false;
	if (c.pos != c.len)
		return fail(&c, "unexpected data after the JSON value");
	return true;
}

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
