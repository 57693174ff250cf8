/* test_buf.c: src/buf.c, the one growable buffer: growth, limits, sticky failure, ownership. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "test.h"

/* Appends n copies of s to a buffer of limit max; returns what buf_take gives. */
static char *
fill(size_t max, const char *s, size_t n, size_t *len, int *err)
{
	struct buf	b = { .max = max };
	size_t		i;

	for (i = 0; i < n; i++)
		buf_add(&b, s, strlen(s));
	*err = b.err;
	return buf_take(&b, len);
}

int
main(void)
{
	static const struct {
		const char	*descr;
		size_t		 max, n;
		const char	*s;
		size_t		 want_len;	/* (size_t)-1: refused with EFBIG */
	} cases[] = {
		{ "nothing added: take gives \"\"", 0, 0, "x", 0 },
		{ "one byte", 0, 1, "x", 1 },
		{ "past the first allocation (64)", 0, 100, "ab", 200 },
		{ "many doublings", 0, 5000, "0123456789", 50000 },
		{ "exactly max", 10, 5, "ab", 10 },
		{ "one byte over max: EFBIG", 9, 5, "ab", (size_t)-1 },
		{ "max under the first allocation", 3, 3, "x", 3 },
	};
	struct buf	 b = { 0 };
	char		*p;
	size_t		 i, len;
	int		 err;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		p = fill(cases[i].max, cases[i].s, cases[i].n, &len, &err);
		if (cases[i].want_len == (size_t)-1)
			test_cond(cases[i].descr, p == NULL && err == EFBIG && errno == EFBIG);
		else
			test_cond(cases[i].descr, p != NULL && err == 0 && len == cases[i].want_len &&
			    strlen(p) == len);
		free(p);
	}

	b.max = 4;
	buf_add(&b, "abc", 3);
	test_cond("reserve within max", buf_reserve(&b, 1) == 0 && b.cap == 4);
	test_cond("reserve past max fails with EFBIG", buf_reserve(&b, 2) == -1 &&
	    errno == EFBIG && b.err == EFBIG);
	test_cond("... and the contents are kept", b.len == 3 && memcmp(b.p, "abc", 3) == 0);
	buf_add(&b, "d", 1);
	test_cond("after a failure, appends do nothing", b.len == 3);
	test_cond("after a failure, take gives NULL", buf_take(&b, &len) == NULL);
	test_cond("... and leaves b empty, max kept", b.p == NULL && b.len == 0 && b.err == 0 &&
	    b.max == 4);
	buf_add(&b, "wxyz", 4);
	test_cond("b is usable again", b.len == 4 && strcmp(b.p, "wxyz") == 0);
	buf_free(&b);

	/* Callers write past len themselves, then count it. */
	memset(&b, 0, sizeof(b));
	b.wipe = 1;
	test_cond("reserve gives room", buf_reserve(&b, 10) == 0 && b.cap - b.len >= 10);
	memcpy(b.p, "secret", 6);
	b.len = 6;
	buf_add(&b, "!", 1);
	test_cond("writes counted by hand, then buf_add", strcmp(b.p, "secret!") == 0);
	p = buf_take(&b, NULL);
	test_cond("take with len NULL", p != NULL && strcmp(p, "secret!") == 0 && b.wipe == 1);
	buf_wipe_free(p, 7);
	buf_free(&b);

	{
		char	s[4] = "abc";

		buf_wipe(s, 3);
		test_cond("buf_wipe zeroes", s[0] == 0 && s[1] == 0 && s[2] == 0);
		buf_wipe(NULL, 5);
		buf_wipe_free(NULL, 5);
		test_cond("buf_wipe and buf_wipe_free take NULL", 1);
	}
	return test_report();
}
