/* timefmt.c: see timefmt.h. */
#include <string.h>

#include "timefmt.h"

/* n decimal digits at s into *v; -1 if any is not a digit. */
static int
digits(const char *s, size_t n, int *v)
{
	size_t	i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		*v = *v * 10 + (s[i] - '0');
	}
	return 0;
}

/* Days from 1970-01-01 to y-m-d of the proleptic Gregorian calendar (Hinnant's method). */
static int64_t
days_from_civil(int y, int m, int d)
{
	int64_t	era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* Checks a date and time of day, and gives its seconds since the epoch. */
static int
civil(int y, int mo, int d, int h, int mi, int s, int64_t *t)
{
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int	leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 ||
	    d > mdays[mo - 1] + (mo == 2 && leap) || h > 23 || mi > 59 || s > 60)
		return -1;
	if (s == 60)
		s = 59;		/* a leap second is the last second of its minute */
	*t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
	return 0;
}

int
timefmt_rfc3339(const char *s, size_t len, int64_t *t)
{
	int	y, mo, d, h, mi, sec, oh, om;
	size_t	i = 19;
	int64_t	off = 0;

	/* 2026-12-01T20:57:16 */
	if (len < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') ||
	    s[13] != ':' || s[16] != ':' || digits(s, 4, &y) || digits(s + 5, 2, &mo) ||
	    digits(s + 8, 2, &d) || digits(s + 11, 2, &h) || digits(s + 14, 2, &mi) ||
	    digits(s + 17, 2, &sec))
		return -1;
	if (s[i] == '.') {
		size_t from = ++i;
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i == from || i - from > 9)
			return -1;
	}
	if (i < len && (s[i] == 'Z' || s[i] == 'z') && i + 1 == len)
		off = 0;
	else if (i + 6 == len && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':' &&
	    digits(s + i + 1, 2, &oh) == 0 && digits(s + i + 4, 2, &om) == 0 &&
	    oh <= 23 && om <= 59)
		off = (s[i] == '+' ? 1 : -1) * (int64_t)(oh * 3600 + om * 60);
	else
		return -1;
	if (civil(y, mo, d, h, mi, sec, t) != 0)
		return -1;
	*t -= off;
	return *t < 0 ? -1 : 0;
}

int
timefmt_http(const char *s, size_t len, int64_t *t)
{
	static const char wdays[] = "MonTueWedThuFriSatSun";
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	int	y, mo, d, h, mi, sec, i;

	/* Tue, 01 Dec 2026 20:57:16 GMT */
	if (len != 29 || s[3] != ',' || s[4] != ' ' || s[7] != ' ' || s[11] != ' ' ||
	    s[16] != ' ' || s[19] != ':' || s[22] != ':' || memcmp(s + 25, " GMT", 4) != 0 ||
	    digits(s + 5, 2, &d) || digits(s + 12, 4, &y) || digits(s + 17, 2, &h) ||
	    digits(s + 20, 2, &mi) || digits(s + 23, 2, &sec))
		return -1;
	for (i = 0; i < 7 && memcmp(wdays + 3 * i, s, 3) != 0; i++)
		;
	if (i == 7)
		return -1;
	for (mo = 0; mo < 12 && memcmp(months + 3 * mo, s + 8, 3) != 0; mo++)
		;
	if (mo == 12)
		return -1;
	return civil(y, mo + 1, d, h, mi, sec, t);
}
