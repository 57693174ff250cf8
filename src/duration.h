/*
 * duration.h: Go's time.ParseDuration syntax, as kubectl's flags take it.
 *
 * "120m", "1h30m", "90s", "1.5h", "500ms", "10us", "10µs", "3ns", "0". A sign is
 * refused (a wait cannot be negative); so are empty strings, a missing unit on a
 * number other than 0, unknown units and values over DURATION_MAX_MS.
 */
#ifndef CL_DURATION_H
#define CL_DURATION_H

#include <stddef.h>
#include <stdint.h>

#define DURATION_MAX_MS	((int64_t)100 * 365 * 24 * 3600 * 1000)	/* 100 years */

/* Parses s into whole milliseconds (sub-millisecond parts round up). 0 ok, -1 bad. */
int	duration_parse(const char *s, int64_t *ms);

/* Formats ms as Go would print it, e.g. "1h30m0s", "500ms", into buf. Returns buf. */
char	*duration_format(int64_t ms, char *buf, size_t bufsz);

#endif
