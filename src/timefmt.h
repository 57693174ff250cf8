/*
 * timefmt.h: the two time stamps an API server gives, as seconds since the epoch (UTC).
 * Pure parsers of untrusted bytes: bounded by len, no allocation, no locale, no libc
 * time zone. A year outside 1970..9999 or an impossible date is refused.
 */
#ifndef CL_TIMEFMT_H
#define CL_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>

/*
 * RFC 3339 as Kubernetes writes metav1.Time ("2026-12-01T20:57:16Z"), also with a
 * fraction of a second (dropped: the result is the whole second) or a numeric offset
 * ("+01:00"). Returns 0 with *t, or -1.
 */
int	timefmt_rfc3339(const char *s, size_t len, int64_t *t);

/* An HTTP Date in IMF-fixdate form ("Tue, 01 Dec 2026 20:57:16 GMT"). 0 with *t, or -1. */
int	timefmt_http(const char *s, size_t len, int64_t *t);

#endif
