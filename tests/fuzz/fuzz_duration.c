/*
 * fuzz_duration.c: duration_parse() over arbitrary text (the --max-wait-time,
 * --request-timeout and --ttl flags, and the "ttl" of a stored record), and
 * duration_format() of what it accepts.
 *
 * Checks, beyond the sanitizers:
 * - an accepted value is within 0..DURATION_MAX_MS;
 * - it agrees with a slow reference parser written from Go's grammar with exact
 *   integer arithmetic: the same inputs are accepted, and the values differ by at most
 *   1 ms (duration.c computes fractions in double, as Go does);
 * - duration_format of the value fits a 32-byte buffer (record.c's) and parses back to
 *   the same milliseconds;
 * - the input's first 8 bytes, read as a number of milliseconds within range, format
 *   and parse back to themselves as well.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "duration.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Reference: Go's grammar ([0-9]*(\.[0-9]*)?unit)+ or "0"; exact; -1 when refused. */
static int
ref_parse(const char *s, __int128 *ns)
{
	static const struct { const char *name; int64_t ns; } units[] = {
		{ "ns", 1 }, { "us", 1000 }, { "\xc2\xb5s", 1000 }, { "\xce\xbcs", 1000 },
		{ "ms", 1000000 }, { "h", 3600000000000LL }, { "m", 60000000000LL },
		{ "s", 1000000000LL },
	};
	__int128	total = 0;

	if (*s == '\0')
		return -1;
	if (strcmp(s, "0") == 0) {
		*ns = 0;
		return 0;
	}
	while (*s != '\0') {
		__int128	whole = 0, frac = 0, scale = 1;
		int		digits = 0;
		size_t		u, best = 0, bi = 0;

		for (; *s >= '0' && *s <= '9'; s++, digits++) {
			whole = whole * 10 + (*s - '0');
			if (whole > (__int128)1 << 70)
				return -1;
		}
		if (*s == '.')
			for (s++; *s >= '0' && *s <= '9'; s++, digits++)
				if (scale < 1000000000) {
					frac = frac * 10 + (*s - '0');
					scale *= 10;
				}
		if (digits == 0)
			return -1;
		for (u = 0; u < sizeof(units) / sizeof(units[0]); u++) {
			size_t n = strlen(units[u].name);
			if (n > best && strncmp(s, units[u].name, n) == 0) {
				best = n;
				bi = u;
			}
		}
		if (best == 0)
			return -1;
		s += best;
		total += whole * units[bi].ns + frac * units[bi].ns / scale;
		if (total > (__int128)1 << 100)
			return -1;
	}
	*ns = total;
	return 0;
}

static void
round_trip(int64_t ms)
{
	char	buf[32];
	int64_t	back = -1;

	duration_format(ms, buf, sizeof(buf));
	if (strlen(buf) >= sizeof(buf) - 1)
		abort();	/* may have been cut */
	if (duration_parse(buf, &back) != 0 || back != ms)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const __int128	 max_ns = (__int128)DURATION_MAX_MS * 1000000;
	char		*s;
	int64_t		 ms = -1;
	__int128	 ref = 0;
	int		 ok, rok;

	if ((s = malloc(size + 1)) == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	ok = duration_parse(s, &ms) == 0;
	rok = ref_parse(s, &ref) == 0;
	if (ok) {
		__int128 ref_ms = ref / 1000000 + (ref % 1000000 != 0);

		if (ms < 0 || ms > DURATION_MAX_MS)
			abort();
		if (!rok || ref_ms - ms > 1 || ms - ref_ms > 1)
			abort();
		round_trip(ms);
	} else if (rok && ref <= max_ns - 1000000)
		abort();	/* refused a value well within range */
	if (size >= 8) {
		uint64_t v;

		memcpy(&v, data, 8);
		round_trip((int64_t)(v % ((uint64_t)DURATION_MAX_MS + 1)));
	}
	free(s);
	return 0;
}
