/*
 * fuzz_timefmt.c: timefmt_rfc3339() and timefmt_http() over arbitrary bytes (the
 * managedFields times and the Date header of an API server's replies).
 *
 * Checks, beyond the sanitizers (the input is copied to a buffer of exactly its size,
 * so a read past len is caught):
 * - an accepted time is within 1970..9999;
 * - a time either parser accepts, written again in the other's layout with gmtime_r,
 *   parses back to the same second in both;
 * - for RFC 3339 in UTC ('Z'), the fraction of a second never changes the result.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "timefmt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define TIME_MAX	INT64_C(253402300799)	/* 9999-12-31T23:59:59Z */

static void
round_trip(int64_t t)
{
	struct tm	tm;
	time_t		tt = (time_t)t;
	char		a[64], b[64];
	int64_t		back;

	if (t < 0 || t > TIME_MAX || gmtime_r(&tt, &tm) == NULL)
		abort();
	strftime(a, sizeof(a), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (timefmt_rfc3339(a, strlen(a), &back) != 0 || back != t)
		abort();
	strftime(b, sizeof(b), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	if (timefmt_http(b, strlen(b), &back) != 0 || back != t)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*s;
	int64_t	 t;

	if ((s = malloc(size ? size : 1)) == NULL)
		abort();
	memcpy(s, data, size);
	if (timefmt_rfc3339(s, size, &t) == 0) {
		round_trip(t);
		if (size > 20 && s[19] == '.' && s[size - 1] == 'Z') {
			char	whole[21];
			int64_t	w;

			memcpy(whole, s, 19);
			memcpy(whole + 19, "Z", 2);
			if (timefmt_rfc3339(whole, 20, &w) != 0 || w != t)
				abort();
		}
	}
	if (timefmt_http(s, size, &t) == 0)
		round_trip(t);
	free(s);
	return 0;
}
