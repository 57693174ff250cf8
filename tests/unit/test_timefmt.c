/* Unit tests for timefmt.c: RFC 3339 and HTTP dates, against values from date(1). */
#include <stdio.h>
#include <string.h>

#include "test.h"
#include "timefmt.h"

static const struct {
	const char	*text;
	int		 http;		/* 1: an HTTP date, 0: RFC 3339 */
	int		 ok;
	int64_t		 want;
} cases[] = {
	{ "1970-01-01T00:00:00Z", 0, 1, 0 },
	{ "2026-12-01T20:57:16Z", 0, 1, 1796158636 },
	{ "2026-12-01T20:57:16.123456789Z", 0, 1, 1796158636 },
	{ "2026-12-01T21:57:16+01:00", 0, 1, 1796158636 },
	{ "2026-12-01T19:27:16-01:30", 0, 1, 1796158636 },
	{ "2024-02-29T00:00:00Z", 0, 1, 1709164800 },
	{ "2016-12-31T23:59:60Z", 0, 1, 1483228799 },
	{ "2023-02-29T00:00:00Z", 0, 0, 0 },
	{ "2026-13-01T00:00:00Z", 0, 0, 0 },
	{ "2026-12-01 20:57:16Z", 0, 0, 0 },
	{ "2026-12-01T20:57:16", 0, 0, 0 },
	{ "2026-12-01T20:57:16.Z", 0, 0, 0 },
	{ "2026-12-01T20:57:16Zx", 0, 0, 0 },
	{ "2026-12-01T24:00:00Z", 0, 0, 0 },
	{ "1969-12-31T23:59:59Z", 0, 0, 0 },
	{ "2026-12-0lT20:57:16Z", 0, 0, 0 },
	{ "Tue, 01 Dec 2026 20:57:16 GMT", 1, 1, 1796158636 },
	{ "Thu, 01 Jan 1970 00:00:00 GMT", 1, 1, 0 },
	{ "Thu, 29 Feb 2024 12:00:00 GMT", 1, 1, 1709208000 },
	{ "Tue, 01 Dec 2026 20:57:16 UTC", 1, 0, 0 },
	{ "Tue, 1 Dec 2026 20:57:16 GMT", 1, 0, 0 },
	{ "Tuesday, 01-Dec-26 20:57:16 GMT", 1, 0, 0 },
	{ "Tue, 31 Nov 2026 20:57:16 GMT", 1, 0, 0 },
	{ "Xyz, 01 Dec 2026 20:57:16 GMT", 1, 0, 0 },
	{ "Tue, 01 Dex 2026 20:57:16 GMT", 1, 0, 0 },
};

int
main(void)
{
	size_t	i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t	t = -1;
		char	what[96];
		int	rc = cases[i].http ?
		    timefmt_http(cases[i].text, strlen(cases[i].text), &t) :
		    timefmt_rfc3339(cases[i].text, strlen(cases[i].text), &t);

		snprintf(what, sizeof(what), "%s %s", cases[i].text,
		    cases[i].ok ? "parses to its epoch second" : "is refused");
		test_cond(what, cases[i].ok ? rc == 0 && t == cases[i].want : rc == -1);
	}
	/* Every prefix of a good stamp is refused: the length is the only bound. */
	for (i = 0; i < 20; i++) {
		int64_t t;
		test_cond("a cut RFC 3339 stamp is refused",
		    timefmt_rfc3339("2026-12-01T20:57:16Z", i, &t) == -1);
	}
	return test_report();
}
