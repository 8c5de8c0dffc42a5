/*
 * utf8.h
 *		Strict UTF-8 validation (pure C, fuzzed by test/fuzz/).
 *
 * PostgreSQL refuses invalid UTF-8 in a text parameter with an error, so
 * the gateway checks every text it passes (path, query, header values,
 * body) and answers 400 itself instead of letting that become a 500.
 */
#ifndef GATEWAY_UTF8_H
#define GATEWAY_UTF8_H

#include <stdbool.h>
#include <stddef.h>

extern size_t utf8_char_length(const unsigned char *s, size_t len);
extern bool utf8_valid(const char *s, size_t len);

#endif
