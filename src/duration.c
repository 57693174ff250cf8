/* duration.c: see duration.h. */
#include <stdio.h>
#include <string.h>

#include "duration.h"

struct unit {
	const char	*name;
	int64_t		 ns;
};

/* Longest names first, so "ms" is not read as "m". */
static const struct unit units[] = {
	{ "ns", 1 },
	{ "us", 1000 },
	{ "\xc2\xb5s", 1000 },		/* U+00B5 micro sign */
	{ "\xce\xbcs", 1000 },		/* U+03BC Greek mu */
	{ "ms", 1000000 },
	{ "s", 1000000000LL },
	{ "m", 60 * 1000000000LL },
	{ "h", 3600 * 1000000000LL },
};

/* Matches the unit at s; returns its length and sets *u, or 0. */
static size_t
unit_match(const char *s, const struct unit **u)
{
	size_t	i, best = 0;

	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		size_t n = strlen(units[i].name);
		if (n > best && strncmp(s, units[i].name, n) == 0) {
			best = n;
			*u = &units[i];
		}
	}
	return best;
}

int
duration_parse(const char *s, int64_t *ms)
{
	const int64_t	 max_ns = DURATION_MAX_MS * 1000000;
	int64_t		 total = 0;

	if (s == NULL || *s == '\0')
		return -1;
	if (strcmp(s, "0") == 0) {
		*ms = 0;
		return 0;
	}
	while (*s != '\0') {
		const struct unit	*u = NULL;
		int64_t			 whole = 0, frac = 0, scale = 1, part;
		int			 digits = 0;
		size_t			 n;

		for (; *s >= '0' && *s <= '9'; s++, digits++) {
			if (whole > (max_ns - 9) / 10)
				return -1;
			whole = whole * 10 + (*s - '0');
		}
		if (*s == '.') {
			s++;
			for (; *s >= '0' && *s <= '9'; s++, digits++) {
				/* Digits past nanosecond precision are dropped, as Go does. */
				if (scale < 1000000000LL) {
					frac = frac * 10 + (*s - '0');
					scale *= 10;
				}
			}
		}
		if (digits == 0)
			return -1;
		if ((n = unit_match(s, &u)) == 0)
			return -1;
		s += n;
		if (whole > max_ns / u->ns)
			return -1;
		part = whole * u->ns;
		/* frac < scale <= 1e9 and u->ns <= 3.6e12: compute without overflow. */
		part += (int64_t)((double)frac * (double)u->ns / (double)scale);
		if (part > max_ns - total)
			return -1;
		total += part;
	}
	*ms = total / 1000000 + (total % 1000000 != 0);
	return 0;
}

char *
duration_format(int64_t ms, char *buf, size_t bufsz)
{
	int64_t	h, m, s, rest;

	if (ms < 1000) {
		snprintf(buf, bufsz, ms == 0 ? "0s" : "%lldms", (long long)ms);
		return buf;
	}
	h = ms / 3600000;
	m = ms / 60000 % 60;
	s = ms / 1000 % 60;
	rest = ms % 1000;
	if (h > 0)
		snprintf(buf, bufsz, "%lldh%lldm%lld", (long long)h, (long long)m, (long long)s);
	else if (m > 0)
		snprintf(buf, bufsz, "%lldm%lld", (long long)m, (long long)s);
	else
		snprintf(buf, bufsz, "%lld", (long long)s);
	if (rest != 0) {
		size_t	len = strlen(buf);
		snprintf(buf + len, bufsz - len, ".%03lld", (long long)rest);
		/* Go trims trailing zeros of the fraction. */
		len = strlen(buf);
		while (len > 0 && buf[len - 1] == '0')
			buf[--len] = '\0';
	}
	strncat(buf, "s", bufsz - strlen(buf) - 1);
	return buf;
}
