/*
 * utf8.h: the two pieces that JSON and YAML escape decoding share (\uXXXX in both).
 */
#ifndef CL_UTF8_H
#define CL_UTF8_H

#include <stddef.h>

/* Reads exactly n hex digits at s (avail bytes there); returns the value, or -1. n <= 8. */
long	utf8_hex(const char *s, size_t avail, size_t n);

/* Writes code point cp (< 0x110000, caller checks) as UTF-8 at o; returns 1 to 4 bytes. */
size_t	utf8_put(char *o, unsigned long cp);

#endif
