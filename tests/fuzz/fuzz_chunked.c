/*
 * fuzz_chunked.c: the chunked decoder alone, fed the input three ways: whole, one
 * byte at a time with a one-byte output buffer, and whole in place (out == in).
 * All three must agree on error or success, on "done", and on the decoded bytes,
 * and a decoder that is not done must have consumed all its input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Feeds in[0..len) step bytes at a time into at most outstep bytes per call. */
static long
feed(const char *in, size_t len, size_t step, size_t outstep, char *out, int *done)
{
	struct http_chunked	 c;
	const char		*err;
	size_t			 i = 0, o = 0, got;
	long			 n;

	memset(&c, 0, sizeof(c));
	while (i < len && !c.done) {
		size_t piece = len - i < step ? len - i : step;

		n = http_chunked_feed(&c, in + i, piece, out + o, outstep, &got, &err);
		if (n < 0) {
			if (err == NULL)
				abort();
			return -1;
		}
		if ((size_t)n > piece || got > outstep)
			abort();
		if ((size_t)n < piece && !c.done && got < outstep)
			abort();	/* stopped early without a reason */
		if (n == 0 && got == 0 && !c.done)
			abort();	/* no progress */
		i += (size_t)n;
		o += got;
	}
	*done = c.done;
	return (long)o;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*in = (const char *)data;
	char		*a, *b, *c;
	long		 la, lb, lc;
	int		 da = 0, db = 0, dc = 0;

	if ((a = malloc(size + 1)) == NULL || (b = malloc(size + 1)) == NULL ||
	    (c = malloc(size + 1)) == NULL)
		abort();
	la = feed(in, size, size ? size : 1, size + 1, a, &da);
	lb = feed(in, size, 1, 1, b, &db);
	memcpy(c, in, size);
	lc = feed(c, size, size ? size : 1, size + 1, c, &dc);
	if ((la < 0) != (lb < 0) || (la < 0) != (lc < 0))
		abort();
	if (la >= 0 && (la != lb || la != lc || da != db || da != dc ||
	    memcmp(a, b, (size_t)la) != 0 || memcmp(a, c, (size_t)la) != 0))
		abort();
	free(a);
	free(b);
	free(c);
	return 0;
}
